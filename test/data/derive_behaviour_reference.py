#!/usr/bin/python3
"""Reference results for uba's behaviour aggregates (sessions, funnel, retention).

Usage (from the project root):

    /usr/bin/python3 test/data/derive_behaviour_reference.py [ONLINE_RETAIL_CSV_GZ [OUT_DIR]]

Defaults: data/online_retail.csv.gz and test/data (relative to the project
root, found from this script's location).  Writes
sessions_reference.csv, funnel_reference.csv and retention_reference.csv.
Plain Python, standard library only, an independent computation (no code is
shared with the C implementation); every output is sorted, so the files are
deterministic.

Input: the bundled UCI Online Retail lines (header
InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID,Country;
InvoiceDate is a naive 'YYYY-MM-DD HH:MM:SS' timestamp).  Only lines with a
CustomerID are used (the id may be written '17850' or '17850.0'; it is
normalized to an integer).  Every line is one event; ts = InvoiceDate.
Intervals are exact second counts (no time zones, a day is 86,400 s, as
PostgreSQL compares intervals).

Sessions  (sessions_reference.csv: customer_id,gap,sessions,session_sum)
    A customer's lines sorted by ts.  Session numbers start at 1; a line
    starts a new session when ts - ts(previous line in that order) > gap
    (strictly greater), so equal timestamps never start a new session.
    Gaps: '30 minutes', '1 day', '30 days'.  sessions = number of sessions;
    session_sum = sum over ALL of the customer's lines of the line's session
    number.  Rows: every customer x gap, ordered by customer_id, then gap
    (shortest first).

Funnel  (funnel_reference.csv: customer_id,config,depth)
    Each line is an event with ts and K boolean steps.  A chain starts at an
    event where step 1 holds, at time t0.  Step k+1 is matched by an event
    (possibly the same event, or another with the same ts) where step k+1
    holds, with ts >= ts of the event that matched step k and
    ts - t0 <= window (inclusive).  depth of a chain = number of steps
    matched in order 1..k; the result is the maximum depth over all starts,
    0 if step 1 never holds.  Computed as a plain scan: for every start,
    walk the steps, each time taking the earliest qualifying event (the
    earliest is optimal).  Events are first merged per distinct ts with
    OR'ed step flags, which is equivalent since same-ts events may match.
      F1: [stock_code = '85123A', stock_code = '22423', quantity < 0,
           stock_code = '85099B'], window 1 day
      F2: same steps, window 30 days
      F3: same steps, window 365 days
      F4: [quantity > 0, quantity >= 12, unit_price > 10, quantity < 0],
          window 30 minutes
      F5: same steps as F4, window 7 days
    Rows: every customer x config (depth 0 included), ordered by
    customer_id, config.

Retention  (retention_reference.csv: config,group_key,counts)
    Per customer, over a set of lines, with conditions c[1..M]:
    r[1] = c1 held on some line; r[i] = (c1 held on some line AND ci held on
    some line) for i >= 2.  counts = per-group sum of r over customers, as a
    PostgreSQL int array literal '{a,b,...}'.
      R1: only lines with quantity > 0.  cohort = the first calendar month
          (YYYY-MM) of the customer's quantity > 0 lines; c_i = (line's month
          == cohort + (i-1) months), i = 1..12.  group_key = cohort 'YYYY-MM'.
          Customers without a quantity > 0 line are not in any cohort.
      R2: all lines of the customer (any quantity).  c_1 = ts < 2011-01-01;
          c_i (i = 2..13) = line's month is 2011-(i-1) (c_2 = January 2011 ..
          c_13 = December 2011).  group_key = Country; a customer whose lines
          have several countries is grouped under the country of their first
          line in file order.  Every country is listed, even when all its
          counts are 0 (no customer active before 2011).
    Rows ordered by config, group_key (byte order).
"""
import csv
import datetime
import decimal
import gzip
import os
import sys
import time

EPOCH = datetime.datetime(1970, 1, 1)

GAPS = [("30 minutes", 30 * 60), ("1 day", 86400), ("30 days", 30 * 86400)]

STEPS_CODES = [
    lambda code, qty, price: code == "85123A",
    lambda code, qty, price: code == "22423",
    lambda code, qty, price: qty < 0,
    lambda code, qty, price: code == "85099B",
]
STEPS_QTY = [
    lambda code, qty, price: qty > 0,
    lambda code, qty, price: qty >= 12,
    lambda code, qty, price: price > 10,
    lambda code, qty, price: qty < 0,
]
FUNNELS = [
    ("F1", STEPS_CODES, 86400),
    ("F2", STEPS_CODES, 30 * 86400),
    ("F3", STEPS_CODES, 365 * 86400),
    ("F4", STEPS_QTY, 30 * 60),
    ("F5", STEPS_QTY, 7 * 86400),
]


