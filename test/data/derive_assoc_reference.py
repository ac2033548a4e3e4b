#!/usr/bin/python3
"""Reference frequent itemsets and association rules for uba.

Usage (from the project root):

    /usr/bin/python3 test/data/derive_assoc_reference.py [GROCERIES_CSV]
        [--retail ONLINE_RETAIL_CSV_GZ] [--out-dir DIR]

Defaults: GROCERIES_CSV = ../shared/data/groceries/groceries.csv and
--retail data/online_retail.csv.gz (both relative to the project root, found
from this script's location), --out-dir test/data.  Writes
assoc_reference.csv (Online Retail) and, when the Groceries file exists,
assoc_groceries_reference.csv; without it only the Online Retail output is
made.  Plain Python, standard library only, deterministic (sorted) output.

Definitions (exact):
    N = number of distinct baskets; count(X) = number of baskets containing
    every item of X.  X is frequent iff count(X) / N >= min_support (Python
    float division and comparison, exactly that expression) and
    |X| <= max_length.  Rules: for every frequent X with |X| >= 2, every split
    into a non-empty antecedent A and consequent C = X \\ A with
    1 <= |C| <= max_consequent, kept iff count(X) / count(A) >= min_confidence
    (float, exactly that expression).  support = count(X) / N,
    confidence = count(X) / count(A), lift = confidence / (count(C) / N).

Method: level-wise (Apriori) and exact.  Level 1 counts every item; level k
candidates are joins of frequent (k-1)-itemsets sharing their first k-2 items,
pruned when some (k-1)-subset is not frequent, then counted by one scan over
the baskets (each basket either enumerates its k-subsets and looks them up,
or tests every candidate, whichever is cheaper).  No FP-growth.

Online Retail (assoc_reference.csv):
    baskets = lines whose InvoiceNo is all ASCII digits and Quantity > 0;
    basket_id = int(InvoiceNo); items = the distinct StockCodes of the basket
    (case kept: '85123A' and '85123a' differ); item_id = 1-based rank of the
    StockCode among ALL distinct StockCodes of those lines in byte order
    (Python str order).
      S1: min_support 0.02,  min_confidence 0.5, max_length 10, max_consequent 1
      S2: min_support 0.01,  min_confidence 0.6, max_length 10, max_consequent 1
      S3: min_support 0.015, min_confidence 0.3, max_length 3,  max_consequent 2
    Columns setting,antecedent,consequent,count,support,confidence,lift;
    antecedent/consequent are PostgreSQL bigint array literals of item ids in
    ascending order ('{12,40}'); count = count(X); floats written with
    repr() (shortest text that reads back as the same double).  Rows ordered
    by setting, antecedent ids, consequent ids (numerically).

Groceries (assoc_groceries_reference.csv; the file is GPL, so only aggregate
counts and hashes are written):
    basket_id = 1-based line number; items = the distinct item names of the
    line (split on ',', names kept exactly, including trailing spaces such as
    'cream cheese '); item_id = 1-based rank of the name among all distinct
    names in byte order (Python sorted on str).
      G1: 0.001, 0.8, max_length 10, max_consequent 1
      G2: 0.005, 0.5, max_length 10, max_consequent 1
      G3: 0.01,  0.1, max_length 10, max_consequent 1
      G4: 0.003, 0.4, max_length 4,  max_consequent 2
    Columns setting,min_support,min_confidence,max_length,max_consequent,
    baskets,itemsets,rules,rules_md5: itemsets = number of frequent itemsets
    of every size >= 1; rules_md5 = md5 hex of the UTF-8 text made of one line
    per rule '<antecedent ids ascending, comma-joined>|<consequent ids
    ascending, comma-joined>|<count(X)>', lines sorted in byte order, joined
    with '\\n' (no trailing newline).
    Check: arules (R) reports 410 rules for Groceries at support 0.001,
    confidence 0.8 with single-item consequents (none has an empty
    antecedent at that confidence); G1 gives 410.
"""
import argparse
import csv
import gzip
import hashlib
import itertools
import math
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

RETAIL_SETTINGS = [
    # name, min_support, min_confidence, max_length, max_consequent
    ("S1", 0.02, 0.5, 10, 1),
    ("S2", 0.01, 0.6, 10, 1),
    ("S3", 0.015, 0.3, 3, 2),
]
GROCERIES_SETTINGS = [
    ("G1", 0.001, 0.8, 10, 1),
    ("G2", 0.005, 0.5, 10, 1),
    ("G3", 0.01, 0.1, 10, 1),
    ("G4", 0.003, 0.4, 4, 2),
]


def frequent_itemsets(baskets, min_support, max_length):
    """baskets: list of tuples of distinct item ids.  Returns {itemset tuple
    (ascending): count} of every frequent itemset."""
    n = len(baskets)
    counts = {}
    for b in baskets:
        for i in b:
            counts[i] = counts.get(i, 0) + 1
    level = {(i,): c for i, c in counts.items() if c / n >= min_support}
    result = dict(level)
    k = 1
    while level and k < max_length:
        k += 1
        # candidates: join (k-1)-itemsets with equal first k-2 items, prune
        prev = sorted(level)
        candidates = {}
        by_prefix = {}
        for s in prev:
            by_prefix.setdefault(s[:-1], []).append(s[-1])
        for prefix, lasts in by_prefix.items():
            for a, b in itertools.combinations(lasts, 2):   # lasts ascending
                cand = prefix + (a, b)
                if all(cand[:j] + cand[j + 1:] in level for j in range(k - 2)):
                    candidates[cand] = 0
        if not candidates:
            break
        # count by one scan over the baskets
        alive = set(i for s in level for i in s)
        cand_list = list(candidates)
        ncand = len(cand_list)
        for b in baskets:
            items = sorted(i for i in b if i in alive)
            m = len(items)
            if m < k:
                continue
            if math.comb(m, k) <= ncand:
                for sub in itertools.combinations(items, k):
                    if sub in candidates:
                        candidates[sub] += 1
            else:
                bs = set(items)
                for cand in cand_list:
                    if all(i in bs for i in cand):
                        candidates[cand] += 1
        level = {s: c for s, c in candidates.items() if c / n >= min_support}
        result.update(level)
    return result


