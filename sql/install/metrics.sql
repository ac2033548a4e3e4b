-- uba metrics: evaluation aggregates and ranking metrics
--
-- Classification, probability, regression and multiclass metrics as parallel aggregates; curves;
-- recommendation ranking metrics.
-- The install script is these files in the order the Makefile lists them (INSTALL_PARTS);
-- the upgrade scripts beside them must reach the same objects (test/dump_restore.sh checks).

-------------------------------------------------------------------------------
-- Evaluation metrics: aggregates over (predicted, actual), parallel safe
-------------------------------------------------------------------------------

-- The states of these aggregates are fixed-size bytea values, not internal: Citus splits an
-- aggregate across its workers only for an ordinary state type with a combine function.
CREATE FUNCTION uba_binary_transfn(bytea, boolean, boolean) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_binary_combine(bytea, bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_f1_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_precision_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_recall_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_accuracy_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_mcc_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_confusion_final(bytea) RETURNS jsonb
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE uba_f1_score(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = bytea, FINALFUNC = uba_f1_final,
	COMBINEFUNC = uba_binary_combine, PARALLEL = SAFE);
CREATE AGGREGATE uba_precision(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = bytea, FINALFUNC = uba_precision_final,
	COMBINEFUNC = uba_binary_combine, PARALLEL = SAFE);
CREATE AGGREGATE uba_recall(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = bytea, FINALFUNC = uba_recall_final,
	COMBINEFUNC = uba_binary_combine, PARALLEL = SAFE);
CREATE AGGREGATE uba_accuracy(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = bytea, FINALFUNC = uba_accuracy_final,
	COMBINEFUNC = uba_binary_combine, PARALLEL = SAFE);
CREATE AGGREGATE uba_mcc(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = bytea, FINALFUNC = uba_mcc_final,
	COMBINEFUNC = uba_binary_combine, PARALLEL = SAFE);
CREATE AGGREGATE uba_confusion_matrix(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = bytea, FINALFUNC = uba_confusion_final,
	COMBINEFUNC = uba_binary_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_f1_score(boolean, boolean) IS 'F1 score of binary predictions';
COMMENT ON AGGREGATE uba_precision(boolean, boolean) IS 'precision of binary predictions';
COMMENT ON AGGREGATE uba_recall(boolean, boolean) IS 'recall of binary predictions';
COMMENT ON AGGREGATE uba_accuracy(boolean, boolean) IS 'accuracy of binary predictions';
COMMENT ON AGGREGATE uba_mcc(boolean, boolean) IS 'Matthews correlation coefficient of binary predictions';
COMMENT ON AGGREGATE uba_confusion_matrix(boolean, boolean) IS 'tp, fp, tn and fn of binary predictions';

CREATE FUNCTION uba_regression_transfn(bytea, float8, float8) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_regression_combine(bytea, bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_rmse_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_mae_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_r2_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE uba_rmse(predicted float8, actual float8) (
	SFUNC = uba_regression_transfn, STYPE = bytea, FINALFUNC = uba_rmse_final,
	COMBINEFUNC = uba_regression_combine, PARALLEL = SAFE);
CREATE AGGREGATE uba_mae(predicted float8, actual float8) (
	SFUNC = uba_regression_transfn, STYPE = bytea, FINALFUNC = uba_mae_final,
	COMBINEFUNC = uba_regression_combine, PARALLEL = SAFE);
CREATE AGGREGATE uba_r2(predicted float8, actual float8) (
	SFUNC = uba_regression_transfn, STYPE = bytea, FINALFUNC = uba_r2_final,
	COMBINEFUNC = uba_regression_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_rmse(float8, float8) IS 'root mean squared error';
COMMENT ON AGGREGATE uba_mae(float8, float8) IS 'mean absolute error';
COMMENT ON AGGREGATE uba_r2(float8, float8) IS 'coefficient of determination (R squared)';

CREATE FUNCTION uba_probability_transfn(bytea, float8, boolean) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_probability_combine(bytea, bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_log_loss_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_brier_final(bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE uba_log_loss(probability float8, actual boolean) (
	SFUNC = uba_probability_transfn, STYPE = bytea, FINALFUNC = uba_log_loss_final,
	COMBINEFUNC = uba_probability_combine, PARALLEL = SAFE);
CREATE AGGREGATE uba_brier_score(probability float8, actual boolean) (
	SFUNC = uba_probability_transfn, STYPE = bytea, FINALFUNC = uba_brier_final,
	COMBINEFUNC = uba_probability_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_log_loss(float8, boolean) IS 'mean log loss of predicted probabilities';
COMMENT ON AGGREGATE uba_brier_score(float8, boolean) IS 'Brier score of predicted probabilities';

CREATE FUNCTION uba_split(key anyelement, test_fraction float8, seed int) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_split(key anyelement, test_fraction float8) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_split(anyelement, float8, int) IS 'deterministic train/test split: true for the test side';
COMMENT ON FUNCTION uba_split(anyelement, float8) IS 'deterministic train/test split: true for the test side';

CREATE FUNCTION uba_scores_transfn(internal, float8, boolean) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_auc_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_average_precision_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE uba_auc(score float8, actual boolean) (
	SFUNC = uba_scores_transfn, STYPE = internal, FINALFUNC = uba_auc_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_average_precision(score float8, actual boolean) (
	SFUNC = uba_scores_transfn, STYPE = internal, FINALFUNC = uba_average_precision_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_auc(float8, boolean) IS 'area under the ROC curve of scores';
COMMENT ON AGGREGATE uba_average_precision(float8, boolean) IS 'average precision of scores';

-- sample weights (a count of equal rows, say): a Citus table's AUC from per-score counts the workers make
CREATE FUNCTION uba_scores_transfn(internal, float8, boolean, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_auc(score float8, actual boolean, weight float8) (
	SFUNC = uba_scores_transfn, STYPE = internal, FINALFUNC = uba_auc_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_average_precision(score float8, actual boolean, weight float8) (
	SFUNC = uba_scores_transfn, STYPE = internal, FINALFUNC = uba_average_precision_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_auc(float8, boolean, float8) IS 'area under the ROC curve of weighted scores (scikit-learn''s sample_weight)';
COMMENT ON AGGREGATE uba_average_precision(float8, boolean, float8) IS 'average precision of weighted scores (scikit-learn''s sample_weight)';


-- chart-ready curves: arrays of points; SELECT * FROM unnest((SELECT uba_roc_curve(score, actual) FROM t))
CREATE TYPE uba_curve_point AS (
	threshold float8, tp bigint, fp bigint, tn bigint, fn bigint,
	tpr float8, fpr float8, "precision" float8, f1 float8, flagged float8
);
COMMENT ON TYPE uba_curve_point IS 'one threshold of a ROC curve or threshold table: counts, rates, precision, F1, share flagged';
CREATE FUNCTION uba_roc_curve_final(internal) RETURNS uba_curve_point[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_threshold_table_final(internal) RETURNS uba_curve_point[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_scores_points_transfn(internal, float8, boolean, int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_roc_curve(score float8, actual boolean) (
	SFUNC = uba_scores_transfn, STYPE = internal, FINALFUNC = uba_roc_curve_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_threshold_table(score float8, actual boolean, points int) (
	SFUNC = uba_scores_points_transfn, STYPE = internal, FINALFUNC = uba_threshold_table_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_threshold_table(score float8, actual boolean) (
	SFUNC = uba_scores_transfn, STYPE = internal, FINALFUNC = uba_threshold_table_final,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_roc_curve(float8, boolean) IS 'ROC curve points (sklearn roc_curve, intermediate points dropped)';
COMMENT ON AGGREGATE uba_threshold_table(float8, boolean, int) IS 'counts and rates at evenly spaced thresholds';
COMMENT ON AGGREGATE uba_threshold_table(float8, boolean) IS 'counts and rates at 21 evenly spaced thresholds';

-- multiclass F1: labels of any type, macro / micro / weighted averages
CREATE FUNCTION uba_multiclass_transfn(internal, anyelement, anyelement, text) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_multiclass_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_multiclass_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_multiclass_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_multiclass_f1_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_f1_score(predicted anyelement, actual anyelement, average text) (
	SFUNC = uba_multiclass_transfn, STYPE = internal, FINALFUNC = uba_multiclass_f1_final,
	COMBINEFUNC = uba_multiclass_combine, SERIALFUNC = uba_multiclass_serialize,
	DESERIALFUNC = uba_multiclass_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_f1_score(anyelement, anyelement, text) IS 'F1 score over several classes: macro, micro or weighted average';


CREATE FUNCTION uba_precision_at_k(recommended anycompatiblearray, relevant anycompatiblearray, k int) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_recall_at_k(recommended anycompatiblearray, relevant anycompatiblearray, k int) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_ndcg_at_k(recommended anycompatiblearray, relevant anycompatiblearray, k int) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_average_precision_at_k(recommended anycompatiblearray, relevant anycompatiblearray, k int) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_hit_rate_at_k(recommended anycompatiblearray, relevant anycompatiblearray, k int) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_precision_at_k(anycompatiblearray, anycompatiblearray, int) IS 'relevant items among the first k recommended, divided by k';
COMMENT ON FUNCTION uba_recall_at_k(anycompatiblearray, anycompatiblearray, int) IS 'relevant items among the first k recommended, divided by min(k, number of relevant items)';
COMMENT ON FUNCTION uba_ndcg_at_k(anycompatiblearray, anycompatiblearray, int) IS 'normalized discounted cumulative gain of the first k recommended (binary relevance)';
COMMENT ON FUNCTION uba_average_precision_at_k(anycompatiblearray, anycompatiblearray, int) IS 'average precision at the hits among the first k, divided by min(k, number of relevant items)';
COMMENT ON FUNCTION uba_hit_rate_at_k(anycompatiblearray, anycompatiblearray, int) IS '1 if any of the first k recommended is relevant, else 0';
CREATE FUNCTION uba_mrr_at_k(recommended anycompatiblearray, relevant anycompatiblearray, k int) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_mrr_at_k(anycompatiblearray, anycompatiblearray, int) IS '1 / the rank of the first relevant item among the first k recommended, 0 when none is (avg() of it: mean reciprocal rank)';

-- ---------- tests of significance (hypothesis.c) ----------

CREATE FUNCTION uba_fisher_exact(a bigint, b bigint, c bigint, d bigint, alternative text DEFAULT 'two-sided',
	OUT odds_ratio float8, OUT p_value float8)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_fisher_exact(bigint, bigint, bigint, bigint, text) IS 'odds ratio and Fisher''s exact p-value of the 2x2 table [[a, b], [c, d]] (two-sided, less or greater), as scipy.stats.fisher_exact';
