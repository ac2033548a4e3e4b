-- The security review of 0.2.0 (issue 14), finding by finding: an ordinary role, f_mallory, with
-- CREATE on the schema uba is installed in (as databases upgraded from before PostgreSQL 15 still
-- grant on public), tries to become superuser, capture calls, squat names, peek and block.  Each
-- reproduction failed to stop her in 0.2.0; none may work now.  Honest use by several owners still
-- works.  (The pg_cron form of finding 1 is in test/ops_cron.sql: a job must see committed rows.)
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(74);

CREATE ROLE f_mallory;
CREATE ROLE f_alice;
CREATE ROLE f_carol;
CREATE ROLE f_team;
GRANT f_team TO f_alice, f_carol;
GRANT CREATE ON SCHEMA public TO PUBLIC;	-- as before PostgreSQL 15
CREATE SCHEMA f_m AUTHORIZATION f_mallory;
-- the superuser's private data, and data everyone may read
CREATE TABLE f_customers AS
SELECT g AS id, ARRAY[(g % 7)::float8, (g % 5)::float8] AS f, g % 3 = 0 AS y FROM generate_series(1, 120) g;
CREATE TABLE f_open AS SELECT * FROM f_customers;
GRANT SELECT ON f_open TO PUBLIC;
-- what mallory's code saw and did (her functions write here), and whether it is armed
CREATE TABLE f_log (what text, who text);
GRANT INSERT, SELECT ON f_log TO PUBLIC;
CREATE TABLE f_armed (armed boolean);
INSERT INTO f_armed VALUES (false);
GRANT SELECT, UPDATE ON f_armed TO f_mallory;

-- ---------- 1. retraining cannot climb back to the caller ----------
-- Armed, her function tries every way back to the session's role, then to make her a superuser.
-- (Unarmed while she trains it herself: this test's session is a superuser's under SET ROLE.)
SET LOCAL ROLE f_mallory;
CREATE FUNCTION f_m.escape() RETURNS int LANGUAGE plpgsql AS $f$
DECLARE
	stmt text;
BEGIN
	IF NOT (SELECT armed FROM public.f_armed) OR EXISTS (SELECT 1 FROM public.f_log WHERE what LIKE 'escape%') THEN
		RETURN 1;
	END IF;
	FOREACH stmt IN ARRAY ARRAY['RESET ROLE', format('SET ROLE %I', session_user), 'SET SESSION AUTHORIZATION DEFAULT',
	                            'CREATE TEMP TABLE f_tmp (x int)'] LOOP
		BEGIN
			EXECUTE stmt;
			INSERT INTO public.f_log VALUES ('escape ' || stmt || ': done', current_user);
		EXCEPTION WHEN OTHERS THEN
			INSERT INTO public.f_log VALUES ('escape ' || stmt || ': refused', current_user);
		END;
	END LOOP;
	BEGIN
		EXECUTE 'ALTER ROLE f_mallory SUPERUSER';
	EXCEPTION WHEN OTHERS THEN
		NULL;
	END;
	RETURN 1;
END
$f$;
CREATE FUNCTION f_m.fail() RETURNS int LANGUAGE plpgsql AS $f$
BEGIN
	IF (SELECT armed FROM public.f_armed) THEN
		RAISE EXCEPTION 'mallory''s query fails';
	END IF;
	RETURN 1;
END
$f$;
SET LOCAL search_path = f_m;
SELECT public.uba_model_train('f_trojan', 'SELECT public.uba_logreg_train(y, f) FROM public.f_open WHERE escape() = 1') AS trojan \gset
SELECT public.uba_model_train('f_failing', 'SELECT public.uba_logreg_train(y, f) FROM public.f_open WHERE fail() = 1');
UPDATE public.f_armed SET armed = true;
RESET search_path;
SELECT is(:trojan, 1, '1: mallory trains (in her own schema) a model whose query tries to escape when armed');
RESET ROLE;
SET LOCAL search_path = "$user", public, pg_temp;
SELECT is(uba_model_retrain('f_trojan'), 2, '1: a superuser retrains it (as a nightly job would)');
SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = 'f_mallory'), false, '1: mallory is not a superuser');
SELECT is((SELECT string_agg(what || ' as ' || who, '; ' ORDER BY what COLLATE "C") FROM f_log WHERE what LIKE 'escape%'),
	format('escape CREATE TEMP TABLE f_tmp (x int): refused as f_mallory; escape RESET ROLE: refused as f_mallory; '
	       'escape SET ROLE %I: refused as f_mallory; escape SET SESSION AUTHORIZATION DEFAULT: refused as f_mallory', session_user::text),
	'1: the query ran as mallory, and RESET ROLE, SET ROLE, SET SESSION AUTHORIZATION and temporary tables were refused');
