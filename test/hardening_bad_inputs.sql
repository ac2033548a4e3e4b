-- The table of bad inputs: for every public function, NULLs, NaN and infinities, empty and
-- multi-dimensional arrays, mismatched dimensions, zero, negative and huge sizes, options of the
-- wrong type or unknown, a model of the wrong kind, ids that do not exist.  Each case names the
-- SQLSTATE it must raise ('ok': it must not raise; NULL results and empty sets are answers).
-- A last test checks that every function of the extension has a case.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;

CREATE TEMP TABLE pts AS
SELECT g AS id, ARRAY[(g % 7)::float8, (g % 5)::float8] AS f, g % 3 = 0 AS label, (g % 11)::float8 AS y,
       '2024-01-01'::timestamptz + g * interval '1 hour' AS ts
  FROM generate_series(1, 60) g;
CREATE TEMP TABLE m AS
SELECT (SELECT uba_kmeans(f, 3, '{"seed": 1}') FROM pts) AS km,
       (SELECT uba_logreg_train(label, f) FROM pts) AS lr,
       (SELECT uba_linreg_train(y, f) FROM pts) AS li,
       (SELECT uba_cf_train(id % 10, id % 13, 1.0, '{"factors": 4}') FROM pts) AS cf,
       (SELECT uba_assoc_rules(id % 20, id % 4, '{"min_support": 0.1}') FROM pts) AS ar;
SELECT uba_model_save('bad_inputs_km', km) FROM m;

