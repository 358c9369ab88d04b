/*
 * plot_heatmap — `--kind heatmap --keys A,B`: the metric over two keys.  A's
 * values are the columns, B's the rows; each cell holds the mean over the
 * configurations with those two values (each configuration its mean over
 * done seeds; pruned ones left out, as every ranking leaves them out) and
 * its standard error: over the seeds when one configuration is in the cell,
 * else over the configurations' means (the other keys' spread).  Cells with
 * no finished configuration are blank ("pruned" when only pruned ones are
 * there, "diverged" when every seed of the ones there diverged).  Numbers are the keys' own values, sorted; a search's drawn
 * numbers (more than 4 distinct) and any key's more than 8 are grouped into
 * ranges (4, or 6 from 16 distinct values up) between the smallest and the
 * largest, on a log scale when the search space draws the key
 * log-uniformly (a grid key: when its values span a factor of 10).  Colour: the
 * viridis ramp from the worst cell (dark) to the best (yellow).
 *
 * Data: the `results` op per trial (confirmation trials left out) and the
 * `show` op (pruned rungs, the metric's direction).
 */
#include "plot.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "resp.h"
#include "svg.h"

#define HM_MAX_LEVELS 24 /* distinct values of a key drawn one per row/column */
#define HM_BINS 6        /* ranges of a key with 16 or more distinct numbers (else 4) */

struct hm_dim {
    const char *key;
    bool numeric, binned, log;
    double lo, hi;              /* binned: the range */
    char *text[HM_MAX_LEVELS];  /* not binned: the values' JSON texts, in order */
    double num[HM_MAX_LEVELS];  /* numeric: the values */
    int n;                      /* levels */
    char label[HM_MAX_LEVELS][96];
};

static void dim_release(struct hm_dim *d)
{
    for (int i = 0; i < d->n && !d->binned; i++)
        free(d->text[i]);
}

/* Is key in the array of strings? */
static bool in_list(const cJSON *arr, const char *key)
{
    const cJSON *k;
    cJSON_ArrayForEach(k, arr) if (cJSON_IsString(k) && strcmp(k->valuestring, key) == 0) return true;
    return false;
}

/* The level of configuration c on d, or -1. */
static int dim_level(const struct hm_dim *d, const struct plot__conf *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->values, d->key);
    if (d->binned) {
        if (!cJSON_IsNumber(v))
            return -1;
        double x = v->valuedouble, t;
        if (d->log)
            t = x > 0 ? (log(x) - log(d->lo)) / (log(d->hi) - log(d->lo)) : -1;
        else
            t = (x - d->lo) / (d->hi - d->lo);
        int b = (int)floor(t * d->n);
        return b < 0 ? -1 : b >= d->n ? d->n - 1 : b;
    }
    char *t = v ? cJSON_PrintUnformatted(v) : strdup("null");
    int lev = -1;
    for (int i = 0; t && i < d->n; i++)
        if (strcmp(d->text[i], t) == 0)
            lev = i;
    free(t);
    return lev;
}

/* A value's label: strings without quotes, numbers %g, the rest as JSON. */
static void value_label(char *buf, size_t n, const char *json, bool numeric, double x)
{
    size_t len = strlen(json);
    if (numeric)
        snprintf(buf, n, "%g", x);
    else if (len >= 2 && json[0] == '"' && json[len - 1] == '"')
        snprintf(buf, n, "%.*s", (int)(len - 2), json + 1);
    else
        snprintf(buf, n, "%s", json);
}

/* Sort a numeric dimension's levels ascending. */
static void dim_sort(struct hm_dim *d)
{
    for (int a = 1; a < d->n; a++)
        for (int b = a; b > 0 && d->num[b] < d->num[b - 1]; b--) {
            double x = d->num[b];
            char *t = d->text[b];
            d->num[b] = d->num[b - 1], d->text[b] = d->text[b - 1];
            d->num[b - 1] = x, d->text[b - 1] = t;
        }
}

