/*
 * npz — the zip and .npy writer (see npz.h for the layout).
 *
 * Members are written as they are added: the .npy header is built in memory,
 * the CRC-32 runs over header and data first (both are in memory already), so
 * the local header is written once with its final sizes and no seek back is
 * needed.  The central directory entries are kept until npz_close().  Times
 * in the zip headers are fixed (1980-01-01), so equal arrays give equal files.
 */
#include "npz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define NPZ_MAX_MEMBERS 256
#define NPZ_NAME_MAX 64

struct npz_member {
    char name[NPZ_NAME_MAX + 5]; /* with ".npy" */
    uint32_t crc, size, offset;
};

struct npz {
    FILE *f;
    char path[4096];
    uint32_t off; /* bytes written so far */
    int n;
    struct npz_member m[NPZ_MAX_MEMBERS];
    int failed; /* a write failed: npz_close reports it */
};

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)((v >> 8) & 0xff);
}

static void put32(unsigned char *p, uint32_t v)
{
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

static void npz__write(struct npz *z, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, z->f) != n)
        z->failed = errno ? errno : EIO;
    z->off += (uint32_t)n;
}

struct npz *npz_open(const char *path, struct err *e)
{
    struct npz *z = calloc(1, sizeof *z);
    if (!z) {
        err_set(e, MLP_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    snprintf(z->path, sizeof z->path, "%s", path);
    z->f = fopen(path, "wb");
    if (!z->f) {
        err_set(e, MLP_EIO, NULL, "cannot create %s: %s", path, strerror(errno));
        free(z);
        return NULL;
    }
    return z;
}

static size_t npz__elem(enum npz_dtype t)
{
    return t == NPZ_U1 ? 1 : t == NPZ_F4 ? 4 : 8;
}

static const char *npz__descr(enum npz_dtype t)
{
    static const char *const d[] = {"<f4", "<f8", "<i8", "|u1"};
    return d[t];
}

int npz_add(struct npz *z, const char *name, enum npz_dtype t, int ndim, const int64_t *shape,
            const void *data, struct err *e)
{
    if (z->n >= NPZ_MAX_MEMBERS || strlen(name) > NPZ_NAME_MAX || ndim < 0 || ndim > 2)
        return err_set(e, MLP_EINTERNAL, NULL, "npz: bad member %s", name);
    /* The .npy header: magic, version, length, dict padded to 64 bytes. */
    char dict[192], shp[64];
    int64_t count = 1;
    if (ndim == 0)
        snprintf(shp, sizeof shp, "()");
    else if (ndim == 1)
        snprintf(shp, sizeof shp, "(%lld,)", (long long)shape[0]);
    else
        snprintf(shp, sizeof shp, "(%lld, %lld)", (long long)shape[0], (long long)shape[1]);
    for (int i = 0; i < ndim; i++)
        count *= shape[i];
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                      npz__descr(t), shp);
    size_t hlen = 10 + (size_t)dl + 1;
    size_t pad = (64 - hlen % 64) % 64;
    unsigned char head[256];
    memcpy(head, "\x93NUMPY\x01\x00", 8);
    put16(head + 8, (unsigned)(dl + pad + 1));
    memcpy(head + 10, dict, (size_t)dl);
    memset(head + 10 + dl, ' ', pad);
    head[hlen + pad - 1] = '\n';
    size_t hsize = hlen + pad, dsize = (size_t)count * npz__elem(t);
    if (hsize + dsize > 0xffffffffu || (uint64_t)z->off + hsize + dsize + 200 > 0xffffffffu)
        return err_set(e, MLP_EIO, NULL, "%s: array %s too large for a zip without zip64", z->path,
                       name);

    struct npz_member *m = &z->m[z->n++];
    snprintf(m->name, sizeof m->name, "%s.npy", name);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, head, (uInt)hsize);
    for (size_t o = 0; o < dsize; o += 1u << 30) { /* crc32 takes uInt lengths */
        size_t k = dsize - o < (1u << 30) ? dsize - o : (1u << 30);
        crc = crc32(crc, (const Bytef *)data + o, (uInt)k);
    }
    m->crc = (uint32_t)crc;
    m->size = (uint32_t)(hsize + dsize);
    m->offset = z->off;

    /* Local file header: stored, no data descriptor, time 00:00 date 1980-01-01. */
    unsigned char lh[30];
    size_t nl = strlen(m->name);
    put32(lh, 0x04034b50);
    put16(lh + 4, 20);    /* version needed */
    put16(lh + 6, 0);     /* flags */
    put16(lh + 8, 0);     /* stored */
    put16(lh + 10, 0);    /* time */
    put16(lh + 12, 0x21); /* date: 1980-01-01 */
    put32(lh + 14, m->crc);
    put32(lh + 18, m->size);
    put32(lh + 22, m->size);
    put16(lh + 26, (unsigned)nl);
    put16(lh + 28, 0);
    npz__write(z, lh, sizeof lh);
    npz__write(z, m->name, nl);
    npz__write(z, head, hsize);
    npz__write(z, data, dsize);
    return 0;
}

int npz_close(struct npz *z, struct err *e)
{
    if (!z)
        return 0;
    uint32_t cd_start = z->off;
    for (int i = 0; i < z->n; i++) {
        const struct npz_member *m = &z->m[i];
        unsigned char ch[46];
        size_t nl = strlen(m->name);
        memset(ch, 0, sizeof ch);
        put32(ch, 0x02014b50);
        put16(ch + 4, 20); /* made by */
        put16(ch + 6, 20); /* needed */
        put16(ch + 12, 0);
        put16(ch + 14, 0x21);
        put32(ch + 16, m->crc);
        put32(ch + 20, m->size);
        put32(ch + 24, m->size);
        put16(ch + 28, (unsigned)nl);
        put32(ch + 42, m->offset);
        npz__write(z, ch, sizeof ch);
        npz__write(z, m->name, nl);
    }
    unsigned char end[22];
    memset(end, 0, sizeof end);
    put32(end, 0x06054b50);
    put16(end + 8, (unsigned)z->n);
    put16(end + 10, (unsigned)z->n);
    put32(end + 12, z->off - cd_start);
    put32(end + 16, cd_start);
    npz__write(z, end, sizeof end);
    int rc = 0;
    if (fclose(z->f) != 0 && !z->failed)
        z->failed = errno ? errno : EIO;
    if (z->failed)
        rc = err_set(e, MLP_EIO, NULL, "writing %s: %s", z->path, strerror(z->failed));
    free(z);
    return rc;
}
