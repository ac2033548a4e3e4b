#!/usr/bin/python3
"""Reference predictions for uba_linreg_train from scikit-learn 1.2's Ridge.

Reads test/data/shoppers_scores.csv (UCI Online Shoppers Purchasing Intention,
CC BY 4.0): target product_related_duration, features [product_related,
page_values, exit_rates, weekend].  For each case below fits Ridge (with
StandardScaler first when standardized) and writes the prediction of every
10th session to test/data/linreg_reference.csv.

    /usr/bin/python3 bench/linreg_reference.py
"""
import csv
import os

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "data")

# case, uba options, standardize, fit_intercept, alpha
CASES = [
    ("standardized", '{}', True, True, 1.0),
    ("raw", '{"standardize": false}', False, True, 1.0),
    ("strong_no_intercept", '{"l2": 100, "fit_intercept": false}', True, False, 100.0),
    ("raw_no_intercept", '{"standardize": false, "fit_intercept": false}', False, False, 1.0),
    ("least_squares", '{"standardize": false, "l2": 0}', False, True, 0.0),
]


def main():
    rows = list(csv.DictReader(open(os.path.join(DATA, "shoppers_scores.csv"))))
    X = np.array([[float(r["product_related"]), float(r["page_values"]), float(r["exit_rates"]),
                   1.0 if r["weekend"] == "true" else 0.0] for r in rows])
    y = np.array([float(r["product_related_duration"]) for r in rows])
    out = [("case", "options", "session", "prediction")]
    for case, opts, std, fi, alpha in CASES:
        Xs = StandardScaler().fit_transform(X) if std else X
        model = Ridge(alpha=alpha, fit_intercept=fi, solver="cholesky").fit(Xs, y)
        pred = model.predict(Xs)
        print(f"{case}: coef {model.coef_}, intercept {model.intercept_}")
        for i in range(0, len(rows), 10):
            out.append((case, opts, int(rows[i]["session"]), repr(float(pred[i]))))
    with open(os.path.join(DATA, "linreg_reference.csv"), "w", newline="") as f:
        csv.writer(f).writerows(out)
    print(f"wrote {len(out) - 1} reference predictions")


if __name__ == "__main__":
    main()
