-- uba_model_retrain as a real pg_cron job: the cluster runs with shared_preload_libraries =
-- 'pg_cron' (test/run.sh starts it so); a job scheduled for every minute retrains a model and the
-- new version is observed.  pg_cron 1.4 schedules by the minute, so this waits up to 70 s.  Not in
-- a transaction: the job must see what is committed here.  Skipped where pg_cron is not loaded.
\set QUIET on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT (current_setting('shared_preload_libraries') ~ 'pg_cron'
        AND current_database() = current_setting('cron.database_name', true)) AS have_cron \gset
\if :have_cron
CREATE EXTENSION IF NOT EXISTS pg_cron;
\endif
RESET client_min_messages;
\set QUIET off
SELECT plan(9);

\if :have_cron
SET client_min_messages = warning;
DROP TABLE IF EXISTS cron_points;
RESET client_min_messages;
CREATE TABLE cron_points AS SELECT ARRAY[(g % 7)::float8, (g % 5)::float8] AS f FROM generate_series(1, 100) g;
SELECT is(uba_model_train('uba_cron_test', 'SELECT uba_kmeans(f, 2, ''{"seed": 1}'') FROM cron_points'), 1, 'version 1 trained by hand');
INSERT INTO cron_points SELECT ARRAY[(g % 3)::float8, (g % 11)::float8] FROM generate_series(1, 50) g;
SELECT cron.schedule('uba-cron-test', '* * * * *', $$SELECT uba_model_retrain('uba_cron_test')$$) AS job \gset

-- issue 14, finding 1 through pg_cron: an unprivileged role's model whose query, run by a
-- superuser's job, tries to become the job's role again and make her a superuser
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS cron_m CASCADE;
DROP TABLE IF EXISTS cron_log;
DROP ROLE IF EXISTS cron_mallory;
RESET client_min_messages;
CREATE ROLE cron_mallory;
CREATE SCHEMA cron_m AUTHORIZATION cron_mallory;
GRANT SELECT ON cron_points TO cron_mallory;
CREATE TABLE cron_log (armed boolean, what text, who text);
INSERT INTO cron_log VALUES (false, 'armed', NULL);
GRANT SELECT, INSERT, UPDATE ON cron_log TO cron_mallory;
SET ROLE cron_mallory;
SET search_path = cron_m;
CREATE FUNCTION climb() RETURNS int LANGUAGE plpgsql AS $f$
DECLARE
	stmt text;
BEGIN
	-- armed only for the job (this test's own session is a superuser's under SET ROLE)
	IF NOT (SELECT armed FROM public.cron_log WHERE what = 'armed') OR EXISTS (SELECT 1 FROM public.cron_log WHERE what LIKE 'climb%') THEN
		RETURN 1;
	END IF;
	FOREACH stmt IN ARRAY ARRAY['RESET ROLE', 'SET SESSION AUTHORIZATION DEFAULT'] LOOP
		BEGIN
			EXECUTE stmt;
			INSERT INTO public.cron_log VALUES (NULL, 'climb ' || stmt || ': done', current_user);
		EXCEPTION WHEN OTHERS THEN
			INSERT INTO public.cron_log VALUES (NULL, 'climb ' || stmt || ': refused', current_user);
		END;
	END LOOP;
	BEGIN
		EXECUTE 'ALTER ROLE cron_mallory SUPERUSER';
	EXCEPTION WHEN OTHERS THEN
		NULL;
	END;
	RETURN 1;
END
$f$;
SELECT public.uba_model_train('uba_cron_trojan', 'SELECT public.uba_kmeans(f, 2) FROM public.cron_points WHERE climb() = 1') AS trojan \gset
UPDATE public.cron_log SET armed = true WHERE what = 'armed';
RESET search_path;
RESET ROLE;
SELECT is(:trojan, 1, 'an unprivileged role trains a model whose query tries to climb when run by the job');
SELECT cron.schedule('uba-cron-trojan', '* * * * *', $$SELECT uba_model_retrain('uba_cron_trojan')$$) AS trojan_job \gset

-- wait for the job's first run (each statement of the loop sees what has been committed)
CREATE FUNCTION pg_temp.wait_for_version_of(model text, v int, seconds int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..seconds LOOP
		IF EXISTS (SELECT 1 FROM uba_models WHERE name = model AND version = v) THEN
			RETURN true;
		END IF;
		PERFORM pg_sleep(1);
	END LOOP;
	RETURN false;
END
$$;
SELECT ok(pg_temp.wait_for_version_of('uba_cron_test', 2, 70), 'the pg_cron job saved version 2 within 70 s');
SELECT results_eq($$SELECT active, training_rows, created_by::text FROM uba_models WHERE name = 'uba_cron_test' AND version = 2$$,
	$$VALUES (true, 150::bigint, current_user::text)$$,
	'version 2 is active, saw the 150 rows now in the table, and was run as the job''s owner');
-- pg_cron writes the run's status after the job's transaction commits: wait for it to leave "running"
CREATE FUNCTION pg_temp.wait_for_run_of(job bigint, seconds int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	s text;
BEGIN
	FOR i IN 1..seconds LOOP
		SELECT status INTO s FROM cron.job_run_details WHERE jobid = job ORDER BY start_time LIMIT 1;
		IF s IS DISTINCT FROM 'running' AND s IS DISTINCT FROM 'starting' THEN
			RETURN s;
		END IF;
		PERFORM pg_sleep(1);
	END LOOP;
	RETURN s;
END
$$;
SELECT is(pg_temp.wait_for_run_of(:job, 30), 'succeeded', 'pg_cron recorded the run as succeeded');
SELECT is((SELECT return_message FROM cron.job_run_details WHERE jobid = :job ORDER BY start_time LIMIT 1), 'SELECT 1',
	'the job ran its one statement');
SELECT ok(pg_temp.wait_for_version_of('uba_cron_trojan', 2, 70), 'the superuser''s job retrained her model');
SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = 'cron_mallory'), false, '...and she is not a superuser');
SELECT is((SELECT string_agg(what || ' as ' || who, '; ' ORDER BY what COLLATE "C") FROM cron_log WHERE what LIKE 'climb%'),
	'climb RESET ROLE: refused as cron_mallory; climb SET SESSION AUTHORIZATION DEFAULT: refused as cron_mallory',
	'...her query ran as her, and could not become the job''s role again');
SELECT cron.unschedule(:job);
SELECT cron.unschedule(:trojan_job);
SELECT uba_model_drop('uba_cron_test');
SELECT uba_model_drop('uba_cron_trojan');
DROP SCHEMA cron_m CASCADE;
DROP TABLE cron_log;
DROP TABLE cron_points;
DROP ROLE cron_mallory;
\else
SELECT skip('pg_cron is not in shared_preload_libraries of this server (test/run.sh starts one where it is)', 9);
\endif

SELECT * FROM finish();
