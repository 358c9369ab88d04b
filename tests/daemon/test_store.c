/*
 * test_store — the store (daemon/store.c, daemon/store_slurm.c) on a real
 * SQLite file, without the daemon around it.
 *
 * What the daemon's answers rest on and no end-to-end run reaches on purpose:
 *   - ids are never reused, also after the newest sweep was deleted, across a
 *     reopen, and in a database migrated from schema 003;
 *   - a Slurm result is recorded exactly once, and only for the attempt the
 *     trial is running (a repeated or stale output file is ignored);
 *   - the per-configuration aggregates behind the sweep summary's "best" count
 *     the finite values of the metric (a configuration whose seeds all diverged
 *     has n = 0), and a zero-variance configuration has SE 0, not rounding
 *     noise;
 *   - those aggregates, kept by the triggers of 013-means.sql, stay equal (to
 *     the bit) to a GROUP BY over the results while results are stored,
 *     replaced, changed and deleted, leave confirmation results and pruned
 *     configurations out, go with a deleted sweep, and are filled in for a
 *     database migrated from before 013.
 * Expected values are fixed by hand from the rows each test writes.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "query.h"
#include "store.h"
#include "store_adapt.h"
#include "store_slurm.h"

extern const char *const schema_sql[];
extern const int schema_count;

static char tmpdir[] = "/tmp/test_store.XXXXXX";

static void path_of(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

static struct store *open_store(const char *name)
{
    char path[512];
    path_of(path, sizeof path, name);
    struct err e = ERR_INIT;
    struct store *st = store_open(path, &e);
    if (!st)
        fprintf(stderr, "store_open %s: %s\n", path, e.msg);
    CHECK(st != NULL);
    return st;
}

/* Submit a sweep of n_configs configurations x n_seeds seeds (executor "local" or "slurm"). */
static int64_t submit(struct store *st, const char *name, const char *executor, size_t n_configs,
                      size_t n_seeds)
{
    const char *params[8], *varying[8];
    char pbuf[8][64];
    int64_t seeds[8];
    for (size_t i = 0; i < n_configs; i++) {
        snprintf(pbuf[i], sizeof pbuf[i], "{\"lr\":%zu}", i + 1);
        params[i] = varying[i] = pbuf[i];
    }
    for (size_t k = 0; k < n_seeds; k++)
        seeds[k] = (int64_t)k + 1;
    struct store_new_sweep ns = {
        .name = name,
        .executor = executor,
        .grid_json = "{}",
        .dataset_json = "{\"name\":\"circles\"}",
        .keys_json = "[\"lr\"]",
        .metric = "val_loss",
        .maximize = false,
        .n_configs = n_configs,
        .params_json = params,
        .varying_json = varying,
        .n_seeds = n_seeds,
        .seeds = seeds,
    };
    int64_t id = 0;
    struct err e = ERR_INIT;
    CHECK_EQ_INT(store_submit(st, &ns, &id, &e), 0);
    return id;
}

/* Smallest and largest trial id of a sweep. */
struct id_range {
    int64_t lo, hi, n;
};
static int range_cb(void *ud, const struct store_trial_row *r)
{
    struct id_range *x = ud;
    if (x->n == 0 || r->id < x->lo)
        x->lo = r->id;
    if (x->n == 0 || r->id > x->hi)
        x->hi = r->id;
    x->n++;
    return 0;
}
static struct id_range trial_ids(struct store *st, int64_t sweep)
{
    struct id_range x = {0};
    struct err e = ERR_INIT;
    CHECK_EQ_INT(store_trials_each(st, sweep, 0, false, range_cb, &x, &e), 0);
    return x;
}

