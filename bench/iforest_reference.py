#!/usr/bin/python3
"""Isolation forest: uba_isolation_forest in SQL beside scikit-learn's IsolationForest.

Data: the Online Shoppers Purchasing Intention data (../shared/data, 12,330 sessions), its ten
numeric columns (page counts and durations, bounce and exit rates, page values, special day).
Both are fitted on all rows with the same n_estimators (1000 by default) and max_samples (256),
each with its own random draws, and score every row.  Reported side by side:
  - Spearman's rank correlation between uba_anomaly_score and scikit-learn's anomaly score
    (-score_samples), and the largest and mean absolute difference of the scores themselves
    (both are 2^(-E[h(x)] / c(256)));
  - the rows each flags at contamination 0.02 and how many they share;
  - training and scoring time (uba end to end in SQL; scikit-learn's fit and score_samples).

    /usr/bin/python3 bench/iforest_reference.py [--dsn DSN] [--trees 1000]
"""
import argparse
import csv
import os
import time

import numpy as np
from scipy.stats import spearmanr
from sklearn.ensemble import IsolationForest

from benchlib import connect

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "online-shoppers-intention", "online_shoppers_intention.csv")
NUMERIC = ["Administrative", "Administrative_Duration", "Informational", "Informational_Duration",
           "ProductRelated", "ProductRelated_Duration", "BounceRates", "ExitRates", "PageValues",
           "SpecialDay"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", default="dbname=postgres")
    ap.add_argument("--trees", type=int, default=1000)
    args = ap.parse_args()

    with open(DATA, newline="") as f:
        X = np.array([[float(r[c]) for c in NUMERIC] for r in csv.DictReader(f)])
    n = len(X)
    cur = connect(args.dsn)
    cur.execute("SET uba.threads = 2")
    cur.execute("DROP TABLE IF EXISTS iforest_rows")
    cur.execute("CREATE TABLE iforest_rows (id int, f float8[])")
    cur.execute("INSERT INTO iforest_rows VALUES " +
                ",".join(cur.mogrify("(%s, %s)", (i, list(x))).decode() for i, x in enumerate(X)))
    opts = '{"n_estimators": %d, "max_samples": 256, "contamination": 0.02, "seed": 1}' % args.trees
    t0 = time.perf_counter()
    cur.execute(f"CREATE TEMP TABLE iforest_model AS SELECT uba_isolation_forest(f, '{opts}'::jsonb) AS m FROM iforest_rows")
    uba_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    cur.execute("SELECT array_agg(uba_anomaly_score(m, f) ORDER BY id), array_agg(uba_is_anomaly(m, f) ORDER BY id) "
                "FROM iforest_rows, iforest_model")
    uba_scores, uba_flags = cur.fetchone()
    uba_score_s = time.perf_counter() - t0
    uba_scores = np.array(uba_scores)
    uba_flags = np.array(uba_flags)

    skl = IsolationForest(n_estimators=args.trees, max_samples=256, contamination=0.02, random_state=1, n_jobs=2)
    t0 = time.perf_counter()
    skl.fit(X)
    skl_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    skl_scores = -skl.score_samples(X)
    skl_score_s = time.perf_counter() - t0
    skl_flags = skl.predict(X) == -1

    rho = spearmanr(uba_scores, skl_scores).correlation
    print(f"Online Shoppers, {n} sessions x {len(NUMERIC)} numeric columns; {args.trees} trees of 256 rows each\n")
    print(f"Spearman rank correlation, uba vs scikit-learn anomaly scores: {rho:.4f}")
    print(f"scores: largest |difference| {np.max(np.abs(uba_scores - skl_scores)):.4f}, "
          f"mean {np.mean(np.abs(uba_scores - skl_scores)):.4f}")
    print(f"contamination 0.02: uba flags {int(uba_flags.sum())}, scikit-learn {int(skl_flags.sum())}, "
          f"both {int((uba_flags & skl_flags).sum())}")
    print("\n| | fit s | score all rows s |")
    print("|---|---:|---:|")
    print(f"| uba (SQL, end to end) | {uba_fit:.3f} | {uba_score_s:.3f} |")
    print(f"| scikit-learn IsolationForest (2 jobs) | {skl_fit:.3f} | {skl_score_s:.3f} |")
    cur.execute("DROP TABLE iforest_rows")


if __name__ == "__main__":
    main()
