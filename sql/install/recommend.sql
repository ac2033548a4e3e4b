-- uba recommend: collaborative filtering
--
-- uba_cf_train (ALS, item_knn, EASE), serving, explanations, and uba_recommend over the catalog.
-- The install script is these files in the order the Makefile lists them (INSTALL_PARTS);
-- the upgrade scripts beside them must reach the same objects (test/dump_restore.sh checks).

-------------------------------------------------------------------------------
-- Recommendations: collaborative filtering
-------------------------------------------------------------------------------

-- Ids are bigint, integer, smallint, text, varchar, char or uuid (src/core/ids.c): user and item ids
-- have types of their own (anynonarray and anycompatiblenonarray), and results give items back in
-- the type the caller's arguments say.
CREATE FUNCTION uba_cf_transfn(internal, anynonarray, anycompatiblenonarray, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_cf_transfn(internal, anynonarray, anycompatiblenonarray, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_cf_final(internal) RETURNS bytea
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
