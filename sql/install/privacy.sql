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
