/*
 * plot_ranking — `--kind ranking`: the sweep's metric per configuration,
 * best first, as a horizontal dot plot (mean, ± SE bar, 95% t-interval bar)
 * from the `best` op with every configuration; the `show` op adds the pruned
 * configurations (listed after the ranked ones, not ranked).  With `--metric
 * test_*` each configuration's test mean ± SE in the validation order, and
 * every seed's test value as an open circle (`results` per trial).
 */
#include "plot.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "metric.h"
#include "resp.h"
#include "svg.h"

/*
 * The finite `metric` of config id's done trials in the per-trial rows, into
 * v and their seeds into seed (at most max).  Returns the count.
 */
static int seed_values(const cJSON *trials, int id, const char *metric, double *v, double *seed,
                       int max)
{
    int n = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(trials, "rows"))
    {
        if (n == max || resp_num(t, "config") != id ||
            strcmp(resp_str(t, "state", ""), "done") != 0)
            continue;
        double x = resp_num(t, metric);
        if (isfinite(x)) {
            seed[n] = resp_num(t, "seed");
            v[n++] = x;
        }
    }
    return n;
}

/*
 * The confirmation of configuration id in best's `confirmed` (fresh seeds
 * after selection): its confirmed rank, test stat into *test; 0 when it was
 * not confirmed (or nothing has been).
 */
static int confirmed_of(const cJSON *best, int id, struct resp_stat *test)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(
                              cJSON_GetObjectItemCaseSensitive(best, "confirmed"), "configs"))
    {
        if (resp_config_id(cJSON_GetObjectItemCaseSensitive(c, "config")) != id)
            continue;
        resp_stat_get(cJSON_GetObjectItemCaseSensitive(c, "test"), test);
        double r = resp_num(c, "rank");
        return isfinite(test->mean) && isfinite(r) && r >= 1 && r < 1e9 ? (int)r : 0;
    }
    return 0;
}

/*
 * Each row's confirmation (conf[i] its test stat, crank[i] its confirmed
 * rank, 0 when not confirmed), widening [*lo, *hi] by them.  The count.
 */
static int confirmed_rows(const cJSON *best, const struct plot__row *rows, int n,
                          struct resp_stat *conf, int *crank, double *lo, double *hi)
{
    int nconf = 0;
    for (int i = 0; i < n; i++) {
        crank[i] = rows[i].pruned ? 0 : confirmed_of(best, rows[i].id, &conf[i]);
        if (!crank[i])
            continue;
        nconf++;
        plot__widen(lo, hi, conf[i].mean);
        if (isfinite(conf[i].se)) {
            plot__widen(lo, hi, conf[i].mean - conf[i].se);
            plot__widen(lo, hi, conf[i].mean + conf[i].se);
        }
    }
    return nconf;
}

/* "3..5": the confirmation's seeds in best's `confirmed` ("" when none). */
static void confirmed_seeds(char *buf, size_t n, const cJSON *best)
{
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(best, "confirmed"), "seeds");
    int ncs = cJSON_GetArraySize(cs);
    const cJSON *s0 = cJSON_GetArrayItem(cs, 0), *s1 = cJSON_GetArrayItem(cs, ncs - 1);
    buf[0] = '\0';
    if (cJSON_IsNumber(s0) && cJSON_IsNumber(s1))
        snprintf(buf, n, "%.0f..%.0f", s0->valuedouble, s1->valuedouble);
}

/* The notes under a ranking, into buf; their count. */
static int ranking_notes(char (*buf)[600], const cJSON *resp, bool seeds, const char *seed_metric,
                         int nconf, const char *cseeds, int npruned, int skipped,
                         const char *metric)
{
    int nnotes = 0;
    const cJSON *cmp = cJSON_GetObjectItemCaseSensitive(resp, "comparison");
    const char *sentence = resp_str(cmp, "sentence", NULL);
    if (sentence)
        snprintf(buf[nnotes++], 600, "Best vs runner-up (Welch's t-test): %s", sentence);
    if (seeds)
        snprintf(buf[nnotes++], 600,
                 "Open circles: each seed's %s. The test split is reported, never used to choose "
                 "or order configurations.",
                 seed_metric);
    if (nconf)
        snprintf(buf[nnotes++], 600,
                 "Orange diamond: %s of the confirmation on fresh seeds %s (mean \xC2\xB1 SE), "
                 "never used in selection; the selection estimates are biased upwards.",
                 resp_str(resp, "test_metric", "the test metric"), cseeds);
    if (npruned)
        snprintf(buf[nnotes++], 600,
                 "%d configuration(s) pruned: stopped early by the sweep's prune rule, not ranked",
                 npruned);
    if (skipped)
        plot__note_skipped(buf[nnotes++], 600, skipped, metric);
    return nnotes;
}

