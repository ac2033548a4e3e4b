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
