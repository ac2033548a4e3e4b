-- uba_session_train / uba_next_items against an independent Python implementation of the same
-- definitions (bench/session_reference.py, doc/sessions.md), on Online Retail invoices as sessions
-- (test/data/session_events.csv: items in line order, training days then two test days).
--   test/data/session_reference.csv          the reference's top 20 for 100 queries, every method
--   test/data/session_queries.csv            those queries: a test session's first t items
--   test/data/session_metrics_reference.csv  hit rate and MRR at 20 over every test query
-- Run from the project root: pg_prove test/recommend_next_items_reference.sql
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
\i test/lib/model_bytes.sql

SELECT plan(40);

CREATE TEMP TABLE nx_events (session_id text, item_id text, ts timestamptz, test boolean) ON COMMIT DROP;
\copy nx_events FROM 'test/data/session_events.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE nx_queries (query int, session_id text, t int, target text) ON COMMIT DROP;
\copy nx_queries FROM 'test/data/session_queries.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE nx_reference (method text, query int, rank int, item_id text, score float8) ON COMMIT DROP;
\copy nx_reference FROM 'test/data/session_reference.csv' WITH (FORMAT csv, HEADER)
CREATE INDEX ON nx_reference (method, query, item_id);
ANALYZE nx_reference;
CREATE TEMP TABLE nx_metrics (method text, queries int, hit_rate float8, mrr float8) ON COMMIT DROP;
\copy nx_metrics FROM 'test/data/session_metrics_reference.csv' WITH (FORMAT csv, HEADER)

-- each configuration of the reference: its model's training options and the query's options
CREATE TEMP TABLE nx_configs (method text, train jsonb, serve jsonb) ON COMMIT DROP;
INSERT INTO nx_configs VALUES
	('pop', '{"method": "pop"}', '{}'),
	('markov', '{"method": "markov"}', '{}'),
	('sr', '{"method": "sr"}', '{}'),
	('sr_steps3', '{"method": "sr", "steps": 3}', '{}'),
	('vsknn', '{}', '{}'),
	('vsknn_k50_s100_idf0', '{"k": 50, "sample_size": 100, "idf_weighting": 0}', '{}'),
	('vsknn_exclude_seen', '{}', '{"exclude_seen": true}'),
	('stan', '{"method": "stan"}', '{}');
CREATE TEMP TABLE nx_models ON COMMIT DROP AS
SELECT c.method, c.serve,
       (SELECT uba_session_train(session_id, item_id, ts, c.train) FROM nx_events WHERE NOT test) AS m
  FROM nx_configs c;

-- every test query: a test session's first t items (t up to 5), the next one the target; the
-- query's time (STAN's "at") is its last click's
CREATE TEMP TABLE nx_test ON COMMIT DROP AS
SELECT session_id, array_agg(item_id ORDER BY ts, item_id COLLATE "C") AS items,
       array_agg(ts ORDER BY ts, item_id COLLATE "C") AS times, max(ts) AS last
  FROM nx_events WHERE test GROUP BY session_id HAVING count(*) >= 2;
CREATE TEMP TABLE nx_all_queries ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY last, session_id COLLATE "C", t)::int AS query, session_id,
       items[1:t] AS prefix, items[t + 1] AS target, times[t] AS at
  FROM nx_test, generate_series(1, least(array_length(items, 1) - 1, 5)) t;

CREATE TEMP TABLE nx_uba ON COMMIT DROP AS
SELECT md.method, q.query, r.rank::int, r.item_id, r.score
  FROM nx_models md, nx_all_queries q,
       LATERAL (SELECT item_id, score, row_number() OVER (ORDER BY score DESC, item_id COLLATE "C") AS rank
                  FROM uba_next_items(md.m, q.prefix, 20, md.serve || jsonb_build_object('at', q.at))) r;

SELECT is((SELECT count(*)::int FROM nx_all_queries), (SELECT DISTINCT queries FROM nx_metrics),
          'the queries are the reference''s (every test session''s first five prefixes)');
