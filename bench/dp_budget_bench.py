#!/usr/bin/python3
"""What the privacy budget's charge costs a release: --releases releases of uba_dp_count over
--rows rows, uncharged and charged to a budget ({"dataset": ...}), side by side.  Each charged
release starts a background worker that commits its charge (synchronous_commit on) before the
value is computed (doc/privacy.md); the uncharged ones show the aggregate's own time.  Releases
are a correlated subquery rerun once per release (each rerun is a release, charged again).

    /usr/bin/python3 bench/dp_budget_bench.py [--releases 200] [--rows 1000] [--dsn DSN]
"""
import argparse
import time

from benchlib import connect


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", default="")
    ap.add_argument("--releases", type=int, default=200)
    ap.add_argument("--rows", type=int, default=1000)
    a = ap.parse_args()
    cur = connect(a.dsn)
    cur.execute("DROP TABLE IF EXISTS dp_budget_bench")
    cur.execute(f"CREATE TABLE dp_budget_bench AS SELECT g AS u FROM generate_series(1, {a.rows}) g")
    cur.execute("DELETE FROM uba_dp_budget WHERE dataset = 'dp_budget_bench'")
    cur.execute("DELETE FROM uba_dp_ledger WHERE dataset = 'dp_budget_bench'")
    cur.execute("SELECT uba_dp_grant('dp_budget_bench', current_user::regrole, %s)", (a.releases * 0.001 * 2,))
    q = ("SELECT sum(c) FROM (SELECT (SELECT uba_dp_count(u, 0.001{}) FROM dp_budget_bench WHERE g > 0) AS c"
         " FROM generate_series(1, %s) g OFFSET 0) x")
    out = {}
    for name, opt in (("uncharged", ""), ("charged", ", '{\"dataset\": \"dp_budget_bench\"}'::jsonb")):
        t0 = time.perf_counter()
        cur.execute(q.format(opt), (a.releases,))
        cur.fetchall()
        out[name] = time.perf_counter() - t0
    cur.execute("SELECT count(*) FROM uba_dp_ledger WHERE dataset = 'dp_budget_bench'")
    charges = cur.fetchone()[0]
    print(f"{a.releases} releases of uba_dp_count over {a.rows:,} rows; {charges} charges in the ledger\n")
    print("| releases | total s | ms per release |")
    print("|---|---:|---:|")
    for name, t in out.items():
        print(f"| {name} | {t:.3f} | {1000 * t / a.releases:.2f} |")
    print(f"\ncharged / uncharged: {out['charged'] / out['uncharged']:.0f}x; the charge itself: "
          f"{1000 * (out['charged'] - out['uncharged']) / a.releases:.1f} ms per release")
    cur.execute("DELETE FROM uba_dp_budget WHERE dataset = 'dp_budget_bench'")
    cur.execute("DELETE FROM uba_dp_ledger WHERE dataset = 'dp_budget_bench'")
    cur.execute("DROP TABLE dp_budget_bench")


if __name__ == "__main__":
    main()
