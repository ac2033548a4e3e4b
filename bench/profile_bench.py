#!/usr/bin/python3
"""uba_profile against the fastest plain SQL that computes the same 33 fields, in one session.

PLACEHOLDER
"""
import argparse
import datetime
import json
import math
import os
import statistics
import sys
import time

from benchlib import connect, timed

END = "2024-07-01"          # the observation end: the day after the last event's date
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
SELECT m.user_id, m.first_seen, m.last_seen, m.events, m.active_days, m.active_weeks, m.sessions,
       m.events::float8 / m.active_days AS events_per_active_day,
       m.sessions::float8 / m.active_days AS sessions_per_active_day,
       m.events::float8 / m.sessions AS events_per_session,
       m.views, m.carts, m.purchases,
       m.views::float8 / m.events AS view_share, m.carts::float8 / m.events AS cart_share,
       m.purchases::float8 / m.events AS purchase_share,
       m.carts::float8 / nullif(m.views, 0) AS view_to_cart,
       m.purchases::float8 / nullif(m.carts, 0) AS cart_to_purchase,
       m.distinct_items, m.distinct_items_purchased,
       (nullif(m.purchase_days, 0) - 1)::float8 AS frequency,
       (m.last_pd - m.first_pd)::float8 AS recency,
       (date '{end}' - m.first_pd)::float8 AS t,
       CASE WHEN m.purchase_days > 1 THEN (m.revenue - m.first_pd_sum) / (m.purchase_days - 1)
            WHEN m.purchase_days = 1 THEN 0 END AS monetary_value,
       coalesce(m.revenue, 0) AS revenue,
       m.revenue / m.purchase_sessions AS avg_basket_value,
       m.avg_price, m.preferred_weekday, m.preferred_hour,
       c.top_categories[1] AS top_category,
       coalesce(c.top_categories, '{{}}') AS top_categories,
       coalesce(c.top_category_shares, '{{}}') AS top_category_shares,
       date '{end}' - m.last_d AS days_since_last,
       CASE WHEN date '{end}' - m.first_d < 30 THEN 'new'
            WHEN date '{end}' - m.last_d < 30 THEN
                 CASE WHEN m.window_first - m.before_window >= 90 THEN 'resurrected' ELSE 'active' END
            WHEN date '{end}' - m.last_d < 90 THEN 'at risk'
            ELSE 'dormant' END AS lifecycle
