-- The extension as the oldest release installs it, then updated through every upgrade script
-- (the other suites run on the updated extension; the pgTAP suites on a fresh install).  Models
-- that the 0.1.0 build wrote (test/data/models_0_1_0.csv, one of each kind) are saved in the
-- 0.1.0 catalog and must load, score and keep their catalog entries after the update.
SET client_min_messages = warning;
CREATE EXTENSION uba VERSION '0.1.0';
RESET client_min_messages;
CREATE TABLE old_models (kind text, model_hex text);
\copy old_models FROM 'test/data/models_0_1_0.csv' WITH (FORMAT csv, HEADER)
SELECT kind, uba_model_save('old_' || kind, decode(model_hex, 'hex')) AS version FROM old_models ORDER BY kind;
-- 0.2.0, and catalog states it allowed that 0.3.0 repairs: a reader and an owner whose roles
-- were dropped, 'public' as a reader, versions whose name row was deleted by hand, a counter below
-- its versions; and a model trained there (its recipe must retrain after the update)
ALTER EXTENSION uba UPDATE TO '0.2.0';
CREATE ROLE setup_reader;
CREATE ROLE setup_gone;
CREATE ROLE setup_analyst;
UPDATE uba_model_names SET owner = 'setup_analyst';
SELECT uba_model_grant_read('old_cf', 'public'), uba_model_grant_read('old_cf', 'setup_reader'),
       uba_model_grant_read('old_assoc', 'setup_gone');
SELECT uba_model_save('old_logreg', uba_model('old_logreg')) FROM generate_series(1, 2);
UPDATE uba_model_names SET last_version = 1 WHERE name = 'old_logreg';
UPDATE uba_model_names SET owner = 'setup_gone' WHERE name = 'old_linreg';
DELETE FROM uba_model_names WHERE name = 'old_kmeans';
DROP ROLE setup_reader;
DROP ROLE setup_gone;
SELECT uba_model_train('old_trained', 'SELECT uba_kmeans(ARRAY[g % 7, g % 5]::float8[], 2, ''{"seed": 1}''::jsonb) FROM generate_series(1, 50) g');
-- objects built on the bigint-only functions that 0.3.0 replaces: the update names them all
-- and changes nothing, rather than failing on the first with DROP's generic message
CREATE VIEW setup_recs AS SELECT * FROM uba_recommend(3::bigint, 2, 'old_cf');
CREATE MATERIALIZED VIEW setup_basket AS SELECT * FROM uba_basket_complete(uba_model('old_assoc'), ARRAY[1::bigint], 2);
ALTER EXTENSION uba UPDATE;
SELECT extversion AS still FROM pg_extension WHERE extname = 'uba';
DROP VIEW setup_recs;
DROP MATERIALIZED VIEW setup_basket;
ALTER EXTENSION uba UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'uba';
SELECT n.name, n.last_version,
       CASE WHEN n.owner = c.relowner THEN 'the catalog''s owner' ELSE n.owner::text END AS owner, n.readers
  FROM uba_model_names n, pg_class c WHERE c.oid = 'uba_model_store'::regclass ORDER BY n.name;
SELECT uba_model_retrain('old_trained') AS retrained_version;
SELECT name, version, active, readers, uba_model_info(uba_model(name, version))->>'extension_version' AS written_by
  FROM uba_models WHERE name LIKE 'old\_%' AND name <> 'old_trained' ORDER BY name, version;
SELECT uba_kmeans_assign(uba_model('old_kmeans'), ARRAY[4, 1]) AS kmeans_cluster,
       round(uba_logreg_predict(uba_model('old_logreg'), ARRAY[4, 1])::numeric, 6) AS logreg_probability,
       round(uba_linreg_predict(uba_model('old_linreg'), ARRAY[4, 1])::numeric, 6) AS linreg_prediction,
       (SELECT count(*) FROM uba_cf_recommend(uba_model('old_cf'), 3, 2)) AS cf_items,
       (SELECT pg_typeof(item_id) FROM uba_cf_recommend(uba_model('old_cf'), 3::bigint, 1)) AS cf_item_type,
       (SELECT count(*) FROM uba_assoc_rules_list(uba_model('old_assoc'))) AS assoc_rules;
SELECT name, uba_model_drop(name) FROM uba_model_names ORDER BY name;
DROP ROLE setup_analyst;
DROP TABLE old_models;

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

-- parallel_plans(true) makes the planner choose parallel plans for the rest of the session,
-- row-collecting aggregates included (it lowers the planner COST of their state serialization,
-- which otherwise keeps them in one process; see doc/concepts.md); parallel_plans(false) puts
-- the defaults back.  Every suite that forces a parallel plan turns it off again.
CREATE FUNCTION parallel_plans(force boolean) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	setting text;
BEGIN
	FOREACH setting IN ARRAY ARRAY['parallel_setup_cost', 'parallel_tuple_cost', 'min_parallel_table_scan_size'] LOOP
		EXECUTE format(CASE WHEN force THEN 'SET %I = 0' ELSE 'RESET %I' END, setting);
	END LOOP;
	EXECUTE CASE WHEN force THEN 'SET max_parallel_workers_per_gather = 2' ELSE 'RESET max_parallel_workers_per_gather' END;
	EXECUTE format('ALTER FUNCTION uba_rowset_serialize(internal) COST %s', CASE WHEN force THEN 1 ELSE 100000000 END);
	EXECUTE format('ALTER FUNCTION uba_rowset_deserialize(bytea, internal) COST %s', CASE WHEN force THEN 1 ELSE 100000000 END);
	EXECUTE format('ALTER FUNCTION uba_events_serialize(internal) COST %s', CASE WHEN force THEN 1 ELSE 100000000 END);
	EXECUTE format('ALTER FUNCTION uba_events_deserialize(bytea, internal) COST %s', CASE WHEN force THEN 1 ELSE 100000000 END);
	RETURN CASE WHEN force THEN 'parallel plans forced' ELSE 'planner defaults' END;
END
$$;

-- forging models for validation tests: crc32c(), get_u32(), put_u32(), reseal()
\i test/lib/model_bytes.sql
