-- 002-slurm: sweeps whose trials run as Slurm job-array tasks.
--
-- sweeps.executor says where a sweep's trials run.  One slurm_tasks row per
-- trial sent to Slurm, for its latest attempt (replaced when the trial is
-- submitted again): the array's job name (known before sbatch answers, so a
-- restarted mlpd can find a submission whose job id it never recorded), the
-- array job id once sbatch returned it, the task's index in the array, and
-- the spool directory holding the task's spec and output files.  A trial in
-- state 'running' whose row has the same attempt is attached to that Slurm
-- task: start-up recovery leaves it running and mlpd follows it again.
ALTER TABLE sweeps ADD COLUMN executor TEXT NOT NULL DEFAULT 'local'
    CHECK (executor IN ('local', 'slurm'));

CREATE TABLE slurm_tasks (
    trial_id  INTEGER PRIMARY KEY REFERENCES trials(id) ON DELETE CASCADE,
    attempt   INTEGER NOT NULL,  -- the trial attempt this task runs
    batch     TEXT NOT NULL,     -- sbatch --job-name of the array, unique per submission
    array_idx INTEGER NOT NULL,  -- SLURM_ARRAY_TASK_ID of this trial
    job_id    INTEGER,           -- array job id; NULL until sbatch answered
    spool     TEXT NOT NULL,     -- the batch's spool directory (shared filesystem)
    state     TEXT,              -- last Slurm state seen (PENDING, RUNNING, ...)
    submitted REAL NOT NULL
);
CREATE INDEX slurm_tasks_batch ON slurm_tasks(batch);
