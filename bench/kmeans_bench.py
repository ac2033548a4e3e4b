#!/usr/bin/python3
"""k-means speed benchmark: uba_kmeans() in SQL against scikit-learn's KMeans.

Requirement measured: 1,000,000 rows x 16 features, k = 8, 20 Lloyd
iterations, one k-means++ init.  End to end in SQL from a table, uba must
take no longer than scikit-learn's KMeans.fit on the same data already in
numpy (target: half of it).

What it does:
  1. Generates a seeded synthetic data set (Gaussian blobs in D dimensions,
     unequal sizes and spreads, 2 % uniform noise rows, float64) and loads it
     into kmeans_bench(features float8[]) with COPY, unless the table already
     holds exactly that data (keyed by the table comment), then VACUUM
     (FREEZE, ANALYZE).  Values are written with repr(), which round-trips
     float64 exactly, so the table and the numpy array hold the same numbers.
  2. Alternates, --repeat times, in one process:
       - sklearn KMeans(k, init='k-means++', n_init=1, max_iter=iters, tol=0,
         algorithm='lloyd', random_state=0).fit(X), timed with perf_counter;
       - SELECT uba_kmeans(features, k, '{"max_iter": iters, "tol": 0,
         "n_init": 1}') FROM kmeans_bench, timed end to end from the client,
         with the default parallel settings and with
         max_parallel_workers_per_gather = 0;
       - a built-in aggregate over the same rows (scan baseline), both ways;
       - unless --no-phases: the same fits with max_iter = 1 (k-means++ and
         random init), so the time splits into collection/preparation,
         k-means++ init and per-iteration cost.
  3. Prints medians as markdown tables, plus a correctness check: inertia of
     uba and sklearn, and uba's inertia recomputed in numpy from the
     centroids it returned.

Run:  /usr/bin/python3 bench/kmeans_bench.py [--rows 1000000] [--dims 16]
          [--k 8] [--iters 20] [--repeat 3]
          [--dsn "host=/var/run/postgresql port=5440 user=postgres dbname=bench_dev"]
"""

import argparse
import datetime
import io
import json
import os
import platform
import shlex
import statistics
import sys
import time

import numpy as np
import psycopg2
import psycopg2.extensions

GENERATOR_VERSION = 1  # bump when make_data() changes, so tables reload
TABLE = "kmeans_bench"
DEFAULT_DSN = "host=/var/run/postgresql port=5440 user=postgres dbname=bench_dev"


# ---------------------------------------------------------------- data

