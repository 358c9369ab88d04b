/*
 * plot — `mlpctl plot` and the four SVG renderers (see plot.h).
 *
 * The renderers read the daemon's responses as they come off the wire
 * (daemon/PROTOCOL.md): `best` for the ranking, `best` + `results` with
 * curves for learning curves, `show` for the train/validation gap, `show`
 * with `by` for the marginal effect of one key.  Each renderer first
 * gathers and checks everything it needs and only then writes, so a
 * failure (an empty sweep, no curves) leaves its FILE* untouched.
 *
 * Layout: horizontal dot plots (configuration labels on the left, one row
 * per configuration, best on top) for ranking and gap, because labels such
 * as "hidden=[256,128] lr=0.1 l2=0.0001" only fit horizontally; x/y line
 * and point plots for curves and `by`.  Error bars are ± one standard error
 * over seeds; a point with n = 1 has none and says "n=1".  Non-finite means
 * (diverged trials) are skipped and the number skipped is noted under the
 * plot.  Colours are the Okabe–Ito palette; train and validation also
 * differ in marker shape or dash so that nothing rests on colour alone.
 */
#include "plot.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resp.h"
#include "svg.h"

#define COL_VAL "#0072B2"   /* validation / the metric: blue */
#define COL_TRAIN "#E69F00" /* training: orange */
#define COL_BEST "#D55E00"  /* the best configuration: vermillion */
#define COL_LIGHT "#9ecae9" /* 95% interval bar: light blue */
#define COL_NOTE "#555"

#define LABEL_MAX 56 /* characters of a configuration label shown in rows */
#define CHAR_W 6.9   /* rough width of one 12 px character */

/* ---- small helpers ---------------------------------------------------- */

