/*
 * data — loading datasets for training (SPEC.md "Datasets").
 *
 * data_load() turns a `struct ds_spec` into decoded float32 arrays: IDX (plain or
 * .gz), CIFAR-10 binary, CSV, or a synthetic 2-D set (one file per format,
 * listed in data.c); data_open() only finds the files and decodes them when
 * something asks for the raw arrays.  The files are found and read by
 * common/dataread.c, which also holds the submit-time check (dataset_check)
 * that mlpd runs without linking this module.
 * data_prepare() then applies a trial's hyperparameters: the fixed
 * train/validation split (split_seed, val_fraction), train_size, and input
 * normalisation with statistics of the training split only.  With a cache
 * dir, the prepared arrays are built once per preparation into a cache entry
 * (data_cache.c) and mapped read-only: every worker of the same preparation
 * shares one copy through the page cache, and a warm start decodes nothing.
 *
 * Labels are floats: the class index (0..n_classes-1) for classification, the
 * target value for regression.
 */
#ifndef MLP_DATA_H
#define MLP_DATA_H

#include <stdbool.h>
#include <stddef.h>
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

struct dataset; /* opaque: owns the decoded arrays (decoded on demand after data_open) */

/*
 * Load the dataset described by *spec, decoded.  split_seed seeds the
 * synthetic generators.  Returns NULL with *e filled (MLP_EINVALID_DATASET naming
 * the file and the reason) on failure.  Free with data_free().
 */
struct dataset *data_load(const struct ds_spec *spec, const struct dataset_dirs *dirs,
                          int64_t split_seed, struct err *e);
/*
 * As data_load, but with a cache dir (dirs->cache_dir) the files are only
 * found, not decoded: a data_prepare() whose entry is in the cache never
 * decodes them.  Errors in the payload (a truncated .gz, a bad label) then
 * surface from data_prepare().  Without a cache dir it is data_load.
 */
struct dataset *data_open(const struct ds_spec *spec, const struct dataset_dirs *dirs,
                          int64_t split_seed, struct err *e);
void data_free(struct dataset *ds);

/* The raw (unnormalised, unsplit) sets and the number of classes (>= 2 for
 * classification, 0 for regression).  On a dataset from data_open they decode
 * it first; should that fail the views are empty (n 0) and the classes 0. */
int data_classes(const struct dataset *ds);
struct data_view data_train(const struct dataset *ds);
struct data_view data_test(const struct dataset *ds);

/* A trial's data: split and normalised, owned by the struct (a private
 * buffer, or a read-only mapping of a cache entry shared with other workers). */
struct data_prepared {
    struct data_view
        train; /* first (1-val_fraction) share of the shuffled training set, cut to train_size */
    struct data_view val;        /* held-out validation rows */
    struct data_view test;       /* the test set, normalised with training statistics */
    int n_classes;               /* as data_classes() */
    enum hp_normalize normalize; /* what was applied: "auto" resolved */
    const double *norm_shift;    /* the input map applied to every split, per feature (d): */
    const double *norm_scale;    /*   x' = (float)((x - shift) * scale); owned by the struct */
    bool cached;                 /* mapped from a cache entry */
    float *buf_;                 /* owned storage behind the views (in memory) */
    double *stats_;              /* owned shift/scale (in memory) */
    void *map_;                  /* the mapped cache entry, or NULL */
    size_t map_len_;             /* its length */
};

/*
 * Split and normalise for one trial's hyperparameters.  With a cache dir
 * (data_open/data_load with dirs->cache_dir, not a synthetic set) the result
 * maps the cache entry of this preparation, building it first when it is
 * absent, stale or damaged (data_cache.c); a cache that cannot be used is
 * noted on stderr and the data prepared in memory.  The numbers are the same
 * bytes either way.  Returns 0 or a negative code with *e filled (e.g.
 * train_size larger than the training split is MLP_EINVALID_SPEC naming
 * "params.train_size").  Release with data_prepared_release().
 */
int data_prepare(const struct dataset *ds, const struct hparams *hp, struct data_prepared *out,
                 struct err *e);
/* data_prepare in private memory, never through the cache. */
int data_prepare_uncached(const struct dataset *ds, const struct hparams *hp,
                          struct data_prepared *out, struct err *e);
void data_prepared_release(struct data_prepared *p);

/*
 * `mlpctl data verify`: check every entry of the cache dir `dir` in full
 * (header, size, payload checksum, and whether its source files are still
 * the ones it was built from).  cb is called once per entry with its file
 * name, its size in bytes, what it holds (one line, e.g. "fashion-mnist
 * split_seed 0 val_fraction 0.1 normalize global"), and NULL when it is
 * sound or the problem found; with remove, damaged, stale and old-format
 * entries are deleted (the next trial that needs one builds it again).
 * Returns the number of bad entries (>= 0), or -1 with *e filled when the
 * dir cannot be read (an absent dir holds no entries: 0).
 */
typedef void (*data_verify_fn)(const char *file, uint64_t bytes, const char *what,
                               const char *problem, void *ctx);
int data_cache_verify(const char *dir, bool remove, data_verify_fn cb, void *ctx, struct err *e);

/*
 * The normalisation data_prepare applies for `how`: itself, except
 * HP_NORM_AUTO, which becomes HP_GLOBAL for image datasets (IDX, CIFAR-10,
 * mnist, fashion-mnist) and HP_STANDARDIZE for tabular (CSV) and synthetic
 * ones.
 */
enum hp_normalize data_normalize_resolve(const struct dataset *ds, enum hp_normalize how);

#endif
