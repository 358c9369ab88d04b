/*
 * store_slurm — Slurm task rows.  See store_slurm.h.
 *
 * These statements run a few times per poll (seconds apart), not per epoch,
 * so they are prepared per call rather than kept open; a result is written by
 * store.c's own store__result_write (the statement local trials use), so both
 * executors record the same columns.  Transactions go through store_int.h.
 */
#include "store_slurm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_int.h"

#define CLAIM_NEXT_SQL                                                                             \
    "SELECT (SELECT t.id FROM trials t WHERE t.sweep_id = s.id AND t.state = 'queued' "            \
    "ORDER BY t.id LIMIT 1) AS tid FROM sweeps s WHERE s.paused = 0 AND s.cancelled = 0 "          \
    "AND s.executor = 'slurm' AND s.hidden = 0 AND (?1 = 0 OR s.id = ?1) "                      \
    "AND tid IS NOT NULL "                                                                         \
    "AND s.id NOT IN (SELECT value FROM json_each(coalesce(?2, '[]'))) "                           \
    "ORDER BY s.priority DESC, s.id LIMIT 1"

#define TASK_COLS                                                                                  \
    "k.trial_id, t.sweep_id, t.config_idx, t.seed, k.attempt, k.array_idx, k.job_id, k.batch, "    \
    "k.spool, k.state, k.submitted"

static int db_err(struct store *st, struct err *e, const char *what)
{
    return err_set(e, MLP_ESTORAGE, NULL, "%s: %s", what, sqlite3_errmsg(store__db(st)));
}

/* Prepare sql; NULL with *e filled. */
static sqlite3_stmt *prep(struct store *st, const char *sql, struct err *e)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(store__db(st), sql, -1, &s, NULL) != SQLITE_OK) {
        db_err(st, e, "prepare");
        sqlite3_finalize(s);
        return NULL;
    }
    return s;
}

/* Step a statement without rows to completion and finalize it: 0 or MLP_ESTORAGE. */
static int run(struct store *st, sqlite3_stmt *s, struct err *e, const char *what)
{
    if (!s)
        return e ? e->code : MLP_ESTORAGE;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    int ret = rc == SQLITE_DONE ? 0 : db_err(st, e, what);
    sqlite3_finalize(s);
    return ret;
}

static char *col_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return strdup(t ? (const char *)t : "");
}

void store_slurm_task_release(struct store_slurm_task *t)
{
    free(t->batch);
    free(t->spool);
    free(t->state);
    free(t->dataset_json);
    free(t->params_json);
    memset(t, 0, sizeof *t);
}

/* Fill a task from a row of TASK_COLS; 0 or MLP_ENOMEM. */
static int task_from_row(sqlite3_stmt *s, struct store_slurm_task *t, struct err *e)
{
    memset(t, 0, sizeof *t);
    t->trial_id = sqlite3_column_int64(s, 0);
    t->sweep_id = sqlite3_column_int64(s, 1);
    t->config_idx = sqlite3_column_int64(s, 2);
    t->seed = sqlite3_column_int64(s, 3);
    t->attempt = sqlite3_column_int(s, 4);
    t->array_idx = sqlite3_column_int(s, 5);
    t->job_id = sqlite3_column_int64(s, 6);
    t->batch = col_dup(s, 7);
    t->spool = col_dup(s, 8);
    t->state = col_dup(s, 9);
    t->submitted = sqlite3_column_double(s, 10);
    if (!t->batch || !t->spool || !t->state) {
        store_slurm_task_release(t);
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    }
    return 0;
}

int store_slurm_claim(struct store *st, int64_t only_sweep, const char *batch, int array_idx,
                      const char *spool, struct store_slurm_task *out, struct err *e)
{
    return store_slurm_claim_except(st, only_sweep, NULL, batch, array_idx, spool, out, e);
}

