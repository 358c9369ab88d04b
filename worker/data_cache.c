/*
 * data_cache — prepared arrays built once per preparation and mapped
 * read-only by every worker that needs the same one.
 *
 * A preparation is what determines the bytes a trial trains on: the dataset
 * (its canonical spec and resolved files), split_seed, val_fraction, the
 * resolved normalisation and, unless that is "none", train_size (the
 * statistics come from the first train_size training rows).  Its entry,
 * <cache dir>/<name>-<key>.prep, where key hashes all of that, holds
 *
 *     header (4096 bytes)   magic "MLPCACHE", CACHE_VERSION, the key and the
 *                           fields it hashes, the identity of every source
 *                           file (size, mtime, inode), the row counts, the
 *                           offsets below, a checksum of everything after the
 *                           header and a checksum of the header itself
 *     description           JSON: dataset, files, split, normalisation, rows
 *     shift[d] scale[d]     float64: the transform applied, x' = (x - shift) * scale
 *     (page-aligned)        val_x val_y train_x train_y test_x test_y, float32,
 *                           exactly data_prepare()'s layout in memory
 *
 * Opening an entry checks the header: magic, version, header checksum, the
 * key's fields, the source files' identity (a replaced file makes the entry
 * stale), the file's size against the row counts.  It does not read the
 * payload: the payload checksum is verified when the entry is created (the
 * file written is read back and summed before it is renamed into place) and
 * by `mlpctl data verify` (data_cache_verify), not in every trial.  An entry
 * that fails any check is rebuilt, never used.
 *
 * Building: under an exclusive flock on <entry>.lock (so two workers do not
 * both build; the second waits and then maps what the first built), the
 * dataset is decoded, split and normalised into one private buffer, written
 * to a temporary file, fsync'd, read back and checked, and renamed over the
 * entry.  A worker that still maps an older file keeps its copy (rename never
 * changes a mapped file), and no file is ever truncated in place.
 *
 * train_size within an entry is a view (the first n_tr of the kept training
 * rows), and the train_eval subsample an index list (train.c): neither copies.
 */
#include "clock.h"
#include "data_int.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "guard.h"

#define CACHE_MAGIC "MLPCACHE"
#define CACHE_VERSION 2u /* 1 was a cache of decoded (unprepared) arrays, *.f32 */
#define CACHE_HDR_BYTES 4096u
#define CACHE_PAGE 4096u
#define CACHE_SOURCES (DS_CIFAR_BATCHES + 1)
#define CACHE_EXT ".prep"

struct cache_src { /* the identity of a source file when the entry was built */
    int64_t size;
    int64_t mtime_s, mtime_ns;
    uint64_t ino;
};

struct cache_hdr {
    char magic[8];
    uint32_t version;
    uint32_t n_src;                     /* source files in src[] */
    uint64_t key;                       /* the hash in the file name */
    struct cache_src src[CACHE_SOURCES];
    int64_t split_seed;
    double val_fraction;
    int64_t stats_size; /* train_size the statistics came from, 0: whole split ("none": 0) */
    int32_t normalize;  /* enum hp_normalize, resolved */
    int32_t d;          /* features */
    int32_t n_classes;  /* 0: regression */
    int32_t reserved;
    int64_t raw_train;          /* rows of the training file(s), before the split */
    int64_t n_val, n_keep;      /* stored validation and training rows */
    int64_t n_test;             /* stored test rows */
    uint64_t desc_off, desc_len;/* the description (JSON text) */
    uint64_t stats_off;         /* shift[d], scale[d] */
    uint64_t data_off;          /* the float32 arrays */
    uint64_t file_bytes;        /* the whole file */
    uint64_t payload_sum;       /* checksum of bytes [CACHE_HDR_BYTES, file_bytes) */
    uint64_t hdr_sum;           /* checksum of the bytes above */
};

_Static_assert(sizeof(struct cache_hdr) < CACHE_HDR_BYTES, "the header fits its page");

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 0x100000001B3ull;
    return h;
}

#define FNV0 0xCBF29CE484222325ull

/* Checksum of a payload: four interleaved multiply-xor lanes over 64-bit words
 * (about 4 GB/s, so creating or verifying a Fashion-MNIST entry sums it in ~50 ms). */
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
    uint64_t r = fnv1a(FNV0, c + i, n - i);
    for (int k = 0; k < 4; k++)
        r = (r ^ h[k]) * 0x100000001B3ull;
    return r ^ n;
}

