-- An unprivileged role tries to read, overwrite and drop models it does not own, to smuggle SQL
-- through model names, and to get a superuser's retraining job to run its query with the
-- superuser's rights.  None of it may work.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(30);

CREATE ROLE sec_owner;
CREATE ROLE sec_mallory;
CREATE TABLE sec_private AS SELECT g, ARRAY[(g % 7)::float8, (g % 3)::float8] AS f FROM generate_series(1, 50) g;
CREATE TABLE sec_open AS SELECT * FROM sec_private;
GRANT SELECT ON sec_private TO sec_owner;
GRANT SELECT ON sec_open TO sec_owner, sec_mallory;
CREATE SCHEMA sec_m AUTHORIZATION sec_mallory;
SET LOCAL ROLE sec_owner;
SELECT uba_model_train('sec_secret', 'SELECT uba_kmeans(f, 2, ''{"seed": 1}'') FROM sec_private');
SELECT uba_model_save('sec_recs', uba_cf_train(g % 10, g % 7, 1.0, '{"factors": 4}')) FROM sec_private;
RESET ROLE;
CREATE TABLE sec_before AS SELECT name, version, md5(model) AS digest FROM uba_model_store WHERE name LIKE 'sec_%';

SET LOCAL ROLE sec_mallory;
-- reading
SELECT throws_ok($$SELECT uba_model('sec_secret')$$, '42501', 'permission denied for model "sec_secret"', 'mallory cannot read a model');
SELECT is((SELECT count(*) FROM uba_model_store WHERE name LIKE 'sec_%'), 0::bigint, '...nor its rows in the table');
SELECT is((SELECT count(*) FROM uba_models WHERE name LIKE 'sec_%'), 0::bigint, '...nor its versions in uba_models');
SELECT throws_ok($$SELECT * FROM uba_recommend(1, 5, 'sec_recs')$$, '42501', 'permission denied for model "sec_recs"',
	'...nor recommend with it');
SELECT throws_ok($$SELECT uba_model('sec_secret', 1)$$, '42501', 'permission denied for model "sec_secret"', '...nor a given version');
-- overwriting
SELECT throws_ok($$SELECT uba_model_save('sec_secret', uba_kmeans(f, 3)) FROM sec_open$$, '42501',
	'permission denied for model "sec_secret"', 'mallory cannot save a version of it');
SELECT throws_ok($$SELECT uba_model_train('sec_secret', 'SELECT uba_kmeans(f, 3) FROM sec_open')$$, '42501',
	'permission denied for model "sec_secret"', '...nor train one');
SELECT throws_ok($$INSERT INTO uba_model_store (name, version, kind, model, active, training_rows)
                   SELECT 'sec_secret', 99, 'kmeans', uba_kmeans(f, 3), true, 50 FROM sec_open$$, '42501', NULL,
	'...nor insert one into the table');
SELECT throws_ok($$INSERT INTO uba_model_names (name, last_version, owner) VALUES ('sec_planted', 1, 'sec_owner')$$, '42501', NULL,
	'...nor create a name in someone else''s name');
SELECT throws_ok($$UPDATE uba_model_store SET model = '\x00' WHERE name = 'sec_secret'$$, '42501', NULL, '...nor update the table');
SELECT throws_ok($$UPDATE uba_model_names SET owner = 'sec_mallory' WHERE name = 'sec_secret'$$, '42501', NULL,
	'...nor make herself its owner in the names table');
SELECT throws_ok($$SELECT uba_model_activate('sec_secret', 1)$$, '42501', 'permission denied for model "sec_secret"', '...nor activate');
SELECT throws_ok($$SELECT uba_model_grant_read('sec_secret', 'sec_mallory')$$, '42501', 'permission denied for model "sec_secret"',
	'...nor grant herself read');
SELECT throws_ok($$SELECT uba_model_set_owner('sec_secret', 'sec_mallory')$$, '42501', 'permission denied for model "sec_secret"',
	'...nor take it over');
-- dropping
SELECT throws_ok($$SELECT uba_model_drop('sec_secret')$$, '42501', 'permission denied for model "sec_secret"', 'mallory cannot drop it');
SELECT throws_ok($$SELECT uba_model_drop('sec_secret', 1)$$, '42501', 'permission denied for model "sec_secret"', '...nor one version');
SELECT throws_ok($$DELETE FROM uba_model_store WHERE name LIKE 'sec_%'$$, '42501', NULL, '...nor delete its rows');
SELECT throws_ok($$DELETE FROM uba_model_names WHERE name LIKE 'sec_%'$$, '42501', NULL, '...nor its name');
RESET ROLE;
SELECT set_eq($$SELECT name, version, md5(model) FROM uba_model_store WHERE name LIKE 'sec_%'$$, $$SELECT * FROM sec_before$$,
	'after every attempt, the owner''s models are unchanged');
SELECT is((SELECT owner::text || ' ' || array_to_string(readers, ',') FROM uba_model_names WHERE name = 'sec_secret'), 'sec_owner ',
	'...with the same owner and no readers');

-- SQL in model names is only ever a value
SET LOCAL ROLE sec_mallory;
SELECT is(uba_model_train($n$x'); DROP TABLE sec_open; --$n$, 'SELECT uba_kmeans(f, 2) FROM sec_open'), 1,
	'a name with quotes and a statement in it is just a name');
SELECT is(uba_model_save($n$%s%n%L"; DROP TABLE sec_open; --$n$, uba_kmeans(f, 2)), 1, '...and so is one with format directives')
  FROM sec_open;
SELECT throws_ok($$SELECT uba_model_activate($n$%s%n' OR true; --$n$, 1)$$, '42704', NULL, 'an unknown odd name is just unknown');
RESET ROLE;
SELECT is((SELECT count(*) FROM sec_open), 50::bigint, 'sec_open is still there');
SELECT is((SELECT count(*) FROM uba_models WHERE name IN ($n$x'); DROP TABLE sec_open; --$n$, $n$%s%n%L"; DROP TABLE sec_open; --$n$)), 2::bigint,
	'both names are stored as written');

-- a training query runs with its owner's rights, even when a superuser retrains it
SET LOCAL ROLE sec_mallory;
SELECT throws_ok($$SELECT uba_model_train('sec_steal', 'SELECT uba_kmeans(f, 2) FROM sec_private')$$, '42501', NULL,
	'mallory''s training query cannot read a table she may not read');
CREATE FUNCTION sec_m.escalate() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE 'ALTER ROLE sec_mallory SUPERUSER';
	RETURN true;
EXCEPTION WHEN insufficient_privilege THEN
	RETURN true;
END
$$;
SELECT is(uba_model_train('sec_trojan', 'SELECT uba_kmeans(f, 2) FROM sec_open WHERE sec_m.escalate()'), 1,
	'mallory saves a model whose query tries to make her a superuser (it cannot, as her)');
RESET ROLE;
SELECT is(uba_model_retrain('sec_trojan'), 2, 'a superuser''s nightly job retrains it');
SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = 'sec_mallory'), false,
	'the query ran as its owner: mallory is still not a superuser');
SELECT is(current_user::text, session_user::text, 'the job''s own role is back afterwards');

SELECT * FROM finish();
ROLLBACK;
