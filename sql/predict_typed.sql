-- Typed rows: a table's columns as they are, the encoding stored in the model, scoring by name
SET extra_float_digits = 0;

CREATE TYPE ty_plan AS ENUM ('monthly', 'yearly', 'two-year');
CREATE TABLE ty_rows AS
SELECT g AS id,
       (g * 37 % 72) AS tenure,                                            -- integer
       (20 + (g * 53 % 100) + (g % 7) / 4.0)::numeric(8, 2) AS charges,    -- numeric
       (ARRAY['monthly', 'yearly', 'two-year'])[1 + g * 7 % 3]::ty_plan AS plan,   -- enum
       CASE WHEN g % 9 = 0 THEN NULL
            ELSE (ARRAY['card', 'cash', 'bank', 'paypal', 'voucher'])[1 + g * 11 % 5] END AS payment,  -- text with NULLs
       (g % 4 = 0) AS paperless,                                           -- boolean
       CASE WHEN g % 13 = 0 THEN NULL ELSE (g * 17 % 50)::float4 END AS calls,   -- float4 with NULLs
       date '2024-01-01' + (g * 29 % 365) AS signup,                       -- date
       ((g * 37 % 72) < 12 AND g * 7 % 3 = 0) OR (g * 53 % 100) > 92 OR (g * 11 % 5 = 4 AND g % 3 = 0) AS churned
  FROM generate_series(1, 3000) g;

-- the features are a row: a table's, a subquery's, or (as here) a LATERAL one beside the label
CREATE TABLE ty_model AS
SELECT uba_boost_train(churned, t, '{"n_estimators": 30, "max_depth": 4}'::jsonb) AS b,
       uba_logreg_train(churned, t) AS l,
       uba_kmeans(t, 3, '{"standardize": true}'::jsonb) AS k
  FROM ty_rows, LATERAL (SELECT tenure, charges, plan, payment, paperless, calls, signup) t;

-- the encoding is in the model: each column's type, what it became, its levels and NULLs
SELECT uba_model_info(b)->'encoding' AS trees, uba_model_info(l)->'encoding' AS linear FROM ty_model;
SELECT c->>'name' AS name, c->>'type' AS type, c->>'as' AS encoded_as, c->'training_nulls' AS nulls,
       c->'levels' AS levels, c->'null_becomes' AS null_becomes
  FROM ty_model, jsonb_array_elements(uba_model_info(l)->'columns') c;
SELECT uba_model_info(l)->'feature_names' AS logreg_features FROM ty_model;
SELECT uba_model_info(b)->'feature_names' AS tree_features FROM ty_model;

-- trees split on categories natively, and uba's evaluator and TreeSHAP still agree with XGBoost
SELECT (uba_model_info(b)->>'xgboost_margin_difference')::float8 <= 1e-6 AS margins_agree,
       (uba_model_info(b)->>'xgboost_shap_difference')::float8 <= 1e-5 AS shap_agrees,
       uba_boost_export(b)::text LIKE '%"split_type": [%1%' AS has_categorical_splits
  FROM ty_model;

-- scoring takes the row of the table itself: columns found by name, the others (id, label) ignored
SELECT count(*) AS rows,
       round(avg(uba_predict(b, r))::numeric, 6) AS boost_mean,
       round(avg(uba_predict(l, r))::numeric, 6) AS logreg_mean,
       round(avg(churned::int)::numeric, 6) AS churn_rate
  FROM ty_model, ty_rows r;
-- in any column order, with other columns beside them
SELECT bool_and(uba_predict(b, r) = uba_predict(b, s)) AS same_boost,
       bool_and(uba_predict(l, r) = uba_predict(l, s)) AS same_logreg,
       bool_and(uba_kmeans_assign(k, r) = uba_kmeans_assign(k, s)) AS same_cluster
  FROM ty_model, ty_rows r,
       LATERAL (SELECT r.signup, r.calls, 'x' AS other, r.paperless, r.payment, r.plan, r.charges, r.tenure) s;

-- the trees read a category as its level's number (byte order), NULL as missing: the same as the encoded array
SELECT bool_and(uba_predict(b, r) = uba_predict(b, ARRAY[r.tenure, r.charges,
           array_position(ARRAY['monthly', 'two-year', 'yearly'], r.plan::text) - 1,
           coalesce(array_position(ARRAY['bank', 'card', 'cash', 'paypal', 'voucher'], r.payment) - 1, 'NaN'::float8),
           r.paperless::int, coalesce(r.calls, 'NaN'::float8), r.signup - date '1970-01-01']::float8[]))
       AS codes_match
  FROM ty_model, ty_rows r
 WHERE r.payment IS NOT NULL AND r.calls IS NOT NULL;

