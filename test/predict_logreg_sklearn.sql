-- uba_logreg_train against scikit-learn 1.2 (bench/logreg_reference.py) on two real data sets:
-- the Online Shoppers sessions (5 numeric features, Month and VisitorType one-hot) and the
-- breast cancer set (30 features).  Predicted probabilities equal to 1e-6 for every case:
-- l2 (standardized and raw), balanced and explicit class weights, no intercept, l1 and elastic net.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(25);

\i test/data/shoppers.sql
CREATE TEMP TABLE bc (id int, f1 float8, f2 float8, f3 float8, f4 float8, f5 float8, f6 float8, f7 float8, f8 float8, f9 float8, f10 float8, f11 float8, f12 float8, f13 float8, f14 float8, f15 float8, f16 float8, f17 float8, f18 float8, f19 float8, f20 float8, f21 float8, f22 float8, f23 float8, f24 float8, f25 float8, f26 float8, f27 float8, f28 float8, f29 float8, f30 float8, benign boolean);
\copy bc FROM 'test/data/breast_cancer.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE ref (dataset text, case_name text, options jsonb, id int, probability float8);
\copy ref FROM 'test/data/logreg_reference.csv' WITH (FORMAT csv, HEADER)

-- both data sets as (dataset, id, label, features)
CREATE TEMP VIEW lr_data AS
SELECT 'shoppers' AS dataset, session AS id, revenue AS label,
	ARRAY[product_related, product_related_duration, page_values, exit_rates, weekend::int,
		(month = 'Feb')::int, (month = 'Mar')::int, (month = 'May')::int, (month = 'June')::int, (month = 'Jul')::int, (month = 'Aug')::int, (month = 'Sep')::int, (month = 'Oct')::int, (month = 'Nov')::int, (month = 'Dec')::int,
		(visitor_type = 'Returning_Visitor')::int, (visitor_type = 'New_Visitor')::int, (visitor_type = 'Other')::int]::float8[] AS x
  FROM shoppers
UNION ALL
SELECT 'breast_cancer', id, benign, ARRAY[f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22, f23, f24, f25, f26, f27, f28, f29, f30]::float8[]
  FROM bc;

SELECT is((SELECT count(*) FROM shoppers), 12330::bigint, 'all sessions loaded');
SELECT is((SELECT count(*) FROM bc), 569::bigint, 'all breast cancer rows loaded');
SELECT is((SELECT count(*) FROM ref), 14416::bigint, 'all reference probabilities loaded');

CREATE TEMP TABLE models AS
SELECT c.dataset, c.case_name, c.options,
       (SELECT uba_logreg_train(label, x, c.options) FROM lr_data d WHERE d.dataset = c.dataset) AS m
  FROM (SELECT DISTINCT dataset, case_name, options FROM ref) c;

SELECT cmp_ok(
	(SELECT max(abs(uba_logreg_predict(m.m, d.x) - r.probability))
	   FROM ref r JOIN lr_data d USING (dataset, id) JOIN models m USING (dataset, case_name)
	  WHERE r.dataset = c.dataset AND r.case_name = c.case_name),
	'<=', 1e-6::float8, format('probabilities equal scikit-learn to 1e-6: %s %s', c.dataset, c.case_name))
  FROM (SELECT DISTINCT dataset, case_name FROM ref ORDER BY 1, 2) c;

SELECT ok(bool_and((uba_model_info(m)->>'converged')::boolean), 'every case converged') FROM models;
SELECT cmp_ok((SELECT max((uba_model_info(m)->>'iterations')::int) FROM models), '<=', 25,
	'Newton and proximal Newton need few iterations');
-- l1 zeroes coefficients, as in scikit-learn (16 of 18 and 13 of 30 stay nonzero there)
SELECT is((SELECT array_agg((uba_model_info(m)->>'nonzero_coefficients')::int ORDER BY dataset)
             FROM models WHERE case_name = 'l1'), ARRAY[13, 16],
	'l1 keeps as many nonzero coefficients as scikit-learn: 13 (breast cancer), 16 (shoppers)');

-- the same model from a parallel plan (rows reach the final function in another order)
\i test/lib/parallel_plans.sql
SELECT ok(pg_temp.plan_of($$SELECT uba_logreg_train(revenue, ARRAY[page_values]) FROM shoppers$$)
          LIKE '%Partial Aggregate%', 'the parallel plan aggregates partially');
SELECT is(
	(SELECT substring(uba_logreg_train(revenue, ARRAY[product_related, product_related_duration, page_values, exit_rates, weekend::int,
		(month = 'Feb')::int, (month = 'Mar')::int, (month = 'May')::int, (month = 'June')::int, (month = 'Jul')::int, (month = 'Aug')::int, (month = 'Sep')::int, (month = 'Oct')::int, (month = 'Nov')::int, (month = 'Dec')::int,
		(visitor_type = 'Returning_Visitor')::int, (visitor_type = 'New_Visitor')::int, (visitor_type = 'Other')::int]::float8[]) from 81) FROM shoppers),
	(SELECT substring(m from 81) FROM models WHERE dataset = 'shoppers' AND case_name = 'standardized'),
	'a parallel plan gives the same model, byte for byte');
SELECT is((SELECT uba_auc(uba_logreg_predict((SELECT m FROM models WHERE dataset = 'shoppers' AND case_name = 'standardized'), x), label)
	  FROM lr_data WHERE dataset = 'shoppers') > 0.85, true, 'the standardized model ranks buyers well (AUC above 0.85)');

SELECT * FROM finish();
ROLLBACK;
