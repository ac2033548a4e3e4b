#!/usr/bin/python3
"""How the order of the rows changes Python XGBoost's training time (the reason for uba's row order).

uba gives XGBoost the rows in its canonical order, which is by row hash and so a random order;
from 100,000 rows on it sorts that order by the feature that gains most in one round on a sample
(src/predict/boost.c, LocalityOrder).  This script measures the effect on Python XGBoost 1.7
alone, on the same rows in three orders: shuffled (what a hash order is), sorted by the feature
one round on the first 50,000 shuffled rows scores highest by total gain (what uba does), and the
file's order.  Data: the Online Shoppers Purchasing Intention data (../shared/data), its 12,330
sessions tiled --tiles times (80: 986,400 rows) with the numbers jittered by 5%, 10 numeric and 7
categorical columns; 50 rounds of depth 6, learning rate 0.3, hist, 2 threads.  Reports the time
to build the quantile matrix and the time of the rounds, for each order, --repeat times.

    /usr/bin/python3 bench/boost_row_order.py [--tiles 80] [--repeat 2]
"""
import argparse
import csv
import os
import time

import numpy as np
import xgboost

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "online-shoppers-intention", "online_shoppers_intention.csv")
NUM = ["Administrative", "Administrative_Duration", "Informational", "Informational_Duration", "ProductRelated",
       "ProductRelated_Duration", "BounceRates", "ExitRates", "PageValues", "SpecialDay"]
CATS = ["Month", "OperatingSystems", "Browser", "Region", "TrafficType", "VisitorType", "Weekend"]
PARAMS = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6, "eta": 0.3, "nthread": 2,
          "max_cat_to_onehot": 4}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", type=int, default=80)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()

    rows = list(csv.DictReader(open(DATA)))
    levels = {c: sorted({r[c] for r in rows}) for c in CATS}
    X = np.array([[float(r[c]) for c in NUM] + [levels[c].index(r[c]) for c in CATS] for r in rows], dtype=np.float32)
    y = np.array([r["Revenue"] == "TRUE" for r in rows], dtype=np.float32)
    types = ["q"] * len(NUM) + ["c"] * len(CATS)
    rs = np.random.RandomState(0)
    Xt = np.concatenate([X] * args.tiles)
    yt = np.concatenate([y] * args.tiles)
    Xt[:, :len(NUM)] *= (1 + 0.05 * rs.randn(len(Xt), len(NUM))).astype(np.float32)

    perm = rs.permutation(len(yt))
    Xs, ys = np.ascontiguousarray(Xt[perm]), yt[perm]
    m = min(50000, len(ys))
    sample = xgboost.QuantileDMatrix(Xs[:m], label=ys[:m], feature_types=types, enable_categorical=True, nthread=2)
    probe = xgboost.train(PARAMS, sample, num_boost_round=1)
    gains = probe.get_score(importance_type="total_gain")
    top = int(max(gains, key=gains.get)[1:])
    order = np.lexsort((np.arange(len(ys)), Xs[:, top]))     # stable: ties keep the shuffled order
    Xf, yf = np.ascontiguousarray(Xs[order]), ys[order]
    print(f"{len(yt)} rows ({args.tiles} x 12,330 sessions), 50 rounds of depth 6, 2 threads; "
          f"the probe's feature: {(NUM + CATS)[top]}\n")
    print("| order | quantile matrix s | 50 rounds s |")
    print("|---|---:|---:|")
    for rep in range(args.repeat):
        for name, (a, b) in (("shuffled", (Xs, ys)), ("sorted by the probe's feature", (Xf, yf)),
                             ("file order, tiled", (Xt, yt))):
            t0 = time.perf_counter()
            q = xgboost.QuantileDMatrix(a, label=b, feature_types=types, enable_categorical=True, nthread=2)
            t1 = time.perf_counter()
            xgboost.train(PARAMS, q, num_boost_round=50)
            t2 = time.perf_counter()
            print(f"| {name} | {t1 - t0:.2f} | {t2 - t1:.2f} |", flush=True)
            del q


if __name__ == "__main__":
    main()
