/*
 * data — loading datasets for training (SPEC.md "Datasets").
 *
 * data_load() turns a `struct ds_spec` into decoded float32 arrays: IDX (plain or
 * .gz), CIFAR-10 binary, CSV, or a synthetic 2-D set (one file per format,
 * listed in data.c).  Decoded arrays are cached as float32 files under the
 * cache dir and mmap'd read-only, so concurrent workers share one copy through
 * the page cache and the second load is milliseconds.  The files are found and
 * read by common/dataread.c, which also holds the submit-time check
 * (dataset_check) that mlpd runs without linking this module.
 * data_prepare() then applies a trial's hyperparameters: the fixed
 * train/validation split (split_seed, val_fraction), train_size, and input
 * normalisation with statistics of the training split only.
 *
 * Labels are floats: the class index (0..n_classes-1) for classification, the
 * target value for regression.
 */
#ifndef MLP_DATA_H
#define MLP_DATA_H

#include <stdint.h>

#include "dataread.h"
#include "dataset.h"
#include "err.h"
#include "hparams.h"

struct data_view {  /* one split, row-major, not owned */
    int64_t n;      /* rows */
    int d;          /* features per row */
    const float *x; /* n*d inputs */
    const float *y; /* n labels */
};

struct dataset; /* opaque: owns the (possibly mmap'd) arrays */

/*
 * Load (or map from cache) the dataset described by *spec.  split_seed seeds the
 * synthetic generators.  Returns NULL with *e filled (MLP_EINVALID_DATASET naming
 * the file and the reason) on failure.  Free with data_free().
 */
struct dataset *data_load(const struct ds_spec *spec, const struct dataset_dirs *dirs,
                          int64_t split_seed, struct err *e);
void data_free(struct dataset *ds);

/* Number of classes (>= 2) for classification, 0 for regression. */
int data_classes(const struct dataset *ds);
/* The raw (unnormalised, unsplit) training and test sets. */
struct data_view data_train(const struct dataset *ds);
struct data_view data_test(const struct dataset *ds);

/* A trial's data: split and normalised, owned by the struct. */
struct data_prepared {
    struct data_view
        train; /* first (1-val_fraction) share of the shuffled training set, cut to train_size */
    struct data_view val;        /* held-out validation rows */
    struct data_view test;       /* the test set, normalised with training statistics */
    int n_classes;               /* as data_classes() */
    enum hp_normalize normalize; /* what was applied: "auto" resolved */
    double *norm_shift;          /* the input map applied to every split, per feature: */
    double *norm_scale;          /*   x' = (float)((x - shift) * scale); owned */
    float *buf_;                 /* owned storage behind the views */
};

/*
 * Split and normalise for one trial's hyperparameters.  Returns 0 or a negative
 * code with *e filled (e.g. train_size larger than the training split is
 * MLP_EINVALID_SPEC naming "params.train_size").  Release with data_prepared_release().
 */
int data_prepare(const struct dataset *ds, const struct hparams *hp, struct data_prepared *out,
                 struct err *e);
void data_prepared_release(struct data_prepared *p);

/*
 * The normalisation data_prepare applies for `how`: itself, except
 * HP_NORM_AUTO, which becomes HP_GLOBAL for image datasets (IDX, CIFAR-10,
 * mnist, fashion-mnist) and HP_STANDARDIZE for tabular (CSV) and synthetic
 * ones.
 */
enum hp_normalize data_normalize_resolve(const struct dataset *ds, enum hp_normalize how);

#endif
