-- Contextual bandits (src/decide/bandit.c) and off-policy evaluation (src/metrics/ope.c) against an
-- independent NumPy reference (bench/bandit_reference.py) on one committed decision log: LinUCB's
-- scores (theta . x, the bonus, importance-weighted), epsilon-greedy's probabilities, a cold-start
-- action, Bernoulli Thompson sampling's propensities, IPS / SNIPS / DR to 1e-9; then what can go
-- wrong: updates equal training on the longer log, merged parallel states, bad input, damaged blobs.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(45);

CREATE TEMP TABLE log (decision_id int, action bigint, x1 float8, x2 float8, x3 float8, x4 float8, x5 float8,
	reward float8, propensity float8, click int, target_probability float8, predicted_reward float8,
	target_expected_reward float8);
\copy log FROM 'test/data/bandit_log.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE ref (ctx_id int, x1 float8, x2 float8, x3 float8, x4 float8, x5 float8, action bigint, n int,
	theta_dot_x float8, ucb_bonus float8, linucb_score float8, linucb_iw_score float8, greedy_probability float8);
\copy ref FROM 'test/data/bandit_reference.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE ope_ref (estimator text, estimate float8, std_error float8, lower float8, upper float8,
	effective_sample_size float8, max_weight float8);
\copy ope_ref FROM 'test/data/ope_reference.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE ts_ref (action bigint, successes int, failures int, posterior_mean float8, ts_propensity_mc float8);
\copy ts_ref FROM 'test/data/beta_ts_reference.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE hybrid_ref (ctx_id int, x1 float8, x2 float8, x3 float8, x4 float8, x5 float8, action bigint,
	hybrid_mean float8, hybrid_bonus float8, hybrid_score float8, hybrid_iw_score float8);
\copy hybrid_ref FROM 'test/data/bandit_hybrid_reference.csv' WITH (FORMAT csv, HEADER)

CREATE FUNCTION pg_temp.near(got float8, want float8) RETURNS boolean LANGUAGE sql AS $$
	SELECT (got IS NULL AND want IS NULL) OR abs(got - want) <= greatest(1e-9 * abs(want), 1e-12)
$$;
CREATE TEMP TABLE policies AS
SELECT (SELECT uba_bandit_train(action, ARRAY[x1, x2, x3, x4, x5], reward, propensity) FROM log) AS linucb,
       (SELECT uba_bandit_train(action, ARRAY[x1, x2, x3, x4, x5], reward, propensity,
                                '{"importance_weighted": true}'::jsonb) FROM log) AS linucb_iw,
       (SELECT uba_bandit_train(action, ARRAY[x1, x2, x3, x4, x5], reward, propensity,
                                '{"method": "epsilon_greedy", "epsilon": 0.1}'::jsonb) FROM log) AS greedy,
       (SELECT uba_bandit_train(action, NULL, click, propensity, '{"method": "beta_ts"}'::jsonb) FROM log) AS beta;
CREATE TEMP TABLE contexts AS SELECT DISTINCT ctx_id, ARRAY[x1, x2, x3, x4, x5] AS x FROM ref;

-- LinUCB: every action's score for every test context (all five offered: n = 5 ranks them all)
CREATE TEMP TABLE got AS
SELECT ctx_id, c.action, c.score, c.propensity
  FROM contexts, policies, LATERAL uba_bandit_choose(linucb, x, ARRAY[10, 20, 30, 40, 50]::bigint[], '{"n": 5}'::jsonb) c;
SELECT is((SELECT count(*) FROM got), 125::bigint, 'LinUCB ranks the five actions of 25 contexts');
SELECT is(ARRAY(SELECT r.ctx_id || '/' || r.action FROM ref r JOIN got g USING (ctx_id, action)
                 WHERE NOT pg_temp.near(g.score, r.linucb_score) ORDER BY 1), '{}',
	'LinUCB scores theta . x + alpha sqrt(x'' A^-1 x) equal NumPy''s to 1e-9 (the cold-start action 50 too)');
