/*
 * test_cache — the prepared-data cache (worker/data_cache.c).
 *
 * Against data_prepare_uncached() of the same dataset (the in-memory path):
 * for every normalisation the mapped entry holds the same bytes (views and
 * transform); the second prepare maps the same file (same inode: not rebuilt);
 * a flipped payload byte is NOT noticed by a trial (no payload sum per trial:
 * the mapped value shows the flip) but by data_cache_verify(), which removes
 * the entry so the next prepare rebuilds it; a truncated file, a longer one,
 * another version, a junk header and a replaced source file (stale) are
 * each rebuilt, never used; "none" shares one entry across train_size (a
 * view) while "global" gets one per train_size (its statistics differ);
 * concurrent first prepares in four processes build once; a temporary file
 * left by a dead build is removed by verify; an unusable cache dir falls back
 * to memory; synthetic sets write no entry.
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

static char dir[1024], cache[2048];
static const char *names[4] = {"ti", "tl", "si.gz", "sl"};
static const enum hp_normalize kinds[5] = {HP_NORM_AUTO, HP_GLOBAL, HP_STANDARDIZE, HP_MINMAX,
                                           HP_NONE};

static void write_files(int shift)
{
    char p[DS_PATH_MAX];
    for (int i = 0; i < 4; i++) {
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

/* Entries (*.prep) in the cache dir; the first one's path into first. */
static int entries(char *first)
{
    int n = 0;
    DIR *d = opendir(cache);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len > 5 && strcmp(de->d_name + len - 5, ".prep") == 0 && n++ == 0 && first)
            snprintf(first, DS_PATH_MAX, "%s/%s", cache, de->d_name);
        CHECK(!strstr(de->d_name, ".tmp.")); /* no temporary file is ever left */
    }
    if (d)
        closedir(d);
    return n;
}

static bool same_view(const struct data_view *a, const struct data_view *b)
{
    return a->n == b->n && a->d == b->d &&
           memcmp(a->x, b->x, (size_t)a->n * (size_t)a->d * 4) == 0 &&
           memcmp(a->y, b->y, (size_t)a->n * 4) == 0;
}

static bool same(const struct data_prepared *a, const struct data_prepared *b)
{
    int d = a->train.d;
    return same_view(&a->train, &b->train) && same_view(&a->val, &b->val) &&
           same_view(&a->test, &b->test) && a->n_classes == b->n_classes &&
           a->normalize == b->normalize && memcmp(a->norm_shift, b->norm_shift, (size_t)d * 8) == 0 &&
           memcmp(a->norm_scale, b->norm_scale, (size_t)d * 8) == 0;
}

static struct ds_spec spec;

/* Prepare through the cache dir `c` (NULL: in memory).  Returns the code. */
static int prep(const char *c, const struct hparams *hp, struct data_prepared *out)
{
    struct err e = ERR_INIT;
    struct dataset_dirs dirs = {NULL, NULL, c};
    struct dataset *ds = data_open(&spec, &dirs, 0, &e);
    CHECK(ds != NULL);
    if (!ds)
        return -1;
    int rc = data_prepare(ds, hp, out, &e);
    if (rc && getenv("MLP_TEST_VERBOSE"))
        fprintf(stderr, "prepare: %s\n", e.msg);
    data_free(ds); /* the prepared data outlives the dataset */
    return rc;
}

static ino_t inode_of(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? st.st_ino : 0;
}

struct verdicts {
    int n, bad;
    char last[512];
};

static void on_entry(const char *file, uint64_t bytes, const char *what, const char *problem,
                     void *ctx)
{
    struct verdicts *v = ctx;
    (void)bytes;
    (void)what;
    v->n++;
    if (problem) {
        v->bad++;
        snprintf(v->last, sizeof v->last, "%s: %s", file, problem);
    }
}

static int verify(bool remove, struct verdicts *v)
{
    struct err e = ERR_INIT;
    memset(v, 0, sizeof *v);
    return data_cache_verify(cache, remove, on_entry, v, &e);
}

