-- The global forecaster: one gradient-boosted model over every series (uba_forecast_train with
-- the series first, "method": "boost"), recursive forecasts, regressors from a table of future
-- values, holidays.  Each check is a property a wrong feature, scale or recursion would break.
SET client_min_messages = notice;

-- 30 products sharing one weekly shape (10, 20, 30, 40 repeating) at sizes 1..30: over its scale
-- every series is the same, so the trees learn the shape from lag 4 and the recursion must carry
-- it 8 weeks ahead, times each series' size
CREATE TEMP TABLE shape AS
SELECT p AS product, date '2024-01-01' + 7 * w AS week, (p * 10 * (1 + w % 4))::float8 AS units
  FROM generate_series(1, 30) p, generate_series(0, 59) w;
CREATE TEMP TABLE shape_model AS
SELECT uba_forecast_train(product, week, units, '{"method": "boost", "period": "week"}'::jsonb) AS m FROM shape;
SELECT uba_model_info(m) -> 'kind' AS kind, uba_model_info(m) -> 'series' AS series,
       uba_model_info(m) -> 'features' AS features,
       uba_model_info(m) -> 'options' AS options FROM shape_model;
-- the next 8 weeks: 60 % 4 = 0, so 10, 20, 30, 40, 10, ... times the product
SELECT count(*) AS forecasts, count(DISTINCT series) AS series,
       max(abs(f.forecast / (f.series::int * 10 * (1 + (59 + f.step) % 4)) - 1)) < 0.02 AS shape_kept,
       bool_and(f.ts = date '2024-01-01' + 7 * (59 + f.step)) AS dates_follow
  FROM shape_model, uba_forecast_global(m, 8) f;
SELECT series, step, ts::date, round(forecast::numeric, 1) AS forecast
  FROM shape_model, uba_forecast_global(m, 5) WHERE series IN ('1', '30') ORDER BY series::int, step;
-- the trees: a boost model of the features, and a lag is what they use most
SELECT name LIKE 'lag\_%' AS a_lag_first FROM shape_model, uba_feature_importance(uba_forecast_trees(m)) ORDER BY total_gain DESC LIMIT 1;

-- prediction intervals from a backtest: 40 products of one noisy level (a hashed uniform noise
-- of +-50 %); the next 8 weeks drawn from the same process fall in the 95 % intervals about 95 %
-- of the time, in the 50 % ones about half of the time, and the intervals nest
CREATE TEMP TABLE noisy AS
SELECT p AS product, date '2024-01-01' + 7 * w AS week,
       p * (10 + 10 * ((abs(hashint4(p * 1000 + w)) % 1001) / 1000.0 - 0.5))::float8 AS units
  FROM generate_series(1, 40) p, generate_series(0, 67) w;
CREATE TEMP TABLE noisy_model AS
SELECT uba_forecast_train(product, week, units, '{"trees": {"max_depth": 2, "n_estimators": 30}}'::jsonb) AS m
  FROM noisy WHERE week < date '2024-01-01' + 7 * 60;
SELECT uba_model_info(m) -> 'interval_periods' AS interval_periods, uba_model_info(m) -> 'backtest_series' AS backtest_series
  FROM noisy_model;
SELECT f.level, count(*) AS forecasts,
       round(avg((n.units BETWEEN f.lower AND f.upper)::int), 2) AS coverage,
       bool_and(f.lower <= f.forecast AND f.forecast <= f.upper) AS around_forecast
  FROM noisy_model, uba_forecast_global(m, 8, NULL, '{50, 95}') f
  JOIN noisy n ON n.product = f.series::int AND n.week = f.ts
 GROUP BY f.level ORDER BY f.level;
SELECT bool_and(a.lower >= b.lower AND a.upper <= b.upper) AS nested
  FROM noisy_model, uba_forecast_global(m, 8, NULL, '{50}') a
  JOIN uba_forecast_global(m, 8, NULL, '{95}') b USING (series, step);
-- without intervals: one row a step, no level
SELECT count(*) AS forecasts, count(level) AS levels
  FROM uba_forecast_global((SELECT uba_forecast_train(product, week, units, '{"intervals": false, "trees": {"n_estimators": 5}}'::jsonb) FROM noisy), 3, NULL, '{80, 95}');
SELECT * FROM uba_forecast_global((SELECT m FROM noisy_model), 2, NULL, '{120}');

