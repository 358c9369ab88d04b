-- 008-meta: tags and notes that users attach to sweeps and configurations.
--
-- config_idx 0 stands for the sweep itself; 1.. for one of its configurations
-- (no foreign key to configs for that reason: the sweep's cascade removes both).
-- A note keeps its row when cleared (text '') so that its version never goes
-- back: an edit based on an older version is refused (optimistic concurrency),
-- and a cleared-then-recreated note cannot be mistaken for the one a client read.
CREATE TABLE tags (
    sweep_id   INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
    config_idx INTEGER NOT NULL DEFAULT 0,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (sweep_id, config_idx, key)
) WITHOUT ROWID;
-- list --tag key=value.
CREATE INDEX tags_key_value ON tags(key, value);

CREATE TABLE notes (
    sweep_id   INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
    config_idx INTEGER NOT NULL DEFAULT 0,
    text       TEXT NOT NULL,
    version    INTEGER NOT NULL,              -- 1 for the first text, +1 per edit
    updated    REAL NOT NULL,                 -- unix seconds of the last edit
    PRIMARY KEY (sweep_id, config_idx)
) WITHOUT ROWID;
