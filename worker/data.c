/*
 * data — loading, caching, splitting and normalising datasets (see data.h).
 *
 * Every loader produces one float32 block laid out as
 *     train_x[n_train*d] train_y[n_train] test_x[n_test*d] test_y[n_test]
 * which is exactly the payload of a cache file, so writing the cache is one
 * write and loading it is one mmap.
 *
 * Cache files (<cache_dir>/<name>-<key>.f32) start with a 64-byte header:
 * magic "MLPDSF32", format version, dims, task, the cache key, an FNV-style
 * checksum of the payload and a checksum of the header itself.  The key hashes
 * the canonical spec (ds_spec_to_json) and the path, size and mtime of every
 * source file, so replacing a file invalidates its cache.  A cache is written
 * to a temporary file in the same directory and renamed into place, so
 * concurrent workers never see a half-written file; the last rename wins and
 * both copies are valid.  A file whose header, length or checksum does not
 * match is ignored and rebuilt.  Synthetic sets are generated on the fly (no
 * cache: generating is cheaper than hashing a file).
 *
 * Formats:
 *  - IDX (plain or gzip, detected by content through zlib's transparent
 *    reading): images 0x00000803 (n, rows, cols), labels 0x00000801 (n); the
 *    two counts must agree and a plain file's length must match its header.
 *  - CIFAR-10 binary: records of 1 label byte + 3072 pixel bytes (R, G, B
 *    planes, kept in that order as 3072 features); every data_batch_<k>.bin
 *    present (k = 1..5) is used for training, test_batch.bin for testing.
 *  - CSV: comma separated numbers, blank lines skipped, optional header.
 *    Classification labels must be integers; their distinct values (train and
 *    test together) are mapped to class indices in increasing order, so labels
 *    0..K-1 stay as they are and e.g. {-1, 1} become {0, 1}.
 *  - Synthetic circles, moons, spirals (two arms), xor: two balanced classes
 *    (point i has class i % 2), Gaussian noise of sd `noise`, n training
 *    and n test points from two separate splitmix64 streams seeded from
 *    split_seed.
 *
 * data_prepare: a Fisher-Yates permutation of the training rows from a
 * splitmix64 stream seeded by split_seed alone; its first
 * max(1, round(val_fraction * N)) rows are the validation set, the following
 * ones the training set, cut to train_size.  Normalisation statistics
 * (population sd; min/max) come from that cut training set and are applied to
 * train, validation and test; labels are never touched.
 */
#include "data.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CACHE_MAGIC "MLPDSF32"
#define CACHE_VERSION 1u
#define CSV_MAX_CLASSES 10000
#define CIFAR_RECORD 3073
#define CIFAR_D 3072
#define CIFAR_BATCHES 5

struct dataset {
    int n_classes;          /* 0 for regression */
    struct data_view train; /* raw training set, views into map or heap */
    struct data_view test;  /* raw test set */
    void *map;              /* mmap'd cache file, or NULL */
    size_t map_len;         /* its length */
    float *heap;            /* malloc'd payload when not mapped */
};

/* A decoded dataset before it is cached or wrapped. */
struct raw {
    int64_t n_train, n_test;
    int d;
    int n_classes;
    float *buf; /* payload layout described at the top */
};

struct cache_hdr {
    char magic[8];
    uint32_t version;
    uint32_t d;
    int64_t n_train;
    int64_t n_test;
    int32_t n_classes;
    int32_t reserved;
    uint64_t key;
    uint64_t payload_sum;
    uint64_t hdr_sum; /* hash of the 56 bytes above */
};

_Static_assert(sizeof(struct cache_hdr) == 64, "cache header is 64 bytes");

/* ---------------------------------------------------------------- helpers */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static double rng_unif(uint64_t *s)
{
    return (double)(splitmix64(s) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n) without modulo bias. */
static uint64_t rng_below(uint64_t *s, uint64_t n)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, r;
    do
        r = splitmix64(s);
    while (r >= lim);
    return r % n;
}

static double rng_gauss(uint64_t *s)
{
    double u1 = rng_unif(s), u2 = rng_unif(s);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 0x100000001B3ull;
    return h;
}

