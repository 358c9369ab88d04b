/*
 * mlp — a multilayer perceptron on whole mini-batches (DESIGN.md "The training core").
 *
 * Row-major batches X[B×d]; each dense layer is Z = X·W + b with W[in×out], done
 * as one GEMM; the element-wise work after it (bias, batch norm, activation,
 * dropout) is one pass per row while the row is in cache.  The output layer
 * follows the task: softmax + cross-entropy (n_classes > 2), one sigmoid unit +
 * binary cross-entropy (n_classes == 2), one linear unit + squared error
 * (n_classes == 0, regression); its loss, accuracy and dL/dZ are one fused pass.
 *
 * All trainable parameters live in one contiguous block and so do their
 * gradients (optimisers are flat loops over them).  The block is followed by the
 * batch-norm running statistics (not trained, but part of the state kept for the
 * best epoch), so a snapshot of the model is one memcpy of mlp_n_state() values.
 * Every buffer is allocated by mlp_new() for up to max_batch rows; forward and
 * backward never allocate.
 *
 * Batch-norm constants: eps 1e-5 in sqrt(var + eps), running statistics
 * updated with momentum 0.1 (MLP_BN_EPS, documented for exported models).
 *
 * Precision: mlp_real is float; compiling the same source with -DMLP_DOUBLE makes
 * it double (cblas_dgemm behind the one BLAS seam), which the gradient-check
 * tests use for tight finite-difference tolerances.
 *
 * Conventions: the loss of a batch is the mean over its rows of the per-row data
 * loss (cross-entropy, binary cross-entropy, or squared error).  The L1/L2
 * penalties are not part of the reported loss (mlp_penalty() gives them) but
 * their gradients l1·sign(w) + 2·l2·w are added to the weight gradients (never
 * to biases or batch-norm gamma/beta).  With batch norm a hidden layer has no
 * bias: it would be cancelled by the mean subtraction, and beta takes its role.
 */
#ifndef MLP_MLP_H
#define MLP_MLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "hparams.h"
#include "rng.h"

#ifdef MLP_DOUBLE
typedef double mlp_real;
#else
typedef float mlp_real;
#endif

/*
 * MLP_KERNEL marks a hot element-wise loop of the core (mlp.c, optim.c): GCC
 * builds it for AVX-512 (x86-64-v4), AVX2+FMA (x86-64-v3) and baseline x86-64
 * and the dynamic loader picks one for the CPU (ifunc), so the binary runs on
 * any x86-64 without -march=native.  Elsewhere it is plain code.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__OPTIMIZE__)
#define MLP_KERNEL __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MLP_KERNEL
#endif

/*
 * Calls of few rows use direct loops instead of BLAS GEMMs (mlp.c): the
 * forward product and dL/dX up to MLP_SMALL_BATCH rows, the weight gradient
 * (or fused SGD step) up to MLP_SMALL_WGRAD rows.  Measured on 784-100-100-10
 * (AVX-512 CPU, OpenBLAS 0.3.21 Haswell kernel), one epoch of the first
 * layer's forward: sgemm 0.86 / 0.45 / 0.18 / 0.14 s at 1 / 2 / 4 / 8 rows,
 * the loop 0.18 / 0.16 / 0.15 / 0.15 s; the rank-B weight update is as fast
 * in sgemm as in a loop from one row on.  Whole epochs: batch 1 2.0 -> 0.6 s,
 * batch 2 0.83 -> 0.47 s, batch 4 about equal.  Override with -D to measure again.
 */
#ifndef MLP_SMALL_BATCH
#define MLP_SMALL_BATCH 4
#endif
#ifndef MLP_SMALL_WGRAD
#define MLP_SMALL_WGRAD 1
#endif

enum mlp_mode {
    MLP_EVAL,  /* inference: no dropout, batch norm with running statistics */
    MLP_TRAIN, /* training: dropout masks drawn, batch statistics, dL/dZ kept for backward */
};

struct mlp_config {
    int n_in;                      /* input features, >= 1 */
    int n_hidden;                  /* hidden layers, 0..HP_MAX_LAYERS */
    const int *hidden;             /* their widths */
    int n_classes;                 /* 0 = regression, 2 = binary, > 2 = multi-class */
    enum hp_activation activation; /* hidden non-linearity */
    double dropout;                /* drop probability on hidden activations, [0,1) */
    bool batch_norm;               /* batch-normalise hidden pre-activations */
    double l1, l2;                 /* weight penalties (gradients only) */
    int max_batch;                 /* rows per forward/backward call, >= 1 */
};

