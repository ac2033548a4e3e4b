-- ridge regression: training, scoring, options and every user error
SET extra_float_digits = 0;
-- y = 3 + 2 x1 - x2 exactly
CREATE TABLE rr (id int, y float8, f float8[]);
INSERT INTO rr SELECT g, 3 + 2 * g - (g % 4), ARRAY[g, g % 4]::float8[] FROM generate_series(1, 40) g;

-- without a penalty the exact coefficients come back, standardized or not
SELECT round(uba_linreg_predict(uba_linreg_train(y, f, '{"l2": 0}'), '{10, 1}')::numeric, 9) AS std_exact,
       round(uba_linreg_predict(uba_linreg_train(y, f, '{"l2": 0, "standardize": false}'), '{10, 1}')::numeric, 9) AS raw_exact
  FROM rr;
-- the penalty shrinks toward the mean (scikit-learn Ridge(alpha = 10) after StandardScaler: 26.129839811)
SELECT round(uba_linreg_predict(uba_linreg_train(y, f, '{"l2": 10}'), '{10, 1}')::numeric, 6) AS shrunk FROM rr;
SELECT info->>'kind' AS kind, info->'features' AS features, info->'training_rows' AS rows,
       info->'standardized' AS standardized, info->'fit_intercept' AS intercept, info->'options' AS options
  FROM (SELECT uba_model_info(uba_linreg_train(y, f)) AS info FROM rr) s;
-- without an intercept the fit goes through the origin
SELECT round(uba_linreg_predict(uba_linreg_train(y, f, '{"fit_intercept": false, "standardize": false, "l2": 0}'), '{0, 0}')::numeric, 9) AS at_origin FROM rr;
-- NULL rows skipped; no rows gives NULL; scoring is strict
SELECT uba_model_info(uba_linreg_train(y, f))->'training_rows' FROM
	(SELECT y, f FROM rr UNION ALL SELECT NULL, '{1,1}' UNION ALL SELECT 1, NULL) s;
SELECT uba_linreg_train(y, f) IS NULL AS no_rows FROM rr WHERE false;
SELECT uba_linreg_predict(uba_linreg_train(y, f), NULL) IS NULL AS strict FROM rr;
-- the state is the moments: a parallel plan gives the same model to rounding
CREATE TABLE rr_big AS SELECT g AS id, (g % 97) * 1.5 + (g % 13) AS y, ARRAY[g % 97, g % 13, g % 7]::float8[] AS f
  FROM generate_series(1, 50000) g;
ANALYZE rr_big;
SELECT round(uba_linreg_predict(uba_linreg_train(y, f), '{50, 6, 3}')::numeric, 9) AS serial FROM rr_big;
SELECT parallel_plans(true);
EXPLAIN (COSTS OFF) SELECT uba_linreg_train(y, f) FROM rr_big;
SELECT round(uba_linreg_predict(uba_linreg_train(y, f), '{50, 6, 3}')::numeric, 9) AS parallel FROM rr_big;
SELECT parallel_plans(false);

-- errors
SELECT expect_error($$SELECT uba_linreg_train('NaN', f) FROM rr$$);
SELECT expect_error($$SELECT uba_linreg_train(y, ARRAY[id, 2 * id]::float8[], '{"l2": 0, "standardize": false}') FROM rr$$);
SELECT expect_error($$SELECT uba_linreg_train(y, f, '{"class_weight": "balanced"}') FROM rr$$);
SELECT expect_error($$SELECT uba_linreg_train(y, f, '{"l2": -1}') FROM rr$$);
SELECT expect_error($$SELECT uba_linreg_train(y, f, jsonb_build_object('l2', id)) FROM rr$$);
SELECT expect_error($$SELECT uba_linreg_train(y, CASE WHEN id = 5 THEN '{1}' ELSE f END) FROM rr$$);
SELECT expect_error($$SELECT uba_linreg_train(1, array_fill(1.0::float8, ARRAY[4097]))$$);
SELECT expect_error($$SELECT uba_linreg_predict(uba_linreg_train(y, f), '{1}') FROM rr$$);
SELECT expect_error($$SELECT uba_logreg_predict(uba_linreg_train(y, f), '{1, 2}') FROM rr$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, 32 + get_u32(m, 12)::int + 4, 8))) FROM (SELECT uba_linreg_train(y, f) AS m FROM rr) s$$);

-- the state is a bytea (Citus splits the aggregate): states not made by the aggregate are refused
SELECT expect_error($$SELECT uba_linreg_final('\x00'::bytea)$$);
SELECT expect_error($$SELECT uba_linreg_final(set_byte(uba_linreg_transfn(NULL, 1.0, ARRAY[1.0, 2.0]), 8, 200))$$);
SELECT expect_error($$SELECT uba_linreg_combine(uba_linreg_transfn(NULL, 1.0, ARRAY[1.0]), uba_linreg_transfn(NULL, 1.0, ARRAY[1.0, 2.0]))$$);
-- its options are read from their text, checked as they are parsed: a state whose text is not JSON
SELECT expect_error($$SELECT uba_linreg_final(overlay(s placing '\x7b7b7b'::bytea from length(s) - 8))
                        FROM (SELECT uba_linreg_transfn(NULL, 1.0, ARRAY[1.0], '{"l2": 0.5}'::jsonb) AS s) v$$);
-- the transition, combine and final functions called by hand, as Citus's coordinator does
SELECT uba_linreg_predict(uba_linreg_final(uba_linreg_combine(
	uba_linreg_transfn(uba_linreg_transfn(NULL, 1.0, ARRAY[1.0]), 3.0, ARRAY[2.0]),
	uba_linreg_transfn(uba_linreg_transfn(NULL, 5.0, ARRAY[3.0]), 7.0, ARRAY[4.0]))), ARRAY[5.0]) AS by_hand,
       (SELECT uba_linreg_predict(uba_linreg_train(y, ARRAY[x]), ARRAY[5.0])
          FROM (VALUES (1.0, 1.0), (3.0, 2.0), (5.0, 3.0), (7.0, 4.0)) v(y, x)) AS aggregate;
