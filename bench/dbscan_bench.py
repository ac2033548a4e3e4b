#!/usr/bin/python3
"""uba_dbscan end to end in SQL against scikit-learn's DBSCAN on the same points.

    /usr/bin/python3 bench/dbscan_bench.py [--rows 1000000] [--dims 2,3,4] [--min-samples 10]
        [--target 30] [--eps E] [--repeat 1] [--n-jobs N] [--skip-sklearn] [--skip-uba]
        [--dsn "host=/tmp/pgdev port=5499 dbname=bench user=postgres"]

Data, for each number of dimensions: --rows points (seed 7), a mixture of 20 Gaussian blobs of
unequal weights (spread so that their peak densities are equal) centred in the box [0, 100]^d,
and 5 % of the rows uniform noise over the box.
eps: unless --eps, the value (3 significant digits) at which a seeded sample of 2,000 points has
on average --target neighbours (30; the point itself counted) within eps, found by bisection with
scipy's cKDTree; min_samples --min-samples (10).  Euclidean metric.

Timed, --repeat times (the median kept):
  * sklearn: DBSCAN(eps, min_samples, algorithm='auto', n_jobs=--n-jobs).fit(X) on the numpy
    array, in a forked child process so that its peak RSS (getrusage ru_maxrss) is this fit's;
  * uba training: CREATE TABLE dbscan_bench_model AS SELECT uba_dbscan(features, eps, min_samples)
    AS m FROM dbscan_bench_<d>d, in a fresh backend whose peak memory (VmHWM) is read from /proc
    when the server runs on this machine;
  * uba assignment of every row: SELECT count(*) FILTER (WHERE c = 0), max(c), count(*) FROM
    (SELECT uba_dbscan_assign((SELECT m FROM dbscan_bench_model), features) AS c FROM ...) s.
The table dbscan_bench_<d>d (id int, features float8[]) is loaded once with COPY (numbers
written with repr(), so it holds exactly X) and reloaded only when its comment does not name
this data.  Afterwards (untimed) every row's uba_dbscan_assign label is fetched in id order.

Printed per dimension: the times, uba / sklearn for training and for training + assignment,
clusters and noise points of both, whether the noise rows are the same, and the adjusted Rand
index between sklearn's labels and uba's (noise as a label of its own).  The clusters and the
noise must be the same under both border rules (uba: a border point joins its nearest core
point's cluster; sklearn: the first cluster that reaches it), so the ARI is 1 up to those borders.
Checked too, with uba's cluster numbers matched to sklearn's through the core points: the rows
where uba and sklearn differ (at most the ambiguous borders, non-core rows within eps of core
points of two or more clusters, also counted), and the rows where uba differs from its own rule
computed here with cKDTree from sklearn's core points (0 expected).  Then the peak memory of both
sides, uba's model size, and the raw data size.
"""
import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import time

import numpy as np
import psycopg2
import psycopg2.extensions
from scipy.spatial import cKDTree
from sklearn.cluster import DBSCAN
from sklearn.metrics import adjusted_rand_score

from benchlib import backend_hwm_kb, load_features, require_functions

GENERATOR_VERSION = 1  # bump when make_data() changes, so the tables reload
SEED = 7
MODEL = "dbscan_bench_model"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.2f}] {msg}", file=sys.stderr, flush=True)


def make_data(rows, dims, seed=SEED, blobs=20, noise=0.05):
    """Gaussian blobs of unequal weights in [0, 100]^dims, each spread so that all have the same
    peak density (a blob of average weight has standard deviation 2), plus uniform noise rows"""
    rng = np.random.default_rng(seed + dims)
    centers = rng.uniform(10.0, 90.0, size=(blobs, dims))
    weights = rng.dirichlet(np.full(blobs, 3.0))
    scales = 2.0 * (weights * blobs) ** (1.0 / dims)
    n_noise = int(rows * noise)
    lab = rng.choice(blobs, size=rows - n_noise, p=weights)
    X = np.empty((rows, dims))
    X[:rows - n_noise] = centers[lab] + rng.standard_normal((rows - n_noise, dims)) * scales[lab, None]
    X[rows - n_noise:] = rng.uniform(0.0, 100.0, size=(n_noise, dims))
    return X[rng.permutation(rows)]


