/*
 * query verbs — status, list, show, best, results, trial.
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
           running = resp_num(s, "running"), cancelled = resp_num(s, "cancelled");
    char tt[64];
    int len =
        snprintf(buf, n, "%.0f/%s done", done, resp_fmt_count(tt, sizeof tt, total, "trial", NULL));
    if (len > 0 && (size_t)len < n && running > 0)
        len += snprintf(buf + len, n - (size_t)len, ", %.0f running", running);
    if (len > 0 && (size_t)len < n && failed > 0)
        len += snprintf(buf + len, n - (size_t)len, ", %.0f failed", failed);
    if (len > 0 && (size_t)len < n && cancelled > 0)
        snprintf(buf + len, n - (size_t)len, ", %.0f cancelled", cancelled);
    return buf;
}

/* Verbs without arguments (status, list): parse, send {"op": op}; as cmd_request_text. */
static int request_no_args(struct cli *cli, int argc, char **argv, const char *op, cJSON **resp)
{
    struct opt opts[] = {{NULL, 0, NULL}};
    *resp = NULL;
    int rc = cmd_parse_opts(argc, argv, opts);
    return rc != CLI_OK ? rc : cmd_request_text(cli, cmd_req(op), resp);
}

/* ---- status -------------------------------------------------------------- */

int cmd_status(struct cli *cli, int argc, char **argv)
{
    cJSON *resp;
    int rc = request_no_args(cli, argc, argv, "status", &resp);
    if (!resp)
        return rc;
    const cJSON *w = json_get(resp, "workers"), *t = json_get(resp, "trials");
    char up[32];
    printf("mlpd %s (pid %.0f), up %s\n", resp_str(resp, "version", "?"), resp_num(resp, "pid"),
           resp_fmt_duration(up, sizeof up, resp_num(resp, "uptime")));
    printf("socket     %s\n", resp_str(resp, "socket", cli->socket_path));
    printf("state dir  %s\n", resp_str(resp, "state_dir", "?"));
    double threads = resp_num(resp, "threads");
    printf("workers    %.0f/%.0f busy, %.0f thread%s per trial\n", resp_num(w, "busy"),
           resp_num(w, "total"), threads, threads == 1 ? "" : "s");
    printf("trials     %.0f queued, %.0f running, %.0f done, %.0f failed, %.0f cancelled\n",
           resp_num(t, "queued"), resp_num(t, "running"), resp_num(t, "done"),
           resp_num(t, "failed"), resp_num(t, "cancelled"));
    printf("sweeps     %.0f\n", resp_num(resp, "sweeps"));
    const cJSON *sl = json_get(resp, "slurm"), *jobs = json_get(sl, "jobs"), *j;
    if (cJSON_GetArraySize(jobs) > 0) {
        printf("slurm jobs");
        cJSON_ArrayForEach(j, jobs)
        {
            char b[32];
            printf(" %s",
                   cJSON_IsString(j) ? j->valuestring : resp_fmt_int(b, sizeof b, j->valuedouble));
        }
        printf("\n");
    }
    const cJSON *run = json_get(resp, "running");
    if (cJSON_GetArraySize(run) > 0) {
        struct table *t = table_new();
        if (!t) {
            cJSON_Delete(resp);
            return CLI_FAILED;
        }
        printf("\nrunning trials:\n");
        const char *heads[] = {"TRIAL",   "SWEEP",   "CONFIG",  "SEED",
                               "ATTEMPT", "ELAPSED", "EXECUTOR"};
        for (int i = 0; i < 7; i++)
            table_column(t, heads[i], i == 1 || i == 6 ? TABLE_LEFT : TABLE_RIGHT, false);
        const cJSON *r;
        cJSON_ArrayForEach(r, run)
        {
            char buf[64];
            table_row(t);
            table_cell(t, resp_fmt_int(buf, sizeof buf, resp_num(r, "id")));
            table_cellf(t, "%.0f %s", resp_num(r, "sweep"), resp_str(r, "sweep_name", "?"));
            table_cell(t, resp_fmt_int(buf, sizeof buf, resp_num(r, "config")));
            table_cell(t, resp_fmt_int(buf, sizeof buf, resp_num(r, "seed")));
            table_cell(t, resp_fmt_int(buf, sizeof buf, resp_num(r, "attempt")));
            table_cell(t, resp_fmt_duration(buf, sizeof buf, resp_num(r, "elapsed")));
            table_cell(t, resp_str(r, "executor", "?"));
        }
        table_print(t, stdout, (size_t)1 << 20); /* names in full: they are copied back */
        table_free(t);
    }
    cJSON_Delete(resp);
    return CLI_OK;
}

