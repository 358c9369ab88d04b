/*
 * test_fanova — functional ANOVA on a random forest against functions whose
 * variance decomposition is known: a strong, a weak and a dead key rank in
 * that order (the dead one near 0); additive functions get their analytic
 * variance shares (numeric and categorical keys); a pure interaction has
 * small main effects; a constant has none; bad input is refused.
 *
 * With --points FILE [--trees N] [--seed S] it reads points and prints the
 * importances instead (tests/common/fanova_optuna.py compares them with
 * Optuna's FanovaImportanceEvaluator).  FILE: "d n", then d lines
 * "numeric LO HI" or "categorical K", then n lines "x_1 ... x_d y".
 */
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "fanova.h"
#include "rng.h"

static double unit(uint64_t *st)
{
    return (double)(rng_splitmix64(st) >> 11) * 0x1p-53;
}

static int run_points(int argc, char **argv)
{
    const char *file = NULL;
    struct fanova_params p = FANOVA_PARAMS_INIT;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--points") == 0 && i + 1 < argc)
            file = argv[++i];
        else if (strcmp(argv[i], "--trees") == 0 && i + 1 < argc)
            p.trees = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            p.seed = strtoull(argv[++i], NULL, 10);
    }
    FILE *f = file ? fopen(file, "r") : NULL;
    if (!f) {
        fprintf(stderr, "test_fanova: cannot read %s\n", file ? file : "(no --points)");
        return 2;
    }
    size_t d, n;
    int rc = 2;
    struct fanova_dim *dims = NULL;
    double *x = NULL, *y = NULL;
    struct fanova_key *k = NULL;
    if (fscanf(f, "%zu %zu", &d, &n) != 2 || d < 1 || d > 64 || n > 1000000)
        goto out;
    dims = calloc(d, sizeof *dims);
    x = calloc(n * d + 1, sizeof *x);
    y = calloc(n + 1, sizeof *y);
    k = calloc(d, sizeof *k);
    if (!dims || !x || !y || !k)
        goto out;
    for (size_t j = 0; j < d; j++) {
        char kind[16];
        if (fscanf(f, "%15s", kind) != 1)
            goto out;
        if (strcmp(kind, "numeric") == 0) {
            dims[j].kind = FANOVA_NUMERIC;
            if (fscanf(f, "%lf %lf", &dims[j].lo, &dims[j].hi) != 2)
                goto out;
        } else {
            dims[j].kind = FANOVA_CATEGORICAL;
            if (fscanf(f, "%d", &dims[j].n_categories) != 1)
                goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++)
            if (fscanf(f, "%lf", &x[i * d + j]) != 1)
                goto out;
        if (fscanf(f, "%lf", &y[i]) != 1)
            goto out;
    }
    struct fanova_result r;
    struct err e = ERR_INIT;
    if (fanova_importance(n, d, x, y, dims, &p, k, &r, &e) < 0) {
        fprintf(stderr, "test_fanova: %s\n", e.msg);
        rc = 1;
        goto out;
    }
    for (size_t j = 0; j < d; j++)
        printf("%zu %.17g %.17g %.17g\n", j, k[j].importance, k[j].sd, k[j].fraction);
    rc = 0;
out:
    if (rc == 2)
        fprintf(stderr, "test_fanova: %s: bad points file\n", file);
    fclose(f);
    free(dims);
    free(x);
    free(y);
    free(k);
    return rc;
}

/* n uniform points of [0,1]^d (categorical keys: a uniform category) and f at each. */
static void draw(size_t n, size_t d, const struct fanova_dim *dims, uint64_t seed, double *x)
{
    uint64_t st = seed;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            double u = unit(&st);
            x[i * d + j] = dims[j].kind == FANOVA_CATEGORICAL
                               ? (double)(int)(u * dims[j].n_categories)
                               : dims[j].lo + u * (dims[j].hi - dims[j].lo);
        }
}

#define N 400