def choose_eps(X, target, eps=None, sample=2000):
    """eps (3 significant digits) giving a mean neighbourhood of about target points, unless eps
    is given, and the mean neighbourhood it gives, on a seeded sample of the rows"""
    tree = cKDTree(X)
    Q = X[np.random.default_rng(SEED).choice(X.shape[0], size=min(sample, X.shape[0]), replace=False)]

    def mean_count(eps):
        return float(tree.query_ball_point(Q, eps, return_length=True).mean())
    if eps is not None:
        return eps, mean_count(eps)
    lo, hi = 0.0, 1.0
    while mean_count(hi) < target:
        lo, hi = hi, hi * 2
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mean_count(mid) < target else (lo, mid)
    eps = float(f"{hi:.3g}")
    return eps, mean_count(eps)


# ---------------------------------------------------------------- sklearn

def _sklearn_child(X, eps, min_samples, n_jobs, conn):
    def rss_kb():
        with open("/proc/self/status") as f:
            return int(next(line for line in f if line.startswith("VmRSS")).split()[1])
    start = rss_kb()
    t0 = time.perf_counter()
    m = DBSCAN(eps=eps, min_samples=min_samples, algorithm="auto", n_jobs=n_jobs).fit(X)
    t = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    conn.send((t, m.labels_.astype(np.int32), m.core_sample_indices_.astype(np.int64), start, peak))
    conn.close()


def sklearn_fit(X, eps, min_samples, n_jobs):
    """(seconds, labels, core point indices, RSS at the start of the fit kB, peak RSS kB) of a fit
    in a forked child process"""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_sklearn_child, args=(X, eps, min_samples, n_jobs, child))
    p.start()
    child.close()
    out = parent.recv()
    p.join()
    if p.exitcode != 0:
        raise SystemExit(f"the sklearn child process failed (exit code {p.exitcode})")
    return out


def border_check(X, eps, sk, core_idx):
    """Labels by uba's rule computed here (sklearn's numbering, -1 noise): core points keep
    sklearn's label, other rows take their nearest core point's within eps (cKDTree; exact ties
    between clusters are not resolved, they have probability 0 here); and the number of
    ambiguous borders, non-core rows within eps of core points of two or more clusters"""
    core = np.zeros(X.shape[0], dtype=bool)
    core[core_idx] = True
    idx = np.flatnonzero(core)
    tree = cKDTree(X[idx])
    other = np.flatnonzero(~core)
    lab = np.where(core, sk, -1)
    d, j = tree.query(X[other], k=1, distance_upper_bound=np.nextafter(eps, np.inf))
    found = j < idx.size
    lab[other[found]] = sk[idx[j[found]]]
    near = tree.query_ball_point(X[other[found]], eps)
    ambiguous = sum(len({sk[idx[k]] for k in ks}) > 1 for ks in near)
    return lab, ambiguous


def differing(sk_like, ub, core_idx):
    """Rows whose uba label is not the one sk_like's gives once uba's cluster numbers are matched
    to sklearn's through the core points (None when they do not match one to one)"""
    pairs = set(zip(sk_like[core_idx].tolist(), ub[core_idx].tolist()))
    to_uba = dict(pairs)
    if len(to_uba) != len(pairs) or len(set(to_uba.values())) != len(to_uba) or 0 in to_uba.values():
        return None
    to_uba[-1] = 0
    expect = np.array([to_uba.get(v, -2) for v in sk_like.tolist()])
    return int((expect != ub).sum())


# ---------------------------------------------------------------- uba

def connect(dsn):
    """An autocommit connection, creating the database (and the extension) when missing"""
    try:
        conn = psycopg2.connect(dsn)
    except psycopg2.OperationalError as e:
        if "does not exist" not in str(e):
            raise
        params = psycopg2.extensions.parse_dsn(dsn)
        dbname = params.get("dbname")
        params["dbname"] = "postgres"
        admin = psycopg2.connect(**params)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("CREATE DATABASE " + psycopg2.extensions.quote_ident(dbname, cur))
        admin.close()
        log(f"created database {dbname}")
        conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS uba")
    return conn