static void set_why(char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t n, const char *fmt, ...)
{
    if (!why || n == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
}

/* The sweep's display name from a response's "sweep" summary. */
static const char *sweep_name(const cJSON *resp, char *buf, size_t n)
{
    const cJSON *sw = cJSON_GetObjectItemCaseSensitive(resp, "sweep");
    const char *name = resp_str(sw, "name", NULL);
    if (name)
        return name;
    double id = resp_num(sw, "id");
    if (isfinite(id))
        snprintf(buf, n, "%.0f", id);
    else
        snprintf(buf, n, "?");
    return buf;
}

/* Extend [*lo, *hi] by v when finite. */
static void widen(double *lo, double *hi, double v)
{
    if (!isfinite(v))
        return;
    if (v < *lo)
        *lo = v;
    if (v > *hi)
        *hi = v;
}

/* Title and subtitle at the top of every plot. */
static void draw_titles(FILE *out, double w, const char *title, const char *subtitle)
{
    svg_text(out, w / 2, 26, "middle", 16, "font-weight=\"bold\"", title);
    if (subtitle)
        svg_text(out, w / 2, 46, "middle", 12, "fill=\"" COL_NOTE "\"", subtitle);
}

/* Notes under a plot, one per line, starting at y. */
static void draw_notes(FILE *out, double x, double y, const char *const *notes, int n)
{
    for (int i = 0; i < n; i++)
        if (notes[i] && *notes[i])
            svg_text(out, x, y + 16 * i, "start", 11.5, "fill=\"" COL_NOTE "\"", notes[i]);
}

/* A configuration row label: "#1 lr=0.1 hidden=[256,128]", cut, with the full text as tooltip. */
static void draw_row_label(FILE *out, double x, double y, int rank, const char *label, int n,
                           bool bold)
{
    char full[2048];
    if (rank > 0)
        snprintf(full, sizeof full, "#%d %s%s", rank, label, n == 1 ? " (n=1)" : "");
    else
        snprintf(full, sizeof full, "%s%s", label, n == 1 ? " (n=1)" : "");
    fprintf(out, "<g><title>");
    svg_escape(out, full);
    fprintf(out, "</title><text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\" font-size=\"12\"%s>", x,
            y + 4, bold ? " font-weight=\"bold\"" : "");
    svg_escape_cut(out, full, LABEL_MAX);
    fputs("</text></g>\n", out);
}

/* The public renderers' tail: on failure, `why` on stderr.  Returns rc. */
static int say_why(int rc, const char *why)
{
    if (rc != CLI_OK)
        fprintf(stderr, "mlpctl plot: %s\n", why);
    return rc;
}

/* ---- (a) ranking -------------------------------------------------------- */

struct rank_row {
    int rank;
    int id; /* configuration id */
    char *label;
    struct resp_stat st;
    struct resp_stat tr; /* train counterpart (gap plot) */
    double gap;          /* gap plot */
};

static void free_rows(struct rank_row *rows, int n)
{
    for (int i = 0; rows && i < n; i++)
        free(rows[i].label);
    free(rows);
}

/* Width in pixels that the longest row label needs. */
static double label_width(const struct rank_row *rows, int n)
{
    size_t widest = 10;
    for (int i = 0; i < n; i++) {
        size_t l = svg_strlen(rows[i].label) + 4 + (rows[i].rank >= 10 ? 2 : 1) + 7;
        if (l > LABEL_MAX)
            l = LABEL_MAX;
        if (l > widest)
            widest = l;
    }
    return widest * CHAR_W;
}

/*
 * Width of a row plot: labels, then a plotw-wide plot area, then `right`;
 * at least 760, the extra going to the label column.  *left: the plot's left edge.
 */
static double row_plot_width(const struct rank_row *rows, int n, double plotw, double right,
                             double *left)
{
    *left = 16 + label_width(rows, n);
    double w = *left + plotw + right;
    if (w < 760) {
        *left += 760 - w;
        w = 760;
    }
    return w;
}

/* The note for configurations left out of a row plot: no finite metric. */
static void note_skipped(char *buf, size_t n, int skipped, const char *metric)
{
    snprintf(buf, n, "%d configuration(s) not shown: no finite %s (diverged or unfinished)",
             skipped, metric);
}

/* Grey stripes behind every other row of a row plot w wide, rows from y = top. */
static void draw_stripes(FILE *out, int n, double top, double rowh, double w)
{
    for (int i = 0; i < n; i += 2)
        fprintf(out,
                "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#f6f6f6\"/>\n",
                8.0, top + rowh * i, w - 16, rowh);
}

/* Close a row plot (ranking, gap): its rows group, notes, the document; frees rows.  CLI_OK. */
static int end_row_plot(FILE *out, struct rank_row *rows, int n, double plot_bot,
                        const char *const *notes, int nnotes)
{
    fprintf(out, "</g>\n");
    draw_notes(out, 12, plot_bot + 58, notes, nnotes);
    svg_end(out);
    free_rows(rows, n);
    return CLI_OK;
}
static int cmp_rank(const void *a, const void *b)
{
    const struct rank_row *x = a, *y = b;
    int rx = x->rank > 0 ? x->rank : 1 << 30, ry = y->rank > 0 ? y->rank : 1 << 30;
    return (rx > ry) - (rx < ry);
}

/*
 * Rows of the configurations in resp's "configs" with a finite mean, sorted
 * by rank; *skipped counts those without.  with_train also reads "train"
 * and "gap" (show responses).  Returns the row count, -1 on ENOMEM.
 */
static int gather_rows(const cJSON *resp, bool with_train, struct rank_row **out, int *skipped,
                       int *total)
{
    const cJSON *configs = cJSON_GetObjectItemCaseSensitive(resp, "configs");
    int cap = cJSON_GetArraySize(configs), n = 0;
    *skipped = 0;
    *total = cap;
    *out = NULL;
    if (cap == 0)
        return 0;
    struct rank_row *rows = calloc((size_t)cap, sizeof *rows);
    if (!rows)
        return -1;
    const cJSON *c;
    int pos = 0;
    cJSON_ArrayForEach(c, configs)
    {
        pos++;
        struct rank_row r = {0};
        resp_stat_get(cJSON_GetObjectItemCaseSensitive(c, "stat"), &r.st);
        if (!isfinite(r.st.mean)) {
            (*skipped)++;
            continue;
        }
        double rank = resp_num(c, "rank");
        r.rank = isfinite(rank) && rank >= 1 && rank < 1e9 ? (int)rank : pos;
        if (with_train) {
            resp_stat_get(cJSON_GetObjectItemCaseSensitive(c, "train"), &r.tr);
            r.gap = resp_num(c, "gap");
            if (!isfinite(r.gap))
                r.gap = r.tr.mean - r.st.mean;
        }
        const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(c, "config");
        r.id = resp_config_id(cfg);
        r.label = resp_config_label(cfg);
        if (!r.label) {
            free_rows(rows, n);
            return -1;
        }
        rows[n++] = r;
    }
    if (n == 0) {
        free(rows);
        return 0;
    }
    qsort(rows, (size_t)n, sizeof *rows, cmp_rank);
    *out = rows;
    return n;
}

/*
 * gather_rows for a plot of sweep `name`: the row count, or 0 with `why` set
 * (out of memory, or nothing to draw: no finite `metric`).
 */
static int plot_rows(const cJSON *resp, bool with_train, struct rank_row **rows, int *skipped,
                     const char *name, const char *metric, char *why, size_t whylen)
{
    int total;
    int n = gather_rows(resp, with_train, rows, skipped, &total);
    if (n < 0)
        set_why(why, whylen, "out of memory");
    else if (n == 0 && *skipped)
        set_why(why, whylen,
                "sweep %s: none of its %d configuration(s) has a finite %s yet "
                "(diverged or unfinished): nothing to plot",
                name, *skipped, metric);
    else if (n == 0)
        set_why(why, whylen, "sweep %s has no finished trials yet: nothing to plot", name);
    return n > 0 ? n : 0;
}

int plot__ranking(FILE *out, const cJSON *resp, char *why, size_t whylen)
{
    char idbuf[32];
    const char *name = sweep_name(resp, idbuf, sizeof idbuf);
    const char *metric = resp_str(resp, "metric", "metric");
    const char *dir = resp_str(resp, "direction", "max");
    struct rank_row *rows;
    int skipped;
    int n = plot_rows(resp, false, &rows, &skipped, name, metric, why, whylen);
    if (n == 0)
        return CLI_FAILED;

    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        struct resp_stat *s = &rows[i].st;
        widen(&lo, &hi, s->mean);
        widen(&lo, &hi, s->ci_low);
        widen(&lo, &hi, s->ci_high);
        if (isfinite(s->se)) {
            widen(&lo, &hi, s->mean - s->se);
            widen(&lo, &hi, s->mean + s->se);
        }
    }
    svg_nice_domain(&lo, &hi, 5);

    const double rowh = 24, top = 78, plotw = 440, right = 200;
    double left, h, w = row_plot_width(rows, n, plotw, right, &left);
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
        note_skipped(note_skip, sizeof note_skip, skipped, metric);
        notes[nnotes++] = note_skip;
    }
    double plot_bot = top + rowh * n;
    h = plot_bot + 56 + 16 * nnotes + 8;

    svg_begin(out, w, h);
    char title[512], sub[256];
    snprintf(title, sizeof title, "Sweep %s \xE2\x80\x94 %s by configuration", name, metric);
    snprintf(sub, sizeof sub,
             "%d configuration(s), best first (%s is %s). Dot: mean; dark bar: \xC2\xB1 SE; "
             "light bar: 95%% t-interval",
             n, metric, strcmp(dir, "min") == 0 ? "minimised" : "maximised");
    draw_titles(out, w, title, sub);
    draw_stripes(out, n, top, rowh, w);
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
        draw_row_label(out, left - 12, y, rows[i].rank, rows[i].label, s->n, best);
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
        svg_titlef(out, "#%d %s: %s", rows[i].rank, rows[i].label, val);
        fputs("</circle>\n", out);
        svg_text(out, left + plotw + 12, y + 4, "start", 12, NULL, val);
    }
    return end_row_plot(out, rows, n, plot_bot, notes, nnotes);
}

