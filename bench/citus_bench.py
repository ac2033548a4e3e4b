#!/usr/bin/python3
"""What uba costs on a Citus cluster against the same query on one node, and how many bytes the
coordinator receives from the workers.

On the coordinator of a running cluster (test/citus.sh start prints one), the same events go into
a local table, cb_events_local, and a table distributed by user_id in 32 shards, cb_events_dist:

    cb_events_*(user_id bigint, ts timestamptz, event text, category text, item int, amount float8,
                score float8, label boolean, x float8[] (10 features), y float8)

--rows events (2,000,000) of about --users users (100,000; user ids skewed towards the small ones,
power(random(), 2)), made with random() after setseed(--seed), so the same options give the same
rows; the distributed table is filled from the local one (INSERT ... SELECT), and a hash of every
row, summed, is compared on both before anything is timed.  Each user's events fall in the 84
days (12 weeks) after a first day of their own among the 60 days from 2024-03-01, most of them in
the first days (power(random(), 3)); event view 60%, cart 20%, purchase 10%, search 10%;
8 categories, 5,000 items, amounts 0 to 200 in cents; x uniform in [-1, 1]; label drawn with probability
sigmoid(x . w), score = sigmoid(x . w + noise); y = 3 + x . b + noise.  (item is not in the
issue's column list: uba_profile needs an item id.)  Tables made by an earlier run with the same
options are reused (their comment says how they were made); --rebuild remakes them.

The queries, each on both tables (--show-sql prints them):

1. funnel: the per-user funnel table, SELECT depth, count(*) FROM (SELECT user_id,
   uba_funnel(ts, '1 day', ARRAY[view, cart, purchase]) ... GROUP BY user_id) f GROUP BY depth;
2. retention: doc/behaviour.md's weekly cohorts, uba_retention per user (cohort week, then 1, 2,
   3, 4, 8 and 12 weeks later), summed per cohort;
3. profile: uba_profile per user, counted (count(p), and sum((p).events), sum((p).sessions) to
   check that the profiles agree); no profile travels to the client;
4. f1: uba_f1_score(score >= 0.5, label) over the whole table;
5. rmse: uba_rmse(score, y);
6. auc: uba_auc(score, label);
7. linreg: uba_linreg_train(y, x) (ridge, default options);
8. logreg: uba_logreg_train(label, x) (default options).

Timing: one warm-up run of each query on each table, then --repeat (3) runs taking turns, local
then distributed; medians, seconds to run the query and fetch its (small) answer.  The settings
are the servers' (printed): the local table may use parallel workers on the coordinator, the
distributed one runs 32 shard tasks over the two workers' connections.  Everything runs on one
machine, so the distributed plan is not expected to be faster: the point is the bytes.

Bytes: what the coordinator receives from the workers for the distributed query, counted as Citus
counts its "Tuple data received from nodes": the length of every value of every row every task
returns, in the protocol format Citus asks for (binary, citus.enable_binary_protocol being on, when
every result column's type has binary I/O and is not a row type; else text), NULLs nothing.
EXPLAIN (ANALYZE) cannot give it for all the queries: with a split custom aggregate it fails
(column "field_0" has pseudo-type cstring: Citus wraps each task in
worker_save_query_explain_analyze() with a column definition list, and worker_partial_agg returns
cstring; open Citus issue 4043), and where it runs it prints the count through pg_size_pretty()
("176 kB"), also in JSON.  So after the timings, EXPLAIN (VERBOSE, FORMAT JSON) with
citus.explain_all_tasks on lists every task's query and node, and each task's query runs again on
its node, wrapped in a count of its rows and a sum of its values' lengths (each column through its
type's send function, binary, or output function, text).  Where EXPLAIN ANALYZE runs, its figure
is printed beside, with whether it equals pg_size_pretty() of the count.  How the query runs is read
from the tasks' queries, as test/citus/sql/setup.sql's where_runs() does: "split" when they call
worker_partial_agg (each shard task sends one partial state, the coordinator combines them), "per
user on workers" when the aggregate is in their text (each shard sends its users' results, or the
grouping of them: Citus splits the outer count() and sum()), "rows gathered" otherwise (the
workers send their input rows and the coordinator aggregates).  Bytes per row received is then
the size of one partial state (split), one per-shard result row, or one input row (gathered).
Expected: O(shards x state) for the split aggregates, O(rows) for the gathered ones.

Check: each query's answer on the distributed table against the local one: counts and tables
equal, floats to 1e-9 relative, the models' coefficients (uba_linreg_coefficients,
uba_logreg_coefficients) to 1e-8 (relative to max(1, |coefficient|)).  Mismatches are printed and
the exit status is 1.  Progress and every run go to stderr, the tables to stdout.

    test/citus.sh start        # as root; prints DIR
    /usr/bin/python3 bench/citus_bench.py --dsn "host=DIR port=57001 user=postgres dbname=postgres"
        [--rows 2000000] [--users 100000] [--repeat 3] [--seed 0.42] [--rebuild] [--drop] [--show-sql]
    test/citus.sh stop DIR
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import psycopg2

from benchlib import connect, timed

LOCAL, DIST = "cb_events_local", "cb_events_dist"
SHARDS = 32
PROFILE_OPTIONS = '{"end": "2024-07-31"}'   # after the last event

# The events, from random() after setseed(): the inner level draws, the outer ones combine the
# draws (OFFSET 0 keeps each level's random() calls to one per row).
GENERATE_SQL = """
CREATE TABLE {table} AS
SELECT user_id, ts, event, category, item, amount,
       1 / (1 + exp(-(lin + noise1))) AS score,
       u_label < 1 / (1 + exp(-lin)) AS label,
       ARRAY[f1, f2, f3, f4, f5, f6, f7, f8, f9, f10] AS x,
       3 + 2 * f1 - f2 + 0.5 * f3 + 0.25 * f4 - 1.5 * f5 + 0.1 * f6 + 0.8 * f8 - 0.3 * f10 + noise2 AS y
