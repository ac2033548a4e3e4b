-- Gradient-boosted trees: trained with XGBoost's C library, scored by uba's own evaluator
SET extra_float_digits = 0;

-- churn-like rows, deterministic: tenure, monthly charges, support calls, a noise column
CREATE TABLE bt_rows AS
SELECT g AS id,
       ARRAY[(g * 37 % 72)::float8, 20 + (g * 53 % 100)::float8, (g * 11 % 6)::float8, sin(g * 1.7)] AS f,
       ((g * 37 % 72) < 12 AND (g * 11 % 6) >= 2) OR (g * 53 % 100) > 90 OR sin(g * 0.31) > 0.97 AS churned,
       (g * 37 % 72) * 0.5 + (g * 11 % 6) * 3 + sin(g * 1.7) AS spend
  FROM generate_series(1, 4000) g;
CREATE TABLE bt_model AS
SELECT uba_boost_train(churned, f, '{"n_estimators": 60, "max_depth": 4, "seed": 1}'::jsonb) FILTER (WHERE id % 5 <> 0) AS b,
       uba_boost_train(spend, f, '{"n_estimators": 40}'::jsonb) FILTER (WHERE id % 5 <> 0) AS r
  FROM bt_rows;
SELECT uba_model_kind(b) AS kind, uba_model_info(b) - 'created_at' - 'training_ms' - 'size_bytes' - 'xgboost_shap_difference' AS info FROM bt_model;
SELECT uba_model_info(r)->>'objective' AS objective, uba_model_info(r)->'trees' AS trees FROM bt_model;

-- the evaluator walks the trees as XGBoost does: its margins on the training rows equal
-- XGBoost's own predictions (the largest difference is stored; float32 sums, tree by tree)
SELECT (uba_model_info(b)->>'xgboost_margin_difference')::float8 <= 1e-6 AS binary_agrees,
       (uba_model_info(r)->>'xgboost_margin_difference')::float8 <= 1e-6 AS regression_agrees
  FROM bt_model;

-- TreeSHAP equals XGBoost's pred_contribs on the first 100 training rows (stored at training)
SELECT (uba_model_info(b)->>'xgboost_shap_difference')::float8 <= 1e-5 AS binary_shap_agrees,
       (uba_model_info(r)->>'xgboost_shap_difference')::float8 <= 1e-5 AS regression_shap_agrees
  FROM bt_model;
-- explanations add up to the margin: log-odds of the probability (binary), the value
-- (regression); the prediction adds its trees in float32 as XGBoost does, the contributions in
-- double, so they agree to float32 rounding of the values (about 50 here)
SELECT max(abs((SELECT sum(contribution) FROM uba_boost_explain(b, f)) - ln(uba_boost_predict(b, f) / (1 - uba_boost_predict(b, f))))) < 1e-5 AS binary_adds_up,
       max(abs((SELECT sum(contribution) FROM uba_boost_explain(r, f)) - uba_boost_predict(r, f))) < 1e-4 AS regression_adds_up
  FROM bt_rows, bt_model WHERE id % 97 = 0;
-- one row's reasons: the baseline (the expected margin), then the largest contributions
SELECT feature, name, value, round(contribution::numeric, 4) AS contribution
  FROM uba_boost_explain((SELECT uba_boost_train(churned, f, '{"n_estimators": 30, "max_depth": 3, "feature_names": ["tenure", "charges", "calls", "noise"]}'::jsonb) FROM bt_rows),
                         ARRAY[5, 95, 4, 0.1]::float8[], 2);
-- a feature no tree uses gets nothing: a constant column
SELECT bool_and(contribution = 0) AS constant_gets_nothing
  FROM uba_boost_explain((SELECT uba_boost_train(spend, f || 7.0::float8, '{"n_estimators": 10}'::jsonb) FROM bt_rows),
                         ARRAY[5, 95, 4, 0.1, 7]::float8[]) WHERE feature = 5;
-- feature importance, by total gain: every column is used here
SELECT feature, name, weight > 0 AS used, round(total_gain::numeric, 1) > 0 AS has_gain,
       abs(gain * weight - total_gain) < 1e-6 * total_gain AS average_is_total_over_splits
  FROM uba_feature_importance((SELECT uba_boost_train(churned, f, '{"n_estimators": 30, "max_depth": 3, "feature_names": ["tenure", "charges", "calls", "noise"]}'::jsonb) FROM bt_rows));

