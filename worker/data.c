/*
 * data — loading datasets (see data.h): resolving a spec to its source files
 * through the catalogue (common/dataset.c), dispatching to the per-format
 * loader, and the cache in front of them.  The files of the module:
 *
 *   data.c          data_load / data_free: the cache in front of the loaders
 *   data_idx.c      IDX files, plain or gzip (MNIST, Fashion-MNIST, explicit)
 *   data_cifar.c    CIFAR-10 binary batches
 *   data_csv.c      CSV files
 *   data_synth.c    circles, moons, spirals, xor
 *   data_cache.c    the mmap'd float32 cache of decoded arrays
 *   data_prepare.c  split, train_size and normalisation for one trial
 *
 * They share data_int.h.  Finding the files and reading their formats is
 * common/dataread.c, which mlpd also uses for its submit-time check; the
 * files here turn what it reads into the float32 block of data_int.h.
 * Labels are floats: the class index (0..n_classes-1) for classification,
 * the target value for regression.
 */
#include "data.h"
#include "data_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

size_t data__raw_floats(const struct raw *r)
{
    return (size_t)(r->n_train + r->n_test) * (size_t)(r->d + 1);
}

void data__raw_views(const float *buf, int64_t n_train, int64_t n_test, int d, struct data_view *tr,
                     struct data_view *te)
{
    tr->n = n_train;
    tr->d = d;
    tr->x = buf;
    tr->y = buf + (size_t)n_train * d;
    te->n = n_test;
    te->d = d;
    te->x = tr->y + n_train;
    te->y = te->x + (size_t)n_test * d;
}

/* ---------------------------------------------------------------- public */

/* Decode the sources of spec into *r. */
static int read_sources(const struct ds_spec *spec, const struct dataread_sources *src,
                        int64_t split_seed, struct raw *r, struct err *e)
{
    const struct ds_entry *c;
    switch (spec->kind) {
    case DS_SYNTHETIC:
        return data__load_synth(spec, split_seed, r, e);
    case DS_CSV:
        return data__load_csv(spec, src, r, e);
    case DS_IDX:
        return data__load_idx(src, r, e);
    case DS_NAMED:
        c = ds_catalogue_find(spec->name);
        return c && c->format == DS_FMT_CIFAR ? data__load_cifar(src, r, e)
                                              : data__load_idx(src, r, e);
    }
    return err_set(e, MLP_EINTERNAL, NULL, "unknown dataset kind %d", (int)spec->kind);
}

struct dataset *data_load(const struct ds_spec *spec, const struct dataset_dirs *dirs,
                          int64_t split_seed, struct err *e)
{
    struct dataread_sources *src = NULL;
    struct raw r = {0};
    struct dataset *ds = NULL;
    char cpath[DS_PATH_MAX];
    bool cached = false;
    uint64_t key = 0;
    src = calloc(1, sizeof *src);
    if (!src) {
        err_set(e, MLP_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    if (dataread_find(spec, dirs, src, e))
        goto out;
    if (spec->kind != DS_SYNTHETIC && dirs && dirs->cache_dir && dirs->cache_dir[0]) {
        key = data__cache_key(spec, src);
        cached = data__cache_path(cpath, dirs->cache_dir, spec, key) == 0;
        if (cached && (ds = data__cache_map(cpath, key)))
            goto out;
    }
    if (read_sources(spec, src, split_seed, &r, e))
        goto out;
    if (cached && data__cache_write(dirs->cache_dir, cpath, &r, key) &&
        (ds = data__cache_map(cpath, key))) {
        free(r.buf);
        goto out;
    }
    ds = calloc(1, sizeof *ds);
    if (!ds) {
        free(r.buf);
        err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto out;
    }
    ds->heap = r.buf;
    ds->n_classes = spec->kind == DS_CSV && spec->task == DS_REGRESSION ? 0 : r.n_classes;
    data__raw_views(r.buf, r.n_train, r.n_test, r.d, &ds->train, &ds->test);
out:
    if (ds)
        ds->family = ds_spec_family(spec);
    free(src);
    return ds;
}

void data_free(struct dataset *ds)
{
    if (!ds)
        return;
    if (ds->map)
        munmap(ds->map, ds->map_len);
    free(ds->heap);
    free(ds);
}

int data_classes(const struct dataset *ds)
{
    return ds->n_classes;
}

struct data_view data_train(const struct dataset *ds)
{
    return ds->train;
}

struct data_view data_test(const struct dataset *ds)
{
    return ds->test;
}
