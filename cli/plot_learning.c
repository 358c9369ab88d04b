/*
 * plot_learning — `--kind learning --key K`: the metric against a numeric grid
 * key (train_size above all) from the `results` op's aggregated rows (one per
 * configuration: <metric>_mean and _se over its seeds, n, the grid keys).
 *
 * Configurations are grouped by the values of the other varying keys (say
 * hidden=[64] vs hidden=[512,256]); each group is one colour, and within it
 * the training, validation and test members of the metric are three lines
 * (dashed, solid, dotted, with different markers) with ± SE bands.  The x axis
 * is log10 when every value is positive and they span more than a factor of
 * four, else linear.  Groups beyond the palette's size are not drawn (noted).
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

#define LEARN_MAX_GROUPS SVG_NCOLORS
#define LEARN_SPLITS 3

struct lpoint {
    double x;
    double mean[LEARN_SPLITS], se[LEARN_SPLITS]; /* train, validation, test */
    int n;
};

struct lgroup {
    char *label; /* "hidden=[64]", or "all configurations" */
    struct lpoint *pts;
    int np;
};

#define LEARN_MAX_TICKS 12

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/*
 * The distinct x values of the groups as ticks of a log axis, when there are
 * at most LEARN_MAX_TICKS of them and their labels do not touch; else 0
 * (the axis then takes its decades and 1-2-5 ticks).
 */
static int data_ticks(const struct lgroup *g, int ng, const struct svg_scale *sx, double *t)
{
    if (!sx->log)
        return 0;
    int n = 0;
    for (int i = 0; i < ng; i++)
        for (int j = 0; j < g[i].np; j++) {
            bool seen = false;
            for (int k = 0; k < n && !seen; k++)
                seen = t[k] == g[i].pts[j].x;
            if (seen)
                continue;
            if (n == LEARN_MAX_TICKS)
                return 0;
            t[n++] = g[i].pts[j].x;
        }
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    for (int k = 1; k < n; k++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "%g", t[k - 1]);
        snprintf(b, sizeof b, "%g", t[k]);
        double need = (svg_text_width(a, 11, false) + svg_text_width(b, 11, false)) / 2 + 8;
        if (svg_map(sx, t[k]) - svg_map(sx, t[k - 1]) < need)
            return 0;
    }
    return n;
}

static const char *const split_dash[LEARN_SPLITS] = {"7 4", NULL, "2 3"};

static int cmp_x(const void *a, const void *b)
{
    const struct lpoint *p = a, *q = b;
    return (p->x > q->x) - (p->x < q->x);
}

static void free_groups(struct lgroup *g, int n)
{
    for (int i = 0; i < n; i++) {
        free(g[i].label);
        free(g[i].pts);
    }
}

/* A polyline path over the finite means of split s; broken at gaps. */
static void split_path(FILE *out, const struct svg_scale *sx, const struct svg_scale *sy,
                       const struct lgroup *g, int s, const char *col)
{
    const char *dash = split_dash[s];
    fprintf(out,
            "<path class=\"line\" fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\"%s%s%s d=\"",
            col, s == 1 ? 2.2 : 1.7, dash ? " stroke-dasharray=\"" : "", dash ? dash : "",
            dash ? "\"" : "");
    bool pen = false;
    for (int i = 0; i < g->np; i++) {
        double m = g->pts[i].mean[s];
        if (!isfinite(m)) {
            pen = false;
            continue;
        }
        fprintf(out, "%s%.2f %.2f ", pen ? "L" : "M", svg_map(sx, g->pts[i].x), svg_map(sy, m));
        pen = true;
    }
    fputs("\"/>\n", out);
}

