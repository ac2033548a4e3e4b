-- Operations: training recipes and provenance (uba_model_train, uba_model_retrain), version
-- retention (uba.keep_versions), the privilege model with two roles, and functions that a hostile
-- object in public cannot subvert.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(60);

CREATE TABLE ops_points AS
SELECT g AS id, ARRAY[(g % 7)::float8, (g % 5)::float8 * 2] AS f, g % 3 = 0 AS label
  FROM generate_series(1, 200) g;

-- ---------- train and retrain ----------
SELECT is(uba_model_train('ops_seg', 'SELECT uba_kmeans(f, 3, ''{"seed": 1}'') FROM ops_points'), 1,
	'uba_model_train saves version 1');
SELECT results_eq($$SELECT kind, active, training_rows, training_query, created_by::text, training_started >= now() AND training_duration >= '0'
                     FROM uba_models WHERE name = 'ops_seg'$$,
	$$VALUES ('kmeans', true, 200::bigint, 'SELECT uba_kmeans(f, 3, ''{"seed": 1}'') FROM ops_points', current_user::text, true)$$,
	'the version records what produced it: query, rows seen, who, when and how long');
INSERT INTO ops_points SELECT g, ARRAY[(g % 7)::float8, (g % 5)::float8 * 2], g % 3 = 0 FROM generate_series(201, 260) g;
SELECT is(uba_model_retrain('ops_seg'), 2, 'uba_model_retrain runs the stored query again: version 2');
SELECT is((SELECT training_rows FROM uba_models WHERE name = 'ops_seg' AND version = 2), 260::bigint,
	'the retrained version saw the new rows');
SELECT is((SELECT array_agg(version) FROM uba_models WHERE name = 'ops_seg' AND active), ARRAY[2],
	'the retrained version is active');
-- retraining uses the search_path the model was trained with
CREATE SCHEMA ops_other;
CREATE TABLE ops_other.ops_points AS SELECT * FROM ops_points LIMIT 50;
SET LOCAL search_path = ops_other, public;
SELECT is(uba_model_train('ops_path', 'SELECT uba_kmeans(f, 2) FROM ops_points'), 1, 'trained on ops_other.ops_points');
RESET search_path;
SELECT is(uba_model_retrain('ops_path'), 2, 'retrained with another search_path in effect');
SELECT is((SELECT training_rows FROM uba_models WHERE name = 'ops_path' AND version = 2), 50::bigint,
	'...on the same table as before (the stored search_path)');
SELECT is(current_setting('search_path'), '"$user", public', 'the caller''s search_path is put back');
-- activate false: a candidate to check before it serves
SELECT is(uba_model_train('ops_seg', 'SELECT uba_kmeans(f, 4) FROM ops_points', '{"activate": false, "metrics": {"note": "candidate"}}'), 3,
	'a candidate version');
SELECT results_eq($$SELECT version, active, metrics FROM uba_models WHERE name = 'ops_seg' ORDER BY version$$,
	$$VALUES (1, false, NULL::jsonb), (2, true, NULL), (3, false, '{"note": "candidate"}'::jsonb)$$,
	'the candidate is saved, not active, with its metrics');
-- retraining keeps the options, except the metrics (they belong to the version they came with);
-- the first version of a name is active whatever the option says
SELECT uba_model_train('ops_cand', 'SELECT uba_kmeans(f, 2) FROM ops_points', '{"activate": false, "metrics": {"auc": 0.9}}');
SELECT is(uba_model_retrain('ops_cand'), 2, 'a candidate retrained');
SELECT results_eq($$SELECT version, active, metrics FROM uba_models WHERE name = 'ops_cand' ORDER BY version$$,
	$$VALUES (1, true, '{"auc": 0.9}'::jsonb), (2, false, NULL)$$,
	'a retrained candidate stays a candidate, without the metrics of the version before it');
-- errors
SELECT throws_ok($$SELECT uba_model_train('ops_x', 'SELECT uba_kmeans(f, 3) FROM ops_points WHERE false')$$,
	'22004', 'the training query of model "ops_x" returned NULL', 'a query that sees no rows');
SELECT throws_ok($$SELECT uba_model_train('ops_x', 'SELECT m FROM (VALUES (''\x00''::bytea), (''\x01'')) v(m)')$$,
	'21000', 'the training query of model "ops_x" returned more than one row', 'more than one row');
SELECT throws_ok($$SELECT uba_model_train('ops_x', 'SELECT NULL::bytea WHERE false')$$,
	'21000', 'the training query of model "ops_x" returned no row', 'no row');
