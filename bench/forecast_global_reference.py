#!/usr/bin/python3
"""An independent reference of uba's global gradient-boosted forecaster ("method": "boost").

    /usr/bin/python3 bench/forecast_global_reference.py [--host /tmp/pgdev] [--port 5499]
        [--dbname bench] [--user postgres] [--weekly /tmp/uba_retail_weekly.csv]

What it does: rebuilds, in numpy, the training rows that uba_forecast_train(series, ts, value,
options) builds from its documented specification, trains them with the Python XGBoost package
(1.7, xgboost.train) and forecasts recursively, then compares the result with uba's own forecasts
of the same data (uba_forecast_global), forecast by forecast.

Data, split, products kept and metrics: bench/forecast_holdout.py's (imported as a module): Online
Retail's weekly long table (bench/retail_weekly.py's CSV, --weekly), 45 training weeks
2010-11-29 .. 2011-10-03, 8 holdout weeks 2011-10-10 .. 2011-11-28, products with at least 2
non-zero training weeks; mean MASE and product-level WRMSSE.

The reference's rows (period = week; every series spans the 45 training weeks t = 0..44,
zero-filled, as uba's "start" option makes it):
  * scale_s = mean |y_t| over t = 0..44 (1 if that is 0); born_s = the first non-zero week;
  * a training row for every t with born_s + 1 <= t <= 44, target y_t / scale_s;
  * features, in order: lag_1, 2, 3, 4, 8, 13, 26, 52 (y_{t-k} / scale_s, missing before t = 0),
    mean_4, mean_13 (the mean of the scaled values t-w .. t-1 that exist, missing if none),
    month and week_of_year (floor(day of year, 0-based, / 7) + 1) of the week's Monday, age
    (t - born_s) and scale (scale_s); no holidays, no regressors.
XGBoost: reg:squarederror, hist, max_depth 6, eta 0.3, min_child_weight 1, subsample 1,
colsample_bytree 1, lambda 1, alpha 0, gamma 0, max_bin 256, seed 0, 100 rounds, 2 threads,
default base_score.  Forecasts, t = 45..52: each step's features come from the history extended
with the previous steps' predictions (scaled, clipped at 0 before they are appended); the forecast
in units is the clipped prediction times scale_s.

uba: one query, uba_forecast_global(uba_forecast_train(stockcode, week, units, {"method": "boost",
"period": "week", "start": "2010-11-29", "end": "2011-10-03"}), 8) over the table
fc_holdout_weekly (loaded from --weekly as bench/forecast_global.py does, if it is missing).

Prints the products and training rows, mean MASE and WRMSSE of both, and how closely the
forecasts agree (max and median absolute difference, the share within 1 % relative or 0.01
absolute, the correlation), over all 8 steps and over step 1 alone (which does not depend on the
recursion), and the reference's training + forecast time.

Two more checks, because XGBoost's hist training is itself sensitive to the order of its rows
(its quantile sketch's cuts, hence its splits, move with the order; uba's rows come in a hash
order), so two independently trained models of the same rows disagree by more than float noise:
  * order noise: the reference retrained on the same rows shuffled (seed 1), against the
    reference: the floor that the uba-reference agreement can be read against;
  * uba's own trees (uba_boost_export of one trained model's trees, loaded by Python XGBoost), an
    exact check of the rows and the recursion independent of training: (a) the reference's
    training rows, routed through each of uba's 100 trees, must land in every node as many times
    as uba's node cover (sum_hessian: one per row for squared error); (b) each leaf's value must be
    -eta G / (H + lambda) of the reference's targets, G summed over the margins of uba's previous
    trees (float32 against float64: differences of float rounding only); (c) the
    reference's recursive forecasts with uba's trees must equal uba_forecast_global's of that
    model.  The trees come from uba_forecast_trees(model).
"""
import argparse
import datetime
import json
import os
import sys
import time

import numpy as np
import psycopg2
import xgboost

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forecast_holdout as fh  # noqa: E402  (the same data, split and metrics)

