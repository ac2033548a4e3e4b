#!/usr/bin/python3
"""Reference k-means inertias from scikit-learn, compared with uba_kmeans.

Reads the committed test data (test/data/wholesale.csv, test/data/retail_rfm.csv),
builds the features, runs scikit-learn KMeans(n_clusters=k, n_init=10) after
StandardScaler for k = 3..8, writes test/data/kmeans_reference.csv and, unless
--no-uba, trains uba_kmeans on the same CSV rows in a running server and prints
a comparison table.

Features (the same in test/segment_kmeans_sklearn.sql):
  wholesale: ln of Fresh, Milk, Grocery, Frozen, Detergents_Paper, Delicassen
  retail:    recency, ln(1 + frequency), ln(1 + monetary)
both standardized (population standard deviation, as StandardScaler and uba's
"standardize": true); inertias are in the standardized space.

The reference column sklearn_inertia is KMeans(n_init=10, random_state=0);
sklearn_best_inertia / sklearn_worst_inertia are the best and worst over
random_state 0..R-1 (--random-states, default 10), to show how much the
"best of 10 restarts" itself varies.

uba is trained with {"n_init": 10, "standardize": true, "seed": s} for every s
in --uba-seeds (default 0-9), one model per query, as in the test (uba sorts
the rows into a canonical order first, so the plan does not matter).

Usage (from the project root):
  PGHOST=/var/run/postgresql PGPORT=5440 PGDATABASE=ref_dev PGUSER=postgres \\
      /usr/bin/python3 bench/kmeans_reference.py
  /usr/bin/python3 bench/kmeans_reference.py --port 5440 --dbname ref_dev --user postgres
  /usr/bin/python3 bench/kmeans_reference.py --no-uba      # only the reference file
"""
import argparse
import csv
import os
import sys
import time

import numpy as np
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "test", "data")
KS = range(3, 9)
N_INIT = 10
TOLERANCE = 0.005           # uba may be at most 0.5% above sklearn_inertia

WHOLESALE_SPEND = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]

# Table definitions and SQL feature expressions; must match test/segment_kmeans_sklearn.sql
DATASETS = {
    "wholesale": {
        "file": "wholesale.csv",
        "table": "ref_wholesale",
        "ddl": "channel int, region int, fresh float8, milk float8, grocery float8, "
               "frozen float8, detergents_paper float8, delicassen float8",
        "features": "ARRAY[ln(fresh), ln(milk), ln(grocery), ln(frozen), "
                    "ln(detergents_paper), ln(delicassen)]",
    },
    "retail": {
        "file": "retail_rfm.csv",
        "table": "ref_retail",
        "ddl": "customer_id int, recency float8, frequency float8, monetary float8",
        "features": "ARRAY[recency, ln(1 + frequency), ln(1 + monetary)]",
    },
}


