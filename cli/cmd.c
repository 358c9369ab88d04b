/*
 * cmd — what the verbs share (see cmd.h): the table-driven option parser and
 * the request/print helpers.
 *
 * Layering: cmd.c sits on cli.h alone (cli_request, cli_print_json,
 * cli_usage), so it knows neither the socket (client.c) nor the verb table
 * (main.c); the plot tests link it against a fake cli_request that answers
 * from fixture files.  Error replies are worded and printed here, once:
 * "PREFIX: PATH: MESSAGE" on stderr and, with --json, the error document on
 * stdout.
 */
#include "cmd.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "resp.h"

/* ---- options ----------------------------------------------------------------- */

static const struct opt *find_opt(const struct opt *opts, const char *name, size_t len)
{
    for (const struct opt *o = opts; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

int opts_parse(const char *verb, int argc, char **argv, const struct opt *opts, char **pos,
               int maxpos, int *npos)
{
    bool only_pos = false;
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (*npos >= maxpos)
                return cli_usage(verb, "unexpected argument '%s'", a);
            pos[(*npos)++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (a[1] != '-')
            return cli_usage(verb, "unknown option '%s'", a);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt *o = find_opt(opts, name, len);
        if (!o) {
            const char *names[32];
            size_t n = 0;
            char given[64];
            snprintf(given, sizeof given, "%.*s", (int)len, name);
            for (const struct opt *x = opts; x && x->name && n + 1 < 32; x++)
                names[n++] = x->name;
            names[n] = NULL;
            const char *guess = json_suggest(given, names);
            if (guess)
                return cli_usage(verb, "unknown option '--%s' (did you mean '--%s'?)", given,
                                 guess);
            return cli_usage(verb, "unknown option '--%s'", given);
        }
        if (o->type == OPT_FLAG) {
            if (eq)
                return cli_usage(verb, "option '--%s' takes no value", o->name);
            *(bool *)o->dst = true;
            continue;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (!val) {
            if (i + 1 >= argc)
                return cli_usage(verb, "option '--%s' needs a value", o->name);
            val = argv[++i];
        }
        if (o->type == OPT_STRING) {
            *(const char **)o->dst = val;
            continue;
        }
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (errno || end == val || *end)
            return cli_usage(verb, "option '--%s' expects an integer, got '%s'", o->name, val);
        *(long *)o->dst = v;
    }
    return CLI_OK;
}

int cmd_parse_opts(int argc, char **argv, const struct opt *opts)
{
    char *pos[1];
    int npos;
    return opts_parse(argv[0], argc, argv, opts, pos, 0, &npos);
}

int cmd_parse_one(int argc, char **argv, const struct opt *opts, const char *what, const char **arg)
{
    char *pos[1];
    /* Set on every path: callers read it only after CLI_OK, which an optimising compiler
     * cannot always see (release builds warned "may be used uninitialized"). */
    *arg = NULL;
    int npos, rc = opts_parse(argv[0], argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_usage(argv[0], "expected %s", what);
    *arg = pos[0];
    return CLI_OK;
}

int cmd_parse_sweep(int argc, char **argv, const struct opt *opts, const char **sweep)
{
    return cmd_parse_one(argc, argv, opts, "a SWEEP (its id or name)", sweep);
}

/* ---- requests ---------------------------------------------------------------- */

int cmd_request(struct cli *cli, cJSON *req, cJSON **resp, const char *prefix)
{
    int rc = cli_request(cli, req, resp);
    if (rc != CLI_OK && *resp) {
        struct resp_error e;
        resp_error_get(*resp, &e);
        resp_error_print(stderr, &e, prefix);
        if (cli->json)
            cmd_print_error_json(e.code, e.message, e.path);
    }
    return rc;
}

int cmd_request_text(struct cli *cli, cJSON *req, cJSON **resp)
{
    int rc = cmd_request(cli, req, resp, NULL);
    if (rc != CLI_OK || cli->json) {
        rc = rc == CLI_OK ? cmd_print_resp(cli, *resp, rc) : rc;
        cJSON_Delete(*resp);
        *resp = NULL;
    }
    return rc;
}

int cmd_request_sweep(struct cli *cli, int argc, char **argv, const char *op, cJSON **resp)
{
    struct opt opts[] = {{NULL, 0, NULL}};
    const char *sweep;
    *resp = NULL;
    int rc = cmd_parse_sweep(argc, argv, opts, &sweep);
    if (rc != CLI_OK)
        return rc;
    return cmd_request(cli, cmd_add_sweep(cmd_req(op), sweep), resp, NULL);
}

int cmd_print_resp(struct cli *cli, const cJSON *resp, int rc)
{
    if (!cli->json || !resp || rc != CLI_OK)
        return rc;
    cJSON *copy = cJSON_Duplicate(resp, true);
    if (!copy)
        return CLI_FAILED;
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "ok");
    cli_print_json(copy);
    cJSON_Delete(copy);
    return rc;
}

void cmd_print_error_json(const char *code, const char *message, const char *path)
{
    cJSON *doc = resp_error_doc(code, message, path);
    if (doc)
        cli_print_json(doc);
    cJSON_Delete(doc);
}

cJSON *cmd_req(const char *op)
{
    cJSON *req = cJSON_CreateObject();
    if (req && !cJSON_AddStringToObject(req, "op", op)) {
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

cJSON *cmd_add_sweep(cJSON *req, const char *word)
{
    if (!req)
        return NULL;
    bool digits = *word != '\0' && strlen(word) < 16;
    for (const char *p = word; *p; p++)
        if (*p < '0' || *p > '9')
            digits = false;
    if (digits)
        cJSON_AddNumberToObject(req, "sweep", (double)strtoll(word, NULL, 10));
    else
        cJSON_AddStringToObject(req, "sweep", word);
    return req;
}

char *cmd_sweep_title(char *buf, unsigned long n, const cJSON *s)
{
    const cJSON *id = json_get(s, "id"), *name = json_get(s, "name"), *state = json_get(s, "state");
    snprintf(buf, n, "sweep %lld \"%s\" (%s)",
             cJSON_IsNumber(id) ? (long long)id->valuedouble : -1LL,
             cJSON_IsString(name) ? name->valuestring : "?",
             cJSON_IsString(state) ? state->valuestring : "?");
    return buf;
}

char *cmd_blocked_note(char *buf, unsigned long n, const cJSON *b)
{
    if (!cJSON_IsObject(b))
        return NULL;
    const char *msg = resp_str(b, "message", "?");
    const cJSON *gave = json_get(b, "gave_up"), *counted = json_get(b, "counted");
    if (cJSON_IsTrue(gave))
        snprintf(buf, n, "Slurm refused its submission %.0f times, its queued trials failed: %s",
                 resp_num(b, "tries"), msg);
    else if (cJSON_IsFalse(counted))
        snprintf(buf, n, "blocked: waiting for Slurm (a site limit or the controller): %s", msg);
    else
        snprintf(buf, n, "blocked: Slurm refuses its submission (%.0f of %.0f tries): %s",
                 resp_num(b, "failures"), resp_num(b, "tries"), msg);
    return buf;
}
