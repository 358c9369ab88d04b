/*
 * report — `mlpctl report SWEEP --out report.html`: one self-contained HTML
 * file with the sweep summary, the `best` and `show` tables and every plot
 * inlined as <svg> (ranking, curves with test curves when recorded, gap, the
 * learning curve against train_size when the sweep varies it, the confusion
 * matrix of the best configuration, `by` for each varying key, and the
 * decision boundaries of the best configurations when their trials saved
 * models of 2-feature data).
 *
 * The confusion matrix is one extra `show` request (config + confusion); a
 * not_found answer is expected (regression sweeps, trials recorded before
 * confusion matrices were), so it is not printed: the section says why it is
 * missing instead.
 *
 * The page is written as polyglot XHTML (every element closed, only the
 * five XML entities, UTF-8) so that both HTML parsers and `xmllint --noout`
 * accept it; no scripts, no external fonts or style sheets.  Each plot is
 * rendered into memory first, so a plot that cannot be drawn (no curves
 * yet, say) becomes a sentence in the page instead of half an SVG.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "artifact.h"
#include "cmd.h"
#include "cmd_meta.h"
#include "importance.h"
#include "plot.h"
#include "resp.h"
#include "svg.h"

#define REPORT_BOUNDARIES 3 /* decision boundaries drawn: of the best configurations */

/* Everything the page is made from; the responses are owned by cmd_report. */
struct report {
    const cJSON *best;   /* best op, top = all */
    const cJSON *show;   /* show op */
    const cJSON *curves; /* results op with curves (may be NULL) */
    const cJSON **by;    /* show op with by, one per key */
    int nby;
    const cJSON *learning;  /* results op, aggregated rows (NULL: train_size not varied) */
    const char *learn_why;  /* why learning is NULL although train_size varies, or NULL */
    const cJSON *confusion; /* show op with config + confusion (NULL: see conf_why) */
    int conf_config;        /* the best configuration's id, 0 when there is none */
    char conf_why[512];     /* why there is no confusion matrix */
    /* Decision boundaries of the best configurations (one trial each). */
    struct report_boundary {
        int rank;
        cJSON *trial;        /* the `trial` op's answer */
        char *grid, *points; /* boundary.csv, points.csv */
    } bnd[REPORT_BOUNDARIES];
    int nbnd;
    bool bnd_wanted;    /* the best configuration saved its model */
    char bnd_why[256]; /* why none is drawn although models were saved */
    /* Issue 18: which key mattered, parallel coordinates, a heat map of two keys. */
    const cJSON *trials;    /* results op with trials (per-trial rows) */
    const char *imp_method; /* NULL: importance's default; "fanova" when the ANOVA cannot */
    char imp_note[640];     /* why the method is not the default, or "" */
    char hm_keys[256];      /* "A,B" for the heat map, "" for none */
    char hm_heading[320];
};

enum report_plot {
    RP_RANKING,
    RP_CURVES,
    RP_GAP,
    RP_BY,
    RP_LEARNING,
    RP_CONFUSION,
    RP_BOUNDARY,
    RP_IMPORTANCE,
    RP_PARALLEL,
    RP_HEATMAP,
};

static void esc(FILE *out, const char *s)
{
    svg_escape(out, s);
}

/* A table cell holding a number, right-aligned. */
static void td_num(FILE *out, double v)
{
    char b[32];
    resp_fmt_short(b, sizeof b, v);
    fprintf(out, "<td class=\"num\">%s</td>", isfinite(v) ? b : "\xE2\x80\x94");
}

/* "0.8912 ± 0.0011" (or just the mean when there is no SE). */
static void td_mean_se(FILE *out, const struct resp_stat *s)
{
    char m[32], e[32];
    resp_fmt_short(m, sizeof m, s->mean);
    resp_fmt_short(e, sizeof e, s->se);
    if (!isfinite(s->mean))
        fprintf(out, "<td class=\"num\">\xE2\x80\x94</td>");
    else if (isfinite(s->se))
        fprintf(out, "<td class=\"num\">%s \xC2\xB1 %s</td>", m, e);
    else
        fprintf(out, "<td class=\"num\">%s</td>", m);
}

/* A configuration by the keys that vary in the sweep (vary), every key in its tooltip. */
static void td_config(FILE *out, const cJSON *config, const cJSON *vary)
{
    char none[32];
    snprintf(none, sizeof none, "config %d", resp_config_id(config));
    char *label = plot__label(resp_config_grid(config), vary, none),
         *full = plot__config_full(config);
    fputs("<td class=\"cfg\" title=\"", out);
    esc(out, full ? full : "?");
    fputs("\">", out);
    esc(out, label ? label : "?");
    fputs("</td>", out);
    free(label);
    free(full);
}

static void summary_row(FILE *out, const char *k, const char *v)
{
    fputs("<tr><th>", out);
    esc(out, k);
    fputs("</th><td>", out);
    esc(out, v);
    fputs("</td></tr>\n", out);
}

