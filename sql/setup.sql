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

-- Forging models for validation tests: CRC-32C (Castagnoli, reflected 0x82F63B78) in
-- plpgsql, and reseal(), which rewrites a blob's checksum (bytes 0-19 and 24-end)
CREATE FUNCTION crc32c(b bytea) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
	crc bigint := 4294967295;
BEGIN
	FOR i IN 0 .. length(b) - 1 LOOP
		crc := crc # get_byte(b, i);
		FOR k IN 1 .. 8 LOOP
			IF (crc & 1) = 1 THEN
				crc := (crc >> 1) # 2197175160;
			ELSE
				crc := crc >> 1;
			END IF;
		END LOOP;
	END LOOP;
	RETURN crc # 4294967295;
END $$;

CREATE FUNCTION put_u32(b bytea, off int, v bigint) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT set_byte(set_byte(set_byte(set_byte(b, off, (v & 255)::int), off + 1, ((v >> 8) & 255)::int),
	                off + 2, ((v >> 16) & 255)::int), off + 3, ((v >> 24) & 255)::int)
$$;

CREATE FUNCTION get_u32(b bytea, off int) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT get_byte(b, off)::bigint | (get_byte(b, off + 1)::bigint << 8)
	     | (get_byte(b, off + 2)::bigint << 16) | (get_byte(b, off + 3)::bigint << 24)
$$;

CREATE FUNCTION reseal(b bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT put_u32(b, 20, crc32c(substring(b from 1 for 20) || substring(b from 25)))
$$;
