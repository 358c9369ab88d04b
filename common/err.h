/*
 * err — the project's one error map.
 *
 * Every failure that crosses a module boundary is a negative MLP_E* code plus a
 * message and, where it applies, the place in the user's input (a JSON path such
 * as "grid.lr[1]" or a file path).  The map below is written once and yields the
 * enum, the wire name sent as "code" in protocol error replies and in worker
 * error lines, and a default message.  Functions take a `struct err *` that they
 * fill on failure; it holds fixed buffers so nothing needs freeing.
 */
#ifndef MLP_ERR_H
#define MLP_ERR_H

#include <stdarg.h>

/* X(ENUM, wire name, default message) */
#define MLP_ERR_MAP(X)                                                          \
    X(INVALID_SPEC,    "invalid_spec",    "invalid trial specification")        \
    X(INVALID_GRID,    "invalid_grid",    "invalid grid file")                  \
    X(INVALID_DATASET, "invalid_dataset", "dataset cannot be found or parsed")  \
    X(INVALID_REQUEST, "invalid_request", "malformed request")                  \
    X(UNKNOWN_OP,      "unknown_op",      "unknown operation")                  \
    X(NOT_FOUND,       "not_found",       "no such object")                     \
    X(AMBIGUOUS,       "ambiguous",       "name matches more than one object")  \
    X(CONFLICT,        "conflict",        "operation conflicts with state")     \
    X(TOO_LARGE,       "too_large",       "request or grid too large")          \
    X(PROTOCOL,        "protocol",        "unsupported protocol version")       \
    X(PERMISSION,      "permission",      "permission denied")                  \
    X(SHUTTING_DOWN,   "shutting_down",   "daemon is shutting down")            \
    X(STORAGE,         "storage",         "database error")                     \
    X(IO,              "io",              "input/output error")                 \
    X(NOMEM,           "nomem",           "out of memory")                      \
    X(TIMEOUT,         "timeout",         "time limit exceeded")                \
    X(DIVERGED,        "diverged",        "training diverged")                  \
    X(INTERNAL,        "internal",        "internal error")                     \
    X(NOSPACE,         "no_space",        "no space left on device")

enum mlp_err {
    MLP_OK = 0,
#define MLP_ERR_ENUM(e, name, msg) MLP_E##e,
    MLP_ERR_FIRST_ = -1000,
    MLP_ERR_MAP(MLP_ERR_ENUM)
#undef MLP_ERR_ENUM
    MLP_ERR_LAST_
};

struct err {
    int code;          /* 0 or a negative MLP_E* code */
    char path[256];    /* where in the input: "grid.lr[1]", "params.hidden", a file; "" if none */
    char msg[768];     /* one human sentence, no trailing newline */
};

#define ERR_INIT {0, "", ""}

/* Wire name ("invalid_grid") of a code; "internal" for unknown codes. */
const char *err_name(int code);
/* Default message of a code. */
const char *err_default_msg(int code);
/* Code of a wire name, or MLP_EINTERNAL when unknown. */
int err_from_name(const char *name);

/*
 * Fill *e (when e is not NULL) and return code, so that callers can write
 * `return err_set(e, MLP_EINVALID_GRID, "grid.lr[1]", "expected a number > 0, got %s", s);`.
 * path may be NULL.  A later err_set overwrites an earlier one.
 */
int err_set(struct err *e, int code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int err_setv(struct err *e, int code, const char *path, const char *fmt, va_list ap);

/* Clear *e back to ERR_INIT. */
void err_clear(struct err *e);

#endif
