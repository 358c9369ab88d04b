/*
 * store — SQLite behind mlpd.  See store.h.
 *
 * Statements used on every trial (claim, epoch, done, fail, requeue) and by the
 * queries are prepared once in store_open() and reset after use; the table
 * `stmt_sql` below lists them with their SQL next to the enum.  Writes that
 * must be atomic (submit, claim, result + state) run inside BEGIN IMMEDIATE /
 * COMMIT, rolled back on any failure.  sqlite3_bind_double cannot store NaN
 * (SQLite turns it into NULL), which is exactly what we want for "no value".
 */
#include "clock.h"
#include "store.h"
#include "store_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "schema/schema.h"
#include "metric.h"
#include "trialwire.h"

#define STORE_APP_ID 1836150884 /* "mlpd"; set by 001-init.sql */

/*
 * Column lists generated from MLP_METRIC_MAP, each item with a leading ", ":
 * RESULT_COLS every metric (the results table), EPOCH_COLS the per-epoch ones
 * (the epochs table), and as many anonymous parameters ("?" numbers itself one
 * past the largest so far).
 */
#define STORE__IF0(x)
#define STORE__IF1(x) x
#define STORE__COL(id, nm, sp, kd, dr, ep) ", " nm
#define STORE__PARAM(id, nm, sp, kd, dr, ep) ", ?"
#define STORE__EPOCH_COL(id, nm, sp, kd, dr, ep) STORE__IF##ep(", " nm)
#define STORE__EPOCH_PARAM(id, nm, sp, kd, dr, ep) STORE__IF##ep(", ?")
#define RESULT_COLS MLP_METRIC_MAP(STORE__COL)
#define RESULT_PARAMS MLP_METRIC_MAP(STORE__PARAM)
#define EPOCH_COLS MLP_METRIC_MAP(STORE__EPOCH_COL)
#define EPOCH_PARAMS MLP_METRIC_MAP(STORE__EPOCH_PARAM)

/* A running trial not attached to a Slurm task of its current attempt (002-slurm.sql). */
#define STORE_NOT_IN_SLURM                                                                         \
    "NOT EXISTS (SELECT 1 FROM slurm_tasks k WHERE k.trial_id = trials.id "                        \
    "AND k.attempt = trials.attempts)"

/* The latest end of a sweep's trials in one state (an index probe). */
#define SWEEP_MAX_FINISHED(state)                                                                  \
    "SELECT max(finished) AS f FROM trials WHERE sweep_id = ?1 AND state = '" state "'"

/* A results row whose configuration was not pruned (005-adaptive.sql): rankings leave them out. */
#define STORE_NOT_PRUNED                                                                           \
    "config_idx NOT IN (SELECT idx FROM configs WHERE sweep_id = ?1 AND pruned_epoch IS NOT NULL)"

/* A results row that takes part in selection: not a confirmation trial's
 * (012-racing.sql), and its configuration not pruned. */
#define STORE_SELECTION "confirm = 0 AND " STORE_NOT_PRUNED
#define STMT_MAP(X)                                                                                \
    X(SYNC_FULL, "PRAGMA synchronous = FULL")                                                      \
    X(SYNC_NORMAL, "PRAGMA synchronous = NORMAL")                                                  \
    X(BEGIN, "BEGIN IMMEDIATE")                                                                    \
    X(COMMIT, "COMMIT")                                                                            \
    X(ROLLBACK, "ROLLBACK")                                                                        \
    X(SWEEP_INSERT, "INSERT INTO sweeps (name, grid_json, dataset_json, keys_json, metric, "       \
                    "maximize, priority, created, executor, hidden, trials_max) "                  \
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, coalesce(?9, 'local'), "              \
                    "coalesce(?10, 0), nullif(?11, 0))")                                           \
    X(SWEEP_NAME_DEFAULT, "UPDATE sweeps SET name = 'sweep-' || id WHERE id = ?1")                 \
    X(CONFIG_INSERT, "INSERT INTO configs (sweep_id, idx, params_json, varying_json) "             \
                     "VALUES (?1, ?2, ?3, ?4)")                                                    \
    X(TRIAL_INSERT, "INSERT INTO trials (sweep_id, config_idx, seed, created) "                    \
                    "VALUES (?1, ?2, ?3, ?4)")                                                     \
    X(SWEEP_GET, "SELECT id, name, metric, dataset_json, keys_json, grid_json, maximize, "         \
                 "paused, cancelled, priority, created, trials_max FROM sweeps "                   \
                 "WHERE id = ?1 AND hidden = 0")                                                   \
    /* Counts kept by the triggers of 011-loop.sql: a few rows, however many trials. */          \
    X(SWEEP_COUNTS, "SELECT state, n FROM sweep_counts WHERE sweep_id = ?1 AND n > 0")            \
    /* One index probe per ended state (trials_sweep_state), not a scan of the sweep. */         \
    X(SWEEP_FINISHED, "SELECT max(f) FROM (" SWEEP_MAX_FINISHED("done") " UNION ALL "              \
                      SWEEP_MAX_FINISHED("failed") " UNION ALL " SWEEP_MAX_FINISHED("cancelled")   \
                      " UNION ALL " SWEEP_MAX_FINISHED("pruned") ")")                              \
    X(SWEEP_AVG, "SELECT avg(finished - started) FROM trials WHERE sweep_id = ?1 "                 \
                 "AND state = 'done'")                                                             \
    X(SWEEP_BY_NAME, "SELECT id FROM sweeps WHERE name = ?1 AND hidden = 0")                       \
    X(SWEEP_BY_PREFIX, "SELECT id, name FROM sweeps WHERE substr(name, 1, length(?1)) = ?1 "       \
                       "AND hidden = 0 ORDER BY id LIMIT ?2")                                      \
    X(SWEEP_IDS, "SELECT id FROM sweeps WHERE hidden = 0 ORDER BY id DESC")                        \
    X(GLOBAL_COUNTS, "SELECT c.state, sum(c.n) FROM sweep_counts c JOIN sweeps s ON "              \
                     "s.id = c.sweep_id WHERE s.hidden = 0 GROUP BY c.state")                      \
    X(SWEEP_COUNT, "SELECT count(*) FROM sweeps WHERE hidden = 0")                                 \
    X(NEXT, "SELECT (SELECT t.id FROM trials t WHERE t.sweep_id = s.id AND "                       \
            "t.state = 'queued' ORDER BY t.id LIMIT 1) AS tid FROM sweeps s "                      \
            "WHERE s.paused = 0 AND s.cancelled = 0 AND s.hidden = 0 AND s.executor = 'local' "     \
            "AND tid IS NOT NULL "                                                                 \
            "ORDER BY s.priority DESC, s.id LIMIT 1")                                              \
    X(CLAIM, "UPDATE trials SET state = 'running', attempts = attempts + 1, "                      \
             "started = ?2, finished = NULL, pid = NULL WHERE id = ?1 AND state = 'queued' "       \
             "RETURNING attempts, sweep_id, config_idx, seed")                                     \
    X(CLAIM_SPEC, "SELECT s.dataset_json, c.params_json FROM sweeps s JOIN configs c "             \
                  "ON c.sweep_id = s.id WHERE s.id = ?1 AND c.idx = ?2")                           \
    X(EPOCHS_CLEAR, "DELETE FROM epochs WHERE trial_id = ?1")                                      \
    X(SET_PID, "UPDATE trials SET pid = ?2 WHERE id = ?1")                                         \
    X(EPOCH_ADD, "INSERT OR REPLACE INTO epochs (trial_id, attempt, epoch, lr" EPOCH_COLS          \
                 ") VALUES (?1, ?2, ?3, ?4" EPOCH_PARAMS ")")                                      \
    X(RESULT_ADD,                                                                                  \
      "INSERT OR REPLACE INTO results (trial_id, sweep_id, config_idx, attempt, confusion, "       \
      "normalize, confirm" RESULT_COLS ") SELECT id, sweep_id, config_idx, ?2, ?3, ?4, "           \
      "confirm" RESULT_PARAMS " FROM trials WHERE id = ?1")                                        \
    X(TRIAL_DONE, "UPDATE trials SET state = 'done', finished = ?2, pid = NULL, "                  \
                  "error = NULL WHERE id = ?1")                                                    \
    X(TRIAL_FAIL, "UPDATE trials SET state = 'failed', finished = ?2, pid = NULL, "                \
                  "error = ?3 WHERE id = ?1")                                                      \
    X(TRIAL_REQUEUE, "UPDATE trials SET state = 'queued', pid = NULL, error = ?3, "                \
                     "attempts = max(attempts - ?2, 0) WHERE id = ?1")                             \
    /* A trial stopped by a cancel that resume or retry --cancelled undid meanwhile goes back */ \
    /* to the queue (its attempt not counted) rather than ending cancelled in a live sweep. */    \
    X(TRIAL_CANCELLED,                                                                             \
      "UPDATE trials SET pid = NULL, state = CASE WHEN (SELECT cancelled FROM sweeps w WHERE "     \
      "w.id = trials.sweep_id) THEN 'cancelled' ELSE 'queued' END, finished = CASE WHEN (SELECT "  \
      "cancelled FROM sweeps w WHERE w.id = trials.sweep_id) THEN ?2 END, attempts = CASE WHEN "   \
      "(SELECT cancelled FROM sweeps w WHERE w.id = trials.sweep_id) THEN attempts ELSE "          \
      "max(attempts - 1, 0) END WHERE id = ?1")                                                    \
    X(RECOVER_FAIL,                                                                                \
      "UPDATE trials SET state = 'failed', finished = ?2, pid = NULL, "                            \
      "error = 'the daemon stopped while it was running (attempt ' || attempts || ')' "            \
      "WHERE state = 'running' AND attempts >= ?1 AND " STORE_NOT_IN_SLURM)                        \
    X(RECOVER_REQUEUE, "UPDATE trials SET state = 'queued', pid = NULL, "                          \
                       "error = 'the daemon stopped while it was running' WHERE state = "          \
                       "'running' AND " STORE_NOT_IN_SLURM)                                        \
    X(PAUSE, "UPDATE sweeps SET paused = ?2 WHERE id = ?1")                                        \
    X(COUNT_STATE, "SELECT count(*) FROM trials WHERE sweep_id = ?1 AND state = ?2")               \
    X(CANCEL_FLAG, "UPDATE sweeps SET cancelled = 1 WHERE id = ?1")                                \
    X(CANCEL_QUEUED, "UPDATE trials SET state = 'cancelled', finished = ?2 "                       \
                     "WHERE sweep_id = ?1 AND state = 'queued'")                                   \
    X(RETRY, "UPDATE trials SET state = 'queued', attempts = 0, error = NULL, "                    \
             "finished = NULL, started = NULL WHERE sweep_id = ?1 AND state = 'failed'")           \
    X(REQUEUE_CANCELLED, "UPDATE trials SET state = 'queued', attempts = 0, error = NULL, "        \
                         "finished = NULL, started = NULL WHERE sweep_id = ?1 AND "                \
                         "state = 'cancelled'")                                                    \
    X(UNCANCEL, "UPDATE sweeps SET cancelled = 0 WHERE id = ?1")                                   \
    X(SWEEP_DELETE, "DELETE FROM sweeps WHERE id = ?1")                                            \
    X(RUNNING, "SELECT t.id, t.sweep_id, s.name, t.config_idx, t.seed, t.attempts, t.started, "    \
               "s.executor FROM trials t JOIN sweeps s ON s.id = t.sweep_id "                      \
               "WHERE t.state = 'running' ORDER BY t.started, t.id LIMIT ?1")                      \
    X(CONFIGS,                                                                                     \
      "SELECT idx, params_json, varying_json, pruned_epoch FROM configs WHERE sweep_id = ?1 "      \
      "AND (?2 <= 0 OR idx = ?2) ORDER BY idx")                                                    \
    X(TRIALS_SWEEP,                                                                                \
      "SELECT t.id, t.sweep_id, t.config_idx, t.seed, t.state, t.attempts, "                       \
      "t.pid, t.error, t.created, t.started, t.finished, r.trial_id, r.confusion, "                \
      "r.normalize" RESULT_COLS ", t.confirm"                                                      \
      " FROM trials t LEFT JOIN results r ON r.trial_id = t.id WHERE t.sweep_id = ?1 "             \
      "ORDER BY t.id")                                                                             \
    X(TRIALS_DONE, "SELECT t.id, t.sweep_id, t.config_idx, t.seed, t.state, t.attempts, "          \
                   "t.pid, t.error, t.created, t.started, t.finished, r.trial_id, r.confusion, "   \
                   "r.normalize" RESULT_COLS ", t.confirm"                                         \
                   " FROM results r JOIN trials t ON r.trial_id = t.id WHERE r.sweep_id = ?1 "     \
                   "AND r.confirm = 0 ORDER BY r.config_idx, r.trial_id")                          \
    X(TRIAL_ONE, "SELECT t.id, t.sweep_id, t.config_idx, t.seed, t.state, t.attempts, "            \
                 "t.pid, t.error, t.created, t.started, t.finished, r.trial_id, r.confusion, "     \
                 "r.normalize" RESULT_COLS ", t.confirm"                                           \
                 " FROM trials t LEFT JOIN results r ON r.trial_id = t.id WHERE t.id = ?1")        \
    X(EPOCHS_SWEEP, "SELECT e.trial_id, t.config_idx, t.seed, e.epoch, e.lr" EPOCH_COLS            \
                    " FROM trials t JOIN epochs e ON e.trial_id = t.id WHERE t.sweep_id = ?1 "     \
                    "ORDER BY e.trial_id, e.epoch")                                                \
    X(EPOCHS_TRIAL, "SELECT e.trial_id, t.config_idx, t.seed, e.epoch, e.lr" EPOCH_COLS            \
                    " FROM trials t JOIN epochs e ON e.trial_id = t.id WHERE t.id = ?1 "           \
                    "ORDER BY e.epoch")                                                            \
    X(ACTIVE, "SELECT c.sweep_id FROM sweep_counts c JOIN sweeps s ON s.id = c.sweep_id "         \
              "WHERE s.hidden = 0 AND c.state IN ('queued', 'running') AND c.n > 0 "               \
              "GROUP BY c.sweep_id ORDER BY c.sweep_id")                                           \
    X(VALUES, "SELECT config_idx" RESULT_COLS " FROM results WHERE sweep_id = ?1 "                 \
              "AND " STORE_SELECTION " ORDER BY config_idx")                                       \
    /* The sweep summary's aggregates, kept by the triggers of 013-means.sql. */                   \
    X(MEANS, "SELECT config_idx, rows, n, mean, sumsq FROM config_means WHERE sweep_id = ?1 "     \
             "AND rows > 0 AND " STORE_NOT_PRUNED " ORDER BY config_idx")                          \
    X(CONFUSIONS, "SELECT r.trial_id, t.seed, r.confusion FROM results r JOIN trials t "           \
                  "ON t.id = r.trial_id WHERE r.sweep_id = ?1 AND r.config_idx = ?2 "              \
                  "AND r.confusion IS NOT NULL ORDER BY r.trial_id")

