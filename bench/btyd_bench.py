#!/usr/bin/python3
"""Speed of the BG/NBD fit: uba_bgnbd_train against scipy on the same customers, side by side.

    /usr/bin/python3 bench/btyd_bench.py [--host /tmp/pgdev] [--port 5499] [--dbname bench] [--repeat 3]

The customers: test/data/retail_btyd.csv (Online Retail's 4,372 summaries in days), and the same
summaries with T (and nothing else) shifted by 0 .. 22 days, 100,556 customers.  The reference is
bench/btyd_reference.py's vectorised log-likelihood and analytic gradient (numpy, scipy.special)
minimised by one L-BFGS-B run from the start uba uses (r = a = b = 1, alpha = the mean T; log
parameters, the mean negative log-likelihood, gtol 1e-10) - one start, not the reference's nine,
so both sides do one fit.  uba: SELECT uba_bgnbd_train(frequency, recency, t) over a table holding
the same rows (loaded before timing), the query's wall time.  Runs alternate, best of --repeat.
Both fits are checked to agree (parameters within 1e-5 relative, log-likelihoods within 1e-6).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import psycopg2
from scipy import optimize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from btyd_reference import bgnbd_ll  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(shifts):
    rows = np.genfromtxt(os.path.join(ROOT, "test/data/retail_btyd.csv"), delimiter=",", names=True)
    x, tx, T = rows["frequency"], rows["recency"], rows["t"]
    return (np.concatenate([x] * shifts), np.concatenate([tx] * shifts),
            np.concatenate([T + k for k in range(shifts)]))


def scipy_fit(x, tx, T):
    n = len(x)
    th0 = np.log([1.0, T.mean(), 1.0, 1.0])

    def f(th):
        ll, g = bgnbd_ll(th, x, tx, T, grad=True)
        return -ll.sum() / n, -g.sum(axis=0) / n
    t0 = time.perf_counter()
    res = optimize.minimize(f, th0, jac=True, method="L-BFGS-B",
                            options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 10000})
    return time.perf_counter() - t0, np.exp(res.x), -res.fun * n


def uba_fit(cur, table):
    t0 = time.perf_counter()
    cur.execute(f"SELECT uba_model_info(uba_bgnbd_train(frequency, recency, t)) FROM {table}")
    info = cur.fetchone()[0]
    dt = time.perf_counter() - t0
    if isinstance(info, str):
        info = json.loads(info)
    p = info["parameters"]
    return dt, np.array([p["r"], p["alpha"], p["a"], p["b"]]), info["log_likelihood"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="/tmp/pgdev")
    ap.add_argument("--port", default="5499")
    ap.add_argument("--dbname", default="bench")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    conn = psycopg2.connect(host=args.host, port=args.port, dbname=args.dbname, user="postgres")
    conn.autocommit = True
    cur = conn.cursor()
    print("| customers | distinct summaries | scipy L-BFGS-B s | uba s | uba / scipy | largest parameter difference | log-likelihoods |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    bad = 0
    for shifts in (1, 23):
        x, tx, T = load(shifts)
        table = f"btyd_bench_{shifts}"
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} (frequency float8, recency float8, t float8)")
        cur.executemany(f"INSERT INTO {table} VALUES (%s, %s, %s)", list(zip(x.tolist(), tx.tolist(), T.tolist())))
        cur.execute(f"ANALYZE {table}")
        best_s = best_u = float("inf")
        for _ in range(args.repeat):
            ts, ps, lls = scipy_fit(x, tx, T)
            tu, pu, llu = uba_fit(cur, table)
            best_s, best_u = min(best_s, ts), min(best_u, tu)
        diff = float(np.max(np.abs(pu / ps - 1)))
        same = diff < 1e-5 and abs(llu - lls) < 1e-6 * abs(lls)
        bad += not same
        distinct = len(set(zip(x.tolist(), tx.tolist(), T.tolist())))
        print(f"| {len(x):,} | {distinct:,} | {best_s:.3f} | {best_u:.3f} | {best_u / best_s:.2f} | {diff:.1e} | "
              f"{llu:.6f} / {lls:.6f}{'' if same else ' DIFFER'} |")
        cur.execute(f"DROP TABLE {table}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
