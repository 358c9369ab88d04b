/*
 * plot_parallel — `--kind parallel`: parallel coordinates of a sweep.  One
 * vertical axis per key that varies between the configurations and one for
 * the metric (right); one polyline per configuration through its key values
 * and its mean over seeds, coloured by that mean (a viridis ramp, brighter
 * is better).  Numeric keys get a linear or log axis as the search space
 * says (log_uniform, int_log: log) or, for grid keys, as their values
 * suggest (all positive and spanning a factor of 10 or more: log); other
 * values (hidden shapes, activations, objects) are ordered categories, in
 * the order of the search space's choices or of the grid.
 *
 * Pruned configurations (a prune rule stopped them: no final value) run
 * faint and dashed to a "pruned" slot under the metric axis; configurations
 * whose seeds all diverged run red and dashed to a "diverged" slot, and a
 * configuration with some diverged seeds gets a red cross on its point.
 *
 * Data: the `results` op per trial (the key values and every seed's metric;
 * confirmation trials are left out: they are not part of selection) and the
 * `show` op (the rung each pruned configuration stopped at).
 */
#include "plot.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "importance.h"
#include "metric.h"
#include "resp.h"
#include "svg.h"

/* ---- the configurations of the per-trial rows (shared with heatmap) ---------------- */

void plot__free_confs(struct plot__conf *c, int n)
{
    for (int i = 0; c && i < n; i++)
        free(c[i].label);
    free(c);
}

static int conf_index(const struct plot__conf *c, int n, int id)
{
    for (int i = 0; i < n; i++)
        if (c[i].id == id)
            return i;
    return -1;
}

/* The rung show gives configuration id (0: not pruned, or no show). */
static int show_pruned(const cJSON *show, int id)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(show, "configs"))
    {
        if (resp_config_id(cJSON_GetObjectItemCaseSensitive(c, "config")) != id)
            continue;
        double p = resp_num(c, "pruned");
        return isfinite(p) && p >= 1 && p < 1e9 ? (int)p : 0;
    }
    return 0;
}

/* Mean, sample sd and SE of each configuration's values (sum, sum of squares in st). */
static void conf_finish(struct plot__conf *c, const double *sum, const double *sumsq)
{
    struct resp_stat *s = &c->st;
    s->mean = s->n ? *sum / s->n : NAN;
    s->sd = s->se = s->ci_low = s->ci_high = NAN;
    if (s->n >= 2) {
        double v = (*sumsq - s->n * s->mean * s->mean) / (s->n - 1);
        s->sd = sqrt(v > 0 ? v : 0);
        s->se = s->sd / sqrt(s->n);
    }
}

