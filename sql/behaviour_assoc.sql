-- uba_assoc_rules, uba_assoc_rules_list, uba_basket_complete: hand-worked baskets, a brute
-- force in SQL on generated baskets, basket completion, damaged models, every error path
SET extra_float_digits = 0;

-- six baskets; item 2 twice in basket 5 (counts once), a NULL item and a NULL basket (skipped)
-- counts: {1} {2} {3} 4 each, {4} 1; {1,2} {1,3} {2,3} 3 each; {1,2,3} 2
CREATE TABLE bk (basket_id bigint, item_id bigint);
INSERT INTO bk VALUES (1, 10), (1, 20), (1, 30), (2, 10), (2, 20), (3, 10), (3, 30), (4, 20), (4, 30),
	(5, 10), (5, 20), (5, 20), (5, 30), (6, 40), (6, NULL), (NULL, 10);
-- support 0.3 keeps counts >= 2 (2 / 6 = 0.33); confidence 0.6 keeps the six pair rules
-- (3 / 4 = 0.75, lift 0.75 / (4 / 6) = 1.125) and the three {a, b} => {c} (2 / 3, lift 1)
CREATE TABLE bk_model AS SELECT uba_assoc_rules(basket_id, item_id, '{"min_support": 0.3, "min_confidence": 0.6}') AS m FROM bk;
SELECT * FROM uba_assoc_rules_list((SELECT m FROM bk_model));
SELECT uba_model_info(m) - 'created_at' - 'training_ms' - 'size_bytes' AS info FROM bk_model;
-- two-item consequents: {a} => {b, c} has confidence 2 / 4 and lift 0.5 / (3 / 6) = 1
SELECT * FROM uba_assoc_rules_list((SELECT uba_assoc_rules(basket_id, item_id, '{"min_support": 0.3, "min_confidence": 0.5, "max_consequent": 2}') FROM bk))
 WHERE cardinality(consequent) = 2;
-- max_length 2: no rules from the triple
SELECT count(*) AS rules, max(cardinality(antecedent) + cardinality(consequent)) AS longest
  FROM uba_assoc_rules_list((SELECT uba_assoc_rules(basket_id, item_id, '{"min_support": 0.3, "min_confidence": 0.1, "max_length": 2}') FROM bk));
-- support is count / baskets >= min_support exactly: 2 / 6 passes 1/3 rounded down, not up
SELECT (SELECT uba_model_info(uba_assoc_rules(basket_id, item_id, '{"min_support": 0.3333333333333333}'))->'frequent_itemsets' FROM bk) AS at_one_third,
       (SELECT uba_model_info(uba_assoc_rules(basket_id, item_id, '{"min_support": 0.33333333333333337}'))->'frequent_itemsets' FROM bk) AS just_above;
-- no frequent pairs: a model with no rules
SELECT uba_model_info(m)->'rules' AS rules, (SELECT count(*) FROM uba_assoc_rules_list(m)) AS listed
  FROM (SELECT uba_assoc_rules(basket_id, item_id, '{"min_support": 0.9}') AS m FROM bk) x;
-- no rows: NULL
SELECT uba_assoc_rules(basket_id, item_id) IS NULL AS no_rows FROM bk WHERE false;

-- basket completion: rules whose antecedent the basket holds, best rule per item, items
-- already in the basket left out; ids unknown to the model and NULLs are ignored
SELECT * FROM uba_basket_complete((SELECT m FROM bk_model), ARRAY[10], 5);
SELECT * FROM uba_basket_complete((SELECT m FROM bk_model), ARRAY[10, 20, 99, NULL], 5);
SELECT * FROM uba_basket_complete((SELECT m FROM bk_model), ARRAY[10, 20, 30], 5);
SELECT * FROM uba_basket_complete((SELECT m FROM bk_model), ARRAY[10], 1);
SELECT count(*) AS none FROM uba_basket_complete((SELECT m FROM bk_model), ARRAY[]::bigint[], 5);
SELECT count(*) AS none FROM uba_basket_complete((SELECT m FROM bk_model), ARRAY[10], 0);

