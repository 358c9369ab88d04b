/*
 * test_prune — rungs of halving and median, the "prune" member's errors, and
 * decisions: the one-sided paired t-test against a closed form (Student's t
 * with 2 degrees of freedom has CDF 1/2 + t / (2·sqrt(t² + 2))), its
 * preconditions (min_configs, two shared seeds, the leader never stops), the
 * metric's direction, the pooled rule (the variance of the paired differences
 * pooled over the rung's configurations; Student's t with 4 degrees of freedom
 * against its closed form), and the rank rules (top ⌊n/η⌋, the median).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "../check.h"
#include "prune.h"

static struct prune parse_ok(const char *text)
{
    struct prune p;
    struct err e = ERR_INIT;
    cJSON *v = cJSON_Parse(text);
    CHECK_EQ_INT(prune_parse(v, &p, &e), 0);
    cJSON_Delete(v);
    return p;
}

static void parse_err(const char *text, const char *path)
{
    struct prune p;
    struct err e = ERR_INIT;
    cJSON *v = cJSON_Parse(text);
    CHECK_EQ_INT(prune_parse(v, &p, &e), MLP_EINVALID_GRID);
    CHECK_EQ_STR(e.path, path);
    cJSON_Delete(v);
}

static void test_parse_rungs(void)
{
    struct prune p = parse_ok("{\"kind\": \"halving\"}");
    CHECK_EQ_INT(p.min_epochs, 1);
    CHECK_EQ_INT(p.eta, 3);
    CHECK_EQ_INT(p.min_configs, 3);
    CHECK(p.alpha == 0.05 && p.rule == PRUNE_TTEST);
    int64_t rungs[] = {1, 3, 9, 27, 81}, not_rungs[] = {0, 2, 4, 8, 10, 26, 28};
    for (size_t i = 0; i < 5; i++)
        CHECK(prune_is_rung(&p, rungs[i]));
    for (size_t i = 0; i < 7; i++)
        CHECK(!prune_is_rung(&p, not_rungs[i]));
    p = parse_ok("{\"kind\": \"halving\", \"min_epochs\": 2, \"eta\": 2, \"rule\": \"rank\","
                 " \"min_configs\": 4, \"alpha\": 0.1}");
    CHECK(prune_is_rung(&p, 2) && prune_is_rung(&p, 4) && prune_is_rung(&p, 8));
    CHECK(!prune_is_rung(&p, 1) && !prune_is_rung(&p, 6));
    CHECK(p.rule == PRUNE_RANK && p.alpha == 0.1 && p.min_configs == 4);
    p = parse_ok("{\"kind\": \"median\", \"min_epochs\": 2}");
    CHECK(p.rule == PRUNE_RANK);
    CHECK(!prune_is_rung(&p, 1) && prune_is_rung(&p, 2) && prune_is_rung(&p, 7));
    parse_err("[]", "prune");
    parse_err("{}", "prune.kind");
    parse_err("{\"kind\": \"hyperband\"}", "prune.kind");
    parse_err("{\"kind\": \"halving\", \"eta\": 1}", "prune.eta");
    parse_err("{\"kind\": \"median\", \"eta\": 3}", "prune.eta");
    parse_err("{\"kind\": \"halving\", \"alpha\": 0}", "prune.alpha");
    parse_err("{\"kind\": \"halving\", \"min_configs\": 1}", "prune.min_configs");
    parse_err("{\"kind\": \"halving\", \"rule\": \"friedman\"}", "prune.rule");
    parse_err("{\"kind\": \"halving\", \"min_epoch\": 2}", "prune.min_epoch");
}

static void test_ttest(void)
{
    struct prune p = parse_ok("{\"kind\": \"halving\"}");
    struct prune_obs obs[] = {
        {1, 1, 0.90}, {1, 2, 0.91}, {1, 3, 0.92},  /* the leader */
        {2, 1, 0.50}, {2, 2, 0.52}, {2, 3, 0.49},  /* clearly worse */
        {3, 1, 0.89}, {3, 2, 0.92}, {3, 3, 0.915}, /* tied */
    };
    struct prune_verdict v;
    CHECK_EQ_INT(prune_decide(&p, true, obs, 9, 2, &v), 0);
    double d[3] = {0.40, 0.39, 0.43}, m = (d[0] + d[1] + d[2]) / 3, ss = 0;
    for (int i = 0; i < 3; i++)
        ss += (d[i] - m) * (d[i] - m);
    double t = m / (sqrt(ss / 2) / sqrt(3));
    CHECK_EQ_INT(v.leader, 1);
    CHECK_EQ_INT(v.n_configs, 3);
    CHECK_EQ_INT(v.n_shared, 3);
    CHECK_EQ_INT(v.rank, 3);
    CHECK_REL(v.t, t, 1e-9);
    CHECK_REL(v.p, 0.5 - t / (2 * sqrt(t * t + 2)), 1e-6);
    CHECK(v.stop);
    CHECK_EQ_INT(prune_decide(&p, true, obs, 9, 3, &v), 0);
    CHECK(!v.stop && v.p > 0.05);
    CHECK_EQ_INT(prune_decide(&p, true, obs, 9, 1, &v), 0);
    CHECK(!v.stop && v.rank == 1 && isnan(v.p)); /* the leader is never tested */
    /* Too few configurations at the rung. */
    CHECK_EQ_INT(prune_decide(&p, true, obs, 6, 2, &v), 0);
    CHECK(!v.stop && v.n_configs == 2);
    /* One shared seed: no test. */
    struct prune_obs one[] = {{1, 1, 0.9}, {1, 2, 0.9}, {2, 3, 0.1}, {2, 1, 0.1}, {3, 1, 0.5}};
    CHECK_EQ_INT(prune_decide(&p, true, one, 5, 2, &v), 0);
    CHECK(!v.stop && v.n_shared == 1);
    /* A minimised metric: the same numbers as losses make config 2 the leader. */
    CHECK_EQ_INT(prune_decide(&p, false, obs, 9, 1, &v), 0);
    CHECK_EQ_INT(v.leader, 2);
    CHECK(v.stop);
    /* Non-finite values are ignored (a diverged seed). */
    struct prune_obs nan[] = {{1, 1, 0.9}, {1, 2, 0.91}, {2, 1, NAN}, {2, 2, 0.5}, {3, 1, 0.6}};
    CHECK_EQ_INT(prune_decide(&p, true, nan, 5, 2, &v), 0);
    CHECK(!v.stop && v.n_shared == 1);
}