-- held-out quality: the rows left out of training
SELECT round(uba_auc(uba_boost_predict(b, f), churned)::numeric, 3) AS held_out_auc,
       round(uba_accuracy(uba_boost_predict(b, f) >= 0.5, churned)::numeric, 3) AS held_out_accuracy,
       round(uba_rmse(uba_boost_predict(r, f), spend)::numeric, 3) AS held_out_rmse,
       round(stddev_pop(spend)::numeric, 3) AS spread_of_spend
  FROM bt_rows, bt_model WHERE id % 5 = 0;
-- probabilities are in (0, 1)
SELECT min(uba_boost_predict(b, f)) > 0 AND max(uba_boost_predict(b, f)) < 1 AS probabilities FROM bt_rows, bt_model;

-- the same rows in another order, and in a parallel plan, give the same model
CREATE FUNCTION pg_temp.digest(m bytea) RETURNS text LANGUAGE sql AS $$
	SELECT md5(substring(m FROM 1 FOR 20) || substring(m FROM 25 FOR 24) || substring(m FROM 65))
$$;
SELECT (SELECT pg_temp.digest(uba_boost_train(churned, f, '{"n_estimators": 20}'::jsonb)) FROM (SELECT * FROM bt_rows ORDER BY id) x)
     = (SELECT pg_temp.digest(uba_boost_train(churned, f, '{"n_estimators": 20}'::jsonb)) FROM (SELECT * FROM bt_rows ORDER BY md5(id::text)) x)
       AS order_free;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SELECT parallel_plans(true);
CREATE TABLE bt_par AS SELECT pg_temp.digest(uba_boost_train(churned, f, '{"n_estimators": 20}'::jsonb)) AS d FROM bt_rows;
SELECT parallel_plans(false);
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SELECT d = (SELECT pg_temp.digest(uba_boost_train(churned, f, '{"n_estimators": 20}'::jsonb)) FROM bt_rows) AS parallel_equals_serial FROM bt_par;

-- from 100,000 rows on, XGBoost gets the rows sorted by the feature one round on a sample of them
-- finds most telling (its histograms read the rows of a tree node together): the model still does
-- not depend on the order rows come in, with held-out rows too, and uba still predicts as XGBoost
CREATE TABLE bt_big AS
SELECT g AS id, ARRAY[(g::int8 * 7919 % 1000) / 100.0, (g::int8 * 104729 % 997) / 99.7, g % 3]::float8[] AS f,
       (g::int8 * 7919 % 1000) / 100.0 + (g % 3) + (g * 31 % 7) / 3.5 > 7 AS y
  FROM generate_series(1, 120000) g;
SELECT (SELECT pg_temp.digest(uba_boost_train(y, f, '{"n_estimators": 5, "max_depth": 3}'::jsonb)) FROM (SELECT * FROM bt_big ORDER BY id) x)
     = (SELECT pg_temp.digest(uba_boost_train(y, f, '{"n_estimators": 5, "max_depth": 3}'::jsonb)) FROM (SELECT * FROM bt_big ORDER BY md5(id::text)) x)
       AS big_order_free,
       (SELECT pg_temp.digest(uba_boost_train(y, f, '{"n_estimators": 5, "validation_fraction": 0.25}'::jsonb)) FROM (SELECT * FROM bt_big ORDER BY id) x)
     = (SELECT pg_temp.digest(uba_boost_train(y, f, '{"n_estimators": 5, "validation_fraction": 0.25}'::jsonb)) FROM (SELECT * FROM bt_big ORDER BY id DESC) x)
       AS big_held_out_order_free;
SELECT (uba_model_info(m)->>'xgboost_margin_difference')::float8 < 1e-6 AS big_margins_agree,
       (uba_model_info(m)->>'xgboost_shap_difference')::float8 < 1e-5 AS big_shap_agrees,
       (uba_model_info(m)->'validation'->>'rows')::int BETWEEN 29000 AND 31000 AS a_quarter_held_out
  FROM (SELECT uba_boost_train(y, f, '{"n_estimators": 5, "validation_fraction": 0.25}'::jsonb) AS m FROM bt_big) s;

-- options are XGBoost's: deeper trees and more rounds fit the training rows more closely
SELECT (SELECT uba_model_info(uba_boost_train(spend, f, '{"n_estimators": 5, "max_depth": 2}'::jsonb))->'nodes' FROM bt_rows)::int
     < (SELECT uba_model_info(uba_boost_train(spend, f, '{"n_estimators": 5, "max_depth": 5}'::jsonb))->'nodes' FROM bt_rows)::int
       AS deeper_has_more_nodes;
SELECT (SELECT uba_model_info(uba_boost_train(spend, f, '{"n_estimators": 5, "reg_lambda": 0, "learning_rate": 1, "max_depth": 1, "min_child_weight": 0}'::jsonb)) FROM bt_rows)->'trees' AS stumps;