SELECT is((SELECT count(*)::int FROM nx_queries f JOIN nx_all_queries q USING (query)
            WHERE f.session_id = q.session_id AND f.t = array_length(q.prefix, 1) AND f.target = q.target), 100,
          'the fixture''s 100 queries are the first 100, numbered alike');

-- the top 20 of the 100 fixture queries: every score equal at every rank, and the same item there
-- unless the two are tied (equal scores: the reference orders exact ties by id, uba scores within
-- 1e-12 of each other, so the order of a tie can differ, and the 20th place of a tie with the 21st)
CREATE TEMP TABLE nx_compare ON COMMIT DROP AS
SELECT coalesce(r.method, u.method) AS method, coalesce(r.query, u.query) AS query, coalesce(r.rank, u.rank) AS rank,
       r.item_id AS ref_item, u.item_id AS uba_item, r.score AS ref_score, u.score AS uba_score,
       abs(u.score - r.score) <= 1e-9 * greatest(1, abs(r.score)) AND
       (r.rank = 20 OR EXISTS (SELECT 1 FROM nx_reference n WHERE n.method = r.method AND n.query = r.query
                                  AND n.item_id = u.item_id AND abs(n.score - r.score) <= 1e-9 * greatest(1, abs(r.score)))) AS tied
  FROM nx_reference r
  FULL JOIN (SELECT * FROM nx_uba WHERE query <= 100) u USING (method, query, rank);
SELECT is((SELECT count(*)::int FROM nx_compare WHERE (ref_score IS NULL OR uba_score IS NULL) AND method = m), 0,
          m || ': as many recommendations as the reference for each of the 100 queries')
  FROM unnest(ARRAY['pop', 'markov', 'sr', 'sr_steps3', 'vsknn', 'vsknn_k50_s100_idf0', 'vsknn_exclude_seen', 'stan']) m;
SELECT cmp_ok((SELECT max(abs(uba_score - ref_score) / greatest(1e-300, abs(ref_score))) FROM nx_compare WHERE method = m), '<', 1e-9::float8,
              m || ': scores equal to the reference''s at every rank (1e-9 relative), and the same items there but for ties')
  FROM unnest(ARRAY['pop', 'markov', 'sr', 'sr_steps3', 'vsknn', 'vsknn_k50_s100_idf0', 'vsknn_exclude_seen', 'stan']) m
 WHERE (SELECT count(*) FROM nx_compare WHERE method = m AND ref_item <> uba_item AND NOT tied) = 0
UNION ALL
SELECT fail(m || ': ' || (SELECT count(*) FROM nx_compare WHERE method = m AND ref_item <> uba_item AND NOT tied) || ' ranks hold another item than the reference''s')
  FROM unnest(ARRAY['pop', 'markov', 'sr', 'sr_steps3', 'vsknn', 'vsknn_k50_s100_idf0', 'vsknn_exclude_seen', 'stan']) m
 WHERE (SELECT count(*) FROM nx_compare WHERE method = m AND ref_item <> uba_item AND NOT tied) > 0;

-- hit rate and MRR at 20 over every query, by SQL's ranking metrics: the reference's to 1%
-- (they are equal but for ties at rank 20)
CREATE TEMP TABLE nx_quality ON COMMIT DROP AS
SELECT md.method,
       avg(uba_hit_rate_at_k(coalesce(r.items, '{}'), ARRAY[q.target], 20)) AS hit_rate,
       avg(uba_mrr_at_k(coalesce(r.items, '{}'), ARRAY[q.target], 20)) AS mrr
  FROM nx_models md CROSS JOIN nx_all_queries q
  LEFT JOIN (SELECT method, query, array_agg(item_id ORDER BY rank) AS items FROM nx_uba GROUP BY method, query) r
         ON r.method = md.method AND r.query = q.query
 GROUP BY md.method;
SELECT ok((SELECT bool_and(abs(u.hit_rate - r.hit_rate) <= 0.01 * r.hit_rate AND abs(u.mrr - r.mrr) <= 0.01 * r.mrr)
             FROM nx_quality u JOIN nx_metrics r USING (method)) AND (SELECT count(*) FROM nx_quality) = 8,
          'hit rate and MRR at 20 of all eight configurations within 1% of the reference''s');