-- one-hot by hand, the same model: logistic regression on the encoded arrays predicts the same
CREATE TABLE ty_onehot AS
SELECT churned, ARRAY[tenure, charges,
         (plan = 'monthly')::int, (plan = 'two-year')::int, (plan = 'yearly')::int,
         coalesce((payment = 'bank')::int, 0), coalesce((payment = 'card')::int, 0),
         coalesce((payment = 'cash')::int, 0), coalesce((payment = 'paypal')::int, 0),
         coalesce((payment = 'voucher')::int, 0), (payment IS NULL)::int,
         paperless::int, coalesce(calls, (SELECT avg(calls) FROM ty_rows)), signup - date '1970-01-01']::float8[] AS f,
       r AS row
  FROM ty_rows r;
SELECT max(abs(uba_predict(l, row) - uba_predict(h, f))) < 1e-6 AS onehot_matches
  FROM ty_onehot,
       (SELECT uba_logreg_train(churned, f, '{"standardize": false}'::jsonb) AS h FROM ty_onehot) m,
       (SELECT uba_logreg_train(churned, t, '{"standardize": false}'::jsonb) AS l
          FROM ty_rows, LATERAL (SELECT tenure, charges, plan, payment, paperless, calls, signup) t) q;
-- standardization is for the numbers: an indicator's coefficient per standard deviation is itself
SELECT bool_and(coefficient = std_coefficient) FILTER (WHERE name LIKE 'plan=%' OR name LIKE 'payment%') AS indicators_unscaled,
       bool_and(coefficient <> std_coefficient) FILTER (WHERE name IN ('tenure', 'charges')) AS numbers_scaled
  FROM ty_model, uba_logreg_coefficients(l);

-- explanations are by column: a category's one-hot parts add up to one contribution, value NULL
SELECT feature, name, value, round(contribution::numeric, 3) AS contribution
  FROM ty_model, uba_explain(l, (SELECT r FROM ty_rows r WHERE id = 9), 3);
SELECT abs(sum(contribution) - ln(p / (1 - p))) < 1e-9 AS logreg_adds_up
  FROM ty_model, LATERAL (SELECT uba_predict(l, r) AS p, r FROM ty_rows r WHERE id = 9) s, uba_explain(l, s.r) GROUP BY p;
SELECT abs(sum(contribution) - ln(p / (1 - p))) < 1e-5 AS treeshap_adds_up, count(*) AS rows
  FROM ty_model, LATERAL (SELECT uba_predict(b, r) AS p, r FROM ty_rows r WHERE id = 9) s, uba_explain(b, s.r) GROUP BY p;

-- a category not seen in training: trees send it the missing way, one-hot sets none of its levels
SELECT uba_predict(b, s) = uba_predict(b, n) AS unseen_is_missing_for_trees,
       uba_predict(l, s) <> uba_predict(l, n) AS linear_differs
  FROM ty_model,
       (SELECT 10 AS tenure, 50.0 AS charges, 'yearly'::ty_plan AS plan, 'bitcoin' AS payment, true AS paperless, 3 AS calls, date '2024-06-01' AS signup) s,
       (SELECT 10 AS tenure, 50.0 AS charges, 'yearly'::ty_plan AS plan, NULL::text AS payment, true AS paperless, 3 AS calls, date '2024-06-01' AS signup) n;
-- a NULL number where training had none (tenure, charges) is read as the column's training mean
SELECT abs(uba_predict(l, n) - uba_predict(l, m)) < 1e-12 AS null_is_training_mean,
       abs(uba_predict(l, n) - uba_predict(l, z)) > 1e-3 AS not_zero
  FROM ty_model,
       (SELECT NULL::int AS tenure, NULL::numeric AS charges, 'yearly'::ty_plan AS plan, 'card' AS payment, true AS paperless, 3 AS calls, date '2024-06-01' AS signup) n,
       (SELECT avg(tenure)::float8 AS tenure, avg(charges)::float8 AS charges, 'yearly'::ty_plan AS plan, 'card' AS payment, true AS paperless, 3 AS calls, date '2024-06-01' AS signup FROM ty_rows) m,
       (SELECT 0 AS tenure, 0.0 AS charges, 'yearly'::ty_plan AS plan, 'card' AS payment, true AS paperless, 3 AS calls, date '2024-06-01' AS signup) z;

