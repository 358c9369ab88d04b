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
 *
 * The trial's state lives in one struct trainer; train_run() is the outline
 * (open, then per epoch: train_batches, evaluate_epoch, keep_or_stop; then
 * finish_test) and each step is its own function.
 */
#include "clock.h"
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mlp.h"
#include "optim.h"
#include "rng.h"

#define EVAL_CHUNK 256
/* Divergence (train.h): an evaluated training loss above this many times the
 * initialised network's training loss on the same rows. */
#define DIVERGE_FACTOR 10.0
#define PREFETCH_ROWS 8 /* gather look-ahead, in rows (measured: 4..16 all about as good) */

/* Ask for the cache lines of one row of n bytes. */
static inline void prefetch_row(const float *row, size_t n)
{
    const char *p = (const char *)row;
    for (size_t o = 0; o < n; o += 64)
        __builtin_prefetch(p + o, 0, 3);
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

/* Rows [s, s+B) of an evaluation set: of v itself, or with rows non-NULL the
 * rows rows[s..s+B) of v gathered into buf (labels into ybuf).  *y gets the
 * labels. */
static const mlp_real *eval_rows(mlp_real *buf, float *ybuf, const struct data_view *v,
                                 const int64_t *rows, int64_t s, int B, const float **y)
{
    if (!rows) {
        *y = v->y + s;
        return rows_of(buf, v, s, B);
    }
    for (int i = 0; i < B; i++) {
        const float *src = v->x + (size_t)rows[s + i] * v->d;
        mlp_real *dst = buf + (size_t)i * v->d;
#ifdef MLP_DOUBLE
        for (int j = 0; j < v->d; j++)
            dst[j] = src[j];
#else
        memcpy(dst, src, (size_t)v->d * sizeof *dst);
#endif
        ybuf[i] = v->y[rows[s + i]];
    }
    *y = ybuf;
    return buf;
}

/* Mean loss and metric of a whole view in inference mode (NaN for an empty
 * view); with rows non-NULL, of the view's rows rows[0..n) (n rows, gathered
 * chunk by chunk into buf/ybuf, which then hold mlp_max_batch rows).  With conf non-NULL (classification) the confusion counts of the view
 * are added to conf[K×K]; with out non-NULL the model outputs of every row are
 * written to out[n×cols] and pred[n] (mlp_outputs). */
static void evaluate_into(struct mlp *m, mlp_real *buf, float *ybuf, const struct data_view *v,
                          const int64_t *rows, int64_t n, double *loss, double *metric,
                          int64_t *conf, int K, double *out, int *pred, double *scratch,
                          int *spred)
{
    struct mlp_stats st = {0, 0, 0};
    int cap = mlp_max_batch(m);
    const int cols = K ? K : 1;
    for (int64_t s = 0; s < n; s += cap) {
        int B = (int)(n - s < cap ? n - s : cap);
        const float *y;
        const mlp_real *x = eval_rows(buf, ybuf, v, rows, s, B, &y);
        mlp_forward(m, x, y, B, MLP_EVAL, NULL, &st);
        if (!conf && !out)
            continue;
        double *o = out ? out + (size_t)s * cols : scratch;
        int *p = pred ? pred + s : spred;
        mlp_outputs(m, B, o, K ? p : NULL);
        if (conf)
            for (int i = 0; i < B; i++)
                conf[(size_t)y[i] * K + p[i]]++;
    }
    if (st.n == 0) {
        *loss = *metric = NAN;
        return;
    }
    *loss = st.loss_sum / (double)st.n;
    *metric = st.hits / (double)st.n; /* accuracy, or MSE for regression */
}

static void evaluate(struct mlp *m, mlp_real *buf, const struct data_view *v, double *loss,
                     double *metric)
{
    evaluate_into(m, buf, NULL, v, NULL, v->n, loss, metric, NULL, 0, NULL, NULL, NULL, NULL);
}

double train_lr_at(const struct hparams *hp, int64_t t, int64_t T)
{
    switch (hp->sched) {
    case HP_SCHED_STEP:
        return hp->lr * pow(hp->sched_gamma, (double)(t / hp->sched_step));
    case HP_SCHED_EXPONENTIAL:
        return hp->lr * pow(hp->sched_gamma, (double)t);
    case HP_SCHED_COSINE:
        return T > 0 ? hp->lr * 0.5 * (1 + cos(M_PI * (double)t / (double)T)) : hp->lr;
    case HP_SCHED_NONE:
        break;
    }
    return hp->lr;
}

/* Everything one trial holds while it trains. */
struct trainer {
    const struct hparams *hp;
    const struct data_prepared *d;
    const struct data_view *tr; /* the training split */
    int64_t *tr_eval_rows;      /* the train_eval subsample: rows of *tr (ascending), or
                                   NULL: the whole split */
    int64_t tr_eval_n;          /* rows train_* are measured on */
    mlp_real *eb;               /* gather buffer of the subsample (mlp_max_batch rows) */
    float *eyb;                 /* its labels */
    struct mlp *m;
    struct optim *opt;
    int64_t *idx;        /* the training rows in this pass's shuffled order */
    mlp_real *xb, *snap; /* batch / conversion buffer; state of the kept epoch */
    float *yb;           /* batch labels */
    struct rng r_shuf, r_drop, r_noise;
    bool full;           /* full batch: no shuffle, no gather */
    bool fused_sgd;      /* plain SGD steps inside the backward pass */
    int bsz;             /* rows per batch */
    int64_t per_epoch;   /* batches per pass over the training split */
    int64_t cursor;      /* next row of the current pass */
    int64_t step;        /* batches trained */
    int64_t total_steps; /* batches the trial will train at most */
    double lr;           /* learning rate of the last batch */
    double t0;           /* the trial's start (mono_s()), for max_seconds */
    double best;         /* lowest watched loss so far (early stopping) */
    int since_best;      /* evaluations since it */
    uint64_t seed;       /* the trial seed (the reference network's init stream) */
    bool picked;         /* the train_eval rows are chosen */
    struct mlp_config mc; /* the network's shape (the reference network's too) */
    /* The divergence reference: the initialised network's loss summed over
     * the first ref_done train_eval rows, chunk by chunk as evaluate_into()
     * sums a pass (see diverged_by_factor). */
    struct mlp_stats ref;
    int64_t ref_done;
};

/* The loss passes index by label: every label must be a class index. */
static int check_labels(const struct data_prepared *d, struct err *e)
{
    if (d->n_classes <= 0)
        return 0;
    const struct data_view *views[3] = {&d->train, &d->val, &d->test};
    for (int v = 0; v < 3; v++)
        for (int64_t i = 0; i < views[v]->n; i++) {
            float c = views[v]->y[i];
            if (!(c >= 0 && c < (float)d->n_classes && c == (float)(int)c))
                return err_set(e, MLP_EINVALID_DATASET, NULL,
                               "label %g of row %lld is not a class index in [0, %d)", (double)c,
                               (long long)i, d->n_classes);
        }
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The train_eval subsample: as many training rows as the validation split
 * has, drawn from split_seed alone (the same for every epoch and seed), kept
 * in their split order as a list of row numbers: evaluation gathers them from
 * the training split chunk by chunk, no copy of the rows is made.  Chosen at
 * the first evaluation (nothing before it needs them: start-up stays short). */
static int pick_train_eval(struct trainer *t, struct err *e)
{
    const struct data_view *tr = t->tr;
    const int64_t k = t->d->val.n;
    const int cap = mlp_max_batch(t->m);
    if (t->picked)
        return 0;
    t->picked = true;
    t->tr_eval_n = tr->n;
    if (t->hp->train_eval == HP_TE_FULL || k < 1 || k >= tr->n)
        return 0;
    int64_t *pick = malloc((size_t)tr->n * sizeof *pick);
    t->eb = malloc((size_t)cap * (size_t)tr->d * sizeof *t->eb);
    t->eyb = malloc((size_t)cap * sizeof *t->eyb);
    if (!pick || !t->eb || !t->eyb) {
        free(pick);
        return err_set(e, MLP_ENOMEM, NULL, "out of memory allocating the train_eval subsample");
    }
    struct rng r;
    rng_seed(&r, (uint64_t)t->hp->split_seed, RNG_TRAIN_EVAL);
    for (int64_t i = 0; i < tr->n; i++)
        pick[i] = i;
    for (int64_t i = 0; i < k; i++) { /* partial Fisher–Yates: the first k */
        int64_t j = i + (int64_t)rng_below(&r, (uint64_t)(tr->n - i)), x = pick[i];
        pick[i] = pick[j];
        pick[j] = x;
    }
    qsort(pick, (size_t)k, sizeof *pick, cmp_i64);
    int64_t *kept = realloc(pick, (size_t)k * sizeof *pick);
    t->tr_eval_rows = kept ? kept : pick;
    t->tr_eval_n = k;
    return 0;
}

/* Network, optimiser, buffers and random streams of a trial. */
static int trainer_open(struct trainer *t, const struct hparams *hp, uint64_t seed,
                        const struct data_prepared *d, double t_start, struct err *e)
{
    memset(t, 0, sizeof *t);
    t->t0 = t_start > 0 ? t_start : mono_s();
    t->hp = hp;
    t->d = d;
    t->tr = &d->train;
    t->best = INFINITY;
    const struct data_view *tr = t->tr;
    t->full = hp->batch_size >= tr->n;
    t->bsz = t->full ? (int)tr->n : hp->batch_size;
    t->per_epoch = (tr->n + t->bsz - 1) / t->bsz;
    t->total_steps = hp->iterations > 0 ? hp->iterations : (int64_t)hp->epochs * t->per_epoch;
    t->lr = hp->lr;
    int64_t most = tr->n;
    if (d->val.n > most)
        most = d->val.n;
    if (d->test.n > most)
        most = d->test.n;
    int cap = t->bsz;
    if (cap < EVAL_CHUNK)
        cap = (int)(most < EVAL_CHUNK ? most : EVAL_CHUNK);
    if (cap < t->bsz)
        cap = t->bsz;

    t->seed = seed;
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
    t->mc = mc;
    t->m = mlp_new(&mc, e);
    if (!t->m)
        return e->code;
    t->opt = optim_new(hp->optimizer, mlp_n_params(t->m), hp->lr, hp->momentum, e);
    if (!t->opt)
        return e->code;
#ifdef MLP_DOUBLE
    const size_t xrows = (size_t)cap; /* conversion buffer for every pass */
#else
    const size_t xrows = t->full ? 0 : (size_t)t->bsz;
#endif
    t->idx = malloc((size_t)tr->n * sizeof *t->idx);
    t->xb = malloc((xrows ? xrows : 1) * (size_t)tr->d * sizeof *t->xb);
    t->yb = malloc((size_t)t->bsz * sizeof *t->yb);
    t->snap = malloc(mlp_n_state(t->m) * sizeof *t->snap);
    if (!t->idx || !t->xb || !t->yb || !t->snap)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory allocating training buffers");
    for (int64_t i = 0; i < tr->n; i++)
        t->idx[i] = i;

    struct rng r_init;
    rng_seed(&r_init, seed, RNG_INIT);
    rng_seed(&t->r_shuf, seed, RNG_SHUFFLE);
    rng_seed(&t->r_drop, seed, RNG_DROPOUT);
    rng_seed(&t->r_noise, seed, RNG_NOISE);
    mlp_init_params(t->m, hp->init, hp->init_scale, &r_init);
    /* Plain SGD without gradient noise needs no gradient block: the backward
     * pass applies the step itself (mlp_backward_sgd). */
    t->fused_sgd = train_fused_sgd(hp);
    return 0;
}

static void trainer_close(struct trainer *t)
{
    free(t->tr_eval_rows);
    free(t->eb);
    free(t->eyb);
    free(t->snap);
    free(t->yb);
    free(t->xb);
    free(t->idx);
    optim_free(t->opt);
    mlp_free(t->m);
}

/* Rows [s, s+B) of the current pass as a batch (x, y). */
static void batch_rows(struct trainer *t, int64_t s, int B, const mlp_real **x, const float **y)
{
    const struct data_view *tr = t->tr;
    const int d_in = tr->d;
    const size_t row_bytes = (size_t)d_in * sizeof(float);
    if (t->full) {
        *x = rows_of(t->xb, tr, 0, B);
        *y = tr->y;
        return;
    }
#ifndef MLP_DOUBLE
    if (B == 1) {
        /* online SGD: the row itself, no copy */
        *x = tr->x + (size_t)t->idx[s] * d_in;
        *y = tr->y + t->idx[s];
        return;
    }
#endif
    /* The rows are scattered over the whole set (a DRAM miss each):
     * prefetching PREFETCH_ROWS rows ahead keeps several in flight. */
    const int64_t ahead = tr->n - s;
    for (int r = 0; r < B; r++) {
        if (r + PREFETCH_ROWS < ahead)
            prefetch_row(tr->x + (size_t)t->idx[s + r + PREFETCH_ROWS] * d_in, row_bytes);
        int64_t k = t->idx[s + r];
        const float *src = tr->x + (size_t)k * d_in;
        mlp_real *dst = t->xb + (size_t)r * d_in;
#ifdef MLP_DOUBLE
        for (int j = 0; j < d_in; j++)
            dst[j] = src[j];
#else
        memcpy(dst, src, (size_t)d_in * sizeof *dst);
#endif
        t->yb[r] = tr->y[k];
    }
    *x = t->xb;
    *y = t->yb;
}

/* The learning rate of the next batch, from the schedule. */
static double next_lr(const struct trainer *t)
{
    const struct hparams *hp = t->hp;
    if (hp->sched == HP_SCHED_NONE)
        return hp->lr;
    if (hp->sched_per_iteration)
        return train_lr_at(hp, t->step, t->total_steps);
    int64_t T = (t->total_steps + t->per_epoch - 1) / t->per_epoch;
    return train_lr_at(hp, t->step / t->per_epoch, T);
}

bool train_fused_sgd(const struct hparams *hp)
{
    return hp->optimizer == HP_SGD && hp->grad_noise == 0;
}

double train_step(struct mlp *m, struct optim *opt, bool fused, const mlp_real *x, const float *y,
                  int B, double lr, double noise, struct rng *drop, struct rng *r_noise)
{
    struct mlp_stats st = {0, 0, 0};
    double loss = mlp_forward(m, x, y, B, MLP_TRAIN, drop, &st);
    if (!isfinite(loss))
        return loss;
    if (fused) {
        mlp_backward_sgd(m, x, B, lr);
    } else {
        mlp_real *g = mlp_grads(m);
        mlp_backward(m, x, B);
        if (noise > 0)
            for (size_t i = 0, np = mlp_n_params(m); i < np; i++)
                g[i] += (mlp_real)(noise * rng_gauss(r_noise));
        optim_step(opt, mlp_params(m), g);
    }
    return loss;
}

/* One batch: forward, backward, step.  False when the batch loss is not finite. */
static bool train_batch(struct trainer *t, const mlp_real *x, const float *y, int B)
{
    double lr = next_lr(t);
    if (lr != t->lr) {
        t->lr = lr;
        optim_set_lr(t->opt, lr);
    }
    double loss = train_step(t->m, t->opt, t->fused_sgd, x, y, B, lr, t->hp->grad_noise,
                             &t->r_drop, &t->r_noise);
    if (!isfinite(loss))
        return false;
    t->step++;
    return true;
}

/* Train n batches, continuing the current pass (a new pass is shuffled first).
 * Returns 0, 1 when the trial diverged, or MLP_ETIMEOUT. */
static int train_batches(struct trainer *t, int64_t n)
{
    const struct data_view *tr = t->tr;
    for (int64_t k = 0; k < n; k++) {
        if (t->cursor == 0 && !t->full)
            rng_shuffle(&t->r_shuf, t->idx, tr->n);
        int64_t s = t->cursor;
        int B = (int)(tr->n - s < t->bsz ? tr->n - s : t->bsz);
        const mlp_real *x;
        const float *y;
        batch_rows(t, s, B, &x, &y);
        if (!train_batch(t, x, y, B))
            return 1;
        t->cursor = s + B >= tr->n ? 0 : s + B;
        if (t->hp->max_seconds > 0 && mono_s() - t->t0 > t->hp->max_seconds)
            return MLP_ETIMEOUT;
    }
    return 0;
}

/* Loss and metric on what train_* are measured on (train_eval). */
static void evaluate_train(struct trainer *t, double *loss, double *metric)
{
    if (t->tr_eval_rows)
        evaluate_into(t->m, t->eb, t->eyb, t->tr, t->tr_eval_rows, t->tr_eval_n, loss, metric,
                      NULL, 0, NULL, NULL, NULL, NULL);
    else
        evaluate(t->m, t->xb, t->tr, loss, metric);
}

/* The metrics of one epoch record: 0, 1 when a loss is not finite (the trial
 * diverged), or MLP_ENOMEM. */
static int evaluate_epoch(struct trainer *t, struct train_epoch *rec, struct err *e)
{
    const struct data_prepared *d = t->d;
    if (pick_train_eval(t, e) < 0)
        return e->code;
    rec->test_loss = rec->test_metric = NAN;
    evaluate_train(t, &rec->train_loss, &rec->train_metric);
    evaluate(t->m, t->xb, &d->val, &rec->val_loss, &rec->val_metric);
    if (t->hp->curve_test)
        evaluate(t->m, t->xb, &d->test, &rec->test_loss, &rec->test_metric);
    return isfinite(rec->train_loss) && (d->val.n == 0 || isfinite(rec->val_loss)) ? 0 : 1;
}

/*
 * The divergence reference (train.h) is the initialised network's mean loss
 * L0 = S/n over the n train_eval rows, S summed chunk by chunk exactly as
 * evaluate_into() sums a pass (same chunks, same order: the same bits as
 * evaluating it before the first step).  It is evaluated lazily, only as far
 * as a decision needs: every row's loss is >= 0 (cross-entropy log Σe^(z-max)
 * - (z_c - max) has both terms >= 0, binary cross-entropy softplus(v) - t·v
 * >= 0, squared error d² >= 0), and a rounded sum of non-negative terms never
 * decreases as terms are added, so the partial sum S_k of the first k rows
 * gives S_k/n <= L0.  A training loss <= 10·S_k/n is therefore <= 10·L0: not
 * diverged, decided without the other rows.  A well-behaved trial evaluates
 * one or two chunks of the reference instead of the whole subsample, and none
 * before its first batch.  The initialised network is rebuilt from the trial
 * seed's init stream when needed (the same bits as the trained one's start)
 * and freed again: no copy of it is held while training.
 *
 * Returns 1 when loss > DIVERGE_FACTOR·L0 (then *ref = L0, computed in full),
 * 0 when not, MLP_ENOMEM.  With all set, L0 is evaluated in full regardless.
 */
static int diverged_by_factor(struct trainer *t, double loss, bool all, double *ref, struct err *e)
{
    if (pick_train_eval(t, e) < 0)
        return e->code;
    const int64_t n = t->tr_eval_n;
    if (t->ref_done < n && (all || !(loss <= DIVERGE_FACTOR * (t->ref.loss_sum / (double)n)))) {
        struct mlp *m0 = mlp_new(&t->mc, e);
        if (!m0)
            return e->code;
        struct rng r_init;
        rng_seed(&r_init, t->seed, RNG_INIT);
        mlp_init_params(m0, t->hp->init, t->hp->init_scale, &r_init);
        const int cap = mlp_max_batch(m0);
        mlp_real *buf = t->tr_eval_rows ? t->eb : t->xb;
        while (t->ref_done < n &&
               (all || !(loss <= DIVERGE_FACTOR * (t->ref.loss_sum / (double)n)))) {
            const int64_t s = t->ref_done;
            const int B = (int)(n - s < cap ? n - s : cap);
            const float *y;
            const mlp_real *x = eval_rows(buf, t->eyb, t->tr, t->tr_eval_rows, s, B, &y);
            mlp_forward(m0, x, y, B, MLP_EVAL, NULL, &t->ref);
            t->ref_done = s + B;
        }
        mlp_free(m0);
    }
    if (t->ref_done < n)
        return 0;
    *ref = t->ref.loss_sum / (double)t->ref.n;
    return loss > DIVERGE_FACTOR * *ref ? 1 : 0;
}

/* Early stopping and the kept epoch: snapshot the state when rec is kept.
 * Returns true when training should stop. */
static bool keep_or_stop(struct trainer *t, const struct train_epoch *rec, struct train_result *res)
{
    const struct hparams *hp = t->hp;
    const bool es = hp->es_patience > 0;
    bool keep = true;
    if (es) {
        double watched = hp->es_on == HP_ES_TRAIN_LOSS ? rec->train_loss : rec->val_loss;
        keep = res->best_epoch == 0 || watched < t->best - hp->es_min_delta;
        if (keep) {
            t->best = watched;
            t->since_best = 0;
        } else {
            t->since_best++;
        }
    }
    if (keep) {
        memcpy(t->snap, mlp_params(t->m), mlp_n_state(t->m) * sizeof *t->snap);
        res->best_epoch = rec->epoch;
        res->train_loss = rec->train_loss;
        res->train_metric = rec->train_metric;
        res->val_loss = rec->val_loss;
        res->val_metric = rec->val_metric;
    }
    return es && t->since_best >= hp->es_patience;
}

/* Restore the kept state and measure the test split with it: loss, metric,
 * confusion matrix, and what save asks for. */
static int finish_test(struct trainer *t, struct train_result *res, struct err *e)
{
    const struct data_view *test = &t->d->test;
    const int K = t->d->n_classes, cols = K ? K : 1;
    const enum hp_save sv = t->hp->save;
    const bool preds = sv == HP_SAVE_PREDICTIONS || sv == HP_SAVE_BOTH;
    const int cap = mlp_max_batch(t->m);
    double *scratch = NULL;
    int *spred = NULL;
    if (res->best_epoch == 0)
        return 0;
    memcpy(mlp_params(t->m), t->snap, mlp_n_state(t->m) * sizeof *t->snap);
    if (K > 0)
        res->confusion = calloc((size_t)K * K, sizeof *res->confusion);
    if (preds) {
        res->n_test = test->n;
        res->test_out = malloc(((size_t)test->n * cols + 1) * sizeof *res->test_out);
        res->test_pred = malloc(((size_t)test->n + 1) * sizeof *res->test_pred);
    }
    scratch = malloc((size_t)cap * cols * sizeof *scratch);
    spred = malloc((size_t)cap * sizeof *spred);
    if ((K > 0 && !res->confusion) || (preds && (!res->test_out || !res->test_pred)) || !scratch ||
        !spred) {
        free(scratch);
        free(spred);
        return err_set(e, MLP_ENOMEM, NULL, "out of memory evaluating the test split");
    }
    evaluate_into(t->m, t->xb, NULL, test, NULL, test->n, &res->test_loss, &res->test_metric,
                  res->confusion, K, res->test_out, res->test_pred, scratch, spred);
    free(scratch);
    free(spred);
    if (sv == HP_SAVE_MODEL || sv == HP_SAVE_BOTH) {
        res->model = t->m; /* handed over: trainer_close() must not free it */
        t->m = NULL;
    }
    return 0;
}

/* The number of batches in evaluation interval ep (1-based), 0 past the end. */
static int64_t interval_batches(const struct trainer *t, int ep)
{
    const struct hparams *hp = t->hp;
    if (hp->iterations <= 0)
        return ep <= hp->epochs ? t->per_epoch : 0;
    int64_t every = hp->eval_every > 0 ? hp->eval_every : t->per_epoch;
    int64_t left = hp->iterations - t->step;
    return left <= 0 ? 0 : left < every ? left : every;
}

int train_run(const struct hparams *hp, uint64_t seed, const struct data_prepared *d,
              double t_start, train_epoch_fn cb, void *ctx, struct train_result *res,
              struct err *e)
{
    return train_run_opts(hp, seed, d, t_start, NULL, cb, ctx, res, e);
}

int train_run_opts(const struct hparams *hp, uint64_t seed, const struct data_prepared *d,
                   double t_start, const struct train_opts *opts, train_epoch_fn cb, void *ctx,
                   struct train_result *res, struct err *e)
{
    struct trainer t;
    int rc = 0;

    memset(res, 0, sizeof *res);
    res->regression = d->n_classes == 0;
    res->n_classes = d->n_classes;
    res->out_cols = d->n_classes ? d->n_classes : 1;
    res->train_loss = res->train_metric = res->val_loss = res->val_metric = NAN;
    res->test_loss = res->test_metric = NAN;
    res->initial_train_loss = res->diverged_loss = NAN;
    memset(&t, 0, sizeof t);
    if (d->train.n < 1)
        return err_set(e, MLP_EINVALID_DATASET, NULL, "the training split is empty");
    if (check_labels(d, e) < 0)
        return e->code;
    if (trainer_open(&t, hp, seed, d, t_start, e) < 0) {
        rc = e->code;
        goto out;
    }
    if (opts && opts->eager_reference) {
        /* The order before the reference was lazy: rows and reference first. */
        double tr0 = mono_s();
        if (diverged_by_factor(&t, 0, true, &res->initial_train_loss, e) < 0) {
            rc = e->code;
            goto out;
        }
        res->ref_seconds = mono_s() - tr0;
        res->ref_rows = t.ref_done;
    }
    for (int ep = 1;; ep++) {
        int64_t n = interval_batches(&t, ep);
        if (n == 0)
            break;
        double te = mono_s();
        if (ep == 1) {
            struct timespec cpu;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
            res->first_batch = te;
            res->first_batch_cpu = (double)cpu.tv_sec + (double)cpu.tv_nsec * 1e-9;
        }
        int st = train_batches(&t, n);
        if (st == 1) {
            res->diverged = true;
            res->diverged_loss = INFINITY; /* a batch loss, not finite */
            break;
        }
        if (st == MLP_ETIMEOUT)
            goto timeout;
        struct train_epoch rec = {
            .epoch = ep, .iteration = t.step, .lr = t.lr, .seconds = mono_s() - te};
        double tv = mono_s();
        int fin = evaluate_epoch(&t, &rec, e);
        res->eval_seconds += mono_s() - tv;
        if (fin < 0) {
            rc = fin;
            goto out;
        }
        if (fin == 1) {
            res->diverged = true;
            res->diverged_loss = INFINITY;
            break;
        }
        res->epochs_run = ep;
        if (cb)
            cb(&rec, ctx);
        double tr0 = mono_s();
        int blown = diverged_by_factor(&t, rec.train_loss, false, &res->initial_train_loss, e);
        res->ref_seconds += mono_s() - tr0;
        res->ref_rows = t.ref_done;
        if (blown < 0) {
            rc = blown;
            goto out;
        }
        if (blown) {
            /* Finite but blown up: reported (the curve shows it), never kept. */
            res->diverged = true;
            res->diverged_loss = rec.train_loss;
            break;
        }
        bool stop = keep_or_stop(&t, &rec, res);
        if (hp->max_seconds > 0 && mono_s() - t.t0 > hp->max_seconds)
            goto timeout;
        if (stop)
            break;
    }
    double tt = mono_s();
    rc = finish_test(&t, res, e);
    res->test_seconds = mono_s() - tt;
    goto out;

timeout:
    rc = err_set(e, MLP_ETIMEOUT, "params.max_seconds",
                 "trial exceeded max_seconds (%g s) after %d completed epoch(s)", hp->max_seconds,
                 res->epochs_run);
out:
    trainer_close(&t);
    return rc;
}

void train_result_release(struct train_result *res)
{
    if (!res)
        return;
    free(res->confusion);
    free(res->test_out);
    free(res->test_pred);
    mlp_free(res->model);
    res->confusion = NULL;
    res->test_out = NULL;
    res->test_pred = NULL;
    res->model = NULL;
}