/* ---- list ---------------------------------------------------------------- */

/*
 * list's options: --wide, --state S (repeatable, or S,S), --limit N.  The
 * daemon filters; --state words are sent as they are (it names a bad one).
 */
int cmd_list(struct cli *cli, int argc, char **argv)
{
    bool wide = false;
    const char *state = NULL;
    long limit = -1;
    const char *tag = NULL;
    struct opt opts[] = {{"wide", OPT_FLAG, &wide},
                         {"state", OPT_STRING, &state},
                         {"tag", OPT_STRING, &tag},
                         {"limit", OPT_INT, &limit},
                         {NULL, 0, NULL}};
    cJSON *req = cmd_req("list"), *states = cJSON_CreateArray(), *resp = NULL;
    cJSON *tags = cJSON_CreateArray();
    int rc = CLI_OK;
    /* every --state and --tag value (opts_parse keeps only the last one) */
    for (int i = 1; i < argc && req && states && tags; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
            cJSON_AddItemToArray(states, cJSON_CreateString(argv[++i]));
        else if (strncmp(argv[i], "--state=", 8) == 0)
            cJSON_AddItemToArray(states, cJSON_CreateString(argv[i] + 8));
        else if (strcmp(argv[i], "--tag") == 0 && i + 1 < argc)
            cJSON_AddItemToArray(tags, cJSON_CreateString(argv[++i]));
        else if (strncmp(argv[i], "--tag=", 6) == 0)
            cJSON_AddItemToArray(tags, cJSON_CreateString(argv[i] + 6));
    }
    if ((rc = cmd_parse_opts(argc, argv, opts)) != CLI_OK || !req || !states || !tags) {
        cJSON_Delete(req);
        cJSON_Delete(states);
        cJSON_Delete(tags);
        return rc != CLI_OK ? rc : CLI_FAILED;
    }
    if (cJSON_GetArraySize(tags) > 0)
        cJSON_AddItemToObject(req, "tag", tags);
    else
        cJSON_Delete(tags);
    if (limit != -1 && limit < 1) {
        cJSON_Delete(req);
        cJSON_Delete(states);
        return cli_usage(argv[0], "--limit: expected a positive number of sweeps, got %ld", limit);
    }
    if (limit > 0)
        cJSON_AddNumberToObject(req, "limit", (double)limit);
    if (cJSON_GetArraySize(states) > 0)
        cJSON_AddItemToObject(req, "state", states);
    else
        cJSON_Delete(states);
    rc = cmd_request_text(cli, req, &resp);
    if (!resp)
        return rc;
    const cJSON *sweeps = json_get(resp, "sweeps");
    if (cJSON_GetArraySize(sweeps) == 0) {
        if (state || tag)
            printf("no sweep matches%s%s%s%s\n", state ? " --state " : "", state ? state : "",
                   tag ? " --tag " : "", tag ? tag : "");
        else
            printf("no sweeps yet; queue one with 'mlpctl submit FILE'\n");
        cJSON_Delete(resp);
        return CLI_OK;
    }
    struct table *t = table_new();
    if (!t) {
        cJSON_Delete(resp);
        return CLI_FAILED;
    }
    table_column(t, "ID", TABLE_RIGHT, false);
    table_column(t, "NAME", TABLE_LEFT, !wide);
    table_column(t, "STATE", TABLE_LEFT, false);
    table_column(t, "PRIO", TABLE_RIGHT, false);
    table_column(t, "CREATED", TABLE_LEFT, false);
    table_column(t, "DONE/TOTAL", TABLE_RIGHT, false);
    table_column(t, "RUNNING", TABLE_RIGHT, false);
    table_column(t, "FAILED", TABLE_RIGHT, false);
    if (wide) /* the metric is named in the default view's 100 columns by show and best */
        table_column(t, "METRIC", TABLE_LEFT, false);
    table_column(t, "BEST SO FAR", TABLE_LEFT, false);
    if (wide) {
        table_column(t, "EXECUTOR", TABLE_LEFT, false);
        table_column(t, "SLURM JOBS", TABLE_LEFT, false);
    }
    bool any_tags = false;
    const cJSON *s;
    cJSON_ArrayForEach(s, sweeps) any_tags = any_tags || cJSON_GetArraySize(json_get(s, "tags")) > 0;
    if (any_tags)
        table_column(t, "TAGS", TABLE_LEFT, !wide);
    cJSON_ArrayForEach(s, sweeps)
    {
        char buf[64];
        const cJSON *best = json_get(s, "best");
        table_row(t);
        table_cell(t, resp_fmt_int(buf, sizeof buf, resp_num(s, "id")));
        table_cell(t, resp_str(s, "name", "?"));
        table_cell(t, resp_str(s, "state", "?"));
        table_cell(t, resp_fmt_int(buf, sizeof buf, resp_num(s, "priority")));
        time_t created = (time_t)resp_num(s, "created");
        struct tm tm;
        if (localtime_r(&created, &tm) &&
            strftime(buf, sizeof buf, wide ? "%Y-%m-%d %H:%M" : "%m-%d %H:%M", &tm))
            table_cell(t, buf);
        else
            table_cell(t, "—");
        table_cellf(t, "%.0f/%.0f", resp_num(s, "done"), resp_num(s, "total"));
        table_cell(t, resp_fmt_int(buf, sizeof buf, resp_num(s, "running")));
        table_cell(t, resp_fmt_int(buf, sizeof buf, resp_num(s, "failed")));
        if (wide)
            table_cell(t, resp_str(s, "metric", ""));
        if (cJSON_IsObject(best)) {
            char st[64];
            resp_fmt_stat(st, sizeof st, resp_num(best, "mean"), resp_num(best, "se"));
            table_cellf(t, "%s (config %.0f)", st, resp_num(best, "config"));
        } else {
            table_cell(t, "—");
        }
        if (wide) {
            table_cell(t, resp_str(s, "executor", "local"));
            char jobs[256] = "";
            const cJSON *j;
            cJSON_ArrayForEach(j, json_get(s, "slurm_jobs"))
            {
                size_t len = strlen(jobs);
                if (cJSON_IsString(j))
                    snprintf(jobs + len, sizeof jobs - len, "%s%s", len ? "," : "", j->valuestring);
                else if (cJSON_IsNumber(j))
                    snprintf(jobs + len, sizeof jobs - len, "%s%.0f", len ? "," : "",
                             j->valuedouble);
            }
            table_cell(t, jobs[0] ? jobs : "—");
        }
        if (any_tags) {
            char tg[4096];
            cmd_meta_tags_text(tg, sizeof tg, json_get(s, "tags"));
            table_cell(t, tg[0] ? tg : "—");
        }
    }
    /* --wide: no width limit, so every name can be copied back whole */
    table_print(t, stdout, wide ? (size_t)1 << 20 : TABLE_WIDTH);
    table_free(t);
    cJSON_Delete(resp);
    return CLI_OK;
}

