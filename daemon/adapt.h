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

#endif
