/*
 * test_resp — the response layer shared by tables, plots and reports: field
 * access on missing objects and members, both number styles (terminal and
 * plot), the two configuration forms, times, and the error helpers (line,
 * exit code, --json document).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "cli.h"
#include "resp.h"

static void test_fields(void)
{
    cJSON *o = cJSON_Parse("{\"a\":1.5,\"s\":\"x\",\"z\":null,\"n\":\"2\"}");
    CHECK_NEAR(resp_num(o, "a"), 1.5, 0);
    CHECK(isnan(resp_num(o, "z")) && isnan(resp_num(o, "n")) && isnan(resp_num(o, "q")));
    CHECK(isnan(resp_num(NULL, "a")));
    CHECK_EQ_STR(resp_str(o, "s", "d"), "x");
    CHECK_EQ_STR(resp_str(o, "a", "d"), "d");
    CHECK_EQ_STR(resp_str(NULL, "s", "d"), "d");
    cJSON_Delete(o);

    struct resp_stat st;
    cJSON *s = cJSON_Parse("{\"n\":3,\"mean\":0.5,\"sd\":0.1,\"se\":0.05,\"ci_low\":0.3,"
                           "\"ci_high\":null}");
    resp_stat_get(s, &st);
    CHECK_EQ_INT(st.n, 3);
    CHECK_NEAR(st.se, 0.05, 0);
    CHECK_NEAR(st.ci_low, 0.3, 0);
    CHECK(isnan(st.ci_high));
    cJSON_Delete(s);
    s = cJSON_Parse("{\"n\":-4}");
    resp_stat_get(s, &st);
    CHECK_EQ_INT(st.n, 0);
    cJSON_Delete(s);

    cJSON *c = cJSON_Parse("{\"id\":7,\"grid\":{\"lr\":0.0001,\"hidden\":[256,128]}}");
    cJSON *bare = cJSON_CreateNumber(3);
    CHECK_EQ_INT(resp_config_id(c), 7);
    CHECK_EQ_INT(resp_config_id(bare), 3);
    CHECK_EQ_INT(resp_config_id(NULL), -1);
    CHECK(resp_config_grid(c) != NULL);
    CHECK(resp_config_grid(bare) == NULL);
    char buf[128];
    /* Terminal form: shortest numbers; plot form: compact JSON. */
    CHECK_EQ_STR(resp_fmt_config(buf, sizeof buf, resp_config_grid(c)), "lr=1e-4 hidden=[256,128]");
    char *label = resp_config_label(c);
    CHECK_EQ_STR(label, "lr=0.0001 hidden=[256,128]");
    free(label);
    label = resp_config_label(bare);
    CHECK_EQ_STR(label, "config 3");
    free(label);
    cJSON_Delete(c);
    cJSON_Delete(bare);
}

static void test_numbers(void)
{
    char b[64];
    struct resp_stat s = {.n = 10, .mean = 0.89123, .se = 0.00112};
    CHECK_EQ_STR(resp_fmt_num(b, sizeof b, NAN), "—");
    CHECK_EQ_STR(resp_fmt_stat(b, sizeof b, 0.89123, 0.00112), "0.8912 ± 0.0011");
    CHECK_EQ_STR(resp_fmt_stat(b, sizeof b, 0.5, 0.00001), "0.5000 ± 1.0e-05");
    CHECK_EQ_STR(resp_fmt_short(b, sizeof b, 123.456), "123.5");
    CHECK_EQ_STR(resp_fmt_short(b, sizeof b, INFINITY), "n/a");
    CHECK_EQ_STR(resp_fmt_se(b, sizeof b, 0.00002), "2.0e-05");
    CHECK_EQ_STR(resp_fmt_mean_se(b, sizeof b, &s), "0.8912 ± 0.0011 (n=10)");
    s.n = 1;
    CHECK_EQ_STR(resp_fmt_mean_se(b, sizeof b, &s), "0.8912 (n=1)");
    CHECK_EQ_STR(resp_fmt_int(b, sizeof b, 42), "42");
    CHECK_EQ_STR(resp_fmt_int(b, sizeof b, NAN), "—");
}

