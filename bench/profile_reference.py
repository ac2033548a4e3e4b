#!/usr/bin/python3
"""uba_profile against an independent reference of its definitions, user by user.

The reference below (profile()) computes a user's behaviour profile from their events in plain
Python, written from the specification, not from the C code: counts and shares by event type,
active days and Monday-start weeks, sessions (a new one when the time since the previous event
is strictly greater than the gap), distinct items, lifetimes-style RFM over the purchases (the
same definitions as rfm_reference.py's summary), revenue, average basket and price, preferred
weekday and hour (ties to the smallest), top categories (count descending, then name by UTF-8
bytes) and the lifecycle stage (new, active, resurrected, at risk, dormant).  Local dates are UTC:
the SQL side runs with TimeZone = 'UTC'.  Events dated after the option "end" count for nothing;
a user without counted events has no profile (a NULL composite in SQL).

Hand-made cases check the reference itself first.  Then every field of every user is compared:
integers, texts, arrays and timestamps exactly, floats within 1e-9 of max(1, |value|), on

- the bundled UCI Online Retail lines (table retail_lines): event type 'purchase' for a positive
  quantity, 'return' for a negative one, item = stock code (text), category = country,
  amount = quantity x unit price, end 2011-12-09; by day and by month;
- a seeded synthetic click log (table profile_clicks, dropped and recreated here): about 2,000
  users and 100,000 events over 200 days with NULLs in every column, exact session-gap
  boundaries, equal timestamps, events after the end, and users made to reach each lifecycle
  stage; with the default options and with a second set (weekly RFM, 10-minute gap, top 5,
  other type lists and lifecycle thresholds).

A markdown table per case gives, for each field, the users compared, the mismatches and the
largest difference; the exit status is 1 when anything differs.  Load the lines first (from the
project root):

    psql -X -v ON_ERROR_STOP=1 -f data/load_online_retail.sql
    /usr/bin/python3 bench/profile_reference.py [--dsn DSN] [--users N] [--seed S]
    /usr/bin/python3 bench/profile_reference.py --self-check-only     # no database
"""
import argparse
import csv
import datetime
import gzip
import json
import math
import os
import random
import sys
from collections import Counter, defaultdict

import psycopg2
from psycopg2.extras import execute_values

from benchlib import connect
from rfm_reference import in_periods, period_start  # lifetimes' periods, as uba_rfm counts them

UTC = datetime.timezone.utc
MEAN_MONTH_SECONDS = 2629746.0
RETAIL_END = datetime.date(2011, 12, 9)

DEFAULTS = {
    "session_gap_minutes": 30,
    "view": ["view", "view_item", "page_view", "product_view"],
    "cart": ["cart", "add_to_cart", "addtocart"],
    "purchase": ["purchase", "transaction", "order"],
    "top_categories": 3,
    "new_days": 30,
    "active_days": 30,
    "dormant_days": 90,
    "period": "day",
}

# field -> how it is compared
FIELDS = {
    "first_seen": "ts", "last_seen": "ts", "events": "int", "active_days": "int",
    "active_weeks": "int", "sessions": "int", "events_per_active_day": "float",
    "sessions_per_active_day": "float", "events_per_session": "float",
    "views": "int", "carts": "int", "purchases": "int",
    "view_share": "float", "cart_share": "float", "purchase_share": "float",
    "view_to_cart": "float", "cart_to_purchase": "float",
    "distinct_items": "int", "distinct_items_purchased": "int",
    "frequency": "float", "recency": "float", "t": "float", "monetary_value": "float",
    "revenue": "float", "avg_basket_value": "float", "avg_price": "float",
    "preferred_weekday": "int", "preferred_hour": "int",
    "top_categories": "texts", "top_category_shares": "floats", "top_category": "text",
    "days_since_last": "int", "lifecycle": "text",
}


# ---------------------------------------------------------------- the reference

def local_date(ts):
    return ts.astimezone(UTC).date()


