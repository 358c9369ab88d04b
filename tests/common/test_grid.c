/*
 * test_grid — grid files: the SPEC example, expansion order, base, seeds in
 * every form, identical configurations removed (within and across grid
 * objects), the union of keys, every error path form, the trial limit with and
 * without force, and products that overflow.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "dataset.h"
#include "grid.h"
#include "json.h"
#include "race.h"

static int parse_opts(const char *text, const struct grid_opts *o, struct grid **g, struct err *e)
{
    cJSON *doc = cJSON_Parse(text);
    CHECK(doc != NULL);
    err_clear(e);
    *g = (struct grid *)1; /* must be reset to NULL on failure */
    int rc = grid_parse(doc, o, g, e);
    cJSON_Delete(doc);
    if (rc < 0)
        CHECK(*g == NULL);
    return rc;
}

static int parse(const char *text, struct grid **g, struct err *e)
{
    struct grid_opts o = {.default_name = "file-name", .base_dir = "/tmp"};
    return parse_opts(text, &o, g, e);
}

static void expect_err(const char *text, int code, const char *path, const char *msg)
{
    struct grid *g;
    struct err e = ERR_INIT;
    int rc = parse(text, &g, &e);
    CHECK_EQ_INT(rc, code);
    CHECK_EQ_INT(e.code, code);
    CHECK_EQ_STR(e.path, path);
    if (msg)
        CHECK_EQ_STR(e.msg, msg);
    if (rc == 0)
        grid_free(g);
}

/* The varying keys of config i as text. */
static char *varying(const struct grid *g, size_t i)
{
    cJSON *v = grid_config_varying(g, i);
    char *s = json_line(v);
    cJSON_Delete(v);
    return s;
}

static void test_spec_example(void)
{
    const char *text = "{\"name\": \"fashion-reg\", \"dataset\": \"circles\", \"seeds\": 10,"
                       " \"metric\": \"val_accuracy\","
                       " \"base\": {\"epochs\": 20, \"batch_size\": 128, \"activation\": \"relu\"},"
                       " \"grid\": {\"hidden\": [[100, 100], [256, 128]], \"lr\": [0.1, 0.03],"
                       "            \"l2\": [0, 0.0001], \"dropout\": [0, 0.2]}}";
    struct grid *g;
    struct err e = ERR_INIT;
    CHECK_EQ_INT(parse(text, &g, &e), 0);
    if (!g)
        return;
    CHECK_EQ_STR(grid_name(g), "fashion-reg");
    CHECK_EQ_STR(grid_metric(g), "val_accuracy");
    CHECK(grid_metric_maximize(g));
    CHECK_EQ_INT(grid_n_configs(g), 16);
    CHECK_EQ_INT(grid_n_seeds(g), 10);
    CHECK_EQ_INT(grid_n_trials(g), 160);
    CHECK_EQ_INT(grid_seed(g, 0), 1);
    CHECK_EQ_INT(grid_seed(g, 9), 10);
    CHECK_EQ_INT(grid_n_keys(g), 4);
    CHECK_EQ_STR(grid_key(g, 0), "hidden");
    CHECK_EQ_STR(grid_key(g, 3), "dropout");
    CHECK_EQ_STR(grid_dataset(g)->name, "circles");
    cJSON *dj = grid_dataset_json(g);
    CHECK(dj != NULL);
    cJSON_Delete(dj);
    /* First key slowest, last key fastest. */
    char *s = varying(g, 0);
    CHECK_EQ_STR(s, "{\"hidden\":[100,100],\"lr\":0.1,\"l2\":0,\"dropout\":0}");
    free(s);
    s = varying(g, 1);
    CHECK_EQ_STR(s, "{\"hidden\":[100,100],\"lr\":0.1,\"l2\":0,\"dropout\":0.2}");
    free(s);
    s = varying(g, 2);
    CHECK_EQ_STR(s, "{\"hidden\":[100,100],\"lr\":0.1,\"l2\":0.0001,\"dropout\":0}");
    free(s);
    s = varying(g, 15);
    CHECK_EQ_STR(s, "{\"hidden\":[256,128],\"lr\":0.03,\"l2\":0.0001,\"dropout\":0.2}");
    free(s);
    const struct hparams *h = grid_config(g, 8);
    CHECK(h != NULL);
    CHECK_EQ_INT(h->n_hidden, 2);
    CHECK_EQ_INT(h->hidden[0], 256);
    CHECK(h->lr == 0.1);
    CHECK_EQ_INT(h->epochs, 20);
    CHECK_EQ_INT(h->batch_size, 128);
    CHECK(grid_config(g, 16) == NULL);
    /* Full params: every key, equal to the canonical form of the struct. */
    cJSON *p = grid_config_params(g, 8);
    CHECK_EQ_INT(cJSON_GetArraySize(p), 26);
    cJSON *hp = hparams_to_json(h);
    char *a = json_line(p), *b = json_line(hp);
    CHECK_EQ_STR(a, b);
    free(a);
    free(b);
    cJSON_Delete(p);
    cJSON_Delete(hp);
    /* Every configuration is distinct. */
    for (size_t i = 0; i < grid_n_configs(g); i++)
        for (size_t j = i + 1; j < grid_n_configs(g); j++) {
            char *x = varying(g, i), *y = varying(g, j);
            CHECK(strcmp(x, y) != 0);
            free(x);
            free(y);
        }
    grid_free(g);
}

