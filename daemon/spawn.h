/*
 * spawn — one running mlp-worker child: its pipes, its log, its time limit.
 *
 * spawn_start() uv_spawns the worker with the trial spec written to its stdin
 * (then closed), reads its stdout as JSON lines through a line_buf and hands
 * every epoch event to the owner as it arrives, appends its stderr to
 * logs/<trial>.log (capped), and keeps a max_seconds watchdog: the worker
 * enforces the limit itself, and one still running kill_grace after it is
 * killed (SIGKILL).  A worker silent for stall_seconds (no epoch line, no
 * heartbeat, no log byte: stopped or hung) is killed too; the worker's
 * heartbeat (MLPD_HEARTBEAT, every stall_seconds / 4, at most 60 s) keeps a
 * slow trial alive.  worker_memory goes to the worker as MLPD_WORKER_MEMORY,
 * which it applies as RLIMIT_AS (worker/guard.h).  A worker that dies of a
 * SIGKILL spawn did not send while the OOM-kill counter of its memory cgroup
 * rose was killed by the kernel's OOM killer (oomkill.h): SPAWN_NOMEM too;
 * every worker gets oom_score_adj 500, so that the kernel picks it, not mlpd.
 * The outcome is delivered once, after the process has
 * exited AND both pipes reached EOF (so a result line is never missed); the
 * struct frees itself after all its handles have closed.  The process is
 * reaped only in libuv's exit callback.
 */
#ifndef MLP_SPAWN_H
#define MLP_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct trial_event;
struct spawn; /* opaque */

struct spawn_opts {
    const char *worker;   /* mlp-worker executable */
    const char *data_dir; /* MLPD_DATA for the child */
    const char *log_dir;  /* <state>/logs */
    int threads;          /* OPENBLAS_NUM_THREADS / OMP_NUM_THREADS */
    long log_max_bytes;   /* cap of one trial's log file */
    double kill_grace;    /* seconds from SIGTERM to SIGKILL */
    long worker_memory;   /* MLPD_WORKER_MEMORY: bytes beyond start-up (worker/guard.h); 0 none */
    double stall_seconds; /* no output this long: SIGKILL, SPAWN_STALLED; 0 never */
};

enum spawn_status {
    SPAWN_OK,      /* exit 0 with a result line: result is set */
    SPAWN_INVALID, /* exit 4: invalid spec or dataset; do not retry */
    SPAWN_TIMEOUT, /* max_seconds exceeded (the worker's "timeout", or the watchdog) */
    SPAWN_CRASH,   /* any other exit or signal; retry */
    SPAWN_STOPPED, /* stopped by spawn_stop() */
    SPAWN_NOMEM,   /* out of memory ("nomem": worker_memory; or the kernel's OOM killer); do not retry */
    SPAWN_STALLED, /* no output for stall_seconds (stopped or hung): killed; retry */
    SPAWN_NOSPACE, /* a write failed for lack of space ("no_space"): not the trial's fault */
};

struct spawn_outcome {
    enum spawn_status status;
    const struct trial_event *result; /* the result event (SPAWN_OK), owned by the spawn */
    char message[1024];         /* why it failed, with the log's last lines for crashes */
    int stop_reason;            /* the value given to spawn_stop() */
};

struct spawn_cbs {
    /* An epoch event line (already parsed). */
    void (*on_epoch)(void *ud, const struct trial_event *ev);
    /* Called once when the trial is over; the spawn frees itself afterwards. */
    void (*on_done)(void *ud, const struct spawn_outcome *o);
};

/*
 * Start a worker for one trial attempt.  spec_line is the JSON spec (no
 * newline).  max_seconds is the trial's limit (0: none); the watchdog fires
 * kill_grace after it.  Returns the spawn, or NULL with
 * msg filled (e.g. the executable cannot be started).
 */
struct spawn *spawn_start(uv_loop_t *loop, const struct spawn_opts *o, int64_t trial_id,
                          int attempt, const char *spec_line, double max_seconds,
                          const struct spawn_cbs *cbs, void *ud, char *msg, size_t msg_n);

/* The child's pid. */
long spawn_pid(const struct spawn *sp);

/*
 * Stop the worker: SIGTERM now, SIGKILL after kill_grace.  The outcome will be
 * SPAWN_STOPPED with stop_reason = reason, unless it had already finished.
 */
void spawn_stop(struct spawn *sp, int reason);

#endif