static void test_time(void)
{
    char b[64];
    CHECK_EQ_STR(resp_fmt_time(b, sizeof b, 86400 * 365, RESP_UTC), "1971-01-01 00:00:00 UTC");
    CHECK_EQ_STR(resp_fmt_time(b, sizeof b, 0, RESP_UTC), "—");
    CHECK_EQ_STR(resp_fmt_time(b, sizeof b, NAN, RESP_LOCAL), "—");
    CHECK_EQ_INT((int)strlen(resp_fmt_time(b, sizeof b, 1e9, RESP_LOCAL)), 19);
}

static char *error_text(const char *json, const char *prefix)
{
    cJSON *r = cJSON_Parse(json);
    struct resp_error e;
    resp_error_get(r, &e);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    resp_error_print(f, &e, prefix);
    fclose(f);
    cJSON_Delete(r);
    return buf;
}

static void test_errors(void)
{
    char *t = error_text("{\"ok\":false,\"error\":{\"code\":\"not_found\",\"message\":\"no "
                         "such sweep\",\"path\":\"sweep\"}}",
                         NULL);
    CHECK_EQ_STR(t, "mlpctl: sweep: no such sweep\n");
    free(t);
    /* A message that starts with its path is not prefixed twice. */
    t = error_text("{\"error\":{\"code\":\"invalid_grid\",\"message\":\"lr: must be > 0\","
                   "\"path\":\"lr\"}}",
                   "g.json");
    CHECK_EQ_STR(t, "g.json: lr: must be > 0\n");
    free(t);
    CHECK_EQ_INT(resp_error_exit("invalid_grid"), CLI_INVALID);
    CHECK_EQ_INT(resp_error_exit("not_found"), CLI_FAILED);
    CHECK_EQ_INT(resp_error_exit("no such code"), CLI_FAILED);

    cJSON *r = cJSON_Parse("{\"ok\":false}");
    struct resp_error e;
    resp_error_get(r, &e);
    CHECK_EQ_STR(e.code, "internal");
    CHECK(e.message != NULL && e.path == NULL);
    cJSON_Delete(r);

    cJSON *doc = resp_error_doc("busy", "try later", NULL);
    char *s = cJSON_PrintUnformatted(doc);
    CHECK_EQ_STR(s, "{\"error\":{\"code\":\"busy\",\"message\":\"try later\"}}");
    cJSON_free(s);
    cJSON_Delete(doc);
}

