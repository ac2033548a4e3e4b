-- funnel modes (ClickHouse windowFunnel's options, PostHog's unordered funnel) and the times of
-- the chain (uba_funnel_times), on hand-made sequences whose answers follow from the definitions
-- in doc/behaviour.md.  Events are minutes after midnight; k names the step (0: none).
SET TimeZone = 'UTC';
CREATE TABLE fm (name text, m int, k int);
INSERT INTO fm VALUES
	-- A B D C: strict_order stops at D (2); the default goes on to C (3)
	('intervening', 0, 1), ('intervening', 1, 2), ('intervening', 2, 0), ('intervening', 3, 3),
	-- A B B C: strict_deduplication stops at the second B (2)
	('repeat', 0, 1), ('repeat', 1, 2), ('repeat', 2, 2), ('repeat', 3, 3),
	-- A C B C: strict_order stops at the early C (1); allow_reentry ignores it (3)
	('early step', 0, 1), ('early step', 1, 3), ('early step', 2, 2), ('early step', 3, 3),
	-- A and B at the same time, then C: strict_increase needs B later than A (1 without it... 3)
	('tie', 0, 1), ('tie', 0, 2), ('tie', 5, 3),
	-- C B A: in order nothing after A (1); unordered counts 3 distinct steps
	('reversed', 0, 3), ('reversed', 1, 2), ('reversed', 2, 1),
	-- A, A, B at 70 minutes: the later start is within the hour
	('later start', 0, 1), ('later start', 30, 1), ('later start', 70, 2), ('later start', 75, 3);
-- one event holding steps 1 and 2: strict_once may use it once
CREATE TABLE fm_multi (name text, m int, steps boolean[]);
INSERT INTO fm_multi VALUES
	('one event, two steps', 0, ARRAY[true, true, false]), ('one event, two steps', 5, ARRAY[false, false, true]),
	('two events, two steps', 0, ARRAY[true, true, false]), ('two events, two steps', 0, ARRAY[false, true, false]),
	('two events, two steps', 5, ARRAY[false, false, true]);

WITH e AS (SELECT name, timestamptz '2024-01-01' + m * interval '1 minute' AS ts, k FROM fm)
SELECT name,
       uba_funnel(ts, '1 hour', ARRAY[k = 1, k = 2, k = 3]) AS "default",
       uba_funnel(ts, '1 hour', ARRAY[k = 1, k = 2, k = 3], '{"strict_order": true}') AS strict_order,
       uba_funnel(ts, '1 hour', ARRAY[k = 1, k = 2, k = 3], '{"strict_order": true, "allow_reentry": true}') AS reentry,
       uba_funnel(ts, '1 hour', ARRAY[k = 1, k = 2, k = 3], '{"strict_deduplication": true}') AS dedup,
       uba_funnel(ts, '1 hour', ARRAY[k = 1, k = 2, k = 3], '{"strict_increase": true}') AS increase,
       uba_funnel(ts, '1 hour', ARRAY[k = 1, k = 2, k = 3], '{"strict_once": true}') AS once,
       uba_funnel(ts, '1 hour', ARRAY[k = 1, k = 2, k = 3], '{"unordered": true}') AS unordered
  FROM e GROUP BY name ORDER BY name;

WITH e AS (SELECT name, timestamptz '2024-01-01' + m * interval '1 minute' AS ts, steps FROM fm_multi)
SELECT name, uba_funnel(ts, '1 hour', steps) AS "default",
       uba_funnel(ts, '1 hour', steps, '{"strict_once": true}') AS once,
       uba_funnel(ts, '1 hour', steps, '{"strict_once": true, "strict_increase": true}') AS once_increase
  FROM e GROUP BY name ORDER BY name;

-- the times: the first chain to reach the deepest step, with the latest start and latest steps
WITH e AS (SELECT name, timestamp '2024-01-01' + m * interval '1 minute' AS ts, k FROM fm)
SELECT name, uba_funnel_times(ts, '1 hour', ARRAY[k = 1, k = 2, k = 3]) AS times,
       uba_funnel_times(ts, '1 hour', ARRAY[k = 1, k = 2, k = 3], '{"unordered": true}') AS unordered_times
  FROM e GROUP BY name ORDER BY name;
-- A at 0 and 10, B at 20, C at 30 and 40: converted at 30 from the start at 10
SELECT uba_funnel_times(timestamptz '2024-01-01' + m * interval '1 minute', '1 hour', ARRAY[k = 1, k = 2, k = 3])
  FROM (VALUES (0, 1), (10, 1), (20, 2), (30, 3), (40, 3)) v(m, k);
-- time to convert as SQL makes it: median minutes from step 1 to step 3 over users
WITH e AS (SELECT u, timestamptz '2024-01-01' + (u * m) * interval '1 minute' AS ts, k
             FROM generate_series(1, 5) u, (VALUES (0, 1), (2, 2), (4, 3)) v(m, k)),
     t AS (SELECT u, uba_funnel_times(ts, '1 day', ARRAY[k = 1, k = 2, k = 3]) AS t FROM e GROUP BY u)
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t[3] - t[1]) / 60) AS median_minutes,
       avg(extract(epoch FROM t[3] - t[1]) / 60) AS mean_minutes
  FROM t;