-- global importance from explanations: the mean absolute TreeSHAP value of each feature over the
-- rows given (an aggregate, so per segment with GROUP BY); equal to averaging uba_boost_explain
CREATE TABLE bt_named AS
SELECT uba_boost_train(churned, f, '{"n_estimators": 30, "max_depth": 3, "feature_names": ["tenure", "charges", "calls", "noise"]}'::jsonb) AS b
  FROM bt_rows;
SELECT key AS feature, round(value::numeric, 4) AS mean_abs_shap
  FROM jsonb_each_text((SELECT uba_shap_importance((SELECT b FROM bt_named), f) FROM bt_rows WHERE id % 10 = 0))
 ORDER BY value::float8 DESC;
SELECT abs((SELECT (uba_shap_importance((SELECT b FROM bt_named), f)->>'calls')::float8 FROM bt_rows WHERE id % 10 = 0)
           - (SELECT avg(abs(e.contribution)) FROM bt_rows r, uba_boost_explain((SELECT b FROM bt_named), r.f) e
               WHERE r.id % 10 = 0 AND e.feature = 3)) < 1e-12 AS equals_mean_of_explanations;
SELECT (id % 2 = 0) AS even, (uba_shap_importance((SELECT b FROM bt_named), f)->>'tenure')::float8 > 0 AS tenure_matters
  FROM bt_rows GROUP BY 1 ORDER BY 1;
SELECT uba_shap_importance((SELECT b FROM bt_named), f) IS NULL AS no_rows FROM bt_rows WHERE false;
-- rows are explained in batches on uba.threads threads: the same answer on one thread as on two
SET uba.threads = 1;
CREATE TEMP TABLE bt_shap_one AS SELECT uba_shap_importance((SELECT b FROM bt_named), f) AS s FROM bt_rows;
SET uba.threads = 2;
SELECT (SELECT s FROM bt_shap_one) = uba_shap_importance((SELECT b FROM bt_named), f) AS same_on_two_threads,
       (SELECT count(*) FROM jsonb_object_keys((SELECT s FROM bt_shap_one))) AS features
  FROM bt_rows;
RESET uba.threads;
SELECT expect_error($$SELECT uba_shap_importance(CASE WHEN id % 2 = 0 THEN b ELSE (SELECT uba_boost_train(spend, f, '{"n_estimators": 2}') FROM bt_rows) END, f) FROM bt_rows, bt_named$$);
SELECT expect_error($$SELECT uba_shap_importance(b, ARRAY[1.0]) FROM bt_named$$);

-- export: XGBoost's JSON model format (bench/boost_reference.py loads it in Python XGBoost and
-- checks its predictions equal uba's); here its shape: every tree with its nodes, the objective,
-- the base score, the names
SELECT json_array_length(e->'learner'->'gradient_booster'->'model'->'trees') AS trees,
       (SELECT sum(json_array_length(t->'left_children')) FROM json_array_elements(e->'learner'->'gradient_booster'->'model'->'trees') t)
         = (uba_model_info(b)->>'nodes')::int AS every_node,
       e->'learner'->'objective'->>'name' AS objective,
       e->'learner'->'learner_model_param'->>'base_score' AS base_score,
       e->'version' AS version
  FROM (SELECT b, uba_boost_export(b) AS e FROM bt_model) x;
-- numbers XGBoost reads as floats are written as floats
SELECT uba_boost_export(uba_boost_train(spend, f, '{"n_estimators": 1, "max_depth": 1}'::jsonb))::text ~ '"split_conditions": \[[-0-9.e+]+\.[0-9]' AS floats
  FROM bt_rows;
SELECT json_array_length(uba_boost_export(b)->'learner'->'feature_names') AS names,
       uba_boost_export(b)->'learner'->'gradient_booster'->'model'->'gbtree_model_param'->>'num_parallel_tree' AS parallel
  FROM (SELECT uba_forest_train(churned, f, '{"n_estimators": 5, "feature_names": ["tenure", "charges", "calls", "noise"]}'::jsonb) AS b FROM bt_rows) x;
SELECT expect_error($$SELECT uba_boost_export(l) FROM (SELECT uba_logreg_train(churned, f) AS l FROM bt_rows) x$$);

-- early stopping: a share of the rows held out (drawn with the seed over the canonical order), scored
-- after every round with XGBoost's metric (logloss, rmse); training stops when it has not improved
-- for early_stopping_rounds rounds and the model keeps the best round's trees
CREATE TABLE bt_early AS
SELECT uba_boost_train(churned, f, '{"n_estimators": 400, "learning_rate": 0.5, "max_depth": 6, "validation_fraction": 0.25, "early_stopping_rounds": 5}'::jsonb) AS b,
       uba_boost_train(spend, f, '{"n_estimators": 30, "validation_fraction": 0.2}'::jsonb) AS r
  FROM bt_rows;
