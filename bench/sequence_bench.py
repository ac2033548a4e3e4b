#!/usr/bin/python3
"""uba's sequence aggregates grouped by user against plain array_agg(... ORDER BY ts), in one session.

The issue's target: sequence matching (and paths, bench/path_bench.py) at most --target (1.5)
times a GROUP BY with array_agg(... ORDER BY ts) on 10M events from a table.  A ratio uba / A at
most 1.5 meets the target.  Measured, each grouped by user over the same rows of the same table:

- uba_sequence_match('(?1).*(?2).*(?3)', ts, event_type = 'view', event_type = 'cart',
  event_type = 'purchase'): an automaton, no backtracking;
- uba_sequence_match('(?1)(?t<=3600)(?2)', ts, event_type = 'view', event_type = 'cart'): a cart
  right after a view (among the views and carts) within an hour: the backtracking search;
- uba_sequence_match('(?1).*(?t<=3600)(?2)', the same conditions): a cart within an hour of a
  view, with any events between (the documentation's example): backtracking over `.*`;
- uba_sequence_count of the same three;
- uba_funnel(ts, '1 day', ARRAY[event_type = 'view', event_type = 'cart', event_type = 'purchase']),
  the same with '{"strict_order": true}'::jsonb, and uba_funnel_times of the same;
- uba_next_event('forward', 'first_match', ts, event_type, true, event_type = 'view',
  event_type = 'cart'): the event after the first view followed by a cart.

against two baselines:

- A, the issue's yardstick: every user's event names in time order, nothing computed on them,
      SELECT user_id, array_agg(event_type ORDER BY ts) FROM {table} GROUP BY user_id
- B, the same for exactly the per-row arguments the uba function reads (its constants, the
  pattern, window, options, direction and base, left out): one ordered array of rows,
      array_agg(ROW(ts, event_type = 'view', event_type = 'cart', event_type = 'purchase') ORDER BY ts)
  for the 3-condition sequences, ROW(ts, view, cart) for the 2-condition ones,
  ROW(ts, ARRAY[view, cart, purchase]) for the funnels and ROW(ts, event_type, true, view, cart)
  for uba_next_event.  One sort per group, as A; B costs more than A by building and sorting
  records instead of texts.  B is what a user would write to ship the rows to a client that
  matches them itself; it is not a plain-SQL result of the same answers (there is none short of
  recursive queries for the patterns).

The events: profile_events(user_id, ts, event_type, ...) of bench/profile_bench.py, 10,000,000
rows of 195,985 users (1 to 687 events each, median 35), 78% 'view', 10% 'cart', 5%
'remove_from_cart', 5% 'purchase', 2% NULL types, sessions of several events, rows out of time
order within users.  With --rows equal to its row count (the default, 10M) that table is used as
it is and left alone.  Otherwise (a smaller --rows for a quick run, or no such table) the same
generator (profile_bench.GENERATE_SQL) makes seq_bench_events with --rows events of rows / 50
users, the same shape; it is dropped at the end if this run made it (--keep keeps it; a later run
with the same --rows then reuses it and leaves it).

Timing: each query runs as SELECT count(q.*) FROM (query) q, which computes every result (the
whole row is read) but sends no rows to the client (--fetch times fetching all rows instead).
One warm-up run each, then --repeat runs taking turns (uba's and the baselines' queries
alternate); medians, with parallel query as configured and with max_parallel_workers_per_gather
= 0.  uba's sequence aggregates have combine functions: in the parallel plan they aggregate in
the workers and combine; ordered aggregates (A, B) cannot, so their parallel plan only scans and
sorts in the workers (Gather Merge), and PostgreSQL 15 plans them serial anyway (one Sort, then
GroupAggregate, which sorts each group again for the ORDER BY).  Other settings are the server's
(work_mem, JIT: printed) unless --set changes them for the session.
Progress and every run go to stderr, the tables to stdout.

The table: function, plan, the median seconds of uba, A and B, the ratios uba / A (the target)
and uba / B, and whether uba / A meets the target.  After it, what the functions answered
(--no-summary to skip: one more query over the table), so that the workload can be judged: how
many users matched, counts, funnel depths, the next events.

--explain prints the plans (EXPLAIN, no ANALYZE) of every timed query, parallel and serial, and
exits; --show-sql prints the timed queries and exits.

    /usr/bin/python3 bench/sequence_bench.py [--dsn DSN] [--rows 10000000] [--repeat 3]
        [--target 1.5] [--fetch] [--keep] [--no-summary] [--only NAME ...] [--set NAME=VALUE ...]
        [--explain] [--show-sql]

A quick run: --rows 500000 --repeat 1 (about a minute; at that size JIT compilation, 0.2 s a
process, is most of every query's time, so the ratios say little); the full one: the defaults
(15 queries, 2 plans, 1 + 3 runs each: about 20 minutes on the quiet 2-core machine; --only to
time fewer).  What the plans were at 10M on PostgreSQL 15 with work_mem 4MB: A and B a Sort and a
GroupAggregate in both settings (no workers); uba serial a HashAggregate that spills (257
batches, about 500 MB of temporary files); uba parallel a Partial HashAggregate in each process,
spilling too, then an external Sort of the partial states, Gather Merge and a Finalize
GroupAggregate.  The machine is shared: single runs of one query spread by up to 40%.
"""
import argparse
import os
import sys
import time