enum {
#define STMT_ENUM(name, sql) ST_##name,
    STMT_MAP(STMT_ENUM)
#undef STMT_ENUM
        ST_N
};

static const char *const stmt_sql[ST_N] = {
#define STMT_SQL(name, sql) sql,
    STMT_MAP(STMT_SQL)
#undef STMT_SQL
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *st[ST_N];       /* prepared at open, finalized at close */
    bool sync_full;               /* current PRAGMA synchronous */
};

int store_schema_version(void)
{
    return schema_version;
}

static int db_err(struct store *st, struct err *e, const char *what)
{
    return err_set(e, MLP_ESTORAGE, NULL, "%s: %s", what, sqlite3_errmsg(st->db));
}

static sqlite3_stmt *stmt(struct store *st, int which)
{
    sqlite3_stmt *s = st->st[which];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

/* stmt() with ?1 bound to an id (sweep or trial). */
static sqlite3_stmt *stmt_id(struct store *st, int which, int64_t id)
{
    sqlite3_stmt *s = stmt(st, which);
    sqlite3_bind_int64(s, 1, id);
    return s;
}

/* Step a statement that returns no rows; 0 or MLP_ESTORAGE. */
static int exec_stmt(struct store *st, sqlite3_stmt *s, struct err *e, const char *what)
{
    int rc = sqlite3_step(s);
    int ret = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : db_err(st, e, what);
    sqlite3_reset(s);
    return ret;
}

/* exec_stmt of statement `which` with ?1 = id and, when stamp, ?2 = now. */
static int exec_id(struct store *st, int which, int64_t id, bool stamp, struct err *e,
                   const char *what)
{
    sqlite3_stmt *s = stmt_id(st, which, id);
    if (stamp)
        sqlite3_bind_double(s, 2, now_s());
    return exec_stmt(st, s, e, what);
}

/*
 * Durability per write.  Results, failures and queue changes commit with
 * synchronous=FULL (the WAL is fsynced at commit, and with it every frame
 * before).  Claims, pids and epoch rows commit with NORMAL: after a power loss
 * they may be missing, which only means the trial runs again — and the next
 * FULL commit makes them durable too.  This halves the fsyncs per trial.
 */
static void sync_mode(struct store *st, bool full)
{
    if (st->sync_full != full && sqlite3_get_autocommit(st->db)) {
        exec_stmt(st, stmt(st, full ? ST_SYNC_FULL : ST_SYNC_NORMAL), NULL, "synchronous");
        st->sync_full = full;
    }
}

static int begin(struct store *st, struct err *e)
{
    sync_mode(st, true);
    return exec_stmt(st, stmt(st, ST_BEGIN), e, "begin");
}

static int begin_light(struct store *st, struct err *e)
{
    sync_mode(st, false);
    return exec_stmt(st, stmt(st, ST_BEGIN), e, "begin");
}

static int commit(struct store *st, struct err *e)
{
    return exec_stmt(st, stmt(st, ST_COMMIT), e, "commit");
}

static void rollback(struct store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        exec_stmt(st, stmt(st, ST_ROLLBACK), NULL, "rollback");
}

static double col_double(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN : sqlite3_column_double(s, i);
}

static char *col_strdup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return strdup(t ? (const char *)t : "");
}

