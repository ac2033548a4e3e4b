-- Training on Citus.  Ridge regression needs only the moments of (x, y): its state is a bytea,
-- so Citus splits it and each worker sends d^2 numbers, not its rows.  The trainers that need
-- every row (k-means, logistic regression, trees) gather the rows to the coordinator; both give
-- the single-node models.
CREATE TABLE tr_local AS
SELECT g AS id, ARRAY[(g % 7)::float8, ((g * 13) % 11)::float8, ln(1 + g % 17)] AS x,
       2 * (g % 7) - 0.5 * ((g * 13) % 11) + ((g * 7919) % 100) / 100.0 AS y, g % 3 = 0 AS label, g % 4 AS grp
  FROM generate_series(1, 20000) g;
CREATE TABLE tr_dist (LIKE tr_local);
SELECT create_distributed_table('tr_dist', 'id');
INSERT INTO tr_dist SELECT * FROM tr_local;

SELECT where_runs($$SELECT uba_linreg_train(y, x) FROM tr_dist$$, 'uba_linreg_train') AS linreg,
       where_runs($$SELECT grp, uba_linreg_train(y, x, '{"l2": 0}') FROM tr_dist GROUP BY grp$$, 'uba_linreg_train') AS linreg_by_group,
       where_runs($$SELECT uba_logreg_train(label, x) FROM tr_dist$$, 'uba_logreg_train') AS logreg,
       where_runs($$SELECT uba_kmeans(x, 3) FROM tr_dist$$, 'uba_kmeans') AS kmeans;
-- the same coefficients (the moments combined in another order: equal to 1e-8)
SELECT count(*) AS coefficients,
       count(*) FILTER (WHERE abs(l.coefficient - d.coefficient) > 1e-8 * greatest(1, abs(l.coefficient))) AS different
  FROM uba_linreg_coefficients((SELECT uba_linreg_train(y, x, '{"l2": 0.5}') FROM tr_local)) l
  JOIN uba_linreg_coefficients((SELECT uba_linreg_train(y, x, '{"l2": 0.5}') FROM tr_dist)) d USING (feature);
SELECT l.grp, count(*) AS coefficients,
       count(*) FILTER (WHERE abs(lc.coefficient - dc.coefficient) > 1e-8 * greatest(1, abs(lc.coefficient))
                           OR abs(lc.std_error - dc.std_error) > 1e-8 * lc.std_error) AS different
  FROM (SELECT grp, uba_linreg_train(y, x, '{"l2": 0}') AS m FROM tr_local GROUP BY grp) l
  JOIN (SELECT grp, uba_linreg_train(y, x, '{"l2": 0}') AS m FROM tr_dist GROUP BY grp) d USING (grp),
       LATERAL uba_linreg_coefficients(l.m) lc JOIN LATERAL uba_linreg_coefficients(d.m) dc USING (feature)
 GROUP BY l.grp ORDER BY l.grp;
-- PCA from moments splits the same way (a d^2 state per shard); uba_pca gathers the rows
SELECT where_runs($$SELECT uba_pca_moments(x) FROM tr_dist$$, 'uba_pca_moments') AS pca_moments,
       where_runs($$SELECT grp, uba_pca_moments(x, '{"standardize": true}') FROM tr_dist GROUP BY grp$$, 'uba_pca_moments') AS pca_moments_by_group;
SELECT count(*) AS components,
       count(*) FILTER (WHERE abs(l.explained_variance - d.explained_variance) > 1e-10 * l.explained_variance) AS different_variances,
       count(*) FILTER (WHERE (SELECT max(abs(a - b)) FROM unnest(l.loadings, d.loadings) u(a, b)) > 1e-9) AS different_loadings
  FROM uba_pca_components((SELECT uba_pca(x, '{"standardize": true}') FROM tr_local)) l
  JOIN uba_pca_components((SELECT uba_pca_moments(x, '{"standardize": true}') FROM tr_dist)) d USING (component);