/* "confirmed #1: 0.8633 ± 0.0233 (n=3)", the text beside a confirmed row. */
static void confirmed_text(char *buf, size_t n, int rank, const struct resp_stat *t)
{
    char v[96];
    resp_fmt_mean_se(v, sizeof v, t);
    snprintf(buf, n, "confirmed #%d: %s", rank, v);
}

/* A confirmed row's mark: an orange diamond at the test mean with its ± SE bar. */
static void confirmed_mark(FILE *out, const struct svg_scale *sx, double y,
                           const struct plot__row *r, int rank, const struct resp_stat *t,
                           const char *test_metric, const char *seeds)
{
    double x = svg_map(sx, t->mean);
    if (t->n >= 2 && isfinite(t->se))
        svg_errbar(out, svg_map(sx, t->mean - t->se), y, svg_map(sx, t->mean + t->se), y, 4,
                   COL_TRAIN);
    char v[96];
    resp_fmt_mean_se(v, sizeof v, t);
    fprintf(out,
            "<path class=\"confirmed\" data-config=\"%d\" data-rank=\"%d\" "
            "data-mean=\"%.17g\" d=\"M%.2f %.2fL%.2f %.2fL%.2f %.2fL%.2f %.2fZ\" fill=\"%s\" "
            "stroke=\"#222\" stroke-width=\"0.8\">",
            r->id, rank, t->mean, x, y - 6, x + 6, y, x, y + 6, x - 6, y, COL_TRAIN);
    svg_titlef(out, "#%d %s: confirmed #%d on fresh seeds %s: %s %s", r->rank, r->full, rank,
               seeds, test_metric, v);
    fputs("</path>\n", out);
}

/* One ranked row at height y: 95% interval, ± SE bar, mean dot, each seed's circle, the value. */
static void ranking_row(FILE *out, const struct svg_scale *sx, double y, double value_x,
                        const struct plot__row *r, bool best, const double *seeds,
                        const double *seed_no, int nseeds, const char *seed_metric)
{
    const struct resp_stat *s = &r->st;
    const char *col = best ? COL_BEST : COL_VAL;
    if (s->n >= 2 && isfinite(s->ci_low) && isfinite(s->ci_high))
        fprintf(out,
                "<rect class=\"ci\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"10\" "
                "fill=\"%s\" fill-opacity=\"0.6\"/>\n",
                svg_map(sx, s->ci_low), y - 5, svg_map(sx, s->ci_high) - svg_map(sx, s->ci_low),
                COL_LIGHT);
    if (s->n >= 2 && isfinite(s->se))
        svg_errbar(out, svg_map(sx, s->mean - s->se), y, svg_map(sx, s->mean + s->se), y, 5, col);
    char val[96];
    resp_fmt_mean_se(val, sizeof val, s);
    fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4.5\" fill=\"%s\">", svg_map(sx, s->mean),
            y, col);
    svg_titlef(out, "#%d %s: %s", r->rank, r->full, val);
    fputs("</circle>\n", out);
    for (int k = 0; k < nseeds; k++) {
        char v[32];
        resp_fmt_short(v, sizeof v, seeds[k]);
        fprintf(out,
                "<circle class=\"seed\" cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"none\" "
                "stroke=\"#222\" stroke-width=\"1\" stroke-opacity=\"0.75\">",
                svg_map(sx, seeds[k]), y + 7);
        svg_titlef(out, "#%d %s, seed %.0f: %s %s", r->rank, r->label, seed_no[k], seed_metric, v);
        fputs("</circle>\n", out);
    }
    svg_text(out, value_x, y + 4, "start", 12, NULL, val);
}

/*
 * Every row's seed values from the per-trial rows (none without trials):
 * row i's are (*seeds)[(*off)[i] .. (*off)[i + 1]), their seeds in *seed_no.
 * 0, or -1 on ENOMEM (nothing allocated).
 */
static int row_seeds(const cJSON *trials, const struct plot__row *rows, int n, const char *metric,
                     double **seeds, double **seed_no, int **off)
{
    size_t cap = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(trials, "rows"));
    *off = calloc((size_t)n + 1, sizeof **off);
    *seeds = malloc((cap ? cap : 1) * sizeof **seeds);
    *seed_no = malloc((cap ? cap : 1) * sizeof **seed_no);
    if (!*off || !*seeds || !*seed_no) {
        free(*off);
        free(*seeds);
        free(*seed_no);
        return -1;
    }
    int total = 0;
    for (int i = 0; i < n; i++) {
        (*off)[i] = total;
        if (trials && !rows[i].pruned)
            total += seed_values(trials, rows[i].id, metric, *seeds + total, *seed_no + total,
                                 (int)cap - total);
    }
    (*off)[n] = total;
    return 0;
}

