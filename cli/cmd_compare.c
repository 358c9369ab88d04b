/*
 * compare and show --confusion — the verbs that look at chosen configurations.
 *
 * `compare SWEEP A B` prints the daemon's two tests of A against B (the
 * paired t-test over the seeds both finished, and Welch's test over all their
 * values), the difference with its 95 % intervals, and one sentence saying
 * which is better and whether that is significant; the statistics come from
 * mlpd, the wording is here.  `show SWEEP --config N --confusion` prints a
 * configuration's test confusion matrix averaged over seeds: row-normalised
 * rates as percentages with ± SE (or mean counts with --counts), laid out to
 * fit TABLE_WIDTH for ten classes, then per-class accuracy with class names.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "json.h"
#include "plot.h"
#include "metric.h"
#include "resp.h"
#include "table.h"

/* ---- show --confusion ---------------------------------------------------- */

/* Element [i][j] of an array of arrays; NaN when missing or null. */
static double grid_at(const cJSON *m, int i, int j)
{
    const cJSON *v = cJSON_GetArrayItem(cJSON_GetArrayItem(m, i), j);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A compact number: one decimal, none from 99.95 up (so "100" and "12.3" stay short). */
static char *fmt_compact(char *buf, size_t n, double x)
{
    if (!isfinite(x))
        snprintf(buf, n, "—");
    else if (fabs(x) >= 99.95)
        snprintf(buf, n, "%.0f", x);
    else
        snprintf(buf, n, "%.1f", x);
    return buf;
}

/*
 * One cell "mean±se" (scale 100: percentages); "mean" alone when the SE is
 * unknown.  An SE of 10 or more loses its decimal, so a rate cell is at most
 * eight columns ("99.9±9.9", "37.4±19") and ten classes fit 100 columns.
 */
static char *fmt_cell(char *buf, size_t n, double mean, double se, double scale)
{
    char a[32], b[32];
    if (!isfinite(mean))
        snprintf(buf, n, "—");
    else if (!isfinite(se))
        snprintf(buf, n, "%s", fmt_compact(a, sizeof a, mean * scale));
    else
        snprintf(buf, n, "%s±%s", fmt_compact(a, sizeof a, mean * scale),
                 se * scale >= 9.95 ? (snprintf(b, sizeof b, "%.0f", se * scale), b)
                                    : fmt_compact(b, sizeof b, se * scale));
    return buf;
}

/* Print a K x K matrix with row label "t" and column headers "p": cells of width w. */
static void print_matrix(const cJSON *mean, const cJSON *se, int k, double scale, bool with_se)
{
    int w = 1;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) {
            char c[80];
            fmt_cell(c, sizeof c, grid_at(mean, i, j), with_se ? grid_at(se, i, j) : NAN, scale);
            int len = (int)table_text_width(c);
            w = len > w ? len : w;
        }
    printf("%-9s", "true\\pred");
    for (int j = 0; j < k; j++)
        printf(" %*d", w, j);
    printf("\n");
    for (int i = 0; i < k; i++) {
        printf("%-9d", i);
        for (int j = 0; j < k; j++) {
            char c[80];
            fmt_cell(c, sizeof c, grid_at(mean, i, j), with_se ? grid_at(se, i, j) : NAN, scale);
            /* Pad by display width ("—" and "±" are one column but several bytes). */
            printf(" %*s%s", w - (int)table_text_width(c), "", c);
        }
        printf("\n");
    }
}

