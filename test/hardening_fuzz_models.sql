-- In-database fuzzing of the model readers: real models of every kind, mutated thousands of
-- times (bit flips with and without a valid checksum, truncation, extension, rewritten header,
-- metadata and payload fields), fed to every function that takes a model.  Every call must either
-- work or raise a proper error: never XX000 (internal error), never a crash (the session would
-- end and the postmaster restart).
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(9);
SET LOCAL client_min_messages = warning;
\i test/lib/model_bytes.sql
RESET client_min_messages;

CREATE TEMP TABLE started AS SELECT pg_postmaster_start_time() AS t, pg_backend_pid() AS pid;
-- mutations per seed model: 1,200 in the test suite; `make fuzz` runs many more (psql -v rounds=N)
\if :{?rounds}
\else
\set rounds 1200
\endif
SELECT set_config('uba_fuzz.rounds', :'rounds', true) AS rounds \gset

-- one or more real models of every kind, small enough to mutate quickly
CREATE TEMP TABLE fuzz_customers (customer_id bigint, frequency float8, recency float8, t float8, monetary_value float8);
\copy fuzz_customers FROM PROGRAM 'head -401 test/data/retail_btyd.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE seeds (kind text, m bytea);
INSERT INTO seeds
SELECT 'kmeans', uba_kmeans(ARRAY[x::float8, (x % 3)::float8], 3, '{"seed": 1}') FROM generate_series(1, 30) x
UNION ALL
SELECT 'kmeans', uba_kmeans(ARRAY[x::float8, (x % 5)::float8, (x % 2)::float8], 2, '{"seed": 2, "standardize": true, "feature_names": ["a", "b", "c"]}') FROM generate_series(1, 40) x
UNION ALL
SELECT 'logreg', uba_logreg_train(x % 3 = 0, ARRAY[x::float8, (x % 4)::float8], '{"feature_names": ["days", "orders"]}') FROM generate_series(1, 40) x
UNION ALL
SELECT 'logreg', uba_logreg_train(x % 2 = 0, ARRAY[x::float8, (x % 4)::float8, (x % 7)::float8], '{"l1": 0.5}') FROM generate_series(1, 40) x
UNION ALL
SELECT 'logreg', uba_logreg_train(x % 3 = 0, ARRAY[x::float8, 1, 2 * x::float8], '{"l2": 0, "feature_names": ["days", "one", "twice"]}') FROM generate_series(1, 40) x
UNION ALL
SELECT 'linreg', uba_linreg_train(2.0 * x + x % 3, ARRAY[x::float8, (x % 3)::float8]) FROM generate_series(1, 30) x
UNION ALL
SELECT 'linreg', uba_linreg_train(2.0 * x + x % 3 + sin(x), ARRAY[x::float8, (x % 3)::float8], '{"l2": 0, "feature_names": ["a", "b"]}') FROM generate_series(1, 30) x
UNION ALL
SELECT 'cf', uba_cf_train(u, (u * 7 + k) % 11, 1.0, '{"factors": 4, "iterations": 2}') FROM generate_series(1, 12) u, generate_series(1, 3) k
UNION ALL
SELECT 'cf', uba_cf_train(u, (u * 7 + k) % 11, 1.0, '{"method": "item_knn", "neighbors": 3}') FROM generate_series(1, 12) u, generate_series(1, 3) k
UNION ALL
SELECT 'cf', uba_cf_train(u, (u * 7 + k) % 11, 1.0, '{"method": "ease", "neighbors": 3}') FROM generate_series(1, 12) u, generate_series(1, 3) k
UNION ALL
SELECT 'cf', uba_cf_train(u, (u * 7 + k) % 11, 1 + (u + k) % 5, '{"feedback": "explicit", "factors": 3, "iterations": 2}') FROM generate_series(1, 12) u, generate_series(1, 3) k
UNION ALL
SELECT 'assoc', uba_assoc_rules(b, (b * 3 + k) % 5, '{"min_support": 0.2, "min_confidence": 0.3, "max_consequent": 2}') FROM generate_series(1, 20) b, generate_series(1, 3) k
UNION ALL
-- ids as they are: text users and items, uuid users, text products
SELECT 'cf', uba_cf_train('u' || u, 'i' || (u * 7 + k) % 11, 1.0, '{"method": "item_knn", "neighbors": 3}') FROM generate_series(1, 12) u, generate_series(1, 3) k
UNION ALL
SELECT 'cf', uba_cf_train(md5('c' || u)::uuid, ((u * 7 + k) % 11)::int, 1.0, '{"factors": 3, "iterations": 2}') FROM generate_series(1, 12) u, generate_series(1, 3) k
UNION ALL
SELECT 'assoc', uba_assoc_rules('b' || b, 'i' || (b * 3 + k) % 5, '{"min_support": 0.2, "min_confidence": 0.3, "max_consequent": 2}') FROM generate_series(1, 20) b, generate_series(1, 3) k
UNION ALL
-- sequential patterns: integer and text items, with and without a gap
SELECT 'prefixspan', uba_prefixspan(u, timestamptz '2024-01-01' + k * interval '1 minute', (u * 3 + k) % 4, '{"min_support": 0.2, "max_length": 3}') FROM generate_series(1, 20) u, generate_series(1, 4) k
UNION ALL
SELECT 'prefixspan', uba_prefixspan('u' || u, timestamptz '2024-01-01' + k * interval '1 minute', 'i' || (u + k) % 4, '{"min_support": 0.2, "max_gap_seconds": 90}') FROM generate_series(1, 20) u, generate_series(1, 4) k
UNION ALL
-- boosted trees: binary and regression
SELECT 'boost', uba_boost_train(x % 3 = 0, ARRAY[x::float8, (x % 4)::float8], '{"n_estimators": 3, "max_depth": 2, "cv_folds": 2}') FROM generate_series(1, 40) x
UNION ALL
SELECT 'boost', uba_boost_train(x * 0.5 + x % 3, ARRAY[x::float8, (x % 4)::float8], '{"n_estimators": 4, "max_depth": 3, "validation_fraction": 0.3, "early_stopping_rounds": 2}') FROM generate_series(1, 40) x
UNION ALL
SELECT 'boost', uba_forest_train(x % 3 = 0, ARRAY[x::float8, (x % 4)::float8], '{"n_estimators": 3, "max_depth": 2}') FROM generate_series(1, 40) x
UNION ALL
-- typed rows: an integer, a text category with NULLs, a boolean (trees with categorical splits, one-hot models)
SELECT 'boost', uba_boost_train(x % 3 = 0 OR x % 5 = 1, t, '{"n_estimators": 3, "max_depth": 3, "max_cat_to_onehot": 1}')
  FROM generate_series(1, 60) x, LATERAL (SELECT x % 9 AS a, CASE WHEN x % 7 = 0 THEN NULL ELSE (ARRAY['p', 'q', 'r', 's', 't'])[1 + x % 5] END AS c, x % 2 = 0 AS b) t
