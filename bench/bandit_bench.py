#!/usr/bin/python3
"""uba_bandit_choose latency: is a LinUCB choice among 20 actions with 20 context features within
0.5 ms (p50) with the policy cached?  Side by side: the same query's round trip without the
choice (SELECT of the context), and NumPy scoring the same 20 actions from precomputed inverses
in this process (no database).  Also hybrid LinUCB (10 of the 20 features shared) with a context
per action (a 20 x 20 float8[][]), and its round trip; and the server's own time per choice,
2,000 choices in one query over a table of contexts, less the same query without the choice.  The policy is trained on a synthetic log of --rows decisions and
read from a table, as a catalog model would be.

    /usr/bin/python3 bench/bandit_bench.py [--rows 100000] [--calls 2000] [--dsn DSN]
"""
import argparse
import statistics
import time

import numpy as np

from benchlib import connect

D, K = 20, 20


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", default="")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--calls", type=int, default=2000)
    a = ap.parse_args()
    cur = connect(a.dsn)
    cur.execute("DROP TABLE IF EXISTS bandit_bench_policy")
    cur.execute("SELECT setseed(0.7)")
    cur.execute(f"""CREATE TABLE bandit_bench_policy AS
        SELECT uba_bandit_train((g % {K})::bigint, x, x[1 + g % {D}] + random(), 1.0 / {K}) AS m
          FROM (SELECT g, ARRAY(SELECT random() - 0.5 FROM generate_series(1, {D}) WHERE g > 0) AS x
                  FROM generate_series(1, {a.rows}) g) s""")
    cur.execute(f"""ALTER TABLE bandit_bench_policy ADD COLUMN h bytea""")
    cur.execute(f"""UPDATE bandit_bench_policy SET h = (
        SELECT uba_bandit_train((g % {K})::bigint, x, x[1 + g % {D}] + random(), 1.0 / {K}, '{{"shared_features": 10}}'::jsonb)
          FROM (SELECT g, ARRAY(SELECT random() - 0.5 FROM generate_series(1, {D}) WHERE g > 0) AS x
                  FROM generate_series(1, {a.rows}) g) s)""")
    rng = np.random.default_rng(1)
    actions = list(range(K))
    q_choose = "SELECT c.action, c.propensity FROM bandit_bench_policy p, uba_bandit_choose(p.m, %s::float8[], %s::bigint[]) c"
    q_base = "SELECT %s::float8[], %s::bigint[] FROM bandit_bench_policy p"
    q_hybrid = "SELECT c.action, c.propensity FROM bandit_bench_policy p, uba_bandit_choose(p.h, %s::float8[], %s::bigint[]) c"
    times = {"choose": [], "round trip": [], "hybrid, a context per action": [], "its round trip": []}
    for i in range(a.calls + 50):
        x = list(rng.normal(size=D))
        xs = rng.normal(size=(K, D)).tolist()
        for name, q, ctx in (("choose", q_choose, x), ("round trip", q_base, x),
                             ("hybrid, a context per action", q_hybrid, xs), ("its round trip", q_base, xs)):
            t0 = time.perf_counter()
            cur.execute(q, (ctx, actions))
            cur.fetchall()
            if i >= 50:
                times[name].append(time.perf_counter() - t0)
    # NumPy: theta and A^-1 precomputed per action, one choice = K (theta . x + sqrt(x' Ainv x))
    A = [np.eye(D) + np.cov(rng.normal(size=(200, D)).T) * 200 for _ in range(K)]
    Ainv = [np.linalg.inv(m) for m in A]
    theta = [rng.normal(size=D) for _ in range(K)]
    np_times = []
    for i in range(a.calls):
        x = rng.normal(size=D)
        t0 = time.perf_counter()
        scores = [theta[k] @ x + np.sqrt(x @ Ainv[k] @ x) for k in range(K)]
        int(np.argmax(scores))
        np_times.append(time.perf_counter() - t0)
    print(f"{K} actions, {D} features, policy trained on {a.rows:,} decisions; {a.calls} calls each\n")
    print("| what | p50 ms | p95 ms |")
    print("|---|---:|---:|")
    for name, ts in list(times.items()) + [("NumPy scoring in process", np_times)]:
        ts = sorted(ts)
        print(f"| {name} | {1000 * statistics.median(ts):.3f} | {1000 * ts[int(0.95 * len(ts))]:.3f} |")
    print(f"\nchoose minus round trip, p50: {1000 * (statistics.median(times['choose']) - statistics.median(times['round trip'])):.3f} ms")
    print(f"hybrid minus its round trip, p50: {1000 * (statistics.median(times['hybrid, a context per action']) - statistics.median(times['its round trip'])):.3f} ms")
    # in the server: a query over a table of contexts, with and without the choice
    cur.execute(f"""CREATE TEMP TABLE bandit_bench_ctx AS
        SELECT g, ARRAY(SELECT random() - 0.5 FROM generate_series(1, {D}) WHERE g > 0) AS x,
               ARRAY(SELECT ARRAY(SELECT random() - 0.5 FROM generate_series(1, {D}) WHERE g > 0 AND k > 0)
                       FROM generate_series(1, {K}) k) AS xs
          FROM generate_series(1, {a.calls}) g""")
    acts = "ARRAY(SELECT generate_series(0, %d))::bigint[]" % (K - 1)
    server = {}
    for name, q in (("choose", f"SELECT count(c.action) FROM bandit_bench_policy p, bandit_bench_ctx t, LATERAL uba_bandit_choose(p.m, t.x, {acts}) c"),
                    ("hybrid, a context per action", f"SELECT count(c.action) FROM bandit_bench_policy p, bandit_bench_ctx t, LATERAL uba_bandit_choose(p.h, t.xs, {acts}) c"),
                    ("base", "SELECT count(t.xs[1][1] + t.x[1]) FROM bandit_bench_policy p, bandit_bench_ctx t")):
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            cur.execute(q)
            cur.fetchall()
            runs.append(time.perf_counter() - t0)
        server[name] = statistics.median(runs) / a.calls
    print(f"in the server, per choice (median of 5 queries of {a.calls} choices, less the query without them): "
          f"choose {1000 * (server['choose'] - server['base']):.4f} ms, "
          f"hybrid with a context per action {1000 * (server['hybrid, a context per action'] - server['base']):.4f} ms")
    cur.execute("DROP TABLE bandit_bench_policy")


if __name__ == "__main__":
    main()