int cmd_show_confusion(const cJSON *resp, bool counts)
{
    const cJSON *co = json_get(resp, "confusion");
    int k = (int)resp_num(co, "classes");
    if (!cJSON_IsObject(co) || k < 1)
        return CLI_FAILED;
    const cJSON *summary = json_get(resp, "sweep");
    const cJSON *ds = json_get(summary, "dataset");
    const char *dsname = cJSON_IsString(ds) ? ds->valuestring : resp_str(ds, "name", NULL);
    const char *const *names = plot__class_names(dsname, k);
    double config = resp_num(co, "config"), n = resp_num(co, "n");
    char title[256], cfg[1024] = "";
    /* The configuration's varying values, from show's own configs list. */
    const cJSON *c;
    cJSON_ArrayForEach(c, json_get(resp, "configs"))
    {
        const cJSON *conf = json_get(c, "config");
        if (resp_config_id(conf) == (int)config) {
            const cJSON *grid = resp_config_grid(conf);
            if (grid && grid->child)
                resp_fmt_config(cfg, sizeof cfg, grid);
        }
    }
    printf("%s: config %.0f%s%s%s, test confusion matrix over %.0f seed%s\n",
           cmd_sweep_title(title, sizeof title, summary), config, cfg[0] ? " (" : "", cfg,
           cfg[0] ? ")" : "", n, n == 1 ? "" : "s");
    printf("rows: true class, columns: predicted; %s\n\n",
           counts ? "mean test rows per cell ± SE over seeds"
                  : "% of the true class's test rows, mean ± SE over seeds");
    const cJSON *part = json_get(co, counts ? "counts" : "rates");
    const cJSON *mean = json_get(part, "mean"), *se = json_get(part, "se");
    double scale = counts ? 1 : 100;
    /* Ten classes fit 100 columns with "99.9±9.9" cells; wider ones print the SE apart. */
    int widest = 1;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) {
            char cell[80];
            fmt_cell(cell, sizeof cell, grid_at(mean, i, j), grid_at(se, i, j), scale);
            int len = (int)table_text_width(cell);
            widest = len > widest ? len : widest;
        }
    if (9 + k * (widest + 1) <= TABLE_WIDTH) {
        print_matrix(mean, se, k, scale, true);
    } else {
        print_matrix(mean, se, k, scale, false);
        printf("\nstandard error of each cell:\n");
        print_matrix(se, NULL, k, scale, false);
    }

    struct table *t = table_new();
    if (!t)
        return CLI_FAILED;
    table_column(t, "CLASS", TABLE_RIGHT, false);
    if (names)
        table_column(t, "NAME", TABLE_LEFT, false);
    table_column(t, "ACCURACY %", TABLE_LEFT, false);
    table_column(t, "95% CI", TABLE_LEFT, false);
    table_column(t, "N", TABLE_RIGHT, false);
    int cls = 0;
    bool any_clipped = false;
    char buf[160];
    const cJSON *ca;
    cJSON_ArrayForEach(ca, json_get(co, "class_accuracy"))
    {
        struct resp_stat st;
        resp_stat_get(ca, &st);
        table_row(t);
        table_cellf(t, "%d", cls);
        if (names)
            table_cell(t, names[cls]);
        table_cell(t, fmt_cell(buf, sizeof buf, st.mean, st.se, 100));
        table_cell(t, resp_fmt_ci(buf, sizeof buf, &st, 100, fmt_compact, &any_clipped));
        table_cellf(t, "%d", st.n);
        cls++;
    }
    printf("\nper-class test accuracy (the diagonal of the rates):\n");
    table_print(t, stdout, TABLE_WIDTH);
    table_free(t);
    if (any_clipped)
        printf("\n%s\n", resp_clip_footnote(buf, sizeof buf, "a class's accuracy", 100));
    return CLI_OK;
}

/* ---- compare ------------------------------------------------------------- */

/*
 * The grid values of a compare side that differ from the other side's
 * (same: false), or those both share (same: true).  A new object; NULL on ENOMEM.
 */
static cJSON *side_keys(const cJSON *side, const cJSON *other, bool same)
{
    const cJSON *grid = resp_config_grid(json_get(side, "config"));
    const cJSON *ogrid = resp_config_grid(json_get(other, "config")), *kv;
    cJSON *out = cJSON_CreateObject();
    if (!out)
        return NULL;
    cJSON_ArrayForEach(kv, grid)
    {
        const cJSON *ov = kv->string ? json_get(ogrid, kv->string) : NULL;
        if ((ov && cJSON_Compare(kv, ov, true)) == same)
            cJSON_AddItemToObject(out, kv->string, cJSON_Duplicate(kv, true));
    }
    return out;
}

/* "config 3 (lr=0.1)" of a compare side: the keys in which it differs from the other side. */
static char *side_label(char *buf, size_t n, const cJSON *side, const cJSON *other)
{
    char cfg[1024] = "";
    cJSON *diff = side_keys(side, other, false);
    if (diff && diff->child)
        resp_fmt_config(cfg, sizeof cfg, diff);
    cJSON_Delete(diff);
    snprintf(buf, n, "config %d%s%s%s", resp_config_id(json_get(side, "config")),
             cfg[0] ? " (" : "", cfg, cfg[0] ? ")" : "");
    return buf;
}

/*
 * A test whose differences have no spread: stats.c gives t NaN (every
 * difference 0) or ±inf (the same non-zero difference every time), which
 * "t = nan" only hid.  Read from t, since mlpd sends non-finite numbers as null.
 */
