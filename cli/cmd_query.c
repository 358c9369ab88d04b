/*
 * query verbs — show, best, results (the daemon's ops_query.c).
 *
 * Each verb sends one request and prints the answer: with --json the
 * response itself (minus "ok"; `results` flattens its rows first), otherwise
 * aligned tables that fit TABLE_WIDTH columns.  The statistics are computed
 * by mlpd; this file only formats them.  Hyperparameters are shown as one
 * column per grid key when that fits, else as one elided "k=v k=v" column.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "cmd_meta.h"
#include "csv.h"
#include "json.h"
#include "metric.h"
#include "resp.h"
#include "table.h"

/* Gap thresholds of `show`'s overfitting flag (documented in the verb's usage). */
#define GAP_ACCURACY 0.05 /* train − val accuracy above this */
#define GAP_LOSS_REL 0.25 /* val loss above train loss by this fraction of it */

/* "3/10 trials done, 1 failed, 2 running" from a sweep summary. */
static char *progress_text(char *buf, size_t n, const cJSON *s)
{
    double done = resp_num(s, "done"), total = resp_num(s, "total"), failed = resp_num(s, "failed"),
           running = resp_num(s, "running"), cancelled = resp_num(s, "cancelled"),
           pruned = resp_num(s, "pruned");
    char tt[64];
    int len =
        snprintf(buf, n, "%.0f/%s done", done, resp_fmt_count(tt, sizeof tt, total, "trial", NULL));
    if (len > 0 && (size_t)len < n && running > 0)
        len += snprintf(buf + len, n - (size_t)len, ", %.0f running", running);
    if (len > 0 && (size_t)len < n && failed > 0)
        len += snprintf(buf + len, n - (size_t)len, ", %.0f failed", failed);
    if (len > 0 && (size_t)len < n && cancelled > 0)
        len += snprintf(buf + len, n - (size_t)len, ", %.0f cancelled", cancelled);
    if (len > 0 && (size_t)len < n && pruned > 0)
        len += snprintf(buf + len, n - (size_t)len, ", %.0f pruned", pruned);
    double most = resp_num(s, "trials_max");
    if (len > 0 && (size_t)len < n && isfinite(most) && most > 0)
        snprintf(buf + len, n - (size_t)len, " (at most %.0f)", most);
    return buf;
}

/* ---- show ---------------------------------------------------------------- */

/* Whether the gap (train − val mean) suggests overfitting for this metric direction. */
static bool gap_flag(double gap, double train_mean, bool maximize)
{
    if (!isfinite(gap))
        return false;
    if (maximize)
        return gap > GAP_ACCURACY;
    return -gap > GAP_LOSS_REL * fabs(train_mean);
}

/*
 * The grid keys whose value differs between the configurations listed (the
 * others are printed once above the table instead of in every row).
 * Returns a new array of key strings; NULL on ENOMEM.
 */
static cJSON *varying_keys(const cJSON *keys, const cJSON *configs, cJSON *constant)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *k, *c;
    if (!out)
        return NULL;
    cJSON_ArrayForEach(k, keys)
    {
        if (!cJSON_IsString(k))
            continue;
        const cJSON *first = NULL;
        bool differs = false;
        cJSON_ArrayForEach(c, configs)
        {
            const cJSON *v = json_get(resp_config_grid(json_get(c, "config")), k->valuestring);
            if (!first)
                first = v;
            else if (!v || !first || !cJSON_Compare(first, v, true))
                differs = true;
        }
        if (differs || !first || cJSON_GetArraySize(configs) < 2)
            cJSON_AddItemToArray(out, cJSON_CreateString(k->valuestring));
        else
            cJSON_AddItemToObject(constant, k->valuestring, cJSON_Duplicate(first, true));
    }
    return out;
}

/* Build the show table over `keys`; per_key: one column per key, else one combined column. */
static struct table *show_table(const cJSON *resp, const cJSON *keys, bool per_key, bool *flagged)
{
    const cJSON *configs = json_get(resp, "configs");
    const char *metric = resp_str(resp, "metric", "metric");
    bool maximize = strcmp(resp_str(resp, "direction", "max"), "min") != 0;
    struct table *t = table_new();
    if (!t)
        return NULL;
    table_column(t, "RANK", TABLE_RIGHT, false);
    table_column(t, "CONFIG", TABLE_RIGHT, false);
    const cJSON *k;
    if (per_key) {
        cJSON_ArrayForEach(k, keys) table_column(t, k->valuestring, TABLE_LEFT, true);
    } else if (cJSON_GetArraySize(keys) > 0) {
        table_column(t, "HYPERPARAMETERS", TABLE_LEFT, true);
    }
    table_column(t, "SEEDS", TABLE_RIGHT, false);
    bool racing = cJSON_IsObject(json_get(resp, "race"));
    if (racing) /* racing on seeds: each configuration's last verdict */
        table_column(t, "RACE", TABLE_LEFT, false);
    table_column(t, metric, TABLE_LEFT, false);
    table_column(t, "TRAIN", TABLE_RIGHT, false);
    table_column(t, "GAP", TABLE_LEFT, false);