def rfm(purchases, end, period):
    """lifetimes' frequency, recency, T, monetary_value from (date, amount) purchases."""
    sums = defaultdict(list)
    for d, amount in purchases:
        sums[period_start(d, period)].append(amount)
    periods = sorted(sums)
    first, last = periods[0], periods[-1]
    repeat = [math.fsum(sums[p]) for p in periods[1:]]
    return (float(len(periods) - 1), in_periods((last - first).days, period),
            in_periods((period_start(end, period) - first).days, period),
            math.fsum(repeat) / len(repeat) if repeat else 0.0)


def mode_smallest(values):
    """The most frequent value, the smallest among equals."""
    counts = Counter(values)
    return min(counts, key=lambda v: (-counts[v], v))


def lifecycle(dates, end, o):
    first, last = dates[0], dates[-1]
    if (end - first).days < o["new_days"]:
        return "new"
    if (end - last).days < o["active_days"]:
        i = next(k for k, d in enumerate(dates) if (end - d).days < o["active_days"])
        if i > 0 and (dates[i] - dates[i - 1]).days >= o["dormant_days"]:
            return "resurrected"
        return "active"
    if (end - last).days < o["dormant_days"]:
        return "at risk"
    return "dormant"


def profile(events, options=None):
    """The profile of one user's (ts, event_type, item_id, category, amount) events, or None."""
    o = dict(DEFAULTS, **(options or {}))
    end = (datetime.date.fromisoformat(str(o["end"])[:10]) if "end" in o
           else datetime.datetime.now(UTC).date())
    ev = sorted((e for e in events if e[0] is not None and local_date(e[0]) <= end),
                key=lambda e: e[0])
    if not ev:
        return None
    n = len(ev)
    views_set, carts_set, purch_set = set(o["view"]), set(o["cart"]), set(o["purchase"])

    # sessions: a label per event; equal timestamps never split (0 is never > gap)
    gap = datetime.timedelta(minutes=o["session_gap_minutes"])
    session = [0] * n
    for k in range(1, n):
        session[k] = session[k - 1] + (1 if ev[k][0] - ev[k - 1][0] > gap else 0)
    sessions = session[-1] + 1

    dates = sorted({local_date(e[0]) for e in ev})
    weeks = {period_start(d, "week") for d in dates}
    is_view = [e[1] in views_set for e in ev]
    is_cart = [e[1] in carts_set for e in ev]
    is_purch = [e[1] in purch_set for e in ev]
    views, carts, purchases = sum(is_view), sum(is_cart), sum(is_purch)

    buys = [(local_date(e[0]), 0.0 if e[4] is None else e[4]) for e, p in zip(ev, is_purch) if p]
    revenue = math.fsum(a for _, a in buys)
    frequency = recency = t = monetary = basket = None
    if buys:
        frequency, recency, t, monetary = rfm(buys, end, o["period"])
        basket = revenue / len({s for s, p in zip(session, is_purch) if p})
    amounts = [e[4] for e in ev if e[4] is not None]

    cats = Counter(e[3] for e in ev if e[3] is not None)
    ncat = sum(cats.values())
    top = sorted(cats, key=lambda c: (-cats[c], c.encode("utf-8")))[:o["top_categories"]]

    local = [e[0].astimezone(UTC) for e in ev]
    return {
        "first_seen": ev[0][0], "last_seen": ev[-1][0], "events": n,
        "active_days": len(dates), "active_weeks": len(weeks), "sessions": sessions,
        "events_per_active_day": n / len(dates), "sessions_per_active_day": sessions / len(dates),
        "events_per_session": n / sessions,
        "views": views, "carts": carts, "purchases": purchases,
        "view_share": views / n, "cart_share": carts / n, "purchase_share": purchases / n,
        "view_to_cart": carts / views if views else None,
        "cart_to_purchase": purchases / carts if carts else None,
        "distinct_items": len({e[2] for e in ev if e[2] is not None}),
        "distinct_items_purchased": len({e[2] for e, p in zip(ev, is_purch) if p and e[2] is not None}),
        "frequency": frequency, "recency": recency, "t": t, "monetary_value": monetary,
        "revenue": revenue, "avg_basket_value": basket,
        "avg_price": math.fsum(amounts) / len(amounts) if amounts else None,
        "preferred_weekday": mode_smallest(ts.isoweekday() for ts in local),
        "preferred_hour": mode_smallest(ts.hour for ts in local),
        "top_categories": top, "top_category_shares": [cats[c] / ncat for c in top],
        "top_category": top[0] if top else None,
        "days_since_last": (end - dates[-1]).days,
        "lifecycle": lifecycle(dates, end, o),
    }


