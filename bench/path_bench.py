#!/usr/bin/python3
"""uba_path grouped by user against plain SQL, in one session.

The issue's target: paths at most --target (1.5) times a GROUP BY with array_agg(... ORDER BY ts).
Measured, each grouped by user over the same rows:

- A, the issue's yardstick: every user's whole event list in order, no shaping,
      SELECT user_id, array_agg(event ORDER BY ts, event COLLATE "C") FROM path_events GROUP BY user_id
- uba_path(ts, event): the default options (the first 5 steps, repeats collapsed);
- B, the same result in plain SQL: a window with lag(event) drops the repeats, a second window
  numbers the rest (row_number), the first 5 are aggregated in order;
- uba_path(ts, event, '{"start": "search", "max_steps": 8, "session_gap_minutes": 30}');
- C, the same result in plain SQL: one window gives lag(event), lag(ts) and the running count of
  searches (so a row is at or after the user's first search); the rows from the first search on go
  through a second window counting the steps kept and the session breaks after the start; the rows
  before the first break, up to 8 steps, are aggregated in order.

Both SQL queries sort once, by (user_id, ts, event COLLATE "C"); the second window reads the first
one's rows in that order, and its run condition (step <= max_steps) stops each user's rows early.
They keep the ORDER BY in array_agg: PostgreSQL 15 sorts each group's few rows again in the
aggregate; leaving it out and relying on the subquery's order is faster, but not guaranteed.
Formulations of B tried (serial, 1M events of 19,611 users, medians of 3 on the shared 2-core
machine at a load of about 2, so +-10%; uba_path 0.49 s, A 0.92 s):

- the kept query: 1.43 s (1.27 s in the bench run after it);
- the same without ORDER BY in array_agg: 1.25 s;
- one window (lag) and (array_agg(...) FILTER (WHERE not a repeat))[1:5]: 1.74 s (every event
  goes through the aggregate's sort);
- a running count(*) FILTER (WHERE not a repeat) in the second window instead of filtering the
  repeats before it: 1.44 s.

--show-sql prints the timed queries.

The table gives the median seconds, the ratios uba / A (the target) and uba / the SQL of the same
result, with parallel query as configured and with max_parallel_workers_per_gather = 0.
uba_path has a combine function: its parallel plan aggregates in the workers, then combines.

The events: path_events(user_id bigint, ts timestamptz, event text), --events rows (10,000,000) of
about --users users (200,000; the busiest have a few hundred events, many one or two), made in SQL
from integer hashes of generate_series (deterministic, no random()): 90 days from 2024-03-01,
each user with a first day, a span and 1 to 20 visits (a day and a time of day in whole tens of
seconds each, hashed from the user and the visit), an event at one of 30 steps of 40 seconds into
its visit plus 0, 10, 20 or 30 seconds; in 4 visits of 5 the steps from 15 on come after an extra
pause of 1760, 1770, 1800 or 3600 seconds, so that pauses of 29:30 to 31:10 minutes (exactly 30
minutes among them) and of an hour split a visit into two sessions at the 30-minute gap, or not.
Events at the same second, of the same or other names, happen; rows are out of time order within
users.  Eight names, skewed: home 28%, product 24%, search 15%, cart 11%, account 7%, checkout 6%,
help 5%, purchase 4%; 40% of the events take the name of their visit's step pair (steps 2k and
2k + 1), so an event often repeats right after itself (lowercase ASCII names: their byte order is
also the usual collations' order, so the tie rule is exercised but not against a collation).  0.1% NULL times and 0.1% NULL names.  Made once and
VACUUM ANALYZEd; a later run with the same --events and --users reuses it (the table's comment
says how it was made); --rebuild remakes it.

--check (on by default) first compares uba_path with SQL for every user (all users up to 1M
events, else the first 2,000 user ids, --check-users N to choose): B and C above against their
option sets, and a second, plainer SQL formulation (row positions, each user's anchor positions
from a GROUP BY, the session numbers from a running count; written from doc/behaviour.md, not
tuned) against those two and six more option sets: a start without a gap, the first session, an
end alone, a start and an end, repeats kept, an end in one session.  A user with no path (no
events with a time and a name, or no start / end) is NULL from uba_path and has no row from the
SQL; those count as equal.  A table of mismatches per option set and the first few (user, their
events, the SQL's path, uba's path).  The timings run anyway; the exit status is 1 when anything
differs.

Timing: each query runs as SELECT count(q.*) FROM (query) q, which computes every path (the whole
row is read; with count(*) the planner drops unused outputs, and for uba_path the aggregate
itself) but sends no rows to the client (--fetch times fetching all rows instead).  One warm-up
run each, then --repeat runs taking turns; medians, with parallel query as configured and with
max_parallel_workers_per_gather = 0.  Other settings are the server's (work_mem, JIT: printed).
Progress and every run go to stderr, the tables to stdout.

    /usr/bin/python3 bench/path_bench.py [--dsn DSN] [--events 10000000] [--users 200000]
        [--repeat 3] [--rebuild] [--no-check] [--check-users N] [--target 1.5] [--fetch] [--show-sql]
"""
import argparse
import json
import os
import statistics
import sys
import time

