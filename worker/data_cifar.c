/*
 * data_cifar — the CIFAR-10 binary version: records of 1 label byte (0..9) +
 * 3072 pixel bytes (R, G, B planes of 32x32, kept in that order as 3072
 * features).  Every data_batch_<k>.bin present (k = 1..5; 10,000 records each
 * in the published set) is used for training, test_batch.bin for testing.
 * A file must be a whole number of records (common/dataread.c reads them).
 */
#include "data_int.h"

#include <stdlib.h>

int data__load_cifar(const struct dataread_sources *src, struct raw *out, struct err *e)
{
    int64_t recs[DS_CIFAR_BATCHES + 1], ntr = 0;
    int rc;
    for (int i = 0; i < src->n; i++) {
        if ((rc = dataread_cifar_size(src->path[i], &recs[i], e)))
            return rc;
        if (i < src->n - 1)
            ntr += recs[i];
    }
    out->n_train = ntr;
    out->n_test = recs[src->n - 1];
    out->d = DATAREAD_CIFAR_D;
    out->n_classes = 10;
    out->buf = malloc(data__raw_floats(out) * sizeof(float));
    if (!out->buf)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory decoding CIFAR-10");
    struct data_view tr, te;
    data__raw_views(out->buf, out->n_train, out->n_test, out->d, &tr, &te);
    int64_t at = 0;
    for (int i = 0; i < src->n - 1; i++) {
        if ((rc = dataread_cifar_read(src->path[i], recs[i], (float *)tr.x + at * DATAREAD_CIFAR_D,
                                      (float *)tr.y + at, e)))
            goto fail;
        at += recs[i];
    }
    if ((rc = dataread_cifar_read(src->path[src->n - 1], out->n_test, (float *)te.x, (float *)te.y,
                                  e)))
        goto fail;
    return 0;
fail:
    free(out->buf);
    out->buf = NULL;
    return rc;
}