/* Step a one-row query and read column 0 into *v (0 when no row); 0 or MLP_ESTORAGE. */
static int step_int64(struct store *st, sqlite3_stmt *s, int64_t *v, struct err *e,
                      const char *what)
{
    int rc = sqlite3_step(s);
    *v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : db_err(st, e, what);
}

/*
 * The end of a row loop of the *_each functions: a step error unless the
 * callback stopped it (ret != 0); the statement is reset.  Returns the result.
 */
static int each_end(struct store *st, sqlite3_stmt *s, int rc, int ret, struct err *e,
                    const char *what)
{
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_err(st, e, what);
    sqlite3_reset(s);
    return ret;
}

/* A single integer from a one-off query at open time; -1 on error. */
static long long pragma_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/*
 * PRAGMA quick_check: a damaged file (bytes overwritten mid-file) opens and
 * answers its first pages fine, then fails queries with "malformed" later, so
 * it is checked as a whole before mlpd starts on it.  O(file size): run at
 * start only.  0, or MLP_ESTORAGE with what SQLite found and how to recover.
 */
static int quick_check(sqlite3 *db, const char *path, struct err *e)
{
    sqlite3_stmt *q = NULL;
    char found[512] = "";
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(5)", -1, &q, NULL);
    size_t used = 0;
    while (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        if (t && strcmp(t, "ok") != 0 && used + 4 < sizeof found)
            used +=
                (size_t)snprintf(found + used, sizeof found - used, "%s%s", used ? "; " : "", t);
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE && !found[0])
        snprintf(found, sizeof found, "%s", sqlite3_errmsg(db));
    for (char *p = found; *p; p++) /* one line in the log and on the terminal */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    sqlite3_finalize(q);
    if (!found[0])
        return 0;
    return err_set(e, MLP_ESTORAGE, path,
                   "%s: the database is damaged (quick_check: %.300s); mlpd will not start on "
                   "it. Stop here and keep a copy; recover what is readable with: sqlite3 %s "
                   "\".recover\" | sqlite3 recovered.db, then check it (mlpd --check "
                   "--state_dir DIR) and put it in place of mlpd.db",
                   path, found, path);
}

int store_check(const char *path, struct err *e)
{
    sqlite3 *db = NULL;
    int rc = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK)
        rc =
            err_set(e, MLP_ESTORAGE, path, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
    else
        rc = quick_check(db, path, e);
    sqlite3_close(db);
    return rc;
}

static int migrate(sqlite3 *db, const char *path, struct err *e)
{
    long long ver = pragma_int(db, "PRAGMA user_version");
    long long app = pragma_int(db, "PRAGMA application_id");
    long long tables = pragma_int(db, "SELECT count(*) FROM sqlite_master");
    if (ver < 0 || app < 0 || tables < 0)
        return err_set(e, MLP_ESTORAGE, path, "%s: not a readable SQLite database: %s", path,
                       sqlite3_errmsg(db));
    if ((ver == 0 && tables > 0) || (ver > 0 && app != STORE_APP_ID))
        return err_set(e, MLP_ESTORAGE, path,
                       "%s: not an mlpd database (foreign tables or application id); "
                       "left untouched",
                       path);
    if (ver > schema_version)
        return err_set(e, MLP_ESTORAGE, path,
                       "%s: schema version %lld is newer than this mlpd (%d); "
                       "use a newer mlpd or another state dir",
                       path, ver, schema_version);
    if (tables > 0 && quick_check(db, path, e) < 0)
        return e->code;
    /* WAL and durability settings change the file header: only for our own files. */
    char *msg = NULL;
    if (sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;", NULL, NULL,
                     &msg) != SQLITE_OK)
        goto fail;
    /*
     * Which migrations this database has: the rows of schema_applied, or, for
     * a database from before that table, every number up to its user_version
     * (migrations were then applied without gaps).
     */
    bool *have = calloc((size_t)schema_count, sizeof *have);
    if (!have)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    bool table = pragma_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                "name = 'schema_applied'") == 1;
    int missing = 0;
    for (int i = 0; i < schema_count; i++) {
        char q[96];
        snprintf(q, sizeof q, "SELECT count(*) FROM schema_applied WHERE number = %d",
                 schema_numbers[i]);
        have[i] = table ? pragma_int(db, q) == 1 : schema_numbers[i] <= ver;
        missing += !have[i];
    }
    if (table && missing == 0 && ver == schema_version) {
        free(have);
        goto foreign_keys;
    }
    /*
     * Migrations run with foreign keys off, so one may rebuild a parent table
     * (create the new table, copy, drop the old one, rename: SQLite's "12
     * steps") without the drop cascading into its children; the keys are
     * checked before the commit instead.  The pragma is a no-op inside a
     * transaction, hence before BEGIN.
     */
    if (sqlite3_exec(db, "PRAGMA foreign_keys = OFF; BEGIN IMMEDIATE", NULL, NULL, &msg) !=
        SQLITE_OK) {
        free(have);
        goto fail;
    }
    if (!table && sqlite3_exec(db,
                               "CREATE TABLE schema_applied (number INTEGER PRIMARY KEY, "
                               "name TEXT NOT NULL, applied REAL NOT NULL)",
                               NULL, NULL, &msg) != SQLITE_OK) {
        free(have);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        goto fail;
    }
    for (int i = 0; i < schema_count; i++) {
        char rec[160];
        snprintf(rec, sizeof rec, "INSERT OR IGNORE INTO schema_applied VALUES (%d, '%s', %.3f)",
                 schema_numbers[i], schema_names[i], now_s());
        if ((!have[i] && sqlite3_exec(db, schema_sql[i], NULL, NULL, &msg) != SQLITE_OK) ||
            ((!have[i] || !table) && sqlite3_exec(db, rec, NULL, NULL, &msg) != SQLITE_OK)) {
            char m[512];
            snprintf(m, sizeof m, "%s: %s", schema_names[i], msg ? msg : "?");
            sqlite3_free(msg);
            free(have);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return err_set(e, MLP_ESTORAGE, path, "migration failed: %s", m);
        }
    }
    free(have);
    if (pragma_int(db, "SELECT count(*) FROM pragma_foreign_key_check") != 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return err_set(e, MLP_ESTORAGE, path,
                       "migration failed: rows whose foreign keys point nowhere; left untouched");
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", schema_version);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        goto fail;
    }
foreign_keys:
    if (sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    return 0;
fail:
    err_set(e, MLP_ESTORAGE, path, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return e ? e->code : MLP_ESTORAGE;
}

/*
 * The database holds every user's hyperparameters and results: make it and
 * its -wal/-shm files 0600 whatever the umask or the state dir's mode.  The
 * main file is created here (SQLite would create it 0644 & ~umask) and an
 * existing one is chmod'ed; SQLite gives the -wal and -shm files it creates
 * the main file's mode, and existing ones are chmod'ed too.  Returns 0 or
 * MLP_ESTORAGE.
 */
static int private_files(const char *path, struct err *e)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || fchmod(fd, 0600) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return err_set(e, MLP_ESTORAGE, path, "%s: %s", path, strerror(err));
    }
    close(fd);
    const char *suffix[] = {"-wal", "-shm"};
    for (int i = 0; i < 2; i++) {
        char side[4096];
        snprintf(side, sizeof side, "%s%s", path, suffix[i]);
        if (chmod(side, 0600) != 0 && errno != ENOENT)
            return err_set(e, MLP_ESTORAGE, side, "%s: %s", side, strerror(errno));
    }
    return 0;
}

/* Open the database file with `flags`, migrate it when writable, prepare every statement. */
static struct store *open_db(const char *path, int flags, bool writer, struct err *e)
{
    struct store *st = calloc(1, sizeof *st);
    if (!st) {
        err_set(e, MLP_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    if (writer && strcmp(path, ":memory:") != 0 && private_files(path, e) < 0)
        goto fail;
    if (sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
        err_set(e, MLP_ESTORAGE, path, "%s: %s", path,
                st->db ? sqlite3_errmsg(st->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(st->db, 5000);
    st->sync_full = true; /* migrate() sets FULL; a reader never writes */
    if (writer && migrate(st->db, path, e) < 0)
        goto fail;
    for (int i = 0; i < ST_N; i++) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->st[i],
                               NULL) != SQLITE_OK) {
            err_set(e, MLP_ESTORAGE, path, "prepare %d: %s", i, sqlite3_errmsg(st->db));
            goto fail;
        }
    }
    return st;
fail:
    store_close(st);
    return NULL;
}

struct store *store_open(const char *path, struct err *e)
{
    return open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, true, e);
}

struct store *store_open_reader(const char *path, struct err *e)
{
    return open_db(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, false, e);
}

struct store *store_open_bulk(const char *path, struct err *e)
{
    struct store *st = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, false, e);
    if (st && sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK) {
        db_err(st, e, "foreign keys");
        store_close(st);
        return NULL;
    }
    return st;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    for (int i = 0; i < ST_N; i++)
        sqlite3_finalize(st->st[i]);
    sqlite3_close(st->db);
    free(st);
}

