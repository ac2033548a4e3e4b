#!/usr/bin/python3
"""uba_lifecycle against an independent reference of PostHog's lifecycle, user by user.

The reference below (lifecycle()) is written from the specification in doc/behaviour.md
("uba_lifecycle and stickiness"), not from the C code.  A period is a day, a week starting
Monday or a calendar month, named by its first day; an event's period is the one containing its
local date (UTC: the SQL side runs with TimeZone = 'UTC', except in the one case that sets another
zone); rows with a NULL time are ignored.  The range runs from the period containing option
"start" to the period containing option "end" (default: today).  A user is active in a period
when they have an event in it; their first period is the earliest active one ever (events before
the range count, for "first" and for the period before the range's first; events in periods after
the range's last count for nothing).  In each period p of the range, with prev the period before:
active in p -> "new" if p is the first period, else "returning" if active in prev, else
"resurrecting"; not active in p but in prev -> "dormant"; otherwise no status.  The result lists
the periods with a status in order, with their statuses; a user whose rows give none gets two
empty arrays (not NULL).  The chart counts users per (period, status).  Stickiness (plain SQL in
the doc): users by their number of distinct active dates in [start, end).

Hand-made cases (the doc's example by week, day and month, and boundary cases) check the
reference itself first.  Then, case by case, every user's (periods, statuses) is compared exactly,
and every cell of the chart (users per period and status, the doc's GROUP BY over unnest) on

- the bundled UCI Online Retail lines with a customer (table retail_lines, ts = invoice_date, a
  timestamp without time zone): by week 2011-01-01..2011-12-09, by month 2010-12-01..2011-12-09
  and by day 2011-11-01..2011-12-09;
- a seeded synthetic table lifecycle_events (user_id int, ts timestamptz; dropped and recreated
  here): about 3,000 users with bursts and gaps of activity so that every status occurs, times at
  00:00:00, 00:00:00.000001, 23:59:59 and 23:59:59.999999, Sunday/Monday and month-end days, the
  days around each range's ends, events years before and after the ranges, NULL times and users
  with nothing but NULLs; by week (default period; a range starting and ending mid-week), by
  month (whole months; a range from and to mid-month; no end, so today), by day (across
  2024-02-29; across the year end), and by day and by month under TimeZone America/New_York with
  ts and ts::timestamp (local dates across a DST change).

A markdown table per case gives the users compared, the mismatching users, the chart cells
compared and the mismatching cells, with the first mismatches in full (user, events, expected,
got).  Stickiness counts from the doc's SQL recipe are compared with a plain count for a few
ranges.  The exit status is 1 when anything differs.  Load the lines first (from the project
root):

    psql -X -v ON_ERROR_STOP=1 -f data/load_online_retail.sql
    /usr/bin/python3 bench/lifecycle_reference.py [--dsn DSN] [--users N] [--seed S]
    /usr/bin/python3 bench/lifecycle_reference.py --self-check-only     # no database
"""
import argparse
import csv
import datetime
import gzip
import json
import os
import random
import sys
import zoneinfo
from collections import Counter, defaultdict

import psycopg2
from psycopg2.extras import execute_values

from benchlib import connect
from rfm_reference import period_start  # the first day of a date's period, as uba counts them

UTC = datetime.timezone.utc
DAY = datetime.timedelta(days=1)
STATUSES = ("new", "returning", "resurrecting", "dormant")


# ---------------------------------------------------------------- the reference

def previous_period(p, period):
    if period == "week":
        return p - 7 * DAY
    if period == "month":
        return (p - DAY).replace(day=1)
    return p - DAY


def next_period(p, period):
    if period == "week":
        return p + 7 * DAY
    if period == "month":
        return (p + 32 * DAY).replace(day=1)               # p is the 1st
    return p + DAY


def local_date(ts, tz=UTC):
    """The local date of a time: aware times in zone tz, naive ones (timestamp) as they are."""
    if ts is None:
        return None
    return ts.date() if ts.tzinfo is None else ts.astimezone(tz).date()


def lifecycle(dates, options, today=None):
    """(periods, statuses) of one user's local event dates (None for a NULL time)."""
    period = options.get("period", "week")
    start = datetime.date.fromisoformat(options["start"])
    end = datetime.date.fromisoformat(options["end"]) if "end" in options else today
    last = period_start(end, period)
    active = {period_start(d, period) for d in dates if d is not None}
    active = {p for p in active if p <= last}              # after the range: nothing
    first = min(active, default=None)
    periods, statuses = [], []
    p = period_start(start, period)
    while p <= last:
        now, before = p in active, previous_period(p, period) in active
        if now:
            status = "new" if p == first else "returning" if before else "resurrecting"
        else:
            status = "dormant" if before else None
        if status is not None:
            periods.append(p)
            statuses.append(status)
        p = next_period(p, period)
    return periods, statuses


