-- evaluation metrics: values and edge cases against scikit-learn 1.2 (see test/metrics_sklearn.sql
-- for real data), NULL handling, parallel plans
SET extra_float_digits = 0;
CREATE TABLE cls (p boolean, a boolean);
INSERT INTO cls VALUES (true, true), (true, false), (false, true), (false, false), (true, true);

-- f1_score, precision_score, recall_score, accuracy_score, matthews_corrcoef:
-- 0.666666666667 0.666666666667 0.666666666667 0.6 0.166666666667
SELECT round(uba_f1_score(p, a)::numeric, 12) AS f1, round(uba_precision(p, a)::numeric, 12) AS precision,
       round(uba_recall(p, a)::numeric, 12) AS recall, round(uba_accuracy(p, a)::numeric, 12) AS accuracy,
       round(uba_mcc(p, a)::numeric, 12) AS mcc, uba_confusion_matrix(p, a) FROM cls;
-- zero division follows scikit-learn: no positive predictions, or no positive actuals, give 0
SELECT uba_f1_score(false, a), uba_precision(false, a), uba_recall(false, a), uba_accuracy(false, a), uba_mcc(false, a) FROM cls;
SELECT uba_f1_score(p, false), uba_precision(p, false), uba_recall(p, false), uba_mcc(p, false) FROM cls;
-- perfect and inverted predictions
SELECT uba_f1_score(a, a), uba_mcc(a, a), uba_f1_score(NOT a, a), uba_mcc(NOT a, a) FROM cls;
-- NULL rows are skipped; no rows gives NULL; GROUP BY gives one value per group
SELECT round(uba_f1_score(p, a)::numeric, 12) FROM (SELECT * FROM cls UNION ALL SELECT NULL, true UNION ALL SELECT true, NULL) s;
SELECT uba_f1_score(p, a) IS NULL AS f1, uba_confusion_matrix(p, a) IS NULL AS cm, uba_mcc(p, a) IS NULL AS mcc FROM cls WHERE false;
SELECT uba_f1_score(p, a) IS NULL AS all_null_rows FROM (SELECT NULL::boolean p, NULL::boolean a) s;
SELECT p, uba_accuracy(p, a), uba_confusion_matrix(p, a) FROM cls GROUP BY p ORDER BY p;

CREATE TABLE reg (p float8, a float8);
INSERT INTO reg VALUES (1.0, 1.5), (2.0, 2.0), (3.0, 2.0);
-- sqrt(mean_squared_error), mean_absolute_error, r2_score: 0.645497224368 0.5 -6.5
SELECT round(uba_rmse(p, a)::numeric, 12) AS rmse, round(uba_mae(p, a)::numeric, 12) AS mae,
       round(uba_r2(p, a)::numeric, 12) AS r2 FROM reg;
-- R^2 with every actual value the same: 1 for perfect predictions, else 0; fewer than 2 rows: NULL
SELECT uba_r2(2.0, 2.0) AS perfect, uba_r2(p, 2.0) AS imperfect FROM reg;
SELECT uba_r2(p, a) IS NULL AS one_row, uba_rmse(p, a) AS rmse_one_row FROM reg WHERE p = 1.0;
SELECT uba_rmse(p, a) IS NULL, uba_mae(p, a) IS NULL, uba_r2(p, a) IS NULL FROM reg WHERE false;
-- R^2 stays exact where the values' offset dwarfs their spread: actual values near 1e9
-- (the exact R^2 of these float inputs is 0.8199999141693013)
SELECT round(uba_r2(a + 1e9 + 0.1, a + 1e9)::numeric, 13) AS r2_large_offset FROM reg;
SELECT expect_error($$SELECT uba_rmse(p, 'NaN') FROM reg$$);
SELECT expect_error($$SELECT uba_mae('Infinity', a) FROM reg$$);

-- parallel plans give the same values
CREATE TABLE cls_big AS
SELECT (g % 7) < 3 AS p, (g % 5) < 2 AS a, (g % 11)::float8 AS yp, (g % 13)::float8 * 0.9 AS ya
  FROM generate_series(1, 100000) g;