/* The "tags" and "note" rows of a sweep summary or a show configuration (prefix before each label). */
static void meta_rows(FILE *out, const cJSON *o, const char *prefix)
{
    char label[96], tags[4096], when[64];
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "tags"),
                *note = cJSON_GetObjectItemCaseSensitive(o, "note");
    if (cJSON_GetArraySize(t) > 0) {
        cmd_meta_tags_text(tags, sizeof tags, t);
        snprintf(label, sizeof label, "%stags", prefix);
        summary_row(out, label, tags);
    }
    if (cJSON_IsObject(note)) {
        snprintf(label, sizeof label, "%snote (version %.0f, %s)", prefix,
                 resp_num(note, "version"),
                 resp_fmt_time(when, sizeof when, resp_num(note, "updated"), RESP_UTC));
        summary_row(out, label, resp_str(note, "text", ""));
    }
}

static void section_summary(FILE *out, const cJSON *sw, const cJSON *show)
{
    char b[512];
    fputs("<h2>Summary</h2>\n<table class=\"kv\">\n", out);
    snprintf(b, sizeof b, "%.0f", resp_num(sw, "id"));
    summary_row(out, "id", b);
    summary_row(out, "name", resp_str(sw, "name", "?"));
    summary_row(out, "state", resp_str(sw, "state", "?"));
    char *ds = resp_value_text(cJSON_GetObjectItemCaseSensitive(sw, "dataset"));
    summary_row(out, "dataset", ds ? ds : "?");
    free(ds);
    snprintf(b, sizeof b, "%s (%s)", resp_str(show, "metric", resp_str(sw, "metric", "?")),
             strcmp(resp_str(show, "direction", "max"), "min") == 0 ? "minimised" : "maximised");
    summary_row(out, "metric", b);
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(show, "keys");
    char kt[512] = "";
    const cJSON *k;
    cJSON_ArrayForEach(k, keys)
    {
        if (cJSON_IsString(k) && strlen(kt) + strlen(k->valuestring) + 3 < sizeof kt) {
            if (kt[0])
                strcat(kt, ", ");
            strcat(kt, k->valuestring);
        }
    }
    summary_row(out, "varying keys", kt[0] ? kt : "none");
    snprintf(b, sizeof b,
             "%.0f total: %.0f done, %.0f failed, %.0f running, %.0f queued, %.0f cancelled",
             resp_num(sw, "total"), resp_num(sw, "done"), resp_num(sw, "failed"),
             resp_num(sw, "running"), resp_num(sw, "queued"), resp_num(sw, "cancelled"));
    if (resp_num(sw, "pruned") > 0) {
        size_t len = strlen(b);
        snprintf(b + len, sizeof b - len, ", %.0f pruned", resp_num(sw, "pruned"));
    }
    summary_row(out, "trials", b);
    resp_fmt_time(b, sizeof b, resp_num(sw, "created"), RESP_UTC);
    summary_row(out, "created", b);
    resp_fmt_time(b, sizeof b, resp_num(sw, "finished"), RESP_UTC);
    summary_row(out, "finished", b);
    meta_rows(out, sw, "");
    fputs("</table>\n", out);
}

/* Configurations with tags or a note (show's configs), as a table; nothing when none. */
static void section_config_notes(FILE *out, const cJSON *show)
{
    const cJSON *c;
    bool any = false;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(show, "configs"))
    {
        const cJSON *tags = cJSON_GetObjectItemCaseSensitive(c, "tags");
        if (cJSON_GetArraySize(tags) == 0 &&
            !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(c, "note")))
            continue;
        if (!any)
            fputs("<h2>Configuration notes</h2>\n<table class=\"kv\">\n", out);
        any = true;
        char what[64];
        snprintf(what, sizeof what, "config %d ",
                 resp_config_id(cJSON_GetObjectItemCaseSensitive(c, "config")));
        meta_rows(out, c, what);
    }
    if (any)
        fputs("</table>\n", out);
}

/* The pruned configurations of show (by the keys that vary), after the ranking; none: nothing. */
static void pruned_note(FILE *out, const cJSON *show, const cJSON *vary)
{
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(show, "configs"))
    {
        if (!isfinite(resp_num(c, "pruned")))
            continue;
        const cJSON *config = cJSON_GetObjectItemCaseSensitive(c, "config");
        char none[32];
        snprintf(none, sizeof none, "config %d", resp_config_id(config));
        char *label = plot__label(resp_config_grid(config), vary, none);
        fputs(n++ ? "; " : "<p class=\"note pruned\">Pruned (stopped early by the sweep's prune "
                           "rule, not ranked): ",
              out);
        esc(out, label ? label : none);
        fprintf(out, " at epoch %.0f", resp_num(c, "pruned"));
        free(label);
    }
    if (n)
        fputs(".</p>\n", out);
}

