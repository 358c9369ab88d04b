/*
 * test_hparams — the hyperparameter table: defaults, every kind of value,
 * every error wording and path, unknown keys with suggestions, and the
 * canonical JSON (equal configurations give equal text).
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "hparams.h"
#include "json.h"

/* Parse `params` (JSON text) with prefix "params"; return the code, fill hp and e. */
static int parse(const char *text, struct hparams *hp, struct err *e)
{
    cJSON *j = cJSON_Parse(text);
    CHECK(j != NULL);
    err_clear(e);
    int rc = hparams_from_json(hp, j, "params", e);
    cJSON_Delete(j);
    return rc;
}

/* Expect an error at path with exactly msg. */
static void expect_err(const char *text, const char *path, const char *msg)
{
    struct hparams hp;
    struct err e = ERR_INIT;
    int rc = parse(text, &hp, &e);
    CHECK_EQ_INT(rc, MLP_EINVALID_SPEC);
    CHECK_EQ_INT(e.code, MLP_EINVALID_SPEC);
    CHECK_EQ_STR(e.path, path);
    CHECK_EQ_STR(e.msg, msg);
}

static char *canon(const struct hparams *hp)
{
    cJSON *j = hparams_to_json(hp);
    char *s = json_line(j);
    cJSON_Delete(j);
    return s;
}

static void test_defaults(void)
{
    struct hparams hp;
    struct err e = ERR_INIT;
    CHECK_EQ_INT(parse("{}", &hp, &e), 0);
    CHECK_EQ_INT(hp.n_hidden, 2);
    CHECK_EQ_INT(hp.hidden[0], 100);
    CHECK_EQ_INT(hp.hidden[1], 100);
    CHECK_EQ_INT(hp.activation, HP_RELU);
    CHECK_EQ_INT(hp.optimizer, HP_SGD);
    CHECK(hp.momentum == 0.9);
    CHECK(hp.lr == 0.1);
    CHECK_EQ_INT(hp.batch_size, 128);
    CHECK_EQ_INT(hp.epochs, 20);
    CHECK(hp.l1 == 0 && hp.l2 == 0 && hp.dropout == 0 && hp.grad_noise == 0);
    CHECK(!hp.batch_norm);
    CHECK_EQ_INT(hp.normalize, HP_NORM_AUTO); /* resolved by the worker per dataset */
    CHECK_EQ_INT(hp.init, HP_INIT_HE);
    CHECK(hp.init_scale == 0.01);
    CHECK_EQ_INT(hp.es_patience, 0);
    CHECK(hp.val_fraction == 0.1);
    CHECK_EQ_INT(hp.split_seed, 0);
    CHECK_EQ_INT(hp.train_size, 0);
    CHECK(hp.max_seconds == 0);

    /* The canonical form has every key, in table order, with nulls for "off". */
    cJSON *j = hparams_to_json(&hp);
    CHECK_EQ_INT(cJSON_GetArraySize(j), 26);
    CHECK_EQ_STR(j->child->string, "hidden");
    CHECK(cJSON_IsNull(json_get(j, "early_stop")));
    CHECK(cJSON_IsNull(json_get(j, "train_size")));
    CHECK(cJSON_IsNull(json_get(j, "max_seconds")));
    CHECK_EQ_STR(cJSON_GetStringValue(json_get(j, "activation")), "relu");
    CHECK_EQ_STR(cJSON_GetStringValue(json_get(j, "normalize")), "auto");
    cJSON_Delete(j);
    CHECK_EQ_STR(hp_activation_name(HP_LEAKY_RELU), "leaky_relu");
    CHECK_EQ_STR(hp_optimizer_name(HP_ADAM), "adam");
    CHECK_EQ_STR(hp_normalize_name(HP_MINMAX), "minmax");
    CHECK_EQ_STR(hp_init_name(HP_INIT_GAUSSIAN), "gaussian");
}

