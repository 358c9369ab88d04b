/*
 * store_adapt — pruning rows.  See store_adapt.h.
 *
 * These run once per epoch event of a sweep that prunes (seconds apart per
 * worker), so they are prepared per call like store_slurm.c's; transactions
 * go through store_int.h.
 */
#include "store_adapt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "metric.h"
#include "store.h"
#include "store_int.h"

static int db_err(struct store *st, struct err *e, const char *what)
{
    return err_set(e, MLP_ESTORAGE, NULL, "%s: %s", what, sqlite3_errmsg(store__db(st)));
}

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

/* Step to completion and finalize: 0 or MLP_ESTORAGE. */
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

int store_config_prune(struct store *st, int64_t sweep_id, int64_t config_idx, int64_t epoch,
                       bool *changed, struct err *e)
{
    *changed = false;
    if (store__begin(st, true, e) < 0)
        return e->code;
    sqlite3_stmt *s = prep(st,
                           "UPDATE configs SET pruned_epoch = ?3 WHERE sweep_id = ?1 AND idx = ?2 "
                           "AND pruned_epoch IS NULL",
                           e);
    if (s) {
        sqlite3_bind_int64(s, 1, sweep_id);
        sqlite3_bind_int64(s, 2, config_idx);
        sqlite3_bind_int64(s, 3, epoch);
    }
    if (run(st, s, e, "prune config") < 0)
        goto fail;
    *changed = sqlite3_changes(store__db(st)) > 0;
    if (*changed) {
        s = prep(st,
                 "UPDATE trials SET state = 'pruned', finished = ?3, pid = NULL WHERE "
                 "sweep_id = ?1 AND config_idx = ?2 AND state = 'queued' AND confirm = 0",
                 e);
        if (s) {
            sqlite3_bind_int64(s, 1, sweep_id);
            sqlite3_bind_int64(s, 2, config_idx);
            sqlite3_bind_double(s, 3, store__now());
        }
        if (run(st, s, e, "prune queued trials") < 0)
            goto fail;
    }
    if (store__commit(st, e) < 0)
        goto fail;
    return 0;
fail:
    store__rollback(st);
    *changed = false;
    return e->code;
}

int store_trial_pruned(struct store *st, int64_t trial_id, struct err *e)
{
    store__sync(st, true);
    sqlite3_stmt *s =
        prep(st, "UPDATE trials SET state = 'pruned', finished = ?2, pid = NULL WHERE id = ?1", e);
    if (s) {
        sqlite3_bind_int64(s, 1, trial_id);
        sqlite3_bind_double(s, 2, store__now());
    }
    return run(st, s, e, "prune trial");
}

int store_config_pruned_epoch(struct store *st, int64_t sweep_id, int64_t config_idx,
                              int64_t *epoch, struct err *e)
{
    *epoch = 0;
    sqlite3_stmt *s =
        prep(st, "SELECT pruned_epoch FROM configs WHERE sweep_id = ?1 AND idx = ?2", e);
    if (!s)
        return e->code;
    sqlite3_bind_int64(s, 1, sweep_id);
    sqlite3_bind_int64(s, 2, config_idx);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        *epoch = sqlite3_column_int64(s, 0);
    int ret = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : db_err(st, e, "pruned epoch");
    sqlite3_finalize(s);
    return ret;
}

/* Steps s, a statement of (config_idx, seed, value) rows (NULL values as NaN),
 * through cb until it returns non-zero; finalizes s. */
static int each_seed_value(struct store *st, sqlite3_stmt *s,
                           int (*cb)(void *ud, int64_t config_idx, int64_t seed, double v),
                           void *ud, struct err *e, const char *what)
{
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        double v = sqlite3_column_type(s, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 2);
        if ((ret = cb(ud, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), v)) != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_err(st, e, what);
    sqlite3_finalize(s);
    return ret;
}

int store_config_open(struct store *st, int64_t sweep_id, int64_t config_idx, bool *open,
                      struct err *e)
{
    *open = false;
    sqlite3_stmt *s = prep(st,
                           "SELECT EXISTS (SELECT 1 FROM trials WHERE sweep_id = ?1 AND "
                           "config_idx = ?2 AND state IN ('queued', 'running') AND confirm = 0)",
                           e);
    if (!s)
        return e->code;
    sqlite3_bind_int64(s, 1, sweep_id);
    sqlite3_bind_int64(s, 2, config_idx);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *open = sqlite3_column_int(s, 0) != 0;
    int ret = rc == SQLITE_ROW ? 0 : db_err(st, e, "open config");
    sqlite3_finalize(s);
    return ret;
}

int store_rung_values(struct store *st, int64_t sweep_id, int64_t epoch, const char *metric,
                      int (*cb)(void *ud, int64_t config_idx, int64_t seed, double v), void *ud,
                      struct err *e)
{
    int m = metric_index(metric);
    if (m < 0 || !metric_info(m)->per_epoch)
        return err_set(e, MLP_EINVALID_REQUEST, "metric", "\"%s\" is not recorded per epoch",
                       metric);
    char sql[256];
    /* The column name comes from the metric table, never from a client. */
    snprintf(sql, sizeof sql,
             "SELECT t.config_idx, t.seed, e.%s FROM epochs e JOIN trials t ON t.id = e.trial_id "
             "WHERE t.sweep_id = ?1 AND e.epoch = ?2 AND t.confirm = 0",
             metric_name(m));
    sqlite3_stmt *s = prep(st, sql, e);
    if (!s)
        return e->code;
    sqlite3_bind_int64(s, 1, sweep_id);
    sqlite3_bind_int64(s, 2, epoch);
    return each_seed_value(st, s, cb, ud, e, "rung values");
}