def make_data(rows, dims, blobs, seed, spread):
    """Gaussian blobs of unequal size and spread, plus 2 % uniform noise rows."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, spread, size=(blobs, dims))
    weights = rng.dirichlet(np.full(blobs, 5.0))
    labels = rng.choice(blobs, size=rows, p=weights)
    scales = rng.uniform(0.7, 1.5, size=blobs)
    X = centers[labels] + rng.standard_normal((rows, dims)) * scales[labels, None]
    n_noise = rows // 50
    if n_noise > 0:
        idx = rng.choice(rows, size=n_noise, replace=False)
        X[idx] = rng.uniform(X.min(axis=0), X.max(axis=0), size=(n_noise, dims))
    return np.ascontiguousarray(X, dtype=np.float64)


def data_key(args):
    return json.dumps({"generator": GENERATOR_VERSION, "rows": args.rows,
                       "dims": args.dims, "blobs": args.blobs,
                       "seed": args.seed, "spread": args.spread},
                      sort_keys=True)


def connect(dsn):
    """Connect, creating the database (and the extension) when missing."""
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


def ensure_table(conn, X, key):
    """Load X into the table unless it already holds this exact data set."""
    with conn.cursor() as cur:
        cur.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", (TABLE,))
        if cur.fetchone()[0] == key:
            log(f"table {TABLE} already holds {key}; not reloading")
            return False
    log(f"loading {X.shape[0]} rows into {TABLE} ...")
    t0 = time.perf_counter()
    conn.autocommit = False
    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cur.execute(f"CREATE TABLE {TABLE} (features float8[])")
        chunk = 100000
        for s in range(0, X.shape[0], chunk):
            buf = io.StringIO()
            # repr() of a Python float is the shortest string that reads
            # back to the same float64, so PostgreSQL stores identical values
            buf.write("".join("{" + ",".join(map(repr, r)) + "}\n"
                              for r in X[s:s + chunk].tolist()))
            buf.seek(0)
            cur.copy_expert(f"COPY {TABLE} (features) FROM STDIN", buf)
        cur.execute(f"COMMENT ON TABLE {TABLE} IS %s", (key,))
    conn.commit()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"VACUUM (FREEZE, ANALYZE) {TABLE}")
    log(f"loaded and vacuumed in {time.perf_counter() - t0:.1f} s")
    return True


# ---------------------------------------------------------------- helpers

def log(msg):
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.2f}] {msg}",
          file=sys.stderr, flush=True)


def cpu_jiffies():
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)  # idle + iowait
    return sum(v) - idle, sum(v)


def busy_cores(before, after):
    db, dt = after[0] - before[0], after[1] - before[1]
    return (os.cpu_count() or 1) * db / dt if dt > 0 else float("nan")


class Meter:
    """Before each measurement, samples what the rest of the machine is
    doing (our own processes are idle then) and optionally waits for it to
    calm down; during it, counts the cores busy machine-wide."""

    def __init__(self, wait_quiet, threshold=0.3):
        self.wait_quiet = wait_quiet
        self.threshold = threshold
        self.others = []

    def run(self, fn, *a, **kw):
        deadline = time.time() + self.wait_quiet
        while True:
            j0 = cpu_jiffies()
            time.sleep(0.3)
            other = busy_cores(j0, cpu_jiffies())
            if other <= self.threshold or time.time() >= deadline:
                break
        self.others.append(other)
        j0 = cpu_jiffies()
        r = fn(*a, **kw)
        r["busy"] = busy_cores(j0, cpu_jiffies())
        r["other_before"] = other
        return r


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt(x, digits=3):
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "n/a"
    return f"{x:.{digits}f}"


def inertia_of(X, centers, chunk=65536):
    """Exact sum of squared distances of X to their nearest centre."""
    total = 0.0
    cn = (centers * centers).sum(axis=1)
    for s in range(0, X.shape[0], chunk):
        x = X[s:s + chunk]
        d = (x * x).sum(axis=1)[:, None] - 2.0 * x @ centers.T + cn[None, :]
        lab = d.argmin(axis=1)
        diff = x - centers[lab]
        total += float((diff * diff).sum())
    return total


def centroid_match(a, b):
    """Greedy match of two centroid sets; returns the largest matched distance."""
    d = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2))
    worst = 0.0
    used_a, used_b = set(), set()
    for i, j in sorted(np.ndindex(d.shape), key=lambda ij: d[ij]):
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        worst = max(worst, float(d[i, j]))
    return worst


def uba_build(conn):
    """Which uba was measured: the installed library's time stamp and, when
    this script sits in the source tree, that tree's git commit."""
    parts = []
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'")
            lib = os.path.join(cur.fetchone()[0], "uba.so")
        mtime = datetime.datetime.fromtimestamp(os.stat(lib).st_mtime).astimezone()
        parts.append(f"{lib} built {mtime:%Y-%m-%d %H:%M:%S %Z}")
    except Exception as e:  # not superuser, or the server is on another host
        parts.append(f"library time stamp unknown ({type(e).__name__})")
    try:
        import subprocess
        here = os.path.dirname(os.path.abspath(__file__))
        head = subprocess.run(["git", "-C", here, "log", "-1", "--format=%h %cd %s", "--date=iso"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", here, "status", "--porcelain", "--", "../src", "../sql"],
                               capture_output=True, text=True).stdout.strip()
        parts.append(f"source tree at {head}" + (" (src/ or sql/ modified)" if dirty else ""))
    except Exception:
        pass
    return "; ".join(parts)


# ---------------------------------------------------------------- runs

def run_sklearn(X, k, iters, init):
    from sklearn.cluster import KMeans
    km = KMeans(n_clusters=k, init=init, n_init=1, max_iter=iters, tol=0,
                algorithm="lloyd", random_state=0)
    t0 = time.perf_counter()
    km.fit(X)
    secs = time.perf_counter() - t0
    return {"s": secs, "n_iter": int(km.n_iter_), "inertia": float(km.inertia_),
            "centers": km.cluster_centers_}


def set_parallel(cur, workers):
    if workers is None:
        cur.execute("RESET max_parallel_workers_per_gather")
    else:
        cur.execute("SET max_parallel_workers_per_gather = %s", (workers,))


def run_uba(conn, k, iters, init, workers, want_centers=False):
    opts = {"max_iter": iters, "tol": 0, "n_init": 1}
    if init != "k-means++":      # the default; the timed query leaves it out
        opts["init"] = init
    opts = json.dumps(opts)
    with conn.cursor() as cur:
        set_parallel(cur, workers)
        t0 = time.perf_counter()
        cur.execute(f"SELECT uba_kmeans(features, %s, %s::jsonb) FROM {TABLE}", (k, opts))
        model = cur.fetchone()[0]
        secs = time.perf_counter() - t0
        cur.execute("SELECT uba_model_info(%s)", (psycopg2.Binary(model),))
        info = cur.fetchone()[0]
        out = {"s": secs, "n_iter": int(info["iterations"]),
               "inertia": float(info["inertia"]), "training_ms": float(info["training_ms"]),
               "rows": int(info["training_rows"])}
        if want_centers:
            cur.execute("SELECT centroid FROM uba_kmeans_centroids(%s) ORDER BY cluster",
                        (psycopg2.Binary(model),))
            out["centers"] = np.array([r[0] for r in cur.fetchall()], dtype=np.float64)
        return out


def run_export_fit(conn, k, iters):
    """What a user would otherwise do: fetch the rows with psycopg2, build a
    numpy array, fit scikit-learn's KMeans (same settings as run_sklearn)."""
    t0 = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(f"SELECT features FROM {TABLE}")
        X = np.array([r[0] for r in cur.fetchall()], dtype=np.float64)
    export_s = time.perf_counter() - t0
    r = run_sklearn(X, k, iters, "k-means++")
    return {"s": export_s + r["s"], "export_s": export_s, "fit_s": r["s"], "rows": X.shape[0]}


def run_scan(conn, workers):
    with conn.cursor() as cur:
        set_parallel(cur, workers)
        t0 = time.perf_counter()
        cur.execute(f"SELECT count(*), sum(features[1]) FROM {TABLE}")
        n, s = cur.fetchone()
        return {"s": time.perf_counter() - t0, "rows": int(n), "sum1": float(s)}


def planned_workers(conn, workers, k):
    with conn.cursor() as cur:
        set_parallel(cur, workers)
        cur.execute(f"EXPLAIN (FORMAT JSON) SELECT uba_kmeans(features, %s) FROM {TABLE}", (k,))
        plan = cur.fetchone()[0]

        def find(p):
            if "Workers Planned" in p:
                return p["Workers Planned"]
            for c in p.get("Plans", []):
                w = find(c)
                if w is not None:
                    return w
            return None
        return find(plan[0]["Plan"]) or 0


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--dims", type=int, default=16)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dsn", default=DEFAULT_DSN)
    ap.add_argument("--blobs", type=int, default=8, help="Gaussian blobs in the data (default 8)")
    ap.add_argument("--spread", type=float, default=4.0,
                    help="std of the blob centres per feature; blobs have std 0.7-1.5 (default 4)")
    ap.add_argument("--seed", type=int, default=42, help="data generator seed (default 42)")
    ap.add_argument("--no-phases", action="store_true",
                    help="skip the max_iter=1 runs that split the time into phases")
    ap.add_argument("--no-serial", action="store_true",
                    help="skip the max_parallel_workers_per_gather = 0 runs")
    ap.add_argument("--sklearn-threads", type=int, default=None,
                    help="limit scikit-learn's OpenMP/BLAS threads (default: library default)")
    ap.add_argument("--reference-inits", type=int, default=5,
                    help="untimed sklearn run with this many inits as an inertia reference (0: skip)")
    ap.add_argument("--wait-quiet", type=float, default=20,
                    help="before each measurement wait up to this many seconds for other work "
                         "on the machine to drop below 0.3 busy cores (default 20; 0: never wait)")
    ap.add_argument("--no-export", action="store_true",
                    help="skip the psycopg2 export + scikit-learn fit runs (what a user would otherwise do)")
    ap.add_argument("--sessions", type=int, default=0,
                    help="also time N full fits back to back on each side (uba serial, no pauses, "
                         "memory kept from the run before) and N first uba fits in a new connection "
                         "(nothing kept) (default 0: skip)")
    ap.add_argument("--json", help="also write the raw measurements to this file")
    args = ap.parse_args()
    command = "/usr/bin/python3 " + " ".join(shlex.quote(a) for a in sys.argv)

    started = datetime.datetime.now().astimezone()
    load_start = os.getloadavg()
    if load_start[0] > 0.5:
        log(f"WARNING: 1-min load average is {load_start[0]:.2f} before starting; "
            "other work on the machine will slow both sides unevenly")
    log(f"generating {args.rows} x {args.dims}, {args.blobs} blobs, seed {args.seed}")
    X = make_data(args.rows, args.dims, args.blobs, args.seed, args.spread)

    conn = connect(args.dsn)
    ensure_table(conn, X, data_key(args))
    with conn.cursor() as cur:
        cur.execute("SELECT version(), current_setting('max_parallel_workers_per_gather'), "
                    "current_setting('max_parallel_workers'), current_setting('shared_buffers'), "
                    "pg_size_pretty(pg_table_size(%s)), pg_backend_pid(), "
                    "(SELECT extversion FROM pg_extension WHERE extname = 'uba')", (TABLE,))
        pg_version, mpwpg, mpw, sb, tsize, pid, uba_version = cur.fetchone()
    log(f"backend pid {pid}; table {tsize}")
    build = uba_build(conn)

    threadctx = None
    if args.sklearn_threads:
        from threadpoolctl import threadpool_limits
        threadctx = threadpool_limits(limits=args.sklearn_threads)
    import sklearn.cluster  # noqa: F401  (loads OpenMP, so threadpool_info sees it)
    try:
        from threadpoolctl import threadpool_info
        sk_threads = sorted({f"{i['internal_api']}={i['num_threads']}" for i in threadpool_info()})
    except ImportError:
        sk_threads = ["?"]
    import sklearn

    modes = [("parallel", None)] + ([] if args.no_serial else [("serial", 0)])
    workers = {name: planned_workers(conn, w, args.k) for name, w in modes}
    variants = [("full", args.iters, "k-means++")]
    if not args.no_phases:
        variants += [("one", 1, "k-means++"), ("one_random", 1, "random")]

    res = {"sklearn": {v: [] for v, _, _ in variants}}
    for name, _ in modes:
        res["uba_" + name] = {v: [] for v, _, _ in variants}
        res["scan_" + name] = []

    # warm-up: page cache, OpenMP pools, library loading (not recorded)
    log("warm-up")
    run_scan(conn, None)
    run_uba(conn, args.k, 1, "random", None)
    run_sklearn(X[: min(len(X), 100000)], args.k, 1, "random")
    with conn.cursor() as cur:  # the library is loaded now, so its settings exist
        cur.execute("SELECT current_setting('uba.blas_threads', true)")
        blas_threads = cur.fetchone()[0]

    meter = Meter(args.wait_quiet)

    def busy_note(r):
        return f" [{r['busy']:.2f} cores busy; other work before: {r['other_before']:.2f}]"

    for rep in range(args.repeat):
        for v, iters, init in variants:
            r = meter.run(run_sklearn, X, args.k, iters, init)
            res["sklearn"][v].append(r)
            log(f"rep {rep + 1} sklearn {v}: {r['s']:.3f} s{busy_note(r)}, n_iter {r['n_iter']}, inertia {r['inertia']:.6g}")
            # the modes take turns going first: the first uba query after other work in this
            # backend can be slower (its memory is faulted in afresh)
            for name, w in (modes if rep % 2 == 0 else modes[::-1]):
                r = meter.run(run_uba, conn, args.k, iters, init, w, want_centers=(v == "full"))
                res["uba_" + name][v].append(r)
                log(f"rep {rep + 1} uba {name} {v}: {r['s']:.3f} s{busy_note(r)} (training_ms {r['training_ms']:.0f}), "
                    f"n_iter {r['n_iter']}, inertia {r['inertia']:.6g}")
        for name, w in modes:
            r = meter.run(run_scan, conn, w)
            res["scan_" + name].append(r)
            log(f"rep {rep + 1} scan {name}: {r['s']:.3f} s{busy_note(r)}")
    # back to back and cold: what a session that trains again within seconds sees (uba keeps its
    # large arrays mapped for a few seconds), and what the first training of a session pays
    if args.sessions > 0:
        res["b2b_sklearn"] = [run_sklearn(X, args.k, args.iters, "k-means++") for _ in range(args.sessions)]
        log("back to back sklearn: " + ", ".join(f"{r['s']:.3f}" for r in res["b2b_sklearn"]))
        res["b2b_uba"] = [run_uba(conn, args.k, args.iters, "k-means++", 0) for _ in range(args.sessions)]
        log("back to back uba serial: " + ", ".join(f"{r['s']:.3f}" for r in res["b2b_uba"]))
        res["cold_uba"] = []
        for _ in range(args.sessions):
            fresh = connect(args.dsn)
            res["cold_uba"].append(run_uba(fresh, args.k, args.iters, "k-means++", 0))
            fresh.close()
        log("first uba fit in a new connection: " + ", ".join(f"{r['s']:.3f}" for r in res["cold_uba"]))
    # the exports after every timed uba run: a million rows sent through this backend left the
    # next uba query about 0.3 s slower when they ran between the repetitions
    for rep in range(0 if args.no_export else args.repeat):
        r = meter.run(run_export_fit, conn, args.k, args.iters)
        res.setdefault("export", []).append(r)
        log(f"rep {rep + 1} export + fit: {r['s']:.3f} s (export {r['export_s']:.3f} s, fit {r['fit_s']:.3f} s){busy_note(r)}")
    if threadctx is not None:
        threadctx.restore_original_limits()
    load_end = os.getloadavg()

    # a better-converged reference, so an inertia gap can be read as
    # "different local optimum" rather than "wrong"; not timed
    ref = None
    if args.reference_inits > 1:
        from sklearn.cluster import KMeans
        log(f"reference: sklearn best of {args.reference_inits} inits")
        ref = float(KMeans(n_clusters=args.k, init="k-means++", n_init=args.reference_inits,
                           max_iter=args.iters, tol=0, algorithm="lloyd",
                           random_state=1).fit(X).inertia_)

    # sanity: the table holds the rows we think it does
    scan0 = res["scan_parallel"][0]
    if scan0["rows"] != args.rows or abs(scan0["sum1"] - float(X[:, 0].sum())) > 1e-6 * max(1.0, abs(X[:, 0]).sum()):
        print(f"WARNING: table does not match the generated data: {scan0}", file=sys.stderr)

    # ------------------------------------------------------------ summary
    def med(series, key="s"):
        return median([r[key] for r in series])

    def phases(series):
        """Medians of the totals, and of per-repetition differences (runs of one
        repetition are adjacent in time, so their differences are steadier)."""
        full = med(series["full"])
        if args.no_phases:
            return {"full": full}
        per_iter = median([(f["s"] - o["s"]) / (f["n_iter"] - 1)
                           for f, o in zip(series["full"], series["one"]) if f["n_iter"] > 1])
        init_pp = median([o["s"] - r["s"] for o, r in zip(series["one"], series["one_random"])])
        return {"full": full, "one": med(series["one"]), "one_random": med(series["one_random"]),
                "per_iter": per_iter, "init_pp": init_pp,
                "other": med(series["one_random"]) - (per_iter if per_iter == per_iter else 0.0)}

    sk = phases(res["sklearn"])
    ub = {name: phases(res["uba_" + name]) for name, _ in modes}
    scan = {name: med(res["scan_" + name]) for name, _ in modes}

    out = []
    p = out.append
    p(f"## k-means benchmark: {args.rows:,} rows x {args.dims} features, k = {args.k}, "
      f"max_iter = {args.iters}, tol = 0, one k-means++ init")
    p("")
    p(f"- date: {started:%Y-%m-%d %H:%M %Z}; host: {platform.node()}, {os.cpu_count()} cores, "
      f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB RAM")
    p(f"- load average (1/5/15 min) at start {load_start[0]:.2f}/{load_start[1]:.2f}/{load_start[2]:.2f}, "
      f"at end {load_end[0]:.2f}/{load_end[1]:.2f}/{load_end[2]:.2f} (includes this benchmark)")
    p(f"- other work sampled for 0.3 s before each measurement: median {median(meter.others):.2f}, "
      f"max {max(meter.others):.2f} busy cores; cores busy during the full fits (median): "
      f"sklearn {med(res['sklearn']['full'], 'busy'):.2f}, "
      + ", ".join(f"uba {n} {med(res['uba_' + n]['full'], 'busy'):.2f}" for n, _ in modes))
    p(f"- {pg_version.split(' on ')[0]}, uba {uba_version}, uba.blas_threads = {blas_threads}, "
      f"max_parallel_workers_per_gather = {mpwpg}, max_parallel_workers = {mpw}, "
      f"shared_buffers = {sb}, table {tsize}")
    p(f"- uba build measured: {build}")
    p(f"- scikit-learn {sklearn.__version__}, numpy {np.__version__}, threads: {', '.join(sk_threads)}")
    p(f"- medians of {args.repeat} runs; times are wall clock seen by the client "
      f"(sklearn: KMeans.fit on an in-memory numpy array; uba: the whole SELECT)")
    p("")
    p("| run | sklearn fit s | uba SQL s | uba / sklearn | sklearn ms/iter | uba ms/iter | "
      "scan baseline s | n_iter sklearn / uba |")
    p("|---|---:|---:|---:|---:|---:|---:|---:|")
    sk_it = median([r["n_iter"] for r in res["sklearn"]["full"]])
    for name, w in modes:
        label = (f"default parallel ({workers[name]} workers planned)" if w is None
                 else "max_parallel_workers_per_gather = 0")
        ub_it = median([r["n_iter"] for r in res["uba_" + name]["full"]])
        p(f"| {label} | {fmt(sk['full'])} | {fmt(ub[name]['full'])} | "
          f"{fmt(ub[name]['full'] / sk['full'], 2)} | {fmt(sk.get('per_iter', float('nan')) * 1000, 1)} | "
          f"{fmt(ub[name].get('per_iter', float('nan')) * 1000, 1)} | {fmt(scan[name])} | "
          f"{sk_it:g} / {ub_it:g} |")
    p("")
    if args.sessions > 0:
        b2b_sk, b2b_ub, cold = med(res["b2b_sklearn"]), med(res["b2b_uba"]), med(res["cold_uba"])
        p(f"The same full fit {args.sessions} times back to back on each side (uba serial, in one session, "
          "so each run finds the large arrays the run before kept), and uba's first fit in a new "
          "connection (nothing kept), medians:")
        p("")
        p("| | sklearn fit s | uba SQL s | uba / sklearn |")
        p("|---|---:|---:|---:|")
        p(f"| back to back | {fmt(b2b_sk)} | {fmt(b2b_ub)} | {fmt(b2b_ub / b2b_sk, 2)} |")
        p(f"| uba: first fit in a new connection | {fmt(b2b_sk)} | {fmt(cold)} | {fmt(cold / b2b_sk, 2)} |")
        p("")
    if res.get("export"):
        ex = res["export"]
        p("Against what a user would otherwise do, export the rows with psycopg2 into numpy and fit "
          "scikit-learn (the same KMeans settings):")
        p("")
        p("| | export s | fit s | total s | uba (default parallel) / total |")
        p("|---|---:|---:|---:|---:|")
        p(f"| psycopg2 fetch + np.array, then KMeans.fit | {fmt(med(ex, 'export_s'))} | {fmt(med(ex, 'fit_s'))} | "
          f"{fmt(med(ex))} | {fmt(ub['parallel']['full'] / med(ex), 2)} |")
        p("")
    if not args.no_phases:
        p("Where the time goes (seconds, medians; one Lloyd iteration = median of (T[max_iter=N] - T[max_iter=1]) / (n_iter - 1), "
          "k-means++ init = median of T[max_iter=1, k-means++] - T[max_iter=1, random], "
          "rest = T[max_iter=1, random] - one iteration):")
        p("")
        hdr = "| phase | sklearn | " + " | ".join(f"uba {name}" for name, _ in modes) + " |"
        p(hdr)
        p("|---|" + "---:|" * (1 + len(modes)))
        rows = [("total, max_iter = %d" % args.iters, "full"),
                ("max_iter = 1, k-means++ init", "one"),
                ("max_iter = 1, random init", "one_random"),
                ("≈ k-means++ init", "init_pp"),
                ("≈ one Lloyd iteration", "per_iter"),
                ("≈ rest: load/collect rows, prepare, finish", "other")]
        for label, key in rows:
            p(f"| {label} | {fmt(sk[key])} | " + " | ".join(fmt(ub[n][key]) for n, _ in modes) + " |")
        p("| server training_ms (first row in to model out), full run | n/a | "
          + " | ".join(fmt(med(res['uba_' + n]['full'], 'training_ms') / 1000) for n, _ in modes) + " |")
        p("| scan baseline: count(*), sum(features[1]) | n/a | "
          + " | ".join(fmt(scan[n]) for n, _ in modes) + " |")
        p("")

    # correctness
    p(f"Correctness (max_iter = {args.iters}; inertia = within-cluster sum of squares; "
      "'recomputed' assigns every numpy row to the nearest returned centroid):")
    p("")
    p("| | sklearn | " + " | ".join(f"uba {name}" for name, _ in modes) + " |")
    p("|---|" + "---:|" * (1 + len(modes)))
    sk_runs = res["sklearn"]["full"]
    sk_in = median([r["inertia"] for r in sk_runs])
    cells_rep, cells_rec, cells_rel, cells_cm, cells_range = [], [], [], [], []
    sk_rec = inertia_of(X, sk_runs[0]["centers"])
    for name, _ in modes:
        runs = res["uba_" + name]["full"]
        rep = median([r["inertia"] for r in runs])
        rec = inertia_of(X, runs[0]["centers"])
        cells_rep.append(f"{rep:.6e}")
        cells_rec.append(f"{rec:.6e} (run 1)")
        cells_rel.append(f"{(rep - sk_in) / sk_in * 100:+.4f} %")
        cells_cm.append(fmt(centroid_match(sk_runs[0]["centers"], runs[0]["centers"]), 4))
        cells_range.append(f"{min(r['inertia'] for r in runs):.6e} - {max(r['inertia'] for r in runs):.6e}")
    p(f"| reported inertia (median) | {sk_in:.6e} | " + " | ".join(cells_rep) + " |")
    p(f"| inertia range over runs | {min(r['inertia'] for r in sk_runs):.6e} - "
      f"{max(r['inertia'] for r in sk_runs):.6e} | " + " | ".join(cells_range) + " |")
    p(f"| inertia recomputed in numpy | {sk_rec:.6e} (run 1) | " + " | ".join(cells_rec) + " |")
    p("| relative to sklearn | 0 | " + " | ".join(cells_rel) + " |")
    p("| largest distance between matched centroids (run 1) | 0 | " + " | ".join(cells_cm) + " |")
    if ref is not None:
        p(f"| reference optimum: sklearn best of {args.reference_inits} k-means++ inits, "
          f"max_iter = {args.iters} (untimed) | {ref:.6e} | "
          + " | ".join(f"{(median([r['inertia'] for r in res['uba_' + n]['full']]) - ref) / ref * 100:+.4f} %"
                       for n, _ in modes) + " |")
    p("| training rows seen | %d | " % args.rows
      + " | ".join(str(res["uba_" + n]["full"][0]["rows"]) for n, _ in modes) + " |")
    p("")
    p("Command:")
    p("")
    p("    " + command)
    print("\n".join(out))

    if args.json:
        def strip(o):
            if isinstance(o, dict):
                return {k: strip(v) for k, v in o.items() if k != "centers"}
            if isinstance(o, list):
                return [strip(v) for v in o]
            return o
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "command": command, "started": started.isoformat(),
                       "load_start": load_start, "load_end": load_end, "workers": workers,
                       "results": strip(res)}, f, indent=1)


if __name__ == "__main__":
    main()