/* ± SE bands of split s over runs of points with a finite SE. */
static void split_band(FILE *out, const struct svg_scale *sx, const struct svg_scale *sy,
                       const struct lgroup *g, int s, const char *col)
{
    int i = 0;
    while (i < g->np) {
        while (i < g->np && !isfinite(g->pts[i].se[s]))
            i++;
        int a = i;
        while (i < g->np && isfinite(g->pts[i].se[s]))
            i++;
        if (i - a < 2) /* a lone point's band is its error bar */
            continue;
        fprintf(out, "<polygon class=\"band\" fill=\"%s\" fill-opacity=\"%.2f\" points=\"", col,
                s == 1 ? 0.20 : 0.10);
        for (int k = a; k < i; k++)
            fprintf(out, "%.2f,%.2f ", svg_map(sx, g->pts[k].x),
                    svg_map(sy, g->pts[k].mean[s] + g->pts[k].se[s]));
        for (int k = i - 1; k >= a; k--)
            fprintf(out, "%.2f,%.2f ", svg_map(sx, g->pts[k].x),
                    svg_map(sy, g->pts[k].mean[s] - g->pts[k].se[s]));
        fputs("\"/>\n", out);
    }
}

/* Markers: circle (validation), square (training), triangle (test), with tooltips. */
static void split_marks(FILE *out, const struct svg_scale *sx, const struct svg_scale *sy,
                        const struct lgroup *g, int s, const char *col, const char *key,
                        const char *const *mkeys)
{
    for (int i = 0; i < g->np; i++) {
        const struct lpoint *p = &g->pts[i];
        if (!isfinite(p->mean[s]))
            continue;
        double x = svg_map(sx, p->x), y = svg_map(sy, p->mean[s]);
        if (s == 1)
            fprintf(out, "<circle class=\"point\" cx=\"%.2f\" cy=\"%.2f\" r=\"3.6\" fill=\"%s\">",
                    x, y, col);
        else if (s == 0)
            fprintf(out,
                    "<rect class=\"point\" x=\"%.2f\" y=\"%.2f\" width=\"6\" height=\"6\" "
                    "fill=\"#fff\" stroke=\"%s\" stroke-width=\"1.5\">",
                    x - 3, y - 3, col);
        else
            fprintf(out,
                    "<polygon class=\"point\" points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f\" "
                    "fill=\"%s\">",
                    x, y - 4.5, x - 4, y + 3, x + 4, y + 3, col);
        char xs[32], m[32], se[32];
        resp_fmt_param_num(xs, sizeof xs, p->x);
        resp_fmt_short(m, sizeof m, p->mean[s]);
        resp_fmt_se(se, sizeof se, p->se[s]);
        svg_titlef(out, "%s, %s=%s: %s %s%s%s (n=%d)", g->label, key, xs, mkeys[s], m,
                   isfinite(p->se[s]) ? " \xC2\xB1 " : "", isfinite(p->se[s]) ? se : "", p->n);
        fputs(s == 1 ? "</circle>\n" : s == 0 ? "</rect>\n" : "</polygon>\n", out);
    }
}

/*
 * Rows into groups (in first-seen order), labelled by the other keys whose
 * values differ between the rows.  Returns the group count, -1 on ENOMEM.
 */
