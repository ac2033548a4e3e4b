-- uba predict: logistic and ridge regression
--
-- Training aggregates, scoring, coefficients and explanations.
-- The install script is these files in the order the Makefile lists them (INSTALL_PARTS);
-- the upgrade scripts beside them must reach the same objects (test/dump_restore.sh checks).

-------------------------------------------------------------------------------
-- Logistic regression
-------------------------------------------------------------------------------

CREATE FUNCTION uba_logreg_transfn(internal, boolean, float8[], jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_logreg_transfn(internal, boolean, float8[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_logreg_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE uba_logreg_train(label boolean, features float8[], options jsonb) (
	SFUNC = uba_logreg_transfn, STYPE = internal, FINALFUNC = uba_logreg_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_logreg_train(label boolean, features float8[]) (
	SFUNC = uba_logreg_transfn, STYPE = internal, FINALFUNC = uba_logreg_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_logreg_train(boolean, float8[], jsonb) IS 'train a logistic regression model';
COMMENT ON AGGREGATE uba_logreg_train(boolean, float8[]) IS 'train a logistic regression model';

CREATE FUNCTION uba_logreg_predict(model bytea, features float8[]) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_logreg_predict(bytea, float8[]) IS 'probability that the label is true';
CREATE FUNCTION uba_logreg_classify(model bytea, features float8[], threshold float8) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_logreg_classify(model bytea, features float8[]) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_logreg_classify(bytea, float8[], float8) IS 'whether the probability reaches the threshold';
COMMENT ON FUNCTION uba_logreg_classify(bytea, float8[]) IS 'whether the probability reaches 0.5';

-------------------------------------------------------------------------------
-- Ridge regression
-------------------------------------------------------------------------------

-- the state is a bytea of the moments (not internal), so that Citus splits the aggregate
CREATE FUNCTION uba_linreg_transfn(bytea, float8, float8[], jsonb) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_linreg_transfn(bytea, float8, float8[]) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_linreg_combine(bytea, bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_linreg_final(bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE uba_linreg_train(target float8, features float8[], options jsonb) (
	SFUNC = uba_linreg_transfn, STYPE = bytea, FINALFUNC = uba_linreg_final,
	COMBINEFUNC = uba_linreg_combine, PARALLEL = SAFE);
CREATE AGGREGATE uba_linreg_train(target float8, features float8[]) (
	SFUNC = uba_linreg_transfn, STYPE = bytea, FINALFUNC = uba_linreg_final,
	COMBINEFUNC = uba_linreg_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_linreg_train(float8, float8[], jsonb) IS 'train a ridge regression model';
COMMENT ON AGGREGATE uba_linreg_train(float8, float8[]) IS 'train a ridge regression model';

CREATE FUNCTION uba_linreg_predict(model bytea, features float8[]) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_linreg_predict(bytea, float8[]) IS 'predicted target of a ridge regression model';

CREATE FUNCTION uba_linreg_coefficients(model bytea,
	OUT feature int, OUT name text, OUT coefficient float8, OUT std_coefficient float8,
	OUT std_error float8, OUT t float8, OUT p_value float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION uba_linreg_coefficients(bytea) IS 'coefficients of a ridge regression model in input units and per standard deviation; for least squares (l2 = 0) standard errors, t and p-values as R''s summary.lm';

CREATE FUNCTION uba_logreg_coefficients(model bytea,
	OUT feature int, OUT name text, OUT coefficient float8, OUT std_coefficient float8,
	OUT odds_ratio float8, OUT std_error float8, OUT z float8, OUT p_value float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION uba_logreg_coefficients(bytea) IS 'coefficients, odds ratios and Wald statistics of a logistic regression model';
CREATE FUNCTION uba_logreg_explain(model bytea, features float8[], top int,
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
CREATE FUNCTION uba_logreg_explain(model bytea, features float8[],
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION uba_logreg_explain(bytea, float8[], int) IS 'each feature''s contribution to the log-odds of one prediction, largest first';
COMMENT ON FUNCTION uba_logreg_explain(bytea, float8[]) IS 'each feature''s contribution to the log-odds of one prediction, largest first';

-------------------------------------------------------------------------------
-- Gradient-boosted trees (trained with XGBoost, scored by uba)
-------------------------------------------------------------------------------

-- one transition function for both label types: a boolean label is binary, a float8 one regression
CREATE FUNCTION uba_boost_transfn(internal, anyelement, float8[], jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_boost_transfn(internal, anyelement, float8[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_boost_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL SAFE;

CREATE AGGREGATE uba_boost_train(label boolean, features float8[], options jsonb) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(label boolean, features float8[]) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(target float8, features float8[], options jsonb) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(target float8, features float8[]) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_boost_train(boolean, float8[], jsonb) IS 'train gradient-boosted trees (XGBoost, binary:logistic) for a boolean label';
COMMENT ON AGGREGATE uba_boost_train(boolean, float8[]) IS 'train gradient-boosted trees (XGBoost, binary:logistic) for a boolean label';
COMMENT ON AGGREGATE uba_boost_train(float8, float8[], jsonb) IS 'train gradient-boosted trees (XGBoost, reg:squarederror) for a numeric target';
COMMENT ON AGGREGATE uba_boost_train(float8, float8[]) IS 'train gradient-boosted trees (XGBoost, reg:squarederror) for a numeric target';

CREATE FUNCTION uba_boost_predict(model bytea, features float8[]) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_boost_predict(bytea, float8[]) IS 'a boosted model''s probability of true (binary) or predicted value (regression), from uba''s own tree evaluator';
CREATE FUNCTION uba_boost_explain(model bytea, features float8[], top int,
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
CREATE FUNCTION uba_boost_explain(model bytea, features float8[],
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION uba_boost_explain(bytea, float8[], int) IS 'exact TreeSHAP contributions of one prediction (margin units), largest first, after the baseline';
COMMENT ON FUNCTION uba_boost_explain(bytea, float8[]) IS 'exact TreeSHAP contributions of one prediction (margin units), largest first, after the baseline';
CREATE FUNCTION uba_feature_importance(model bytea,
	OUT feature int, OUT name text, OUT weight bigint, OUT total_gain float8, OUT gain float8,
	OUT total_cover float8, OUT cover float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION uba_feature_importance(bytea) IS 'per feature of a boosted model: splits (weight), total and average gain, total and average cover, by total gain';
CREATE FUNCTION uba_boost_export(model bytea) RETURNS json
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_boost_export(bytea) IS 'a boosted or forest model in XGBoost''s JSON model format, for XGBoost to load outside the database';
CREATE FUNCTION uba_shap_importance_transfn(internal, bytea, float8[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_shap_importance_final(internal) RETURNS jsonb
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_shap_importance(model bytea, features float8[]) (
	SFUNC = uba_shap_importance_transfn, STYPE = internal, FINALFUNC = uba_shap_importance_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_shap_importance(bytea, float8[]) IS 'mean absolute TreeSHAP value of each feature of a boosted or forest model over the rows given';

-- random forests: XGBoost's random-forest mode, the same tree format, scorer and explanations
CREATE FUNCTION uba_forest_transfn(internal, anyelement, float8[], jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_forest_transfn(internal, anyelement, float8[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_forest_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL SAFE;
CREATE AGGREGATE uba_forest_train(label boolean, features float8[], options jsonb) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(label boolean, features float8[]) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(target float8, features float8[], options jsonb) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(target float8, features float8[]) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_forest_train(boolean, float8[], jsonb) IS 'train a random forest (XGBoost''s random-forest mode) for a boolean label';
COMMENT ON AGGREGATE uba_forest_train(boolean, float8[]) IS 'train a random forest (XGBoost''s random-forest mode) for a boolean label';
COMMENT ON AGGREGATE uba_forest_train(float8, float8[], jsonb) IS 'train a random forest (XGBoost''s random-forest mode) for a numeric target';
COMMENT ON AGGREGATE uba_forest_train(float8, float8[]) IS 'train a random forest (XGBoost''s random-forest mode) for a numeric target';

-------------------------------------------------------------------------------
-- One scorer and one explainer for every model that predicts from a feature array
-------------------------------------------------------------------------------

CREATE FUNCTION uba_predict(model bytea, features float8[]) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_predict(bytea, float8[]) IS 'the prediction of a logreg, linreg, boosted or forest model: a probability, or a value for regression';
CREATE FUNCTION uba_explain(model bytea, features float8[], top int,
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
CREATE FUNCTION uba_explain(model bytea, features float8[],
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION uba_explain(bytea, float8[], int) IS 'the explanation of one prediction of a logreg, boosted or forest model: baseline and contributions, largest first';
COMMENT ON FUNCTION uba_explain(bytea, float8[]) IS 'the explanation of one prediction of a logreg, boosted or forest model: baseline and contributions, largest first';

-------------------------------------------------------------------------------
-- Typed rows: a table's columns as they are (numbers, boolean, text and enum
-- categories, dates), the encoding stored in the model, scoring by column name
-------------------------------------------------------------------------------

CREATE FUNCTION uba_boost_transfn(internal, anyelement, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_boost_transfn(internal, anyelement, record) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_forest_transfn(internal, anyelement, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_forest_transfn(internal, anyelement, record) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- typed rows are not combined across parallel workers: their categories are interned per call
CREATE AGGREGATE uba_boost_train(label boolean, features record, options jsonb) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(label boolean, features record) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(target float8, features record, options jsonb) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(target float8, features record) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_boost_train(boolean, record, jsonb) IS 'train gradient-boosted trees (XGBoost, binary:logistic) on a row''s columns as they are';
COMMENT ON AGGREGATE uba_boost_train(boolean, record) IS 'train gradient-boosted trees (XGBoost, binary:logistic) on a row''s columns as they are';
COMMENT ON AGGREGATE uba_boost_train(float8, record, jsonb) IS 'train gradient-boosted trees (XGBoost, reg:squarederror) on a row''s columns as they are';
COMMENT ON AGGREGATE uba_boost_train(float8, record) IS 'train gradient-boosted trees (XGBoost, reg:squarederror) on a row''s columns as they are';
CREATE AGGREGATE uba_forest_train(label boolean, features record, options jsonb) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(label boolean, features record) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(target float8, features record, options jsonb) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(target float8, features record) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_forest_train(boolean, record, jsonb) IS 'train a random forest on a row''s columns as they are, for a boolean label';
COMMENT ON AGGREGATE uba_forest_train(boolean, record) IS 'train a random forest on a row''s columns as they are, for a boolean label';
COMMENT ON AGGREGATE uba_forest_train(float8, record, jsonb) IS 'train a random forest on a row''s columns as they are, for a numeric target';
COMMENT ON AGGREGATE uba_forest_train(float8, record) IS 'train a random forest on a row''s columns as they are, for a numeric target';

CREATE FUNCTION uba_logreg_transfn(internal, boolean, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_logreg_transfn(internal, boolean, record) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_logreg_train(label boolean, features record, options jsonb) (
	SFUNC = uba_logreg_transfn, STYPE = internal, FINALFUNC = uba_logreg_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_logreg_train(label boolean, features record) (
	SFUNC = uba_logreg_transfn, STYPE = internal, FINALFUNC = uba_logreg_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_logreg_train(boolean, record, jsonb) IS 'train a logistic regression model on a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_logreg_train(boolean, record) IS 'train a logistic regression model on a row''s columns as they are (categories one-hot, NULL imputed)';

CREATE FUNCTION uba_predict(model bytea, features record) RETURNS float8
	AS 'MODULE_PATHNAME', 'uba_predict_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_predict(bytea, record) IS 'the prediction of a model trained on typed rows, for a row whose columns are found by name';
CREATE FUNCTION uba_explain(model bytea, features record, top int,
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'uba_explain_row' LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 10;
CREATE FUNCTION uba_explain(model bytea, features record,
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'uba_explain_row' LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION uba_explain(bytea, record, int) IS 'the explanation of one prediction of a model trained on typed rows, by column, largest first';
COMMENT ON FUNCTION uba_explain(bytea, record) IS 'the explanation of one prediction of a model trained on typed rows, by column, largest first';
-- the text form of a feature array: with a record form beside float8[], a literal ('{1,2}') or NULL needs a text form to stay unambiguous
CREATE FUNCTION uba_predict(model bytea, features text) RETURNS float8
	AS 'MODULE_PATHNAME', 'uba_predict_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_predict(bytea, text) IS 'the prediction of a logreg, linreg, boosted or forest model for a feature array given as text';
CREATE FUNCTION uba_explain(model bytea, features text, top int,
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'uba_explain_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
CREATE FUNCTION uba_explain(model bytea, features text,
	OUT feature int, OUT name text, OUT value float8, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'uba_explain_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION uba_explain(bytea, text, int) IS 'the explanation of one prediction for a feature array given as text';
COMMENT ON FUNCTION uba_explain(bytea, text) IS 'the explanation of one prediction for a feature array given as text';

CREATE FUNCTION uba_shap_importance_transfn(internal, bytea, record) RETURNS internal
	AS 'MODULE_PATHNAME', 'uba_shap_importance_transfn_row' LANGUAGE C STABLE PARALLEL SAFE;
CREATE AGGREGATE uba_shap_importance(model bytea, features record) (
	SFUNC = uba_shap_importance_transfn, STYPE = internal, FINALFUNC = uba_shap_importance_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_shap_importance(bytea, record) IS 'mean absolute TreeSHAP value of each column of a boosted or forest model trained on typed rows, over the rows given';
CREATE FUNCTION uba_shap_importance_transfn(internal, bytea, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'uba_shap_importance_transfn_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_shap_importance(model bytea, features text) (
	SFUNC = uba_shap_importance_transfn, STYPE = internal, FINALFUNC = uba_shap_importance_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_shap_importance(bytea, text) IS 'mean absolute TreeSHAP value of each feature over feature arrays given as text';

-------------------------------------------------------------------------------
-- Multi-class boosted trees and forests: a text label (or a numeric one with
-- "objective": "multiclass"); class probabilities and classes of any classifier
-------------------------------------------------------------------------------

-- text labels are interned as rows arrive: these aggregates are not split across parallel workers
CREATE AGGREGATE uba_boost_train(label text, features float8[], options jsonb) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(label text, features float8[]) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(label text, features record, options jsonb) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_boost_train(label text, features record) (
	SFUNC = uba_boost_transfn, STYPE = internal, FINALFUNC = uba_boost_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_boost_train(text, float8[], jsonb) IS 'train multi-class gradient-boosted trees (XGBoost, multi:softprob) for a text label';
COMMENT ON AGGREGATE uba_boost_train(text, float8[]) IS 'train multi-class gradient-boosted trees (XGBoost, multi:softprob) for a text label';
COMMENT ON AGGREGATE uba_boost_train(text, record, jsonb) IS 'train multi-class gradient-boosted trees for a text label on a row''s columns as they are';
COMMENT ON AGGREGATE uba_boost_train(text, record) IS 'train multi-class gradient-boosted trees for a text label on a row''s columns as they are';
CREATE AGGREGATE uba_forest_train(label text, features float8[], options jsonb) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(label text, features float8[]) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(label text, features record, options jsonb) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_forest_train(label text, features record) (
	SFUNC = uba_forest_transfn, STYPE = internal, FINALFUNC = uba_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_forest_train(text, float8[], jsonb) IS 'train a multi-class random forest for a text label';
COMMENT ON AGGREGATE uba_forest_train(text, float8[]) IS 'train a multi-class random forest for a text label';
COMMENT ON AGGREGATE uba_forest_train(text, record, jsonb) IS 'train a multi-class random forest for a text label on a row''s columns as they are';
COMMENT ON AGGREGATE uba_forest_train(text, record) IS 'train a multi-class random forest for a text label on a row''s columns as they are';

CREATE FUNCTION uba_predict_proba(model bytea, features float8[]) RETURNS float8[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_predict_proba(model bytea, features text) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'uba_predict_proba_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_predict_proba(model bytea, features record) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'uba_predict_proba_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_predict_proba(bytea, float8[]) IS 'a classifier''s class probabilities, in the order of its classes (binary: false, true)';
COMMENT ON FUNCTION uba_predict_proba(bytea, text) IS 'a classifier''s class probabilities for a feature array given as text';
COMMENT ON FUNCTION uba_predict_proba(bytea, record) IS 'a classifier''s class probabilities for a typed row, its columns found by name';
CREATE FUNCTION uba_predict_class(model bytea, features float8[]) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_predict_class(model bytea, features text) RETURNS text
	AS 'MODULE_PATHNAME', 'uba_predict_class_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_predict_class(model bytea, features record) RETURNS text
	AS 'MODULE_PATHNAME', 'uba_predict_class_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_predict_class(bytea, float8[]) IS 'a classifier''s most probable class, as text';
COMMENT ON FUNCTION uba_predict_class(bytea, text) IS 'a classifier''s most probable class for a feature array given as text';
COMMENT ON FUNCTION uba_predict_class(bytea, record) IS 'a classifier''s most probable class for a typed row, its columns found by name';

-------------------------------------------------------------------------------
-- Isolation forests: anomaly scores (scikit-learn's IsolationForest), on the
-- same tree format and evaluator
-------------------------------------------------------------------------------

CREATE FUNCTION uba_isolation_forest_transfn(internal, float8[], jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_isolation_forest_transfn(internal, float8[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_isolation_forest_transfn(internal, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_isolation_forest_transfn(internal, record) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_isolation_forest_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL SAFE;
CREATE AGGREGATE uba_isolation_forest(features float8[], options jsonb) (
	SFUNC = uba_isolation_forest_transfn, STYPE = internal, FINALFUNC = uba_isolation_forest_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_isolation_forest(features float8[]) (
	SFUNC = uba_isolation_forest_transfn, STYPE = internal, FINALFUNC = uba_isolation_forest_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_isolation_forest(features record, options jsonb) (
	SFUNC = uba_isolation_forest_transfn, STYPE = internal, FINALFUNC = uba_isolation_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_isolation_forest(features record) (
	SFUNC = uba_isolation_forest_transfn, STYPE = internal, FINALFUNC = uba_isolation_forest_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_isolation_forest(float8[], jsonb) IS 'train an isolation forest: anomaly scores of rows';
COMMENT ON AGGREGATE uba_isolation_forest(float8[]) IS 'train an isolation forest: anomaly scores of rows';
COMMENT ON AGGREGATE uba_isolation_forest(record, jsonb) IS 'train an isolation forest on a row''s columns as they are';
COMMENT ON AGGREGATE uba_isolation_forest(record) IS 'train an isolation forest on a row''s columns as they are';

CREATE FUNCTION uba_anomaly_score(model bytea, features float8[]) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_anomaly_score(model bytea, features text) RETURNS float8
	AS 'MODULE_PATHNAME', 'uba_anomaly_score_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_anomaly_score(model bytea, features record) RETURNS float8
	AS 'MODULE_PATHNAME', 'uba_anomaly_score_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_anomaly_score(bytea, float8[]) IS 'an isolation forest''s anomaly score of a row: near 1 for anomalies, below 0.5 for ordinary rows';
COMMENT ON FUNCTION uba_anomaly_score(bytea, text) IS 'an isolation forest''s anomaly score of a feature array given as text';
COMMENT ON FUNCTION uba_anomaly_score(bytea, record) IS 'an isolation forest''s anomaly score of a typed row, its columns found by name';
CREATE FUNCTION uba_is_anomaly(model bytea, features float8[]) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_is_anomaly(model bytea, features text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'uba_is_anomaly_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_is_anomaly(model bytea, features record) RETURNS boolean
	AS 'MODULE_PATHNAME', 'uba_is_anomaly_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_is_anomaly(bytea, float8[]) IS 'whether an isolation forest''s score of a row is above its threshold (0.5, or the contamination''s quantile)';
COMMENT ON FUNCTION uba_is_anomaly(bytea, text) IS 'whether an isolation forest''s score of a feature array given as text is above its threshold';
COMMENT ON FUNCTION uba_is_anomaly(bytea, record) IS 'whether an isolation forest''s score of a typed row is above its threshold';

-- ridge regression on typed rows: the rows are collected, encoded at the end, their moments made then
CREATE FUNCTION uba_linreg_transfn(internal, float8, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME', 'uba_linreg_transfn_row' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_linreg_transfn(internal, float8, record) RETURNS internal
	AS 'MODULE_PATHNAME', 'uba_linreg_transfn_row' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_linreg_row_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'uba_linreg_final_row' LANGUAGE C VOLATILE PARALLEL SAFE;
CREATE AGGREGATE uba_linreg_train(target float8, features record, options jsonb) (
	SFUNC = uba_linreg_transfn, STYPE = internal, FINALFUNC = uba_linreg_row_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_linreg_train(target float8, features record) (
	SFUNC = uba_linreg_transfn, STYPE = internal, FINALFUNC = uba_linreg_row_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_linreg_train(float8, record, jsonb) IS 'train a ridge regression model on a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_linreg_train(float8, record) IS 'train a ridge regression model on a row''s columns as they are (categories one-hot, NULL imputed)';

-------------------------------------------------------------------------------
-- logistic regression by passes of statistics (tables larger than memory, Citus)
-------------------------------------------------------------------------------

CREATE FUNCTION uba_logreg_pass_transfn(bytea, bool, float8[], bytea, bool) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_logreg_pass_combine(bytea, bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_logreg_pass(label bool, features float8[], model bytea, hessian bool) (
	SFUNC = uba_logreg_pass_transfn, STYPE = bytea,
	COMBINEFUNC = uba_logreg_pass_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_logreg_pass(bool, float8[], bytea, bool) IS 'one pass of uba_logreg_train(query): loss, gradient and Hessian sums at a logistic regression model''s coefficients (or row counts and feature moments without one); a state Citus computes on each shard';

CREATE FUNCTION uba_logreg_train(query text, options jsonb DEFAULT '{}')
RETURNS bytea AS 'MODULE_PATHNAME', 'uba_logreg_train_query' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION uba_logreg_train(text, jsonb) IS 'train a logistic regression model by passes over a query''s (label, features) rows: Newton''s method, one pass per step; memory O(features^2), each pass a parallel (or Citus-distributed) aggregate';

-- ---------- multilayer perceptrons (mlp.c) ----------
-- one transition function for every label type: boolean binary, float8 regression, text classes

CREATE FUNCTION uba_mlp_transfn(internal, anyelement, float8[], jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_mlp_transfn(internal, anyelement, float8[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_mlp_transfn(internal, anyelement, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_mlp_transfn(internal, anyelement, record) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_mlp_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL SAFE;

CREATE AGGREGATE uba_mlp_train(label boolean, features float8[], options jsonb) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(label boolean, features float8[]) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(target float8, features float8[], options jsonb) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(target float8, features float8[]) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
-- text labels and typed rows are interned as rows arrive: not split across parallel workers
CREATE AGGREGATE uba_mlp_train(label text, features float8[], options jsonb) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(label text, features float8[]) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(label boolean, features record, options jsonb) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(label boolean, features record) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(target float8, features record, options jsonb) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(target float8, features record) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(label text, features record, options jsonb) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_mlp_train(label text, features record) (
	SFUNC = uba_mlp_transfn, STYPE = internal, FINALFUNC = uba_mlp_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_mlp_train(boolean, float8[], jsonb) IS 'train a multilayer perceptron classifier (Adam, as scikit-learn''s MLPClassifier) for a boolean label';
COMMENT ON AGGREGATE uba_mlp_train(boolean, float8[]) IS 'train a multilayer perceptron classifier (Adam, as scikit-learn''s MLPClassifier) for a boolean label';
COMMENT ON AGGREGATE uba_mlp_train(float8, float8[], jsonb) IS 'train a multilayer perceptron regressor (Adam, as scikit-learn''s MLPRegressor)';
COMMENT ON AGGREGATE uba_mlp_train(float8, float8[]) IS 'train a multilayer perceptron regressor (Adam, as scikit-learn''s MLPRegressor)';
COMMENT ON AGGREGATE uba_mlp_train(text, float8[], jsonb) IS 'train a multilayer perceptron classifier of a text label''s classes (softmax)';
COMMENT ON AGGREGATE uba_mlp_train(text, float8[]) IS 'train a multilayer perceptron classifier of a text label''s classes (softmax)';
COMMENT ON AGGREGATE uba_mlp_train(boolean, record, jsonb) IS 'train a multilayer perceptron classifier on a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_mlp_train(boolean, record) IS 'train a multilayer perceptron classifier on a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_mlp_train(float8, record, jsonb) IS 'train a multilayer perceptron regressor on a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_mlp_train(float8, record) IS 'train a multilayer perceptron regressor on a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_mlp_train(text, record, jsonb) IS 'train a multilayer perceptron classifier of a text label''s classes on a row''s columns as they are';
COMMENT ON AGGREGATE uba_mlp_train(text, record) IS 'train a multilayer perceptron classifier of a text label''s classes on a row''s columns as they are';
