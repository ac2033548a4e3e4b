-- demand forecasting against R's forecast package (bench/forecast_reference.R, bench/croston_reference.R):
-- 21 real monthly, quarterly and annual series (test/data/forecast_series.csv) fitted by
-- forecast::ets with every default, and 30 intermittent Online Retail products by forecast::croston
SET extra_float_digits = 0;
CREATE TABLE fs (series text, frequency int, idx int, d date, value float8, part text);
\copy fs FROM 'test/data/forecast_series.csv' WITH (FORMAT csv, HEADER)
CREATE TABLE fref (series text, n int, h int, method text, alpha float8, beta float8, gamma float8, phi float8,
                   loglik float8, aic float8, aicc float8, bic float8, sigma2 float8, mase_holdout float8,
                   mase_train float8, seconds float8);
\copy fref FROM 'test/data/forecast_ets_reference.csv' WITH (FORMAT csv, HEADER, NULL 'NA')
CREATE TABLE fmodels (series text, model text, loglik float8, aicc float8, alpha float8, beta float8, gamma float8,
                      phi float8, l0 float8, b0 float8, mean text, np int, aic float8, bic float8, sigma2 float8,
                      init_season text, nm_evals int, nm_fail int, point text);
\copy fmodels FROM 'test/data/forecast_ets_models.csv' WITH (FORMAT csv, HEADER, NULL 'NA')
CREATE TABLE ffc (series text, step int, mean float8, lo80 float8, hi80 float8, lo95 float8, hi95 float8, point float8);
\copy ffc FROM 'test/data/forecast_ets_forecasts.csv' WITH (FORMAT csv, HEADER, NULL 'NA')

-- one model per series, all in one query
CREATE TABLE fm AS
SELECT series, uba_forecast_train(d, value) AS m
  FROM fs WHERE part = 'train' GROUP BY series;
CREATE TABLE fi AS SELECT series, (uba_forecast_info(m)).* FROM fm;

-- the periods were told from the dates: months, quarters, years
SELECT period, season_length, count(*) FROM fi GROUP BY 1, 2 ORDER BY 1;

-- the form each chose; R's and uba's likelihood for uba's form (uba's may not be lower: the same
-- function, maximized better); the holdout's MASE (scaled by the seasonal naive error in the sample)
CREATE TABLE fcmp AS
SELECT r.series, r.method AS r_form, i.form AS uba_form, r.aicc AS r_aicc, i.aicc AS uba_aicc,
       mo.loglik AS r_loglik_same_form, i.loglik AS uba_loglik, r.mase_holdout AS r_mase,
       (SELECT avg(abs(t.value - f.forecast)) FROM uba_forecast(fm.m, r.h) f
          JOIN fs t ON t.series = r.series AND t.part = 'test' AND t.idx = r.n + f.step)
       / (SELECT avg(abs(a.value - b.value)) FROM fs a JOIN fs b ON b.series = a.series
           AND b.idx = a.idx - CASE WHEN a.frequency < r.n THEN a.frequency ELSE 1 END
          WHERE a.series = r.series AND a.part = 'train' AND b.part = 'train') AS uba_mase
  FROM fref r JOIN fm USING (series) JOIN fi i USING (series)
  LEFT JOIN fmodels mo ON mo.series = r.series AND mo.model = i.form;
SELECT series, r_form, uba_form, uba_loglik >= r_loglik_same_form - 1e-6 AS loglik_not_lower,
       uba_aicc <= r_aicc + 1e-6 AS aicc_not_higher
  FROM fcmp ORDER BY series;
SELECT count(*) FILTER (WHERE r_form = uba_form) AS same_form, count(*) AS series,
       avg(uba_mase) / avg(r_mase) <= 1.03 AS mean_mase_within_3_percent
  FROM fcmp;

-- where both chose the same non-seasonal form, the same optimum: alpha within 1e-3, the
-- log-likelihood within 1e-4 (lynx and airmiles: uba's additive trend beats R's fit of it, whose
-- Nelder-Mead search stopped early, so uba chose it)
SELECT c.series, c.uba_form, abs((i.parameters->>'alpha')::float8 - r.alpha) < 1e-3 AS alpha,
       c.uba_loglik > r.loglik - 1e-4 AS loglik_not_lower, abs(c.uba_loglik - r.loglik) < 1e-4 AS loglik_equal
  FROM fcmp c JOIN fref r USING (series) JOIN fi i USING (series)
 WHERE c.r_form = c.uba_form AND c.uba_form LIKE '%,N,N)' ORDER BY 1;