    *flagged = false;
    const cJSON *c;
    cJSON_ArrayForEach(c, configs)
    {
        char buf[1024];
        const cJSON *config = json_get(c, "config"), *grid = resp_config_grid(config);
        struct resp_stat st, tr;
        resp_stat_get(json_get(c, "stat"), &st);
        resp_stat_get(json_get(c, "train"), &tr);
        table_row(t);
        if (cJSON_IsNumber(json_get(c, "pruned"))) /* stopped at a rung: not ranked */
            table_cellf(t, "pruned@%.0f", resp_num(c, "pruned"));
        else
            table_cell(t, resp_fmt_int(buf, sizeof buf, resp_num(c, "rank")));
        table_cell(t, resp_fmt_int(buf, sizeof buf, resp_config_num(config)));
        if (per_key) {
            cJSON_ArrayForEach(k, keys)
            {
                const cJSON *v = json_get(grid, k->valuestring);
                table_cell(t, v ? resp_fmt_value(buf, sizeof buf, v) : "");
            }
        } else if (cJSON_GetArraySize(keys) > 0) {
            /* Only the keys that differ between rows, "k=v k=v". */
            size_t len = 0;
            buf[0] = '\0';
            cJSON_ArrayForEach(k, keys)
            {
                char v[512];
                const cJSON *x = json_get(grid, k->valuestring);
                if (!x || len + 2 >= sizeof buf)
                    continue;
                int w = snprintf(buf + len, sizeof buf - len, "%s%s=%s", len ? " " : "",
                                 k->valuestring, resp_fmt_value(v, sizeof v, x));
                if (w > 0)
                    len = len + (size_t)w < sizeof buf ? len + (size_t)w : sizeof buf - 1;
            }
            table_cell(t, buf);
        }
        if (racing) {
            /* done / run so far, of at most seeds_max */
            table_cellf(t, "%.0f/%.0f\xe2\x89\xa4%.0f", resp_num(c, "seeds_done"),
                        resp_num(c, "seeds_total"), resp_num(c, "seeds_max"));
            table_cell(t, resp_str(c, "race", "\xe2\x80\x94"));
        } else {
            table_cellf(t, "%.0f/%.0f", resp_num(c, "seeds_done"), resp_num(c, "seeds_total"));
        }
        table_cell(t, resp_fmt_stat_diverged(buf, sizeof buf, &st, resp_num(c, "diverged")));
        table_cell(t, resp_fmt_num(buf, sizeof buf, tr.mean));
        double gap = resp_num(c, "gap");
        if (isfinite(gap)) {
            bool f = gap_flag(gap, tr.mean, maximize);
            *flagged |= f;
            table_cellf(t, "%+.4f%s", gap, f ? " !" : "");
        } else {
            table_cell(t, "—");
        }
    }
    return t;
}

/* The range a bounded metric can take, as the footnote of a clipped interval says it. */
static const char *clip_range(const char *metric)
{
    int m = metric_index(metric);
    return m >= 0 && metric_info(m)->kind == METRIC_ACCURACY ? "0 to 1" : "0 or more";
}

static int show_by(const cJSON *resp)
{
    const cJSON *by = json_get(resp, "by");
    const char *key = resp_str(by, "key", "?"), *metric = resp_str(resp, "metric", "metric");
    struct table *t = table_new();
    if (!t)
        return CLI_FAILED;
    table_column(t, key, TABLE_LEFT, true);
    table_column(t, "CONFIGS", TABLE_RIGHT, false);
    table_column(t, "N", TABLE_RIGHT, false);
    table_column(t, metric, TABLE_LEFT, false);
    table_column(t, "SD", TABLE_RIGHT, false);
    table_column(t, "95% CI", TABLE_LEFT, false);
    const cJSON *v;
    bool any_clipped = false;
    cJSON_ArrayForEach(v, json_get(by, "values"))
    {
        char buf[1024], a[32], b[32];
        struct resp_stat st;
        resp_stat_get(json_get(v, "stat"), &st);
        table_row(t);
        table_cell(t, resp_fmt_value(buf, sizeof buf, json_get(v, "value")));
        table_cell(t, resp_fmt_int(buf, sizeof buf, resp_num(v, "configs")));
        table_cellf(t, "%d", st.n);
        table_cell(t, resp_fmt_stat(buf, sizeof buf, st.mean, st.se));
        table_cell(t, resp_fmt_num(buf, sizeof buf, st.sd));
        if (isfinite(st.ci_low) && isfinite(st.ci_high))
            table_cellf(t, "[%s, %s]%s", resp_fmt_num(a, sizeof a, st.ci_low),
                        resp_fmt_num(b, sizeof b, st.ci_high), st.clipped ? " *" : "");
        else
            table_cell(t, "—");
        any_clipped |= st.clipped;
    }
    char title[256];
    printf("%s: marginal effect of %s on %s\n\n",
           cmd_sweep_title(title, sizeof title, json_get(resp, "sweep")), key, metric);
    table_print(t, stdout, TABLE_WIDTH);
    printf("\n%s: mean ± standard error over every configuration and seed with that value.\n",
           metric);
    if (any_clipped)
        printf("*: interval clipped to the range %s can take (%s).\n", metric, clip_range(metric));
    table_free(t);
    return CLI_OK;
}

