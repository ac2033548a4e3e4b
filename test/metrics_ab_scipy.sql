-- A/B test readouts (src/metrics/abtest.c, abplan.c) against an independent reference
-- (bench/ab_reference.py: scipy's Welch test and t quantiles, Holm, the delta method, CUPED,
-- exact Beta-binomial chance to win and expected loss, scipy's chi-square SRM test, and
-- statsmodels' NormalIndPower re-implemented on scipy) on committed fixtures: every figure to a
-- relative 1e-9 (absolute 1e-12 near 0); the sample size as the reference's rounded up.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(27);
\ir lib/plan_of.sql

CREATE TEMP TABLE ab (experiment text, unit_id int, variant text, value float8, covariate float8, converted boolean);
\copy ab FROM 'test/data/ab_fixture.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE ref (experiment text, "case" text, variant text, units bigint, mean float8, std_dev float8,
	adjusted_mean float8, lift float8, lift_lower float8, lift_upper float8, relative_lift float8,
	relative_lift_lower float8, relative_lift_upper float8, p_value float8, p_value_adjusted float8,
	chance_to_win float8, expected_loss float8, srm_p_value float8);
\copy ref FROM 'test/data/ab_reference.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE plan_ref (kind text, baseline float8, std_dev float8, relative_mde float8, alpha float8,
	power float8, variants int, units_per_variant float8, mde_units float8, mde_expected float8);
\copy plan_ref FROM 'test/data/ab_plan_reference.csv' WITH (FORMAT csv, HEADER)

-- uba's readouts, one row per (experiment, case, variant)
CREATE TEMP TABLE got AS
SELECT experiment, 'welch' AS "case", (r).* FROM
  (SELECT experiment, unnest(uba_ab_test(variant, value)) AS r FROM ab GROUP BY experiment) s
UNION ALL
SELECT experiment, 'cuped', (r).* FROM
  (SELECT experiment, unnest(uba_ab_test(variant, value, covariate)) AS r FROM ab GROUP BY experiment) s
UNION ALL
SELECT experiment, 'capped', (r).* FROM
  (SELECT experiment, unnest(uba_ab_test(variant, value, '{"cap_upper": 200}'::jsonb)) AS r FROM ab
    WHERE experiment = 'means' GROUP BY experiment) s
UNION ALL
SELECT experiment, 'proportion', (r).* FROM
  (SELECT experiment, unnest(uba_ab_test(variant, converted)) AS r FROM ab
    WHERE experiment IN ('conv', 'means') GROUP BY experiment) s
UNION ALL
SELECT experiment, 'srm_weights', (r).* FROM
  (SELECT experiment, unnest(uba_ab_test(variant, value, '{"weights": {"control": 0.6, "treatment": 0.4}}'::jsonb)) AS r
     FROM ab WHERE experiment = 'small' GROUP BY experiment) s;

-- |got - want| within 1e-9 relative (1e-12 absolute); both NULL counts as equal
CREATE FUNCTION pg_temp.near(got float8, want float8) RETURNS boolean LANGUAGE sql AS $$
	SELECT (got IS NULL AND want IS NULL) OR abs(got - want) <= greatest(1e-9 * abs(want), 1e-12)
$$;
CREATE TEMP VIEW cmp AS
SELECT r.experiment, r."case", r.variant, g.variant IS NOT NULL AS found,
       r.units = g.units AS units,
       pg_temp.near(g.mean, r.mean) AND pg_temp.near(g.std_dev, r.std_dev) AND pg_temp.near(g.adjusted_mean, r.adjusted_mean) AS means,
       pg_temp.near(g.lift, r.lift) AND pg_temp.near(g.lift_lower, r.lift_lower) AND pg_temp.near(g.lift_upper, r.lift_upper) AS lift,
       pg_temp.near(g.relative_lift, r.relative_lift) AND pg_temp.near(g.relative_lift_lower, r.relative_lift_lower)
         AND pg_temp.near(g.relative_lift_upper, r.relative_lift_upper) AS relative,
       pg_temp.near(g.p_value, r.p_value) AND pg_temp.near(g.p_value_adjusted, r.p_value_adjusted) AS p,
       pg_temp.near(g.chance_to_win, r.chance_to_win) AND pg_temp.near(g.expected_loss, r.expected_loss) AS bayes,
       pg_temp.near(g.srm_p_value, r.srm_p_value) AS srm
  FROM ref r LEFT JOIN got g USING (experiment, "case", variant);

SELECT is((SELECT count(*) FROM cmp WHERE found), (SELECT count(*) FROM ref), 'every reference row has a readout row');
SELECT is(ARRAY(SELECT experiment || '/' || variant FROM cmp WHERE "case" = 'welch' AND NOT (units AND means) ORDER BY 1), '{}',
	'units, means and standard deviations');
