-- uba_pca against scikit-learn 1.2 on the committed data sets.
--
-- Reference values (test/data/pca_reference.csv) come from bench/pca_reference.py:
--   wholesale:       the six spend columns of test/data/wholesale.csv, PCA()
--   wholesale_white: the same, PCA(n_components=2, whiten=True)
--   cancer_std:      the 30 features of test/data/breast_cancer.csv, StandardScaler, PCA(n_components=5)
-- with each component's sign set as uba sets it (largest loading positive), scikit-learn's
-- exact solver (svd_solver="full"; for breast cancer "auto" would pick its randomized solver,
-- 5.7e-8 off).  uba finds the components as eigenvectors of the covariance matrix, or with
-- "solver": "svd" by an SVD of the rows as scikit-learn does: either way variances, ratios,
-- loadings and projections agree to 1e-12 (largest: loadings 1.5e-14, variances 1.2e-15
-- relative).
--
-- Run from the project root: pg_prove test/segment_pca_sklearn.sql
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;

SELECT plan(28);

CREATE TEMP TABLE pc_wholesale (
	channel int, region int, fresh float8, milk float8, grocery float8,
	frozen float8, detergents_paper float8, delicassen float8
) ON COMMIT DROP;
\copy pc_wholesale FROM 'test/data/wholesale.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE pc_cancer_raw (line text) ON COMMIT DROP;
\copy pc_cancer_raw FROM 'test/data/breast_cancer.csv' WITH (FORMAT text)
CREATE TEMP TABLE pc_cancer ON COMMIT DROP AS
SELECT (string_to_array(line, ','))[1]::int AS id,
       (string_to_array(line, ','))[2:31]::float8[] AS f
  FROM pc_cancer_raw WHERE line NOT LIKE 'id,%';
CREATE TEMP TABLE pc_reference (dataset text, kind text, component int, idx int, value float8) ON COMMIT DROP;
\copy pc_reference FROM 'test/data/pca_reference.csv' WITH (FORMAT csv, HEADER)

-- the rows in file order (transforms of the first three)
CREATE TEMP TABLE pc_rows ON COMMIT DROP AS
SELECT 'wholesale' AS dataset, row_number() OVER () AS i,
       ARRAY[fresh, milk, grocery, frozen, detergents_paper, delicassen] AS f FROM pc_wholesale;
INSERT INTO pc_rows SELECT 'cancer', id, f FROM pc_cancer;

CREATE TEMP TABLE pc_models ON COMMIT DROP AS
SELECT 'wholesale' AS dataset, uba_pca(f) AS m FROM pc_rows WHERE dataset = 'wholesale'
UNION ALL
SELECT 'wholesale_white', uba_pca(f, '{"n_components": 2, "whiten": true}'::jsonb) FROM pc_rows WHERE dataset = 'wholesale'
UNION ALL
SELECT 'cancer_std', uba_pca(f, '{"n_components": 5, "standardize": true}'::jsonb) FROM pc_rows WHERE dataset = 'cancer';

CREATE TEMP TABLE pc_uba ON COMMIT DROP AS
SELECT m.dataset, 'variance' AS kind, c.component, 0 AS idx, c.explained_variance AS value
  FROM pc_models m, uba_pca_components(m.m) c
UNION ALL
SELECT m.dataset, 'ratio', c.component, 0, c.explained_variance_ratio FROM pc_models m, uba_pca_components(m.m) c
UNION ALL
SELECT m.dataset, 'loading', c.component, j, c.loadings[j]
  FROM pc_models m, uba_pca_components(m.m) c, generate_subscripts(c.loadings, 1) j
UNION ALL
SELECT m.dataset, 'transform', k, r.i::int, t[k]
  FROM pc_models m
  JOIN pc_rows r ON r.dataset = CASE WHEN m.dataset LIKE 'cancer%' THEN 'cancer' ELSE 'wholesale' END AND r.i <= 3,
       LATERAL (SELECT uba_pca_transform(m.m, r.f) AS t) x, generate_subscripts(t, 1) k;

SELECT is((SELECT count(*) FROM pc_reference r JOIN pc_uba u USING (dataset, kind, component, idx)),
          (SELECT count(*) FROM pc_reference), 'every reference value has its uba counterpart');
SELECT is((SELECT count(*) FROM pc_uba), (SELECT count(*) FROM pc_reference), '...and uba has no other');
SELECT cmp_ok((SELECT max(abs(u.value / r.value - 1)) FROM pc_reference r JOIN pc_uba u USING (dataset, kind, component, idx)
                WHERE r.dataset = d AND r.kind = 'variance'), '<', 1e-12::float8,
              d || ': explained variances within 1e-12 of scikit-learn''s')
  FROM unnest(ARRAY['wholesale', 'wholesale_white', 'cancer_std']) d;
