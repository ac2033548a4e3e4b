-- Digests of the models every trainer writes from fixed rows, for checking that a refactor keeps
-- the bytes: each model without its CRC, training milliseconds and creation time (bytes 21-24
-- and 49-64), which differ from run to run.  psql -X -At -f test/lib/blob_digests.sql, before and
-- after; the two outputs must be equal.
CREATE TEMP TABLE bd_rows AS
SELECT g AS id, ARRAY[sin(g * 0.7), cos(g * 1.3), (g % 11)::float8] AS f,
       sin(g * 0.7) + (g % 3) > 0.4 AS label, sin(g) * 3 + (g % 5) AS y
  FROM generate_series(1, 3000) g;
CREATE TEMP TABLE bd_events AS
SELECT u AS user_id, (u * 31 + k * k * 17) % 97 AS item_id, 1.0 + (u + k) % 5 AS rating
  FROM generate_series(1, 400) u, generate_series(1, 15) k;
CREATE FUNCTION pg_temp.digest(m bytea) RETURNS text LANGUAGE sql AS $$
	SELECT md5(substring(m FROM 1 FOR 20) || substring(m FROM 25 FOR 24) || substring(m FROM 65))
$$;
SELECT 'kmeans', pg_temp.digest(uba_kmeans(f, 4, '{"seed": 3}'::jsonb)) FROM bd_rows
UNION ALL SELECT 'kmeans standardized', pg_temp.digest(uba_kmeans(f, 3, '{"seed": 1, "standardize": true, "n_init": 3}'::jsonb)) FROM bd_rows
UNION ALL SELECT 'logreg', pg_temp.digest(uba_logreg_train(label, f)) FROM bd_rows
UNION ALL SELECT 'logreg l1 balanced', pg_temp.digest(uba_logreg_train(label, f, '{"l1": 0.01, "class_weight": "balanced"}'::jsonb)) FROM bd_rows
UNION ALL SELECT 'linreg', pg_temp.digest(uba_linreg_train(y, f)) FROM bd_rows
UNION ALL SELECT 'cf als', pg_temp.digest(uba_cf_train(user_id, item_id, 1.0, '{"factors": 8, "seed": 1}'::jsonb)) FROM bd_events
UNION ALL SELECT 'cf als cholesky', pg_temp.digest(uba_cf_train(user_id, item_id, 1.0, '{"factors": 8, "seed": 1, "solver": "cholesky"}'::jsonb)) FROM bd_events
UNION ALL SELECT 'cf als explicit', pg_temp.digest(uba_cf_train(user_id, item_id, rating, '{"factors": 8, "seed": 1, "feedback": "explicit"}'::jsonb)) FROM bd_events
UNION ALL SELECT 'cf item_knn', pg_temp.digest(uba_cf_train(user_id, item_id, 1.0, '{"method": "item_knn"}'::jsonb)) FROM bd_events
UNION ALL SELECT 'cf ease', pg_temp.digest(uba_cf_train(user_id, item_id, 1.0, '{"method": "ease"}'::jsonb)) FROM bd_events
UNION ALL SELECT 'assoc', pg_temp.digest(uba_assoc_rules(user_id, item_id % 20, '{"min_support": 0.05}'::jsonb)) FROM bd_events
UNION ALL SELECT 'forecast', pg_temp.digest(uba_forecast_train(date '2020-01-01' + id, y, '{"season_length": 7}'::jsonb)) FROM bd_rows WHERE id <= 200
UNION ALL SELECT 'boost', pg_temp.digest(uba_boost_train(label, f, '{"n_estimators": 10}'::jsonb)) FROM bd_rows
UNION ALL SELECT 'forest', pg_temp.digest(uba_forest_train(y, f, '{"n_estimators": 10}'::jsonb)) FROM bd_rows
UNION ALL SELECT 'boost typed', pg_temp.digest(uba_boost_train(label, t, '{"n_estimators": 10}'::jsonb))
  FROM bd_rows, LATERAL (SELECT f[1] AS a, (id % 7)::text AS c, CASE WHEN id % 5 = 0 THEN NULL ELSE f[3] END AS z) t
UNION ALL SELECT 'boost multiclass', pg_temp.digest(uba_boost_train((id % 3)::text, f, '{"n_estimators": 5}'::jsonb)) FROM bd_rows
UNION ALL SELECT 'logreg typed', pg_temp.digest(uba_logreg_train(label, t))
  FROM bd_rows, LATERAL (SELECT f[1] AS a, (id % 7)::text AS c, CASE WHEN id % 5 = 0 THEN NULL ELSE f[3] END AS z) t
UNION ALL SELECT 'isolation forest', pg_temp.digest(uba_isolation_forest(f, '{"n_estimators": 20}'::jsonb)) FROM bd_rows;
