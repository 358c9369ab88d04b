/*
 * data_int — what the data module's files share and nothing outside it uses
 * (libuv's uv-common.h habit): the dataset object, the decoded block every
 * loader produces, the resolved source files and the per-format loaders.
 *
 * Every loader produces one float32 block laid out as
 *     train_x[n_train*d] train_y[n_train] test_x[n_test*d] test_y[n_test]
 * which is exactly the payload of a cache file (data_cache.c), so writing the
 * cache is one write and loading it is one mmap.
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
    struct data_view train; /* raw training set, views into map or heap */
    struct data_view test;  /* raw test set */
    void *map;              /* mmap'd cache file, or NULL */
    size_t map_len;         /* its length */
    float *heap;            /* malloc'd payload when not mapped */
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

/*
 * The decoded-array cache (data_cache.c).  data__cache_key hashes the
 * canonical spec and each source's path, size and mtime; data__cache_map
 * returns a dataset mapping a valid cache file or NULL (absent, stale or
 * corrupt: the caller rebuilds it); data__cache_write stores r atomically and
 * returns false on any failure (the caller then keeps r on the heap).
 */
uint64_t data__cache_key(const struct ds_spec *spec, const struct dataread_sources *src);
int data__cache_path(char *out, const char *dir, const struct ds_spec *spec, uint64_t key);
struct dataset *data__cache_map(const char *path, uint64_t key);
bool data__cache_write(const char *dir, const char *path, const struct raw *r, uint64_t key);

#endif