SELECT is((SELECT count(*) FROM got WHERE propensity <> 1), 0::bigint, 'LinUCB''s choices have propensity 1');
SELECT is(ARRAY(SELECT ctx_id FROM (SELECT ctx_id, c.action FROM contexts, policies,
                  LATERAL uba_bandit_choose(linucb, x, ARRAY[40, 30, 20, 10]::bigint[]) c) g
                 WHERE action <> (SELECT r.action FROM ref r WHERE r.ctx_id = g.ctx_id AND r.action <> 50
                                   ORDER BY r.linucb_score DESC, r.action LIMIT 1) ORDER BY 1), '{}',
	'one slot: the argmax of the reference''s scores');
SELECT is(ARRAY(SELECT r.ctx_id || '/' || r.action FROM ref r
                  JOIN (SELECT ctx_id, c.action, c.score FROM contexts, policies,
                         LATERAL uba_bandit_choose(linucb_iw, x, ARRAY[10, 20, 30, 40, 50]::bigint[], '{"n": 5}'::jsonb) c) g
                 USING (ctx_id, action) WHERE NOT pg_temp.near(g.score, r.linucb_iw_score) ORDER BY 1), '{}',
	'importance-weighted LinUCB (w = 1 / propensity) equals NumPy''s to 1e-9');
SELECT is(ARRAY(SELECT r.ctx_id || '/' || r.action FROM ref r
                  JOIN (SELECT ctx_id, c.action, c.score FROM contexts,
                         LATERAL uba_bandit_choose((SELECT uba_bandit_train(action, ARRAY[x1, x2, x3, x4, x5], reward, propensity,
                                                      '{"alpha": 0}'::jsonb) FROM log),
                                                   x, ARRAY[10, 20, 30, 40, 50]::bigint[], '{"n": 5}'::jsonb) c) g
                 USING (ctx_id, action) WHERE NOT pg_temp.near(g.score, r.theta_dot_x) ORDER BY 1), '{}',
	'alpha 0: LinUCB''s score is the ridge prediction theta . x alone');
-- a context per action (float8[][], a row per offered action in the order offered): action a of
-- context c is scored at context c, the others at context c % 25 + 1
CREATE TEMP TABLE mixed AS
SELECT c1.ctx_id, c2.ctx_id AS other,
       ARRAY[c1.x, c2.x, c1.x, c2.x, c1.x] AS xs  -- actions 50, 40, 30, 20, 10
  FROM contexts c1 JOIN contexts c2 ON c2.ctx_id = c1.ctx_id % 25 + 1;
SELECT is(ARRAY(SELECT m.ctx_id || '/' || g.action
                  FROM mixed m, policies,
                       LATERAL uba_bandit_choose(linucb, xs, ARRAY[50, 40, 30, 20, 10]::bigint[], '{"n": 5}'::jsonb) g
                  JOIN ref r ON r.action = g.action
                 WHERE r.ctx_id = CASE WHEN g.action IN (50, 30, 10) THEN m.ctx_id ELSE m.other END
                   AND NOT pg_temp.near(g.score, r.linucb_score) ORDER BY 1), '{}',
	'a context per action (float8[][]): each action scored at its own row, as NumPy''s');

SELECT ok((SELECT bool_and(a.action = b.action AND a.propensity = b.propensity AND a.score = b.score) AND count(*) = 75
             FROM contexts,
                  LATERAL (SELECT uba_bandit_train(action, ARRAY[x1, x2, x3, x4, x5], reward, propensity, '{"method": "lin_ts"}'::jsonb) AS p FROM log) ts,
                  LATERAL (SELECT row_number() OVER () AS slot, * FROM uba_bandit_choose(ts.p, ARRAY[x, x, x, x, x], ARRAY[50, 40, 30, 20, 10]::bigint[],
                                                                        jsonb_build_object('n', 3, 'seed', ctx_id, 'propensity_draws', 50))) a
                  JOIN LATERAL (SELECT row_number() OVER () AS slot, * FROM uba_bandit_choose(ts.p, x, ARRAY[50, 40, 30, 20, 10]::bigint[],
                                                                        jsonb_build_object('n', 3, 'seed', ctx_id, 'propensity_draws', 50))) b USING (slot)),
	'linear Thompson sampling with the same context given per action draws exactly as with one context for all (same seed)');