static void test_values(void)
{
    struct hparams hp;
    struct err e = ERR_INIT;
    int rc = parse("{\"hidden\": [256, 128, 3], \"activation\": \"tanh\", \"optimizer\": \"adam\","
                   " \"momentum\": 0, \"lr\": 1e-3, \"batch_size\": 1, \"epochs\": 1e3,"
                   " \"l1\": 0.5, \"l2\": 1e-4, \"dropout\": 0.5, \"batch_norm\": true,"
                   " \"grad_noise\": 0.01, \"normalize\": \"none\", \"init\": \"gaussian\","
                   " \"init_scale\": 0.2, \"early_stop\": {\"patience\": 3, \"min_delta\": 0.001},"
                   " \"val_fraction\": 0.25, \"split_seed\": -7, \"train_size\": 5000,"
                   " \"max_seconds\": 12.5}",
                   &hp, &e);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(hp.n_hidden, 3);
    CHECK_EQ_INT(hp.hidden[2], 3);
    CHECK_EQ_INT(hp.activation, HP_TANH);
    CHECK_EQ_INT(hp.optimizer, HP_ADAM);
    CHECK(hp.momentum == 0);
    CHECK(hp.lr == 1e-3);
    CHECK_EQ_INT(hp.batch_size, 1);
    CHECK_EQ_INT(hp.epochs, 1000);
    CHECK(hp.l1 == 0.5 && hp.l2 == 1e-4 && hp.dropout == 0.5 && hp.grad_noise == 0.01);
    CHECK(hp.batch_norm);
    CHECK_EQ_INT(hp.normalize, HP_NONE);
    CHECK_EQ_INT(hp.init, HP_INIT_GAUSSIAN);
    CHECK(hp.init_scale == 0.2);
    CHECK_EQ_INT(hp.es_patience, 3);
    CHECK(hp.es_min_delta == 0.001);
    CHECK(hp.val_fraction == 0.25);
    CHECK_EQ_INT(hp.split_seed, -7);
    CHECK_EQ_INT(hp.train_size, 5000);
    CHECK(hp.max_seconds == 12.5);

    /* Round trip: canonical JSON parses back to the same canonical JSON. */
    char *a = canon(&hp);
    struct hparams hp2;
    CHECK_EQ_INT(parse(a, &hp2, &e), 0);
    char *b = canon(&hp2);
    CHECK_EQ_STR(a, b);
    CHECK(memcmp(hp.hidden, hp2.hidden, sizeof hp.hidden) == 0);
    free(a);
    free(b);

    /* Empty hidden list: no hidden layer. Nulls switch things off. */
    CHECK_EQ_INT(parse("{\"hidden\": [], \"early_stop\": null, \"train_size\": null,"
                       " \"max_seconds\": null}",
                       &hp, &e),
                 0);
    CHECK_EQ_INT(hp.n_hidden, 0);
    CHECK_EQ_INT(hp.es_patience, 0);
    CHECK_EQ_INT(hp.train_size, 0);
    CHECK(hp.max_seconds == 0);
    /* early_stop's min_delta defaults to 0. */
    CHECK_EQ_INT(parse("{\"early_stop\": {\"patience\": 5}}", &hp, &e), 0);
    CHECK_EQ_INT(hp.es_patience, 5);
    CHECK(hp.es_min_delta == 0);
    /* 32 layers is the limit. */
    CHECK_EQ_INT(
        parse("{\"hidden\": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}",
              &hp, &e),
        0);
    CHECK_EQ_INT(hp.n_hidden, 32);
}

