#!/usr/bin/python3
"""Reference probabilities for uba_logreg_train from scikit-learn 1.2.

Two data sets, both committed under test/data with their licences:
  shoppers       test/data/shoppers_scores.csv (UCI Online Shoppers Purchasing
                 Intention, CC BY 4.0): product_related, product_related_duration,
                 page_values, exit_rates, weekend, then Month and VisitorType
                 one-hot (18 features); label revenue.
  breast_cancer  test/data/breast_cancer.csv (scikit-learn's copy of the Wisconsin
                 diagnostic data, BSD-3): 30 features; label benign.
For every case below it fits LogisticRegression and writes the probability of
every 10th row (every row of breast_cancer) to test/data/logreg_reference.csv.

Solvers: without l1, newton-cholesky with tol 1e-14, so it reaches the optimum
(lbfgs stops early on its relative-decrease test, which on raw, badly scaled
features leaves probabilities 0.1 off); with l1, saga (the solver that does not
penalize the intercept) with tol 1e-13 on standardized features.  uba's
l1 and l2 map to C = 1 / (l1 + l2) and l1_ratio = l1 / (l1 + l2).

    /usr/bin/python3 bench/logreg_reference.py
"""
import csv
import json
import os
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "test", "data")
MONTHS = ["Feb", "Mar", "May", "June", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
VISITORS = ["Returning_Visitor", "New_Visitor", "Other"]

# case, uba options (standardize defaults to true, fit_intercept to true, l2 to 1)
CASES = [
    ("standardized", {}),
    ("raw", {"standardize": False}),
    ("balanced_l2_2", {"class_weight": "balanced", "l2": 2}),
    ("weights_3_to_half", {"class_weight": {"true": 3, "false": 0.5}}),
    ("weak_l2", {"l2": 0.01}),
    ("no_intercept", {"fit_intercept": False}),
    ("l1", {"l1": 2, "l2": 0}),
    ("elastic_net", {"l1": 1, "l2": 0.5}),
]


def load_shoppers():
    rows = list(csv.DictReader(open(os.path.join(DATA, "shoppers_scores.csv"))))
    X = np.array([[float(r["product_related"]), float(r["product_related_duration"]),
                   float(r["page_values"]), float(r["exit_rates"]),
                   1.0 if r["weekend"] == "true" else 0.0]
                  + [1.0 if r["month"] == m else 0.0 for m in MONTHS]
                  + [1.0 if r["visitor_type"] == v else 0.0 for v in VISITORS] for r in rows])
    y = np.array([r["revenue"] == "true" for r in rows])
    ids = [int(r["session"]) for r in rows]
    return X, y, ids, 10


def load_breast_cancer():
    rows = list(csv.DictReader(open(os.path.join(DATA, "breast_cancer.csv"))))
    X = np.array([[float(r[f"f{j}"]) for j in range(1, 31)] for r in rows])
    y = np.array([r["benign"] == "true" for r in rows])
    ids = [int(r["id"]) for r in rows]
    return X, y, ids, 1


def fit(X, y, opts):
    std = opts.get("standardize", True)
    l2 = opts.get("l2", 1.0)
    l1 = opts.get("l1", 0.0)
    cw = opts.get("class_weight")
    if isinstance(cw, dict):
        cw = {True: cw["true"], False: cw["false"]}
    Xs = StandardScaler().fit_transform(X) if std else X
    common = dict(class_weight=cw, fit_intercept=opts.get("fit_intercept", True))
    if l1 == 0:
        clf = LogisticRegression(C=1.0 / l2, solver="newton-cholesky", tol=1e-14, max_iter=1000, **common)
    elif l2 == 0:
        clf = LogisticRegression(penalty="l1", C=1.0 / l1, solver="saga", tol=1e-13, max_iter=1000000, **common)
    else:
        clf = LogisticRegression(penalty="elasticnet", C=1.0 / (l1 + l2), l1_ratio=l1 / (l1 + l2),
                                 solver="saga", tol=1e-13, max_iter=1000000, **common)
    clf.fit(Xs, y)
    return clf, clf.predict_proba(Xs)[:, 1]


def main():
    warnings.filterwarnings("ignore")
    out = [("dataset", "case", "options", "id", "probability")]
    for name, loader in (("shoppers", load_shoppers), ("breast_cancer", load_breast_cancer)):
        X, y, ids, every = loader()
        for case, opts in CASES:
            clf, p = fit(X, y, opts)
            print(f"{name} {case}: {clf.n_iter_[0]} iterations, {int(np.sum(clf.coef_ != 0))} nonzero "
                  f"coefficients, intercept {clf.intercept_[0]:.6f}")
            for i in range(0, len(ids), every):
                out.append((name, case, json.dumps(opts), ids[i], repr(float(p[i]))))
    with open(os.path.join(DATA, "logreg_reference.csv"), "w", newline="") as f:
        csv.writer(f).writerows(out)
    print(f"wrote {len(out) - 1} reference probabilities")


if __name__ == "__main__":
    main()
