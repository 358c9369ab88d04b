/*
 * spec — one trial spec as mlp-worker reads it (SPEC.md "mlp-worker"): read
 * from a file or stdin, parsed and checked by common/trialwire.c (struct
 * trial_spec, the wire's one definition), and its dataset loaded.  Shared by mlp-worker and
 * mlp-gradcheck, so both accept exactly the same specs and name the same places in their errors.
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
#include "trialwire.h"

struct cJSON;

/*
 * Read the spec from the file at path (stdin when NULL) and check it.
 * Returns 0, or a negative code with *e filled (MLP_EINVALID_SPEC naming the
 * place, MLP_EIO, MLP_ENOMEM).
 */
int spec_read(struct trial_spec *s, const char *path, struct err *e);

/* Load the spec's dataset from the data dirs of the environment (MLPD_DATA,
 * MLPD_HOME, /usr/share/datasets); NULL with *e filled.  Free with data_free(). */
struct dataset *spec_load_data(const struct trial_spec *s, struct err *e);

#endif
