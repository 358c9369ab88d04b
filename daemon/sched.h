/*
 * sched — the queue runner: N slots, each running at most one trial.
 *
 * sched_kick() fills free slots with the next runnable trial from the store
 * (sweep priority DESC, then FIFO by trial id; paused and cancelled sweeps are
 * skipped), marking it running before its worker is spawned.  When a worker
 * ends, its outcome is recorded (result + 'done' in one transaction; invalid
 * and timed-out trials fail at once; crashes are re-queued until max_attempts)
 * and the slot is refilled.  A full disk pauses dispatch instead of burning
 * attempts: a worker's "no_space" error, a failed store write or a claim while
 * a watched dir has less than min_free_space free re-queue the trial without
 * counting the attempt, and dispatch (local and Slurm) resumes by itself once
 * every watched dir has min_free_space (or an eighth of its filesystem) free (checked every 2 s, after at
 * least 5 s of pause).  Every change of a trial's state is reported to the
 * owner through notify(sweep_id) so watchers update without polling.
 */
#ifndef MLP_SCHED_H
#define MLP_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "exec.h"
#include "spawn.h"

struct store;
struct sched; /* opaque */

struct sched_opts {
    int slots;                 /* concurrent trials, >= 1 */
    int max_attempts;          /* crashes allowed before a trial fails, >= 1 */
    struct spawn_opts spawn;   /* how to start workers (strings borrowed) */
    const char *artifacts_dir; /* <state dir>/artifacts: each trial's files go to <id>/ */
    void (*notify)(void *ud, int64_t sweep_id); /* a trial of sweep_id changed state */
    void *ud;
    struct exec *remote; /* another executor (Slurm) kicked, cancelled, drained with us; or NULL */
    const char *space_dirs[3]; /* state, artifacts and data dirs: their free space is watched */
    long min_free_space;       /* bytes each needs for dispatch to go on */
};

/* A scheduler over st (borrowed).  NULL on ENOMEM. */
struct sched *sched_new(uv_loop_t *loop, struct store *st, const struct sched_opts *o);

/*
 * Free it; every slot must be idle (see sched_drain) and its timer handle
 * closed (main closes every handle with uv_walk and runs the loop first).
 */
void sched_free(struct sched *s);

/* Start queued trials while slots are free (no-op while draining). */
void sched_kick(struct sched *s);

/* Slots running a trial, and all slots. */
int sched_busy(const struct sched *s);
int sched_slots(const struct sched *s);

/*
 * Why no trial is started now, or NULL when trials are dispatched: a full disk
 * ("no space left: /home/me/.local/state/mlpd has 12288 bytes free
 * (needs 67108864: min_free_space)", with the worker's or SQLite's message).
 */
const char *sched_pause_reason(const struct sched *s);

/* Stop the running trials of a sweep (SIGTERM); they end 'cancelled'.  Returns how many. */
int sched_cancel_sweep(struct sched *s, int64_t sweep_id);

/*
 * Stop starting trials.  now: stop running ones (SIGTERM, SIGKILL after the
 * grace) and re-queue them without counting the attempt.  idle(ud) is called
 * once no trial runs any more (possibly before this returns).
 */
void sched_drain(struct sched *s, bool now, void (*idle)(void *ud), void *ud);

#endif