static void test_defaults_and_seeds(void)
{
    struct grid *g;
    struct err e = ERR_INIT;
    /* No grid, no seeds, no name: one configuration (the defaults), seed 1, default name. */
    CHECK_EQ_INT(parse("{\"dataset\": \"moons\"}", &g, &e), 0);
    if (g) {
        CHECK_EQ_STR(grid_name(g), "file-name");
        CHECK_EQ_STR(grid_metric(g), "val_accuracy");
        CHECK_EQ_INT(grid_n_configs(g), 1);
        CHECK_EQ_INT(grid_n_keys(g), 0);
        CHECK_EQ_INT(grid_n_seeds(g), 1);
        CHECK_EQ_INT(grid_seed(g, 0), 1);
        CHECK(grid_config(g, 0)->lr == 0.1);
        char *s = varying(g, 0);
        CHECK_EQ_STR(s, "{}");
        free(s);
        grid_free(g);
    }
    struct grid_opts none = {0};
    CHECK_EQ_INT(parse_opts("{\"dataset\": \"xor\", \"seeds\": [5, -2, 7]}", &none, &g, &e), 0);
    if (g) {
        CHECK_EQ_STR(grid_name(g), "sweep");
        CHECK_EQ_INT(grid_n_seeds(g), 3);
        CHECK_EQ_INT(grid_seed(g, 0), 5);
        CHECK_EQ_INT(grid_seed(g, 1), -2);
        CHECK_EQ_INT(grid_seed(g, 2), 7);
        CHECK_EQ_INT(grid_n_trials(g), 3);
        grid_free(g);
    }
    CHECK_EQ_INT(
        parse("{\"dataset\": \"xor\", \"seeds\": 1e1, \"metric\": \"train_loss\"}", &g, &e), 0);
    if (g) {
        CHECK_EQ_INT(grid_n_seeds(g), 10);
        CHECK(!grid_metric_maximize(g));
        grid_free(g);
    }
    const char *seeds_msg = "expected an integer >= 1, a non-empty list of distinct integers or "
                            "{\"min\": m, \"max\": M}";
    char msg[256];
    snprintf(msg, sizeof msg, "%s, got 0", seeds_msg);
    expect_err("{\"dataset\": \"xor\", \"seeds\": 0}", MLP_EINVALID_GRID, "seeds", msg);
    snprintf(msg, sizeof msg, "%s, got 2.5", seeds_msg);
    expect_err("{\"dataset\": \"xor\", \"seeds\": 2.5}", MLP_EINVALID_GRID, "seeds", msg);
    snprintf(msg, sizeof msg, "%s, got []", seeds_msg);
    expect_err("{\"dataset\": \"xor\", \"seeds\": []}", MLP_EINVALID_GRID, "seeds", msg);
    expect_err("{\"dataset\": \"xor\", \"seeds\": [1, 2, 3, 2, 1]}", MLP_EINVALID_GRID, "seeds[3]",
               "duplicate seed 2");
    expect_err("{\"dataset\": \"xor\", \"seeds\": [1, \"2\"]}", MLP_EINVALID_GRID, "seeds[1]",
               "expected an integer in [-9007199254740992, 9007199254740992], got \"2\"");
    expect_err("{\"dataset\": \"xor\", \"seeds\": 100000000}", MLP_ETOO_LARGE, "seeds", NULL);

    /* Racing on seeds: seeds 1..max, min of them stored first; confirmation seeds after max. */
    CHECK_EQ_INT(parse("{\"dataset\": \"xor\", \"seeds\": {\"min\": 3, \"max\": 10}, "
                       "\"grid\": {\"lr\": [0.1, 0.2]}, \"confirm\": {\"top\": 2, \"seeds\": 5}}",
                       &g, &e),
                 0);
    if (g) {
        CHECK(grid_race(g) != NULL);
        CHECK_EQ_INT(grid_race(g)->min, 3);
        CHECK_EQ_INT(grid_n_seeds(g), 10);
        CHECK_EQ_INT(grid_seed(g, 9), 10);
        CHECK_EQ_INT(grid_n_first_seeds(g), 3);
        CHECK_EQ_INT(grid_n_trials(g), 20);
        CHECK_EQ_INT(grid_max_seed(g), 10);
        CHECK(grid_confirm(g) != NULL);
        CHECK_EQ_INT(grid_confirm(g)->top, 2);
        CHECK_EQ_INT(grid_n_trials_max(g), 30);
        grid_free(g);
    }
    CHECK_EQ_INT(parse("{\"dataset\": \"xor\", \"seeds\": [4, -9, 7]}", &g, &e), 0);
    if (g) {
        CHECK(grid_race(g) == NULL && grid_confirm(g) == NULL);
        CHECK_EQ_INT(grid_n_first_seeds(g), 3);
        CHECK_EQ_INT(grid_max_seed(g), 7);
        CHECK_EQ_INT(grid_n_trials_max(g), 3);
        grid_free(g);
    }
    expect_err("{\"dataset\": \"xor\", \"seeds\": {\"min\": 4, \"max\": 3}}", MLP_EINVALID_GRID,
               "seeds.max", NULL);
    expect_err("{\"dataset\": \"xor\", \"confirm\": {\"top\": 0, \"seeds\": 3}}", MLP_EINVALID_GRID,
               "confirm.top", NULL);
    expect_err("{\"dataset\": \"xor\", \"confirm\": {\"top\": 1}}", MLP_EINVALID_GRID,
               "confirm.seeds", NULL);
    expect_err("{\"dataset\": \"xor\", \"confirm\": 3}", MLP_EINVALID_GRID, "confirm", NULL);
}

