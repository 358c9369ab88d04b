/*
 * server — the Unix socket, its clients and the request dispatcher.
 *
 * Newline-delimited JSON (daemon/PROTOCOL.md): each client has a line_buf;
 * complete lines are parsed, checked against ops_table and answered in order.
 * A client is served only if SO_PEERCRED says it runs as our uid.  Requests
 * that answer later (wait, watch) park the client: its further lines stay
 * buffered until the answer is complete.  Watchers are driven by
 * server_notify() from the scheduler — no timers run while nothing changes —
 * and rate-limited to two events per second.  A client whose unsent output
 * passes SERVER_MAX_PENDING is dropped; a client is freed only in its close
 * callback.
 */
#ifndef MLP_SERVER_H
#define MLP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct cJSON;
struct mlpd;
struct op;
struct server;
struct client;

#define SERVER_MAX_PENDING (64u << 20) /* bytes of unsent output before a client is dropped */

/*
 * Listen on path (mode 0600).  An existing socket file is removed only when
 * nothing answers on it.  NULL with *e filled.
 */
struct server *server_open(struct mlpd *d, const char *path, struct err *e);

/*
 * Stop listening, tell parked clients the daemon is going away, close every
 * client and the listener, unlink the socket file.  The struct is freed once
 * every handle has closed (run the loop to let that happen).
 */
void server_close(struct server *srv);

/*
 * Parse one request line exactly as the server does, without a client: refuse
 * NUL bytes, text that is not UTF-8 and anything but one JSON value (\u0000
 * escapes become U+FFFD in place), then check the op and its field types
 * against ops_table.  line[len] must be '\0' (line_buf guarantees it).
 * Returns the request (free with cJSON_Delete) and *op, or NULL with *e set.
 * Split out of the read path so tests/fuzz (fuzz-request) can drive it.
 */
struct cJSON *server_parse_request(char *line, size_t len, const struct op **op, struct err *e);

/* A trial of sweep_id changed state: update waiters and watchers. */
void server_notify(struct server *srv, int64_t sweep_id);

#endif
