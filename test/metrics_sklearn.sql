-- Evaluation-metric aggregates against scikit-learn on real data.
--
-- Data: test/data/shoppers_scores.csv, 12,330 sessions of the UCI "Online
-- Shoppers Purchasing Intention" data (see test/data/README.md).
-- Reference values: test/data/metrics_reference.csv, written by
-- bench/metrics_reference.py with scikit-learn 1.2 (y_true = actual,
-- y_pred = predicted; the aggregates take (predicted, actual)):
--   pv_positive              page_values > 0     vs revenue
--   exit_low                 exit_rates < 0.02   vs revenue
--   weekend_only             page_values > 0     vs revenue, weekend rows only
--   no_positive_predictions  false               vs revenue (zero division: 0.0)
--   duration_linear          35.0 * product_related vs product_related_duration
--   duration_pv              0.5 * exit_rates * 1000 vs page_values
-- Every value must be within 1e-9 (relative, absolute below 1) of
-- scikit-learn's; confusion-matrix counts must be equal.  The same values are
-- checked again under a forced parallel plan (partial aggregates combined).
--
-- Run from the project root: pg_prove test/metrics_sklearn.sql
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SET LOCAL max_parallel_workers_per_gather = 0;

SELECT plan(114);

-- the sessions as a regular table (shoppers, scanned in parallel below) and as a temp table
-- (ms_shoppers, which is never scanned in parallel: the serial side of every comparison)
\i test/data/shoppers.sql
CREATE TEMP TABLE ms_shoppers ON COMMIT DROP AS SELECT * FROM shoppers ORDER BY session;

CREATE TEMP TABLE ms_ref (
	ord int GENERATED ALWAYS AS IDENTITY, name text, metric text, value float8,
	PRIMARY KEY (name, metric)
) ON COMMIT DROP;
\copy ms_ref (name, metric, value) FROM 'test/data/metrics_reference.csv' WITH (FORMAT csv, HEADER)

-- 3: the committed data are complete
SELECT is((SELECT count(*) FROM ms_shoppers), 12330::bigint, 'shoppers: 12330 sessions loaded');
SELECT is((SELECT count(*) FILTER (WHERE revenue) FROM ms_shoppers), 1908::bigint,
          'shoppers: 1908 sessions with revenue');
SELECT is((SELECT count(*) FROM ms_ref), 38::bigint, 'reference: 38 values loaded');

-- Every metric of every case, as (name, metric, value), over a given table;
-- the expressions are those of bench/metrics_reference.py.  One view per table.
DO $do$
DECLARE
	v text;
	t text;
BEGIN
	FOR v, t IN VALUES ('ms_uba_serial', 'ms_shoppers'), ('ms_uba_parallel', 'shoppers') LOOP
		EXECUTE format($q$
CREATE TEMP VIEW %1$I AS
WITH c AS (
	SELECT 'pv_positive' AS name,
	       uba_f1_score(page_values > 0, revenue) AS f1,
	       uba_precision(page_values > 0, revenue) AS precision,
	       uba_recall(page_values > 0, revenue) AS recall,
	       uba_accuracy(page_values > 0, revenue) AS accuracy,
	       uba_mcc(page_values > 0, revenue) AS mcc,
	       uba_confusion_matrix(page_values > 0, revenue) AS cm
	  FROM %2$I
	UNION ALL
	SELECT 'exit_low',
	       uba_f1_score(exit_rates < 0.02, revenue),
	       uba_precision(exit_rates < 0.02, revenue),
	       uba_recall(exit_rates < 0.02, revenue),
	       uba_accuracy(exit_rates < 0.02, revenue),
	       uba_mcc(exit_rates < 0.02, revenue),
	       uba_confusion_matrix(exit_rates < 0.02, revenue)
	  FROM %2$I
	UNION ALL
	SELECT 'weekend_only',
	       uba_f1_score(page_values > 0, revenue),
	       uba_precision(page_values > 0, revenue),
	       uba_recall(page_values > 0, revenue),
	       uba_accuracy(page_values > 0, revenue),
	       uba_mcc(page_values > 0, revenue),
	       uba_confusion_matrix(page_values > 0, revenue)
	  FROM %2$I WHERE weekend
	UNION ALL
	SELECT 'no_positive_predictions',
	       uba_f1_score(false, revenue),
	       uba_precision(false, revenue),
	       uba_recall(false, revenue),
	       uba_accuracy(false, revenue),
	       uba_mcc(false, revenue),
	       uba_confusion_matrix(false, revenue)
	  FROM %2$I
), r AS (
	SELECT 'duration_linear' AS name,
	       uba_rmse(35.0::float8 * product_related::float8, product_related_duration) AS rmse,
	       uba_mae(35.0::float8 * product_related::float8, product_related_duration) AS mae,
	       uba_r2(35.0::float8 * product_related::float8, product_related_duration) AS r2
	  FROM %2$I
	UNION ALL
	SELECT 'duration_pv',
	       uba_rmse(0.5::float8 * exit_rates * 1000::float8, page_values),
	       uba_mae(0.5::float8 * exit_rates * 1000::float8, page_values),
	       uba_r2(0.5::float8 * exit_rates * 1000::float8, page_values)
	  FROM %2$I
)
SELECT c.name, m.metric, m.value
  FROM c CROSS JOIN LATERAL (VALUES
	('f1', c.f1), ('precision', c.precision), ('recall', c.recall),
	('accuracy', c.accuracy), ('mcc', c.mcc),
	('tp', (c.cm ->> 'tp')::float8), ('fp', (c.cm ->> 'fp')::float8),
	('tn', (c.cm ->> 'tn')::float8), ('fn', (c.cm ->> 'fn')::float8)) m(metric, value)
UNION ALL
SELECT r.name, m.metric, m.value
  FROM r CROSS JOIN LATERAL (VALUES ('rmse', r.rmse), ('mae', r.mae), ('r2', r.r2)) m(metric, value)
$q$, v, t);
	END LOOP;
