-- event sequences: uba_sequence_match and uba_sequence_count, ClickHouse's sequenceMatch and
-- sequenceCount.  The first table is ClickHouse's own test of the pair (00222): twelve events a
-- second apart, conditions data = 0, 1, 2, 3; each case its expected answer in ClickHouse.
SET TimeZone = 'UTC';
CREATE TABLE seq_t AS
SELECT timestamptz '2024-01-01' + t * interval '1 second' AS ts, d AS data
  FROM unnest(ARRAY[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], ARRAY[0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1, 1]) AS u(t, d);
CREATE TABLE seq_cases (pattern text, matches boolean, count bigint);
INSERT INTO seq_cases VALUES
	('', true, 12), ('.', true, 12), ('.*', true, 12), ('(?1)', true, 8), ('(?2)', true, 3), ('(?3)', true, 1),
	('(?4)', false, 0), ('(?1)(?1)', true, 4), ('(?1)(?1)(?1)', true, 2), ('(?1)(?1)(?1)(?1)', true, 2),
	('(?1)(?1)(?1)(?1)(?1)', false, 0), ('(?1)(?1)(?1)(?1)(?2)', true, 2), ('(?1)(?t>10)(?2)', true, 1),
	('(?1)(?t>11)(?2)', false, 0), ('(?1)(?t<11)(?2)', true, 2), ('(?1)(?t<3)(?3)', true, 1),
	('(?1)(?t<=2)(?3)', true, 1), ('(?1)(?t<2)(?3)', false, 0), ('(?2)(?t>=7)(?2)', true, 1),
	('(?2)(?t>7)(?2)', false, 0), ('(?2)(?3)(?1)', true, 1);
SELECT c.pattern, c.matches, c.count,
       (SELECT uba_sequence_match(c.pattern, ts, data = 0, data = 1, data = 2, data = 3) FROM seq_t) AS uba_matches,
       (SELECT uba_sequence_count(c.pattern, ts, data = 0, data = 1, data = 2, data = 3) FROM seq_t) AS uba_count
  FROM seq_cases c ORDER BY c.pattern COLLATE "C";
-- with two conditions, the events of data 0 take no part: (?1)(?2) are then next to each other
SELECT p, uba_sequence_match(p, ts, data = 1, data = 2), uba_sequence_count(p, ts, data = 1, data = 2)
  FROM seq_t, (VALUES ('(?1)(?t==2)(?2)'), ('(?1)(?t==1)(?2)'), ('(?1)(?2)'), ('(?2)(?1)')) v(p)
 GROUP BY p ORDER BY p COLLATE "C";

-- a search that runs out of choices ends at the pattern's first step, as ClickHouse's does: it
-- matches only when every step may match nothing, and a count stops there
SELECT p, uba_sequence_match(p, ts, data = 0, data = 1), uba_sequence_count(p, ts, data = 0, data = 1)
  FROM seq_t, (VALUES ('(?t<0)'), ('.*(?t==0).*(?t<0)'), ('(?1)(?t<0)'), ('(?2)(?t<0)')) v(p)
 GROUP BY p ORDER BY p COLLATE "C";

-- per user, with timestamp input: who viewed then bought within an hour, and how often
CREATE TABLE seq_clicks (user_id int, ts timestamp, event text);
INSERT INTO seq_clicks VALUES
	(1, '2024-01-01 10:00', 'view'), (1, '2024-01-01 10:20', 'cart'), (1, '2024-01-01 10:50', 'purchase'),
	(1, '2024-01-02 09:00', 'view'), (1, '2024-01-02 12:00', 'purchase'),
	(2, '2024-01-01 10:00', 'view'), (2, '2024-01-01 10:05', 'view'),
	(3, '2024-01-01 08:00', 'purchase'), (3, NULL, 'view');
SELECT user_id,
       uba_sequence_match('(?1).*(?t<=3600)(?2)', ts, event = 'view', event = 'purchase') AS bought_within_an_hour,
       uba_sequence_count('(?1).*(?2)', ts, event = 'view', event = 'purchase') AS view_then_purchase,
       uba_sequence_match('(?1)(?2)', ts, event = 'view', event = 'cart', event = 'purchase') AS view_then_cart
  FROM seq_clicks GROUP BY user_id ORDER BY user_id;
SELECT uba_sequence_match('(?1)', ts, true) IS NULL AS no_rows FROM seq_clicks WHERE false;
-- NULL conditions do not hold
SELECT uba_sequence_count('(?1)', ts, CASE WHEN event = 'view' THEN true END) FROM seq_clicks;

