#!/usr/bin/python3
"""Reference principal components from scikit-learn, for test/segment_pca_sklearn.sql.

    /usr/bin/python3 bench/pca_reference.py [--out test/data/pca_reference.csv]

Cases (the committed data sets):
  * wholesale: the six spend columns of test/data/wholesale.csv, raw (PCA(n_components=None));
  * wholesale_white: the same, PCA(n_components=2, whiten=True);
  * cancer_std: the 30 features of test/data/breast_cancer.csv, StandardScaler then PCA(n_components=5)
    (uba's "standardize": population standard deviations, as StandardScaler's).
Each component's sign is set as uba sets it: its largest loading (in absolute value) positive;
the transforms of the first three rows are flipped alike.  Rows written: dataset, kind
(variance | ratio | loading | transform), component, index (feature or row), value.
"""
import argparse
import csv
import os

import numpy as np
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(path, cols):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return np.array([[float(r[c]) for c in cols] for r in rows])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "test/data/pca_reference.csv"))
    a = ap.parse_args()
    wholesale = load(os.path.join(ROOT, "test/data/wholesale.csv"),
                     ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"])
    cancer = load(os.path.join(ROOT, "test/data/breast_cancer.csv"), [f"f{j}" for j in range(1, 31)])
    cases = [
        ("wholesale", wholesale, PCA()),
        ("wholesale_white", wholesale, PCA(n_components=2, whiten=True)),
        ("cancer_std", StandardScaler().fit_transform(cancer), PCA(n_components=5, svd_solver="full")),
    ]
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["dataset", "kind", "component", "idx", "value"])
        for name, X, pca in cases:
            T = pca.fit_transform(X)
            for k in range(pca.n_components_):
                v = pca.components_[k]
                sign = 1.0 if v[np.argmax(np.abs(v))] > 0 else -1.0
                w.writerow([name, "variance", k + 1, 0, repr(float(pca.explained_variance_[k]))])
                w.writerow([name, "ratio", k + 1, 0, repr(float(pca.explained_variance_ratio_[k]))])
                for j, x in enumerate(v):
                    w.writerow([name, "loading", k + 1, j + 1, repr(float(sign * x))])
                for i in range(3):
                    w.writerow([name, "transform", k + 1, i + 1, repr(float(sign * T[i, k]))])
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