SELECT cmp_ok((SELECT max(abs(u.value - r.value)) FROM pc_reference r JOIN pc_uba u USING (dataset, kind, component, idx)
                WHERE r.dataset = d AND r.kind = 'ratio'), '<', 1e-12::float8,
              d || ': explained variance ratios within 1e-12')
  FROM unnest(ARRAY['wholesale', 'wholesale_white', 'cancer_std']) d;
SELECT cmp_ok((SELECT max(abs(u.value - r.value)) FROM pc_reference r JOIN pc_uba u USING (dataset, kind, component, idx)
                WHERE r.dataset = d AND r.kind = 'loading'), '<', 1e-12::float8,
              d || ': loadings within 1e-12, signs alike')
  FROM unnest(ARRAY['wholesale', 'wholesale_white', 'cancer_std']) d;
SELECT cmp_ok((SELECT max(abs(u.value - r.value)) / (SELECT max(abs(value)) FROM pc_reference WHERE dataset = d AND kind = 'transform')
                 FROM pc_reference r JOIN pc_uba u USING (dataset, kind, component, idx)
                WHERE r.dataset = d AND r.kind = 'transform'), '<', 1e-12::float8,
              d || ': projections (whitened for wholesale_white) within 1e-12 of their spread')
  FROM unnest(ARRAY['wholesale', 'wholesale_white', 'cancer_std']) d;
-- a share of the variance picks the fewest components that reach it, as scikit-learn's 0 < n_components < 1
SELECT is((SELECT (uba_model_info(uba_pca(f, '{"n_components": 0.9}'::jsonb)) ->> 'components')::int FROM pc_rows WHERE dataset = 'wholesale'),
          3, 'n_components 0.9 keeps 3 components on wholesale (0.460 + 0.405 + 0.070 = 0.935)');
SELECT is((SELECT count(*)::int FROM pc_rows r, LATERAL (SELECT uba_pca_transform(m.m, r.f, 2) AS t FROM pc_models m WHERE m.dataset = 'wholesale') x
            WHERE r.dataset = 'wholesale' AND array_length(t, 1) = 2), 440, 'uba_pca_transform(model, features, 2) gives 2 coordinates a row');
-- the same model in a parallel plan (rows combined from workers; the table is not temporary, so
-- that workers can read it, and large enough that both get rows)
CREATE TABLE pc_par AS
SELECT ARRAY[fresh, milk, grocery, frozen, detergents_paper, delicassen] AS f
  FROM pc_wholesale, generate_series(1, 40) g ORDER BY random();
\i test/lib/plan_of.sql
CREATE TEMP TABLE pc_serial ON COMMIT DROP AS
SELECT (SELECT uba_pca(f) FROM pc_par) AS m, (SELECT uba_pca_moments(f) FROM pc_par) AS mm;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
-- uba_pca's partial states carry their rows, priced out of parallel plans unless told (sql/setup.sql's parallel_plans)
ALTER FUNCTION uba_rowset_serialize(internal) COST 1;
ALTER FUNCTION uba_rowset_deserialize(bytea, internal) COST 1;
SELECT matches(pg_temp.plan_of('SELECT uba_pca(f) FROM pc_par') || pg_temp.plan_of('SELECT uba_pca_moments(f) FROM pc_par'),
               'Partial Aggregate(.|\n)*Partial Aggregate', 'both aggregates get parallel plans');
SELECT is((SELECT array_agg(loadings ORDER BY component)::text FROM pc_serial, uba_pca_components(m)),
          (SELECT array_agg(loadings ORDER BY component)::text FROM uba_pca_components((SELECT uba_pca(f) FROM pc_par))),
          'uba_pca: a parallel plan gives the same components, bit for bit');
SELECT cmp_ok((SELECT max(abs(s.explained_variance / p.explained_variance - 1)) + max((SELECT max(abs(a - b)) FROM unnest(s.loadings, p.loadings) u(a, b)))
                 FROM pc_serial, uba_pca_components(mm) s
                 JOIN uba_pca_components((SELECT uba_pca_moments(f) FROM pc_par)) p USING (component)), '<', 1e-12::float8,
              'uba_pca_moments: a parallel plan (partial moments combined) gives the same components to 1e-12');
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SELECT is((SELECT array_agg(round(explained_variance::numeric, 6) ORDER BY component)::text FROM pc_models m, uba_pca_components(m.m) WHERE m.dataset = 'wholesale'),
          (SELECT array_agg(round(explained_variance::numeric, 6) ORDER BY component)::text
             FROM uba_pca_components((SELECT uba_pca(r) FROM pc_wholesale w, LATERAL (SELECT w.fresh, w.milk, w.grocery, w.frozen, w.detergents_paper, w.delicassen) r))),
          'typed rows of the same columns give the same variances');