END
$do$;

-- One test per reference value: counts equal, everything else within 1e-9;
-- a failure prints both values.
CREATE TEMP VIEW ms_check_serial AS
SELECT r.ord, r.name, r.metric, r.value AS sklearn, u.value AS uba,
       coalesce(CASE WHEN r.metric IN ('tp', 'fp', 'tn', 'fn') THEN u.value = r.value
                     ELSE abs(u.value - r.value) <= 1e-9 * greatest(1, abs(r.value)) END,
                false) AS pass
  FROM ms_ref r LEFT JOIN ms_uba_serial u USING (name, metric);
CREATE TEMP VIEW ms_check_parallel AS
SELECT r.ord, r.name, r.metric, r.value AS sklearn, u.value AS uba,
       coalesce(CASE WHEN r.metric IN ('tp', 'fp', 'tn', 'fn') THEN u.value = r.value
                     ELSE abs(u.value - r.value) <= 1e-9 * greatest(1, abs(r.value)) END,
                false) AS pass
  FROM ms_ref r LEFT JOIN ms_uba_parallel u USING (name, metric);

-- 38: serial plan
SELECT ok(pass, format('%s %s: %s as scikit-learn (%s)', name, metric,
                       CASE WHEN metric IN ('tp', 'fp', 'tn', 'fn') THEN 'equal' ELSE 'within 1e-9' END,
                       sklearn))
       || CASE WHEN pass THEN '' ELSE E'\n' || diag(format('    uba: %s, scikit-learn: %s', uba, sklearn)) END
  FROM ms_check_serial ORDER BY ord;

-- 1: uba_confusion_matrix has exactly the keys tp, fp, tn, fn, all integers
SELECT ok((SELECT array_agg(k ORDER BY k) = ARRAY['fn', 'fp', 'tn', 'tp']
                  AND bool_and(jsonb_typeof(cm -> k) = 'number' AND cm ->> k ~ '^[0-9]+$')
             FROM (SELECT uba_confusion_matrix(page_values > 0, revenue) AS cm FROM ms_shoppers) s,
                  jsonb_object_keys(s.cm) k),
          'uba_confusion_matrix: keys fn, fp, tn, tp with non-negative integer values');

-- 10: per-month f1 equals 2 tp / (2 tp + fp + fn) from uba_confusion_matrix in the same query,
-- and the four counts add up to the month's rows
SELECT ok(coalesce(abs(f1 - hand) <= 1e-9 * greatest(1, abs(hand)) AND tp + fp + tn + fn = n, false),
          format('month %s: uba_f1_score = 2tp/(2tp+fp+fn) of uba_confusion_matrix (%s)', month, hand))
       || CASE WHEN coalesce(abs(f1 - hand) <= 1e-9 * greatest(1, abs(hand)) AND tp + fp + tn + fn = n, false)
               THEN '' ELSE E'\n' || diag(format('    f1: %s, cm: %s, rows: %s', f1, cm, n)) END
  FROM (SELECT month, f1, cm, n,
               (cm ->> 'tp')::float8 AS tp, (cm ->> 'fp')::float8 AS fp,
               (cm ->> 'tn')::float8 AS tn, (cm ->> 'fn')::float8 AS fn,
               2 * (cm ->> 'tp')::float8
                 / (2 * (cm ->> 'tp')::float8 + (cm ->> 'fp')::float8 + (cm ->> 'fn')::float8) AS hand
          FROM (SELECT month, uba_f1_score(page_values > 0, revenue) AS f1,
                       uba_confusion_matrix(page_values > 0, revenue) AS cm, count(*) AS n
                  FROM ms_shoppers GROUP BY month) g) s
 ORDER BY month;