static bool no_spread(const cJSON *test, const char *diff_key)
{
    double t = resp_num(test, "t"), p = resp_num(test, "p"), diff = resp_num(test, diff_key);
    return !isfinite(t) && isfinite(diff) && (p == 1 || p == 0);
}

/* "identical" or "+0.0125" for a difference without spread. */
static char *diff_text(char *buf, size_t n, double diff)
{
    if (diff == 0)
        snprintf(buf, n, "identical");
    else
        snprintf(buf, n, "%+.4f", diff);
    return buf;
}

/* A t statistic: "2.345", or "—" when there is none. */
static char *fmt_t(char *buf, size_t n, double t)
{
    if (isfinite(t))
        snprintf(buf, n, "%.3f", t);
    else
        snprintf(buf, n, "—");
    return buf;
}

/* The sentence: which is better on the metric and whether the test says it is significant. */
static void print_sentence(const cJSON *resp, const char *la, const char *lb)
{
    const cJSON *paired = json_get(resp, "paired"), *welch = json_get(resp, "welch");
    const char *metric = resp_str(resp, "metric", "the metric");
    bool maximize = strcmp(resp_str(resp, "direction", "max"), "min") != 0;
    const cJSON *test = cJSON_IsObject(paired) ? paired : welch;
    if (!cJSON_IsObject(test)) {
        printf("No test: each configuration needs two or more finished seeds.\n");
        return;
    }
    const char *diff_key = cJSON_IsObject(paired) ? "mean_diff" : "diff";
    double diff = resp_num(test, diff_key);
    double p = resp_num(test, "p");
    char pb[32];
    const char *how = cJSON_IsObject(paired) ? "paired t-test" : "Welch's t-test";
    if (no_spread(test, diff_key)) {
        const char *over = cJSON_IsObject(paired) ? "every shared seed" : "every seed";
        if (diff == 0) {
            printf("%s and %s are identical on %s on %s: there is no difference to test.\n", la, lb,
                   over, metric);
        } else {
            bool a_better = maximize ? diff > 0 : diff < 0;
            printf("%s is better than %s on %s on %s, by %.4f each time (no spread: no test "
                   "needed).\n",
                   a_better ? la : lb, a_better ? lb : la, over, metric, fabs(diff));
        }
        return;
    }
    if (!isfinite(diff) || diff == 0 || !(p < RESP_ALPHA)) {
        printf("No significant difference on %s between %s and %s (%s, %s ≥ %.2f).\n", metric, la,
               lb, how, resp_fmt_p(pb, sizeof pb, p), RESP_ALPHA);
        return;
    }
    bool a_better = maximize ? diff > 0 : diff < 0;
    printf("%s is significantly better than %s on %s, by %.4f (%s, %s < %.2f).\n",
           a_better ? la : lb, a_better ? lb : la, metric, fabs(diff), how,
           resp_fmt_p(pb, sizeof pb, p), RESP_ALPHA);
}

