/*
 * test_full — full-size datasets placed by hand in the data dir (issue 9):
 * MNIST as the four IDX files with the real headers and sizes (60,000 and
 * 10,000 images of 28x28, labels 0..9; a mix of plain and .gz names as the
 * loader accepts both) and CIFAR-10 as the six binary batches of 10,000
 * records of 3,073 bytes.  Pixel values are synthetic (fx_pixel).  MNIST is
 * loaded in full; the CIFAR-10 batches are sparse files (zero pixels, label
 * 0), checked and listed at full size without decoding 700 MB of floats;
 * the CIFAR decoder itself is covered by test_cifar on small batches.
 * `data list` (fetch_list) must call both complete.
 */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "fetch.h"
#include "fixture.h"

static char dir[1024];

static const cJSON *entry(const cJSON *l, const char *name)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, l)
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(d, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return d;
    }
    return NULL;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void write_mnist(const char *data)
{
    char d[DS_PATH_MAX], p[DS_PATH_MAX];
    size_t len;
    fx_join(d, data, "mnist");
    CHECK_EQ_INT(mkdir(d, 0700), 0);
    unsigned char *b = fx_idx_images(60000, 28, 28, &len);
    CHECK_EQ_INT((long)len, 16 + 60000L * 784); /* the real train-images-idx3-ubyte size */
    CHECK_EQ_INT(fx_write(fx_join(p, d, "train-images-idx3-ubyte"), b, len), 0);
    free(b);
    b = fx_idx_labels(60000, 10, &len);
    CHECK_EQ_INT(fx_write_gz(fx_join(p, d, "train-labels-idx1-ubyte.gz"), b, len), 0);
    free(b);
    b = fx_idx_images(10000, 28, 28, &len);
    CHECK_EQ_INT(fx_write_gz(fx_join(p, d, "t10k-images-idx3-ubyte.gz"), b, len), 0);
    free(b);
    b = fx_idx_labels(10000, 10, &len);
    CHECK_EQ_INT(fx_write(fx_join(p, d, "t10k-labels-idx1-ubyte"), b, len), 0);
    free(b);
}

static void test_mnist(const char *data)
{
    struct dataset_dirs dirs = {data, "/nonexistent", NULL};
    struct ds_spec s = {.kind = DS_NAMED, .name = "mnist"};
    struct dataset_info info = {0, 0, 0, 0};
    struct err e = ERR_INIT;
    write_mnist(data);
    CHECK_EQ_INT(dataset_check(&s, &dirs, &info, &e), 0);
    CHECK_EQ_INT(info.n_train, 60000);
    CHECK_EQ_INT(info.n_test, 10000);

    struct dataset *ds = data_load(&s, &dirs, 0, &e);
    CHECK(ds != NULL);
    if (!ds) {
        fprintf(stderr, "%s\n", e.msg);
        return;
    }
    struct data_view tr = data_train(ds), te = data_test(ds);
    CHECK_EQ_INT(tr.n, 60000);
    CHECK_EQ_INT(tr.d, 784);
    CHECK_EQ_INT(te.n, 10000);
    CHECK_EQ_INT(data_classes(ds), 10);
    long bad = 0;
    for (long i = 0; i < 60000; i += 997)
        for (long j = 0; j < 784; j += 13)
            bad += tr.x[i * 784 + j] != fx_pixel(i, j);
    for (long i = 0; i < 10000; i += 101)
        bad += te.x[i * 784 + 400] != fx_pixel(i, 400) || te.y[i] != fx_label(i, 10);
    CHECK_EQ_INT(bad, 0);
    CHECK(tr.y[59999] == fx_label(59999, 10));

    /* Normalisation "auto" on an image set is global; the split is 54,000 / 6,000. */
    struct hparams hp;
    struct data_prepared p;
    fx_hparams(&hp);
    CHECK_EQ_INT(data_prepare(ds, &hp, &p, &e), 0);
    CHECK_EQ_INT(p.normalize, HP_GLOBAL);
    CHECK_EQ_INT(p.train.n, 54000);
    CHECK_EQ_INT(p.val.n, 6000);
    data_prepared_release(&p);
    data_free(ds);
}

