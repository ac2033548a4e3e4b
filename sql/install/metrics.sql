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

-------------------------------------------------------------------------------
-- A/B test readouts (abtest.c): one row per unit in, one uba_ab_result per variant out
-------------------------------------------------------------------------------

CREATE TYPE uba_ab_result AS (
	variant text,
	is_control boolean,
	units bigint,
	mean float8,				-- of the (capped) values
	std_dev float8,
	adjusted_mean float8,		-- CUPED-adjusted with a covariate, else the mean
	lift float8,				-- adjusted_mean - the control's
	lift_lower float8,
	lift_upper float8,
	relative_lift float8,		-- adjusted_mean / the control's - 1
	relative_lift_lower float8,
	relative_lift_upper float8,
	p_value float8,				-- Welch's t-test; NULL with sequential intervals
	p_value_adjusted float8,	-- for several treatments (Holm by default)
	chance_to_win float8,		-- Bayesian: P(lift > 0)
	expected_loss float8,		-- Bayesian: E[max(0, -lift)] in the metric's units
	srm_p_value float8,			-- the sample ratio check, on every row
	srm_ok boolean
);
COMMENT ON TYPE uba_ab_result IS 'one variant of an A/B test readout: its mean, and against the control the lift with intervals, Welch''s p-value, the Bayesian chance to win and expected loss, and the sample ratio check';

