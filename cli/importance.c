/*
 * importance — which key mattered: the analysis behind `mlpctl importance`
 * and `mlpctl plot --kind importance`.  It reads the sweep's per-trial results (the `results`
 * op with trials: no daemon op of its own), averages each configuration's
 * finished seeds, and then
 *   anova  (the default for grids): when the configurations form a complete
 *          factorial over the sweep's keys, the main-effects ANOVA of
 *          common/anova.h: per key its levels, df, F against the seed
 *          variance, p and omega^2, then the interactions;
 *   fanova (the default for random/Sobol searches, whose `search` member the
 *          results answer carries): functional ANOVA on a random forest
 *          (common/fanova.h) over the search space, log-scaled keys in log
 *          space, choices and grid keys categorical: per key its share of
 *          the forest's variance, the SD over trees and the rank.
 * Configurations with a pruned trial are left out (pruning keeps no final
 * value for them); so are configurations without a finite value.  An ANOVA
 * of a design that is not a complete factorial (a search, a union of grids,
 * a grid thinned by pruning) is refused with that reason.
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "importance.h"

#include "anova.h"
#include "cmd.h"
#include "fanova.h"
#include "search.h"
#include "metric.h"
#include "resp.h"

#include <stdarg.h>
#include <stdio.h>

static void imp_why(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void imp_why(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
}

/* A number, or null when not finite. */
static void imp_add_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

struct imp_conf {
    int id;
    bool pruned;
    int n;
    double sum, sumsq;
    const cJSON *row; /* a row of this configuration: its key values */
};

static int find_conf(struct imp_conf *c, int nc, int id)
{
    for (int i = 0; i < nc; i++)
        if (c[i].id == id)
            return i;
    return -1;
}

/* Level index of configuration value text t among key j's distinct texts (added when new). */
static int level_of(char ***texts, int *nlev, int j, char *t)
{
    for (int l = 0; l < nlev[j]; l++)
        if (strcmp(texts[j][l], t) == 0) {
            free(t);
            return l;
        }
    texts[j][nlev[j]] = t;
    return nlev[j]++;
}


/* How key j's values become coordinates of the forest's space. */
struct imp_axis {
    const char *scale; /* "linear", "log" or "categorical" */
    struct fanova_dim dim;
    const struct search_dim *sd; /* the search's dimension, or NULL for a grid key */
    char *texts[FANOVA_MAX_CATEGORIES]; /* categorical: the values' JSON texts */
};

/* Category of value text t on axis a, added when new; -1 when there are too many (t freed). */
static int axis_category(struct imp_axis *a, char *t)
{
    for (int c = 0; c < a->dim.n_categories; c++)
        if (strcmp(a->texts[c], t) == 0) {
            free(t);
            return c;
        }
    if (a->dim.n_categories == FANOVA_MAX_CATEGORIES) {
        free(t);
        return -1;
    }
    a->texts[a->dim.n_categories] = t;
    return a->dim.n_categories++;
}

/*
 * The keys (strings of keys) whose values are not the same in all nc
 * configurations: a grid key given one value is a constant, not a factor
 * (pruning that leaves a key one value is another matter: the ANOVA refuses
 * that).  All of them when nc < 2.  NULL on ENOMEM.
 */
static cJSON *factor_keys(const cJSON *keys, const struct imp_conf *cf, int nc)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *k;
    cJSON_ArrayForEach(k, keys)
    {
        if (!out || !cJSON_IsString(k))
            continue;
        bool varies = nc < 2;
        const cJSON *first = cJSON_GetObjectItemCaseSensitive(cf[0].row, k->valuestring);
        for (int i = 1; i < nc && !varies; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(cf[i].row, k->valuestring);
            varies = !v != !first || (v && !cJSON_Compare(first, v, true));
        }
        if (varies && !cJSON_AddItemToArray(out, cJSON_CreateString(k->valuestring))) {
            cJSON_Delete(out);
            out = NULL;
        }
    }
    return out;
}

/* The "out of memory" sentence; returns -1 for the caller to pass on. */
static int imp_oom(char *why, size_t whylen)
{
    imp_why(why, whylen, "out of memory");
    return -1;
}

