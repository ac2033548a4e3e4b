-- training and quality aggregates run in parallel workers and give the serial answer
SET extra_float_digits = 0;
CREATE TABLE par AS
SELECT g AS id, ARRAY[(g % 4) * 10 + (g % 13) * 0.01, (g % 4) * -3 + (g % 7) * 0.02]::float8[] AS f
  FROM generate_series(1, 20000) g;
ANALYZE par;

SET parallel_setup_cost = 0;
SET min_parallel_table_scan_size = 0;
-- the planner keeps a row-collecting aggregate in one process: no partial
-- aggregate, and no Gather (which would pass every row to the leader)
EXPLAIN (COSTS OFF) SELECT uba_kmeans(f, 4) FROM par;
SELECT parallel_plans(true);
SET parallel_leader_participation = off;	-- make the workers do the scan

EXPLAIN (COSTS OFF) SELECT uba_kmeans(f, 4) FROM par;
EXPLAIN (COSTS OFF) SELECT uba_silhouette(f, (id % 4) + 1), uba_davies_bouldin(f, (id % 4) + 1) FROM par;
CREATE TABLE par_model AS SELECT uba_kmeans(f, 4, '{"seed": 5}') AS m FROM par;
SELECT uba_model_info(m)->'cluster_sizes' AS parallel_sizes,
       round(uba_kmeans_inertia(m)::numeric, 6) AS parallel_inertia FROM par_model;
SELECT round(uba_davies_bouldin(f, (id % 4) + 1)::numeric, 10) AS parallel_db,
       round(uba_silhouette(f, (id % 4) + 1, '{"sample_size": 2000}')::numeric, 10) AS parallel_sil FROM par;
-- scoring in parallel
EXPLAIN (COSTS OFF) SELECT count(*) FROM par WHERE uba_kmeans_assign((SELECT m FROM par_model), f) = 1;
SELECT count(*) FROM par WHERE uba_kmeans_assign((SELECT m FROM par_model), f) = 1;
-- errors raised inside a worker reach the client
SELECT expect_error($$SELECT uba_kmeans(CASE WHEN id = 15000 THEN '{1}'::float8[] ELSE f END, 4) FROM par$$);

SELECT parallel_plans(false);
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT uba_kmeans(f, 4) FROM par;
SELECT uba_model_info(uba_kmeans(f, 4, '{"seed": 5}'))->'cluster_sizes' AS serial_sizes,
       round(uba_kmeans_inertia(uba_kmeans(f, 4, '{"seed": 5}'))::numeric, 6) AS serial_inertia FROM par;
SELECT round(uba_davies_bouldin(f, (id % 4) + 1)::numeric, 10) AS serial_db FROM par;

-- a seed reproduces the model exactly, whatever order the rows arrive in
CREATE TABLE par_runs AS SELECT 'serial' AS how, uba_kmeans(f, 5, '{"seed": 9}') AS m FROM par;
INSERT INTO par_runs SELECT 'shuffled', uba_kmeans(f, 5, '{"seed": 9}') FROM (SELECT f FROM par ORDER BY random()) s;
-- (INSERT ... SELECT never runs in parallel; CREATE TABLE AS does)
SELECT parallel_plans(true);
EXPLAIN (COSTS OFF) CREATE TABLE par_parallel AS SELECT 'parallel' AS how, uba_kmeans(f, 5, '{"seed": 9}') AS m FROM par;
CREATE TABLE par_parallel AS SELECT 'parallel' AS how, uba_kmeans(f, 5, '{"seed": 9}') AS m FROM par;
INSERT INTO par_runs SELECT * FROM par_parallel;
SELECT count(DISTINCT substring(m from 1 + 32 + 48)) AS distinct_payloads,
       count(DISTINCT uba_model_info(m) - 'created_at' - 'training_ms') AS distinct_infos
  FROM par_runs;
SELECT count(DISTINCT uba_silhouette) AS distinct_silhouettes FROM (
	SELECT uba_silhouette(f, (id % 4) + 1, '{"sample_size": 500}') FROM par
	UNION ALL
	SELECT uba_silhouette(f, (id % 4) + 1, '{"sample_size": 500}') FROM (SELECT * FROM par ORDER BY random()) s) u;
SELECT parallel_plans(false);

-- A parallel leader gets interrupts that raise no error (a worker's message) at any time; they
-- must not cut the multi-threaded work short.  uba.debug_spurious_interrupts raises such an
-- interrupt before every block: the models and the silhouette are the same (they were not:
-- stopped lanes left the ordered rows zero, and the silhouette saw one cluster).
SET uba.debug_spurious_interrupts = on;
SET uba.threads = 2;
INSERT INTO par_runs SELECT 'interrupted', uba_kmeans(f, 5, '{"seed": 9}') FROM par;
SELECT count(DISTINCT substring(m from 1 + 32 + 48)) AS distinct_payloads FROM par_runs;
SELECT count(DISTINCT s) AS distinct_silhouettes FROM (
	SELECT uba_silhouette(f, (id % 4) + 1, '{"sample_size": 500}') AS s FROM par
	UNION ALL
	SELECT uba_silhouette(f, (id % 4) + 1, '{"sample_size": 500}') FROM par WHERE random() >= 0) u;
SELECT round(uba_logreg_predict(uba_logreg_train(id % 4 = 0, f), ARRAY[0.1, 0.0])::numeric, 6) AS interrupted_logreg FROM par;
RESET uba.debug_spurious_interrupts;
SELECT round(uba_logreg_predict(uba_logreg_train(id % 4 = 0, f), ARRAY[0.1, 0.0])::numeric, 6) AS logreg FROM par;
RESET uba.threads;
