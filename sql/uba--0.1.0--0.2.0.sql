-- uba 0.1.0 -> 0.2.0: operations.  Owners and readers for catalog models, enforced by row
-- security; training recipes and provenance (uba_model_train, uba_model_retrain); version
-- retention (uba.keep_versions); search_path-proof SQL functions.
\echo Use "ALTER EXTENSION uba UPDATE TO '0.2.0'" to load this file. \quit

-------------------------------------------------------------------------------
-- Who may do what with a model name
-------------------------------------------------------------------------------

-- Members of the owner role may save, activate, drop and retrain a name; they and members of
-- a reader role (or everyone, for the reader 'public') may read its models.  A role that no
-- longer exists grants nothing.
-- (No SET clause, so that the planner can inline them into the row security policies; every
-- reference is schema-qualified instead.)
CREATE FUNCTION uba_model_may_change(owner name) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT coalesce(pg_catalog.pg_has_role(current_user,
	                                       pg_catalog.to_regrole(pg_catalog.quote_ident(owner))::pg_catalog.oid,
	                                       'MEMBER'), false)
$$;
COMMENT ON FUNCTION uba_model_may_change(name) IS 'whether the current user may save, activate, drop and retrain models of this owner';

CREATE FUNCTION uba_model_may_read(owner name, readers name[]) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT @extschema@.uba_model_may_change(owner)
	    OR 'public' OPERATOR(pg_catalog.=) ANY (readers)
	    OR EXISTS (SELECT 1 FROM pg_catalog.unnest(readers) r
	                WHERE @extschema@.uba_model_may_change(r))
$$;
COMMENT ON FUNCTION uba_model_may_read(name, name[]) IS 'whether the current user may read models of this owner and these readers';

ALTER TABLE uba_model_names
	ADD COLUMN owner name,
	ADD COLUMN readers name[] NOT NULL DEFAULT '{}',
	ADD COLUMN training_query text,
	ADD COLUMN training_options jsonb,
	ADD COLUMN training_search_path text;
UPDATE uba_model_names SET owner = created_by;
ALTER TABLE uba_model_names
	ALTER COLUMN owner SET NOT NULL,
	ALTER COLUMN owner SET DEFAULT current_user;
COMMENT ON COLUMN uba_model_names.owner IS 'role whose members may save, activate, drop and retrain this name';
COMMENT ON COLUMN uba_model_names.readers IS 'roles whose members may also read its models (''public'': everyone)';
COMMENT ON COLUMN uba_model_names.training_query IS 'the query uba_model_retrain runs (set by uba_model_train)';

-- what produced each version (uba_model_train fills them; uba_model_save leaves them NULL)
ALTER TABLE uba_model_store
	ADD COLUMN training_query text,
	ADD COLUMN training_started timestamptz,
	ADD COLUMN training_duration interval;

-- Row security: everyone may see the names (and owners) and use the functions; rows change
-- only for members of the owner role, and models are visible only to those who may read them.
-- Superusers and the extension's owner are not restricted.
GRANT SELECT, INSERT, UPDATE, DELETE ON uba_model_names, uba_model_store TO PUBLIC;
ALTER TABLE uba_model_names ENABLE ROW LEVEL SECURITY;
ALTER TABLE uba_model_store ENABLE ROW LEVEL SECURITY;
CREATE POLICY names_visible ON uba_model_names FOR SELECT USING (true);
CREATE POLICY names_insert ON uba_model_names FOR INSERT
	WITH CHECK (@extschema@.uba_model_may_change(owner));
CREATE POLICY names_update ON uba_model_names FOR UPDATE
	USING (@extschema@.uba_model_may_change(owner)) WITH CHECK (@extschema@.uba_model_may_change(owner));
CREATE POLICY names_delete ON uba_model_names FOR DELETE
	USING (@extschema@.uba_model_may_change(owner));
CREATE POLICY store_read ON uba_model_store FOR SELECT
	USING (EXISTS (SELECT 1 FROM @extschema@.uba_model_names n
	                WHERE n.name OPERATOR(pg_catalog.=) uba_model_store.name
	                  AND @extschema@.uba_model_may_read(n.owner, n.readers)));