int store_recover(struct store *st, int max_attempts, int64_t *requeued, int64_t *failed,
                  struct err *e)
{
    *requeued = *failed = 0;
    if (begin(st, e) < 0)
        return e->code;
    sqlite3_stmt *s = stmt(st, ST_RECOVER_FAIL);
    sqlite3_bind_int(s, 1, max_attempts);
    sqlite3_bind_double(s, 2, now_s());
    if (exec_stmt(st, s, e, "recover") < 0)
        goto fail;
    *failed = sqlite3_changes(st->db);
    if (exec_stmt(st, stmt(st, ST_RECOVER_REQUEUE), e, "recover") < 0)
        goto fail;
    *requeued = sqlite3_changes(st->db);
    if (commit(st, e) < 0)
        goto fail;
    return 0;
fail:
    rollback(st);
    return e->code;
}

/* Inside a transaction: the sweep row of ns (hidden: 011-loop.sql), named. */
static int sweep_row(struct store *st, const struct store_new_sweep *ns, int hidden, double now,
                     int64_t *id, struct err *e)
{
    sqlite3_stmt *s = stmt(st, ST_SWEEP_INSERT);
    if (ns->name)
        sqlite3_bind_text(s, 1, ns->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, ns->grid_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, ns->dataset_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, ns->keys_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, ns->metric, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 6, ns->maximize);
    sqlite3_bind_int64(s, 7, ns->priority);
    sqlite3_bind_double(s, 8, now);
    if (ns->executor)
        sqlite3_bind_text(s, 9, ns->executor, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 10, hidden);
    sqlite3_bind_int64(s, 11, ns->trials_max);
int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_CONSTRAINT)
        return err_set(e, MLP_ECONFLICT, "name", "a sweep named \"%s\" already exists",
                       ns->name ? ns->name : "");
    if (rc != SQLITE_DONE)
        return db_err(st, e, "insert sweep");
    *id = sqlite3_last_insert_rowid(st->db);
    if (!ns->name) {
        s = stmt_id(st, ST_SWEEP_NAME_DEFAULT, *id);
        rc = sqlite3_step(s);
        sqlite3_reset(s);
        if (rc == SQLITE_CONSTRAINT)
            return err_set(e, MLP_ECONFLICT, "name",
                           "the default name \"sweep-%lld\" is taken; "
                           "give the sweep a name",
                           (long long)*id);
        if (rc != SQLITE_DONE)
            return db_err(st, e, "name sweep");
    }
    return 0;
}

int store_submit(struct store *st, const struct store_new_sweep *ns, int64_t *id, struct err *e)
{
    double now = now_s();
    if (begin(st, e) < 0)
        return e->code;
    if (sweep_row(st, ns, 0, now, id, e) < 0)
        goto fail;
    sqlite3_stmt *s = stmt_id(st, ST_CONFIG_INSERT, *id);
    for (size_t i = 0; i < ns->n_configs; i++) {
        sqlite3_bind_int64(s, 2, (int64_t)i + 1);
        sqlite3_bind_text(s, 3, ns->params_json[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, ns->varying_json[i], -1, SQLITE_STATIC);
        if (exec_stmt(st, s, e, "insert config") < 0)
            goto fail;
    }
    s = stmt_id(st, ST_TRIAL_INSERT, *id);
    sqlite3_bind_double(s, 4, now);
    /* Seed-major (every configuration's seed 1 first) or, for pruning, config-major. */
    size_t outer = ns->config_major ? ns->n_configs : ns->n_seeds;
    size_t inner = ns->config_major ? ns->n_seeds : ns->n_configs;
    for (size_t k = 0; k < outer; k++) {
        for (size_t i = 0; i < inner; i++) {
            size_t c = ns->config_major ? k : i, sd = ns->config_major ? i : k;
            sqlite3_bind_int64(s, 2, (int64_t)c + 1);
            sqlite3_bind_int64(s, 3, ns->seeds[sd]);
            if (exec_stmt(st, s, e, "insert trial") < 0)
                goto fail;
        }
    }
    if (commit(st, e) < 0)
        goto fail;
    return 0;
fail:
    rollback(st);
    return e->code;
}

/* Bulk inserts and removals (store.h: "Large sweeps") ------------------------------ */

int store_bulk_open(struct store *st, const struct store_new_sweep *ns, int64_t *id,
                    struct err *e)
{
    if (begin(st, e) < 0)
        return e->code;
    if (sweep_row(st, ns, STORE_HIDDEN_INSERTING, now_s(), id, e) < 0 || commit(st, e) < 0) {
        rollback(st);
        return e->code;
    }
    return 0;
}

int store_bulk_configs(struct store *st, int64_t id, size_t first, size_t n,
                       const char *const *params_json, const char *const *varying_json,
                       struct err *e)
{
    if (begin_light(st, e) < 0)
        return e->code;
    sqlite3_stmt *s = stmt_id(st, ST_CONFIG_INSERT, id);
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(s, 2, (int64_t)(first + i) + 1);
        sqlite3_bind_text(s, 3, params_json[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, varying_json[i], -1, SQLITE_STATIC);
        if (exec_stmt(st, s, e, "insert config") < 0)
            goto fail;
    }
    if (commit(st, e) < 0)
        goto fail;
    return 0;
fail:
    rollback(st);
    return e->code;
}

int store_bulk_trials(struct store *st, int64_t id, size_t n, const int64_t *config_idx,
                      const int64_t *seeds, struct err *e)
{
    if (begin_light(st, e) < 0)
        return e->code;
    sqlite3_stmt *s = stmt_id(st, ST_TRIAL_INSERT, id);
    sqlite3_bind_double(s, 4, now_s());
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(s, 2, config_idx[i]);
        sqlite3_bind_int64(s, 3, seeds[i]);
        if (exec_stmt(st, s, e, "insert trial") < 0)
            goto fail;
    }
    if (commit(st, e) < 0)
        goto fail;
    return 0;
fail:
    rollback(st);
    return e->code;
}

/* One statement with ?1 = id (and ?2 = n when n > 0), stepped to its end: 0 or MLP_ESTORAGE. */
static int bulk_exec(struct store *st, const char *sql, int64_t id, int64_t n, int64_t *changes,
                     struct err *e)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return db_err(st, e, "prepare");
    sqlite3_bind_int64(s, 1, id);
    if (n > 0)
        sqlite3_bind_int64(s, 2, n);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return db_err(st, e, "bulk");
    if (changes)
        *changes = sqlite3_changes(st->db);
    return 0;
}

int store_bulk_close(struct store *st, int64_t id, struct err *e)
{
    int64_t changed = 0;
    if (begin(st, e) < 0)
        return e->code;
    if (bulk_exec(st, "UPDATE sweeps SET hidden = 0 WHERE id = ?1 AND hidden = 1", id, 0, &changed,
                  e) < 0)
        goto fail;
    if (changed != 1) {
        err_set(e, MLP_ENOT_FOUND, "sweep", "sweep %lld vanished while it was stored",
                (long long)id);
        goto fail;
    }
    if (commit(st, e) < 0)
        goto fail;
    return 0;
fail:
    rollback(st);
    return e->code;
}

int store_sweep_hide(struct store *st, int64_t id, struct err *e)
{
    int64_t changed = 0;
    sync_mode(st, true);
    if (bulk_exec(st,
                  "UPDATE sweeps SET hidden = 2, name = NULL, paused = 1 WHERE id = ?1 AND "
                  "hidden = 0",
                  id, 0, &changed, e) < 0)
        return e->code;
    if (changed == 0)
        return err_set(e, MLP_ENOT_FOUND, "sweep", "no sweep %lld", (long long)id);
    return 0;
}

int store_purge_step(struct store *st, int64_t id, size_t max, int64_t *trial_ids, size_t *n,
                     bool *done, struct err *e)
{
    *n = 0;
    *done = false;
    if (begin_light(st, e) < 0)
        return e->code;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT id FROM trials WHERE sweep_id = ?1 LIMIT ?2", -1, &s,
                           NULL) != SQLITE_OK) {
        db_err(st, e, "prepare");
        goto fail;
    }
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, (int64_t)max);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max)
        trial_ids[(*n)++] = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        db_err(st, e, "purge");
        goto fail;
    }
    int64_t changed = 0;
    if (*n > 0) {
        if (bulk_exec(st,
                      "DELETE FROM trials WHERE id IN (SELECT id FROM trials WHERE sweep_id = ?1 "
                      "LIMIT ?2)",
                      id, (int64_t)max, NULL, e) < 0)
            goto fail;
    } else {
        if (bulk_exec(st,
                      "DELETE FROM configs WHERE sweep_id = ?1 AND idx IN (SELECT idx FROM "
                      "configs WHERE sweep_id = ?1 LIMIT ?2)",
                      id, (int64_t)max, &changed, e) < 0)
            goto fail;
        if (changed == 0) {
            if (bulk_exec(st, "DELETE FROM sweeps WHERE id = ?1", id, 0, NULL, e) < 0)
                goto fail;
            *done = true;
        }
    }
    if (commit(st, e) < 0)
        goto fail;
    return 0;
fail:
    rollback(st);
    return e->code;
}