FROM (
  SELECT user_id,
         timestamptz '2024-03-01 00:00:00+00'
           + ((user_id * 2654435761) % 60) * interval '1 day'
           + floor(u_ts * 84 * 86400) * interval '1 second' AS ts,
         event, category, item, amount, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10,
         1.5 * f1 - f2 + 0.8 * f3 - 0.5 * f4 + 0.3 * f5 - 0.2 * f7 + 0.6 * f9 AS lin,
         noise1, noise2, u_label
  FROM (
    SELECT 1 + floor({users} * power(random(), 2))::bigint AS user_id,
           power(random(), 3) AS u_ts,
           (ARRAY['view', 'view', 'view', 'view', 'view', 'view', 'cart', 'cart', 'purchase', 'search'])
             [1 + floor(random() * 10)::int] AS event,
           (ARRAY['shoes', 'hats', 'bags', 'books', 'toys', 'food', 'garden', 'music'])
             [1 + floor(random() * 8)::int] AS category,
           1 + floor(random() * 5000)::int AS item,
           round(random() * 20000) / 100 AS amount,
           2 * random() - 1 AS f1, 2 * random() - 1 AS f2, 2 * random() - 1 AS f3, 2 * random() - 1 AS f4,
           2 * random() - 1 AS f5, 2 * random() - 1 AS f6, 2 * random() - 1 AS f7, 2 * random() - 1 AS f8,
           2 * random() - 1 AS f9, 2 * random() - 1 AS f10,
           random() + random() + random() - 1.5 AS noise1,
           0.5 * (random() + random() + random() - 1.5) AS noise2,
           random() AS u_label
      FROM generate_series(1, {rows}) g
    OFFSET 0) draws
  OFFSET 0) events
"""

QUERIES = {
    "1 funnel": """\
SELECT depth, count(*) AS users
  FROM (SELECT user_id, uba_funnel(ts, '1 day', ARRAY[event = 'view', event = 'cart', event = 'purchase']) AS depth
          FROM {t} GROUP BY user_id) f
 GROUP BY depth ORDER BY depth""",
    "2 retention": """\
