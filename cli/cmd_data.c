/*
 * data — `data list`, `data fetch NAME` and `data verify`, run locally with
 * the shared fetch module and the data library's cache check (the daemon is
 * not needed, so the set-up script can install datasets before mlpd ever
 * starts).  The data dir is resolved exactly as mlpd and mlp-worker resolve
 * it: $MLPD_DATA, else <state dir>/data; the prepared-data cache is its
 * cache/ subdirectory.
 */
#include <cjson/cJSON.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "data.h"
#include "err.h"
#include "fetch.h"
#include "json.h"
#include "table.h"

/* "name: text" word-wrapped to fit 100 columns, continuation lines indented. */
static void data__wrap(const char *name, const char *text)
{
    int col = printf("%s:", name);
    const char *w = text;
    while (*w) {
        while (*w == ' ')
            w++;
        size_t len = strcspn(w, " ");
        if (!len)
            break;
        if (col + 1 + (int)len > 98 && col > 4) {
            printf("\n   ");
            col = 3;
        }
        col += printf(" %.*s", (int)len, w);
        w += len;
    }
    printf("\n");
}

static int data_list(struct cli *cli, const char *data_dir)
{
    cJSON *list = fetch_list(data_dir, NULL);
    if (!list) {
        fprintf(stderr, "mlpctl: out of memory\n");
        return CLI_FAILED;
    }
    if (cli->json) {
        cJSON *doc = cJSON_CreateObject();
        if (!doc) {
            cJSON_Delete(list);
            return CLI_FAILED;
        }
        cJSON_AddStringToObject(doc, "data_dir", data_dir);
        cJSON_AddItemToObject(doc, "datasets", list);
        cli_print_json(doc);
        cJSON_Delete(doc);
        return CLI_OK;
    }
    struct table *t = table_new();
    if (!t) {
        cJSON_Delete(list);
        return CLI_FAILED;
    }
    table_column(t, "NAME", TABLE_LEFT, false);
    table_column(t, "AVAILABLE", TABLE_LEFT, false);
    table_column(t, "ROWS", TABLE_RIGHT, false);
    table_column(t, "PATH", TABLE_LEFT, true);
    table_column(t, "SOURCE AND NOTE", TABLE_LEFT, true);
    const cJSON *d;
    cJSON_ArrayForEach(d, list)
    {
        const cJSON *name = json_get(d, "name"), *src = json_get(d, "source"),
                    *path = json_get(d, "path"), *note = json_get(d, "note");
        table_row(t);
        table_cell(t, cJSON_IsString(name) ? name->valuestring : "?");
        table_cell(t, cJSON_IsTrue(json_get(d, "available")) ? "yes" : "no");
        const cJSON *tr = json_get(d, "train_rows"), *te = json_get(d, "test_rows");
        if (cJSON_IsNumber(tr) && cJSON_IsNumber(te))
            table_cellf(t, "%.0f / %.0f", tr->valuedouble, te->valuedouble);
        else
            table_cell(t, "—");
        table_cell(t, cJSON_IsString(path) ? path->valuestring : "—");
        if (cJSON_IsString(note) && cJSON_IsString(src))
            table_cellf(t, "%s; %s", src->valuestring, note->valuestring);
        else
            table_cell(t, cJSON_IsString(note) ? note->valuestring : "");
    }
    printf("data dir: %s\n\n", data_dir);
    table_print(t, stdout, TABLE_WIDTH);
    table_free(t);
    /* The notes in full (the table cuts them to its width): what is installed, what is
     * missing and how to get it.  Synthetic sets need no note. */
    printf("\n");
    cJSON_ArrayForEach(d, list)
    {
        const cJSON *name = json_get(d, "name"), *path = json_get(d, "path"),
                    *note = json_get(d, "note");
        if (cJSON_IsString(name) && cJSON_IsString(path) && cJSON_IsString(note))
            data__wrap(name->valuestring, note->valuestring);
    }
    cJSON_Delete(list);
    return CLI_OK;
}