-- 9: rows with a NULL argument are skipped (5,000 such rows appended change nothing)
CREATE TEMP VIEW ms_with_nulls AS
SELECT page_values > 0 AS p, revenue AS a, product_related_duration AS y,
       35.0::float8 * product_related::float8 AS yhat
  FROM ms_shoppers
UNION ALL
SELECT v.p, v.a, v.y, v.yhat
  FROM generate_series(1, 1000),
       (VALUES (NULL::boolean, true, NULL::float8, 1e300::float8),
               (true, NULL::boolean, 1e300, NULL),
               (NULL, NULL, NULL, NULL),
               (NULL, false, -1e300, NULL),
               (false, NULL, NULL, -1e300)) v(p, a, y, yhat);
CREATE TEMP VIEW ms_without_nulls AS
SELECT page_values > 0 AS p, revenue AS a, product_related_duration AS y,
       35.0::float8 * product_related::float8 AS yhat
  FROM ms_shoppers;

SELECT is((SELECT uba_f1_score(p, a) FROM ms_with_nulls), (SELECT uba_f1_score(p, a) FROM ms_without_nulls),
          'uba_f1_score skips rows with a NULL argument');
SELECT is((SELECT uba_precision(p, a) FROM ms_with_nulls), (SELECT uba_precision(p, a) FROM ms_without_nulls),
          'uba_precision skips rows with a NULL argument');
SELECT is((SELECT uba_recall(p, a) FROM ms_with_nulls), (SELECT uba_recall(p, a) FROM ms_without_nulls),
          'uba_recall skips rows with a NULL argument');
SELECT is((SELECT uba_accuracy(p, a) FROM ms_with_nulls), (SELECT uba_accuracy(p, a) FROM ms_without_nulls),
          'uba_accuracy skips rows with a NULL argument');
SELECT is((SELECT uba_mcc(p, a) FROM ms_with_nulls), (SELECT uba_mcc(p, a) FROM ms_without_nulls),
          'uba_mcc skips rows with a NULL argument');
SELECT is((SELECT uba_confusion_matrix(p, a) FROM ms_with_nulls),
          (SELECT uba_confusion_matrix(p, a) FROM ms_without_nulls),
          'uba_confusion_matrix skips rows with a NULL argument');
SELECT is((SELECT uba_rmse(yhat, y) FROM ms_with_nulls), (SELECT uba_rmse(yhat, y) FROM ms_without_nulls),
          'uba_rmse skips rows with a NULL argument');
SELECT is((SELECT uba_mae(yhat, y) FROM ms_with_nulls), (SELECT uba_mae(yhat, y) FROM ms_without_nulls),
          'uba_mae skips rows with a NULL argument');
SELECT is((SELECT uba_r2(yhat, y) FROM ms_with_nulls), (SELECT uba_r2(yhat, y) FROM ms_without_nulls),
          'uba_r2 skips rows with a NULL argument');

-- 9: no rows gives NULL
SELECT is((SELECT uba_f1_score(page_values > 0, revenue) FROM ms_shoppers WHERE false), NULL::float8,
          'uba_f1_score of no rows is NULL');
SELECT is((SELECT uba_precision(page_values > 0, revenue) FROM ms_shoppers WHERE false), NULL::float8,
          'uba_precision of no rows is NULL');
SELECT is((SELECT uba_recall(page_values > 0, revenue) FROM ms_shoppers WHERE false), NULL::float8,
          'uba_recall of no rows is NULL');
SELECT is((SELECT uba_accuracy(page_values > 0, revenue) FROM ms_shoppers WHERE false), NULL::float8,
          'uba_accuracy of no rows is NULL');
SELECT is((SELECT uba_mcc(page_values > 0, revenue) FROM ms_shoppers WHERE false), NULL::float8,
          'uba_mcc of no rows is NULL');
SELECT is((SELECT uba_confusion_matrix(page_values > 0, revenue) FROM ms_shoppers WHERE false), NULL::jsonb,
          'uba_confusion_matrix of no rows is NULL');
SELECT is((SELECT uba_rmse(35.0::float8 * product_related::float8, product_related_duration)
             FROM ms_shoppers WHERE false), NULL::float8,
          'uba_rmse of no rows is NULL');