SELECT (uba_model_info(b)->>'rounds')::int < 400 AS stopped_early,
       (uba_model_info(b)->>'rounds')::int = (uba_model_info(b)->>'trees')::int AS keeps_the_best_rounds,
       uba_model_info(b)->'validation'->>'metric' AS metric,
       (uba_model_info(b)->'validation'->>'rows')::int BETWEEN 900 AND 1100 AS about_a_quarter_held_out,
       (uba_model_info(b)->>'training_rows')::int + (uba_model_info(b)->'validation'->>'rows')::int AS all_rows,
       (uba_model_info(b)->>'xgboost_margin_difference')::float8 <= 1e-6 AS agrees,
       (uba_model_info(b)->>'xgboost_shap_difference')::float8 <= 1e-5 AS shap_agrees
  FROM bt_early;
-- without early_stopping_rounds every round is kept and the last round's metric reported
SELECT uba_model_info(r)->'rounds' AS rounds, uba_model_info(r)->'validation'->>'metric' AS metric,
       (uba_model_info(r)->'validation'->>'value')::float8 > 0 AS has_value
  FROM bt_early;
-- the held-out rows do not depend on the row order
SELECT (SELECT pg_temp.digest(uba_boost_train(churned, f, '{"n_estimators": 50, "validation_fraction": 0.3, "early_stopping_rounds": 3}'::jsonb)) FROM (SELECT * FROM bt_rows ORDER BY id) x)
     = (SELECT pg_temp.digest(uba_boost_train(churned, f, '{"n_estimators": 50, "validation_fraction": 0.3, "early_stopping_rounds": 3}'::jsonb)) FROM (SELECT * FROM bt_rows ORDER BY id DESC) x)
       AS early_stopping_order_free;
SELECT expect_error($$SELECT uba_boost_train(churned, f, '{"early_stopping_rounds": 5}') FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train(churned, f, '{"validation_fraction": 0.95}') FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train(churned, f, '{"validation_fraction": 0.5}') FROM bt_rows WHERE id <= 2$$);
SELECT expect_error($$SELECT uba_forest_train(churned, f, '{"validation_fraction": 0.2}') FROM bt_rows$$);

-- cross-validation inside the same call: each row scored once by a model trained on the other
-- folds; the metric's mean and spread are stored, and the model is trained on all rows
CREATE TABLE bt_cv AS
SELECT uba_boost_train(churned, f, '{"n_estimators": 40, "max_depth": 3, "cv_folds": 4}'::jsonb) AS b,
       uba_boost_train(churned, f, '{"n_estimators": 40, "max_depth": 3}'::jsonb) AS plain
  FROM bt_rows;
SELECT uba_model_info(b)->'cross_validation'->'folds' AS folds,
       uba_model_info(b)->'cross_validation'->>'metric' AS metric,
       (uba_model_info(b)->'cross_validation'->>'mean')::float8 BETWEEN 0.01 AND 0.7 AS plausible_logloss,
       (uba_model_info(b)->'cross_validation'->>'std')::float8 >= 0 AS has_spread,
       (uba_model_info(b)->>'training_rows')::int AS trained_on_all_rows,
       (SELECT bool_and(uba_boost_predict(b, f) = uba_boost_predict(plain, f)) FROM bt_rows WHERE id % 7 = 0)
         AS the_model_is_the_one_without_cv
  FROM bt_cv;
-- an overfit model shows it: deep trees, many rounds, a high learning rate cross-validate worse
SELECT (SELECT (uba_model_info(uba_boost_train(churned, f, '{"n_estimators": 200, "max_depth": 10, "learning_rate": 1, "min_child_weight": 0, "cv_folds": 3}'::jsonb))->'cross_validation'->>'mean')::float8 FROM bt_rows)
     > (SELECT (uba_model_info(uba_boost_train(churned, f, '{"n_estimators": 40, "max_depth": 3, "cv_folds": 3}'::jsonb))->'cross_validation'->>'mean')::float8 FROM bt_rows)
       AS overfitting_shows;
SELECT expect_error($$SELECT uba_boost_train(churned, f, '{"cv_folds": 1}') FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train(churned, f, '{"cv_folds": 3, "validation_fraction": 0.2}') FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train(churned, f, '{"cv_folds": 20}') FROM bt_rows WHERE id <= 3$$);

