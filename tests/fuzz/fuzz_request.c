/*
 * fuzz_request — the daemon's request path up to the handlers, on arbitrary bytes.
 *
 * The socket bytes go through line_buf (fed in chunks whose size the first
 * input byte chooses, with a small line limit so the oversize path runs);
 * each complete line is parsed with cJSON_ParseWithLength as server.c does,
 * and the checks the dispatcher makes are replayed with the same json.h
 * helpers: object?, "op" a string?, op known (json_suggest for the hint),
 * field types (json_is_int, json_brief, json_type_name), then a "grid" object
 * goes through grid_parse like a submit.  Invariants: popped lines hold no
 * '\n', are NUL-terminated and never longer than the limit.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "grid.h"
#include "json.h"
#include "line.h"

#define FUZZ_LINE_MAX 8192

static const char *const ops[] = {"hello",  "submit", "status", "list",   "show",
                                  "best",   "results", "trial", "watch",  "wait",
                                  "cancel", "pause",  "resume", "retry",  "shutdown",
                                  "data_list", NULL};
static const char *const fields[] = {"protocol", "grid", "base_dir", "name", "priority",
                                     "dry_run", "force", "sweep", "by", "metric", "top",
                                     "min_seeds", "trials", "curves", "id", "now", NULL};

static void handle_line(const char *line, size_t len)
{
    if (memchr(line, '\n', len) || line[len] != '\0' || len > FUZZ_LINE_MAX)
        abort();
    cJSON *req = cJSON_ParseWithLength(line, len);
    if (!req)
        return;
    char brief[80];
    (void)json_type_name(req);
    json_brief(req, brief, sizeof brief);
    const cJSON *op = json_get(req, "op");
    if (cJSON_IsObject(req) && cJSON_IsString(op)) {
        (void)json_suggest(op->valuestring, ops);
        for (int i = 0; fields[i]; i++) {
            const cJSON *v = json_get(req, fields[i]);
            int64_t n;
            if (!v)
                continue;
            (void)json_is_int(v, &n);
            json_brief(v, brief, sizeof brief);
            (void)json_type_name(v);
        }
        const cJSON *doc = json_get(req, "grid");
        if (cJSON_IsObject(doc)) {
            struct grid_opts o = {.base_dir = "/nonexistent", .max_trials = 1000};
            struct grid *g = NULL;
            struct err e = ERR_INIT;
            if (grid_parse(doc, &o, &g, &e) == 0)
                grid_free(g);
        }
    }
    free(json_line(req));
    cJSON_Delete(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t chunk = (size_t)data[0] % 64 + 1;
    data++;
    size--;
    struct line_buf lb;
    line_buf_init(&lb, FUZZ_LINE_MAX);
    for (size_t at = 0; at < size; at += chunk) {
        size_t n = size - at < chunk ? size - at : chunk;
        int rc = line_buf_feed(&lb, (const char *)data + at, n);
        if (rc < 0 && rc != MLP_ETOO_LARGE)
            break;
        char *line;
        size_t len;
        while (line_buf_next(&lb, &line, &len) == 1)
            handle_line(line, len);
    }
    if (line_buf_pending(&lb) > FUZZ_LINE_MAX + 64)
        abort();
    line_buf_release(&lb);
    return 0;
}
