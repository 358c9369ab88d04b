/*
 * client — mlpctl's side of the socket protocol (daemon/PROTOCOL.md).
 *
 * One blocking connection per invocation: connect, send {"op":"hello"}, then
 * one request line and one response line per call (watch reads a stream of
 * event lines with cli_read_event).  Incoming bytes are framed by the shared
 * line_buf, so a response of any size up to LINE_MAX_BYTES is read whole.
 * Errors are turned into mlpctl's exit codes here and nowhere else:
 * invalid_grid/invalid_dataset/invalid_spec → 4, transport → 3, others → 1.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "err.h"
#include "json.h"
#include "line.h"

#define CLIENT_PROTOCOL 1

static void print_unreachable(struct cli *cli, const char *why)
{
    fprintf(stderr,
            "mlpctl: cannot reach mlpd at %s: %s. Start it with 'mlpd' (or 'mlpd "
            "--foreground'), or pass --socket PATH.\n",
            cli->socket_path, why);
    if (cli->json) {
        char msg[1024];
        snprintf(msg, sizeof msg, "cannot reach mlpd at %s: %s", cli->socket_path, why);
        cmd_print_error_json("unreachable", msg, NULL);
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
            *out = doc;
            return CLI_OK;
        }
        ssize_t r = read(cli->fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            fprintf(stderr, "mlpctl: mlpd at %s closed the connection%s%s\n", cli->socket_path,
                    r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
            if (cli->json)
                cmd_print_error_json("unreachable", "mlpd closed the connection", NULL);
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
 * Map an error response to an exit code and print it: one line on stderr,
 * and with --json also the error document on stdout.  quiet_json: with
 * --json print nothing (cli_request's contract: its caller prints).
 */
static int report_error(struct cli *cli, const cJSON *resp, const char *prefix, bool quiet_json)
{
    const cJSON *err = json_get(resp, "error");
    const cJSON *code = json_get(err, "code"), *msg = json_get(err, "message"),
                *path = json_get(err, "path");
    const char *c = cJSON_IsString(code) ? code->valuestring : "internal";
    const char *m = cJSON_IsString(msg) ? msg->valuestring : err_default_msg(err_from_name(c));
    const char *p = cJSON_IsString(path) && *path->valuestring ? path->valuestring : NULL;
    /* A message that already starts with its path (file errors) is not prefixed twice. */
    bool p_in_m = p && strncmp(m, p, strlen(p)) == 0;
    if (quiet_json && cli->json)
        ;
    else if (p && !p_in_m)
        fprintf(stderr, "%s: %s: %s\n", prefix ? prefix : "mlpctl", p, m);
    else
        fprintf(stderr, "%s: %s\n", prefix ? prefix : "mlpctl", m);
    if (cli->json && !quiet_json)
        cmd_print_error_json(c, m, p);
    int e = err_from_name(c);
    if (e == MLP_EINVALID_GRID || e == MLP_EINVALID_DATASET || e == MLP_EINVALID_SPEC)
        return CLI_INVALID;
    return CLI_FAILED;
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
    cli->fd = fd;
    cli->rbuf_ = malloc(sizeof(struct line_buf));
    if (!cli->rbuf_) {
        disconnect(cli);
        fprintf(stderr, "mlpctl: out of memory\n");
        return CLI_FAILED;
    }
    line_buf_init(cli->rbuf_, 0);

    cJSON *hello = cmd_req("hello");
    if (!hello || !cJSON_AddNumberToObject(hello, "protocol", CLIENT_PROTOCOL)) {
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
        rc = report_error(cli, resp, "mlpctl", false);
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

/* One request/response; errors reported by report_error (quiet_json as there). */
static int request(struct cli *cli, cJSON *req, cJSON **resp, const char *prefix, bool quiet_json)
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
    rc = read_line(cli, resp);
    if (rc != CLI_OK)
        return rc;
    if (cJSON_IsTrue(json_get(*resp, "ok")))
        return CLI_OK;
    return report_error(cli, *resp, prefix, quiet_json);
}

int cmd_request(struct cli *cli, cJSON *req, cJSON **resp, const char *prefix)
{
    return request(cli, req, resp, prefix, false);
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

int cli_request(struct cli *cli, cJSON *req, cJSON **resp)
{
    return request(cli, req, resp, NULL, true);
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
        return report_error(cli, *ev, NULL, false);
    return CLI_OK;
}

void cli_print_json(const cJSON *doc)
{
    char *text = cJSON_Print(doc);
    if (!text) {
        fprintf(stderr, "mlpctl: out of memory\n");
        return;
    }
    fputs(text, stdout);
    fputc('\n', stdout);
    free(text);
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
    cJSON *doc = cJSON_CreateObject();
    cJSON *err = cJSON_AddObjectToObject(doc, "error");
    if (err) {
        cJSON_AddStringToObject(err, "code", code);
        cJSON_AddStringToObject(err, "message", message);
        if (path)
            cJSON_AddStringToObject(err, "path", path);
        cli_print_json(doc);
    }
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

int cli_usage(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "mlpctl%s%s: ", verb ? " " : "", verb ? verb : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    const char *u = verb ? cli_verb_usage(verb) : NULL;
    if (u)
        fprintf(stderr, "%s", u);
    else
        fprintf(stderr, "Run 'mlpctl help' for the list of verbs.\n");
    return CLI_USAGE;
}
