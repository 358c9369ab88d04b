/*
 * test_query — grouping, summaries and ranking of daemon/query.c.
 *
 * Reference values for the Welch comparison were computed independently with
 * SciPy 1.10.1 (/usr/bin/python3):
 *   from scipy import stats; import numpy as np
 *   a=[0.9,0.95,0.91,0.97]; b=[0.88,0.86,0.93]
 *   stats.ttest_ind(a,b,equal_var=False)   -> t 1.5992254762521187, p 0.18161122833090185
 *   np.std(a,ddof=1)/2                      -> 0.016520189667999157 (SE of a)
 *   Welch-Satterthwaite df                  -> 4.2015062700318015
 * and for the comparison of two configurations (test_cmp), seeds 1-4 against 2-5:
 *   stats.ttest_rel([.84,.79,.88],[.78,.80,.80])  -> t 1.5882027766319673, p 0.25316951349214606
 *   stats.ttest_ind([.81,.84,.79,.88],[.78,.80,.80,.83],equal_var=False)
 *                                                 -> t 1.2428519023052702, p 0.274196867033106
 */
#include <math.h>
#include <stdlib.h>

#include "../check.h"
#include "err.h"
#include "query.h"

/* Add one trial of config idx whose metric m is x (other metrics NaN, except
 * train_accuracy = x - 0.1 so siblings are distinguishable). */
static void add(struct query_rows *q, int64_t idx, int m, double x)
{
    double v[MLP_M_N];
    for (int i = 0; i < MLP_M_N; i++)
        v[i] = NAN;
    v[m] = x;
    v[MLP_M_TRAIN_ACCURACY] = x - 0.1;
    CHECK_EQ_INT(query_rows_add(q, idx, v), 0);
}

static void test_groups_and_stats(void)
{
    struct query_rows q = QUERY_ROWS_INIT;
    const double a[] = {0.9, 0.95, 0.91, 0.97};
    for (int i = 0; i < 4; i++)
        add(&q, 2, MLP_M_VAL_ACCURACY, a[i]);
    add(&q, 5, MLP_M_VAL_ACCURACY, 0.5);
    CHECK_EQ_INT(query_rows_group(&q), 0);
    CHECK_EQ_INT((long long)q.n_groups, 2);
    CHECK_EQ_INT(query_group(&q, 2), 0);
    CHECK_EQ_INT(query_group(&q, 5), 1);
    CHECK_EQ_INT(query_group(&q, 3), -1);
    CHECK_EQ_INT((long long)query_group_size(&q, 0), 4);
    CHECK_EQ_INT((long long)query_group_size(&q, -1), 0);

    struct stat_summary s;
    query_stat(&q, 0, MLP_M_VAL_ACCURACY, &s);
    CHECK_EQ_INT(s.n, 4);
    CHECK_REL(s.mean, 0.9325, 1e-12);
    CHECK_REL(s.se, 0.016520189667999157, 1e-9);
    CHECK(s.ci_low < s.mean && s.mean < s.ci_high);
    query_stat(&q, 0, MLP_M_TRAIN_ACCURACY, &s);
    CHECK_REL(s.mean, 0.8325, 1e-12);

    /* n = 1: a mean, no spread. */
    query_stat(&q, 1, MLP_M_VAL_ACCURACY, &s);
    CHECK_EQ_INT(s.n, 1);
    CHECK_REL(s.mean, 0.5, 1e-12);
    CHECK(isnan(s.sd) && isnan(s.se));

    /* An absent configuration summarises to nothing. */
    query_stat(&q, -1, MLP_M_VAL_ACCURACY, &s);
    CHECK_EQ_INT(s.n, 0);
    CHECK(isnan(s.mean));

    /* Pooling groups: every row of both. */
    long both[] = {0, 1, -1};
    query_stat_groups(&q, both, 3, MLP_M_VAL_ACCURACY, &s);
    CHECK_EQ_INT(s.n, 5);
    CHECK_REL(s.mean, (0.9 + 0.95 + 0.91 + 0.97 + 0.5) / 5, 1e-12);

    /* The running summary from SQL-style moments agrees with the exact one. */
    double sum = 0, sumsq = 0;
    for (int i = 0; i < 4; i++) {
        sum += a[i];
        sumsq += a[i] * a[i];
    }
    struct query_ranked r;
    query_ranked_from_moments(2, 5, 4, sum / 4, sumsq, &r);
    CHECK_EQ_INT(r.s.n, 4);
    CHECK_EQ_INT(r.s.n_nonfinite, 1);
    CHECK_EQ_INT(r.tier, 1);
    CHECK_REL(r.s.se, 0.016520189667999157, 1e-6);
    query_ranked_from_moments(3, 2, 0, NAN, NAN, &r);
    CHECK_EQ_INT(r.tier, 2);
    CHECK(isnan(r.s.mean));
    query_rows_release(&q);
}

