/*
 * test_prepare — data_prepare: the split depends on split_seed alone, sizes
 * follow val_fraction and train_size, every training row lands in exactly
 * one of train/val, and normalisation uses training-split statistics only
 * (checked against statistics computed here from the raw rows): minmax,
 * standardize with its variance floor, global, and "auto" resolution.
 */
#include <math.h>
#include <stdlib.h>

#include "../check.h"
#include "fixture.h"

#define N 100
#define NT 7

static char dir[1024];

/* Row i: (i, (i*37)%11 - 3.5, 5) label i%2; the row id is column 0. */
static struct dataset *make(void)
{
    char p[DS_PATH_MAX], line[128];
    struct ds_spec s;
    struct err e = ERR_INIT;
    FILE *fp = fopen(fx_join(p, dir, "train.csv"), "w");
    for (int i = 0; i < N; i++)
        fprintf(fp, "%d,%g,5,%d\n", i, (i * 37) % 11 - 3.5, i % 2);
    fclose(fp);
    fp = fopen(fx_join(p, dir, "test.csv"), "w");
    for (int i = 0; i < NT; i++) {
        snprintf(line, sizeof line, "%d,%d,%d,%d\n", 1000 + i, -i, 7 - i, i % 2);
        fputs(line, fp);
    }
    fclose(fp);
    memset(&s, 0, sizeof s);
    s.kind = DS_CSV;
    strcpy(s.name, "csv");
    fx_join(s.train, dir, "train.csv");
    fx_join(s.test, dir, "test.csv");
    s.label_col = -1;
    struct dataset *ds = data_load(&s, NULL, 0, &e);
    if (!ds) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    return ds;
}

static int prep(const struct dataset *ds, struct hparams *hp, struct data_prepared *out)
{
    struct err e = ERR_INIT;
    int rc = data_prepare(ds, hp, out, &e);
    if (rc && getenv("MLP_TEST_VERBOSE"))
        fprintf(stderr, "prepare: %s: %s\n", e.path, e.msg);
    return rc;
}

/* Per-feature mean/sd/min/max over a view. */
static void stats(const struct data_view *v, double *mean, double *sd, double *lo, double *hi)
{
    for (int j = 0; j < v->d; j++) {
        double s = 0, s2 = 0;
        lo[j] = INFINITY;
        hi[j] = -INFINITY;
        for (int64_t i = 0; i < v->n; i++) {
            double x = v->x[i * v->d + j];
            s += x;
            lo[j] = fmin(lo[j], x);
            hi[j] = fmax(hi[j], x);
        }
        mean[j] = s / v->n;
        for (int64_t i = 0; i < v->n; i++) {
            double c = v->x[i * v->d + j] - mean[j];
            s2 += c * c;
        }
        sd[j] = sqrt(s2 / v->n);
    }
}