UNION ALL
SELECT 'boost', uba_boost_train(x % 3 = 0 OR x % 5 = 1, t, '{"n_estimators": 3, "tune": {"trials": 2, "max_depth": [1, 3]}}')
  FROM generate_series(1, 60) x, LATERAL (SELECT x % 9 AS a, CASE WHEN x % 7 = 0 THEN NULL ELSE (ARRAY['p', 'q', 'r', 's', 't'])[1 + x % 5] END AS c, x % 2 = 0 AS b) t
UNION ALL
SELECT 'boost', uba_boost_train((ARRAY['u', 'v', 'w'])[1 + x % 3], t, '{"n_estimators": 3, "max_depth": 2}')
  FROM generate_series(1, 60) x, LATERAL (SELECT x % 9 AS a, CASE WHEN x % 7 = 0 THEN NULL ELSE (ARRAY['p', 'q', 'r', 's', 't'])[1 + x % 5] END AS c, x % 2 = 0 AS b) t
UNION ALL
SELECT 'boost', uba_isolation_forest(t, '{"n_estimators": 3, "max_samples": 16, "contamination": 0.1}')
  FROM generate_series(1, 60) x, LATERAL (SELECT x % 9 AS a, CASE WHEN x % 7 = 0 THEN NULL ELSE (ARRAY['p', 'q', 'r', 's', 't'])[1 + x % 5] END AS c, x % 2 = 0 AS b) t
UNION ALL
SELECT 'logreg', uba_logreg_train(x % 3 = 0 OR x % 5 = 1, t, '{"max_levels": 3}')
  FROM generate_series(1, 60) x, LATERAL (SELECT x % 9 AS a, CASE WHEN x % 7 = 0 THEN NULL ELSE (ARRAY['p', 'q', 'r', 's', 't'])[1 + x % 5] END AS c, x % 2 = 0 AS b) t
UNION ALL
SELECT 'kmeans', uba_kmeans(t, 2)
  FROM generate_series(1, 60) x, LATERAL (SELECT x % 9 AS a, CASE WHEN x % 7 = 0 THEN NULL ELSE (ARRAY['p', 'q', 'r', 's', 't'])[1 + x % 5] END AS c, x % 2 = 0 AS b) t
