/*
 * spec — one trial spec as mlp-worker reads it (SPEC.md "mlp-worker").
 *
 * {"dataset": NAME-or-OBJECT, "seed": INT, "params": {...}, "trial": INT,
 *  "artifacts_dir": PATH}: read from a file or stdin, parsed, checked (unknown
 * keys, types, the hyperparameters through the hparams table) and its dataset
 * loaded.  Shared by mlp-worker and mlp-gradcheck, so both accept exactly the
 * same specs and name the same places in their errors.
 */
#ifndef MLP_SPEC_H
#define MLP_SPEC_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "data.h"
#include "dataset.h"
#include "err.h"
#include "hparams.h"

struct cJSON;

struct spec {
    int64_t seed;                 /* "seed", default 1 */
    struct hparams hp;            /* "params" with defaults filled */
    struct ds_spec ds;            /* "dataset" */
    char artifacts_dir[PATH_MAX]; /* "artifacts_dir", or "" when absent */
};

/*
 * Read the spec from the file at path (stdin when NULL) and check it.
 * Returns 0, or a negative code with *e filled (MLP_EINVALID_SPEC naming the
 * place, MLP_EIO, MLP_ENOMEM).
 */
int spec_read(struct spec *s, const char *path, struct err *e);

/* Load the spec's dataset from the data dirs of the environment (MLPD_DATA,
 * MLPD_HOME, /usr/share/datasets); NULL with *e filled.  Free with data_free(). */
struct dataset *spec_load_data(const struct spec *s, struct err *e);

#endif
