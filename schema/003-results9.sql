-- 003-results9: per-class results and test curves (issue 9).
--
-- results.confusion is the worker's test confusion matrix of the kept weights
-- as JSON text, [[count, ...], ...] with rows = true label and columns =
-- predicted (K x K, K = classes); NULL for regression and for trials that
-- recorded none.  Per-class accuracy is derived from it (diagonal / row sum)
-- and not stored twice.  results.normalize is the normalisation the worker
-- applied ("auto" resolved).  The result, its confusion matrix and the state
-- 'done' are written in one transaction, so a done trial never lacks them.
--
-- epochs gains the test metrics of the per-epoch curve, NULL unless the trial
-- ran with "curve_test": true.
ALTER TABLE results ADD COLUMN confusion TEXT;
ALTER TABLE results ADD COLUMN normalize TEXT;
ALTER TABLE epochs ADD COLUMN test_loss REAL;
ALTER TABLE epochs ADD COLUMN test_accuracy REAL;
ALTER TABLE epochs ADD COLUMN test_mse REAL;
