/*
 * plot_curves — `--kind curves`: mean learning curves (± SE bands over
 * seeds) of the best configurations, from the `best` op (which ones) and the
 * `results` op with per-epoch rows (the curves).  The columns drawn are the
 * metric's validation and training members (common/metric.h), else the losses,
 * and the test member when the rows carry finite test values (trials run with
 * "curve_test": true); without them the output is what it was before test
 * curves existed, byte for byte.  `--metric lr` draws the learning rate of
 * each epoch instead (the rows' `lr`, params.lr for trials without a
 * schedule), for the configurations the sweep's metric ranks best.
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

#define CURVES_MAX_TOP SVG_NCOLORS
#define CURVES_MAX_EPOCH 100000

struct agg {
    double sum, ss; /* sum of values, then sum of squared deviations */
    int n;
};

struct curve {
    int id, rank;
    char *label, *full; /* varying keys; every key (tooltips) */
    struct agg *val, *tr, *te; /* indexed by epoch 1..max_epoch; te: test */
    double const_lr;           /* params.lr: the rate of epochs that recorded none */
    int nmax;                  /* most seeds at any epoch */
    int fewer_from;            /* first epoch after which fewer seeds remain, 0 if none */
};

static double agg_mean(const struct agg *a)
{
    return a->n > 0 ? a->sum / a->n : NAN;
}

static double agg_se(const struct agg *a)
{
    return a->n > 1 ? sqrt(a->ss / (a->n - 1)) / sqrt(a->n) : NAN;
}

/* Which curve a row belongs to, or -1. */
static int curve_of(const struct curve *cv, int ncv, const cJSON *row)
{
    int id = resp_config_id(cJSON_GetObjectItemCaseSensitive(row, "config"));
    for (int i = 0; i < ncv; i++)
        if (cv[i].id == id)
            return i;
    return -1;
}

/* Epoch of a row: an integer in 1..CURVES_MAX_EPOCH, else 0. */
static int row_epoch(const cJSON *row)
{
    double e = resp_num(row, "epoch");
    return isfinite(e) && e >= 1 && e <= CURVES_MAX_EPOCH && e == floor(e) ? (int)e : 0;
}

/* Path "M x y L x y ..." over the finite means, broken where a mean is missing. */
static void curve_path(FILE *out, const struct svg_scale *sx, const struct svg_scale *sy,
                       const struct agg *a, int emax, const char *color, const char *dash,
                       double width)
{
    fprintf(out, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\"%s%s%s d=\"", color, width,
            dash ? " stroke-dasharray=\"" : "", dash ? dash : "", dash ? "\"" : "");
    bool pen = false;
    for (int e = 1; e <= emax; e++) {
        double m = agg_mean(&a[e]);
        if (!isfinite(m)) {
            pen = false;
            continue;
        }
        fprintf(out, "%s%.2f %.2f ", pen ? "L" : "M", svg_map(sx, e), svg_map(sy, m));
        pen = true;
    }
    fputs("\"/>\n", out);
}

/* Mean ± SE bands over each run of epochs with n >= 2. */
static void curve_band(FILE *out, const struct svg_scale *sx, const struct svg_scale *sy,
                       const struct agg *a, int emax, const char *color, double opacity)
{
    int e = 1;
    while (e <= emax) {
        while (e <= emax && !isfinite(agg_se(&a[e])))
            e++;
        int start = e;
        while (e <= emax && isfinite(agg_se(&a[e])))
            e++;
        int end = e - 1;
        if (end < start)
            continue;
        fprintf(out, "<polygon class=\"band\" fill=\"%s\" fill-opacity=\"%.2f\" points=\"", color,
                opacity);
        for (int k = start; k <= end; k++)
            fprintf(out, "%.2f,%.2f ", svg_map(sx, k),
                    svg_map(sy, agg_mean(&a[k]) + agg_se(&a[k])));
        for (int k = end; k >= start; k--)
            fprintf(out, "%.2f,%.2f ", svg_map(sx, k),
                    svg_map(sy, agg_mean(&a[k]) - agg_se(&a[k])));
        fputs("\"/>\n", out);
    }
}

