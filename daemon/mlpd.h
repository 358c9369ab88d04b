/*
 * mlpd — the daemon's shared context.
 *
 * struct mlpd is created by main.c and owned by its loop: every module reaches
 * the store, the scheduler and the server through it.  The ops table lives in
 * ops.h, the sweep views in view.h.
 */
#ifndef MLP_MLPD_H
#define MLP_MLPD_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "err.h"
#include "ops.h"

struct cJSON;
struct store;
struct sched;
struct server;
struct slurm;
struct client;
struct hooks;

struct mlpd {
    uv_loop_t *loop;
    struct mlpd_config cfg;       /* resolved settings */
    char worker[CONFIG_PATH_MAX]; /* mlp-worker executable in use */
    char log_dir[CONFIG_PATH_MAX + 16];
    char db_path[CONFIG_PATH_MAX + 16];
    char artifacts_dir[CONFIG_PATH_MAX + 16]; /* <state dir>/artifacts: trial files, <id>/ */
    struct store *st;
    struct sched *sched;
    struct slurm *slurm; /* the Slurm executor, NULL when not available (exec.h) */
    struct server *srv;
    struct hooks *hooks; /* notification commands (hooks.h); NULL until started */
    struct bulk *bulk;   /* bulk tasks: sweep inserts and removals off the loop (bulk.h) */
    double started; /* unix seconds */
    bool draining;  /* shutdown requested: no new submits */
    /* Begin shutdown (graceful, or now); implemented by main.c. */
    void (*shutdown)(struct mlpd *d, bool now);
};

#endif
