/*
 * plot_gap — `--kind gap`: training vs validation metric per configuration
 * (from the `show` op), one row each, so overfitting shows as a gap.  The
 * training partner of the sweep's metric comes from common/metric.h.
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
 * The x extent of every ranked row's train and validation mean ± SE into
 * *lo, *hi; counts the pruned rows and those without a finite train mean.
 */
static void gap_extent(const struct plot__row *rows, int n, double *lo, double *hi, int *no_train,
                       int *npruned)
{
    for (int i = 0; i < n; i++) {
        if (rows[i].pruned) {
            (*npruned)++;
            continue;
        }
        const struct resp_stat *ss[2] = {&rows[i].st, &rows[i].tr};
        for (int k = 0; k < 2; k++) {
            plot__widen(lo, hi, ss[k]->mean);
            if (isfinite(ss[k]->se) && isfinite(ss[k]->mean)) {
                plot__widen(lo, hi, ss[k]->mean - ss[k]->se);
                plot__widen(lo, hi, ss[k]->mean + ss[k]->se);
            }
        }
        if (!isfinite(rows[i].tr.mean))
            (*no_train)++;
    }
}

/* One ranked row at height y: train square and validation dot ± SE, the line between, the gap. */
static void gap_row(FILE *out, const struct svg_scale *sx, const struct plot__row *r, double y,
                    double gap_x, const char *metric, const char *train_name)
{
    const struct resp_stat *v = &r->st, *t = &r->tr;
    double xv = svg_map(sx, v->mean);
    if (isfinite(t->mean))
        fprintf(out,
                "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#999\" "
                "stroke-width=\"2\"/>\n",
                xv, y, svg_map(sx, t->mean), y);
    char val[96];
    if (isfinite(t->mean)) {
        double xt = svg_map(sx, t->mean);
        if (t->n >= 2 && isfinite(t->se))
            svg_errbar(out, svg_map(sx, t->mean - t->se), y - 3, svg_map(sx, t->mean + t->se),
                       y - 3, 4, COL_TRAIN);
        resp_fmt_mean_se(val, sizeof val, t);
        fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"9\" height=\"9\" fill=\"%s\">", xt - 4.5,
                y - 4.5, COL_TRAIN);
        svg_titlef(out, "%s %s: %s", r->full, train_name, val);
        fputs("</rect>\n", out);
    }
    if (v->n >= 2 && isfinite(v->se))
        svg_errbar(out, svg_map(sx, v->mean - v->se), y + 3, svg_map(sx, v->mean + v->se), y + 3, 4,
                   COL_VAL);
    resp_fmt_mean_se(val, sizeof val, v);
    fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"5\" fill=\"%s\">", xv, y, COL_VAL);
    svg_titlef(out, "%s %s: %s", r->full, metric, val);
    fputs("</circle>\n", out);
    if (isfinite(r->gap))
        svg_textf(out, gap_x, y + 4, "start", 12, NULL, "%+.4f", r->gap);
    else
        svg_text(out, gap_x, y + 4, "start", 12, NULL, "n/a");
}

