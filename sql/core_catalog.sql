-- the model catalog: save, load, versions, activate, drop
SET extra_float_digits = 0;
CREATE TABLE cat_rows AS SELECT ARRAY[g % 5, g % 7]::float8[] AS f FROM generate_series(1, 50) g;

SELECT uba_model_save('segments', uba_kmeans(f, 2, '{"seed": 1}')) FROM cat_rows;
SELECT uba_model_save('segments', uba_kmeans(f, 3, '{"seed": 1}'), '{"silhouette": 0.4}') FROM cat_rows;
SELECT uba_model_save('other', uba_kmeans(f, 4, '{"seed": 1}')) FROM cat_rows;
SELECT name, version, kind, active, size_bytes > 0 AS has_size, training_rows,
       created_at <= now() AS created_ok, created_by = current_user AS by_me, metrics
  FROM uba_models;

-- uba_model() returns the active version, or the one asked for
SELECT uba_model_info(uba_model('segments'))->'k' AS active_k,
       uba_model_info(uba_model('segments', 1))->'k' AS v1_k;
-- scoring straight from the catalog: the scalar subquery runs once
SELECT uba_kmeans_assign((SELECT uba_model('segments')), f) AS cluster, count(*)
  FROM cat_rows GROUP BY 1 ORDER BY 1;

-- roll back to version 1, then forward again
SELECT uba_model_activate('segments', 1);
SELECT version, active FROM uba_models WHERE name = 'segments';
SELECT uba_model_info(uba_model('segments'))->'k' AS active_k;
SELECT uba_model_activate('segments', 1);	-- idempotent
SELECT uba_model_activate('segments', 2);
SELECT version, active FROM uba_models WHERE name = 'segments';

-- drop one version: when it was the active one, the newest remaining becomes active
SELECT uba_model_save('segments', uba_kmeans(f, 5, '{"seed": 1}')) FROM cat_rows;
SELECT uba_model_drop('segments', 3);
SELECT version, active FROM uba_models WHERE name = 'segments';
SELECT uba_model_drop('segments', 1);
SELECT version, active FROM uba_models WHERE name = 'segments';
-- version numbers are never reused, not even the newest one's after it is dropped
SELECT uba_model_save('segments', uba_kmeans(f, 2, '{"seed": 1}')) FROM cat_rows;
SELECT uba_model_drop('segments', 4);
SELECT uba_model_save('segments', uba_kmeans(f, 2, '{"seed": 1}')) FROM cat_rows;
SELECT version, active FROM uba_models WHERE name = 'segments';
-- dropping the whole name forgets it: numbering starts again at 1
SELECT uba_model_drop('segments');
SELECT count(*) FROM uba_models WHERE name = 'segments';
SELECT uba_model_save('segments', uba_kmeans(f, 2, '{"seed": 1}')) FROM cat_rows;
-- a name whose versions were dropped one by one keeps counting until the name is dropped
SELECT uba_model_save('solo', uba_kmeans(f, 2, '{"seed": 1}')) FROM cat_rows;
SELECT uba_model_drop('solo', 1);
SELECT uba_model_save('solo', uba_kmeans(f, 2, '{"seed": 1}')) FROM cat_rows;
SELECT uba_model_drop('solo', 2);
SELECT uba_model_drop('solo') AS versions_left;
SELECT uba_model_save('solo', uba_kmeans(f, 2, '{"seed": 1}')) FROM cat_rows;
SELECT uba_model_drop('solo');

-- the tables are marked for pg_dump
SELECT c.relname
  FROM pg_extension e, pg_class c WHERE e.extname = 'uba' AND c.oid = ANY (e.extconfig)
 ORDER BY 1;

-- errors
SELECT expect_error($$SELECT uba_model('nope')$$);
SELECT expect_error($$SELECT uba_model('segments', 42)$$);
SELECT expect_error($$SELECT uba_model_activate('segments', 42)$$);
SELECT expect_error($$SELECT uba_model_activate('nope', 1)$$);
SELECT expect_error($$SELECT uba_model_drop('nope')$$);
SELECT expect_error($$SELECT uba_model_drop('other', 9)$$);
SELECT expect_error($$SELECT uba_model_save('x', NULL)$$);
SELECT expect_error($$SELECT uba_model_save(NULL, uba_model('other'))$$);
SELECT expect_error($$SELECT uba_model_save('', uba_model('other'))$$);
SELECT expect_error($$SELECT uba_model_save('x', '\x0102'::bytea)$$);
SELECT expect_error($$SELECT uba_model_save('x', uba_model('other'), '[1]')$$);
SELECT count(*) AS nothing_saved_by_errors FROM uba_models WHERE name = 'x';