# ---------------------------------------------------------------- self-check

def close(a, b):
    return abs(a - b) <= 1e-12 * max(1.0, abs(b))


def check(got, want):
    for k, w in want.items():
        g = got[k]
        if isinstance(w, float):
            assert g is not None and close(g, w), (k, g, w)
        elif isinstance(w, list) and w and isinstance(w[0], float):
            assert len(g) == len(w) and all(close(x, y) for x, y in zip(g, w)), (k, g, w)
        else:
            assert g == w and type(g) is type(w), (k, g, w)


def self_check():
    def ts(*a):
        return datetime.datetime(*a, tzinfo=UTC)

    # Case A, end 2024-01-31 (Wednesday).  Sessions: 1-2 are exactly 30 min apart (same session),
    # 2-3 are 30 min 1 s apart (new), 3-4 equal; then 5, 6 and 7 alone: 5 sessions.
    a = [(ts(2024, 1, 1, 10, 0, 0), "view", 1, "b", 5.0),            # Mon
         (ts(2024, 1, 1, 10, 30, 0), "cart", 1, "b", None),
         (ts(2024, 1, 1, 11, 0, 1), "purchase", 1, "a", 10.0),
         (ts(2024, 1, 1, 11, 0, 1), "purchase", 2, None, None),
         (ts(2024, 1, 3, 9, 15, 0), "view", None, "a", None),         # Wed
         (ts(2024, 1, 3, 21, 0, 0), None, 3, "c", 2.0),
         (ts(2024, 1, 10, 21, 30, 0), "purchase", 2, "c", 20.0),      # Wed
         (ts(2024, 2, 2, 10, 0, 0), "view", 9, "d", 100.0),           # after end
         (None, "purchase", 9, "d", 100.0)]                           # no time: ignored
    opt = {"end": "2024-01-31"}
    pa = profile(a, opt)
    check(pa, {
        "first_seen": ts(2024, 1, 1, 10), "last_seen": ts(2024, 1, 10, 21, 30), "events": 7,
        "active_days": 3, "active_weeks": 2, "sessions": 5,
        "events_per_active_day": 7 / 3, "sessions_per_active_day": 5 / 3, "events_per_session": 1.4,
        "views": 2, "carts": 1, "purchases": 3,
        "view_share": 2 / 7, "cart_share": 1 / 7, "purchase_share": 3 / 7,
        "view_to_cart": 0.5, "cart_to_purchase": 3.0,
        "distinct_items": 3, "distinct_items_purchased": 2,
        # purchases on 1/1 (10 + NULL) and 1/10 (20); end 1/31
        "frequency": 1.0, "recency": 9.0, "t": 30.0, "monetary_value": 20.0,
        "revenue": 30.0, "avg_basket_value": 15.0,     # purchases in sessions 2 and 5
        "avg_price": 37 / 4,
        "preferred_weekday": 1,                         # Mon 4, Wed 3
        "preferred_hour": 10,                           # 10, 11 and 21 twice each
        "top_categories": ["a", "b", "c"], "top_category_shares": [1 / 3] * 3,
        "top_category": "a",
        "days_since_last": 21,
        "lifecycle": "active",      # first 30 days ago (not new); 1/3 opens the window, 1/1 before
    })
    check(profile(a, dict(opt, top_categories=2)), {"top_categories": ["a", "b"]})
    check(profile(a, dict(opt, session_gap_minutes=60)), {"sessions": 4, "avg_basket_value": 15.0})
    check(profile(a, dict(opt, session_gap_minutes=0)), {"sessions": 6})   # only 3-4 stay together
    check(profile(a, dict(opt, new_days=31)), {"lifecycle": "new"})
    check(profile(a, dict(opt, dormant_days=2)), {"lifecycle": "resurrected"})  # 1/1 -> 1/3
    check(profile(a, dict(opt, dormant_days=3)), {"lifecycle": "active"})
    check(profile(a, dict(opt, active_days=21)), {"lifecycle": "at risk"})      # last 21 days ago
    check(profile(a, dict(opt, active_days=21, dormant_days=21)), {"lifecycle": "dormant"})
    # weeks: purchases in the weeks of 1/1 and 1/8; end's week starts 1/29
    check(profile(a, dict(opt, period="week")),
          {"frequency": 1.0, "recency": 1.0, "t": 4.0, "monetary_value": 20.0})
    check(profile(a, dict(opt, period="month")),
          {"frequency": 0.0, "recency": 0.0, "t": 0.0, "monetary_value": 0.0, "revenue": 30.0})
    # later ends take the 2/2 view in: last active 2/2, 88 then 90 days before the end
    check(profile(a, {"end": "2024-04-30", "period": "month"}),
          {"events": 8, "lifecycle": "at risk", "days_since_last": 88,
           "t": 91 * 86400 / MEAN_MONTH_SECONDS, "avg_price": 137 / 5, "top_category": "a",
           "top_categories": ["a", "b", "c"], "top_category_shares": [2 / 7] * 3})
    check(profile(a, {"end": "2024-05-02"}), {"lifecycle": "dormant", "days_since_last": 90})

    # Case B, end 2024-03-10 (Sunday): weekday and hour ties, a type in the wrong case, a
    # purchase without item or amount, sub-second times across midnight.
    b = [(ts(2024, 3, 9, 23, 59, 59, 500000), None, None, None, None),   # Sat
         (ts(2024, 3, 10, 0, 0, 0), "View", 7, "é", None),               # Sun; "View" is other
         (ts(2024, 3, 4, 12, 0, 0), "view", 7, "z", 1.5),                # Mon
         (ts(2024, 3, 10, 0, 0, 0, 250000), "order", None, "é", None),   # Sun
         (ts(2024, 3, 11, 0, 0, 0), "purchase", 5, "a", 9.0),            # after end
         (ts(2024, 3, 4, 12, 0, 0), "cart", 8, "z", 3.0)]                # Mon, same time
    check(profile(b, {"end": "2024-03-10"}), {
        "first_seen": ts(2024, 3, 4, 12), "last_seen": ts(2024, 3, 10, 0, 0, 0, 250000),
        "events": 5, "active_days": 3, "active_weeks": 1, "sessions": 2,
        "views": 1, "carts": 1, "purchases": 1, "view_to_cart": 1.0, "cart_to_purchase": 1.0,
        "view_share": 0.2, "distinct_items": 2, "distinct_items_purchased": 0,
        "frequency": 0.0, "recency": 0.0, "t": 0.0, "monetary_value": 0.0,
        "revenue": 0.0, "avg_basket_value": 0.0, "avg_price": 2.25,
        "preferred_weekday": 1,                # Mon 2, Sun 2, Sat 1
        "preferred_hour": 0,                   # 0 and 12 twice each, 23 once
        "top_categories": ["z", "é"],          # tie: "z" (7a) before "é" (c3 a9) by bytes
        "top_category_shares": [0.5, 0.5], "top_category": "z",
        "days_since_last": 0, "lifecycle": "new",
    })
    # 2023-11-25 (Sat) to 2024-03-04 is 100 days: resurrected under the default 90
    check(profile(b + [(ts(2023, 11, 25, 8), "view", 1, None, None)], {"end": "2024-03-10"}),
          {"lifecycle": "resurrected", "active_weeks": 2, "preferred_weekday": 1, "views": 2})

    # Case C: views only, no amounts, no categories
    c = [(ts(2024, 1, 2, 5), "view", 4, None, None), (ts(2024, 1, 2, 6), "click", None, None, None)]
    check(profile(c, {"end": "2024-01-02"}), {
        "view_to_cart": 0.0, "cart_to_purchase": None, "purchases": 0, "revenue": 0.0,
        "frequency": None, "recency": None, "t": None, "monetary_value": None,
        "avg_basket_value": None, "avg_price": None, "distinct_items_purchased": 0,
        "top_categories": [], "top_category_shares": [], "top_category": None,
        "sessions": 2, "preferred_hour": 5})
    assert profile(c, {"end": "2024-01-01"}) is None          # everything after the end
    assert profile([(None, "view", 1, "a", 1.0)], {"end": "2024-01-01"}) is None
    print("self-check of the reference: passed")


