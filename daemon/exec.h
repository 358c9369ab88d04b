/*
 * exec — where a sweep's trials run, and the glue between executors and ops.
 *
 * Every sweep has an executor, stored with it (sweeps.executor): "local", the
 * scheduler's own slots (sched.c + spawn.c: one mlp-worker child per slot), or
 * "slurm", job arrays on a Slurm cluster (slurm.c).  Each executor claims only
 * the queued trials of its own sweeps from the store, so both run side by side
 * under the same queue rules (priority, pause, cancel, retry).  The scheduler
 * forwards kick, cancel and drain to a remote executor through struct exec, so
 * ops keep calling sched_* alone.
 *
 * exec_resolve is what the submit handler calls to pick a sweep's executor.
 * What an executor sends to and reads from a worker is common/trialwire.h;
 * the executor fields of answers are view.h's.
 */
#ifndef MLP_EXEC_H
#define MLP_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct mlpd;

/* A remote executor as the scheduler sees it. */
struct exec {
    const char *name;                                /* "slurm" */
    void (*kick)(struct exec *x);                    /* submit queued trials if there is room */
    int (*cancel_sweep)(struct exec *x, int64_t id); /* stop its trials of a cancelled sweep */
    void (*drain)(struct exec *x);                   /* stop submitting and polling (shutdown) */
};

/*
 * The executor of a new sweep: the grid's "executor" (want, may be NULL), else
 * mlpd.conf's.  *out is a static string.  0, or MLP_EINVALID_GRID (path
 * "executor") when Slurm is asked for and this mlpd has no Slurm executor.
 */
int exec_resolve(struct mlpd *d, const char *want, const char **out, struct err *e);

/*
 * Where a claimed trial's files go: <root>/<trial id>, created (0700, and the
 * root too) by the executor that claimed it, before the worker is given the
 * path.  The path goes into dir (size n).  0, or <0 with *e saying which
 * directory could not be created.
 */
int exec_artifacts_dir(const char *root, int64_t trial_id, char *dir, size_t n, struct err *e);

#endif
