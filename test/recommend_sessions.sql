-- uba_recommend across sessions: a version saved or activated by another session (dblink, on
-- the same database) is what the next call uses, although this backend kept the old one parsed;
-- uncommitted versions are not used; answers during a stream of switches are never mixed
-- The extensions are created (and committed) before the test's transaction, so that the other
-- session sees them too.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
CREATE EXTENSION IF NOT EXISTS dblink;
BEGIN;
SELECT plan(9);

SELECT dblink_connect('other', format('dbname=%s port=%s host=%s user=%s', current_database(),
	current_setting('port'), split_part(current_setting('unix_socket_directories'), ',', 1), current_user));

-- the other session trains and saves version 1 (committed there)
CREATE TEMP TABLE v1 AS
SELECT * FROM dblink('other', $$SELECT uba_model_save('uba_test_sessions',
	(SELECT uba_cf_train(u, (u * 31 + k * k * 17) % 97, 1.0, '{"factors": 8, "seed": 1}')
	   FROM generate_series(1, 300) u, generate_series(1, 12) k))$$) AS t(version int);

CREATE FUNCTION pg_temp.via_catalog() RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(item_id || ':' || score, ' ' ORDER BY ord)
	  FROM uba_recommend(7, 5, 'uba_test_sessions') WITH ORDINALITY AS r(item_id, score, source, ord)
$$;
CREATE FUNCTION pg_temp.direct(version int) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(item_id || ':' || score, ' ' ORDER BY ord)
	  FROM uba_cf_recommend(uba_model('uba_test_sessions', version), 7, 5) WITH ORDINALITY AS r(item_id, score, source, ord)
$$;

SELECT is(pg_temp.via_catalog(), pg_temp.direct((SELECT version FROM v1)), 'this session uses version 1 (and keeps it parsed)');
SELECT is(pg_temp.via_catalog(), pg_temp.direct((SELECT version FROM v1)), 'again, from the kept model');

-- the other session saves version 2
CREATE TEMP TABLE v2 AS
SELECT * FROM dblink('other', $$SELECT uba_model_save('uba_test_sessions',
	(SELECT uba_cf_train(u, (u * 31 + k * k * 17) % 97, 1.0, '{"factors": 16, "seed": 2}')
	   FROM generate_series(1, 300) u, generate_series(1, 12) k))$$) AS t(version int);
SELECT is(pg_temp.via_catalog(), pg_temp.direct((SELECT version FROM v2)), 'the next call after the other session commits uses version 2');
SELECT isnt(pg_temp.direct((SELECT version FROM v1)), pg_temp.direct((SELECT version FROM v2)), 'the versions differ, so a stale model would show');

-- the other session activates version 1 again
SELECT * FROM dblink('other', format($$SELECT uba_model_activate('uba_test_sessions', %s)::text$$,
	(SELECT version FROM v1))) AS t(r text);
SELECT is(pg_temp.via_catalog(), pg_temp.direct((SELECT version FROM v1)), 'and sees version 1 after the other session activates it');

-- while the other session's new version is saved but not committed, this one keeps answering
-- with the active one; after the commit, with the new one
SELECT dblink_exec('other', 'BEGIN');
CREATE TEMP TABLE v3 AS
SELECT * FROM dblink('other', $$SELECT uba_model_save('uba_test_sessions',
	(SELECT uba_cf_train(u, (u * 31 + k * k * 17) % 97, 1.0, '{"factors": 4, "seed": 3}')
	   FROM generate_series(1, 300) u, generate_series(1, 12) k))$$) AS t(version int);
SELECT is(pg_temp.via_catalog(), pg_temp.direct((SELECT version FROM v1)), 'a saved but uncommitted version is not used');
SELECT dblink_exec('other', 'COMMIT');
SELECT is(pg_temp.via_catalog(), pg_temp.direct((SELECT version FROM v3)), 'after its commit it is');

-- no errors and no mix: the other session switches the active version 40 times, committing
-- each switch, while this one recommends 400 times; every answer is one whole version's
SELECT dblink_send_query('other', format($q$DO $d$ BEGIN
	FOR i IN 1..40 LOOP
		PERFORM uba_model_activate('uba_test_sessions', CASE WHEN i %% 2 = 0 THEN %s ELSE %s END);
		COMMIT;
		PERFORM pg_sleep(0.002);
	END LOOP;
END $d$$q$, (SELECT version FROM v2), (SELECT version FROM v3)));
CREATE TEMP TABLE answers AS SELECT g, pg_temp.via_catalog() AS r FROM generate_series(1, 400) g;
SELECT is(r, 'DO', 'the switching session finished') FROM dblink_get_result('other') AS t(r text);
SELECT count(*) FROM dblink_get_result('other') AS t(r text);
SELECT is((SELECT count(*) FROM answers
            WHERE r IN (pg_temp.direct((SELECT version FROM v2)), pg_temp.direct((SELECT version FROM v3)))),
	400::bigint, 'all 400 answers are version 2''s or version 3''s, never a mix or an error');

SELECT * FROM dblink('other', $$SELECT uba_model_drop('uba_test_sessions')::text$$) AS t(r text);
SELECT dblink_disconnect('other');
SELECT * FROM finish();
ROLLBACK;