SELECT throws_ok($$SELECT uba_model_train('ops_x', 'SELECT ''\x00''::bytea')$$,
	'22P03', 'value is not a uba model', 'a value that is not a model');
SELECT throws_ok($$SELECT uba_model_train('ops_x', 'SELECT 1', '{"activte": true}')$$,
	'22023', 'unknown option "activte" for uba_model_train', 'a misspelled option');
SELECT throws_ok($$SELECT uba_model_train('ops_x', 'SELECT uba_kmeans(f, 2) FROM ops_points', '{"metrics": 0.93}')$$,
	'22023', 'metrics must be a JSON object', 'metrics that are not a JSON object (after training: nothing saved)');
SELECT throws_ok($$SELECT uba_model_train('ops_x', 'SELECT uba_kmeans(f, 2) FROM ops_points', NULL)$$,
	'22023', 'options of uba_model_train must be a JSON object', 'NULL options');
-- any query a user can run: a trailing comment or semicolon; errors point at the user's own text
SELECT is(uba_model_train('ops_comment', 'SELECT uba_kmeans(f, 2) FROM ops_points -- nightly'), 1,
	'a training query may end in a comment');
SELECT is(uba_model_train('ops_semicolon', E'SELECT uba_kmeans(f, 2) FROM ops_points; -- nightly\n'), 1,
	'...or in a semicolon and a comment');
SELECT is(uba_model_retrain('ops_comment'), 2, '...and retrains');
SELECT throws_ok($$SELECT uba_model_train('ops_x', 'SELECT uba_kmeans(f, 2) FROM ops_no_such_table')$$, '42P01',
	'relation "ops_no_such_table" does not exist', 'a mistake in the query is reported as PostgreSQL reports it');
SELECT throws_ok($$SELECT uba_model_train('ops_x', 'SELECT 1')$$, '42804',
	'the training query of model "ops_x" returns integer, not a model (bytea)', 'a query that returns no model says so');
CREATE TEMP TABLE ops_tmp AS SELECT * FROM ops_points;
SELECT throws_ok($$SELECT uba_model_train('ops_x', 'SELECT uba_kmeans(f, 2) FROM ops_tmp')$$, '0A000',
	'the training query of model "ops_x" reads temporary table "ops_tmp"',
	'a query over a temporary table is refused (retraining runs in another session)');
SELECT throws_ok($$SELECT uba_model_train('ops_x', 'SELECT uba_kmeans(f, 2) FROM ops_points WHERE id IN (SELECT id FROM ops_tmp)')$$,
	'0A000', NULL, '...also in a subquery');
SELECT throws_ok($$SELECT uba_model_retrain('ops_nothing')$$, '42704', 'model "ops_nothing" does not exist', 'retraining an unknown name');
SELECT uba_model_save('ops_saved', uba_model('ops_seg', 1));
SELECT throws_ok($$SELECT uba_model_retrain('ops_saved')$$, '55000', 'model "ops_saved" has no training query',
	'retraining a model saved without a query');
SELECT is((SELECT count(*) FROM uba_models WHERE name = 'ops_x'), 0::bigint, 'failed trainings saved nothing');

SELECT is(uba_model_train('ops_one', 'SELECT uba_kmeans(f, 2) FROM ops_points') * 10 + uba_model_retrain('ops_one'), 12,
	'a train and a retrain in one statement: the retrain sees what the train saved');

-- ---------- retention ----------
SET LOCAL uba.keep_versions = 2;
SELECT uba_model_activate('ops_seg', 1);
SELECT uba_model_train('ops_seg', 'SELECT uba_kmeans(f, 2) FROM ops_points', '{"activate": false}') FROM generate_series(1, 3);
SELECT results_eq($$SELECT version, active FROM uba_models WHERE name = 'ops_seg' ORDER BY version$$,
	$$VALUES (1, true), (5, false), (6, false)$$,
	'uba.keep_versions = 2 keeps the newest two and the active one (version 1)');
SELECT uba_model_activate('ops_seg', 6);
SELECT is((SELECT array_agg(version) FROM uba_models WHERE name = 'ops_seg' AND active), ARRAY[6], 'activation is instant');
RESET uba.keep_versions;