def uba_run(dsn, table, eps, min_samples):
    """(training s, assignment s, noise, clusters, rows, backend peak kB, model bytes), one
    training in a fresh backend"""
    conn = connect(dsn)
    cur = conn.cursor()
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    cur.execute(f"DROP TABLE IF EXISTS {MODEL}")
    t0 = time.perf_counter()
    cur.execute(f"CREATE TABLE {MODEL} AS SELECT uba_dbscan(features, %s::float8, %s::integer) AS m "
                f"FROM {table}", (eps, min_samples))
    train = time.perf_counter() - t0
    hwm = backend_hwm_kb(pid)
    t0 = time.perf_counter()
    cur.execute(f"SELECT count(*) FILTER (WHERE c = 0), max(c), count(*) FROM "
                f"(SELECT uba_dbscan_assign((SELECT m FROM {MODEL}), features) AS c FROM {table}) s")
    noise, clusters, n = cur.fetchone()
    assign = time.perf_counter() - t0
    cur.execute(f"SELECT length(m) FROM {MODEL}")
    size = cur.fetchone()[0]
    conn.close()
    return train, assign, noise, clusters or 0, n, hwm, size


def uba_labels(cur, table):
    cur.execute(f"SELECT array_agg(uba_dbscan_assign((SELECT m FROM {MODEL}), features) ORDER BY id) "
                f"FROM {table}")
    return np.array(cur.fetchone()[0])


def model_info(cur):
    try:
        cur.execute(f"SELECT uba_model_info(m)::text FROM {MODEL}")
        return cur.fetchone()[0]
    except psycopg2.Error as e:
        return f"(uba_model_info: {e.pgerror or e})".strip()


# ---------------------------------------------------------------- main

