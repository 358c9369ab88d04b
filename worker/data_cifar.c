/*
 * data_cifar — the CIFAR-10 binary version: records of 1 label byte (0..9) +
 * 3072 pixel bytes (R, G, B planes of 32x32, kept in that order as 3072
 * features).  Every data_batch_<k>.bin present (k = 1..5; 10,000 records each
 * in the published set) is used for training, test_batch.bin for testing.
 * A file must be a whole number of records.
 */
#include "data_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CIFAR_RECORD 3073
#define CIFAR_D 3072
#define base_name data__base_name

static int cifar_size(const char *path, int64_t *records, struct err *e)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return err_set(e, MLP_EINVALID_DATASET, path, "%s: %s", base_name(path), strerror(errno));
    if (st.st_size == 0 || st.st_size % CIFAR_RECORD != 0)
        return err_set(e, MLP_EINVALID_DATASET, path,
                       "%s: %lld bytes is not a whole number of %d-byte CIFAR-10 records "
                       "(partial record or not the binary version)",
                       base_name(path), (long long)st.st_size, CIFAR_RECORD);
    *records = st.st_size / CIFAR_RECORD;
    return 0;
}

static int cifar_read(const char *path, int64_t records, float *x, float *y, struct err *e)
{
    unsigned char rec[CIFAR_RECORD];
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return err_set(e, MLP_EINVALID_DATASET, path, "%s: %s", base_name(path), strerror(errno));
    for (int64_t r = 0; r < records; r++) {
        if (fread(rec, 1, sizeof rec, fp) != sizeof rec) {
            fclose(fp);
            return err_set(e, MLP_EINVALID_DATASET, path, "%s: truncated at record %lld",
                           base_name(path), (long long)r);
        }
        if (rec[0] > 9) {
            fclose(fp);
            return err_set(e, MLP_EINVALID_DATASET, path,
                           "%s: record %lld has label %d, expected 0..9", base_name(path),
                           (long long)r, rec[0]);
        }
        y[r] = rec[0];
        for (int i = 0; i < CIFAR_D; i++)
            x[r * CIFAR_D + i] = rec[1 + i];
    }
    fclose(fp);
    return 0;
}

int data__load_cifar(const struct sources *src, struct raw *out, bool decode, struct err *e)
{
    int64_t recs[DS_CIFAR_BATCHES + 1], ntr = 0;
    int rc;
    for (int i = 0; i < src->n; i++) {
        if ((rc = cifar_size(src->path[i], &recs[i], e)))
            return rc;
        if (i < src->n - 1)
            ntr += recs[i];
    }
    out->n_train = ntr;
    out->n_test = recs[src->n - 1];
    out->d = CIFAR_D;
    out->n_classes = 10;
    out->buf = NULL;
    if (!decode)
        return 0;
    out->buf = malloc(data__raw_floats(out) * sizeof(float));
    if (!out->buf)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory decoding CIFAR-10");
    struct data_view tr, te;
    data__raw_views(out->buf, out->n_train, out->n_test, out->d, &tr, &te);
    int64_t at = 0;
    for (int i = 0; i < src->n - 1; i++) {
        if ((rc = cifar_read(src->path[i], recs[i], (float *)tr.x + at * CIFAR_D,
                             (float *)tr.y + at, e)))
            goto fail;
        at += recs[i];
    }
    if ((rc = cifar_read(src->path[src->n - 1], out->n_test, (float *)te.x, (float *)te.y, e)))
        goto fail;
    return 0;
fail:
    free(out->buf);
    out->buf = NULL;
    return rc;
}