static void test_errors(void)
{
    expect_err("{\"dataset\": \"circles\", \"grid\": {\"lr\": [0.1, \"fast\"]}}", MLP_EINVALID_GRID,
               "grid.lr[1]", "expected a number > 0, got \"fast\"");
    expect_err("{\"dataset\": \"circles\", \"grid\": [{\"lr\": [0.1]}, {\"l2\": [0]},"
               " {\"hidden\": [[0, 5]]}]}",
               MLP_EINVALID_GRID, "grid[2].hidden[0][0]", "expected an integer >= 1, got 0");
    expect_err("{\"dataset\": \"circles\", \"grid\": [{\"lr\": [0.1]}, {\"l2\": [0]},"
               " {\"hidden\": [100]}]}",
               MLP_EINVALID_GRID, "grid[2].hidden[0]", "expected a list of integers >= 1, got 100");
    expect_err("{\"dataset\": \"circles\", \"base\": {\"activaton\": \"relu\"}}", MLP_EINVALID_GRID,
               "base.activaton", "unknown key (did you mean \"activation\"?)");
    expect_err("{\"dataset\": \"circles\", \"base\": {\"epochs\": 1.5}}", MLP_EINVALID_GRID,
               "base.epochs", "expected an integer >= 1, got 1.5");
    expect_err("{\"dataset\": \"circles\", \"base\": {\"lr\": 0.1, \"lr\": 0.2}}",
               MLP_EINVALID_GRID, "base.lr", "duplicate key");
    expect_err("{\"dataset\": \"circles\", \"base\": [1]}", MLP_EINVALID_GRID, "base",
               "expected an object of hyperparameters, got [1]");
    expect_err("{\"dataset\": \"circles\", \"grid\": {\"droput\": [0.1]}}", MLP_EINVALID_GRID,
               "grid.droput", "unknown key (did you mean \"dropout\"?)");
    expect_err("{\"dataset\": \"circles\", \"grid\": [{\"lr\": [0.1]}, {\"bogus_key\": [1]}]}",
               MLP_EINVALID_GRID, "grid[1].bogus_key", "unknown key");
    expect_err("{\"dataset\": \"circles\", \"base\": {\"lr\": 0.1}, \"grid\": {\"lr\": [0.2]}}",
               MLP_EINVALID_GRID, "grid.lr",
               "\"lr\" is in both base and grid (fix it in base or vary it in grid, not both)");
    expect_err("{\"dataset\": \"circles\", \"base\": {\"lr\": 0.1}, \"grid\": [{\"l2\": [0]}, "
               "{\"lr\": [0.2]}]}",
               MLP_EINVALID_GRID, "grid[1].lr", NULL);
    expect_err("{\"dataset\": \"circles\", \"grid\": {\"lr\": 0.1}}", MLP_EINVALID_GRID, "grid.lr",
               "expected a non-empty list of values, got 0.1");
    expect_err("{\"dataset\": \"circles\", \"grid\": {\"lr\": []}}", MLP_EINVALID_GRID, "grid.lr",
               "expected a non-empty list of values, got []");
    expect_err("{\"dataset\": \"circles\", \"grid\": {\"lr\": [0.1], \"lr\": [0.2]}}",
               MLP_EINVALID_GRID, "grid.lr", "duplicate key");
    expect_err("{\"dataset\": \"circles\", \"grid\": []}", MLP_EINVALID_GRID, "grid",
               "expected an object of value lists or a non-empty list of such objects, got []");
    expect_err("{\"dataset\": \"circles\", \"grid\": \"lr\"}", MLP_EINVALID_GRID, "grid", NULL);
    expect_err("{\"dataset\": \"circles\", \"grid\": [{\"lr\": [0.1]}, 3]}", MLP_EINVALID_GRID,
               "grid[1]", "expected an object whose values are lists, got 3");
    expect_err("{\"dataset\": \"circles\", \"seed\": 3}", MLP_EINVALID_GRID, "seed",
               "unknown key (did you mean \"seeds\"?)");
    expect_err("{\"dataset\": \"circles\", \"grdi\": {}}", MLP_EINVALID_GRID, "grdi",
               "unknown key (did you mean \"grid\"?)");
    expect_err("{\"dataset\": \"circles\", \"dataset\": \"moons\"}", MLP_EINVALID_GRID, "dataset",
               "duplicate key");
    expect_err("{\"grid\": {\"lr\": [0.1]}}", MLP_EINVALID_GRID, "dataset",
               "missing key \"dataset\" (a dataset name or object)");
    expect_err("{\"dataset\": \"circles\", \"name\": \"\"}", MLP_EINVALID_GRID, "name",
               "expected a non-empty string, got \"\"");
    expect_err("{\"dataset\": \"circles\", \"name\": 5}", MLP_EINVALID_GRID, "name", NULL);
    expect_err("{\"dataset\": \"circles\", \"name\": \"a\\nb\"}", MLP_EINVALID_GRID, "name", NULL);
    expect_err("{\"dataset\": \"circles\", \"metric\": \"test_accuracy\"}", MLP_EINVALID_GRID,
               "metric",
               "test metrics cannot rank configurations (ranking never uses test data); use "
               "\"val_accuracy\"");
    expect_err("{\"dataset\": \"circles\", \"metric\": \"val_acuracy\"}", MLP_EINVALID_GRID,
               "metric", "unknown metric (did you mean \"val_accuracy\"?)");
    expect_err("{\"dataset\": \"circles\", \"metric\": \"val_mse\"}", MLP_EINVALID_GRID, "metric",
               NULL);
    expect_err("[1, 2]", MLP_EINVALID_GRID, "",
               "expected a JSON object (the grid file), got [1,2]");
    /* Dataset errors keep their own code. */
    struct grid *g;
    struct err e = ERR_INIT;
    CHECK_EQ_INT(parse("{\"dataset\": \"not-a-dataset\", \"grid\": {\"lr\": [0.1]}}", &g, &e),
                 MLP_EINVALID_DATASET);
    CHECK_EQ_STR(e.path, "dataset");
    CHECK_EQ_INT(parse("{\"dataset\": 5}", &g, &e), MLP_EINVALID_DATASET);
    CHECK(!grid_metric_valid("test_loss"));
    CHECK(!grid_metric_valid("accuracy"));
    CHECK(grid_metric_valid("train_mse"));
}