def chart(results):
    """Users per (period, status) from {user: (periods, statuses)}."""
    return Counter(cell for periods, statuses in results.values() for cell in zip(periods, statuses))


def stickiness(dates_by_user, lo, hi):
    """Users by their number of distinct active dates in [lo, hi)."""
    days = (len({d for d in dates if d is not None and lo <= d < hi})
            for dates in dates_by_user.values())
    return Counter(n for n in days if n > 0)


def self_check():
    d = datetime.date

    def run(events, options, today=None):
        return lifecycle([local_date(t) for t in events], options, today)

    def ts(*a):
        return datetime.datetime(*a, tzinfo=UTC)

    # the doc's example (sql/behaviour_lifecycle.sql): weeks from Monday 2024-01-01
    doc = {1: [ts(2024, 1, 2), ts(2024, 1, 3), ts(2024, 1, 9), ts(2024, 1, 24)],
           2: [ts(2023, 12, 20), ts(2024, 1, 10), ts(2024, 1, 17)],
           3: [ts(2024, 1, 16), ts(2024, 3, 1), None]}
    week = {"start": "2024-01-01", "end": "2024-01-31", "period": "week"}
    w = [d(2024, 1, 1) + 7 * k * DAY for k in range(5)]
    got = {u: run(ev, week) for u, ev in doc.items()}
    assert got == {1: (w, ["new", "returning", "dormant", "resurrecting", "dormant"]),
                   2: (w[1:4], ["resurrecting", "returning", "dormant"]),
                   3: (w[2:4], ["new", "dormant"])}, got
    assert chart(got) == Counter({
        (w[0], "new"): 1, (w[1], "resurrecting"): 1, (w[1], "returning"): 1,
        (w[2], "dormant"): 1, (w[2], "new"): 1, (w[2], "returning"): 1,
        (w[3], "dormant"): 2, (w[3], "resurrecting"): 1, (w[4], "dormant"): 1})
    assert run(doc[1], {"start": "2024-01-01", "end": "2024-01-31"}) == got[1]  # week: the default
    day = {"start": "2024-01-08", "end": "2024-01-11", "period": "day"}
    assert [run(doc[u], day)[1] for u in (1, 2, 3)] == [
        ["resurrecting", "dormant"], ["resurrecting", "dormant"], []]
    month = {"start": "2023-11-15", "end": "2024-03-31", "period": "month"}
    assert run(doc[1], month) == ([d(2024, 1, 1), d(2024, 2, 1)], ["new", "dormant"])
    assert run(doc[2], month) == ([d(2023, 12, 1), d(2024, 1, 1), d(2024, 2, 1)],
                                  ["new", "returning", "dormant"])
    assert run(doc[3], month) == ([d(2024, 1, 1), d(2024, 2, 1), d(2024, 3, 1)],
                                  ["new", "dormant", "resurrecting"])
    # the doc's stickiness example: one week from 2024-01-01, user 1 on two days
    sticky = {u: [local_date(t) for t in ev] for u, ev in doc.items()}
    assert stickiness(sticky, d(2024, 1, 1), d(2024, 1, 8)) == Counter({2: 1})

    # boundaries: Sunday 23:59:59.999999 is in the week before Monday 00:00:00
    assert run([ts(2024, 1, 7, 23, 59, 59, 999999), ts(2024, 1, 8)], week) == (
        w[:3], ["new", "returning", "dormant"])
    # the week before the range: "dormant" in the first period, or "returning" when active in it
    assert run([ts(2023, 12, 31, 23, 59, 59)], week) == ([w[0]], ["dormant"])
    assert run([ts(2023, 12, 31, 23, 59, 59), ts(2024, 1, 1)], week) == (
        w[:2], ["returning", "dormant"])
    # two weeks before: nothing until the user comes back, then "resurrecting", never "new"
    assert run([ts(2023, 12, 24), ts(2024, 1, 29, 0, 0, 0, 1)], week) == (
        [w[4]], ["resurrecting"])
    assert run([ts(2015, 6, 15), ts(2024, 1, 1)], week) == (w[:2], ["resurrecting", "dormant"])
    # after the range: changes nothing, not even "first" (a later event is not "new" earlier)
    assert run([ts(2024, 2, 5)], week) == ([], [])
    assert run([ts(2024, 1, 31, 23, 59, 59), ts(2024, 2, 1)], week) == ([w[4]], ["new"])
    assert run([None, None], week) == ([], [])
    # a range starting and ending mid-week covers the weeks containing its ends
    assert run([ts(2024, 1, 1), ts(2024, 1, 14, 23, 59, 59)],
               {"start": "2024-01-03", "end": "2024-01-10"}) == (w[:2], ["new", "returning"])
    # months: start and end mid-month, a month-end boundary, no end (today)
    assert run([ts(2024, 1, 31, 23, 59, 59), ts(2024, 3, 1)],
               {"start": "2024-01-31", "end": "2024-03-15", "period": "month"}) == (
        [d(2024, 1, 1), d(2024, 2, 1), d(2024, 3, 1)], ["new", "dormant", "resurrecting"])
    assert run([ts(2024, 2, 29, 12)], {"start": "2024-01-01", "period": "month"},
               today=d(2024, 4, 2)) == ([d(2024, 2, 1), d(2024, 3, 1)], ["new", "dormant"])
    # days across the leap day
    assert run([ts(2024, 2, 28, 23, 59, 59), ts(2024, 2, 29), ts(2024, 3, 2)],
               {"start": "2024-02-28", "end": "2024-03-03", "period": "day"}) == (
        [d(2024, 2, 28), d(2024, 2, 29), d(2024, 3, 1), d(2024, 3, 2), d(2024, 3, 3)],
        ["new", "returning", "dormant", "resurrecting", "dormant"])
    # local dates in another zone: 2024-03-10 03:30 UTC is the 9th in New York
    ny = zoneinfo.ZoneInfo("America/New_York")
    assert local_date(ts(2024, 3, 10, 3, 30), ny) == d(2024, 3, 9)
    assert local_date(ts(2024, 3, 11, 3, 30), ny) == d(2024, 3, 10)     # after the DST change
    print("self-check of the reference: passed")


