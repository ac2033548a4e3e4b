#!/usr/bin/python3
"""uba_ab_test against the built-in SQL that computes the least any readout needs, in one session.

The built-in baseline is count, avg and stddev_samp of the value per variant (GROUP BY variant),
the raw inputs of a Welch test; for CUPED, the same plus avg of the covariate and covar_samp of
value and covariate.  uba_ab_test computes those moments and every statistic from them in one
aggregate.  --rows units (default 5,000,000) in 3 variants, lognormal values, a correlated
covariate; medians of --repeat runs with the default plan (parallel) and serial.

    /usr/bin/python3 bench/ab_bench.py [--rows 5000000] [--repeat 5] [--dsn DSN]
"""
import argparse

from benchlib import compare_with_builtins, connect, print_comparison


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", default="")
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    cur = connect(a.dsn)
    cur.execute("DROP TABLE IF EXISTS ab_bench")
    cur.execute("SELECT setseed(0.5)")
    cur.execute(f"""CREATE TABLE ab_bench AS
        SELECT (ARRAY['control', 'b', 'c'])[1 + g % 3] AS variant, v AS value, v * 0.6 + random() * 10 AS covariate
          FROM (SELECT g, exp(3 + sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) AS v
                  FROM generate_series(1, {a.rows}) g) s""")
    cur.execute("VACUUM ANALYZE ab_bench")
    cases = {
        "uba_ab_test(variant, value)": (
            "SELECT uba_ab_test(variant, value) FROM ab_bench",
            "SELECT variant, count(*), avg(value), stddev_samp(value) FROM ab_bench GROUP BY variant"),
        "uba_ab_test(variant, value, covariate)": (
            "SELECT uba_ab_test(variant, value, covariate) FROM ab_bench",
            "SELECT variant, count(*), avg(value), stddev_samp(value), avg(covariate), covar_samp(value, covariate)"
            " FROM ab_bench GROUP BY variant"),
    }
    rows = compare_with_builtins(cur, cases, a.repeat)
    print(f"{a.rows:,} units, 3 variants\n")
    print_comparison(rows, cases, "query")
    cur.execute("DROP TABLE ab_bench")


if __name__ == "__main__":
    main()
