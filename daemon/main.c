/*
 * mlpd — the sweep daemon: flags and config, the state dir, one-daemon-per-
 * state-dir locking, daemonizing, the loop and its orderly end.
 *
 * Start-up order matters: the pid-file lock is taken before anything else
 * touches the state dir (a second daemon refuses with the first one's pid);
 * the process detaches (fork, setsid, fork) before the loop or the database
 * exist, since neither may cross a fork; the original process waits on a pipe
 * until the daemon is listening, so `mlpd` returns 0 only when the socket is
 * ready and prints the daemon's own error otherwise.  Trials left 'running' by
 * a crash are re-queued before the scheduler starts.
 *
 * Shutdown (SIGTERM, SIGINT, the shutdown op): stop accepting sweeps, let the
 * running trials finish (or, with "now", stop and re-queue them), then close
 * the server and every handle and leave the loop.  A second SIGTERM/SIGINT
 * during a graceful shutdown turns it into "now".
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "adapt.h"
#include "bulk.h"
#include "config.h"
#include "err.h"
#include "hooks.h"
#include "log.h"
#include "mlp_version.h"
#include "mlpd.h"
#include "sched.h"
#include "server.h"
#include "slurm.h"
#include "statedir.h"
#include "store.h"

struct main_state {
    struct mlpd d;
    uv_loop_t loop;
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t shutdown_timer; /* runs the shutdown steps outside the op handler */
    uv_timer_t purge_timer;    /* removals that failed are tried again (bulk_purge_again) */
    uint64_t purge_next;       /* loop time (ms) of the next such try */
    uint64_t purge_backoff;    /* ms between two tries: doubles while they fail */
    bool shutdown_now;
    bool stopping; /* server closed, handles closing */
    bool check;    /* --check: verify the state dir and the database, then exit */
    int dir_fd;    /* the verified state dir */
    int pid_fd;
    char pid_path[CONFIG_PATH_MAX + 16];
};

static struct main_state M;

static void usage(FILE *out)
{
    fprintf(out, "usage: mlpd [options]\n"
                 "\n"
                 "The mlpsweep daemon: queues and runs hyperparameter sweeps in mlp-worker\n"
                 "processes, serves mlpctl on a Unix socket, keeps results in SQLite.\n"
                 "\n"
                 "options (also settable as \"key = value\" lines in mlpd.conf):\n");
    config_usage(out);
    fprintf(out, "  --config FILE          read settings from FILE (default <state dir>/mlpd.conf "
                 "if present)\n"
                 "  --check                check the state dir and the database (quick_check), "
                 "print the verdict, exit 0 when sound\n"
                 "  --help                 this text\n"
                 "  --version              print the version\n");
}

/* Apply argv flags to c; --help/--version exit; *conf receives --config. */
static int parse_args(struct mlpd_config *c, int argc, char **argv, const char **conf,
                      struct err *e)
{
    int i = 1;
    while (i < argc) {
        int used = 0;
        if (config_parse_args(c, argc - i, argv + i, &used, e) < 0)
            return e->code;
        i += used;
        if (i >= argc)
            break;
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--check") == 0) {
            M.check = true;
            i++;
        } else if (strcmp(a, "--version") == 0) {
            printf("mlpd %s\n", MLP_VERSION);
            exit(0);
        } else if (strcmp(a, "--config") == 0 && i + 1 < argc) {
            *conf = argv[i + 1];
            i += 2;
        } else if (strncmp(a, "--config=", 9) == 0) {
            *conf = a + 9;
            i++;
        } else {
            return err_set(e, MLP_EINVALID_REQUEST, a, "unknown option \"%s\" (see mlpd --help)",
                           a);
        }
    }
    return 0;
}

