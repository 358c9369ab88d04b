/*
 * test_idx — IDX files, plain and gzip, through data_load and dataset_check:
 * decoded values and dims, named-dataset lookup in the data dirs, and every
 * malformed file giving a clear error (bad magic, truncation, count
 * mismatch, trailing bytes, truncated gzip).
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "fixture.h"

#define NTR 50
#define NTE 20
#define ROWS 4
#define COLS 3
#define K 3

static char dir[1024];

/* Write the four files as <sub>/<name>[.gz]; gzmask bit i compresses file i. */
static void write_set(const char *sub, int gzmask, long ntr_labels)
{
    static const char *names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                   "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    char d[DS_PATH_MAX], p[DS_PATH_MAX + 80];
    fx_join(d, dir, sub);
    mkdir(d, 0700);
    for (int i = 0; i < 4; i++) {
        size_t len;
        long n = i < 2 ? NTR : NTE;
        unsigned char *b = i % 2 == 0 ? fx_idx_images(n, ROWS, COLS, &len)
                                      : fx_idx_labels(i == 1 ? ntr_labels : n, K, &len);
        snprintf(p, sizeof p, "%s/%s%s", d, names[i], gzmask & (1 << i) ? ".gz" : "");
        CHECK_EQ_INT(gzmask & (1 << i) ? fx_write_gz(p, b, len) : fx_write(p, b, len), 0);
        free(b);
    }
}

static void spec_for(struct ds_spec *s, const char *sub, const char *suffix[4])
{
    static const char *names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                   "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    char *dst[4] = {s->train_images, s->train_labels, s->test_images, s->test_labels};
    memset(s, 0, sizeof *s);
    s->kind = DS_IDX;
    strcpy(s->name, "idx");
    for (int i = 0; i < 4; i++)
        snprintf(dst[i], DS_PATH_MAX, "%s/%s/%s%s", dir, sub, names[i], suffix[i]);
}

static void check_values(const struct dataset *ds)
{
    struct data_view tr = data_train(ds), te = data_test(ds);
    CHECK_EQ_INT(tr.n, NTR);
    CHECK_EQ_INT(tr.d, ROWS * COLS);
    CHECK_EQ_INT(te.n, NTE);
    CHECK_EQ_INT(te.d, ROWS * COLS);
    CHECK_EQ_INT(data_classes(ds), K);
    int bad = 0;
    for (long i = 0; i < NTR; i++) {
        for (long j = 0; j < ROWS * COLS; j++)
            bad += tr.x[i * tr.d + j] != (float)fx_pixel(i, j);
        bad += tr.y[i] != (float)fx_label(i, K);
    }
    for (long i = 0; i < NTE; i++) {
        for (long j = 0; j < ROWS * COLS; j++)
            bad += te.x[i * te.d + j] != (float)fx_pixel(i, j);
        bad += te.y[i] != (float)fx_label(i, K);
    }
    CHECK_EQ_INT(bad, 0);
}

/* Load must fail with a message containing needle; dataset_check too when check_too. */
static void expect_fail(const struct ds_spec *s, const struct dataset_dirs *dirs,
                        const char *needle, bool check_too)
{
    struct err e = ERR_INIT;
    struct dataset *ds = data_load(s, dirs, 0, &e);
    CHECK(ds == NULL);
    data_free(ds);
    CHECK_EQ_INT(e.code, MLP_EINVALID_DATASET);
    if (getenv("MLP_TEST_VERBOSE"))
        fprintf(stderr, "error (as expected): %s: %s\n", e.path, e.msg);
    if (!strstr(e.msg, needle))
        fprintf(stderr, "load: message \"%s\" lacks \"%s\"\n", e.msg, needle);
    CHECK(strstr(e.msg, needle) != NULL);
    err_clear(&e);
    int rc = dataset_check(s, dirs, NULL, &e);
    if (check_too) {
        CHECK_EQ_INT(rc, MLP_EINVALID_DATASET);
        if (!strstr(e.msg, needle))
            fprintf(stderr, "check: message \"%s\" lacks \"%s\"\n", e.msg, needle);
        CHECK(strstr(e.msg, needle) != NULL);
    }
}

