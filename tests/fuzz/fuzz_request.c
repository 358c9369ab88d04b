/*
 * fuzz_request — the daemon's request path up to the handlers, on arbitrary bytes.
 *
 * The socket bytes go through line_buf (fed in chunks whose size the first
 * input byte chooses, with a small line limit so the oversize path runs), and
 * each complete line through server_parse_request(): the daemon's own checks
 * (NUL bytes, UTF-8, exactly one JSON value, \u0000 escapes, the op table and
 * field types).  A request it accepts is checked again the way handlers rely
 * on: an object whose "op" is a known op name; a submit's "grid" then goes
 * through grid_parse as op_submit would; an op with a sweep field is flagged
 * OPF_SWEEP (its handler gets the sweep resolved).  A refusal must carry a message.
 * Invariants of line_buf: popped lines hold no '\n', are NUL-terminated and
 * never longer than the limit.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "daemon/mlpd.h"
#include "daemon/ops.h"
#include "daemon/server.h"
#include "err.h"
#include "grid.h"
#include "json.h"
#include "line.h"

#define FUZZ_LINE_MAX 8192

static void handle_line(char *line, size_t len)
{
    if (memchr(line, '\n', len) || line[len] != '\0' || len > FUZZ_LINE_MAX)
        abort();
    struct err e = ERR_INIT;
    const struct op *op = NULL;
    cJSON *req = server_parse_request(line, len, &op, &e);
    if (!req) {
        if (op || !e.msg[0] || e.code == 0)
            abort(); /* a refusal names its reason and its code */
        return;
    }
    const cJSON *name = json_get(req, "op");
    if (!op || !cJSON_IsObject(req) || !cJSON_IsString(name) || strcmp(name->valuestring, op->name))
        abort(); /* handlers may rely on these */
    bool names_sweep = false;
    for (int i = 0; i < OP_MAX_FIELDS && op->fields[i].name; i++)
        names_sweep |= op->fields[i].type == OT_SWEEP;
    if (names_sweep != ((op->flags & OPF_SWEEP) != 0))
        abort(); /* a handler of an op naming a sweep gets it resolved (ops_call), no other */
    const cJSON *doc = json_get(req, "grid");
    if (strcmp(op->name, "submit") == 0) {
        if (!cJSON_IsObject(doc))
            abort(); /* "grid" is a required object of submit */
        struct grid_opts o = {.base_dir = "/nonexistent", .max_trials = 1000};
        struct grid *g = NULL;
        if (grid_parse(doc, &o, &g, &e) == 0)
            grid_free(g);
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
