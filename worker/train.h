/*
 * train — one trial: epochs of shuffled mini-batches, evaluation, early stopping.
 *
 * train_run() builds the network and optimiser for a trial's hyperparameters,
 * then per epoch: shuffles the training indices (shuffle stream), gathers each
 * batch into a preallocated buffer, steps the optimiser (gradient noise, when
 * asked, is added to every gradient entry first; plain SGD without noise steps
 * inside the backward pass, mlp_backward_sgd()), and evaluates.
 *
 * Metrics of an epoch: train_* and val_* come from a clean evaluation pass after
 * the epoch's training pass (inference mode: no dropout, batch norm with running
 * statistics) over the whole training split and the validation split, so train
 * and val numbers are comparable and belong to the same weights.  It costs about
 * a third of a training pass; the epoch's `seconds` counts the training pass
 * alone.  Losses are data losses (mean cross-entropy, binary cross-entropy or
 * squared error) without the L1/L2 penalty terms.  For regression the
 * "metric" fields are the mean squared error; for classification the accuracy.
 *
 * Kept epoch: with early stopping, the epoch with the lowest validation loss
 * (an improvement must exceed min_delta); training stops after `patience`
 * epochs without one.  Without early stopping, the last epoch.  The kept
 * epoch's full state (parameters and batch-norm running statistics) is copied
 * aside, restored at the end, and the test metrics are computed with it.
 *
 * Divergence: a non-finite batch loss or evaluated train/val loss ends the
 * trial; the epoch in progress is not reported, the result holds the kept epoch
 * among those completed (NaN metrics if none completed) and diverged = true.
 *
 * Time: max_seconds counts from the start of train_run() and is checked between
 * batches and after each evaluation (mlp-worker passes what is left of the
 * trial's limit after loading the data).  The core does no I/O: progress goes to the
 * caller's epoch callback.
 */
#ifndef MLP_TRAIN_H
#define MLP_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "data.h"
#include "err.h"
#include "hparams.h"

struct train_epoch {
    int epoch; /* 1-based */
    double train_loss, train_metric;
    double val_loss, val_metric; /* metric: accuracy, or MSE for regression */
    double seconds;              /* wall time of the training pass alone */
};

struct train_result {
    bool regression;                 /* metrics are MSE rather than accuracy */
    double train_loss, train_metric; /* at the kept epoch */
    double val_loss, val_metric;
    double test_loss, test_metric; /* with the kept weights */
    int epochs_run;                /* completed (reported) epochs */
    int best_epoch;                /* the kept epoch, 0 if none completed */
    bool diverged;
};

/* Called after each completed epoch; must not keep ep. */
typedef void (*train_epoch_fn)(const struct train_epoch *ep, void *ctx);

/*
 * Train one trial on d with the hyperparameters hp and the trial seed (init,
 * shuffle, dropout and noise streams derive from it).  Returns 0 (also when the
 * trial diverged: see res->diverged), MLP_ETIMEOUT when max_seconds passed (res
 * holds the epochs completed so far), or MLP_ENOMEM; *e filled on error.
 */
int train_run(const struct hparams *hp, uint64_t seed, const struct data_prepared *d,
              train_epoch_fn cb, void *ctx, struct train_result *res, struct err *e);

#endif
