/*
 * cli — shared state of one mlpctl invocation and the transport to mlpd
 * (client.c), with the two things every layer may call: cli_print_json and
 * cli_usage (main.c, beside the verb table whose usage texts it prints).  Verbs live one group per
 * file (cmd_*.c) and are listed in the verb table in main.c.  Exit codes (SPEC.md): 0 success, 1
 * the operation failed, 2 usage error, 3 daemon unreachable, 4 invalid input.
 */
#ifndef MLP_CLI_H
#define MLP_CLI_H

#include <stdbool.h>
#include <stdio.h>

struct cJSON;

enum cli_exit {
    CLI_OK = 0,
    CLI_FAILED = 1,
    CLI_USAGE = 2,
    CLI_UNREACHABLE = 3,
    CLI_INVALID = 4,
};

struct cli {
    const char *socket_path; /* resolved socket path (flag, env, or default) */
    bool json;               /* --json: one JSON document on stdout */
    int fd;                  /* connection to mlpd, -1 until cli_connect */
    void *rbuf_;             /* internal read buffer */
    double timeout;          /* > 0: seconds an answer may take (wait --timeout) */
    bool timed_out;          /* the last read gave up after timeout (nothing printed) */
};

/*
 * Connect to mlpd (if not yet connected) and say hello.  On failure prints
 * which socket was tried and how to start mlpd, and returns CLI_UNREACHABLE.
 */
int cli_connect(struct cli *cli);

/*
 * Send one request and read its response (connecting first if needed).
 * *resp receives the whole response object (caller frees with cJSON_Delete)
 * when the daemon answered, ok or not.  Returns CLI_OK when the response has
 * "ok": true; for an error reply, the matching exit code (invalid_grid/
 * invalid_dataset/invalid_spec → CLI_INVALID, others → CLI_FAILED) with
 * nothing printed — cmd_request words it; on a transport failure the
 * failure is printed and CLI_UNREACHABLE returned.  Takes ownership of req.
 */
int cli_request(struct cli *cli, struct cJSON *req, struct cJSON **resp);

/*
 * An export's piece: head is the answer's other fields (its first line's "head", or the
 * one line of an unstreamed answer: skip "ok" and the array there), rows the array of
 * one line (NULL when the line has none; fn may detach its items).  CLI_OK, or an exit
 * code to stop reading.
 */
typedef int (*cli_rows_fn)(void *ud, const struct cJSON *head, struct cJSON *rows);

/*
 * cli_request for a streamed export (daemon/PROTOCOL.md, "Streamed answers"): instead
 * of gathering every line, hand each line's array `field` to fn as it arrives, so that
 * memory stays bounded by one line whatever the answer's size.  An mlpd whose first line
 * has no "head" gets its answer gathered first, then one fn call.  *resp receives the
 * last line (its array already passed to fn) or an error line, which may come after
 * some pieces were passed (the caller drops them); return codes as cli_request's, or
 * fn's code when it stopped (the connection is then closed, the answer unread).
 */
int cli_request_rows(struct cli *cli, struct cJSON *req, const char *field, cli_rows_fn fn,
                     void *ud, struct cJSON **resp);

/* Whether something accepts connections at the socket path (no hello, nothing printed). */
bool cli_reachable(const struct cli *cli);

/* Close the connection to mlpd, if any (idempotent). */
void cli_disconnect(struct cli *cli);

/* Read the next line-delimited response/event from the connection (for watch). */
int cli_read_event(struct cli *cli, struct cJSON **ev);

/* Print a JSON document to stdout (pretty, with a trailing newline). */
void cli_print_json(const struct cJSON *doc);

/* Print a usage error, then the verb's usage from the table (main.c); returns CLI_USAGE. */
int cli_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A verb: argv[0] is the verb name; returns an exit code. */
typedef int (*cli_verb_fn)(struct cli *cli, int argc, char **argv);

#endif
