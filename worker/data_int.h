/*
 * data_int — what the data module's files share and nothing outside it uses
 * (libuv's uv-common.h habit): the dataset object, the decoded block every
 * loader produces, the resolved source files and the per-format loaders.
 *
 * Every loader produces one float32 block laid out as
 *     train_x[n_train*d] train_y[n_train] test_x[n_test*d] test_y[n_test]
 * (struct raw).  The cache (data_cache.c) holds prepared arrays, not these.
 */
#ifndef MLP_DATA_INT_H
#define MLP_DATA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "dataread.h"

struct dataset {
    int n_classes;          /* 0 for regression */
    enum ds_family family;  /* image or tabular: resolves normalize "auto" */
    struct data_view train; /* raw training set (heap), once decoded */
    struct data_view test;  /* raw test set */
    float *heap;            /* the decoded payload */
    bool decoded;           /* train/test/n_classes are set */
    /* What decoding on demand and the cache need (data_open): */
    struct ds_spec *spec;            /* a copy of the spec */
    struct dataread_sources *src;    /* its resolved files */
    int64_t split_seed;              /* for the synthetic generators */
    char *cache_dir;                 /* the prepared-data cache, or NULL: none */
};

/* A decoded dataset before it is cached or wrapped. */
struct raw {
    int64_t n_train, n_test; /* rows */
    int d;                   /* features per row */
    int n_classes;           /* 0 for regression */
    float *buf;              /* payload in the layout above (malloc'd) */
};

/* Floats in r's payload. */
size_t data__raw_floats(const struct raw *r);
/* Views of the two splits of a payload laid out as above. */
void data__raw_views(const float *buf, int64_t n_train, int64_t n_test, int d, struct data_view *tr,
                     struct data_view *te);

/*
 * The loaders, reading the files src names (common/dataread.c finds them and
 * reads their formats): r->buf is malloc'd (the caller frees) and filled.
 * Return 0 or a negative code with *e naming the file and the problem.  The
 * submit-time check that reads headers only is dataset_check (dataread.h).
 */
int data__load_idx(const struct dataread_sources *src, struct raw *r, struct err *e);
int data__load_cifar(const struct dataread_sources *src, struct raw *r, struct err *e);
int data__load_csv(const struct ds_spec *spec, const struct dataread_sources *src, struct raw *r,
                   struct err *e);
int data__load_synth(const struct ds_spec *spec, int64_t split_seed, struct raw *r, struct err *e);

/* Decode ds's files now if data_open deferred it: 0 or a negative code. */
int data__decode(struct dataset *ds, struct err *e);

/*
 * Split and normalise into buf, laid out as
 *     val_x val_y train_x train_y test_x test_y
 * with n_keep >= n_tr training rows kept (the rows after the first n_tr only
 * for HP_NONE, whose values need no statistics) and the statistics from the
 * first n_tr; shift/scale receive the transform (d values each).
 */
int data__prepare_into(const struct dataset *ds, int64_t split_seed, int64_t n_val, int64_t n_tr,
                       int64_t n_keep, enum hp_normalize norm, float *buf, double *shift,
                       double *scale);
/* The views of such a buffer into out (train cut to n_tr of n_keep rows). */
void data__prepared_views(float *buf, int64_t n_val, int64_t n_tr, int64_t n_keep, int64_t n_test,
                          int d, struct data_prepared *out);

/*
 * The prepared-data cache (data_cache.c): map the entry of this preparation
 * into *out, building it first (under a lock, atomically) when it is absent,
 * stale or damaged.  Returns 0, a data error from decoding (MLP_EINVALID_*:
 * the caller reports it) or another negative code when the cache cannot be
 * used (*e says why; the caller prepares in memory).
 */
int data__cache_prepare(struct dataset *ds, const struct hparams *hp, enum hp_normalize norm,
                        struct data_prepared *out, struct err *e);

#endif