int store_slurm_claim_except(struct store *st, int64_t only_sweep, const char *skip,
                             const char *batch, int array_idx, const char *spool,
                             struct store_slurm_task *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (store__begin(st, false, e) < 0)
        return e->code;
    sqlite3_stmt *s = prep(st, CLAIM_NEXT_SQL, e);
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, only_sweep);
    if (skip)
        sqlite3_bind_text(s, 2, skip, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        out->trial_id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE) {
        store__rollback(st);
        return 0;
    }
    if (rc != SQLITE_ROW) {
        db_err(st, e, "next slurm trial");
        goto fail;
    }
    s = prep(st,
             "UPDATE trials SET state = 'running', attempts = attempts + 1, started = ?2, "
             "finished = NULL, pid = NULL WHERE id = ?1 AND state = 'queued' "
             "RETURNING attempts, sweep_id, config_idx, seed",
             e);
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, out->trial_id);
    sqlite3_bind_double(s, 2, store__now());
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->attempt = sqlite3_column_int(s, 0);
        out->sweep_id = sqlite3_column_int64(s, 1);
        out->config_idx = sqlite3_column_int64(s, 2);
        out->seed = sqlite3_column_int64(s, 3);
        while ((rc = sqlite3_step(s)) == SQLITE_ROW)
            ;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        db_err(st, e, "claim");
        goto fail;
    }
    s = prep(st,
             "SELECT s.dataset_json, c.params_json FROM sweeps s JOIN configs c "
             "ON c.sweep_id = s.id WHERE s.id = ?1 AND c.idx = ?2",
             e);
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, out->sweep_id);
    sqlite3_bind_int64(s, 2, out->config_idx);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->dataset_json = col_dup(s, 0);
        out->params_json = col_dup(s, 1);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW) {
        db_err(st, e, "trial spec");
        goto fail;
    }
    out->batch = strdup(batch);
    out->spool = strdup(spool);
    out->state = strdup("");
    if (!out->dataset_json || !out->params_json || !out->batch || !out->spool || !out->state) {
        err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    out->array_idx = array_idx;
    s = prep(st, "DELETE FROM epochs WHERE trial_id = ?1", e);
    if (s)
        sqlite3_bind_int64(s, 1, out->trial_id);
    if (run(st, s, e, "clear epochs") < 0)
        goto fail;
    s = prep(st,
             "INSERT OR REPLACE INTO slurm_tasks (trial_id, attempt, batch, array_idx, job_id, "
             "spool, state, submitted) VALUES (?1, ?2, ?3, ?4, NULL, ?5, NULL, ?6)",
             e);
    if (s) {
        sqlite3_bind_int64(s, 1, out->trial_id);
        sqlite3_bind_int(s, 2, out->attempt);
        sqlite3_bind_text(s, 3, batch, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 4, array_idx);
        sqlite3_bind_text(s, 5, spool, -1, SQLITE_STATIC);
        sqlite3_bind_double(s, 6, store__now());
    }
    if (run(st, s, e, "slurm task") < 0)
        goto fail;
    if (store__commit(st, e) < 0)
        goto fail;
    return 1;
fail:
    store__rollback(st);
    store_slurm_task_release(out);
    return e->code;
}

int store_slurm_set_job(struct store *st, const char *batch, int64_t job_id, struct err *e)
{
    /* FULL: after this a restart follows the job instead of looking it up by name. */
    store__sync(st, true);
    sqlite3_stmt *s = prep(st, "UPDATE slurm_tasks SET job_id = ?2 WHERE batch = ?1", e);
    if (s) {
        sqlite3_bind_text(s, 1, batch, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, job_id);
    }
    return run(st, s, e, "set job id");
}

/* Inside a transaction: the batch's trials back to 'queued' (or 'cancelled'), its rows gone. */
static int unsubmit_rows(struct store *st, const char *batch, const char *error, struct err *e)
{
    /* A trial of a sweep cancelled while sbatch ran ends cancelled, not queued again. */
    sqlite3_stmt *s = prep(st,
                           "UPDATE trials SET pid = NULL, error = ?2, "
                           "attempts = max(attempts - 1, 0), state = CASE WHEN (SELECT cancelled "
                           "FROM sweeps w WHERE w.id = trials.sweep_id) THEN 'cancelled' ELSE "
                           "'queued' END, finished = CASE WHEN (SELECT cancelled FROM sweeps w "
                           "WHERE w.id = trials.sweep_id) THEN ?3 END WHERE state = 'running' AND "
                           "id IN (SELECT trial_id FROM slurm_tasks k WHERE k.batch = ?1 AND "
                           "k.attempt = trials.attempts)",
                           e);
    if (s) {
        sqlite3_bind_text(s, 1, batch, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, error, -1, SQLITE_STATIC);
        sqlite3_bind_double(s, 3, store__now());
    }
    if (run(st, s, e, "unsubmit") < 0)
        return e->code;
    s = prep(st, "DELETE FROM slurm_tasks WHERE batch = ?1", e);
    if (s)
        sqlite3_bind_text(s, 1, batch, -1, SQLITE_STATIC);
    return run(st, s, e, "unsubmit");
}

