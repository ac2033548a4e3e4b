#!/usr/bin/python3
"""uba_profile against the fastest plain SQL that computes the same 33 fields, in one session.

Measured: one profile row per user from raw events,

    SELECT user_id, (p).* FROM (SELECT user_id, uba_profile(ts, event_type, item_id, category, amount,
           '{"end": "2024-07-01"}'::jsonb) AS p FROM profile_events GROUP BY user_id) s

(otherwise the default options: 30-minute session gap, the documented view / cart / purchase
lists, top 3 categories, lifecycle 30 / 30 / 90 days, RFM by day), against SQL below, the
fastest plain PostgreSQL found for the same fields by the definitions of doc/profiles.md, both
with TimeZone = 'UTC'.  --show-sql prints the two queries.  The table gives the median seconds,
the ratio uba / SQL and the target: uba at most --target (1.5) times the SQL's time, stated as
the other benches state theirs.

The events: profile_events(user_id, ts, event_type, item_id, category, amount), --events rows
(10,000,000) of about --users users (200,000; the busiest have a few hundred events, many one or
two), made in SQL from integer hashes of generate_series (deterministic, no random()): 180 days
from 2024-01-01, each user with a first day, a span and 1 to 12 visits, events up to 45 minutes
into a visit (sessions of several events, gaps on both sides of 30 minutes), rows out of time
order within users, every 8th user back in the last month (resurrected); 78% 'view', 10% 'cart',
5% 'remove_from_cart' (other), 5% 'purchase', 2% NULL types; items 1 to 50,001 (popular ones
first), 40 categories by item (mixed case and non-ASCII names, to test byte order) with 1% NULL,
amounts by item with 2.5% NULL.  Made once and VACUUM ANALYZEd; a later run with the same
--events and --users reuses it (the table's comment says how it was made); --rebuild remakes it.

The SQL sorts once by (user_id, ts) and needs no other sort: two window passes of running
aggregates over the rows before each event (frame ROWS BETWEEN UNBOUNDED PRECEDING AND 1
PRECEDING, incremental) give the previous time and date, the previous purchase, the session's
start and the purchase days so far; one GROUP BY user_id counts the resulting flags and takes
count(DISTINCT item_id), mode() of weekday and hour (PostgreSQL's mode() returns the smallest of
tied values: it reads them in ascending order; checked) and the array of categories, whose top 3
a LATERAL subquery ranks (count, then name COLLATE "C").  Every field is matched; none is left
out of the check.  Formulations tried (serial, 1M events of 19,611 users, the least backend CPU
seconds of 5 runs on the shared 2-core machine; uba_profile 1.12 s):

- lag() for the previous time and date, a running count of session starts as the session id,
  count(DISTINCT) of purchase dates and of session ids among purchases, and the top categories
  from a second scan, GROUP BY (user_id, category) and row_number(), merge-joined: 4.25 s;
- the same with the categories collected by the main aggregate and ranked in the LATERAL: 3.60 s;
- without those two DISTINCTs (purchase days and purchase sessions from running aggregates in
  the second window) but with every column carried through both windows: 3.84 s (wider rows in
  the windows' tuplestores cost more than the DISTINCTs saved);
- the kept query: narrow rows, running max() instead of lag(), the previous purchase's date
  from its time, sum() / count() instead of avg() (avg(float8) also sums squares): 3.12 s;
- the kept query with 24 + 7 count(*) FILTER (WHERE hour = h) and an argmax instead of mode():
  3.54 s;
- session fields from a narrow window pipeline and the rest from a separate GROUP BY user_id,
  joined: 4.45 s (two sorts);
- a UNION ALL of halves of the users, hoping for a Parallel Append: window paths never run
  whole in workers, only the scan and sort below a Gather Merge; dropped.

Parallel query helps the SQL only in that scan and sort.  uba_profile has no combine function,
so its aggregate runs in one process in both plans.

--check (on by default) first compares every field of every user between the two queries (all
users up to 1M events, else the first 2,000 user ids, --check-users N to choose): integers,
texts, arrays and timestamps exactly, floats within 1e-9 of max(1, |uba's value|); a table of
mismatches per field and the first few (user, field, both values).  The timings run anyway; the
exit status is 1 when anything differs.

Timing: each query runs as SELECT count(q.*) FROM (query) q, which computes every field (the
whole row is read; with count(*) the planner drops unused outputs, and for uba_profile the
aggregate itself) but sends no rows to the client, whose conversion of 33 values per user
would add the same seconds to both sides (--fetch times fetching all rows instead).  One
warm-up run each, then --repeat runs taking turns; medians, with parallel query as configured
and with max_parallel_workers_per_gather = 0.  Other settings are the server's (work_mem, JIT:
printed).  Progress and every run go to stderr, the tables to stdout.

    /usr/bin/python3 bench/profile_bench.py [--dsn DSN] [--events 10000000] [--users 200000]
        [--repeat 3] [--rebuild] [--no-check] [--check-users N] [--fetch] [--show-sql]
"""
import argparse
import datetime
import os
import statistics
import sys
import time