int plot__confs(const cJSON *trials, const cJSON *show, const char *metric,
                struct plot__conf **out, char *why, size_t whylen)
{
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(trials, "rows"), *r;
    int cap = cJSON_GetArraySize(rows), n = 0;
    *out = NULL;
    struct plot__conf *c = calloc((size_t)(cap ? cap : 1), sizeof *c);
    double *sum = calloc((size_t)(cap ? cap : 1), sizeof *sum);
    double *sumsq = calloc((size_t)(cap ? cap : 1), sizeof *sumsq);
    bool seen_metric = false;
    if (!c || !sum || !sumsq) {
        plot__why(why, whylen, "out of memory");
        goto fail;
    }
    cJSON_ArrayForEach(r, rows)
    {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "confirm")))
            continue; /* fresh seeds after selection: not part of it */
        int id = (int)resp_num(r, "config"), i;
        struct importance_agg a;
        if (importance_config_row(r, metric, &a)) { /* a configuration's aggregates */
            seen_metric = true;
            c[n] = (struct plot__conf){.id = id, .values = r, .done = a.done, .diverged = a.diverged,
                                       .pruned = a.pruned};
            c[n++].st.n = a.n; /* its mean and sd: below */
            continue;
        }
        if ((i = conf_index(c, n, id)) < 0) {
            i = n++;
            c[i] = (struct plot__conf){.id = id, .values = r};
            c[i].st.mean = NAN;
        }
        const char *st = resp_str(r, "state", "");
        if (strcmp(st, "pruned") == 0 && !c[i].pruned)
            c[i].pruned = -1; /* the rung from show, below */
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, metric);
        seen_metric |= v != NULL;
        if (strcmp(st, "done") != 0)
            continue;
        c[i].done++;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "diverged")))
            c[i].diverged++;
        if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
            c[i].st.n++;
            sum[i] += v->valuedouble;
            sumsq[i] += v->valuedouble * v->valuedouble;
        }
    }
    if (n > 0 && !seen_metric) {
        plot__why(why, whylen, "--metric: the sweep's trials have no metric \"%s\"", metric);
        free(sum);
        free(sumsq);
        free(c);
        return -2;
    }
    for (int i = 0; i < n; i++) {
        conf_finish(&c[i], &sum[i], &sumsq[i]);
        struct importance_agg a;
        if (importance_config_row(c[i].values, metric, &a)) { /* its own figures; pruned as it says */
            c[i].st.mean = a.n ? a.mean : NAN;
            c[i].st.sd = a.n >= 2 ? a.sd : NAN;
            c[i].st.se = a.n >= 2 ? a.sd / sqrt(a.n) : NAN;
            continue;
        }
        if (c[i].pruned) {
            int rung = show_pruned(show, c[i].id);
            c[i].pruned = rung > 0 ? rung : -1;
        } else if (show_pruned(show, c[i].id) > 0) /* pruned as a configuration */
            c[i].pruned = show_pruned(show, c[i].id);
    }
    free(sum);
    free(sumsq);
    if (n == 0) {
        plot__why(why, whylen, "the sweep has no trials yet: nothing to plot");
        free(c);
        return 0;
    }
    *out = c;
    return n;
fail:
    free(sum);
    free(sumsq);
    free(c);
    return -1;
}

/* The metric a kind draws: --metric, else the sweep's (show's), else val_accuracy. */
const char *plot__metric_of(const struct plot_args *a, const cJSON *show, const cJSON *trials)
{
    if (a && a->metric)
        return a->metric;
    const char *m = resp_str(show, "metric", NULL);
    if (!m)
        m = resp_str(cJSON_GetObjectItemCaseSensitive(trials, "sweep"), "metric", NULL);
    return m ? m : "val_accuracy";
}

bool plot__maximize(const char *metric, const cJSON *show)
{
    int i = metric_index(metric);
    if (i >= 0)
        return metric_maximize(i);
    return strcmp(resp_str(show, "direction", "max"), "min") != 0;
}