-- max_levels keeps the most frequent levels; the rest are one "other" level, where unseen ones go too
CREATE TABLE ty_few AS
SELECT uba_logreg_train(churned, t, '{"max_levels": 2}'::jsonb) AS l2,
       uba_boost_train(churned, t, '{"max_levels": 2, "n_estimators": 5}'::jsonb) AS b2
  FROM ty_rows, LATERAL (SELECT tenure, payment) t;
SELECT uba_model_info(l2)->'feature_names' AS names,
       uba_model_info(b2)->'columns'->1->'levels' AS tree_levels,
       uba_model_info(b2)->'columns'->1->'other_level' AS tree_other
  FROM ty_few;
SELECT uba_predict(l2, (SELECT t FROM (SELECT 5 AS tenure, 'bitcoin' AS payment) t)) =
       uba_predict(l2, (SELECT t FROM (SELECT 5 AS tenure, 'bank' AS payment) t)) AS unseen_is_other
  FROM ty_few;

-- the same rows in another order give the same model
SELECT uba_boost_export(b)::text = (SELECT uba_boost_export(uba_boost_train(churned, t, '{"n_estimators": 30, "max_depth": 4}'::jsonb))::text
         FROM (SELECT * FROM ty_rows ORDER BY md5(id::text)) o, LATERAL (SELECT tenure, charges, plan, payment, paperless, calls, signup) t) AS same_trees,
       uba_logreg_coefficients_equal
  FROM ty_model,
       LATERAL (SELECT bool_and(a.coefficient = c.coefficient) AS uba_logreg_coefficients_equal
                  FROM uba_logreg_coefficients(l) a
                  JOIN uba_logreg_coefficients((SELECT uba_logreg_train(churned, t)
                                                  FROM (SELECT * FROM ty_rows ORDER BY id DESC) o,
                                                       LATERAL (SELECT tenure, charges, plan, payment, paperless, calls, signup) t)) c
                 USING (feature)) x;

-- no rows: NULL, as for float8[] features
SELECT uba_boost_train(churned, t) IS NULL AS empty FROM ty_rows, LATERAL (SELECT tenure) t WHERE false;

-- a forged model: the typed-rows flag on a model that has no encoding section
SELECT expect_error($$SELECT uba_model_info(reseal(set_byte(uba_logreg_train(churned, f), 8, 1))) FROM ty_onehot$$);

-- mistakes
SELECT uba_boost_train(churned, t) FROM ty_rows, LATERAL (SELECT tenure, point(1, 2) AS p) t;
SELECT uba_logreg_train(churned, t) FROM ty_rows, LATERAL (SELECT tenure, tenure) t;
SELECT uba_logreg_train(churned, t, '{"feature_names": ["a"]}'::jsonb) FROM ty_rows, LATERAL (SELECT tenure) t;
SELECT uba_logreg_train(churned, t, '{"max_levels": 0}'::jsonb) FROM ty_rows, LATERAL (SELECT tenure) t;
SELECT uba_logreg_train(churned, f, '{"max_levels": 5}'::jsonb) FROM ty_onehot;
SELECT uba_logreg_train(churned, t) FROM ty_rows, LATERAL (SELECT 'NaN'::float8 AS x) t;
SELECT uba_kmeans(t, 2) FROM (SELECT 'infinity'::date AS d) t;
SELECT uba_predict(b, s) FROM ty_model, (SELECT 1 AS tenure) s;
SELECT uba_predict(b, s) FROM ty_model, (SELECT 1 AS tenure, 'cheap' AS charges, 'yearly' AS plan, 'card' AS payment,
                                                true AS paperless, 1 AS calls, current_date AS signup) s;
SELECT uba_predict(h, r) FROM ty_rows r, (SELECT uba_logreg_train(churned, f) AS h FROM ty_onehot) m LIMIT 1;
SELECT uba_kmeans_assign(k, ARRAY[1, 2]::float8[]) FROM ty_model;

-- global importance over typed rows: mean absolute TreeSHAP per column, as averaging uba_explain
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(uba_shap_importance(b, r)) k) AS columns,
       round((uba_shap_importance(b, r)->>'tenure')::numeric, 6) =
       round((SELECT avg(abs(e.contribution)) FROM ty_rows r2, uba_explain(b, r2) e WHERE e.name = 'tenure')::numeric, 6) AS equals_mean_explain
  FROM ty_model, ty_rows r GROUP BY b;

