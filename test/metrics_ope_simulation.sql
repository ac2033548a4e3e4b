-- Off-policy evaluation (src/metrics/ope.c) on simulated logs whose true policy value is known.
-- The simulator: contexts x ~ N(0, I_2); three actions with expected reward mu(x, a) = c_a +
-- beta_a . x (c = 0.5, 0.3, 0.1; beta = (1, 0), (0, 1), (0.5, 0.5)) and N(0, 1) noise; the
-- logging policy a softmax of s_a . x / 2 (s = (1, 0), (0, 1), (-0.5, -0.5)) whose propensities
-- are logged; the target policy epsilon-greedy (0.1) on the true mu.  Its value, 0.9 E[max_a mu]
-- + 0.1 E[mean_a mu], is computed from a million contexts.  200 seeded logs of 2,000 decisions:
-- IPS, SNIPS and DR (reward model: per-action means of the log, deliberately misspecified) must
-- cover the truth with their 95% intervals as often as a 95% interval does: in at least 92% of
-- the logs (95% less two binomial standard errors of a coverage measured on 200 logs, 1.5%).
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(12);
-- logs simulated: 200 in the test suite; `psql -v runs=1000 -f test/metrics_ope_simulation.sql` for a tighter coverage figure
\if :{?runs}
\else
\set runs 200
\endif

CREATE FUNCTION pg_temp.mu(x1 float8, x2 float8, a int) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
	SELECT (ARRAY[0.5, 0.3, 0.1])[a + 1] + (ARRAY[1, 0, 0.5])[a + 1] * x1 + (ARRAY[0, 1, 0.5])[a + 1] * x2
$$;
CREATE FUNCTION pg_temp.target(x1 float8, x2 float8, a int) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
	SELECT 0.1 / 3 + CASE WHEN a = (SELECT b FROM generate_series(0, 2) b ORDER BY pg_temp.mu(x1, x2, b) DESC LIMIT 1)
	                      THEN 0.9 ELSE 0 END
$$;

-- the truth, from a million contexts
SELECT setseed(0.11);
CREATE TEMP TABLE truth AS
SELECT avg(0.9 * greatest(pg_temp.mu(x1, x2, 0), pg_temp.mu(x1, x2, 1), pg_temp.mu(x1, x2, 2))
           + 0.1 * (pg_temp.mu(x1, x2, 0) + pg_temp.mu(x1, x2, 1) + pg_temp.mu(x1, x2, 2)) / 3) AS value
  FROM (SELECT sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS x1,
               sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS x2
          FROM generate_series(1, 1000000)) c;

-- 200 logs of 2,000 decisions
SELECT setseed(0.22);
CREATE TEMP TABLE ctx AS
SELECT run, i, sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS x1,
       sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS x2, random() AS u,
       sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS noise
  FROM generate_series(1, :runs) run, generate_series(1, 2000) i;
CREATE TEMP TABLE logged AS
WITH p AS (
	SELECT *, exp(x1 / 2) AS e0, exp(x2 / 2) AS e1, exp(-(x1 + x2) / 4) AS e2 FROM ctx),
chosen AS (
	SELECT *, CASE WHEN u < e0 / (e0 + e1 + e2) THEN 0 WHEN u < (e0 + e1) / (e0 + e1 + e2) THEN 1 ELSE 2 END AS a FROM p)
SELECT run, i, x1, x2, a,
       (ARRAY[e0, e1, e2])[a + 1] / (e0 + e1 + e2) AS propensity,
       pg_temp.mu(x1, x2, a) + noise AS reward,
       pg_temp.target(x1, x2, a) AS target_probability
  FROM chosen;
-- the reward model: per-action means of each log
CREATE TEMP TABLE scored AS
SELECT l.*, m.means[a + 1] AS predicted,
       pg_temp.target(x1, x2, 0) * m.means[1] + pg_temp.target(x1, x2, 1) * m.means[2]
         + pg_temp.target(x1, x2, 2) * m.means[3] AS target_expected
  FROM logged l
  JOIN (SELECT run, ARRAY[avg(reward) FILTER (WHERE a = 0), avg(reward) FILTER (WHERE a = 1),
                          avg(reward) FILTER (WHERE a = 2)] AS means FROM logged GROUP BY run) m USING (run);

CREATE TEMP TABLE estimates AS
SELECT run, uba_ope_ips(reward, propensity, target_probability) AS ips,
       uba_ope_snips(reward, propensity, target_probability) AS snips,
       uba_ope_dr(reward, propensity, target_probability, predicted, target_expected) AS dr,
       avg(reward) AS logged_value
  FROM scored GROUP BY run;

SELECT ok((SELECT avg(((ips).lower <= value AND value <= (ips).upper)::int) FROM estimates, truth) >= 0.92,
	'IPS''s 95% intervals cover the true value in ' || :runs || ' logs as a 95% interval should (>= 0.92): ' ||
	(SELECT avg(((ips).lower <= value AND value <= (ips).upper)::int) FROM estimates, truth));
