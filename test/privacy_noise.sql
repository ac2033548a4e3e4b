-- Differential privacy's noise (src/privacy/noise.c), uba_dp_count, uba_dp_count_distinct, uba_dp_sum
-- and uba_dp_avg.  The samplers are tested
-- seeded (uba_dp_noise_sample): 100,000 draws of each mechanism against its exact distribution by
-- a chi-square test, which must pass at the right scale and fail at a scale 10% off; releases
-- use secure random bits, whose draws are checked for their spread.  Contribution bounding: a
-- unit with 10,000 rows moves a count by at most max_contributions.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(32);

-- chi-square of draws against a distribution on the integers, |x| >= k pooled at +-k
CREATE FUNCTION pg_temp.chi2(draws bigint[], pmf text, k int, span int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	n float8 := cardinality(draws);
	z float8;
	chi float8 := 0;
	obs float8;
	p float8;
BEGIN
	-- normalize the weights over -span .. span (the rest is below double precision)
	EXECUTE format('SELECT sum(%s) FROM generate_series(-$1, $1) x', pmf) INTO z USING span;
	FOR b IN -k .. k LOOP
		SELECT count(*) INTO obs FROM unnest(draws) v
		 WHERE CASE WHEN b = -k THEN v <= -k WHEN b = k THEN v >= k ELSE v = b END;
		EXECUTE format('SELECT sum(%s) / $1 FROM generate_series(-$4, $4) x WHERE CASE WHEN $2 = -$3 THEN x <= -$3 WHEN $2 = $3 THEN x >= $3 ELSE x = $2 END', pmf)
			INTO p USING z, b, k, span;
		chi := chi + (obs - n * p) ^ 2 / (n * p);
	END LOOP;
	RETURN chi;
END $$;

CREATE TEMP TABLE draws AS
SELECT (SELECT array_agg(v) FROM uba_dp_noise_sample('laplace', 2.5, 100000, 42) v) AS lap,
       (SELECT array_agg(v) FROM uba_dp_noise_sample('gaussian', 3, 100000, 42) v) AS gau;

-- 31 bins: 30 degrees of freedom, 59.70 the 0.999 quantile; 25 bins: 24, 51.18
SELECT cmp_ok(pg_temp.chi2(lap, 'exp(-abs(x) / 2.5)', 15, 1000), '<', 59.70::float8,
	'discrete Laplace of scale 2.5: chi-square of 100,000 draws below the 0.999 quantile') FROM draws;
SELECT cmp_ok(pg_temp.chi2(lap, 'exp(-abs(x) / 2.75)', 15, 1000), '>', 59.70::float8,
	'the same draws reject a scale of 2.75') FROM draws;
SELECT cmp_ok(pg_temp.chi2(gau, 'exp(-(x::float8 ^ 2) / 18)', 12, 100), '<', 51.18::float8,
	'discrete Gaussian of sigma 3: chi-square of 100,000 draws below the 0.999 quantile') FROM draws;
SELECT cmp_ok(pg_temp.chi2(gau, 'exp(-(x::float8 ^ 2) / (2 * 3.3 ^ 2))', 12, 100), '>', 51.18::float8,
	'the same draws reject a sigma of 3.3') FROM draws;
-- moments: the discrete Laplace's variance is 2p / (1 - p)^2, p = exp(-1 / b)
SELECT cmp_ok(abs((SELECT avg(v)::float8 FROM unnest(lap) v)), '<', (4 * sqrt(2 * exp(-1 / 2.5) / (1 - exp(-1 / 2.5)) ^ 2 / 100000))::float8,
	'Laplace draws: mean 0 within 4 standard errors') FROM draws;
SELECT cmp_ok(abs((SELECT var_pop(v)::float8 FROM unnest(lap) v) / (2 * exp(-1 / 2.5) / (1 - exp(-1 / 2.5)) ^ 2)::float8 - 1), '<', 0.03::float8,
	'Laplace draws: variance within 3% of 2p / (1 - p)^2') FROM draws;
SELECT cmp_ok(abs((SELECT var_pop(v)::float8 FROM unnest(gau) v) / 9 - 1), '<', 0.02::float8,
	'Gaussian draws: variance within 2% of sigma^2 (the discrete one''s is within 1e-9 of it at sigma 3)') FROM draws;
SELECT is((SELECT array_agg(v) FROM uba_dp_noise_sample('laplace', 2.5, 1000, 42) v), (SELECT lap[1:1000] FROM draws),
	'a seed gives the same draws');
-- scales that are not multiples of 1/1024 are rounded up (0.3 to 308/1024): never less noise than asked
SELECT ok((SELECT var_pop(v)::float8 FROM uba_dp_noise_sample('laplace', 0.3, 100000, 7) v)
                / (2 * exp(-1 / 0.3) / (1 - exp(-1 / 0.3)) ^ 2)::float8 BETWEEN 0.95 AND 1.12,
	'a scale of 0.3 (rounded up to 0.3008): variance 0.95 to 1.12 times 0.3''s');

-- uba_dp_count: 1,000 units with 1 to 5 rows each
CREATE TEMP TABLE visits AS
SELECT u AS customer_id, r FROM generate_series(1, 1000) u, generate_series(1, 1 + u % 5) r;
SELECT cmp_ok(abs(uba_dp_count(customer_id, 1.0) - 1000), '<', 25::bigint,
	'one row per unit: 1,000 customers, within 25 at epsilon 1 (scale 1)') FROM visits;
SELECT cmp_ok(abs(uba_dp_count(customer_id, 1.0, '{"max_contributions": 3}'::jsonb) -
	(SELECT sum(least(c, 3)) FROM (SELECT count(*) AS c FROM visits GROUP BY customer_id) s)), '<', 75::numeric,
	'at most 3 rows per unit, within 75 at epsilon 1 (scale 3)') FROM visits;
-- at epsilon 100 the noise is 0 but with probability 1e-43: the bounded counts themselves
SELECT is((SELECT uba_dp_count(customer_id, 100, '{"max_contributions": 2}'::jsonb) FROM
             (SELECT customer_id FROM visits UNION ALL SELECT 0 FROM generate_series(1, 10000)) v) -
          (SELECT uba_dp_count(customer_id, 100, '{"max_contributions": 2}'::jsonb) FROM visits),
          2::bigint, 'a unit with 10,000 rows moves the count by max_contributions (2)');
SELECT is((SELECT uba_dp_count(customer_id::text, 100) FROM visits), 1000::bigint, 'text units');
SELECT is((SELECT uba_dp_count(md5(customer_id::text)::uuid, 100) FROM visits), 1000::bigint, 'uuid units');
SELECT is((SELECT uba_dp_count(NULLIF(customer_id, 7), 100) FROM visits), 999::bigint, 'a row without a unit is not counted');
-- releases: 2,000 counts at epsilon 1 spread as the discrete Laplace of scale 1 (variance 1.84)
-- (each a plain aggregate of its own, rerun for every g: a grouped one would select groups)
SELECT ok((SELECT var_samp(c)::float8 FROM (SELECT (SELECT uba_dp_count(customer_id, 1.0) FROM visits
                 WHERE r = 1 AND g > 0) AS c FROM generate_series(1, 2000) g) s)
	BETWEEN 1.3 AND 2.5, 'secure draws: 2,000 counts'' variance between 1.3 and 2.5 (1.84 expected, standard error 0.09)');
SELECT throws_ok($$SELECT uba_dp_count(customer_id, 0) FROM visits$$, '22023', NULL, 'epsilon 0 is refused');
SELECT throws_ok($$SELECT uba_dp_count(customer_id, CASE WHEN r = 1 THEN 1 ELSE 2 END) FROM visits$$, '22023',
	'epsilon must be the same on every row', 'one epsilon per count');
SELECT throws_ok($$SELECT uba_dp_count(customer_id * 1.5, 1) FROM visits$$, '42804', NULL, 'units are integers, text or uuid');
SELECT is((SELECT uba_dp_count(customer_id, 1) FROM visits WHERE false), NULL, 'no rows: NULL');

-- uba_dp_count_distinct: the units, whatever their rows (1,000 customers, 3,000 visits)
SELECT cmp_ok(abs(uba_dp_count_distinct(customer_id, 1.0) - 1000), '<', 25::bigint,
	'1,000 distinct customers within 25 at epsilon 1 (scale 1)') FROM visits;
SELECT is((SELECT uba_dp_count_distinct(customer_id, 100) FROM (SELECT customer_id FROM visits UNION ALL
             SELECT 0 FROM generate_series(1, 10000)) v) - (SELECT uba_dp_count_distinct(customer_id, 100) FROM visits),
	1::bigint, 'a unit with 10,000 rows adds one distinct unit');
SELECT ok((SELECT var_samp(c)::float8 FROM (SELECT (SELECT uba_dp_count_distinct(customer_id, 1.0) FROM visits
             WHERE r = 1 AND g > 0) AS c FROM generate_series(1, 1000) g) s) BETWEEN 1.2 AND 2.6,
	'secure draws: 1,000 distinct counts'' variance between 1.2 and 2.6 (1.84 expected, standard error 0.13)');

-- uba_dp_sum and uba_dp_avg: every customer spends u % 100 on each visit
CREATE TEMP TABLE spend AS SELECT customer_id, r, (customer_id % 100)::float8 AS amount FROM visits;
SELECT cmp_ok(abs(uba_dp_sum(customer_id, amount, 0, 100, 1.0) - 49500), '<', 2000::float8,
	'a sum of one row per unit (49,500) within 20 noise scales (100 each) at epsilon 1') FROM spend;
-- on the grid: a power of two at most the noise's scale / 1024 (100 / 1024: 1/16)
SELECT ok((SELECT s * 16 = round(s * 16) FROM (SELECT uba_dp_sum(customer_id, amount, 0, 100, 1.0) AS s FROM spend) x),
	'the released sum is a whole number of grid steps (1/16)');
-- bounded contributions at epsilon 100, values in [0, 1]: the noise's scale is 0.01
SELECT cmp_ok(abs((SELECT uba_dp_sum(customer_id, 1, 0, 1, 100, '{"max_contributions": 2}'::jsonb) FROM
                     (SELECT customer_id FROM visits UNION ALL SELECT 0 FROM generate_series(1, 10000)) v) -
                  (SELECT uba_dp_sum(customer_id, 1, 0, 1, 100, '{"max_contributions": 2}'::jsonb) FROM visits) - 2),
	'<', 0.4::float8, 'a unit with 10,000 rows moves a sum of values in [0, 1] by max_contributions (2), within 40 noise scales');
SELECT cmp_ok(abs(uba_dp_sum(customer_id, amount * 10, 0, 100, 100, '{"max_contributions": 5}'::jsonb) -
                  (SELECT sum(least(amount * 10, 100)) FROM spend)), '<', 100::float8,
	'values above upper count as upper (every row kept: max_contributions 5)') FROM spend;
SELECT cmp_ok(abs(uba_dp_avg(customer_id, amount, 0, 100, 100, '{"max_contributions": 5}'::jsonb) - avg(amount)), '<', 0.5::float8,
	'the mean at epsilon 100, within 0.5') FROM spend;
SELECT ok((SELECT bool_and(a BETWEEN 0 AND 100) FROM (SELECT (SELECT uba_dp_avg(customer_id, amount, 0, 100, 0.01)
             FROM spend WHERE customer_id <= 20 AND g > 0) AS a FROM generate_series(1, 50) g) x),
	'a noisy mean stays within [lower, upper] (epsilon 0.01 on 20 units)');
SELECT throws_ok($$SELECT uba_dp_sum(customer_id, amount, 10, 0, 1) FROM spend$$, '22023',
	'lower and upper must be finite, lower at most upper', 'lower above upper');
SELECT throws_ok($$SELECT uba_dp_sum(customer_id, 'NaN', 0, 1, 1) FROM spend$$, '22000', 'values must not be NaN', 'NaN values');
SELECT throws_ok($$SELECT uba_dp_avg(customer_id, amount, r, 100, 1) FROM spend$$, '22023',
	'lower must be the same on every row', 'one lower bound per aggregate');

SELECT * FROM finish();
ROLLBACK;
