-- logistic regression: training, scoring, options and every user error
SET extra_float_digits = 0;
-- two overlapping classes along x
CREATE TABLE lr (id int, label boolean, f float8[]);
INSERT INTO lr SELECT g, (g % 10) < (g / 10), ARRAY[g / 10.0, (g % 3)::float8] FROM generate_series(0, 99) g;

CREATE TABLE lr_model AS SELECT uba_logreg_train(label, f) AS m FROM lr;
SELECT info->>'kind' AS kind, info->'features' AS features, info->'training_rows' AS training_rows,
       info->'converged' AS converged, (info->>'iterations')::int BETWEEN 3 AND 20 AS few_iterations,
       (info->>'gradient_norm')::float8 < 1e-10 AS at_optimum, info->'options' AS options
  FROM (SELECT uba_model_info(m) AS info FROM lr_model) s;
-- probabilities rise with x; classify at 0.5 and at another threshold
SELECT id, round(uba_logreg_predict((SELECT m FROM lr_model), f)::numeric, 6) AS p,
       uba_logreg_classify((SELECT m FROM lr_model), f) AS at_half,
       uba_logreg_classify((SELECT m FROM lr_model), f, 0.9) AS at_090
  FROM lr WHERE id IN (0, 25, 50, 75, 99) ORDER BY id;
SELECT round(uba_auc(uba_logreg_predict((SELECT m FROM lr_model), f), label)::numeric, 6) AS train_auc FROM lr;

-- coefficients: input units, per-standard-deviation, odds ratios and Wald statistics.
-- Input-units coefficients do not depend on standardizing (without a penalty): both fits agree.
SELECT feature, name, round(coefficient::numeric, 6) AS coefficient, round(std_coefficient::numeric, 6) AS std_coefficient,
       round(odds_ratio::numeric, 6) AS odds_ratio, round(std_error::numeric, 6) AS std_error,
       round(z::numeric, 4) AS z, round(p_value::numeric, 6) AS p_value
  FROM uba_logreg_coefficients((SELECT uba_logreg_train(label, f, '{"l2": 0, "standardize": false}') FROM lr));
SELECT feature, name, round(coefficient::numeric, 6) AS coefficient, round(std_error::numeric, 6) AS std_error,
       round(p_value::numeric, 6) AS p_value
  FROM uba_logreg_coefficients((SELECT uba_logreg_train(label, f, '{"l2": 0}') FROM lr));
-- explanations: a baseline row, then features by size; all rows add up to the log-odds
SELECT feature, name, value, round(contribution::numeric, 6) AS contribution
  FROM uba_logreg_explain((SELECT m FROM lr_model), '{9, 2}');
SELECT id, round((SELECT sum(contribution) FROM uba_logreg_explain((SELECT m FROM lr_model), f))::numeric, 12)
         = round(ln(p / (1 - p))::numeric, 12) AS sums_to_logit
  FROM (SELECT id, f, uba_logreg_predict((SELECT m FROM lr_model), f) AS p FROM lr WHERE id IN (3, 47, 88)) s ORDER BY id;
SELECT count(*) AS rows_with_top_1 FROM uba_logreg_explain((SELECT m FROM lr_model), '{9, 2}', 1);
SELECT count(*) AS rows_with_top_0 FROM uba_logreg_explain((SELECT m FROM lr_model), '{9, 2}', 0);

-- options: each changes the model; l2 = 0 on separable data never converges (NOTICE)
SELECT round(uba_logreg_predict(uba_logreg_train(label, f, '{"l2": 100}'), '{5, 1}')::numeric, 6) AS strong_l2,
       round(uba_logreg_predict(uba_logreg_train(label, f, '{"class_weight": "balanced"}'), '{5, 1}')::numeric, 6) AS balanced,
       round(uba_logreg_predict(uba_logreg_train(label, f, '{"standardize": false}'), '{5, 1}')::numeric, 6) AS raw,
       round(uba_logreg_predict(uba_logreg_train(label, f, '{"fit_intercept": false}'), '{5, 1}')::numeric, 6) AS no_intercept
  FROM lr;
SELECT uba_model_info(uba_logreg_train(label, f, '{"max_iter": 1}'))->'converged' AS one_iteration FROM lr;
SELECT uba_model_info(uba_logreg_train(x > 5, ARRAY[x], '{"l2": 0, "max_iter": 30}'))->'converged' AS separable
  FROM generate_series(1, 10) x;