# ---------------------------------------------------------------- data

def retail_events(path):
    """{customer: events} from the Online Retail lines with a customer."""
    users = defaultdict(list)
    with gzip.open(path, "rt", newline="") as f:
        for r in csv.DictReader(f):
            if not r["CustomerID"]:
                continue
            q = int(r["Quantity"])
            kind = "purchase" if q > 0 else "return" if q < 0 else None
            ts = datetime.datetime.fromisoformat(r["InvoiceDate"]).replace(tzinfo=UTC)
            users[int(r["CustomerID"])].append(
                (ts, kind, r["StockCode"], r["Country"], q * float(r["UnitPrice"])))
    return users


RETAIL_SQL = """
SELECT user_id, (p).* FROM (
  SELECT customer_id AS user_id,
         uba_profile(invoice_date,
                     CASE WHEN quantity > 0 THEN 'purchase' WHEN quantity < 0 THEN 'return' END,
                     stock_code, country, quantity * unit_price::float8, %s::jsonb) AS p
    FROM retail_lines WHERE customer_id IS NOT NULL GROUP BY customer_id) s"""

CLICKS_SQL = """
SELECT user_id, (p).* FROM (
  SELECT user_id, uba_profile(ts, event_type, item_id, category, amount, %s::jsonb) AS p
    FROM profile_clicks GROUP BY user_id) s"""