-- hybrid LinUCB: x1, x2 shared by every action (one beta), x3..x5 per action, against NumPy's one stacked ridge regression
CREATE TEMP TABLE hybrid AS
SELECT (SELECT uba_bandit_train(action, ARRAY[x1, x2, x3, x4, x5], reward, propensity, '{"shared_features": 2}'::jsonb) FROM log) AS p,
       (SELECT uba_bandit_train(action, ARRAY[x1, x2, x3, x4, x5], reward, propensity,
                                '{"shared_features": 2, "importance_weighted": true}'::jsonb) FROM log) AS p_iw;
SELECT is(ARRAY(SELECT r.ctx_id || '/' || r.action FROM hybrid_ref r
                  JOIN (SELECT ctx_id, c.action, c.score FROM contexts, hybrid,
                         LATERAL uba_bandit_choose(p, x, ARRAY[10, 20, 30, 40, 50]::bigint[], '{"n": 5}'::jsonb) c) g
                 USING (ctx_id, action) WHERE NOT pg_temp.near(g.score, r.hybrid_score) ORDER BY 1), '{}',
	'hybrid LinUCB''s scores z . beta + x . theta_a + alpha sqrt(s) equal NumPy''s stacked ridge to 1e-9 (cold action 50 too)');
SELECT is(ARRAY(SELECT r.ctx_id || '/' || r.action FROM hybrid_ref r
                  JOIN (SELECT ctx_id, c.action, c.score FROM contexts,
                         LATERAL uba_bandit_choose((SELECT uba_bandit_train(action, ARRAY[x1, x2, x3, x4, x5], reward, propensity,
                                                      '{"shared_features": 2, "alpha": 0}'::jsonb) FROM log),
                                                   x, ARRAY[10, 20, 30, 40, 50]::bigint[], '{"n": 5}'::jsonb) c) g
                 USING (ctx_id, action) WHERE NOT pg_temp.near(g.score, r.hybrid_mean) ORDER BY 1), '{}',
	'hybrid, alpha 0: the mean z . beta + x . theta_a alone, as NumPy''s');
SELECT is(ARRAY(SELECT r.ctx_id || '/' || r.action FROM hybrid_ref r
                  JOIN (SELECT ctx_id, c.action, c.score FROM contexts, hybrid,
                         LATERAL uba_bandit_choose(p_iw, x, ARRAY[10, 20, 30, 40, 50]::bigint[], '{"n": 5}'::jsonb) c) g
                 USING (ctx_id, action) WHERE NOT pg_temp.near(g.score, r.hybrid_iw_score) ORDER BY 1), '{}',
	'importance-weighted hybrid LinUCB equals NumPy''s to 1e-9');
SELECT is(ARRAY(SELECT m.ctx_id || '/' || g.action
                  FROM mixed m, hybrid,
                       LATERAL uba_bandit_choose(p, xs, ARRAY[50, 40, 30, 20, 10]::bigint[], '{"n": 5}'::jsonb) g
                  JOIN hybrid_ref r ON r.action = g.action
                 WHERE r.ctx_id = CASE WHEN g.action IN (50, 30, 10) THEN m.ctx_id ELSE m.other END
                   AND NOT pg_temp.near(g.score, r.hybrid_score) ORDER BY 1), '{}',
	'hybrid with a context per action, as NumPy''s');
SELECT ok((SELECT bool_and(pg_temp.near(a.score, b.score))
             FROM contexts,
                  LATERAL uba_bandit_choose((SELECT uba_bandit_update(
                              (SELECT uba_bandit_train(action, ARRAY[x1, x2, x3, x4, x5], reward, propensity, '{"shared_features": 2}'::jsonb)
                                 FROM log WHERE decision_id < 600),
                              l.action, ARRAY[l.x1, l.x2, l.x3, l.x4, l.x5], l.reward) FROM log l WHERE decision_id = 600),
                            x, ARRAY[10, 20, 30, 40, 50]::bigint[], '{"n": 5}'::jsonb) a
                  JOIN LATERAL uba_bandit_choose((SELECT p FROM hybrid), x, ARRAY[10, 20, 30, 40, 50]::bigint[], '{"n": 5}'::jsonb) b
                  USING (action)),
	'hybrid: train on 599 decisions then update with the 600th scores as training on all 600');