CREATE POLICY store_insert ON uba_model_store FOR INSERT
	WITH CHECK (EXISTS (SELECT 1 FROM @extschema@.uba_model_names n
	                     WHERE n.name OPERATOR(pg_catalog.=) uba_model_store.name
	                       AND @extschema@.uba_model_may_change(n.owner)));
CREATE POLICY store_update ON uba_model_store FOR UPDATE
	USING (EXISTS (SELECT 1 FROM @extschema@.uba_model_names n
	                WHERE n.name OPERATOR(pg_catalog.=) uba_model_store.name
	                  AND @extschema@.uba_model_may_change(n.owner)));
CREATE POLICY store_delete ON uba_model_store FOR DELETE
	USING (EXISTS (SELECT 1 FROM @extschema@.uba_model_names n
	                WHERE n.name OPERATOR(pg_catalog.=) uba_model_store.name
	                  AND @extschema@.uba_model_may_change(n.owner)));

-- Whether a name exists, raising permission denied when the current user may not change it
CREATE FUNCTION uba_model_check(name text) RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	o name;
BEGIN
	SELECT n.owner INTO o FROM @extschema@.uba_model_names n WHERE n.name = uba_model_check.name;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	IF NOT @extschema@.uba_model_may_change(o) THEN
		RAISE EXCEPTION 'permission denied for model "%"', name
			USING ERRCODE = 'insufficient_privilege',
			      DETAIL = format('Only members of its owner role %s may save, activate, drop or retrain it.', o),
			      HINT = format('Ask a member of %s to GRANT %s TO you.', o, o);
	END IF;
	RETURN true;
END
$$;
COMMENT ON FUNCTION uba_model_check(text) IS 'whether a model name exists; an error when the current user may not change it';

-- Lock a name for a change (after the check above); false when the name is unknown.  Changes
-- to one name are serialized by this row lock.
CREATE OR REPLACE FUNCTION uba_model_lock(name text) RETURNS boolean
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT @extschema@.uba_model_check(name)
	   AND EXISTS (SELECT 1 FROM @extschema@.uba_model_names n
	                WHERE n.name = uba_model_lock.name FOR UPDATE)
$$;

-- The same, for a name that must exist
CREATE FUNCTION uba_model_lock_existing(name text) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT @extschema@.uba_model_lock(name) THEN
		RAISE EXCEPTION 'model "%" does not exist', name USING ERRCODE = 'undefined_object';
	END IF;
END
$$;

-------------------------------------------------------------------------------
-- Saving: one function stores every version, with its provenance and retention
-------------------------------------------------------------------------------

CREATE FUNCTION uba_model_store_version(name text, model bytea, metrics jsonb, activate boolean,
	training_query text, training_started timestamptz, training_duration interval)
RETURNS int
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	info jsonb;
	v int;
	keep int;
