/*
 * client — mlpctl's side of the socket protocol (daemon/PROTOCOL.md).
 *
 * One blocking connection per invocation: connect, check that the server runs
 * as our uid (SO_PEERCRED: nothing is sent to another user's socket), send
 * {"op":"hello"}, then one request line and one answer per call (watch reads a stream of event
 * lines with cli_read_event).  An answer may come as several lines
 * ("more": true, then the last one): read_answer gathers them, for every verb but the
 * exports, which take the lines one at a time (cli_request_rows).  Incoming bytes are
 * framed by the shared line_buf, so a response of any size up to LINE_MAX_BYTES is read whole.
 * Transport failures are printed here and become exit code 3; error replies
 * get their exit code from resp_error_exit (invalid input → 4, others → 1)
 * and are printed by the caller (cmd_request), except those of the hello
 * and of a watch stream.  This file knows nothing of verbs or options:
 * the verb table (main.c) and the verb helpers (cmd.c) sit above it.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "json.h"
#include "line.h"
#include "resp.h"
#include "termsafe.h"

#define CLIENT_PROTOCOL 1

static void print_error_json(const char *code, const char *message, const char *path)
{
    cJSON *doc = resp_error_doc(code, message, path);
    if (doc)
        cli_print_json(doc);
    cJSON_Delete(doc);
}

static void print_unreachable(struct cli *cli, const char *why)
{
    fprintf(stderr,
            "mlpctl: cannot reach mlpd at %s: %s. Start it with 'mlpd' (or 'mlpd "
            "--foreground'), or pass --socket PATH.\n",
            cli->socket_path, why);
    if (cli->json) {
        char msg[1024];
        snprintf(msg, sizeof msg, "cannot reach mlpd at %s: %s", cli->socket_path, why);
        print_error_json("unreachable", msg, NULL);
    }
}

/* Write all of buf; 0 or -1 with errno. */
static int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_line(struct cli *cli, const cJSON *req)
{
    char *text = json_line(req);
    if (!text) {
        fprintf(stderr, "mlpctl: out of memory\n");
        return CLI_FAILED;
    }
    size_t n = strlen(text);
    char *line = malloc(n + 2);
    if (!line) {
        free(text);
        fprintf(stderr, "mlpctl: out of memory\n");
        return CLI_FAILED;
    }
    memcpy(line, text, n);
    line[n] = '\n';
    line[n + 1] = '\0';
    int rc = write_all(cli->fd, line, n + 1);
    int saved = errno;
    free(line);
    free(text);
    if (rc < 0) {
        char why[256];
        snprintf(why, sizeof why, "sending the request failed: %s", strerror(saved));
        print_unreachable(cli, why);
        return CLI_UNREACHABLE;
    }
    return CLI_OK;
}

/*
 * Whether what mlpd sends may reach a terminal: stdout or stderr is one.
 * Then every string of every answer is stripped of terminal controls
 * (termsafe.h) before any verb sees it, so no name, key, path, error or log
 * tail can drive the terminal; newlines and tabs stay.
 */
static bool to_terminal(void)
{
    static int t = -1;
    if (t < 0)
        t = isatty(STDOUT_FILENO) || isatty(STDERR_FILENO);
    return t;
}

static void strip_strings(cJSON *v)
{
    for (; v; v = v->next) {
        if (v->string)
            term_strip(v->string, true);
        if (cJSON_IsString(v) && v->valuestring)
            term_strip(v->valuestring, true);
        if (v->child)
            strip_strings(v->child);
    }
}

