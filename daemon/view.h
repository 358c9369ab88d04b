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

#endif