/*
 * The ranking of best (the `best` op), with show's pruned configurations
 * (show may be NULL) and, when trials (the `results` op per trial) is
 * given, every seed's seed_metric.
 */
static int ranking_draw(FILE *out, const cJSON *resp, const cJSON *show, const cJSON *trials,
                        const char *seed_metric, char *why, size_t whylen)
{
    char idbuf[32];
    const char *name = plot__sweep_name(resp, idbuf, sizeof idbuf);
    const char *metric = resp_str(resp, "metric", "metric");
    const char *dir = resp_str(resp, "direction", "max");
    struct plot__row *rows;
    int skipped;
    int n = plot__rows(resp, false, show, &rows, &skipped, name, metric, why, whylen);
    if (n == 0)
        return CLI_FAILED;
    /* Each row's seed values (rows[i]: seeds + off[i] .. seeds + off[i + 1]). */
    double *seeds = NULL, *seed_no = NULL;
    int *off = NULL, total = 0, npruned = 0;
    if (row_seeds(trials, rows, n, seed_metric, &seeds, &seed_no, &off) < 0) {
        plot__free_rows(rows, n);
        plot__why(why, whylen, "out of memory");
        return CLI_FAILED;
    }
    total = off[n];

    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        struct resp_stat *s = &rows[i].st;
        npruned += rows[i].pruned > 0;
        plot__widen(&lo, &hi, s->mean);
        plot__widen(&lo, &hi, s->ci_low);
        plot__widen(&lo, &hi, s->ci_high);
        if (isfinite(s->se)) {
            plot__widen(&lo, &hi, s->mean - s->se);
            plot__widen(&lo, &hi, s->mean + s->se);
        }
    }
    for (int k = 0; k < total; k++)
        plot__widen(&lo, &hi, seeds[k]);
    /* The confirmation on fresh seeds (best's `confirmed`): its test mean ± SE per row. */
    struct resp_stat *conf = calloc((size_t)n, sizeof *conf);
    int *crank = calloc((size_t)n, sizeof *crank);
    if (!conf || !crank) {
        free(conf);
        free(crank);
        free(seeds);
        free(seed_no);
        free(off);
        plot__free_rows(rows, n);
        plot__why(why, whylen, "out of memory");
        return CLI_FAILED;
    }
    int nconf = confirmed_rows(resp, rows, n, conf, crank, &lo, &hi);
    svg_nice_domain(&lo, &hi, 5);

    const double rowh = 24, top = 78, plotw = 440;
    double right = 200;
    double valw = 0, confw = 0;
    for (int i = 0; i < n; i++) { /* the values right of the plot */
        char val[160];
        resp_fmt_mean_se(val, sizeof val, &rows[i].st);
        valw = fmax(valw, svg_text_width(val, 12, false));
        if (crank[i]) {
            confirmed_text(val, sizeof val, crank[i], &conf[i]);
            confw = fmax(confw, svg_text_width(val, 12, false));
        }
    }
    right = fmax(right, 12 + valw + (nconf ? 16 + confw : 0) + 12);
    double left, h, w = plot__row_plot_width(rows, n, plotw, right, &left);
    const char *notes[5] = {0};
    char note_buf[5][600], cseeds[64];
    confirmed_seeds(cseeds, sizeof cseeds, resp);
    int nnotes = ranking_notes(note_buf, resp, trials != NULL, seed_metric, nconf, cseeds,
                               npruned, skipped, metric);
    for (int k = 0; k < nnotes; k++)
        notes[k] = note_buf[k];
    double plot_bot = top + rowh * n;
    h = plot_bot + 56 + 16 * nnotes + 8;
    char title[512], sub[300];
    snprintf(title, sizeof title, "Sweep %s \xE2\x80\x94 %s by configuration", name, metric);
    snprintf(sub, sizeof sub,
             "%d configuration(s), best first (%s is %s). Dot: mean; dark bar: \xC2\xB1 SE; "
             "light bar: 95%% t-interval%s",
             n - npruned, metric, strcmp(dir, "min") == 0 ? "minimised" : "maximised",
             trials ? "; circles: seeds" : "");
    w = fmax(w, plot__text_need(title, sub, notes, nnotes));

    svg_begin(out, w, h);
    plot__titles(out, w, title, sub);
    plot__stripes(out, n, top, rowh, w);
    struct svg_scale sx = {lo, hi, left, left + plotw, false};
    char xlabel[200];
    snprintf(xlabel, sizeof xlabel, "%s (mean \xC2\xB1 SE over seeds)", metric);
    svg_axis_x(out, &sx, top - 4, plot_bot, 0, xlabel);

    fprintf(out, "<g class=\"rows\">\n");
    for (int i = 0; i < n; i++) {
        double y = top + rowh * i + rowh / 2;
        if (rows[i].pruned) {
            plot__pruned_row(out, left - 12, left + 8, y, &rows[i]);
            continue;
        }
        plot__row_label(out, left - 12, y, &rows[i], rows[i].st.n, i == 0);
        ranking_row(out, &sx, y, left + plotw + 12, &rows[i], i == 0, seeds + off[i],
                    seed_no + off[i], off[i + 1] - off[i], seed_metric);
        if (crank[i]) {
            char ct[160];
            confirmed_mark(out, &sx, y, &rows[i], crank[i], &conf[i],
                           resp_str(resp, "test_metric", "test metric"), cseeds);
            confirmed_text(ct, sizeof ct, crank[i], &conf[i]);
            svg_text(out, left + plotw + 12 + valw + 16, y + 4, "start", 12,
                     "fill=\"#a0522d\" class=\"confirmed-text\"", ct);
        }
    }
    free(conf);
    free(crank);
    free(seeds);
    free(seed_no);
    free(off);
    return plot__end_row_plot(out, rows, n, plot_bot, notes, nnotes);
}

