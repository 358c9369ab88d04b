/*
 * cmd_meta — the verbs that annotate sweeps: tag (key=value labels on a sweep
 * or a configuration) and note (a free text with a version), and how show and
 * list print them.
 *
 * A note is replaced only by an edit that names the version it replaces
 * (--if-version N, shown by `mlpctl note SWEEP`); an edit raced by another is
 * refused by mlpd with "conflict" and the note is left as the other edit made
 * it.  --append adds a line without a version: it cannot overwrite anything.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_meta.h"
#include "json.h"
#include "resp.h"

void cmd_meta_tags_text(char *buf, size_t n, const cJSON *tags)
{
    size_t len = 0;
    buf[0] = '\0';
    const cJSON *t;
    cJSON_ArrayForEach(t, tags)
    {
        if (!cJSON_IsString(t) || len + 1 >= n)
            continue;
        int w = snprintf(buf + len, n - len, "%s%s=%s", len ? " " : "", t->string, t->valuestring);
        if (w < 0)
            break;
        len += (size_t)w < n - len ? (size_t)w : n - len - 1;
    }
}

/* A note block: a heading line, then the text indented by two spaces. */
static void print_note(const char *what, const cJSON *note)
{
    char when[64];
    printf("%s (version %.0f, %s):\n", what, resp_num(note, "version"),
           resp_fmt_time(when, sizeof when, resp_num(note, "updated"), RESP_LOCAL));
    const char *p = resp_str(note, "text", "");
    while (*p) {
        size_t k = strcspn(p, "\n");
        printf("  %.*s\n", (int)k, p);
        p += k + (p[k] == '\n');
    }
}

void cmd_meta_print_sweep(const cJSON *summary)
{
    const cJSON *tags = json_get(summary, "tags"), *note = json_get(summary, "note");
    if (cJSON_GetArraySize(tags) > 0) {
        char buf[4096];
        cmd_meta_tags_text(buf, sizeof buf, tags);
        printf("tags: %s\n", buf);
    }
    if (cJSON_IsObject(note))
        print_note("note", note);
}

void cmd_meta_print_configs(const cJSON *configs)
{
    bool any = false;
    const cJSON *c;
    cJSON_ArrayForEach(c, configs)
    {
        const cJSON *tags = json_get(c, "tags"), *note = json_get(c, "note");
        if (cJSON_GetArraySize(tags) == 0 && !cJSON_IsObject(note))
            continue;
        if (!any)
            printf("\n");
        any = true;
        char what[64], buf[4096];
        snprintf(what, sizeof what, "config %d", resp_config_id(json_get(c, "config")));
        if (cJSON_GetArraySize(tags) > 0) {
            cmd_meta_tags_text(buf, sizeof buf, tags);
            printf("%s tags: %s\n", what, buf);
        }
        if (cJSON_IsObject(note)) {
            strncat(what, " note", sizeof what - strlen(what) - 1);
            print_note(what, note);
        }
    }
}

/* "--config N" as the request's "config"; CLI_USAGE for N < 1. */
static int add_config(cJSON *req, const char *verb, long config)
{
    if (config == 0)
        return CLI_OK;
    if (config < 0)
        return cli_usage(verb, "--config: expected a configuration number ≥ 1, got %ld", config);
    cJSON_AddNumberToObject(req, "config", (double)config);
    return CLI_OK;
}

static void print_target(const char *sweep, long config)
{
    if (config)
        printf("sweep %s, config %ld", sweep, config);
    else
        printf("sweep %s", sweep);
}

int cmd_tag(struct cli *cli, int argc, char **argv)
{
    const char *remove = NULL;
    long config = 0;
    struct opt opts[] = {
        {"config", OPT_INT, &config}, {"remove", OPT_STRING, &remove}, {NULL, 0, NULL}};
    char *pos[STORE_TAGS_ARGS + 1];
    int npos, rc = opts_parse(argv[0], argc, argv, opts, pos, STORE_TAGS_ARGS + 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos < 1)
        return cli_usage(argv[0], "expected a SWEEP (its id or name)");
    cJSON *req = cmd_add_sweep(cmd_req("tag"), pos[0]), *resp = NULL;
    cJSON *tags = req ? cJSON_AddObjectToObject(req, "tags") : NULL;
    if (!tags) {
        cJSON_Delete(req);
        return CLI_FAILED;
    }
    if ((rc = add_config(req, argv[0], config)) != CLI_OK) {
        cJSON_Delete(req);
        return rc;
    }
    for (int i = 1; i < npos; i++) {
        char *eq = strchr(pos[i], '=');
        if (!eq || eq == pos[i]) {
            cJSON_Delete(req);
            return cli_usage(argv[0], "expected KEY=VALUE, got '%s'", pos[i]);
        }
        *eq = '\0';
        cJSON_DeleteItemFromObjectCaseSensitive(tags, pos[i]);
        cJSON_AddStringToObject(tags, pos[i], eq + 1);
        *eq = '=';
    }
    for (const char *p = remove; p && *p;) {
        size_t k = strcspn(p, ",");
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(k < sizeof key ? k : sizeof key - 1), p);
        if (key[0]) {
            cJSON_DeleteItemFromObjectCaseSensitive(tags, key);
            cJSON_AddNullToObject(tags, key);
        }
        p += k + (p[k] == ',');
    }
    rc = cmd_request_text(cli, req, &resp);
    if (!resp)
        return rc;
    char buf[4096];
    cmd_meta_tags_text(buf, sizeof buf, json_get(resp, "tags"));
    print_target(pos[0], config);
    printf(buf[0] ? " tags: %s\n" : ": no tags\n", buf);
    cJSON_Delete(resp);
    return CLI_OK;
}

