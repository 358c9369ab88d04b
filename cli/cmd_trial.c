/*
 * trial verbs — trial (and trial --follow), artifact (the daemon's
 * ops_trial.c: the `trial` and `artifact` ops).
 *
 * `trial` prints one trial: its config, times, metrics, test confusion
 * matrix, curve, saved files and the end of its log; --follow polls it and
 * prints what is new until it ends.
 *
 *   mlpctl artifact TRIAL [--list] [--name FILE] [--out DIR]
 *
 * --list prints the trial's files and sizes; otherwise every file (or only
 * --name FILE) is fetched (artifact.c) and written into DIR (default
 * ./trial-<id>/, created), each through a temporary file renamed into place,
 * and the paths are printed; --name FILE --out - writes that file to
 * standard output.  File names from the daemon are used only when they are
 * plain names (no '/', not starting with '.'), so a reply can never write
 * outside DIR.  Exit codes as every verb: 0, 1 (e.g. no such trial or file),
 * 2 usage, 3 mlpd unreachable.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "artifact.h"
#include "cli.h"
#include "cmd.h"
#include "json.h"
#include "metric.h"
#include "resp.h"
#include "table.h"

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

/* Whether some row of the curve has a number under name (lr is null without a schedule). */
static bool curve_has(const cJSON *curve, const char *name)
{
    const cJSON *row;
    cJSON_ArrayForEach(row, curve) if (isfinite(resp_num(row, name))) return true;
    return false;
}

static void print_curve(const cJSON *curve)
{
    const cJSON *first = cJSON_GetArrayItem(curve, 0), *f, *row;
    if (!first)
        return;
    struct table *t = table_new();
    if (!t)
        return;
    bool lr = curve_has(curve, "lr");
    cJSON_ArrayForEach(f, first)
    {
        if (curve_skip(f->string) || (!lr && strcmp(f->string, "lr") == 0))
            continue;
        table_column(t, f->string, TABLE_RIGHT, false);
    }
    cJSON_ArrayForEach(row, curve)
    {
        table_row(t);
        cJSON_ArrayForEach(f, first)
        {
            if (curve_skip(f->string) || (!lr && strcmp(f->string, "lr") == 0))
                continue;
            char buf[64];
            double x = resp_num(row, f->string);
            if (strcmp(f->string, "epoch") == 0)
                table_cell(t, resp_fmt_int(buf, sizeof buf, x));
            else if (strcmp(f->string, "lr") == 0 && isfinite(x))
                table_cellf(t, "%.4g", x);
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
    char *text = json_print_exact(o, false);
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
                   resp_num(t, "sweep"), resp_config_num(json_get(t, "config")),
                   resp_num(t, "seed"), state);
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
           resp_num(t, "sweep"), resp_config_num(config), resp_num(t, "seed"),
           resp_str(t, "state", "?"), attempts, attempts == 1 ? "" : "s");
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

/* ---- artifact ------------------------------------------------------------ */

/* A plain file name: no '/', no leading '.', not empty. */
static bool plain_name(const char *s)
{
    return s && *s && *s != '.' && !strchr(s, '/');
}

/* Write d to dir/name through a temporary file.  CLI_OK or CLI_FAILED (printed). */
static int write_file(const char *dir, const char *name, const struct artifact_data *d, char *path,
                      size_t pathlen)
{
    char tmp[4200];
    snprintf(path, pathlen, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "mlpctl artifact: cannot create %s: %s\n", tmp, strerror(errno));
        return CLI_FAILED;
    }
    bool ok = fwrite(d->data, 1, d->len, f) == d->len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "mlpctl artifact: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return CLI_FAILED;
    }
    return CLI_OK;
}

/* The trial's file list ({"files": [...]}).  Returns the exit code; *resp set on CLI_OK. */
static int list_files(struct cli *cli, int64_t trial, cJSON **resp)
{
    cJSON *req = cmd_req("artifact");
    if (req && !cJSON_AddNumberToObject(req, "id", (double)trial)) {
        cJSON_Delete(req);
        req = NULL;
    }
    return cmd_request(cli, req, resp, NULL);
}