SELECT cohort::date, count(*) AS users, sum(r[2]::int) AS w1, sum(r[3]::int) AS w2, sum(r[4]::int) AS w3,
       sum(r[5]::int) AS w4, sum(r[6]::int) AS w8, sum(r[7]::int) AS w12
  FROM (SELECT c.cohort, uba_retention(ARRAY[e.week = c.cohort,
                                             e.week = c.cohort + interval '1 week',
                                             e.week = c.cohort + interval '2 weeks',
                                             e.week = c.cohort + interval '3 weeks',
                                             e.week = c.cohort + interval '4 weeks',
                                             e.week = c.cohort + interval '8 weeks',
                                             e.week = c.cohort + interval '12 weeks']) AS r
          FROM (SELECT user_id, date_trunc('week', ts) AS week FROM {t}) e
          JOIN (SELECT user_id, min(date_trunc('week', ts)) AS cohort FROM {t} GROUP BY user_id) c USING (user_id)
         GROUP BY c.cohort, e.user_id) per_user
 GROUP BY cohort ORDER BY cohort""",
    "3 profile": """\
SELECT count(p) AS profiles, sum((p).events) AS events, sum((p).sessions) AS sessions
  FROM (SELECT user_id, uba_profile(ts, event, item, category, amount, '{profile_options}'::jsonb) AS p
          FROM {t} GROUP BY user_id) s""",
    "4 f1": "SELECT uba_f1_score(score >= 0.5, label) FROM {t}",
    "5 rmse": "SELECT uba_rmse(score, y) FROM {t}",
    "6 auc": "SELECT uba_auc(score, label) FROM {t}",
    "7 linreg": "SELECT uba_linreg_train(y, x) FROM {t}",
    "8 logreg": "SELECT uba_logreg_train(label, x) FROM {t}",
}
# the aggregate of each query, to find in the workers' query text
FUNCTION = {"1 funnel": "uba_funnel", "2 retention": "uba_retention", "3 profile": "uba_profile",
            "4 f1": "uba_f1_score", "5 rmse": "uba_rmse", "6 auc": "uba_auc",
            "7 linreg": "uba_linreg_train", "8 logreg": "uba_logreg_train"}
COEFFICIENTS = {"7 linreg": "uba_linreg_coefficients", "8 logreg": "uba_logreg_coefficients"}


def query(name, table):
    return QUERIES[name].format(t=table, profile_options=PROFILE_OPTIONS)


def make_tables(cur, rows, users, seed, rebuild):
    """The local and the distributed table with the requested rows, kept when an earlier run made
    the same; then the hash of every row, summed, must agree."""
    tag = f"citus_bench rows={rows} users={users} seed={seed} shards={SHARDS} span=84d"
    cur.execute(f"SELECT obj_description(to_regclass('{LOCAL}'), 'pg_class'),"
                f" obj_description(to_regclass('{DIST}'), 'pg_class')")
    if rebuild or cur.fetchone() != (tag, tag):
        cur.execute(f"DROP TABLE IF EXISTS {LOCAL}, {DIST}")
        t0 = time.perf_counter()
        cur.execute("SELECT setseed(%s)", (seed,))
        cur.execute(GENERATE_SQL.format(table=LOCAL, rows=rows, users=users))
        t1 = time.perf_counter()
        print(f"made {LOCAL} ({rows:,} events) in {t1 - t0:.1f} s", file=sys.stderr)
        cur.execute(f"CREATE TABLE {DIST} (LIKE {LOCAL})")
        cur.execute(f"SELECT create_distributed_table('{DIST}', 'user_id', shard_count => {SHARDS})")
        cur.execute(f"INSERT INTO {DIST} SELECT * FROM {LOCAL}")
        print(f"filled {DIST} ({SHARDS} shards) in {time.perf_counter() - t1:.1f} s", file=sys.stderr)
        cur.execute(f"VACUUM ANALYZE {LOCAL}")
        cur.execute(f"VACUUM ANALYZE {DIST}")
        cur.execute(f"COMMENT ON TABLE {LOCAL} IS '{tag}'")
        cur.execute(f"COMMENT ON TABLE {DIST} IS '{tag}'")
    else:
        print(f"reusing {LOCAL} and {DIST} ({tag})", file=sys.stderr)
    sums = []
    for t in (LOCAL, DIST):
        cur.execute(f"SELECT count(*), count(DISTINCT user_id), sum(hashtext(e::text)::numeric) FROM {t} e")
        sums.append(cur.fetchone())
    if sums[0] != sums[1]:
        raise SystemExit(f"the two tables differ: {LOCAL} {sums[0]}, {DIST} {sums[1]}")
    return sums[0][0], sums[0][1]


def walk(node, key):
    """Every value of key in a parsed EXPLAIN JSON tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from walk(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v, key)