SELECT is((SELECT uba_mae(35.0::float8 * product_related::float8, product_related_duration)
             FROM ms_shoppers WHERE false), NULL::float8,
          'uba_mae of no rows is NULL');
SELECT is((SELECT uba_r2(35.0::float8 * product_related::float8, product_related_duration)
             FROM ms_shoppers WHERE false), NULL::float8,
          'uba_r2 of no rows is NULL');

-- 1: only rows with a NULL argument is the same as no rows
SELECT ok((SELECT uba_f1_score(p, a) IS NULL AND uba_precision(p, a) IS NULL AND uba_recall(p, a) IS NULL
                  AND uba_accuracy(p, a) IS NULL AND uba_mcc(p, a) IS NULL
                  AND uba_confusion_matrix(p, a) IS NULL
                  AND uba_rmse(yhat, y) IS NULL AND uba_mae(yhat, y) IS NULL AND uba_r2(yhat, y) IS NULL
             FROM ms_with_nulls WHERE p IS NULL OR a IS NULL),
          'every metric of rows that all have a NULL argument is NULL');

-- 2: constant actual values: r2 as scikit-learn 1.2 (1.0 for perfect predictions, else 0.0)
SELECT is((SELECT uba_r2(p, a) FROM (VALUES (5.0::float8, 5.0::float8), (5.0, 5.0), (5.0, 5.0)) v(p, a)),
          1.0::float8, 'uba_r2 with constant actual values and perfect predictions is 1.0');
SELECT is((SELECT uba_r2(p, a) FROM (VALUES (4.0::float8, 5.0::float8), (5.0, 5.0), (6.0, 5.0)) v(p, a)),
          0.0::float8, 'uba_r2 with constant actual values and imperfect predictions is 0.0');

-- Forced parallel plan on the regular table
\i test/lib/parallel_plans.sql
-- without this the six cases of ms_uba_parallel run as whole (non-partial)
-- aggregates side by side under one Parallel Append, and nothing is combined
SET LOCAL enable_parallel_append = off;

-- 2: the plans are parallel, with partial aggregates
SELECT ok(plan LIKE '%Partial Aggregate%Parallel Seq Scan on shoppers%',
          'parallel plan: uba_f1_score runs as a partial aggregate over a parallel scan')
       || CASE WHEN plan LIKE '%Partial Aggregate%' THEN '' ELSE E'\n' || diag(plan) END
  FROM (SELECT pg_temp.plan_of('SELECT uba_f1_score(page_values > 0, revenue) FROM shoppers') AS plan) e;
SELECT ok(regexp_count(plan, 'Partial Aggregate') = 6
            AND regexp_count(plan, 'Parallel Seq Scan on shoppers') = 6
            AND regexp_count(plan, 'Seq Scan') = 6,
          'parallel plan: all six cases aggregate partially over parallel scans')
  FROM (SELECT pg_temp.plan_of('SELECT * FROM ms_uba_parallel') AS plan) e;

-- 38: the same values with partial states serialized and combined
SELECT ok(pass, format('parallel: %s %s: %s as scikit-learn (%s)', name, metric,
                       CASE WHEN metric IN ('tp', 'fp', 'tn', 'fn') THEN 'equal' ELSE 'within 1e-9' END,
                       sklearn))
       || CASE WHEN pass THEN '' ELSE E'\n' || diag(format('    uba: %s, scikit-learn: %s', uba, sklearn)) END
  FROM ms_check_parallel ORDER BY ord;

-- 1: per-month values with a parallel GROUP BY equal the serial ones
SELECT ok((SELECT count(*) = 10
                  AND bool_and(abs(s.f1 - p.f1) <= 1e-9 * greatest(1, abs(s.f1)) AND s.cm = p.cm)
             FROM (SELECT month, uba_f1_score(page_values > 0, revenue) AS f1,
                          uba_confusion_matrix(page_values > 0, revenue) AS cm
                     FROM ms_shoppers GROUP BY month) s
             JOIN (SELECT month, uba_f1_score(page_values > 0, revenue) AS f1,
                          uba_confusion_matrix(page_values > 0, revenue) AS cm
                     FROM shoppers GROUP BY month) p USING (month))
          AND pg_temp.plan_of('SELECT month, uba_f1_score(page_values > 0, revenue), '
                                 'uba_confusion_matrix(page_values > 0, revenue) '
                                 'FROM shoppers GROUP BY month') ~ 'Partial (Hash|Group)Aggregate',
          'parallel GROUP BY month (partial aggregates): f1 and confusion matrix of all 10 months as in the serial plan');

SELECT * FROM finish();
ROLLBACK;