int cmd_show(struct cli *cli, int argc, char **argv)
{
    const char *sweep = NULL, *by = NULL;
    long config = 0;
    bool confusion = false, counts = false;
    struct opt opts[] = {{"by", OPT_STRING, &by},
                         {"config", OPT_INT, &config},
                         {"confusion", OPT_FLAG, &confusion},
                         {"counts", OPT_FLAG, &counts},
                         {NULL, 0, NULL}};
    int rc = cmd_parse_sweep(argc, argv, opts, &sweep);
    if (rc != CLI_OK)
        return rc;
    if (confusion != (config != 0) || config < 0)
        return cli_usage(argv[0], "--confusion and --config N (N ≥ 1) go together");
    if (counts && !confusion)
        return cli_usage(argv[0], "--counts is an option of --confusion");
    if (by && confusion)
        return cli_usage(argv[0], "--by and --confusion exclude each other");
    cJSON *req = cmd_add_sweep(cmd_req("show"), sweep), *resp = NULL;
    if (req && by)
        cJSON_AddStringToObject(req, "by", by);
    if (req && confusion) {
        cJSON_AddNumberToObject(req, "config", (double)config);
        cJSON_AddBoolToObject(req, "confusion", true);
    }
    rc = cmd_request_text(cli, req, &resp);
    if (!resp)
        return rc;
    if (confusion) {
        rc = cmd_show_confusion(resp, counts);
        cJSON_Delete(resp);
        return rc;
    }
    if (by) {
        rc = show_by(resp);
        cJSON_Delete(resp);
        return rc;
    }
    const cJSON *summary = json_get(resp, "sweep");
    char title[256], prog[128];
    bool maximize = strcmp(resp_str(resp, "direction", "max"), "min") != 0;
    printf("%s: %s; %s, %s is better\n\n", cmd_sweep_title(title, sizeof title, summary),
           progress_text(prog, sizeof prog, summary), resp_str(resp, "metric", "metric"),
           maximize ? "higher" : "lower");
    if (cJSON_IsObject(json_get(summary, "note")) ||
        cJSON_GetArraySize(json_get(summary, "tags")) > 0) {
        cmd_meta_print_sweep(summary);
        printf("\n");
    }
    if (cJSON_GetArraySize(json_get(resp, "configs")) == 0) {
        printf("no configurations\n");
        cJSON_Delete(resp);
        return CLI_OK;
    }
    bool flagged = false;
    cJSON *constant = cJSON_CreateObject();
    cJSON *keys =
        constant ? varying_keys(json_get(resp, "keys"), json_get(resp, "configs"), constant) : NULL;
    struct table *t = keys ? show_table(resp, keys, true, &flagged) : NULL;
    size_t width = table_term_width();
    /* One column per key while every key column keeps a readable width, else "k=v k=v". */
    if (t && table_min_width(t) > width) {
        table_free(t);
        t = show_table(resp, keys, false, &flagged);
    }
    if (!t) {
        cJSON_Delete(keys);
        cJSON_Delete(constant);
        cJSON_Delete(resp);
        return CLI_FAILED;
    }
    if (constant->child) {
        char cfg[2048], el[2048];
        snprintf(el, sizeof el, "same in every row: %s",
                 resp_fmt_config(cfg, sizeof cfg, constant));
        printf("%s\n\n", table_elide(cfg, sizeof cfg, el, width));
    }
    cJSON_Delete(keys);
    cJSON_Delete(constant);
    table_print(t, stdout, width);
    table_free(t);
    printf("\n%s: mean ± standard error over finished seeds.  GAP = train − validation mean",
           resp_str(resp, "metric", "metric"));
    if (flagged)
        printf(";\n! marks a gap large enough to suggest overfitting (%s)",
               maximize ? "accuracy gap > 0.05" : "validation above training by > 25%");
    printf(".\n");
    cmd_meta_print_configs(json_get(resp, "configs"));
    cJSON_Delete(resp);
    return CLI_OK;
}

/* ---- best ---------------------------------------------------------------- */

/*
 * best's confirmed ranking (SPEC.md "Confirmation on fresh seeds"): the top
 * configurations run again on seeds never used in selection, ranked by those,
 * beside the rank selection gave them.
 */
static void print_confirmed(const cJSON *resp, const char *m, const char *tm)
{
    const cJSON *co = json_get(resp, "confirmed"), *seeds = json_get(co, "seeds");
    const cJSON *configs = json_get(co, "configs"), *c;
    if (!cJSON_IsObject(co) || cJSON_GetArraySize(configs) == 0)
        return;
    int ns = cJSON_GetArraySize(seeds);
    const cJSON *s0 = cJSON_GetArrayItem(seeds, 0), *s1 = cJSON_GetArrayItem(seeds, ns - 1);
    printf("\nConfirmed on %d fresh seed%s (%.0f..%.0f), never used in selection:\n\n", ns,
           ns == 1 ? "" : "s", cJSON_IsNumber(s0) ? s0->valuedouble : NAN,
           cJSON_IsNumber(s1) ? s1->valuedouble : NAN);
    struct table *t = table_new();
    if (!t)
        return;
    table_column(t, "RANK", TABLE_RIGHT, false);
    table_column(t, "CONFIG", TABLE_RIGHT, false);
    table_column(t, "SELECTION", TABLE_RIGHT, false);
    table_column(t, m, TABLE_LEFT, false);
    table_column(t, "95% CI", TABLE_LEFT, false);
    table_column(t, "N", TABLE_RIGHT, false);
    table_column(t, tm, TABLE_LEFT, false);
    bool clipped = false;
    cJSON_ArrayForEach(c, configs)
    {
        char buf[64], ci[96];
        struct resp_stat st, te;
        resp_stat_get(json_get(c, "stat"), &st);
        resp_stat_get(json_get(c, "test"), &te);
        table_row(t);
        table_cell(t, resp_fmt_int(buf, sizeof buf, resp_num(c, "rank")));
        table_cell(t, resp_fmt_int(buf, sizeof buf, resp_config_num(json_get(c, "config"))));
        if (cJSON_IsNumber(json_get(c, "selection_rank")))
            table_cellf(t, "#%.0f", resp_num(c, "selection_rank"));
        else
            table_cell(t, "\xe2\x80\x94");
        table_cell(t, resp_fmt_stat(buf, sizeof buf, st.mean, st.se));
        resp_fmt_ci(ci, sizeof ci, &st, 1, NULL, &clipped);
        table_cell(t, ci);
        table_cellf(t, "%d", st.n);
        table_cell(t, resp_fmt_stat(buf, sizeof buf, te.mean, te.se));
    }
    table_print(t, stdout, TABLE_WIDTH);
    table_free(t);
    printf("The selection ranking's estimates are biased upwards (they picked the winners); "
           "these are not.\n");
}