SELECT is(current_user::text, session_user::text, '1: the caller''s role is back');
SELECT is(current_setting('search_path'), '"$user", public, pg_temp', '1: ...and its search_path');
SELECT throws_ok($$SELECT uba_model_retrain('f_failing')$$, 'P0001', 'mallory''s query fails', '1: a retrain whose query fails');
SELECT is(current_user::text || ' ' || current_setting('search_path'), session_user::text || ' "$user", public, pg_temp',
	'1: ...gives back the caller''s role and search_path too');
SELECT is((SELECT count(*) FROM uba_models WHERE name = 'f_failing'), 1::bigint, '1: ...and saves nothing');

-- ---------- 2. uba's internal calls are not captured by overloads in public ----------
SET LOCAL ROLE f_mallory;
CREATE FUNCTION public.f_capture(what text) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN
	INSERT INTO public.f_log VALUES ('captured ' || what, current_user);
	BEGIN
		EXECUTE 'ALTER ROLE f_mallory SUPERUSER';
	EXCEPTION WHEN OTHERS THEN
		NULL;
	END;
	RETURN true;
END
$f$;
CREATE FUNCTION public.uba_model_store_version(text, bytea, jsonb, boolean, text, text, text) RETURNS int
	LANGUAGE sql AS $$ SELECT 1 WHERE public.f_capture('uba_model_store_version') $$;
CREATE FUNCTION public.uba_model(text) RETURNS bytea LANGUAGE sql AS $$ SELECT NULL::bytea WHERE public.f_capture('uba_model') $$;
CREATE FUNCTION public.uba_cf_recommend(bytea, bigint, int) RETURNS TABLE (item_id bigint, score float8)
	LANGUAGE sql AS $$ SELECT 1::bigint, 1::float8 WHERE public.f_capture('uba_cf_recommend') $$;
-- ids are polymorphic since 0.3.0: overloads of the exact types a call would pass are preferred to
-- a polymorphic function, so uba_recommend calls no function by name with the caller's id types
CREATE FUNCTION public.uba_cf_recommend(bytea, bigint, int, jsonb, bigint) RETURNS TABLE (item_id bigint, score float8)
	LANGUAGE sql AS $$ SELECT 1::bigint, 1::float8 WHERE public.f_capture('uba_cf_recommend typed') $$;
CREATE FUNCTION public.uba_cf_recommend(bytea, bigint, int, jsonb, text) RETURNS TABLE (item_id text, score float8)
	LANGUAGE sql AS $$ SELECT '1'::text, 1::float8 WHERE public.f_capture('uba_cf_recommend text') $$;
CREATE FUNCTION public.uba_cf_recommend(bytea, bigint, int, jsonb) RETURNS TABLE (item_id bigint, score float8)
	LANGUAGE sql AS $$ SELECT 1::bigint, 1::float8 WHERE public.f_capture('uba_cf_recommend short') $$;
CREATE FUNCTION public.uba_model_may_change(name) RETURNS boolean LANGUAGE sql AS $$ SELECT public.f_capture('uba_model_may_change') $$;
CREATE FUNCTION public.uba_model_may_read(name, name[]) RETURNS boolean LANGUAGE sql AS $$ SELECT public.f_capture('uba_model_may_read') $$;
CREATE FUNCTION public.uba_model_info(text) RETURNS jsonb LANGUAGE sql AS $$ SELECT '{}'::jsonb WHERE public.f_capture('uba_model_info') $$;
-- (this one only notes that it ran: the test below shows an untyped call reaching it)
CREATE FUNCTION public.uba_kmeans(float8[], int, text) RETURNS bytea LANGUAGE sql
	AS $$ INSERT INTO public.f_log VALUES ('noted uba_kmeans', current_user) RETURNING NULL::bytea $$;
RESET ROLE;
SELECT is(uba_model_save('f_recs', uba_cf_train(id % 12, id % 9, 1.0, '{"factors": 4, "seed": 1}'::jsonb)), 1,
	'2: a superuser saves a model') FROM f_customers;
