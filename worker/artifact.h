/*
 * artifact — what a trial leaves behind with "save" (SPEC.md "Artifacts").
 *
 * model.npz: the kept weights, the input normalisation and a JSON description,
 * readable with numpy.load (npz.h); predictions.csv: the test split's labels,
 * predictions and class probabilities.  Both are written into one directory
 * (created if missing) under fixed names, each through a temporary file
 * renamed into place, so a reader never sees half a file.
 */
#ifndef MLP_ARTIFACT_H
#define MLP_ARTIFACT_H

#include "data.h"
#include "err.h"
#include "hparams.h"
#include "train.h"

#define ARTIFACT_MODEL "model.npz"
#define ARTIFACT_PREDICTIONS "predictions.csv"

/*
 * Write dir/model.npz from res->model (the kept weights).  ds and prep give the
 * input normalisation: the map x' = (x − shift)·scale of data_prepare(), which
 * is recovered per feature from the raw and the prepared training rows (an
 * extra data_prepare() without normalisation: the same rows in the same
 * order), exact to float rounding.  Returns 0 or a negative code with *e filled.
 */
int artifact_save_model(const char *dir, const struct train_result *res, const struct hparams *hp,
                        const char *dataset, const struct dataset *ds,
                        const struct data_prepared *prep, struct err *e);

/* Write dir/predictions.csv from res->test_out / res->test_pred and the test
 * labels of prep.  Returns 0 or a negative code with *e filled. */
int artifact_save_predictions(const char *dir, const struct train_result *res,
                              const struct data_prepared *prep, struct err *e);

#endif