# ---------------------------------------------------------------- data

def retail_events(path):
    """{customer: [invoice time, ...]} from the Online Retail lines with a customer."""
    users = defaultdict(list)
    with gzip.open(path, "rt", newline="") as f:
        for r in csv.DictReader(f):
            if r["CustomerID"]:
                users[int(r["CustomerID"])].append(datetime.datetime.fromisoformat(r["InvoiceDate"]))
    return users


RETAIL_CASES = [
    ("Online Retail, by week", {"start": "2011-01-01", "end": "2011-12-09", "period": "week"}),
    ("Online Retail, by month", {"start": "2010-12-01", "end": "2011-12-09", "period": "month"}),
    ("Online Retail, by day", {"start": "2011-11-01", "end": "2011-12-09", "period": "day"}),
]
RETAIL_STICKINESS = [(datetime.date(2011, 11, 1), datetime.date(2011, 12, 1)),
                     (datetime.date(2011, 12, 5), datetime.date(2011, 12, 12))]

# (title, options, time zone, ts expression)
SYN_CASES = [
    ("synthetic, week (default period), 2024-01-01..2024-06-30",
     {"start": "2024-01-01", "end": "2024-06-30"}, "UTC", "ts"),
    ("synthetic, week, mid-week 2024-01-03 (Wed)..2024-03-14 (Thu)",
     {"start": "2024-01-03", "end": "2024-03-14", "period": "week"}, "UTC", "ts"),
    ("synthetic, month, 2024-01-01..2024-06-30",
     {"start": "2024-01-01", "end": "2024-06-30", "period": "month"}, "UTC", "ts"),
    ("synthetic, month, mid-month 2023-11-15..2024-05-15",
     {"start": "2023-11-15", "end": "2024-05-15", "period": "month"}, "UTC", "ts"),
    ("synthetic, month, 2024-01-01 to today (no end)",
     {"start": "2024-01-01", "period": "month"}, "UTC", "ts"),
    ("synthetic, day, 2024-02-20..2024-03-10 (leap day)",
     {"start": "2024-02-20", "end": "2024-03-10", "period": "day"}, "UTC", "ts"),
    ("synthetic, day, 2023-12-25..2024-01-07 (year end)",
     {"start": "2023-12-25", "end": "2024-01-07", "period": "day"}, "UTC", "ts"),
    ("synthetic, day, TimeZone America/New_York, 2024-03-01..2024-03-20 (DST)",
     {"start": "2024-03-01", "end": "2024-03-20", "period": "day"}, "America/New_York", "ts"),
    ("synthetic, day, TimeZone America/New_York, ts::timestamp",
     {"start": "2024-03-01", "end": "2024-03-20", "period": "day"}, "America/New_York",
     "ts::timestamp"),
    ("synthetic, month, TimeZone America/New_York, 2023-12-01..2024-06-30",
     {"start": "2023-12-01", "end": "2024-06-30", "period": "month"}, "America/New_York", "ts"),
]
SYN_STICKINESS = [(datetime.date(2024, 1, 1), datetime.date(2024, 1, 8)),
                  (datetime.date(2024, 2, 1), datetime.date(2024, 3, 1))]

