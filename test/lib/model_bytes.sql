-- Forging models for validation and fuzz tests (pg_regress's setup and the pgTAP suites include
-- this file): CRC-32C (Castagnoli, reflected 0x82F63B78, table-driven) in plpgsql, little-endian
-- u32 access, and reseal(), which rewrites a blob's checksum (over bytes 0-19 and 24-end) so
-- that a damaged payload gets past the checksum and reaches the parsers.
CREATE OR REPLACE FUNCTION crc32c_table() RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	t bigint[] := '{}';
	c bigint;
BEGIN
	FOR n IN 0 .. 255 LOOP
		c := n;
		FOR k IN 1 .. 8 LOOP
			c := CASE WHEN (c & 1) = 1 THEN (c >> 1) # 2197175160 ELSE c >> 1 END;
		END LOOP;
		t := t || c;
	END LOOP;
	RETURN t;
END
$$;

CREATE OR REPLACE FUNCTION crc32c(b bytea) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
	t bigint[] := crc32c_table();
	crc bigint := 4294967295;
BEGIN
	FOR i IN 0 .. length(b) - 1 LOOP
		crc := (crc >> 8) # t[((crc # get_byte(b, i)) & 255) + 1];
	END LOOP;
	RETURN crc # 4294967295;
END
$$;

CREATE OR REPLACE FUNCTION put_u32(b bytea, off int, v bigint) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT set_byte(set_byte(set_byte(set_byte(b, off, (v & 255)::int), off + 1, ((v >> 8) & 255)::int),
	                off + 2, ((v >> 16) & 255)::int), off + 3, ((v >> 24) & 255)::int)
$$;

CREATE OR REPLACE FUNCTION get_u32(b bytea, off int) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT get_byte(b, off)::bigint | (get_byte(b, off + 1)::bigint << 8)
	     | (get_byte(b, off + 2)::bigint << 16) | (get_byte(b, off + 3)::bigint << 24)
$$;

CREATE OR REPLACE FUNCTION reseal(b bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT put_u32(b, 20, crc32c(substring(b from 1 for 20) || substring(b from 25)))
$$;
