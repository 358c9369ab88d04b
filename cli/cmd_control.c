/*
 * control verbs — cancel, pause, resume, retry (one request each, the op
 * named like the verb) and shutdown.  The sentence printed for each verb
 * comes from the small table below, so the four queue verbs share one body.
 */
#include <cjson/cJSON.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "json.h"
#include "table.h"

struct control {
    const char *verb; /* the verb and the op */
    const char *done; /* what happened, for the human sentence */
};

static const struct control controls[] = {
    {"cancel", "cancelled"},
    {"pause", "paused"},
    {"resume", "resumed"},
    {"retry", "re-queued the failed trials of"},
};

int cmd_control(struct cli *cli, int argc, char **argv)
{
    const struct control *c = NULL;
    for (size_t i = 0; i < sizeof controls / sizeof controls[0]; i++)
        if (strcmp(controls[i].verb, argv[0]) == 0)
            c = &controls[i];
    if (!c)
        return cli_usage(argv[0], "not a queue control verb");
    cJSON *resp = NULL;
    bool cancelled = false;
    struct opt retry_opts[] = {{"cancelled", OPT_FLAG, &cancelled}, {NULL, 0, NULL}};
    struct opt no_opts[] = {{NULL, 0, NULL}};
    const char *sweep;
    int rc =
        cmd_parse_sweep(argc, argv, strcmp(c->verb, "retry") == 0 ? retry_opts : no_opts, &sweep);
    if (rc != CLI_OK)
        return rc;
    cJSON *req = cmd_add_sweep(cmd_req(c->verb), sweep);
    if (req && cancelled)
        cJSON_AddBoolToObject(req, "cancelled", true);
    rc = cmd_request(cli, req, &resp, NULL);
    if (rc == CLI_OK && cli->json) {
        cmd_print_resp(cli, resp, rc);
    } else if (rc == CLI_OK) {
        const cJSON *s = json_get(resp, "sweep"), *st = json_get(s, "state"),
                    *nm = json_get(s, "name");
        double changed = resp_num(resp, "changed");
        printf("%s sweep %.0f \"%s\": %.0f trial%s affected; the sweep is %s\n", c->done,
               resp_num(s, "id"), cJSON_IsString(nm) ? nm->valuestring : "?", changed,
               changed == 1 ? "" : "s", cJSON_IsString(st) ? st->valuestring : "?");
    }
    cJSON_Delete(resp);
    return rc;
}

int cmd_shutdown(struct cli *cli, int argc, char **argv)
{
    bool now = false;
    struct opt opts[] = {{"now", OPT_FLAG, &now}, {NULL, 0, NULL}};
    int rc = cmd_parse_opts(argc, argv, opts);
    if (rc != CLI_OK)
        return rc;
    cJSON *req = cmd_req("shutdown"), *resp = NULL;
    if (req && now)
        cJSON_AddBoolToObject(req, "now", true);
    rc = cmd_request(cli, req, &resp, NULL);
    if (rc == CLI_OK && cli->json)
        cmd_print_resp(cli, resp, rc);
    else if (rc == CLI_OK)
        printf("mlpd is shutting down: %s\n",
               now ? "running trials are stopped and re-queued for the next start"
                   : "running trials finish first, queued ones wait for the next start");
    cJSON_Delete(resp);
    return rc;
}

int cmd_delete(struct cli *cli, int argc, char **argv)
{
    bool force = false;
    struct opt opts[] = {{"force", OPT_FLAG, &force}, {NULL, 0, NULL}};
    const char *sweep;
    int rc = cmd_parse_sweep(argc, argv, opts, &sweep);
    if (rc != CLI_OK)
        return rc;
    cJSON *req = cmd_add_sweep(cmd_req("delete"), sweep), *resp = NULL;
    if (req && force)
        cJSON_AddBoolToObject(req, "force", true);
    rc = cmd_request(cli, req, &resp, NULL);
    if (rc == CLI_OK && cli->json) {
        cmd_print_resp(cli, resp, rc);
    } else if (rc == CLI_OK) {
        double n = resp_num(resp, "trials"), stopped = resp_num(resp, "stopped");
        printf("deleted sweep %.0f \"%s\" (%.0f trial%s", resp_num(resp, "deleted"),
               resp_str(resp, "name", "?"), n, n == 1 ? "" : "s");
        if (stopped > 0)
            printf(", %.0f stopped", stopped);
        printf(")\n");
    }
    cJSON_Delete(resp);
    return rc;
}