from benchlib import connect, measure_plans, timed

START = "2024-03-01"        # the first of the 90 days the events are spread over
TABLE = "path_events"
START_EVENT = "search"      # the start of the timed option set
OPTIONS = {"start": START_EVENT, "max_steps": 8, "session_gap_minutes": 30}

# The events: everything from integer hashes of the row number g (no random()), so the same
# --events and --users give the same rows.  Each level is fenced by OFFSET 0 so that its
# hashes are computed once per row instead of being inlined into every use.
#   h1 * h2 picks the user: the product of two uniforms skews the events towards low user ids;
#   each user has a first day, a span of days and 1..20 visits (a day, a time of day in tens
#   of seconds and a pause halfway, hashed from the user and the visit); h3 picks the visit, the step in it (0..29, 40 s
#   apart) and the event's own name; h4 the extra seconds (0, 10, 20, 30), the NULLs and whether
#   the event takes its own name or its visit's step pair's (then the steps 2k and 2k + 1 of a
#   visit share a name: repeats).
GENERATE_SQL = """
CREATE TABLE path_events AS
SELECT user_id::bigint AS user_id,
       CASE WHEN h4 % 1000 <> 3 THEN timestamptz '{start} 00:00:00+00'
         + (visit_day * 86400 + visit_sec + step * 40 + (h4 / 1000) % 4 * 10
            + CASE WHEN step >= 15 THEN (ARRAY[0, 1760, 1770, 1800, 3600])[1 + pause] ELSE 0 END)
           * interval '1 second' END AS ts,
       CASE WHEN h4 % 1000 = 7 THEN NULL
            WHEN pick < 280 THEN 'home' WHEN pick < 520 THEN 'product' WHEN pick < 670 THEN 'search'
            WHEN pick < 780 THEN 'cart' WHEN pick < 850 THEN 'account' WHEN pick < 910 THEN 'checkout'
            WHEN pick < 960 THEN 'help' ELSE 'purchase' END AS event
FROM (
  SELECT user_id, h4, step,
         first_day + ((user_id * 7919 + k * 104729) % 2147483648 * 2654435761 % 2147483648) % (span + 1)
           AS visit_day,
         ((user_id * 104723 + k * 7907) % 2147483648 * 2246822519 % 2147483648) % 8640 * 10 AS visit_sec,
         ((user_id * 7907 + k * 104723) % 2147483648 * 2654435761 % 2147483648) / 1000 % 5 AS pause,
         CASE WHEN (h4 / 4000) % 5 < 2
              THEN ((user_id * 7919 + k * 104729 + (step / 2) * 15485863) % 2147483648 * 2654435761
                    % 2147483648) / 1000 % 1000
              ELSE (h3 / 60000) % 1000 END AS pick
  FROM (
    SELECT user_id, h3, h4, (h3 / 100) % (1 + (user_id * 40503 % 1009) % 20) AS k, (h3 / 2000) % 30 AS step,
           first_day, (user_id * 2246822519 % 2147483648) % (90 - first_day) AS span
    FROM (
      SELECT user_id, h3, h4, (user_id * 2654435761 % 1000003) % 90 AS first_day
      FROM (
        SELECT least(1 + floor({users} * (h1::float8 / 2147483648) * (h2::float8 / 2147483648)), {users})::bigint
                 AS user_id, h3, h4
        FROM (
          SELECT b1 # (b1 >> 13) AS h1, b2 # (b2 >> 13) AS h2, b3 # (b3 >> 13) AS h3, b4 # (b4 >> 13) AS h4
          FROM (
            -- 31-bit arithmetic: a value below 2^31 times a 32-bit constant stays within bigint
            SELECT ((a1 # (a1 >> 15)) * 2246822519) % 2147483648 AS b1,
                   ((a2 # (a2 >> 15)) * 3266489917) % 2147483648 AS b2,
                   ((a3 # (a3 >> 15)) * 2246822519) % 2147483648 AS b3,
                   ((a4 # (a4 >> 15)) * 3266489917) % 2147483648 AS b4
            FROM (
              SELECT (g * 2654435761) % 2147483648 AS a1, ((g + 1000003) * 2654435761) % 2147483648 AS a2,
                     ((g + 2000029) * 2654435761) % 2147483648 AS a3, ((g + 3000017) * 2654435761) % 2147483648 AS a4
                FROM generate_series(1, {events}) g
              OFFSET 0) s0
            OFFSET 0) s1
          OFFSET 0) s2
        OFFSET 0) s3
      OFFSET 0) s4
    OFFSET 0) s5
  OFFSET 0) s6
"""