/* A sparse file of `records` CIFAR-10 records: all zero (label 0, black pixels). */
static void sparse(const char *path, long records)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK_EQ_INT(ftruncate(fd, (off_t)records * 3073), 0);
    close(fd);
}

static void test_cifar(const char *data)
{
    char d[DS_PATH_MAX], p[DS_PATH_MAX];
    struct dataset_dirs dirs = {data, "/nonexistent", NULL};
    struct ds_spec s = {.kind = DS_NAMED, .name = "cifar10"};
    struct dataset_info info = {0, 0, 0, 0};
    struct err e = ERR_INIT;
    fx_join(d, data, "cifar10");
    CHECK_EQ_INT(mkdir(d, 0700), 0);
    for (int i = 0; i <= DS_CIFAR_BATCHES; i++)
        sparse(fx_join(p, d, ds_cifar_files[i]), 10000);
    CHECK_EQ_INT(dataset_check(&s, &dirs, &info, &e), 0);
    CHECK_EQ_INT(info.n_train, 50000);
    CHECK_EQ_INT(info.n_test, 10000);
    /* One byte short of a record is refused by name. */
    sparse(fx_join(p, d, "data_batch_4.bin"), 10000);
    CHECK_EQ_INT(truncate(p, 10000L * 3073 - 1), 0);
    CHECK_EQ_INT(dataset_check(&s, &dirs, &info, &e), MLP_EINVALID_DATASET);
    CHECK(strstr(e.msg, "data_batch_4.bin: 30729999 bytes is not a whole number") != NULL);
    sparse(p, 10000);
}

int main(void)
{
    char data[DS_PATH_MAX], sys[DS_PATH_MAX];
    fx_tmpdir(dir, sizeof dir);
    fx_join(data, dir, "data");
    fx_join(sys, dir, "sys");
    CHECK_EQ_INT(mkdir(data, 0700), 0);
    CHECK_EQ_INT(mkdir(sys, 0700), 0);
    test_mnist(data);
    test_cifar(data);

    cJSON *l = fetch_list(data, sys);
    const cJSON *m = entry(l, "mnist"), *c = entry(l, "cifar10"), *f = entry(l, "fashion-mnist");
    CHECK(m && c && f);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "available")));
    CHECK(num(m, "train_rows") == 60000 && num(m, "test_rows") == 10000);
    CHECK(strstr(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "note")),
                 "installed: complete") != NULL);
    CHECK(num(c, "train_rows") == 50000 && num(c, "test_rows") == 10000);
    CHECK(strstr(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "note")),
                 "installed: complete") != NULL);
    CHECK(!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "available")));
    CHECK(strstr(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "note")),
                 "missing: run `sudo apt-get install dataset-fashion-mnist`") != NULL);
    cJSON_Delete(l);

    /* A subset in the mnist dir is reported as such, with how to get the rest. */
    char p[DS_PATH_MAX], d[DS_PATH_MAX];
    size_t len;
    fx_join(d, data, "mnist");
    unsigned char *b = fx_idx_images(80, 28, 28, &len);
    CHECK_EQ_INT(fx_write(fx_join(p, d, "train-images-idx3-ubyte"), b, len), 0);
    free(b);
    l = fetch_list(data, sys);
    m = entry(l, "mnist");
    CHECK(num(m, "train_rows") == 80);
    CHECK(strstr(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "note")),
                 "a subset (80 training, 10000 test rows") != NULL);
    CHECK(strstr(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "note")),
                 "cannot be downloaded here") != NULL);
    cJSON_Delete(l);

    fx_rmtree(dir);
    return check_report();
}
