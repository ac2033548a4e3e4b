#!/usr/bin/python3
"""Reference DBSCAN labels from scikit-learn, and uba's nearest-core border rule, for uba_dbscan.

    /usr/bin/python3 bench/dbscan_reference.py [--out test/data/dbscan_reference.csv]
        [--points test/data/dbscan_points.csv]

Cases (case: data set, metric, eps, min_samples):
  * retail_euclidean: test/data/retail_rfm.csv, [ln(1 + recency), ln(1 + frequency),
    ln(1 + max(monetary, 0))] standardized with StandardScaler; euclidean, eps 0.28, min_samples 10;
  * retail_manhattan: the same points; manhattan, eps 0.42, min_samples 10;
  * wholesale_cosine: the six spend columns of test/data/wholesale.csv, ln(1 + x), standardized;
    cosine, eps 0.08, min_samples 8;
  * synthetic_euclidean: 22 hand-placed points on the integer grid (exact doubles, exact
    distances), eps 5, min_samples 4: duplicate points, pairs at exactly eps (3-4-5 triangles) that
    make points core only under "<=", a border point at exactly eps from a core of one cluster and
    nearer a core of another, a border point equidistant from the cores of two clusters (the
    lower-numbered one has more core points and comes first in row order, so it is the lower number
    whether clusters are numbered as scikit-learn does or by core points), noise points just beyond
    eps (sqrt(26)) and noise within eps of a border point only.
The data set of a case is the part of its name before the underscore.

The features are standardized here (StandardScaler: population standard deviation, as uba's
"standardize" option) and written already standardized to --points, one row per data set and
point: dataset, row (1-based, file order), features (an array literal "{x1,x2,...}" whose numbers
are Python repr()s, so ::float8[] reads exactly the doubles used here).  Pass them to uba_dbscan as
they are, without "standardize".

Written to --out, per case and row (in file order): case, row, is_core (1 if the row is in
scikit-learn's core_sample_indices_), sklearn_label (DBSCAN(eps, min_samples, metric).labels_,
-1 noise; clusters numbered 0.. by their first core point in row order; a border point gets the
first cluster, in that numbering, that reaches it), nearest_core_label: uba's rule computed here
in numpy, independently of scikit-learn: core points keep sklearn_label; a non-core point within
eps of a core point gets the label of its nearest core point, ties to the core whose sklearn_label
is smallest; otherwise -1.  Both columns number clusters from 0 with -1 for noise (uba: 1.. and 0);
compare partitions, or map uba's numbers through the core points.

Printed per case: n, clusters, noise, core points, ambiguous borders (non-core points within eps of
core points of two or more clusters: the only rows where the two rules may differ), rows where the
rules differ, borders whose nearest core is tied between clusters (the only rows where the tie rule,
and so the cluster numbering, matters), the gap: over ambiguous borders, the smallest difference
between the distance to the nearest core and to the nearest core of another cluster, over eps, and
the margin: the smallest |distance - eps| / eps over all pairs.  The synthetic case has exact ties
on purpose; on the real data a gap and a margin far above 1e-15 mean that no rounding difference
can move a pair across eps or change a border's nearest cluster.
"""
import argparse
import csv
import os

import numpy as np
from sklearn.cluster import DBSCAN
from sklearn.preprocessing import StandardScaler

from benchlib import log_features

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "test", "data")

# (case, data set, metric, eps, min_samples)
CASES = [
    ("retail_euclidean", "retail", "euclidean", 0.28, 10),
    ("retail_manhattan", "retail", "manhattan", 0.42, 10),
    ("wholesale_cosine", "wholesale", "cosine", 0.08, 8),
    ("synthetic_euclidean", "synthetic", "euclidean", 5.0, 4),
]

# eps 5, min_samples 4 (the point itself counted)
SYNTHETIC = [
    # cluster A: three duplicates and a point at exactly eps (3-4-5); each is core only with "<="
    (0, 0), (0, 0), (0, 0), (3, 4),
    # B: border; exactly eps from (3, 4) (cluster A, first in row order), 3 from (11, 4) (cluster C)
    (8, 4),
    # cluster C: (11, 4) core (B, (14, 4) twice, (15, 7) at exactly eps); (14, 4) core (duplicates)
    (11, 4), (14, 4), (14, 4), (15, 7),
    # noise: sqrt(26) from (0, 0), the nearest point; and an isolated pair of duplicates
    (-5, -1), (30, 30), (30, 30),
    # clusters D (cores (0, -20) and (-5, -20), three borders) and E (core (8, -20), two
    # borders), and T = (4, -20), 4 from (0, -20) and (8, -20) (a tie between clusters), 3
    # neighbours itself.  D has more core points and comes first in row order: the lower cluster
    # number by either numbering (scikit-learn's, by first core point; or by core points, most first)
    (0, -20), (-5, -20), (0, -25), (-8, -16), (-8, -24),
    (4, -20),
    (8, -20), (11, -24), (11, -16),
    # noise within eps (exactly 5) of the border (-8, -24) only
    (-8, -29),
]


