-- uba_session, uba_funnel, uba_retention: semantics on hand-made events, brute-force
-- checks on generated events, parallel plans, every error path
SET TIME ZONE 'UTC';

-- ---------- uba_session ----------

-- a new session when the time since the previous event exceeds the gap (strictly); equal
-- times never split; a NULL time gets NULL and is passed over
CREATE TABLE ev (user_id int, ts timestamptz, what text);
INSERT INTO ev VALUES
 (1, '2024-03-01 10:00', 'view'), (1, '2024-03-01 10:10', 'view'), (1, '2024-03-01 10:40', 'cart'),
 (1, '2024-03-01 11:10:00.000001', 'view'), (1, '2024-03-01 11:10:00.000001', 'cart'),
 (1, NULL, 'view'), (1, '2024-03-02 09:00', 'purchase'),
 (2, '2024-03-01 23:50', 'view'), (2, '2024-03-02 00:05', 'purchase'),
 (3, NULL, 'view');
SELECT user_id, ts, what, uba_session(ts, '30 minutes') OVER (PARTITION BY user_id ORDER BY ts, what) AS session
  FROM ev ORDER BY user_id, ts, what;
-- the timestamp (without time zone) overload, and a gap in days
SELECT user_id, ts::timestamp, uba_session(ts::timestamp, '1 day') OVER (PARTITION BY user_id ORDER BY ts) AS session
  FROM ev WHERE ts IS NOT NULL ORDER BY 1, 2;
-- months count 30 days, as interval comparison does: 30 days apart is not more than '1 mon'
SELECT uba_session(ts, '1 mon') OVER (ORDER BY ts) AS session, ts
  FROM (VALUES ('2024-01-01'::timestamptz), ('2024-01-31'), ('2024-03-01 00:00:01')) v(ts);
-- infinite times are later / earlier than any gap
SELECT uba_session(ts, '1 day') OVER (ORDER BY ts) AS session, ts
  FROM (VALUES ('-infinity'::timestamptz), ('2024-01-01'), ('infinity'), ('infinity')) v(ts);

-- the same numbering as the usual lag() recipe, on 200 users with 6 to 40 events over five
-- weeks, of five kinds
CREATE TABLE gen_ev AS
SELECT u AS user_id,
       '2024-01-01'::timestamptz + (u % 20) * interval '1 day' + ((u * 7 + k * k * 13) % 1000) * interval '23 minutes' AS ts,
       (u * k * 3 + k * k) % 5 AS kind, k
  FROM generate_series(1, 200) u, generate_series(1, 40) k
 WHERE k <= 5 + u % 36;
WITH lagged AS (
  SELECT user_id, ts, k, ts - lag(ts) OVER w > interval '45 minutes' AS starts
    FROM gen_ev WINDOW w AS (PARTITION BY user_id ORDER BY ts, k)),
reference AS (
  SELECT user_id, k, 1 + count(*) FILTER (WHERE starts) OVER (PARTITION BY user_id ORDER BY ts, k) AS session FROM lagged),
ours AS (
  SELECT user_id, k, uba_session(ts, '45 minutes') OVER (PARTITION BY user_id ORDER BY ts, k) AS session FROM gen_ev)
SELECT count(*) AS rows, count(*) FILTER (WHERE r.session = o.session) AS equal, max(o.session) AS most_sessions
  FROM reference r JOIN ours o USING (user_id, k);

-- errors
SELECT expect_error($$SELECT uba_session(now(), '0 seconds') OVER ()$$);
SELECT expect_error($$SELECT uba_session(now(), '-1 hour') OVER ()$$);
SELECT expect_error($$SELECT uba_session(now(), '1 mon -31 days') OVER ()$$);
SELECT expect_error($$SELECT uba_session(now(), NULL) OVER ()$$);
SELECT expect_error($$SELECT uba_session(now(), '1 hour')$$);

-- ---------- uba_funnel ----------

-- view -> cart -> purchase within 1 hour of the view
-- user 1: view 10:00, cart 10:10, purchase 11:10:00.000001: 1 h and 1 us after the view -> 2
-- user 2: view 23:50, purchase 00:05, no cart -> 1
-- user 3: no time -> skipped, no rows left -> NULL
SELECT user_id, uba_funnel(ts, '1 hour', ARRAY[what = 'view', what = 'cart', what = 'purchase']) AS depth
  FROM ev GROUP BY user_id ORDER BY user_id;
-- the window is inclusive: exactly 1 hour is within it
SELECT uba_funnel(ts, '1 hour', ARRAY[k = 1, k = 2, k = 3]) AS depth
  FROM (VALUES ('2024-01-01 10:00'::timestamptz, 1), ('2024-01-01 10:30', 2), ('2024-01-01 11:00', 3)) v(ts, k);
SELECT uba_funnel(ts, '1 hour', ARRAY[k = 1, k = 2, k = 3]) AS depth
  FROM (VALUES ('2024-01-01 10:00'::timestamptz, 1), ('2024-01-01 10:30', 2), ('2024-01-01 11:00:00.000001', 3)) v(ts, k);
