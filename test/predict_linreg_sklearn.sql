-- uba_linreg_train against scikit-learn 1.2's Ridge (bench/linreg_reference.py) on the Online
-- Shoppers sessions: predictions equal to 1e-9 relative (they agree to about 1e-15)
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(8);

\i test/data/shoppers.sql
CREATE TEMP TABLE ref (case_name text, options jsonb, session int, prediction float8);
\copy ref FROM 'test/data/linreg_reference.csv' WITH (FORMAT csv, HEADER)
SELECT is((SELECT count(*) FROM ref), 6165::bigint, 'all reference predictions loaded');

CREATE TEMP TABLE models AS
SELECT c.case_name,
       (SELECT uba_linreg_train(product_related_duration,
               ARRAY[product_related, page_values, exit_rates, weekend::int]::float8[], c.options)
          FROM shoppers) AS m
  FROM (SELECT DISTINCT case_name, options FROM ref) c;

SELECT cmp_ok(
	(SELECT max(abs(uba_linreg_predict(m.m, ARRAY[s.product_related, s.page_values, s.exit_rates,
			s.weekend::int]::float8[]) - r.prediction)) / max(abs(r.prediction))
	   FROM ref r JOIN shoppers s USING (session) JOIN models m USING (case_name)
	  WHERE r.case_name = c),
	'<=', 1e-9::float8, 'predictions equal scikit-learn Ridge to 1e-9: ' || c)
  FROM unnest(ARRAY['standardized', 'raw', 'strong_no_intercept', 'raw_no_intercept', 'least_squares']) c;

-- a parallel plan sends only the moments, and gives the same predictions to rounding
\i test/lib/parallel_plans.sql
SELECT ok(pg_temp.plan_of($$SELECT uba_linreg_train(product_related_duration, ARRAY[page_values]) FROM shoppers$$)
	LIKE '%Partial Aggregate%', 'training runs as a partial aggregate in parallel workers');
SELECT cmp_ok(
	(SELECT max(abs(uba_linreg_predict((SELECT uba_linreg_train(product_related_duration,
			ARRAY[product_related, page_values, exit_rates, weekend::int]::float8[]) FROM shoppers),
			ARRAY[s.product_related, s.page_values, s.exit_rates, s.weekend::int]::float8[]) - r.prediction))
	   / max(abs(r.prediction))
	   FROM ref r JOIN shoppers s USING (session) WHERE r.case_name = 'standardized'),
	'<=', 1e-9::float8, 'the parallel plan gives the same predictions');

SELECT * FROM finish();
ROLLBACK;
