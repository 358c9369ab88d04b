/*
 * artifact — model.npz and predictions.csv (see artifact.h; layout in SPEC.md).
 *
 * Arrays of model.npz, layers numbered from 1 (the output layer is the last):
 *   W<l> float32 [in, out], b<l> float32 [out]       (no b<l> with batch norm)
 *   gamma<l>, beta<l>, running_mean<l>, running_var<l> float32 [out]  (batch norm)
 *   norm_shift, norm_scale float64 [d]                x' = (x − shift)·scale
 *   meta uint8 [n]: UTF-8 JSON, json.loads(bytes(z["meta"]))
 *
 * boundary.csv and points.csv (2-feature data sets with a saved model) are in
 * the data's own coordinates: the grid points are mapped through the same
 * x' = (x − shift)·scale as model.npz and run through the kept network in
 * inference mode, batch by batch, so the grid shows exactly what the model
 * predicts at each point.
 */
#include "artifact.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "config.h"
#include "json.h"
#include "mlp.h"
#include "npz.h"

/* The meta JSON of the model (caller frees). */
static char *model_meta(const struct mlp *m, const struct hparams *hp, const char *dataset,
                        int n_classes, enum hp_normalize applied)
{
    cJSON *j = cJSON_CreateObject(), *layers = cJSON_CreateArray();
    char *s = NULL;
    if (!j || !layers)
        goto out;
    struct mlp_layer_info li;
    mlp_layer_info(m, 0, &li);
    cJSON_AddItemToArray(layers, cJSON_CreateNumber(li.in));
    for (int l = 0; l < mlp_n_layers(m); l++) {
        mlp_layer_info(m, l, &li);
        cJSON_AddItemToArray(layers, cJSON_CreateNumber(li.out));
    }
    cJSON_AddStringToObject(j, "format", "mlpsweep-model-1");
    cJSON_AddStringToObject(j, "dataset", dataset);
    cJSON_AddItemToObject(j, "layers", layers);
    layers = NULL;
    cJSON_AddStringToObject(j, "activation", hp_activation_name(hp->activation));
    cJSON_AddBoolToObject(j, "batch_norm", hp->batch_norm);
    cJSON_AddNumberToObject(j, "bn_eps", 1e-5);
    cJSON_AddStringToObject(j, "task", n_classes ? "classification" : "regression");
    cJSON_AddNumberToObject(j, "n_classes", n_classes);
    cJSON_AddStringToObject(j, "output",
                            n_classes == 0   ? "linear"
                            : n_classes == 2 ? "sigmoid"
                                             : "softmax");
    cJSON_AddStringToObject(j, "normalize", hp_normalize_name(applied)); /* "auto" resolved */
    s = cJSON_PrintUnformatted(j);
out:
    cJSON_Delete(layers);
    cJSON_Delete(j);
    return s;
}

/* The arrays of one layer (1-based number l1). */
static int add_layer(struct npz *z, struct mlp *m, int l, struct err *e)
{
    struct mlp_layer_info li;
    mlp_layer_info(m, l, &li);
    const float *p = mlp_params(m);
    char name[32];
    int64_t shape[2] = {li.in, li.out}, n1[1] = {li.out};
    snprintf(name, sizeof name, "W%d", l + 1);
    if (npz_add(z, name, NPZ_F4, 2, shape, p + li.w, e) < 0)
        return e->code;
    if (!li.bn) {
        snprintf(name, sizeof name, "b%d", l + 1);
        return npz_add(z, name, NPZ_F4, 1, n1, p + li.b, e);
    }
    const char *const nm[4] = {"gamma", "beta", "running_mean", "running_var"};
    const size_t off[4] = {li.gamma, li.beta, li.rmean, li.rvar};
    for (int k = 0; k < 4; k++) {
        snprintf(name, sizeof name, "%s%d", nm[k], l + 1);
        if (npz_add(z, name, NPZ_F4, 1, n1, p + off[k], e) < 0)
            return e->code;
    }
    return 0;
}

