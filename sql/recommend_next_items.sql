-- next items for a live session: every method on a small click log whose structure is known
-- (sessions walk 0 -> 1 -> 2 -> ... -> 9 and wrap, some start elsewhere), ids of three types
SET extra_float_digits = 0;
CREATE TABLE nx_clicks AS
SELECT s AS session_id, ((s % 7) + k) % 10 AS item_id,
       '2024-03-01'::timestamptz + s * interval '1 hour' + k * interval '1 minute' AS ts
  FROM generate_series(1, 300) s, generate_series(0, 2 + s % 4) k;
CREATE TABLE nx_models AS
SELECT method, uba_session_train(session_id, item_id, ts, jsonb_build_object('method', method, 'epochs', 30, 'hidden', 8, 'n_sample', 4, 'learning_rate', 0.2)) AS m
  FROM nx_clicks, unnest(ARRAY['vsknn', 'stan', 'sr', 'markov', 'pop', 'gru4rec']) method
 GROUP BY method;
SELECT method, uba_model_info(m) ->> 'sessions' AS sessions, uba_model_info(m) ->> 'clicks' AS clicks,
       uba_model_info(m) ->> 'items' AS items, uba_model_info(m) ->> 'rules' AS rules
  FROM nx_models ORDER BY method;
-- after 3, 4: markov, sr and gru4rec put 5 first (what follows 4); the neighbour methods score
-- the session's own items too (sessions that went 3, 4, 5), and 5 first among the others
SELECT method, (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM uba_next_items(m, ARRAY[3, 4], 3, '{"at": "2024-03-14"}')) AS next
  FROM nx_models WHERE method <> 'gru4rec' ORDER BY method;
-- the network's first choice only (the rest are small probabilities whose float32 sums may order
-- differently on another CPU)
SELECT (SELECT item_id FROM uba_next_items(m, ARRAY[3, 4], 1)) AS gru4rec_first FROM nx_models WHERE method = 'gru4rec';
SELECT method, (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM uba_next_items(m, ARRAY[3, 4], 2, '{"exclude_seen": true, "at": "2024-03-14"}')) AS next_unseen
  FROM nx_models WHERE method IN ('vsknn', 'stan') ORDER BY method;
SELECT method, (SELECT round(score::numeric, 4) FROM uba_next_items(m, ARRAY[3, 4], 1)) AS top_score
  FROM nx_models WHERE method IN ('markov', 'sr', 'pop') ORDER BY method;
-- the session's own items left out; unknown items and NULLs ignored; an empty session
SELECT method, (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM uba_next_items(m, ARRAY[4, 5, 6], 3, '{"exclude_seen": true}')) AS next
  FROM nx_models WHERE method IN ('vsknn', 'markov') ORDER BY method;
SELECT (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM uba_next_items(m, ARRAY[NULL, 42, 4], 3)) =
       (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM uba_next_items(m, ARRAY[4], 3)) AS unknown_ignored
  FROM nx_models WHERE method = 'vsknn';
SELECT method, (SELECT count(*) FROM uba_next_items(m, '{}'::int[], 3)) AS from_nothing FROM nx_models ORDER BY method;
-- text and uuid ids; an integer list on a text model is an error, a text list on an integer one is not
CREATE TABLE nx_text AS SELECT uba_session_train('s' || session_id, 'i' || item_id, ts, '{"method": "markov"}') AS m FROM nx_clicks;
SELECT r.* FROM nx_text, uba_next_items(m, ARRAY['i3', 'i4'], 2) r;
SELECT r.* FROM nx_models, uba_next_items(m, ARRAY['4'], 1) r WHERE method = 'markov';
SELECT expect_error($$SELECT * FROM nx_text, uba_next_items(m, ARRAY[4], 2)$$);
SELECT count(*) FROM uba_next_items((SELECT uba_session_train(md5(session_id::text)::uuid, md5(item_id::text)::uuid, ts) FROM nx_clicks),
                                    ARRAY[md5('4')::uuid], 5);
-- bad arguments
SELECT expect_error($$SELECT uba_session_train(session_id, item_id, ts, '{"method": "rnn"}') FROM nx_clicks$$);
SELECT expect_error($$SELECT * FROM nx_models, uba_next_items(m, ARRAY[1], -1) WHERE method = 'pop'$$);
SELECT expect_error($$SELECT * FROM nx_models, uba_next_items(m, ARRAY[[1, 2]], 2) WHERE method = 'pop'$$);
SELECT expect_error($$SELECT * FROM nx_models, uba_next_items(m, ARRAY[1], 2, '{"at": "soon"}') WHERE method = 'stan'$$);
SELECT expect_error($$SELECT * FROM uba_next_items((SELECT uba_kmeans(ARRAY[1.0, 2.0], 1)), ARRAY[1], 2)$$);
-- a damaged model: a click naming an item past the list (checksum made right)
SELECT expect_error($$SELECT * FROM nx_models, uba_next_items(reseal(put_u32(m, length(m) - 4, 1000)), ARRAY[1], 2) WHERE method = 'sr'$$);
-- STAN's live session is now (the transaction's start) unless "at" says otherwise
SELECT (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM uba_next_items(m, ARRAY[3, 4], 5)) =
       (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM uba_next_items(m, ARRAY[3, 4], 5, jsonb_build_object('at', now()))) AS at_now_by_default
  FROM nx_models WHERE method = 'stan';
-- progress: the sessions, clicks and items (GRU4Rec adds each epoch's loss, whose last digits
-- depend on the CPU's single-precision kernels)
SELECT uba_model_info(uba_session_train(session_id, item_id, ts, '{"method": "sr", "verbose": true}')) ->> 'rules' AS rules FROM nx_clicks;
-- the next-item metric
SELECT uba_mrr_at_k(ARRAY[7, 5, 3], ARRAY[5], 3) AS second, uba_mrr_at_k(ARRAY[7, 5, 3], ARRAY[9], 3) AS none,
       uba_mrr_at_k(ARRAY[7, 5, 3], ARRAY[3], 2) AS beyond_k;
DROP TABLE nx_clicks, nx_models, nx_text;
