#!/usr/bin/python3
"""Training by passes of statistics (uba_kmeans_train, uba_logreg_train(query)) on a Citus
cluster and on one node: the bytes one pass brings to the coordinator, the time of one pass and
of whole trainings, against the in-memory aggregates, and a table larger than uba.work_mem.

    test/citus.sh start                  # as root; prints DIR (UBA_CITUS_PORTS="57001 57002 57003" for other ports)
    /usr/bin/python3 bench/passes_bench.py --host DIR --port 57001
        [--rows 10000000] [--k 8] [--repeat 3] [--train-repeat 1] [--seed 0.42] [--big-work-mem 256MB]
        [--memory 4GB] [--kmeans-options '{"seed": 1}'] [--rebuild] [--drop]
    test/citus.sh stop DIR

The rows: on the coordinator, a local table pb_local and a table distributed by id in 32 shards,
pb_dist, both (id bigint, label boolean, x float8[]) with --rows rows (10,000,000): x 10 features
uniform in [-1, 1], label drawn with probability sigmoid(x . w) (w as in citus_bench.py), made
with random() after setseed(--seed); the distributed table is filled from the local one, and a
hash of every row, summed, is compared on both.  Tables made by an earlier run with the same
options are reused (their comment says how they were made); --rebuild remakes them.

The models a pass is run with: a k-means model with --k (8) centres, uba_kmeans(x, k,
'{"seed": 1}') over the rows with id <= 10000, and a logistic regression model,
uba_logreg_train(label, x) over the same rows; each is written into the pass's text as a bytea
literal, as the drivers' custom plans make it a constant.

1. One pass on Citus: a k-means Lloyd pass, SELECT uba_kmeans_pass(x, <model>, 0, 0), and a
   logistic regression Newton pass, SELECT uba_logreg_pass(label, x, <model>, true), on
   pb_dist and on pb_local.
   - Bytes: what the coordinator receives for the distributed pass, counted as citus_bench.py
     counts it (EXPLAIN VERBOSE lists every task; each task's query runs again on its node,
     wrapped in a count of its rows and a sum of its values' lengths in the protocol format Citus
     asks for); beside it the same count for the in-memory aggregates on pb_dist
     (uba_kmeans(x, k), uba_logreg_train(label, x)), which gather the rows.  Expected:
     O(shards x k x d) for a pass, O(rows) for the gathering.
   - Time: one warm-up, then --repeat (3) runs in turns (local with the servers' parallel
     settings, local serial with max_parallel_workers_per_gather = 0, distributed); medians.
   - Why a distributed pass costs what it costs: on the worker of the first task, the task's query
     as Citus sends it (worker_partial_agg(aggregate, ROW(arguments))) against the aggregate called
     directly on the same shard, both serial, medians of --repeat.
2. Whole trainings: uba_kmeans_train('SELECT x FROM pb_dist', k, --kmeans-options) against the
   same on pb_local and the in-memory aggregate uba_kmeans(x, k, --kmeans-options) on pb_local;
   uba_logreg_train('SELECT label, x FROM pb_dist') against pb_local and the aggregate
   uba_logreg_train(label, x) on pb_local; with "verbose": true, whose INFO lines give the
   passes (and iterations); --train-repeat runs each (1: a distributed k-means training is many
   passes; medians when more), in turns.  The aggregates run with uba.work_mem and uba.max_memory
   raised to --memory (4GB).  Checks: the k-means inertia (uba_kmeans_inertia) of the driver
   on pb_local and on pb_dist equal to 1e-9 relative (the in-memory aggregate starts from
   k-means++, the driver from k-means||: its inertia is printed beside, not compared); the logistic
   regression coefficients (uba_logreg_coefficients) of the three equal to 1e-8 (relative to
   max(1, |coefficient|)).
3. One node, a table larger than memory: with SET uba.work_mem = --big-work-mem (256MB), the
   in-memory uba_kmeans(x, k, options) on pb_local (rows x 10 x 8 bytes of features) must refuse
   (its error is printed) and uba_kmeans_train('SELECT x FROM pb_local', k, options) succeed (its
   time, passes, and its inertia equal to the unrestricted run's).

Everything runs on one machine (the coordinator and two workers), so the distributed pass is not
expected to be faster than the local one: the point is the bytes, and that the answers agree.
Mismatches are printed and the exit status is 1.  Progress and every run go to stderr, the tables
to stdout.
"""
import argparse
import json
import os
import re
import statistics
import sys
import time

