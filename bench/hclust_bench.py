#!/usr/bin/python3
"""uba_hclust end to end in SQL against scipy's linkage on the same rows.

    /usr/bin/python3 bench/hclust_bench.py [--rows 5000,20000] [--dims 8] [--linkage ward,average]
        [--repeat 1] [--skip-scipy] [--skip-uba]
        [--dsn "host=/tmp/pgdev port=5499 dbname=bench user=postgres"]

Data, for each row count: --rows x --dims (8) points (seed 7) from 10 Gaussian blobs of unequal
weights and spreads, loaded once into hclust_bench_<rows> (id int, features float8[]) with COPY
(numbers written with repr(), so the table holds exactly the array) and reloaded only when its
comment does not name this data.

Timed for each linkage (euclidean metric), --repeat times, the median kept:
  * scipy: scipy.cluster.hierarchy.linkage(X, method) on the numpy array (the pairwise distances
    included), in a forked child process so that its peak RSS (getrusage ru_maxrss) is this run's;
  * uba: CREATE TABLE hclust_bench_model AS SELECT uba_hclust(features, '{"linkage": ...}'
    ORDER BY id) AS m FROM hclust_bench_<rows>, in a fresh backend whose peak memory (VmHWM) is
    read from /proc when the server runs on this machine.
Then uba_hclust_merges(m) is fetched (untimed) and compared with scipy's Z row by row: whether the
merges are identical (left_id, right_id and size of every step equal Z[:, 0], Z[:, 1], Z[:, 3]),
the first step that differs, and the largest relative difference of the heights (step by step, and
of the sorted heights, which does not depend on the order of equal merges).  Tied heights in
scipy's Z are counted: with ties the order of the merges depends on the solver.
"""
import argparse
import json
import multiprocessing
import os
import resource
import statistics
import sys
import time

import numpy as np
import psycopg2
from scipy.cluster.hierarchy import linkage

from benchlib import connect, backend_hwm_kb, load_features, require_functions

GENERATOR_VERSION = 1  # bump when make_data() changes, so the tables reload
SEED = 7
MODEL = "hclust_bench_model"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.2f}] {msg}", file=sys.stderr, flush=True)


def make_data(rows, dims, seed=SEED, blobs=10):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 6.0, size=(blobs, dims))
    weights = rng.dirichlet(np.full(blobs, 3.0))
    scales = rng.uniform(0.5, 2.0, size=blobs)
    lab = rng.choice(blobs, size=rows, p=weights)
    return centers[lab] + rng.standard_normal((rows, dims)) * scales[lab, None]


# ---------------------------------------------------------------- scipy

