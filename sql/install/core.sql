-- uba core: model blobs, row and event collection, the model catalog
--
-- What every capability uses: the model format, the shared aggregate support functions, and the
-- catalog of named, versioned models with its owners, readers and training recipes.
-- The install script is these files in the order the Makefile lists them (INSTALL_PARTS);
-- the upgrade scripts beside them must reach the same objects (test/dump_restore.sh checks).
\echo Use "CREATE EXTENSION uba" to load this file. \quit

-------------------------------------------------------------------------------
-- Model blobs
-------------------------------------------------------------------------------

CREATE FUNCTION uba_model_info(model bytea) RETURNS jsonb
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;	-- created_at follows TimeZone
COMMENT ON FUNCTION uba_model_info(bytea) IS 'metadata of a uba model (validates it fully)';

CREATE FUNCTION uba_model_kind(model bytea) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_model_kind(bytea) IS 'kind of a uba model (validates it fully)';

-- the parsed models this backend keeps across queries (uba.model_cache_size bounds their memory)
CREATE FUNCTION uba_cached_models(OUT kind text, OUT created_at timestamptz, OUT bytes bigint, OUT in_use boolean)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 16;
COMMENT ON FUNCTION uba_cached_models() IS 'the models this backend keeps parsed across queries, most recently used first: kind, when the model was trained (uba_model_info''s created_at), memory';

-------------------------------------------------------------------------------
-- Parallel support shared by every row-collecting training aggregate
-------------------------------------------------------------------------------

CREATE FUNCTION uba_rowset_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- A partial state carries every row it collected, so handing it from a worker
-- to the leader costs more than the scan the worker saved (measured in
-- bench/README.md: 2.2x the serial time for 1M rows), and a worker can pass at
-- most 1 GB.  The planner charges these functions once per state, not per row;
-- the high COST makes it keep row-collecting aggregates in one process unless
-- the table is far beyond what uba.max_memory allows.  The aggregates stay
-- parallel safe: forced into a parallel plan they give the serial answer.
CREATE FUNCTION uba_rowset_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100000000;
CREATE FUNCTION uba_rowset_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100000000;


-- shared by the aggregates over (id, id [, weight]) events: uba_cf_train, uba_assoc_rules
CREATE FUNCTION uba_events_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- like the row set's: a partial state carries every event, so plans stay serial (see above)
CREATE FUNCTION uba_events_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100000000;
CREATE FUNCTION uba_events_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100000000;

-------------------------------------------------------------------------------
-- Model catalog: named, versioned models; kept by pg_dump.  Only uba's functions write it
-- (src/core/catalog.c); PUBLIC reads what row security shows.
-------------------------------------------------------------------------------

-- One row per model name: its version counter (versions are never reused), owner, readers and
-- the training recipe uba_model_retrain runs
CREATE TABLE uba_model_names (
	name text PRIMARY KEY CHECK (name <> '' AND length(name) <= 200),
	last_version int NOT NULL CHECK (last_version > 0),
	created_at timestamptz NOT NULL DEFAULT now(),
	created_by name NOT NULL DEFAULT current_user,
	training_query text,
	training_options jsonb,
	training_search_path text,
	owner pg_catalog.regrole NOT NULL,
	readers pg_catalog.regrole[] NOT NULL DEFAULT '{}'
);
SELECT pg_catalog.pg_extension_config_dump('uba_model_names', '');
COMMENT ON TABLE uba_model_names IS 'model names and their version counters; use uba_model_save()';
COMMENT ON COLUMN uba_model_names.training_query IS 'the query uba_model_retrain runs (set by uba_model_train)';
COMMENT ON COLUMN uba_model_names.owner IS 'role whose members may save, activate, drop and retrain this name';
COMMENT ON COLUMN uba_model_names.readers IS 'roles whose members may also read its models (- is everyone, ''public'')';