static int gather(const cJSON *rows, const cJSON *keys, const char *key, const char *const *mkeys,
                  struct lgroup *g, int *dropped, int *nonnum)
{
    int ng = 0;
    const cJSON *r;
    *dropped = *nonnum = 0;
    cJSON *vary = plot__varying_keys(rows, true, keys, key);
    if (!vary)
        return -1;
    cJSON_ArrayForEach(r, rows)
    {
        const cJSON *kv = cJSON_GetObjectItemCaseSensitive(r, key);
        if (!cJSON_IsNumber(kv) || !isfinite(kv->valuedouble)) {
            (*nonnum)++;
            continue;
        }
        char *label = plot__label(r, vary, "all configurations");
        if (!label) {
            cJSON_Delete(vary);
            return -1;
        }
        int gi = 0;
        while (gi < ng && strcmp(g[gi].label, label) != 0)
            gi++;
        if (gi == ng) {
            if (ng == LEARN_MAX_GROUPS) {
                (*dropped)++;
                free(label);
                continue;
            }
            g[ng].label = label;
            g[ng].pts = calloc((size_t)cJSON_GetArraySize(rows), sizeof *g[ng].pts);
            if (!g[ng++].pts) {
                cJSON_Delete(vary);
                return -1;
            }
        } else {
            free(label);
        }
        struct lpoint *p = &g[gi].pts[g[gi].np++];
        p->x = kv->valuedouble;
        double nn = resp_num(r, "n");
        p->n = isfinite(nn) ? (int)nn : 0;
        for (int s = 0; s < LEARN_SPLITS; s++) {
            char k[128];
            snprintf(k, sizeof k, "%s_mean", mkeys[s]);
            p->mean[s] = resp_num(r, k);
            snprintf(k, sizeof k, "%s_se", mkeys[s]);
            p->se[s] = isfinite(p->mean[s]) ? resp_num(r, k) : NAN;
        }
    }
    cJSON_Delete(vary);
    return ng;
}

/*
 * The sweep metric whose members are drawn: metric, else the sweep's, else
 * val_mse or val_accuracy by what the first row holds.  NULL with why set
 * when there is nothing to plot or key does not vary.
 */
static const char *learning_metric(const cJSON *resp, const char *key, const char *metric,
                                   const char *name, char *why, size_t whylen)
{
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(resp, "rows");
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(resp, "keys");
    const cJSON *first = cJSON_GetArrayItem(rows, 0);
    if (!first) {
        plot__why(why, whylen, "sweep %s has no finished trials yet: nothing to plot", name);
        return NULL;
    }
    bool varies = false;
    const cJSON *k;
    cJSON_ArrayForEach(k, keys) varies =
        varies || (cJSON_IsString(k) && strcmp(k->valuestring, key) == 0);
    if (!varies) {
        plot__why(why, whylen, "sweep %s: --key %s is not one of its varying grid keys", name, key);
        return NULL;
    }
    if (!metric)
        metric = resp_str(cJSON_GetObjectItemCaseSensitive(resp, "sweep"), "metric", NULL);
    if (!metric)
        metric =
            cJSON_GetObjectItemCaseSensitive(first, "val_mse_mean") ? "val_mse" : "val_accuracy";
    return metric;
}

/*
 * Sort each group's points by x and find the x range [*xlo, *xhi], the y
 * range [*lo, *hi] of every mean ± SE, and which splits hold any value.
 */
static void groups_extent(struct lgroup *g, int ng, double *xlo, double *xhi, double *lo,
                          double *hi, bool *have_split)
{
    *xlo = *lo = INFINITY;
    *xhi = *hi = -INFINITY;
    for (int i = 0; i < ng; i++) {
        qsort(g[i].pts, (size_t)g[i].np, sizeof *g[i].pts, cmp_x);
        for (int p = 0; p < g[i].np; p++) {
            plot__widen(xlo, xhi, g[i].pts[p].x);
            for (int s = 0; s < LEARN_SPLITS; s++) {
                double m = g[i].pts[p].mean[s], se = g[i].pts[p].se[s];
                if (!isfinite(m))
                    continue;
                have_split[s] = true;
                plot__widen(lo, hi, m);
                if (isfinite(se)) {
                    plot__widen(lo, hi, m - se);
                    plot__widen(lo, hi, m + se);
                }
            }
        }
    }
}

/* The x scale over [xlo, xhi] from left to plotr: log with a small margin, else padded 4%. */
static struct svg_scale learning_x(double xlo, double xhi, bool logx, double left, double plotr)
{
    struct svg_scale sx = {xlo, xhi, left, plotr, logx};
    if (logx) {
        sx.d0 = xlo / pow(10, 0.08);
        sx.d1 = xhi * pow(10, 0.08);
    } else {
        double pad = xhi > xlo ? (xhi - xlo) * 0.04 : (xlo != 0 ? fabs(xlo) * 0.1 : 1);
        sx.d0 = xlo - pad;
        sx.d1 = xhi + pad;
    }
    return sx;
}

