-- contribution analysis: uba_contribution and uba_contribution_ratio, checked on a hand-made
-- case and against GROUPING SETS (every segment's sums, written as SQL)
CREATE TABLE sales (period text, country text, device text, channel text, revenue float8, orders int, sessions int);
INSERT INTO sales VALUES
	('control', 'UK', 'mobile', 'ads', 100, 10, 100), ('control', 'UK', 'desktop', 'ads', 200, 20, 100),
	('control', 'FR', 'mobile', 'mail', 50, 5, 50), ('control', 'FR', 'desktop', 'ads', 50, 5, 50),
	('test', 'UK', 'mobile', 'ads', 60, 6, 100), ('test', 'UK', 'desktop', 'ads', 210, 21, 100),
	('test', 'FR', 'mobile', 'mail', 55, 6, 50), ('test', 'FR', 'desktop', 'ads', 50, 5, 50),
	('test', NULL, 'mobile', 'ads', 5, 1, 10);
-- revenue fell by 20: UK mobile lost 40, more than all of it; the population row comes first
SELECT c.* FROM unnest((SELECT uba_contribution(period = 'test', ARRAY[country, device], revenue,
	'{"names": ["country", "device"], "max_depth": 2}') FROM sales)) c;
-- conversion (orders per session): which segments' rates moved the overall rate
SELECT c.segment, round(c.metric_test::numeric, 4) AS test, round(c.metric_control::numeric, 4) AS control,
       round(c.contribution::numeric, 5) AS contribution, round(c.share_of_change::numeric, 3) AS share
  FROM unnest((SELECT uba_contribution_ratio(period = 'test', ARRAY[country, device], orders, sessions) FROM sales)) c;
-- redundant segments: channel = mail holds exactly the rows of FR mobile, so the segments adding
-- mail to FR, to mobile or to both are dropped; these two stay (neither is more general)
SELECT c.segment, c.depth FROM unnest((SELECT uba_contribution(period = 'test', ARRAY[country, device, channel], revenue,
	'{"names": ["country", "device", "channel"], "top_k": 0}') FROM sales)) c
 WHERE c.segment @> '{"channel": "mail"}' OR c.segment = '{"country": "FR", "device": "mobile"}';
SELECT count(*) AS without_pruning FROM unnest((SELECT uba_contribution(period = 'test', ARRAY[country, device, channel], revenue,
	'{"top_k": 0, "prune_redundant": false}') FROM sales)) c;
-- min_support and top_k
SELECT count(*) AS above_30_percent FROM unnest((SELECT uba_contribution(period = 'test', ARRAY[country, device], revenue,
	'{"min_support": 0.3, "top_k": 0}') FROM sales)) c;
SELECT count(*) AS top_3_and_population FROM unnest((SELECT uba_contribution(period = 'test', ARRAY[country, device], revenue,
	'{"top_k": 3}') FROM sales)) c;

-- against GROUPING SETS on generated sales: every segment of up to 3 of 4 dimensions, its sums,
-- rows and ratio; min_support 0, no pruning, every segment kept
CREATE TABLE gen_sales AS
SELECT g % 3 = 0 AS is_test, 'c' || (g * 7 % 5) AS country, 'd' || (g * 11 % 3) AS device,
       'h' || (g * 13 % 4) AS channel, CASE WHEN g % 17 = 0 THEN NULL ELSE 'k' || (g % 6) END AS category,
       ((g * 37) % 101)::float8 AS revenue, (g % 5)::float8 AS orders, 1 + (g % 7)::float8 AS sessions
  FROM generate_series(1, 6000) g;
CREATE TABLE gen_got AS
SELECT c.* FROM unnest((SELECT uba_contribution(is_test, ARRAY[country, device, channel, category], revenue,
	'{"names": ["country", "device", "channel", "category"], "min_support": 0, "top_k": 0, "prune_redundant": false}')
	FROM gen_sales)) c;
CREATE TABLE gen_ratio AS
SELECT c.* FROM unnest((SELECT uba_contribution_ratio(is_test, ARRAY[country, device, channel, category], orders, sessions,
	'{"names": ["country", "device", "channel", "category"], "min_support": 0, "top_k": 0, "prune_redundant": false}')
	FROM gen_sales)) c;
CREATE TABLE gen_brute AS
SELECT jsonb_strip_nulls(jsonb_build_object('country', CASE WHEN GROUPING(country) = 0 THEN coalesce(to_jsonb(country), '"null"') END,
                                            'device', CASE WHEN GROUPING(device) = 0 THEN to_jsonb(device) END,
                                            'channel', CASE WHEN GROUPING(channel) = 0 THEN to_jsonb(channel) END,
                                            'category', CASE WHEN GROUPING(category) = 0 THEN coalesce(to_jsonb(category), '"null"') END)) AS segment,
       4 - (GROUPING(country) + GROUPING(device) + GROUPING(channel) + GROUPING(category)) AS depth,
       coalesce(sum(revenue) FILTER (WHERE is_test), 0) AS metric_test, coalesce(sum(revenue) FILTER (WHERE NOT is_test), 0) AS metric_control,
       sum(orders) FILTER (WHERE is_test) / nullif(sum(sessions) FILTER (WHERE is_test), 0) AS ratio_test,
       sum(orders) FILTER (WHERE NOT is_test) / nullif(sum(sessions) FILTER (WHERE NOT is_test), 0) AS ratio_control,
       count(*) FILTER (WHERE is_test) AS rows_test, count(*) FILTER (WHERE NOT is_test) AS rows_control
  FROM gen_sales
 GROUP BY CUBE (country, device, channel, category)
HAVING 4 - (GROUPING(country) + GROUPING(device) + GROUPING(channel) + GROUPING(category)) BETWEEN 1 AND 3;
-- GROUPING SETS shows a NULL value as SQL NULL; uba as JSON null: the brute force wrote "null"
UPDATE gen_got SET segment = (SELECT jsonb_object_agg(k, CASE WHEN v = 'null' THEN '"null"' ELSE v END) FROM jsonb_each(segment) e(k, v))
 WHERE depth > 0;
UPDATE gen_ratio SET segment = (SELECT jsonb_object_agg(k, CASE WHEN v = 'null' THEN '"null"' ELSE v END) FROM jsonb_each(segment) e(k, v))
 WHERE depth > 0;
SELECT (SELECT count(*) FROM gen_brute) AS segments, (SELECT count(*) FROM gen_got WHERE depth > 0) AS uba_segments,
       count(*) FILTER (WHERE g.segment IS NULL OR b.segment IS NULL) AS unmatched,
       count(*) FILTER (WHERE abs(g.metric_test - b.metric_test) > 1e-9 * abs(b.metric_test)
                           OR abs(g.metric_control - b.metric_control) > 1e-9 * abs(b.metric_control)
                           OR g.rows_test <> b.rows_test OR g.rows_control <> b.rows_control) AS wrong_sums,
       count(*) FILTER (WHERE r.metric_test IS DISTINCT FROM b.ratio_test AND abs(r.metric_test - b.ratio_test) > 1e-12
                           OR r.metric_control IS DISTINCT FROM b.ratio_control AND abs(r.metric_control - b.ratio_control) > 1e-12) AS wrong_ratios
  FROM gen_brute b FULL JOIN (SELECT * FROM gen_got WHERE depth > 0) g USING (segment, depth)
  LEFT JOIN gen_ratio r USING (segment, depth);
-- ranked by |contribution|, then depth, then segment; contributions and shares add up by dimension
SELECT bool_and(ok) AS ranked FROM (
	SELECT pos = 1 OR pos = 2 AND depth > 0
	       OR (abs(contribution), -depth) < (lag(abs(contribution)) OVER w, -lag(depth) OVER w)
	       OR (abs(contribution), depth) = (lag(abs(contribution)) OVER w, lag(depth) OVER w)
	          AND segment::text > lag(segment::text) OVER w AS ok
	  FROM unnest((SELECT uba_contribution(is_test, ARRAY[country, device, channel], revenue, '{"top_k": 0, "min_support": 0}')
	               FROM gen_sales)) WITH ORDINALITY AS c(segment, depth, t, c, d, rd, e, ud, rud, contribution, share, sup, rt, rc, pos)
	WINDOW w AS (ORDER BY pos)) s;
SELECT depth, round(sum(share_of_change)::numeric, 9) AS shares FROM gen_got
 WHERE depth = 0 OR segment ? 'device' AND depth = 1 GROUP BY depth ORDER BY depth;

-- a parallel plan gives the same segments (random() keeps the second one serial: it is parallel restricted)
SELECT parallel_plans(true);
EXPLAIN (COSTS OFF) SELECT uba_contribution(is_test, ARRAY[country, device], revenue) FROM gen_sales;
SELECT count(*) AS segments, count(*) FILTER (WHERE abs(p.contribution - s.contribution) > 1e-9 * abs(s.contribution)
                                               OR p.rows_test <> s.rows_test) AS mismatches
  FROM unnest((SELECT uba_contribution(is_test, ARRAY[country, device, channel], revenue, '{"top_k": 0, "min_support": 0}') FROM gen_sales)) WITH ORDINALITY p
  JOIN (SELECT * FROM unnest((SELECT uba_contribution(is_test, ARRAY[country, device, channel], revenue, '{"top_k": 0, "min_support": 0}')
                              FROM gen_sales WHERE random() >= 0)) WITH ORDINALITY) s USING (segment, ordinality);
SELECT parallel_plans(false);

-- no rows: NULL; rows with NULLs take no part
SELECT uba_contribution(true, ARRAY['a'], 1) IS NULL AS no_rows WHERE false;
SELECT cardinality(uba_contribution(is_test, ARRAY[country], revenue)) AS rows
  FROM (VALUES (true, 'a', 1.0::float8), (false, 'a', 2), (NULL, 'a', 3), (true, NULL, NULL)) v(is_test, country, revenue);
-- mistakes
SELECT expect_error($$SELECT uba_contribution(true, '{}'::text[], 1)$$);
SELECT expect_error($$SELECT uba_contribution(true, '{{a}}'::text[], 1)$$);
SELECT expect_error($$SELECT uba_contribution(true, array_fill('a'::text, ARRAY[33]), 1)$$);
SELECT expect_error($$SELECT uba_contribution(true, ARRAY['a'], 'NaN')$$);
SELECT expect_error($$SELECT uba_contribution_ratio(true, ARRAY['a'], 1, 'Infinity')$$);
SELECT expect_error($$SELECT uba_contribution(true, ARRAY['a'], 1, '{"names": ["x", "y"]}')$$);
SELECT expect_error($$SELECT uba_contribution(true, ARRAY['a'], 1, '{"max_depth": 0}')$$);
SELECT expect_error($$SELECT uba_contribution(true, ARRAY['a'], 1, '{"min_support": 2}')$$);
SELECT expect_error($$SELECT uba_contribution(is_test, d, 1) FROM (VALUES (true, ARRAY['a']), (false, ARRAY['a', 'b'])) v(is_test, d)$$);
-- the segments beyond uba.max_memory: a clear error
SET uba.max_memory = '1MB';
SELECT expect_error($$SELECT uba_contribution(g % 2 = 0, ARRAY[g::text, (g * 7)::text, (g * 13)::text], 1, '{"top_k": 0}') FROM generate_series(1, 20000) g$$);
SELECT expect_error($$SELECT uba_contribution(g % 2 = 0, ARRAY[g::text, (g % 7)::text, (g % 13)::text, (g % 5)::text, (g % 3)::text], 1)
                        FROM generate_series(1, 3000) g$$);
RESET uba.max_memory;
DROP TABLE sales, gen_sales, gen_got, gen_ratio, gen_brute;