CREATE TABLE uba_model_store (
	name text NOT NULL,
	version int NOT NULL CHECK (version > 0),
	kind text NOT NULL,
	model bytea NOT NULL,
	metrics jsonb CHECK (metrics IS NULL OR jsonb_typeof(metrics) = 'object'),
	active boolean NOT NULL DEFAULT false,
	training_rows bigint NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	created_by name NOT NULL DEFAULT current_user,
	training_query text,
	training_started timestamptz,
	training_duration interval,
	PRIMARY KEY (name, version),
	CONSTRAINT uba_model_store_name_fkey
		FOREIGN KEY (name) REFERENCES uba_model_names (name) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX uba_model_store_active ON uba_model_store (name) WHERE active;
SELECT pg_catalog.pg_extension_config_dump('uba_model_store', '');
COMMENT ON TABLE uba_model_store IS 'saved uba models; use uba_model_save() and the uba_models view';

-- Privileges: everyone reads what row security shows; nobody but uba's functions writes.
-- Without UPDATE or DELETE nobody can LOCK the tables beyond ACCESS SHARE either.
REVOKE ALL ON uba_model_names, uba_model_store FROM PUBLIC;
GRANT SELECT ON uba_model_store TO PUBLIC;
-- the training recipe (query, options, search_path) is shown to those who may read the model,
-- through uba_models
GRANT SELECT (name, last_version, created_at, created_by, owner, readers) ON uba_model_names TO PUBLIC;
ALTER TABLE uba_model_names ENABLE ROW LEVEL SECURITY;
ALTER TABLE uba_model_store ENABLE ROW LEVEL SECURITY;

-- (No SET clause, so that the planner can inline them into the row security policy and the view;
-- every reference is schema-qualified instead.)
CREATE FUNCTION uba_model_may_change(owner pg_catalog.regrole) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT coalesce(pg_catalog.pg_has_role(current_user, owner::pg_catalog.oid, 'MEMBER'), false)
$$;
COMMENT ON FUNCTION uba_model_may_change(pg_catalog.regrole) IS 'whether the current user may save, activate, drop and retrain models of this owner';

CREATE FUNCTION uba_model_may_read(owner pg_catalog.regrole, readers pg_catalog.regrole[]) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT @extschema@.uba_model_may_change(owner)
	    OR EXISTS (SELECT 1 FROM pg_catalog.unnest(readers) r
	                WHERE r::pg_catalog.oid OPERATOR(pg_catalog.=) 0::pg_catalog.oid
	                   OR @extschema@.uba_model_may_change(r))
$$;
COMMENT ON FUNCTION uba_model_may_read(pg_catalog.regrole, pg_catalog.regrole[]) IS 'whether the current user may read models of this owner and these readers';

CREATE POLICY names_visible ON uba_model_names FOR SELECT USING (true);
CREATE POLICY store_read ON uba_model_store FOR SELECT
	USING (EXISTS (SELECT 1 FROM @extschema@.uba_model_names n
	                WHERE n.name OPERATOR(pg_catalog.=) uba_model_store.name
	                  AND @extschema@.uba_model_may_read(n.owner, n.readers)));

-- a security barrier: the view reads the tables with its owner's rights, so its filter must run
-- before any function of the caller's query sees a row
CREATE VIEW uba_models WITH (security_barrier) AS
SELECT s.name, s.version, s.kind, s.active,
       pg_catalog.octet_length(s.model) AS size_bytes,
       s.training_rows, s.created_at, s.created_by, s.metrics,
       n.owner,
       ARRAY(SELECT CASE WHEN r::pg_catalog.oid OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'public'::pg_catalog.name
                         ELSE r::pg_catalog.text::pg_catalog.name END
               FROM pg_catalog.unnest(n.readers) r) AS readers,
       s.training_query, s.training_started, s.training_duration
  FROM uba_model_store s JOIN uba_model_names n USING (name)
 WHERE @extschema@.uba_model_may_read(n.owner, n.readers)
 ORDER BY s.name, s.version;
GRANT SELECT ON uba_models TO PUBLIC;
COMMENT ON VIEW uba_models IS 'the saved model versions the current user may read, with owners, readers and provenance';

-- The catalog's changes, in C (src/core/catalog.c): each checks the rights of the role it runs as
-- and writes as the tables' owner with search_path pinned to pg_catalog.

CREATE FUNCTION uba_model_save(name text, model bytea, metrics jsonb DEFAULT NULL)
RETURNS int AS 'MODULE_PATHNAME', 'uba_model_save' LANGUAGE C VOLATILE;

CREATE FUNCTION uba_model_activate(name text, version int)
RETURNS void AS 'MODULE_PATHNAME', 'uba_model_activate' LANGUAGE C VOLATILE;

CREATE FUNCTION uba_model_drop(name text, version int DEFAULT NULL)
RETURNS int AS 'MODULE_PATHNAME', 'uba_model_drop' LANGUAGE C VOLATILE;

CREATE FUNCTION uba_model_lock(name text)
RETURNS boolean AS 'MODULE_PATHNAME', 'uba_model_lock' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION uba_model_lock(text) IS 'lock a model name one may change until the end of the transaction; false when it does not exist';

CREATE FUNCTION uba_model_train(name text, training_query text, options jsonb DEFAULT '{}')
RETURNS int AS 'MODULE_PATHNAME', 'uba_model_train' LANGUAGE C VOLATILE;

CREATE FUNCTION uba_model_retrain(name text)
RETURNS int AS 'MODULE_PATHNAME', 'uba_model_retrain' LANGUAGE C VOLATILE;

CREATE FUNCTION uba_model_set_owner(name text, owner name)
RETURNS void AS 'MODULE_PATHNAME', 'uba_model_set_owner' LANGUAGE C VOLATILE;

CREATE FUNCTION uba_model_grant_read(name text, reader name)
RETURNS void AS 'MODULE_PATHNAME', 'uba_model_grant_read' LANGUAGE C VOLATILE;

CREATE FUNCTION uba_model_revoke_read(name text, reader name)
RETURNS void AS 'MODULE_PATHNAME', 'uba_model_revoke_read' LANGUAGE C VOLATILE;

COMMENT ON FUNCTION uba_model_save(text, bytea, jsonb) IS 'save a model as the next version of a name and make it active';
COMMENT ON FUNCTION uba_model_activate(text, int) IS 'make a saved version the active one (instant rollback)';
COMMENT ON FUNCTION uba_model_drop(text, int) IS 'drop one version of a model (numbers are not reused), or the whole name; returns how many versions';
COMMENT ON FUNCTION uba_model_train(text, text, jsonb) IS 'run a training query, save its model as a new version with what produced it, and remember the query for uba_model_retrain';
COMMENT ON FUNCTION uba_model_retrain(text) IS 'run the stored training query of a model again and save the result as a new version';
COMMENT ON FUNCTION uba_model_set_owner(text, name) IS 'hand a model name to another role (one you are a member of)';
COMMENT ON FUNCTION uba_model_grant_read(text, name) IS 'let the members of a role (or ''public'') read a model name''s versions';
COMMENT ON FUNCTION uba_model_revoke_read(text, name) IS 'take back a role''s right to read a model name';

-- Reading: exact types and qualified names, so that no overload in a schema others can write
-- to is chosen instead (or makes a call ambiguous)

-- a name the current user may not read is "permission denied", not "does not exist"
CREATE FUNCTION uba_model(name text, version int DEFAULT NULL)
RETURNS bytea
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m bytea;
BEGIN
	SELECT s.model INTO m FROM @extschema@.uba_model_store s
	 WHERE s.name = uba_model.name
	   AND (CASE WHEN uba_model.version IS NULL THEN s.active ELSE s.version = uba_model.version END);
	IF NOT FOUND THEN
		IF EXISTS (SELECT 1 FROM @extschema@.uba_model_names n
		            WHERE n.name = uba_model.name AND NOT @extschema@.uba_model_may_read(n.owner, n.readers)) THEN
			RAISE EXCEPTION 'permission denied for model "%"', name
				USING ERRCODE = 'insufficient_privilege',
				      HINT = 'Members of its owner role can let you read it with uba_model_grant_read().';
		ELSIF version IS NULL THEN
			RAISE EXCEPTION 'model "%" does not exist', name
				USING ERRCODE = 'undefined_object',
				      HINT = 'Save one with uba_model_save(), or list saved models in the uba_models view.';
		ELSE
			RAISE EXCEPTION 'version % of model "%" does not exist', version, name
				USING ERRCODE = 'undefined_object',
				      HINT = 'List saved versions in the uba_models view.';
		END IF;
	END IF;
	RETURN m;
END
$$;

COMMENT ON FUNCTION uba_model(text, int) IS 'a saved model: the active version, or the given one';
