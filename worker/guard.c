/*
 * guard — worker_memory and the heartbeat (see guard.h).
 *
 * worker_memory is an RLIMIT_AS set by the worker itself once it runs, not by
 * mlpd before exec: OpenBLAS reserves ~130 MB of address space per BLAS thread
 * (its thread buffers when the library loads, the calling thread's at the
 * first BLAS call), and when that mmap fails it retries for ever, spinning (a
 * 100 MB RLIMIT_AS set before exec hung the worker in blas_memory_alloc).  So
 * the worker makes a first BLAS call, then measures its address space and
 * allows worker_memory more: the limit bounds what the trial allocates (data,
 * network, buffers), whatever the BLAS thread count.
 *
 * The heartbeat thread beats only when the rest of the process used CPU time
 * since the last beat (its own CPU time is subtracted), or the main thread
 * declared a wait (guard_wait): a worker stopped (SIGSTOP) or blocked (a
 * deadlock, a dead file system) stays silent and mlpd's stall timer kills it;
 * a slow trial, even one batch taking minutes, beats.  It writes through
 * stdout's stdio lock, so its lines never cut the main thread's, and never
 * allocates (a thread's first malloc would reserve a 64 MB arena).
 */
#include "guard.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "trialwire.h"

#define GUARD_STACK (256u << 10) /* the heartbeat thread's stack (ASan needs more than 64k) */

static long long g_limit;   /* worker_memory applied, bytes; 0: none */
static double g_every;      /* seconds between heartbeats; 0: none */
static double g_t0;         /* mono_s() at guard_start */
static atomic_int g_waiting; /* the main thread is in a declared wait */

long long guard_memory_limit(void)
{
    return g_limit;
}

void guard_wait(bool waiting)
{
    atomic_store(&g_waiting, waiting ? 1 : 0);
}

/* A number from the environment: 0 and *v untouched when unset, -1 when malformed. */
static int env_number(const char *name, double lo, double hi, double *v)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end || errno || !(d >= lo && d <= hi))
        return -1;
    *v = d;
    return 1;
}

static double cpu_s(clockid_t c)
{
    struct timespec ts;
    if (clock_gettime(c, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of every thread but the calling one. */
static double cpu_others(void)
{
    return cpu_s(CLOCK_PROCESS_CPUTIME_ID) - cpu_s(CLOCK_THREAD_CPUTIME_ID);
}

static void sleep_s(double s)
{
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void *heartbeat(void *arg)
{
    (void)arg;
    double last = cpu_others();
    for (;;) {
        sleep_s(g_every);
        double now = cpu_others();
        if (now > last || atomic_load(&g_waiting)) {
            char line[64];
            int n = trialwire_heartbeat_line(line, sizeof line, round((mono_s() - g_t0) * 1e3) / 1e3);
            if (n > 0) {
                flockfile(stdout);
                fputs(line, stdout);
                fflush(stdout);
                funlockfile(stdout);
            }
        }
        last = now;
    }
    return NULL;
}

static int start_heartbeat(struct err *e)
{
    pthread_attr_t at;
    pthread_t th;
    sigset_t all, old;
    if (pthread_attr_init(&at) != 0)
        return err_set(e, MLP_EIO, NULL, "cannot start the heartbeat thread");
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, GUARD_STACK);
    /* Signals stay the main thread's. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&th, &at, heartbeat, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&at);
    if (rc != 0)
        return err_set(e, MLP_EIO, NULL, "cannot start the heartbeat thread: %s", strerror(rc));
    return 0;
}

/* The address space the process holds now, in bytes (0 when unknown). */
static long long address_space(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%llu", &pages) != 1)
        pages = 0;
    fclose(f);
    return (long long)pages * sysconf(_SC_PAGESIZE);
}

static int apply_memory(double bytes, struct err *e)
{
    long long base = address_space();
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0)
        return err_set(e, MLP_EIO, NULL, "getrlimit(RLIMIT_AS): %s", strerror(errno));
    rlim_t want = (rlim_t)base + (rlim_t)bytes;
    if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max)
        want = rl.rlim_max; /* a lower limit set by someone else stays */
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        return err_set(e, MLP_EIO, NULL, "setrlimit(RLIMIT_AS): %s", strerror(errno));
    g_limit = (long long)bytes;
    /* In MiB: `mlpctl trial` shows this line in the log tail, and under
     * AddressSanitizer the start-up address space has 14 digits in bytes. */
    fprintf(stderr,
            "mlp-worker: worker_memory %lld MiB beyond %lld MiB of start-up address space\n",
            g_limit >> 20, base >> 20);
    return 0;
}

int guard_start(bool human, void (*warm_up)(void), struct err *e)
{
    double mem = 0, every = 0;
    g_t0 = mono_s();
    if (env_number("MLPD_WORKER_MEMORY", 1, 1e18, &mem) < 0)
        return err_set(e, MLP_EINVALID_SPEC, "MLPD_WORKER_MEMORY",
                       "expected a number of bytes, got \"%s\"", getenv("MLPD_WORKER_MEMORY"));
    if (env_number("MLPD_HEARTBEAT", 0.01, 86400, &every) < 0)
        return err_set(e, MLP_EINVALID_SPEC, "MLPD_HEARTBEAT",
                       "expected seconds in [0.01, 86400], got \"%s\"", getenv("MLPD_HEARTBEAT"));
    /* The thread first: its stack is part of the start-up address space. */
    if (every > 0 && !human) {
        g_every = every;
        if (start_heartbeat(e) < 0)
            return e->code;
    }
    if (mem <= 0)
        return 0;
    if (warm_up)
        warm_up();
    return apply_memory(mem, e);
}
