/*
 * store_adapt — what pruning reads and writes (schema/005-adaptive.sql).
 *
 * A pruned configuration has configs.pruned_epoch set; its queued trials end
 * 'pruned' in the same transaction, its running ones when their workers have
 * stopped (store_trial_pruned).  Decisions read the values every trial of the
 * sweep recorded at one epoch (store_rung_values), so they can be taken again
 * from the stored rows after a restart.  Functions return 0 or a negative
 * MLP_E* code with *e filled (MLP_ESTORAGE for SQLite failures).
 */
#ifndef MLP_STORE_ADAPT_H
#define MLP_STORE_ADAPT_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct store;

/*
 * Mark configuration config_idx of the sweep pruned at epoch and its queued
 * trials 'pruned', in one transaction.  *changed: 1 when it was not pruned
 * before (0: it already was, nothing changed).
 */
int store_config_prune(struct store *st, int64_t sweep_id, int64_t config_idx, int64_t epoch,
                       bool *changed, struct err *e);

/* A running trial stopped because its configuration was pruned: 'pruned'. */
int store_trial_pruned(struct store *st, int64_t trial_id, struct err *e);

/* The epoch a configuration was pruned at (*epoch 0 when it was not). */
int store_config_pruned_epoch(struct store *st, int64_t sweep_id, int64_t config_idx,
                              int64_t *epoch, struct err *e);

/* Whether a configuration has trials queued or running (*open). */
int store_config_open(struct store *st, int64_t sweep_id, int64_t config_idx, bool *open,
                      struct err *e);

/*
 * Every recorded value of per-epoch metric `metric` (a column of the epochs
 * table, e.g. "val_accuracy") at one epoch of a sweep's trials, any state:
 * cb(ud, config_idx, seed, value) per row (NaN for NULL); non-zero stops.
 */
int store_rung_values(struct store *st, int64_t sweep_id, int64_t epoch, const char *metric,
                      int (*cb)(void *ud, int64_t config_idx, int64_t seed, double v), void *ud,
                      struct err *e);

/*
 * (config, epoch) pairs recorded for the sweep's configurations that are not
 * pruned, by epoch then config: cb(ud, config_idx, epoch); non-zero stops.
 * Start-up takes the decisions a crash may have left untaken from these.
 */
int store_unpruned_epochs(struct store *st, int64_t sweep_id,
                          int (*cb)(void *ud, int64_t config_idx, int64_t epoch), void *ud,
                          struct err *e);

#endif