def rules(itemsets, n, min_confidence, max_consequent):
    """Returns a list of (antecedent, consequent, count, support, confidence,
    lift) with antecedent and consequent ascending tuples."""
    out = []
    for x, cx in itemsets.items():
        if len(x) < 2:
            continue
        for csize in range(1, min(max_consequent, len(x) - 1) + 1):
            for cons in itertools.combinations(x, csize):
                ante = tuple(i for i in x if i not in cons)
                ca = itemsets[ante]
                if cx / ca >= min_confidence:
                    support = cx / n
                    confidence = cx / ca
                    lift = confidence / (itemsets[cons] / n)
                    out.append((ante, cons, cx, support, confidence, lift))
    out.sort(key=lambda r: (r[0], r[1]))
    return out


def pg_array(ids):
    return "{" + ",".join(str(i) for i in ids) + "}"


def read_retail(path):
    baskets = {}
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header[:3] != ["InvoiceNo", "StockCode", "Quantity"]:
            sys.exit(f"unexpected header {header!r}")
        for row in reader:
            inv, code, qty = row[0], row[1], int(row[2])
            if not (inv.isascii() and inv.isdigit()) or qty <= 0:
                continue
            baskets.setdefault(int(inv), set()).add(code)
    codes = sorted(set().union(*baskets.values()))
    ids = {c: i + 1 for i, c in enumerate(codes)}
    return [tuple(sorted(ids[c] for c in baskets[b])) for b in sorted(baskets)], codes


def read_groceries(path):
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    raw = [set(line.split(",")) for line in lines]
    names = sorted(set().union(*raw))
    ids = {c: i + 1 for i, c in enumerate(names)}
    return [tuple(sorted(ids[c] for c in b)) for b in raw], names


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("groceries", nargs="?",
                    default=os.path.join(ROOT, "..", "shared", "data", "groceries",
                                         "groceries.csv"))
    ap.add_argument("--retail", default=os.path.join(ROOT, "data", "online_retail.csv.gz"))
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "test", "data"))
    args = ap.parse_args()

    t0 = time.time()
    baskets, codes = read_retail(args.retail)
    n = len(baskets)
    print(f"Online Retail: N = {n} baskets, {len(codes)} distinct stock codes, "
          f"{sum(map(len, baskets))} basket items", file=sys.stderr)
    rows = []
    for name, sup, conf, maxlen, maxcons in RETAIL_SETTINGS:
        t = time.time()
        fi = frequent_itemsets(baskets, sup, maxlen)
        rs = rules(fi, n, conf, maxcons)
        sizes = {}
        for s in fi:
            sizes[len(s)] = sizes.get(len(s), 0) + 1
        print(f"  {name}: N {n}, itemsets {len(fi)} (by size "
              f"{dict(sorted(sizes.items()))}), rules {len(rs)}, "
              f"{time.time() - t:.1f} s", file=sys.stderr)
        for a, c, cx, s, cf, lf in rs:
            rows.append((name, a, c, cx, s, cf, lf))
    with open(os.path.join(args.out_dir, "assoc_reference.csv"), "w",
              newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["setting", "antecedent", "consequent", "count", "support",
                    "confidence", "lift"])
        for name, a, c, cx, s, cf, lf in rows:
            w.writerow([name, pg_array(a), pg_array(c), cx, repr(s), repr(cf), repr(lf)])
    print(f"Online Retail done in {time.time() - t0:.1f} s", file=sys.stderr)

    if not os.path.exists(args.groceries):
        print(f"{args.groceries} not found: Groceries output skipped", file=sys.stderr)
        return
    t1 = time.time()
    baskets, names = read_groceries(args.groceries)
    n = len(baskets)
    print(f"Groceries: N = {n} baskets, {len(names)} distinct items", file=sys.stderr)
    out = []
    for name, sup, conf, maxlen, maxcons in GROCERIES_SETTINGS:
        t = time.time()
        fi = frequent_itemsets(baskets, sup, maxlen)
        rs = rules(fi, n, conf, maxcons)
        text = "\n".join(sorted(
            ",".join(map(str, a)) + "|" + ",".join(map(str, c)) + "|" + str(cx)
            for a, c, cx, _, _, _ in rs))
        md5 = hashlib.md5(text.encode("utf-8")).hexdigest()
        print(f"  {name}: N {n}, itemsets {len(fi)}, rules {len(rs)}, md5 {md5}, "
              f"{time.time() - t:.1f} s", file=sys.stderr)
        out.append([name, repr(sup), repr(conf), maxlen, maxcons, n, len(fi), len(rs), md5])
    with open(os.path.join(args.out_dir, "assoc_groceries_reference.csv"), "w",
              newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["setting", "min_support", "min_confidence", "max_length",
                    "max_consequent", "baskets", "itemsets", "rules", "rules_md5"])
        w.writerows(out)
    print(f"Groceries done in {time.time() - t1:.1f} s; total {time.time() - t0:.1f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
