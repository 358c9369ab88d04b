/*
 * train — the epoch loop of one trial (see train.h for the metric conventions).
 *
 * Allocation happens once, before the first epoch: the network (sized for the
 * larger of the batch and the evaluation chunk), the optimiser, the shuffled
 * index array, the batch gather buffers and the snapshot of the kept epoch.
 * A full-batch trial (batch_size >= training rows) skips the shuffle and the
 * gather: the gradient of the whole set does not depend on row order.  An
 * online trial (batch 1) reads its row in place.  The gather of a mini-batch
 * prefetches a few rows ahead: its random rows are DRAM misses, and without the
 * look-ahead the copy cost ~10 % of a 784-100-100-10 batch-50 epoch.  Plain
 * SGD (no gradient noise) steps inside the backward pass (mlp_backward_sgd):
 * the weight gradients are never written and the update pass disappears.
 */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mlp.h"
#include "optim.h"
#include "rng.h"

#define EVAL_CHUNK 256
#define PREFETCH_ROWS 8 /* gather look-ahead, in rows (measured: 4..16 all about as good) */

/* Ask for the cache lines of one row of n bytes. */
static inline void prefetch_row(const float *row, size_t n)
{
    const char *p = (const char *)row;
    for (size_t o = 0; o < n; o += 64)
        __builtin_prefetch(p + o, 0, 3);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Rows [start, start+B) of v as mlp_real: the view itself in the float build,
 * converted into buf in the double build. */
static const mlp_real *rows_of(mlp_real *buf, const struct data_view *v, int64_t start, int B)
{
#ifdef MLP_DOUBLE
    const float *src = v->x + (size_t)start * v->d;
    for (size_t k = 0; k < (size_t)B * v->d; k++)
        buf[k] = src[k];
    return buf;
#else
    (void)buf;
    (void)B;
    return v->x + (size_t)start * v->d;
#endif
}

/* Mean loss and metric of a whole view in inference mode (NaN for an empty view). */
static void evaluate(struct mlp *m, mlp_real *buf, const struct data_view *v, double *loss,
                     double *metric)
{
    struct mlp_stats st = {0, 0, 0};
    int cap = mlp_max_batch(m);
    for (int64_t s = 0; s < v->n; s += cap) {
        int B = (int)(v->n - s < cap ? v->n - s : cap);
        mlp_forward(m, rows_of(buf, v, s, B), v->y + s, B, MLP_EVAL, NULL, &st);
    }
    if (st.n == 0) {
        *loss = *metric = NAN;
        return;
    }
    *loss = st.loss_sum / (double)st.n;
    *metric = st.hits / (double)st.n; /* accuracy, or MSE for regression */
}

int train_run(const struct hparams *hp, uint64_t seed, const struct data_prepared *d,
              train_epoch_fn cb, void *ctx, struct train_result *res, struct err *e)
{
    const double t0 = now_s();
    const struct data_view *tr = &d->train;
    struct mlp *m = NULL;
    struct optim *opt = NULL;
    int64_t *idx = NULL;
    mlp_real *xb = NULL, *snap = NULL;
    float *yb = NULL;
    int rc = 0;

    memset(res, 0, sizeof *res);
    res->regression = d->n_classes == 0;
    res->train_loss = res->train_metric = res->val_loss = res->val_metric = NAN;
    res->test_loss = res->test_metric = NAN;
    if (tr->n < 1)
        return err_set(e, MLP_EINVALID_DATASET, NULL, "the training split is empty");
    /* The loss passes index by label: every label must be a class index. */
    if (d->n_classes > 0) {
        const struct data_view *views[3] = {tr, &d->val, &d->test};
        for (int v = 0; v < 3; v++)
            for (int64_t i = 0; i < views[v]->n; i++) {
                float c = views[v]->y[i];
                if (!(c >= 0 && c < (float)d->n_classes && c == (float)(int)c))
                    return err_set(e, MLP_EINVALID_DATASET, NULL,
                                   "label %g of row %lld is not a class index in [0, %d)",
                                   (double)c, (long long)i, d->n_classes);
            }
    }

    const bool full = hp->batch_size >= tr->n;
    const int bsz = full ? (int)tr->n : hp->batch_size;
    int64_t most = tr->n;
    if (d->val.n > most)
        most = d->val.n;
    if (d->test.n > most)
        most = d->test.n;
    int cap = bsz;
    if (cap < EVAL_CHUNK)
        cap = (int)(most < EVAL_CHUNK ? most : EVAL_CHUNK);
    if (cap < bsz)
        cap = bsz;

    struct mlp_config mc = {
        .n_in = tr->d,
        .n_hidden = hp->n_hidden,
        .hidden = hp->hidden,
        .n_classes = d->n_classes,
        .activation = hp->activation,
        .dropout = hp->dropout,
        .batch_norm = hp->batch_norm,
        .l1 = hp->l1,
        .l2 = hp->l2,
        .max_batch = cap,
    };
    m = mlp_new(&mc, e);
    if (!m)
        return e->code;
    const size_t np = mlp_n_params(m), ns = mlp_n_state(m);
    opt = optim_new(hp->optimizer, np, hp->lr, hp->momentum, e);
    if (!opt) {
        rc = e->code;
        goto out;
    }
#ifdef MLP_DOUBLE
    const size_t xrows = (size_t)cap; /* conversion buffer for every pass */
#else
    const size_t xrows = full ? 0 : (size_t)bsz;
#endif
    idx = malloc((size_t)tr->n * sizeof *idx);
    xb = malloc((xrows ? xrows : 1) * (size_t)tr->d * sizeof *xb);
    yb = malloc((size_t)bsz * sizeof *yb);
    snap = malloc(ns * sizeof *snap);
    if (!idx || !xb || !yb || !snap) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory allocating training buffers");
        goto out;
    }
    for (int64_t i = 0; i < tr->n; i++)
        idx[i] = i;

    struct rng r_init, r_shuf, r_drop, r_noise;
    rng_seed(&r_init, seed, RNG_INIT);
    rng_seed(&r_shuf, seed, RNG_SHUFFLE);
    rng_seed(&r_drop, seed, RNG_DROPOUT);
    rng_seed(&r_noise, seed, RNG_NOISE);
    mlp_init_params(m, hp->init, hp->init_scale, &r_init);

    mlp_real *w = mlp_params(m), *g = mlp_grads(m);
    const int d_in = tr->d;
    const size_t row_bytes = (size_t)d_in * sizeof(float);
    const bool es = hp->es_patience > 0;
    const double noise = hp->grad_noise;
    /* Plain SGD without gradient noise needs no gradient block: the backward
     * pass applies the step itself (mlp_backward_sgd). */
    const bool fused_sgd = hp->optimizer == HP_SGD && noise == 0;
    double best_val = INFINITY;
    int since_best = 0;

    for (int ep = 1; ep <= hp->epochs; ep++) {
        double te = now_s();
        if (!full)
            rng_shuffle(&r_shuf, idx, tr->n);
        for (int64_t s = 0; s < tr->n; s += bsz) {
            int B = (int)(tr->n - s < bsz ? tr->n - s : bsz);
            const mlp_real *x;
            const float *y;
            if (full) {
                x = rows_of(xb, tr, 0, B);
                y = tr->y;
#ifndef MLP_DOUBLE
            } else if (B == 1) {
                /* online SGD: the row itself, no copy */
                x = tr->x + (size_t)idx[s] * d_in;
                y = tr->y + idx[s];
#endif
            } else {
                /* The rows are scattered over the whole set (a DRAM miss each):
                 * prefetching PREFETCH_ROWS rows ahead keeps several in flight. */
                const int64_t ahead = tr->n - s;
                for (int r = 0; r < B; r++) {
                    if (r + PREFETCH_ROWS < ahead)
                        prefetch_row(tr->x + (size_t)idx[s + r + PREFETCH_ROWS] * d_in, row_bytes);
                    int64_t k = idx[s + r];
                    const float *src = tr->x + (size_t)k * d_in;
                    mlp_real *dst = xb + (size_t)r * d_in;
#ifdef MLP_DOUBLE
                    for (int j = 0; j < d_in; j++)
                        dst[j] = src[j];
#else
                    memcpy(dst, src, (size_t)d_in * sizeof *dst);
#endif
                    yb[r] = tr->y[k];
                }
                x = xb;
                y = yb;
            }
            struct mlp_stats st = {0, 0, 0};
            double loss = mlp_forward(m, x, y, B, MLP_TRAIN, &r_drop, &st);
            if (!isfinite(loss)) {
                res->diverged = true;
                goto finish;
            }
            if (fused_sgd) {
                mlp_backward_sgd(m, x, B, hp->lr);
            } else {
                mlp_backward(m, x, B);
                if (noise > 0)
                    for (size_t i = 0; i < np; i++)
                        g[i] += (mlp_real)(noise * rng_gauss(&r_noise));
                optim_step(opt, w, g);
            }
            if (hp->max_seconds > 0 && now_s() - t0 > hp->max_seconds)
                goto timeout;
        }
        struct train_epoch rec = {.epoch = ep, .seconds = now_s() - te};
        evaluate(m, xb, tr, &rec.train_loss, &rec.train_metric);
        evaluate(m, xb, &d->val, &rec.val_loss, &rec.val_metric);
        if (!isfinite(rec.train_loss) || (d->val.n > 0 && !isfinite(rec.val_loss))) {
            res->diverged = true;
            goto finish;
        }
        res->epochs_run = ep;
        if (cb)
            cb(&rec, ctx);

        bool keep;
        if (es) {
            keep = res->best_epoch == 0 || rec.val_loss < best_val - hp->es_min_delta;
            if (keep) {
                best_val = rec.val_loss;
                since_best = 0;
            } else {
                since_best++;
            }
        } else {
            keep = true;
        }
        if (keep) {
            memcpy(snap, w, ns * sizeof *snap);
            res->best_epoch = ep;
            res->train_loss = rec.train_loss;
            res->train_metric = rec.train_metric;
            res->val_loss = rec.val_loss;
            res->val_metric = rec.val_metric;
        }
        if (hp->max_seconds > 0 && now_s() - t0 > hp->max_seconds)
            goto timeout;
        if (es && since_best >= hp->es_patience)
            break;
    }

finish:
    if (res->best_epoch > 0) {
        memcpy(w, snap, ns * sizeof *snap);
        evaluate(m, xb, &d->test, &res->test_loss, &res->test_metric);
    }
    goto out;

timeout:
    rc = err_set(e, MLP_ETIMEOUT, "params.max_seconds",
                 "trial exceeded max_seconds (%g s) after %d completed epoch(s)", hp->max_seconds,
                 res->epochs_run);
out:
    free(snap);
    free(yb);
    free(xb);
    free(idx);
    optim_free(opt);
    mlp_free(m);
    return rc;
}