UNION ALL
-- customer value, from 400 real customers' summaries: BG/NBD, Pareto/NBD (the btyd kind's two
-- families) and the spend model
SELECT 'btyd', uba_bgnbd_train(frequency, recency, t) FROM fuzz_customers
UNION ALL
SELECT 'btyd', uba_paretonbd_train(frequency, recency, t) FROM fuzz_customers
UNION ALL
SELECT 'gammagamma', uba_gammagamma_train(frequency, monetary_value) FROM fuzz_customers WHERE monetary_value > 0 OR frequency = 0
UNION ALL
-- forecasts: a seasonal smoothing form, a multiplicative one with missing periods, intermittent demand
SELECT 'forecast', uba_forecast_train((date '2020-01-01' + x * interval '1 month')::date, 10 + x % 4 + x * 0.1, '{"model": "AAA", "season_length": 4}') FROM generate_series(1, 24) x
UNION ALL
SELECT 'forecast', uba_forecast_train(date '2020-01-06' + 7 * x, 5 + (x % 3) * x * 0.2, '{"model": "MAM", "damped": true, "season_length": 3, "gaps": "missing"}') FROM generate_series(1, 30) x WHERE x % 7 <> 0
UNION ALL
SELECT 'forecast', uba_forecast_train(date '2020-01-01' + 3 * x, x % 4, '{"method": "tsb", "period": "day"}') FROM generate_series(1, 15) x
UNION ALL
SELECT 'forecast', uba_forecast_train(date '2020-01-01' + 3 * x, x % 4, '{"method": "sba", "period": "day"}') FROM generate_series(1, 15) x
UNION ALL
-- principal components: of arrays, standardized and whitened; of typed rows
SELECT 'pca', uba_pca(ARRAY[x % 7, x % 5, sqrt(x)]::float8[], '{"standardize": true, "whiten": true}') FROM generate_series(1, 60) x
UNION ALL
SELECT 'pca', uba_pca(r, '{"n_components": 2}') FROM generate_series(1, 60) x, LATERAL (SELECT x % 7 AS a, (x % 3)::text AS c, x % 2 = 0 AS b) r
UNION ALL
-- density clusters: with noise, standardized; cosine on typed rows
SELECT 'dbscan', uba_dbscan(ARRAY[x % 7, x % 5 + (x % 3) * 0.1]::float8[], 1.1, 3, '{"standardize": true}') FROM generate_series(1, 60) x
UNION ALL
SELECT 'dbscan', uba_dbscan(ARRAY[x, 0]::float8[], 1, 4, '{"border": "first"}' ORDER BY i) FROM unnest(ARRAY[1.8, 2.1, 2.4, 2.7, 0, -0.3, -0.6, -0.9, 0.85]::float8[]) WITH ORDINALITY u(x, i)
UNION ALL
SELECT 'dbscan', uba_dbscan(r, 0.05, 2, '{"metric": "cosine"}') FROM generate_series(1, 60) x, LATERAL (SELECT 1 + x % 7 AS a, (x % 3)::text AS c, x % 2 = 0 AS b) r
UNION ALL
-- merge trees: Ward on arrays; average linkage, manhattan, on typed rows
SELECT 'hclust', uba_hclust(ARRAY[x % 7, x % 5 + (x % 3) * 0.1]::float8[], '{"standardize": true}' ORDER BY x) FROM generate_series(1, 40) x
UNION ALL
SELECT 'hclust', uba_hclust(r, '{"linkage": "average", "metric": "manhattan"}') FROM generate_series(1, 40) x, LATERAL (SELECT 1 + x % 7 AS a, (x % 3)::text AS c, x % 2 = 0 AS b) r
UNION ALL
-- k sweeps: standardized arrays with a silhouette sample; typed rows
SELECT 'kmeans_sweep', uba_kmeans_sweep(ARRAY[x % 7, x % 5 + (x % 3) * 0.1]::float8[], 1, 4, '{"standardize": true, "sample_size": 30}') FROM generate_series(1, 60) x
UNION ALL
SELECT 'kmeans_sweep', uba_kmeans_sweep(r, 2, 3) FROM generate_series(1, 60) x, LATERAL (SELECT 1 + x % 7 AS a, (x % 3)::text AS c, x % 2 = 0 AS b) r
UNION ALL
-- Gaussian mixtures: full covariances, standardized; diagonal on typed rows
SELECT 'gmm', uba_gmm_train(ARRAY[x % 7 + (x % 11) * 0.05, x % 5 + (x % 3) * 0.1]::float8[], 2, '{"standardize": true}') FROM generate_series(1, 60) x
UNION ALL
SELECT 'gmm', uba_gmm_train(r, 2, '{"covariance_type": "diag"}') FROM generate_series(1, 60) x, LATERAL (SELECT 1 + x % 7 AS a, (x % 3)::text AS c, x % 2 = 0 AS b) r
UNION ALL
-- session models: V-SKNN on bigint items; STAN, sequential rules and Markov on text items
SELECT 'session', uba_session_train(x / 4, (x * 7 + x / 4) % 13, '2024-01-01'::timestamptz + x * interval '1 minute') FROM generate_series(1, 80) x
UNION ALL
SELECT 'session', uba_session_train(x / 3, 'i' || ((x * 5) % 11), '2024-01-01'::timestamptz + x * interval '1 minute', jsonb_build_object('method', m))
  FROM generate_series(1, 60) x, unnest(ARRAY['stan', 'sr', 'markov', 'pop']) m GROUP BY m
UNION ALL
SELECT 'session', uba_session_train(x / 3, x % 9, '2024-01-01'::timestamptz + x * interval '1 minute', '{"method": "gru4rec", "hidden": 3, "epochs": 2, "n_sample": 2}')
  FROM generate_series(1, 40) x