/* Read one line and parse it.  CLI_OK with *out, CLI_UNREACHABLE, or CLI_FAILED. */
static int read_line(struct cli *cli, cJSON **out)
{
    struct line_buf *lb = cli->rbuf_;
    char chunk[65536];
    *out = NULL;
    for (;;) {
        char *line;
        size_t len;
        if (line_buf_next(lb, &line, &len)) {
            if (len == 0)
                continue;
            cJSON *doc = cJSON_ParseWithLength(line, len);
            if (!doc || !cJSON_IsObject(doc)) {
                cJSON_Delete(doc);
                fprintf(stderr, "mlpctl: mlpd sent a line that is not a JSON object\n");
                return CLI_FAILED;
            }
            if (to_terminal())
                strip_strings(doc->child);
            *out = doc;
            return CLI_OK;
        }
        if (cli->timeout > 0) {
            struct pollfd pfd = {.fd = cli->fd, .events = POLLIN};
            int pr = poll(&pfd, 1, (int)(cli->timeout * 1000 + 0.5));
            if (pr < 0 && errno == EINTR)
                continue;
            if (pr == 0) {
                cli->timed_out = true;
                return CLI_FAILED;
            }
        }
        ssize_t r = read(cli->fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            fprintf(stderr, "mlpctl: mlpd at %s closed the connection%s%s\n", cli->socket_path,
                    r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
            if (cli->json)
                print_error_json("unreachable", "mlpd closed the connection", NULL);
            return CLI_UNREACHABLE;
        }
        int frc = line_buf_feed(lb, chunk, (size_t)r);
        if (frc == MLP_ETOO_LARGE) {
            fprintf(stderr, "mlpctl: mlpd sent a line over %u bytes\n", LINE_MAX_BYTES);
            return CLI_FAILED;
        }
        if (frc < 0) {
            fprintf(stderr, "mlpctl: out of memory\n");
            return CLI_FAILED;
        }
    }
}

/*
 * A streamed answer (daemon/PROTOCOL.md, "Streamed answers"): lines with
 * "more": true, then the last line.  Arrays of the "more" lines are gathered in
 * order and put before the last line's array of the same name; strings (the
 * base64 "data" of a file) are concatenated the same way.
 */
struct gathered {
    cJSON *arrays;     /* name -> array gathered so far */
    char *str_name[4]; /* string fields gathered so far */
    char *str[4];
    size_t str_len[4], str_cap[4];
    int n_str;
};

static void gathered_release(struct gathered *g)
{
    cJSON_Delete(g->arrays);
    for (int i = 0; i < g->n_str; i++) {
        free(g->str_name[i]);
        free(g->str[i]);
    }
    memset(g, 0, sizeof *g);
}

static int gather_string(struct gathered *g, const char *name, const char *v)
{
    int i = 0;
    while (i < g->n_str && strcmp(g->str_name[i], name) != 0)
        i++;
    if (i == g->n_str) {
        if (g->n_str == 4 || !(g->str_name[i] = strdup(name)))
            return -1;
        g->n_str++;
    }
    size_t n = strlen(v);
    if (g->str_len[i] + n + 1 > g->str_cap[i]) {
        size_t cap = g->str_cap[i] ? g->str_cap[i] : 65536;
        while (cap < g->str_len[i] + n + 1)
            cap *= 2;
        char *p = realloc(g->str[i], cap);
        if (!p)
            return -1;
        g->str[i] = p;
        g->str_cap[i] = cap;
    }
    memcpy(g->str[i] + g->str_len[i], v, n + 1);
    g->str_len[i] += n;
    return 0;
}

/* Take the arrays and strings of a "more" line: 0 or -1 (out of memory). */
static int gather(struct gathered *g, cJSON *line)
{
    if (!g->arrays && !(g->arrays = cJSON_CreateObject()))
        return -1;
    for (cJSON *f = line->child; f; f = f->next) {
        if (cJSON_IsString(f) && gather_string(g, f->string, f->valuestring) < 0)
            return -1;
        if (!cJSON_IsArray(f))
            continue;
        cJSON *dst = cJSON_GetObjectItemCaseSensitive(g->arrays, f->string);
        if (!dst && !(dst = cJSON_AddArrayToObject(g->arrays, f->string)))
            return -1;
        while (f->child)
            cJSON_AddItemToArray(dst, cJSON_DetachItemViaPointer(f, f->child));
    }
    return 0;
}

/* Put what was gathered before the last line's own pieces: 0 or -1. */
static int gather_finish(struct gathered *g, cJSON *last)
{
    for (cJSON *a = g->arrays ? g->arrays->child : NULL; a; a = a->next) {
        cJSON *mine = cJSON_GetObjectItemCaseSensitive(last, a->string);
        while (cJSON_IsArray(mine) && mine->child)
            cJSON_AddItemToArray(a, cJSON_DetachItemViaPointer(mine, mine->child));
    }
    while (g->arrays && g->arrays->child) {
        cJSON *a = cJSON_DetachItemViaPointer(g->arrays, g->arrays->child);
        cJSON_DeleteItemFromObjectCaseSensitive(last, a->string);
        cJSON_AddItemToObject(last, a->string, a);
    }
    for (int i = 0; i < g->n_str; i++) {
        const cJSON *mine = cJSON_GetObjectItemCaseSensitive(last, g->str_name[i]);
        if (cJSON_IsString(mine) && gather_string(g, g->str_name[i], mine->valuestring) < 0)
            return -1;
        cJSON_DeleteItemFromObjectCaseSensitive(last, g->str_name[i]);
        if (!cJSON_AddStringToObject(last, g->str_name[i], g->str[i]))
            return -1;
    }
    return 0;
}

/*
 * Read one answer, streamed or not: the one reader every request goes through.
 * CLI_OK with *out (the whole answer, or an error line: what was gathered
 * before it is dropped), CLI_UNREACHABLE or CLI_FAILED (printed).
 */
static int read_answer_from(struct cli *cli, cJSON *first, cJSON **out)
{
    struct gathered g = {0};
    bool oom = false;
    int rc = CLI_OK;
    for (;;) {
        if (first) {
            *out = first;
            first = NULL;
        } else if ((rc = read_line(cli, out)) != CLI_OK) {
            break;
        }
        if (!cJSON_IsTrue(json_get(*out, "ok")) || !cJSON_IsTrue(json_get(*out, "more"))) {
            oom = cJSON_IsTrue(json_get(*out, "ok")) && gather_finish(&g, *out) < 0;
            break;
        }
        oom = gather(&g, *out) < 0;
        cJSON_Delete(*out);
        *out = NULL;
        if (oom)
            break;
    }
    gathered_release(&g);
    if (oom) {
        cJSON_Delete(*out);
        *out = NULL;
        fprintf(stderr, "mlpctl: out of memory gathering mlpd's answer\n");
        return CLI_FAILED;
    }
    return rc;
}

static int read_answer(struct cli *cli, cJSON **out)
{
    return read_answer_from(cli, NULL, out);
}

/*
 * Map an error response to an exit code and print it: one line on stderr,
 * and with --json also the error document on stdout.
 */
static int report_error(struct cli *cli, const cJSON *resp)
{
    struct resp_error e;
    resp_error_get(resp, &e);
    resp_error_print(stderr, &e, NULL);
    if (cli->json)
        print_error_json(e.code, e.message, e.path);
    return resp_error_exit(e.code);
}

static void disconnect(struct cli *cli)
{
    if (cli->fd >= 0)
        close(cli->fd);
    cli->fd = -1;
    if (cli->rbuf_) {
        line_buf_release(cli->rbuf_);
        free(cli->rbuf_);
        cli->rbuf_ = NULL;
    }
}

int cli_connect(struct cli *cli)
{
    if (cli->fd >= 0)
        return CLI_OK;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(cli->socket_path) >= sizeof addr.sun_path) {
        print_unreachable(cli, "socket path too long");
        return CLI_UNREACHABLE;
    }
    strcpy(addr.sun_path, cli->socket_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        print_unreachable(cli, strerror(errno));
        return CLI_UNREACHABLE;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        int saved = errno;
        close(fd);
        print_unreachable(cli, strerror(saved));
        return CLI_UNREACHABLE;
    }
    /* Nothing is sent before we know the server is ours: a socket another user
     * put at this path must not receive the hello, let alone a grid. */
    struct ucred cred;
    socklen_t clen = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 || cred.uid != geteuid()) {
        char why[512];
        if (clen == sizeof cred && cred.uid != geteuid())
            snprintf(why, sizeof why,
                     "the server on %s runs as uid %u, not as you (uid %u): refusing to send it "
                     "anything (another user's socket at your path?)",
                     cli->socket_path, (unsigned)cred.uid, (unsigned)geteuid());
        else
            snprintf(why, sizeof why, "cannot check who serves %s: %s", cli->socket_path,
                     strerror(errno));
        close(fd);
        fprintf(stderr, "mlpctl: %s\n", why);
        if (cli->json)
            print_error_json("permission", why, NULL);
        return CLI_UNREACHABLE;
    }
    cli->fd = fd;
    cli->rbuf_ = malloc(sizeof(struct line_buf));
    if (!cli->rbuf_) {
        disconnect(cli);
        fprintf(stderr, "mlpctl: out of memory\n");
        return CLI_FAILED;
    }
    line_buf_init(cli->rbuf_, 0);

    cJSON *hello = cJSON_CreateObject();
    if (!hello || !cJSON_AddStringToObject(hello, "op", "hello") ||
        !cJSON_AddNumberToObject(hello, "protocol", CLIENT_PROTOCOL)) {
        cJSON_Delete(hello);
        disconnect(cli);
        return CLI_FAILED;
    }
    int rc = send_line(cli, hello);
    cJSON_Delete(hello);
    cJSON *resp = NULL;
    if (rc == CLI_OK)
        rc = read_line(cli, &resp);
    if (rc == CLI_OK && !cJSON_IsTrue(json_get(resp, "ok")))
        rc = report_error(cli, resp);
    cJSON_Delete(resp);
    if (rc != CLI_OK)
        disconnect(cli);
    return rc;
}