static void section_best(FILE *out, const cJSON *best, const cJSON *vary, const cJSON *show)
{
    const char *metric = resp_str(best, "metric", "metric");
    const char *test = resp_str(best, "test_metric", "test metric");
    fputs("<h2>Best configurations</h2>\n", out);
    const cJSON *cmp = cJSON_GetObjectItemCaseSensitive(best, "comparison");
    fputs("<p class=\"verdict\">", out);
    if (cJSON_IsObject(cmp)) {
        char sentence[256];
        esc(out,
            resp_significance_sentence(sentence, sizeof sentence, "#1", "#2", resp_num(cmp, "t"),
                                       resp_num(cmp, "df"), resp_num(cmp, "p"), RESP_ALPHA));
        fputs(".", out);
    } else
        fputs("No comparison: fewer than two configurations have two or more finished seeds.", out);
    fputs("</p>\n", out);
    fputs("<table>\n<caption>", out);
    esc(out, metric);
    fputs(" per configuration over seeds; the test metric is reported, never ranked on</caption>\n",
          out);
    fputs("<tr><th>rank</th><th>configuration</th><th>n</th><th>mean</th><th>sd</th>"
          "<th>SE</th><th>95% CI</th><th>",
          out);
    esc(out, test);
    fputs(" (mean \xC2\xB1 SE)</th></tr>\n", out);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(best, "configs"))
    {
        struct resp_stat s, t;
        resp_stat_get(cJSON_GetObjectItemCaseSensitive(c, "stat"), &s);
        resp_stat_get(cJSON_GetObjectItemCaseSensitive(c, "test"), &t);
        fprintf(out, "<tr><td class=\"num\">%.0f</td>", resp_num(c, "rank"));
        td_config(out, cJSON_GetObjectItemCaseSensitive(c, "config"), vary);
        fprintf(out, "<td class=\"num\">%d</td>", s.n);
        td_num(out, s.mean);
        td_num(out, s.sd);
        td_num(out, s.se);
        if (isfinite(s.ci_low) && isfinite(s.ci_high)) {
            char lo[32], hi[32];
            resp_fmt_short(lo, sizeof lo, s.ci_low);
            resp_fmt_short(hi, sizeof hi, s.ci_high);
            fprintf(out, "<td class=\"num\">[%s, %s]</td>", lo, hi);
        } else
            fputs("<td class=\"num\">n &lt; 2: no interval</td>", out);
        td_mean_se(out, &t);
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
    pruned_note(out, show, vary);
}

/*
 * The confirmed ranking (best's `confirmed`): the top configurations of the
 * selection ranking run again on fresh seeds, ranked by those, beside the
 * rank selection gave them.  Nothing when the sweep did not confirm.
 */