static void test_errors(void)
{
    expect_err("{\"lr\": \"fast\"}", "params.lr", "expected a number > 0, got \"fast\"");
    expect_err("{\"lr\": 0}", "params.lr", "expected a number > 0, got 0");
    expect_err("{\"lr\": -1}", "params.lr", "expected a number > 0, got -1");
    expect_err("{\"epochs\": 1.5}", "params.epochs", "expected an integer >= 1, got 1.5");
    expect_err("{\"epochs\": 0}", "params.epochs", "expected an integer >= 1, got 0");
    expect_err("{\"epochs\": 1e12}", "params.epochs",
               "expected an integer in [1, 2147483647], got 1000000000000");
    expect_err("{\"batch_size\": \"64\"}", "params.batch_size",
               "expected an integer >= 1, got \"64\"");
    expect_err("{\"momentum\": 1}", "params.momentum", "expected a number in [0, 1), got 1");
    expect_err("{\"dropout\": -0.1}", "params.dropout", "expected a number in [0, 1), got -0.1");
    expect_err("{\"val_fraction\": 0}", "params.val_fraction",
               "expected a number in (0, 1), got 0");
    expect_err("{\"val_fraction\": 1}", "params.val_fraction",
               "expected a number in (0, 1), got 1");
    expect_err("{\"l2\": -1e-4}", "params.l2", "expected a number >= 0, got -0.0001");
    expect_err("{\"l1\": null}", "params.l1", "expected a number >= 0, got null");
    expect_err("{\"grad_noise\": [1]}", "params.grad_noise", "expected a number >= 0, got [1]");
    expect_err("{\"init_scale\": 0}", "params.init_scale", "expected a number > 0, got 0");
    expect_err("{\"max_seconds\": 0}", "params.max_seconds",
               "expected a number > 0 or null, got 0");
    expect_err("{\"train_size\": 0}", "params.train_size",
               "expected an integer >= 1 or null, got 0");
    expect_err("{\"train_size\": 2.5}", "params.train_size",
               "expected an integer >= 1 or null, got 2.5");
    expect_err("{\"split_seed\": 0.5}", "params.split_seed", "expected an integer, got 0.5");
    expect_err("{\"split_seed\": 1e18}", "params.split_seed",
               "expected an integer in [-9007199254740992, 9007199254740992], got 1e+18");
    expect_err("{\"batch_norm\": 1}", "params.batch_norm", "expected true or false, got 1");
    expect_err("{\"activation\": \"rleu\"}", "params.activation",
               "expected one of \"relu\", \"leaky_relu\", \"elu\", \"selu\", \"tanh\", "
               "\"sigmoid\", \"linear\", got \"rleu\"");
    expect_err("{\"optimizer\": 3}", "params.optimizer",
               "expected one of \"sgd\", \"momentum\", \"adam\", got 3");
    expect_err("{\"normalize\": \"zscore\"}", "params.normalize",
               "expected one of \"standardize\", \"minmax\", \"none\", \"global\", \"auto\", got "
               "\"zscore\"");
    expect_err("{\"init\": \"glorot\"}", "params.init",
               "expected one of \"he\", \"xavier\", \"gaussian\", \"zeros\", got \"glorot\"");
    expect_err("{\"hidden\": 100}", "params.hidden", "expected a list of integers >= 1, got 100");
    expect_err("{\"hidden\": [100, 0]}", "params.hidden[1]", "expected an integer >= 1, got 0");
    expect_err("{\"hidden\": [100, 50.5]}", "params.hidden[1]",
               "expected an integer >= 1, got 50.5");
    expect_err("{\"hidden\": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}",
               "params.hidden", "expected at most 32 hidden layers, got 33");
    expect_err(
        "{\"early_stop\": 5}", "params.early_stop",
        "expected null or an object {\"patience\": ..., \"min_delta\": ..., \"on\": ...}, got 5");
    expect_err("{\"early_stop\": {\"patience\": 0}}", "params.early_stop.patience",
               "expected an integer >= 1, got 0");
    expect_err("{\"early_stop\": {\"patience\": 2, \"min_delta\": -1}}",
               "params.early_stop.min_delta", "expected a number >= 0, got -1");
    expect_err("{\"early_stop\": {\"min_delta\": 0.1}}", "params.early_stop",
               "missing key \"patience\"");
    expect_err("{\"early_stop\": {\"patience\": 2, \"patiense\": 3}}", "params.early_stop.patiense",
               "unknown key (did you mean \"patience\"?)");
    expect_err("{\"early_stop\": {\"patience\": 2, \"window\": 3}}", "params.early_stop.window",
               "unknown key (expected one of \"patience\", \"min_delta\", \"on\")");
    expect_err("{\"activaton\": \"relu\"}", "params.activaton",
               "unknown key (did you mean \"activation\"?)");
    expect_err("{\"learning_rate\": 0.1}", "params.learning_rate",
               "unknown key (did you mean \"lr\"?)");
    expect_err("{\"lr\": 0.1, \"lr\": 0.2}", "params.lr", "duplicate key");
    expect_err("[1]", "params", "expected an object, got [1]");
    /* Long values are cut in messages. */
    struct hparams hp;
    struct err e = ERR_INIT;
    char text[400];
    snprintf(text, sizeof text, "{\"activation\": \"%0200d\"}", 7);
    CHECK_EQ_INT(parse(text, &hp, &e), MLP_EINVALID_SPEC);
    CHECK(strlen(e.msg) < 200);
    CHECK(strstr(e.msg, "...") != NULL);
}

