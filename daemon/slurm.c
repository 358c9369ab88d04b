/*
 * slurm — the Slurm executor.  See slurm.h for the protocol with Slurm.
 *
 * State: an array of tasks (one per trial followed), each with its batch name,
 * array index, job id (0 until known), the offset read so far of its i.out and
 * a line buffer.  At most one sbatch and one poll are in flight.  A poll is a
 * chain: timer -> squeue (uv_spawn, stdout collected) -> file reads on the
 * thread pool (each task reads only into its own fields) -> apply on the loop.
 * Tasks are removed from the array only while no poll is in flight or in the
 * apply step itself, so the pool thread never sees a task freed.
 * External commands run through cmd_run(): a process with both output pipes
 * collected, reported once after it exited and both pipes reached EOF, and
 * freed after its three handles closed.
 */
#include "slurm.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <pwd.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "exec.h"
#include "grid.h"
#include "line.h"
#include "adapt.h"
#include "log.h"
#include "store.h"
#include "store_adapt.h"
#include "store_slurm.h"
#include "trialwire.h"

#define SLURM_RETRY_MS 5000       /* back-off after sbatch failed */
#define SLURM_LIMIT_WAIT 30.0     /* seconds a sweep a site limit refused waits */
#define SLURM_MAX_ARRAY 1000      /* tasks per array until scontrol said MaxArraySize */
#define SLURM_LOST_AFTER 120.0    /* seconds an earlier mlpd's unanswered sbatch may still take */
#define SLURM_READ_MAX (4u << 20) /* bytes of one i.out read per poll */
#define SLURM_OUT_CAP (8u << 20)  /* command output kept */
#define SLURM_GONE_POLLS 2        /* polls a known job may be missing before it counts as gone */
#define SLURM_ACCT_TRIES 2        /* sacct queries about a gone task before its files decide */
#define SLURM_NAMES_EVERY 10.0    /* seconds between sacct lookups of unanswered batches by name */
#define SLURM_SCRIPT "mlpd-task.sh"
/* The executor that owns an embedded struct exec. */
#define SLURM_OF(x) ((struct slurm *)((char *)(x)-offsetof(struct slurm, ex)))

struct task {
    int64_t trial_id, sweep_id, config_idx, job_id;
    int64_t raw_id; /* the task's own job id (squeue %A, sacct JobIDRaw); 0 unknown */
    double submitted; /* unix time its row was written, before sbatch ran */
    int attempt, idx;
    char *batch, *dir;     /* owned */
    char state[32];        /* last Slurm state seen; "" none */
    char stored_state[32]; /* last state written to the store */
    bool in_flight;        /* its sbatch has not answered */
    bool cancel_req;       /* mlpd asked Slurm to cancel it */
    bool prune_req;        /* its configuration was pruned: scancelled, ends 'pruned' */
    bool listed;           /* seen in the current squeue answer */
    int missing;           /* consecutive polls without it in squeue */
    int grace;             /* polls waited for the files of an ended task */
    double over_at;        /* loop time (s) Slurm first said it ended; 0 not yet */
    int acct_asked;        /* sacct answers about it since it left squeue */
    bool acct_q;           /* in the sacct query in flight */
    bool name_found;       /* its batch was found by name in accounting (job_id from there) */
    bool name_saved;       /* ... and that job id was stored */
    bool name_q;           /* in the lookup by name in flight */
    int name_asked;        /* lookups by name answered while its job id was unknown */
    long off;              /* bytes of i.out consumed */
    struct line_buf lb;
    struct trial_event *result; /* the result event (owned), until it is recorded */
    char err_code[32], err_msg[512];
    /* filled on the pool thread, consumed by apply */
    char *rbuf;
    size_t rlen;
    bool reread;    /* i.out shrank: it was written again from the start */
    bool have_out;  /* i.out exists */
    bool have_done; /* the completion marker i.done (or an older mlpd's i.rc) was read */
    int rc;         /* the worker's exit code from the marker, -1 when unknown */
    int sig;        /* the signal that killed the worker, 0 none */
    long out_size;  /* bytes of i.out when the task ended (marker), -1 unknown */
    bool m_term;    /* the marker: Slurm sent the task SIGTERM */
    bool m_timeout; /* the marker: ... at or past its time limit */
    bool m_oom;     /* the marker: the worker was killed by the OOM killer */
    char tail[512]; /* last bytes of i.err */
};

struct cmd {
    struct slurm *s;
    uv_process_t proc;
    uv_pipe_t out, err;
    char *obuf;
    size_t olen, ocap;
    char ebuf[2048];
    size_t elen;
    int64_t status;
    int sig;
    bool spawned, exited, out_eof, err_eof, reported;
    int open_handles;
    void (*done)(struct cmd *c);
    void *ud;
};

/*
 * A sweep whose submission failed: the note status/list/watch/wait show.
 * Guarded by slurm.mu: ops read it from pool threads (slurm_blocked).  Also
 * stored (slurm_blocked rows, 014-blocked.sql): a restarted mlpd goes on
 * counting where the last one stopped.
 */
struct blocked {
    int64_t sweep_id;
    int failures;   /* consecutive failed submissions counted against it */
    double until;   /* loop time (s) before which it is not tried again */
    bool counted;   /* the last failure counted (else a limit or the controller holds it) */
    bool gave_up;   /* its queued trials were failed with msg */
    char msg[600];  /* sbatch's message */
};

struct slurm {
    uv_loop_t *loop;
    struct store *st;
    struct slurm_opts o;
    struct exec ex;
    char sbatch[CONFIG_PATH_MAX], squeue[CONFIG_PATH_MAX], scancel[CONFIG_PATH_MAX];
    char sacct[CONFIG_PATH_MAX];
    /* How sacct answers: from slurmdbd, from the job completion log
       (--completion), or not at all (files decide). */
    enum { ACCT_DBD, ACCT_COMP, ACCT_NONE } acct;
    char script[CONFIG_PATH_MAX + 32];
    struct task **tasks;
    size_t n, cap;
    bool submitting, polling, draining, squeue_warned;
    uv_timer_t tick, retry;
    bool retry_wait; /* sbatch failed: wait for the retry timer */
    int open_timers;
    uv_work_t work;
    struct task **snap; /* the tasks of the poll in flight */
    size_t n_snap;
    int cmds; /* commands in flight */
    unsigned seq;
    uv_mutex_t mu;         /* guards blk and n_blk */
    struct blocked *blk;   /* sweeps whose submission failed */
    size_t n_blk, cap_blk;
    char scontrol[CONFIG_PATH_MAX], sacctmgr[CONFIG_PATH_MAX];
    bool limits_pending;   /* scontrol show config has not answered: do not submit yet */
    int max_array;         /* tasks per array: MaxArraySize, then halved on a limit error */
    int max_jobs;          /* our unfinished tasks at most: MaxJobCount / 2, MaxSubmitJobs */
    char user[128];        /* squeue -u: every job of ours in one query */
    int idle;              /* consecutive polls in which nothing changed */
    int skip;              /* ticks to let pass before the next poll (back-off) */
    bool poll_changed;     /* the squeue answer of the poll in flight changed a state */
    double pruned_at;      /* loop time (s) of the last spool prune; 0 never */
    bool pruning;          /* a prune is on the thread pool */
    double names_at;       /* loop time (s) of the last sacct lookup by job name; 0 never */
};

/* ---- small helpers ---- */

static void notify(struct slurm *s, int64_t sweep_id)
{
    if (s->o.notify)
        s->o.notify(s->o.ud, sweep_id);
}

static void task_free(struct task *t)
{
    if (!t)
        return;
    free(t->batch);
    free(t->dir);
    free(t->rbuf);
    line_buf_release(&t->lb);
    trialwire_event_release(t->result);
    free(t->result);
    free(t);
}

static struct task *task_new(const struct store_slurm_task *r)
{
    struct task *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->trial_id = r->trial_id;
    t->sweep_id = r->sweep_id;
    t->config_idx = r->config_idx;
    t->job_id = r->job_id;
    t->submitted = r->submitted > 0 ? r->submitted : (double)time(NULL);
    t->attempt = r->attempt;
    t->idx = r->array_idx;
    t->batch = strdup(r->batch);
    t->dir = strdup(r->spool);
    t->rc = -1;
    snprintf(t->state, sizeof t->state, "%s", r->state ? r->state : "");
    snprintf(t->stored_state, sizeof t->stored_state, "%s", t->state);
    line_buf_init(&t->lb, 1u << 20);
    if (!t->batch || !t->dir) {
        task_free(t);
        return NULL;
    }
    return t;
}

static int add_task(struct slurm *s, struct task *t)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        struct task **p = realloc(s->tasks, cap * sizeof *p);
        if (!p)
            return MLP_ENOMEM;
        s->tasks = p;
        s->cap = cap;
    }
    s->tasks[s->n++] = t;
    return 0;
}

/* Remove (and free) the tasks marked with trial_id = 0, keeping order. */
static void compact(struct slurm *s)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->tasks[i]->trial_id == 0)
            task_free(s->tasks[i]);
        else
            s->tasks[k++] = s->tasks[i];
    }
    s->n = k;
}

static void on_handle_free(uv_handle_t *h);

/* ---- external commands ---- */

static void cmd_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    static char slab[65536]; /* one loop thread; each read is consumed at once */
    *buf = uv_buf_init(slab, sizeof slab);
}

static void cmd_closed(uv_handle_t *h)
{
    struct cmd *c = h->data;
    if (--c->open_handles > 0)
        return;
    c->s->cmds--;
    free(c->obuf);
    free(c);
}

static void cmd_finish(struct cmd *c)
{
    if (c->reported || !c->exited || !c->out_eof || !c->err_eof)
        return;
    c->reported = true;
    c->ebuf[c->elen < sizeof c->ebuf ? c->elen : sizeof c->ebuf - 1] = '\0';
    if (c->done)
        c->done(c);
    uv_close((uv_handle_t *)&c->proc, cmd_closed);
    uv_close((uv_handle_t *)&c->out, cmd_closed);
    uv_close((uv_handle_t *)&c->err, cmd_closed);
}

static void cmd_exit(uv_process_t *p, int64_t status, int sig)
{
    struct cmd *c = p->data;
    c->exited = true;
    c->status = status;
    c->sig = sig;
    cmd_finish(c);
}

static void cmd_out(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct cmd *c = st->data;
    if (n > 0) {
        if (c->olen + (size_t)n + 1 > c->ocap && c->olen + (size_t)n + 1 <= SLURM_OUT_CAP) {
            size_t cap = c->ocap ? c->ocap : 4096;
            while (cap < c->olen + (size_t)n + 1)
                cap *= 2;
            char *p = realloc(c->obuf, cap);
            if (p) {
                c->obuf = p;
                c->ocap = cap;
            }
        }
        if (c->olen + (size_t)n + 1 <= c->ocap) {
            memcpy(c->obuf + c->olen, buf->base, (size_t)n);
            c->olen += (size_t)n;
            c->obuf[c->olen] = '\0';
        }
    } else if (n < 0) {
        uv_read_stop(st);
        c->out_eof = true;
        cmd_finish(c);
    }
}

static void cmd_err(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct cmd *c = st->data;
    if (n > 0) {
        size_t room = sizeof c->ebuf - 1 - c->elen;
        size_t w = (size_t)n < room ? (size_t)n : room;
        memcpy(c->ebuf + c->elen, buf->base, w);
        c->elen += w;
    } else if (n < 0) {
        uv_read_stop(st);
        c->err_eof = true;
        cmd_finish(c);
    }
}

/*
 * Run argv[0] with argv; done(c) is called once with c->status, c->obuf
 * (NUL-terminated or NULL) and c->ebuf.  0, or a libuv error (done not called).
 */