/* The sentence for a key with more categories than the forest takes; returns -1. */
static int imp_many(char *why, size_t whylen)
{
    imp_why(why, whylen,
            "a key has more than %d distinct values: the forest takes at most %d "
            "categories per key",
            FANOVA_MAX_CATEGORIES, FANOVA_MAX_CATEGORIES);
    return -1;
}

/*
 * Axis a of key k: categorical for a grid key or a choice (a choice's
 * categories its values), else numeric over the search dimension's range,
 * log-scaled for log distributions.  srch is NULL for a grid.  0, or -1
 * with why.
 */
static int fanova_axis(struct imp_axis *a, const char *k, const struct search *srch, char *why,
                       size_t whylen)
{
    a->scale = "categorical";
    a->dim.kind = FANOVA_CATEGORICAL;
    for (size_t q = 0; srch && q < srch->n_dims; q++)
        if (k && strcmp(srch->dims[q].key, k) == 0)
            a->sd = &srch->dims[q];
    const struct search_dim *sd = a->sd;
    if (!sd || sd->dist == SD_CHOICE) {
        /* A choice's categories are its values, drawn or not; a grid key's the values seen. */
        for (size_t c = 0; sd && c < sd->n_choices; c++) {
            char *t = cJSON_PrintUnformatted(cJSON_GetArrayItem(sd->choices, (int)c));
            if (!t)
                return imp_oom(why, whylen);
            if (axis_category(a, t) < 0)
                return imp_many(why, whylen);
        }
        return 0;
    }
    a->dim.kind = FANOVA_NUMERIC;
    bool lg = sd->dist == SD_LOG_UNIFORM || sd->dist == SD_INT_LOG;
    a->scale = lg ? "log" : "linear";
    /* Integers own [v - 1/2, v + 1/2) (int_log: [v, v + 1) before the log, v + 1/2 inside). */
    switch (sd->dist) {
    case SD_UNIFORM:
        a->dim.lo = sd->lo, a->dim.hi = sd->hi;
        break;
    case SD_LOG_UNIFORM:
        a->dim.lo = log(sd->lo), a->dim.hi = log(sd->hi);
        break;
    case SD_INT:
        a->dim.lo = sd->lo - 0.5, a->dim.hi = sd->hi + 0.5;
        break;
    default: /* SD_INT_LOG */
        a->dim.lo = log(sd->lo), a->dim.hi = log(sd->hi + 1);
        break;
    }
    return 0;
}

/*
 * The forest's inputs: x[c * nkeys + j] the coordinate of configuration c
 * on axis j (categories added as seen, numeric axes widened to hold every
 * value), y[c] its mean.  0, or -1 with why.
 */
static int fanova_points(const cJSON *keys, int nkeys, struct imp_axis *ax,
                         const struct imp_conf *cf, int used, double *x, double *y, char *why,
                         size_t whylen)
{
    for (int c = 0; c < used; c++) {
        y[c] = cf[c].sum / cf[c].n;
        for (int j = 0; j < nkeys; j++) {
            const char *k = cJSON_GetArrayItem(keys, j)->valuestring;
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(cf[c].row, k);
            double *xv = &x[c * nkeys + j];
            if (ax[j].dim.kind == FANOVA_CATEGORICAL) {
                char *t = v ? cJSON_PrintUnformatted(v) : strdup("null");
                if (!t)
                    return imp_oom(why, whylen);
                int cat = axis_category(&ax[j], t);
                if (cat < 0)
                    return imp_many(why, whylen);
                *xv = cat;
                continue;
            }
            if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
                (strcmp(ax[j].scale, "log") == 0 && !(v->valuedouble > 0))) {
                imp_why(why, whylen,
                        "configuration %d: key \"%s\": expected a number in the "
                        "search space, got %s",
                        cf[c].id, k, v ? "another value" : "none");
                return -1;
            }
            double u = v->valuedouble;
            *xv = ax[j].sd->dist == SD_LOG_UNIFORM ? log(u)
                  : ax[j].sd->dist == SD_INT_LOG   ? log(u + 0.5)
                                                   : u;
            /* Drawn values lie inside; widen rather than fail if one does not. */
            if (*xv < ax[j].dim.lo)
                ax[j].dim.lo = *xv;
            if (*xv > ax[j].dim.hi)
                ax[j].dim.hi = *xv;
        }
    }
    return 0;
}

