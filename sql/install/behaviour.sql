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
