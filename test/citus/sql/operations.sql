-- Operations on Citus: the catalog lives on the coordinator, and uba_model_train /
-- uba_model_retrain run their training query there, over distributed tables; a row-collecting
-- trainer can learn from a sample the workers draw (TABLESAMPLE), so that fewer rows travel.
CREATE TABLE op_events AS
SELECT u AS user_id, (u * 7 + k) % 60 AS item_id, g AS id, ARRAY[(g % 7)::float8, ((g * 13) % 11)::float8] AS x,
       (g % 7) * 2.0 + ((g * 13) % 11) * 0.5 AS y
  FROM generate_series(1, 400) u, generate_series(1, 10) k, LATERAL (SELECT u * 10 + k AS g) g;
SELECT create_distributed_table('op_events', 'user_id');
CREATE FUNCTION where_lines(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || q;
END $$;
-- trained from a query over the distributed table, saved and retrained on the coordinator
SELECT uba_model_train('op_ridge', 'SELECT uba_linreg_train(y, x, ''{"l2": 0}''::jsonb) FROM op_events') AS version;
SELECT uba_model_retrain('op_ridge') AS version;
SELECT version, active, training_rows FROM uba_models WHERE name = 'op_ridge' ORDER BY version;
SELECT round(coefficient::numeric, 6) AS coefficient FROM uba_linreg_coefficients(uba_model('op_ridge')) ORDER BY feature;
SELECT uba_model_train('op_recommender', 'SELECT uba_cf_train(user_id, item_id, 1.0, ''{"factors": 4}''::jsonb) FROM op_events') AS version;
SELECT (uba_model_info(uba_model('op_recommender'))->>'training_rows')::int AS training_rows;
-- a sample drawn on the workers: each shard samples its own rows, only those reach the coordinator
SELECT where_runs($$SELECT uba_kmeans(x, 3) FROM op_events TABLESAMPLE BERNOULLI (20) REPEATABLE (7)$$, 'uba_kmeans') AS kmeans_on_a_sample;
SELECT (uba_model_info(uba_kmeans(x, 3, '{"seed": 1}'))->>'training_rows')::int = count(*) AND count(*) < 4000 AS trained_on_the_sample
  FROM op_events TABLESAMPLE BERNOULLI (20) REPEATABLE (7);
SELECT count(*) FILTER (WHERE line ~ 'Sample Scan on op_events_') AS sample_scan_in_the_task
  FROM (SELECT * FROM where_lines($$SELECT uba_kmeans(x, 3) FROM op_events TABLESAMPLE BERNOULLI (20) REPEATABLE (7)$$)) l(line);
-- a reproducible sample independent of where rows are stored: uba_split of the key, evaluated on the workers
SELECT count(*) FILTER (WHERE line ~ 'Filter: uba_split') AS split_filter_in_the_task
  FROM (SELECT * FROM where_lines($$SELECT uba_kmeans(x, 3) FROM op_events WHERE uba_split(id, 0.2, 7)$$)) l(line);
SELECT (SELECT count(*) FROM op_events WHERE uba_split(id, 0.2, 7))
     = (SELECT (uba_model_info(uba_kmeans(x, 3, '{"seed": 1}'))->>'training_rows')::bigint FROM op_events WHERE uba_split(id, 0.2, 7))
       AS trained_on_the_split,
       (SELECT count(*) FROM op_events WHERE uba_split(id, 0.2, 7)) BETWEEN 700 AND 900 AS about_a_fifth;
SELECT uba_model_drop('op_ridge'), uba_model_drop('op_recommender');
DROP TABLE op_events;
DROP FUNCTION where_lines(text);