import psycopg2

from benchlib import connect, timed
from citus_bench import Workers, citus_scans, explain

LOCAL, DIST = "pb_local", "pb_dist"
SHARDS = 32
D = 10

# citus_bench.py's features and label: the inner level draws, the outer ones combine the draws
# (OFFSET 0 keeps each level's random() calls to one per row)
GENERATE_SQL = """
CREATE TABLE {table} AS
SELECT id, u_label < 1 / (1 + exp(-lin)) AS label, x
FROM (
  SELECT id, x, 1.5 * x[1] - x[2] + 0.8 * x[3] - 0.5 * x[4] + 0.3 * x[5] - 0.2 * x[7] + 0.6 * x[9] AS lin, u_label
  FROM (
    SELECT g::bigint AS id,
           ARRAY[2 * random() - 1, 2 * random() - 1, 2 * random() - 1, 2 * random() - 1, 2 * random() - 1,
                 2 * random() - 1, 2 * random() - 1, 2 * random() - 1, 2 * random() - 1, 2 * random() - 1] AS x,
           random() AS u_label
      FROM generate_series(1, {rows}) g
    OFFSET 0) draws
  OFFSET 0) rows_
"""


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def make_tables(cur, rows, seed, rebuild):
    """The local and the distributed table, kept when an earlier run made the same; the hash of
    every row, summed, must agree."""
    tag = f"passes_bench rows={rows} d={D} seed={seed} shards={SHARDS}"
    cur.execute(f"SELECT obj_description(to_regclass('{LOCAL}'), 'pg_class'),"
                f" obj_description(to_regclass('{DIST}'), 'pg_class')")
    if rebuild or cur.fetchone() != (tag, tag):
        cur.execute(f"DROP TABLE IF EXISTS {LOCAL}, {DIST}")
        t0 = time.perf_counter()
        cur.execute("SELECT setseed(%s)", (seed,))
        cur.execute(GENERATE_SQL.format(table=LOCAL, rows=rows))
        t1 = time.perf_counter()
        log(f"made {LOCAL} ({rows:,} rows) in {t1 - t0:.1f} s")
        cur.execute(f"CREATE TABLE {DIST} (LIKE {LOCAL})")
        cur.execute(f"SELECT create_distributed_table('{DIST}', 'id', shard_count => {SHARDS})")
        cur.execute(f"INSERT INTO {DIST} SELECT * FROM {LOCAL}")
        t2 = time.perf_counter()
        log(f"filled {DIST} ({SHARDS} shards) in {t2 - t1:.1f} s")
        cur.execute(f"VACUUM ANALYZE {LOCAL}")
        cur.execute(f"VACUUM ANALYZE {DIST}")
        log(f"vacuumed both in {time.perf_counter() - t2:.1f} s")
        cur.execute(f"COMMENT ON TABLE {LOCAL} IS '{tag}'")
        cur.execute(f"COMMENT ON TABLE {DIST} IS '{tag}'")
        load = time.perf_counter() - t0
    else:
        log(f"reusing {LOCAL} and {DIST} ({tag})")
        load = None
    sums = []
    for t in (LOCAL, DIST):
        cur.execute(f"SELECT count(*), sum(hashtext(e::text)::numeric) FROM {t} e")
        sums.append(cur.fetchone())
    if sums[0] != sums[1]:
        raise SystemExit(f"the two tables differ: {LOCAL} {sums[0]}, {DIST} {sums[1]}")
    return sums[0][0], load


def literal(cur, model):
    """A bytea literal of a model, for the text of a query."""
    return cur.mogrify("%s", (psycopg2.Binary(bytes(model)),)).decode()


