#!/usr/bin/python3
"""Reference hierarchical clusterings from scipy, for uba_hclust, uba_hclust_merges and uba_hclust_cut.

    /usr/bin/python3 bench/hclust_reference.py [--out test/data/hclust_reference.csv]
        [--points test/data/hclust_points.csv] [--cuts test/data/hclust_cuts.csv]

Data sets (written to --points: dataset, leaf (0-based position, the order to give uba_hclust:
ORDER BY leaf), features (an array literal "{x1,...}" of Python repr()s, so ::float8[] reads
exactly the doubles used here)):
  * wholesale200: the first 200 rows of test/data/wholesale.csv, ln(1 + x) of the six spend
    columns, then StandardScaler over those 200 rows (population standard deviation);
  * retail60: the first 60 rows of test/data/retail_rfm.csv, [ln(1 + recency),
    ln(1 + frequency), ln(1 + max(monetary, 0))], then StandardScaler over those 60 rows.
Cases, named dataset_linkage_metric (uba_hclust options {"linkage": ..., "metric": ...}):
  wholesale200 with ward, complete, average and single (euclidean), average with manhattan,
  complete with cosine; retail60 with ward.

Reference: Z = scipy.cluster.hierarchy.linkage(X, linkage, metric) (manhattan is scipy's
"cityblock").  Written to --out, one row per merge: case, step (1..n-1), left = Z[i,0],
right = Z[i,1] (leaves 0..n-1, the cluster made at step s is n + s - 1; scipy puts the smaller id
left), height = Z[i,2], size = Z[i,3].  Written to --cuts, for k in 2, 3, 5: case, k, leaf,
cluster = fcluster(Z, k, 'maxclust') (numbered 1..k, but not necessarily as uba numbers them:
compare partitions).

Checked and printed per case: tied merge heights (equal heights make the order of the merges
depend on the solver; every case here has none) and the smallest relative gap between consecutive
heights; that a plain O(n^3) Lance-Williams implementation here gives the same merges (ids and
sizes) and heights within 1e-12 relative (so the answer does not depend on scipy's nearest-neighbour
chain or minimum spanning tree); that each cut has k clusters and is the partition left by undoing
the last k - 1 merges.
"""
import argparse
import csv
import os

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist, squareform
from sklearn.preprocessing import StandardScaler

from benchlib import log_features

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "test", "data")
SCIPY_METRIC = {"euclidean": "euclidean", "manhattan": "cityblock", "cosine": "cosine"}
CASES = [  # (dataset, linkage, metric)
    ("wholesale200", "ward", "euclidean"),
    ("wholesale200", "complete", "euclidean"),
    ("wholesale200", "average", "euclidean"),
    ("wholesale200", "single", "euclidean"),
    ("wholesale200", "average", "manhattan"),
    ("wholesale200", "complete", "cosine"),
    ("retail60", "ward", "euclidean"),
]
KS = (2, 3, 5)


def datasets():
    """{name: feature matrix}, rows in leaf order"""
    return {"wholesale200": StandardScaler().fit_transform(log_features("wholesale", 200)),
            "retail60": StandardScaler().fit_transform(log_features("retail", 60))}


def naive_linkage(X, method, metric):
    """The textbook algorithm: merge the closest pair, update distances by Lance-Williams;
    rows as scipy's Z (smaller id left, new cluster n + step)"""
    n = X.shape[0]
    D = squareform(pdist(X, metric))
    np.fill_diagonal(D, np.inf)
    ids = list(range(n))
    size = np.ones(n)
    alive = np.ones(n, dtype=bool)
    Z = []
    for step in range(n - 1):
        M = np.where(alive[:, None] & alive[None, :], D, np.inf)
        i, j = np.unravel_index(np.argmin(M), M.shape)
        d = D[i, j]
        ni, nj = size[i], size[j]
        k = alive.copy()
        k[[i, j]] = False
        if method == "single":
            new = np.minimum(D[i], D[j])
        elif method == "complete":
            new = np.maximum(D[i], D[j])
        elif method == "average":
            new = (ni * D[i] + nj * D[j]) / (ni + nj)
        elif method == "ward":
            nk = size
            new = np.sqrt(((ni + nk) * D[i] ** 2 + (nj + nk) * D[j] ** 2 - nk * d * d) / (ni + nj + nk))
        new = np.where(k, new, np.inf)
        Z.append([min(ids[i], ids[j]), max(ids[i], ids[j]), d, ni + nj])
        D[i, :] = new
        D[:, i] = new
        D[i, i] = np.inf
        alive[j] = False
        size[i] = ni + nj
        ids[i] = n + step
    return np.array(Z)