static int data_fetch(struct cli *cli, const char *name, const char *data_dir)
{
    struct err e = ERR_INIT;
    int rc = fetch_dataset(name, data_dir, stderr, &e);
    if (rc != 0) {
        fprintf(stderr, "mlpctl data fetch: %s%s%s\n", e.path[0] ? e.path : "",
                e.path[0] ? ": " : "", e.msg[0] ? e.msg : err_default_msg(rc));
        if (cli->json)
            cmd_print_error_json(err_name(rc), e.msg[0] ? e.msg : err_default_msg(rc),
                                 e.path[0] ? e.path : NULL);
        return CLI_FAILED;
    }
    /* Say what is there now (rows, subset or complete), as `data list` does. */
    cJSON *list = fetch_list(data_dir, NULL), *entry = NULL, *d;
    cJSON_ArrayForEach(d, list)
    {
        const cJSON *n = json_get(d, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            entry = d;
    }
    const cJSON *note = json_get(entry, "note");
    if (cli->json) {
        cJSON *doc = cJSON_CreateObject();
        if (!doc) {
            cJSON_Delete(list);
            return CLI_FAILED;
        }
        cJSON_AddStringToObject(doc, "name", name);
        cJSON_AddStringToObject(doc, "data_dir", data_dir);
        cJSON_AddBoolToObject(doc, "available", true);
        if (entry) {
            cJSON_AddItemToObject(doc, "train_rows",
                                  cJSON_Duplicate(json_get(entry, "train_rows"), false));
            cJSON_AddItemToObject(doc, "test_rows",
                                  cJSON_Duplicate(json_get(entry, "test_rows"), false));
            cJSON_AddStringToObject(doc, "note", cJSON_IsString(note) ? note->valuestring : "");
        }
        cli_print_json(doc);
        cJSON_Delete(doc);
    } else {
        printf("%s is installed (data dir %s)%s%s\n", name, data_dir,
               cJSON_IsString(note) ? ": " : "", cJSON_IsString(note) ? note->valuestring : "");
    }
    cJSON_Delete(list);
    return CLI_OK;
}

struct verify_ctx {
    struct table *t; /* human output */
    cJSON *list;     /* --json */
    uint64_t bytes;  /* of the entries that are sound */
    int n;
};

static void verify_cb(const char *file, uint64_t bytes, const char *what, const char *problem,
                      void *ctx)
{
    struct verify_ctx *v = ctx;
    v->n++;
    if (!problem)
        v->bytes += bytes;
    if (v->list) {
        cJSON *o = cJSON_CreateObject();
        if (!o)
            return;
        cJSON_AddStringToObject(o, "file", file);
        cJSON_AddNumberToObject(o, "bytes", (double)bytes);
        cJSON_AddStringToObject(o, "what", what);
        cJSON_AddBoolToObject(o, "ok", problem == NULL);
        if (problem)
            cJSON_AddStringToObject(o, "problem", problem);
        cJSON_AddItemToArray(v->list, o);
        return;
    }
    table_row(v->t);
    table_cell(v->t, file);
    table_cellf(v->t, "%.1f MB", (double)bytes / 1e6);
    table_cell(v->t, problem ? "removed" : "ok");
    if (problem)
        table_cellf(v->t, "%s — %s", problem, what);
    else
        table_cell(v->t, what);
}

/* Check every entry of the prepared-data cache in full; remove the bad ones. */
static int data_verify(struct cli *cli, const char *data_dir)
{
    char cache[CONFIG_PATH_MAX + 8];
    struct err e = ERR_INIT;
    struct verify_ctx v = {0};
    snprintf(cache, sizeof cache, "%s/cache", data_dir);
    if (cli->json) {
        if (!(v.list = cJSON_CreateArray()))
            return CLI_FAILED;
    } else {
        if (!(v.t = table_new()))
            return CLI_FAILED;
        table_column(v.t, "ENTRY", TABLE_LEFT, true);
        table_column(v.t, "SIZE", TABLE_RIGHT, false);
        table_column(v.t, "STATE", TABLE_LEFT, false);
        table_column(v.t, "WHAT", TABLE_LEFT, true);
    }
    int bad = data_cache_verify(cache, true, verify_cb, &v, &e);
    if (bad < 0) {
        fprintf(stderr, "mlpctl data verify: %s\n", e.msg);
        if (cli->json)
            cmd_print_error_json(err_name(e.code), e.msg, e.path[0] ? e.path : NULL);
        cJSON_Delete(v.list);
        table_free(v.t);
        return CLI_FAILED;
    }
    if (cli->json) {
        cJSON *doc = cJSON_CreateObject();
        if (!doc) {
            cJSON_Delete(v.list);
            return CLI_FAILED;
        }
        cJSON_AddStringToObject(doc, "cache_dir", cache);
        cJSON_AddNumberToObject(doc, "entries", v.n);
        cJSON_AddNumberToObject(doc, "bad", bad);
        cJSON_AddNumberToObject(doc, "bytes", (double)v.bytes);
        cJSON_AddItemToObject(doc, "list", v.list);
        cli_print_json(doc);
        cJSON_Delete(doc);
    } else {
        printf("cache dir: %s\n\n", cache);
        if (v.n)
            table_print(v.t, stdout, TABLE_WIDTH);
        table_free(v.t);
        printf("%s%d entr%s, %d sound (%.1f MB), %d bad%s\n", v.n ? "\n" : "", v.n,
               v.n == 1 ? "y" : "ies", v.n - bad, (double)v.bytes / 1e6, bad,
               bad ? " (removed: the next trial that needs one builds it again)" : "");
    }
    return bad ? CLI_FAILED : CLI_OK;
}

int cmd_data(struct cli *cli, int argc, char **argv)
{
    struct opt opts[] = {{NULL, 0, NULL}};
    char *pos[2];
    int npos, rc = opts_parse(argv[0], argc, argv, opts, pos, 2, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos == 0)
        return cli_usage(argv[0], "expected 'list', 'fetch NAME' or 'verify'");
    char data_dir[CONFIG_PATH_MAX];
    if (config_data_dir(data_dir, sizeof data_dir) != 0) {
        fprintf(stderr, "mlpctl: cannot tell where the data dir is ($HOME is not set); "
                        "set MLPD_DATA or MLPD_HOME\n");
        return CLI_FAILED;
    }
    if (strcmp(pos[0], "list") == 0) {
        if (npos != 1)
            return cli_usage(argv[0], "'data list' takes no arguments");
        return data_list(cli, data_dir);
    }
    if (strcmp(pos[0], "fetch") == 0) {
        if (npos != 2)
            return cli_usage(argv[0], "expected a dataset name: data fetch NAME");
        return data_fetch(cli, pos[1], data_dir);
    }
    if (strcmp(pos[0], "verify") == 0) {
        if (npos != 1)
            return cli_usage(argv[0], "'data verify' takes no arguments");
        return data_verify(cli, data_dir);
    }
    return cli_usage(argv[0], "unknown data command '%s' (expected 'list', 'fetch' or 'verify')",
                     pos[0]);
}