SELECT is((SELECT (uba_model_info(p))->>'shared_features' FROM hybrid), '2', 'uba_model_info tells the shared features');

-- typed rows: a row's columns as the context (numbers as they are, categories one-hot)
SELECT is(ARRAY(SELECT r.ctx_id || '/' || r.action FROM ref r
                  JOIN (SELECT ctx_id, c.action, c.score
                          FROM (SELECT uba_bandit_train(action, t, reward, propensity) AS p
                                  FROM log, LATERAL (SELECT x1, x2, x3, x4, x5) t) pol,
                               (SELECT DISTINCT ctx_id, x1, x2, x3, x4, x5 FROM ref) cx,
                               LATERAL uba_bandit_choose(p, (SELECT t FROM (SELECT cx.x5, cx.x4, cx.x3, cx.x2, cx.x1, 'ignored' AS note) t),
                                                         ARRAY[10, 20, 30, 40, 50]::bigint[], '{"n": 5}'::jsonb) c) g
                 USING (ctx_id, action) WHERE NOT pg_temp.near(g.score, r.linucb_score) ORDER BY 1), '{}',
	'typed rows of five numbers: LinUCB''s scores equal NumPy''s to 1e-9, the choice''s row read by column name');
CREATE TEMP TABLE typed AS
SELECT (SELECT uba_bandit_train(action, t, reward, propensity) FROM log,
               LATERAL (SELECT x1, x2, CASE decision_id % 3 WHEN 0 THEN 'web' WHEN 1 THEN 'app' END AS channel) t) AS p,
       (SELECT uba_bandit_train(action, ARRAY[x1, x2, (decision_id % 3 = 1)::int, (decision_id % 3 = 0)::int, (decision_id % 3 = 2)::int],
                                reward, propensity) FROM log) AS by_hand;
SELECT ok((SELECT bool_and(pg_temp.near(a.score, b.score)) AND count(*) = 125
             FROM contexts, typed,
                  LATERAL uba_bandit_choose(p, (SELECT t FROM (SELECT x[1] AS x1, x[2] AS x2,
                                                    (ARRAY['web', 'app', NULL])[ctx_id % 3 + 1] AS channel) t),
                                            ARRAY[10, 20, 30, 40, 50]::bigint[], '{"n": 5}'::jsonb) a
                  JOIN LATERAL uba_bandit_choose(by_hand, ARRAY[x[1], x[2], (ctx_id % 3 = 1)::int, (ctx_id % 3 = 0)::int, (ctx_id % 3 = 2)::int],
                                                 ARRAY[10, 20, 30, 40, 50]::bigint[], '{"n": 5}'::jsonb) b USING (action)),
	'a text column is one-hot encoded (NULL its own level): the scores of the same indicators built by hand');
SELECT is((SELECT (uba_model_info(p))->'feature_names' FROM typed), '["x1", "x2", "channel=app", "channel=web", "channel (missing)"]'::jsonb,
	'the policy keeps the encoding: its features named after the columns');
SELECT ok((SELECT bool_and(pg_temp.near(a.score, b.score))
             FROM contexts, typed,
                  LATERAL uba_bandit_choose((SELECT uba_bandit_update(
                              (SELECT uba_bandit_train(action, t, reward, propensity) FROM log,
                                      LATERAL (SELECT x1, x2, CASE decision_id % 3 WHEN 0 THEN 'web' WHEN 1 THEN 'app' END AS channel) t
                                WHERE decision_id < 600),
                              l.action, (SELECT t FROM (SELECT l.x1, l.x2, 'web' AS channel) t), l.reward) FROM log l WHERE decision_id = 600),
                            (SELECT t FROM (SELECT x[1] AS x1, x[2] AS x2, 'app' AS channel) t), ARRAY[10, 20, 30, 40]::bigint[], '{"n": 4}'::jsonb) a
                  JOIN LATERAL uba_bandit_choose(p, (SELECT t FROM (SELECT x[1] AS x1, x[2] AS x2, 'app' AS channel) t),
                                                 ARRAY[10, 20, 30, 40]::bigint[], '{"n": 4}'::jsonb) b USING (action)),
	'typed rows: train on 599 decisions then update with the 600th row: the scores of training on all 600');