def _scipy_child(X, method, conn):
    t0 = time.perf_counter()
    Z = linkage(X, method=method, metric="euclidean")
    t = time.perf_counter() - t0
    conn.send((t, Z, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    conn.close()


def scipy_linkage(X, method):
    """(seconds, Z, peak RSS kB) of linkage() in a forked child process"""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_scipy_child, args=(X, method, child))
    p.start()
    child.close()
    out = parent.recv()
    p.join()
    if p.exitcode != 0:
        raise SystemExit(f"the scipy child process failed (exit code {p.exitcode})")
    return out


# ---------------------------------------------------------------- uba

def uba_run(dsn, table, method):
    """(seconds, backend peak kB, model bytes) of one training in a fresh backend"""
    cur = connect(dsn)
    try:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        cur.execute(f"DROP TABLE IF EXISTS {MODEL}")
        t0 = time.perf_counter()
        cur.execute(f"CREATE TABLE {MODEL} AS SELECT uba_hclust(features, %s::jsonb ORDER BY id) AS m FROM {table}",
                    (json.dumps({"linkage": method}),))
        t = time.perf_counter() - t0
        hwm = backend_hwm_kb(pid)
        cur.execute(f"SELECT length(m) FROM {MODEL}")
        return t, hwm, cur.fetchone()[0]
    finally:
        cur.connection.close()


def uba_merges(cur):
    cur.execute(f"SELECT left_id, right_id, height, size FROM uba_hclust_merges((SELECT m FROM {MODEL})) "
                "ORDER BY step")
    return np.array(cur.fetchall(), dtype=np.float64).reshape(-1, 4)


def compare(U, Z):
    """(identical merges, first differing step or None, max relative height difference step by
    step, the same over the sorted heights)"""
    if U.shape != Z.shape:
        return False, 1, float("nan"), float("nan")
    diff = np.flatnonzero(np.any(U[:, [0, 1, 3]] != Z[:, [0, 1, 3]], axis=1))
    scale = np.maximum(np.abs(Z[:, 2]), np.finfo(float).tiny)
    rel = float(np.max(np.abs(U[:, 2] - Z[:, 2]) / scale))
    rel_sorted = float(np.max(np.abs(np.sort(U[:, 2]) - np.sort(Z[:, 2])) / np.sort(scale)))
    return diff.size == 0, (int(diff[0]) + 1 if diff.size else None), rel, rel_sorted


# ---------------------------------------------------------------- main

def fmt(x, spec=".3f"):
    return "n/a" if x is None else format(x, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", default="5000,20000", help="comma-separated row counts")
    ap.add_argument("--dims", type=int, default=8)
    ap.add_argument("--linkage", default="ward,average", help="comma-separated linkages")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each side; the median is kept")
    ap.add_argument("--dsn", default="host=/tmp/pgdev port=5499 dbname=bench user=postgres")
    ap.add_argument("--skip-scipy", action="store_true")
    ap.add_argument("--skip-uba", action="store_true")
    a = ap.parse_args()

    cur = None
    if not a.skip_uba:
        cur = connect(a.dsn)
        require_functions(cur, ['uba_hclust(float8[], jsonb)', 'uba_hclust_merges(bytea)'])
    results = []
    for rows in (int(r) for r in a.rows.split(",")):
        X = make_data(rows, a.dims)
        table = f"hclust_bench_{rows}"
        if cur is not None:
            if load_features(cur, table, X, f"generator {GENERATOR_VERSION}, {X.shape[0]} x {X.shape[1]}, seed {SEED}"):
                log(f"loaded {X.shape[0]} rows into {table}")
        for method in a.linkage.split(","):
            r = {"rows": rows, "linkage": method}
            Z = U = None
            if not a.skip_scipy:
                runs = []
                for i in range(a.repeat):
                    runs.append(scipy_linkage(X, method))
                    log(f"{rows} {method}: scipy run {i + 1} {runs[-1][0]:.3f} s, peak RSS {runs[-1][2] / 1024:.0f} MB")
                Z = runs[-1][1]
                r.update(scipy=statistics.median(t[0] for t in runs), scipy_rss=max(t[2] for t in runs),
                         ties=int((np.diff(np.sort(Z[:, 2])) == 0).sum()))
            if cur is not None:
                runs = []
                try:
                    for i in range(a.repeat):
                        runs.append(uba_run(a.dsn, table, method))
                        log(f"{rows} {method}: uba run {i + 1} {runs[-1][0]:.3f} s, model {runs[-1][2]} bytes")
                    U = uba_merges(cur)
                except psycopg2.Error as e:
                    # e.g. complete or average linkage beyond uba.max_memory: reported, not fatal
                    r["uba_error"] = (e.pgerror or str(e)).strip().splitlines()[0]
                    log(f"{rows} {method}: uba failed: {r['uba_error']}")
                if U is not None:
                    hwm = [t[1] for t in runs if t[1] is not None]
                    r.update(uba=statistics.median(t[0] for t in runs), uba_hwm=max(hwm) if hwm else None,
                             model=runs[-1][2])
            if Z is not None and U is not None:
                r["same"], r["first_diff"], r["rel"], r["rel_sorted"] = compare(U, Z)
            results.append(r)

    print(f"\n{a.dims} dims, euclidean, median of {a.repeat} run(s)\n")
    print("| rows | linkage | scipy s | uba s | uba / scipy | identical merges | first differing step "
          "| max rel. height diff | same, sorted | tied heights | scipy peak RSS MB | uba backend peak MB "
          "| uba model MB |")
    print("|---:|---|---:|---:|---:|:---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        sc, ub = r.get("scipy"), r.get("uba")
        same = {True: "yes", False: "NO"}.get(r.get("same"), "n/a")
        print(f"| {r['rows']} | {r['linkage']} | {fmt(sc)} | {fmt(ub)} | {fmt(ub / sc if sc and ub else None, '.2f')} "
              f"| {same} | {r.get('first_diff') or '-'} | {fmt(r.get('rel'), '.1e')} | {fmt(r.get('rel_sorted'), '.1e')} "
              f"| {r.get('ties', 'n/a')} | {fmt(r['scipy_rss'] / 1024 if 'scipy_rss' in r else None, '.0f')} "
              f"| {fmt(r['uba_hwm'] / 1024 if r.get('uba_hwm') else None, '.0f')} "
              f"| {fmt(r['model'] / 1e6 if 'model' in r else None, '.2f')} |")
    for r in results:
        if "uba_error" in r:
            print(f"\nuba failed on {r['rows']} rows, {r['linkage']}: {r['uba_error']}")


if __name__ == "__main__":
    main()