#define BEST_PRUNED_LINES 10 /* pruned configurations listed by best (show lists all) */

/*
 * best's pruned configurations (SPEC.md "Pruning"): not ranked, so not in
 * best's answer; `show` has each one's rung.  Listed after the ranking, at
 * most BEST_PRUNED_LINES of them.  Returns the exit code of the request.
 */
static int print_pruned(struct cli *cli, const char *sweep, const cJSON *summary)
{
    if (!(resp_num(summary, "pruned") > 0))
        return CLI_OK;
    cJSON *req = cmd_add_sweep(cmd_req("show"), sweep), *show = NULL;
    int rc = cmd_request(cli, req, &show, NULL);
    if (rc != CLI_OK)
        return rc;
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, json_get(show, "configs")) n += cJSON_IsNumber(json_get(c, "pruned"));
    if (n > 0)
        printf("\nPruned (stopped early by the sweep's prune rule; not ranked): %d "
               "configuration%s\n",
               n, n == 1 ? "" : "s");
    int shown = 0;
    cJSON_ArrayForEach(c, json_get(show, "configs"))
    {
        if (!cJSON_IsNumber(json_get(c, "pruned")) || shown++ == BEST_PRUNED_LINES)
            continue;
        const cJSON *config = json_get(c, "config"), *grid = resp_config_grid(config);
        char cfg[1024], line[1200], el[1200];
        resp_fmt_config(cfg, sizeof cfg, grid);
        snprintf(line, sizeof line, "pruned  config %.0f at epoch %.0f: %s",
                 resp_config_num(config), resp_num(c, "pruned"),
                 grid && grid->child ? cfg : "(no varying hyperparameters)");
        printf("%s\n", table_elide(el, sizeof el, line, TABLE_WIDTH));
    }
    if (n > BEST_PRUNED_LINES)
        printf("... and %d more (mlpctl show lists them all)\n", n - BEST_PRUNED_LINES);
    cJSON_Delete(show);
    return CLI_OK;
}

/* best's option checks: CLI_OK, or the usage error naming the bad option. */
static int best_check_opts(const char *verb, long top, long bottom, long min_seeds,
                           const char *metric)
{
    if (top < 1 || top > 100000)
        return cli_usage(verb, "--top expects an integer ≥ 1, got %ld", top);
    if (bottom != 0 && (bottom < 1 || bottom > 100000))
        return cli_usage(verb, "--bottom expects an integer ≥ 1, got %ld", bottom);
    if (bottom != 0 && top != 1)
        return cli_usage(verb, "--top and --bottom exclude each other");
    if (min_seeds != -1 && (min_seeds < 0 || min_seeds > 1000000))
        return cli_usage(verb, "--min-seeds expects an integer ≥ 0, got %ld", min_seeds);
    if (metric && !metric_rankable(metric_index(metric))) {
        char names[512];
        return cli_usage(verb, "--metric: \"%s\" is not a metric to rank by (one of %s)", metric,
                         metric_rankable_text(names, sizeof names));
    }
    return CLI_OK;
}

/*
 * The ranking table of best's configs, ranked by m with trm and tm beside.
 * Sets *any_single and *any_clipped for the footnotes.  CLI_OK or CLI_FAILED.
 */
static int best_table(const cJSON *configs, const char *m, const char *trm, const char *tm,
                      bool *any_single, bool *any_clipped)
{
    struct table *t = table_new();
    if (!t)
        return CLI_FAILED;
    table_column(t, "RANK", TABLE_RIGHT, false);
    table_column(t, "CONFIG", TABLE_RIGHT, false);
    table_column(t, m, TABLE_LEFT, false);
    table_column(t, "SD", TABLE_RIGHT, false);
    table_column(t, "95% CI", TABLE_LEFT, false);
    table_column(t, "N", TABLE_RIGHT, false);
    table_column(t, trm, TABLE_LEFT, false);
    table_column(t, tm, TABLE_LEFT, false);
    const cJSON *c;
    cJSON_ArrayForEach(c, configs)
    {
        char buf[64], ci[96];
        struct resp_stat st, te, tr;
        resp_stat_get(json_get(c, "stat"), &st);
        resp_stat_get(json_get(c, "test"), &te);
        resp_stat_get(json_get(c, "train"), &tr);
        table_row(t);
        table_cell(t, resp_fmt_int(buf, sizeof buf, resp_num(c, "rank")));
        table_cell(t, resp_fmt_int(buf, sizeof buf, resp_config_num(json_get(c, "config"))));
        table_cell(t, resp_fmt_stat_diverged(buf, sizeof buf, &st, resp_num(c, "diverged")));
        table_cell(t, resp_fmt_num(buf, sizeof buf, st.sd));
        /* The one interval cell: a configuration whose seeds diverged says so, not "n < 2". */
        resp_fmt_ci(ci, sizeof ci, &st, 1, NULL, any_clipped);
        table_cell(t, ci);
        *any_single |= strcmp(ci, "n/a (n < 2)") == 0;
        table_cellf(t, "%d", st.n);
        table_cell(t, resp_fmt_stat(buf, sizeof buf, tr.mean, tr.se));
        table_cell(t, resp_fmt_stat(buf, sizeof buf, te.mean, te.se));
    }
    table_print(t, stdout, TABLE_WIDTH);
    table_free(t);
    return CLI_OK;
}

