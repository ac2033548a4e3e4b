-- Progress of long training: with the option "verbose" (or the setting uba.progress, which the
-- option overrides) each trainer sends INFO lines while it runs; off by default.  The option is
-- not a training parameter: it is not stored in the model, and a verbose model equals a quiet one.
CREATE TABLE progress_rows AS
SELECT g AS id, ARRAY[sin(g * 0.7), cos(g * 1.3)] AS f, sin(g * 0.7) + (g % 3) > 0.4 AS label,
       sin(g) * 3 + (g % 5) AS y
  FROM generate_series(1, 300) g;
-- off by default: no INFO line
SELECT uba_model_info(uba_kmeans(f, 3, '{"seed": 1}'::jsonb))->'iterations' AS iterations FROM progress_rows;
-- k-means: each iteration of each run, then the run
SELECT uba_model_info(uba_kmeans(f, 3, '{"seed": 1, "n_init": 2, "verbose": true}'::jsonb))->'iterations' AS iterations
  FROM progress_rows;
-- the option is not stored, so the model is the same (bar its creation time)
SELECT uba_model_info(a)->'options' = uba_model_info(b)->'options' AS same_options,
       substring(a FROM 65) = substring(b FROM 65) AS same_bytes_after_the_creation_time
  FROM (SELECT uba_kmeans(f, 3, '{"seed": 1}'::jsonb) AS a,
               uba_kmeans(f, 3, '{"seed": 1, "verbose": true}'::jsonb) AS b FROM progress_rows) m;
SELECT uba_model_info(uba_kmeans(f, 3, '{"seed": 1, "verbose": true}'::jsonb))->'options' AS options FROM progress_rows;
-- logistic regression: each Newton iteration with its objective and optimality
SELECT uba_model_info(uba_logreg_train(label, f, '{"verbose": true}'::jsonb))->'iterations' AS iterations FROM progress_rows;
-- ridge regression, recommendations (ALS sweeps), association rules
SELECT uba_model_info(uba_linreg_train(y, f, '{"verbose": true}'::jsonb))->'kind' AS kind FROM progress_rows;
SELECT uba_model_info(uba_cf_train(id % 30, id % 17, 1.0, '{"factors": 4, "iterations": 3, "verbose": true}'::jsonb))->'kind' AS kind
  FROM progress_rows;
SELECT uba_model_info(uba_cf_train(id % 30, id % 17, 1.0, '{"method": "item_knn", "verbose": true}'::jsonb))->'kind' AS kind
  FROM progress_rows;
SELECT uba_model_info(uba_assoc_rules(id % 60, id % 7, '{"min_support": 0.1, "verbose": true}'::jsonb))->'rules' AS rules
  FROM progress_rows;
-- boosted trees: every 10th round; a forest: its one round.  (The lines of early stopping and
-- cross-validation carry XGBoost's metric values, which are not this test's to fix.)
SELECT uba_model_info(uba_boost_train(f[1] > 0, f, '{"n_estimators": 20, "max_depth": 2, "verbose": true}'::jsonb))->'trees' AS trees
  FROM progress_rows;
SELECT uba_model_info(uba_forest_train(y, f, '{"n_estimators": 5, "max_depth": 2, "verbose": true}'::jsonb))->'trees' AS trees
  FROM progress_rows;
-- a multilayer perceptron: each epoch's training loss (and held-out score, with early stopping)
SELECT uba_model_info(uba_mlp_train(label, f, '{"hidden_layer_sizes": [4], "max_iter": 2, "verbose": true}'::jsonb))->'epochs' AS epochs
  FROM progress_rows;
SELECT uba_model_info(uba_mlp_train(label, f, '{"hidden_layer_sizes": [4], "max_iter": 2, "early_stopping": true,
	"verbose": true}'::jsonb))->'epochs' AS epochs
  FROM progress_rows;
-- the setting turns it on for every call; the option turns it off for one
SET uba.progress = on;
SELECT uba_model_info(uba_linreg_train(y, f))->'kind' AS kind FROM progress_rows;
SELECT uba_model_info(uba_linreg_train(y, f, '{"verbose": false}'::jsonb))->'kind' AS kind FROM progress_rows;
RESET uba.progress;
-- a wrong value is an error like any option's
SELECT expect_error($$SELECT uba_kmeans(f, 3, '{"verbose": "yes"}'::jsonb) FROM progress_rows$$);
SELECT expect_error($$SELECT uba_kmeans(f, 3, '{"verbos": true}'::jsonb) FROM progress_rows$$);
DROP TABLE progress_rows;