-- NULL rows skipped, no rows gives NULL; scoring is strict
SELECT uba_model_info(uba_logreg_train(label, f))->'training_rows' FROM
	(SELECT label, f FROM lr UNION ALL SELECT NULL, '{1,1}' UNION ALL SELECT true, NULL) s;
SELECT uba_logreg_train(label, f) IS NULL AS no_rows FROM lr WHERE false;
SELECT uba_logreg_predict(m, NULL) IS NULL, uba_logreg_classify(m, '{1,1}', NULL) IS NULL FROM lr_model;

-- errors
SELECT expect_error($$SELECT uba_logreg_train(true, f) FROM lr$$);
SELECT expect_error($$SELECT uba_logreg_train(label, f, '{"l2": -1}') FROM lr$$);
-- a named choice is kept as its name in the model's options (it used to read as a boolean)
SELECT uba_model_info(uba_logreg_train(label, f, '{"class_weight": "balanced"}'))->'options'->'class_weight' AS class_weight FROM lr;
SELECT expect_error($$SELECT uba_logreg_train(label, f, '{"class_weight": "auto"}') FROM lr$$);
SELECT expect_error($$SELECT uba_logreg_train(label, f, '{"lambda": 1}') FROM lr$$);
SELECT expect_error($$SELECT uba_logreg_train(label, f, '{"max_iter": 0}') FROM lr$$);
SELECT expect_error($$SELECT uba_logreg_train(label, f, jsonb_build_object('l2', id)) FROM lr$$);
SELECT expect_error($$SELECT uba_logreg_train(label, CASE WHEN id = 7 THEN '{1,NaN}' ELSE f END) FROM lr$$);
SELECT expect_error($$SELECT uba_logreg_train(label, CASE WHEN id = 7 THEN '{1}' ELSE f END) FROM lr$$);
SELECT expect_error($$SELECT uba_logreg_predict(m, '{1,2,3}') FROM lr_model$$);
SELECT expect_error($$SELECT uba_logreg_classify(m, '{1,2}', 1.5) FROM lr_model$$);
SELECT expect_error($$SELECT * FROM uba_logreg_explain((SELECT m FROM lr_model), '{1,2}', -1)$$);
SELECT expect_error($$SELECT * FROM uba_logreg_explain((SELECT m FROM lr_model), '{1,NaN}')$$);
SELECT expect_error($$SELECT * FROM uba_logreg_coefficients((SELECT uba_kmeans(f, 2) FROM lr))$$);
-- a model of the wrong kind, both ways
SELECT expect_error($$SELECT uba_kmeans_assign(m, '{1,2}') FROM lr_model$$);
SELECT expect_error($$SELECT uba_logreg_predict(uba_kmeans(f, 2), '{1,2}') FROM lr$$);
-- a damaged model
SELECT expect_error($$SELECT uba_logreg_predict(set_byte(m, 200, get_byte(m, 200) # 1), '{1,2}') FROM lr_model$$);
-- forged with a valid checksum: unknown flags, feature count
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, 32 + get_u32(m, 12)::int + 4, 8))) FROM lr_model$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, 32 + get_u32(m, 12)::int, 3))) FROM lr_model$$);

-- feature_names: stored in the model, shown by uba_model_info, coefficients and explanations
CREATE TABLE lr_named AS
SELECT uba_logreg_train(label, f, '{"feature_names": ["days_since_order", "visits"]}') AS m FROM lr;
SELECT uba_model_info(m)->'feature_names' AS feature_names, uba_model_info(m)->'options' ? 'feature_names' AS in_options
  FROM lr_named;
SELECT feature, name, round(coefficient::numeric, 6) AS coefficient FROM uba_logreg_coefficients((SELECT m FROM lr_named));
SELECT feature, name, value, round(contribution::numeric, 6) AS contribution
  FROM uba_logreg_explain((SELECT m FROM lr_named), '{9, 2}', 1);