int main(void)
{
    const char *plain[4] = {"", "", "", ""}, *gz[4] = {".gz", ".gz", ".gz", ".gz"};
    const char *mixed[4] = {".gz", "", "", ".gz"};
    struct dataset_dirs nocache = {NULL, NULL, NULL};
    struct ds_spec s;
    struct err e = ERR_INIT;
    char p[DS_PATH_MAX], q[DS_PATH_MAX];
    fx_tmpdir(dir, sizeof dir);

    /* Plain, gzip and mixed files decode to the same values. */
    write_set("plain", 0, NTR);
    write_set("gz", 0xF, NTR);
    write_set("mixed", 0x9, NTR);
    const char *subs[3] = {"plain", "gz", "mixed"};
    const char **suf[3] = {plain, gz, mixed};
    for (int v = 0; v < 3; v++) {
        spec_for(&s, subs[v], suf[v]);
        err_clear(&e);
        CHECK_EQ_INT(dataset_check(&s, &nocache, NULL, &e), 0);
        struct dataset *ds = data_load(&s, &nocache, 0, &e);
        CHECK(ds != NULL);
        if (!ds) {
            fprintf(stderr, "%s: %s\n", subs[v], e.msg);
            continue;
        }
        check_values(ds);
        data_free(ds);
    }

    /* gzip is detected by content: a gzip file without .gz in its name. */
    spec_for(&s, "gz", gz);
    rename(s.train_images, fx_join(p, dir, "gz/renamed-images"));
    snprintf(s.train_images, DS_PATH_MAX, "%s", p);
    struct dataset *ds = data_load(&s, &nocache, 0, &e);
    CHECK(ds != NULL);
    if (ds)
        check_values(ds);
    data_free(ds);

    /* Named lookup: <data_dir>/mnist first, then <system_dir>/mnist. */
    struct dataset_dirs named = {fx_join(p, dir, "data"), fx_join(q, dir, "sys"), NULL};
    mkdir(p, 0700);
    mkdir(q, 0700);
    memset(&s, 0, sizeof s);
    s.kind = DS_NAMED;
    strcpy(s.name, "mnist");
    expect_fail(&s, &named, "mlpctl data fetch mnist", true);
    write_set("sys/mnist", 0xF, NTR);
    CHECK_EQ_INT(dataset_check(&s, &named, NULL, &e), 0);
    ds = data_load(&s, &named, 0, &e);
    CHECK(ds != NULL);
    if (ds)
        check_values(ds);
    data_free(ds);
    write_set("data/mnist", 0, NTR - 1); /* the data dir wins: its labels are broken */
    expect_fail(&s, &named, "has 49 labels but", true);

    /* Bad magic: a label file where images are expected. */
    spec_for(&s, "plain", plain);
    snprintf(s.train_images, DS_PATH_MAX, "%s", s.train_labels);
    expect_fail(&s, &nocache, "magic 0x00000801, expected 0x00000803", true);

    /* Image/label count mismatch. */
    write_set("count", 0, NTR + 1);
    spec_for(&s, "count", plain);
    expect_fail(&s, &nocache, "has 51 labels but train-images-idx3-ubyte has 50 images", true);

    /* Truncated and over-long plain files: the length must match the header. */
    size_t len;
    unsigned char *img = fx_idx_images(NTR, ROWS, COLS, &len);
    write_set("trunc", 0, NTR);
    spec_for(&s, "trunc", plain);
    CHECK_EQ_INT(fx_write(s.train_images, img, len - 5), 0);
    expect_fail(&s, &nocache, "truncated", true);
    unsigned char *longer = calloc(len + 3, 1);
    memcpy(longer, img, len);
    CHECK_EQ_INT(fx_write(s.train_images, longer, len + 3), 0);
    expect_fail(&s, &nocache, "but its header describes", true);
    CHECK_EQ_INT(fx_write(s.train_images, img, 10), 0); /* header cut short */
    expect_fail(&s, &nocache, "truncated", true);
    CHECK_EQ_INT(fx_write(s.train_images, "", 0), 0); /* empty file */
    expect_fail(&s, &nocache, "truncated", true);

    /* Truncated gzip: dataset_check reads only the header, data_load notices. */
    write_set("gztrunc", 0xF, NTR);
    spec_for(&s, "gztrunc", gz);
    FILE *fp = fopen(s.train_images, "rb");
    unsigned char buf[4096];
    size_t glen = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    CHECK(glen > 40);
    CHECK_EQ_INT(fx_write(s.train_images, buf, glen - 12), 0); /* drop the trailer and some data */
    err_clear(&e);
    CHECK_EQ_INT(dataset_check(&s, &nocache, NULL, &e), 0);
    expect_fail(&s, &nocache, "train-images-idx3-ubyte.gz", false);
    /* gzip of data longer than the header says. */
    CHECK_EQ_INT(fx_write_gz(s.train_images, longer, len + 3), 0);
    expect_fail(&s, &nocache, "trailing data", false);

    /* Test images with another image size than the training images. */
    write_set("dims", 0, NTR);
    spec_for(&s, "dims", plain);
    free(img);
    img = fx_idx_images(NTE, ROWS + 1, COLS, &len);
    CHECK_EQ_INT(fx_write(s.test_images, img, len), 0);
    expect_fail(&s, &nocache, "values per image", true);

    /* A missing file is named. */
    spec_for(&s, "nowhere", plain);
    expect_fail(&s, &nocache, "nowhere/train-images-idx3-ubyte: no such file", true);

    free(img);
    free(longer);
    fx_rmtree(dir);
    return check_report();
}