/* One line per ranked configuration: its rank, id and hyperparameters. */
static void best_config_lines(const cJSON *configs)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, configs)
    {
        char cfg[1024], line[1200];
        const cJSON *config = json_get(c, "config");
        const cJSON *grid = resp_config_grid(config);
        resp_fmt_config(cfg, sizeof cfg, grid);
        snprintf(line, sizeof line, "#%.0f  config %.0f: %s", resp_num(c, "rank"),
                 resp_config_num(config),
                 grid && grid->child ? cfg : "(no varying hyperparameters)");
        char el[1200];
        printf("%s\n", table_elide(el, sizeof el, line, TABLE_WIDTH));
    }
}

/* The comparison of #1 with #2 (not for --bottom) and the note on what ranks. */
static void best_comparison(const cJSON *resp, const char *m, const char *tm, long bottom)
{
    const cJSON *cmp = json_get(resp, "comparison");
    if (bottom > 0) {
        /* The comparison is of the top two; not what a list of the worst is about. */
    } else if (cJSON_IsObject(cmp)) {
        char sentence[256];
        printf("\n%s\n",
               resp_significance_sentence(sentence, sizeof sentence, "#1", "#2", resp_num(cmp, "t"),
                                          resp_num(cmp, "df"), resp_num(cmp, "p"), RESP_ALPHA));
    } else {
        printf("\nNo comparison: fewer than two configurations have two or more finished seeds.\n");
    }
    printf("Ranking uses %s only; %s is reported for the chosen configurations.\n", m, tm);
}

int cmd_best(struct cli *cli, int argc, char **argv)
{
    const char *sweep = NULL, *metric = NULL;
    long top = 1, min_seeds = -1, bottom = 0;
    struct opt opts[] = {
        {"metric", OPT_STRING, &metric},    {"top", OPT_INT, &top}, {"bottom", OPT_INT, &bottom},
        {"min-seeds", OPT_INT, &min_seeds}, {NULL, 0, NULL},
    };
    int rc = cmd_parse_sweep(argc, argv, opts, &sweep);
    if (rc != CLI_OK)
        return rc;
    if ((rc = best_check_opts(argv[0], top, bottom, min_seeds, metric)) != CLI_OK)
        return rc;
    cJSON *req = cmd_add_sweep(cmd_req("best"), sweep), *resp = NULL;
    if (req) {
        if (metric)
            cJSON_AddStringToObject(req, "metric", metric);
        if (bottom > 0)
            cJSON_AddNumberToObject(req, "bottom", (double)bottom);
        else
            cJSON_AddNumberToObject(req, "top", (double)top);
        if (min_seeds >= 0)
            cJSON_AddNumberToObject(req, "min_seeds", (double)min_seeds);
    }
    rc = cmd_request_text(cli, req, &resp);
    if (!resp)
        return rc;
    const cJSON *summary = json_get(resp, "sweep"), *configs = json_get(resp, "configs");
    const char *m = resp_str(resp, "metric", "metric"), *tm = resp_str(resp, "test_metric", "test");
    bool maximize = strcmp(resp_str(resp, "direction", "max"), "min") != 0;
    char title[256], prog[128];
    const char *trm = resp_str(resp, "train_metric", "train");
    printf("%s: %s\n%s by %s (%s is better)\n\n", cmd_sweep_title(title, sizeof title, summary),
           progress_text(prog, sizeof prog, summary), bottom > 0 ? "worst" : "best", m,
           maximize ? "higher" : "lower");
    if (cJSON_GetArraySize(configs) == 0) {
        printf("no configuration has finished trials%s yet\n",
               min_seeds > 0 ? " with enough seeds" : "");
        rc = print_pruned(cli, sweep, summary);
        cJSON_Delete(resp);
        return rc;
    }
    bool any_single = false, any_clipped = false;
    if (best_table(configs, m, trm, tm, &any_single, &any_clipped) != CLI_OK) {
        cJSON_Delete(resp);
        return CLI_FAILED;
    }
    printf("\n");
    best_config_lines(configs);
    if (any_single)
        printf("n/a: a configuration with one finished seed has no standard error or interval.\n");
    if (any_clipped) {
        char fn[160];
        printf("%s\n", resp_clip_footnote(fn, sizeof fn, m, 1));
    }
    best_comparison(resp, m, tm, bottom);
    if (bottom == 0)
        print_confirmed(resp, m, tm);
    rc = print_pruned(cli, sweep, summary);
    cJSON_Delete(resp);
    return rc;
}

/* ---- results ------------------------------------------------------------- */

