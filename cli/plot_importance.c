/*
 * plot_importance — `--kind importance`: which key mattered, as one bar per
 * key, most important on top, from the same analysis `mlpctl importance`
 * prints (importance.h, on the `results` op's per-trial rows): for a grid
 * the main-effects ANOVA (bar: omega^2, the share of the metric's variance
 * the key explains; beside it F, its degrees of freedom and p), for a
 * random/Sobol search functional ANOVA on a random forest (bar: the key's
 * share of the prediction's variance, whisker: ± its SD over trees).
 * --metric and --method choose as they do for the verb.
 */
#include "plot.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "importance.h"
#include "resp.h"
#include "svg.h"

/* One bar: a key (or the interactions) and its value, SD (fanova) and the text beside it. */
struct imp_bar {
    const char *key;
    double v, sd;
    char text[160];
    bool inter; /* the ANOVA's interactions row */
};

/* The text beside an ANOVA bar: "ω² = 0.412, F(2, 12) = 34.5, p < 0.001". */
static void anova_text(char *buf, size_t n, const cJSON *k, double df_error)
{
    char pb[32], f[32], w[32];
    double p = resp_num(k, "p"), fv = resp_num(k, "f");
    resp_fmt_short(w, sizeof w, resp_num(k, "omega2"));
    if (!isfinite(fv) || !isfinite(p)) {
        snprintf(buf, n, "\xCF\x89\xC2\xB2 = %s (no F test)", w);
        return;
    }
    snprintf(f, sizeof f, "%.3g", fv);
    resp_fmt_p(pb, sizeof pb, p);
    snprintf(buf, n, "\xCF\x89\xC2\xB2 = %s, F(%.0f, %.0f) = %s, %s", w, resp_num(k, "df"),
             df_error, f, pb);
}

/* The bars of an analysis document (keys in its order, then the ANOVA's interactions). */
static int imp_bars(const cJSON *doc, struct imp_bar *bars, int max)
{
    bool anova = strcmp(resp_str(doc, "method", ""), "anova") == 0;
    double df_err = resp_num(cJSON_GetObjectItemCaseSensitive(doc, "error"), "df");
    int n = 0;
    const cJSON *k;
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(doc, "keys"))
    {
        if (n == max)
            break;
        struct imp_bar *b = &bars[n++];
        b->key = resp_str(k, "key", "?");
        b->inter = false;
        if (anova) {
            b->v = resp_num(k, "omega2");
            b->sd = NAN;
            anova_text(b->text, sizeof b->text, k, df_err);
        } else {
            char v[32], s[32];
            b->v = resp_num(k, "importance");
            b->sd = resp_num(k, "sd");
            resp_fmt_short(v, sizeof v, b->v);
            resp_fmt_short(s, sizeof s, b->sd);
            if (isfinite(b->sd))
                snprintf(b->text, sizeof b->text, "%s \xC2\xB1 %s", v, s);
            else
                snprintf(b->text, sizeof b->text, "%s", v);
        }
    }
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(doc, "interactions");
    if (anova && n < max && resp_num(in, "df") > 0) {
        struct imp_bar *b = &bars[n++];
        b->key = "(interactions)";
        b->inter = true;
        b->v = resp_num(in, "omega2");
        b->sd = NAN;
        anova_text(b->text, sizeof b->text, in, df_err);
    }
    return n;
}

/* The notes under the bars, into buf (lines of at most 200 bytes); the count. */
static int imp_notes(const cJSON *doc, char (*buf)[240], int max)
{
    int n = 0;
    double pr = resp_num(doc, "pruned"), nv = resp_num(doc, "no_value");
    if (strcmp(resp_str(doc, "method", ""), "anova") == 0) {
        bool seeds = strcmp(resp_str(doc, "error_term", ""), "seeds") == 0;
        snprintf(buf[n++], 240,
                 "Bar: \xCF\x89\xC2\xB2, the share of the metric's variance the key explains "
                 "(0 when not above noise); main-effects ANOVA of the configuration means.");
        snprintf(buf[n++], 240, "F tests against the %s; %.0f configurations, %.3g seeds each "
                 "(harmonic mean).",
                 seeds ? "seed variance within configurations" : "interactions (one seed only)",
                 resp_num(doc, "configs"), resp_num(doc, "seeds"));
    } else {
        snprintf(buf[n++], 240,
                 "Bar: the key's share of the variance of a random forest's prediction over the "
                 "%s (functional ANOVA, main effects); whisker: \xC2\xB1 SD over trees.",
                 strcmp(resp_str(doc, "space", "grid"), "grid") == 0 ? "grid's values"
                                                                     : "search space");
        snprintf(buf[n++], 240, "%.0f trees (seed %.0f); main effects explain %.0f%% of the "
                 "variance, interactions the rest; %.0f configurations (means over seeds).",
                 resp_num(doc, "trees_used"), resp_num(doc, "seed"),
                 100 * resp_num(doc, "main_effects"), resp_num(doc, "configs"));
    }
    if (n < max && ((isfinite(pr) && pr > 0) || (isfinite(nv) && nv > 0)))
        snprintf(buf[n++], 240, "Left out: %.0f pruned configuration(s), %.0f without a finite "
                 "value.", isfinite(pr) ? pr : 0, isfinite(nv) ? nv : 0);
    return n;
}