-- brute force in SQL on 3,000 generated baskets: every rule with one consequent and at most
-- three items, counted by joins
CREATE TABLE gen AS
SELECT DISTINCT b AS basket_id, ((b * 7 + k * k * 3 + (b % 5) * k) % 23)::bigint AS item_id
  FROM generate_series(1, 3000) b, generate_series(1, 2 + b % 6) k;
CREATE TABLE gen_sets AS
WITH n AS (SELECT count(DISTINCT basket_id)::float8 AS n FROM gen),
s1 AS (SELECT ARRAY[item_id] AS items, count(*) AS c FROM gen GROUP BY item_id),
s2 AS (SELECT ARRAY[a.item_id, b.item_id] AS items, count(*) AS c FROM gen a JOIN gen b ON a.basket_id = b.basket_id AND a.item_id < b.item_id GROUP BY 1),
s3 AS (SELECT ARRAY[a.item_id, b.item_id, c.item_id] AS items, count(*) AS c FROM gen a
         JOIN gen b ON a.basket_id = b.basket_id AND a.item_id < b.item_id
         JOIN gen c ON c.basket_id = a.basket_id AND b.item_id < c.item_id GROUP BY 1)
SELECT items, c FROM (SELECT * FROM s1 UNION ALL SELECT * FROM s2 UNION ALL SELECT * FROM s3) s, n WHERE c / n.n >= 0.02;
CREATE TABLE gen_rules AS
SELECT ARRAY(SELECT i FROM unnest(x.items) i WHERE i <> y ORDER BY i) AS antecedent, ARRAY[y] AS consequent, x.c AS count
  FROM gen_sets x, unnest(x.items) y
 WHERE cardinality(x.items) >= 2
   AND x.c::float8 / (SELECT a.c FROM gen_sets a WHERE a.items = ARRAY(SELECT i FROM unnest(x.items) i WHERE i <> y ORDER BY i)) >= 0.2;
CREATE TABLE gen_ours AS
SELECT * FROM uba_assoc_rules_list((SELECT uba_assoc_rules(basket_id, item_id, '{"min_support": 0.02, "min_confidence": 0.2, "max_length": 3}') FROM gen), NULL::bigint);
SELECT (SELECT count(*) FROM gen_sets) AS brute_itemsets,
       (SELECT uba_model_info(uba_assoc_rules(basket_id, item_id, '{"min_support": 0.02, "min_confidence": 0.2, "max_length": 3}'))->'frequent_itemsets' FROM gen) AS our_itemsets,
       (SELECT count(*) FROM gen_rules) AS brute_rules, (SELECT count(*) FROM gen_ours) AS our_rules,
       (SELECT count(*) FROM gen_rules b JOIN gen_ours o USING (antecedent, consequent) WHERE b.count = o.count) AS equal;
-- rules come best first
SELECT bool_and(ok) AS sorted FROM (
  SELECT (confidence, lift, support) <= lag((confidence, lift, support)) OVER (ORDER BY ord) AS ok
    FROM uba_assoc_rules_list((SELECT uba_assoc_rules(basket_id, item_id, '{"min_support": 0.02, "min_confidence": 0.2, "max_length": 3}') FROM gen)) WITH ORDINALITY r(a, c, support, confidence, lift, n, ord)) s;

-- a parallel plan (forced) gives the serial model
SELECT parallel_plans(true);
CREATE TABLE gen_big AS SELECT basket_id + rep * 10000 AS basket_id, item_id FROM gen, generate_series(0, 3) rep;
EXPLAIN (COSTS OFF) SELECT uba_assoc_rules(basket_id, item_id) FROM gen_big;
CREATE TABLE gen_par AS SELECT r.* FROM uba_assoc_rules_list((SELECT uba_assoc_rules(basket_id, item_id, '{"min_support": 0.02, "min_confidence": 0.2}') FROM gen_big)) r;
SELECT parallel_plans(false);
SELECT (SELECT array_agg(r::text) FROM gen_par r)
     = (SELECT array_agg(r::text) FROM uba_assoc_rules_list((SELECT uba_assoc_rules(basket_id, item_id, '{"min_support": 0.02, "min_confidence": 0.2}') FROM gen_big)) r) AS parallel_equals_serial;

