-- pg_cron on the coordinator: a job scheduled every minute retrains a model from a distributed
-- table by passes (each pass split across the workers), and the new version sees the new rows.
-- pg_cron 1.4 schedules by the minute: this waits up to 80 s.
-- pg_cron runs on the coordinator only: its extension is not propagated to the workers
SET citus.enable_ddl_propagation = off;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_cron;
RESET client_min_messages;
RESET citus.enable_ddl_propagation;
CREATE TABLE cr_dist (id bigint, x float8[]);
SELECT create_distributed_table('cr_dist', 'id');
INSERT INTO cr_dist SELECT g, ARRAY[(g % 3) * 5 + sin(g), cos(g)] FROM generate_series(1, 3000) g;
SELECT uba_model_train('cr_segments', $$SELECT uba_kmeans_train('SELECT x FROM cr_dist', 3, '{"seed": 2}')$$) AS version;
INSERT INTO cr_dist SELECT g, ARRAY[(g % 3) * 5 + sin(g), cos(g)] FROM generate_series(3001, 4000) g;
SELECT cron.schedule('uba-citus-retrain', '* * * * *', $$SELECT uba_model_retrain('cr_segments')$$) AS job \gset
-- each statement of the loop sees what the job has committed
DO $$
BEGIN
	FOR i IN 1..80 LOOP
		EXIT WHEN EXISTS (SELECT 1 FROM uba_models WHERE name = 'cr_segments' AND version = 2);
		PERFORM pg_sleep(1);
	END LOOP;
END $$;
SELECT EXISTS (SELECT 1 FROM uba_models WHERE name = 'cr_segments' AND version = 2) AS retrained_by_the_job;
SELECT cron.unschedule(:job) AS unscheduled;
-- pg_cron records the run's end after the job's transaction commits: wait for that too
DO $$
BEGIN
	FOR i IN 1..30 LOOP
		EXIT WHEN (SELECT status FROM cron.job_run_details
		            WHERE command = 'SELECT uba_model_retrain(''cr_segments'')' ORDER BY runid LIMIT 1)
		          NOT IN ('starting', 'running');
		PERFORM pg_sleep(1);
	END LOOP;
END $$;
SELECT status FROM cron.job_run_details WHERE jobid = :job ORDER BY runid LIMIT 1;
-- the job's model saw all 4000 rows, and equals the same training run here
SELECT uba_model_info(uba_model('cr_segments', 2))->'training_rows' AS rows,
       abs(uba_kmeans_inertia(uba_model('cr_segments', 2))
           / uba_kmeans_inertia(uba_kmeans_train('SELECT x FROM cr_dist', 3, '{"seed": 2}')) - 1) < 1e-9 AS same_model;
SELECT uba_model_drop('cr_segments') >= 2 AS dropped;
DROP TABLE cr_dist;