-- ---------- privileges: alice owns 'ops_churn', bob is another analyst ----------
CREATE ROLE ops_alice;
CREATE ROLE ops_bob;
GRANT SELECT ON ops_points TO ops_alice, ops_bob;
SET LOCAL ROLE ops_alice;
SELECT is(uba_model_train('ops_churn', 'SELECT uba_logreg_train(label, f) FROM ops_points'), 1, 'alice trains ops_churn');
SELECT is((SELECT owner::text FROM uba_models WHERE name = 'ops_churn'), 'ops_alice', 'alice owns it');
RESET ROLE;
SET LOCAL ROLE ops_bob;
SELECT throws_ok($$SELECT uba_model('ops_churn')$$, '42501', 'permission denied for model "ops_churn"', 'bob cannot read it');
SELECT is((SELECT count(*) FROM uba_models WHERE name = 'ops_churn'), 0::bigint, 'bob does not see its versions');
SELECT is((SELECT count(*) FROM uba_model_store WHERE name = 'ops_churn'), 0::bigint, '...not even in the table');
SELECT throws_ok($$SELECT uba_model_save('ops_churn', (SELECT uba_logreg_train(label, f) FROM ops_points))$$,
	'42501', 'permission denied for model "ops_churn"', 'bob cannot save a version');
SELECT throws_ok($$SELECT uba_model_retrain('ops_churn')$$, '42501', 'permission denied for model "ops_churn"', 'bob cannot retrain');
SELECT throws_ok($$SELECT uba_model_activate('ops_churn', 1)$$, '42501', 'permission denied for model "ops_churn"', 'bob cannot activate');
SELECT throws_ok($$SELECT uba_model_drop('ops_churn')$$, '42501', 'permission denied for model "ops_churn"', 'bob cannot drop');
SELECT throws_ok($$UPDATE uba_model_names SET owner = 'ops_bob' WHERE name = 'ops_churn'$$, '42501', NULL,
	'bob cannot UPDATE the names table');
SELECT throws_ok($$DELETE FROM uba_model_store WHERE name = 'ops_churn'$$, '42501', NULL,
	'...nor DELETE from the versions table');
RESET ROLE;
SELECT is((SELECT owner::text FROM uba_model_names WHERE name = 'ops_churn'), 'ops_alice',
	'bob''s UPDATE of the owner in the table changed nothing');
SELECT is((SELECT count(*) FROM uba_model_store WHERE name = 'ops_churn'), 1::bigint,
	'bob''s DELETE on the table removed nothing');
SET LOCAL ROLE ops_alice;
SELECT uba_model_grant_read('ops_churn', 'ops_bob');
RESET ROLE;
SET LOCAL ROLE ops_bob;
SELECT ok(uba_logreg_predict(uba_model('ops_churn'), ARRAY[1, 2]) BETWEEN 0 AND 1, 'granted read, bob scores with it');
SELECT throws_ok($$SELECT uba_model_activate('ops_churn', 1)$$, '42501', 'permission denied for model "ops_churn"', 'but still cannot change it');
RESET ROLE;
GRANT ops_alice TO ops_bob;
SET LOCAL ROLE ops_bob;
SELECT is(uba_model_retrain('ops_churn'), 2, 'a member of the owner role may retrain');
RESET ROLE;
SET LOCAL ROLE ops_alice;
SELECT uba_model_revoke_read('ops_churn', 'ops_bob');
RESET ROLE;
REVOKE ops_alice FROM ops_bob;
SET LOCAL ROLE ops_bob;
SELECT throws_ok($$SELECT uba_model('ops_churn')$$, '42501', 'permission denied for model "ops_churn"', 'read revoked');
SELECT is(uba_model_train('ops_bobs', 'SELECT uba_kmeans(f, 2) FROM ops_points'), 1, 'bob creates a name of his own');
SELECT throws_ok($$SELECT uba_model_set_owner('ops_bobs', 'ops_alice')$$, '42501',
	'permission denied to give model "ops_bobs" to role "ops_alice"', 'bob cannot give his name to a role he is not in');
SELECT throws_ok($$SELECT uba_model_set_owner('ops_bobs', 'ops_nobody')$$, '42704', 'role "ops_nobody" does not exist',
	'nor to a role that does not exist');
SELECT throws_ok($$SELECT uba_model_grant_read('ops_bobs', 'ops_nobody')$$, '42704', 'role "ops_nobody" does not exist',
	'read cannot be granted to a role that does not exist');
SELECT uba_model_grant_read('ops_bobs', 'public');
RESET ROLE;
CREATE ROLE ops_team;
GRANT ops_team TO ops_bob;
SET LOCAL ROLE ops_bob;
SELECT uba_model_set_owner('ops_bobs', 'ops_team');
RESET ROLE;
SET LOCAL ROLE ops_alice;
SELECT is((SELECT owner::text || ' ' || array_to_string(readers, ',') || ' ' || (uba_model('ops_bobs') IS NOT NULL)::text
             FROM uba_models WHERE name = 'ops_bobs'), 'ops_team public true',
	'bob handed his name to his team and let everyone read it: alice reads it');
RESET ROLE;