int store_hidden_sweeps(struct store *st, int64_t **ids, size_t *n, struct err *e)
{
    size_t cap = 0;
    *ids = NULL;
    *n = 0;
    /* One cut short while inserted was never shown: it is deleted, its name free. */
    sync_mode(st, true);
    if (bulk_exec(st, "UPDATE sweeps SET hidden = 2, name = NULL WHERE hidden = 1 AND ?1 = ?1", 0,
                  0, NULL, e) < 0)
        return e->code;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT id FROM sweeps WHERE hidden != 0 ORDER BY id", -1, &s,
                           NULL) != SQLITE_OK)
        return db_err(st, e, "prepare");
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            int64_t *p = realloc(*ids, cap * sizeof *p);
            if (!p) {
                sqlite3_finalize(s);
                free(*ids);
                *ids = NULL;
                return err_set(e, MLP_ENOMEM, NULL, "out of memory");
            }
            *ids = p;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        free(*ids);
        *ids = NULL;
        return db_err(st, e, "hidden sweeps");
    }
    return 0;
}

void store_sweep_release(struct store_sweep *s)
{
    free(s->name);
    free(s->metric);
    free(s->dataset_json);
    free(s->keys_json);
    free(s->grid_json);
    memset(s, 0, sizeof *s);
}

/*
 * Counts from the (state, count) rows of s, which is reset after; finished and
 * avg_seconds are NaN.  0 or MLP_ESTORAGE.
 */
static int counts_from_rows(struct store *st, sqlite3_stmt *s, struct store_counts *c,
                            struct err *e)
{
    memset(c, 0, sizeof *c);
    c->finished = NAN;
    c->avg_seconds = NAN;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *state = (const char *)sqlite3_column_text(s, 0);
        int64_t n = sqlite3_column_int64(s, 1);
        c->total += n;
        if (!state)
            continue;
        if (strcmp(state, "queued") == 0)
            c->queued = n;
        else if (strcmp(state, "running") == 0)
            c->running = n;
        else if (strcmp(state, "done") == 0)
            c->done = n;
        else if (strcmp(state, "failed") == 0)
            c->failed = n;
        else if (strcmp(state, "cancelled") == 0)
            c->cancelled = n;
        else if (strcmp(state, "pruned") == 0)
            c->pruned = n;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : db_err(st, e, "counts");
}

/* Counts by state (a covering-index scan); the end time only for ended sweeps. */
static int sweep_counts(struct store *st, int64_t id, struct store_counts *c, struct err *e)
{
    int ret = counts_from_rows(st, stmt_id(st, ST_SWEEP_COUNTS, id), c, e);
    if (ret < 0)
        return ret;
    if (c->queued + c->running == 0 && c->total > 0) {
        sqlite3_stmt *s = stmt_id(st, ST_SWEEP_FINISHED, id);
        if (sqlite3_step(s) == SQLITE_ROW)
            c->finished = col_double(s, 0);
        sqlite3_reset(s);
    }
    return 0;
}

int store_sweep_avg_seconds(struct store *st, int64_t id, double *avg, struct err *e)
{
    sqlite3_stmt *s = stmt_id(st, ST_SWEEP_AVG, id);
    int rc = sqlite3_step(s);
    *avg = rc == SQLITE_ROW ? col_double(s, 0) : NAN;
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : db_err(st, e, "average time");
}

int store_config_means(struct store *st, int64_t sweep_id,
                       int (*cb)(void *ud, const struct store_mean_row *r), void *ud, struct err *e)
{
    sqlite3_stmt *s = stmt_id(st, ST_MEANS, sweep_id);
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_mean_row r = {
            .config_idx = sqlite3_column_int64(s, 0),
            .rows = sqlite3_column_int64(s, 1),
            .n = sqlite3_column_int64(s, 2),
            .mean = col_double(s, 3),
            .sumsq = col_double(s, 4),
        };
        if ((ret = cb(ud, &r)) != 0)
            break;
    }
    return each_end(st, s, rc, ret, e, "means");
}

int store_sweep_get(struct store *st, int64_t id, struct store_sweep *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = stmt_id(st, ST_SWEEP_GET, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(s);
        return err_set(e, MLP_ENOT_FOUND, "sweep", "no sweep %lld", (long long)id);
    }
    if (rc != SQLITE_ROW) {
        db_err(st, e, "sweep");
        sqlite3_reset(s);
        return e->code;
    }
    out->id = sqlite3_column_int64(s, 0);
    out->name = col_strdup(s, 1);
    out->metric = col_strdup(s, 2);
    out->dataset_json = col_strdup(s, 3);
    out->keys_json = col_strdup(s, 4);
    out->grid_json = col_strdup(s, 5);
    out->maximize = sqlite3_column_int(s, 6) != 0;
    out->paused = sqlite3_column_int(s, 7) != 0;
    out->cancelled = sqlite3_column_int(s, 8) != 0;
    out->priority = sqlite3_column_int64(s, 9);
    out->created = sqlite3_column_double(s, 10);
    out->trials_max = sqlite3_column_int64(s, 11);
    sqlite3_reset(s);
    if (!out->name || !out->metric || !out->dataset_json || !out->keys_json || !out->grid_json) {
        store_sweep_release(out);
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    }
    if (sweep_counts(st, id, &out->c, e) < 0) {
        store_sweep_release(out);
        return e->code;
    }
    return 0;
}

int store_sweep_by_name(struct store *st, const char *name, int64_t *id, struct err *e)
{
    sqlite3_stmt *s = stmt(st, ST_SWEEP_BY_NAME);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return err_set(e, MLP_ENOT_FOUND, "sweep", "no sweep named \"%s\"", name);
    return db_err(st, e, "sweep by name");
}

int store_sweeps_by_prefix(struct store *st, const char *prefix, int max,
                           int (*cb)(void *ud, int64_t id, const char *name), void *ud,
                           struct err *e)
{
    sqlite3_stmt *s = stmt(st, ST_SWEEP_BY_PREFIX);
    sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, max);
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 1);
        if ((ret = cb(ud, sqlite3_column_int64(s, 0), name ? name : "")) != 0)
            break;
    }
    return each_end(st, s, rc, ret, e, "sweeps by prefix");
}

static int ids_query(struct store *st, int which, int64_t **ids, size_t *n, struct err *e);

int store_sweep_ids(struct store *st, int64_t **ids, size_t *n, struct err *e)
{
    return ids_query(st, ST_SWEEP_IDS, ids, n, e);
}

int store_active_sweeps(struct store *st, int64_t **ids, size_t *n, struct err *e)
{
    return ids_query(st, ST_ACTIVE, ids, n, e);
}

static int ids_query(struct store *st, int which, int64_t **ids, size_t *n, struct err *e)
{
    size_t cap = 16;
    *n = 0;
    *ids = malloc(cap * sizeof **ids);
    if (!*ids)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    sqlite3_stmt *s = stmt(st, which);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            int64_t *p = realloc(*ids, 2 * cap * sizeof *p);
            if (!p) {
                sqlite3_reset(s);
                free(*ids);
                *ids = NULL;
                return err_set(e, MLP_ENOMEM, NULL, "out of memory");
            }
            *ids = p;
            cap *= 2;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(s, 0);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        free(*ids);
        *ids = NULL;
        return db_err(st, e, "sweep ids");
    }
    return 0;
}

int store_global_counts(struct store *st, struct store_counts *c, int64_t *n_sweeps, struct err *e)
{
    int ret = counts_from_rows(st, stmt(st, ST_GLOBAL_COUNTS), c, e);
    if (ret < 0)
        return ret;
    return step_int64(st, stmt(st, ST_SWEEP_COUNT), n_sweeps, e, "count sweeps");
}

void store_claim_release(struct store_claim *c)
{
    free(c->dataset_json);
    free(c->params_json);
    memset(c, 0, sizeof *c);
}

int store_claim_next(struct store *st, struct store_claim *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (begin_light(st, e) < 0)
        return e->code;
    sqlite3_stmt *s = stmt(st, ST_NEXT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(s);
        rollback(st);
        return 0;
    }
    if (rc != SQLITE_ROW) {
        db_err(st, e, "next trial");
        sqlite3_reset(s);
        goto fail;
    }
    out->trial_id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);

    s = stmt_id(st, ST_CLAIM, out->trial_id);
    sqlite3_bind_double(s, 2, now_s());
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        db_err(st, e, "claim");
        sqlite3_reset(s);
        goto fail;
    }
    out->attempt = sqlite3_column_int(s, 0);
    out->sweep_id = sqlite3_column_int64(s, 1);
    out->config_idx = sqlite3_column_int64(s, 2);
    out->seed = sqlite3_column_int64(s, 3);
    /* Step to completion so the RETURNING statement's changes are final. */
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        db_err(st, e, "claim");
        goto fail;
    }

    s = stmt_id(st, ST_CLAIM_SPEC, out->sweep_id);
    sqlite3_bind_int64(s, 2, out->config_idx);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->dataset_json = col_strdup(s, 0);
        out->params_json = col_strdup(s, 1);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW) {
        db_err(st, e, "trial spec");
        goto fail;
    }
    if (!out->dataset_json || !out->params_json) {
        err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    if (exec_id(st, ST_EPOCHS_CLEAR, out->trial_id, false, e, "clear epochs") < 0)
        goto fail;
    if (commit(st, e) < 0)
        goto fail;
    return 1;
fail:
    rollback(st);
    store_claim_release(out);
    return e->code;
}