ANALYZE cls_big;
SELECT uba_confusion_matrix(p, a), round(uba_mcc(p, a)::numeric, 12) AS mcc,
       round(uba_r2(yp, ya)::numeric, 12) AS r2, round(uba_rmse(yp, ya)::numeric, 12) AS rmse FROM cls_big;
-- the offset case in parallel: partial states with different shifts combine exactly
SELECT round(uba_r2(ya + 1e9 + 0.1, ya + 1e9)::numeric, 12) AS r2_offset FROM cls_big;
SELECT parallel_plans(true);
EXPLAIN (COSTS OFF) SELECT uba_f1_score(p, a), uba_r2(yp, ya) FROM cls_big;
SELECT uba_confusion_matrix(p, a), round(uba_mcc(p, a)::numeric, 12) AS mcc,
       round(uba_r2(yp, ya)::numeric, 12) AS r2, round(uba_rmse(yp, ya)::numeric, 12) AS rmse FROM cls_big;
SELECT round(uba_r2(ya + 1e9 + 0.1, ya + 1e9)::numeric, 12) AS r2_offset FROM cls_big;

-- ranking and probability metrics
SELECT parallel_plans(false);
CREATE TABLE sc (s float8, a boolean);
INSERT INTO sc VALUES (0.9, true), (0.2, false), (0.6, false), (0.6, true), (0.3, true),
	(0.1, false), (0.3, false), ('-0', true), (0, false);
-- roc_auc_score 0.675, average_precision_score 0.677777777778 (ties, and -0 = 0)
SELECT round(uba_auc(s, a)::numeric, 12) AS auc, round(uba_average_precision(s, a)::numeric, 12) AS ap FROM sc;
-- one class only: undefined, NULL (scikit-learn raises); no positives: AP NULL; no rows: NULL
SELECT uba_auc(s, false) IS NULL AS auc_no_pos, uba_auc(s, true) IS NULL AS auc_no_neg,
       uba_average_precision(s, false) IS NULL AS ap_no_pos, round(uba_average_precision(s, true)::numeric, 12) AS ap_all_pos FROM sc;
SELECT uba_auc(s, a) IS NULL, uba_average_precision(s, a) IS NULL FROM sc WHERE false;
-- perfect and reversed rankings
SELECT uba_auc(s, s > 0.5), uba_auc(-s, s > 0.5), uba_average_precision(s, s > 0.5) FROM sc;
-- log_loss 7.457689637593, brier_score_loss 0.282 (probability 1 for a false outcome is clipped as scikit-learn does)
SELECT round(uba_log_loss(p, a)::numeric, 12) AS log_loss, round(uba_brier_score(p, a)::numeric, 12) AS brier
  FROM (VALUES (0.9, true), (0.2, false), (0.6, false), (1.0, true), (0.0, true)) v(p, a);