SELECT is((SELECT count(*) FROM typed, uba_bandit_choose(p, '{1, 2, 0, 1, 0}', ARRAY[10, 20]::bigint[])), 1::bigint,
	'a policy trained on typed rows also takes its encoded features as an array literal');
SELECT throws_ok($$SELECT * FROM uba_bandit_choose((SELECT linucb FROM policies), (SELECT t FROM (SELECT 1 AS x1) t), ARRAY[10]::bigint[])$$,
	'42804', 'the model was trained on float8[] features, not on a row', 'a row for a policy trained on arrays');
SELECT throws_ok($$SELECT uba_bandit_train(action, t, click, propensity, '{"method": "beta_ts"}'::jsonb) FROM log, LATERAL (SELECT x1) t$$,
	'22023', 'beta_ts takes no context', 'a row for Bernoulli Thompson sampling');

-- epsilon-greedy: the first slot's propensity is the reference's probability of the action chosen
SELECT is(ARRAY(SELECT ctx_id FROM (SELECT ctx_id, c.action, c.propensity FROM contexts, policies,
                  LATERAL uba_bandit_choose(greedy, x, ARRAY[10, 20, 30, 40]::bigint[], jsonb_build_object('seed', ctx_id)) c) g
                 WHERE NOT pg_temp.near(propensity, (SELECT greedy_probability FROM ref r WHERE r.ctx_id = g.ctx_id AND r.action = g.action))
                 ORDER BY 1), '{}',
	'epsilon-greedy: the propensity of the action chosen is epsilon / K (+ 1 - epsilon for the greedy one), as NumPy''s');
SELECT ok((SELECT abs(avg((c.propensity > 0.5)::int) - 0.925) < 0.03 FROM contexts, policies, generate_series(1, 40) s,
             LATERAL uba_bandit_choose(greedy, x, ARRAY[10, 20, 30, 40]::bigint[], jsonb_build_object('seed', s * 100 + ctx_id)) c),
	'epsilon-greedy picks the greedy action in about 92.5% of 1,000 seeded choices');
SELECT is((SELECT array_agg(c.action ORDER BY c.action) FROM policies,
             LATERAL uba_bandit_choose(greedy, ARRAY[0, 0, 0, 0, 0]::float8[], ARRAY[10, 20, 30, 40]::bigint[], '{"n": 4, "seed": 3}'::jsonb) c),
	ARRAY[10, 20, 30, 40]::bigint[], 'n slots: a ranking without replacement');
-- Bernoulli Thompson sampling
SELECT ok((SELECT bool_and(abs(c.propensity - t.ts_propensity_mc) < 0.005) FROM policies,
             LATERAL uba_bandit_choose(beta, NULL, ARRAY[10, 20, 30, 40]::bigint[],
                                       '{"seed": 5, "propensity_draws": 200000}'::jsonb) c
             JOIN ts_ref t USING (action)),
	'beta_ts: the chosen action''s propensity (200,000 draws) within 0.005 of the reference''s million-draw estimate');
SELECT is((SELECT (uba_model_info(beta))->>'actions' FROM policies), '4', 'uba_model_info describes the bandit');

-- off-policy evaluation of the reference's target policy on this log
SELECT ok((SELECT pg_temp.near((r).estimate, o.estimate) AND pg_temp.near((r).std_error, o.std_error)
              AND pg_temp.near((r).lower, o.lower) AND pg_temp.near((r).upper, o.upper)
              AND pg_temp.near((r).effective_sample_size, o.effective_sample_size) AND pg_temp.near((r).max_weight, o.max_weight)
             FROM (SELECT uba_ope_ips(reward, propensity, target_probability) AS r FROM log) x, ope_ref o WHERE o.estimator = 'ips'),
	'IPS equals NumPy''s (estimate, standard error, interval, effective sample size, largest weight) to 1e-9');
SELECT ok((SELECT pg_temp.near((r).estimate, o.estimate) AND pg_temp.near((r).std_error, o.std_error)
              AND pg_temp.near((r).lower, o.lower) AND pg_temp.near((r).upper, o.upper)
             FROM (SELECT uba_ope_snips(reward, propensity, target_probability) AS r FROM log) x, ope_ref o WHERE o.estimator = 'snips'),
	'SNIPS equals NumPy''s to 1e-9');