-- option errors
SELECT expect_error($$SELECT uba_assoc_rules(basket_id, item_id, '{"min_support": 0}') FROM bk$$);
SELECT expect_error($$SELECT uba_assoc_rules(basket_id, item_id, '{"min_support": 1.5}') FROM bk$$);
SELECT expect_error($$SELECT uba_assoc_rules(basket_id, item_id, '{"min_support": -0.1}') FROM bk$$);
SELECT expect_error($$SELECT uba_assoc_rules(basket_id, item_id, '{"min_support": "high"}') FROM bk$$);
SELECT expect_error($$SELECT uba_assoc_rules(basket_id, item_id, '{"min_confidence": 2}') FROM bk$$);
SELECT expect_error($$SELECT uba_assoc_rules(basket_id, item_id, '{"max_length": 1}') FROM bk$$);
SELECT expect_error($$SELECT uba_assoc_rules(basket_id, item_id, '{"max_consequent": 0}') FROM bk$$);
SELECT expect_error($$SELECT uba_assoc_rules(basket_id, item_id, '{"support": 0.1}') FROM bk$$);
SELECT expect_error($$SELECT uba_assoc_rules(basket_id, item_id, CASE WHEN basket_id = 1 THEN '{}' ELSE '{"min_support": 0.2}' END::jsonb) FROM bk$$);
-- memory: mining that outgrows uba.max_memory stops with a clear error
SET uba.max_memory = '1MB';
SELECT expect_error($$SELECT uba_assoc_rules(b, i, '{"min_support": 0.001, "max_length": 12}') FROM generate_series(1, 2) b, generate_series(1, 14) i$$);
SELECT expect_error($$SELECT uba_assoc_rules(b, i) FROM generate_series(1, 10000) b, generate_series(1, 2) i$$);
RESET uba.max_memory;

-- serving errors: n, the basket's shape, a model of another kind, a damaged model
SELECT expect_error($$SELECT * FROM uba_basket_complete((SELECT m FROM bk_model), ARRAY[10], -1)$$);
SELECT expect_error($$SELECT * FROM uba_basket_complete((SELECT m FROM bk_model), '{{10},{20}}', 3)$$);
SELECT expect_error($$SELECT * FROM uba_assoc_rules_list((SELECT uba_kmeans(ARRAY[x::float8], 2) FROM generate_series(1, 10) x))$$);
SELECT expect_error($$SELECT * FROM uba_assoc_rules_list('\x00'::bytea)$$);
SELECT expect_error($$SELECT * FROM uba_assoc_rules_list(substring((SELECT m FROM bk_model) FROM 1 FOR 100))$$);
-- damaged payloads with a valid checksum (reseal); the payload starts at p = 32 + metadata length:
-- baskets (u64) at p, items at p + 8, itemsets at p + 16, rule items (u32) at p + 24, rules (u64)
-- at p + 28, the 3 item ids from p + 36, the 9 rules' lengths from p + 60, their counts from
-- p + 132, their items from p + 348
CREATE TABLE bk_damaged AS SELECT m, 32 + get_u32(m, 12)::int AS p FROM bk_model;
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p, 0))) FROM bk_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 24, 4))) FROM bk_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 44, 5))) FROM bk_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 60, 40))) FROM bk_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 132, 100))) FROM bk_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 348, 7))) FROM bk_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 352, get_u32(m, p + 348)))) FROM bk_damaged$$);
SELECT expect_error($$SELECT * FROM uba_basket_complete((SELECT reseal(put_u32(m, p + 28, 1000)) FROM bk_damaged), ARRAY[10], 3)$$);
-- found by the libFuzzer harness (test/fuzz): a huge item count (with a huge distinct-item
-- count to pass the first check) was allocated before the model was checked to hold the items
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(put_u32(m, p + 8, 4294967295), p + 24, 4294967295))) FROM bk_damaged$$);
-- the other counts: distinct items 0, an itemset count above 2^63, more rule items than
-- distinct items, rules without items
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 8, 0))) FROM bk_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 20, 2147483648))) FROM bk_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 24, 1000))) FROM bk_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 24, 0))) FROM bk_damaged$$);
SELECT count(*) AS null_model FROM uba_assoc_rules_list(NULL);
SELECT count(*) AS null_basket FROM uba_basket_complete((SELECT m FROM bk_model), NULL, 3);