UNION ALL
-- multilayer perceptrons: binary on arrays, regression with two layers and dropout, three text classes on typed rows
SELECT 'mlp', uba_mlp_train(x % 3 = 0, ARRAY[x % 7, x % 5]::float8[], '{"hidden_layer_sizes": [4], "max_iter": 3}') FROM generate_series(1, 60) x
UNION ALL
SELECT 'mlp', uba_mlp_train((x % 11)::float8, ARRAY[x % 7, x % 5]::float8[], '{"hidden_layer_sizes": [3, 2], "activation": "tanh", "dropout": 0.2, "max_iter": 3}') FROM generate_series(1, 60) x
UNION ALL
SELECT 'mlp', uba_mlp_train('c' || (x % 3), r, '{"hidden_layer_sizes": [3], "activation": "logistic", "early_stopping": true, "max_iter": 3}') FROM generate_series(1, 60) x, LATERAL (SELECT 1 + x % 7 AS a, (x % 3)::text AS c, x % 2 = 0 AS b) r
UNION ALL
-- contextual bandits: LinUCB importance-weighted, epsilon-greedy, Bernoulli Thompson without context
SELECT 'bandit', uba_bandit_train((x % 3)::bigint, ARRAY[x % 7, x % 5]::float8[], (x % 4)::float8, 0.5, '{"importance_weighted": true}') FROM generate_series(1, 40) x
UNION ALL
SELECT 'bandit', uba_bandit_train((x % 4)::bigint * 10, ARRAY[x % 3, x % 2, 1]::float8[], (x % 2)::float8, NULL, '{"method": "epsilon_greedy", "feature_names": ["a", "b", "c"]}') FROM generate_series(1, 40) x
UNION ALL
SELECT 'bandit', uba_bandit_train((x % 3)::bigint, NULL, (x % 2)::float8, 0.3, '{"method": "beta_ts"}') FROM generate_series(1, 40) x
UNION ALL
SELECT 'bandit', uba_bandit_train((x % 3)::bigint, ARRAY[x % 7, x % 5, 1]::float8[], (x % 4)::float8, 0.5, '{"shared_features": 1}') FROM generate_series(1, 40) x
UNION ALL
SELECT 'bandit', uba_fqi_train(ARRAY[x % 7, 1]::float8[], (x % 3)::bigint, (x % 4)::float8, CASE WHEN x % 5 > 0 THEN ARRAY[(x + 1) % 7, 1]::float8[] END, '{"gamma": 0.5}') FROM generate_series(1, 40) x
UNION ALL
-- global forecasters: with holidays; with regressors (their future values read from a table)
SELECT 'global_forecast', uba_forecast_train(x % 3, date '2020-01-06' + 7 * (x / 3), (x % 7)::float8, '{"holidays": ["2020-03-02", "2021-01-01"], "trees": {"n_estimators": 3, "max_depth": 3}}') FROM generate_series(0, 80) x
UNION ALL
SELECT 'global_forecast_x', uba_forecast_train(x % 3, date '2020-01-06' + 7 * (x / 3), (x % 5)::float8, r, '{"lags": [1, 2], "windows": [3], "trees": {"n_estimators": 3, "max_depth": 2}}') FROM generate_series(0, 80) x, LATERAL (SELECT x % 2 = 0 AS promo, x * 0.5 AS price) r;
CREATE TEMP TABLE fuzz_future AS
SELECT s::text AS series, date '2020-07-06' + 7 * k AS ts, k % 2 = 0 AS promo, k * 0.5 AS price
  FROM generate_series(0, 2) s, generate_series(0, 5) k;