/* Checksum of the payload: four interleaved multiply-xor lanes over 64-bit words. */
static uint64_t payload_sum(const void *p, size_t n)
{
    const unsigned char *c = p;
    uint64_t h[4] = {1, 2, 3, 4}, w;
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++) {
            memcpy(&w, c + i + 8 * k, 8);
            h[k] = (h[k] ^ w) * 0x9E3779B97F4A7C15ull;
            h[k] ^= h[k] >> 29;
        }
    uint64_t r = fnv1a(0xCBF29CE484222325ull, c + i, n - i);
    for (int k = 0; k < 4; k++)
        r = (r ^ h[k]) * 0x100000001B3ull;
    return r ^ n;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static size_t raw_floats(const struct raw *r)
{
    return (size_t)(r->n_train + r->n_test) * (size_t)(r->d + 1);
}

static void raw_views(const float *buf, int64_t n_train, int64_t n_test, int d,
                      struct data_view *tr, struct data_view *te)
{
    tr->n = n_train;
    tr->d = d;
    tr->x = buf;
    tr->y = buf + (size_t)n_train * d;
    te->n = n_test;
    te->d = d;
    te->x = tr->y + n_train;
    te->y = te->x + (size_t)n_test * d;
}

/* ---------------------------------------------------------------- sources */

/* The files a dataset is read from, resolved from the spec and the data dirs. */
struct sources {
    int n;
    char path[CIFAR_BATCHES + 1][DS_PATH_MAX];
};

static const char *const idx_files[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

/* <dir>/<name>/<file> or <file>.gz into out; false when neither exists. */
static bool find_one(const char *dir, const char *name, const char *file, bool gz_too, char *out)
{
    int k = snprintf(out, DS_PATH_MAX, "%s/%s/%s", dir, name, file);
    if (k > 0 && k < DS_PATH_MAX && is_file(out))
        return true;
    if (!gz_too)
        return false;
    k = snprintf(out, DS_PATH_MAX, "%s/%s/%s.gz", dir, name, file);
    return k > 0 && k < DS_PATH_MAX && is_file(out);
}

static int find_named(const struct ds_spec *spec, const struct data_dirs *dirs, struct sources *src,
                      struct err *e)
{
    const char *bases[2] = {dirs ? dirs->data_dir : NULL, dirs ? dirs->system_dir : NULL};
    bool cifar = strcmp(spec->name, "cifar10") == 0;
    char looked[1024] = "";
    size_t used = 0;
    for (int b = 0; b < 2; b++) {
        if (!bases[b] || !bases[b][0])
            continue;
        int k = snprintf(looked + used, sizeof looked - used, "%s%s/%s/", used ? " and " : "",
                         bases[b], spec->name);
        if (k > 0 && (size_t)k < sizeof looked - used)
            used += (size_t)k;
        memset(src, 0, sizeof *src);
        if (cifar) {
            for (int i = 1; i <= CIFAR_BATCHES; i++) {
                char f[32];
                snprintf(f, sizeof f, "data_batch_%d.bin", i);
                if (find_one(bases[b], spec->name, f, false, src->path[src->n]))
                    src->n++;
            }
            if (src->n > 0 &&
                find_one(bases[b], spec->name, "test_batch.bin", false, src->path[src->n])) {
                src->n++;
                return 0;
            }
            continue;
        }
        int i;
        for (i = 0; i < 4; i++)
            if (!find_one(bases[b], spec->name, idx_files[i], true, src->path[i]))
                break;
        if (i == 4) {
            src->n = 4;
            return 0;
        }
    }
    if (cifar)
        return err_set(e, MLP_EINVALID_DATASET, "dataset",
                       "cifar10 not found: looked in %s for data_batch_1.bin ... "
                       "data_batch_5.bin and test_batch.bin (the CIFAR-10 binary version; "
                       "place the files there)",
                       used ? looked : "(no data dir configured)");
    return err_set(e, MLP_EINVALID_DATASET, "dataset",
                   "%s not found: looked in %s for train-images-idx3-ubyte[.gz], "
                   "train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], "
                   "t10k-labels-idx1-ubyte[.gz] (run `mlpctl data fetch %s`)",
                   spec->name, used ? looked : "(no data dir configured)", spec->name);
}

static int find_sources(const struct ds_spec *spec, const struct data_dirs *dirs,
                        struct sources *src, struct err *e)
{
    memset(src, 0, sizeof *src);
    switch (spec->kind) {
    case DS_NAMED:
        return find_named(spec, dirs, src, e);
    case DS_IDX: {
        const char *p[4] = {spec->train_images, spec->train_labels, spec->test_images,
                            spec->test_labels};
        for (int i = 0; i < 4; i++) {
            if (!is_file(p[i]))
                return err_set(e, MLP_EINVALID_DATASET, p[i], "%s: no such file", p[i]);
            snprintf(src->path[i], DS_PATH_MAX, "%s", p[i]);
        }
        src->n = 4;
        return 0;
    }
    case DS_CSV: {
        const char *p[2] = {spec->train, spec->test};
        for (int i = 0; i < 2; i++) {
            if (!is_file(p[i]))
                return err_set(e, MLP_EINVALID_DATASET, p[i], "%s: no such file", p[i]);
            snprintf(src->path[i], DS_PATH_MAX, "%s", p[i]);
        }
        src->n = 2;
        return 0;
    }
    case DS_SYNTHETIC:
        return 0;
    }
    return err_set(e, MLP_EINTERNAL, NULL, "unknown dataset kind %d", (int)spec->kind);
}

/* ---------------------------------------------------------------- IDX */

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

/* Open (and, when out != NULL, decode) the four IDX files of src. */
static int load_idx(const struct sources *src, struct raw *out, struct err *e)
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
    if (!out)
        goto out;
    out->n_train = f[0].n;
    out->n_test = f[2].n;
    out->d = (int)f[0].d;
    out->buf = malloc(raw_floats(out) * sizeof(float));
    if (!out->buf) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory decoding %s", src->path[0]);
        goto out;
    }
    struct data_view tr, te;
    raw_views(out->buf, out->n_train, out->n_test, out->d, &tr, &te);
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
    if (rc && out) {
        free(out->buf);
        out->buf = NULL;
    }
    return rc;
}