-- the live session's corner cases
CREATE TEMP TABLE nx_vsknn ON COMMIT DROP AS SELECT m FROM nx_models WHERE method = 'vsknn';
SELECT is((SELECT count(*)::int FROM nx_vsknn, uba_next_items(m, ARRAY[]::text[], 20)), 0,
          'an empty session: no recommendation from vsknn');
SELECT is((SELECT count(*)::int FROM nx_models, uba_next_items(m, ARRAY['no such item', NULL], 20) WHERE method = 'pop'), 20,
          'a session of unknown items: pop still answers, with 20 items');
SELECT is((SELECT array_agg(item_id || score ORDER BY score DESC, item_id) FROM nx_vsknn, uba_next_items(m, ARRAY['22423', 'unknown', '85123A'], 20)),
          (SELECT array_agg(item_id || score ORDER BY score DESC, item_id) FROM nx_vsknn, uba_next_items(m, ARRAY['22423', '85123A'], 20)),
          'unknown items are left out of the session');
SELECT ok((SELECT count(*) FROM nx_vsknn, uba_next_items(m, ARRAY['85123A', '85123A', '85123A'], 20)) = 20 AND
          (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM nx_vsknn, uba_next_items(m, ARRAY['85123A', '85123A'], 20))
            = (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM nx_vsknn, uba_next_items(m, ARRAY['85123A'], 20)),
          'a repeated item: weighed at its last click, as one item');
SELECT is((SELECT count(*)::int FROM nx_vsknn, uba_next_items(m, ARRAY['85123A', '22423'], 20, '{"exclude_seen": true}')
            WHERE item_id IN ('85123A', '22423')), 0, 'exclude_seen leaves the session''s own items out');
-- a huge live session (20,000 clicks): its last 10,000 count, as the doc says, and it answers
SELECT is((SELECT array_agg(item_id ORDER BY score DESC, item_id)
             FROM nx_vsknn, uba_next_items(m, (SELECT array_agg(item_id ORDER BY ts) FROM (SELECT * FROM nx_events ORDER BY ts LIMIT 20000) e), 10)),
          (SELECT array_agg(item_id ORDER BY score DESC, item_id)
             FROM nx_vsknn, uba_next_items(m, (SELECT array_agg(item_id ORDER BY ts) FROM (SELECT * FROM (SELECT * FROM nx_events ORDER BY ts LIMIT 20000) a ORDER BY ts DESC LIMIT 10000) e), 10)),
          'a session of 20,000 clicks is read as its last 10,000');
-- one-click training sessions, and the same clicks arriving in another order, give the same model
CREATE TEMP TABLE nx_orders ON COMMIT DROP AS
SELECT (SELECT uba_session_train(session_id, item_id, ts) FROM (SELECT * FROM nx_events WHERE NOT test ORDER BY random()) e) AS shuffled,
       (SELECT uba_session_train(session_id, item_id, ts) FROM (SELECT * FROM nx_events WHERE NOT test ORDER BY ts DESC, item_id) e) AS reversed;
SELECT is((SELECT substring(shuffled FROM 33 + get_u32(shuffled, 12)::int) = substring(reversed FROM 33 + get_u32(reversed, 12)::int) FROM nx_orders),
          true, 'the model does not depend on the order the clicks arrive in (the same payload)');
SELECT is((SELECT uba_model_info(uba_session_train(s, 'i' || s, now())) ->> 'sessions' FROM generate_series(1, 3) s), '3',
          'sessions of one click are sessions');
-- integer ids, and the result in the type of the list
SELECT is((SELECT array_agg(item_id ORDER BY score DESC, item_id)::text
             FROM uba_next_items((SELECT uba_session_train(x / 3, (x * 7) % 10, '2024-01-01'::timestamptz + x * interval '1 minute', '{"method": "markov"}')
                                    FROM generate_series(0, 59) x), ARRAY[7]::int[], 3)),
          '{4}', 'markov on integer ids: 7 is always followed by 4');
