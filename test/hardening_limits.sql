-- Resource limits: uba.max_memory, cancel and statement_timeout during BLAS work
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(28);

-- 20,000 rows x 64 features = 10 MB of training rows
CREATE TEMP TABLE big AS
SELECT ARRAY(SELECT sin(g * 7.0 + j) FROM generate_series(1, 64) j)::float8[] AS f
  FROM generate_series(1, 20000) g;

-- memory: collecting the rows is refused above the limit...
SET LOCAL uba.max_memory = '4MB';
SELECT throws_like($$SELECT uba_kmeans(f, 4) FROM big$$,
	'the training rows need more than uba.max_memory (4 MB)',
	'uba.max_memory stops row collection with a clear message');
SELECT throws_ok($$SELECT uba_kmeans(f, 4) FROM big$$, '54000', NULL,
	'the memory error is PROGRAM_LIMIT_EXCEEDED');
SELECT throws_like($$SELECT uba_silhouette(f, 1) FROM big$$,
	'the training rows need more than uba.max_memory%',
	'quality aggregates honour uba.max_memory too');
-- ...counting the copy that ordering the rows makes, so a training set too large fails while
-- collecting, not after every row was read (10.5 MB of rows need 22 MB)
SET LOCAL uba.max_memory = '15MB';
SELECT throws_like($$SELECT uba_kmeans(f, 4) FROM big$$,
	'the training rows need more than uba.max_memory (15 MB)',
	'the row limit allows for the ordered copy of the rows');
-- ...and the k-means workspace is checked before it is allocated: few rows, but 16 lanes
-- of per-cluster sums for k = 2000 clusters of 64 features
SET LOCAL uba.max_memory = '10MB';
SELECT throws_like($$SELECT uba_kmeans(f, 2000) FROM (SELECT f FROM big LIMIT 3000) s$$,
	'k-means training needs % MB of memory, more than uba.max_memory (10 MB)',
	'the k-means workspace is checked before it is allocated');
-- ...and so are the workspaces of the other training functions: logistic regression keeps a
-- 65 x 65 Hessian per lane for 64 features, ridge regression a 400 x 400 co-moment matrix
SET LOCAL uba.max_memory = '1MB';
SELECT throws_like($$SELECT uba_logreg_train(random() < 0.5, f) FROM (SELECT f FROM big LIMIT 10) s$$,
	'logistic regression training needs % MB of memory, more than uba.max_memory (1 MB)',
	'the logistic regression workspace is checked before it is allocated');
SELECT throws_like($$SELECT uba_linreg_train(1.0, array_fill(1.0::float8, ARRAY[400]))$$,
	'linear regression training needs % MB of memory, more than uba.max_memory (1 MB)',
	'the ridge regression state is checked before it is allocated');
SET LOCAL uba.max_memory = '64MB';
SELECT lives_ok($$SELECT uba_kmeans(f, 4, '{"max_iter": 3}') FROM big$$,
	'the same training succeeds with a larger uba.max_memory');
SELECT is(current_setting('uba.max_memory'), '64MB', 'uba.max_memory reads back in memory units');
SELECT throws_ok($$SET uba.max_memory = '512kB'$$, '22023', NULL, 'uba.max_memory has a floor of 1MB');

-- cancel: a statement_timeout fires while k-means runs matrix products (k = 1000 makes
-- the BLAS calls the bulk of the work); the run must stop within a second of it
\i test/lib/seconds_until_cancel.sql

SET LOCAL uba.threads = 1;
SET LOCAL statement_timeout = '1500ms';
CREATE TEMP TABLE cancel1 AS
SELECT pg_temp.seconds_until_cancel($$SELECT uba_kmeans(f, 1000, '{"n_init": 1000, "max_iter": 100000, "tol": 0}') FROM big$$) AS s;
SET LOCAL statement_timeout = 0;
SELECT isnt(s, NULL, 'statement_timeout cancels k-means training (uba.threads = 1)') FROM cancel1;
SELECT cmp_ok(s, '<', 2.5::float8, 'cancelled within a second of the 1.5 s timeout (uba.threads = 1)') FROM cancel1;

SET LOCAL uba.threads = 2;
SET LOCAL statement_timeout = '1500ms';
CREATE TEMP TABLE cancel2 AS
SELECT pg_temp.seconds_until_cancel($$SELECT uba_kmeans(f, 1000, '{"n_init": 1000, "max_iter": 100000, "tol": 0}') FROM big$$) AS s;
SET LOCAL statement_timeout = 0;
SELECT isnt(s, NULL, 'statement_timeout cancels k-means training (uba.threads = 2)') FROM cancel2;
SELECT cmp_ok(s, '<', 2.5::float8, 'cancelled within a second of the 1.5 s timeout (uba.threads = 2)') FROM cancel2;

-- the same with uba's own threads busy in the distance kernel (k * d < 1024 runs there,
-- not in BLAS): the helpers stop, are joined, and only then is the error raised
SET LOCAL uba.threads = 2;
SET LOCAL statement_timeout = '1500ms';
CREATE TEMP TABLE cancel3 AS
SELECT pg_temp.seconds_until_cancel($$SELECT uba_kmeans(f, 8, '{"n_init": 1000, "max_iter": 1000, "tol": 0}') FROM big$$) AS s;
SET LOCAL statement_timeout = 0;
SELECT isnt(s, NULL, 'statement_timeout cancels k-means running on uba threads') FROM cancel3;
SELECT cmp_ok(s, '<', 2.5::float8, 'cancelled within a second of the 1.5 s timeout (uba threads)') FROM cancel3;