SELECT is(ARRAY(SELECT experiment || '/' || variant FROM cmp WHERE "case" = 'welch' AND NOT lift ORDER BY 1), '{}',
	'Welch: the absolute lift and its interval (t quantile at Welch''s df, Bonferroni across treatments), to 1e-9');
SELECT is(ARRAY(SELECT experiment || '/' || variant FROM cmp WHERE "case" = 'welch' AND NOT relative ORDER BY 1), '{}',
	'Welch: the relative lift and its delta-method interval');
SELECT is(ARRAY(SELECT experiment || '/' || variant FROM cmp WHERE "case" = 'welch' AND NOT p ORDER BY 1), '{}',
	'Welch: p-values equal scipy.stats.ttest_ind(equal_var=False), Holm-adjusted across treatments');
SELECT is(ARRAY(SELECT experiment || '/' || variant FROM cmp WHERE "case" = 'welch' AND NOT bayes ORDER BY 1), '{}',
	'normal posterior: chance to win and expected loss');
SELECT is(ARRAY(SELECT experiment || '/' || variant FROM cmp WHERE "case" = 'welch' AND NOT srm ORDER BY 1), '{}',
	'the sample ratio check equals scipy.stats.chisquare');
SELECT is(ARRAY(SELECT experiment || '/' || variant FROM cmp WHERE "case" = 'cuped'
                   AND NOT (units AND means AND lift AND relative AND p AND bayes AND srm) ORDER BY 1), '{}',
	'CUPED: theta over all units, Welch on the adjusted values: every figure');
SELECT is(ARRAY(SELECT experiment || '/' || variant FROM cmp WHERE "case" = 'capped'
                   AND NOT (units AND means AND lift AND relative AND p AND bayes) ORDER BY 1), '{}',
	'winsorized at 200: every figure');
SELECT is(ARRAY(SELECT experiment || '/' || variant FROM cmp WHERE "case" = 'proportion'
                   AND NOT (units AND means AND lift AND relative AND p) ORDER BY 1), '{}',
	'conversions: Welch on proportions');
SELECT is(ARRAY(SELECT experiment || '/' || variant FROM cmp WHERE "case" = 'proportion' AND NOT bayes ORDER BY 1), '{}',
	'conversions: exact Beta-binomial chance to win and expected loss');
SELECT is(ARRAY(SELECT experiment || '/' || variant FROM cmp WHERE "case" = 'srm_weights' AND NOT srm ORDER BY 1), '{}',
	'the sample ratio check against planned weights 0.6 / 0.4');
-- CUPED must narrow the interval where the covariate predicts the value
SELECT ok((SELECT bool_and(c.lift_upper - c.lift_lower < w.lift_upper - w.lift_lower)
             FROM got c JOIN got w USING (experiment, variant)
            WHERE c."case" = 'cuped' AND w."case" = 'welch' AND NOT c.is_control AND experiment <> 'conv'),
	'CUPED narrows every interval of the fixtures with a predictive covariate');

-- the control: by name "control", or the option; the order of rows: control first
SELECT is((SELECT array_agg((r).variant) FROM (SELECT unnest(uba_ab_test(variant, value)) r FROM ab WHERE experiment = 'means') s),
	ARRAY['control', 'b', 'c'], 'the control first, then the treatments by name');
SELECT is((SELECT (r).variant FROM (SELECT unnest(uba_ab_test(variant, value, '{"control": "b"}'::jsonb)) r
             FROM ab WHERE experiment = 'means') s WHERE (r).is_control), 'b', 'the option "control"');
-- parallel: partial states merged give the same readout
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
-- (a table of the transaction, not a temporary one: parallel workers cannot read those)
CREATE TABLE ab_big AS SELECT * FROM ab WHERE experiment = 'means';
ALTER TABLE ab_big SET (parallel_workers = 2);
ANALYZE ab_big;
SELECT matches(pg_temp.plan_of('SELECT uba_ab_test(variant, value, covariate) FROM ab_big'), 'Partial Aggregate',
	'the readout is a parallel aggregate');
SELECT ok((SELECT bool_and(pg_temp.near((p).p_value, (s).p_value) AND pg_temp.near((p).lift_lower, (s).lift_lower))
             FROM (SELECT unnest((SELECT uba_ab_test(variant, value, covariate) FROM ab_big)) p,
                          unnest((SELECT uba_ab_test(variant, value, covariate) FROM (SELECT * FROM ab_big ORDER BY unit_id OFFSET 0) o)) s) x),
	'merged partial states (parallel workers) give the readout of one pass');
RESET parallel_setup_cost;