import profile_bench
from benchlib import connect, measure_plans

SOURCE = "profile_events"       # the 10M-event table of profile_bench.py, used as it is
MADE = "seq_bench_events"       # the table this script makes for other sizes
VIEW, CART, PURCHASE = "event_type = 'view'", "event_type = 'cart'", "event_type = 'purchase'"
COND3 = f"{VIEW}, {CART}, {PURCHASE}"
COND2 = f"{VIEW}, {CART}"
STEPS = f"ARRAY[{COND3}]"

# A: the yardstick
A_SQL = "SELECT user_id, array_agg(event_type ORDER BY ts) AS r FROM {table} GROUP BY user_id"

# B: the per-row arguments each uba function reads, as one ordered array of rows
B_SQL = {
    "ts + 3 conditions": f"ROW(ts, {COND3})",
    "ts + 2 conditions": f"ROW(ts, {COND2})",
    "ts + steps[3]": f"ROW(ts, {STEPS})",
    "ts, event, base, 2 conditions": f"ROW(ts, event_type, true, {COND2})",
}

# name: (the uba call, the B it is measured against)
UBA_CALLS = {
    "uba_sequence_match (?1).*(?2).*(?3)":
        (f"uba_sequence_match('(?1).*(?2).*(?3)', ts, {COND3})", "ts + 3 conditions"),
    "uba_sequence_match (?1)(?t<=3600)(?2)":
        (f"uba_sequence_match('(?1)(?t<=3600)(?2)', ts, {COND2})", "ts + 2 conditions"),
    "uba_sequence_match (?1).*(?t<=3600)(?2)":
        (f"uba_sequence_match('(?1).*(?t<=3600)(?2)', ts, {COND2})", "ts + 2 conditions"),
    "uba_sequence_count (?1).*(?2).*(?3)":
        (f"uba_sequence_count('(?1).*(?2).*(?3)', ts, {COND3})", "ts + 3 conditions"),
    "uba_sequence_count (?1)(?t<=3600)(?2)":
        (f"uba_sequence_count('(?1)(?t<=3600)(?2)', ts, {COND2})", "ts + 2 conditions"),
    "uba_sequence_count (?1).*(?t<=3600)(?2)":
        (f"uba_sequence_count('(?1).*(?t<=3600)(?2)', ts, {COND2})", "ts + 2 conditions"),
    "uba_funnel 1 day":
        (f"uba_funnel(ts, '1 day', {STEPS})", "ts + steps[3]"),
    "uba_funnel 1 day strict_order":
        (f"""uba_funnel(ts, '1 day', {STEPS}, '{{"strict_order": true}}'::jsonb)""", "ts + steps[3]"),
    "uba_funnel_times 1 day":
        (f"uba_funnel_times(ts, '1 day', {STEPS})", "ts + steps[3]"),
    "uba_next_event forward first_match":
        (f"uba_next_event('forward', 'first_match', ts, event_type, true, {COND2})",
         "ts, event, base, 2 conditions"),
}

def uba_sql(call, table):
    return f"SELECT user_id, {call} AS r FROM {table} GROUP BY user_id"


def b_sql(row, table):
    return f"SELECT user_id, array_agg({row} ORDER BY ts) AS r FROM {table} GROUP BY user_id"


def queries_for(table, only):
    """{name: query}: A, the B's in use and the uba calls (all, or those whose names contain one
    of only)."""
    calls = {n: v for n, v in UBA_CALLS.items() if not only or any(o in n for o in only)}
    q = {"A": A_SQL.format(table=table)}
    for b in dict.fromkeys(b for _, b in calls.values()):
        q["B " + b] = b_sql(B_SQL[b], table)
    for n, (call, _) in calls.items():
        q[n] = uba_sql(call, table)
    return q, calls


