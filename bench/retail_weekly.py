#!/usr/bin/python3
"""Weekly unit sales per product from the UCI Online Retail lines (standard library only).

Usage:
    /usr/bin/python3 bench/retail_weekly.py OUT.csv [ONLINE_RETAIL_CSV_GZ]

The input defaults to ../shared/data/online-retail/online_retail.csv.gz (the project's shared
copy of UCI "Online Retail", CC BY 4.0; header InvoiceNo,StockCode,Description,Quantity,
InvoiceDate,UnitPrice,CustomerID,Country).  The bundled data/online_retail.csv.gz has the
same columns apart from Description and gives the same table.

Definition (the one the forecasting tests use):
  * kept lines: Quantity > 0 and InvoiceNo not starting with 'C' (cancellations);
    nothing else is filtered (UnitPrice 0, unknown customers, postage codes stay);
  * week: the Monday on or before the date part of InvoiceDate (ISO weeks);
  * units: sum of Quantity over the kept lines of a StockCode (taken as written,
    case-sensitive, surrounding blanks stripped) in a week.

Every product's series runs over the same weeks: from the week of the first kept line to
the week of the last kept line of the whole data set, zero where nothing was sold.  The
output holds only the non-zero weeks, one row per (stockcode, week), header
stockcode,week,units, ordered by stockcode (byte order) then week.  The week range and the
counts go to stderr.
"""
import csv
import datetime
import gzip
import os
import sys

DEFAULT_INPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "..", "..", "shared", "data", "online-retail",
                             "online_retail.csv.gz")


def monday(day):
    return day - datetime.timedelta(days=day.weekday())


def main(out_path, in_path):
    units = {}
    seen = kept = 0
    with gzip.open(in_path, "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            seen += 1
            if row["InvoiceNo"].strip().startswith("C"):
                continue
            qty = int(row["Quantity"])
            if qty <= 0:
                continue
            kept += 1
            week = monday(datetime.date.fromisoformat(row["InvoiceDate"][:10]))
            key = (row["StockCode"].strip(), week)
            units[key] = units.get(key, 0) + qty
    weeks = sorted({w for _, w in units})
    first, last = weeks[0], weeks[-1]
    nweeks = (last - first).days // 7 + 1
    products = sorted({s.encode("utf-8") for s, _ in units})
    with open(out_path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["stockcode", "week", "units"])
        for key in sorted(units, key=lambda k: (k[0].encode("utf-8"), k[1])):
            out.writerow([key[0], key[1].isoformat(), units[key]])
    print(f"{seen} lines read, {kept} kept; {len(products)} products, {len(units)} non-zero "
          f"product-weeks; weeks {first.isoformat()} .. {last.isoformat()} ({nweeks} weeks)",
          file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else DEFAULT_INPUT)