-- collaborative filtering: a cancel while ALS solves rows on both threads (1000 iterations of
-- 128 factors over 40,000 events would take minutes)
CREATE TEMP TABLE events AS
SELECT u AS user_id, (u * 37 + k * k) % 500 AS item_id, 1.0::float8 AS weight
  FROM generate_series(1, 2000) u, generate_series(1, 20) k;
SET LOCAL uba.threads = 2;
SET LOCAL statement_timeout = '1500ms';
CREATE TEMP TABLE cancel4 AS
SELECT pg_temp.seconds_until_cancel($$SELECT uba_cf_train(user_id, item_id, weight, '{"factors": 128, "iterations": 1000}') FROM events$$) AS s;
SET LOCAL statement_timeout = 0;
SELECT isnt(s, NULL, 'statement_timeout cancels ALS training') FROM cancel4;
SELECT cmp_ok(s, '<', 2.5::float8, 'cancelled within a second of the 1.5 s timeout (ALS)') FROM cancel4;

-- EASE on 6,000 items inverts a 6000 x 6000 matrix (about 1.5 s here) in blocks, checking for
-- interrupts between them: a cancel stops it within a second
CREATE TEMP TABLE many_items AS
SELECT u AS user_id, (u * 7 + k * 1201) % 6000 AS item_id, 1.0::float8 AS weight
  FROM generate_series(1, 12000) u, generate_series(1, 5) k;
SET LOCAL uba.max_memory = '512MB';
SET LOCAL statement_timeout = '700ms';
CREATE TEMP TABLE cancel5 AS
SELECT pg_temp.seconds_until_cancel($$SELECT uba_cf_train(user_id, item_id, weight, '{"method": "ease"}') FROM many_items$$) AS s;
SET LOCAL statement_timeout = 0;
SELECT isnt(s, NULL, 'statement_timeout cancels EASE training') FROM cancel5;
SELECT cmp_ok(s, '<', 1.7::float8, 'cancelled within a second of the 0.7 s timeout (EASE, blocked inversion)') FROM cancel5;

-- explicit-feedback ALS (weighted-lambda) on both threads
SET LOCAL uba.threads = 2;
SET LOCAL statement_timeout = '1500ms';
CREATE TEMP TABLE cancel7 AS
SELECT pg_temp.seconds_until_cancel($$SELECT uba_cf_train(user_id, item_id, weight, '{"feedback": "explicit", "factors": 128, "iterations": 1000}') FROM events$$) AS s;
SET LOCAL statement_timeout = 0;
SELECT isnt(s, NULL, 'statement_timeout cancels explicit-feedback ALS training') FROM cancel7;
SELECT cmp_ok(s, '<', 2.5::float8, 'cancelled within a second of the 1.5 s timeout (explicit ALS)') FROM cancel7;

-- the exact silhouette compares every pair of the 20,000 rows (about 15 s here)
SET LOCAL statement_timeout = '1500ms';
CREATE TEMP TABLE cancel8 AS
SELECT pg_temp.seconds_until_cancel($$SELECT uba_silhouette(f, (f[1] * 1000)::int % 5) FROM big$$) AS s;
SET LOCAL statement_timeout = 0;
SELECT isnt(s, NULL, 'statement_timeout cancels the silhouette score') FROM cancel8;
SELECT cmp_ok(s, '<', 2.5::float8, 'cancelled within a second of the 1.5 s timeout (silhouette)') FROM cancel8;

-- association rules: 40 identical baskets of 24 items make all 16.8 million subsets frequent;
-- mining checks for interrupts in every step of its recursion, so a cancel stops it at once
CREATE TEMP TABLE same_baskets AS SELECT b AS basket_id, i AS item_id FROM generate_series(1, 40) b, generate_series(1, 24) i;
SET LOCAL uba.max_memory = '8GB';
SET LOCAL statement_timeout = '700ms';
CREATE TEMP TABLE cancel6 AS
SELECT pg_temp.seconds_until_cancel($$SELECT uba_assoc_rules(basket_id, item_id, '{"max_length": 24}') FROM same_baskets$$) AS s;
SET LOCAL statement_timeout = 0;
SELECT isnt(s, NULL, 'statement_timeout cancels association rule mining') FROM cancel6;
SELECT cmp_ok(s, '<', 1.2::float8, 'cancelled within half a second of the 0.7 s timeout (FP-growth)') FROM cancel6;
-- ...and with the default memory limit the same mining stops with a clear error instead
SET LOCAL uba.max_memory = '64MB';
SELECT throws_ok($$SELECT uba_assoc_rules(basket_id, item_id, '{"max_length": 24}') FROM same_baskets$$,
	'54000', 'the frequent itemsets need more than uba.max_memory (64 MB)',
	'mining that outgrows uba.max_memory stops with an error');
RESET uba.max_memory;

-- the backend is healthy afterwards and BLAS threads give the same clustering
SELECT is(
	(SELECT uba_model_info(uba_kmeans(f, 3, '{"seed": 2}'))->'cluster_sizes' FROM big),
	(SELECT uba_model_info(uba_kmeans(f, 3, '{"seed": 2}'))->'cluster_sizes' FROM big),
	'training works after a cancel, with 2 threads');

SELECT * FROM finish();
ROLLBACK;
