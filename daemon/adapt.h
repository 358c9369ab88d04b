/*
 * adapt — pruning decisions of sweeps with a "prune" rule (common/prune.h),
 * taken from the stored epoch rows (store_adapt.h).
 *
 * After a trial records an epoch that is a rung, every configuration with a
 * value at that rung and trials still queued or running is judged against
 * the rung as it stands (asynchronous successive halving: nothing waits for
 * stragglers; a configuration that reaches the rung later is judged when it
 * does).  A configuration that stops is marked pruned with its queued trials
 * in one transaction, and on_pruned(ud, config) is called so the caller stops
 * its running trials.  Because the inputs are stored rows, start-up takes the
 * same decisions again (adapt_recover) for a crash between an epoch row and
 * its decision.
 */
#ifndef MLP_ADAPT_H
#define MLP_ADAPT_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct store;

/*
 * A trial of the sweep recorded epoch.  Returns 0 (also when the sweep does
 * not prune or the epoch is not a rung) or a negative code with *e.
 */
int adapt_after_epoch(struct store *st, int64_t sweep_id, int64_t epoch,
                      void (*on_pruned)(void *ud, int64_t sweep_id, int64_t config_idx), void *ud,
                      struct err *e);

/* Start-up: decisions at every stored rung of every active sweep; *n configurations pruned. */
int adapt_recover(struct store *st, int64_t *n, struct err *e);

/*
 * Racing on seeds and confirmation (common/race.h), for sweeps whose grid has
 * "seeds": {"min", "max"} or "confirm".  Called when a trial of the sweep has
 * ended (its outcome stored): every configuration whose selection seeds have
 * all ended and that is not pruned is judged from the stored final values
 * (race_decide, at the sweep's prune alpha or 0.05); one that is still tied
 * with the leader (or is the leader of a race still open) gets its next seed
 * as a new queued trial, up to max.  Once no selection trial is queued or
 * running, the top confirm.top configurations of the selection ranking get
 * confirm.seeds trials each on fresh seeds (once).  *added: trials queued.
 * Nothing is added to a cancelled sweep.  Pure over stored rows, so
 * adapt_race_recover at start-up takes any decision a crash left untaken.
 */
int adapt_after_trial(struct store *st, int64_t sweep_id, int64_t *added, struct err *e);

/* Start-up: adapt_after_trial for every sweep; *added trials queued in all. */
int adapt_race_recover(struct store *st, int64_t *added, struct err *e);

#endif
