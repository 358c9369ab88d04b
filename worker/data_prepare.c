/*
 * data_prepare — one trial's data from a loaded dataset: the fixed
 * train/validation split and the input normalisation.
 *
 * The split: a Fisher-Yates permutation of the training rows from the
 * RNG_SPLIT stream of split_seed alone (never the trial seed); its first
 * n_val rows are the validation set, the following ones the training set,
 * cut to train_size (sizes by dataset_split(), the rule the daemon checks at
 * submit time).  Normalisation statistics come from that cut training set
 * only and are applied to train, validation and test; labels are never
 * touched.
 */
#include "data_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* Copy rows idx[0..n) of v into x/y. */
static void gather(const struct data_view *v, const int64_t *idx, int64_t n, float *x, float *y)
{
    for (int64_t i = 0; i < n; i++) {
        memcpy(x + (size_t)i * v->d, v->x + (size_t)idx[i] * v->d, (size_t)v->d * sizeof(float));
        y[i] = v->y[idx[i]];
    }
}

/* Per-feature affine map x' = (x - shift) * scale from the training rows. */
static int norm_stats(const struct data_view *tr, enum hp_normalize how, double *shift,
                      double *scale)
{
    int d = tr->d;
    for (int j = 0; j < d; j++) {
        shift[j] = 0;
        scale[j] = 1;
    }
    if (how == HP_NONE)
        return 0;
    if (how == HP_STANDARDIZE) {
        double *m2 = calloc((size_t)d, sizeof *m2);
        if (!m2)
            return -1;
        for (int64_t i = 0; i < tr->n; i++)
            for (int j = 0; j < d; j++)
                shift[j] += tr->x[(size_t)i * d + j];
        for (int j = 0; j < d; j++)
            shift[j] /= (double)tr->n;
        for (int64_t i = 0; i < tr->n; i++)
            for (int j = 0; j < d; j++) {
                double c = tr->x[(size_t)i * d + j] - shift[j];
                m2[j] += c * c;
            }
        for (int j = 0; j < d; j++) {
            double sd = sqrt(m2[j] / (double)tr->n);
            scale[j] = sd > 1e-12 ? 1.0 / sd : 1.0;
        }
        free(m2);
        return 0;
    }
    double *hi = malloc((size_t)d * sizeof *hi);
    if (!hi)
        return -1;
    for (int j = 0; j < d; j++)
        shift[j] = hi[j] = tr->x[j];
    for (int64_t i = 1; i < tr->n; i++)
        for (int j = 0; j < d; j++) {
            double v = tr->x[(size_t)i * d + j];
            if (v < shift[j])
                shift[j] = v;
            if (v > hi[j])
                hi[j] = v;
        }
    /* A constant feature maps to 0: scale 0 after removing its minimum. */
    for (int j = 0; j < d; j++)
        scale[j] = hi[j] > shift[j] ? 1.0 / (hi[j] - shift[j]) : 0.0;
    free(hi);
    return 0;
}

static void apply_norm(float *x, int64_t n, int d, const double *shift, const double *scale)
{
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            float *p = x + (size_t)i * d + j;
            *p = (float)((*p - shift[j]) * scale[j]);
        }
}

int data_prepare(const struct dataset *ds, const struct hparams *hp, struct data_prepared *out,
                 struct err *e)
{
    const struct data_view *all = &ds->train, *test = &ds->test;
    int64_t n = all->n, *perm = NULL;
    double *shift = NULL, *scale = NULL;
    int d = all->d, rc = 0;
    memset(out, 0, sizeof *out);
    int64_t n_val, n_tr;
    if ((rc = dataset_split(n, hp->val_fraction, hp->train_size, &n_val, &n_tr, e)))
        return rc;
    perm = malloc((size_t)n * sizeof *perm);
    shift = malloc((size_t)d * sizeof *shift);
    scale = malloc((size_t)d * sizeof *scale);
    size_t rows = (size_t)(n_tr + n_val + test->n);
    out->buf_ = malloc(rows * (size_t)(d + 1) * sizeof(float));
    if (!perm || !shift || !scale || !out->buf_) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory preparing the data");
        goto out;
    }
    /* The split depends on split_seed alone, never on the trial seed. */
    struct rng st;
    rng_seed(&st, (uint64_t)hp->split_seed, RNG_SPLIT);
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    rng_shuffle(&st, perm, n);
    /* Validation = the first n_val shuffled rows; training = the following ones. */
    float *p = out->buf_;
    struct data_view *v[3] = {&out->val, &out->train, &out->test};
    int64_t cnt[3] = {n_val, n_tr, test->n};
    for (int s = 0; s < 3; s++) {
        v[s]->n = cnt[s];
        v[s]->d = d;
        v[s]->x = p;
        p += (size_t)cnt[s] * d;
        v[s]->y = p;
        p += cnt[s];
    }
    gather(all, perm, n_val, (float *)out->val.x, (float *)out->val.y);
    gather(all, perm + n_val, n_tr, (float *)out->train.x, (float *)out->train.y);
    memcpy((float *)out->test.x, test->x, (size_t)test->n * d * sizeof(float));
    memcpy((float *)out->test.y, test->y, (size_t)test->n * sizeof(float));
    if (norm_stats(&out->train, hp->normalize, shift, scale)) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory preparing the data");
        goto out;
    }
    if (hp->normalize != HP_NONE)
        for (int s = 0; s < 3; s++)
            apply_norm((float *)v[s]->x, v[s]->n, d, shift, scale);
    out->n_classes = ds->n_classes;
out:
    free(perm);
    free(shift);
    free(scale);
    if (rc)
        data_prepared_release(out);
    return rc;
}

void data_prepared_release(struct data_prepared *p)
{
    if (!p)
        return;
    free(p->buf_);
    memset(p, 0, sizeof *p);
}
