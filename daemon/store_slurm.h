/*
 * store_slurm — the store's rows for trials run through Slurm (002-slurm.sql).
 *
 * A Slurm trial is claimed like a local one ('running', attempts+1) and, in the
 * same transaction, gets its slurm_tasks row naming the array job (by name,
 * before sbatch answers) and the task's index; the job id is added when sbatch
 * returns it.  Start-up recovery leaves such trials running (store_recover
 * skips them) so the executor re-attaches instead of submitting again.  A
 * result is recorded with the state 'done' in one transaction, and only while
 * the trial still runs that attempt: ingesting the same output file twice
 * (after a restart) records it once.  Return codes as in store.h.
 */
#ifndef MLP_STORE_SLURM_H
#define MLP_STORE_SLURM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct store;

struct store_slurm_task {
    int64_t trial_id, sweep_id, config_idx, seed;
    int attempt;
    int array_idx;
    int64_t job_id;                   /* 0 until sbatch answered */
    double submitted;                 /* unix time the row was written, before sbatch ran */
    char *batch, *spool;              /* owned */
    char *state;                      /* owned; last Slurm state seen, "" when none */
    char *dataset_json, *params_json; /* owned; set by store_slurm_claim only */
};

/* Free the strings of a task (the struct is the caller's). */
void store_slurm_task_release(struct store_slurm_task *t);

/*
 * Claim the next queued trial of a Slurm sweep (priority, then trial id; paused
 * and cancelled sweeps skipped; only sweep only_sweep unless it is 0) and
 * record its task row (batch, array_idx, spool; no job id yet), in one
 * transaction.  1 with *out filled, 0 when nothing is runnable, or <0.
 */
int store_slurm_claim(struct store *st, int64_t only_sweep, const char *batch, int array_idx,
                      const char *spool, struct store_slurm_task *out, struct err *e);

/* store_slurm_claim, never from a sweep in skip (a JSON array of sweep ids, or NULL). */
int store_slurm_claim_except(struct store *st, int64_t only_sweep, const char *skip,
                             const char *batch, int array_idx, const char *spool,
                             struct store_slurm_task *out, struct err *e);

/* sbatch answered: the job id of every task of batch.  0 or <0. */
int store_slurm_set_job(struct store *st, const char *batch, int64_t job_id, struct err *e);

/*
 * sbatch failed: the batch's trials go back to 'queued' (to 'cancelled' when
 * their sweep was cancelled meanwhile) with the attempt given back and error
 * recorded, and its task rows are deleted; one transaction.
 */
int store_slurm_unsubmit(struct store *st, const char *batch, const char *error, struct err *e);

/*
 * A sweep's submission trouble (014-blocked.sql): the note slurm.c shows and
 * the refusals counted against the sweep, kept across restarts.
 */
struct store_slurm_block {
    int64_t sweep_id;
    int failures;      /* refusals counted since its last successful submission (0 once it gave up) */
    bool counted;      /* the last refusal counted (else a site limit or the controller held it) */
    bool gave_up;      /* its queued trials were failed with the message */
    char message[600]; /* sbatch's message */
};

/*
 * sbatch failed: store_slurm_unsubmit and, in the same transaction, the
 * sweep's note b (NULL: none) replaces the one stored; when give_up is not
 * NULL every queued trial of b's sweep (the batch's among them) then becomes
 * 'failed' with give_up as its error, *n (may be NULL) their count.  0 or <0
 * (nothing written).
 */
int store_slurm_refused(struct store *st, const char *batch, const char *error,
                        const struct store_slurm_block *b, const char *give_up, int64_t *n,
                        struct err *e);

/* A submission of the sweep succeeded, or it was cancelled: its note goes.  0 or <0. */
int store_slurm_block_clear(struct store *st, int64_t sweep_id, struct err *e);

/*
 * Every stored note of a sweep neither cancelled nor being deleted, by sweep
 * id; the callback as store_slurm_active's.
 */
int store_slurm_blocks(struct store *st, int (*cb)(void *ud, const struct store_slurm_block *b),
                       void *ud, struct err *e);

/*
 * Every attached task: a 'running' trial whose task row is of its current
 * attempt, by trial id.  A callback returning non-zero stops the walk (that
 * value is returned).  Pointers are valid during the callback only.
 */
int store_slurm_active(struct store *st, int (*cb)(void *ud, const struct store_slurm_task *t),
                       void *ud, struct err *e);

/* Remember the last Slurm state seen of a trial's task. */
int store_slurm_set_state(struct store *st, int64_t trial_id, const char *state, struct err *e);

/*
 * The result (with its confusion matrix; see store_trial_done) and 'done', in
 * one transaction, if the trial is still 'running' attempt `attempt`.  1 when
 * recorded, 0 when it was not (already recorded, or the trial moved on), <0 on
 * error (nothing written).
 */
struct store_result;
int store_slurm_done(struct store *st, int64_t trial_id, int attempt, const struct store_result *r,
                     struct err *e);

/* The sweep's executor ("local" or "slurm") into exec (size n). */
int store_slurm_executor(struct store *st, int64_t sweep_id, char *exec, size_t n, struct err *e);

/*
 * Distinct job ids of a sweep's attached tasks (sweep_id 0: of all sweeps),
 * ascending; *ids malloc'ed (caller frees).
 */
int store_slurm_jobs(struct store *st, int64_t sweep_id, int64_t **ids, size_t *n, struct err *e);

/* A trial's task row, whatever its state: 1 with *out filled (release it), 0 when none. */
int store_slurm_trial(struct store *st, int64_t trial_id, struct store_slurm_task *out,
                      struct err *e);

#endif