/* Ranked configuration indices, best first, as a list. */
static size_t ranked_ids(struct query_rows *q, int m, bool maximize, int min_seeds, int64_t *ids)
{
    struct query_ranked *r;
    size_t n;
    CHECK_EQ_INT(query_rank(q, m, maximize, min_seeds, &r, &n), 0);
    for (size_t i = 0; i < n; i++)
        ids[i] = r[i].idx;
    free(r);
    return n;
}

static void test_ranking(void)
{
    struct query_rows q = QUERY_ROWS_INIT;
    int m = MLP_M_VAL_LOSS;
    add(&q, 1, m, 0.30); /* mean 0.30 */
    add(&q, 1, m, 0.30);
    add(&q, 2, m, 0.10); /* best finite mean, but one diverged trial: tier 1 */
    add(&q, 2, m, NAN);
    add(&q, 3, m, 0.20); /* mean 0.20 */
    add(&q, 3, m, 0.20);
    add(&q, 4, m, NAN);  /* no finite value: tier 2 */
    add(&q, 5, m, 0.20); /* ties config 3: the lower index first */
    add(&q, 5, m, 0.20);
    add(&q, 6, m, 0.25); /* one seed only */
    CHECK_EQ_INT(query_rows_group(&q), 0);

    int64_t ids[8];
    size_t n = ranked_ids(&q, m, false, 0, ids);
    CHECK_EQ_INT((long long)n, 6);
    const int64_t min_order[] = {3, 5, 6, 1, 2, 4};
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_INT(ids[i], min_order[i]);

    /* Maximising flips the finite tier only; non-finite tiers stay last. */
    n = ranked_ids(&q, m, true, 0, ids);
    const int64_t max_order[] = {1, 6, 3, 5, 2, 4};
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_INT(ids[i], max_order[i]);

    /* min_seeds counts every done trial, finite or not. */
    n = ranked_ids(&q, m, false, 2, ids);
    CHECK_EQ_INT((long long)n, 4);
    CHECK_EQ_INT(ids[0], 3);
    CHECK_EQ_INT(ids[3], 2);

    /* The winner and runner-up are tied with zero spread: Welch says p = 1. */
    struct query_ranked *r;
    CHECK_EQ_INT(query_rank(&q, m, false, 0, &r, &n), 0);
    struct welch w;
    CHECK(query_compare(r, n, &w));
    CHECK_REL(w.p, 1.0, 1e-12);
    /* n = 1 on either side: no comparison. */
    CHECK(!query_compare(r + 1, n - 1, &w)); /* 5 vs 6 (n = 1) */
    CHECK(!query_compare(r, 1, &w));
    /* A best with a diverged trial is not compared. */
    CHECK(!query_compare(r + 4, 2, &w));
    free(r);
    query_rows_release(&q);

    /* Empty: nothing ranked, no allocation. */
    struct query_rows e = QUERY_ROWS_INIT;
    CHECK_EQ_INT(query_rows_group(&e), 0);
    CHECK_EQ_INT(query_rank(&e, m, false, 0, &r, &n), 0);
    CHECK(r == NULL && n == 0);
    query_rows_release(&e);
}

