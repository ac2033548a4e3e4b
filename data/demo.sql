-- uba demo: segment the real customers of a UK online gift shop with k-means.
--
-- `make demo` runs this file on a throw-away cluster, from the project root:
--
--   psql -X -v ON_ERROR_STOP=1 -q -f data/demo.sql
--
-- You can run it the same way in a database of your own; it creates the tables
-- retail_lines, retail_products, customer_rfm, customer_features, customer_profile, customer_paths,
-- customer_value and product_forecasts, the views customer_segments, churn_scores, customer_recommendations,
-- customer_profile_features, customer_360 and reorder_next_4_weeks, and saves new versions of the models
-- 'segments', 'churn', 'churn_trees', 'recommender', 'bought_together', 'profile_segments', 'purchases' and
-- 'spend'; with pg_cron loaded it
-- schedules the job 'uba-demo-retrain' (03:00 nightly).

\set ON_ERROR_STOP 1
\pset footer off
SET client_min_messages = warning;

CREATE EXTENSION IF NOT EXISTS uba;
-- views an earlier run built on the tables, so that the tables can be loaded again
DROP VIEW IF EXISTS customer_360;
DROP VIEW IF EXISTS reorder_next_4_weeks;
DROP VIEW IF EXISTS customer_profile_features;
DROP MATERIALIZED VIEW IF EXISTS customer_recommendations;
DROP VIEW IF EXISTS retail_purchases;
DROP VIEW IF EXISTS retail_items;
DROP VIEW IF EXISTS churn_scores;
DROP TABLE IF EXISTS churn_examples;

\echo
\echo '== 1. Load the data: UCI Online Retail, every invoice line of 2010-12-01 .. 2011-12-09'
\echo '      (Chen, Sain & Guo 2012, UCI Machine Learning Repository, CC BY 4.0; see data/README.md)'
\echo

\i data/load_online_retail.sql

SELECT count(*) AS invoice_lines,
       count(DISTINCT invoice_no) AS invoices,
       count(DISTINCT customer_id) AS customers,
       count(DISTINCT stock_code) AS products,
       to_char(sum(quantity * unit_price), 'FM9,999,999.00') AS "sales (GBP)",
       min(invoice_date)::date AS first_day,
       max(invoice_date)::date AS last_day
  FROM retail_lines;

\echo
\echo '== 2. One row per customer: recency, frequency, monetary (RFM)'
\echo '      Known customers only, cancellations (invoice C...), returns and free items left out.'
\echo '      recency_days = days from the last purchase to the day after the last day in the data'
\echo '      frequency    = number of invoices;   monetary = total spend in GBP'
\echo '      Features: [recency_days, ln(1 + frequency), ln(1 + monetary)]: the logarithms keep'
\echo '      a few very large customers from dominating the distances.'
\echo

DROP VIEW IF EXISTS customer_segments;
DROP TABLE IF EXISTS customer_features;
DROP TABLE IF EXISTS customer_rfm;

CREATE TABLE customer_rfm AS
WITH purchases AS (
	SELECT * FROM retail_lines
	 WHERE customer_id IS NOT NULL
	   AND invoice_no NOT LIKE 'C%'
	   AND quantity > 0
	   AND unit_price > 0
), reference AS (
	SELECT max(invoice_date)::date + 1 AS day FROM retail_lines
)
SELECT p.customer_id,
       (SELECT day FROM reference) - max(p.invoice_date)::date AS recency_days,
       count(DISTINCT p.invoice_no)::int AS frequency,
       sum(p.quantity * p.unit_price) AS monetary
  FROM purchases p
 GROUP BY p.customer_id;
ALTER TABLE customer_rfm ADD PRIMARY KEY (customer_id);

CREATE TABLE customer_features AS
SELECT customer_id,
       ARRAY[recency_days, ln(1 + frequency), ln(1 + monetary)]::float8[] AS features
  FROM customer_rfm;
ALTER TABLE customer_features ADD PRIMARY KEY (customer_id);
ANALYZE customer_rfm;
ANALYZE customer_features;

SELECT r.customer_id, r.recency_days, r.frequency, round(r.monetary, 2) AS monetary,
       '{' || array_to_string(ARRAY(SELECT round(x::numeric, 3) FROM unnest(f.features) x), ', ')
           || '}' AS features
  FROM customer_rfm r JOIN customer_features f USING (customer_id)
 ORDER BY r.customer_id
 LIMIT 3;
SELECT count(*) AS customers FROM customer_rfm;

\echo
\echo '== 3. Train k-means with 5 segments and save it as the model ''segments'''
\echo '      standardize: z-score each feature (the scaling is stored in the model);'
\echo '      n_init: best of 10 restarts; seed: the same data and seed give the same model.'
\echo

SELECT uba_model_save('segments',
                      uba_kmeans(features, 5, '{"standardize": true, "n_init": 10, "seed": 1}'::jsonb))
       AS saved_version
  FROM customer_features;

SELECT m.name, m.version, m.kind, m.active, m.size_bytes, m.training_rows,
       (i->>'iterations')::int AS iterations,
       round((i->>'inertia')::numeric, 1) AS inertia
  FROM uba_models m,
       LATERAL uba_model_info(uba_model(m.name, m.version)) AS i
 WHERE m.name = 'segments' AND m.active;

-- every customer with its segment and its distance to the segment centre
-- (in standardized units: a simple outlier score); always uses the active model
CREATE VIEW customer_segments AS
SELECT r.customer_id,
       uba_kmeans_assign((SELECT uba_model('segments')), f.features) AS segment,
       r.recency_days, r.frequency, r.monetary,
       uba_kmeans_distance((SELECT uba_model('segments')), f.features) AS distance
  FROM customer_rfm r
  JOIN customer_features f USING (customer_id);
COMMENT ON VIEW customer_segments IS
	'Online Retail customers with their RFM values and k-means segment (active model ''segments'')';

\echo
\echo '== 4. What the segments look like, in original units (segment 1 is the largest)'
\echo

SELECT segment,
       count(*) AS customers,
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS "share %",
       round(avg(recency_days)) AS "avg recency days",
       round(avg(frequency), 1) AS "avg frequency",
       round(avg(monetary)) AS "avg monetary (GBP)"
  FROM customer_segments
 GROUP BY segment
 ORDER BY segment;

\echo
\echo '== 5. Score single customers with the saved model'
\echo '      uba_kmeans_assign((SELECT uba_model(''segments'')), features)'
\echo

SELECT r.customer_id,
       uba_kmeans_assign((SELECT uba_model('segments')), f.features) AS segment,
       r.recency_days, r.frequency, round(r.monetary, 2) AS monetary,
       round(uba_kmeans_distance((SELECT uba_model('segments')), f.features)::numeric, 2)
           AS distance
  FROM customer_rfm r
  JOIN customer_features f USING (customer_id)
 WHERE r.customer_id IN (12346, 12347, 14646, 17850, 18102)
 ORDER BY r.customer_id;