void plot__ramp(char *buf, size_t n, double t)
{
    /* viridis at 0, 1/4, 1/2, 3/4, 1 (matplotlib's table), interpolated. */
    static const unsigned char stop[5][3] = {
        {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
    if (!isfinite(t))
        t = 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    int k = t >= 1 ? 3 : (int)(t * 4);
    double f = t * 4 - k;
    int rgb[3];
    for (int j = 0; j < 3; j++)
        rgb[j] = (int)lround(stop[k][j] + (stop[k + 1][j] - stop[k][j]) * f);
    snprintf(buf, n, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

/* ---- axes ---------------------------------------------------------------------------- */

#define PAR_MAX_TICKS 24
#define PAR_MAX_CATS 64

/* One axis: a key's (numeric or categorical) or the metric's. */
struct par_axis {
    const char *key; /* NULL: the metric axis */
    bool categorical;
    struct svg_scale s; /* numeric: data to y */
    char *cat[PAR_MAX_CATS]; /* categorical: the values' JSON texts, in order */
    int ncat;
    double ticks[PAR_MAX_TICKS];
    int nticks;
    double step;      /* linear ticks' step (0: %g) */
    double label_w;   /* widest tick or category label */
};

static void axis_release(struct par_axis *ax)
{
    for (int c = 0; c < ax->ncat; c++)
        free(ax->cat[c]);
}

/* Category of JSON text t (added when new; t is freed or kept).  -1 when there are too many. */
static int axis_cat(struct par_axis *ax, char *t)
{
    for (int c = 0; c < ax->ncat; c++)
        if (strcmp(ax->cat[c], t) == 0) {
            free(t);
            return c;
        }
    if (ax->ncat == PAR_MAX_CATS) {
        free(t);
        return -1;
    }
    ax->cat[ax->ncat] = t;
    return ax->ncat++;
}

/* Its value's JSON text in a configuration (NULL key: "null"); NULL on ENOMEM. */
static char *value_json(const struct plot__conf *c, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->values, key);
    return v ? cJSON_PrintUnformatted(v) : strdup("null");
}

/* The search space's distribution name of key ("log_uniform", "choice", ...), or NULL. */
static const cJSON *search_dist(const cJSON *trials, const char *key, const char **dist)
{
    const cJSON *space = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(trials, "search"), "space");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(space, key);
    *dist = d && d->child ? d->child->string : NULL;
    return d && d->child ? d->child : NULL;
}

/* A category's label: strings without their quotes, the rest as JSON. */
static void cat_text(char *buf, size_t n, const char *json)
{
    size_t len = strlen(json);
    if (len >= 2 && json[0] == '"' && json[len - 1] == '"')
        snprintf(buf, n, "%.*s", (int)(len - 2), json + 1);
    else
        snprintf(buf, n, "%s", json);
}

/* Tick label of value v on a numeric axis. */
static void tick_text(char *buf, size_t n, const struct par_axis *ax, double v)
{
    if (ax->s.log || ax->step <= 0)
        snprintf(buf, n, "%g", v);
    else
        svg_fmt_tick(buf, n, v, ax->step);
}

/*
 * Axis of key over the configurations: categorical or numeric (log or
 * linear), ticks at the data's own values when they are few.  0, -1 on
 * ENOMEM, -2 with too many categories.
 */
static int key_axis(struct par_axis *ax, const char *key, const cJSON *trials,
                    const struct plot__conf *c, int n)
{
    const char *dist;
    const cJSON *d = search_dist(trials, key, &dist);
    memset(ax, 0, sizeof *ax);
    ax->key = key;
    bool numeric = true;
    double lo = INFINITY, hi = -INFINITY, vals[PAR_MAX_TICKS];
    int nvals = 0;
    bool many = false; /* more distinct values than vals holds */
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c[i].values, key);
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
            numeric = false;
            break;
        }
        plot__widen(&lo, &hi, v->valuedouble);
        bool seen = false;
        for (int k = 0; k < nvals; k++)
            seen |= vals[k] == v->valuedouble;
        if (!seen && nvals < PAR_MAX_TICKS)
            vals[nvals++] = v->valuedouble;
        else if (!seen)
            many = true;
    }
    if (dist && strcmp(dist, "choice") == 0)
        numeric = false;
    if (!numeric) {
        ax->categorical = true;
        const cJSON *ch;
        if (dist && strcmp(dist, "choice") == 0) /* the space's order, drawn or not */
            cJSON_ArrayForEach(ch, d)
            {
                char *t = cJSON_PrintUnformatted(ch);
                if (!t)
                    return -1;
                if (axis_cat(ax, t) < 0)
                    return -2;
            }
        for (int i = 0; i < n; i++) { /* then the grid's order (configurations by id) */
            char *t = value_json(&c[i], key);
            if (!t)
                return -1;
            if (axis_cat(ax, t) < 0)
                return -2;
        }
        return 0;
    }
    bool search_range = d && cJSON_GetArraySize(d) == 2 && (strcmp(dist, "choice") != 0);
    if (search_range) { /* the space's bounds */
        double a = cJSON_GetArrayItem(d, 0)->valuedouble, b = cJSON_GetArrayItem(d, 1)->valuedouble;
        plot__widen(&lo, &hi, a);
        plot__widen(&lo, &hi, b);
        ax->s.log = strcmp(dist, "log_uniform") == 0 || strcmp(dist, "int_log") == 0;
    } else
        ax->s.log = lo > 0 && hi / lo >= 10;
    if (ax->s.log && !(lo > 0))
        ax->s.log = false;
    ax->s.d0 = lo;
    ax->s.d1 = hi > lo ? hi : lo + 1;
    if (!search_range && !many && nvals <= 8) { /* a grid's few values: tick each */
        memcpy(ax->ticks, vals, (size_t)nvals * sizeof *vals);
        ax->nticks = nvals;
        ax->step = 0;
    } else if (ax->s.log)
        ax->nticks = svg_log_ticks(ax->s.d0, ax->s.d1, ax->ticks, PAR_MAX_TICKS);
    else
        ax->nticks = svg_ticks(ax->s.d0, ax->s.d1, 5, 0, ax->ticks, PAR_MAX_TICKS, &ax->step);
    if (ax->s.log && ax->nticks < 2) { /* less than a decade: the ends */
        ax->ticks[0] = ax->s.d0;
        ax->ticks[1] = ax->s.d1;
        ax->nticks = 2;
    }
    return 0;
}

