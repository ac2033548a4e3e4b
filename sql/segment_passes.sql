-- k-means by passes of statistics: uba_kmeans_train(query, k) and its pass aggregate
SET extra_float_digits = 0;

-- five groups in four features, some rows repeated
CREATE TABLE kp AS
SELECT i, ARRAY[(i % 5) * 4 + sin(i * 0.37), (i % 5) * -3 + cos(i * 1.7),
                ((i * 7919) % 101) / 50.0, (i % 5) * (i % 5) + sin(i)]::float8[] AS f
  FROM generate_series(1, 6000) i;
INSERT INTO kp SELECT i + 6000, f FROM kp WHERE i <= 500;
-- starting centres: six rows (one group twice)
SELECT jsonb_agg(to_jsonb(f) ORDER BY i) AS init FROM kp WHERE i IN (3, 17, 101, 44, 5, 20) \gset

-- from the same centres, the same model as the in-memory aggregate: centres to 1e-9,
-- the same sizes, iterations and inertia
CREATE TABLE kp_pair AS
SELECT (SELECT uba_kmeans(f, 6, jsonb_build_object('init_centers', :'init'::jsonb, 'tol', 0)) FROM kp) AS a,
       uba_kmeans_train('SELECT f FROM kp', 6, jsonb_build_object('init_centers', :'init'::jsonb, 'tol', 0)) AS b;
SELECT max(abs(ca - cb)) < 1e-9 AS same_centres, bool_and(x.size = y.size) AS same_sizes
  FROM kp_pair, uba_kmeans_centroids(a) x JOIN uba_kmeans_centroids(b) y USING (cluster),
       unnest(x.centroid, y.centroid) u(ca, cb);
SELECT uba_model_info(a)->'iterations' = uba_model_info(b)->'iterations' AS same_iterations,
       abs(uba_kmeans_inertia(a) / uba_kmeans_inertia(b) - 1) < 1e-12 AS same_inertia,
       uba_model_info(b)->'training_rows' AS rows
  FROM kp_pair;
-- and standardized, with the default tolerance
TRUNCATE kp_pair;
INSERT INTO kp_pair
SELECT (SELECT uba_kmeans(f, 6, jsonb_build_object('init_centers', :'init'::jsonb, 'standardize', true)) FROM kp),
       uba_kmeans_train('SELECT f FROM kp', 6, jsonb_build_object('init_centers', :'init'::jsonb, 'standardize', true));
SELECT max(abs(ca - cb)) < 1e-9 AS same_centres, bool_and(x.size = y.size) AS same_sizes
  FROM kp_pair, uba_kmeans_centroids(a) x JOIN uba_kmeans_centroids(b) y USING (cluster),
       unnest(x.centroid, y.centroid) u(ca, cb);
SELECT uba_model_info(a)->'iterations' = uba_model_info(b)->'iterations' AS same_iterations,
       uba_model_info(b)->'standardized' AS standardized
  FROM kp_pair;
-- the model scores as any k-means model
SELECT count(DISTINCT uba_kmeans_assign(b, f)) AS clusters_used FROM kp, kp_pair;

-- k-means|| finds the five groups as well as k-means++ does, the same for any row order
-- or plan: the sample is drawn by a hash of each row
CREATE TABLE kp_par AS
SELECT uba_kmeans_train('SELECT f FROM kp', 5, '{"seed": 1}') AS a,
       uba_kmeans_train('SELECT f FROM kp ORDER BY random()', 5, '{"seed": 1}') AS b,
       (SELECT uba_kmeans(f, 5, '{"seed": 1}') FROM kp) AS c;
SELECT uba_kmeans_inertia(a) <= 1.01 * uba_kmeans_inertia(c) AS as_good_as_kmeans_pp,
       abs(uba_kmeans_inertia(a) / uba_kmeans_inertia(b) - 1) < 1e-9 AS order_free,
       uba_model_info(a)->'cluster_sizes' AS sizes,
       uba_model_info(a)->'options' AS options
  FROM kp_par;