SELECT is((SELECT count(*) FROM uba_recommend(3::bigint, 4, 'f_recs')), 4::bigint, '2: uba_recommend answers');
SELECT is((SELECT count(*) FROM uba_recommend(3::bigint, 4, 'f_recs', NULL::text)), 4::bigint, '2: ...also with item_type');
SELECT throws_ok($$SELECT * FROM uba_recommend(3::bigint, 4, 'f_nothing')$$, '42704', 'model "f_nothing" does not exist',
	'2: ...and says what is missing (its call of uba_model is not made ambiguous)');
SELECT is(uba_model_drop('f_recs', 1), 1, '2: drops');
SELECT is((SELECT count(*) FROM uba_models WHERE name LIKE 'f_%'), 3::bigint, '2: reads the catalog view');
SELECT is((SELECT count(*) FROM f_log WHERE what LIKE 'captured%'), 0::bigint, '2: none of mallory''s overloads ran');
SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = 'f_mallory'), false, '2: mallory is not a superuser');

-- ---------- 3. a superuser's own queries: typed calls, and no retraining on an unsafe search_path ----------
SELECT is(uba_model_info(uba_kmeans(f, 3, '{"seed": 1}'::jsonb))->>'kind', 'kmeans',
	'3: the typed options of the documented call reach uba''s aggregate') FROM f_customers;
SELECT is((SELECT count(*) FROM f_log WHERE what LIKE 'captured%'), 0::bigint, '3: ...not mallory''s overload');
SELECT is((SELECT uba_kmeans(f, 3, '{"seed": 1}') IS NULL FROM f_customers LIMIT 1), true,
	'3: (an untyped literal would call her text overload: why every documented example is typed)');
SELECT is((SELECT count(*) FROM f_log WHERE what = 'noted uba_kmeans'), 1::bigint, '3: ...as it did here');
DELETE FROM f_log;
SELECT is(uba_model_train('f_su_seg', 'SELECT uba_kmeans(f, 2, ''{"seed": 1}''::jsonb) FROM f_customers'), 1,
	'3: a superuser trains with the default search_path, which holds public');
SELECT throws_ok($$SELECT uba_model_retrain('f_su_seg')$$, '42501',
	'cannot retrain model "f_su_seg": its search_path includes schema "public", where every role (PUBLIC) may create objects',
	'3: retraining refuses a search_path with a schema every role may create in');
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CREATE ON SCHEMA public TO f_mallory;
SELECT throws_ok($$SELECT uba_model_retrain('f_su_seg')$$, '42501',
	'cannot retrain model "f_su_seg": its search_path includes schema "public", where role "f_mallory" may create objects',
	'3: ...or one a role without the owner''s rights may create in');
REVOKE CREATE ON SCHEMA public FROM f_mallory;
SELECT throws_ok($$SELECT uba_model_retrain('f_su_seg')$$, '42501',
	'cannot retrain model "f_su_seg": its search_path includes schema "public", which holds function public.f_capture(text) of role "f_mallory"',
	'3: ...or one holding objects such a role created while it could');
SET LOCAL ROLE f_mallory;
DROP FUNCTION public.uba_model_store_version(text, bytea, jsonb, boolean, text, text, text), public.uba_model(text),
	public.uba_cf_recommend(bytea, bigint, int), public.uba_cf_recommend(bytea, bigint, int, jsonb, bigint),
	public.uba_cf_recommend(bytea, bigint, int, jsonb, text), public.uba_cf_recommend(bytea, bigint, int, jsonb),
	public.uba_model_may_change(name), public.uba_model_may_read(name, name[]),
	public.uba_model_info(text), public.uba_kmeans(float8[], int, text), public.f_capture(text);
RESET ROLE;
SELECT is(uba_model_retrain('f_su_seg'), 2, '3: with only its owner''s peers able to create there, it retrains');
SET LOCAL search_path = f_nowhere, public;
SELECT uba_model_train('f_su_seg2', 'SELECT uba_kmeans(f, 2, ''{"seed": 1}''::jsonb) FROM f_customers');
RESET search_path;
SELECT is(uba_model_retrain('f_su_seg2'), 2, '3: a missing schema is fine while only the database''s owner may create schemas');
DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO f_mallory', current_database()); END $$;
SELECT throws_ok($$SELECT uba_model_retrain('f_su_seg2')$$, '42501',
	'cannot retrain model "f_su_seg2": its search_path includes schema "f_nowhere", where role "f_mallory" may create objects',
	'3: ...not once mallory could create it');
