/*
 * mlpd — the daemon's shared context and the ops table between server and ops.
 *
 * struct mlpd is created by main.c and owned by its loop: every module reaches
 * the store, the scheduler and the server through it.  ops.c holds one handler
 * per protocol op (daemon/PROTOCOL.md) and the table describing each op's
 * fields; server.c type-checks requests against the table before calling a
 * handler, so handlers see only well-typed requests.
 */
#ifndef MLP_MLPD_H
#define MLP_MLPD_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "err.h"

struct cJSON;
struct store;
struct sched;
struct server;
struct slurm;
struct client;

struct mlpd {
    uv_loop_t *loop;
    struct mlpd_config cfg;       /* resolved settings */
    char worker[CONFIG_PATH_MAX]; /* mlp-worker executable in use */
    char log_dir[CONFIG_PATH_MAX + 16];
    char db_path[CONFIG_PATH_MAX + 16];
    struct store *st;
    struct sched *sched;
    struct slurm *slurm; /* the Slurm executor, NULL when not available (exec.h) */
    struct server *srv;
    double started; /* unix seconds */
    bool draining;  /* shutdown requested: no new submits */
    /* Begin shutdown (graceful, or now); implemented by main.c. */
    void (*shutdown)(struct mlpd *d, bool now);
};

/* Field types the dispatcher checks. */
enum op_type { OT_INT, OT_STR, OT_BOOL, OT_OBJ, OT_SWEEP /* int or string */ };

struct op_field {
    const char *name;
    enum op_type type;
    bool required;
};

#define OP_MAX_FIELDS 8
#define OP_DEFERRED 1 /* handler return: the response comes later (wait, watch) */

struct op {
    const char *name;
    /* Fill resp (an object already holding "ok": true); 0, OP_DEFERRED or <0 with *e. */
    int (*exec)(struct mlpd *d, struct client *c, const struct cJSON *req, struct cJSON *resp,
                struct err *e);
    struct op_field fields[OP_MAX_FIELDS];
    /*
     * A read-only query that may take long on big sweeps: run on libuv's thread
     * pool with its own read-only store connection (exec then gets a copy of
     * struct mlpd whose st is that connection, and c == NULL), so the loop keeps
     * serving everyone else.  Such a handler must only read.
     */
    bool heavy;
};

extern const struct op ops_table[];
extern const int ops_count;

/* Resolve a "sweep" value (id, or a string holding an id or a name): 0 or MLP_ENOT_FOUND. */
int ops_sweep_ref(struct mlpd *d, const struct cJSON *ref, int64_t *id, struct err *e);

/* The sweep summary object of PROTOCOL.md; NULL with *e on failure.  *ended: no trial left to run.
 */
struct cJSON *ops_sweep_summary(struct mlpd *d, int64_t id, bool *ended, struct err *e);

/* Whether a sweep has no queued or running trial left (cheap: counts only). */
int ops_sweep_ended(struct mlpd *d, int64_t id, bool *ended, struct err *e);

/*
 * A watch event {"ok":true,"event":"progress"|"end","sweep":summary,"eta":s|null};
 * "end" when the sweep has ended.  NULL with *e on failure.
 */
struct cJSON *ops_progress_event(struct mlpd *d, int64_t id, bool *ended, struct err *e);

/* Ids of sweeps with queued or running trials (malloc'ed, caller frees): 0 or <0. */
int ops_active_sweeps(struct mlpd *d, int64_t **ids, size_t *n);

/* Whether any trial is queued or running anywhere. */
bool ops_any_active(struct mlpd *d);

#endif
