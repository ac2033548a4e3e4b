-- uba decide: contextual bandits trained from logged decisions (src/decide/bandit.c)
--
-- The install script is these files in the order the Makefile lists them (INSTALL_PARTS); the
-- upgrade scripts beside them must reach the same objects.

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
