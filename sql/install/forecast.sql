-- uba forecast: demand forecasting, many series at once
--
-- One model per series: uba_forecast_train is an aggregate, so GROUP BY trains one per product.
-- The install script is these files in the order the Makefile lists them (INSTALL_PARTS); the
-- upgrade scripts beside them must reach the same objects.

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
