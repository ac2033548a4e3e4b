-- uba behaviour: sessions, funnels, retention, association rules
--
-- Window function and parallel aggregates over events; FP-growth association rules.
-- The install script is these files in the order the Makefile lists them (INSTALL_PARTS);
-- the upgrade scripts beside them must reach the same objects (test/dump_restore.sh checks).

-- ---------- behaviour analytics: sessions, funnels, retention (session.c, funnel.c, retention.c) ----------

-- a window function: OVER (PARTITION BY user ORDER BY ts); a new session when ts - previous ts > gap
CREATE FUNCTION uba_session(ts timestamptz, gap interval) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_session' LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_session(ts timestamp, gap interval) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_session' LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION uba_session(timestamptz, interval) IS 'session number 1, 2, ... of each row in its partition: a new session starts when the time since the previous row exceeds gap';
COMMENT ON FUNCTION uba_session(timestamp, interval) IS 'session number 1, 2, ... of each row in its partition: a new session starts when the time since the previous row exceeds gap';

CREATE FUNCTION uba_funnel_transfn(internal, timestamptz, interval, boolean[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_funnel_transfn(internal, timestamp, interval, boolean[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_funnel_final(internal) RETURNS int
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_funnel_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_funnel_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_funnel_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE uba_funnel(ts timestamptz, "window" interval, steps boolean[]) (
	SFUNC = uba_funnel_transfn, STYPE = internal, FINALFUNC = uba_funnel_final,
	COMBINEFUNC = uba_funnel_combine, SERIALFUNC = uba_funnel_serialize,
	DESERIALFUNC = uba_funnel_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_funnel(ts timestamp, "window" interval, steps boolean[]) (
	SFUNC = uba_funnel_transfn, STYPE = internal, FINALFUNC = uba_funnel_final,
	COMBINEFUNC = uba_funnel_combine, SERIALFUNC = uba_funnel_serialize,
	DESERIALFUNC = uba_funnel_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_funnel(timestamptz, interval, boolean[]) IS 'the deepest funnel step reached in order, within window of a step-1 event (0: step 1 never held)';
COMMENT ON AGGREGATE uba_funnel(timestamp, interval, boolean[]) IS 'the deepest funnel step reached in order, within window of a step-1 event (0: step 1 never held)';

CREATE FUNCTION uba_retention_transfn(internal, boolean[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_retention_final(internal) RETURNS boolean[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_retention_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_retention_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_retention_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE uba_retention(conditions boolean[]) (
	SFUNC = uba_retention_transfn, STYPE = internal, FINALFUNC = uba_retention_final,
	COMBINEFUNC = uba_retention_combine, SERIALFUNC = uba_retention_serialize,
	DESERIALFUNC = uba_retention_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_retention(boolean[]) IS 'element 1: condition 1 ever held; element i: conditions 1 and i both ever held';

-- ---------- frequently bought together: association rules (assoc.c) ----------

CREATE FUNCTION uba_assoc_transfn(internal, anynonarray, anycompatiblenonarray, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_assoc_transfn(internal, anynonarray, anycompatiblenonarray) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_assoc_final(internal) RETURNS bytea
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
