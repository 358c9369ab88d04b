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

struct cJSON;
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

/*
 * A worker's event lines as metric rows, for every executor (SPEC.md
 * "mlp-worker"): v has MLP_M_N values, NaN where absent or null.
 *
 * exec_epoch_metrics: the per-epoch metrics of an "epoch" line and its
 * number; false when the number is not a plausible epoch (1..1e9, whole),
 * since casting an out-of-range double to int64_t is undefined.
 * exec_result_metrics: every metric of a "result" line; integer columns out
 * of range become NaN (stored NULL) and an absent "diverged" is 0.
 */
bool exec_epoch_metrics(const struct cJSON *ev, int64_t *epoch, double *v);
/* The "lr" of an epoch line (printed with an lr_schedule); NaN when absent or not positive. */
double exec_epoch_lr(const struct cJSON *ev);
void exec_result_metrics(const struct cJSON *ev, double *v);

/*
 * A "result" line as the store records it: exec_result_metrics, the
 * confusion matrix re-printed as compact JSON when it is a well-formed K x K
 * matrix of non-negative integers (1 <= K <= EXEC_MAX_CLASSES; anything else
 * is dropped, never stored half-checked), and "normalize" when it is a short
 * string.  0, or MLP_ENOMEM; release r with store_result_release either way.
 */
#define EXEC_MAX_CLASSES 1000
struct store_result;
int exec_result(const struct cJSON *ev, struct store_result *r);

/*
 * The trial spec line (SPEC.md "mlp-worker") of both executors, without a
 * newline: dataset, seed, params (canonical JSON texts from the store), trial
 * and artifacts_dir = <artifacts_root>/<trial id>, which is created (0700, and
 * the root too) first.  Returns a malloc'ed line (caller frees), or NULL with
 * msg (size n) saying why.
 */
char *exec_spec_line(const char *artifacts_root, const char *dataset_json, int64_t seed,
                     const char *params_json, int64_t trial_id, char *msg, size_t n);

#endif
