-- uba_dbscan, uba_hclust and uba_kmeans_sweep against scikit-learn 1.2 and scipy 1.10 on the
-- committed data sets.
--
-- DBSCAN (test/data/dbscan_points.csv, dbscan_reference.csv from bench/dbscan_reference.py):
-- Online Retail RFM (log, standardized; euclidean eps 0.28 and manhattan eps 0.42, min_samples
-- 10), Wholesale spend (log, standardized; cosine eps 0.08, min_samples 8) and a synthetic set
-- with duplicates and pairs at exactly eps.  The core points, the noise and the number of
-- clusters must be scikit-learn's; the clusters must be the reference's nearest-core rule (uba
-- gives a border point near two clusters to its nearest core, scikit-learn to the cluster that
-- reached it first in row order: the two differ only on such points).  With "border": "first"
-- and the rows in file order, the clusters are scikit-learn's exactly.
--
-- Hierarchies (test/data/hclust_points.csv, hclust_reference.csv, hclust_cuts.csv from
-- bench/hclust_reference.py): scipy's linkage of 200 Wholesale rows for each linkage and metric
-- and 60 retail rows by Ward: the same merges (ids and sizes) and heights within 1e-9 relative;
-- cuts into 2, 3 and 5 clusters the same partitions as fcluster(Z, k, 'maxclust').
--
-- The k sweep: every k's scores equal the quality aggregates on that k's model, and its model
-- equals uba_kmeans with the same options.
--
-- Run from the project root: pg_prove test/segment_density_sklearn.sql
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;

SELECT plan(42);

CREATE TEMP TABLE db_points (dataset text, row int, features float8[]) ON COMMIT DROP;
\copy db_points FROM 'test/data/dbscan_points.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE db_ref (case_name text, row int, is_core int, sklearn_label int, nearest_label int) ON COMMIT DROP;
\copy db_ref FROM 'test/data/dbscan_reference.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE db_cases (case_name text, dataset text, metric text, eps float8, min_samples int) ON COMMIT DROP;
INSERT INTO db_cases VALUES
	('retail_euclidean', 'retail', 'euclidean', 0.28, 10),
	('retail_manhattan', 'retail', 'manhattan', 0.42, 10),
	('wholesale_cosine', 'wholesale', 'cosine', 0.08, 8),
	('synthetic_euclidean', 'synthetic', 'euclidean', 5.0, 4);

CREATE TEMP TABLE db_models ON COMMIT DROP AS
SELECT c.case_name,
       (SELECT uba_dbscan(p.features, c.eps, c.min_samples, jsonb_build_object('metric', c.metric))
          FROM db_points p WHERE p.dataset = c.dataset) AS m
  FROM db_cases c;
CREATE TEMP TABLE db_labels ON COMMIT DROP AS
SELECT c.case_name, p.row, uba_dbscan_assign(m.m, p.features) AS label
  FROM db_cases c JOIN db_models m USING (case_name) JOIN db_points p ON p.dataset = c.dataset;

-- per case: core points, noise and clusters as scikit-learn's; the partition as the reference's
SELECT is((SELECT sum(core_points)::bigint FROM uba_dbscan_clusters(m)),
          (SELECT count(*) FROM db_ref r WHERE r.case_name = d.case_name AND is_core = 1),
          case_name || ': the core points are scikit-learn''s')
  FROM db_models d ORDER BY case_name;
SELECT is((SELECT count(*) FROM db_labels l WHERE l.case_name = d.case_name AND label = 0),
          (SELECT count(*) FROM db_ref r WHERE r.case_name = d.case_name AND sklearn_label = -1),
          case_name || ': the noise rows are as many as scikit-learn''s')
  FROM db_models d ORDER BY case_name;
SELECT is((SELECT count(*) FROM db_labels l JOIN db_ref r USING (case_name, row)
            WHERE l.case_name = d.case_name AND (l.label = 0) <> (r.sklearn_label = -1)), 0::bigint,
          case_name || ': and the same rows')
  FROM db_models d ORDER BY case_name;
