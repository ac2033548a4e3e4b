-- uba_gmm_train against scikit-learn 1.2's GaussianMixture on the committed data sets.
--
-- Reference (test/data/gmm_reference.csv, the points in test/data/gmm_points.csv) from
-- bench/gmm_reference.py: Wholesale's six spend columns (log) with k = 3 and every covariance
-- type, Online Retail RFM (log) with k = 4, full and diag; each fitted from the same start as uba
-- (the first k rows as "init_means": every row wholly in its nearest, then EM), scikit-learn given
-- the parameters of that start.  The lower bound, the final mean log-likelihood, BIC, weights,
-- means, per-row scores (log p(x)) and memberships agree to 1.5e-10 relative, the iterations and
-- the predicted components exactly (retail diag's variances, E[x^2] - mean^2 in scikit-learn,
-- lose the most digits there).
--
-- Run from the project root: pg_prove test/segment_gmm_sklearn.sql
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;

SELECT plan(26);

CREATE TEMP TABLE gm_points (dataset text, row int, features float8[]) ON COMMIT DROP;
\copy gm_points FROM 'test/data/gmm_points.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE gm_ref (case_name text, kind text, idx int, value float8) ON COMMIT DROP;
\copy gm_ref FROM 'test/data/gmm_reference.csv' WITH (FORMAT csv, HEADER)

-- each case: its data set, covariance type, k and start (the reference's init_means, d per row)
CREATE TEMP TABLE gm_cases ON COMMIT DROP AS
SELECT c.case_name, split_part(c.case_name, '_', 1) AS dataset, split_part(c.case_name, '_', 2) AS cov,
       (SELECT count(*) FROM gm_ref w WHERE w.case_name = c.case_name AND w.kind = 'weight')::int AS k,
       (SELECT jsonb_agg(mrow ORDER BY cc)
          FROM (SELECT (m.idx - 1) / d.d AS cc, jsonb_agg(m.value ORDER BY m.idx) AS mrow
                  FROM gm_ref m, LATERAL (SELECT array_length(features, 1) AS d FROM gm_points p
                                           WHERE p.dataset = split_part(c.case_name, '_', 1) LIMIT 1) d
                 WHERE m.case_name = c.case_name AND m.kind = 'init_means' GROUP BY 1) q) AS init_means
  FROM (SELECT DISTINCT case_name FROM gm_ref) c;
CREATE TEMP TABLE gm_models ON COMMIT DROP AS
SELECT c.case_name, c.dataset, c.k,
       (SELECT uba_gmm_train(p.features, c.k, jsonb_build_object('covariance_type', c.cov, 'init_means', c.init_means))
          FROM gm_points p WHERE p.dataset = c.dataset) AS m
  FROM gm_cases c;

-- relative difference, with a floor for values near 0
CREATE FUNCTION pg_temp.rel(a float8, b float8) RETURNS float8 LANGUAGE sql IMMUTABLE
AS $$ SELECT abs(a - b) / greatest(abs(b), 1e-3) $$;

SELECT cmp_ok((SELECT max(pg_temp.rel((uba_model_info(g.m)->>kind)::float8, r.value))
                 FROM gm_ref r WHERE r.case_name = g.case_name AND r.kind IN ('lower_bound', 'log_likelihood', 'bic', 'aic')),
              '<', 1e-9::float8, g.case_name || ': lower bound, log-likelihood, BIC and AIC within 1e-9')
  FROM gm_models g ORDER BY case_name;
SELECT ok((SELECT (uba_model_info(g.m)->>'iterations')::int = (SELECT value FROM gm_ref WHERE case_name = g.case_name AND kind = 'n_iter')
              AND (uba_model_info(g.m)->>'converged')::boolean = (SELECT value = 1 FROM gm_ref WHERE case_name = g.case_name AND kind = 'converged')),
          g.case_name || ': the same iterations, converged alike')
  FROM gm_models g ORDER BY case_name;
SELECT cmp_ok((SELECT max(greatest(
                  (SELECT max(pg_temp.rel(c.weight, w.value)) FROM gm_ref w WHERE w.case_name = g.case_name AND w.kind = 'weight' AND w.idx = c.component),
                  (SELECT max(pg_temp.rel(c.mean[j], mu.value)) FROM generate_subscripts(c.mean, 1) j
                     JOIN gm_ref mu ON mu.case_name = g.case_name AND mu.kind = 'mean' AND mu.idx = (c.component - 1) * array_length(c.mean, 1) + j)))
                 FROM uba_gmm_components(g.m) c),
              '<', 1e-10::float8, g.case_name || ': weights and means within 1e-10')
  FROM gm_models g ORDER BY case_name;
SELECT cmp_ok((SELECT greatest(
                  (SELECT max(pg_temp.rel(uba_gmm_score(g.m, p.features), s.value)) FROM gm_ref s
                     JOIN gm_points p ON p.dataset = g.dataset AND p.row = s.idx WHERE s.case_name = g.case_name AND s.kind = 'score'),
                  (SELECT max(abs((uba_gmm_proba(g.m, p.features))[(q.idx - 1) % g.k + 1] - q.value)) FROM gm_ref q
                     JOIN gm_points p ON p.dataset = g.dataset AND p.row = (q.idx - 1) / g.k + 1
                    WHERE q.case_name = g.case_name AND q.kind = 'proba'))),
              '<', 1e-9::float8, g.case_name || ': per-row scores and memberships within 1e-9')
  FROM gm_models g ORDER BY case_name;
SELECT is((SELECT count(*) FROM gm_ref r JOIN gm_points p ON p.dataset = g.dataset AND p.row = r.idx
            WHERE r.case_name = g.case_name AND r.kind = 'predict' AND uba_gmm_predict(g.m, p.features) <> r.value),
          0::bigint, g.case_name || ': the predicted components of the first 20 rows')
  FROM gm_models g WHERE g.case_name IN ('wholesale_full', 'retail_diag') ORDER BY case_name;

SELECT * FROM finish();
ROLLBACK;