-- every function that takes a model, by kind ('any': all kinds)
CREATE TEMP TABLE calls (kind text, sql text);
INSERT INTO calls VALUES
	('any', 'SELECT uba_model_info($1)::text'),
	('any', 'SELECT uba_model_kind($1)'),
	('kmeans', 'SELECT uba_kmeans_assign($1, ARRAY[1, 2]::float8[])::text'),
	('kmeans', 'SELECT uba_kmeans_distance($1, ARRAY[1, 2, 0]::float8[])::text'),
	('kmeans', 'SELECT count(*)::text FROM uba_kmeans_centroids($1)'),
	('kmeans', 'SELECT uba_kmeans_inertia($1)::text'),
	('logreg', 'SELECT uba_logreg_predict($1, ARRAY[3, 1]::float8[])::text'),
	('logreg', 'SELECT uba_logreg_classify($1, ARRAY[3, 1, 2]::float8[])::text'),
	('logreg', 'SELECT count(*)::text FROM uba_logreg_coefficients($1)'),
	('logreg', 'SELECT count(*)::text FROM uba_logreg_explain($1, ARRAY[3, 1]::float8[])'),
	('linreg', 'SELECT uba_linreg_predict($1, ARRAY[3, 1]::float8[])::text'),
	('linreg', 'SELECT count(*)::text FROM uba_linreg_coefficients($1)'),
	('kmeans', 'SELECT uba_kmeans_transform($1, ARRAY[1, 2]::float8[])::text'),
	('cf', 'SELECT count(*)::text FROM uba_cf_recommend($1, 3, 5)'),
	('cf', 'SELECT count(*)::text FROM uba_cf_recommend($1, ARRAY[1, 2, 3]::bigint[], 5)'),
	('cf', 'SELECT count(*)::text FROM uba_cf_similar_items($1, 2, 5)'),
	('cf', 'SELECT count(*)::text FROM uba_cf_explain($1, 3, 4)'),
	('assoc', 'SELECT count(*)::text FROM uba_assoc_rules_list($1)'),
	('assoc', 'SELECT count(*)::text FROM uba_basket_complete($1, ARRAY[1, 2]::bigint[], 5)'),
	('cf', 'SELECT count(*)::text FROM uba_cf_recommend($1, ''u3'', 5)'),
	('cf', 'SELECT count(*)::text FROM uba_cf_recommend($1, md5(''c3'')::uuid, 5, NULL, NULL::text)'),
	('cf', 'SELECT count(*)::text FROM uba_cf_recommend($1, ARRAY[''i1'', ''i2''], 5)'),
	('cf', 'SELECT count(*)::text FROM uba_cf_similar_items($1, ''i2''::text, 5)'),
	('cf', 'SELECT count(*)::text FROM uba_cf_explain($1, ''u3''::text, ''i4''::text)'),
	('assoc', 'SELECT count(*)::text FROM uba_assoc_rules_list($1, NULL::text)'),
	('prefixspan', 'SELECT count(*)::text FROM uba_sequential_patterns($1)'),
	('prefixspan', 'SELECT count(*)::text FROM uba_sequential_patterns($1, NULL::bigint)'),
	('btyd', 'SELECT uba_p_alive($1, 2, 30, 60)::text'),
	('btyd', 'SELECT uba_expected_purchases($1, 30, 2, 30, 60)::text'),
	('btyd', 'SELECT uba_expected_purchases($1, 30)::text'),
	('gammagamma', 'SELECT uba_expected_spend($1, 2, 20)::text'),
	('pca', 'SELECT uba_pca_transform($1, ARRAY[3, 1, 2]::float8[])::text'),
	('pca', 'SELECT uba_pca_transform($1, r, 1)::text FROM (SELECT 3 AS a, ''1''::text AS c, true AS b) r'),
	('pca', 'SELECT sum(explained_variance_ratio)::text FROM uba_pca_components($1)'),
	('dbscan', 'SELECT uba_dbscan_assign($1, ARRAY[3, 1]::float8[])::text'),
	('dbscan', 'SELECT uba_dbscan_assign($1, r)::text FROM (SELECT 3 AS a, ''1''::text AS c, true AS b) r'),
	('dbscan', 'SELECT sum(size)::text FROM uba_dbscan_clusters($1)'),
	('hclust', 'SELECT uba_hclust_assign($1, ARRAY[3, 1]::float8[], 3)::text'),
	('hclust', 'SELECT uba_hclust_assign($1, r, 2)::text FROM (SELECT 3 AS a, ''1''::text AS c, true AS b) r'),
	('hclust', 'SELECT sum(height)::text FROM uba_hclust_merges($1)'),
	('hclust', 'SELECT max(cluster)::text FROM uba_hclust_cut($1, 4)'),
	('hclust', 'SELECT max(cluster)::text FROM uba_hclust_cut($1, height => 1.5)'),
	('kmeans_sweep', 'SELECT count(*)::text FROM uba_kmeans_sweep_results($1)'),
	('kmeans_sweep', 'SELECT uba_kmeans_assign(uba_kmeans_sweep_model($1, 2), ARRAY[3, 1]::float8[])::text'),
	('kmeans_sweep', 'SELECT uba_model_info(uba_kmeans_sweep_model($1))::text'),
	('bandit', 'SELECT count(*)::text FROM uba_bandit_choose($1, ARRAY[3, 1]::float8[], ARRAY[0, 1, 2, 7]::bigint[], ''{"n": 2, "seed": 1, "propensity_draws": 10}'')'),
	('bandit', 'SELECT count(*)::text FROM uba_bandit_choose($1, ARRAY[3, 1, 1]::float8[], ARRAY[10, 20]::bigint[], ''{"seed": 1, "propensity_draws": 10}'')'),
	('bandit', 'SELECT count(*)::text FROM uba_bandit_choose($1, ARRAY[2, 2]::float8[], ARRAY[0, 1]::bigint[], ''{"seed": 1, "propensity_draws": 10}'')'),
	('bandit', 'SELECT length(uba_bandit_update($1, 1, ARRAY[3, 1]::float8[], 1, 0.5))::text'),
	('bandit', 'SELECT count(*)::text FROM uba_bandit_choose($1, ARRAY[[3, 1, 1], [1, 2, 0]]::float8[], ARRAY[10, 1]::bigint[], ''{"n": 2}'')'),
	('bandit', 'SELECT length(uba_bandit_update($1, 2, ARRAY[3, 1, 2]::float8[], 1, 0.5))::text'),
	('bandit', 'SELECT uba_fqe($1, ARRAY[3, 1]::float8[], g % 3, 1, CASE WHEN g % 2 = 0 THEN ARRAY[1, 3]::float8[] END, g % 4 = 0)::text FROM generate_series(1, 8) g'),
	('mlp', 'SELECT uba_predict($1, ARRAY[3, 1]::float8[])::text'),
	('mlp', 'SELECT uba_predict_proba($1, r)::text FROM (SELECT 3 AS a, ''1''::text AS c, true AS b) r'),
	('mlp', 'SELECT uba_predict_class($1, ARRAY[3, 1]::float8[])'),
	('session', 'SELECT count(*)::text FROM uba_next_items($1, ARRAY[1, 3, 5]::bigint[], 5)'),
	('session', 'SELECT count(*)::text FROM uba_next_items($1, ARRAY[''i1'', ''i3'', ''i5''], 5, ''{"exclude_seen": true, "at": "2024-01-02"}'')'),
	('session', 'SELECT sum(score)::text FROM uba_next_items($1, ARRAY[''i2'']::text[], 20)'),
	('gmm', 'SELECT uba_gmm_predict($1, ARRAY[3, 1]::float8[])::text'),
	('gmm', 'SELECT uba_gmm_proba($1, r)::text FROM (SELECT 3 AS a, ''1''::text AS c, true AS b) r'),
	('gmm', 'SELECT uba_gmm_score($1, ARRAY[30, -1]::float8[])::text'),
	('gmm', 'SELECT count(*)::text FROM uba_gmm_components($1)'),
	('global_forecast', 'SELECT count(*)::text FROM uba_forecast_global($1, 4)'),
	('global_forecast', 'SELECT uba_model_info(uba_forecast_trees($1))::text'),
	('global_forecast_x', 'SELECT sum(forecast)::text FROM uba_forecast_global($1, 3, ''fuzz_future'')'),
	('global_forecast_x', 'SELECT uba_model_info(uba_forecast_trees($1))::text'),
	('forecast', 'SELECT count(*)::text FROM uba_forecast($1, 5, ''{80, 95}'')'),
	('forecast', 'SELECT (uba_forecast_info($1)).form'),
	('forecast', 'SELECT count(*)::text FROM uba_forecast($1, 6, ''{90}'', true)'),
	('forecast', 'SELECT (uba_forecast_anomalies($1, (uba_forecast_info($1)).last_period, 5)).is_anomaly::text'),
	('forecast', 'SELECT (uba_forecast_anomalies($1, (SELECT max(ts) FROM uba_forecast($1, 3)), 5)).is_anomaly::text'),
	('boost', 'SELECT uba_boost_predict($1, ARRAY[3, 1]::float8[])::text'),
	('boost', 'SELECT uba_boost_predict($1, ARRAY[30, 2]::float8[])::text'),
	('boost', 'SELECT sum(contribution)::text FROM uba_boost_explain($1, ARRAY[3, 1]::float8[])'),
	('boost', 'SELECT sum(total_gain)::text FROM uba_feature_importance($1)'),
	('boost', 'SELECT length(uba_boost_export($1)::text)::text'),
	('assoc', 'SELECT count(*)::text FROM uba_basket_complete($1, ARRAY[''i1'', ''i2''], 5)'),
	('boost', 'SELECT uba_predict($1, r)::text FROM (SELECT 3 AS a, ''q''::text AS c, true AS b) r'),
	('boost', 'SELECT sum(contribution)::text FROM (SELECT 4 AS a, NULL::text AS c, false AS b) r, uba_explain($1, r)'),
	('logreg', 'SELECT uba_predict($1, r)::text FROM (SELECT 3 AS a, ''zz''::text AS c, true AS b) r'),
	('logreg', 'SELECT count(*)::text FROM (SELECT 3 AS a, NULL::text AS c, NULL::boolean AS b) r, uba_explain($1, r)'),
	('kmeans', 'SELECT uba_kmeans_assign($1, r)::text FROM (SELECT 3 AS a, ''p''::text AS c, true AS b) r'),
	('boost', 'SELECT uba_predict_proba($1, r)::text FROM (SELECT 3 AS a, ''q''::text AS c, true AS b) r'),
	('boost', 'SELECT uba_predict_class($1, r) FROM (SELECT 5 AS a, NULL::text AS c, false AS b) r'),
	('boost', 'SELECT uba_anomaly_score($1, r)::text FROM (SELECT 5 AS a, ''zz''::text AS c, NULL::boolean AS b) r'),
	('boost', 'SELECT uba_is_anomaly($1, ARRAY[3, 1]::float8[])::text');