/* A grid key's value in a row: row[key], row.config.grid/params, row.grid, row.params. */
static const cJSON *row_key_value(const cJSON *row, const char *key)
{
    const cJSON *config = json_get(row, "config");
    const cJSON *places[] = {
        row,
        json_get(config, "grid"),
        json_get(config, "params"),
        json_get(row, "grid"),
        json_get(row, "params"),
    };
    for (size_t i = 0; i < sizeof places / sizeof places[0]; i++) {
        const cJSON *v = cJSON_IsObject(places[i]) ? json_get(places[i], key) : NULL;
        if (v)
            return v;
    }
    return NULL;
}

static bool is_key(const cJSON *keys, const char *name)
{
    const cJSON *k;
    cJSON_ArrayForEach(k, keys) if (cJSON_IsString(k) &&
                                    strcmp(k->valuestring, name) == 0) return true;
    return false;
}

static void add_copy(cJSON *flat, const char *name, const cJSON *v)
{
    if (!v || json_get(flat, name))
        return;
    cJSON_AddItemToObject(flat, name, cJSON_Duplicate(v, true));
}

/*
 * One export row with hyperparameters under their grid keys: trial, config
 * (id), the grid keys, then the rest in the daemon's order with a nested
 * "metrics" object lifted to the top level.
 */
static cJSON *flatten_row(const cJSON *row, const cJSON *keys, bool curves)
{
    cJSON *flat = cJSON_CreateObject();
    if (!flat)
        return NULL;
    add_copy(flat, "trial", json_get(row, "trial"));
    const cJSON *config = json_get(row, "config");
    if (cJSON_IsObject(config))
        add_copy(flat, "config", json_get(config, "id"));
    else
        add_copy(flat, "config", config);
    const cJSON *k;
    cJSON_ArrayForEach(k, keys)
    {
        if (!cJSON_IsString(k))
            continue;
        const cJSON *v = row_key_value(row, k->valuestring);
        if (v)
            add_copy(flat, k->valuestring, v);
        else if (!json_get(flat, k->valuestring))
            cJSON_AddNullToObject(flat, k->valuestring);
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, row)
    {
        const char *name = m->string;
        if (!name || strcmp(name, "grid") == 0 || strcmp(name, "params") == 0)
            continue;
        /* An epoch's rate: mlpd's "epoch_lr" (the grid varies "lr"), else its "lr". */
        if (curves && (strcmp(name, "epoch_lr") == 0 ||
                       (strcmp(name, "lr") == 0 && !is_key(keys, name)))) {
            add_copy(flat, "epoch_lr", m);
            continue;
        }
        if (is_key(keys, name))
            continue;
        if (strcmp(name, "metrics") == 0) {
            const cJSON *x;
            if (cJSON_IsObject(m))
                cJSON_ArrayForEach(x, m) add_copy(flat, x->string, x);
            continue;
        }
        add_copy(flat, name, m);
    }
    return flat;
}

/* CSV text of a JSON value: numbers round-trip, lists compact ("[256,128]"), null empty. */
static char *csv_text(const cJSON *v, char *buf, size_t n, char **owned)
{
    *owned = NULL;
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (cJSON_IsNumber(v)) {
        json_print_double(buf, n, v->valuedouble);
        return strcmp(buf, "null") == 0 ? NULL : buf;
    }
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "true" : "false";
    *owned = json_line(v);
    return *owned;
}

/* Add name as the next CSV column (the value is unused). */
static void add_col(cJSON *cols, const char *name)
{
    if (!json_get(cols, name))
        cJSON_AddTrueToObject(cols, name);
}

/* Whether the rows are of a regression task: mlpd's "task", else a val_mse field in a row. */
static bool results_regression(const cJSON *resp, const cJSON *rows)
{
    const char *task = resp_str(resp, "task", NULL);
    if (task)
        return strcmp(task, "regression") == 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, rows) if (json_get(r, metric_name(MLP_M_VAL_MSE))) return true;
    return false;
}

/*
 * The CSV columns of a results answer, fixed by its kind, the grid keys and
 * the task's metric list (metric.h), never by which fields the rows happen
 * to hold: per configuration "config, KEYS, n, M_mean, M_sd, M_se..."; per
 * trial "trial, config, KEYS, seed, state, attempts, METRICS, error"; per
 * epoch "trial, config, KEYS, seed, epoch, PER-EPOCH METRICS".  An unknown
 * kind gets the union of the rows' fields.  NULL on ENOMEM.
 */
static cJSON *results_columns(const char *kind, const cJSON *keys, bool regression,
                              const cJSON *rows)
{
    cJSON *cols = cJSON_CreateObject();
    const cJSON *f, *r;
    int ms[MLP_M_N], nm = metric_task_list(regression, ms);
    bool configs = strcmp(kind, "configs") == 0, trials = strcmp(kind, "trials") == 0,
         curves = strcmp(kind, "curves") == 0;
    if (!cols)
        return NULL;
    if (!configs && !trials && !curves) {
        cJSON_ArrayForEach(r, rows) cJSON_ArrayForEach(f, r) if (f->string)
            add_col(cols, f->string);
        return cols;
    }
    if (!configs)
        add_col(cols, "trial");
    add_col(cols, "config");
    cJSON_ArrayForEach(f, keys) if (cJSON_IsString(f)) add_col(cols, f->valuestring);
    if (configs) {
        add_col(cols, "n");
        for (int k = 0; k < nm; k++) {
            char name[64];
            const char *suffix[] = {"mean", "sd", "se"};
            for (int j = 0; j < 3; j++) {
                snprintf(name, sizeof name, "%s_%s", metric_name(ms[k]), suffix[j]);
                add_col(cols, name);
            }
        }
        return cols;
    }
    add_col(cols, "seed");
    if (curves) {
        add_col(cols, "epoch");
        for (int k = 0; k < nm; k++)
            if (metric_info(ms[k])->per_epoch)
                add_col(cols, metric_name(ms[k]));
        add_col(cols, "epoch_lr"); /* empty for trials without an lr_schedule */
        return cols;
    }
    add_col(cols, "state");
    add_col(cols, "attempts");
    for (int k = 0; k < nm; k++)
        add_col(cols, metric_name(ms[k]));
    add_col(cols, "error");
    return cols;
}

