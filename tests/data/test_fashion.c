/*
 * test_fashion — the real Fashion-MNIST from Debian's dataset-fashion-mnist
 * (the .gz files in /usr/share/datasets/fashion-mnist/): dims, labels, class balance, the
 * cache round trip and the default split.  Skipped (77) when not installed.
 */
#include <stdlib.h>
#include <unistd.h>

#include "../check.h"
#include "fixture.h"

#define SYS "/usr/share/datasets"

int main(void)
{
    char dir[1024], cache[DS_PATH_MAX], data[DS_PATH_MAX];
    struct err e = ERR_INIT;
    if (access(SYS "/fashion-mnist/train-images-idx3-ubyte.gz", R_OK) != 0) {
        fprintf(stderr, "skip: Fashion-MNIST not installed in " SYS "/fashion-mnist\n");
        return 77;
    }
    fx_tmpdir(dir, sizeof dir);
    struct dataset_dirs dirs = {fx_join(data, dir, "data"), SYS, fx_join(cache, dir, "cache")};
    struct ds_spec s = {.kind = DS_NAMED, .name = "fashion-mnist"};
    CHECK_EQ_INT(dataset_check(&s, &dirs, NULL, &e), 0);
    struct dataset *ds = data_load(&s, &dirs, 0, &e);
    CHECK(ds != NULL);
    if (!ds) {
        fprintf(stderr, "%s\n", e.msg);
        fx_rmtree(dir);
        return check_report();
    }
    struct data_view tr = data_train(ds), te = data_test(ds);
    CHECK_EQ_INT(tr.n, 60000);
    CHECK_EQ_INT(tr.d, 784);
    CHECK_EQ_INT(te.n, 10000);
    CHECK_EQ_INT(te.d, 784);
    CHECK_EQ_INT(data_classes(ds), 10);
    long count[10] = {0}, tcount[10] = {0}, bad = 0;
    for (long i = 0; i < tr.n; i++) {
        int y = (int)tr.y[i];
        bad += y < 0 || y > 9 || tr.y[i] != (float)y;
        if (y >= 0 && y <= 9)
            count[y]++;
    }
    for (long i = 0; i < te.n; i++) {
        int y = (int)te.y[i];
        bad += y < 0 || y > 9;
        if (y >= 0 && y <= 9)
            tcount[y]++;
    }
    CHECK_EQ_INT(bad, 0);
    for (int k = 0; k < 10; k++) {
        CHECK_EQ_INT(count[k], 6000);
        CHECK_EQ_INT(tcount[k], 1000);
    }
    float lo = 255, hi = 0;
    for (long i = 0; i < tr.n * tr.d; i++) {
        lo = tr.x[i] < lo ? tr.x[i] : lo;
        hi = tr.x[i] > hi ? tr.x[i] : hi;
    }
    CHECK_NEAR(lo, 0, 0);
    CHECK_NEAR(hi, 255, 0);

    /* The second load maps the cache and sees the same numbers. */
    struct dataset *again = data_load(&s, &dirs, 0, &e);
    CHECK(again != NULL);
    if (again) {
        CHECK(memcmp(data_train(again).x, tr.x, (size_t)tr.n * tr.d * 4) == 0);
        CHECK(memcmp(data_test(again).y, te.y, (size_t)te.n * 4) == 0);
    }
    data_free(again);

    struct hparams hp;
    struct data_prepared p;
    fx_hparams(&hp);
    CHECK_EQ_INT(data_prepare(ds, &hp, &p, &e), 0);
    CHECK_EQ_INT(p.train.n, 54000);
    CHECK_EQ_INT(p.val.n, 6000);
    CHECK_EQ_INT(p.test.n, 10000);
    data_prepared_release(&p);
    data_free(ds);
    fx_rmtree(dir);
    return check_report();
}