static void section_confirmed(FILE *out, const cJSON *best, const cJSON *vary)
{
    const cJSON *co = cJSON_GetObjectItemCaseSensitive(best, "confirmed");
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(co, "seeds"), *c;
    const cJSON *configs = cJSON_GetObjectItemCaseSensitive(co, "configs");
    if (cJSON_GetArraySize(configs) == 0)
        return;
    int ns = cJSON_GetArraySize(seeds);
    const cJSON *s0 = cJSON_GetArrayItem(seeds, 0), *s1 = cJSON_GetArrayItem(seeds, ns - 1);
    fprintf(out, "<h2>Confirmed ranking</h2>\n<p>The best configurations of the selection "
                 "ranking, run again on %d fresh seed%s (%.0f..%.0f) that selection never saw. "
                 "The selection ranking's estimates are biased upwards (they picked the "
                 "winners); these are not.</p>\n",
            ns, ns == 1 ? "" : "s", cJSON_IsNumber(s0) ? s0->valuedouble : NAN,
            cJSON_IsNumber(s1) ? s1->valuedouble : NAN);
    fputs("<table class=\"confirmed\">\n<tr><th>confirmed rank</th><th>configuration</th>"
          "<th>selection rank</th><th>",
          out);
    esc(out, resp_str(best, "metric", "metric"));
    fputs(" (confirmation, mean \xC2\xB1 SE)</th><th>n</th><th>", out);
    esc(out, resp_str(best, "test_metric", "test metric"));
    fputs(" (confirmation, mean \xC2\xB1 SE)</th></tr>\n", out);
    cJSON_ArrayForEach(c, configs)
    {
        struct resp_stat st, te;
        resp_stat_get(cJSON_GetObjectItemCaseSensitive(c, "stat"), &st);
        resp_stat_get(cJSON_GetObjectItemCaseSensitive(c, "test"), &te);
        fprintf(out, "<tr><td class=\"num\">%.0f</td>", resp_num(c, "rank"));
        td_config(out, cJSON_GetObjectItemCaseSensitive(c, "config"), vary);
        double sr = resp_num(c, "selection_rank");
        if (isfinite(sr))
            fprintf(out, "<td class=\"num\">#%.0f</td>", sr);
        else
            fputs("<td class=\"num\">\xE2\x80\x94</td>", out);
        td_mean_se(out, &st);
        fprintf(out, "<td class=\"num\">%d</td>", st.n);
        td_mean_se(out, &te);
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

static int cmp_show_rank(const void *a, const void *b)
{
    double x = resp_num(*(const cJSON *const *)a, "rank"),
           y = resp_num(*(const cJSON *const *)b, "rank");
    if (!isfinite(x))
        x = INFINITY;
    if (!isfinite(y))
        y = INFINITY;
    return (x > y) - (x < y);
}

static void section_show(FILE *out, const cJSON *show, const cJSON *vary)
{
    const char *metric = resp_str(show, "metric", "metric");
    fputs("<h2>All configurations</h2>\n<table>\n<tr><th>rank</th><th>configuration</th>"
          "<th>seeds done/total</th><th>",
          out);
    esc(out, metric);
    fputs(" (mean \xC2\xB1 SE)</th><th>train (mean \xC2\xB1 SE)</th>"
          "<th>gap (train \xE2\x88\x92 val)</th></tr>\n",
          out);
    /* Best first, like the plots; unranked configurations (nothing finished) last. */
    const cJSON *configs = cJSON_GetObjectItemCaseSensitive(show, "configs");
    int n = cJSON_GetArraySize(configs);
    const cJSON **order = malloc((size_t)(n ? n : 1) * sizeof *order);
    if (!order) {
        fputs("</table>\n", out);
        return;
    }
    int k = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, configs) order[k++] = c;
    qsort(order, (size_t)n, sizeof *order, cmp_show_rank);
    for (int i = 0; i < n; i++) {
        c = order[i];
        struct resp_stat s, t;
        resp_stat_get(cJSON_GetObjectItemCaseSensitive(c, "stat"), &s);
        resp_stat_get(cJSON_GetObjectItemCaseSensitive(c, "train"), &t);
        double rank = resp_num(c, "rank"), pruned = resp_num(c, "pruned");
        if (isfinite(pruned)) /* stopped at a rung: not ranked */
            fprintf(out, "<tr><td class=\"pruned\">pruned at epoch %.0f</td>", pruned);
        else if (isfinite(rank))
            fprintf(out, "<tr><td class=\"num\">%.0f</td>", rank);
        else
            fputs("<tr><td class=\"num\">\xE2\x80\x94</td>", out);
        td_config(out, cJSON_GetObjectItemCaseSensitive(c, "config"), vary);
        fprintf(out, "<td class=\"num\">%.0f/%.0f</td>", resp_num(c, "seeds_done"),
                resp_num(c, "seeds_total"));
        td_mean_se(out, &s);
        td_mean_se(out, &t);
        double gap = resp_num(c, "gap");
        if (isfinite(gap))
            fprintf(out, "<td class=\"num\">%+.4f</td>", gap);
        else
            fputs("<td class=\"num\">\xE2\x80\x94</td>", out);
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
    free(order);
}

/* One plot: its SVG inline, or the reason it could not be drawn. */
static void section_plot(FILE *out, const char *heading, enum report_plot kind,
                         const struct report *r, const cJSON *by, int i)
{
    char *buf = NULL;
    size_t len = 0;
    char why[512] = "";
    int rc = CLI_FAILED;
    FILE *m = open_memstream(&buf, &len);
    if (m) {
        switch (kind) {
        case RP_RANKING:
            rc = plot__ranking(m, r->best, r->show, why, sizeof why);
            break;
        case RP_CURVES:
            if (r->curves)
                rc = plot__curves(m, r->best, r->curves, 5, why, sizeof why);
            else
                snprintf(why, sizeof why, "no per-epoch curves were available");
            break;
        case RP_GAP:
            rc = plot__gap(m, r->show, why, sizeof why);
            break;
        case RP_BY:
            rc = plot__by(m, by, why, sizeof why);
            break;
        case RP_LEARNING:
            if (r->learning)
                rc = plot__learning(m, r->learning, "train_size", resp_str(r->show, "metric", NULL),
                                    why, sizeof why);
            else
                snprintf(why, sizeof why, "%s", r->learn_why ? r->learn_why : "no rows");
            break;
        case RP_CONFUSION:
            if (r->confusion)
                rc = plot__confusion(m, r->confusion, why, sizeof why);
            else
                snprintf(why, sizeof why, "%s", r->conf_why);
            break;
        case RP_IMPORTANCE:
            rc = plot__importance(m, r->trials, NULL, r->imp_method, why, sizeof why);
            break;
        case RP_PARALLEL:
            rc = plot__parallel(m, r->trials, r->show, plot__metric_of(NULL, r->show, r->trials),
                                why, sizeof why);
            break;
        case RP_HEATMAP:
            rc = plot__heatmap(m, r->trials, r->show, plot__metric_of(NULL, r->show, r->trials),
                               r->hm_keys, why, sizeof why);
            break;
        case RP_BOUNDARY:
            if (i < r->nbnd)
                rc = plot__boundary(m, r->bnd[i].trial, r->bnd[i].grid, r->bnd[i].points, why,
                                    sizeof why);
            else
                snprintf(why, sizeof why, "%s", r->bnd_why);
            break;
        }
        if (fclose(m) != 0)
            rc = CLI_FAILED;
    } else
        snprintf(why, sizeof why, "out of memory");
    fputs("<h2>", out);
    esc(out, heading);
    fputs("</h2>\n", out);
    if (rc == CLI_OK && buf) {
        fputs("<div class=\"plot\">\n", out);
        fwrite(buf, 1, len, out);
        fputs("</div>\n", out);
    } else {
        fputs("<p class=\"note\">Not drawn: ", out);
        esc(out, why[0] ? why : "unknown reason");
        fputs("</p>\n", out);
    }
    free(buf);
}

static const char style[] =
    "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;"
    "color:#222;padding:0 1em}"
    "h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse;margin:0.5em 0;font-size:0.9em}"
    "th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums;"
    "white-space:nowrap}td.cfg{font-family:'DejaVu Sans Mono',monospace}"
    "caption{caption-side:bottom;color:#555;text-align:left;padding-top:4px}"
    "table.kv th{width:9em}table.kv td{white-space:pre-wrap}.verdict{font-weight:bold}.note{color:#555}"
    ".plot svg{max-width:100%;height:auto}td.pruned{color:#555;font-style:italic;white-space:nowrap}";

/* The whole page (a plot__render_fn). */
static int render_report(FILE *out, void *ctx, char *why, size_t whylen)
{
    const struct report *r = ctx;
    const cJSON *sw = cJSON_GetObjectItemCaseSensitive(r->show, "sweep");
    const char *name = resp_str(sw, "name", "?");
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r->show, "configs")) == 0) {
        snprintf(why, whylen, "sweep %s has no finished trials yet: nothing to report", name);
        return CLI_FAILED;
    }
    fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
          "<meta charset=\"utf-8\"/>\n<title>mlpsweep report: ",
          out);
    esc(out, name);
    fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>Sweep ", style);
    esc(out, name);
    fputs("</h1>\n", out);
    section_summary(out, sw, r->show);
    /* Configurations are named by the keys that vary between them, in every table. */
    cJSON *vary = plot__varying_keys(cJSON_GetObjectItemCaseSensitive(r->show, "configs"), false,
                                     NULL, NULL);
    if (!vary) {
        snprintf(why, whylen, "out of memory");
        return CLI_FAILED;
    }
    section_best(out, r->best, vary, r->show);
    section_confirmed(out, r->best, vary);
    section_show(out, r->show, vary);
    cJSON_Delete(vary);
    section_config_notes(out, r->show);
    section_plot(out, "Ranking", RP_RANKING, r, NULL, 0);
    if (r->trials) {
        section_plot(out, "Importance of each key", RP_IMPORTANCE, r, NULL, 0);
        if (r->imp_note[0]) {
            fputs("<p class=\"note\">", out);
            esc(out, r->imp_note);
            fputs("</p>\n", out);
        }
        section_plot(out, "Parallel coordinates", RP_PARALLEL, r, NULL, 0);
        if (r->hm_keys[0])
            section_plot(out, r->hm_heading, RP_HEATMAP, r, NULL, 0);
    }
    section_plot(out, "Learning curves", RP_CURVES, r, NULL, 0);
    section_plot(out, "Train vs validation (bias\xE2\x80\x93variance)", RP_GAP, r, NULL, 0);
    if (r->learning || r->learn_why)
        section_plot(out, "Learning curve against train_size", RP_LEARNING, r, NULL, 0);
    char h[256];
    if (r->conf_config > 0)
        snprintf(h, sizeof h, "Confusion matrix of the best configuration (#1, config %d)",
                 r->conf_config);
    else
        snprintf(h, sizeof h, "Confusion matrix of the best configuration");
    section_plot(out, h, RP_CONFUSION, r, NULL, 0);
    for (int i = 0; i < r->nbnd; i++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(r->bnd[i].trial, "trial");
        snprintf(h, sizeof h, "Decision boundary of #%d (config %d, trial %.0f, seed %.0f)",
                 r->bnd[i].rank, resp_config_id(cJSON_GetObjectItemCaseSensitive(t, "config")),
                 resp_num(t, "id"), resp_num(t, "seed"));
        section_plot(out, h, RP_BOUNDARY, r, NULL, i);
    }
    if (r->bnd_wanted && r->nbnd == 0)
        section_plot(out, "Decision boundary", RP_BOUNDARY, r, NULL, 0);
    for (int i = 0; i < r->nby; i++) {
        snprintf(h, sizeof h, "Marginal effect of %s",
                 resp_str(cJSON_GetObjectItemCaseSensitive(r->by[i], "by"), "key", "?"));
        section_plot(out, h, RP_BY, r, r->by[i], 0);
    }
    fputs("<p class=\"note\">Means over seeds; \xC2\xB1 is one standard error; intervals are "
          "two-sided 95% Student t-intervals. Generated by mlpctl report.</p>\n</body>\n</html>\n",
          out);
    return CLI_OK;
}

