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
#define ARTIFACT_BOUNDARY "boundary.csv"
#define ARTIFACT_POINTS "points.csv"
#define ARTIFACT_GRID 120    /* boundary.csv: a GRID × GRID lattice */
#define ARTIFACT_MARGIN 0.10 /* around the data's bounding box, per side, of its span */

/*
 * Write dir/model.npz from res->model (the kept weights).  prep gives the
 * input normalisation: exactly the map x' = (x − shift)·scale data_prepare()
 * applied (prep->norm_shift, norm_scale; scale 0 for a feature it flattened,
 * e.g. one constant on the training split) and its kind, "auto" resolved.
 * Returns 0 or a negative code with *e filled.
 */
int artifact_save_model(const char *dir, const struct train_result *res, const struct hparams *hp,
                        const char *dataset, const struct data_prepared *prep, struct err *e);

/* Write dir/predictions.csv from res->test_out / res->test_pred and the test
 * labels of prep.  Returns 0 or a negative code with *e filled. */
int artifact_save_predictions(const char *dir, const struct train_result *res,
                              const struct data_prepared *prep, struct err *e);

/*
 * For a data set with exactly two input features (and a saved model): write
 * dir/boundary.csv, the kept model's prediction on an ARTIFACT_GRID² lattice
 * over the bounding box of the training and test points widened by
 * ARTIFACT_MARGIN of its span per side, in the data's original (raw)
 * coordinates — "x1,x2,predicted,p_max" (classification) or "x1,x2,value"
 * (regression), x1 varying fastest — and dir/points.csv, "split,x1,x2,label"
 * for the training rows of the trial (train_size applied) and the test rows.
 * Returns 0 or a negative code with *e filled (MLP_EINTERNAL without a
 * 2-feature model).
 */
int artifact_save_boundary(const char *dir, const struct train_result *res,
                           const struct hparams *hp, const struct dataset *ds,
                           const struct data_prepared *prep, struct err *e);

#endif