-- ---------- dashboard patterns: a scoring view read by a BI role, a materialized view ----------
CREATE ROLE ops_dashboards;
CREATE VIEW ops_churn_scores AS
SELECT p.id, uba_logreg_predict((SELECT uba_model('ops_churn')), p.f) AS probability,
       CASE WHEN uba_logreg_predict((SELECT uba_model('ops_churn')), p.f) >= 0.5 THEN 'high' ELSE 'low' END AS risk_band,
       (SELECT string_agg(e.feature::text, ',' ORDER BY abs(e.contribution) DESC)
          FROM uba_logreg_explain((SELECT uba_model('ops_churn')), p.f, 1) e WHERE e.feature > 0) AS top_reason
  FROM ops_points p;
GRANT SELECT ON ops_churn_scores TO ops_dashboards;
SET LOCAL ROLE ops_dashboards;
SELECT throws_ok($$SELECT count(probability) FROM ops_churn_scores$$, '42501', 'permission denied for model "ops_churn"',
	'a BI role reading the scoring view needs read on the model');
RESET ROLE;
SELECT uba_model_grant_read('ops_churn', 'ops_dashboards');
SET LOCAL ROLE ops_dashboards;
SELECT is((SELECT count(*) FROM ops_churn_scores WHERE probability BETWEEN 0 AND 1 AND risk_band IN ('high', 'low') AND top_reason IS NOT NULL),
	260::bigint, 'granted read, it sees every row scored, banded and explained');
RESET ROLE;
CREATE MATERIALIZED VIEW ops_recs AS
SELECT u AS user_id, r.rank::int, r.item_id
  FROM generate_series(0, 19) u, LATERAL uba_recommend(u, 3, 'ops_cf_mv') WITH ORDINALITY AS r(item_id, score, source, rank)
  WITH NO DATA;
SELECT uba_model_train('ops_cf_mv', 'SELECT uba_cf_train(id % 20, (id * 7) % 50, 1.0, ''{"factors": 4, "seed": 1}'') FROM ops_points');
REFRESH MATERIALIZED VIEW ops_recs;
CREATE UNIQUE INDEX ON ops_recs (user_id, rank);
UPDATE uba_model_names SET training_query = replace(training_query, '"seed": 1', '"seed": 2') WHERE name = 'ops_cf_mv';
SELECT uba_model_retrain('ops_cf_mv');
REFRESH MATERIALIZED VIEW CONCURRENTLY ops_recs;
SELECT is((SELECT count(*) FROM ops_recs r
            JOIN LATERAL uba_cf_recommend(uba_model('ops_cf_mv', 2), r.user_id, 3) WITH ORDINALITY AS x(item_id, score, source, rank)
              ON x.rank = r.rank AND x.item_id = r.item_id), 60::bigint,
	'after a retrain, REFRESH MATERIALIZED VIEW CONCURRENTLY holds the new version''s recommendations');

-- ---------- a hostile object in public changes nothing ----------
CREATE TABLE ops_calls (what text);
GRANT INSERT ON ops_calls TO PUBLIC;
CREATE FUNCTION public.current_setting(text, boolean) RETURNS text LANGUAGE sql AS $$ INSERT INTO ops_calls VALUES ('current_setting') RETURNING 'ops_seg' $$;
CREATE FUNCTION public.hostile_eq(text, text) RETURNS boolean LANGUAGE sql AS $$ INSERT INTO ops_calls VALUES ('=') RETURNING true $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.hostile_eq);
CREATE FUNCTION public.pg_has_role(name, oid, text) RETURNS boolean LANGUAGE sql AS $$ INSERT INTO ops_calls VALUES ('pg_has_role') RETURNING true $$;
SET LOCAL search_path = public, pg_catalog;
SELECT uba_model_save('ops_seg', uba_model('ops_seg', 6));
SELECT uba_model_activate('ops_seg', 6);
SELECT uba_model_retrain('ops_seg');
SELECT uba_model_train('ops_cf', 'SELECT uba_cf_train(id % 20, (id * 7) % 50, 1.0, ''{"factors": 4}'') FROM ops_points');
SELECT count(*) FROM uba_recommend(3, 5, 'ops_cf');
SELECT count(*) FROM uba_models;
SET LOCAL ROLE ops_bob;
SELECT count(*) FROM uba_models;
RESET ROLE;
RESET search_path;
SELECT is((SELECT count(*) FROM ops_calls), 0::bigint, 'no hostile function or operator in public was called by uba');
SELECT is((SELECT count(*) FROM uba_recommend(3, 5, 'ops_cf')), 5::bigint, 'uba_recommend answers');

SELECT * FROM finish();
ROLLBACK;
