/*
 * test_cache — the float32 cache: written once, mapped on the next load
 * (proved by changing a source file behind the cache's back while keeping
 * its size and mtime), identical data, invalidated by a new mtime, corrupt
 * or truncated cache files rebuilt, concurrent first loads from several
 * processes, and an unusable cache dir falling back to memory.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"
#include "fixture.h"

#define NTR 300
#define NTE 40

static char dir[1024], cache[1200];

static const char *names[4] = {"ti", "tl", "si.gz", "sl"};

static void write_files(int shift)
{
    char p[DS_PATH_MAX];
    for (int i = 0; i < (shift ? 1 : 4); i++) { /* shift: only the training images */
        size_t len;
        long n = i < 2 ? NTR : NTE;
        unsigned char *b = i % 2 == 0 ? fx_idx_images(n, 8, 8, &len) : fx_idx_labels(n, 4, &len);
        if (i == 0)
            for (size_t k = 16; k < len; k++)
                b[k] = (unsigned char)(b[k] + shift);
        fx_join(p, dir, names[i]);
        CHECK_EQ_INT(i == 2 ? fx_write_gz(p, b, len) : fx_write(p, b, len), 0);
        free(b);
    }
}

/* Number of files in the cache dir, and whether a temporary one is left over. */
static int cache_files(char *first, bool *tmp_left)
{
    int n = 0;
    *tmp_left = false;
    DIR *d = opendir(cache);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (!strstr(de->d_name, ".f32") || strstr(de->d_name, ".f32."))
            *tmp_left = true;
        else if (n++ == 0 && first)
            snprintf(first, DS_PATH_MAX, "%s/%s", cache, de->d_name);
    }
    if (d)
        closedir(d);
    return n;
}

static bool same(const struct dataset *a, const struct dataset *b)
{
    struct data_view x = data_train(a), y = data_train(b), u = data_test(a), v = data_test(b);
    return x.n == y.n && x.d == y.d && u.n == v.n && data_classes(a) == data_classes(b) &&
           memcmp(x.x, y.x, (size_t)x.n * x.d * 4) == 0 && memcmp(x.y, y.y, (size_t)x.n * 4) == 0 &&
           memcmp(u.x, v.x, (size_t)u.n * u.d * 4) == 0 && memcmp(u.y, v.y, (size_t)u.n * 4) == 0;
}

static struct dataset *load(const struct ds_spec *s, const struct dataset_dirs *d)
{
    struct err e = ERR_INIT;
    struct dataset *ds = data_load(s, d, 0, &e);
    if (!ds)
        fprintf(stderr, "load failed: %s\n", e.msg);
    CHECK(ds != NULL);
    return ds;
}

