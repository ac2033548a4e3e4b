-- uba_logreg_train against scikit-learn 1.2 (bench/logreg_reference.py) on the Online Shoppers
-- sessions: predicted probabilities equal to 1e-6 for every case (they agree to about 1e-11)
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(11);

\i test/data/shoppers.sql
CREATE TEMP TABLE ref (case_name text, options jsonb, session int, probability float8);
\copy ref FROM 'test/data/logreg_reference.csv' WITH (FORMAT csv, HEADER)

SELECT is((SELECT count(*) FROM shoppers), 12330::bigint, 'all sessions loaded');
SELECT is((SELECT count(*) FROM ref), 6165::bigint, 'all reference probabilities loaded');

CREATE TEMP TABLE models AS
SELECT c.case_name, c.options,
       (SELECT uba_logreg_train(revenue, ARRAY[product_related, product_related_duration, page_values,
                                               exit_rates, weekend::int]::float8[], c.options)
          FROM shoppers) AS m
  FROM (SELECT DISTINCT case_name, options FROM ref) c;

SELECT cmp_ok(
	(SELECT max(abs(uba_logreg_predict(m.m, ARRAY[s.product_related, s.product_related_duration,
			s.page_values, s.exit_rates, s.weekend::int]::float8[]) - r.probability))
	   FROM ref r JOIN shoppers s USING (session) JOIN models m USING (case_name)
	  WHERE r.case_name = c),
	'<=', 1e-6::float8, 'probabilities equal scikit-learn to 1e-6: ' || c)
  FROM unnest(ARRAY['standardized', 'balanced_l2_2', 'raw', 'weak_l2', 'no_intercept']) c;

SELECT ok(bool_and((uba_model_info(m)->>'converged')::boolean), 'every case converged') FROM models;
SELECT cmp_ok((SELECT max((uba_model_info(m)->>'iterations')::int) FROM models), '<=', 20,
	'Newton needs few iterations');

-- the same model from a parallel plan (rows reach the final function in another order)
-- The planner keeps row-collecting aggregates out of parallel plans (a high
-- COST on their state serialization); lower it to test the parallel path.
ALTER FUNCTION uba_rowset_serialize(internal) COST 1;
ALTER FUNCTION uba_rowset_deserialize(bytea, internal) COST 1;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SELECT is(
	(SELECT substring(uba_logreg_train(revenue, ARRAY[product_related, product_related_duration, page_values,
	        exit_rates, weekend::int]::float8[]) from 81) FROM shoppers),
	(SELECT substring(m from 81) FROM models WHERE case_name = 'standardized'),
	'a parallel plan gives the same model, byte for byte');
SELECT is((SELECT uba_auc(uba_logreg_predict((SELECT m FROM models WHERE case_name = 'standardized'),
	ARRAY[product_related, product_related_duration, page_values, exit_rates, weekend::int]::float8[]), revenue)
	  FROM shoppers) > 0.85, true, 'the standardized model ranks buyers well (AUC above 0.85)');

SELECT * FROM finish();
ROLLBACK;