/* New hyperparameters are grid keys through the hparams table, errors and all. */
static void test_training_keys(void)
{
    struct grid *g = NULL;
    struct err e = ERR_INIT;
    CHECK_EQ_INT(parse("{\"dataset\": \"circles\", \"base\": {\"iterations\": 200, "
                       "\"eval_every\": 20, \"curve_test\": true, \"save\": \"model\"},"
                       " \"grid\": {\"lr_schedule\": [null, {\"kind\": \"cosine\"}],"
                       " \"activation\": [\"linear\", \"relu\"],"
                       " \"early_stop\": [{\"patience\": 2, \"on\": \"train_loss\"}]}}",
                       &g, &e),
                 0);
    if (g) {
        CHECK_EQ_INT(grid_n_configs(g), 4);
        CHECK_EQ_INT(grid_config(g, 0)->iterations, 200);
        CHECK_EQ_INT(grid_config(g, 0)->sched, HP_SCHED_NONE);
        CHECK_EQ_INT(grid_config(g, 2)->sched, HP_SCHED_COSINE);
        CHECK_EQ_INT(grid_config(g, 0)->activation, HP_LINEAR);
        CHECK_EQ_INT(grid_config(g, 3)->es_on, HP_ES_TRAIN_LOSS);
        CHECK(grid_config(g, 3)->curve_test && grid_config(g, 3)->save == HP_SAVE_MODEL);
        grid_free(g);
    }
    expect_err("{\"dataset\": \"circles\", \"grid\": {\"lr_schedule\": [{\"kind\": \"bogus\"}]}}",
               MLP_EINVALID_GRID, "grid.lr_schedule[0].kind",
               "expected one of \"step\", \"cosine\", \"exponential\", got \"bogus\"");
    expect_err("{\"dataset\": \"circles\", \"base\": {\"train_eval\": \"half\"}}",
               MLP_EINVALID_GRID, "base.train_eval",
               "expected one of \"subsample\", \"full\", got \"half\"");
    expect_err("{\"dataset\": \"circles\", \"base\": {\"epochs\": 3, \"iterations\": 30}}",
               MLP_EINVALID_GRID, "base.iterations",
               "\"iterations\" and \"epochs\" exclude each other (give one)");
    /* Checks across keys run on every configuration at submit, as the worker
     * runs them: eval_every without iterations was queued and every trial failed. */
    expect_err("{\"dataset\": \"circles\", \"base\": {\"eval_every\": 10}}",
               MLP_EINVALID_GRID, "base.eval_every",
               "eval_every needs \"iterations\" (with epochs, evaluation is per epoch)");
    expect_err("{\"dataset\": \"circles\", \"grid\": {\"eval_every\": [2, 5]}}",
               MLP_EINVALID_GRID, "grid.eval_every",
               "eval_every needs \"iterations\" (with epochs, evaluation is per epoch)");
    expect_err("{\"dataset\": \"circles\", \"base\": {\"eval_every\": 5},"
               " \"grid\": {\"iterations\": [10, null]}}",
               MLP_EINVALID_GRID, "base.eval_every",
               "eval_every needs \"iterations\" (with epochs, evaluation is per epoch)");
    CHECK_EQ_INT(parse("{\"dataset\": \"circles\", \"base\": {\"iterations\": 10},"
                       " \"grid\": {\"eval_every\": [2, 5]}}",
                       &g, &e),
                 0);
    if (g) {
        /* The stored (canonical) parameters of an iterations trial: epochs null. */
        cJSON *p = grid_config_params(g, 1);
        char *line = json_line(p);
        CHECK(strstr(line, "\"epochs\":null") && strstr(line, "\"iterations\":10,\"eval_every\":5"));
        free(line);
        cJSON_Delete(p);
        grid_free(g);
    }
}

