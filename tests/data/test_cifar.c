/*
 * test_cifar — CIFAR-10 binary batches: every present data_batch_<k>.bin is
 * used in order, values and labels decode, and malformed batches (partial
 * record, label out of range, no test batch) give clear errors.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "../check.h"
#include "fixture.h"

#define REC 3073

static char dir[1024];

/* A batch of n records; record r of batch b: label (b+r)%10, pixel i = (r*3+i+b) & 255. */
static void batch(const char *name, int b, int n, size_t cut, int bad_label)
{
    char p[DS_PATH_MAX + 32];
    unsigned char *buf = malloc((size_t)n * REC);
    for (int r = 0; r < n; r++) {
        buf[(size_t)r * REC] = (unsigned char)(bad_label >= 0 && r == 1 ? bad_label : (b + r) % 10);
        for (int i = 0; i < 3072; i++)
            buf[(size_t)r * REC + 1 + i] = (unsigned char)((r * 3 + i + b) & 255);
    }
    snprintf(p, sizeof p, "%s/data/cifar10/%s", dir, name);
    CHECK_EQ_INT(fx_write(p, buf, (size_t)n * REC - cut), 0);
    free(buf);
}

static void expect_fail(const struct ds_spec *s, const struct dataset_dirs *d, const char *needle,
                        bool check_too)
{
    struct err e = ERR_INIT;
    struct dataset *ds = data_load(s, d, 0, &e);
    CHECK(ds == NULL);
    data_free(ds);
    CHECK_EQ_INT(e.code, MLP_EINVALID_DATASET);
    if (getenv("MLP_TEST_VERBOSE"))
        fprintf(stderr, "error (as expected): %s: %s\n", e.path, e.msg);
    if (!strstr(e.msg, needle))
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", e.msg, needle);
    CHECK(strstr(e.msg, needle) != NULL);
    err_clear(&e);
    CHECK_EQ_INT(dataset_check(s, d, NULL, &e), check_too ? MLP_EINVALID_DATASET : 0);
}

int main(void)
{
    char p[DS_PATH_MAX], q[DS_PATH_MAX + 16];
    struct ds_spec s;
    struct err e = ERR_INIT;
    fx_tmpdir(dir, sizeof dir);
    struct dataset_dirs dirs = {fx_join(p, dir, "data"), "/nonexistent", NULL};
    mkdir(p, 0700);
    snprintf(q, sizeof q, "%s/cifar10", p);
    mkdir(q, 0700);
    memset(&s, 0, sizeof s);
    s.kind = DS_NAMED;
    strcpy(s.name, "cifar10");

    expect_fail(&s, &dirs, "place the files there", true);
    /* Batches 1 and 3 present (2 missing): both used, in order. */
    batch("data_batch_1.bin", 1, 4, 0, -1);
    batch("data_batch_3.bin", 3, 2, 0, -1);
    batch("test_batch.bin", 0, 3, 0, -1);
    CHECK_EQ_INT(dataset_check(&s, &dirs, NULL, &e), 0);
    struct dataset *ds = data_load(&s, &dirs, 0, &e);
    CHECK(ds != NULL);
    if (ds) {
        struct data_view tr = data_train(ds), te = data_test(ds);
        CHECK_EQ_INT(tr.n, 6);
        CHECK_EQ_INT(tr.d, 3072);
        CHECK_EQ_INT(te.n, 3);
        CHECK_EQ_INT(data_classes(ds), 10);
        int bad = 0;
        for (int r = 0; r < 6; r++) {
            int b = r < 4 ? 1 : 3, rr = r < 4 ? r : r - 4;
            bad += tr.y[r] != (float)((b + rr) % 10);
            for (int i = 0; i < 3072; i++)
                bad += tr.x[(size_t)r * 3072 + i] != (float)((rr * 3 + i + b) & 255);
        }
        for (int r = 0; r < 3; r++) {
            bad += te.y[r] != (float)(r % 10);
            for (int i = 0; i < 3072; i++)
                bad += te.x[(size_t)r * 3072 + i] != (float)((r * 3 + i) & 255);
        }
        CHECK_EQ_INT(bad, 0);
    }
    data_free(ds);

    /* A partial record. */
    batch("data_batch_3.bin", 3, 2, 100, -1);
    expect_fail(&s, &dirs, "data_batch_3.bin: 6046 bytes is not a whole number of 3073-byte", true);
    batch("data_batch_3.bin", 3, 2, 0, -1);
    /* A label outside 0..9. */
    batch("test_batch.bin", 0, 3, 0, 12);
    expect_fail(&s, &dirs, "test_batch.bin: record 1 has label 12, expected 0..9", false);
    /* Empty test batch. */
    CHECK_EQ_INT(fx_write(fx_join(q, dirs.data_dir, "cifar10/test_batch.bin"), "", 0), 0);
    expect_fail(&s, &dirs, "test_batch.bin: 0 bytes", true);

    fx_rmtree(dir);
    return check_report();
}
