/*
 * cmd_importance — `mlpctl importance SWEEP [--metric M]`: which grid key
 * mattered.  It reads the sweep's per-trial results (the `results` op with
 * trials: no daemon op of its own), averages each configuration's finished
 * seeds, and when the configurations form a complete factorial over the
 * sweep's keys runs the main-effects ANOVA of common/anova.h: per key its
 * levels, df, F against the seed variance, p and omega^2, then the
 * interactions.  Configurations with a pruned trial are left out (pruning
 * keeps no final value for them); so are configurations without a finite
 * value.  Designs that are not a complete factorial (random/Sobol search,
 * a union of grids, a grid thinned by pruning) are refused with that reason.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "anova.h"
#include "cmd.h"
#include "metric.h"
#include "resp.h"

#include <stdarg.h>

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

/*
 * The analysis as a JSON document, or NULL with why set.  Returns the exit
 * code: CLI_OK, CLI_USAGE (a metric the rows do not have), CLI_FAILED.
 */
static int importance_doc(const cJSON *resp, const char *metric, cJSON **docp, char *why,
                          size_t whylen)
{
    const cJSON *sweep = cJSON_GetObjectItemCaseSensitive(resp, "sweep");
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(resp, "keys");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(resp, "rows");
    if (!metric)
        metric = resp_str(sweep, "metric", "val_accuracy");
    int nrows = cJSON_GetArraySize(rows), nkeys = cJSON_GetArraySize(keys);
    struct imp_conf *cf = calloc((size_t)(nrows ? nrows : 1), sizeof *cf);
    int nc = 0, rc = CLI_FAILED, pruned = 0, nodata = 0, used = 0;
    int *level = NULL, *nlev = NULL, *n = NULL, *order = NULL;
    double *mean = NULL, *var = NULL;
    char ***texts = NULL;
    struct anova_term *terms = NULL;
    cJSON *doc = NULL;
    if (!cf)
        goto oom;
    bool seen_metric = nrows == 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, rows)
    {
        /* A confirmation trial (fresh seeds after the search) is not part of selection. */
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "confirm")))
            continue;
        int id = (int)resp_num(r, "config");
        int i = find_conf(cf, nc, id);
        if (i < 0) {
            i = nc++;
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
    if (!seen_metric || strncmp(metric, "test_", 5) == 0 ||
        (!strstr(metric, "accuracy") && !strstr(metric, "loss") && !strstr(metric, "mse"))) {
        imp_why(why, whylen, "--metric: expected a train/validation metric of the sweep's "
                               "trials (val_accuracy, val_loss, train_accuracy, ...), got \"%s\"",
                  metric);
        rc = CLI_USAGE;
        goto out;
    }
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
        imp_why(why, whylen, "sweep has %d configuration(s) with a finished %s (%d pruned): "
                               "nothing to compare yet", used, metric, pruned);
        goto out;
    }
    level = calloc((size_t)used * (size_t)(nkeys ? nkeys : 1), sizeof *level);
    nlev = calloc((size_t)(nkeys ? nkeys : 1), sizeof *nlev);
    texts = calloc((size_t)(nkeys ? nkeys : 1), sizeof *texts);
    n = calloc((size_t)used, sizeof *n);
    mean = calloc((size_t)used, sizeof *mean);
    var = calloc((size_t)used, sizeof *var);
    terms = calloc((size_t)(nkeys ? nkeys : 1), sizeof *terms);
    order = calloc((size_t)(nkeys ? nkeys : 1), sizeof *order);
    if (!level || !nlev || !texts || !n || !mean || !var || !terms || !order)
        goto oom;
    for (int j = 0; j < nkeys; j++)
        if (!(texts[j] = calloc((size_t)used, sizeof **texts)))
            goto oom;
    for (int c = 0; c < used; c++) {
        n[c] = cf[c].n;
        mean[c] = cf[c].sum / cf[c].n;
        var[c] = cf[c].n >= 2 ? (cf[c].sumsq - cf[c].n * mean[c] * mean[c]) / (cf[c].n - 1) : NAN;
        if (var[c] < 0)
            var[c] = 0;
        for (int j = 0; j < nkeys; j++) {
            const char *k = cJSON_GetArrayItem(keys, j)->valuestring;
            char *t = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(cf[c].row, k));
            if (!t)
                goto oom;
            level[c * nkeys + j] = level_of(texts, nlev, j, t);
        }
    }
    /* Every key must still vary: pruning can leave one value of a key (no F test). */
    for (int j = 0; j < nkeys; j++)
        if (nlev[j] < 2) {
            imp_why(why, whylen,
                    "key \"%s\" has a single value in the sweep's %d configuration(s)%s: "
                    "the ANOVA needs at least two values of every key",
                    cJSON_GetArrayItem(keys, j)->valuestring, used,
                    pruned ? " left after pruning" : "");
            goto out;
        }
    /* A complete factorial: the product of the level counts is the configuration count. */
    double cells = 1;
    for (int j = 0; j < nkeys; j++)
        cells *= nlev[j];
    if (nkeys == 0 || cells != used) {
        imp_why(why, whylen,
                  "the sweep's %d configuration(s)%s are not a complete grid over its keys "
                  "(%.0f combinations): the ANOVA needs every combination; random/Sobol "
                  "searches are not analysed yet",
                  used, pruned ? " left after pruning" : "", cells);
        goto out;
    }
    struct anova_result res;
    anova_main_effects(used, nkeys, level, nlev, n, mean, var, terms, &res);

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
    cJSON *ka = cJSON_AddArrayToObject(doc, "keys");
    /* Keys by omega^2, largest first. */
    for (int j = 0; j < nkeys; j++)
        order[j] = j;
    for (int a = 1; a < nkeys; a++)
        for (int b = a; b > 0; b--) {
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
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(ka, o);
        cJSON_AddStringToObject(o, "key", cJSON_GetArrayItem(keys, j)->valuestring);
        cJSON_AddNumberToObject(o, "rank", q + 1);
        cJSON_AddNumberToObject(o, "levels", nlev[j]);
        cJSON_AddNumberToObject(o, "df", t->df);
        cJSON_AddNumberToObject(o, "ss", t->ss);
        imp_add_num(o, "f", t->f);
        imp_add_num(o, "p", t->p);
        imp_add_num(o, "omega2", t->omega2);
    }
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
    imp_why(why, whylen, "out of memory");
    rc = CLI_FAILED;
