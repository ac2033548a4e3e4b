#!/usr/bin/python3
"""uba_gmm_train end to end in SQL against scikit-learn's GaussianMixture, from the same start.

    /usr/bin/python3 bench/gmm_bench.py [--rows 1000000] [--dims 16] [--k 8] [--cov full]
        [--max-iter 100] [--repeat 1] [--skip-sklearn | --skip-uba]
        [--dsn "host=/tmp/pgdev port=5499 dbname=bench user=postgres"]

Data: rows x dims Gaussian blobs, make_blobs(centers=8, cluster_std=1, random_state=7) (8 centers
whatever --k is), loaded once into gmm_bench(features float8[]) with COPY (reloaded when the table
does not hold that shape); repr() round-trips, so the table holds the array's numbers exactly.

The start is fixed and the same for both: the initial means are the first --k rows, every row is
given responsibility 1 for its nearest initial mean (squared euclidean, ties to the lower index).
tol is 0, so both run all --max-iter rounds of EM (neither converges; the warnings say so).
Timed, alternating, best and median of --repeat:
  * sklearn: GaussianMixture(k, covariance_type, weights_init, means_init, precisions_init,
    tol=0, max_iter, reg_covar=1e-6).fit(X) on the numpy array already in memory; the initial
    parameters (the M-step on the hard responsibilities, as sklearn's _initialize makes them)
    are computed before the clock starts, so sklearn is spared that one M-step of max_iter + 1;
  * uba: SELECT uba_gmm_train(features, k, '{"covariance_type": ..., "max_iter": ..., "tol": 0,
    "init_means": [...]}') FROM gmm_bench (wall clock of the query: reading the rows, the
    nearest initial means, the M-step on them and the EM; one row fetched);
  * of uba's time, its training_ms (first row in to model out), for the record.
Printed: both times, the ratio uba / sklearn (medians), both final lower bounds (uba's from
uba_model_info) and their difference, and the load average before and after.  --skip-sklearn
times uba alone; --skip-uba times sklearn alone and does not connect to the database.
"""
import argparse
import json
import os
import statistics
import time
import warnings

import numpy as np
import psycopg2
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from benchlib import load_features
from gmm_reference import sklearn_start

TABLE = "gmm_bench"
CENTERS = 8
SEED = 7
REG_COVAR = 1e-6


def make_data(rows, dims):
    X, _ = make_blobs(n_samples=rows, n_features=dims, centers=CENTERS, cluster_std=1.0,
                      random_state=SEED)
    return X


def hard_responsibilities(X, means):
    """Each row all in its nearest mean (squared euclidean, ties to the lower index)"""
    best = np.zeros(X.shape[0], dtype=np.int64)
    bestd = np.full(X.shape[0], np.inf)
    for c, m in enumerate(means):
        dist = ((X - m) ** 2).sum(axis=1)
        nearer = dist < bestd
        best[nearer] = c
        bestd[nearer] = dist[nearer]
    resp = np.zeros((X.shape[0], len(means)))
    resp[np.arange(X.shape[0]), best] = 1.0
    return resp


def loadavg():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--dims", type=int, default=16)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--cov", default="full", choices=["full", "diag", "spherical", "tied"])
    ap.add_argument("--max-iter", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--skip-sklearn", action="store_true")
    ap.add_argument("--skip-uba", action="store_true", help="sklearn alone; no database")
    ap.add_argument("--dsn", default="host=/tmp/pgdev port=5499 dbname=bench user=postgres")
    a = ap.parse_args()

    print(f"load average before: {loadavg()} ({os.cpu_count()} CPUs)")
    X = make_data(a.rows, a.dims)
    init = X[:a.k]
    assert len(np.unique(init, axis=0)) == a.k, "the first k rows are not distinct"
    opts = {"covariance_type": a.cov, "max_iter": a.max_iter, "tol": 0, "reg_covar": REG_COVAR,
            "init_means": init.tolist()}          # json.dumps writes repr()s: the same doubles
    print(f"{a.rows} x {a.dims}, k {a.k}, {a.cov}, {a.max_iter} iterations, tol 0")
    if not a.skip_uba:
        conn = psycopg2.connect(a.dsn)
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("CREATE EXTENSION IF NOT EXISTS uba")
        t0 = time.perf_counter()
        loaded = load_features(cur, TABLE, X, f"{X.shape[0]}x{X.shape[1]} blobs {CENTERS} seed {SEED}")
        print(f"table {TABLE} {'loaded' if loaded else 'ready'} in {time.perf_counter() - t0:.1f} s")
    if not a.skip_sklearn:
        weights, means, precisions = sklearn_start(X, hard_responsibilities(X, init), a.cov)
    sk, ub, ms = [], [], []
    sk_lb = uba_lb = None
    for _ in range(a.repeat):
        if not a.skip_sklearn:
            gm = GaussianMixture(n_components=a.k, covariance_type=a.cov, weights_init=weights,
                                 means_init=means, precisions_init=precisions, tol=0,
                                 max_iter=a.max_iter, reg_covar=REG_COVAR)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                t0 = time.perf_counter()
                gm.fit(X)
                sk.append(time.perf_counter() - t0)
            sk_lb = gm.lower_bound_
        if a.skip_uba:
            continue
        t0 = time.perf_counter()
        cur.execute(f"SELECT uba_model_info(m) FROM (SELECT uba_gmm_train(features, %s, %s::jsonb) "
                    f"AS m FROM {TABLE}) s", (a.k, json.dumps(opts)))
        info = cur.fetchone()[0]
        ub.append(time.perf_counter() - t0)
        ms.append(info["training_ms"] / 1000)
        uba_lb = info["lower_bound"]
    print(f"{'':<28} {'best s':>8} {'median s':>9}")
    if sk:
        print(f"{'sklearn GaussianMixture.fit':<28} {min(sk):>8.3f} {statistics.median(sk):>9.3f}")
        print(f"sklearn: {gm.n_iter_} iterations, lower bound {sk_lb!r}")
    if ub:
        conn.close()
        print(f"{'uba_gmm_train in SQL':<28} {min(ub):>8.3f} {statistics.median(ub):>9.3f}")
        print(f"{'  of which training_ms':<28} {min(ms):>8.3f} {statistics.median(ms):>9.3f}")
        print(f"uba: {info['iterations']} iterations, lower bound {uba_lb!r}")
    if sk and ub:
        print(f"uba / sklearn (medians): {statistics.median(ub) / statistics.median(sk):.2f}")
        print(f"lower bounds: difference {abs(uba_lb - sk_lb):.1e}, "
              f"relative {abs(uba_lb - sk_lb) / abs(sk_lb):.1e}")
    print(f"load average after: {loadavg()}")


if __name__ == "__main__":
    main()