int main(int argc, char **argv)
{
    if (argc > 1)
        return run_points(argc, argv);
    static double x[N * 4], y[N];
    struct fanova_key k[4], k2[4];
    struct fanova_result r;
    struct fanova_params p = FANOVA_PARAMS_INIT;
    struct err e = ERR_INIT;

    /* x1 strong, x2 weak, x3 dead: f = sin(3 x1) + 0.3 x2^2 on [0,1]^3. */
    struct fanova_dim u3[3] = {{FANOVA_NUMERIC, 0, 1, 0}, {FANOVA_NUMERIC, 0, 1, 0},
                               {FANOVA_NUMERIC, 0, 1, 0}};
    draw(N, 3, u3, 1, x);
    for (size_t i = 0; i < N; i++)
        y[i] = sin(3 * x[i * 3]) + 0.3 * x[i * 3 + 1] * x[i * 3 + 1];
    CHECK_EQ_INT(fanova_importance(N, 3, x, y, u3, &p, k, &r, &e), 0);
    CHECK(k[0].importance > k[1].importance && k[1].importance > k[2].importance);
    CHECK(k[2].importance < 0.01);
    CHECK_NEAR(k[0].importance + k[1].importance + k[2].importance, 1, 1e-12);
    CHECK_EQ_INT(r.trees_used, 64);
    CHECK(k[0].sd > 0 && k[0].sd < 0.1);
    printf("strong/weak/dead: %.4f %.4f %.4f (sd %.4f %.4f %.4f), main effects %.4f\n",
           k[0].importance, k[1].importance, k[2].importance, k[0].sd, k[1].sd, k[2].sd,
           r.main_effects);
    /* Deterministic for a seed; another seed moves the figures a little only. */
    CHECK_EQ_INT(fanova_importance(N, 3, x, y, u3, &p, k2, &r, &e), 0);
    CHECK(memcmp(k, k2, 3 * sizeof *k) == 0);
    p.seed = 7;
    CHECK_EQ_INT(fanova_importance(N, 3, x, y, u3, &p, k2, &r, &e), 0);
    CHECK(k2[0].importance != k[0].importance);
    CHECK_NEAR(k2[0].importance, k[0].importance, 0.02);
    p.seed = 0;

    /*
     * Additive: f = 10 x1 + 2 x2 on [0,1] x [0,4] + 0 x3 on [-1, 1]: variances 100/12 and
     * 4 * 16/12 = 64/12, shares 100/164 and 64/164; the main effects explain everything.
     */
    struct fanova_dim a3[3] = {{FANOVA_NUMERIC, 0, 1, 0}, {FANOVA_NUMERIC, 0, 4, 0},
                               {FANOVA_NUMERIC, -1, 1, 0}};
    draw(N, 3, a3, 2, x);
    for (size_t i = 0; i < N; i++)
        y[i] = 10 * x[i * 3] + 2 * x[i * 3 + 1];
    CHECK_EQ_INT(fanova_importance(N, 3, x, y, a3, &p, k, &r, &e), 0);
    printf("additive: %.4f %.4f %.4f (analytic %.4f %.4f 0), main effects %.4f\n",
           k[0].importance, k[1].importance, k[2].importance, 100.0 / 164, 64.0 / 164,
           r.main_effects);
    CHECK_NEAR(k[0].importance, 100.0 / 164, 0.04);
    CHECK_NEAR(k[1].importance, 64.0 / 164, 0.04);
    CHECK(k[2].importance < 0.01);
    CHECK(r.main_effects > 0.95 && r.main_effects <= 1 + 1e-9);

    /*
     * Additive with a categorical key: f = 2 x1 + c(k), c = (0, 1, 3, 0) over four equally
     * likely categories: Var(2 x1) = 4/12, Var(c) = E c^2 - (E c)^2 = 10/4 - 1 = 1.5.
     */
    struct fanova_dim ac[2] = {{FANOVA_NUMERIC, 0, 1, 0}, {FANOVA_CATEGORICAL, 0, 0, 4}};
    static const double cval[4] = {0, 1, 3, 0};
    draw(N, 2, ac, 3, x);
    for (size_t i = 0; i < N; i++)
        y[i] = 2 * x[i * 2] + cval[(int)x[i * 2 + 1]];
    CHECK_EQ_INT(fanova_importance(N, 2, x, y, ac, &p, k, &r, &e), 0);
    double vx = 4.0 / 12, vc = 1.5;
    printf("numeric + categorical: %.4f %.4f (analytic %.4f %.4f), main effects %.4f\n",
           k[0].importance, k[1].importance, vx / (vx + vc), vc / (vx + vc), r.main_effects);
    CHECK_NEAR(k[0].importance, vx / (vx + vc), 0.04);
    CHECK_NEAR(k[1].importance, vc / (vx + vc), 0.04);
    CHECK(r.main_effects > 0.95);

    /* A category never drawn still counts as its share of the space (here it gets a neighbour's value). */
    for (size_t i = 0; i < N; i++)
        if (x[i * 2 + 1] == 2)
            x[i * 2 + 1] = 1;
    for (size_t i = 0; i < N; i++)
        y[i] = cval[(int)x[i * 2 + 1]];
    CHECK_EQ_INT(fanova_importance(N, 2, x, y, ac, &p, k, &r, &e), 0);
    CHECK(k[1].importance > 0.99 && k[0].importance < 0.01);

    /* A pure interaction: f = (x1 - 1/2)(x2 - 1/2) has no main effect. */
    draw(N, 2, u3, 4, x);
    for (size_t i = 0; i < N; i++)
        y[i] = (x[i * 2] - 0.5) * (x[i * 2 + 1] - 0.5);
    CHECK_EQ_INT(fanova_importance(N, 2, x, y, u3, &p, k, &r, &e), 0);
    printf("interaction: main effects %.4f\n", r.main_effects);
    CHECK(r.main_effects < 0.25);

    /* A constant: no tree varies. */
    for (size_t i = 0; i < N; i++)
        y[i] = 0.5;
    CHECK_EQ_INT(fanova_importance(N, 2, x, y, u3, &p, k, &r, &e), 0);
    CHECK_EQ_INT(r.trees_used, 0);
    CHECK(isnan(k[0].importance) && isnan(r.main_effects));

    /* Bad input. */
    CHECK_EQ_INT(fanova_importance(1, 2, x, y, u3, &p, k, &r, &e), MLP_EINVALID_REQUEST);
    x[0] = 1.5;
    CHECK_EQ_INT(fanova_importance(N, 2, x, y, u3, &p, k, &r, &e), MLP_EINVALID_REQUEST);
    CHECK(strstr(e.msg, "outside") != NULL);
    x[0] = 0.5;
    y[3] = NAN;
    CHECK_EQ_INT(fanova_importance(N, 2, x, y, u3, &p, k, &r, &e), MLP_EINVALID_REQUEST);
    y[3] = 0;
    struct fanova_dim bad[2] = {{FANOVA_NUMERIC, 1, 1, 0}, {FANOVA_CATEGORICAL, 0, 0, 65}};
    CHECK_EQ_INT(fanova_importance(N, 1, x, y, bad, &p, k, &r, &e), MLP_EINVALID_REQUEST);
    CHECK_EQ_INT(fanova_importance(N, 1, x, y, bad + 1, &p, k, &r, &e), MLP_EINVALID_REQUEST);
    p.trees = 0;
    CHECK_EQ_INT(fanova_importance(N, 2, x, y, u3, &p, k, &r, &e), MLP_EINVALID_REQUEST);
    return check_report();
}