/* Pixel height of a configuration on an axis (top..bot); NaN when it has no value there. */
static double axis_y(const struct par_axis *ax, const struct plot__conf *c, double top, double bot)
{
    if (ax->categorical) {
        char *t = value_json(c, ax->key);
        double y = NAN;
        for (int k = 0; t && k < ax->ncat; k++)
            if (strcmp(ax->cat[k], t) == 0)
                y = bot - (bot - top) * (k + 0.5) / ax->ncat;
        free(t);
        return y;
    }
    const cJSON *v = ax->key ? cJSON_GetObjectItemCaseSensitive(c->values, ax->key) : NULL;
    double x = ax->key ? (cJSON_IsNumber(v) ? v->valuedouble : NAN) : c->st.mean;
    struct svg_scale s = ax->s;
    s.p0 = bot;
    s.p1 = top;
    return isfinite(x) && (!s.log || x > 0) ? svg_map(&s, x) : NAN;
}

/* Widest label of an axis's ticks or categories (12 px). */
static double axis_label_width(struct par_axis *ax)
{
    double w = 0;
    char buf[PLOT_LABEL_BUF];
    for (int k = 0; k < (ax->categorical ? ax->ncat : ax->nticks); k++) {
        if (ax->categorical)
            cat_text(buf, sizeof buf, ax->cat[k]);
        else
            tick_text(buf, sizeof buf, ax, ax->ticks[k]);
        w = fmax(w, svg_text_width(buf, 11.5, false));
    }
    return ax->label_w = w;
}

/* An axis at x: its line, its name above, its ticks and labels right of it (none closer than 13 px). */
static void draw_axis(FILE *out, const struct par_axis *ax, double x, double top, double bot,
                      const char *name)
{
    fprintf(out, "<g class=\"axis\">\n<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
                 "stroke=\"#444\" stroke-width=\"1.2\"/>\n",
            x, top, x, bot);
    svg_text(out, x, top - 12, "middle", 12.5, "font-weight=\"bold\" class=\"axis-name\"", name);
    int n = ax->categorical ? ax->ncat : ax->nticks;
    double last = INFINITY;
    /* From the bottom up, so that the lowest label wins a collision. */
    double *ys = malloc((size_t)(n ? n : 1) * sizeof *ys);
    int *ord = malloc((size_t)(n ? n : 1) * sizeof *ord);
    if (!ys || !ord) {
        free(ys);
        free(ord);
        fputs("</g>\n", out);
        return;
    }
    for (int k = 0; k < n; k++) {
        struct svg_scale s = ax->s;
        s.p0 = bot;
        s.p1 = top;
        ys[k] = ax->categorical ? bot - (bot - top) * (k + 0.5) / ax->ncat : svg_map(&s, ax->ticks[k]);
        ord[k] = k;
    }
    for (int a = 1; a < n; a++) /* by y, largest (lowest on the page) first */
        for (int b = a; b > 0 && ys[ord[b]] > ys[ord[b - 1]]; b--) {
            int t = ord[b];
            ord[b] = ord[b - 1];
            ord[b - 1] = t;
        }
    for (int q = 0; q < n; q++) {
        int k = ord[q];
        double y = ys[k];
        fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444\"/>\n",
                x - 4, y, x, y);
        if (last - y < 13)
            continue;
        char buf[PLOT_LABEL_BUF];
        if (ax->categorical)
            cat_text(buf, sizeof buf, ax->cat[k]);
        else
            tick_text(buf, sizeof buf, ax, ax->ticks[k]);
        svg_text(out, x + 5, y + 4, "start", 11.5,
                 "class=\"tick\" stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\"", buf);
        last = y;
    }
    free(ys);
    free(ord);
    fputs("</g>\n", out);
}