-- ids as they are: baskets and products of any integer type, text or uuid; rules and
-- completions answer in them (rules as text[] unless item_type names a type)
CREATE TABLE bk_text AS
SELECT 'INV-' || basket_id AS invoice, (ARRAY['85123A', '71053', '84406B', '22752'])[1 + item_id % 4] AS stock_code
  FROM gen WHERE item_id % 23 < 12;
CREATE TABLE bk_text_model AS
SELECT uba_assoc_rules(invoice, stock_code, '{"min_support": 0.05, "min_confidence": 0.3}'::jsonb) AS m FROM bk_text;
SELECT uba_model_info(m)->>'item_id_type' AS item_ids, (uba_model_info(m)->>'rules')::int > 0 AS has_rules FROM bk_text_model;
SELECT pg_typeof(antecedent), pg_typeof(consequent), count(*) > 0 AS listed FROM uba_assoc_rules_list((SELECT m FROM bk_text_model)) GROUP BY 1, 2;
SELECT pg_typeof(antecedent), count(*) > 0 AS listed FROM uba_assoc_rules_list((SELECT m FROM bk_text_model), NULL::varchar) GROUP BY 1;
-- the same baskets with integer products give the same rules: map each code to its number
CREATE TABLE bk_codes(code text, num bigint);
INSERT INTO bk_codes VALUES ('85123A', 0), ('71053', 1), ('84406B', 2), ('22752', 3);
WITH t AS (SELECT ARRAY(SELECT c.num FROM unnest(antecedent) a JOIN bk_codes c ON c.code = a ORDER BY 1) AS a,
                  ARRAY(SELECT c.num FROM unnest(consequent) a JOIN bk_codes c ON c.code = a ORDER BY 1) AS c, count
             FROM uba_assoc_rules_list((SELECT m FROM bk_text_model))),
     i AS (SELECT antecedent AS a, consequent AS c, count
             FROM uba_assoc_rules_list((SELECT uba_assoc_rules(basket_id, item_id % 4, '{"min_support": 0.05, "min_confidence": 0.3}'::jsonb)
                                          FROM gen WHERE item_id % 23 < 12), NULL::bigint))
SELECT (SELECT count(*) FROM t) AS rules,
       (SELECT count(*) FROM ((SELECT * FROM t EXCEPT SELECT * FROM i) UNION ALL (SELECT * FROM i EXCEPT SELECT * FROM t)) x) AS differing;
SELECT pg_typeof(item_id), count(*) > 0 AS completes
  FROM uba_basket_complete((SELECT m FROM bk_text_model), ARRAY['85123A'], 2) GROUP BY 1;
SELECT (SELECT array_agg(item_id ORDER BY confidence DESC, lift DESC, item_id) FROM uba_basket_complete((SELECT m FROM bk_text_model), '{85123A}', 2))
     = (SELECT array_agg(item_id ORDER BY confidence DESC, lift DESC, item_id) FROM uba_basket_complete((SELECT m FROM bk_text_model), ARRAY['85123A'], 2))
       AS literal_basket_is_the_basket;
-- an untyped basket on an integer model is read as integers; ids of another kind are an error
SELECT count(*) > 0 AS literal_on_bigint FROM uba_basket_complete((SELECT m FROM bk_model), '{10}', 5);
SELECT expect_error($$SELECT * FROM uba_basket_complete((SELECT m FROM bk_text_model), ARRAY[10], 2)$$);
SELECT expect_error($$SELECT * FROM uba_assoc_rules_list((SELECT m FROM bk_text_model), NULL::bigint)$$);
SELECT expect_error($$SELECT uba_assoc_rules(invoice, stock_code::bytea) FROM bk_text$$);

DROP TABLE bk, bk_model, bk_damaged, gen, gen_sets, gen_rules, gen_ours, gen_big, gen_par, bk_text, bk_text_model, bk_codes;
