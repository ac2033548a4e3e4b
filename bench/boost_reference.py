#!/usr/bin/python3
"""Gradient-boosted trees: uba_boost_train in SQL beside Python XGBoost 1.7 and scikit-learn.

Also a random forest: uba_forest_train (XGBoost's random-forest mode) beside scikit-learn's
RandomForestClassifier, 300 trees each.

Data: the Online Shoppers Purchasing Intention data (../shared/data, 12,330 sessions; label
Revenue).  Until typed rows land (issue 17), every column is given as a number: the ten numeric
columns, the month as 1-12, OperatingSystems, Browser, Region and TrafficType as their codes,
VisitorType as 0/1/2 and Weekend as 0/1.  Split: row number % 5 = 0 held out (2,466 rows).

For the same training rows and options (200 rounds, max_depth 4, learning_rate 0.1, hist,
2 threads) it reports, side by side in one run:
  - held-out AUC of uba (uba_boost_predict, computed with uba_auc in SQL), Python XGBoost
    (xgboost.XGBClassifier, Debian python3-xgboost 1.7) and scikit-learn's
    HistGradientBoostingClassifier (its defaults, max_iter 200, learning_rate 0.1);
  - the largest difference between uba's and XGBoost's held-out probabilities (they train on
    the rows in different orders: uba in its canonical order, so equal splits are not
    guaranteed, only close models);
  - training time: uba end to end in SQL from a table, XGBoost's fit and scikit-learn's fit
    on numpy arrays (best of --repeat);
  - xgboost_margin_difference of the uba model (its evaluator against XGBoost's own
    predictions of the same model, on the training rows).

    /usr/bin/python3 bench/boost_reference.py [--dsn DSN] [--repeat 3]
"""
import argparse
import csv
import os
import time

import numpy as np
import xgboost
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import roc_auc_score

from benchlib import connect

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "online-shoppers-intention", "online_shoppers_intention.csv")
MONTHS = {m: i + 1 for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "June", "Jul", "Aug",
                                          "Sep", "Oct", "Nov", "Dec"])}
VISITORS = {"Returning_Visitor": 0, "New_Visitor": 1, "Other": 2}
OPTIONS = {"n_estimators": 200, "max_depth": 4, "learning_rate": 0.1}