/* ---- the plot ------------------------------------------------------------------------- */

/* Draw order: pruned and diverged first, then worse to better (the best on top). */
struct par_order {
    double key; /* -inf for lines without a value; else the mean, negated when minimised */
    int id;
    const struct plot__conf *c;
};

static int cmp_draw(const void *pa, const void *pb)
{
    const struct par_order *a = pa, *b = pb;
    if (a->key != b->key)
        return (a->key > b->key) - (a->key < b->key);
    return (a->id > b->id) - (a->id < b->id);
}

/* One configuration's polyline (and its diverged cross). */
static void draw_conf(FILE *out, const struct plot__conf *c, const struct par_axis *ax, int nax,
                      const double *xs, double top, double bot, double slot_pruned,
                      double slot_div, const char *metric, bool maximize, bool best,
                      const struct plot__range *cr)
{
    bool pruned = c->pruned != 0, finite = isfinite(c->st.mean);
    const char *cls = pruned ? "config pruned" : finite ? "config" : "config diverged";
    char col[16], val[256];
    if (pruned)
        snprintf(col, sizeof col, "#999999");
    else if (!finite)
        snprintf(col, sizeof col, "%s", COL_BEST);
    else {
        double t = cr->hi > cr->lo ? (c->st.mean - cr->lo) / (cr->hi - cr->lo) : 1;
        plot__ramp(col, sizeof col, maximize ? t : 1 - t);
    }
    fprintf(out, "<polyline class=\"%s\" data-config=\"%d\" fill=\"none\" stroke=\"%s\" ", cls,
            c->id, col);
    if (pruned)
        fputs("stroke-width=\"1.2\" stroke-opacity=\"0.35\" stroke-dasharray=\"4 3\"", out);
    else if (!finite)
        fputs("stroke-width=\"1.5\" stroke-opacity=\"0.9\" stroke-dasharray=\"6 3\"", out);
    else
        fprintf(out, "stroke-width=\"%s\" stroke-opacity=\"0.9\"", best ? "3" : "1.8");
    fputs(" points=\"", out);
    for (int j = 0; j < nax; j++) {
        double y = j < nax - 1 ? axis_y(&ax[j], c, top, bot)
                   : pruned    ? slot_pruned
                   : finite    ? axis_y(&ax[j], c, top, bot)
                               : slot_div;
        if (isfinite(y))
            fprintf(out, "%s%.2f,%.2f", j ? " " : "", xs[j], y);
    }
    fputs("\">", out);
    if (pruned && c->pruned > 0)
        snprintf(val, sizeof val, "pruned at epoch %d (not ranked)", c->pruned);
    else if (pruned)
        snprintf(val, sizeof val, "pruned (not ranked)");
    else if (!finite)
        snprintf(val, sizeof val, "diverged (%d/%d seeds)", c->diverged, c->done);
    else {
        char m[96];
        resp_fmt_mean_se(m, sizeof m, &c->st);
        snprintf(val, sizeof val, "%s %s%s", metric, m, c->diverged ? ", some seeds diverged" : "");
    }
    svg_titlef(out, "config %d: %s: %s", c->id, c->label ? c->label : "", val);
    fputs("</polyline>\n", out);
    if (finite && !pruned && c->diverged > 0) { /* some seeds diverged: a red cross */
        double y = axis_y(&ax[nax - 1], c, top, bot), x = xs[nax - 1];
        fprintf(out,
                "<path class=\"diverged-mark\" d=\"M%.2f %.2fL%.2f %.2fM%.2f %.2fL%.2f %.2f\" "
                "stroke=\"%s\" stroke-width=\"2\"><title>config %d: %d of %d seeds diverged "
                "(left out of the mean)</title></path>\n",
                x - 4, y - 4, x + 4, y + 4, x - 4, y + 4, x + 4, y - 4, COL_BEST, c->id,
                c->diverged, c->done);
    }
}