-- prediction intervals as forecast.ets computes them, for R's chosen form: additive errors
-- (LakeHuron, sunspot.year), multiplicative errors with additive components (Nile, airmiles): the
-- forecast within 1e-4 relative, the bounds within 1e-4 of the interval's width
CREATE TABLE fmr AS
SELECT series, uba_forecast_train(d, value, jsonb_build_object('model',
         (SELECT replace(substr(method, 5, 5), ',', '') FROM fref r WHERE r.series = fs.series))) AS m
  FROM fs WHERE part = 'train' AND series IN ('LakeHuron', 'sunspot.year', 'Nile', 'airmiles') GROUP BY series;
SELECT r.series, (uba_forecast_info(fmr.m)).form, count(*) AS steps,
       max(abs(f.forecast / r.mean - 1)) < 1e-4 AS mean,
       max(greatest(abs(f.lower - r.lo95), abs(f.upper - r.hi95)) / (r.hi95 - r.lo95)) < 1e-4 AS interval_95
  FROM ffc r JOIN fmr USING (series), uba_forecast(fmr.m, 6, '{95}') f
 WHERE f.step = r.step
 GROUP BY 1, 2 ORDER BY 1;
SELECT r.series, max(greatest(abs(f.lower - r.lo80), abs(f.upper - r.hi80)) / (r.hi80 - r.lo80)) < 1e-4 AS interval_80
  FROM ffc r JOIN fmr USING (series), uba_forecast(fmr.m, 6, '{0.8}') f
 WHERE f.step = r.step AND f.level = 80
 GROUP BY 1 ORDER BY 1;

-- totals over the next periods (cumulative): for additive forms exact, the variance growing by
-- sigma^2 (1 + C_(k-1))^2 a step, C_m = m alpha for ETS(A,N,N); against that computed in SQL
SELECT count(*) AS steps, bool_and(abs(c.forecast - (SELECT sum(f.forecast) FROM uba_forecast(fmr.m, 6) f WHERE f.step <= c.step))
                                   < 1e-9 * abs(c.forecast)) AS mean_is_sum,
       bool_and(abs((c.upper - c.forecast) / (1.959963984540054 * sqrt(i.sigma2 *
                (SELECT sum((1 + j * (i.parameters->>'alpha')::float8) ^ 2) FROM generate_series(0, c.step - 1) j))) - 1) < 1e-9) AS exact
  FROM fmr, uba_forecast_info(fmr.m) i, uba_forecast(fmr.m, 6, '{95}', true) c WHERE fmr.series = 'LakeHuron';
-- other forms' totals are simulated: a one-step total equals the exact one-step interval within 3 %
SELECT bool_and(abs((c.upper - c.lower) / (s.upper - s.lower) - 1) < 0.03) AS close
  FROM fmr, uba_forecast(fmr.m, 1, '{95}', true) c, uba_forecast(fmr.m, 1, '{95}') s WHERE fmr.series = 'Nile';

-- a multiplicative season's intervals are simulated: seeded by the model, so the same every time,
-- and around the forecast
SELECT bool_and(a.lower = b.lower AND a.upper = b.upper) AS repeatable,
       bool_and(a.lower < a.forecast AND a.forecast < a.upper) AS around,
       bool_and(a.upper - a.lower > c.upper - c.lower) AS wider_at_95
  FROM fm, uba_forecast(m, 12, '{95}') a, uba_forecast(m, 12, '{95}') b, uba_forecast(m, 12, '{50}') c
 WHERE series = 'AirPassengers' AND a.step = b.step AND a.step = c.step;

-- what a model says about itself
SELECT method, form, period, season_length, periods, first_period::date, last_period::date,
       jsonb_object_keys(parameters) AS parameter, converged,
       (SELECT count(*) FROM jsonb_object_keys(candidates)) AS forms_tried
  FROM fi WHERE series = 'AirPassengers' ORDER BY parameter;
SELECT i->>'kind' AS kind, i->>'method' AS method, i->>'form' AS form, i->'periods' AS periods
  FROM (SELECT uba_model_info(m) AS i FROM fm WHERE series = 'UKgas') s;
-- the forecast's periods follow the series'
SELECT step, ts::date FROM fm, uba_forecast(m, 5) WHERE series = 'UKgas' ORDER BY step;