LAGS = (1, 2, 3, 4, 8, 13, 26, 52)
WINDOWS = (4, 13)
FEATURES = ([f"lag_{k}" for k in LAGS] + [f"mean_{w}" for w in WINDOWS]
            + ["month", "week_of_year", "age", "scale"])
PARAMS = {
    "objective": "reg:squarederror", "tree_method": "hist", "max_depth": 6, "eta": 0.3,
    "min_child_weight": 1, "subsample": 1, "colsample_bytree": 1, "lambda": 1, "alpha": 0,
    "gamma": 0, "max_bin": 256, "seed": 0, "nthread": 2,
}
ROUNDS = 100

GLOBAL_SQL = """
SELECT f.series, f.step, f.forecast
  FROM uba_forecast_global((SELECT uba_forecast_train(stockcode, week, units, %(opts)s::jsonb)
                              FROM fc_holdout_weekly
                             WHERE week <= '2011-10-03'
                               AND stockcode IN (SELECT stockcode FROM fc_holdout_weekly
                                                  WHERE week <= '2011-10-03'
                                                  GROUP BY stockcode HAVING count(*) >= 2)), 8) f"""
MODEL_SQL = """
SELECT uba_forecast_train(stockcode, week, units, %(opts)s::jsonb)
  FROM fc_holdout_weekly
 WHERE week <= '2011-10-03'
   AND stockcode IN (SELECT stockcode FROM fc_holdout_weekly
                      WHERE week <= '2011-10-03'
                      GROUP BY stockcode HAVING count(*) >= 2)"""
INFO_SQL = """
SELECT uba_model_info(uba_forecast_train(stockcode, week, units, %(opts)s::jsonb))
  FROM fc_holdout_weekly
 WHERE week <= '2011-10-03'
   AND stockcode IN (SELECT stockcode FROM fc_holdout_weekly
                      WHERE week <= '2011-10-03'
                      GROUP BY stockcode HAVING count(*) >= 2)"""


def calendar(t):
    """(month, week_of_year) of week t's Monday."""
    d = fh.FIRST + datetime.timedelta(days=7 * t)
    doy0 = (d - datetime.date(d.year, 1, 1)).days
    return d.month, doy0 // 7 + 1


def features(Z, t, born, scale):
    """The feature matrix (series x features) of period t, from the scaled history Z[:, :t]."""
    n = Z.shape[0]
    X = np.full((n, len(FEATURES)), np.nan)
    col = 0
    for k in LAGS:
        if t - k >= 0:
            X[:, col] = Z[:, t - k]
        col += 1
    for w in WINDOWS:
        lo = max(0, t - w)
        if t - 1 >= lo:
            X[:, col] = Z[:, lo:t].mean(axis=1)
        col += 1
    month, woy = calendar(t)
    X[:, col] = month
    X[:, col + 1] = woy
    X[:, col + 2] = t - born
    X[:, col + 3] = scale
    return X


def rows(train):
    """(scaled history series x (T + H), scale, born, X, y): the training rows of the series."""
    n, T = train.shape
    scale = np.abs(train).mean(axis=1)
    scale[scale == 0] = 1.0
    born = np.argmax(train != 0, axis=1)       # every kept series has a non-zero week
    Z = np.zeros((n, T + fh.H))
    Z[:, :T] = train / scale[:, None]
    Xs, ys = [], []
    for t in range(1, T):
        r = born + 1 <= t
        if r.any():
            Xs.append(features(Z, t, born, scale)[r])
            ys.append(Z[r, t])
    return Z, scale, born, np.vstack(Xs), np.concatenate(ys)


def dmatrix(X, y=None):
    return xgboost.DMatrix(X, label=y, missing=np.nan, feature_names=FEATURES)


def forecast(booster, Z, scale, born, T):
    """Recursive forecasts in units (series x H); fills Z[:, T:] with the scaled steps."""
    F = np.empty((Z.shape[0], fh.H))
    for step in range(fh.H):
        t = T + step
        p = booster.predict(dmatrix(features(Z, t, born, scale)))
        p = np.maximum(p.astype(np.float64), 0.0)
        Z[:, t] = p
        F[:, step] = p * scale
    return F


