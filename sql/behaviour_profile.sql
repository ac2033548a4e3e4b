-- customer profiles: uba_rfm (lifetimes' definitions) and uba_rfm_segment
SET extra_float_digits = 0;
SET TimeZone = 'UTC';
CREATE TABLE rfm_tx (customer text, ts timestamptz, amount float8);
INSERT INTO rfm_tx VALUES
	-- A: two purchases on Jan 1 (one period, 15), then Jan 5 and Jan 10; one after the end
	('A', '2024-01-01 10:00', 10), ('A', '2024-01-01 15:00', 5), ('A', '2024-01-05 09:00', 20),
	('A', '2024-01-10 23:59', 30), ('A', '2024-02-03 12:00', 100),
	-- B: one purchase; C: no time; D: a purchase without an amount counts as 0
	('B', '2024-01-20', 42), ('C', NULL, 7), ('D', '2024-01-02', 8), ('D', '2024-01-03', NULL);

-- by day up to Jan 31: A has 3 periods (frequency 2), recency 9, T 30, monetary (20 + 30) / 2
SELECT customer, (r).* FROM (
	SELECT customer, uba_rfm(ts, amount, '{"end": "2024-01-31"}'::jsonb) AS r FROM rfm_tx GROUP BY customer) s
 ORDER BY customer;
-- by week (weeks start on Monday; Jan 1 2024 is one): A's weeks sum 35, 30 and 100, since a
-- transaction in the end's period counts (Feb 3 is in the week of Jan 29), as in lifetimes
SELECT customer, (r).* FROM (
	SELECT customer, uba_rfm(ts, amount, '{"end": "2024-01-31", "period": "week"}'::jsonb) AS r FROM rfm_tx GROUP BY customer) s
 ORDER BY customer;
-- by month, to mid-March: A has January (65) and February (100); months count numpy's mean month
SELECT customer, round((r).recency::numeric, 10) AS recency, round((r).t::numeric, 10) AS t, (r).frequency, (r).monetary_value
  FROM (SELECT customer, uba_rfm(ts, amount, '{"end": "2024-03-15", "period": "month"}'::jsonb) AS r FROM rfm_tx GROUP BY customer) s
 ORDER BY customer;
SELECT round((31 * 86400 / 2629746.0)::numeric, 10) AS one_month_of_31_days;
-- the end's date as jsonb writes a timestamp; timestamp (without time zone) works the same way
SELECT (uba_rfm(ts::timestamp, amount, jsonb_build_object('end', '2024-01-31 18:00'::timestamp))).frequency AS a_frequency
  FROM rfm_tx WHERE customer = 'A';
-- the local date decides the period: 23:59 UTC on Jan 10 is Jan 11 in Tokyo
SET TimeZone = 'Asia/Tokyo';
SELECT (uba_rfm(ts, amount, '{"end": "2024-01-31"}'::jsonb)).last_period FROM rfm_tx WHERE customer = 'A';
SET TimeZone = 'UTC';
-- no end: the observation ends today
SELECT (uba_rfm(ts, amount)).t = current_date - date '2024-01-20' AS t_is_days_to_today FROM rfm_tx WHERE customer = 'B';
SELECT uba_rfm(ts, amount) IS NULL AS no_transactions FROM rfm_tx WHERE false;

-- parallel workers give the serial answer
CREATE TABLE rfm_many AS
SELECT g % 300 AS customer, timestamptz '2023-01-01' + (g * 7919 % 500) * interval '1 day' + (g % 24) * interval '1 hour' AS ts,
       (g % 97) * 1.5 AS amount
  FROM generate_series(1, 30000) g;
ANALYZE rfm_many;
CREATE TABLE rfm_serial AS SELECT customer, uba_rfm(ts, amount, '{"end": "2024-06-30", "period": "week"}'::jsonb) AS r FROM rfm_many GROUP BY customer;
SELECT parallel_plans(true);
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT uba_rfm(ts, amount, '{"end": "2024-06-30", "period": "week"}'::jsonb) FROM rfm_many;
SELECT uba_rfm(ts, amount, '{"end": "2024-06-30", "period": "week"}'::jsonb)
     = uba_rfm(ts, amount, '{"end": "2024-06-30", "period": "week"}'::jsonb) FILTER (WHERE true) AS same_state_twice
  FROM rfm_many WHERE customer = 7;
SELECT (SELECT uba_rfm(ts, amount, '{"end": "2024-06-30", "period": "week"}'::jsonb) FROM rfm_many WHERE customer = 7)
     = (SELECT r FROM rfm_serial WHERE customer = 7) AS parallel_equals_serial;
EXPLAIN (COSTS OFF) SELECT customer, uba_rfm(ts, amount, '{"end": "2024-06-30", "period": "week"}'::jsonb) FROM rfm_many GROUP BY customer;
CREATE TABLE rfm_parallel AS SELECT customer, uba_rfm(ts, amount, '{"end": "2024-06-30", "period": "week"}'::jsonb) AS r FROM rfm_many GROUP BY customer;
SELECT count(*) AS customers, count(*) FILTER (WHERE p.r IS DISTINCT FROM s.r) AS different
  FROM rfm_parallel p FULL JOIN rfm_serial s USING (customer);
RESET parallel_leader_participation;
SELECT parallel_plans(false);

-- named segments of R and F scores (quintiles: 5 the most recent or frequent)
SELECT r, string_agg(uba_rfm_segment(r, f), ' | ' ORDER BY f) AS f_1_to_5 FROM generate_series(1, 5) r, generate_series(1, 5) f GROUP BY r ORDER BY r;
SELECT uba_rfm_segment(5, 5, '{"55": "Best", "11": "Lost"}'::jsonb) AS own, uba_rfm_segment(3, 3, '{"55": "Best"}'::jsonb) AS unnamed;
-- the recipe: scores by quintile over customers, then segments
SELECT segment, count(*) FROM (
	SELECT uba_rfm_segment(ntile(5) OVER (ORDER BY (r).t - (r).recency DESC)::int,
	                       ntile(5) OVER (ORDER BY (r).frequency)::int) AS segment
	  FROM rfm_serial) s
 GROUP BY segment ORDER BY segment;

-- mistakes
SELECT expect_error($$SELECT uba_rfm(ts, amount, '{"period": "year"}'::jsonb) FROM rfm_tx$$);
SELECT expect_error($$SELECT uba_rfm(ts, amount, '{"end": 20240131}'::jsonb) FROM rfm_tx$$);
SELECT expect_error($$SELECT uba_rfm(ts, amount, '{"end": "not a date"}'::jsonb) FROM rfm_tx$$);
SELECT expect_error($$SELECT uba_rfm(ts, amount, '{"end": "infinity"}'::jsonb) FROM rfm_tx$$);
SELECT expect_error($$SELECT uba_rfm(ts, amount, '{"ends": "2024-01-01"}'::jsonb) FROM rfm_tx$$);
SELECT expect_error($$SELECT uba_rfm(ts, amount, '"week"'::jsonb) FROM rfm_tx$$);
SELECT expect_error($$SELECT uba_rfm('infinity'::timestamptz, 1.0)$$);
SELECT expect_error($$SELECT uba_rfm(now(), 'NaN'::float8)$$);
SELECT expect_error($$SELECT uba_rfm(ts, amount, jsonb_build_object('end', ts)) FROM rfm_tx WHERE customer = 'A'$$);
SELECT expect_error($$SELECT uba_rfm_segment(0, 3)$$);
SELECT expect_error($$SELECT uba_rfm_segment(3, 6)$$);
SELECT expect_error($$SELECT uba_rfm_segment(3, 3, '[1, 2]'::jsonb)$$);
SELECT expect_error($$SELECT uba_rfm_segment(3, 3, '{"33": 1}'::jsonb)$$);
SELECT uba_rfm_segment(NULL, 3) IS NULL AS null_score_null_segment;

-- uba_profile: one row per user from raw events
CREATE TABLE clicks (user_id int, ts timestamptz, event_type text, item_id bigint, category text, amount float8);
INSERT INTO clicks VALUES
	-- u1: a Monday session (view, view, cart, purchase of 2 items), a session 2 days later, one on Sunday
	(1, '2024-03-04 10:00', 'view', 11, 'shoes', 50), (1, '2024-03-04 10:05', 'view', 12, 'shoes', 60),
	(1, '2024-03-04 10:20', 'cart', 11, 'shoes', 50), (1, '2024-03-04 10:40', 'purchase', 11, 'shoes', 50),
	(1, '2024-03-04 10:40', 'purchase', 13, 'socks', 5),
	(1, '2024-03-06 18:00', 'view', 14, 'hats', NULL), (1, '2024-03-10 10:30', 'view', NULL, NULL, 20),
	-- u1's event after the end, and one without a time: neither counts
	(1, '2024-04-01 10:00', 'purchase', 15, 'shoes', 999), (1, NULL, 'purchase', 16, 'shoes', 999),
	-- u2: only views, long ago, then one visit within the last 30 days: resurrected
	(2, '2023-10-01 09:00', 'view', 21, 'bags', 30), (2, '2024-03-20 21:00', 'page_view', 21, 'bags', 30),
	-- u3: an unknown event type and a NULL one
	(3, '2024-03-30 12:00', 'search', NULL, NULL, NULL), (3, '2024-03-30 12:01', NULL, NULL, NULL, NULL);
SELECT user_id, (p).* FROM (
	SELECT user_id, uba_profile(ts, event_type, item_id, category, amount, '{"end": "2024-03-31"}'::jsonb) AS p
	  FROM clicks GROUP BY user_id) s
 ORDER BY user_id \gx
-- the same from (agg).* directly, and with timestamp and text ids
SELECT user_id, (uba_profile(ts::timestamp, event_type, item_id::text, category, amount, '{"end": "2024-03-31"}'::jsonb)).lifecycle
  FROM clicks GROUP BY user_id ORDER BY user_id;
-- options: what counts as a purchase, the session gap, how many categories
SELECT (p).purchases, (p).sessions, (p).top_categories, (p).top_category_shares FROM (
	SELECT uba_profile(ts, event_type, item_id, category, amount,
	                   '{"end": "2024-03-31", "purchase": ["cart"], "cart": [], "session_gap_minutes": 10, "top_categories": 1}'::jsonb) AS p
	  FROM clicks WHERE user_id = 1) s;
SELECT uba_profile(ts, event_type, item_id, category, amount) IS NULL AS no_events FROM clicks WHERE false;
SELECT uba_profile(ts, event_type, item_id, category, amount, '{"end": "2020-01-01"}'::jsonb) IS NULL AS nothing_before_the_end FROM clicks;
-- mistakes
SELECT expect_error($$SELECT uba_profile(ts, event_type, item_id::numeric, category, amount) FROM clicks$$);
SELECT expect_error($$SELECT uba_profile(ts, event_type, item_id, category, amount, '{"view": ["view"], "purchase": ["view"]}'::jsonb) FROM clicks$$);
SELECT expect_error($$SELECT uba_profile(ts, event_type, item_id, category, amount, '{"session_gap_minutes": 0}'::jsonb) FROM clicks$$);
SELECT expect_error($$SELECT uba_profile(ts, event_type, item_id, category, amount, '{"view": "view"}'::jsonb) FROM clicks$$);
SELECT expect_error($$SELECT uba_profile(ts, event_type, item_id, category, amount, '{"top_categories": -1}'::jsonb) FROM clicks$$);
SELECT expect_error($$SELECT uba_profile('infinity'::timestamptz, 'view', 1, 'x', 1.0)$$);
SELECT expect_error($$SELECT uba_profile(now(), 'view', 1, 'x', 'NaN'::float8)$$);
-- one user's events beyond the memory limit (uba.work_mem here) are refused, not held
SET uba.work_mem = '1MB';
SELECT expect_error($$SELECT uba_profile(ts, 'view', 1, NULL, NULL) FROM generate_series(timestamptz '2024-01-01', '2024-01-03', '1 second') ts$$);
RESET uba.work_mem;