#define REPORT_USAGE "report SWEEP --out report.html"

/*
 * What the importance, parallel and heat map sections draw, from the
 * per-trial rows: the importance method (the default, else fANOVA when the
 * ANOVA cannot, with a note saying why) and the heat map's two keys (the
 * two that vary, else the two most important).
 */
static void plan_issue18(struct report *r)
{
    const cJSON *configs = cJSON_GetObjectItemCaseSensitive(r->show, "configs");
    cJSON *vary = plot__varying_keys(configs, false, NULL, NULL), *doc = NULL;
    struct importance_opts o = IMPORTANCE_OPTS_INIT;
    char why[512] = "";
    int rc = importance_analyse(r->trials, &o, &doc, why, sizeof why);
    if (rc != CLI_OK && !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r->trials, "search"))) {
        o.method = IMPORTANCE_FANOVA;
        char why2[512] = "";
        if (importance_analyse(r->trials, &o, &doc, why2, sizeof why2) == CLI_OK) {
            r->imp_method = "fanova";
            snprintf(r->imp_note, sizeof r->imp_note,
                     "The ANOVA could not be computed (%s); the bars are the functional ANOVA's "
                     "(random forest) instead.", why);
        }
    }
    const cJSON *a = NULL, *b = NULL;
    if (cJSON_GetArraySize(vary) == 2) {
        a = cJSON_GetArrayItem(vary, 0);
        b = cJSON_GetArrayItem(vary, 1);
        snprintf(r->hm_heading, sizeof r->hm_heading, "Heat map of %s and %s", a->valuestring,
                 b->valuestring);
    } else if (doc && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "keys")) >= 2) {
        const cJSON *ks = cJSON_GetObjectItemCaseSensitive(doc, "keys");
        const char *ka = resp_str(cJSON_GetArrayItem(ks, 0), "key", NULL),
                   *kb = resp_str(cJSON_GetArrayItem(ks, 1), "key", NULL);
        if (ka && kb)
            snprintf(r->hm_heading, sizeof r->hm_heading,
                     "Heat map of the two most important keys, %s and %s", ka, kb);
        if (ka && kb)
            snprintf(r->hm_keys, sizeof r->hm_keys, "%s,%s", ka, kb);
    }
    if (a && b && cJSON_IsString(a) && cJSON_IsString(b))
        snprintf(r->hm_keys, sizeof r->hm_keys, "%s,%s", a->valuestring, b->valuestring);
    cJSON_Delete(doc);
    cJSON_Delete(vary);
}