bool cli_reachable(const struct cli *cli)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (cli->fd >= 0)
        return true;
    if (strlen(cli->socket_path) >= sizeof addr.sun_path)
        return false;
    strcpy(addr.sun_path, cli->socket_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool ok = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    close(fd);
    return ok;
}

void cli_disconnect(struct cli *cli)
{
    disconnect(cli);
}

/* The exit code of an answer line: CLI_OK for "ok": true, else its error's (nothing printed). */
static int answer_exit(const cJSON *line)
{
    if (cJSON_IsTrue(json_get(line, "ok")))
        return CLI_OK;
    struct resp_error e;
    resp_error_get(line, &e);
    return resp_error_exit(e.code);
}

int cli_request(struct cli *cli, cJSON *req, cJSON **resp)
{
    *resp = NULL;
    if (!req) {
        fprintf(stderr, "mlpctl: out of memory\n");
        return CLI_FAILED;
    }
    int rc = cli_connect(cli);
    if (rc == CLI_OK)
        rc = send_line(cli, req);
    cJSON_Delete(req);
    if (rc != CLI_OK)
        return rc;
    rc = read_answer(cli, resp);
    if (rc != CLI_OK)
        return rc;
    return answer_exit(*resp);
}

int cli_request_rows(struct cli *cli, cJSON *req, const char *field, cli_rows_fn fn, void *ud,
                     cJSON **resp)
{
    *resp = NULL;
    if (!req) {
        fprintf(stderr, "mlpctl: out of memory\n");
        return CLI_FAILED;
    }
    int rc = cli_connect(cli);
    if (rc == CLI_OK)
        rc = send_line(cli, req);
    cJSON_Delete(req);
    cJSON *line = NULL, *head = NULL;
    if (rc == CLI_OK)
        rc = read_line(cli, &line);
    if (rc != CLI_OK)
        return rc;
    bool more = cJSON_IsTrue(json_get(line, "ok")) && cJSON_IsTrue(json_get(line, "more"));
    if (more && cJSON_IsObject(json_get(line, "head"))) {
        head = cJSON_DetachItemFromObjectCaseSensitive(line, "head");
    } else if (more) { /* an mlpd that sends no head: the whole answer first */
        rc = read_answer_from(cli, line, &line);
        if (rc != CLI_OK)
            return rc;
    }
    for (;;) {
        if (!cJSON_IsTrue(json_get(line, "ok"))) { /* an error, maybe mid-stream */
            cJSON_Delete(head);
            *resp = line;
            return answer_exit(line);
        }
        more = cJSON_IsTrue(json_get(line, "more"));
        rc = fn(ud, head ? head : line, json_get(line, field));
        if (rc != CLI_OK || !more)
            break;
        cJSON_Delete(line);
        line = NULL;
        if ((rc = read_line(cli, &line)) != CLI_OK)
            break;
    }
    cJSON_Delete(head);
    if (rc != CLI_OK) {
        /* The rest of the answer is not read: the connection cannot serve another request. */
        cJSON_Delete(line);
        disconnect(cli);
        return rc;
    }
    *resp = line;
    return CLI_OK;
}

int cli_read_event(struct cli *cli, cJSON **ev)
{
    *ev = NULL;
    if (cli->fd < 0)
        return CLI_UNREACHABLE;
    int rc = read_line(cli, ev);
    if (rc != CLI_OK)
        return rc;
    if (!cJSON_IsTrue(json_get(*ev, "ok")))
        return report_error(cli, *ev);
    return CLI_OK;
}

void cli_print_json(const cJSON *doc)
{
    char *text = json_print_exact(doc, true); /* numbers read back to the same bits */
    if (!text) {
        fprintf(stderr, "mlpctl: out of memory\n");
        return;
    }
    fputs(text, stdout);
    fputc('\n', stdout);
    free(text);
}
