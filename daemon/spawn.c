/*
 * spawn — supervising one mlp-worker child.  See spawn.h.
 *
 * Five handles live in struct spawn: the process, its three pipes and one
 * timer (the max_seconds watchdog, or the SIGKILL grace after a stop).  The
 * worker owns max_seconds: it checks its own clock and exits with a "timeout"
 * error.  The watchdog is only for a worker that cannot (stopped, stuck in a
 * system call): it fires at max_seconds + kill_grace and sends SIGKILL.
 * finish() runs once the three "ended" facts hold (process exited, stdout
 * EOF, stderr EOF), reports the outcome and closes every handle; the last
 * close callback frees the struct.
 * If uv_spawn itself fails the handles are closed the same way without an
 * outcome (the caller got NULL and a message).
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "line.h"
#include "log.h"
#include "oomkill.h"
#include "trialwire.h"

extern char **environ;

#define SPAWN_TAIL 2048 /* bytes of stderr kept for failure messages */
#define SPAWN_HANDLES 6
#define SPAWN_OWN_ENV 6 /* environment strings of our own (child_env) */
#define SPAWN_OOM_SCORE_ADJ 500 /* the worker, not mlpd, is what the OOM killer should pick */

struct spawn {
    uv_process_t proc;
    uv_pipe_t in, out, errp;
    uv_timer_t timer;
    uv_timer_t stall; /* stall check, every stall_seconds / 4 */
    uv_write_t wreq;
    uv_shutdown_t sreq;
    int n_closed; /* handles whose close callback ran */
    bool closing; /* handles are being closed */
    bool spawned; /* uv_spawn succeeded */
    bool exited, out_eof, err_eof, reported;
    int64_t exit_status;
    int term_signal;
    bool timed_out; /* the watchdog fired */
    bool stopping;  /* spawn_stop called */
    int stop_reason;
    bool killed; /* SIGKILL sent */
    bool stalled; /* killed by the stall check */
    double max_seconds, kill_grace, stall_seconds;
    long worker_memory;
    char oom_file[4200];     /* OOM-kill counter of the worker's memory cgroup ("": none) */
    long long oom_at_start;  /* its value when the worker started; -1 unknown */
    uint64_t last_output; /* uv_now() of the last stdout or stderr bytes */
    char *spec;                /* spec line + '\n', alive until the write completes */
    struct line_buf lb;        /* stdout framing */
    struct trial_event result; /* the result event (kind TRIAL_EV_RESULT once read) */
    char err_code[64];         /* last error event */
    char err_msg[512];
    int log_fd; /* logs/<trial>.log, -1 when it cannot be opened */
    long log_bytes, log_max;
    bool log_truncated;
    char tail[SPAWN_TAIL]; /* ring of the last stderr bytes */
    size_t tail_len, tail_pos;
    int64_t trial_id;
    struct spawn_cbs cbs;
    void *ud;
};

/* snprintf for messages that may be cut (long worker messages are fine to truncate). */
static void msgf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void msgf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct spawn *sp = h->data;
    if (++sp->n_closed < SPAWN_HANDLES)
        return;
    line_buf_release(&sp->lb);
    trialwire_event_release(&sp->result);
    free(sp->spec);
    if (sp->log_fd >= 0)
        close(sp->log_fd);
    free(sp);
}

static void close_all(struct spawn *sp)
{
    sp->closing = true;
    uv_handle_t *hs[SPAWN_HANDLES] = {
        (uv_handle_t *)&sp->proc, (uv_handle_t *)&sp->in,    (uv_handle_t *)&sp->out,
        (uv_handle_t *)&sp->errp, (uv_handle_t *)&sp->timer, (uv_handle_t *)&sp->stall,
    };
    for (int i = 0; i < SPAWN_HANDLES; i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], on_handle_closed);
}

static void log_write(struct spawn *sp, const char *buf, size_t n)
{
    if (sp->log_fd < 0 || sp->log_truncated)
        return;
    size_t room = sp->log_bytes < sp->log_max ? (size_t)(sp->log_max - sp->log_bytes) : 0;
    size_t w = n < room ? n : room;
    if (w > 0 && write(sp->log_fd, buf, w) < 0)
        return;
    sp->log_bytes += (long)w;
    if (w < n) {
        static const char note[] = "\n[log truncated]\n";
        if (write(sp->log_fd, note, sizeof note - 1) < 0)
            return;
        sp->log_truncated = true;
    }
}