# A: the yardstick, the whole ordered event list per user
ARRAY_AGG_SQL = """\
SELECT user_id, array_agg(event ORDER BY ts, event COLLATE "C") AS path FROM {table} GROUP BY user_id"""

UBA_DEFAULT_SQL = "SELECT user_id, uba_path(ts, event) AS path FROM {table} GROUP BY user_id"

UBA_OPTIONS_SQL = "SELECT user_id, uba_path(ts, event, '{options}'::jsonb) AS path FROM {table} GROUP BY user_id"

# B: uba_path(ts, event) in plain SQL.  The rows in (ts, name in byte order) order; a row whose
# name is the previous row's is dropped (collapse_repeats), the rest numbered and the first 5 kept.
# The second window reads the first one's rows in their order: one sort.
DEFAULT_SQL = """\
SELECT user_id, array_agg(event ORDER BY ts, event COLLATE "C") AS path
  FROM (SELECT user_id, ts, event, row_number() OVER w AS step
          FROM (SELECT user_id, ts, event, lag(event) OVER w AS prev
                  FROM {table}
                 WHERE ts IS NOT NULL AND event IS NOT NULL
                WINDOW w AS (PARTITION BY user_id ORDER BY ts, event COLLATE "C")) e
         WHERE prev IS DISTINCT FROM event
        WINDOW w AS (PARTITION BY user_id ORDER BY ts, event COLLATE "C")) s
 WHERE step <= 5
 GROUP BY user_id"""

# C: uba_path(ts, event, OPTIONS) in plain SQL.  One window gives the previous name and time and
# the running count of start events; with the default frame (RANGE, up to the current row's
# peers, which have its name) that count is positive from the user's first start event on.  The
# rows from there go through a second window (ROWS, the same order: no sort) counting the steps
# kept and the session breaks; the first row's own break (a pause before the start) does not
# count, so first_value() takes it off.  Kept: the rows before the first break after the start,
# repeats dropped, up to max_steps.  Users without a start event have no rows.
OPTIONS_SQL = """\
SELECT user_id, array_agg(event ORDER BY ts, event COLLATE "C") AS path
  FROM (SELECT user_id, ts, event, keep,
               count(*) FILTER (WHERE keep) OVER w AS step,
               count(*) FILTER (WHERE new_session) OVER w - first_value(new_session::int) OVER w AS breaks
          FROM (SELECT user_id, ts, event,
                       lag(event) OVER w IS DISTINCT FROM event AS keep,
                       coalesce(ts - lag(ts) OVER w > interval '{gap} minutes', false) AS new_session,
                       count(*) FILTER (WHERE event = '{start}') OVER w AS starts
                  FROM {table}
                 WHERE ts IS NOT NULL AND event IS NOT NULL
                WINDOW w AS (PARTITION BY user_id ORDER BY ts, event COLLATE "C")) e
         WHERE starts > 0
        WINDOW w AS (PARTITION BY user_id ORDER BY ts, event COLLATE "C" ROWS UNBOUNDED PRECEDING)) s
 WHERE keep AND breaks = 0 AND step <= {max_steps}
 GROUP BY user_id"""