CREATE FUNCTION uba_ab_test_transfn(internal, text, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_transfn(internal, text, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_cuped_transfn(internal, text, float8, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_cuped_transfn(internal, text, float8, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_bool_transfn(internal, text, boolean, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_bool_transfn(internal, text, boolean) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_ab_test_final(internal) RETURNS uba_ab_result[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE uba_ab_test(variant text, value float8, options jsonb) (
	SFUNC = uba_ab_test_transfn, STYPE = internal, FINALFUNC = uba_ab_test_final,
	COMBINEFUNC = uba_ab_test_combine, SERIALFUNC = uba_ab_test_serialize,
	DESERIALFUNC = uba_ab_test_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ab_test(variant text, value float8) (
	SFUNC = uba_ab_test_transfn, STYPE = internal, FINALFUNC = uba_ab_test_final,
	COMBINEFUNC = uba_ab_test_combine, SERIALFUNC = uba_ab_test_serialize,
	DESERIALFUNC = uba_ab_test_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ab_test(variant text, value float8, covariate float8, options jsonb) (
	SFUNC = uba_ab_test_cuped_transfn, STYPE = internal, FINALFUNC = uba_ab_test_final,
	COMBINEFUNC = uba_ab_test_combine, SERIALFUNC = uba_ab_test_serialize,
	DESERIALFUNC = uba_ab_test_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ab_test(variant text, value float8, covariate float8) (
	SFUNC = uba_ab_test_cuped_transfn, STYPE = internal, FINALFUNC = uba_ab_test_final,
	COMBINEFUNC = uba_ab_test_combine, SERIALFUNC = uba_ab_test_serialize,
	DESERIALFUNC = uba_ab_test_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ab_test(variant text, converted boolean, options jsonb) (
	SFUNC = uba_ab_test_bool_transfn, STYPE = internal, FINALFUNC = uba_ab_test_final,
	COMBINEFUNC = uba_ab_test_combine, SERIALFUNC = uba_ab_test_serialize,
	DESERIALFUNC = uba_ab_test_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ab_test(variant text, converted boolean) (
	SFUNC = uba_ab_test_bool_transfn, STYPE = internal, FINALFUNC = uba_ab_test_final,
	COMBINEFUNC = uba_ab_test_combine, SERIALFUNC = uba_ab_test_serialize,
	DESERIALFUNC = uba_ab_test_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_ab_test(text, float8, jsonb) IS 'A/B test readout of a metric per unit: per variant its mean and, against the control, lift with intervals (Welch), p-values (Holm across treatments), chance to win, expected loss and the sample ratio check';
COMMENT ON AGGREGATE uba_ab_test(text, float8) IS 'A/B test readout of a metric per unit (see the variant with options)';
COMMENT ON AGGREGATE uba_ab_test(text, float8, float8, jsonb) IS 'A/B test readout with CUPED variance reduction by a pre-period covariate per unit';
COMMENT ON AGGREGATE uba_ab_test(text, float8, float8) IS 'A/B test readout with CUPED variance reduction by a pre-period covariate per unit';
COMMENT ON AGGREGATE uba_ab_test(text, boolean, jsonb) IS 'A/B test readout of a conversion per unit: Welch on proportions, Beta-binomial chance to win and expected loss';
COMMENT ON AGGREGATE uba_ab_test(text, boolean) IS 'A/B test readout of a conversion per unit (see the variant with options)';

CREATE FUNCTION uba_ab_sample_size(baseline float8, relative_mde float8, std_dev float8 DEFAULT NULL,
                                   alpha float8 DEFAULT 0.05, power float8 DEFAULT 0.8, variants int DEFAULT 2)
RETURNS bigint AS 'MODULE_PATHNAME', 'uba_ab_sample_size' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION uba_ab_sample_size(float8, float8, float8, float8, float8, int) IS 'units per variant for a two-sided test to detect a relative lift of a mean (with its std_dev) or a proportion (std_dev NULL), as statsmodels'' NormalIndPower; several treatments at alpha / (variants - 1)';
CREATE FUNCTION uba_ab_mde(units_per_variant float8, baseline float8, std_dev float8 DEFAULT NULL,
                           alpha float8 DEFAULT 0.05, power float8 DEFAULT 0.8, variants int DEFAULT 2)
RETURNS float8 AS 'MODULE_PATHNAME', 'uba_ab_mde' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION uba_ab_mde(float8, float8, float8, float8, float8, int) IS 'the smallest relative lift of a mean or proportion that units_per_variant units per variant detect with the power asked';

-------------------------------------------------------------------------------
-- off-policy evaluation (ope.c): a new policy's value from a log of another's decisions
-------------------------------------------------------------------------------

CREATE TYPE uba_ope_result AS (
	estimate float8,				-- the new policy's expected reward per decision
	lower float8,
	upper float8,
	std_error float8,				-- of the normal approximation
	decisions bigint,
	effective_sample_size float8,	-- (sum w)^2 / sum w^2: how many decisions the estimate rests on
	max_weight float8				-- the largest target_probability / logging_propensity
);
COMMENT ON TYPE uba_ope_result IS 'an off-policy estimate of a policy''s value with its confidence interval, the decisions, the effective sample size and the largest importance weight';

CREATE FUNCTION uba_ope_ips_transfn(internal, float8, float8, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ope_ips_transfn(internal, float8, float8, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ope_dr_transfn(internal, float8, float8, float8, float8, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ope_dr_transfn(internal, float8, float8, float8, float8, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ope_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ope_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_ope_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_ope_ips_final(internal) RETURNS uba_ope_result
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ope_snips_final(internal) RETURNS uba_ope_result
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_ope_dr_final(internal) RETURNS uba_ope_result
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE uba_ope_ips(reward float8, logging_propensity float8, target_probability float8, options jsonb) (
	SFUNC = uba_ope_ips_transfn, STYPE = internal, FINALFUNC = uba_ope_ips_final, COMBINEFUNC = uba_ope_combine,
	SERIALFUNC = uba_ope_serialize, DESERIALFUNC = uba_ope_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ope_ips(reward float8, logging_propensity float8, target_probability float8) (
	SFUNC = uba_ope_ips_transfn, STYPE = internal, FINALFUNC = uba_ope_ips_final, COMBINEFUNC = uba_ope_combine,
	SERIALFUNC = uba_ope_serialize, DESERIALFUNC = uba_ope_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ope_snips(reward float8, logging_propensity float8, target_probability float8, options jsonb) (
	SFUNC = uba_ope_ips_transfn, STYPE = internal, FINALFUNC = uba_ope_snips_final, COMBINEFUNC = uba_ope_combine,
	SERIALFUNC = uba_ope_serialize, DESERIALFUNC = uba_ope_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ope_snips(reward float8, logging_propensity float8, target_probability float8) (
	SFUNC = uba_ope_ips_transfn, STYPE = internal, FINALFUNC = uba_ope_snips_final, COMBINEFUNC = uba_ope_combine,
	SERIALFUNC = uba_ope_serialize, DESERIALFUNC = uba_ope_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ope_dr(reward float8, logging_propensity float8, target_probability float8,
                            predicted_reward float8, target_expected_reward float8, options jsonb) (
	SFUNC = uba_ope_dr_transfn, STYPE = internal, FINALFUNC = uba_ope_dr_final, COMBINEFUNC = uba_ope_combine,
	SERIALFUNC = uba_ope_serialize, DESERIALFUNC = uba_ope_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_ope_dr(reward float8, logging_propensity float8, target_probability float8,
                            predicted_reward float8, target_expected_reward float8) (
	SFUNC = uba_ope_dr_transfn, STYPE = internal, FINALFUNC = uba_ope_dr_final, COMBINEFUNC = uba_ope_combine,
	SERIALFUNC = uba_ope_serialize, DESERIALFUNC = uba_ope_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_ope_ips(float8, float8, float8, jsonb) IS 'inverse propensity scoring: a new policy''s value from logged decisions (mean of target_probability / logging_propensity * reward), with an interval';
COMMENT ON AGGREGATE uba_ope_ips(float8, float8, float8) IS 'inverse propensity scoring estimate of a new policy''s value, with a normal interval';
COMMENT ON AGGREGATE uba_ope_snips(float8, float8, float8, jsonb) IS 'self-normalized inverse propensity scoring: sum w r / sum w, delta-method or bootstrap interval';
COMMENT ON AGGREGATE uba_ope_snips(float8, float8, float8) IS 'self-normalized inverse propensity scoring estimate of a new policy''s value, with a normal interval';
COMMENT ON AGGREGATE uba_ope_dr(float8, float8, float8, float8, float8, jsonb) IS 'doubly robust estimate of a new policy''s value: the reward model''s expectation under the policy plus importance-weighted residuals';
COMMENT ON AGGREGATE uba_ope_dr(float8, float8, float8, float8, float8) IS 'doubly robust estimate of a new policy''s value, with a normal interval';