/* ---- show ---------------------------------------------------------------- */

/* A config's id as a number for the tables: NaN (printed "—") when it has none. */
static double config_id(const cJSON *config)
{
    int id = resp_config_id(config);
    return id < 0 ? NAN : id;
}

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
        table_cell(t, resp_fmt_int(buf, sizeof buf, resp_num(c, "rank")));
        table_cell(t, resp_fmt_int(buf, sizeof buf, config_id(config)));
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
        table_cellf(t, "%.0f/%.0f", resp_num(c, "seeds_done"), resp_num(c, "seeds_total"));
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
    /* One column per key while every key column keeps a readable width, else "k=v k=v". */
    if (t && table_min_width(t) > TABLE_WIDTH) {
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
        printf("%s\n\n", table_elide(cfg, sizeof cfg, el, TABLE_WIDTH));
    }
    cJSON_Delete(keys);
    cJSON_Delete(constant);
    table_print(t, stdout, TABLE_WIDTH);
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
    if (top < 1 || top > 100000)
        return cli_usage(argv[0], "--top expects an integer ≥ 1, got %ld", top);
    if (bottom != 0 && (bottom < 1 || bottom > 100000))
        return cli_usage(argv[0], "--bottom expects an integer ≥ 1, got %ld", bottom);
    if (bottom != 0 && top != 1)
        return cli_usage(argv[0], "--top and --bottom exclude each other");
    if (min_seeds != -1 && (min_seeds < 0 || min_seeds > 1000000))
        return cli_usage(argv[0], "--min-seeds expects an integer ≥ 0, got %ld", min_seeds);
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
        cJSON_Delete(resp);
        return CLI_OK;
    }
    struct table *t = table_new();
    if (!t) {
        cJSON_Delete(resp);
        return CLI_FAILED;
    }
    table_column(t, "RANK", TABLE_RIGHT, false);
    table_column(t, "CONFIG", TABLE_RIGHT, false);
    table_column(t, m, TABLE_LEFT, false);
    table_column(t, "SD", TABLE_RIGHT, false);
    table_column(t, "95% CI", TABLE_LEFT, false);
    table_column(t, "N", TABLE_RIGHT, false);
    table_column(t, trm, TABLE_LEFT, false);
    table_column(t, tm, TABLE_LEFT, false);
    const cJSON *c;
    bool any_single = false, any_clipped = false;
    cJSON_ArrayForEach(c, configs)
    {
        char buf[64], a[32], b[32];
        struct resp_stat st, te, tr;
        resp_stat_get(json_get(c, "stat"), &st);
        resp_stat_get(json_get(c, "test"), &te);
        resp_stat_get(json_get(c, "train"), &tr);
        table_row(t);
        table_cell(t, resp_fmt_int(buf, sizeof buf, resp_num(c, "rank")));
        table_cell(t, resp_fmt_int(buf, sizeof buf, config_id(json_get(c, "config"))));
        table_cell(t, resp_fmt_stat_diverged(buf, sizeof buf, &st, resp_num(c, "diverged")));
        table_cell(t, resp_fmt_num(buf, sizeof buf, st.sd));
        if (isfinite(st.ci_low) && isfinite(st.ci_high)) {
            table_cellf(t, "[%s, %s]%s", resp_fmt_num(a, sizeof a, st.ci_low),
                        resp_fmt_num(b, sizeof b, st.ci_high), st.clipped ? " *" : "");
            any_clipped |= st.clipped;
        } else {
            table_cell(t, "n/a (n < 2)");
            any_single = true;
        }
        table_cellf(t, "%d", st.n);
        table_cell(t, resp_fmt_stat(buf, sizeof buf, tr.mean, tr.se));
        table_cell(t, resp_fmt_stat(buf, sizeof buf, te.mean, te.se));
    }
    table_print(t, stdout, TABLE_WIDTH);
    table_free(t);
    printf("\n");
    cJSON_ArrayForEach(c, configs)
    {
        char cfg[1024], line[1200];
        const cJSON *config = json_get(c, "config");
        const cJSON *grid = resp_config_grid(config);
        resp_fmt_config(cfg, sizeof cfg, grid);
        snprintf(line, sizeof line, "#%.0f  config %.0f: %s", resp_num(c, "rank"),
                 config_id(config), grid && grid->child ? cfg : "(no varying hyperparameters)");
        char el[1200];
        printf("%s\n", table_elide(el, sizeof el, line, TABLE_WIDTH));
    }
    if (any_single)
        printf("n/a: a configuration with one finished seed has no standard error or interval.\n");
    if (any_clipped)
        printf("*: interval clipped to the range %s can take (%s).\n", m, clip_range(m));

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
    cJSON_Delete(resp);
    return CLI_OK;
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
static cJSON *flatten_row(const cJSON *row, const cJSON *keys)
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
        if (!name || strcmp(name, "grid") == 0 || strcmp(name, "params") == 0 || is_key(keys, name))
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
        return cols;
    }
    add_col(cols, "state");
    add_col(cols, "attempts");
    for (int k = 0; k < nm; k++)
        add_col(cols, metric_name(ms[k]));
    add_col(cols, "error");
    return cols;
}

