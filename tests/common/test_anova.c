/* test_anova — the F tail against its t relation, and a 2x2 grid worked by hand. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "anova.h"
#include "../check.h"
#include "stats.h"

int main(int argc, char **argv)
{
    /* With an argument: print anova_f_sf for "f d1 d2" lines on stdin (tests/common/anova_scipy.py). */
    if (argc > 1 && strcmp(argv[1], "--sf") == 0) {
        double f, d1, d2;
        while (scanf("%lf %lf %lf", &f, &d1, &d2) == 3)
            printf("%.17g\n", anova_f_sf(f, d1, d2));
        return 0;
    }
    /* F(1, d) = T(d)^2: P(F >= t^2) = 2 P(T >= t). */
    for (double t = 0.25; t < 6; t += 0.5) {
        double want = 2 * (1 - stats_t_cdf(t, 7));
        CHECK(fabs(anova_f_sf(t * t, 1, 7) - want) < 1e-12);
    }
    CHECK(anova_f_sf(0, 3, 4) == 1);
    CHECK(anova_f_sf(INFINITY, 3, 4) == 0);
    CHECK(isnan(anova_f_sf(1, 0, 4)));

    /* Keys A (levels 0,0,1,1) and B (0,1,0,1); means 1 1 3 3, two seeds each, variance 0.5. */
    int level[] = {0, 0, 0, 1, 1, 0, 1, 1}, nlev[] = {2, 2}, n[] = {2, 2, 2, 2};
    double mean[] = {1, 1, 3, 3}, var[] = {0.5, 0.5, 0.5, 0.5};
    struct anova_term t[2];
    struct anova_result r;
    CHECK(anova_main_effects(4, 2, level, nlev, n, mean, var, t, &r) == 0);
    CHECK(r.error_seeds == 1);
    CHECK(fabs(r.error.df - 4) < 1e-12 && fabs(r.error.ms - 0.5) < 1e-12);
    CHECK(fabs(t[0].ss - 8) < 1e-12 && fabs(t[0].f - 16) < 1e-12);
    CHECK(fabs(t[0].p - anova_f_sf(16, 1, 4)) < 1e-15);
    CHECK(fabs(t[0].omega2 - 7.5 / 10.5) < 1e-12);
    CHECK(fabs(t[1].ss) < 1e-12 && t[1].omega2 == 0 && fabs(t[1].p - 1) < 1e-12);
    CHECK(fabs(r.inter.df - 1) < 1e-12 && fabs(r.inter.ss) < 1e-12);
    /* One seed each: the interactions are the error (here df 1). */
    int n1[] = {1, 1, 1, 1};
    double m2[] = {1, 2, 3, 3};
    CHECK(anova_main_effects(4, 2, level, nlev, n1, m2, var, t, &r) == 0);
    CHECK(r.error_seeds == 0 && fabs(r.error.df - 1) < 1e-12);
    return check_report();
}
