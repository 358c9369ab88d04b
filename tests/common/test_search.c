/*
 * test_search — search spaces: the unscrambled Sobol' points against the
 * values SciPy prints for Sobol(d=3, scramble=False) (the same Joe-Kuo
 * numbers in Gray-code order), the net properties every Sobol' sequence has
 * (one point per 1/2^m slice of each dimension, a (0, m, 2)-net in the first
 * two dimensions) before and after the digital shift, points as a pure
 * function of (seed, index), each distribution's range and shape, and the
 * search inside a grid file: keys, counts, duplicates collapsing, every
 * error path.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "grid.h"
#include "hparams.h"
#include "json.h"
#include "search.h"

static int parse(const char *text, struct grid **g, struct err *e)
{
    struct grid_opts o = {.default_name = "s", .base_dir = "/tmp"};
    cJSON *doc = cJSON_Parse(text);
    CHECK(doc != NULL);
    err_clear(e);
    int rc = grid_parse(doc, &o, g, e);
    cJSON_Delete(doc);
    return rc;
}

static void expect_err(const char *text, int code, const char *path, const char *msg)
{
    struct grid *g = NULL;
    struct err e = ERR_INIT;
    int rc = parse(text, &g, &e);
    CHECK_EQ_INT(rc, code);
    CHECK_EQ_STR(e.path, path);
    if (msg)
        CHECK_EQ_STR(e.msg, msg);
    if (rc != code || (msg && strcmp(e.msg, msg) != 0))
        fprintf(stderr, "  for %s\n  got %s: %s\n", text, e.path, e.msg);
    grid_free(g);
}

/* SciPy 1.x: qmc.Sobol(d=3, scramble=False).random(8). */
static void test_sobol_pinned(void)
{
    static const double want[8][3] = {
        {0, 0, 0},
        {0.5, 0.5, 0.5},
        {0.75, 0.25, 0.25},
        {0.25, 0.75, 0.75},
        {0.375, 0.375, 0.625},
        {0.875, 0.875, 0.125},
        {0.625, 0.125, 0.875},
        {0.125, 0.625, 0.375},
    };
    for (int i = 0; i < 8; i++)
        for (int d = 0; d < 3; d++)
            CHECK_NEAR(search_sobol_raw((uint64_t)i, (size_t)d) * 0x1p-32, want[i][d], 0);
}

/* Every dimension of the first 2^m points hits each 1/2^m slice once. */
static void check_strata(const struct search *s, bool raw)
{
    enum { M = 8, N = 1 << M };
    for (size_t d = 0; d < SEARCH_MAX_DIMS; d++) {
        int hits[N] = {0};
        for (int i = 0; i < N; i++) {
            double u =
                raw ? search_sobol_raw((uint64_t)i, d) * 0x1p-32 : search_unit(s, (uint64_t)i, d);
            CHECK(u >= 0 && u < 1);
            hits[(int)(u * N)]++;
        }
        int bad = 0;
        for (int j = 0; j < N; j++)
            bad += hits[j] != 1;
        CHECK_EQ_INT(bad, 0);
    }
}

/* Dimensions 0 and 1 form a (0, m, 2)-net: one point per elementary box of area 2^-m. */
static void check_net(const struct search *s)
{
    enum { M = 6, N = 1 << M };
    for (int p = 0; p <= M; p++) {
        int q = M - p, bad = 0;
        int *hits = calloc(N, sizeof *hits);
        for (int i = 0; i < N; i++) {
            int a = (int)(search_unit(s, (uint64_t)i, 0) * (1 << p));
            int b = (int)(search_unit(s, (uint64_t)i, 1) * (1 << q));
            hits[a * (1 << q) + b]++;
        }
        for (int j = 0; j < N; j++)
            bad += hits[j] != 1;
        CHECK_EQ_INT(bad, 0);
        free(hits);
    }
}

static void test_sobol_nets(void)
{
    check_strata(NULL, true);
    struct search s = {.kind = SEARCH_SOBOL, .trials = 256, .seed = 12345};
    check_strata(&s, false);
    check_net(&s);
    /* The shift moves the points: the first is no longer the origin, and seeds differ. */
    struct search t = s;
    t.seed = 1;
    CHECK(search_unit(&s, 0, 0) != 0);
    CHECK(search_unit(&s, 5, 3) != search_unit(&t, 5, 3));
}