static int write_csv(FILE *out, const cJSON *rows, const cJSON *cols)
{
    const cJSON *r, *f;
    struct csv c;
    csv_init(&c, out);
    cJSON_ArrayForEach(f, cols) csv_field(&c, f->string);
    csv_end_row(&c);
    cJSON_ArrayForEach(r, rows)
    {
        cJSON_ArrayForEach(f, cols)
        {
            char buf[64], *owned;
            csv_field(&c, csv_text(json_get(r, f->string), buf, sizeof buf, &owned));
            free(owned);
        }
        csv_end_row(&c);
    }
    return csv_error(&c) ? -1 : 0;
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

    cJSON *req = cmd_add_sweep(cmd_req("results"), sweep), *resp = NULL, *doc = NULL;
    if (req && trials)
        cJSON_AddBoolToObject(req, "trials", true);
    if (req && curves)
        cJSON_AddBoolToObject(req, "curves", true);
    rc = cmd_request(cli, req, &resp, NULL);
    if (rc != CLI_OK)
        goto out;

    /* The document: the response minus "ok", rows flattened under grid keys. */
    doc = cJSON_Duplicate(resp, true);
    cJSON *rows = doc ? cJSON_CreateArray() : NULL;
    if (!rows) {
        rc = CLI_FAILED;
        goto out;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "ok");
    const cJSON *keys = json_get(resp, "keys"), *r;
    cJSON_ArrayForEach(r, json_get(resp, "rows")) cJSON_AddItemToArray(rows, flatten_row(r, keys));
    if (json_get(doc, "rows"))
        cJSON_ReplaceItemInObjectCaseSensitive(doc, "rows", rows);
    else
        cJSON_AddItemToObject(doc, "rows", rows);

    char tmp[4096] = "";
    FILE *out = stdout;
    if (out_path && strcmp(out_path, "-") != 0) {
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", out_path, (long)getpid());
        out = fopen(tmp, "w");
        if (!out) {
            fprintf(stderr, "mlpctl: cannot write %s: %s\n", tmp, strerror(errno));
            rc = CLI_FAILED;
            goto out;
        }
    }
    int werr = 0;
    if (as_json) {
        char *text = cJSON_Print(doc);
        if (!text || fputs(text, out) == EOF || fputc('\n', out) == EOF)
            werr = -1;
        free(text);
    } else {
        cJSON *cols =
            results_columns(resp_str(resp, "kind", ""), keys, results_regression(resp, rows), rows);
        werr = cols ? write_csv(out, rows, cols) : -1;
        cJSON_Delete(cols);
    }
    if (out != stdout) {
        if (fclose(out) != 0)
            werr = -1;
        if (werr == 0 && rename(tmp, out_path) != 0)
            werr = -1;
        if (werr != 0) {
            fprintf(stderr, "mlpctl: cannot write %s: %s\n", out_path, strerror(errno));
            unlink(tmp);
            rc = CLI_FAILED;
            goto out;
        }
        char rb[64];
        fprintf(stderr, "wrote %s to %s\n",
                resp_fmt_count(rb, sizeof rb, cJSON_GetArraySize(rows), "row", NULL), out_path);
    } else if (werr != 0 && errno != EPIPE) {
        fprintf(stderr, "mlpctl: writing results failed: %s\n", strerror(errno));
        rc = CLI_FAILED;
    }
out:
    cJSON_Delete(doc);
    cJSON_Delete(resp);
    return rc;
}

