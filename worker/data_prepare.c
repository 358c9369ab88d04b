/*
 * data_prepare — one trial's data from a loaded dataset: the fixed
 * train/validation split and the input normalisation.
 *
 * The split: a Fisher-Yates permutation of the training rows from the
 * RNG_SPLIT stream of split_seed alone (never the trial seed); its first
 * n_val rows are the validation set, the following ones the training set,
 * cut to train_size (sizes by dataset_split(), the rule the daemon checks at
 * submit time).  Normalisation statistics (population sd; min/max) come
 * from that cut training set only and are applied to train, validation and
 * test; labels are never touched.  "auto" is resolved here from the dataset's
 * family (data_normalize_resolve); "standardize" has a variance floor
 * (DATA_SD_FLOOR below).
 */
#include "data_int.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "rng.h"

/* Copy rows idx[0..n) of v into x/y. */
static void gather(const struct data_view *v, const int64_t *idx, int64_t n, float *x, float *y)
{
    for (int64_t i = 0; i < n; i++) {
        memcpy(x + (size_t)i * v->d, v->x + (size_t)idx[i] * v->d, (size_t)v->d * sizeof(float));
        y[i] = v->y[idx[i]];
    }
}

/*
 * The variance floor of "standardize": a feature's sd is taken as at least
 * DATA_SD_FLOOR times its range (max - min) on the training split.
 *
 * Why: with a small training split, a feature that is nearly constant there
 * (an image border pixel lit in 1 of 250 images, a rare binary indicator)
 * has a tiny sd, and dividing by it turns the rare value, and every unseen
 * value on validation and test rows, into tens or hundreds of units: the
 * learning curve at small train_size is then mostly about these outliers.
 * Flooring against the feature's own range keeps the rule unit-free (each
 * tabular feature is judged in its own units, unlike a floor relative to a
 * pooled sd) and gives a plain guarantee: every training value lands within
 * +-1/DATA_SD_FLOOR = +-10 of zero.  Well-spread features are untouched
 * (sd/range is about 0.29 for a uniform feature and stays above 0.1 for a
 * Gaussian one up to about a million rows), so ordinary tabular data is
 * standardised exactly as before.  A feature constant on the training split
 * (range 0) carries nothing the network can learn from, so it is mapped to 0
 * on every split, as "minmax" does, instead of passing unseen values on
 * validation and test rows through unscaled.
 */
#define DATA_SD_FLOOR 0.1

/* Affine map x' = (x - shift[j]) * scale[j] from the training rows. */
static int norm_stats(const struct data_view *tr, enum hp_normalize how, double *shift,
                      double *scale)
{
    int d = tr->d;
    double *lo = NULL, *hi = NULL, *m2 = NULL;
    for (int j = 0; j < d; j++) {
        shift[j] = 0;
        scale[j] = 1;
    }
    if (how == HP_NONE)
        return 0;
    if (how == HP_GLOBAL) {
        /* One mean and one (population) sd over every feature of every row. */
        double sum = 0, ss = 0, cnt = (double)tr->n * d;
        for (size_t i = 0; i < (size_t)tr->n * d; i++)
            sum += tr->x[i];
        double mean = sum / cnt;
        for (size_t i = 0; i < (size_t)tr->n * d; i++)
            ss += (tr->x[i] - mean) * (tr->x[i] - mean);
        double sd = sqrt(ss / cnt);
        for (int j = 0; j < d; j++) {
            shift[j] = mean;
            scale[j] = sd > 0 ? 1.0 / sd : 0.0;
        }
        return 0;
    }
    lo = malloc((size_t)d * sizeof *lo);
    hi = malloc((size_t)d * sizeof *hi);
    m2 = calloc((size_t)d, sizeof *m2);
    if (!lo || !hi || !m2)
        goto fail;
    for (int j = 0; j < d; j++)
        lo[j] = hi[j] = tr->x[j];
    for (int64_t i = 0; i < tr->n; i++)
        for (int j = 0; j < d; j++) {
            double v = tr->x[(size_t)i * d + j];
            shift[j] += v;
            lo[j] = v < lo[j] ? v : lo[j];
            hi[j] = v > hi[j] ? v : hi[j];
        }
    if (how == HP_MINMAX) {
        /* A constant feature maps to 0: scale 0 after removing its minimum. */
        for (int j = 0; j < d; j++) {
            shift[j] = lo[j];
            scale[j] = hi[j] > lo[j] ? 1.0 / (hi[j] - lo[j]) : 0.0;
        }
        goto out;
    }
    for (int j = 0; j < d; j++)
        shift[j] /= (double)tr->n;
    for (int64_t i = 0; i < tr->n; i++)
        for (int j = 0; j < d; j++) {
            double c = tr->x[(size_t)i * d + j] - shift[j];
            m2[j] += c * c;
        }
    for (int j = 0; j < d; j++) {
        double sd = sqrt(m2[j] / (double)tr->n), floor = DATA_SD_FLOOR * (hi[j] - lo[j]);
        scale[j] = hi[j] > lo[j] ? 1.0 / (sd > floor ? sd : floor) : 0.0;
    }
out:
    free(lo);
    free(hi);
    free(m2);
    return 0;
fail:
    free(lo);
    free(hi);
    free(m2);
    return -1;
}

static void apply_norm(float *x, int64_t n, int d, const double *shift, const double *scale)
{
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            float *p = x + (size_t)i * d + j;
            *p = (float)((*p - shift[j]) * scale[j]);
        }
}