-- random forests: XGBoost's random-forest mode, one round of parallel trees, scored and explained
-- by the same evaluator
CREATE TABLE bt_forest AS
SELECT uba_forest_train(churned, f, '{"n_estimators": 50, "seed": 2}'::jsonb) FILTER (WHERE id % 5 <> 0) AS b,
       uba_forest_train(spend, f, '{"n_estimators": 20, "max_depth": 6}'::jsonb) FILTER (WHERE id % 5 <> 0) AS r
  FROM bt_rows;
SELECT uba_model_info(b)->>'method' AS method, uba_model_info(b)->'trees' AS trees,
       (uba_model_info(b)->>'xgboost_margin_difference')::float8 <= 1e-6 AS agrees,
       (uba_model_info(b)->>'xgboost_shap_difference')::float8 <= 1e-5 AS shap_agrees,
       uba_model_info(r)->'trees' AS regression_trees, (uba_model_info(r)->'depth')::int <= 6 AS depth_kept
  FROM bt_forest;
SELECT round(uba_auc(uba_boost_predict(b, f), churned)::numeric, 3) AS forest_held_out_auc,
       round(uba_rmse(uba_boost_predict(r, f), spend)::numeric, 3) AS forest_held_out_rmse
  FROM bt_rows, bt_forest WHERE id % 5 = 0;
SELECT max(abs((SELECT sum(contribution) FROM uba_boost_explain(b, f)) - ln(uba_boost_predict(b, f) / (1 - uba_boost_predict(b, f))))) < 1e-5 AS forest_explanations_add_up
  FROM bt_rows, bt_forest WHERE id % 97 = 0;
SELECT expect_error($$SELECT uba_forest_train(churned, f, '{"learning_rate": 0.1}') FROM bt_rows$$);
SELECT expect_error($$SELECT uba_forest_train(churned, f, '{"colsample_bynode": 2}') FROM bt_rows$$);

-- one scorer and one explainer for every model that predicts from a feature array: the same numbers
-- as each kind's own functions
CREATE TABLE bt_other AS
SELECT uba_logreg_train(churned, f) AS l, uba_linreg_train(spend, f) AS li, uba_kmeans(f, 3, '{"seed": 1}'::jsonb) AS k
  FROM bt_rows;
SELECT bool_and(uba_predict(b, f) = uba_boost_predict(b, f)) AS boost,
       bool_and(uba_predict(r, f) = uba_boost_predict(r, f)) AS boost_regression,
       bool_and(uba_predict(l, f) = uba_logreg_predict(l, f)) AS logreg,
       bool_and(uba_predict(li, f) = uba_linreg_predict(li, f)) AS linreg
  FROM bt_rows, bt_model, bt_other WHERE id % 37 = 0;
SELECT bool_and(uba_predict(b, f) = uba_boost_predict(b, f)) AS forest FROM bt_rows, bt_forest WHERE id % 37 = 0;
SELECT (SELECT array_agg(ROW(e.*) ORDER BY e.feature) FROM bt_model, uba_explain(b, ARRAY[5, 95, 4, 0.1]::float8[], 2) e)
     = (SELECT array_agg(ROW(e.*) ORDER BY e.feature) FROM bt_model, uba_boost_explain(b, ARRAY[5, 95, 4, 0.1]::float8[], 2) e) AS boost_explained,
       (SELECT array_agg(ROW(e.*) ORDER BY e.feature) FROM bt_other, uba_explain(l, ARRAY[5, 95, 4, 0.1]::float8[]) e)
     = (SELECT array_agg(ROW(e.*) ORDER BY e.feature) FROM bt_other, uba_logreg_explain(l, ARRAY[5, 95, 4, 0.1]::float8[]) e) AS logreg_explained;
-- where they do not apply, the error says what to use
SELECT expect_error($$SELECT uba_predict(k, ARRAY[1, 2, 3, 4]::float8[]) FROM bt_other$$);
SELECT expect_error($$SELECT e.* FROM bt_other, uba_explain(li, ARRAY[1, 2, 3, 4]::float8[]) e$$);
SELECT expect_error($$SELECT uba_predict(uba_cf_train(x, x % 3, 1.0), ARRAY[1.0]) FROM generate_series(1, 10) x$$);
SELECT expect_error($$SELECT uba_predict('\x00'::bytea, ARRAY[1.0])$$);
SELECT expect_error($$SELECT uba_predict(b, ARRAY[1.0]) FROM bt_model$$);