/* The fanova document's "keys": by importance, largest first, each with its axis's scale. */
static void fanova_keys_json(cJSON *doc, const cJSON *keys, int nkeys, const struct imp_axis *ax,
                             const struct fanova_key *fk, int *order)
{
    cJSON *ka = cJSON_AddArrayToObject(doc, "keys");
    for (int j = 0; j < nkeys; j++)
        order[j] = j;
    for (int a = 1; a < nkeys; a++)
        for (int b = a; b > 0 && fk[order[b]].importance > fk[order[b - 1]].importance; b--) {
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    for (int q = 0; q < nkeys; q++) {
        int j = order[q];
        cJSON *ko = cJSON_CreateObject();
        cJSON_AddItemToArray(ka, ko);
        cJSON_AddStringToObject(ko, "key", cJSON_GetArrayItem(keys, j)->valuestring);
        cJSON_AddNumberToObject(ko, "rank", q + 1);
        imp_add_num(ko, "importance", fk[j].importance);
        imp_add_num(ko, "sd", fk[j].sd);
        imp_add_num(ko, "fraction", fk[j].fraction);
        cJSON_AddStringToObject(ko, "scale", ax[j].scale);
        if (ax[j].dim.kind == FANOVA_CATEGORICAL)
            cJSON_AddNumberToObject(ko, "levels", ax[j].dim.n_categories);
    }
}

/*
 * The forest's part: x from the used configurations' key values, y their
 * means.  Returns CLI_OK with *docp, or CLI_FAILED with why.
 */
static int fanova_doc(const cJSON *resp, const cJSON *keys, const struct imp_conf *cf, int used,
                      int pruned, int nodata, const char *metric, const struct importance_opts *o,
                      cJSON **docp, char *why, size_t whylen)
{
    const cJSON *sweep = cJSON_GetObjectItemCaseSensitive(resp, "sweep");
    const cJSON *sj = cJSON_GetObjectItemCaseSensitive(resp, "search");
    int nkeys = cJSON_GetArraySize(keys), rc = CLI_FAILED;
    struct search srch;
    memset(&srch, 0, sizeof srch);
    bool have_search = false;
    struct imp_axis *ax = calloc((size_t)(nkeys ? nkeys : 1), sizeof *ax);
    struct fanova_dim *dims = calloc((size_t)(nkeys ? nkeys : 1), sizeof *dims);
    struct fanova_key *fk = calloc((size_t)(nkeys ? nkeys : 1), sizeof *fk);
    double *x = calloc((size_t)used * (size_t)(nkeys ? nkeys : 1), sizeof *x);
    double *y = calloc((size_t)used, sizeof *y);
    int *order = calloc((size_t)(nkeys ? nkeys : 1), sizeof *order);
    cJSON *doc = NULL;
    if (!ax || !dims || !fk || !x || !y || !order)
        goto oom;
    if (nkeys == 0) {
        imp_why(why, whylen, "the sweep has no key that varies: nothing to rank");
        goto out;
    }
    if (cJSON_IsObject(sj)) {
        struct err e = ERR_INIT;
        if (search_parse(sj, 1L << 40, &srch, &e) < 0) {
            imp_why(why, whylen, "the sweep's search space: %s%s%s", e.path, *e.path ? ": " : "",
                    e.msg);
            goto out;
        }
        have_search = true;
    }
    for (int j = 0; j < nkeys; j++)
        if (fanova_axis(&ax[j], cJSON_GetArrayItem(keys, j)->valuestring,
                        have_search ? &srch : NULL, why, whylen) < 0)
            goto out;
    if (fanova_points(keys, nkeys, ax, cf, used, x, y, why, whylen) < 0)
        goto out;
    for (int j = 0; j < nkeys; j++)
        dims[j] = ax[j].dim;
    struct fanova_result fr;
    struct err e = ERR_INIT;
    int frc = fanova_importance((size_t)used, (size_t)nkeys, x, y, dims, &o->fp, fk, &fr, &e);
    if (frc == MLP_ENOMEM)
        goto oom;
    if (frc < 0) {
        imp_why(why, whylen, "%s", e.msg);
        goto out;
    }
    if (fr.trees_used == 0) {
        imp_why(why, whylen, "%s is the same in all %d configurations: no key changed it", metric,
                used);
        goto out;
    }
    if (!(doc = cJSON_CreateObject()))
        goto oom;
    cJSON_AddItemToObject(doc, "sweep", cJSON_Duplicate(sweep, true));
    cJSON_AddStringToObject(doc, "metric", metric);
    cJSON_AddStringToObject(doc, "method", "fanova");
    cJSON_AddStringToObject(
        doc, "space", have_search ? (srch.kind == SEARCH_SOBOL ? "sobol" : "random") : "grid");
    cJSON_AddNumberToObject(doc, "configs", used);
    cJSON_AddNumberToObject(doc, "pruned", pruned);
    cJSON_AddNumberToObject(doc, "no_value", nodata);
    cJSON_AddNumberToObject(doc, "trees", o->fp.trees);
    cJSON_AddNumberToObject(doc, "seed", (double)o->fp.seed);
    cJSON_AddNumberToObject(doc, "trees_used", fr.trees_used);
    imp_add_num(doc, "main_effects", fr.main_effects);
    fanova_keys_json(doc, keys, nkeys, ax, fk, order);
    *docp = doc;
    doc = NULL;
    rc = CLI_OK;
    goto out;
oom:
    imp_oom(why, whylen);
out:
    for (int j = 0; ax && j < nkeys; j++)
        for (int c = 0; c < ax[j].dim.n_categories; c++)
            free(ax[j].texts[c]);
    free(ax);
    free(dims);
    free(fk);
    free(x);
    free(y);
    free(order);
    search_release(&srch);
    cJSON_Delete(doc);
    return rc;
}

/* The ANOVA's working arrays, over used configurations and nkeys keys. */
struct imp_anova {
    int nkeys;
    int *level;               /* [c * nkeys + j]: configuration c's level of key j */
    int *nlev;                /* [j]: key j's level count */
    char ***texts;            /* [j][l]: key j's level l as JSON text */
    int *n;                   /* [c]: finished seeds */
    double *mean;             /* [c] */
    double *var;              /* [c]: sample variance over seeds, NaN for one seed */
    struct anova_term *terms; /* [j]: key j's main effect */
    int *order;               /* keys by omega^2, largest first */
};

/* Frees what imp_anova_alloc allocated (partly or whole). */
static void imp_anova_free(struct imp_anova *a)
{
    for (int j = 0; a->texts && j < a->nkeys; j++) {
        for (int l = 0; a->texts[j] && l < a->nlev[j]; l++)
            free(a->texts[j][l]);
        free(a->texts[j]);
    }
    free(a->texts);
    free(a->level);
    free(a->nlev);
    free(a->n);
    free(a->mean);
    free(a->var);
    free(a->terms);
    free(a->order);
}

/* a's arrays, zeroed; false on ENOMEM (imp_anova_free frees the part made). */
static bool imp_anova_alloc(struct imp_anova *a, int used, int nkeys)
{
    size_t nk = (size_t)(nkeys ? nkeys : 1);
    *a = (struct imp_anova){.nkeys = nkeys};
    a->level = calloc((size_t)used * nk, sizeof *a->level);
    a->nlev = calloc(nk, sizeof *a->nlev);
    a->texts = calloc(nk, sizeof *a->texts);
    a->n = calloc((size_t)used, sizeof *a->n);
    a->mean = calloc((size_t)used, sizeof *a->mean);
    a->var = calloc((size_t)used, sizeof *a->var);
    a->terms = calloc(nk, sizeof *a->terms);
    a->order = calloc(nk, sizeof *a->order);
    if (!a->level || !a->nlev || !a->texts || !a->n || !a->mean || !a->var || !a->terms ||
        !a->order)
        return false;
    for (int j = 0; j < nkeys; j++)
        if (!(a->texts[j] = calloc((size_t)used, sizeof **a->texts)))
            return false;
    return true;
}

/* Each configuration's seed count, mean, variance and level of every key; false on ENOMEM. */
static bool imp_anova_cells(struct imp_anova *a, const cJSON *keys, const struct imp_conf *cf,
                            int used)
{
    int nkeys = a->nkeys;
    for (int c = 0; c < used; c++) {
        a->n[c] = cf[c].n;
        a->mean[c] = cf[c].sum / cf[c].n;
        a->var[c] =
            cf[c].n >= 2 ? (cf[c].sumsq - cf[c].n * a->mean[c] * a->mean[c]) / (cf[c].n - 1) : NAN;
        if (a->var[c] < 0)
            a->var[c] = 0;
        for (int j = 0; j < nkeys; j++) {
            const char *k = cJSON_GetArrayItem(keys, j)->valuestring;
            char *t = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(cf[c].row, k));
            if (!t)
                return false;
            a->level[c * nkeys + j] = level_of(a->texts, a->nlev, j, t);
        }
    }
    return true;
}