int plot__ranking(FILE *out, const cJSON *resp, const cJSON *show, char *why, size_t whylen)
{
    return ranking_draw(out, resp, show, NULL, NULL, why, whylen);
}

int plot_ranking(FILE *out, const cJSON *best_resp)
{
    char why[512] = "";
    return plot__say_why(plot__ranking(out, best_resp, NULL, why, sizeof why), why);
}

/* ---- the kind ---------------------------------------------------------------- */

/* A test metric never ranks: the configurations come in the order of the sweep's metric. */
static bool test_metric(const struct plot_args *a)
{
    return a->metric && strncmp(a->metric, "test_", 5) == 0;
}

/*
 * Request 0: `best` (the top K, else every configuration); 1: `show` (the
 * pruned configurations); 2, for a test metric only: `results` per trial.
 */
static cJSON *ranking_request(const struct plot_args *a, int i)
{
    cJSON *req = plot__sweep_req(i == 0 ? "best" : i == 1 ? "show" : "results", a);
    bool ok = req != NULL;
    if (ok && i == 0)
        ok = cJSON_AddNumberToObject(req, "top", a->top ? a->top : 1000) &&
             (!a->metric || test_metric(a) || cJSON_AddStringToObject(req, "metric", a->metric));
    else if (ok && i == 2)
        ok = cJSON_AddBoolToObject(req, "trials", 1) != NULL;
    if (!ok) {
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

static bool ranking_wants(const struct plot_args *a, int i)
{
    return i < 2 || test_metric(a);
}

static int ranking_render(FILE *out, const struct plot_args *a, cJSON *const *resp, char *why,
                          size_t whylen)
{
    if (!test_metric(a))
        return ranking_draw(out, resp[0], resp[1], NULL, NULL, why, whylen);
    /* --metric test_*: each configuration's test stat in place of its ranking stat,
       in the order the sweep's (validation) metric ranks them, and every seed's value. */
    const char *test = resp_str(resp[0], "test_metric", "");
    if (strcmp(test, a->metric) != 0) {
        snprintf(why, whylen,
                 "--metric %s: this sweep reports %s for its configurations (the test "
                 "counterpart of %s)",
                 a->metric, test[0] ? test : "no test metric",
                 resp_str(resp[0], "metric", "its metric"));
        return CLI_USAGE;
    }
    cJSON *copy = cJSON_Duplicate(resp[0], 1);
    if (!copy)
        return CLI_FAILED;
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(copy, "configs"))
    {
        cJSON *t = cJSON_DetachItemFromObjectCaseSensitive(c, "test");
        cJSON_ReplaceItemInObjectCaseSensitive(c, "stat", t ? t : cJSON_CreateNull());
    }
    char label[160];
    snprintf(label, sizeof label, "%s (not used for selection; order by %s)", a->metric,
             resp_str(resp[0], "metric", "the sweep's metric"));
    cJSON_ReplaceItemInObjectCaseSensitive(copy, "metric", cJSON_CreateString(label));
    /* The runner-up test of the validation metric is not about what is drawn. */
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "comparison");
    int rc = ranking_draw(out, copy, resp[1], resp[2], a->metric, why, whylen);
    cJSON_Delete(copy);
    return rc;
}

const struct plot_kind plot_kind_ranking = {
    .name = "ranking",
    .takes_metric = true,
    .nreq = 3,
    .request = ranking_request,
    .wants = ranking_wants,
    .render = ranking_render,
};
