/*
 * data_synth — the synthetic 2-D sets: circles, moons, spirals (two arms),
 * xor.  Two balanced classes (point i has class i % 2), Gaussian noise of sd
 * `noise`, n training and n test points from two independent rng.h streams
 * of split_seed (RNG_SYNTH_TRAIN, RNG_SYNTH_TEST), so a set depends on
 * split_seed alone, never on the trial seed.
 */
#include "data_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

static void synth_point(const char *name, int cls, double noise, struct rng *s, float *x)
{
    double a, b;
    if (strcmp(name, "circles") == 0) {
        double t = 2 * M_PI * rng_uniform(s), r = cls ? 0.5 : 1.0;
        a = r * cos(t);
        b = r * sin(t);
    } else if (strcmp(name, "moons") == 0) {
        double t = M_PI * rng_uniform(s);
        a = cls ? 1.0 - cos(t) : cos(t);
        b = cls ? 0.5 - sin(t) : sin(t);
    } else if (strcmp(name, "spirals") == 0) {
        /* Two arms of 1.5 turns each, the second rotated by pi. */
        double t = rng_uniform(s), ang = 3 * M_PI * t + cls * M_PI;
        a = t * cos(ang);
        b = t * sin(ang);
    } else { /* xor: class 0 in quadrants (+,+) and (-,-), class 1 in the other two */
        double u = rng_uniform(s), v = rng_uniform(s);
        int q = (int)(rng_next(s) & 1);
        a = q ? u : -u;
        b = (q ^ cls) ? v : -v;
    }
    x[0] = (float)(a + noise * rng_gauss(s));
    x[1] = (float)(b + noise * rng_gauss(s));
}

int data__load_synth(const struct ds_spec *spec, int64_t split_seed, struct raw *out, struct err *e)
{
    out->n_train = out->n_test = spec->n;
    out->d = 2;
    out->n_classes = 2;
    out->buf = malloc(data__raw_floats(out) * sizeof(float));
    if (!out->buf)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory generating %s", spec->name);
    struct data_view v[2];
    data__raw_views(out->buf, out->n_train, out->n_test, 2, &v[0], &v[1]);
    for (int s = 0; s < 2; s++) {
        struct rng st;
        rng_seed(&st, (uint64_t)split_seed, s == 0 ? RNG_SYNTH_TRAIN : RNG_SYNTH_TEST);
        for (int64_t i = 0; i < spec->n; i++) {
            int cls = (int)(i % 2);
            synth_point(spec->name, cls, spec->noise, &st, (float *)v[s].x + 2 * i);
            ((float *)v[s].y)[i] = (float)cls;
        }
    }
    return 0;
}