static void free_curves(struct curve *cv, int n)
{
    for (int i = 0; i < n; i++) {
        free(cv[i].label);
        free(cv[i].full);
        free(cv[i].val);
        free(cv[i].tr);
        free(cv[i].te);
    }
}

/*
 * The first `top` configurations of best (rank order) as curves without
 * data; *nrows: how many had a finite mean.  0 with why set when none.
 */
static int pick_curves(const cJSON *best, int top, struct curve *cv, int *nrows, const char *name,
                       const char *metric, char *why, size_t whylen)
{
    struct plot__row *rows;
    int skipped;
    *nrows = plot__rows(best, false, NULL, &rows, &skipped, name, metric, why, whylen);
    if (*nrows == 0)
        return 0;
    int ncv = *nrows < top ? *nrows : top;
    for (int i = 0; i < ncv; i++) {
        cv[i].id = rows[i].id;
        cv[i].rank = rows[i].rank;
        cv[i].label = rows[i].label;
        cv[i].full = rows[i].full;
        rows[i].label = rows[i].full = NULL; /* now owned by cv */
    }
    plot__free_rows(rows, *nrows);
    return ncv;
}

/*
 * Sum the rows' vkey/tkey/skey (test) values into the curves' per-epoch
 * aggregates, in two passes: means first, then squared deviations from them
 * (stable for tiny spreads).  A null or missing test value is no value.
 * Returns the count of non-finite vkey values skipped.
 */
static int aggregate(const cJSON *rowsj, struct curve *cv, int ncv, const char *vkey,
                     const char *tkey, const char *skey)
{
    int nonfinite = 0;
    const cJSON *r;
    for (int pass = 0; pass < 2; pass++) {
        cJSON_ArrayForEach(r, rowsj)
        {
            int k = curve_of(cv, ncv, r), e = row_epoch(r);
            if (k < 0 || e == 0)
                continue;
            double v[3] = {resp_num(r, vkey), resp_num(r, tkey), resp_num(r, skey)};
            /* A trial without lr_schedule records no rate: it trained at params.lr throughout. */
            if ((strcmp(vkey, "lr") == 0 || strcmp(vkey, "epoch_lr") == 0) && !isfinite(v[0]))
                v[0] = cv[k].const_lr;
            struct agg *a[3] = {&cv[k].val[e], &cv[k].tr[e], &cv[k].te[e]};
            for (int j = 0; j < 3; j++) {
                if (!isfinite(v[j])) {
                    if (pass == 0 && j == 0)
                        nonfinite++;
                    continue;
                }
                if (pass == 0) {
                    a[j]->sum += v[j];
                    a[j]->n++;
                } else {
                    double d = v[j] - a[j]->sum / a[j]->n;
                    a[j]->ss += d * d;
                }
            }
        }
    }
    return nonfinite;
}

/*
 * The y range [*lo, *hi] of every mean ± SE, and each curve's seed count
 * (nmax, fewer_from).  *has_test: some curve holds a test value.  Returns
 * how many curves hold any value.
 */
static int curve_extent(struct curve *cv, int ncv, int emax, double *lo, double *hi, bool *has_test)
{
    int shown = 0;
    *has_test = false;
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int i = 0; i < ncv; i++) {
        for (int e = 1; e <= emax; e++) {
            const struct agg *a[3] = {&cv[i].val[e], &cv[i].tr[e], &cv[i].te[e]};
            for (int j = 0; j < 3; j++) {
                double m = agg_mean(a[j]), s = agg_se(a[j]);
                plot__widen(lo, hi, m);
                if (isfinite(s)) {
                    plot__widen(lo, hi, m - s);
                    plot__widen(lo, hi, m + s);
                }
            }
            if (cv[i].te[e].n > 0)
                *has_test = true;
            if (cv[i].val[e].n > cv[i].nmax)
                cv[i].nmax = cv[i].val[e].n;
        }
        for (int e = 2; e <= emax; e++)
            if (cv[i].val[e].n < cv[i].val[e - 1].n && cv[i].val[e - 1].n > 0) {
                cv[i].fewer_from = e;
                break;
            }
        if (cv[i].nmax > 0)
            shown++;
    }
    return shown;
}