def tasks_of(cur, sql):
    """The tasks (query, node) of a distributed query, and how it runs."""
    plan = explain(cur, sql, analyze=False)
    tasks = [(t["Query"], t["Node"]) for s in citus_scans(plan) for t in s["Distributed Query"]["Job"].get("Tasks", [])]
    how = "split" if any("worker_partial_agg" in q for q, _ in tasks) else "rows gathered"
    return tasks, how


def received(cur, workers, sql):
    """What the coordinator receives for a distributed query: (bytes, rows, tasks, format, how)."""
    tasks, how = tasks_of(cur, sql)
    nbytes = nrows = 0
    formats = set()
    for q, node in tasks:
        r, b, binary = workers.replay(node, q)
        nrows, nbytes = nrows + r, nbytes + b
        formats.add("binary" if binary else "text")
    return nbytes, nrows, len(tasks), "/".join(sorted(formats)), how


def planned_workers(cur, sql):
    """Parallel workers the local plan asks for (0: serial)."""
    cur.execute("EXPLAIN (FORMAT JSON) " + sql)
    plan = cur.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def find(n):
        if isinstance(n, dict):
            if "Workers Planned" in n:
                return n["Workers Planned"]
            for v in n.values():
                w = find(v)
                if w is not None:
                    return w
        elif isinstance(n, list):
            for v in n:
                w = find(v)
                if w is not None:
                    return w
        return None
    return find(plan) or 0


def shard_diagnosis(cur, workers, sql, direct, repeat):
    """On the worker of the first task: (shard rows, task query s, direct aggregate s), serial."""
    tasks, _ = tasks_of(cur, sql)
    q, node = tasks[0]
    shard = re.search(r" FROM (\S+) " + DIST + r"\b", q).group(1)
    wc = workers.cursor(node)
    wc.execute("SET max_parallel_workers_per_gather = 0")
    wc.execute(f"SELECT count(*) FROM {shard}")
    rows = wc.fetchone()[0]
    dq = direct.format(t=shard)
    timed(wc, q)
    timed(wc, dq)
    tq, td = [], []
    for _ in range(repeat):
        tq.append(timed(wc, q)[0])
        td.append(timed(wc, dq)[0])
    wc.execute("RESET max_parallel_workers_per_gather")
    return shard, node, rows, statistics.median(tq), statistics.median(td)


def notices(conn):
    """The INFO lines received since the last call, and forget them."""
    out = [n.strip() for n in conn.notices]
    del conn.notices[:]
    return out


def passes_of(lines):
    """(passes, iterations) from a training's verbose INFO lines; the logistic regression's Newton
    iterations per phase ("5 + 3 (warm start on the first sixteenth of the rows, then all rows)")."""
    passes = iters = None
    phases = {}
    for line in lines:
        m = re.search(r"(\d+) passes over the rows", line)
        if m:
            passes = int(m.group(1))
        m = re.search(r"after (\d+) iterations", line)
        if m:
            iters = int(m.group(1))
        m = re.search(r"uba_logreg_train: (.*), Newton iteration (\d+)", line)
        if m:
            phases[m.group(1)] = max(phases.get(m.group(1), 0), int(m.group(2)))
    if len(phases) == 1:
        iters = next(iter(phases.values()))
    elif phases:
        iters = " + ".join(str(n) for n in phases.values()) + " (" + ", then ".join(phases) + ")"
    return passes, iters


def coefficients(cur, model):
    cur.execute("SELECT feature, coefficient FROM uba_logreg_coefficients(%s::bytea) ORDER BY feature",
                (psycopg2.Binary(bytes(model)),))
    return cur.fetchall()


def inertia(cur, model):
    cur.execute("SELECT uba_kmeans_inertia(%s::bytea)", (psycopg2.Binary(bytes(model)),))
    return cur.fetchone()[0]


