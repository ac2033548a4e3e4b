-- Ids as they are: recommenders take user and item ids of any integer type, text or uuid, keep
-- them in the model and answer in them; nothing is renumbered.
SET extra_float_digits = 0;

-- a shop whose products are text codes and whose customers are integers (as in Online Retail)
CREATE TABLE shop_events AS
SELECT 12000 + u AS customer_id,
       (ARRAY['85123A', '71053', '84406B', '84029G', '84029E', '22752', '21730', '22633',
              '22632', '84879', '22745', '22748'])[1 + (u * 7 + k * k) % 12] AS stock_code,
       1.0 + (u + k) % 3 AS quantity
  FROM generate_series(1, 60) u, generate_series(1, 4) k;
CREATE TABLE shop_model AS
SELECT uba_cf_train(customer_id, stock_code, quantity, '{"method": "item_knn"}'::jsonb) AS m FROM shop_events;
SELECT uba_model_info(m)->>'user_id_type' AS user_ids, uba_model_info(m)->>'item_id_type' AS item_ids,
       uba_model_info(m)->'items' AS items FROM shop_model;

-- a user id says nothing about the items' type: item_type names it (the short form answers in the
-- user id's type, and an integer cannot hold a text code)
SELECT pg_typeof(item_id), item_id, round(score::numeric, 4) AS score
  FROM uba_cf_recommend((SELECT m FROM shop_model), 12001, 3, NULL, NULL::text);
SELECT expect_error($$SELECT * FROM uba_cf_recommend((SELECT m FROM shop_model), 12001, 3)$$);
-- the catalog form the same way
SELECT uba_model_save('shop', (SELECT m FROM shop_model));
SELECT item_id FROM uba_recommend(12001, 3, 'shop', NULL::text)
EXCEPT ALL
SELECT item_id FROM uba_cf_recommend((SELECT m FROM shop_model), 12001, 3, NULL, NULL::text);
SELECT count(*) AS same_three FROM uba_recommend(12001, 3, 'shop', NULL::varchar);
-- what the user already has is left out, by its code
SELECT count(*) AS seen_recommended
  FROM uba_cf_recommend((SELECT m FROM shop_model), 12001, 12, NULL, NULL::text) r
 WHERE r.item_id IN (SELECT stock_code FROM shop_events WHERE customer_id = 12001);
-- a cart of codes (text[]), untyped or typed, gives codes back
SELECT pg_typeof(item_id), count(*) FROM uba_cf_recommend((SELECT m FROM shop_model), ARRAY['85123A', '71053'], 3) GROUP BY 1;
SELECT (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM uba_cf_recommend((SELECT m FROM shop_model), '{85123A,71053}', 3))
     = (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM uba_cf_recommend((SELECT m FROM shop_model), ARRAY['85123A', '71053'], 3)) AS literal_cart_is_the_cart;
-- similar items and explanations by code; an untyped code is read as text
SELECT pg_typeof(item_id), count(*) FROM uba_cf_similar_items((SELECT m FROM shop_model), '85123A', 3) GROUP BY 1;
SELECT because_item IN (SELECT stock_code FROM shop_events WHERE customer_id = 12001) AS users_own_item
  FROM uba_cf_explain((SELECT m FROM shop_model), 12001,
                      (SELECT item_id FROM uba_cf_recommend((SELECT m FROM shop_model), 12001, 1, NULL, NULL::text)), 3);
-- a code the model does not know gives no rows, like an unknown bigint
SELECT count(*) AS unknown_code FROM uba_cf_similar_items((SELECT m FROM shop_model), 'NOPE'::text, 3);
-- ids of a kind the model does not hold are an error that says which
SELECT expect_error($$SELECT * FROM uba_cf_similar_items((SELECT m FROM shop_model), 85123, 3)$$);
SELECT expect_error($$SELECT * FROM uba_cf_recommend((SELECT m FROM shop_model), '2f1e0bb1-3a5b-4c8e-9d3e-1f2a3b4c5d6e'::uuid, 3, NULL, NULL::text)$$);
-- asking for item ids in a type that cannot hold them fails before any row
SELECT expect_error($$SELECT * FROM uba_cf_recommend((SELECT m FROM shop_model), 99999, 3, NULL, NULL::bigint)$$);

-- adding a product renumbers nothing: a new item bought by a new customer leaves every other
-- customer's item-item recommendations exactly as they were (with dense_rank() numbering, every
-- later code moved and a saved model pointed at the wrong products)
CREATE TABLE shop_model2 AS
SELECT uba_cf_train(customer_id, stock_code, quantity, '{"method": "item_knn"}'::jsonb) AS m
  FROM (SELECT * FROM shop_events UNION ALL SELECT 99999, '10002', 1) e;