FROM (
  SELECT user_id, min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS events,
         count(*) FILTER (WHERE d IS DISTINCT FROM prev_d)::int AS active_days,
         count(*) FILTER (WHERE prev_d IS NULL OR d - ((d - date '2000-01-03') % 7 + 7) % 7
                                 <> prev_d - ((prev_d - date '2000-01-03') % 7 + 7) % 7)::int AS active_weeks,
         max(sid)::int AS sessions,
         count(*) FILTER (WHERE k = 1) AS views, count(*) FILTER (WHERE k = 2) AS carts,
         count(*) FILTER (WHERE k = 3) AS purchases,
         count(DISTINCT item_id)::int AS distinct_items,
         count(DISTINCT item_id) FILTER (WHERE k = 3)::int AS distinct_items_purchased,
         count(DISTINCT d) FILTER (WHERE k = 3) AS purchase_days,
         min(d) FILTER (WHERE k = 3) AS first_pd, max(d) FILTER (WHERE k = 3) AS last_pd,
         sum(coalesce(amount, 0)) FILTER (WHERE k = 3) AS revenue,
         sum(coalesce(amount, 0)) FILTER (WHERE k = 3 AND d = first_pd_run) AS first_pd_sum,
         count(DISTINCT sid) FILTER (WHERE k = 3) AS purchase_sessions,
         avg(amount) AS avg_price,
         mode() WITHIN GROUP (ORDER BY dow) AS preferred_weekday,
         mode() WITHIN GROUP (ORDER BY hr) AS preferred_hour,
         min(d) AS first_d, max(d) AS last_d,
         min(d) FILTER (WHERE d > date '{end}' - 30) AS window_first,
         max(d) FILTER (WHERE d <= date '{end}' - 30) AS before_window
  FROM (
    SELECT *, count(*) FILTER (WHERE prev_ts IS NULL OR ts - prev_ts > interval '30 minutes')
                OVER (PARTITION BY user_id ORDER BY ts ROWS UNBOUNDED PRECEDING) AS sid
    FROM (
      SELECT user_id, ts, d, k, item_id, amount, dow, hr,
             lag(ts) OVER w AS prev_ts, lag(d) OVER w AS prev_d,
             min(d) FILTER (WHERE k = 3) OVER w AS first_pd_run
      FROM (SELECT user_id, ts, ts::date AS d, item_id, amount,
                   date_part('isodow', ts)::int AS dow, date_part('hour', ts)::int AS hr,
                   CASE WHEN event_type IN ('view', 'view_item', 'page_view', 'product_view') THEN 1
                        WHEN event_type IN ('cart', 'add_to_cart', 'addtocart') THEN 2
                        WHEN event_type IN ('purchase', 'transaction', 'order') THEN 3 ELSE 0 END AS k
              FROM {table} WHERE ts < timestamptz '{end_next}') r
      WINDOW w AS (PARTITION BY user_id ORDER BY ts)) l
  ) s
  GROUP BY user_id
) m
LEFT JOIN (
  SELECT user_id, array_agg(category ORDER BY r) AS top_categories, array_agg(share ORDER BY r) AS top_category_shares
  FROM (SELECT user_id, category, n / sum(n) OVER (PARTITION BY user_id) AS share,
               row_number() OVER (PARTITION BY user_id ORDER BY n DESC, category COLLATE "C") AS r
        FROM (SELECT user_id, category, count(*)::float8 AS n FROM {table}
               WHERE category IS NOT NULL AND ts < timestamptz '{end_next}' GROUP BY user_id, category) g) q
  WHERE r <= 3 GROUP BY user_id
) c ON c.user_id = m.user_id"""

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
        got[name] = {r[0]: dict(zip(cols, r)) for r in cur.fetchall()}
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
                if len(examples) < 10:
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


def measure(cur, queries, repeat):
    """Medians of the queries run in turns, with parallel plans as configured and then serial:
    {(name, plan): seconds}.  Each query is counted on the server, count(q.*) over its whole rows,
    so every field is computed but no row travels to the client."""
    out = {}
    for plan in ("parallel", "serial"):
        cur.execute("RESET max_parallel_workers_per_gather" if plan == "parallel"
                    else "SET max_parallel_workers_per_gather = 0")
        wrapped = {name: f"SELECT count(q.*) FROM ({q}) q" for name, q in queries.items()}
        counts = {name: timed(cur, q)[1][0][0] for name, q in wrapped.items()}   # warm-up
        if len(set(counts.values())) != 1:
            raise SystemExit(f"the queries return different numbers of users: {counts}")
        times = {name: [] for name in wrapped}
        for i in range(repeat):
            for name, q in wrapped.items():
                t = timed(cur, q)[0]
                times[name].append(t)
                print(f"{plan} run {i + 1}: {name} {t:.3f} s", file=sys.stderr)
        for name, ts in times.items():
            out[name, plan] = statistics.median(ts)
    cur.execute("RESET max_parallel_workers_per_gather")
    return out


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

    cur.execute("SELECT current_setting('work_mem'), current_setting('max_parallel_workers_per_gather'),"
                " current_setting('server_version')")
    work_mem, workers, version = cur.fetchone()
    load = os.getloadavg()[0]
    times = measure(cur, {"uba_profile": sql_text(UBA_SQL), "plain SQL": sql_text(SQL)}, args.repeat)

    print(f"\n{nevents:,} events of {nusers:,} users; PostgreSQL {version}, work_mem {work_mem}, "
          f"max_parallel_workers_per_gather {workers}; load average {load:.2f} before timing; "
          f"medians of {args.repeat} runs\n")
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