-- the model does not depend on the order of the rows
SELECT bool_and(a.forecast = b.forecast) AS same_in_any_order
  FROM uba_forecast_global((SELECT uba_forecast_train(product, week, units, '{"method": "boost"}'::jsonb ORDER BY week DESC, product) FROM shape), 4) a
  JOIN uba_forecast_global((SELECT uba_forecast_train(product, week, units, '{"method": "boost"}'::jsonb ORDER BY md5(product || ' ' || week)) FROM shape), 4) b
 USING (series, step);

-- a date is taken as a date, a time as its local date: the same periods either way
SELECT pg_typeof(week) AS week_type,
       (SELECT bool_and(a.forecast = b.forecast AND a.ts = b.ts)
          FROM uba_forecast_global((SELECT uba_forecast_train(product, week, units, '{"trees": {"n_estimators": 5}}'::jsonb) FROM shape), 2) a
          JOIN uba_forecast_global((SELECT uba_forecast_train(product, week::timestamptz, units, '{"trees": {"n_estimators": 5}}'::jsonb) FROM shape), 2) b
         USING (series, step, level)) AS global_alike,
       (SELECT array_agg(f.forecast ORDER BY f.step) FROM uba_forecast((SELECT uba_forecast_train(week, units) FROM shape WHERE product = 3), 2) f)
     = (SELECT array_agg(f.forecast ORDER BY f.step) FROM uba_forecast((SELECT uba_forecast_train(week::timestamp, units) FROM shape WHERE product = 3), 2) f)
       AS per_series_alike
  FROM shape LIMIT 1;

-- a series that starts later is forecast from its own past; text and integer ids agree
SELECT count(*) AS forecasts, min(forecast) > 0 AS positive
  FROM uba_forecast_global((SELECT uba_forecast_train(product::text, week, units, '{"method": "boost"}'::jsonb)
                              FROM shape WHERE product <= 5 OR week >= date '2024-06-03'), 4);

-- promotions: 20 products, a promotion in weeks whose hash says so, selling 60 % more then;
-- the regressors are a named row (LATERAL), the future ones a table
CREATE TEMP TABLE promo AS
SELECT p AS product, date '2023-01-02' + 7 * w AS week,
       (abs(hashint4(w * 7 + p)) % 4 = 0) AS promo, (9.99 + p)::float8 AS price
  FROM generate_series(1, 20) p, generate_series(0, 89) w;
CREATE TEMP TABLE promo_sales AS
SELECT product, week, promo, price, (5 * product * (CASE WHEN promo THEN 1.6 ELSE 1 END))::float8 AS units
  FROM promo WHERE week < date '2023-01-02' + 7 * 80;
CREATE TEMP TABLE promo_model AS
SELECT uba_forecast_train(s.product, s.week, s.units, r, '{"method": "boost"}'::jsonb) AS m
  FROM promo_sales s, LATERAL (SELECT s.promo, s.price) r;
SELECT uba_model_info(m) -> 'columns' AS columns FROM promo_model;
CREATE TEMP TABLE future_promo AS
SELECT product AS series, week::timestamptz AS ts, promo, price FROM promo WHERE week >= date '2023-01-02' + 7 * 80;
SELECT round((avg(f.forecast / (5 * f.series::int)) FILTER (WHERE fp.promo))::numeric, 1) AS promo_over_base,
       round((avg(f.forecast / (5 * f.series::int)) FILTER (WHERE NOT fp.promo))::numeric, 1) AS base_over_base,
       count(*) FILTER (WHERE fp.promo) > 0 AND count(*) FILTER (WHERE NOT fp.promo) > 0 AS both_seen
  FROM promo_model, uba_forecast_global(m, 10, 'future_promo') f
  JOIN future_promo fp ON fp.series = f.series::int AND fp.ts = f.ts;
-- future periods without regressors: a notice, and they are taken as missing
SELECT count(*) FROM promo_model, uba_forecast_global(m, 12, 'future_promo');
-- the table is read by name: series, ts and the regressors
CREATE TABLE future_bad AS SELECT series AS product, ts, promo, price FROM future_promo;
SELECT count(*) FROM promo_model, uba_forecast_global(m, 2, 'future_bad');
CREATE TABLE future_bad2 AS SELECT series, ts, promo FROM future_promo;
SELECT count(*) FROM promo_model, uba_forecast_global(m, 2, 'future_bad2');
CREATE TABLE future_bad3 AS SELECT series, ts, promo::int AS promo, price FROM future_promo;
SELECT count(*) FROM promo_model, uba_forecast_global(m, 2, 'future_bad3');
CREATE TABLE future_bad4 AS SELECT series, ts::text AS ts, promo, price FROM future_promo;
SELECT count(*) FROM promo_model, uba_forecast_global(m, 2, 'future_bad4');
-- periods as dates in the table read the same
CREATE TEMP TABLE future_dates AS SELECT series, ts::date AS ts, promo, price FROM future_promo;
SELECT bool_and(a.forecast = b.forecast) AS dates_alike
  FROM promo_model, uba_forecast_global(m, 10, 'future_promo') a JOIN uba_forecast_global(m, 10, 'future_dates') b USING (series, step);