DO $$ BEGIN EXECUTE format('REVOKE CREATE ON DATABASE %I FROM f_mallory', current_database()); END $$;
SELECT is(uba_model_retrain('f_trojan'), 3, '3: mallory''s model trained in her own schema retrains');

-- ---------- 4. names cannot be squatted ----------
SET LOCAL ROLE f_mallory;
SELECT throws_ok($$INSERT INTO uba_model_names (name, last_version, owner) VALUES ('f_recommender', 1, 'f_mallory')$$, '42501', NULL,
	'4: mallory cannot insert a name row');
SELECT is(uba_model_save('f_recommender', uba_kmeans(f, 2)), 1, '4: she saves a model under a name first') FROM f_open;
RESET ROLE;
SELECT throws_ok($$SELECT uba_model_train('f_recommender', 'SELECT uba_cf_train(id % 12, id % 9, 1.0) FROM f_customers')$$, '42501',
	'model name "f_recommender" belongs to role "f_mallory"', '4: a superuser''s training does not save into her name');
SELECT throws_ok($$SELECT uba_model_save('f_recommender', uba_cf_train(id % 12, id % 9, 1.0)) FROM f_customers$$, '42501',
	'model name "f_recommender" belongs to role "f_mallory"', '4: ...nor a save');
SET LOCAL ROLE f_mallory;
SELECT is((SELECT array_agg(kind) FROM uba_models WHERE name = 'f_recommender'), ARRAY['kmeans'], '4: she has only her own version');
RESET ROLE;
SELECT uba_model_set_owner('f_recommender', current_user);
SELECT is(uba_model_save('f_recommender', uba_cf_train(id % 12, id % 9, 1.0)), 2, '4: taken over explicitly, the name takes the save')
  FROM f_customers;
SET LOCAL ROLE f_mallory;
SELECT throws_ok($$SELECT uba_model('f_recommender')$$, '42501', 'permission denied for model "f_recommender"',
	'4: ...and mallory cannot read it');
RESET ROLE;
-- honest teams: a real member of the owner role saves into the team's name
SET LOCAL ROLE f_alice;
SELECT uba_model_save('f_team_seg', uba_kmeans(f, 2)) FROM f_open;
SELECT uba_model_set_owner('f_team_seg', 'f_team');
RESET ROLE;
SET LOCAL ROLE f_carol;
SELECT is(uba_model_save('f_team_seg', uba_kmeans(f, 3)), 2, '4: a member of the owning team saves its next version') FROM f_open;
RESET ROLE;

-- ---------- 5. the catalog's rows change only through uba ----------
SET LOCAL ROLE f_mallory;
SELECT uba_model_train('f_mine', 'SELECT uba_kmeans(f, 2) FROM f_open');
SELECT throws_ok($$DELETE FROM uba_model_names WHERE name = 'f_mine'$$, '42501', NULL, '5: not even her own name row can be deleted by hand');
SELECT throws_ok($$UPDATE uba_model_store SET created_by = 'f_alice' WHERE name = 'f_mine'$$, '42501', NULL, '5: ...nor created_by forged');
SELECT throws_ok($$TRUNCATE uba_model_store$$, '42501', NULL, '5: ...nor the versions truncated');
SELECT is((SELECT created_by::text FROM uba_models WHERE name = 'f_mine'), 'f_mallory', '5: uba records who saved it');
SELECT is(uba_model_drop('f_mine'), 1, '5: she drops her name through uba');
RESET ROLE;
SELECT fk_ok('uba_model_store', 'name', 'uba_model_names', 'name', '5: every version belongs to a name (foreign key)');
SET LOCAL ROLE f_alice;
SELECT is(uba_model_train('f_mine', 'SELECT uba_kmeans(f, 2) FROM f_open'), 1, '5: the name is free for another role: version 1');
SELECT is((SELECT count(*) FROM uba_models WHERE name = 'f_mine'), 1::bigint, '5: ...with no left-over version');
RESET ROLE;
SELECT is(uba_model_drop('f_team_seg'), 2, '5: dropping a name drops its versions');
SELECT is((SELECT count(*) FROM uba_model_store WHERE name = 'f_team_seg'), 0::bigint, '5: ...all of them');