enum hp_normalize data_normalize_resolve(const struct dataset *ds, enum hp_normalize how)
{
    if (how != HP_NORM_AUTO)
        return how;
    return ds->family == DS_FAMILY_IMAGE ? HP_GLOBAL : HP_STANDARDIZE;
}

void data__prepared_views(float *buf, int64_t n_val, int64_t n_tr, int64_t n_keep, int64_t n_test,
                          int d, struct data_prepared *out)
{
    float *p = buf;
    struct data_view *v[3] = {&out->val, &out->train, &out->test};
    int64_t cnt[3] = {n_val, n_keep, n_test};
    for (int s = 0; s < 3; s++) {
        v[s]->n = cnt[s];
        v[s]->d = d;
        v[s]->x = p;
        p += (size_t)cnt[s] * d;
        v[s]->y = p;
        p += cnt[s];
    }
    out->train.n = n_tr;
}

int data__prepare_into(const struct dataset *ds, int64_t split_seed, int64_t n_val, int64_t n_tr,
                       int64_t n_keep, enum hp_normalize norm, float *buf, double *shift,
                       double *scale)
{
    const struct data_view *all = &ds->train, *test = &ds->test;
    const int64_t n = all->n;
    const int d = all->d;
    struct data_prepared v;
    int64_t *perm = malloc((size_t)n * sizeof *perm);
    if (!perm)
        return MLP_ENOMEM;
    /* The split depends on split_seed alone, never on the trial seed. */
    struct rng st;
    rng_seed(&st, (uint64_t)split_seed, RNG_SPLIT);
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    rng_shuffle(&st, perm, n);
    /* Validation = the first n_val shuffled rows; training = the following ones. */
    memset(&v, 0, sizeof v);
    data__prepared_views(buf, n_val, n_keep, n_keep, test->n, d, &v);
    gather(all, perm, n_val, (float *)v.val.x, (float *)v.val.y);
    gather(all, perm + n_val, n_keep, (float *)v.train.x, (float *)v.train.y);
    memcpy((float *)v.test.x, test->x, (size_t)test->n * d * sizeof(float));
    memcpy((float *)v.test.y, test->y, (size_t)test->n * sizeof(float));
    free(perm);
    /* Statistics from the first n_tr training rows (the trial's train_size). */
    v.train.n = n_tr;
    if (norm_stats(&v.train, norm, shift, scale))
        return MLP_ENOMEM;
    if (norm != HP_NONE) {
        struct data_view *w[3] = {&v.val, &v.train, &v.test};
        for (int s = 0; s < 3; s++)
            apply_norm((float *)w[s]->x, w[s]->n, d, shift, scale);
    }
    return 0;
}

/* Sizes of the split hp asks for: 0, or MLP_EINVALID_SPEC naming the parameter. */
static int split_sizes(const struct dataset *ds, const struct hparams *hp, int64_t *n_val,
                       int64_t *n_tr, struct err *e)
{
    return dataset_split(ds->train.n, hp->val_fraction, hp->train_size, n_val, n_tr, e);
}

int data_prepare_uncached(const struct dataset *ds, const struct hparams *hp,
                          struct data_prepared *out, struct err *e)
{
    int64_t n_val, n_tr;
    int rc;
    memset(out, 0, sizeof *out);
    if ((rc = data__decode((struct dataset *)ds, e)))
        return rc;
    if ((rc = split_sizes(ds, hp, &n_val, &n_tr, e)))
        return rc;
    const int d = ds->train.d;
    size_t rows = (size_t)(n_tr + n_val + ds->test.n);
    out->buf_ = malloc(rows * (size_t)(d + 1) * sizeof(float));
    out->stats_ = malloc(2 * (size_t)(d > 0 ? d : 1) * sizeof(double));
    if (!out->buf_ || !out->stats_) {
        data_prepared_release(out);
        return err_set(e, MLP_ENOMEM, NULL, "out of memory preparing the data");
    }
    out->normalize = data_normalize_resolve(ds, hp->normalize);
    if (data__prepare_into(ds, hp->split_seed, n_val, n_tr, n_tr, out->normalize, out->buf_,
                           out->stats_, out->stats_ + d)) {
        data_prepared_release(out);
        return err_set(e, MLP_ENOMEM, NULL, "out of memory preparing the data");
    }
    data__prepared_views(out->buf_, n_val, n_tr, n_tr, ds->test.n, d, out);
    out->norm_shift = out->stats_;
    out->norm_scale = out->stats_ + d;
    out->n_classes = ds->n_classes;
    return 0;
}

int data_prepare(const struct dataset *ds, const struct hparams *hp, struct data_prepared *out,
                 struct err *e)
{
    memset(out, 0, sizeof *out);
    if (ds->cache_dir) {
        struct err ce = ERR_INIT;
        enum hp_normalize norm = data_normalize_resolve(ds, hp->normalize);
        int rc = data__cache_prepare((struct dataset *)ds, hp, norm, out, &ce);
        if (rc == 0)
            return 0;
        if (rc == MLP_EINVALID_DATASET || rc == MLP_EINVALID_SPEC) {
            *e = ce;
            return rc;
        }
        fprintf(stderr, "mlp-worker: data cache not used (%s): preparing in memory\n",
                ce.msg[0] ? ce.msg : err_default_msg(rc));
    }
    return data_prepare_uncached(ds, hp, out, e);
}

void data_prepared_release(struct data_prepared *p)
{
    if (!p)
        return;
    free(p->buf_);
    free(p->stats_);
    if (p->map_)
        munmap(p->map_, p->map_len_);
    memset(p, 0, sizeof *p);
}
