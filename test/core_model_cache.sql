-- Scoring functions keep the last 8 models they parsed per call site: rows that alternate
-- between models (one per segment, in a join) and models stored out of line (TOAST) must
-- each get their own model's result.  The backend keeps out-of-line models across queries
-- within uba.model_cache_size, least recently used first out.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(11);

CREATE TEMP TABLE rows AS
SELECT i, i % 10 AS segment, ARRAY[sin(i * 0.3), cos(i * 0.7), (i % 7) / 7.0]::float8[] AS x,
       sin(i * 1.9) + (i % 10) * 0.1 > 0.2 AS label
  FROM generate_series(1, 20000) i;

-- ten segments: more than the cache holds, so entries are evicted and parsed again
CREATE TEMP TABLE seg_models AS
SELECT segment, uba_logreg_train(label, x, '{"standardize": false}') AS m FROM rows GROUP BY segment;

-- the probability recomputed in SQL from each model's coefficients
CREATE TEMP TABLE expected AS
SELECT r.i, 1 / (1 + exp(-(c.b0 + c.w[1] * r.x[1] + c.w[2] * r.x[2] + c.w[3] * r.x[3]))) AS p
  FROM rows r JOIN (
	SELECT segment,
	       (SELECT coefficient FROM uba_logreg_coefficients(m) WHERE feature = 0) AS b0,
	       (SELECT array_agg(coefficient ORDER BY feature) FROM uba_logreg_coefficients(m) WHERE feature > 0) AS w
	  FROM seg_models) c USING (segment);

SELECT is((SELECT count(*) FROM rows r JOIN seg_models s USING (segment) JOIN expected e USING (i)
	        WHERE abs(uba_logreg_predict(s.m, r.x) - e.p) > 1e-12), 0::bigint,
	'rows alternating between ten segment models in a join get their own model');
SELECT is((SELECT count(*) FROM (SELECT * FROM rows ORDER BY segment % 3, i) r
	         JOIN seg_models s USING (segment) JOIN expected e USING (i)
	        WHERE abs(uba_logreg_predict(s.m, r.x) - e.p) > 1e-12), 0::bigint,
	'the same in another row order');

-- a k-means model of 100 x 16 centroids (12.8 kB) stored out of line, uncompressed
CREATE TEMP TABLE blobs (name text, m bytea);
ALTER TABLE blobs ALTER COLUMN m SET STORAGE EXTERNAL;
CREATE TEMP TABLE points AS
SELECT i, ARRAY(SELECT sin(i * 0.01 * j + j) FROM generate_series(1, 16) j)::float8[] AS f
  FROM generate_series(1, 3000) i;
INSERT INTO blobs SELECT 'a', uba_kmeans(f, 100, '{"seed": 1, "max_iter": 5}') FROM points;
INSERT INTO blobs SELECT 'b', uba_kmeans(f, 100, '{"seed": 2, "max_iter": 5}') FROM points;
SELECT ok(pg_relation_size((SELECT reltoastrelid FROM pg_class WHERE oid = 'blobs'::regclass)) > 0,
	'the models are stored out of line, in the TOAST table');

-- per row the model argument is a TOAST pointer (from the join) or the detoasted value
SELECT is((SELECT count(*) FROM points p JOIN blobs b ON true
	        WHERE uba_kmeans_assign(b.m, p.f)
	              <> uba_kmeans_assign(CASE b.name WHEN 'a' THEN (SELECT m FROM blobs WHERE name = 'a')
	                                               ELSE (SELECT m FROM blobs WHERE name = 'b') END, p.f)),
	0::bigint, 'out-of-line models alternating per row give the same assignments as their values');
SELECT isnt((SELECT count(*) FROM points p
	          WHERE uba_kmeans_assign((SELECT m FROM blobs WHERE name = 'a'), p.f)
	                <> uba_kmeans_assign((SELECT m FROM blobs WHERE name = 'b'), p.f)), 0::bigint,
	'the two models differ, so mixing them up would show');

-- the backend's cache: four k-means models of 1000 x 64 centroids (about 0.54 MB parsed each)
CREATE TEMP TABLE big_points AS
SELECT i, ARRAY(SELECT sin(i * 0.01 * j + j) FROM generate_series(1, 64) j)::float8[] AS f
  FROM generate_series(1, 1200) i;
CREATE TEMP TABLE big_blobs (name text, m bytea);
ALTER TABLE big_blobs ALTER COLUMN m SET STORAGE EXTERNAL;
INSERT INTO big_blobs
SELECT 'm' || s, uba_kmeans(f, 1000, jsonb_build_object('seed', s, 'max_iter', 1))
  FROM big_points, generate_series(1, 4) s GROUP BY s;
CREATE FUNCTION pg_temp.score(model text) RETURNS int LANGUAGE sql AS $$
	SELECT uba_kmeans_assign(m, (SELECT f FROM big_points WHERE i = 1)) FROM big_blobs WHERE name = model
$$;
CREATE FUNCTION pg_temp.kept() RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(b.name, ' ' ORDER BY c.ord)
	  FROM uba_cached_models() WITH ORDINALITY c(kind, created_at, bytes, in_use, ord)
	  JOIN big_blobs b ON (uba_model_info(b.m)->>'created_at')::timestamptz = c.created_at
$$;
SET LOCAL uba.model_cache_size = '2MB';
SELECT pg_temp.score('m1');
SELECT pg_temp.score('m2');
SELECT pg_temp.score('m3');
SELECT is(pg_temp.kept(), 'm3 m2 m1', 'the backend keeps the three models it used, most recent first');
SELECT ok((SELECT sum(bytes) FROM uba_cached_models()) <= 2 * 1024 * 1024
          AND (SELECT count(*) FROM uba_cached_models() WHERE bytes > 500000) = 3
          AND (SELECT bool_and(NOT in_use) FROM uba_cached_models()),
	'...within uba.model_cache_size, each with its memory, none in use between queries');
SELECT pg_temp.score('m1');
SELECT pg_temp.score('m4');
SELECT is(pg_temp.kept(), 'm4 m1 m3', 'a fourth does not fit: the least recently used one (m2) is evicted');
SET LOCAL uba.model_cache_size = '1MB';
SELECT is(pg_temp.kept(), 'm4', 'a lower limit evicts down to it, the most recent stays');
SET LOCAL uba.model_cache_size = 0;
SELECT pg_temp.score('m2');
SELECT is((SELECT count(*) FROM uba_cached_models()), 0::bigint, 'uba.model_cache_size = 0 keeps no model');
SELECT is(pg_temp.score('m2'), (SELECT uba_kmeans_assign(m, (SELECT f FROM big_points WHERE i = 1)) FROM big_blobs WHERE name = 'm2'),
	'...and scoring still works');
RESET uba.model_cache_size;

SELECT * FROM finish();
ROLLBACK;