/*
 * The levels of key over the configurations.  0; -1 on ENOMEM, -2 when it
 * has too many values that are not numbers.
 */
static int dim_build(struct hm_dim *d, const char *key, const cJSON *trials,
                     const struct plot__conf *c, int n)
{
    memset(d, 0, sizeof *d);
    d->key = key;
    d->numeric = true;
    d->lo = INFINITY, d->hi = -INFINITY;
    bool many = false;
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c[i].values, key);
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
            d->numeric = false;
        else
            plot__widen(&d->lo, &d->hi, v->valuedouble);
        char *t = v ? cJSON_PrintUnformatted(v) : strdup("null");
        if (!t)
            return -1;
        bool seen = false;
        for (int k = 0; k < d->n && !seen; k++)
            seen = strcmp(d->text[k], t) == 0;
        if (seen || d->n == HM_MAX_LEVELS) {
            many |= !seen;
            free(t);
            continue;
        }
        d->num[d->n] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        d->text[d->n++] = t;
    }
    if (many && !d->numeric)
        return -2;
    const cJSON *space = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(trials, "search"), "space");
    const cJSON *dist = cJSON_GetObjectItemCaseSensitive(space, key);
    const char *dn = dist && dist->child ? dist->child->string : "";
    bool drawn = *dn && strcmp(dn, "choice") != 0; /* a search's continuous or integer key */
    if (d->numeric && (many || d->n > 8 || (drawn && d->n > 4))) { /* ranges */
        int bins = many || d->n >= 16 ? HM_BINS : 4;
        dim_release(d);
        d->binned = true;
        d->log = d->lo > 0 && (strcmp(dn, "log_uniform") == 0 || strcmp(dn, "int_log") == 0 ||
                               (!*dn && d->hi / d->lo >= 10));
        d->n = bins;
        for (int b = 0; b < bins; b++) {
            double a = d->log ? d->lo * pow(d->hi / d->lo, (double)b / bins)
                              : d->lo + (d->hi - d->lo) * b / bins;
            double z = d->log ? d->lo * pow(d->hi / d->lo, (double)(b + 1) / bins)
                              : d->lo + (d->hi - d->lo) * (b + 1) / bins;
            snprintf(d->label[b], sizeof d->label[b], "%.3g\xE2\x80\x93%.3g", a, z);
        }
        return 0;
    }
    if (d->numeric)
        dim_sort(d);
    for (int k = 0; k < d->n; k++)
        value_label(d->label[k], sizeof d->label[k], d->text[k], d->numeric, d->num[k]);
    return 0;
}

/* One cell: the configurations' means in it. */
struct hm_cell {
    int k;       /* configurations with a finite mean */
    int pruned;  /* pruned configurations */
    int diverged; /* configurations without a finite mean: every seed diverged */
    double sum, sumsq;
    struct resp_stat one; /* the single configuration's stat (k == 1) */
    struct resp_stat st;  /* the cell's mean and SE */
};

static void cell_finish(struct hm_cell *x)
{
    x->st = (struct resp_stat){.mean = NAN, .sd = NAN, .se = NAN, .ci_low = NAN, .ci_high = NAN};
    if (x->k == 1) {
        x->st = x->one;
    } else if (x->k >= 2) {
        x->st.n = x->k;
        x->st.mean = x->sum / x->k;
        double v = (x->sumsq - x->k * x->st.mean * x->st.mean) / (x->k - 1);
        x->st.sd = sqrt(v > 0 ? v : 0);
        x->st.se = x->st.sd / sqrt(x->k);
    }
}

/*
 * Check --keys against the keys that vary: CLI_OK with *a and *b set, or
 * CLI_USAGE with why naming the problem.
 */