-- parallel workers give the serial answer
CREATE TABLE seq_many AS
SELECT g % 500 AS user_id, timestamptz '2024-01-01' + (g * 7919 % 100000) * interval '1 second' AS ts,
       (ARRAY['view', 'cart', 'purchase', 'other'])[1 + (g / 7) % 4] AS event
  FROM generate_series(1, 40000) g;
ANALYZE seq_many;
CREATE TABLE seq_serial AS
SELECT user_id, uba_sequence_count('(?1)(?t<=6000)(?2).*(?3)', ts, event = 'view', event = 'cart', event = 'purchase') AS n
  FROM seq_many GROUP BY user_id;
SELECT parallel_plans(true);
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT user_id, uba_sequence_count('(?1)(?t<=6000)(?2).*(?3)', ts, event = 'view', event = 'cart', event = 'purchase') FROM seq_many GROUP BY user_id;
CREATE TABLE seq_parallel AS
SELECT user_id, uba_sequence_count('(?1)(?t<=6000)(?2).*(?3)', ts, event = 'view', event = 'cart', event = 'purchase') AS n
  FROM seq_many GROUP BY user_id;
SELECT count(*) AS users, count(*) FILTER (WHERE p.n IS DISTINCT FROM s.n) AS different, sum(s.n) > 0 AS some_matches
  FROM seq_parallel p FULL JOIN seq_serial s USING (user_id);
RESET parallel_leader_participation;
SELECT parallel_plans(false);

