-- uba 0.1.0: user behaviour analytics inside PostgreSQL
\echo Use "CREATE EXTENSION uba" to load this file. \quit

-------------------------------------------------------------------------------
-- Model blobs
-------------------------------------------------------------------------------

CREATE FUNCTION uba_model_info(model bytea) RETURNS jsonb
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;	-- created_at follows TimeZone
COMMENT ON FUNCTION uba_model_info(bytea) IS 'metadata of a uba model (validates it fully)';

CREATE FUNCTION uba_model_kind(model bytea) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_model_kind(bytea) IS 'kind of a uba model (validates it fully)';

-------------------------------------------------------------------------------
-- Parallel support shared by every row-collecting training aggregate
-------------------------------------------------------------------------------

CREATE FUNCTION uba_rowset_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- A partial state carries every row it collected, so handing it from a worker
-- to the leader costs more than the scan the worker saved (measured in
-- bench/README.md: 2.2x the serial time for 1M rows), and a worker can pass at
-- most 1 GB.  The planner charges these functions once per state, not per row;
-- the high COST makes it keep row-collecting aggregates in one process unless
-- the table is far beyond what uba.max_memory allows.  The aggregates stay
-- parallel safe: forced into a parallel plan they give the serial answer.
CREATE FUNCTION uba_rowset_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100000000;
CREATE FUNCTION uba_rowset_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100000000;

-------------------------------------------------------------------------------
-- k-means segmentation
-------------------------------------------------------------------------------

