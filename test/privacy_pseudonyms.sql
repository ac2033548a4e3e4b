-- Pseudonyms (src/privacy/pseudonym.c), k-anonymity (kanon.c) and the generalization helpers
-- (generalize.c).  uba_pseudonymize is checked against HMAC-SHA-256 known answers computed
-- outside PostgreSQL; an unprivileged role tries to read the keys, use a key it was not
-- granted, and grant, revoke or drop others' keys; uba_k_anonymity is checked on small tables
-- whose groups are known.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(81);

-- an error's message, detail and hint, or NULL when the statement raises none
CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	m text;
	d text;
	h text;
BEGIN
	EXECUTE q;
	RETURN NULL;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
	RETURN concat_ws(' | ', m, d, h);
END $$;

-- known answers: the key is the 32 bytes 0x00 .. 0x1f; the expected MACs were computed with
--   python3 -c "import hmac, hashlib; k = bytes(range(32)); [print(hmac.new(k, m, hashlib.sha256).hexdigest()) for m in (b'42', b'alice@example.com')]"
-- (7df98992... for '42', a59fc578... for 'alice@example.com'; openssl dgst -sha256 -mac HMAC
-- -macopt hexkey:000102...1f agrees)
SELECT lives_ok($$SELECT uba_pseudonym_key_create('ps_fixed', '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea)$$,
	'a key of given bytes');
SELECT is(uba_pseudonymize(42, 'ps_fixed'), '7df989924b2ebf8832c80802d1213a8a21a062a23877f0718effe501daee1703',
	'known answer: HMAC-SHA-256 of ''42'' under the key 0x00..0x1f, in lowercase hex');
SELECT is(uba_pseudonymize('alice@example.com'::text, 'ps_fixed'), 'a59fc578d4cb46faab1d6eb348e7c74b33b85122d6459fdb7bf5654b333acab4',
	'known answer for a text id');
SELECT is(uba_pseudonymize(42::bigint, 'ps_fixed'), uba_pseudonymize(42::int, 'ps_fixed'),
	'42::bigint and 42::int have the same pseudonym (the same text form)');
SELECT is(uba_pseudonymize('42'::text, 'ps_fixed'), uba_pseudonymize(42::smallint, 'ps_fixed'),
	'...and so do ''42''::text and 42::smallint');
SELECT is((SELECT count(DISTINCT p)::text || ' ' || count(DISTINCT (id, p))::text
             FROM (SELECT g % 10 AS id, uba_pseudonymize(g % 10, 'ps_fixed') AS p FROM generate_series(1, 1000) g) s),
	'10 10', 'stable: 1,000 rows of 10 ids give 10 pseudonyms, one per id');
SELECT ok((SELECT bool_and(uba_pseudonymize(g, 'ps_fixed') ~ '^[0-9a-f]{64}$') FROM generate_series(1, 100) g),
	'a pseudonym is the whole MAC: 64 lowercase hex digits');
SELECT is(uba_pseudonymize(NULL::int, 'ps_fixed'), NULL, 'a NULL id: NULL');

-- another key, generated
SELECT lives_ok($$SELECT uba_pseudonym_key_create('ps_random')$$, 'a generated key');
SELECT is((SELECT octet_length(key) FROM uba_pseudonym_keys WHERE name = 'ps_random'), 32, '...of 32 bytes');
SELECT isnt(uba_pseudonymize(42, 'ps_random'), uba_pseudonymize(42, 'ps_fixed'), 'another key, another pseudonym');
SELECT is((SELECT count(DISTINCT uba_pseudonymize(g, k)) FROM generate_series(1, 100) g, (VALUES ('ps_fixed'), ('ps_random')) v(k)),
	200::bigint, '100 ids under two keys in one query: 200 pseudonyms');
SELECT throws_ok($$SELECT uba_pseudonym_key_create('ps_fixed')$$, '42710', 'pseudonym key "ps_fixed" already exists',
	'a name is taken once');
SELECT throws_ok($$SELECT uba_pseudonym_key_create('ps_short', '\x00112233'::bytea)$$, '22023',
	'a pseudonym key must have 16 to 1024 bytes', 'a key of 4 bytes is refused');
SELECT throws_ok($$SELECT uba_pseudonymize(1, 'ps_none')$$, '42704', 'pseudonym key "ps_none" does not exist', 'an unknown key');
SELECT throws_ok($$SELECT uba_pseudonymize(1, NULL)$$, '22004', 'pseudonym key name must not be NULL', 'a NULL key name');

-- rights: alice owns a key, bob and the members of ps_team are granted it, mallory is not
CREATE ROLE ps_alice;
CREATE ROLE ps_bob;
CREATE ROLE ps_mallory;
CREATE ROLE ps_team;
CREATE ROLE ps_carol IN ROLE ps_team;

SET LOCAL ROLE ps_alice;
SELECT lives_ok($$SELECT uba_pseudonym_key_create('ps_alice_key', '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea)$$,
	'alice creates a key (of ps_fixed''s bytes)');
SELECT is(uba_pseudonymize(42, 'ps_alice_key'), '7df989924b2ebf8832c80802d1213a8a21a062a23877f0718effe501daee1703',
	'its owner uses it: the same bytes, the same pseudonym, whatever the key''s name');
SELECT throws_ok($$SELECT key FROM uba_pseudonym_keys$$, '42501', NULL, 'even a key''s owner cannot read the key table');
RESET ROLE;
SELECT is((SELECT owner::text || ' ' || cardinality(users) FROM uba_pseudonym_keys WHERE name = 'ps_alice_key'), 'ps_alice 0',
	'the key belongs to the role that created it, and nobody else may use it yet');

SET LOCAL ROLE ps_mallory;
SELECT throws_ok($$SELECT key FROM uba_pseudonym_keys$$, '42501', NULL, 'mallory cannot read the keys');
SELECT throws_ok($$UPDATE uba_pseudonym_keys SET users = '{ps_mallory}'$$, '42501', NULL, '...nor write the table');
SELECT throws_ok($$INSERT INTO uba_pseudonym_keys (name, key, owner) VALUES ('ps_planted', '\x00000000000000000000000000000000', 'ps_alice')$$,
	'42501', NULL, '...nor plant a key in someone else''s name');
SELECT throws_ok($$SELECT uba_pseudonymize(42, 'ps_alice_key')$$, '42501', 'permission denied for pseudonym key "ps_alice_key"',
	'...nor use a key she was not granted');
SELECT throws_ok($$SELECT uba_pseudonymize(NULL::int, 'ps_alice_key')$$, '42501', 'permission denied for pseudonym key "ps_alice_key"',
	'...not even for a NULL id');
SELECT throws_ok($$SELECT uba_pseudonymize(42, 'ps_fixed')$$, '42501', 'permission denied for pseudonym key "ps_fixed"',
	'...nor a superuser''s key');
SELECT unalike(pg_temp.error_of($$SELECT uba_pseudonymize(42, 'ps_fixed')$$), '%000102030405%',
	'the error names the key, never its bytes');
SELECT throws_ok($$SELECT uba_pseudonym_key_grant('ps_alice_key', 'ps_mallory')$$, '42501',
	'permission denied for pseudonym key "ps_alice_key"', '...nor grant it to herself');
SELECT throws_ok($$SELECT uba_pseudonym_key_revoke('ps_fixed', 'ps_bob')$$, '42501',
	'permission denied for pseudonym key "ps_fixed"', '...nor revoke on another role''s key');
SELECT throws_ok($$SELECT uba_pseudonym_key_drop('ps_alice_key')$$, '42501',
	'permission denied for pseudonym key "ps_alice_key"', '...nor drop it');
SELECT throws_ok($$SELECT uba_pseudonym_key_drop('ps_none')$$, '42704', 'pseudonym key "ps_none" does not exist',
	'dropping a key that does not exist');
RESET ROLE;

SET LOCAL ROLE ps_alice;
SELECT lives_ok($$SELECT uba_pseudonym_key_grant('ps_alice_key', 'ps_bob')$$, 'alice grants her key to bob');
SELECT lives_ok($$SELECT uba_pseudonym_key_grant('ps_alice_key', 'ps_bob')$$, '...twice');
SELECT lives_ok($$SELECT uba_pseudonym_key_grant('ps_alice_key', 'ps_team')$$, '...and to a group role');
RESET ROLE;
SELECT is((SELECT array_to_string(users, ',') FROM uba_pseudonym_keys WHERE name = 'ps_alice_key'), 'ps_bob,ps_team',
	'the key''s users: bob once, and the group');

SET LOCAL ROLE ps_bob;
SELECT is(uba_pseudonymize(42, 'ps_alice_key'), '7df989924b2ebf8832c80802d1213a8a21a062a23877f0718effe501daee1703',
	'bob, granted the key, uses it');
SELECT throws_ok($$SELECT uba_pseudonym_key_grant('ps_alice_key', 'ps_mallory')$$, '42501',
	'permission denied for pseudonym key "ps_alice_key"', '...but cannot grant it on');
SELECT throws_ok($$SELECT uba_pseudonym_key_drop('ps_alice_key')$$, '42501',
	'permission denied for pseudonym key "ps_alice_key"', '...nor drop it');
RESET ROLE;
SET LOCAL ROLE ps_carol;
SELECT is(uba_pseudonymize(42, 'ps_alice_key'), '7df989924b2ebf8832c80802d1213a8a21a062a23877f0718effe501daee1703',
	'carol uses it with the privileges of her group role');
RESET ROLE;

SET LOCAL ROLE ps_alice;
SELECT lives_ok($$SELECT uba_pseudonym_key_revoke('ps_alice_key', 'ps_bob')$$, 'alice revokes bob''s use');
RESET ROLE;
SET LOCAL ROLE ps_bob;
SELECT throws_ok($$SELECT uba_pseudonymize(42, 'ps_alice_key')$$, '42501', 'permission denied for pseudonym key "ps_alice_key"',
	'after the revoke bob cannot use it');
RESET ROLE;
SET LOCAL ROLE ps_alice;
SELECT lives_ok($$SELECT uba_pseudonym_key_drop('ps_alice_key')$$, 'alice drops her key');
SELECT throws_ok($$SELECT uba_pseudonymize(42, 'ps_alice_key')$$, '42704', 'pseudonym key "ps_alice_key" does not exist',
	'a dropped key is gone');
RESET ROLE;

-- k-anonymity: groups of 1, 2 and 5 rows
CREATE TEMP TABLE ka (age_band text, zip3 text, gender text);
INSERT INTO ka VALUES ('30-39', '123', 'F');
INSERT INTO ka SELECT '40-49', '456', 'M' FROM generate_series(1, 2);
INSERT INTO ka SELECT '20-29', '789', 'F' FROM generate_series(1, 5);
SELECT is((SELECT uba_k_anonymity(ROW(age_band, zip3, gender), 3)::text FROM ka), '(1,3,8,3,2)',
	'groups of 1, 2 and 5: k 1, 3 groups, 8 rows; below k = 3, 3 rows in 2 groups');
SELECT is((SELECT uba_k_anonymity(ROW(age_band, zip3, gender))::text FROM ka), '(1,3,8,,)',
	'without k: rows_below_k and groups_below_k are NULL');
SELECT is((SELECT (uba_k_anonymity(ROW(age_band, zip3, gender), 1)).rows_below_k FROM ka), 0::bigint, 'no row is below k = 1');
SELECT is((SELECT uba_k_anonymity(ROW(gender), 3)::text FROM ka), '(2,2,8,2,1)',
	'coarser quasi-identifiers: groups of 6 (F) and 2 (M)');
SELECT is((SELECT uba_k_anonymity(zip3, 2)::text FROM ka), '(1,3,8,1,1)', 'a scalar quasi-identifier');
SELECT is((SELECT uba_k_anonymity(k, 2)::text FROM ka k), '(1,3,8,1,1)', 'a table''s whole row');
SELECT is((SELECT uba_k_anonymity(ROW(age_band, zip3, gender), 3)::text
             FROM (SELECT * FROM ka UNION ALL SELECT '30-39', '123', NULL FROM generate_series(1, 2)) t), '(1,4,10,5,3)',
	'NULL in a quasi-identifier is a value: two rows of (30-39, 123, NULL) are a group of their own');
SELECT is((SELECT uba_k_anonymity(x)::text FROM (VALUES (1), (NULL), (NULL), (1), (2)) v(x)), '(1,3,5,,)',
	'a NULL argument is a value: 1 (2 rows), NULL (2), 2 (1)');
SELECT is((SELECT uba_k_anonymity(CASE WHEN g <= 2 THEN NULL ELSE ROW(NULL::text, NULL::text) END)::text
             FROM generate_series(1, 5) g), '(2,2,5,,)', 'a NULL row and a row of NULLs are different values');
SELECT is((SELECT array_agg((r).k ORDER BY g) FROM (SELECT gender AS g, uba_k_anonymity(ROW(age_band, zip3)) AS r
                                                    FROM ka GROUP BY gender) s), '{1,2}'::bigint[],
	'per GROUP BY group: F has groups of 1 and 5, M one of 2');
SELECT is((SELECT uba_k_anonymity(g % 1000, 101)::text FROM generate_series(1, 100000) g), '(100,1000,100000,100000,1000)',
	'100,000 rows in 1,000 groups of 100');
SELECT is((SELECT uba_k_anonymity(ROW(age_band), 2)::text FROM ka WHERE false), NULL, 'no rows: NULL');
SELECT throws_ok($$SELECT uba_k_anonymity(zip3, 0) FROM ka$$, '22023', 'k must be at least 1', 'k 0 is refused');
SELECT throws_ok($$SELECT uba_k_anonymity(zip3, NULL) FROM ka$$, '22023', 'k must not be NULL', 'a NULL k is refused');
SELECT throws_ok($$SELECT uba_k_anonymity(zip3, CASE WHEN gender = 'F' THEN 2 ELSE 3 END) FROM ka$$, '22023',
	'k must be the same on every row', 'one k per aggregate');

-- generalization
SELECT is(uba_generalize_age(34), '30-39', 'an age in its band of 10');
SELECT is(uba_generalize_age(0), '0-9', '...from 0');
SELECT is(ARRAY[uba_generalize_age(90), uba_generalize_age(117)], '{90+,90+}', 'from 90 on: 90+');
SELECT is(uba_generalize_age(34, 5), '30-34', 'bands of 5');
SELECT is(ARRAY[uba_generalize_age(84, 10, 85), uba_generalize_age(85, 10, 85)], '{80-84,85+}',
	'the band below top is cut short at top');
SELECT is(uba_generalize_age(7, 1), '7', 'a band of 1 is the age itself');
SELECT is(uba_generalize_age(NULL), NULL, 'NULL age: NULL');
SELECT throws_ok($$SELECT uba_generalize_age(30, 0)$$, '22023', 'band must be at least 1', 'a band of 0 is refused');
SELECT throws_ok($$SELECT uba_generalize_age(-1)$$, '22023', 'age must not be negative', 'a negative age is refused');
SELECT is(uba_generalize_zip('12345'), '123**', 'a postal code: the first 3 characters kept, the others masked');
SELECT is(uba_generalize_zip('12345', 0), '*****', 'keep 0: all masked, the same length');
SELECT is(uba_generalize_zip('123', 5), '123', 'shorter than keep: unchanged');
SELECT is(uba_generalize_zip(NULL), NULL, 'NULL code: NULL');
SELECT CASE WHEN current_setting('server_encoding') = 'UTF8'
            THEN is(uba_generalize_zip(convert_from('\x5ac3bc72696368', 'UTF8'), 2), convert_from('\x5ac3bc2a2a2a2a', 'UTF8'),
                    'characters, not bytes: Zürich keeps Zü and masks 4')
            ELSE skip('the server encoding is not UTF8', 1) END;
SELECT throws_ok($$SELECT uba_generalize_zip('12345', -1)$$, '22023', 'keep must not be negative', 'a negative keep is refused');
SELECT is(uba_generalize_date('2024-05-17'), '2024-05-01'::date, 'a date''s month (the default unit)');
SELECT is(uba_generalize_date('2024-05-17', 'week'), '2024-05-13'::date, 'its week: the Monday before a Friday');
SELECT is(ARRAY[uba_generalize_date('2024-05-13', 'week'), uba_generalize_date('2024-05-19', 'week')], '{2024-05-13,2024-05-13}'::date[],
	'a Monday is its week''s first day, a Sunday its last');
SELECT is(uba_generalize_date('2024-05-17', 'quarter'), '2024-04-01'::date, 'its quarter');
SELECT is(uba_generalize_date('2024-05-17', 'year'), '2024-01-01'::date, 'its year');
SELECT is(uba_generalize_date('infinity', 'year'), 'infinity'::date, 'an infinite date stays as it is');
SELECT is(uba_generalize_date(NULL), NULL::date, 'NULL date: NULL');
SELECT throws_ok($$SELECT uba_generalize_date('2024-05-17', 'day')$$, '22023', 'unit must be "week", "month", "quarter" or "year"',
	'day is not a unit of generalization');

SELECT * FROM finish();
ROLLBACK;