static int cmd_run(struct slurm *s, char **argv, void (*done)(struct cmd *c), void *ud)
{
    struct cmd *c = calloc(1, sizeof *c);
    if (!c)
        return UV_ENOMEM;
    c->s = s;
    c->done = done;
    c->ud = ud;
    uv_pipe_init(s->loop, &c->out, 0);
    uv_pipe_init(s->loop, &c->err, 0);
    c->proc.data = c->out.data = c->err.data = c;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&c->out},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&c->err},
    };
    uv_process_options_t po = {
        .exit_cb = cmd_exit,
        .file = argv[0],
        .args = argv,
        .stdio_count = 3,
        .stdio = stdio,
    };
    s->cmds++;
    int rc = uv_spawn(s->loop, &c->proc, &po);
    if (rc != 0) {
        c->reported = true;
        c->open_handles = 2;
        uv_close((uv_handle_t *)&c->out, cmd_closed);
        uv_close((uv_handle_t *)&c->err, cmd_closed);
        uv_close((uv_handle_t *)&c->proc, NULL);
        return rc;
    }
    c->open_handles = 3;
    uv_read_start((uv_stream_t *)&c->out, cmd_alloc, cmd_out);
    uv_read_start((uv_stream_t *)&c->err, cmd_alloc, cmd_err);
    return 0;
}

/* The command's stderr on one line, for messages. */
static const char *cmd_errline(struct cmd *c)
{
    for (char *p = c->ebuf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    size_t n = strlen(c->ebuf);
    while (n > 0 && c->ebuf[n - 1] == ' ')
        c->ebuf[--n] = '\0';
    return c->ebuf[0] ? c->ebuf : "(no message)";
}

/* Something new to follow: poll at the normal pace again. */
static void poll_soon(struct slurm *s)
{
    s->idle = 0;
    s->skip = 0;
}

/* ---- cancel ---- */

static void on_scancel(struct cmd *c)
{
    if (c->status != 0 || c->sig != 0)
        log_warn("scancel failed (exit %lld): %s", (long long)c->status, cmd_errline(c));
}

/* scancel the given tasks (those with a job id). */
static void scancel_tasks(struct slurm *s, struct task **ts, size_t n)
{
    char **argv = calloc(n + 3, sizeof *argv);
    if (!argv)
        return;
    size_t k = 0;
    argv[k++] = s->scancel;
    for (size_t i = 0; i < n; i++) {
        if (ts[i]->job_id <= 0)
            continue;
        char buf[64];
        snprintf(buf, sizeof buf, "%lld_%d", (long long)ts[i]->job_id, ts[i]->idx);
        argv[k] = strdup(buf);
        if (argv[k])
            k++;
    }
    if (k > 1) {
        int rc = cmd_run(s, argv, on_scancel, NULL);
        if (rc != 0)
            log_error("cannot run %s: %s", s->scancel, uv_strerror(rc));
        else
            log_info("scancel of %zu Slurm task(s) requested", k - 1);
    }
    for (size_t i = 1; i < k; i++)
        free(argv[i]);
    free(argv);
}

static void blocked_clear(struct slurm *s, int64_t sweep_id);

/*
 * A configuration was pruned (daemon/adapt.c): scancel its running or pending
 * tasks; each ends 'pruned' with the epochs it stored (task_ended), and a
 * result it still prints is not recorded (store_slurm_done takes only a
 * running trial).  Tasks whose sbatch has not answered are scancelled once
 * their job id is known (on_sbatch).
 */
static void slurm_on_pruned(void *ud, int64_t sweep_id, int64_t config_idx)
{
    struct slurm *s = ud;
    struct task **ts = calloc(s->n + 1, sizeof *ts);
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        struct task *t = s->tasks[i];
        if (t->sweep_id != sweep_id || t->config_idx != config_idx || t->trial_id <= 0 ||
            t->cancel_req)
            continue;
        t->cancel_req = t->prune_req = true;
        if (ts && !t->in_flight)
            ts[k++] = t;
    }
    if (ts && k > 0)
        scancel_tasks(s, ts, k);
    free(ts);
    poll_soon(s);
}

static int x_cancel_sweep(struct exec *x, int64_t sweep_id)
{
    struct slurm *s = SLURM_OF(x);
    struct task **ts = calloc(s->n + 1, sizeof *ts);
    size_t k = 0;
    int count = 0;
    for (size_t i = 0; i < s->n; i++) {
        struct task *t = s->tasks[i];
        if (t->sweep_id != sweep_id || t->trial_id == 0 || t->cancel_req)
            continue;
        t->cancel_req = true;
        count++;
        if (ts && !t->in_flight)
            ts[k++] = t;
    }
    if (ts && k > 0)
        scancel_tasks(s, ts, k);
    free(ts);
    poll_soon(s);
    blocked_clear(s, sweep_id); /* a cancelled sweep is not waiting for Slurm */
    return count;
}

/*
 * Start-up: tasks still in Slurm whose configuration is pruned (adapt_recover
 * just took a decision a crash left untaken, or an earlier mlpd's scancel did
 * not end them before it died) are stopped as slurm_on_pruned stops them.
 * Those whose job id is not known yet are scancelled once it is (job_learnt).
 */
static void stop_pruned_attached(struct slurm *s)
{
    struct task **ts = calloc(s->n + 1, sizeof *ts);
    size_t k = 0;
    for (size_t i = 0; ts && i < s->n; i++) {
        struct task *t = s->tasks[i];
        int64_t ep = 0;
        struct err e = ERR_INIT;
        if (store_config_pruned_epoch(s->st, t->sweep_id, t->config_idx, &ep, &e) < 0) {
            log_error("trial %lld: %s", (long long)t->trial_id, e.msg);
            continue;
        }
        if (ep <= 0)
            continue;
        t->cancel_req = t->prune_req = true;
        log_info("trial %lld: its configuration was pruned at epoch %lld; stopping its Slurm "
                 "task",
                 (long long)t->trial_id, (long long)ep);
        if (t->job_id > 0)
            ts[k++] = t;
    }
    if (k > 0)
        scancel_tasks(s, ts, k);
    free(ts);
}

static bool terminal(const char *st);

/* A followed task's job id was just learnt (by name, after a restart): a task mlpd
   has asked to stop meanwhile is scancelled now. */
static void job_learnt(struct slurm *s, struct task *t)
{
    if (t->cancel_req && !terminal(t->state))
        scancel_tasks(s, &t, 1);
}

/* ---- submit ---- */

/* Tasks of the sweep followed now (submitted and not finished). */
static int sweep_unfinished(const struct slurm *s, int64_t sweep_id)
{
    int k = 0;
    for (size_t i = 0; i < s->n; i++)
        k += s->tasks[i]->sweep_id == sweep_id && s->tasks[i]->trial_id > 0;
    return k;
}

/* Remove path and what it holds (a batch directory: files, and directories of files). */
static void remove_tree(const char *path, int depth)
{
    DIR *d = depth < 4 ? opendir(path) : NULL;
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char sub[CONFIG_PATH_MAX + 256];
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            if (unlink(sub) < 0 && (errno == EISDIR || errno == EPERM))
                remove_tree(sub, depth + 1);
        }
        closedir(d);
    }
    rmdir(path);
}

/* The spool directory of a batch Slurm never took (sbatch failed): nothing ran there. */
static void spool_remove_batch(struct slurm *s, const char *batch)
{
    char dir[CONFIG_PATH_MAX + 80];
    snprintf(dir, sizeof dir, "%s/%s", s->o.spool, batch);
    remove_tree(dir, 0);
}

static void kick(struct slurm *s);

static void on_retry(uv_timer_t *h)
{
    struct slurm *s = h->data;
    s->retry_wait = false;
    kick(s);
}

static double now_s(const struct slurm *s)
{
    return (double)uv_now(s->loop) / 1000.0;
}

/* The sweep's entry (created when create), or NULL.  Call with s->mu held. */
static struct blocked *blocked_find(struct slurm *s, int64_t sweep_id, bool create)
{
    for (size_t i = 0; i < s->n_blk; i++)
        if (s->blk[i].sweep_id == sweep_id)
            return &s->blk[i];
    if (!create)
        return NULL;
    if (s->n_blk == s->cap_blk) {
        size_t cap = s->cap_blk ? 2 * s->cap_blk : 8;
        struct blocked *p = realloc(s->blk, cap * sizeof *p);
        if (!p)
            return NULL;
        s->blk = p;
        s->cap_blk = cap;
    }
    struct blocked *b = &s->blk[s->n_blk++];
    memset(b, 0, sizeof *b);
    b->sweep_id = sweep_id;
    return b;
}

/* The sweep was submitted (or cancelled): its note goes, in memory and in the store. */
static void blocked_clear(struct slurm *s, int64_t sweep_id)
{
    bool had = false;
    uv_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_blk; i++)
        if (s->blk[i].sweep_id == sweep_id) {
            s->blk[i] = s->blk[--s->n_blk];
            had = true;
            break;
        }
    uv_mutex_unlock(&s->mu);
    struct err e = ERR_INIT;
    if (had && store_slurm_block_clear(s->st, sweep_id, &e) < 0)
        log_error("sweep %lld: %s", (long long)sweep_id, e.msg);
}

/* Start-up: a note an earlier mlpd stored; the sweep is tried again at once. */
static int blocked_load(void *ud, const struct store_slurm_block *r)
{
    struct slurm *s = ud;
    struct blocked *b = blocked_find(s, r->sweep_id, true);
    if (!b)
        return MLP_ENOMEM;
    b->failures = r->failures;
    b->counted = r->counted;
    b->gave_up = r->gave_up;
    snprintf(b->msg, sizeof b->msg, "%s", r->message);
    if (!b->gave_up)
        log_info("sweep %lld: Slurm refused its submission %d time(s) before this start "
                 "(%d allowed): %s",
                 (long long)r->sweep_id, b->failures, s->o.submit_tries, b->msg);
    return 0;
}

int slurm_blocked(struct slurm *s, int64_t sweep_id, struct slurm_block *out)
{
    memset(out, 0, sizeof *out);
    if (!s)
        return 0;
    uv_mutex_lock(&s->mu);
    const struct blocked *b = blocked_find(s, sweep_id, false);
    if (b) {
        out->failures = b->failures;
        out->tries = s->o.submit_tries;
        out->counted = b->counted;
        out->gave_up = b->gave_up;
        snprintf(out->message, sizeof out->message, "%s", b->msg);
    }
    uv_mutex_unlock(&s->mu);
    return b ? 1 : 0;
}

size_t slurm_blocked_sweeps(struct slurm *s, int64_t *ids, size_t max)
{
    size_t k = 0;
    if (!s)
        return 0;
    uv_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_blk && k < max; i++)
        ids[k++] = s->blk[i].sweep_id;
    uv_mutex_unlock(&s->mu);
    return k;
}

/* What an sbatch failure means for the next try. */
enum sbatch_fail {
    FAIL_SWEEP,     /* about this sweep's request (a bad partition, account, option): counted */
    FAIL_LIMIT,     /* a site limit: a smaller array, or later, gets in */
    FAIL_TRANSIENT, /* the controller or the command: every sweep waits, nothing counted */
};

static enum sbatch_fail sbatch_classify(const char *msg)
{
    static const char *const limit[] = {"Invalid job array specification",
                                        "MaxArraySize",
                                        "job submit limit",
                                        "MaxSubmitJobs",
                                        "SubmitJobLimit",
                                        "MaxSubmitJob",
                                        "MaxJobCount",
                                        NULL};
    static const char *const transient[] = {"Unable to contact slurm controller",
                                            "Socket timed out",
                                            "Connection refused",
                                            "temporarily unable",
                                            "Zero Bytes were transmitted",
                                            "Resource temporarily unavailable",
                                            "Communication connection failure",
                                            "cannot run ",
                                            "killed after",
                                            NULL};
    for (int i = 0; limit[i]; i++)
        if (strstr(msg, limit[i]))
            return FAIL_LIMIT;
    for (int i = 0; transient[i]; i++)
        if (strstr(msg, transient[i]))
            return FAIL_TRANSIENT;
    return FAIL_SWEEP;
}