-- GRU4Rec: it learns (the loss falls from epoch 1 to 4), is the same for the same seed, gives
-- probabilities, and on the fixture's queries finds the next click better than popularity
CREATE TEMP TABLE nx_gru ON COMMIT DROP AS
SELECT (SELECT uba_session_train(session_id, item_id, ts, '{"method": "gru4rec", "epochs": 1, "hidden": 32, "n_sample": 128, "seed": 3}') FROM nx_events WHERE NOT test) AS one,
       (SELECT uba_session_train(session_id, item_id, ts, '{"method": "gru4rec", "epochs": 4, "hidden": 32, "n_sample": 128, "seed": 3}') FROM nx_events WHERE NOT test) AS four,
       (SELECT uba_session_train(session_id, item_id, ts, '{"method": "gru4rec", "epochs": 4, "hidden": 32, "n_sample": 128, "seed": 3}') FROM nx_events WHERE NOT test) AS again;
SELECT ok((uba_model_info(four) ->> 'loss')::float8 < (uba_model_info(one) ->> 'loss')::float8,
          format('gru4rec learns: mean cross-entropy %s after 1 epoch, %s after 4',
                 round((uba_model_info(one) ->> 'loss')::numeric, 3), round((uba_model_info(four) ->> 'loss')::numeric, 3)))
  FROM nx_gru;
SELECT is(substring(four FROM 33 + get_u32(four, 12)::int), substring(again FROM 33 + get_u32(again, 12)::int),
          'gru4rec: the same clicks, options and seed give the same network') FROM nx_gru;
SELECT cmp_ok(abs((SELECT sum(score) FROM nx_gru, uba_next_items(four, ARRAY['85123A', '22423'], 1000000)) - 1), '<', 1e-9::float8,
              'gru4rec scores are probabilities: every item''s add up to 1');
SELECT cmp_ok((SELECT avg(uba_mrr_at_k(coalesce((SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM uba_next_items(four, q.prefix, 20)), '{}'), ARRAY[q.target], 20))
                 FROM nx_gru, nx_all_queries q), '>',
              (SELECT mrr FROM nx_quality WHERE method = 'pop'),
              'gru4rec (4 epochs) ranks the next click higher than popularity (MRR at 20)');
-- the output layer runs in two parts on uba.threads threads: the same network on one thread as on
-- two; and the logQ correction (on by default) changes what is learnt
SET LOCAL uba.threads = 1;
CREATE TEMP TABLE nx_gru1 ON COMMIT DROP AS
SELECT (SELECT uba_session_train(session_id, item_id, ts, '{"method": "gru4rec", "epochs": 4, "hidden": 32, "n_sample": 128, "seed": 3}') FROM nx_events WHERE NOT test) AS four,
       (SELECT uba_session_train(session_id, item_id, ts, '{"method": "gru4rec", "epochs": 4, "hidden": 32, "n_sample": 128, "seed": 3, "logq": 0}') FROM nx_events WHERE NOT test) AS nologq;
RESET uba.threads;
SELECT is(substring(t1.four FROM 33 + get_u32(t1.four, 12)::int), substring(g.four FROM 33 + get_u32(g.four, 12)::int),
          'gru4rec: the same network on one thread as on two') FROM nx_gru g, nx_gru1 t1;
SELECT isnt(substring(t1.nologq FROM 33 + get_u32(t1.nologq, 12)::int), substring(g.four FROM 33 + get_u32(g.four, 12)::int),
          'gru4rec: "logq": 0 trains another network') FROM nx_gru g, nx_gru1 t1;