/*
 * The design is one the ANOVA can take: every key still varies and the
 * configurations are a complete grid over the keys.  0, or -1 with why.
 */
static int imp_anova_design(const struct imp_anova *a, const cJSON *keys, int used, int pruned,
                            char *why, size_t whylen)
{
    /* Every key must still vary: pruning can leave one value of a key (no F test). */
    for (int j = 0; j < a->nkeys; j++)
        if (a->nlev[j] < 2) {
            imp_why(why, whylen,
                    "key \"%s\" has a single value in the sweep's %d configuration(s)%s: "
                    "the ANOVA needs at least two values of every key",
                    cJSON_GetArrayItem(keys, j)->valuestring, used,
                    pruned ? " left after pruning" : "");
            return -1;
        }
    /* A complete factorial: the product of the level counts is the configuration count. */
    double cells = 1;
    for (int j = 0; j < a->nkeys; j++)
        cells *= a->nlev[j];
    if (a->nkeys == 0 || cells != used) {
        imp_why(why, whylen,
                "the sweep's %d configuration(s)%s are not a complete grid over its keys "
                "(%.0f combinations): the ANOVA needs every combination (--method fanova "
                "fits a model instead)",
                used, pruned ? " left after pruning" : "", cells);
        return -1;
    }
    return 0;
}