static void schedule_retry(struct slurm *s, double delay_s)
{
    if (s->draining)
        return;
    uint64_t ms = delay_s > 0 ? (uint64_t)(delay_s * 1000) : 0;
    /* The earliest wanted retry wins. */
    if (uv_is_active((uv_handle_t *)&s->retry) && uv_timer_get_due_in(&s->retry) <= ms)
        return;
    uv_timer_start(&s->retry, on_retry, ms, 0);
}

/*
 * sbatch failed for a batch of n trials of one sweep: update the note, then
 * shrink (a limit refused the array), wait (a limit or the controller), or
 * count the failure against the sweep; at submit_tries, why (size nwhy) gets
 * the error its queued trials fail with, else "".  *row gets the note to
 * store (false when none could be kept); *wait the seconds before the sweep
 * is tried again.
 */
static bool sbatch_failed(struct slurm *s, int64_t sweep_id, int n, const char *msg,
                          struct store_slurm_block *row, char *why, size_t nwhy, double *wait)
{
    enum sbatch_fail kind = sbatch_classify(msg);
    double now = now_s(s);
    *wait = SLURM_RETRY_MS / 1000.0;
    why[0] = '\0';
    if (kind == FAIL_LIMIT && n > 1) {
        s->max_array = n / 2;
        *wait = 0;
        log_warn("sweep %lld: a site limit refused an array of %d tasks; trying %d", (long long)sweep_id,
                 n, s->max_array);
    } else if (kind == FAIL_LIMIT) {
        *wait = SLURM_LIMIT_WAIT;
    } else if (kind == FAIL_TRANSIENT) {
        s->retry_wait = true; /* every sweep waits for the controller */
    }
    uv_mutex_lock(&s->mu);
    struct blocked *b = blocked_find(s, sweep_id, true);
    if (b) {
        snprintf(b->msg, sizeof b->msg, "%.590s", msg);
        b->until = now + *wait;
        b->counted = kind == FAIL_SWEEP;
        b->gave_up = false;
        if (b->counted && ++b->failures >= s->o.submit_tries) {
            snprintf(why, nwhy, "Slurm refused the submission %d times: %.700s", b->failures, msg);
            b->gave_up = true;
            b->failures = 0; /* a retry starts counting again */
        }
        *row = (struct store_slurm_block){.sweep_id = sweep_id,
                                          .failures = b->failures,
                                          .counted = b->counted,
                                          .gave_up = b->gave_up};
        snprintf(row->message, sizeof row->message, "%s", b->msg);
    }
    uv_mutex_unlock(&s->mu);
    return b != NULL;
}

/*
 * sbatch failed for a batch of n trials of sweep (0: none known), n_cancel of
 * them cancelled meanwhile: its trials are queued again with msg and, unless
 * the sweep was cancelled, its note updated, in one transaction, and its
 * retry scheduled.
 */
static void sbatch_refused(struct slurm *s, const char *batch, int64_t sweep, int n, int n_cancel,
                           const char *msg)
{
    struct store_slurm_block row;
    char why[800] = "";
    double wait = 0;
    struct err e = ERR_INIT;
    int64_t k = 0;
    bool blocked = sweep > 0 && n_cancel < n; /* a cancelled sweep is not blocked */
    bool noted = blocked && sbatch_failed(s, sweep, n, msg, &row, why, sizeof why, &wait);
    if (store_slurm_refused(s->st, batch, msg, noted ? &row : NULL, why[0] ? why : NULL, &k, &e) <
        0)
        log_error("batch %s: %s", batch, e.msg);
    else if (why[0])
        log_error("sweep %lld: %s; %lld queued trial(s) failed (mlpctl retry submits them "
                  "again)",
                  (long long)sweep, why, (long long)k);
    for (size_t i = 0; i < s->n; i++) {
        struct task *t = s->tasks[i];
        if (t->in_flight && strcmp(t->batch, batch) == 0)
            t->trial_id = 0; /* removed below; never in a poll snapshot (in flight) */
    }
    compact(s);
    /* Nothing of a batch that never ran is worth keeping. */
    spool_remove_batch(s, batch);
    if (blocked)
        schedule_retry(s, wait);
}

static void on_sbatch(struct cmd *c)
{
    struct slurm *s = c->s;
    char *batch = c->ud;
    struct err e = ERR_INIT;
    s->submitting = false;
    long long job = 0;
    bool ok =
        c->status == 0 && c->sig == 0 && c->obuf && sscanf(c->obuf, "%lld", &job) == 1 && job > 0;
    int64_t sweep = 0;
    int n = 0, n_cancel = 0;
    for (size_t i = 0; i < s->n; i++) {
        struct task *t = s->tasks[i];
        if (t->in_flight && strcmp(t->batch, batch) == 0) {
            sweep = t->sweep_id;
            n++;
            n_cancel += t->cancel_req;
        }
    }
    if (ok) {
        if (store_slurm_set_job(s->st, batch, job, &e) < 0)
            log_error("batch %s: job %lld: %s (found again by name on restart)", batch, job, e.msg);
        size_t nc = 0;
        struct task **cancel = calloc(s->n + 1, sizeof *cancel);
        for (size_t i = 0; i < s->n; i++) {
            struct task *t = s->tasks[i];
            if (!t->in_flight || strcmp(t->batch, batch) != 0)
                continue;
            t->in_flight = false;
            t->job_id = job;
            if (t->cancel_req && cancel)
                cancel[nc++] = t;
        }
        log_info("batch %s: Slurm job array %lld, %d task(s)", batch, job, n);
        /* mlpctl cancel came while sbatch ran: scancel now that the id is known. */
        if (nc > 0)
            scancel_tasks(s, cancel, nc);
        free(cancel);
        blocked_clear(s, sweep);
        poll_soon(s);
    } else {
        char msg[1200];
        snprintf(msg, sizeof msg, "sbatch failed (%s %lld): %s", c->sig ? "signal" : "exit",
                 (long long)(c->sig ? c->sig : c->status), cmd_errline(c));
        log_error("batch %s: %s; its trials are queued again", batch, msg);
        sbatch_refused(s, batch, sweep, n, n_cancel, msg);
    }
    free(batch);
    if (sweep > 0)
        notify(s, sweep);
    kick(s); /* other sweeps go on */
}

/*
 * The worker's spec (common/trialwire.h): the line a local worker reads on
 * stdin, written as <idx>.spec for the task of a claimed trial, whose
 * artifacts directory is created here.
 */
static int write_spec(const char *dir, int idx, const struct store_slurm_task *t)
{
    char path[CONFIG_PATH_MAX + 160];
    /* Artifacts go under the batch's directory (the shared spool): the state dir may be
       on the login node's own disk.  They are moved there once the task is over. */
    char art[CONFIG_PATH_MAX + 100], adir[CONFIG_PATH_MAX + 200];
    snprintf(art, sizeof art, "%s/artifacts", dir);
    struct err e = ERR_INIT;
    struct trial_spec *spec = malloc(sizeof *spec); /* paths: too big for the stack */
    char *line = NULL;
    if (!spec)
        err_set(&e, MLP_ENOMEM, NULL, "out of memory");
    else if (exec_artifacts_dir(art, t->trial_id, adir, sizeof adir, &e) == 0 &&
             trialwire_spec_init(spec, t->dataset_json, t->params_json, t->seed, t->trial_id,
                                 adir, &e) == 0)
        line = trialwire_spec_write(spec, &e);
    free(spec);
    if (!line) {
        log_error("trial %lld: %s%s%s", (long long)t->trial_id, e.path, e.path[0] ? ": " : "",
                  e.msg);
        return -1;
    }
    snprintf(path, sizeof path, "%s/%d.spec", dir, idx);
    /* 0600: a spec names the user's datasets and parameters. */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f && fd >= 0)
        close(fd);
    int rc = f && fprintf(f, "%s\n", line) > 0 ? 0 : -1;
    free(line);
    if (f && fclose(f) != 0)
        rc = -1;
    return rc;
}

/*
 * Seconds of a Slurm time limit (minutes, m:s, h:m:s, d-h, d-h:m, d-h:m:s);
 * 0 when none, unlimited or not understood.
 */
static long slurm_time_seconds(const char *t)
{
    long d = 0, a = 0, b = 0, c = 0;
    int n;
    if (!t || !t[0] || strchr(t, 'U') || strchr(t, 'I'))
        return 0;
    if (strchr(t, '-')) {
        n = sscanf(t, "%ld-%ld:%ld:%ld", &d, &a, &b, &c);
        return n < 2 ? 0 : d * 86400 + a * 3600 + (n > 2 ? b * 60 : 0) + (n > 3 ? c : 0);
    }
    n = sscanf(t, "%ld:%ld:%ld", &a, &b, &c);
    if (n == 1)
        return a * 60;
    if (n == 2)
        return a * 60 + b;
    return n == 3 ? a * 3600 + b * 60 + c : 0;
}

/* Split text on blanks into argv entries appended at argv[*k] (pointers into buf). */
static void split_args(char *buf, char **argv, size_t *k, size_t max)
{
    char *save = NULL;
    for (char *w = strtok_r(buf, " \t", &save); w && *k < max; w = strtok_r(NULL, " \t", &save))
        argv[(*k)++] = w;
}

/* The sweep's "slurm" settings from its stored grid; empty when it has none. */
static void sweep_settings(struct slurm *s, int64_t sweep_id, struct grid_slurm *gs)
{
    struct store_sweep sw;
    struct err e = ERR_INIT;
    memset(gs, 0, sizeof *gs);
    if (store_sweep_get(s->st, sweep_id, &sw, &e) < 0) {
        log_error("sweep %lld: %s; its array uses mlpd.conf's Slurm settings", (long long)sweep_id,
                  e.msg);
        return;
    }
    cJSON *doc = cJSON_Parse(sw.grid_json);
    const cJSON *v = doc ? cJSON_GetObjectItemCaseSensitive(doc, "slurm") : NULL;
    if (v && grid_slurm_parse(v, gs, &e) < 0) {
        log_error("sweep %lld: %s: %s; its array uses mlpd.conf's Slurm settings",
                  (long long)sweep_id, e.path, e.msg);
        memset(gs, 0, sizeof *gs);
    }
    cJSON_Delete(doc);
    store_sweep_release(&sw);
}

/*
 * Sweeps not to claim now, as a JSON array for store_slurm_claim: those a
 * failed sbatch holds back (the earliest retry is scheduled), and those with
 * slurm_array_limit unfinished tasks already (the limit is per sweep, across
 * its arrays).  NULL when none; caller frees.
 */
static char *skip_list(struct slurm *s)
{
    cJSON *a = cJSON_CreateArray();
    double now = now_s(s), next = 0;
    uv_mutex_lock(&s->mu);
    for (size_t i = 0; a && i < s->n_blk; i++) {
        const struct blocked *b = &s->blk[i];
        if (b->until > now) {
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)b->sweep_id));
            if (next == 0 || b->until < next)
                next = b->until;
        }
    }
    uv_mutex_unlock(&s->mu);
    for (size_t i = 0; a && i < s->n; i++) {
        int64_t id = s->tasks[i]->sweep_id;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = s->tasks[j]->sweep_id == id;
        if (!seen && sweep_unfinished(s, id) >= s->o.array_limit)
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)id));
    }
    if (next > 0)
        schedule_retry(s, next - now);
    char *out = a && cJSON_GetArraySize(a) > 0 ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return out;
}

/* Trials the next array may hold now (0: none, or not now). */
static int kick_room(struct slurm *s)
{
    if (s->draining || s->submitting || s->retry_wait || s->limits_pending)
        return 0;
    int room = s->o.max_tasks - (int)s->n;
    if (s->max_jobs > 0 && room > s->max_jobs - (int)s->n)
        room = s->max_jobs - (int)s->n;
    if (room <= 0)
        return 0;
    if (room > s->max_array)
        room = s->max_array;
    return room;
}

