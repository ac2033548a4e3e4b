-- paths: uba_path per user, top paths, and the edges of a Sankey diagram
SET TimeZone = 'UTC';
CREATE TABLE path_events (user_id int, ts timestamptz, event text);
INSERT INTO path_events VALUES
	(1, '2024-01-01 10:00', 'home'), (1, '2024-01-01 10:01', 'search'), (1, '2024-01-01 10:02', 'search'),
	(1, '2024-01-01 10:03', 'product'), (1, '2024-01-01 10:04', 'cart'), (1, '2024-01-01 10:05', 'checkout'),
	(1, '2024-01-03 09:00', 'home'), (1, '2024-01-03 09:01', 'product'),
	(2, '2024-01-01 11:00', 'product'), (2, '2024-01-01 11:01', 'home'), (2, '2024-01-01 11:02', 'search'),
	(2, '2024-01-01 11:03', 'product'), (2, '2024-01-01 11:04', 'cart'),
	(3, '2024-01-02 12:00', 'search'), (3, '2024-01-02 12:00', 'home'), (3, NULL, 'cart'), (3, '2024-01-02 12:10', NULL);
-- default: the first 5 steps, repeats collapsed; events at the same time by name
SELECT user_id, uba_path(ts, event) FROM path_events GROUP BY user_id ORDER BY user_id;
-- from the first home, at most 4 steps, in one session (30 minutes), repeats kept
SELECT user_id, uba_path(ts, event, '{"start": "home", "max_steps": 4, "session_gap_minutes": 30, "collapse_repeats": false}'::jsonb)
  FROM path_events GROUP BY user_id ORDER BY user_id;
-- the 3 steps leading up to the first cart (users without one: NULL)
SELECT user_id, uba_path(ts::timestamp, event, '{"end": "cart", "max_steps": 3}'::jsonb) FROM path_events GROUP BY user_id ORDER BY user_id;
-- from home to checkout
SELECT user_id, uba_path(ts, event, '{"start": "home", "end": "checkout", "max_steps": 10}'::jsonb) FROM path_events GROUP BY user_id ORDER BY user_id;
-- top paths, and the edges of a Sankey diagram (step, source, target, users)
CREATE TABLE paths AS SELECT user_id, uba_path(ts, event, '{"start": "home"}'::jsonb) AS path FROM path_events GROUP BY user_id;
SELECT path, count(*) AS users FROM paths WHERE path IS NOT NULL GROUP BY path ORDER BY users DESC, path;
SELECT step, path[step] AS source, path[step + 1] AS target, count(*) AS users
  FROM paths, generate_subscripts(path, 1) AS step
 WHERE step < cardinality(path)
 GROUP BY 1, 2, 3 ORDER BY 1, 4 DESC, 2, 3;
SELECT uba_path(ts, event) IS NULL AS no_rows FROM path_events WHERE false;
-- sessions: infinite times are sessions of their own; a tiny gap still splits; an end outside
-- the start's session is not reached
SELECT c, uba_path(ts, e, o::jsonb) FROM (VALUES
	(1, '-infinity'::timestamptz, 'a', '{"session_gap_minutes": 30}'), (1, '2024-01-01', 'b', '{"session_gap_minutes": 30}'),
	(2, '1999-01-01', 'a', '{"session_gap_minutes": 30}'), (2, 'infinity', 'b', '{"session_gap_minutes": 30}'),
	(3, '-infinity', 'a', '{"end": "b", "session_gap_minutes": 30}'), (3, '2024-01-01', 'b', '{"end": "b", "session_gap_minutes": 30}'),
	(4, '2024-01-01 10:00', 'a', '{"session_gap_minutes": 1e-9}'), (4, '2024-01-02 10:00', 'b', '{"session_gap_minutes": 1e-9}'),
	(5, '2024-01-01 10:00', 'a', '{"start": "a", "end": "c", "session_gap_minutes": 30}'),
	(5, '2024-01-01 10:05', 'b', '{"start": "a", "end": "c", "session_gap_minutes": 30}'),
	(5, '2024-01-02 10:00', 'c', '{"start": "a", "end": "c", "session_gap_minutes": 30}')) v(c, ts, e, o)
 GROUP BY c ORDER BY c;

-- parallel workers give the serial answer
CREATE TABLE path_many AS
SELECT g % 400 AS user_id, timestamptz '2024-01-01' + abs(hashint4(g) % 50000) * interval '1 second' AS ts,
       (ARRAY['home', 'search', 'product', 'cart', 'checkout'])[1 + abs(hashint4(g + 7) % 5)] AS event
  FROM generate_series(1, 30000) g;
ANALYZE path_many;
CREATE TABLE path_serial AS SELECT user_id, uba_path(ts, event, '{"start": "search", "max_steps": 6}'::jsonb) AS p FROM path_many GROUP BY user_id;
SELECT parallel_plans(true);
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT user_id, uba_path(ts, event, '{"start": "search", "max_steps": 6}'::jsonb) FROM path_many GROUP BY user_id;
CREATE TABLE path_parallel AS SELECT user_id, uba_path(ts, event, '{"start": "search", "max_steps": 6}'::jsonb) AS p FROM path_many GROUP BY user_id;
SELECT count(*) AS users, count(*) FILTER (WHERE a.p IS DISTINCT FROM b.p) AS different, count(DISTINCT a.p) > 100 AS varied
  FROM path_parallel a FULL JOIN path_serial b USING (user_id);
RESET parallel_leader_participation;
SELECT parallel_plans(false);

-- mistakes
SELECT expect_error($$SELECT uba_path(ts, event, '{"start": ["home"]}'::jsonb) FROM path_events$$);
SELECT expect_error($$SELECT uba_path(ts, event, '{"end": ""}'::jsonb) FROM path_events$$);
SELECT expect_error($$SELECT uba_path(ts, event, '{"max_steps": 0}'::jsonb) FROM path_events$$);
SELECT expect_error($$SELECT uba_path(ts, event, '{"session_gap_minutes": -1}'::jsonb) FROM path_events$$);
SELECT expect_error($$SELECT uba_path(ts, event, '{"steps": 3}'::jsonb) FROM path_events$$);
SELECT expect_error($$SELECT uba_path(ts, event, jsonb_build_object('start', event)) FROM path_events$$);
-- one user's events beyond the memory limit (uba.work_mem here) are refused, not held
SET uba.work_mem = '1MB';
SELECT expect_error($$SELECT uba_path(ts, 'view') FROM generate_series(timestamptz '2024-01-01', '2024-01-02', '1 second') ts$$);
RESET uba.work_mem;
