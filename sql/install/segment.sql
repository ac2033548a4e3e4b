-- uba segment: k-means segmentation and cluster quality
--
-- Training aggregates collect rows in the core's row set (uba_rowset_*).
-- The install script is these files in the order the Makefile lists them (INSTALL_PARTS);
-- the upgrade scripts beside them must reach the same objects (test/dump_restore.sh checks).

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

CREATE FUNCTION uba_kmeans_transform(model bytea, features float8[]) RETURNS float8[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_transform(bytea, float8[]) IS 'features as the model clustered them: z-scored with the training means and standard deviations when trained with "standardize", else unchanged';

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

-- typed rows: a table's columns as they are (categories one-hot, NULL imputed); not combined across parallel workers
CREATE FUNCTION uba_kmeans_transfn(internal, record, int, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_kmeans_transfn(internal, record, int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_kmeans(features record, k int, options jsonb) (
	SFUNC = uba_kmeans_transfn, STYPE = internal, FINALFUNC = uba_kmeans_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_kmeans(features record, k int) (
	SFUNC = uba_kmeans_transfn, STYPE = internal, FINALFUNC = uba_kmeans_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_kmeans(record, int, jsonb) IS 'k-means clustering of a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_kmeans(record, int) IS 'k-means clustering of a row''s columns as they are (categories one-hot, NULL imputed)';
CREATE FUNCTION uba_kmeans_assign(model bytea, features record) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_kmeans_assign_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_assign(bytea, record) IS 'the nearest cluster (1..k) of a row, its columns found by name';
CREATE FUNCTION uba_kmeans_distance(model bytea, features record) RETURNS float8
	AS 'MODULE_PATHNAME', 'uba_kmeans_distance_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_distance(bytea, record) IS 'Euclidean distance from a row (encoded as in training) to its nearest centroid';
CREATE FUNCTION uba_kmeans_transform(model bytea, features record) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'uba_kmeans_transform_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_transform(bytea, record) IS 'a row encoded as the model clustered it (one-hot, imputed, scaled)';
-- the text form of a feature array: with a record form beside float8[], a literal ('{1,2}') or NULL needs a text form to stay unambiguous
CREATE FUNCTION uba_kmeans_assign(model bytea, features text) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_kmeans_assign_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_assign(bytea, text) IS 'the nearest cluster (1..k) of a feature array given as text';
CREATE FUNCTION uba_kmeans_distance(model bytea, features text) RETURNS float8
	AS 'MODULE_PATHNAME', 'uba_kmeans_distance_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_distance(bytea, text) IS 'Euclidean distance from a feature array given as text to its nearest centroid';
CREATE FUNCTION uba_kmeans_transform(model bytea, features text) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'uba_kmeans_transform_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_transform(bytea, text) IS 'a feature array given as text, as the model clustered it';

-------------------------------------------------------------------------------
-- k-means by passes of statistics (tables larger than memory, Citus)
-------------------------------------------------------------------------------

CREATE FUNCTION uba_kmeans_pass_transfn(bytea, float8[], bytea, int, bigint) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_kmeans_pass_combine(bytea, bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_kmeans_pass(features float8[], centers bytea, sample int, seed bigint) (
	SFUNC = uba_kmeans_pass_transfn, STYPE = bytea,
	COMBINEFUNC = uba_kmeans_pass_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_kmeans_pass(float8[], bytea, int, bigint) IS 'one pass of uba_kmeans_train: per-cluster counts and sums for the centres of a k-means model (or feature moments without one), and a weighted sample of rows; a state Citus computes on each shard';

CREATE FUNCTION uba_kmeans_train(query text, k int, options jsonb DEFAULT '{}')
RETURNS bytea AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION uba_kmeans_train(text, int, jsonb) IS 'train a k-means model by passes over a query''s features: k-means|| initialisation, then one Lloyd step per pass; memory O(k x features), each pass a parallel (or Citus-distributed) aggregate';

-- principal component analysis (pca.c): rows collected as k-means collects them
CREATE FUNCTION uba_pca_transfn(internal, float8[], jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_pca_transfn(internal, float8[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_pca_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_pca(features float8[], options jsonb) (
	SFUNC = uba_pca_transfn, STYPE = internal, FINALFUNC = uba_pca_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_pca(features float8[]) (
	SFUNC = uba_pca_transfn, STYPE = internal, FINALFUNC = uba_pca_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_pca(float8[], jsonb) IS 'principal component analysis of feature vectors: the directions of largest variance';
COMMENT ON AGGREGATE uba_pca(float8[]) IS 'principal component analysis of feature vectors: the directions of largest variance';
-- typed rows: a table's columns as they are (categories one-hot, NULL imputed); not combined across parallel workers
CREATE FUNCTION uba_pca_transfn(internal, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_pca_transfn(internal, record) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_pca(features record, options jsonb) (
	SFUNC = uba_pca_transfn, STYPE = internal, FINALFUNC = uba_pca_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_pca(features record) (
	SFUNC = uba_pca_transfn, STYPE = internal, FINALFUNC = uba_pca_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_pca(record, jsonb) IS 'principal component analysis of a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_pca(record) IS 'principal component analysis of a row''s columns as they are (categories one-hot, NULL imputed)';

-- PCA from mergeable moments (pca.c, core moments.c): O(d^2) memory for any row count; the
-- state is a bytea (not internal), so that Citus splits the aggregate across shards
CREATE FUNCTION uba_pca_moments_transfn(bytea, float8[], jsonb) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_pca_moments_transfn(bytea, float8[]) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_pca_moments_combine(bytea, bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_pca_moments_final(bytea) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_pca_moments(features float8[], options jsonb) (
	SFUNC = uba_pca_moments_transfn, STYPE = bytea, FINALFUNC = uba_pca_moments_final,
	COMBINEFUNC = uba_pca_moments_combine, PARALLEL = SAFE);
CREATE AGGREGATE uba_pca_moments(features float8[]) (
	SFUNC = uba_pca_moments_transfn, STYPE = bytea, FINALFUNC = uba_pca_moments_final,
	COMBINEFUNC = uba_pca_moments_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_pca_moments(float8[], jsonb) IS 'principal component analysis from the rows'' moments: O(features^2) memory for any number of rows, split across parallel workers and Citus shards';
COMMENT ON AGGREGATE uba_pca_moments(float8[]) IS 'principal component analysis from the rows'' moments: O(features^2) memory for any number of rows, split across parallel workers and Citus shards';

CREATE FUNCTION uba_pca_transform(model bytea, features float8[], n int DEFAULT 0) RETURNS float8[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_pca_transform(bytea, float8[], int) IS 'a feature vector''s coordinates on the first n principal components (0: all the model kept)';
CREATE FUNCTION uba_pca_transform(model bytea, features record, n int DEFAULT 0) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'uba_pca_transform_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_pca_transform(bytea, record, int) IS 'a row''s coordinates on the first n principal components (0: all the model kept), its columns found by name';
CREATE FUNCTION uba_pca_transform(model bytea, features text, n int DEFAULT 0) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'uba_pca_transform_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_pca_transform(bytea, text, int) IS 'a feature array given as text, on the first n principal components';
CREATE FUNCTION uba_pca_components(model bytea,
	OUT component int, OUT explained_variance float8, OUT explained_variance_ratio float8,
	OUT cumulative_ratio float8, OUT loadings float8[])
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_pca_components(bytea) IS 'each principal component: its variance, its share of the total, the running share, its loadings (unit length)';

-- Calinski-Harabasz index (cluster_quality.c), collected as uba_davies_bouldin collects its rows
CREATE FUNCTION uba_calinski_harabasz_transfn(internal, float8[], int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_calinski_harabasz_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_calinski_harabasz(features float8[], cluster int) (
	SFUNC = uba_calinski_harabasz_transfn, STYPE = internal, FINALFUNC = uba_calinski_harabasz_final,
	FINALFUNC_MODIFY = READ_WRITE, COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_calinski_harabasz(float8[], int) IS 'Calinski-Harabasz index (variance ratio criterion) of a clustering (higher is better)';

-- density-based clustering (dbscan.c): rows collected as k-means collects them; eps and min_samples ride in the row set
CREATE FUNCTION uba_dbscan_transfn(internal, float8[], float8, int, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_dbscan_transfn(internal, float8[], float8, int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_dbscan_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_dbscan(features float8[], eps float8, min_samples int, options jsonb) (
	SFUNC = uba_dbscan_transfn, STYPE = internal, FINALFUNC = uba_dbscan_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_dbscan(features float8[], eps float8, min_samples int) (
	SFUNC = uba_dbscan_transfn, STYPE = internal, FINALFUNC = uba_dbscan_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_dbscan(float8[], float8, int, jsonb) IS 'density-based clusters (DBSCAN) of feature vectors: core points within eps of min_samples rows, their neighbours, and noise';
COMMENT ON AGGREGATE uba_dbscan(float8[], float8, int) IS 'density-based clusters (DBSCAN) of feature vectors: core points within eps of min_samples rows, their neighbours, and noise';
-- typed rows: not combined across parallel workers
CREATE FUNCTION uba_dbscan_transfn(internal, record, float8, int, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_dbscan_transfn(internal, record, float8, int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_dbscan(features record, eps float8, min_samples int, options jsonb) (
	SFUNC = uba_dbscan_transfn, STYPE = internal, FINALFUNC = uba_dbscan_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_dbscan(features record, eps float8, min_samples int) (
	SFUNC = uba_dbscan_transfn, STYPE = internal, FINALFUNC = uba_dbscan_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_dbscan(record, float8, int, jsonb) IS 'density-based clusters (DBSCAN) of a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_dbscan(record, float8, int) IS 'density-based clusters (DBSCAN) of a row''s columns as they are (categories one-hot, NULL imputed)';

CREATE FUNCTION uba_dbscan_assign(model bytea, features float8[]) RETURNS int
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_dbscan_assign(bytea, float8[]) IS 'cluster (1..clusters) of the nearest core point within eps, 0 for noise';
CREATE FUNCTION uba_dbscan_assign(model bytea, features record) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_dbscan_assign_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_dbscan_assign(bytea, record) IS 'cluster (1..clusters) of a row by the nearest core point within eps, 0 for noise; its columns found by name';
CREATE FUNCTION uba_dbscan_assign(model bytea, features text) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_dbscan_assign_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_dbscan_assign(bytea, text) IS 'cluster of a feature array given as text, 0 for noise';
CREATE FUNCTION uba_dbscan_clusters(model bytea,
	OUT cluster int, OUT size bigint, OUT core_points bigint, OUT border_points bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_dbscan_clusters(bytea) IS 'each DBSCAN cluster''s training rows (core and border points); cluster 0 is the noise';

-- hierarchical clustering (hclust.c): the rows are the leaves in the call's input order
-- (uba_hclust(features ORDER BY id)), so the aggregate is never split across parallel workers
CREATE FUNCTION uba_hclust_transfn(internal, float8[], jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_hclust_transfn(internal, float8[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_hclust_transfn(internal, record, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_hclust_transfn(internal, record) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_hclust_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_hclust(features float8[], options jsonb) (
	SFUNC = uba_hclust_transfn, STYPE = internal, FINALFUNC = uba_hclust_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_hclust(features float8[]) (
	SFUNC = uba_hclust_transfn, STYPE = internal, FINALFUNC = uba_hclust_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_hclust(features record, options jsonb) (
	SFUNC = uba_hclust_transfn, STYPE = internal, FINALFUNC = uba_hclust_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_hclust(features record) (
	SFUNC = uba_hclust_transfn, STYPE = internal, FINALFUNC = uba_hclust_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_hclust(float8[], jsonb) IS 'agglomerative clustering (Ward, complete, average or single linkage) of feature vectors, leaves in input order';
COMMENT ON AGGREGATE uba_hclust(float8[]) IS 'agglomerative clustering (Ward linkage) of feature vectors, leaves in input order';
COMMENT ON AGGREGATE uba_hclust(record, jsonb) IS 'agglomerative clustering of a row''s columns as they are (categories one-hot, NULL imputed), leaves in input order';
COMMENT ON AGGREGATE uba_hclust(record) IS 'agglomerative clustering (Ward linkage) of a row''s columns as they are, leaves in input order';

CREATE FUNCTION uba_hclust_merges(model bytea,
	OUT step int, OUT left_id int, OUT right_id int, OUT height float8, OUT size bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION uba_hclust_merges(bytea) IS 'the merges as scipy''s linkage matrix: leaves 0..n-1 in input order, merge i makes cluster n + i - 1';
CREATE FUNCTION uba_hclust_cut(model bytea, k int DEFAULT NULL, height float8 DEFAULT NULL,
	OUT leaf int, OUT cluster int)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION uba_hclust_cut(bytea, int, float8) IS 'each training row (leaf 0..n-1, input order) and its cluster when the tree is cut into k clusters or at a height';
CREATE FUNCTION uba_hclust_assign(model bytea, features float8[], k int) RETURNS int
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_hclust_assign(bytea, float8[], int) IS 'cluster (1..k) of the nearest training row when the tree is cut into k clusters';
CREATE FUNCTION uba_hclust_assign(model bytea, features record, k int) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_hclust_assign_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_hclust_assign(bytea, record, int) IS 'cluster (1..k) of the training row nearest to a row, its columns found by name';
CREATE FUNCTION uba_hclust_assign(model bytea, features text, k int) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_hclust_assign_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_hclust_assign(bytea, text, int) IS 'cluster (1..k) of the training row nearest to a feature array given as text';

-- choosing k (kmeans_sweep.c): rows collected as k-means collects them; k_min and k_max ride in the row set
CREATE FUNCTION uba_kmeans_sweep_transfn(internal, float8[], int, int, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_kmeans_sweep_transfn(internal, float8[], int, int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_kmeans_sweep_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_kmeans_sweep(features float8[], k_min int, k_max int, options jsonb) (
	SFUNC = uba_kmeans_sweep_transfn, STYPE = internal, FINALFUNC = uba_kmeans_sweep_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_kmeans_sweep(features float8[], k_min int, k_max int) (
	SFUNC = uba_kmeans_sweep_transfn, STYPE = internal, FINALFUNC = uba_kmeans_sweep_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_kmeans_sweep(float8[], int, int, jsonb) IS 'k-means for every k from k_min to k_max on one collection of the rows, each k scored (inertia, silhouette, Davies-Bouldin, Calinski-Harabasz)';
COMMENT ON AGGREGATE uba_kmeans_sweep(float8[], int, int) IS 'k-means for every k from k_min to k_max on one collection of the rows, each k scored (inertia, silhouette, Davies-Bouldin, Calinski-Harabasz)';
CREATE FUNCTION uba_kmeans_sweep_transfn(internal, record, int, int, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_kmeans_sweep_transfn(internal, record, int, int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_kmeans_sweep(features record, k_min int, k_max int, options jsonb) (
	SFUNC = uba_kmeans_sweep_transfn, STYPE = internal, FINALFUNC = uba_kmeans_sweep_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_kmeans_sweep(features record, k_min int, k_max int) (
	SFUNC = uba_kmeans_sweep_transfn, STYPE = internal, FINALFUNC = uba_kmeans_sweep_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_kmeans_sweep(record, int, int, jsonb) IS 'k-means of a row''s columns as they are for every k from k_min to k_max, each k scored';
COMMENT ON AGGREGATE uba_kmeans_sweep(record, int, int) IS 'k-means of a row''s columns as they are for every k from k_min to k_max, each k scored';

CREATE FUNCTION uba_kmeans_sweep_results(sweep bytea,
	OUT k int, OUT inertia float8, OUT silhouette float8, OUT davies_bouldin float8,
	OUT calinski_harabasz float8, OUT is_elbow boolean, OUT is_best_silhouette boolean)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION uba_kmeans_sweep_results(bytea) IS 'a row per k of a sweep: its scores, the elbow of the inertia curve (kneedle) and the best silhouette marked';
CREATE FUNCTION uba_kmeans_sweep_model(sweep bytea, k int DEFAULT NULL) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION uba_kmeans_sweep_model(bytea, int) IS 'the k-means model a sweep fitted for k (by default the k of the best silhouette), as uba_kmeans trains it';

-- Gaussian mixtures (gmm.c, EM in gmm_em.c): rows collected as k-means collects them
CREATE FUNCTION uba_gmm_transfn(internal, float8[], int, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_gmm_transfn(internal, float8[], int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_gmm_final(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_gmm_train(features float8[], k int, options jsonb) (
	SFUNC = uba_gmm_transfn, STYPE = internal, FINALFUNC = uba_gmm_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE uba_gmm_train(features float8[], k int) (
	SFUNC = uba_gmm_transfn, STYPE = internal, FINALFUNC = uba_gmm_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = uba_rowset_combine, SERIALFUNC = uba_rowset_serialize,
	DESERIALFUNC = uba_rowset_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_gmm_train(float8[], int, jsonb) IS 'a Gaussian mixture of k components fitted by EM (full, diag, spherical or tied covariances)';
COMMENT ON AGGREGATE uba_gmm_train(float8[], int) IS 'a Gaussian mixture of k components fitted by EM (full covariances)';
CREATE FUNCTION uba_gmm_transfn(internal, record, int, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION uba_gmm_transfn(internal, record, int) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE uba_gmm_train(features record, k int, options jsonb) (
	SFUNC = uba_gmm_transfn, STYPE = internal, FINALFUNC = uba_gmm_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE uba_gmm_train(features record, k int) (
	SFUNC = uba_gmm_transfn, STYPE = internal, FINALFUNC = uba_gmm_final,
	FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE uba_gmm_train(record, int, jsonb) IS 'a Gaussian mixture of a row''s columns as they are (categories one-hot, NULL imputed)';
COMMENT ON AGGREGATE uba_gmm_train(record, int) IS 'a Gaussian mixture of a row''s columns as they are (categories one-hot, NULL imputed)';

CREATE FUNCTION uba_gmm_predict(model bytea, features float8[]) RETURNS int
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_predict(bytea, float8[]) IS 'the most likely mixture component (1..k) of a feature vector';
CREATE FUNCTION uba_gmm_predict(model bytea, features record) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_gmm_predict_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_predict(bytea, record) IS 'the most likely mixture component (1..k) of a row, its columns found by name';
CREATE FUNCTION uba_gmm_predict(model bytea, features text) RETURNS int
	AS 'MODULE_PATHNAME', 'uba_gmm_predict_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_predict(bytea, text) IS 'the most likely mixture component of a feature array given as text';
CREATE FUNCTION uba_gmm_proba(model bytea, features float8[]) RETURNS float8[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_proba(bytea, float8[]) IS 'the memberships of a feature vector in the k components (they add up to 1)';
CREATE FUNCTION uba_gmm_proba(model bytea, features record) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'uba_gmm_proba_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_proba(bytea, record) IS 'the memberships of a row in the k components, its columns found by name';
CREATE FUNCTION uba_gmm_proba(model bytea, features text) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'uba_gmm_proba_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_proba(bytea, text) IS 'the memberships of a feature array given as text';
CREATE FUNCTION uba_gmm_score(model bytea, features float8[]) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_score(bytea, float8[]) IS 'log-likelihood of a feature vector under the mixture (low: unusual)';
CREATE FUNCTION uba_gmm_score(model bytea, features record) RETURNS float8
	AS 'MODULE_PATHNAME', 'uba_gmm_score_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_score(bytea, record) IS 'log-likelihood of a row under the mixture, its columns found by name';
CREATE FUNCTION uba_gmm_score(model bytea, features text) RETURNS float8
	AS 'MODULE_PATHNAME', 'uba_gmm_score_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION uba_gmm_score(bytea, text) IS 'log-likelihood of a feature array given as text under the mixture';
CREATE FUNCTION uba_gmm_components(model bytea,
	OUT component int, OUT weight float8, OUT mean float8[], OUT covariance float8[])
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION uba_gmm_components(bytea) IS 'each mixture component: its weight, mean and covariance matrix (d x d), in the features'' units';
