-- uba_cf_train (implicit-feedback ALS) and uba_cf_recommend
SET extra_float_digits = 0;

-- 300 users x 12 events over 97 items, ids sparse and unsorted; every fifth user repeats
-- three of its pairs (repeated pairs add up)
CREATE TABLE cf_ev AS
SELECT (u * 7919) % 1000003 AS user_id, ((u * 31 + k * k * 17) % 97) * 1000 + 5 AS item_id,
       (1 + (u + k) % 3)::float8 AS weight
  FROM generate_series(1, 300) u, generate_series(1, 12) k
UNION ALL
SELECT (u * 7919) % 1000003, ((u * 31 + k * k * 17) % 97) * 1000 + 5, 0.5
  FROM generate_series(5, 300, 5) u, generate_series(1, 3) k;
CREATE TABLE cf_model AS SELECT uba_cf_train(user_id, item_id, weight, '{"factors": 8, "seed": 3}') AS m FROM cf_ev;

-- what the model records: distinct users, items and (user, item) pairs
SELECT uba_model_info(m)->>'kind' AS kind, uba_model_info(m)->>'method' AS method,
       uba_model_info(m)->'users' AS users, uba_model_info(m)->'items' AS items,
       uba_model_info(m)->'interactions' AS pairs, uba_model_info(m)->'training_rows' AS events,
       uba_model_info(m)->'factors' AS factors, uba_model_info(m)->'iterations' AS iterations,
       uba_model_info(m)->'options' AS options
  FROM cf_model;
SELECT count(DISTINCT user_id) AS users, count(DISTINCT item_id) AS items,
       count(DISTINCT (user_id, item_id)) AS pairs FROM cf_ev;

-- the same events in another order, or with repeated pairs summed beforehand, give the same model
SELECT (SELECT uba_model_info(uba_cf_train(user_id, item_id, weight, '{"factors": 8, "seed": 3}' ORDER BY weight DESC, item_id, user_id))->'loss' FROM cf_ev)
     = (SELECT uba_model_info(m)->'loss' FROM cf_model) AS same_in_any_order,
       (SELECT uba_model_info(uba_cf_train(user_id, item_id, w, '{"factors": 8, "seed": 3}'))->'loss'
          FROM (SELECT user_id, item_id, sum(weight) AS w FROM cf_ev GROUP BY 1, 2) s)
     = (SELECT uba_model_info(m)->'loss' FROM cf_model) AS repeated_pairs_add_up;
-- ...and with one thread
SET uba.threads = 1;
SELECT (SELECT uba_model_info(uba_cf_train(user_id, item_id, weight, '{"factors": 8, "seed": 3}'))->'loss' FROM cf_ev)
     = (SELECT uba_model_info(m)->'loss' FROM cf_model) AS same_with_one_thread;
RESET uba.threads;

-- the objective goes down with more iterations, and the exact solver reaches about the same
SELECT (SELECT (uba_model_info(uba_cf_train(user_id, item_id, weight, '{"factors": 8, "seed": 3, "iterations": 2}'))->>'loss')::float8 FROM cf_ev)
     > (SELECT (uba_model_info(m)->>'loss')::float8 FROM cf_model) AS more_iterations_lower_loss,
       abs((SELECT (uba_model_info(uba_cf_train(user_id, item_id, weight, '{"factors": 8, "seed": 3, "solver": "cholesky"}'))->>'loss')::float8 FROM cf_ev)
           / (SELECT (uba_model_info(m)->>'loss')::float8 FROM cf_model) - 1) < 0.01 AS cholesky_within_1_percent;

-- recommendations: n items, best first, none the user already has
SELECT count(*) AS n, bool_and(item_id NOT IN (SELECT item_id FROM cf_ev WHERE user_id = 7919)) AS none_seen
  FROM uba_cf_recommend((SELECT m FROM cf_model), 7919, 10);
SELECT bool_and(score_order) AS scores_descending FROM (
	SELECT score <= lag(score, 1, 'Infinity') OVER (ORDER BY ordinality) AS score_order
	  FROM uba_cf_recommend((SELECT m FROM cf_model), 7919, 10) WITH ORDINALITY) s;