int store_trial_set_pid(struct store *st, int64_t trial_id, long pid, struct err *e)
{
    sync_mode(st, false);
    sqlite3_stmt *s = stmt_id(st, ST_SET_PID, trial_id);
    sqlite3_bind_int64(s, 2, pid);
    return exec_stmt(st, s, e, "set pid");
}

int store_epoch_add(struct store *st, int64_t trial_id, int attempt, int64_t epoch, const double *v,
                    double lr, struct err *e)
{
    sync_mode(st, false);
    sqlite3_stmt *s = stmt_id(st, ST_EPOCH_ADD, trial_id);
    sqlite3_bind_int(s, 2, attempt);
    sqlite3_bind_int64(s, 3, epoch);
    if (isfinite(lr))
        sqlite3_bind_double(s, 4, lr);
    int col = 5;
    for (int m = 0; m < MLP_M_N; m++) {
        if (!metric_info(m)->per_epoch)
            continue;
        if (!isnan(v[m]))
            sqlite3_bind_double(s, col, v[m]);
        col++;
    }
    return exec_stmt(st, s, e, "add epoch");
}

void store_result_release(struct store_result *r)
{
    free(r->confusion);
    free(r->normalize);
    r->confusion = r->normalize = NULL;
}

int store_result_from_event(struct store_result *r, const struct trial_event *ev)
{
    memcpy(r->v, ev->v, sizeof r->v);
    r->confusion = r->normalize = NULL;
    bool oom = false;
    if (ev->n_classes > 0 && ev->confusion &&
        !(r->confusion = trialwire_confusion_text(ev->n_classes, ev->confusion)))
        oom = true;
    if (ev->normalize[0] && !(r->normalize = strdup(ev->normalize)))
        oom = true;
    return oom ? MLP_ENOMEM : 0;
}

int store__result_write(struct store *st, int64_t trial_id, int attempt,
                        const struct store_result *r, struct err *e)
{
    sqlite3_stmt *s = stmt_id(st, ST_RESULT_ADD, trial_id);
    sqlite3_bind_int(s, 2, attempt);
    if (r->confusion)
        sqlite3_bind_text(s, 3, r->confusion, -1, SQLITE_STATIC);
    if (r->normalize)
        sqlite3_bind_text(s, 4, r->normalize, -1, SQLITE_STATIC);
    for (int i = 0; i < MLP_M_N; i++) {
        if (isnan(r->v[i]))
            continue;
        enum metric_kind kind = metric_info(i)->kind;
        if (kind == METRIC_COUNT || kind == METRIC_FLAG)
            sqlite3_bind_int64(s, 5 + i, (int64_t)r->v[i]);
        else
            sqlite3_bind_double(s, 5 + i, r->v[i]);
    }
    if (exec_stmt(st, s, e, "add result") < 0)
        return e->code;
    return exec_id(st, ST_TRIAL_DONE, trial_id, true, e, "trial done");
}

int store_trial_done(struct store *st, int64_t trial_id, int attempt, const struct store_result *r,
                     struct err *e)
{
    if (begin(st, e) < 0)
        return e->code;
    if (store__result_write(st, trial_id, attempt, r, e) < 0)
        goto fail;
    if (commit(st, e) < 0)
        goto fail;
    return 0;
fail:
    rollback(st);
    return e->code;
}

int store_trial_fail(struct store *st, int64_t trial_id, const char *error, struct err *e)
{
    sync_mode(st, true);
    sqlite3_stmt *s = stmt_id(st, ST_TRIAL_FAIL, trial_id);
    sqlite3_bind_double(s, 2, now_s());
    sqlite3_bind_text(s, 3, error, -1, SQLITE_STATIC);
    return exec_stmt(st, s, e, "trial failed");
}

int store_trial_requeue(struct store *st, int64_t trial_id, bool count_attempt, const char *error,
                        struct err *e)
{
    sync_mode(st, true);
    sqlite3_stmt *s = stmt_id(st, ST_TRIAL_REQUEUE, trial_id);
    sqlite3_bind_int(s, 2, count_attempt ? 0 : 1);
    if (error)
        sqlite3_bind_text(s, 3, error, -1, SQLITE_STATIC);
    return exec_stmt(st, s, e, "requeue");
}

int store_trial_cancelled(struct store *st, int64_t trial_id, struct err *e)
{
    sync_mode(st, true);
    return exec_id(st, ST_TRIAL_CANCELLED, trial_id, true, e, "cancel trial");
}

static int count_state(struct store *st, int64_t id, const char *state, int64_t *n, struct err *e)
{
    sqlite3_stmt *s = stmt_id(st, ST_COUNT_STATE, id);
    sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
    return step_int64(st, s, n, e, "count");
}

int store_sweep_pause(struct store *st, int64_t id, bool paused, int64_t *changed, struct err *e)
{
    sync_mode(st, true);
    sqlite3_stmt *s = stmt_id(st, ST_PAUSE, id);
    sqlite3_bind_int(s, 2, paused);
    if (exec_stmt(st, s, e, "pause") < 0)
        return e->code;
    return count_state(st, id, "queued", changed, e);
}

int store_sweep_cancel(struct store *st, int64_t id, int64_t *changed, struct err *e)
{
    if (begin(st, e) < 0)
        return e->code;
    if (exec_id(st, ST_CANCEL_FLAG, id, false, e, "cancel") < 0 ||
        exec_id(st, ST_CANCEL_QUEUED, id, true, e, "cancel") < 0)
        goto fail;
    *changed = sqlite3_changes(st->db);
    if (commit(st, e) < 0)
        goto fail;
    return 0;
fail:
    rollback(st);
    return e->code;
}

int store_sweep_retry(struct store *st, int64_t id, bool failed, bool cancelled, int64_t *changed,
                      struct err *e)
{
    *changed = 0;
    if (begin(st, e) < 0)
        return e->code;
    if (failed) {
        if (exec_id(st, ST_RETRY, id, false, e, "retry") < 0)
            goto fail;
        *changed += sqlite3_changes(st->db);
    }
    if (cancelled) {
        if (exec_id(st, ST_REQUEUE_CANCELLED, id, false, e, "retry") < 0)
            goto fail;
        *changed += sqlite3_changes(st->db);
    }
    /* Trials still stopping from the cancel re-queue when they end
     * (TRIAL_CANCELLED), so the sweep must not stay cancelled waiting for them. */
    int64_t stopping = 0;
    if (cancelled && count_state(st, id, "running", &stopping, e) < 0)
        goto fail;
    if ((*changed > 0 || stopping > 0) && exec_id(st, ST_UNCANCEL, id, false, e, "retry") < 0)
        goto fail;
    if (commit(st, e) < 0)
        goto fail;
    return 0;
fail:
    rollback(st);
    return e->code;
}

int store_sweep_delete(struct store *st, int64_t id, struct err *e)
{
    if (begin(st, e) < 0)
        return e->code;
    if (exec_id(st, ST_SWEEP_DELETE, id, false, e, "delete") < 0)
        goto fail;
    if (sqlite3_changes(st->db) == 0) {
        err_set(e, MLP_ENOT_FOUND, "sweep", "no sweep %lld", (long long)id);
        goto fail;
    }
    if (commit(st, e) < 0)
        goto fail;
    return 0;
fail:
    rollback(st);
    return e->code;
}

int store_running_each(struct store *st, int max,
                       int (*cb)(void *ud, const struct store_running_row *r), void *ud,
                       struct err *e)
{
    sqlite3_stmt *s = stmt(st, ST_RUNNING);
    sqlite3_bind_int(s, 1, max);
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 2);
        const char *ex = (const char *)sqlite3_column_text(s, 7);
        struct store_running_row r = {
            .id = sqlite3_column_int64(s, 0),
            .sweep_id = sqlite3_column_int64(s, 1),
            .sweep_name = name ? name : "",
            .config_idx = sqlite3_column_int64(s, 3),
            .seed = sqlite3_column_int64(s, 4),
            .attempt = sqlite3_column_int(s, 5),
            .started = col_double(s, 6),
            .executor = ex ? ex : "local",
        };
        if ((ret = cb(ud, &r)) != 0)
            break;
    }
    return each_end(st, s, rc, ret, e, "running trials");
}

int store_configs_each(struct store *st, int64_t sweep_id, int64_t only_idx,
                       int (*cb)(void *ud, const struct store_config_row *r), void *ud,
                       struct err *e)
{
    sqlite3_stmt *s = stmt_id(st, ST_CONFIGS, sweep_id);
    sqlite3_bind_int64(s, 2, only_idx);
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_config_row r = {
            .idx = sqlite3_column_int64(s, 0),
            .params_json = (const char *)sqlite3_column_text(s, 1),
            .varying_json = (const char *)sqlite3_column_text(s, 2),
            .pruned_epoch = sqlite3_column_int64(s, 3),
        };
        if (!r.params_json || !r.varying_json) {
            ret = err_set(e, MLP_ENOMEM, NULL, "out of memory");
            break;
        }
        if ((ret = cb(ud, &r)) != 0)
            break;
    }
    return each_end(st, s, rc, ret, e, "configs");
}