/* {"op": op, "sweep": SWEEP}; NULL on ENOMEM. */
static cJSON *sweep_req(const char *op, const char *sweep)
{
    return cmd_add_sweep(cmd_req(op), sweep);
}

/* Does the `show` response's "keys" list hold key? */
static bool varies(const cJSON *show, const char *key)
{
    const cJSON *k;
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(show, "keys"))
    {
        if (cJSON_IsString(k) && strcmp(k->valuestring, key) == 0)
            return true;
    }
    return false;
}

/*
 * The confusion matrix of the best configuration into r->confusion (owned
 * by the caller through *resp), or r->conf_why saying why there is none.
 * Only an unreachable daemon is an error: CLI_UNREACHABLE, else CLI_OK.
 */
static int fetch_confusion(struct cli *cli, const char *sweep, struct report *r, cJSON **resp)
{
    const cJSON *first =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r->best, "configs"), 0);
    int id = first ? resp_config_id(cJSON_GetObjectItemCaseSensitive(first, "config")) : -1;
    const char *metric = resp_str(r->best, "metric", "");
    int mi = metric_index(metric);
    bool regression = mi >= 0 && metric_info(mi)->kind == METRIC_MSE;
    *resp = NULL;
    if (id <= 0) {
        snprintf(r->conf_why, sizeof r->conf_why, "no configuration is ranked yet");
        return CLI_OK;
    }
    r->conf_config = id;
    cJSON *req = sweep_req("show", sweep);
    if (!req || !cJSON_AddNumberToObject(req, "config", id) ||
        !cJSON_AddBoolToObject(req, "confusion", 1)) {
        cJSON_Delete(req);
        snprintf(r->conf_why, sizeof r->conf_why, "out of memory");
        return CLI_OK;
    }
    /* cli_request, not cmd_request: an expected not_found is not printed. */
    int rc = cli_request(cli, req, resp);
    if (rc == CLI_UNREACHABLE)
        return rc;
    if (rc != CLI_OK) {
        struct resp_error e;
        resp_error_get(*resp, &e);
        if (strcmp(e.code, "not_found") == 0 && e.path && strcmp(e.path, "config") == 0)
            snprintf(r->conf_why, sizeof r->conf_why,
                     regression ? "no confusion matrix recorded for configuration %d "
                                  "(a regression sweep)"
                                : "no confusion matrix recorded for configuration %d "
                                  "(regression, or trials from before this version)",
                     id);
        else
            snprintf(r->conf_why, sizeof r->conf_why, "the daemon answered %s: %s", e.code,
                     e.message);
    } else if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(*resp, "confusion")))
        snprintf(r->conf_why, sizeof r->conf_why,
                 "no confusion matrix in the daemon's answer (regression, or a daemon from "
                 "before this version)");
    else {
        r->confusion = *resp;
        return CLI_OK;
    }
    cJSON_Delete(*resp);
    *resp = NULL;
    return CLI_OK;
}