DROP TABLE future_bad, future_bad2, future_bad3, future_bad4;

-- holidays: three Decembers, sales triple in the week of Christmas; the next one is forecast so
CREATE TEMP TABLE xmas AS
SELECT p AS product, d AS week,
       (p * (CASE WHEN make_date(extract(year FROM d)::int, 12, 25) BETWEEN d AND d + 6 THEN 3 ELSE 1 END))::float8 AS units
  FROM generate_series(1, 10) p, generate_series(date '2021-01-04', date '2024-09-30', interval '7 days') g(t),
       LATERAL (SELECT t::date AS d) w;
SELECT count(*) FILTER (WHERE units > product) / 10 AS christmas_weeks FROM xmas;
CREATE TEMP TABLE xmas_model AS
SELECT uba_forecast_train(product, week, units,
         jsonb_build_object('method', 'boost', 'holidays', (SELECT jsonb_agg(make_date(y, 12, 25)) FROM generate_series(2020, 2025) y))) AS m
  FROM xmas;
SELECT f.ts::date AS week, round(avg(f.forecast / f.series::int)::numeric, 1) AS over_size
  FROM xmas_model, uba_forecast_global(m, 14) f
 WHERE f.ts BETWEEN '2024-12-09' AND '2025-01-06' GROUP BY 1 ORDER BY 1;

-- demand is not negative, so neither are forecasts; a series with a negative value is not clipped
SELECT min(f.forecast) >= 0 AS nonnegative
  FROM uba_forecast_global((SELECT uba_forecast_train(p, date '2024-01-01' + w, CASE WHEN (p + w) % 5 = 0 THEN 8 ELSE 0 END::float8, '{"method": "boost", "period": "day"}'::jsonb)
                              FROM generate_series(1, 10) p, generate_series(0, 40) w), 10) f;
SELECT uba_model_info(uba_forecast_train(p, date '2024-01-01' + w, w - 20.0, '{"period": "day"}'::jsonb)) -> 'nonnegative' AS nonnegative
  FROM generate_series(1, 3) p, generate_series(0, 40) w;
-- said otherwise: a series of demand may go below 0
SELECT uba_model_info(uba_forecast_train(p, date '2024-01-01' + w, w + 1.0, '{"period": "day", "nonnegative": false}'::jsonb)) -> 'nonnegative' AS nonnegative
  FROM generate_series(1, 3) p, generate_series(0, 40) w;
-- "start": every series from there (zeros before its first row), "end": to there (zeros after its last)
SELECT (uba_model_info(m) -> 'options' ->> 'start') AS start, (uba_model_info(m) -> 'options' ->> 'end') AS "end", f.n AS forecasts, f.first_week
  FROM (SELECT uba_forecast_train(product, week, units, '{"start": "2023-12-04", "end": "2025-03-03", "trees": {"n_estimators": 5}}'::jsonb) AS m
          FROM shape WHERE product <= 3) t,
       LATERAL (SELECT count(*) AS n, min(ts)::date AS first_week FROM uba_forecast_global(t.m, 2)) f;

-- options
SELECT uba_model_info(uba_forecast_train(product, week, units, '{"lags": [1, 4], "windows": [], "trees": {"n_estimators": 5}}'::jsonb)) -> 'features' AS features FROM shape;
SELECT uba_forecast_train(product, week, units, '{"lags": [0]}'::jsonb) FROM shape;
SELECT uba_forecast_train(product, week, units, '{"method": "ets"}'::jsonb) FROM shape;
SELECT uba_forecast_train(product, week, units, '{"trees": {"max_depth": 0}}'::jsonb) FROM shape;
SELECT uba_forecast_train(product, week, units, r, '{}'::jsonb) FROM shape, LATERAL (SELECT shape.product::text AS colour) r;

-- the catalog, and the functions of per-series models
SELECT uba_model_save('global_demand', m) > 0 AS saved FROM shape_model;
SELECT count(*) FROM uba_forecast_global(uba_model('global_demand'), 3);
SELECT * FROM uba_forecast((SELECT m FROM shape_model), 3);
SELECT uba_forecast_info(m) FROM shape_model;
SELECT uba_model_drop('global_demand');
