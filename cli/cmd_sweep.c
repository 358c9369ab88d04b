/*
 * sweep verbs — status, list (the daemon's ops.c status and ops_sweep.c list).
 *
 * Each verb sends one request and prints the answer: with --json the
 * response itself (minus "ok"), otherwise aligned tables that fit
 * TABLE_WIDTH columns (`list --wide` and the running trials of `status`
 * print names in full).
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd.h"
#include "cmd_meta.h"
#include "json.h"
#include "resp.h"
#include "table.h"

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
    printf("trials     %.0f queued, %.0f running, %.0f done, %.0f failed, %.0f cancelled",
           resp_num(t, "queued"), resp_num(t, "running"), resp_num(t, "done"),
           resp_num(t, "failed"), resp_num(t, "cancelled"));
    if (resp_num(t, "pruned") > 0)
        printf(", %.0f pruned", resp_num(t, "pruned"));
    printf("\n");
    printf("sweeps     %.0f\n", resp_num(resp, "sweeps"));
    const char *paused = resp_str(resp, "dispatch_paused", NULL);
    if (paused)
        printf("dispatch   PAUSED: %s\n", paused);
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
    const cJSON *bl;
    cJSON_ArrayForEach(bl, json_get(sl, "blocked"))
    {
        char note[1024];
        if (cmd_blocked_note(note, sizeof note, bl))
            printf("sweep %.0f   %s\n", resp_num(bl, "sweep"), note);
    }
    const cJSON *run = json_get(resp, "running");
    if (cJSON_GetArraySize(run) > 0) {
        struct table *tb = table_new();
        if (!tb) {
            cJSON_Delete(resp);
            return CLI_FAILED;
        }
        printf("\nrunning trials:\n");
        const char *heads[] = {"TRIAL",   "SWEEP",   "CONFIG",  "SEED",
                               "ATTEMPT", "ELAPSED", "EXECUTOR"};
        for (int i = 0; i < 7; i++)
            table_column(tb, heads[i], i == 1 || i == 6 ? TABLE_LEFT : TABLE_RIGHT, false);
        const cJSON *r;
        cJSON_ArrayForEach(r, run)
        {
            char buf[64];
            table_row(tb);
            table_cell(tb, resp_fmt_int(buf, sizeof buf, resp_num(r, "id")));
            table_cellf(tb, "%.0f %s", resp_num(r, "sweep"), resp_str(r, "sweep_name", "?"));
            table_cell(tb, resp_fmt_int(buf, sizeof buf, resp_num(r, "config")));
            table_cell(tb, resp_fmt_int(buf, sizeof buf, resp_num(r, "seed")));
            table_cell(tb, resp_fmt_int(buf, sizeof buf, resp_num(r, "attempt")));
            table_cell(tb, resp_fmt_duration(buf, sizeof buf, resp_num(r, "elapsed")));
            table_cell(tb, resp_str(r, "executor", "?"));
        }
        table_print(tb, stdout, (size_t)1 << 20); /* names in full: they are copied back */
        table_free(tb);
    }
    cJSON_Delete(resp);
    return CLI_OK;
}

/* ---- list ---------------------------------------------------------------- */