/*
 * Claim up to room queued trials of one sweep (*sweep) into batch, whose
 * directory dir is created with the first, writing each one's spec there and
 * following it (in flight).  The number claimed, or -1 when the directory
 * cannot be created (the trial goes back, every sweep waits).
 */
static int claim_batch(struct slurm *s, int room, const char *batch, const char *dir,
                       int64_t *sweep)
{
    struct err e = ERR_INIT;
    int n = 0;
    int64_t last_sweep = 0;
    char *skip = skip_list(s);
    /* One sweep per array: its "slurm" settings apply to the whole array. */
    for (; n < room; n++) {
        struct store_slurm_task t;
        int rc = store_slurm_claim_except(s->st, last_sweep, skip, batch, n, dir, &t, &e);
        if (rc < 0)
            log_error("slurm: %s", e.msg);
        if (rc <= 0)
            break;
        /* The batch's directory, once there is a trial to put in it. */
        if (n == 0 && mkdir(dir, 0700) < 0 && errno != EEXIST) {
            char msg[CONFIG_PATH_MAX + 200];
            snprintf(msg, sizeof msg, "cannot create the Slurm spool directory %s: %s", dir,
                     strerror(errno));
            log_error("%s", msg);
            if (store_slurm_unsubmit(s->st, batch, msg, &e) < 0)
                log_error("slurm: %s", e.msg);
            notify(s, t.sweep_id);
            store_slurm_task_release(&t);
            s->retry_wait = true;
            schedule_retry(s, SLURM_RETRY_MS / 1000.0);
            free(skip);
            return -1;
        }
        struct task *mt = write_spec(dir, n, &t) == 0 ? task_new(&t) : NULL;
        if (!mt || add_task(s, mt) < 0) {
            log_error("trial %lld: cannot write its spec in %s", (long long)t.trial_id, dir);
            if (store_trial_requeue(s->st, t.trial_id, false, "cannot write the Slurm spec file",
                                    &e) < 0)
                log_error("trial %lld: %s", (long long)t.trial_id, e.msg);
            task_free(mt);
            store_slurm_task_release(&t);
            break;
        }
        mt->in_flight = true;
        if (t.sweep_id != last_sweep)
            notify(s, t.sweep_id);
        last_sweep = t.sweep_id;
        store_slurm_task_release(&t);
    }
    free(skip);
    *sweep = last_sweep;
    return n;
}

/* One sbatch command line: argv and the buffers it points into. */
struct sbatch_line {
    char *argv[64];
    struct grid_slurm gs;
    char limit_s[32]; /* for the task script: a TIMEOUT it can tell without sacct */
    char array[64], cpus[32], threads[16], name[96], out[CONFIG_PATH_MAX + 120];
    char part[CONFIG_STR_MAX + 16], acct[CONFIG_STR_MAX + 16], tlim[CONFIG_STR_MAX + 16];
    char extra[CONFIG_STR_MAX];
};

/* The sbatch command line of batch (n trials of sweep, in dir) into l->argv. */
static void sbatch_line(struct slurm *s, struct sbatch_line *l, const char *batch,
                        const char *dir, int64_t sweep, int n)
{
    sweep_settings(s, sweep, &l->gs);
    const char *partition = l->gs.partition[0] ? l->gs.partition : s->o.partition;
    const char *account = l->gs.account[0] ? l->gs.account : s->o.account;
    const char *time_limit = l->gs.time[0] ? l->gs.time : s->o.time_limit;
    snprintf(l->limit_s, sizeof l->limit_s, "%ld", slurm_time_seconds(time_limit));
    /* slurm_array_limit is the sweep's: its earlier arrays' unfinished tasks count. */
    int throttle = s->o.array_limit - (sweep_unfinished(s, sweep) - n);
    snprintf(l->array, sizeof l->array, "--array=0-%d%%%d", n - 1, throttle > 0 ? throttle : 1);
    snprintf(l->cpus, sizeof l->cpus, "--cpus-per-task=%d", s->o.threads);
    snprintf(l->threads, sizeof l->threads, "%d", s->o.threads);
    snprintf(l->name, sizeof l->name, "--job-name=%s", batch);
    snprintf(l->out, sizeof l->out, "--output=%s/%%a.slurm.log", dir);
    char **argv = l->argv;
    size_t k = 0;
    argv[k++] = s->sbatch;
    argv[k++] = "--parsable";
    argv[k++] = "--no-requeue";
    argv[k++] = l->name;
    argv[k++] = l->array;
    argv[k++] = l->cpus;
    argv[k++] = l->out;
    if (partition[0]) {
        snprintf(l->part, sizeof l->part, "--partition=%s", partition);
        argv[k++] = l->part;
    }
    if (account[0]) {
        snprintf(l->acct, sizeof l->acct, "--account=%s", account);
        argv[k++] = l->acct;
    }
    if (time_limit[0]) {
        snprintf(l->tlim, sizeof l->tlim, "--time=%s", time_limit);
        argv[k++] = l->tlim;
    }
    if (l->gs.n_args > 0) {
        for (int i = 0; i < l->gs.n_args; i++)
            argv[k++] = l->gs.args[i];
    } else {
        snprintf(l->extra, sizeof l->extra, "%s", s->o.sbatch_args);
        split_args(l->extra, argv, &k, 50);
    }
    argv[k++] = s->script;
    argv[k++] = (char *)dir;
    argv[k++] = (char *)s->o.worker;
    argv[k++] = (char *)s->o.data_dir;
    argv[k++] = l->threads;
    argv[k++] = l->limit_s;
    argv[k] = NULL;
}

/* Run sbatch for batch (n trials of sweep, in dir); on_sbatch takes its answer. */
static void submit_batch(struct slurm *s, const char *batch, const char *dir, int64_t sweep,
                         int n)
{
    struct sbatch_line l;
    sbatch_line(s, &l, batch, dir, sweep, n);
    char *bcopy = strdup(batch);
    int rc = bcopy ? cmd_run(s, l.argv, on_sbatch, bcopy) : UV_ENOMEM;
    if (rc != 0) {
        /* Like a failed sbatch, without its output. */
        struct cmd fake = {.s = s, .status = 127, .ud = bcopy};
        snprintf(fake.ebuf, sizeof fake.ebuf, "cannot run %.1024s: %s", s->sbatch, uv_strerror(rc));
        s->submitting = true;
        if (!bcopy)
            return;
        on_sbatch(&fake);
        return;
    }
    s->submitting = true;
    log_info("batch %s: submitting %d trial(s) to Slurm", batch, n);
}

static void kick(struct slurm *s)
{
    int room = kick_room(s);
    if (room <= 0)
        return;
    char batch[64], dir[CONFIG_PATH_MAX + 80];
    unsigned r = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16) ^ (++s->seq * 2654435761u);
    snprintf(batch, sizeof batch, "mlpd-%08x-%u", r, s->seq);
    snprintf(dir, sizeof dir, "%s/%s", s->o.spool, batch);
    int64_t sweep = 0;
    int n = claim_batch(s, room, batch, dir, &sweep);
    if (n > 0)
        submit_batch(s, batch, dir, sweep, n);
}

static void x_kick(struct exec *x)
{
    kick(SLURM_OF(x));
}

/* ---- poll ---- */

static bool terminal(const char *st)
{
    static const char *const ends[] = {"COMPLETED",     "FAILED",       "TIMEOUT",   "NODE_FAIL",
                                       "PREEMPTED",     "CANCELLED",    "BOOT_FAIL", "DEADLINE",
                                       "OUT_OF_MEMORY", "SPECIAL_EXIT", "REVOKED",   NULL};
    for (int i = 0; ends[i]; i++)
        if (strcmp(st, ends[i]) == 0)
            return true;
    return false;
}

/*
 * The completion marker i.done, which the task script writes last (rename):
 * "rc=<exit> sig=<signal> out=<bytes of i.out> ...".  An older mlpd's task
 * wrote only i.rc (its exit code).  Read by open+read, never stat: on NFS
 * opening a file revalidates what the attribute cache says (close-to-open).
 */
static void read_marker(struct task *t)
{
    char path[CONFIG_PATH_MAX + 64], buf[256];
    t->have_done = false;
    t->rc = -1;
    t->sig = 0;
    t->out_size = -1;
    t->m_term = t->m_timeout = t->m_oom = false;
    snprintf(path, sizeof path, "%s/%d.done", t->dir, t->idx);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bool legacy = false;
    if (fd < 0) {
        snprintf(path, sizeof path, "%s/%d.rc", t->dir, t->idx);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        legacy = true;
    }
    if (fd < 0)
        return;
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[got > 0 ? got : 0] = '\0';
    if (legacy) {
        t->have_done = sscanf(buf, "%d", &t->rc) == 1;
        if (t->rc > 128)
            t->sig = t->rc - 128;
        return;
    }
    /* A marker is written whole by rename; one without its rc= is not one yet. */
    char *save = NULL;
    for (char *w = strtok_r(buf, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
        long v;
        char key[16];
        if (sscanf(w, "%15[a-z]=%ld", key, &v) != 2)
            continue;
        if (strcmp(key, "rc") == 0) {
            t->rc = (int)v;
            t->have_done = true;
        } else if (strcmp(key, "sig") == 0) {
            t->sig = (int)v;
        } else if (strcmp(key, "out") == 0) {
            t->out_size = v;
        } else if (strcmp(key, "term") == 0) {
            t->m_term = v != 0;
        } else if (strcmp(key, "timeout") == 0) {
            t->m_timeout = v != 0;
        } else if (strcmp(key, "oom") == 0) {
            t->m_oom = v != 0;
        }
    }
}

/* Copy one regular file (a new name first, then rename): 0 or -1. */
static int copy_file(const char *from, const char *to)
{
    char tmp[CONFIG_PATH_MAX + 600];
    snprintf(tmp, sizeof tmp, "%s.part", to);
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = in >= 0 ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    bool ok = in >= 0 && out >= 0;
    char buf[65536];
    ssize_t got;
    while (ok && (got = read(in, buf, sizeof buf)) != 0) {
        if (got < 0 || write(out, buf, (size_t)got) != got)
            ok = false;
    }
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0)
        ok = false;
    if (ok && rename(tmp, to) == 0)
        return 0;
    unlink(tmp);
    return -1;
}

/*
 * Move a finished task's artifacts from <batch dir>/artifacts/<trial> (the
 * spool) into <state dir>/artifacts/<trial>: rename when both are on one
 * filesystem, else copy each file and remove the original.  Pool thread.
 */
static void move_artifacts(const struct slurm *s, struct task *t)
{
    char from[CONFIG_PATH_MAX + 120], to[CONFIG_PATH_MAX + 40];
    snprintf(from, sizeof from, "%s/artifacts/%lld", t->dir, (long long)t->trial_id);
    snprintf(to, sizeof to, "%s/%lld", s->o.artifacts_dir, (long long)t->trial_id);
    DIR *d = opendir(from);
    if (!d)
        return; /* nothing (left) to move */
    rmdir(to); /* an empty one from an earlier attempt; rename needs it gone or empty */
    if (rename(from, to) == 0) {
        closedir(d);
        return;
    }
    if (mkdir(to, 0700) < 0 && errno != EEXIST) {
        closedir(d);
        return;
    }
    struct dirent *de;
    bool all = true;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char a[sizeof from + 256], b[sizeof to + 256];
        snprintf(a, sizeof a, "%s/%s", from, de->d_name);
        snprintf(b, sizeof b, "%s/%s", to, de->d_name);
        if (copy_file(a, b) == 0)
            unlink(a);
        else
            all = false;
    }
    closedir(d);
    if (all)
        rmdir(from);
}

