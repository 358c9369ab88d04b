/*
 * fake_cli — see fake_cli.h.  Only the functions of cli.h that the plot
 * module calls are provided.
 */
#include "fake_cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/resp.h"

static const char *fx_dir;
static enum fake_mode fx_mode;
static int fx_requests;

void fake_cli_init(const char *fixture_dir, enum fake_mode mode)
{
    fx_dir = fixture_dir;
    fx_mode = mode;
    fx_requests = 0;
}

int fake_cli_requests(void)
{
    return fx_requests;
}

cJSON *fixture_load(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open fixture %s\n", path);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, 4096, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    cJSON *doc = cJSON_Parse(buf);
    free(buf);
    if (!doc)
        fprintf(stderr, "fixture %s is not valid JSON\n", path);
    return doc;
}

int cli_connect(struct cli *cli)
{
    if (fx_mode == FAKE_UNREACHABLE) {
        fprintf(stderr, "mlpctl: cannot connect to %s (fake)\n",
                cli->socket_path ? cli->socket_path : "?");
        return CLI_UNREACHABLE;
    }
    cli->fd = 99;
    return CLI_OK;
}

/* Empty every list a "nothing finished yet" sweep would have empty. */
static void make_empty(cJSON *doc)
{
    static const char *const lists[] = {"configs", "rows"};
    for (size_t i = 0; i < 2; i++)
        if (cJSON_GetObjectItemCaseSensitive(doc, lists[i]))
            cJSON_ReplaceItemInObjectCaseSensitive(doc, lists[i], cJSON_CreateArray());
    cJSON *by = cJSON_GetObjectItemCaseSensitive(doc, "by");
    if (by)
        cJSON_ReplaceItemInObjectCaseSensitive(by, "values", cJSON_CreateArray());
}

/* Lines still to send of a streamed artifact (fake_next_line). */
static cJSON *fx_stream[4096];
static int fx_nstream, fx_pos;

static int fake_next_line(cJSON **ev)
{
    if (fx_pos >= fx_nstream)
        return CLI_UNREACHABLE;
    *ev = fx_stream[fx_pos++];
    return CLI_OK;
}

static void b64_encode(const unsigned char *in, size_t n, char *out)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = al[v >> 18 & 63];
        out[o++] = al[v >> 12 & 63];
        out[o++] = i + 1 < n ? al[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? al[v & 63] : '=';
    }
    out[o] = '\0';
}

/*
 * The `artifact` op: file fixtures/NAME as the real cli_request hands it over
 * once it has gathered mlpd's streamed chunks (base64 pieces of 3000 bytes,
 * joined in order): one answer {"data", "name", "bytes"}.
 */
static int fake_artifact(const char *name, cJSON **resp)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", fx_dir, name);
    FILE *f = fopen(path, "rb");
    for (int i = fx_pos; i < fx_nstream; i++)
        cJSON_Delete(fx_stream[i]);
    fx_nstream = fx_pos = 0;
    if (!f) {
        *resp = cJSON_Parse("{\"ok\":false,\"error\":{\"code\":\"not_found\","
                            "\"message\":\"no such artifact\",\"path\":\"name\"}}");
        fprintf(stderr, "mlpctl: not_found: no such artifact (fake)\n");
        return CLI_FAILED;
    }
    unsigned char chunk[3000];
    char enc[4004];
    size_t got, total = 0, len = 0;
    char *all = calloc(1, 1);
    while (all && (got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        b64_encode(chunk, got, enc);
        size_t n = strlen(enc);
        char *p = realloc(all, len + n + 1);
        if (!p) {
            free(all);
            all = NULL;
            break;
        }
        all = p;
        memcpy(all + len, enc, n + 1);
        len += n;
        total += got;
    }
    fclose(f);
    cJSON *l = cJSON_CreateObject();
    cJSON_AddTrueToObject(l, "ok");
    cJSON_AddStringToObject(l, "data", all ? all : "");
    free(all);
    cJSON_AddStringToObject(l, "name", name);
    cJSON_AddNumberToObject(l, "bytes", (double)total);
    fx_stream[fx_nstream++] = l;
    return fake_next_line(resp);
}