static void test_ids_never_reused(void)
{
    struct store *st = open_store("ids.db");
    struct err e = ERR_INIT;
    int64_t a = submit(st, NULL, NULL, 2, 2);
    int64_t b = submit(st, NULL, NULL, 2, 3);
    struct id_range rb = trial_ids(st, b);
    CHECK_EQ_INT(rb.n, 6);
    CHECK_EQ_INT(store_sweep_delete(st, b, &e), 0);
    int64_t c = submit(st, NULL, NULL, 1, 1);
    CHECK(c > b);
    struct id_range rc = trial_ids(st, c);
    CHECK_EQ_INT(rc.n, 1);
    CHECK(rc.lo > rb.hi);
    /* The default name follows the new id: no clash with the deleted sweep's. */
    struct store_sweep sw;
    CHECK_EQ_INT(store_sweep_get(st, c, &sw, &e), 0);
    char want[64];
    snprintf(want, sizeof want, "sweep-%lld", (long long)c);
    CHECK_EQ_STR(sw.name, want);
    store_sweep_release(&sw);
    /* Delete the newest again, then reopen: the high-water mark is on disk. */
    CHECK_EQ_INT(store_sweep_delete(st, c, &e), 0);
    store_close(st);
    st = open_store("ids.db");
    int64_t d = submit(st, NULL, NULL, 1, 2);
    CHECK(d > c);
    CHECK(trial_ids(st, d).lo > rc.hi);
    CHECK(a < b);
    store_close(st);
}