\echo
\echo '== 6. Cluster quality, measured on the standardized features the model clustered'
\echo '      silhouette: -1 .. 1, higher is better;  Davies-Bouldin: 0 or more, lower is better'
\echo

-- measured on the scale the model clustered on: uba_kmeans_transform z-scores the features with
-- the training rows' means and standard deviations, as the standardized model did
WITH scored AS (
	SELECT uba_kmeans_transform((SELECT uba_model('segments')), features) AS z,
	       uba_kmeans_assign((SELECT uba_model('segments')), features) AS segment
	  FROM customer_features
)
SELECT round(uba_silhouette(z, segment)::numeric, 3) AS silhouette,
       round(uba_davies_bouldin(z, segment)::numeric, 3) AS davies_bouldin
  FROM scored;

\echo
\echo '== 6b. Was 5 segments a good choice?  One sweep fits k = 2..8 on the same features and'
\echo '       options, and scores each k: the elbow of the inertia curve (kneedle) and the best'
\echo '       silhouette are marked; they need not agree.'
\echo

SELECT k, round(inertia::numeric) AS inertia, round(silhouette::numeric, 3) AS silhouette,
       round(davies_bouldin::numeric, 3) AS davies_bouldin,
       round(calinski_harabasz::numeric) AS calinski_harabasz,
       CASE WHEN is_elbow AND is_best_silhouette THEN 'elbow, best silhouette'
            WHEN is_elbow THEN 'elbow' WHEN is_best_silhouette THEN 'best silhouette' END AS chosen
  FROM uba_kmeans_sweep_results((SELECT uba_kmeans_sweep(features, 2, 8, '{"standardize": true, "seed": 1}'::jsonb)
                                   FROM customer_features))
 ORDER BY k;

\echo
\echo '== 6c. Unusual customers: DBSCAN calls noise the customers in no dense region (cluster 0),'
\echo '       beside the k-means distance to their segment centre.  eps 0.5, min_samples 10,'
\echo '       on the same standardized features.'
\echo

CREATE TEMP TABLE demo_density AS
SELECT uba_dbscan(features, 0.5, 10, '{"standardize": true}'::jsonb) AS m FROM customer_features;
SELECT cluster, size, core_points, border_points FROM demo_density, uba_dbscan_clusters(m) ORDER BY cluster;
SELECT s.customer_id, s.segment, round(s.distance::numeric, 2) AS kmeans_distance,
       s.recency_days, s.frequency, round(s.monetary) AS monetary,
       rank() OVER (ORDER BY s.distance DESC) AS "rank by k-means distance"
  FROM customer_segments s
  JOIN customer_features f USING (customer_id), demo_density d
 WHERE uba_dbscan_assign(d.m, f.features) = 0
 ORDER BY s.distance DESC
 LIMIT 8;

\echo
\echo '== 7. Churn: which customers will not buy again in the next 90 days?'
\echo '      Label: customers who bought before 2011-09-10 and not in the 90 days after it.'
\echo '      Features as of a date: days since last purchase, ln(1 + invoices), ln(1 + spend),'
\echo '      days since first purchase, ln(1 + distinct products), ln(1 + invoices in the last 90 days).'
\echo '      uba_split keeps the same 25% of customers aside for evaluation on every run.'
\echo

CREATE OR REPLACE FUNCTION churn_features(asof timestamp)
RETURNS TABLE (customer_id bigint, features float8[])
LANGUAGE sql STABLE AS $$
	SELECT customer_id,
	       ARRAY[extract(epoch FROM asof - max(invoice_date)) / 86400,
	             ln(1 + count(DISTINCT invoice_no)),
	             ln(1 + sum(quantity * unit_price)),
	             extract(epoch FROM asof - min(invoice_date)) / 86400,
	             ln(1 + count(DISTINCT stock_code)),
	             ln(1 + count(DISTINCT invoice_no) FILTER (WHERE invoice_date >= asof - interval '90 days'))]::float8[]
	  FROM retail_lines
	 WHERE customer_id IS NOT NULL AND invoice_no NOT LIKE 'C%' AND quantity > 0 AND unit_price > 0
	   AND invoice_date < asof
	 GROUP BY customer_id
$$;

CREATE TABLE churn_examples AS
SELECT f.customer_id, f.features,
       NOT EXISTS (SELECT 1 FROM retail_lines l
                    WHERE l.customer_id = f.customer_id AND l.invoice_no NOT LIKE 'C%' AND l.quantity > 0
                      AND l.invoice_date >= '2011-09-10' AND l.invoice_date < timestamp '2011-09-10' + interval '90 days') AS churned,
       uba_split(f.customer_id, 0.25) AS held_out
  FROM churn_features('2011-09-10') f;

SELECT count(*) AS customers, count(*) FILTER (WHERE churned) AS churned,
       count(*) FILTER (WHERE held_out) AS held_out
  FROM churn_examples;