-- the names change nothing else: same probabilities
SELECT uba_logreg_predict((SELECT m FROM lr_named), '{4, 1}') = uba_logreg_predict((SELECT m FROM lr_model), '{4, 1}') AS same;
SELECT expect_error($$SELECT uba_logreg_train(label, f, '{"feature_names": ["a"]}') FROM lr$$);
SELECT expect_error($$SELECT uba_logreg_train(label, f, '{"feature_names": ["a", "a"]}') FROM lr$$);
SELECT expect_error($$SELECT uba_logreg_train(label, f, '{"feature_names": ["a", ""]}') FROM lr$$);
SELECT expect_error($$SELECT uba_logreg_train(label, f, '{"feature_names": ["a", 2]}') FROM lr$$);
SELECT expect_error($$SELECT uba_logreg_train(label, f, '{"feature_names": "a, b"}') FROM lr$$);
SELECT expect_error($$SELECT uba_logreg_train(label, f, jsonb_build_object('feature_names', jsonb_build_array('a', repeat('b', 1001)))) FROM lr$$);
-- k-means and ridge regression take names too
SELECT uba_model_info(uba_kmeans(f, 2, '{"feature_names": ["x", "y"]}'))->'feature_names' AS kmeans_names FROM lr;
SELECT uba_model_info(uba_linreg_train(id, f, '{"feature_names": ["x", "y"]}'))->'feature_names' AS linreg_names FROM lr;
SELECT expect_error($$SELECT uba_kmeans(f, 2, '{"feature_names": ["x"]}') FROM lr$$);
-- forged names: a count that is not the feature count, a repeated name
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, 36, 1))) FROM lr_named$$);
SELECT expect_error($$SELECT uba_model_info(reseal(overlay(m placing 'name_one' FROM position('name_two'::bytea IN m))))
  FROM (SELECT uba_logreg_train(label, f, '{"feature_names": ["name_one", "name_two"]}') AS m FROM lr) s$$);
-- ... a name with a zero byte, a name of length 0 (its u32 length sits just before it)
SELECT expect_error($$SELECT uba_model_info(reseal(overlay(m placing '\x00'::bytea FROM position('name_two'::bytea IN m))))
  FROM (SELECT uba_logreg_train(label, f, '{"feature_names": ["name_one", "name_two"]}') AS m FROM lr) s$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, position('name_two'::bytea IN m) - 5, 0)))
  FROM (SELECT uba_logreg_train(label, f, '{"feature_names": ["name_one", "name_two"]}') AS m FROM lr) s$$);

-- explicit class weights {"true": w, "false": w}: {"true": 1, "false": 1} is the unweighted fit,
-- and raising the weight of true raises every probability
SELECT uba_model_info(m)->'class_weights' AS class_weights, uba_model_info(m)->'options'->'class_weight' AS option
  FROM (SELECT uba_logreg_train(label, f, '{"class_weight": {"true": 4, "false": 0.5}}') AS m FROM lr) s;
SELECT bool_and(uba_logreg_predict((SELECT uba_logreg_train(label, f, '{"class_weight": {"true": 1, "false": 1}}') FROM lr), f)
                = uba_logreg_predict((SELECT m FROM lr_model), f)) AS unit_weights_unweighted FROM lr;
SELECT bool_and(uba_logreg_predict((SELECT uba_logreg_train(label, f, '{"class_weight": {"true": 4, "false": 1}}') FROM lr), f)
                > uba_logreg_predict((SELECT m FROM lr_model), f)) AS weighted_up FROM lr;
SELECT expect_error($$SELECT uba_logreg_train(label, f, '{"class_weight": {"true": 2}}') FROM lr$$);
SELECT expect_error($$SELECT uba_logreg_train(label, f, '{"class_weight": {"true": 2, "false": 1, "maybe": 1}}') FROM lr$$);
SELECT expect_error($$SELECT uba_logreg_train(label, f, '{"class_weight": {"true": -2, "false": 1}}') FROM lr$$);
SELECT expect_error($$SELECT uba_logreg_train(label, f, '{"class_weight": {"true": "2", "false": 1}}') FROM lr$$);
SELECT expect_error($$SELECT uba_logreg_train(label, f, '{"class_weight": [2, 1]}') FROM lr$$);

