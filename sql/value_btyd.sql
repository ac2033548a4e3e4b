-- customer value: BG/NBD, Gamma-Gamma and CLV against an independent reference
-- (bench/btyd_reference.py, scipy, written from the papers' equations) on the 4,372 customers of
-- Online Retail (test/data/retail_btyd*.csv: their summary in days, the reference's parameters and
-- the predictions for every tenth customer)
SET extra_float_digits = 0;
CREATE TABLE cv (customer_id bigint, frequency float8, recency float8, t float8, monetary_value float8);
\copy cv FROM 'test/data/retail_btyd.csv' WITH (FORMAT csv, HEADER)
CREATE TABLE cv_ref (customer_id bigint, p_alive float8, purchases_30 float8, purchases_90 float8,
                     purchases_365 float8, spend float8, clv float8, pn_p_alive float8, pn_purchases_30 float8,
                     pn_purchases_90 float8, pn_purchases_365 float8);
\copy cv_ref FROM 'test/data/retail_btyd_reference.csv' WITH (FORMAT csv, HEADER)
CREATE TABLE cv_params (model text, parameter text, value float8);
\copy cv_params FROM 'test/data/retail_btyd_params.csv' WITH (FORMAT csv, HEADER)

CREATE TABLE cv_models AS
SELECT (SELECT uba_bgnbd_train(frequency, recency, t) FROM cv) AS bg,
       (SELECT uba_gammagamma_train(frequency, monetary_value) FROM cv WHERE monetary_value > 0 OR frequency = 0) AS gg,
       (SELECT uba_paretonbd_train(frequency, recency, t) FROM cv) AS pn;

-- the same optimum: parameters within 1e-6 relative, the log-likelihood not below the reference's
SELECT p.model, p.parameter,
       CASE WHEN p.parameter = 'log_likelihood' THEN (i->>'log_likelihood')::float8 >= p.value - 1e-6
            ELSE abs((i->'parameters'->>p.parameter)::float8 / p.value - 1) < 1e-6 END AS same
  FROM cv_params p
  JOIN (SELECT 'bgnbd' AS model, uba_model_info(bg) AS i FROM cv_models
        UNION ALL SELECT 'gammagamma', uba_model_info(gg) FROM cv_models
        UNION ALL SELECT 'paretonbd', uba_model_info(pn) FROM cv_models) m USING (model)
 ORDER BY p.model, p.parameter;
SELECT i->'family' AS family, i->'converged' AS converged, i->'training_rows' AS customers,
       (i->>'gradient')::float8 < 1e-10 AS small_gradient
  FROM (SELECT uba_model_info(bg) AS i FROM cv_models UNION ALL SELECT uba_model_info(pn) FROM cv_models) s;
SELECT uba_model_info(gg)->'training_rows' AS repeat_customers, round((uba_model_info(gg)->>'mean_spend')::numeric, 6) AS mean_spend
  FROM cv_models;

-- every prediction within 1e-8 relative of the reference's
SELECT count(*) AS customers,
       count(*) FILTER (WHERE abs(uba_p_alive(bg, frequency, recency, t) / r.p_alive - 1) > 1e-8) AS p_alive,
       count(*) FILTER (WHERE abs(uba_expected_purchases(bg, 30, frequency, recency, t) / r.purchases_30 - 1) > 1e-8) AS next_30,
       count(*) FILTER (WHERE abs(uba_expected_purchases(bg, 90, frequency, recency, t) / r.purchases_90 - 1) > 1e-8) AS next_90,
       count(*) FILTER (WHERE abs(uba_expected_purchases(bg, 365, frequency, recency, t) / r.purchases_365 - 1) > 1e-8) AS next_365,
       count(r.spend) AS with_spend,
       count(*) FILTER (WHERE CASE WHEN r.spend IS NULL THEN false
                                   ELSE abs(uba_expected_spend(gg, frequency, monetary_value) / r.spend - 1) > 1e-8 END) AS spend,
       count(*) FILTER (WHERE CASE WHEN r.clv IS NULL THEN false
                                   ELSE abs(uba_clv(bg, gg, frequency, recency, t, monetary_value) / r.clv - 1) > 1e-8 END) AS clv
  FROM cv JOIN cv_ref r USING (customer_id), cv_models;

-- Pareto/NBD: within 1e-8 too (the reference's gradient is a finite difference, good to about 1e-9)
SELECT count(*) AS customers,
       count(*) FILTER (WHERE abs(uba_p_alive(pn, frequency, recency, t) / r.pn_p_alive - 1) > 1e-8) AS p_alive,
       count(*) FILTER (WHERE abs(uba_expected_purchases(pn, 30, frequency, recency, t) / r.pn_purchases_30 - 1) > 1e-8) AS next_30,
       count(*) FILTER (WHERE abs(uba_expected_purchases(pn, 90, frequency, recency, t) / r.pn_purchases_90 - 1) > 1e-8) AS next_90,
       count(*) FILTER (WHERE abs(uba_expected_purchases(pn, 365, frequency, recency, t) / r.pn_purchases_365 - 1) > 1e-8) AS next_365
  FROM cv JOIN cv_ref r USING (customer_id), cv_models;
-- the two models agree on who is alive more than on how much they buy
SELECT round(corr(uba_p_alive(bg, frequency, recency, t), uba_p_alive(pn, frequency, recency, t))::numeric, 2) AS p_alive_corr,
       round((sum(uba_expected_purchases(pn, 90, frequency, recency, t)) / sum(uba_expected_purchases(bg, 90, frequency, recency, t)))::numeric, 3) AS ratio_next_90
  FROM cv, cv_models WHERE frequency > 0;
SELECT round(uba_expected_purchases(pn, h)::numeric, 9) AS pareto_new_customer FROM cv_models, unnest(ARRAY[0, 30, 365]::float8[]) h;

-- what they say: the share of customers still alive, the purchases expected next quarter
SELECT round(avg(uba_p_alive(bg, frequency, recency, t))::numeric, 6) AS mean_p_alive,
       round(sum(uba_expected_purchases(bg, 90, frequency, recency, t))::numeric, 3) AS purchases_next_90_days
  FROM cv, cv_models;
-- a new customer's expected repeat purchases: 0 at once, rising, below the alive customer's rate
SELECT h, round(uba_expected_purchases(bg, h)::numeric, 9) AS expected
  FROM cv_models, unnest(ARRAY[0, 30, 90, 365, 3650]::float8[]) h;
-- p_alive: 1 without a repeat purchase, lower the longer since the last one
SELECT round(uba_p_alive(bg, 0, 0, 300)::numeric, 12) AS no_repeat,
       uba_p_alive(bg, 5, 100, 300) < uba_p_alive(bg, 5, 290, 300) AS recent_more_alive
  FROM cv_models;
-- CLV: longer horizons are worth more, discounting lowers it, units of weeks and months
SELECT uba_clv(bg, gg, 3, 200, 300, 400, 24) > uba_clv(bg, gg, 3, 200, 300, 400) AS longer_worth_more,
       uba_clv(bg, gg, 3, 200, 300, 400, 12, 0.05) < uba_clv(bg, gg, 3, 200, 300, 400) AS discounted_less,
       abs(uba_clv(bg, gg, 3, 200, 300, 400, 12, 0.01, 'day')
           - (SELECT sum(uba_expected_spend(gg, 3, 400)
                         * (uba_expected_purchases(bg, 30 * i, 3, 200, 300) - uba_expected_purchases(bg, 30 * (i - 1), 3, 200, 300))
                         / 1.01 ^ i) FROM generate_series(1, 12) i)) < 1e-9 AS as_defined
  FROM cv_models;

-- the period the models' times are in: a month is 4.345 weeks, or 1 month
SELECT abs(uba_clv(bg, gg, 3, 200, 300, 400, 12, 0.01, 'week')
           - (SELECT sum(uba_expected_spend(gg, 3, 400)
                         * (uba_expected_purchases(bg, 4.345 * i, 3, 200, 300) - uba_expected_purchases(bg, 4.345 * (i - 1), 3, 200, 300))
                         / 1.01 ^ i) FROM generate_series(1, 12) i)) < 1e-9 AS weeks_as_defined,
       abs(uba_clv(bg, gg, 3, 200, 300, 400, 6, 0.02, 'month')
           - (SELECT sum(uba_expected_spend(gg, 3, 400)
                         * (uba_expected_purchases(bg, i, 3, 200, 300) - uba_expected_purchases(bg, i - 1, 3, 200, 300))
                         / 1.02 ^ i) FROM generate_series(1, 6) i)) < 1e-9 AS months_as_defined
  FROM cv_models;
-- out of iterations: a NOTICE, and the model so far
SELECT (uba_model_info(uba_bgnbd_train(frequency, recency, t, '{"max_iter": 2}'))->>'converged')::boolean AS converged FROM cv;

-- the same model in any row order and with parallel workers
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT uba_bgnbd_train(frequency, recency, t) FROM cv;
SELECT uba_model_info(bg)->'parameters' = uba_model_info((SELECT uba_bgnbd_train(frequency, recency, t) FROM cv))->'parameters' AS same_parallel
  FROM cv_models;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SELECT uba_model_info(bg)->'parameters' = uba_model_info((SELECT uba_bgnbd_train(frequency, recency, t ORDER BY random()) FROM cv))->'parameters' AS same_any_order
  FROM cv_models;

-- no rows, NULL rows: NULL; customers without repeat purchases say nothing about spend
SELECT uba_bgnbd_train(frequency, recency, t) IS NULL AS no_rows FROM cv WHERE false;
SELECT uba_bgnbd_train(NULL, recency, t) IS NULL AS null_rows FROM cv;
SELECT uba_gammagamma_train(frequency, monetary_value) IS NULL AS no_repeat_customers FROM cv WHERE frequency = 0;
SELECT uba_p_alive(bg, NULL, 1, 2) IS NULL AS strict FROM cv_models;

-- no customer ever came back: nothing to fit
SELECT expect_error($$SELECT uba_bgnbd_train(0, 0, t) FROM cv$$);
SELECT expect_error($$SELECT uba_paretonbd_train(0, 0, t) FROM cv$$);
-- data without a finite fit: every customer buys again at once and never stops
SELECT expect_error($$SELECT uba_bgnbd_train(t, t, t) FROM cv WHERE t > 0$$);
-- bad input
SELECT expect_error($$SELECT uba_bgnbd_train(frequency + 0.5, recency, t) FROM cv$$);
SELECT expect_error($$SELECT uba_bgnbd_train(frequency, recency + 1, t) FROM cv WHERE frequency = 0$$);
SELECT expect_error($$SELECT uba_bgnbd_train(frequency, t + 1, t) FROM cv WHERE frequency > 0$$);
SELECT expect_error($$SELECT uba_bgnbd_train(frequency, recency, 'Infinity') FROM cv$$);
SELECT expect_error($$SELECT uba_bgnbd_train(frequency, recency, t, '{"max_iter": 0}') FROM cv$$);
SELECT expect_error($$SELECT uba_gammagamma_train(frequency, monetary_value) FROM cv$$);
-- every customer spends the same: no spread between customers to fit
SELECT expect_error($$SELECT uba_gammagamma_train(frequency, 25) FROM cv WHERE frequency > 0$$);
SELECT expect_error($$SELECT uba_expected_purchases(bg, -1, 1, 1, 2) FROM cv_models$$);
SELECT expect_error($$SELECT uba_expected_purchases(bg, 30, 1, 3, 2) FROM cv_models$$);
SELECT expect_error($$SELECT uba_expected_purchases(gg, 30, 1, 1, 2) FROM cv_models$$);
SELECT expect_error($$SELECT uba_expected_spend(bg, 1, 10) FROM cv_models$$);
SELECT expect_error($$SELECT uba_expected_spend(gg, 2, -10) FROM cv_models$$);
SELECT expect_error($$SELECT uba_clv(bg, gg, 1, 1, 2, 10, 0) FROM cv_models$$);
SELECT expect_error($$SELECT uba_clv(bg, gg, 1, 1, 2, 10, 12, -1) FROM cv_models$$);
SELECT expect_error($$SELECT uba_clv(bg, gg, 1, 1, 2, 10, 12, 0.01, 'year') FROM cv_models$$);
SELECT expect_error($$SELECT uba_clv(gg, bg, 1, 1, 2, 10) FROM cv_models$$);

SELECT expect_error($$SELECT uba_paretonbd_train(frequency, recency, t, '{"bogus": 1}') FROM cv$$);

DROP TABLE cv, cv_ref, cv_params, cv_models;