SELECT ok((SELECT pg_temp.near((r).estimate, o.estimate) AND pg_temp.near((r).std_error, o.std_error)
              AND pg_temp.near((r).lower, o.lower) AND pg_temp.near((r).upper, o.upper)
             FROM (SELECT uba_ope_dr(reward, propensity, target_probability, predicted_reward, target_expected_reward) AS r FROM log) x,
                  ope_ref o WHERE o.estimator = 'dr'),
	'DR equals NumPy''s to 1e-9');

-- updates: training on 599 decisions, then one update, scores as training on 600
SELECT ok((SELECT bool_and(pg_temp.near(a.score, b.score))
             FROM contexts,
                  LATERAL uba_bandit_choose((SELECT uba_bandit_update(
                              (SELECT uba_bandit_train(action, ARRAY[x1, x2, x3, x4, x5], reward, propensity) FROM log WHERE decision_id < 600),
                              l.action, ARRAY[l.x1, l.x2, l.x3, l.x4, l.x5], l.reward) FROM log l WHERE decision_id = 600),
                            x, ARRAY[10, 20, 30, 40]::bigint[], '{"n": 4}'::jsonb) a
                  JOIN LATERAL uba_bandit_choose((SELECT linucb FROM policies), x, ARRAY[10, 20, 30, 40]::bigint[], '{"n": 4}'::jsonb) b
                  USING (action)),
	'train on 599 decisions then update with the 600th: the scores of training on all 600');
SELECT is((SELECT (uba_model_info(uba_bandit_update(linucb, 99, ARRAY[1, 2, 3, 4, 5]::float8[], 1)))->>'actions' FROM policies), '5',
	'an update with a new action adds it');
-- parallel: merged partial states train the same policy
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
CREATE TABLE bandit_log_big AS SELECT * FROM log, generate_series(1, 20) g;
ALTER TABLE bandit_log_big SET (parallel_workers = 2);
ANALYZE bandit_log_big;
SELECT ok((SELECT bool_and(pg_temp.near(a.score, b.score))
             FROM contexts,
                  LATERAL uba_bandit_choose((SELECT uba_bandit_train(action, ARRAY[x1, x2, x3, x4, x5], reward, propensity) FROM bandit_log_big),
                                            x, ARRAY[10, 20, 30, 40]::bigint[], '{"n": 4}'::jsonb) a
                  JOIN LATERAL uba_bandit_choose((SELECT uba_bandit_train(action, ARRAY[x1, x2, x3, x4, x5], reward, propensity)
                                                    FROM (SELECT * FROM bandit_log_big ORDER BY g, decision_id OFFSET 0) o),
                                                 x, ARRAY[10, 20, 30, 40]::bigint[], '{"n": 4}'::jsonb) b USING (action)),
	'a parallel training (partial states merged) scores as a serial one');
SELECT ok((SELECT bool_and(pg_temp.near(a.score, b.score))
             FROM contexts,
                  LATERAL uba_bandit_choose((SELECT uba_bandit_train(action, ARRAY[x1, x2, x3, x4, x5], reward, propensity,
                                                                     '{"shared_features": 2}'::jsonb) FROM bandit_log_big),
                                            x, ARRAY[10, 20, 30, 40]::bigint[], '{"n": 4}'::jsonb) a
                  JOIN LATERAL uba_bandit_choose((SELECT uba_bandit_train(action, ARRAY[x1, x2, x3, x4, x5], reward, propensity,
                                                                          '{"shared_features": 2}'::jsonb)
                                                    FROM (SELECT * FROM bandit_log_big ORDER BY g, decision_id OFFSET 0) o),
                                                 x, ARRAY[10, 20, 30, 40]::bigint[], '{"n": 4}'::jsonb) b USING (action)),
	'hybrid: a parallel training (the shared statistics merged too) scores as a serial one');