-- the SVD solver: the same components from the rows' own decomposition
CREATE TEMP TABLE pc_svd ON COMMIT DROP AS
SELECT 'wholesale' AS dataset, uba_pca(f, '{"solver": "svd"}'::jsonb) AS m FROM pc_rows WHERE dataset = 'wholesale'
UNION ALL
SELECT 'cancer_std', uba_pca(f, '{"n_components": 5, "standardize": true, "solver": "svd"}'::jsonb) FROM pc_rows WHERE dataset = 'cancer';
SELECT cmp_ok((SELECT max(abs(c.loadings[j] - r.value)) FROM pc_svd s, uba_pca_components(s.m) c, generate_subscripts(c.loadings, 1) j, pc_reference r
                WHERE r.dataset = s.dataset AND r.kind = 'loading' AND r.component = c.component AND r.idx = j), '<', 1e-12::float8,
              '"solver": "svd": loadings within 1e-12 of scikit-learn''s on both sets');
SELECT cmp_ok((SELECT max(abs(c.explained_variance / r.value - 1)) FROM pc_svd s, uba_pca_components(s.m) c, pc_reference r
                WHERE r.dataset = s.dataset AND r.kind = 'variance' AND r.component = c.component), '<', 1e-12::float8,
              '"solver": "svd": explained variances within 1e-12');
-- uba_pca_moments: the rows' moments (O(d^2) memory), not the rows: the covariance route's components
CREATE TEMP TABLE pc_moments ON COMMIT DROP AS
SELECT 'wholesale' AS dataset, uba_pca_moments(f) AS m FROM pc_rows WHERE dataset = 'wholesale'
UNION ALL
SELECT 'wholesale_white', uba_pca_moments(f, '{"n_components": 2, "whiten": true}'::jsonb) FROM pc_rows WHERE dataset = 'wholesale'
UNION ALL
SELECT 'cancer_std', uba_pca_moments(f, '{"n_components": 5, "standardize": true}'::jsonb) FROM pc_rows WHERE dataset = 'cancer';
SELECT cmp_ok((SELECT max(abs(c.explained_variance / r.value - 1)) FROM pc_moments s, uba_pca_components(s.m) c, pc_reference r
                WHERE r.dataset = s.dataset AND r.kind = 'variance' AND r.component = c.component), '<', 1e-12::float8,
              'uba_pca_moments: explained variances within 1e-12 of scikit-learn''s on the three cases');
SELECT cmp_ok((SELECT max(abs(c.loadings[j] - r.value)) FROM pc_moments s, uba_pca_components(s.m) c, generate_subscripts(c.loadings, 1) j, pc_reference r
                WHERE r.dataset = s.dataset AND r.kind = 'loading' AND r.component = c.component AND r.idx = j), '<', 1e-12::float8,
              'uba_pca_moments: loadings within 1e-12, signs alike');
SELECT cmp_ok((SELECT max(abs(t[r.component] - r.value) / (SELECT max(abs(value)) FROM pc_reference WHERE dataset = s.dataset AND kind = 'transform'))
                 FROM pc_moments s
                 JOIN pc_reference r ON r.dataset = s.dataset AND r.kind = 'transform'
                 JOIN pc_rows x ON x.dataset = CASE WHEN s.dataset LIKE 'cancer%' THEN 'cancer' ELSE 'wholesale' END AND x.i = r.idx,
                      LATERAL (SELECT uba_pca_transform(s.m, x.f) AS t) tt), '<', 1e-12::float8,
              'uba_pca_moments: projections (whitened for wholesale_white) within 1e-12 of their spread');
SELECT is((SELECT count(*)::int FROM pc_moments s, pc_reference r WHERE r.dataset = s.dataset AND r.kind = 'transform'), 3 * (6 + 2 + 5),
          '...over every reference projection');
SELECT is((SELECT uba_model_info(m) - '{created_at,training_ms,size_bytes,total_variance,explained_variance_ratio}'::text[] FROM pc_moments WHERE dataset = 'cancer_std'),
          (SELECT jsonb_set(uba_model_info(m), '{options,solver}', '"moments"') - '{created_at,training_ms,size_bytes,total_variance,explained_variance_ratio}'::text[]
             FROM pc_models WHERE dataset = 'cancer_std'),
          'uba_pca_moments writes a pca model described as uba_pca''s, its solver "moments"');
-- no variance at all: every ratio 0, every projection 0
SELECT is((SELECT sum(explained_variance_ratio) FROM uba_pca_components((SELECT uba_pca(ARRAY[1, 2]::float8[]) FROM generate_series(1, 5)))),
          0::float8, 'identical rows: no variance to explain');

SELECT * FROM finish();
-- the largest differences, for the record
SELECT diag(r.dataset || ' ' || r.kind || ': ' || max(abs(u.value - r.value))) FROM pc_reference r JOIN pc_uba u USING (dataset, kind, component, idx) GROUP BY r.dataset, r.kind ORDER BY 1;
ROLLBACK;