CREATE TEMP TABLE cases (id serial, fn text, sql text, expect text);
INSERT INTO cases (fn, sql, expect) VALUES
-- models: info and kind
('uba_model_info', 'SELECT uba_model_info(NULL)', 'ok'),
-- training never writes a model uba rejects: values whose squares overflow, weights beyond single precision
('uba_logreg_train', 'SELECT uba_logreg_train(label, ARRAY[f[1] * 1e155, f[2]]) FROM pts', '22003'),
('uba_linreg_train', 'SELECT uba_linreg_train(y, ARRAY[f[1] * 1e155, f[2]]) FROM pts', '22003'),
('uba_kmeans', 'SELECT uba_kmeans(ARRAY[f[1] * 1e155, f[2]], 2, ''{"standardize": true}''::jsonb) FROM pts', '22003'),
('uba_kmeans', 'SELECT uba_kmeans(ARRAY[f[1] * 1e155, f[2]], 2) FROM pts', '22003'),
('uba_cf_train', 'SELECT uba_cf_train(id % 10, id % 13, 1e300, ''{"factors": 2}''::jsonb) FROM pts', '22003'),
('uba_cf_train', 'SELECT uba_cf_train(id % 10, id % 13, 1.0, ''{"method": "item_knn", "factors": 8}''::jsonb) FROM pts', '22023'),
('uba_cf_train', 'SELECT uba_cf_train(id % 10, id % 13, 1.0, ''{"neighbors": 8}''::jsonb) FROM pts', '22023'),
('uba_cf_train', 'SELECT uba_cf_train(id % 10, id % 13, 1.0, ''{"method": "ease", "feedback": "explicit"}''::jsonb) FROM pts', '22023'),
('uba_cf_train', 'SELECT uba_cf_train(id % 10, id % 13, 1e300, ''{"method": "item_knn"}''::jsonb) FROM pts', '22003'),
('uba_cached_models', 'SELECT count(*) FROM uba_cached_models()', 'ok'),
('uba_model_info', 'SELECT uba_model_info(''\x'')', '22P03'),
('uba_model_info', 'SELECT uba_model_info(''not a model''::bytea)', '22P03'),
('uba_model_info', 'SELECT uba_model_info(substring(km FROM 1 FOR 40)) FROM m', 'XX001'),
('uba_model_kind', 'SELECT uba_model_kind(''\x00'')', '22P03'),
('uba_model_kind', 'SELECT uba_model_kind(NULL)', 'ok'),
-- k-means training
('uba_kmeans', 'SELECT uba_kmeans(f, 0) FROM pts', '22023'),
('uba_kmeans', 'SELECT uba_kmeans(f, -3) FROM pts', '22023'),
('uba_kmeans', 'SELECT uba_kmeans(f, 2147483647) FROM pts', '22023'),
('uba_kmeans', 'SELECT uba_kmeans(f, 61) FROM pts', '22023'),
('uba_kmeans', 'SELECT uba_kmeans(f, NULL) FROM pts', '22004'),
('uba_kmeans', 'SELECT uba_kmeans(ARRAY[''NaN''::float8, 1], 2) FROM pts', '22000'),
('uba_kmeans', 'SELECT uba_kmeans(ARRAY[''Infinity''::float8, 1], 2) FROM pts', '22000'),
('uba_kmeans', 'SELECT uba_kmeans(ARRAY[1, NULL]::float8[], 2) FROM pts', '22004'),
('uba_kmeans', 'SELECT uba_kmeans(''{}''::float8[], 2) FROM pts', '22000'),
('uba_kmeans', 'SELECT uba_kmeans(ARRAY[[1, 2], [3, 4]]::float8[], 2) FROM pts', '2202E'),
('uba_kmeans', 'SELECT uba_kmeans(CASE WHEN id % 2 = 0 THEN f ELSE f || 1.0::float8 END, 2) FROM pts', '22000'),
('uba_kmeans', 'SELECT uba_kmeans(f, 2, ''{"max_iter": "many"}'') FROM pts', '22023'),
('uba_kmeans', 'SELECT uba_kmeans(f, 2, ''{"max_iter": -1}'') FROM pts', '22023'),
('uba_kmeans', 'SELECT uba_kmeans(f, 2, ''{"max_iter": 1e12}'') FROM pts', '22023'),
('uba_kmeans', 'SELECT uba_kmeans(f, 2, ''{"colour": 1}'') FROM pts', '22023'),
('uba_kmeans', 'SELECT uba_kmeans(f, 2, ''[1, 2]'') FROM pts', '22023'),
('uba_kmeans', 'SELECT uba_kmeans(f, 2) FROM pts WHERE false', 'ok'),
('uba_kmeans_assign', 'SELECT uba_kmeans_assign(km, ARRAY[1]::float8[]) FROM m', '22000'),
('uba_kmeans_assign', 'SELECT uba_kmeans_assign(km, ARRAY[1, ''NaN'']::float8[]) FROM m', '22000'),
('uba_kmeans_assign', 'SELECT uba_kmeans_assign(km, NULL) FROM m', 'ok'),
('uba_kmeans_assign', 'SELECT uba_kmeans_assign(lr, ARRAY[1, 2]::float8[]) FROM m', '42809'),
('uba_kmeans_distance', 'SELECT uba_kmeans_distance(km, ARRAY[[1, 2]]::float8[]) FROM m', '2202E'),
('uba_kmeans_distance', 'SELECT uba_kmeans_distance(cf, ARRAY[1, 2]::float8[]) FROM m', '42809'),
('uba_kmeans_inertia', 'SELECT uba_kmeans_inertia(ar) FROM m', '42809'),
('uba_kmeans_centroids', 'SELECT * FROM uba_kmeans_centroids(li) FROM m', '42601'),
('uba_kmeans_centroids', 'SELECT (SELECT count(*) FROM uba_kmeans_centroids(m.li)) FROM m', '42809'),
-- cluster quality
('uba_silhouette', 'SELECT uba_silhouette(f, 1) FROM pts', '22023'),
('uba_silhouette', 'SELECT uba_silhouette(f, NULL) FROM pts', 'ok'),
('uba_silhouette', 'SELECT uba_silhouette(f, id % 2, ''{"sample_size": -5}'') FROM pts', '22023'),
('uba_silhouette', 'SELECT uba_silhouette(ARRAY[''Infinity''::float8, 1], id % 2) FROM pts', '22000'),
('uba_davies_bouldin', 'SELECT uba_davies_bouldin(f, 1) FROM pts', '22023'),
('uba_davies_bouldin', 'SELECT uba_davies_bouldin(''{}''::float8[], id % 2) FROM pts', '22000'),
-- logistic and ridge regression
('uba_logreg_train', 'SELECT uba_logreg_train(true, f) FROM pts', '22023'),
('uba_logreg_train', 'SELECT uba_logreg_train(label, f, ''{"l2": -1}'') FROM pts', '22023'),
('uba_logreg_train', 'SELECT uba_logreg_train(label, f, ''{"l2": "a lot"}'') FROM pts', '22023'),
('uba_logreg_train', 'SELECT uba_logreg_train(label, f, ''{"max_iter": 0}'') FROM pts', '22023'),
('uba_logreg_train', 'SELECT uba_logreg_train(label, f, ''{"class_weight": "heavy"}'') FROM pts', '22023'),
('uba_logreg_train', 'SELECT uba_logreg_train(label, f, ''{"feature_names": ["a"]}'') FROM pts', '22023'),
('uba_logreg_train', 'SELECT uba_logreg_train(label, ARRAY[''-Infinity''::float8, 1]) FROM pts', '22000'),
('uba_logreg_train', 'SELECT uba_logreg_train(NULL::boolean, f) FROM pts', 'ok'),
('uba_logreg_predict', 'SELECT uba_logreg_predict(lr, ARRAY[1, 2, 3]::float8[]) FROM m', '22000'),
('uba_logreg_predict', 'SELECT uba_logreg_predict(km, ARRAY[1, 2]::float8[]) FROM m', '42809'),
('uba_logreg_predict', 'SELECT uba_logreg_predict(lr, ''{}''::float8[]) FROM m', '22000'),
('uba_logreg_classify', 'SELECT uba_logreg_classify(lr, ARRAY[1, 2]::float8[], ''NaN'') FROM m', '22023'),
('uba_logreg_classify', 'SELECT uba_logreg_classify(lr, ARRAY[1, 2]::float8[], 1.5) FROM m', '22023'),
('uba_logreg_classify', 'SELECT uba_logreg_classify(lr, ARRAY[1, NULL]::float8[]) FROM m', '22004'),
('uba_logreg_coefficients', 'SELECT (SELECT count(*) FROM uba_logreg_coefficients(m.li)) FROM m', '42809'),
('uba_logreg_explain', 'SELECT (SELECT count(*) FROM uba_logreg_explain(m.lr, ARRAY[1, 2]::float8[], -1)) FROM m', '22023'),
('uba_logreg_explain', 'SELECT (SELECT count(*) FROM uba_logreg_explain(m.lr, ARRAY[1]::float8[])) FROM m', '22000'),
('uba_linreg_train', 'SELECT uba_linreg_train(''NaN'', f) FROM pts', '22000'),
('uba_linreg_train', 'SELECT uba_linreg_train(y, f, ''{"l2": -2}'') FROM pts', '22023'),
('uba_linreg_train', 'SELECT uba_linreg_train(y, ''{{1}}''::float8[]) FROM pts', '2202E'),
('uba_linreg_predict', 'SELECT uba_linreg_predict(lr, ARRAY[1, 2]::float8[]) FROM m', '42809'),
('uba_linreg_predict', 'SELECT uba_linreg_predict(li, ARRAY[1, ''Infinity'']::float8[]) FROM m', '22000'),
-- metrics
('uba_f1_score', 'SELECT uba_f1_score(NULL::boolean, NULL::boolean) FROM pts', 'ok'),
('uba_f1_score', 'SELECT uba_f1_score(id % 3, id % 2, ''harmonic'') FROM pts', '22023'),
('uba_f1_score', 'SELECT uba_f1_score(id % 3, id % 2, NULL) FROM pts', '22004'),
('uba_precision', 'SELECT uba_precision(false, label) FROM pts', 'ok'),
('uba_recall', 'SELECT uba_recall(label, NULL) FROM pts', 'ok'),
('uba_accuracy', 'SELECT uba_accuracy(label, label) FROM pts WHERE false', 'ok'),
('uba_mcc', 'SELECT uba_mcc(true, true) FROM pts', 'ok'),
('uba_confusion_matrix', 'SELECT uba_confusion_matrix(label, NULL) FROM pts', 'ok'),
('uba_rmse', 'SELECT uba_rmse(''NaN'', y) FROM pts', '22000'),
('uba_mae', 'SELECT uba_mae(y, ''-Infinity'') FROM pts', '22000'),
('uba_r2', 'SELECT uba_r2(y, 1.0) FROM pts', 'ok'),
('uba_log_loss', 'SELECT uba_log_loss(1.5, label) FROM pts', '22003'),
('uba_log_loss', 'SELECT uba_log_loss(''NaN'', label) FROM pts', '22003'),
('uba_brier_score', 'SELECT uba_brier_score(-0.1, label) FROM pts', '22003'),
('uba_auc', 'SELECT uba_auc(''Infinity'', label) FROM pts', '22000'),
('uba_average_precision', 'SELECT uba_average_precision(''NaN'', label) FROM pts', '22000'),
('uba_roc_curve', 'SELECT uba_roc_curve(''NaN'', label) FROM pts', '22000'),
('uba_threshold_table', 'SELECT uba_threshold_table(y, label, 1) FROM pts', '22023'),
('uba_threshold_table', 'SELECT uba_threshold_table(y, label, 2000000000) FROM pts', '22023'),
('uba_threshold_table', 'SELECT uba_threshold_table(y, label, NULL) FROM pts', '22004'),
('uba_split', 'SELECT uba_split(id, 1.5) FROM pts', '22023'),
('uba_split', 'SELECT uba_split(id, ''NaN'') FROM pts', '22023'),
('uba_split', 'SELECT uba_split(NULL::int, 0.5)', 'ok'),
('uba_split', 'SELECT uba_split(ARRAY[1]::int[], 0.5, 7)', 'ok'),
-- recommendations
('uba_cf_train', 'SELECT uba_cf_train(id, id, -1) FROM pts', '22023'),
('uba_cf_train', 'SELECT uba_cf_train(id, id, ''NaN'') FROM pts', '22000'),
('uba_cf_train', 'SELECT uba_cf_train(id, id, 1, ''{"factors": 0}'') FROM pts', '22023'),
('uba_cf_train', 'SELECT uba_cf_train(id, id, 1, ''{"factors": 100000000}'') FROM pts', '22023'),
('uba_cf_train', 'SELECT uba_cf_train(id, id, 1, ''{"iterations": -1}'') FROM pts', '22023'),
('uba_cf_train', 'SELECT uba_cf_train(id, id, 1, ''{"method": "magic"}'') FROM pts', '22023'),
('uba_cf_train', 'SELECT uba_cf_train(id, id, 1, ''{"alpha": "x"}'') FROM pts', '22023'),
('uba_cf_train', 'SELECT uba_cf_train(NULL, id, 1) FROM pts', 'ok'),
('uba_cf_recommend', 'SELECT (SELECT count(*) FROM uba_cf_recommend(m.cf, 1, -1)) FROM m', '22023'),
('uba_cf_recommend', 'SELECT (SELECT count(*) FROM uba_cf_recommend(m.cf, 999999, 5)) FROM m', 'ok'),
('uba_cf_recommend', 'SELECT (SELECT count(*) FROM uba_cf_recommend(m.cf, 1, 2147483647)) FROM m', 'ok'),
('uba_cf_recommend', 'SELECT (SELECT count(*) FROM uba_cf_recommend(m.cf, 1, 5, ''{"include_seen": "yes"}'')) FROM m', '22023'),
('uba_cf_recommend', 'SELECT (SELECT count(*) FROM uba_cf_recommend(m.cf, ARRAY[[1, 2]]::bigint[], 5)) FROM m', '2202E'),
('uba_cf_recommend', 'SELECT (SELECT count(*) FROM uba_cf_recommend(m.cf, ARRAY[NULL, 99999]::bigint[], 5)) FROM m', 'ok'),
('uba_cf_recommend', 'SELECT (SELECT count(*) FROM uba_cf_recommend(m.km, 1, 5)) FROM m', '42809'),
('uba_cf_similar_items', 'SELECT (SELECT count(*) FROM uba_cf_similar_items(m.cf, 424242, 5)) FROM m', 'ok'),
('uba_cf_similar_items', 'SELECT (SELECT count(*) FROM uba_cf_similar_items(m.cf, 1, -5)) FROM m', '22023'),
('uba_cf_explain', 'SELECT (SELECT count(*) FROM uba_cf_explain(m.cf, 1, 2, -1)) FROM m', '22023'),
('uba_cf_explain', 'SELECT (SELECT count(*) FROM uba_cf_explain(m.cf, -7, -7)) FROM m', 'ok'),
('uba_recommend', 'SELECT count(*) FROM uba_recommend(1, 5, ''no_such_model'')', '42704'),
('uba_recommend', 'SELECT count(*) FROM uba_recommend(1, 5, ''bad_inputs_km'')', '42809'),
('uba_recommend', 'SELECT count(*) FROM uba_recommend(NULL, 5, ''bad_inputs_km'')', 'ok'),
('uba_precision_at_k', 'SELECT uba_precision_at_k(ARRAY[1], ARRAY[1], 0)', '22023'),
('uba_recall_at_k', 'SELECT uba_recall_at_k(ARRAY[[1]], ARRAY[1], 5)', '2202E'),
('uba_ndcg_at_k', 'SELECT uba_ndcg_at_k(ARRAY[1, NULL], ARRAY[1], 5)', 'ok'),	-- a NULL place cannot hit (doc/cf.md)
('uba_ndcg_at_k', 'SELECT uba_ndcg_at_k(ARRAY[1], ARRAY[1], NULL)', 'ok'),
('uba_average_precision_at_k', 'SELECT uba_average_precision_at_k(ARRAY[1], ''{}'', 5)', 'ok'),
('uba_hit_rate_at_k', 'SELECT uba_hit_rate_at_k(ARRAY[1], ARRAY[1], -1)', '22023'),
-- behaviour
('uba_session', 'SELECT uba_session(ts, ''0'') OVER () FROM pts', '22023'),
('uba_session', 'SELECT uba_session(ts, NULL) OVER () FROM pts', '22004'),
('uba_session', 'SELECT uba_session(ts::timestamp, ''-1 day'') OVER () FROM pts', '22023'),
('uba_session', 'SELECT uba_session(NULL::timestamptz, ''1 day'') OVER () FROM pts', 'ok'),
('uba_funnel', 'SELECT uba_funnel(ts, ''1 day'', ''{}'') FROM pts', '22023'),
('uba_funnel', 'SELECT uba_funnel(ts, ''0'', ARRAY[true]) FROM pts', '22023'),
('uba_funnel', 'SELECT uba_funnel(ts, NULL, ARRAY[true]) FROM pts', '22004'),
('uba_funnel', 'SELECT uba_funnel(ts::timestamp, ''1 day'', array_fill(true, ARRAY[100])) FROM pts', '54000'),
('uba_funnel', 'SELECT uba_funnel(ts, ''1 day'', ARRAY[[true]]) FROM pts', '2202E'),
('uba_retention', 'SELECT uba_retention(''{}''::boolean[]) FROM pts', '22023'),
('uba_retention', 'SELECT uba_retention(CASE WHEN id = 1 THEN ARRAY[true] ELSE ARRAY[true, false] END) FROM pts', '2202E'),
-- association rules
('uba_assoc_rules', 'SELECT uba_assoc_rules(id, id, ''{"min_support": 0}'') FROM pts', '22023'),
('uba_assoc_rules', 'SELECT uba_assoc_rules(id, id, ''{"min_support": 2}'') FROM pts', '22023'),
('uba_assoc_rules', 'SELECT uba_assoc_rules(id, id, ''{"max_length": 1000}'') FROM pts', '22023'),
('uba_assoc_rules', 'SELECT uba_assoc_rules(id, NULL) FROM pts', 'ok'),
('uba_assoc_rules_list', 'SELECT (SELECT count(*) FROM uba_assoc_rules_list(m.km)) FROM m', '42809'),
('uba_basket_complete', 'SELECT (SELECT count(*) FROM uba_basket_complete(m.ar, ARRAY[1], -2)) FROM m', '22023'),
('uba_basket_complete', 'SELECT (SELECT count(*) FROM uba_basket_complete(m.ar, ARRAY[987654321], 5)) FROM m', 'ok'),
-- catalog
('uba_model_save', 'SELECT uba_model_save(NULL, km) FROM m', '22004'),
('uba_model_save', 'SELECT uba_model_save('''', km) FROM m', '22023'),
('uba_model_save', 'SELECT uba_model_save(repeat(''x'', 201), km) FROM m', '22023'),
('uba_model_save', 'SELECT uba_model_save(''bad'', ''\x00'')', '22P03'),
('uba_model_save', 'SELECT uba_model_save(''bad'', km, ''[1]'') FROM m', '22023'),
('uba_model', 'SELECT uba_model(''no_such_model'')', '42704'),
('uba_model', 'SELECT uba_model(''bad_inputs_km'', 99)', '42704'),
('uba_model', 'SELECT uba_model(NULL)', '42704'),
('uba_model_activate', 'SELECT uba_model_activate(''bad_inputs_km'', 99)', '42704'),
('uba_model_activate', 'SELECT uba_model_activate(''no_such_model'', 1)', '42704'),
('uba_model_drop', 'SELECT uba_model_drop(''no_such_model'')', '42704'),
('uba_model_drop', 'SELECT uba_model_drop(''bad_inputs_km'', -1)', '42704'),
('uba_model_train', 'SELECT uba_model_train(''bad'', ''SELECT 42'')', '42804'),
('uba_model_train', 'SELECT uba_model_train(''bad'', ''SELECT ''''\x00''''::bytea'')', '22P03'),
('uba_model_train', 'SELECT uba_model_train(''bad'', ''SELECT km FROM m; SELECT km FROM m'')', '42601'),
('uba_model_train', 'SELECT uba_model_train(''bad'', ''VACUUM'')', '42804'),
('uba_model_train', 'SELECT uba_model_train(''bad'', ''SELECT km FROM m'', NULL)', '22023'),
('uba_model_train', 'SELECT uba_model_train(''bad'', ''SELECT km FROM m'', ''{"metrics": null}'')', '22023'),
('uba_model_train', 'SELECT uba_model_train(''bad'', ''SELECT uba_model(''''bad_inputs_km''''), 1'')', '42804'),
('uba_model_train', 'SELECT uba_model_train(''bad'', ''SELECT km FROM m'')', '0A000'),
('uba_model_train', 'SELECT uba_model_train(''bad_semicolon'', ''SELECT uba_model(''''bad_inputs_km'''');'')', 'ok'),
('uba_model_train', 'SELECT uba_model_train(''bad'', ''not sql at all'')', '42601'),
('uba_model_train', 'SELECT uba_model_train(''bad'', NULL)', '22004'),
('uba_model_train', 'SELECT uba_model_train(''bad'', ''SELECT km FROM m'', ''{"activate": "yes"}'')', '22023'),
('uba_model_train', 'SELECT uba_model_train(''bad'', ''SELECT km FROM m'', ''[]'')', '22023'),
('uba_model_retrain', 'SELECT uba_model_retrain(''no_such_model'')', '42704'),
('uba_model_retrain', 'SELECT uba_model_retrain(''bad_inputs_km'')', '55000'),
('uba_model_set_owner', 'SELECT uba_model_set_owner(''bad_inputs_km'', ''no_such_role'')', '42704'),
('uba_model_set_owner', 'SELECT uba_model_set_owner(''no_such_model'', current_user)', '42704'),
('uba_model_grant_read', 'SELECT uba_model_grant_read(''bad_inputs_km'', ''no_such_role'')', '42704'),
('uba_model_revoke_read', 'SELECT uba_model_revoke_read(''no_such_model'', ''public'')', '42704'),
('uba_model_revoke_read', 'SELECT uba_model_revoke_read(''bad_inputs_km'', NULL)', '22004'),
('uba_model_revoke_read', 'SELECT uba_model_revoke_read(''bad_inputs_km'', ''no_such_role'')', 'ok'),
('uba_model_grant_read', 'SELECT uba_model_grant_read(NULL, ''public'')', '42704'),
('uba_model_set_owner', 'SELECT uba_model_set_owner(''bad_inputs_km'', NULL)', '22004'),
('uba_model_activate', 'SELECT uba_model_activate(''bad_inputs_km'', NULL)', '42704'),
('uba_model_retrain', 'SELECT uba_model_retrain(NULL)', '42704'),
-- helpers the catalog functions use (callable, so they get their cases too)
('uba_model_lock', 'SELECT uba_model_lock(NULL)', 'ok'),
('uba_model_lock', 'SELECT uba_model_lock(''no_such_model'')', 'ok'),
('uba_model_may_change', 'SELECT uba_model_may_change(''no_such_role'')', '42704'),
('uba_model_may_change', 'SELECT uba_model_may_change(99999::oid::regrole)', 'ok'),
('uba_model_may_read', 'SELECT uba_model_may_read(NULL, NULL)', 'ok');

SELECT plan((SELECT count(*)::int FROM cases) + 1);
SELECT CASE WHEN expect = 'ok' THEN lives_ok(sql, format('%s: %s', fn, sql))
            ELSE throws_ok(sql, expect, NULL, format('%s: %s raises %s', fn, sql, expect)) END
  FROM cases ORDER BY id;

-- every function of the extension (aggregates' support functions aside) has a case
SELECT is(ARRAY(SELECT DISTINCT p.proname::text
                  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
                  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'uba'
                 WHERE p.proname !~ '_(transfn|final|combine|serialize|deserialize)$'
                EXCEPT SELECT fn FROM cases ORDER BY 1), '{}'::text[],
	'every public function is in the table of bad inputs');

SELECT * FROM finish();
ROLLBACK;