/* Every group's bands, lines and markers, the first group drawn last (on top). */
static void draw_groups(FILE *out, const struct lgroup *g, int ng, const struct svg_scale *sx,
                        const struct svg_scale *sy, const char *key, const char *const *mkeys)
{
    for (int i = ng - 1; i >= 0; i--) {
        const char *col = svg_color(i);
        fprintf(out, "<g class=\"group\">");
        svg_titlef(out, "%s", g[i].label);
        fputc('\n', out);
        for (int s = 0; s < LEARN_SPLITS; s++)
            split_band(out, sx, sy, &g[i], s, col);
        for (int s = 0; s < LEARN_SPLITS; s++)
            split_path(out, sx, sy, &g[i], s, col);
        for (int s = 0; s < LEARN_SPLITS; s++)
            split_marks(out, sx, sy, &g[i], s, col, key, mkeys);
        fprintf(out, "</g>\n");
    }
}

/* Width of the legend at lx: its widest group label or split name. */
static double legend_right(const struct lgroup *g, int ng, const char *const *mkeys, double lx)
{
    double r = 0;
    for (int i = 0; i < ng; i++)
        r = fmax(r, lx + 22 + svg_text_width(g[i].label, 12, false));
    for (int s = 0; s < LEARN_SPLITS; s++)
        r = fmax(r, lx + 28 + svg_text_width(mkeys[s], 12, false));
    return r;
}

/* The legend at (lx, ly): the groups (colours), then the splits drawn (line styles). */
static void draw_legend(FILE *out, double lx, double ly, const struct lgroup *g, int ng,
                        const bool *have_split, const char *const *mkeys)
{
    fprintf(out, "<g class=\"legend\">\n");
    svg_text(out, lx, ly, "start", 12, "font-weight=\"bold\"", ng > 1 ? "group" : "configurations");
    ly += 22;
    for (int i = 0; i < ng; i++, ly += 24) {
        fprintf(out, "<g><title>");
        svg_escape(out, g[i].label);
        fprintf(out, "</title><circle cx=\"%.2f\" cy=\"%.2f\" r=\"5\" fill=\"%s\"/>", lx + 9,
                ly - 4, svg_color(i));
        svg_text(out, lx + 22, ly, "start", 12, NULL, g[i].label);
        fputs("</g>\n", out);
    }
    ly += 10;
    for (int s = 0; s < LEARN_SPLITS; s++) {
        if (!have_split[s])
            continue;
        svg_legend_item(out, lx, ly, "#444", split_dash[s] ? split_dash[s] : "", mkeys[s]);
        ly += 20;
    }
    fprintf(out, "</g>\n");
}