/* The keys of issue 9: training length, schedules, early stopping on the
 * training loss, test curves, train_eval, save; their errors name the path. */
static void test_training_keys(void)
{
    struct hparams hp;
    struct err e = ERR_INIT;
    CHECK_EQ_INT(parse("{}", &hp, &e), 0);
    CHECK(!hp.curve_test && hp.save == HP_SAVE_NONE && hp.iterations == 0 && hp.eval_every == 0);
    CHECK_EQ_INT(hp.sched, HP_SCHED_NONE);
    CHECK_EQ_INT(hp.train_eval, HP_TE_SUBSAMPLE);
    CHECK_EQ_INT(hp.es_on, HP_ES_VAL_LOSS);

    CHECK_EQ_INT(parse("{\"iterations\": 500, \"eval_every\": 50, \"activation\": \"linear\","
                       "\"lr_schedule\": {\"kind\": \"step\", \"step_size\": 3},"
                       "\"early_stop\": {\"patience\": 2, \"on\": \"train_loss\"},"
                       "\"curve_test\": true, \"train_eval\": \"full\", \"save\": \"both\"}",
                       &hp, &e),
                 0);
    CHECK_EQ_INT(hp.iterations, 500);
    CHECK_EQ_INT(hp.eval_every, 50);
    CHECK_EQ_INT(hp.activation, HP_LINEAR);
    CHECK_EQ_INT(hp.sched, HP_SCHED_STEP);
    CHECK_EQ_INT(hp.sched_step, 3);
    CHECK(hp.sched_gamma == HP_SCHED_STEP_GAMMA && !hp.sched_per_iteration);
    CHECK_EQ_INT(hp.es_on, HP_ES_TRAIN_LOSS);
    CHECK(hp.curve_test);
    CHECK_EQ_INT(hp.train_eval, HP_TE_FULL);
    CHECK_EQ_INT(hp.save, HP_SAVE_BOTH);
    char *c = canon(&hp);
    CHECK(strstr(c, "\"lr_schedule\":{\"kind\":\"step\",\"step_size\":3,\"gamma\":0.1,"
                    "\"per\":\"epoch\"}") != NULL);
    CHECK(strstr(c, "\"early_stop\":{\"patience\":2,\"min_delta\":0,\"on\":\"train_loss\"}") !=
          NULL);
    CHECK(strstr(c, "\"iterations\":500,\"eval_every\":50") != NULL);
    /* The canonical form parses back to the same canonical form: an
     * iterations trial's epochs is null there (the stored parameters of every
     * iterations trial failed in the worker when it read "epochs": 20). */
    CHECK(strstr(c, "\"epochs\":null") != NULL);
    cJSON *j = hparams_to_json(&hp);
    struct hparams hp2;
    CHECK_EQ_INT(hparams_from_json(&hp2, j, "params", &e), 0);
    char *c2 = canon(&hp2);
    CHECK_EQ_STR(c2, c);
    cJSON_Delete(j);
    free(c);
    free(c2);

    CHECK_EQ_INT(
        parse("{\"lr_schedule\": {\"kind\": \"cosine\", \"per\": \"iteration\"}}", &hp, &e), 0);
    CHECK(hp.sched == HP_SCHED_COSINE && hp.sched_per_iteration);
    CHECK_EQ_INT(parse("{\"lr_schedule\": {\"kind\": \"exponential\"}}", &hp, &e), 0);
    CHECK(hp.sched == HP_SCHED_EXPONENTIAL && hp.sched_gamma == HP_SCHED_EXP_GAMMA);
    CHECK_EQ_INT(parse("{\"lr_schedule\": null, \"iterations\": null, \"epochs\": 3}", &hp, &e), 0);

    expect_err("{\"epochs\": 5, \"iterations\": 100}", "params.iterations",
               "\"iterations\" and \"epochs\" exclude each other (give one)");
    expect_err("{\"iterations\": 100, \"epochs\": 5}", "params.epochs",
               "\"epochs\" and \"iterations\" exclude each other (give one)");
    expect_err("{\"epochs\": null}", "params.epochs",
               "epochs null needs \"iterations\" (a trial needs a length)");
    expect_err("{\"epochs\": null, \"iterations\": null}", "params.epochs",
               "epochs null needs \"iterations\" (a trial needs a length)");
    CHECK_EQ_INT(parse("{\"epochs\": null, \"iterations\": 7}", &hp, &e), 0);
    CHECK(hp.iterations == 7 && hp.epochs == 0);
    CHECK_EQ_INT(parse("{\"iterations\": 7, \"epochs\": null}", &hp, &e), 0);
    expect_err("{\"iterations\": 0}", "params.iterations",
               "expected an integer >= 1 or null, got 0");
    expect_err("{\"eval_every\": 10}", "params.eval_every",
               "eval_every needs \"iterations\" (with epochs, evaluation is per epoch)");
    expect_err("{\"lr_schedule\": \"cosine\"}", "params.lr_schedule",
               "expected null or an object {\"kind\": \"step\"|\"cosine\"|\"exponential\", ...}, "
               "got \"cosine\"");
    expect_err("{\"lr_schedule\": {\"kind\": \"linear\"}}", "params.lr_schedule.kind",
               "expected one of \"step\", \"cosine\", \"exponential\", got \"linear\"");
    expect_err("{\"lr_schedule\": {\"kind\": \"step\"}}", "params.lr_schedule",
               "a step schedule needs \"step_size\"");
    expect_err("{\"lr_schedule\": {\"step_size\": 2}}", "params.lr_schedule",
               "missing key \"kind\" (\"step\", \"cosine\" or \"exponential\")");
    expect_err("{\"lr_schedule\": {\"kind\": \"exponential\", \"gamma\": 1.5}}",
               "params.lr_schedule.gamma", "expected a number in (0, 1], got 1.5");
    expect_err("{\"lr_schedule\": {\"kind\": \"cosine\", \"gamma\": 0.5}}",
               "params.lr_schedule.gamma", "a cosine schedule takes no gamma");
    expect_err("{\"lr_schedule\": {\"kind\": \"cosine\", \"step_size\": 5}}",
               "params.lr_schedule.step_size", "only a step schedule takes step_size");
    expect_err("{\"lr_schedule\": {\"kind\": \"step\", \"step_size\": 2, \"per\": \"batch\"}}",
               "params.lr_schedule.per", "expected one of \"epoch\", \"iteration\", got \"batch\"");
    expect_err("{\"lr_schedule\": {\"kind\": \"cosine\", \"kidn\": 1}}", "params.lr_schedule.kidn",
               "unknown key (did you mean \"kind\"?)");
    expect_err("{\"early_stop\": {\"patience\": 2, \"on\": \"val_accuracy\"}}",
               "params.early_stop.on",
               "expected one of \"val_loss\", \"train_loss\", got \"val_accuracy\"");
    expect_err("{\"early_stop\": {\"patience\": 2, \"patience\": 3}}", "params.early_stop.patience",
               "duplicate key");
    expect_err("{\"save\": \"weights\"}", "params.save",
               "expected one of \"none\", \"model\", \"predictions\", \"both\", got \"weights\"");
    expect_err("{\"train_eval\": true}", "params.train_eval",
               "expected one of \"subsample\", \"full\", got true");
    expect_err("{\"curve_test\": \"yes\"}", "params.curve_test",
               "expected true or false, got \"yes\"");
}