static void test_random_unit(void)
{
    struct search s = {.kind = SEARCH_RANDOM, .trials = 1, .seed = 7};
    /* Mean and variance of 20000 draws: U(0,1) has 1/2 and 1/12; 5 SE bounds. */
    double sum = 0, sq = 0;
    int n = 20000;
    for (int i = 0; i < n; i++) {
        double u = search_unit(&s, (uint64_t)i, 2);
        CHECK(u >= 0 && u < 1);
        sum += u;
        sq += u * u;
    }
    double mean = sum / n, var = sq / n - mean * mean;
    CHECK_NEAR(mean, 0.5, 5 * sqrt(1.0 / 12 / n));
    CHECK_NEAR(var, 1.0 / 12, 5 * sqrt(1.0 / 180 / n));
    /* Coordinates of one point are not equal across dimensions or seeds. */
    struct search t = s;
    t.seed = 8;
    CHECK(search_unit(&s, 3, 0) != search_unit(&s, 3, 1));
    CHECK(search_unit(&s, 3, 0) != search_unit(&t, 3, 0));
    /* A pure function: the same call twice gives the same value. */
    CHECK(search_unit(&s, 99, 4) == search_unit(&s, 99, 4));
}

static double dim_value(const struct search *s, uint64_t i, size_t d)
{
    cJSON *v = search_value(s, i, d);
    double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    cJSON_Delete(v);
    return x;
}

static void test_distributions(void)
{
    const char *text = "{\"kind\": \"random\", \"trials\": 4000, \"seed\": 3, \"space\": {"
                       "\"lr\": {\"log_uniform\": [0.0001, 1]},"
                       "\"dropout\": {\"uniform\": [0, 0.5]},"
                       "\"batch_size\": {\"int\": [1, 3]},"
                       "\"epochs\": {\"int_log\": [1, 1000]},"
                       "\"hidden\": {\"choice\": [[8], [16, 16], []]}}}";
    cJSON *doc = cJSON_Parse(text);
    struct search s;
    struct err e = ERR_INIT;
    CHECK_EQ_INT(search_parse(doc, 1000000, &s, &e), 0);
    cJSON_Delete(doc);
    CHECK_EQ_INT((int)s.n_dims, 5);
    int lr_low = 0, drop_low = 0, bs[4] = {0}, ep_small = 0, choice[3] = {0};
    for (int64_t i = 0; i < s.trials; i++) {
        double lr = dim_value(&s, (uint64_t)i, 0);
        CHECK(lr >= 1e-4 && lr <= 1);
        /* 4 significant digits */
        char buf[32];
        snprintf(buf, sizeof buf, "%.3e", lr);
        CHECK(strtod(buf, NULL) == lr);
        lr_low += lr < 0.01; /* half of the log range */
        double dr = dim_value(&s, (uint64_t)i, 1);
        CHECK(dr >= 0 && dr <= 0.5);
        drop_low += dr < 0.25;
        double b = dim_value(&s, (uint64_t)i, 2);
        CHECK(b == 1 || b == 2 || b == 3);
        bs[(int)b]++;
        double ep = dim_value(&s, (uint64_t)i, 3);
        CHECK(ep >= 1 && ep <= 1000 && ep == floor(ep));
        ep_small += ep < 10; /* log-uniform over [1, 1001): P = log 10 / log 1001 = 0.3333 */
        cJSON *h = search_value(&s, (uint64_t)i, 4);
        char *t = json_line(h);
        choice[strcmp(t, "[8]") == 0 ? 0 : strcmp(t, "[16,16]") == 0 ? 1 : 2]++;
        CHECK(strcmp(t, "[8]") == 0 || strcmp(t, "[16,16]") == 0 || strcmp(t, "[]") == 0);
        free(t);
        cJSON_Delete(h);
    }
    double n = (double)s.trials, se_half = 5 * sqrt(0.25 / n);
    CHECK_NEAR(lr_low / n, 0.5, se_half);
    CHECK_NEAR(drop_low / n, 0.5, se_half);
    for (int k = 1; k <= 3; k++)
        CHECK_NEAR(bs[k] / n, 1.0 / 3, 5 * sqrt(2.0 / 9 / n));
    CHECK_NEAR(ep_small / n, log(10) / log(1001), 5 * sqrt(2.0 / 9 / n));
    for (int k = 0; k < 3; k++)
        CHECK_NEAR(choice[k] / n, 1.0 / 3, 5 * sqrt(2.0 / 9 / n));
    /* search_apply sets the hyperparameters themselves. */
    struct hparams hp;
    hparams_default(&hp);
    CHECK_EQ_INT(search_apply(&s, 17, &hp, &e), 0);
    CHECK(hp.lr == dim_value(&s, 17, 0));
    CHECK(hp.batch_size == (int)dim_value(&s, 17, 2));
    search_release(&s);
}