/* ---- trial --------------------------------------------------------------- */

static void print_trial_metrics(const cJSON *m)
{
    bool regression = json_get(m, metric_name(MLP_M_VAL_MSE)) != NULL;
    int second = regression ? MLP_M_TRAIN_MSE : MLP_M_TRAIN_ACCURACY;
    struct table *t = table_new();
    if (!t)
        return;
    table_column(t, "", TABLE_LEFT, false);
    table_column(t, metric_kind_name(METRIC_LOSS), TABLE_RIGHT, false);
    table_column(t, metric_kind_name(metric_info(second)->kind), TABLE_RIGHT, false);
    const enum metric_split splits[] = {METRIC_TRAIN, METRIC_VAL, METRIC_TEST};
    for (size_t i = 0; i < 3; i++) {
        char buf[32];
        table_row(t);
        table_cell(t, metric_split_name(splits[i]));
        const char *loss = metric_name(metric_sibling(MLP_M_TRAIN_LOSS, splits[i]));
        table_cell(t, resp_fmt_num(buf, sizeof buf, resp_num(m, loss)));
        const char *other = metric_name(metric_sibling(second, splits[i]));
        table_cell(t, resp_fmt_num(buf, sizeof buf, resp_num(m, other)));
    }
    table_print(t, stdout, TABLE_WIDTH);
    table_free(t);
    char dur[32];
    printf("epochs run %.0f, best epoch %.0f, %s, diverged: %s\n",
           resp_num(m, metric_name(MLP_M_EPOCHS_RUN)), resp_num(m, metric_name(MLP_M_BEST_EPOCH)),
           resp_fmt_duration(dur, sizeof dur, resp_num(m, metric_name(MLP_M_SECONDS))),
           cJSON_IsTrue(json_get(m, metric_name(MLP_M_DIVERGED))) ? "yes" : "no");
}

