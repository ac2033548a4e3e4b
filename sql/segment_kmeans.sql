-- k-means: training, scoring, options and every user error
SET extra_float_digits = 0;

-- three well separated groups of 4, 3 and 2 points
CREATE TABLE km (id int, f float8[]);
INSERT INTO km VALUES
 (1, '{0,0}'), (2, '{0,1}'), (3, '{1,0}'), (4, '{1,1}'),
 (5, '{10,10}'), (6, '{10,11}'), (7, '{11,10}'),
 (8, '{-10,20}'), (9, '{-10,22}');

CREATE TABLE km_model AS SELECT uba_kmeans(f, 3, '{"seed": 7}') AS m FROM km;

-- clusters are numbered by size, largest first
SELECT cluster, size, centroid FROM uba_kmeans_centroids((SELECT m FROM km_model)) ORDER BY cluster;
SELECT id, uba_kmeans_assign((SELECT m FROM km_model), f) AS cluster,
       round(uba_kmeans_distance((SELECT m FROM km_model), f)::numeric, 6) AS distance
  FROM km ORDER BY id;
-- inertia = 4 * 0.5 + 3 * (2/3) + 2 * 1
SELECT round(uba_kmeans_inertia(m)::numeric, 9) FROM km_model;
SELECT info - 'created_at' - 'training_ms' - 'inertia' AS info
  FROM (SELECT uba_model_info(m) AS info FROM km_model) s;

-- the same seed reproduces the model byte for byte, apart from its timestamps
SELECT (uba_model_info(a) - 'created_at' - 'training_ms') = (uba_model_info(b) - 'created_at' - 'training_ms') AS same_model,
       uba_model_info(a)->'cluster_sizes' = uba_model_info(b)->'cluster_sizes' AS same_sizes
  FROM (SELECT uba_kmeans(f, 3, '{"seed": 11, "n_init": 3}') AS a,
               uba_kmeans(f, 3, '{"seed": 11, "n_init": 3}') AS b FROM km) s;

-- random init defaults to 10 restarts; every option is recorded in the model
SELECT uba_model_info(uba_kmeans(f, 3, '{"init": "random", "seed": 3}'))->'options' FROM km;
SELECT round(uba_kmeans_inertia(uba_kmeans(f, 3, '{"init": "random", "seed": 3}'))::numeric, 9) FROM km;

-- k = 1: one centroid at the mean; k = number of rows: inertia 0
SELECT centroid FROM uba_kmeans_centroids((SELECT uba_kmeans(f, 1) FROM km));
SELECT uba_kmeans_inertia(uba_kmeans(f, 9)) FROM km;

-- max_iter 1 stops after one iteration
SELECT uba_model_info(uba_kmeans(f, 3, '{"max_iter": 1, "seed": 1}'))->'iterations' FROM km;

-- standardize: centroids come back in input units, distances are in z-scores
CREATE TABLE km_scaled AS SELECT id, ARRAY[f[1] * 1000, f[2]]::float8[] AS f FROM km;
CREATE TABLE km_smodel AS SELECT uba_kmeans(f, 3, '{"standardize": true, "seed": 7}') AS m FROM km_scaled;
SELECT cluster, size, centroid FROM uba_kmeans_centroids((SELECT m FROM km_smodel)) ORDER BY cluster;
SELECT array_agg(uba_kmeans_assign((SELECT m FROM km_smodel), f) ORDER BY id) FROM km_scaled;
SELECT uba_model_info(m)->'standardized' FROM km_smodel;
-- a constant feature keeps scale 1 instead of dividing by zero
SELECT size FROM uba_kmeans_centroids((SELECT uba_kmeans(ARRAY[f[1], 5]::float8[], 2, '{"standardize": true}') FROM km)) ORDER BY cluster;

-- duplicated points: more clusters than distinct points leaves empty clusters, no error
SELECT uba_model_info(uba_kmeans(ARRAY[1, 1]::float8[], 3))->'cluster_sizes' FROM generate_series(1, 5);

-- NULL rows are skipped like in built-in aggregates; no rows gives NULL
SELECT uba_model_info(uba_kmeans(f, 3))->'training_rows' FROM (SELECT f FROM km UNION ALL SELECT NULL) s;
SELECT uba_kmeans(f, 3) IS NULL AS no_rows FROM km WHERE false;
SELECT uba_kmeans(NULL::float8[], 3) IS NULL AS all_null FROM km;
-- scoring is strict
SELECT uba_kmeans_assign(m, NULL) IS NULL, uba_kmeans_assign(NULL, '{1,2}') IS NULL FROM km_model;

