-- sequential patterns: uba_prefixspan and uba_sequential_patterns, checked against the
-- definition written as SQL joins (every pattern of up to 3 items, with and without a gap)
SET TimeZone = 'UTC';
-- 400 users, 4 to 15 events each over 6 event names, with repeats and simultaneous events
CREATE TABLE ps_ev AS
SELECT u, timestamptz '2024-01-01' + ((i * 37 + u * 11) % 50) * interval '1 minute' AS ts,
       (ARRAY['view', 'cart', 'buy', 'search', 'wish', 'help'])[1 + (i * i + u) % 6] AS item
  FROM generate_series(1, 400) u, generate_series(1, 4 + u % 12) i;
-- the hand-made case of the documentation
CREATE TABLE ps_small (u int, ts timestamptz, item text);
INSERT INTO ps_small VALUES
 (1, '2024-01-01 00:00', 'a'), (1, '2024-01-01 00:01', 'b'), (1, '2024-01-01 00:02', 'c'),
 (2, '2024-01-01 00:00', 'a'), (2, '2024-01-01 00:05', 'c'), (2, '2024-01-01 00:06', 'b'),
 (3, '2024-01-01 00:00', 'a'), (3, '2024-01-01 00:00', 'b'), (3, '2024-01-01 03:00', 'b');
SELECT * FROM uba_sequential_patterns((SELECT uba_prefixspan(u, ts, item, '{"min_support": 0.5}') FROM ps_small));
-- a gap of 2 minutes: b three hours after a no longer follows it
SELECT * FROM uba_sequential_patterns((SELECT uba_prefixspan(u, ts, item, '{"min_support": 0.3, "max_gap_seconds": 120}') FROM ps_small));

-- the definition as SQL: patterns of 1, 2 and 3 items and the users who follow them
CREATE FUNCTION ps_brute(gap interval, min_users int) RETURNS TABLE (pattern text[], users bigint) LANGUAGE sql AS $$
	SELECT ARRAY[a.item], count(DISTINCT a.u) FROM ps_ev a GROUP BY a.item HAVING count(DISTINCT a.u) >= min_users
	UNION ALL
	SELECT ARRAY[a.item, b.item], count(DISTINCT a.u)
	  FROM ps_ev a JOIN ps_ev b ON b.u = a.u AND b.ts > a.ts AND (gap IS NULL OR b.ts - a.ts <= gap)
	 GROUP BY a.item, b.item HAVING count(DISTINCT a.u) >= min_users
	UNION ALL
	SELECT ARRAY[a.item, b.item, c.item], count(DISTINCT a.u)
	  FROM ps_ev a JOIN ps_ev b ON b.u = a.u AND b.ts > a.ts AND (gap IS NULL OR b.ts - a.ts <= gap)
	               JOIN ps_ev c ON c.u = a.u AND c.ts > b.ts AND (gap IS NULL OR c.ts - b.ts <= gap)
	 GROUP BY a.item, b.item, c.item HAVING count(DISTINCT a.u) >= min_users
$$;
-- min_support 0.25 of 400 users: 100 users
CREATE TABLE ps_got AS
SELECT 'no gap' AS run, p.* FROM uba_sequential_patterns((SELECT uba_prefixspan(u, ts, item, '{"min_support": 0.25, "max_length": 3}') FROM ps_ev)) p
UNION ALL
SELECT 'gap 5 minutes', p.* FROM uba_sequential_patterns((SELECT uba_prefixspan(u, ts, item, '{"min_support": 0.25, "max_length": 3, "max_gap_seconds": 300}') FROM ps_ev)) p;
SELECT run, count(*) AS patterns, max(length) AS longest, min(users) AS fewest_users FROM ps_got GROUP BY run ORDER BY run;
WITH brute AS (SELECT 'no gap' AS run, * FROM ps_brute(NULL, 100)
               UNION ALL SELECT 'gap 5 minutes', * FROM ps_brute('5 minutes', 100))
SELECT run, count(*) FILTER (WHERE g.pattern IS NULL) AS missing, count(*) FILTER (WHERE b.pattern IS NULL) AS extra,
       count(*) FILTER (WHERE g.users <> b.users) AS wrong_users
  FROM ps_got g FULL JOIN brute b USING (run, pattern) GROUP BY run ORDER BY run;
-- listed most followed first, then shorter; support is users / all users
SELECT bool_and(support = users / 400.0) AS support_is_share,
       bool_and(length = cardinality(pattern)) AS length_is_items
  FROM ps_got;
SELECT pattern, users FROM ps_got WHERE run = 'no gap' LIMIT 5;

-- ids as they are: integers and uuids come back as text or, with item_type, typed
SELECT pattern, users FROM uba_sequential_patterns(
	(SELECT uba_prefixspan(u::text, ts, length(item), '{"min_support": 0.9, "max_length": 2}') FROM ps_ev), NULL::int) LIMIT 3;
SELECT pattern, users FROM uba_sequential_patterns(
	(SELECT uba_prefixspan(u, ts, md5(item)::uuid, '{"min_support": 0.6, "max_length": 1}') FROM ps_ev)) LIMIT 2;
SELECT uba_model_info(uba_prefixspan(u, ts, item, '{"min_support": 0.25}'))
       - 'created_at' - 'training_ms' - 'size_bytes' - 'extension_version' FROM ps_ev;
-- no rows: no model; rows with NULLs take no part
SELECT uba_prefixspan(u, ts, item) IS NULL AS no_model FROM ps_ev WHERE false;
SELECT count(*) FROM uba_sequential_patterns((SELECT uba_prefixspan(u, ts, item, '{"min_support": 0.5}')
	FROM (SELECT u, ts, item FROM ps_small UNION ALL VALUES (NULL::int, now(), 'z'), (9, NULL, 'z'), (9, now(), NULL)) v));

-- a parallel plan finds the same patterns
SELECT parallel_plans(true);
EXPLAIN (COSTS OFF) SELECT uba_prefixspan(u, ts, item) FROM ps_ev;
SELECT count(*) AS patterns, count(*) FILTER (WHERE g.users IS DISTINCT FROM p.users) AS mismatches
  FROM ps_got g FULL JOIN (SELECT 'no gap' AS run, * FROM uba_sequential_patterns(
	(SELECT uba_prefixspan(u, ts, item, '{"min_support": 0.25, "max_length": 3}') FROM ps_ev))) p USING (run, pattern)
 WHERE run = 'no gap';
SELECT parallel_plans(false);

-- too many patterns for uba.max_memory: a clear error, not a crash
SET uba.max_memory = '1MB';
SELECT expect_error($$SELECT uba_prefixspan(u, ts, item, '{"min_support": 0.05, "max_length": 12}')
                        FROM ps_ev WHERE u <= 20$$);
RESET uba.max_memory;
-- bad options and arguments
SELECT expect_error($$SELECT uba_prefixspan(u, ts, item, '{"min_support": 0}') FROM ps_small$$);
SELECT expect_error($$SELECT uba_prefixspan(u, ts, item, '{"max_length": 33}') FROM ps_small$$);
SELECT expect_error($$SELECT uba_prefixspan(u, ts, item, '{"max_gap_seconds": "1 hour"}') FROM ps_small$$);
SELECT expect_error($$SELECT uba_prefixspan(u::float8, ts, item) FROM ps_small$$);
SELECT expect_error($$SELECT * FROM uba_sequential_patterns((SELECT uba_assoc_rules(u, item) FROM ps_small))$$);
DROP TABLE ps_ev, ps_small, ps_got;
DROP FUNCTION ps_brute(interval, int);