-- every user: no seen item is ever recommended
SELECT count(*) AS seen_recommended
  FROM (SELECT DISTINCT user_id FROM cf_ev) u, uba_cf_recommend((SELECT m FROM cf_model), u.user_id, 5) r
 WHERE (u.user_id, r.item_id) IN (SELECT user_id, item_id FROM cf_ev);
-- include_seen: the user's own items compete too
SELECT count(*) FILTER (WHERE item_id IN (SELECT item_id FROM cf_ev WHERE user_id = 7919)) > 0 AS seen_included
  FROM uba_cf_recommend((SELECT m FROM cf_model), 7919, 97, '{"include_seen": true}');
-- n larger than the catalog: every item the user does not have
SELECT count(*) = 97 - (SELECT count(DISTINCT item_id) FROM cf_ev WHERE user_id = 7919) AS all_unseen
  FROM uba_cf_recommend((SELECT m FROM cf_model), 7919, 1000);
SELECT count(*) AS zero FROM uba_cf_recommend((SELECT m FROM cf_model), 7919, 0);

-- an unknown user gets the most popular items (score: distinct users), ties by smaller id
SELECT * FROM uba_cf_recommend((SELECT m FROM cf_model), -42, 4);
SELECT item_id, count(DISTINCT user_id) AS users FROM cf_ev GROUP BY item_id ORDER BY 2 DESC, 1 LIMIT 4;

