-- Large arrays given back are kept mapped and cut into the next ones
-- (bigmem.c).  A kept array holds the last training's data: every array cut
-- from it must read as zero, as fresh memory does, so a training gives the
-- same model whether its arrays are fresh or reused.
--
-- Each model is trained first in this session (nothing kept yet from an
-- earlier training of the same kind), then again after other trainings have
-- filled the kept arrays with their rows, keys and hash tables.  The data
-- are large enough (over 1 MB per array) for the mapped arrays to be used:
-- rows of k-means and logistic regression, the ordered copies, and the id
-- dictionaries' hash tables of association rules.
--
-- Run from the project root: pg_prove test/core_bigmem.sql
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SET LOCAL max_parallel_workers_per_gather = 0;

SELECT plan(6);

-- 40,000 rows of 8 features (2.6 MB of rows), a label, and 200,000 baskets' items
CREATE TEMP TABLE bm ON COMMIT DROP AS
SELECT g AS id,
	   ARRAY[(g * 7919) % 1000, (g * 104729) % 997, (g * 1299709) % 991, g % 13,
			 (g * 31) % 101, (g * 37) % 103, (g * 41) % 107, (g * 43) % 109]::float8[] AS f,
	   ((g * 7919) % 1000 + (g * 31) % 101 * 5) > 700 AS y
  FROM generate_series(1, 40000::bigint) g;
CREATE TEMP TABLE bm_baskets ON COMMIT DROP AS
SELECT 'b' || (g % 200000) AS basket, 'i' || ((g * 7) % 300 + (g % 200000) % 5) AS item
  FROM generate_series(1, 600000::bigint) g;

CREATE TEMP TABLE bm_first ON COMMIT DROP AS
SELECT (SELECT uba_model_info(uba_kmeans(f, 5, '{"seed": 2, "max_iter": 50}')) - 'training_ms' - 'created_at' FROM bm) AS km,
	   (SELECT uba_model_info(uba_assoc_rules(basket, item, '{"min_support": 0.001}')) - 'training_ms' - 'created_at'
		  FROM bm_baskets) AS ar;
CREATE TEMP TABLE bm_first_lr ON COMMIT DROP AS
SELECT array_agg(c.coefficient ORDER BY c.feature) AS lr
  FROM (SELECT uba_logreg_train(y, f) AS m FROM bm) s, uba_logreg_coefficients(s.m) c;

-- fill the kept arrays with other rows, keys and hash tables
SELECT uba_kmeans(ARRAY[g, g * 3, -g, g % 17, g % 19, g % 23, g % 29, g % 31]::float8[], 7) IS NOT NULL AS dirty
  INTO TEMP bm_dirty1 FROM generate_series(1, 120000::bigint) g;
SELECT uba_assoc_rules('x' || g, 'y' || (g % 999)) IS NOT NULL AS dirty
  INTO TEMP bm_dirty2 FROM generate_series(1, 300000::bigint) g;

SELECT is((SELECT uba_model_info(uba_kmeans(f, 5, '{"seed": 2, "max_iter": 50}')) - 'training_ms' - 'created_at' FROM bm),
		  (SELECT km FROM bm_first), 'k-means: the same model on reused arrays');
SELECT is((SELECT uba_model_info(uba_assoc_rules(basket, item, '{"min_support": 0.001}')) - 'training_ms' - 'created_at'
			 FROM bm_baskets),
		  (SELECT ar FROM bm_first), 'association rules: the same model on reused arrays');
SELECT is((SELECT array_agg(c.coefficient ORDER BY c.feature)
			 FROM (SELECT uba_logreg_train(y, f) AS m FROM bm) s, uba_logreg_coefficients(s.m) c),
		  (SELECT lr FROM bm_first_lr), 'logistic regression: the same coefficients on reused arrays');

-- a smaller memory limit: kept arrays beyond it are unmapped, training goes on
SET LOCAL uba.max_memory = '8MB';
SELECT is((SELECT uba_model_info(uba_kmeans(f, 5, '{"seed": 2, "max_iter": 50}')) - 'training_ms' - 'created_at' FROM bm),
		  (SELECT km FROM bm_first), 'k-means: the same model with a smaller limit than what is kept');

-- a training that fails (memory limit, while collecting) gives its arrays back; the next is unaffected
SET LOCAL uba.max_memory = '2MB';
SELECT throws_ok($$SELECT uba_kmeans(f || f || f, 5) FROM bm$$, '54000', NULL,
				 'a training over the limit fails while collecting');
RESET uba.max_memory;
SELECT is((SELECT uba_model_info(uba_kmeans(f, 5, '{"seed": 2, "max_iter": 50}')) - 'training_ms' - 'created_at' FROM bm),
		  (SELECT km FROM bm_first), 'k-means: the same model after a training that failed');

SELECT * FROM finish();
ROLLBACK;
