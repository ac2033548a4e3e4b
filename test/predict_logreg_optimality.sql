-- Logistic regression reaches the optimum on a training set large enough for the warm start
-- (from 200,000 rows, Newton's method starts from the optimum of a 1/16 sample): the
-- optimality conditions are checked in SQL, from the models' own predictions.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(9);

-- 250,000 rows, five features (the fifth has no effect), labels drawn from a logistic model
CREATE TEMP TABLE big AS
SELECT i, x, u < 1 / (1 + exp(-(0.8 * x[1] - 0.5 * x[2] + 0.3 * x[3] * x[4] - 0.7))) AS label
  FROM (SELECT i,
	           ARRAY[sin(t * 0.37) * 2, cos(t * 0.11), (i % 97) / 97.0::float8 - 0.5, sin(t * 1.3) + cos(t * 0.07),
	                 sin(t * 2.9) * 0.5] AS x,
	           abs(sin(t * 12.9898) * 43758.5453) - floor(abs(sin(t * 12.9898) * 43758.5453)) AS u
	      FROM generate_series(1, 250000) i, LATERAL (SELECT i::float8 AS t) c) s;

CREATE TEMP TABLE models AS
SELECT 'l2' AS fit, 1.0::float8 AS l2, 0.0::float8 AS l1, false AS balanced,
       uba_logreg_train(label, x, '{"standardize": false}') AS m FROM big
UNION ALL
SELECT 'l1', 0, 400, false, uba_logreg_train(label, x, '{"standardize": false, "l2": 0, "l1": 400}') FROM big
UNION ALL
SELECT 'balanced', 10, 0, true,
       uba_logreg_train(label, x, '{"standardize": false, "l2": 10, "class_weight": "balanced"}') FROM big;

-- per model and parameter (0 = intercept): the coefficient w, and the gradient of the data
-- term sum_i s_i (p_i - y_i) x_ij divided by the total weight S
CREATE FUNCTION pg_temp.gradient(m bytea, balanced boolean) RETURNS TABLE (total float8, g float8[])
LANGUAGE sql AS $$
	WITH counts AS (SELECT count(*)::float8 AS n, count(*) FILTER (WHERE label)::float8 AS npos FROM big)
	SELECT sum(s), ARRAY[sum(s * r), sum(s * r * x[1]), sum(s * r * x[2]), sum(s * r * x[3]),
	                     sum(s * r * x[4]), sum(s * r * x[5])]
	  FROM (SELECT b.x, uba_logreg_predict(m, b.x) - b.label::int AS r,
	               CASE WHEN NOT balanced THEN 1
	                    WHEN b.label THEN c.n / (2 * c.npos) ELSE c.n / (2 * (c.n - c.npos)) END AS s
	          FROM big b, counts c) t
$$;
CREATE TEMP TABLE grad AS
SELECT mo.fit, gr.total, gr.g FROM models mo, LATERAL pg_temp.gradient(mo.m, mo.balanced) gr;
CREATE TEMP TABLE kkt AS
SELECT g.fit, c.feature, g.g[c.feature + 1] / g.total AS g, g.total, mo.l2, mo.l1, c.coefficient AS w
  FROM grad g JOIN models mo USING (fit)
  CROSS JOIN LATERAL uba_logreg_coefficients(mo.m) c;

-- l2: the gradient of the penalized objective vanishes, intercept included
SELECT ok((SELECT max(abs(g + CASE WHEN feature > 0 THEN l2 * w / total ELSE 0 END)) FROM kkt WHERE fit = 'l2') < 1e-9,
	'l2 fit: the gradient is zero at the fitted coefficients');
SELECT ok((SELECT max(abs(g + CASE WHEN feature > 0 THEN l2 * w / total ELSE 0 END)) FROM kkt WHERE fit = 'balanced') < 1e-9,
	'balanced class weights: the weighted gradient is zero');
-- l1: each nonzero coefficient balances its gradient with lambda sign(w); a zero one has a
-- gradient within +-lambda
SELECT ok((SELECT max(abs(g + CASE WHEN feature > 0 THEN l1 * sign(w) / total ELSE 0 END))
	   FROM kkt WHERE fit = 'l1' AND (feature = 0 OR w <> 0)) < 1e-9,
	'l1 fit: nonzero coefficients satisfy the optimality condition');
SELECT ok((SELECT bool_and(abs(g) <= l1 / total) FROM kkt WHERE fit = 'l1' AND feature > 0 AND w = 0),
	'l1 fit: zero coefficients have a gradient within the penalty');
SELECT is((SELECT array_agg(feature ORDER BY feature) FROM kkt WHERE fit = 'l1' AND feature > 0 AND w = 0),
	ARRAY[3, 4, 5],
	'l1 fit: the features without a linear effect (the third and fourth act only as a product) are zero');
SELECT is((SELECT count(*) FROM kkt WHERE fit = 'l2' AND feature > 0 AND w = 0), 0::bigint,
	'l2 fit: no coefficient is zero');

-- every model converged, and from the sample's optimum Newton needed few passes over all rows
SELECT ok((SELECT bool_and((uba_model_info(m)->>'converged')::boolean) FROM models), 'all three converged');
SELECT cmp_ok((SELECT (uba_model_info(m)->>'iterations')::int FROM models WHERE fit = 'l2'), '<=', 4,
	'the warm-started l2 fit takes at most 4 Newton iterations on all rows');
SELECT cmp_ok((SELECT (uba_model_info(m)->>'iterations')::int FROM models WHERE fit = 'balanced'), '<=', 4,
	'the warm-started balanced fit takes at most 4 Newton iterations');

SELECT * FROM finish();
ROLLBACK;