SYN_FIRST = datetime.date(2023, 9, 1)       # most activity from here, for about 13 months
SYN_DAYS = 400
GAPS = [1, 1, 2, 3, 5, 6, 7, 8, 13, 14, 15, 21, 28, 30, 31, 45, 60, 90]   # days between bursts
EDGE_TIMES = [datetime.time(0, 0, 0), datetime.time(0, 0, 0, 1), datetime.time(23, 59, 59),
              datetime.time(23, 59, 59, 999999)]


def edge_dates():
    """Dates around the synthetic ranges' ends, and Sunday/Monday and month-end days."""
    out = set()
    for _, o, _, _ in SYN_CASES:
        for k in ("start", "end"):
            if k in o:
                x = datetime.date.fromisoformat(o[k])
                out.update({x - DAY, x, x + DAY})
    x = SYN_FIRST
    while x < SYN_FIRST + SYN_DAYS * DAY:
        if x.weekday() in (6, 0) or x.day == 1 or (x + DAY).day == 1:
            out.add(x)
        x += DAY
    return sorted(out)


def synthetic_events(n_users, seed):
    """{user: [ts or None, ...]}: random bursts and gaps, plus a few made users."""
    rng = random.Random(seed)
    edges = edge_dates()

    def at(day, exact=None):
        if exact is None and rng.random() < 0.35:
            exact = rng.choice(EDGE_TIMES)
        if exact is None:
            t = datetime.datetime.combine(day, datetime.time(), tzinfo=UTC) + \
                datetime.timedelta(seconds=rng.randrange(86400))
            if rng.random() < 0.3:
                t += datetime.timedelta(microseconds=rng.randrange(1, 1000000))
            return t
        return datetime.datetime.combine(day, exact, tzinfo=UTC)

    users = {}
    for u in range(1, n_users + 1):
        day = SYN_FIRST + rng.randrange(SYN_DAYS) * DAY
        days = [day]                                                # every user has a row
        for _ in range(1 + int(rng.expovariate(1 / 5))):           # bursts
            length = 1 + int(rng.expovariate(1 / 3))
            days += [day + k * DAY for k in range(1, length) if rng.random() < 0.75]
            day += (length + rng.choice(GAPS)) * DAY
            days.append(day)
        ev = []
        for x in days:
            if rng.random() < 0.2:                                  # to a boundary day
                x = rng.choice(edges)
            for _ in range(1 + int(rng.expovariate(1 / 1.5))):
                ev.append(at(x))
        if rng.random() < 0.04:                                     # years before
            ev.append(at(datetime.date(2015, 6, 15) + rng.randrange(2000) * DAY))
        if rng.random() < 0.04:                                     # years after
            ev.append(at(datetime.date(2027, 1, 1) + rng.randrange(2000) * DAY))
        if rng.random() < 0.05:                                     # NULL times
            ev += [None] * rng.randint(1, 3)
        rng.shuffle(ev)
        users[u] = ev

    def t(*a):
        return datetime.datetime(*a, tzinfo=UTC)

    made = [
        [None], [None, None],                                       # no time at all
        [t(2015, 6, 15, 12)],                                       # long before only
        [t(2030, 1, 1)],                                            # after every range only
        [t(2015, 6, 15), t(2024, 1, 1), t(2030, 1, 1), None],
        [t(2023, 12, 31, 23, 59, 59, 999999)],                      # Sunday before 2024-01-01
        [t(2023, 12, 31, 23, 59, 59, 999999), t(2024, 1, 1)],
        [t(2024, 1, 7, 23, 59, 59), t(2024, 1, 8, 0, 0, 0)],        # Sunday / Monday
        [t(2024, 1, 31, 23, 59, 59), t(2024, 2, 1), t(2024, 2, 29, 23, 59, 59, 999999),
         t(2024, 3, 1)],                                            # month ends
        [t(2024, 6, 30, 23, 59, 59), t(2024, 7, 1)],                # range end / after
        [t(2024, 3, 10, 4, 59, 59), t(2024, 3, 10, 5), t(2024, 3, 11, 3, 59, 59)],  # NY midnights
        [t(2024, 1, 1) + k * DAY for k in range(0, 200, 3)],       # steady
    ]
    for k, ev in enumerate(made):
        users[900001 + k] = ev
    return users