SYN_START = datetime.datetime(2024, 1, 1, tzinfo=UTC)
SYN_DAYS = 200                              # 2024-01-01 .. 2024-07-18
SYN_END = datetime.date(2024, 7, 10)        # events after it exist
TYPES = ["view"] * 30 + ["page_view"] * 8 + ["product_view"] * 4 + ["view_item"] * 3 + \
    ["cart"] * 6 + ["add_to_cart"] * 3 + ["addtocart"] + ["purchase"] * 4 + ["order"] * 2 + \
    ["transaction"] + ["search"] * 5 + ["click"] * 3 + ["View", "PURCHASE"] + [None] * 3
CATEGORIES = ["books", "garden", "toys", "music", "shoes", "Électronique", "Zubehör", "ägg",
              "z-misc", "Books", "kitchen", "sport"]
# steps between events of a session, in seconds: equal times and the exact gap boundaries
STEPS = [0, 0, 60, 300, 599, 600, 601, 1799, 1800, 1800, 1801, None, None, None, None]


def synthetic_events(n_users, seed):
    """{user: events}: random users, plus a few made to reach each lifecycle stage."""
    rng = random.Random(seed)
    users = {}
    for u in range(1, n_users + 1):
        first = rng.randrange(SYN_DAYS)
        last = min(SYN_DAYS - 1, first + int(rng.expovariate(1 / 60)))
        hot = rng.sample(CATEGORIES, 3)       # each user leans to a few categories
        ev = []
        for _ in range(1 + int(rng.expovariate(1 / 9))):
            t = SYN_START + datetime.timedelta(days=rng.randint(first, last),
                                               seconds=rng.randrange(86400))
            if rng.random() < 0.2:
                t += datetime.timedelta(microseconds=rng.randrange(1000000))
            for _ in range(1 + int(rng.expovariate(1 / 4.5))):
                kind = rng.choice(TYPES)
                item = rng.randint(1, 400) if rng.random() > 0.05 else None
                r = rng.random()
                cat = rng.choice(hot) if r < 0.6 else rng.choice(CATEGORIES) if r < 0.9 else None
                amount = round(rng.uniform(0.5, 200.0), 2) if rng.random() > 0.3 else None
                ev.append((t if rng.random() > 0.01 else None, kind, item, cat, amount))
                step = rng.choice(STEPS)
                t += datetime.timedelta(seconds=rng.randrange(1, 4000) if step is None else step)
        users[u] = ev

    # stage users: active dates as days before SYN_END (defaults: new 30, active 30, dormant 90)
    def at(days_before, hour=12):
        return datetime.datetime.combine(SYN_END - datetime.timedelta(days=days_before),
                                         datetime.time(hour), tzinfo=UTC)
    made = {
        "new": [5, 2], "new, 29 days": [29, 1], "active, first 30 days ago": [30, 1],
        "active": [100, 60, 20, 3], "resurrected": [150, 10], "resurrected, gap 90": [100, 10],
        "active, gap 89": [99, 10], "at risk": [100, 45], "at risk, 30 days": [60, 30],
        "at risk, 89 days": [120, 89], "dormant, 90 days": [120, 90], "dormant": [180, 120],
        "after the end only": [-1, -5], "after the end and before": [-3, 40, 0],
    }
    for k, days in enumerate(made.values()):
        u = 900001 + k
        users[u] = [(at(d, h), kind, 10 + h, "books", 10.0)
                    for d in days for h, kind in ((9, "view"), (9, "cart"), (23, "purchase"))]
    users[900001 + len(made)] = [(None, "view", 1, "books", 1.0)] * 3   # no time at all
    return users