static void test_regression_metric(void)
{
    struct grid *g;
    struct err e = ERR_INIT;
    const char *csv =
        "{\"dataset\": {\"format\": \"csv\", \"train\": \"a.csv\", \"test\": \"b.csv\","
        " \"task\": \"regression\"}%s}";
    char text[256];
    snprintf(text, sizeof text, csv, "");
    CHECK_EQ_INT(parse(text, &g, &e), 0);
    if (g) {
        CHECK_EQ_STR(grid_metric(g), "val_mse");
        CHECK(!grid_metric_maximize(g));
        CHECK_EQ_STR(grid_dataset(g)->train, "/tmp/a.csv"); /* resolved against base_dir */
        grid_free(g);
    }
    snprintf(text, sizeof text, csv, ", \"metric\": \"val_accuracy\"");
    CHECK_EQ_INT(parse(text, &g, &e), MLP_EINVALID_GRID);
    CHECK_EQ_STR(e.path, "metric");
}

static void test_dedup_and_union(void)
{
    struct grid *g;
    struct err e = ERR_INIT;
    /* Across objects: 0.2 appears in both; 1e-1 is 0.1. */
    CHECK_EQ_INT(parse("{\"dataset\": \"circles\", \"seeds\": 2,"
                       " \"grid\": [{\"lr\": [0.1, 0.2]}, {\"lr\": [0.2, 0.3, 1e-1]}]}",
                       &g, &e),
                 0);
    if (g) {
        CHECK_EQ_INT(grid_n_configs(g), 3);
        CHECK_EQ_INT(grid_n_trials(g), 6);
        CHECK(grid_config(g, 0)->lr == 0.1);
        CHECK(grid_config(g, 1)->lr == 0.2);
        CHECK(grid_config(g, 2)->lr == 0.3);
        CHECK_EQ_INT(grid_n_keys(g), 1);
        grid_free(g);
    }
    /* Identical through defaults: lr 0.1 and epochs 20 are both the default configuration. */
    CHECK_EQ_INT(
        parse("{\"dataset\": \"circles\", \"grid\": [{\"lr\": [0.1]}, {\"epochs\": [20, 5]}]}", &g,
              &e),
        0);
    if (g) {
        CHECK_EQ_INT(grid_n_configs(g), 2);
        CHECK_EQ_INT(grid_n_keys(g), 2);
        CHECK_EQ_STR(grid_key(g, 0), "lr");
        CHECK_EQ_STR(grid_key(g, 1), "epochs");
        /* The union's keys appear in every configuration's varying set. */
        char *s = varying(g, 1);
        CHECK_EQ_STR(s, "{\"lr\":0.1,\"epochs\":5}");
        free(s);
        grid_free(g);
    }
    /* Within one list, and with nested values (hidden, early_stop). */
    CHECK_EQ_INT(
        parse("{\"dataset\": \"circles\", \"grid\": {\"hidden\": [[64], [64.0], [32, 32]],"
              " \"early_stop\": [null, {\"patience\": 3}, {\"min_delta\": 0, \"patience\": 3}]}}",
              &g, &e),
        0);
    if (g) {
        CHECK_EQ_INT(grid_n_configs(g), 4);
        CHECK_EQ_INT(grid_config(g, 1)->es_patience, 3);
        CHECK_EQ_INT(grid_config(g, 2)->hidden[1], 32);
        grid_free(g);
    }
    /* Values one ulp apart are different configurations. */
    CHECK_EQ_INT(
        parse("{\"dataset\": \"circles\", \"grid\": {\"lr\": [0.1, 0.10000000000000002]}}", &g, &e),
        0);
    if (g) {
        CHECK_EQ_INT(grid_n_configs(g), 2);
        grid_free(g);
    }
}

