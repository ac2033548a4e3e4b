-- pg_temp.seconds_until_cancel(query): runs the query and returns the seconds until it was
-- cancelled (by a statement_timeout set before the calling statement), or NULL when it finished
CREATE OR REPLACE FUNCTION pg_temp.seconds_until_cancel(query text) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
BEGIN
	EXECUTE query;
	RETURN NULL;	-- finished: not cancelled
EXCEPTION WHEN query_canceled THEN
	RETURN extract(epoch FROM clock_timestamp() - t0);
END $$;
