-- Row collection by the training aggregates: memory accounting, several states growing at
-- once, and errors or cancels while rows are paged in on the background thread
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(17);

-- the DETAIL of the error a query raises, or NULL
CREATE FUNCTION pg_temp.error_detail(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	d text;
BEGIN
	EXECUTE query;
	RETURN NULL;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
	RETURN d;
END
$$;

\i test/lib/plan_of.sql

CREATE TEMP TABLE wide AS
SELECT ARRAY(SELECT sin(g * 7.0 + j) FROM generate_series(1, 64) j)::float8[] AS f
  FROM generate_series(1, 5000) g;

-- a k-means row of 64 features takes 512 bytes and 16 for its hash and position, counted
-- twice for the room its ordered copy takes: 1 MB holds 1048576 / 1056 = 992 rows
SET LOCAL uba.max_memory = '1MB';
SELECT is(pg_temp.error_detail($$SELECT uba_kmeans(f, 4) FROM wide$$),
	'Collected 992 rows of 64 features so far; training holds each row twice while ordering the rows.',
	'k-means rows count 2 x (8 x features + 16) bytes against uba.max_memory');
-- a labelled row takes 8 bytes more: 1048576 / 1072 = 978 rows
SELECT is(pg_temp.error_detail($$SELECT uba_logreg_train(f[1] > 0, f) FROM wide$$),
	'Collected 978 rows of 64 features so far; training holds each row twice while ordering the rows.',
	'labelled rows count 2 x (8 x features + 24) bytes');
RESET uba.max_memory;

-- 4 groups of 40,000 rows (3 MB each), interleaved, so the hash aggregate grows four states
-- at once, each paged in ahead on the one background thread: every group's model must be the
-- one trained on that group alone
CREATE TABLE grouped AS
SELECT i % 4 AS g, ARRAY[sin(i), cos(i * 0.7), sin(i * 0.3) * 2, (i % 13) / 13.0, cos(i * 1.1)]::float8[] AS f,
       sin(i * 1.7) + cos(i * 0.2) > 0.3 AS label
  FROM generate_series(1, 160000) i;
ANALYZE grouped;
SET LOCAL enable_sort = off;
SELECT ok(pg_temp.plan_of($$SELECT g, uba_logreg_train(label, f) FROM grouped GROUP BY g$$) LIKE '%HashAggregate%',
	'the groups are aggregated at once (hash aggregate)');
CREATE TEMP TABLE by_group AS
SELECT g, uba_logreg_train(label, f) AS m FROM grouped GROUP BY g;
RESET enable_sort;
SELECT is((SELECT count(*) FROM by_group), 4::bigint, 'one model per group');
SELECT is(
	(SELECT count(*) FROM by_group b
	  WHERE (SELECT array_agg(coefficient ORDER BY feature) FROM uba_logreg_coefficients(b.m))
	      = (SELECT array_agg(coefficient ORDER BY feature)
	           FROM uba_logreg_coefficients((SELECT uba_logreg_train(label, f) FROM grouped WHERE g = b.g)))),
	4::bigint,
	'models trained on interleaved groups equal the models of each group alone');

-- an error while rows are collected, after paging in has started (row 150,000 has a NaN):
-- the state's memory goes, the background thread stops, and the next training works
SELECT throws_ok(
	$$SELECT uba_logreg_train(label, CASE WHEN i = 150000 THEN ARRAY['NaN', 0, 0, 0, 0]::float8[] ELSE f END)
	    FROM (SELECT row_number() OVER () AS i, label, f FROM grouped) s$$,
	'22000', NULL, 'a bad row late in a large collection raises its error');
SELECT ok((SELECT uba_model_info(uba_logreg_train(label, f))->>'training_rows' FROM grouped) = '160000',
	'training works after an error during collection');

-- a cancel while rows are collected (statement_timeout during a scan of 2,000,000 rows)
CREATE FUNCTION pg_temp.cancelled(query text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE query;
	RETURN false;
EXCEPTION WHEN query_canceled THEN
	RETURN true;
END
$$;
SET LOCAL statement_timeout = '300ms';
SELECT ok(pg_temp.cancelled($$SELECT uba_kmeans(ARRAY[sin(i), cos(i)]::float8[], 2) FROM generate_series(1, 3000000) i$$),
	'a statement_timeout cancels row collection');
RESET statement_timeout;
SELECT ok((SELECT uba_model_info(uba_logreg_train(label, f))->>'training_rows' FROM grouped) = '160000',
	'training works after a cancel during collection');

-- a plain aggregate's rows go into one array of the size the planner expects; an estimate too
-- low (f[1] > -2: every row, estimated at a third) or too high (f[1] > 0.99: 7,208 rows, also
-- estimated at 53,333) gives the model of the same rows in a grouped aggregate, whose row set
-- grows step by step as before
CREATE FUNCTION pg_temp.scan_rows(query text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
	j json;
BEGIN
	EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO j;
	RETURN (j->0->'Plan'->'Plans'->0->>'Plan Rows')::numeric;
END
$$;
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT is(pg_temp.scan_rows($$SELECT uba_logreg_train(label, f) FROM grouped WHERE f[1] > -2$$), 53333::numeric,
	'the planner expects a third of the rows for an expression it has no statistics on');
SELECT is(
	(SELECT array_agg(coefficient ORDER BY feature) FROM uba_logreg_coefficients(
		(SELECT uba_logreg_train(label, f) FROM grouped WHERE f[1] > -2))),
	(SELECT array_agg(coefficient ORDER BY feature) FROM uba_logreg_coefficients(
		(SELECT uba_logreg_train(label, f) FROM grouped WHERE f[1] > -2 GROUP BY label IS NULL))),
	'three times the rows the planner expects: the model of the rows grown step by step');
SELECT is(
	(SELECT array_agg(c.centroid ORDER BY c.cluster) FROM uba_kmeans_centroids(
		(SELECT uba_kmeans(f, 3) FROM grouped WHERE f[1] > 0.99)) c),
	(SELECT array_agg(c.centroid ORDER BY c.cluster) FROM uba_kmeans_centroids(
		(SELECT uba_kmeans(f, 3) FROM grouped WHERE f[1] > 0.99 GROUP BY label IS NULL)) c),
	'a seventh of the rows the planner expects: the same k-means model');
RESET max_parallel_workers_per_gather;

-- the canonical order's sort counts, scatters and finishes its buckets on uba.threads threads
-- (from 131,072 rows, two parts of the keys): 200,000 rows of 1,500 distinct feature values
-- (labels differ between equal features, so whole buckets tie on the hash and are ordered by
-- content), in two table orders and on one or more threads, give one model
CREATE TABLE dup_a AS
SELECT ARRAY[(i % 500) / 7.0, ((i * 7) % 300) / 11.0]::float8[] AS f, i % 7 = 0 AS label
  FROM generate_series(1, 200000) i;
CREATE TABLE dup_b AS SELECT * FROM dup_a ORDER BY md5(f::text || label::text) DESC;
SET LOCAL max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE dup_models AS
SELECT 'a' AS t, (SELECT uba_logreg_train(label, f) FROM dup_a) AS lr, (SELECT uba_kmeans(f, 3) FROM dup_a) AS km
UNION ALL
SELECT 'b', (SELECT uba_logreg_train(label, f) FROM dup_b), (SELECT uba_kmeans(f, 3) FROM dup_b);
SET LOCAL uba.threads = 1;
INSERT INTO dup_models
SELECT 'b1', (SELECT uba_logreg_train(label, f) FROM dup_b), (SELECT uba_kmeans(f, 3) FROM dup_b);
RESET uba.threads;
RESET max_parallel_workers_per_gather;
CREATE FUNCTION pg_temp.lr_coef(m bytea) RETURNS float8[] LANGUAGE sql AS $$
	SELECT array_agg(coefficient ORDER BY feature) FROM uba_logreg_coefficients(m)
$$;
CREATE FUNCTION pg_temp.km_centroids(m bytea) RETURNS float8[] LANGUAGE sql AS $$
	SELECT array_agg(x ORDER BY c.cluster, o) FROM uba_kmeans_centroids(m) c, unnest(c.centroid) WITH ORDINALITY u(x, o)
$$;
SELECT is((SELECT pg_temp.lr_coef(lr) FROM dup_models WHERE t = 'b'), (SELECT pg_temp.lr_coef(lr) FROM dup_models WHERE t = 'a'),
	'200,000 rows with ties in another order: the same logistic regression');
SELECT is((SELECT pg_temp.km_centroids(km) FROM dup_models WHERE t = 'b'), (SELECT pg_temp.km_centroids(km) FROM dup_models WHERE t = 'a'),
	'200,000 rows with ties in another order: the same k-means centroids');
SELECT ok((SELECT pg_temp.lr_coef(lr) = (SELECT pg_temp.lr_coef(lr) FROM dup_models WHERE t = 'b')
             AND pg_temp.km_centroids(km) = (SELECT pg_temp.km_centroids(km) FROM dup_models WHERE t = 'b')
             FROM dup_models WHERE t = 'b1'),
	'the same models sorted on one thread');

-- appending the workers' partial states in a parallel plan gives the serial model
CREATE TEMP TABLE serial_coef AS
SELECT array_agg(coefficient ORDER BY feature) AS c
  FROM uba_logreg_coefficients((SELECT uba_logreg_train(label, f) FROM grouped));
\i test/lib/parallel_plans.sql
SELECT ok(pg_temp.plan_of($$SELECT uba_logreg_train(label, f) FROM grouped$$) LIKE '%Partial Aggregate%',
	'the training query runs in parallel workers');
SELECT is(
	(SELECT array_agg(coefficient ORDER BY feature) FROM uba_logreg_coefficients(
		(SELECT uba_logreg_train(label, f) FROM grouped))),
	(SELECT c FROM serial_coef),
	'a parallel plan gives the serial model');

SELECT * FROM finish();
ROLLBACK;
