/*
 * slurm — the Slurm executor: trials as job-array tasks on a cluster.
 *
 * Queued trials of a Slurm sweep are claimed from the store (with their task
 * rows, see store_slurm.h) and submitted together as one job array, one
 * sweep per array so that the sweep's "slurm" settings (grid_slurm_parse,
 * read back from its stored grid) override mlpd.conf's for the array:
 *
 *   sbatch --parsable --no-requeue --job-name=mlpd-<token> --array=0-<n-1>%<limit>
 *          --cpus-per-task=<threads> [--partition --account --time ...]
 *          <spool>/mlpd-task.sh <batch dir> <worker> <data dir> <threads>
 *
 * Task i runs `mlp-worker --spec <batch dir>/i.spec` with its stdout in i.out,
 * stderr in i.err, and then writes its completion marker i.done (rename, last:
 * exit code, signal, bytes of i.out), all in the batch's directory
 * under the spool (a filesystem shared by the login node and the compute
 * nodes).  The spec is the line a local worker reads on stdin, and the task
 * sets OPENBLAS_NUM_THREADS like spawn.c, so results are bit-identical to a
 * local run.
 *
 * A libuv timer polls every slurm_poll seconds (backing off to every 8th tick
 * while nothing changes): `squeue -h -r -t all -u <user>`, one query for all
 * of the daemon's jobs (uv_spawn, output parsed on the loop); for tasks that
 * left squeue without a final state (the controller forgot them after
 * MinJobAge, or restarted) `sacct -n -P -X -j <job>_<i>,...` asks slurmdbd,
 * and when accounting storage is disabled `sacct --completion -j <own job
 * ids>` reads the job completion log (JobCompType=jobcomp/filetxt); when
 * neither answers, the files decide, once the marker is read or slurm_grace
 * seconds passed (a shared filesystem's cache may hide it).  Then the new bytes
 * of every task's i.out are read on the thread pool, then applied on the loop:
 * epoch lines become epoch rows at once (live curves), a result line is
 * recorded once the marker is read (the task's artifacts, written under the
 * batch directory, are moved into the state dir first), with 'done' in one
 * transaction only while the trial still runs that
 * attempt (exactly once, even when a restarted mlpd reads the file again).  A
 * task that ends without a result is mapped from its Slurm state: FAILED,
 * a completed task without result, or a task that vanished are
 * crashes (re-queued counting the attempt, failed after max_attempts);
 * NODE_FAIL, PREEMPTED and BOOT_FAIL are re-queued without counting it;
 * TIMEOUT and DEADLINE fail at once (as a local timeout), OUT_OF_MEMORY too
 * (the same memory would not do); exit code 4 (invalid
 * spec) fails at once; CANCELLED ends 'cancelled' when the sweep was cancelled
 * through mlpd, else 'failed' (someone ran scancel: mlpctl retry runs it again).
 *
 * On start the executor re-attaches to every trial the store says is running
 * on Slurm: no trial is submitted twice.  A submission whose job id was never
 * recorded (mlpd died while sbatch ran) is found again by its job name, in
 * squeue, else in accounting (sacct --name, or the completion log: a batch that
 * ran while mlpd was down is followed and ingested); if Slurm does not know it
 * and it left no output, its trials are re-queued.
 * sbatch failures re-queue the batch's trials (attempt given back, the error
 * recorded on them) and submission is retried later; the refusals counted
 * against the sweep are stored with that re-queue (slurm_blocked), so its
 * slurm_submit_tries span restarts.  Shutdown leaves Slurm
 * jobs running; the next mlpd follows them.
 */
#ifndef MLP_SLURM_H
#define MLP_SLURM_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "err.h"

struct store;
struct exec;
struct slurm; /* opaque */

struct slurm_opts {
    const char *partition, *account, *time_limit, *sbatch_args; /* "" = not given */
    const char *spool;                                          /* spool directory (created) */
    const char *worker;        /* mlp-worker path on the compute nodes */
    const char *data_dir;      /* MLPD_DATA of the tasks */
    const char *artifacts_dir; /* <state dir>/artifacts (shared filesystem): files of trial <id>/ */
    const char *bin;           /* directory of sbatch/squeue/scancel; "" = $PATH */
    int threads;               /* --cpus-per-task and OPENBLAS_NUM_THREADS */
    int array_limit;           /* %N of --array */
    int max_tasks;             /* trials in Slurm at once */
    int max_attempts;          /* as the scheduler's */
    double poll;               /* seconds between polls */
    double grace;              /* seconds an ended task's completion marker may lag */
    int submit_tries;          /* failed submissions of a sweep before its queued trials fail */
    double spool_keep;         /* days a finished batch's spool directory is kept; <0 forever */
    void (*notify)(void *ud, int64_t sweep_id); /* a trial of sweep_id changed state */
    void *ud;
};

/*
 * Start the executor: find sbatch, create the spool and its task script,
 * re-attach to the trials the store has running on Slurm and start polling.
 * NULL with *e filled (sbatch not found, spool not writable, storage).
 * Strings in o are borrowed for the executor's lifetime.
 */
struct slurm *slurm_open(uv_loop_t *loop, struct store *st, const struct slurm_opts *o,
                         struct err *e);

/* The scheduler-facing interface (owned by s). */
struct exec *slurm_exec(struct slurm *s);

/* Trials followed in Slurm now, and distinct array jobs among them. */
int slurm_tasks(const struct slurm *s);

/* A sweep's submission trouble, as answers show it (see slurm_blocked). */
struct slurm_block {
    int failures;      /* failed submissions counted against the sweep (reset when it gave up) */
    int tries;         /* slurm_submit_tries: the count at which it gives up */
    bool counted;      /* the last failure counted (else a site limit or the controller) */
    bool gave_up;      /* its queued trials were failed with the message */
    char message[600]; /* sbatch's message */
};

/*
 * 1 with *out filled when the sweep's last submission failed (and none has
 * succeeded since, nor was the sweep cancelled; stored in slurm_blocked, so a
 * restarted mlpd answers it too and goes on counting), else 0.  Safe from any
 * thread.
 */
int slurm_blocked(struct slurm *s, int64_t sweep_id, struct slurm_block *out);

/* The ids of the sweeps slurm_blocked answers for, at most max of them; their count. */
size_t slurm_blocked_sweeps(struct slurm *s, int64_t *ids, size_t max);

/* Free it after the loop closed every handle (slurm's drain closes its own). */
void slurm_free(struct slurm *s);

#endif