SELECT ok((SELECT avg(((snips).lower <= value AND value <= (snips).upper)::int) FROM estimates, truth) >= 0.92,
	'SNIPS''s cover it: ' || (SELECT avg(((snips).lower <= value AND value <= (snips).upper)::int) FROM estimates, truth));
SELECT ok((SELECT avg(((dr).lower <= value AND value <= (dr).upper)::int) FROM estimates, truth) >= 0.92,
	'DR''s (a misspecified reward model) cover it: ' || (SELECT avg(((dr).lower <= value AND value <= (dr).upper)::int) FROM estimates, truth));
SELECT ok((SELECT avg((dr).upper - (dr).lower) < avg((ips).upper - (ips).lower) FROM estimates),
	'DR''s intervals are narrower than IPS''s');
SELECT ok((SELECT abs(avg((ips).estimate) - min(value)) < 0.01 AND abs(avg((dr).estimate) - min(value)) < 0.01 FROM estimates, truth),
	'IPS and DR are unbiased: their mean over the logs within 0.01 of the truth');
SELECT ok((SELECT avg(logged_value) < min(value) - 0.1 FROM estimates, truth),
	'the naive mean of the logged rewards is the logging policy''s value, far from the target''s');

-- the estimators' arithmetic against plain SQL on one log (to 1e-9)
CREATE TEMP TABLE one AS SELECT *, target_probability / propensity AS w FROM scored WHERE run = 1;
SELECT ok((SELECT abs((uba_ope_ips(reward, propensity, target_probability)).estimate - avg(w * reward)) < 1e-9 * abs(avg(w * reward))
              AND abs((uba_ope_ips(reward, propensity, target_probability)).std_error - stddev_samp(w * reward) / sqrt(count(*)))
                  < 1e-9 * stddev_samp(w * reward) / sqrt(count(*)) FROM one),
	'IPS: the mean of w r and its standard error, as plain SQL computes them');
SELECT ok((SELECT abs((uba_ope_snips(reward, propensity, target_probability)).estimate - v) < 1e-9 * abs(v)
              AND abs((uba_ope_snips(reward, propensity, target_probability)).std_error - se) < 1e-9 * se
             FROM one, (SELECT sum(w * reward) / sum(w) AS v FROM one) x,
                  LATERAL (SELECT sqrt(sum(w * w * (reward - v) ^ 2)) / sum(w) AS se FROM one) y
            GROUP BY v, se),
	'SNIPS: sum w r / sum w and its delta-method standard error');
SELECT ok((SELECT abs((uba_ope_dr(reward, propensity, target_probability, predicted, target_expected)).estimate - avg(t)) < 1e-9 * abs(avg(t))
              AND abs((uba_ope_dr(reward, propensity, target_probability, predicted, target_expected)).std_error - stddev_samp(t) / sqrt(count(*)))
                  < 1e-9 * stddev_samp(t) / sqrt(count(*))
             FROM (SELECT *, target_expected + w * (reward - predicted) AS t FROM one) d),
	'DR: the mean of the reward model''s expectation plus weighted residuals, and its standard error');
SELECT ok((SELECT ((n).upper - (n).lower) / ((w).upper - (w).lower) BETWEEN 0.8392264 AND 0.8392265
             FROM (SELECT uba_ope_dr(reward, propensity, target_probability, predicted, target_expected, '{"alpha": 0.1}'::jsonb) AS n,
                          uba_ope_dr(reward, propensity, target_probability, predicted, target_expected) AS w FROM one) x),
	'alpha 0.1: the normal interval is z(0.95) / z(0.975) = 0.839 of the 95% one');
-- the bootstrap: seeded, independent of the rows' order, around the estimate
SELECT is((SELECT (uba_ope_snips(reward, propensity, target_probability, '{"interval": "bootstrap", "seed": 7}'::jsonb)).lower FROM one),
          (SELECT (uba_ope_snips(reward, propensity, target_probability, '{"interval": "bootstrap", "seed": 7}'::jsonb)).lower
             FROM (SELECT * FROM one ORDER BY reward DESC) o),
	'a seeded bootstrap does not depend on the rows'' order');
SELECT ok((SELECT (b).lower < (b).estimate AND (b).estimate < (b).upper
              AND abs(((b).upper - (b).lower) / ((n).upper - (n).lower) - 1) < 0.25
             FROM (SELECT uba_ope_ips(reward, propensity, target_probability, '{"interval": "bootstrap"}'::jsonb) AS b,
                          uba_ope_ips(reward, propensity, target_probability) AS n FROM one) x),
	'the bootstrap interval holds the estimate and is about as wide as the normal one');

SELECT * FROM finish();
ROLLBACK;