void plot__ramp_legend(FILE *out, double x, double y, double w, const struct plot__range *s,
                      bool maximize, const char *metric)
{
    fputs("<g class=\"legend\">\n", out);
    for (int k = 0; k < 40; k++) {
        char col[16];
        plot__ramp(col, sizeof col, (k + 0.5) / 40);
        fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"10\" fill=\"%s\"/>\n",
                x + w * k / 40, y, w / 40 + 0.3, col);
    }
    char lo[32], hi[32];
    resp_fmt_short(lo, sizeof lo, maximize ? s->lo : s->hi);
    resp_fmt_short(hi, sizeof hi, maximize ? s->hi : s->lo);
    svg_text(out, x - 6, y + 9, "end", 11.5, NULL, lo);
    svg_text(out, x + w + 6, y + 9, "start", 11.5, NULL, hi);
    svg_textf(out, x + w / 2, y + 26, "middle", 11.5, "fill=\"" COL_NOTE "\"",
              "colour: %s (mean over seeds), worse \xE2\x86\x92 better", metric);
    fputs("</g>\n", out);
}

struct par_layout {
    double top, bot, left, gap, w, h, slot_pruned, slot_div;
    int npruned, ndiv, nvalue;
};

cJSON *plot__conf_varying(const struct plot__conf *c, int n, const cJSON *trials)
{
    cJSON *items = cJSON_CreateArray();
    for (int i = 0; items && i < n; i++)
        if (!cJSON_AddItemReferenceToArray(items, (cJSON *)c[i].values)) {
            cJSON_Delete(items);
            items = NULL;
        }
    cJSON *vary = items ? plot__varying_keys(items, true,
                                             cJSON_GetObjectItemCaseSensitive(trials, "keys"), NULL)
                        : NULL;
    cJSON_Delete(items);
    return vary;
}

/* Set up the axes of the varying keys and the metric; nax on success, < 0 with why. */
static int par_axes(const cJSON *trials, struct plot__conf *c, int n, const char *metric,
                    struct par_axis **axp, cJSON **varyp, char *why, size_t whylen)
{
    cJSON *vary = plot__conf_varying(c, n, trials);
    int nk = cJSON_GetArraySize(vary);
    struct par_axis *ax = vary ? calloc((size_t)nk + 1, sizeof *ax) : NULL;
    if (!ax) {
        cJSON_Delete(vary);
        plot__why(why, whylen, "out of memory");
        return -1;
    }
    for (int j = 0; j < nk; j++) {
        int rc = key_axis(&ax[j], cJSON_GetArrayItem(vary, j)->valuestring, trials, c, n);
        if (rc < 0) {
            for (int q = 0; q <= j; q++)
                axis_release(&ax[q]);
            free(ax);
            cJSON_Delete(vary);
            plot__why(why, whylen, rc == -1 ? "out of memory"
                                            : "key \"%s\" has more than %d distinct values: too "
                                              "many categories to draw",
                      cJSON_GetArrayItem(vary, j)->valuestring, PAR_MAX_CATS);
            return -1;
        }
    }
    /* The metric: linear over the finite means. */
    struct par_axis *m = &ax[nk];
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++)
        if (!c[i].pruned)
            plot__widen(&lo, &hi, c[i].st.mean);
    svg_nice_domain(&lo, &hi, 5);
    m->s.d0 = lo;
    m->s.d1 = hi;
    m->nticks = svg_ticks(lo, hi, 5, 0, m->ticks, PAR_MAX_TICKS, &m->step);
    (void)metric;
    *axp = ax;
    *varyp = vary;
    return nk + 1;
}

