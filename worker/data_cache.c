/*
 * data_cache — decoded arrays cached as float32 files under the cache dir and
 * mmap'd read-only, so concurrent workers share one copy through the page
 * cache and the second load is milliseconds.
 *
 * Cache files (<cache_dir>/<name>-<key>.f32) start with a 64-byte header:
 * magic "MLPDSF32", format version, dims, task, the cache key, an FNV-style
 * checksum of the payload and a checksum of the header itself.  The key hashes
 * the canonical spec (ds_spec_to_json) and the path, size and mtime of every
 * source file, so replacing a file invalidates its cache.  A cache is written
 * to a temporary file in the same directory and renamed into place, so
 * concurrent workers never see a half-written file; the last rename wins and
 * both copies are valid.  A file whose header, length or checksum does not
 * match is ignored and rebuilt.
 */
#include "data_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define CACHE_MAGIC "MLPDSF32"
#define CACHE_VERSION 1u

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

uint64_t data__cache_key(const struct ds_spec *spec, const struct dataread_sources *src)
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

int data__cache_path(char *out, const char *dir, const struct ds_spec *spec, uint64_t key)
{
    int k =
        snprintf(out, DS_PATH_MAX, "%s/%s-%016llx.f32", dir, spec->name, (unsigned long long)key);
    return k > 0 && k < DS_PATH_MAX ? 0 : -1;
}

/* Map a cache file; NULL when absent or invalid (the caller rebuilds it). */
struct dataset *data__cache_map(const char *path, uint64_t key)
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
    data__raw_views((const float *)((const char *)m + sizeof h), h.n_train, h.n_test, (int)h.d,
                    &ds->train, &ds->test);
    return ds;
fail:
    if (m != MAP_FAILED)
        munmap(m, (size_t)st.st_size);
    close(fd);
    return NULL;
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
bool data__cache_write(const char *dir, const char *path, const struct raw *r, uint64_t key)
{
    char tmp[DS_PATH_MAX + 16];
    struct cache_hdr h;
    size_t bytes = data__raw_floats(r) * sizeof(float);
    struct err ce = ERR_INIT;
    if (config_mkdir_p(dir, 0700, &ce) != 0)
        return false;
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