def pick_table(cur, rows, keep):
    """The table to time and whether to drop it at the end: profile_events when it has exactly
    rows rows, else seq_bench_events made (or reused, when a kept one has rows rows) with
    profile_bench's generator."""
    cur.execute(f"SELECT to_regclass('{SOURCE}') IS NOT NULL")
    if cur.fetchone()[0]:
        cur.execute(f"SELECT count(*) FROM {SOURCE}")
        if cur.fetchone()[0] == rows:
            print(f"using {SOURCE} ({rows:,} events) as it is", file=sys.stderr)
            return SOURCE, False
    users = max(1, rows // 50)
    tag = f"sequence_bench events={rows} users={users} start={profile_bench.START}"
    cur.execute(f"SELECT obj_description(to_regclass('{MADE}'), 'pg_class')")
    if cur.fetchone()[0] == tag:
        cur.execute(f"SELECT count(*) FROM {MADE}")
        if cur.fetchone()[0] == rows:
            print(f"reusing {MADE} ({rows:,} events), left in place", file=sys.stderr)
            return MADE, False
    cur.execute(f"DROP TABLE IF EXISTS {MADE}")
    t0 = time.perf_counter()
    gen = profile_bench.GENERATE_SQL.replace(f"CREATE TABLE {SOURCE} AS", f"CREATE TABLE {MADE} AS", 1)
    assert gen != profile_bench.GENERATE_SQL, "profile_bench.GENERATE_SQL no longer creates profile_events"
    cur.execute(gen.format(events=rows, users=users, start=profile_bench.START))
    cur.execute(f"VACUUM ANALYZE {MADE}")
    cur.execute(f"COMMENT ON TABLE {MADE} IS '{tag}'")
    print(f"made {MADE} ({rows:,} events of about {users:,} users) in {time.perf_counter() - t0:.1f} s"
          f"{', kept at the end' if keep else ', dropped at the end'}", file=sys.stderr)
    return MADE, not keep


def summary(cur, table):
    """What the functions answered, in Markdown (all ten calls, one pass)."""
    calls = ", ".join(f"{call} AS r{i}" for i, (call, _) in enumerate(UBA_CALLS.values(), 1))
    # funnel depths as distributions: a row per user and depth kind, counted per depth below
    q = f"""\
WITH s AS (SELECT {calls} FROM {table} GROUP BY user_id)
SELECT count(*),
       count(*) FILTER (WHERE r1), count(*) FILTER (WHERE r2), count(*) FILTER (WHERE r3),
       sum(r4), sum(r5), sum(r6), max(r4), max(r5), max(r6),
       (SELECT array_agg(n ORDER BY d) FROM (SELECT r7 AS d, count(*) AS n FROM s GROUP BY r7) x),
       (SELECT array_agg(n ORDER BY d) FROM (SELECT r8 AS d, count(*) AS n FROM s GROUP BY r8) x),
       count(*) FILTER (WHERE cardinality(r9) = 3),
       percentile_disc(0.5) WITHIN GROUP (ORDER BY r9[3] - r9[1]) FILTER (WHERE cardinality(r9) = 3),
       count(r10),
       (SELECT string_agg(coalesce(n, 'NULL') || ' ' || c, ', ' ORDER BY c DESC)
          FROM (SELECT r10 AS n, count(*) AS c FROM s GROUP BY r10) x)
  FROM s"""
    t0 = time.perf_counter()
    cur.execute(q)
    (users, m1, m2, m3, c4, c5, c6, x4, x5, x6, d7, d8, t3, med, n10, nexts) = cur.fetchone()
    names = list(UBA_CALLS)
    print(f"\nwhat the functions answered ({users:,} users; {time.perf_counter() - t0:.1f} s):\n")
    print("| function | answer |\n|---|---|")
    for name, m in zip(names[0:3], (m1, m2, m3)):
        print(f"| {name} | true for {m:,} users ({100 * m / users:.1f}%) |")
    for name, c, x in zip(names[3:6], (c4, c5, c6), (x4, x5, x6)):
        print(f"| {name} | {c:,} chains in all, at most {x:,} for one user |")
    for name, d in zip(names[6:8], (d7, d8)):
        print(f"| {name} | users by depth 0, 1, 2, 3 (NULL last if any): {', '.join(f'{n:,}' for n in d)} |")
    print(f"| {names[8]} | {t3:,} users reach step 3; median time from step 1 to step 3: {med} |")
    print(f"| {names[9]} | an answer for {n10:,} users: {nexts} |")


def explain(cur, queries):
    for plan in ("parallel", "serial"):
        cur.execute("RESET max_parallel_workers_per_gather" if plan == "parallel"
                    else "SET max_parallel_workers_per_gather = 0")
        for name, q in queries.items():
            cur.execute(f"EXPLAIN (COSTS OFF) SELECT count(q.*) FROM ({q}) q")
            print(f"-- {name}, {plan}\n" + "\n".join(r[0] for r in cur.fetchall()) + "\n")
    cur.execute("RESET max_parallel_workers_per_gather")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", default="")
    ap.add_argument("--rows", type=int, default=10_000_000,
                    help=f"events: {SOURCE} when it has exactly this many, else {MADE} is made")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--target", type=float, default=1.5,
                    help="the largest acceptable ratio uba / A (array_agg(event_type ORDER BY ts))")
    ap.add_argument("--fetch", action="store_true",
                    help="time fetching every row to the client instead of count(q.*) on the server")
    ap.add_argument("--keep", action="store_true", help=f"keep {MADE} if this run makes it")
    ap.add_argument("--summary", action=argparse.BooleanOptionalAction, default=True,
                    help="after timing, print what the functions answered (one more pass; default on)")
    ap.add_argument("--only", nargs="+", metavar="NAME",
                    help="time only the uba functions whose names contain one of these (and their baselines)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a setting for the session, both sides (repeatable): --set work_mem=256MB --set jit=off")
    ap.add_argument("--explain", action="store_true", help="print the timed queries' plans and exit")
    ap.add_argument("--show-sql", action="store_true", help="print the timed queries and exit")
    args = ap.parse_args()

    if args.show_sql:
        queries, _ = queries_for("{table}", args.only)
        print(";\n\n".join(f"-- {name}\n{q}" for name, q in queries.items()) + ";")
        return 0
    cur = connect(args.dsn)
    for f in ("uba_sequence_match(text, timestamptz, boolean[])", "uba_funnel_times(timestamptz, interval, boolean[])",
              "uba_next_event(text, text, timestamptz, text, boolean, boolean[])"):
        cur.execute("SELECT to_regprocedure(%s) IS NOT NULL", (f,))
        if not cur.fetchone()[0]:
            raise SystemExit(f"{f} is not in this database's uba extension (created from an older script): "
                             "recreate the extension, or point --dsn at another database")
    for setting in args.set:
        name, _, value = setting.partition("=")
        cur.execute("SELECT set_config(%s, %s, false)", (name.strip(), value.strip()))
    table, drop = pick_table(cur, args.rows, args.keep)
    try:
        queries, calls = queries_for(table, args.only)
        if args.explain:
            explain(cur, queries)
            return 0
        cur.execute(f"SELECT count(*), count(DISTINCT user_id) FROM {table}")
        nevents, nusers = cur.fetchone()
        cur.execute("SELECT current_setting('server_version'), current_setting('work_mem'),"
                    " current_setting('max_parallel_workers_per_gather'), current_setting('jit')")
        version, work_mem, workers, jit = cur.fetchone()
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        times = measure_plans(cur, queries, args.repeat, args.fetch)
        elapsed = time.perf_counter() - t0
        load_after = os.getloadavg()[0]

        print(f"\n{table}: {nevents:,} events of {nusers:,} users; PostgreSQL {version}; work_mem {work_mem}, "
              f"max_parallel_workers_per_gather {workers} (parallel) or 0 (serial), jit {jit}; "
              f"load average {load:.2f} before timing, {load_after:.2f} after ({elapsed / 60:.1f} min); "
              f"medians of {args.repeat} runs, "
              f"{'rows fetched to the client' if args.fetch else 'counted on the server'}"
              f"{'; session settings: ' + ', '.join(args.set) if args.set else ''}\n")
        print("| function | plan | uba s | A s | uba / A | B s | uba / B | target uba / A |")
        print("|---|---|---:|---:|---:|---:|---:|---|")
        for plan in ("parallel", "serial"):
            a = times["A", plan]
            for name, (_, b) in calls.items():
                u, bs = times[name, plan], times["B " + b, plan]
                met = "met" if u / a <= args.target else "NOT met"
                print(f"| {name} | {plan} | {u:.3f} | {a:.3f} | {u / a:.2f} | {bs:.3f} | {u / bs:.2f} | "
                      f"at most {args.target:g}x: {met} |")
        print("\nbaselines (median seconds, parallel / serial):\n")
        for name, q in queries.items():
            if name == "A" or name.startswith("B "):
                print(f"- {name}: {times[name, 'parallel']:.3f} / {times[name, 'serial']:.3f}: `{q}`")
        print()
        for plan in ("parallel", "serial"):
            print(f"A, {plan}: {nevents / times['A', plan]:,.0f} events/s")
        if args.summary:
            summary(cur, table)
    finally:
        if drop:
            cur.execute(f"DROP TABLE IF EXISTS {MADE}")
            print(f"dropped {MADE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