static void test_set_and_suggest(void)
{
    struct hparams hp;
    struct err e = ERR_INIT;
    hparams_default(&hp);
    cJSON *v = cJSON_CreateString("fast");
    CHECK_EQ_INT(hparams_set(&hp, "lr", v, "grid.lr[1]", &e), MLP_EINVALID_SPEC);
    CHECK_EQ_STR(e.path, "grid.lr[1]");
    CHECK_EQ_STR(e.msg, "expected a number > 0, got \"fast\"");
    cJSON_Delete(v);
    v = cJSON_CreateNumber(0.03);
    CHECK_EQ_INT(hparams_set(&hp, "lr", v, "base.lr", &e), 0);
    CHECK(hp.lr == 0.03);
    CHECK_EQ_INT(hparams_set(&hp, "lrr", v, "base.lrr", &e), MLP_EINVALID_SPEC);
    CHECK_EQ_STR(e.msg, "unknown key (did you mean \"lr\"?)");
    cJSON_Delete(v);
    CHECK(hparams_is_key("val_fraction"));
    CHECK(!hparams_is_key("valfraction_"));
    CHECK_EQ_STR(hparams_suggest("valfraction"), "val_fraction");
    CHECK_EQ_STR(hparams_suggest("epoch"), "epochs");
    CHECK_EQ_STR(hparams_suggest("batchsize"), "batch_size");
    CHECK_EQ_STR(hparams_suggest("xyz"), NULL);
    CHECK_EQ_STR(hparams_suggest("l3"), NULL); /* lr, l1 and l2 are equally close */
    CHECK_EQ_STR(hparams_suggest("completely_different"), NULL);
}

