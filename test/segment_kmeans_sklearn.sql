-- uba_kmeans against scikit-learn on real data.
--
-- Reference inertias (test/data/kmeans_reference.csv) come from
-- bench/kmeans_reference.py: scikit-learn 1.2 KMeans(n_clusters=k, n_init=10,
-- random_state=0) after StandardScaler, on the committed data sets:
--   wholesale: ln of the six spend columns of test/data/wholesale.csv
--   retail:    recency, ln(1 + frequency), ln(1 + monetary) of test/data/retail_rfm.csv
-- uba trains on the same rows with {"n_init": 10, "standardize": true, "seed": s}.
--
-- The best of 10 restarts is itself random: on wholesale k = 5..8 a single
-- n_init = 10 fit, of scikit-learn or of uba, lands more than 0.5% above
-- scikit-learn's random_state = 0 result for some seeds (k = 8: about one seed
-- in three).  So each case takes the best uba model over seeds 0..9, and a
-- separate test bounds how many of the 120 single fits may miss.
--
-- Run from the project root: pg_prove test/segment_kmeans_sklearn.sql
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SET LOCAL max_parallel_workers_per_gather = 0;

SELECT plan(64);

CREATE TEMP TABLE ks_wholesale (
	channel int, region int, fresh float8, milk float8, grocery float8,
	frozen float8, detergents_paper float8, delicassen float8
) ON COMMIT DROP;
\copy ks_wholesale FROM 'test/data/wholesale.csv' WITH (FORMAT csv, HEADER)

CREATE TEMP TABLE ks_retail (
	customer_id int, recency float8, frequency float8, monetary float8
) ON COMMIT DROP;
\copy ks_retail FROM 'test/data/retail_rfm.csv' WITH (FORMAT csv, HEADER)

CREATE TEMP TABLE ks_reference (
	dataset text, k int, sklearn_inertia float8,
	sklearn_best_inertia float8, sklearn_worst_inertia float8,
	PRIMARY KEY (dataset, k)
) ON COMMIT DROP;
\copy ks_reference FROM 'test/data/kmeans_reference.csv' WITH (FORMAT csv, HEADER)

-- the committed data are complete
SELECT is((SELECT count(*) FROM ks_wholesale), 440::bigint, 'wholesale: 440 rows loaded');
SELECT is((SELECT count(*) FROM ks_retail), 4338::bigint, 'retail: 4338 customers loaded');
SELECT is((SELECT count(*) FROM ks_reference), 12::bigint, 'reference: 12 cases (2 data sets x k = 3..8)');

-- features as in bench/kmeans_reference.py
CREATE TEMP VIEW ks_wholesale_x AS
SELECT ARRAY[ln(fresh), ln(milk), ln(grocery), ln(frozen), ln(detergents_paper), ln(delicassen)] AS x
  FROM ks_wholesale;
CREATE TEMP VIEW ks_retail_x AS
SELECT ARRAY[recency, ln(1 + frequency), ln(1 + monetary)] AS x
  FROM ks_retail;

-- one model per data set, k and seed (uba puts the rows in a canonical order
-- before training, so a seed gives the same model whatever the plan)
CREATE TEMP TABLE ks_model ON COMMIT DROP AS
SELECT 'wholesale'::text AS dataset, k, s AS seed,
       (SELECT uba_kmeans(x, k, format('{"n_init": 10, "standardize": true, "seed": %s}', s)::jsonb)
          FROM ks_wholesale_x) AS model
  FROM generate_series(3, 8) k, generate_series(0, 9) s
UNION ALL
SELECT 'retail', k, s,
       (SELECT uba_kmeans(x, k, format('{"n_init": 10, "standardize": true, "seed": %s}', s)::jsonb)
          FROM ks_retail_x)
  FROM generate_series(3, 8) k, generate_series(0, 9) s;

-- 12: the best of seeds 0..9 is within 0.5% of scikit-learn
SELECT cmp_ok(b.inertia, '<=', r.sklearn_inertia * 1.005,
              format('%s k=%s: best uba inertia over seeds 0-9 (n_init 10) within 0.5%% of scikit-learn''s %s',
                     r.dataset, r.k, round(r.sklearn_inertia::numeric, 3)))
  FROM ks_reference r
  JOIN (SELECT dataset, k, min(uba_kmeans_inertia(model)) AS inertia
          FROM ks_model GROUP BY dataset, k) b USING (dataset, k)
 ORDER BY r.dataset DESC, r.k;

-- 1: single fits miss as rarely as scikit-learn's do (it would pass about 113 of 120)
SELECT cmp_ok((SELECT count(*) FROM ks_model m JOIN ks_reference r USING (dataset, k)
                WHERE uba_kmeans_inertia(m.model) <= r.sklearn_inertia * 1.005),
              '>=', 100::bigint,
              'at least 100 of the 120 single n_init-10 fits are within 0.5% of scikit-learn');

-- 12 x 4 on the seed 0 models: sizes, non-empty clusters, honest inertia, metadata
CREATE TEMP TABLE ks_seed0 ON COMMIT DROP AS
SELECT m.dataset, m.k, m.model,
       CASE m.dataset WHEN 'wholesale' THEN 440 ELSE 4338 END::bigint AS n
  FROM ks_model m WHERE m.seed = 0;

SELECT is((SELECT sum(c.size) FROM uba_kmeans_centroids(s.model) c)::bigint, s.n,
          format('%s k=%s: cluster sizes add up to the %s rows', s.dataset, s.k, s.n))
  FROM ks_seed0 s ORDER BY s.dataset DESC, s.k;

SELECT ok((SELECT count(*) = s.k AND min(c.size) > 0 FROM uba_kmeans_centroids(s.model) c),
          format('%s k=%s: %s clusters, none empty', s.dataset, s.k, s.k))
  FROM ks_seed0 s ORDER BY s.dataset DESC, s.k;

-- uba_kmeans_distance is in the standardized space, like the inertia
SELECT cmp_ok(abs(d.total - uba_kmeans_inertia(s.model)), '<=', 1e-9 * uba_kmeans_inertia(s.model),
              format('%s k=%s: inertia equals the sum of squared distances to the nearest centroid',
                     s.dataset, s.k))
  FROM ks_seed0 s
  CROSS JOIN LATERAL (
	SELECT sum(uba_kmeans_distance(s.model, v.x) ^ 2) AS total
	  FROM (SELECT x FROM ks_wholesale_x WHERE s.dataset = 'wholesale'
	        UNION ALL
	        SELECT x FROM ks_retail_x WHERE s.dataset = 'retail') v) d
 ORDER BY s.dataset DESC, s.k;

-- 12: uba_model_info agrees with the model
SELECT is((uba_model_info(s.model) ->> 'training_rows')::bigint, s.n,
          format('%s k=%s: uba_model_info reports %s training rows', s.dataset, s.k, s.n))
  FROM ks_seed0 s ORDER BY s.dataset DESC, s.k;

SELECT * FROM finish();
ROLLBACK;
