-- uba_mlp_train against scikit-learn 1.2's MLPClassifier / MLPRegressor (bench/mlp_reference.py,
-- test/data/mlp_reference.csv) on four data sets: breast cancer and the Online Shoppers sessions
-- (binary, AUC; the sessions as a typed row: Month and VisitorType one-hot), diabetes (regression,
-- R^2, target standardized), wine (three text classes, accuracy and log loss).  Two settings: A,
-- one relu layer of 100 until the loss stops improving; B, tanh layers of 64 and 32 with early
-- stopping.  Held out: every fifth row.  The two do not draw the same random numbers, so the mean
-- over five seeds is compared: never worse than scikit-learn's by more than 0.01.  Then what does
-- not depend on the draws: a network without hidden layers is logistic (and linear) regression,
-- so it must reach uba_logreg_train's (and uba_linreg_train's) optimum; the model depends on the
-- rows and the seed, not on their order or the plan; probabilities and classes agree.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(31);

\i test/data/shoppers.sql
CREATE TEMP TABLE bc (id int, f1 float8, f2 float8, f3 float8, f4 float8, f5 float8, f6 float8, f7 float8, f8 float8, f9 float8, f10 float8, f11 float8, f12 float8, f13 float8, f14 float8, f15 float8, f16 float8, f17 float8, f18 float8, f19 float8, f20 float8, f21 float8, f22 float8, f23 float8, f24 float8, f25 float8, f26 float8, f27 float8, f28 float8, f29 float8, f30 float8, benign boolean);
\copy bc FROM 'test/data/breast_cancer.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE diabetes (id int, age float8, sex float8, bmi float8, bp float8, s1 float8, s2 float8, s3 float8, s4 float8, s5 float8, s6 float8, target float8);
\copy diabetes FROM 'test/data/diabetes.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE wine (id int, alcohol float8, malic_acid float8, ash float8, alcalinity_of_ash float8, magnesium float8, total_phenols float8, flavanoids float8, nonflavanoid_phenols float8, proanthocyanins float8, color_intensity float8, hue float8, od280_od315 float8, proline float8, class text);
\copy wine FROM 'test/data/wine.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE ref (dataset text, config text, task text, metric text, options jsonb, seeds int,
	sklearn_mean float8, sklearn_min float8, sklearn_max float8, sklearn_epochs_mean float8);
\copy ref FROM 'test/data/mlp_reference.csv' WITH (FORMAT csv, HEADER)

SELECT is((SELECT count(*) FROM bc) + (SELECT count(*) FROM diabetes) + (SELECT count(*) FROM wine),
	(569 + 442 + 178)::bigint, 'breast cancer, diabetes and wine loaded');
SELECT is((SELECT count(*) FROM ref), 10::bigint, 'ten reference figures loaded');

CREATE TEMP VIEW bc_x AS
SELECT id, benign, ARRAY[f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22, f23, f24, f25, f26, f27, f28, f29, f30]::float8[] AS x FROM bc;
CREATE TEMP VIEW diabetes_x AS
SELECT id, target, ARRAY[age, sex, bmi, bp, s1, s2, s3, s4, s5, s6] AS x FROM diabetes;
CREATE TEMP VIEW wine_x AS
SELECT id, class, ARRAY[alcohol, malic_acid, ash, alcalinity_of_ash, magnesium, total_phenols, flavanoids,
	nonflavanoid_phenols, proanthocyanins, color_intensity, hue, od280_od315, proline] AS x FROM wine;

-- five seeds of each setting on each data set, trained on the rows not held out
CREATE TEMP TABLE runs AS
SELECT c.dataset, c.config, s.seed, c.options || jsonb_build_object('seed', s.seed) AS options
  FROM (SELECT DISTINCT dataset, config, options FROM ref) c, generate_series(0, 4) s(seed);
