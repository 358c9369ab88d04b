/* anova — see anova.h. */
#include "anova.h"

#include <math.h>
#include <stdlib.h>

#include "stats.h"

double anova_f_sf(double f, double d1, double d2)
{
    if (isnan(f) || !(d1 > 0) || !(d2 > 0))
        return NAN;
    if (f <= 0)
        return 1;
    if (isinf(f))
        return 0;
    /* P(F >= f) = I_{d2 / (d2 + d1 f)}(d2 / 2, d1 / 2). */
    return stats_betainc(d2 / 2, d1 / 2, d2 / (d2 + d1 * f));
}

static void term_test(struct anova_term *t, const struct anova_term *err)
{
    t->ms = t->df > 0 ? t->ss / t->df : NAN;
    if (err->df > 0 && err->ms > 0 && t->df > 0) {
        t->f = t->ms / err->ms;
        t->p = anova_f_sf(t->f, t->df, err->df);
    } else if (err->df > 0 && err->ms == 0 && t->df > 0) {
        t->f = t->ss > 0 ? INFINITY : NAN;
        t->p = t->ss > 0 ? 0 : 1;
    } else {
        t->f = t->p = NAN;
    }
}

int anova_main_effects(int nconf, int nkeys, const int *level, const int *nlevels, const int *n,
                       const double *mean, const double *var, struct anova_term *terms,
                       struct anova_result *res)
{
    if (nconf < 2)
        return -1;
    double grand = 0, inv = 0, ssw = 0, dfw = 0;
    for (int c = 0; c < nconf; c++) {
        grand += mean[c];
        inv += 1.0 / (n[c] > 0 ? n[c] : 1);
        if (n[c] >= 2 && isfinite(var[c])) {
            ssw += (n[c] - 1) * var[c];
            dfw += n[c] - 1;
        }
    }
    grand /= nconf;
    double nh = nconf / inv, ssm = 0;
    for (int c = 0; c < nconf; c++)
        ssm += (mean[c] - grand) * (mean[c] - grand);

    double ss_main = 0, df_main = 0;
    for (int j = 0; j < nkeys; j++) {
        double sum[nlevels[j] > 0 ? nlevels[j] : 1];
        int cnt[nlevels[j] > 0 ? nlevels[j] : 1];
        for (int l = 0; l < nlevels[j]; l++) {
            sum[l] = 0;
            cnt[l] = 0;
        }
        for (int c = 0; c < nconf; c++) {
            sum[level[c * nkeys + j]] += mean[c];
            cnt[level[c * nkeys + j]]++;
        }
        double ss = 0;
        for (int l = 0; l < nlevels[j]; l++)
            if (cnt[l] > 0)
                ss += cnt[l] * (sum[l] / cnt[l] - grand) * (sum[l] / cnt[l] - grand);
        terms[j] = (struct anova_term){.df = nlevels[j] - 1, .ss = nh * ss};
        ss_main += ss;
        df_main += nlevels[j] - 1;
    }
    res->configs = nconf;
    res->n_h = nh;
    res->inter = (struct anova_term){.df = nconf - 1 - df_main,
                                     .ss = nh * (ssm - ss_main > 0 ? ssm - ss_main : 0)};
    res->ss_total = nh * ssm + ssw;
    if (dfw > 0) {
        res->error_seeds = 1;
        res->error = (struct anova_term){.df = dfw, .ss = ssw, .ms = ssw / dfw};
        term_test(&res->inter, &res->error);
    } else {
        res->error_seeds = 0;
        res->error = res->inter;
        res->error.ms = res->error.df > 0 ? res->error.ss / res->error.df : NAN;
        res->inter.ms = res->error.ms;
        res->inter.f = res->inter.p = res->inter.omega2 = NAN;
    }
    const struct anova_term *err = &res->error;
    for (int j = 0; j < nkeys; j++) {
        term_test(&terms[j], err);
        double w = (terms[j].ss - terms[j].df * err->ms) / (res->ss_total + err->ms);
        terms[j].omega2 = isfinite(w) ? (w > 0 ? w : 0) : NAN;
    }
    if (res->error_seeds) {
        double w = (res->inter.ss - res->inter.df * err->ms) / (res->ss_total + err->ms);
        res->inter.omega2 = isfinite(w) ? (w > 0 ? w : 0) : NAN;
    }
    return 0;
}
