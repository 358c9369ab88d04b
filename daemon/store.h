/*
 * store — everything mlpd keeps on disk, and the only file that speaks SQL.
 *
 * One SQLite database (<state dir>/mlpd.db) in WAL mode with synchronous=FULL,
 * so a committed result survives a crash or power loss.  The schema comes from
 * schema/NNN-name.sql, embedded at build time and applied in one transaction:
 * every migration the database lacks (table schema_applied; numbers may land
 * out of order), PRAGMA user_version then holding the highest; a database from a newer mlpd or a
 * file that is not an mlpd database is refused and left untouched.  Every statement on a hot path
 * is prepared once at open.  The daemon is the only writer.
 *
 * Reading functions hand rows to a callback; pointers in a row are valid only
 * during the callback.  Metrics that are NULL in the database (absent, or NaN
 * from a diverged trial) are NaN in rows.  Functions return 0 or a negative
 * MLP_E* code with *e filled (MLP_ESTORAGE for SQLite failures).
 */
#ifndef MLP_STORE_H
#define MLP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "metric.h"

struct store; /* opaque: the connection and its prepared statements */

/*
 * Metrics are indexed by enum mlp_metric (common/metric.h): result rows carry
 * every metric (MLP_M_N values), epoch rows carry the same indices with only
 * the per-epoch metrics filled (the others NaN).  The column lists of the SQL
 * are generated from MLP_METRIC_MAP.
 */
struct store_counts {
    int64_t total, queued, running, done, failed, cancelled;
    int64_t pruned; /* stopped by the sweep's "prune" rule (005-adaptive.sql) */
    double finished;    /* latest trial end once nothing is queued or running, else NaN */
    double avg_seconds; /* NaN here; see store_sweep_avg_seconds */
};

struct store_sweep {
    int64_t id;
    char *name, *metric, *dataset_json, *keys_json, *grid_json; /* owned */
    bool maximize, paused, cancelled;
    int64_t priority;
    double created;
    int64_t trials_max; /* racing/confirming sweeps: the most trials it may reach; 0: all stored */
    struct store_counts c;
};

/* Free the strings of a sweep read by store_sweep_get (the struct itself is the caller's). */
void store_sweep_release(struct store_sweep *s);

/*
 * Open (creating if needed) and migrate the database at path.  Returns NULL with
 * *e filled: MLP_ESTORAGE for a file that is not an mlpd database, a corrupt
 * file (whole-file quick_check), or a schema newer than this build (the file
 * is not modified).  The file is never opened through a symbolic link.
 */
struct store *store_open(const char *path, struct err *e);
void store_close(struct store *st);

/*
 * A read-only connection to an existing, current database (for queries on a
 * pool thread: one connection per thread at a time).  NULL with *e filled.
 */
struct store *store_open_reader(const char *path, struct err *e);

/*
 * Check the whole database file (PRAGMA quick_check) without changing it:
 * 0, or MLP_ESTORAGE with what is damaged and how to recover (mlpd --check).
 * store_open runs the same check before it uses an existing database.
 */
int store_check(const char *path, struct err *e);

/* Schema version this build migrates to. */
int store_schema_version(void);

/*
 * Start-up recovery: trials left 'running' by a crash are re-queued counting
 * the attempt, or failed when attempts >= max_attempts.
 */
int store_recover(struct store *st, int max_attempts, int64_t *requeued, int64_t *failed,
                  struct err *e);

struct store_new_sweep {
    const char *name;     /* NULL: "sweep-<id>" */
    const char *executor; /* "local" (NULL) or "slurm": where its trials run */
    const char *grid_json, *dataset_json, *keys_json, *metric;
    bool maximize;
    int64_t priority;
    size_t n_configs;
    const char *const *params_json;  /* n_configs canonical params texts */
    const char *const *varying_json; /* n_configs grid-key texts */
    size_t n_seeds;
    const int64_t *seeds;
    bool config_major; /* trials queued configuration by configuration (pruning), not seed-major */
    int64_t trials_max; /* racing or confirmation (012-racing.sql): the most trials; 0: none */
};

/*
 * Insert a sweep, its configurations and every trial (seed-major: seed 1 of every
 * configuration first) in one transaction.  MLP_ECONFLICT (path "name") when the
 * name is taken.  *id is the new sweep id.
 */
int store_submit(struct store *st, const struct store_new_sweep *ns, int64_t *id, struct err *e);