static int load_config(struct mlpd_config *c, int argc, char **argv, struct err *e)
{
    struct mlpd_config scratch;
    const char *conf = NULL;
    config_defaults(&scratch);
    if (parse_args(&scratch, argc, argv, &conf, e) < 0)
        return e->code;
    config_defaults(c);
    char def[CONFIG_PATH_MAX + 16];
    if (!conf) {
        char sd[CONFIG_PATH_MAX];
        if (scratch.state_dir[0])
            snprintf(sd, sizeof sd, "%s", scratch.state_dir);
        else if (config_state_dir(sd, sizeof sd) < 0)
            sd[0] = '\0';
        if (sd[0]) {
            snprintf(def, sizeof def, "%s/mlpd.conf", sd);
            if (access(def, F_OK) == 0)
                conf = def;
        }
    }
    if (conf && config_load_file(c, conf, e) < 0)
        return e->code;
    if (parse_args(c, argc, argv, &conf, e) < 0)
        return e->code;
    return config_finish(c, e);
}

/* Take the state dir's pid-file lock; on failure say who holds it. */
static int lock_pidfile(const char *state_dir, struct err *e)
{
    snprintf(M.pid_path, sizeof M.pid_path, "%s/mlpd.pid", state_dir);
    M.pid_fd = openat(M.dir_fd, "mlpd.pid", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (M.pid_fd < 0)
        return err_set(e, MLP_EIO, M.pid_path, "cannot open %s: %s%s", M.pid_path, strerror(errno),
                       errno == ELOOP ? " (a symbolic link: not following it)" : "");
    struct stat st;
    if (fstat(M.pid_fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        close(M.pid_fd);
        M.pid_fd = -1;
        return err_set(e, MLP_EPERMISSION, M.pid_path,
                       "%s is not a regular file of this mlpd's uid; refusing to use it",
                       M.pid_path);
    }
    if (flock(M.pid_fd, LOCK_EX | LOCK_NB) < 0) {
        char buf[32] = "";
        ssize_t n = pread(M.pid_fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        close(M.pid_fd);
        M.pid_fd = -1;
        return err_set(e, MLP_ECONFLICT, state_dir, "mlpd already running (pid %s) on %s",
                       buf[0] ? buf : "?", state_dir);
    }
    return 0;
}

static void write_pidfile(void)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(M.pid_fd, 0) != 0 || pwrite(M.pid_fd, buf, (size_t)n, 0) != n)
        log_warn("cannot write %s: %s", M.pid_path, strerror(errno));
}

/*
 * Detach: fork, setsid, fork.  The original process waits until the daemon
 * reports ready (one byte on *ready_fd) and exits 0, or 1 when the daemon
 * died first (it has printed why on the inherited stderr).
 */
static void daemonize(int *ready_fd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        perror("mlpd: pipe");
        exit(1);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("mlpd: fork");
        exit(1);
    }
    if (pid > 0) {
        close(p[1]);
        char b;
        ssize_t n;
        do
            n = read(p[0], &b, 1);
        while (n < 0 && errno == EINTR);
        waitpid(pid, NULL, 0);
        _exit(n == 1 ? 0 : 1);
    }
    close(p[0]);
    if (setsid() < 0) {
        perror("mlpd: setsid");
        _exit(1);
    }
    pid = fork();
    if (pid < 0) {
        perror("mlpd: fork");
        _exit(1);
    }
    if (pid > 0)
        _exit(0);
    if (chdir("/") != 0) {
        perror("mlpd: chdir");
        _exit(1);
    }
    *ready_fd = p[1];
}

static void detach_stdio(void)
{
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0)
        return;
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2)
        close(fd);
}

/* Shutdown ------------------------------------------------------------------------ */

static void on_handle_closed(uv_handle_t *h)
{
    (void)h;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, on_handle_closed);
}

/* Every trial has stopped: close the server and the remaining handles. */
static void on_idle(void *ud)
{
    struct mlpd *d = ud;
    if (M.stopping)
        return;
    M.stopping = true;
    log_info("no trial running; closing");
    bulk_stop(d->bulk); /* an insert or removal in progress ends; the next start purges */
    server_close(d->srv);
    d->srv = NULL;
    uv_close((uv_handle_t *)&M.sig_term, on_handle_closed);
    uv_close((uv_handle_t *)&M.sig_int, on_handle_closed);
    uv_close((uv_handle_t *)&M.sig_hup, on_handle_closed);
    uv_close((uv_handle_t *)&M.shutdown_timer, on_handle_closed);
    uv_close((uv_handle_t *)&M.purge_timer, on_handle_closed);
}