/* Damage the entry at p: 0 flip a payload byte, 1 truncate, 2 append, 3 bump the version, 4 junk. */
static void damage(const char *p, int how)
{
    int fd = open(p, O_RDWR);
    struct stat st;
    CHECK(fd >= 0 && fstat(fd, &st) == 0);
    if (how == 0) {
        unsigned char c;
        CHECK_EQ_INT(pread(fd, &c, 1, st.st_size - 10), 1);
        c ^= 0x40;
        CHECK_EQ_INT(pwrite(fd, &c, 1, st.st_size - 10), 1);
    } else if (how == 1) {
        CHECK_EQ_INT(ftruncate(fd, st.st_size - 100), 0);
    } else if (how == 2) {
        CHECK_EQ_INT(pwrite(fd, "more", 4, st.st_size), 4);
    } else if (how == 3) {
        unsigned v = 3;
        CHECK_EQ_INT(pwrite(fd, &v, 4, 8), 4);
    } else {
        CHECK_EQ_INT(pwrite(fd, "JUNK", 4, 0), 4);
    }
    close(fd);
}

int main(void)
{
    struct hparams hp;
    struct data_prepared ref, got;
    char p[DS_PATH_MAX + 32], entry[DS_PATH_MAX];
    struct verdicts v;
    fx_tmpdir(dir, sizeof dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    memset(&spec, 0, sizeof spec);
    spec.kind = DS_IDX;
    strcpy(spec.name, "idx");
    fx_join(spec.train_images, dir, names[0]);
    fx_join(spec.train_labels, dir, names[1]);
    fx_join(spec.test_images, dir, names[2]);
    fx_join(spec.test_labels, dir, names[3]);
    write_files(0);
    fx_hparams(&hp);

    /* Every normalisation: the entry holds the in-memory bytes; auto and
     * global (its resolution for images) share one entry. */
    for (int k = 0; k < 5; k++) {
        hp.normalize = kinds[k];
        CHECK_EQ_INT(prep(NULL, &hp, &ref), 0);
        CHECK(!ref.cached);
        CHECK_EQ_INT(prep(cache, &hp, &got), 0);
        CHECK(got.cached);
        CHECK(same(&ref, &got));
        data_prepared_release(&got);
        data_prepared_release(&ref);
    }
    CHECK_EQ_INT(entries(NULL), 4);
    CHECK_EQ_INT(verify(false, &v), 0);
    CHECK_EQ_INT(v.n, 4);

    /* One entry from here on: a fresh cache dir, the default preparation. */
    snprintf(cache, sizeof cache, "%s/cache-b", dir);
    hp.normalize = HP_NORM_AUTO;
    CHECK_EQ_INT(prep(NULL, &hp, &ref), 0);
    CHECK_EQ_INT(prep(cache, &hp, &got), 0);
    data_prepared_release(&got);
    CHECK_EQ_INT(entries(entry), 1);
    ino_t ino = inode_of(entry);
    CHECK_EQ_INT(prep(cache, &hp, &got), 0); /* mapped, not rebuilt */
    CHECK(got.cached && same(&ref, &got));
    CHECK_EQ_INT(inode_of(entry), ino);
    data_prepared_release(&got);

    /* A flipped payload byte (the last test label's bytes): trials do not
     * sum the payload, so the mapping shows the flip; verify finds it and
     * removes the entry; the next prepare builds it again. */
    damage(entry, 0);
    CHECK_EQ_INT(prep(cache, &hp, &got), 0);
    CHECK(got.cached && !same(&ref, &got));
    CHECK_EQ_INT(inode_of(entry), ino);
    data_prepared_release(&got);
    CHECK_EQ_INT(verify(true, &v), 1);
    CHECK(strstr(v.last, "corrupt") != NULL);
    CHECK_EQ_INT(entries(NULL), 0);
    CHECK_EQ_INT(prep(cache, &hp, &got), 0);
    CHECK(got.cached && same(&ref, &got));
    data_prepared_release(&got);
    CHECK_EQ_INT(verify(false, &v), 0);

    /* Truncated, longer, another version, junk header: rebuilt, never used. */
    for (int how = 1; how <= 4; how++) {
        CHECK_EQ_INT(entries(entry), 1);
        ino = inode_of(entry);
        damage(entry, how);
        CHECK_EQ_INT(verify(false, &v), 1);
        CHECK_EQ_INT(prep(cache, &hp, &got), 0);
        CHECK(got.cached && same(&ref, &got));
        data_prepared_release(&got);
        CHECK(inode_of(entry) != ino);
        CHECK_EQ_INT(entries(NULL), 1);
        CHECK_EQ_INT(verify(false, &v), 0);
    }

    /* A source file replaced (other pixels, new mtime): stale, rebuilt in place. */
    data_prepared_release(&ref);
    ino = inode_of(entry);
    sleep(1); /* a coarse-mtime filesystem still sees a new mtime */
    write_files(3);
    CHECK_EQ_INT(verify(false, &v), 1);
    CHECK(strstr(v.last, "stale") != NULL);
    CHECK_EQ_INT(prep(NULL, &hp, &ref), 0);
    CHECK_EQ_INT(prep(cache, &hp, &got), 0);
    CHECK(got.cached && same(&ref, &got));
    data_prepared_release(&got);
    CHECK(inode_of(entry) != ino);
    CHECK_EQ_INT(entries(NULL), 1);

    /* train_size: a view of one entry under "none", its own entry under "global". */
    struct hparams h2 = hp;
    h2.normalize = HP_NONE;
    h2.train_size = 100;
    CHECK_EQ_INT(prep(cache, &h2, &got), 0);
    CHECK_EQ_INT(got.train.n, 100);
    data_prepared_release(&got);
    h2.train_size = 200;
    struct data_prepared r2;
    CHECK_EQ_INT(prep(NULL, &h2, &r2), 0);
    CHECK_EQ_INT(prep(cache, &h2, &got), 0);
    CHECK(same(&r2, &got));
    data_prepared_release(&got);
    data_prepared_release(&r2);
    CHECK_EQ_INT(entries(NULL), 2);
    h2.normalize = HP_GLOBAL;
    for (int ts = 100; ts <= 200; ts += 100) {
        h2.train_size = ts;
        CHECK_EQ_INT(prep(NULL, &h2, &r2), 0);
        CHECK_EQ_INT(prep(cache, &h2, &got), 0);
        CHECK(got.cached && same(&r2, &got));
        data_prepared_release(&got);
        data_prepared_release(&r2);
    }
    CHECK_EQ_INT(entries(NULL), 4);
    /* A train_size beyond the split is the spec's error, from a mapped entry too. */
    h2.normalize = HP_NONE;
    h2.train_size = NTR;
    CHECK_EQ_INT(prep(cache, &h2, &got), MLP_EINVALID_SPEC);

    /* A temporary file left by a build that died: verify removes it. */
    snprintf(p, sizeof p, "%s.tmp.Xy12ab", entry);
    fx_write_str(p, "half");
    CHECK_EQ_INT(verify(true, &v), 1);
    CHECK(access(p, F_OK) != 0);
    CHECK_EQ_INT(verify(false, &v), 0);

    /* Concurrent first prepares: four processes, one empty cache dir, one build. */
    snprintf(cache, sizeof cache, "%s/cache-c", dir);
    pid_t kids[4];
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            char log[DS_PATH_MAX + 16];
            snprintf(log, sizeof log, "%s/kid%d.log", dir, k);
            if (!freopen(log, "w", stderr))
                _exit(2);
            struct data_prepared c;
            int ok = prep(cache, &hp, &c) == 0 && c.cached && same(&c, &ref);
            data_prepared_release(&c);
            fflush(stderr); /* a file: buffered, and _exit does not flush */
            _exit(ok ? 0 : 1);
        }
    }
    int builds = 0;
    for (int k = 0; k < 4; k++) {
        int status = -1;
        waitpid(kids[k], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        char log[DS_PATH_MAX + 16], line[512];
        snprintf(log, sizeof log, "%s/kid%d.log", dir, k);
        FILE *f = fopen(log, "r");
        while (f && fgets(line, sizeof line, f))
            builds += strstr(line, "data cache: built") != NULL;
        if (f)
            fclose(f);
    }
    CHECK_EQ_INT(builds, 1);
    CHECK_EQ_INT(entries(NULL), 1);

    /* A cache dir that cannot be created: prepared in memory all the same. */
    fx_write_str(fx_join(p, dir, "plainfile"), "x");
    snprintf(cache, sizeof cache, "%.1500s/sub", p);
    CHECK_EQ_INT(prep(cache, &hp, &got), 0);
    CHECK(!got.cached && same(&ref, &got));
    data_prepared_release(&got);

    /* Synthetic sets write no entry. */
    snprintf(cache, sizeof cache, "%s/cache-s", dir);
    struct ds_spec keep = spec;
    spec = (struct ds_spec){.kind = DS_SYNTHETIC, .name = "moons", .n = 50, .noise = 0.1};
    CHECK_EQ_INT(prep(cache, &hp, &got), 0);
    CHECK(!got.cached);
    data_prepared_release(&got);
    CHECK_EQ_INT(entries(NULL), 0);
    spec = keep;

    data_prepared_release(&ref);
    fx_rmtree(dir);
    return check_report();
}
