/*
 * prune — rungs and stopping decisions.  See prune.h.
 *
 * The t-test is the paired test of common/stats.c (differences leader − c,
 * or c − leader for a minimised metric, so a positive mean says c is worse)
 * made one-sided: p = P(T_{n−1} ≥ t).  Under the null hypothesis that c is
 * as good as the leader, a single decision stops c with probability at most
 * alpha; the leader is chosen by the same data, which makes the test somewhat
 * liberal (SPEC.md says so).
 */
#include "prune.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "stats.h"

static const char *const prune_keys[] = {"kind",  "min_epochs", "eta", "min_configs",
                                         "alpha", "rule",       NULL};

static int prune__bad(struct err *e, const char *path, const char *expected, const cJSON *v)
{
    char got[80];
    return err_set(e, MLP_EINVALID_GRID, path, "expected %s, got %s", expected,
                   json_brief(v, got, sizeof got));
}

static int prune__int(const cJSON *v, const char *path, int64_t min, int64_t max, int64_t *out,
                      struct err *e)
{
    int64_t n;
    if (!json_is_int(v, &n) || n < min || n > max) {
        char want[96];
        snprintf(want, sizeof want, "an integer in %lld..%lld", (long long)min, (long long)max);
        return prune__bad(e, path, want, v);
    }
    *out = n;
    return 0;
}

int prune_parse(const cJSON *v, struct prune *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    out->min_epochs = 1;
    out->eta = 3;
    out->min_configs = 3;
    out->alpha = 0.05;
    if (!cJSON_IsObject(v))
        return prune__bad(e, "prune", "an object {\"kind\": \"halving\"|\"median\", ...}", v);
    const cJSON *kind = json_get(v, "kind"), *rule = json_get(v, "rule"), *it;
    char path[128];
    int rc;
    if (!kind)
        return err_set(e, MLP_EINVALID_GRID, "prune.kind",
                       "missing key \"kind\" (\"halving\" or \"median\")");
    if (!cJSON_IsString(kind) ||
        (strcmp(kind->valuestring, "halving") != 0 && strcmp(kind->valuestring, "median") != 0))
        return prune__bad(e, "prune.kind", "\"halving\" or \"median\"", kind);
    out->kind = strcmp(kind->valuestring, "median") == 0 ? PRUNE_MEDIAN : PRUNE_HALVING;
    out->rule = out->kind == PRUNE_MEDIAN ? PRUNE_RANK : PRUNE_TTEST;
    cJSON_ArrayForEach(it, v)
    {
        snprintf(path, sizeof path, "prune.%.100s", it->string);
        for (const cJSON *p = v->child; p != it; p = p->next)
            if (strcmp(p->string, it->string) == 0)
                return err_set(e, MLP_EINVALID_GRID, path, "duplicate key");
        if (strcmp(it->string, "kind") == 0 || strcmp(it->string, "rule") == 0) {
            continue;
        } else if (strcmp(it->string, "min_epochs") == 0) {
            if ((rc = prune__int(it, path, 1, 1000000, &out->min_epochs, e)) < 0)
                return rc;
        } else if (strcmp(it->string, "eta") == 0) {
            if (out->kind == PRUNE_MEDIAN)
                return err_set(e, MLP_EINVALID_GRID, path,
                               "\"eta\" belongs to \"halving\" (median looks at every epoch)");
            if ((rc = prune__int(it, path, 2, 1000, &out->eta, e)) < 0)
                return rc;
        } else if (strcmp(it->string, "min_configs") == 0) {
            if ((rc = prune__int(it, path, 2, 1000000, &out->min_configs, e)) < 0)
                return rc;
        } else if (strcmp(it->string, "alpha") == 0) {
            if (!cJSON_IsNumber(it) || !(it->valuedouble > 0 && it->valuedouble <= 0.5))
                return prune__bad(e, path, "a number in (0, 0.5]", it);
            out->alpha = it->valuedouble;
        } else {
            const char *s = json_suggest(it->string, prune_keys);
            if (s)
                return err_set(e, MLP_EINVALID_GRID, path, "unknown key (did you mean \"%s\"?)", s);
            return err_set(e, MLP_EINVALID_GRID, path,
                           "unknown key (expected kind, min_epochs, eta, min_configs, alpha or "
                           "rule)");
        }
    }
    if (rule) {
        if (!cJSON_IsString(rule) ||
            (strcmp(rule->valuestring, "ttest") != 0 && strcmp(rule->valuestring, "rank") != 0 &&
             strcmp(rule->valuestring, "pooled") != 0))
            return prune__bad(e, "prune.rule", "\"ttest\", \"pooled\" or \"rank\"", rule);
        out->rule = strcmp(rule->valuestring, "rank") == 0     ? PRUNE_RANK
                    : strcmp(rule->valuestring, "pooled") == 0 ? PRUNE_POOLED
                                                               : PRUNE_TTEST;
    }
    return 0;
}