#define DASH_TRAIN "6 4"
#define DASH_TEST "2 3"

/*
 * One configuration's bands, lines and per-epoch points (with tooltips) in
 * colour col; skey (test) is drawn and named only when non-NULL.
 */
static void draw_series(FILE *out, const struct svg_scale *sx, const struct svg_scale *sy,
                        const struct curve *c, int emax, const char *col, const char *vkey,
                        const char *tkey, const char *skey)
{
    fprintf(out, "<g class=\"series\">");
    svg_titlef(out, "#%d %s", c->rank, c->full);
    fputc('\n', out);
    curve_band(out, sx, sy, c->tr, emax, col, 0.10);
    curve_band(out, sx, sy, c->val, emax, col, 0.22);
    if (skey)
        curve_band(out, sx, sy, c->te, emax, col, 0.08);
    curve_path(out, sx, sy, c->tr, emax, col, DASH_TRAIN, 1.6);
    if (skey)
        curve_path(out, sx, sy, c->te, emax, col, DASH_TEST, 1.8);
    curve_path(out, sx, sy, c->val, emax, col, NULL, 2.2);
    for (int e = 1; e <= emax; e++) {
        const struct agg *a = &c->val[e];
        if (a->n == 0)
            continue;
        char m[32], s[32], tm[32], ts[32];
        resp_fmt_short(m, sizeof m, agg_mean(a));
        resp_fmt_se(s, sizeof s, agg_se(a));
        resp_fmt_short(tm, sizeof tm, agg_mean(&c->tr[e]));
        resp_fmt_se(ts, sizeof ts, agg_se(&c->tr[e]));
        fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.4\" fill=\"%s\">", svg_map(sx, e),
                svg_map(sy, agg_mean(a)), col);
        if (skey) {
            char sm[32], ss[32];
            resp_fmt_short(sm, sizeof sm, agg_mean(&c->te[e]));
            resp_fmt_se(ss, sizeof ss, agg_se(&c->te[e]));
            svg_titlef(out,
                       "#%d %s, epoch %d: %s %s \xC2\xB1 %s, %s %s \xC2\xB1 %s, %s %s \xC2\xB1 %s "
                       "(n=%d)",
                       c->rank, c->full, e, vkey, m, s, tkey, tm, ts, skey, sm, ss, a->n);
        } else if (!tkey[0]) {
            svg_titlef(out, "#%d %s, epoch %d: %s %s (n=%d)", c->rank, c->full, e,
                       strcmp(vkey, "epoch_lr") == 0 ? "lr" : vkey, m, a->n);
        } else
            svg_titlef(out, "#%d %s, epoch %d: %s %s \xC2\xB1 %s, %s %s \xC2\xB1 %s (n=%d)",
                       c->rank, c->full, e, vkey, m, s, tkey, tm, ts, a->n);
        fputs("</circle>\n", out);
    }
    fprintf(out, "</g>\n");
}

/* A legend entry's seed line: "n=3 seeds", with where early stopping left fewer. */
static void seed_line(char *buf, size_t n, const struct curve *c)
{
    if (c->fewer_from)
        snprintf(buf, n, "n=%d seeds, fewer from epoch %d (early stopping)", c->nmax,
                 c->fewer_from);
    else
        snprintf(buf, n, "n=%d seed%s", c->nmax, c->nmax == 1 ? "" : "s");
}