static void test_welch(void)
{
    struct query_rows q = QUERY_ROWS_INIT;
    const double a[] = {0.9, 0.95, 0.91, 0.97}, b[] = {0.88, 0.86, 0.93};
    for (int i = 0; i < 3; i++)
        add(&q, 1, MLP_M_VAL_ACCURACY, b[i]);
    for (int i = 0; i < 4; i++)
        add(&q, 2, MLP_M_VAL_ACCURACY, a[i]);
    CHECK_EQ_INT(query_rows_group(&q), 0);
    struct query_ranked *r;
    size_t n;
    CHECK_EQ_INT(query_rank(&q, MLP_M_VAL_ACCURACY, true, 0, &r, &n), 0);
    CHECK_EQ_INT(r[0].idx, 2);
    CHECK_EQ_INT(r[0].group, 1);
    struct welch w;
    CHECK(query_compare(r, n, &w));
    CHECK_REL(w.t, 1.5992254762521187, 1e-9);
    CHECK_REL(w.df, 4.2015062700318015, 1e-9);
    CHECK_REL(w.p, 0.18161122833090185, 1e-6);
    free(r);
    query_rows_release(&q);
}

/* Intervals of bounded metrics stay in range; diverged seeds are counted. */
static void test_clip_and_flags(void)
{
    struct query_rows q = QUERY_ROWS_INIT;
    double acc[] = {0.99, 1.0, 0.93}; /* near 1: the t-interval crosses it */
    for (int i = 0; i < 3; i++)
        add(&q, 0, MLP_M_VAL_ACCURACY, acc[i]);
    double v[MLP_M_N];
    for (int m = 0; m < MLP_M_N; m++)
        v[m] = NAN;
    v[MLP_M_DIVERGED] = 1;
    CHECK_EQ_INT(query_rows_add(&q, 1, v), 0);
    CHECK_EQ_INT(query_rows_add(&q, 1, v), 0);
    v[MLP_M_DIVERGED] = 0;
    v[MLP_M_VAL_LOSS] = 0.01;
    CHECK_EQ_INT(query_rows_add(&q, 1, v), 0);
    CHECK_EQ_INT(query_rows_group(&q), 0);
    struct stat_summary s;
    query_stat(&q, 0, MLP_M_VAL_ACCURACY, &s);
    CHECK(s.clipped);
    CHECK_NEAR(s.ci_high, 1.0, 0);
    CHECK(s.ci_low < s.mean && s.ci_low > 0);
    /* Loss: only its lower end is bounded. */
    struct stat_summary l = {.n = 3, .mean = 0.02, .ci_low = -0.01, .ci_high = 5};
    query_clip(MLP_M_VAL_LOSS, &l);
    CHECK(l.clipped);
    CHECK_NEAR(l.ci_low, 0, 0);
    CHECK_NEAR(l.ci_high, 5, 0);
    struct stat_summary in = {.n = 3, .mean = 0.5, .ci_low = 0.4, .ci_high = 0.6};
    query_clip(MLP_M_VAL_ACCURACY, &in);
    CHECK(!in.clipped);
    struct stat_summary sec = {.n = 3, .mean = 1, .ci_low = -2, .ci_high = 4};
    query_clip(MLP_M_SECONDS, &sec);
    CHECK(!sec.clipped && sec.ci_low == -2);

    CHECK_EQ_INT((int)query_count_flag(&q, 1, MLP_M_DIVERGED), 2);
    CHECK_EQ_INT((int)query_count_flag(&q, 0, MLP_M_DIVERGED), 0);
    CHECK_EQ_INT((int)query_count_flag(&q, -1, MLP_M_DIVERGED), 0);
    query_rows_release(&q);
}

