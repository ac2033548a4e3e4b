#!/usr/bin/python3
"""Typed rows: uba trained on a table's columns as they are, beside the field's references.

Data: the Online Shoppers Purchasing Intention data (../shared/data, 12,330 sessions; label
Revenue), loaded into a table with its columns as the CSV has them: ten numeric columns, Month
and VisitorType as text, OperatingSystems, Browser, Region and TrafficType as integer codes,
Weekend and Revenue as boolean.  Split: row number % 5 = 0 held out (2,466 rows).

Side by side in one run:
  - gradient-boosted trees (200 rounds, max_depth 4, learning_rate 0.1, hist, 2 threads):
    uba_boost_train(revenue, t) on the row (Month and VisitorType split natively as
    categories), Python XGBoost 1.7 on the same columns with the same two columns marked
    categorical (enable_categorical, max_cat_to_onehot 4), and scikit-learn's
    HistGradientBoostingClassifier with the same two columns as categorical_features;
    held-out AUC, and the largest difference between uba's and XGBoost's probabilities;
  - logistic regression: uba_logreg_train(revenue, t) (one-hot of every level, the numbers
    standardized, l2 = 1) against scikit-learn's ColumnTransformer (StandardScaler on the
    numbers, OneHotEncoder on the text) + LogisticRegression(C=1) on the same columns: the
    largest difference of held-out probabilities, and the AUCs;
  - the cost of typed rows: uba_logreg_train and uba_boost_train from --rows rows of 20
    numeric columns, given as a row and as a float8[] of the same columns (median of
    --repeat runs, taking turns): the ratio row / array.

    /usr/bin/python3 bench/typed_reference.py [--dsn DSN] [--rows 200000] [--repeat 3]
"""
import argparse
import csv
import os
import statistics
import time

import numpy as np
import xgboost
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from benchlib import connect

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "online-shoppers-intention", "online_shoppers_intention.csv")
NUMERIC = ["Administrative", "Administrative_Duration", "Informational", "Informational_Duration",
           "ProductRelated", "ProductRelated_Duration", "BounceRates", "ExitRates", "PageValues",
           "SpecialDay"]
CODES = ["OperatingSystems", "Browser", "Region", "TrafficType"]
TEXT = ["Month", "VisitorType"]
COLUMNS = NUMERIC + TEXT + CODES + ["Weekend"]          # the order of the row given to uba
OPTIONS = {"n_estimators": 200, "max_depth": 4, "learning_rate": 0.1}


def load():
    with open(DATA, newline="") as f:
        return list(csv.DictReader(f))


