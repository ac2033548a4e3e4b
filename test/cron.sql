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
SELECT plan(5);

\if :have_cron
SET client_min_messages = warning;
DROP TABLE IF EXISTS cron_points;
RESET client_min_messages;
CREATE TABLE cron_points AS SELECT ARRAY[(g % 7)::float8, (g % 5)::float8] AS f FROM generate_series(1, 100) g;
SELECT is(uba_model_train('uba_cron_test', 'SELECT uba_kmeans(f, 2, ''{"seed": 1}'') FROM cron_points'), 1, 'version 1 trained by hand');
INSERT INTO cron_points SELECT ARRAY[(g % 3)::float8, (g % 11)::float8] FROM generate_series(1, 50) g;
SELECT cron.schedule('uba-cron-test', '* * * * *', $$SELECT uba_model_retrain('uba_cron_test')$$) AS job \gset

-- wait for the job's first run (each statement of the loop sees what has been committed)
CREATE FUNCTION pg_temp.wait_for_version(v int, seconds int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..seconds LOOP
		IF EXISTS (SELECT 1 FROM uba_models WHERE name = 'uba_cron_test' AND version = v) THEN
			RETURN true;
		END IF;
		PERFORM pg_sleep(1);
	END LOOP;
	RETURN false;
END
$$;
SELECT ok(pg_temp.wait_for_version(2, 70), 'the pg_cron job saved version 2 within 70 s');
SELECT results_eq($$SELECT active, training_rows, created_by::text FROM uba_models WHERE name = 'uba_cron_test' AND version = 2$$,
	$$VALUES (true, 150::bigint, current_user::text)$$,
	'version 2 is active, saw the 150 rows now in the table, and was run as the job''s owner');
SELECT is((SELECT status FROM cron.job_run_details WHERE jobid = :job ORDER BY start_time LIMIT 1), 'succeeded',
	'pg_cron recorded the run as succeeded');
SELECT is((SELECT return_message FROM cron.job_run_details WHERE jobid = :job ORDER BY start_time LIMIT 1), 'SELECT 1',
	'the job ran its one statement');
SELECT cron.unschedule(:job);
SELECT uba_model_drop('uba_cron_test');
DROP TABLE cron_points;
\else
SELECT skip('pg_cron is not in shared_preload_libraries of this server (test/run.sh starts one where it is)', 5);
\endif

SELECT * FROM finish();