/* Decode the current row of a TRIALS_* / TRIAL_ONE statement. */
static void trial_row_read(sqlite3_stmt *s, struct store_trial_row *r)
{
    *r = (struct store_trial_row){
        .id = sqlite3_column_int64(s, 0),
        .sweep_id = sqlite3_column_int64(s, 1),
        .config_idx = sqlite3_column_int64(s, 2),
        .seed = sqlite3_column_int64(s, 3),
        .state = (const char *)sqlite3_column_text(s, 4),
        .attempts = sqlite3_column_int(s, 5),
        .pid = (long)sqlite3_column_int64(s, 6),
        .error = (const char *)sqlite3_column_text(s, 7),
        .created = col_double(s, 8),
        .started = col_double(s, 9),
        .finished = col_double(s, 10),
        .has_result = sqlite3_column_type(s, 11) != SQLITE_NULL,
        .confusion = (const char *)sqlite3_column_text(s, 12),
        .normalize = (const char *)sqlite3_column_text(s, 13),
    };
    if (!r->state)
        r->state = "queued";
    for (int i = 0; i < MLP_M_N; i++)
        r->v[i] = col_double(s, 14 + i);
    r->confirm = sqlite3_column_int(s, 14 + MLP_M_N) != 0;
}

/* Decode the current row of an EPOCHS_* statement. */
static void epoch_row_read(sqlite3_stmt *s, struct store_epoch_row *r)
{
    *r = (struct store_epoch_row){
        .trial_id = sqlite3_column_int64(s, 0),
        .config_idx = sqlite3_column_int64(s, 1),
        .seed = sqlite3_column_int64(s, 2),
        .epoch = sqlite3_column_int64(s, 3),
        .lr = col_double(s, 4),
    };
    for (int m = 0, col = 5; m < MLP_M_N; m++)
        r->v[m] = metric_info(m)->per_epoch ? col_double(s, col++) : NAN;
}

int store_trials_each(struct store *st, int64_t sweep_id, int64_t trial_id, bool done_only,
                      int (*cb)(void *ud, const struct store_trial_row *r), void *ud, struct err *e)
{
    sqlite3_stmt *s;
    if (trial_id > 0) {
        s = stmt_id(st, ST_TRIAL_ONE, trial_id);
    } else {
        s = stmt_id(st, done_only ? ST_TRIALS_DONE : ST_TRIALS_SWEEP, sweep_id);
    }
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_trial_row r;
        trial_row_read(s, &r);
        if ((ret = cb(ud, &r)) != 0)
            break;
    }
    return each_end(st, s, rc, ret, e, "trials");
}

int store_epochs_each(struct store *st, int64_t sweep_id, int64_t trial_id,
                      int (*cb)(void *ud, const struct store_epoch_row *r), void *ud, struct err *e)
{
    sqlite3_stmt *s = stmt_id(st, trial_id > 0 ? ST_EPOCHS_TRIAL : ST_EPOCHS_SWEEP,
                              trial_id > 0 ? trial_id : sweep_id);
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_epoch_row r;
        epoch_row_read(s, &r);
        if ((ret = cb(ud, &r)) != 0)
            break;
    }
    return each_end(st, s, rc, ret, e, "epochs");
}

/* Cursors -------------------------------------------------------------------- */

/*
 * A cursor holds no read transaction between slices: each slice is read with its
 * statement bound past the last row handed out (keyset paging by trial id, and
 * epoch), and the statement is reset before store_cursor_next returns.  So a
 * reader that stops taking slices never pins a WAL snapshot (the WAL can be
 * checkpointed and restarted behind it).
 */
static const char cursor_trials_sql[] =
    "SELECT t.id, t.sweep_id, t.config_idx, t.seed, t.state, t.attempts, "
    "t.pid, t.error, t.created, t.started, t.finished, r.trial_id, r.confusion, "
    "r.normalize" RESULT_COLS ", t.confirm"
    " FROM trials t INDEXED BY trials_sweep_id LEFT JOIN results r ON r.trial_id = t.id "
    "WHERE t.sweep_id = ?1 AND t.id > ?2 ORDER BY t.id";
static const char cursor_epochs_sql[] =
    "SELECT e.trial_id, t.config_idx, t.seed, e.epoch, e.lr" EPOCH_COLS
    " FROM trials t INDEXED BY trials_sweep_id JOIN epochs e ON e.trial_id = t.id "
    "WHERE t.sweep_id = ?1 AND t.id >= ?2 AND (t.id > ?2 OR e.epoch > ?3) "
    "ORDER BY t.id, e.epoch"; /* t.id, not e.trial_id: the index's order, no sort */

struct store_cursor {
    struct store *st;
    sqlite3_stmt *s; /* its own statement: the shared ones stay free for other calls */
    enum store_cursor_kind kind;
    bool ended;
    int64_t sweep_id;
    int64_t last_id, last_epoch; /* key of the last row handed out (0: none yet) */
    int64_t *ids; /* a page: its trials in order, each read by id with s (TRIAL_ONE) */
    size_t n_ids, next_id;
};

struct store_cursor *store_cursor_open(struct store *st, enum store_cursor_kind kind,
                                       int64_t sweep_id, struct err *e)
{
    struct store_cursor *c = calloc(1, sizeof *c);
    if (!c) {
        err_set(e, MLP_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    c->st = st;
    c->kind = kind;
    c->sweep_id = sweep_id;
    const char *sql = kind == STORE_CURSOR_TRIALS ? cursor_trials_sql : cursor_epochs_sql;
    if (sqlite3_prepare_v2(st->db, sql, -1, &c->s, NULL) != SQLITE_OK) {
        db_err(st, e, "cursor");
        free(c);
        return NULL;
    }
    return c;
}

/* Run a one-column query of ids (bound ?1 sweep, ?2 limit, ?3 offset) and append its ids. */
static int page_append(struct store *st, const char *sql, int64_t sweep_id, int64_t limit,
                       int64_t offset, bool reversed, int64_t **ids, size_t *n, size_t *cap,
                       struct err *e)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return db_err(st, e, "page");
    sqlite3_bind_int64(s, 1, sweep_id);
    sqlite3_bind_int64(s, 2, limit > 0 ? limit : -1);
    sqlite3_bind_int64(s, 3, offset > 0 ? offset : 0);
    size_t first = *n;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == *cap) {
            size_t nc = *cap ? 2 * *cap : 64;
            int64_t *p = realloc(*ids, nc * sizeof *p);
            if (!p) {
                sqlite3_finalize(s);
                return err_set(e, MLP_ENOMEM, NULL, "out of memory");
            }
            *ids = p;
            *cap = nc;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return db_err(st, e, "page");
    if (reversed)
        for (size_t a = first, b = *n; a + 1 < b; a++, b--) {
            int64_t t = (*ids)[a];
            (*ids)[a] = (*ids)[b - 1];
            (*ids)[b - 1] = t;
        }
    return 0;
}

/* One count(*) query bound to the sweep. */
static int page_count(struct store *st, const char *sql, int64_t sweep_id, int64_t *out,
                      struct err *e)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return db_err(st, e, "page");
    sqlite3_bind_int64(s, 1, sweep_id);
    int rc = sqlite3_step(s);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : db_err(st, e, "page");
}

/*
 * The ids of one page, in order, each part a walk along one index range
 * (015-page.sql) rather than a sort of the sweep: the trials with the value
 * (every trial for trial, config, seed and state) by value then id, then those
 * without it by id.  The second part is found by a walk over the sweep's
 * trials by id that probes each one's result; it walks from whichever end
 * reaches the page sooner, so a few unfinished trials at either end of a
 * finished sweep are found at once.
 */