-- errors
SELECT expect_error($$SELECT uba_boost_train(true, f) FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train(churned, f, '{"n_estimators": 0}') FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train(churned, f, '{"trees": 10}') FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train(churned, f, '{"max_depth": 40}') FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train(spend, ARRAY[f[1], 'NaN']) FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train('Infinity'::float8, f) FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train(churned, CASE WHEN id = 7 THEN ARRAY[1.0] ELSE f END) FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_predict(b, ARRAY[1.0, 2.0]) FROM bt_model$$);
SELECT expect_error($$SELECT uba_logreg_predict(b, ARRAY[1.0, 2.0, 3.0, 4.0]) FROM bt_model$$);
SELECT expect_error($$SELECT uba_boost_predict(uba_kmeans(ARRAY[x::float8], 2), ARRAY[1.0]) FROM generate_series(1, 10) x$$);
SELECT expect_error($$SELECT e.* FROM bt_model, uba_boost_explain(b, ARRAY[1.0]) e$$);
SELECT expect_error($$SELECT e.* FROM bt_model, uba_boost_explain(b, ARRAY[1.0, 2, 3, 4], -1) e$$);
SELECT expect_error($$SELECT * FROM uba_feature_importance((SELECT uba_kmeans(ARRAY[x::float8], 2) FROM generate_series(1, 10) x))$$);
-- no rows, or only NULLs: NULL; a NULL argument to the scorer: NULL
SELECT uba_boost_train(churned, f) IS NULL AS no_rows FROM bt_rows WHERE false;
SELECT uba_boost_train(NULL::boolean, f) IS NULL AS null_labels FROM bt_rows;
SELECT uba_boost_predict(b, NULL) IS NULL AS null_features FROM bt_model;

-- damaged payloads with a valid checksum (reseal); the payload starts at p = 32 + metadata
-- length: objective (u32) at p, flags at p + 4, rounds at p + 8, base margin (f64) at p + 12,
-- margin difference at p + 20, SHAP difference at p + 28, held-out rows (u64) at p + 36, their
-- metric (f64) at p + 44, cross-validation folds (u32) at p + 52, mean and spread (f64) at p + 56
-- and p + 64, the tuning record's length (u32, 0) at p + 72, trees (u32) at p + 76, the first
-- tree's node count at p + 80 and its root from p + 84: feature, flags, left, right (u32 each),
-- value, gain, cover (f32)
CREATE TABLE bt_damaged AS SELECT b AS m, 32 + get_u32(b, 12)::int AS p FROM bt_model;
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p, 7))) FROM bt_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 4, 2))) FROM bt_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 36, 5))) FROM bt_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 52, 3))) FROM bt_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 72, 4))) FROM bt_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 80, 2))) FROM bt_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 84, 99))) FROM bt_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 92, 0))) FROM bt_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 88, 2))) FROM bt_damaged$$);
SELECT expect_error($$SELECT uba_boost_predict(reseal(put_u32(m, p + 76, 100000)), ARRAY[1.0, 2.0, 3.0, 4.0]) FROM bt_damaged$$);
SELECT expect_error($$SELECT uba_boost_predict(substring(m FROM 1 FOR length(m) - 9), ARRAY[1.0, 2.0, 3.0, 4.0]) FROM bt_damaged$$);
-- the metadata's feature count (offset 32) is checked too: the fuzzer found a claim of 2^31 - 1
-- features asking for 8 GB before (XX000)
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, 32, 2147483647))) FROM bt_damaged$$);

-- tuning: seeded random search over ranges, each trial scored by cross-validation (3 folds unless
-- cv_folds says otherwise), the model trained with the best trial's options, every trial kept
CREATE TABLE bt_tuned AS
SELECT uba_boost_train(churned, f, '{"n_estimators": 30, "seed": 7, "tune": {"trials": 6, "max_depth": [1, 6], "learning_rate": [0.02, 0.5], "min_child_weight": [1, 20]}}'::jsonb) AS b
  FROM bt_rows WHERE id % 5 <> 0;
SELECT uba_model_info(b)->'tuning'->'metric' AS metric, uba_model_info(b)->'tuning'->'folds' AS folds,
       jsonb_array_length(uba_model_info(b)->'tuning'->'trials') AS trials,
       (SELECT bool_and((t->>'max_depth')::int BETWEEN 1 AND 6 AND (t->>'max_depth')::numeric = round((t->>'max_depth')::numeric)
                        AND (t->>'learning_rate')::float8 BETWEEN 0.02 AND 0.5 AND (t->>'min_child_weight')::float8 BETWEEN 1 AND 20)
          FROM jsonb_array_elements(uba_model_info(b)->'tuning'->'trials') t) AS within_ranges
  FROM bt_tuned;
