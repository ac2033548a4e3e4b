-- Contextual bandits online (src/decide/bandit.c): a simulated run of 2,000 decisions, each chosen
-- by uba_bandit_choose and learnt by uba_bandit_update.  Five actions, contexts x ~ N(0, I_5),
-- expected reward mu_a(x) = c_a + beta_a . x (fixed, seeded) plus N(0, 0.5) noise.  Regret is the
-- expected reward of the best action minus that of the one chosen.  LinUCB's cumulative regret must
-- grow sublinearly (its second 1,000 decisions cost less than its first) and stay below
-- epsilon-greedy's and a random policy's; lin_ts's below random's.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(5);

CREATE FUNCTION pg_temp.n() RETURNS float8 LANGUAGE sql VOLATILE AS
	$$ SELECT sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) $$;
SELECT setseed(0.31);
CREATE TEMP TABLE arms AS
SELECT a::bigint AS action, pg_temp.n() AS c, ARRAY[pg_temp.n(), pg_temp.n(), pg_temp.n(), pg_temp.n(), pg_temp.n()] AS beta
  FROM generate_series(1, 5) a;
CREATE TEMP TABLE steps AS
SELECT t, ARRAY[pg_temp.n(), pg_temp.n(), pg_temp.n(), pg_temp.n(), pg_temp.n()] AS x, 0.5 * pg_temp.n() AS noise
  FROM generate_series(1, 2000) t;
CREATE FUNCTION pg_temp.mu(a bigint, x float8[]) RETURNS float8 LANGUAGE sql STABLE AS $$
	SELECT c + beta[1] * x[1] + beta[2] * x[2] + beta[3] * x[3] + beta[4] * x[4] + beta[5] * x[5] FROM arms WHERE action = a
$$;

-- one online run: choose, observe, update; returns each step's regret
CREATE FUNCTION pg_temp.run(options jsonb) RETURNS TABLE (t int, regret float8) LANGUAGE plpgsql AS $$
DECLARE
	policy bytea;
	s record;
	chosen bigint;
	best float8;
BEGIN
	-- the start: one observation of each action at the zero context
	IF options->>'method' <> 'random' THEN
		SELECT uba_bandit_train(action, ARRAY[0, 0, 0, 0, 0]::float8[], 0, 1, options) INTO policy FROM arms;
	END IF;
	FOR s IN SELECT * FROM steps ORDER BY steps.t LOOP
		IF options->>'method' = 'random' THEN
			chosen := 1 + floor(random() * 5)::bigint;
		ELSE
			SELECT c.action INTO chosen FROM uba_bandit_choose(policy, s.x, ARRAY[1, 2, 3, 4, 5]::bigint[],
			                                                   jsonb_build_object('seed', s.t)) c;
		END IF;
		SELECT max(pg_temp.mu(action, s.x)) INTO best FROM arms;
		t := s.t;
		regret := best - pg_temp.mu(chosen, s.x);
		RETURN NEXT;
		IF options->>'method' <> 'random' THEN
			policy := uba_bandit_update(policy, chosen, s.x, pg_temp.mu(chosen, s.x) + s.noise);
		END IF;
	END LOOP;
END $$;

SELECT setseed(0.5);
CREATE TEMP TABLE regret AS
SELECT m.name, sum(r.regret) FILTER (WHERE r.t <= 1000) AS first, sum(r.regret) FILTER (WHERE r.t > 1000) AS second
  FROM (VALUES ('linucb', '{"method": "linucb", "alpha": 1}'::jsonb), ('lin_ts', '{"method": "lin_ts", "v": 0.5}'),
               ('epsilon_greedy', '{"method": "epsilon_greedy", "epsilon": 0.1}'), ('random', '{"method": "random"}')) m(name, options),
       LATERAL pg_temp.run(m.options) r
 GROUP BY m.name;

SELECT ok((SELECT second < first / 2 FROM regret WHERE name = 'linucb'),
	'LinUCB''s regret grows sublinearly: decisions 1,001-2,000 cost less than half of 1-1,000 (' ||
	(SELECT round(first::numeric, 1) || ' then ' || round(second::numeric, 1) FROM regret WHERE name = 'linucb') || ')');
SELECT ok((SELECT l.first + l.second < e.first + e.second FROM regret l, regret e WHERE l.name = 'linucb' AND e.name = 'epsilon_greedy'),
	'LinUCB''s cumulative regret is below epsilon-greedy''s (' ||
	(SELECT string_agg(name || ' ' || round((first + second)::numeric, 1), ', ' ORDER BY first + second) FROM regret) || ')');
SELECT ok((SELECT l.first + l.second < r.first + r.second FROM regret l, regret r WHERE l.name = 'linucb' AND r.name = 'random'),
	'LinUCB''s cumulative regret is below a random policy''s');
SELECT ok((SELECT l.first + l.second < r.first + r.second FROM regret l, regret r WHERE l.name = 'lin_ts' AND r.name = 'random'),
	'linear Thompson sampling''s is below a random policy''s');
SELECT ok((SELECT second > first * 0.8 FROM regret WHERE name = 'random'),
	'a random policy''s regret grows linearly (the simulation can tell them apart)');

SELECT * FROM finish();
ROLLBACK;