static void test_limits(void)
{
    struct grid *g;
    struct err e = ERR_INIT;
    const char *text =
        "{\"dataset\": \"circles\", \"seeds\": 3, \"grid\": {\"lr\": [0.1, 0.2, 0.3, 0.4]}}";
    struct grid_opts o = {.max_trials = 12};
    CHECK_EQ_INT(parse_opts(text, &o, &g, &e), 0);
    grid_free(g);
    o.max_trials = 11;
    CHECK_EQ_INT(parse_opts(text, &o, &g, &e), MLP_ETOO_LARGE);
    CHECK_EQ_STR(e.path, "grid");
    CHECK(strstr(e.msg, "more than 11 trials") != NULL);
    CHECK(strstr(e.msg, "--force") != NULL);
    o.force = true;
    CHECK_EQ_INT(parse_opts(text, &o, &g, &e), 0);
    if (g) {
        CHECK_EQ_INT(grid_n_trials(g), 12);
        grid_free(g);
    }
    /* The limit counts distinct configurations: 8 combinations, 4 distinct, x 3 seeds = 12. */
    o.force = false;
    o.max_trials = 12;
    CHECK_EQ_INT(
        parse_opts(
            "{\"dataset\": \"circles\", \"seeds\": 3, \"grid\": [{\"lr\": [0.1, 0.2, 0.3, 0.4]},"
            " {\"lr\": [0.4, 0.3, 0.2, 0.1]}]}",
            &o, &g, &e),
        0);
    grid_free(g);
    /* Default limit 100000: 100001 seeds x 1 configuration is too many. */
    CHECK_EQ_INT(parse("{\"dataset\": \"circles\", \"seeds\": 100001}", &g, &e), MLP_ETOO_LARGE);
    CHECK_EQ_INT(parse("{\"dataset\": \"circles\", \"seeds\": 100000}", &g, &e), 0);
    grid_free(g);

    /* Every hyperparameter with 10 values: 10^20 combinations, refused before
     * expanding anything (expanding would not finish within the test timeout). */
    const char *vals[] = {
        "\"hidden\": [[1],[2],[3],[4],[5],[6],[7],[8],[9],[10]]",
        "\"activation\": "
        "[\"relu\",\"elu\",\"selu\",\"tanh\",\"sigmoid\",\"relu\",\"elu\",\"selu\",\"tanh\","
        "\"sigmoid\"]",
        "\"optimizer\": "
        "[\"sgd\",\"adam\",\"momentum\",\"sgd\",\"adam\",\"momentum\",\"sgd\",\"adam\","
        "\"momentum\",\"sgd\"]",
        "\"momentum\": [0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9]",
        "\"lr\": [1,2,3,4,5,6,7,8,9,10]",
        "\"batch_size\": [1,2,3,4,5,6,7,8,9,10]",
        "\"epochs\": [1,2,3,4,5,6,7,8,9,10]",
        "\"l1\": [0,1,2,3,4,5,6,7,8,9]",
        "\"l2\": [0,1,2,3,4,5,6,7,8,9]",
        "\"dropout\": [0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9]",
        "\"batch_norm\": [true,false,true,false,true,false,true,false,true,false]",
        "\"grad_noise\": [0,1,2,3,4,5,6,7,8,9]",
        "\"normalize\": "
        "[\"none\",\"minmax\",\"none\",\"minmax\",\"none\",\"minmax\",\"none\",\"minmax\",\"none\","
        "\"minmax\"]",
        "\"init\": "
        "[\"he\",\"zeros\",\"he\",\"zeros\",\"he\",\"zeros\",\"he\",\"zeros\",\"he\",\"zeros\"]",
        "\"init_scale\": [1,2,3,4,5,6,7,8,9,10]",
        "\"early_stop\": "
        "[null,{\"patience\":1},{\"patience\":2},{\"patience\":3},{\"patience\":4},{\"patience\":5}"
        ",{\"patience\":6},{\"patience\":7},{\"patience\":8},{\"patience\":9}]",
        "\"val_fraction\": [0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,0.15]",
        "\"split_seed\": [0,1,2,3,4,5,6,7,8,9]",
        "\"train_size\": [1,2,3,4,5,6,7,8,9,10]",
        "\"max_seconds\": [1,2,3,4,5,6,7,8,9,10]",
    };
    char *big = malloc(8192);
    CHECK(big != NULL);
    if (!big)
        return;
    size_t k = (size_t)sprintf(big, "{\"dataset\": \"circles\", \"grid\": {");
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        k += (size_t)sprintf(big + k, "%s%s", i ? ", " : "", vals[i]);
    sprintf(big + k, "}}");
    CHECK_EQ_INT(parse(big, &g, &e), MLP_ETOO_LARGE);
    CHECK_EQ_STR(e.path, "grid");
    o.force = true;
    CHECK_EQ_INT(parse_opts(big, &o, &g, &e), MLP_ETOO_LARGE); /* even with force */
    /* 30 objects of 20 keys: each product overflows; the sum must not wrap. */
    size_t bk = (size_t)sprintf(big, "{\"dataset\": \"circles\", \"grid\": [");
    for (int r = 0; r < 3; r++) {
        bk += (size_t)sprintf(big + bk, "%s{", r ? ", " : "");
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
            bk += (size_t)sprintf(big + bk, "%s%s", i ? ", " : "", vals[i]);
        bk += (size_t)sprintf(big + bk, "}");
    }
    sprintf(big + bk, "]}");
    CHECK_EQ_INT(parse(big, &g, &e), MLP_ETOO_LARGE);
    free(big);
}