-- the best trial has the lowest mean, and the model has its options and its cross-validation
SELECT (i.t->'trials'->((i.t->>'best_trial')::int - 1)->>'mean')::float8 =
         (SELECT min((x->>'mean')::float8) FROM jsonb_array_elements(i.t->'trials') x) AS best_is_lowest,
       (i.t->'trials'->((i.t->>'best_trial')::int - 1)->>'max_depth')::int = (i.o->>'max_depth')::int AS options_kept,
       (i.t->'trials'->((i.t->>'best_trial')::int - 1)->>'mean')::float8 = (i.cv->>'mean')::float8 AS cv_kept
  FROM (SELECT uba_model_info(b)->'tuning' AS t, uba_model_info(b)->'options' AS o,
               uba_model_info(b)->'cross_validation' AS cv FROM bt_tuned) i;
-- the same rows and seed give the same trials and model
SELECT uba_boost_export(b)::text = (SELECT uba_boost_export(uba_boost_train(churned, f, '{"n_estimators": 30, "seed": 7, "tune": {"trials": 6, "max_depth": [1, 6], "learning_rate": [0.02, 0.5], "min_child_weight": [1, 20]}}'::jsonb))::text
                                      FROM bt_rows WHERE id % 5 <> 0) AS reproducible
  FROM bt_tuned;
-- the tuned model predicts held-out rows well
SELECT uba_auc(uba_predict(b, f), churned) > 0.8 AS tuned_auc_ok FROM bt_tuned, bt_rows WHERE id % 5 = 0 GROUP BY b;
-- max_bin bins the training matrix (XGBoost's quantile matrix, made with the booster's max_bin):
-- fewer bins give another model, still predicted by uba as XGBoost predicts it; tuned, the final
-- matrix takes the best trial's max_bin
SELECT (uba_model_info(m)->>'xgboost_margin_difference')::float8 <= 1e-6 AS margins_agree,
       uba_boost_export(m)::text <> (SELECT uba_boost_export(uba_boost_train(churned, f, '{"n_estimators": 10}'::jsonb))::text FROM bt_rows) AS other_model
  FROM (SELECT uba_boost_train(churned, f, '{"n_estimators": 10, "max_bin": 4}'::jsonb) AS m FROM bt_rows) s;
CREATE TABLE bt_bins AS
SELECT uba_boost_train(churned, f, '{"n_estimators": 10, "seed": 3, "tune": {"trials": 4, "max_bin": [4, 64]}}'::jsonb) AS m
  FROM bt_rows;
SELECT (i.o->>'max_bin')::int = (i.t->'trials'->((i.t->>'best_trial')::int - 1)->>'max_bin')::int AS best_max_bin_kept,
       (SELECT count(DISTINCT x->>'max_bin') FROM jsonb_array_elements(i.t->'trials') x) > 1 AS bins_tried,
       -- XGBoost only warns when a quantile matrix's bins are not the booster's, and keeps its own
       uba_boost_export(m)::text = (SELECT uba_boost_export(uba_boost_train(churned, f,
           jsonb_build_object('n_estimators', 10, 'seed', 3, 'max_bin', (i.o->>'max_bin')::int)))::text FROM bt_rows) AS same_as_untuned
  FROM (SELECT m, uba_model_info(m)->'options' AS o, uba_model_info(m)->'tuning' AS t FROM bt_bins) i;
SELECT expect_error($$SELECT uba_boost_train(churned, f, '{"tune": {"trials": 0, "max_depth": [2, 6]}}') FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train(churned, f, '{"tune": {"trials": 2, "depth": [2, 6]}}') FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train(churned, f, '{"tune": {"trials": 2, "max_depth": [6, 2]}}') FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train(churned, f, '{"tune": {"trials": 2, "max_depth": [2.2, 2.8]}}') FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train(churned, f, '{"tune": {"trials": 2, "max_depth": 3}}') FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train(churned, f, '{"tune": {"trials": 2}}') FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train(churned, f, '{"validation_fraction": 0.2, "tune": {"trials": 2, "max_depth": [2, 3]}}') FROM bt_rows$$);
SELECT expect_error($$SELECT uba_forest_train(churned, f, '{"tune": {"trials": 2, "max_depth": [2, 3]}}') FROM bt_rows$$);

-- multi-class: a text label trains multi:softprob; the classes are the labels in byte order
CREATE TABLE bt_multi AS
SELECT uba_boost_train(CASE WHEN f[1] < 24 THEN 'new' WHEN f[3] >= 4 THEN 'unhappy' ELSE 'loyal' END, f,
                       '{"n_estimators": 25, "max_depth": 3}'::jsonb) AS b,
       uba_boost_train((f[1]::int / 24)::float8, f, '{"n_estimators": 10, "objective": "multiclass"}'::jsonb) AS n,
       uba_forest_train(CASE WHEN f[1] < 24 THEN 'new' ELSE 'old' END, f, '{"n_estimators": 20}'::jsonb) AS fo
  FROM bt_rows WHERE id % 5 <> 0;