def citus_scans(node):
    """The Citus Custom Scan nodes of a plan (not those inside the workers' plans)."""
    if isinstance(node, dict):
        if node.get("Node Type") == "Custom Scan" and str(node.get("Custom Plan Provider", "")).startswith("Citus"):
            yield node
        for k, v in node.items():
            if k != "Remote Plan":
                yield from citus_scans(v)
    elif isinstance(node, list):
        for v in node:
            yield from citus_scans(v)


def explain(cur, sql, analyze):
    """The parsed EXPLAIN (VERBOSE, FORMAT JSON) of a query, every task shown; with analyze, run."""
    cur.execute("SET citus.explain_all_tasks = on")
    try:
        cur.execute(f"EXPLAIN ({'ANALYZE, ' if analyze else ''}VERBOSE, FORMAT JSON) " + sql)
        plan = cur.fetchone()[0]
    finally:
        cur.execute("RESET citus.explain_all_tasks")
    return json.loads(plan) if isinstance(plan, str) else plan


class Workers:
    """Connections to the nodes that run the tasks, by the task's "Node" (host, port, dbname)."""

    def __init__(self, user):
        self.user, self.cursors, self.binary = user, {}, {}

    def cursor(self, node):
        if node not in self.cursors:
            conn = psycopg2.connect(f"{node} user={self.user}")
            conn.autocommit = True
            self.cursors[node] = conn.cursor()
        return self.cursors[node]

    def binary_ok(self, cur, oid):
        """Citus's CanUseBinaryCopyFormatForType: send and receive functions, not a row type, and
        the same for the element type (arrays) and the base type (domains)."""
        cur.execute("""SELECT typsend::oid <> 0 AND typreceive::oid <> 0, typtype = 'c' OR oid = 'record'::regtype,
                              typelem::oid, typbasetype::oid FROM pg_type WHERE oid = %s""", (oid,))
        io, rowtype, elem, base = cur.fetchone()
        return io and not rowtype and (elem == 0 or self.binary_ok(cur, elem)) and (base == 0 or self.binary_ok(cur, base))

    def replay(self, node, sql):
        """(rows, bytes) a task sends: the task's query run again on its node, each value's length in
        the format Citus asks for (binary when every column's type allows it, as with
        citus.enable_binary_protocol on; else text), NULLs 0, as Citus counts its tuple data."""
        cur = self.cursor(node)
        cur.execute(f"SELECT * FROM ({sql}) q LIMIT 0")
        oids = [d.type_code for d in cur.description]
        binary = all(self.binary_ok(cur, oid) for oid in oids)
        sizes = []
        for i, oid in enumerate(oids):
            cur.execute("SELECT typsend::text, typoutput::text FROM pg_type WHERE oid = %s", (oid,))
            send, out = cur.fetchone()
            sizes.append(f"coalesce(octet_length({send}(c{i})), 0)" if binary
                         else f"coalesce(octet_length({out}(c{i})::text), 0)")
        cols = ", ".join(f"c{i}" for i in range(len(oids)))
        cur.execute(f"SELECT count(*), coalesce(sum({' + '.join(sizes)}), 0) FROM ({sql}) q({cols})")
        rows, nbytes = cur.fetchone()
        return rows, int(nbytes), binary

    def close(self):
        for cur in self.cursors.values():
            cur.connection.close()