/*
 * Write text with every newline followed by `indent` tabs: a value printed by
 * cJSON_Print on its own, indented as cJSON_Print indents it `indent` levels deep
 * (strings hold no raw newline: cJSON escapes them).
 */
static void put_indented(FILE *out, const char *text, int indent)
{
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        fwrite(p, 1, n, out);
        p += n;
        for (int i = 0; nl && i < indent; i++)
            fputc('\t', out);
    }
}

/*
 * An export being written as mlpd's lines arrive (cli_request_rows): the
 * document is the answer minus "ok", rows flattened under the grid keys, and
 * what reaches out is byte for byte what cli_print_json gives for it whole
 * (cJSON_Print's layout, numbers exact: json_print_exact); CSV
 * records go out row by row under columns fixed by the head.  Only an answer
 * whose CSV columns depend on its rows (an unknown kind, no task) is held
 * whole and written at the end.
 */
struct export {
    FILE *out;
    bool as_json;
    bool started;  /* the document's head (JSON) or the CSV header is out */
    cJSON *keys;   /* the grid keys (a copy of the head's) */
    cJSON *cols;   /* CSV: the columns */
    cJSON *held;   /* CSV: rows held to the end (columns that depend on the rows) */
    const char *kind;
    struct csv c;
    long rows;  /* rows written (or held) */
    bool wrote; /* anything reached out */
    int err;    /* errno of the first failed write, 0 */
};

static int export_begin(struct export *x, const cJSON *head)
{
    x->keys = cJSON_Duplicate(json_get(head, "keys"), true);
    if (!x->keys && !(x->keys = cJSON_CreateArray()))
        return -1;
    x->kind = resp_str(head, "kind", "");
    if (x->as_json) {
        fputs("{\n", x->out);
        const cJSON *f;
        cJSON_ArrayForEach(f, head)
        {
            if (!f->string || strcmp(f->string, "ok") == 0 || strcmp(f->string, "more") == 0 ||
                strcmp(f->string, "rows") == 0)
                continue;
            cJSON *name = cJSON_CreateString(f->string);
            char *kt = name ? cJSON_PrintUnformatted(name) : NULL, *vt = json_print_exact(f, true);
            cJSON_Delete(name);
            if (!kt || !vt) {
                free(kt);
                free(vt);
                return -1;
            }
            fprintf(x->out, "\t%s:\t", kt);
            put_indented(x->out, vt, 1);
            fputs(",\n", x->out);
            free(kt);
            free(vt);
        }
        fputs("\t\"rows\":\t[", x->out);
        x->wrote = true;
        return 0;
    }
    csv_init(&x->c, x->out);
    const char *task = resp_str(head, "task", NULL);
    bool known = strcmp(x->kind, "configs") == 0 || strcmp(x->kind, "trials") == 0 ||
                 strcmp(x->kind, "curves") == 0;
    if (!known || !task)
        return (x->held = cJSON_CreateArray()) ? 0 : -1;
    if (!(x->cols = results_columns(x->kind, x->keys, strcmp(task, "regression") == 0, NULL)))
        return -1;
    const cJSON *f;
    cJSON_ArrayForEach(f, x->cols) csv_field(&x->c, f->string);
    csv_end_row(&x->c);
    x->wrote = true;
    return 0;
}

static void export_csv_row(struct export *x, const cJSON *row)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, x->cols)
    {
        char buf[64], *owned;
        csv_field(&x->c, csv_text(json_get(row, f->string), buf, sizeof buf, &owned));
        free(owned);
    }
    csv_end_row(&x->c);
}

/* Whether out failed (a write error, or the reader went away); the first errno kept. */
static bool export_failed(struct export *x)
{
    bool failed = ferror(x->out) || (!x->as_json && x->c.out && csv_error(&x->c));
    if (failed && !x->err)
        x->err = errno ? errno : EIO;
    return failed;
}

/* cli_rows_fn: write one line's rows. */
static int export_piece(void *ud, const cJSON *head, cJSON *rows)
{
    struct export *x = ud;
    if (!x->started) {
        x->started = true;
        if (export_begin(x, head) < 0) {
            fprintf(stderr, "mlpctl: out of memory\n");
            return CLI_FAILED;
        }
    }
    const cJSON *r;
    cJSON_ArrayForEach(r, rows)
    {
        cJSON *flat = flatten_row(r, x->keys, strcmp(x->kind, "curves") == 0);
        if (!flat) {
            fprintf(stderr, "mlpctl: out of memory\n");
            return CLI_FAILED;
        }
        if (x->held) {
            cJSON_AddItemToArray(x->held, flat);
            x->rows++;
            continue;
        }
        if (x->as_json) {
            char *text = json_print_exact(flat, true);
            cJSON_Delete(flat);
            if (!text) {
                fprintf(stderr, "mlpctl: out of memory\n");
                return CLI_FAILED;
            }
            if (x->rows > 0)
                fputs(", ", x->out);
            put_indented(x->out, text, 2);
            free(text);
        } else {
            export_csv_row(x, flat);
            cJSON_Delete(flat);
        }
        x->rows++;
    }
    return export_failed(x) ? CLI_FAILED : CLI_OK;
}