/* Curve fields that repeat the trial's identity rather than measure an epoch. */
static bool curve_skip(const char *name)
{
    static const char *const skip[] = {"trial", "event", "config", "seed", "sweep"};
    if (!name)
        return true;
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (strcmp(name, skip[i]) == 0)
            return true;
    return false;
}

/* "label" then text broken at spaces so no line passes TABLE_WIDTH; later lines indented. */
static void print_wrapped(const char *label, const char *text)
{
    size_t indent = table_text_width(label), col = indent;
    fputs(label, stdout);
    const char *p = text;
    while (*p) {
        const char *sp = strchr(p, ' ');
        size_t n = sp ? (size_t)(sp - p) : strlen(p);
        char word[1024];
        snprintf(word, sizeof word, "%.*s", (int)n, p);
        size_t w = table_text_width(word);
        if (col > indent && col + 1 + w > TABLE_WIDTH) {
            printf("\n%*s", (int)indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', stdout);
            col++;
        }
        fputs(word, stdout);
        col += w;
        p += n;
        while (*p == ' ')
            p++;
    }
    fputc('\n', stdout);
}

static void print_curve(const cJSON *curve)
{
    const cJSON *first = cJSON_GetArrayItem(curve, 0), *f, *row;
    if (!first)
        return;
    struct table *t = table_new();
    if (!t)
        return;
    cJSON_ArrayForEach(f, first)
    {
        if (curve_skip(f->string))
            continue;
        table_column(t, f->string, TABLE_RIGHT, false);
    }
    cJSON_ArrayForEach(row, curve)
    {
        table_row(t);
        cJSON_ArrayForEach(f, first)
        {
            if (curve_skip(f->string))
                continue;
            char buf[64];
            double x = resp_num(row, f->string);
            if (strcmp(f->string, "epoch") == 0)
                table_cell(t, resp_fmt_int(buf, sizeof buf, x));
            else
                table_cell(t, resp_fmt_num(buf, sizeof buf, x));
        }
    }
    printf("\ncurve:\n");
    table_print(t, stdout, TABLE_WIDTH);
    table_free(t);
}

/* The last `max_lines` lines of a log, indented. */
static void print_log_tail(const char *log, int max_lines)
{
    size_t len = strlen(log);
    while (len > 0 && log[len - 1] == '\n')
        len--;
    if (len == 0)
        return;
    size_t start = len;
    int lines = 0;
    while (start > 0) {
        if (log[start - 1] == '\n' && ++lines == max_lines)
            break;
        start--;
    }
    printf("\nlog (last lines):\n");
    const char *p = log + start, *end = log + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        printf("  %.*s\n", (int)n, p);
        p += n + 1;
    }
}

/* The trial's test confusion matrix (counts) with each class's accuracy. */
static void print_trial_confusion(const cJSON *conf, const cJSON *acc)
{
    int k = cJSON_GetArraySize(conf);
    if (k <= 0)
        return;
    printf("\ntest confusion matrix (rows: true class, columns: predicted; counts):\n%5s", "");
    for (int j = 0; j < k; j++)
        printf(" %6d", j);
    printf("  %8s\n", "accuracy");
    for (int i = 0; i < k; i++) {
        const cJSON *row = cJSON_GetArrayItem(conf, i);
        printf("%5d", i);
        for (int j = 0; j < k; j++)
            printf(" %6.0f", cJSON_GetNumberValue(cJSON_GetArrayItem(row, j)));
        const cJSON *a = cJSON_GetArrayItem(acc, i);
        if (cJSON_IsNumber(a))
            printf("  %8.4f\n", a->valuedouble);
        else
            printf("  %8s\n", "—");
    }
}

/* The files the trial saved ("save"), and how to fetch them. */
static void print_trial_artifacts(long long id, const cJSON *files)
{
    if (cJSON_GetArraySize(files) <= 0)
        return;
    printf("\nartifacts:\n");
    const cJSON *f;
    cJSON_ArrayForEach(f, files)
    {
        char b[32];
        printf("  %-20s %s bytes\n", resp_str(f, "name", "?"),
               resp_fmt_int(b, sizeof b, resp_num(f, "bytes")));
    }
    printf("fetch them with: mlpctl artifact %lld --out DIR\n", id);
}

/* ---- trial --follow ------------------------------------------------------- */