-- steps at the same time count (one event may hold several steps); a step before the
-- previous one does not; rows in any order
SELECT uba_funnel(ts, '1 day', steps) AS depth
  FROM (VALUES ('2024-01-01 10:00'::timestamptz, ARRAY[true, true, false]), ('2024-01-01 12:00', ARRAY[false, false, true])) v(ts, steps);
SELECT uba_funnel(ts, '1 day', ARRAY[k = 1, k = 2, k = 3]) AS depth
  FROM (VALUES ('2024-01-01 12:00'::timestamptz, 3), ('2024-01-01 10:00', 2), ('2024-01-01 11:00', 1)) v(ts, k);
-- a later start can go deeper: the 10:00 view is too early for the 13:00 purchase,
-- the 12:30 view is not
SELECT uba_funnel(ts, '1 hour', ARRAY[k = 1, k = 2, k = 3]) AS depth
  FROM (VALUES ('2024-01-01 10:00'::timestamptz, 1), ('2024-01-01 10:20', 2), ('2024-01-01 12:30', 1),
               ('2024-01-01 12:45', 2), ('2024-01-01 13:00', 3)) v(ts, k);
-- step 1 never holds: 0; NULL elements do not hold; rows without steps are skipped; no rows: NULL
SELECT uba_funnel(ts, '1 day', ARRAY[false, true]) AS no_start,
       uba_funnel(ts, '1 day', ARRAY[true, NULL]) AS null_step,
       uba_funnel(ts, '1 day', NULL::boolean[]) AS no_steps
  FROM (VALUES ('2024-01-01'::timestamptz)) v(ts);
SELECT uba_funnel(now(), '1 day', ARRAY[true]) AS no_rows WHERE false;
-- timestamp overload, and use as a window function (a running funnel depth)
SELECT ts, uba_funnel(ts, '1 day', ARRAY[k = 1, k = 2, k = 3]) OVER (ORDER BY ts) AS running_depth
  FROM (VALUES ('2024-01-01 10:00'::timestamp, 1), ('2024-01-01 11:00', 2), ('2024-01-01 12:00', 3)) v(ts, k);

-- brute force on the 200 generated users: the deepest of three steps by the definition itself
-- (chains of events with times in order, the last within the window of the first)
WITH s AS (SELECT user_id, ts, kind = 0 AS s1, kind = 1 AS s2, kind = 2 AS s3 FROM gen_ev),
brute AS (
  SELECT u.user_id,
         CASE WHEN EXISTS (SELECT FROM s a JOIN s b ON b.user_id = a.user_id AND b.s2 AND b.ts >= a.ts
                             JOIN s c ON c.user_id = a.user_id AND c.s3 AND c.ts >= b.ts AND c.ts - a.ts <= interval '1 day'
                            WHERE a.user_id = u.user_id AND a.s1) THEN 3
              WHEN EXISTS (SELECT FROM s a JOIN s b ON b.user_id = a.user_id AND b.s2 AND b.ts >= a.ts AND b.ts - a.ts <= interval '1 day'
                            WHERE a.user_id = u.user_id AND a.s1) THEN 2
              WHEN EXISTS (SELECT FROM s a WHERE a.user_id = u.user_id AND a.s1) THEN 1 ELSE 0 END AS depth
    FROM (SELECT DISTINCT user_id FROM gen_ev) u),
ours AS (
  SELECT user_id, uba_funnel(ts, '1 day', ARRAY[kind = 0, kind = 1, kind = 2]) AS depth FROM gen_ev GROUP BY user_id)
SELECT b.depth, count(*) AS users, count(*) FILTER (WHERE o.depth = b.depth) AS equal
  FROM brute b JOIN ours o USING (user_id) GROUP BY b.depth ORDER BY b.depth;

-- errors
SELECT expect_error($$SELECT uba_funnel(now(), NULL, ARRAY[true])$$);
SELECT expect_error($$SELECT uba_funnel(now(), '0', ARRAY[true])$$);
SELECT expect_error($$SELECT uba_funnel(now(), '-5 minutes', ARRAY[true])$$);
SELECT expect_error($$SELECT uba_funnel(now(), '1 day', '{}')$$);
SELECT expect_error($$SELECT uba_funnel(now(), '1 day', '{{true},{false}}')$$);
SELECT expect_error($$SELECT uba_funnel(now(), '1 day', array_fill(true, ARRAY[65]))$$);
SELECT expect_error($$SELECT uba_funnel(ts, '1 day', CASE WHEN ts > '2024-01-01' THEN ARRAY[true] ELSE ARRAY[true, false] END)
                        FROM (VALUES ('2024-01-01'::timestamptz), ('2024-01-02')) v(ts)$$);
SELECT expect_error($$SELECT uba_funnel(ts, CASE WHEN ts > '2024-01-01' THEN '1 day' ELSE '2 days' END::interval, ARRAY[true])
                        FROM (VALUES ('2024-01-01'::timestamptz), ('2024-01-02')) v(ts)$$);

-- ---------- uba_retention ----------

-- element 1: condition 1 ever held; element i: 1 and i both ever held (in any rows)
SELECT user_id, uba_retention(ARRAY[what = 'view', what = 'cart', what = 'purchase', false]) AS retained
  FROM ev GROUP BY user_id ORDER BY user_id;
