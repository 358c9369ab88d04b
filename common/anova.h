/*
 * anova — importance of the keys of a full grid: a multi-way ANOVA (main
 * effects) on the configuration means, tested against the seed variance.
 *
 * The design is a complete factorial: every combination of the keys' levels
 * is one configuration, each with its seeds' values summarised as (n, mean,
 * sample variance).  On the configuration means m_c (N of them, grand mean
 * M), key j with L_j levels has SS_j = sum_l (N / L_j) (mean_l - M)^2 on
 * df_j = L_j - 1; what the main effects leave of sum_c (m_c - M)^2 is the
 * interactions' SS.  Seed-level sums are n_h times these, n_h the harmonic
 * mean of the seed counts (exact when every configuration has n seeds).
 * The error is the pooled within-configuration (seed) variance
 * MS_w = sum_c (n_c - 1) s_c^2 / sum_c (n_c - 1); without a second seed
 * anywhere, the interactions' mean square is the error instead.
 * F_j = (n_h SS_j / df_j) / MS_err, p = P(F(df_j, df_err) >= F_j) and
 * omega^2_j = (n_h SS_j - df_j MS_err) / (SS_total + MS_err), cut at 0.
 * No allocation beyond what the caller passes; no I/O.
 */
#ifndef MLP_ANOVA_H
#define MLP_ANOVA_H

#include <stddef.h>

/* P(F >= f) for an F(d1, d2) variable (regularised incomplete beta); NaN for bad input. */
double anova_f_sf(double f, double d1, double d2);

struct anova_term {
    double df, ss, ms; /* seed-level sum of squares and mean square */
    double f, p;       /* against the error; NaN when there is no error term */
    double omega2;     /* >= 0; NaN without an error term */
};

struct anova_result {
    int configs;       /* N */
    double n_h;        /* harmonic mean of the seed counts */
    int error_seeds;   /* 1: error = seed variance, 0: error = interactions */
    struct anova_term error;
    struct anova_term inter; /* interactions (all orders together) */
    double ss_total;   /* seed level: n_h * SS(means) + SS within */
};

/*
 * level[c * nkeys + j] (0 .. nlevels[j]-1) gives configuration c's level of
 * key j; n[c], mean[c], var[c] its seeds (var NaN when n[c] < 2).  The
 * design must be a complete factorial (prod nlevels == nconf, every
 * combination once): the caller checks.  terms[j] receives key j.
 * Returns 0, or -1 when nconf < 2.
 */
int anova_main_effects(int nconf, int nkeys, const int *level, const int *nlevels, const int *n,
                       const double *mean, const double *var, struct anova_term *terms,
                       struct anova_result *res);

#endif