static void test_in_grid(void)
{
    struct grid *g = NULL, *g2 = NULL;
    struct err e = ERR_INIT;
    /* Search alone: trials configurations, keys from the space. */
    const char *text = "{\"dataset\": \"circles\", \"seeds\": 2, \"base\": {\"epochs\": 3},"
                       " \"search\": {\"kind\": \"sobol\", \"trials\": 16, \"seed\": 5,"
                       " \"space\": {\"lr\": {\"log_uniform\": [0.001, 0.5]},"
                       " \"l2\": {\"uniform\": [0, 0.001]}}}}";
    CHECK_EQ_INT(parse(text, &g, &e), 0);
    CHECK_EQ_INT(parse(text, &g2, &e), 0);
    if (g && g2) {
        CHECK_EQ_INT(grid_n_configs(g), 16);
        CHECK_EQ_INT(grid_n_trials(g), 32);
        CHECK_EQ_INT(grid_n_keys(g), 2);
        CHECK_EQ_STR(grid_key(g, 0), "lr");
        CHECK_EQ_STR(grid_key(g, 1), "l2");
        CHECK(grid_search(g) != NULL);
        /* The same file twice: the same points in the same order (a restarted daemon). */
        for (size_t i = 0; i < 16; i++) {
            cJSON *a = grid_config_params(g, i), *b = grid_config_params(g2, i);
            char *ta = json_line(a), *tb = json_line(b);
            CHECK_EQ_STR(ta, tb);
            free(ta);
            free(tb);
            cJSON_Delete(a);
            cJSON_Delete(b);
        }
        /* Sobol: the 16 lr values fall one into each 1/16 of the log range. */
        int hits[16] = {0};
        for (size_t i = 0; i < 16; i++) {
            double u = (log(grid_config(g, i)->lr) - log(0.001)) / (log(0.5) - log(0.001));
            int k = (int)(u * 16 + 1e-3 * (u < 0.5 ? 1 : -1)); /* rounding to 4 digits */
            if (k >= 0 && k < 16)
                hits[k]++;
        }
        int bad = 0;
        for (int k = 0; k < 16; k++)
            bad += hits[k] != 1;
        CHECK(bad <= 2); /* 4-digit rounding may move a value across a slice edge */
    }
    grid_free(g);
    grid_free(g2);
    g = g2 = NULL;

    /* Beside a grid: each grid combination x every point, the grid's keys first. */
    CHECK_EQ_INT(parse("{\"dataset\": \"circles\", \"grid\": {\"hidden\": [[4], [8]]},"
                       " \"search\": {\"kind\": \"random\", \"trials\": 5,"
                       " \"space\": {\"lr\": {\"log_uniform\": [0.001, 0.5]}}}}",
                       &g, &e),
                 0);
    if (g) {
        CHECK_EQ_INT(grid_n_configs(g), 10);
        CHECK_EQ_STR(grid_key(g, 0), "hidden");
        CHECK_EQ_STR(grid_key(g, 1), "lr");
        /* Point i is the same over both combinations. */
        for (size_t i = 0; i < 5; i++)
            CHECK(grid_config(g, i)->lr == grid_config(g, i + 5)->lr);
    }
    grid_free(g);
    g = NULL;

    /* Duplicates collapse: 40 draws of a two-value choice are two configurations. */
    CHECK_EQ_INT(
        parse("{\"dataset\": \"circles\", \"search\": {\"kind\": \"random\", \"trials\": 40,"
              " \"space\": {\"activation\": {\"choice\": [\"relu\", \"tanh\"]}}}}",
              &g, &e),
        0);
    if (g)
        CHECK_EQ_INT(grid_n_configs(g), 2);
    grid_free(g);

    /* Errors name the place. */
    expect_err("{\"dataset\": \"circles\", \"search\": 3}", MLP_EINVALID_GRID, "search", NULL);
    expect_err("{\"dataset\": \"circles\", \"search\": {\"kind\": \"grid\", \"trials\": 2,"
               " \"space\": {\"lr\": {\"uniform\": [0.1, 0.2]}}}}",
               MLP_EINVALID_GRID, "search.kind", "expected \"random\" or \"sobol\", got \"grid\"");
    expect_err("{\"dataset\": \"circles\", \"search\": {\"kind\": \"random\","
               " \"space\": {\"lr\": {\"uniform\": [0.1, 0.2]}}}}",
               MLP_EINVALID_GRID, "search.trials", NULL);
    expect_err("{\"dataset\": \"circles\", \"search\": {\"kind\": \"random\", \"trials\": 2, "
               "\"trails\": 3, \"space\": {\"lr\": {\"uniform\": [0.1, 0.2]}}}}",
               MLP_EINVALID_GRID, "search.trails", "unknown key (did you mean \"trials\"?)");
    expect_err("{\"dataset\": \"circles\", \"search\": {\"kind\": \"random\", \"trials\": 2,"
               " \"space\": {\"lr\": {\"log_uniform\": [0, 0.2]}}}}",
               MLP_EINVALID_GRID, "search.space.lr.log_uniform[0]", NULL);
    expect_err("{\"dataset\": \"circles\", \"search\": {\"kind\": \"random\", \"trials\": 2,"
               " \"space\": {\"lr\": {\"loguniform\": [0.1, 0.2]}}}}",
               MLP_EINVALID_GRID, "search.space.lr.loguniform",
               "unknown distribution (did you mean \"log_uniform\"?)");
    expect_err("{\"dataset\": \"circles\", \"search\": {\"kind\": \"random\", \"trials\": 2,"
               " \"space\": {\"lr\": {\"uniform\": [0.2, 0.1]}}}}",
               MLP_EINVALID_GRID, "search.space.lr.uniform", "expected a < b, got [0.2, 0.1]");
    expect_err("{\"dataset\": \"circles\", \"search\": {\"kind\": \"random\", \"trials\": 2,"
               " \"space\": {\"dropout\": {\"uniform\": [0, 1.5]}}}}",
               MLP_EINVALID_GRID, "search.space.dropout.uniform[1]", NULL);
    expect_err("{\"dataset\": \"circles\", \"search\": {\"kind\": \"random\", \"trials\": 2,"
               " \"space\": {\"batch_size\": {\"int\": [1.5, 4]}}}}",
               MLP_EINVALID_GRID, "search.space.batch_size.int[0]", NULL);
    expect_err("{\"dataset\": \"circles\", \"search\": {\"kind\": \"random\", \"trials\": 2,"
               " \"space\": {\"activation\": {\"choice\": [\"relu\", \"fast\"]}}}}",
               MLP_EINVALID_GRID, "search.space.activation.choice[1]", NULL);
    expect_err("{\"dataset\": \"circles\", \"search\": {\"kind\": \"random\", \"trials\": 2,"
               " \"space\": {\"learning_rate\": {\"uniform\": [0.1, 0.2]}}}}",
               MLP_EINVALID_GRID, "search.space.learning_rate", NULL);
    expect_err("{\"dataset\": \"circles\", \"base\": {\"lr\": 0.1}, \"search\": {\"kind\": "
               "\"random\", \"trials\": 2, \"space\": {\"lr\": {\"uniform\": [0.1, 0.2]}}}}",
               MLP_EINVALID_GRID, "search.space.lr", NULL);
    expect_err("{\"dataset\": \"circles\", \"grid\": {\"lr\": [0.1]}, \"search\": {\"kind\": "
               "\"random\", \"trials\": 2, \"space\": {\"lr\": {\"uniform\": [0.1, 0.2]}}}}",
               MLP_EINVALID_GRID, "search.space.lr",
               "\"lr\" is in both grid and search.space (list it or draw it, not both)");
    expect_err("{\"dataset\": \"circles\", \"search\": {\"kind\": \"random\", \"trials\": 2,"
               " \"space\": {\"lr\": {\"uniform\": [0.1, 0.2], \"int\": [1, 2]}}}}",
               MLP_EINVALID_GRID, "search.space.lr", NULL);
    expect_err("{\"dataset\": \"circles\", \"seeds\": 10, \"search\": {\"kind\": \"random\","
               " \"trials\": 20000, \"space\": {\"lr\": {\"uniform\": [0.1, 0.2]},"
               " \"l2\": {\"uniform\": [0, 1]}}}}",
               MLP_ETOO_LARGE, "grid", NULL);
}

int main(void)
{
    test_sobol_pinned();
    test_sobol_nets();
    test_random_unit();
    test_distributions();
    test_in_grid();
    return check_report();
}
