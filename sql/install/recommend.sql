-- uba recommend: collaborative filtering
--
-- uba_cf_train (ALS, item_knn, EASE), serving, explanations, and uba_recommend over the catalog.
-- The install script is these files in the order the Makefile lists them (INSTALL_PARTS);
-- the upgrade scripts beside them must reach the same objects (test/dump_restore.sh checks).

-------------------------------------------------------------------------------
-- Recommendations: collaborative filtering
-------------------------------------------------------------------------------

CREATE FUNCTION uba_cf_transfn(internal, bigint, bigint, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_cf_transfn(internal, bigint, bigint, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_cf_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;


CREATE AGGREGATE uba_cf_train(user_id bigint, item_id bigint, weight float8, options jsonb) (
	SFUNC = uba_cf_transfn, STYPE = internal, FINALFUNC = uba_cf_final,
	FINALFUNC_MODIFY = READ_WRITE, COMBINEFUNC = uba_events_combine,
	SERIALFUNC = uba_events_serialize, DESERIALFUNC = uba_events_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_cf_train(user_id bigint, item_id bigint, weight float8) (
	SFUNC = uba_cf_transfn, STYPE = internal, FINALFUNC = uba_cf_final,
	FINALFUNC_MODIFY = READ_WRITE, COMBINEFUNC = uba_events_combine,
	SERIALFUNC = uba_events_serialize, DESERIALFUNC = uba_events_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_cf_train(bigint, bigint, float8, jsonb) IS 'train a recommendation model (implicit-feedback ALS) from (user, item, weight) events';
COMMENT ON AGGREGATE uba_cf_train(bigint, bigint, float8) IS 'train a recommendation model (implicit-feedback ALS) from (user, item, weight) events';

CREATE FUNCTION uba_cf_recommend(model bytea, user_id bigint, n int, options jsonb DEFAULT NULL,
	OUT item_id bigint, OUT score float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_cf_recommend(bytea, bigint, int, jsonb) IS 'the n best items for a user, without the items the user already has; the most popular items for an unknown user';
CREATE FUNCTION uba_cf_recommend(model bytea, items bigint[], n int, options jsonb DEFAULT NULL,
	OUT item_id bigint, OUT score float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'uba_cf_recommend_items' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_cf_recommend(bytea, bigint[], int, jsonb) IS 'the n best items for a list of items (a cart, a session) by real-time fold-in, without those items';
-- an unknown literal (NULL, '{1641,3040}') fits bigint and bigint[] alike; the string category wins
CREATE FUNCTION uba_cf_recommend(model bytea, id text, n int, options jsonb DEFAULT NULL,
	OUT item_id bigint, OUT score float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'uba_cf_recommend_text' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_cf_recommend(bytea, text, int, jsonb) IS 'what an untyped literal resolves to: ''{1,2}'' is a list of items, anything else a user id';
CREATE FUNCTION uba_cf_similar_items(model bytea, item_id bigint, n int,
	OUT item_id bigint, OUT score float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_cf_similar_items(bytea, bigint, int) IS 'the n items most similar to an item (cosine of their vectors): customers who bought this also bought';

-- ranking metrics for recommendations: one user's list against their relevant set; average with avg()

-- the line users write most: recommend with the active version of a catalog model.  The model
-- is read by an index lookup (its TOAST pointer, not its bytes) and kept parsed by the backend
-- across queries; a new active version is a new value, so the next query after its commit uses it.
CREATE FUNCTION uba_recommend(user_id bigint, n int, model_name text DEFAULT NULL,
	OUT item_id bigint, OUT score float8)
	RETURNS SETOF record
	LANGUAGE sql STABLE PARALLEL SAFE ROWS 10
AS $$
	SELECT r.item_id, r.score
	  FROM @extschema@.uba_cf_recommend(
	         coalesce((SELECT s.model FROM @extschema@.uba_model_store s
	                    WHERE s.name OPERATOR(pg_catalog.=)
	                          coalesce(model_name, pg_catalog.current_setting('uba.recommender'::pg_catalog.text, true),
	                                   'recommender'::pg_catalog.text)
	                      AND s.active),
	                  @extschema@.uba_model(coalesce(model_name, pg_catalog.current_setting('uba.recommender'::pg_catalog.text, true),
	                                                 'recommender'::pg_catalog.text),
	                                        NULL::pg_catalog.int4)),
	         user_id, n, NULL::pg_catalog.jsonb) r
$$;
COMMENT ON FUNCTION uba_recommend(bigint, int, text) IS 'the n best items for a user from the active version of a catalog model (default: the setting uba.recommender)';

CREATE FUNCTION uba_cf_explain(model bytea, user_id bigint, item_id bigint, n int DEFAULT 10,
	OUT because_item bigint, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_cf_explain(bytea, bigint, bigint, int) IS 'which of the user''s own items drove an item''s score, largest contributions first';