static void on_shutdown_timer(uv_timer_t *t)
{
    struct mlpd *d = t->data;
    sched_drain(d->sched, M.shutdown_now, on_idle, d);
}

static void begin_shutdown(struct mlpd *d, bool now)
{
    if (M.stopping)
        return;
    if (d->draining && (!now || M.shutdown_now))
        return;
    d->draining = true;
    M.shutdown_now = M.shutdown_now || now;
    log_info("shutdown requested (%s): %d trial(s) running", now ? "now" : "graceful",
             sched_busy(d->sched));
    /* Outside the current callback, so an op's reply is queued first. */
    uv_timer_start(&M.shutdown_timer, on_shutdown_timer, 0, 0);
}

static void on_signal(uv_signal_t *h, int sig)
{
    struct mlpd *d = h->data;
    if (sig == SIGHUP) {
        log_reopen();
        log_info("SIGHUP: log reopened");
        return;
    }
    log_info("signal %d (%s)", sig, strsignal(sig));
    begin_shutdown(d, d->draining); /* the second one means now */
}

static void on_notify(void *ud, int64_t sweep_id)
{
    struct mlpd *d = ud;
    server_notify(d->srv, sweep_id);
    hooks_sweep_changed(d->hooks, sweep_id);
}

/*
 * The Slurm executor: required when it is the default executor, else started
 * when it can be (sweeps may ask for it); absent otherwise, with a warning unless
 * Slurm is simply not installed.
 */
static int open_slurm(struct mlpd *d, struct err *e)
{
    const struct mlpd_config *c = &d->cfg;
    bool required = strcmp(c->executor, "slurm") == 0;
    struct slurm_opts o = {
        .partition = c->slurm_partition,
        .account = c->slurm_account,
        .time_limit = c->slurm_time,
        .sbatch_args = c->slurm_sbatch_args,
        .spool = c->slurm_spool,
        .worker = c->slurm_worker[0] ? c->slurm_worker : d->worker,
        .data_dir = c->data_dir,
        .artifacts_dir = d->artifacts_dir,
        .bin = c->slurm_bin,
        .threads = c->threads,
        .array_limit = c->slurm_array_limit,
        .max_tasks = c->slurm_max_tasks,
        .max_attempts = c->max_attempts > 0 ? c->max_attempts : 1,
        .poll = c->slurm_poll,
        .grace = c->slurm_grace,
        .submit_tries = c->slurm_submit_tries,
        .spool_keep = c->slurm_spool_keep,
        .notify = on_notify,
        .ud = d,
    };
    struct err tmp = ERR_INIT;
    d->slurm = slurm_open(d->loop, d->st, &o, &tmp);
    if (d->slurm) {
        log_info("Slurm executor ready: spool %s, worker %s", c->slurm_spool, o.worker);
        return 0;
    }
    if (required) {
        *e = tmp;
        return e->code;
    }
    /* Optional: Slurm missing is normal; anything else is worth a warning. */
    if (strcmp(tmp.path, "slurm_bin") == 0)
        log_debug("no Slurm executor: %s", tmp.msg);
    else
        log_warn("no Slurm executor: %s", tmp.msg);
    return 0;
}

/* State dir, logs/ and artifacts/ (0700, checked ssh-style: statedir.h), the data
 * dir, the pid-file lock and the worker executable, before daemonizing so that errors
 * reach the terminal.  0, or 1 with a message printed. */
