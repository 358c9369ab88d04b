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
#include <stddef.h>
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

/*
 * Racing on seeds and confirmation (012-racing.sql).  Selection trials have
 * confirm = 0; a confirmation trial (confirm = 1) is never read by rankings,
 * pruning or racing.
 */
struct store_race_config {
    int64_t config_idx;
    int64_t pruned_epoch; /* 0 when not pruned */
    const char *race;     /* last verdict (race_why_name), NULL before any */
    int64_t trials;       /* selection trials, any state */
    int64_t open;         /* of them queued or running */
    int64_t confirm;      /* confirmation trials, any state */
};

/* Every configuration of a sweep with its trial counts, by index; cb non-zero stops. */
int store_race_configs(struct store *st, int64_t sweep_id,
                       int (*cb)(void *ud, const struct store_race_config *c), void *ud,
                       struct err *e);

/*
 * The final value of rankable metric `metric` of every done selection trial of
 * the sweep's configurations that are not pruned: cb(ud, config_idx, seed, v)
 * (NaN for NULL), by configuration then seed; non-zero stops.
 */
int store_race_values(struct store *st, int64_t sweep_id, const char *metric,
                      int (*cb)(void *ud, int64_t config_idx, int64_t seed, double v), void *ud,
                      struct err *e);

/*
 * Queue n trials (config_idx[i], seeds[i]) of the sweep in one transaction,
 * confirmation trials when confirm; nothing is added to a cancelled sweep.
 */
int store_race_add(struct store *st, int64_t sweep_id, size_t n, const int64_t *config_idx,
                   const int64_t *seeds, bool confirm, struct err *e);

/* Record a configuration's racing verdict (race_why_name). */
int store_config_race(struct store *st, int64_t sweep_id, int64_t config_idx, const char *why,
                      struct err *e);

#endif