int plot__gap(FILE *out, const cJSON *resp, char *why, size_t whylen)
{
    char idbuf[32];
    const char *name = plot__sweep_name(resp, idbuf, sizeof idbuf);
    const char *metric = resp_str(resp, "metric", metric_name(MLP_M_VAL_ACCURACY));
    struct plot__row *rows;
    int skipped;
    int n = plot__rows(resp, true, NULL, &rows, &skipped, name, metric, why, whylen);
    if (n == 0)
        return CLI_FAILED;
    /* "val_accuracy" -> "accuracy", the quantity on the x axis; "train_accuracy" its partner. */
    struct plot__metric parts;
    plot__metric_parts(metric, &parts);
    const char *base = parts.base, *train_name = parts.train;

    double lo = INFINITY, hi = -INFINITY;
    int no_train = 0, npruned = 0;
    gap_extent(rows, n, &lo, &hi, &no_train, &npruned);
    svg_nice_domain(&lo, &hi, 5);

    const double rowh = 24, top = 96, plotw = 440, right = 150;
    double left, w = plot__row_plot_width(rows, n, plotw, right, &left);
    const char *notes[3] = {0};
    char note_skip[200], note_train[200], note_pruned[200];
    int nnotes = 0;
    if (npruned) {
        snprintf(note_pruned, sizeof note_pruned,
                 "%d configuration(s) pruned: stopped early by the sweep's prune rule, not ranked",
                 npruned);
        notes[nnotes++] = note_pruned;
    }
    if (skipped) {
        plot__note_skipped(note_skip, sizeof note_skip, skipped, metric);
        notes[nnotes++] = note_skip;
    }
    if (no_train) {
        snprintf(note_train, sizeof note_train, "%d configuration(s) without a finite %s", no_train,
                 train_name);
        notes[nnotes++] = note_train;
    }
    double plot_bot = top + rowh * n;
    double h = plot_bot + 56 + 16 * nnotes + 8;
    char title[512], sub[300];
    snprintf(title, sizeof title, "Sweep %s \xE2\x80\x94 train vs validation %s", name, base);
    snprintf(sub, sizeof sub,
             "Per configuration, best %s first; bars \xC2\xB1 SE over seeds; "
             "gap = train \xE2\x88\x92 validation (large: overfitting; both low: underfitting)",
             metric);
    /* The legend's second entry starts after the first one's text. */
    double legend2 = fmax(180, 28 + svg_text_width(metric, 12, false) + 16);
    w = fmax(w, plot__text_need(title, sub, notes, nnotes));
    w = fmax(w, left + legend2 + 28 + svg_text_width(train_name, 12, false) + 12);

    svg_begin(out, w, h);
    plot__titles(out, w, title, sub);
    /* Legend: two series, distinguished by shape as well as colour. */
    fprintf(out, "<g class=\"legend\">");
    svg_legend_item(out, left, 72, COL_VAL, NULL, metric);
    fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"9\" height=\"9\" fill=\"%s\"/>",
            left + legend2 + 4.5, 72 - 8.5, COL_TRAIN);
    svg_text(out, left + legend2 + 28, 72, "start", 12, NULL, train_name);
    fprintf(out, "</g>\n");
    svg_text(out, left + plotw + 12, top - 8, "start", 11.5,
             "font-weight=\"bold\" fill=\"" COL_NOTE "\"", "gap");
    plot__stripes(out, n, top, rowh, w);
    struct svg_scale sx = {lo, hi, left, left + plotw, false};
    svg_axis_x(out, &sx, top - 4, plot_bot, 0, base);

    fprintf(out, "<g class=\"rows\">\n");
    for (int i = 0; i < n; i++) {
        const struct resp_stat *v = &rows[i].st, *t = &rows[i].tr;
        double y = top + rowh * i + rowh / 2;
        if (rows[i].pruned) {
            plot__pruned_row(out, left - 12, left + 8, y, &rows[i]);
            continue;
        }
        int nmin = isfinite(t->mean) && t->n < v->n ? t->n : v->n;
        plot__row_label(out, left - 12, y, &rows[i], nmin, false);
        gap_row(out, &sx, &rows[i], y, left + plotw + 12, metric, train_name);
    }
    return plot__end_row_plot(out, rows, n, plot_bot, notes, nnotes);
}

int plot_gap(FILE *out, const cJSON *show_resp)
{
    char why[512] = "";
    return plot__say_why(plot__gap(out, show_resp, why, sizeof why), why);
}

/* ---- the kind ---------------------------------------------------------------- */

static cJSON *gap_request(const struct plot_args *a, int i)
{
    (void)i;
    return plot__sweep_req("show", a);
}

static int gap_render(FILE *out, const struct plot_args *a, cJSON *const *resp, char *why,
                      size_t whylen)
{
    (void)a;
    return plot__gap(out, resp[0], why, whylen);
}

const struct plot_kind plot_kind_gap = {
    .name = "gap",
    .nreq = 1,
    .request = gap_request,
    .render = gap_render,
};