def load_clicks(cur, users):
    cur.execute("DROP TABLE IF EXISTS profile_clicks")
    cur.execute("CREATE TABLE profile_clicks (user_id bigint, ts timestamptz, event_type text, "
                "item_id bigint, category text, amount float8)")
    rows = [(u,) + e for u, ev in users.items() for e in ev]
    execute_values(cur, "INSERT INTO profile_clicks VALUES %s", rows, page_size=5000)
    cur.execute("ANALYZE profile_clicks")
    return len(rows)


# ---------------------------------------------------------------- comparison

def as_utc(v):
    # a timestamp without time zone comes back naive: it is UTC here
    return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


def difference(kind, got, want):
    """(equal, size of the difference or None)."""
    if got is None or want is None:
        return got is None and want is None, None
    if kind == "float":
        d = abs(float(got) - want) / max(1.0, abs(want))
        return d <= 1e-9, d
    if kind == "floats":
        if len(got) != len(want):
            return False, None
        ds = [abs(float(g) - w) / max(1.0, abs(w)) for g, w in zip(got, want)]
        return all(d <= 1e-9 for d in ds), max(ds, default=0.0)
    if kind == "int":
        return got == want, abs(got - want)
    if kind == "ts":
        d = abs((as_utc(got) - want).total_seconds())
        return as_utc(got) == want, d
    return list(got) == want if kind == "texts" else got == want, None


