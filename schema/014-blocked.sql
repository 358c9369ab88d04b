-- 014-blocked: a Slurm sweep's submission trouble, kept across restarts.
--
-- One row per sweep whose last sbatch failed (none succeeded since): the note
-- status/list/watch/wait show, and the count of refusals counted against the
-- sweep, after slurm_submit_tries of which its queued trials fail.  Kept in
-- mlpd's memory alone, the count started from zero at every restart, so a
-- sweep Slurm can never take, on a daemon restarted more often than its tries
-- last, never failed.  Written in the transaction that re-queues the refused
-- batch's trials; deleted when a submission of the sweep succeeds or it is
-- cancelled.
-- IF NOT EXISTS: harmless should a database already have it.
CREATE TABLE IF NOT EXISTS slurm_blocked (
    sweep_id INTEGER PRIMARY KEY REFERENCES sweeps(id) ON DELETE CASCADE,
    failures INTEGER NOT NULL,  -- refusals counted since the last success (0 once it gave up)
    counted  INTEGER NOT NULL,  -- 1: the last refusal counted; 0: a site limit or the controller
    gave_up  INTEGER NOT NULL,  -- 1: its queued trials were failed with message
    message  TEXT NOT NULL,     -- sbatch's message
    updated  REAL NOT NULL      -- unix time of the last refusal
);