static void tail_add(struct spawn *sp, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sp->tail[sp->tail_pos] = buf[i];
        sp->tail_pos = (sp->tail_pos + 1) % SPAWN_TAIL;
        if (sp->tail_len < SPAWN_TAIL)
            sp->tail_len++;
    }
}

/* The last few lines of stderr, newlines turned into " | ". */
static void tail_lines(const struct spawn *sp, char *out, size_t n)
{
    char lin[SPAWN_TAIL + 1];
    size_t start = (sp->tail_pos + SPAWN_TAIL - sp->tail_len) % SPAWN_TAIL;
    for (size_t i = 0; i < sp->tail_len; i++)
        lin[i] = sp->tail[(start + i) % SPAWN_TAIL];
    size_t len = sp->tail_len;
    while (len > 0 && (lin[len - 1] == '\n' || lin[len - 1] == '\r'))
        len--;
    lin[len] = '\0';
    /* keep the last 3 lines */
    size_t from = len;
    int lines = 0;
    while (from > 0) {
        if (lin[from - 1] == '\n' && ++lines == 3)
            break;
        from--;
    }
    const char *t = lin + from;
    if (strlen(t) > 400)
        t += strlen(t) - 400;
    size_t o = 0;
    for (; *t && o + 4 < n; t++) {
        if (*t == '\n') {
            memcpy(out + o, " | ", 3);
            o += 3;
        } else if ((unsigned char)*t >= 0x20) {
            out[o++] = *t;
        }
    }
    out[o] = '\0';
}

/* A byte count as the config file writes it: "4G", "256M", "1536k" or digits. */
static void bytes_text(long v, char *out, size_t n)
{
    static const char suf[] = "GMk";
    for (int i = 0; i < 3; i++) {
        long unit = 1L << (10 * (3 - i));
        if (v >= unit && v % unit == 0) {
            msgf(out, n, "%ld%c", v / unit, suf[i]);
            return;
        }
    }
    msgf(out, n, "%ld", v);
}

/*
 * Whether the worker died of a SIGKILL that mlpd did not send and its memory
 * cgroup's OOM-kill counter rose meanwhile (the kernel counts before it kills).
 * Unknown (no cgroup, no counter) is no.
 */
static bool oom_killed(const struct spawn *sp)
{
    if (sp->term_signal != SIGKILL || sp->killed || sp->oom_at_start < 0)
        return false;
    long long now = oomkill_count(sp->oom_file);
    if (now > sp->oom_at_start) {
        log_warn("trial %lld: its worker was killed by the kernel's OOM killer (oom_kill %lld -> "
                 "%lld in %s)",
                 (long long)sp->trial_id, sp->oom_at_start, now, sp->oom_file);
        return true;
    }
    return false;
}

/* Read the OOM-kill counter of the new worker's cgroup; make the worker the OOM killer's pick. */
static void oom_watch(struct spawn *sp)
{
    static bool warned;
    long pid = (long)sp->proc.pid;
    sp->oom_at_start = -1;
    if (oomkill_counter_file(pid, sp->oom_file, sizeof sp->oom_file) == 0)
        sp->oom_at_start = oomkill_count(sp->oom_file);
    if (sp->oom_at_start < 0)
        sp->oom_file[0] = '\0';
    if (oomkill_prefer(pid, SPAWN_OOM_SCORE_ADJ) < 0 && !warned) {
        warned = true;
        log_warn("cannot set the oom_score_adj of worker %ld to %d: %s (logged once)", pid,
                 SPAWN_OOM_SCORE_ADJ, strerror(errno));
    }
}