/* The whole of standard input as a string (trailing newlines dropped); NULL on failure. */
static char *read_stdin(void)
{
    size_t cap = 4096, len = 0;
    char *b = malloc(cap);
    while (b) {
        size_t got = fread(b + len, 1, cap - len - 1, stdin);
        len += got;
        if (got == 0)
            break;
        if (cap - len < 2) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                return NULL;
            }
            b = nb;
        }
    }
    if (!b)
        return NULL;
    while (len > 0 && b[len - 1] == '\n')
        len--;
    b[len] = '\0';
    return b;
}

int cmd_note(struct cli *cli, int argc, char **argv)
{
    long config = 0, version = -1;
    bool append = false, clear = false;
    struct opt opts[] = {{"config", OPT_INT, &config},
                         {"if-version", OPT_INT, &version},
                         {"append", OPT_FLAG, &append},
                         {"clear", OPT_FLAG, &clear},
                         {NULL, 0, NULL}};
    char *pos[2];
    int npos, rc = opts_parse(argv[0], argc, argv, opts, pos, 2, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos < 1)
        return cli_usage(argv[0], "expected a SWEEP (its id or name)");
    if (append && (clear || version != -1))
        return cli_usage(argv[0], "--append needs no --if-version and excludes --clear");
    if (clear && npos > 1)
        return cli_usage(argv[0], "--clear takes no TEXT");
    if (version < -1)
        return cli_usage(argv[0], "--if-version: expected a version ≥ 0, got %ld", version);
    bool read_only = npos == 1 && !clear;
    if (read_only && (append || version != -1))
        return cli_usage(argv[0], "expected the note's TEXT ('-' reads standard input)");
    char *text = NULL;
    if (npos > 1)
        text = strcmp(pos[1], "-") == 0 ? read_stdin() : strdup(pos[1]);
    else
        text = strdup("");
    cJSON *req = cmd_add_sweep(cmd_req(read_only ? "tag" : "note"), pos[0]), *resp = NULL;
    if (!text || !req) {
        free(text);
        cJSON_Delete(req);
        fprintf(stderr, "mlpctl note: out of memory or unreadable standard input\n");
        return CLI_FAILED;
    }
    if ((rc = add_config(req, argv[0], config)) != CLI_OK) {
        free(text);
        cJSON_Delete(req);
        return rc;
    }
    if (read_only) {
        cJSON_AddObjectToObject(req, "tags"); /* an empty tag op reads the target's note */
    } else {
        cJSON_AddStringToObject(req, "text", text);
        if (append)
            cJSON_AddBoolToObject(req, "append", true);
        if (version >= 0)
            cJSON_AddNumberToObject(req, "version", (double)version);
    }
    free(text);
    rc = cmd_request(cli, req, &resp, NULL);
    if (rc != CLI_OK) {
        struct resp_error e;
        resp_error_get(resp, &e);
        if (resp && strcmp(e.code, "conflict") == 0 && !cli->json)
            fprintf(stderr,
                    "mlpctl note: see the current note with 'mlpctl note %s%s', then replace "
                    "it with --if-version N, or add a line with --append\n",
                    pos[0], config ? " --config N" : "");
        cJSON_Delete(resp);
        return rc;
    }
    if (cli->json) {
        rc = cmd_print_resp(cli, resp, rc);
        cJSON_Delete(resp);
        return rc;
    }
    const cJSON *note = json_get(resp, "note");
    if (cJSON_IsObject(note) && resp_str(note, "text", "")[0]) {
        char what[256];
        if (config)
            snprintf(what, sizeof what, "sweep %s, config %ld note", pos[0], config);
        else
            snprintf(what, sizeof what, "sweep %s note", pos[0]);
        print_note(what, note);
    } else {
        print_target(pos[0], config);
        if (cJSON_IsObject(note))
            printf(": no note (cleared; version %.0f)\n", resp_num(note, "version"));
        else
            printf(": no note\n");
    }
    cJSON_Delete(resp);
    return CLI_OK;
}
