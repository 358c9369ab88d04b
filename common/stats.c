/*
 * stats — summaries, Student t and Welch.  See stats.h.
 *
 * The t CDF is P(T > t) = I_x(df/2, 1/2) / 2 with x = df/(df+t²).  Both x and
 * 1-x = t²/(df+t²) are formed directly (never as 1 - x) so that neither the
 * centre nor the tails lose digits to cancellation.  I_x(a,b) is evaluated by
 * the continued fraction of Numerical Recipes (betacf, modified Lentz) on the
 * side of the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) where it converges fast.
 * The quantile solves P(T > t) = min(p, 1-p) for t >= 0 by Newton steps kept
 * inside a bisection bracket (rtsafe), which works for any df > 0.
 */
#include "stats.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "err.h"

#define STATS_CF_MAX_ITER 20000
#define STATS_CF_EPS 1e-16
#define STATS_FPMIN 1e-300

/* Continued fraction for I_x(a,b) (NR betacf); converges fast for x < (a+1)/(a+b+2). */
static double stats__betacf(double a, double b, double x)
{
    double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0, d = 1.0 - qab * x / qap;
    if (fabs(d) < STATS_FPMIN)
        d = STATS_FPMIN;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= STATS_CF_MAX_ITER; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < STATS_FPMIN)
            d = STATS_FPMIN;
        c = 1.0 + aa / c;
        if (fabs(c) < STATS_FPMIN)
            c = STATS_FPMIN;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < STATS_FPMIN)
            d = STATS_FPMIN;
        c = 1.0 + aa / c;
        if (fabs(c) < STATS_FPMIN)
            c = STATS_FPMIN;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < STATS_CF_EPS)
            break;
    }
    return h;
}

/* I_x(a,b) with y = 1 - x supplied by the caller (exactly, where it matters). */
static double stats__beta_reg(double a, double b, double x, double y)
{
    if (!(a > 0) || !(b > 0) || isnan(x) || isnan(y) || x < 0 || x > 1)
        return NAN;
    if (x == 0)
        return 0;
    if (y == 0)
        return 1;
    double lfront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(y);
    if (x < (a + 1.0) / (a + b + 2.0))
        return exp(lfront) * stats__betacf(a, b, x) / a;
    return 1.0 - exp(lfront) * stats__betacf(b, a, y) / b;
}

double stats_betainc(double a, double b, double x)
{
    return stats__beta_reg(a, b, x, 1.0 - x);
}

/* P(T > t) for t >= 0. */
static double stats__t_upper(double t, double df)
{
    if (isinf(t))
        return 0;
    double t2 = t * t;
    double x = df / (df + t2), y = t2 / (df + t2);
    if (isinf(t2)) {
        x = 0;
        y = 1;
    }
    return 0.5 * stats__beta_reg(df / 2.0, 0.5, x, y);
}

double stats_t_cdf(double t, double df)
{
    if (isnan(t) || isnan(df) || !(df > 0))
        return NAN;
    double up = stats__t_upper(fabs(t), df);
    return t < 0 ? up : 1.0 - up;
}

static double stats__t_pdf(double t, double df)
{
    double lc = lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * log(df * M_PI);
    return exp(lc - (df + 1) / 2 * log1p(t * t / df));
}

double stats_t_quantile(double p, double df)
{
    if (isnan(p) || isnan(df) || !(df > 0) || p < 0 || p > 1)
        return NAN;
    if (p == 0)
        return -INFINITY;
    if (p == 1)
        return INFINITY;
    if (p == 0.5)
        return 0;
    double q = p < 0.5 ? p : 1.0 - p; /* the upper-tail probability to hit */
    double sign = p < 0.5 ? -1.0 : 1.0;
    /* Closed forms where they exist (exact and fast). */
    if (df == 1)
        return sign * (1.0 / tan(M_PI * q));
    if (df == 2)
        return sign * (1.0 - 2.0 * q) / sqrt(2.0 * q * (1.0 - q));
    /* Bracket [lo, hi] with upper(lo) >= q > upper(hi). */
    double lo = 0, hi = 1;
    while (stats__t_upper(hi, df) > q) {
        lo = hi;
        hi *= 2;
        if (isinf(hi))
            return sign * INFINITY;
    }
    double t = 0.5 * (lo + hi);
    for (int it = 0; it < 400; it++) {
        double f = stats__t_upper(t, df) - q; /* decreasing in t */
        if (f > 0)
            lo = t;
        else if (f < 0)
            hi = t;
        else
            break;
        double dens = stats__t_pdf(t, df);
        double next = dens > 0 ? t + f / dens : NAN; /* Newton on upper(t) - q */
        if (!(next > lo && next < hi))
            next = 0.5 * (lo + hi);
        if (fabs(next - t) <= 1e-15 * fabs(next) || hi - lo <= 1e-15 * hi) {
            t = next;
            break;
        }
        t = next;
    }
    return sign * t;
}