-- a bijection of labels: as many distinct pairs as distinct labels on either side
SELECT ok((SELECT count(DISTINCT (l.label, r.nearest_label)) = count(DISTINCT l.label)
              AND count(DISTINCT (l.label, r.nearest_label)) = count(DISTINCT r.nearest_label)
              AND count(DISTINCT l.label) - 1 = (uba_model_info(d.m)->>'clusters')::int
              AND count(DISTINCT r.sklearn_label) = count(DISTINCT r.nearest_label)
             FROM db_labels l JOIN db_ref r USING (case_name, row) WHERE l.case_name = d.case_name),
          case_name || ': the clusters are the nearest-core rule''s, as many as scikit-learn''s')
  FROM db_models d ORDER BY case_name;
-- "border": "first", the rows in file order (ORDER BY in the call): scikit-learn's own labels
SELECT ok((SELECT count(DISTINCT (uba_dbscan_assign(f.m, p.features), r.sklearn_label)) = count(DISTINCT r.sklearn_label)
              AND count(DISTINCT uba_dbscan_assign(f.m, p.features)) = count(DISTINCT r.sklearn_label)
             FROM db_ref r JOIN db_points p ON p.dataset = c.dataset AND p.row = r.row
            WHERE r.case_name = c.case_name),
          c.case_name || ': with "border": "first" and the rows in scikit-learn''s order, its labels exactly')
  FROM db_cases c,
       LATERAL (SELECT uba_dbscan(p.features, c.eps, c.min_samples,
                                  jsonb_build_object('metric', c.metric, 'border', 'first') ORDER BY p.row) AS m
                  FROM db_points p WHERE p.dataset = c.dataset) f
 ORDER BY c.case_name;
-- the synthetic case's border point at exactly eps from one cluster and nearer another's core
SELECT is((SELECT count(DISTINCT label) FROM db_labels WHERE case_name = 'synthetic_euclidean' AND label > 0),
          (SELECT count(DISTINCT sklearn_label) FROM db_ref WHERE case_name = 'synthetic_euclidean' AND sklearn_label >= 0),
          'synthetic: every cluster found, ties at exactly eps counted');
-- the training rows are labelled alike whichever order the rows come in
SELECT is((SELECT uba_dbscan_assign((SELECT uba_dbscan(features, 0.28, 10) FROM (SELECT * FROM db_points WHERE dataset = 'retail' ORDER BY row DESC) q), features)
             FROM db_points WHERE dataset = 'retail' AND row = 17),
          (SELECT label FROM db_labels WHERE case_name = 'retail_euclidean' AND row = 17),
          'DBSCAN: the rows in another order give the same labels');

-- assigning after uba_dbscan_clusters read the same stored (TOASTed) model: the backend's cache
-- hands both the one parsed model, and assignment builds its tree on it
SELECT is((SELECT count(*) FROM db_labels l JOIN db_points p ON p.dataset = 'retail' AND p.row = l.row, db_models d
            WHERE l.case_name = 'retail_euclidean' AND d.case_name = 'retail_euclidean'
              AND uba_dbscan_assign(d.m, p.features) <> l.label), 0::bigint,
          'DBSCAN: rows assigned after the clusters were listed get the same labels');

-- hierarchies
CREATE TEMP TABLE hc_points (dataset text, leaf int, features float8[]) ON COMMIT DROP;
\copy hc_points FROM 'test/data/hclust_points.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE hc_ref (case_name text, step int, left_id int, right_id int, height float8, size bigint) ON COMMIT DROP;
\copy hc_ref FROM 'test/data/hclust_reference.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE hc_cuts (case_name text, k int, leaf int, cluster int) ON COMMIT DROP;
\copy hc_cuts FROM 'test/data/hclust_cuts.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE hc_models ON COMMIT DROP AS
SELECT c.case_name,
       (SELECT uba_hclust(p.features, jsonb_build_object('linkage', split_part(c.case_name, '_', 2),
                                                         'metric', split_part(c.case_name, '_', 3)) ORDER BY p.leaf)
          FROM hc_points p WHERE p.dataset = split_part(c.case_name, '_', 1)) AS m
  FROM (SELECT DISTINCT case_name FROM hc_ref) c;

