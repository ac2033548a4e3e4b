-- Isolation forests: anomaly scores on the trees' shared format and evaluator
SET extra_float_digits = 0;

-- ordinary sessions in a cloud, and ten odd ones far from it
CREATE TABLE if_rows AS
SELECT g AS id, g > 2000 AS odd,
       CASE WHEN g > 2000 THEN ARRAY[40 + g % 7, 300 + (g % 5) * 20, (g % 3)::float8]
            ELSE ARRAY[5 + sin(g) * 3, 60 + cos(g * 1.3) * 25, (g % 4)::float8] END AS f
  FROM generate_series(1, 2010) g;
CREATE TABLE if_model AS
SELECT uba_isolation_forest(f, '{"n_estimators": 200, "seed": 3}'::jsonb) AS m,
       uba_isolation_forest(f, '{"n_estimators": 200, "seed": 3, "contamination": 0.01}'::jsonb) AS c
  FROM if_rows;
SELECT uba_model_kind(m) AS kind, uba_model_info(m)->'method' AS method, uba_model_info(m)->'trees' AS trees,
       uba_model_info(m)->'max_samples' AS max_samples, uba_model_info(m)->'contamination' AS contamination,
       uba_model_info(m)->'threshold' AS threshold, (uba_model_info(m)->>'depth')::int <= 8 AS depth_within_log2_256
  FROM if_model;

-- the odd rows score highest: the ten top scores are theirs, each above 0.6
SELECT count(*) FILTER (WHERE odd) AS odd_in_top_10, bool_and(score > 0.6) AS above_06
  FROM (SELECT odd, uba_anomaly_score(m, f) AS score FROM if_model, if_rows ORDER BY score DESC, id LIMIT 10) t;
-- "auto": the threshold is 0.5, as scikit-learn's offset -0.5
SELECT bool_and(uba_is_anomaly(m, f) = (uba_anomaly_score(m, f) > 0.5)) AS auto_threshold_is_half
  FROM if_model, if_rows;
-- with a contamination, the threshold is the training scores' quantile: about that share is flagged
SELECT count(*) FILTER (WHERE uba_is_anomaly(c, f)) AS flagged, round(count(*) * 0.01) AS expected
  FROM if_model, if_rows;

-- the score is 2^(-mean path length / c(256)), from the same evaluator as uba_predict
SELECT bool_and(abs(uba_anomaly_score(m, f) - uba_predict(m, f)) < 1e-12) AS predict_is_score
  FROM if_model, if_rows;
-- reproducible, and the same for rows in any order
SELECT uba_boost_export(m)::text = (SELECT uba_boost_export(uba_isolation_forest(f, '{"n_estimators": 200, "seed": 3}'::jsonb))::text
                                      FROM (SELECT * FROM if_rows ORDER BY id DESC) o) AS same_model
  FROM if_model;

-- typed rows: a category splits by random subsets of its levels; NULL goes the larger side
CREATE TABLE if_typed AS
SELECT id, (f)[1] AS visits, (f)[2] AS seconds,
       CASE WHEN odd THEN 'kiosk' WHEN id % 11 = 0 THEN NULL ELSE (ARRAY['web', 'app', 'tablet'])[1 + id % 3] END AS device,
       odd
  FROM if_rows;
CREATE TABLE if_typed_model AS
SELECT uba_isolation_forest(t, '{"n_estimators": 200}'::jsonb) AS m FROM if_typed, LATERAL (SELECT visits, seconds, device) t;
SELECT uba_model_info(m)->'columns'->2->'levels' AS device_levels FROM if_typed_model;
SELECT odd, round(avg(uba_anomaly_score(m, r))::numeric, 1) AS mean_score
  FROM if_typed_model, if_typed r GROUP BY odd ORDER BY odd;

-- mistakes
SELECT expect_error($$SELECT uba_isolation_forest(f, '{"max_samples": 0}') FROM if_rows$$);
SELECT expect_error($$SELECT uba_isolation_forest(f, '{"contamination": 0.6}') FROM if_rows$$);
SELECT expect_error($$SELECT uba_isolation_forest(f, '{"trees": 3}') FROM if_rows$$);
SELECT expect_error($$SELECT uba_anomaly_score(uba_boost_train(odd, f, '{"n_estimators": 2}'), ARRAY[1, 2, 3]) FROM if_rows$$);
SELECT expect_error($$SELECT uba_anomaly_score(m, ARRAY[1, 2]) FROM if_model$$);
SELECT expect_error($$SELECT uba_predict_proba(m, ARRAY[1, 2, 3]) FROM if_model$$);
SELECT uba_isolation_forest(f) IS NULL AS no_rows FROM if_rows WHERE false;
-- damaged: the isolation parameters after the head (objective 3, no classes)
CREATE TABLE if_damaged AS SELECT m, 32 + get_u32(m, 12)::int AS p FROM if_model;
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, p + 76, 0))) FROM if_damaged$$);

DROP TABLE if_rows, if_model, if_typed, if_typed_model, if_damaged;