-- A mutation of blob m, chosen by i (the random generator is seeded, so runs repeat)
CREATE FUNCTION pg_temp.mutate(m bytea, i int) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE
	n int := length(m);
	metalen int := get_u32(m, 12)::int;
	pos int;
	v bigint := (ARRAY[0, 1, 2, 255, 65535, 2147483647, 2147483648, 4294967295, 4294967294,
	                   n, n * 1000, floor(random() * 4294967296)::bigint])[1 + floor(random() * 12)::int];
BEGIN
	CASE i % 7
	WHEN 0 THEN		-- one bit flipped, checksum left wrong
		pos := floor(random() * n * 8);
		RETURN set_bit(m, pos, 1 - get_bit(m, pos));
	WHEN 1 THEN		-- one bit flipped anywhere but the checksum, checksum made right
		pos := floor(random() * n * 8);
		IF pos / 8 BETWEEN 20 AND 23 THEN pos := pos + 32; END IF;
		RETURN reseal(set_bit(m, pos % (n * 8), 1 - get_bit(m, pos % (n * 8))));
	WHEN 2 THEN		-- a byte of the payload set to a random value, resealed
		pos := 32 + metalen + floor(random() * (n - 32 - metalen));
		RETURN reseal(set_byte(m, pos, floor(random() * 256)::int));
	WHEN 3 THEN		-- an aligned u32 of the payload rewritten with an interesting value
		pos := 32 + metalen + 4 * floor(random() * ((n - 32 - metalen) / 4));
		RETURN reseal(put_u32(m, pos, v));
	WHEN 4 THEN		-- a header or metadata u32 rewritten, resealed
		pos := (ARRAY[4, 8, 12, 16, 24, 28, 32, 36, 40])[1 + floor(random() * 9)::int];
		IF pos + 4 > n THEN pos := 12; END IF;
		RETURN reseal(put_u32(m, pos, v));
	WHEN 5 THEN		-- truncated, with the header's payload length made to match, resealed
		pos := 32 + metalen + floor(random() * (n - 32 - metalen));
		RETURN reseal(put_u32(substring(m FROM 1 FOR pos), 16, pos - 32 - metalen));
	ELSE			-- extended by random bytes, with the header's payload length made to match, resealed
		pos := 1 + floor(random() * 64);
		RETURN reseal(put_u32(m || decode(repeat(lpad(to_hex(floor(random() * 256)::int), 2, '0'), pos), 'hex'),
		                      16, n + pos - 32 - metalen));
	END CASE;