static int prepare(struct mlpd *d, struct err *e)
{
    struct mlpd_config *c = &d->cfg;
    snprintf(d->log_dir, sizeof d->log_dir, "%s/logs", c->state_dir);
    snprintf(d->db_path, sizeof d->db_path, "%s/mlpd.db", c->state_dir);
    snprintf(d->artifacts_dir, sizeof d->artifacts_dir, "%s/artifacts", c->state_dir);
    if ((M.dir_fd = statedir_open(c->state_dir, e)) < 0 ||
        statedir_sub(M.dir_fd, "logs", d->log_dir, e) < 0 ||
        statedir_sub(M.dir_fd, "artifacts", d->artifacts_dir, e) < 0) {
        fprintf(stderr, "mlpd: %s\n", e->msg);
        return 1;
    }
    if (M.check)
        return 0;
    /* One descriptor per connection (max_clients) and per worker: take what we may. */
    struct rlimit nof;
    if (getrlimit(RLIMIT_NOFILE, &nof) == 0 && nof.rlim_cur < nof.rlim_max) {
        nof.rlim_cur = nof.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nof);
    }
    if (config_mkdir_p(c->data_dir, 0700, e) < 0 || lock_pidfile(c->state_dir, e) < 0) {
        fprintf(stderr, "mlpd: %s\n", e->msg);
        return 1;
    }
    /* mlp-worker: config/env, next to mlpd, the build tree, then $PATH. */
    if (config_find_program(c->worker, "mlp-worker", NULL, "worker", d->worker, sizeof d->worker) <
        0) {
        fprintf(stderr,
                "mlpd: cannot find the mlp-worker executable (tried \"%s\"); set "
                "--worker PATH or MLPD_WORKER\n",
                d->worker);
        return 1;
    }
    return 0;
}

/* A start-up failure: to the log, and to the terminal too when it is still attached. */
static void startup_error(const struct mlpd *d, const char *msg)
{
    log_error("%s", msg);
    if (!d->cfg.foreground)
        fprintf(stderr, "mlpd: %s\n", msg);
}

/* Open the database and re-queue (or fail) the trials a crash left 'running'. */
static int open_store(struct mlpd *d, struct err *e)
{
    d->st = store_open(d->db_path, e);
    if (!d->st) {
        startup_error(d, e->msg);
        return -1;
    }
    int64_t requeued, failed;
    if (store_recover(d->st, d->cfg.max_attempts, &requeued, &failed, e) < 0) {
        log_error("recovery: %s", e->msg);
        return -1;
    }
    if (requeued + failed > 0)
        log_info("recovered trials left running: %lld re-queued, %lld failed (max attempts)",
                 (long long)requeued, (long long)failed);
    /* Pruning decisions a crash left untaken, from the stored epochs, before anything runs. */
    int64_t pruned = 0;
    if (adapt_recover(d->st, &pruned, e) < 0) {
        log_error("recovery: pruning decisions: %s", e->msg);
        return -1;
    }
    if (pruned > 0)
        log_info("recovery: %lld configurations pruned from the stored epochs", (long long)pruned);
    /* Racing and confirmation decisions likewise, from the stored results. */
    int64_t added = 0;
    if (adapt_race_recover(d->st, &added, e) < 0) {
        log_error("recovery: racing decisions: %s", e->msg);
        return -1;
    }
    if (added > 0)
        log_info("recovery: %lld trials queued by racing or confirmation decisions",
                 (long long)added);
    return 0;
}

/*
 * Sweeps still hidden (011-loop.sql): an insert or a removal that a crash or a
 * stop cut short.  They were never shown (or are deleted): remove them, off
 * the loop, before anything else is written in bulk.
 */
