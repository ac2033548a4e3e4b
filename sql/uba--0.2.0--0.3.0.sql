-- uba 0.2.0 -> 0.3.0: security fixes.  The catalog is written only by uba's functions (C, checking
-- the rights of the role they run as, writing as the tables' owner); owners and readers are role
-- OIDs; every version belongs to a name (foreign key); uba_model_retrain runs a stored query as its
-- owner in a security-restricted operation; internal calls name exact types.
\echo Use "ALTER EXTENSION uba UPDATE TO '0.3.0'" to load this file. \quit

-------------------------------------------------------------------------------
-- Out of the way: what depends on the columns that change, and the SQL helpers C replaces
-------------------------------------------------------------------------------

DROP VIEW uba_models;
DROP POLICY names_visible ON uba_model_names;
DROP POLICY names_insert ON uba_model_names;
DROP POLICY names_update ON uba_model_names;
DROP POLICY names_delete ON uba_model_names;
DROP POLICY store_read ON uba_model_store;
DROP POLICY store_insert ON uba_model_store;
DROP POLICY store_update ON uba_model_store;
DROP POLICY store_delete ON uba_model_store;
DROP FUNCTION uba_model_store_version(text, bytea, jsonb, boolean, text, timestamptz, interval);
DROP FUNCTION uba_model_lock_existing(text);
DROP FUNCTION uba_model_check(text);
DROP FUNCTION uba_model_may_read(name, name[]);
DROP FUNCTION uba_model_may_change(name);

-------------------------------------------------------------------------------
-- The rows made whole (0.2.0 let owners delete and edit catalog rows directly)
-------------------------------------------------------------------------------

-- a version whose name row is gone gets it back, owned by the catalog's owner (a superuser) until
-- a superuser hands it on with uba_model_set_owner
INSERT INTO uba_model_names (name, last_version, created_at, created_by, owner)
SELECT s.name, pg_catalog.max(s.version), pg_catalog.min(s.created_at), c.relowner::pg_catalog.regrole::pg_catalog.text,
       c.relowner::pg_catalog.regrole::pg_catalog.text
  FROM uba_model_store s, pg_catalog.pg_class c
 WHERE c.oid OPERATOR(pg_catalog.=) 'uba_model_store'::pg_catalog.regclass
   AND NOT EXISTS (SELECT 1 FROM uba_model_names n WHERE n.name OPERATOR(pg_catalog.=) s.name)
 GROUP BY s.name, c.relowner;
-- a counter below a stored version would give out that number again
UPDATE uba_model_names n SET last_version = m.v
  FROM (SELECT s.name, pg_catalog.max(s.version) AS v FROM uba_model_store s GROUP BY s.name) m
 WHERE m.name OPERATOR(pg_catalog.=) n.name AND m.v OPERATOR(pg_catalog.>) n.last_version;

-- owners and readers by OID: a dropped role's names are no one's (superusers may still hand them
-- on), and a new role of the same name gets nothing.  An owner that no longer exists becomes the
-- catalog's owner; a reader that no longer exists is dropped.  Reader 0 is everyone ('public').
ALTER TABLE uba_model_names ADD COLUMN owner_id pg_catalog.regrole, ADD COLUMN reader_ids pg_catalog.regrole[];
UPDATE uba_model_names n
   SET owner_id = coalesce(pg_catalog.to_regrole(pg_catalog.quote_ident(n.owner)),
                           (SELECT c.relowner FROM pg_catalog.pg_class c
                             WHERE c.oid OPERATOR(pg_catalog.=) 'uba_model_store'::pg_catalog.regclass)::pg_catalog.regrole),
       reader_ids = ARRAY(SELECT CASE WHEN r OPERATOR(pg_catalog.=) 'public' THEN 0::pg_catalog.oid::pg_catalog.regrole
                                      ELSE pg_catalog.to_regrole(pg_catalog.quote_ident(r)) END
                            FROM pg_catalog.unnest(n.readers) r
                           WHERE r OPERATOR(pg_catalog.=) 'public' OR pg_catalog.to_regrole(pg_catalog.quote_ident(r)) IS NOT NULL);
ALTER TABLE uba_model_names DROP COLUMN owner, DROP COLUMN readers;
ALTER TABLE uba_model_names RENAME COLUMN owner_id TO owner;
ALTER TABLE uba_model_names RENAME COLUMN reader_ids TO readers;
ALTER TABLE uba_model_names
	ALTER COLUMN owner SET NOT NULL,
	ALTER COLUMN readers SET NOT NULL,
	ALTER COLUMN readers SET DEFAULT '{}';
COMMENT ON COLUMN uba_model_names.owner IS 'role whose members may save, activate, drop and retrain this name';
COMMENT ON COLUMN uba_model_names.readers IS 'roles whose members may also read its models (- is everyone, ''public'')';

-- every version belongs to a name; dropping a name drops its versions
ALTER TABLE uba_model_store ADD CONSTRAINT uba_model_store_name_fkey
	FOREIGN KEY (name) REFERENCES uba_model_names (name) ON DELETE CASCADE ON UPDATE CASCADE;

-------------------------------------------------------------------------------
-- Privileges: everyone reads what row security shows; nobody but uba's functions writes.
-- Without UPDATE or DELETE nobody can LOCK the tables beyond ACCESS SHARE either.
-------------------------------------------------------------------------------

REVOKE ALL ON uba_model_names, uba_model_store FROM PUBLIC;
GRANT SELECT ON uba_model_store TO PUBLIC;
-- the training recipe (query, options, search_path) is shown to those who may read the model,
-- through uba_models
GRANT SELECT (name, last_version, created_at, created_by, owner, readers) ON uba_model_names TO PUBLIC;

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

-------------------------------------------------------------------------------
-- The catalog's changes, in C (catalog.c)
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION uba_model_save(name text, model bytea, metrics jsonb DEFAULT NULL)
RETURNS int AS 'MODULE_PATHNAME', 'uba_model_save' LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION uba_model_activate(name text, version int)
RETURNS void AS 'MODULE_PATHNAME', 'uba_model_activate' LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION uba_model_drop(name text, version int DEFAULT NULL)
RETURNS int AS 'MODULE_PATHNAME', 'uba_model_drop' LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION uba_model_lock(name text)
RETURNS boolean AS 'MODULE_PATHNAME', 'uba_model_lock' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION uba_model_lock(text) IS 'lock a model name one may change until the end of the transaction; false when it does not exist';

CREATE OR REPLACE FUNCTION uba_model_train(name text, training_query text, options jsonb DEFAULT '{}')
RETURNS int AS 'MODULE_PATHNAME', 'uba_model_train' LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION uba_model_retrain(name text)
RETURNS int AS 'MODULE_PATHNAME', 'uba_model_retrain' LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION uba_model_set_owner(name text, owner name)
RETURNS void AS 'MODULE_PATHNAME', 'uba_model_set_owner' LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION uba_model_grant_read(name text, reader name)
RETURNS void AS 'MODULE_PATHNAME', 'uba_model_grant_read' LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION uba_model_revoke_read(name text, reader name)
RETURNS void AS 'MODULE_PATHNAME', 'uba_model_revoke_read' LANGUAGE C VOLATILE;

-------------------------------------------------------------------------------
-- The per-backend model cache, bounded by uba.model_cache_size
-------------------------------------------------------------------------------

-- the parsed models this backend keeps across queries (uba.model_cache_size bounds their memory)
CREATE FUNCTION uba_cached_models(OUT kind text, OUT created_at timestamptz, OUT bytes bigint, OUT in_use boolean)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 16;
COMMENT ON FUNCTION uba_cached_models() IS 'the models this backend keeps parsed across queries, most recently used first: kind, when the model was trained (uba_model_info''s created_at), memory';

-------------------------------------------------------------------------------
-- Reading: exact types and qualified names, so that no overload in a schema others can write
-- to is chosen instead (or makes a call ambiguous)
-------------------------------------------------------------------------------

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
-- k-means: the model's own scale, for measuring quality where it clustered
-------------------------------------------------------------------------------

