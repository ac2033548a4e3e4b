-- What every Citus suite uses: uba on the cluster (Citus creates it on the workers too), and
-- where_runs(query, function): whether the workers compute the aggregate whole, send partial
-- states for the coordinator to combine (worker_partial_agg), or send their rows.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS uba;
RESET client_min_messages;
SELECT count(*) AS workers, string_agg(DISTINCT result, ', ') AS uba_version
  FROM run_command_on_workers($$SELECT extversion FROM pg_extension WHERE extname = 'uba'$$);
CREATE FUNCTION where_runs(q text, fn text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	line text;
	on_workers boolean := false;
	partial boolean := false;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
		on_workers := on_workers OR (line ~ 'Query: ' AND position(fn || '(' IN line) > 0);
		partial := partial OR position('worker_partial_agg' IN line) > 0;
	END LOOP;
	RETURN CASE WHEN partial THEN 'split: partial states from the workers'
	            WHEN on_workers THEN 'whole on the workers' ELSE 'rows gathered' END;
END $$;
CREATE FUNCTION expect_error(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE query;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