-- the options a model records are valid options: retraining with them gives the same model
-- (for pg_cron jobs that retrain with a saved model's settings), for each kind of class_weight
SELECT cw, uba_model_info(m)->'options'->'class_weight' AS recorded,
       (SELECT array_agg(coefficient ORDER BY feature) FROM uba_logreg_coefficients(m))
     = (SELECT array_agg(coefficient ORDER BY feature) FROM uba_logreg_coefficients(
          (SELECT uba_logreg_train(label, f, uba_model_info(m)->'options') FROM lr))) AS same_model
  FROM (SELECT cw, (SELECT uba_logreg_train(label, f, jsonb_build_object('class_weight', cw)) FROM lr) AS m
          FROM (VALUES ('"none"'::jsonb), ('"balanced"'), ('{"true": 3, "false": 0.5}')) v(cw)) s;

-- l1: a strong penalty zeroes the weaker feature; no standard errors (the optimum is on a kink)
SELECT info->'converged' AS converged, info->'nonzero_coefficients' AS nonzero
  FROM (SELECT uba_model_info(uba_logreg_train(label, f, '{"l1": 20, "l2": 0}')) AS info FROM lr) s;
SELECT feature, round(coefficient::numeric, 6) AS coefficient, std_error IS NULL AS no_std_error
  FROM uba_logreg_coefficients((SELECT uba_logreg_train(label, f, '{"l1": 20, "l2": 0}') FROM lr));
-- a penalty above the largest gradient leaves only the intercept: the base rate
SELECT info->'nonzero_coefficients' AS nonzero,
       round(uba_logreg_predict(m, '{0, 0}')::numeric, 6) AS base_rate, avg(label::int) AS share_true
  FROM (SELECT uba_logreg_train(label, f, '{"l1": 1e6, "l2": 0}') AS m FROM lr) s,
       LATERAL (SELECT uba_model_info(s.m) AS info) i, lr GROUP BY 1, 2;
SELECT expect_error($$SELECT uba_logreg_train(label, f, '{"l1": -1}') FROM lr$$);
-- values whose spread overflows double precision are refused before training, by the feature's name
SELECT expect_error($$SELECT uba_logreg_train(label, ARRAY[f[1], f[2] * 1e155], '{"feature_names": ["days", "revenue"]}') FROM lr$$);
-- forged class weighting: an unknown kind, a negative weight (payload: d, flags, iterations,
-- weighting kind at 12, l2 16, l1 24, weight of true 32)
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, 32 + get_u32(m, 12)::int + 12, 3))) FROM lr_model$$);
SELECT expect_error($$SELECT uba_model_info(reseal(overlay(m placing '\x000000000000f0bf'::bytea from 32 + get_u32(m, 12)::int + 33))) FROM lr_model$$);
-- aliased features (issue 16), as R's glm: without a penalty, a constant feature and one that is
-- a multiple of an earlier one are named in a NOTICE and in uba_model_info, get no statistics,
-- and the others get exactly what a fit without them gives (same predictions too)
CREATE TABLE lr_alias AS
SELECT g, ARRAY[sin(g), 5.0, cos(g * 0.3), 2 * sin(g)]::float8[] AS f, sin(g * 1.7) + sin(g) > 0 AS y
  FROM generate_series(1, 500) g;
CREATE TABLE lr_alias_models AS
SELECT uba_logreg_train(y, f, '{"l2": 0, "feature_names": ["a", "constant", "c", "twice a"]}'::jsonb) AS full_model,
       uba_logreg_train(y, f[1:1] || f[3:3], '{"l2": 0}'::jsonb) AS reduced
  FROM lr_alias;
SELECT uba_model_info(full_model)->'aliased' AS aliased, uba_model_info(full_model)->'converged' AS converged
  FROM lr_alias_models;
SELECT f.feature, f.name, round(f.coefficient::numeric, 6) AS coefficient, f.std_error IS NULL AS no_std_error,
       abs(f.coefficient - r.coefficient) < 1e-9 AND abs(f.std_error - r.std_error) < 1e-9 AS as_without_the_aliased
  FROM lr_alias_models m, uba_logreg_coefficients(m.full_model) f
  LEFT JOIN uba_logreg_coefficients((SELECT reduced FROM lr_alias_models)) r
         ON r.feature = CASE f.feature WHEN 1 THEN 1 WHEN 3 THEN 2 END
 ORDER BY f.feature;
SELECT max(abs(uba_logreg_predict(m.full_model, a.f) - uba_logreg_predict(m.reduced, a.f[1:1] || a.f[3:3]))) < 1e-12 AS same_predictions
  FROM lr_alias a, lr_alias_models m;
DROP TABLE lr_alias, lr_alias_models;
