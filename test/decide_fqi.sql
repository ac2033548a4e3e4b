-- Fitted Q iteration (src/decide/fqi.c) against an independent NumPy reference (bench/fqi_reference.py)
-- on a committed log of 400 simulated retention-offer episodes: Q values to 1e-9 after 40 and 3
-- iterations with gamma 0.9, and gamma 0 (the myopic ridge regression); a chain whose optimal Q is
-- known; the far-sighted policy beating the myopic one in the simulator (run here in SQL); bad input.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(31);

CREATE TEMP TABLE fqi_log (step_id int, episode int, t int, e1 float8, e2 float8, e3 float8, e4 float8, e5 float8,
	action bigint, propensity float8, reward float8, n1 float8, n2 float8, n3 float8, n4 float8, n5 float8, purchase int);
\copy fqi_log FROM 'test/data/fqi_log.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE fqi_ref (config text, state_id int, s1 float8, s2 float8, s3 float8, s4 float8, s5 float8, action bigint, q float8);
\copy fqi_ref FROM 'test/data/fqi_reference.csv' WITH (FORMAT csv, HEADER)

CREATE FUNCTION pg_temp.near(got float8, want float8) RETURNS boolean LANGUAGE sql AS $$
	SELECT abs(got - want) <= greatest(1e-9 * abs(want), 1e-12)
$$;
-- the three reference configurations, trained on the log in its order (tol 0: exactly N iterations)
CREATE TEMP TABLE policies AS
SELECT c.config,
       (SELECT uba_fqi_train(ARRAY[e1, e2, e3, e4, e5], action, reward,
                             CASE WHEN n1 IS NOT NULL THEN ARRAY[n1, n2, n3, n4, n5] END,
                             jsonb_build_object('gamma', c.gamma, 'iterations', c.n, 'tol', 0) ORDER BY step_id)
          FROM fqi_log) AS p
  FROM (VALUES ('g0.9_n40', 0.9, 40), ('g0.9_n3', 0.9, 3), ('g0_n1', 0, 1)) c(config, gamma, n);
CREATE TEMP TABLE got AS
SELECT r.config, r.state_id, r.action, r.q, g.score
  FROM (SELECT DISTINCT config, state_id, ARRAY[s1, s2, s3, s4, s5] AS s FROM fqi_ref) st
  JOIN policies USING (config)
  CROSS JOIN LATERAL uba_bandit_choose(p, st.s, ARRAY[0, 1, 2, 7]::bigint[], '{"n": 4}'::jsonb) g
  JOIN fqi_ref r ON r.config = st.config AND r.state_id = st.state_id AND r.action = g.action;
SELECT is((SELECT count(*) FROM got), 240::bigint, 'Q of 4 actions in 20 states under 3 configurations');
SELECT is(ARRAY(SELECT state_id || '/' || action FROM got WHERE config = 'g0.9_n40' AND NOT pg_temp.near(score, q) ORDER BY 1), '{}',
	'gamma 0.9, 40 iterations: Q equals NumPy''s to 1e-9 (the never-logged action 7 scores 0)');
SELECT is(ARRAY(SELECT state_id || '/' || action FROM got WHERE config = 'g0.9_n3' AND NOT pg_temp.near(score, q) ORDER BY 1), '{}',
	'gamma 0.9, 3 iterations: equal to 1e-9');
SELECT is(ARRAY(SELECT state_id || '/' || action FROM got WHERE config = 'g0_n1' AND NOT pg_temp.near(score, q) ORDER BY 1), '{}',
	'gamma 0: the myopic ridge regression of the reward, equal to 1e-9');
SELECT ok((SELECT bool_and(pg_temp.near(a.score, b.score))
             FROM (SELECT DISTINCT state_id, ARRAY[s1, s2, s3, s4, s5] AS s FROM fqi_ref) st,
                  LATERAL uba_bandit_choose((SELECT p FROM policies WHERE config = 'g0_n1'), s, ARRAY[0, 1, 2]::bigint[], '{"n": 3}'::jsonb) a
                  JOIN LATERAL uba_bandit_choose((SELECT uba_bandit_train(action, ARRAY[e1, e2, e3, e4, e5], reward, propensity,
                                                                          '{"alpha": 0}'::jsonb) FROM fqi_log),
                                                 s, ARRAY[0, 1, 2]::bigint[], '{"n": 3}'::jsonb) b USING (action)),
	'gamma 0 is the greedy bandit: the Q values of uba_bandit_train''s LinUCB with alpha 0');