int main(void)
{
    struct ds_spec s;
    char p[DS_PATH_MAX], cfile[DS_PATH_MAX] = "";
    bool tmp_left;
    fx_tmpdir(dir, sizeof dir);
    snprintf(cache, sizeof cache, "%s/cache/sub", dir); /* created on demand */
    struct dataset_dirs nocache = {NULL, NULL, NULL}, cached = {NULL, NULL, cache};
    memset(&s, 0, sizeof s);
    s.kind = DS_IDX;
    strcpy(s.name, "idx");
    fx_join(s.train_images, dir, names[0]);
    fx_join(s.train_labels, dir, names[1]);
    fx_join(s.test_images, dir, names[2]);
    fx_join(s.test_labels, dir, names[3]);
    write_files(0);

    struct dataset *ref = load(&s, &nocache);
    CHECK_EQ_INT(cache_files(NULL, &tmp_left), 0);
    struct dataset *first = load(&s, &cached);
    CHECK_EQ_INT(cache_files(cfile, &tmp_left), 1);
    CHECK(!tmp_left);
    struct stat st;
    CHECK_EQ_INT(stat(cfile, &st), 0);
    CHECK_EQ_INT(st.st_size, 64 + (NTR + NTE) * (64 + 1) * 4);
    CHECK(same(ref, first));

    /* Replace the training images by other pixels of the same size and mtime:
       the next load must come from the cache (old pixels). */
    struct stat src;
    stat(s.train_images, &src);
    write_files(1);
    struct stat now;
    stat(s.train_images, &now);
    CHECK_EQ_INT(now.st_size, src.st_size);
    struct timespec ts[2] = {src.st_atim, src.st_mtim};
    CHECK_EQ_INT(utimensat(AT_FDCWD, s.train_images, ts, 0), 0);
    struct dataset *second = load(&s, &cached);
    CHECK(same(ref, second));
    data_free(second);

    /* A new mtime changes the key: decoded again, a second cache file. */
    ts[1].tv_sec += 10;
    CHECK_EQ_INT(utimensat(AT_FDCWD, s.train_images, ts, 0), 0);
    struct dataset *fresh = load(&s, &cached), *fresh_ref = load(&s, &nocache);
    CHECK(!same(ref, fresh));
    CHECK(same(fresh, fresh_ref));
    CHECK_EQ_INT(cache_files(NULL, &tmp_left), 2);
    data_free(fresh);

    /* Corrupt caches are rebuilt: a flipped payload byte, a truncated file, a bad header
       (the damage goes to every cache file, the current one among them). */
    for (int kind = 0; kind < 3; kind++) {
        DIR *d = opendir(cache);
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            snprintf(p, sizeof p, "%s/%s", cache, de->d_name);
            int fd = open(p, O_RDWR);
            CHECK(fd >= 0);
            if (kind == 0) {
                unsigned char c;
                CHECK_EQ_INT(pread(fd, &c, 1, 64 + 1000), 1);
                c ^= 0x40;
                CHECK_EQ_INT(pwrite(fd, &c, 1, 64 + 1000), 1);
            } else if (kind == 1) {
                CHECK_EQ_INT(ftruncate(fd, 64 + 400), 0);
            } else {
                CHECK_EQ_INT(pwrite(fd, "JUNK", 4, 0), 4);
            }
            close(fd);
        }
        closedir(d);
        struct dataset *r = load(&s, &cached);
        CHECK(same(r, fresh_ref));
        data_free(r);
        r = load(&s, &cached); /* and the rebuilt file is valid */
        CHECK(same(r, fresh_ref));
        data_free(r);
        CHECK_EQ_INT(cache_files(NULL, &tmp_left), 2);
        CHECK(!tmp_left);
    }

    /* Concurrent first loads: four processes, one empty cache dir. */
    snprintf(cache, sizeof cache, "%s/cache2", dir);
    struct dataset_dirs cached2 = {NULL, NULL, cache};
    pid_t kids[4];
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            struct err e = ERR_INIT;
            struct dataset *c = data_load(&s, &cached2, 0, &e);
            int ok = c && same(c, fresh_ref);
            data_free(c);
            _exit(ok ? 0 : 1);
        }
    }
    for (int k = 0; k < 4; k++) {
        int status = -1;
        waitpid(kids[k], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK_EQ_INT(cache_files(NULL, &tmp_left), 1);
    CHECK(!tmp_left);

    /* A cache dir that cannot be created: loads from memory all the same. */
    fx_write_str(fx_join(p, dir, "plainfile"), "x");
    char blocked[DS_PATH_MAX + 8];
    snprintf(blocked, sizeof blocked, "%s/sub", p);
    struct dataset_dirs bad = {NULL, NULL, blocked};
    struct dataset *mem = load(&s, &bad);
    CHECK(mem && same(mem, fresh_ref));
    data_free(mem);

    /* Synthetic sets write no cache. */
    snprintf(cache, sizeof cache, "%s/cache3", dir);
    struct ds_spec syn = {.kind = DS_SYNTHETIC, .name = "moons", .n = 50, .noise = 0.1};
    struct dataset_dirs cached3 = {NULL, NULL, cache};
    struct dataset *sy = load(&syn, &cached3);
    data_free(sy);
    CHECK_EQ_INT(cache_files(NULL, &tmp_left), 0);

    data_free(first);
    data_free(ref);
    data_free(fresh_ref);
    fx_rmtree(dir);
    return check_report();
}