static void finish(struct spawn *sp)
{
    if (sp->reported || !sp->exited || !sp->out_eof || !sp->err_eof)
        return;
    sp->reported = true;
    uv_timer_stop(&sp->timer);
    uv_timer_stop(&sp->stall);
    struct spawn_outcome o = {.status = SPAWN_CRASH, .stop_reason = sp->stop_reason};
    char tail[512];
    tail_lines(sp, tail, sizeof tail);
    bool clean = sp->exit_status == 0 && sp->term_signal == 0;
    if (clean && sp->result.kind == TRIAL_EV_RESULT) {
        o.status = SPAWN_OK;
        o.result = &sp->result;
    } else if (sp->timed_out || (sp->exit_status == 1 && strcmp(sp->err_code, "timeout") == 0)) {
        /* One message: the worker's own ("trial exceeded max_seconds (X s) after N
         * completed epoch(s)"), or the same words when the watchdog had to kill it. */
        o.status = SPAWN_TIMEOUT;
        if (!sp->timed_out && sp->err_msg[0])
            msgf(o.message, sizeof o.message, "timeout: %s", sp->err_msg);
        else
            msgf(o.message, sizeof o.message,
                 "timeout: trial exceeded max_seconds (%g s) and was killed %g s later",
                 sp->max_seconds, sp->kill_grace);
    } else if (sp->stopping) {
        o.status = SPAWN_STOPPED;
        msgf(o.message, sizeof o.message, "stopped by mlpd");
    } else if (strcmp(sp->err_code, "nomem") == 0) {
        /* The worker said it ran out of memory: the same spec under the same limit runs
         * out again, so fail, no retry, however the process ended after saying so (exit 1;
         * or a crash or a hang on its way out, which would otherwise pass for a transient
         * fault and burn the attempts). */
        char lim[48] = "";
        if (sp->worker_memory > 0) {
            char b[32];
            bytes_text(sp->worker_memory, b, sizeof b);
            msgf(lim, sizeof lim, " (worker_memory %s)", b);
        }
        o.status = SPAWN_NOMEM;
        /* "out of memory allocating the network" -> "out of memory (worker_memory 4G) allocating the network" */
        const char *rest = sp->err_msg;
        if (strncmp(rest, "out of memory", 13) == 0)
            msgf(o.message, sizeof o.message, "out of memory%s%s", lim, rest + 13);
        else
            msgf(o.message, sizeof o.message, "out of memory%s%s%s", lim, rest[0] ? ": " : "",
                 rest);
    } else if (oom_killed(sp)) {
        /* The machine or mlpd's cgroup ran out and the kernel chose this worker: the same
         * spec would most likely be chosen again, each time at the whole machine's cost. */
        o.status = SPAWN_NOMEM;
        msgf(o.message, sizeof o.message, "out of memory (killed by the kernel's OOM killer)");
    } else if (sp->stalled) {
        o.status = SPAWN_STALLED;
        msgf(o.message, sizeof o.message,
             "stalled: no output from the worker for %g s (stall_seconds); killed",
             sp->stall_seconds);
    } else if (sp->exit_status == 1 && sp->term_signal == 0 &&
               strcmp(sp->err_code, "no_space") == 0) {
        o.status = SPAWN_NOSPACE;
        msgf(o.message, sizeof o.message, "%s", sp->err_msg[0] ? sp->err_msg : "no space left");
    } else if (sp->exit_status == 4 && sp->term_signal == 0) {
        o.status = SPAWN_INVALID;
        msgf(o.message, sizeof o.message, "%s%s",
             sp->err_msg[0] ? "" : "invalid trial (worker exit 4): ",
             sp->err_msg[0] ? sp->err_msg : tail);
    } else {
        char why[128];
        if (sp->term_signal)
            msgf(why, sizeof why, "killed by signal %d (%s)", sp->term_signal,
                 strsignal(sp->term_signal));
        else if (clean)
            msgf(why, sizeof why, "exit code 0 without a result line");
        else
            msgf(why, sizeof why, "exit code %lld", (long long)sp->exit_status);
        msgf(o.message, sizeof o.message, "%s%s%s%s%s", why, sp->err_msg[0] ? ": " : "",
             sp->err_msg, tail[0] ? "; log: " : "", tail);
    }
    if (sp->cbs.on_done)
        sp->cbs.on_done(sp->ud, &o);
    close_all(sp);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
    struct spawn *sp = p->data;
    sp->exited = true;
    sp->exit_status = status;
    sp->term_signal = sig;
    finish(sp);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    static char slab[65536]; /* one loop thread; each read is consumed at once */
    *buf = uv_buf_init(slab, sizeof slab);
}