SELECT uba_model_info(b)->'objective' AS objective, uba_model_info(b)->'classes' AS classes,
       uba_model_info(b)->'trees' AS trees, uba_model_info(n)->'classes' AS numeric_classes,
       (uba_model_info(b)->>'xgboost_margin_difference')::float8 <= 1e-6 AS margins_agree,
       (uba_model_info(b)->>'xgboost_shap_difference')::float8 <= 1e-5 AS shap_agrees,
       (uba_model_info(fo)->>'xgboost_margin_difference')::float8 <= 1e-6 AS forest_agrees
  FROM bt_multi;
-- probabilities in the order of the classes, adding up to 1; the class is the most probable one
SELECT bool_and(abs((SELECT sum(p) FROM unnest(uba_predict_proba(b, f)) p) - 1) < 1e-9) AS proba_sum_to_one,
       bool_and(uba_predict_class(b, f) = (ARRAY['loyal', 'new', 'unhappy'])[
                  (SELECT i FROM unnest(uba_predict_proba(b, f)) WITH ORDINALITY u(p, i) ORDER BY p DESC, i LIMIT 1)]) AS class_is_argmax,
       avg((uba_predict_class(b, f) = CASE WHEN f[1] < 24 THEN 'new' WHEN f[3] >= 4 THEN 'unhappy' ELSE 'loyal' END)::int) > 0.9 AS held_out_accuracy,
       bool_and(uba_predict(n, f) = uba_predict_class(n, f)::float8) AS numeric_class_predicted
  FROM bt_multi, bt_rows WHERE id % 5 = 0;
-- binary and logistic models answer too: [false, true] and 'true' from 0.5
SELECT uba_predict_proba(b, ARRAY[3, 50, 4, 0]) = ARRAY[1 - uba_predict(b, ARRAY[3, 50, 4, 0]), uba_predict(b, ARRAY[3, 50, 4, 0])] AS binary_proba,
       uba_predict_class(b, ARRAY[3, 50, 4, 0]) = (uba_predict(b, ARRAY[3, 50, 4, 0]) >= 0.5)::text AS binary_class
  FROM bt_model;
-- an explanation is of the predicted class's margin; importance averages the classes'
SELECT count(*) AS rows FROM bt_multi, uba_explain(b, ARRAY[3, 50, 4, 0]);
SELECT (SELECT count(*) FROM jsonb_object_keys(uba_shap_importance(b, f))) AS features FROM bt_multi, bt_rows GROUP BY b;
-- row order does not change the model (text labels are ranked in byte order before training)
SELECT uba_boost_export(b)::text = (SELECT uba_boost_export(uba_boost_train(CASE WHEN f[1] < 24 THEN 'new' WHEN f[3] >= 4 THEN 'unhappy' ELSE 'loyal' END, f,
                       '{"n_estimators": 25, "max_depth": 3}'::jsonb))::text FROM (SELECT * FROM bt_rows WHERE id % 5 <> 0 ORDER BY id DESC) o) AS same_model
  FROM bt_multi;
SELECT expect_error($$SELECT uba_predict(b, ARRAY[3, 50, 4, 0]) FROM bt_multi$$);
SELECT expect_error($$SELECT uba_boost_train('only', f) FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train(id::float8, f, '{"objective": "multiclass"}') FROM bt_rows$$);
SELECT expect_error($$SELECT uba_boost_train(churned, f, '{"objective": "multiclass"}') FROM bt_rows$$);
SELECT expect_error($$SELECT uba_predict_proba(r, ARRAY[3, 50, 4, 0]) FROM bt_model$$);
SELECT expect_error($$SELECT uba_predict_class(uba_kmeans(f, 2), ARRAY[3, 50, 4, 0]) FROM bt_rows$$);
-- damaged: the class count (after the tuning length, at p + 76) and a tree's class
CREATE TABLE bt_multi_damaged AS SELECT b AS m, 32 + get_u32(b, 12)::int AS p FROM bt_multi;
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 76, 1))) FROM bt_multi_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 80, 2))) FROM bt_multi_damaged$$);

DROP TABLE bt_rows, bt_model, bt_par, bt_damaged, bt_forest, bt_other, bt_early, bt_named, bt_cv, bt_tuned, bt_bins, bt_multi, bt_multi_damaged;
