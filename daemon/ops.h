/*
 * ops — one handler per protocol op (daemon/PROTOCOL.md) and the table that
 * describes them.
 *
 * server.c type-checks a request against the op's row (the listed fields and
 * their types), then runs it with ops_call, which checks the row's preconditions
 * (flags: refused while mlpd drains; a sweep argument, resolved and read once)
 * before calling the handler, so handlers see only well-typed requests whose
 * sweep exists.  A handler fills resp (an object already holding "ok": true) and
 * says what should happen next in *it: reply now, or park the client until a
 * sweep ends (wait) or stream its progress (watch), and which sweep changed so
 * its waiters and watchers hear of it.  Handlers never call back into the
 * server; the dispatcher acts on the intent.
 */
#ifndef MLP_OPS_H
#define MLP_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct cJSON;
struct mlpd;
struct store_sweep;

/* Field types the dispatcher checks. */
enum op_type { OT_INT, OT_STR, OT_BOOL, OT_OBJ, OT_SWEEP /* int or string */ };

struct op_field {
    const char *name;
    enum op_type type;
    bool required;
};

#define OP_MAX_FIELDS 8

/* What the dispatcher does once a handler returned 0. */
enum op_next {
    OP_REPLY,  /* send resp */
    OP_WAIT,   /* answer when sweep_id has ended (resp is dropped) */
    OP_WATCH,  /* stream progress events of sweep_id (0: every active sweep) */
    OP_STREAM, /* heavy ops only: send the answer in chunks produced by stream */
};

/* A growable text buffer (ops_buf_add). */
struct op_buf {
    char *p;
    size_t len, cap;
};
/* Append n bytes (NUL-terminated after): 0 or MLP_ENOMEM. */
int ops_buf_add(struct op_buf *b, const char *s, size_t n);

#define OP_STREAM_CHUNK (1u << 20) /* a streamed chunk stops growing past this many bytes */

/*
 * A streamed answer (daemon/STREAM rules in PROTOCOL.md).  The server calls next on a
 * pool thread, with the op's read-only store in d, each time the client's socket has
 * drained: next appends the members of the chunk as JSON text without braces (e.g.
 * "\"rows\":[{...},{...}]", about OP_STREAM_CHUNK bytes at most, possibly nothing) to
 * out and returns 1 when more chunks follow, 0 for the last one, or <0 with *e filled
 * (the stream then ends with an error line).  A chunk with more goes out as
 * {"ok":true,"more":true,<members>}; the last one as the handler's resp with the members
 * added.  free releases everything the stream holds (called on the loop thread, once).
 */
struct op_stream {
    int (*next)(struct op_stream *s, struct mlpd *d, struct op_buf *out, struct err *e);
    void (*free)(struct op_stream *s);
};

struct op_intent {
    enum op_next next;        /* OP_REPLY unless the handler says otherwise */
    int64_t sweep_id;         /* OP_WAIT / OP_WATCH: the sweep */
    int64_t changed;          /* > 0: this sweep changed; notify its waiters and watchers */
    struct op_stream *stream; /* OP_STREAM: the producer (the server owns it then) */
};
#define OP_INTENT_INIT                                                                             \
    {                                                                                              \
        .next = OP_REPLY, .sweep_id = 0, .changed = 0, .stream = NULL                              \
    }

/* Preconditions of an op (struct op's flags), checked by ops_call in this order. */
enum op_flag {
    /*
     * The op's "sweep" field names a sweep: ops_call resolves it (id, name or
     * prefix, PROTOCOL.md) and reads it once, and passes it to the handler as sw;
     * an unknown or ambiguous sweep is answered before the handler runs.  sw is
     * NULL only when the field is optional and absent (or null).
     */
    OPF_SWEEP = 1u << 0,
    /* Refused with shutting_down while mlpd drains (text: the row's draining_msg). */
    OPF_NOT_DRAINING = 1u << 1,
    /* Refused so while mlpd drains when the sweep is cancelled (the op would re-queue it). */
    OPF_NOT_DRAINING_CANCELLED = 1u << 2,
};

struct op {
    const char *name;
    /*
     * Fill resp and *it (already OP_INTENT_INIT); 0 or <0 with *e filled.  sw is
     * the sweep of an OPF_SWEEP op (see there), else NULL; it lives until exec returns.
     */
    int (*exec)(struct mlpd *d, const struct cJSON *req, const struct store_sweep *sw,
                struct cJSON *resp, struct op_intent *it, struct err *e);
    struct op_field fields[OP_MAX_FIELDS];
    unsigned flags; /* enum op_flag */
    /* OPF_NOT_DRAINING*: the shutting_down message; NULL: "mlpd is shutting down". */
    const char *draining_msg;
    /*
     * A read-only query that may take long on big sweeps: run on libuv's thread
     * pool with its own read-only store connection (exec then gets a copy of
     * struct mlpd whose st is that connection), so the loop keeps serving
     * everyone else.  Such a handler must only read, and reply.
     */
    bool heavy;
};

extern const struct op ops_table[];
extern const int ops_count;

/*
 * Run a checked request (server_parse_request) of op: check op's flags, resolve its
 * sweep, call its handler.  What the handler returns, or <0 with *e filled by a
 * precondition.  On the loop thread, or on the pool for a heavy op (d with its
 * read-only store).
 */
int ops_call(const struct op *op, struct mlpd *d, const struct cJSON *req, struct cJSON *resp,
             struct op_intent *it, struct err *e);

/* Resolve a "sweep" value (id, or a string holding an id or a name): 0 or MLP_ENOT_FOUND. */
int ops_sweep_ref(struct mlpd *d, const struct cJSON *ref, int64_t *id, struct err *e);

#endif