static void handle_line(struct spawn *sp, const char *line, size_t len)
{
    struct trial_event ev;
    int kind = trialwire_event_read(line, len, &ev);
    if (kind == TRIAL_EV_NONE) {
        /* Not an event: keep it in the trial's log so nothing is lost. */
        log_write(sp, "[stdout] ", 9);
        log_write(sp, line, len);
        log_write(sp, "\n", 1);
        return;
    }
    if (kind == TRIAL_EV_EPOCH) {
        if (sp->cbs.on_epoch && !sp->reported)
            sp->cbs.on_epoch(sp->ud, &ev);
    } else if (kind == TRIAL_EV_RESULT) {
        trialwire_event_release(&sp->result);
        sp->result = ev; /* owns its confusion matrix now */
        return;
    } else if (kind == TRIAL_EV_ERROR) {
        snprintf(sp->err_code, sizeof sp->err_code, "%s", ev.code);
        if (ev.path[0])
            msgf(sp->err_msg, sizeof sp->err_msg, "%s: %s", ev.path,
                 ev.message[0] ? ev.message : "error");
        else
            msgf(sp->err_msg, sizeof sp->err_msg, "%s", ev.message[0] ? ev.message : "error");
    } else if (kind < 0) {
        log_warn("trial %lld: out of memory reading an event line", (long long)sp->trial_id);
    }
    trialwire_event_release(&ev);
}

static void on_out_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct spawn *sp = s->data;
    if (n > 0) {
        sp->last_output = uv_now(s->loop);
        line_buf_feed(&sp->lb, buf->base, (size_t)n); /* oversize lines are dropped */
        char *line;
        size_t len;
        while (line_buf_next(&sp->lb, &line, &len) == 1)
            handle_line(sp, line, len);
    } else if (n < 0) {
        uv_read_stop(s);
        sp->out_eof = true;
        finish(sp);
    }
}

static void on_err_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct spawn *sp = s->data;
    if (n > 0) {
        sp->last_output = uv_now(s->loop);
        log_write(sp, buf->base, (size_t)n);
        tail_add(sp, buf->base, (size_t)n);
    } else if (n < 0) {
        uv_read_stop(s);
        sp->err_eof = true;
        finish(sp);
    }
}

static void on_in_shutdown(uv_shutdown_t *req, int status)
{
    (void)status; /* EPIPE when the worker did not read: it reports why itself */
    struct spawn *sp = req->data;
    if (!uv_is_closing((uv_handle_t *)&sp->in))
        uv_close((uv_handle_t *)&sp->in, on_handle_closed);
}

static void on_in_written(uv_write_t *req, int status)
{
    (void)req;
    (void)status;
}

static void on_timer(uv_timer_t *t)
{
    struct spawn *sp = t->data;
    if (sp->exited)
        return;
    if (!sp->timed_out && !sp->stopping) {
        /* The watchdog: the worker did not stop itself within the grace. */
        sp->timed_out = sp->killed = true;
        log_warn("trial %lld: still running %g s past max_seconds %g; sending SIGKILL",
                 (long long)sp->trial_id, sp->kill_grace, sp->max_seconds);
        uv_process_kill(&sp->proc, SIGKILL);
    } else if (!sp->killed) {
        sp->killed = true;
        log_warn("trial %lld: still running after SIGTERM; sending SIGKILL",
                 (long long)sp->trial_id);
        uv_process_kill(&sp->proc, SIGKILL);
    }
}

/*
 * The worker's environment: ours first (SPAWN_OWN_ENV strings, owned), then
 * mlpd's own without the variables we set (borrowed).  NULL on ENOMEM.
 */
