-- uba_linreg_coefficients (issue 16): a ridge model's coefficients can be read, and a least-squares
-- fit (l2 = 0) reports R's summary.lm statistics, equal to an independent numpy/scipy computation
-- (bench/linreg_stats_reference.py -> test/data/linreg_stats_reference.csv) on the same rows.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(11);

CREATE TEMP TABLE lrs AS
SELECT g, ARRAY[sin(g * 0.7) * 3, cos(g * 1.3) + g * 0.01, (g % 7)::float8]::float8[] AS f,
       2.5 + 1.5 * sin(g * 0.7) * 3 - 0.7 * (cos(g * 1.3) + g * 0.01) + 0.05 * (g % 7) + sin(g * 3.1) AS y
  FROM generate_series(1, 200) g;
CREATE TEMP TABLE ref (rows int, feature int, coefficient float8, std_error float8, t float8, p_value float8);
\copy ref FROM 'test/data/linreg_stats_reference.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE fits AS
SELECT uba_linreg_train(y, f, '{"l2": 0, "feature_names": ["a", "b", "c"]}'::jsonb) AS standardized,
       uba_linreg_train(y, f, '{"l2": 0, "standardize": false}'::jsonb) AS raw,
       uba_linreg_train(y, f) AS ridge
  FROM lrs;
CREATE FUNCTION pg_temp.rel(a float8, b float8) RETURNS float8 LANGUAGE sql AS $$ SELECT abs(a - b) / greatest(abs(b), 1e-300) $$;

SELECT is((SELECT count(*) FROM ref), 8::bigint, 'the reference has the intercept and three features, for 200 and 6 rows');
SELECT is((SELECT count(*) FROM fits, uba_linreg_coefficients(fits.standardized) c JOIN ref r ON r.rows = 200 AND r.feature = c.feature
            WHERE pg_temp.rel(c.coefficient, r.coefficient) < 1e-9 AND pg_temp.rel(c.std_error, r.std_error) < 1e-9
              AND pg_temp.rel(c.t, r.t) < 1e-9 AND pg_temp.rel(c.p_value, r.p_value) < 1e-9), 4::bigint,
	'least squares, standardized: coefficients, standard errors, t and p equal numpy/scipy to 1e-9 (relative)');
SELECT is((SELECT count(*) FROM fits, uba_linreg_coefficients(fits.raw) c JOIN ref r ON r.rows = 200 AND r.feature = c.feature
            WHERE pg_temp.rel(c.coefficient, r.coefficient) < 1e-9 AND pg_temp.rel(c.std_error, r.std_error) < 1e-9
              AND pg_temp.rel(c.p_value, r.p_value) < 1e-9), 4::bigint,
	'...and unstandardized, the same');
SELECT is((SELECT string_agg(coalesce(name, '-'), ',' ORDER BY feature) FROM fits, uba_linreg_coefficients(fits.standardized)),
	'(intercept),a,b,c', 'names come from feature_names, the intercept first');
SELECT ok((SELECT bool_and(std_coefficient IS NOT NULL) FROM fits, uba_linreg_coefficients(fits.standardized) WHERE feature > 0),
	'a standardized model shows the coefficient per standard deviation too');
SELECT is((SELECT count(*) FROM fits, uba_linreg_coefficients(fits.ridge) WHERE std_error IS NOT NULL OR p_value IS NOT NULL),
	0::bigint, 'a ridge fit (l2 > 0) has coefficients but no classical statistics');
SELECT ok((SELECT max(abs(uba_linreg_predict(fits.ridge, lrs.f)
                      - (c0.coefficient + (SELECT sum(c.coefficient * lrs.f[c.feature])
                                             FROM uba_linreg_coefficients(fits.ridge) c WHERE c.feature > 0))))
             FROM lrs, fits, uba_linreg_coefficients(fits.ridge) c0 WHERE c0.feature = 0) < 1e-9,
	'the coefficients in input units reproduce every prediction');
-- 6 rows, 2 degrees of freedom: Student's t far from the normal distribution
SELECT is((SELECT count(*) FROM (SELECT uba_linreg_train(y, f, '{"l2": 0}'::jsonb) AS m FROM lrs WHERE g <= 6) s,
                uba_linreg_coefficients(s.m) c JOIN ref r ON r.rows = 6 AND r.feature = c.feature
            WHERE pg_temp.rel(c.std_error, r.std_error) < 1e-9 AND pg_temp.rel(c.p_value, r.p_value) < 1e-9), 4::bigint,
	'six rows (2 degrees of freedom): standard errors and p-values equal numpy/scipy to 1e-9');
SELECT throws_ok($$SELECT * FROM uba_linreg_coefficients('\x00')$$, '22P03', NULL, 'a value that is not a model');
SELECT throws_ok($$SELECT * FROM uba_linreg_coefficients((SELECT uba_kmeans(f, 2) FROM lrs))$$, '42809', NULL,
	'a model of another kind');
-- a model written before the statistics existed (0.1.0) still reads: coefficients, no statistics
CREATE TEMP TABLE old (kind text, model_hex text);
\copy old FROM 'test/data/models_0_1_0.csv' WITH (FORMAT csv, HEADER)
SELECT ok((SELECT count(*) > 0 AND bool_and(std_error IS NULL)
             FROM old, uba_linreg_coefficients(decode(old.model_hex, 'hex')) WHERE old.kind = 'linreg'),
	'a 0.1.0 ridge model: coefficients without statistics');

SELECT * FROM finish();
ROLLBACK;