static uint64_t hdr_sum(const struct cache_hdr *h)
{
    return fnv1a(FNV0, h, offsetof(struct cache_hdr, hdr_sum));
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) / a * a;
}

/* What a trial asks for: the fields the key hashes. */
struct want {
    int64_t split_seed;
    double val_fraction;
    int64_t stats_size;
    enum hp_normalize norm;
    uint64_t key;
    uint32_t n_src;
    struct cache_src src[CACHE_SOURCES];
};

static char *spec_text(const struct ds_spec *spec)
{
    cJSON *j = ds_spec_to_json(spec);
    char *t = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return t;
}

static int want_of(const struct dataset *ds, const struct hparams *hp, enum hp_normalize norm,
                   struct want *w, struct err *e)
{
    memset(w, 0, sizeof *w);
    w->split_seed = hp->split_seed;
    w->val_fraction = hp->val_fraction;
    w->norm = norm;
    w->stats_size = norm == HP_NONE ? 0 : hp->train_size;
    char *txt = spec_text(ds->spec);
    if (!txt)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    uint64_t h = fnv1a(FNV0, "mlpsweep-prepared-v2", 20);
    h = fnv1a(h, txt, strlen(txt) + 1);
    free(txt);
    int32_t nv = (int32_t)norm;
    h = fnv1a(h, &w->split_seed, sizeof w->split_seed);
    h = fnv1a(h, &w->val_fraction, sizeof w->val_fraction);
    h = fnv1a(h, &w->stats_size, sizeof w->stats_size);
    h = fnv1a(h, &nv, sizeof nv);
    w->n_src = (uint32_t)ds->src->n;
    for (int i = 0; i < ds->src->n; i++) {
        struct stat st;
        const char *p = ds->src->path[i];
        h = fnv1a(h, p, strlen(p) + 1);
        if (stat(p, &st) != 0)
            return err_set(e, MLP_EIO, p, "%s: %s", p, strerror(errno));
        w->src[i] = (struct cache_src){.size = st.st_size,
                                       .mtime_s = st.st_mtim.tv_sec,
                                       .mtime_ns = st.st_mtim.tv_nsec,
                                       .ino = (uint64_t)st.st_ino};
    }
    w->key = h;
    return 0;
}

/* Is h's layout consistent with a file of `size` bytes?  NULL or the problem. */
static const char *check_layout(const struct cache_hdr *h, uint64_t size)
{
    if (memcmp(h->magic, CACHE_MAGIC, 8) != 0)
        return "not a cache entry (bad magic)";
    if (h->version != CACHE_VERSION)
        return "written by another version";
    if (h->hdr_sum != hdr_sum(h))
        return "header checksum mismatch";
    if (h->d <= 0 || h->d > (1 << 24) || h->n_val < 1 || h->n_keep < 1 || h->n_test < 0 ||
        h->n_val > (INT64_C(1) << 40) || h->n_keep > (INT64_C(1) << 40) ||
        h->n_test > (INT64_C(1) << 40) || h->n_src > CACHE_SOURCES || h->n_classes < 0)
        return "impossible sizes in the header";
    uint64_t rows = (uint64_t)(h->n_val + h->n_keep + h->n_test);
    if (h->desc_off != CACHE_HDR_BYTES || h->stats_off < h->desc_off + h->desc_len ||
        h->data_off < h->stats_off + 16 * (uint64_t)h->d || h->data_off % CACHE_PAGE != 0 ||
        h->file_bytes != h->data_off + rows * (uint64_t)(h->d + 1) * sizeof(float))
        return "inconsistent offsets in the header";
    if (size < h->file_bytes)
        return "truncated";
    if (size != h->file_bytes)
        return "wrong size";
    return NULL;
}

/*
 * Map the entry at path for w into out.  Returns 0, 1 when there is no usable
 * entry (*why says what is wrong with it, "" when absent), or
 * MLP_EINVALID_SPEC when the trial's train_size does not fit the split.
 */
