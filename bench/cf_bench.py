#!/usr/bin/python3
"""Recommendation speed: uba_cf_train (ALS) and uba_cf_recommend on MovieLens-1M-shaped data.

Requirement (issue 4): ALS with 64 factors and 15 iterations, end to end in SQL from a table, at
most 1.5 s on a 2-core machine for 6,040 users, 3,706 items and about 1,000,000 interactions
(--scale 1), at most 20 s at 20x that size (--scale 20); uba_recommend(user, 10) at most 0.5 ms
per user over all users in one query.

What it does:
  1. Generates the synthetic events of bench/cf_synthetic.py (power-law item popularity, sparse
     unsorted ids, weights 1..5) for --scale and --seed and loads them into cf_bench_<scale>
     (user_id bigint, item_id bigint, weight float8) with COPY, unless that table already holds
     them (keyed by its comment).
  2. Times, --repeat times after one warm-up, SELECT uba_cf_train(user_id, item_id, weight,
     '{"factors": 64, "iterations": 15}') FROM the table (serial plan, end to end from the
     client), and the same with 1 iteration, to split the time into the fixed part (reading,
     sorting, building the sparse rows) and the cost per iteration; then method ease (up to
     20,000 items; requirement: under 1 s at scale 1).
  3. Times recommending 10 items for every user in one query (LATERAL), and single calls from
     the client, each its own query, with the model read from a table (so the backend keeps it
     parsed across the calls, as for uba_recommend).
Medians are printed as markdown.

    /usr/bin/python3 bench/cf_bench.py [--scale 1] [--repeat 3] [--dsn DSN]
"""
import argparse
import io
import os
import statistics
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cf_synthetic  # noqa: E402
from benchlib import connect, timed  # noqa: E402


def load(cur, table, scale, seed):
    key = f"cf_synthetic scale={scale} seed={seed}"
    cur.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", (table,))
    if cur.fetchone()[0] == key:
        return
    print(f"generating and loading {key}", flush=True)
    data = cf_synthetic.generate(scale, seed)
    users, items, weights = data["user"], data["item"], data["weight"]
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TABLE {table} (user_id bigint, item_id bigint, weight float8)")
    chunk = 1 << 20
    for start in range(0, len(users), chunk):
        buf = io.StringIO()
        for u, i, w in zip(users[start:start + chunk], items[start:start + chunk],
                           weights[start:start + chunk]):
            buf.write(f"{u}\t{i}\t{w}\n")
        buf.seek(0)
        cur.copy_expert(f"COPY {table} FROM STDIN", buf)
    cur.execute(f"VACUUM ANALYZE {table}")
    cur.execute(f"COMMENT ON TABLE {table} IS %s", (key,))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dsn", default="")
    args = ap.parse_args()

    cur = connect(args.dsn)
    table = "cf_bench_" + str(args.scale).replace(".", "_")
    load(cur, table, args.scale, args.seed)
    cur.execute("SET max_parallel_workers_per_gather = 0")
    cur.execute(f"SELECT count(*), count(DISTINCT user_id), count(DISTINCT item_id) FROM {table}")
    n, nusers, nitems = cur.fetchone()

    # the model stays in the server (as when it is saved to the catalog): length() only
    train = f"SELECT length(uba_cf_train(user_id, item_id, weight, %s)) FROM {table}"
    full, one = [], []
    for rep in range(args.repeat + 1):
        t_full, _ = timed(cur, train, ('{"factors": 64, "iterations": 15}',))
        t_one, _ = timed(cur, train, ('{"factors": 64, "iterations": 1}',))
        if rep > 0:
            full.append(t_full)
            one.append(t_one)
    cur.execute("DROP TABLE IF EXISTS cf_bench_model")
    cur.execute(f"CREATE TABLE cf_bench_model AS SELECT uba_cf_train(user_id, item_id, weight, "
                f"'{{\"factors\": 64, \"iterations\": 15}}') AS m FROM {table}")
    cur.execute("SELECT uba_model_info(m) FROM cf_bench_model")
    info = cur.fetchone()[0]
    ease = []
    if nitems <= 20000:
        for rep in range(args.repeat + 1):
            t, _ = timed(cur, train, ('{"method": "ease"}',))
            if rep > 0:
                ease.append(t)
    per_iter = (statistics.median(full) - statistics.median(one)) / 14
    fixed = statistics.median(one) - per_iter

    all_users = []
    for rep in range(args.repeat + 1):
        t, _ = timed(cur, f"SELECT count(*) FROM (SELECT DISTINCT user_id FROM {table}) u, "
                          "LATERAL uba_cf_recommend((SELECT m FROM cf_bench_model), u.user_id, 10) r")
        if rep > 0:
            all_users.append(t)
    cur.execute(f"SELECT DISTINCT user_id FROM {table} ORDER BY 1 LIMIT 200")
    some = [r[0] for r in cur.fetchall()]
    single = []
    for u in some:
        t, _ = timed(cur, "SELECT * FROM uba_cf_recommend((SELECT m FROM cf_bench_model), %s, 10)", (u,))
        single.append(t)

    print(f"\n{n:,} events, {nusers:,} users, {nitems:,} items (cf_synthetic scale {args.scale}, "
          f"seed {args.seed}); model {info['size_bytes'] / 1e6:.1f} MB; medians of {args.repeat}\n")
    print("| measurement | time |")
    print("|---|---:|")
    print(f"| uba_cf_train, 64 factors, 15 iterations (CG), end to end | {statistics.median(full):.3f} s |")
    print(f"| of which fixed: reading, sorting, sparse rows, loss | {fixed:.3f} s |")
    print(f"| per iteration (users and items) | {1000 * per_iter:.1f} ms |")
    if ease:
        print(f"| uba_cf_train, method ease (lambda 500, 200 weights kept per item), end to end | "
              f"{statistics.median(ease):.3f} s |")
    print(f"| recommend 10 for every user, one query | {statistics.median(all_users):.3f} s "
          f"({1000 * statistics.median(all_users) / nusers:.3f} ms per user) |")
    print(f"| single uba_cf_recommend call from the client, model read from a table (kept parsed by the backend), p50 | "
          f"{1000 * statistics.median(single):.2f} ms |")
    print(f"\nloss {info['loss']:.6f}; runs: train {', '.join(f'{t:.3f}' for t in full)} s")


if __name__ == "__main__":
    main()