/* Student's t CDF with 4 degrees of freedom, closed form. */
static double t4_cdf(double t)
{
    double x = t / sqrt(4 + t * t);
    return 0.5 + 0.75 * x * (1 - x * x / 3);
}

static void test_pooled(void)
{
    struct prune p = parse_ok("{\"kind\": \"halving\", \"rule\": \"pooled\"}");
    CHECK(p.rule == PRUNE_POOLED);
    struct prune_obs obs[] = {
        {1, 1, 0.90}, {1, 2, 0.91}, {1, 3, 0.92},  /* the leader */
        {2, 1, 0.50}, {2, 2, 0.52}, {2, 3, 0.49},  /* clearly worse */
        {3, 1, 0.89}, {3, 2, 0.92}, {3, 3, 0.915}, /* tied */
    };
    /* Differences leader − c: config 2 {0.40, 0.39, 0.43}, config 3 {0.01, −0.01, 0.005}. */
    double d2[3] = {0.40, 0.39, 0.43}, d3[3] = {0.01, -0.01, 0.005}, m2 = 0, m3 = 0, ss = 0;
    for (int i = 0; i < 3; i++) {
        m2 += d2[i] / 3;
        m3 += d3[i] / 3;
    }
    for (int i = 0; i < 3; i++)
        ss += (d2[i] - m2) * (d2[i] - m2) + (d3[i] - m3) * (d3[i] - m3);
    double se = sqrt(ss / 4 / 3);
    struct prune_verdict v;
    CHECK_EQ_INT(prune_decide(&p, true, obs, 9, 2, &v), 0);
    CHECK_EQ_INT(v.leader, 1);
    CHECK_EQ_INT(v.n_shared, 3);
    CHECK_EQ_INT(v.n_pooled, 2);
    CHECK_REL(v.df, 4, 1e-12);
    CHECK_REL(v.t, m2 / se, 1e-9);
    CHECK_REL(v.p, 1 - t4_cdf(m2 / se), 1e-6);
    CHECK(v.stop);
    CHECK_EQ_INT(prune_decide(&p, true, obs, 9, 3, &v), 0);
    CHECK_REL(v.t, m3 / se, 1e-9);
    CHECK_REL(v.p, 1 - t4_cdf(m3 / se), 1e-6);
    CHECK(!v.stop);
    CHECK_EQ_INT(prune_decide(&p, true, obs, 9, 1, &v), 0);
    CHECK(!v.stop && isnan(v.p)); /* the leader is never tested */
    /* Pooling decides where the lone pair cannot: config 4 is worse by 0.097 on
     * average (0.10, 0.02, 0.17 on its seeds; its own t has df 2 and p > 0.05);
     * with the other configurations' small spread pooled in, it stops. */
    struct prune_obs more[15];
    memcpy(more, obs, sizeof obs);
    more[9] = (struct prune_obs){4, 1, 0.80};
    more[10] = (struct prune_obs){4, 2, 0.89};
    more[11] = (struct prune_obs){4, 3, 0.75};
    more[12] = (struct prune_obs){5, 1, 0.895};
    more[13] = (struct prune_obs){5, 2, 0.905};
    more[14] = (struct prune_obs){5, 3, 0.92};
    struct prune t = parse_ok("{\"kind\": \"halving\"}");
    CHECK_EQ_INT(prune_decide(&t, true, more, 15, 4, &v), 0);
    CHECK(!v.stop && v.p > 0.05);
    CHECK_EQ_INT(prune_decide(&p, true, more, 15, 4, &v), 0);
    CHECK(v.stop && v.df == 8 && v.n_pooled == 4);
    /* One shared seed: no test; a minimised metric flips the leader. */
    struct prune_obs one[] = {{1, 1, 0.9}, {1, 2, 0.9}, {2, 3, 0.1}, {2, 1, 0.1}, {3, 1, 0.5},
                              {3, 2, 0.4}};
    CHECK_EQ_INT(prune_decide(&p, true, one, 6, 2, &v), 0);
    CHECK(!v.stop && v.n_shared == 1);
    CHECK_EQ_INT(prune_decide(&p, false, obs, 9, 1, &v), 0);
    CHECK(v.leader == 2 && v.stop);
}