def transfer(cur, workers, name):
    """What the coordinator receives for the distributed query: (bytes, rows, tasks, formats, how it
    runs, Citus's own count from EXPLAIN ANALYZE or the error that stops it)."""
    sql = query(name, DIST)
    plan = explain(cur, sql, analyze=False)
    tasks = [t for s in citus_scans(plan) for t in s["Distributed Query"]["Job"].get("Tasks", [])]
    if any(walk(plan, "Subplans")):
        print(f"{name}: the plan has subplans (intermediate results): only the final tasks are counted",
              file=sys.stderr)
    worker_sql = " ".join(t["Query"] for t in tasks)
    if "worker_partial_agg" in worker_sql:
        how = "split"
    elif FUNCTION[name] + "(" in worker_sql:
        how = "per user on workers"
    else:
        how = "rows gathered"
    nbytes = nrows = 0
    formats = set()
    for t in tasks:
        r, b, binary = workers.replay(t["Node"], t["Query"])
        nrows, nbytes = nrows + r, nbytes + b
        formats.add("binary" if binary else "text")
    # Citus's own count, where EXPLAIN ANALYZE runs: a pg_size_pretty() text even in JSON ("176 kB"),
    # compared with pg_size_pretty() of the count above
    try:
        counted = " + ".join(walk(explain(cur, sql, analyze=True), "Tuple data received from nodes"))
        cur.execute("SELECT pg_size_pretty(%s::bigint)", (nbytes,))
        counted += " (agrees)" if cur.fetchone()[0] == counted else " (DIFFERENT)"
    except psycopg2.Error as e:
        counted = "fails: " + str(e).splitlines()[0]
    return nbytes, nrows, len(tasks), "/".join(sorted(formats)), how, counted


def coefficients(cur, name, model):
    """[(feature, coefficient)] of a model returned by a training query."""
    cur.execute(f"SELECT feature, coefficient FROM {COEFFICIENTS[name]}(%s::bytea) ORDER BY feature",
                (psycopg2.Binary(bytes(model)),))
    return cur.fetchall()


def close(a, b, rel):
    """Equal, or floats within rel of each other (relative to the larger magnitude)."""
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is None and b is None
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return abs(a - b) <= rel * max(abs(a), abs(b))
    return a == b


def compare(cur, name, local_rows, dist_rows):
    """A description of how the answers differ, or None when they agree."""
    if name in COEFFICIENTS:
        lc, dc = coefficients(cur, name, local_rows[0][0]), coefficients(cur, name, dist_rows[0][0])
        if [f for f, _ in lc] != [f for f, _ in dc]:
            return f"features differ: {lc} / {dc}"
        bad = [(f, l, d) for (f, l), (_, d) in zip(lc, dc) if abs(l - d) > 1e-8 * max(1.0, abs(l))]
        return f"coefficients differ (feature, local, distributed): {bad}" if bad else None
    if len(local_rows) != len(dist_rows):
        return f"{len(local_rows)} rows locally, {len(dist_rows)} distributed"
    for lr, dr in zip(local_rows, dist_rows):
        if len(lr) != len(dr) or not all(close(a, b, 1e-9) for a, b in zip(lr, dr)):
            return f"local {lr} / distributed {dr}"
    return None