-- random strings of the pattern language's characters: each is matched, or refused as invalid
-- (22023) or too costly (54000); nothing else happens (the parser's fuzz test)
SELECT setseed(0.42);
CREATE TEMP TABLE seq_fuzz AS
SELECT i, string_agg(substr('(?t<>=.*)0123 9', 1 + floor(random() * 15)::int, 1), '' ORDER BY k) AS p
  FROM generate_series(1, 3000) i, generate_series(1, 1 + i % 16) k GROUP BY i;
CREATE TEMP TABLE seq_fuzz_outcome (state text);
DO $$
DECLARE
	pat text;
BEGIN
	FOR pat IN SELECT p FROM seq_fuzz ORDER BY i LOOP
		BEGIN
			PERFORM uba_sequence_count(pat, ts, data = 0, data = 1), uba_sequence_match(pat, ts, data = 0, data = 1) FROM seq_t;
			INSERT INTO seq_fuzz_outcome VALUES ('ok');
		EXCEPTION WHEN OTHERS THEN
			INSERT INTO seq_fuzz_outcome VALUES (SQLSTATE);
		END;
	END LOOP;
END
$$;
SELECT count(*) AS patterns, count(*) FILTER (WHERE state = 'ok') > 0 AS some_matched,
       count(*) FILTER (WHERE state = '22023') > 0 AS some_refused,
       count(*) FILTER (WHERE state NOT IN ('ok', '22023', '54000')) AS anything_else
  FROM seq_fuzz_outcome;

-- mistakes
SELECT expect_error($$SELECT uba_sequence_match('(?1', ts, true) FROM seq_clicks$$);
SELECT expect_error($$SELECT uba_sequence_match('(?2)', ts, true) FROM seq_clicks$$);
SELECT expect_error($$SELECT uba_sequence_match('(?0)', ts, true) FROM seq_clicks$$);
SELECT expect_error($$SELECT uba_sequence_match('(?1)x', ts, true) FROM seq_clicks$$);
SELECT expect_error($$SELECT uba_sequence_match('(?1)(?t~5)', ts, true) FROM seq_clicks$$);
SELECT expect_error($$SELECT uba_sequence_match('(?1)(?t<)', ts, true) FROM seq_clicks$$);
SELECT expect_error($$SELECT uba_sequence_match('(?t<5)(?t<5)', ts, true) FROM seq_clicks$$);
SELECT expect_error($$SELECT uba_sequence_match(NULL, ts, true) FROM seq_clicks$$);
SELECT expect_error($$SELECT uba_sequence_match('(?1)', ts, VARIADIC NULL::boolean[]) FROM seq_clicks$$);
SELECT expect_error($$SELECT uba_sequence_match('(?1)', ts, VARIADIC '{}'::boolean[]) FROM seq_clicks$$);
SELECT expect_error($$SELECT uba_sequence_match(CASE WHEN user_id = 1 THEN '(?1)' ELSE '.' END, ts, true) FROM seq_clicks$$);
SELECT expect_error($$SELECT uba_sequence_match('(?1)', ts, VARIADIC CASE WHEN user_id = 1 THEN ARRAY[true] ELSE ARRAY[true, false] END) FROM seq_clicks$$);
SELECT expect_error($$SELECT uba_sequence_match('(?1)', ts, VARIADIC array_fill(true, ARRAY[33])) FROM seq_clicks$$);
SELECT expect_error($$SELECT uba_sequence_match(repeat('.', 1001), ts, true) FROM seq_clicks$$);
-- a pattern that backtracks too much is stopped, not left running
SELECT expect_error($$SELECT uba_sequence_count('(?1).*(?1).*(?1).*(?1).*(?2)', ts, true, ts = '2024-01-01') FROM generate_series(timestamptz '2024-01-01', '2024-01-02', '1 minute') ts$$);
-- while the automaton answers the same question for uba_sequence_match at once
SELECT uba_sequence_match('(?1).*(?1).*(?1).*(?1).*(?2)', ts, true, ts = '2024-01-01') AS matches FROM generate_series(timestamptz '2024-01-01', '2024-01-02', '1 minute') ts;
-- one group's events beyond the memory limit (uba.work_mem here) are refused, not held
SET uba.work_mem = '1MB';
SELECT expect_error($$SELECT uba_sequence_count('(?1)', ts, true) FROM generate_series(timestamptz '2024-01-01', '2024-01-02', '1 second') ts$$);
RESET uba.work_mem;

-- ---------- uba_next_event: ClickHouse's sequenceNextNode ----------
-- ClickHouse's documentation table test_flow: pages of three users, a second apart
CREATE TABLE next_flow (dt timestamptz, id int, page text);
INSERT INTO next_flow VALUES ('1970-01-01 09:00:01', 1, 'Home'), ('1970-01-01 09:00:02', 1, 'Gift'),
	('1970-01-01 09:00:03', 1, 'Exit'), ('1970-01-01 09:00:01', 2, 'Home'), ('1970-01-01 09:00:02', 2, 'Home'),
	('1970-01-01 09:00:03', 2, 'Gift'), ('1970-01-01 09:00:04', 2, 'Basket'), ('1970-01-01 09:00:01', 3, 'Gift'),
	('1970-01-01 09:00:02', 3, 'Home'), ('1970-01-01 09:00:03', 3, 'Gift'), ('1970-01-01 09:00:04', 3, 'Basket');
-- ClickHouse's answers: (forward, head, Home): Gift, Home, NULL; (forward, head, Home, Gift): Exit, NULL, NULL;
-- (backward, tail, Basket): NULL, Gift, Gift; (forward, first_match, Gift): Exit, Basket, Home;
-- (backward, last_match, Gift): Home, Home, Home
SELECT id, uba_next_event('forward', 'head', dt, page, true, page = 'Home') AS home_next,
       uba_next_event('forward', 'head', dt, page, true, page = 'Home', page = 'Gift') AS home_gift_next,
       uba_next_event('backward', 'tail', dt, page, true, page = 'Basket') AS before_basket,
       uba_next_event('forward', 'first_match', dt, page, true, page = 'Gift') AS after_first_gift,
       uba_next_event('backward', 'last_match', dt, page, true, page = 'Gift') AS before_last_gift,
       uba_next_event('forward', 'head', dt::timestamp, page, page = 'Home', VARIADIC '{}'::boolean[]) AS base_itself
  FROM next_flow GROUP BY id ORDER BY id;
-- the base condition narrows the base: the first Gift after the first second
SELECT id, uba_next_event('forward', 'first_match', dt, page, dt > '1970-01-01 09:00:01', page = 'Gift') AS next
  FROM next_flow GROUP BY id ORDER BY id;
-- what users do right after Home then Gift: the usual report, one row per answer
SELECT next, count(*) AS users
  FROM (SELECT id, uba_next_event('forward', 'first_match', dt, page, true, page = 'Home', page = 'Gift') AS next
          FROM next_flow GROUP BY id) s
 GROUP BY next ORDER BY users DESC, next NULLS LAST;

-- against the definition written in PL/pgSQL on random events with ties, every base and direction
CREATE TABLE next_gen AS
SELECT u, timestamptz '2024-01-01' + ((i * 7 + u * 3) % 9) * interval '1 minute' AS ts,
       (ARRAY['a', 'b', 'c', 'd'])[1 + (i * i + u) % 4] AS ev, (i + u) % 3 <> 0 AS ok
  FROM generate_series(1, 200) u, generate_series(1, 2 + u % 9) i;
CREATE FUNCTION next_brute(forward boolean, base text, uid int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	evs text[]; oks boolean[]; n int; b int := NULL; i int;
BEGIN
	SELECT array_agg(ev ORDER BY ts, ev, ok), array_agg(ok ORDER BY ts, ev, ok) INTO evs, oks FROM next_gen WHERE u = uid;
	n := cardinality(evs);
	IF n <= 2 THEN RETURN NULL; END IF;
	IF base = 'head' THEN IF oks[1] THEN b := 1; END IF;
	ELSIF base = 'tail' THEN IF oks[n] THEN b := n; END IF;
	ELSIF base = 'first_match' THEN
		FOR i IN 1 .. n LOOP IF oks[i] AND evs[i] = 'a' THEN b := i; EXIT; END IF; END LOOP;
	ELSE
		FOR i IN REVERSE n .. 1 LOOP IF oks[i] AND evs[i] = 'a' THEN b := i; EXIT; END IF; END LOOP;
	END IF;
	IF b IS NULL THEN RETURN NULL; END IF;
	-- conditions: 1 is ev = 'a', 2 is ev <> 'c'
	IF forward THEN
		IF b + 2 > n OR evs[b] <> 'a' OR evs[b + 1] = 'c' THEN RETURN NULL; END IF;
		RETURN evs[b + 2];
	END IF;
	IF b - 2 < 1 OR evs[b] <> 'a' OR evs[b - 1] = 'c' THEN RETURN NULL; END IF;
	RETURN evs[b - 2];
END $$;
WITH got AS (SELECT u,
               uba_next_event('forward', 'head', ts, ev, ok, ev = 'a', ev <> 'c') AS fh,
                    uba_next_event('forward', 'first_match', ts, ev, ok, ev = 'a', ev <> 'c') AS ff,
                    uba_next_event('forward', 'last_match', ts, ev, ok, ev = 'a', ev <> 'c') AS fl,
                    uba_next_event('backward', 'tail', ts, ev, ok, ev = 'a', ev <> 'c') AS bt,
                    uba_next_event('backward', 'first_match', ts, ev, ok, ev = 'a', ev <> 'c') AS bf,
                    uba_next_event('backward', 'last_match', ts, ev, ok, ev = 'a', ev <> 'c') AS bl
               FROM next_gen GROUP BY u)
SELECT count(*) AS users,
       count(*) FILTER (WHERE fh IS NOT NULL OR ff IS NOT NULL OR bl IS NOT NULL) AS with_answers,
       count(*) FILTER (WHERE fh IS DISTINCT FROM next_brute(true, 'head', u) OR ff IS DISTINCT FROM next_brute(true, 'first_match', u)
                           OR fl IS DISTINCT FROM next_brute(true, 'last_match', u) OR bt IS DISTINCT FROM next_brute(false, 'tail', u)
                           OR bf IS DISTINCT FROM next_brute(false, 'first_match', u)
                           OR bl IS DISTINCT FROM next_brute(false, 'last_match', u)) AS mismatches
  FROM got;
-- a parallel plan gives the same answers
SELECT parallel_plans(true);
SELECT count(*) AS users, count(*) FILTER (WHERE g IS DISTINCT FROM next_brute(true, 'first_match', u)) AS mismatches
  FROM (SELECT u, uba_next_event('forward', 'first_match', ts, ev, ok, ev = 'a', ev <> 'c') AS g FROM next_gen GROUP BY u) s;
SELECT parallel_plans(false);
-- mistakes
SELECT expect_error($$SELECT uba_next_event('sideways', 'head', dt, page, true, true) FROM next_flow$$);
SELECT expect_error($$SELECT uba_next_event('forward', 'middle', dt, page, true, true) FROM next_flow$$);
SELECT expect_error($$SELECT uba_next_event('backward', 'head', dt, page, true, true) FROM next_flow$$);
SELECT expect_error($$SELECT uba_next_event(NULL, 'head', dt, page, true, true) FROM next_flow$$);
SELECT expect_error($$SELECT uba_next_event('forward', 'head', dt, page, true, VARIADIC CASE WHEN id = 1 THEN ARRAY[true] ELSE ARRAY[true, true] END) FROM next_flow$$);
SELECT expect_error($$SELECT uba_next_event('forward', CASE WHEN id = 1 THEN 'head' ELSE 'first_match' END, dt, page, true, true) FROM next_flow$$);
SELECT expect_error($$SELECT uba_next_event('forward', 'head', dt, page, true, VARIADIC array_fill(true, ARRAY[65])) FROM next_flow$$);
SELECT expect_error($$SELECT uba_next_event('forward', 'head', dt, page, true, VARIADIC '{{true}}'::boolean[]) FROM next_flow$$);
DROP TABLE next_flow, next_gen;
DROP FUNCTION next_brute(boolean, text, int);