def load_events(cur, users):
    cur.execute("DROP TABLE IF EXISTS lifecycle_events")
    cur.execute("CREATE TABLE lifecycle_events (user_id int, ts timestamptz)")
    rows = [(u, t) for u, ev in users.items() for t in ev]
    execute_values(cur, "INSERT INTO lifecycle_events VALUES %s", rows, page_size=5000)
    cur.execute("ANALYZE lifecycle_events")
    return len(rows)


# ---------------------------------------------------------------- comparison

USER_SQL = """
SELECT {user}, (l).periods, (l).statuses FROM (
  SELECT {user}, uba_lifecycle({ts}, %s::jsonb) AS l FROM {table} {where} GROUP BY {user}) s"""

CHART_SQL = """
SELECT s.period, s.status, count(*)
  FROM (SELECT uba_lifecycle({ts}, %s::jsonb) AS l FROM {table} {where} GROUP BY {user}) u,
       unnest((l).periods, (l).statuses) AS s(period, status)
 GROUP BY 1, 2"""

STICKINESS_SQL = """
SELECT days, count(*) FROM (
  SELECT {user}, count(DISTINCT {ts}::date) AS days FROM {table}
   WHERE {ts} >= %s AND {ts} < %s{also} GROUP BY {user}) s
 GROUP BY days"""


def show(periods, statuses):
    if periods is None:
        return "NULL"
    return "[" + ", ".join(f"{p} {s}" for p, s in zip(periods, statuses)) + "]"


def show_events(events, limit=60):
    """A user's times in order, equal ones once with their number; NULLs counted."""
    times = Counter(t for t in events if t is not None)
    nulls = len(events) - sum(times.values())
    ts = sorted(times)
    out = ", ".join(t.isoformat(sep=" ") + (f" x{times[t]}" if times[t] > 1 else "")
                    for t in ts[:limit])
    if len(ts) > limit:
        out += f", ... ({len(ts)} distinct times)"
    return f"{out or 'none'}{f' + {nulls} NULL' if nulls else ''}"


def compare(cur, title, options, users, table, user, ts, where="", tz="UTC", today=None):
    """Markdown table of one case; the number of mismatches."""
    zone = UTC if tz == "UTC" else zoneinfo.ZoneInfo(tz)
    ref = {u: lifecycle([local_date(t, zone) for t in ev], options, today)
           for u, ev in users.items() if ev}           # a group per user with rows
    q = dict(user=user, ts=ts, table=table, where=where)
    cur.execute(f"SET TimeZone = '{tz}'")
    try:
        cur.execute(USER_SQL.format(**q), (json.dumps(options),))
        got = {u: (p, s) for u, p, s in cur.fetchall()}
        cur.execute(CHART_SQL.format(**q), (json.dumps(options),))
        got_chart = {(p, s): n for p, s, n in cur.fetchall()}
    finally:
        cur.execute("SET TimeZone = 'UTC'")

    bad_users = []
    for u in sorted(set(ref) | set(got)):
        want = ref.get(u)
        g = got.get(u)
        if g is not None and g[0] is not None:
            g = (list(g[0]), list(g[1]))
        if g != want:
            bad_users.append(u)
    want_chart = chart(ref)
    cells = sorted(set(want_chart) | set(got_chart))
    bad_cells = [c for c in cells if want_chart.get(c, 0) != got_chart.get(c, 0)]
    totals = Counter(s for _, st in ref.values() for s in st)
    users_with = sum(1 for p, _ in ref.values() if p)

    print(f"\n### {title}\n\noptions {json.dumps(options)}"
          + (f", today {today}" if "end" not in options else "")
          + f"; {ts} from {table}{', TimeZone ' + tz if tz != 'UTC' else ''}; "
          f"{users_with} of {len(ref)} users with a status; statuses in the reference: "
          + ", ".join(f"{s} {totals[s]}" for s in STATUSES) + "\n")
    print("| users compared | mismatching users | chart cells compared | mismatching cells |")
    print("|---:|---:|---:|---:|")
    print(f"| {len(set(ref) | set(got))} | {len(bad_users)} | {len(cells)} | {len(bad_cells)} |")
    if bad_users or bad_cells:
        print("\nfirst mismatches:\n")
        for u in bad_users[:5]:
            g = got.get(u)
            print(f"- user {u}\n  - events: {show_events(users.get(u, []))}\n"
                  f"  - expected: {show(*ref[u]) if u in ref else '(no such user)'}\n"
                  f"  - got: {show(*g) if g is not None else '(no row)'}")
        for c in bad_cells[:5]:
            print(f"- chart cell {c[0]} {c[1]}: expected {want_chart.get(c, 0)}, got {got_chart.get(c, 0)}")
    return len(bad_users) + len(bad_cells)