BEGIN
	IF name IS NULL OR model IS NULL THEN
		RAISE EXCEPTION 'model name and model must not be NULL'
			USING ERRCODE = 'null_value_not_allowed',
			      HINT = 'A NULL model usually means the training query saw no rows.';
	END IF;
	IF name = '' OR length(name) > 200 THEN
		RAISE EXCEPTION 'model name must be 1 to 200 characters long'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF metrics IS NOT NULL AND jsonb_typeof(metrics) <> 'object' THEN
		RAISE EXCEPTION 'metrics must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	info := @extschema@.uba_model_info(model);	-- validates the whole blob

	-- the next version number; the row lock serializes savers of one name
	IF @extschema@.uba_model_lock(name) THEN
		UPDATE @extschema@.uba_model_names n SET last_version = n.last_version + 1
		 WHERE n.name = uba_model_store_version.name
		RETURNING n.last_version INTO v;
	ELSE
		INSERT INTO @extschema@.uba_model_names AS n (name, last_version)
		VALUES (name, 1)
		ON CONFLICT ON CONSTRAINT uba_model_names_pkey
		DO UPDATE SET last_version = n.last_version + 1	-- a concurrent first save; row security checks the owner
		RETURNING n.last_version INTO v;
	END IF;

	IF activate OR NOT EXISTS (SELECT 1 FROM @extschema@.uba_model_store s
	                            WHERE s.name = uba_model_store_version.name AND s.active) THEN
		UPDATE @extschema@.uba_model_store s SET active = false
		 WHERE s.name = uba_model_store_version.name AND s.active;
		activate := true;
	END IF;
	INSERT INTO @extschema@.uba_model_store (name, version, kind, model, metrics, active, training_rows,
	                                         training_query, training_started, training_duration)
	VALUES (name, v, info->>'kind', model, metrics, activate, (info->>'training_rows')::bigint,
	        training_query, training_started, training_duration);

	-- retention: the newest uba.keep_versions versions, and the active one
	keep := coalesce(nullif(current_setting('uba.keep_versions', true), '')::int, 0);
	IF keep > 0 THEN
		DELETE FROM @extschema@.uba_model_store s
		 WHERE s.name = uba_model_store_version.name AND NOT s.active
		   AND s.version <= v - keep;
	END IF;
	RETURN v;
END
$$;
COMMENT ON FUNCTION uba_model_store_version(text, bytea, jsonb, boolean, text, timestamptz, interval) IS 'store a model version with its provenance (used by uba_model_save and uba_model_train)';

CREATE OR REPLACE FUNCTION uba_model_save(name text, model bytea, metrics jsonb DEFAULT NULL)
RETURNS int
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT @extschema@.uba_model_store_version(name, model, metrics, true, NULL, NULL, NULL)
$$;

CREATE OR REPLACE FUNCTION uba_model_activate(name text, version int)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT @extschema@.uba_model_lock(name)
	   OR NOT EXISTS (SELECT 1 FROM @extschema@.uba_model_store s
	                   WHERE s.name = uba_model_activate.name AND s.version = uba_model_activate.version) THEN
		RAISE EXCEPTION 'version % of model "%" does not exist', version, name
			USING ERRCODE = 'undefined_object',
			      HINT = 'List saved versions in the uba_models view.';
	END IF;
	UPDATE @extschema@.uba_model_store s SET active = false
	 WHERE s.name = uba_model_activate.name AND s.active AND s.version <> uba_model_activate.version;
	UPDATE @extschema@.uba_model_store s SET active = true
	 WHERE s.name = uba_model_activate.name AND s.version = uba_model_activate.version AND NOT s.active;
END
$$;

-- a name the current user may not read is "permission denied", not "does not exist"
CREATE OR REPLACE FUNCTION uba_model(name text, version int DEFAULT NULL)
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

-------------------------------------------------------------------------------
-- Training recipes: train from a query, retrain later (by hand or from pg_cron)
-------------------------------------------------------------------------------

-- Runs with the caller's rights and search_path (it has no SET clause, so every reference in
-- it is schema-qualified); the query must return one row with one bytea column, the model.
CREATE FUNCTION uba_model_train(name text, training_query text, options jsonb DEFAULT '{}')
RETURNS int
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	started timestamptz := pg_catalog.clock_timestamp();
	model bytea;
	nrows int;
	v int;
	opt text;
	activate boolean := true;
	metrics jsonb;