/* Read the task's new output (pool thread: touches only t's own fields). */
static void read_task(const struct slurm *s, struct task *t)
{
    char path[CONFIG_PATH_MAX + 64];
    t->rlen = 0;
    t->reread = false;
    t->have_out = false;
    t->tail[0] = '\0';
    /* The marker first: when it is there, i.out was complete before it was written. */
    read_marker(t);
    /* Before the result is recorded, so they are in place when it is: once the marker
       is there, or once Slurm said a task with a result ended (its marker may lag). */
    if (t->have_done || (t->result && t->over_at > 0))
        move_artifacts(s, t);
    snprintf(path, sizeof path, "%s/%d.out", t->dir, t->idx);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        struct stat sb;
        t->have_out = true;
        long from = t->off;
        if (fstat(fd, &sb) == 0 && (long)sb.st_size < from && (t->have_done || !t->listed)) {
            /* Shorter than what was read: written again from the start.  (A cached size
               may be stale, so only trust it once the task is over; reading again is
               harmless: epoch rows and results are idempotent.) */
            t->reread = true;
            from = 0;
        }
        /* Read to end of file rather than to a size the attribute cache may hold. */
        size_t cap = 0;
        while (t->rlen < SLURM_READ_MAX) {
            if (t->rlen == cap) {
                size_t ncap = cap ? 2 * cap : 65536;
                if (ncap > SLURM_READ_MAX)
                    ncap = SLURM_READ_MAX;
                char *b = realloc(t->rbuf, ncap);
                if (!b)
                    break;
                t->rbuf = b;
                cap = ncap;
            }
            ssize_t got = pread(fd, t->rbuf + t->rlen, cap - t->rlen, from + (long)t->rlen);
            if (got <= 0)
                break;
            t->rlen += (size_t)got;
        }
        close(fd);
    }
    if (t->have_done || terminal(t->state) || (!t->listed && t->job_id > 0)) {
        snprintf(path, sizeof path, "%s/%d.err", t->dir, t->idx);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            struct stat sb;
            if (fstat(fd, &sb) == 0 && sb.st_size > 0) {
                off_t from = sb.st_size > 400 ? sb.st_size - 400 : 0;
                ssize_t got = pread(fd, t->tail, 400, from);
                t->tail[got > 0 ? got : 0] = '\0';
                for (char *p = t->tail; *p; p++)
                    if (*p == '\n' || (unsigned char)*p < 0x20)
                        *p = ' ';
            }
            close(fd);
        }
    }
}

static void work_read(uv_work_t *w)
{
    struct slurm *s = w->data;
    for (size_t i = 0; i < s->n_snap; i++)
        read_task(s, s->snap[i]);
}

/* Handle one line of a task's output; false when an epoch could not be written. */
static bool task_line(struct slurm *s, struct task *t, const char *line, size_t len)
{
    struct trial_event ev;
    int kind = trialwire_event_read(line, len, &ev);
    bool ok = true;
    if (kind == TRIAL_EV_EPOCH && !t->prune_req) { /* a pruned trial ends where it was stopped */
        struct err e = ERR_INIT;
        if (store_epoch_add(s->st, t->trial_id, t->attempt, ev.epoch, ev.v,
                            trialwire_epoch_lr(&ev), &e) < 0) {
            log_error("trial %lld: %s (read again at the next poll)", (long long)t->trial_id,
                      e.msg);
            ok = false;
        } else if (adapt_after_epoch(s->st, t->sweep_id, ev.epoch, slurm_on_pruned, s, &e) < 0) {
            /* Decide at a rung (sweeps with "prune"), as for local trials (sched.c). */
            log_error("sweep %lld: pruning decision at epoch %lld: %s", (long long)t->sweep_id,
                      (long long)ev.epoch, e.msg);
        }
    } else if (kind == TRIAL_EV_RESULT) {
        struct trial_event *r = t->result ? t->result : malloc(sizeof *r);
        if (r) {
            trialwire_event_release(t->result);
            *r = ev; /* owns its confusion matrix now */
            t->result = r;
            return true;
        }
        log_error("trial %lld: out of memory keeping its result (read again at the next poll)",
                  (long long)t->trial_id);
        ok = false;
    } else if (kind == TRIAL_EV_ERROR) {
        /* Longer texts are cut (codes are short; a message keeps its start). */
        snprintf(t->err_code, sizeof t->err_code, "%.31s", ev.code);
        snprintf(t->err_msg, sizeof t->err_msg, "%.200s%s%.300s", ev.path, ev.path[0] ? ": " : "",
                 ev.message[0] ? ev.message : "error");
    } else if (kind < 0) {
        log_error("trial %lld: out of memory reading its output (read again at the next poll)",
                  (long long)t->trial_id);
        ok = false;
    }
    trialwire_event_release(&ev);
    return ok;
}

/* Record the result: true when the task is over (recorded now or before). */
static bool task_result(struct slurm *s, struct task *t)
{
    struct store_result res;
    struct err e = ERR_INIT;
    int rc = store_result_from_event(&res, t->result);
    if (rc < 0)
        err_set(&e, rc, NULL, "out of memory");
    else
        rc = store_slurm_done(s->st, t->trial_id, t->attempt, &res, &e);
    store_result_release(&res);
    if (rc < 0) {
        log_error("trial %lld: recording its result failed: %s; trying again",
                  (long long)t->trial_id, e.msg);
        return false;
    }
    if (rc == 1)
        log_info("trial %lld done (Slurm task %lld_%d)", (long long)t->trial_id,
                 (long long)t->job_id, t->idx);
    return true;
}

/* A task over without a result: record why.  True when recorded. */
static bool task_ended(struct slurm *s, struct task *t, bool gone)
{
    struct err e = ERR_INIT;
    char msg[1400], where[96];
    snprintf(where, sizeof where, "Slurm task %lld_%d", (long long)t->job_id, t->idx);
    const char *st = gone ? "vanished" : t->state;
    /* Slurm's own word is missing (the task left squeue and no accounting answered) or
       plain FAILED: the task's marker tells a time limit or an OOM kill itself. */
    bool unsure = gone || !terminal(t->state) || strcmp(t->state, "FAILED") == 0;
    if (unsure && t->have_done && t->m_timeout)
        st = "TIMEOUT";
    else if (unsure && t->have_done && t->m_oom)
        st = "OUT_OF_MEMORY";
    enum { RETRY, RETRY_FREE, FAIL, CANCEL, PRUNE } what = RETRY;
    if (t->prune_req) {
        /* Its configuration was pruned (slurm_on_pruned): it ends 'pruned', epochs kept. */
        what = PRUNE;
        snprintf(msg, sizeof msg, "%s: pruned", where);
    } else if (t->cancel_req) {
        /* mlpctl cancel asked for it: whatever Slurm made of it (a pending task
           scancelled may leave squeue at once), it ends cancelled. */
        what = CANCEL;
        snprintf(msg, sizeof msg, "%s: cancelled", where);
    } else if (t->rc == 4 || strcmp(t->err_code, "invalid_spec") == 0 ||
               strcmp(t->err_code, "invalid_dataset") == 0) {
        what = FAIL;
        snprintf(msg, sizeof msg, "%s%s", t->err_msg[0] ? "" : "invalid trial (worker exit 4)",
                 t->err_msg);
    } else if (strcmp(t->err_code, "timeout") == 0) {
        what = FAIL;
        snprintf(msg, sizeof msg, "timeout: %s", t->err_msg);
    } else if (strcmp(st, "TIMEOUT") == 0 || strcmp(st, "DEADLINE") == 0) {
        what = FAIL;
        snprintf(msg, sizeof msg, "%s: Slurm time limit reached (%s)", where, st);
    } else if (strcmp(st, "OUT_OF_MEMORY") == 0) {
        what = FAIL; /* the same trial with the same memory would run out again */
        snprintf(msg, sizeof msg,
                 "out of memory: %s was killed for memory (OUT_OF_MEMORY%s); give it more "
                 "with the sweep's \"slurm\": {\"sbatch_args\": [\"--mem=...\"]}",
                 where,
                 strcmp(t->state, "OUT_OF_MEMORY") != 0 ? ", from its completion marker" : "");
    } else if (strcmp(st, "CANCELLED") == 0) {
        struct store_sweep sw;
        bool cancelled = t->cancel_req;
        if (!cancelled && store_sweep_get(s->st, t->sweep_id, &sw, &e) == 0) {
            cancelled = sw.cancelled;
            store_sweep_release(&sw);
        }
        what = cancelled ? CANCEL : FAIL;
        snprintf(msg, sizeof msg, "%s: cancelled in Slurm (scancel outside mlpd)", where);
    } else if (strcmp(st, "NODE_FAIL") == 0 || strcmp(st, "PREEMPTED") == 0 ||
               strcmp(st, "BOOT_FAIL") == 0) {
        what = RETRY_FREE;
        snprintf(msg, sizeof msg, "%s: %s", where, st);
    } else {
        char why[160];
        if (gone)
            snprintf(why, sizeof why, "left Slurm without a result%s",
                     t->have_out ? "" : " or any output");
        else if (t->sig > 0)
            snprintf(why, sizeof why, "%s, worker killed by signal %d (%s)", st, t->sig,
                     strsignal(t->sig));
        else if (t->rc >= 0)
            snprintf(why, sizeof why, "%s, worker exit code %d", st, t->rc);
        else
            snprintf(why, sizeof why, "%s", st);
        snprintf(msg, sizeof msg, "%s: %s%s%s%s%s", where, why, t->err_msg[0] ? ": " : "",
                 t->err_msg, t->tail[0] ? "; log: " : "", t->tail);
    }
    int rc;
    if (what == PRUNE) {
        rc = store_trial_pruned(s->st, t->trial_id, &e);
        log_info("trial %lld pruned (%s scancelled)", (long long)t->trial_id, where);
    } else if (what == CANCEL) {
        rc = store_trial_cancelled(s->st, t->trial_id, &e);
        log_info("trial %lld cancelled (%s)", (long long)t->trial_id, where);
    } else if (what == FAIL || (what == RETRY && t->attempt >= s->o.max_attempts)) {
        if (what == RETRY) {
            size_t l = strlen(msg);
            snprintf(msg + l, sizeof msg - l, " (after %d attempts)", t->attempt);
        }
        rc = store_trial_fail(s->st, t->trial_id, msg, &e);
        log_warn("trial %lld failed: %s", (long long)t->trial_id, msg);
    } else {
        rc = store_trial_requeue(s->st, t->trial_id, what == RETRY, msg, &e);
        log_warn("trial %lld attempt %d: %s; re-queued", (long long)t->trial_id, t->attempt, msg);
    }
    if (rc < 0) {
        log_error("trial %lld: recording its end failed: %s; trying again", (long long)t->trial_id,
                  e.msg);
        return false;
    }
    return true;
}