def compare_stickiness(cur, title, users, table, user, ts, ranges, also=""):
    """Markdown rows: the doc's stickiness recipe against a plain count; mismatches."""
    dates = {u: [local_date(t) for t in ev] for u, ev in users.items()}
    bad = 0
    for lo, hi in ranges:
        want = stickiness(dates, lo, hi)
        cur.execute(STICKINESS_SQL.format(user=user, ts=ts, table=table, also=also), (lo, hi))
        got = dict(cur.fetchall())
        keys = sorted(set(want) | set(got))
        wrong = [k for k in keys if want.get(k, 0) != got.get(k, 0)]
        bad += len(wrong)
        print(f"| {title} | {lo} .. {hi} (excl.) | {sum(want.values())} | {len(keys)} | {len(wrong)} | "
              + (", ".join(f"{k} days: expected {want.get(k, 0)}, got {got.get(k, 0)}"
                           for k in wrong[:5]) or "") + " |")
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", default="dbname=postgres")
    ap.add_argument("--csv", default=os.path.join(os.path.dirname(__file__), "..", "data", "online_retail.csv.gz"))
    ap.add_argument("--users", type=int, default=3000, help="synthetic users (plus the made ones)")
    ap.add_argument("--seed", type=int, default=20240107)
    ap.add_argument("--self-check-only", action="store_true", help="check the reference, no database")
    args = ap.parse_args()
    self_check()
    if args.self_check_only:
        return 0

    retail = retail_events(args.csv)
    events = synthetic_events(args.users, args.seed)
    try:
        cur = connect(args.dsn)
        cur.execute("SELECT to_regprocedure('uba_lifecycle(timestamptz, jsonb)') IS NOT NULL"
                    " AND to_regprocedure('uba_lifecycle(timestamp, jsonb)') IS NOT NULL")
        if not cur.fetchone()[0]:
            print("uba_lifecycle is not in this database's uba (update the extension)", file=sys.stderr)
            return 2
        cur.execute("SET TimeZone = 'UTC'")
        cur.execute("SELECT current_date")
        today = cur.fetchone()[0]
        n = load_events(cur, events)
        print(f"{sum(map(len, retail.values()))} Online Retail lines of {len(retail)} customers; "
              f"{n} synthetic rows of {len(events)} users in lifecycle_events (seed {args.seed})")
        bad = 0
        for title, options in RETAIL_CASES:
            bad += compare(cur, title, options, retail, "retail_lines", "customer_id", "invoice_date",
                           "WHERE customer_id IS NOT NULL")
        for title, options, tz, ts in SYN_CASES:
            bad += compare(cur, title, options, events, "lifecycle_events", "user_id", ts, tz=tz,
                           today=today)
        print("\n### stickiness: the doc's SQL recipe against a plain count\n")
        print("| data | range | active users | day counts compared | mismatching | |")
        print("|---|---|---:|---:|---:|---|")
        bad += compare_stickiness(cur, "Online Retail", retail, "retail_lines", "customer_id",
                                  "invoice_date", RETAIL_STICKINESS, " AND customer_id IS NOT NULL")
        bad += compare_stickiness(cur, "synthetic", events, "lifecycle_events", "user_id", "ts",
                                  SYN_STICKINESS)
    except psycopg2.Error as e:
        print(f"database part failed: {e}", file=sys.stderr)
        return 2
    print(f"\n{'everything equal' if bad == 0 else f'{bad} mismatches'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