SELECT uba_model_save('churn', uba_logreg_train(churned, features, '{"class_weight": "balanced",
	"feature_names": ["days since last purchase", "invoices", "spend", "days as a customer",
	                  "distinct products", "invoices in the last 90 days"]}'::jsonb)) AS saved_version
  FROM churn_examples WHERE NOT held_out;

\echo
\echo '   On the held-out customers (never seen in training):'
SELECT round(uba_auc(p, churned)::numeric, 3) AS auc,
       round(uba_f1_score(p >= 0.5, churned)::numeric, 3) AS f1,
       round(uba_precision(p >= 0.5, churned)::numeric, 3) AS precision,
       round(uba_recall(p >= 0.5, churned)::numeric, 3) AS recall,
       round(uba_log_loss(p, churned)::numeric, 3) AS log_loss,
       uba_confusion_matrix(p >= 0.5, churned) AS confusion_matrix
  FROM (SELECT churned, uba_logreg_predict((SELECT uba_model('churn')), features) AS p
          FROM churn_examples WHERE held_out) s;

\echo
\echo '   What drives churn (odds ratio per unit; coefficients per standard deviation compare features):'
SELECT feature, name, round(std_coefficient::numeric, 3) AS per_std_dev,
       round(odds_ratio::numeric, 4) AS odds_ratio, round(p_value::numeric, 4) AS p_value
  FROM uba_logreg_coefficients(uba_model('churn'))
 ORDER BY feature;

-- today's scores, for a dashboard: features as of the day after the data ends
CREATE VIEW churn_scores AS
SELECT f.customer_id,
       uba_logreg_predict((SELECT uba_model('churn')), f.features) AS churn_probability,
       CASE WHEN uba_logreg_predict((SELECT uba_model('churn')), f.features) >= 0.8 THEN 'high'
            WHEN uba_logreg_predict((SELECT uba_model('churn')), f.features) >= 0.5 THEN 'medium'
            ELSE 'low' END AS risk_band,
       (SELECT string_agg(e.name || CASE WHEN e.contribution > 0 THEN ' (raises risk)' ELSE ' (lowers risk)' END, ', '
                          ORDER BY abs(e.contribution) DESC)
          FROM uba_logreg_explain((SELECT uba_model('churn')), f.features, 2) e
         WHERE e.feature > 0) AS top_reasons
  FROM churn_features('2011-12-10') f;

\echo
\echo '   The ten customers most at risk today, with their top two reasons (view churn_scores):'
SELECT customer_id, round(churn_probability::numeric, 3) AS churn_probability, risk_band, top_reasons
  FROM churn_scores ORDER BY churn_probability DESC, customer_id LIMIT 10;
SELECT risk_band, count(*) AS customers FROM churn_scores GROUP BY risk_band ORDER BY min(churn_probability) DESC;

\echo
\echo '   The same customers with gradient-boosted trees (XGBoost trains, uba scores), trained on'
\echo '   their profile as a table row, columns as they are: the country as text, counts as'
\echo '   integers, spend as numeric, dates as dates. No encoding by hand: the model keeps it.'
CREATE OR REPLACE FUNCTION churn_profile(asof timestamp)
RETURNS TABLE (customer_id bigint, country text, last_purchase date, first_purchase date,
               invoices bigint, spend numeric, products bigint, recent_invoices bigint)
LANGUAGE sql STABLE AS $$
	SELECT customer_id, mode() WITHIN GROUP (ORDER BY country), max(invoice_date)::date,
	       min(invoice_date)::date, count(DISTINCT invoice_no), sum(quantity * unit_price),
	       count(DISTINCT stock_code),
	       count(DISTINCT invoice_no) FILTER (WHERE invoice_date >= asof - interval '90 days')
	  FROM retail_lines
	 WHERE customer_id IS NOT NULL AND invoice_no NOT LIKE 'C%' AND quantity > 0 AND unit_price > 0
	   AND invoice_date < asof
	 GROUP BY customer_id
$$;
-- days since the last and the first purchase, as of the date of the examples; the rest as they are
CREATE TEMP VIEW churn_rows AS
SELECT e.customer_id, e.churned, e.held_out, e.features,
       p.country, ('2011-09-10'::date - p.last_purchase) AS days_since_last,
       ('2011-09-10'::date - p.first_purchase) AS days_as_customer,
       p.invoices, p.spend, p.products, p.recent_invoices
  FROM churn_examples e JOIN churn_profile('2011-09-10') p USING (customer_id);

\echo '   Countries with fewer than 20 customers in training become one "other" level (min_level_count).'
SELECT uba_model_save('churn_trees', uba_boost_train(churned, t, '{"n_estimators": 300, "max_depth": 2,
	"learning_rate": 0.05, "min_level_count": 20}'::jsonb)) AS saved_version
  FROM churn_rows,
       LATERAL (SELECT country, days_since_last, days_as_customer, invoices, spend, products, recent_invoices) t
 WHERE NOT held_out;
SELECT c->>'name' AS "column", c->>'type' AS type, c->>'as' AS used_as,
       jsonb_array_length(c->'levels') AS levels_kept, c->'other_level' AS other_level
  FROM jsonb_array_elements(uba_model_info(uba_model('churn_trees'))->'columns') c;

\echo
\echo '   Held-out customers, logistic model (features by hand) and trees (the row), side by side:'
SELECT round(uba_auc(uba_predict((SELECT uba_model('churn')), features), churned)::numeric, 3) AS logistic_auc,
       round(uba_auc(uba_predict((SELECT uba_model('churn_trees')), r), churned)::numeric, 3) AS trees_auc,
       round(uba_log_loss(uba_predict((SELECT uba_model('churn')), features), churned)::numeric, 3) AS logistic_log_loss,
       round(uba_log_loss(uba_predict((SELECT uba_model('churn_trees')), r), churned)::numeric, 3) AS trees_log_loss
  FROM churn_rows r WHERE held_out;

\echo
\echo '   Why the trees call the three riskiest customers at risk today: exact TreeSHAP values'
\echo '   (uba_explain, by column, in log-odds), each customer''s top two reasons after the baseline.'
\echo '   Scoring takes the profile row as it is: the model finds its columns by name.'
CREATE TEMP VIEW churn_rows_now AS
SELECT customer_id, country, ('2011-12-10'::date - last_purchase) AS days_since_last,
       ('2011-12-10'::date - first_purchase) AS days_as_customer, invoices, spend, products, recent_invoices
  FROM churn_profile('2011-12-10');
SELECT c.customer_id, c.country, round(uba_predict((SELECT uba_model('churn_trees')), c)::numeric, 3) AS churn_probability,
       e.name AS reason, e.value, round(e.contribution::numeric, 3) AS log_odds
  FROM (SELECT * FROM churn_rows_now c
         ORDER BY uba_predict((SELECT uba_model('churn_trees')), c) DESC, customer_id LIMIT 3) c,
       uba_explain((SELECT uba_model('churn_trees')), c, 2) e
 WHERE e.feature > 0
 ORDER BY churn_probability DESC, c.customer_id, abs(e.contribution) DESC;

\echo
\echo '== 8. Recommendations: what will a customer buy next?'
\echo '      Implicit-feedback ALS on every purchase line of a known customer (a line = weight 1;'
\echo '      repeated purchases of an item add up), saved as the model ''recommender''.'
\echo '      Customers are their bigint ids and products their text stock codes, as in the tables.'
\echo

CREATE TEMP VIEW purchases AS
SELECT customer_id, stock_code, invoice_date
  FROM retail_lines
 WHERE customer_id IS NOT NULL AND invoice_no NOT LIKE 'C%' AND quantity > 0;

SELECT uba_model_save('recommender', uba_cf_train(customer_id, stock_code, 1.0)) AS version FROM purchases;
SELECT (uba_model_info(uba_model('recommender')) ->> 'users')::int AS customers,
       (uba_model_info(uba_model('recommender')) ->> 'items')::int AS products,
       (uba_model_info(uba_model('recommender')) ->> 'interactions')::int AS customer_product_pairs,
       round((uba_model_info(uba_model('recommender')) ->> 'training_ms')::numeric) AS training_ms;

\echo
\echo '   Three customers: what they bought most, and their top 5 recommendations (uba_recommend):'
SELECT p.customer_id,
       (SELECT string_agg(d, ' | ') FROM (
           SELECT left(i.description, 28) AS d FROM purchases q JOIN retail_products i USING (stock_code)
            WHERE q.customer_id = p.customer_id GROUP BY i.description ORDER BY count(*) DESC, i.description LIMIT 3) t) AS bought_most,
       -- item_type: the products' codes are text, whatever the type of a customer id
       (SELECT string_agg(left(i.description, 28), ' | ' ORDER BY r.score DESC)
          FROM uba_recommend(p.customer_id, 5, 'recommender', NULL::text) r
          JOIN retail_products i ON i.stock_code = r.item_id) AS recommended
  FROM (VALUES (12347::bigint), (14911), (17841)) AS p(customer_id);

\echo
\echo '   Why the first recommendation for customer 12347 (uba_cf_explain: their items behind it):'
SELECT left(i.description, 40) AS because_they_bought, round(e.contribution::numeric, 4) AS contribution
  FROM uba_cf_explain(uba_model('recommender'), 12347::bigint,
                      (SELECT item_id FROM uba_recommend(12347::bigint, 1, 'recommender', NULL::text)), 3) e
  JOIN retail_products i ON i.stock_code = e.because_item
 ORDER BY e.contribution DESC;

\echo
\echo '   Customers who bought the most popular product also bought (uba_cf_similar_items):'
SELECT left(i.description, 40) AS also_bought, round(s.score::numeric, 3) AS similarity
  FROM uba_cf_similar_items(uba_model('recommender'),
                            (SELECT stock_code FROM purchases GROUP BY stock_code ORDER BY count(DISTINCT customer_id) DESC, stock_code LIMIT 1), 5) s
  JOIN retail_products i ON i.stock_code = s.item_id
 ORDER BY s.score DESC;

\echo
\echo '   A basket of three items and no customer id: recommendations by real-time fold-in:'
SELECT left(i.description, 40) AS in_basket FROM retail_products i WHERE stock_code IN ('22423', '85123A', '47566') ORDER BY 1;
SELECT left(i.description, 40) AS recommended_for_basket, round(r.score::numeric, 3) AS score
  FROM uba_cf_recommend(uba_model('recommender'), ARRAY['22423', '85123A', '47566'], 5) r
  JOIN retail_products i ON i.stock_code = r.item_id
 ORDER BY r.score DESC;

\echo
\echo '   How good is it? Train on purchases before 2011-10-01, test on the new products each customer'
\echo '   bought afterwards: recall@20 and NDCG@20 of ALS against the popularity ranking.'
CREATE TEMP TABLE cf_train AS
SELECT DISTINCT customer_id, stock_code FROM purchases WHERE invoice_date < '2011-10-01';
CREATE TEMP TABLE cf_test AS
SELECT p.customer_id, array_agg(DISTINCT p.stock_code) AS relevant
  FROM (SELECT DISTINCT customer_id, stock_code FROM purchases WHERE invoice_date >= '2011-10-01') p
  LEFT JOIN cf_train t USING (customer_id, stock_code)
 WHERE t.customer_id IS NULL AND p.customer_id IN (SELECT customer_id FROM cf_train)
 GROUP BY p.customer_id;
CREATE INDEX ON cf_train (customer_id, stock_code);
ANALYZE cf_train;
ANALYZE cf_test;
-- kept in a table, the model reaches uba_cf_recommend as a TOAST pointer, not 10 MB of bytes per call
CREATE TEMP TABLE cf_split_model AS
SELECT uba_cf_train(customer_id, stock_code, 1.0) AS m FROM purchases WHERE invoice_date < '2011-10-01';
WITH ranked AS (
	SELECT t.relevant,
	       (SELECT array_agg(item_id ORDER BY ord)
	          FROM uba_cf_recommend((SELECT m FROM cf_split_model), t.customer_id, 20, NULL, NULL::text)
	               WITH ORDINALITY AS x(item_id, score, source, ord)) AS als,
	       -- an unknown id (-1) gets the most popular items; keep the customer's 20 first new ones
	       (SELECT (array_agg(item_id ORDER BY ord)
	                  FILTER (WHERE NOT EXISTS (SELECT 1 FROM cf_train c
	                                             WHERE c.customer_id = t.customer_id AND c.stock_code = x.item_id)))[1:20]
	          FROM uba_cf_recommend((SELECT m FROM cf_split_model), -1, 200, NULL, NULL::text)
	               WITH ORDINALITY AS x(item_id, score, source, ord)) AS popular
	  FROM cf_test t)
SELECT count(*) AS customers_tested,
       round(avg(uba_recall_at_k(als, relevant, 20))::numeric, 4) AS als_recall_at_20,
       round(avg(uba_recall_at_k(popular, relevant, 20))::numeric, 4) AS popularity_recall_at_20,
       round(avg(uba_ndcg_at_k(als, relevant, 20))::numeric, 4) AS als_ndcg_at_20,
       round(avg(uba_ndcg_at_k(popular, relevant, 20))::numeric, 4) AS popularity_ndcg_at_20
  FROM ranked;

\echo
\echo '== 8b. A live, anonymous session: what goes into the basket next?  Invoices are the past'
\echo '       sessions (uba_session_train); a visitor has clicked three products, in this order.'
\echo '       V-SKNN (sessions like this one, the latest clicks weighing most), sequential rules'
\echo '       (what followed the last click) and GRU4Rec (a recurrent network, 3 epochs) side by side,'
\echo '       trained on the invoices before 2011-11-01;'
\echo '       the three products themselves left out (exclude_seen).'
\echo
CREATE TEMP TABLE session_models AS
SELECT method, uba_session_train(invoice_no, stock_code, invoice_date::timestamptz, jsonb_build_object('method', method, 'epochs', 3)) AS m
  FROM retail_lines, unnest(ARRAY['vsknn', 'sr', 'gru4rec']) method
 WHERE quantity > 0 AND invoice_no NOT LIKE 'C%' AND invoice_date < '2011-11-01'
 GROUP BY method;
SELECT method, r.rank, r.item_id AS stock_code, p.description, round(r.score::numeric, 3) AS score
  FROM session_models s,
       LATERAL (SELECT item_id, score, row_number() OVER (ORDER BY score DESC, item_id) AS rank
                  FROM uba_next_items(s.m, ARRAY['22697', '22698', '22423'], 5, '{"exclude_seen": true}'::jsonb)) r
  JOIN retail_products p ON p.stock_code = r.item_id
 ORDER BY method = 'gru4rec', method DESC, r.rank;
\echo
\echo '   How often the next product is in the top 20 (hit rate) and how high (MRR), on the first five'
\echo '   products of every invoice from 2011-11-01 (lines of an invoice share its time: their order'
\echo '   within it is by stock code):'
WITH test AS (
  SELECT invoice_no, array_agg(stock_code ORDER BY stock_code) AS items
    FROM retail_lines WHERE quantity > 0 AND invoice_no NOT LIKE 'C%' AND invoice_date >= '2011-11-01'
   GROUP BY invoice_no HAVING count(*) >= 2),
queries AS (
  SELECT items[1:t] AS prefix, items[t + 1] AS target
    FROM test, generate_series(1, least(array_length(items, 1) - 1, 5)) t)
SELECT method, count(*) AS queries,
       round(avg(uba_hit_rate_at_k(coalesce(r.items, '{}'), ARRAY[target], 20))::numeric, 4) AS hit_rate_at_20,
       round(avg(uba_mrr_at_k(coalesce(r.items, '{}'), ARRAY[target], 20))::numeric, 4) AS mrr_at_20
  FROM queries, session_models s,
       LATERAL (SELECT array_agg(item_id ORDER BY score DESC, item_id) AS items FROM uba_next_items(s.m, prefix, 20)) r
 GROUP BY method ORDER BY method = 'gru4rec', method DESC;

\echo
\echo '== 9. Behaviour: funnel, retention, profiles, lifecycle, sequences, paths, patterns, why revenue moved'
\echo '      Funnel (uba_funnel): a purchase, then the Regency cake stand within 30 days of it, then a'
\echo '      Regency teacup and saucer by the end of those 30 days; customers per step, by country.'
\echo

SELECT country, count(*) AS customers,
       count(*) FILTER (WHERE depth >= 2) AS then_cake_stand,
       count(*) FILTER (WHERE depth >= 3) AS then_teacup,
       round(100.0 * count(*) FILTER (WHERE depth >= 3) / count(*), 1) AS pct_to_the_end
  FROM (SELECT customer_id, min(country) AS country,
               uba_funnel(invoice_date, '30 days', ARRAY[quantity > 0, stock_code = '22423',
                                                         stock_code IN ('22697', '22699')]) AS depth
          FROM retail_lines WHERE customer_id IS NOT NULL GROUP BY customer_id) f
 WHERE depth >= 1
 GROUP BY country ORDER BY customers DESC LIMIT 5;

\echo
\echo '   The same funnel, differentially private (uba_dp_funnel, doc/privacy.md): epsilon 1 for the'
\echo '   whole table, delta 1e-6; a country is shown only when a noisy count of its customers passes'
\echo '   the threshold those set, so no single customer can make a country appear.'
\echo

WITH f AS (
	SELECT customer_id, min(country) AS country,
	       uba_funnel(invoice_date, '30 days', ARRAY[quantity > 0, stock_code = '22423',
	                                                 stock_code IN ('22697', '22699')]) AS depth
	  FROM retail_lines WHERE customer_id IS NOT NULL GROUP BY customer_id),
dp AS MATERIALIZED (
	SELECT country, uba_dp_funnel(customer_id, depth, 3, 1.0, '{"delta": 1e-6}'::jsonb) AS steps
	  FROM f GROUP BY country)
SELECT country, steps[1] AS customers, steps[2] AS then_cake_stand, steps[3] AS then_teacup,
       round(100.0 * steps[3] / greatest(steps[1], 1), 1) AS pct_to_the_end
  FROM dp WHERE steps IS NOT NULL
 ORDER BY customers DESC LIMIT 5;

\echo
\echo '   Retention (uba_retention): customers by month of first purchase, and the share that bought'
\echo '   again 1, 2, 3 and 6 months later.'
\echo

WITH buys AS (SELECT customer_id, date_trunc('month', invoice_date) AS month
                FROM retail_lines WHERE customer_id IS NOT NULL AND quantity > 0),
cohorts AS (SELECT customer_id, min(month) AS cohort FROM buys GROUP BY customer_id),
per_customer AS (
	SELECT c.cohort, uba_retention(ARRAY[b.month = c.cohort,
	                                     b.month = c.cohort + interval '1 month',
	                                     b.month = c.cohort + interval '2 months',
	                                     b.month = c.cohort + interval '3 months',
	                                     b.month = c.cohort + interval '6 months']) AS r
	  FROM buys b JOIN cohorts c USING (customer_id)
	 GROUP BY c.cohort, b.customer_id)
SELECT to_char(cohort, 'YYYY-MM') AS first_purchase, count(*) AS customers,
       round(100.0 * sum(r[2]::int) / count(*)) AS "month 1 %", round(100.0 * sum(r[3]::int) / count(*)) AS "month 2 %",
       round(100.0 * sum(r[4]::int) / count(*)) AS "month 3 %", round(100.0 * sum(r[5]::int) / count(*)) AS "month 6 %"
  FROM per_customer
 WHERE cohort <= '2011-06-01'
 GROUP BY cohort ORDER BY cohort;

\echo
\echo '   Profiles from raw lines (uba_profile): one row per customer, 33 fields, here a few; a'
\echo '   purchase is a line with a positive quantity, a return one with a negative quantity.'
\echo '   RFM as the lifetimes library defines it, and the lifecycle stage on the last day of the data.'
\echo

DROP TABLE IF EXISTS customer_profile;
CREATE TABLE customer_profile AS
SELECT customer_id, (p).*
  FROM (SELECT customer_id,
               uba_profile(invoice_date, CASE WHEN quantity > 0 THEN 'purchase' ELSE 'return' END,
                           stock_code, country, quantity * unit_price::float8, '{"end": "2011-12-09"}'::jsonb) AS p
          FROM retail_lines WHERE customer_id IS NOT NULL GROUP BY customer_id) s;
SELECT customer_id, active_days, sessions, frequency, recency, t, round(monetary_value::numeric, 2) AS monetary_value,
       round(avg_basket_value::numeric, 2) AS avg_basket, preferred_weekday AS weekday, preferred_hour AS hour,
       top_category, lifecycle
  FROM customer_profile WHERE customer_id IN (12347, 12748, 13047, 17850) ORDER BY customer_id;
SELECT lifecycle, count(*) AS customers, round(avg(revenue)::numeric) AS avg_revenue
  FROM customer_profile GROUP BY lifecycle ORDER BY customers DESC;

\echo
\echo '   Lifecycle by month (uba_lifecycle, as PostHog charts it): new, returning, resurrecting'
\echo '   and dormant customers among those who bought.'
\echo

SELECT to_char(s.period, 'YYYY-MM') AS month,
       count(*) FILTER (WHERE s.status = 'new') AS new, count(*) FILTER (WHERE s.status = 'returning') AS returning,
       count(*) FILTER (WHERE s.status = 'resurrecting') AS resurrecting, count(*) FILTER (WHERE s.status = 'dormant') AS dormant
  FROM (SELECT uba_lifecycle(invoice_date, '{"start": "2011-06-01", "end": "2011-11-30", "period": "month"}'::jsonb) AS l
          FROM retail_lines WHERE customer_id IS NOT NULL AND quantity > 0 GROUP BY customer_id) u,
       unnest((l).periods, (l).statuses) AS s(period, status)
 GROUP BY s.period ORDER BY s.period;

\echo
\echo '   Sequences (uba_sequence_count, ClickHouse''s pattern language): customers who bought the'
\echo '   cake stand and, within a week of it, a teacup and saucer; and how often they did.'
\echo

SELECT times, count(*) AS customers
  FROM (SELECT customer_id,
               uba_sequence_count('(?1).*(?t<=604800)(?2)', invoice_date, stock_code = '22423' AND quantity > 0,
                                  stock_code IN ('22697', '22699') AND quantity > 0) AS times
          FROM retail_lines WHERE customer_id IS NOT NULL GROUP BY customer_id) s
 WHERE times > 0 GROUP BY times ORDER BY times;

\echo
\echo '   Paths (uba_path): the basket sizes of each customer''s first three invoices (small under'
\echo '   100, large from 500 in sterling), as a path table: the most common paths and how many took them.'
\echo

DROP TABLE IF EXISTS customer_paths;
CREATE TABLE customer_paths AS
SELECT customer_id, uba_path(invoice_date, size, '{"max_steps": 3, "collapse_repeats": false}'::jsonb) AS path
  FROM (SELECT customer_id, invoice_no, min(invoice_date) AS invoice_date,
               CASE WHEN sum(quantity * unit_price) < 100 THEN 'small'
                    WHEN sum(quantity * unit_price) < 500 THEN 'medium' ELSE 'large' END AS size
          FROM retail_lines WHERE customer_id IS NOT NULL AND quantity > 0
         GROUP BY customer_id, invoice_no) i
 GROUP BY customer_id;
SELECT array_to_string(path, ' -> ') AS path, count(*) AS customers
  FROM customer_paths WHERE cardinality(path) = 3
 GROUP BY path ORDER BY customers DESC, path LIMIT 6;

\echo
\echo '   Sequential patterns (uba_prefixspan): a product, then another on a later invoice, as at least'
\echo '   4% of the customers bought them (buying the same again, the most common pattern, left out).'
\echo

SELECT p.users, round(100 * p.support::numeric, 1) AS pct,
       string_agg(coalesce(d.description, s.code), ' -> ' ORDER BY s.pos) AS bought_in_this_order
  FROM uba_sequential_patterns((SELECT uba_prefixspan(customer_id, invoice_date, stock_code, '{"min_support": 0.04, "max_length": 3}'::jsonb)
                                  FROM retail_lines WHERE customer_id IS NOT NULL AND quantity > 0)) WITH ORDINALITY p
       CROSS JOIN LATERAL unnest(p.pattern) WITH ORDINALITY AS s(code, pos)
       LEFT JOIN retail_products d ON d.stock_code = s.code
 WHERE p.length >= 2 AND p.pattern[1] <> p.pattern[2]   -- buying the same again is the most common
 GROUP BY p.ordinality, p.users, p.support ORDER BY p.ordinality LIMIT 5;

\echo
\echo '   Why revenue moved (uba_contribution): November 2011 against October, by country and'
\echo '   basket size; the segments that carry most of the change.'
\echo

SELECT c.segment, round(c.metric_test::numeric) AS november, round(c.metric_control::numeric) AS october,
       round(c.difference::numeric) AS difference, round(100 * c.share_of_change::numeric) AS pct_of_change
  FROM unnest((SELECT uba_contribution(invoice_date >= '2011-11-01', ARRAY[country, size], revenue,
                                       '{"names": ["country", "basket"], "max_depth": 2, "top_k": 5}'::jsonb)
                 FROM (SELECT country, min(invoice_date) AS invoice_date, sum(quantity * unit_price)::float8 AS revenue,
                              CASE WHEN sum(quantity * unit_price) < 100 THEN 'small'
                                   WHEN sum(quantity * unit_price) < 500 THEN 'medium' ELSE 'large' END AS size
                         FROM retail_lines
                        WHERE invoice_date >= '2011-10-01' AND invoice_date < '2011-12-01' AND quantity > 0
                        GROUP BY invoice_no, country) i)) c;

\echo
\echo '== 10. Often bought together: association rules (FP-growth) over the 20,725 invoices,'
\echo '       support >= 1% of the invoices, confidence >= 60%, saved as the model ''bought_together''.'
\echo

SELECT uba_model_save('bought_together',
                      uba_assoc_rules(invoice_no, stock_code, '{"min_support": 0.01, "min_confidence": 0.6}'::jsonb)) AS version
  FROM retail_lines
 WHERE invoice_no ~ '^[0-9]+$' AND quantity > 0;
SELECT (uba_model_info(uba_model('bought_together')) ->> 'baskets')::int AS invoices,
       (uba_model_info(uba_model('bought_together')) ->> 'frequent_itemsets')::int AS frequent_itemsets,
       (uba_model_info(uba_model('bought_together')) ->> 'rules')::int AS rules,
       round((uba_model_info(uba_model('bought_together')) ->> 'training_ms')::numeric) AS training_ms;

\echo
\echo '   The strongest rules (uba_assoc_rules_list), with the product names:'
SELECT (SELECT string_agg(i.description, ' + ') FROM retail_products i WHERE i.stock_code = ANY (r.antecedent)) AS bought,
       (SELECT string_agg(i.description, ' + ') FROM retail_products i WHERE i.stock_code = ANY (r.consequent)) AS also_bought,
       round(r.confidence::numeric, 2) AS confidence, round(r.lift::numeric, 1) AS lift, r.count AS invoices
  FROM uba_assoc_rules_list(uba_model('bought_together')) r
 WHERE NOT r.consequent && ARRAY['DOT', 'POST']
 LIMIT 6;

\echo
\echo '   A live basket of two Regency teacups: what completes it (uba_basket_complete)?'
SELECT i.description, round(c.confidence::numeric, 2) AS confidence, round(c.lift::numeric, 1) AS lift
  FROM uba_basket_complete(uba_model('bought_together'), ARRAY['22697', '22698'], 5)
       WITH ORDINALITY c(item_id, confidence, lift, rank)
  JOIN retail_products i ON i.stock_code = c.item_id
 ORDER BY rank;

\echo
\echo '== 11. Operations: retrain every night with pg_cron, serve dashboards'
\echo '       uba_model_train saves a version with the query that made it; uba_model_retrain runs'
\echo '       that query again.  A materialized view keeps every customer''s top 10 for BI tools.'
\echo

-- the events behind the recommender, as a view a scheduled job can read
CREATE VIEW retail_purchases AS
SELECT customer_id, stock_code, invoice_date
  FROM retail_lines
 WHERE customer_id IS NOT NULL AND invoice_no NOT LIKE 'C%' AND quantity > 0;
SELECT uba_model_train('recommender', 'SELECT uba_cf_train(customer_id, stock_code, 1.0) FROM retail_purchases') AS version;

CREATE MATERIALIZED VIEW customer_recommendations AS
SELECT c.customer_id, r.rank::int, r.item_id AS stock_code, i.description, r.score
  FROM (SELECT DISTINCT customer_id FROM retail_purchases) c,
       LATERAL uba_recommend(c.customer_id, 10, 'recommender', NULL::text) WITH ORDINALITY AS r(item_id, score, source, rank)
  JOIN retail_products i ON i.stock_code = r.item_id;
CREATE UNIQUE INDEX ON customer_recommendations (customer_id, rank);	-- REFRESH ... CONCURRENTLY needs it
SELECT count(DISTINCT customer_id) AS customers, count(*) AS recommendations FROM customer_recommendations;

SELECT (current_setting('shared_preload_libraries') ~ 'pg_cron'
        AND current_database() = current_setting('cron.database_name', true)) AS have_cron \gset
\if :have_cron
CREATE EXTENSION IF NOT EXISTS pg_cron;
\echo
\echo '   A pg_cron job retrains the recommender and refreshes the view.  Nightly it would be'
\echo '   ''0 3 * * *''; here it runs at the next full minute, so the demo waits for it (up to 70 s).'
SELECT max(version) AS before FROM uba_models WHERE name = 'recommender' \gset
SELECT cron.schedule('uba-demo-retrain', '* * * * *',
       $$SELECT uba_model_retrain('recommender'); REFRESH MATERIALIZED VIEW CONCURRENTLY customer_recommendations$$) AS job \gset
-- wait until the job's work is committed and its run recorded
SELECT set_config('uba_demo.before', :'before', false) \gset
DO $$
BEGIN
	FOR i IN 1..75 LOOP
		EXIT WHEN EXISTS (SELECT 1 FROM uba_models WHERE name = 'recommender'
		                     AND version > current_setting('uba_demo.before')::int)
		      AND EXISTS (SELECT 1 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
		                   WHERE j.jobname = 'uba-demo-retrain' AND d.status IN ('succeeded', 'failed'));
		EXIT WHEN EXISTS (SELECT 1 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
		                   WHERE j.jobname = 'uba-demo-retrain' AND d.status = 'failed');
		PERFORM pg_sleep(1);
	END LOOP;
END
$$;
SELECT j.jobname, j.schedule, d.status, d.start_time::time(0) AS started, (d.end_time - d.start_time)::interval(1) AS took
  FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'uba-demo-retrain';
SELECT cron.schedule('uba-demo-retrain', '0 3 * * *',
       $$SELECT uba_model_retrain('recommender'); REFRESH MATERIALIZED VIEW CONCURRENTLY customer_recommendations$$) AS job \gset
\echo '   Rescheduled for 03:00 every night (SELECT * FROM cron.job).'
\else
\echo '   (pg_cron is not loaded in this server: `make demo` starts one where it is.  The job would be'
\echo '    SELECT cron.schedule(''uba-nightly'', ''0 3 * * *'', $$SELECT uba_model_retrain(''recommender''); REFRESH MATERIALIZED VIEW CONCURRENTLY customer_recommendations$$);)'
\endif

\echo
\echo '   The recommender''s versions, with what produced them (view uba_models):'
SELECT version, active, training_rows, training_duration::interval(1) AS took, created_by, left(training_query, 60) AS training_query
  FROM uba_models WHERE name = 'recommender' ORDER BY version DESC LIMIT 3;

\echo
\echo '   What a dashboard reads (Metabase, Grafana, Superset: connect a read-only role to this'
\echo '   database and use these as tables): churn_scores, customer_segments, customer_recommendations.'
SELECT risk_band, count(*) AS customers, round(avg(churn_probability)::numeric, 3) AS avg_probability
  FROM churn_scores GROUP BY risk_band ORDER BY avg_probability DESC;
SELECT customer_id, rank, description, round(score::numeric, 3) AS score
  FROM customer_recommendations WHERE customer_id = 12347 AND rank <= 3 ORDER BY rank;

\echo
\echo '== 12. The customer 360: segments trained on the profile rows as they are (typed rows: numbers,'
\echo '       the lifecycle stage as a category), joined with churn risk and the top recommendations'
\echo '       in one view a dashboard or a CRM reads (customer_360).'
\echo

CREATE OR REPLACE VIEW customer_profile_features AS
SELECT customer_id, active_days, sessions, frequency, days_since_last, ln(1 + greatest(revenue, 0)) AS log_revenue,
       avg_basket_value, lifecycle
  FROM customer_profile;
SELECT uba_model_save('profile_segments',
       uba_kmeans(f, 4, '{"seed": 42, "standardize": true}'::jsonb)) AS version
  FROM (SELECT active_days, sessions, frequency, days_since_last, log_revenue, avg_basket_value, lifecycle
          FROM customer_profile_features) f;

CREATE VIEW customer_360 AS
SELECT p.customer_id, p.lifecycle, p.frequency, round(p.revenue::numeric, 2) AS revenue, p.top_category AS country,
       uba_kmeans_assign((SELECT uba_model('profile_segments')),
                         (SELECT r FROM (SELECT f.active_days, f.sessions, f.frequency, f.days_since_last, f.log_revenue,
                                                f.avg_basket_value, f.lifecycle) r)) AS segment,
       c.churn_probability, c.risk_band, c.top_reasons,
       (SELECT string_agg(r.description, '; ' ORDER BY r.rank) FROM customer_recommendations r
         WHERE r.customer_id = p.customer_id AND r.rank <= 3) AS recommended
  FROM customer_profile p
  JOIN customer_profile_features f USING (customer_id)
  LEFT JOIN churn_scores c USING (customer_id);
COMMENT ON VIEW customer_360 IS
	'one row per customer: profile (uba_profile), segment (k-means on the profile rows), churn risk and reasons, top 3 recommendations';

SELECT segment, count(*) AS customers, round(avg(frequency)::numeric, 1) AS avg_frequency,
       round(avg(revenue)) AS avg_revenue, mode() WITHIN GROUP (ORDER BY lifecycle) AS usual_stage,
       round(avg(churn_probability)::numeric, 2) AS avg_churn_risk
  FROM customer_360 GROUP BY segment ORDER BY segment;
SELECT customer_id, lifecycle, segment, round(churn_probability::numeric, 2) AS churn, risk_band, recommended
  FROM customer_360 WHERE customer_id IN (12347, 17850) ORDER BY customer_id;

\echo
\echo '== 13. Customer value: who will buy again, how often, what they are worth'
\echo '       Each customer''s summary (uba_rfm: repeat purchase days, recency and age in days, mean'
\echo '       spend of a repeat day), BG/NBD for repeat purchases and Gamma-Gamma for spend, fitted'
\echo '       by maximum likelihood; P(alive), expected purchases in the next 90 days, 12-month CLV'
\echo '       (1 % a month discount).'
\echo

DROP TABLE IF EXISTS customer_value;
CREATE TABLE customer_value AS
SELECT customer_id, (uba_rfm(invoice_date, quantity * unit_price, '{"end": "2011-12-09"}'::jsonb)).*
  FROM retail_lines WHERE customer_id IS NOT NULL GROUP BY customer_id;
SELECT uba_model_save('purchases', uba_bgnbd_train(frequency, recency, t)) AS purchases_version FROM customer_value;
SELECT uba_model_save('spend', uba_gammagamma_train(frequency, monetary_value)) AS spend_version
  FROM customer_value WHERE monetary_value > 0 OR frequency = 0;
SELECT key AS parameter, round(value::numeric, 4) AS value
  FROM jsonb_each_text(uba_model_info(uba_model('purchases'))->'parameters');

\echo
\echo '   The ten most valuable customers for the next 12 months:'
SELECT customer_id, frequency::int AS repeat_days, recency::int AS recency, t::int AS age_days,
       round(uba_p_alive((SELECT uba_model('purchases')), frequency, recency, t)::numeric, 3) AS p_alive,
       round(uba_expected_purchases((SELECT uba_model('purchases')), 90, frequency, recency, t)::numeric, 2) AS next_90_days,
       round(uba_clv((SELECT uba_model('purchases')), (SELECT uba_model('spend')),
                     frequency, recency, t, monetary_value)::numeric) AS clv_12_months
  FROM customer_value WHERE monetary_value > 0 OR frequency = 0
 ORDER BY clv_12_months DESC LIMIT 10;

\echo
\echo '   Does the model predict? Fitted on the purchases up to 2011-06-30 (uba_rfm_holdout: lifetimes''s'
\echo '   calibration and holdout), its expected purchases in the 162 days after, against what each'
\echo '   group of customers (by repeat days before) actually bought: Fader, Hardie and Lee''s Figure 4.'
WITH h AS (
  SELECT customer_id, (uba_rfm_holdout(invoice_date, quantity * unit_price,
                       '{"calibration_end": "2011-06-30", "end": "2011-12-09"}'::jsonb)).*
    FROM retail_lines WHERE customer_id IS NOT NULL GROUP BY customer_id),
m AS (SELECT uba_bgnbd_train(frequency_cal, recency_cal, t_cal) AS bg FROM h WHERE frequency_cal IS NOT NULL)
SELECT CASE WHEN frequency_cal >= 7 THEN '7+' ELSE frequency_cal::int::text END AS repeat_days_before,
       count(*) AS customers,
       round(avg(frequency_holdout)::numeric, 2) AS bought_after,
       round(avg(uba_expected_purchases(m.bg, duration_holdout, frequency_cal, recency_cal, t_cal))::numeric, 2) AS expected
  FROM h, m WHERE frequency_cal IS NOT NULL
 GROUP BY 1 ORDER BY min(frequency_cal);

\echo
\echo '== 14. Demand forecasts: units per week of every product, next 4 weeks, with intervals'
\echo '       One model per product in one query (GROUP BY): exponential smoothing chosen by AICc, or'
\echo '       Croston with the SBA correction for intermittent demand; weeks without sales are zeros.'
\echo

DROP TABLE IF EXISTS product_forecasts;
CREATE TABLE product_forecasts AS
SELECT stock_code, uba_forecast_train(invoice_date, quantity, '{"period": "week", "end": "2011-12-09"}'::jsonb) AS model
  FROM retail_lines WHERE quantity > 0 AND invoice_no NOT LIKE 'C%'
 GROUP BY stock_code HAVING count(*) >= 10;
SELECT (uba_forecast_info(model)).method, count(*) AS products FROM product_forecasts GROUP BY 1 ORDER BY 2 DESC;

\echo
\echo '   The five products on the most invoices: the next 4 weeks, 80 % intervals'
SELECT p.stock_code, left(r.description, 28) AS description, (uba_forecast_info(p.model)).form, f.ts::date AS week,
       round(f.forecast::numeric) AS units, round(greatest(f.lower, 0)::numeric) AS lower, round(f.upper::numeric) AS upper
  FROM product_forecasts p
  JOIN retail_products r USING (stock_code),
       uba_forecast(p.model, 4, '{80}') f
 WHERE p.stock_code IN (SELECT stock_code FROM retail_lines WHERE quantity > 0 AND invoice_no NOT LIKE 'C%'
                         GROUP BY stock_code ORDER BY count(DISTINCT invoice_no) DESC, stock_code LIMIT 5)
 ORDER BY p.stock_code, f.step;

\echo
\echo '   What to order for the next 4 weeks at a 95 % service level (view reorder_next_4_weeks):'
CREATE VIEW reorder_next_4_weeks AS
SELECT p.stock_code, round(f.forecast::numeric, 1) AS expected_units,
       ceil(f.upper) AS order_up_to, ceil(f.upper) - ceil(f.forecast) AS safety_stock
  FROM product_forecasts p, uba_forecast(p.model, 4, '{90}', cumulative => true) f
 WHERE f.step = 4;
SELECT * FROM reorder_next_4_weeks ORDER BY expected_units DESC LIMIT 5;

\echo
\echo '   One model for every product (the M5 winners'' way): gradient-boosted trees on each week''s lags,'
\echo '   rolling means, calendar and the weeks to Christmas, trained on the full weeks (to 2011-12-04);'
\echo '   the shop closed over Christmas 2010, and the trees carry that week''s drop into 2011:'
SELECT uba_model_save('demand_global',
         uba_forecast_train(stock_code, invoice_date, quantity,
                            jsonb_build_object('method', 'boost', 'period', 'week', 'end', '2011-11-28',
                                               'holidays', jsonb_build_array('2010-12-25', '2011-12-25', '2012-12-25')))) > 0 AS saved
  FROM retail_lines WHERE quantity > 0 AND invoice_no NOT LIKE 'C%' AND invoice_date < '2011-12-05';
SELECT g.series AS stock_code, g.ts::date AS week, round(g.forecast::numeric) AS global_units,
       round(f.forecast::numeric) AS per_product_units
  FROM uba_forecast_global(uba_model('demand_global'), 5) g
  JOIN product_forecasts p ON p.stock_code = g.series
  JOIN uba_forecast(p.model, 4) f ON f.ts = g.ts
 WHERE g.series IN (SELECT stock_code FROM retail_lines WHERE quantity > 0 AND invoice_no NOT LIKE 'C%'
                     GROUP BY stock_code ORDER BY count(DISTINCT invoice_no) DESC, stock_code LIMIT 2)
 ORDER BY 1, 2;

\echo
\echo 'Done.  Explore further:  SELECT * FROM customer_360;   SELECT * FROM customer_segments;   SELECT * FROM churn_scores;   SELECT * FROM uba_models;'
\echo '       SELECT * FROM uba_kmeans_centroids(uba_model(''segments''));   SELECT * FROM uba_recommend(12347::bigint, 10, NULL, NULL::text);'
\echo '       SELECT * FROM uba_assoc_rules_list(uba_model(''bought_together''));'
\echo