int plot_ranking(FILE *out, const cJSON *best_resp)
{
    char why[512] = "";
    return say_why(plot__ranking(out, best_resp, why, sizeof why), why);
}

/* ---- (c) gap -------------------------------------------------------------- */

int plot__gap(FILE *out, const cJSON *resp, char *why, size_t whylen)
{
    char idbuf[32];
    const char *name = sweep_name(resp, idbuf, sizeof idbuf);
    const char *metric = resp_str(resp, "metric", "val_accuracy");
    struct rank_row *rows;
    int skipped;
    int n = plot_rows(resp, true, &rows, &skipped, name, metric, why, whylen);
    if (n == 0)
        return CLI_FAILED;
    /* "val_accuracy" -> "accuracy", the quantity on the x axis; "train_accuracy" its partner. */
    const char *base = strchr(metric, '_') ? strchr(metric, '_') + 1 : metric;
    char train_name[96];
    snprintf(train_name, sizeof train_name, "train_%s", base);

    double lo = INFINITY, hi = -INFINITY;
    int no_train = 0;
    for (int i = 0; i < n; i++) {
        const struct resp_stat *ss[2] = {&rows[i].st, &rows[i].tr};
        for (int k = 0; k < 2; k++) {
            widen(&lo, &hi, ss[k]->mean);
            if (isfinite(ss[k]->se) && isfinite(ss[k]->mean)) {
                widen(&lo, &hi, ss[k]->mean - ss[k]->se);
                widen(&lo, &hi, ss[k]->mean + ss[k]->se);
            }
        }
        if (!isfinite(rows[i].tr.mean))
            no_train++;
    }
    svg_nice_domain(&lo, &hi, 5);

    const double rowh = 24, top = 96, plotw = 440, right = 150;
    double left, w = row_plot_width(rows, n, plotw, right, &left);
    const char *notes[2] = {0};
    char note_skip[200], note_train[200];
    int nnotes = 0;
    if (skipped) {
        note_skipped(note_skip, sizeof note_skip, skipped, metric);
        notes[nnotes++] = note_skip;
    }
    if (no_train) {
        snprintf(note_train, sizeof note_train, "%d configuration(s) without a finite %s", no_train,
                 train_name);
        notes[nnotes++] = note_train;
    }
    double plot_bot = top + rowh * n;
    double h = plot_bot + 56 + 16 * nnotes + 8;

    svg_begin(out, w, h);
    char title[512], sub[300];
    snprintf(title, sizeof title, "Sweep %s \xE2\x80\x94 train vs validation %s", name, base);
    snprintf(sub, sizeof sub,
             "Per configuration, best %s first; bars \xC2\xB1 SE over seeds; "
             "gap = train \xE2\x88\x92 validation (large: overfitting; both low: underfitting)",
             metric);
    draw_titles(out, w, title, sub);
    /* Legend: two series, distinguished by shape as well as colour. */
    fprintf(out, "<g class=\"legend\">");
    svg_legend_item(out, left, 72, COL_VAL, NULL, metric);
    fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"9\" height=\"9\" fill=\"%s\"/>",
            left + 180 + 4.5, 72 - 8.5, COL_TRAIN);
    svg_text(out, left + 180 + 28, 72, "start", 12, NULL, train_name);
    fprintf(out, "</g>\n");
    svg_text(out, left + plotw + 12, top - 8, "start", 11.5,
             "font-weight=\"bold\" fill=\"" COL_NOTE "\"", "gap");
    draw_stripes(out, n, top, rowh, w);
    struct svg_scale sx = {lo, hi, left, left + plotw, false};
    svg_axis_x(out, &sx, top - 4, plot_bot, 0, base);

    fprintf(out, "<g class=\"rows\">\n");
    for (int i = 0; i < n; i++) {
        const struct resp_stat *v = &rows[i].st, *t = &rows[i].tr;
        double y = top + rowh * i + rowh / 2;
        int nmin = isfinite(t->mean) && t->n < v->n ? t->n : v->n;
        draw_row_label(out, left - 12, y, rows[i].rank, rows[i].label, nmin, false);
        double xv = svg_map(&sx, v->mean);
        if (isfinite(t->mean))
            fprintf(out,
                    "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#999\" "
                    "stroke-width=\"2\"/>\n",
                    xv, y, svg_map(&sx, t->mean), y);
        char val[96];
        if (isfinite(t->mean)) {
            double xt = svg_map(&sx, t->mean);
            if (t->n >= 2 && isfinite(t->se))
                svg_errbar(out, svg_map(&sx, t->mean - t->se), y - 3, svg_map(&sx, t->mean + t->se),
                           y - 3, 4, COL_TRAIN);
            resp_fmt_mean_se(val, sizeof val, t);
            fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"9\" height=\"9\" fill=\"%s\">",
                    xt - 4.5, y - 4.5, COL_TRAIN);
            svg_titlef(out, "%s %s: %s", rows[i].label, train_name, val);
            fputs("</rect>\n", out);
        }
        if (v->n >= 2 && isfinite(v->se))
            svg_errbar(out, svg_map(&sx, v->mean - v->se), y + 3, svg_map(&sx, v->mean + v->se),
                       y + 3, 4, COL_VAL);
        resp_fmt_mean_se(val, sizeof val, v);
        fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"5\" fill=\"%s\">", xv, y, COL_VAL);
        svg_titlef(out, "%s %s: %s", rows[i].label, metric, val);
        fputs("</circle>\n", out);
        double gap = rows[i].gap;
        if (isfinite(gap))
            svg_textf(out, left + plotw + 12, y + 4, "start", 12, NULL, "%+.4f", gap);
        else
            svg_text(out, left + plotw + 12, y + 4, "start", 12, NULL, "n/a");
    }
    return end_row_plot(out, rows, n, plot_bot, notes, nnotes);
}