bool prune_is_rung(const struct prune *p, int64_t epoch)
{
    if (epoch < p->min_epochs)
        return false;
    if (p->kind == PRUNE_MEDIAN)
        return true;
    int64_t r = p->min_epochs;
    while (r < epoch && r <= INT64_MAX / p->eta)
        r *= p->eta;
    return r == epoch;
}

struct prune__cfg {
    int64_t config;
    double sum;
    int n;
    double mean;
};

static int prune__cmp_idx(const void *a, const void *b)
{
    const struct prune__cfg *x = a, *y = b;
    return (x->config > y->config) - (x->config < y->config);
}

/* Value of (config, seed) at the rung, NaN when absent. */
static double prune__value(const struct prune_obs *obs, size_t n, int64_t config, int64_t seed)
{
    for (size_t i = 0; i < n; i++)
        if (obs[i].config == config && obs[i].seed == seed && isfinite(obs[i].v))
            return obs[i].v;
    return NAN;
}

/* One-sided p = P(T_df >= t), with the infinite cases of a zero variance. */
static double prune__p(double t, double df)
{
    return isnan(t)            ? 1
           : t == INFINITY     ? 0
           : t == -INFINITY    ? 1
                               : 1 - stats_t_cdf(t, df);
}

struct prune__seedv {
    int64_t seed;
    double v;
};

static int prune__cmp_seed(const void *a, const void *b)
{
    const struct prune__seedv *x = a, *y = b;
    return (x->seed > y->seed) - (x->seed < y->seed);
}

/* Running mean and sum of squared deviations of one configuration's differences. */
struct prune__diff {
    int m;
    double mean, m2;
};

/*
 * The pooled rule: every configuration's differences from the leader over
 * their shared seeds (positive = worse than the leader), their variances
 * pooled (Σ sum of squares / Σ(m_k − 1)); c's mean difference tested with
 * that variance: t = mean / sqrt(s²/m), df = Σ(m_k − 1).  c sorted by config.
 */
static int prune__pooled(const struct prune *p, bool maximize, const struct prune_obs *obs,
                         size_t n, const struct prune__cfg *c, size_t nc, size_t lead,
                         size_t self, struct prune_verdict *out)
{
    struct prune__seedv *lv = malloc((n ? n : 1) * sizeof *lv);
    struct prune__diff *d = calloc(nc, sizeof *d);
    if (!lv || !d) {
        free(lv);
        free(d);
        return MLP_ENOMEM;
    }
    size_t nl = 0;
    for (size_t i = 0; i < n; i++)
        if (obs[i].config == c[lead].config && isfinite(obs[i].v))
            lv[nl++] = (struct prune__seedv){.seed = obs[i].seed, .v = obs[i].v};
    qsort(lv, nl, sizeof *lv, prune__cmp_seed);
    for (size_t i = 0; i < n; i++) {
        if (obs[i].config == c[lead].config || !isfinite(obs[i].v))
            continue;
        struct prune__cfg key = {.config = obs[i].config};
        const struct prune__cfg *k = bsearch(&key, c, nc, sizeof *c, prune__cmp_idx);
        struct prune__seedv sk = {.seed = obs[i].seed};
        const struct prune__seedv *l = bsearch(&sk, lv, nl, sizeof *lv, prune__cmp_seed);
        if (!k || !l)
            continue;
        struct prune__diff *dk = &d[k - c];
        double x = maximize ? l->v - obs[i].v : obs[i].v - l->v, delta = x - dk->mean;
        dk->m++;
        dk->mean += delta / dk->m;
        dk->m2 += delta * (x - dk->mean);
    }
    double ss = 0, df = 0;
    for (size_t k = 0; k < nc; k++)
        if (d[k].m >= 2) {
            ss += d[k].m2;
            df += d[k].m - 1;
            out->n_pooled++;
        }
    out->n_shared = d[self].m;
    if (d[self].m >= 2 && df >= 1) {
        double se = sqrt(ss / df / d[self].m), mean = d[self].mean;
        out->t = se > 0 ? mean / se : mean > 0 ? INFINITY : mean < 0 ? -INFINITY : NAN;
        out->df = df;
        out->p = prune__p(out->t, df);
        out->stop = out->p < p->alpha;
    }
    free(lv);
    free(d);
    return 0;
}