static int page_ids(struct store *st, int64_t sweep_id, const char *col, bool metric, bool desc,
                    int64_t offset, int64_t limit, int64_t **ids, size_t *n, struct err *e)
{
    const char *dir = desc ? "DESC" : "ASC", *rdir = desc ? "ASC" : "DESC";
    size_t cap = 0;
    char *sql = NULL;
    int rc;
    if (!metric) {
        if (!strcmp(col, "id"))
            rc = asprintf(&sql, "SELECT id FROM trials INDEXED BY trials_sweep_id WHERE sweep_id = ?1 "
                                "ORDER BY id %s LIMIT ?2 OFFSET ?3", dir);
        else
            rc = asprintf(&sql, "SELECT id FROM trials WHERE sweep_id = ?1 ORDER BY %s %s, id %s "
                                "LIMIT ?2 OFFSET ?3", col, dir, dir);
        if (rc < 0)
            return err_set(e, MLP_ENOMEM, NULL, "out of memory");
        rc = page_append(st, sql, sweep_id, limit, offset, false, ids, n, &cap, e);
        free(sql);
        return rc;
    }
    if (asprintf(&sql, "SELECT trial_id FROM results WHERE sweep_id = ?1 AND %s IS NOT NULL "
                       "ORDER BY %s %s, trial_id %s LIMIT ?2 OFFSET ?3", col, col, dir, dir) < 0)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    rc = page_append(st, sql, sweep_id, limit, offset, false, ids, n, &cap, e);
    free(sql);
    sql = NULL;
    if (rc < 0 || (limit > 0 && (int64_t)*n >= limit))
        return rc;
    /* The page reaches past the trials with a value: how many have one, how many not. */
    int64_t with = offset + (int64_t)*n, total = 0;
    if (*n == 0) {
        if (asprintf(&sql, "SELECT count(*) FROM results WHERE sweep_id = ?1 AND %s IS NOT NULL",
                     col) < 0)
            return err_set(e, MLP_ENOMEM, NULL, "out of memory");
        rc = page_count(st, sql, sweep_id, &with, e);
        free(sql);
        sql = NULL;
        if (rc < 0)
            return rc;
    }
    if ((rc = page_count(st,
                         "SELECT count(*) FROM trials INDEXED BY trials_sweep_id WHERE sweep_id = ?1",
                         sweep_id, &total, e)) < 0)
        return rc;
    int64_t nb = total - with, ob = offset > with ? offset - with : 0;
    int64_t want = nb - ob;
    if (limit > 0 && want > limit - (int64_t)*n)
        want = limit - (int64_t)*n;
    if (want <= 0)
        return 0;
    /* Forward the walk finds ob + want of them, backward nb - ob. */
    bool back = nb - ob < ob + want;
    if (asprintf(&sql, "SELECT t.id FROM trials t INDEXED BY trials_sweep_id WHERE t.sweep_id = ?1 "
                       "AND NOT EXISTS (SELECT 1 FROM results r WHERE r.trial_id = t.id AND "
                       "r.%s IS NOT NULL) ORDER BY t.id %s LIMIT ?2 OFFSET ?3",
                 col, back ? rdir : dir) < 0)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    rc = page_append(st, sql, sweep_id, want, back ? nb - ob - want : ob, back, ids, n, &cap, e);
    free(sql);
    return rc;
}

struct store_cursor *store_cursor_open_page(struct store *st, int64_t sweep_id, const char *sort,
                                            bool desc, int64_t offset, int64_t limit, struct err *e)
{
    /* The column comes from a fixed list (never from the request's text). */
    const char *col;
    bool metric = false;
    int m = metric_index(sort);
    if (!sort || !strcmp(sort, "trial"))
        col = "id";
    else if (!strcmp(sort, "config"))
        col = "config_idx";
    else if (!strcmp(sort, "seed"))
        col = "seed";
    else if (!strcmp(sort, "state"))
        col = "state";
    else if (m >= 0) {
        col = metric_name(m);
        metric = true;
    } else {
        err_set(e, MLP_EINVALID_REQUEST, "sort", "unknown sort key");
        return NULL;
    }
    struct store_cursor *c = calloc(1, sizeof *c);
    if (!c) {
        err_set(e, MLP_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    c->st = st;
    c->kind = STORE_CURSOR_TRIALS;
    /* The counts and walks see one snapshot (a savepoint works inside a transaction too). */
    if (sqlite3_exec(st->db, "SAVEPOINT page", NULL, NULL, NULL) != SQLITE_OK) {
        db_err(st, e, "page");
        free(c);
        return NULL;
    }
    int rc = page_ids(st, sweep_id, col, metric, desc, offset, limit, &c->ids, &c->n_ids, e);
    sqlite3_exec(st->db, "RELEASE page", NULL, NULL, NULL);
    if (rc < 0) {
        free(c->ids);
        free(c);
        return NULL;
    }
    if (sqlite3_prepare_v2(st->db, stmt_sql[ST_TRIAL_ONE], -1, &c->s, NULL) != SQLITE_OK) {
        db_err(st, e, "cursor");
        free(c->ids);
        free(c);
        return NULL;
    }
    return c;
}

/* What a cursor step returns after cb's ret: <0 (cb's error; the cursor ends), 1 when cb
 * stopped the walk, 0 to go on. */
static int cursor_cb_ret(struct store_cursor *c, int ret, struct err *e)
{
    if (ret < 0) {
        c->ended = true;
        return e->code ? ret : err_set(e, ret, NULL, "%s", err_default_msg(ret));
    }
    return ret > 0;
}

/* The rows of a page cursor from c->next_id on, each read by id (one deleted since is left
 * out).  As cursor_step. */
static int cursor_page_step(struct store_cursor *c, int (*cb)(void *ud, const void *row),
                            void *ud, struct err *e)
{
    while (c->next_id < c->n_ids) {
        sqlite3_reset(c->s);
        sqlite3_bind_int64(c->s, 1, c->ids[c->next_id++]);
        int rc = sqlite3_step(c->s);
        if (rc == SQLITE_DONE)
            continue;
        if (rc != SQLITE_ROW) {
            c->ended = true;
            return db_err(c->st, e, "cursor");
        }
        struct store_trial_row r;
        trial_row_read(c->s, &r);
        int ret = cursor_cb_ret(c, cb(ud, &r), e);
        if (ret)
            return ret;
    }
    c->ended = true;
    return 0;
}

/* Step c from past its last key; each row to cb.  1 when cb stopped the walk, 0 at the end,
 * or <0. */
static int cursor_step(struct store_cursor *c, int (*cb)(void *ud, const void *row), void *ud,
                       struct err *e)
{
    if (c->ended)
        return 0;
    if (c->ids)
        return cursor_page_step(c, cb, ud, e);
    sqlite3_reset(c->s);
    sqlite3_bind_int64(c->s, 1, c->sweep_id);
    sqlite3_bind_int64(c->s, 2, c->last_id);
    if (c->kind == STORE_CURSOR_EPOCHS)
        sqlite3_bind_int64(c->s, 3, c->last_epoch);
    int rc;
    while ((rc = sqlite3_step(c->s)) == SQLITE_ROW) {
        int ret;
        if (c->kind == STORE_CURSOR_TRIALS) {
            struct store_trial_row r;
            trial_row_read(c->s, &r);
            c->last_id = r.id;
            ret = cb(ud, &r);
        } else {
            struct store_epoch_row r;
            epoch_row_read(c->s, &r);
            c->last_id = r.trial_id;
            c->last_epoch = r.epoch;
            ret = cb(ud, &r);
        }
        ret = cursor_cb_ret(c, ret, e);
        if (ret)
            return ret;
    }
    c->ended = true;
    if (rc != SQLITE_DONE)
        return db_err(c->st, e, "cursor");
    return 0;
}

int store_cursor_next(struct store_cursor *c, int (*cb)(void *ud, const void *row), void *ud,
                      struct err *e)
{
    int rc = cursor_step(c, cb, ud, e);
    sqlite3_reset(c->s); /* no read transaction outlives the slice */
    return rc;
}

void store_end_read(struct store *st)
{
    for (sqlite3_stmt *s = sqlite3_next_stmt(st->db, NULL); s; s = sqlite3_next_stmt(st->db, s))
        if (sqlite3_stmt_busy(s))
            sqlite3_reset(s);
}

void store_cursor_close(struct store_cursor *c)
{
    if (!c)
        return;
    sqlite3_finalize(c->s);
    free(c->ids);
    free(c);
}

int store_values_each(struct store *st, int64_t sweep_id,
                      int (*cb)(void *ud, const struct store_value_row *r), void *ud, struct err *e)
{
    sqlite3_stmt *s = stmt_id(st, ST_VALUES, sweep_id);
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_value_row r = {.config_idx = sqlite3_column_int64(s, 0)};
        for (int i = 0; i < MLP_M_N; i++)
            r.v[i] = col_double(s, 1 + i);
        if ((ret = cb(ud, &r)) != 0)
            break;
    }
    return each_end(st, s, rc, ret, e, "values");
}

int store_confusions_each(struct store *st, int64_t sweep_id, int64_t config_idx,
                          int (*cb)(void *ud, const struct store_confusion_row *r), void *ud,
                          struct err *e)
{
    sqlite3_stmt *s = stmt_id(st, ST_CONFUSIONS, sweep_id);
    sqlite3_bind_int64(s, 2, config_idx);
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_confusion_row r = {
            .trial_id = sqlite3_column_int64(s, 0),
            .seed = sqlite3_column_int64(s, 1),
            .confusion = (const char *)sqlite3_column_text(s, 2),
        };
        if (!r.confusion) {
            ret = err_set(e, MLP_ENOMEM, NULL, "out of memory");
            break;
        }
        if ((ret = cb(ud, &r)) != 0)
            break;
    }
    return each_end(st, s, rc, ret, e, "confusions");
}

/* For store_slurm.c, the same module's Slurm half (store_int.h). */
sqlite3 *store__db(struct store *st)
{
    return st->db;
}

int store__begin(struct store *st, bool full, struct err *e)
{
    return full ? begin(st, e) : begin_light(st, e);
}

int store__commit(struct store *st, struct err *e)
{
    return commit(st, e);
}

void store__rollback(struct store *st)
{
    rollback(st);
}

void store__sync(struct store *st, bool full)
{
    sync_mode(st, full);
}

double store__now(void)
{
    return now_s();
}