CREATE FUNCTION uba_kmeans_transfn(internal, float8[], int, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_kmeans_transfn(internal, float8[], int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_kmeans_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE uba_kmeans(features float8[], k int, options jsonb) (
	SFUNC = uba_kmeans_transfn,
	STYPE = internal,
	FINALFUNC = uba_kmeans_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine,
	SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE uba_kmeans(features float8[], k int) (
	SFUNC = uba_kmeans_transfn,
	STYPE = internal,
	FINALFUNC = uba_kmeans_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine,
	SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE uba_kmeans(float8[], int, jsonb) IS 'train a k-means model';
COMMENT ON AGGREGATE uba_kmeans(float8[], int) IS 'train a k-means model';

CREATE FUNCTION uba_kmeans_assign(model bytea, features float8[]) RETURNS int
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_assign(bytea, float8[]) IS 'cluster (1..k) of a feature vector';

CREATE FUNCTION uba_kmeans_distance(model bytea, features float8[]) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_distance(bytea, float8[]) IS 'distance to the nearest centroid';

CREATE FUNCTION uba_kmeans_inertia(model bytea) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_inertia(bytea) IS 'within-cluster sum of squares of the training rows';

CREATE FUNCTION uba_kmeans_centroids(model bytea,
	OUT cluster int, OUT size bigint, OUT centroid float8[])
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 8;
COMMENT ON FUNCTION uba_kmeans_centroids(bytea) IS 'clusters with sizes and centroids in input units';

-------------------------------------------------------------------------------
-- Cluster quality
-------------------------------------------------------------------------------

CREATE FUNCTION uba_silhouette_transfn(internal, float8[], int, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_silhouette_transfn(internal, float8[], int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_silhouette_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE uba_silhouette(features float8[], cluster int, options jsonb) (
	SFUNC = uba_silhouette_transfn,
	STYPE = internal,
	FINALFUNC = uba_silhouette_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine,
	SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE uba_silhouette(features float8[], cluster int) (
	SFUNC = uba_silhouette_transfn,
	STYPE = internal,
	FINALFUNC = uba_silhouette_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine,
	SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE uba_silhouette(float8[], int, jsonb) IS 'mean silhouette coefficient of a clustering';
COMMENT ON AGGREGATE uba_silhouette(float8[], int) IS 'mean silhouette coefficient of a clustering';

CREATE FUNCTION uba_davies_bouldin_transfn(internal, float8[], int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_davies_bouldin_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE uba_davies_bouldin(features float8[], cluster int) (
	SFUNC = uba_davies_bouldin_transfn,
	STYPE = internal,
	FINALFUNC = uba_davies_bouldin_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine,
	SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE uba_davies_bouldin(float8[], int) IS 'Davies-Bouldin index of a clustering (lower is better)';

-------------------------------------------------------------------------------
-- Model catalog: named, versioned models; kept by pg_dump
-------------------------------------------------------------------------------

-- One row per model name: its version counter (versions are never reused)
CREATE TABLE uba_model_names (
	name text PRIMARY KEY CHECK (name <> '' AND length(name) <= 200),
	last_version int NOT NULL CHECK (last_version > 0),
	created_at timestamptz NOT NULL DEFAULT now(),
	created_by name NOT NULL DEFAULT current_user
);
SELECT pg_catalog.pg_extension_config_dump('uba_model_names', '');
COMMENT ON TABLE uba_model_names IS 'model names and their version counters; use uba_model_save()';

CREATE TABLE uba_model_store (
	name text NOT NULL,
	version int NOT NULL CHECK (version > 0),
	kind text NOT NULL,
	model bytea NOT NULL,
	metrics jsonb CHECK (metrics IS NULL OR jsonb_typeof(metrics) = 'object'),
	active boolean NOT NULL DEFAULT false,
	training_rows bigint NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	created_by name NOT NULL DEFAULT current_user,
	PRIMARY KEY (name, version)
);
CREATE UNIQUE INDEX uba_model_store_active ON uba_model_store (name) WHERE active;
SELECT pg_catalog.pg_extension_config_dump('uba_model_store', '');
COMMENT ON TABLE uba_model_store IS 'saved uba models; use uba_model_save() and the uba_models view';

-- Lock a model name for a change; false when the name is unknown.  Changes to one
-- name are serialized by this row lock (under REPEATABLE READ or SERIALIZABLE a
-- concurrent change fails with a serialization error, to be retried).
CREATE FUNCTION uba_model_lock(name text) RETURNS boolean
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM @extschema@.uba_model_names n
	                WHERE n.name = uba_model_lock.name FOR UPDATE)
$$;

CREATE FUNCTION uba_model_save(name text, model bytea, metrics jsonb DEFAULT NULL)
RETURNS int
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	info jsonb;
	v int;
BEGIN
	IF name IS NULL OR model IS NULL THEN
		RAISE EXCEPTION 'model name and model must not be NULL'
			USING ERRCODE = 'null_value_not_allowed',
			      HINT = 'A NULL model usually means the training query saw no rows.';
	END IF;
	IF name = '' OR length(name) > 200 THEN
		RAISE EXCEPTION 'model name must be 1 to 200 characters long'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF metrics IS NOT NULL AND jsonb_typeof(metrics) <> 'object' THEN
		RAISE EXCEPTION 'metrics must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	info := @extschema@.uba_model_info(model);	-- validates the whole blob

	-- the next version number; the row lock serializes savers of one name
	INSERT INTO @extschema@.uba_model_names AS n (name, last_version)
	VALUES (name, 1)
	ON CONFLICT ON CONSTRAINT uba_model_names_pkey
	DO UPDATE SET last_version = n.last_version + 1
	RETURNING n.last_version INTO v;

	UPDATE @extschema@.uba_model_store s SET active = false
	 WHERE s.name = uba_model_save.name AND s.active;
	INSERT INTO @extschema@.uba_model_store (name, version, kind, model, metrics, active, training_rows)
	VALUES (name, v, info->>'kind', model, metrics, true, (info->>'training_rows')::bigint);
	RETURN v;
END
$$;
COMMENT ON FUNCTION uba_model_save(text, bytea, jsonb) IS 'save a model as the next version of a name and make it active';

CREATE FUNCTION uba_model(name text, version int DEFAULT NULL)
RETURNS bytea
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m bytea;
BEGIN
	SELECT s.model INTO m FROM @extschema@.uba_model_store s
	 WHERE s.name = uba_model.name
	   AND (CASE WHEN uba_model.version IS NULL THEN s.active ELSE s.version = uba_model.version END);
	IF NOT FOUND THEN
		IF version IS NULL THEN
			RAISE EXCEPTION 'model "%" does not exist', name
				USING ERRCODE = 'undefined_object',
				      HINT = 'Save one with uba_model_save(), or list saved models in the uba_models view.';
		ELSE
			RAISE EXCEPTION 'version % of model "%" does not exist', version, name
				USING ERRCODE = 'undefined_object',
				      HINT = 'List saved versions in the uba_models view.';
		END IF;
	END IF;
	RETURN m;
END
$$;
COMMENT ON FUNCTION uba_model(text, int) IS 'a saved model: the active version, or the given one';

CREATE FUNCTION uba_model_activate(name text, version int)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@.uba_model_lock(name);
	IF NOT EXISTS (SELECT 1 FROM @extschema@.uba_model_store s
	                WHERE s.name = uba_model_activate.name AND s.version = uba_model_activate.version) THEN
		RAISE EXCEPTION 'version % of model "%" does not exist', version, name
			USING ERRCODE = 'undefined_object',
			      HINT = 'List saved versions in the uba_models view.';
	END IF;
	UPDATE @extschema@.uba_model_store s SET active = false
	 WHERE s.name = uba_model_activate.name AND s.active AND s.version <> uba_model_activate.version;
	UPDATE @extschema@.uba_model_store s SET active = true
	 WHERE s.name = uba_model_activate.name AND s.version = uba_model_activate.version AND NOT s.active;
END
$$;
COMMENT ON FUNCTION uba_model_activate(text, int) IS 'make a saved version the active one (instant rollback)';

CREATE FUNCTION uba_model_drop(name text, version int DEFAULT NULL)
RETURNS int
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n int;
	was_active boolean;
	newest int;
BEGIN
	PERFORM @extschema@.uba_model_lock(name);
	WITH d AS (
		DELETE FROM @extschema@.uba_model_store s
		 WHERE s.name = uba_model_drop.name
		   AND (uba_model_drop.version IS NULL OR s.version = uba_model_drop.version)
		RETURNING s.active)
	SELECT count(*), coalesce(bool_or(d.active), false) INTO n, was_active FROM d;
	IF n = 0 THEN
		IF version IS NULL THEN
			-- a name whose versions were all dropped one by one still holds its counter
			DELETE FROM @extschema@.uba_model_names m WHERE m.name = uba_model_drop.name;
			IF FOUND THEN
				RETURN 0;
			END IF;
			RAISE EXCEPTION 'model "%" does not exist', name USING ERRCODE = 'undefined_object';
		ELSE
			RAISE EXCEPTION 'version % of model "%" does not exist', version, name
				USING ERRCODE = 'undefined_object';
		END IF;
	END IF;
	IF version IS NULL THEN
		-- the whole name is gone: forget its version counter too
		DELETE FROM @extschema@.uba_model_names n WHERE n.name = uba_model_drop.name;
	ELSIF was_active THEN
		SELECT max(s.version) INTO newest FROM @extschema@.uba_model_store s
		 WHERE s.name = uba_model_drop.name;
		IF newest IS NOT NULL THEN
			UPDATE @extschema@.uba_model_store s SET active = true
			 WHERE s.name = uba_model_drop.name AND s.version = newest;
			RAISE NOTICE 'version % of model "%" is now active', newest, name;
		END IF;
	END IF;
	RETURN n;
END
$$;
COMMENT ON FUNCTION uba_model_drop(text, int) IS 'drop one version of a model (numbers are not reused), or the whole name; returns how many versions';

CREATE VIEW uba_models AS
SELECT s.name, s.version, s.kind, s.active,
       octet_length(s.model) AS size_bytes,
       s.training_rows, s.created_at, s.created_by, s.metrics
  FROM uba_model_store s
 ORDER BY s.name, s.version;
COMMENT ON VIEW uba_models IS 'every saved model version';

-------------------------------------------------------------------------------
-- Evaluation metrics: aggregates over (predicted, actual), parallel safe
-------------------------------------------------------------------------------

CREATE FUNCTION uba_binary_transfn(internal, boolean, boolean) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_binary_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_binary_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_binary_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_f1_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_precision_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_recall_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_accuracy_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_mcc_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_confusion_final(internal) RETURNS jsonb
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE uba_f1_score(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = internal, SSPACE = 32, FINALFUNC = uba_f1_final,
	COMBINEFUNC = uba_binary_combine, SERIALFUNC = uba_binary_serialize,
	DESERIALFUNC = uba_binary_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_precision(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = internal, SSPACE = 32, FINALFUNC = uba_precision_final,
	COMBINEFUNC = uba_binary_combine, SERIALFUNC = uba_binary_serialize,
	DESERIALFUNC = uba_binary_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_recall(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = internal, SSPACE = 32, FINALFUNC = uba_recall_final,
	COMBINEFUNC = uba_binary_combine, SERIALFUNC = uba_binary_serialize,
	DESERIALFUNC = uba_binary_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_accuracy(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = internal, SSPACE = 32, FINALFUNC = uba_accuracy_final,
	COMBINEFUNC = uba_binary_combine, SERIALFUNC = uba_binary_serialize,
	DESERIALFUNC = uba_binary_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_mcc(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = internal, SSPACE = 32, FINALFUNC = uba_mcc_final,
	COMBINEFUNC = uba_binary_combine, SERIALFUNC = uba_binary_serialize,
	DESERIALFUNC = uba_binary_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_confusion_matrix(predicted boolean, actual boolean) (
	SFUNC = uba_binary_transfn, STYPE = internal, SSPACE = 32, FINALFUNC = uba_confusion_final,
	COMBINEFUNC = uba_binary_combine, SERIALFUNC = uba_binary_serialize,
	DESERIALFUNC = uba_binary_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_f1_score(boolean, boolean) IS 'F1 score of binary predictions';
COMMENT ON AGGREGATE uba_precision(boolean, boolean) IS 'precision of binary predictions';
COMMENT ON AGGREGATE uba_recall(boolean, boolean) IS 'recall of binary predictions';
COMMENT ON AGGREGATE uba_accuracy(boolean, boolean) IS 'accuracy of binary predictions';
COMMENT ON AGGREGATE uba_mcc(boolean, boolean) IS 'Matthews correlation coefficient of binary predictions';
COMMENT ON AGGREGATE uba_confusion_matrix(boolean, boolean) IS 'tp, fp, tn and fn of binary predictions';

CREATE FUNCTION uba_regression_transfn(internal, float8, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_regression_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_regression_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_regression_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_rmse_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_mae_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_r2_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE uba_rmse(predicted float8, actual float8) (
	SFUNC = uba_regression_transfn, STYPE = internal, SSPACE = 56, FINALFUNC = uba_rmse_final,
	COMBINEFUNC = uba_regression_combine, SERIALFUNC = uba_regression_serialize,
	DESERIALFUNC = uba_regression_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_mae(predicted float8, actual float8) (
	SFUNC = uba_regression_transfn, STYPE = internal, SSPACE = 56, FINALFUNC = uba_mae_final,
	COMBINEFUNC = uba_regression_combine, SERIALFUNC = uba_regression_serialize,
	DESERIALFUNC = uba_regression_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_r2(predicted float8, actual float8) (
	SFUNC = uba_regression_transfn, STYPE = internal, SSPACE = 56, FINALFUNC = uba_r2_final,
	COMBINEFUNC = uba_regression_combine, SERIALFUNC = uba_regression_serialize,
	DESERIALFUNC = uba_regression_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_rmse(float8, float8) IS 'root mean squared error';
COMMENT ON AGGREGATE uba_mae(float8, float8) IS 'mean absolute error';
COMMENT ON AGGREGATE uba_r2(float8, float8) IS 'coefficient of determination (R squared)';

CREATE FUNCTION uba_probability_transfn(internal, float8, boolean) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_probability_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_probability_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_probability_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_log_loss_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_brier_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE uba_log_loss(probability float8, actual boolean) (
	SFUNC = uba_probability_transfn, STYPE = internal, SSPACE = 40, FINALFUNC = uba_log_loss_final,
	COMBINEFUNC = uba_probability_combine, SERIALFUNC = uba_probability_serialize,
	DESERIALFUNC = uba_probability_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_brier_score(probability float8, actual boolean) (
	SFUNC = uba_probability_transfn, STYPE = internal, SSPACE = 40, FINALFUNC = uba_brier_final,
	COMBINEFUNC = uba_probability_combine, SERIALFUNC = uba_probability_serialize,
	DESERIALFUNC = uba_probability_deserialize, PARALLEL = SAFE);
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

CREATE FUNCTION uba_linreg_transfn(internal, float8, float8[], jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_linreg_transfn(internal, float8, float8[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_linreg_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_linreg_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_linreg_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_linreg_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE uba_linreg_train(target float8, features float8[], options jsonb) (
	SFUNC = uba_linreg_transfn, STYPE = internal, FINALFUNC = uba_linreg_final,
	COMBINEFUNC = uba_linreg_combine, SERIALFUNC = uba_linreg_serialize,
	DESERIALFUNC = uba_linreg_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_linreg_train(target float8, features float8[]) (
	SFUNC = uba_linreg_transfn, STYPE = internal, FINALFUNC = uba_linreg_final,
	COMBINEFUNC = uba_linreg_combine, SERIALFUNC = uba_linreg_serialize,
	DESERIALFUNC = uba_linreg_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_linreg_train(float8, float8[], jsonb) IS 'train a ridge regression model';
COMMENT ON AGGREGATE uba_linreg_train(float8, float8[]) IS 'train a ridge regression model';

CREATE FUNCTION uba_linreg_predict(model bytea, features float8[]) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_linreg_predict(bytea, float8[]) IS 'predicted target of a ridge regression model';

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

-------------------------------------------------------------------------------
-- Recommendations: collaborative filtering
-------------------------------------------------------------------------------

CREATE FUNCTION uba_cf_transfn(internal, bigint, bigint, float8, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_cf_transfn(internal, bigint, bigint, float8) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_cf_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- shared by the aggregates over (id, id [, weight]) events: uba_cf_train, uba_assoc_rules
CREATE FUNCTION uba_events_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- like the row set's: a partial state carries every event, so plans stay serial (see above)
CREATE FUNCTION uba_events_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100000000;
CREATE FUNCTION uba_events_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100000000;

CREATE AGGREGATE uba_cf_train(user_id bigint, item_id bigint, weight float8, options jsonb) (
	SFUNC = uba_cf_transfn, STYPE = internal, FINALFUNC = uba_cf_final,
	FINALFUNC_MODIFY = READ_WRITE, COMBINEFUNC = uba_events_combine,
	SERIALFUNC = uba_events_serialize, DESERIALFUNC = uba_events_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_cf_train(user_id bigint, item_id bigint, weight float8) (
	SFUNC = uba_cf_transfn, STYPE = internal, FINALFUNC = uba_cf_final,
	FINALFUNC_MODIFY = READ_WRITE, COMBINEFUNC = uba_events_combine,
	SERIALFUNC = uba_events_serialize, DESERIALFUNC = uba_events_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_cf_train(bigint, bigint, float8, jsonb) IS 'train a recommendation model (implicit-feedback ALS) from (user, item, weight) events';
COMMENT ON AGGREGATE uba_cf_train(bigint, bigint, float8) IS 'train a recommendation model (implicit-feedback ALS) from (user, item, weight) events';

CREATE FUNCTION uba_cf_recommend(model bytea, user_id bigint, n int, options jsonb DEFAULT NULL,
	OUT item_id bigint, OUT score float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_cf_recommend(bytea, bigint, int, jsonb) IS 'the n best items for a user, without the items the user already has; the most popular items for an unknown user';
CREATE FUNCTION uba_cf_recommend(model bytea, items bigint[], n int, options jsonb DEFAULT NULL,
	OUT item_id bigint, OUT score float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'uba_cf_recommend_items' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_cf_recommend(bytea, bigint[], int, jsonb) IS 'the n best items for a list of items (a cart, a session) by real-time fold-in, without those items';
CREATE FUNCTION uba_cf_similar_items(model bytea, item_id bigint, n int,
	OUT item_id bigint, OUT score float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_cf_similar_items(bytea, bigint, int) IS 'the n items most similar to an item (cosine of their vectors): customers who bought this also bought';

-- ranking metrics for recommendations: one user's list against their relevant set; average with avg()
CREATE FUNCTION uba_precision_at_k(recommended bigint[], relevant bigint[], k int) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_recall_at_k(recommended bigint[], relevant bigint[], k int) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_ndcg_at_k(recommended bigint[], relevant bigint[], k int) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_average_precision_at_k(recommended bigint[], relevant bigint[], k int) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION uba_hit_rate_at_k(recommended bigint[], relevant bigint[], k int) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_precision_at_k(bigint[], bigint[], int) IS 'relevant items among the first k recommended, divided by k';
COMMENT ON FUNCTION uba_recall_at_k(bigint[], bigint[], int) IS 'relevant items among the first k recommended, divided by min(k, number of relevant items)';
COMMENT ON FUNCTION uba_ndcg_at_k(bigint[], bigint[], int) IS 'normalized discounted cumulative gain of the first k recommended (binary relevance)';
COMMENT ON FUNCTION uba_average_precision_at_k(bigint[], bigint[], int) IS 'average precision at the hits among the first k, divided by min(k, number of relevant items)';
COMMENT ON FUNCTION uba_hit_rate_at_k(bigint[], bigint[], int) IS '1 if any of the first k recommended is relevant, else 0';

-- the line users write most: recommend with the active version of a catalog model.  The model
-- is read by an index lookup (its TOAST pointer, not its bytes) and kept parsed by the backend
-- across queries; a new active version is a new value, so the next query after its commit uses it.
CREATE FUNCTION uba_recommend(user_id bigint, n int, model_name text DEFAULT NULL,
	OUT item_id bigint, OUT score float8)
	RETURNS SETOF record
	LANGUAGE sql STABLE PARALLEL SAFE ROWS 10
AS $$
	SELECT r.item_id, r.score
	  FROM @extschema@.uba_cf_recommend(
	         coalesce((SELECT s.model FROM @extschema@.uba_model_store s
	                    WHERE s.name = coalesce(model_name, current_setting('uba.recommender', true), 'recommender')
	                      AND s.active),
	                  @extschema@.uba_model(coalesce(model_name, current_setting('uba.recommender', true), 'recommender'))),
	         user_id, n) r
$$;
COMMENT ON FUNCTION uba_recommend(bigint, int, text) IS 'the n best items for a user from the active version of a catalog model (default: the setting uba.recommender)';

CREATE FUNCTION uba_cf_explain(model bytea, user_id bigint, item_id bigint, n int DEFAULT 10,
	OUT because_item bigint, OUT contribution float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_cf_explain(bytea, bigint, bigint, int) IS 'which of the user''s own items drove an item''s score, largest contributions first';

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

CREATE FUNCTION uba_assoc_transfn(internal, bigint, bigint, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_assoc_transfn(internal, bigint, bigint) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_assoc_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_assoc_rules(basket_id bigint, item_id bigint, options jsonb) (
	SFUNC = uba_assoc_transfn, STYPE = internal, FINALFUNC = uba_assoc_final,
	COMBINEFUNC = uba_events_combine, SERIALFUNC = uba_events_serialize,
	DESERIALFUNC = uba_events_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_assoc_rules(basket_id bigint, item_id bigint) (
	SFUNC = uba_assoc_transfn, STYPE = internal, FINALFUNC = uba_assoc_final,
	COMBINEFUNC = uba_events_combine, SERIALFUNC = uba_events_serialize,
	DESERIALFUNC = uba_events_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_assoc_rules(bigint, bigint, jsonb) IS 'mine frequent itemsets (FP-growth) of (basket, item) rows and keep the association rules above min_support and min_confidence';
COMMENT ON AGGREGATE uba_assoc_rules(bigint, bigint) IS 'mine frequent itemsets (FP-growth) of (basket, item) rows and keep the association rules above min_support and min_confidence';

CREATE FUNCTION uba_assoc_rules_list(model bytea,
	OUT antecedent bigint[], OUT consequent bigint[], OUT support float8,
	OUT confidence float8, OUT lift float8, OUT count bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION uba_assoc_rules_list(bytea) IS 'every rule of an association rules model, best first (confidence, lift, support)';

CREATE FUNCTION uba_basket_complete(model bytea, items bigint[], n int,
	OUT item_id bigint, OUT confidence float8, OUT lift float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_basket_complete(bytea, bigint[], int) IS 'the n items that most often complete a basket: best rule (confidence, then lift) whose antecedent the basket holds';