-- fewer, smaller k-means|| rounds (1 round of k rows): a cheaper start that can miss a group
-- (here it does: the inertia ratio against k-means++), recorded in the model
SELECT round((uba_kmeans_inertia(m) / uba_kmeans_inertia(c))::numeric, 2) AS inertia_ratio,
       (SELECT sum(size) FROM uba_kmeans_centroids(m)) AS rows,
       uba_model_info(m)->'options'->'oversampling' AS oversampling, uba_model_info(m)->'options'->'init_steps' AS init_steps
  FROM (SELECT uba_kmeans_train('SELECT f FROM kp', 5, '{"seed": 1, "oversampling": 1, "init_steps": 1}') AS m) s, kp_par;
-- random init: k rows drawn uniformly (by hash), then Lloyd
SELECT uba_model_info(uba_kmeans_train('SELECT f FROM kp', 5, '{"init": "random", "seed": 2}'))->'cluster_sizes' AS sizes;

-- each pass runs as a parallel aggregate: the same model with and without workers
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT uba_kmeans_pass(f, NULL, 1, 0) FROM kp;
SELECT max(abs(ca - cb)) < 1e-9 AS same_centres
  FROM kp_par, uba_kmeans_centroids(a) x
  JOIN uba_kmeans_centroids(uba_kmeans_train('SELECT f FROM kp', 5, '{"seed": 1}')) y USING (cluster),
       unnest(x.centroid, y.centroid) u(ca, cb);
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;

-- a table larger than the memory limit: the in-memory aggregate refuses it, passes do not
CREATE TABLE kp_big AS SELECT i, f FROM kp, generate_series(1, 20) g;
SET uba.work_mem = '1MB';
SELECT expect_error($$SELECT uba_kmeans(f, 5) FROM kp_big$$) ~ '^54000' AS in_memory_refused;
SELECT uba_model_info(m)->'training_rows' AS rows, uba_kmeans_inertia(m) / 20 <= 1.01 * uba_kmeans_inertia(c) AS good
  FROM (SELECT uba_kmeans_train('SELECT f FROM kp_big', 5, '{"seed": 4}') AS m) s, kp_par;
RESET uba.work_mem;

-- as a recipe in the catalog: retrained later the same way
SELECT uba_model_train('kp_segments', $$SELECT uba_kmeans_train('SELECT f FROM kp', 5, '{"seed": 1}')$$);
SELECT uba_model_retrain('kp_segments');
SELECT abs(uba_kmeans_inertia(uba_model('kp_segments')) / uba_kmeans_inertia(a) - 1) < 1e-9 AS same FROM kp_par;

-- the pass aggregate on its own: moments and counts
SELECT (uba_kmeans_pass(f, NULL, 0, 0) IS NOT NULL) AS state FROM kp;
SELECT uba_kmeans_pass(f, NULL, 0, 0) IS NULL AS no_rows FROM kp WHERE false;

-- no rows: NULL, as the aggregate
SELECT uba_kmeans_train('SELECT f FROM kp WHERE false', 3) IS NULL AS no_rows;
-- rows with NULL features are skipped
SELECT uba_model_info(uba_kmeans_train('SELECT NULL::float8[] UNION ALL SELECT f FROM kp', 5))->'training_rows' AS rows;

