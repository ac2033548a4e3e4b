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
-- logistic regression and k-means gather the rows and give the single-node models
SELECT max(abs(l.coefficient - d.coefficient)) < 1e-8 AS logreg_same
  FROM uba_logreg_coefficients((SELECT uba_logreg_train(label, x) FROM tr_local)) l
  JOIN uba_logreg_coefficients((SELECT uba_logreg_train(label, x) FROM tr_dist)) d USING (feature);
SELECT (SELECT uba_kmeans_inertia(uba_kmeans(x, 3, '{"seed": 7}')) FROM tr_local)
     = (SELECT uba_kmeans_inertia(uba_kmeans(x, 3, '{"seed": 7}')) FROM tr_dist) AS kmeans_same;

DROP TABLE tr_local, tr_dist;
