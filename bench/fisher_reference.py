"""uba_fisher_exact against scipy.stats.fisher_exact.

Draws seeded random 2x2 tables (small counts, where the exact test matters; skewed and
balanced margins; zeros; counts up to a million, as funnel correlation on a large shop gives)
and compares uba's odds ratio and p-value, for the three alternatives, with scipy's.

    su postgres -c "/usr/bin/python3 bench/fisher_reference.py --dsn 'host=/tmp/pgdev port=5499 dbname=bench'"

Prints, per kind of table, the number of tables, the largest relative difference of the
p-values (p-values under 1e-300 compared absolutely) and the odds ratios that differ; exits 1
when a p-value differs by more than 1e-9 relative or an odds ratio differs at all.
"""
import argparse
import math
import random
import sys

from scipy.stats import fisher_exact

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from benchlib import connect  # noqa: E402


def tables(rng, kind, count):
    for _ in range(count):
        if kind == "small":
            yield [rng.randint(0, 12) for _ in range(4)]
        elif kind == "skewed":
            yield [rng.randint(0, 3), rng.randint(20, 200), rng.randint(0, 40), rng.randint(100, 2000)]
        elif kind == "balanced":
            n = rng.randint(50, 500)
            yield [rng.randint(0, n), rng.randint(0, n), rng.randint(0, n), rng.randint(0, n)]
        else:  # large: a shop's users with and without an event, converted or not
            yield [rng.randint(0, 20000), rng.randint(0, 200000), rng.randint(0, 100000), rng.randint(0, 1000000)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", default="")
    ap.add_argument("--tables", type=int, default=300, help="tables of each kind")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    cur = connect(args.dsn)
    rng = random.Random(args.seed)
    bad = 0
    for kind in ("small", "skewed", "balanced", "large"):
        worst, odd, n = 0.0, 0, 0
        for t in tables(rng, kind, args.tables):
            for alt in ("two-sided", "less", "greater"):
                ref = fisher_exact([[t[0], t[1]], [t[2], t[3]]], alternative=alt)
                cur.execute("SELECT odds_ratio, p_value FROM uba_fisher_exact(%s, %s, %s, %s, %s)", t + [alt])
                o, p = cur.fetchone()
                r_o, r_p = float(ref.statistic), float(ref.pvalue)
                n += 1
                if not ((math.isnan(o) and math.isnan(r_o)) or o == r_o):
                    odd += 1
                    if odd <= 3:
                        print(f"  odds ratio differs for {t} {alt}: uba {o}, scipy {r_o}")
                diff = abs(p - r_p) / r_p if r_p > 1e-300 else abs(p - r_p)
                if diff > worst:
                    worst = diff
                if diff > 1e-9:
                    print(f"  p-value differs for {t} {alt}: uba {p!r}, scipy {r_p!r}")
                    bad += 1
        bad += odd
        print(f"{kind:9s} {n:5d} tests   largest relative p-value difference {worst:.2e}   odds ratios differing {odd}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