def reference(train, shuffle=None):
    """(forecasts in units (series x H), training rows, seconds) of the reference; shuffle: a
    seed to train on the rows in a random order."""
    t0 = time.perf_counter()
    Z, scale, born, X, y = rows(train)
    if shuffle is not None:
        p = np.random.default_rng(shuffle).permutation(len(y))
        X, y = X[p], y[p]
    booster = xgboost.train(PARAMS, dmatrix(X, y), num_boost_round=ROUNDS)
    F = forecast(booster, Z, scale, born, train.shape[1])
    return F, len(y), time.perf_counter() - t0


def check_trees(trees_json, train):
    """Routes the reference's rows through uba's trees: (trees whose node covers all match,
    trees, the largest absolute and the median relative leaf-value difference, the forecasts
    with uba's trees)."""
    booster = xgboost.Booster()
    booster.load_model(bytearray(trees_json.encode()))
    trees = json.loads(trees_json)["learner"]["gradient_booster"]["model"]["trees"]
    base = float(json.loads(trees_json)["learner"]["learner_model_param"]["base_score"])
    lam, eta = PARAMS["lambda"], PARAMS["eta"]
    Z, scale, born, X, y = rows(train)
    leaves = booster.predict(dmatrix(X, y), pred_leaf=True).astype(np.int64)
    margin = np.full(len(y), base)
    covers_ok, leaf_abs, leaf_rel = 0, 0.0, []
    for k, tree in enumerate(trees):
        left, right = tree["left_children"], tree["right_children"]
        nodes = len(left)
        count = np.bincount(leaves[:, k], minlength=nodes).astype(np.float64)
        grad = np.bincount(leaves[:, k], weights=margin - y, minlength=nodes)
        for node in range(nodes - 1, -1, -1):    # children have larger ids than their parent
            if left[node] != -1:
                count[node] = count[left[node]] + count[right[node]]
        covers_ok += np.array_equal(count, np.asarray(tree["sum_hessian"], dtype=np.float64))
        value = np.asarray(tree["split_conditions"], dtype=np.float64)
        for node in range(nodes):
            if left[node] == -1:
                w = -eta * grad[node] / (count[node] + lam)
                leaf_abs = max(leaf_abs, abs(w - value[node]))
                leaf_rel.append(abs(w - value[node]) / max(abs(w), 1e-12))
        margin += value[leaves[:, k]]
    return covers_ok, len(trees), leaf_abs, float(np.median(leaf_rel)), forecast(booster, Z, scale, born, train.shape[1])