/* Width of the legend's widest line, from its swatch's left edge. */
static double legend_width(const struct curve *cv, int ncv)
{
    double w = 120;
    for (int i = 0; i < ncv; i++) {
        char text[PLOT_LABEL_BUF], nline[160];
        snprintf(text, sizeof text, "#%d %s", cv[i].rank, cv[i].label);
        seed_line(nline, sizeof nline, &cv[i]);
        w = fmax(w, 22 + svg_text_width(text, 12, false));
        w = fmax(w, 22 + svg_text_width(nline, 10.5, false));
    }
    return w;
}

/* The legend at (lx, ly): one entry per configuration, then the line styles. */
static void draw_legend(FILE *out, double lx, double ly, const struct curve *cv, int ncv,
                        bool has_test, bool styles)
{
    fprintf(out, "<g class=\"legend\">\n");
    svg_text(out, lx, ly, "start", 12, "font-weight=\"bold\"", "configuration");
    ly += 22;
    for (int i = 0; i < ncv; i++) {
        char text[PLOT_LABEL_BUF], nline[160];
        snprintf(text, sizeof text, "#%d %s", cv[i].rank, cv[i].label);
        seed_line(nline, sizeof nline, &cv[i]);
        fprintf(out, "<g><title>#%d ", cv[i].rank);
        svg_escape(out, cv[i].full);
        fprintf(out, " (%s)</title>", nline);
        fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"5\" fill=\"%s\"/>", lx + 9, ly - 4,
                svg_color(i));
        svg_text(out, lx + 22, ly, "start", 12, NULL, text);
        svg_text(out, lx + 22, ly + 14, "start", 10.5, "fill=\"" COL_NOTE "\"", nline);
        fputs("</g>\n", out);
        ly += 34;
    }
    ly += 6;
    if (!styles) {
        fprintf(out, "</g>\n");
        return;
    }
    svg_legend_item(out, lx, ly, "#444", "", "validation");
    svg_legend_item(out, lx, ly + 20, "#444", DASH_TRAIN, "training");
    if (has_test)
        svg_legend_item(out, lx, ly + 40, "#444", DASH_TEST, "test");
    fprintf(out, "</g>\n");
}

/* params.lr of configuration id in best's configs (NaN when absent). */
static double config_lr(const cJSON *best, int id)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(best, "configs"))
    {
        const cJSON *conf = cJSON_GetObjectItemCaseSensitive(c, "config");
        if (resp_config_id(conf) == id)
            return resp_num(cJSON_GetObjectItemCaseSensitive(conf, "params"), "lr");
    }
    return NAN;
}

static int curves_draw(FILE *out, const cJSON *best, const cJSON *curves, int top, bool lr,
                       char *why, size_t whylen);

int plot__curves(FILE *out, const cJSON *best, const cJSON *curves, int top, char *why,
                 size_t whylen)
{
    return curves_draw(out, best, curves, top, false, why, whylen);
}

/* The quantity drawn and the curve rows' keys of its validation/training/test members. */
struct curve_keys {
    const char *base, *val, *train, *test;
};

/*
 * The keys to draw: the metric's ("accuracy", "loss", "mse") when the rows
 * have them, else the loss; with lr the learning rate alone.  The strings
 * point into parts or are static.
 */
static struct curve_keys curve_keys_of(const struct plot__metric *parts, const cJSON *first,
                                       bool lr)
{
    struct curve_keys k = {parts->base, parts->val, parts->train, parts->test};
    if (lr) {
        /* The epoch's rate: "epoch_lr" when the grid varies lr (whose value "lr" is then). */
        k.val = first && cJSON_GetObjectItemCaseSensitive(first, "epoch_lr") ? "epoch_lr" : "lr";
        k.train = k.test = ""; /* no row has these: nothing drawn but the rate */
        k.base = "learning rate";
    } else if (first && !cJSON_GetObjectItemCaseSensitive(first, k.val)) {
        k.val = metric_name(MLP_M_VAL_LOSS);
        k.train = metric_name(MLP_M_TRAIN_LOSS);
        k.test = metric_name(MLP_M_TEST_LOSS);
        k.base = metric_kind_name(METRIC_LOSS);
    }
    return k;
}

