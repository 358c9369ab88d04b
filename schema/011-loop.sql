-- 011-loop: work proportional to a sweep off mlpd's event loop (issue 19).
--
-- sweeps.hidden: 0 for a sweep everyone sees; 1 while its configurations and
-- trials are being inserted (in batches, on a pool thread, each batch its own
-- short transaction so the event loop's writes never wait long); 2 once it
-- has been deleted while its rows are removed in batches.  A hidden sweep is
-- left out of every answer, never dispatched, and its name is free (NULL).
-- A sweep still hidden when mlpd starts (a crash mid-insert or mid-delete)
-- is removed then, so no partial sweep ever shows.
ALTER TABLE sweeps ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;

-- Trials per sweep and state, kept by triggers, so status, sweep summaries and
-- watch events read a few rows instead of scanning every trial of a
-- million-trial sweep (a count over the index took 100-150 ms per 1M trials).
CREATE TABLE sweep_counts (
    sweep_id INTEGER NOT NULL,
    state    TEXT NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (sweep_id, state)
) WITHOUT ROWID;
INSERT INTO sweep_counts (sweep_id, state, n)
    SELECT sweep_id, state, count(*) FROM trials GROUP BY sweep_id, state;

CREATE TRIGGER trials_count_insert AFTER INSERT ON trials BEGIN
    INSERT INTO sweep_counts (sweep_id, state, n) VALUES (NEW.sweep_id, NEW.state, 1)
        ON CONFLICT (sweep_id, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER trials_count_state AFTER UPDATE OF state ON trials
    WHEN OLD.state IS NOT NEW.state BEGIN
    UPDATE sweep_counts SET n = n - 1 WHERE sweep_id = OLD.sweep_id AND state = OLD.state;
    INSERT INTO sweep_counts (sweep_id, state, n) VALUES (NEW.sweep_id, NEW.state, 1)
        ON CONFLICT (sweep_id, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER trials_count_delete AFTER DELETE ON trials BEGIN
    UPDATE sweep_counts SET n = n - 1 WHERE sweep_id = OLD.sweep_id AND state = OLD.state;
END;
CREATE TRIGGER sweeps_count_delete AFTER DELETE ON sweeps BEGIN
    DELETE FROM sweep_counts WHERE sweep_id = OLD.id;
END;
