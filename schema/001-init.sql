-- 001-init: the first mlpd schema.
--
-- One row per sweep, per distinct configuration of a sweep, per trial
-- (configuration x seed), per recorded result and per epoch of a trial's
-- current attempt.  Times are unix seconds as REAL (millisecond resolution).
-- NaN metrics are stored as NULL (SQLite has no NaN).
PRAGMA application_id = 1836150884;  -- 0x6D6C7064, "mlpd"

CREATE TABLE sweeps (
    id           INTEGER PRIMARY KEY,
    name         TEXT UNIQUE,                 -- set to "sweep-<id>" when none given
    grid_json    TEXT NOT NULL,               -- the submitted grid document
    dataset_json TEXT NOT NULL,               -- canonical dataset (absolute paths)
    keys_json    TEXT NOT NULL,               -- list of the grid keys, in grid order
    metric       TEXT NOT NULL,               -- ranking metric
    maximize     INTEGER NOT NULL,            -- 1 for *_accuracy
    priority     INTEGER NOT NULL DEFAULT 0,  -- higher runs first
    paused       INTEGER NOT NULL DEFAULT 0,
    cancelled    INTEGER NOT NULL DEFAULT 0,
    created      REAL NOT NULL
);

CREATE TABLE configs (
    sweep_id     INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,            -- 1-based within the sweep
    params_json  TEXT NOT NULL,               -- every hyperparameter, canonical
    varying_json TEXT NOT NULL,               -- only the grid keys
    PRIMARY KEY (sweep_id, idx)
) WITHOUT ROWID;

CREATE TABLE trials (
    id         INTEGER PRIMARY KEY,
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
-- Per-sweep counts and the sweep's end time, from the index alone.
CREATE INDEX trials_sweep_state ON trials(sweep_id, state, finished);
-- The scheduler's "first queued trial of this sweep" (index order is id order
-- within a state and sweep), global counts, recovery of 'running' trials.
CREATE INDEX trials_state ON trials(state, sweep_id);
-- Per-configuration listings (show, results).
CREATE INDEX trials_sweep_config ON trials(sweep_id, config_idx);

-- sweep_id and config_idx are copied from the trial so that aggregations by
-- configuration read one index range without joining trials.
CREATE TABLE results (
    trial_id       INTEGER PRIMARY KEY REFERENCES trials(id) ON DELETE CASCADE,
    sweep_id       INTEGER NOT NULL,
    config_idx     INTEGER NOT NULL,
    attempt        INTEGER NOT NULL,
    train_loss     REAL,
    train_accuracy REAL,
    val_loss       REAL,
    val_accuracy   REAL,
    test_loss      REAL,
    test_accuracy  REAL,
    train_mse      REAL,
    val_mse        REAL,
    test_mse       REAL,
    epochs_run     INTEGER,
    best_epoch     INTEGER,
    seconds        REAL,
    diverged       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX results_sweep_config ON results(sweep_id, config_idx);

-- Epoch rows of the trial's current attempt only (older attempts are deleted
-- when a new attempt starts).
CREATE TABLE epochs (
    trial_id       INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    attempt        INTEGER NOT NULL,
    epoch          INTEGER NOT NULL,
    train_loss     REAL,
    train_accuracy REAL,
    val_loss       REAL,
    val_accuracy   REAL,
    train_mse      REAL,
    val_mse        REAL,
    seconds        REAL,
    PRIMARY KEY (trial_id, epoch)
) WITHOUT ROWID;