-- Croston and SBA as forecast::croston computes them, to rounding, for 30 intermittent products
-- over the shared 54 weeks (weeks without rows are zero demand)
CREATE TABLE rw (stockcode text, week date, units float8);
\copy rw FROM 'test/data/retail_weekly_sample.csv' WITH (FORMAT csv, HEADER)
CREATE TABLE cref (stockcode text, method text, forecast float8, demand_level float8, interval_level float8, nonzero_weeks int);
\copy cref FROM 'test/data/croston_reference.csv' WITH (FORMAT csv, HEADER)
CREATE TABLE cm AS
SELECT stockcode,
       uba_forecast_train(week, units, '{"period": "week", "start": "2010-11-29", "end": "2011-12-05", "method": "croston"}') AS croston,
       uba_forecast_train(week, units, '{"period": "week", "start": "2010-11-29", "end": "2011-12-05", "method": "sba"}') AS sba,
       uba_forecast_train(week, units, '{"period": "week", "start": "2010-11-29", "end": "2011-12-05"}') AS auto,
       uba_forecast_train(week, units, '{"period": "week", "start": "2010-11-29", "end": "2011-12-05", "method": "tsb"}') AS tsb
  FROM rw GROUP BY stockcode;
SELECT r.method, count(*) AS products, max(abs(f.forecast / r.forecast - 1)) < 1e-12 AS equal
  FROM cref r JOIN cm USING (stockcode),
       LATERAL uba_forecast(CASE r.method WHEN 'croston' THEN croston ELSE sba END, 4) f
 GROUP BY 1 ORDER BY 1;
-- "auto" takes SBA for them all (an average interval above 1.32 weeks); intervals never go below 0,
-- and where a week without demand is likelier than the upper tail, the upper bound is below the mean
SELECT (uba_forecast_info(auto)).method, count(*), min((uba_forecast_info(auto)).adi) > 1.32 AS intermittent
  FROM cm GROUP BY 1;
SELECT bool_and(f.lower >= 0 AND f.lower <= f.upper) AS intervals_ok, bool_and(f.forecast > 0) AS positive,
       count(*) FILTER (WHERE f.upper < f.forecast) AS below_mean
  FROM cm, uba_forecast(tsb, 4) f;
-- a period's interval is the demand mixture's quantiles: demand with probability q = 1 / interval,
-- of a size drawn from those seen, scaled so that the mean is the forecast; against that computed
-- in SQL (percentile_cont is the same interpolation) for every product and both bounds of 80 %
WITH sizes AS (SELECT stockcode, units FROM rw),
p AS (SELECT stockcode, f.forecast, 1 / ((uba_forecast_info(sba)).parameters->>'interval')::float8 AS q
        FROM cm, uba_forecast(sba, 1) f),
b AS (SELECT p.*, u, (SELECT avg(units) FROM sizes s WHERE s.stockcode = p.stockcode) AS mean_size
        FROM p, (VALUES (0.1), (0.9)) v(u))
SELECT count(*) AS bounds,
       count(*) FILTER (WHERE abs(f.bound - CASE WHEN b.u <= 1 - b.q THEN 0
               ELSE b.forecast / (b.q * b.mean_size) * (SELECT percentile_cont((b.u - (1 - b.q)) / b.q) WITHIN GROUP (ORDER BY units)
                                                          FROM sizes s WHERE s.stockcode = b.stockcode) END) > 1e-9) AS different
  FROM b JOIN (SELECT stockcode, lower AS bound, 0.1 AS u FROM cm, uba_forecast(sba, 1, '{80}')
               UNION ALL SELECT stockcode, upper, 0.9 FROM cm, uba_forecast(sba, 1, '{80}')) f USING (stockcode, u);
-- over a lead time: the total of the next weeks, simulated; its mean is the weeks' sum and its
-- bounds grow with the weeks
SELECT count(*) AS products,
       bool_and(abs(c.forecast - 4 * s.forecast) < 1e-9 * c.forecast) AS mean_is_sum,
       bool_and(c.upper >= s.upper AND c.lower >= 0) AS wider
  FROM cm, uba_forecast(sba, 4, '{90}', true) c, uba_forecast(sba, 1, '{90}') s WHERE c.step = 4;
