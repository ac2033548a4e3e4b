-- Fitted Q iteration (src/decide/fqi.c) against an independent NumPy reference (bench/fqi_reference.py)
-- on a committed log of 400 simulated retention-offer episodes: Q values to 1e-9 after 40 and 3
-- iterations with gamma 0.9, and gamma 0 (the myopic ridge regression); a chain whose optimal Q is
-- known; the far-sighted policy beating the myopic one in the simulator (run here in SQL); bad input.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(17);

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
CREATE FUNCTION pg_temp.simulate(policy bytea, episodes int, seed float8) RETURNS TABLE (value float8, std_error float8)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM setseed(seed);
	CREATE TEMP TABLE ep AS
	SELECT g AS id, 0.2 + 0.6 * random() AS e, 0::float8 AS c, 0::float8 AS total, true AS alive FROM generate_series(1, episodes) g;
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
		UPDATE ep SET total = total + nxt.reward, e = nxt.e2, c = nxt.c2, alive = nxt.uc >= 0.15 * (1 - nxt.e2)
		  FROM nxt WHERE ep.id = nxt.id;
	END LOOP;
	RETURN QUERY SELECT avg(total), stddev(total) / sqrt(episodes) FROM ep;
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

-- bad input
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