/* Apply one task's poll; true when the task is over and leaves the array. */
static bool apply_task(struct slurm *s, struct task *t)
{
    if (t->reread) {
        t->off = 0;
        line_buf_release(&t->lb);
        line_buf_init(&t->lb, 1u << 20);
    }
    if (t->rlen > 0) {
        line_buf_feed(&t->lb, t->rbuf, t->rlen);
        t->off += (long)t->rlen;
        char *line;
        size_t len;
        while (line_buf_next(&t->lb, &line, &len) == 1) {
            if (!task_line(s, t, line, len)) {
                /* Read the whole file again next time (epoch rows are idempotent). */
                t->off = 0;
                line_buf_release(&t->lb);
                line_buf_init(&t->lb, 1u << 20);
                return false;
            }
        }
    }
    /* A task an earlier mlpd submitted without learning its job id, and squeue does not
       know by name: let accounting name its job (and state) first (poll_names). */
    if (t->job_id == 0 && !t->listed && s->acct != ACCT_NONE && t->name_asked < 1)
        return false;
    /* The result once the marker says the task is over: its artifacts are then complete
       (and moved, read_task).  A result line is printed just before the worker exits. */
    if (t->result && t->have_done && !t->prune_req) /* a pruned one's result is not recorded */
        return task_result(s, t);
    /* Gone: left squeue, and sacct (when it answers) gave no final state. */
    bool gone = t->job_id > 0 && t->missing >= SLURM_GONE_POLLS &&
                (s->acct == ACCT_NONE || t->acct_asked >= SLURM_ACCT_TRIES ||
                 (s->acct == ACCT_COMP && t->raw_id == 0));
    /* The marker alone ends a task only when Slurm cannot say more: its final state
       (NODE_FAIL, PREEMPTED...) comes from squeue, or sacct once it left squeue. */
    bool over = terminal(t->state) || gone || (t->have_done && !t->listed && t->job_id <= 0);
    if (over) {
        /* A finished task's files may reach this host well after Slurm says it ended:
           an NFS client trusts its cached "no such file" and file sizes for up to
           acdirmax/acregmax.  Without the marker, or with fewer bytes of i.out than
           it names, wait up to slurm_grace seconds (one poll for a task mlpctl cancel
           asked to stop) before judging the task by what is there. */
        double now = (double)uv_now(s->loop) / 1000.0;
        if (t->over_at <= 0)
            t->over_at = now;
        bool complete = t->have_done && (t->out_size < 0 || t->off >= t->out_size);
        double wait = t->cancel_req ? 0 : s->o.grace;
        if (!complete && (t->grace++ < 1 || now - t->over_at < wait))
            return false;
        if (t->result)
            return task_result(s, t); /* never discard a result that exists */
        if (!complete)
            log_warn("trial %lld: Slurm task %lld_%d ended %.0f s ago and its completion "
                     "marker %s/%d.done %s; judged by the files there",
                     (long long)t->trial_id, (long long)t->job_id, t->idx, now - t->over_at, t->dir,
                     t->idx, t->have_done ? "names more output than is readable" : "is missing");
        return task_ended(s, t, gone && !terminal(t->state));
    }
    if (t->result)
        return false; /* the marker comes next */
    if (strcmp(t->state, t->stored_state) != 0) {
        struct err e = ERR_INIT;
        if (store_slurm_set_state(s->st, t->trial_id, t->state, &e) == 0)
            snprintf(t->stored_state, sizeof t->stored_state, "%s", t->state);
    }
    return false;
}

static void after_read(uv_work_t *w, int status)
{
    struct slurm *s = w->data;
    (void)status;
    int64_t changed[64];
    size_t n_changed = 0;
    bool any_over = false;
    for (size_t i = 0; i < s->n_snap && !s->draining; i++) {
        struct task *t = s->snap[i];
        if (apply_task(s, t)) {
            bool seen = false;
            for (size_t k = 0; k < n_changed; k++)
                seen = seen || changed[k] == t->sweep_id;
            if (!seen && n_changed < sizeof changed / sizeof changed[0])
                changed[n_changed++] = t->sweep_id;
            t->trial_id = 0;
            any_over = true;
        } else if (t->rlen > 0 && n_changed < sizeof changed / sizeof changed[0]) {
            changed[n_changed++] = t->sweep_id; /* new epochs: watchers update */
        }
        t->rlen = 0;
    }
    free(s->snap);
    s->snap = NULL;
    s->n_snap = 0;
    s->polling = false;
    /* Back-off: after polls that changed nothing (tasks pending, or silent), let 1, 3,
       then 7 ticks pass before the next one; anything new polls at once again. */
    if (n_changed > 0 || any_over || s->poll_changed) {
        s->idle = 0;
        s->skip = 0;
    } else {
        s->idle++;
        s->skip = s->idle >= 3 ? 7 : s->idle >= 2 ? 3 : 1;
    }
    s->poll_changed = false;
    compact(s);
    /* Racing on seeds / confirmation: trials that ended may queue more (adapt.h),
     * before watchers hear of the change. */
    for (size_t k = 0; any_over && k < n_changed; k++) {
        int64_t added = 0;
        struct err e = ERR_INIT;
        if (adapt_after_trial(s->st, changed[k], &added, &e) < 0)
            log_error("sweep %lld: racing decision: %s", (long long)changed[k], e.msg);
    }
    for (size_t k = 0; k < n_changed; k++)
        notify(s, changed[k]);
    if (any_over)
        kick(s);
}

static void poll_names(struct slurm *s);
static void poll_acct(struct slurm *s);
static void poll_files(struct slurm *s);
static void spool_prune(struct slurm *s);