def read_csv(name):
    """Header and rows of a committed CSV, every value as float"""
    with open(os.path.join(DATA, name), newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array(rows[1:], dtype=np.float64)


def features(dataset):
    """Unstandardized feature matrix of a dataset, rows in CSV order"""
    header, a = read_csv(DATASETS[dataset]["file"])
    col = {h: i for i, h in enumerate(header)}
    if dataset == "wholesale":
        assert a.shape == (440, 8), a.shape
        return np.log(a[:, [col[c] for c in WHOLESALE_SPEND]])
    assert a.shape[1] == 4 and a.shape[0] > 4000, a.shape
    return np.column_stack([a[:, col["recency"]],
                            np.log1p(a[:, col["frequency"]]),
                            np.log1p(a[:, col["monetary"]])])


def sklearn_reference(random_states):
    """{(dataset, k): (inertia at random_state 0, best, worst)}"""
    ref = {}
    for dataset in DATASETS:
        Z = StandardScaler().fit_transform(features(dataset))
        for k in KS:
            t = time.time()
            inertias = [KMeans(n_clusters=k, n_init=N_INIT, random_state=rs).fit(Z).inertia_
                        for rs in range(random_states)]
            ref[(dataset, k)] = (inertias[0], min(inertias), max(inertias))
            print(f"sklearn {dataset} k={k}: {inertias[0]:.6f} (random_state 0), "
                  f"best {min(inertias):.6f}, worst {max(inertias):.6f} over "
                  f"{random_states} random states, {time.time() - t:.1f} s", file=sys.stderr)
    return ref


def write_reference(ref, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["dataset", "k", "sklearn_inertia", "sklearn_best_inertia",
                    "sklearn_worst_inertia"])
        for (dataset, k), (rs0, best, worst) in ref.items():
            w.writerow([dataset, k, repr(rs0), repr(best), repr(worst)])


def read_reference(path):
    ref = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            ref[(row["dataset"], int(row["k"]))] = (float(row["sklearn_inertia"]),
                                                    float(row["sklearn_best_inertia"]),
                                                    float(row["sklearn_worst_inertia"]))
    return ref


def uba_inertias(args, seeds):
    """{(dataset, k): [inertia for each seed]} from uba_kmeans in the server"""
    import psycopg2

    conn_args = {key: val for key, val in (("host", args.host), ("port", args.port),
                                           ("dbname", args.dbname), ("user", args.user))
                 if val is not None}
    conn = psycopg2.connect(**conn_args)
    conn.autocommit = False
    cur = conn.cursor()
    cur.execute("SET max_parallel_workers_per_gather = 0")
    out = {}
    for dataset, spec in DATASETS.items():
        cur.execute(f"CREATE TEMP TABLE {spec['table']} ({spec['ddl']})")
        with open(os.path.join(DATA, spec["file"])) as f:
            cur.copy_expert(f"COPY {spec['table']} FROM STDIN WITH (FORMAT csv, HEADER)", f)
        for k in KS:
            out[(dataset, k)] = []
            for s in seeds:
                opts = f'{{"n_init": {N_INIT}, "standardize": true, "seed": {s}}}'
                cur.execute(f"SELECT uba_kmeans_inertia(uba_kmeans({spec['features']}, %s, %s)) "
                            f"FROM {spec['table']}", (k, opts))
                out[(dataset, k)].append(cur.fetchone()[0])
    conn.rollback()
    conn.close()
    return out


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            seeds.extend(range(int(lo), int(hi) + 1))
        else:
            seeds.append(int(part))
    return seeds


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default=os.environ.get("PGHOST"))
    p.add_argument("--port", default=os.environ.get("PGPORT"))
    p.add_argument("--dbname", default=os.environ.get("PGDATABASE"))
    p.add_argument("--user", default=os.environ.get("PGUSER"))
    p.add_argument("--random-states", type=int, default=10,
                   help="sklearn random_state 0..N-1 for best/worst (default 10)")
    p.add_argument("--uba-seeds", default="0-9", help="uba seeds, e.g. 0-9 or 0,3,7")
    p.add_argument("--reuse", action="store_true",
                   help="read test/data/kmeans_reference.csv instead of rerunning sklearn")
    p.add_argument("--no-uba", action="store_true", help="only compute and write the reference")
    args = p.parse_args()

    path = os.path.join(DATA, "kmeans_reference.csv")
    if args.reuse:
        ref = read_reference(path)
    else:
        ref = sklearn_reference(args.random_states)
        write_reference(ref, path)
        print(f"wrote {os.path.relpath(path, ROOT)}", file=sys.stderr)
    if args.no_uba:
        return

    seeds = parse_seeds(args.uba_seeds)
    t = time.time()
    uba = uba_inertias(args, seeds)
    print(f"uba: {len(uba) * len(seeds)} models in {time.time() - t:.1f} s", file=sys.stderr)

    s0 = seeds[0]
    print(f"\nuba_kmeans(features, k, '{{\"n_init\": {N_INIT}, \"standardize\": true, \"seed\": s}}') "
          f"vs sklearn KMeans(n_init={N_INIT}) after StandardScaler; diff = uba / sklearn_rs0 - 1")
    print(f"pass = within {TOLERANCE:.1%} of sklearn random_state 0; "
          f"seeds {seeds[0]}..{seeds[-1]} ({len(seeds)})\n")
    head = (f"{'dataset':9} {'k':>2} {'sklearn rs0':>12} {'sk best':>10} {'sk worst':>10} "
            f"{'uba seed ' + str(s0):>12} {'diff':>8} {'uba best':>10} {'diff':>8} "
            f"{'uba worst':>10} {'diff':>8} {'seeds ok':>8}")
    print(head)
    print("-" * len(head))
    failures = 0
    for (dataset, k), (rs0, best, worst) in ref.items():
        u = uba[(dataset, k)]
        ok = sum(v <= rs0 * (1 + TOLERANCE) for v in u)
        failures += u[0] > rs0 * (1 + TOLERANCE)
        print(f"{dataset:9} {k:>2} {rs0:12.4f} {best:10.4f} {worst:10.4f} "
              f"{u[0]:12.4f} {u[0] / rs0 - 1:+8.3%} {min(u):10.4f} {min(u) / rs0 - 1:+8.3%} "
              f"{max(u):10.4f} {max(u) / rs0 - 1:+8.3%} {ok:>5}/{len(u)}")
    print(f"\nseed {s0}: {failures} case(s) more than {TOLERANCE:.1%} above sklearn; "
          f"best over seeds: {sum(min(u) > ref[key][0] * (1 + TOLERANCE) for key, u in uba.items())}")


if __name__ == "__main__":
    main()