SELECT is((SELECT (uba_model_info(p) ->> 'iterations')::int FROM policies WHERE config = 'g0.9_n40'), 40, 'uba_model_info tells the iterations run');
SELECT ok((SELECT (uba_model_info(uba_fqi_train(ARRAY[e1, e2, e3, e4, e5], action, reward,
                                               CASE WHEN n1 IS NOT NULL THEN ARRAY[n1, n2, n3, n4, n5] END ORDER BY step_id))
                  ->> 'iterations')::int BETWEEN 41 AND 199 FROM fqi_log),
	'by default the iterations stop when Q has converged (tol 1e-9), well before the limit of 200');

-- a chain of five states (one-hot), action 1 moves right, action 0 stays; reaching state 4 pays 1 and ends
CREATE FUNCTION pg_temp.oh(i int) RETURNS float8[] LANGUAGE sql AS $$
	SELECT array_agg((j = i)::int::float8 ORDER BY j) FROM generate_series(0, 4) j
$$;
CREATE TEMP TABLE chain AS
SELECT uba_fqi_train(pg_temp.oh(s), a, CASE WHEN a = 1 AND s = 3 THEN 1.0 ELSE 0 END,
                     CASE WHEN a = 1 AND s = 3 THEN NULL WHEN a = 1 THEN pg_temp.oh(s + 1) ELSE pg_temp.oh(s) END,
                     '{"gamma": 0.9, "lambda": 1e-9}'::jsonb) AS p
  FROM generate_series(0, 3) s, generate_series(0, 1) a, generate_series(1, 5) rep;
SELECT ok((SELECT bool_and(abs(c.score - CASE c.action WHEN 1 THEN 0.9 ^ (3 - s) ELSE 0.9 ^ (4 - s) END) < 1e-8)
                  AND count(*) = 8
             FROM chain, generate_series(0, 3) s, LATERAL uba_bandit_choose(p, pg_temp.oh(s), ARRAY[0, 1]::bigint[], '{"n": 2}'::jsonb) c),
	'a chain: Q(s, right) = 0.9^(3 - s), Q(s, stay) = 0.9^(4 - s), the optimal values');

