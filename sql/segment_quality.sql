-- cluster quality aggregates, reference values from scikit-learn 1.2
SET extra_float_digits = 0;
CREATE TABLE q (f float8[], c int);
INSERT INTO q VALUES
 ('{0,0}', 1), ('{0,1}', 1), ('{1,0}', 1), ('{1,1}', 1),
 ('{10,10}', 2), ('{10,11}', 2), ('{11,10}', 2),
 ('{-10,20}', 3), ('{-10,22}', 3),
 ('{5,5}', 1);

-- silhouette_score and davies_bouldin_score of the same points
SELECT round(uba_silhouette(f, c)::numeric, 12) AS silhouette,
       round(uba_davies_bouldin(f, c)::numeric, 12) AS davies_bouldin FROM q;
-- calinski_harabasz_score of the same points: 99.23674911660778
SELECT round(uba_calinski_harabasz(f, c)::numeric, 10) AS calinski_harabasz FROM q;
SELECT uba_calinski_harabasz(f, c) FROM (VALUES ('{1,1}'::float8[], 1), ('{1,1}', 1), ('{2,2}', 2), ('{2,2}', 2)) v(f, c);
SELECT expect_error($$SELECT uba_calinski_harabasz(f, 1) FROM q$$);
-- labels are any integers
SELECT round(uba_silhouette(f, c * 100 - 7)::numeric, 12) FROM q;
-- a singleton cluster scores 0 for its point
SELECT round(uba_silhouette(f, CASE WHEN f = '{5,5}' THEN 9 ELSE c END)::numeric, 12) FROM q;
-- sampling: sample_size below the row count gives a seeded, reproducible estimate
SELECT uba_silhouette(f, c, '{"sample_size": 6, "seed": 1}') = uba_silhouette(f, c, '{"sample_size": 6, "seed": 1}') AS reproducible FROM q;
SELECT round(uba_silhouette(f, c, '{"sample_size": 10}')::numeric, 12) AS exact_when_large_enough FROM q;
-- all points of a cluster equal: intra-cluster distances 0, index 0
SELECT uba_davies_bouldin(f, c) FROM (VALUES ('{1,1}'::float8[], 1), ('{1,1}', 1), ('{2,2}', 2), ('{2,2}', 2)) v(f, c);
-- NULLs skipped, no rows gives NULL
SELECT round(uba_silhouette(f, c)::numeric, 12) FROM (SELECT * FROM q UNION ALL SELECT NULL, 1 UNION ALL SELECT '{3,3}', NULL) s;
SELECT uba_silhouette(f, c) IS NULL, uba_davies_bouldin(f, c) IS NULL FROM q WHERE false;
-- errors
SELECT expect_error($$SELECT uba_silhouette(f, 1) FROM q$$);
SELECT expect_error($$SELECT uba_davies_bouldin(f, 1) FROM q$$);
SELECT expect_error($$SELECT uba_silhouette(f, c) FROM (VALUES ('{1}'::float8[], 1), ('{2}', 2)) v(f, c)$$);
SELECT expect_error($$SELECT uba_silhouette(f, c, '{"sample_size": 1}') FROM q$$);
SELECT expect_error($$SELECT uba_silhouette(f, c, '{"samples": 5}') FROM q$$);
SELECT expect_error($$SELECT uba_davies_bouldin(f, c) FROM (VALUES ('{1,2}'::float8[], 1), ('{NaN,2}', 2)) v(f, c)$$);
