-- lifecycle: new, returning, resurrecting and dormant users per period, as PostHog counts them
SET TimeZone = 'UTC';
CREATE TABLE life_events (user_id int, ts timestamptz);
INSERT INTO life_events VALUES
	-- u1: weeks 1, 2, 4 of January 2024 (weeks from Monday Jan 1)
	(1, '2024-01-02'), (1, '2024-01-03'), (1, '2024-01-09'), (1, '2024-01-24'),
	-- u2: first seen in December 2023, then weeks 2 and 3
	(2, '2023-12-20'), (2, '2024-01-10'), (2, '2024-01-17'),
	-- u3: new in week 3; an event after the range; a NULL time
	(3, '2024-01-16'), (3, '2024-03-01'), (3, NULL);
SELECT user_id, (l).periods, (l).statuses FROM (
	SELECT user_id, uba_lifecycle(ts, '{"start": "2024-01-01", "end": "2024-01-31", "period": "week"}'::jsonb) AS l
	  FROM life_events GROUP BY user_id) s
 ORDER BY user_id;
-- the chart: users per week and status (dormant users are usually drawn below the axis)
SELECT s.period, s.status, count(*) AS users
  FROM (SELECT uba_lifecycle(ts::timestamp, '{"start": "2024-01-01", "end": "2024-01-31", "period": "week"}'::jsonb) AS l
          FROM life_events GROUP BY user_id) u,
       unnest((l).periods, (l).statuses) AS s(period, status)
 GROUP BY 1, 2 ORDER BY 1, 2;
-- by day and by month
SELECT user_id, (l).statuses FROM (
	SELECT user_id, uba_lifecycle(ts, '{"start": "2024-01-08", "end": "2024-01-11", "period": "day"}'::jsonb) AS l
	  FROM life_events GROUP BY user_id) s ORDER BY user_id;
SELECT user_id, (l).periods, (l).statuses FROM (
	SELECT user_id, uba_lifecycle(ts, '{"start": "2023-11-15", "end": "2024-03-31", "period": "month"}'::jsonb) AS l
	  FROM life_events GROUP BY user_id) s ORDER BY user_id;
SELECT uba_lifecycle(ts, '{"start": "2024-01-01"}'::jsonb) IS NULL AS no_rows FROM life_events WHERE false;

-- stickiness (PostHog): users by the number of days they were active in one week
SELECT days, count(*) AS users FROM (
	SELECT user_id, count(DISTINCT ts::date) AS days FROM life_events
	 WHERE ts >= '2024-01-01' AND ts < '2024-01-08' GROUP BY user_id) s
 GROUP BY days ORDER BY days;

-- parallel workers give the serial answer
CREATE TABLE life_many AS
SELECT g % 500 AS user_id, timestamptz '2023-10-01' + abs(hashint4(g) % 200) * interval '1 day' AS ts
  FROM generate_series(1, 20000) g WHERE hashint4(g * 7) % 3 <> 0;
ANALYZE life_many;
CREATE TABLE life_serial AS SELECT user_id, uba_lifecycle(ts, '{"start": "2024-01-01", "end": "2024-04-30"}'::jsonb) AS l FROM life_many GROUP BY user_id;
SELECT parallel_plans(true);
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT user_id, uba_lifecycle(ts, '{"start": "2024-01-01", "end": "2024-04-30"}'::jsonb) FROM life_many GROUP BY user_id;
CREATE TABLE life_parallel AS SELECT user_id, uba_lifecycle(ts, '{"start": "2024-01-01", "end": "2024-04-30"}'::jsonb) AS l FROM life_many GROUP BY user_id;
SELECT count(*) AS users, count(*) FILTER (WHERE a.l IS DISTINCT FROM b.l) AS different,
       count(DISTINCT a.l) > 50 AS varied
  FROM life_parallel a FULL JOIN life_serial b USING (user_id);
RESET parallel_leader_participation;
SELECT parallel_plans(false);

-- mistakes
SELECT expect_error($$SELECT uba_lifecycle(ts, '{}'::jsonb) FROM life_events$$);
SELECT expect_error($$SELECT uba_lifecycle(ts, '{"start": "2024-02-01", "end": "2024-01-01"}'::jsonb) FROM life_events$$);
SELECT expect_error($$SELECT uba_lifecycle(ts, '{"start": "1900-01-01", "end": "2024-01-01", "period": "day"}'::jsonb) FROM life_events$$);
SELECT expect_error($$SELECT uba_lifecycle(ts, '{"start": "2024-01-01", "period": "year"}'::jsonb) FROM life_events$$);
SELECT expect_error($$SELECT uba_lifecycle('infinity'::timestamptz, '{"start": "2024-01-01"}'::jsonb)$$);
SELECT expect_error($$SELECT uba_lifecycle(ts, jsonb_build_object('start', ts::date)) FROM life_events$$);
