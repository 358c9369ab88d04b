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
 *
 * Two more pure pieces serve single configurations: the comparison of two
 * configurations over their seeds (paired t-test on the seeds both ran, and
 * Welch's test on all their values), and the confusion matrices of a
 * configuration's trials summarised cell by cell over seeds.
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

/* A ranked entry from SQL moments (rows, n finite values, their mean and sum of squares):
 * n, mean, sd, se and tier, no interval (the sweep summary's best is found among every
 * configuration on each answer, and a t quantile per configuration was most of its cost). */
void query_ranked_from_moments(int64_t idx, int64_t rows, int64_t n, double mean, double sumsq,
                               struct query_ranked *out);

/*
 * Welch's test of the best against the runner-up, when it means something:
 * at least two ranked, the best all finite, the runner-up with finite values,
 * both with n >= 2.  Returns true with *w filled, else false.
 */
bool query_compare(const struct query_ranked *r, size_t n, struct welch *w);

/*
 * compare: configuration a against b on one metric, diff = a - b.  The pairs
 * are the seeds both configurations finished with a finite value, in the
 * order of a's values; the paired test needs two of them, Welch's test two
 * finite values on each side.
 */
struct query_cmp {
    struct stat_summary a, b; /* every value of each side */
    size_t n_pairs;
    int64_t *seeds;         /* n_pairs shared seeds (malloc'ed; query_cmp_release) */
    bool has_paired;        /* n_pairs >= 2 */
    struct paired paired;   /* of a[seed] - b[seed] */
    bool has_welch;         /* both sides n >= 2 */
    struct welch welch;     /* t, df, p */
    double diff;            /* mean_a - mean_b (NaN when a side has no finite value) */
    double ci_low, ci_high; /* Welch interval of diff (NaN without has_welch) */
};

/*
 * Compare values a[0..na) (seed_a: the seed of each) with b[0..nb) at
 * QUERY_LEVEL.  0 with *out filled, or MLP_ENOMEM; release with
 * query_cmp_release either way.
 */
int query_cmp_run(const int64_t *seed_a, const double *a, size_t na, const int64_t *seed_b,
                  const double *b, size_t nb, struct query_cmp *out);
void query_cmp_release(struct query_cmp *c);

/*
 * Confusion matrices of one configuration's trials (k x k counts, rows = true
 * class), QUERY_CONFUSION_INIT, then query_confusion_add per trial.
 */
struct query_confusion {
    int k;          /* classes, fixed by the first matrix */
    size_t n, cap;  /* matrices added */
    double *counts; /* n * k * k, row-major per matrix */
    double *tmp;    /* cap scratch values */
};
#define QUERY_CONFUSION_INIT                                                                       \
    {                                                                                              \
        0                                                                                          \
    }

/*
 * Add one k x k matrix m (row-major).  0, MLP_ENOMEM, or MLP_EINVALID_REQUEST
 * when k differs from the matrices already added (k < 1 too).
 */
int query_confusion_add(struct query_confusion *q, int k, const double *m);
void query_confusion_release(struct query_confusion *q);
/* Summary over matrices of cell (t, p) as a count. */
void query_confusion_count(struct query_confusion *q, int t, int p, struct stat_summary *s);
/*
 * Summary over matrices of cell (t, p) as a rate: the count over its row's
 * total in that matrix (matrices where class t has no test row are left
 * out).  Cell (c, c) is the accuracy of class c.  The interval is clipped to
 * [0, 1] like an accuracy's (clipped set when it was).
 */
void query_confusion_rate(struct query_confusion *q, int t, int p, struct stat_summary *s);

#endif