-- no step 1: depth 0 and no times
SELECT uba_funnel(now(), '1 day', ARRAY[false, true]) AS depth,
       uba_funnel_times(now(), '1 day', ARRAY[false, true]) AS times;

-- modes against a brute force on random events: strict_order is the default depth of the events
-- up to the first event of no step after a start, when no step comes early (checked by SQL)
CREATE TABLE fm_gen AS
SELECT u, timestamptz '2024-01-01' + ((i * 7919 + u * 104729) % 500) * interval '1 minute' AS ts,
       ((i * 31 + u * 17) % 4) AS k
  FROM generate_series(1, 300) u, generate_series(1, 12) i;
-- unordered = the most distinct steps within the window after a start, by brute force in SQL
WITH starts AS (SELECT DISTINCT u, ts FROM fm_gen WHERE k > 0),
     brute AS (SELECT s.u, max(d) AS depth
                 FROM (SELECT s.u, s.ts, count(DISTINCT g.k) AS d
                         FROM starts s JOIN fm_gen g ON g.u = s.u AND g.k > 0
                                                    AND g.ts BETWEEN s.ts AND s.ts + interval '90 minutes'
                        GROUP BY s.u, s.ts) s
                GROUP BY s.u),
     got AS (SELECT u, uba_funnel(ts, '90 minutes', ARRAY[k = 1, k = 2, k = 3], '{"unordered": true}') AS depth
               FROM fm_gen GROUP BY u)
SELECT count(*) AS users, count(*) FILTER (WHERE b.depth IS DISTINCT FROM g.depth) AS mismatches
  FROM got g FULL JOIN brute b USING (u);
-- every mode in a parallel plan equals the serial answer
CREATE TABLE fm_serial AS
SELECT u, uba_funnel(ts, '2 hours', ARRAY[k = 1, k = 2, k = 3], '{"strict_order": true}') AS o,
       uba_funnel(ts, '2 hours', ARRAY[k = 1, k = 2, k = 3], '{"strict_deduplication": true, "strict_increase": true}') AS d,
       uba_funnel(ts, '2 hours', ARRAY[k = 1, k = 2, k = 3], '{"strict_once": true}') AS s,
       uba_funnel_times(ts, '2 hours', ARRAY[k = 1, k = 2, k = 3]) AS t
  FROM fm_gen GROUP BY u;
SELECT parallel_plans(true);
EXPLAIN (COSTS OFF) SELECT uba_funnel_times(ts, '2 hours', ARRAY[k = 1, k = 2, k = 3]) FROM fm_gen;
SELECT uba_funnel(ts, '2 hours', ARRAY[k = 1, k = 2, k = 3], '{"strict_once": true}') AS once_one_user,
       uba_funnel_times(ts, '2 hours', ARRAY[k = 1, k = 2, k = 3], '{"strict_order": true}') AS times_one_user
  FROM fm_gen WHERE u = 7;
SELECT s, t FROM fm_serial WHERE u = 7;
SELECT count(*) AS users,
       count(*) FILTER (WHERE (s.o, s.d, s.s, s.t) IS DISTINCT FROM (p.o, p.d, p.s, p.t)) AS mismatches
  FROM fm_serial s JOIN (
	SELECT u, uba_funnel(ts, '2 hours', ARRAY[k = 1, k = 2, k = 3], '{"strict_order": true}') AS o,
	       uba_funnel(ts, '2 hours', ARRAY[k = 1, k = 2, k = 3], '{"strict_deduplication": true, "strict_increase": true}') AS d,
	       uba_funnel(ts, '2 hours', ARRAY[k = 1, k = 2, k = 3], '{"strict_once": true}') AS s,
	       uba_funnel_times(ts, '2 hours', ARRAY[k = 1, k = 2, k = 3]) AS t
	  FROM fm_gen GROUP BY u) p USING (u);
SELECT parallel_plans(false);

-- bad options
SELECT expect_error($$SELECT uba_funnel(now(), '1 day', ARRAY[true], '{"allow_reentry": true}')$$);
SELECT expect_error($$SELECT uba_funnel(now(), '1 day', ARRAY[true], '{"unordered": true, "strict_once": true}')$$);
SELECT expect_error($$SELECT uba_funnel(now(), '1 day', ARRAY[true], '{"strict": true}')$$);
SELECT expect_error($$SELECT uba_funnel_times(now(), '1 day', ARRAY[true], '{"strict_once": true}')$$);
SELECT expect_error($$SELECT uba_funnel(ts, '1 day', ARRAY[true], CASE WHEN ts > now() THEN '{}'::jsonb END)
                        FROM (VALUES (now()), (now() + interval '1 day')) v(ts)$$);
-- strict_once takes at most 64 events holding several steps at one time; others are not limited
SELECT expect_error($$SELECT uba_funnel(now(), '1 day', ARRAY[true, true], '{"strict_once": true}')
                        FROM generate_series(1, 65)$$);
SELECT uba_funnel(timestamptz '2024-01-01', '1 day', ARRAY[g % 3 = 0, g % 3 = 1, g % 3 = 2, false], '{"strict_once": true}')
  FROM generate_series(1, 100000) g;
DROP TABLE fm, fm_multi, fm_gen, fm_serial;