/*
 * Large sweeps (011-loop.sql): a sweep is inserted, and removed, in batches
 * of short transactions on a pool thread with its own connection
 * (store_open_bulk), so the event loop's connection never waits long for the
 * write lock.  While that goes on the sweep is hidden: no query answers
 * about it, the scheduler never claims its trials, and a sweep still hidden
 * when mlpd starts (a crash in the middle) is purged whole.
 */
#define STORE_HIDDEN_INSERTING 1 /* configurations and trials being inserted */
#define STORE_HIDDEN_DELETING 2  /* deleted; rows being removed */

/* A read-write connection to an existing, current database (no migration): one thread. */
struct store *store_open_bulk(const char *path, struct err *e);
/* Insert ns's sweep row hidden (its configurations and trials are not used): *id. */
int store_bulk_open(struct store *st, const struct store_new_sweep *ns, int64_t *id,
                    struct err *e);
/* One transaction: configurations first+1..first+n of sweep id. */
int store_bulk_configs(struct store *st, int64_t id, size_t first, size_t n,
                       const char *const *params_json, const char *const *varying_json,
                       struct err *e);
/* One transaction: n trials (configuration index, seed) of sweep id, queued, in that order. */
int store_bulk_trials(struct store *st, int64_t id, size_t n, const int64_t *config_idx,
                      const int64_t *seeds, struct err *e);
/* Make the inserted sweep visible (synchronous FULL): 0 or MLP_ENOT_FOUND. */
int store_bulk_close(struct store *st, int64_t id, struct err *e);
/* Hide a visible sweep for deletion (its name freed, paused): 0 or MLP_ENOT_FOUND. */
int store_sweep_hide(struct store *st, int64_t id, struct err *e);
/*
 * One transaction removing up to max rows of a hidden sweep: trials first (their
 * ids to trial_ids, *n of them, for their logs and artifacts; results and epochs go
 * with them), then configurations, then the sweep row (*done true).
 */
int store_purge_step(struct store *st, int64_t id, size_t max, int64_t *trial_ids, size_t *n,
                     bool *done, struct err *e);
/*
 * At start: ids of hidden sweeps (an insert or removal a crash or a stop cut
 * short), those being inserted first turned into deleted ones (name freed);
 * *ids malloc'ed.
 */
int store_hidden_sweeps(struct store *st, int64_t **ids, size_t *n, struct err *e);

/* A sweep by id: 0, or MLP_ENOT_FOUND.  Release with store_sweep_release. */
int store_sweep_get(struct store *st, int64_t id, struct store_sweep *out, struct err *e);
/* Mean wall time (started..finished) of a sweep's done trials; NaN when none. */
int store_sweep_avg_seconds(struct store *st, int64_t id, double *avg, struct err *e);

/*
 * Per-configuration aggregate of the sweep's ranking metric over its selection
 * results (not confirmation trials'; pruned configurations left out): rows
 * (results), n (non-NULL values: a diverged seed counts in rows only), mean
 * and sum of squares of those, in configuration order.  Read from the table
 * the triggers of 013-means.sql keep (one row per configuration, not one per
 * result), the same numbers as a GROUP BY over the results.  For cheap
 * summaries; exact statistics go through store_values_each.
 */
struct store_mean_row {
    int64_t config_idx, rows, n;
    double mean, sumsq;
};
int store_config_means(struct store *st, int64_t sweep_id,
                       int (*cb)(void *ud, const struct store_mean_row *r), void *ud,
                       struct err *e);

/* Id of a sweep by exact name: 0 or MLP_ENOT_FOUND. */
int store_sweep_by_name(struct store *st, const char *name, int64_t *id, struct err *e);
/* Sweeps whose name starts with prefix, by id, at most max: each to cb (non-zero stops). */
int store_sweeps_by_prefix(struct store *st, const char *prefix, int max,
                           int (*cb)(void *ud, int64_t id, const char *name), void *ud,
                           struct err *e);
/* Every sweep id, newest first; *ids malloc'ed (caller frees). */
int store_sweep_ids(struct store *st, int64_t **ids, size_t *n, struct err *e);
/* Ids of sweeps with queued or running trials, ascending; *ids malloc'ed. */
int store_active_sweeps(struct store *st, int64_t **ids, size_t *n, struct err *e);
/* Counts of the whole store (status). */
int store_global_counts(struct store *st, struct store_counts *c, int64_t *n_sweeps, struct err *e);

