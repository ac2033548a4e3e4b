-- model blobs: metadata, and validation of every damaged or foreign blob
SET extra_float_digits = 0;
CREATE TABLE blob AS
SELECT uba_kmeans(ARRAY[g % 2, g % 3]::float8[], 2, '{"seed": 1}') AS m FROM generate_series(1, 12) g;

SELECT uba_model_kind(m), length(m) AS bytes,
       substring(m from 1 for 4) AS magic,
       info->>'kind' AS kind, info->'format_version' AS format_version,
       info->'features' AS features, info->'training_rows' AS training_rows,
       info->>'extension_version' AS extension_version,
       (info->>'created_at')::timestamptz <= now() AS created_in_past,
       (info->>'training_ms')::float8 >= 0 AS training_ms_ok,
       (info->'size_bytes')::int = length(m) AS size_ok
  FROM (SELECT m, uba_model_info(m) AS info FROM blob) s;

-- a model is a value: equal training gives an equal payload
SELECT substring(a from 25) IS DISTINCT FROM substring(b from 25) AS blobs_differ_only_in_time_and_crc,
       uba_model_info(a) - 'created_at' - 'training_ms' = uba_model_info(b) - 'created_at' - 'training_ms' AS same_content
  FROM (SELECT uba_kmeans(ARRAY[g % 2, g % 3]::float8[], 2, '{"seed": 1}') AS a,
               uba_kmeans(ARRAY[g % 2, g % 3]::float8[], 2, '{"seed": 1}') AS b
          FROM generate_series(1, 12) g) s;

-- not a model at all
SELECT expect_error($$SELECT uba_model_info('\x'::bytea)$$);
SELECT expect_error($$SELECT uba_model_info('hello world, this is not a model at all'::bytea)$$);
-- header fields (0-based byte offsets: magic 0, version 4, kind 6, flags 8, lengths 12 and 16, CRC 20, reserved 24)
SELECT expect_error($$SELECT uba_model_info(set_byte(m, 0, 0)) FROM blob$$);
SELECT expect_error($$SELECT uba_model_info(set_byte(m, 4, 2)) FROM blob$$);
SELECT expect_error($$SELECT uba_model_info(set_byte(m, 5, 1)) FROM blob$$);
SELECT expect_error($$SELECT uba_model_info(set_byte(m, 6, 0)) FROM blob$$);
SELECT expect_error($$SELECT uba_model_info(set_byte(m, 6, 77)) FROM blob$$);
SELECT expect_error($$SELECT uba_model_info(set_byte(m, 8, 2)) FROM blob$$);
SELECT expect_error($$SELECT uba_model_info(set_byte(m, 11, 128)) FROM blob$$);
SELECT expect_error($$SELECT uba_model_info(set_byte(m, 12, get_byte(m, 12) + 1)) FROM blob$$);
SELECT expect_error($$SELECT uba_model_info(set_byte(m, 19, 255)) FROM blob$$);
SELECT expect_error($$SELECT uba_model_info(set_byte(m, 20, get_byte(m, 20) # 1)) FROM blob$$);
SELECT expect_error($$SELECT uba_model_info(set_byte(m, 31, 1)) FROM blob$$);
-- truncated, extended, and every single-byte change past the header is caught by the CRC
SELECT expect_error($$SELECT uba_model_info(substring(m from 1 for 31)) FROM blob$$);
SELECT expect_error($$SELECT uba_model_info(substring(m from 1 for length(m) - 1)) FROM blob$$);
SELECT expect_error($$SELECT uba_model_info(m || '\x00'::bytea) FROM blob$$);
CREATE FUNCTION try_info(b bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM uba_model_info(b);
	RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END $$;
SELECT outcome, count(*)
  FROM (SELECT try_info(set_byte(m, i, get_byte(m, i) # (1 << (i % 8)))) AS outcome
          FROM blob, generate_series(0, length(m) - 1) i) s
 GROUP BY outcome ORDER BY outcome;
-- scoring functions validate the same way, even when a damaged copy follows a valid
-- model in the same query (the parsed-model cache compares whole blobs)
SELECT expect_error($$SELECT uba_kmeans_assign(CASE WHEN i = 1 THEN m ELSE set_byte(m, 40, get_byte(m, 40) # 4) END, '{1,1}')
                        FROM blob, generate_series(1, 2) i$$);
SELECT expect_error($$SELECT uba_kmeans_assign(set_byte(m, 40, get_byte(m, 40) # 4), '{1,1}') FROM blob$$);
SELECT expect_error($$SELECT uba_kmeans_centroids(substring(m from 1 for 40)) FROM blob$$);

-- Forged models with a valid checksum: every field behind the CRC is validated too.
-- reseal() of an untouched model gives it back unchanged
SELECT reseal(m) = m AS crc_matches FROM blob;
CREATE TABLE forged AS
SELECT m, get_u32(m, 12)::int AS metalen, 32 + get_u32(m, 12)::int AS pay FROM blob;
-- metadata (offsets from 32): features 0, feature names 4, rows 8, ms 16, created 24, version 32, options length 48
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, 32, 3))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, 36, 1))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, 44, 2147483648))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(overlay(m placing '\x000000000000f87f'::bytea from 49))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(set_byte(m, 64, 37))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(set_byte(m, 79, 49))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(set_byte(m, 84, 91))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, 80, 100000))) FROM forged$$);
-- k-means payload (offsets from its start): k 0, d 4, flags 8, iterations 12, inertia 16,
-- centroids 24 (k x d doubles), sizes after them
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, pay, 0))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, pay, 100001))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, pay, 3))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, pay + 4, 3))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, pay + 8, 2))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, pay + 8, 1))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m, pay + 12, 2147483648))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(overlay(m placing '\x000000000000f87f'::bytea from pay + 17))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(overlay(m placing '\x000000000000f0ff'::bytea from pay + 17))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(overlay(m placing '\x000000000000f07f'::bytea from pay + 25))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_kind(reseal(put_u32(m, pay + 56, 13))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_kind(reseal(overlay(m placing '\xffffffffffffffff'::bytea from pay + 57))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_kind(reseal(put_u32(m, pay + 56, get_u32(m, pay + 56) - 1))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(overlay(m placing '\x000000000000f0bf'::bytea from pay + 17))) FROM forged$$);
-- payload shorter or longer than its contents, with matching lengths and CRC
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(substring(m from 1 for length(m) - 8), 16, get_u32(m, 16) - 8))) FROM forged$$);
SELECT expect_error($$SELECT uba_model_info(reseal(put_u32(m || '\x00'::bytea, 16, get_u32(m, 16) + 1))) FROM forged$$);
-- scoring rejects the same forgeries
SELECT expect_error($$SELECT uba_kmeans_assign(reseal(put_u32(m, pay, 0)), '{1,1}') FROM forged$$);
SELECT expect_error($$SELECT uba_kmeans_centroids(reseal(put_u32(m, pay + 4, 7))) FROM forged$$);

-- every trained model is read back before it is returned; a cancel that comes while it is read
-- (uba.debug_cancel_read_back raises one there) stays a cancel (57014), not an unreadable model
-- (22003), so callers that wait for a statement timeout see one
SET uba.debug_cancel_read_back = on;
SELECT uba_kmeans(ARRAY[g, g % 7]::float8[], 2) FROM generate_series(1, 100) g;
RESET uba.debug_cancel_read_back;
SELECT uba_model_kind(uba_kmeans(ARRAY[g, g % 7]::float8[], 2)) FROM generate_series(1, 100) g;
