/*
 * test_race — racing on seeds: the "seeds": {"min","max"} member's errors,
 * and the decisions: under min seeds a configuration always runs on; a
 * clearly worse one stops ("separated", paired one-sided t-test against the
 * leader); a tied one runs on; the leader runs on only while another still
 * races ("alone" otherwise); max ends everything; the metric's direction.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "../check.h"
#include "race.h"

static void parse_err(const char *text, const char *path)
{
    struct race r;
    struct err e = ERR_INIT;
    cJSON *v = cJSON_Parse(text);
    CHECK_EQ_INT(race_parse(v, &r, &e), MLP_EINVALID_GRID);
    CHECK_EQ_STR(e.path, path);
    cJSON_Delete(v);
}

static void test_parse(void)
{
    struct race r;
    struct err e = ERR_INIT;
    cJSON *v = cJSON_Parse("{\"min\": 3, \"max\": 10}");
    CHECK_EQ_INT(race_parse(v, &r, &e), 0);
    CHECK_EQ_INT(r.min, 3);
    CHECK_EQ_INT(r.max, 10);
    cJSON_Delete(v);
    parse_err("[1, 2]", "seeds");
    parse_err("{\"max\": 3}", "seeds.min");
    parse_err("{\"min\": 3}", "seeds.max");
    parse_err("{\"min\": 0, \"max\": 3}", "seeds.min");
    parse_err("{\"min\": 4, \"max\": 3}", "seeds.max");
    parse_err("{\"min\": 2, \"max\": 3, \"step\": 1}", "seeds.step");
    parse_err("{\"min\": 2, \"min\": 2, \"max\": 3}", "seeds.min");
    parse_err("{\"min\": 2.5, \"max\": 3}", "seeds.min");
}

/* c1 best (mean .91), c2 clearly worse, c3 tied with c1 (differences
 * .01 -.01 .02: t = 1.15 on 2 df, p = .18). */
static const struct prune_obs obs3[] = {
    {1, 1, 0.90}, {1, 2, 0.91}, {1, 3, 0.92},
    {2, 1, 0.50}, {2, 2, 0.51}, {2, 3, 0.53},
    {3, 1, 0.89}, {3, 2, 0.92}, {3, 3, 0.90},
};

static void test_decide(void)
{
    struct race r = {.min = 3, .max = 10};
    struct race_verdict v;
    size_t n = sizeof obs3 / sizeof obs3[0];
    CHECK_EQ_INT(race_decide(&r, 0.05, true, obs3, n, 2, &v), 0);
    CHECK_EQ_INT(v.why, RACE_SEPARATED);
    CHECK(!v.more);
    CHECK_EQ_INT(v.seeds, 3);
    CHECK(v.test.p < 0.05);
    CHECK_EQ_INT(race_decide(&r, 0.05, true, obs3, n, 3, &v), 0);
    CHECK_EQ_INT(v.why, RACE_TIED);
    CHECK(v.more);
    CHECK(v.test.p > 0.05);
    CHECK_EQ_INT(race_decide(&r, 0.05, true, obs3, n, 1, &v), 0);
    CHECK_EQ_INT(v.why, RACE_LEADER);
    CHECK(v.more);
    CHECK_EQ_STR(race_why_name(v.why), "leader");
    /* Without the tied c3 the leader is alone. */
    CHECK_EQ_INT(race_decide(&r, 0.05, true, obs3, 6, 1, &v), 0);
    CHECK_EQ_INT(v.why, RACE_ALONE);
    CHECK(!v.more);
    /* Under min: runs on whatever the test says. */
    struct race r4 = {.min = 4, .max = 10};
    CHECK_EQ_INT(race_decide(&r4, 0.05, true, obs3, n, 2, &v), 0);
    CHECK_EQ_INT(v.why, RACE_MIN);
    CHECK(v.more);
    /* Max reached: stops, tied or not. */
    struct race r3 = {.min = 2, .max = 3};
    CHECK_EQ_INT(race_decide(&r3, 0.05, true, obs3, n, 3, &v), 0);
    CHECK_EQ_INT(v.why, RACE_MAX);
    CHECK(!v.more);
    /* A lower alpha keeps c2 separated (p ~ 1e-4) ... */
    CHECK_EQ_INT(race_decide(&r, 0.01, true, obs3, n, 2, &v), 0);
    CHECK_EQ_INT(v.why, RACE_SEPARATED);
    /* Minimised: c2 leads, c1 and c3 are separated from it; c2 alone. */
    CHECK_EQ_INT(race_decide(&r, 0.05, false, obs3, n, 2, &v), 0);
    CHECK_EQ_INT(v.why, RACE_ALONE);
    CHECK_EQ_INT(race_decide(&r, 0.05, false, obs3, n, 1, &v), 0);
    CHECK_EQ_INT(v.why, RACE_SEPARATED);
    /* Non-finite values do not count as seeds. */
    struct prune_obs o2[] = {{1, 1, 0.9}, {1, 2, NAN}, {2, 1, 0.5}};
    CHECK_EQ_INT(race_decide(&r, 0.05, true, o2, 3, 1, &v), 0);
    CHECK_EQ_INT(v.seeds, 1);
    CHECK_EQ_INT(v.why, RACE_MIN);
}

static void confirm_err(const char *text, const char *path)
{
    struct race_confirm c;
    struct err e = ERR_INIT;
    cJSON *v = cJSON_Parse(text);
    CHECK_EQ_INT(race_confirm_parse(v, &c, &e), MLP_EINVALID_GRID);
    CHECK_EQ_STR(e.path, path);
    cJSON_Delete(v);
}

static void test_confirm(void)
{
    struct race_confirm c;
    struct err e = ERR_INIT;
    cJSON *v = cJSON_Parse("{\"top\": 3, \"seeds\": 10}");
    CHECK_EQ_INT(race_confirm_parse(v, &c, &e), 0);
    CHECK_EQ_INT(c.top, 3);
    CHECK_EQ_INT(c.seeds, 10);
    cJSON_Delete(v);
    confirm_err("[3, 10]", "confirm");
    confirm_err("{\"seeds\": 10}", "confirm.top");
    confirm_err("{\"top\": 3}", "confirm.seeds");
    confirm_err("{\"top\": 3, \"seeds\": 0}", "confirm.seeds");
    confirm_err("{\"top\": 1001, \"seeds\": 2}", "confirm.top");
    confirm_err("{\"top\": 3, \"seeds\": 2, \"fresh\": true}", "confirm.fresh");
    confirm_err("{\"top\": 3, \"top\": 3, \"seeds\": 2}", "confirm.top");
    /* Fresh seeds: after the largest selection seed, never one of them. */
    CHECK_EQ_INT(race_confirm_seed(10, 0), 11);
    CHECK_EQ_INT(race_confirm_seed(10, 9), 20);
    CHECK_EQ_INT(race_confirm_seed(-3, 0), -2);
    /* Verdict names round-trip. */
    for (int w = RACE_MIN; w <= RACE_ALONE; w++) {
        enum race_why back;
        CHECK_EQ_INT(race_why_parse(race_why_name((enum race_why)w), &back), 0);
        CHECK_EQ_INT(back, w);
    }
    enum race_why back;
    CHECK_EQ_INT(race_why_parse("nope", &back), -1);
    CHECK_EQ_INT(race_why_parse(NULL, &back), -1);
}

int main(void)
{
    test_parse();
    test_decide();
    test_confirm();
    return check_report();
}
