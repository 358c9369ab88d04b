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
 * statistics), so train and val numbers are comparable and belong to the same
 * weights.  train_* are measured on a fixed subsample of the training split
 * as large as the validation split (train_eval "subsample", the default: the
 * rows are drawn once from split_seed, the same for every epoch and every
 * seed), or on the whole split (train_eval "full", or when the validation
 * split is not smaller).  A full pass over Fashion-MNIST's 54000 training rows
 * cost about a third of a training pass.  With curve_test the test split is
 * evaluated too (test_* per epoch); otherwise it is evaluated once, at the
 * end.  The epoch's `seconds` counts the training pass alone.
 *
 * Length: `epochs` passes over the training split, or `iterations` batches
 * (then an "epoch" record is an evaluation interval of eval_every batches,
 * default one pass's worth, and carries the iteration count; the shuffled
 * order runs on across intervals and is redrawn after each full pass).
 *
 * Learning rate: constant, or a schedule (SPEC.md) counted in epochs (passes
 * of the training split, also in iteration mode) or iterations, t = 0, 1, ...:
 * step lr·γ^floor(t/step_size), exponential lr·γ^t, cosine
 * lr·(1 + cos(π·t/T))/2 with T the number of epochs (or iterations) of the
 * trial.  Losses are data losses (mean cross-entropy, binary cross-entropy or
 * squared error) without the L1/L2 penalty terms.  For regression the
 * "metric" fields are the mean squared error; for classification the accuracy.
 *
 * Kept epoch: with early stopping, the epoch with the lowest validation loss
 * (early_stop.on "train_loss": training loss; an improvement must exceed min_delta); training stops
 * after `patience` epochs without one.  Without early stopping, the last epoch.  The kept epoch's
 * full state (parameters and batch-norm running statistics) is copied aside, restored at the end,
 * and the test metrics are computed with it: loss, metric, and for classification the confusion
 * matrix; with save the test outputs and the network itself are handed to the caller.
 *
 * Divergence: the trial ends with diverged = true when a batch loss or an
 * evaluated train/val loss is not finite (the epoch in progress is not
 * reported), or when an evaluated training loss exceeds DIVERGE_FACTOR (10)
 * times the training loss of the initialised network on the same rows
 * (its weights before the first step: chance level, whatever the task and
 * scale); that evaluation is reported but never kept.  The reference is
 * evaluated lazily, at evaluations and only as far as the decision needs
 * (train.c, diverged_by_factor): nothing of it runs before the first batch,
 * and the decision is the same as computing it in full first.  Either way the result
 * holds the kept epoch among the earlier ones (NaN metrics if none).  A run
 * that ends worse than it started by that factor has not learned what it was
 * given, however finite its numbers: without the rule a huge learning rate
 * ended at test_loss 150, accuracy 0.1, "diverged": false.
 *
 * Time: max_seconds counts from the caller's t_start and is checked between
 * batches and after each evaluation (mlp-worker passes its own start, so the
 * time spent loading the data counts: the limit bounds the whole trial).  The core does no I/O: progress goes to the
 * caller's epoch callback.
 */
#ifndef MLP_TRAIN_H
#define MLP_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "data.h"
#include "err.h"
#include "hparams.h"
#include "mlp.h"
#include "rng.h"

struct mlp;

struct train_epoch {
    int epoch;         /* 1-based (with iterations: the evaluation's number) */
    int64_t iteration; /* batches trained so far */
    double train_loss, train_metric;
    double val_loss, val_metric;   /* metric: accuracy, or MSE for regression */
    double test_loss, test_metric; /* curve_test only; NaN otherwise */
    double lr;                     /* learning rate of the interval's last batch */
    double seconds;                /* wall time of the training pass alone */
};

