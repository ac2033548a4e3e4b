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
