/*
 * fixture — shared helpers of the data tests (see fixture.h).
 */
#include "fixture.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void fx_tmpdir(char *buf, size_t n)
{
    const char *base = getenv("MLP_TEST_TMP");
    snprintf(buf, n, "%s/mlp-data-test-XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(buf)) {
        perror("mkdtemp");
        exit(1);
    }
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(p);
}

void fx_rmtree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *fx_join(char *buf, const char *dir, const char *name)
{
    snprintf(buf, DS_PATH_MAX, "%s/%s", dir, name);
    return buf;
}

int fx_write(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    size_t w = fwrite(data, 1, n, fp);
    return fclose(fp) == 0 && w == n ? 0 : -1;
}

int fx_write_gz(const char *path, const void *data, size_t n)
{
    gzFile gz = gzopen(path, "wb");
    if (!gz)
        return -1;
    int w = n ? gzwrite(gz, data, (unsigned)n) : 0;
    return gzclose(gz) == Z_OK && (size_t)w == n ? 0 : -1;
}

int fx_write_str(const char *path, const char *text)
{
    return fx_write(path, text, strlen(text));
}

unsigned char fx_pixel(long i, long j)
{
    return (unsigned char)((i * 31 + j * 7 + (i * j) % 13) & 255);
}

unsigned char fx_label(long i, int k)
{
    return (unsigned char)((i * 7 + 3) % k);
}

static void be32(unsigned char *b, unsigned v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

unsigned char *fx_idx_images(long n, int rows, int cols, size_t *len)
{
    long d = (long)rows * cols;
    *len = 16 + (size_t)(n * d);
    unsigned char *b = malloc(*len);
    if (!b)
        exit(1);
    be32(b, 0x803);
    be32(b + 4, (unsigned)n);
    be32(b + 8, (unsigned)rows);
    be32(b + 12, (unsigned)cols);
    for (long i = 0; i < n; i++)
        for (long j = 0; j < d; j++)
            b[16 + i * d + j] = fx_pixel(i, j);
    return b;
}

unsigned char *fx_idx_labels(long n, int k, size_t *len)
{
    *len = 8 + (size_t)n;
    unsigned char *b = malloc(*len);
    if (!b)
        exit(1);
    be32(b, 0x801);
    be32(b + 4, (unsigned)n);
    for (long i = 0; i < n; i++)
        b[8 + i] = fx_label(i, k);
    return b;
}

void fx_hparams(struct hparams *hp)
{
    hparams_default(hp);
    if (hp->val_fraction != 0.1 || hp->split_seed != 0 || hp->train_size != 0 ||
        hp->normalize != HP_NORM_AUTO) {
        fprintf(stderr, "hparams_default no longer matches SPEC.md's data defaults\n");
        exit(1);
    }
}
