/*
 * fuzz_data — the dataset loaders (worker/data.h) on arbitrary file contents.
 *
 * The input is written to files in a private temporary directory and loaded
 * (no cache) as: IDX (the input split in two by its first two bytes: images
 * and labels; plain or gzip, gzopen decides), CSV (classification with the
 * label last, or regression with a header, as the first byte says), and
 * CIFAR-10 (every data_batch_<k>.bin and test_batch.bin is the input).  When a
 * load succeeds, data_prepare() splits and normalises it with default
 * hyperparameters.  dataset_check() runs first, as the daemon does at submit.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "data.h"
#include "dataset.h"
#include "hparams.h"

static char dir[64];

static void cleanup(void)
{
    static const char *const names[] = {"a.bin",
                                        "b.bin",
                                        "in.csv",
                                        "cifar10/data_batch_1.bin",
                                        "cifar10/data_batch_2.bin",
                                        "cifar10/data_batch_3.bin",
                                        "cifar10/data_batch_4.bin",
                                        "cifar10/data_batch_5.bin",
                                        "cifar10/test_batch.bin",
                                        "cifar10",
                                        NULL};
    char p[160];
    for (int i = 0; names[i]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        if (unlink(p) != 0)
            rmdir(p);
    }
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof dir, "/tmp/mlpfuzz-data-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    atexit(cleanup);
    char p[160];
    snprintf(p, sizeof p, "%s/cifar10", dir);
    if (mkdir(p, 0700) != 0)
        abort();
    return 0;
}

static void put(const char *name, const uint8_t *d, size_t n)
{
    char p[160];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f)
        abort();
    if (n && fwrite(d, 1, n, f) != n)
        abort();
    fclose(f);
}

static void try_load(const struct ds_spec *spec, const struct dataset_dirs *dirs)
{
    struct err e = ERR_INIT;
    (void)dataset_check(spec, dirs, NULL, &e);
    e = (struct err)ERR_INIT;
    struct dataset *ds = data_load(spec, dirs, 0, &e);
    if (!ds) {
        if (!e.msg[0])
            abort(); /* a failed load always says why */
        return;
    }
    struct hparams hp;
    hparams_default(&hp);
    struct data_prepared p;
    e = (struct err)ERR_INIT;
    if (data_prepare(ds, &hp, &p, &e) == 0)
        data_prepared_release(&p);
    data_free(ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0])
        LLVMFuzzerInitialize(NULL, NULL);
    struct dataset_dirs dirs = {.data_dir = dir, .system_dir = "/nonexistent", .cache_dir = NULL};
    static struct ds_spec spec; /* large (paths): not on the stack */

    /* IDX: images = data[2..2+cut), labels = the rest. */
    size_t cut = size >= 2 ? ((size_t)data[0] << 8 | data[1]) : 0;
    const uint8_t *body = size >= 2 ? data + 2 : data;
    size_t blen = size >= 2 ? size - 2 : size;
    if (cut > blen)
        cut = blen;
    put("a.bin", body, cut);
    put("b.bin", body + cut, blen - cut);
    memset(&spec, 0, sizeof spec);
    spec.kind = DS_IDX;
    snprintf(spec.name, sizeof spec.name, "idx");
    snprintf(spec.train_images, sizeof spec.train_images, "%s/a.bin", dir);
    snprintf(spec.train_labels, sizeof spec.train_labels, "%s/b.bin", dir);
    snprintf(spec.test_images, sizeof spec.test_images, "%s/a.bin", dir);
    snprintf(spec.test_labels, sizeof spec.test_labels, "%s/b.bin", dir);
    try_load(&spec, &dirs);

    /* CSV. */
    put("in.csv", data, size);
    memset(&spec, 0, sizeof spec);
    spec.kind = DS_CSV;
    snprintf(spec.name, sizeof spec.name, "csv");
    snprintf(spec.train, sizeof spec.train, "%s/in.csv", dir);
    snprintf(spec.test, sizeof spec.test, "%s/in.csv", dir);
    bool regression = size > 0 && (data[0] & 1);
    spec.label_col = regression ? 0 : -1;
    spec.header = regression;
    spec.task = regression ? DS_REGRESSION : DS_CLASSIFICATION;
    try_load(&spec, &dirs);

    /* CIFAR-10 (binary version): every batch file is the input. */
    for (int k = 1; k <= 5; k++) {
        char n[64];
        snprintf(n, sizeof n, "cifar10/data_batch_%d.bin", k);
        put(n, data, size);
    }
    put("cifar10/test_batch.bin", data, size);
    memset(&spec, 0, sizeof spec);
    spec.kind = DS_NAMED;
    snprintf(spec.name, sizeof spec.name, "cifar10");
    try_load(&spec, &dirs);
    return 0;
}