-- the simulator of bench/fqi_reference.py in SQL: the far-sighted policy against the myopic one
-- (each episode's total reward, and its reward discounted by 0.9 a step for fitted Q evaluation)
CREATE FUNCTION pg_temp.simulate(policy bytea, episodes int, seed float8)
RETURNS TABLE (value float8, std_error float8, discounted float8, discounted_se float8)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM setseed(seed);
	CREATE TEMP TABLE ep AS
	SELECT g AS id, 0.2 + 0.6 * random() AS e, 0::float8 AS c, 0::float8 AS total, 0::float8 AS disc, true AS alive
	  FROM generate_series(1, episodes) g;
	FOR t IN 1..10 LOOP
		WITH act AS (
			SELECT id, e, c, random() AS up, 0.03 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z, random() AS uc,
			       (SELECT action FROM uba_bandit_choose(policy,
			           ARRAY[1, round(e::numeric, 6), round(c::numeric, 6), round((e * e)::numeric, 6), round((e * c)::numeric, 6)]::float8[],
			           ARRAY[0, 1, 2]::bigint[])) AS a
			  FROM ep WHERE alive),
		bought AS (
			SELECT *, (up < 1 / (1 + exp(-(-1.5 + 3 * e + (a = 2)::int - 0.8 * c * (a = 2)::int))))::int AS purchase FROM act),
		nxt AS (
			SELECT id, purchase * (10 - 4 * (a = 2)::int) - 0.2 * (a = 1)::int AS reward,
			       greatest(0, least(1, 0.85 * e + 0.12 * (a = 1)::int + 0.15 * purchase - 0.05 * (a = 2)::int + z)) AS e2,
			       0.6 * c + (a = 2)::int AS c2, uc
			  FROM bought)
		UPDATE ep SET total = total + nxt.reward, disc = disc + 0.9 ^ (t - 1) * nxt.reward, e = nxt.e2, c = nxt.c2,
		       alive = nxt.uc >= 0.15 * (1 - nxt.e2)
		  FROM nxt WHERE ep.id = nxt.id;
	END LOOP;
	RETURN QUERY SELECT avg(total), stddev(total) / sqrt(episodes), avg(disc), stddev(disc) / sqrt(episodes) FROM ep;
	DROP TABLE ep;
END
$$;
CREATE TEMP TABLE sim AS
SELECT config, s.* FROM policies, LATERAL pg_temp.simulate(p, 2000, 0.5) s WHERE config IN ('g0.9_n40', 'g0_n1');
SELECT ok((SELECT abs(value - 62.27) < 4 * sqrt(std_error ^ 2 + 0.19 ^ 2) FROM sim WHERE config = 'g0.9_n40'),
	'the far-sighted policy''s value in the simulator run in SQL is NumPy''s Monte Carlo 62.27 within 4 standard errors: ' ||
	(SELECT round(value::numeric, 2) || ' +- ' || round(std_error::numeric, 2) FROM sim WHERE config = 'g0.9_n40'));
SELECT ok((SELECT f.value - m.value > 15 FROM sim f, sim m WHERE f.config = 'g0.9_n40' AND m.config = 'g0_n1'),
	'looking ahead (gamma 0.9) earns far more per episode than the myopic policy (gamma 0): ' ||
	(SELECT round(f.value::numeric, 2) || ' against ' || round(m.value::numeric, 2) FROM sim f, sim m WHERE f.config = 'g0.9_n40' AND m.config = 'g0_n1'));

-- fitted Q evaluation: each policy's discounted value per episode, from the logging policy's log
CREATE TEMP TABLE fqe AS
SELECT config, (SELECT uba_fqe(p, ARRAY[e1, e2, e3, e4, e5], action, reward,
                               CASE WHEN n1 IS NOT NULL THEN ARRAY[n1, n2, n3, n4, n5] END, t = 1 ORDER BY step_id)
                  FROM fqi_log) AS value
  FROM policies WHERE config IN ('g0.9_n40', 'g0_n1');
CREATE TEMP TABLE converged AS
SELECT uba_fqi_train(ARRAY[e1, e2, e3, e4, e5], action, reward, CASE WHEN n1 IS NOT NULL THEN ARRAY[n1, n2, n3, n4, n5] END ORDER BY step_id) AS p
  FROM fqi_log;
SELECT ok((SELECT abs(f.value - q.value) < 1e-9 * q.value
             FROM (SELECT uba_fqe(p, ARRAY[e1, e2, e3, e4, e5], action, reward, CASE WHEN n1 IS NOT NULL THEN ARRAY[n1, n2, n3, n4, n5] END,
                                  t = 1 ORDER BY step_id) AS value FROM converged, fqi_log) f,
                  (SELECT avg(c.score) AS value FROM converged, fqi_log,
                          LATERAL uba_bandit_choose(p, ARRAY[e1, e2, e3, e4, e5], ARRAY[0, 1, 2]::bigint[]) c WHERE t = 1) q),
	'evaluating the converged FQI policy gives back its own Q at the fixed point: the mean over first steps of max Q, to 1e-9');
SELECT ok((SELECT f.value > m.value FROM fqe f, fqe m WHERE f.config = 'g0.9_n40' AND m.config = 'g0_n1'),
	'fitted Q evaluation ranks the far-sighted policy above the myopic one, as the simulator does: ' ||
	(SELECT round(f.value::numeric, 2) || ' against ' || round(m.value::numeric, 2) FROM fqe f, fqe m WHERE f.config = 'g0.9_n40' AND m.config = 'g0_n1'));
SELECT ok((SELECT abs(f.value - s.discounted) < 0.2 * s.discounted FROM fqe f JOIN sim s USING (config) WHERE config = 'g0.9_n40'),
	'its estimate of the far-sighted policy''s discounted value is within 20% of the simulated one (a linear Q function is biased): ' ||
	(SELECT round(f.value::numeric, 2) || ' against ' || round(s.discounted::numeric, 2) || ' +- ' || round(s.discounted_se::numeric, 2)
	   FROM fqe f JOIN sim s USING (config) WHERE config = 'g0.9_n40'));
-- the same policy by importance weights over whole episodes: one row per episode (the OPE aggregates' recipe)
CREATE TEMP TABLE episodes AS
SELECT l.episode, sum(0.9 ^ (l.t - 1) * l.reward) AS discounted, exp(sum(ln(l.propensity))) AS propensity,
       bool_and(l.action = c.action)::int::float8 AS target_probability
  FROM fqi_log l, LATERAL uba_bandit_choose((SELECT p FROM policies WHERE config = 'g0.9_n40'), ARRAY[e1, e2, e3, e4, e5],
                                            ARRAY[0, 1, 2]::bigint[]) c
 GROUP BY l.episode;
SELECT ok((SELECT abs(f.value - s.discounted) < abs((i.r).estimate - s.discounted) / 3
             FROM fqe f JOIN sim s USING (config),
                  (SELECT uba_ope_ips(discounted, propensity, target_probability) AS r FROM episodes) i
            WHERE config = 'g0.9_n40'),
	'where importance weights over ten-step episodes degenerate, fitted Q evaluation is far closer: IPS says ' ||
	(SELECT round((uba_ope_ips(discounted, propensity, target_probability)).estimate::numeric, 2) || ' (effective sample size ' ||
	        round((uba_ope_ips(discounted, propensity, target_probability)).effective_sample_size::numeric, 1) || ' of 400 episodes)' FROM episodes));

-- exploration: an fqi policy with "epsilon" chooses epsilon-greedily, and fitted Q evaluation follows that
CREATE TEMP TABLE explorer AS
SELECT uba_fqi_train(ARRAY[e1, e2, e3, e4, e5], action, reward, NULL,
                     '{"gamma": 0, "epsilon": 0.3, "feature_names": ["one", "e", "c", "e2", "ec"]}'::jsonb ORDER BY step_id) AS p
  FROM fqi_log;
SELECT ok((SELECT bool_and(abs(c.propensity - CASE WHEN c.action = g.action THEN 0.3 / 3 + 0.7 ELSE 0.3 / 3 END) < 1e-12)
                  AND bool_or(c.action <> g.action) AND bool_or(c.action = g.action)
             FROM explorer, fqi_log l,
                  LATERAL uba_bandit_choose(p, ARRAY[e1, e2, e3, e4, e5], ARRAY[0, 1, 2]::bigint[], jsonb_build_object('seed', step_id)) c,
                  LATERAL (SELECT action FROM uba_bandit_choose(p, ARRAY[e1, e2, e3, e4, e5], ARRAY[0, 1, 2]::bigint[], '{"n": 3}'::jsonb)
                            ORDER BY score DESC LIMIT 1) g
            WHERE step_id <= 300),
	'an fqi policy with epsilon 0.3 logs epsilon / K + (1 - epsilon) for its greedy action, epsilon / K for the others');
SELECT ok((SELECT abs(f.value - q.value) < 1e-9 * abs(q.value)
             FROM (SELECT uba_fqe(p, ARRAY[e1, e2, e3, e4, e5], action, reward, NULL, t = 1 ORDER BY step_id) AS value
                     FROM explorer, fqi_log) f,
                  (SELECT avg(0.7 * v.best + 0.3 * v.mean) AS value
                     FROM explorer, fqi_log,
                          LATERAL (SELECT max(score) AS best, avg(score) AS mean
                                     FROM uba_bandit_choose(p, ARRAY[e1, e2, e3, e4, e5], ARRAY[0, 1, 2]::bigint[], '{"n": 3}'::jsonb)) v
                    WHERE t = 1) q),
	'fitted Q evaluation of an epsilon-greedy policy on one-step episodes: the mean over first steps of 0.7 max Q + 0.3 mean Q, to 1e-9');
SELECT is((SELECT uba_model_info(p) -> 'feature_names' FROM explorer), '["one", "e", "c", "e2", "ec"]'::jsonb,
	'an fqi policy keeps its feature names');
SELECT throws_ok($$SELECT uba_fqe(CASE WHEN step_id < 100 THEN (SELECT p FROM explorer) ELSE (SELECT p FROM converged) END,
                                  ARRAY[e1, e2, e3, e4, e5], action, reward, NULL, t = 1) FROM fqi_log$$,
	'22023', 'uba_fqe needs the same policy on every row', 'fqe: the policy changing between rows');

-- bad input
SELECT throws_ok($$SELECT uba_fqe(NULL, ARRAY[e1, e2], action, reward, NULL, t = 1) FROM fqi_log$$, '22004', NULL, 'fqe: a NULL policy');
SELECT throws_ok($$SELECT uba_fqe((SELECT p FROM chain), ARRAY[e1, e2], action, reward, NULL, t = 1) FROM fqi_log$$, '22000',
	'the policy takes 5 features, the states have 2', 'fqe: a policy of another size');
SELECT throws_ok($$SELECT uba_fqe((SELECT uba_bandit_train(action, ARRAY[e1, e2], reward, propensity, '{"method": "lin_ts"}'::jsonb) FROM fqi_log),
                                  ARRAY[e1, e2], action, reward, NULL, t = 1) FROM fqi_log$$, '42809', NULL, 'fqe: a Thompson sampler');
SELECT throws_ok($$SELECT uba_fqe((SELECT p FROM chain), pg_temp.oh(1), 0, 1, NULL, false) FROM generate_series(1, 3)$$, '22023',
	'no step starts an episode', 'fqe: no first steps');
SELECT throws_ok($$SELECT uba_fqe((SELECT uba_kmeans(ARRAY[1, 2]::float8[], 1)), pg_temp.oh(1), 0, 1, NULL, true) FROM generate_series(1, 3)$$,
	'42809', NULL, 'fqe: a model of another kind');
SELECT throws_ok($$SELECT uba_fqe((SELECT p FROM chain), pg_temp.oh(1), 0, 1, NULL, NULL) FROM generate_series(1, 3)$$, '22004', NULL, 'fqe: a NULL start flag');
SELECT throws_ok($$SELECT uba_fqi_train(NULL, action, reward, NULL) FROM fqi_log$$, '22004', NULL, 'a NULL state');
SELECT throws_ok($$SELECT uba_fqi_train(ARRAY[e1, e2], action, NULL, NULL) FROM fqi_log$$, '22004', NULL, 'a NULL reward');
SELECT throws_ok($$SELECT uba_fqi_train(ARRAY[e1, e2], action, reward, ARRAY[n1]) FROM fqi_log$$, '22000', NULL, 'a next state of another size');
SELECT throws_ok($$SELECT uba_fqi_train(ARRAY[e1, e2], action, reward, NULL, '{"gamma": 1.5}'::jsonb) FROM fqi_log$$, '22023', NULL, 'gamma above 1');
SELECT throws_ok($$SELECT uba_fqi_train(ARRAY[e1, e2], action, 'NaN', NULL) FROM fqi_log$$, '22000', NULL, 'a NaN reward');
SELECT throws_ok($$SELECT uba_bandit_update((SELECT p FROM chain), 1, pg_temp.oh(0), 1)$$, '0A000',
	'a fitted Q iteration policy is not updated one observation at a time', 'an FQI policy is retrained, not updated');
SELECT throws_ok($$SELECT uba_fqi_train(ARRAY[1]::float8[], 0, 1, ARRAY[2]::float8[], '{"lambda": 1e-9, "tol": 0, "iterations": 5000}'::jsonb)
                     FROM generate_series(1, 3)$$, '22003', NULL,
	'a linear Q whose next state doubles the feature diverges (theta <- 1 + 1.8 theta): an error, not infinity');

SELECT * FROM finish();
ROLLBACK;
