/*
 * data — loading datasets (see data.h): resolving a spec to its source files
 * through the catalogue (common/dataset.c), dispatching to the per-format
 * loader (the prepared-data cache is data_prepare's business).  The files of the module:
 *
 *   data.c          data_open / data_load / data_free: decoding on demand
 *   data_idx.c      IDX files, plain or gzip (MNIST, Fashion-MNIST, explicit)
 *   data_cifar.c    CIFAR-10 binary batches
 *   data_csv.c      CSV files
 *   data_synth.c    circles, moons, spirals, xor
 *   data_cache.c    the mmap'd cache of prepared arrays, `data verify`
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

/* Decode from the sources into ds (heap). */
static int decode_into(struct dataset *ds, const struct ds_spec *spec, const struct dataread_sources *src,
                       int64_t split_seed, struct err *e)
{
    struct raw r = {0};
    int rc = read_sources(spec, src, split_seed, &r, e);
    if (rc)
        return rc;
    ds->heap = r.buf;
    ds->n_classes = spec->kind == DS_CSV && spec->task == DS_REGRESSION ? 0 : r.n_classes;
    data__raw_views(r.buf, r.n_train, r.n_test, r.d, &ds->train, &ds->test);
    ds->decoded = true;
    return 0;
}

int data__decode(struct dataset *ds, struct err *e)
{
    if (ds->decoded)
        return 0;
    return decode_into(ds, ds->spec, ds->src, ds->split_seed, e);
}

struct dataset *data_open(const struct ds_spec *spec, const struct dataset_dirs *dirs,
                          int64_t split_seed, struct err *e)
{
    struct dataset *ds = calloc(1, sizeof *ds);
    if (!ds || !(ds->src = calloc(1, sizeof *ds->src)) || !(ds->spec = malloc(sizeof *ds->spec)))
        goto nomem;
    *ds->spec = *spec;
    ds->split_seed = split_seed;
    ds->family = ds_spec_family(spec);
    if (dataread_find(spec, dirs, ds->src, e))
        goto fail;
    /* Synthetic sets are generated faster than any cache could be read. */
    if (spec->kind != DS_SYNTHETIC && dirs && dirs->cache_dir && dirs->cache_dir[0]) {
        if (!(ds->cache_dir = strdup(dirs->cache_dir)))
            goto nomem;
        return ds;
    }
    if (data__decode(ds, e))
        goto fail;
    return ds;
nomem:
    err_set(e, MLP_ENOMEM, NULL, "out of memory");
fail:
    data_free(ds);
    return NULL;
}

struct dataset *data_load(const struct ds_spec *spec, const struct dataset_dirs *dirs,
                          int64_t split_seed, struct err *e)
{
    struct dataset *ds = data_open(spec, dirs, split_seed, e);
    if (ds && data__decode(ds, e)) {
        data_free(ds);
        return NULL;
    }
    return ds;
}

void data_free(struct dataset *ds)
{
    if (!ds)
        return;
    free(ds->heap);
    free(ds->spec);
    free(ds->src);
    free(ds->cache_dir);
    free(ds);
}

/* The raw views, decoding first when data_open deferred it (the object is
 * logically constant: decoding only materialises what it describes). */
static const struct dataset *decoded(const struct dataset *ds)
{
    struct err e = ERR_INIT;
    if (!ds->decoded)
        (void)data__decode((struct dataset *)ds, &e);
    return ds;
}

int data_classes(const struct dataset *ds)
{
    return decoded(ds)->n_classes;
}

struct data_view data_train(const struct dataset *ds)
{
    return decoded(ds)->train;
}

struct data_view data_test(const struct dataset *ds)
{
    return decoded(ds)->test;
}