int main(void)
{
    struct hparams hp;
    struct data_prepared a, b, c;
    struct err e = ERR_INIT;
    fx_tmpdir(dir, sizeof dir);
    struct dataset *ds = make();
    struct data_view raw = data_train(ds), rawt = data_test(ds);

    /* Sizes, and every row in exactly one split (normalize none: row ids survive). */
    fx_hparams(&hp);
    hp.normalize = HP_NONE;
    CHECK_EQ_INT(prep(ds, &hp, &a), 0);
    CHECK_EQ_INT(a.val.n, 10);
    CHECK_EQ_INT(a.train.n, 90);
    CHECK_EQ_INT(a.test.n, NT);
    CHECK_EQ_INT(a.train.d, 3);
    CHECK_EQ_INT(a.n_classes, 2);
    int seen[N] = {0}, bad = 0;
    for (int i = 0; i < a.train.n; i++) {
        int id = (int)a.train.x[i * 3];
        seen[id]++;
        bad += a.train.y[i] != (float)(id % 2) || a.train.x[i * 3 + 1] != raw.x[id * 3 + 1];
    }
    for (int i = 0; i < a.val.n; i++) {
        int id = (int)a.val.x[i * 3];
        seen[id]++;
        bad += a.val.y[i] != (float)(id % 2);
    }
    for (int i = 0; i < N; i++)
        bad += seen[i] != 1;
    CHECK_EQ_INT(bad, 0);
    CHECK(memcmp(a.test.x, rawt.x, NT * 3 * sizeof(float)) == 0);
    CHECK(memcmp(a.test.y, rawt.y, NT * sizeof(float)) == 0);
    /* Shuffled: not the file order. */
    int in_order = 0;
    for (int i = 0; i < a.val.n; i++)
        in_order += a.val.x[i * 3] == (float)i;
    CHECK(in_order < 10);

    /* The same split_seed gives the same split whatever else changes. */
    hp.lr = 0.5;
    hp.epochs = 99;
    hp.dropout = 0.3;
    hp.train_size = 30;
    CHECK_EQ_INT(prep(ds, &hp, &b), 0);
    CHECK_EQ_INT(b.val.n, 10);
    CHECK(memcmp(a.val.x, b.val.x, 10 * 3 * sizeof(float)) == 0);
    /* train_size keeps the first rows of the training part. */
    CHECK_EQ_INT(b.train.n, 30);
    CHECK(memcmp(a.train.x, b.train.x, 30 * 3 * sizeof(float)) == 0);
    data_prepared_release(&b);
    CHECK(b.buf_ == NULL);
    /* Another split_seed: another validation set. */
    hp.split_seed = 12345;
    hp.train_size = 0;
    CHECK_EQ_INT(prep(ds, &hp, &c), 0);
    CHECK(memcmp(a.val.x, c.val.x, 10 * 3 * sizeof(float)) != 0);
    data_prepared_release(&c);
    /* A negative split_seed is a seed like any other. */
    hp.split_seed = -1;
    CHECK_EQ_INT(prep(ds, &hp, &c), 0);
    data_prepared_release(&c);

    /* val_fraction rounding and train_size bounds. */
    hp.split_seed = 0;
    hp.val_fraction = 0.255;
    CHECK_EQ_INT(prep(ds, &hp, &c), 0);
    CHECK_EQ_INT(c.val.n, 26); /* round(25.5) */
    CHECK_EQ_INT(c.train.n, 74);
    data_prepared_release(&c);
    hp.val_fraction = 0.1;
    hp.train_size = 90;
    CHECK_EQ_INT(prep(ds, &hp, &c), 0);
    CHECK_EQ_INT(c.train.n, 90);
    data_prepared_release(&c);
    hp.train_size = 91;
    err_clear(&e);
    CHECK_EQ_INT(data_prepare(ds, &hp, &c, &e), MLP_EINVALID_SPEC);
    CHECK_EQ_STR(e.path, "params.train_size");
    CHECK(strstr(e.msg, "larger than the training split (90 rows") != NULL);
    CHECK(c.buf_ == NULL);

    /* standardize: statistics of the (cut) training part only. */
    double mean[3], sd[3], lo[3], hi[3];
    hp.train_size = 40;
    hp.normalize = HP_NONE;
    CHECK_EQ_INT(prep(ds, &hp, &b), 0);
    stats(&b.train, mean, sd, lo, hi);
    CHECK_NEAR(sd[2], 0, 0); /* the constant column */
    hp.normalize = HP_STANDARDIZE;
    CHECK_EQ_INT(prep(ds, &hp, &c), 0);
    bad = 0;
    for (int j = 0; j < 3; j++) {
        double div = sd[j] > 0 ? sd[j] : INFINITY; /* constant: scale 0 */
        for (int i = 0; i < c.train.n; i++)
            bad += fabs(c.train.x[i * 3 + j] - (b.train.x[i * 3 + j] - mean[j]) / div) > 1e-4;
        for (int i = 0; i < c.val.n; i++)
            bad += fabs(c.val.x[i * 3 + j] - (b.val.x[i * 3 + j] - mean[j]) / div) > 1e-4;
        for (int i = 0; i < NT; i++)
            bad += fabs(c.test.x[i * 3 + j] - (rawt.x[i * 3 + j] - mean[j]) / div) > 1e-4;
    }
    CHECK_EQ_INT(bad, 0);
    double m2[3], s2[3], l2[3], h2[3];
    stats(&c.train, m2, s2, l2, h2);
    CHECK_NEAR(m2[0], 0, 1e-5);
    CHECK_NEAR(s2[0], 1, 1e-5);
    CHECK_NEAR(s2[2], 0, 0); /* constant feature: not divided by 0 */
    /* A feature constant on the training split maps to 0 everywhere, also where
     * the test set differs (it used to pass 7 - mean through unscaled). */
    CHECK_NEAR(c.test.x[2], 0, 0);
    /* Validation statistics differ from training ones: val is not standardised by itself. */
    stats(&c.val, m2, s2, l2, h2);
    CHECK(fabs(m2[0]) > 1e-3 || fabs(s2[0] - 1) > 1e-3);
    CHECK_NEAR(c.test.y[1], rawt.y[1], 0);
    data_prepared_release(&c);

    /* minmax: training part to [0,1]; val/test with the training min/max; constant → 0. */
    hp.normalize = HP_MINMAX;
    CHECK_EQ_INT(prep(ds, &hp, &c), 0);
    bad = 0;
    for (int j = 0; j < 2; j++) {
        double r = hi[j] - lo[j];
        for (int i = 0; i < c.val.n; i++)
            bad += fabs(c.val.x[i * 3 + j] - (b.val.x[i * 3 + j] - lo[j]) / r) > 1e-5;
        for (int i = 0; i < NT; i++)
            bad += fabs(c.test.x[i * 3 + j] - (rawt.x[i * 3 + j] - lo[j]) / r) > 1e-4;
    }
    for (int i = 0; i < c.train.n; i++)
        bad += c.train.x[i * 3 + 2] != 0;
    CHECK_EQ_INT(bad, 0);
    stats(&c.train, m2, s2, l2, h2);
    CHECK_NEAR(l2[0], 0, 1e-6);
    CHECK_NEAR(h2[0], 1, 1e-6);
    CHECK_NEAR(c.test.x[0], (1000 - lo[0]) / (hi[0] - lo[0]), 1e-4); /* outside [0,1] is fine */
    data_prepared_release(&c);

    /* global: one mean and one sd over every feature of the training rows. */
    hp.normalize = HP_GLOBAL;
    CHECK_EQ_INT(prep(ds, &hp, &c), 0);
    CHECK_EQ_INT(c.normalize, HP_GLOBAL);
    {
        double gs = 0, gss = 0, cnt = (double)b.train.n * 3;
        for (int i = 0; i < b.train.n * 3; i++)
            gs += b.train.x[i];
        double gm = gs / cnt;
        for (int i = 0; i < b.train.n * 3; i++)
            gss += (b.train.x[i] - gm) * (b.train.x[i] - gm);
        double gsd = sqrt(gss / cnt);
        bad = 0;
        for (int i = 0; i < b.train.n * 3; i++)
            bad += fabs(c.train.x[i] - (b.train.x[i] - gm) / gsd) > 1e-5;
        for (int i = 0; i < NT * 3; i++)
            bad += fabs(c.test.x[i] - (rawt.x[i] - gm) / gsd) > 1e-4;
        CHECK_EQ_INT(bad, 0);
    }
    data_prepared_release(&c);
    /* auto: a CSV dataset is tabular, so standardize. */
    hp.normalize = HP_NORM_AUTO;
    CHECK_EQ_INT(prep(ds, &hp, &c), 0);
    CHECK_EQ_INT(c.normalize, HP_STANDARDIZE);
    data_prepared_release(&c);
    data_prepared_release(&b);
    data_prepared_release(&a);

    data_free(ds);

    /* Regression: inputs are standardised, targets are left as they are. */
    {
        char p[DS_PATH_MAX];
        FILE *fp = fopen(fx_join(p, dir, "reg.csv"), "w");
        for (int i = 0; i < 20; i++)
            fprintf(fp, "%d,%g\n", i, 100.0 + i * 0.5);
        fclose(fp);
        struct ds_spec s = {.kind = DS_CSV, .name = "csv", .label_col = -1, .task = DS_REGRESSION};
        fx_join(s.train, dir, "reg.csv");
        fx_join(s.test, dir, "reg.csv");
        struct dataset *r = data_load(&s, NULL, 0, &e);
        CHECK(r != NULL);
        if (r) {
            fx_hparams(&hp);
            CHECK_EQ_INT(prep(r, &hp, &c), 0);
            CHECK_EQ_INT(c.n_classes, 0);
            double ysum = 0;
            for (int i = 0; i < c.train.n; i++)
                ysum += c.train.y[i];
            for (int i = 0; i < c.val.n; i++)
                ysum += c.val.y[i];
            CHECK_NEAR(ysum, 20 * 100.0 + 0.5 * 190, 1e-6); /* every target, unscaled */
            CHECK(fabs(c.train.x[0]) < 2.5);                /* while the inputs are standardised */
            bad = 0;
            for (int i = 0; i < c.test.n; i++)
                bad += c.test.y[i] != (float)(100.0 + i * 0.5);
            CHECK_EQ_INT(bad, 0);
            data_prepared_release(&c);
        }
        data_free(r);
    }
    /*
     * The variance floor of standardize: feature 0 is 0 except 100 in two of
     * 400 rows (sd about 7, range 100), so its sd is floored at 0.1 * range
     * and no training value lies beyond 10; feature 1 (spread out) keeps its
     * own sd.
     */
    {
        char p[DS_PATH_MAX];
        FILE *fp = fopen(fx_join(p, dir, "rare.csv"), "w");
        for (int i = 0; i < 400; i++)
            fprintf(fp, "%d,%d,%d\n", i % 200 == 7 ? 100 : 0, i % 50, i % 2);
        fclose(fp);
        struct ds_spec s = {.kind = DS_CSV, .name = "csv", .label_col = -1};
        fx_join(s.train, dir, "rare.csv");
        fx_join(s.test, dir, "rare.csv");
        struct dataset *r = data_load(&s, NULL, 0, &e);
        CHECK(r != NULL);
        if (r) {
            struct data_prepared raw_p, st;
            fx_hparams(&hp);
            hp.val_fraction = 0.01; /* 4 validation rows: both rare rows are likely training rows */
            hp.normalize = HP_NONE;
            CHECK_EQ_INT(prep(r, &hp, &raw_p), 0);
            hp.normalize = HP_STANDARDIZE;
            CHECK_EQ_INT(prep(r, &hp, &st), 0);
            double rm[2], rsd[2], rlo[2], rhi[2], sm2[2], ssd2[2], slo2[2], shi2[2];
            stats(&raw_p.train, rm, rsd, rlo, rhi);
            stats(&st.train, sm2, ssd2, slo2, shi2);
            CHECK(rhi[0] == 100 && rsd[0] < 0.1 * (rhi[0] - rlo[0])); /* the floor applies */
            CHECK_NEAR(shi2[0], (100 - rm[0]) / (0.1 * 100), 1e-4);
            CHECK(shi2[0] <= 10.0 && (100 - rm[0]) / rsd[0] > 10.0); /* unfloored: beyond 10 */
            CHECK_NEAR(ssd2[1], 1, 1e-5);                          /* untouched */
            data_prepared_release(&raw_p);
            data_prepared_release(&st);
        }
        data_free(r);
    }
    fx_rmtree(dir);
    return check_report();
}
