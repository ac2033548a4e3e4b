-- uba value: customers' repeat purchases, spend and lifetime value
--
-- The models read lifetimes' customer summary (frequency, recency, T, monetary value), as
-- uba_rfm computes it.  The install script is these files in the order the Makefile lists them
-- (INSTALL_PARTS); the upgrade scripts beside them must reach the same objects.

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
