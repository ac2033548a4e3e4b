-- Forecasting on Citus: one model per product.  Distributed by the product, GROUP BY product runs
-- whole on the workers (each shard's products fitted there, in parallel across workers); grouped
-- by anything else, the rows are gathered.  Both give the single-node models' forecasts.
CREATE TABLE fc_local AS
SELECT p AS product, date '2024-01-01' + 7 * w AS week,
       greatest(0, round(20 + 8 * sin((w + p) * 2 * pi() / 13) + ((p * 31 + w * 17) % 11) - 5 + 0.2 * w * (p % 3))) AS units
  FROM generate_series(1, 24) p, generate_series(0, 59) w
 WHERE (p * 7 + w * 3) % 9 <> 0;
CREATE TABLE fc_dist (LIKE fc_local);
SELECT create_distributed_table('fc_dist', 'product');
INSERT INTO fc_dist SELECT * FROM fc_local;

SELECT where_runs($$SELECT product, uba_forecast_train(week, units, '{"period": "week", "end": "2025-02-17"}'::jsonb) FROM fc_dist GROUP BY product$$,
                  'uba_forecast_train') AS by_product,
       where_runs($$SELECT uba_forecast_train(week, units, '{"period": "week"}'::jsonb) FROM fc_dist$$,
                  'uba_forecast_train') AS one_series;
-- the same forecasts, product by product
WITH l AS (SELECT product, uba_forecast_train(week, units, '{"period": "week", "end": "2025-02-17"}'::jsonb) AS m FROM fc_local GROUP BY product),
     d AS (SELECT product, uba_forecast_train(week, units, '{"period": "week", "end": "2025-02-17"}'::jsonb) AS m FROM fc_dist GROUP BY product)
SELECT count(DISTINCT l.product) AS products, count(*) AS forecasts,
       count(*) FILTER (WHERE lf.forecast <> df.forecast OR lf.upper <> df.upper) AS different,
       count(DISTINCT (uba_forecast_info(l.m)).method) AS methods
  FROM l JOIN d USING (product), uba_forecast(l.m, 4) lf, uba_forecast(d.m, 4) df
 WHERE lf.step = df.step;
-- all products as one series: the rows gathered, the same model
SELECT (SELECT f.forecast FROM uba_forecast((SELECT uba_forecast_train(week, units) FROM fc_local), 1) f)
     = (SELECT f.forecast FROM uba_forecast((SELECT uba_forecast_train(week, units) FROM fc_dist), 1) f) AS same_total_forecast;
-- anomalies: each product's weeks judged by its model, the same on the distributed table
SELECT (SELECT count(*) FILTER (WHERE a.is_anomaly)
          FROM (SELECT product, uba_forecast_train(week, units, '{"period": "week", "end": "2025-02-17"}'::jsonb) AS m FROM fc_local GROUP BY product) m
          JOIN fc_local s USING (product), uba_forecast_anomalies(m.m, s.week, s.units, 90) a)
     = (SELECT count(*) FILTER (WHERE a.is_anomaly)
          FROM (SELECT product, uba_forecast_train(week, units, '{"period": "week", "end": "2025-02-17"}'::jsonb) AS m FROM fc_dist GROUP BY product) m
          JOIN fc_dist s USING (product), uba_forecast_anomalies(m.m, s.week, s.units, 90) a) AS same_anomalies;
-- the global forecaster over every product: its aggregate has no combine function, so the rows
-- are gathered to the coordinator, and the model is the single node's.  This session's zone is
-- not the workers' (Citus does not pass SET on): a date cast to timestamptz there would arrive as
-- the day before (a Sunday: last week), so uba takes the dates as dates (doc/scale-out.md)
SELECT current_setting('TimeZone') <> 'UTC' AS zone_differs_from_workers;
SELECT l.ts = d.ts AND l.forecast = d.forecast AND l.lower = d.lower AND l.upper = d.upper AS same_global_forecasts
  FROM (SELECT array_agg(f.ts ORDER BY f.series, f.step) AS ts, array_agg(f.forecast ORDER BY f.series, f.step) AS forecast,
               array_agg(f.lower ORDER BY f.series, f.step) AS lower, array_agg(f.upper ORDER BY f.series, f.step) AS upper
          FROM uba_forecast_global((SELECT uba_forecast_train(product, week, units, '{"trees": {"n_estimators": 20}}'::jsonb) FROM fc_local), 3) f) l,
       (SELECT array_agg(f.ts ORDER BY f.series, f.step) AS ts, array_agg(f.forecast ORDER BY f.series, f.step) AS forecast,
               array_agg(f.lower ORDER BY f.series, f.step) AS lower, array_agg(f.upper ORDER BY f.series, f.step) AS upper
          FROM uba_forecast_global((SELECT uba_forecast_train(product, week, units, '{"trees": {"n_estimators": 20}}'::jsonb) FROM fc_dist), 3) f) d;
-- regressors cross to the coordinator as a row: a named composite type keeps their names
CREATE TYPE fc_regressors AS (promo boolean);
SELECT (SELECT array_agg(f.forecast ORDER BY f.series, f.step)
          FROM uba_forecast_global((SELECT uba_forecast_train(product, week, units, ROW(week_of_year % 4 = 0)::fc_regressors, '{"trees": {"n_estimators": 20}}'::jsonb)
                                      FROM (SELECT *, extract(week FROM week)::int AS week_of_year FROM fc_local) l), 3) f)
     = (SELECT array_agg(f.forecast ORDER BY f.series, f.step)
          FROM uba_forecast_global((SELECT uba_forecast_train(product, week, units, ROW(extract(week FROM week)::int % 4 = 0)::fc_regressors, '{"trees": {"n_estimators": 20}}'::jsonb)
                                      FROM fc_dist), 3) f)
       AS same_with_regressors;
DROP TYPE fc_regressors;
DROP TABLE fc_local, fc_dist;