/* Labels of the configurations by the varying keys. */
static int conf_labels(struct plot__conf *c, int n, const cJSON *vary)
{
    for (int i = 0; i < n; i++) {
        char none[32];
        snprintf(none, sizeof none, "config %d", c[i].id);
        if (!(c[i].label = plot__label(c[i].values, vary, none)))
            return -1;
    }
    return 0;
}

/* The notes under the plot, into buf; their count. */
static int par_notes(char (*buf)[300], const char *metric, const struct par_layout *L)
{
    int n = 0;
    snprintf(buf[n++], 300,
             "One line per configuration: its key values and its mean %s over seeds; the best "
             "drawn thickest.", metric);
    if (L->npruned)
        snprintf(buf[n++], 300,
                 "%d configuration(s) pruned (faint, dashed): stopped early by the prune rule, "
                 "no final value, not ranked", L->npruned);
    if (L->ndiv)
        snprintf(buf[n++], 300,
                 "%d configuration(s) without a finite %s (red, dashed): every seed diverged or "
                 "none finished", L->ndiv, metric);
    return n;
}

int plot__parallel(FILE *out, const cJSON *trials, const cJSON *show, const char *metric,
                   char *why, size_t whylen)
{
    char idbuf[32];
    const char *name = plot__sweep_name(show ? show : trials, idbuf, sizeof idbuf);
    bool maximize = plot__maximize(metric, show);
    struct plot__conf *c;
    int n = plot__confs(trials, show, metric, &c, why, whylen);
    if (n <= 0)
        return n == -2 ? CLI_USAGE : CLI_FAILED;
    struct par_axis *ax = NULL;
    cJSON *vary = NULL;
    int nax = par_axes(trials, c, n, metric, &ax, &vary, why, whylen);
    if (nax < 0) {
        plot__free_confs(c, n);
        return CLI_FAILED;
    }
    int rc = CLI_FAILED;
    struct par_order *ord = malloc((size_t)n * sizeof *ord);
    double *xs = malloc((size_t)nax * sizeof *xs);
    if (!ord || !xs || conf_labels(c, n, vary) < 0) {
        plot__why(why, whylen, "out of memory");
        goto out;
    }
    struct par_layout L = {.top = 96};
    struct plot__range cr = {INFINITY, -INFINITY};
    for (int i = 0; i < n; i++) {
        if (!c[i].pruned)
            plot__widen(&cr.lo, &cr.hi, c[i].st.mean);
        L.npruned += c[i].pruned != 0;
        L.ndiv += !c[i].pruned && !isfinite(c[i].st.mean);
        L.nvalue += !c[i].pruned && isfinite(c[i].st.mean);
    }
    if (nax < 2) {
        plot__why(why, whylen, "sweep %s: no key varies between its configurations: nothing to "
                               "draw in parallel coordinates", name);
        goto out;
    }
    if (L.nvalue == 0) {
        plot__why(why, whylen, "sweep %s: none of its %d configuration(s) has a finite %s yet "
                               "(pruned, diverged or unfinished): nothing to plot", name, n, metric);
        goto out;
    }
    /* Axis spacing: room for the widest tick label and axis name on either side. */
    L.gap = 150;
    for (int j = 0; j < nax; j++) {
        const char *nm = j < nax - 1 ? ax[j].key : metric;
        double lw = axis_label_width(&ax[j]);
        if (j < nax - 1)
            L.gap = fmax(L.gap, lw + 30);
        L.gap = fmax(L.gap, svg_text_width(nm, 12.5, true) + 16);
    }
    double first_half = svg_text_width(nax > 0 ? ax[0].key : "", 12.5, true) / 2;
    double last_right = fmax(ax[nax - 1].label_w + 5, svg_text_width("diverged", 11.5, false) + 5);
    last_right = fmax(last_right, svg_text_width(metric, 12.5, true) / 2);
    L.left = 24 + first_half;
    for (int j = 0; j < nax; j++)
        xs[j] = L.left + L.gap * j;
    L.bot = L.top + 320;
    L.slot_pruned = L.bot + 22;
    L.slot_div = L.bot + (L.npruned ? 40 : 22);
    double ramp_y = L.bot + 62;
    const char *notes[3];
    char note_buf[3][300], title[512], sub[400];
    int nnotes = par_notes(note_buf, metric, &L);
    for (int k = 0; k < nnotes; k++)
        notes[k] = note_buf[k];
    snprintf(title, sizeof title, "Sweep %s \xE2\x80\x94 parallel coordinates of %s", name,
             metric);
    snprintf(sub, sizeof sub,
             "%d configuration(s) over %d varying key(s); %s is %s", n, nax - 1, metric,
             maximize ? "maximised (higher is better)" : "minimised (lower is better)");
    L.w = xs[nax - 1] + last_right + 24;
    L.w = fmax(L.w, 300 + 48);
    L.w = fmax(L.w, plot__text_need(title, sub, notes, nnotes));
    L.h = ramp_y + 40 + 16 * nnotes + 12;

    svg_begin(out, L.w, L.h);
    plot__titles(out, L.w, title, sub);
    for (int j = 0; j < nax; j++) {
        ax[j].s.p0 = L.bot;
        ax[j].s.p1 = L.top;
        draw_axis(out, &ax[j], xs[j], L.top, L.bot, j < nax - 1 ? ax[j].key : metric);
    }
    if (L.npruned)
        svg_text(out, xs[nax - 1] + 5, L.slot_pruned + 4, "start", 11.5,
                 "fill=\"" COL_NOTE "\" font-style=\"italic\"", "pruned");
    if (L.ndiv)
        svg_text(out, xs[nax - 1] + 5, L.slot_div + 4, "start", 11.5,
                 "fill=\"" COL_BEST "\" font-style=\"italic\"", "diverged");
    for (int i = 0; i < n; i++) {
        bool has = isfinite(c[i].st.mean) && !c[i].pruned;
        ord[i] = (struct par_order){has ? (maximize ? c[i].st.mean : -c[i].st.mean) : -INFINITY,
                                    c[i].id, &c[i]};
    }
    qsort(ord, (size_t)n, sizeof *ord, cmp_draw);
    fputs("<g class=\"configs\">\n", out);
    for (int i = 0; i < n; i++)
        draw_conf(out, ord[i].c, ax, nax, xs, L.top, L.bot, L.slot_pruned, L.slot_div, metric,
                  maximize, i == n - 1, &cr);
    fputs("</g>\n", out);
    double rw = fmin(240, L.w - 200);
    plot__ramp_legend(out, (L.w - rw) / 2, ramp_y, rw, &cr, maximize, metric);
    plot__notes(out, 12, ramp_y + 52, notes, nnotes);
    svg_end(out);
    rc = CLI_OK;
out:
    for (int j = 0; j < nax; j++)
        axis_release(&ax[j]);
    free(ax);
    free(ord);
    free(xs);
    cJSON_Delete(vary);
    plot__free_confs(c, n);
    return rc;
}

int plot_parallel(FILE *out, const cJSON *trials_resp, const cJSON *show_resp)
{
    char why[512] = "";
    return plot__say_why(plot__parallel(out, trials_resp, show_resp,
                                        plot__metric_of(NULL, show_resp, trials_resp), why,
                                        sizeof why),
                         why);
}

/* ---- the kind ---------------------------------------------------------------- */

/* Request 0: `results` per trial; 1: `show` (pruned rungs, direction, metric). */
static cJSON *parallel_request(const struct plot_args *a, int i)
{
    cJSON *req = plot__sweep_req(i == 0 ? "results" : "show", a);
    if (req && i == 0 && !cJSON_AddTrueToObject(req, "trials")) {
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

static int parallel_render(FILE *out, const struct plot_args *a, cJSON *const *resp, char *why,
                           size_t whylen)
{
    return plot__parallel(out, resp[0], resp[1], plot__metric_of(a, resp[1], resp[0]), why,
                          whylen);
}

const struct plot_kind plot_kind_parallel = {
    .name = "parallel",
    .takes_metric = true,
    .nreq = 2,
    .request = parallel_request,
    .render = parallel_render,
};