/* Sums over the rows seen (accumulated by mlp_forward, never reset by it). */
struct mlp_stats {
    double loss_sum; /* sum of per-row data losses */
    double hits;     /* correct predictions; for regression the sum of squared errors */
    int64_t n;       /* rows */
};

struct mlp;

/*
 * Allocate a network and all its buffers for batches of up to c->max_batch rows.
 * Parameters are zero until mlp_init_params().  Returns NULL with *e filled
 * (MLP_ENOMEM, or MLP_EINVALID_SPEC for an impossible shape).  Free with mlp_free().
 */
struct mlp *mlp_new(const struct mlp_config *c, struct err *e);
void mlp_free(struct mlp *m);

/*
 * Initialise weights (he: N(0, 2/in); xavier: N(0, 2/(in+out)); gaussian:
 * N(0, init_scale²); zeros), biases and beta 0, gamma 1, running mean 0 and
 * running variance 1.  Draws only from r.
 */
void mlp_init_params(struct mlp *m, enum hp_init init, double init_scale, struct rng *r);

/* Number of trainable parameters (length of the gradient block). */
size_t mlp_n_params(const struct mlp *m);
/* Trainable parameters followed by batch-norm running statistics. */
size_t mlp_n_state(const struct mlp *m);
/* The parameter block (mlp_n_state() values, owned by m). */
mlp_real *mlp_params(struct mlp *m);
/* The gradient block (mlp_n_params() values, owned by m), filled by mlp_backward(). */
mlp_real *mlp_grads(struct mlp *m);
/* Rows per call allowed (the config's max_batch). */
int mlp_max_batch(const struct mlp *m);
/* Output units (n_classes for softmax, else 1). */
int mlp_n_out(const struct mlp *m);

/*
 * Forward B (1..max_batch) rows x[B×n_in] with labels y[B] (class index, or
 * target for regression) and add their losses and hits to *st.  In MLP_TRAIN
 * mode dropout masks are drawn from drop (may be NULL when dropout is 0), batch
 * norm uses batch statistics and updates its running statistics (momentum 0.1),
 * and dL/dZ of the output is kept for mlp_backward().  Returns the batch's mean
 * data loss (NaN or inf when the network has diverged).
 */
double mlp_forward(struct mlp *m, const mlp_real *x, const float *y, int B, enum mlp_mode mode,
                   struct rng *drop, struct mlp_stats *st);

/*
 * Back-propagate the last MLP_TRAIN forward (same x and B) and overwrite the
 * gradient block with dL/dθ of the mean batch loss plus the penalty gradients.
 */
void mlp_backward(struct mlp *m, const mlp_real *x, int B);

/*
 * mlp_backward() and one plain SGD step θ ← θ − lr·dL/dθ (penalty gradients
 * included) in one pass: each weight matrix is updated by its gradient GEMM
 * directly (W ← W − lr·Xᵀ·dZ), so weight gradients are never stored and no
 * separate update pass runs.  Equal to mlp_backward() followed by optim_step()
 * of HP_SGD up to rounding.  Afterwards the gradient block holds the bias,
 * gamma and beta gradients; its weight entries are unspecified.
 */
void mlp_backward_sgd(struct mlp *m, const mlp_real *x, int B, double lr);

/*
 * After an MLP_EVAL mlp_forward() of B rows (and before any other call that
 * runs the network): the model's outputs per row.  Classification: out[B×C]
 * class probabilities (C = n_classes; binary: 1 − p, p) and pred[B] the
 * predicted class (the one the accuracy counts); regression: out[B] the
 * predicted target, pred unused (may be NULL).
 */
void mlp_outputs(const struct mlp *m, int B, double *out, int *pred);

/* Where one dense layer's arrays live in the state block (offsets into
 * mlp_params(); (size_t)-1 for what the layer does not have). */
struct mlp_layer_info {
    int in, out;        /* shape of W[in×out], row-major */
    bool bn;            /* batch-normalised hidden layer (no bias, gamma/beta instead) */
    size_t w, b;        /* weights and bias */
    size_t gamma, beta; /* batch-norm scale and shift */
    size_t rmean, rvar; /* batch-norm running mean and (unbiased) variance */
};
/* Dense layers: the hidden layers and the output layer. */
int mlp_n_layers(const struct mlp *m);
void mlp_layer_info(const struct mlp *m, int l, struct mlp_layer_info *info);

/* The penalty l1·Σ|w| + l2·Σw² over all weights (what the penalty gradients differentiate). */
double mlp_penalty(const struct mlp *m);

#endif
