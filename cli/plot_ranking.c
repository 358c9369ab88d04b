/*
 * plot_ranking — `--kind ranking`: the sweep's metric per configuration,
 * best first, as a horizontal dot plot (mean, ± SE bar, 95% t-interval bar)
 * from the `best` op with every configuration.
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

int plot__ranking(FILE *out, const cJSON *resp, char *why, size_t whylen)
{
    char idbuf[32];
    const char *name = plot__sweep_name(resp, idbuf, sizeof idbuf);
    const char *metric = resp_str(resp, "metric", "metric");
    const char *dir = resp_str(resp, "direction", "max");
    struct plot__row *rows;
    int skipped;
    int n = plot__rows(resp, false, &rows, &skipped, name, metric, why, whylen);
    if (n == 0)
        return CLI_FAILED;

    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        struct resp_stat *s = &rows[i].st;
        plot__widen(&lo, &hi, s->mean);
        plot__widen(&lo, &hi, s->ci_low);
        plot__widen(&lo, &hi, s->ci_high);
        if (isfinite(s->se)) {
            plot__widen(&lo, &hi, s->mean - s->se);
            plot__widen(&lo, &hi, s->mean + s->se);
        }
    }
    svg_nice_domain(&lo, &hi, 5);

    const double rowh = 24, top = 78, plotw = 440;
    double right = 200;
    for (int i = 0; i < n; i++) { /* the values right of the plot */
        char val[96];
        resp_fmt_mean_se(val, sizeof val, &rows[i].st);
        right = fmax(right, 12 + svg_text_width(val, 12, false) + 12);
    }
    double left, h, w = plot__row_plot_width(rows, n, plotw, right, &left);
    const char *notes[3] = {0};
    char note_skip[160], note_cmp[600];
    int nnotes = 0;
    const cJSON *cmp = cJSON_GetObjectItemCaseSensitive(resp, "comparison");
    const char *sentence = resp_str(cmp, "sentence", NULL);
    if (sentence) {
        snprintf(note_cmp, sizeof note_cmp, "Best vs runner-up (Welch's t-test): %s", sentence);
        notes[nnotes++] = note_cmp;
    }
    if (skipped) {
        plot__note_skipped(note_skip, sizeof note_skip, skipped, metric);
        notes[nnotes++] = note_skip;
    }
    double plot_bot = top + rowh * n;
    h = plot_bot + 56 + 16 * nnotes + 8;
    char title[512], sub[256];
    snprintf(title, sizeof title, "Sweep %s \xE2\x80\x94 %s by configuration", name, metric);
    snprintf(sub, sizeof sub,
             "%d configuration(s), best first (%s is %s). Dot: mean; dark bar: \xC2\xB1 SE; "
             "light bar: 95%% t-interval",
             n, metric, strcmp(dir, "min") == 0 ? "minimised" : "maximised");
    w = fmax(w, plot__text_need(title, sub, notes, nnotes));

    svg_begin(out, w, h);
    plot__titles(out, w, title, sub);
    plot__stripes(out, n, top, rowh, w);
    struct svg_scale sx = {lo, hi, left, left + plotw, false};
    char xlabel[160];
    snprintf(xlabel, sizeof xlabel, "%s (mean \xC2\xB1 SE over seeds)", metric);
    svg_axis_x(out, &sx, top - 4, plot_bot, 0, xlabel);

    fprintf(out, "<g class=\"rows\">\n");
    for (int i = 0; i < n; i++) {
        const struct resp_stat *s = &rows[i].st;
        double y = top + rowh * i + rowh / 2;
        bool best = i == 0;
        const char *col = best ? COL_BEST : COL_VAL;
        plot__row_label(out, left - 12, y, &rows[i], s->n, best);
        if (s->n >= 2 && isfinite(s->ci_low) && isfinite(s->ci_high))
            fprintf(out,
                    "<rect class=\"ci\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"10\" "
                    "fill=\"%s\" fill-opacity=\"0.6\"/>\n",
                    svg_map(&sx, s->ci_low), y - 5,
                    svg_map(&sx, s->ci_high) - svg_map(&sx, s->ci_low), COL_LIGHT);
        if (s->n >= 2 && isfinite(s->se))
            svg_errbar(out, svg_map(&sx, s->mean - s->se), y, svg_map(&sx, s->mean + s->se), y, 5,
                       col);
        char val[96];
        resp_fmt_mean_se(val, sizeof val, s);
        fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4.5\" fill=\"%s\">",
                svg_map(&sx, s->mean), y, col);
        svg_titlef(out, "#%d %s: %s", rows[i].rank, rows[i].full, val);
        fputs("</circle>\n", out);
        svg_text(out, left + plotw + 12, y + 4, "start", 12, NULL, val);
    }
    return plot__end_row_plot(out, rows, n, plot_bot, notes, nnotes);
}

int plot_ranking(FILE *out, const cJSON *best_resp)
{
    char why[512] = "";
    return plot__say_why(plot__ranking(out, best_resp, why, sizeof why), why);
}

/* ---- the kind ---------------------------------------------------------------- */

static cJSON *ranking_request(const struct plot_args *a, int i)
{
    (void)i;
    cJSON *req = plot__sweep_req("best", a);
    /* A test metric never ranks: the configurations come in the sweep's order. */
    bool test = a->metric && strncmp(a->metric, "test_", 5) == 0;
    if (req && (!cJSON_AddNumberToObject(req, "top", a->top ? a->top : 1000) ||
                (a->metric && !test && !cJSON_AddStringToObject(req, "metric", a->metric)))) {
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

static int ranking_render(FILE *out, const struct plot_args *a, cJSON *const *resp, char *why,
                          size_t whylen)
{
    if (!a->metric || strncmp(a->metric, "test_", 5) != 0)
        return plot__ranking(out, resp[0], why, whylen);
    /* --metric test_*: each configuration's test stat in place of its ranking stat,
       in the order the sweep's (validation) metric ranks them. */
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
    int rc = plot__ranking(out, copy, why, whylen);
    cJSON_Delete(copy);
    return rc;
}

const struct plot_kind plot_kind_ranking = {
    .name = "ranking",
    .takes_metric = true,
    .nreq = 1,
    .request = ranking_request,
    .render = ranking_render,
};