-- click weights (an event type's, say): all ones change nothing; zero weights leave their clicks
-- out of the similarity, so a session whose clicks weigh 0 but the last ranks as the last click
-- alone does (every candidate in the sample: sample_size above the sessions); weights reorder
CREATE TEMP TABLE nx_w ON COMMIT DROP AS
SELECT (SELECT uba_session_train(session_id, item_id, ts, '{"sample_size": 100000}') FROM nx_events WHERE NOT test) AS vs,
       (SELECT uba_session_train(session_id, item_id, ts, '{"method": "stan"}') FROM nx_events WHERE NOT test) AS st;
CREATE TEMP TABLE nx_wq ON COMMIT DROP AS
SELECT query, prefix, at FROM nx_all_queries WHERE array_length(prefix, 1) >= 3 ORDER BY query LIMIT 40;
SELECT is((SELECT count(*) FROM nx_wq, nx_w m,
                  LATERAL (SELECT array_agg(item_id ORDER BY score DESC, item_id) a FROM uba_next_items(m.vs, prefix, 20)) x,
                  LATERAL (SELECT array_agg(item_id ORDER BY score DESC, item_id) a FROM uba_next_items(m.vs, prefix, 20,
                           jsonb_build_object('weights', array_fill(1, ARRAY[array_length(prefix, 1)])))) y
            WHERE x.a IS DISTINCT FROM y.a), 0::bigint, 'weights of 1: the same top 20 as none (vsknn)');
SELECT is((SELECT count(*) FROM nx_wq, nx_w m,
                  LATERAL (SELECT array_agg(item_id ORDER BY score DESC, item_id) a FROM uba_next_items(m.vs, prefix[array_length(prefix, 1):], 20)) x,
                  LATERAL (SELECT array_agg(item_id ORDER BY score DESC, item_id) a FROM uba_next_items(m.vs, prefix, 20,
                           jsonb_build_object('weights', array_fill(0, ARRAY[array_length(prefix, 1) - 1]) || 1))) y
            WHERE prefix[array_length(prefix, 1)] <> ALL (prefix[1:array_length(prefix, 1) - 1]) AND x.a IS DISTINCT FROM y.a),
          0::bigint, 'weights 0, ..., 0, 1: the last click alone, as a one-click session (vsknn)');
SELECT cmp_ok((SELECT count(*) FROM nx_wq, nx_w m,
                  LATERAL (SELECT array_agg(item_id ORDER BY score DESC, item_id) a FROM uba_next_items(m.st, prefix, 20,
                           jsonb_build_object('at', at))) x,
                  LATERAL (SELECT array_agg(item_id ORDER BY score DESC, item_id) a FROM uba_next_items(m.st, prefix, 20,
                           jsonb_build_object('at', at, 'weights', 5 || array_fill(1, ARRAY[array_length(prefix, 1) - 1])))) y
            WHERE x.a IS DISTINCT FROM y.a), '>', 0::bigint, 'a first click weighing 5 reorders some top 20s (stan)');
SELECT throws_ok($$SELECT * FROM nx_w, uba_next_items(vs, ARRAY['a', 'b'], 5, '{"weights": [1]}')$$, '22023',
	'option "weights" of uba_next_items has 1 numbers, and recent_items 2 elements', 'one weight per click');
SELECT throws_ok($$SELECT * FROM nx_w, uba_next_items(vs, ARRAY['a'], 5, '{"weights": [-1]}')$$, '22023', NULL,
	'weights are not negative');

-- cancel: a statement timeout stops training on 5,000,000 clicks within a second
\i test/lib/seconds_until_cancel.sql
SET LOCAL statement_timeout = '1500ms';
CREATE TEMP TABLE nx_cancel ON COMMIT DROP AS
SELECT pg_temp.seconds_until_cancel($$SELECT uba_session_train(g / 7, g % 5000, '2024-01-01'::timestamptz + g * interval '1 second', '{"method": "sr"}')
                                        FROM generate_series(1, 5000000) g$$) AS s;
SET LOCAL statement_timeout = 0;
SELECT ok(s IS NOT NULL AND s < 2.5, 'a statement timeout cancels training, within a second of it') FROM nx_cancel;

SELECT * FROM finish();
-- the figures, for the record
SELECT diag(u.method || ': hit@20 ' || round(u.hit_rate::numeric, 4) || ' (reference ' || round(r.hit_rate::numeric, 4) ||
            '), MRR@20 ' || round(u.mrr::numeric, 4) || ' (reference ' || round(r.mrr::numeric, 4) || ')')
  FROM nx_quality u JOIN nx_metrics r USING (method) ORDER BY u.method;
ROLLBACK;