-- TSB (Teunter, Syntetos and Babai 2011) against its recursion written in SQL, for every product:
-- z the demand size (smoothed when there is demand), p the probability of demand (every week),
-- started at the mean size and the share of weeks with demand; the forecast is p z
WITH RECURSIVE w AS (
  SELECT s.stockcode, k, (date '2010-11-29' + 7 * k) AS week, coalesce(r.units, 0) AS y
    FROM (SELECT DISTINCT stockcode FROM rw) s CROSS JOIN generate_series(0, 53) k
    LEFT JOIN rw r ON r.stockcode = s.stockcode AND r.week = date '2010-11-29' + 7 * k),
start AS (SELECT stockcode, avg(y) FILTER (WHERE y > 0) AS z, avg((y > 0)::int::float8) AS p FROM w GROUP BY 1),
run AS (
  SELECT s.stockcode, -1 AS k, s.z, s.p FROM start s
  UNION ALL
  SELECT r.stockcode, r.k + 1,
         CASE WHEN w.y > 0 THEN r.z + 0.1 * (w.y - r.z) ELSE r.z END,
         r.p + 0.1 * ((w.y > 0)::int - r.p)
    FROM run r JOIN w ON w.stockcode = r.stockcode AND w.k = r.k + 1)
SELECT count(*) AS products, max(abs(f.forecast / (r.p * r.z) - 1)) < 1e-12 AS equal
  FROM run r JOIN cm USING (stockcode), uba_forecast(cm.tsb, 1) f
 WHERE r.k = 53;

-- ---------- the series from rows ----------
-- rows of a period add up; weeks start on Monday whatever day the rows are on
CREATE TABLE daily AS
SELECT date '2024-01-01' + i AS d, 10 + 5 * sin(i * 2 * pi() / 7) + (i % 3) AS units
  FROM generate_series(0, 89) i;
SELECT (uba_forecast_info(m)).period, (uba_forecast_info(m)).periods, (uba_forecast_info(m)).first_period::date,
       (uba_forecast_info(m)).form
  FROM (SELECT uba_forecast_train(d, units) AS m FROM daily) s;
SELECT (uba_forecast_info(m)).periods, (uba_forecast_info(m)).first_period::date,
       round((SELECT sum(units) FROM daily)::numeric, 6) AS total
  FROM (SELECT uba_forecast_train(d + 2, units, '{"period": "week"}') AS m FROM daily) s;
-- the forecast starts after "end"; gaps are zero demand, or missing with "gaps": "missing"
SELECT f.step, f.ts::date
  FROM (SELECT uba_forecast_train(d, units, '{"end": "2024-04-15"}') AS m FROM daily) s, uba_forecast(m, 2) f;
SELECT (uba_forecast_info(z)).form AS zero_gaps, (uba_forecast_info(g)).form AS missing_gaps,
       (uba_forecast_info(z)).periods = (uba_forecast_info(g)).periods AS same_periods
  FROM (SELECT uba_forecast_train(d, units, '{"period": "day"}') AS z,
               uba_forecast_train(d, units, '{"period": "day", "gaps": "missing"}') AS g
          FROM daily WHERE extract(dow FROM d) <> 0 OR d < '2024-02-01') s;
-- NULL times and values are left out, as sum() leaves them
SELECT (uba_forecast_info(uba_forecast_train(t, v))).periods
  FROM (SELECT d::timestamptz AS t, units AS v FROM daily
        UNION ALL SELECT NULL, 5 UNION ALL SELECT '2030-01-01', NULL) s;
-- a constant series: a flat forecast with no spread
SELECT f.step, f.forecast, f.lower = f.upper AS no_spread, (uba_forecast_info(m)).form
  FROM (SELECT uba_forecast_train(d, 7) AS m FROM daily) s, uba_forecast(m, 2) f;
-- negative values: additive forms only; the intermittent methods refuse them
SELECT (uba_forecast_info(uba_forecast_train(d, units - 12))).form FROM daily;
SELECT uba_forecast_train(d, units - 12, '{"method": "croston"}') FROM daily;
-- a form asked for
SELECT (uba_forecast_info(uba_forecast_train(d, units, '{"model": "AAN", "damped": true}'))).form FROM daily;
SELECT (uba_forecast_info(uba_forecast_train(d, units, '{"model": "MNM"}'))).form FROM daily;
-- TSB with beta 1: the probability is the last period's demand indicator, 0 after an empty one
SELECT f.forecast AS after_an_empty_week
  FROM (SELECT uba_forecast_train(week, units, '{"method": "tsb", "beta": 1, "period": "week", "end": "2011-12-05"}') AS m
          FROM rw WHERE stockcode = (SELECT min(stockcode) FROM rw)) s, uba_forecast(m, 1) f;