def load():
    rows = []
    with open(DATA, newline="") as f:
        for r in csv.DictReader(f):
            x = [float(r[c]) for c in ["Administrative", "Administrative_Duration", "Informational",
                                       "Informational_Duration", "ProductRelated",
                                       "ProductRelated_Duration", "BounceRates", "ExitRates",
                                       "PageValues", "SpecialDay"]]
            x.append(float(MONTHS[r["Month"]]))
            x += [float(r[c]) for c in ["OperatingSystems", "Browser", "Region", "TrafficType"]]
            x.append(float(VISITORS[r["VisitorType"]]))
            x.append(1.0 if r["Weekend"] == "TRUE" else 0.0)
            rows.append((x, r["Revenue"] == "TRUE"))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", default="dbname=postgres")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    rows = load()
    X = np.array([r[0] for r in rows])
    y = np.array([r[1] for r in rows])
    test = np.arange(len(rows)) % 5 == 0
    cur = connect(args.dsn)
    cur.execute("DROP TABLE IF EXISTS boost_shoppers")
    cur.execute("CREATE TABLE boost_shoppers (id int, features float8[], revenue boolean)")
    values = ",".join(cur.mogrify("(%s, %s, %s)", (i, r[0], r[1])).decode() for i, r in enumerate(rows))
    cur.execute("INSERT INTO boost_shoppers VALUES " + values)
    cur.execute("ANALYZE boost_shoppers")
    cur.execute("SET uba.threads = 2")

    opts = '{"n_estimators": %d, "max_depth": %d, "learning_rate": %s}' % (
        OPTIONS["n_estimators"], OPTIONS["max_depth"], OPTIONS["learning_rate"])
    uba_times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        cur.execute("DROP TABLE IF EXISTS boost_model")
        cur.execute("CREATE TABLE boost_model AS SELECT uba_boost_train(revenue, features, %s::jsonb) AS m "
                    "FROM boost_shoppers WHERE id %% 5 <> 0", (opts,))
        uba_times.append(time.perf_counter() - t0)
    cur.execute("SELECT uba_auc(uba_boost_predict(m, features), revenue), "
                "(uba_model_info(m)->>'xgboost_margin_difference')::float8 FROM boost_shoppers, boost_model "
                "WHERE id % 5 = 0 GROUP BY m")
    uba_auc, agreement = cur.fetchone()
    cur.execute("SELECT array_agg(uba_boost_predict(m, features) ORDER BY id) FROM boost_shoppers, boost_model "
                "WHERE id % 5 = 0")
    uba_prob = np.array(cur.fetchone()[0])

    xgb_times = []
    for _ in range(args.repeat):
        clf = xgboost.XGBClassifier(n_estimators=OPTIONS["n_estimators"], max_depth=OPTIONS["max_depth"],
                                    learning_rate=OPTIONS["learning_rate"], tree_method="hist", n_jobs=2)
        t0 = time.perf_counter()
        clf.fit(X[~test], y[~test])
        xgb_times.append(time.perf_counter() - t0)
    xgb_prob = clf.predict_proba(X[test])[:, 1]
    xgb_auc = roc_auc_score(y[test], xgb_prob)

    # XGBoost against itself on the same rows shuffled: how much row order alone moves a model
    perm = np.random.RandomState(1).permutation(int((~test).sum()))
    shuf = xgboost.XGBClassifier(n_estimators=OPTIONS["n_estimators"], max_depth=OPTIONS["max_depth"],
                                 learning_rate=OPTIONS["learning_rate"], tree_method="hist", n_jobs=2)
    shuf.fit(X[~test][perm], y[~test][perm])
    shuf_prob = shuf.predict_proba(X[test])[:, 1]

    skl_times = []
    for _ in range(args.repeat):
        hgb = HistGradientBoostingClassifier(max_iter=OPTIONS["n_estimators"], learning_rate=OPTIONS["learning_rate"],
                                             random_state=0)
        t0 = time.perf_counter()
        hgb.fit(X[~test], y[~test])
        skl_times.append(time.perf_counter() - t0)
    skl_auc = roc_auc_score(y[test], hgb.predict_proba(X[test])[:, 1])

    print(f"Online Shoppers: {len(rows)} sessions, {int((~test).sum())} for training, {int(test.sum())} held out; "
          f"options {OPTIONS}, 2 threads; best of {args.repeat}\n")
    print("| | held-out AUC | training s |")
    print("|---|---:|---:|")
    print(f"| uba_boost_train (SQL, end to end from a table) | {uba_auc:.4f} | {min(uba_times):.3f} |")
    print(f"| Python XGBoost {xgboost.__version__} fit (numpy) | {xgb_auc:.4f} | {min(xgb_times):.3f} |")
    print(f"| scikit-learn HistGradientBoostingClassifier fit | {skl_auc:.4f} | {min(skl_times):.3f} |")
    print(f"\nuba / XGBoost training time: {min(uba_times) / min(xgb_times):.2f}x")
    print(f"largest |uba - XGBoost| held-out probability: {np.max(np.abs(uba_prob - xgb_prob)):.2e} "
          f"(different row orders; mean {np.mean(np.abs(uba_prob - xgb_prob)):.2e})")
    print(f"XGBoost against itself on the training rows shuffled: largest {np.max(np.abs(shuf_prob - xgb_prob)):.2e} "
          f"(mean {np.mean(np.abs(shuf_prob - xgb_prob)):.2e}): row order alone moves hist models this much")
    print(f"uba's evaluator against XGBoost's predictions of the same model (training rows): {agreement:.2e}")
    # the model exported as XGBoost's JSON and loaded by Python XGBoost predicts what uba predicts
    cur.execute("SELECT uba_boost_export(m)::text FROM boost_model")
    loaded = xgboost.Booster()
    loaded.load_model(bytearray(cur.fetchone()[0], "utf8"))
    exported = loaded.predict(xgboost.DMatrix(X[test]))
    print(f"uba_boost_export loaded by Python XGBoost: largest |its prediction - uba's| on the held-out rows: "
          f"{np.max(np.abs(exported - uba_prob)):.2e}")
    # random forests: uba_forest_train (XGBoost's random-forest mode) beside scikit-learn's
    forest_times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        cur.execute("DROP TABLE IF EXISTS forest_model")
        cur.execute("CREATE TABLE forest_model AS SELECT uba_forest_train(revenue, features, "
                    "'{\"n_estimators\": 300, \"max_depth\": 12}'::jsonb) AS m "
                    "FROM boost_shoppers WHERE id % 5 <> 0")
        forest_times.append(time.perf_counter() - t0)
    cur.execute("SELECT uba_auc(uba_boost_predict(m, features), revenue) FROM boost_shoppers, forest_model "
                "WHERE id % 5 = 0 GROUP BY m")
    forest_auc = cur.fetchone()[0]
    rf_times = []
    for _ in range(args.repeat):
        rf = RandomForestClassifier(n_estimators=300, n_jobs=2, random_state=0)
        t0 = time.perf_counter()
        rf.fit(X[~test], y[~test])
        rf_times.append(time.perf_counter() - t0)
    rf_auc = roc_auc_score(y[test], rf.predict_proba(X[test])[:, 1])
    print("\n| random forest, 300 trees | held-out AUC | training s |")
    print("|---|---:|---:|")
    print(f"| uba_forest_train (max_depth 12, subsample 0.632, sqrt(d) columns per split) | {forest_auc:.4f} | {min(forest_times):.3f} |")
    print(f"| scikit-learn RandomForestClassifier (defaults: unlimited depth, bootstrap) | {rf_auc:.4f} | {min(rf_times):.3f} |")
    print(f"AUC difference: {forest_auc - rf_auc:+.4f}")
    cur.execute("DROP TABLE boost_shoppers, boost_model, forest_model")


if __name__ == "__main__":
    main()
