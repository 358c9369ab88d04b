-- 004-trust: ids that are never reused, and the learning rate of each epoch.
--
-- Sweep and trial ids are handed out by AUTOINCREMENT: SQLite's default
-- rowid is max(id) + 1, so deleting the newest sweep gave its id (and its
-- trials' ids) to the next submission, and a script holding "wait 81" or
-- "trial 100412" silently followed another sweep.  sqlite_sequence now keeps
-- the highest id ever used.  SQLite cannot add AUTOINCREMENT to a table, so
-- both tables are rebuilt (the documented "12 steps": mlpd applies
-- migrations with foreign keys off and checks them before committing), with
-- every column and index they had.  A database migrated here keeps the ids it
-- has; the high-water mark starts at its current largest id.  A later
-- migration that rebuilds sweeps or trials must keep AUTOINCREMENT.
--
-- epochs.lr is the learning rate of the epoch's last batch, as the worker
-- prints it with an lr_schedule (NULL for trials without one: the rate is
-- then the constant params.lr).
CREATE TABLE sweeps_004 (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT UNIQUE,
    grid_json    TEXT NOT NULL,
    dataset_json TEXT NOT NULL,
    keys_json    TEXT NOT NULL,
    metric       TEXT NOT NULL,
    maximize     INTEGER NOT NULL,
    priority     INTEGER NOT NULL DEFAULT 0,
    paused       INTEGER NOT NULL DEFAULT 0,
    cancelled    INTEGER NOT NULL DEFAULT 0,
    created      REAL NOT NULL,
    executor     TEXT NOT NULL DEFAULT 'local' CHECK (executor IN ('local', 'slurm'))
);
INSERT INTO sweeps_004 (id, name, grid_json, dataset_json, keys_json, metric, maximize,
                        priority, paused, cancelled, created, executor)
    SELECT id, name, grid_json, dataset_json, keys_json, metric, maximize,
           priority, paused, cancelled, created, executor FROM sweeps;
DROP TABLE sweeps;
ALTER TABLE sweeps_004 RENAME TO sweeps;

CREATE TABLE trials_004 (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    sweep_id   INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
    config_idx INTEGER NOT NULL,
    seed       INTEGER NOT NULL,
    state      TEXT NOT NULL DEFAULT 'queued'
               CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    pid        INTEGER,
    created    REAL NOT NULL,
    started    REAL,
    finished   REAL,
    error      TEXT,
    FOREIGN KEY (sweep_id, config_idx) REFERENCES configs(sweep_id, idx)
);
INSERT INTO trials_004 (id, sweep_id, config_idx, seed, state, attempts, pid, created,
                        started, finished, error)
    SELECT id, sweep_id, config_idx, seed, state, attempts, pid, created,
           started, finished, error FROM trials;
DROP TABLE trials;
ALTER TABLE trials_004 RENAME TO trials;
CREATE INDEX trials_sweep_state ON trials(sweep_id, state, finished);
CREATE INDEX trials_state ON trials(state, sweep_id);
CREATE INDEX trials_sweep_config ON trials(sweep_id, config_idx);

ALTER TABLE epochs ADD COLUMN lr REAL;
