/*
 * plot_by — `--kind by --key K`: the marginal effect of one hyperparameter,
 * the metric's mean over configurations per value of K (the `show` op with
 * `by`), as points with ± SE bars on a numeric or categorical axis.
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

struct by_point {
    char *text;  /* the value as shown */
    double num;  /* the value when numeric */
    int configs; /* configurations with this value */
    struct resp_stat st;
};

static int cmp_by_num(const void *a, const void *b)
{
    const struct by_point *x = a, *y = b;
    return (x->num > y->num) - (x->num < y->num);
}

/*
 * The values of a `by` section with a finite mean, into pts (room for every
 * value); *skipped: those without; *numeric and *positive: whether every value
 * shown is a number, and > 0.  Returns the count, -1 on ENOMEM (pts[0..n)
 * still to free).
 */
static int gather_points(const cJSON *values, struct by_point *pts, int *n, int *skipped,
                         bool *numeric, bool *positive)
{
    const cJSON *v;
    *n = *skipped = 0;
    *numeric = *positive = true;
    cJSON_ArrayForEach(v, values)
    {
        struct by_point p = {0};
        resp_stat_get(cJSON_GetObjectItemCaseSensitive(v, "stat"), &p.st);
        if (!isfinite(p.st.mean)) {
            (*skipped)++;
            continue;
        }
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(v, "value");
        p.text = resp_value_text(val);
        if (!p.text)
            return -1;
        double nc = resp_num(v, "configs");
        p.configs = isfinite(nc) ? (int)nc : 0;
        if (cJSON_IsNumber(val) && isfinite(val->valuedouble)) {
            p.num = val->valuedouble;
            if (p.num <= 0)
                *positive = false;
        } else
            *numeric = false;
        pts[(*n)++] = p;
    }
    return *n;
}

/* A categorical x axis: n equal bands from left, one label each; xs[i] the band centres. */
static void draw_category_axis(FILE *out, const struct by_point *pts, int n, double left,
                               double plotw, double plotb, const char *key, double *xs)
{
    double band = plotw / n;
    fprintf(out, "<g class=\"axis-x\">\n");
    fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#555\"/>\n", left,
            plotb, left + plotw, plotb);
    for (int i = 0; i < n; i++) {
        xs[i] = left + band * (i + 0.5);
        fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#555\"/>",
                xs[i], plotb, xs[i], plotb + 5);
        svg_text(out, xs[i], plotb + 18, "middle", 11, NULL, pts[i].text);
    }
    svg_text(out, left + plotw / 2, plotb + 52, "middle", 12, NULL, key);
    fprintf(out, "</g>\n");
}

/* The points: mean ± SE bars with tooltips, n under the label (beside it on a log axis). */
static void draw_points(FILE *out, const struct by_point *pts, int n, const double *xs,
                        const struct svg_scale *sy, bool logx, double plotb, const char *key)
{
    fprintf(out, "<g class=\"points\">\n");
    for (int i = 0; i < n; i++) {
        const struct resp_stat *s = &pts[i].st;
        double y = svg_map(sy, s->mean);
        if (s->n >= 2 && isfinite(s->se))
            svg_errbar(out, xs[i], svg_map(sy, s->mean - s->se), xs[i],
                       svg_map(sy, s->mean + s->se), 6, COL_VAL);
        char val[96];
        resp_fmt_mean_se(val, sizeof val, s);
        fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"5\" fill=\"%s\">", xs[i], y, COL_VAL);
        svg_titlef(out, "%s=%s: %s over %d configuration(s)", key, pts[i].text, val,
                   pts[i].configs);
        fputs("</circle>\n", out);
        /* n under the category label, or beside the point on a log axis. */
        if (logx)
            svg_textf(out, xs[i] + 9, y - 7, "start", 10.5, "fill=\"" COL_NOTE "\"", "n=%d", s->n);
        else
            svg_textf(out, xs[i], plotb + 33, "middle", 10.5, "fill=\"" COL_NOTE "\"", "n=%d",
                      s->n);
    }
    fprintf(out, "</g>\n");
}