def agreement(a, b):
    """max |a-b|, median |a-b|, share within 1 % relative or 0.01 absolute, correlation."""
    a, b = a.ravel(), b.ravel()
    d = np.abs(a - b)
    close = (d <= 0.01) | (d <= 0.01 * np.maximum(np.abs(a), np.abs(b)))
    return d.max(), np.median(d), close.mean(), np.corrcoef(a, b)[0, 1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    fh.add_arguments(ap)
    a = ap.parse_args()

    _, codes, index, train, hold = fh.kept_series(a.weekly)
    n = len(codes)

    F_ref, nrows, secs = reference(train)
    F_shuf = reference(train, shuffle=1)[0]

    opts = json.dumps({"method": "boost", "period": "week", "start": str(fh.FIRST),
                       "end": str(fh.TRAIN_END)})
    conn = psycopg2.connect(host=a.host, port=a.port, dbname=a.dbname, user=a.user)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'uba'")
    version = cur.fetchone()
    cur.execute("SELECT to_regclass('fc_holdout_weekly')")
    if cur.fetchone()[0] is None:
        cur.execute("CREATE TABLE fc_holdout_weekly (stockcode text, week date, units float8)")
        with open(a.weekly) as f:
            cur.copy_expert("COPY fc_holdout_weekly FROM STDIN WITH (FORMAT csv, HEADER)", f)
        cur.execute("VACUUM ANALYZE fc_holdout_weekly")
    t0 = time.perf_counter()
    cur.execute(GLOBAL_SQL, {"opts": opts})
    rows = cur.fetchall()
    uba_secs = time.perf_counter() - t0
    cur.execute(INFO_SQL, {"opts": opts})
    info = cur.fetchone()[0]
    # one model, its trees and its forecasts, for the exact check
    cur.execute(MODEL_SQL, {"opts": opts})
    model = bytes(cur.fetchone()[0])
    trees_from = "uba_forecast_trees(model)"
    cur.execute("SELECT uba_boost_export(uba_forecast_trees(%s))::text", (psycopg2.Binary(model),))
    trees_json = cur.fetchone()[0]
    cur.execute("SELECT series, step, forecast FROM uba_forecast_global(%s, 8)", (psycopg2.Binary(model),))
    F_model = np.full((n, fh.H), np.nan)
    for code, step, fc in cur.fetchall():
        F_model[index[code], step - 1] = fc
    conn.close()
    F_uba = np.full((n, fh.H), np.nan)
    for code, step, fc in rows:
        F_uba[index[code], step - 1] = fc
    assert len(rows) == n * fh.H and not np.isnan(F_uba).any(), len(rows)

    print(f"uba {version[0] if version else '?'}, xgboost {xgboost.__version__}")
    print(f"{n} products; reference: {nrows} training rows; uba's model info: "
          f"training_rows {info.get('training_rows')}, series {info.get('series')}, "
          f"features {','.join(info.get('features', []))}")
    print(f"{'':<10} {'mean MASE':>10} {'WRMSSE':>8} {'seconds':>8}")
    for name, F, s in (("reference", F_ref, secs), ("uba", F_uba, uba_secs)):
        _, mase, _, wrmsse, _ = fh.metrics(F, train, hold)
        print(f"{name:<10} {mase:>10.4f} {wrmsse:>8.4f} {s:>8.3f}")
    print("(reference seconds: its row building, training and forecasts; uba's: the query)")
    _, mase, _, wrmsse, _ = fh.metrics(F_shuf, train, hold)
    print(f"{'shuffled':<10} {mase:>10.4f} {wrmsse:>8.4f}          (the reference on its rows shuffled)")
    print("agreement of the forecasts:")
    for what, A, B in (("reference vs uba", F_ref, F_uba), ("reference vs shuffled", F_ref, F_shuf)):
        for label, a_, b_ in (("all steps", A, B), ("step 1", A[:, 0], B[:, 0])):
            mx, med, share, r = agreement(a_, b_)
            print(f"  {what:<22} {label:<9} max |diff| {mx:8.4g}, median |diff| {med:7.4g}, "
                  f"within 1 %/0.01: {100 * share:6.2f} %, correlation {r:.6f}")
    d = np.abs(F_ref - F_uba)
    i, s = np.unravel_index(np.argmax(d), d.shape)
    print(f"  largest reference-uba difference: {codes[i]} step {s + 1}: reference {F_ref[i, s]:.4f}, "
          f"uba {F_uba[i, s]:.4f} (scale {np.abs(train[i]).mean():.4f})")

    covers_ok, ntrees, leaf_abs, leaf_rel, F_trees = check_trees(trees_json, train)
    print(f"exact check with uba's own trees (from {trees_from}):")
    print(f"  the reference's {nrows} training rows fill every node of uba's trees as uba's covers "
          f"say: {covers_ok} of {ntrees} trees")
    print(f"  leaf values recomputed from the reference's targets: largest absolute difference "
          f"{leaf_abs:.2e}, median relative {leaf_rel:.2e}")
    print(f"  uba's forecasts of this model vs the query's above: max |diff| "
          f"{np.abs(F_model - F_uba).max():.3g}")
    for label, a_, b_ in (("all steps", F_trees, F_model), ("step 1", F_trees[:, 0], F_model[:, 0])):
        mx, med, share, r = agreement(a_, b_)
        print(f"  reference recursion with uba's trees vs uba, {label:<9}: max |diff| {mx:.3g}, "
              f"within 1 %/0.01: {100 * share:.2f} %")


if __name__ == "__main__":
    main()