/* Rename tmp to dir/name; 0 or MLP_EIO. */
static int publish(const char *tmp, const char *dir, const char *name, struct err *e)
{
    char path[CONFIG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (rename(tmp, path) != 0) {
        int rc =
            err_set(e, MLP_EIO, NULL, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        remove(tmp);
        return rc;
    }
    return 0;
}

int artifact_save_model(const char *dir, const struct train_result *res, const struct hparams *hp,
                        const char *dataset, const struct data_prepared *prep, struct err *e)
{
    char *meta = NULL, tmp[CONFIG_PATH_MAX + 64];
    struct npz *z = NULL;
    int rc = 0, d = prep->train.d;
    if (!res->model || !prep->norm_shift || !prep->norm_scale)
        return err_set(e, MLP_EINTERNAL, NULL, "no model to save");
    if (config_mkdir_p(dir, 0755, e) < 0)
        return e->code;
    meta = model_meta(res->model, hp, dataset, res->n_classes, prep->normalize);
    if (!meta) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory saving the model");
        goto out;
    }
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, ARTIFACT_MODEL);
    z = npz_open(tmp, e);
    if (!z) {
        rc = e->code;
        goto out;
    }
    for (int l = 0; l < mlp_n_layers(res->model); l++)
        if ((rc = add_layer(z, res->model, l, e)) < 0)
            goto out;
    int64_t nd[1] = {d}, nm[1] = {(int64_t)strlen(meta)};
    if ((rc = npz_add(z, "norm_shift", NPZ_F8, 1, nd, prep->norm_shift, e)) < 0 ||
        (rc = npz_add(z, "norm_scale", NPZ_F8, 1, nd, prep->norm_scale, e)) < 0 ||
        (rc = npz_add(z, "meta", NPZ_U1, 1, nm, meta, e)) < 0)
        goto out;
    rc = npz_close(z, e);
    z = NULL;
    if (rc == 0)
        rc = publish(tmp, dir, ARTIFACT_MODEL, e);
out:
    if (z) {
        struct err ignore = ERR_INIT;
        npz_close(z, &ignore);
        remove(tmp);
    }
    free(meta);
    return rc;
}

int artifact_save_predictions(const char *dir, const struct train_result *res,
                              const struct data_prepared *prep, struct err *e)
{
    char tmp[CONFIG_PATH_MAX + 64], num[64];
    const int K = res->n_classes;
    if (!res->test_out)
        return err_set(e, MLP_EINTERNAL, NULL, "no predictions to save");
    if (config_mkdir_p(dir, 0755, e) < 0)
        return e->code;
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, ARTIFACT_PREDICTIONS);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return err_set(e, MLP_EIO, NULL, "cannot create %s: %s", tmp, strerror(errno));
    if (K) {
        fputs("row,label,predicted", f);
        for (int c = 0; c < K; c++)
            fprintf(f, ",p%d", c);
    } else {
        fputs("row,target,predicted", f);
    }
    fputc('\n', f);
    for (int64_t i = 0; i < res->n_test; i++) {
        const float y = prep->test.y[i];
        if (K) {
            fprintf(f, "%lld,%d,%d", (long long)i, (int)y, res->test_pred[i]);
            for (int c = 0; c < K; c++) {
                json_print_double(num, sizeof num, res->test_out[(size_t)i * K + c]);
                fprintf(f, ",%s", num);
            }
        } else {
            json_print_double(num, sizeof num, (double)y);
            fprintf(f, "%lld,%s", (long long)i, num);
            json_print_double(num, sizeof num, res->test_out[i]);
            fprintf(f, ",%s", num);
        }
        fputc('\n', f);
    }
    if (ferror(f) | (fclose(f) != 0)) {
        int rc = err_set(e, MLP_EIO, NULL, "writing %s: %s", tmp, strerror(errno));
        remove(tmp);
        return rc;
    }
    return publish(tmp, dir, ARTIFACT_PREDICTIONS, e);
}

/* Append the rows of one raw split to points.csv as "split,x1,x2,label". */
static void put_points(FILE *f, const char *split, const struct data_view *v, bool regression)
{
    char a[64], b[64], l[64];
    for (int64_t i = 0; i < v->n; i++) {
        json_print_double(a, sizeof a, v->x[(size_t)i * 2]);
        json_print_double(b, sizeof b, v->x[(size_t)i * 2 + 1]);
        if (regression)
            json_print_double(l, sizeof l, v->y[i]);
        else
            snprintf(l, sizeof l, "%d", (int)v->y[i]);
        fprintf(f, "%s,%s,%s,%s\n", split, a, b, l);
    }
}

/* Close f, then publish tmp as dir/name (or remove it on a write error). */
static int finish_csv(FILE *f, const char *tmp, const char *dir, const char *name, struct err *e)
{
    if (ferror(f) | (fclose(f) != 0)) {
        int rc = err_set(e, MLP_EIO, NULL, "writing %s: %s", tmp, strerror(errno));
        remove(tmp);
        return rc;
    }
    return publish(tmp, dir, name, e);
}

/* Widen the box lo[2], hi[2] by the rows of v. */
static void box_widen(const struct data_view *v, double *lo, double *hi)
{
    for (int64_t i = 0; i < v->n; i++)
        for (int j = 0; j < 2; j++) {
            double x = v->x[(size_t)i * 2 + j];
            if (x < lo[j])
                lo[j] = x;
            if (x > hi[j])
                hi[j] = x;
        }
}

