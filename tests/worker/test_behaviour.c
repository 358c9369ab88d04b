/*
 * What training does, checked against expectations computed here rather than
 * against another run of the same code (issue 16: two planted bugs passed the
 * suite, because determinism tests compare a run with a run):
 *
 *  - shuffling: every pass over the training split is shuffled anew.  With
 *    one-hot rows, a linear model and batch 1 the weights after E epochs
 *    depend on the order of every epoch; a reference SGD written here
 *    replays the order the contract gives (the RNG_SHUFFLE stream of the
 *    seed reshuffling the previous pass's order before each pass: rng.h,
 *    train.h) and must land on train_run()'s weights.  The orders are checked
 *    to be distinct permutations, and the weights of "shuffled once, before
 *    the first epoch" must differ, so the check can fail;
 *  - inverted dropout: a unit is kept with probability 1 - p and scaled by
 *    1/(1 - p), so over masks the expected output of a linear network equals
 *    its inference output and its variance is Σ (w_j·h_j)² · p/(1 - p).
 *    Both are measured over many masks in training mode.
 *
 * Built against the double-precision core, so the reference agrees to
 * rounding (1e-12), and a wrong order or scale is off by orders more.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mlp.h"
#include "rng.h"
#include "train.h"

/* ---- shuffling ---------------------------------------------------------------- */

#define N_ROWS 12
#define EPOCHS 4

/* The reference: plain SGD on (w·x + b − y)² for one-hot x, one row per step
 * (dL/dw_i = dL/db = 2(z − y)), over the given orders. */
static void reference_sgd(const int64_t order[EPOCHS][N_ROWS], const float *y, double lr,
                          double *w, double *b)
{
    memset(w, 0, N_ROWS * sizeof *w);
    *b = 0;
    for (int e = 0; e < EPOCHS; e++)
        for (int k = 0; k < N_ROWS; k++) {
            int64_t i = order[e][k];
            double g = 2 * (w[i] + *b - y[i]);
            w[i] -= lr * g;
            *b -= lr * g;
        }
}

static void test_shuffle_every_epoch(void)
{
    static float x[N_ROWS * N_ROWS], y[N_ROWS + 1], xt[N_ROWS];
    struct rng r;
    rng_seed(&r, 99, 1);
    for (int i = 0; i < N_ROWS; i++) {
        x[i * N_ROWS + i] = 1; /* one-hot: row i touches weight i only */
        y[i] = (float)(2 * rng_uniform(&r) - 1);
    }
    xt[0] = 1;
    y[N_ROWS] = 0;
    struct data_prepared d;
    memset(&d, 0, sizeof d);
    d.train = (struct data_view){N_ROWS, N_ROWS, x, y};
    d.val = (struct data_view){0, N_ROWS, x, y};
    d.test = (struct data_view){1, N_ROWS, xt, y + N_ROWS};
    d.n_classes = 0;

    struct hparams hp;
    hparams_default(&hp);
    hp.n_hidden = 0;
    hp.optimizer = HP_SGD;
    hp.lr = 0.05;
    hp.batch_size = 1;
    hp.epochs = EPOCHS;
    hp.init = HP_INIT_ZEROS;
    hp.save = HP_SAVE_MODEL;
    const uint64_t seed = 7;
    struct train_result res;
    struct err e = ERR_INIT;
    CHECK_EQ_INT(train_run(&hp, seed, &d, 0, NULL, NULL, &res, &e), 0);
    CHECK(res.model != NULL && res.epochs_run == EPOCHS);
    if (!res.model) {
        train_result_release(&res);
        return;
    }
    struct mlp_layer_info li;
    mlp_layer_info(res.model, 0, &li);
    const mlp_real *p = mlp_params(res.model);

    /* The contract's orders: one permutation carried over, reshuffled before
     * each pass by the shuffle stream of the trial seed. */
    int64_t order[EPOCHS][N_ROWS], perm[N_ROWS];
    struct rng rs;
    rng_seed(&rs, seed, RNG_SHUFFLE);
    for (int i = 0; i < N_ROWS; i++)
        perm[i] = i;
    for (int ep = 0; ep < EPOCHS; ep++) {
        rng_shuffle(&rs, perm, N_ROWS);
        memcpy(order[ep], perm, sizeof perm);
        int seen[N_ROWS] = {0};
        for (int k = 0; k < N_ROWS; k++)
            seen[order[ep][k]]++;
        for (int k = 0; k < N_ROWS; k++)
            CHECK_EQ_INT(seen[k], 1); /* a permutation */
        for (int q = 0; q < ep; q++)
            CHECK(memcmp(order[q], order[ep], sizeof perm) != 0); /* distinct per epoch */
    }
    double w[N_ROWS], b, worst = 0;
    reference_sgd((const int64_t(*)[N_ROWS])order, y, hp.lr, w, &b);
    for (int i = 0; i < N_ROWS; i++)
        worst = fmax(worst, fabs((double)p[li.w + i] - w[i]));
    worst = fmax(worst, fabs((double)p[li.b] - b));
    printf("shuffle: weights vs the reference replay of %d distinct epoch orders: %.3g\n", EPOCHS,
           worst);
    CHECK(worst < 1e-12);

    /* The check can fail: shuffled once (every epoch in the first order). */
    int64_t once[EPOCHS][N_ROWS];
    for (int ep = 0; ep < EPOCHS; ep++)
        memcpy(once[ep], order[0], sizeof perm);
    double w1[N_ROWS], b1, gap = 0;
    reference_sgd((const int64_t(*)[N_ROWS])once, y, hp.lr, w1, &b1);
    for (int i = 0; i < N_ROWS; i++)
        gap = fmax(gap, fabs((double)p[li.w + i] - w1[i]));
    printf("shuffle: weights vs shuffling only before the first epoch: %.3g\n", gap);
    CHECK(gap > 1e-6);
    train_result_release(&res);
}