# The option sets checked with the plain formulation below (besides the two timed ones)
CHECK_OPTIONS = [
    {"start": START_EVENT, "max_steps": 8},
    {"session_gap_minutes": 30},
    {"end": "purchase"},
    {"start": START_EVENT, "end": "purchase", "max_steps": 10},
    {"collapse_repeats": False, "max_steps": 10},
    {"end": "checkout", "max_steps": 6, "session_gap_minutes": 30},
]


def reference_sql(options):
    """uba_path(ts, event, options) in plain, untuned SQL, from doc/behaviour.md: the rows numbered in
    (ts, name in byte order) order; per user the position of the first start (else 1), of the first
    end at or after it (else the last), the anchor (start, else end, else the first row) and its
    session (a running count of pauses longer than the gap); the rows between the two positions in
    the anchor's session, repeats dropped, and the first (with start or without end) or the last
    (end alone) max_steps of them."""
    start, end = options.get("start"), options.get("end")
    n = int(options.get("max_steps", 5))
    collapse = options.get("collapse_repeats", True)
    gap = float(options.get("session_gap_minutes", 0))
    new_session = (f"coalesce(ts - lag(ts) OVER w > interval '{gap * 60} seconds', false)::int" if gap > 0
                   else "0")
    return f"""\
WITH o AS (
  SELECT user_id, ts, event, pos, sum(new_session) OVER (PARTITION BY user_id ORDER BY pos) AS sid
    FROM (SELECT user_id, ts, event, row_number() OVER w AS pos, {new_session} AS new_session
            FROM {{table}} WHERE ts IS NOT NULL AND event IS NOT NULL
          WINDOW w AS (PARTITION BY user_id ORDER BY ts, event COLLATE "C")) r
), f AS (
  SELECT user_id, {f"min(pos) FILTER (WHERE event = '{start}')" if start else "1::bigint"} AS from_pos,
         max(pos) AS last_pos
    FROM o GROUP BY user_id
), t AS (
  SELECT f.user_id, f.from_pos,
         {f"min(o.pos) FILTER (WHERE o.event = '{end}' AND o.pos >= f.from_pos)" if end else "f.last_pos"} AS to_pos
    FROM f JOIN o USING (user_id) WHERE f.from_pos IS NOT NULL GROUP BY f.user_id, f.from_pos, f.last_pos
), a AS (
  SELECT t.*, o.sid AS anchor_sid
    FROM t JOIN o ON o.user_id = t.user_id AND o.pos = {"t.to_pos" if end and not start else "t.from_pos"}
   WHERE t.to_pos IS NOT NULL
), p AS (
  SELECT o.user_id, o.pos, o.event, lag(o.event) OVER (PARTITION BY o.user_id ORDER BY o.pos) AS prev
    FROM o JOIN a ON a.user_id = o.user_id
   WHERE o.pos BETWEEN a.from_pos AND a.to_pos AND o.sid = a.anchor_sid
), k AS (
  SELECT user_id, pos, event,
         row_number() OVER (PARTITION BY user_id ORDER BY pos {"DESC" if end and not start else ""}) AS step
    FROM p WHERE {"prev IS DISTINCT FROM event" if collapse else "true"}
)
SELECT user_id, array_agg(event ORDER BY pos) AS path FROM k WHERE step <= {n} GROUP BY user_id"""


def sql_text(template, table=TABLE, options=OPTIONS):
    """The query with the table and options filled in."""
    return template.format(table=table, options=json.dumps(options), start=options["start"],
                           gap=options["session_gap_minutes"], max_steps=options["max_steps"])