static void test_canonical(void)
{
    struct hparams a, b;
    struct err e = ERR_INIT;
    /* Same values, different spelling and order: same text. */
    CHECK_EQ_INT(parse("{\"lr\": 0.1, \"l2\": 0.0001, \"epochs\": 1000, \"hidden\": [64]}", &a, &e),
                 0);
    CHECK_EQ_INT(parse("{\"hidden\": [64.0], \"epochs\": 1e3, \"l2\": 1e-4, \"lr\": 1E-1}", &b, &e),
                 0);
    char *ta = canon(&a), *tb = canon(&b);
    CHECK_EQ_STR(ta, tb);
    free(ta);
    free(tb);
    /* -0 and 0 are the same value. */
    CHECK_EQ_INT(parse("{\"l2\": -0.0}", &a, &e), 0);
    CHECK_EQ_INT(parse("{\"l2\": 0}", &b, &e), 0);
    ta = canon(&a);
    tb = canon(&b);
    CHECK_EQ_STR(ta, tb);
    free(ta);
    free(tb);
    /* Different values: different text. */
    CHECK_EQ_INT(parse("{\"lr\": 0.1}", &a, &e), 0);
    CHECK_EQ_INT(parse("{\"lr\": 0.10000000000000002}", &b, &e), 0);
    ta = canon(&a);
    tb = canon(&b);
    CHECK(strcmp(ta, tb) != 0);
    /* The text reads back to the same double. */
    cJSON *j = cJSON_Parse(tb);
    CHECK(json_get(j, "lr") && json_get(j, "lr")->valuedouble == 0.10000000000000002);
    cJSON_Delete(j);
    free(ta);
    free(tb);
}

static void test_json_helpers(void)
{
    char buf[64];
    int64_t x;
    cJSON *n = cJSON_CreateNumber(1e3);
    CHECK(json_is_int(n, &x) && x == 1000);
    cJSON_SetNumberValue(n, 1.5);
    CHECK(!json_is_int(n, &x));
    cJSON_SetNumberValue(n, 9223372036854775808.0);
    CHECK(!json_is_int(n, NULL));
    cJSON_SetNumberValue(n, -9223372036854775808.0);
    CHECK(json_is_int(n, &x) && x == INT64_MIN);
    cJSON_Delete(n);
    cJSON *s = cJSON_CreateString("x");
    CHECK(!json_is_int(s, NULL));
    CHECK_EQ_STR(json_type_name(s), "a string");
    cJSON_Delete(s);
    CHECK_EQ_STR(json_type_name(NULL), "nothing");
    json_print_double(buf, sizeof buf, 0.1);
    CHECK_EQ_STR(buf, "0.1");
    json_print_double(buf, sizeof buf, 1.0 / 3);
    CHECK_EQ_STR(buf, "0.3333333333333333"); /* 16 digits round-trip here */
    CHECK(strtod(buf, NULL) == 1.0 / 3);
    json_print_double(buf, sizeof buf, 0.10000000000000002);
    CHECK(strtod(buf, NULL) == 0.10000000000000002);
    json_print_double(buf, sizeof buf, 1e20);
    CHECK(strtod(buf, NULL) == 1e20);
    json_print_double(buf, sizeof buf, 42);
    CHECK_EQ_STR(buf, "42");
    json_print_double(buf, sizeof buf, -0.0);
    CHECK_EQ_STR(buf, "0");
    json_print_double(buf, sizeof buf, NAN);
    CHECK_EQ_STR(buf, "null");
    json_print_double(buf, sizeof buf, -INFINITY);
    CHECK_EQ_STR(buf, "null");
    cJSON *d = json_double(INFINITY);
    CHECK(cJSON_IsNull(d));
    cJSON_Delete(d);
    cJSON *arr = cJSON_Parse("[1, \"a\", {\"k\": null}]");
    char *line = json_line(arr);
    CHECK_EQ_STR(line, "[1,\"a\",{\"k\":null}]");
    free(line);
    cJSON_Delete(arr);
    /* Escapes, nesting and exact numbers; the text parses back to equal values. */
    arr = cJSON_Parse("{\"s\": \"q\\\"b\\\\n\\n\\u0001\\u00e9\", \"n\": [0.1, 0.10000000000000002, "
                      "-2.5e-300, 1e300, true, false]}");
    CHECK(arr != NULL);
    line = json_line(arr);
    CHECK(line != NULL);
    cJSON *back = cJSON_Parse(line);
    CHECK(back != NULL);
    CHECK(cJSON_Compare(arr, back, true));
    CHECK(json_get(back, "n") &&
          cJSON_GetArrayItem(json_get(back, "n"), 1)->valuedouble == 0.10000000000000002);
    CHECK(strstr(line, "\\u0001") != NULL);
    free(line);
    cJSON_Delete(back);
    cJSON_Delete(arr);
    CHECK_EQ_INT(json_edit_distance("activaton", "activation"), 1);
    CHECK_EQ_INT(json_edit_distance("", "abc"), 3);
    CHECK_EQ_INT(json_edit_distance("kitten", "sitting"), 3);
}

