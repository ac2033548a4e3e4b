#!/usr/bin/python3
"""uba_rfm against an independent reference of the lifetimes library's definitions.

The reference below is written from lifetimes' documented behaviour of
summary_data_from_transaction_data (no pandas, no lifetimes): each transaction's date falls in a
period (day; week starting Monday, pandas' W-SUN; calendar month); periods after the observation
end's period are left out; amounts are summed per period; frequency = periods - 1, recency =
last - first period, T = end's period - first period (in days, days / 7, or seconds over numpy's
mean month of 2,629,746 s), monetary_value = mean of the repeat periods' sums (0 without one).

Data: the bundled UCI Online Retail lines (data/online_retail.csv.gz) with a customer, amount =
quantity x unit price (cancellations negative), observation end 2011-12-09.  Every customer's
four figures are compared; the largest differences are printed.  A hand-made case checks the
reference itself first.  Load the lines first (from the project root):

    psql -X -v ON_ERROR_STOP=1 -f data/load_online_retail.sql
    /usr/bin/python3 bench/rfm_reference.py [--dsn DSN]
"""
import argparse
import csv
import datetime
import gzip
import os
from collections import defaultdict

from benchlib import connect

MEAN_MONTH_SECONDS = 2629746.0
END = datetime.date(2011, 12, 9)


def period_start(d, period):
    if period == "week":
        return d - datetime.timedelta(days=d.weekday())  # Monday
    if period == "month":
        return d.replace(day=1)
    return d


def in_periods(days, period):
    if period == "week":
        return days / 7.0
    if period == "month":
        return days * 86400.0 / MEAN_MONTH_SECONDS
    return float(days)


def summary(transactions, end, period):
    """{customer: (frequency, recency, T, monetary_value)} from (customer, date, amount) rows."""
    endp = period_start(end, period)
    sums = defaultdict(lambda: defaultdict(float))
    for customer, d, amount in transactions:
        p = period_start(d, period)
        if p <= endp:
            sums[customer][p] += amount
    out = {}
    for customer, by_period in sums.items():
        periods = sorted(by_period)
        first, last = periods[0], periods[-1]
        repeat = [by_period[p] for p in periods[1:]]
        out[customer] = (float(len(periods) - 1), in_periods((last - first).days, period),
                         in_periods((endp - first).days, period),
                         sum(repeat) / len(repeat) if repeat else 0.0)
    return out


def check_reference():
    """The hand-made case of sql/behaviour_profile.sql, by day and by week."""
    d = datetime.date
    rows = [("A", d(2024, 1, 1), 10), ("A", d(2024, 1, 1), 5), ("A", d(2024, 1, 5), 20),
            ("A", d(2024, 1, 10), 30), ("A", d(2024, 2, 3), 100)]
    assert summary(rows, d(2024, 1, 31), "day")["A"] == (2.0, 9.0, 30.0, 25.0)
    assert summary(rows, d(2024, 1, 31), "week")["A"] == (2.0, 4.0, 4.0, 65.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", default="dbname=postgres")
    ap.add_argument("--csv", default=os.path.join(os.path.dirname(__file__), "..", "data", "online_retail.csv.gz"))
    args = ap.parse_args()
    check_reference()

    rows = []
    with gzip.open(args.csv, "rt", newline="") as f:
        for r in csv.DictReader(f):
            if r["CustomerID"]:
                rows.append((int(r["CustomerID"]), datetime.date.fromisoformat(r["InvoiceDate"][:10]),
                             int(r["Quantity"]) * float(r["UnitPrice"])))
    cur = connect(args.dsn)
    cur.execute("SET TimeZone = 'UTC'")
    print(f"{len(rows)} Online Retail lines with a customer, observation end {END}\n")
    print("| period | customers | equal counts | largest difference: frequency | recency | T | monetary_value |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for period in ("day", "week", "month"):
        ref = summary(rows, END, period)
        cur.execute("SELECT customer_id, (r).frequency, (r).recency, (r).t, (r).monetary_value FROM ("
                    "  SELECT customer_id, uba_rfm(invoice_date, quantity * unit_price::float8, "
                    "         jsonb_build_object('end', %s::date, 'period', %s)) AS r"
                    "    FROM retail_lines WHERE customer_id IS NOT NULL GROUP BY customer_id) s",
                    (END, period))
        got = {c: v for c, *v in cur.fetchall()}
        worst = [0.0] * 4
        for c, want in ref.items():
            for k in range(4):
                worst[k] = max(worst[k], abs(got[c][k] - want[k]) / max(1.0, abs(want[k])))
        same = set(got) == set(ref)
        print(f"| {period} | {len(ref)} | {'yes' if same else 'NO'} | "
              + " | ".join(f"{w:.1e}" for w in worst) + " |")
    print("\n(differences relative to max(1, |value|))")


if __name__ == "__main__":
    main()