/* Every --state and --tag value into states and tags (opts_parse keeps only the last one). */
static void list_collect_repeats(int argc, char **argv, cJSON *states, cJSON *tags)
{
    for (int i = 1; i < argc; i++) {
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
}

/* CLI_OK when every --state word is a known state, else the usage error naming it. */
static int list_check_states(const char *verb, const cJSON *states)
{
    static const char *const known[] = {"queued", "running",   "paused", "done",
                                        "failed", "cancelled", NULL};
    const cJSON *sv;
    cJSON_ArrayForEach(sv, states)
    {
        /* "a,b" is split here too, so each word is checked before mlpd is asked. */
        char words[256];
        snprintf(words, sizeof words, "%s", sv->valuestring ? sv->valuestring : "");
        for (char *save = NULL, *w = strtok_r(words, ",", &save); w;
             w = strtok_r(NULL, ",", &save)) {
            bool ok = false;
            for (int k = 0; known[k]; k++)
                ok |= strcmp(w, known[k]) == 0;
            if (!ok)
                return cli_usage(verb,
                                 "--state: unknown state \"%s\" (queued, running, paused, done, "
                                 "failed, cancelled)",
                                 w);
        }
    }
    return CLI_OK;
}

/* The list table's columns: METRIC, EXECUTOR and SLURM JOBS with --wide, TAGS when any. */
static void list_columns(struct table *t, bool wide, bool any_tags)
{
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
    if (any_tags)
        table_column(t, "TAGS", TABLE_LEFT, !wide);
}

/* The SLURM JOBS cell: the sweep's job ids joined by commas, or "—". */
static void list_slurm_cell(struct table *t, const cJSON *s)
{
    char jobs[256] = "";
    const cJSON *j;
    cJSON_ArrayForEach(j, json_get(s, "slurm_jobs"))
    {
        size_t len = strlen(jobs);
        if (cJSON_IsString(j))
            snprintf(jobs + len, sizeof jobs - len, "%s%s", len ? "," : "", j->valuestring);
        else if (cJSON_IsNumber(j))
            snprintf(jobs + len, sizeof jobs - len, "%s%.0f", len ? "," : "", j->valuedouble);
    }
    table_cell(t, jobs[0] ? jobs : "—");
}

/* One sweep's row, in list_columns' order. */
static void list_row(struct table *t, const cJSON *s, bool wide, bool any_tags)
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
    /* Racing or confirming: total grows as trials are added, up to "≤max". */
    char most[32] = "";
    if (resp_num(s, "trials_max") > 0)
        snprintf(most, sizeof most, "\xe2\x89\xa4%.0f", resp_num(s, "trials_max"));
    if (resp_num(s, "pruned") > 0) /* pruned trials ended too, without a result */
        table_cellf(t, "%.0f+%.0f pruned/%.0f%s", resp_num(s, "done"), resp_num(s, "pruned"),
                    resp_num(s, "total"), most);
    else
        table_cellf(t, "%.0f/%.0f%s", resp_num(s, "done"), resp_num(s, "total"), most);
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
        list_slurm_cell(t, s);
    }
    if (any_tags) {
        char tg[4096];
        cmd_meta_tags_text(tg, sizeof tg, json_get(s, "tags"));
        table_cell(t, tg[0] ? tg : "—");
    }
}

/* The sweeps as a table, then each blocked sweep's note.  Returns CLI_OK or CLI_FAILED. */
static int list_print(const cJSON *sweeps, bool wide)
{
    struct table *t = table_new();
    if (!t)
        return CLI_FAILED;
    bool any_tags = false;
    const cJSON *s;
    cJSON_ArrayForEach(s, sweeps) any_tags =
        any_tags || cJSON_GetArraySize(json_get(s, "tags")) > 0;
    list_columns(t, wide, any_tags);
    cJSON_ArrayForEach(s, sweeps) list_row(t, s, wide, any_tags);
    /* --wide: no width limit, so every name can be copied back whole */
    table_print(t, stdout, wide ? (size_t)1 << 20 : TABLE_WIDTH);
    table_free(t);
    cJSON_ArrayForEach(s, sweeps)
    {
        char note[1024];
        if (cmd_blocked_note(note, sizeof note, json_get(s, "blocked")))
            printf("sweep %.0f: %s\n", resp_num(s, "id"), note);
    }
    return CLI_OK;
}

/*
 * list's options: --wide, --state S (repeatable, or S,S), --tag K[=V]
 * (repeatable), --limit N.  The daemon filters; --state and --tag words are
 * sent as they are (it names a bad one).
 */
int cmd_list(struct cli *cli, int argc, char **argv)
{
    bool wide = false;
    const char *state = NULL;
    long limit = LONG_MIN; /* not given */
    const char *tag = NULL;
    struct opt opts[] = {{"wide", OPT_FLAG, &wide},
                         {"state", OPT_STRING, &state},
                         {"tag", OPT_STRING, &tag},
                         {"limit", OPT_INT, &limit},
                         {NULL, 0, NULL}};
    cJSON *req = cmd_req("list"), *states = cJSON_CreateArray(), *resp = NULL;
    cJSON *tags = cJSON_CreateArray();
    int rc = CLI_OK;
    if (req && states && tags)
        list_collect_repeats(argc, argv, states, tags);
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
    if ((rc = list_check_states(argv[0], states)) != CLI_OK) {
        cJSON_Delete(req);
        cJSON_Delete(states);
        return rc;
    }
    if (limit != LONG_MIN && limit < 1) {
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
    rc = list_print(sweeps, wide);
    cJSON_Delete(resp);
    return rc;
}