ALTER TABLE runs ADD COLUMN m bytea;
UPDATE runs SET m = CASE dataset
	WHEN 'breast_cancer' THEN (SELECT uba_mlp_train(benign, x, options) FROM bc_x WHERE id % 5 <> 0)
	WHEN 'shoppers' THEN (SELECT uba_mlp_train(s.revenue, t, options)
	                        FROM shoppers s, LATERAL (SELECT s.month, s.visitor_type, s.weekend, s.product_related,
	                             s.product_related_duration, s.page_values, s.exit_rates) t
	                       WHERE s.session % 5 <> 0)
	WHEN 'diabetes' THEN (SELECT uba_mlp_train(target, x, options) FROM diabetes_x WHERE id % 5 <> 0)
	WHEN 'wine' THEN (SELECT uba_mlp_train(class, x, options) FROM wine_x WHERE id % 5 <> 0) END;

-- each run's held-out metrics
CREATE TEMP TABLE scores AS
SELECT r.dataset, r.config, r.seed, 'auc' AS metric,
       (SELECT uba_auc(uba_predict(r.m, x), benign) FROM bc_x WHERE id % 5 = 0) AS value
  FROM runs r WHERE dataset = 'breast_cancer'
UNION ALL
SELECT r.dataset, r.config, r.seed, 'auc',
       (SELECT uba_auc(uba_predict(r.m, s), s.revenue) FROM shoppers s WHERE s.session % 5 = 0)
  FROM runs r WHERE dataset = 'shoppers'
UNION ALL
SELECT r.dataset, r.config, r.seed, 'r2',
       (SELECT uba_r2(uba_predict(r.m, x), target) FROM diabetes_x WHERE id % 5 = 0)
  FROM runs r WHERE dataset = 'diabetes'
UNION ALL
SELECT r.dataset, r.config, r.seed, 'accuracy',
       (SELECT avg((uba_predict_class(r.m, x) = class)::int) FROM wine_x WHERE id % 5 = 0)
  FROM runs r WHERE dataset = 'wine'
UNION ALL
SELECT r.dataset, r.config, r.seed, 'log_loss',
       (SELECT -avg(ln(greatest(least((uba_predict_proba(r.m, x))[array_position(
                   ARRAY(SELECT jsonb_array_elements_text(uba_model_info(r.m)->'classes')), class)], 1 - 1e-15), 1e-15)))
          FROM wine_x WHERE id % 5 = 0)
  FROM runs r WHERE dataset = 'wine';

-- never worse than scikit-learn's mean by more than 0.01 (log loss: never higher by more than 0.01)
SELECT ok(CASE WHEN f.metric = 'log_loss' THEN f.uba <= f.sklearn_mean + 0.01 ELSE f.uba >= f.sklearn_mean - 0.01 END,
          format('%s %s %s: uba %s, scikit-learn %s [%s, %s]', f.dataset, f.config, f.metric,
                 round(f.uba::numeric, 4), round(f.sklearn_mean::numeric, 4),
                 round(f.sklearn_min::numeric, 4), round(f.sklearn_max::numeric, 4)))
  FROM (SELECT r.*, (SELECT avg(value) FROM scores s
                      WHERE s.dataset = r.dataset AND s.config = r.config AND s.metric = r.metric) AS uba
          FROM ref r) f
 ORDER BY f.dataset, f.config, f.metric;

-- early stopping stops early, as scikit-learn's does (its runs: 23 to 35 epochs on average)
SELECT cmp_ok((SELECT max((uba_model_info(m)->>'epochs')::int) FROM runs WHERE config = 'B'), '<', 150,
	'early stopping ends every B run well before max_iter');
SELECT ok((SELECT bool_and(uba_model_info(m)->'validation'->>'metric' = CASE dataset WHEN 'diabetes' THEN 'r2' ELSE 'accuracy' END)
             FROM runs WHERE config = 'B'), 'the held-out score is accuracy for classifiers, R^2 for regression');