static void purge_hidden(struct mlpd *d)
{
    int64_t *ids = NULL;
    size_t n = 0;
    struct err e = ERR_INIT;
    if (store_hidden_sweeps(d->st, &ids, &n, &e) < 0) {
        log_error("recovery: %s", e.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        log_info("sweep %lld is hidden (its storing or removal was cut short); removing it",
                 (long long)ids[i]);
        ops_purge_start(d, ids[i]);
    }
    free(ids);
}

#define PURGE_TICK_MS 1000      /* how often purge_again is looked at */
#define PURGE_RETRY_MS 2000     /* wait before the first retry of a failed removal */
#define PURGE_RETRY_MAX_MS 60000 /* longest wait between two retries */

/*
 * A removal that failed (a deleted sweep's rows, or the partly stored rows of
 * a submit that failed), typically on a full disk, is tried again: the hidden
 * sweeps are purged once no bulk task is queued or running (none can be
 * mid-insert then), after 2 s and then less often while the tries fail.
 */
static void on_purge_timer(uv_timer_t *t)
{
    struct mlpd *d = t->data;
    uint64_t now = uv_now(&M.loop);
    if (!bulk_purge_wanted(d->bulk)) {
        if (now >= M.purge_next + PURGE_TICK_MS) /* the last try did not fail again */
            M.purge_backoff = PURGE_RETRY_MS;
        return;
    }
    if (M.stopping || d->draining || bulk_pending(d->bulk) > 0)
        return;
    if (M.purge_next == 0 || now < M.purge_next) {
        if (M.purge_next == 0 || M.purge_next > now + M.purge_backoff)
            M.purge_next = now + M.purge_backoff;
        return;
    }
    bulk_purge_taken(d->bulk);
    purge_hidden(d);
    M.purge_backoff = M.purge_backoff * 2 < PURGE_RETRY_MAX_MS ? M.purge_backoff * 2
                                                               : PURGE_RETRY_MAX_MS;
    M.purge_next = now + M.purge_backoff;
}

/* The scheduler (with the Slurm executor when configured), the socket server and the
 * signal handlers on the loop.  0, or -1 after logging why. */
static int start_services(struct mlpd *d, struct sched_opts *so, struct err *e)
{
    struct mlpd_config *c = &d->cfg;
    *so = (struct sched_opts){
        .slots = c->workers > 0 ? c->workers : 1,
        .max_attempts = c->max_attempts > 0 ? c->max_attempts : 1,
        .spawn = {.worker = d->worker,
                  .data_dir = c->data_dir,
                  .log_dir = d->log_dir,
                  .threads = c->threads,
                  .log_max_bytes = c->log_max_bytes,
                  .kill_grace = c->kill_grace,
                  .worker_memory = c->worker_memory,
                  .stall_seconds = c->stall_seconds},
        .artifacts_dir = d->artifacts_dir,
        .notify = on_notify,
        .ud = d,
        .space_dirs = {c->state_dir, d->artifacts_dir, c->data_dir},
        .min_free_space = c->min_free_space,
    };
    if (open_slurm(d, e) < 0) {
        startup_error(d, e->msg);
        return -1;
    }
    so->remote = d->slurm ? slurm_exec(d->slurm) : NULL;
    d->sched = sched_new(&M.loop, d->st, so);
    if (!d->sched) {
        log_error("out of memory");
        return -1;
    }
    d->hooks = hooks_new(d, e);
    if (!d->hooks) {
        startup_error(d, e->msg);
        return -1;
    }
    d->bulk = bulk_new(&M.loop);
    if (!d->bulk) {
        log_error("out of memory");
        return -1;
    }
    d->srv = server_open(d, c->socket, e);
    if (!d->srv) {
        startup_error(d, e->msg);
        return -1;
    }
    uv_signal_init(&M.loop, &M.sig_term);
    uv_signal_init(&M.loop, &M.sig_int);
    uv_signal_init(&M.loop, &M.sig_hup);
    uv_timer_init(&M.loop, &M.shutdown_timer);
    uv_timer_init(&M.loop, &M.purge_timer);
    M.purge_timer.data = d;
    M.purge_backoff = PURGE_RETRY_MS;
    uv_timer_start(&M.purge_timer, on_purge_timer, PURGE_TICK_MS, PURGE_TICK_MS);
    M.sig_term.data = M.sig_int.data = M.sig_hup.data = M.shutdown_timer.data = d;
    uv_signal_start(&M.sig_term, on_signal, SIGTERM);
    uv_signal_start(&M.sig_int, on_signal, SIGINT);
    uv_signal_start(&M.sig_hup, on_signal, SIGHUP);
    return 0;
}

static void log_started(const struct mlpd *d, const struct sched_opts *so)
{
    const struct mlpd_config *c = &d->cfg;
    log_info("mlpd %s started: pid %ld, state %s, socket %s, %d worker slot(s) x %d thread(s), "
             "worker %s",
             MLP_VERSION, (long)getpid(), c->state_dir, c->socket, so->slots, c->threads,
             d->worker);
    /* Each worker runs `threads` OpenBLAS threads (OMP_NUM_THREADS too); more
       threads than cores makes their spin-waits fight each other. */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu > 0 && (long)so->slots * c->threads > ncpu)
        log_warn("%d worker slot(s) x %d thread(s) = %ld threads on %ld online CPU(s): trials "
                 "will compete for cores and run slower; lower workers or threads",
                 so->slots, c->threads, (long)so->slots * c->threads, ncpu);
}