/* The squeue answer: "name|jobid|index|STATE|own job id" per task. */
static void on_squeue(struct cmd *c)
{
    struct slurm *s = c->s;
    if (s->draining) {
        s->polling = false;
        return;
    }
    if (c->status != 0 || c->sig != 0) {
        if (!s->squeue_warned)
            log_warn("squeue failed (exit %lld): %s; tasks are followed again when it works",
                     (long long)c->status, cmd_errline(c));
        s->squeue_warned = true;
        s->polling = false;
        return;
    }
    s->squeue_warned = false;
    for (size_t i = 0; i < s->n; i++)
        s->tasks[i]->listed = false;
    char *save = NULL;
    for (char *line = c->obuf ? strtok_r(c->obuf, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        char name[128], state[32];
        long long job, raw = 0;
        int idx;
        if (sscanf(line, "%127[^|]|%lld|%d|%31[^|]|%lld", name, &job, &idx, state, &raw) < 4)
            continue;
        for (size_t i = 0; i < s->n; i++) {
            struct task *t = s->tasks[i];
            if (t->idx != idx || t->in_flight || strcmp(t->batch, name) != 0)
                continue;
            t->listed = true;
            t->acct_asked = 0;
            if (raw > 0)
                t->raw_id = raw;
            if (strcmp(t->state, state) != 0)
                s->poll_changed = true;
            snprintf(t->state, sizeof t->state, "%s", state);
            if (t->job_id == 0 && job > 0) {
                struct err e = ERR_INIT;
                t->job_id = job;
                log_info("trial %lld: found its Slurm task %lld_%d again by name",
                         (long long)t->trial_id, job, idx);
                if (store_slurm_set_job(s->st, t->batch, job, &e) < 0)
                    log_error("%s", e.msg);
                job_learnt(s, t);
            }
        }
    }
    for (size_t i = 0; i < s->n; i++) {
        struct task *t = s->tasks[i];
        if (!t->in_flight)
            t->missing = t->listed ? 0 : t->missing + 1;
        if (!t->in_flight && !t->listed)
            s->poll_changed = true; /* a task left squeue: keep looking closely */
    }
    poll_names(s);
}

/*
 * A batch an earlier mlpd submitted without learning its job id (it died while
 * sbatch ran), which squeue does not know by its name: the controller may have
 * forgotten it after it ran (MinJobAge, a restart).  Look it up by name in
 * accounting, so a batch that ran is followed (its results ingested from the
 * spool) rather than declared lost and submitted again.
 */
static bool name_wanted(const struct slurm *s, const struct task *t)
{
    return s->acct != ACCT_NONE && !t->in_flight && !t->listed && t->job_id == 0 &&
           t->missing >= SLURM_GONE_POLLS;
}

/* The tasks of the lookup in flight leave it; answered: whether it counts. */
static void names_end(struct slurm *s, bool answered)
{
    for (size_t i = 0; i < s->n; i++) {
        struct task *t = s->tasks[i];
        if (t->name_q && answered)
            t->name_asked++;
        t->name_q = false;
    }
}

/*
 * The lookup's answer: "JobName|JobID|JobIDRaw|State" per job.  slurmdbd names
 * an array task J_i (its job and index: its state is taken); the completion log
 * only the task's own id, whose array index it does not keep, so there the
 * batch's job id is the smallest of them (the array's own record, the first id
 * it was given) and each task's files decide how it ended.
 */
static void on_sacct_names(struct cmd *c)
{
    struct slurm *s = c->s;
    if (s->draining) {
        s->polling = false;
        return;
    }
    if (c->status != 0 || c->sig != 0) {
        const char *off = "accounting storage is disabled";
        if (s->acct == ACCT_DBD &&
            (strstr(c->ebuf, off) || (c->obuf && strstr(c->obuf, off)))) {
            log_info("sacct: Slurm accounting storage is disabled; reading the job completion "
                     "log (sacct --completion) instead");
            s->acct = ACCT_COMP;
            s->names_at = 0; /* again at the next poll */
            names_end(s, false);
        } else {
            log_warn("sacct (lookup by job name) failed (exit %lld): %s", (long long)c->status,
                     cmd_errline(c));
            names_end(s, true); /* the files decide, as without accounting */
        }
        poll_acct(s);
        return;
    }
    char *save = NULL;
    for (char *line = c->obuf ? strtok_r(c->obuf, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        char name[128], id[64], state[32] = "";
        long long raw = 0, job = 0;
        int idx = -1;
        if (sscanf(line, "%127[^|]|%63[^|]|%lld|%31[^| ]", name, id, &raw, state) < 3)
            continue;
        /* J_i; J_[a-b] (pending, in slurmdbd); a task's own id (completion log). */
        bool indexed = sscanf(id, "%lld_%d", &job, &idx) == 2;
        if (sscanf(id, "%lld", &job) != 1 || job <= 0)
            continue;
        for (size_t i = 0; i < s->n; i++) {
            struct task *t = s->tasks[i];
            if (!name_wanted(s, t) && !(t->job_id > 0 && t->name_found))
                continue;
            if (strcmp(t->batch, name) != 0 || (indexed && t->idx != idx))
                continue;
            if (t->job_id > 0 && t->job_id <= job)
                continue; /* the array's id is the smallest */
            t->job_id = job;
            t->name_found = true;
            if (indexed) {
                t->raw_id = raw;
                if (terminal(state))
                    snprintf(t->state, sizeof t->state, "%s", state);
            }
        }
    }
    for (size_t i = 0; i < s->n; i++) {
        struct task *t = s->tasks[i];
        if (!t->name_found || t->name_saved)
            continue;
        struct err e = ERR_INIT;
        log_info("trial %lld: found its Slurm task %lld_%d again by name (from sacct%s)%s%s",
                 (long long)t->trial_id, (long long)t->job_id, t->idx,
                 s->acct == ACCT_COMP ? " --completion" : "", t->state[0] ? ", ended " : "",
                 t->state);
        if (store_slurm_set_job(s->st, t->batch, t->job_id, &e) < 0)
            log_error("%s", e.msg);
        t->name_saved = true;
        job_learnt(s, t);
        s->poll_changed = true;
    }
    names_end(s, true);
    poll_acct(s);
}

/* Look up the batches of name_wanted tasks in accounting (every SLURM_NAMES_EVERY s). */
static void poll_names(struct slurm *s)
{
    size_t len = 16, n = 0;
    double first = 0;
    for (size_t i = 0; i < s->n; i++)
        if (name_wanted(s, s->tasks[i])) {
            len += strlen(s->tasks[i]->batch) + 1;
            n++;
            if (first <= 0 || s->tasks[i]->submitted < first)
                first = s->tasks[i]->submitted;
        }
    if (n == 0 || (s->names_at > 0 && now_s(s) - s->names_at < SLURM_NAMES_EVERY)) {
        poll_acct(s);
        return;
    }
    char *names = malloc(len);
    if (!names) {
        poll_acct(s);
        return;
    }
    /* ",a,b," while built, so that a batch is named once; sacct gets "a,b". */
    size_t o = 1;
    names[0] = ',';
    names[1] = '\0';
    for (size_t i = 0; i < s->n; i++) {
        struct task *t = s->tasks[i];
        char want[140];
        snprintf(want, sizeof want, ",%s,", t->batch);
        if (!name_wanted(s, t))
            continue;
        t->name_q = true;
        if (strstr(names, want))
            continue;
        o += (size_t)snprintf(names + o, len - o, "%s,", t->batch);
    }
    names[o - 1] = '\0';
    /* From a minute before the first submission (sacct's default is today only). */
    time_t since = (time_t)first - 60;
    struct tm tm;
    char start[32];
    localtime_r(&since, &tm);
    strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%S", &tm);
    char *argv[] = {s->sacct, "-n", "-P", "-X", "-o", "JobName,JobID,JobIDRaw,State",
                    "-S",     start, "--name", names + 1, NULL, NULL};
    if (s->acct == ACCT_COMP)
        argv[10] = "--completion";
    s->names_at = now_s(s);
    int rc = cmd_run(s, argv, on_sacct_names, NULL);
    free(names);
    if (rc != 0) {
        names_end(s, true);
        log_warn("cannot run %s: %s", s->sacct, uv_strerror(rc));
        poll_acct(s);
    }
}

/* Tasks that left squeue without a final state, to ask sacct about. */
static bool acct_wanted(const struct slurm *s, const struct task *t)
{
    return s->acct != ACCT_NONE && !t->in_flight && !t->listed && t->job_id > 0 &&
           t->missing >= SLURM_GONE_POLLS && !terminal(t->state) &&
           t->acct_asked < SLURM_ACCT_TRIES && (s->acct == ACCT_DBD || t->raw_id > 0);
}

/* The tasks of the sacct query in flight leave it; answered: whether sacct answered. */
static void acct_end(struct slurm *s, bool answered)
{
    for (size_t i = 0; i < s->n; i++) {
        struct task *t = s->tasks[i];
        if (t->acct_q && answered)
            t->acct_asked++;
        t->acct_q = false;
    }
}

/* The sacct answer: "JobID|JobIDRaw|State|ExitCode" per job. */
static void on_sacct(struct cmd *c)
{
    struct slurm *s = c->s;
    if (s->draining) {
        s->polling = false;
        return;
    }
    if (c->status != 0 || c->sig != 0) {
        bool disabled =
            s->acct == ACCT_DBD && (strstr(c->ebuf, "accounting storage is disabled") ||
                                    (c->obuf && strstr(c->obuf, "accounting storage is disabled")));
        acct_end(s, !disabled); /* a failure counts as an answer: the files decide in the end */
        if (disabled) {
            log_info("sacct: Slurm accounting storage is disabled; reading the job completion "
                     "log (sacct --completion) instead");
            s->acct = ACCT_COMP;
            poll_acct(s);
            return;
        }
        if (s->acct == ACCT_COMP) {
            log_warn("sacct --completion failed (exit %lld): %s; tasks that leave squeue are "
                     "judged by their files",
                     (long long)c->status, cmd_errline(c));
            s->acct = ACCT_NONE;
        } else {
            log_warn("sacct failed (exit %lld): %s", (long long)c->status, cmd_errline(c));
        }
        poll_files(s);
        return;
    }
    char *save = NULL;
    for (char *line = c->obuf ? strtok_r(c->obuf, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        char id[64], state[32];
        long long raw;
        if (sscanf(line, "%63[^|]|%lld|%31[^| ]", id, &raw, state) != 3 || !terminal(state))
            continue;
        for (size_t i = 0; i < s->n; i++) {
            struct task *t = s->tasks[i];
            char want[64];
            snprintf(want, sizeof want, "%lld_%d", (long long)t->job_id, t->idx);
            if (!t->acct_q || !((t->raw_id > 0 && t->raw_id == raw) || strcmp(id, want) == 0))
                continue;
            snprintf(t->state, sizeof t->state, "%s", state);
            log_info("trial %lld: Slurm task %s ended %s (from sacct%s)", (long long)t->trial_id,
                     want, state, s->acct == ACCT_COMP ? " --completion" : "");
        }
    }
    acct_end(s, true);
    poll_files(s);
}

/*
 * Ask sacct for the final state of the tasks that left squeue (the
 * controller forgot them: MinJobAge passed, or it restarted), then read the
 * files.  Only a terminal state from sacct is taken; without one the files
 * decide after SLURM_ACCT_TRIES polls.
 */
static void poll_acct(struct slurm *s)
{
    size_t len = 16, n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (acct_wanted(s, s->tasks[i])) {
            len += 48;
            n++;
        }
    if (n == 0) {
        poll_files(s);
        return;
    }
    char *ids = malloc(len);
    if (!ids) {
        poll_files(s);
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < s->n; i++) {
        struct task *t = s->tasks[i];
        if (!acct_wanted(s, t))
            continue;
        t->acct_q = true;
        /* slurmdbd knows array tasks as J_i; the completion log only by their own id. */
        if (s->acct == ACCT_DBD)
            o += (size_t)snprintf(ids + o, len - o, "%s%lld_%d", o ? "," : "", (long long)t->job_id,
                                  t->idx);
        else
            o += (size_t)snprintf(ids + o, len - o, "%s%lld", o ? "," : "", (long long)t->raw_id);
    }
    char *argv[] = {s->sacct, "-n", "-P", "-X", "-o", "JobID,JobIDRaw,State,ExitCode",
                    "-j",     ids,  NULL, NULL};
    if (s->acct == ACCT_COMP)
        argv[8] = "--completion";
    int rc = cmd_run(s, argv, on_sacct, NULL);
    free(ids);
    if (rc != 0) {
        acct_end(s, false);
        log_warn("cannot run %s: %s; tasks that leave squeue are judged by their files", s->sacct,
                 uv_strerror(rc));
        s->acct = ACCT_NONE;
        poll_files(s);
    }
}

/* Read the followed tasks' files on the thread pool; after_read applies them. */
static void poll_files(struct slurm *s)
{
    /* Snapshot the tasks to poll; tasks of an unanswered sbatch are not polled. */
    s->snap = calloc(s->n + 1, sizeof *s->snap);
    if (!s->snap) {
        s->polling = false;
        return;
    }
    s->n_snap = 0;
    struct err e = ERR_INIT;
    for (size_t i = 0; i < s->n; i++) {
        struct task *t = s->tasks[i];
        if (t->in_flight)
            continue;
        if (t->job_id == 0 && !t->listed && t->missing >= SLURM_GONE_POLLS &&
            (s->acct == ACCT_NONE || t->name_asked > 0) &&
            (double)time(NULL) - t->submitted > SLURM_LOST_AFTER) {
            /* Submitted by a daemon that died before sbatch answered, and still unknown
               to squeue (by the batch's unique job name) SLURM_LOST_AFTER seconds after:
               that sbatch, which outlives its daemon, would have answered by now.  If it
               left no output it never ran; queue the trial again.  (open, not stat: see
               read_marker.) */
            char path[CONFIG_PATH_MAX + 64];
            snprintf(path, sizeof path, "%s/%d.out", t->dir, t->idx);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd >= 0)
                close(fd);
            if (fd < 0) {
                log_warn("trial %lld: its submission (%s) is unknown to Slurm; queued again",
                         (long long)t->trial_id, t->batch);
                if (store_trial_requeue(s->st, t->trial_id, false,
                                        "its Slurm submission was lost; queued again", &e) < 0)
                    log_error("trial %lld: %s", (long long)t->trial_id, e.msg);
                else
                    t->cancel_req = true, t->trial_id = -t->trial_id;
                continue;
            }
            t->job_id = -1; /* ran, then aged out of squeue: judge it by its files */
        }
        s->snap[s->n_snap++] = t;
    }
    /* Tasks re-queued above leave now (never in the snapshot). */
    bool requeued = false;
    for (size_t i = 0; i < s->n; i++)
        if (s->tasks[i]->trial_id < 0) {
            notify(s, s->tasks[i]->sweep_id);
            s->tasks[i]->trial_id = 0;
            requeued = true;
        }
    compact(s);
    if (requeued)
        kick(s); /* submit them again now, not at the next unrelated event */
    s->work.data = s;
    if (s->n_snap == 0 || uv_queue_work(s->loop, &s->work, work_read, after_read) != 0) {
        free(s->snap);
        s->snap = NULL;
        s->n_snap = 0;
        s->polling = false;
    }
}

static void on_tick(uv_timer_t *h)
{
    struct slurm *s = h->data;
    if (s->polling || s->draining)
        return;
    if (s->pruned_at < 0 || now_s(s) - s->pruned_at >= 3600)
        spool_prune(s);
    if (s->skip > 0) {
        s->skip--;
        return;
    }
    size_t polled = 0;
    for (size_t i = 0; i < s->n; i++)
        polled += !s->tasks[i]->in_flight;
    if (polled == 0)
        return;
    /* One query for every job of ours, whatever the number of sweeps and arrays:
       lines of jobs that are not our batches are skipped (on_squeue). */
    char *argv[] = {s->squeue, "-h", "-r", "-t", "all", "-u", s->user, "-o", "%j|%F|%K|%T|%A",
                    NULL};
    s->polling = true;
    int rc = cmd_run(s, argv, on_squeue, NULL);
    if (rc != 0) {
        s->polling = false;
        if (!s->squeue_warned)
            log_warn("cannot run %s: %s", s->squeue, uv_strerror(rc));
        s->squeue_warned = true;
    }
}

static void schedule_tick(struct slurm *s)
{
    uint64_t ms = (uint64_t)(s->o.poll * 1000);
    uv_timer_start(&s->tick, on_tick, 0, ms ? ms : 1);
}

/* ---- spool hygiene ---- */

/* A prune of the spool on the thread pool: batch directories not followed, older than cutoff. */
struct prune {
    uv_work_t w;
    struct slurm *s;
    char spool[CONFIG_PATH_MAX];
    char **keep; /* batch names followed when it started */
    size_t n_keep;
    time_t cutoff;
    int removed;
};

static void prune_work(uv_work_t *w)
{
    struct prune *p = w->data;
    DIR *d = opendir(p->spool);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "mlpd-", 5) != 0 || strcmp(de->d_name, SLURM_SCRIPT) == 0 ||
            strchr(de->d_name, '.'))
            continue;
        bool kept = false;
        for (size_t i = 0; i < p->n_keep && !kept; i++)
            kept = strcmp(p->keep[i], de->d_name) == 0;
        char path[CONFIG_PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", p->spool, de->d_name);
        struct stat sb;
        if (kept || lstat(path, &sb) < 0 || !S_ISDIR(sb.st_mode) || sb.st_mtime >= p->cutoff)
            continue;
        remove_tree(path, 0);
        p->removed++;
    }
    closedir(d);
}

static void prune_done(uv_work_t *w, int status)
{
    struct prune *p = w->data;
    (void)status;
    p->s->pruning = false;
    if (p->removed > 0)
        log_info("spool %s: removed %d batch director%s of finished trials (slurm_spool_keep)",
                 p->spool, p->removed, p->removed == 1 ? "y" : "ies");
    for (size_t i = 0; i < p->n_keep; i++)
        free(p->keep[i]);
    free(p->keep);
    free(p);
}

/*
 * Remove the spool's batch directories that no followed task uses and that
 * were last changed more than slurm_spool_keep days ago: those of finished
 * trials (their stderr is in the trial's error already).  At start, then
 * hourly; new batches are newer than the cutoff, so none is taken by mistake.
 */
static void spool_prune(struct slurm *s)
{
    if (s->o.spool_keep < 0 || s->pruning || s->draining)
        return;
    s->pruned_at = now_s(s);
    struct prune *p = calloc(1, sizeof *p);
    if (!p)
        return;
    p->s = s;
    snprintf(p->spool, sizeof p->spool, "%s", s->o.spool);
    p->cutoff = time(NULL) - (time_t)(s->o.spool_keep * 86400.0) - 1;
    p->keep = calloc(s->n + 1, sizeof *p->keep);
    for (size_t i = 0; p->keep && i < s->n; i++)
        if ((p->keep[p->n_keep] = strdup(s->tasks[i]->batch)) != NULL)
            p->n_keep++;
    p->w.data = p;
    if (!p->keep || uv_queue_work(s->loop, &p->w, prune_work, prune_done) != 0) {
        p->s->pruning = true;
        prune_done(&p->w, 0);
        return;
    }
    s->pruning = true;
}

/* ---- site limits ---- */