/* The grid through the model, written as boundary.csv rows. */
static int write_grid(FILE *f, struct mlp *m, const double *lo, const double *hi,
                      const double *shift, const double *scale, int K, struct err *e)
{
    const int cap = mlp_max_batch(m), cols = K ? K : 1, n = ARTIFACT_GRID * ARTIFACT_GRID;
    mlp_real *x = malloc((size_t)cap * 2 * sizeof *x);
    float *y = calloc((size_t)cap, sizeof *y);
    double *out = malloc((size_t)cap * cols * sizeof *out),
           *raw = malloc((size_t)cap * 2 * sizeof *raw);
    int *pred = malloc((size_t)cap * sizeof *pred);
    int rc = 0;
    if (!x || !y || !out || !raw || !pred) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory writing the decision boundary");
        goto out;
    }
    char a[64], b[64], c[64];
    for (int s = 0; s < n; s += cap) {
        int B = n - s < cap ? n - s : cap;
        for (int r = 0; r < B; r++) {
            /* row-major over x2 (outer) then x1 (inner), corners included */
            int i = (s + r) % ARTIFACT_GRID, k = (s + r) / ARTIFACT_GRID;
            raw[r * 2] = lo[0] + (hi[0] - lo[0]) * i / (ARTIFACT_GRID - 1);
            raw[r * 2 + 1] = lo[1] + (hi[1] - lo[1]) * k / (ARTIFACT_GRID - 1);
            for (int j = 0; j < 2; j++)
                x[r * 2 + j] = (mlp_real)((raw[r * 2 + j] - shift[j]) * scale[j]);
        }
        struct mlp_stats st = {0, 0, 0};
        mlp_forward(m, x, y, B, MLP_EVAL, NULL, &st);
        mlp_outputs(m, B, out, K ? pred : NULL);
        for (int r = 0; r < B; r++) {
            json_print_double(a, sizeof a, raw[r * 2]);
            json_print_double(b, sizeof b, raw[r * 2 + 1]);
            if (K) {
                double pm = out[(size_t)r * K];
                for (int q = 1; q < K; q++)
                    if (out[(size_t)r * K + q] > pm)
                        pm = out[(size_t)r * K + q];
                json_print_double(c, sizeof c, pm);
                fprintf(f, "%s,%s,%d,%s\n", a, b, pred[r], c);
            } else {
                json_print_double(c, sizeof c, out[r]);
                fprintf(f, "%s,%s,%s\n", a, b, c);
            }
        }
    }
out:
    free(x);
    free(y);
    free(out);
    free(raw);
    free(pred);
    return rc;
}

int artifact_save_boundary(const char *dir, const struct train_result *res,
                           const struct hparams *hp, const struct dataset *ds,
                           const struct data_prepared *prep, struct err *e)
{
    struct data_prepared raw;
    struct hparams hraw = *hp;
    char tmp[CONFIG_PATH_MAX + 64];
    const double *shift = prep->norm_shift, *scale = prep->norm_scale;
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    const int K = res->n_classes;
    FILE *f = NULL;
    int rc;
    if (!res->model || prep->train.d != 2 || !shift || !scale)
        return err_set(e, MLP_EINTERNAL, NULL, "no 2-feature model to draw");
    if (config_mkdir_p(dir, 0755, e) < 0)
        return e->code;
    hraw.normalize = HP_NONE;
    if (data_prepare_uncached(ds, &hraw, &raw, e) < 0)
        return e->code;
    box_widen(&raw.train, lo, hi);
    box_widen(&raw.test, lo, hi);
    for (int j = 0; j < 2; j++) {
        double span = hi[j] - lo[j];
        if (!(span > 0))
            span = fabs(lo[j]) > 0 ? fabs(lo[j]) : 1; /* one distinct value: a unit box */
        lo[j] -= ARTIFACT_MARGIN * span;
        hi[j] += ARTIFACT_MARGIN * span;
    }

    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, ARTIFACT_BOUNDARY);
    if (!(f = fopen(tmp, "w"))) {
        rc = err_set(e, MLP_EIO, NULL, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    fputs(K ? "x1,x2,predicted,p_max\n" : "x1,x2,value\n", f);
    if ((rc = write_grid(f, res->model, lo, hi, shift, scale, K, e)) < 0) {
        fclose(f);
        remove(tmp);
        goto out;
    }
    if ((rc = finish_csv(f, tmp, dir, ARTIFACT_BOUNDARY, e)) < 0)
        goto out;

    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, ARTIFACT_POINTS);
    if (!(f = fopen(tmp, "w"))) {
        rc = err_set(e, MLP_EIO, NULL, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    fputs("split,x1,x2,label\n", f);
    put_points(f, "train", &raw.train, K == 0);
    put_points(f, "test", &raw.test, K == 0);
    rc = finish_csv(f, tmp, dir, ARTIFACT_POINTS, e);
out:
    data_prepared_release(&raw);
    return rc;
}