int plot__learning(FILE *out, const cJSON *resp, const char *key, const char *metric, char *why,
                   size_t whylen)
{
    char idbuf[32];
    const char *name = plot__sweep_name(resp, idbuf, sizeof idbuf);
    if (!(metric = learning_metric(resp, key, metric, name, why, whylen)))
        return CLI_FAILED;
    struct plot__metric parts;
    plot__metric_parts(metric, &parts);
    const char *mkeys[LEARN_SPLITS] = {parts.train, parts.val, parts.test};

    struct lgroup g[LEARN_MAX_GROUPS] = {{0}};
    int dropped, nonnum, rc = CLI_FAILED;
    int ng = gather(cJSON_GetObjectItemCaseSensitive(resp, "rows"),
                    cJSON_GetObjectItemCaseSensitive(resp, "keys"), key, mkeys, g, &dropped,
                    &nonnum);
    if (ng < 0) {
        plot__why(why, whylen, "out of memory");
        ng = LEARN_MAX_GROUPS;
        goto out;
    }
    double xlo, xhi, lo, hi;
    bool have_split[LEARN_SPLITS] = {false};
    groups_extent(g, ng, &xlo, &xhi, &lo, &hi, have_split);
    if (ng == 0) {
        plot__why(why, whylen,
                  "sweep %s: --key %s has no numeric values: a learning curve needs "
                  "numbers on its x axis",
                  name, key);
        goto out;
    }
    if (!isfinite(lo)) {
        plot__why(why, whylen, "sweep %s: no finite %s, %s or %s yet: nothing to plot", name,
                  mkeys[0], mkeys[1], mkeys[2]);
        goto out;
    }
    svg_nice_domain(&lo, &hi, 6);
    bool logx = xlo > 0 && xhi / xlo > 4;

    const double plotr = 660, ptop = 70, plotb = 430;
    struct svg_scale sy = {lo, hi, plotb, ptop, false};
    const double left = fmax(80, svg_axis_y_margin(&sy, parts.base));
    double w = fmax(980, legend_right(g, ng, mkeys, plotr + 24) + 12);
    const char *notes[2] = {0};
    char n1[200], n2[200];
    int nnotes = 0;
    if (dropped) {
        snprintf(n1, sizeof n1,
                 "%d configuration(s) of further groups not shown (at most %d groups)", dropped,
                 LEARN_MAX_GROUPS);
        notes[nnotes++] = n1;
    }
    if (nonnum) {
        snprintf(n2, sizeof n2, "%d configuration(s) without a numeric %s not shown", nonnum, key);
        notes[nnotes++] = n2;
    }
    double h = fmax(plotb + 64 + 16 * nnotes, ptop + 30 + ng * 24 + 100);
    char title[512], sub[400];
    snprintf(title, sizeof title, "Sweep %s \xE2\x80\x94 %s vs %s", name, parts.base, key);
    snprintf(sub, sizeof sub,
             "Mean over seeds per configuration, band \xC2\xB1 SE; solid: validation, dashed: "
             "training, dotted: test%s",
             logx ? "; log scale" : "");
    w = fmax(w, plot__text_need(title, sub, notes, nnotes));

    svg_begin(out, w, h);
    plot__titles(out, w, title, sub);
    struct svg_scale sx = learning_x(xlo, xhi, logx, left, plotr);
    svg_axis_y(out, &sy, left, plotr, parts.base);
    double xt[LEARN_MAX_TICKS];
    int nxt = data_ticks(g, ng, &sx, xt);
    if (nxt > 0) /* a log axis over a few sizes: label the sizes themselves (250, 500, ...) */
        svg_axis_x_at(out, &sx, ptop, plotb, xt, nxt, key);
    else
        svg_axis_x(out, &sx, ptop, plotb, 0, key);
    draw_groups(out, g, ng, &sx, &sy, key, mkeys);
    draw_legend(out, plotr + 24, ptop + 8, g, ng, have_split, mkeys);
    plot__notes(out, 12, plotb + 64, notes, nnotes);
    svg_end(out);
    rc = CLI_OK;
out:
    free_groups(g, ng);
    return rc;
}

int plot_learning(FILE *out, const cJSON *results_resp, const char *key)
{
    char why[512] = "";
    return plot__say_why(plot__learning(out, results_resp, key, NULL, why, sizeof why), why);
}

/* ---- the kind ---------------------------------------------------------------- */

static cJSON *learning_request(const struct plot_args *a, int i)
{
    (void)i;
    return plot__sweep_req("results", a);
}

static int learning_render(FILE *out, const struct plot_args *a, cJSON *const *resp, char *why,
                           size_t whylen)
{
    return plot__learning(out, resp[0], a->key, a->metric, why, whylen);
}

const struct plot_kind plot_kind_learning = {
    .name = "learning",
    .takes_key = true,
    .needs_key = true,
    .takes_metric = true,
    .nreq = 1,
    .request = learning_request,
    .render = learning_render,
};