-- ---------- 6. no peeking at other owners' metrics and queries ----------
SELECT uba_model_train('f_su_secret', 'SELECT uba_kmeans(f, 2) FROM f_customers WHERE id <> 4242',
	'{"metrics": {"secret": "s3cr3t"}}'::jsonb);
SET LOCAL ROLE f_mallory;
CREATE FUNCTION f_m.peek(v text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $f$
BEGIN
	INSERT INTO public.f_log VALUES ('peek ' || v, current_user);
	RETURN true;
END
$f$;
SELECT is((SELECT count(*) FROM uba_models WHERE f_m.peek(training_query || ' ' || coalesce(metrics::text, ''))),
	(SELECT count(*) FROM uba_models), '6: mallory reads uba_models through a cheap leaky function: her own versions come back');
SELECT is((SELECT count(*) FROM uba_model_store WHERE f_m.peek(coalesce(training_query, '') || ' ' || coalesce(metrics::text, ''))),
	(SELECT count(*) FROM uba_model_store), '6: ...and so through the versions table');
SELECT is((SELECT count(*) FROM f_log WHERE what LIKE 'peek%' AND (what LIKE '%4242%' OR what LIKE '%s3cr3t%')), 0::bigint,
	'6: the function never saw another owner''s query or metrics');
SELECT throws_ok($$SELECT training_query FROM uba_model_names$$, '42501', NULL, '6: the names table does not show training queries');
SELECT is((SELECT owner::text FROM uba_model_names WHERE name = 'f_su_secret'), session_user::text,
	'6: ...but names and owners stay visible');

-- ---------- 7. no blocking other roles ----------
SELECT throws_ok($$LOCK TABLE uba_model_store IN ACCESS EXCLUSIVE MODE$$, '42501', NULL, '7: mallory cannot lock the versions table');
SELECT throws_ok($$LOCK TABLE uba_model_names IN SHARE MODE$$, '42501', NULL, '7: ...nor the names table');
SELECT throws_ok($$SELECT 1 FROM uba_model_names WHERE name = 'f_su_secret' FOR KEY SHARE$$, '42501', NULL,
	'7: ...nor lock a name''s row');
SELECT throws_ok($$SELECT uba_model_lock('f_su_secret')$$, '42501', 'permission denied for model "f_su_secret"',
	'7: ...nor lock another owner''s name through uba');
RESET ROLE;

-- ---------- 8. the memory limit is a ceiling ----------
SET LOCAL ROLE f_mallory;
SELECT throws_ok($$SET uba.max_memory = '2000GB'$$, '42501', NULL, '8: mallory cannot raise uba.max_memory');
SET LOCAL uba.work_mem = '1MB';
SELECT throws_ok($$SELECT uba_kmeans(f, 2) FROM f_open, generate_series(1, 200)$$, '54000',
	'the training rows need more than uba.work_mem (1 MB)', '8: she may lower her own limit with uba.work_mem');
RESET ROLE;
SET LOCAL uba.max_memory = '1MB';
SET LOCAL ROLE f_mallory;
SET LOCAL uba.work_mem = '2000GB';
SELECT throws_ok($$SELECT uba_kmeans(f, 2) FROM f_open, generate_series(1, 200)$$, '54000',
	'the training rows need more than uba.max_memory (1 MB)', '8: uba.work_mem above the ceiling leaves the ceiling in force');
RESET ROLE;
RESET uba.max_memory;
RESET uba.work_mem;

-- ---------- 9. owners are roles, not names ----------
CREATE ROLE f_bob;
GRANT SELECT ON f_customers TO f_bob;
SET LOCAL ROLE f_bob;
SELECT uba_model_train('f_bobs', 'SELECT uba_kmeans(f, 2) FROM f_customers');
RESET ROLE;
REVOKE SELECT ON f_customers FROM f_bob;
DROP ROLE f_bob;
CREATE ROLE f_bob;
SET LOCAL ROLE f_bob;
SELECT throws_ok($$SELECT uba_model('f_bobs')$$, '42501', 'permission denied for model "f_bobs"',
	'9: a new role with a dropped owner''s name cannot read its models');
SELECT throws_ok($$SELECT uba_model_drop('f_bobs')$$, '42501', 'permission denied for model "f_bobs"', '9: ...nor drop them');
RESET ROLE;
SELECT isnt((SELECT owner::text FROM uba_models WHERE name = 'f_bobs'), 'f_bob', '9: the owner is the dropped role''s OID');
SELECT throws_ok($$SELECT uba_model_retrain('f_bobs')$$, '42704', 'cannot retrain model "f_bobs": its owner role no longer exists',
	'9: a model of a dropped owner is not retrained');
SELECT uba_model_set_owner('f_bobs', 'f_alice');
SET LOCAL ROLE f_alice;
SELECT isnt(uba_model('f_bobs'), NULL, '9: a superuser hands it on, and the new owner reads it');
RESET ROLE;
-- ---------- 10. training by passes: the caller's query, with the caller's rights ----------
-- (unarmed while she trains it herself, as in 1)
UPDATE f_armed SET armed = false;
SET LOCAL ROLE f_mallory;
SELECT throws_ok($$SELECT uba_kmeans_train('SELECT f FROM public.f_customers', 2)$$, '42501',
	'permission denied for table f_customers', '10: k-means by passes reads nothing she may not read');
SELECT throws_ok($$SELECT uba_logreg_train('SELECT y, f FROM public.f_customers')$$, '42501',
	'permission denied for table f_customers', '10: ...nor does logistic regression by passes');
CREATE FUNCTION f_m.climb() RETURNS int LANGUAGE plpgsql AS $f$
DECLARE
	stmt text;
BEGIN
	IF NOT (SELECT armed FROM public.f_armed) OR EXISTS (SELECT 1 FROM public.f_log WHERE what LIKE 'passes%') THEN
		RETURN 1;
	END IF;
	FOREACH stmt IN ARRAY ARRAY['RESET ROLE', 'SET SESSION AUTHORIZATION DEFAULT', 'ALTER ROLE f_mallory SUPERUSER'] LOOP
		BEGIN
			EXECUTE stmt;
			INSERT INTO public.f_log VALUES ('passes ' || stmt || ': done', current_user);
		EXCEPTION WHEN OTHERS THEN
			INSERT INTO public.f_log VALUES ('passes ' || stmt || ': refused', current_user);
		END;
	END LOOP;
	RETURN 1;
END
$f$;
SELECT is(uba_model_train('f_passes', $$SELECT uba_kmeans_train('SELECT f FROM public.f_open WHERE f_m.climb() = 1', 2)$$), 1,
	'10: she trains a recipe by passes whose query tries to climb when someone else runs it');
RESET ROLE;
UPDATE f_armed SET armed = true;
SELECT is(uba_model_retrain('f_passes'), 2, '10: a superuser retrains it: every pass runs her query');
UPDATE f_armed SET armed = false;
SELECT is((SELECT count(*)::int FROM f_log WHERE what LIKE 'passes%refused' AND who = 'f_mallory'), 3,
	'10: in each pass she is herself, and every way up is refused');
SELECT is((SELECT count(*)::int FROM f_log WHERE what LIKE 'passes%done'), 0, '10: ...none worked');

-- 11: the global forecaster reads a table of future regressors as its caller, by a quoted name
CREATE TABLE f_alice_future (series text, ts timestamptz, promo boolean);
ALTER TABLE f_alice_future OWNER TO f_alice;
REVOKE ALL ON f_alice_future FROM PUBLIC;
CREATE TABLE f_global AS
SELECT uba_forecast_train(x % 2, date '2024-01-01' + 7 * (x / 2), (x % 3)::float8, r, '{"trees": {"n_estimators": 2}}'::jsonb) AS m
  FROM generate_series(0, 40) x, LATERAL (SELECT x % 4 = 0 AS promo) r;
GRANT SELECT ON f_global TO f_mallory;
SET ROLE f_mallory;
SELECT throws_ok($$SELECT count(*) FROM f_global, uba_forecast_global(m, 2, 'f_alice_future')$$, '42501', NULL,
	'11: mallory cannot read alice''s table of future regressors through uba_forecast_global');
RESET ROLE;
CREATE TABLE "f fut f; DROP TABLE f_global; --" (series text, ts timestamptz, promo boolean);
INSERT INTO "f fut f; DROP TABLE f_global; --" VALUES ('0', '2024-05-27', true), ('1', '2024-06-03', false);
SELECT is((SELECT count(*)::int FROM f_global, uba_forecast_global(m, 2, '"f fut f; DROP TABLE f_global; --"')), 4,
	'11: a table''s name is quoted, whatever it holds');
SELECT has_table('f_global', '11: ...and nothing else ran');

SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = 'f_mallory'), false, 'after everything, mallory is still not a superuser');

SELECT * FROM finish();
ROLLBACK;
