-- logistic regression by passes of statistics: uba_logreg_train(query [, options])
SET extra_float_digits = 0;

CREATE TABLE lp AS
SELECT i, ARRAY[sin(i), cos(i * 1.3), (i % 17)::float8, ((i * 7919) % 101)::float8 / 50]::float8[] AS f,
       (sin(i) + 0.3 * cos(i * 1.3) + 0.1 * (i % 17) - 0.8 + sin(i * 12.9898) * 1.5) > 0 AS y
  FROM generate_series(1, 20000) i;

-- the same model as the in-memory aggregate, option by option: coefficients to 1e-8
CREATE TABLE lp_cases (name text, options jsonb);
INSERT INTO lp_cases VALUES
  ('defaults', '{}'),
  ('no standardizing', '{"standardize": false}'),
  ('no intercept', '{"fit_intercept": false, "l2": 0.5}'),
  ('balanced', '{"class_weight": "balanced"}'),
  ('weights', '{"class_weight": {"true": 3, "false": 1}}'),
  ('lasso', '{"l1": 5, "l2": 0}'),
  ('unpenalized', '{"l2": 0}');
CREATE TABLE lp_pair AS
SELECT name, (SELECT uba_logreg_train(y, f, options) FROM lp) AS a,
       uba_logreg_train('SELECT y, f FROM lp', options) AS b
  FROM lp_cases;
SELECT lp_pair.name, max(abs(x.coefficient - z.coefficient)) < 1e-8 AS same_coefficients,
       max(abs(coalesce(x.std_error, 0) - coalesce(z.std_error, 0))) < 1e-8 AS same_errors,
       uba_model_info(b)->'options' = uba_model_info(a)->'options' AS same_options,
       uba_model_info(b)->'training_rows' AS rows
  FROM lp_pair, uba_logreg_coefficients(a) x JOIN uba_logreg_coefficients(b) z USING (feature)
 GROUP BY lp_pair.name, a, b ORDER BY lp_pair.name;
-- it scores as any logistic regression model
SELECT name, max(abs(uba_logreg_predict(a, f) - uba_logreg_predict(b, f))) < 1e-9 AS same_scores
  FROM lp_pair, lp GROUP BY name ORDER BY name;

-- above 200,000 rows the in-memory trainer starts from a sample's optimum; the optimum is the same
CREATE TABLE lp_big AS SELECT y, f FROM lp, generate_series(1, 11) g;
SELECT max(abs(x.coefficient - z.coefficient)) < 1e-8 AS same_coefficients
  FROM uba_logreg_coefficients((SELECT uba_logreg_train(y, f) FROM lp_big)) x
  JOIN uba_logreg_coefficients(uba_logreg_train('SELECT y, f FROM lp_big')) z USING (feature);

-- passes run as parallel aggregates
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT uba_logreg_pass(y, f, NULL, false) FROM lp;
SELECT max(abs(x.coefficient - z.coefficient)) < 1e-8 AS same_coefficients
  FROM lp_pair, uba_logreg_coefficients(a) x
  JOIN uba_logreg_coefficients(uba_logreg_train('SELECT y, f FROM lp')) z USING (feature)
 WHERE lp_pair.name = 'defaults';
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

-- larger than the memory limit
SET uba.work_mem = '1MB';
SELECT expect_error($$SELECT uba_logreg_train(y, f) FROM lp_big$$) ~ '^54000' AS in_memory_refused;
SELECT uba_model_info(uba_logreg_train('SELECT y, f FROM lp_big'))->'training_rows' AS rows;
RESET uba.work_mem;

-- notices as the aggregate: separable classes without a penalty
SELECT uba_logreg_train('SELECT f[3] > 8, f FROM lp', '{"l2": 0}'::jsonb) IS NOT NULL AS trained;
-- rows with a NULL label or features are skipped; no rows: NULL
SELECT uba_model_info(uba_logreg_train('SELECT NULL::bool, f FROM lp UNION ALL SELECT y, NULL FROM lp UNION ALL SELECT y, f FROM lp'))->'training_rows' AS rows;
SELECT uba_logreg_train('SELECT y, f FROM lp WHERE false') IS NULL AS no_rows;

-- errors
SELECT expect_error($$SELECT uba_logreg_train(NULL::text)$$);
SELECT expect_error($$SELECT uba_logreg_train('SELECT y, f FROM lp', '{"l2": -1}'::jsonb)$$);
SELECT expect_error($$SELECT uba_logreg_train('SELECT f FROM lp')$$);
SELECT expect_error($$SELECT uba_logreg_train('SELECT f, y FROM lp')$$);
SELECT expect_error($$SELECT uba_logreg_train('SELECT y::int, f FROM lp')$$);
SELECT expect_error($$SELECT uba_logreg_train('SELECT true, f FROM lp')$$);
SELECT expect_error($$SELECT uba_logreg_train('SELECT y, ARRAY[''NaN''::float8] FROM lp')$$);
SELECT expect_error($$SELECT uba_logreg_train('INSERT INTO lp DEFAULT VALUES RETURNING y, f')$$);
SELECT expect_error($$SELECT uba_logreg_train('SELECT y, f FROM lp', '{"feature_names": ["a"]}'::jsonb)$$);
SELECT expect_error($$SELECT uba_logreg_pass(y, f, (SELECT b FROM lp_pair LIMIT 1), true) FROM lp WHERE i < 3 AND false
                      UNION ALL SELECT uba_logreg_pass(y, f[1:2], (SELECT b FROM lp_pair LIMIT 1), true) FROM lp$$);
SELECT expect_error($$SELECT uba_logreg_pass(y, f, (SELECT uba_kmeans(f, 2) FROM lp), true) FROM lp$$);
SELECT expect_error($$SELECT uba_logreg_pass_combine('\x01'::bytea, NULL)$$);
SELECT expect_error($$SELECT uba_logreg_pass_combine(s, t) FROM (SELECT uba_logreg_pass(y, f, NULL, false) AS s FROM lp) a,
                      (SELECT uba_logreg_pass(y, f, (SELECT b FROM lp_pair LIMIT 1), false) AS t FROM lp) b$$);
-- a state whose class count exceeds its row count
SELECT expect_error($$SELECT uba_logreg_pass_combine(overlay(s placing '\x000000000000F07F'::bytea from 45), NULL)
                      FROM (SELECT uba_logreg_pass(y, f, NULL, false) AS s FROM lp) a$$);

DROP TABLE lp, lp_cases, lp_pair, lp_big;
