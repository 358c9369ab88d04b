/*
 * Gradient checks of the training core by central finite differences.
 *
 * Built against the double-precision build of the core (-DMLP_DOUBLE), so the
 * analytic gradient from mlp_backward() must match (f(θ+h) − f(θ−h))/2h to a
 * tight relative tolerance for every parameter, where f is the mean data loss
 * of a small batch plus mlp_penalty().  Each check prints its worst relative
 * error |a − n| / max(|a|, |n|, 1e-6).
 *
 * Each case also checks that mlp_backward_sgd() (the backward pass with the
 * SGD step fused in) moves every parameter to w − lr·g of the checked g.
 *
 * Dropout is checked with its mask held fixed: the dropout stream is copied
 * before the first forward and the copy is restored before every evaluation of
 * f, so every forward draws the same mask.  Batch norm is checked in training
 * mode, where f depends on the parameters also through the batch statistics.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mlp.h"
#include "rng.h"

#define B_MAX (MLP_SMALL_BATCH + 3) /* the default: a batch on the GEMM path */
#define D_IN 5

struct gc_case {
    const char *name;
    enum hp_activation act;
    int n_classes; /* 0 regression, 2 binary, >2 softmax */
    int n_hidden;
    int hidden[3];
    double l1, l2, dropout;
    bool bn;
    int rows; /* batch rows, 1..B_MAX (0 means B_MAX); 1 takes the core's one-row path */
};

static double loss_at(struct mlp *m, const mlp_real *x, const float *y, int B, struct rng drop)
{
    struct mlp_stats st = {0, 0, 0};
    return mlp_forward(m, x, y, B, MLP_TRAIN, &drop, &st) + mlp_penalty(m);
}

/* Returns the worst relative error over all parameters. */
static double gradcheck(const struct gc_case *c)
{
    struct err e = ERR_INIT;
    const int B = c->rows ? c->rows : B_MAX;
    struct mlp_config mc = {
        .n_in = D_IN,
        .n_hidden = c->n_hidden,
        .hidden = c->hidden,
        .n_classes = c->n_classes,
        .activation = c->act,
        .dropout = c->dropout,
        .batch_norm = c->bn,
        .l1 = c->l1,
        .l2 = c->l2,
        .max_batch = B,
    };
    struct mlp *m = mlp_new(&mc, &e);
    CHECK(m != NULL);
    if (!m)
        return INFINITY;
    struct rng r;
    rng_seed(&r, 42, RNG_INIT);
    mlp_init_params(m, HP_INIT_XAVIER, 0, &r);
    mlp_real *w = mlp_params(m);
    size_t np = mlp_n_params(m);
    /* Move batch-norm gamma/beta and biases away from their trivial initial
     * values, and weights away from 0 (so |w| and relu kinks are differentiable
     * at the point checked and within ±h of it). */
    for (size_t i = 0; i < np; i++) {
        double v = w[i] + 0.3 * rng_gauss(&r);
        if (fabs(v) < 0.05)
            v = v < 0 ? -0.05 - fabs(v) : 0.05 + v;
        w[i] = (mlp_real)v;
    }
    mlp_real x[B_MAX * D_IN];
    float y[B_MAX];
    for (int i = 0; i < B * D_IN; i++)
        x[i] = (mlp_real)rng_gauss(&r);
    for (int i = 0; i < B; i++)
        y[i] = c->n_classes == 0 ? (float)rng_gauss(&r)
                                 : (float)(i % c->n_classes); /* every class present */
    struct rng drop;
    rng_seed(&drop, 7, RNG_DROPOUT);

    /* analytic */
    struct rng d0 = drop;
    struct mlp_stats st = {0, 0, 0};
    mlp_forward(m, x, y, B, MLP_TRAIN, &d0, &st);
    mlp_backward(m, x, B);
    double *ga = malloc(np * sizeof *ga);
    for (size_t i = 0; i < np; i++)
        ga[i] = mlp_grads(m)[i];

    const double h = 1e-5;
    double worst = 0;
    size_t worst_i = 0;
    for (size_t i = 0; i < np; i++) {
        mlp_real keep = w[i];
        w[i] = keep + (mlp_real)h;
        double fp = loss_at(m, x, y, B, drop);
        w[i] = keep - (mlp_real)h;
        double fm = loss_at(m, x, y, B, drop);
        w[i] = keep;
        double gn = (fp - fm) / (2 * h);
        double den = fmax(fmax(fabs(ga[i]), fabs(gn)), 1e-6);
        double rel = fabs(ga[i] - gn) / den;
        if (rel > worst) {
            worst = rel;
            worst_i = i;
        }
    }
    printf("gradcheck %-28s params %4zu  worst relative error %.3e (param %zu)\n", c->name, np,
           worst, worst_i);

    /* mlp_backward_sgd() must land where w − lr·g does. */
    const double lr = 0.1;
    double *w0 = malloc(np * sizeof *w0);
    for (size_t i = 0; i < np; i++)
        w0[i] = w[i];
    d0 = drop;
    mlp_forward(m, x, y, B, MLP_TRAIN, &d0, &st);
    mlp_backward_sgd(m, x, B, lr);
    double sgd_worst = 0;
    for (size_t i = 0; i < np; i++)
        sgd_worst = fmax(sgd_worst, fabs((double)w[i] - (w0[i] - lr * ga[i])));
    if (!(sgd_worst < 1e-12))
        fprintf(stderr, "case %s: fused sgd step off by %g\n", c->name, sgd_worst);
    CHECK(sgd_worst < 1e-12);
    free(w0);
    free(ga);
    mlp_free(m);
    return worst;
}