def train(cur, label, sql, repeat_out, lines_out, models_out):
    """One run of a training query: its time, model and INFO lines, kept under label."""
    notices(cur.connection)
    t, rows = timed(cur, sql)
    lines = notices(cur.connection)
    repeat_out.setdefault(label, []).append(t)
    lines_out[label] = lines
    models_out[label] = rows[0][0]
    p, it = passes_of(lines)
    log(f"{label}: {t:.2f} s, passes {p}, iterations {it}")
    for line in lines if label.startswith("logreg") else lines[-3:]:
        log("    " + line)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="", help="the coordinator's socket directory (test/citus.sh start prints it)")
    ap.add_argument("--port", type=int, default=57001)
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--dbname", default="postgres")
    ap.add_argument("--dsn", default=None, help="a libpq connection string instead of --host/--port/--user/--dbname")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each single pass (medians)")
    ap.add_argument("--train-repeat", type=int, default=1, help="runs of each whole training (medians)")
    ap.add_argument("--seed", type=float, default=0.42, help="setseed() before making the rows")
    ap.add_argument("--kmeans-options", default='{"seed": 1}', help="options of every k-means training")
    ap.add_argument("--memory", default="4GB", help="uba.work_mem and uba.max_memory for the in-memory aggregates")
    ap.add_argument("--big-work-mem", default="256MB", help="uba.work_mem of part 3")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: passes,diagnosis,trainings,big")
    ap.add_argument("--rebuild", action="store_true", help="make the tables again even if they are there")
    ap.add_argument("--drop", action="store_true", help="drop the tables at the end")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    dsn = args.dsn if args.dsn is not None else \
        f"host={args.host} port={args.port} user={args.user} dbname={args.dbname}"
    cur = connect(dsn)
    conn = cur.connection
    cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'citus'")
    row = cur.fetchone()
    if row is None:
        raise SystemExit("citus is not installed in this database: point --host/--port at a Citus coordinator")
    citus = row[0]
    cur.execute("SELECT count(*) FROM citus_get_active_worker_nodes()")
    nworkers = cur.fetchone()[0]
    workers = Workers(conn.info.user)
    nrows, load = make_tables(cur, args.rows, args.seed, args.rebuild)
    cur.execute("LOAD 'uba'")          # its settings (uba.work_mem) are defined by the library

    cur.execute("SELECT current_setting('server_version'), current_setting('max_parallel_workers_per_gather'),"
                " current_setting('max_parallel_workers'), current_setting('citus.max_adaptive_executor_pool_size'),"
                " current_setting('jit'), current_setting('shared_buffers'),"
                " (SELECT extversion FROM pg_extension WHERE extname = 'uba'), pg_size_pretty(pg_table_size(%s)),"
                " pg_size_pretty(citus_table_size(%s)), current_setting('uba.work_mem'), current_setting('uba.max_memory')",
                (LOCAL, DIST))
    version, gather, maxpar, pool, jit, shared_buffers, uba, local_size, dist_size, work_mem, max_memory = cur.fetchone()
    loadavg = os.getloadavg()[0]
    k = args.k
    kopts = json.loads(args.kmeans_options)
    kopts_sql = json.dumps(kopts)
    kopts_verbose = json.dumps(dict(kopts, verbose=True))
    mismatches = []

    # the models the single passes run with
    cur.execute(f"SELECT uba_kmeans(x, {k}, '{{\"seed\": 1}}') FROM (SELECT x FROM {LOCAL} WHERE id <= 10000) s")
    km = literal(cur, cur.fetchone()[0])
    cur.execute(f"SELECT uba_logreg_train(label, x) FROM (SELECT label, x FROM {LOCAL} WHERE id <= 10000) s")
    lr = literal(cur, cur.fetchone()[0])
    passes = {
        "k-means Lloyd pass": ("SELECT uba_kmeans_pass(x, " + km + ", 0, 0) FROM {t}",
                               f"SELECT uba_kmeans(x, {k}) FROM {{t}}"),
        "logreg Newton pass": ("SELECT uba_logreg_pass(label, x, " + lr + ", true) FROM {t}",
                               "SELECT uba_logreg_train(label, x) FROM {t}"),
    }
    log(f"models: k-means {len(km) // 2:,} bytes, logreg {len(lr) // 2:,} bytes (as literals)")

    # 1. one pass: bytes and time
    pass_rows = []
    if "passes" not in skip:
        for name, (pq, gq) in passes.items():
            nbytes, nrec, ntasks, fmt, how = received(cur, workers, pq.format(t=DIST))
            gbytes, grec, _, gfmt, ghow = received(cur, workers, gq.format(t=DIST))
            log(f"{name}: {how}, {nbytes:,} bytes ({fmt}) in {nrec} rows from {ntasks} tasks; the aggregate: "
                f"{ghow}, {gbytes:,} bytes ({gfmt}) in {grec:,} rows")
            ql, qd = pq.format(t=LOCAL), pq.format(t=DIST)
            nplanned = planned_workers(cur, ql)
            runs = {"local": [], "local serial": [], "distributed": []}

            def one(plan):
                if plan == "local serial":
                    cur.execute("SET max_parallel_workers_per_gather = 0")
                t, rows = timed(cur, qd if plan == "distributed" else ql)
                cur.execute("RESET max_parallel_workers_per_gather")
                return t, rows
            for plan in runs:
                t, _ = one(plan)
                log(f"{name} warm-up {plan}: {t:.3f} s")
            answers = {}
            for i in range(args.repeat):
                for plan in runs:
                    t, rows = one(plan)
                    runs[plan].append(t)
                    answers[plan] = bytes(rows[0][0])
                log(f"{name} run {i + 1}: " + ", ".join(f"{p} {runs[p][-1]:.3f} s" for p in runs))
            med = {p: statistics.median(ts) for p, ts in runs.items()}
            pass_rows.append((name, how, nbytes, nrec, fmt, len(answers["local"]), gbytes, grec, nplanned, med))

    # why a distributed pass costs what it does: one shard, the task's query against the aggregate
    diag_rows = []
    if "diagnosis" not in skip:
        direct = {"k-means Lloyd pass": "SELECT uba_kmeans_pass(x, " + km + ", 0, 0::bigint) FROM {t}",
                  "logreg Newton pass": "SELECT uba_logreg_pass(label, x, " + lr + ", true) FROM {t}"}
        for name, (pq, _) in passes.items():
            shard, node, srows, tq, td = shard_diagnosis(cur, workers, pq.format(t=DIST), direct[name], args.repeat)
            log(f"{name} on {shard} ({node}, {srows:,} rows): task query {tq:.4f} s, the aggregate directly {td:.4f} s")
            diag_rows.append((name, shard, srows, tq, td))

    # 2. whole trainings
    times, lines, models = {}, {}, {}
    kmeans_runs = {
        "k-means, in-memory uba_kmeans on local": f"SELECT uba_kmeans(x, {k}, '{kopts_verbose}'::jsonb) FROM {LOCAL}",
        "k-means, uba_kmeans_train on local": f"SELECT uba_kmeans_train('SELECT x FROM {LOCAL}', {k}, '{kopts_verbose}')",
        "k-means, uba_kmeans_train on distributed": f"SELECT uba_kmeans_train('SELECT x FROM {DIST}', {k}, '{kopts_verbose}')",
    }
    logreg_runs = {
        "logreg, in-memory uba_logreg_train on local": f"SELECT uba_logreg_train(label, x, '{{\"verbose\": true}}'::jsonb) FROM {LOCAL}",
        "logreg, uba_logreg_train(query) on local": f"SELECT uba_logreg_train('SELECT label, x FROM {LOCAL}', '{{\"verbose\": true}}'::jsonb)",
        "logreg, uba_logreg_train(query) on distributed": f"SELECT uba_logreg_train('SELECT label, x FROM {DIST}', '{{\"verbose\": true}}'::jsonb)",
    }
    train_rows, checks = [], []
    if "trainings" not in skip:
        cur.execute(f"SET uba.max_memory = '{args.memory}'")
        cur.execute(f"SET uba.work_mem = '{args.memory}'")
        for runs in (logreg_runs, kmeans_runs):
            for i in range(args.train_repeat):
                for label, sql in runs.items():
                    train(cur, label, sql, times, lines, models)
        cur.execute("RESET uba.work_mem")
        cur.execute("RESET uba.max_memory")
        for runs in (kmeans_runs, logreg_runs):
            for label in runs:
                p, it = passes_of(lines[label])
                extra = ""
                if label.startswith("k-means"):
                    extra = f"inertia {inertia(cur, models[label]):.10g}"
                train_rows.append((label, statistics.median(times[label]), len(times[label]), p, it, extra))
        # checks
        km_mem, kl, kd = (inertia(cur, models[lbl]) for lbl in kmeans_runs)
        rel = abs(kd - kl) / max(abs(kl), abs(kd))
        ok = rel <= 1e-9
        checks.append(f"k-means inertia, driver on distributed vs on local: {kd:.12g} vs {kl:.12g}, relative "
                      f"difference {rel:.2e} ({'equal to 1e-9' if ok else 'DIFFERENT'}); the in-memory aggregate "
                      f"(k-means++ start): {km_mem:.12g}, {km_mem / kl - 1:+.2e} relative to the driver's")
        if not ok:
            mismatches.append(checks[-1])
        lcs = {lbl: coefficients(cur, models[lbl]) for lbl in logreg_runs}
        mem, loc, dist = (lcs[lbl] for lbl in logreg_runs)
        for a_name, a, b_name, b in (("driver on local", loc, "driver on distributed", dist),
                                     ("in-memory aggregate", mem, "driver on local", loc),
                                     ("in-memory aggregate", mem, "driver on distributed", dist)):
            if [f for f, _ in a] != [f for f, _ in b]:
                checks.append(f"logreg {a_name} vs {b_name}: features differ")
                mismatches.append(checks[-1])
                continue
            worst = max(abs(x - y) / max(1.0, abs(x)) for (_, x), (_, y) in zip(a, b))
            ok = worst <= 1e-8
            checks.append(f"logreg coefficients, {a_name} vs {b_name}: largest difference {worst:.2e} "
                          f"(relative to max(1, |c|)) ({'equal to 1e-8' if ok else 'DIFFERENT'})")
            if not ok:
                mismatches.append(checks[-1] + ": " + repr([(f, x, y) for (f, x), (_, y) in zip(a, b)]))

    # 3. one node, more rows than uba.work_mem allows the in-memory aggregate
    big = None
    if "big" not in skip:
        cur.execute(f"SET uba.work_mem = '{args.big_work_mem}'")
        cur.execute(f"SELECT pg_size_pretty({nrows}::bigint * {D} * 8), current_setting('uba.work_mem')")
        features_size, wm = cur.fetchone()
        t0 = time.perf_counter()
        try:
            cur.execute(f"SELECT uba_kmeans(x, {k}, '{kopts_sql}'::jsonb) FROM {LOCAL}")
            refused = f"NOT refused (returned after {time.perf_counter() - t0:.1f} s)"
            mismatches.append(f"uba_kmeans on {LOCAL} with uba.work_mem {wm} was not refused")
        except psycopg2.Error as e:
            refused = (f"refused after {time.perf_counter() - t0:.2f} s: ERROR {e.pgcode}: {e.diag.message_primary}"
                       + (f" HINT: {e.diag.message_hint}" if e.diag.message_hint else ""))
        log(f"in-memory aggregate, uba.work_mem {wm}: {refused}")
        label = "k-means, uba_kmeans_train on local, uba.work_mem " + wm
        train(cur, label, kmeans_runs["k-means, uba_kmeans_train on local"], times, lines, models)
        cur.execute("RESET uba.work_mem")
        p, it = passes_of(lines[label])
        bi = inertia(cur, models[label])
        same = ""
        if "k-means, uba_kmeans_train on local" in models:
            base = inertia(cur, models["k-means, uba_kmeans_train on local"])
            same = (f"; inertia {bi:.12g}, the unrestricted run's {base:.12g}: "
                    + ("equal" if abs(bi - base) <= 1e-9 * abs(base) else "DIFFERENT"))
            if abs(bi - base) > 1e-9 * abs(base):
                mismatches.append(f"uba_kmeans_train under uba.work_mem {wm}: inertia {bi} vs {base}")
        big = (wm, features_size, refused, times[label][0], p, it, same)

    # the tables
    print(f"\n{nrows:,} rows x {D} features (k = {k}); pb_dist in {SHARDS} shards on {nworkers} workers, all on this "
          f"machine ({os.cpu_count()} cores); PostgreSQL {version}, Citus {citus}, uba {uba}; table sizes {local_size} "
          f"local, {dist_size} distributed; max_parallel_workers_per_gather {gather}, max_parallel_workers {maxpar}, "
          f"citus.max_adaptive_executor_pool_size {pool}, jit {jit}, shared_buffers {shared_buffers}; uba.work_mem "
          f"{work_mem}, uba.max_memory {max_memory} (raised to {args.memory} for the in-memory aggregates); load "
          f"average {loadavg:.2f} before timing" + (f"; tables made in {load:.0f} s" if load else ""))
    if pass_rows:
        print(f"\n### One pass (medians of {args.repeat} runs)\n")
        print("| pass | how it runs on Citus | bytes the coordinator receives | partial states | bytes per state "
              "| result (bytes) | the in-memory aggregate on pb_dist gathers | local s (workers planned) "
              "| local serial s | distributed s | distributed / local |")
        print("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
        for name, how, nbytes, nrec, fmt, result, gbytes, grec, nplanned, med in pass_rows:
            print(f"| {name} | {how} | {nbytes:,} ({fmt}) | {nrec} | {nbytes / max(nrec, 1):,.0f} | {result:,} | "
                  f"{gbytes:,} bytes in {grec:,} rows ({gbytes / max(nbytes, 1):,.0f}x) | {med['local']:.3f} ({nplanned}) | "
                  f"{med['local serial']:.3f} | {med['distributed']:.3f} | {med['distributed'] / med['local']:.2f} |")
        print("\nbytes: each task's tuple data, counted as citus_bench.py counts it (each task's query run again on "
              "its node); a partial state travels as worker_partial_agg's cstring, the hex text of the bytea "
              "state (2 bytes a byte, plus 2); local: the servers' parallel settings; local serial: "
              "max_parallel_workers_per_gather = 0")
    if diag_rows:
        print(f"\n### One shard, on its worker, serial (medians of {args.repeat} runs)\n")
        print("| pass | shard | rows | Citus's task query s | the aggregate directly s | ratio | extra per row |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for name, shard, srows, tq, td in diag_rows:
            print(f"| {name} | {shard} | {srows:,} | {tq:.4f} | {td:.4f} | {tq / td:.2f} | "
                  f"{(tq - td) / srows * 1e9:,.0f} ns |")
        print("\ntask query: SELECT worker_partial_agg('<aggregate>'::regprocedure, ROW(<arguments>)) FROM <shard>, "
              "as Citus sends it; directly: SELECT <aggregate>(<arguments>) FROM <shard>")
    if train_rows:
        print(f"\n### Whole trainings ({'medians of ' + str(args.train_repeat) + ' runs' if args.train_repeat > 1 else 'one run each'})\n")
        print(f"k-means options {kopts_sql}; logistic regression default options\n")
        print("| training | s | passes over the rows | iterations | model |")
        print("|---|---:|---:|---:|---|")
        for label, t, n, p, it, extra in train_rows:
            print(f"| {label} | {t:.2f} | {p if p is not None else '- (in memory)'} | {it if it is not None else '-'} | {extra} |")
        print()
        for c in checks:
            print(f"- {c}")
    if big:
        wm, features_size, refused, t, p, it, same = big
        print(f"\n### One node, more rows than uba.work_mem allows\n")
        print(f"{nrows:,} rows x {D} features in {LOCAL} ({features_size} of feature values), uba.work_mem = {wm}\n")
        print("| query | result | s | passes | iterations |")
        print("|---|---|---:|---:|---:|")
        print(f"| uba_kmeans(x, {k}, '{kopts_sql}') FROM {LOCAL} | {refused} | - | - | - |")
        print(f"| uba_kmeans_train('SELECT x FROM {LOCAL}', {k}, '{kopts_sql}') | model{same} | {t:.2f} | {p} | {it} |")
    if mismatches:
        print("\nmismatches:")
        for m in mismatches:
            print(f"- {m}")
    else:
        print("\nevery check agreed")
    workers.close()
    if args.drop:
        cur.execute(f"DROP TABLE {LOCAL}, {DIST}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