int stats_from_moments(int n, double mean, double sumsq, int n_nonfinite, double level,
                       struct stat_summary *s)
{
    s->n = n > 0 ? n : 0;
    s->n_nonfinite = n_nonfinite;
    s->clipped = false;
    s->mean = s->sd = s->se = s->ci_low = s->ci_high = NAN;
    if (s->n == 0)
        return 0;
    s->mean = mean;
    if (s->n < 2)
        return 0;
    /*
     * sumsq - n mean^2 cancels: for n equal values x it is 0 in exact
     * arithmetic but a few ulps of sumsq in floating point, which read as a
     * standard error of 1e-8 where every seed gave the same value.  A
     * difference within the rounding bound of the two terms ((n + 2) ulps of
     * sumsq) is taken as 0: the one rule by which an identical-seed summary
     * says 0, as stats_summarize does.
     */
    double ss = sumsq - (double)n * mean * mean;
    if (ss <= (double)(n + 2) * DBL_EPSILON * fabs(sumsq))
        ss = 0;
    double var = ss / (double)(n - 1);
    s->sd = sqrt(var);
    s->se = s->sd / sqrt((double)n);
    if (level > 0 && level < 1) {
        double tq = stats_t_quantile(0.5 + level / 2.0, n - 1);
        s->ci_low = mean - tq * s->se;
        s->ci_high = mean + tq * s->se;
    }
    return 0;
}

int stats_summarize(const double *x, size_t n, double level, struct stat_summary *s)
{
    s->n = 0;
    s->n_nonfinite = 0;
    s->clipped = false;
    s->mean = s->sd = s->se = s->ci_low = s->ci_high = NAN;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(x[i])) {
            s->n++;
            sum += x[i];
        } else {
            s->n_nonfinite++;
        }
    }
    if (s->n == 0)
        return 0;
    double mean = sum / s->n;
    /* Second pass: squared deviations, plus the rounding correction of the mean. */
    double ss = 0, corr = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            continue;
        double d = x[i] - mean;
        ss += d * d;
        corr += d;
    }
    mean += corr / s->n;
    s->mean = mean;
    if (s->n < 2)
        return 0;
    ss -= corr * corr / s->n;
    if (ss < 0)
        ss = 0;
    s->sd = sqrt(ss / (s->n - 1));
    s->se = s->sd / sqrt((double)s->n);
    if (level > 0 && level < 1) {
        double tq = stats_t_quantile(0.5 + level / 2.0, s->n - 1);
        s->ci_low = mean - tq * s->se;
        s->ci_high = mean + tq * s->se;
    }
    return 0;
}

int stats_welch(const struct stat_summary *a, const struct stat_summary *b, struct welch *w)
{
    w->t = w->df = w->p = NAN;
    if (a->n < 2 || b->n < 2)
        return MLP_EINVALID_REQUEST;
    double va = a->sd * a->sd / a->n, vb = b->sd * b->sd / b->n;
    double diff = a->mean - b->mean;
    double v = va + vb;
    if (v == 0) {
        /* Both samples constant: the difference is certain (p 0) or nil (p 1). */
        if (diff == 0) {
            w->t = NAN;
            w->p = 1;
        } else {
            w->t = diff > 0 ? INFINITY : -INFINITY;
            w->p = 0;
        }
        return 0;
    }
    w->t = diff / sqrt(v);
    w->df = v * v / (va * va / (a->n - 1) + vb * vb / (b->n - 1));
    w->p = 2.0 * stats__t_upper(fabs(w->t), w->df);
    if (w->p > 1)
        w->p = 1;
    return 0;
}

void stats_welch_ci(const struct stat_summary *a, const struct stat_summary *b,
                    const struct welch *w, double level, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (isnan(w->df) || a->n < 2 || b->n < 2 || !(level > 0 && level < 1))
        return;
    double diff = a->mean - b->mean;
    double half = stats_t_quantile(0.5 + level / 2.0, w->df) * sqrt(a->se * a->se + b->se * b->se);
    *lo = diff - half;
    *hi = diff + half;
}

int stats_paired(const double *a, const double *b, size_t n, double level, struct paired *p)
{
    p->n = 0;
    p->mean = p->sd = p->se = p->ci_low = p->ci_high = p->t = p->df = p->p = NAN;
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (!d)
        return MLP_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(a[i]) && isfinite(b[i]))
            d[k++] = a[i] - b[i];
    struct stat_summary s;
    stats_summarize(d, k, level, &s);
    free(d);
    p->n = s.n;
    p->mean = s.mean;
    if (s.n < 2)
        return MLP_EINVALID_REQUEST;
    p->sd = s.sd;
    p->se = s.se;
    p->ci_low = s.ci_low;
    p->ci_high = s.ci_high;
    p->df = s.n - 1;
    if (s.se == 0) {
        /* Every difference equal: certain (p 0) unless it is zero (p 1). */
        p->t = s.mean == 0 ? NAN : (s.mean > 0 ? INFINITY : -INFINITY);
        p->p = s.mean == 0 ? 1 : 0;
        return 0;
    }
    p->t = s.mean / s.se;
    p->p = 2.0 * stats__t_upper(fabs(p->t), p->df);
    if (p->p > 1)
        p->p = 1;
    return 0;
}