static int hm_keys(const char *keys, const cJSON *vary, const char *name, char *ka, size_t na,
                   char *kb, size_t nb, char *why, size_t whylen)
{
    const char *comma = keys ? strchr(keys, ',') : NULL;
    char list[512] = "";
    const cJSON *k;
    cJSON_ArrayForEach(k, vary)
    {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "", k->valuestring);
    }
    if (!comma || comma == keys || !comma[1] || strchr(comma + 1, ',')) {
        plot__why(why, whylen, "--keys: expected two keys A,B, got \"%s\" (keys that vary in "
                  "sweep %s: %s)", keys ? keys : "", name, list[0] ? list : "none");
        return CLI_USAGE;
    }
    snprintf(ka, na, "%.*s", (int)(comma - keys), keys);
    snprintf(kb, nb, "%s", comma + 1);
    if (strcmp(ka, kb) == 0) {
        plot__why(why, whylen, "--keys: \"%s\" twice: a heat map needs two different keys", ka);
        return CLI_USAGE;
    }
    const char *bad = !in_list(vary, ka) ? ka : !in_list(vary, kb) ? kb : NULL;
    if (bad) {
        plot__why(why, whylen, "--keys: \"%s\" does not vary in sweep %s (keys that vary: %s)",
                  bad, name, list[0] ? list : "none");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* "0.912 ± 0.004", or the mean alone without an SE. */
static void cell_text(char *buf, size_t n, const struct resp_stat *st)
{
    char m[32], e[32];
    resp_fmt_short(m, sizeof m, st->mean);
    resp_fmt_short(e, sizeof e, st->se);
    if (isfinite(st->se))
        snprintf(buf, n, "%s \xC2\xB1 %s", m, e);
    else
        snprintf(buf, n, "%s", m);
}

struct hm_layout {
    double left, top, cw, ch, w, h;
};

static void hm_draw(FILE *out, const struct hm_dim *da, const struct hm_dim *db,
                    const struct hm_cell *cells, const char *metric, bool maximize,
                    const char *name, int nconf)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < da->n * db->n; i++)
        plot__widen(&lo, &hi, cells[i].st.mean);
    char title[512], sub[400], corner[256], n1[300], n2[200];
    snprintf(title, sizeof title, "Sweep %s \xE2\x80\x94 %s over %s and %s", name, metric,
             da->key, db->key);
    snprintf(sub, sizeof sub, "Mean \xC2\xB1 SE per cell, %d configuration(s); %s is %s", nconf,
             metric, maximize ? "maximised (higher is better)" : "minimised (lower is better)");
    snprintf(corner, sizeof corner, "%s \xE2\x86\x93  %s \xE2\x86\x92", db->key, da->key);
    snprintf(n1, sizeof n1, "Cell: the mean of its configurations' means over seeds; \xC2\xB1 SE "
             "over seeds (one configuration) or over the configurations (several).");
    snprintf(n2, sizeof n2, "Blank: no finished configuration with these values (\"diverged\": "
             "every seed diverged); pruned ones are left out (not ranked).");
    const char *notes[2] = {n1, n2};
    struct hm_layout L = {.top = 96, .ch = 46, .cw = 110};
    double rowlab = svg_text_width(corner, 12, true);
    for (int j = 0; j < db->n; j++)
        rowlab = fmax(rowlab, svg_text_width(db->label[j], 12, false));
    for (int i = 0; i < da->n; i++)
        L.cw = fmax(L.cw, svg_text_width(da->label[i], 12, false) + 16);
    for (int i = 0; i < da->n * db->n; i++) {
        char t[96];
        cell_text(t, sizeof t, &cells[i].st);
        L.cw = fmax(L.cw, svg_text_width(t, 12, false) + 16);
    }
    L.left = 16 + rowlab + 12;
    double gridw = L.cw * da->n, bot = L.top + L.ch * db->n, ramp_y = bot + 30;
    L.w = fmax(L.left + gridw + 24, plot__text_need(title, sub, notes, 2));
    L.w = fmax(L.w, 2 * 80 + 240 + 24);
    L.h = ramp_y + 40 + 16 * 2 + 24;
    svg_begin(out, L.w, L.h);
    plot__titles(out, L.w, title, sub);
    svg_text(out, L.left - 12, L.top - 12, "end", 12, "font-weight=\"bold\"", corner);
    for (int i = 0; i < da->n; i++)
        svg_text(out, L.left + L.cw * (i + 0.5), L.top - 12, "middle", 12, "class=\"col\"",
                 da->label[i]);
    for (int j = 0; j < db->n; j++)
        svg_text(out, L.left - 12, L.top + L.ch * (j + 0.5) + 4, "end", 12, "class=\"row\"",
                 db->label[j]);
    fputs("<g class=\"cells\">\n", out);
    for (int j = 0; j < db->n; j++)
        for (int i = 0; i < da->n; i++) {
            const struct hm_cell *x = &cells[j * da->n + i];
            double x0 = L.left + L.cw * i, y0 = L.top + L.ch * j;
            fprintf(out, "<g class=\"cell\" data-a=\"");
            svg_escape(out, da->label[i]);
            fputs("\" data-b=\"", out);
            svg_escape(out, db->label[j]);
            if (x->k == 0) {
                fprintf(out, "\"><rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                             "fill=\"#ffffff\" stroke=\"#ddd\"/>",
                        x0, y0, L.cw, L.ch);
                if (x->pruned || x->diverged)
                    svg_text(out, x0 + L.cw / 2, y0 + L.ch / 2 + 4, "middle", 11.5,
                             x->diverged ? "fill=\"" COL_BEST "\" font-style=\"italic\""
                                         : "fill=\"" COL_NOTE "\" font-style=\"italic\"",
                             x->diverged ? "diverged" : "pruned");
                fputs("</g>\n", out);
                continue;
            }
            double t = hi > lo ? (x->st.mean - lo) / (hi - lo) : 1;
            if (!maximize)
                t = 1 - t;
            char col[16], val[96];
            plot__ramp(col, sizeof col, t);
            cell_text(val, sizeof val, &x->st);
            fprintf(out, "\" data-mean=\"%.17g\" data-n=\"%d\"><rect x=\"%.2f\" y=\"%.2f\" "
                         "width=\"%.2f\" height=\"%.2f\" fill=\"%s\" stroke=\"#fff\">",
                    x->st.mean, x->k == 1 ? x->st.n : x->k, x0, y0, L.cw, L.ch, col);
            svg_titlef(out, "%s=%s, %s=%s: %s %s over %d %s%s", da->key, da->label[i], db->key,
                       db->label[j], metric, val, x->k == 1 ? x->st.n : x->k,
                       x->k == 1 ? "seed(s)" : "configurations",
                       x->pruned ? " (pruned ones left out)" : "");
            fputs("</rect>", out);
            const char *ink = t < 0.55 ? "fill=\"#ffffff\"" : "fill=\"#222\"";
            svg_text(out, x0 + L.cw / 2, y0 + L.ch / 2 - 2, "middle", 12, ink, val);
            char sm[64];
            snprintf(sm, sizeof sm, x->k == 1 ? "n=%d" : "%d configs", x->k == 1 ? x->st.n : x->k);
            svg_text(out, x0 + L.cw / 2, y0 + L.ch / 2 + 13, "middle", 10, ink, sm);
            fputs("</g>\n", out);
        }
    fputs("</g>\n", out);
    struct plot__range r = {lo, hi};
    double rw = 240;
    plot__ramp_legend(out, (L.w - rw) / 2, ramp_y, rw, &r, maximize, metric);
    plot__notes(out, 12, ramp_y + 52, notes, 2);
    svg_end(out);
}

