#!/usr/bin/python3
"""Metric aggregates against built-in aggregates over the same rows, in one session.

uba_f1_score(p, a) and uba_auc(yp, a) are compared with the three
count(*) FILTER (...) an F1 needs (tp, fp, fn), and uba_rmse(yp, ya) with
sqrt(avg((yp - ya)^2)).  Medians of
--repeat runs, with the default (parallel) plan and with parallel query off.

    /usr/bin/python3 bench/metrics_bench.py [--rows 5000000] [--repeat 5] [--dsn DSN]
"""
import argparse

from benchlib import compare_with_builtins, connect, print_comparison

BASELINES = {
    "f1": ("SELECT uba_f1_score(p, a) FROM metrics_bench",
           "SELECT count(*) FILTER (WHERE p AND a), count(*) FILTER (WHERE p AND NOT a),"
           " count(*) FILTER (WHERE NOT p AND a) FROM metrics_bench"),
    "confusion_matrix": ("SELECT uba_confusion_matrix(p, a) FROM metrics_bench",
                         "SELECT count(*) FILTER (WHERE p AND a), count(*) FILTER (WHERE p AND NOT a),"
                         " count(*) FILTER (WHERE NOT p AND a) FROM metrics_bench"),
    "auc": ("SELECT uba_auc(yp, a) FROM metrics_bench",
            "SELECT count(*) FILTER (WHERE p AND a), count(*) FILTER (WHERE p AND NOT a),"
            " count(*) FILTER (WHERE NOT p AND a) FROM metrics_bench"),
    "rmse": ("SELECT uba_rmse(yp, ya) FROM metrics_bench",
             "SELECT sqrt(avg((yp - ya) * (yp - ya))) FROM metrics_bench"),
    "r2": ("SELECT uba_r2(yp, ya) FROM metrics_bench",
           "SELECT 1 - sum((yp - ya) * (yp - ya)) / (count(*) * var_pop(ya)) FROM metrics_bench"),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dsn", default="")
    args = ap.parse_args()

    cur = connect(args.dsn)
    cur.execute("SELECT count(*) FROM pg_class WHERE relname = 'metrics_bench'")
    if cur.fetchone()[0]:
        cur.execute("SELECT count(*) FROM metrics_bench")
        have = cur.fetchone()[0]
    else:
        have = -1
    if have != args.rows:
        print(f"loading {args.rows:,} rows")
        cur.execute("DROP TABLE IF EXISTS metrics_bench")
        # deterministic pseudo-random rows: a hash of the row number
        cur.execute(f"""
            CREATE TABLE metrics_bench AS
            SELECT (h & 1023) < 300 AS p, ((h >> 10) & 1023) < 250 AS a,
                   ((h >> 20) & 65535)::float8 / 100 AS yp, ((h >> 36) & 65535)::float8 / 100 AS ya
              FROM (SELECT hashint8(g) AS h FROM generate_series(1, {args.rows}) g) s""")
        cur.execute("VACUUM ANALYZE metrics_bench")

    rows = compare_with_builtins(cur, BASELINES, args.repeat, parallel_label="parallel")

    print(f"\n{args.rows:,} rows, medians of {args.repeat} runs, times in seconds\n")
    print_comparison(rows, BASELINES, "metric")

if __name__ == "__main__":
    main()