/* A trial claimed for running: marked 'running', attempts+1, started=now. */
struct store_claim {
    int64_t trial_id, sweep_id, config_idx, seed;
    int attempt;
    char *dataset_json, *params_json; /* owned; store_claim_release */
};
void store_claim_release(struct store_claim *c);

/*
 * Claim the next queued trial (sweep priority DESC, then trial id) of a sweep
 * that is neither paused nor cancelled, deleting epoch rows of earlier
 * attempts.  Returns 1 with *out filled, 0 when nothing is runnable, or <0.
 */
int store_claim_next(struct store *st, struct store_claim *out, struct err *e);

int store_trial_set_pid(struct store *st, int64_t trial_id, long pid, struct err *e);

/*
 * One epoch row; v has MLP_M_N values, only the per-epoch ones are stored (NaN =
 * NULL); lr is the learning rate of the epoch's last batch as the worker printed
 * it (NaN when it printed none: no lr_schedule).
 */
int store_epoch_add(struct store *st, int64_t trial_id, int attempt, int64_t epoch, const double *v,
                    double lr, struct err *e);

/*
 * What a finished trial recorded (003-results9.sql): every metric, and for
 * classification the test confusion matrix as JSON text ([[count, ...], ...],
 * rows = true label; validated by the caller) and the normalisation applied.
 */
struct store_result {
    double v[MLP_M_N];
    char *confusion; /* owned; NULL when none */
    char *normalize; /* owned; NULL when not reported */
};
/* Free the strings of a result (the struct is the caller's). */
void store_result_release(struct store_result *r);

struct trial_event;
/*
 * A worker's "result" event (common/trialwire.h) as the store records it: its
 * metrics, the confusion matrix as compact JSON text when the event held a
 * valid one, the normalisation when reported.  0, or MLP_ENOMEM; release r
 * with store_result_release either way.
 */
int store_result_from_event(struct store_result *r, const struct trial_event *ev);

/* The result (with its confusion matrix) and state 'done', in one transaction. */
int store_trial_done(struct store *st, int64_t trial_id, int attempt, const struct store_result *r,
                     struct err *e);
/* State 'failed' with the reason. */
int store_trial_fail(struct store *st, int64_t trial_id, const char *error, struct err *e);
/*
 * Back to 'queued' after a crash (count_attempt) or a stop that is not the
 * trial's fault (the attempt is given back).  error records the last reason.
 */
int store_trial_requeue(struct store *st, int64_t trial_id, bool count_attempt, const char *error,
                        struct err *e);
/* A running trial stopped by cancel: 'cancelled'. */
int store_trial_cancelled(struct store *st, int64_t trial_id, struct err *e);

/* Queue control.  *changed counts the trials affected. */
int store_sweep_pause(struct store *st, int64_t id, bool paused, int64_t *changed, struct err *e);
/* Sets the cancelled flag and cancels queued trials (running ones are the caller's). */
int store_sweep_cancel(struct store *st, int64_t id, int64_t *changed, struct err *e);
/*
 * Failed trials (failed) and/or cancelled ones (cancelled) back to 'queued' with
 * attempts 0; when any was re-queued, clears the sweep's cancelled flag.
 */
int store_sweep_retry(struct store *st, int64_t id, bool failed, bool cancelled, int64_t *changed,
                      struct err *e);

/*
 * Remove a sweep with its configurations, trials, results, epochs and Slurm
 * task rows (ON DELETE CASCADE), in one transaction: 0 or MLP_ENOT_FOUND.
 */
int store_sweep_delete(struct store *st, int64_t id, struct err *e);

/* Rows ------------------------------------------------------------------- */

/* A running trial (status): oldest first, at most max. */
struct store_running_row {
    int64_t id, sweep_id, config_idx, seed;
    const char *sweep_name, *executor;
    int attempt;
    double started; /* NaN when unset */
};
int store_running_each(struct store *st, int max,
                       int (*cb)(void *ud, const struct store_running_row *r), void *ud,
                       struct err *e);

struct store_config_row {
    int64_t idx;
    const char *params_json, *varying_json;
    int64_t pruned_epoch; /* the rung it was pruned at; 0 when not pruned */
};
/* Configurations of a sweep by idx (or only idx when only_idx > 0). */
int store_configs_each(struct store *st, int64_t sweep_id, int64_t only_idx,
                       int (*cb)(void *ud, const struct store_config_row *r), void *ud,
                       struct err *e);