-- real-time fold-in: a user's own training items, as a list, give nearly the user's own
-- recommendations (the list's vector is solved exactly, the trained one by a few CG steps)
SELECT count(*) >= 8 AS at_least_8_of_10_common FROM (
	SELECT item_id FROM uba_cf_recommend((SELECT m FROM cf_model), 7919, 10)
	INTERSECT
	SELECT item_id FROM uba_cf_recommend((SELECT m FROM cf_model),
		(SELECT array_agg(item_id) FROM cf_ev WHERE user_id = 7919), 10)) s;
-- the listed items are left out (unless include_seen); unknown ids and NULLs are ignored
SELECT bool_and(item_id NOT IN (8005, 12005)) AS listed_left_out
  FROM uba_cf_recommend((SELECT m FROM cf_model), ARRAY[8005, 12005, -7, NULL]::bigint[], 20);
SELECT count(*) FILTER (WHERE item_id IN (8005, 12005)) AS listed_included
  FROM uba_cf_recommend((SELECT m FROM cf_model), ARRAY[8005, 12005]::bigint[], 97, '{"include_seen": true}');
-- a repeated item weighs more: the list's scores change
SELECT (SELECT array_agg(score ORDER BY item_id) FROM uba_cf_recommend((SELECT m FROM cf_model), ARRAY[8005, 12005]::bigint[], 5))
    <> (SELECT array_agg(score ORDER BY item_id) FROM uba_cf_recommend((SELECT m FROM cf_model), ARRAY[8005, 8005, 12005]::bigint[], 5))
       AS repeats_count;
-- no known item: the most popular ones
SELECT * FROM uba_cf_recommend((SELECT m FROM cf_model), ARRAY[-1, -2]::bigint[], 2);
SELECT count(*) FROM uba_cf_recommend((SELECT m FROM cf_model), ARRAY[]::bigint[], 2);
SELECT expect_error($$SELECT * FROM uba_cf_recommend((SELECT m FROM cf_model), ARRAY[[8005, 12005]]::bigint[], 2)$$);
-- untyped literals resolve (they were "not unique" between bigint and bigint[]): a NULL id gives no
-- rows, braces are an item list, anything else a user id; each equals its typed form
SELECT count(*) AS null_id_no_rows FROM uba_cf_recommend((SELECT m FROM cf_model), NULL, 5);
-- (the text form answers in text: an untyped literal says nothing about the type)
SELECT (SELECT array_agg(item_id::bigint ORDER BY score DESC, item_id::bigint) FROM uba_cf_recommend((SELECT m FROM cf_model), '{8005, 12005}', 5))
     = (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM uba_cf_recommend((SELECT m FROM cf_model), ARRAY[8005, 12005]::bigint[], 5)) AS literal_list_is_the_list,
       (SELECT array_agg(item_id::bigint ORDER BY score DESC, item_id::bigint) FROM uba_cf_recommend((SELECT m FROM cf_model), ' 7919', 5, '{"include_seen": true}'))
     = (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM uba_cf_recommend((SELECT m FROM cf_model), 7919::bigint, 5, '{"include_seen": true}')) AS literal_user_is_the_user,
       (SELECT count(*) FROM uba_cf_recommend((SELECT m FROM cf_model), '{}', 5)) = 5 AS empty_literal_list_popular;
-- a typo says what the argument can be
SELECT * FROM uba_cf_recommend((SELECT m FROM cf_model), 'user 7919', 2);
SELECT expect_error($$SELECT * FROM uba_cf_recommend((SELECT m FROM cf_model), '{8005, x}', 2)$$);

-- similar items: cosine of the item vectors, in [-1, 1], best first, never the item itself
SELECT count(*) AS n, bool_and(item_id <> 8005) AS not_itself, bool_and(score BETWEEN -1 AND 1) AS cosine
  FROM uba_cf_similar_items((SELECT m FROM cf_model), 8005, 10);
SELECT bool_and(score_order) AS scores_descending FROM (
	SELECT score <= lag(score, 1, 'Infinity') OVER (ORDER BY ordinality) AS score_order
	  FROM uba_cf_similar_items((SELECT m FROM cf_model), 8005, 96) WITH ORDINALITY) s;
SELECT count(*) AS unknown_item FROM uba_cf_similar_items((SELECT m FROM cf_model), -5, 10);
SELECT count(*) AS all_others FROM uba_cf_similar_items((SELECT m FROM cf_model), 8005, 1000);
-- an item's cosine with itself would be 1: the most similar item of a similar item's list
-- agrees with the symmetric score
SELECT abs((SELECT score FROM uba_cf_similar_items((SELECT m FROM cf_model), 8005, 1))
         - (SELECT score FROM uba_cf_similar_items((SELECT m FROM cf_model),
              (SELECT item_id FROM uba_cf_similar_items((SELECT m FROM cf_model), 8005, 1)), 97)
             WHERE item_id = 8005)) < 1e-6 AS symmetric;
SELECT expect_error($$SELECT * FROM uba_cf_similar_items((SELECT m FROM cf_model), 8005, -1)$$);

-- explanations (Hu et al. section 5): the user's own items that drove a score, largest first;
-- they add up to the score of the exact user vector, which an exactly solved model approaches
CREATE TABLE cf_exact AS
SELECT uba_cf_train(user_id, item_id, weight, '{"factors": 8, "seed": 3, "solver": "cholesky", "iterations": 30}') AS m FROM cf_ev;
SELECT count(*) AS n, bool_and(because_item IN (SELECT item_id FROM cf_ev WHERE user_id = 7919)) AS own_items
  FROM uba_cf_explain((SELECT m FROM cf_model), 7919, 89005, 5);
SELECT bool_and(c_order) AS largest_first FROM (
	SELECT contribution <= lag(contribution, 1, 'Infinity') OVER (ORDER BY ordinality) AS c_order
	  FROM uba_cf_explain((SELECT m FROM cf_model), 7919, 89005, 100) WITH ORDINALITY) s;
SELECT count(*) = (SELECT count(DISTINCT item_id) FROM cf_ev WHERE user_id = 7919) AS one_row_per_own_item
  FROM uba_cf_explain((SELECT m FROM cf_model), 7919, 89005, 1000);
SELECT abs(e.total / r.score - 1) < 0.05 AS adds_up_to_the_score
  FROM (SELECT sum(contribution) AS total FROM uba_cf_explain((SELECT m FROM cf_exact), 7919, 89005, 1000)) e,
       (SELECT score FROM uba_cf_recommend((SELECT m FROM cf_exact), 7919, 97, '{"include_seen": true}') WHERE item_id = 89005) r;
SELECT count(*) AS unknown_user FROM uba_cf_explain((SELECT m FROM cf_model), -1, 89005);
SELECT count(*) AS unknown_item FROM uba_cf_explain((SELECT m FROM cf_model), 7919, -1);
SELECT expect_error($$SELECT * FROM uba_cf_explain((SELECT m FROM cf_model), 7919, 89005, -1)$$);

-- method item_knn: cosine neighbours on the binary user-item matrix, at most "neighbors" per item
CREATE TABLE cf_knn AS SELECT uba_cf_train(user_id, item_id, weight, '{"method": "item_knn", "neighbors": 5}') AS m FROM cf_ev;
-- an option the method does not use is an error that lists the method's options
SELECT expect_error($$SELECT uba_cf_train(user_id, item_id, weight, '{"method": "item_knn", "factors": 8}') FROM cf_ev$$);
SELECT uba_model_info(m)->>'method' AS method, uba_model_info(m)->'neighbors' AS neighbors,
       (uba_model_info(m)->>'similarities')::int <= 5 * 97 AS at_most_5_each FROM cf_knn;
-- the most similar item to 8005 and its similarity, against the cosine computed in SQL
WITH users AS (SELECT DISTINCT user_id, item_id FROM cf_ev),
cos AS (SELECT b.item_id, count(*) / sqrt((SELECT count(*) FROM users WHERE item_id = 8005) *
                                          (SELECT count(*) FROM users u2 WHERE u2.item_id = b.item_id)) AS c
          FROM users a JOIN users b USING (user_id) WHERE a.item_id = 8005 AND b.item_id <> 8005
         GROUP BY b.item_id)
SELECT s.item_id = (SELECT item_id FROM cos ORDER BY c DESC, item_id LIMIT 1) AS same_top,
       abs(s.score - (SELECT max(c) FROM cos)) < 1e-6 AS same_similarity
  FROM uba_cf_similar_items((SELECT m FROM cf_knn), 8005, 1) s;
SELECT count(*) AS at_most_neighbors FROM uba_cf_similar_items((SELECT m FROM cf_knn), 8005, 50);
-- a user's score is the sum of the similarities from the user's items, as the explanation lists them
SELECT abs(r.score - (SELECT sum(contribution) FROM uba_cf_explain((SELECT m FROM cf_knn), 7919, r.item_id, 1000))) < 1e-6 AS explained
  FROM uba_cf_recommend((SELECT m FROM cf_knn), 7919, 1) r;
SELECT count(*) AS n, bool_and(item_id NOT IN (SELECT item_id FROM cf_ev WHERE user_id = 7919)) AS none_seen
  FROM uba_cf_recommend((SELECT m FROM cf_knn), 7919, 10);
-- fold-in of the user's own items is exactly the user's ranking (the similarities are of items)
SELECT (SELECT array_agg(item_id ORDER BY ord) FROM uba_cf_recommend((SELECT m FROM cf_knn), 7919, 10) WITH ORDINALITY AS r(item_id, score, source, ord))
     = (SELECT array_agg(item_id ORDER BY ord) FROM uba_cf_recommend((SELECT m FROM cf_knn),
          (SELECT array_agg(item_id) FROM cf_ev WHERE user_id = 7919), 10) WITH ORDINALITY AS r(item_id, score, source, ord)) AS fold_in_equal;
-- row order does not matter
SELECT (SELECT array_agg(item_id ORDER BY ord) FROM uba_cf_recommend((SELECT m FROM cf_knn), 7919, 10) WITH ORDINALITY AS r(item_id, score, source, ord))
     = (SELECT array_agg(item_id ORDER BY ord) FROM uba_cf_recommend(
          (SELECT uba_cf_train(user_id, item_id, weight, '{"method": "item_knn", "neighbors": 5}' ORDER BY item_id DESC, user_id) FROM cf_ev),
          7919, 10) WITH ORDINALITY AS r(item_id, score, source, ord)) AS same_in_any_order;
SELECT expect_error($$SELECT uba_cf_train(user_id, item_id, weight, '{"method": "item_knn", "neighbors": 0}') FROM cf_ev$$);

-- method ease: B = I - P / diag(P), P = (B'B + lambda I)^-1.  With two items the weight from
-- item 1 to item 2 is c / (n_1 + lambda) (c users have both, n_1 have item 1): 10 users of
-- item 100, 9 of item 200, 4 of both, lambda 2 -> 4 / 12 from 100 to 200, 4 / 11 back
CREATE TABLE cf_two AS
SELECT u AS user_id, 100 AS item_id, 1.0::float8 AS weight FROM generate_series(1, 10) u
UNION ALL SELECT u, 200, 1.0 FROM generate_series(1, 4) u
UNION ALL SELECT u, 200, 1.0 FROM generate_series(11, 15) u;
SELECT round(score::numeric, 6) AS from_100_to_200, round(4 / 12.0, 6) AS by_hand
  FROM uba_cf_similar_items((SELECT uba_cf_train(user_id, item_id, weight, '{"method": "ease", "regularization": 2}') FROM cf_two), 100, 5);
SELECT round(score::numeric, 6) AS from_200_to_100, round(4 / 11.0, 6) AS by_hand
  FROM uba_cf_similar_items((SELECT uba_cf_train(user_id, item_id, weight, '{"method": "ease", "regularization": 2}') FROM cf_two), 200, 5);
-- defaults: lambda 500 and 200 weights kept per item, recorded in the model
CREATE TABLE cf_ease AS SELECT uba_cf_train(user_id, item_id, weight, '{"method": "ease"}') AS m FROM cf_ev;
SELECT uba_model_info(m)->>'method' AS method, uba_model_info(m)->'regularization' AS lambda,
       uba_model_info(m)->'neighbors' AS kept, uba_model_info(m)->'options'->'regularization' AS recorded FROM cf_ease;
-- scores are sums of weights from the user's items, as the explanation lists them; nothing seen
SELECT abs(r.score - (SELECT sum(contribution) FROM uba_cf_explain((SELECT m FROM cf_ease), 7919, r.item_id, 1000))) < 1e-5 AS explained
  FROM uba_cf_recommend((SELECT m FROM cf_ease), 7919, 1) r;
SELECT count(*) AS n, bool_and(item_id NOT IN (SELECT item_id FROM cf_ev WHERE user_id = 7919)) AS none_seen
  FROM uba_cf_recommend((SELECT m FROM cf_ease), 7919, 10);
SELECT (SELECT array_agg(item_id ORDER BY ord) FROM uba_cf_recommend((SELECT m FROM cf_ease), 7919, 10) WITH ORDINALITY AS r(item_id, score, source, ord))
     = (SELECT array_agg(item_id ORDER BY ord) FROM uba_cf_recommend((SELECT m FROM cf_ease),
          (SELECT array_agg(item_id) FROM cf_ev WHERE user_id = 7919), 10) WITH ORDINALITY AS r(item_id, score, source, ord)) AS fold_in_equal;
-- the blocked, interruptible inversion (forced here, in blocks of 16; automatic above about
-- 4,000 items) gives the weights of LAPACK's own
SET uba.debug_solve_block = 16;
CREATE TABLE cf_ease_blocked AS SELECT uba_cf_train(user_id, item_id, weight, '{"method": "ease"}') AS m FROM cf_ev;
RESET uba.debug_solve_block;
SELECT count(*) AS items_compared,
       max(abs(a.score - b.score)) / max(abs(a.score)) < 1e-4 AS same_weights
  FROM (SELECT DISTINCT item_id FROM cf_ev) i,
       LATERAL uba_cf_similar_items((SELECT m FROM cf_ease), i.item_id, 5) WITH ORDINALITY AS a(item_id, score, ord),
       LATERAL uba_cf_similar_items((SELECT m FROM cf_ease_blocked), i.item_id, 5) WITH ORDINALITY AS b(item_id, score, ord)
 WHERE a.ord = b.ord;
-- two items always bought together and no regularization: the system is singular
SELECT expect_error($$SELECT uba_cf_train(u, i, 1.0, '{"method": "ease", "regularization": 0}')
                        FROM generate_series(1, 5) u, (VALUES (100), (200)) v(i)$$);

-- explicit feedback (ratings): weighted-lambda ALS; the model fits the ratings better than their
-- mean does, more iterations lower the objective, and explanations add up to the score
CREATE TABLE cf_ratings AS
SELECT u AS user_id, (u * 31 + k * k * 17) % 97 AS item_id, (1 + ((u * 7 + k * 3) % 5))::float8 AS rating
  FROM generate_series(1, 300) u, generate_series(1, 12) k;
CREATE TABLE cf_explicit AS
SELECT uba_cf_train(user_id, item_id, rating, '{"feedback": "explicit", "factors": 8, "iterations": 20, "solver": "cholesky"}') AS m
  FROM cf_ratings;
SELECT uba_model_info(m)->>'feedback' AS feedback FROM cf_explicit;
SELECT sqrt(avg((r.score - t.rating) ^ 2)) < (SELECT stddev_pop(rating) FROM cf_ratings) AS fits_better_than_the_mean
  FROM cf_ratings t, LATERAL uba_cf_recommend((SELECT m FROM cf_explicit), t.user_id, 97, '{"include_seen": true}') r
 WHERE r.item_id = t.item_id;
SELECT (SELECT (uba_model_info(uba_cf_train(user_id, item_id, rating, '{"feedback": "explicit", "factors": 8, "iterations": 2}'))->>'loss')::float8 FROM cf_ratings)
     > (SELECT (uba_model_info(uba_cf_train(user_id, item_id, rating, '{"feedback": "explicit", "factors": 8, "iterations": 20}'))->>'loss')::float8 FROM cf_ratings)
       AS more_iterations_lower_loss;
SELECT abs(e.total / r.score - 1) < 0.02 AS explained
  FROM (SELECT sum(contribution) AS total FROM uba_cf_explain((SELECT m FROM cf_explicit), 1, 31, 100)) e,
       (SELECT score FROM uba_cf_recommend((SELECT m FROM cf_explicit), 1, 97, '{"include_seen": true}') WHERE item_id = 31) r;
SELECT expect_error($$SELECT * FROM uba_cf_recommend((SELECT m FROM cf_explicit), ARRAY[1, 2]::bigint[], 3)$$);
SELECT expect_error($$SELECT uba_cf_train(user_id, item_id, rating, '{"feedback": "ratings"}') FROM cf_ratings$$);

-- NULL model, user or n: no rows
SELECT count(*) FROM uba_cf_recommend(NULL, 7919, 5);
SELECT count(*) FROM uba_cf_recommend((SELECT m FROM cf_model), NULL::bigint, 5);
SELECT count(*) FROM uba_cf_recommend((SELECT m FROM cf_model), NULL::bigint[], 5);
SELECT count(*) FROM uba_cf_recommend((SELECT m FROM cf_model), 7919, NULL);

-- no events, or only NULLs: NULL
SELECT uba_cf_train(user_id, item_id, weight) IS NULL AS empty FROM cf_ev WHERE false;
SELECT uba_cf_train(NULL::bigint, item_id, weight) IS NULL AS all_null FROM cf_ev;

-- errors
SELECT expect_error($$SELECT uba_cf_train(user_id, item_id, -1) FROM cf_ev$$);
SELECT expect_error($$SELECT uba_cf_train(user_id, item_id, 'NaN') FROM cf_ev$$);
SELECT expect_error($$SELECT uba_cf_train(user_id, item_id, weight, '{"factors": 0}') FROM cf_ev$$);
SELECT expect_error($$SELECT uba_cf_train(user_id, item_id, weight, '{"method": "svd"}') FROM cf_ev$$);
SELECT expect_error($$SELECT uba_cf_train(user_id, item_id, weight, '{"solver": "lu"}') FROM cf_ev$$);
SELECT expect_error($$SELECT uba_cf_train(user_id, item_id, weight, '{"rank": 8}') FROM cf_ev$$);
SELECT expect_error($$SELECT uba_cf_train(user_id, item_id, weight, jsonb_build_object('seed', user_id)) FROM cf_ev$$);
SELECT expect_error($$SELECT * FROM uba_cf_recommend((SELECT m FROM cf_model), 1, -1)$$);
SELECT expect_error($$SELECT * FROM uba_cf_recommend((SELECT m FROM cf_model), 1, 5, '{"include": true}')$$);
SELECT expect_error($$SELECT * FROM uba_cf_recommend((SELECT uba_kmeans(ARRAY[i, i]::float8[], 1) FROM generate_series(1, 3) i), 1, 5)$$);
SELECT expect_error($$SELECT * FROM uba_cf_recommend(substring((SELECT m FROM cf_model) FROM 1 FOR 200), 1, 5)$$);
-- found by fuzzing (test/hardening_fuzz_models.sql): a NaN loss, resealed, used to reach uba_model_info's
-- JSON as NaN (22P02); every stored number is checked now.  The loss is the f64 at payload + 40.
SELECT expect_error($$SELECT uba_model_info(reseal(overlay(m PLACING '\x000000000000f87f'::bytea
                                                           FROM 32 + get_u32(m, 12)::int + 41 FOR 8))) FROM cf_model$$);

-- uba.max_memory: 88 bytes an event while collecting (1 MB holds 11915), then the model's own
-- work: ALS factors, EASE's items x items matrix
SET uba.max_memory = '1MB';
SELECT expect_error($$SELECT uba_cf_train(u, u % 1000, 1.0) FROM generate_series(1, 20000) u$$);
SELECT expect_error($$SELECT uba_cf_train(u, u % 4000, 1.0, '{"factors": 1024}') FROM generate_series(1, 8000) u$$);
SELECT expect_error($$SELECT uba_cf_train(u, u % 4000, 1.0, '{"method": "ease"}') FROM generate_series(1, 8000) u$$);
RESET uba.max_memory;

-- a parallel plan (forced) gives the serial model
SELECT parallel_plans(true);
CREATE TABLE cf_big AS SELECT * FROM cf_ev, generate_series(1, 4) rep;
EXPLAIN (COSTS OFF) SELECT uba_cf_train(user_id, item_id, weight) FROM cf_big;
CREATE TABLE cf_par AS SELECT uba_cf_train(user_id, item_id, weight, '{"factors": 8}') AS m FROM cf_big;
SELECT parallel_plans(false);
SELECT (SELECT uba_model_info(m)->'loss' FROM cf_par)
     = (SELECT uba_model_info(uba_cf_train(user_id, item_id, weight, '{"factors": 8}'))->'loss' FROM cf_big) AS parallel_equals_serial;

-- the numeric options take effect: alpha and regularization change the fit, more CG steps
-- come closer to the exact solver, EASE keeps the neighbours asked for
SELECT (SELECT uba_model_info(uba_cf_train(user_id, item_id, weight, '{"factors": 8, "seed": 3, "alpha": 40}'))->'alpha' FROM cf_ev) AS alpha,
       (SELECT uba_model_info(uba_cf_train(user_id, item_id, weight, '{"factors": 8, "seed": 3, "alpha": 40}'))->'loss' FROM cf_ev)
       <> (SELECT uba_model_info(m)->'loss' FROM cf_model) AS alpha_changes_the_fit,
       (SELECT uba_model_info(uba_cf_train(user_id, item_id, weight, '{"factors": 8, "seed": 3, "regularization": 10}'))->'regularization' FROM cf_ev) AS regularization,
       (SELECT uba_model_info(uba_cf_train(user_id, item_id, weight, '{"factors": 8, "seed": 3, "regularization": 10}'))->'loss' FROM cf_ev)
       <> (SELECT uba_model_info(m)->'loss' FROM cf_model) AS regularization_changes_the_fit;
SELECT abs((SELECT (uba_model_info(uba_cf_train(user_id, item_id, weight, '{"factors": 8, "seed": 3, "cg_steps": 8}'))->>'loss')::float8 FROM cf_ev)
           / (SELECT (uba_model_info(uba_cf_train(user_id, item_id, weight, '{"factors": 8, "seed": 3, "solver": "cholesky"}'))->>'loss')::float8 FROM cf_ev) - 1)
     < abs((SELECT (uba_model_info(uba_cf_train(user_id, item_id, weight, '{"factors": 8, "seed": 3, "cg_steps": 1}'))->>'loss')::float8 FROM cf_ev)
           / (SELECT (uba_model_info(uba_cf_train(user_id, item_id, weight, '{"factors": 8, "seed": 3, "solver": "cholesky"}'))->>'loss')::float8 FROM cf_ev) - 1)
       AS more_cg_steps_closer_to_exact;
SELECT uba_model_info(m)->'neighbors' AS neighbors,
       (SELECT max(c) FROM (SELECT count(*) AS c FROM (SELECT DISTINCT item_id FROM cf_ev) e, uba_cf_similar_items(m, e.item_id, 10) GROUP BY e.item_id) s) AS most_similar
  FROM (SELECT uba_cf_train(user_id, item_id, weight, '{"method": "ease", "neighbors": 3}') AS m FROM cf_ev) s;
SELECT expect_error($$SELECT uba_cf_train(user_id, item_id, weight, '{"alpha": -1}') FROM cf_ev$$);
SELECT expect_error($$SELECT uba_cf_train(user_id, item_id, weight, '{"cg_steps": 0}') FROM cf_ev$$);
-- EASE's item limit comes before the memory check (more uba.max_memory would not help)
SELECT expect_error($$SELECT uba_cf_train(u, u, 1.0, '{"method": "ease"}') FROM generate_series(1, 20001) u$$);
-- damaged recommender models with a valid checksum; the payload (at p) starts with users (u32),
-- items (p + 4), factors (p + 8), method (p + 12), flags (p + 16), iterations, regularization,
-- alpha and loss, then the user ids (i64) from p + 48: the first is made the largest
CREATE TABLE cf_damaged AS SELECT m, 32 + get_u32(m, 12)::int AS p FROM cf_model;
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p, 0))) FROM cf_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 8, 9))) FROM cf_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 12, 7))) FROM cf_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 16, 2))) FROM cf_damaged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(put_u32(m, p + 48, 4294967295), p + 52, 2147483647))) FROM cf_damaged$$);