-- one demand is enough for Croston, as for forecast::croston: its size over the periods it took
SELECT f.forecast = (SELECT units FROM daily WHERE d = '2024-01-03') / 3 AS size_over_interval
  FROM (SELECT uba_forecast_train(d, CASE WHEN d = '2024-01-03' THEN units ELSE 0 END,
                                  '{"method": "croston", "end": "2024-01-10"}') AS m
          FROM daily WHERE d <= '2024-01-10') s, uba_forecast(m, 1) f;
-- too short for exponential smoothing: "auto" smooths simply (Croston with demand every period)
SELECT (uba_forecast_info(m)).method, f.forecast = (SELECT units FROM daily WHERE d = '2024-01-01')
         + 0.1 * ((SELECT units FROM daily WHERE d = '2024-01-02') - (SELECT units FROM daily WHERE d = '2024-01-01')) AS smoothed
  FROM (SELECT uba_forecast_train(d, units) AS m FROM daily WHERE d < '2024-01-03') s, uba_forecast(m, 1) f;
-- no rows: NULL
SELECT uba_forecast_train(d, units) IS NULL AS no_model FROM daily WHERE false;

-- the criterion that chooses ("ic"): the chosen form has the least of it among the forms tried
SELECT ic, i.form, (SELECT min(v::float8) FROM jsonb_each_text(i.candidates) c(k, v)) = (i.candidates->>i.form)::float8 AS least
  FROM (VALUES ('aicc'), ('aic'), ('bic')) v(ic),
       LATERAL (SELECT (uba_forecast_info(uba_forecast_train(d, value, jsonb_build_object('ic', v.ic)))).*
                  FROM fs WHERE series = 'UKgas' AND part = 'train') i
 ORDER BY ic;
-- "max_iter" bounds the search; "verbose" says what was chosen
SELECT (uba_forecast_info(uba_forecast_train(d, value, '{"max_iter": 1, "model": "MAM"}'))).converged
  FROM fs WHERE series = 'UKgas' AND part = 'train';
SELECT uba_forecast_train(d, value, '{"verbose": true}') IS NOT NULL AS trained FROM fs WHERE series = 'Nile' AND part = 'train';
-- missing periods are left out of the intermittent methods: the same model as the observed
-- periods side by side
SELECT a.forecast = b.forecast AS same
  FROM (SELECT uba_forecast_train(date '2024-01-01' + 7 * (i + i / 3), (i * 7) % 4, '{"method": "croston", "period": "week", "gaps": "missing"}') AS m
          FROM generate_series(0, 29) i) x, uba_forecast(x.m, 1) a,
       (SELECT uba_forecast_train(date '2024-01-01' + 7 * i, (i * 7) % 4, '{"method": "croston", "period": "week"}') AS m
          FROM generate_series(0, 29) i) y, uba_forecast(y.m, 1) b;
-- anomalies after an intermittent series: the same bounds as uba_forecast's
SELECT bool_and(a.lower = f.lower AND a.upper = f.upper AND a.expected = f.forecast) AS same_as_forecast
  FROM cm, uba_forecast(sba, 3, '{90}') f,
       uba_forecast_anomalies(sba, date '2011-12-05' + 7 * f.step, 5, 90) a;