BEGIN
	IF name IS NULL OR training_query IS NULL THEN
		RAISE EXCEPTION 'model name and training query must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF options IS NULL OR pg_catalog.jsonb_typeof(options) OPERATOR(pg_catalog.<>) 'object' THEN
		RAISE EXCEPTION 'options of uba_model_train must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'For example ''{"activate": false}''.';
	END IF;
	FOR opt IN SELECT pg_catalog.jsonb_object_keys(options) LOOP
		IF opt OPERATOR(pg_catalog.<>) ALL (ARRAY['activate', 'metrics']) THEN
			RAISE EXCEPTION 'unknown option "%" for uba_model_train', opt
				USING ERRCODE = 'invalid_parameter_value',
				      DETAIL = 'Valid options are: activate, metrics.';
		END IF;
	END LOOP;
	IF options OPERATOR(pg_catalog.?) 'activate' THEN
		IF pg_catalog.jsonb_typeof(options OPERATOR(pg_catalog.->) 'activate') OPERATOR(pg_catalog.<>) 'boolean' THEN
			RAISE EXCEPTION 'option "activate" of uba_model_train must be true or false'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		activate := (options OPERATOR(pg_catalog.->>) 'activate')::pg_catalog.bool;
	END IF;
	metrics := options OPERATOR(pg_catalog.->) 'metrics';

	-- the right to change an existing name is checked before the (long) training, without a lock
	PERFORM @extschema@.uba_model_check(name);
	-- one column: a probe that names two columns fails (42P10) exactly when there is one;
	-- LIMIT 0 stops it before any row is read
	BEGIN
		EXECUTE 'SELECT 1 FROM (' || pg_catalog.rtrim(training_query, E'; \n\t') || ') AS q(model, another) LIMIT 0';
		RAISE EXCEPTION 'the training query of model "%" must return one column, the model', name
			USING ERRCODE = 'datatype_mismatch',
			      HINT = 'For example SELECT uba_kmeans(features, 5) FROM t.';
	EXCEPTION
		WHEN invalid_column_reference THEN
			NULL;
	END;
	BEGIN
		EXECUTE training_query INTO STRICT model;
	EXCEPTION
		WHEN no_data_found THEN
			RAISE EXCEPTION 'the training query of model "%" returned no row', name
				USING ERRCODE = 'cardinality_violation',
				      HINT = 'It must return one row with one column: the model, for example SELECT uba_kmeans(features, 5) FROM t.';
		WHEN too_many_rows THEN
			RAISE EXCEPTION 'the training query of model "%" returned more than one row', name
				USING ERRCODE = 'cardinality_violation',
				      HINT = 'It must return one row with one column: the model.';
	END;
	IF model IS NULL THEN
		RAISE EXCEPTION 'the training query of model "%" returned NULL', name
			USING ERRCODE = 'null_value_not_allowed',
			      HINT = 'A training aggregate returns NULL when it sees no rows.';
	END IF;
	v := @extschema@.uba_model_store_version(name, model, metrics, activate, training_query, started,
	                                         pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started);
	UPDATE @extschema@.uba_model_names n
	   SET training_query = uba_model_train.training_query,
	       training_options = options OPERATOR(pg_catalog.-) 'metrics',	-- they describe this version only
	       training_search_path = pg_catalog.current_setting('search_path')
	 WHERE n.name OPERATOR(pg_catalog.=) uba_model_train.name;
	RETURN v;
END
$$;
COMMENT ON FUNCTION uba_model_train(text, text, jsonb) IS 'run a training query, save its model as a new version with what produced it, and remember the query for uba_model_retrain';

-- Runs the stored query again, as the name's owner role and with the search_path it was trained
-- with.  As the owner: a superuser's nightly job must not run a query that a less privileged owner
-- wrote with the superuser's rights.  (A pg_cron job also has the server's default search_path.)
CREATE FUNCTION uba_model_retrain(name text)
RETURNS int
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	q text;
	o jsonb;
	p text;
	r name;
	saved_path text := pg_catalog.current_setting('search_path');
	saved_role text := pg_catalog.current_setting('role');
	v int;
BEGIN
	SELECT n.training_query, n.training_options, n.training_search_path, n.owner INTO q, o, p, r
	  FROM @extschema@.uba_model_names n WHERE n.name OPERATOR(pg_catalog.=) uba_model_retrain.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model "%" does not exist', name
			USING ERRCODE = 'undefined_object',
			      HINT = 'Train it first with uba_model_train(name, training_query).';
	END IF;
	PERFORM @extschema@.uba_model_check(name);	-- permission denied unless a member of the owner role
	IF q IS NULL THEN
		RAISE EXCEPTION 'model "%" has no training query', name
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = 'It was saved with uba_model_save(); train it once with uba_model_train(name, training_query).';
	END IF;
	PERFORM pg_catalog.set_config('role', r, true);
	PERFORM pg_catalog.set_config('search_path', p, true);
	v := @extschema@.uba_model_train(name, q, o);
	PERFORM pg_catalog.set_config('search_path', saved_path, true);
	PERFORM pg_catalog.set_config('role', saved_role, true);
	RETURN v;