def cut(Z, n, k):
    """Partition left by the first n - k merges, as a canonical labelling"""
    parent = list(range(2 * n - 1))

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x
    for s in range(n - k):
        parent[int(Z[s, 0])] = parent[int(Z[s, 1])] = n + s
    return canonical([find(x) for x in range(n)])


def canonical(labels):
    first = {}
    return [first.setdefault(x, len(first)) for x in labels]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(DATA, "hclust_reference.csv"))
    ap.add_argument("--points", default=os.path.join(DATA, "hclust_points.csv"))
    ap.add_argument("--cuts", default=os.path.join(DATA, "hclust_cuts.csv"))
    a = ap.parse_args()
    data = datasets()
    with open(a.points, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["dataset", "leaf", "features"])
        for name, X in data.items():
            for i, x in enumerate(X):
                w.writerow([name, i, "{" + ",".join(repr(float(v)) for v in x) + "}"])
    print(f"wrote {a.points}")
    print(f"{'case':<32} {'n':>4} {'tied heights':>12} {'min gap':>9} {'naive':>6} {'top height':>11}"
          f" {'cut sizes (k = ' + ', '.join(map(str, KS)) + ')'}")
    bad = 0
    with open(a.out, "w", newline="") as f, open(a.cuts, "w", newline="") as fc:
        w = csv.writer(f, lineterminator="\n")
        wc = csv.writer(fc, lineterminator="\n")
        w.writerow(["case", "step", "left", "right", "height", "size"])
        wc.writerow(["case", "k", "leaf", "cluster"])
        for dataset, method, metric in CASES:
            case = f"{dataset}_{method}_{metric}"
            X = data[dataset]
            n = X.shape[0]
            Z = linkage(X, method=method, metric=SCIPY_METRIC[metric])
            h = Z[:, 2]
            ties = int((np.diff(h) == 0).sum())
            gap = float((np.diff(h) / h[1:]).min())
            N = naive_linkage(X, method, SCIPY_METRIC[metric])
            same = (np.array_equal(N[:, [0, 1, 3]], Z[:, [0, 1, 3]])
                    and np.allclose(N[:, 2], h, rtol=1e-12, atol=0))
            bad += ties > 0 or not same
            for s in range(n - 1):
                w.writerow([case, s + 1, int(Z[s, 0]), int(Z[s, 1]), repr(float(Z[s, 2])), int(Z[s, 3])])
            sizes = []
            for k in KS:
                lab = fcluster(Z, k, "maxclust")
                assert len(set(lab)) == k and canonical(lab) == cut(Z, n, k), (case, k)
                sizes.append("/".join(map(str, sorted(np.bincount(lab)[1:], reverse=True))))
                for leaf in range(n):
                    wc.writerow([case, k, leaf, int(lab[leaf])])
            print(f"{case:<32} {n:>4} {ties:>12} {gap:>9.1e} {'same' if same else 'DIFF':>6} "
                  f"{h[-1]:>11.6f} {'  '.join(sizes)}")
    print(f"wrote {a.out}\nwrote {a.cuts}")
    if bad:
        raise SystemExit(f"{bad} case(s) with tied heights or solver-dependent merges")


if __name__ == "__main__":
    main()