/* ---- inverted dropout --------------------------------------------------------- */

#define D_IN 3
#define WIDTH 40
#define DRAWS 40000

/* Output of a one-row forward of regression net m (target 0 and 2 with the
 * same mask: (z−0)² − (z−2)² = 4z − 4, so z = (L0 − L2)/4 + 1). */
static double output_with_mask(struct mlp *m, const mlp_real *x, struct rng *drop)
{
    struct mlp_stats st = {0, 0, 0};
    struct rng keep = *drop;
    const float y0 = 0, y2 = 2;
    double l0 = mlp_forward(m, x, &y0, 1, MLP_TRAIN, drop, &st);
    double l2 = mlp_forward(m, x, &y2, 1, MLP_TRAIN, &keep, &st); /* the same mask */
    return (l0 - l2) / 4 + 1;
}

static void test_inverted_dropout(void)
{
    const double p = 0.3;
    const int hidden[1] = {WIDTH};
    struct mlp_config mc = {
        .n_in = D_IN,
        .n_hidden = 1,
        .hidden = hidden,
        .n_classes = 0,
        .activation = HP_LINEAR,
        .dropout = p,
        .max_batch = 1,
    };
    struct err e = ERR_INIT;
    struct mlp *m = mlp_new(&mc, &e);
    CHECK(m != NULL);
    if (!m)
        return;
    struct rng r;
    rng_seed(&r, 3, RNG_INIT);
    mlp_init_params(m, HP_INIT_XAVIER, 0, &r);
    mlp_real x[D_IN] = {0.7, -1.2, 0.4};
    struct mlp_layer_info l1, l2;
    mlp_layer_info(m, 0, &l1);
    mlp_layer_info(m, 1, &l2);
    const mlp_real *P = mlp_params(m);
    /* The expectation, from the parameters: h_j = x·W1[:, j] + b1_j (linear),
     * z = Σ_j mask_j·h_j·w2_j + b2 with E[mask_j] = 1, Var[mask_j] = p/(1-p). */
    double mean_want = P[l2.b], var_want = 0;
    for (int j = 0; j < WIDTH; j++) {
        double h = P[l1.b + j];
        for (int i = 0; i < D_IN; i++)
            h += x[i] * P[l1.w + (size_t)i * WIDTH + j];
        double c = h * P[l2.w + j];
        mean_want += c;
        var_want += c * c * p / (1 - p);
    }
    /* Inference output: no dropout. */
    struct mlp_stats st = {0, 0, 0};
    float y0 = 0;
    mlp_forward(m, x, &y0, 1, MLP_EVAL, NULL, &st);
    double eval_out;
    mlp_outputs(m, 1, &eval_out, NULL);
    CHECK(fabs(eval_out - mean_want) < 1e-12);

    struct rng drop;
    rng_seed(&drop, 5, RNG_DROPOUT);
    double s = 0, ss = 0;
    for (int k = 0; k < DRAWS; k++) {
        double z = output_with_mask(m, x, &drop);
        s += z;
        ss += z * z;
    }
    double mean = s / DRAWS, var = (ss - s * s / DRAWS) / (DRAWS - 1);
    double se = sqrt(var_want / DRAWS);
    printf("dropout p=%.1f: mean output %.5f (expected %.5f, se %.5f), variance %.5f (expected "
           "%.5f)\n",
           p, mean, mean_want, se, var, var_want);
    CHECK(fabs(mean - mean_want) < 5 * se);
    /* The variance of a sample variance of DRAWS values is small (~2σ⁴/n for
     * a near-normal z: 1 % here); 10 % tells 1/(1-p) from any other scale. */
    CHECK(fabs(var / var_want - 1) < 0.1);
    mlp_free(m);
}

int main(void)
{
    test_shuffle_every_epoch();
    test_inverted_dropout();
    return check_report();
}