static int try_map(const char *path, const struct want *w, const struct hparams *hp,
                   struct data_prepared *out, const char **why, struct err *e)
{
    struct cache_hdr h;
    struct stat st;
    void *m = MAP_FAILED;
    int rc = 1;
    *why = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 1;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)CACHE_HDR_BYTES) {
        *why = "truncated";
        goto out;
    }
    if (pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h) {
        *why = "unreadable header";
        goto out;
    }
    if ((*why = check_layout(&h, (uint64_t)st.st_size)))
        goto out;
    if (h.key != w->key || h.split_seed != w->split_seed || h.val_fraction != w->val_fraction ||
        h.stats_size != w->stats_size || h.normalize != (int32_t)w->norm) {
        *why = "made for another preparation";
        goto out;
    }
    if (h.n_src != w->n_src || memcmp(h.src, w->src, w->n_src * sizeof *w->src) != 0) {
        *why = "stale: a source file changed since it was built";
        goto out;
    }
    int64_t n_val, n_tr;
    if ((rc = dataset_split(h.raw_train, hp->val_fraction, hp->train_size, &n_val, &n_tr, e)))
        goto out;
    rc = 1;
    if (n_val != h.n_val || n_tr > h.n_keep || (w->norm != HP_NONE && n_tr != h.n_keep)) {
        *why = "row counts do not match the split";
        goto out;
    }
    m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        *why = "cannot be mapped";
        goto out;
    }
    data__prepared_views((float *)((char *)m + h.data_off), h.n_val, n_tr, h.n_keep, h.n_test, h.d,
                         out);
    out->norm_shift = (const double *)((const char *)m + h.stats_off);
    out->norm_scale = out->norm_shift + h.d;
    out->n_classes = h.n_classes;
    out->normalize = (enum hp_normalize)h.normalize;
    out->cached = true;
    out->map_ = m;
    out->map_len_ = (size_t)st.st_size;
    rc = 0;
out:
    close(fd);
    return rc;
}

static bool write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(fd, c, n > (1u << 30) ? (1u << 30) : n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        c += k;
        n -= (size_t)k;
    }
    return true;
}

static cJSON *describe(const struct dataset *ds, const struct want *w, const struct cache_hdr *h)
{
    cJSON *o = cJSON_CreateObject(), *files = cJSON_CreateArray();
    if (!o || !files) {
        cJSON_Delete(o);
        cJSON_Delete(files);
        return NULL;
    }
    cJSON_AddItemToObject(o, "dataset", ds_spec_to_json(ds->spec));
    for (int i = 0; i < ds->src->n; i++)
        cJSON_AddItemToArray(files, cJSON_CreateString(ds->src->path[i]));
    cJSON_AddItemToObject(o, "sources", files);
    cJSON_AddNumberToObject(o, "split_seed", (double)w->split_seed);
    cJSON_AddNumberToObject(o, "val_fraction", w->val_fraction);
    cJSON_AddStringToObject(o, "normalize", hp_normalize_name(w->norm));
    if (w->stats_size > 0)
        cJSON_AddNumberToObject(o, "train_size", (double)w->stats_size);
    cJSON_AddNumberToObject(o, "val_rows", (double)h->n_val);
    cJSON_AddNumberToObject(o, "train_rows", (double)h->n_keep);
    cJSON_AddNumberToObject(o, "test_rows", (double)h->n_test);
    cJSON_AddNumberToObject(o, "features", h->d);
    return o;
}

/* Build the entry for w at path (the caller holds its lock).  0, a data
 * error from decoding or the split, or MLP_EIO / MLP_ENOMEM (cache unusable). */