-- errors
SELECT expect_error($$SELECT uba_kmeans_train(NULL, 3)$$);
SELECT expect_error($$SELECT uba_kmeans_train('SELECT f FROM kp', NULL)$$);
SELECT expect_error($$SELECT uba_kmeans_train('SELECT f FROM kp', 0)$$);
SELECT expect_error($$SELECT uba_kmeans_train('SELECT f FROM kp', 3, '{"bogus": 1}')$$);
SELECT expect_error($$SELECT uba_kmeans_train('SELECT f FROM kp', 3, '{"init_steps": 0}')$$);
SELECT expect_error($$SELECT uba_kmeans_train('SELECT f FROM kp', 3, '{"init_centers": [[1, 2]]}')$$);
SELECT expect_error($$SELECT uba_kmeans_train('SELECT f FROM kp', 3, '{"init_centers": [[1, 2], [3]]}')$$);
SELECT expect_error($$SELECT uba_kmeans_train('SELECT f FROM kp', 3, '{"init_centers": [1, 2]}')$$);
SELECT expect_error($$SELECT uba_kmeans_train('SELECT f FROM kp', 3, '{"init_centers": [["a"]]}')$$);
SELECT expect_error($$SELECT uba_kmeans_train('SELECT f FROM kp', 99999)$$);
SELECT expect_error($$SELECT uba_kmeans_train('SELECT f FROM kp WHERE i < 3', 5)$$);
SELECT expect_error($$SELECT uba_kmeans_train('SELECT i, f FROM kp', 3)$$);
SELECT expect_error($$SELECT uba_kmeans_train('SELECT i FROM kp', 3)$$);
SELECT expect_error($$SELECT uba_kmeans_train('SELECT f FROM kp; SELECT f FROM kp', 3)$$);
SELECT expect_error($$SELECT uba_kmeans_train('DELETE FROM kp RETURNING f', 3)$$);
SELECT expect_error($$SELECT uba_kmeans_train('SELECT f FROM no_such_table', 3)$$);
SELECT expect_error($$SELECT uba_kmeans_train('SELECT ARRAY[1, ''NaN'']::float8[]', 1)$$);
SELECT expect_error($$SELECT uba_kmeans_train('SELECT ARRAY[1, 2]::float8[] UNION ALL SELECT ARRAY[1]::float8[]', 1)$$);
-- a comment at the end of the query does not hide the rest of the pass query
SELECT uba_model_info(uba_kmeans_train('SELECT f FROM kp -- all rows', 2))->'training_rows' AS rows;
-- the same errors from the in-memory aggregate's new option
SELECT expect_error($$SELECT uba_kmeans(f, 2, '{"init_centers": [[1, 2, 3, 4]]}') FROM kp$$);
SELECT expect_error($$SELECT uba_kmeans(f, 1, '{"init_centers": [[1, 2, 3, 4]], "n_init": 2}') FROM kp$$);
-- the pass aggregate checks its arguments and states
SELECT expect_error($$SELECT uba_kmeans_pass(f, NULL, -1, 0) FROM kp$$);
SELECT expect_error($$SELECT uba_kmeans_pass(f, NULL, NULL, 0) FROM kp$$);
SELECT expect_error($$SELECT uba_kmeans_pass(f, '\x00'::bytea, 0, 0) FROM kp$$);
SELECT expect_error($$SELECT uba_kmeans_pass(ARRAY[1, 2]::float8[], (SELECT b FROM kp_pair), 0, 0)$$);
SELECT expect_error($$SELECT uba_kmeans_pass(f, (SELECT uba_logreg_train(i > 3000, f) FROM kp), 0, 0) FROM kp$$);
SELECT expect_error($$SELECT uba_kmeans_pass_combine('\x0102'::bytea, NULL)$$);
SELECT expect_error($$SELECT uba_kmeans_pass_combine(s, t) FROM (SELECT uba_kmeans_pass(f, NULL, 0, 0) AS s FROM kp) a,
                      (SELECT uba_kmeans_pass(f, NULL, 2, 0) AS t FROM kp) b$$);
-- a state whose bookkeeping points outside its arrays
SELECT expect_error($$SELECT uba_kmeans_pass_combine(overlay(s placing '\x0000000000004940'::bytea from 61), NULL)
                      FROM (SELECT uba_kmeans_pass(f, NULL, 2, 0) AS s FROM kp) a$$);

DROP TABLE kp, kp_pair, kp_par, kp_big;
SELECT uba_model_drop('kp_segments');
