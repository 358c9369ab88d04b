/*
 * stats — the statistics users see: mean, sample sd, standard error, the
 * two-sided Student t confidence interval, and Welch's unequal-variance t test.
 *
 * The t distribution goes through the regularised incomplete beta function
 * (Lentz continued fraction, as in Numerical Recipes §6.4), and the quantile is
 * found by safeguarded Newton/bisection on the CDF, so any df > 0 works,
 * non-integer included.  No globals, no allocation.
 */
#ifndef MLP_STATS_H
#define MLP_STATS_H

#include <stdbool.h>
#include <stddef.h>

struct stat_summary {
    int n;         /* finite values used */
    double mean;   /* NaN when n == 0 */
    double sd;     /* sample sd (n-1 denominator); NaN when n < 2 */
    double se;     /* sd / sqrt(n); NaN when n < 2 */
    double ci_low; /* mean -/+ t_{(1+level)/2, n-1} * se; NaN when n < 2 */
    double ci_high;
    int n_nonfinite; /* NaN / inf values excluded */
    bool clipped;    /* the interval was cut to the metric's range (query.c); false here */
};

/*
 * Summarise the finite values of x[0..n).  level is the two-sided confidence
 * level (0.95).  n==0 gives mean NaN; n==1 gives sd/se/ci NaN.  Returns 0.
 */
int stats_summarize(const double *x, size_t n, double level, struct stat_summary *s);

/*
 * The same summary from moments of the n finite values (their mean and sum of
 * squares, as SQL aggregates give them): sd from (sumsq - n mean^2) / (n-1),
 * clamped at 0 against rounding.  Cheaper and slightly less exact than
 * stats_summarize; for running summaries.  n_nonfinite is copied.  Returns 0.
 */
int stats_from_moments(int n, double mean, double sumsq, int n_nonfinite, double level,
                       struct stat_summary *s);

/* Student t CDF P(T <= t) for df > 0 (NaN for df <= 0 or NaN input). */
double stats_t_cdf(double t, double df);

/* Inverse of stats_t_cdf for p in (0,1); -inf/inf at 0/1, NaN outside. */
double stats_t_quantile(double p, double df);

/* Regularised incomplete beta I_x(a,b), a,b > 0, x in [0,1]; NaN otherwise. */
double stats_betainc(double a, double b, double x);

struct welch {
    double t;  /* (mean_a - mean_b) / sqrt(se_a^2 + se_b^2) */
    double df; /* Welch–Satterthwaite degrees of freedom */
    double p;  /* two-sided p-value */
};

/*
 * Welch's t test of two summaries.  Returns 0, or MLP_EINVALID_REQUEST when
 * either has n < 2.  When both variances are zero: t = ±inf and p = 0 if the
 * means differ, t = NaN and p = 1 if they are equal; df is NaN in both cases.
 */
int stats_welch(const struct stat_summary *a, const struct stat_summary *b, struct welch *w);

/*
 * The two-sided interval of mean_a - mean_b at `level` with Welch's df
 * (diff ± t_{(1+level)/2, df} · sqrt(se_a² + se_b²)), from a stats_welch result.
 * Both bounds are NaN when w->df is NaN (constant samples).
 */
void stats_welch_ci(const struct stat_summary *a, const struct stat_summary *b,
                    const struct welch *w, double level, double *lo, double *hi);

struct paired {
    int n;         /* pairs where both values are finite */
    double mean;   /* mean of d = a - b */
    double sd;     /* sample sd of d (n-1) */
    double se;     /* sd / sqrt(n) */
    double ci_low; /* mean -/+ t_{(1+level)/2, n-1} * se */
    double ci_high;
    double t;  /* mean / se */
    double df; /* n - 1 */
    double p;  /* two-sided p-value */
};

/*
 * Paired t test of a[i] against b[i], i < n (scipy.stats.ttest_rel): pairs
 * with a non-finite side are dropped.  Returns 0, or MLP_EINVALID_REQUEST when
 * fewer than two pairs remain (p->n says how many).  When every difference is
 * equal: t = ±inf and p = 0 if it is non-zero, t = NaN and p = 1 if zero.
 */
int stats_paired(const double *a, const double *b, size_t n, double level, struct paired *p);

#endif
