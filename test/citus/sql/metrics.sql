-- Evaluation metrics on Citus: their states are fixed-size bytea values with a combine function,
-- so Citus splits them: each worker aggregates its shards (worker_partial_agg) and sends one small
-- state, the coordinator combines them.  The answers equal those on a local table.
CREATE TABLE sc_local AS
SELECT g AS id, (g * 37 % 100) / 100.0 AS score, g % 3 = 0 AS label, (g % 7) * 1.5 AS y, g % 4 AS model
  FROM generate_series(1, 20000) g;
CREATE TABLE sc_dist (LIKE sc_local);
SELECT create_distributed_table('sc_dist', 'id');
INSERT INTO sc_dist SELECT * FROM sc_local;

-- split across the workers, over the whole table and grouped by a column that is not the distribution column
SELECT f AS metric, where_runs(format('SELECT %s FROM sc_dist', q), f) AS whole_table,
       where_runs(format('SELECT model, %s FROM sc_dist GROUP BY model', q), f) AS by_model
  FROM (VALUES ('uba_f1_score', 'uba_f1_score(score >= 0.5, label)'), ('uba_confusion_matrix', 'uba_confusion_matrix(score >= 0.5, label)'),
               ('uba_rmse', 'uba_rmse(score, y)'), ('uba_r2', 'uba_r2(score * 9, y)'),
               ('uba_log_loss', 'uba_log_loss(score * 0.98 + 0.01, label)'), ('uba_auc', 'uba_auc(score, label)')) v(f, q);

-- the same answers as on one node (sums in another order: equal to 1e-12)
CREATE FUNCTION metrics_of(tab text) RETURNS TABLE (model int, f1 float8, prec float8, rec float8, acc float8, mcc float8,
	confusion jsonb, rmse float8, mae float8, r2 float8, log_loss float8, brier float8, auc float8) LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format($q$
	SELECT model, uba_f1_score(score >= 0.5, label), uba_precision(score >= 0.5, label), uba_recall(score >= 0.5, label),
	       uba_accuracy(score >= 0.5, label), uba_mcc(score >= 0.5, label), uba_confusion_matrix(score >= 0.5, label),
	       uba_rmse(score, y), uba_mae(score, y), uba_r2(score * 9, y), uba_log_loss(score * 0.98 + 0.01, label),
	       uba_brier_score(score, label), uba_auc(score, label)
	  FROM %I GROUP BY model$q$, tab);
END $$;
SELECT count(*) AS models,
       count(*) FILTER (WHERE (l.f1, l.prec, l.rec, l.acc, l.mcc, l.confusion, l.auc)
                              IS DISTINCT FROM (d.f1, d.prec, d.rec, d.acc, d.mcc, d.confusion, d.auc)) AS counts_differ,
       count(*) FILTER (WHERE abs(l.rmse - d.rmse) > 1e-12 * l.rmse OR abs(l.mae - d.mae) > 1e-12 * l.mae
                           OR abs(l.r2 - d.r2) > 1e-12 * abs(l.r2) OR abs(l.log_loss - d.log_loss) > 1e-12 * l.log_loss
                           OR abs(l.brier - d.brier) > 1e-12 * l.brier) AS sums_differ
  FROM metrics_of('sc_local') l FULL JOIN metrics_of('sc_dist') d USING (model);
SELECT (SELECT uba_confusion_matrix(score >= 0.5, label) FROM sc_dist) AS distributed,
       (SELECT uba_confusion_matrix(score >= 0.5, label) FROM sc_local) AS local;
-- uba_auc needs every score, so it gathers its rows; its weighted form takes per-score counts,
-- which the workers make (a GROUP BY pushed down), and gives the same area
SELECT where_runs($$SELECT uba_auc(score, label, n) FROM (SELECT score, label, count(*)::float8 AS n FROM sc_dist GROUP BY score, label) c$$,
                  'count') AS counts,
       (SELECT uba_auc(score, label, n) FROM (SELECT score, label, count(*)::float8 AS n FROM sc_dist GROUP BY score, label) c)
     = (SELECT uba_auc(score, label) FROM sc_local) AS same_auc,
       (SELECT uba_average_precision(score, label, n) FROM (SELECT score, label, count(*)::float8 AS n FROM sc_dist GROUP BY score, label) c)
     = (SELECT uba_average_precision(score, label) FROM sc_local) AS same_ap;
-- no rows, NULL rows
SELECT uba_f1_score(score >= 0.5, label) IS NULL AS no_rows FROM sc_dist WHERE id < 0;
SELECT uba_rmse(NULL, y) IS NULL AS null_rows FROM sc_dist;

DROP FUNCTION metrics_of(text);
DROP TABLE sc_local, sc_dist;