int cli_request(struct cli *cli, cJSON *req, cJSON **resp)
{
    (void)cli;
    fx_requests++;
    *resp = NULL;
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, "op");
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(req, "by");
    const cJSON *aname = cJSON_GetObjectItemCaseSensitive(req, "name");
    char name[256] = "";
    if (fx_mode != FAKE_NOT_FOUND && cJSON_IsString(op) &&
        strcmp(op->valuestring, "artifact") == 0 && cJSON_IsString(aname)) {
        snprintf(name, sizeof name, "%s", aname->valuestring);
        cJSON_Delete(req);
        return fake_artifact(name, resp);
    }
    if (fx_mode == FAKE_NOT_FOUND)
        ;
    else if (cJSON_IsString(op) && strcmp(op->valuestring, "trial") == 0)
        snprintf(name, sizeof name, "trial.json");
    else if (cJSON_IsString(op) && strcmp(op->valuestring, "show") == 0 &&
             cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "confusion")))
        snprintf(name, sizeof name, "show_confusion.json");
    else if (cJSON_IsString(op) && strcmp(op->valuestring, "results") == 0 &&
             cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "trials")))
        snprintf(name, sizeof name, "results_trials.json");
    else if (cJSON_IsString(op) && strcmp(op->valuestring, "results") == 0 &&
             !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "curves")))
        snprintf(name, sizeof name, "results.json");
    else if (cJSON_IsString(op) && strcmp(op->valuestring, "best") == 0)
        snprintf(name, sizeof name, "best.json");
    else if (cJSON_IsString(op) && strcmp(op->valuestring, "show") == 0 && cJSON_IsString(by))
        snprintf(name, sizeof name, "show_by_%s.json", by->valuestring);
    else if (cJSON_IsString(op) && strcmp(op->valuestring, "show") == 0)
        snprintf(name, sizeof name, "show.json");
    else if (cJSON_IsString(op) && strcmp(op->valuestring, "results") == 0 &&
             cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "curves")))
        snprintf(name, sizeof name, "curves.json");
    /* A sweep with a fixture directory of its own (fixtures/fashion-lc/) answers from it. */
    const cJSON *sw = cJSON_GetObjectItemCaseSensitive(req, "sweep");
    char sub[600];
    cJSON *doc = NULL;
    if (name[0] && cJSON_IsString(sw) && !strchr(sw->valuestring, '/')) {
        snprintf(sub, sizeof sub, "%s/%s", sw->valuestring, name);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", fx_dir, sub);
        FILE *f = fopen(path, "rb");
        if (f) {
            fclose(f);
            doc = fixture_load(fx_dir, sub);
        }
    }
    if (!doc && name[0])
        doc = fixture_load(fx_dir, name);
    /* Like mlpd: a configuration without a recorded confusion matrix is not_found ("config"). */
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(doc, "confusion");
    if (doc && conf && resp_num(req, "config") != resp_num(conf, "config")) {
        cJSON_Delete(doc);
        cJSON_Delete(req);
        *resp = cJSON_Parse("{\"ok\":false,\"error\":{\"code\":\"not_found\","
                            "\"message\":\"no confusion matrix recorded for this configuration\","
                            "\"path\":\"config\"}}");
        return CLI_FAILED;
    }
    cJSON_Delete(req);
    if (!doc) {
        *resp = cJSON_Parse("{\"ok\":false,\"error\":{\"code\":\"not_found\","
                            "\"message\":\"no such sweep\",\"path\":\"sweep\"}}");
        fprintf(stderr, "mlpctl: not_found: no such sweep (fake)\n");
        return CLI_FAILED;
    }
    if (fx_mode == FAKE_EMPTY)
        make_empty(doc);
    *resp = doc;
    return CLI_OK;
}

int cli_read_event(struct cli *cli, cJSON **ev)
{
    (void)cli;
    *ev = NULL;
    return fake_next_line(ev);
}

void cli_print_json(const cJSON *doc)
{
    char *s = cJSON_Print(doc);
    if (s)
        printf("%s\n", s);
    cJSON_free(s);
}

int cli_usage(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "mlpctl %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_USAGE;
}