int prune_decide(const struct prune *p, bool maximize, const struct prune_obs *obs, size_t n,
                 int64_t config, struct prune_verdict *out)
{
    memset(out, 0, sizeof *out);
    out->t = out->df = out->p = NAN;
    struct prune__cfg *c = calloc(n ? n : 1, sizeof *c);
    if (!c)
        return MLP_ENOMEM;
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(obs[i].v))
            continue;
        size_t k = 0;
        while (k < nc && c[k].config != obs[i].config)
            k++;
        if (k == nc)
            c[nc++] = (struct prune__cfg){.config = obs[i].config};
        c[k].sum += obs[i].v;
        c[k].n++;
    }
    qsort(c, nc, sizeof *c, prune__cmp_idx);
    size_t self = nc;
    for (size_t k = 0; k < nc; k++) {
        c[k].mean = c[k].sum / c[k].n;
        if (c[k].config == config)
            self = k;
    }
    /* Leader: best mean, ties to the lower index; rank of c among all. */
    size_t lead = 0;
    for (size_t k = 1; k < nc; k++)
        if (maximize ? c[k].mean > c[lead].mean : c[k].mean < c[lead].mean)
            lead = k;
    out->n_configs = (int)nc;
    out->leader = nc ? c[lead].config : 0;
    if (self == nc) {
        free(c);
        return 0;
    }
    int rank = 1;
    for (size_t k = 0; k < nc; k++) {
        bool better = maximize ? c[k].mean > c[self].mean : c[k].mean < c[self].mean;
        if (better || (c[k].mean == c[self].mean && k < self))
            rank++;
    }
    out->rank = rank;
    if ((int64_t)nc < p->min_configs || lead == self) {
        free(c);
        return 0;
    }
    if (p->rule == PRUNE_RANK) {
        if (p->kind == PRUNE_HALVING) {
            int64_t keep = (int64_t)nc / p->eta;
            out->stop = rank > (keep > 0 ? keep : 1);
        } else {
            double *m = malloc(nc * sizeof *m);
            if (!m) {
                free(c);
                return MLP_ENOMEM;
            }
            for (size_t k = 0; k < nc; k++)
                m[k] = c[k].mean;
            for (size_t i = 1; i < nc; i++) /* insertion sort: rungs are small */
                for (size_t j = i; j > 0 && m[j - 1] > m[j]; j--) {
                    double t = m[j];
                    m[j] = m[j - 1];
                    m[j - 1] = t;
                }
            double med = nc % 2 ? m[nc / 2] : (m[nc / 2 - 1] + m[nc / 2]) / 2;
            free(m);
            out->stop = maximize ? c[self].mean < med : c[self].mean > med;
        }
        free(c);
        return 0;
    }
    if (p->rule == PRUNE_POOLED) {
        int rc = prune__pooled(p, maximize, obs, n, c, nc, lead, self, out);
        free(c);
        return rc;
    }
    /* Paired over the seeds both have at the rung. */
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        free(c);
        return MLP_ENOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (obs[i].config != config || !isfinite(obs[i].v))
            continue;
        double l = prune__value(obs, n, c[lead].config, obs[i].seed);
        if (!isfinite(l))
            continue;
        /* a − b > 0 when c is worse. */
        a[m] = maximize ? l : obs[i].v;
        b[m] = maximize ? obs[i].v : l;
        m++;
    }
    out->n_shared = (int)m;
    struct paired pt;
    if (m >= 2 && stats_paired(a, b, m, 0.95, &pt) == 0) {
        out->t = pt.t;
        out->df = pt.df;
        out->p = prune__p(pt.t, pt.df);
        out->stop = out->p < p->alpha;
    }
    free(a);
    free(b);
    free(c);
    return 0;
}