-- the recipe of doc/ope.md: LinUCB trained on one half of the log, evaluated on the other
CREATE TEMP TABLE recipe AS
WITH train AS (SELECT * FROM log WHERE decision_id % 2 = 0),
     test AS (SELECT * FROM log WHERE decision_id % 2 = 1),
     policy AS (SELECT uba_bandit_train(action, ARRAY[x1, x2, x3, x4, x5], reward, propensity,
                                        '{"importance_weighted": true}'::jsonb) AS p FROM train),
     scored AS (
       SELECT t.*, (c.action = t.action)::int::float8 AS linucb_probability, 1.0 / 4 AS random_probability
         FROM test t, policy,
              LATERAL uba_bandit_choose(policy.p, ARRAY[t.x1, t.x2, t.x3, t.x4, t.x5], ARRAY[10, 20, 30, 40]::bigint[]) c)
SELECT avg(reward) AS logged, (uba_ope_snips(reward, propensity, linucb_probability)).lower AS linucb_lower,
       (uba_ope_snips(reward, propensity, random_probability)).estimate AS random
  FROM scored;
SELECT ok((SELECT linucb_lower > logged AND logged > random FROM recipe),
	'the recipe: LinUCB''s estimated value (its interval''s lower end) beats the logged policy''s, which beats random''s');

-- bad input
SELECT throws_ok($$SELECT uba_bandit_train(action, ARRAY[x1, x2], reward, 0) FROM log$$, '22023', 'propensity must be in (0, 1]', 'a propensity of 0');
SELECT throws_ok($$SELECT uba_bandit_train(action, ARRAY[x1, x2], NULL, propensity) FROM log$$, '22004', NULL, 'a NULL reward');
SELECT throws_ok($$SELECT uba_bandit_train(action, CASE WHEN decision_id = 9 THEN ARRAY[x1] ELSE ARRAY[x1, x2] END, reward, propensity) FROM log$$,
	'22000', NULL, 'contexts of different sizes');
SELECT throws_ok($$SELECT uba_bandit_train(action, NULL, reward, propensity, '{"method": "beta_ts"}'::jsonb) FROM log$$, '22023',
	'beta_ts needs rewards in [0, 1]', 'beta_ts with rewards outside [0, 1]');
SELECT throws_ok($$SELECT * FROM uba_bandit_choose((SELECT linucb FROM policies), ARRAY[1, 2]::float8[], ARRAY[10]::bigint[])$$, '22000',
	NULL, 'a context of the wrong size');
SELECT throws_ok($$SELECT * FROM uba_bandit_choose((SELECT linucb FROM policies), ARRAY[1, 2, 3, 4, 5]::float8[], ARRAY[10, 10]::bigint[])$$,
	'22023', 'action 10 is offered twice', 'an action offered twice');
SELECT throws_ok($$SELECT * FROM uba_bandit_choose((SELECT linucb FROM policies), ARRAY[1, 2, 3, 4, 5]::float8[], '{}'::bigint[])$$,
	'22023', NULL, 'no action to choose from');
SELECT throws_ok($$SELECT uba_bandit_train(action, ARRAY[x1, x2], reward, propensity, '{"shared_features": 3}'::jsonb) FROM log$$,
	'22023', 'shared_features (3) is more than the context''s 2 features', 'more shared features than the context has');
SELECT throws_ok($$SELECT uba_bandit_train(action, ARRAY[x1, x2], reward, propensity, '{"shared_features": 1, "method": "lin_ts"}'::jsonb) FROM log$$,
	'22023', NULL, 'shared features with a method that has no hybrid form');
SELECT throws_ok($$SELECT * FROM uba_bandit_choose((SELECT linucb FROM policies), ARRAY[[1, 2, 3, 4, 5], [1, 2, 3, 4, 5]]::float8[], ARRAY[10, 20, 30]::bigint[])$$,
	'2202E', 'a context per action must be 3 x 5 (actions x features)', 'a context per action with a row missing');
SELECT throws_ok($$SELECT * FROM uba_bandit_choose((SELECT uba_kmeans(ARRAY[1, 2]::float8[], 1)), ARRAY[1, 2, 3, 4, 5]::float8[], ARRAY[10]::bigint[])$$,
	'42809', NULL, 'a model of another kind');

SELECT * FROM finish();
ROLLBACK;
