-- uba privacy: differentially private figures (noise.c, dp_count.c)
--
-- Noise is an integer drawn exactly from the discrete Laplace or Gaussian distribution with
-- cryptographically secure random bits (doc/privacy.md).  The install script is these files in
-- the order the Makefile lists them (INSTALL_PARTS); the upgrade scripts beside them must reach
-- the same objects.

-------------------------------------------------------------------------------
-- the samplers, seeded: for testing their distributions, never for releasing data
-------------------------------------------------------------------------------

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
