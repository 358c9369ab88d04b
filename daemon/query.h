/*
 * query — the aggregation and ranking engine behind show, best and results.
 *
 * Pure: no store, no JSON, no clock.  The caller feeds the metric values of
 * every done trial of a sweep, ordered by configuration (the store streams
 * them that way, one index range), then groups them once; summaries use
 * common/stats.c (mean, sample sd, SE, 95% t interval; Welch for the best
 * configuration against the runner-up).
 *
 * Ranking: configurations whose values are all finite come first, then those
 * with some non-finite value (a diverged trial's NaN loss), then those with
 * no finite value; within a tier by mean in the metric's direction, ties by
 * configuration index.  Intervals of bounded metrics are clipped to the
 * metric's range (query_clip).  Functions returning int give 0 or MLP_ENOMEM.
 */
#ifndef MLP_QUERY_H
#define MLP_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metric.h"
#include "stats.h"

#define QUERY_LEVEL 0.95 /* confidence level of every interval */

/* Done trials' metric values grouped by configuration.  QUERY_ROWS_INIT, then
 * query_rows_add per row, query_rows_group once, query_rows_release. */
struct query_rows {
    size_t n, cap;
    double *v;    /* n * MLP_M_N values, row-major */
    int64_t *cfg; /* n config indices, non-decreasing */
    size_t n_groups;
    size_t *start; /* n_groups + 1 row offsets */
    int64_t *gidx; /* n_groups config indices */
    double *tmp;   /* n scratch values for summaries */
};
#define QUERY_ROWS_INIT                                                                            \
    {                                                                                              \
        0                                                                                          \
    }

/* Append one trial's values (MLP_M_N, NaN when absent); rows in config order. */
int query_rows_add(struct query_rows *q, int64_t config_idx, const double *v);
/* Build the groups after the last row. */
int query_rows_group(struct query_rows *q);
void query_rows_release(struct query_rows *q);

/* Group of configuration idx, or -1 when it has no done trial. */
long query_group(const struct query_rows *q, int64_t idx);
/* Rows of group g (0 for g < 0). */
size_t query_group_size(const struct query_rows *q, long g);
/*
 * Cut the interval of s to the range metric m can take: accuracies to
 * [0, 1], losses and mse to >= 0 (a t-interval of few seeds near a bound
 * crosses it).  Sets s->clipped when an end moved.  query_stat and
 * query_stat_groups apply it; for summaries built elsewhere.
 */
void query_clip(int m, struct stat_summary *s);

/* Summary of metric m over group g (g < 0: the empty summary), its interval clipped. */
void query_stat(struct query_rows *q, long g, int m, struct stat_summary *s);
/* Summary of metric m over every row of the groups[0..n) (negative ones skipped). */
void query_stat_groups(struct query_rows *q, const long *groups, size_t n, int m,
                       struct stat_summary *s);

/* Rows of group g whose flag metric m (e.g. MLP_M_DIVERGED) is set. */
size_t query_count_flag(const struct query_rows *q, long g, int m);

struct query_ranked {
    int64_t idx; /* configuration */
    long group;  /* its group in query_rows, -1 when built from moments */
    struct stat_summary s;
    int tier; /* 0 all finite, 1 some non-finite, 2 no finite value */
};

/* Whether a ranks before b when the metric is maximised (or minimised). */
bool query_better(const struct query_ranked *a, const struct query_ranked *b, bool maximize);

/*
 * Rank every configuration with at least min_seeds done trials by metric m,
 * best first.  *out is malloc'ed (caller frees; NULL when *n_out is 0).
 */
int query_rank(struct query_rows *q, int m, bool maximize, int min_seeds, struct query_ranked **out,
               size_t *n_out);

/* A ranked entry from SQL moments (rows, n finite values, their mean and sum of squares). */
void query_ranked_from_moments(int64_t idx, int64_t rows, int64_t n, double mean, double sumsq,
                               struct query_ranked *out);

/*
 * Welch's test of the best against the runner-up, when it means something:
 * at least two ranked, the best all finite, the runner-up with finite values,
 * both with n >= 2.  Returns true with *w filled, else false.
 */
bool query_compare(const struct query_ranked *r, size_t n, struct welch *w);

#endif
