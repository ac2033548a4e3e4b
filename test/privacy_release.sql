-- Differentially private quantiles, grouped releases (partition selection), funnels and retention
-- (src/privacy/dp_quantile.c, release.c, dp_behaviour.c).  Partition selection: a group of one unit
-- is released with the probability the threshold allows (computed here from the discrete
-- Laplace's tail, checked over 1,000 groups, and never above delta / max_groups), and never at a
-- tiny delta; contribution bounding of quantiles, funnels and retention by a unit with 10,000 rows.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(30);

CREATE TEMP TABLE qt AS SELECT u, (u - 1)::float8 AS v FROM generate_series(1, 1000) u;

-- uba_dp_quantile: 1,000 units with values 0 .. 999
SELECT ok((SELECT abs(uba_dp_quantile(u, v, 0.5, 0, 1000, 1.0) - 499.5) < 100 FROM qt),
	'the median of 0 .. 999 at epsilon 1 within 100 (noise of scale 4 on counts of about 60 per node)');
SELECT ok((SELECT abs(uba_dp_quantile(u, v, 0.9, 0, 1000, 100) - 899.1) < 5 FROM qt),
	'the 0.9 quantile at epsilon 100 within 5 (the tree''s leaves are 1000 / 65,536 wide)');
SELECT ok((SELECT uba_dp_quantile(u, v, 0, 0, 1000, 10) < 20 AND uba_dp_quantile(u, v, 1, 0, 1000, 10) > 980 FROM qt),
	'q = 0 and q = 1 near the smallest and largest values');
SELECT ok((SELECT bool_and(m BETWEEN 0 AND 1000) FROM (SELECT (SELECT uba_dp_quantile(u, v, 0.5, 0, 1000, 0.01)
             FROM qt WHERE u <= 5 AND g > 0) AS m FROM generate_series(1, 50) g) x),
	'a quantile stays within [lower, upper] at epsilon 0.01 on 5 units');
SELECT is((SELECT uba_dp_quantile(u, v, 0.5, 7, 7, 1) FROM qt), 7::float8, 'lower = upper: that value');
SELECT ok((SELECT abs((SELECT uba_dp_quantile(u, v, 0.5, 0, 1000, 100) FROM
                        (SELECT u, v FROM qt UNION ALL SELECT 0, 999 FROM generate_series(1, 10000)) x)
                   - 499.5) < 5),
	'a unit with 10,000 rows at 999 moves the median by one value''s weight only (max_contributions 1)');
SELECT throws_ok($$SELECT uba_dp_quantile(u, v, 1.5, 0, 1000, 1) FROM qt$$, '22023', 'q must be between 0 and 1', 'q above 1');
SELECT throws_ok($$SELECT uba_dp_quantile(u, v, NULL, 0, 1000, 1) FROM qt$$, '22004', 'q must not be NULL', 'a NULL q');
SELECT throws_ok($$SELECT uba_dp_quantile(u, v, 0.5, 10, 0, 1) FROM qt$$, '22023', NULL, 'lower above upper');
SELECT throws_ok($$SELECT uba_dp_quantile(u, v, u / 1000.0, 0, 1000, 1) FROM qt$$, '22023',
	'q must be the same on every row', 'one q per quantile');

-- GROUP BY: delta is required, and a group is released only past the threshold
SELECT throws_ok($$SELECT u % 2, uba_dp_count(u, 1) FROM qt GROUP BY 1$$, '22023',
	'a differentially private aggregate under GROUP BY needs the option "delta"', 'GROUP BY without delta');
SELECT throws_ok($$SELECT u % 2, uba_dp_avg(u, v, 0, 1000, 1) FROM qt GROUP BY 1$$, '22023', NULL, 'GROUP BY without delta (avg)');
SELECT is((SELECT count(n) FROM (SELECT u % 2, uba_dp_count(u, 1, '{"delta": 1e-6}') n FROM qt GROUP BY 1) g), 2::bigint,
	'groups of 500 units are released');
-- single-unit groups at epsilon 1, delta 0.5: threshold 1 + ceil(ln 2) = 2, released when the noise
-- is >= 1, probability p / (1 + p) with p = exp(-1): 0.269 (<= delta)
CREATE FUNCTION pg_temp.near(got bigint, p float8, n int) RETURNS boolean LANGUAGE sql AS
	$$ SELECT abs(got - n * p) < 5 * sqrt(n * p * (1 - p)) $$;
SELECT ok(pg_temp.near((SELECT count(n) FROM (SELECT u, uba_dp_count(u, 1.0, '{"delta": 0.5}') n FROM qt GROUP BY u) g),
                       exp(-1) / (1 + exp(-1)), 1000),
	'1,000 one-unit groups (count, delta 0.5): released with probability 0.269, within 5 standard errors');
-- two rows each, max_contributions 2: scale 2, threshold 2 + ceil(2 ln 2) = 4, noise >= 2: p^2 / (1 + p), p = exp(-1/2)
SELECT ok(pg_temp.near((SELECT count(n) FROM (SELECT u, uba_dp_count(u, 1.0, '{"delta": 0.5, "max_contributions": 2}') n
                          FROM qt, generate_series(1, 2) r GROUP BY u) g), exp(-1) / (1 + exp(-0.5)), 1000),
	'one-unit groups with two rows each (max_contributions 2): probability 0.229');
-- sums select on their units at half of epsilon: scale 2, threshold 1 + ceil(2 ln 2) = 3, noise >= 2
SELECT ok(pg_temp.near((SELECT count(n) FROM (SELECT u, uba_dp_sum(u, v, 0, 1000, 1.0, '{"delta": 0.5}') n FROM qt GROUP BY u) g),
                       exp(-1) / (1 + exp(-0.5)), 1000),
	'one-unit groups of a sum: probability 0.229');
-- max_groups 4 at delta 0.5: scale 4, threshold 1 + ceil(4 ln 8) = 10, noise >= 9: p^9 / (1 + p), p = exp(-1/4)
SELECT ok(pg_temp.near((SELECT count(n) FROM (SELECT u, uba_dp_count_distinct(u, 1.0, '{"delta": 0.5, "max_groups": 4}') n FROM qt GROUP BY u) g),
                       exp(-9 / 4.0) / (1 + exp(-0.25)), 1000),
	'max_groups 4: scale and threshold grow (probability 0.059)');
SELECT is((SELECT count(n) FROM (SELECT u, uba_dp_count(u, 1.0, '{"delta": 1e-9}') n FROM qt GROUP BY u) g), 0::bigint,
	'delta 1e-9: no one-unit group of 1,000 is released (bound 1e-6 for them all)');
SELECT throws_ok($$SELECT uba_dp_count(u, 1.0) OVER () FROM qt$$, '0A000', NULL, 'not a window function');

-- uba_dp_funnel: 3,000 users reach step 1, 2,000 step 2, 1,000 step 3
CREATE TEMP TABLE ev AS SELECT u AS cid, ts, e FROM generate_series(1, 3000) u,
  LATERAL (SELECT '2024-01-01'::timestamptz + (u % 30) * interval '1 day' + s * interval '1 minute' AS ts,
                  (ARRAY['view', 'cart', 'purchase'])[s] AS e FROM generate_series(1, 1 + u % 3) s) x;
CREATE TEMP TABLE depths AS
SELECT cid, uba_funnel(ts, '1 day', ARRAY[e = 'view', e = 'cart', e = 'purchase']) AS depth FROM ev GROUP BY cid;
SELECT is((SELECT uba_dp_funnel(cid, depth, 3, 100) FROM depths), ARRAY[3000, 2000, 1000]::bigint[],
	'the funnel at epsilon 100 is the exact one');
-- (OFFSET 0 keeps the planner from flattening the subquery into three evaluations of f: three releases)
SELECT ok((SELECT bool_and(f[1] >= f[2] AND f[2] >= f[3]) FROM (SELECT (SELECT uba_dp_funnel(cid, depth, 3, 0.01)
             FROM depths WHERE cid <= 30 AND g > 0) AS f FROM generate_series(1, 50) g OFFSET 0) x),
	'the noisy counts never grow with the step (epsilon 0.01, 30 users)');
SELECT ok((SELECT abs((uba_dp_funnel(cid, depth, 3, 1.0))[1] - 3000) < 40 FROM depths),
	'step 1 within 40 at epsilon 1 (three bins of scale 1)');
SELECT is((SELECT uba_dp_funnel(cid, depth, 3, 100) FROM (SELECT * FROM depths UNION ALL
             SELECT 3, 3 FROM generate_series(1, 10000)) d), ARRAY[3000, 2001, 1001]::bigint[],
	'a unit with 10,000 rows (depth 1, then 3) counts once, at its deepest step');
SELECT throws_ok($$SELECT uba_dp_funnel(cid, depth + 1, 3, 1) FROM depths$$, '22023', NULL, 'a depth beyond steps');
SELECT throws_ok($$SELECT uba_dp_funnel(cid, depth, 0, 1) FROM depths$$, '22023', 'steps must be between 1 and 64', 'steps 0');
SELECT throws_ok($$SELECT uba_dp_funnel(cid, depth, 3, 1, '{"max_contributions": 2}') FROM depths$$, '22023', NULL,
	'funnels take no max_contributions');

-- uba_dp_retention: cohorts by cid % 4, conditions as uba_retention gives them
CREATE TEMP TABLE ret AS
SELECT cid, (cid % 4)::text AS cohort, uba_retention(ARRAY[true, e = 'cart', e = 'purchase']) AS r FROM ev GROUP BY cid;
SELECT is((SELECT uba_dp_retention(cid, r, 100) FROM ret), ARRAY[3000, 2000, 1000]::bigint[],
	'retention at epsilon 100 is exact');
SELECT is((SELECT count(x) FROM (SELECT cohort, uba_dp_retention(cid, r, 1, '{"delta": 1e-6}') x FROM ret GROUP BY cohort) c),
	4::bigint, 'four cohorts of 750 are released');
SELECT is((SELECT uba_dp_retention(cid, r, 100) FROM (SELECT * FROM ret UNION ALL
             SELECT 3, '3', ARRAY[true, true, true] FROM generate_series(1, 10000)) d), ARRAY[3000, 2001, 1001]::bigint[],
	'a unit with 10,000 rows counts once (its conditions or-ed)');
SELECT throws_ok($$SELECT uba_dp_retention(cid, CASE WHEN cid = 5 THEN ARRAY[true] ELSE r END, 1) FROM ret$$, '22023',
	'retention arrays must have the same length on every row', 'arrays of different lengths');

SELECT * FROM finish();
ROLLBACK;