/* Does the `artifact` listing of trial id hold both files a boundary needs?  -1: unreachable. */
static int has_boundary(struct cli *cli, double id)
{
    cJSON *req = cmd_req("artifact"), *resp = NULL;
    if (!req || !cJSON_AddNumberToObject(req, "id", id)) {
        cJSON_Delete(req);
        return 0;
    }
    int rc = cli_request(cli, req, &resp), found = 0; /* an error answer is not printed */
    const cJSON *f, *files = rc == CLI_OK ? cJSON_GetObjectItemCaseSensitive(resp, "files") : NULL;
    cJSON_ArrayForEach(f, files)
    {
        const char *name = resp_str(f, "name", "");
        found |= strcmp(name, "boundary.csv") == 0 ? 1 : strcmp(name, "points.csv") == 0 ? 2 : 0;
    }
    cJSON_Delete(resp);
    return rc == CLI_UNREACHABLE ? -1 : found == 3;
}

/*
 * The decision boundaries of the REPORT_BOUNDARIES best configurations when
 * they saved models: for each, the first of its trials (by seed, from the
 * curve rows) whose artifacts hold boundary.csv (data with two features).
 * Only an unreachable daemon is an error (CLI_UNREACHABLE); else CLI_OK with
 * r->bnd_why saying why none is drawn.
 */
static int fetch_boundaries(struct cli *cli, struct report *r)
{
    const cJSON *configs = cJSON_GetObjectItemCaseSensitive(r->best, "configs"), *c;
    const cJSON *first = cJSON_GetArrayItem(configs, 0);
    const char *save = resp_str(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(first, "config"),
                                         "params"),
        "save", "none");
    if (strcmp(save, "model") != 0 && strcmp(save, "both") != 0)
        return CLI_OK; /* no models: no section */
    r->bnd_wanted = true;
    snprintf(r->bnd_why, sizeof r->bnd_why,
             "the trials saved no boundary.csv: it is written for data with two features");
    cJSON_ArrayForEach(c, configs)
    {
        if (r->nbnd == REPORT_BOUNDARIES)
            break;
        int id = resp_config_id(cJSON_GetObjectItemCaseSensitive(c, "config"));
        /* The configuration's trials, lowest seed first, from the curve rows. */
        double tried[8];
        int ntried = 0;
        for (;;) {
            double best_seed = INFINITY, trial = NAN;
            const cJSON *row;
            cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(r->curves, "rows"))
            {
                double t = resp_num(row, "trial"), seed = resp_num(row, "seed");
                bool seen = false;
                for (int k = 0; k < ntried; k++)
                    seen |= tried[k] == t;
                if (resp_num(row, "config") == id && !seen && seed < best_seed) {
                    best_seed = seed;
                    trial = t;
                }
            }
            if (!isfinite(trial) || ntried == 8)
                break;
            tried[ntried++] = trial;
            int has = has_boundary(cli, trial);
            if (has < 0)
                return CLI_UNREACHABLE;
            if (!has)
                continue;
            struct report_boundary *b = &r->bnd[r->nbnd];
            struct artifact_data g = {0}, p = {0};
            cJSON *req = cmd_req("trial");
            if (!req || !cJSON_AddNumberToObject(req, "id", trial)) {
                cJSON_Delete(req);
                return CLI_FAILED;
            }
            int rc = cmd_request(cli, req, &b->trial, NULL);
            if (rc == CLI_OK)
                rc = artifact_fetch(cli, (int64_t)trial, "boundary.csv", &g);
            if (rc == CLI_OK)
                rc = artifact_fetch(cli, (int64_t)trial, "points.csv", &p);
            if (rc != CLI_OK) {
                cJSON_Delete(b->trial);
                b->trial = NULL;
                free(g.data);
                free(p.data);
                return rc;
            }
            b->grid = (char *)g.data;
            b->points = (char *)p.data;
            b->rank = (int)resp_num(c, "rank");
            r->nbnd++;
            break;
        }
    }
    return CLI_OK;
}