int main(void)
{
    static const struct gc_case cases[] = {
        {"relu+softmax", HP_RELU, 4, 2, {6, 5}, 0, 0, 0, false, 0},
        {"leaky_relu+softmax", HP_LEAKY_RELU, 4, 2, {6, 5}, 0, 0, 0, false, 0},
        {"elu+softmax", HP_ELU, 4, 2, {6, 5}, 0, 0, 0, false, 0},
        {"selu+softmax", HP_SELU, 4, 2, {6, 5}, 0, 0, 0, false, 0},
        {"tanh+softmax", HP_TANH, 4, 2, {6, 5}, 0, 0, 0, false, 0},
        {"sigmoid+softmax", HP_SIGMOID, 4, 2, {6, 5}, 0, 0, 0, false, 0},
        {"linear+softmax", HP_LINEAR, 4, 2, {6, 5}, 0, 0, 0, false, 0},
        {"linear+bn+dropout mse", HP_LINEAR, 0, 1, {6}, 0, 0.01, 0.2, true, 0},
        {"1 row linear+bce", HP_LINEAR, 2, 1, {7}, 0, 0, 0, false, 1},
        {"tanh+sigmoid-bce", HP_TANH, 2, 2, {6, 5}, 0, 0, 0, false, 0},
        {"tanh+linear-mse", HP_TANH, 0, 2, {6, 5}, 0, 0, 0, false, 0},
        {"no-hidden softmax", HP_RELU, 3, 0, {0}, 0, 0, 0, false, 0},
        {"no-hidden mse", HP_RELU, 0, 0, {0}, 0, 0, 0, false, 0},
        {"l1 (w away from 0)", HP_TANH, 4, 2, {6, 5}, 0.01, 0, 0, false, 0},
        {"l2", HP_TANH, 4, 2, {6, 5}, 0, 0.01, 0, false, 0},
        {"l1+l2 mse", HP_ELU, 0, 1, {6}, 0.003, 0.02, 0, false, 0},
        {"batch_norm tanh", HP_TANH, 4, 2, {6, 5}, 0, 0, 0, true, 0},
        {"batch_norm elu bce", HP_ELU, 2, 2, {6, 5}, 0, 0, 0, true, 0},
        {"dropout 0.3 fixed mask", HP_TANH, 4, 2, {6, 5}, 0, 0, 0.3, false, 0},
        {"dropout+bn+l2 selu", HP_SELU, 4, 3, {6, 5, 4}, 0, 0.01, 0.25, true, 0},
        /* up to MLP_SMALL_BATCH rows: small_fwd / small_wgrad / small_dx
         * instead of GEMMs; widths of 16+ exercise the 16-wide partial sums
         * and their tails */
        {"1 row relu+softmax", HP_RELU, 4, 2, {6, 5}, 0, 0, 0, false, 1},
        {"1 row tanh 17-19 l2 dropout", HP_TANH, 4, 2, {19, 17}, 0, 0.01, 0.2, false, 1},
        {"1 row elu bce 33", HP_ELU, 2, 1, {33}, 0.003, 0, 0, false, 1},
        {"1 row tanh mse", HP_TANH, 0, 2, {6, 16}, 0, 0, 0, false, 1},
        {"1 row no-hidden softmax", HP_RELU, 3, 0, {0}, 0, 0, 0, false, 1},
        /* small forward and dX loops, GEMM weight gradient */
        {"3 rows relu 19-17 dropout l1", HP_RELU, 4, 2, {19, 17}, 0.002, 0, 0.2, false, 3},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        double worst = gradcheck(&cases[k]);
        if (!(worst < 1e-5))
            fprintf(stderr, "case %s: worst relative error %g\n", cases[k].name, worst);
        CHECK(worst < 1e-5);
    }
    return check_report();
}