struct train_result {
    bool regression;                 /* metrics are MSE rather than accuracy */
    double train_loss, train_metric; /* at the kept epoch */
    double val_loss, val_metric;
    double test_loss, test_metric; /* with the kept weights */
    int epochs_run;                /* completed (reported) epochs */
    int best_epoch;                /* the kept epoch, 0 if none completed */
    bool diverged;
    double initial_train_loss;     /* training loss of the initialised network (the
                                      divergence reference) when it was evaluated in
                                      full (always when diverged by the factor rule),
                                      else NaN */
    int64_t ref_rows;              /* train_eval rows of the reference evaluated (of
                                      train_eval's n; fewer when the partial sum decided) */
    double diverged_loss;          /* the loss that ended a diverged trial (inf when
                                      not finite); NaN otherwise */
    int n_classes;      /* 0 regression, else the classes of confusion */
    int64_t *confusion; /* n_classes² test counts [true][predicted] of the kept
                           weights; NULL for regression or when no epoch completed */
    int64_t n_test;     /* rows of test_out / test_pred */
    double *test_out;   /* save predictions: n_test × out_cols probabilities (or
                           predicted targets); NULL otherwise */
    int *test_pred;     /* save predictions, classification: predicted class per row */
    int out_cols;       /* n_classes, or 1 for regression */
    struct mlp *model;  /* save model: the network with the kept weights; else NULL */
    double first_batch; /* CLOCK_MONOTONIC seconds when the first batch began (0: none) */
    double first_batch_cpu; /* the process's CPU seconds by then (CLOCK_PROCESS_CPUTIME_ID) */
    double eval_seconds; /* wall time of the per-epoch evaluations (train_*, val_*, test_*) */
    double test_seconds; /* wall time of the final test pass */
    double ref_seconds;  /* wall time spent on the divergence reference */
};

/* Called after each completed epoch; must not keep ep. */
typedef void (*train_epoch_fn)(const struct train_epoch *ep, void *ctx);

/*
 * Train one trial on d with the hyperparameters hp and the trial seed (init,
 * shuffle, dropout and noise streams derive from it).  Returns 0 (also when the
 * trial diverged: see res->diverged), MLP_ETIMEOUT when hp->max_seconds passed
 * since t_start (a mono_s() reading; 0 = the call's start) — res holds the
 * epochs completed so far and *e the trial's one timeout message — or
 * MLP_ENOMEM; *e filled on error.  The
 * arrays and model in *res are owned by it: free with train_result_release()
 * whatever the return code.
 */
int train_run(const struct hparams *hp, uint64_t seed, const struct data_prepared *d,
              double t_start, train_epoch_fn cb, void *ctx, struct train_result *res,
              struct err *e);

void train_result_release(struct train_result *res);

/* What train_run_opts() does beyond the hyperparameters (NULL: defaults). */
struct train_opts {
    /* Evaluate the divergence reference in full, and choose the train_eval
     * rows, before the first step (the order before both became lazy; the
     * metrics are the same bits either way: tests and bench/ compare them). */
    bool eager_reference;
};
int train_run_opts(const struct hparams *hp, uint64_t seed, const struct data_prepared *d,
                   double t_start, const struct train_opts *opts, train_epoch_fn cb, void *ctx,
                   struct train_result *res, struct err *e);

/*
 * One training step on the batch x[B×d], y[B], exactly as train_run() takes
 * each of its steps: mlp_forward (MLP_TRAIN, dropout from drop), then either
 * the fused plain-SGD backward pass (fused: mlp_backward_sgd with lr) or
 * mlp_backward, gradient noise noise·N(0,1) from r_noise on every entry (when
 * noise > 0) and optim_step(opt) (whose rate the caller has set to lr).
 * Returns the batch's mean data loss; when it is not finite nothing was
 * updated.  mlp-gradcheck checks the update it makes against finite differences.
 */
struct optim;
double train_step(struct mlp *m, struct optim *opt, bool fused, const mlp_real *x, const float *y,
                  int B, double lr, double noise, struct rng *drop, struct rng *r_noise);

/* Whether train_run() steps hp's trials with the fused SGD pass (plain SGD
 * without gradient noise) rather than mlp_backward + optim_step. */
bool train_fused_sgd(const struct hparams *hp);

/* The learning rate of step t (0-based) of T under hp's schedule (hp->lr when none). */
double train_lr_at(const struct hparams *hp, int64_t t, int64_t T);

#endif