def read_lines(path):
    """Return {customer_id: [(ts_seconds, month_index, ts_text, code, qty,
    price, country), ...]} in file order, lines with a CustomerID only."""
    per_customer = {}
    total = 0
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        expect = ["InvoiceNo", "StockCode", "Quantity", "InvoiceDate",
                  "UnitPrice", "CustomerID", "Country"]
        if header != expect:
            sys.exit(f"unexpected header {header!r}")
        for inv, code, qty, date, price, cid, country in reader:
            total += 1
            cid = cid.strip()
            if cid == "":
                continue
            cid = int(decimal.Decimal(cid))
            dt = datetime.datetime.strptime(date, "%Y-%m-%d %H:%M:%S")
            ts = (dt - EPOCH) // datetime.timedelta(seconds=1)
            month = dt.year * 12 + dt.month - 1
            per_customer.setdefault(cid, []).append(
                (ts, month, dt, code, int(qty), decimal.Decimal(price), country))
    return per_customer, total


def sessions(events, gap):
    """events sorted by ts; returns (number of sessions, sum of session numbers)."""
    n = 0
    total = 0
    prev = None
    for ev in events:
        ts = ev[0]
        if prev is None or ts - prev > gap:
            n += 1
        total += n
        prev = ts
    return n, total


def funnel_depth(events, steps, window):
    """Plain scan over starts; events are merged per distinct ts first."""
    k = len(steps)
    merged = {}
    for ev in events:
        ts, code, qty, price = ev[0], ev[3], ev[4], ev[5]
        flags = merged.setdefault(ts, [False] * k)
        for j, step in enumerate(steps):
            if step(code, qty, price):
                flags[j] = True
    times = sorted(merged)
    flags = [merged[t] for t in times]
    best = 0
    for s, t0 in enumerate(times):
        if not flags[s][0]:
            continue
        depth = 1
        pos = s                       # index of the event matching the current step
        for j in range(1, k):
            found = None
            i = pos                   # ts >= ts(previous match): same ts allowed
            while i < len(times) and times[i] - t0 <= window:
                if flags[i][j]:
                    found = i
                    break
                i += 1
            if found is None:
                break
            depth += 1
            pos = found
        if depth > best:
            best = depth
            if best == k:
                break
    return best


def pg_array(values):
    return "{" + ",".join(str(v) for v in values) + "}"


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "data", "online_retail.csv.gz")
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "test", "data")
    t_start = time.time()
    per_customer, total = read_lines(path)
    nlines = sum(len(v) for v in per_customer.values())
    print(f"{total} lines read, {nlines} with a CustomerID, "
          f"{len(per_customer)} customers", file=sys.stderr)
    customers = sorted(per_customer)
    by_ts = {c: sorted(per_customer[c], key=lambda e: e[0]) for c in customers}

    # ---- sessions
    session_totals = {name: 0 for name, _ in GAPS}
    with open(os.path.join(out_dir, "sessions_reference.csv"), "w",
              newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["customer_id", "gap", "sessions", "session_sum"])
        for c in customers:
            for name, gap in GAPS:
                n, s = sessions(by_ts[c], gap)
                session_totals[name] += n
                w.writerow([c, name, n, s])
    for name, _ in GAPS:
        print(f"sessions gap {name}: {session_totals[name]} sessions", file=sys.stderr)

    # ---- funnel
    hist = {name: {} for name, _, _ in FUNNELS}
    with open(os.path.join(out_dir, "funnel_reference.csv"), "w",
              newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["customer_id", "config", "depth"])
        for c in customers:
            for name, steps, window in FUNNELS:
                d = funnel_depth(by_ts[c], steps, window)
                hist[name][d] = hist[name].get(d, 0) + 1
                w.writerow([c, name, d])
    for name, _, _ in FUNNELS:
        h = ", ".join(f"{d}: {n}" for d, n in sorted(hist[name].items()))
        print(f"funnel {name} depth histogram: {h}", file=sys.stderr)

    # ---- retention
    rows = []
    # R1
    r1 = {}
    for c in customers:
        months = {e[1] for e in per_customer[c] if e[4] > 0}
        if not months:
            continue
        cohort = min(months)
        r = [1 if (cohort + i) in months else 0 for i in range(12)]
        # r[1] = c1 held (always, by construction); r[i] = c1 and ci
        acc = r1.setdefault(cohort, [0] * 12)
        for i in range(12):
            acc[i] += r[0] and r[i]
    for cohort in sorted(r1):
        key = f"{cohort // 12:04d}-{cohort % 12 + 1:02d}"
        rows.append(("R1", key, pg_array(r1[cohort])))
    # R2
    r2 = {}
    jan2011 = 2011 * 12
    cut = datetime.datetime(2011, 1, 1)
    multi_country = 0
    for c in customers:
        lines = per_customer[c]          # file order
        countries = {e[6] for e in lines}
        if len(countries) > 1:
            multi_country += 1
        country = lines[0][6]
        cond = [False] * 13
        for e in lines:
            if e[2] < cut:
                cond[0] = True
            m = e[1] - jan2011
            if 0 <= m < 12:
                cond[1 + m] = True
        acc = r2.setdefault(country, [0] * 13)
        if cond[0]:
            for i in range(13):
                acc[i] += 1 if cond[i] else 0
    for country in sorted(r2):
        rows.append(("R2", country, pg_array(r2[country])))
    with open(os.path.join(out_dir, "retention_reference.csv"), "w",
              newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["config", "group_key", "counts"])
        for row in rows:
            w.writerow(row)
    print(f"retention: R1 {len(r1)} cohorts, R2 {len(r2)} countries; "
          f"{multi_country} customers with several countries (grouped by the "
          f"country of their first line)", file=sys.stderr)
    print(f"run time {time.time() - t_start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