/* The last epoch recorded by any of the picked configurations (0: none). */
static int curves_last_epoch(const cJSON *rowsj, const struct curve *cv, int ncv)
{
    int emax = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, rowsj)
    {
        int e = row_epoch(r);
        if (e > emax && curve_of(cv, ncv, r) >= 0)
            emax = e;
    }
    return emax;
}

/* Each curve's per-epoch sums for epochs 1..emax; false when out of memory. */
static bool curves_alloc(struct curve *cv, int ncv, int emax)
{
    for (int i = 0; i < ncv; i++) {
        cv[i].val = calloc((size_t)emax + 1, sizeof(struct agg));
        cv[i].tr = calloc((size_t)emax + 1, sizeof(struct agg));
        cv[i].te = calloc((size_t)emax + 1, sizeof(struct agg));
        if (!cv[i].val || !cv[i].tr || !cv[i].te)
            return false;
    }
    return true;
}

/* The subtitle: what a line and a band are, and which configurations are shown. */
static void curves_subtitle(char *sub, size_t n, bool lr, bool has_test, int ncv,
                            const char *metric)
{
    if (lr)
        snprintf(sub, n,
                 "Learning rate of each epoch's last batch (params.lr without a schedule), mean "
                 "over seeds; top %d by %s",
                 ncv, metric);
    else
        snprintf(sub, n,
                 "Mean over seeds per epoch, band \xC2\xB1 SE; solid: validation, dashed: "
                 "training%s; top %d by %s",
                 has_test ? ", dotted: test" : "", ncv, metric);
}

/*
 * The curves of one column: the metric's validation/training/test members,
 * or with lr the learning rate of each epoch (the `lr` of the curve rows,
 * params.lr where a trial recorded none), one line per configuration.
 */