int plot__heatmap(FILE *out, const cJSON *trials, const cJSON *show, const char *metric,
                  const char *keys, char *why, size_t whylen)
{
    char idbuf[32], ka[128], kb[128];
    const char *name = plot__sweep_name(show ? show : trials, idbuf, sizeof idbuf);
    struct plot__conf *c;
    int n = plot__confs(trials, show, metric, &c, why, whylen);
    if (n <= 0)
        return n == -2 ? CLI_USAGE : CLI_FAILED;
    int rc = CLI_FAILED;
    struct hm_dim da = {0}, db = {0};
    struct hm_cell *cells = NULL;
    cJSON *vary = plot__conf_varying(c, n, trials);
    if (!vary) {
        plot__why(why, whylen, "out of memory");
        goto out;
    }
    if ((rc = hm_keys(keys, vary, name, ka, sizeof ka, kb, sizeof kb, why, whylen)) != CLI_OK)
        goto out;
    rc = CLI_FAILED;
    int ra = dim_build(&da, ka, trials, c, n), rb = ra < 0 ? 0 : dim_build(&db, kb, trials, c, n);
    if (ra < 0 || rb < 0) {
        plot__why(why, whylen, ra == -1 || rb == -1 ? "out of memory"
                                                    : "--keys: \"%s\" has more than %d distinct "
                                                      "values that are not numbers: too many "
                                                      "rows or columns to draw",
                  ra < 0 ? ka : kb, HM_MAX_LEVELS);
        goto out;
    }
    if (!(cells = calloc((size_t)(da.n * db.n), sizeof *cells))) {
        plot__why(why, whylen, "out of memory");
        goto out;
    }
    int nval = 0;
    for (int q = 0; q < n; q++) {
        int i = dim_level(&da, &c[q]), j = dim_level(&db, &c[q]);
        if (i < 0 || j < 0)
            continue;
        struct hm_cell *x = &cells[j * da.n + i];
        if (c[q].pruned) {
            x->pruned++;
            continue;
        }
        if (!isfinite(c[q].st.mean)) {
            x->diverged += c[q].diverged > 0;
            continue;
        }
        nval++;
        x->k++;
        x->sum += c[q].st.mean;
        x->sumsq += c[q].st.mean * c[q].st.mean;
        x->one = c[q].st;
    }
    if (nval == 0) {
        plot__why(why, whylen, "sweep %s: none of its %d configuration(s) has a finite %s yet "
                  "(pruned, diverged or unfinished): nothing to plot", name, n, metric);
        goto out;
    }
    for (int i = 0; i < da.n * db.n; i++)
        cell_finish(&cells[i]);
    hm_draw(out, &da, &db, cells, metric, plot__maximize(metric, show), name, n);
    rc = CLI_OK;
out:
    dim_release(&da);
    dim_release(&db);
    free(cells);
    cJSON_Delete(vary);
    plot__free_confs(c, n);
    return rc;
}

int plot_heatmap(FILE *out, const cJSON *trials_resp, const cJSON *show_resp, const char *keys)
{
    char why[512] = "";
    return plot__say_why(plot__heatmap(out, trials_resp, show_resp,
                                       plot__metric_of(NULL, show_resp, trials_resp), keys, why,
                                       sizeof why),
                         why);
}

/* ---- the kind ---------------------------------------------------------------- */

static cJSON *heatmap_request(const struct plot_args *a, int i)
{
    cJSON *req = plot__sweep_req(i == 0 ? "results" : "show", a);
    if (req && i == 0 && !cJSON_AddTrueToObject(req, "trials")) {
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

static int heatmap_render(FILE *out, const struct plot_args *a, cJSON *const *resp, char *why,
                          size_t whylen)
{
    return plot__heatmap(out, resp[0], resp[1], plot__metric_of(a, resp[1], resp[0]), a->keys,
                         why, whylen);
}

const struct plot_kind plot_kind_heatmap = {
    .name = "heatmap",
    .takes_metric = true,
    .needs_keys = true,
    .nreq = 2,
    .request = heatmap_request,
    .render = heatmap_render,
};