def fmt(x, spec=".3f"):
    return "n/a" if x is None else format(x, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--dims", default="2,3,4", help="comma-separated numbers of dimensions")
    ap.add_argument("--min-samples", type=int, default=10)
    ap.add_argument("--target", type=float, default=30, help="mean neighbourhood eps is chosen for")
    ap.add_argument("--eps", type=float, help="eps for every dimension instead of --target's")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each side; the median is kept")
    ap.add_argument("--n-jobs", type=int, default=None, help="sklearn's n_jobs (default None: one thread)")
    ap.add_argument("--dsn", default="host=/tmp/pgdev port=5499 dbname=bench user=postgres")
    ap.add_argument("--skip-sklearn", action="store_true")
    ap.add_argument("--skip-uba", action="store_true")
    a = ap.parse_args()

    conn = None
    if not a.skip_uba:
        conn = connect(a.dsn)
        require_functions(conn.cursor(), ['uba_dbscan(float8[], float8, integer)', 'uba_dbscan_assign(bytea, float8[])'])
    results = []
    for dims in (int(d) for d in a.dims.split(",")):
        X = make_data(a.rows, dims)
        eps, mean_nb = choose_eps(X, a.target, a.eps)
        log(f"{a.rows} x {dims}: eps {eps}, mean neighbourhood {mean_nb:.1f}, min_samples {a.min_samples}")
        r = {"dims": dims, "eps": eps, "mean_nb": mean_nb}
        sk_labels = ub_labels = None
        if not a.skip_sklearn:
            runs = []
            for i in range(a.repeat):
                runs.append(sklearn_fit(X, eps, a.min_samples, a.n_jobs))
                log(f"sklearn run {i + 1}: {runs[-1][0]:.3f} s, peak RSS {runs[-1][4] / 1024:.0f} MB")
            sk_labels, core_idx = runs[-1][1], runs[-1][2]
            r.update(sk=statistics.median(t[0] for t in runs), sk_core=len(core_idx),
                     sk_rss_start=runs[-1][3], sk_rss=max(t[4] for t in runs),
                     sk_clusters=int(sk_labels.max()) + 1, sk_noise=int((sk_labels == -1).sum()))
        if not a.skip_uba:
            table = f"dbscan_bench_{dims}d"
            t0 = time.perf_counter()
            if load_features(conn.cursor(), table, X, f"generator {GENERATOR_VERSION}, {X.shape[0]} x {X.shape[1]}, seed {SEED}"):
                log(f"loaded {X.shape[0]} rows into {table} in {time.perf_counter() - t0:.1f} s")
            runs = []
            for i in range(a.repeat):
                runs.append(uba_run(a.dsn, table, eps, a.min_samples))
                log(f"uba run {i + 1}: training {runs[-1][0]:.3f} s, assignment {runs[-1][1]:.3f} s, "
                    f"{runs[-1][3]} clusters, {runs[-1][2]} noise, model {runs[-1][6]} bytes")
            train, assign, noise, clusters, n, _, size = runs[-1]
            if n != a.rows:
                raise SystemExit(f"{table} has {n} rows, expected {a.rows}")
            cur = conn.cursor()
            ub_labels = uba_labels(cur, table)
            log(f"uba model: {model_info(cur)}")
            hwm = [t[5] for t in runs if t[5] is not None]
            r.update(ub=statistics.median(t[0] for t in runs), ub_assign=statistics.median(t[1] for t in runs),
                     ub_clusters=clusters, ub_noise=noise, ub_hwm=max(hwm) if hwm else None, model=size)
        if sk_labels is not None and ub_labels is not None:
            r["ari"] = adjusted_rand_score(sk_labels, ub_labels)
            r["same_noise"] = bool(np.array_equal(sk_labels == -1, ub_labels == 0))
            rule, r["ambiguous"] = border_check(X, eps, sk_labels, core_idx)
            r["differ_sk"] = differing(sk_labels, ub_labels, core_idx)
            r["differ_rule"] = differing(rule, ub_labels, core_idx)
        results.append(r)
    if conn is not None:
        conn.close()

    print(f"\n{a.rows} rows, euclidean, min_samples {a.min_samples}, median of {a.repeat} run(s); "
          f"sklearn n_jobs={a.n_jobs}\n")
    print("| dims | eps | mean nbrs | sklearn fit s | uba train s | uba assign s | train ratio "
          "| train+assign ratio | clusters sk / uba | noise sk / uba | same noise | ARI |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|")
    for r in results:
        sk, ub, ua = r.get("sk"), r.get("ub"), r.get("ub_assign")
        ratio = ub / sk if sk and ub else None
        ratio2 = (ub + ua) / sk if sk and ub else None
        same = {True: "yes", False: "NO"}.get(r.get("same_noise"), "n/a")
        print(f"| {r['dims']} | {r['eps']} | {r['mean_nb']:.1f} | {fmt(sk)} | {fmt(ub)} | {fmt(ua)} "
              f"| {fmt(ratio, '.2f')} | {fmt(ratio2, '.2f')} "
              f"| {r.get('sk_clusters', 'n/a')} / {r.get('ub_clusters', 'n/a')} "
              f"| {r.get('sk_noise', 'n/a')} / {r.get('ub_noise', 'n/a')} | {same} | {fmt(r.get('ari'), '.6f')} |")
    print("\n| dims | ambiguous borders | rows uba != sklearn | rows uba != nearest-core rule |")
    print("|---:|---:|---:|---:|")
    for r in results:
        cells = ["n/a" if k not in r else "no match" if r[k] is None else r[k]
                 for k in ("ambiguous", "differ_sk", "differ_rule")]
        print(f"| {r['dims']} | {cells[0]} | {cells[1]} | {cells[2]} |")
    if any(r.get(k, 0) is None for r in results for k in ("differ_sk", "differ_rule")):
        print("(no match: uba's clusters do not match sklearn's one to one through the core points)")
    print("\n| dims | sklearn core points | sklearn peak RSS MB (at fit start) | uba backend peak MB "
          "| uba model MB | raw float64 MB |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in results:
        rss = f"{r['sk_rss'] / 1024:.0f} ({r['sk_rss_start'] / 1024:.0f})" if "sk_rss" in r else "n/a"
        hwm = fmt(r["ub_hwm"] / 1024, ".0f") if r.get("ub_hwm") else "n/a"
        model = fmt(r["model"] / 1e6, ".1f") if "model" in r else "n/a"
        print(f"| {r['dims']} | {r.get('sk_core', 'n/a')} | {rss} | {hwm} | {model} "
              f"| {a.rows * r['dims'] * 8 / 1e6:.0f} |")


if __name__ == "__main__":
    main()