/* End the document: the held rows (CSV of an unknown kind), the closing brackets. */
static int export_end(struct export *x, const cJSON *head)
{
    if (!x->started && export_piece(x, head, NULL) != CLI_OK)
        return -1;
    if (x->as_json) {
        fputs("]\n}\n", x->out);
    } else if (x->held) {
        cJSON *cols = results_columns(x->kind, x->keys, results_regression(head, x->held),
                                      x->held);
        const cJSON *f, *r;
        if (!cols)
            return -1;
        cJSON_Delete(x->cols);
        x->cols = cols;
        cJSON_ArrayForEach(f, cols) csv_field(&x->c, f->string);
        csv_end_row(&x->c);
        cJSON_ArrayForEach(r, x->held) export_csv_row(x, r);
        x->wrote = true;
    }
    return export_failed(x) ? -1 : 0;
}

int cmd_results(struct cli *cli, int argc, char **argv)
{
    const char *sweep = NULL, *format = NULL, *out_path = NULL;
    bool trials = false, curves = false;
    struct opt opts[] = {
        {"format", OPT_STRING, &format},
        {"trials", OPT_FLAG, &trials},
        {"curves", OPT_FLAG, &curves},
        {"out", OPT_STRING, &out_path},
        {NULL, 0, NULL},
    };
    int rc = cmd_parse_sweep(argc, argv, opts, &sweep);
    if (rc != CLI_OK)
        return rc;
    bool as_json = cli->json;
    if (format && strcmp(format, "csv") == 0 && cli->json)
        return cli_usage(argv[0], "--json and --format csv exclude each other");
    if (format && strcmp(format, "csv") == 0)
        as_json = false;
    else if (format && strcmp(format, "json") == 0)
        as_json = true;
    else if (format)
        return cli_usage(argv[0], "--format expects csv or json, got '%s'", format);
    if (trials && curves)
        return cli_usage(argv[0], "--trials and --curves exclude each other");
    if (out_path && !*out_path)
        return cli_usage(argv[0], "--out expects a file name");

    /* A file is written under a temporary name and renamed once complete. */
    char tmp[4096] = "";
    FILE *out = stdout;
    bool to_file = out_path && strcmp(out_path, "-") != 0;
    if (to_file) {
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", out_path, (long)getpid());
        out = fopen(tmp, "w");
        if (!out) {
            fprintf(stderr, "mlpctl: cannot write %s: %s\n", tmp, strerror(errno));
            return CLI_FAILED;
        }
    }
    cJSON *req = cmd_add_sweep(cmd_req("results"), sweep), *resp = NULL;
    if (req && trials)
        cJSON_AddBoolToObject(req, "trials", true);
    if (req && curves)
        cJSON_AddBoolToObject(req, "curves", true);
    struct export x = {.out = out, .as_json = as_json};
    rc = cli_request_rows(cli, req, "rows", export_piece, &x, &resp);
    bool werr = false, mlpd_error = rc != CLI_OK && resp;
    if (rc == CLI_OK) {
        werr = export_end(&x, resp) < 0;
    } else if (resp) { /* mlpd's error, before any row or mid-stream */
        struct resp_error e;
        resp_error_get(resp, &e);
        resp_error_print(stderr, &e, NULL);
        /* The error document only where no export began (it would follow half a document). */
        if (cli->json && (to_file || !x.wrote))
            cmd_print_error_json(e.code, e.message, e.path);
    } else {
        werr = x.err != 0; /* export_piece stopped on a failed write */
    }
    if (fflush(out) != 0 && !x.err) {
        werr = true;
        x.err = errno;
    }
    if (to_file) {
        if (fclose(out) != 0 && !werr) {
            werr = true;
            x.err = errno;
        }
        if (rc == CLI_OK && !werr && rename(tmp, out_path) != 0) {
            werr = true;
            x.err = errno;
        }
        if (werr)
            fprintf(stderr, "mlpctl: cannot write %s: %s\n", out_path, strerror(x.err));
        if (rc != CLI_OK || werr) {
            unlink(tmp);
            if (rc == CLI_OK)
                rc = CLI_FAILED;
        } else {
            char rb[64];
            fprintf(stderr, "wrote %s to %s\n",
                    resp_fmt_count(rb, sizeof rb, (double)x.rows, "row", NULL), out_path);
        }
    } else if (werr && x.err == EPIPE) {
        if (!mlpd_error)
            rc = CLI_OK; /* the reader went away (`| head`): not an error */
    } else if (werr) {
        fprintf(stderr, "mlpctl: writing results failed: %s\n", strerror(x.err ? x.err : EIO));
        if (!mlpd_error)
            rc = CLI_FAILED;
    }
    cJSON_Delete(x.keys);
    cJSON_Delete(x.cols);
    cJSON_Delete(x.held);
    cJSON_Delete(resp);
    return rc;
}