/* "Key = value" lines of scontrol show config: MaxArraySize, MaxJobCount. */
static void on_scontrol(struct cmd *c)
{
    struct slurm *s = c->s;
    s->limits_pending = false;
    if (c->status != 0 || c->sig != 0 || !c->obuf) {
        log_warn("scontrol show config failed (exit %lld): %s; arrays of at most %d tasks, "
                 "smaller when Slurm refuses them",
                 (long long)c->status, cmd_errline(c), s->max_array);
    } else {
        char *save = NULL;
        for (char *line = strtok_r(c->obuf, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
            char key[64];
            long v;
            if (sscanf(line, "%63s = %ld", key, &v) != 2 || v <= 0)
                continue;
            if (strcmp(key, "MaxArraySize") == 0) {
                /* indices 0..MaxArraySize-1, so that many tasks */
                if (v < s->max_array)
                    s->max_array = (int)v;
            } else if (strcmp(key, "MaxJobCount") == 0) {
                /* Every started array task is a job record: leave the other half to others. */
                int half = v / 2 > 0 ? (int)(v / 2 < 1000000000 ? v / 2 : 1000000000) : 1;
                if (s->max_jobs == 0 || half < s->max_jobs)
                    s->max_jobs = half;
            }
        }
        log_info("Slurm limits: arrays of at most %d tasks, %d unfinished tasks at most",
                 s->max_array, s->max_jobs > 0 ? s->max_jobs : s->o.max_tasks);
    }
    if (!s->draining)
        kick(s);
}

/* "MaxSubmit|MaxJobs" of the user's associations (sacctmgr works only with slurmdbd). */
static void on_sacctmgr(struct cmd *c)
{
    struct slurm *s = c->s;
    if (c->status != 0 || c->sig != 0 || !c->obuf) {
        log_debug("sacctmgr: %s; no association limits read", cmd_errline(c));
        return;
    }
    char *save = NULL;
    for (char *line = strtok_r(c->obuf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        long v;
        if (sscanf(line, "%ld", &v) == 1 && v > 0 && (s->max_jobs == 0 || v < s->max_jobs)) {
            s->max_jobs = (int)(v < 1000000000 ? v : 1000000000);
            log_info("Slurm association limit: %d submitted tasks at most (MaxSubmitJobs)",
                     s->max_jobs);
        }
    }
}

/* Ask for the site's limits; submission waits for scontrol's answer. */
static void read_limits(struct slurm *s)
{
    char *argv[] = {s->scontrol, "show", "config", NULL};
    s->limits_pending = s->scontrol[0] && cmd_run(s, argv, on_scontrol, NULL) == 0;
    if (!s->sacctmgr[0])
        return;
    struct passwd *pw = getpwuid(getuid());
    char user[160];
    snprintf(user, sizeof user, "user=%s", pw ? pw->pw_name : "");
    char *av[] = {s->sacctmgr, "-n", "-P", "show", "assoc", "where", user, "format=MaxSubmit", NULL};
    if (pw)
        cmd_run(s, av, on_sacctmgr, NULL);
}

/* ---- lifecycle ---- */

static void on_handle_free(uv_handle_t *h)
{
    struct slurm *s = h->data;
    s->open_timers--;
}

static void x_drain(struct exec *x)
{
    struct slurm *s = SLURM_OF(x);
    if (s->draining)
        return;
    s->draining = true;
    uv_close((uv_handle_t *)&s->tick, on_handle_free);
    uv_close((uv_handle_t *)&s->retry, on_handle_free);
    if (s->n > 0)
        log_info("leaving %zu trial(s) to Slurm; the next mlpd follows them", s->n);
}

static const char task_script[] =
    "#!/bin/sh\n"
    "# Written by mlpd (daemon/slurm.c): one trial of a job array.\n"
    "# $1 batch dir, $2 mlp-worker, $3 data dir, $4 BLAS threads per trial,\n"
    "# $5 the task's time limit in seconds (0 unknown).\n"
    "dir=$1\n"
    "i=${SLURM_ARRAY_TASK_ID:?not a Slurm array task}\n"
    "limit=${5:-0}\n"
    "unset MLPD_PARENT_PID\n"
    "MLPD_DATA=$3 OPENBLAS_NUM_THREADS=$4 OMP_NUM_THREADS=$4\n"
    "export MLPD_DATA OPENBLAS_NUM_THREADS OMP_NUM_THREADS\n"
    "umask 077\n"
    "# The OOM kills of the task's memory cgroup, before and after: an OOM kill of the\n"
    "# worker.  cgroup v2: memory.events; v1 (Slurm's cgroup/v1): memory.oom_control.\n"
    "ooms() {\n"
    "  f=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup 2>/dev/null)/memory.events\n"
    "  [ -r \"$f\" ] || f=/sys/fs/cgroup/memory$(sed -n \\\n"
    "    's/^[0-9]*:\\([^:]*,\\)*memory\\(,[^:]*\\)*://p' /proc/self/cgroup \\\n"
    "    2>/dev/null)/memory.oom_control\n"
    "  n=$(sed -n 's/^oom_kill //p' \"$f\" 2>/dev/null); echo \"${n:-0}\"\n"
    "}\n"
    "oom0=$(ooms)\n"
    "start=$(date +%s)\n"
    "# Slurm's SIGTERM (time limit, scancel, preemption) is noted, not fatal: the\n"
    "# marker is still written (before KillWait's SIGKILL).\n"
    "term=0\n"
    "trap 'term=1' TERM\n"
    "\"$2\" --spec \"$dir/$i.spec\" >\"$dir/$i.out\" 2>\"$dir/$i.err\"\n"
    "rc=$?\n"
    "end=$(date +%s)\n"
    "sig=0\n"
    "[ \"$rc\" -gt 128 ] && sig=$((rc - 128))\n"
    "timeout=0\n"
    "[ \"$term\" = 1 ] && [ \"$limit\" -gt 0 ] && [ $((end - start)) -ge \"$limit\" ] && timeout=1\n"
    "oom=0\n"
    "[ \"$sig\" = 9 ] && [ \"$(ooms)\" -gt \"$oom0\" ] && oom=1\n"
    "out=$(wc -c <\"$dir/$i.out\" 2>/dev/null) || out=-1\n"
    "# The completion marker, written last and whole (rename): mlpd waits for it.\n"
    "printf 'rc=%d sig=%d out=%d term=%d timeout=%d oom=%d\\n' \"$rc\" \"$sig\" $out \"$term\" \\\n"
    "  \"$timeout\" \"$oom\" >\"$dir/$i.done.tmp\" && mv -f \"$dir/$i.done.tmp\" \"$dir/$i.done\"\n"
    "exit \"$rc\"\n";

/* Write the task script (atomically: a running task may be reading the old one). */
static int write_script(struct slurm *s, struct err *e)
{
    char tmp[sizeof s->script + 16];
    snprintf(s->script, sizeof s->script, "%s/%s", s->o.spool, SLURM_SCRIPT);
    snprintf(tmp, sizeof tmp, "%s.%ld", s->script, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return err_set(e, MLP_EIO, tmp, "cannot write %s: %s", tmp, strerror(errno));
    bool ok = fputs(task_script, f) >= 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || chmod(tmp, 0700) < 0 || rename(tmp, s->script) < 0) {
        int en = errno;
        unlink(tmp);
        return err_set(e, MLP_EIO, s->script, "cannot write %s: %s", s->script, strerror(en));
    }
    return 0;
}

static int attach_one(void *ud, const struct store_slurm_task *r)
{
    struct slurm *s = ud;
    struct task *t = task_new(r);
    if (!t || add_task(s, t) < 0) {
        task_free(t);
        return MLP_ENOMEM;
    }
    return 0;
}

struct slurm *slurm_open(uv_loop_t *loop, struct store *st, const struct slurm_opts *o,
                         struct err *e)
{
    struct slurm *s = calloc(1, sizeof *s);
    if (!s) {
        err_set(e, MLP_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    s->loop = loop;
    s->st = st;
    s->o = *o;
    if (s->o.threads < 1)
        s->o.threads = 1;
    if (s->o.array_limit < 1)
        s->o.array_limit = 1;
    if (s->o.max_tasks < 1)
        s->o.max_tasks = 1;
    s->max_array = SLURM_MAX_ARRAY;
    s->pruned_at = -1; /* prune at the first tick */
    struct passwd *pw = getpwuid(getuid());
    if (pw)
        snprintf(s->user, sizeof s->user, "%s", pw->pw_name);
    else
        snprintf(s->user, sizeof s->user, "%ld", (long)getuid());
    if (s->o.submit_tries < 1)
        s->o.submit_tries = 1;
    s->ex = (struct exec){
        .name = "slurm", .kick = x_kick, .cancel_sweep = x_cancel_sweep, .drain = x_drain};
    const char *missing = NULL;
    if (config_find_program(NULL, "sbatch", o->bin, NULL, s->sbatch, sizeof s->sbatch) < 0)
        missing = s->sbatch;
    else if (config_find_program(NULL, "squeue", o->bin, NULL, s->squeue, sizeof s->squeue) < 0)
        missing = s->squeue;
    else if (config_find_program(NULL, "scancel", o->bin, NULL, s->scancel, sizeof s->scancel) < 0)
        missing = s->scancel;
    if (!missing &&
        config_find_program(NULL, "sacct", o->bin, NULL, s->sacct, sizeof s->sacct) < 0) {
        log_info("no sacct (%s): tasks that leave squeue are judged by their files", s->sacct);
        s->acct = ACCT_NONE;
    }
    if (!missing &&
        config_find_program(NULL, "scontrol", o->bin, NULL, s->scontrol, sizeof s->scontrol) < 0)
        s->scontrol[0] = '\0'; /* no limits read: arrays shrink when Slurm refuses them */
    if (!missing &&
        config_find_program(NULL, "sacctmgr", o->bin, NULL, s->sacctmgr, sizeof s->sacctmgr) < 0)
        s->sacctmgr[0] = '\0';
    if (missing) {
        err_set(e, MLP_EIO, "slurm_bin",
                "cannot find %s (install Slurm's client commands or set slurm_bin)", missing);
        goto fail;
    }
    /* Private: specs and outputs are the user's (an older mlpd made it 0755). */
    if (config_mkdir_p(o->spool, 0700, e) < 0 || write_script(s, e) < 0)
        goto fail;
    struct stat sb;
    if (stat(o->spool, &sb) == 0 && sb.st_uid == getuid() && (sb.st_mode & 077) != 0 &&
        chmod(o->spool, 0700) < 0)
        log_warn("cannot make the spool %s private (0700): %s", o->spool, strerror(errno));
    if (store_slurm_active(st, attach_one, s, e) < 0 ||
        store_slurm_blocks(st, blocked_load, s, e) < 0) {
        if (e && e->code == 0) /* a callback ran out of memory */
            err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    if (uv_mutex_init(&s->mu) != 0) {
        err_set(e, MLP_ENOMEM, NULL, "cannot create a mutex");
        goto fail;
    }
    uv_timer_init(loop, &s->tick);
    uv_timer_init(loop, &s->retry);
    s->tick.data = s->retry.data = s;
    s->open_timers = 2;
    if (s->n > 0)
        log_info("following %zu trial(s) already in Slurm", s->n);
    stop_pruned_attached(s);
    schedule_tick(s);
    read_limits(s);
    return s;
fail:
    for (size_t i = 0; i < s->n; i++)
        task_free(s->tasks[i]);
    free(s->tasks);
    free(s->blk);
    free(s);
    return NULL;
}

struct exec *slurm_exec(struct slurm *s)
{
    return &s->ex;
}

int slurm_tasks(const struct slurm *s)
{
    return (int)s->n;
}

void slurm_free(struct slurm *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        task_free(s->tasks[i]);
    free(s->tasks);
    free(s->snap);
    free(s->blk);
    uv_mutex_destroy(&s->mu);
    free(s);
}