-- no hidden layer: a logistic unit on standardized features with alpha = l2 minimizes what
-- uba_logreg_train does; full batches of Adam reach its optimum
CREATE TEMP TABLE lin AS
SELECT (SELECT uba_mlp_train(benign, x, '{"hidden_layer_sizes": [], "alpha": 1, "batch_size": 100000,
            "learning_rate_init": 0.05, "max_iter": 4000, "n_iter_no_change": 4000}') FROM bc_x) AS mlp,
       (SELECT uba_logreg_train(benign, x, '{"l2": 1}') FROM bc_x) AS logreg,
       (SELECT uba_mlp_train(target, x, '{"hidden_layer_sizes": [], "alpha": 0, "batch_size": 100000,
            "learning_rate_init": 0.05, "max_iter": 4000, "n_iter_no_change": 4000}') FROM diabetes_x) AS mlp_r,
       (SELECT uba_linreg_train(target, x, '{"l2": 0}') FROM diabetes_x) AS linreg;
SELECT cmp_ok((SELECT max(abs(uba_predict(mlp, x) - uba_predict(logreg, x))) FROM lin, bc_x), '<', 1e-4::float8,
	'no hidden layer: the probabilities of logistic regression (l2 = alpha), to 1e-4');
SELECT cmp_ok((SELECT max(abs(uba_predict(mlp_r, x) - uba_predict(linreg, x))) FROM lin, diabetes_x), '<', 1e-2::float8,
	'no hidden layer, identity output: least squares predictions, to 1e-2 (targets near 150)');
SELECT is((SELECT uba_model_info(mlp)->'layers' FROM lin), '[30, 1]'::jsonb, 'its layers: the features and one output');

-- a model is a function of the rows, the options and the seed
-- (bytes from 81 on: the header and the training's time come first)
SELECT is((SELECT md5(substring(uba_mlp_train(benign, x, '{"hidden_layer_sizes": [16, 8], "max_iter": 20}') from 81))
             FROM (SELECT * FROM bc_x ORDER BY id DESC) s),
          (SELECT md5(substring(uba_mlp_train(benign, x, '{"hidden_layer_sizes": [16, 8], "max_iter": 20}') from 81))
             FROM (SELECT * FROM bc_x ORDER BY md5(id::text)) s),
          'the same model from the rows in any order');
SELECT isnt((SELECT md5(substring(uba_mlp_train(benign, x, '{"max_iter": 5, "seed": 1}') from 81)) FROM bc_x),
            (SELECT md5(substring(uba_mlp_train(benign, x, '{"max_iter": 5, "seed": 2}') from 81)) FROM bc_x),
            'another seed, another model');

-- probabilities add up to one and the class is the most probable one
SELECT cmp_ok((SELECT max(abs((SELECT sum(p) FROM unnest(uba_predict_proba(m, x)) p) - 1))
                 FROM runs, wine_x WHERE dataset = 'wine' AND seed = 0), '<', 1e-12::float8,
	'class probabilities add up to 1');
SELECT ok((SELECT bool_and(uba_predict_class(m, x) = (ARRAY(SELECT jsonb_array_elements_text(uba_model_info(m)->'classes')))[
             (SELECT i FROM unnest(uba_predict_proba(m, x)) WITH ORDINALITY u(p, i) ORDER BY p DESC, i LIMIT 1)])
             FROM runs, wine_x WHERE dataset = 'wine' AND seed = 0),
	'the predicted class is the most probable');
SELECT is((SELECT uba_model_info(m)->'classes' FROM runs WHERE dataset = 'wine' LIMIT 1),
	'["class_0", "class_1", "class_2"]'::jsonb, 'the classes in byte order');
SELECT ok((SELECT bool_and(abs(uba_predict(m, x) - (uba_predict_proba(m, x))[2]) < 1e-15) FROM runs, bc_x
            WHERE dataset = 'breast_cancer' AND seed = 0),
	'a binary model: uba_predict is the probability of true');

-- the standardization options: on rows and a target already z-scored they change nothing (the
-- model's means are 0 and its scales 1), on raw rows they do; feature names are kept
CREATE TEMP TABLE dz AS
WITH e AS (SELECT id, target, j, v FROM diabetes_x, unnest(x) WITH ORDINALITY u(v, j)),
     st AS (SELECT j, avg(v) AS m, stddev_pop(v) AS s FROM e GROUP BY j),
     t AS (SELECT avg(target) AS tm, stddev_pop(target) AS ts FROM diabetes)
SELECT e.id, (e.target - t.tm) / t.ts AS target, array_agg((e.v - st.m) / st.s ORDER BY e.j) AS x
  FROM e JOIN st USING (j), t GROUP BY e.id, e.target, t.tm, t.ts;
CREATE TEMP TABLE dz_models AS
SELECT (SELECT uba_mlp_train(target, x, '{"hidden_layer_sizes": [8], "max_iter": 30}') FROM dz) AS on_,
       (SELECT uba_mlp_train(target, x, '{"hidden_layer_sizes": [8], "max_iter": 30, "standardize": false,
            "standardize_target": false}') FROM dz) AS off_,
       (SELECT uba_mlp_train(target, x, '{"hidden_layer_sizes": [8], "max_iter": 30}') FROM diabetes_x) AS raw_on,
       (SELECT uba_mlp_train(target, x, '{"hidden_layer_sizes": [8], "max_iter": 30, "standardize": false,
            "feature_names": ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]}') FROM diabetes_x) AS raw_off;
SELECT cmp_ok((SELECT max(abs(uba_predict(on_, x) - uba_predict(off_, x))) FROM dz_models, dz), '<', 1e-6::float8,
	'"standardize" and "standardize_target" off on z-scored rows: the same predictions, to 1e-6');
SELECT cmp_ok((SELECT max(abs(uba_predict(raw_on, x) - uba_predict(raw_off, x))) FROM dz_models, diabetes_x), '>', 1::float8,
	'"standardize" off on raw rows (values up to 300): another network');
SELECT is((SELECT uba_model_info(raw_off)->'feature_names'->>2 FROM dz_models), 'bmi', 'feature names are kept');
SELECT is((SELECT (uba_model_info(off_)->>'standardized')::boolean FROM dz_models), false, 'the model says it is not standardized');

-- dropout trains a network that still separates the classes
SELECT cmp_ok((SELECT uba_auc(uba_predict(m.m, x), benign) FROM bc_x,
                 (SELECT uba_mlp_train(benign, x, '{"dropout": 0.3, "max_iter": 50}') AS m FROM bc_x WHERE id % 5 <> 0) m
                WHERE id % 5 = 0), '>', 0.98::float8, 'with dropout 0.3: held-out AUC above 0.98');

-- in a parallel plan the workers' rows are combined and ordered: the same model as serial
CREATE TEMP TABLE serial AS SELECT uba_mlp_train(revenue, ARRAY[product_related, page_values, exit_rates]::float8[],
	'{"hidden_layer_sizes": [8], "max_iter": 3}') AS m FROM shoppers;
\i test/lib/parallel_plans.sql
SELECT ok(pg_temp.plan_of($$SELECT uba_mlp_train(revenue, ARRAY[product_related, page_values, exit_rates]::float8[],
	'{"hidden_layer_sizes": [8], "max_iter": 3}') FROM shoppers$$) ~ 'Partial Aggregate', 'a parallel plan');
SELECT is((SELECT md5(substring(uba_mlp_train(revenue, ARRAY[product_related, page_values, exit_rates]::float8[],
	'{"hidden_layer_sizes": [8], "max_iter": 3}') from 81)) FROM shoppers), (SELECT md5(substring(m from 81)) FROM serial),
	'the parallel plan trains the serial plan''s model');

-- cancel: a statement timeout stops a long training between mini-batches
\i test/lib/seconds_until_cancel.sql
SET LOCAL statement_timeout = '1500ms';
CREATE TEMP TABLE mlp_cancel ON COMMIT DROP AS
SELECT pg_temp.seconds_until_cancel($$SELECT uba_mlp_train(benign, x, '{"hidden_layer_sizes": [2000, 2000], "max_iter": 100000, "tol": 0}') FROM bc_x$$) AS s;
SET LOCAL statement_timeout = 0;
SELECT ok(s IS NOT NULL AND s < 2.5, 'a statement timeout cancels training, within a second of it') FROM mlp_cancel;

SELECT * FROM finish();
ROLLBACK;
