#!/usr/bin/python3
"""Recommendation quality of uba's methods on Online Retail, in SQL, next to bench/cf_reference.py.

The same split and metrics as bench/cf_reference.py (see its docstring): purchase lines of known
customers (no cancellations, quantity > 0, stock codes starting with a digit), item id = the
stock code as it is (uba orders text ids by their bytes, the reference ranks them in C collation:
the same order), each line weight 1; train before 2011-10-01; test on the items each
training customer bought from then on and had not bought before.  For each model, uba ranks the
top 20 with uba_cf_recommend (the popularity ranking: an unknown id, then the customer's own items
left out) and the metrics are uba_recall_at_k and uba_ndcg_at_k averaged with avg().

    /usr/bin/python3 bench/cf_quality.py [--dsn DSN] [--reference /tmp/cf_grid.csv]

--reference reads the CSV that `bench/cf_reference.py --out-csv` writes and prints the reference's
figures beside uba's.  The data is loaded from data/online_retail.csv.gz (bundled) into the table
cf_quality_lines unless it is there already.
"""
import argparse
import csv
import gzip
import io
import os
import time

from benchlib import connect

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MODELS = [
    ("popularity", None, "popularity"),
    ("als", '{}', "als defaults: alpha 1, reg 0.1, 64 factors, 15 iterations, cg"),
    ("als", '{"alpha": 10}', "als alpha 10, cg"),
    ("als", '{"alpha": 10, "solver": "cholesky"}', "als alpha 10, cholesky"),
    ("item_knn", '{"method": "item_knn", "neighbors": 20}', "item_knn 20 neighbours"),
    ("ease", '{"method": "ease"}', "ease lambda 500, 200 kept per item"),
    ("ease", '{"method": "ease", "neighbors": 10000}', "ease lambda 500, every weight kept"),
]


def load(cur):
    cur.execute("SELECT to_regclass('cf_quality_lines') IS NOT NULL")
    if cur.fetchone()[0]:
        return
    print("loading data/online_retail.csv.gz", flush=True)
    cur.execute("CREATE TABLE cf_quality_lines (invoice_no text, stock_code text, quantity int, "
                "invoice_date timestamp, customer_id bigint)")
    buf = io.StringIO()
    with gzip.open(os.path.join(ROOT, "data", "online_retail.csv.gz"), "rt", newline="") as f:
        r = csv.DictReader(f)
        for row in r:
            buf.write("\t".join([row["InvoiceNo"], row["StockCode"], row["Quantity"], row["InvoiceDate"],
                                 row["CustomerID"].split(".")[0] if row["CustomerID"] else "\\N"]) + "\n")
    buf.seek(0)
    cur.copy_expert("COPY cf_quality_lines FROM STDIN", buf)
    cur.execute("ANALYZE cf_quality_lines")


SETUP = """
DROP TABLE IF EXISTS cf_q_purchases, cf_q_train, cf_q_test;
CREATE TABLE cf_q_purchases AS
SELECT l.customer_id AS user_id, l.stock_code AS item_id, l.invoice_date
  FROM cf_quality_lines l
 WHERE l.customer_id IS NOT NULL AND l.invoice_no NOT LIKE 'C%' AND l.quantity > 0
   AND l.stock_code ~ '^[0-9]';
CREATE TABLE cf_q_train AS SELECT DISTINCT user_id, item_id FROM cf_q_purchases WHERE invoice_date < '2011-10-01';
CREATE INDEX ON cf_q_train (user_id, item_id);
CREATE TABLE cf_q_test AS
SELECT p.user_id, array_agg(DISTINCT p.item_id) AS relevant
  FROM (SELECT DISTINCT user_id, item_id FROM cf_q_purchases WHERE invoice_date >= '2011-10-01') p
  LEFT JOIN cf_q_train t USING (user_id, item_id)
 WHERE t.user_id IS NULL AND p.user_id IN (SELECT user_id FROM cf_q_train)
 GROUP BY p.user_id;
ANALYZE cf_q_train;
ANALYZE cf_q_test;
"""

EVAL_MODEL = """
SELECT count(*), avg(uba_recall_at_k(r.rec, t.relevant, 20)), avg(uba_ndcg_at_k(r.rec, t.relevant, 20))
  FROM cf_q_test t,
       LATERAL (SELECT array_agg(item_id ORDER BY ord) AS rec
                  FROM uba_cf_recommend((SELECT m FROM cf_q_model), t.user_id, 20, NULL, NULL::text)
                       WITH ORDINALITY AS x(item_id, score, source, ord)) r
"""

EVAL_POPULARITY = """
SELECT count(*), avg(uba_recall_at_k(r.rec, t.relevant, 20)), avg(uba_ndcg_at_k(r.rec, t.relevant, 20))
  FROM cf_q_test t,
       LATERAL (SELECT (array_agg(item_id ORDER BY ord)
                          FILTER (WHERE NOT EXISTS (SELECT 1 FROM cf_q_train c
                                                     WHERE c.user_id = t.user_id AND c.item_id = x.item_id)))[1:20] AS rec
                  FROM uba_cf_recommend((SELECT m FROM cf_q_model), -1, 300, NULL, NULL::text)
                       WITH ORDINALITY AS x(item_id, score, source, ord)) r
"""


def reference(path):
    """(recall, ndcg) of the reference runs, keyed like MODELS' labels where they match"""
    if not path:
        return {}
    ref = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            p = row["params"]
            key = None
            if row["model"] == "popularity":
                key = "popularity"
            elif row["model"] == "als" and "alpha=1 " in p + " " and "reg=0.1 " in p + " " and "exact" in p:
                key = "als defaults: alpha 1, reg 0.1, 64 factors, 15 iterations, cg"
            elif row["model"] == "als" and "alpha=10" in p and "reg=0.1" in p and "cg" in p:
                key = "als alpha 10, cg"
            elif row["model"] == "als" and "alpha=10" in p and "reg=0.1" in p and "exact" in p:
                key = "als alpha 10, cholesky"
            elif row["model"] == "item_knn" and p.endswith("=20"):
                key = "item_knn 20 neighbours"
            elif row["model"] == "ease" and p.endswith("=500"):
                key = "ease lambda 500, every weight kept"
            if key:
                ref[key] = (float(row["recall20"]), float(row["ndcg20"]), p)
    return ref


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", default="")
    ap.add_argument("--reference", default="")
    args = ap.parse_args()
    cur = connect(args.dsn)
    load(cur)
    cur.execute(SETUP)
    ref = reference(args.reference)

    print("\n| model | recall@20 | NDCG@20 | train s | reference recall@20 | reference NDCG@20 |")
    print("|---|---:|---:|---:|---:|---:|")
    for method, options, label in MODELS:
        cur.execute("DROP TABLE IF EXISTS cf_q_model")
        t0 = time.perf_counter()
        cur.execute("CREATE TABLE cf_q_model AS SELECT uba_cf_train(user_id, item_id, 1.0, %s::jsonb) AS m "
                    "FROM cf_q_purchases WHERE invoice_date < '2011-10-01'", (options or '{}',))
        seconds = time.perf_counter() - t0
        cur.execute(EVAL_POPULARITY if method == "popularity" else EVAL_MODEL)
        users, recall, ndcg = cur.fetchone()
        r = ref.get(label)
        print(f"| {label} | {recall:.4f} | {ndcg:.4f} | {'' if method == 'popularity' else f'{seconds:.2f}'} | "
              f"{f'{r[0]:.4f}' if r else ''} | {f'{r[1]:.4f}' if r else ''} |")
    print(f"\n{users} customers evaluated.")


if __name__ == "__main__":
    main()
