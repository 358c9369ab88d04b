-- 013-means: the sweep summary's "best so far" without reading every result.
--
-- Every sweep summary (status, list, show, best, results, each watch event)
-- names the best configuration so far, from per-configuration aggregates of
-- the sweep's ranking metric.  They were a GROUP BY over all of the sweep's
-- results on each request (about 65 ms of CPU at 100k results, in every
-- dashboard page).  config_means keeps them, one row per configuration:
-- rows (selection results: confirm = 0), n (non-NULL values: a diverged
-- seed's NaN is stored as NULL, so it counts in rows but not in n), the mean
-- and the sum of squares of those values.
--
-- Triggers recompute a configuration's row from its own results (one range of
-- results_sweep_config, the rows in the same order as the GROUP BY read them,
-- so the numbers are the same to the bit) whenever one of its results is
-- inserted, replaced (a trial run again), changed or deleted.  Results of a
-- sweep being deleted (sweeps.hidden = 2, removed in batches) are not
-- recomputed; the sweep's rows go with the sweep.  Pruned configurations stay
-- in the table and are left out when it is read (configs.pruned_epoch), as
-- before.  A configuration whose results are all deleted keeps a row with
-- rows = 0, which readers skip.
CREATE TABLE config_means (
    sweep_id   INTEGER NOT NULL,
    config_idx INTEGER NOT NULL,
    rows       INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    mean       REAL,
    sumsq      REAL,
    PRIMARY KEY (sweep_id, config_idx)
) WITHOUT ROWID;

-- The ranking metric's value of every selection result: the one place that
-- maps sweeps.metric to a column of results.
CREATE VIEW selection_values AS
    SELECT r.sweep_id AS sweep_id, r.config_idx AS config_idx, r.trial_id AS trial_id,
        CASE s.metric
            WHEN 'train_loss' THEN r.train_loss
            WHEN 'train_accuracy' THEN r.train_accuracy
            WHEN 'val_loss' THEN r.val_loss
            WHEN 'val_accuracy' THEN r.val_accuracy
            WHEN 'train_mse' THEN r.train_mse
            WHEN 'val_mse' THEN r.val_mse
        END AS v
    FROM results r JOIN sweeps s ON s.id = r.sweep_id WHERE r.confirm = 0;

INSERT INTO config_means (sweep_id, config_idx, rows, n, mean, sumsq)
    SELECT sweep_id, config_idx, count(*), count(v), avg(v), sum(v * v) FROM (
        SELECT sweep_id, config_idx, v FROM selection_values
            ORDER BY sweep_id, config_idx, trial_id)
    GROUP BY sweep_id, config_idx;

CREATE TRIGGER results_means_insert AFTER INSERT ON results WHEN NEW.confirm = 0 BEGIN
    INSERT OR REPLACE INTO config_means (sweep_id, config_idx, rows, n, mean, sumsq)
    SELECT NEW.sweep_id, NEW.config_idx, count(*), count(v), avg(v), sum(v * v)
        FROM selection_values WHERE sweep_id = NEW.sweep_id AND config_idx = NEW.config_idx;
END;
CREATE TRIGGER results_means_update AFTER UPDATE ON results BEGIN
    INSERT OR REPLACE INTO config_means (sweep_id, config_idx, rows, n, mean, sumsq)
    SELECT OLD.sweep_id, OLD.config_idx, count(*), count(v), avg(v), sum(v * v)
        FROM selection_values WHERE sweep_id = OLD.sweep_id AND config_idx = OLD.config_idx;
    INSERT OR REPLACE INTO config_means (sweep_id, config_idx, rows, n, mean, sumsq)
    SELECT NEW.sweep_id, NEW.config_idx, count(*), count(v), avg(v), sum(v * v)
        FROM selection_values WHERE sweep_id = NEW.sweep_id AND config_idx = NEW.config_idx;
END;
CREATE TRIGGER results_means_delete AFTER DELETE ON results
    WHEN OLD.confirm = 0 AND (SELECT hidden FROM sweeps WHERE id = OLD.sweep_id) = 0 BEGIN
    INSERT OR REPLACE INTO config_means (sweep_id, config_idx, rows, n, mean, sumsq)
    SELECT OLD.sweep_id, OLD.config_idx, count(*), count(v), avg(v), sum(v * v)
        FROM selection_values WHERE sweep_id = OLD.sweep_id AND config_idx = OLD.config_idx;
END;
CREATE TRIGGER sweeps_means_delete AFTER DELETE ON sweeps BEGIN
    DELETE FROM config_means WHERE sweep_id = OLD.id;
END;
