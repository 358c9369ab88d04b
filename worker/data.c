/*
 * data — loading datasets (see data.h): resolving a spec to its source files
 * through the catalogue (common/dataset.c), dispatching to the per-format
 * loader, and the cache in front of them.  The files of the module:
 *
 *   data.c          sources, data_load / data_free, dataset_check (submit time)
 *   data_idx.c      IDX files, plain or gzip (MNIST, Fashion-MNIST, explicit)
 *   data_cifar.c    CIFAR-10 binary batches
 *   data_csv.c      CSV files
 *   data_synth.c    circles, moons, spirals, xor
 *   data_cache.c    the mmap'd cache of prepared arrays, `data verify`
 *   data_prepare.c  split, train_size and normalisation for one trial
 *
 * They share data_int.h.  Labels are floats: the class index
 * (0..n_classes-1) for classification, the target value for regression.
 */
#include "data.h"
#include "data_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "grid.h"

const char *data__base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

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

/* ---------------------------------------------------------------- sources */

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * An explicit path must be a regular file: a directory (a common slip when
 * giving the data folder instead of the file) or a missing file is named
 * with the reason.
 */
static int need_file(const char *p, struct err *e)
{
    struct stat st;
    if (stat(p, &st) != 0)
        return err_set(e, MLP_EINVALID_DATASET, p, "%s: %s", p,
                       errno == ENOENT ? "no such file" : strerror(errno));
    if (S_ISDIR(st.st_mode))
        return err_set(e, MLP_EINVALID_DATASET, p, "%s: is a directory, expected a file", p);
    if (!S_ISREG(st.st_mode))
        return err_set(e, MLP_EINVALID_DATASET, p, "%s: not a regular file", p);
    return 0;
}

/* <dir>/<name>/<file> or <file>.gz into out; false when neither exists. */
static bool find_one(const char *dir, const char *name, const char *file, bool gz_too, char *out)
{
    int k = snprintf(out, DS_PATH_MAX, "%s/%s/%s", dir, name, file);
    if (k > 0 && k < DS_PATH_MAX && is_file(out))
        return true;
    if (!gz_too)
        return false;
    k = snprintf(out, DS_PATH_MAX, "%s/%s/%s.gz", dir, name, file);
    return k > 0 && k < DS_PATH_MAX && is_file(out);
}

/* A catalogue dataset's files in one base dir; true when complete. */
static bool find_in(const struct ds_entry *c, const char *base, struct sources *src)
{
    memset(src, 0, sizeof *src);
    if (c->format == DS_FMT_CIFAR) {
        /* Any of the training batches present (at least one), and the test batch. */
        for (int i = 0; i < DS_CIFAR_BATCHES; i++)
            if (find_one(base, c->name, c->files[i], false, src->path[src->n]))
                src->n++;
        if (src->n > 0 &&
            find_one(base, c->name, c->files[DS_CIFAR_BATCHES], false, src->path[src->n])) {
            src->n++;
            return true;
        }
        return false;
    }
    for (int i = 0; i < 4; i++)
        if (!find_one(base, c->name, c->files[i], true, src->path[i]))
            return false;
    src->n = 4;
    return true;
}

static int find_named(const struct ds_spec *spec, const struct dataset_dirs *dirs,
                      struct sources *src, struct err *e)
{
    const char *bases[2] = {dirs ? dirs->data_dir : NULL, dirs ? dirs->system_dir : NULL};
    const struct ds_entry *c = ds_catalogue_find(spec->name);
    char looked[1024] = "";
    size_t used = 0;
    if (!c || !c->files)
        return err_set(e, MLP_EINTERNAL, "dataset", "%s has no files to find", spec->name);
    for (int b = 0; b < 2; b++) {
        if (!bases[b] || !bases[b][0])
            continue;
        int k = snprintf(looked + used, sizeof looked - used, "%s%s/%s/", used ? " and " : "",
                         bases[b], spec->name);
        if (k > 0 && (size_t)k < sizeof looked - used)
            used += (size_t)k;
        if (find_in(c, bases[b], src))
            return 0;
    }
    if (c->fetch == DS_FETCH_BY_HAND)
        return err_set(e, MLP_EINVALID_DATASET, "dataset",
                       "%s not found: looked in %s for %s (%s; place the files there)", spec->name,
                       used ? looked : "(no data dir configured)", c->files_text, c->source);
    return err_set(e, MLP_EINVALID_DATASET, "dataset",
                   "%s not found: looked in %s for %s (run `mlpctl data fetch %s`)", spec->name,
                   used ? looked : "(no data dir configured)", c->files_text, spec->name);
}

