-- uba_kmeans's Lloyd steps skip rows by Hamerly's bounds; each step must
-- still be exactly Lloyd's: the centres after m steps are the means of the
-- rows grouped by the nearest of the centres after m - 1 steps.
--
-- The model with "max_iter": m - 1 holds the centres after m - 1 steps
-- (the init does not depend on max_iter), and uba_kmeans_assign() computes
-- every distance.  A row the bounds kept in the wrong cluster moves its
-- cluster's mean away from the trained centre.  k = 6 uses the 8-wide
-- kernel alone; k = 12 also the one-distance tightening of the bound.
--
-- Run from the project root: pg_prove test/segment_kmeans_bounds.sql
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SET LOCAL max_parallel_workers_per_gather = 0;

SELECT plan(7);

-- 3,000 rows in 4 overlapping blobs (deterministic), so rows keep changing
-- cluster for many steps
CREATE TEMP TABLE kb ON COMMIT DROP AS
SELECT g AS id,
	   ARRAY[(g % 4) * 1.5 + ((g * 7919) % 1000) / 250.0,
			 (g % 4 / 2) * 1.5 + ((g * 104729) % 997) / 249.0,
			 ((g * 1299709) % 991) / 330.0]::float8[] AS f
  FROM generate_series(1, 3000::bigint) g;

CREATE TEMP TABLE kb_models ON COMMIT DROP AS
SELECT k, m, (SELECT uba_kmeans(f, k, jsonb_build_object('max_iter', m, 'tol', 0, 'seed', 3)) FROM kb) AS model
  FROM (VALUES (6), (12)) ks(k), generate_series(1, 15) m;

-- the row counts and every step's changes (rows moving late keep the bounds busy)
SELECT cmp_ok((SELECT (uba_model_info(model)->>'iterations')::int FROM kb_models WHERE k = 6 AND m = 15),
			  '>=', 8, 'k = 6: still moving rows after 8 steps');
SELECT cmp_ok((SELECT (uba_model_info(model)->>'iterations')::int FROM kb_models WHERE k = 12 AND m = 15),
			  '>=', 8, 'k = 12: still moving rows after 8 steps');

-- the group means under the previous step's centres, for every step
CREATE TEMP TABLE kb_means ON COMMIT DROP AS
SELECT p.k, p.m, uba_kmeans_assign(prev.model, kb.f) AS c, u.j, avg(u.v) AS mean
  FROM kb_models p
  JOIN kb_models prev ON prev.k = p.k AND prev.m = p.m - 1
 CROSS JOIN kb
 CROSS JOIN LATERAL unnest(kb.f) WITH ORDINALITY u(v, j)
 GROUP BY 1, 2, 3, 4;

-- each mean's squared distance to the nearest trained centre of the step
CREATE TEMP TABLE kb_gap ON COMMIT DROP AS
SELECT g.k, g.m, g.c,
	   (SELECT min(d) FROM (
			SELECT sum((g2.mean - x.v) ^ 2) AS d
			  FROM uba_kmeans_centroids(p.model) ct
			 CROSS JOIN LATERAL unnest(ct.centroid) WITH ORDINALITY x(v, j)
			  JOIN kb_means g2 ON g2.k = g.k AND g2.m = g.m AND g2.c = g.c AND g2.j = x.j
			 GROUP BY ct.cluster) s) AS gap
  FROM (SELECT DISTINCT k, m, c FROM kb_means) g
  JOIN kb_models p ON p.k = g.k AND p.m = g.m;

SELECT is((SELECT count(*) FROM kb_gap WHERE k = 6), 14 * 6::bigint, 'k = 6: every cluster of 14 steps compared');
SELECT is((SELECT count(*) FROM kb_gap WHERE k = 12), 14 * 12::bigint, 'k = 12: every cluster of 14 steps compared');
SELECT cmp_ok((SELECT max(gap) FROM kb_gap WHERE k = 6), '<', 1e-20::float8,
			  'k = 6: each step''s centres are the means of the rows nearest the last step''s');
SELECT cmp_ok((SELECT max(gap) FROM kb_gap WHERE k = 12), '<', 1e-20::float8,
			  'k = 12: each step''s centres are the means of the rows nearest the last step''s');

-- the final model's inertia and sizes are those of its centres (the last pass computes every distance)
SELECT ok((SELECT bool_and(abs(t.ss - uba_kmeans_inertia(p.model)) <= 1e-9 * uba_kmeans_inertia(p.model))
			 FROM kb_models p,
				  LATERAL (SELECT sum(uba_kmeans_distance(p.model, kb.f) ^ 2) AS ss FROM kb) t
			WHERE p.m = 15),
		  'the inertia is the sum of the squared distances to the final centres');

SELECT * FROM finish();
ROLLBACK;
