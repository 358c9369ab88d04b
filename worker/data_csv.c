/*
 * data_csv — comma-separated numbers: blank lines skipped, an optional header
 * line, surrounding spaces and one pair of double quotes around a cell
 * tolerated.  Every cell must be a finite number (an error names
 * file:line:column and quotes the cell).  Classification labels must be
 * integers; their distinct values (train and test together) are mapped to
 * class indices in increasing order, so labels 0..K-1 stay as they are and
 * e.g. {-1, 1} become {0, 1}.  A check (no decode) parses every cell of both
 * files without keeping them, so the daemon finds a bad cell at submit time.
 */
#include "data_int.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define CSV_MAX_CLASSES 10000
#define base_name data__base_name

struct csv {
    float *v; /* rows * cols values, row-major, all columns */
    int64_t rows, cap;
    int cols;
};

/*
 * Parse a CSV file.  *cols is the expected field count (0 = take it from the
 * first line).  label_col < 0 means the last column.  With keep false every
 * row is parsed into one reused row (a check: c->rows counts, c->v holds only
 * the last row).  For classification the label field must be an integer.
 */
static int csv_parse(const char *path, const struct ds_spec *spec, int *cols, bool keep,
                     struct csv *c, struct err *e)
{
    const char *bn = base_name(path);
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    long lineno = 0;
    bool header_left = spec->header;
    int rc = 0;
    float *row = NULL;
    FILE *fp = fopen(path, "r");
    memset(c, 0, sizeof *c);
    if (!fp)
        return err_set(e, MLP_EINVALID_DATASET, path, "%s: %s", bn, strerror(errno));
    while ((len = getline(&line, &lcap, fp)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (strspn(line, " \t") == (size_t)len)
            continue;
        if ((ssize_t)strlen(line) != len) {
            rc = err_set(e, MLP_EINVALID_DATASET, path,
                         "%s:%ld: NUL byte in line (not a text file?)", bn, lineno);
            goto out;
        }
        int nf = 1;
        for (char *p = line; *p; p++)
            nf += *p == ',';
        if (*cols == 0) {
            if (nf < 2) {
                rc = err_set(e, MLP_EINVALID_DATASET, path,
                             "%s:%ld: only one field: expected features and a label separated "
                             "by commas",
                             bn, lineno);
                goto out;
            }
            *cols = nf;
        }
        if (nf != *cols) {
            rc = err_set(e, MLP_EINVALID_DATASET, path, "%s:%ld: expected %d fields, got %d", bn,
                         lineno, *cols, nf);
            goto out;
        }
        int lab = spec->label_col < 0 ? *cols - 1 : spec->label_col;
        if (lab >= *cols) {
            rc = err_set(e, MLP_EINVALID_DATASET, path,
                         "%s:%ld: label column %d does not exist (the file has %d columns, "
                         "numbered from 0)",
                         bn, lineno, lab, *cols);
            goto out;
        }
        if (header_left) {
            header_left = false;
            continue;
        }
        if (keep ? c->rows == c->cap : c->cap == 0) {
            int64_t ncap = c->cap ? c->cap * 2 : 256;
            float *nv = realloc(c->v, (size_t)ncap * (size_t)*cols * sizeof(float));
            if (!nv) {
                rc = err_set(e, MLP_ENOMEM, path, "%s: out of memory", bn);
                goto out;
            }
            c->v = nv;
            c->cap = ncap;
        }
        row = c->v + (keep ? (size_t)c->rows * (size_t)*cols : 0);
        char *p = line;
        for (int f = 0; f < nf; f++) {
            char *end = strchr(p, ',');
            if (end)
                *end = '\0';
            char *s = p + strspn(p, " \t"), *t = s + strlen(s);
            while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
                *--t = '\0';
            if (t - s >= 2 && s[0] == '"' && t[-1] == '"') {
                *--t = '\0';
                s++;
            }
            char *stop;
            errno = 0;
            double v = *s ? strtod(s, &stop) : 0;
            if (!*s || *stop || !isfinite(v) || fabs(v) > FLT_MAX) {
                rc = err_set(e, MLP_EINVALID_DATASET, path, "%s:%ld:%d: not a number: \"%.60s\"",
                             bn, lineno, f + 1, s);
                goto out;
            }
            if (f == lab && spec->task == DS_CLASSIFICATION &&
                (v != floor(v) || fabs(v) > 16777216.0)) {
                rc = err_set(e, MLP_EINVALID_DATASET, path,
                             "%s:%ld:%d: class label must be an integer, got %s (use \"task\": "
                             "\"regression\" for real-valued targets)",
                             bn, lineno, f + 1, s);
                goto out;
            }
            row[f] = (float)v;
            p = end ? end + 1 : p + strlen(p);
        }
        c->rows++;
    }
    if (ferror(fp)) {
        rc = err_set(e, MLP_EINVALID_DATASET, path, "%s: read error: %s", bn, strerror(errno));
        goto out;
    }
    if (c->rows == 0)
        rc = err_set(e, MLP_EINVALID_DATASET, path, "%s: no data rows%s", bn,
                     *cols && spec->header ? " after the header" : " (empty file)");
out:
    free(line);
    fclose(fp);
    if (rc) {
        free(c->v);
        c->v = NULL;
    }
    return rc;
}

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

int data__load_csv(const struct ds_spec *spec, const struct sources *src, struct raw *out,
                   bool decode, struct err *e)
{
    struct csv c[2] = {{0}};
    float *uniq = NULL;
    int cols = 0, rc;
    if ((rc = csv_parse(src->path[0], spec, &cols, decode, &c[0], e)))
        return rc;
    int train_cols = cols;
    cols = 0;
    if ((rc = csv_parse(src->path[1], spec, &cols, decode, &c[1], e)))
        goto out;
    if (cols != train_cols) {
        rc = err_set(e, MLP_EINVALID_DATASET, src->path[1],
                     "%s has %d columns but %s has %d: train and test must have the same columns",
                     base_name(src->path[1]), cols, base_name(src->path[0]), train_cols);
        goto out;
    }
    int lab = spec->label_col < 0 ? cols - 1 : spec->label_col;
    int k = 0;
    out->n_train = c[0].rows;
    out->n_test = c[1].rows;
    out->d = cols - 1;
    out->buf = NULL;
    /* A check keeps no labels: the class count is the decoder's business. */
    if (spec->task == DS_CLASSIFICATION && decode) {
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
                         base_name(src->path[0]), (double)uniq[0]);
            goto out;
        }
    }
    out->n_classes = spec->task == DS_CLASSIFICATION ? k : 0;
    if (!decode)
        goto out;
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