static int curves_draw(FILE *out, const cJSON *best, const cJSON *curves, int top, bool lr,
                       char *why, size_t whylen)
{
    char idbuf[32];
    const char *name = plot__sweep_name(best, idbuf, sizeof idbuf);
    const char *metric = resp_str(best, "metric", metric_name(MLP_M_VAL_ACCURACY));
    if (top < 1)
        top = 5;
    if (top > CURVES_MAX_TOP)
        top = CURVES_MAX_TOP;
    struct curve cv[CURVES_MAX_TOP] = {{0}};
    int ncv = 0, rc = CLI_FAILED;

    int nrows;
    ncv = pick_curves(best, top, cv, &nrows, name, metric, why, whylen);
    if (ncv == 0)
        return CLI_FAILED;

    /* Which columns: the metric's quantity ("accuracy", "loss", "mse"), else loss. */
    const cJSON *rowsj = cJSON_GetObjectItemCaseSensitive(curves, "rows");
    struct plot__metric parts;
    plot__metric_parts(metric, &parts);
    struct curve_keys keys = curve_keys_of(&parts, cJSON_GetArrayItem(rowsj, 0), lr);
    const char *base = keys.base, *vkey = keys.val, *tkey = keys.train, *skey = keys.test;
    for (int i = 0; i < ncv; i++)
        cv[i].const_lr = config_lr(best, cv[i].id);

    int emax = curves_last_epoch(rowsj, cv, ncv);
    if (emax == 0) {
        plot__why(why, whylen, "sweep %s: no per-epoch curves recorded for its best configurations",
                  name);
        goto out;
    }
    if (!curves_alloc(cv, ncv, emax)) {
        plot__why(why, whylen, "out of memory");
        goto out;
    }
    int nonfinite = aggregate(rowsj, cv, ncv, vkey, tkey, skey);
    double lo, hi;
    bool has_test;
    int shown = curve_extent(cv, ncv, emax, &lo, &hi, &has_test);
    if (!shown || !isfinite(lo)) {
        plot__why(why, whylen, "sweep %s: the curves of its best configurations hold no finite %s",
                  name, vkey);
        goto out;
    }
    svg_nice_domain(&lo, &hi, 6);

    const double plotr = 640, ptop = 70, plotb = 430;
    struct svg_scale sy = {lo, hi, plotb, ptop, false};
    const double left = fmax(78, svg_axis_y_margin(&sy, base));
    double w = fmax(960, plotr + 24 + legend_width(cv, ncv) + 12);
    const char *notes[2] = {0};
    char note_nf[200], note_top[200];
    int nnotes = 0;
    if (nonfinite) {
        snprintf(note_nf, sizeof note_nf, "%d non-finite %s value(s) skipped (diverged trials)",
                 nonfinite, vkey);
        notes[nnotes++] = note_nf;
    }
    if (nrows > ncv) {
        snprintf(note_top, sizeof note_top,
                 "Top %d of %d configurations shown (--top K, at most %d)", ncv, nrows,
                 CURVES_MAX_TOP);
        notes[nnotes++] = note_top;
    }
    double h = plotb + 60 + 16 * nnotes + 6;
    double legend_h = ptop + 20 + ncv * 34 + 70 + (has_test ? 20 : 0);
    if (legend_h > h)
        h = legend_h;

    char title[512], sub[300];
    snprintf(title, sizeof title, "Sweep %s \xE2\x80\x94 learning curves (%s)", name, base);
    curves_subtitle(sub, sizeof sub, lr, has_test, ncv, metric);
    w = fmax(w, plot__text_need(title, sub, notes, nnotes));
    svg_begin(out, w, h);
    plot__titles(out, w, title, sub);
    struct svg_scale sx = {1, emax, left, plotr, false};
    if (emax == 1) {
        sx.d0 = 0.5;
        sx.d1 = 1.5;
    }
    svg_axis_y(out, &sy, left, plotr, base);
    svg_axis_x(out, &sx, ptop, plotb, 1, "epoch");

    /* Worst first so that the best configuration is drawn on top. */
    for (int i = ncv - 1; i >= 0; i--)
        draw_series(out, &sx, &sy, &cv[i], emax, svg_color(i), vkey, tkey, has_test ? skey : NULL);

    draw_legend(out, plotr + 24, ptop + 8, cv, ncv, has_test, !lr);
    plot__notes(out, 12, plotb + 62, notes, nnotes);
    svg_end(out);
    rc = CLI_OK;
out:
    free_curves(cv, ncv);
    return rc;
}

int plot_curves(FILE *out, const cJSON *best_resp, const cJSON *curves_resp, int top)
{
    char why[512] = "";
    return plot__say_why(plot__curves(out, best_resp, curves_resp, top, why, sizeof why), why);
}

/* ---- the kind ---------------------------------------------------------------- */

static cJSON *curves_request(const struct plot_args *a, int i)
{
    cJSON *req = plot__sweep_req(i == 0 ? "best" : "results", a);
    bool ok = req != NULL;
    /* --metric lr draws the rate of the configurations the sweep's metric ranks best. */
    bool lr = a->metric && strcmp(a->metric, "lr") == 0;
    if (ok && i == 0)
        ok = cJSON_AddNumberToObject(req, "top", 1000) &&
             (!a->metric || lr || cJSON_AddStringToObject(req, "metric", a->metric));
    else if (ok)
        ok = cJSON_AddBoolToObject(req, "curves", 1) != NULL;
    if (!ok) {
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

static int curves_render(FILE *out, const struct plot_args *a, cJSON *const *resp, char *why,
                         size_t whylen)
{
    bool lr = a->metric && strcmp(a->metric, "lr") == 0;
    return curves_draw(out, resp[0], resp[1], a->top ? a->top : 5, lr, why, whylen);
}

const struct plot_kind plot_kind_curves = {
    .name = "curves",
    .takes_metric = true,
    .nreq = 2,
    .request = curves_request,
    .render = curves_render,
};