/* compare pairs by seed, not by position, and drops pairs with a non-finite side. */
static void test_cmp(void)
{
    const int64_t sa[] = {1, 2, 3, 4}, sb[] = {5, 4, 3, 2};
    const double a[] = {0.81, 0.84, 0.79, 0.88}, b[] = {0.83, 0.80, 0.80, 0.78};
    struct query_cmp c;
    CHECK_EQ_INT(query_cmp_run(sa, a, 4, sb, b, 4, &c), 0);
    CHECK_EQ_INT((long long)c.n_pairs, 3);
    CHECK_EQ_INT(c.seeds[0], 2);
    CHECK_EQ_INT(c.seeds[2], 4);
    CHECK(c.has_paired && c.has_welch);
    CHECK_EQ_INT(c.paired.n, 3);
    CHECK_REL(c.paired.mean, 0.0433333333333333, 1e-9);
    CHECK_REL(c.paired.sd, 0.047258156262526066, 1e-9);
    CHECK_REL(c.paired.t, 1.5882027766319673, 1e-9);
    CHECK_REL(c.paired.p, 0.25316951349214606, 1e-6);
    CHECK(c.paired.ci_low < 0 && c.paired.ci_high > c.paired.mean);
    CHECK_REL(c.welch.t, 1.2428519023052702, 1e-9);
    CHECK_REL(c.welch.p, 0.274196867033106, 1e-6);
    CHECK_REL(c.diff, 0.8300 - 0.8025, 1e-9);
    CHECK(c.ci_low < c.diff && c.diff < c.ci_high);
    query_cmp_release(&c);

    /* A NaN (diverged) value leaves its seed out of the pairs; one pair is no test. */
    const double an[] = {0.81, NAN, 0.79, 0.88};
    const int64_t sb2[] = {2, 3};
    const double b2[] = {0.8, 0.7};
    CHECK_EQ_INT(query_cmp_run(sa, an, 4, sb2, b2, 2, &c), 0);
    CHECK_EQ_INT((long long)c.n_pairs, 1);
    CHECK_EQ_INT(c.seeds[0], 3);
    CHECK(!c.has_paired);
    CHECK(c.has_welch); /* 3 finite values against 2 */
    CHECK_EQ_INT(c.a.n, 3);
    CHECK_EQ_INT(c.a.n_nonfinite, 1);
    query_cmp_release(&c);

    /* One value on a side: neither test. */
    CHECK_EQ_INT(query_cmp_run(sa, a, 1, sb, b, 4, &c), 0);
    CHECK(!c.has_paired && !c.has_welch && isnan(c.ci_low));
    CHECK_REL(c.diff, 0.81 - 0.8025, 1e-9);
    query_cmp_release(&c);
}

/* Counts and row-normalised rates summarised cell by cell over matrices. */
static void test_confusion(void)
{
    struct query_confusion q = QUERY_CONFUSION_INIT;
    const double m1[] = {8, 2, 1, 9}, m2[] = {6, 4, 3, 7}, m3[] = {5, 0, 0, 0};
    CHECK_EQ_INT(query_confusion_add(&q, 2, m1), 0);
    CHECK_EQ_INT(query_confusion_add(&q, 2, m2), 0);
    CHECK_EQ_INT(query_confusion_add(&q, 3, m1), MLP_EINVALID_REQUEST);
    struct stat_summary s;
    query_confusion_count(&q, 0, 1, &s);
    CHECK_EQ_INT(s.n, 2);
    CHECK_REL(s.mean, 3, 1e-12);
    CHECK_REL(s.se, 1, 1e-12); /* sd of {2, 4} is sqrt(2), over sqrt(2) */
    query_confusion_rate(&q, 1, 1, &s);
    CHECK_REL(s.mean, (0.9 + 0.7) / 2, 1e-12);
    CHECK_REL(s.se, 0.1, 1e-9);
    /* A matrix whose class 1 has no test row adds to class 0 only. */
    CHECK_EQ_INT(query_confusion_add(&q, 2, m3), 0);
    query_confusion_rate(&q, 1, 1, &s);
    CHECK_EQ_INT(s.n, 2);
    query_confusion_rate(&q, 0, 0, &s);
    CHECK_EQ_INT(s.n, 3);
    CHECK_REL(s.mean, (0.8 + 0.6 + 1.0) / 3, 1e-12);
    /* A rate is an accuracy: its interval is clipped like one and says so.
       0.8 + t(0.975, 2) * 0.2 / sqrt(3) = 0.8 + 4.3027 * 0.11547 = 1.297 > 1. */
    CHECK_NEAR(s.ci_high, 1, 0);
    CHECK_REL(s.ci_low, 0.8 - 4.302652729911275 * 0.2 / sqrt(3), 1e-9);
    CHECK(s.clipped);
    query_confusion_count(&q, 1, 0, &s);
    CHECK_EQ_INT(s.n, 3);
    query_confusion_count(&q, 2, 0, &s); /* outside the matrix: nothing */
    CHECK_EQ_INT(s.n, 0);
    query_confusion_release(&q);
}

int main(void)
{
    test_clip_and_flags();
    test_groups_and_stats();
    test_ranking();
    test_welch();
    test_cmp();
    test_confusion();
    return check_report();
}
