-- 005-adaptive: pruning of configurations (issue 18).
--
-- A configuration that a sweep's "prune" rule stopped has configs.pruned_epoch
-- set to the rung (epoch) where the decision was taken; NULL otherwise.  Its
-- trials that were queued or running end in the new trial state 'pruned'
-- (running ones keep the epoch rows they recorded), and the configuration is
-- left out of rankings.  Decisions are taken from the stored epoch rows, so a
-- restarted mlpd takes the same ones.
--
-- SQLite cannot change a CHECK constraint in place: trials is rebuilt (the
-- documented "12 steps"; mlpd applies migrations with foreign keys off and
-- checks them before committing), keeping AUTOINCREMENT (004-trust.sql),
-- every column, every index and the id high-water mark.
CREATE TABLE trials_005 (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    sweep_id   INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
    config_idx INTEGER NOT NULL,
    seed       INTEGER NOT NULL,
    state      TEXT NOT NULL DEFAULT 'queued'
               CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled', 'pruned')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    pid        INTEGER,
    created    REAL NOT NULL,
    started    REAL,
    finished   REAL,
    error      TEXT,
    FOREIGN KEY (sweep_id, config_idx) REFERENCES configs(sweep_id, idx)
);
INSERT INTO trials_005 (id, sweep_id, config_idx, seed, state, attempts, pid, created,
                        started, finished, error)
    SELECT id, sweep_id, config_idx, seed, state, attempts, pid, created,
           started, finished, error FROM trials;
-- Keep the id high-water mark (an id deleted at the top is never given again).
DELETE FROM sqlite_sequence WHERE name = 'trials_005';
UPDATE sqlite_sequence SET name = 'trials_005' WHERE name = 'trials';
DROP TABLE trials;
ALTER TABLE trials_005 RENAME TO trials;
CREATE INDEX trials_sweep_state ON trials(sweep_id, state, finished);
CREATE INDEX trials_state ON trials(state, sweep_id);
CREATE INDEX trials_sweep_config ON trials(sweep_id, config_idx);

ALTER TABLE configs ADD COLUMN pruned_epoch INTEGER;