-- ---------- mistakes ----------
SELECT uba_forecast_train(d, units, '{"method": "ets"}') FROM daily WHERE d < '2024-01-05';
SELECT uba_forecast_train(date '2024-01-01', 5);
SELECT uba_forecast_train(d, 'NaN') FROM daily;
SELECT uba_forecast_train(d, units, '{"model": "MAQ"}') FROM daily;
SELECT uba_forecast_train(d, units, '{"model": "AAM"}') FROM daily;
SELECT uba_forecast_train(d, units - 12, '{"model": "MNN"}') FROM daily;
SELECT uba_forecast_train(d, units, '{"model": "AAA", "season_length": 60}') FROM daily;
SELECT uba_forecast_train(d, units, '{"method": "sba", "damped": true}') FROM daily;
SELECT uba_forecast_train(d, units, '{"alpha": 0.2}') FROM daily;
SELECT uba_forecast_train(d, units, '{"period": "hour"}') FROM daily;
SELECT uba_forecast_train(d, units, '{"end": "2024-02-01"}') FROM daily;
SELECT uba_forecast_train(d, units, '{"start": "2024-02-01"}') FROM daily;
SELECT uba_forecast_train(d, 0, '{"period": "day", "method": "croston"}') FROM daily;
SELECT uba_forecast_train('infinity'::timestamptz, 1);
SELECT uba_forecast_train(d, 1, '{"period": "day", "start": "0001-01-01"}') FROM (VALUES (date '2800-01-01')) v(d);
SELECT uba_forecast_train(make_date(200000 + i, 1, 1), i, '{"period": "year"}') FROM generate_series(0, 9) i;
SELECT uba_forecast_train(d, units, '{"model": "AAA", "season_length": 4}') FROM daily WHERE d < '2024-01-10';
SELECT * FROM uba_forecast((SELECT m FROM fm WHERE series = 'Nile'), 0);
SELECT * FROM uba_forecast((SELECT m FROM fm WHERE series = 'Nile'), 2, '{}');
SELECT * FROM uba_forecast((SELECT m FROM fm WHERE series = 'Nile'), 2, '{100}');
SELECT * FROM uba_forecast((SELECT m FROM fm WHERE series = 'Nile'), 2, ARRAY[NULL::float8]);
SELECT * FROM uba_forecast((SELECT uba_kmeans(ARRAY[1.0, 2.0], 1)), 2);
SELECT uba_forecast_info('\x00'::bytea);

-- ---------- anomalies: actual values outside the forecast's interval ----------
-- after the series: the forecast that many periods ahead, the same as uba_forecast's
SELECT count(*) AS months, bool_and(a.expected = f.forecast AND a.lower = f.lower AND a.upper = f.upper) AS same_as_forecast,
       bool_and(a.step = f.step) AS steps, count(*) FILTER (WHERE a.is_anomaly) AS anomalies
  FROM fm JOIN fs t ON t.series = fm.series AND t.part = 'test'
  JOIN fref r ON r.series = fm.series,
       uba_forecast(fm.m, 18) f, uba_forecast_anomalies(fm.m, t.d, t.value) a
 WHERE fm.series IN ('AirPassengers', 'Nile', 'UKDriverDeaths') AND f.step = t.idx - r.n
 GROUP BY fm.series ORDER BY fm.series;
-- in the series: each period against its one-step forecast; a planted spike is the one anomaly at 99.9 %
CREATE TABLE kpi AS
SELECT date '2024-01-01' + i AS day,
       1000 + 200 * sin(i * 2 * pi() / 7) + 40 * ((i * 7919) % 101 - 50) / 50.0 + CASE WHEN i = 60 THEN 600 ELSE 0 END AS revenue
  FROM generate_series(0, 119) i;
CREATE TABLE kpi_model AS SELECT uba_forecast_train(day, revenue) AS m FROM kpi WHERE day < '2024-04-20';
SELECT (uba_forecast_info(m)).form FROM kpi_model;
SELECT k.day, a.step, round(a.deviation::numeric) AS deviation, a.is_anomaly, a.anomaly_probability > 0.999 AS sure
  FROM kpi k, kpi_model, uba_forecast_anomalies(m, k.day, k.revenue, 99.9) a
 WHERE a.is_anomaly ORDER BY k.day;
-- a day after the series with a drop, as a nightly job would check it
SELECT a.step, a.is_anomaly, a.deviation < 0 AS below
  FROM kpi_model, uba_forecast_anomalies(m, date '2024-04-22', 400) a;
-- the level as a fraction, the probability's meaning: 0 at the expected value
SELECT (uba_forecast_anomalies(m, date '2024-04-21', (uba_forecast_anomalies(m, date '2024-04-21', 0)).expected, 0.95)).anomaly_probability
  FROM kpi_model;
-- Croston before its first demand has no forecast: NULLs
SELECT (uba_forecast_anomalies(croston, date '2010-11-29', 0)).* FROM cm WHERE stockcode = (SELECT min(stockcode) FROM cm);
SELECT * FROM uba_forecast_anomalies((SELECT m FROM kpi_model), date '2023-12-31', 1);
SELECT * FROM uba_forecast_anomalies((SELECT m FROM kpi_model), date '2030-01-01', 1);
SELECT * FROM uba_forecast_anomalies((SELECT m FROM kpi_model), date '2024-04-22', 'NaN');
SELECT * FROM uba_forecast_anomalies((SELECT m FROM kpi_model), date '2024-04-22', 1, 100);