int plot_gap(FILE *out, const cJSON *show_resp)
{
    char why[512] = "";
    return say_why(plot__gap(out, show_resp, why, sizeof why), why);
}

/* ---- (b) curves ------------------------------------------------------------ */

#define CURVES_MAX_TOP SVG_NCOLORS
#define CURVES_MAX_EPOCH 100000

struct agg {
    double sum, ss; /* sum of values, then sum of squared deviations */
    int n;
};

struct curve {
    int id, rank;
    char *label;
    struct agg *val, *tr; /* indexed by epoch 1..max_epoch */
    int nmax;             /* most seeds at any epoch */
    int fewer_from;       /* first epoch after which fewer seeds remain, 0 if none */
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
        free(cv[i].val);
        free(cv[i].tr);
    }
}

int plot__curves(FILE *out, const cJSON *best, const cJSON *curves, int top, char *why,
                 size_t whylen)
{
    char idbuf[32];
    const char *name = sweep_name(best, idbuf, sizeof idbuf);
    const char *metric = resp_str(best, "metric", "val_accuracy");
    if (top < 1)
        top = 5;
    if (top > CURVES_MAX_TOP)
        top = CURVES_MAX_TOP;
    struct curve cv[CURVES_MAX_TOP] = {{0}};
    int ncv = 0, rc = CLI_FAILED;

    /* The top configurations with a finite mean, in rank order. */
    struct rank_row *rows;
    int skipped;
    int nrows = plot_rows(best, false, &rows, &skipped, name, metric, why, whylen);
    if (nrows == 0)
        return CLI_FAILED;
    ncv = nrows < top ? nrows : top;
    for (int i = 0; i < ncv; i++) {
        cv[i].id = rows[i].id;
        cv[i].rank = rows[i].rank;
        cv[i].label = rows[i].label;
        rows[i].label = NULL; /* now owned by cv */
    }
    free_rows(rows, nrows);

    /* Which columns: the metric's quantity ("accuracy", "loss", "mse"), else loss. */
    const cJSON *rowsj = cJSON_GetObjectItemCaseSensitive(curves, "rows");
    const char *base = strchr(metric, '_') ? strchr(metric, '_') + 1 : metric;
    char vkey[64], tkey[64];
    snprintf(vkey, sizeof vkey, "val_%s", base);
    snprintf(tkey, sizeof tkey, "train_%s", base);
    const cJSON *first = cJSON_GetArrayItem(rowsj, 0);
    if (first && !cJSON_GetObjectItemCaseSensitive(first, vkey)) {
        snprintf(vkey, sizeof vkey, "val_loss");
        snprintf(tkey, sizeof tkey, "train_loss");
        base = "loss";
    }

    int emax = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, rowsj)
    {
        int e = row_epoch(r);
        if (e > emax && curve_of(cv, ncv, r) >= 0)
            emax = e;
    }
    if (emax == 0) {
        set_why(why, whylen, "sweep %s: no per-epoch curves recorded for its best configurations",
                name);
        goto out;
    }
    for (int i = 0; i < ncv; i++) {
        cv[i].val = calloc((size_t)emax + 1, sizeof(struct agg));
        cv[i].tr = calloc((size_t)emax + 1, sizeof(struct agg));
        if (!cv[i].val || !cv[i].tr) {
            set_why(why, whylen, "out of memory");
            goto out;
        }
    }
    /* Two passes: means first, then squared deviations from them (stable for tiny spreads). */
    int nonfinite = 0;
    for (int pass = 0; pass < 2; pass++) {
        cJSON_ArrayForEach(r, rowsj)
        {
            int k = curve_of(cv, ncv, r), e = row_epoch(r);
            if (k < 0 || e == 0)
                continue;
            double v[2] = {resp_num(r, vkey), resp_num(r, tkey)};
            struct agg *a[2] = {&cv[k].val[e], &cv[k].tr[e]};
            for (int j = 0; j < 2; j++) {
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
    double lo = INFINITY, hi = -INFINITY;
    int shown = 0;
    for (int i = 0; i < ncv; i++) {
        for (int e = 1; e <= emax; e++) {
            const struct agg *a[2] = {&cv[i].val[e], &cv[i].tr[e]};
            for (int j = 0; j < 2; j++) {
                double m = agg_mean(a[j]), s = agg_se(a[j]);
                widen(&lo, &hi, m);
                if (isfinite(s)) {
                    widen(&lo, &hi, m - s);
                    widen(&lo, &hi, m + s);
                }
            }
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
    if (!shown || !isfinite(lo)) {
        set_why(why, whylen, "sweep %s: the curves of its best configurations hold no finite %s",
                name, vkey);
        goto out;
    }
    svg_nice_domain(&lo, &hi, 6);

    const double w = 960, left = 78, plotr = 640, ptop = 70, plotb = 430;
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
    double legend_h = ptop + 20 + ncv * 34 + 70;
    if (legend_h > h)
        h = legend_h;

    svg_begin(out, w, h);
    char title[512], sub[300];
    snprintf(title, sizeof title, "Sweep %s \xE2\x80\x94 learning curves (%s)", name, base);
    snprintf(sub, sizeof sub,
             "Mean over seeds per epoch, band \xC2\xB1 SE; solid: validation, dashed: training; "
             "top %d by %s",
             ncv, metric);
    draw_titles(out, w, title, sub);
    struct svg_scale sx = {1, emax, left, plotr, false};
    if (emax == 1) {
        sx.d0 = 0.5;
        sx.d1 = 1.5;
    }
    struct svg_scale sy = {lo, hi, plotb, ptop, false};
    svg_axis_y(out, &sy, left, plotr, base);
    svg_axis_x(out, &sx, ptop, plotb, 1, "epoch");

    /* Worst first so that the best configuration is drawn on top. */
    for (int i = ncv - 1; i >= 0; i--) {
        const char *col = svg_color(i);
        fprintf(out, "<g class=\"series\">");
        svg_titlef(out, "#%d %s", cv[i].rank, cv[i].label);
        fputc('\n', out);
        curve_band(out, &sx, &sy, cv[i].tr, emax, col, 0.10);
        curve_band(out, &sx, &sy, cv[i].val, emax, col, 0.22);
        curve_path(out, &sx, &sy, cv[i].tr, emax, col, "6 4", 1.6);
        curve_path(out, &sx, &sy, cv[i].val, emax, col, NULL, 2.2);
        for (int e = 1; e <= emax; e++) {
            const struct agg *a = &cv[i].val[e];
            if (a->n == 0)
                continue;
            char m[32], s[32], tm[32], ts[32];
            resp_fmt_short(m, sizeof m, agg_mean(a));
            resp_fmt_se(s, sizeof s, agg_se(a));
            resp_fmt_short(tm, sizeof tm, agg_mean(&cv[i].tr[e]));
            resp_fmt_se(ts, sizeof ts, agg_se(&cv[i].tr[e]));
            fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.4\" fill=\"%s\">", svg_map(&sx, e),
                    svg_map(&sy, agg_mean(a)), col);
            svg_titlef(out, "#%d %s, epoch %d: %s %s \xC2\xB1 %s, %s %s \xC2\xB1 %s (n=%d)",
                       cv[i].rank, cv[i].label, e, vkey, m, s, tkey, tm, ts, a->n);
            fputs("</circle>\n", out);
        }
        fprintf(out, "</g>\n");
    }

    /* Legend: one entry per configuration, then the two line styles. */
    double lx = plotr + 24, ly = ptop + 8;
    fprintf(out, "<g class=\"legend\">\n");
    svg_text(out, lx, ly, "start", 12, "font-weight=\"bold\"", "configuration");
    ly += 22;
    for (int i = 0; i < ncv; i++) {
        char full[1200], nline[160];
        snprintf(full, sizeof full, "#%d %s", cv[i].rank, cv[i].label);
        if (cv[i].fewer_from)
            snprintf(nline, sizeof nline, "n=%d seeds, fewer from epoch %d (early stopping)",
                     cv[i].nmax, cv[i].fewer_from);
        else
            snprintf(nline, sizeof nline, "n=%d seed%s", cv[i].nmax, cv[i].nmax == 1 ? "" : "s");
        fprintf(out, "<g><title>");
        svg_escape(out, full);
        fprintf(out, " (%s)</title>", nline);
        fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"5\" fill=\"%s\"/>", lx + 9, ly - 4,
                svg_color(i));
        fprintf(out, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"12\">", lx + 22, ly);
        svg_escape_cut(out, full, 38);
        fputs("</text>", out);
        svg_text(out, lx + 22, ly + 14, "start", 10.5, "fill=\"" COL_NOTE "\"", nline);
        fputs("</g>\n", out);
        ly += 34;
    }
    ly += 6;
    svg_legend_item(out, lx, ly, "#444", "", "validation");
    svg_legend_item(out, lx, ly + 20, "#444", "6 4", "training");
    fprintf(out, "</g>\n");
    draw_notes(out, 12, plotb + 62, notes, nnotes);
    svg_end(out);
    rc = CLI_OK;
out:
    free_curves(cv, ncv);
    return rc;
}

int plot_curves(FILE *out, const cJSON *best_resp, const cJSON *curves_resp, int top)
{
    char why[512] = "";
    return say_why(plot__curves(out, best_resp, curves_resp, top, why, sizeof why), why);
}

/* ---- (d) by ------------------------------------------------------------------ */

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

int plot__by(FILE *out, const cJSON *resp, char *why, size_t whylen)
{
    char idbuf[32];
    const char *name = sweep_name(resp, idbuf, sizeof idbuf);
    const char *metric = resp_str(resp, "metric", "metric");
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(resp, "by");
    const char *key = resp_str(by, "key", NULL);
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(by, "values");
    if (!key || !cJSON_IsArray(values)) {
        set_why(why, whylen, "the show response has no \"by\" section (ask with a key)");
        return CLI_FAILED;
    }
    int cap = cJSON_GetArraySize(values), n = 0, skipped = 0, rc = CLI_FAILED;
    struct by_point *pts = calloc((size_t)(cap ? cap : 1), sizeof *pts);
    if (!pts) {
        set_why(why, whylen, "out of memory");
        return CLI_FAILED;
    }
    bool numeric = true, positive = true;
    const cJSON *v;
    cJSON_ArrayForEach(v, values)
    {
        struct by_point p = {0};
        resp_stat_get(cJSON_GetObjectItemCaseSensitive(v, "stat"), &p.st);
        if (!isfinite(p.st.mean)) {
            skipped++;
            continue;
        }
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(v, "value");
        p.text = resp_value_text(val);
        if (!p.text) {
            set_why(why, whylen, "out of memory");
            goto out;
        }
        double nc = resp_num(v, "configs");
        p.configs = isfinite(nc) ? (int)nc : 0;
        if (cJSON_IsNumber(val) && isfinite(val->valuedouble)) {
            p.num = val->valuedouble;
            if (p.num <= 0)
                positive = false;
        } else
            numeric = false;
        pts[n++] = p;
    }
    if (n == 0) {
        if (skipped)
            set_why(why, whylen, "sweep %s: no value of %s has a finite %s yet: nothing to plot",
                    name, key, metric);
        else
            set_why(why, whylen, "sweep %s has no finished trials yet: nothing to plot", name);
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
        widen(&lo, &hi, pts[i].st.mean);
        if (isfinite(pts[i].st.se)) {
            widen(&lo, &hi, pts[i].st.mean - pts[i].st.se);
            widen(&lo, &hi, pts[i].st.mean + pts[i].st.se);
        }
    }
    svg_nice_domain(&lo, &hi, 5);

    const double left = 86, right = 40, top = 70;
    double plotw = n * 110.0;
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

    svg_begin(out, w, h);
    char title[512], sub[300];
    snprintf(title, sizeof title, "Sweep %s \xE2\x80\x94 %s by %s", name, metric, key);
    snprintf(sub, sizeof sub,
             "Each point: mean \xC2\xB1 SE over all configurations and seeds with that value%s",
             logx ? " (log scale)" : "");
    draw_titles(out, w, title, sub);
    struct svg_scale sy = {lo, hi, plotb, top, false};
    char ylabel[160];
    snprintf(ylabel, sizeof ylabel, "%s (mean \xC2\xB1 SE)", metric);
    svg_axis_y(out, &sy, left, left + plotw, ylabel);

    double *xs = malloc((size_t)n * sizeof *xs);
    if (!xs) {
        svg_end(out);
        set_why(why, whylen, "out of memory");
        goto out;
    }
    if (logx) {
        /* Pad the domain by a fifth of a decade each side so the end points clear the frame. */
        struct svg_scale sx = {vmin / pow(10, 0.2), vmax * pow(10, 0.2), left, left + plotw, true};
        svg_axis_x(out, &sx, top, plotb, 0, key);
        for (int i = 0; i < n; i++)
            xs[i] = svg_map(&sx, pts[i].num);
    } else {
        double band = plotw / n;
        fprintf(out, "<g class=\"axis-x\">\n");
        fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#555\"/>\n",
                left, plotb, left + plotw, plotb);
        for (int i = 0; i < n; i++) {
            xs[i] = left + band * (i + 0.5);
            fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#555\"/>",
                    xs[i], plotb, xs[i], plotb + 5);
            fprintf(out, "<g><title>");
            svg_escape(out, pts[i].text);
            fprintf(out,
                    "</title><text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" "
                    "font-size=\"11\">",
                    xs[i], plotb + 18);
            svg_escape_cut(out, pts[i].text, (size_t)(band / 6.5 > 4 ? band / 6.5 : 4));
            fputs("</text></g>\n", out);
        }
        svg_text(out, left + plotw / 2, plotb + 52, "middle", 12, NULL, key);
        fprintf(out, "</g>\n");
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
    fprintf(out, "<g class=\"points\">\n");
    for (int i = 0; i < n; i++) {
        const struct resp_stat *s = &pts[i].st;
        double y = svg_map(&sy, s->mean);
        if (s->n >= 2 && isfinite(s->se))
            svg_errbar(out, xs[i], svg_map(&sy, s->mean - s->se), xs[i],
                       svg_map(&sy, s->mean + s->se), 6, COL_VAL);
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
    free(xs);
    draw_notes(out, 12, h - 12 - 16 * (nnotes - 1), notes, nnotes);
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
    return say_why(plot__by(out, show_by_resp, why, sizeof why), why);
}

/* ---- files and the daemon -------------------------------------------------- */

int plot__write_file(const char *path, plot__render_fn render, void *ctx, char *why, size_t whylen)
{
    if (strcmp(path, "-") == 0) {
        int rc = render(stdout, ctx, why, whylen);
        if (rc == CLI_OK && fflush(stdout) != 0) {
            set_why(why, whylen, "cannot write to stdout: %s", strerror(errno));
            rc = CLI_FAILED;
        }
        return rc;
    }
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp) {
        set_why(why, whylen, "out of memory");
        return CLI_FAILED;
    }
    snprintf(tmp, len + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        set_why(why, whylen, "cannot create %s: %s", path, strerror(errno));
        free(tmp);
        return CLI_FAILED;
    }
    /* mkstemp makes 0600; a plot is an ordinary file, so honour the umask like fopen would. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        set_why(why, whylen, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        goto fail;
    }
    int rc = render(f, ctx, why, whylen);
    if (rc != CLI_OK) {
        fclose(f);
        unlink(tmp);
        free(tmp);
        return rc;
    }
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
        set_why(why, whylen, "cannot write %s: %s", path, strerror(errno));
        fclose(f);
        goto fail;
    }
    if (fclose(f) != 0) {
        set_why(why, whylen, "cannot write %s: %s", path, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        set_why(why, whylen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto fail;
    }
    free(tmp);
    return CLI_OK;
fail:
    unlink(tmp);
    free(tmp);
    return CLI_FAILED;
}

int plot__fetch(struct cli *cli, cJSON *req, cJSON **resp)
{
    cJSON *r = NULL;
    int rc = cli_request(cli, req, &r);
    if (rc != CLI_OK) {
        if (r && cli->json)
            cli_print_json(r);
        cJSON_Delete(r);
        return rc;
    }
    *resp = r;
    return CLI_OK;
}

cJSON *plot__sweep_req(const char *op, const char *sweep)
{
    cJSON *req = cJSON_CreateObject();
    if (!req || !cJSON_AddStringToObject(req, "op", op) ||
        !cJSON_AddStringToObject(req, "sweep", sweep)) {
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

enum plot_kind { KIND_RANKING, KIND_CURVES, KIND_GAP, KIND_BY };
static const char *const kind_names[] = {"ranking", "curves", "gap", "by"};

struct plot_job {
    enum plot_kind kind;
    int top;
    const cJSON *a, *b; /* the responses the renderer needs */
};

static int render_job(FILE *out, void *ctx, char *why, size_t whylen)
{
    const struct plot_job *j = ctx;
    switch (j->kind) {
    case KIND_RANKING:
        return plot__ranking(out, j->a, why, whylen);
    case KIND_CURVES:
        return plot__curves(out, j->a, j->b, j->top, why, whylen);
    case KIND_GAP:
        return plot__gap(out, j->a, why, whylen);
    case KIND_BY:
        return plot__by(out, j->a, why, whylen);
    }
    return CLI_FAILED;
}

/* The value of option `name` at argv[*i] ("--name=V" or "--name V"); NULL if argv[*i] is not it. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    const char *a = argv[*i];
    size_t len = strlen(name);
    if (strncmp(a, name, len) != 0)
        return NULL;
    if (a[len] == '=')
        return a + len + 1;
    if (a[len] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

/* A positive integer option value, or -1. */
static int parse_count(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno == 0 && *s && *end == '\0' && v >= 1 && v <= 1000000 ? (int)v : -1;
}

#define PLOT_USAGE                                                                                 \
    "plot SWEEP --out FILE.svg [--kind ranking|curves|gap|by] [--key K] [--top K] "                \
    "[--metric M]"

int cmd_plot(struct cli *cli, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "plot";
    const char *sweep = NULL, *outp = NULL, *kind_s = NULL, *key = NULL, *metric = NULL;
    int top = 0;
    for (int i = 1; i < argc; i++) {
        bool missing = false;
        const char *v;
        if ((v = opt_value(argc, argv, &i, "--out", &missing)))
            outp = v;
        else if ((v = opt_value(argc, argv, &i, "--kind", &missing)))
            kind_s = v;
        else if ((v = opt_value(argc, argv, &i, "--key", &missing)))
            key = v;
        else if ((v = opt_value(argc, argv, &i, "--metric", &missing)))
            metric = v;
        else if ((v = opt_value(argc, argv, &i, "--top", &missing))) {
            top = parse_count(v);
            if (top < 0)
                return cli_usage(verb, "--top: expected a positive integer, got \"%s\"", v);
        } else if (missing)
            return cli_usage(verb, "%s needs a value; usage: " PLOT_USAGE, argv[i]);
        else if (strcmp(argv[i], "--json") == 0)
            cli->json = true;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage(verb, "unknown option %s; usage: " PLOT_USAGE, argv[i]);
        else if (sweep)
            return cli_usage(verb, "one sweep at a time (got \"%s\" and \"%s\")", sweep, argv[i]);
        else
            sweep = argv[i];
    }
    if (!sweep)
        return cli_usage(verb, "which sweep? usage: " PLOT_USAGE);
    if (!outp || !*outp)
        return cli_usage(verb, "--out FILE.svg is required; usage: " PLOT_USAGE);
    enum plot_kind kind = key ? KIND_BY : KIND_RANKING;
    if (kind_s) {
        size_t k;
        for (k = 0; k < sizeof kind_names / sizeof *kind_names; k++)
            if (strcmp(kind_s, kind_names[k]) == 0)
                break;
        if (k == sizeof kind_names / sizeof *kind_names)
            return cli_usage(verb, "--kind: expected ranking, curves, gap or by, got \"%s\"",
                             kind_s);
        kind = (enum plot_kind)k;
    }
    if (kind == KIND_BY && !key)
        return cli_usage(verb,
                         "--kind by needs --key K (a hyperparameter that varies in the sweep)");
    if (key && kind != KIND_BY)
        return cli_usage(verb, "--key applies to --kind by only");
    if (metric && (kind == KIND_GAP || kind == KIND_BY))
        return cli_usage(verb, "--metric applies to --kind ranking and curves (gap and by use "
                               "the sweep's metric)");

    int rc = cli_connect(cli);
    if (rc != CLI_OK)
        return rc;
    cJSON *a = NULL, *b = NULL;
    cJSON *req = plot__sweep_req(kind == KIND_GAP || kind == KIND_BY ? "show" : "best", sweep);
    if (!req)
        goto nomem;
    if (kind == KIND_BY && !cJSON_AddStringToObject(req, "by", key))
        goto nomem_req;
    if (kind == KIND_RANKING || kind == KIND_CURVES) {
        if (!cJSON_AddNumberToObject(req, "top", kind == KIND_RANKING && top ? top : 1000))
            goto nomem_req;
        if (metric && !cJSON_AddStringToObject(req, "metric", metric))
            goto nomem_req;
    }
    rc = plot__fetch(cli, req, &a);
    if (rc != CLI_OK)
        return rc;
    if (kind == KIND_CURVES) {
        req = plot__sweep_req("results", sweep);
        if (!req || !cJSON_AddBoolToObject(req, "curves", 1))
            goto nomem_req;
        rc = plot__fetch(cli, req, &b);
        if (rc != CLI_OK) {
            cJSON_Delete(a);
            return rc;
        }
    }
    struct plot_job job = {kind, top ? top : 5, a, b};
    char why[768] = "";
    rc = plot__write_file(outp, render_job, &job, why, sizeof why);
    if (rc != CLI_OK)
        fprintf(stderr, "mlpctl %s: %s\n", verb, why);
    else if (cli->json && strcmp(outp, "-") != 0) { /* with "-", stdout holds the document */
        cJSON *doc = cJSON_CreateObject();
        if (doc && cJSON_AddTrueToObject(doc, "ok") && cJSON_AddStringToObject(doc, "out", outp) &&
            cJSON_AddStringToObject(doc, "kind", kind_names[kind]))
            cli_print_json(doc);
        cJSON_Delete(doc);
    } else if (strcmp(outp, "-") != 0)
        printf("wrote %s (%s)\n", outp, kind_names[kind]);
    cJSON_Delete(a);
    cJSON_Delete(b);
    return rc;
nomem_req:
    cJSON_Delete(req);
nomem:
    cJSON_Delete(a);
    fprintf(stderr, "mlpctl %s: out of memory\n", verb);
    return CLI_FAILED;
}