/* Fetch and write one file; adds {"name","bytes","path"} to done (may be NULL). */
static int save_one(struct cli *cli, int64_t trial, const char *name, const char *dir, cJSON *done)
{
    if (!plain_name(name)) {
        fprintf(stderr, "mlpctl artifact: refusing file name \"%s\" (not a plain name)\n", name);
        return CLI_FAILED;
    }
    struct artifact_data d;
    int rc = artifact_fetch(cli, trial, name, &d);
    if (rc != CLI_OK)
        return rc;
    if (strcmp(dir, "-") == 0) {
        rc = fwrite(d.data, 1, d.len, stdout) == d.len ? CLI_OK : CLI_FAILED;
        free(d.data);
        return rc;
    }
    char path[4200];
    rc = write_file(dir, name, &d, path, sizeof path);
    if (rc == CLI_OK && done) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", name);
        cJSON_AddNumberToObject(o, "bytes", (double)d.len);
        cJSON_AddStringToObject(o, "path", path);
        cJSON_AddItemToArray(done, o);
    }
    free(d.data);
    return rc;
}

int cmd_artifact(struct cli *cli, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "artifact";
    const char *out = NULL, *name = NULL, *id_s;
    bool list = false;
    struct opt opts[] = {
        {"out", OPT_STRING, &out},
        {"name", OPT_STRING, &name},
        {"list", OPT_FLAG, &list},
        {NULL, 0, NULL},
    };
    int rc = cmd_parse_one(argc, argv, opts, "a trial ID", &id_s);
    if (rc != CLI_OK)
        return rc;
    char *end;
    errno = 0;
    long long id = strtoll(id_s, &end, 10);
    if (errno || end == id_s || *end || id < 1)
        return cli_usage(verb, "expected a trial ID (a positive integer), got \"%s\"", id_s);
    if (list && (out || name))
        return cli_usage(verb, "--list takes no --out or --name");
    if (name && !plain_name(name))
        return cli_usage(verb, "--name: expected a file name such as model.npz, got \"%s\"", name);
    if (out && strcmp(out, "-") == 0 && !name)
        return cli_usage(verb, "--out - (standard output) needs --name FILE");

    cJSON *resp = NULL, *done = NULL;
    if (!name || list) {
        if ((rc = list_files(cli, id, &resp)) != CLI_OK)
            goto fin;
    }
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(resp, "files"), *f;
    if (list) {
        if (cli->json) {
            rc = cmd_print_resp(cli, resp, rc);
            goto fin;
        }
        if (cJSON_GetArraySize(files) == 0)
            printf("trial %lld has no saved files (set \"save\" in the grid)\n", id);
        cJSON_ArrayForEach(f, files)
        {
            char b[32];
            printf("%-20s %12s bytes\n", resp_str(f, "name", "?"),
                   resp_fmt_int(b, sizeof b, resp_num(f, "bytes")));
        }
        goto fin;
    }
    char dirbuf[64];
    if (!out) {
        snprintf(dirbuf, sizeof dirbuf, "trial-%lld", id);
        out = dirbuf;
    }
    if (strcmp(out, "-") != 0 && mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "mlpctl artifact: cannot create %s: %s\n", out, strerror(errno));
        rc = CLI_FAILED;
        goto fin;
    }
    done = cJSON_CreateArray();
    if (name) {
        rc = save_one(cli, id, name, out, done);
    } else {
        if (cJSON_GetArraySize(files) == 0) {
            fprintf(stderr,
                    "mlpctl artifact: trial %lld has no saved files (set \"save\" in the "
                    "grid)\n",
                    id);
            rc = CLI_FAILED;
        }
        cJSON_ArrayForEach(f, files) if (rc == CLI_OK) rc =
            save_one(cli, id, resp_str(f, "name", ""), out, done);
    }
    if (strcmp(out, "-") != 0) {
        if (cli->json) {
            cJSON *doc = cJSON_CreateObject();
            cJSON_AddNumberToObject(doc, "trial", (double)id);
            cJSON_AddStringToObject(doc, "dir", out);
            cJSON_AddItemToObject(doc, "files", done);
            done = NULL;
            if (rc == CLI_OK)
                cli_print_json(doc);
            cJSON_Delete(doc);
        } else {
            cJSON_ArrayForEach(f, done) printf("%s\n", resp_str(f, "path", "?"));
        }
    }
fin:
    cJSON_Delete(done);
    cJSON_Delete(resp);
    return rc;
}