-- errors: k
SELECT expect_error($$SELECT uba_kmeans(f, 0) FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, 100001) FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, NULL) FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, 10) FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, id) FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2, jsonb_build_object('seed', id)) FROM km$$);
-- errors: features
SELECT expect_error($$SELECT uba_kmeans(f, 2) FROM (VALUES ('{1,NaN}'::float8[]), ('{1,2}')) v(f)$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2) FROM (VALUES ('{1,2}'::float8[]), ('{1,Infinity}')) v(f)$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2) FROM (VALUES ('{1,-Infinity}'::float8[]), ('{1,2}')) v(f)$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2) FROM (VALUES ('{1,NULL}'::float8[]), ('{1,2}')) v(f)$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2) FROM (VALUES ('{1,2}'::float8[]), ('{1,2,3}')) v(f)$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2) FROM (VALUES ('{{1,2},{3,4}}'::float8[]), ('{1,2}')) v(f)$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2) FROM (VALUES ('{}'::float8[]), ('{1,2}')) v(f)$$);
-- errors: options
SELECT expect_error($$SELECT uba_kmeans(f, 2, '{"bogus": 1}') FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2, '[1, 2]') FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2, '"seed"') FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2, '{"seed": "7"}') FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2, '{"seed": -1}') FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2, '{"n_init": 0}') FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2, '{"n_init": 2.5}') FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2, '{"max_iter": 0}') FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2, '{"tol": -0.1}') FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2, '{"tol": 1e400}') FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2, '{"init": "kmeans"}') FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2, '{"init": 1}') FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2, '{"standardize": "yes"}') FROM km$$);
SELECT expect_error($$SELECT uba_kmeans(f, 2, '{"standardize": null}') FROM km$$);
-- errors: scoring
SELECT expect_error($$SELECT uba_kmeans_assign(m, '{1,2,3}') FROM km_model$$);
SELECT expect_error($$SELECT uba_kmeans_assign(m, '{1,NaN}') FROM km_model$$);
SELECT expect_error($$SELECT uba_kmeans_distance(m, '{NULL,1}') FROM km_model$$);
SELECT expect_error($$SELECT uba_kmeans_assign('\x0102'::bytea, '{1,2}')$$);
SELECT expect_error($$SELECT uba_kmeans_inertia('not a model'::bytea)$$);
-- found by the libFuzzer harness (test/fuzz): cluster sizes each within a huge training row count
-- (metadata u64 at byte 40) overflowed their sum; the payload is k, d, flags, iterations,
-- inertia, 2 centroids, then the 2 sizes (u64) at payload + 40 and + 48
CREATE TABLE km_damaged AS
  SELECT m, 32 + get_u32(m, 12)::int AS p
  FROM (SELECT uba_kmeans(ARRAY[x::float8], 2, '{"standardize": false}') AS m FROM generate_series(1, 10) x) s;
SELECT expect_error($$SELECT uba_model_info(reseal(
  put_u32(put_u32(put_u32(put_u32(put_u32(put_u32(m, 40, 4294967295), 44, 2147483647),
          p + 40, 0), p + 44, 1610612736), p + 48, 0), p + 52, 1610612736))) FROM km_damaged$$);
-- the same sizes with a consistent sum are read (so the test above fails for the right reason)
SELECT uba_model_info(reseal(
  put_u32(put_u32(put_u32(put_u32(put_u32(put_u32(m, 40, 0), 44, 1610612736),
          p + 40, 0), p + 44, 1073741824), p + 48, 0), p + 52, 536870912)))->'cluster_sizes' FROM km_damaged;
-- uba_kmeans_transform: the features on the model's own scale (issue 16): z-scores with the
-- training rows' means and population standard deviations when standardized, else unchanged
CREATE TABLE kt AS SELECT g, ARRAY[g * 1000.0, (g % 5)::float8] AS f FROM generate_series(1, 40) g;
SELECT bool_and(abs((uba_kmeans_transform(m.s, kt.f))[1] - (kt.f[1] - st.m1) / st.s1) < 1e-12
            AND abs((uba_kmeans_transform(m.s, kt.f))[2] - (kt.f[2] - st.m2) / st.s2) < 1e-12) AS zscores,
       bool_and(uba_kmeans_transform(m.r, kt.f) = kt.f) AS raw_unchanged
  FROM kt,
       (SELECT uba_kmeans(f, 2, '{"standardize": true, "seed": 1}'::jsonb) AS s,
               uba_kmeans(f, 2, '{"seed": 1}'::jsonb) AS r FROM kt) m,
       (SELECT avg(f[1]) AS m1, stddev_pop(f[1]) AS s1, avg(f[2]) AS m2, stddev_pop(f[2]) AS s2 FROM kt) st;
SELECT expect_error($$SELECT uba_kmeans_transform(uba_kmeans(f, 2), ARRAY[1, 2, 3]) FROM kt$$);
DROP TABLE kt;
-- fewer distinct points than k (issue 16): a warning, as scikit-learn gives, and an empty cluster
SELECT uba_model_info(uba_kmeans(ARRAY[g % 2, 0]::float8[], 3))->'cluster_sizes' AS sizes FROM generate_series(1, 20) g;