SELECT uba_retention(c) AS no_cohort FROM (VALUES (ARRAY[false, true]), (ARRAY[false, true])) v(c);
SELECT uba_retention(c) AS null_elements FROM (VALUES (ARRAY[NULL, true]::boolean[]), (ARRAY[true, NULL]::boolean[])) v(c);
SELECT uba_retention(c) AS no_rows FROM (VALUES (ARRAY[true])) v(c) WHERE false;
-- a weekly cohort table: users by first week, retained in weeks 0..3 after it
WITH firsts AS (SELECT user_id, min(date_trunc('week', ts)) AS cohort FROM gen_ev GROUP BY user_id),
per_user AS (
  SELECT f.cohort, uba_retention(ARRAY[date_trunc('week', e.ts) = f.cohort,
                                       date_trunc('week', e.ts) = f.cohort + interval '1 week',
                                       date_trunc('week', e.ts) = f.cohort + interval '2 weeks',
                                       date_trunc('week', e.ts) = f.cohort + interval '3 weeks']) AS r
    FROM gen_ev e JOIN firsts f USING (user_id) GROUP BY f.cohort, e.user_id)
SELECT cohort, count(*) AS users, sum(r[1]::int) AS week0, sum(r[2]::int) AS week1,
       sum(r[3]::int) AS week2, sum(r[4]::int) AS week3
  FROM per_user GROUP BY cohort ORDER BY cohort;
-- errors
SELECT expect_error($$SELECT uba_retention('{}'::boolean[])$$);
SELECT expect_error($$SELECT uba_retention('{{true},{true}}'::boolean[])$$);
SELECT expect_error($$SELECT uba_retention(c) FROM (VALUES (ARRAY[true]), (ARRAY[true, false])) v(c)$$);

-- ---------- parallel plans give the serial results ----------
CREATE TABLE big_ev AS SELECT user_id % 50 AS user_id, ts + (r * interval '1 minute') AS ts, kind
  FROM gen_ev, generate_series(0, 9) r;
CREATE TABLE serial_result AS
SELECT user_id, uba_funnel(ts, '2 hours', ARRAY[kind = 0, kind = 1, kind = 2, kind = 3]) AS depth,
       uba_retention(ARRAY[kind = 0, kind = 1, kind = 4]) AS retained
  FROM big_ev GROUP BY user_id;
SELECT parallel_plans(true);
EXPLAIN (COSTS OFF) SELECT uba_funnel(ts, '2 hours', ARRAY[kind = 0, kind = 1, kind = 2, kind = 3]),
       uba_retention(ARRAY[kind = 0, kind = 1, kind = 4]) FROM big_ev;
SELECT (SELECT uba_funnel(ts, '2 hours', ARRAY[kind = 0, kind = 1, kind = 2, kind = 3]) FROM big_ev WHERE user_id = 7)
     = (SELECT depth FROM serial_result WHERE user_id = 7) AS funnel_same,
       (SELECT uba_retention(ARRAY[kind = 0, kind = 1, kind = 4]) FROM big_ev WHERE user_id = 7)
     = (SELECT retained FROM serial_result WHERE user_id = 7) AS retention_same;
SELECT count(*) AS groups, count(*) FILTER (WHERE p.depth = s.depth AND p.retained = s.retained) AS equal
  FROM (SELECT user_id, uba_funnel(ts, '2 hours', ARRAY[kind = 0, kind = 1, kind = 2, kind = 3]) AS depth,
               uba_retention(ARRAY[kind = 0, kind = 1, kind = 4]) AS retained
          FROM big_ev GROUP BY user_id) p JOIN serial_result s USING (user_id);
SELECT parallel_plans(false);

DROP TABLE ev, gen_ev, big_ev, serial_result;
-- the extremes (issue 16): an infinite time is more than any gap from every finite one, the
-- range's last day included; a gap or window beyond the whole range does not overflow
SELECT ts, uba_session(ts, '30 days') OVER (ORDER BY ts)
  FROM (VALUES ('294276-12-31'::timestamptz), ('infinity')) v(ts);
SELECT ts, uba_session(ts, '2147483647 months') OVER (ORDER BY ts)
  FROM (VALUES ('2000-01-01'::timestamptz), ('infinity'), ('-infinity'), ('-infinity')) v(ts);
SELECT uba_funnel(ts, '2147483647 months', ARRAY[s = 1, s = 2]) AS depth_to_infinity
  FROM (VALUES ('2000-01-01'::timestamptz, 1), ('infinity', 2)) v(ts, s);
SELECT uba_funnel(ts, '1 day', ARRAY[s = 1, s = 2]) AS depth_at_infinity
  FROM (VALUES ('infinity'::timestamptz, 1), ('infinity', 2)) v(ts, s);
-- rows must come in ascending time order: a descending window is an error, not one session
SELECT expect_error($$SELECT uba_session(ts, '1 hour') OVER (ORDER BY ts DESC)
                        FROM (VALUES ('2024-01-01 10:00'::timestamp), ('2024-01-01 10:10')) v(ts)$$);