from benchlib import connect, measure_plans, timed

END = "2024-07-01"          # the observation end, a fixed date after the last event (2024-06-29 00:45)
START = "2024-01-01"        # the first of the 180 days the events are spread over

# The events: everything from integer hashes of the row number g (no random()), so the same
# --events and --users give the same rows.  Each level is fenced by OFFSET 0 so that its
# hashes are computed once per row instead of being inlined into every use.
#   h1 * h2 picks the user: the product of two uniforms skews the events towards low user ids
#   (a few hundred events for the busiest users, one or two for many);
#   each user has a first day, a span of days and 1..12 visits (a day and a second of the day
#   each, hashed from the user and the visit), and an event lands in one visit, 0..45 minutes
#   after its start: sessions of several events, with gaps on both sides of 30 minutes;
#   every 8th user returns in the last month (resurrected users);
#   h3: event type and visit; h4: the item (popular items first), NULL categories and amounts.
GENERATE_SQL = """
CREATE TABLE profile_events AS
SELECT user_id,
       timestamptz '{start} 00:00:00+00'
         + (visit_day * 86400 + visit_sec + (h3 / 1600) % 2700) * interval '1 second' AS ts,
       CASE WHEN h3 % 100 < 78 THEN 'view' WHEN h3 % 100 < 88 THEN 'cart'
            WHEN h3 % 100 < 93 THEN 'remove_from_cart' WHEN h3 % 100 < 98 THEN 'purchase' END AS event_type,
       item_id,
       CASE WHEN h4 % 97 <> 0 THEN (ARRAY[
         'books', 'Books', 'garden', 'toys', 'music', 'shoes', 'hats', 'bags', 'sport', 'kitchen',
         'Électronique', 'Zubehör', 'ägg', 'z-misc', 'beauty', 'baby', 'pets', 'tools', 'auto', 'food',
         'c20', 'c21', 'c22', 'c23', 'c24', 'c25', 'c26', 'c27', 'c28', 'c29',
         'c30', 'c31', 'c32', 'c33', 'c34', 'c35', 'c36', 'c37', 'c38', 'c39'])[1 + (item_id * 7) % 40]
       END AS category,
       CASE WHEN (h4 / 97) % 40 <> 0 THEN ((item_id * 7919) % 49999 + 99) / 100.0 END::float8 AS amount
FROM (
  SELECT user_id, h3, h4, item_id,
         CASE WHEN user_id % 8 = 0 AND k = 0 THEN 150 + (user_id / 8) % 30
              ELSE first_day + ((user_id * 7919 + k * 104729) % 2147483648 * 2654435761 % 2147483648) % (span + 1)
         END AS visit_day,
         ((user_id * 104723 + k * 7907) % 2147483648 * 2246822519 % 2147483648) % 86400 AS visit_sec
  FROM (
    SELECT user_id, h3, h4, 1 + (50000 * (h4::float8 / 2147483648) ^ 2)::bigint AS item_id,
           (h3 / 100) % (1 + (user_id * 40503 % 1009) % 12) AS k,
           first_day, (user_id * 2246822519 % 2147483648) % (180 - first_day) AS span
    FROM (
      SELECT user_id, h3, h4, (user_id * 2654435761 % 1000003) % 180 AS first_day
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

UBA_SQL = """\
SELECT user_id, (p).*
  FROM (SELECT user_id, uba_profile(ts, event_type, item_id, category, amount, '{{"end": "{end}"}}'::jsonb) AS p
          FROM {table} GROUP BY user_id) s"""

SQL = """\
WITH events AS (
  -- the events up to the end date, with their local date and kind (1 view, 2 cart, 3 purchase, 0 other)
  SELECT user_id, ts, ts::date AS d, item_id, category, amount,
         CASE WHEN event_type IN ('view', 'view_item', 'page_view', 'product_view') THEN 1
              WHEN event_type IN ('cart', 'add_to_cart', 'addtocart') THEN 2
              WHEN event_type IN ('purchase', 'transaction', 'order') THEN 3 ELSE 0 END AS k
    FROM {table}
   WHERE ts < timestamptz '{end_next}'      -- before the local midnight after the end date (the
), before AS (                              -- literal is read in the session's TimeZone)
  -- what came before each event in time order.  Running aggregates over the rows before it
  -- (one pass, no re-sort): in ts order the max of the earlier times is the previous time,
  -- the max of the earlier dates the previous date
  SELECT user_id, ts, d, k, item_id, category, amount,
         max(ts) OVER w AS prev_ts, max(d) OVER w AS prev_d,
         max(ts) FILTER (WHERE k = 3) OVER w AS prev_purchase
    FROM events
  WINDOW w AS (PARTITION BY user_id ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
), flagged AS (
  SELECT user_id, ts, d, k, item_id, category, amount, prev_purchase,
         prev_ts IS NULL OR ts - prev_ts > interval '30 minutes' AS new_session,
         prev_d IS NULL OR prev_d <> d AS new_day,
         -- a new Monday-week: the Monday of d (2000-01-03 was a Monday) differs from the previous date's
         prev_d IS NULL OR (prev_d <> d AND d - ((d - date '2000-01-03') % 7 + 7) % 7
                                         <> prev_d - ((prev_d - date '2000-01-03') % 7 + 7) % 7) AS new_week,
         k = 3 AND (prev_purchase IS NULL OR prev_purchase::date < d) AS new_purchase_day
    FROM before
), sessioned AS (
  -- the start of the session an event is in (when it does not start one itself), and how many
  -- purchase days came before it
  SELECT *, max(ts) FILTER (WHERE new_session) OVER w AS session_start,
            count(*) FILTER (WHERE new_purchase_day) OVER w AS purchase_days_before
    FROM flagged
  WINDOW w AS (PARTITION BY user_id ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
), users AS (
  SELECT user_id, min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS events,
         count(*) FILTER (WHERE new_day)::int AS active_days,
         count(*) FILTER (WHERE new_week)::int AS active_weeks,
         count(*) FILTER (WHERE new_session)::int AS sessions,
         count(*) FILTER (WHERE k = 1) AS views, count(*) FILTER (WHERE k = 2) AS carts,
         count(*) FILTER (WHERE k = 3) AS purchases,
         count(DISTINCT item_id)::int AS distinct_items,
         count(DISTINCT item_id) FILTER (WHERE k = 3)::int AS distinct_items_purchased,
         count(*) FILTER (WHERE new_purchase_day) AS purchase_days,
         min(d) FILTER (WHERE k = 3) AS first_purchase_day, max(d) FILTER (WHERE k = 3) AS last_purchase_day,
         sum(coalesce(amount, 0)) FILTER (WHERE k = 3) AS revenue,
         -- the purchases on the second and later purchase days: lifetimes' repeat periods
         sum(coalesce(amount, 0)) FILTER (WHERE k = 3 AND purchase_days_before + new_purchase_day::int > 1)
           AS repeat_amount,
         -- a purchase that starts its session, or whose previous purchase came before its session's start
         count(*) FILTER (WHERE k = 3 AND (new_session OR prev_purchase IS NULL OR prev_purchase < session_start))
           AS purchase_sessions,
         sum(amount) / count(amount) AS avg_price,
         -- mode() returns the smallest of tied values (it reads them in ascending order)
         mode() WITHIN GROUP (ORDER BY ((d - date '2000-01-03') % 7 + 7) % 7 + 1) AS preferred_weekday,
         mode() WITHIN GROUP (ORDER BY date_part('hour', ts)::int) AS preferred_hour,
         array_agg(category) FILTER (WHERE category IS NOT NULL) AS categories,
         count(category) AS category_events,
         -- lifecycle: the first active date within the last 30 days, and the last one before them
         min(d) FILTER (WHERE d > date '{end}' - 30) AS window_first,
         max(d) FILTER (WHERE d <= date '{end}' - 30) AS before_window
    FROM sessioned
   GROUP BY user_id
)
SELECT u.user_id, u.first_seen, u.last_seen, u.events, u.active_days, u.active_weeks, u.sessions,
       u.events::float8 / u.active_days AS events_per_active_day,
       u.sessions::float8 / u.active_days AS sessions_per_active_day,
       u.events::float8 / u.sessions AS events_per_session,
       u.views, u.carts, u.purchases,
       u.views::float8 / u.events AS view_share, u.carts::float8 / u.events AS cart_share,
       u.purchases::float8 / u.events AS purchase_share,
       u.carts::float8 / nullif(u.views, 0) AS view_to_cart,
       u.purchases::float8 / nullif(u.carts, 0) AS cart_to_purchase,
       u.distinct_items, u.distinct_items_purchased,
       (nullif(u.purchase_days, 0) - 1)::float8 AS frequency,
       (u.last_purchase_day - u.first_purchase_day)::float8 AS recency,
       (date '{end}' - u.first_purchase_day)::float8 AS t,
       CASE WHEN u.purchase_days > 1 THEN u.repeat_amount / (u.purchase_days - 1)
            WHEN u.purchase_days = 1 THEN 0 END AS monetary_value,
       coalesce(u.revenue, 0) AS revenue,
       u.revenue / nullif(u.purchase_sessions, 0) AS avg_basket_value,
       u.avg_price, u.preferred_weekday, u.preferred_hour,
       c.top_categories[1] AS top_category,
       coalesce(c.top_categories, '{{}}') AS top_categories,
       coalesce(c.top_category_shares, '{{}}') AS top_category_shares,
       date '{end}' - u.last_seen::date AS days_since_last,
       CASE WHEN date '{end}' - u.first_seen::date < 30 THEN 'new'
            WHEN date '{end}' - u.last_seen::date < 30 THEN
                 CASE WHEN u.window_first - u.before_window >= 90 THEN 'resurrected' ELSE 'active' END
            WHEN date '{end}' - u.last_seen::date < 90 THEN 'at risk'
            ELSE 'dormant' END AS lifecycle
  FROM users u
  -- the top 3 categories of each user from the categories the aggregate collected: by count,
  -- then by name in byte order
  LEFT JOIN LATERAL (
    SELECT array_agg(name ORDER BY n DESC, name COLLATE "C") AS top_categories,
           array_agg(n::float8 / u.category_events ORDER BY n DESC, name COLLATE "C") AS top_category_shares
      FROM (SELECT name, count(*) AS n FROM unnest(u.categories) name
             GROUP BY name ORDER BY n DESC, name COLLATE "C" LIMIT 3) top
  ) c ON true"""

# the 33 fields in uba_profile_summary's order, and how they are compared
FIELDS = {
    "first_seen": "exact", "last_seen": "exact", "events": "exact", "active_days": "exact",
    "active_weeks": "exact", "sessions": "exact", "events_per_active_day": "float",
    "sessions_per_active_day": "float", "events_per_session": "float",
    "views": "exact", "carts": "exact", "purchases": "exact",
    "view_share": "float", "cart_share": "float", "purchase_share": "float",
    "view_to_cart": "float", "cart_to_purchase": "float",
    "distinct_items": "exact", "distinct_items_purchased": "exact",
    "frequency": "float", "recency": "float", "t": "float", "monetary_value": "float",
    "revenue": "float", "avg_basket_value": "float", "avg_price": "float",
    "preferred_weekday": "exact", "preferred_hour": "exact",
    "top_category": "exact", "top_categories": "exact", "top_category_shares": "floats",
    "days_since_last": "exact", "lifecycle": "exact",
}



def sql_text(template, table="profile_events"):
    """The query with the table and the end date filled in."""
    end = datetime.date.fromisoformat(END)
    return template.format(table=table, end=END, end_next=end + datetime.timedelta(days=1))


def make_table(cur, events, users, rebuild):
    """profile_events with the requested rows, kept when an earlier run made the same."""
    tag = f"events={events} users={users} start={START}"
    cur.execute("SELECT obj_description(to_regclass('profile_events'), 'pg_class')")
    if not rebuild and cur.fetchone()[0] == tag:
        cur.execute("SELECT count(*) FROM profile_events")
        if cur.fetchone()[0] == events:
            print(f"reusing profile_events ({events:,} events)", file=sys.stderr)
            return
    cur.execute("DROP TABLE IF EXISTS profile_events")
    t0 = time.perf_counter()
    cur.execute(GENERATE_SQL.format(events=events, users=users, start=START))
    cur.execute("VACUUM ANALYZE profile_events")
    cur.execute(f"COMMENT ON TABLE profile_events IS '{tag}'")
    print(f"made profile_events ({events:,} events) in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


def differs(kind, a, b):
    """The size of the difference of two values of a field (0 when equal), or None when they differ
    in kind (one NULL, arrays of other lengths)."""
    if a is None or b is None:
        return 0.0 if a is None and b is None else None
    if kind == "float":
        return abs(a - b) / max(1.0, abs(a))
    if kind == "floats":
        if len(a) != len(b):
            return None
        return max((abs(x - y) / max(1.0, abs(x)) for x, y in zip(a, b)), default=0.0)
    return 0.0 if a == b else None


def check(cur, sql, users_limit):
    """Compare every field of every user (or of the first users_limit user ids) between uba and the
    SQL; print a table of mismatches per field and return how many there are."""
    table = "profile_events"
    if users_limit:
        cur.execute("DROP TABLE IF EXISTS pg_temp.profile_check")
        cur.execute(f"""CREATE TEMP TABLE profile_check AS SELECT * FROM profile_events
                        WHERE user_id IN (SELECT user_id FROM profile_events GROUP BY user_id
                                           ORDER BY user_id LIMIT {users_limit})""")
        cur.execute("ANALYZE profile_check")
        table = "profile_check"
    got = {}
    for name, q in (("uba", UBA_SQL), ("sql", sql)):
        cur.execute(sql_text(q, table))
        cols = [d[0] for d in cur.description]
        missing = [f for f in FIELDS if f not in cols]
        if missing:
            raise SystemExit(f"the {name} query lacks {', '.join(missing)}")
        # a user without events up to the end gets a NULL profile from uba and no row from the SQL
        got[name] = {r[0]: dict(zip(cols, r)) for r in cur.fetchall() if r[cols.index("events")] is not None}
    uba, ref = got["uba"], got["sql"]
    cur.execute(f"SELECT count(*) FROM {table}")
    nevents = cur.fetchone()[0]
    print(f"\ncheck: {len(uba):,} users ({nevents:,} events) of uba_profile against the SQL\n")
    print("| field | users | mismatches | largest difference |")
    print("|---|---:|---:|---:|")
    only = set(uba) ^ set(ref)
    print(f"| (users) | {len(set(uba) | set(ref)):,} | {len(only)} | |")
    bad, examples = len(only), []
    both = sorted(set(uba) & set(ref))
    for f, kind in FIELDS.items():
        n, worst = 0, 0.0
        for u in both:
            d = differs(kind, uba[u][f], ref[u][f])
            tolerance = 1e-9 if kind in ("float", "floats") else 0.0
            if d is None or d > tolerance:
                n += 1
                if n <= 3 and len(examples) < 30:      # a few of every field that differs
                    examples.append(f"user {u}, {f}: uba {uba[u][f]!r}, SQL {ref[u][f]!r}")
            elif d > worst:
                worst = d
        bad += n
        print(f"| {f} | {len(both):,} | {n} | {worst:.1e} |" if kind in ("float", "floats")
              else f"| {f} | {len(both):,} | {n} | |")
    for u in sorted(only)[:5]:
        examples.append(f"user {u}: a row only from {'uba' if u in uba else 'the SQL'}")
    if examples:
        print("\nfirst mismatches:\n\n" + "\n".join(f"- {e}" for e in examples))
    print(f"\ncheck: {'all fields equal' if bad == 0 else f'{bad} MISMATCHES'} "
          "(floats within 1e-9 of max(1, |uba's value|), the rest exactly)")
    if users_limit:
        cur.execute("DROP TABLE profile_check")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", default="")
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--users", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rebuild", action="store_true", help="make the table again even if it is there")
    ap.add_argument("--check", action=argparse.BooleanOptionalAction, default=True,
                    help="compare every field of uba and the SQL before timing (default on)")
    ap.add_argument("--check-users", type=int, default=None,
                    help="the first N user ids to check (default: all up to 1M events, else 2000; 0: all)")
    ap.add_argument("--target", type=float, default=1.5, help="the largest acceptable ratio uba / SQL")
    ap.add_argument("--fetch", action="store_true",
                    help="time fetching every row to the client instead of count(q.*) on the server")
    ap.add_argument("--show-sql", action="store_true", help="print both queries and exit")
    args = ap.parse_args()

    if args.show_sql:
        print(sql_text(UBA_SQL) + ";\n\n" + sql_text(SQL) + ";")
        return 0
    cur = connect(args.dsn)
    cur.execute("SET TimeZone = 'UTC'")     # the local dates, weekdays and hours of both sides
    make_table(cur, args.events, args.users, args.rebuild)
    cur.execute("SELECT count(*), count(DISTINCT user_id) FROM profile_events")
    nevents, nusers = cur.fetchone()

    bad = 0
    if args.check:
        limit = args.check_users
        if limit is None:
            limit = 0 if nevents <= 1_000_000 else 2000
        bad = check(cur, SQL, limit)

    cur.execute("SELECT current_setting('server_version'), current_setting('work_mem'),"
                " current_setting('max_parallel_workers_per_gather'), current_setting('jit')")
    version, work_mem, workers, jit = cur.fetchone()
    load = os.getloadavg()[0]
    times = measure_plans(cur, {"uba_profile": sql_text(UBA_SQL), "plain SQL": sql_text(SQL)}, args.repeat, args.fetch)

    print(f"\n{nevents:,} events of {nusers:,} users; PostgreSQL {version}; work_mem {work_mem}, "
          f"max_parallel_workers_per_gather {workers} (parallel) or 0 (serial), jit {jit}; "
          f"load average {load:.2f} before timing; medians of {args.repeat} runs, "
          f"{'rows fetched to the client' if args.fetch else 'counted on the server'}\n")
    print("| query | plan | seconds (median) | ratio uba / SQL | target |")
    print("|---|---|---:|---:|---|")
    for plan in ("parallel", "serial"):
        u, s = times["uba_profile", plan], times["plain SQL", plan]
        met = "met" if u / s <= args.target else "NOT met"
        print(f"| uba_profile | {plan} | {u:.3f} | {u / s:.2f} | at most {args.target:g}x: {met} |")
        print(f"| plain SQL | {plan} | {s:.3f} | | |")
    print()
    for plan in ("parallel", "serial"):
        print(f"uba_profile, {plan}: {nevents / times['uba_profile', plan]:,.0f} events/s")
    if bad:
        print(f"\nthe check found {bad} mismatches: the timed queries do not compute the same thing")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