/* Rows a schema-003 mlpd wrote; exec'd with the 001..003 migrations' own SQL. */
static void test_migrate_from_003(void)
{
    char path[512];
    path_of(path, sizeof path, "v3.db");
    sqlite3 *db = NULL;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    CHECK(schema_count >= 4);
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(sqlite3_exec(db, schema_sql[i], NULL, NULL, &msg), SQLITE_OK);
    const char *rows =
        "PRAGMA user_version = 3;"
        "INSERT INTO sweeps (id, name, grid_json, dataset_json, keys_json, metric, maximize, "
        " created) VALUES (1, 'one', '{}', '{}', '[]', 'val_loss', 0, 1), "
        " (2, 'two', '{}', '{}', '[]', 'val_loss', 0, 2);"
        "INSERT INTO configs VALUES (1, 1, '{}', '{}'), (2, 1, '{}', '{}');"
        "INSERT INTO trials (id, sweep_id, config_idx, seed, state, created) VALUES "
        " (1, 1, 1, 1, 'done', 1), (2, 2, 1, 1, 'done', 2), (3, 2, 1, 2, 'queued', 2);"
        "INSERT INTO results (trial_id, sweep_id, config_idx, attempt, val_loss) VALUES "
        " (1, 1, 1, 1, 0.5), (2, 2, 1, 1, 0.25);"
        "INSERT INTO epochs (trial_id, attempt, epoch, val_loss) VALUES (1, 1, 1, 0.5), "
        " (2, 1, 1, 0.25);";
    CHECK_EQ_INT(sqlite3_exec(db, rows, NULL, NULL, &msg), SQLITE_OK);
    if (msg)
        fprintf(stderr, "%s\n", msg);
    sqlite3_free(msg);
    sqlite3_close(db);

    struct store *st = open_store("v3.db");
    if (!st)
        return;
    struct err e = ERR_INIT;
    struct store_sweep sw;
    CHECK_EQ_INT(store_sweep_get(st, 2, &sw, &e), 0);
    CHECK_EQ_STR(sw.name, "two");
    CHECK_EQ_INT(sw.c.total, 2);
    CHECK_EQ_INT(sw.c.done, 1);
    store_sweep_release(&sw);
    /* Foreign keys still cascade after the rebuild: deleting sweep 2 takes its rows. */
    CHECK_EQ_INT(store_sweep_delete(st, 2, &e), 0);
    int64_t c = submit(st, NULL, NULL, 1, 1);
    CHECK_EQ_INT(c, 3);
    CHECK_EQ_INT(trial_ids(st, c).lo, 4);
    CHECK_EQ_INT(trial_ids(st, 1).n, 1);
    store_close(st);

    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *s = NULL;
    sqlite3_prepare_v2(db,
                       "SELECT (SELECT count(*) FROM results), (SELECT count(*) FROM epochs), "
                       "(SELECT count(*) FROM configs), (SELECT count(*) FROM epochs WHERE lr "
                       "IS NULL)",
                       -1, &s, NULL);
    CHECK_EQ_INT(sqlite3_step(s), SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int(s, 0), 1); /* trial 1's; trial 2's went with sweep 2 */
    CHECK_EQ_INT(sqlite3_column_int(s, 1), 1);
    CHECK_EQ_INT(sqlite3_column_int(s, 2), 2); /* sweep 1's and the new sweep's */
    CHECK_EQ_INT(sqlite3_column_int(s, 3), 1); /* the new column, NULL for old rows */
    sqlite3_finalize(s);
    /* 013-means.sql filled the aggregate of sweep 1's result in. */
    sqlite3_prepare_v2(db, "SELECT rows, n, mean FROM config_means WHERE sweep_id = 1", -1, &s,
                       NULL);
    CHECK_EQ_INT(sqlite3_step(s), SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int(s, 0), 1);
    CHECK_EQ_INT(sqlite3_column_int(s, 1), 1);
    CHECK_NEAR(sqlite3_column_double(s, 2), 0.5, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static struct store_result result_of(double val_loss)
{
    struct store_result r = {0};
    for (int i = 0; i < MLP_M_N; i++)
        r.v[i] = NAN;
    r.v[MLP_M_VAL_LOSS] = val_loss;
    r.v[MLP_M_DIVERGED] = isfinite(val_loss) ? 0 : 1;
    return r;
}

struct trial_one {
    const char *state;
    char state_buf[16];
    int attempts;
    bool has_result;
    double val_loss;
};
static int one_cb(void *ud, const struct store_trial_row *r)
{
    struct trial_one *t = ud;
    snprintf(t->state_buf, sizeof t->state_buf, "%s", r->state);
    t->state = t->state_buf;
    t->attempts = r->attempts;
    t->has_result = r->has_result;
    t->val_loss = r->v[MLP_M_VAL_LOSS];
    return 0;
}
static struct trial_one trial_get(struct store *st, int64_t id)
{
    struct trial_one t = {0};
    struct err e = ERR_INIT;
    CHECK_EQ_INT(store_trials_each(st, 0, id, false, one_cb, &t, &e), 0);
    return t;
}

static void test_slurm_exactly_once(void)
{
    struct store *st = open_store("slurm.db");
    struct err e = ERR_INIT;
    int64_t sw = submit(st, NULL, "slurm", 1, 2);
    struct store_slurm_task t1, t2;
    CHECK_EQ_INT(store_slurm_claim(st, sw, "b1", 0, "/spool/b1", &t1, &e), 1);
    CHECK_EQ_INT(t1.attempt, 1);

    /* The first delivery is recorded; the same output read again is not. */
    struct store_result r = result_of(0.5);
    CHECK_EQ_INT(store_slurm_done(st, t1.trial_id, 1, &r, &e), 1);
    struct store_result again = result_of(0.75);
    CHECK_EQ_INT(store_slurm_done(st, t1.trial_id, 1, &again, &e), 0);
    struct trial_one got = trial_get(st, t1.trial_id);
    CHECK_EQ_STR(got.state, "done");
    CHECK_NEAR(got.val_loss, 0.5, 0);

    /* A stale attempt: the trial was re-queued (its task lost) and runs attempt 2. */
    CHECK_EQ_INT(store_slurm_claim(st, sw, "b2", 0, "/spool/b2", &t2, &e), 1);
    CHECK_EQ_INT(t2.attempt, 1);
    CHECK_EQ_INT(store_trial_requeue(st, t2.trial_id, true, "node failure", &e), 0);
    struct store_slurm_task t3;
    CHECK_EQ_INT(store_slurm_claim(st, sw, "b3", 0, "/spool/b3", &t3, &e), 1);
    CHECK_EQ_INT(t3.trial_id, t2.trial_id);
    CHECK_EQ_INT(t3.attempt, 2);
    struct store_result stale = result_of(9.0);
    CHECK_EQ_INT(store_slurm_done(st, t2.trial_id, 1, &stale, &e), 0);
    got = trial_get(st, t2.trial_id);
    CHECK_EQ_STR(got.state, "running");
    CHECK(!got.has_result);
    struct store_result fresh = result_of(0.25);
    CHECK_EQ_INT(store_slurm_done(st, t2.trial_id, 2, &fresh, &e), 1);
    got = trial_get(st, t2.trial_id);
    CHECK_EQ_STR(got.state, "done");
    CHECK_NEAR(got.val_loss, 0.25, 0);

    /* A result for a trial that is no longer running (cancelled) is not recorded. */
    int64_t sw2 = submit(st, NULL, "slurm", 1, 1);
    struct store_slurm_task t4;
    CHECK_EQ_INT(store_slurm_claim(st, sw2, "b4", 0, "/spool/b4", &t4, &e), 1);
    int64_t ncancel = 0;
    CHECK_EQ_INT(store_sweep_cancel(st, sw2, &ncancel, &e), 0);
    CHECK_EQ_INT(store_trial_cancelled(st, t4.trial_id, &e), 0);
    CHECK_EQ_INT(store_slurm_done(st, t4.trial_id, 1, &fresh, &e), 0);
    got = trial_get(st, t4.trial_id);
    CHECK_EQ_STR(got.state, "cancelled");
    CHECK(!got.has_result);

    /* A trial still stopping from a cancel that retry --cancelled undid goes back to the
     * queue, and the sweep is no longer cancelled. */
    int64_t sw3 = submit(st, NULL, "slurm", 1, 1);
    struct store_slurm_task t5;
    CHECK_EQ_INT(store_slurm_claim(st, sw3, "b5", 0, "/spool/b5", &t5, &e), 1);
    CHECK_EQ_INT(store_sweep_cancel(st, sw3, &ncancel, &e), 0);
    CHECK_EQ_INT(store_sweep_retry(st, sw3, false, true, &ncancel, &e), 0);
    CHECK_EQ_INT(store_trial_cancelled(st, t5.trial_id, &e), 0);
    got = trial_get(st, t5.trial_id);
    CHECK_EQ_STR(got.state, "queued");

    store_slurm_task_release(&t1);
    store_slurm_task_release(&t2);
    store_slurm_task_release(&t3);
    store_slurm_task_release(&t4);
    store_slurm_task_release(&t5);
    store_close(st);
}

struct means {
    struct store_mean_row row[8];
    int n;
};
static int means_cb(void *ud, const struct store_mean_row *r)
{
    struct means *m = ud;
    if (m->n < 8)
        m->row[m->n++] = *r;
    return 0;
}

/* Run every queued local trial of the store to 'done' with val_loss from vals (by claim order). */
static void finish_all(struct store *st, const double *vals, int n)
{
    struct err e = ERR_INIT;
    for (int i = 0; i < n; i++) {
        struct store_claim c;
        CHECK_EQ_INT(store_claim_next(st, &c, &e), 1);
        struct store_result r = result_of(vals[i]);
        CHECK_EQ_INT(store_trial_done(st, c.trial_id, c.attempt, &r, &e), 0);
        store_claim_release(&c);
    }
}

static void test_summary_with_diverged_seeds(void)
{
    struct store *st = open_store("means.db");
    struct err e = ERR_INIT;
    /* Seed-major claim order: (c1 s1) (c2 s1) (c3 s1) (c1 s2) ... */
    int64_t sw = submit(st, NULL, NULL, 3, 3);
    const double v[9] = {NAN, 0.4, 0.3, NAN, 0.5, 0.3, NAN, NAN, 0.3};
    finish_all(st, v, 9);
    struct means m = {0};
    CHECK_EQ_INT(store_config_means(st, sw, means_cb, &m, &e), 0);
    CHECK_EQ_INT(m.n, 3);
    /* Config 1: every seed diverged: 3 results, no finite value. */
    CHECK_EQ_INT(m.row[0].rows, 3);
    CHECK_EQ_INT(m.row[0].n, 0);
    CHECK(isnan(m.row[0].mean));
    /* Config 2: 0.4, 0.5 and one diverged seed. */
    CHECK_EQ_INT(m.row[1].rows, 3);
    CHECK_EQ_INT(m.row[1].n, 2);
    CHECK_NEAR(m.row[1].mean, 0.45, 1e-12);
    /* Config 3: 0.3 on every seed. */
    CHECK_EQ_INT(m.row[2].n, 3);

    /* The summary's best from these rows, as view.c builds it. */
    struct query_ranked r[3];
    for (int i = 0; i < 3; i++)
        query_ranked_from_moments(m.row[i].config_idx, m.row[i].rows, m.row[i].n, m.row[i].mean,
                                  m.row[i].sumsq, &r[i]);
    CHECK_EQ_INT(r[0].tier, 2);
    CHECK_EQ_INT(r[1].tier, 1);
    CHECK_EQ_INT(r[1].s.n_nonfinite, 1);
    CHECK_EQ_INT(r[2].tier, 0);
    const struct query_ranked *best = NULL;
    for (int i = 0; i < 3; i++)
        if (r[i].tier < 2 && (!best || query_better(&r[i], best, false)))
            best = &r[i];
    CHECK(best != NULL);
    if (best)
        CHECK_EQ_INT(best->idx, 3);
    /* Identical values on every seed: SE exactly 0 (0.3 is not exact in binary, so
       sumsq - n mean^2 leaves rounding noise unless the rule removes it). */
    CHECK_NEAR(r[2].s.se, 0, 0);
    CHECK_NEAR(r[2].s.sd, 0, 0);
    store_close(st);
}

/* The aggregate of config idx as the summary computed it before 013: a GROUP BY over results. */
struct agg {
    int64_t rows, n;
    double mean, sumsq;
};
static struct agg agg_direct(sqlite3 *db, int64_t sweep, int64_t idx)
{
    struct agg a = {0, 0, NAN, NAN};
    sqlite3_stmt *s = NULL;
    CHECK_EQ_INT(sqlite3_prepare_v2(db,
                                    "SELECT count(*), count(val_loss), avg(val_loss), "
                                    "sum(val_loss * val_loss) FROM results WHERE sweep_id = ?1 "
                                    "AND config_idx = ?2 AND confirm = 0 GROUP BY config_idx",
                                    -1, &s, NULL),
                 SQLITE_OK);
    sqlite3_bind_int64(s, 1, sweep);
    sqlite3_bind_int64(s, 2, idx);
    if (sqlite3_step(s) == SQLITE_ROW) {
        a.rows = sqlite3_column_int64(s, 0);
        a.n = sqlite3_column_int64(s, 1);
        if (sqlite3_column_type(s, 2) != SQLITE_NULL)
            a.mean = sqlite3_column_double(s, 2);
        if (sqlite3_column_type(s, 3) != SQLITE_NULL)
            a.sumsq = sqlite3_column_double(s, 3);
    }
    sqlite3_finalize(s);
    return a;
}

/* Every row store_config_means gives equals the direct aggregate; *n_out rows. */
static void means_match(struct store *st, sqlite3 *db, int64_t sweep, int *n_out)
{
    struct means m = {0};
    struct err e = ERR_INIT;
    CHECK_EQ_INT(store_config_means(st, sweep, means_cb, &m, &e), 0);
    for (int i = 0; i < m.n; i++) {
        struct agg a = agg_direct(db, sweep, m.row[i].config_idx);
        CHECK_EQ_INT(m.row[i].rows, a.rows);
        CHECK_EQ_INT(m.row[i].n, a.n);
        /* Bit for bit (both NaN when no value is finite). */
        CHECK(m.row[i].mean == a.mean || (isnan(m.row[i].mean) && isnan(a.mean)));
        CHECK(m.row[i].sumsq == a.sumsq || (isnan(m.row[i].sumsq) && isnan(a.sumsq)));
    }
    *n_out = m.n;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", sql, msg ? msg : "?");
    CHECK_EQ_INT(rc, SQLITE_OK);
    sqlite3_free(msg);
}

static void test_means_follow_results(void)
{
    struct store *st = open_store("follow.db");
    struct err e = ERR_INIT;
    int64_t sw = submit(st, NULL, NULL, 3, 4);
    /* Values that do not add up exactly in binary, in claim order (seed-major). */
    const double v[12] = {0.1, 0.7, 0.3, 0.2, NAN, 0.3, 0.3, 0.9, 0.3, 0.4, 0.6, 0.3};
    finish_all(st, v, 12);
    char path[512];
    path_of(path, sizeof path, "follow.db");
    sqlite3 *db = NULL;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    exec_ok(db, "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000");
    int n = 0;
    means_match(st, db, sw, &n);
    CHECK_EQ_INT(n, 3);
    struct agg c2 = agg_direct(db, sw, 2);
    CHECK_EQ_INT(c2.rows, 4);
    CHECK_EQ_INT(c2.n, 3); /* the NaN seed counts in rows only */

    char sql[512];
    /* A result changed in place, one deleted with its trial, one replaced (a rerun). */
    snprintf(sql, sizeof sql,
             "UPDATE results SET val_loss = 0.55 WHERE trial_id = (SELECT min(trial_id) FROM "
             "results WHERE sweep_id = %lld AND config_idx = 1);"
             "DELETE FROM trials WHERE id = (SELECT max(id) FROM trials WHERE sweep_id = %lld "
             "AND config_idx = 2);"
             "INSERT OR REPLACE INTO results (trial_id, sweep_id, config_idx, attempt, val_loss) "
             "SELECT id, sweep_id, config_idx, 2, 0.05 FROM trials WHERE id = (SELECT min(id) "
             "FROM trials WHERE sweep_id = %lld AND config_idx = 3)",
             (long long)sw, (long long)sw, (long long)sw);
    exec_ok(db, sql);
    means_match(st, db, sw, &n);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(agg_direct(db, sw, 2).rows, 3);
    CHECK_NEAR(agg_direct(db, sw, 3).mean, (0.05 + 0.3 + 0.3 + 0.3) / 4, 1e-12);

    /* A confirmation trial's result is not a selection result: nothing changes. */
    struct agg before = agg_direct(db, sw, 1);
    snprintf(sql, sizeof sql,
             "INSERT INTO trials (sweep_id, config_idx, seed, state, created, confirm) VALUES "
             "(%lld, 1, 99, 'done', 1, 1);"
             "INSERT INTO results (trial_id, sweep_id, config_idx, attempt, val_loss, confirm) "
             "VALUES (last_insert_rowid(), %lld, 1, 1, 5.0, 1)",
             (long long)sw, (long long)sw);
    exec_ok(db, sql);
    means_match(st, db, sw, &n);
    struct means m = {0};
    CHECK_EQ_INT(store_config_means(st, sw, means_cb, &m, &e), 0);
    CHECK_EQ_INT(m.row[0].rows, before.rows);
    CHECK(m.row[0].mean == before.mean);

    /* Every result of configuration 2 gone: it is not listed (no rows, as the GROUP BY). */
    snprintf(sql, sizeof sql, "DELETE FROM trials WHERE sweep_id = %lld AND config_idx = 2",
             (long long)sw);
    exec_ok(db, sql);
    means_match(st, db, sw, &n);
    CHECK_EQ_INT(n, 2);

    /* A pruned configuration is left out. */
    bool changed = false;
    CHECK_EQ_INT(store_config_prune(st, sw, 3, 1, &changed, &e), 0);
    CHECK(changed);
    memset(&m, 0, sizeof m);
    CHECK_EQ_INT(store_config_means(st, sw, means_cb, &m, &e), 0);
    CHECK_EQ_INT(m.n, 1);
    CHECK_EQ_INT(m.row[0].config_idx, 1);

    /* A deleted sweep takes its rows along. */
    CHECK_EQ_INT(store_sweep_delete(st, sw, &e), 0);
    sqlite3_stmt *s = NULL;
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT count(*) FROM config_means", -1, &s, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(sqlite3_step(s), SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int(s, 0), 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    store_close(st);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_ids_never_reused();
    test_migrate_from_003();
    test_slurm_exactly_once();
    test_summary_with_diverged_seeds();
    test_means_follow_results();
    const char *names[] = {"ids.db", "v3.db", "slurm.db", "means.db"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const char *sfx[] = {"", "-wal", "-shm"};
        for (int k = 0; k < 3; k++) {
            char p[600];
            snprintf(p, sizeof p, "%s/%s%s", tmpdir, names[i], sfx[k]);
            unlink(p);
        }
    }
    rmdir(tmpdir);
    return check_report();
}