/* ---------------------------------------------------------------- CIFAR-10 */

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

static int load_cifar(const struct sources *src, struct raw *out, struct err *e)
{
    int64_t recs[CIFAR_BATCHES + 1], ntr = 0;
    int rc;
    for (int i = 0; i < src->n; i++) {
        if ((rc = cifar_size(src->path[i], &recs[i], e)))
            return rc;
        if (i < src->n - 1)
            ntr += recs[i];
    }
    if (!out)
        return 0;
    out->n_train = ntr;
    out->n_test = recs[src->n - 1];
    out->d = CIFAR_D;
    out->n_classes = 10;
    out->buf = malloc(raw_floats(out) * sizeof(float));
    if (!out->buf)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory decoding CIFAR-10");
    struct data_view tr, te;
    raw_views(out->buf, out->n_train, out->n_test, out->d, &tr, &te);
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

/* ---------------------------------------------------------------- CSV */

struct csv {
    float *v; /* rows * cols values, row-major, all columns */
    int64_t rows, cap;
    int cols;
};

/*
 * Parse a CSV file.  *cols is the expected field count (0 = take it from the
 * first line).  label_col < 0 means the last column.  max_rows > 0 stops early
 * (data_check).  For classification the label field must be an integer.
 */
static int csv_parse(const char *path, const struct ds_spec *spec, int *cols, int64_t max_rows,
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
        if (c->rows == c->cap) {
            int64_t ncap = c->cap ? c->cap * 2 : 256;
            float *nv = realloc(c->v, (size_t)ncap * (size_t)*cols * sizeof(float));
            if (!nv) {
                rc = err_set(e, MLP_ENOMEM, path, "%s: out of memory", bn);
                goto out;
            }
            c->v = nv;
            c->cap = ncap;
        }
        row = c->v + (size_t)c->rows * (size_t)*cols;
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
        if (max_rows > 0 && c->rows >= max_rows)
            break;
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

static int load_csv(const struct ds_spec *spec, const struct sources *src, struct raw *out,
                    struct err *e)
{
    struct csv c[2] = {{0}};
    float *uniq = NULL;
    int cols = 0, rc;
    int64_t limit = out ? 0 : 5;
    if ((rc = csv_parse(src->path[0], spec, &cols, limit, &c[0], e)))
        return rc;
    int train_cols = cols;
    cols = 0;
    if ((rc = csv_parse(src->path[1], spec, &cols, limit, &c[1], e)))
        goto out;
    if (cols != train_cols) {
        rc = err_set(e, MLP_EINVALID_DATASET, src->path[1],
                     "%s has %d columns but %s has %d: train and test must have the same columns",
                     base_name(src->path[1]), cols, base_name(src->path[0]), train_cols);
        goto out;
    }
    int lab = spec->label_col < 0 ? cols - 1 : spec->label_col;
    int k = 0;
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
        if (k < 2 && out) {
            rc = err_set(e, MLP_EINVALID_DATASET, src->path[0],
                         "%s: every label is %g: a classifier needs at least two classes",
                         base_name(src->path[0]), (double)uniq[0]);
            goto out;
        }
    }
    if (!out)
        goto out;
    out->n_train = c[0].rows;
    out->n_test = c[1].rows;
    out->d = cols - 1;
    out->n_classes = spec->task == DS_CLASSIFICATION ? k : 0;
    out->buf = malloc(raw_floats(out) * sizeof(float));
    if (!out->buf) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto out;
    }
    struct data_view v[2];
    raw_views(out->buf, out->n_train, out->n_test, out->d, &v[0], &v[1]);
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

/* ---------------------------------------------------------------- synthetic */

static void synth_point(const char *name, int cls, double noise, uint64_t *s, float *x)
{
    double a, b;
    if (strcmp(name, "circles") == 0) {
        double t = 2 * M_PI * rng_unif(s), r = cls ? 0.5 : 1.0;
        a = r * cos(t);
        b = r * sin(t);
    } else if (strcmp(name, "moons") == 0) {
        double t = M_PI * rng_unif(s);
        a = cls ? 1.0 - cos(t) : cos(t);
        b = cls ? 0.5 - sin(t) : sin(t);
    } else if (strcmp(name, "spirals") == 0) {
        /* Two arms of 1.5 turns each, the second rotated by pi. */
        double t = rng_unif(s), ang = 3 * M_PI * t + cls * M_PI;
        a = t * cos(ang);
        b = t * sin(ang);
    } else { /* xor: class 0 in quadrants (+,+) and (-,-), class 1 in the other two */
        double u = rng_unif(s), v = rng_unif(s);
        int q = (int)(splitmix64(s) & 1);
        a = q ? u : -u;
        b = (q ^ cls) ? v : -v;
    }
    x[0] = (float)(a + noise * rng_gauss(s));
    x[1] = (float)(b + noise * rng_gauss(s));
}

static int load_synth(const struct ds_spec *spec, int64_t split_seed, struct raw *out,
                      struct err *e)
{
    out->n_train = out->n_test = spec->n;
    out->d = 2;
    out->n_classes = 2;
    out->buf = malloc(raw_floats(out) * sizeof(float));
    if (!out->buf)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory generating %s", spec->name);
    struct data_view v[2];
    raw_views(out->buf, out->n_train, out->n_test, 2, &v[0], &v[1]);
    for (int s = 0; s < 2; s++) {
        uint64_t st = (uint64_t)split_seed * 0xD1B54A32D192ED03ull +
                      (uint64_t)(s + 1) * 0x8CB92BA72F3D8DD7ull;
        splitmix64(&st);
        for (int64_t i = 0; i < spec->n; i++) {
            int cls = (int)(i % 2);
            synth_point(spec->name, cls, spec->noise, &st, (float *)v[s].x + 2 * i);
            ((float *)v[s].y)[i] = (float)cls;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- cache */

static uint64_t cache_key(const struct ds_spec *spec, const struct sources *src)
{
    uint64_t h = fnv1a(0xCBF29CE484222325ull, "mlpsweep-cache-v1", 17);
    cJSON *j = ds_spec_to_json(spec);
    char *txt = j ? cJSON_PrintUnformatted(j) : NULL;
    if (txt)
        h = fnv1a(h, txt, strlen(txt));
    free(txt);
    cJSON_Delete(j);
    for (int i = 0; i < src->n; i++) {
        struct stat st;
        int64_t meta[3] = {0, 0, 0};
        if (stat(src->path[i], &st) == 0) {
            meta[0] = st.st_size;
            meta[1] = st.st_mtim.tv_sec;
            meta[2] = st.st_mtim.tv_nsec;
        }
        h = fnv1a(h, src->path[i], strlen(src->path[i]) + 1);
        h = fnv1a(h, meta, sizeof meta);
    }
    return h;
}

static int cache_path(char *out, const char *dir, const struct ds_spec *spec, uint64_t key)
{
    int k =
        snprintf(out, DS_PATH_MAX, "%s/%s-%016llx.f32", dir, spec->name, (unsigned long long)key);
    return k > 0 && k < DS_PATH_MAX ? 0 : -1;
}

/* Map a cache file; NULL when absent or invalid (the caller rebuilds it). */
static struct dataset *cache_map(const char *path, uint64_t key)
{
    struct cache_hdr h;
    struct stat st;
    void *m = MAP_FAILED;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof h)
        goto fail;
    m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        goto fail;
    memcpy(&h, m, sizeof h);
    if (memcmp(h.magic, CACHE_MAGIC, 8) != 0 || h.version != CACHE_VERSION || h.key != key ||
        h.hdr_sum != fnv1a(0xCBF29CE484222325ull, &h, offsetof(struct cache_hdr, hdr_sum)) ||
        h.d == 0 || h.d > (1u << 24) || h.n_train <= 0 || h.n_test <= 0 ||
        h.n_train > (INT64_C(1) << 40) || h.n_test > (INT64_C(1) << 40) || h.n_classes < 0)
        goto fail;
    size_t bytes = (size_t)(h.n_train + h.n_test) * (h.d + 1) * sizeof(float);
    if ((size_t)st.st_size != sizeof h + bytes ||
        payload_sum((const char *)m + sizeof h, bytes) != h.payload_sum)
        goto fail;
    struct dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        goto fail;
    close(fd);
    ds->map = m;
    ds->map_len = (size_t)st.st_size;
    ds->n_classes = h.n_classes;
    raw_views((const float *)((const char *)m + sizeof h), h.n_train, h.n_test, (int)h.d,
              &ds->train, &ds->test);
    return ds;
fail:
    if (m != MAP_FAILED)
        munmap(m, (size_t)st.st_size);
    close(fd);
    return NULL;
}

static void mkdir_p(const char *dir)
{
    char p[DS_PATH_MAX];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0700);
            *s = '/';
        }
    mkdir(p, 0700);
}

static bool write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n > (1u << 30) ? (1u << 30) : n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

/* Write r to `path` through a temporary file and rename; false on any failure. */
static bool cache_write(const char *path, const struct raw *r, uint64_t key)
{
    char tmp[DS_PATH_MAX + 16];
    struct cache_hdr h;
    size_t bytes = raw_floats(r) * sizeof(float);
    memset(&h, 0, sizeof h);
    memcpy(h.magic, CACHE_MAGIC, 8);
    h.version = CACHE_VERSION;
    h.d = (uint32_t)r->d;
    h.n_train = r->n_train;
    h.n_test = r->n_test;
    h.n_classes = r->n_classes;
    h.key = key;
    h.payload_sum = payload_sum(r->buf, bytes);
    h.hdr_sum = fnv1a(0xCBF29CE484222325ull, &h, offsetof(struct cache_hdr, hdr_sum));
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return false;
    bool ok = write_all(fd, &h, sizeof h) && write_all(fd, r->buf, bytes);
    ok = close(fd) == 0 && ok;
    if (ok)
        ok = chmod(tmp, 0600) == 0 && rename(tmp, path) == 0;
    if (!ok)
        unlink(tmp);
    return ok;
}

/* ---------------------------------------------------------------- public */

static int decode(const struct ds_spec *spec, const struct sources *src, int64_t split_seed,
                  struct raw *r, struct err *e)
{
    switch (spec->kind) {
    case DS_SYNTHETIC:
        return load_synth(spec, split_seed, r, e);
    case DS_CSV:
        return load_csv(spec, src, r, e);
    case DS_IDX:
        return load_idx(src, r, e);
    case DS_NAMED:
        return strcmp(spec->name, "cifar10") == 0 ? load_cifar(src, r, e) : load_idx(src, r, e);
    }
    return err_set(e, MLP_EINTERNAL, NULL, "unknown dataset kind %d", (int)spec->kind);
}

struct dataset *data_load(const struct ds_spec *spec, const struct data_dirs *dirs,
                          int64_t split_seed, struct err *e)
{
    struct sources *src = NULL;
    struct raw r = {0};
    struct dataset *ds = NULL;
    char cpath[DS_PATH_MAX];
    bool cached = false;
    uint64_t key = 0;
    src = calloc(1, sizeof *src);
    if (!src) {
        err_set(e, MLP_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    if (find_sources(spec, dirs, src, e))
        goto out;
    if (spec->kind != DS_SYNTHETIC && dirs && dirs->cache_dir && dirs->cache_dir[0]) {
        key = cache_key(spec, src);
        cached = cache_path(cpath, dirs->cache_dir, spec, key) == 0;
        if (cached && (ds = cache_map(cpath, key)))
            goto out;
    }
    if (decode(spec, src, split_seed, &r, e))
        goto out;
    if (cached) {
        mkdir_p(dirs->cache_dir);
        if (cache_write(cpath, &r, key) && (ds = cache_map(cpath, key))) {
            free(r.buf);
            goto out;
        }
    }
    ds = calloc(1, sizeof *ds);
    if (!ds) {
        free(r.buf);
        err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto out;
    }
    ds->heap = r.buf;
    ds->n_classes = spec->kind == DS_CSV && spec->task == DS_REGRESSION ? 0 : r.n_classes;
    raw_views(r.buf, r.n_train, r.n_test, r.d, &ds->train, &ds->test);
out:
    free(src);
    return ds;
}

void data_free(struct dataset *ds)
{
    if (!ds)
        return;
    if (ds->map)
        munmap(ds->map, ds->map_len);
    free(ds->heap);
    free(ds);
}

int data_check(const struct ds_spec *spec, const struct data_dirs *dirs, struct err *e)
{
    struct sources *src = calloc(1, sizeof *src);
    int rc;
    if (!src)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    if ((rc = find_sources(spec, dirs, src, e)))
        goto out;
    switch (spec->kind) {
    case DS_SYNTHETIC:
        break;
    case DS_CSV:
        rc = load_csv(spec, src, NULL, e);
        break;
    case DS_IDX:
        rc = load_idx(src, NULL, e);
        break;
    case DS_NAMED:
        rc = strcmp(spec->name, "cifar10") == 0 ? load_cifar(src, NULL, e) : load_idx(src, NULL, e);
        break;
    }
out:
    free(src);
    return rc;
}

int data_classes(const struct dataset *ds)
{
    return ds->n_classes;
}

struct data_view data_train(const struct dataset *ds)
{
    return ds->train;
}

struct data_view data_test(const struct dataset *ds)
{
    return ds->test;
}

/* Copy rows idx[0..n) of v into x/y. */
static void gather(const struct data_view *v, const int64_t *idx, int64_t n, float *x, float *y)
{
    for (int64_t i = 0; i < n; i++) {
        memcpy(x + (size_t)i * v->d, v->x + (size_t)idx[i] * v->d, (size_t)v->d * sizeof(float));
        y[i] = v->y[idx[i]];
    }
}

/* Per-feature affine map x' = (x - shift) * scale from the training rows. */
static int norm_stats(const struct data_view *tr, enum hp_normalize how, double *shift,
                      double *scale)
{
    int d = tr->d;
    for (int j = 0; j < d; j++) {
        shift[j] = 0;
        scale[j] = 1;
    }
    if (how == HP_NONE)
        return 0;
    if (how == HP_STANDARDIZE) {
        double *m2 = calloc((size_t)d, sizeof *m2);
        if (!m2)
            return -1;
        for (int64_t i = 0; i < tr->n; i++)
            for (int j = 0; j < d; j++)
                shift[j] += tr->x[(size_t)i * d + j];
        for (int j = 0; j < d; j++)
            shift[j] /= (double)tr->n;
        for (int64_t i = 0; i < tr->n; i++)
            for (int j = 0; j < d; j++) {
                double c = tr->x[(size_t)i * d + j] - shift[j];
                m2[j] += c * c;
            }
        for (int j = 0; j < d; j++) {
            double sd = sqrt(m2[j] / (double)tr->n);
            scale[j] = sd > 1e-12 ? 1.0 / sd : 1.0;
        }
        free(m2);
        return 0;
    }
    double *hi = malloc((size_t)d * sizeof *hi);
    if (!hi)
        return -1;
    for (int j = 0; j < d; j++)
        shift[j] = hi[j] = tr->x[j];
    for (int64_t i = 1; i < tr->n; i++)
        for (int j = 0; j < d; j++) {
            double v = tr->x[(size_t)i * d + j];
            if (v < shift[j])
                shift[j] = v;
            if (v > hi[j])
                hi[j] = v;
        }
    /* A constant feature maps to 0: scale 0 after removing its minimum. */
    for (int j = 0; j < d; j++)
        scale[j] = hi[j] > shift[j] ? 1.0 / (hi[j] - shift[j]) : 0.0;
    free(hi);
    return 0;
}

static void apply_norm(float *x, int64_t n, int d, const double *shift, const double *scale)
{
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            float *p = x + (size_t)i * d + j;
            *p = (float)((*p - shift[j]) * scale[j]);
        }
}

int data_prepare(const struct dataset *ds, const struct hparams *hp, struct data_prepared *out,
                 struct err *e)
{
    const struct data_view *all = &ds->train, *test = &ds->test;
    int64_t n = all->n, *perm = NULL;
    double *shift = NULL, *scale = NULL;
    int d = all->d, rc = 0;
    memset(out, 0, sizeof *out);
    int64_t n_val = llround(hp->val_fraction * (double)n);
    if (n_val < 1)
        n_val = 1;
    int64_t n_tr = n - n_val;
    if (n_tr < 1)
        return err_set(e, MLP_EINVALID_SPEC, "params.val_fraction",
                       "val_fraction %g leaves no training rows out of %lld", hp->val_fraction,
                       (long long)n);
    if (hp->train_size > 0) {
        if (hp->train_size > n_tr)
            return err_set(e, MLP_EINVALID_SPEC, "params.train_size",
                           "train_size %lld is larger than the training split (%lld rows after "
                           "holding out %lld for validation)",
                           (long long)hp->train_size, (long long)n_tr, (long long)n_val);
        n_tr = hp->train_size;
    }
    perm = malloc((size_t)n * sizeof *perm);
    shift = malloc((size_t)d * sizeof *shift);
    scale = malloc((size_t)d * sizeof *scale);
    size_t rows = (size_t)(n_tr + n_val + test->n);
    out->buf_ = malloc(rows * (size_t)(d + 1) * sizeof(float));
    if (!perm || !shift || !scale || !out->buf_) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory preparing the data");
        goto out;
    }
    /* The split depends on split_seed alone, never on the trial seed. */
    uint64_t st = (uint64_t)hp->split_seed ^ 0x5EEDC0DE5EEDC0DEull;
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)rng_below(&st, (uint64_t)i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    /* Validation = the first n_val shuffled rows; training = the following ones. */
    float *p = out->buf_;
    struct data_view *v[3] = {&out->val, &out->train, &out->test};
    int64_t cnt[3] = {n_val, n_tr, test->n};
    for (int s = 0; s < 3; s++) {
        v[s]->n = cnt[s];
        v[s]->d = d;
        v[s]->x = p;
        p += (size_t)cnt[s] * d;
        v[s]->y = p;
        p += cnt[s];
    }
    gather(all, perm, n_val, (float *)out->val.x, (float *)out->val.y);
    gather(all, perm + n_val, n_tr, (float *)out->train.x, (float *)out->train.y);
    memcpy((float *)out->test.x, test->x, (size_t)test->n * d * sizeof(float));
    memcpy((float *)out->test.y, test->y, (size_t)test->n * sizeof(float));
    if (norm_stats(&out->train, hp->normalize, shift, scale)) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory preparing the data");
        goto out;
    }
    if (hp->normalize != HP_NONE)
        for (int s = 0; s < 3; s++)
            apply_norm((float *)v[s]->x, v[s]->n, d, shift, scale);
    out->n_classes = ds->n_classes;
out:
    free(perm);
    free(shift);
    free(scale);
    if (rc)
        data_prepared_release(out);
    return rc;
}

void data_prepared_release(struct data_prepared *p)
{
    if (!p)
        return;
    free(p->buf_);
    memset(p, 0, sizeof *p);
}