def datasets():
    """{name: feature matrix}, rows in file order, as written to the points file"""
    return {
        "retail": StandardScaler().fit_transform(log_features("retail")),
        "wholesale": StandardScaler().fit_transform(log_features("wholesale")),
        "synthetic": np.array(SYNTHETIC, dtype=np.float64),
    }


def distances(X, metric):
    """All pairwise distances, computed directly (not by scikit-learn)"""
    if metric == "euclidean":
        return np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2))
    if metric == "manhattan":
        return np.abs(X[:, None, :] - X[None, :, :]).sum(axis=2)
    if metric == "cosine":
        U = X / np.sqrt((X * X).sum(axis=1))[:, None]
        return 1.0 - U @ U.T
    raise ValueError(metric)


def nearest_core(D, eps, core, sk):
    """uba's rule: labels (sklearn's numbering, -1 noise), ambiguous borders, nearest-core ties,
    and the smallest relative gap, over ambiguous borders, between the nearest core and the nearest
    core of another cluster"""
    near = D <= eps
    lab = np.full(D.shape[0], -1)
    lab[core] = sk[core]
    ambiguous = ties = 0
    gap = np.inf
    cores = np.flatnonzero(core)
    for i in np.flatnonzero(~core):
        c = cores[near[i, cores]]
        if c.size == 0:
            continue
        d = D[i, c]
        if np.unique(sk[c]).size > 1:
            ambiguous += 1
            other = d[sk[c] != sk[c[np.argmin(d)]]].min()
            gap = min(gap, (other - d.min()) / eps)
        best = c[d == d.min()]
        ties += np.unique(sk[best]).size > 1
        lab[i] = sk[best].min()
    return lab, ambiguous, ties, gap


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(DATA, "dbscan_reference.csv"))
    ap.add_argument("--points", default=os.path.join(DATA, "dbscan_points.csv"))
    a = ap.parse_args()
    data = datasets()
    with open(a.points, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["dataset", "row", "features"])
        for name, X in data.items():
            for i, x in enumerate(X):
                w.writerow([name, i + 1, "{" + ",".join(repr(float(v)) for v in x) + "}"])
    print(f"wrote {a.points}")
    print(f"{'case':<20} {'metric':<9} {'eps':>5} {'min':>4} {'n':>5} {'clusters':>8} {'noise':>6} "
          f"{'core':>5} {'ambiguous':>9} {'differ':>6} {'ties':>4} {'gap':>8} {'margin':>8}")
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "row", "is_core", "sklearn_label", "nearest_core_label"])
        for case, dataset, metric, eps, min_samples in CASES:
            X = data[dataset]
            m = DBSCAN(eps=eps, min_samples=min_samples, metric=metric).fit(X)
            sk = m.labels_
            core = np.zeros(X.shape[0], dtype=bool)
            core[m.core_sample_indices_] = True
            D = distances(X, metric)
            # the core points as defined, from the distances computed here: the same as sklearn's
            assert np.array_equal((D <= eps).sum(axis=1) >= min_samples, core), case
            lab, ambiguous, ties, gap = nearest_core(D, eps, core, sk)
            # sklearn: a border point takes the lowest-numbered cluster among its core neighbours
            assert np.array_equal(lab >= 0, sk >= 0), case
            margin = np.abs(D - eps).min() / eps
            for i in range(X.shape[0]):
                w.writerow([case, i + 1, int(core[i]), int(sk[i]), int(lab[i])])
            print(f"{case:<20} {metric:<9} {eps:>5} {min_samples:>4} {X.shape[0]:>5} "
                  f"{sk.max() + 1:>8} {(sk == -1).sum():>6} {core.sum():>5} {ambiguous:>9} "
                  f"{(sk != lab).sum():>6} {ties:>4} {gap:>8.1e} {margin:>8.1e}")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