int cmd_compare(struct cli *cli, int argc, char **argv)
{
    const char *metric = NULL;
    struct opt opts[] = {{"metric", OPT_STRING, &metric}, {NULL, 0, NULL}};
    char *pos[3];
    int npos;
    int rc = opts_parse(argv[0], argc, argv, opts, pos, 3, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 3)
        return cli_usage(argv[0], "expected SWEEP A B (a sweep and two configuration numbers)");
    int mi = metric ? metric_index(metric) : -1;
    if (metric && (mi < 0 || metric_info(mi)->split == METRIC_NONE))
        return cli_usage(argv[0],
                         "--metric: \"%s\" is not a data metric (train_/val_/test_ with loss, "
                         "accuracy or mse)",
                         metric);
    long ids[2];
    for (int i = 0; i < 2; i++) {
        char *end;
        ids[i] = strtol(pos[1 + i], &end, 10);
        if (end == pos[1 + i] || *end || ids[i] < 1)
            return cli_usage(argv[0], "a configuration number is a positive integer, got '%s'",
                             pos[1 + i]);
    }
    cJSON *req = cmd_add_sweep(cmd_req("compare"), pos[0]), *resp = NULL;
    if (req) {
        cJSON_AddNumberToObject(req, "a", (double)ids[0]);
        cJSON_AddNumberToObject(req, "b", (double)ids[1]);
        if (metric)
            cJSON_AddStringToObject(req, "metric", metric);
    }
    rc = cmd_request_text(cli, req, &resp);
    if (!resp)
        return rc;
    const char *m = resp_str(resp, "metric", "metric");
    bool maximize = strcmp(resp_str(resp, "direction", "max"), "min") != 0;
    char title[256], la[1200], lb[1200];
    const cJSON *a = json_get(resp, "a"), *b = json_get(resp, "b");
    side_label(la, sizeof la, a, b);
    side_label(lb, sizeof lb, b, a);
    printf("%s: %s (%s is better), A against B\n\n",
           cmd_sweep_title(title, sizeof title, json_get(resp, "sweep")), m,
           maximize ? "higher" : "lower");
    cJSON *shared = side_keys(a, b, true);
    if (shared && shared->child) {
        char cfg[2048], line[2100];
        snprintf(line, sizeof line, "same in A and B: %s", resp_fmt_config(cfg, sizeof cfg, shared));
        printf("%s\n\n", table_elide(cfg, sizeof cfg, line, table_term_width()));
    }
    cJSON_Delete(shared);
    struct table *t = table_new();
    if (!t) {
        cJSON_Delete(resp);
        return CLI_FAILED;
    }
    table_column(t, "", TABLE_LEFT, false);
    table_column(t, "CONFIGURATION", TABLE_LEFT, true);
    table_column(t, m, TABLE_LEFT, false);
    table_column(t, "95% CI", TABLE_LEFT, false);
    table_column(t, "N", TABLE_RIGHT, false);
    bool any_clipped = false;
    const cJSON *sides[] = {a, b};
    const char *labels[] = {la, lb};
    for (int i = 0; i < 2; i++) {
        struct resp_stat st;
        char buf[64];
        resp_stat_get(json_get(sides[i], "stat"), &st);
        table_row(t);
        table_cell(t, i == 0 ? "A" : "B");
        table_cell(t, labels[i]);
        table_cell(t, resp_fmt_stat(buf, sizeof buf, st.mean, st.se));
        table_cell(t, resp_fmt_ci(buf, sizeof buf, &st, 1, NULL, &any_clipped));
        table_cellf(t, "%d", st.n);
    }
    table_print(t, stdout, table_term_width());
    table_free(t);
    if (any_clipped) {
        char fn[160];
        printf("%s\n", resp_clip_footnote(fn, sizeof fn, m, 1));
    }

    const cJSON *paired = json_get(resp, "paired"), *welch = json_get(resp, "welch");
    char x[32], y[32], d[32], pb[32], tb[32];
    printf("\ndifference A − B:\n");
    if (cJSON_IsObject(paired) && no_spread(paired, "mean_diff"))
        printf("  paired over %.0f shared seeds: %s on every seed (no spread: no test needed)\n",
               resp_num(paired, "n"), diff_text(d, sizeof d, resp_num(paired, "mean_diff")));
    else if (cJSON_IsObject(paired))
        printf("  paired t-test over %.0f shared seeds: %s, 95%% CI [%s, %s], t = %s, df = %.0f, "
               "%s\n",
               resp_num(paired, "n"), resp_fmt_num(d, sizeof d, resp_num(paired, "mean_diff")),
               resp_fmt_num(x, sizeof x, resp_num(paired, "ci_low")),
               resp_fmt_num(y, sizeof y, resp_num(paired, "ci_high")),
               fmt_t(tb, sizeof tb, resp_num(paired, "t")), resp_num(paired, "df"),
               resp_fmt_p(pb, sizeof pb, resp_num(paired, "p")));
    else
        printf("  paired t-test: n/a (fewer than two seeds finished in both)\n");
    if (cJSON_IsObject(welch) && no_spread(welch, "diff"))
        printf("  over all seeds:      %s on every seed (neither side varies: no test needed)\n",
               diff_text(d, sizeof d, resp_num(welch, "diff")));
    else if (cJSON_IsObject(welch))
        printf("  Welch's t-test over all seeds:      %s, 95%% CI [%s, %s], t = %s, df = %.1f, "
               "%s\n",
               resp_fmt_num(d, sizeof d, resp_num(welch, "diff")),
               resp_fmt_num(x, sizeof x, resp_num(welch, "ci_low")),
               resp_fmt_num(y, sizeof y, resp_num(welch, "ci_high")),
               fmt_t(tb, sizeof tb, resp_num(welch, "t")), resp_num(welch, "df"),
               resp_fmt_p(pb, sizeof pb, resp_num(welch, "p")));
    else
        printf("  Welch's t-test: n/a (a side has fewer than two finished seeds)\n");
    printf("\n");
    print_sentence(resp, la, lb);
    cJSON_Delete(resp);
    return CLI_OK;
}
