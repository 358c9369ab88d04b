/*
 * data_csv — comma-separated numbers, parsed by common/dataread.c (blank
 * lines skipped, an optional header line, every cell a finite number, errors
 * naming file:line:column; the daemon's submit-time check is the same parser
 * without keeping the cells).  Here the label column is split off and, for
 * classification, the labels' distinct values (train and test together) are
 * mapped to class indices in increasing order, so labels 0..K-1 stay as they
 * are and e.g. {-1, 1} become {0, 1}.
 */
#include "data_int.h"

#include <stdlib.h>

#define CSV_MAX_CLASSES 10000

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Index of v in the sorted unique list u[0..k). */
static int class_index(const float *u, int k, float v)
{
    int lo = 0, hi = k - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (u[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int data__load_csv(const struct ds_spec *spec, const struct dataread_sources *src, struct raw *out,
                   struct err *e)
{
    struct dataread_csv c[2];
    float *uniq = NULL;
    int cols, rc;
    if ((rc = dataread_csv_pair(spec, src, true, c, &cols, e)))
        return rc;
    int lab = spec->label_col < 0 ? cols - 1 : spec->label_col;
    int k = 0;
    out->n_train = c[0].rows;
    out->n_test = c[1].rows;
    out->d = cols - 1;
    out->buf = NULL;
    if (spec->task == DS_CLASSIFICATION) {
        int64_t nl = c[0].rows + c[1].rows;
        uniq = malloc((size_t)nl * sizeof *uniq);
        if (!uniq) {
            rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
            goto out;
        }
        int64_t j = 0;
        for (int s = 0; s < 2; s++)
            for (int64_t r = 0; r < c[s].rows; r++)
                uniq[j++] = c[s].v[r * cols + lab];
        qsort(uniq, (size_t)nl, sizeof *uniq, cmp_float);
        for (int64_t i = 0; i < nl; i++)
            if (i == 0 || uniq[i] != uniq[k - 1]) {
                if (k == CSV_MAX_CLASSES) {
                    rc = err_set(e, MLP_EINVALID_DATASET, src->path[0],
                                 "more than %d distinct labels: use \"task\": \"regression\" "
                                 "for real-valued targets",
                                 CSV_MAX_CLASSES);
                    goto out;
                }
                uniq[k++] = uniq[i];
            }
        if (k < 2) {
            rc = err_set(e, MLP_EINVALID_DATASET, src->path[0],
                         "%s: every label is %g: a classifier needs at least two classes",
                         dataread_base_name(src->path[0]), (double)uniq[0]);
            goto out;
        }
    }
    out->n_classes = spec->task == DS_CLASSIFICATION ? k : 0;
    out->buf = malloc(data__raw_floats(out) * sizeof(float));
    if (!out->buf) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto out;
    }
    struct data_view v[2];
    data__raw_views(out->buf, out->n_train, out->n_test, out->d, &v[0], &v[1]);
    for (int s = 0; s < 2; s++) {
        float *x = (float *)v[s].x, *y = (float *)v[s].y;
        for (int64_t r = 0; r < c[s].rows; r++) {
            const float *in = c[s].v + r * cols;
            int o = 0;
            for (int f = 0; f < cols; f++)
                if (f != lab)
                    x[r * out->d + o++] = in[f];
            y[r] = spec->task == DS_CLASSIFICATION ? (float)class_index(uniq, k, in[lab]) : in[lab];
        }
    }
out:
    free(uniq);
    free(c[0].v);
    free(c[1].v);
    return rc;
}