-- sequential intervals are wider than fixed-horizon ones and give no p-value
SELECT ok((SELECT bool_and(s.lift_upper - s.lift_lower > f.lift_upper - f.lift_lower AND s.p_value IS NULL)
             FROM unnest((SELECT uba_ab_test(variant, value, '{"sequential": true}'::jsonb) FROM ab WHERE experiment = 'means')) s
             JOIN unnest((SELECT uba_ab_test(variant, value) FROM ab WHERE experiment = 'means')) f USING (variant)
            WHERE NOT s.is_control), 'sequential intervals: wider, no p-value');

-- the other options: corrections, alpha, the SRM threshold, a lower cap
CREATE TEMP TABLE opt AS
SELECT (SELECT uba_ab_test(variant, value) FROM ab WHERE experiment = 'means') AS holm,
       (SELECT uba_ab_test(variant, value, '{"correction": "bonferroni"}'::jsonb) FROM ab WHERE experiment = 'means') AS bonferroni,
       (SELECT uba_ab_test(variant, value, '{"correction": "none"}'::jsonb) FROM ab WHERE experiment = 'means') AS none,
       (SELECT uba_ab_test(variant, value, '{"alpha": 0.2}'::jsonb) FROM ab WHERE experiment = 'small') AS alpha20,
       (SELECT uba_ab_test(variant, value) FROM ab WHERE experiment = 'small') AS alpha05;
SELECT ok((SELECT bool_and(pg_temp.near((n).p_value_adjusted, (n).p_value)
                           AND pg_temp.near((b).p_value_adjusted, least(1, 2 * (b).p_value)))
             FROM opt, unnest(none) n, unnest(bonferroni) b WHERE (n).variant = (b).variant AND NOT (n).is_control),
	'correction none leaves p-values alone; bonferroni multiplies them by the treatments (2), at most 1');
SELECT ok((SELECT bool_and((n).lift_upper - (n).lift_lower > (h).lift_upper - (h).lift_lower)
             FROM opt, unnest(none) n, unnest(holm) h WHERE (n).variant = (h).variant AND NOT (n).is_control) IS FALSE
          AND (SELECT bool_and((n).lift_upper - (n).lift_lower < (h).lift_upper - (h).lift_lower)
             FROM opt, unnest(none) n, unnest(holm) h WHERE (n).variant = (h).variant AND NOT (n).is_control),
	'without a correction the intervals are at alpha, narrower than the Bonferroni ones at alpha / 2');
SELECT ok((SELECT (a).lift_upper - (a).lift_lower < (f).lift_upper - (f).lift_lower
             FROM opt, unnest(alpha20) a, unnest(alpha05) f WHERE (a).variant = (f).variant AND NOT (a).is_control),
	'alpha 0.2 gives narrower intervals than 0.05');
SELECT is((SELECT bool_and(NOT (r).srm_ok) FROM unnest((SELECT uba_ab_test(variant, value, '{"srm_threshold": 1}'::jsonb)
             FROM ab WHERE experiment = 'means')) r), true, 'srm_threshold 1: every readout flags a mismatch');
SELECT ok((SELECT abs((r).mean - (SELECT avg(greatest(value, 20)) FROM ab WHERE experiment = 'means' AND variant = 'control')) < 1e-9
             FROM unnest((SELECT uba_ab_test(variant, value, '{"cap_lower": 20}'::jsonb) FROM ab WHERE experiment = 'means')) r
            WHERE (r).is_control),
	'cap_lower raises values below it to it');

-- planning: statsmodels' NormalIndPower (re-implemented on scipy in bench/ab_reference.py)
SELECT is(ARRAY(SELECT kind || baseline FROM plan_ref
                 WHERE uba_ab_sample_size(baseline, relative_mde, std_dev, alpha, power, variants) <> ceil(units_per_variant)),
	'{}', 'uba_ab_sample_size is the reference''s units per variant, rounded up (8 plans)');
SELECT is(ARRAY(SELECT kind || baseline FROM plan_ref
                 WHERE NOT pg_temp.near(uba_ab_mde(mde_units, baseline, std_dev, alpha, power, variants), mde_expected)),
	'{}', 'uba_ab_mde is the reference''s relative MDE to 1e-9 (8 plans)');
SELECT is(uba_ab_sample_size(0.1, 0.1), uba_ab_sample_size(0.1, 0.1, NULL, 0.05, 0.8, 2), 'defaults: alpha 0.05, power 0.8, two variants');
SELECT throws_ok($$SELECT uba_ab_sample_size(1.5, 0.1)$$, '22023', 'a baseline proportion must be between 0 and 1', 'a proportion above 1');

SELECT * FROM finish();
ROLLBACK;
