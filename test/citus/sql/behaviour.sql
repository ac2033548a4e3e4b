-- Behaviour analytics on Citus: the same events in a local table and in one distributed by user;
-- every function gives the same answer on both.  Grouped by the distribution column, the whole
-- aggregate runs on the workers (each shard's users are complete there); over the whole table,
-- aggregates whose state is internal gather their input rows to the coordinator (Citus does not
-- split them), and still agree.
SET TimeZone = 'UTC';

CREATE TABLE ev_local AS
SELECT u AS user_id, timestamptz '2024-01-01' + ((i * 7919 + u * 104729) % 5000) * interval '1 minute' AS ts,
       (ARRAY['view', 'cart', 'purchase', 'search'])[1 + (i * 31 + u * 17) % 4] AS event,
       'c' || (i % 5) AS category, ((i * 13 + u) % 50)::float8 AS amount
  FROM generate_series(1, 2000) u, generate_series(1, 1 + u % 25) i;
CREATE TABLE ev_dist (LIKE ev_local);
SELECT create_distributed_table('ev_dist', 'user_id');
INSERT INTO ev_dist SELECT * FROM ev_local;
SELECT (SELECT count(*) FROM ev_local) AS local_rows, (SELECT count(*) FROM ev_dist) AS distributed_rows;

-- per user, pushed down whole
SELECT where_runs($$SELECT user_id, uba_funnel(ts, '1 day', ARRAY[event = 'view', event = 'cart', event = 'purchase'])
                    FROM ev_dist GROUP BY user_id$$, 'uba_funnel') AS funnel;
CREATE FUNCTION per_user(tab text) RETURNS TABLE (user_id int, funnel int, strict_order int, times timestamptz[],
	retention boolean[], seq boolean, seq_count bigint, next_event text, path text[], profile text, rfm text,
	lifecycle text) LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format($q$
	SELECT user_id,
	       uba_funnel(ts, '1 day', ARRAY[event = 'view', event = 'cart', event = 'purchase']),
	       uba_funnel(ts, '1 day', ARRAY[event = 'view', event = 'cart', event = 'purchase'], '{"strict_order": true}'),
	       uba_funnel_times(ts, '1 day', ARRAY[event = 'view', event = 'cart', event = 'purchase']),
	       uba_retention(ARRAY[event = 'view', event = 'purchase', event = 'search']),
	       uba_sequence_match('(?1).*(?t<=3600)(?2)', ts, event = 'view', event = 'purchase'),
	       uba_sequence_count('(?1)(?2)', ts, event = 'view', event = 'cart'),
	       uba_next_event('forward', 'first_match', ts, event, true, event = 'cart'),
	       uba_path(ts, event, '{"start": "view", "max_steps": 4}'),
	       uba_profile(ts, event, NULL::int, category, CASE WHEN event = 'purchase' THEN amount END,
	                   '{"end": "2024-01-05"}')::text,
	       uba_rfm(ts, CASE WHEN event = 'purchase' THEN amount END, '{"end": "2024-01-05"}')::text,
	       uba_lifecycle(ts, '{"start": "2024-01-01", "end": "2024-01-04", "period": "day"}')::text
	  FROM %I GROUP BY user_id$q$, tab);
END $$;
SELECT count(*) AS users,
       count(*) FILTER (WHERE (l.*) IS DISTINCT FROM (d.*)) AS different
  FROM per_user('ev_local') l FULL JOIN per_user('ev_dist') d USING (user_id);
-- sessions: a window function partitioned by user runs on the workers
SELECT where_runs($$SELECT user_id, ts, uba_session(ts, '30 minutes') OVER (PARTITION BY user_id ORDER BY ts) FROM ev_dist$$,
                  'uba_session') AS sessions;
SELECT count(*) AS rows, count(*) FILTER (WHERE l.s IS DISTINCT FROM d.s) AS different
  FROM (SELECT user_id, ts, event, uba_session(ts, '30 minutes') OVER (PARTITION BY user_id ORDER BY ts, event) AS s FROM ev_local) l
  FULL JOIN (SELECT user_id, ts, event, uba_session(ts, '30 minutes') OVER (PARTITION BY user_id ORDER BY ts, event) AS s FROM ev_dist) d
  USING (user_id, ts, event);

-- over the whole table: internal states gather rows to the coordinator, the answers agree
SELECT where_runs($$SELECT uba_prefixspan(user_id, ts, event) FROM ev_dist$$, 'uba_prefixspan') AS prefixspan;
SELECT count(*) AS patterns, count(*) FILTER (WHERE l.users IS DISTINCT FROM d.users) AS different
  FROM uba_sequential_patterns((SELECT uba_prefixspan(user_id, ts, event, '{"min_support": 0.1, "max_length": 3}') FROM ev_local)) l
  FULL JOIN uba_sequential_patterns((SELECT uba_prefixspan(user_id, ts, event, '{"min_support": 0.1, "max_length": 3}') FROM ev_dist)) d
  USING (pattern);
SELECT count(*) AS rules, count(*) FILTER (WHERE l.count IS DISTINCT FROM d.count) AS different
  FROM uba_assoc_rules_list((SELECT uba_assoc_rules(user_id, event || category, '{"min_support": 0.2, "min_confidence": 0.5, "max_length": 3}') FROM ev_local)) l
  FULL JOIN uba_assoc_rules_list((SELECT uba_assoc_rules(user_id, event || category, '{"min_support": 0.2, "min_confidence": 0.5, "max_length": 3}') FROM ev_dist)) d
  USING (antecedent, consequent);
SELECT count(*) AS segments, count(*) FILTER (WHERE abs(l.contribution - d.contribution) > 1e-9 * abs(l.contribution)
                                                 OR l.rows_test <> d.rows_test) AS different
  FROM unnest((SELECT uba_contribution(ts >= '2024-01-03', ARRAY[event, category], amount, '{"top_k": 0, "min_support": 0}') FROM ev_local)) WITH ORDINALITY l
  FULL JOIN unnest((SELECT uba_contribution(ts >= '2024-01-03', ARRAY[event, category], amount, '{"top_k": 0, "min_support": 0}') FROM ev_dist)) WITH ORDINALITY d
  USING (segment);
-- funnel conversion per category over the whole table, as a dashboard asks it: per user on the workers
SELECT where_runs($$SELECT depth, count(*) FROM (SELECT user_id, uba_funnel(ts, '1 day', ARRAY[event = 'view', event = 'cart']) AS depth
                    FROM ev_dist GROUP BY user_id) f GROUP BY depth$$, 'uba_funnel') AS funnel_table;
SELECT depth, count(*) AS users
  FROM (SELECT user_id, uba_funnel(ts, '1 day', ARRAY[event = 'view', event = 'cart']) AS depth FROM ev_dist GROUP BY user_id) f
 GROUP BY depth ORDER BY depth;
SELECT depth, count(*) AS users
  FROM (SELECT user_id, uba_funnel(ts, '1 day', ARRAY[event = 'view', event = 'cart']) AS depth FROM ev_local GROUP BY user_id) f
 GROUP BY depth ORDER BY depth;

DROP FUNCTION per_user(text);
DROP TABLE ev_local, ev_dist;