/* "executor": absent (NULL: mlpd.conf decides), local or slurm; anything else named. */
static void test_executor(void)
{
    struct grid *g;
    struct err e = ERR_INIT;
    CHECK_EQ_INT(parse("{\"dataset\": \"circles\"}", &g, &e), 0);
    CHECK(g && grid_executor(g) == NULL);
    grid_free(g);
    CHECK_EQ_INT(parse("{\"dataset\": \"circles\", \"executor\": \"slurm\"}", &g, &e), 0);
    CHECK(g && grid_executor(g) && strcmp(grid_executor(g), "slurm") == 0);
    grid_free(g);
    expect_err("{\"dataset\": \"circles\", \"executor\": \"pbs\"}", MLP_EINVALID_GRID, "executor",
               "expected \"local\" or \"slurm\", got \"pbs\"");
    expect_err("{\"dataset\": \"circles\", \"executer\": \"slurm\"}", MLP_EINVALID_GRID, "executer",
               "unknown key (did you mean \"executor\"?)");
}

/* As expect_err, the message only has to contain msg. */
static void expect_err_in(const char *text, int code, const char *path, const char *msg)
{
    struct grid *g;
    struct err e = ERR_INIT;
    int rc = parse(text, &g, &e);
    CHECK_EQ_INT(rc, code);
    CHECK_EQ_STR(e.path, path);
    CHECK(strstr(e.msg, msg) != NULL);
    if (rc == 0)
        grid_free(g);
}