int cmd_report(struct cli *cli, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "report";
    const char *sweep = NULL, *outp = NULL;
    bool json = false;
    char *pos[2];
    int npos;
    struct opt opts[] = {{"out", OPT_STRING, &outp}, {"json", OPT_FLAG, &json}, {NULL, 0, NULL}};
    int rc = opts_parse(verb, argc, argv, opts, pos, 2, &npos);
    if (rc != CLI_OK)
        return rc;
    cli->json = cli->json || json;
    if (npos == 2)
        return cli_usage(verb, "one sweep at a time (got \"%s\" and \"%s\")", pos[0], pos[1]);
    if (npos == 0)
        return cli_usage(verb, "which sweep? usage: " REPORT_USAGE);
    sweep = pos[0];
    if (!outp || !*outp)
        return cli_usage(verb, "--out FILE.html is required; usage: " REPORT_USAGE);
    if ((rc = cli_connect(cli)) != CLI_OK)
        return rc;
    struct report r = {0};
    cJSON *best = NULL, *show = NULL, *curves = NULL, **by = NULL, *req, *learning = NULL,
          *confusion = NULL, *trials = NULL;
    int nby = 0;

    if (!(req = sweep_req("show", sweep)))
        goto nomem;
    if ((rc = cmd_request(cli, req, &show, NULL)) != CLI_OK)
        goto out;
    if (!(req = sweep_req("best", sweep)) || !cJSON_AddNumberToObject(req, "top", 1000)) {
        cJSON_Delete(req);
        goto nomem;
    }
    if ((rc = cmd_request(cli, req, &best, NULL)) != CLI_OK)
        goto out;
    if (!(req = sweep_req("results", sweep)) || !cJSON_AddBoolToObject(req, "curves", 1)) {
        cJSON_Delete(req);
        goto nomem;
    }
    /* A failed request (printed by cmd_request) fails the report with its exit
     * code: a report silently missing its curves would say something untrue. */
    if ((rc = cmd_request(cli, req, &curves, NULL)) != CLI_OK)
        goto out;
    if (!(req = sweep_req("results", sweep)) || !cJSON_AddBoolToObject(req, "trials", 1)) {
        cJSON_Delete(req);
        goto nomem;
    }
    if ((rc = cmd_request(cli, req, &trials, NULL)) != CLI_OK)
        goto out;
    if (varies(show, "train_size")) {
        if (!(req = sweep_req("results", sweep)))
            goto nomem;
        if ((rc = cmd_request(cli, req, &learning, NULL)) != CLI_OK)
            goto out;
    }
    r.best = best;
    if ((rc = fetch_confusion(cli, sweep, &r, &confusion)) != CLI_OK)
        goto out;
    r.curves = curves;
    if ((rc = fetch_boundaries(cli, &r)) != CLI_OK)
        goto out;
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(show, "keys");
    int nkeys = cJSON_GetArraySize(keys);
    by = calloc((size_t)(nkeys ? nkeys : 1), sizeof *by);
    if (!by)
        goto nomem;
    const cJSON *k;
    cJSON_ArrayForEach(k, keys)
    {
        if (!cJSON_IsString(k))
            continue;
        if (!(req = sweep_req("show", sweep)) ||
            !cJSON_AddStringToObject(req, "by", k->valuestring)) {
            cJSON_Delete(req);
            goto nomem;
        }
        if ((rc = cmd_request(cli, req, &by[nby], NULL)) != CLI_OK)
            goto out;
        nby++;
    }
    r.best = best;
    r.show = show;
    r.curves = curves;
    r.by = (const cJSON **)by;
    r.nby = nby;
    r.learning = learning;
    r.trials = trials;
    plan_issue18(&r);
    char why[768] = "";
    rc = plot__write_file(outp, render_report, &r, why, sizeof why);
    if (rc != CLI_OK)
        fprintf(stderr, "mlpctl %s: %s\n", verb, why);
    else if (cli->json && strcmp(outp, "-") != 0) { /* with "-", stdout holds the document */
        cJSON *doc = cJSON_CreateObject();
        if (doc && cJSON_AddTrueToObject(doc, "ok") && cJSON_AddStringToObject(doc, "out", outp))
            cli_print_json(doc);
        cJSON_Delete(doc);
    } else if (strcmp(outp, "-") != 0)
        printf("wrote %s\n", outp);
    goto out;
nomem:
    fprintf(stderr, "mlpctl %s: out of memory\n", verb);
    rc = CLI_FAILED;
out:
    for (int i = 0; i < nby; i++)
        cJSON_Delete(by[i]);
    free(by);
    cJSON_Delete(best);
    cJSON_Delete(show);
    cJSON_Delete(curves);
    cJSON_Delete(learning);
    cJSON_Delete(confusion);
    cJSON_Delete(trials);
    for (int i = 0; i < r.nbnd; i++) {
        cJSON_Delete(r.bnd[i].trial);
        free(r.bnd[i].grid);
        free(r.bnd[i].points);
    }
    return rc;
}