def answer(name, rows):
    """A short form of a query's answer for the progress log."""
    if name in COEFFICIENTS:
        return f"model of {len(bytes(rows[0][0])):,} bytes"
    return repr(rows[:3])[:200] + (" ..." if len(rows) > 3 else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", default="", help="the coordinator (libpq connection string)")
    ap.add_argument("--rows", type=int, default=2_000_000, help="events")
    ap.add_argument("--users", type=int, default=100_000, help="user ids drawn from 1..USERS")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=float, default=0.42, help="setseed() before making the rows")
    ap.add_argument("--rebuild", action="store_true", help="make the tables again even if they are there")
    ap.add_argument("--drop", action="store_true", help="drop the tables at the end (default: keep them for the next run)")
    ap.add_argument("--show-sql", action="store_true", help="print the queries and exit")
    args = ap.parse_args()

    if args.show_sql:
        print(";\n\n".join(f"-- {name}\n{query(name, '{table}')}" for name in QUERIES) + ";")
        return 0
    cur = connect(args.dsn)
    cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'citus'")
    row = cur.fetchone()
    if row is None:
        raise SystemExit("citus is not installed in this database: point --dsn at a Citus coordinator")
    citus = row[0]
    cur.execute("SET TimeZone = 'UTC'")
    cur.execute("SELECT count(*) FROM citus_get_active_worker_nodes()")
    nworkers = cur.fetchone()[0]
    workers = Workers(cur.connection.info.user)
    nrows, nusers = make_tables(cur, args.rows, args.users, args.seed, args.rebuild)

    cur.execute("SELECT current_setting('server_version'), current_setting('max_parallel_workers_per_gather'),"
                " current_setting('citus.max_adaptive_executor_pool_size'), current_setting('jit'),"
                " (SELECT extversion FROM pg_extension WHERE extname = 'uba'), pg_size_pretty(pg_table_size(%s)),"
                " pg_size_pretty(citus_table_size(%s))", (LOCAL, DIST))
    version, gather, pool, jit, uba, local_size, dist_size = cur.fetchone()
    load = os.getloadavg()[0]

    results, mismatches = [], []
    for name in QUERIES:
        ql, qd = query(name, LOCAL), query(name, DIST)
        tl, rl = timed(cur, ql)
        td, rd = timed(cur, qd)
        print(f"{name} warm-up: local {tl:.3f} s, distributed {td:.3f} s; {answer(name, rl)}", file=sys.stderr)
        local_t, dist_t = [], []
        for i in range(args.repeat):
            t, rl = timed(cur, ql)
            local_t.append(t)
            t, rd = timed(cur, qd)
            dist_t.append(t)
            print(f"{name} run {i + 1}: local {local_t[-1]:.3f} s, distributed {dist_t[-1]:.3f} s", file=sys.stderr)
        diff = compare(cur, name, rl, rd)
        if diff:
            mismatches.append((name, diff))
        nbytes, received, tasks, formats, how, counted = transfer(cur, workers, name)
        print(f"{name}: {how}, {nbytes:,} bytes ({formats}) in {received:,} rows from {tasks} tasks, EXPLAIN ANALYZE "
              f"{counted}; "
              f"{'MISMATCH ' + diff if diff else 'same answer'}", file=sys.stderr)
        results.append((name, how, statistics.median(local_t), statistics.median(dist_t), nbytes, received, tasks,
                        formats, counted, diff is None))

    print(f"\n{nrows:,} events of {nusers:,} users; the distributed table in {SHARDS} shards on {nworkers} workers, "
          f"all on this machine; PostgreSQL {version}, Citus {citus}, uba {uba}; table sizes {local_size} local, "
          f"{dist_size} distributed; max_parallel_workers_per_gather {gather}, "
          f"citus.max_adaptive_executor_pool_size {pool}, jit {jit}; load average {load:.2f} before timing; "
          f"medians of {args.repeat} runs\n")
    print("| query | how it runs on Citus | local s | distributed s | ratio | bytes received by the coordinator "
          "| rows received | bytes per row received | Citus's count (EXPLAIN ANALYZE) | same answer |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---|")
    for name, how, lt, dt, nbytes, received, tasks, formats, counted, same in results:
        per = {"split": "per partial state", "rows gathered": "per input row"}.get(how, "per result row")
        per_row = f"{nbytes / received:,.1f} {per}" if received else "-"
        citus_count = "EXPLAIN ANALYZE fails" if counted.startswith("fails") else counted
        print(f"| {name} | {how} | {lt:.3f} | {dt:.3f} | {dt / lt:.2f} | {nbytes:,} ({formats}) | {received:,} | "
              f"{per_row} | {citus_count} | {'yes' if same else 'NO'} |")
    print(f"\nbytes received: the tuple data of every task ({results[0][6]} per query, one per shard), "
          "counted as Citus counts it (each value's length in the protocol format Citus asks for, binary "
          "when every result column allows it), by running each task's query (EXPLAIN VERBOSE, all tasks) "
          "again on its node; Citus's count: 'Tuple data received from nodes' of EXPLAIN (ANALYZE, VERBOSE, "
          "FORMAT JSON), a pg_size_pretty() text, where it runs (with worker_partial_agg it fails: column \"field_0\" has pseudo-type "
          "cstring, Citus issue 4043); a partial state travels as worker_partial_agg's cstring, the text "
          "output of the bytea state (hex: 2 bytes a state byte, plus 2); ratio: distributed / local")
    if mismatches:
        print("\nmismatches (local against distributed):")
        for name, diff in mismatches:
            print(f"- {name}: {diff}")
    else:
        print("\nevery answer equal on both tables (counts exactly, floats to 1e-9, model coefficients to 1e-8)")
    workers.close()
    if args.drop:
        cur.execute(f"DROP TABLE {LOCAL}, {DIST}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
