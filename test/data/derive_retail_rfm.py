#!/usr/bin/python3
"""Derive test/data/retail_rfm.csv from the UCI Online Retail line items.

Usage: derive_retail_rfm.py ONLINE_RETAIL_CSV_GZ > test/data/retail_rfm.csv

Per known CustomerID, over non-cancelled invoices (InvoiceNo not starting
with 'C') with Quantity > 0 and UnitPrice > 0:
  recency   = days from the date of the customer's last invoice to 2011-12-10
  frequency = number of distinct invoices
  monetary  = sum(Quantity * UnitPrice), exact decimal arithmetic
Rows are ordered by customer_id.
"""
import csv
import datetime
import decimal
import gzip
import sys

REFERENCE_DATE = datetime.date(2011, 12, 10)


def main(path):
    last = {}
    invoices = {}
    monetary = {}
    seen = kept = 0
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            seen += 1
            cid = row["CustomerID"].strip()
            inv = row["InvoiceNo"].strip()
            if cid == "" or inv.startswith("C"):
                continue
            qty = int(row["Quantity"])
            price = decimal.Decimal(row["UnitPrice"])
            if qty <= 0 or price <= 0:
                continue
            kept += 1
            # CustomerID is an integer, sometimes written as "12345.0"
            cid = int(decimal.Decimal(cid))
            day = datetime.date.fromisoformat(row["InvoiceDate"][:10])
            if cid not in last or day > last[cid]:
                last[cid] = day
            invoices.setdefault(cid, set()).add(inv)
            monetary[cid] = monetary.get(cid, decimal.Decimal(0)) + qty * price
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["customer_id", "recency", "frequency", "monetary"])
    for cid in sorted(last):
        out.writerow([cid, (REFERENCE_DATE - last[cid]).days,
                      len(invoices[cid]), monetary[cid]])
    print(f"{seen} line items read, {kept} kept, {len(last)} customers",
          file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