DROP TABLE cf_ev, cf_model, cf_exact, cf_knn, cf_two, cf_ease, cf_ease_blocked, cf_ratings, cf_explicit, cf_big, cf_par, cf_damaged;
-- item-item methods (issue 16): a known user whose items have no neighbours gets the most popular
-- items with score 0, as an unknown user gets popular items, not the first items by id
CREATE TABLE cf_lonely AS
SELECT u, (u * 7 + k) % 11 AS i FROM generate_series(1, 30) u, generate_series(1, 3) k
UNION ALL SELECT 100, 50;
-- (the source column says so: 'popular'; 'model' for the items the model scored)
SELECT m.method, r.item_id, r.score, r.source
  FROM (VALUES ('item_knn'), ('ease')) m(method),
       LATERAL uba_cf_recommend((SELECT uba_cf_train(u, i, 1.0, jsonb_build_object('method', m.method)) FROM cf_lonely), 100, 3) r
 ORDER BY m.method, r.score DESC, r.item_id;
-- a list longer than the items with evidence: the model's first, then popular ones; every item of
-- an ALS model is scored; an unknown user and an empty cart get popular items
SELECT m.method, u.who, string_agg(r.source, ',' ORDER BY r.ord) AS sources
  FROM (VALUES ('item_knn'), ('ease'), ('als')) m(method),
       (VALUES (1, 'user 1, 12 items'), (100, 'lonely user'), (999, 'unknown user')) u(id, who),
       LATERAL uba_cf_recommend((SELECT uba_cf_train(u, i, 1.0, jsonb_build_object('method', m.method)) FROM cf_lonely
                                  WHERE u <> 1 OR i <> 3),
                                u.id, CASE WHEN u.id = 1 THEN 12 ELSE 2 END) WITH ORDINALITY r(item_id, score, source, ord)
 GROUP BY m.method, u.who ORDER BY 1, 2;
SELECT string_agg(source, ',') AS empty_cart FROM uba_cf_recommend((SELECT uba_cf_train(u, i, 1.0) FROM cf_lonely), ARRAY[]::int[], 2);
SELECT i AS most_popular_items, count(*) AS users FROM cf_lonely GROUP BY i ORDER BY 2 DESC, 1 LIMIT 3;
DROP TABLE cf_lonely;