static char **child_env(const struct spawn_opts *o)
{
    static const char *const ours[SPAWN_OWN_ENV] = {
        "OPENBLAS_NUM_THREADS=", "OMP_NUM_THREADS=",    "MLPD_PARENT_PID=",
        "MLPD_DATA=",            "MLPD_WORKER_MEMORY=", "MLPD_HEARTBEAT="};
    int threads = o->threads > 0 ? o->threads : 1;
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + SPAWN_OWN_ENV + 1, sizeof *env);
    if (!env)
        return NULL;
    char buf[4200];
    size_t k = 0;
    snprintf(buf, sizeof buf, "OPENBLAS_NUM_THREADS=%d", threads);
    env[k++] = strdup(buf);
    snprintf(buf, sizeof buf, "OMP_NUM_THREADS=%d", threads);
    env[k++] = strdup(buf);
    snprintf(buf, sizeof buf, "MLPD_PARENT_PID=%ld", (long)getpid());
    env[k++] = strdup(buf);
    snprintf(buf, sizeof buf, "MLPD_DATA=%s", o->data_dir);
    env[k++] = strdup(buf);
    /* Unset when off: the placeholder keeps the count of owned strings fixed. */
    if (o->worker_memory > 0)
        snprintf(buf, sizeof buf, "MLPD_WORKER_MEMORY=%ld", o->worker_memory);
    else
        snprintf(buf, sizeof buf, "MLPD_WORKER_MEMORY=");
    env[k++] = strdup(buf);
    /* Four beats per stall_seconds (at most one a minute): a slow trial is never silent
     * that long, and a late beat still has three chances. */
    double beat = o->stall_seconds / 4 < 60 ? o->stall_seconds / 4 : 60;
    if (o->stall_seconds > 0)
        snprintf(buf, sizeof buf, "MLPD_HEARTBEAT=%g", beat > 0.01 ? beat : 0.01);
    else
        snprintf(buf, sizeof buf, "MLPD_HEARTBEAT=");
    env[k++] = strdup(buf);
    for (size_t i = 0; i < n; i++) {
        bool skip = false;
        for (size_t j = 0; j < SPAWN_OWN_ENV; j++)
            if (strncmp(environ[i], ours[j], strlen(ours[j])) == 0)
                skip = true;
        if (!skip)
            env[k++] = environ[i]; /* borrowed, not freed */
    }
    env[k] = NULL;
    for (size_t i = 0; i < SPAWN_OWN_ENV; i++)
        if (!env[i]) {
            for (size_t j = 0; j < SPAWN_OWN_ENV; j++)
                free(env[j]);
            free(env);
            return NULL;
        }
    return env;
}

static void free_env(char **env)
{
    if (!env)
        return;
    for (size_t i = 0; i < SPAWN_OWN_ENV; i++)
        free(env[i]);
    free(env);
}

/* Every stall_seconds / 4: kill a worker that has been silent for stall_seconds. */
static void on_stall_check(uv_timer_t *t)
{
    struct spawn *sp = t->data;
    if (sp->exited || sp->stopping || sp->killed)
        return;
    uint64_t silent = uv_now(t->loop) - sp->last_output;
    if ((double)silent < sp->stall_seconds * 1000)
        return;
    sp->stalled = sp->killed = true;
    uv_timer_stop(t);
    log_warn("trial %lld: no output from its worker (pid %ld) for %g s (stall_seconds); sending "
             "SIGKILL",
             (long long)sp->trial_id, (long)sp->proc.pid, (double)silent / 1000);
    uv_process_kill(&sp->proc, SIGKILL);
}

static void open_log(struct spawn *sp, const struct spawn_opts *o, int attempt)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%lld.log", o->log_dir, (long long)sp->trial_id);
    sp->log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (sp->log_fd < 0) {
        log_warn("trial %lld: cannot open %s: %s", (long long)sp->trial_id, path, strerror(errno));
        return;
    }
    struct stat stb;
    if (fstat(sp->log_fd, &stb) == 0)
        sp->log_bytes = (long)stb.st_size;
    sp->log_truncated = sp->log_bytes >= sp->log_max;
    char head[256];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    int n = snprintf(head, sizeof head, "[mlpd] %04d-%02d-%02dT%02d:%02d:%02dZ attempt %d\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     attempt);
    log_write(sp, head, (size_t)n);
}