/*
 * --follow polls the `trial` op (once a second, like tail -f) and prints what
 * is new since the last answer: epoch rows (numbered, so a row is printed
 * once; a new attempt starts the curve again) and log lines (the answer holds
 * the log's last 4 KiB: the new lines are those after the last line printed).
 * It ends when the trial has ended, with its state.
 */
#define FOLLOW_POLL_US 1000000
#define FOLLOW_LOG_KEEP 256 /* bytes of the last printed log line kept to find it again */

struct follow {
    bool json;
    double attempt;                  /* the attempt whose epochs are being printed */
    double last_epoch;               /* the last epoch row printed */
    bool header;                     /* the epoch table's header is out */
    char last_line[FOLLOW_LOG_KEEP]; /* the last log line printed ("" = none yet) */
};

static void follow_json_line(const char *event, cJSON *o)
{
    cJSON_AddStringToObject(o, "event", event);
    char *text = cJSON_PrintUnformatted(o);
    if (text)
        printf("%s\n", text);
    free(text);
}

static void follow_epochs(struct follow *f, const cJSON *t)
{
    double attempt = resp_num(t, "attempts");
    if (attempt != f->attempt) {
        if (f->attempt > 0 && !f->json)
            printf("attempt %.0f started\n", attempt);
        f->attempt = attempt;
        f->last_epoch = 0;
    }
    const cJSON *row;
    cJSON_ArrayForEach(row, json_get(t, "curve"))
    {
        double ep = resp_num(row, "epoch");
        if (!(ep > f->last_epoch))
            continue;
        f->last_epoch = ep;
        if (f->json) {
            cJSON *o = cJSON_Duplicate(row, true);
            if (o)
                follow_json_line("epoch", o);
            cJSON_Delete(o);
            continue;
        }
        const cJSON *c;
        if (!f->header) {
            cJSON_ArrayForEach(c, row) if (!curve_skip(c->string)) printf(" %14s", c->string);
            printf("\n");
            f->header = true;
        }
        cJSON_ArrayForEach(c, row)
        {
            if (curve_skip(c->string))
                continue;
            char buf[64];
            double x = resp_num(row, c->string);
            printf(" %14s", strcmp(c->string, "epoch") == 0 ? resp_fmt_int(buf, sizeof buf, x)
                                                            : resp_fmt_num(buf, sizeof buf, x));
        }
        printf("\n");
    }
}

static void follow_log(struct follow *f, const char *log)
{
    if (!log || !*log)
        return;
    /* Start after the last occurrence of the last line printed, if it is still there. */
    const char *p = log;
    size_t kl = strlen(f->last_line);
    if (kl > 0) {
        for (const char *q = log; (q = strstr(q, f->last_line)) != NULL; q++)
            if ((q == log || q[-1] == '\n') && (q[kl] == '\n' || q[kl] == '\0'))
                p = q + kl + (q[kl] == '\n');
    }
    while (*p) {
        const char *nl = strchr(p, '\n');
        if (!nl) /* a line still being written: wait for its end */
            break;
        size_t n = (size_t)(nl - p);
        if (f->json) {
            cJSON *o = cJSON_CreateObject();
            char *line = strndup(p, n);
            if (o && line)
                cJSON_AddStringToObject(o, "line", line);
            if (o)
                follow_json_line("log", o);
            cJSON_Delete(o);
            free(line);
        } else {
            printf("log: %.*s\n", (int)n, p);
        }
        snprintf(f->last_line, sizeof f->last_line, "%.*s",
                 (int)(n < sizeof f->last_line - 1 ? n : sizeof f->last_line - 1), p);
        p = nl + 1;
    }
}

static bool trial_ended(const char *state)
{
    return strcmp(state, "done") == 0 || strcmp(state, "failed") == 0 ||
           strcmp(state, "cancelled") == 0;
}