-- ridge regression on typed rows: the same as on hand-encoded arrays
SELECT max(abs(uba_predict(l, r) - uba_predict(h, o.f[2:13]))) < 1e-9 AS ridge_onehot_matches,
       uba_model_info(l)->'encoding' AS encoding
  FROM (SELECT uba_linreg_train(tenure::float8, t, '{"standardize": false}'::jsonb) AS l
          FROM ty_rows, LATERAL (SELECT charges, plan, payment, paperless, calls) t) m1,
       (SELECT uba_linreg_train((row).tenure::float8, f[2:13], '{"standardize": false}'::jsonb) AS h FROM ty_onehot) m2,
       ty_onehot o JOIN ty_rows r ON r.id = (o.row).id
 GROUP BY l;
-- least squares (l2 0) cannot tell every level of a category from the intercept
SELECT uba_linreg_train(tenure::float8, t, '{"l2": 0}'::jsonb) FROM ty_rows, LATERAL (SELECT charges, plan) t;
SELECT uba_linreg_train(tenure::float8, t, '{"l2": 0}'::jsonb) IS NOT NULL AS numbers_only_fine FROM ty_rows, LATERAL (SELECT charges, calls) t;

-- rows of float8 columns only are read straight from the row (no NULL, Infinity or NaN in it); a
-- domain over float8 takes the general path: the same numbers, the same models
CREATE DOMAIN ty_float AS float8;
SELECT (SELECT array_agg(coefficient ORDER BY feature) FROM uba_logreg_coefficients(a))
     = (SELECT array_agg(coefficient ORDER BY feature) FROM uba_logreg_coefficients(b)) AS logreg_alike,
       (SELECT array_agg(centroid ORDER BY cluster) FROM uba_kmeans_centroids(ka))
     = (SELECT array_agg(centroid ORDER BY cluster) FROM uba_kmeans_centroids(kb)) AS kmeans_alike,
       uba_model_info(a)->'training_rows' AS rows
  FROM (SELECT uba_logreg_train(churned, t) AS a, uba_kmeans(t, 3, '{"seed": 2}'::jsonb) AS ka
          FROM ty_rows, LATERAL (SELECT tenure::float8 AS tenure, charges::float8 AS charges, calls::float8 AS calls) t) x,
       (SELECT uba_logreg_train(churned, t) AS b, uba_kmeans(t, 3, '{"seed": 2}'::jsonb) AS kb
          FROM ty_rows, LATERAL (SELECT tenure::float8 AS tenure, charges::ty_float AS charges, calls::float8 AS calls) t) y;

-- whole table rows stored before a column was added hold fewer columns than their type: read
-- the general way, with the added column's default (the same model as the rows copied anew)
CREATE TABLE ty_old AS SELECT sin(g)::float8 AS a, cos(g * 0.3)::float8 AS b FROM generate_series(1, 2000) g;
ALTER TABLE ty_old ADD COLUMN c float8 DEFAULT 5;
UPDATE ty_old SET c = 7 WHERE a > 0.9;
CREATE TABLE ty_new AS SELECT * FROM ty_old;
SELECT (SELECT array_agg(centroid ORDER BY cluster) FROM uba_kmeans_centroids(x.m))
     = (SELECT array_agg(centroid ORDER BY cluster) FROM uba_kmeans_centroids(y.m)) AS added_column_read
  FROM (SELECT uba_kmeans(t, 3, '{"seed": 1}'::jsonb) AS m FROM ty_old t) x,
       (SELECT uba_kmeans(t, 3, '{"seed": 1}'::jsonb) AS m FROM ty_new t) y;

-- the label given as a feature too (a whole table row with its label) is pointed out
SELECT uba_logreg_train(r.churned, t) IS NOT NULL AS trained
  FROM ty_rows r, LATERAL (SELECT r.tenure, r.churned) t;

-- min_level_count: levels seen fewer times fold into the other level ('rare' is 750 of 3000 rows)
SELECT uba_model_info(m)->'columns'->0->'levels' AS kept, uba_model_info(m)->'columns'->0->'other_level' AS other
  FROM (SELECT uba_logreg_train(churned, t, '{"min_level_count": 1000}'::jsonb) AS m
          FROM ty_rows, LATERAL (SELECT CASE WHEN id % 4 = 0 THEN 'rare' ELSE 'common' END AS kind, tenure) t) q;
-- a column named like another column's level would give two features one name
SELECT uba_logreg_train(churned, t) FROM ty_rows, LATERAL (SELECT plan, 1 AS "plan=yearly") t;
