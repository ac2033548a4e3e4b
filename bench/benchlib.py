"""Shared pieces of the bench scripts: a connection with uba installed, a table of feature rows
loaded once, the functions a script needs, timing a query, and the comparison of uba's functions
with built-in aggregates over the same rows."""

import csv
import io
import os
import statistics
import sys
import time

import numpy as np
import psycopg2

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test", "data")
WHOLESALE_SPEND = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]


def log_features(name, rows=None):
    """The committed data sets' features on a log scale, in file order (the first rows only when
    given): "wholesale", ln(1 + each of the six spend columns); "retail", ln(1 + recency),
    ln(1 + frequency), ln(1 + max(monetary, 0)) of the Online Retail customers."""
    with open(os.path.join(DATA, "wholesale.csv" if name == "wholesale" else "retail_rfm.csv"), newline="") as f:
        table = list(csv.DictReader(f))[:rows]
    if name == "wholesale":
        return np.log1p(np.array([[float(x[c]) for c in WHOLESALE_SPEND] for x in table]))
    r = np.array([[float(x["recency"]), float(x["frequency"]), float(x["monetary"])] for x in table])
    return np.column_stack([np.log1p(r[:, 0]), np.log1p(r[:, 1]), np.log1p(np.maximum(r[:, 2], 0.0))])


def connect(dsn):
    """An autocommit cursor on a database with uba installed."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS uba")
    return cur


def load_features(cur, table, X, key):
    """Load the rows of X into table (id int from 1, features float8[]) with COPY, unless the
    table's comment already names this data (key).  repr() round-trips float64, so the table holds
    exactly X's numbers.  cur must be autocommit (VACUUM).  Returns whether it loaded."""
    cur.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", (table,))
    row = cur.fetchone()
    if row and row[0] == key:
        return False
    cur.execute(f"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id int, features float8[])")
    chunk = 100000
    for s in range(0, X.shape[0], chunk):
        buf = io.StringIO()
        buf.write("".join(f"{s + i + 1}\t{{{','.join(map(repr, r))}}}\n"
                          for i, r in enumerate(X[s:s + chunk].tolist())))
        buf.seek(0)
        cur.copy_expert(f"COPY {table} (id, features) FROM STDIN", buf)
    cur.execute(f"COMMENT ON TABLE {table} IS %s", (key,))
    cur.execute(f"VACUUM (FREEZE, ANALYZE) {table}")
    return True


def require_functions(cur, signatures):
    """Stop with a clear message unless uba in this database has every function signature"""
    cur.execute("SELECT s, to_regprocedure(s) IS NOT NULL FROM unnest(%s::text[]) s", (list(signatures),))
    missing = [sig for sig, found in cur.fetchall() if not found]
    if missing:
        cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'uba'")
        raise SystemExit(f"uba {cur.fetchone()[0]} in this database has no {', '.join(missing)}: install the"
                         " build that has them (DROP EXTENSION uba; CREATE EXTENSION uba), or run with --skip-uba")


def backend_hwm_kb(pid):
    """A backend's peak resident memory (VmHWM, kB), or None when its /proc cannot be read (the
    server runs elsewhere, or as a user whose /proc this one may not read)"""
    try:
        with open(f"/proc/{pid}/status") as f:
            return int(next(line for line in f if line.startswith("VmHWM")).split()[1])
    except (OSError, StopIteration):
        return None


def timed(cur, sql, params=None):
    """Seconds to run a query and fetch its rows, and the rows."""
    t0 = time.perf_counter()
    cur.execute(sql, params)
    rows = cur.fetchall()
    return time.perf_counter() - t0, rows


def compare_with_builtins(cur, cases, repeat, parallel_label="default"):
    """Medians of uba's query and its built-in baseline, run in alternation, with parallel
    plans as configured and then serial: rows of (name, plan, uba s, built-in s, ratio)."""
    out = []
    for parallel in (True, False):
        cur.execute("RESET max_parallel_workers_per_gather" if parallel
                    else "SET max_parallel_workers_per_gather = 0")
        for name, (uba_sql, base_sql) in cases.items():
            timed(cur, uba_sql)          # warm-up: caches and the library
            timed(cur, base_sql)
            u, b = [], []
            for _ in range(repeat):
                u.append(timed(cur, uba_sql)[0])
                b.append(timed(cur, base_sql)[0])
            um, bm = statistics.median(u), statistics.median(b)
            out.append((name, parallel_label if parallel else "serial", um, bm, um / bm))
    cur.execute("RESET max_parallel_workers_per_gather")
    return out


def print_comparison(rows, cases, what):
    """The table of compare_with_builtins() and the baseline queries, in Markdown."""
    print(f"| {what} | plan | uba s | built-in s | ratio |")
    print("|---|---|---:|---:|---:|")
    for name, plan, um, bm, ratio in rows:
        print(f"| {name} | {plan} | {um:.3f} | {bm:.3f} | {ratio:.2f} |")
    print("\nbuilt-in baselines:")
    for name, (_, base_sql) in cases.items():
        print(f"- {name}: {base_sql}")


def measure_plans(cur, queries, repeat, fetch):
    """Medians of the queries run in turns, with parallel plans as configured and then serial:
    {(name, plan): seconds}.  Unless fetch, each query is counted on the server, count(q.*) over
    its whole rows: every value is computed but no row travels to the client."""
    out = {}
    if not fetch:
        queries = {name: f"SELECT count(q.*) FROM ({q}) q" for name, q in queries.items()}
    for plan in ("parallel", "serial"):
        cur.execute("RESET max_parallel_workers_per_gather" if plan == "parallel"
                    else "SET max_parallel_workers_per_gather = 0")
        for name, q in queries.items():                 # warm-up: caches, the library
            t, rows = timed(cur, q)
            print(f"{plan} warm-up: {name} {t:.3f} s, {len(rows) if fetch else rows[0][0]:,} rows",
                  file=sys.stderr)
        times = {name: [] for name in queries}
        for i in range(repeat):
            for name, q in queries.items():
                t = timed(cur, q)[0]
                times[name].append(t)
                print(f"{plan} run {i + 1}: {name} {t:.3f} s", file=sys.stderr)
        for name, ts in times.items():
            out[name, plan] = statistics.median(ts)
    cur.execute("RESET max_parallel_workers_per_gather")
    return out