int plot__by(FILE *out, const cJSON *resp, char *why, size_t whylen)
{
    char idbuf[32];
    const char *name = plot__sweep_name(resp, idbuf, sizeof idbuf);
    const char *metric = resp_str(resp, "metric", "metric");
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(resp, "by");
    const char *key = resp_str(by, "key", NULL);
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(by, "values");
    if (!key || !cJSON_IsArray(values)) {
        plot__why(why, whylen, "the show response has no \"by\" section (ask with a key)");
        return CLI_FAILED;
    }
    int cap = cJSON_GetArraySize(values), n = 0, skipped = 0, rc = CLI_FAILED;
    struct by_point *pts = calloc((size_t)(cap ? cap : 1), sizeof *pts);
    if (!pts) {
        plot__why(why, whylen, "out of memory");
        return CLI_FAILED;
    }
    bool numeric, positive;
    if (gather_points(values, pts, &n, &skipped, &numeric, &positive) < 0) {
        plot__why(why, whylen, "out of memory");
        goto out;
    }
    if (n == 0) {
        if (skipped)
            plot__why(why, whylen, "sweep %s: no value of %s has a finite %s yet: nothing to plot",
                      name, key, metric);
        else
            plot__why(why, whylen, "sweep %s has no finished trials yet: nothing to plot", name);
        goto out;
    }
    double vmin = INFINITY, vmax = -INFINITY;
    if (numeric) {
        qsort(pts, (size_t)n, sizeof *pts, cmp_by_num);
        vmin = pts[0].num;
        vmax = pts[n - 1].num;
    }
    bool logx = numeric && positive && n >= 2 && vmax / vmin > 10;

    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        plot__widen(&lo, &hi, pts[i].st.mean);
        if (isfinite(pts[i].st.se)) {
            plot__widen(&lo, &hi, pts[i].st.mean - pts[i].st.se);
            plot__widen(&lo, &hi, pts[i].st.mean + pts[i].st.se);
        }
    }
    svg_nice_domain(&lo, &hi, 5);

    const double right = 40, top = 70;
    char ylabel[160];
    snprintf(ylabel, sizeof ylabel, "%s (mean \xC2\xB1 SE)", metric);
    struct svg_scale sy = {lo, hi, top + 320, top, false};
    const double left = fmax(86, svg_axis_y_margin(&sy, ylabel));
    double band = 110; /* a categorical axis: wide enough for every value's label */
    for (int i = 0; !logx && i < n; i++)
        band = fmax(band, svg_text_width(pts[i].text, 11, false) + 12);
    double plotw = n * band;
    if (plotw < 520)
        plotw = 520;
    double w = left + plotw + right, plotb = top + 320;
    const char *notes[1] = {0};
    char note_skip[200];
    int nnotes = 0;
    if (skipped) {
        snprintf(note_skip, sizeof note_skip,
                 "%d value(s) of %s not shown: no finite %s (diverged or unfinished)", skipped, key,
                 metric);
        notes[nnotes++] = note_skip;
    }
    double h = plotb + (logx ? 60 : 74) + 16 * nnotes + 8;
    char title[512], sub[300];
    snprintf(title, sizeof title, "Sweep %s \xE2\x80\x94 %s by %s", name, metric, key);
    snprintf(sub, sizeof sub,
             "Each point: mean \xC2\xB1 SE over all configurations and seeds with that value%s",
             logx ? " (log scale)" : "");
    w = fmax(w, plot__text_need(title, sub, notes, nnotes));

    svg_begin(out, w, h);
    plot__titles(out, w, title, sub);
    svg_axis_y(out, &sy, left, left + plotw, ylabel);

    double *xs = malloc((size_t)n * sizeof *xs);
    if (!xs) {
        svg_end(out);
        plot__why(why, whylen, "out of memory");
        goto out;
    }
    if (logx) {
        /* Pad the domain by a fifth of a decade each side so the end points clear the frame. */
        struct svg_scale sx = {vmin / pow(10, 0.2), vmax * pow(10, 0.2), left, left + plotw, true};
        svg_axis_x(out, &sx, top, plotb, 0, key);
        for (int i = 0; i < n; i++)
            xs[i] = svg_map(&sx, pts[i].num);
    } else {
        draw_category_axis(out, pts, n, left, plotw, plotb, key, xs);
    }
    if (numeric && n >= 2) {
        fprintf(out,
                "<polyline fill=\"none\" stroke=\"%s\" stroke-opacity=\"0.45\" "
                "stroke-width=\"1.5\" points=\"",
                COL_VAL);
        for (int i = 0; i < n; i++)
            fprintf(out, "%.2f,%.2f ", xs[i], svg_map(&sy, pts[i].st.mean));
        fputs("\"/>\n", out);
    }
    draw_points(out, pts, n, xs, &sy, logx, plotb, key);
    free(xs);
    plot__notes(out, 12, h - 12 - 16 * (nnotes - 1), notes, nnotes);
    svg_end(out);
    rc = CLI_OK;
out:
    for (int i = 0; i < n; i++)
        free(pts[i].text);
    free(pts);
    return rc;
}

int plot_by(FILE *out, const cJSON *show_by_resp)
{
    char why[512] = "";
    return plot__say_why(plot__by(out, show_by_resp, why, sizeof why), why);
}

/* ---- the kind ---------------------------------------------------------------- */

static cJSON *by_request(const struct plot_args *a, int i)
{
    (void)i;
    cJSON *req = plot__sweep_req("show", a);
    if (req && !cJSON_AddStringToObject(req, "by", a->key)) {
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

static int by_render(FILE *out, const struct plot_args *a, cJSON *const *resp, char *why,
                     size_t whylen)
{
    (void)a;
    return plot__by(out, resp[0], why, whylen);
}

const struct plot_kind plot_kind_by = {
    .name = "by",
    .takes_key = true,
    .needs_key = true,
    .nreq = 1,
    .request = by_request,
    .render = by_render,
};
