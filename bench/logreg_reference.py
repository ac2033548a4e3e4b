#!/usr/bin/python3
"""Reference probabilities for uba_logreg_train from scikit-learn 1.2.

Reads test/data/shoppers_scores.csv (UCI Online Shoppers Purchasing Intention,
CC BY 4.0), fits LogisticRegression with scikit-learn's Newton solver
(newton-cholesky, tol 1e-14, so it reaches the optimum: lbfgs stops early on
its relative-decrease test, which on raw, badly scaled features leaves
probabilities 0.1 off) for each case below, and writes the probability of
every 10th session to test/data/logreg_reference.csv.  Features:
[product_related, product_related_duration, page_values, exit_rates, weekend].

    /usr/bin/python3 bench/logreg_reference.py
"""
import csv
import os
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "test", "data")

# case, uba options, standardize, class_weight, C, fit_intercept
CASES = [
    ("standardized", '{}', True, None, 1.0, True),
    ("balanced_l2_2", '{"class_weight": "balanced", "l2": 2}', True, "balanced", 0.5, True),
    ("raw", '{"standardize": false}', False, None, 1.0, True),
    ("weak_l2", '{"l2": 0.01}', True, None, 100.0, True),
    ("no_intercept", '{"fit_intercept": false}', True, None, 1.0, False),
]


def main():
    warnings.filterwarnings("ignore")
    rows = list(csv.DictReader(open(os.path.join(DATA, "shoppers_scores.csv"))))
    X = np.array([[float(r["product_related"]), float(r["product_related_duration"]),
                   float(r["page_values"]), float(r["exit_rates"]),
                   1.0 if r["weekend"] == "true" else 0.0] for r in rows])
    y = np.array([r["revenue"] == "true" for r in rows])
    sessions = [int(r["session"]) for r in rows]
    out = [("case", "options", "session", "probability")]
    for case, opts, std, cw, C, fi in CASES:
        Xs = StandardScaler().fit_transform(X) if std else X
        clf = LogisticRegression(C=C, class_weight=cw, fit_intercept=fi, solver="newton-cholesky",
                                 tol=1e-14, max_iter=1000).fit(Xs, y)
        p = clf.predict_proba(Xs)[:, 1]
        print(f"{case}: {clf.n_iter_[0]} iterations, coef {clf.coef_[0]}, intercept {clf.intercept_}")
        for i in range(0, len(rows), 10):
            out.append((case, opts, sessions[i], repr(float(p[i]))))
    with open(os.path.join(DATA, "logreg_reference.csv"), "w", newline="") as f:
        csv.writer(f).writerows(out)
    print(f"wrote {len(out) - 1} reference probabilities")


if __name__ == "__main__":
    main()
