-- helper for the regression suites: run a statement, show its SQLSTATE and message
CREATE FUNCTION expect_error(query text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	detail text;
	hint text;
BEGIN
	EXECUTE query;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	RETURN SQLSTATE || ': ' || SQLERRM
		|| CASE WHEN detail <> '' THEN E'\n  detail: ' || detail ELSE '' END
		|| CASE WHEN hint <> '' THEN E'\n  hint: ' || hint ELSE '' END;
END
$$;
SELECT expect_error('SELECT 1/0');
SELECT expect_error('SELECT 1');