static void test_rank(void)
{
    struct prune h = parse_ok("{\"kind\": \"halving\", \"rule\": \"rank\"}");
    struct prune_obs obs[9];
    for (int i = 0; i < 9; i++)
        obs[i] = (struct prune_obs){.config = i + 1, .seed = 1, .v = (double)(9 - i)};
    struct prune_verdict v;
    for (int c = 1; c <= 9; c++) {
        CHECK_EQ_INT(prune_decide(&h, true, obs, 9, c, &v), 0);
        CHECK_EQ_INT(v.rank, c);
        CHECK_EQ_INT(v.stop, c > 3); /* top ⌊9/3⌋ = 3 go on */
    }
    struct prune med = parse_ok("{\"kind\": \"median\"}");
    for (int c = 1; c <= 4; c++) {
        CHECK_EQ_INT(prune_decide(&med, true, obs, 4, c, &v), 0);
        CHECK_EQ_INT(v.stop, c > 2); /* means 9 8 7 6: median 7.5 */
    }
    CHECK_EQ_INT(prune_decide(&med, false, obs, 4, 1, &v), 0);
    CHECK(v.stop); /* minimised: 9 is the worst */
}

int main(void)
{
    test_parse_rungs();
    test_ttest();
    test_pooled();
    test_rank();
    return check_report();
}