def compare(title, cur, sql, options, users):
    """Markdown table of one case; the number of mismatches."""
    ref = {}
    for u, ev in users.items():
        p = profile(ev, options)
        if p is not None:
            ref[u] = p
    cur.execute(sql, (json.dumps(options),))
    names = [d[0] for d in cur.description][1:]
    got = {}
    for u, *vals in cur.fetchall():
        row = dict(zip(names, vals))
        if row.get("events") is not None:       # a NULL composite: no profile
            got[u] = row

    stages = Counter(p["lifecycle"] for p in ref.values())
    print(f"\n### {title}\n\noptions {json.dumps(options)}; {len(ref)} users with a profile "
          f"({', '.join(f'{k} {v}' for k, v in sorted(stages.items()))})\n")
    print("| field | users compared | mismatches | largest difference |")
    print("|---|---:|---:|---:|")
    only = set(ref) ^ set(got)
    print(f"| (users with a profile) | {len(set(ref) | set(got))} | {len(only)} | |")
    total, examples = len(only), []
    both = sorted(set(ref) & set(got))
    missing = [f for f in FIELDS if f not in names]
    for f, kind in FIELDS.items():
        if f in missing:
            print(f"| {f} | 0 | {len(both)} (no such column) | |")
            total += len(both)
            continue
        bad, worst = 0, None
        for u in both:
            ok, d = difference(kind, got[u][f], ref[u][f])
            if d is not None:
                worst = d if worst is None else max(worst, d)
            if not ok:
                bad += 1
                if len(examples) < 8:
                    examples.append(f"user {u} {f}: SQL {got[u][f]!r}, reference {ref[u][f]!r}")
        total += bad
        shown = "" if worst is None else f"{worst:.1e}" if kind in ("float", "floats") else f"{worst:g}"
        print(f"| {f} | {len(both)} | {bad} | {shown} |")
    extra = [n for n in names if n not in FIELDS]
    if extra:
        print(f"\ncolumns not compared: {', '.join(extra)}")
    for u in sorted(only)[:5]:
        examples.append(f"user {u}: profile only in {'the reference' if u in ref else 'SQL'}")
    if examples:
        print("\nfirst mismatches:\n\n" + "\n".join(f"- {e}" for e in examples))
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", default="dbname=postgres")
    ap.add_argument("--csv", default=os.path.join(os.path.dirname(__file__), "..", "data", "online_retail.csv.gz"))
    ap.add_argument("--users", type=int, default=2000, help="synthetic users (plus the made ones)")
    ap.add_argument("--seed", type=int, default=20240101)
    ap.add_argument("--self-check-only", action="store_true", help="check the reference, no database")
    args = ap.parse_args()
    self_check()
    if args.self_check_only:
        return 0

    retail = retail_events(args.csv)
    clicks = synthetic_events(args.users, args.seed)
    cases = [
        ("Online Retail, by day", RETAIL_SQL, {"end": str(RETAIL_END)}, retail),
        ("Online Retail, by month", RETAIL_SQL, {"end": str(RETAIL_END), "period": "month"}, retail),
        ("synthetic clicks, default options", CLICKS_SQL, {"end": str(SYN_END)}, clicks),
        ("synthetic clicks, second option set", CLICKS_SQL,
         {"end": "2024-06-12", "period": "week", "session_gap_minutes": 10, "top_categories": 5,
          "view": ["view", "page_view"], "cart": ["cart", "add_to_cart"],
          "purchase": ["purchase", "order", "PURCHASE"],
          "new_days": 14, "active_days": 21, "dormant_days": 60}, clicks),
    ]
    try:
        cur = connect(args.dsn)
        cur.execute("SET TimeZone = 'UTC'")
        n = load_clicks(cur, clicks)
        print(f"{sum(map(len, retail.values()))} Online Retail lines with a customer, end {RETAIL_END}; "
              f"{n} synthetic events of {len(clicks)} users in profile_clicks")
        bad = sum(compare(title, cur, sql, options, users) for title, sql, options, users in cases)
    except psycopg2.Error as e:
        print(f"database part failed: {e}", file=sys.stderr)
        return 2
    print(f"\n{'all fields equal' if bad == 0 else f'{bad} mismatches'} "
          "(floats within 1e-9 of max(1, |value|); timestamp differences in seconds)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