def median_seconds(cur, sql, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        cur.execute(sql)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", default="dbname=postgres")
    ap.add_argument("--rows", type=int, default=200000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    rows = load()
    n = len(rows)
    test = np.arange(n) % 5 == 0
    y = np.array([r["Revenue"] == "TRUE" for r in rows])
    cur = connect(args.dsn)
    cur.execute("SET uba.threads = 2")
    cur.execute("DROP TABLE IF EXISTS typed_shoppers")
    cur.execute("CREATE TABLE typed_shoppers (id int, "
                + ", ".join(f'"{c}" float8' for c in NUMERIC) + ", "
                + ", ".join(f'"{c}" text' for c in TEXT) + ", "
                + ", ".join(f'"{c}" int' for c in CODES) + ', "Weekend" boolean, revenue boolean)')
    values = []
    for i, r in enumerate(rows):
        vals = [i] + [float(r[c]) for c in NUMERIC] + [r[c] for c in TEXT] + [int(r[c]) for c in CODES] \
            + [r["Weekend"] == "TRUE", r["Revenue"] == "TRUE"]
        values.append(cur.mogrify("(" + ",".join(["%s"] * len(vals)) + ")", vals).decode())
    cur.execute("INSERT INTO typed_shoppers VALUES " + ",".join(values))
    cur.execute("ANALYZE typed_shoppers")
    row_sql = "LATERAL (SELECT " + ", ".join(f's."{c}"' for c in COLUMNS) + ") t"

    # ---- boosted trees ----
    opts = '{"n_estimators": %d, "max_depth": %d, "learning_rate": %s}' % (
        OPTIONS["n_estimators"], OPTIONS["max_depth"], OPTIONS["learning_rate"])
    cur.execute("DROP TABLE IF EXISTS typed_models")
    t0 = time.perf_counter()
    cur.execute(f"CREATE TABLE typed_models AS SELECT uba_boost_train(revenue, t, '{opts}'::jsonb) AS b "
                f"FROM typed_shoppers s, {row_sql} WHERE id % 5 <> 0")
    uba_boost_s = time.perf_counter() - t0
    cur.execute("ALTER TABLE typed_models ADD COLUMN l bytea")
    t0 = time.perf_counter()
    cur.execute(f"UPDATE typed_models SET l = (SELECT uba_logreg_train(revenue, t) FROM typed_shoppers s, {row_sql} "
                "WHERE id % 5 <> 0)")
    uba_logreg_s = time.perf_counter() - t0
    cur.execute("SELECT array_agg(uba_predict(b, s) ORDER BY id), array_agg(uba_predict(l, s) ORDER BY id), "
                "(uba_model_info(b)->>'xgboost_margin_difference')::float8, uba_model_info(b)->'columns' "
                "FROM typed_shoppers s, typed_models WHERE id % 5 = 0 GROUP BY b, l")
    uba_boost_p, uba_logreg_p, agreement, columns = cur.fetchone()
    uba_boost_p = np.array(uba_boost_p)
    uba_logreg_p = np.array(uba_logreg_p)
    levels = {c["name"]: c["levels"] for c in columns if c["as"] == "category"}

    # the same columns for the references: categories as their level's number in byte order (uba's)
    def matrix(rs):
        return np.array([[float(r[c]) for c in NUMERIC] + [float(levels[c].index(r[c])) for c in TEXT]
                         + [float(r[c]) for c in CODES] + [1.0 if r["Weekend"] == "TRUE" else 0.0] for r in rs])
    X = matrix(rows)
    cat = [COLUMNS.index(c) for c in TEXT]
    types = ["c" if j in cat else "q" for j in range(len(COLUMNS))]
    dtrain = xgboost.DMatrix(X[~test], label=y[~test], feature_types=types, enable_categorical=True)
    dtest = xgboost.DMatrix(X[test], feature_types=types, enable_categorical=True)
    params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": OPTIONS["max_depth"],
              "eta": OPTIONS["learning_rate"], "max_cat_to_onehot": 4, "nthread": 2}
    t0 = time.perf_counter()
    bst = xgboost.train(params, dtrain, num_boost_round=OPTIONS["n_estimators"])
    xgb_s = time.perf_counter() - t0
    xgb_p = bst.predict(dtest)
    hgb = HistGradientBoostingClassifier(max_iter=OPTIONS["n_estimators"], learning_rate=OPTIONS["learning_rate"],
                                         categorical_features=cat, random_state=0)
    t0 = time.perf_counter()
    hgb.fit(X[~test], y[~test])
    hgb_s = time.perf_counter() - t0
    hgb_p = hgb.predict_proba(X[test])[:, 1]

    # ---- logistic regression: one-hot + standardization + C = 1 ----
    num = [j for j in range(len(COLUMNS)) if j not in cat]
    # the numbers standardized, the indicators as they are: uba's rule for typed rows
    pipe = make_pipeline(
        ColumnTransformer([("num", StandardScaler(), num),
                           ("cat", OneHotEncoder(sparse_output=False, handle_unknown="ignore"), cat)]),
        LogisticRegression(C=1.0, solver="newton-cg", tol=1e-12, max_iter=10000))
    t0 = time.perf_counter()
    pipe.fit(X[~test], y[~test])
    skl_lr_s = time.perf_counter() - t0
    skl_lr_p = pipe.predict_proba(X[test])[:, 1]

    print(f"Online Shoppers, columns as they are: {n} sessions, {int((~test).sum())} for training, "
          f"{int(test.sum())} held out; Month and VisitorType text, Weekend boolean; 2 threads\n")
    print("| gradient-boosted trees, " + str(OPTIONS) + " | held-out AUC | training s |")
    print("|---|---:|---:|")
    print(f"| uba_boost_train(revenue, row) (SQL, end to end) | {roc_auc_score(y[test], uba_boost_p):.4f} | {uba_boost_s:.3f} |")
    print(f"| Python XGBoost {xgboost.__version__}, the two text columns categorical | {roc_auc_score(y[test], xgb_p):.4f} | {xgb_s:.3f} |")
    print(f"| scikit-learn HistGradientBoostingClassifier, categorical_features | {roc_auc_score(y[test], hgb_p):.4f} | {hgb_s:.3f} |")
    print(f"\nlargest |uba - XGBoost| held-out probability: {np.max(np.abs(uba_boost_p - xgb_p)):.2e} "
          f"(mean {np.mean(np.abs(uba_boost_p - xgb_p)):.2e}; row orders differ)")
    print(f"uba's evaluator against XGBoost's predictions of the same model (training rows): {agreement:.2e}")
    print("\n| logistic regression (one-hot, numbers standardized, C = 1) | held-out AUC | training s |")
    print("|---|---:|---:|")
    print(f"| uba_logreg_train(revenue, row) | {roc_auc_score(y[test], uba_logreg_p):.4f} | {uba_logreg_s:.3f} |")
    print(f"| scikit-learn StandardScaler (numbers) + OneHotEncoder + LogisticRegression | {roc_auc_score(y[test], skl_lr_p):.4f} | {skl_lr_s:.3f} |")
    print(f"largest |uba - scikit-learn| held-out probability: {np.max(np.abs(uba_logreg_p - skl_lr_p)):.2e}")

    # ---- what a row costs against a float8[] of the same columns ----
    cols = [f"c{j}" for j in range(20)]
    cur.execute("DROP TABLE IF EXISTS typed_cost")
    cur.execute("CREATE TABLE typed_cost AS SELECT g AS id, "
                + ", ".join(f"sin(g * {j + 1}.37) * {j + 1} AS c{j}" for j in range(20))
                + f", sin(g * 0.7) + cos(g * 1.3) > 0.3 AS label FROM generate_series(1, {args.rows}) g")
    cur.execute("VACUUM ANALYZE typed_cost")     # hint bits set, as on a table in use
    cur.execute("SET max_parallel_workers_per_gather = 0")   # typed rows are not split across workers
    arr = "ARRAY[" + ", ".join(cols) + "]"
    row = "LATERAL (SELECT " + ", ".join(f"c.{x}" for x in cols) + ") t"
    cases = {
        "uba_logreg_train": (f"SELECT uba_logreg_train(label, t) IS NOT NULL FROM typed_cost c, {row}",
                             f"SELECT uba_logreg_train(label, {arr}) IS NOT NULL FROM typed_cost c"),
        "uba_boost_train (50 rounds)": (
            f"SELECT uba_boost_train(label, t, '{{\"n_estimators\": 50}}'::jsonb) IS NOT NULL FROM typed_cost c, {row}",
            f"SELECT uba_boost_train(label, {arr}, '{{\"n_estimators\": 50}}'::jsonb) IS NOT NULL FROM typed_cost c"),
    }
    print(f"\n| {args.rows} rows x 20 numeric columns, serial | row s | float8[] s | row / float8[] |")
    print("|---|---:|---:|---:|")
    for name, (typed_sql, array_sql) in cases.items():
        cur.execute(typed_sql)      # warm-up
        cur.execute(array_sql)
        # taking turns, so that a slower minute of a shared machine falls on both
        typed, array = [], []
        for _ in range(args.repeat):
            typed.append(median_seconds(cur, typed_sql, 1))
            array.append(median_seconds(cur, array_sql, 1))
        t, a = statistics.median(typed), statistics.median(array)
        print(f"| {name} | {t:.3f} | {a:.3f} | {t / a:.2f}x |")
    cur.execute("DROP TABLE typed_shoppers, typed_models, typed_cost")


if __name__ == "__main__":
    main()