/* The ANOVA document's "keys": by omega^2, largest first (NaN last), with levels, df, F, p. */
static void anova_keys_json(cJSON *doc, const cJSON *keys, struct imp_anova *a)
{
    int nkeys = a->nkeys, *order = a->order;
    const struct anova_term *terms = a->terms;
    cJSON *ka = cJSON_AddArrayToObject(doc, "keys");
    /* Keys by omega^2, largest first. */
    for (int j = 0; j < nkeys; j++)
        order[j] = j;
    for (int q = 1; q < nkeys; q++)
        for (int b = q; b > 0; b--) {
            double x = terms[order[b]].omega2, y = terms[order[b - 1]].omega2;
            if (!(x > y) && !(isnan(y) && !isnan(x)))
                break;
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    for (int q = 0; q < nkeys; q++) {
        int j = order[q];
        const struct anova_term *t = &terms[j];
        cJSON *ko = cJSON_CreateObject();
        cJSON_AddItemToArray(ka, ko);
        cJSON_AddStringToObject(ko, "key", cJSON_GetArrayItem(keys, j)->valuestring);
        cJSON_AddNumberToObject(ko, "rank", q + 1);
        cJSON_AddNumberToObject(ko, "levels", a->nlev[j]);
        cJSON_AddNumberToObject(ko, "df", t->df);
        cJSON_AddNumberToObject(ko, "ss", t->ss);
        imp_add_num(ko, "f", t->f);
        imp_add_num(ko, "p", t->p);
        imp_add_num(ko, "omega2", t->omega2);
    }
}

/*
 * The ANOVA's part: the main effects of a complete grid of the used
 * configurations.  Returns CLI_OK with *docp, or CLI_FAILED with why.
 */
static int anova_doc(const cJSON *resp, const cJSON *keys, const struct imp_conf *cf, int used,
                     int pruned, int nodata, const char *metric, cJSON **docp, char *why,
                     size_t whylen)
{
    const cJSON *sweep = cJSON_GetObjectItemCaseSensitive(resp, "sweep");
    const cJSON *sj = cJSON_GetObjectItemCaseSensitive(resp, "search");
    int nkeys = cJSON_GetArraySize(keys), rc = CLI_FAILED;
    struct imp_anova a = {0};
    cJSON *doc = NULL;
    if (cJSON_IsObject(sj)) {
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(sj, "kind");
        imp_why(why, whylen,
                "--method anova needs a complete grid of the keys' values, and this sweep "
                "draws its configurations from a %s search: use --method fanova (its default)",
                cJSON_IsString(kind) ? kind->valuestring : "random");
        return CLI_FAILED;
    }
    if (!imp_anova_alloc(&a, used, nkeys) || !imp_anova_cells(&a, keys, cf, used))
        goto oom;
    if (imp_anova_design(&a, keys, used, pruned, why, whylen) < 0)
        goto out;
    struct anova_result res;
    anova_main_effects(used, nkeys, a.level, a.nlev, a.n, a.mean, a.var, a.terms, &res);

    if (!(doc = cJSON_CreateObject()))
        goto oom;
    cJSON_AddItemToObject(doc, "sweep", cJSON_Duplicate(sweep, true));
    cJSON_AddStringToObject(doc, "metric", metric);
    cJSON_AddStringToObject(doc, "method", "anova");
    cJSON_AddNumberToObject(doc, "configs", used);
    cJSON_AddNumberToObject(doc, "pruned", pruned);
    cJSON_AddNumberToObject(doc, "no_value", nodata);
    cJSON_AddNumberToObject(doc, "seeds", res.n_h);
    cJSON_AddStringToObject(doc, "error_term", res.error_seeds ? "seeds" : "interactions");
    anova_keys_json(doc, keys, &a);
    cJSON *in = cJSON_AddObjectToObject(doc, "interactions");
    cJSON_AddNumberToObject(in, "df", res.inter.df);
    cJSON_AddNumberToObject(in, "ss", res.inter.ss);
    imp_add_num(in, "f", res.error_seeds ? res.inter.f : NAN);
    imp_add_num(in, "p", res.error_seeds ? res.inter.p : NAN);
    imp_add_num(in, "omega2", res.inter.omega2);
    cJSON *er = cJSON_AddObjectToObject(doc, "error");
    cJSON_AddNumberToObject(er, "df", res.error.df);
    cJSON_AddNumberToObject(er, "ss", res.error.ss);
    imp_add_num(er, "ms", res.error.ms);
    *docp = doc;
    doc = NULL;
    rc = CLI_OK;
    goto out;
oom:
    imp_oom(why, whylen);
out:
    imp_anova_free(&a);
    cJSON_Delete(doc);
    return rc;
}

bool importance_config_row(const cJSON *row, const char *metric, struct importance_agg *a)
{
    char key[96];
    snprintf(key, sizeof key, "%s_mean", metric);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(row, key);
    if (!m || cJSON_GetObjectItemCaseSensitive(row, "trial"))
        return false;
    snprintf(key, sizeof key, "%s_sd", metric);
    double n = resp_num(row, "n"), done = resp_num(row, "seeds_done"), dv = resp_num(row, "diverged");
    double rung = resp_num(row, "pruned");
    *a = (struct importance_agg){
        .n = isfinite(n) && n > 0 ? (int)n : 0,
        .mean = cJSON_IsNumber(m) ? m->valuedouble : NAN,
        .sd = resp_num(row, key),
        .diverged = isfinite(dv) && dv > 0 ? (int)dv : 0,
        .pruned = isfinite(rung) && rung >= 1 && rung < 1e9 ? (int)rung : 0,
    };
    a->done = isfinite(done) && done > 0 ? (int)done : a->n;
    if (!isfinite(a->mean))
        a->n = 0;
    return true;
}

/*
 * Each configuration of the rows (confirmation trials left out) into cf[0..*nc):
 * pruned or not, and the sum and sum of squares of its finished trials' finite
 * metric values.  Returns whether any row has the metric (true with no rows).
 */
static bool imp_collect(const cJSON *rows, const char *metric, struct imp_conf *cf, int *nc)
{
    bool seen_metric = cJSON_GetArraySize(rows) == 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, rows)
    {
        /* A confirmation trial (fresh seeds after the search) is not part of selection. */
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "confirm")))
            continue;
        int id = (int)resp_num(r, "config");
        struct importance_agg a;
        if (importance_config_row(r, metric, &a)) { /* a configuration's aggregates */
            seen_metric = true;
            double sd = a.n >= 2 && isfinite(a.sd) ? a.sd : 0;
            cf[(*nc)++] = (struct imp_conf){.id = id, .row = r, .pruned = a.pruned > 0, .n = a.n,
                                            .sum = a.n * a.mean,
                                            .sumsq = a.n ? (a.n - 1) * sd * sd + a.n * a.mean * a.mean : 0};
            continue;
        }
        int i = find_conf(cf, *nc, id);
        if (i < 0) {
            i = (*nc)++;
            cf[i] = (struct imp_conf){.id = id, .row = r};
        }
        const char *st = resp_str(r, "state", "");
        if (strcmp(st, "pruned") == 0)
            cf[i].pruned = true;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, metric);
        if (v)
            seen_metric = true;
        if (strcmp(st, "done") == 0 && cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
            cf[i].n++;
            cf[i].sum += v->valuedouble;
            cf[i].sumsq += v->valuedouble * v->valuedouble;
        }
    }
    return seen_metric;
}

