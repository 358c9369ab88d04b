/*
 * dataset — the description of a dataset as written in a grid file or trial
 * spec (SPEC.md "Datasets"): a name ("mnist", "fashion-mnist", "cifar10"), a
 * synthetic 2-D set, or explicit IDX / CSV files.  Parsing and validating the
 * description lives here (no file I/O beyond resolving paths); loading the data
 * is worker/data.c.  Relative paths are resolved against `base_dir` (the
 * directory of the grid file or the client's working directory).
 */
#ifndef MLP_DATASET_H
#define MLP_DATASET_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct cJSON;

#define DS_PATH_MAX 4096

enum ds_kind {
    DS_NAMED,      /* mnist, fashion-mnist, cifar10: found in the data dirs */
    DS_SYNTHETIC,  /* circles, moons, spirals, xor */
    DS_IDX,        /* explicit IDX files (.gz or plain) */
    DS_CSV,        /* explicit CSV files */
};

enum ds_task { DS_CLASSIFICATION, DS_REGRESSION };

struct ds_spec {
    enum ds_kind kind;
    char name[64];                 /* DS_NAMED / DS_SYNTHETIC: the name; else "idx"/"csv" */
    /* DS_SYNTHETIC */
    int64_t n;                     /* number of training points (test set: same n) */
    double noise;                  /* >= 0 */
    /* DS_IDX */
    char train_images[DS_PATH_MAX], train_labels[DS_PATH_MAX];
    char test_images[DS_PATH_MAX], test_labels[DS_PATH_MAX];
    /* DS_CSV */
    char train[DS_PATH_MAX], test[DS_PATH_MAX];
    int label_col;                 /* column index; -1 = last */
    bool header;                   /* first line is a header */
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

/* The canonical JSON form of *ds (absolute paths); caller frees with cJSON_Delete. */
struct cJSON *ds_spec_to_json(const struct ds_spec *ds);

#endif
