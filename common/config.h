/*
 * config — where mlpd keeps its files, and the daemon's settings.
 *
 * One table (config.c, after redis's static_configs) lists every setting with
 * its type, range, default, offset into struct mlpd_config and help text; the
 * config file (mlpd.conf, "key = value"), the command-line flags
 * (--key value / --key=value) and --help all go through it.
 */
#ifndef MLP_CONFIG_H
#define MLP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"

#define CONFIG_PATH_MAX 4096
#define CONFIG_STR_MAX 512 /* free-text settings (Slurm partition, sbatch arguments) */

/*
 * SPEC.md defaults.  Each fills buf (size n) and returns 0, or MLP_EIO if $HOME
 * is unset and needed or the path is too long.
 */
int config_state_dir(char *buf,
                     size_t n); /* $MLPD_HOME, else ${XDG_STATE_HOME:-$HOME/.local/state}/mlpd */
int config_socket_path(char *buf, size_t n); /* $MLPD_SOCKET, else <state dir>/mlpd.sock */
int config_data_dir(char *buf, size_t n);    /* $MLPD_DATA, else <state dir>/data */

/* Like mkdir -p with mode for created directories; 0 or MLP_EIO naming the dir. */
int config_mkdir_p(const char *dir, unsigned mode, struct err *e);

/*
 * Find an executable.  `want` may be a path (used as it is when it contains a
 * '/'), a bare name, or empty (then `name`).  A bare or empty want is looked
 * for in `dir` when dir is non-empty; otherwise, for an empty want only, next
 * to the running binary and in its build-tree sibling `../<sibling>/` (sibling
 * may be NULL), then in $PATH.  out gets the path found (or the name looked
 * for).  Returns 0 when out is executable, -1 otherwise.
 */
int config_find_program(const char *want, const char *name, const char *dir, const char *sibling,
                        char *out, size_t n);

struct mlpd_config {
    /* Hooks (daemon/hooks.h): commands split by common/notify.h; "" = none. */
    char on_sweep_end[CONFIG_STR_MAX];
    char on_trial_failed[CONFIG_STR_MAX];
    char on_sweep_blocked[CONFIG_STR_MAX];
    double hook_timeout;  /* seconds before a hook is killed */
    double hook_interval; /* seconds between two on_trial_failed hooks of a sweep */
    int hook_max_running; /* hooks at once */
    char state_dir[CONFIG_PATH_MAX]; /* "" = default */
    char socket[CONFIG_PATH_MAX];    /* "" = default */
    char data_dir[CONFIG_PATH_MAX];  /* "" = default */
    char log_file[CONFIG_PATH_MAX];  /* "" = <state dir>/mlpd.log */
    char worker[CONFIG_PATH_MAX];    /* mlp-worker executable; "" = default */
    int workers;                     /* default: online CPUs (sysconf) */
    int threads;                     /* OpenBLAS threads per trial, default 1 */
    int max_attempts;                /* default 3 */
    long max_trials;                 /* per-sweep ceiling, even with --force; default 1000000 */
    long max_dataset_bytes;          /* largest dataset file checked at submit; default 2 GiB */
    long max_params;                 /* most parameters of one configuration's network */
    long worker_memory;              /* RLIMIT_AS of a local worker beyond start-up, default 4 GiB */
    double stall_seconds;            /* no worker output this long: killed; 0 = off; default 600 */
    long min_free_space;             /* dispatch pauses below this many free bytes; default 64 MiB */
    long log_max_bytes;              /* per-trial log cap, default 1 MiB */
    double kill_grace;               /* seconds between SIGTERM and SIGKILL at timeout, default 5 */
    int max_clients;                 /* connections served at once, default 1000 */
    double request_timeout;          /* seconds a half-sent request line may wait, default 30 */
    bool foreground;                 /* do not detach */
    char log_level[16];              /* "info" */
    /* Where sweeps run unless their grid says "executor"; see daemon/exec.h. */
    char executor[16];                      /* "local" (default) or "slurm" */
    char slurm_partition[CONFIG_STR_MAX];   /* sbatch --partition; "" = the cluster's default */
    char slurm_account[CONFIG_STR_MAX];     /* sbatch --account; "" = none */
    char slurm_time[CONFIG_STR_MAX];        /* sbatch --time per trial; "" = partition default */
    char slurm_sbatch_args[CONFIG_STR_MAX]; /* more sbatch arguments, split on blanks */
    char slurm_spool[CONFIG_PATH_MAX];      /* spool dir on the shared FS; "" = <state>/spool */
    char slurm_worker[CONFIG_PATH_MAX];     /* mlp-worker on the compute nodes; "" = mlpd's */
    char slurm_bin[CONFIG_PATH_MAX];        /* dir of sbatch, squeue, scancel; "" = $PATH */
    int slurm_array_limit;                  /* array throttle %N: tasks running at once */
    int slurm_max_tasks;                    /* trials submitted to Slurm at once */
    double slurm_poll;                      /* seconds between squeue polls */
    double slurm_grace;      /* seconds an ended task's files may lag (NFS attribute cache) */
    int slurm_submit_tries;  /* refused submissions of a sweep before its queued trials fail */
    double slurm_spool_keep; /* days a finished batch's spool directory is kept; -1 forever */
};

/* Fill *c with the defaults (paths left "" to be resolved by config_finish). */
void config_defaults(struct mlpd_config *c);

/*
 * Set one key from text.  Returns 0, or MLP_EINVALID_REQUEST with *e filled:
 * unknown key → "unknown setting (did you mean \"workers\"?)"; bad value → the
 * accepted range.  e->path is the key.
 */
int config_set(struct mlpd_config *c, const char *key, const char *value, struct err *e);

/*
 * Read "key = value" lines ('#' starts a comment, blank lines ignored).
 * Returns 0, MLP_EIO if the file cannot be read, or the config_set error with
 * e->path "file:line".
 */
int config_load_file(struct mlpd_config *c, const char *path, struct err *e);

/*
 * Parse argv-style flags from argv[0..argc): --key value, --key=value, and
 * --foreground (booleans without a value mean true).  Arguments that are not
 * settings (e.g. --help, --config) are left for the caller: *used is set to
 * the number of leading arguments consumed.  Returns 0 or the config_set error.
 */
int config_parse_args(struct mlpd_config *c, int argc, char **argv, int *used, struct err *e);

/* Fill "" paths from the environment/defaults above; log_file = <state>/mlpd.log. 0 or MLP_EIO. */
int config_finish(struct mlpd_config *c, struct err *e);

/* One line per key with its default and range. */
void config_usage(FILE *out);

#endif