struct store_trial_row {
    int64_t id, sweep_id, config_idx, seed;
    const char *state;
    int attempts;
    long pid;                          /* 0 when none */
    const char *error;                 /* NULL when none */
    double created, started, finished; /* NaN when unset */
    bool has_result;
    double v[MLP_M_N];
    const char *confusion; /* JSON text of the confusion matrix; NULL when none */
    const char *normalize; /* normalisation applied; NULL when not recorded */
    bool confirm;          /* a confirmation trial (012-racing.sql): not part of selection */
};
/*
 * Trials with their results (LEFT JOIN), by trial id: of a sweep (trial_id 0),
 * or the one trial trial_id (sweep_id ignored).  With done_only, only trials
 * with a result, ordered by config then trial id.  A callback returning non-zero
 * stops the walk and that value is returned.
 */
int store_trials_each(struct store *st, int64_t sweep_id, int64_t trial_id, bool done_only,
                      int (*cb)(void *ud, const struct store_trial_row *r), void *ud,
                      struct err *e);

struct store_epoch_row {
    int64_t trial_id, config_idx, seed, epoch;
    double v[MLP_M_N]; /* per-epoch metrics; NaN for the others */
    double lr;         /* learning rate of the epoch (004-trust.sql); NaN when not recorded */
};
/* Epoch rows of a sweep (trial_id 0) or of one trial, by trial then epoch. */
int store_epochs_each(struct store *st, int64_t sweep_id, int64_t trial_id,
                      int (*cb)(void *ud, const struct store_epoch_row *r), void *ud,
                      struct err *e);

/* The confusion matrices (JSON text) of a configuration's done trials, by trial id. */
struct store_confusion_row {
    int64_t trial_id, seed;
    const char *confusion;
};
int store_confusions_each(struct store *st, int64_t sweep_id, int64_t config_idx,
                          int (*cb)(void *ud, const struct store_confusion_row *r), void *ud,
                          struct err *e);
/*
 * A cursor over every trial (with its result, by id) or every epoch row (by
 * trial, epoch) of a sweep, read a slice at a time: each store_cursor_next
 * hands rows to cb (a struct store_trial_row or struct store_epoch_row
 * pointer) until cb returns 1 (stop after this row) or <0 (an error), or the
 * rows run out.  No read transaction is held between calls: each slice is
 * read in its own snapshot, resuming past the last row's key (trial id, then
 * epoch), so a row is handed out once at most and a trial added meanwhile
 * with a larger id is included.  Calls may come from different threads, never
 * two at once.  store_cursor_next returns 1 (stopped, more may follow), 0
 * (the end) or <0 with *e.  The cursor must be closed before its store.
 */
enum store_cursor_kind { STORE_CURSOR_TRIALS, STORE_CURSOR_EPOCHS };
struct store_cursor;
struct store_cursor *store_cursor_open(struct store *st, enum store_cursor_kind kind,
                                       int64_t sweep_id, struct err *e);
/*
 * A cursor over one page of a sweep's trials (STORE_CURSOR_TRIALS rows):
 * ordered by sort ("trial", "config", "seed", "state" or a metric name; NULL
 * = "trial"), descending when desc, trials without the value last, ties by
 * trial id; `limit` rows (<= 0: all) after skipping `offset`.  An unknown
 * sort key is MLP_EINVAL at "sort".  NULL with *e on failure.
 */
struct store_cursor *store_cursor_open_page(struct store *st, int64_t sweep_id, const char *sort,
                                            bool desc, int64_t offset, int64_t limit, struct err *e);
int store_cursor_next(struct store_cursor *c, int (*cb)(void *ud, const void *row), void *ud,
                      struct err *e);
void store_cursor_close(struct store_cursor *c);
/* End the connection's read transaction, if a statement left one open (resets every
 * statement still stepping): a reader between two chunks of a streamed answer pins no
 * WAL snapshot. */
void store_end_read(struct store *st);

/*
 * Configuration idx -> metric value of every done trial of a sweep, in config
 * order; configurations pruned (005-adaptive.sql) are left out, as from
 * store_config_means: they are not ranked.
 */
struct store_value_row {
    int64_t config_idx;
    double v[MLP_M_N];
};
int store_values_each(struct store *st, int64_t sweep_id,
                      int (*cb)(void *ud, const struct store_value_row *r), void *ud,
                      struct err *e);

#endif