/* Draw the document's bars. */
static void imp_draw(FILE *out, const cJSON *doc, const struct imp_bar *bars, int nb)
{
    char idbuf[32], title[512], sub[300], notes_buf[4][240];
    const char *name = plot__sweep_name(doc, idbuf, sizeof idbuf);
    const char *metric = resp_str(doc, "metric", "metric");
    bool anova = strcmp(resp_str(doc, "method", ""), "anova") == 0;
    const char *notes[4];
    int nnotes = imp_notes(doc, notes_buf, 4);
    for (int i = 0; i < nnotes; i++)
        notes[i] = notes_buf[i];
    snprintf(title, sizeof title, "Sweep %s \xE2\x80\x94 importance of each key for %s", name,
             metric);
    snprintf(sub, sizeof sub, "%s; most important first",
             anova ? "ANOVA of the configuration means (\xCF\x89\xC2\xB2, F test)"
                   : "functional ANOVA on a random forest (fANOVA)");
    double lo = 0, hi = 0;
    for (int i = 0; i < nb; i++) {
        plot__widen(&lo, &hi, bars[i].v);
        if (isfinite(bars[i].sd))
            plot__widen(&lo, &hi, bars[i].v + bars[i].sd);
    }
    if (!(hi > 0))
        hi = anova ? 0.1 : 1;
    svg_nice_domain(&lo, &hi, 5);
    lo = 0;
    if (!anova && hi > 1) /* shares: never above 1 */
        hi = 1;
    const double rowh = 28, top = 78, plotw = 380;
    double labw = 60, right = 120;
    for (int i = 0; i < nb; i++) {
        labw = fmax(labw, svg_text_width(bars[i].key, 12, i == 0));
        right = fmax(right, 12 + svg_text_width(bars[i].text, 12, false) + 12);
    }
    double left = 16 + labw + 12, w = left + plotw + right;
    w = fmax(w, plot__text_need(title, sub, notes, nnotes));
    double bot = top + rowh * nb, h = bot + 56 + 16 * nnotes + 8;
    svg_begin(out, w, h);
    plot__titles(out, w, title, sub);
    plot__stripes(out, nb, top, rowh, w);
    struct svg_scale sx = {lo, hi, left, left + plotw, false};
    svg_axis_x(out, &sx, top - 4, bot, 0,
               anova ? "\xCF\x89\xC2\xB2 (share of the metric's variance)"
                     : "share of the forest's prediction variance");
    fputs("<g class=\"bars\">\n", out);
    for (int i = 0; i < nb; i++) {
        const struct imp_bar *b = &bars[i];
        double y = top + rowh * i + rowh / 2, v = isfinite(b->v) && b->v > 0 ? b->v : 0;
        fprintf(out, "<g class=\"key%s\" data-key=\"", b->inter ? " interactions" : "");
        svg_escape(out, b->key);
        fprintf(out, "\" data-value=\"%.17g\">", isfinite(b->v) ? b->v : 0.0);
        svg_text(out, left - 12, y + 4, "end", 12,
                 i == 0 && !b->inter ? "font-weight=\"bold\"" : "fill=\"#222\"", b->key);
        fprintf(out,
                "<rect class=\"bar\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"14\" "
                "fill=\"%s\"%s><title>",
                left, y - 7, svg_map(&sx, v) - left, b->inter ? "#bbbbbb" : COL_VAL,
                b->inter ? "" : " fill-opacity=\"0.85\"");
        svg_escape(out, b->key);
        fputs(": ", out);
        svg_escape(out, b->text);
        fputs("</title></rect>\n", out);
        if (isfinite(b->sd) && b->sd > 0)
            svg_errbar(out, svg_map(&sx, fmax(0, b->v - b->sd)), y,
                       svg_map(&sx, fmin(hi, b->v + b->sd)), y, 4, "#222");
        svg_text(out, left + plotw + 12, y + 4, "start", 12, NULL, b->text);
        fputs("</g>\n", out);
    }
    fputs("</g>\n", out);
    plot__notes(out, 12, bot + 58, notes, nnotes);
    svg_end(out);
}

int plot__importance(FILE *out, const cJSON *trials, const char *metric, const char *method,
                     char *why, size_t whylen)
{
    struct importance_opts o = IMPORTANCE_OPTS_INIT;
    o.metric = metric;
    if (method && !importance_method_parse(method, &o.method)) {
        plot__why(why, whylen, "--method: expected anova or fanova, got \"%s\"", method);
        return CLI_USAGE;
    }
    cJSON *doc = NULL;
    int rc = importance_analyse(trials, &o, &doc, why, whylen);
    if (rc != CLI_OK)
        return rc;
    int nk = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "keys")) + 1;
    struct imp_bar *bars = calloc((size_t)nk, sizeof *bars);
    if (!bars) {
        cJSON_Delete(doc);
        plot__why(why, whylen, "out of memory");
        return CLI_FAILED;
    }
    imp_draw(out, doc, bars, imp_bars(doc, bars, nk));
    free(bars);
    cJSON_Delete(doc);
    return CLI_OK;
}

int plot_importance(FILE *out, const cJSON *trials_resp)
{
    char why[512] = "";
    return plot__say_why(plot__importance(out, trials_resp, NULL, NULL, why, sizeof why), why);
}

/* ---- the kind ---------------------------------------------------------------- */

static cJSON *importance_request(const struct plot_args *a, int i)
{
    (void)i;
    cJSON *req = plot__sweep_req("results", a);
    if (req && !cJSON_AddTrueToObject(req, "trials")) {
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

static int importance_render(FILE *out, const struct plot_args *a, cJSON *const *resp, char *why,
                             size_t whylen)
{
    return plot__importance(out, resp[0], a->metric, a->method, why, whylen);
}

const struct plot_kind plot_kind_importance = {
    .name = "importance",
    .takes_metric = true,
    .takes_method = true,
    .nreq = 1,
    .request = importance_request,
    .render = importance_render,
};
