-- uba.max_memory is honoured by every function that keeps rows or grows with its input: each
-- stops with error 54000 at 1 MB and succeeds on the same rows at the default 1 GB.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;

CREATE TEMP TABLE rows100k AS
SELECT g, ARRAY[g % 101, g % 7, g % 5, g % 3]::float8[] AS f, g % 3 AS c, g % 2 = 0 AS label,
       (g % 1000)::float8 / 1000 AS score, '2024-01-01'::timestamptz + g * interval '1 minute' AS ts
  FROM generate_series(1, 100000) g;
CREATE TEMP TABLE wide AS SELECT g, ARRAY(SELECT ((g * j) % 97)::float8 FROM generate_series(1, 400) j) AS f
  FROM generate_series(1, 500) g;
CREATE TEMP TABLE rows1k AS SELECT g, ARRAY[g % 101, g % 7]::float8[] AS f FROM generate_series(1, 1000) g;
CREATE TEMP TABLE events AS SELECT g % 2000 AS u, (g * 7) % 1500 AS i FROM generate_series(1, 30000) g;

-- a session model of 100,000 clicks, not read yet (the backend keeps a model it has read)
CREATE TEMP TABLE session_model AS
SELECT uba_session_train(g / 10, g % 50, ts, '{"method": "sr"}') AS m FROM rows100k;
CREATE TEMP TABLE cases (id serial, fn text, sql text);
INSERT INTO cases (fn, sql) VALUES
('uba_kmeans', 'SELECT uba_kmeans(f, 3) FROM rows100k'),
('uba_silhouette', 'SELECT uba_silhouette(f, c, ''{"sample_size": 500}'') FROM rows100k'),
('uba_davies_bouldin', 'SELECT uba_davies_bouldin(f, c) FROM rows100k'),
('uba_logreg_train', 'SELECT uba_logreg_train(label, f) FROM rows100k'),
('uba_linreg_train', 'SELECT uba_linreg_train(g, f) FROM wide'),
('uba_auc', 'SELECT uba_auc(score, label) FROM rows100k'),
('uba_average_precision', 'SELECT uba_average_precision(score, label) FROM rows100k'),
('uba_roc_curve', 'SELECT uba_roc_curve(score, label) FROM rows100k'),
('uba_threshold_table', 'SELECT uba_threshold_table(score, label) FROM rows100k'),
('uba_cf_train als', 'SELECT uba_cf_train(u, i, 1.0, ''{"factors": 8, "iterations": 2}'') FROM events'),
('uba_cf_train item_knn', 'SELECT uba_cf_train(u, i, 1.0, ''{"method": "item_knn"}'') FROM events'),
('uba_cf_train ease', 'SELECT uba_cf_train(u, i, 1.0, ''{"method": "ease"}'') FROM events'),
('uba_assoc_rules', 'SELECT uba_assoc_rules(u, i) FROM events'),
('uba_funnel', 'SELECT uba_funnel(ts, ''1 day'', ARRAY[label, c = 1]) FROM rows100k'),
('uba_pca', 'SELECT uba_pca(f) FROM rows100k'),
-- 400 features: a state of 400 x 400 moments, 1.3 MB
('uba_pca_moments', 'SELECT uba_pca_moments(f) FROM wide'),
('uba_kmeans_sweep', 'SELECT uba_kmeans_sweep(f, 2, 3) FROM rows100k'),
('uba_dbscan', 'SELECT uba_dbscan(f, 1.5, 5) FROM rows100k'),
('uba_gmm_train', 'SELECT uba_gmm_train(f, 3, ''{"covariance_type": "diag"}'') FROM rows100k'),
('uba_session_train', 'SELECT uba_session_train(g / 10, g % 50, ts) FROM rows100k'),
-- 1,000 clicks take 80 kB; the network and its Adagrad sums for 500 items about 5 MB: the check is GRU4Rec's own
('uba_session_train gru4rec', 'SELECT uba_session_train(g / 10, g % 500, ts, ''{"method": "gru4rec", "epochs": 1}'') FROM rows100k WHERE g <= 1000'),
-- reading: the clicks and the rules of 100,000 clicks
('uba_next_items', 'SELECT count(*) FROM session_model, uba_next_items(m, ARRAY[1, 2], 5)'),
-- 1,000 rows take 32 kB; two layers of 300 units, with Adam's moments, about 4 MB: the check is the perceptron's own
('uba_mlp_train', 'SELECT uba_mlp_train(label, f, ''{"hidden_layer_sizes": [300, 300], "max_iter": 1}'') FROM rows100k WHERE g <= 1000'),
-- 1,000 rows take 16 kB, their pairwise distances 4 MB: the check is hclust's own
('uba_hclust average', 'SELECT uba_hclust(f, ''{"linkage": "average"}'') FROM rows1k'),
-- rows kept per value (16 or 24 bytes): the arrays double past 1 MB before the 100,000th row
('uba_dp_sum', 'SELECT uba_dp_sum(g, g, 0, 10, 1) FROM rows100k'),
('uba_dp_quantile', 'SELECT uba_dp_quantile(g, g, 0.5, 0, 10, 1) FROM rows100k'),
('uba_dp_funnel', 'SELECT uba_dp_funnel(g, (g % 3)::int, 2, 1) FROM rows100k'),
('uba_k_anonymity', 'SELECT uba_k_anonymity(g) FROM rows100k'),
('uba_ope_ips bootstrap', 'SELECT uba_ope_ips(1, 0.5, 0.5, ''{"interval": "bootstrap"}''::jsonb) FROM rows100k'),
-- a bandit on typed rows keeps the decision log (a float8[] context keeps only the statistics)
('uba_bandit_train typed rows', 'SELECT uba_bandit_train(c, r, score, 0.5) FROM rows100k, LATERAL (SELECT g % 7 AS a, (g % 3)::text AS b) r'),
-- fitted Q iteration and evaluation keep every transition (100,000 of 4 features: 7.5 MB)
('uba_fqi_train', 'SELECT uba_fqi_train(f, c, score, f) FROM rows100k'),
('uba_fqe', 'SELECT uba_fqe((SELECT uba_bandit_train(c, f, score, 0.5) FROM rows100k WHERE g <= 1000), f, c, score, f, g % 10 = 1) FROM rows100k');