struct spawn *spawn_start(uv_loop_t *loop, const struct spawn_opts *o, int64_t trial_id,
                          int attempt, const char *spec_line, double max_seconds,
                          const struct spawn_cbs *cbs, void *ud, char *msg, size_t msg_n)
{
    struct spawn *sp = calloc(1, sizeof *sp);
    if (!sp) {
        msgf(msg, msg_n, "out of memory");
        return NULL;
    }
    sp->trial_id = trial_id;
    sp->cbs = *cbs;
    sp->ud = ud;
    sp->max_seconds = max_seconds;
    sp->stall_seconds = o->stall_seconds;
    sp->worker_memory = o->worker_memory;
    sp->kill_grace = o->kill_grace > 0 ? o->kill_grace : 0.1;
    sp->log_max = o->log_max_bytes > 0 ? o->log_max_bytes : (1L << 20);
    sp->log_fd = -1;
    line_buf_init(&sp->lb, 1u << 20);
    size_t slen = strlen(spec_line);
    sp->spec = malloc(slen + 2);
    if (!sp->spec) {
        msgf(msg, msg_n, "out of memory");
        line_buf_release(&sp->lb);
        free(sp);
        return NULL;
    }
    memcpy(sp->spec, spec_line, slen);
    sp->spec[slen] = '\n';
    sp->spec[slen + 1] = '\0';
    open_log(sp, o, attempt);

    uv_pipe_init(loop, &sp->in, 0);
    uv_pipe_init(loop, &sp->out, 0);
    uv_pipe_init(loop, &sp->errp, 0);
    uv_timer_init(loop, &sp->timer);
    uv_timer_init(loop, &sp->stall);
    sp->proc.data = sp->in.data = sp->out.data = sp->errp.data = sp->timer.data = sp;
    sp->stall.data = sp;
    sp->wreq.data = sp->sreq.data = sp;

    uv_stdio_container_t stdio[3] = {
        {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&sp->in},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&sp->out},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&sp->errp},
    };
    char *args[] = {(char *)o->worker, NULL};
    char **env = child_env(o);
    if (!env) {
        msgf(msg, msg_n, "out of memory");
        goto fail_close;
    }
    uv_process_options_t po = {
        .exit_cb = on_exit_cb,
        .file = o->worker,
        .args = args,
        .env = env,
        .stdio_count = 3,
        .stdio = stdio,
    };
    int rc = uv_spawn(loop, &sp->proc, &po);
    free_env(env);
    if (rc != 0) {
        msgf(msg, msg_n, "cannot start %s: %s", o->worker, uv_strerror(rc));
        goto fail_close;
    }
    sp->spawned = true;
    /* Before the spec is written: the worker allocates nothing big until it has read it. */
    oom_watch(sp);
    uv_read_start((uv_stream_t *)&sp->out, alloc_cb, on_out_read);
    uv_read_start((uv_stream_t *)&sp->errp, alloc_cb, on_err_read);
    uv_buf_t b = uv_buf_init(sp->spec, (unsigned)(slen + 1));
    if (uv_write(&sp->wreq, (uv_stream_t *)&sp->in, &b, 1, on_in_written) != 0 ||
        uv_shutdown(&sp->sreq, (uv_stream_t *)&sp->in, on_in_shutdown) != 0)
        uv_close((uv_handle_t *)&sp->in, on_handle_closed);
    sp->last_output = uv_now(loop);
    if (sp->stall_seconds > 0) {
        double every = sp->stall_seconds * 1000 / 4;
        uint64_t ms = every < 50 ? 50 : every > 10000 ? 10000 : (uint64_t)every;
        uv_timer_start(&sp->stall, on_stall_check, ms, ms);
    }
    if (max_seconds > 0)
        uv_timer_start(&sp->timer, on_timer, (uint64_t)ceil((max_seconds + sp->kill_grace) * 1000),
                       0);
    return sp;

fail_close:
    sp->reported = true;
    close_all(sp);
    return NULL;
}

long spawn_pid(const struct spawn *sp)
{
    return (long)sp->proc.pid;
}

void spawn_stop(struct spawn *sp, int reason)
{
    if (sp->reported || sp->exited || sp->stopping)
        return;
    sp->stopping = true;
    sp->stop_reason = reason;
    uv_process_kill(&sp->proc, SIGTERM);
    uv_timer_stop(&sp->timer);
    uv_timer_start(&sp->timer, on_timer, (uint64_t)(sp->kill_grace * 1000), 0);
}
