#!/usr/bin/python3
"""uba_pca end to end in SQL against scikit-learn's PCA on the same rows.

    /usr/bin/python3 bench/pca_bench.py [--rows 1000000] [--dims 50] [--repeat 3]
        [--dsn "host=/tmp/pgdev port=5499 dbname=bench user=postgres"]

Data: rows x dims correlated Gaussian features (a random mixing of independent columns of
decreasing spread, seed 7), loaded once into pca_bench(features float8[]) with COPY (reloaded
when the table does not hold that shape).  Timed, alternating, best and median of --repeat:
  * sklearn: PCA(svd_solver='full').fit(X) on the numpy array already in memory (issue 21's
    reference: an SVD of the centred rows);
  * uba: SELECT uba_pca(features) FROM pca_bench (wall clock of the query; rows fetched: one);
  * of uba's time, its training_ms (first row in to model out), for the record;
  * uba_pca_moments: SELECT uba_pca_moments(features) FROM pca_bench with the default plan
    (parallel: each worker folds its rows into moments) and with
    max_parallel_workers_per_gather = 0, with the backend's peak memory (VmHWM) after each.
Checks the explained variances against scikit-learn's (largest relative difference).
"""
import argparse
import statistics
import time

import numpy as np
import psycopg2
from sklearn.decomposition import PCA

from benchlib import backend_hwm_kb, load_features

TABLE = "pca_bench"


def make_data(rows, dims):
    rng = np.random.default_rng(7)
    Z = rng.standard_normal((rows, dims)) * np.linspace(3.0, 0.1, dims)
    M = rng.standard_normal((dims, dims))
    return Z @ M + rng.standard_normal(dims)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--dims", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dsn", default="host=/tmp/pgdev port=5499 dbname=bench user=postgres")
    a = ap.parse_args()

    X = make_data(a.rows, a.dims)
    conn = psycopg2.connect(a.dsn)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS uba")
    t0 = time.perf_counter()
    load_features(cur, TABLE, X, f"{a.rows}x{a.dims} seed 7")
    print(f"{a.rows} x {a.dims}; table ready in {time.perf_counter() - t0:.1f} s")
    # repr() round-trips, so the table holds the array's numbers exactly
    sk, ub, ms, mo, mo1 = [], [], [], [], []
    hwm = {}
    ref = None
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        p = PCA(svd_solver="full").fit(X)
        sk.append(time.perf_counter() - t0)
        ref = p.explained_variance_
        t0 = time.perf_counter()
        cur.execute(f"SELECT m, (uba_model_info(m) ->> 'training_ms')::float8 FROM (SELECT uba_pca(features) AS m FROM {TABLE}) s")
        model, train_ms = cur.fetchone()
        ub.append(time.perf_counter() - t0)
        ms.append(train_ms / 1000)
        for times, workers in ((mo, None), (mo1, 0)):
            # a fresh backend each, so that its peak memory is this query's
            c2 = psycopg2.connect(a.dsn)
            c2.autocommit = True
            k = c2.cursor()
            if workers is not None:
                k.execute(f"SET max_parallel_workers_per_gather = {workers}")
            t0 = time.perf_counter()
            k.execute(f"SELECT uba_pca_moments(features) FROM {TABLE}")
            mmodel = k.fetchone()[0]
            times.append(time.perf_counter() - t0)
            k.execute("SELECT pg_backend_pid()")
            hwm["parallel" if workers is None else "serial"] = backend_hwm_kb(k.fetchone()[0])
            c2.close()
    cur.execute("SELECT array_agg(explained_variance ORDER BY component) FROM uba_pca_components(%s)", (model,))
    var = np.array(cur.fetchone()[0])
    cur.execute("SELECT array_agg(explained_variance ORDER BY component) FROM uba_pca_components(%s)", (mmodel,))
    mvar = np.array(cur.fetchone()[0])
    conn.close()
    rel = np.max(np.abs(var / ref - 1))
    mrel = np.max(np.abs(mvar / ref - 1))
    print(f"{'':<28} {'best s':>8} {'median s':>9}")
    print(f"{'sklearn PCA(full).fit':<28} {min(sk):>8.3f} {statistics.median(sk):>9.3f}")
    print(f"{'uba_pca in SQL':<28} {min(ub):>8.3f} {statistics.median(ub):>9.3f}")
    print(f"{'  of which training_ms':<28} {min(ms):>8.3f} {statistics.median(ms):>9.3f}")
    print(f"{'uba_pca_moments, parallel':<28} {min(mo):>8.3f} {statistics.median(mo):>9.3f}")
    print(f"{'uba_pca_moments, serial':<28} {min(mo1):>8.3f} {statistics.median(mo1):>9.3f}")
    print(f"uba / sklearn (medians): {statistics.median(ub) / statistics.median(sk):.2f}; "
          f"moments {statistics.median(mo) / statistics.median(sk):.2f} parallel, "
          f"{statistics.median(mo1) / statistics.median(sk):.2f} serial")
    print(f"explained variances: largest relative difference {rel:.2e} (uba_pca), {mrel:.2e} (uba_pca_moments)")
    print("backend peak memory (VmHWM) of the moments runs: " +
          ", ".join(f"{k} {v / 1024:.0f} MB" if v else f"{k} unknown" for k, v in hwm.items()))


if __name__ == "__main__":
    main()