-- boosted trees check their own arrays once the rows are in (one feature: the rows take 64 bytes
-- each while collected, boosting 70: the float copy, a bin number and 64 for gradients and the like)
CREATE TEMP TABLE boost16k AS SELECT g, ARRAY[(g % 101)::float8] AS f, g % 2 = 0 AS label FROM generate_series(1, 16000) g;
ANALYZE boost16k;

SELECT plan(2 * (SELECT count(*)::int FROM cases) + 6);
SET LOCAL uba.max_memory = '1MB';
SELECT throws_ok(sql, '54000', NULL, format('%s stops with 54000 at uba.max_memory = 1MB', fn)) FROM cases ORDER BY id;
-- Ward linkage keeps centroids, not distances: the same rows fit in 1 MB
SELECT lives_ok('SELECT uba_hclust(f) FROM rows1k', 'uba_hclust ward keeps memory linear in the rows: it succeeds at 1MB');
-- the moments do not grow with the rows: 100,000 rows of 4 features need a few kB
SELECT lives_ok('SELECT uba_pca_moments(f) FROM rows100k', 'uba_pca_moments keeps moments, not rows: 100,000 rows at 1MB');
SELECT lives_ok('SELECT uba_bandit_train(c, f, score, 0.5) FROM rows100k', 'uba_bandit_train on float8[] keeps statistics, not rows: 100,000 decisions at 1MB');
SELECT throws_ok('SELECT uba_boost_train(label, f) FROM boost16k', '54000',
	'gradient boosting training needs 2 MB of memory, more than uba.max_memory (1 MB)',
	'uba_boost_train: 16,000 rows are collected within 1MB, their boosting arrays are not');
SELECT lives_ok($$SELECT uba_boost_train(label, f, '{"n_estimators": 2}'::jsonb) FROM boost16k WHERE g <= 14000$$,
	'uba_boost_train: 14,000 rows and their boosting arrays fit in 1MB');
SELECT throws_ok($$SELECT uba_boost_train(label, f, '{"n_estimators": 2, "cv_folds": 2}'::jsonb) FROM boost16k WHERE g <= 14000$$,
	'54000', 'cross-validation needs 2 MB of memory, more than uba.max_memory (1 MB)',
	'uba_boost_train: cross-validation checks the folds'' copies too');
SET LOCAL uba.max_memory = '1GB';
SELECT lives_ok(sql, format('%s succeeds on the same rows at 1GB', fn)) FROM cases ORDER BY id;

SELECT * FROM finish();
ROLLBACK;