static int build(struct dataset *ds, const struct hparams *hp, const struct want *w,
                 const char *path, struct err *e)
{
    int rc;
    char *buf = NULL, *desc = NULL, tmp[DS_PATH_MAX + 32];
    int fd = -1;
    void *m = MAP_FAILED;
    struct cache_hdr h;
    if ((rc = data__decode(ds, e)))
        return rc;
    int64_t n_val, n_tr, n_all;
    if ((rc = dataset_split(ds->train.n, hp->val_fraction, hp->train_size, &n_val, &n_tr, e)) ||
        (rc = dataset_split(ds->train.n, hp->val_fraction, 0, NULL, &n_all, e)))
        return rc;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, CACHE_MAGIC, 8);
    h.version = CACHE_VERSION;
    h.n_src = w->n_src;
    h.key = w->key;
    memcpy(h.src, w->src, sizeof h.src);
    h.split_seed = w->split_seed;
    h.val_fraction = w->val_fraction;
    h.stats_size = w->stats_size;
    h.normalize = (int32_t)w->norm;
    h.d = ds->train.d;
    h.n_classes = ds->n_classes;
    h.raw_train = ds->train.n;
    h.n_val = n_val;
    h.n_keep = w->norm == HP_NONE ? n_all : n_tr; /* "none": any train_size is a view */
    h.n_test = ds->test.n;
    cJSON *dj = describe(ds, w, &h);
    desc = dj ? cJSON_PrintUnformatted(dj) : NULL;
    cJSON_Delete(dj);
    if (!desc)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    h.desc_off = CACHE_HDR_BYTES;
    h.desc_len = strlen(desc);
    h.stats_off = align_up(h.desc_off + h.desc_len, 64);
    h.data_off = align_up(h.stats_off + 16 * (uint64_t)h.d, CACHE_PAGE);
    h.file_bytes =
        h.data_off + (uint64_t)(h.n_val + h.n_keep + h.n_test) * (uint64_t)(h.d + 1) * sizeof(float);
    buf = calloc(1, h.file_bytes);
    if (!buf) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory building the cache entry");
        goto out;
    }
    memcpy(buf + h.desc_off, desc, h.desc_len);
    double *stats = (double *)(buf + h.stats_off);
    if (data__prepare_into(ds, hp->split_seed, n_val, n_tr, h.n_keep, w->norm,
                           (float *)(buf + h.data_off), stats, stats + h.d)) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory building the cache entry");
        goto out;
    }
    h.payload_sum = payload_sum(buf + CACHE_HDR_BYTES, h.file_bytes - CACHE_HDR_BYTES);
    h.hdr_sum = hdr_sum(&h);
    memcpy(buf, &h, sizeof h);

    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    if ((fd = mkstemp(tmp)) < 0) {
        rc = err_set(e, MLP_EIO, path, "cannot create a file next to %s: %s", path,
                     strerror(errno));
        goto out;
    }
    if (!write_all(fd, buf, h.file_bytes) || fsync(fd) != 0) {
        rc = err_set(e, MLP_EIO, path, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    free(buf);
    buf = NULL;
    /* Integrity at creation: what the file holds, read back, is what was summed. */
    m = mmap(NULL, h.file_bytes, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED || memcmp(m, &h, sizeof h) != 0 ||
        payload_sum((const char *)m + CACHE_HDR_BYTES, h.file_bytes - CACHE_HDR_BYTES) !=
            h.payload_sum) {
        rc = err_set(e, MLP_EIO, path, "%s does not read back as written", tmp);
        goto out;
    }
    if (fchmod(fd, 0600) != 0 || rename(tmp, path) != 0) {
        rc = err_set(e, MLP_EIO, path, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto out;
    }
    tmp[0] = '\0';
out:
    if (m != MAP_FAILED)
        munmap(m, h.file_bytes);
    if (fd >= 0) {
        close(fd);
        if (tmp[0])
            unlink(tmp);
    }
    free(buf);
    free(desc);
    return rc;
}

int data__cache_prepare(struct dataset *ds, const struct hparams *hp, enum hp_normalize norm,
                        struct data_prepared *out, struct err *e)
{
    struct want w;
    char path[DS_PATH_MAX], lock[DS_PATH_MAX + 8];
    const char *why;
    int rc, lfd = -1;
    if ((rc = want_of(ds, hp, norm, &w, e)))
        return rc;
    int k = snprintf(path, sizeof path, "%s/%s-%016llx" CACHE_EXT, ds->cache_dir, ds->spec->name,
                     (unsigned long long)w.key);
    if (k < 0 || k >= (int)sizeof path)
        return err_set(e, MLP_EIO, NULL, "cache path too long");
    /* The warm path: one open, one header read, one mmap. */
    if ((rc = try_map(path, &w, hp, out, &why, e)) != 1)
        return rc;
    if (config_mkdir_p(ds->cache_dir, 0700, e) != 0)
        return MLP_EIO;
    snprintf(lock, sizeof lock, "%s.lock", path);
    if ((lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
        return err_set(e, MLP_EIO, lock, "%s: %s", lock, strerror(errno));
    guard_wait(true); /* another worker building it is progress: heartbeats go on */
    while (flock(lfd, LOCK_EX) != 0)
        if (errno != EINTR) {
            guard_wait(false);
            rc = err_set(e, MLP_EIO, lock, "cannot lock %s: %s", lock, strerror(errno));
            goto out;
        }
    guard_wait(false);
    /* Another worker may have built it while we waited for the lock. */
    if ((rc = try_map(path, &w, hp, out, &why, e)) != 1)
        goto out;
    const char *base = dataread_base_name(path);
    if (why[0])
        fprintf(stderr, "mlp-worker: data cache: %s is %s: rebuilding it\n", base, why);
    double t0 = mono_s();
    if ((rc = build(ds, hp, &w, path, e)))
        goto out;
    if ((rc = try_map(path, &w, hp, out, &why, e)) == 1)
        rc = err_set(e, MLP_EIO, path, "%s: just built, yet %s", path, why[0] ? why : "absent");
    if (rc == 0)
        fprintf(stderr, "mlp-worker: data cache: built %s (%.1f MB) in %.2f s\n", base,
                (double)out->map_len_ / 1e6, mono_s() - t0);
out:
    close(lfd); /* releases the lock */
    return rc;
}

/* ---------------------------------------------------------------- verify */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* One line saying what an entry holds, from its description. */
static void what_of(const char *desc, size_t len, char *out, size_t n)
{
    char *txt = strndup(desc, len);
    cJSON *j = txt ? cJSON_Parse(txt) : NULL;
    free(txt);
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(j, "dataset");
    char *dtxt = ds ? (cJSON_IsString(ds) ? strdup(ds->valuestring) : cJSON_PrintUnformatted(ds))
                    : NULL;
    const cJSON *ss = cJSON_GetObjectItemCaseSensitive(j, "split_seed"),
                *vf = cJSON_GetObjectItemCaseSensitive(j, "val_fraction"),
                *nm = cJSON_GetObjectItemCaseSensitive(j, "normalize"),
                *ts = cJSON_GetObjectItemCaseSensitive(j, "train_size"),
                *rv = cJSON_GetObjectItemCaseSensitive(j, "val_rows"),
                *rt = cJSON_GetObjectItemCaseSensitive(j, "train_rows"),
                *re = cJSON_GetObjectItemCaseSensitive(j, "test_rows");
    if (!dtxt || !cJSON_IsNumber(ss) || !cJSON_IsNumber(vf) || !cJSON_IsString(nm))
        snprintf(out, n, "?");
    else {
        int k = snprintf(out, n, "%s split_seed %.0f val_fraction %g normalize %s", dtxt,
                         ss->valuedouble, vf->valuedouble, nm->valuestring);
        if (k > 0 && (size_t)k < n && cJSON_IsNumber(ts))
            k += snprintf(out + k, n - (size_t)k, " train_size %.0f", ts->valuedouble);
        if (k > 0 && (size_t)k < n && cJSON_IsNumber(rv) && cJSON_IsNumber(rt) &&
            cJSON_IsNumber(re))
            snprintf(out + k, n - (size_t)k, "; rows %.0f val / %.0f train / %.0f test",
                     rv->valuedouble, rt->valuedouble, re->valuedouble);
    }
    free(dtxt);
    cJSON_Delete(j);
}

/* The sources listed in the description still as they were?  NULL or the problem. */
static const char *check_sources(const struct cache_hdr *h, const char *desc, size_t len,
                                 char *buf, size_t n)
{
    char *txt = strndup(desc, len);
    cJSON *j = txt ? cJSON_Parse(txt) : NULL;
    free(txt);
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(j, "sources"), *f;
    const char *problem = NULL;
    if (!cJSON_IsArray(files) || cJSON_GetArraySize(files) != (int)h->n_src) {
        cJSON_Delete(j);
        return "unreadable description";
    }
    int i = 0;
    cJSON_ArrayForEach(f, files)
    {
        struct stat st;
        const char *p = cJSON_IsString(f) ? f->valuestring : "";
        if (stat(p, &st) != 0) {
            snprintf(buf, n, "stale: source %s: %s", p, strerror(errno));
            problem = buf;
            break;
        }
        const struct cache_src *s = &h->src[i++];
        if (s->size != st.st_size || s->mtime_s != st.st_mtim.tv_sec ||
            s->mtime_ns != st.st_mtim.tv_nsec || s->ino != (uint64_t)st.st_ino) {
            snprintf(buf, n, "stale: source %s changed since it was built", p);
            problem = buf;
            break;
        }
    }
    cJSON_Delete(j);
    return problem;
}

/* Check one entry in full; NULL when sound, else the problem.  *what filled. */
static const char *verify_one(int dfd, const char *name, uint64_t *bytes, char *what, size_t wn,
                              char *buf, size_t bn)
{
    struct cache_hdr h;
    struct stat st;
    const char *problem = NULL;
    void *m = MAP_FAILED;
    snprintf(what, wn, "?");
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(buf, bn, "cannot open: %s", strerror(errno));
        return buf;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        problem = "not a regular file";
        goto out;
    }
    *bytes = (uint64_t)st.st_size;
    if (st.st_size < (off_t)CACHE_HDR_BYTES || pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h) {
        problem = "truncated";
        goto out;
    }
    if ((problem = check_layout(&h, (uint64_t)st.st_size)))
        goto out;
    m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        problem = "cannot be mapped";
        goto out;
    }
    const char *desc = (const char *)m + h.desc_off;
    what_of(desc, h.desc_len, what, wn);
    if (payload_sum((const char *)m + CACHE_HDR_BYTES, h.file_bytes - CACHE_HDR_BYTES) !=
        h.payload_sum) {
        problem = "corrupt: payload checksum mismatch";
        goto out;
    }
    problem = check_sources(&h, desc, h.desc_len, buf, bn);
out:
    if (m != MAP_FAILED)
        munmap(m, (size_t)st.st_size);
    close(fd);
    return problem;
}

/* Is somebody building the entry `name` (its lock is held)? */
static bool busy(int dfd, const char *entry)
{
    char lock[512];
    int k = snprintf(lock, sizeof lock, "%s.lock", entry);
    if (k < 0 || k >= (int)sizeof lock)
        return false;
    int fd = openat(dfd, lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    bool held = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd); /* releases what we took */
    return held;
}

int data_cache_verify(const char *dir, bool remove, data_verify_fn cb, void *ctx, struct err *e)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return err_set(e, MLP_EIO, dir, "%s: %s", dir, strerror(errno));
    }
    int bad = 0, dfd = dirfd(d);
    struct dirent *de;
    char what[1024], buf[DS_PATH_MAX + 128], msg[DS_PATH_MAX + 256], entry[256];
    while ((de = readdir(d))) {
        const char *name = de->d_name, *problem = NULL;
        uint64_t bytes = 0;
        struct stat st;
        if (name[0] == '.' || ends_with(name, ".lock"))
            continue;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            bytes = (uint64_t)st.st_size;
        snprintf(what, sizeof what, "?");
        const char *tmp = strstr(name, CACHE_EXT ".tmp.");
        if (tmp) {
            /* A temporary file: a build in progress (its lock is held) or left
             * by a worker that died while building. */
            snprintf(entry, sizeof entry, "%.*s", (int)(tmp - name + strlen(CACHE_EXT)), name);
            if (busy(dfd, entry))
                continue;
            snprintf(what, sizeof what, "a temporary file of %s", entry);
            problem = "left by a build that did not finish";
        } else if (ends_with(name, ".f32")) {
            snprintf(what, sizeof what, "decoded arrays of an earlier version");
            problem = "old format (version 1)";
        } else if (ends_with(name, CACHE_EXT)) {
            problem = verify_one(dfd, name, &bytes, what, sizeof what, buf, sizeof buf);
            if (problem && busy(dfd, name))
                continue; /* being rebuilt right now */
        } else {
            continue; /* not ours */
        }
        if (problem) {
            bad++;
            if (remove && unlinkat(dfd, name, 0) != 0 && errno != ENOENT) {
                snprintf(msg, sizeof msg, "%s (and cannot be removed: %s)", problem,
                         strerror(errno));
                problem = msg;
            }
        }
        if (cb)
            cb(name, bytes, what, problem, ctx);
    }
    closedir(d);
    return bad;
}