/* Stored parameters are the canonical form; the worker reads them with
 * hparams_from_json.  Every configuration's canonical form must parse back to
 * itself, or a trial the grid accepted fails in the worker. */
static void test_round_trip(void)
{
    static const char *const cases[] = {
        "{}",
        "{\"iterations\": 50, \"eval_every\": 10}",
        "{\"iterations\": 50}",
        "{\"epochs\": 3, \"iterations\": null}",
        "{\"epochs\": null, \"iterations\": 9}",
        "{\"lr_schedule\": {\"kind\": \"step\", \"step_size\": 2, \"per\": \"iteration\"},"
        " \"iterations\": 40}",
        "{\"lr_schedule\": {\"kind\": \"cosine\"}, \"early_stop\": {\"patience\": 1}}",
        "{\"lr_schedule\": {\"kind\": \"exponential\", \"gamma\": 0.5}, \"train_size\": 10,"
        " \"max_seconds\": 2.5, \"split_seed\": -4, \"hidden\": []}",
        "{\"optimizer\": \"adam\", \"normalize\": \"minmax\", \"init\": \"gaussian\","
        " \"init_scale\": 0.3, \"save\": \"both\", \"train_eval\": \"full\", \"curve_test\": true}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hparams a, b;
        struct err e = ERR_INIT;
        CHECK_EQ_INT(parse(cases[i], &a, &e), 0);
        char *ca = canon(&a);
        cJSON *j = hparams_to_json(&a);
        int rc = hparams_from_json(&b, j, "params", &e);
        CHECK_EQ_INT(rc, 0);
        if (rc < 0)
            fprintf(stderr, "  case %s: %s: %s\n", cases[i], e.path, e.msg);
        char *cb = canon(&b);
        CHECK_EQ_STR(cb, ca);
        cJSON_Delete(j);
        free(ca);
        free(cb);
    }
}

/* Hidden widths are bounded, and so are the weights between hidden layers (issue 19):
 * [2147483647] was accepted and left a worker to fail allocating it. */
static void test_width_limits(void)
{
    struct hparams hp;
    struct err e = ERR_INIT;
    CHECK_EQ_INT(parse("{\"hidden\": [2147483647]}", &hp, &e), MLP_EINVALID_SPEC);
    CHECK(strstr(e.path, "hidden[0]") != NULL);
    CHECK_EQ_INT(parse("{\"hidden\": [65537]}", &hp, &e), MLP_EINVALID_SPEC);
    CHECK_EQ_INT(parse("{\"hidden\": [65536]}", &hp, &e), 0);
    CHECK_EQ_INT(parse("{\"hidden\": [65536, 65536]}", &hp, &e), MLP_EINVALID_SPEC);
    CHECK(strstr(e.msg, "ceiling") != NULL);
    CHECK_EQ_INT(parse("{\"hidden\": [16384, 16384]}", &hp, &e), 0);
}

int main(void)
{
    test_width_limits();
    test_round_trip();
    test_defaults();
    test_values();
    test_errors();
    test_training_keys();
    test_set_and_suggest();
    test_canonical();
    test_json_helpers();
    return check_report();
}
