/*
 * view — what a client sees of a sweep while it runs: the summary object of
 * PROTOCOL.md (counts, state, best configuration so far), the watch events
 * with their ETA, and the cheap "has it ended" checks that wait and watch
 * poll on every change.
 *
 * Everything here is cheap enough for every scheduler event: counts come from
 * one index, the best-so-far from per-configuration SQL aggregates (mean and
 * sum of squares, summarised by stats_from_moments), not from the exact
 * two-pass statistics of the query ops.  Functions returning a cJSON object
 * give it to the caller (cJSON_Delete), or NULL with *e filled.
 */
#ifndef MLP_VIEW_H
#define MLP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct cJSON;
struct mlpd;

/* The sweep summary object.  *ended (may be NULL): no trial left to run. */
struct cJSON *view_sweep_summary(struct mlpd *d, int64_t id, bool *ended, struct err *e);

/* Whether a sweep has no queued or running trial left (counts only): 0 or <0. */
int view_sweep_ended(struct mlpd *d, int64_t id, bool *ended, struct err *e);

/*
 * A watch event {"ok":true,"event":"progress"|"end","sweep":summary,"eta":s|null};
 * "end" when the sweep has ended.  The ETA is the remaining work over the
 * slots that can run it, at the mean trial time so far.
 */
struct cJSON *view_progress_event(struct mlpd *d, int64_t id, bool *ended, struct err *e);

/* Ids of sweeps with queued or running trials (malloc'ed, caller frees): 0 or <0. */
int view_active_sweeps(struct mlpd *d, int64_t **ids, size_t *n);

/* Whether any trial is queued or running anywhere. */
bool view_any_active(struct mlpd *d);

/*
 * The executors as clients see them (exec.h); these only read the store they
 * are given (d->st may be a read-only connection on a pool thread) and, for
 * status, the Slurm executor's in-memory state (status runs on the loop).
 *
 * view_exec_sweep_fields: "executor" and, for Slurm sweeps, "slurm_jobs" (ids
 * of its live array jobs) and "blocked" when Slurm refuses its submissions.
 * view_exec_trial_fields: "slurm": {"job", "array_index", "task", "state"} of
 * a trial that ran on Slurm.  view_exec_status_fields: "executor" (the
 * default) and "slurm": {...} or null, for the status answer.  0 or <0 with *e.
 */
int view_exec_sweep_fields(struct mlpd *d, int64_t sweep_id, struct cJSON *o, struct err *e);
int view_exec_trial_fields(struct mlpd *d, int64_t trial_id, struct cJSON *o, struct err *e);
int view_exec_status_fields(struct mlpd *d, struct cJSON *o, struct err *e);

#endif