END
$$;

-- mutated global forecasters may miss future regressors: a NOTICE each time
SET LOCAL client_min_messages = warning;
CREATE TEMP TABLE outcomes (kind text, sql text, state text, message text);
DO $$
DECLARE
	s record;
	c record;
	b bytea;
	r text;
	st text;
	msg text;
BEGIN
	PERFORM setseed(0.25);
	FOR s IN SELECT kind, m FROM seeds LOOP
		FOR i IN 0 .. current_setting('uba_fuzz.rounds')::int - 1 LOOP
			b := pg_temp.mutate(s.m, i);
			FOR c IN SELECT * FROM calls WHERE kind IN ('any', s.kind) LOOP
				BEGIN
					EXECUTE c.sql INTO r USING b;
					INSERT INTO outcomes VALUES (s.kind, c.sql, '00000', NULL);
				EXCEPTION WHEN OTHERS THEN
					GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
					INSERT INTO outcomes VALUES (s.kind, c.sql, st, msg);
				END;
			END LOOP;
		END LOOP;
	END LOOP;
END
$$;

SELECT cmp_ok((SELECT count(*) FROM outcomes), '>=', 50 * :rounds::bigint, format('at least %s calls with %s mutated models', 50 * :rounds, (SELECT count(*) FROM seeds) * :rounds));
SELECT is((SELECT count(*) FROM outcomes WHERE state = 'XX000'), 0::bigint, 'no internal error (XX000)');
-- calls pass ids of every type to every model of a kind, and a mutation can change a model's id
-- type: an id of another type is 42804 (or 22P02 when text is read as the model's type)
-- a customer-value model with valid but extreme parameters can ask for a number past double
-- precision (a hypergeometric series that does not converge): 22003, as from a real fit
SELECT is((SELECT array_agg(DISTINCT state ORDER BY state) FROM outcomes
            WHERE state NOT IN ('00000', 'XX001', '22P03', '42809', '54000', '22000', '2202E', '0A000', '42804', '22P02', '42703')
              AND NOT (state = '22003' AND kind IN ('btyd', 'gammagamma'))),
	NULL, 'every error is a model error (XX001, 22P03, 42809), a limit (54000), an input mismatch (22000, 2202E), an id of another type (42804, 22P02), fold-in on a ratings model (0A000) or a customer-value number out of range (22003)');
SELECT cmp_ok((SELECT count(*) FROM outcomes WHERE state = 'XX001' AND message = 'invalid uba model'), '>', 1000::bigint,
	'damaged models are reported as such');
SELECT cmp_ok((SELECT count(*) FROM outcomes WHERE state = '00000' AND sql NOT LIKE '%uba_model_kind%'), '>', 1000::bigint,
	'harmless mutations (in values, not structure) still work');
-- the moments states (bytea, so that Citus ships them; any role can pass one by hand to the
-- final and combine functions): mutated states are refused or read, never a crash or XX000
CREATE TEMP TABLE state_outcomes (fn text, state text, message text);
DO $$
DECLARE
	seeds bytea[] := ARRAY[
		(SELECT uba_pca_moments_transfn(uba_pca_moments_transfn(uba_pca_moments_transfn(NULL, ARRAY[1.0, 2.0, 4.0], o), ARRAY[3.0, 5.0, 1.0], o), ARRAY[0.5, 7.0, 2.0], o)
		   FROM (SELECT '{"standardize": true}'::jsonb AS o) x),
		(SELECT uba_pca_moments_transfn(uba_pca_moments_transfn(NULL, ARRAY[1.0, 2.0]), ARRAY[3.0, 5.0])),
		(SELECT uba_linreg_transfn(uba_linreg_transfn(NULL, 1.0, ARRAY[1.0, 2.0], '{"l2": 0.5}'::jsonb), 3.0, ARRAY[2.0, 0.5], '{"l2": 0.5}'::jsonb))];
	m bytea;
	b bytea;
	n int;
	pos int;
	st text;
	msg text;
	r text;
	f text;
BEGIN
	PERFORM setseed(0.5);
	FOR i IN 0 .. current_setting('uba_fuzz.rounds')::int - 1 LOOP
		m := seeds[1 + i % 3];
		n := length(m);
		pos := floor(random() * n);
		b := CASE i % 4
			WHEN 0 THEN set_byte(m, pos, floor(random() * 256)::int)
			WHEN 1 THEN put_u32(m, 4 * (pos / 4), (ARRAY[0, 1, 2, 255, 4096, 2147483647, 4294967295, n])[1 + floor(random() * 8)::int])
			WHEN 2 THEN substring(m FROM 1 FOR pos)
			ELSE m || substring(m FROM 1 FOR pos) END;
		FOREACH f IN ARRAY CASE WHEN i % 3 = 2 THEN ARRAY['SELECT uba_linreg_final($1)::text', 'SELECT uba_linreg_combine($1, $1)::text']
		                        ELSE ARRAY['SELECT uba_pca_moments_final($1)::text', 'SELECT uba_pca_moments_combine($1, $1)::text',
		                                   'SELECT uba_pca_moments_transfn($1, ARRAY[1.0, 2.0])::text'] END LOOP
			BEGIN
				EXECUTE f INTO r USING b;
				INSERT INTO state_outcomes VALUES (f, '00000', NULL);
			EXCEPTION WHEN OTHERS THEN
				GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
				INSERT INTO state_outcomes VALUES (f, st, msg);
			END;
		END LOOP;
	END LOOP;
END
$$;
SELECT is((SELECT array_agg(DISTINCT state ORDER BY state) FROM state_outcomes
            WHERE state NOT IN ('00000', '22023', '22000', '22003', '22P02', '2202E')),
          NULL, 'mutated moments states: refused as not a state (22023), a row of other dimensions (22000), sums out of range (22003), options that are not JSON (22P02), or read');
SELECT cmp_ok((SELECT count(*) FROM state_outcomes WHERE state = '22023'), '>', :rounds / 10::bigint,
              'mutated moments states are refused as such');
SELECT diag('moments states ' || state || ': ' || count(*)) FROM state_outcomes GROUP BY state ORDER BY state;
SELECT diag(format('unexpected %s in %s: %s (%s times)', state, fn, message, count(*)))
  FROM state_outcomes WHERE state NOT IN ('00000', '22023', '22000', '22003', '22P02', '2202E')
 GROUP BY state, fn, message ORDER BY count(*) DESC LIMIT 10;
SELECT is((SELECT t = pg_postmaster_start_time() AND pid = pg_backend_pid() FROM started), true,
	'the server never restarted and this session lived through it');
-- found at 8,000 rounds: a mutation turned a boost model's stored option 0.29999999999999999 into
-- 0e29999999999999999, valid JSON that jsonb cannot hold (22003 from uba_model_info); stored
-- options' numbers are now read as doubles
SELECT throws_ok(format('SELECT uba_model_info(%L::bytea)',
                        reseal(overlay(m PLACING convert_to('1e999999999999', 'UTF8')
                                       FROM position(convert_to('0.000123456789', 'UTF8') IN m) FOR 14))),
                 '22P03', NULL, 'a stored option''s number past a double''s range is a damaged model (22P03)')
  FROM (SELECT uba_kmeans(ARRAY[x, x % 3]::float8[], 2, '{"tol": 0.000123456789}'::jsonb) AS m FROM generate_series(1, 10) x) q;
SELECT diag(state || ': ' || count(*)) FROM outcomes GROUP BY state ORDER BY state;
SELECT diag(format('unexpected %s in %s: %s (%s times)', state, sql, message, count(*)))
  FROM outcomes WHERE state NOT IN ('00000', 'XX001', '22P03', '42809', '54000', '22000', '2202E', '0A000', '42804', '22P02', '42703')
   AND NOT (state = '22003' AND kind IN ('btyd', 'gammagamma'))
 GROUP BY state, sql, message ORDER BY count(*) DESC LIMIT 20;

SELECT * FROM finish();
ROLLBACK;