-- logistic regression and k-means gather the rows and give the single-node models
SELECT max(abs(l.coefficient - d.coefficient)) < 1e-8 AS logreg_same
  FROM uba_logreg_coefficients((SELECT uba_logreg_train(label, x) FROM tr_local)) l
  JOIN uba_logreg_coefficients((SELECT uba_logreg_train(label, x) FROM tr_dist)) d USING (feature);
SELECT (SELECT uba_kmeans_inertia(uba_kmeans(x, 3, '{"seed": 7}')) FROM tr_local)
     = (SELECT uba_kmeans_inertia(uba_kmeans(x, 3, '{"seed": 7}')) FROM tr_dist) AS kmeans_same;


-- training by passes: each pass is one split aggregate, a state per shard (O(k x d) or O(d^2)
-- numbers), so the rows stay on the workers; the models equal the single-node ones
SELECT where_runs($$SELECT uba_kmeans_pass(x, NULL, 1, 0) FROM tr_dist$$, 'uba_kmeans_pass') AS kmeans_pass,
       where_runs($$SELECT uba_logreg_pass(label, x, NULL, false) FROM tr_dist$$, 'uba_logreg_pass') AS logreg_pass;
SELECT jsonb_agg(to_jsonb(x) ORDER BY id) AS init FROM tr_local WHERE id IN (5, 900, 4001) \gset
CREATE TABLE tr_models AS
SELECT (SELECT uba_kmeans(x, 3, jsonb_build_object('init_centers', :'init'::jsonb)) FROM tr_local) AS km_memory,
       uba_kmeans_train('SELECT x FROM tr_dist', 3, jsonb_build_object('init_centers', :'init'::jsonb)) AS km_dist,
       uba_kmeans_train('SELECT x FROM tr_local', 3, '{"seed": 5}') AS km_par_local,
       uba_kmeans_train('SELECT x FROM tr_dist', 3, '{"seed": 5}') AS km_par_dist,
       (SELECT uba_logreg_train(label, x, '{"class_weight": "balanced"}') FROM tr_local) AS lr_memory,
       uba_logreg_train('SELECT label, x FROM tr_dist', '{"class_weight": "balanced"}'::jsonb) AS lr_dist;
-- k-means from the same centres: the same centres to 1e-9, the same sizes; k-means|| draws the
-- same sample on one node and on the shards (rows are drawn by their hash)
SELECT max(abs(a - b)) < 1e-9 AS kmeans_same_centres, bool_and(l.size = d.size) AS same_sizes,
       uba_model_info(km_memory)->'iterations' = uba_model_info(km_dist)->'iterations' AS same_iterations
  FROM tr_models, uba_kmeans_centroids(km_memory) l JOIN uba_kmeans_centroids(km_dist) d USING (cluster),
       unnest(l.centroid, d.centroid) u(a, b)
 GROUP BY km_memory, km_dist;
SELECT max(abs(a - b)) < 1e-9 AS kmeans_parallel_init_same
  FROM tr_models, uba_kmeans_centroids(km_par_local) l JOIN uba_kmeans_centroids(km_par_dist) d USING (cluster),
       unnest(l.centroid, d.centroid) u(a, b);
-- logistic regression: the same coefficients and standard errors to 1e-8
SELECT max(abs(l.coefficient - d.coefficient)) < 1e-8 AS logreg_same_coefficients,
       max(abs(l.std_error - d.std_error)) < 1e-8 AS logreg_same_errors
  FROM tr_models, uba_logreg_coefficients(lr_memory) l JOIN uba_logreg_coefficients(lr_dist) d USING (feature);
-- the catalog's recipe trains from the distributed table, on the coordinator, and retrains
SELECT uba_model_train('tr_segments', $$SELECT uba_kmeans_train('SELECT x FROM tr_dist', 3, '{"seed": 5}')$$) AS v1,
       uba_model_retrain('tr_segments') AS v2;
SELECT abs(uba_kmeans_inertia(uba_model('tr_segments')) / uba_kmeans_inertia(km_par_local) - 1) < 1e-9 AS same_model
  FROM tr_models;
SELECT uba_model_drop('tr_segments');

DROP TABLE tr_local, tr_dist, tr_models;