/* "slurm": per-sweep overrides of mlpd.conf, each bad value named by its path. */
static void test_slurm_settings(void)
{
    struct grid *g;
    struct err e = ERR_INIT;
    const char *ok = "{\"dataset\": \"circles\", \"executor\": \"slurm\", \"slurm\": "
                     "{\"partition\": \"gpu\", \"account\": \"lab\", \"time\": \"1-02:00:00\", "
                     "\"sbatch_args\": [\"--qos=low\", \"--mem=2G\"]}}";
    CHECK_EQ_INT(parse(ok, &g, &e), 0);
    grid_free(g);
    cJSON *doc = cJSON_Parse(ok);
    struct grid_slurm gs;
    CHECK_EQ_INT(grid_slurm_parse(cJSON_GetObjectItem(doc, "slurm"), &gs, &e), 0);
    CHECK_EQ_STR(gs.partition, "gpu");
    CHECK_EQ_STR(gs.account, "lab");
    CHECK_EQ_STR(gs.time, "1-02:00:00");
    CHECK_EQ_INT(gs.n_args, 2);
    CHECK_EQ_STR(gs.args[1], "--mem=2G");
    cJSON_Delete(doc);
    static const char *const times[] = {"30", "0:30", "2:00:00", "1-0", "1-2:30", "UNLIMITED"};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        char buf[160];
        snprintf(buf, sizeof buf, "{\"dataset\": \"circles\", \"slurm\": {\"time\": \"%s\"}}",
                 times[i]);
        CHECK_EQ_INT(parse(buf, &g, &e), 0);
        grid_free(g);
    }
    expect_err_in("{\"dataset\": \"circles\", \"slurm\": {\"time\": \"1:2:3:4\"}}",
                  MLP_EINVALID_GRID, "slurm.time", "expected a Slurm time limit");
    expect_err_in("{\"dataset\": \"circles\", \"slurm\": {\"time\": \"1h\"}}", MLP_EINVALID_GRID,
                  "slurm.time", "expected a Slurm time limit");
    expect_err_in("{\"dataset\": \"circles\", \"slurm\": {\"partition\": \"a b\"}}",
                  MLP_EINVALID_GRID, "slurm.partition", "without blanks");
    expect_err_in("{\"dataset\": \"circles\", \"slurm\": {\"account\": \"\"}}", MLP_EINVALID_GRID,
                  "slurm.account", "a non-empty string");
    expect_err_in(
        "{\"dataset\": \"circles\", \"slurm\": {\"sbatch_args\": [\"--qos=x\", \"job.sh\"]}}",
        MLP_EINVALID_GRID, "slurm.sbatch_args[1]", "starting with '-'");
    expect_err_in("{\"dataset\": \"circles\", \"slurm\": {\"sbatch_args\": \"--qos=x\"}}",
                  MLP_EINVALID_GRID, "slurm.sbatch_args", "an array");
    expect_err_in("{\"dataset\": \"circles\", \"slurm\": {\"partiton\": \"gpu\"}}",
                  MLP_EINVALID_GRID, "slurm.partiton", "did you mean \"partition\"?");
    expect_err_in("{\"dataset\": \"circles\", \"slurm\": [\"gpu\"]}", MLP_EINVALID_GRID, "slurm",
                  "expected an object");
    expect_err_in("{\"dataset\": \"circles\", \"executor\": \"local\", \"slurm\": {}}",
                  MLP_EINVALID_GRID, "slurm", "\"executor\" is \"local\"");
}

int main(void)
{
    test_spec_example();
    test_defaults_and_seeds();
    test_errors();
    test_training_keys();
    test_regression_metric();
    test_dedup_and_union();
    test_limits();
    test_executor();
    test_slurm_settings();
    return check_report();
}