def make_table(cur, events, users, rebuild):
    """path_events with the requested rows, kept when an earlier run made the same."""
    tag = f"path_bench events={events} users={users} start={START}"
    cur.execute(f"SELECT obj_description(to_regclass('{TABLE}'), 'pg_class')")
    if not rebuild and cur.fetchone()[0] == tag:
        cur.execute(f"SELECT count(*) FROM {TABLE}")
        if cur.fetchone()[0] == events:
            print(f"reusing {TABLE} ({events:,} events)", file=sys.stderr)
            return
    cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
    t0 = time.perf_counter()
    cur.execute(GENERATE_SQL.format(events=events, users=users, start=START))
    cur.execute(f"VACUUM ANALYZE {TABLE}")
    cur.execute(f"COMMENT ON TABLE {TABLE} IS '{tag}'")
    print(f"made {TABLE} ({events:,} events) in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


def paths(cur, sql):
    """{user: path} of a query, users without a path (NULL) left out."""
    cur.execute(sql)
    return {u: p for u, p in cur.fetchall() if p is not None}


def check(cur, users_limit):
    """Compare uba_path with SQL for every user (or the first users_limit user ids) and several option
    sets; print a table of mismatches and return how many there are."""
    table = TABLE
    if users_limit:
        cur.execute("DROP TABLE IF EXISTS pg_temp.path_check")
        cur.execute(f"""CREATE TEMP TABLE path_check AS SELECT * FROM {TABLE}
                        WHERE user_id IN (SELECT user_id FROM {TABLE} GROUP BY user_id
                                           ORDER BY user_id LIMIT {users_limit})""")
        cur.execute("ANALYZE path_check")
        table = "path_check"
    cur.execute(f"SELECT count(*), count(DISTINCT user_id), count(*) FILTER (WHERE ts IS NULL OR event IS NULL)"
                f" FROM {table}")
    nevents, nusers, nnull = cur.fetchone()
    print(f"\ncheck: uba_path against SQL for {nusers:,} users ({nevents:,} events, {nnull:,} with a NULL "
          "time or name)\n")
    cases = [("{} (default)", "B", UBA_DEFAULT_SQL.format(table=table), DEFAULT_SQL.format(table=table)),
             (json.dumps(OPTIONS), "C", sql_text(UBA_OPTIONS_SQL, table), sql_text(OPTIONS_SQL, table)),
             ("{} (default)", "plain", UBA_DEFAULT_SQL.format(table=table), reference_sql({}).format(table=table)),
             (json.dumps(OPTIONS), "plain", sql_text(UBA_OPTIONS_SQL, table),
              reference_sql(OPTIONS).format(table=table))]
    for o in CHECK_OPTIONS:
        cases.append((json.dumps(o), "plain", UBA_OPTIONS_SQL.format(table=table, options=json.dumps(o)),
                      reference_sql(o).format(table=table)))
    print("| options | SQL | users with a path (uba) | users with a path (SQL) | mismatches | seconds uba / SQL |")
    print("|---|---|---:|---:|---:|---|")
    bad, examples = 0, []
    for label, which, uba_q, sql_q in cases:
        t0 = time.perf_counter()
        uba = paths(cur, uba_q)
        t1 = time.perf_counter()
        ref = paths(cur, sql_q)
        t2 = time.perf_counter()
        wrong = sorted(u for u in set(uba) | set(ref) if uba.get(u) != ref.get(u))
        bad += len(wrong)
        print(f"| `{label}` | {which} | {len(uba):,} | {len(ref):,} | {len(wrong)} | "
              f"{t1 - t0:.2f} / {t2 - t1:.2f} |")
        for u in wrong[:3]:
            cur.execute(f"""SELECT ts, event FROM {table} WHERE user_id = %s
                            ORDER BY ts, event COLLATE "C" """, (u,))
            evs = cur.fetchall()
            shown = ", ".join(f"{ts:%m-%d %H:%M:%S} {e}" if ts else f"NULL {e}" for ts, e in evs[:40])
            examples.append(f"{label}, user {u} ({len(evs)} events: {shown}{', ...' if len(evs) > 40 else ''}):"
                            f" SQL {ref.get(u)!r}, uba {uba.get(u)!r}")
    if examples:
        print("\nfirst mismatches:\n\n" + "\n".join(f"- {e}" for e in examples))
    print(f"\ncheck: {'all paths equal' if bad == 0 else f'{bad} MISMATCHES'} (NULL from uba = no row from SQL)")
    if users_limit:
        cur.execute("DROP TABLE path_check")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", default="")
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--users", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rebuild", action="store_true", help="make the table again even if it is there")
    ap.add_argument("--check", action=argparse.BooleanOptionalAction, default=True,
                    help="compare uba_path with SQL for every user before timing (default on)")
    ap.add_argument("--check-users", type=int, default=None,
                    help="the first N user ids to check (default: all up to 1M events, else 2000; 0: all)")
    ap.add_argument("--target", type=float, default=1.5,
                    help="the largest acceptable ratio uba / A (array_agg ORDER BY ts)")
    ap.add_argument("--fetch", action="store_true",
                    help="time fetching every row to the client instead of count(q.*) on the server")
    ap.add_argument("--show-sql", action="store_true", help="print the timed queries and exit")
    args = ap.parse_args()

    queries = {
        "A: array_agg": ARRAY_AGG_SQL.format(table=TABLE),
        "uba_path default": UBA_DEFAULT_SQL.format(table=TABLE),
        "B: SQL default": DEFAULT_SQL.format(table=TABLE),
        "uba_path options": sql_text(UBA_OPTIONS_SQL),
        "C: SQL options": sql_text(OPTIONS_SQL),
    }
    if args.show_sql:
        print(";\n\n".join(f"-- {name}\n{q}" for name, q in queries.items()) + ";")
        return 0
    cur = connect(args.dsn)
    cur.execute("SELECT to_regprocedure('uba_path(timestamptz, text, jsonb)') IS NOT NULL")
    if not cur.fetchone()[0]:
        raise SystemExit("uba_path is not in this database's uba extension (it was created from an older "
                         "script): recreate the extension, or point --dsn at another database")
    cur.execute("SET TimeZone = 'UTC'")     # only for printing times in the check
    make_table(cur, args.events, args.users, args.rebuild)
    cur.execute(f"SELECT count(*), count(DISTINCT user_id) FROM {TABLE}")
    nevents, nusers = cur.fetchone()

    bad = 0
    if args.check:
        limit = args.check_users
        if limit is None:
            limit = 0 if nevents <= 1_000_000 else 2000
        bad = check(cur, limit)

    cur.execute("SELECT current_setting('server_version'), current_setting('work_mem'),"
                " current_setting('max_parallel_workers_per_gather'), current_setting('jit')")
    version, work_mem, workers, jit = cur.fetchone()
    load = os.getloadavg()[0]
    times = measure_plans(cur, queries, args.repeat, args.fetch)

    print(f"\n{nevents:,} events of {nusers:,} users; PostgreSQL {version}; work_mem {work_mem}, "
          f"max_parallel_workers_per_gather {workers} (parallel) or 0 (serial), jit {jit}; "
          f"load average {load:.2f} before timing; medians of {args.repeat} runs, "
          f"{'rows fetched to the client' if args.fetch else 'counted on the server'}\n")
    print(f"options: `{json.dumps(OPTIONS)}`\n")
    print("| query | plan | seconds (median) | ratio uba / A | ratio uba / same-result SQL | target |")
    print("|---|---|---:|---:|---:|---|")
    for plan in ("parallel", "serial"):
        a = times["A: array_agg", plan]
        print(f"| A: array_agg ORDER BY ts | {plan} | {a:.3f} | | | |")
        for uba, sql in (("uba_path default", "B: SQL default"), ("uba_path options", "C: SQL options")):
            u, s = times[uba, plan], times[sql, plan]
            met = "met" if u / a <= args.target else "NOT met"
            print(f"| {uba} | {plan} | {u:.3f} | {u / a:.2f} | {u / s:.2f} | uba / A at most {args.target:g}x: {met} |")
            print(f"| {sql} | {plan} | {s:.3f} | | | |")
    print()
    for plan in ("parallel", "serial"):
        print(f"uba_path default, {plan}: {nevents / times['uba_path default', plan]:,.0f} events/s")
    if bad:
        print(f"\nthe check found {bad} mismatches: the timed queries do not compute the same thing")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
