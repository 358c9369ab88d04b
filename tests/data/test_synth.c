/*
 * test_synth — synthetic 2-D sets: deterministic from split_seed, different
 * for another seed, train and test from separate streams, balanced classes,
 * the geometry of each set at zero noise, and noise actually applied.
 */
#include <math.h>

#include "../check.h"
#include "fixture.h"

static struct dataset *make(const char *name, int64_t n, double noise, int64_t seed)
{
    struct ds_spec s;
    struct err e = ERR_INIT;
    memset(&s, 0, sizeof s);
    s.kind = DS_SYNTHETIC;
    snprintf(s.name, sizeof s.name, "%s", name);
    s.n = n;
    s.noise = noise;
    CHECK_EQ_INT(dataset_check(&s, NULL, NULL, &e), 0);
    struct dataset *ds = data_load(&s, NULL, seed, &e);
    CHECK(ds != NULL);
    return ds;
}

static bool same(const struct data_view *a, const struct data_view *b)
{
    return a->n == b->n && memcmp(a->x, b->x, (size_t)a->n * 2 * sizeof(float)) == 0 &&
           memcmp(a->y, b->y, (size_t)a->n * sizeof(float)) == 0;
}

int main(void)
{
    const char *names[4] = {"circles", "moons", "spirals", "xor"};
    for (int k = 0; k < 4; k++) {
        struct dataset *a = make(names[k], 101, 0.1, 7), *b = make(names[k], 101, 0.1, 7);
        struct dataset *c = make(names[k], 101, 0.1, 8);
        if (!a || !b || !c)
            return check_report();
        struct data_view at = data_train(a), bt = data_train(b), ct = data_train(c);
        struct data_view ae = data_test(a);
        CHECK_EQ_INT(at.n, 101);
        CHECK_EQ_INT(ae.n, 101);
        CHECK_EQ_INT(at.d, 2);
        CHECK_EQ_INT(data_classes(a), 2);
        CHECK(same(&at, &bt));                                   /* same seed: identical */
        CHECK(!same(&at, &ct));                                  /* another seed: different */
        CHECK(memcmp(at.x, ae.x, 2 * 101 * sizeof(float)) != 0); /* separate streams */
        int ones = 0;
        for (int i = 0; i < 101; i++)
            ones += at.y[i] == 1.0f;
        CHECK_EQ_INT(ones, 50);
        data_free(a);
        data_free(b);
        data_free(c);
    }

    /* Geometry at zero noise. */
    struct dataset *d = make("circles", 200, 0, 1);
    struct data_view v = data_train(d);
    int bad = 0;
    for (int i = 0; i < v.n; i++) {
        double r = hypot(v.x[2 * i], v.x[2 * i + 1]);
        bad += fabs(r - (v.y[i] == 0 ? 1.0 : 0.5)) > 1e-5;
    }
    CHECK_EQ_INT(bad, 0);
    data_free(d);
    d = make("xor", 200, 0, 1);
    v = data_train(d);
    bad = 0;
    for (int i = 0; i < v.n; i++)
        bad += ((v.x[2 * i] > 0) != (v.x[2 * i + 1] > 0)) != (v.y[i] == 1.0f);
    CHECK_EQ_INT(bad, 0);
    data_free(d);
    d = make("moons", 200, 0, 1);
    v = data_train(d);
    bad = 0;
    for (int i = 0; i < v.n; i++) {
        double cx = v.y[i] == 0 ? 0 : 1, cy = v.y[i] == 0 ? 0 : 0.5;
        bad += fabs(hypot(v.x[2 * i] - cx, v.x[2 * i + 1] - cy) - 1) > 1e-5;
    }
    CHECK_EQ_INT(bad, 0);
    data_free(d);
    d = make("spirals", 200, 0, 1);
    v = data_train(d);
    bad = 0;
    for (int i = 0; i < v.n; i++)
        bad += hypot(v.x[2 * i], v.x[2 * i + 1]) > 1.0 + 1e-6;
    CHECK_EQ_INT(bad, 0);
    data_free(d);

    /* Noise: radii of circles spread with sd close to `noise`. */
    d = make("circles", 4000, 0.05, 3);
    v = data_train(d);
    double s2 = 0;
    for (int i = 0; i < v.n; i++) {
        double r = hypot(v.x[2 * i], v.x[2 * i + 1]) - (v.y[i] == 0 ? 1.0 : 0.5);
        s2 += r * r;
    }
    CHECK_NEAR(sqrt(s2 / v.n), 0.05, 0.01);
    data_free(d);
    return check_report();
}
