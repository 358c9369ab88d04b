-- 015-page: one page of a sweep's trials in any documented order without a
-- sort (the results op's sort/desc/offset/limit; the dashboard's trial table).
--
-- Each index lists a sweep's trials in the order of one sort key, ties by trial
-- id (the rowid every index ends with), so a page is a walk along one index
-- range, read from the index alone, then its rows fetched by id.  Before these,
-- every page of a 100k-trial sweep sorted all its rows (0.2-1.4 s of CPU).
-- IF NOT EXISTS: a file whose user_version predates the bookkeeping of applied
-- migrations runs this again.
CREATE INDEX IF NOT EXISTS trials_sweep_id ON trials(sweep_id);
CREATE INDEX IF NOT EXISTS trials_sweep_seed ON trials(sweep_id, seed);
CREATE INDEX IF NOT EXISTS trials_sweep_state_id ON trials(sweep_id, state);
-- The metrics: the trials with a value only (missing values, which sort last,
-- come from trials_sweep_id), so a classification sweep adds no entries to the
-- *_mse indexes and a regression sweep none to the *_accuracy ones.
CREATE INDEX IF NOT EXISTS results_page_train_loss ON results(sweep_id, train_loss) WHERE train_loss IS NOT NULL;
CREATE INDEX IF NOT EXISTS results_page_train_accuracy ON results(sweep_id, train_accuracy) WHERE train_accuracy IS NOT NULL;
CREATE INDEX IF NOT EXISTS results_page_val_loss ON results(sweep_id, val_loss) WHERE val_loss IS NOT NULL;
CREATE INDEX IF NOT EXISTS results_page_val_accuracy ON results(sweep_id, val_accuracy) WHERE val_accuracy IS NOT NULL;
CREATE INDEX IF NOT EXISTS results_page_test_loss ON results(sweep_id, test_loss) WHERE test_loss IS NOT NULL;
CREATE INDEX IF NOT EXISTS results_page_test_accuracy ON results(sweep_id, test_accuracy) WHERE test_accuracy IS NOT NULL;
CREATE INDEX IF NOT EXISTS results_page_train_mse ON results(sweep_id, train_mse) WHERE train_mse IS NOT NULL;
CREATE INDEX IF NOT EXISTS results_page_val_mse ON results(sweep_id, val_mse) WHERE val_mse IS NOT NULL;
CREATE INDEX IF NOT EXISTS results_page_test_mse ON results(sweep_id, test_mse) WHERE test_mse IS NOT NULL;
CREATE INDEX IF NOT EXISTS results_page_epochs_run ON results(sweep_id, epochs_run) WHERE epochs_run IS NOT NULL;
CREATE INDEX IF NOT EXISTS results_page_best_epoch ON results(sweep_id, best_epoch) WHERE best_epoch IS NOT NULL;
CREATE INDEX IF NOT EXISTS results_page_seconds ON results(sweep_id, seconds) WHERE seconds IS NOT NULL;
CREATE INDEX IF NOT EXISTS results_page_diverged ON results(sweep_id, diverged) WHERE diverged IS NOT NULL;