CREATE FUNCTION uba_kmeans_transform(model bytea, features float8[]) RETURNS float8[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_transform(bytea, float8[]) IS 'features as the model clustered them: z-scored with the training means and standard deviations when trained with "standardize", else unchanged';

-------------------------------------------------------------------------------
-- ridge regression: its coefficients, with least-squares statistics
-------------------------------------------------------------------------------

CREATE FUNCTION uba_linreg_coefficients(model bytea,
	OUT feature int, OUT name text, OUT coefficient float8, OUT std_coefficient float8,
	OUT std_error float8, OUT t float8, OUT p_value float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION uba_linreg_coefficients(bytea) IS 'coefficients of a ridge regression model in input units and per standard deviation; for least squares (l2 = 0) standard errors, t and p-values as R''s summary.lm';

-------------------------------------------------------------------------------
-- Ids as they are: recommenders, association rules and ranking metrics take ids of any integer
-- type, text or uuid, keep them in the model, and answer in them.  The bigint-only functions of
-- 0.2.0 go; their result types become polymorphic (the caller's ids say them), so
-- objects of the user's built on them must be dropped first and made again after the update:
-- the update says which, rather than failing on the first with DROP's generic message.
-------------------------------------------------------------------------------

DO $check$
DECLARE
	dependents text;
BEGIN
	SELECT pg_catalog.string_agg(DISTINCT
	         CASE WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
	              THEN (SELECT pg_catalog.format('view %s', r.ev_class::pg_catalog.regclass)
	                      FROM pg_catalog.pg_rewrite r WHERE r.oid OPERATOR(pg_catalog.=) d.objid)
	              ELSE pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) END, ', ')
	  INTO dependents
	  FROM pg_catalog.pg_depend d
	 WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
	   AND d.deptype OPERATOR(pg_catalog.=) 'n'
	   AND d.refobjid OPERATOR(pg_catalog.=) ANY (ARRAY[
		'uba_cf_train(bigint, bigint, float8, jsonb)',
		'uba_cf_train(bigint, bigint, float8)',
		'uba_cf_transfn(internal, bigint, bigint, float8, jsonb)',
		'uba_cf_transfn(internal, bigint, bigint, float8)',
		'uba_cf_recommend(bytea, bigint, int, jsonb)',
		'uba_cf_recommend(bytea, bigint[], int, jsonb)',
		'uba_cf_similar_items(bytea, bigint, int)',
		'uba_recommend(bigint, int, text)',
		'uba_cf_explain(bytea, bigint, bigint, int)',
		'uba_assoc_rules(bigint, bigint, jsonb)',
		'uba_assoc_rules(bigint, bigint)',
		'uba_assoc_transfn(internal, bigint, bigint, jsonb)',
		'uba_assoc_transfn(internal, bigint, bigint)',
		'uba_assoc_rules_list(bytea)',
		'uba_basket_complete(bytea, bigint[], int)',
		'uba_precision_at_k(bigint[], bigint[], int)',
		'uba_recall_at_k(bigint[], bigint[], int)',
		'uba_ndcg_at_k(bigint[], bigint[], int)',
		'uba_average_precision_at_k(bigint[], bigint[], int)',
		'uba_hit_rate_at_k(bigint[], bigint[], int)'
	       ]::pg_catalog.regprocedure[]::pg_catalog.oid[])
	   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
	                    WHERE e.classid OPERATOR(pg_catalog.=) d.classid AND e.objid OPERATOR(pg_catalog.=) d.objid
	                      AND e.deptype OPERATOR(pg_catalog.=) 'e');
	IF dependents IS NOT NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'dependent_objects_still_exist',
			MESSAGE = pg_catalog.format('uba 0.3.0 replaces recommendation, association rule and ranking functions that %s use', dependents),
			DETAIL = 'Ids keep their own type in 0.3.0: the functions take and return ids of any integer type, text or uuid; recommendations for a user return item ids in the type of the user id, or of item_type.',
			HINT = 'Save the definitions, drop those objects, run ALTER EXTENSION uba UPDATE again, then create them again (see CHANGELOG.md).';
	END IF;
END
$check$;

DROP AGGREGATE uba_cf_train(bigint, bigint, float8, jsonb);
DROP AGGREGATE uba_cf_train(bigint, bigint, float8);
DROP FUNCTION uba_cf_transfn(internal, bigint, bigint, float8, jsonb);
DROP FUNCTION uba_cf_transfn(internal, bigint, bigint, float8);
DROP FUNCTION uba_cf_recommend(bytea, bigint, int, jsonb);
DROP FUNCTION uba_cf_recommend(bytea, bigint[], int, jsonb);
DROP FUNCTION uba_cf_similar_items(bytea, bigint, int);
DROP FUNCTION uba_recommend(bigint, int, text);
DROP FUNCTION uba_cf_explain(bytea, bigint, bigint, int);
DROP AGGREGATE uba_assoc_rules(bigint, bigint, jsonb);
DROP AGGREGATE uba_assoc_rules(bigint, bigint);
DROP FUNCTION uba_assoc_transfn(internal, bigint, bigint, jsonb);
DROP FUNCTION uba_assoc_transfn(internal, bigint, bigint);
DROP FUNCTION uba_assoc_rules_list(bytea);
DROP FUNCTION uba_basket_complete(bytea, bigint[], int);
DROP FUNCTION uba_precision_at_k(bigint[], bigint[], int);
DROP FUNCTION uba_recall_at_k(bigint[], bigint[], int);
DROP FUNCTION uba_ndcg_at_k(bigint[], bigint[], int);
DROP FUNCTION uba_average_precision_at_k(bigint[], bigint[], int);
DROP FUNCTION uba_hit_rate_at_k(bigint[], bigint[], int);

-- Ids are bigint, integer, smallint, text, varchar, char or uuid (src/core/ids.c): user and item ids
-- have types of their own (anynonarray and anycompatiblenonarray), and results give items back in
-- the type the caller's arguments say.
CREATE FUNCTION uba_cf_transfn(internal, anynonarray, anycompatiblenonarray, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_cf_transfn(internal, anynonarray, anycompatiblenonarray, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;


CREATE AGGREGATE uba_cf_train(user_id anynonarray, item_id anycompatiblenonarray, weight float8, options jsonb) (
	SFUNC = uba_cf_transfn, STYPE = internal, FINALFUNC = uba_cf_final,
	FINALFUNC_MODIFY = READ_WRITE, COMBINEFUNC = uba_events_combine,
	SERIALFUNC = uba_events_serialize, DESERIALFUNC = uba_events_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_cf_train(user_id anynonarray, item_id anycompatiblenonarray, weight float8) (
	SFUNC = uba_cf_transfn, STYPE = internal, FINALFUNC = uba_cf_final,
	FINALFUNC_MODIFY = READ_WRITE, COMBINEFUNC = uba_events_combine,
	SERIALFUNC = uba_events_serialize, DESERIALFUNC = uba_events_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_cf_train(anynonarray, anycompatiblenonarray, float8, jsonb) IS 'train a recommendation model (implicit-feedback ALS) from (user, item, weight) events; ids of any integer type, text or uuid';
COMMENT ON AGGREGATE uba_cf_train(anynonarray, anycompatiblenonarray, float8) IS 'train a recommendation model (implicit-feedback ALS) from (user, item, weight) events; ids of any integer type, text or uuid';

-- Every form says where each item came from (source): 'model' for items the model scored,
-- 'popular' for the most popular items that an unknown user gets, or that fill the list when an
-- item-item model has fewer than n items with evidence.
-- SQL needs a result's type before the model is read, and a user id says nothing about the items:
-- item ids come back in the type of the user id (bigint users, bigint items), or in the type of
-- item_type, a value used only for its type (NULL::text).  The typed form takes every argument,
-- so that an untyped options literal in the short form still resolves.
CREATE FUNCTION uba_cf_recommend(model bytea, user_id anycompatiblenonarray, n int, options jsonb DEFAULT NULL,
	OUT item_id anycompatiblenonarray, OUT score float8, OUT source text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_cf_recommend(bytea, anycompatiblenonarray, int, jsonb) IS 'the n best items (ids in the type of the user id) for a user, without the items the user already has; the most popular items for an unknown user';
CREATE FUNCTION uba_cf_recommend(model bytea, user_id anynonarray, n int, options jsonb,
	item_type anycompatible, OUT item_id anycompatible, OUT score float8, OUT source text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'uba_cf_recommend' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_cf_recommend(bytea, anynonarray, int, jsonb, anycompatible) IS 'the n best items for a user, as ids of the type of item_type (NULL::text), without the items the user already has';
CREATE FUNCTION uba_cf_recommend(model bytea, items anycompatiblearray, n int, options jsonb DEFAULT NULL,
	OUT item_id anycompatible, OUT score float8, OUT source text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'uba_cf_recommend_items' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_cf_recommend(bytea, anycompatiblearray, int, jsonb) IS 'the n best items for a list of items (a cart, a session) by real-time fold-in, without those items';
-- an unknown literal (NULL, '{1641,3040}') fits the user and the list forms alike; the string category wins
CREATE FUNCTION uba_cf_recommend(model bytea, id text, n int, options jsonb DEFAULT NULL,
	OUT item_id text, OUT score float8, OUT source text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'uba_cf_recommend_text' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_cf_recommend(bytea, text, int, jsonb) IS 'what an untyped literal or a text id resolves to: ''{1,2}'' is a list of items, anything else a user id';
CREATE FUNCTION uba_cf_similar_items(model bytea, item_id anycompatiblenonarray, n int,
	OUT item_id anycompatiblenonarray, OUT score float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_cf_similar_items(bytea, anycompatiblenonarray, int) IS 'the n items most similar to an item (cosine of their vectors): customers who bought this also bought';

-- the line users write most: recommend with the active version of a catalog model.  The model
-- is read by an index lookup (its TOAST pointer, not its bytes), once per query and call site, and
-- kept parsed by the backend across queries; a new active version is a new value, so the next query
-- after its commit uses it.  In C: a SQL body calling uba_cf_recommend with the caller's concrete
-- id types could be captured by an overload of exactly those types (cf_serve.c).
CREATE FUNCTION uba_recommend(user_id anycompatiblenonarray, n int, model_name text DEFAULT NULL,
	OUT item_id anycompatiblenonarray, OUT score float8, OUT source text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_recommend(anycompatiblenonarray, int, text) IS 'the n best items (ids in the type of the user id) for a user from the active version of a catalog model (default: the setting uba.recommender)';
CREATE FUNCTION uba_recommend(user_id anynonarray, n int, model_name text, item_type anycompatible,
	OUT item_id anycompatible, OUT score float8, OUT source text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_recommend(anynonarray, int, text, anycompatible) IS 'the n best items for a user, as ids of the type of item_type (NULL::text), from the active version of a catalog model';

CREATE FUNCTION uba_cf_explain(model bytea, user_id anynonarray, item_id anycompatiblenonarray, n int DEFAULT 10,
	OUT because_item anycompatiblenonarray, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_cf_explain(bytea, anynonarray, anycompatiblenonarray, int) IS 'which of the user''s own items drove an item''s score, largest contributions first';

CREATE FUNCTION uba_assoc_transfn(internal, anynonarray, anycompatiblenonarray, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_assoc_transfn(internal, anynonarray, anycompatiblenonarray) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_assoc_rules(basket_id anynonarray, item_id anycompatiblenonarray, options jsonb) (
	SFUNC = uba_assoc_transfn, STYPE = internal, FINALFUNC = uba_assoc_final,
	COMBINEFUNC = uba_events_combine, SERIALFUNC = uba_events_serialize,
	DESERIALFUNC = uba_events_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_assoc_rules(basket_id anynonarray, item_id anycompatiblenonarray) (
	SFUNC = uba_assoc_transfn, STYPE = internal, FINALFUNC = uba_assoc_final,
	COMBINEFUNC = uba_events_combine, SERIALFUNC = uba_events_serialize,
	DESERIALFUNC = uba_events_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_assoc_rules(anynonarray, anycompatiblenonarray, jsonb) IS 'mine frequent itemsets (FP-growth) of (basket, item) rows and keep the association rules above min_support and min_confidence';
COMMENT ON AGGREGATE uba_assoc_rules(anynonarray, anycompatiblenonarray) IS 'mine frequent itemsets (FP-growth) of (basket, item) rows and keep the association rules above min_support and min_confidence';

-- item ids come back as text[], or as arrays of the type of item_type (NULL::bigint)
CREATE FUNCTION uba_assoc_rules_list(model bytea,
	OUT antecedent text[], OUT consequent text[], OUT support float8,
	OUT confidence float8, OUT lift float8, OUT count bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION uba_assoc_rules_list(bytea) IS 'every rule of an association rules model (item ids as text), best first (confidence, lift, support)';
CREATE FUNCTION uba_assoc_rules_list(model bytea, item_type anycompatible,
	OUT antecedent anycompatiblearray, OUT consequent anycompatiblearray, OUT support float8,
	OUT confidence float8, OUT lift float8, OUT count bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION uba_assoc_rules_list(bytea, anycompatible) IS 'every rule of an association rules model, item ids of the type of item_type (NULL::bigint), best first';

CREATE FUNCTION uba_basket_complete(model bytea, items anycompatiblearray, n int,
	OUT item_id anycompatible, OUT confidence float8, OUT lift float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_basket_complete(bytea, anycompatiblearray, int) IS 'the n items that most often complete a basket: best rule (confidence, then lift) whose antecedent the basket holds';

CREATE FUNCTION uba_precision_at_k(recommended anycompatiblearray, relevant anycompatiblearray, k int) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_recall_at_k(recommended anycompatiblearray, relevant anycompatiblearray, k int) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_ndcg_at_k(recommended anycompatiblearray, relevant anycompatiblearray, k int) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_average_precision_at_k(recommended anycompatiblearray, relevant anycompatiblearray, k int) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_hit_rate_at_k(recommended anycompatiblearray, relevant anycompatiblearray, k int) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_precision_at_k(anycompatiblearray, anycompatiblearray, int) IS 'relevant items among the first k recommended, divided by k';
COMMENT ON FUNCTION uba_recall_at_k(anycompatiblearray, anycompatiblearray, int) IS 'relevant items among the first k recommended, divided by min(k, number of relevant items)';
COMMENT ON FUNCTION uba_ndcg_at_k(anycompatiblearray, anycompatiblearray, int) IS 'normalized discounted cumulative gain of the first k recommended (binary relevance)';
COMMENT ON FUNCTION uba_average_precision_at_k(anycompatiblearray, anycompatiblearray, int) IS 'average precision at the hits among the first k, divided by min(k, number of relevant items)';
COMMENT ON FUNCTION uba_hit_rate_at_k(anycompatiblearray, anycompatiblearray, int) IS '1 if any of the first k recommended is relevant, else 0';
CREATE FUNCTION uba_mrr_at_k(recommended anycompatiblearray, relevant anycompatiblearray, k int) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_mrr_at_k(anycompatiblearray, anycompatiblearray, int) IS '1 / the rank of the first relevant item among the first k recommended, 0 when none is (avg() of it: mean reciprocal rank)';

-------------------------------------------------------------------------------
-- Gradient-boosted trees (trained with XGBoost, scored by uba)
-------------------------------------------------------------------------------

-- one transition function for both label types: a boolean label is binary, a float8 one regression
CREATE FUNCTION uba_boost_transfn(internal, anyelement, float8[], jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_boost_transfn(internal, anyelement, float8[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_boost_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL SAFE;

CREATE AGGREGATE uba_boost_train(label boolean, features float8[], options jsonb) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(label boolean, features float8[]) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(target float8, features float8[], options jsonb) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(target float8, features float8[]) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_boost_train(boolean, float8[], jsonb) IS 'train gradient-boosted trees (XGBoost, binary:logistic) for a boolean label';
COMMENT ON AGGREGATE uba_boost_train(boolean, float8[]) IS 'train gradient-boosted trees (XGBoost, binary:logistic) for a boolean label';
COMMENT ON AGGREGATE uba_boost_train(float8, float8[], jsonb) IS 'train gradient-boosted trees (XGBoost, reg:squarederror) for a numeric target';
COMMENT ON AGGREGATE uba_boost_train(float8, float8[]) IS 'train gradient-boosted trees (XGBoost, reg:squarederror) for a numeric target';

CREATE FUNCTION uba_boost_predict(model bytea, features float8[]) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_boost_predict(bytea, float8[]) IS 'a boosted model''s probability of true (binary) or predicted value (regression), from uba''s own tree evaluator';
CREATE FUNCTION uba_boost_explain(model bytea, features float8[], top int,
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
CREATE FUNCTION uba_boost_explain(model bytea, features float8[],
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION uba_boost_explain(bytea, float8[], int) IS 'exact TreeSHAP contributions of one prediction (margin units), largest first, after the baseline';
COMMENT ON FUNCTION uba_boost_explain(bytea, float8[]) IS 'exact TreeSHAP contributions of one prediction (margin units), largest first, after the baseline';
CREATE FUNCTION uba_feature_importance(model bytea,
	OUT feature int, OUT name text, OUT weight bigint, OUT total_gain float8, OUT gain float8,
	OUT total_cover float8, OUT cover float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION uba_feature_importance(bytea) IS 'per feature of a boosted model: splits (weight), total and average gain, total and average cover, by total gain';
CREATE FUNCTION uba_boost_export(model bytea) RETURNS json
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_boost_export(bytea) IS 'a boosted or forest model in XGBoost''s JSON model format, for XGBoost to load outside the database';
CREATE FUNCTION uba_shap_importance_transfn(internal, bytea, float8[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_shap_importance_final(internal) RETURNS jsonb
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_shap_importance(model bytea, features float8[]) (
	SFUNC = uba_shap_importance_transfn, STYPE = internal, FINALFUNC = uba_shap_importance_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_shap_importance(bytea, float8[]) IS 'mean absolute TreeSHAP value of each feature of a boosted or forest model over the rows given';

-- random forests: XGBoost's random-forest mode, the same tree format, scorer and explanations
CREATE FUNCTION uba_forest_transfn(internal, anyelement, float8[], jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_forest_transfn(internal, anyelement, float8[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_forest_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL SAFE;
CREATE AGGREGATE uba_forest_train(label boolean, features float8[], options jsonb) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(label boolean, features float8[]) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(target float8, features float8[], options jsonb) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(target float8, features float8[]) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_forest_train(boolean, float8[], jsonb) IS 'train a random forest (XGBoost''s random-forest mode) for a boolean label';
COMMENT ON AGGREGATE uba_forest_train(boolean, float8[]) IS 'train a random forest (XGBoost''s random-forest mode) for a boolean label';
COMMENT ON AGGREGATE uba_forest_train(float8, float8[], jsonb) IS 'train a random forest (XGBoost''s random-forest mode) for a numeric target';
COMMENT ON AGGREGATE uba_forest_train(float8, float8[]) IS 'train a random forest (XGBoost''s random-forest mode) for a numeric target';

-------------------------------------------------------------------------------
-- One scorer and one explainer for every model that predicts from a feature array
-------------------------------------------------------------------------------

CREATE FUNCTION uba_predict(model bytea, features float8[]) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_predict(bytea, float8[]) IS 'the prediction of a logreg, linreg, boosted or forest model: a probability, or a value for regression';
CREATE FUNCTION uba_explain(model bytea, features float8[], top int,
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
CREATE FUNCTION uba_explain(model bytea, features float8[],
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION uba_explain(bytea, float8[], int) IS 'the explanation of one prediction of a logreg, boosted or forest model: baseline and contributions, largest first';
COMMENT ON FUNCTION uba_explain(bytea, float8[]) IS 'the explanation of one prediction of a logreg, boosted or forest model: baseline and contributions, largest first';

-------------------------------------------------------------------------------
-- Typed rows: a table's columns as they are (numbers, boolean, text and enum
-- categories, dates), the encoding stored in the model, scoring by column name
-------------------------------------------------------------------------------

CREATE FUNCTION uba_boost_transfn(internal, anyelement, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_boost_transfn(internal, anyelement, record) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_forest_transfn(internal, anyelement, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_forest_transfn(internal, anyelement, record) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- typed rows are not combined across parallel workers: their categories are interned per call
CREATE AGGREGATE uba_boost_train(label boolean, features record, options jsonb) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(label boolean, features record) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(target float8, features record, options jsonb) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(target float8, features record) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_boost_train(boolean, record, jsonb) IS 'train gradient-boosted trees (XGBoost, binary:logistic) on a row''s columns as they are';
COMMENT ON AGGREGATE uba_boost_train(boolean, record) IS 'train gradient-boosted trees (XGBoost, binary:logistic) on a row''s columns as they are';
COMMENT ON AGGREGATE uba_boost_train(float8, record, jsonb) IS 'train gradient-boosted trees (XGBoost, reg:squarederror) on a row''s columns as they are';
COMMENT ON AGGREGATE uba_boost_train(float8, record) IS 'train gradient-boosted trees (XGBoost, reg:squarederror) on a row''s columns as they are';
CREATE AGGREGATE uba_forest_train(label boolean, features record, options jsonb) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(label boolean, features record) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(target float8, features record, options jsonb) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(target float8, features record) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_forest_train(boolean, record, jsonb) IS 'train a random forest on a row''s columns as they are, for a boolean label';
COMMENT ON AGGREGATE uba_forest_train(boolean, record) IS 'train a random forest on a row''s columns as they are, for a boolean label';
COMMENT ON AGGREGATE uba_forest_train(float8, record, jsonb) IS 'train a random forest on a row''s columns as they are, for a numeric target';
COMMENT ON AGGREGATE uba_forest_train(float8, record) IS 'train a random forest on a row''s columns as they are, for a numeric target';

CREATE FUNCTION uba_logreg_transfn(internal, boolean, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_logreg_transfn(internal, boolean, record) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_logreg_train(label boolean, features record, options jsonb) (
	SFUNC = uba_logreg_transfn, STYPE = internal, FINALFUNC = uba_logreg_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_logreg_train(label boolean, features record) (
	SFUNC = uba_logreg_transfn, STYPE = internal, FINALFUNC = uba_logreg_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_logreg_train(boolean, record, jsonb) IS 'train a logistic regression model on a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_logreg_train(boolean, record) IS 'train a logistic regression model on a row''s columns as they are (categories one-hot, NULL imputed)';

CREATE FUNCTION uba_predict(model bytea, features record) RETURNS float8
	AS 'MODULE_PATHNAME', 'uba_predict_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_predict(bytea, record) IS 'the prediction of a model trained on typed rows, for a row whose columns are found by name';
CREATE FUNCTION uba_explain(model bytea, features record, top int,
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'uba_explain_row' LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 10;
CREATE FUNCTION uba_explain(model bytea, features record,
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'uba_explain_row' LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION uba_explain(bytea, record, int) IS 'the explanation of one prediction of a model trained on typed rows, by column, largest first';
COMMENT ON FUNCTION uba_explain(bytea, record) IS 'the explanation of one prediction of a model trained on typed rows, by column, largest first';

-- typed rows: a table's columns as they are (categories one-hot, NULL imputed); not combined across parallel workers
CREATE FUNCTION uba_kmeans_transfn(internal, record, int, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_kmeans_transfn(internal, record, int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_kmeans(features record, k int, options jsonb) (
	SFUNC = uba_kmeans_transfn, STYPE = internal, FINALFUNC = uba_kmeans_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_kmeans(features record, k int) (
	SFUNC = uba_kmeans_transfn, STYPE = internal, FINALFUNC = uba_kmeans_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_kmeans(record, int, jsonb) IS 'k-means clustering of a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_kmeans(record, int) IS 'k-means clustering of a row''s columns as they are (categories one-hot, NULL imputed)';
CREATE FUNCTION uba_kmeans_assign(model bytea, features record) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_kmeans_assign_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_assign(bytea, record) IS 'the nearest cluster (1..k) of a row, its columns found by name';
CREATE FUNCTION uba_kmeans_distance(model bytea, features record) RETURNS float8
	AS 'MODULE_PATHNAME', 'uba_kmeans_distance_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_distance(bytea, record) IS 'Euclidean distance from a row (encoded as in training) to its nearest centroid';
CREATE FUNCTION uba_kmeans_transform(model bytea, features record) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'uba_kmeans_transform_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_transform(bytea, record) IS 'a row encoded as the model clustered it (one-hot, imputed, scaled)';
-- the text form of a feature array: with a record form beside float8[], a literal ('{1,2}') or NULL needs a text form to stay unambiguous
CREATE FUNCTION uba_kmeans_assign(model bytea, features text) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_kmeans_assign_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_assign(bytea, text) IS 'the nearest cluster (1..k) of a feature array given as text';
CREATE FUNCTION uba_kmeans_distance(model bytea, features text) RETURNS float8
	AS 'MODULE_PATHNAME', 'uba_kmeans_distance_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_distance(bytea, text) IS 'Euclidean distance from a feature array given as text to its nearest centroid';
CREATE FUNCTION uba_kmeans_transform(model bytea, features text) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'uba_kmeans_transform_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_transform(bytea, text) IS 'a feature array given as text, as the model clustered it';
-- the text form of a feature array: with a record form beside float8[], a literal ('{1,2}') or NULL needs a text form to stay unambiguous
CREATE FUNCTION uba_predict(model bytea, features text) RETURNS float8
	AS 'MODULE_PATHNAME', 'uba_predict_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_predict(bytea, text) IS 'the prediction of a logreg, linreg, boosted or forest model for a feature array given as text';
CREATE FUNCTION uba_explain(model bytea, features text, top int,
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'uba_explain_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
CREATE FUNCTION uba_explain(model bytea, features text,
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'uba_explain_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION uba_explain(bytea, text, int) IS 'the explanation of one prediction for a feature array given as text';
COMMENT ON FUNCTION uba_explain(bytea, text) IS 'the explanation of one prediction for a feature array given as text';

CREATE FUNCTION uba_shap_importance_transfn(internal, bytea, record) RETURNS internal
	AS 'MODULE_PATHNAME', 'uba_shap_importance_transfn_row' LANGUAGE C STABLE PARALLEL SAFE;
CREATE AGGREGATE uba_shap_importance(model bytea, features record) (
	SFUNC = uba_shap_importance_transfn, STYPE = internal, FINALFUNC = uba_shap_importance_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_shap_importance(bytea, record) IS 'mean absolute TreeSHAP value of each column of a boosted or forest model trained on typed rows, over the rows given';
CREATE FUNCTION uba_shap_importance_transfn(internal, bytea, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'uba_shap_importance_transfn_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_shap_importance(model bytea, features text) (
	SFUNC = uba_shap_importance_transfn, STYPE = internal, FINALFUNC = uba_shap_importance_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_shap_importance(bytea, text) IS 'mean absolute TreeSHAP value of each feature over feature arrays given as text';

-------------------------------------------------------------------------------
-- Multi-class boosted trees and forests: a text label (or a numeric one with
-- "objective": "multiclass"); class probabilities and classes of any classifier
-------------------------------------------------------------------------------

-- text labels are interned as rows arrive: these aggregates are not split across parallel workers
CREATE AGGREGATE uba_boost_train(label text, features float8[], options jsonb) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(label text, features float8[]) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(label text, features record, options jsonb) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(label text, features record) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_boost_train(text, float8[], jsonb) IS 'train multi-class gradient-boosted trees (XGBoost, multi:softprob) for a text label';
COMMENT ON AGGREGATE uba_boost_train(text, float8[]) IS 'train multi-class gradient-boosted trees (XGBoost, multi:softprob) for a text label';
COMMENT ON AGGREGATE uba_boost_train(text, record, jsonb) IS 'train multi-class gradient-boosted trees for a text label on a row''s columns as they are';
COMMENT ON AGGREGATE uba_boost_train(text, record) IS 'train multi-class gradient-boosted trees for a text label on a row''s columns as they are';
CREATE AGGREGATE uba_forest_train(label text, features float8[], options jsonb) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(label text, features float8[]) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(label text, features record, options jsonb) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(label text, features record) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_forest_train(text, float8[], jsonb) IS 'train a multi-class random forest for a text label';
COMMENT ON AGGREGATE uba_forest_train(text, float8[]) IS 'train a multi-class random forest for a text label';
COMMENT ON AGGREGATE uba_forest_train(text, record, jsonb) IS 'train a multi-class random forest for a text label on a row''s columns as they are';
COMMENT ON AGGREGATE uba_forest_train(text, record) IS 'train a multi-class random forest for a text label on a row''s columns as they are';

CREATE FUNCTION uba_predict_proba(model bytea, features float8[]) RETURNS float8[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_predict_proba(model bytea, features text) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'uba_predict_proba_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_predict_proba(model bytea, features record) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'uba_predict_proba_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_predict_proba(bytea, float8[]) IS 'a classifier''s class probabilities, in the order of its classes (binary: false, true)';
COMMENT ON FUNCTION uba_predict_proba(bytea, text) IS 'a classifier''s class probabilities for a feature array given as text';
COMMENT ON FUNCTION uba_predict_proba(bytea, record) IS 'a classifier''s class probabilities for a typed row, its columns found by name';
CREATE FUNCTION uba_predict_class(model bytea, features float8[]) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_predict_class(model bytea, features text) RETURNS text
	AS 'MODULE_PATHNAME', 'uba_predict_class_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_predict_class(model bytea, features record) RETURNS text
	AS 'MODULE_PATHNAME', 'uba_predict_class_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_predict_class(bytea, float8[]) IS 'a classifier''s most probable class, as text';
COMMENT ON FUNCTION uba_predict_class(bytea, text) IS 'a classifier''s most probable class for a feature array given as text';
COMMENT ON FUNCTION uba_predict_class(bytea, record) IS 'a classifier''s most probable class for a typed row, its columns found by name';

-------------------------------------------------------------------------------
-- Isolation forests: anomaly scores (scikit-learn's IsolationForest), on the
-- same tree format and evaluator
-------------------------------------------------------------------------------

CREATE FUNCTION uba_isolation_forest_transfn(internal, float8[], jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_isolation_forest_transfn(internal, float8[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_isolation_forest_transfn(internal, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_isolation_forest_transfn(internal, record) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_isolation_forest_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL SAFE;
CREATE AGGREGATE uba_isolation_forest(features float8[], options jsonb) (
	SFUNC = uba_isolation_forest_transfn, STYPE = internal, FINALFUNC = uba_isolation_forest_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_isolation_forest(features float8[]) (
	SFUNC = uba_isolation_forest_transfn, STYPE = internal, FINALFUNC = uba_isolation_forest_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_isolation_forest(features record, options jsonb) (
	SFUNC = uba_isolation_forest_transfn, STYPE = internal, FINALFUNC = uba_isolation_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_isolation_forest(features record) (
	SFUNC = uba_isolation_forest_transfn, STYPE = internal, FINALFUNC = uba_isolation_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_isolation_forest(float8[], jsonb) IS 'train an isolation forest: anomaly scores of rows';
COMMENT ON AGGREGATE uba_isolation_forest(float8[]) IS 'train an isolation forest: anomaly scores of rows';
COMMENT ON AGGREGATE uba_isolation_forest(record, jsonb) IS 'train an isolation forest on a row''s columns as they are';
COMMENT ON AGGREGATE uba_isolation_forest(record) IS 'train an isolation forest on a row''s columns as they are';

CREATE FUNCTION uba_anomaly_score(model bytea, features float8[]) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_anomaly_score(model bytea, features text) RETURNS float8
	AS 'MODULE_PATHNAME', 'uba_anomaly_score_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_anomaly_score(model bytea, features record) RETURNS float8
	AS 'MODULE_PATHNAME', 'uba_anomaly_score_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_anomaly_score(bytea, float8[]) IS 'an isolation forest''s anomaly score of a row: near 1 for anomalies, below 0.5 for ordinary rows';
COMMENT ON FUNCTION uba_anomaly_score(bytea, text) IS 'an isolation forest''s anomaly score of a feature array given as text';
COMMENT ON FUNCTION uba_anomaly_score(bytea, record) IS 'an isolation forest''s anomaly score of a typed row, its columns found by name';
CREATE FUNCTION uba_is_anomaly(model bytea, features float8[]) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_is_anomaly(model bytea, features text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'uba_is_anomaly_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_is_anomaly(model bytea, features record) RETURNS boolean
	AS 'MODULE_PATHNAME', 'uba_is_anomaly_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_is_anomaly(bytea, float8[]) IS 'whether an isolation forest''s score of a row is above its threshold (0.5, or the contamination''s quantile)';
COMMENT ON FUNCTION uba_is_anomaly(bytea, text) IS 'whether an isolation forest''s score of a feature array given as text is above its threshold';
COMMENT ON FUNCTION uba_is_anomaly(bytea, record) IS 'whether an isolation forest''s score of a typed row is above its threshold';

-- ridge regression on typed rows: the rows are collected, encoded at the end, their moments made then
CREATE FUNCTION uba_linreg_transfn(internal, float8, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME', 'uba_linreg_transfn_row' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_linreg_transfn(internal, float8, record) RETURNS internal
	AS 'MODULE_PATHNAME', 'uba_linreg_transfn_row' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_linreg_row_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'uba_linreg_final_row' LANGUAGE C VOLATILE PARALLEL SAFE;
CREATE AGGREGATE uba_linreg_train(target float8, features record, options jsonb) (
	SFUNC = uba_linreg_transfn, STYPE = internal, FINALFUNC = uba_linreg_row_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_linreg_train(target float8, features record) (
	SFUNC = uba_linreg_transfn, STYPE = internal, FINALFUNC = uba_linreg_row_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_linreg_train(float8, record, jsonb) IS 'train a ridge regression model on a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_linreg_train(float8, record) IS 'train a ridge regression model on a row''s columns as they are (categories one-hot, NULL imputed)';

-- ---------- customer profiles: RFM as the lifetimes library defines it (profile.c) ----------

CREATE TYPE uba_rfm_summary AS (
	frequency float8,			-- periods with a purchase, less one (repeat purchases)
	recency float8,				-- first to last period, in periods
	t float8,					-- first period to the observation end's, in periods (lifetimes' T)
	monetary_value float8,		-- mean amount of the repeat periods (summed per period); 0 without one
	transactions bigint,		-- rows counted (up to the observation end)
	total_amount float8,		-- their amounts summed
	first_period date,			-- the periods' first days
	last_period date
);
COMMENT ON TYPE uba_rfm_summary IS 'what uba_rfm returns: lifetimes'' frequency, recency, T and monetary_value, with counts and dates';
-- STABLE: a timestamptz's date is in the session's time zone, and the observation ends today by default
CREATE FUNCTION uba_rfm_transfn(internal, timestamptz, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_rfm_transfn(internal, timestamptz, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_rfm_transfn(internal, timestamp, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_rfm_transfn(internal, timestamp, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
-- the final function sorts the state's periods in place: what the state means does not change
CREATE FUNCTION uba_rfm_final(internal) RETURNS uba_rfm_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_rfm_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_rfm_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_rfm_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE uba_rfm(ts timestamptz, amount float8, options jsonb) (
	SFUNC = uba_rfm_transfn, STYPE = internal, FINALFUNC = uba_rfm_final,
	COMBINEFUNC = uba_rfm_combine, SERIALFUNC = uba_rfm_serialize,
	DESERIALFUNC = uba_rfm_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_rfm(ts timestamptz, amount float8) (
	SFUNC = uba_rfm_transfn, STYPE = internal, FINALFUNC = uba_rfm_final,
	COMBINEFUNC = uba_rfm_combine, SERIALFUNC = uba_rfm_serialize,
	DESERIALFUNC = uba_rfm_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_rfm(ts timestamp, amount float8, options jsonb) (
	SFUNC = uba_rfm_transfn, STYPE = internal, FINALFUNC = uba_rfm_final,
	COMBINEFUNC = uba_rfm_combine, SERIALFUNC = uba_rfm_serialize,
	DESERIALFUNC = uba_rfm_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_rfm(ts timestamp, amount float8) (
	SFUNC = uba_rfm_transfn, STYPE = internal, FINALFUNC = uba_rfm_final,
	COMBINEFUNC = uba_rfm_combine, SERIALFUNC = uba_rfm_serialize,
	DESERIALFUNC = uba_rfm_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_rfm(timestamptz, float8, jsonb) IS 'a customer''s frequency, recency, T and monetary value from their transactions, as the lifetimes library defines them (GROUP BY customer)';
COMMENT ON AGGREGATE uba_rfm(timestamptz, float8) IS 'a customer''s frequency, recency, T and monetary value from their transactions, as the lifetimes library defines them (GROUP BY customer)';
COMMENT ON AGGREGATE uba_rfm(timestamp, float8, jsonb) IS 'a customer''s frequency, recency, T and monetary value from their transactions, as the lifetimes library defines them (GROUP BY customer)';
COMMENT ON AGGREGATE uba_rfm(timestamp, float8) IS 'a customer''s frequency, recency, T and monetary value from their transactions, as the lifetimes library defines them (GROUP BY customer)';
CREATE FUNCTION uba_rfm_segment(r int, f int) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_rfm_segment(r int, f int, segments jsonb) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_rfm_segment(int, int) IS 'the named RFM segment (Champions, Loyal customers, At risk, Hibernating, ...) of a recency and a frequency score from 1 to 5';
COMMENT ON FUNCTION uba_rfm_segment(int, int, jsonb) IS 'the RFM segment of a recency and a frequency score by the caller''s map from "RF" to a name';

-- one row per user from raw events: activity, sessions, the event mix, RFM of the purchases,
-- habits, categories and the lifecycle stage (profile.c; doc/profiles.md defines each field)
CREATE TYPE uba_profile_summary AS (
	first_seen timestamptz,
	last_seen timestamptz,
	events bigint,
	active_days int,
	active_weeks int,
	sessions int,
	events_per_active_day float8,
	sessions_per_active_day float8,
	events_per_session float8,
	views bigint,
	carts bigint,
	purchases bigint,
	view_share float8,
	cart_share float8,
	purchase_share float8,
	view_to_cart float8,
	cart_to_purchase float8,
	distinct_items int,
	distinct_items_purchased int,
	frequency float8,
	recency float8,
	t float8,
	monetary_value float8,
	revenue float8,
	avg_basket_value float8,
	avg_price float8,
	preferred_weekday int,
	preferred_hour int,
	top_category text,
	top_categories text[],
	top_category_shares float8[],
	days_since_last int,
	lifecycle text
);
COMMENT ON TYPE uba_profile_summary IS 'what uba_profile returns: one user''s activity, sessions, event mix, RFM, habits, categories and lifecycle stage';
CREATE FUNCTION uba_profile_transfn(internal, timestamptz, text, anyelement, text, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_profile_transfn(internal, timestamptz, text, anyelement, text, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_profile_transfn(internal, timestamp, text, anyelement, text, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_profile_transfn(internal, timestamp, text, anyelement, text, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
-- STABLE: first_seen of timestamp input is converted in the session's time zone.  It sorts the
-- state's arrays in place, which changes nothing they mean: calls of one aggregate share a state
CREATE FUNCTION uba_profile_final(internal) RETURNS uba_profile_summary
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
-- SSPACE: a user's state is a few kB; the planner sizes hash aggregation by it
CREATE AGGREGATE uba_profile(ts timestamptz, event_type text, item_id anyelement, category text, amount float8, options jsonb) (
	SFUNC = uba_profile_transfn, STYPE = internal, SSPACE = 4096, FINALFUNC = uba_profile_final,
	PARALLEL = SAFE);
CREATE AGGREGATE uba_profile(ts timestamptz, event_type text, item_id anyelement, category text, amount float8) (
	SFUNC = uba_profile_transfn, STYPE = internal, SSPACE = 4096, FINALFUNC = uba_profile_final,
	PARALLEL = SAFE);
CREATE AGGREGATE uba_profile(ts timestamp, event_type text, item_id anyelement, category text, amount float8, options jsonb) (
	SFUNC = uba_profile_transfn, STYPE = internal, SSPACE = 4096, FINALFUNC = uba_profile_final,
	PARALLEL = SAFE);
CREATE AGGREGATE uba_profile(ts timestamp, event_type text, item_id anyelement, category text, amount float8) (
	SFUNC = uba_profile_transfn, STYPE = internal, SSPACE = 4096, FINALFUNC = uba_profile_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_profile(timestamptz, text, anyelement, text, float8, jsonb) IS 'one user''s profile from their events (GROUP BY user): activity, sessions, event mix, RFM, habits, top categories, lifecycle';
COMMENT ON AGGREGATE uba_profile(timestamptz, text, anyelement, text, float8) IS 'one user''s profile from their events (GROUP BY user): activity, sessions, event mix, RFM, habits, top categories, lifecycle';
COMMENT ON AGGREGATE uba_profile(timestamp, text, anyelement, text, float8, jsonb) IS 'one user''s profile from their events (GROUP BY user): activity, sessions, event mix, RFM, habits, top categories, lifecycle';
COMMENT ON AGGREGATE uba_profile(timestamp, text, anyelement, text, float8) IS 'one user''s profile from their events (GROUP BY user): activity, sessions, event mix, RFM, habits, top categories, lifecycle';

-- ---------- event sequences: ClickHouse's sequenceMatch and sequenceCount (sequence.c) ----------

CREATE FUNCTION uba_sequence_transfn(internal, text, timestamptz, boolean[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_sequence_transfn(internal, text, timestamp, boolean[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- the finals sort the state's events in place, which changes nothing they mean
CREATE FUNCTION uba_sequence_match_final(internal) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_sequence_count_final(internal) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_sequence_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_sequence_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_sequence_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE uba_sequence_match(pattern text, ts timestamptz, VARIADIC conditions boolean[]) (
	SFUNC = uba_sequence_transfn, STYPE = internal, FINALFUNC = uba_sequence_match_final,
	COMBINEFUNC = uba_sequence_combine, SERIALFUNC = uba_sequence_serialize,
	DESERIALFUNC = uba_sequence_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_sequence_match(pattern text, ts timestamp, VARIADIC conditions boolean[]) (
	SFUNC = uba_sequence_transfn, STYPE = internal, FINALFUNC = uba_sequence_match_final,
	COMBINEFUNC = uba_sequence_combine, SERIALFUNC = uba_sequence_serialize,
	DESERIALFUNC = uba_sequence_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_sequence_count(pattern text, ts timestamptz, VARIADIC conditions boolean[]) (
	SFUNC = uba_sequence_transfn, STYPE = internal, FINALFUNC = uba_sequence_count_final,
	COMBINEFUNC = uba_sequence_combine, SERIALFUNC = uba_sequence_serialize,
	DESERIALFUNC = uba_sequence_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_sequence_count(pattern text, ts timestamp, VARIADIC conditions boolean[]) (
	SFUNC = uba_sequence_transfn, STYPE = internal, FINALFUNC = uba_sequence_count_final,
	COMBINEFUNC = uba_sequence_combine, SERIALFUNC = uba_sequence_serialize,
	DESERIALFUNC = uba_sequence_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_sequence_match(text, timestamptz, boolean[]) IS 'whether a group''s events match a ClickHouse sequenceMatch pattern such as (?1).*(?t<=3600)(?2) over the conditions given';
COMMENT ON AGGREGATE uba_sequence_match(text, timestamp, boolean[]) IS 'whether a group''s events match a ClickHouse sequenceMatch pattern such as (?1).*(?t<=3600)(?2) over the conditions given';
COMMENT ON AGGREGATE uba_sequence_count(text, timestamptz, boolean[]) IS 'how many non-overlapping chains of a group''s events match a ClickHouse sequenceCount pattern';
COMMENT ON AGGREGATE uba_sequence_count(text, timestamp, boolean[]) IS 'how many non-overlapping chains of a group''s events match a ClickHouse sequenceCount pattern';

-- ---------- paths: each user's way through the product (path.c) ----------

CREATE FUNCTION uba_path_transfn(internal, timestamptz, text, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_path_transfn(internal, timestamptz, text) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_path_transfn(internal, timestamp, text, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_path_transfn(internal, timestamp, text) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- the final sorts the state's events in place, which changes nothing they mean
CREATE FUNCTION uba_path_final(internal) RETURNS text[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_path_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_path_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_path_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE uba_path(ts timestamptz, event text, options jsonb) (
	SFUNC = uba_path_transfn, STYPE = internal, FINALFUNC = uba_path_final,
	COMBINEFUNC = uba_path_combine, SERIALFUNC = uba_path_serialize,
	DESERIALFUNC = uba_path_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_path(ts timestamptz, event text) (
	SFUNC = uba_path_transfn, STYPE = internal, FINALFUNC = uba_path_final,
	COMBINEFUNC = uba_path_combine, SERIALFUNC = uba_path_serialize,
	DESERIALFUNC = uba_path_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_path(ts timestamp, event text, options jsonb) (
	SFUNC = uba_path_transfn, STYPE = internal, FINALFUNC = uba_path_final,
	COMBINEFUNC = uba_path_combine, SERIALFUNC = uba_path_serialize,
	DESERIALFUNC = uba_path_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_path(ts timestamp, event text) (
	SFUNC = uba_path_transfn, STYPE = internal, FINALFUNC = uba_path_final,
	COMBINEFUNC = uba_path_combine, SERIALFUNC = uba_path_serialize,
	DESERIALFUNC = uba_path_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_path(timestamptz, text, jsonb) IS 'a user''s path: their events in time order, from a start or up to an end event, repeats collapsed, at most max_steps (GROUP BY user)';
COMMENT ON AGGREGATE uba_path(timestamptz, text) IS 'a user''s path: their events in time order, repeats collapsed, at most 5 steps (GROUP BY user)';
COMMENT ON AGGREGATE uba_path(timestamp, text, jsonb) IS 'a user''s path: their events in time order, from a start or up to an end event, repeats collapsed, at most max_steps (GROUP BY user)';
COMMENT ON AGGREGATE uba_path(timestamp, text) IS 'a user''s path: their events in time order, repeats collapsed, at most 5 steps (GROUP BY user)';

-- ---------- lifecycle: new, returning, resurrecting, dormant users per period (lifecycle.c) ----------

CREATE TYPE uba_lifecycle_summary AS (periods date[], statuses text[]);
COMMENT ON TYPE uba_lifecycle_summary IS 'what uba_lifecycle returns: the periods of the range that have a status, and each one''s status';
-- STABLE: a timestamptz's date is in the session's time zone, and the range ends today by default
CREATE FUNCTION uba_lifecycle_transfn(internal, timestamptz, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_lifecycle_transfn(internal, timestamp, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
-- the final sorts the state's periods in place, which changes nothing they mean
CREATE FUNCTION uba_lifecycle_final(internal) RETURNS uba_lifecycle_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_lifecycle_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_lifecycle_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_lifecycle_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE uba_lifecycle(ts timestamptz, options jsonb) (
	SFUNC = uba_lifecycle_transfn, STYPE = internal, FINALFUNC = uba_lifecycle_final,
	COMBINEFUNC = uba_lifecycle_combine, SERIALFUNC = uba_lifecycle_serialize,
	DESERIALFUNC = uba_lifecycle_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_lifecycle(ts timestamp, options jsonb) (
	SFUNC = uba_lifecycle_transfn, STYPE = internal, FINALFUNC = uba_lifecycle_final,
	COMBINEFUNC = uba_lifecycle_combine, SERIALFUNC = uba_lifecycle_serialize,
	DESERIALFUNC = uba_lifecycle_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_lifecycle(timestamptz, jsonb) IS 'a user''s lifecycle status (new, returning, resurrecting, dormant) in each period of a range, as PostHog counts it (GROUP BY user)';
COMMENT ON AGGREGATE uba_lifecycle(timestamp, jsonb) IS 'a user''s lifecycle status (new, returning, resurrecting, dormant) in each period of a range, as PostHog counts it (GROUP BY user)';

-- funnel modes (ClickHouse windowFunnel's, and unordered) as options; when each step was reached
CREATE FUNCTION uba_funnel_transfn(internal, timestamptz, interval, boolean[], jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_funnel_transfn(internal, timestamp, interval, boolean[], jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_funnel_times_final(internal) RETURNS timestamptz[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- timestamp in, timestamp[] out: the final function sees the arguments' types (FINALFUNC_EXTRA)
CREATE FUNCTION uba_funnel_times_final(internal, timestamp, interval, boolean[]) RETURNS timestamp[]
	AS 'MODULE_PATHNAME', 'uba_funnel_times_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_funnel_times_final(internal, timestamp, interval, boolean[], jsonb) RETURNS timestamp[]
	AS 'MODULE_PATHNAME', 'uba_funnel_times_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_funnel(ts timestamptz, "window" interval, steps boolean[], options jsonb) (
	SFUNC = uba_funnel_transfn, STYPE = internal, FINALFUNC = uba_funnel_final,
	COMBINEFUNC = uba_funnel_combine, SERIALFUNC = uba_funnel_serialize,
	DESERIALFUNC = uba_funnel_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_funnel(ts timestamp, "window" interval, steps boolean[], options jsonb) (
	SFUNC = uba_funnel_transfn, STYPE = internal, FINALFUNC = uba_funnel_final,
	COMBINEFUNC = uba_funnel_combine, SERIALFUNC = uba_funnel_serialize,
	DESERIALFUNC = uba_funnel_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_funnel(timestamptz, interval, boolean[], jsonb) IS 'the deepest funnel step reached within window of a step-1 event, in a mode of the options (strict_deduplication, strict_order, allow_reentry, strict_increase, strict_once, unordered)';
COMMENT ON AGGREGATE uba_funnel(timestamp, interval, boolean[], jsonb) IS 'the deepest funnel step reached within window of a step-1 event, in a mode of the options (strict_deduplication, strict_order, allow_reentry, strict_increase, strict_once, unordered)';
CREATE AGGREGATE uba_funnel_times(ts timestamptz, "window" interval, steps boolean[]) (
	SFUNC = uba_funnel_transfn, STYPE = internal, FINALFUNC = uba_funnel_times_final,
	COMBINEFUNC = uba_funnel_combine, SERIALFUNC = uba_funnel_serialize,
	DESERIALFUNC = uba_funnel_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_funnel_times(ts timestamp, "window" interval, steps boolean[]) (
	SFUNC = uba_funnel_transfn, STYPE = internal, FINALFUNC = uba_funnel_times_final,
	FINALFUNC_EXTRA, COMBINEFUNC = uba_funnel_combine, SERIALFUNC = uba_funnel_serialize,
	DESERIALFUNC = uba_funnel_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_funnel_times(ts timestamptz, "window" interval, steps boolean[], options jsonb) (
	SFUNC = uba_funnel_transfn, STYPE = internal, FINALFUNC = uba_funnel_times_final,
	COMBINEFUNC = uba_funnel_combine, SERIALFUNC = uba_funnel_serialize,
	DESERIALFUNC = uba_funnel_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_funnel_times(ts timestamp, "window" interval, steps boolean[], options jsonb) (
	SFUNC = uba_funnel_transfn, STYPE = internal, FINALFUNC = uba_funnel_times_final,
	FINALFUNC_EXTRA, COMBINEFUNC = uba_funnel_combine, SERIALFUNC = uba_funnel_serialize,
	DESERIALFUNC = uba_funnel_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_funnel_times(timestamptz, interval, boolean[]) IS 'when the funnel chain that first reached the deepest step reached each step (NULL: step 1 never held); differences are the times to convert';
COMMENT ON AGGREGATE uba_funnel_times(timestamp, interval, boolean[]) IS 'when the funnel chain that first reached the deepest step reached each step (NULL: step 1 never held); differences are the times to convert';
COMMENT ON AGGREGATE uba_funnel_times(timestamptz, interval, boolean[], jsonb) IS 'when the funnel chain that first reached the deepest step reached each step, in a mode of the options (NULL: step 1 never held)';
COMMENT ON AGGREGATE uba_funnel_times(timestamp, interval, boolean[], jsonb) IS 'when the funnel chain that first reached the deepest step reached each step, in a mode of the options (NULL: step 1 never held)';

-- ---------- sequential patterns: PrefixSpan (prefixspan.c) ----------

CREATE FUNCTION uba_prefixspan_transfn(internal, anynonarray, timestamptz, anycompatiblenonarray, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_prefixspan_transfn(internal, anynonarray, timestamptz, anycompatiblenonarray) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_prefixspan_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_prefixspan(user_id anynonarray, ts timestamptz, item anycompatiblenonarray, options jsonb) (
	SFUNC = uba_prefixspan_transfn, STYPE = internal, FINALFUNC = uba_prefixspan_final,
	COMBINEFUNC = uba_events_combine, SERIALFUNC = uba_events_serialize,
	DESERIALFUNC = uba_events_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_prefixspan(user_id anynonarray, ts timestamptz, item anycompatiblenonarray) (
	SFUNC = uba_prefixspan_transfn, STYPE = internal, FINALFUNC = uba_prefixspan_final,
	COMBINEFUNC = uba_events_combine, SERIALFUNC = uba_events_serialize,
	DESERIALFUNC = uba_events_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_prefixspan(anynonarray, timestamptz, anycompatiblenonarray, jsonb) IS 'mine the sequential patterns (PrefixSpan) of (user, time, item) rows that at least min_support of the users follow';
COMMENT ON AGGREGATE uba_prefixspan(anynonarray, timestamptz, anycompatiblenonarray) IS 'mine the sequential patterns (PrefixSpan) of (user, time, item) rows that at least min_support of the users follow';

-- items come back as text[], or as arrays of the type of item_type (NULL::bigint)
CREATE FUNCTION uba_sequential_patterns(model bytea,
	OUT pattern text[], OUT length int, OUT users bigint, OUT support float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION uba_sequential_patterns(bytea) IS 'every pattern of a uba_prefixspan model (items as text), most followed first';
CREATE FUNCTION uba_sequential_patterns(model bytea, item_type anycompatible,
	OUT pattern anycompatiblearray, OUT length int, OUT users bigint, OUT support float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION uba_sequential_patterns(bytea, anycompatible) IS 'every pattern of a uba_prefixspan model, items of the type of item_type (NULL::bigint), most followed first';

-- ---------- what comes next: ClickHouse's sequenceNextNode (next_event.c) ----------

CREATE FUNCTION uba_next_event_transfn(internal, text, text, timestamptz, text, boolean, boolean[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_next_event_transfn(internal, text, text, timestamp, text, boolean, boolean[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_next_event_final(internal) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_next_event_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_next_event_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_next_event_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE uba_next_event(direction text, base text, ts timestamptz, event text, base_condition boolean,
                                VARIADIC conditions boolean[]) (
	SFUNC = uba_next_event_transfn, STYPE = internal, FINALFUNC = uba_next_event_final,
	COMBINEFUNC = uba_next_event_combine, SERIALFUNC = uba_next_event_serialize,
	DESERIALFUNC = uba_next_event_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_next_event(direction text, base text, ts timestamp, event text, base_condition boolean,
                                VARIADIC conditions boolean[]) (
	SFUNC = uba_next_event_transfn, STYPE = internal, FINALFUNC = uba_next_event_final,
	COMBINEFUNC = uba_next_event_combine, SERIALFUNC = uba_next_event_serialize,
	DESERIALFUNC = uba_next_event_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_next_event(text, text, timestamptz, text, boolean, boolean[]) IS 'the event right after (forward) or before (backward) a chain of events matching the conditions from a base event, as ClickHouse''s sequenceNextNode';
COMMENT ON AGGREGATE uba_next_event(text, text, timestamp, text, boolean, boolean[]) IS 'the event right after (forward) or before (backward) a chain of events matching the conditions from a base event, as ClickHouse''s sequenceNextNode';

-- ---------- why a metric moved: contribution analysis (contribution.c) ----------

CREATE TYPE uba_contribution_row AS (
	segment jsonb, depth int, metric_test float8, metric_control float8, difference float8,
	relative_difference float8, expected float8, unexpected_difference float8,
	relative_unexpected_difference float8, contribution float8, share_of_change float8,
	support float8, rows_test bigint, rows_control bigint);
COMMENT ON TYPE uba_contribution_row IS 'one segment of a contribution analysis (uba_contribution): its metric in the test and control periods and its part in the change';
CREATE FUNCTION uba_contribution_transfn(internal, boolean, text[], float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_contribution_transfn(internal, boolean, text[], float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_contribution_ratio_transfn(internal, boolean, text[], float8, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_contribution_ratio_transfn(internal, boolean, text[], float8, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_contribution_final(internal) RETURNS uba_contribution_row[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_contribution_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_contribution_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_contribution_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE uba_contribution(is_test boolean, dims text[], metric float8, options jsonb) (
	SFUNC = uba_contribution_transfn, STYPE = internal, FINALFUNC = uba_contribution_final,
	COMBINEFUNC = uba_contribution_combine, SERIALFUNC = uba_contribution_serialize,
	DESERIALFUNC = uba_contribution_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_contribution(is_test boolean, dims text[], metric float8) (
	SFUNC = uba_contribution_transfn, STYPE = internal, FINALFUNC = uba_contribution_final,
	COMBINEFUNC = uba_contribution_combine, SERIALFUNC = uba_contribution_serialize,
	DESERIALFUNC = uba_contribution_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_contribution_ratio(is_test boolean, dims text[], numerator float8, denominator float8, options jsonb) (
	SFUNC = uba_contribution_ratio_transfn, STYPE = internal, FINALFUNC = uba_contribution_final,
	COMBINEFUNC = uba_contribution_combine, SERIALFUNC = uba_contribution_serialize,
	DESERIALFUNC = uba_contribution_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_contribution_ratio(is_test boolean, dims text[], numerator float8, denominator float8) (
	SFUNC = uba_contribution_ratio_transfn, STYPE = internal, FINALFUNC = uba_contribution_final,
	COMBINEFUNC = uba_contribution_combine, SERIALFUNC = uba_contribution_serialize,
	DESERIALFUNC = uba_contribution_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_contribution(boolean, text[], float8, jsonb) IS 'which segments (combinations of dimension values) drove the change of a summed metric from the control rows to the test rows, largest contribution first';
COMMENT ON AGGREGATE uba_contribution(boolean, text[], float8) IS 'which segments (combinations of dimension values) drove the change of a summed metric from the control rows to the test rows, largest contribution first';
COMMENT ON AGGREGATE uba_contribution_ratio(boolean, text[], float8, float8, jsonb) IS 'which segments drove the change of a ratio metric, sum(numerator) / sum(denominator), from the control rows to the test rows, largest contribution first';
COMMENT ON AGGREGATE uba_contribution_ratio(boolean, text[], float8, float8) IS 'which segments drove the change of a ratio metric, sum(numerator) / sum(denominator), from the control rows to the test rows, largest contribution first';

-- ---------- tests of significance (hypothesis.c) ----------

CREATE FUNCTION uba_fisher_exact(a bigint, b bigint, c bigint, d bigint, alternative text DEFAULT 'two-sided',
	OUT odds_ratio float8, OUT p_value float8)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_fisher_exact(bigint, bigint, bigint, bigint, text) IS 'odds ratio and Fisher''s exact p-value of the 2x2 table [[a, b], [c, d]] (two-sided, less or greater), as scipy.stats.fisher_exact';

-- ---------- metric states become fixed-size bytea values (metrics.c), so that Citus splits the
-- aggregates across its workers; the aggregates are replaced in place (views on them keep working)
-- and the functions of the internal states dropped ----------
CREATE FUNCTION uba_binary_transfn(bytea, boolean, boolean) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_binary_combine(bytea, bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_f1_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_precision_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_recall_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_accuracy_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_mcc_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_confusion_final(bytea) RETURNS jsonb
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE AGGREGATE uba_f1_score(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = bytea, FINALFUNC = uba_f1_final,
	COMBINEFUNC = uba_binary_combine, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE uba_precision(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = bytea, FINALFUNC = uba_precision_final,
	COMBINEFUNC = uba_binary_combine, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE uba_recall(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = bytea, FINALFUNC = uba_recall_final,
	COMBINEFUNC = uba_binary_combine, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE uba_accuracy(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = bytea, FINALFUNC = uba_accuracy_final,
	COMBINEFUNC = uba_binary_combine, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE uba_mcc(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = bytea, FINALFUNC = uba_mcc_final,
	COMBINEFUNC = uba_binary_combine, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE uba_confusion_matrix(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = bytea, FINALFUNC = uba_confusion_final,
	COMBINEFUNC = uba_binary_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_f1_score(boolean, boolean) IS 'F1 score of binary predictions';
COMMENT ON AGGREGATE uba_precision(boolean, boolean) IS 'precision of binary predictions';
COMMENT ON AGGREGATE uba_recall(boolean, boolean) IS 'recall of binary predictions';
COMMENT ON AGGREGATE uba_accuracy(boolean, boolean) IS 'accuracy of binary predictions';
COMMENT ON AGGREGATE uba_mcc(boolean, boolean) IS 'Matthews correlation coefficient of binary predictions';
COMMENT ON AGGREGATE uba_confusion_matrix(boolean, boolean) IS 'tp, fp, tn and fn of binary predictions';

CREATE FUNCTION uba_regression_transfn(bytea, float8, float8) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_regression_combine(bytea, bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_rmse_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_mae_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_r2_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE AGGREGATE uba_rmse(predicted float8, actual float8) (
	SFUNC = uba_regression_transfn, STYPE = bytea, FINALFUNC = uba_rmse_final,
	COMBINEFUNC = uba_regression_combine, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE uba_mae(predicted float8, actual float8) (
	SFUNC = uba_regression_transfn, STYPE = bytea, FINALFUNC = uba_mae_final,
	COMBINEFUNC = uba_regression_combine, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE uba_r2(predicted float8, actual float8) (
	SFUNC = uba_regression_transfn, STYPE = bytea, FINALFUNC = uba_r2_final,
	COMBINEFUNC = uba_regression_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_rmse(float8, float8) IS 'root mean squared error';
COMMENT ON AGGREGATE uba_mae(float8, float8) IS 'mean absolute error';
COMMENT ON AGGREGATE uba_r2(float8, float8) IS 'coefficient of determination (R squared)';

CREATE FUNCTION uba_probability_transfn(bytea, float8, boolean) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_probability_combine(bytea, bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_log_loss_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_brier_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE AGGREGATE uba_log_loss(probability float8, actual boolean) (
	SFUNC = uba_probability_transfn, STYPE = bytea, FINALFUNC = uba_log_loss_final,
	COMBINEFUNC = uba_probability_combine, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE uba_brier_score(probability float8, actual boolean) (
	SFUNC = uba_probability_transfn, STYPE = bytea, FINALFUNC = uba_brier_final,
	COMBINEFUNC = uba_probability_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_log_loss(float8, boolean) IS 'mean log loss of predicted probabilities';
COMMENT ON AGGREGATE uba_brier_score(float8, boolean) IS 'Brier score of predicted probabilities';
DROP FUNCTION uba_binary_transfn(internal, boolean, boolean);
DROP FUNCTION uba_binary_combine(internal, internal);
DROP FUNCTION uba_binary_serialize(internal);
DROP FUNCTION uba_binary_deserialize(bytea, internal);
DROP FUNCTION uba_f1_final(internal);
DROP FUNCTION uba_precision_final(internal);
DROP FUNCTION uba_recall_final(internal);
DROP FUNCTION uba_accuracy_final(internal);
DROP FUNCTION uba_mcc_final(internal);
DROP FUNCTION uba_confusion_final(internal);
DROP FUNCTION uba_regression_transfn(internal, float8, float8);
DROP FUNCTION uba_regression_combine(internal, internal);
DROP FUNCTION uba_regression_serialize(internal);
DROP FUNCTION uba_regression_deserialize(bytea, internal);
DROP FUNCTION uba_rmse_final(internal);
DROP FUNCTION uba_mae_final(internal);
DROP FUNCTION uba_r2_final(internal);
DROP FUNCTION uba_probability_transfn(internal, float8, boolean);
DROP FUNCTION uba_probability_combine(internal, internal);
DROP FUNCTION uba_probability_serialize(internal);
DROP FUNCTION uba_probability_deserialize(bytea, internal);
DROP FUNCTION uba_log_loss_final(internal);
DROP FUNCTION uba_brier_final(internal);

-- ---------- ridge regression's state (array form) becomes a bytea of the moments (linreg.c), so
-- that Citus splits it; the aggregates are replaced in place ----------
CREATE FUNCTION uba_linreg_transfn(bytea, float8, float8[], jsonb) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_linreg_transfn(bytea, float8, float8[]) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_linreg_combine(bytea, bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_linreg_final(bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE AGGREGATE uba_linreg_train(target float8, features float8[], options jsonb) (
	SFUNC = uba_linreg_transfn, STYPE = bytea, FINALFUNC = uba_linreg_final,
	COMBINEFUNC = uba_linreg_combine, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE uba_linreg_train(target float8, features float8[]) (
	SFUNC = uba_linreg_transfn, STYPE = bytea, FINALFUNC = uba_linreg_final,
	COMBINEFUNC = uba_linreg_combine, PARALLEL = SAFE);
DROP FUNCTION uba_linreg_transfn(internal, float8, float8[], jsonb);
DROP FUNCTION uba_linreg_transfn(internal, float8, float8[]);
DROP FUNCTION uba_linreg_combine(internal, internal);
DROP FUNCTION uba_linreg_serialize(internal);
DROP FUNCTION uba_linreg_deserialize(bytea, internal);
DROP FUNCTION uba_linreg_final(internal);

-------------------------------------------------------------------------------
-- k-means by passes of statistics (tables larger than memory, Citus)
-------------------------------------------------------------------------------

CREATE FUNCTION uba_kmeans_pass_transfn(bytea, float8[], bytea, int, bigint) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_kmeans_pass_combine(bytea, bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_kmeans_pass(features float8[], centers bytea, sample int, seed bigint) (
	SFUNC = uba_kmeans_pass_transfn, STYPE = bytea,
	COMBINEFUNC = uba_kmeans_pass_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_kmeans_pass(float8[], bytea, int, bigint) IS 'one pass of uba_kmeans_train: per-cluster counts and sums for the centres of a k-means model (or feature moments without one), and a weighted sample of rows; a state Citus computes on each shard';

CREATE FUNCTION uba_kmeans_train(query text, k int, options jsonb DEFAULT '{}')
RETURNS bytea AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION uba_kmeans_train(text, int, jsonb) IS 'train a k-means model by passes over a query''s features: k-means|| initialisation, then one Lloyd step per pass; memory O(k x features), each pass a parallel (or Citus-distributed) aggregate';

-------------------------------------------------------------------------------
-- logistic regression by passes of statistics (tables larger than memory, Citus)
-------------------------------------------------------------------------------

CREATE FUNCTION uba_logreg_pass_transfn(bytea, bool, float8[], bytea, bool) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_logreg_pass_combine(bytea, bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_logreg_pass(label bool, features float8[], model bytea, hessian bool) (
	SFUNC = uba_logreg_pass_transfn, STYPE = bytea,
	COMBINEFUNC = uba_logreg_pass_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_logreg_pass(bool, float8[], bytea, bool) IS 'one pass of uba_logreg_train(query): loss, gradient and Hessian sums at a logistic regression model''s coefficients (or row counts and feature moments without one); a state Citus computes on each shard';

CREATE FUNCTION uba_logreg_train(query text, options jsonb DEFAULT '{}')
RETURNS bytea AS 'MODULE_PATHNAME', 'uba_logreg_train_query' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION uba_logreg_train(text, jsonb) IS 'train a logistic regression model by passes over a query''s (label, features) rows: Newton''s method, one pass per step; memory O(features^2), each pass a parallel (or Citus-distributed) aggregate';

-- sample weights (a count of equal rows, say): a Citus table's AUC from per-score counts the workers make
CREATE FUNCTION uba_scores_transfn(internal, float8, boolean, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_auc(score float8, actual boolean, weight float8) (
	SFUNC = uba_scores_transfn, STYPE = internal, FINALFUNC = uba_auc_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_average_precision(score float8, actual boolean, weight float8) (
	SFUNC = uba_scores_transfn, STYPE = internal, FINALFUNC = uba_average_precision_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_auc(float8, boolean, float8) IS 'area under the ROC curve of weighted scores (scikit-learn''s sample_weight)';
COMMENT ON AGGREGATE uba_average_precision(float8, boolean, float8) IS 'average precision of weighted scores (scikit-learn''s sample_weight)';

-- uba value: customers' repeat purchases, spend and lifetime value (new in 0.3.0)
-------------------------------------------------------------------------------
-- repeat purchases: BG/NBD
-------------------------------------------------------------------------------

CREATE FUNCTION uba_btyd_transfn(internal, float8, float8, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_btyd_transfn(internal, float8, float8, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_bgnbd_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_bgnbd_train(frequency float8, recency float8, t float8, options jsonb) (
	SFUNC = uba_btyd_transfn, STYPE = internal, FINALFUNC = uba_bgnbd_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_bgnbd_train(frequency float8, recency float8, t float8) (
	SFUNC = uba_btyd_transfn, STYPE = internal, FINALFUNC = uba_bgnbd_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_bgnbd_train(float8, float8, float8, jsonb) IS 'fit the BG/NBD repeat-purchase model (Fader, Hardie and Lee 2005) to customers'' frequency, recency and T';
COMMENT ON AGGREGATE uba_bgnbd_train(float8, float8, float8) IS 'fit the BG/NBD repeat-purchase model (Fader, Hardie and Lee 2005) to customers'' frequency, recency and T';

CREATE FUNCTION uba_expected_purchases(model bytea, t float8, frequency float8, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_expected_purchases(bytea, float8, float8, float8, float8) IS 'a customer''s expected purchases in the next t periods, given her frequency, recency and T';
CREATE FUNCTION uba_expected_purchases(model bytea, t float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'uba_expected_purchases_population' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_expected_purchases(bytea, float8) IS 'a new customer''s expected repeat purchases in her first t periods';
CREATE FUNCTION uba_p_alive(model bytea, frequency float8, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_p_alive(bytea, float8, float8, float8) IS 'the probability that a customer is still alive (will buy again), given her frequency, recency and T';

-------------------------------------------------------------------------------
-- spend per transaction (Gamma-Gamma) and customer lifetime value
-------------------------------------------------------------------------------

CREATE FUNCTION uba_gammagamma_transfn(internal, float8, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_gammagamma_transfn(internal, float8, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_gammagamma_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_gammagamma_train(frequency float8, monetary_value float8, options jsonb) (
	SFUNC = uba_gammagamma_transfn, STYPE = internal, FINALFUNC = uba_gammagamma_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_gammagamma_train(frequency float8, monetary_value float8) (
	SFUNC = uba_gammagamma_transfn, STYPE = internal, FINALFUNC = uba_gammagamma_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_gammagamma_train(float8, float8, jsonb) IS 'fit the Gamma-Gamma spend model (Fader, Hardie and Lee 2005) to customers'' frequency and mean spend';
COMMENT ON AGGREGATE uba_gammagamma_train(float8, float8) IS 'fit the Gamma-Gamma spend model (Fader, Hardie and Lee 2005) to customers'' frequency and mean spend';

CREATE FUNCTION uba_expected_spend(model bytea, frequency float8, monetary_value float8)
RETURNS float8 AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_expected_spend(bytea, float8, float8) IS 'a customer''s expected spend per transaction, given her frequency and mean spend';

CREATE FUNCTION uba_clv(purchases_model bytea, spend_model bytea, frequency float8, recency float8, "T" float8,
	monetary_value float8, months int DEFAULT 12, discount_rate float8 DEFAULT 0.01, period text DEFAULT 'day')
RETURNS float8 AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_clv(bytea, bytea, float8, float8, float8, float8, int, float8, text) IS 'customer lifetime value over the next months, discounted monthly (lifetimes'' customer_lifetime_value)';

CREATE FUNCTION uba_paretonbd_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_paretonbd_train(frequency float8, recency float8, t float8, options jsonb) (
	SFUNC = uba_btyd_transfn, STYPE = internal, FINALFUNC = uba_paretonbd_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_paretonbd_train(frequency float8, recency float8, t float8) (
	SFUNC = uba_btyd_transfn, STYPE = internal, FINALFUNC = uba_paretonbd_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_paretonbd_train(float8, float8, float8, jsonb) IS 'fit the Pareto/NBD repeat-purchase model (Schmittlein, Morrison and Colombo 1987) to customers'' frequency, recency and T';
COMMENT ON AGGREGATE uba_paretonbd_train(float8, float8, float8) IS 'fit the Pareto/NBD repeat-purchase model (Schmittlein, Morrison and Colombo 1987) to customers'' frequency, recency and T';

-------------------------------------------------------------------------------
-- forecasting (sql/install/forecast.sql)
-------------------------------------------------------------------------------


CREATE FUNCTION uba_forecast_transfn(internal, timestamptz, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_forecast_transfn(internal, timestamptz, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_forecast_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_forecast_train(ts timestamptz, value float8, options jsonb) (
	SFUNC = uba_forecast_transfn, STYPE = internal, FINALFUNC = uba_forecast_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_forecast_train(ts timestamptz, value float8) (
	SFUNC = uba_forecast_transfn, STYPE = internal, FINALFUNC = uba_forecast_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_forecast_train(timestamptz, float8, jsonb) IS 'fit a forecast model (exponential smoothing chosen by AICc, or Croston/SBA/TSB for intermittent demand) to a series of periods: the sum of value per day, week, month, quarter or year';
COMMENT ON AGGREGATE uba_forecast_train(timestamptz, float8) IS 'fit a forecast model (exponential smoothing chosen by AICc, or Croston/SBA/TSB for intermittent demand) to a series of periods: the sum of value per day, week, month, quarter or year';

CREATE FUNCTION uba_forecast(model bytea, horizon int, levels float8[] DEFAULT '{95}', cumulative boolean DEFAULT false)
	RETURNS TABLE(ts timestamptz, step int, forecast float8, level float8, lower float8, upper float8)
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 12;
COMMENT ON FUNCTION uba_forecast(bytea, int, float8[], boolean) IS 'forecasts for the next horizon periods with prediction intervals at each level (percent); cumulative: of the total up to each step';

CREATE FUNCTION uba_forecast_info(model bytea,
	OUT method text, OUT form text, OUT period text, OUT season_length int, OUT periods bigint,
	OUT first_period timestamptz, OUT last_period timestamptz, OUT parameters jsonb,
	OUT sigma2 float8, OUT loglik float8, OUT aicc float8, OUT mase float8, OUT rmse float8,
	OUT adi float8, OUT cv2 float8, OUT converged boolean, OUT candidates jsonb)
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_forecast_info(bytea) IS 'what a forecast model is: method, form, parameters, information criteria, in-sample accuracy (MASE), the forms compared';

CREATE FUNCTION uba_forecast_anomalies(model bytea, ts timestamptz, actual float8, level float8 DEFAULT 95,
	OUT step int, OUT expected float8, OUT lower float8, OUT upper float8, OUT deviation float8,
	OUT anomaly_probability float8, OUT is_anomaly boolean)
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_forecast_anomalies(bytea, timestamptz, float8, float8) IS 'is a period''s actual value outside the forecast''s prediction interval at level (percent)? The expected value, the interval, the deviation and the anomaly probability, as BigQuery''s ML.DETECT_ANOMALIES';

-------------------------------------------------------------------------------
-- customer value: calibration and holdout (sql/install/behaviour.sql)
-------------------------------------------------------------------------------

-- lifetimes' calibration_and_holdout_data: the summary as of a calibration end, and what the
-- customer did after it (profile.c)
CREATE TYPE uba_rfm_holdout_summary AS (
	frequency_cal float8,		-- uba_rfm's frequency, recency, T and monetary value as of the calibration end
	recency_cal float8,
	t_cal float8,
	monetary_value_cal float8,
	frequency_holdout float8,	-- periods with a purchase after the calibration end, up to the observation end
	monetary_value_holdout float8,	-- their mean amount (summed per period); 0 without one
	duration_holdout float8		-- calibration end to observation end, in periods
);
COMMENT ON TYPE uba_rfm_holdout_summary IS 'what uba_rfm_holdout returns: lifetimes'' calibration summary and holdout purchases';
CREATE FUNCTION uba_rfm_holdout_transfn(internal, timestamptz, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_rfm_holdout_transfn(internal, timestamp, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_rfm_holdout_final(internal) RETURNS uba_rfm_holdout_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_rfm_holdout(ts timestamptz, amount float8, options jsonb) (
	SFUNC = uba_rfm_holdout_transfn, STYPE = internal, FINALFUNC = uba_rfm_holdout_final,
	COMBINEFUNC = uba_rfm_combine, SERIALFUNC = uba_rfm_serialize,
	DESERIALFUNC = uba_rfm_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_rfm_holdout(ts timestamp, amount float8, options jsonb) (
	SFUNC = uba_rfm_holdout_transfn, STYPE = internal, FINALFUNC = uba_rfm_holdout_final,
	COMBINEFUNC = uba_rfm_combine, SERIALFUNC = uba_rfm_serialize,
	DESERIALFUNC = uba_rfm_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_rfm_holdout(timestamptz, float8, jsonb) IS 'a customer''s summary as of "calibration_end" and her purchases after it, as lifetimes'' calibration_and_holdout_data (GROUP BY customer)';
COMMENT ON AGGREGATE uba_rfm_holdout(timestamp, float8, jsonb) IS 'a customer''s summary as of "calibration_end" and her purchases after it, as lifetimes'' calibration_and_holdout_data (GROUP BY customer)';

-- One gradient-boosted model over every series at once ("method": "boost", global.c): the
-- aggregate takes the series' id (any integer type, text or uuid), optionally a row of
-- regressors, and the options, and is not split across parallel workers (its series and
-- regressors are interned as they come).
CREATE FUNCTION uba_forecast_global_transfn(internal, anyelement, timestamptz, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_forecast_global_transfn(internal, anyelement, timestamptz, float8, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_forecast_global_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE AGGREGATE uba_forecast_train(series anyelement, ts timestamptz, value float8, options jsonb) (
	SFUNC = uba_forecast_global_transfn, STYPE = internal, FINALFUNC = uba_forecast_global_final,
	PARALLEL = SAFE);
CREATE AGGREGATE uba_forecast_train(series anyelement, ts timestamptz, value float8, regressors record, options jsonb) (
	SFUNC = uba_forecast_global_transfn, STYPE = internal, FINALFUNC = uba_forecast_global_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_forecast_train(anyelement, timestamptz, float8, jsonb) IS 'fit one gradient-boosted forecaster over every series at once (lags, rolling means, calendar, holidays), as the M5 winners did';
COMMENT ON AGGREGATE uba_forecast_train(anyelement, timestamptz, float8, record, jsonb) IS 'fit one gradient-boosted forecaster over every series at once (lags, rolling means, calendar, holidays and the row''s regressors), as the M5 winners did';

-- reads the future regressors from a table as the caller (SPI): a temporary table is the
-- caller's own, hence PARALLEL RESTRICTED; not STRICT, for the optional table
CREATE FUNCTION uba_forecast_global(model bytea, horizon int, future regclass DEFAULT NULL, levels float8[] DEFAULT '{95}')
	RETURNS TABLE(series text, ts timestamptz, step int, forecast float8, level float8, lower float8, upper float8)
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 1000;
COMMENT ON FUNCTION uba_forecast_global(bytea, int, regclass, float8[]) IS 'each series'' forecasts for the next horizon periods from a global forecaster, step by step, with intervals at each level (percent) from a backtest; future: a table of series, ts and the regressors';
CREATE FUNCTION uba_forecast_trees(model bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_forecast_trees(bytea) IS 'the trees of a global forecaster, as a boost model of its features (for uba_feature_importance and uba_model_info)';

-- the same with the periods as dates: a date needs no time zone, so none can move it (on Citus the
-- workers would cast a date to timestamptz in their server's zone, not the session's)
CREATE FUNCTION uba_forecast_transfn(internal, date, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_forecast_transfn(internal, date, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE AGGREGATE uba_forecast_train(ts date, value float8, options jsonb) (
	SFUNC = uba_forecast_transfn, STYPE = internal, FINALFUNC = uba_forecast_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_forecast_train(ts date, value float8) (
	SFUNC = uba_forecast_transfn, STYPE = internal, FINALFUNC = uba_forecast_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_forecast_train(date, float8, jsonb) IS 'fit a forecast model (exponential smoothing chosen by AICc, or Croston/SBA/TSB for intermittent demand) to a series of periods: the sum of value per day, week, month, quarter or year';
COMMENT ON AGGREGATE uba_forecast_train(date, float8) IS 'fit a forecast model (exponential smoothing chosen by AICc, or Croston/SBA/TSB for intermittent demand) to a series of periods: the sum of value per day, week, month, quarter or year';
CREATE FUNCTION uba_forecast_global_transfn(internal, anyelement, date, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_forecast_global_transfn(internal, anyelement, date, float8, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE AGGREGATE uba_forecast_train(series anyelement, ts date, value float8, options jsonb) (
	SFUNC = uba_forecast_global_transfn, STYPE = internal, FINALFUNC = uba_forecast_global_final,
	PARALLEL = SAFE);
CREATE AGGREGATE uba_forecast_train(series anyelement, ts date, value float8, regressors record, options jsonb) (
	SFUNC = uba_forecast_global_transfn, STYPE = internal, FINALFUNC = uba_forecast_global_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_forecast_train(anyelement, date, float8, jsonb) IS 'fit one gradient-boosted forecaster over every series at once (lags, rolling means, calendar, holidays), as the M5 winners did';
COMMENT ON AGGREGATE uba_forecast_train(anyelement, date, float8, record, jsonb) IS 'fit one gradient-boosted forecaster over every series at once (lags, rolling means, calendar, holidays and the row''s regressors), as the M5 winners did';

-- principal component analysis (pca.c): rows collected as k-means collects them
CREATE FUNCTION uba_pca_transfn(internal, float8[], jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_pca_transfn(internal, float8[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_pca_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_pca(features float8[], options jsonb) (
	SFUNC = uba_pca_transfn, STYPE = internal, FINALFUNC = uba_pca_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_pca(features float8[]) (
	SFUNC = uba_pca_transfn, STYPE = internal, FINALFUNC = uba_pca_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_pca(float8[], jsonb) IS 'principal component analysis of feature vectors: the directions of largest variance';
COMMENT ON AGGREGATE uba_pca(float8[]) IS 'principal component analysis of feature vectors: the directions of largest variance';
-- typed rows: a table's columns as they are (categories one-hot, NULL imputed); not combined across parallel workers
CREATE FUNCTION uba_pca_transfn(internal, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_pca_transfn(internal, record) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_pca(features record, options jsonb) (
	SFUNC = uba_pca_transfn, STYPE = internal, FINALFUNC = uba_pca_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_pca(features record) (
	SFUNC = uba_pca_transfn, STYPE = internal, FINALFUNC = uba_pca_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_pca(record, jsonb) IS 'principal component analysis of a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_pca(record) IS 'principal component analysis of a row''s columns as they are (categories one-hot, NULL imputed)';

-- PCA from mergeable moments (pca.c, core moments.c): O(d^2) memory for any row count; the
-- state is a bytea (not internal), so that Citus splits the aggregate across shards
CREATE FUNCTION uba_pca_moments_transfn(bytea, float8[], jsonb) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_pca_moments_transfn(bytea, float8[]) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_pca_moments_combine(bytea, bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_pca_moments_final(bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_pca_moments(features float8[], options jsonb) (
	SFUNC = uba_pca_moments_transfn, STYPE = bytea, FINALFUNC = uba_pca_moments_final,
	COMBINEFUNC = uba_pca_moments_combine, PARALLEL = SAFE);
CREATE AGGREGATE uba_pca_moments(features float8[]) (
	SFUNC = uba_pca_moments_transfn, STYPE = bytea, FINALFUNC = uba_pca_moments_final,
	COMBINEFUNC = uba_pca_moments_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_pca_moments(float8[], jsonb) IS 'principal component analysis from the rows'' moments: O(features^2) memory for any number of rows, split across parallel workers and Citus shards';
COMMENT ON AGGREGATE uba_pca_moments(float8[]) IS 'principal component analysis from the rows'' moments: O(features^2) memory for any number of rows, split across parallel workers and Citus shards';

CREATE FUNCTION uba_pca_transform(model bytea, features float8[], n int DEFAULT 0) RETURNS float8[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_pca_transform(bytea, float8[], int) IS 'a feature vector''s coordinates on the first n principal components (0: all the model kept)';
CREATE FUNCTION uba_pca_transform(model bytea, features record, n int DEFAULT 0) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'uba_pca_transform_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_pca_transform(bytea, record, int) IS 'a row''s coordinates on the first n principal components (0: all the model kept), its columns found by name';
CREATE FUNCTION uba_pca_transform(model bytea, features text, n int DEFAULT 0) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'uba_pca_transform_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_pca_transform(bytea, text, int) IS 'a feature array given as text, on the first n principal components';
CREATE FUNCTION uba_pca_components(model bytea,
	OUT component int, OUT explained_variance float8, OUT explained_variance_ratio float8,
	OUT cumulative_ratio float8, OUT loadings float8[])
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_pca_components(bytea) IS 'each principal component: its variance, its share of the total, the running share, its loadings (unit length)';

-- Calinski-Harabasz index (cluster_quality.c), collected as uba_davies_bouldin collects its rows
CREATE FUNCTION uba_calinski_harabasz_transfn(internal, float8[], int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_calinski_harabasz_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_calinski_harabasz(features float8[], cluster int) (
	SFUNC = uba_calinski_harabasz_transfn, STYPE = internal, FINALFUNC = uba_calinski_harabasz_final,
	FINALFUNC_MODIFY = READ_WRITE, COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_calinski_harabasz(float8[], int) IS 'Calinski-Harabasz index (variance ratio criterion) of a clustering (higher is better)';

-- density-based clustering (dbscan.c): rows collected as k-means collects them; eps and min_samples ride in the row set
CREATE FUNCTION uba_dbscan_transfn(internal, float8[], float8, int, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_dbscan_transfn(internal, float8[], float8, int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_dbscan_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_dbscan(features float8[], eps float8, min_samples int, options jsonb) (
	SFUNC = uba_dbscan_transfn, STYPE = internal, FINALFUNC = uba_dbscan_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_dbscan(features float8[], eps float8, min_samples int) (
	SFUNC = uba_dbscan_transfn, STYPE = internal, FINALFUNC = uba_dbscan_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_dbscan(float8[], float8, int, jsonb) IS 'density-based clusters (DBSCAN) of feature vectors: core points within eps of min_samples rows, their neighbours, and noise';
COMMENT ON AGGREGATE uba_dbscan(float8[], float8, int) IS 'density-based clusters (DBSCAN) of feature vectors: core points within eps of min_samples rows, their neighbours, and noise';
-- typed rows: not combined across parallel workers
CREATE FUNCTION uba_dbscan_transfn(internal, record, float8, int, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_dbscan_transfn(internal, record, float8, int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_dbscan(features record, eps float8, min_samples int, options jsonb) (
	SFUNC = uba_dbscan_transfn, STYPE = internal, FINALFUNC = uba_dbscan_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_dbscan(features record, eps float8, min_samples int) (
	SFUNC = uba_dbscan_transfn, STYPE = internal, FINALFUNC = uba_dbscan_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_dbscan(record, float8, int, jsonb) IS 'density-based clusters (DBSCAN) of a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_dbscan(record, float8, int) IS 'density-based clusters (DBSCAN) of a row''s columns as they are (categories one-hot, NULL imputed)';

CREATE FUNCTION uba_dbscan_assign(model bytea, features float8[]) RETURNS int
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_dbscan_assign(bytea, float8[]) IS 'cluster (1..clusters) of the nearest core point within eps, 0 for noise';
CREATE FUNCTION uba_dbscan_assign(model bytea, features record) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_dbscan_assign_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_dbscan_assign(bytea, record) IS 'cluster (1..clusters) of a row by the nearest core point within eps, 0 for noise; its columns found by name';
CREATE FUNCTION uba_dbscan_assign(model bytea, features text) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_dbscan_assign_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_dbscan_assign(bytea, text) IS 'cluster of a feature array given as text, 0 for noise';
CREATE FUNCTION uba_dbscan_clusters(model bytea,
	OUT cluster int, OUT size bigint, OUT core_points bigint, OUT border_points bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_dbscan_clusters(bytea) IS 'each DBSCAN cluster''s training rows (core and border points); cluster 0 is the noise';

-- hierarchical clustering (hclust.c): the rows are the leaves in the call's input order
-- (uba_hclust(features ORDER BY id)), so the aggregate is never split across parallel workers
CREATE FUNCTION uba_hclust_transfn(internal, float8[], jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_hclust_transfn(internal, float8[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_hclust_transfn(internal, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_hclust_transfn(internal, record) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_hclust_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_hclust(features float8[], options jsonb) (
	SFUNC = uba_hclust_transfn, STYPE = internal, FINALFUNC = uba_hclust_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_hclust(features float8[]) (
	SFUNC = uba_hclust_transfn, STYPE = internal, FINALFUNC = uba_hclust_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_hclust(features record, options jsonb) (
	SFUNC = uba_hclust_transfn, STYPE = internal, FINALFUNC = uba_hclust_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_hclust(features record) (
	SFUNC = uba_hclust_transfn, STYPE = internal, FINALFUNC = uba_hclust_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_hclust(float8[], jsonb) IS 'agglomerative clustering (Ward, complete, average or single linkage) of feature vectors, leaves in input order';
COMMENT ON AGGREGATE uba_hclust(float8[]) IS 'agglomerative clustering (Ward linkage) of feature vectors, leaves in input order';
COMMENT ON AGGREGATE uba_hclust(record, jsonb) IS 'agglomerative clustering of a row''s columns as they are (categories one-hot, NULL imputed), leaves in input order';
COMMENT ON AGGREGATE uba_hclust(record) IS 'agglomerative clustering (Ward linkage) of a row''s columns as they are, leaves in input order';

CREATE FUNCTION uba_hclust_merges(model bytea,
	OUT step int, OUT left_id int, OUT right_id int, OUT height float8, OUT size bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION uba_hclust_merges(bytea) IS 'the merges as scipy''s linkage matrix: leaves 0..n-1 in input order, merge i makes cluster n + i - 1';
CREATE FUNCTION uba_hclust_cut(model bytea, k int DEFAULT NULL, height float8 DEFAULT NULL,
	OUT leaf int, OUT cluster int)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION uba_hclust_cut(bytea, int, float8) IS 'each training row (leaf 0..n-1, input order) and its cluster when the tree is cut into k clusters or at a height';
CREATE FUNCTION uba_hclust_assign(model bytea, features float8[], k int) RETURNS int
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_hclust_assign(bytea, float8[], int) IS 'cluster (1..k) of the nearest training row when the tree is cut into k clusters';
CREATE FUNCTION uba_hclust_assign(model bytea, features record, k int) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_hclust_assign_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_hclust_assign(bytea, record, int) IS 'cluster (1..k) of the training row nearest to a row, its columns found by name';
CREATE FUNCTION uba_hclust_assign(model bytea, features text, k int) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_hclust_assign_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_hclust_assign(bytea, text, int) IS 'cluster (1..k) of the training row nearest to a feature array given as text';

-- choosing k (kmeans_sweep.c): rows collected as k-means collects them; k_min and k_max ride in the row set
CREATE FUNCTION uba_kmeans_sweep_transfn(internal, float8[], int, int, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_kmeans_sweep_transfn(internal, float8[], int, int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_kmeans_sweep_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_kmeans_sweep(features float8[], k_min int, k_max int, options jsonb) (
	SFUNC = uba_kmeans_sweep_transfn, STYPE = internal, FINALFUNC = uba_kmeans_sweep_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_kmeans_sweep(features float8[], k_min int, k_max int) (
	SFUNC = uba_kmeans_sweep_transfn, STYPE = internal, FINALFUNC = uba_kmeans_sweep_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_kmeans_sweep(float8[], int, int, jsonb) IS 'k-means for every k from k_min to k_max on one collection of the rows, each k scored (inertia, silhouette, Davies-Bouldin, Calinski-Harabasz)';
COMMENT ON AGGREGATE uba_kmeans_sweep(float8[], int, int) IS 'k-means for every k from k_min to k_max on one collection of the rows, each k scored (inertia, silhouette, Davies-Bouldin, Calinski-Harabasz)';
CREATE FUNCTION uba_kmeans_sweep_transfn(internal, record, int, int, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_kmeans_sweep_transfn(internal, record, int, int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_kmeans_sweep(features record, k_min int, k_max int, options jsonb) (
	SFUNC = uba_kmeans_sweep_transfn, STYPE = internal, FINALFUNC = uba_kmeans_sweep_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_kmeans_sweep(features record, k_min int, k_max int) (
	SFUNC = uba_kmeans_sweep_transfn, STYPE = internal, FINALFUNC = uba_kmeans_sweep_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_kmeans_sweep(record, int, int, jsonb) IS 'k-means of a row''s columns as they are for every k from k_min to k_max, each k scored';
COMMENT ON AGGREGATE uba_kmeans_sweep(record, int, int) IS 'k-means of a row''s columns as they are for every k from k_min to k_max, each k scored';

CREATE FUNCTION uba_kmeans_sweep_results(sweep bytea,
	OUT k int, OUT inertia float8, OUT silhouette float8, OUT davies_bouldin float8,
	OUT calinski_harabasz float8, OUT is_elbow boolean, OUT is_best_silhouette boolean)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION uba_kmeans_sweep_results(bytea) IS 'a row per k of a sweep: its scores, the elbow of the inertia curve (kneedle) and the best silhouette marked';
CREATE FUNCTION uba_kmeans_sweep_model(sweep bytea, k int DEFAULT NULL) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_sweep_model(bytea, int) IS 'the k-means model a sweep fitted for k (by default the k of the best silhouette), as uba_kmeans trains it';

-- Gaussian mixtures (gmm.c, EM in gmm_em.c): rows collected as k-means collects them
CREATE FUNCTION uba_gmm_transfn(internal, float8[], int, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_gmm_transfn(internal, float8[], int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_gmm_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_gmm_train(features float8[], k int, options jsonb) (
	SFUNC = uba_gmm_transfn, STYPE = internal, FINALFUNC = uba_gmm_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_gmm_train(features float8[], k int) (
	SFUNC = uba_gmm_transfn, STYPE = internal, FINALFUNC = uba_gmm_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_gmm_train(float8[], int, jsonb) IS 'a Gaussian mixture of k components fitted by EM (full, diag, spherical or tied covariances)';
COMMENT ON AGGREGATE uba_gmm_train(float8[], int) IS 'a Gaussian mixture of k components fitted by EM (full covariances)';
CREATE FUNCTION uba_gmm_transfn(internal, record, int, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_gmm_transfn(internal, record, int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_gmm_train(features record, k int, options jsonb) (
	SFUNC = uba_gmm_transfn, STYPE = internal, FINALFUNC = uba_gmm_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_gmm_train(features record, k int) (
	SFUNC = uba_gmm_transfn, STYPE = internal, FINALFUNC = uba_gmm_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_gmm_train(record, int, jsonb) IS 'a Gaussian mixture of a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_gmm_train(record, int) IS 'a Gaussian mixture of a row''s columns as they are (categories one-hot, NULL imputed)';

CREATE FUNCTION uba_gmm_predict(model bytea, features float8[]) RETURNS int
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_predict(bytea, float8[]) IS 'the most likely mixture component (1..k) of a feature vector';
CREATE FUNCTION uba_gmm_predict(model bytea, features record) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_gmm_predict_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_predict(bytea, record) IS 'the most likely mixture component (1..k) of a row, its columns found by name';
CREATE FUNCTION uba_gmm_predict(model bytea, features text) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_gmm_predict_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_predict(bytea, text) IS 'the most likely mixture component of a feature array given as text';
CREATE FUNCTION uba_gmm_proba(model bytea, features float8[]) RETURNS float8[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_proba(bytea, float8[]) IS 'the memberships of a feature vector in the k components (they add up to 1)';
CREATE FUNCTION uba_gmm_proba(model bytea, features record) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'uba_gmm_proba_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_proba(bytea, record) IS 'the memberships of a row in the k components, its columns found by name';
CREATE FUNCTION uba_gmm_proba(model bytea, features text) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'uba_gmm_proba_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_proba(bytea, text) IS 'the memberships of a feature array given as text';
CREATE FUNCTION uba_gmm_score(model bytea, features float8[]) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_score(bytea, float8[]) IS 'log-likelihood of a feature vector under the mixture (low: unusual)';
CREATE FUNCTION uba_gmm_score(model bytea, features record) RETURNS float8
	AS 'MODULE_PATHNAME', 'uba_gmm_score_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_score(bytea, record) IS 'log-likelihood of a row under the mixture, its columns found by name';
CREATE FUNCTION uba_gmm_score(model bytea, features text) RETURNS float8
	AS 'MODULE_PATHNAME', 'uba_gmm_score_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_score(bytea, text) IS 'log-likelihood of a feature array given as text under the mixture';
CREATE FUNCTION uba_gmm_components(model bytea,
	OUT component int, OUT weight float8, OUT mean float8[], OUT covariance float8[])
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_gmm_components(bytea) IS 'each mixture component: its weight, mean and covariance matrix (d x d), in the features'' units';

-- ---------- session-based next-item recommendation (next_items.c) ----------

CREATE FUNCTION uba_session_transfn(internal, anynonarray, anycompatiblenonarray, timestamptz, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_session_transfn(internal, anynonarray, anycompatiblenonarray, timestamptz) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_session_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_session_train(session_id anynonarray, item_id anycompatiblenonarray, ts timestamptz, options jsonb) (
	SFUNC = uba_session_transfn, STYPE = internal, FINALFUNC = uba_session_final,
	COMBINEFUNC = uba_events_combine, SERIALFUNC = uba_events_serialize,
	DESERIALFUNC = uba_events_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_session_train(session_id anynonarray, item_id anycompatiblenonarray, ts timestamptz) (
	SFUNC = uba_session_transfn, STYPE = internal, FINALFUNC = uba_session_final,
	COMBINEFUNC = uba_events_combine, SERIALFUNC = uba_events_serialize,
	DESERIALFUNC = uba_events_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_session_train(anynonarray, anycompatiblenonarray, timestamptz, jsonb) IS 'learn what sessions click next from (session, item, time) clicks: V-SKNN (default), STAN, sequential rules, Markov transitions or popularity';
COMMENT ON AGGREGATE uba_session_train(anynonarray, anycompatiblenonarray, timestamptz) IS 'learn what sessions click next from (session, item, time) clicks: V-SKNN (default), STAN, sequential rules, Markov transitions or popularity';
CREATE FUNCTION uba_next_items(model bytea, recent_items anycompatiblearray, n int, options jsonb DEFAULT NULL,
	OUT item_id anycompatible, OUT score float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION uba_next_items(bytea, anycompatiblearray, int, jsonb) IS 'the n items a live session most likely clicks next, from its recent clicks in click order (ids of their type)';

-- ---------- multilayer perceptrons (mlp.c) ----------
-- one transition function for every label type: boolean binary, float8 regression, text classes

CREATE FUNCTION uba_mlp_transfn(internal, anyelement, float8[], jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_mlp_transfn(internal, anyelement, float8[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_mlp_transfn(internal, anyelement, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_mlp_transfn(internal, anyelement, record) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_mlp_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL SAFE;

CREATE AGGREGATE uba_mlp_train(label boolean, features float8[], options jsonb) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(label boolean, features float8[]) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(target float8, features float8[], options jsonb) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(target float8, features float8[]) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
-- text labels and typed rows are interned as rows arrive: not split across parallel workers
CREATE AGGREGATE uba_mlp_train(label text, features float8[], options jsonb) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(label text, features float8[]) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(label boolean, features record, options jsonb) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(label boolean, features record) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(target float8, features record, options jsonb) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(target float8, features record) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(label text, features record, options jsonb) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(label text, features record) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_mlp_train(boolean, float8[], jsonb) IS 'train a multilayer perceptron classifier (Adam, as scikit-learn''s MLPClassifier) for a boolean label';
COMMENT ON AGGREGATE uba_mlp_train(boolean, float8[]) IS 'train a multilayer perceptron classifier (Adam, as scikit-learn''s MLPClassifier) for a boolean label';
COMMENT ON AGGREGATE uba_mlp_train(float8, float8[], jsonb) IS 'train a multilayer perceptron regressor (Adam, as scikit-learn''s MLPRegressor)';
COMMENT ON AGGREGATE uba_mlp_train(float8, float8[]) IS 'train a multilayer perceptron regressor (Adam, as scikit-learn''s MLPRegressor)';
COMMENT ON AGGREGATE uba_mlp_train(text, float8[], jsonb) IS 'train a multilayer perceptron classifier of a text label''s classes (softmax)';
COMMENT ON AGGREGATE uba_mlp_train(text, float8[]) IS 'train a multilayer perceptron classifier of a text label''s classes (softmax)';
COMMENT ON AGGREGATE uba_mlp_train(boolean, record, jsonb) IS 'train a multilayer perceptron classifier on a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_mlp_train(boolean, record) IS 'train a multilayer perceptron classifier on a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_mlp_train(float8, record, jsonb) IS 'train a multilayer perceptron regressor on a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_mlp_train(float8, record) IS 'train a multilayer perceptron regressor on a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_mlp_train(text, record, jsonb) IS 'train a multilayer perceptron classifier of a text label''s classes on a row''s columns as they are';
COMMENT ON AGGREGATE uba_mlp_train(text, record) IS 'train a multilayer perceptron classifier of a text label''s classes on a row''s columns as they are';

-- ---------- privacy: differentially private figures (noise.c, dp_count.c) ----------
CREATE FUNCTION uba_dp_noise_sample(mechanism text, scale float8, n int, seed bigint)
	RETURNS SETOF bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION uba_dp_noise_sample(text, float8, int, bigint) IS 'n draws of the integer noise of a mechanism (laplace: scale b; gaussian: sigma) from a seeded generator, for testing the samplers; releases use secure random bits';

-------------------------------------------------------------------------------
-- differentially private aggregates
-------------------------------------------------------------------------------

CREATE FUNCTION uba_dp_count_transfn(internal, anyelement, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_dp_count_transfn(internal, anyelement, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_dp_count_final(internal) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL SAFE;
-- the units are collected as rows arrive: not split across parallel workers
CREATE AGGREGATE uba_dp_count(unit_id anyelement, epsilon float8, options jsonb) (
	SFUNC = uba_dp_count_transfn, STYPE = internal, FINALFUNC = uba_dp_count_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_dp_count(unit_id anyelement, epsilon float8) (
	SFUNC = uba_dp_count_transfn, STYPE = internal, FINALFUNC = uba_dp_count_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_dp_count(anyelement, float8, jsonb) IS 'epsilon-differentially private count of rows, each privacy unit adding at most max_contributions (default 1): discrete Laplace noise from secure random bits';
COMMENT ON AGGREGATE uba_dp_count(anyelement, float8) IS 'epsilon-differentially private count of rows, each privacy unit adding at most one: discrete Laplace noise from secure random bits';

CREATE FUNCTION uba_dp_sum_transfn(internal, anyelement, float8, float8, float8, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_dp_sum_transfn(internal, anyelement, float8, float8, float8, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_dp_sum_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL SAFE;
CREATE FUNCTION uba_dp_avg_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL SAFE;
CREATE AGGREGATE uba_dp_sum(unit_id anyelement, value float8, lower float8, upper float8, epsilon float8, options jsonb) (
	SFUNC = uba_dp_sum_transfn, STYPE = internal, FINALFUNC = uba_dp_sum_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_dp_sum(unit_id anyelement, value float8, lower float8, upper float8, epsilon float8) (
	SFUNC = uba_dp_sum_transfn, STYPE = internal, FINALFUNC = uba_dp_sum_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_dp_avg(unit_id anyelement, value float8, lower float8, upper float8, epsilon float8, options jsonb) (
	SFUNC = uba_dp_sum_transfn, STYPE = internal, FINALFUNC = uba_dp_avg_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_dp_avg(unit_id anyelement, value float8, lower float8, upper float8, epsilon float8) (
	SFUNC = uba_dp_sum_transfn, STYPE = internal, FINALFUNC = uba_dp_avg_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_dp_sum(anyelement, float8, float8, float8, float8, jsonb) IS 'epsilon-differentially private sum of values clamped to [lower, upper], each privacy unit adding at most max_contributions rows (a random subset of its rows)';
COMMENT ON AGGREGATE uba_dp_sum(anyelement, float8, float8, float8, float8) IS 'epsilon-differentially private sum of values clamped to [lower, upper], each privacy unit adding at most one row (a random one)';
COMMENT ON AGGREGATE uba_dp_avg(anyelement, float8, float8, float8, float8, jsonb) IS 'epsilon-differentially private mean of values clamped to [lower, upper]: a noisy sum over a noisy count, half of epsilon each';
COMMENT ON AGGREGATE uba_dp_avg(anyelement, float8, float8, float8, float8) IS 'epsilon-differentially private mean of values clamped to [lower, upper]: a noisy sum over a noisy count, half of epsilon each';

CREATE FUNCTION uba_dp_count_distinct_final(internal) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL SAFE;
CREATE AGGREGATE uba_dp_count_distinct(unit_id anyelement, epsilon float8) (
	SFUNC = uba_dp_count_transfn, STYPE = internal, FINALFUNC = uba_dp_count_distinct_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_dp_count_distinct(anyelement, float8) IS 'epsilon-differentially private number of distinct privacy units: discrete Laplace noise of scale 1 / epsilon from secure random bits';

-- ---------- privacy: quantiles, grouped releases and the privacy budget (dp_quantile.c, release.c, budget.c) ----------

CREATE AGGREGATE uba_dp_count_distinct(unit_id anyelement, epsilon float8, options jsonb) (
	SFUNC = uba_dp_count_transfn, STYPE = internal, FINALFUNC = uba_dp_count_distinct_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_dp_count_distinct(anyelement, float8, jsonb) IS 'epsilon-differentially private number of distinct privacy units, with the options every DP aggregate takes (max_groups, delta, dataset)';

CREATE FUNCTION uba_dp_quantile_transfn(internal, anyelement, float8, float8, float8, float8, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_dp_quantile_transfn(internal, anyelement, float8, float8, float8, float8, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_dp_quantile_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL SAFE;
CREATE AGGREGATE uba_dp_quantile(unit_id anyelement, value float8, q float8, lower float8, upper float8, epsilon float8, options jsonb) (
	SFUNC = uba_dp_quantile_transfn, STYPE = internal, FINALFUNC = uba_dp_quantile_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_dp_quantile(unit_id anyelement, value float8, q float8, lower float8, upper float8, epsilon float8) (
	SFUNC = uba_dp_quantile_transfn, STYPE = internal, FINALFUNC = uba_dp_quantile_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_dp_quantile(anyelement, float8, float8, float8, float8, float8, jsonb) IS 'epsilon-differentially private q-quantile of values clamped to [lower, upper], from a tree of noisy counts; each unit adds at most max_contributions values';
COMMENT ON AGGREGATE uba_dp_quantile(anyelement, float8, float8, float8, float8, float8) IS 'epsilon-differentially private q-quantile of values clamped to [lower, upper], from a tree of noisy counts; each unit adds at most one value';

-------------------------------------------------------------------------------
-- the privacy budget (budget.c): who may spend how much on which dataset, and what was spent
-------------------------------------------------------------------------------

-- Nobody but the tables' owner (and roles it grants to) reads or writes them: analysts see their
-- own budget through uba_dp_my_budget; charges are written by uba's background worker as the
-- tables' owner; grants by uba_dp_grant, as whoever may write the table.
CREATE TABLE uba_dp_budget (
	dataset text NOT NULL CHECK (dataset <> '' AND length(dataset) <= 200),
	role pg_catalog.regrole NOT NULL,
	epsilon float8 NOT NULL DEFAULT 0 CHECK (epsilon >= 0 AND epsilon < 'Infinity'),
	delta float8 NOT NULL DEFAULT 0 CHECK (delta >= 0 AND delta < 1),
	epsilon_spent float8 NOT NULL DEFAULT 0 CHECK (epsilon_spent >= 0),
	delta_spent float8 NOT NULL DEFAULT 0 CHECK (delta_spent >= 0),
	granted_at timestamptz NOT NULL DEFAULT now(),
	granted_by name NOT NULL DEFAULT current_user,
	PRIMARY KEY (dataset, role)
);
SELECT pg_catalog.pg_extension_config_dump('uba_dp_budget', '');
COMMENT ON TABLE uba_dp_budget IS 'privacy budgets: the epsilon and delta each role may spend on each dataset, and what it has spent; grant with uba_dp_grant()';

-- (no identity column: pg_dump would restore the rows but not a sequence's position)
CREATE TABLE uba_dp_ledger (
	charged_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	dataset text NOT NULL,
	role pg_catalog.regrole NOT NULL,
	epsilon float8 NOT NULL,
	delta float8 NOT NULL,
	query text
);
SELECT pg_catalog.pg_extension_config_dump('uba_dp_ledger', '');
COMMENT ON TABLE uba_dp_ledger IS 'every charge to a privacy budget, committed before its release: who, when, how much, and the start of the query';

REVOKE ALL ON uba_dp_budget, uba_dp_ledger FROM PUBLIC;

-- the session user's own budgets (the role a release is charged to)
CREATE VIEW uba_dp_my_budget WITH (security_barrier) AS
SELECT dataset, epsilon, delta, epsilon_spent, delta_spent,
       GREATEST(epsilon OPERATOR(pg_catalog.-) epsilon_spent, 0::float8) AS epsilon_left,
       GREATEST(delta OPERATOR(pg_catalog.-) delta_spent, 0::float8) AS delta_left
  FROM uba_dp_budget
 WHERE role::pg_catalog.oid OPERATOR(pg_catalog.=)
       (SELECT oid FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) session_user);
GRANT SELECT ON uba_dp_my_budget TO PUBLIC;
COMMENT ON VIEW uba_dp_my_budget IS 'the privacy budgets of the session user (the role DP releases are charged to): granted, spent and left';

-- Adds to a role's budget for a dataset; only roles that may write uba_dp_budget can (its owner
-- and whom it grants INSERT and UPDATE).  Returns the epsilon and delta now left.
CREATE FUNCTION uba_dp_grant(dataset text, role pg_catalog.regrole, epsilon float8, delta float8 DEFAULT 0,
                             OUT epsilon_left float8, OUT delta_left float8)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF dataset IS NULL OR role IS NULL OR epsilon IS NULL OR delta IS NULL THEN
		RAISE EXCEPTION 'uba_dp_grant: dataset, role, epsilon and delta must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF dataset = '' OR length(dataset) > 200 THEN
		RAISE EXCEPTION 'uba_dp_grant: a dataset''s name must have 1 to 200 characters'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT (epsilon >= 0 AND epsilon <= 1000) OR NOT (delta >= 0 AND delta < 1) THEN
		RAISE EXCEPTION 'uba_dp_grant: epsilon must be between 0 and 1000, delta at least 0 and below 1'
			USING ERRCODE = 'invalid_parameter_value', DETAIL = format('Got epsilon %s, delta %s.', epsilon, delta);
	END IF;
	INSERT INTO @extschema@.uba_dp_budget AS b (dataset, role, epsilon, delta)
	VALUES (uba_dp_grant.dataset, uba_dp_grant.role, uba_dp_grant.epsilon, uba_dp_grant.delta)
	ON CONFLICT ON CONSTRAINT uba_dp_budget_pkey DO UPDATE
	   SET epsilon = b.epsilon + excluded.epsilon, delta = b.delta + excluded.delta,
	       granted_at = now(), granted_by = current_user
	RETURNING greatest(b.epsilon - b.epsilon_spent, 0), greatest(b.delta - b.delta_spent, 0)
	     INTO epsilon_left, delta_left;
END
$$;
REVOKE ALL ON FUNCTION uba_dp_grant(text, pg_catalog.regrole, float8, float8) FROM PUBLIC;
COMMENT ON FUNCTION uba_dp_grant(text, pg_catalog.regrole, float8, float8) IS 'adds epsilon and delta to a role''s privacy budget for a dataset (for roles that may write uba_dp_budget); returns what is left';

-------------------------------------------------------------------------------
-- differentially private funnels and retention (dp_behaviour.c), on uba_funnel's and
-- uba_retention's per-user results
-------------------------------------------------------------------------------

CREATE FUNCTION uba_dp_funnel_transfn(internal, anyelement, int, int, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_dp_funnel_transfn(internal, anyelement, int, int, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_dp_funnel_final(internal) RETURNS bigint[]
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL SAFE;
CREATE AGGREGATE uba_dp_funnel(unit_id anyelement, depth int, steps int, epsilon float8, options jsonb) (
	SFUNC = uba_dp_funnel_transfn, STYPE = internal, FINALFUNC = uba_dp_funnel_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_dp_funnel(unit_id anyelement, depth int, steps int, epsilon float8) (
	SFUNC = uba_dp_funnel_transfn, STYPE = internal, FINALFUNC = uba_dp_funnel_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_dp_funnel(anyelement, int, int, float8, jsonb) IS 'epsilon-differentially private number of units that reached each funnel step, from per-unit depths (uba_funnel): a noisy histogram of depths summed from the deepest step';
COMMENT ON AGGREGATE uba_dp_funnel(anyelement, int, int, float8) IS 'epsilon-differentially private number of units that reached each funnel step, from per-unit depths (uba_funnel): a noisy histogram of depths summed from the deepest step';

CREATE FUNCTION uba_dp_retention_transfn(internal, anyelement, boolean[], float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_dp_retention_transfn(internal, anyelement, boolean[], float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_dp_retention_final(internal) RETURNS bigint[]
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL SAFE;
CREATE AGGREGATE uba_dp_retention(unit_id anyelement, retained boolean[], epsilon float8, options jsonb) (
	SFUNC = uba_dp_retention_transfn, STYPE = internal, FINALFUNC = uba_dp_retention_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_dp_retention(unit_id anyelement, retained boolean[], epsilon float8) (
	SFUNC = uba_dp_retention_transfn, STYPE = internal, FINALFUNC = uba_dp_retention_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_dp_retention(anyelement, boolean[], float8, jsonb) IS 'epsilon-differentially private number of units with each element true, from per-unit retention arrays (uba_retention): the cohort, then the returning units of each period';
COMMENT ON AGGREGATE uba_dp_retention(anyelement, boolean[], float8) IS 'epsilon-differentially private number of units with each element true, from per-unit retention arrays (uba_retention): the cohort, then the returning units of each period';

-- ---------- privacy: pseudonyms, k-anonymity, generalization (pseudonym.c, kanon.c, generalize.c) ----------

-------------------------------------------------------------------------------
-- pseudonyms: keyed HMAC-SHA-256 of an id's text form (src/privacy/pseudonym.c)
-------------------------------------------------------------------------------

-- The secret keys.  Nobody but the table's owner reads it (PUBLIC has no right on it, key owners
-- and users neither): uba's functions read and write it as the owner, after checking the
-- caller's rights.  Kept by pg_dump, keys included: dumps must be protected as the keys are.
CREATE TABLE uba_pseudonym_keys (
	name text PRIMARY KEY CHECK (name <> '' AND length(name) <= 200),
	key bytea NOT NULL CHECK (octet_length(key) >= 16),
	owner pg_catalog.regrole NOT NULL,
	users pg_catalog.regrole[] NOT NULL DEFAULT '{}',
	created_at timestamptz NOT NULL DEFAULT now()
);
SELECT pg_catalog.pg_extension_config_dump('uba_pseudonym_keys', '');
REVOKE ALL ON uba_pseudonym_keys FROM PUBLIC;
COMMENT ON TABLE uba_pseudonym_keys IS 'secret keys of uba_pseudonymize; read and written only through uba_pseudonym_key_create, _grant, _revoke and _drop';
COMMENT ON COLUMN uba_pseudonym_keys.key IS 'the HMAC-SHA-256 key (at least 16 bytes): whoever reads it can compute and reverse pseudonyms by guessing ids';
COMMENT ON COLUMN uba_pseudonym_keys.owner IS 'role whose members may use, grant, revoke and drop the key (the role that created it)';
COMMENT ON COLUMN uba_pseudonym_keys.users IS 'roles whose members (with their privileges) may also use the key';

CREATE FUNCTION uba_pseudonym_key_create(name text, key bytea DEFAULT NULL)
RETURNS void AS 'MODULE_PATHNAME', 'uba_pseudonym_key_create' LANGUAGE C VOLATILE;
CREATE FUNCTION uba_pseudonym_key_grant(name text, role pg_catalog.regrole)
RETURNS void AS 'MODULE_PATHNAME', 'uba_pseudonym_key_grant' LANGUAGE C VOLATILE;
CREATE FUNCTION uba_pseudonym_key_revoke(name text, role pg_catalog.regrole)
RETURNS void AS 'MODULE_PATHNAME', 'uba_pseudonym_key_revoke' LANGUAGE C VOLATILE;
CREATE FUNCTION uba_pseudonym_key_drop(name text)
RETURNS void AS 'MODULE_PATHNAME', 'uba_pseudonym_key_drop' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION uba_pseudonym_key_create(text, bytea) IS 'create a pseudonym key owned by the current user: the given bytes (16 to 1024), or 32 bytes from a secure random generator when NULL';
COMMENT ON FUNCTION uba_pseudonym_key_grant(text, pg_catalog.regrole) IS 'let the members of a role use a pseudonym key (members of its owner role only)';
COMMENT ON FUNCTION uba_pseudonym_key_revoke(text, pg_catalog.regrole) IS 'take back a role''s use of a pseudonym key (members of its owner role only)';
COMMENT ON FUNCTION uba_pseudonym_key_drop(text) IS 'drop a pseudonym key (members of its owner role only): its pseudonyms can no longer be computed';

-- STABLE: an id's text form may follow settings (DateStyle, TimeZone, extra_float_digits), and
-- the key is read once per query.  PARALLEL RESTRICTED: the key is read with SPI as the key
-- table's owner, switching the user and search_path, which is for the leader, not the workers.
-- Not STRICT: a NULL key name is an error, a NULL id gives NULL.
CREATE FUNCTION uba_pseudonymize(id anyelement, key_name text)
RETURNS text AS 'MODULE_PATHNAME', 'uba_pseudonymize' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION uba_pseudonymize(anyelement, text) IS 'a stable keyed pseudonym: HMAC-SHA-256 of the id''s text form under a key one may use, as 64 lowercase hex digits; NULL for NULL';

-------------------------------------------------------------------------------
-- k-anonymity (src/privacy/kanon.c)
-------------------------------------------------------------------------------

CREATE TYPE uba_k_anonymity_result AS (
	k bigint,					-- the smallest group's size: the table is k-anonymous for this k
	groups bigint,				-- distinct quasi-identifier values
	rows bigint,
	rows_below_k bigint,		-- rows in groups smaller than the k asked for (NULL when none was)
	groups_below_k bigint		-- groups smaller than the k asked for (NULL when none was)
);
COMMENT ON TYPE uba_k_anonymity_result IS 'what uba_k_anonymity returns: the smallest group''s size, the groups and rows, and the rows and groups below a given k';

-- STABLE: values are grouped by their text forms, which may follow settings
CREATE FUNCTION uba_k_anonymity_transfn(internal, anyelement, int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_k_anonymity_transfn(internal, anyelement) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION uba_k_anonymity_final(internal) RETURNS uba_k_anonymity_result
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- the values are collected as rows arrive: not split across parallel workers
CREATE AGGREGATE uba_k_anonymity(quasi_identifiers anyelement, k int) (
	SFUNC = uba_k_anonymity_transfn, STYPE = internal, FINALFUNC = uba_k_anonymity_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_k_anonymity(quasi_identifiers anyelement) (
	SFUNC = uba_k_anonymity_transfn, STYPE = internal, FINALFUNC = uba_k_anonymity_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_k_anonymity(anyelement, int) IS 'k-anonymity of rows with respect to quasi-identifiers (a row value or a scalar): the smallest group''s size, the groups, the rows, and the rows and groups in groups smaller than k';
COMMENT ON AGGREGATE uba_k_anonymity(anyelement) IS 'k-anonymity of rows with respect to quasi-identifiers (a row value or a scalar): the smallest group''s size, the groups and the rows';

-------------------------------------------------------------------------------
-- generalization of quasi-identifiers (src/privacy/generalize.c: in C, to raise errors and
-- stay IMMUTABLE; a SQL function could not raise them, a PL/pgSQL one would not be inlined)
-------------------------------------------------------------------------------

CREATE FUNCTION uba_generalize_age(age int, band int DEFAULT 10, top int DEFAULT 90)
RETURNS text AS 'MODULE_PATHNAME', 'uba_generalize_age' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_generalize_zip(zip text, keep int DEFAULT 3)
RETURNS text AS 'MODULE_PATHNAME', 'uba_generalize_zip' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_generalize_date(d date, unit text DEFAULT 'month')
RETURNS date AS 'MODULE_PATHNAME', 'uba_generalize_date' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_generalize_age(int, int, int) IS 'an age as its band of width band from 0 (''30-39''), or ''top+'' from top on (''90+'')';
COMMENT ON FUNCTION uba_generalize_zip(text, int) IS 'a postal code with all but its first keep characters masked by ''*'' (''123**'')';
COMMENT ON FUNCTION uba_generalize_date(date, text) IS 'the first day of a date''s week (Monday), month, quarter or year';

-- ---------- metrics: A/B test readouts (abtest.c) ----------

-------------------------------------------------------------------------------
-- A/B test readouts (abtest.c): one row per unit in, one uba_ab_result per variant out
-------------------------------------------------------------------------------

CREATE TYPE uba_ab_result AS (
	variant text,
	is_control boolean,
	units bigint,
	mean float8,				-- of the (capped) values
	std_dev float8,
	adjusted_mean float8,		-- CUPED-adjusted with a covariate, else the mean
	lift float8,				-- adjusted_mean - the control's
	lift_lower float8,
	lift_upper float8,
	relative_lift float8,		-- adjusted_mean / the control's - 1
	relative_lift_lower float8,
	relative_lift_upper float8,
	p_value float8,				-- Welch's t-test; NULL with sequential intervals
	p_value_adjusted float8,	-- for several treatments (Holm by default)
	chance_to_win float8,		-- Bayesian: P(lift > 0)
	expected_loss float8,		-- Bayesian: E[max(0, -lift)] in the metric's units
	srm_p_value float8,			-- the sample ratio check, on every row
	srm_ok boolean
);
COMMENT ON TYPE uba_ab_result IS 'one variant of an A/B test readout: its mean, and against the control the lift with intervals, Welch''s p-value, the Bayesian chance to win and expected loss, and the sample ratio check';

CREATE FUNCTION uba_ab_test_transfn(internal, text, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_transfn(internal, text, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_cuped_transfn(internal, text, float8, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_cuped_transfn(internal, text, float8, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_bool_transfn(internal, text, boolean, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_bool_transfn(internal, text, boolean) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_final(internal) RETURNS uba_ab_result[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE uba_ab_test(variant text, value float8, options jsonb) (
	SFUNC = uba_ab_test_transfn, STYPE = internal, FINALFUNC = uba_ab_test_final,
	COMBINEFUNC = uba_ab_test_combine, SERIALFUNC = uba_ab_test_serialize,
	DESERIALFUNC = uba_ab_test_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ab_test(variant text, value float8) (
	SFUNC = uba_ab_test_transfn, STYPE = internal, FINALFUNC = uba_ab_test_final,
	COMBINEFUNC = uba_ab_test_combine, SERIALFUNC = uba_ab_test_serialize,
	DESERIALFUNC = uba_ab_test_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ab_test(variant text, value float8, covariate float8, options jsonb) (
	SFUNC = uba_ab_test_cuped_transfn, STYPE = internal, FINALFUNC = uba_ab_test_final,
	COMBINEFUNC = uba_ab_test_combine, SERIALFUNC = uba_ab_test_serialize,
	DESERIALFUNC = uba_ab_test_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ab_test(variant text, value float8, covariate float8) (
	SFUNC = uba_ab_test_cuped_transfn, STYPE = internal, FINALFUNC = uba_ab_test_final,
	COMBINEFUNC = uba_ab_test_combine, SERIALFUNC = uba_ab_test_serialize,
	DESERIALFUNC = uba_ab_test_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ab_test(variant text, converted boolean, options jsonb) (
	SFUNC = uba_ab_test_bool_transfn, STYPE = internal, FINALFUNC = uba_ab_test_final,
	COMBINEFUNC = uba_ab_test_combine, SERIALFUNC = uba_ab_test_serialize,
	DESERIALFUNC = uba_ab_test_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ab_test(variant text, converted boolean) (
	SFUNC = uba_ab_test_bool_transfn, STYPE = internal, FINALFUNC = uba_ab_test_final,
	COMBINEFUNC = uba_ab_test_combine, SERIALFUNC = uba_ab_test_serialize,
	DESERIALFUNC = uba_ab_test_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_ab_test(text, float8, jsonb) IS 'A/B test readout of a metric per unit: per variant its mean and, against the control, lift with intervals (Welch), p-values (Holm across treatments), chance to win, expected loss and the sample ratio check';
COMMENT ON AGGREGATE uba_ab_test(text, float8) IS 'A/B test readout of a metric per unit (see the variant with options)';
COMMENT ON AGGREGATE uba_ab_test(text, float8, float8, jsonb) IS 'A/B test readout with CUPED variance reduction by a pre-period covariate per unit';
COMMENT ON AGGREGATE uba_ab_test(text, float8, float8) IS 'A/B test readout with CUPED variance reduction by a pre-period covariate per unit';
COMMENT ON AGGREGATE uba_ab_test(text, boolean, jsonb) IS 'A/B test readout of a conversion per unit: Welch on proportions, Beta-binomial chance to win and expected loss';
COMMENT ON AGGREGATE uba_ab_test(text, boolean) IS 'A/B test readout of a conversion per unit (see the variant with options)';

CREATE FUNCTION uba_ab_sample_size(baseline float8, relative_mde float8, std_dev float8 DEFAULT NULL,
                                   alpha float8 DEFAULT 0.05, power float8 DEFAULT 0.8, variants int DEFAULT 2)
RETURNS bigint AS 'MODULE_PATHNAME', 'uba_ab_sample_size' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION uba_ab_sample_size(float8, float8, float8, float8, float8, int) IS 'units per variant for a two-sided test to detect a relative lift of a mean (with its std_dev) or a proportion (std_dev NULL), as statsmodels'' NormalIndPower; several treatments at alpha / (variants - 1)';
CREATE FUNCTION uba_ab_mde(units_per_variant float8, baseline float8, std_dev float8 DEFAULT NULL,
                           alpha float8 DEFAULT 0.05, power float8 DEFAULT 0.8, variants int DEFAULT 2)
RETURNS float8 AS 'MODULE_PATHNAME', 'uba_ab_mde' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION uba_ab_mde(float8, float8, float8, float8, float8, int) IS 'the smallest relative lift of a mean or proportion that units_per_variant units per variant detect with the power asked';

-------------------------------------------------------------------------------
-- off-policy evaluation (ope.c): a new policy's value from a log of another's decisions
-------------------------------------------------------------------------------

CREATE TYPE uba_ope_result AS (
	estimate float8,				-- the new policy's expected reward per decision
	lower float8,
	upper float8,
	std_error float8,				-- of the normal approximation
	decisions bigint,
	effective_sample_size float8,	-- (sum w)^2 / sum w^2: how many decisions the estimate rests on
	max_weight float8				-- the largest target_probability / logging_propensity
);
COMMENT ON TYPE uba_ope_result IS 'an off-policy estimate of a policy''s value with its confidence interval, the decisions, the effective sample size and the largest importance weight';

CREATE FUNCTION uba_ope_ips_transfn(internal, float8, float8, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ope_ips_transfn(internal, float8, float8, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ope_dr_transfn(internal, float8, float8, float8, float8, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ope_dr_transfn(internal, float8, float8, float8, float8, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ope_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ope_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_ope_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_ope_ips_final(internal) RETURNS uba_ope_result
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ope_snips_final(internal) RETURNS uba_ope_result
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ope_dr_final(internal) RETURNS uba_ope_result
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE uba_ope_ips(reward float8, logging_propensity float8, target_probability float8, options jsonb) (
	SFUNC = uba_ope_ips_transfn, STYPE = internal, FINALFUNC = uba_ope_ips_final, COMBINEFUNC = uba_ope_combine,
	SERIALFUNC = uba_ope_serialize, DESERIALFUNC = uba_ope_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ope_ips(reward float8, logging_propensity float8, target_probability float8) (
	SFUNC = uba_ope_ips_transfn, STYPE = internal, FINALFUNC = uba_ope_ips_final, COMBINEFUNC = uba_ope_combine,
	SERIALFUNC = uba_ope_serialize, DESERIALFUNC = uba_ope_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ope_snips(reward float8, logging_propensity float8, target_probability float8, options jsonb) (
	SFUNC = uba_ope_ips_transfn, STYPE = internal, FINALFUNC = uba_ope_snips_final, COMBINEFUNC = uba_ope_combine,
	SERIALFUNC = uba_ope_serialize, DESERIALFUNC = uba_ope_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ope_snips(reward float8, logging_propensity float8, target_probability float8) (
	SFUNC = uba_ope_ips_transfn, STYPE = internal, FINALFUNC = uba_ope_snips_final, COMBINEFUNC = uba_ope_combine,
	SERIALFUNC = uba_ope_serialize, DESERIALFUNC = uba_ope_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ope_dr(reward float8, logging_propensity float8, target_probability float8,
                            predicted_reward float8, target_expected_reward float8, options jsonb) (
	SFUNC = uba_ope_dr_transfn, STYPE = internal, FINALFUNC = uba_ope_dr_final, COMBINEFUNC = uba_ope_combine,
	SERIALFUNC = uba_ope_serialize, DESERIALFUNC = uba_ope_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ope_dr(reward float8, logging_propensity float8, target_probability float8,
                            predicted_reward float8, target_expected_reward float8) (
	SFUNC = uba_ope_dr_transfn, STYPE = internal, FINALFUNC = uba_ope_dr_final, COMBINEFUNC = uba_ope_combine,
	SERIALFUNC = uba_ope_serialize, DESERIALFUNC = uba_ope_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_ope_ips(float8, float8, float8, jsonb) IS 'inverse propensity scoring: a new policy''s value from logged decisions (mean of target_probability / logging_propensity * reward), with an interval';
COMMENT ON AGGREGATE uba_ope_ips(float8, float8, float8) IS 'inverse propensity scoring estimate of a new policy''s value, with a normal interval';
COMMENT ON AGGREGATE uba_ope_snips(float8, float8, float8, jsonb) IS 'self-normalized inverse propensity scoring: sum w r / sum w, delta-method or bootstrap interval';
COMMENT ON AGGREGATE uba_ope_snips(float8, float8, float8) IS 'self-normalized inverse propensity scoring estimate of a new policy''s value, with a normal interval';
COMMENT ON AGGREGATE uba_ope_dr(float8, float8, float8, float8, float8, jsonb) IS 'doubly robust estimate of a new policy''s value: the reward model''s expectation under the policy plus importance-weighted residuals';
COMMENT ON AGGREGATE uba_ope_dr(float8, float8, float8, float8, float8) IS 'doubly robust estimate of a new policy''s value, with a normal interval';

-- ---------- decide: contextual bandits (bandit.c) ----------

CREATE FUNCTION uba_bandit_transfn(internal, bigint, float8[], float8, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_bandit_transfn(internal, bigint, float8[], float8, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_bandit_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_bandit_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_bandit_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_bandit_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_bandit_train(action bigint, context float8[], reward float8, propensity float8, options jsonb) (
	SFUNC = uba_bandit_transfn, STYPE = internal, FINALFUNC = uba_bandit_final,
	COMBINEFUNC = uba_bandit_combine, SERIALFUNC = uba_bandit_serialize,
	DESERIALFUNC = uba_bandit_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_bandit_train(action bigint, context float8[], reward float8, propensity float8) (
	SFUNC = uba_bandit_transfn, STYPE = internal, FINALFUNC = uba_bandit_final,
	COMBINEFUNC = uba_bandit_combine, SERIALFUNC = uba_bandit_serialize,
	DESERIALFUNC = uba_bandit_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_bandit_train(bigint, float8[], float8, float8, jsonb) IS 'a contextual bandit policy (kind bandit) from a log of decisions: method linucb (default), lin_ts, epsilon_greedy or beta_ts; per action A = lambda I + sum x x'', b = sum r x, optionally weighted by 1 / propensity';
COMMENT ON AGGREGATE uba_bandit_train(bigint, float8[], float8, float8) IS 'a LinUCB policy (kind bandit) from a log of decisions';

CREATE FUNCTION uba_bandit_update(policy bytea, action bigint, context float8[], reward float8, propensity float8 DEFAULT NULL)
RETURNS bytea AS 'MODULE_PATHNAME', 'uba_bandit_update' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION uba_bandit_update(bytea, bigint, float8[], float8, float8) IS 'the policy with one more observation (its action''s statistics updated; a new action added)';

CREATE FUNCTION uba_bandit_choose(policy bytea, context float8[], actions bigint[], options jsonb DEFAULT NULL,
                                  OUT action bigint, OUT propensity float8, OUT score float8)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'uba_bandit_choose' LANGUAGE C VOLATILE PARALLEL SAFE ROWS 1;
COMMENT ON FUNCTION uba_bandit_choose(bytea, float8[], bigint[], jsonb) IS 'the policy''s choice among actions for a context (n slots by option, a ranking without replacement), with the propensity to log and the score';

-- typed rows: a row's columns as the context (encode.c: numbers as they are, categories one-hot);
-- the decisions are kept and added up when every row has been seen, so not in parallel
CREATE FUNCTION uba_bandit_transfn(internal, bigint, record, float8, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME', 'uba_bandit_transfn_row' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_bandit_transfn(internal, bigint, record, float8, float8) RETURNS internal
	AS 'MODULE_PATHNAME', 'uba_bandit_transfn_row' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_bandit_row_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'uba_bandit_final_row' LANGUAGE C VOLATILE PARALLEL SAFE;
CREATE AGGREGATE uba_bandit_train(action bigint, context record, reward float8, propensity float8, options jsonb) (
	SFUNC = uba_bandit_transfn, STYPE = internal, FINALFUNC = uba_bandit_row_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_bandit_train(action bigint, context record, reward float8, propensity float8) (
	SFUNC = uba_bandit_transfn, STYPE = internal, FINALFUNC = uba_bandit_row_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_bandit_train(bigint, record, float8, float8, jsonb) IS 'a contextual bandit policy (kind bandit) on a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_bandit_train(bigint, record, float8, float8) IS 'a LinUCB policy (kind bandit) on a row''s columns as they are';
CREATE FUNCTION uba_bandit_update(policy bytea, action bigint, context record, reward float8, propensity float8 DEFAULT NULL)
RETURNS bytea AS 'MODULE_PATHNAME', 'uba_bandit_update_row' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION uba_bandit_update(bytea, bigint, record, float8, float8) IS 'the policy (trained on typed rows) with one more observation, its context a row whose columns are found by name';
CREATE FUNCTION uba_bandit_choose(policy bytea, context record, actions bigint[], options jsonb DEFAULT NULL,
                                  OUT action bigint, OUT propensity float8, OUT score float8)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'uba_bandit_choose_row' LANGUAGE C VOLATILE PARALLEL SAFE ROWS 1;
COMMENT ON FUNCTION uba_bandit_choose(bytea, record, bigint[], jsonb) IS 'the choice of a policy trained on typed rows, for a context row whose columns are found by name';

-- the text form of a context: a literal such as '{1,2}' or NULL would be ambiguous between float8[] and record
CREATE FUNCTION uba_bandit_transfn(internal, bigint, text, float8, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME', 'uba_bandit_transfn_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_bandit_transfn(internal, bigint, text, float8, float8) RETURNS internal
	AS 'MODULE_PATHNAME', 'uba_bandit_transfn_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_bandit_train(action bigint, context text, reward float8, propensity float8, options jsonb) (
	SFUNC = uba_bandit_transfn, STYPE = internal, FINALFUNC = uba_bandit_final,
	COMBINEFUNC = uba_bandit_combine, SERIALFUNC = uba_bandit_serialize,
	DESERIALFUNC = uba_bandit_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_bandit_train(action bigint, context text, reward float8, propensity float8) (
	SFUNC = uba_bandit_transfn, STYPE = internal, FINALFUNC = uba_bandit_final,
	COMBINEFUNC = uba_bandit_combine, SERIALFUNC = uba_bandit_serialize,
	DESERIALFUNC = uba_bandit_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_bandit_train(bigint, text, float8, float8, jsonb) IS 'a contextual bandit policy (kind bandit), the context a float8[]''s text form (or NULL for beta_ts)';
COMMENT ON AGGREGATE uba_bandit_train(bigint, text, float8, float8) IS 'a LinUCB policy (kind bandit), the context a float8[]''s text form';
CREATE FUNCTION uba_bandit_update(policy bytea, action bigint, context text, reward float8, propensity float8 DEFAULT NULL)
RETURNS bytea AS 'MODULE_PATHNAME', 'uba_bandit_update_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION uba_bandit_update(bytea, bigint, text, float8, float8) IS 'the policy with one more observation, the context a float8[]''s text form';
CREATE FUNCTION uba_bandit_choose(policy bytea, context text, actions bigint[], options jsonb DEFAULT NULL,
                                  OUT action bigint, OUT propensity float8, OUT score float8)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'uba_bandit_choose_text' LANGUAGE C VOLATILE PARALLEL SAFE ROWS 1;
COMMENT ON FUNCTION uba_bandit_choose(bytea, text, bigint[], jsonb) IS 'the policy''s choice, the context a float8[]''s text form (or NULL for beta_ts)';

-- fitted Q iteration (src/decide/fqi.c): a policy of kind bandit, method fqi, for sequences of decisions
CREATE FUNCTION uba_fqi_transfn(internal, float8[], bigint, float8, float8[], jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_fqi_transfn(internal, float8[], bigint, float8, float8[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_fqi_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL SAFE;
CREATE AGGREGATE uba_fqi_train(state float8[], action bigint, reward float8, next_state float8[], options jsonb) (
	SFUNC = uba_fqi_transfn, STYPE = internal, FINALFUNC = uba_fqi_final, PARALLEL = SAFE);
CREATE AGGREGATE uba_fqi_train(state float8[], action bigint, reward float8, next_state float8[]) (
	SFUNC = uba_fqi_transfn, STYPE = internal, FINALFUNC = uba_fqi_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_fqi_train(float8[], bigint, float8, float8[], jsonb) IS 'fitted Q iteration over logged transitions (next_state NULL ends an episode): a linear Q per action, a policy of kind bandit (method fqi) for uba_bandit_choose';
COMMENT ON AGGREGATE uba_fqi_train(float8[], bigint, float8, float8[]) IS 'fitted Q iteration over logged transitions, gamma 0.9';

-- fitted Q evaluation (src/decide/fqi.c): a policy's value per episode from another policy's log
CREATE FUNCTION uba_fqe_transfn(internal, bytea, float8[], bigint, float8, float8[], boolean, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_fqe_transfn(internal, bytea, float8[], bigint, float8, float8[], boolean) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_fqe_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL SAFE;
CREATE AGGREGATE uba_fqe(policy bytea, state float8[], action bigint, reward float8, next_state float8[], start boolean, options jsonb) (
	SFUNC = uba_fqe_transfn, STYPE = internal, FINALFUNC = uba_fqe_final, PARALLEL = SAFE);
CREATE AGGREGATE uba_fqe(policy bytea, state float8[], action bigint, reward float8, next_state float8[], start boolean) (
	SFUNC = uba_fqe_transfn, STYPE = internal, FINALFUNC = uba_fqe_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_fqe(bytea, float8[], bigint, float8, float8[], boolean, jsonb) IS 'fitted Q evaluation: the discounted value per episode of a linucb, epsilon_greedy or fqi policy, estimated from logged transitions of another policy (start marks each episode''s first step)';
COMMENT ON AGGREGATE uba_fqe(bytea, float8[], bigint, float8, float8[], boolean) IS 'fitted Q evaluation of a policy on logged transitions, gamma 0.9';