SELECT uba_log_loss(p, a) IS NULL, uba_brier_score(p, a) IS NULL FROM (VALUES (0.5, NULL::boolean)) v(p, a);
-- sample weights (scikit-learn's sample_weight): a row of weight 3 counts as three rows, weight 0
-- as none; a NULL weight skips the row; both classes weighed 0.5: the same area
SELECT round(uba_auc(s, a, w)::numeric, 12) AS auc_weighted, round(uba_average_precision(s, a, w)::numeric, 12) AS ap_weighted,
       (SELECT round(uba_auc(s, a)::numeric, 12) FROM sc, generate_series(1, 3) g WHERE s <> 0.9 OR g = 1) AS auc_repeated,
       (SELECT round(uba_average_precision(s, a)::numeric, 12) FROM sc, generate_series(1, 3) g WHERE s <> 0.9 OR g = 1) AS ap_repeated
  FROM (SELECT s, a, CASE WHEN s = 0.9 THEN 1 ELSE 3 END::float8 AS w FROM sc) t;
SELECT uba_auc(s, a, 0.5) = uba_auc(s, a) AS same_area, uba_auc(s, a, CASE WHEN s = 0.6 THEN 0 END) IS NULL AS all_null,
       round(uba_auc(s, a, CASE WHEN s = 0.9 THEN 0 ELSE 1 END)::numeric, 12) AS without_0_9,
       (SELECT round(uba_auc(s, a)::numeric, 12) FROM sc WHERE s <> 0.9) AS dropped_0_9
  FROM sc;
-- per-score counts: the same AUC from a table that is 1 % of the rows (on Citus the workers count)
SELECT uba_auc(s, a, n) = (SELECT uba_auc(s, a) FROM sc, generate_series(1, 100)) AS from_counts
  FROM (SELECT s, a, count(*)::float8 * 100 AS n FROM sc GROUP BY s, a) t;
SELECT expect_error($$SELECT uba_auc(0.5, true, -1)$$);
SELECT expect_error($$SELECT uba_average_precision(0.5, true, 'Infinity')$$);
SELECT expect_error($$SELECT uba_auc('NaN', true)$$);
SELECT expect_error($$SELECT uba_average_precision('-Infinity', true)$$);
SELECT expect_error($$SELECT uba_log_loss(1.5, true)$$);
SELECT expect_error($$SELECT uba_brier_score(-0.1, false)$$);

-- real data: 12,330 Online Shoppers sessions (test/data), many tied scores (page value 0);
-- scikit-learn: roc_auc 0.863294194630, average precision 0.620255867947, with -exit_rates
-- 0.703101999198 and 0.260385264916; probability pv / (pv + 10): log_loss 1.227266490080, brier 0.080388102833
\i test/data/shoppers.sql
SELECT round(uba_auc(page_values, revenue)::numeric, 12) AS auc, round(uba_average_precision(page_values, revenue)::numeric, 12) AS ap,
       round(uba_auc(-exit_rates, revenue)::numeric, 12) AS auc_exit, round(uba_average_precision(-exit_rates, revenue)::numeric, 12) AS ap_exit,
       round(uba_log_loss(page_values / (page_values + 10.0), revenue)::numeric, 12) AS log_loss,
       round(uba_brier_score(page_values / (page_values + 10.0), revenue)::numeric, 12) AS brier
  FROM shoppers;
-- the same in a parallel plan: the collected scores of the workers are combined
SELECT parallel_plans(true);
EXPLAIN (COSTS OFF) SELECT uba_auc(page_values, revenue) FROM shoppers;
SELECT round(uba_auc(page_values, revenue)::numeric, 12) AS auc, round(uba_average_precision(page_values, revenue)::numeric, 12) AS ap,
       round(uba_log_loss(page_values / (page_values + 10.0), revenue)::numeric, 12) AS log_loss
  FROM shoppers;
SELECT parallel_plans(false);

-- chart-ready curves. ROC points of the small set; scikit-learn's roc_curve gives thresholds
-- (1.9), 0.9, 0.3, 0.1, 0 with fpr 0, 0, 0.4, 0.8, 1 and tpr 0, 0.25, 0.75, 0.75, 1 (uba starts at +Infinity)
SELECT threshold, tp, fp, tn, fn, tpr, fpr FROM unnest((SELECT uba_roc_curve(s, a) FROM sc));
SELECT uba_roc_curve(s, true) IS NULL AS one_class FROM sc;
SELECT uba_roc_curve(s, a) IS NULL AS no_rows, uba_threshold_table(s, a) IS NULL AS no_rows_table FROM sc WHERE false;
-- on the shoppers data: scikit-learn has 1255 points, sum(fpr) 60.387641528, sum(tpr) 619.628930818;
-- with -exit_rates 2441 points, 919.774707350 and 1442.698637317
SELECT count(*) AS points, round(sum(fpr)::numeric, 9) AS sum_fpr, round(sum(tpr)::numeric, 9) AS sum_tpr
  FROM unnest((SELECT uba_roc_curve(page_values, revenue) FROM shoppers));
SELECT count(*) AS points, round(sum(fpr)::numeric, 9) AS sum_fpr, round(sum(tpr)::numeric, 9) AS sum_tpr
  FROM unnest((SELECT uba_roc_curve(-exit_rates, revenue) FROM shoppers));
-- threshold table: probabilities get steps over [0, 1]; other scores from the highest to the lowest
SELECT threshold, tp, fp, tn, fn, round(tpr::numeric, 4) AS tpr, round(fpr::numeric, 4) AS fpr,
       round(precision::numeric, 4) AS precision, round(f1::numeric, 4) AS f1, round(flagged::numeric, 4) AS flagged
  FROM unnest((SELECT uba_threshold_table(page_values / (page_values + 10), revenue, 6) FROM shoppers));
SELECT threshold, tp, fp FROM unnest((SELECT uba_threshold_table(s * 10 - 2, a, 3) FROM sc));
SELECT count(*) AS default_points FROM unnest((SELECT uba_threshold_table(s, a) FROM sc));
SELECT expect_error($$SELECT uba_threshold_table(s, a, 1) FROM sc$$);
SELECT expect_error($$SELECT uba_threshold_table(s, a, NULL) FROM sc$$);
SELECT expect_error($$SELECT uba_threshold_table(s, a, (s * 10)::int + 2) FROM sc$$);
SELECT expect_error($$SELECT uba_roc_curve('NaN', true)$$);

-- multiclass F1 (scikit-learn f1_score with average=): months predicted from product counts on
-- the shoppers data: macro 0.0827604926239547, micro 0.10348742903487429, weighted 0.12134030291093904;
-- integer labels, macro: 0.21258299702097366
CREATE TABLE month_guess AS
SELECT (ARRAY['Feb','Mar','May','June','Jul','Aug','Sep','Oct','Nov','Dec'])[product_related % 10 + 1] AS predicted,
       month AS actual, product_related, session
  FROM shoppers;
ANALYZE month_guess;
SELECT round(uba_f1_score(predicted, actual, 'macro')::numeric, 15) AS macro,
       round(uba_f1_score(predicted, actual, 'micro')::numeric, 15) AS micro,
       round(uba_f1_score(predicted, actual, 'weighted')::numeric, 15) AS weighted,
       round(uba_f1_score(product_related % 3, (product_related + session) % 4, 'macro')::numeric, 15) AS int_macro
  FROM month_guess;
-- micro F1 equals accuracy when every row has one label
SELECT round(uba_f1_score(predicted, actual, 'micro')::numeric, 15) =
       round((count(*) FILTER (WHERE predicted = actual))::numeric / count(*), 15) AS micro_is_accuracy
  FROM month_guess;
SELECT parallel_plans(true);
EXPLAIN (COSTS OFF) SELECT uba_f1_score(predicted, actual, 'weighted') FROM month_guess;
SELECT round(uba_f1_score(predicted, actual, 'weighted')::numeric, 15) AS parallel_weighted FROM month_guess;
SELECT parallel_plans(false);
-- NULLs skipped, no rows gives NULL; perfect predictions give 1
SELECT uba_f1_score(predicted, actual, 'macro') IS NULL AS no_rows FROM month_guess WHERE false;
SELECT round(uba_f1_score(predicted, actual, 'macro')::numeric, 15) AS with_nulls
  FROM (SELECT predicted, actual FROM month_guess UNION ALL SELECT NULL, 'Feb' UNION ALL SELECT 'Feb', NULL) s;
SELECT uba_f1_score(actual, actual, 'macro') AS perfect FROM month_guess;
SELECT expect_error($$SELECT uba_f1_score(predicted, actual, 'samples') FROM month_guess$$);
SELECT expect_error($$SELECT uba_f1_score(predicted, actual, NULL) FROM month_guess$$);
SELECT expect_error($$SELECT uba_f1_score(predicted, actual, CASE WHEN session < 100 THEN 'macro' ELSE 'micro' END) FROM month_guess$$);

-- uba_split: deterministic, about the asked share, the same for int and bigint keys
SELECT count(*) FILTER (WHERE uba_split(g, 0.2)) AS test_side, count(*) FILTER (WHERE uba_split(g, 0.2, 7)) AS seed_7,
       count(*) FILTER (WHERE uba_split(g::text, 0.2)) AS text_keys
  FROM generate_series(1, 100000) g;
SELECT bool_and(uba_split(g, 0.3) = uba_split(g::bigint, 0.3)) AS int_equals_bigint,
       bool_and(NOT uba_split(g, 0)) AS none_at_0, bool_and(uba_split(g, 1)) AS all_at_1
  FROM generate_series(1, 1000) g;
SELECT uba_split(NULL::int, 0.5) IS NULL AS null_key;
SELECT expect_error($$SELECT uba_split(1, 1.5)$$);
SELECT expect_error($$SELECT uba_split(1, 'NaN')$$);
SELECT expect_error($$SELECT uba_split(point(1, 2), 0.5)$$);

-- ---------- uba_fisher_exact: scipy.stats.fisher_exact's answers (bench/fisher_reference.py checks thousands more) ----------
-- Fisher's tea tasting [[3, 1], [1, 3]]: odds 9, p 0.4857142857 (34/70); [[8, 2], [1, 5]]: odds 20,
-- two-sided 0.034965034965, greater 0.024475524476; an empty row: NaN and 1; no failures: infinite odds
SELECT t.*, round(f.odds_ratio::numeric, 10) AS odds_ratio, round(f.p_value::numeric, 12) AS p_value
  FROM (VALUES (3, 1, 1, 3, 'two-sided'), (8, 2, 1, 5, 'two-sided'), (8, 2, 1, 5, 'greater'), (8, 2, 1, 5, 'less'),
               (0, 0, 1, 5, 'two-sided'), (4, 0, 2, 6, 'two-sided'), (100000, 20000, 90000, 30000, 'less')) t(a, b, c, d, alt),
       uba_fisher_exact(t.a, t.b, t.c, t.d, t.alt) f;
-- the two tails share the observed table: less + greater = 1 + P(observed), here 0.023601398601
SELECT round((l.p_value + g.p_value)::numeric, 12) AS tails
  FROM uba_fisher_exact(8, 2, 1, 5, 'less') l, uba_fisher_exact(8, 2, 1, 5, 'greater') g;
SELECT expect_error($$SELECT * FROM uba_fisher_exact(-1, 2, 3, 4)$$);
SELECT expect_error($$SELECT * FROM uba_fisher_exact(1, 2, 3, 4, 'both')$$);
SELECT * FROM uba_fisher_exact(NULL, 2, 3, 4);

-- ---------- the states are bytea (Citus splits the aggregates) ----------
-- a state that did not come from the aggregate is refused, not read
SELECT expect_error($$SELECT uba_f1_final('\x0001'::bytea)$$);
SELECT expect_error($$SELECT uba_binary_combine('\x00'::bytea, '\x00'::bytea)$$);
-- the combine and final functions as Citus's coordinator calls them, on states made by hand
SELECT uba_f1_final(uba_binary_combine(uba_binary_transfn(NULL, true, true), uba_binary_transfn(uba_binary_transfn(NULL, true, false), false, true))) AS f1_of_three;
-- a database still at an older uba, whose aggregates pass internal states to the new library,
-- gets an error that says what to do (an aggregate declared as uba 0.2 declared them)
CREATE FUNCTION old_binary_transfn(internal, boolean, boolean) RETURNS internal AS 'uba', 'uba_binary_transfn' LANGUAGE C;
CREATE FUNCTION old_f1_final(internal) RETURNS float8 AS 'uba', 'uba_f1_final' LANGUAGE C;
CREATE AGGREGATE old_f1(boolean, boolean) (SFUNC = old_binary_transfn, STYPE = internal, FINALFUNC = old_f1_final);
SELECT expect_error($$SELECT old_f1(g % 2 = 0, g % 3 = 0) FROM generate_series(1, 10) g$$);
DROP AGGREGATE old_f1(boolean, boolean);
DROP FUNCTION old_f1_final(internal);
DROP FUNCTION old_binary_transfn(internal, boolean, boolean);