static int follow_trial(struct cli *cli, long long id)
{
    struct follow f = {.json = cli->json};
    for (bool first = true;; first = false) {
        cJSON *req = cmd_req("trial"), *resp = NULL;
        if (req)
            cJSON_AddNumberToObject(req, "id", (double)id);
        int rc = cmd_request(cli, req, &resp, NULL);
        if (rc != CLI_OK) {
            cJSON_Delete(resp);
            return rc;
        }
        const cJSON *t = json_get(resp, "trial");
        const char *state = resp_str(t, "state", "?");
        if (first && !f.json)
            printf("trial %lld: sweep %.0f, config %.0f, seed %.0f — %s\n", id,
                   resp_num(t, "sweep"), config_id(json_get(t, "config")), resp_num(t, "seed"),
                   state);
        follow_epochs(&f, t);
        follow_log(&f, resp_str(t, "log_tail", NULL));
        if (trial_ended(state)) {
            const cJSON *err = json_get(t, "error");
            if (f.json) {
                cJSON *o = cJSON_CreateObject();
                if (o) {
                    cJSON_AddStringToObject(o, "state", state);
                    cJSON_AddItemToObject(o, "metrics",
                                          cJSON_Duplicate(json_get(t, "metrics"), true));
                    follow_json_line("end", o);
                }
                cJSON_Delete(o);
            } else {
                printf("trial %lld ended: %s\n", id, state);
                if (cJSON_IsString(err) && *err->valuestring)
                    printf("error: %s\n", err->valuestring);
                const cJSON *m = json_get(t, "metrics");
                if (cJSON_IsObject(m))
                    print_trial_metrics(m);
            }
            fflush(stdout);
            rc = strcmp(state, "done") == 0 ? CLI_OK : CLI_FAILED; /* state lives in resp */
            cJSON_Delete(resp);
            return rc;
        }
        fflush(stdout);
        cJSON_Delete(resp);
        usleep(FOLLOW_POLL_US);
    }
}

int cmd_trial(struct cli *cli, int argc, char **argv)
{
    bool follow = false;
    struct opt opts[] = {{"follow", OPT_FLAG, &follow}, {NULL, 0, NULL}};
    const char *arg;
    int rc = cmd_parse_one(argc, argv, opts, "a trial ID", &arg);
    if (rc != CLI_OK)
        return rc;
    char *end;
    errno = 0;
    long long id = strtoll(arg, &end, 10);
    if (errno || end == arg || *end || id < 1)
        return cli_usage(argv[0], "a trial ID is a positive integer, got '%s'", arg);
    if (follow)
        return follow_trial(cli, id);
    cJSON *req = cmd_req("trial"), *resp = NULL;
    if (req)
        cJSON_AddNumberToObject(req, "id", (double)id);
    rc = cmd_request_text(cli, req, &resp);
    if (!resp)
        return rc;
    const cJSON *t = json_get(resp, "trial"), *config = json_get(t, "config");
    double attempts = resp_num(t, "attempts");
    printf("trial %lld: sweep %.0f, config %.0f, seed %.0f — %s (%.0f attempt%s)\n", id,
           resp_num(t, "sweep"), config_id(config), resp_num(t, "seed"), resp_str(t, "state", "?"),
           attempts, attempts == 1 ? "" : "s");
    if (cJSON_IsObject(config)) {
        char cfg[2048];
        const cJSON *grid = json_get(config, "grid"), *params = json_get(config, "params");
        if (cJSON_IsObject(grid) && grid->child)
            print_wrapped("varying:  ", resp_fmt_config(cfg, sizeof cfg, grid));
        if (cJSON_IsObject(params))
            print_wrapped("params:   ", resp_fmt_config(cfg, sizeof cfg, params));
    }
    char a[32], b[32], c[32];
    printf("created %s, started %s, finished %s\n",
           resp_fmt_time(a, sizeof a, resp_num(t, "created"), RESP_LOCAL),
           resp_fmt_time(b, sizeof b, resp_num(t, "started"), RESP_LOCAL),
           resp_fmt_time(c, sizeof c, resp_num(t, "finished"), RESP_LOCAL));
    const cJSON *err = json_get(t, "error");
    if (cJSON_IsString(err) && *err->valuestring)
        printf("error: %s\n", err->valuestring);
    else if (cJSON_IsObject(err))
        printf("error: %s\n", resp_str(err, "message", "?"));
    const cJSON *m = json_get(t, "metrics");
    if (cJSON_IsObject(m)) {
        printf("\n");
        print_trial_metrics(m);
    }
    print_trial_confusion(json_get(m, "confusion"), json_get(m, "class_accuracy"));
    const cJSON *curve = json_get(t, "curve");
    if (cJSON_GetArraySize(curve) > 0)
        print_curve(curve);
    print_trial_artifacts(id, json_get(t, "artifacts"));
    const char *log = resp_str(t, "log_tail", NULL);
    if (log)
        print_log_tail(log, 20);
    cJSON_Delete(resp);
    return CLI_OK;
}