SELECT is((SELECT count(*) FROM uba_hclust_merges(m) u JOIN hc_ref r ON r.case_name = h.case_name AND r.step = u.step
            WHERE (u.left_id, u.right_id, u.size) <> (r.left_id, r.right_id, r.size)
               OR abs(u.height - r.height) > 1e-9 * greatest(r.height, 1e-300)), 0::bigint,
          case_name || ': scipy''s merges, heights within 1e-9')
  FROM hc_models h ORDER BY case_name;
SELECT is((SELECT count(*) FROM (SELECT c.k, count(DISTINCT (u.cluster, c.cluster)) AS pairs,
                                        count(DISTINCT u.cluster) AS ours, count(DISTINCT c.cluster) AS theirs
                                   FROM hc_cuts c, LATERAL uba_hclust_cut(h.m, c.k) u
                                  WHERE c.case_name = h.case_name AND u.leaf = c.leaf GROUP BY c.k) q
            WHERE pairs <> ours OR pairs <> theirs OR ours <> k), 0::bigint,
          case_name || ': cuts into 2, 3 and 5 are fcluster''s partitions')
  FROM hc_models h ORDER BY case_name;

-- the k sweep: its scores are the quality aggregates' on each k's model
CREATE TEMP TABLE ks_rows ON COMMIT DROP AS SELECT row, features FROM db_points WHERE dataset = 'retail' AND row <= 1500;
CREATE TEMP TABLE ks_sweep ON COMMIT DROP AS
SELECT uba_kmeans_sweep(features, 1, 6, '{"seed": 7, "n_init": 2}') AS s FROM ks_rows;
CREATE TEMP TABLE ks_check ON COMMIT DROP AS
SELECT r.*, (SELECT uba_kmeans_inertia(uba_kmeans(features, r.k, '{"seed": 7, "n_init": 2}')) FROM ks_rows) AS inertia_direct,
       (SELECT uba_silhouette(features, uba_kmeans_assign(uba_kmeans_sweep_model(s, r.k), features)) FROM ks_rows) AS silhouette_direct,
       (SELECT uba_davies_bouldin(features, uba_kmeans_assign(uba_kmeans_sweep_model(s, r.k), features)) FROM ks_rows) AS db_direct,
       (SELECT uba_calinski_harabasz(features, uba_kmeans_assign(uba_kmeans_sweep_model(s, r.k), features)) FROM ks_rows) AS ch_direct
  FROM ks_sweep, uba_kmeans_sweep_results(s) r WHERE r.k > 1;
SELECT is((SELECT count(*) FROM ks_check WHERE inertia = inertia_direct), 5::bigint,
          'sweep: each k''s inertia is uba_kmeans''s with the same options');
SELECT is((SELECT count(*) FROM ks_check WHERE abs(silhouette - silhouette_direct) < 1e-12
                                          AND abs(davies_bouldin - db_direct) < 1e-12
                                          AND abs(calinski_harabasz - ch_direct) < 1e-9 * ch_direct), 5::bigint,
          'sweep: silhouette, Davies-Bouldin and Calinski-Harabasz equal the aggregates on each k''s clusters');
SELECT is((SELECT k FROM ks_sweep, uba_kmeans_sweep_results(s) WHERE is_best_silhouette),
          (SELECT k FROM ks_sweep, uba_kmeans_sweep_results(s) ORDER BY silhouette DESC NULLS LAST LIMIT 1),
          'sweep: the best silhouette is marked');
SELECT ok((SELECT count(*) FILTER (WHERE is_elbow) <= 1 AND bool_and(silhouette IS NULL) FILTER (WHERE k = 1)
             FROM ks_sweep, uba_kmeans_sweep_results(s)),
          'sweep: at most one elbow; k = 1 has no silhouette');
SELECT is((SELECT array_agg(size ORDER BY cluster) FROM ks_sweep, uba_kmeans_centroids(uba_kmeans_sweep_model(s))),
          (SELECT array_agg(size ORDER BY cluster) FROM ks_sweep, uba_kmeans_centroids(uba_kmeans_sweep_model(s,
              (SELECT k FROM uba_kmeans_sweep_results(s) WHERE is_best_silhouette)))),
          'sweep: the model by default is the best silhouette''s');

SELECT * FROM finish();
ROLLBACK;