static int find_sources(const struct ds_spec *spec, const struct dataset_dirs *dirs,
                        struct sources *src, struct err *e)
{
    int rc;
    memset(src, 0, sizeof *src);
    switch (spec->kind) {
    case DS_NAMED:
        return find_named(spec, dirs, src, e);
    case DS_IDX: {
        const char *p[4] = {spec->train_images, spec->train_labels, spec->test_images,
                            spec->test_labels};
        for (int i = 0; i < 4; i++) {
            if ((rc = need_file(p[i], e)))
                return rc;
            snprintf(src->path[i], DS_PATH_MAX, "%s", p[i]);
        }
        src->n = 4;
        return 0;
    }
    case DS_CSV: {
        const char *p[2] = {spec->train, spec->test};
        for (int i = 0; i < 2; i++) {
            if ((rc = need_file(p[i], e)))
                return rc;
            snprintf(src->path[i], DS_PATH_MAX, "%s", p[i]);
        }
        src->n = 2;
        return 0;
    }
    case DS_SYNTHETIC:
        return 0;
    }
    return err_set(e, MLP_EINTERNAL, NULL, "unknown dataset kind %d", (int)spec->kind);
}

/* ---------------------------------------------------------------- public */

/* Read (decode) or only check the sources of spec into *r. */
static int read_sources(const struct ds_spec *spec, const struct sources *src, int64_t split_seed,
                        struct raw *r, bool decode, struct err *e)
{
    const struct ds_entry *c;
    switch (spec->kind) {
    case DS_SYNTHETIC:
        if (decode)
            return data__load_synth(spec, split_seed, r, e);
        r->n_train = r->n_test = spec->n;
        r->d = 2;
        r->n_classes = 2;
        return 0;
    case DS_CSV:
        return data__load_csv(spec, src, r, decode, e);
    case DS_IDX:
        return data__load_idx(src, r, decode, e);
    case DS_NAMED:
        c = ds_catalogue_find(spec->name);
        return c && c->format == DS_FMT_CIFAR ? data__load_cifar(src, r, decode, e)
                                              : data__load_idx(src, r, decode, e);
    }
    return err_set(e, MLP_EINTERNAL, NULL, "unknown dataset kind %d", (int)spec->kind);
}

/* Decode from the sources into ds (heap). */
static int decode_into(struct dataset *ds, const struct ds_spec *spec, const struct sources *src,
                       int64_t split_seed, struct err *e)
{
    struct raw r = {0};
    int rc = read_sources(spec, src, split_seed, &r, true, e);
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
    if (find_sources(spec, dirs, ds->src, e))
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

int dataset_check(const struct ds_spec *spec, const struct dataset_dirs *dirs,
                  struct dataset_info *info, struct err *e)
{
    struct sources *src = calloc(1, sizeof *src);
    struct raw r = {0};
    int rc;
    if (!src)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    if ((rc = find_sources(spec, dirs, src, e)) || (rc = read_sources(spec, src, 0, &r, false, e)))
        goto out;
    if (info) {
        info->n_train = r.n_train;
        info->n_test = r.n_test;
    }
out:
    free(src);
    return rc;
}

int dataset_check_grid(const struct grid *g, const struct dataset_dirs *dirs, struct err *e)
{
    struct dataset_info info;
    int rc = dataset_check(grid_dataset(g), dirs, &info, e);
    if (rc) {
        if (!e->path[0])
            snprintf(e->path, sizeof e->path, "dataset");
        return rc;
    }
    for (size_t i = 0; i < grid_n_configs(g); i++) {
        const struct hparams *hp = grid_config(g, i);
        if ((rc = dataset_split(info.n_train, hp->val_fraction, hp->train_size, NULL, NULL, e))) {
            /* Name the configuration: the grid's params are the user's words. */
            size_t len = strlen(e->msg);
            snprintf(e->msg + len, sizeof e->msg - len, " (configuration %zu of %zu)", i + 1,
                     grid_n_configs(g));
            return rc;
        }
    }
    return 0;
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
