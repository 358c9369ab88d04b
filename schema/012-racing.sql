-- 012-racing: racing on seeds and confirmation on fresh seeds (issue 18).
--
-- sweeps.trials_max: the most trials the sweep may reach when its grid races
-- on seeds ("seeds": {"min": m, "max": M}) or confirms ("confirm"): only m
-- seeds per configuration are stored at submit, further seed trials are added
-- as the race decides (configurations x M + top x confirm seeds at most).
-- NULL for a sweep whose every trial is stored at submit.
--
-- configs.race: the last racing verdict of the configuration ('min', 'tied',
-- 'leader', 'separated', 'max', 'alone'; common/race.h), NULL before any.
-- Decisions are taken from the stored results, so a restarted mlpd reaches the
-- same ones; the column only shows them.
--
-- trials.confirm / results.confirm: 1 for a confirmation trial (a top
-- configuration run again, after the search, on seeds never used in
-- selection).  Rankings, pruning, racing and importance read only rows with
-- confirm = 0.  Trials added later are plain INSERTs, so the triggers of
-- 011-loop.sql count them in sweep_counts like the ones stored at submit.
ALTER TABLE sweeps ADD COLUMN trials_max INTEGER;
ALTER TABLE configs ADD COLUMN race TEXT;
ALTER TABLE trials ADD COLUMN confirm INTEGER NOT NULL DEFAULT 0;
ALTER TABLE results ADD COLUMN confirm INTEGER NOT NULL DEFAULT 0;