int main(int argc, char **argv)
{
    struct err e = ERR_INIT;
    struct mlpd *d = &M.d;
    int ready_fd = -1;
    int status = 1;
    M.pid_fd = -1;
    signal(SIGPIPE, SIG_IGN);

    if (load_config(&d->cfg, argc, argv, &e) < 0) {
        fprintf(stderr, "mlpd: %s%s%s\n", e.path[0] ? e.path : "", e.path[0] ? ": " : "", e.msg);
        return 2;
    }
    struct mlpd_config *c = &d->cfg;
    M.dir_fd = -1;
    if (prepare(d, &e) != 0)
        return 1;
    if (M.check) {
        struct stat dbst;
        if (stat(d->db_path, &dbst) != 0) {
            printf("mlpd: state dir %s is sound; no database yet\n", c->state_dir);
            return 0;
        }
        if (store_check(d->db_path, &e) < 0) {
            fprintf(stderr, "mlpd: %s\n", e.msg);
            return 1;
        }
        printf("mlpd: state dir %s and database %s are sound (quick_check ok)\n", c->state_dir,
               d->db_path);
        return 0;
    }
    if (!c->foreground)
        daemonize(&ready_fd);
    write_pidfile();
    if (!c->foreground && log_open(c->log_file) < 0)
        fprintf(stderr, "mlpd: cannot open log %s; logging to stderr\n", c->log_file);
    int lvl = log_level_from_name(c->log_level);
    if (lvl >= 0)
        log_set_level(lvl);
    if (open_store(d, &e) < 0)
        goto out;

    uv_loop_init(&M.loop);
    d->loop = &M.loop;
    d->started = (double)time(NULL);
    d->shutdown = begin_shutdown;
    struct sched_opts so;
    if (start_services(d, &so, &e) < 0)
        goto out_loop;
    log_started(d, &so);
    if (ready_fd >= 0) {
        if (write(ready_fd, "k", 1) != 1)
            log_warn("cannot report readiness: %s", strerror(errno));
        close(ready_fd);
        ready_fd = -1;
        detach_stdio();
    }
    purge_hidden(d);
    sched_kick(d->sched);
    uv_run(&M.loop, UV_RUN_DEFAULT);
    status = 0;
    log_info("mlpd stopped");

out_loop:
    if (d->srv) {
        server_close(d->srv);
        d->srv = NULL;
    }
    uv_walk(&M.loop, close_walk, NULL);
    uv_run(&M.loop, UV_RUN_DEFAULT);
    uv_loop_close(&M.loop);
    sched_free(d->sched);
    bulk_free(d->bulk);
    slurm_free(d->slurm);
    hooks_free(d->hooks);
out:
    store_close(d->st);
    if (status == 0)
        unlink(M.pid_path);
    if (M.pid_fd >= 0)
        close(M.pid_fd);
    if (M.dir_fd >= 0)
        close(M.dir_fd);
    log_close();
    return status;
}