/* Inside a transaction: the sweep's note replaces the one stored. */
static int block_write(struct store *st, const struct store_slurm_block *b, struct err *e)
{
    sqlite3_stmt *s = prep(st,
                           "INSERT OR REPLACE INTO slurm_blocked (sweep_id, failures, counted, "
                           "gave_up, message, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           e);
    if (s) {
        sqlite3_bind_int64(s, 1, b->sweep_id);
        sqlite3_bind_int(s, 2, b->failures);
        sqlite3_bind_int(s, 3, b->counted);
        sqlite3_bind_int(s, 4, b->gave_up);
        sqlite3_bind_text(s, 5, b->message, -1, SQLITE_STATIC);
        sqlite3_bind_double(s, 6, store__now());
    }
    return run(st, s, e, "blocked note");
}

/* Inside a transaction: every queued trial of the sweep becomes 'failed' with error. */
static int fail_queued(struct store *st, int64_t sweep_id, const char *error, int64_t *n,
                       struct err *e)
{
    sqlite3_stmt *s = prep(st,
                           "UPDATE trials SET state = 'failed', finished = ?2, error = ?3 "
                           "WHERE sweep_id = ?1 AND state = 'queued'",
                           e);
    if (s) {
        sqlite3_bind_int64(s, 1, sweep_id);
        sqlite3_bind_double(s, 2, store__now());
        sqlite3_bind_text(s, 3, error, -1, SQLITE_STATIC);
    }
    int rc = run(st, s, e, "fail queued");
    if (rc == 0 && n)
        *n = sqlite3_changes(store__db(st));
    return rc;
}

int store_slurm_unsubmit(struct store *st, const char *batch, const char *error, struct err *e)
{
    return store_slurm_refused(st, batch, error, NULL, NULL, NULL, e);
}

int store_slurm_refused(struct store *st, const char *batch, const char *error,
                        const struct store_slurm_block *b, const char *give_up, int64_t *n,
                        struct err *e)
{
    if (store__begin(st, true, e) < 0)
        return e->code;
    if (unsubmit_rows(st, batch, error, e) < 0 || (b && block_write(st, b, e) < 0) ||
        (b && give_up && fail_queued(st, b->sweep_id, give_up, n, e) < 0) ||
        store__commit(st, e) < 0) {
        store__rollback(st);
        return e->code;
    }
    return 0;
}

int store_slurm_block_clear(struct store *st, int64_t sweep_id, struct err *e)
{
    store__sync(st, true);
    sqlite3_stmt *s = prep(st, "DELETE FROM slurm_blocked WHERE sweep_id = ?1", e);
    if (s)
        sqlite3_bind_int64(s, 1, sweep_id);
    return run(st, s, e, "clear blocked note");
}

int store_slurm_blocks(struct store *st, int (*cb)(void *ud, const struct store_slurm_block *b),
                       void *ud, struct err *e)
{
    sqlite3_stmt *s = prep(st,
                           "SELECT b.sweep_id, b.failures, b.counted, b.gave_up, b.message FROM "
                           "slurm_blocked b JOIN sweeps w ON w.id = b.sweep_id WHERE "
                           "w.cancelled = 0 AND w.hidden = 0 ORDER BY b.sweep_id",
                           e);
    if (!s)
        return e->code;
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_slurm_block b = {.sweep_id = sqlite3_column_int64(s, 0),
                                      .failures = sqlite3_column_int(s, 1),
                                      .counted = sqlite3_column_int(s, 2) != 0,
                                      .gave_up = sqlite3_column_int(s, 3) != 0};
        const unsigned char *m = sqlite3_column_text(s, 4);
        snprintf(b.message, sizeof b.message, "%s", m ? (const char *)m : "");
        if ((ret = cb(ud, &b)) != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_err(st, e, "blocked notes");
    sqlite3_finalize(s);
    return ret;
}

int store_slurm_active(struct store *st, int (*cb)(void *ud, const struct store_slurm_task *t),
                       void *ud, struct err *e)
{
    sqlite3_stmt *s = prep(st,
                           "SELECT " TASK_COLS " FROM slurm_tasks k JOIN trials t ON "
                           "t.id = k.trial_id WHERE t.state = 'running' AND "
                           "t.attempts = k.attempt ORDER BY k.trial_id",
                           e);
    if (!s)
        return e->code;
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_slurm_task t;
        if ((ret = task_from_row(s, &t, e)) < 0)
            break;
        ret = cb(ud, &t);
        store_slurm_task_release(&t);
        if (ret != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_err(st, e, "slurm tasks");
    sqlite3_finalize(s);
    return ret;
}

int store_slurm_set_state(struct store *st, int64_t trial_id, const char *state, struct err *e)
{
    store__sync(st, false);
    sqlite3_stmt *s = prep(st, "UPDATE slurm_tasks SET state = ?2 WHERE trial_id = ?1", e);
    if (s) {
        sqlite3_bind_int64(s, 1, trial_id);
        sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
    }
    return run(st, s, e, "slurm state");
}

int store_slurm_done(struct store *st, int64_t trial_id, int attempt, const struct store_result *r,
                     struct err *e)
{
    if (store__begin(st, true, e) < 0)
        return e->code;
    sqlite3_stmt *s = prep(st,
                           "SELECT 1 FROM trials WHERE id = ?1 AND state = 'running' AND "
                           "attempts = ?2",
                           e);
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, trial_id);
    sqlite3_bind_int(s, 2, attempt);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE) {
        store__rollback(st);
        return 0;
    }
    if (rc != SQLITE_ROW) {
        db_err(st, e, "trial state");
        goto fail;
    }
    if (store__result_write(st, trial_id, attempt, r, e) < 0)
        goto fail;
    /* The task's last seen Slurm state may be PENDING or RUNNING when it ended
     * between two polls: its result says it completed. */
    s = prep(st, "UPDATE slurm_tasks SET state = 'COMPLETED' WHERE trial_id = ?1", e);
    if (s)
        sqlite3_bind_int64(s, 1, trial_id);
    if (run(st, s, e, "slurm state") < 0 || store__commit(st, e) < 0)
        goto fail;
    return 1;
fail:
    store__rollback(st);
    return e->code;
}

int store_slurm_executor(struct store *st, int64_t sweep_id, char *exec, size_t n, struct err *e)
{
    sqlite3_stmt *s = prep(st, "SELECT executor FROM sweeps WHERE id = ?1", e);
    if (!s)
        return e->code;
    sqlite3_bind_int64(s, 1, sweep_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(s, 0);
        snprintf(exec, n, "%s", t ? (const char *)t : "local");
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE)
        return err_set(e, MLP_ENOT_FOUND, "sweep", "no sweep %lld", (long long)sweep_id);
    return rc == SQLITE_ROW ? 0 : db_err(st, e, "executor");
}

int store_slurm_jobs(struct store *st, int64_t sweep_id, int64_t **ids, size_t *n, struct err *e)
{
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *s = prep(st,
                           "SELECT DISTINCT k.job_id FROM slurm_tasks k JOIN trials t ON "
                           "t.id = k.trial_id WHERE t.state = 'running' AND "
                           "t.attempts = k.attempt AND k.job_id IS NOT NULL AND "
                           "(?1 = 0 OR t.sweep_id = ?1) ORDER BY k.job_id",
                           e);
    if (!s)
        return e->code;
    sqlite3_bind_int64(s, 1, sweep_id);
    size_t cap = 0;
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            int64_t *p = realloc(*ids, cap * sizeof *p);
            if (!p) {
                ret = err_set(e, MLP_ENOMEM, NULL, "out of memory");
                break;
            }
            *ids = p;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(s, 0);
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_err(st, e, "slurm jobs");
    sqlite3_finalize(s);
    if (ret < 0) {
        free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return ret;
}

int store_slurm_trial(struct store *st, int64_t trial_id, struct store_slurm_task *out,
                      struct err *e)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = prep(st,
                           "SELECT " TASK_COLS " FROM slurm_tasks k JOIN trials t ON "
                           "t.id = k.trial_id WHERE k.trial_id = ?1",
                           e);
    if (!s)
        return e->code;
    sqlite3_bind_int64(s, 1, trial_id);
    int rc = sqlite3_step(s), ret = 0;
    if (rc == SQLITE_ROW)
        ret = task_from_row(s, out, e) < 0 ? e->code : 1;
    else if (rc != SQLITE_DONE)
        ret = db_err(st, e, "slurm task");
    sqlite3_finalize(s);
    return ret;
}