/*
 * The analysis as a JSON document, or NULL with why set.  Returns the exit
 * code: CLI_OK, CLI_USAGE (a metric the rows do not have), CLI_FAILED.
 */
int importance_analyse(const cJSON *resp, const struct importance_opts *o, cJSON **docp, char *why,
                       size_t whylen)
{
    const char *metric = o->metric;
    const cJSON *sweep = cJSON_GetObjectItemCaseSensitive(resp, "sweep");
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(resp, "keys");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(resp, "rows");
    cJSON *factors = NULL;
    if (!metric)
        metric = resp_str(sweep, "metric", "val_accuracy");
    int nrows = cJSON_GetArraySize(rows);
    struct imp_conf *cf = calloc((size_t)(nrows ? nrows : 1), sizeof *cf);
    int nc = 0, rc = CLI_FAILED, pruned = 0, nodata = 0, used = 0;
    if (!cf)
        goto oom;
    bool seen_metric = imp_collect(rows, metric, cf, &nc);
    if (!seen_metric || strncmp(metric, "test_", 5) == 0 ||
        (!strstr(metric, "accuracy") && !strstr(metric, "loss") && !strstr(metric, "mse"))) {
        imp_why(why, whylen,
                "--metric: expected a train/validation metric of the sweep's "
                "trials (val_accuracy, val_loss, train_accuracy, ...), got \"%s\"",
                metric);
        rc = CLI_USAGE;
        goto out;
    }
    if (!(factors = factor_keys(keys, cf, nc)))
        goto oom;
    keys = factors;
    /* Keep configurations with a value and not pruned, at the front. */
    for (int i = 0; i < nc; i++) {
        if (cf[i].pruned)
            pruned++;
        else if (cf[i].n == 0)
            nodata++;
        else
            cf[used++] = cf[i];
    }
    if (used < 2) {
        imp_why(why, whylen,
                "sweep has %d configuration(s) with a finished %s (%d pruned): "
                "nothing to compare yet",
                used, metric, pruned);
        goto out;
    }
    const cJSON *sj = cJSON_GetObjectItemCaseSensitive(resp, "search");
    enum importance_method method = o->method;
    if (method == IMPORTANCE_DEFAULT)
        method = cJSON_IsObject(sj) ? IMPORTANCE_FANOVA : IMPORTANCE_ANOVA;
    if (method == IMPORTANCE_ANOVA && o->forest_opts) {
        imp_why(why, whylen, "--trees and --seed apply to --method fanova only");
        rc = CLI_USAGE;
        goto out;
    }
    if (method == IMPORTANCE_FANOVA)
        rc = fanova_doc(resp, keys, cf, used, pruned, nodata, metric, o, docp, why, whylen);
    else
        rc = anova_doc(resp, keys, cf, used, pruned, nodata, metric, docp, why, whylen);
    goto out;
oom:
    imp_oom(why, whylen);
    rc = CLI_FAILED;
out:
    free(cf);
    cJSON_Delete(factors);
    return rc;
}

bool importance_method_parse(const char *s, enum importance_method *m)
{
    if (strcmp(s, "anova") == 0)
        *m = IMPORTANCE_ANOVA;
    else if (strcmp(s, "fanova") == 0)
        *m = IMPORTANCE_FANOVA;
    else
        return false;
    return true;
}