/* Plurals, the one p format and the significance sentence written from {t, df, p}. */
static void test_words(void)
{
    char b[256];
    CHECK_EQ_STR(resp_fmt_count(b, sizeof b, 1, "trial", NULL), "1 trial");
    CHECK_EQ_STR(resp_fmt_count(b, sizeof b, 2, "trial", NULL), "2 trials");
    CHECK_EQ_STR(resp_fmt_count(b, sizeof b, 0, "configuration", NULL), "0 configurations");
    CHECK_EQ_STR(resp_fmt_count(b, sizeof b, 1, "configuration", NULL), "1 configuration");
    CHECK_EQ_STR(resp_fmt_count(b, sizeof b, 3, "child", "children"), "3 children");

    struct resp_stat st;
    cJSON *o = cJSON_Parse("{\"n\":0,\"mean\":null,\"nonfinite\":3,\"clipped\":true}");
    resp_stat_get(o, &st);
    CHECK(st.clipped && st.nonfinite == 3);
    CHECK_EQ_STR(resp_fmt_stat_diverged(b, sizeof b, &st, 3), "diverged (3/3)");
    cJSON_Delete(o);
    o = cJSON_Parse("{\"n\":2,\"mean\":0.5,\"se\":0.01,\"nonfinite\":1}");
    resp_stat_get(o, &st);
    CHECK(!st.clipped);
    CHECK_EQ_STR(resp_fmt_stat_diverged(b, sizeof b, &st, 1), "0.5000 ± 0.0100, diverged (1/3)");
    CHECK_EQ_STR(resp_fmt_stat_diverged(b, sizeof b, &st, 0), "0.5000 ± 0.0100");
    cJSON_Delete(o);

    CHECK_EQ_STR(resp_fmt_p(b, sizeof b, 0.0234), "p = 0.023");
    CHECK_EQ_STR(resp_fmt_p(b, sizeof b, 0.5), "p = 0.500");
    CHECK_EQ_STR(resp_fmt_p(b, sizeof b, 0.001), "p = 0.001");
    CHECK_EQ_STR(resp_fmt_p(b, sizeof b, 0.00099), "p < 0.001");
    CHECK_EQ_STR(resp_fmt_p(b, sizeof b, 1e-12), "p < 0.001");
    CHECK_EQ_STR(resp_fmt_p(b, sizeof b, NAN), "p = —");

    resp_significance_sentence(b, sizeof b, "#1", "#2", 3.21, 7.93, 0.0123, RESP_ALPHA);
    CHECK_EQ_STR(b, "#1 is significantly better than #2 (Welch's t = 3.210, df = 7.9, p = 0.012)");
    resp_significance_sentence(b, sizeof b, "#1", "#2", 0.5, 4, 0.64, RESP_ALPHA);
    CHECK_EQ_STR(b, "#1 is not significantly better than #2 (Welch's t = 0.500, df = 4.0, "
                    "p = 0.640)");
    resp_significance_sentence(b, sizeof b, "#1", "#2", 9, 4, 0.0000001, RESP_ALPHA);
    CHECK(strstr(b, "significantly better") && strstr(b, "p < 0.001"));
    /* At exactly alpha the difference is not significant. */
    resp_significance_sentence(b, sizeof b, "A", "B", 2, 10, 0.05, RESP_ALPHA);
    CHECK(strstr(b, "A is not significantly better than B") != NULL);
    resp_significance_sentence(b, sizeof b, "A", "B", NAN, 10, NAN, RESP_ALPHA);
    CHECK(strstr(b, "cannot be compared") != NULL);
    /* No spread on either side (stats_welch: t NaN, p 1 for equal means; t inf, p 0). */
    resp_significance_sentence(b, sizeof b, "#1", "#2", NAN, NAN, 1, RESP_ALPHA);
    CHECK_EQ_STR(b, "#1 and #2 are identical on every seed");
    resp_significance_sentence(b, sizeof b, "#1", "#2", INFINITY, NAN, 0, RESP_ALPHA);
    CHECK(strstr(b, "#1 is better than #2 on every seed, by the same amount") != NULL);
}

/* The one interval cell and its footnote (best, show --by, compare, per-class). */
static void test_ci(void)
{
    char b[128];
    bool clipped = false;
    struct resp_stat s = {.n = 3, .mean = 0.9, .ci_low = 0.8, .ci_high = 1.0, .clipped = true};
    CHECK_EQ_STR(resp_fmt_ci(b, sizeof b, &s, 1, NULL, &clipped), "[0.8000, 1.0000] *");
    CHECK(clipped);
    s.clipped = false;
    clipped = false;
    CHECK_EQ_STR(resp_fmt_ci(b, sizeof b, &s, 1, NULL, &clipped), "[0.8000, 1.0000]");
    CHECK(!clipped);
    /* A configuration whose 3 seeds all diverged is not "n < 2". */
    struct resp_stat d = {.n = 0, .mean = NAN, .ci_low = NAN, .ci_high = NAN, .nonfinite = 3};
    CHECK_EQ_STR(resp_fmt_ci(b, sizeof b, &d, 1, NULL, NULL), "n/a (3/3 diverged)");
    d.n = 1;
    d.nonfinite = 2;
    CHECK_EQ_STR(resp_fmt_ci(b, sizeof b, &d, 1, NULL, NULL), "n/a (2/3 diverged)");
    d.nonfinite = 0;
    CHECK_EQ_STR(resp_fmt_ci(b, sizeof b, &d, 1, NULL, NULL), "n/a (n < 2)");
    CHECK_EQ_STR(resp_clip_footnote(b, sizeof b, "val_accuracy", 1),
                 "*: interval clipped to the range val_accuracy can take (0 to 1).");
    CHECK_EQ_STR(resp_clip_footnote(b, sizeof b, "val_loss", 1),
                 "*: interval clipped to the range val_loss can take (0 or more).");
    CHECK_EQ_STR(resp_clip_footnote(b, sizeof b, "a class's accuracy", 100),
                 "*: interval clipped to the range a class's accuracy can take (0 to 100 %).");
}

int main(void)
{
    test_words();
    test_ci();
    test_fields();
    test_numbers();
    test_time();
    test_errors();
    return check_report();
}