END
$$;
COMMENT ON FUNCTION uba_model_retrain(text) IS 'run the stored training query of a model again and save the result as a new version';

-------------------------------------------------------------------------------
-- Owners and readers
-------------------------------------------------------------------------------

CREATE FUNCTION uba_model_set_owner(name text, owner name)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@.uba_model_lock_existing(name);
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = owner) THEN
		RAISE EXCEPTION 'role "%" does not exist', owner USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT @extschema@.uba_model_may_change(owner) THEN
		RAISE EXCEPTION 'permission denied to give model "%" to role "%"', name, owner
			USING ERRCODE = 'insufficient_privilege',
			      DETAIL = 'The new owner must be a role you are a member of.';
	END IF;
	UPDATE @extschema@.uba_model_names n SET owner = uba_model_set_owner.owner
	 WHERE n.name = uba_model_set_owner.name;
END
$$;
COMMENT ON FUNCTION uba_model_set_owner(text, name) IS 'hand a model name to another role (one you are a member of)';

CREATE FUNCTION uba_model_grant_read(name text, reader name)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@.uba_model_lock_existing(name);
	IF reader <> 'public' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = reader) THEN
		RAISE EXCEPTION 'role "%" does not exist', reader USING ERRCODE = 'undefined_object';
	END IF;
	UPDATE @extschema@.uba_model_names n SET readers = array_append(n.readers, reader)
	 WHERE n.name = uba_model_grant_read.name AND NOT reader = ANY (n.readers);
END
$$;
COMMENT ON FUNCTION uba_model_grant_read(text, name) IS 'let the members of a role (or ''public'') read a model name''s versions';

CREATE FUNCTION uba_model_revoke_read(name text, reader name)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@.uba_model_lock_existing(name);
	UPDATE @extschema@.uba_model_names n SET readers = array_remove(n.readers, reader)
	 WHERE n.name = uba_model_revoke_read.name;
END
$$;
COMMENT ON FUNCTION uba_model_revoke_read(text, name) IS 'take back a role''s right to read a model name';

-- the catalog as the current user may see it, with owners, readers and provenance
CREATE OR REPLACE VIEW uba_models AS
SELECT s.name, s.version, s.kind, s.active,
       octet_length(s.model) AS size_bytes,
       s.training_rows, s.created_at, s.created_by, s.metrics,
       n.owner, n.readers, s.training_query, s.training_started, s.training_duration
  FROM uba_model_store s JOIN uba_model_names n USING (name)
 WHERE @extschema@.uba_model_may_read(n.owner, n.readers)
 ORDER BY s.name, s.version;
GRANT SELECT ON uba_models TO PUBLIC;

-------------------------------------------------------------------------------
-- search_path: SQL functions that are inlined into the caller's query cannot carry SET
-- search_path, so every reference in them is schema-qualified
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION uba_recommend(user_id bigint, n int, model_name text DEFAULT NULL,
	OUT item_id bigint, OUT score float8)
	RETURNS SETOF record
	LANGUAGE sql STABLE PARALLEL SAFE ROWS 10
AS $$
	SELECT r.item_id, r.score
	  FROM @extschema@.uba_cf_recommend(
	         coalesce((SELECT s.model FROM @extschema@.uba_model_store s
	                    WHERE s.name OPERATOR(pg_catalog.=) coalesce(model_name, pg_catalog.current_setting('uba.recommender', true), 'recommender')
	                      AND s.active),
	                  @extschema@.uba_model(coalesce(model_name, pg_catalog.current_setting('uba.recommender', true), 'recommender'))),
	         user_id, n) r
$$;