SELECT count(*) AS changed FROM (
  (SELECT u, r.item_id, r.score FROM generate_series(12001, 12060) u,
          uba_cf_recommend((SELECT m FROM shop_model), u, 3, NULL, NULL::text) r
   EXCEPT
   SELECT u, r.item_id, r.score FROM generate_series(12001, 12060) u,
          uba_cf_recommend((SELECT m FROM shop_model2), u, 3, NULL, NULL::text) r)) x;

-- the order of the rows does not matter: the ids are put in byte order before training
CREATE FUNCTION pg_temp.digest(m bytea) RETURNS text LANGUAGE sql AS $$
	SELECT md5(substring(m FROM 1 FOR 20) || substring(m FROM 25 FOR 24) || substring(m FROM 65))
$$;
SELECT (SELECT pg_temp.digest(uba_cf_train(customer_id::text, stock_code, quantity, '{"factors": 4, "seed": 1}'::jsonb))
          FROM (SELECT * FROM shop_events ORDER BY stock_code, customer_id) e)
     = (SELECT pg_temp.digest(uba_cf_train(customer_id::text, stock_code, quantity, '{"factors": 4, "seed": 1}'::jsonb))
          FROM (SELECT * FROM shop_events ORDER BY md5(stock_code || customer_id) DESC) e) AS order_free;

-- uuid customers and bigint products; int and smallint ids keep their type
CREATE TABLE uu_events AS
SELECT md5('c' || u)::uuid AS customer, (1000000000000 + (u * 5 + k) % 9)::bigint AS product, 1.0 AS w
  FROM generate_series(1, 40) u, generate_series(1, 3) k;
CREATE TABLE uu_model AS SELECT uba_cf_train(customer, product, w, '{"factors": 4, "seed": 2}'::jsonb) AS m FROM uu_events;
SELECT uba_model_info(m)->>'user_id_type' AS user_ids, uba_model_info(m)->>'item_id_type' AS item_ids FROM uu_model;
SELECT pg_typeof(item_id), count(*) FROM uba_cf_recommend((SELECT m FROM uu_model), md5('c1')::uuid, 2, NULL, NULL::bigint) GROUP BY 1;
SELECT pg_typeof(item_id), bool_and(item_id LIKE '10000000000%') AS as_text
  FROM uba_cf_recommend((SELECT m FROM uu_model), md5('c1')::uuid, 2, NULL, NULL::text) GROUP BY 1;
-- an integer type too small for the ids is a range error, not a wrapped number
SELECT expect_error($$SELECT * FROM uba_cf_recommend((SELECT m FROM uu_model), md5('c1')::uuid, 2, NULL, NULL::int)$$);
SELECT pg_typeof(r.item_id), count(*)
  FROM (SELECT uba_cf_train(u, (u + k) % 7, 1.0, '{"method": "item_knn"}'::jsonb) AS m
          FROM generate_series(1, 30) u, generate_series(1, 3) k) x,
       uba_cf_recommend(x.m, 3, 2) r GROUP BY 1;
SELECT uba_model_info(uba_cf_train(u::smallint, ((u + k) % 7)::smallint, 1.0))->>'item_id_type' AS smallint_ids
  FROM generate_series(1, 30) u, generate_series(1, 3) k;
-- char(n) ids compare without their padding, as char does
SELECT count(*) AS padded_code_found
  FROM uba_cf_similar_items((SELECT uba_cf_train(customer_id, stock_code::char(8), quantity, '{"method": "item_knn"}'::jsonb) FROM shop_events),
                            '85123A'::text, 3);

-- types that are not ids are refused, naming the argument
SELECT expect_error($$SELECT uba_cf_train(customer_id::numeric, stock_code, quantity) FROM shop_events$$);
SELECT expect_error($$SELECT uba_cf_train(customer_id, stock_code::bytea, quantity) FROM shop_events$$);
-- a negative weight names the ids as they are
SELECT expect_error($$SELECT uba_cf_train(customer_id, stock_code, -1.0) FROM shop_events$$);

-- training in parallel workers (their ids merged by the leader) gives the serial model
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
CREATE TABLE big_events AS
SELECT 'cust-' || u AS customer, 'sku-' || ((u * 13 + k * k) % 211) AS sku, 1.0 + k % 2 AS w
  FROM generate_series(1, 3000) u, generate_series(1, 6) k;
ANALYZE big_events;
SELECT parallel_plans(true);
EXPLAIN (COSTS OFF) SELECT uba_cf_train(customer, sku, w) FROM big_events;
CREATE TABLE par_digest AS SELECT pg_temp.digest(uba_cf_train(customer, sku, w, '{"factors": 4, "seed": 3}'::jsonb)) AS d FROM big_events;
SELECT parallel_plans(false);
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;
SET max_parallel_workers_per_gather = 0;
SELECT d = (SELECT pg_temp.digest(uba_cf_train(customer, sku, w, '{"factors": 4, "seed": 3}'::jsonb)) FROM big_events) AS parallel_equals_serial
  FROM par_digest;
RESET max_parallel_workers_per_gather;
