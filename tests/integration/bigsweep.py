"""A large finished sweep in a real mlpd database, built cheaply.

Submitting and running a million trials through mlpd takes long; exports
only need their rows.  build() runs a small real sweep (one seed of every
configuration, through mlpd and mlp-worker), stops mlpd, and then writes the
other seeds' trials, results and (optionally) epoch rows straight into the
database with SQLite, in the shapes mlpd itself writes (schema/*.sql; the
per-sweep counts follow from the schema's triggers).  The sweep's grid says
as many seeds as it then has.  mlpd is started again on that database.

Metrics of the written trials are deterministic functions of the trial id,
so a test can recompute them (reference() reads them back with SQLite).
"""
import json
import sqlite3
import time

# Metric columns of results and of epochs, as in schema/001-init.sql and 003-results9.sql.
RESULT_METRICS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "test_loss",
                  "test_accuracy")
EPOCH_METRICS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")


def grid(name, lrs=10, hidden=((4,), (8,))):
    """A classification grid of lrs x len(hidden) configurations (one seed, one epoch)."""
    return {"name": name, "dataset": {"name": "xor", "n": 200}, "seeds": 1,
            "base": {"epochs": 1}, "grid": {"lr": [round(0.01 * (i + 1), 4) for i in range(lrs)],
                                            "hidden": [list(h) for h in hidden]}}


def _value(expr_id, k):
    """SQL for a value in (0, 1) that depends on the trial id and the column number k."""
    return "((%s * %d + %d) %% 1000003) / 1000003.0" % (expr_id, 2654435761 + 7919 * k, k * 104729)


def build(d, n_trials, name="big", epochs=0, lrs=10, hidden=((4,), (8,)), error=None):
    """Make a finished sweep of about n_trials trials (a multiple of the configuration
    count) with `epochs` epoch rows per written trial; returns (sweep id, trials).
    With error (a string) the written trials failed with that error (no result).
    d is a harness.Daemon, started; it is stopped and started again."""
    sid = d.submit(grid(name, lrs, hidden))
    d.wait_sweep(sid, timeout=300)
    d.stop()
    n_cfg = lrs * len(hidden)
    seeds = max(1, n_trials // n_cfg)
    con = sqlite3.connect(d.db, timeout=30)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    now = time.time()
    with con:
        con.execute(
            "WITH RECURSIVE s(seed) AS (SELECT 2 UNION ALL SELECT seed + 1 FROM s WHERE seed < ?2) "
            "INSERT INTO trials (sweep_id, config_idx, seed, state, attempts, created, started, "
            "finished, error) SELECT ?1, c.idx, s.seed, ?4, 1, ?3, ?3, ?3 + 1, ?5 "
            "FROM s, configs c WHERE c.sweep_id = ?1 ORDER BY s.seed, c.idx",
            (sid, seeds, now, "failed" if error else "done", error))
        cols = ", ".join(RESULT_METRICS)
        vals = ", ".join(_value("t.id", k) for k in range(len(RESULT_METRICS)))
        con.execute(
            "INSERT INTO results (trial_id, sweep_id, config_idx, attempt, %s, epochs_run, "
            "best_epoch, seconds, diverged, normalize) SELECT t.id, t.sweep_id, t.config_idx, 1, "
            "%s, 1, 1, 0.5, 0, 'none' FROM trials t WHERE t.sweep_id = ?1 AND t.seed >= 2 "
            "AND t.state = 'done'" % (cols, vals), (sid,))
        if epochs > 0:
            cols = ", ".join(EPOCH_METRICS)
            vals = ", ".join(_value("t.id * 1000 + e.epoch", k) for k in range(len(EPOCH_METRICS)))
            con.execute(
                "WITH RECURSIVE e(epoch) AS (SELECT 1 UNION ALL SELECT epoch + 1 FROM e "
                "WHERE epoch < ?2) INSERT INTO epochs (trial_id, attempt, epoch, %s, seconds) "
                "SELECT t.id, 1, e.epoch, %s, 0.01 * e.epoch FROM trials t, e "
                "WHERE t.sweep_id = ?1 AND t.seed >= 2" % (cols, vals), (sid, epochs))
        g = json.loads(con.execute("SELECT grid_json FROM sweeps WHERE id = ?", (sid,))
                       .fetchone()[0])
        g["seeds"] = seeds
        con.execute("UPDATE sweeps SET grid_json = ? WHERE id = ?", (json.dumps(g), sid))
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    d.start(wait=False)
    d.wait_ready(timeout=600)  # mlpd checks the database at start: long for a million rows
    return sid, n_cfg * seeds


def reference(d, sid, curves=False):
    """The sweep's rows read with SQLite alone (the slow reference): per trial
    {trial: (config, seed, state, val_accuracy)}, or per epoch
    {(trial, epoch): (config, seed, val_loss)}."""
    con = sqlite3.connect("file:%s?mode=ro" % d.db, uri=True, timeout=30)
    try:
        if curves:
            q = ("SELECT e.trial_id, e.epoch, t.config_idx, t.seed, e.val_loss FROM epochs e "
                 "JOIN trials t ON t.id = e.trial_id WHERE t.sweep_id = ?")
            return {(r[0], r[1]): r[2:] for r in con.execute(q, (sid,))}
        q = ("SELECT t.id, t.config_idx, t.seed, t.state, r.val_accuracy FROM trials t "
             "LEFT JOIN results r ON r.trial_id = t.id WHERE t.sweep_id = ?")
        return {r[0]: r[1:] for r in con.execute(q, (sid,))}
    finally:
        con.close()