out:
    for (int j = 0; texts && j < nkeys; j++) {
        for (int l = 0; texts[j] && l < nlev[j]; l++)
            free(texts[j][l]);
        free(texts[j]);
    }
    free(texts);
    free(level);
    free(nlev);
    free(n);
    free(mean);
    free(var);
    free(terms);
    free(order);
    free(cf);
    cJSON_Delete(doc);
    return rc;
}

static void print_human(const cJSON *doc)
{
    char title[300], pb[32];
    printf("%s: importance of each key for %s (ANOVA of the configuration means)\n\n",
           cmd_sweep_title(title, sizeof title, cJSON_GetObjectItemCaseSensitive(doc, "sweep")),
           resp_str(doc, "metric", ""));
    printf("RANK  %-16s %6s %4s %10s %9s %8s\n", "KEY", "LEVELS", "DF", "F", "p", "OMEGA2");
    const cJSON *k;
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(doc, "keys"))
    {
        double p = resp_num(k, "p");
        printf("%4.0f  %-16s %6.0f %4.0f %10.3g %9s %8.3f\n", resp_num(k, "rank"),
               resp_str(k, "key", "?"), resp_num(k, "levels"), resp_num(k, "df"),
               resp_num(k, "f"), isfinite(p) ? resp_fmt_p(pb, sizeof pb, p) : "n/a",
               resp_num(k, "omega2"));
    }
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(doc, "interactions");
    double ip = resp_num(in, "p");
    if (resp_num(in, "df") > 0)
        printf("      %-16s %6s %4.0f %10.3g %9s %8.3f\n", "(interactions)", "",
               resp_num(in, "df"), resp_num(in, "f"),
               isfinite(ip) ? resp_fmt_p(pb, sizeof pb, ip) : "n/a", resp_num(in, "omega2"));
    const cJSON *er = cJSON_GetObjectItemCaseSensitive(doc, "error");
    bool seeds = strcmp(resp_str(doc, "error_term", ""), "seeds") == 0;
    printf("\nF tests against the %s (df %.0f); %.0f configurations, %.3g seeds each "
           "(harmonic mean).\nomega2: the share of the metric's variance the key explains "
           "(0 when not above noise).\n",
           seeds ? "seed variance within configurations" : "interactions (one seed only)",
           resp_num(er, "df"), resp_num(doc, "configs"), resp_num(doc, "seeds"));
    double pr = resp_num(doc, "pruned"), nv = resp_num(doc, "no_value");
    if (pr > 0 || nv > 0)
        printf("Left out: %.0f pruned configuration(s), %.0f without a finite value.\n", pr, nv);
}

int cmd_importance(struct cli *cli, int argc, char **argv)
{
    const char *sweep = NULL, *metric = NULL;
    bool json = false;
    struct opt opts[] = {
        {"metric", OPT_STRING, &metric},
        {"json", OPT_FLAG, &json},
        {NULL, 0, NULL},
    };
    int rc = cmd_parse_sweep(argc, argv, opts, &sweep);
    if (rc != CLI_OK)
        return rc;
    cli->json = cli->json || json;
    cJSON *req = cmd_add_sweep(cmd_req("results"), sweep), *resp = NULL, *doc = NULL;
    if (!req || !cJSON_AddTrueToObject(req, "trials")) {
        cJSON_Delete(req);
        fprintf(stderr, "mlpctl importance: out of memory\n");
        return CLI_FAILED;
    }
    if ((rc = cmd_request(cli, req, &resp, NULL)) != CLI_OK)
        goto out;
    char why[512] = "";
    rc = importance_doc(resp, metric, &doc, why, sizeof why);
    if (rc != CLI_OK) {
        if (rc == CLI_USAGE)
            cli_usage("importance", "%s", why);
        else
            fprintf(stderr, "mlpctl importance: %s\n", why);
        if (cli->json)
            cmd_print_error_json(rc == CLI_USAGE ? "invalid_request" : "conflict", why, NULL);
        goto out;
    }
    if (cli->json)
        cli_print_json(doc);
    else
        print_human(doc);
out:
    cJSON_Delete(resp);
    cJSON_Delete(doc);
    return rc;
}
