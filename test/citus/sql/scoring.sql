-- Scoring where the data is: a model read once on the coordinator, (SELECT uba_model('name')),
-- becomes a Citus subplan whose result every task reads once (EXPLAIN: Distributed Subplan, and an
-- InitPlan on read_intermediate_result in the task); the workers score their own rows, and the
-- catalog, which lives on the coordinator, is never read on a worker.
CREATE FUNCTION model_shipped_once(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	line text;
	subplan boolean := false;
	initplan boolean := false;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
		subplan := subplan OR position('Distributed Subplan' IN line) > 0;
		initplan := initplan OR (position('InitPlan' IN line) > 0);
	END LOOP;
	RETURN CASE WHEN subplan AND initplan THEN 'model read once on the coordinator, once per task on the workers'
	            ELSE 'not shipped once' END;
END $$;

CREATE TABLE cu_local AS
SELECT g AS id, (g % 36)::float8 AS tenure, ((g * 37) % 500)::float8 AS spend,
       (ARRAY['monthly', 'yearly', 'two-year'])[1 + g % 3] AS plan, (g % 36) < 6 OR g % 7 = 0 AS churned
  FROM generate_series(1, 5000) g;
CREATE TABLE cu_dist (LIKE cu_local);
SELECT create_distributed_table('cu_dist', 'id');
INSERT INTO cu_dist SELECT * FROM cu_local;
-- models trained on the coordinator from the distributed table, saved in its catalog
SELECT uba_model_save('churn_arrays', uba_logreg_train(churned, ARRAY[tenure, spend])) FROM cu_dist;
-- a row over a distributed table reaches the coordinator as an anonymous record (no column
-- names: refused with a hint); a named composite type keeps them
SELECT expect_error($$SELECT uba_boost_train(churned, t) FROM cu_dist c, LATERAL (SELECT c.tenure, c.spend, c.plan) t$$);
CREATE TYPE churn_row AS (tenure float8, spend float8, plan text);
SELECT uba_model_save('churn_rows', uba_boost_train(churned, (tenure, spend, plan)::churn_row,
                                                    '{"n_estimators": 20, "max_depth": 3}'::jsonb))
  FROM cu_dist;
SELECT uba_model_save('segments', uba_kmeans(ARRAY[tenure, spend], 3, '{"seed": 1, "standardize": true}')) FROM cu_dist;

SELECT model_shipped_once($$SELECT id, uba_predict((SELECT uba_model('churn_arrays')), ARRAY[tenure, spend]) FROM cu_dist$$) AS predict;
-- every customer's score on the workers equals the local score
CREATE FUNCTION scores(tab text) RETURNS TABLE (id int, p_arrays float8, p_rows float8, segment int) LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format($q$
	SELECT c.id, uba_predict((SELECT uba_model('churn_arrays')), ARRAY[c.tenure, c.spend]),
	       uba_predict((SELECT uba_model('churn_rows')), t),
	       uba_kmeans_assign((SELECT uba_model('segments')), ARRAY[c.tenure, c.spend])
	  FROM %I c, LATERAL (SELECT c.tenure, c.spend, c.plan) t$q$, tab);
END $$;
SELECT count(*) AS customers, count(*) FILTER (WHERE (l.*) IS DISTINCT FROM (d.*)) AS different
  FROM scores('cu_local') l FULL JOIN scores('cu_dist') d USING (id);

-- recommendations: the model passed as a value works on the workers
CREATE TABLE ev_local AS SELECT u AS user_id, (u * 7 + k) % 50 AS item_id FROM generate_series(1, 300) u, generate_series(1, 8) k;
CREATE TABLE ev_dist (LIKE ev_local);
SELECT create_distributed_table('ev_dist', 'user_id');
INSERT INTO ev_dist SELECT * FROM ev_local;
SELECT uba_model_save('recommender', uba_cf_train(user_id, item_id, 1.0, '{"factors": 4, "seed": 1}')) FROM ev_dist;
SELECT count(*) AS recommendations,
       count(*) FILTER (WHERE l.item_id IS DISTINCT FROM d.item_id OR abs(l.score - d.score) > 1e-12) AS different
  FROM (SELECT u.user_id, r.* FROM (SELECT DISTINCT user_id FROM ev_local) u,
               LATERAL uba_cf_recommend((SELECT uba_model('recommender')), u.user_id, 3) WITH ORDINALITY r) l
  FULL JOIN (SELECT u.user_id, r.* FROM (SELECT DISTINCT user_id FROM ev_dist) u,
               LATERAL uba_cf_recommend((SELECT uba_model('recommender')), u.user_id, 3) WITH ORDINALITY r) d
  USING (user_id, ordinality);
-- uba_recommend finds its model in the catalog, which a worker has not: on a distributed table it
-- is refused there (doc/scale-out.md: pass the model as above)
SELECT expect_error($$SELECT count(*) FROM (SELECT DISTINCT user_id FROM ev_dist) u, LATERAL uba_recommend(u.user_id, 3) r$$) ~ 'does not exist' AS recommend_needs_the_catalog;

DROP FUNCTION scores(text);
DROP FUNCTION model_shipped_once(text);
DROP TABLE cu_local, cu_dist, ev_local, ev_dist;
DROP TYPE churn_row;
SELECT uba_model_drop(name) FROM (VALUES ('churn_arrays'), ('churn_rows'), ('segments'), ('recommender')) v(name);