int store_unpruned_epochs(struct store *st, int64_t sweep_id,
                          int (*cb)(void *ud, int64_t config_idx, int64_t epoch), void *ud,
                          struct err *e)
{
    sqlite3_stmt *s = prep(st,
                           "SELECT DISTINCT t.config_idx, e.epoch FROM epochs e JOIN trials t ON "
                           "t.id = e.trial_id JOIN configs c ON c.sweep_id = t.sweep_id AND "
                           "c.idx = t.config_idx WHERE t.sweep_id = ?1 AND c.pruned_epoch IS "
                           "NULL AND t.confirm = 0 ORDER BY e.epoch, t.config_idx",
                           e);
    if (!s)
        return e->code;
    sqlite3_bind_int64(s, 1, sweep_id);
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if ((ret = cb(ud, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1))) != 0)
            break;
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_err(st, e, "unpruned epochs");
    sqlite3_finalize(s);
    return ret;
}

int store_race_configs(struct store *st, int64_t sweep_id,
                       int (*cb)(void *ud, const struct store_race_config *c), void *ud,
                       struct err *e)
{
    sqlite3_stmt *s = prep(st,
                           "SELECT c.idx, c.pruned_epoch, c.race, count(t.id), "
                           "coalesce(sum(t.state IN ('queued', 'running')), 0), "
                           "(SELECT count(*) FROM trials u WHERE u.sweep_id = c.sweep_id AND "
                           "u.config_idx = c.idx AND u.confirm = 1) FROM configs c LEFT JOIN "
                           "trials t ON t.sweep_id = c.sweep_id AND t.config_idx = c.idx AND "
                           "t.confirm = 0 WHERE c.sweep_id = ?1 GROUP BY c.idx ORDER BY c.idx",
                           e);
    if (!s)
        return e->code;
    sqlite3_bind_int64(s, 1, sweep_id);
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_race_config c = {
            .config_idx = sqlite3_column_int64(s, 0),
            .pruned_epoch = sqlite3_column_int64(s, 1),
            .race = (const char *)sqlite3_column_text(s, 2),
            .trials = sqlite3_column_int64(s, 3),
            .open = sqlite3_column_int64(s, 4),
            .confirm = sqlite3_column_int64(s, 5),
        };
        if ((ret = cb(ud, &c)) != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_err(st, e, "race configs");
    sqlite3_finalize(s);
    return ret;
}

int store_race_values(struct store *st, int64_t sweep_id, const char *metric,
                      int (*cb)(void *ud, int64_t config_idx, int64_t seed, double v), void *ud,
                      struct err *e)
{
    int m = metric_index(metric);
    if (!metric_rankable(m))
        return err_set(e, MLP_EINVALID_REQUEST, "metric", "cannot rank on \"%s\"", metric);
    char sql[512];
    /* The column name comes from the metric table, never from a client. */
    snprintf(sql, sizeof sql,
             "SELECT r.config_idx, t.seed, r.%s FROM results r JOIN trials t ON t.id = "
             "r.trial_id WHERE r.sweep_id = ?1 AND r.confirm = 0 AND r.config_idx NOT IN "
             "(SELECT idx FROM configs WHERE sweep_id = ?1 AND pruned_epoch IS NOT NULL) "
             "ORDER BY r.config_idx, t.seed",
             metric_name(m));
    sqlite3_stmt *s = prep(st, sql, e);
    if (!s)
        return e->code;
    sqlite3_bind_int64(s, 1, sweep_id);
    return each_seed_value(st, s, cb, ud, e, "race values");
}

int store_race_add(struct store *st, int64_t sweep_id, size_t n, const int64_t *config_idx,
                   const int64_t *seeds, bool confirm, struct err *e)
{
    if (store__begin(st, true, e) < 0)
        return e->code;
    double now = store__now();
    for (size_t i = 0; i < n; i++) {
        /* A plain INSERT: 011-loop.sql's trigger counts it in sweep_counts. */
        sqlite3_stmt *s = prep(st,
                               "INSERT INTO trials (sweep_id, config_idx, seed, created, confirm) "
                               "SELECT ?1, ?2, ?3, ?4, ?5 FROM sweeps WHERE id = ?1 AND "
                               "cancelled = 0 AND hidden = 0",
                               e);
        if (s) {
            sqlite3_bind_int64(s, 1, sweep_id);
            sqlite3_bind_int64(s, 2, config_idx[i]);
            sqlite3_bind_int64(s, 3, seeds[i]);
            sqlite3_bind_double(s, 4, now);
            sqlite3_bind_int(s, 5, confirm);
        }
        if (run(st, s, e, "add trial") < 0)
            goto fail;
    }
    if (store__commit(st, e) < 0)
        goto fail;
    return 0;
fail:
    store__rollback(st);
    return e->code;
}

int store_config_race(struct store *st, int64_t sweep_id, int64_t config_idx, const char *why,
                      struct err *e)
{
    store__sync(st, false);
    sqlite3_stmt *s = prep(st,
                           "UPDATE configs SET race = ?3 WHERE sweep_id = ?1 AND idx = ?2 AND "
                           "race IS NOT ?3",
                           e);
    if (s) {
        sqlite3_bind_int64(s, 1, sweep_id);
        sqlite3_bind_int64(s, 2, config_idx);
        sqlite3_bind_text(s, 3, why, -1, SQLITE_STATIC);
    }
    return run(st, s, e, "race verdict");
}
