#!/usr/bin/python3
"""Utility of the differentially private funnel and retention on Online Retail at epsilon 1.

The demo's funnel (a purchase, then the Regency cake stand within 30 days, then a Regency
teacup) and retention (customers by month of first purchase who bought again 1, 2, 3 and 6
months later), exact (uba_funnel, uba_retention) and released --releases times by
uba_dp_funnel and uba_dp_retention at --epsilon.  For each figure: the exact value, the
mean release, the mean absolute and relative error, the 95th percentile of the absolute error,
and that percentile as the mechanism predicts it:

- funnel step i of k is the sum of k - i + 1 bins with discrete Laplace noise of scale
  1 / epsilon each (each clamped at 0 before the sum, so the prediction, made without the
  clamp, is slightly pessimistic for small bins); its distribution is the convolution of the
  bins' noise, computed exactly here;
- a retention element has discrete Laplace noise of scale k / epsilon (k elements);

and against Google's differential-privacy library's published confidence interval for one
Laplace count of scale b, b ln(1 / alpha) (95%: 3.0 b), which is what each retention element
and the deepest funnel step are.

    psql -X -v ON_ERROR_STOP=1 -f data/load_online_retail.sql
    /usr/bin/python3 bench/dp_utility.py [--epsilon 1] [--releases 200] [--dsn DSN]
"""
import argparse
import math

import numpy as np

from benchlib import connect

FUNNEL = """
SELECT customer_id, min(country) AS country,
       uba_funnel(invoice_date, '30 days', ARRAY[quantity > 0, stock_code = '22423',
                                                 stock_code IN ('22697', '22699')]) AS depth
  FROM retail_lines WHERE customer_id IS NOT NULL GROUP BY customer_id"""

RETENTION = """
WITH buys AS (SELECT customer_id, date_trunc('month', invoice_date) AS month
                FROM retail_lines WHERE customer_id IS NOT NULL AND quantity > 0),
cohorts AS (SELECT customer_id, min(month) AS cohort FROM buys GROUP BY customer_id)
SELECT b.customer_id, c.cohort,
       uba_retention(ARRAY[b.month = c.cohort, b.month = c.cohort + interval '1 month',
                           b.month = c.cohort + interval '2 months', b.month = c.cohort + interval '3 months',
                           b.month = c.cohort + interval '6 months']) AS r
  FROM buys b JOIN cohorts c USING (customer_id)
 WHERE c.cohort = '2011-01-01'
 GROUP BY c.cohort, b.customer_id"""


def discrete_laplace_pmf(scale, span):
    x = np.arange(-span, span + 1)
    p = math.exp(-1 / scale)
    return x, (1 - p) / (1 + p) * p ** np.abs(x)


def predicted_p95(scale, bins):
    """95th percentile of |sum of `bins` discrete Laplace draws of `scale`|."""
    span = int(60 * scale * bins) + 10
    x, pmf = discrete_laplace_pmf(scale, span)
    total = pmf
    for _ in range(bins - 1):
        total = np.convolve(total, pmf)
    xs = np.arange(-(len(total) // 2), len(total) // 2 + 1)
    order = np.argsort(np.abs(xs), kind="stable")
    cum = np.cumsum(total[order])
    return float(abs(xs[order][np.searchsorted(cum, 0.95)]))


def report(name, exact, releases, predicted, google):
    releases = np.array(releases, dtype=float)
    err = np.abs(releases - exact)
    print(f"| {name} | {exact:,} | {releases.mean():,.1f} | {err.mean():.2f} | "
          f"{100 * err.mean() / max(exact, 1):.2f}% | {np.percentile(err, 95):.1f} | {predicted:.1f} | {google} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", default="")
    ap.add_argument("--epsilon", type=float, default=1.0)
    ap.add_argument("--releases", type=int, default=200)
    a = ap.parse_args()
    cur = connect(a.dsn)
    eps = a.epsilon
    cur.execute(f"CREATE TEMP TABLE f AS {FUNNEL}")
    cur.execute(f"CREATE TEMP TABLE r AS {RETENTION}")
    cur.execute("SELECT count(*) FILTER (WHERE depth >= 1), count(*) FILTER (WHERE depth >= 2),"
                " count(*) FILTER (WHERE depth >= 3) FROM f")
    exact_f = cur.fetchone()
    cur.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE r[{i}])" for i in range(1, 6)) + " FROM r")
    exact_r = cur.fetchone()
    # one release per row of generate_series: a plain aggregate rerun for each g (OFFSET 0: no flattening)
    cur.execute(f"SELECT (SELECT uba_dp_funnel(customer_id, depth, 3, %s::float8) FROM f WHERE g > 0) "
                f"FROM generate_series(1, %s) g OFFSET 0", (eps, a.releases))
    rel_f = np.array([row[0] for row in cur.fetchall()])
    cur.execute(f"SELECT (SELECT uba_dp_retention(customer_id, r, %s::float8) FROM r WHERE g > 0) "
                f"FROM generate_series(1, %s) g OFFSET 0", (eps, a.releases))
    rel_r = np.array([row[0] for row in cur.fetchall()])

    print(f"epsilon {eps}, {a.releases} releases each\n")
    print("| figure | exact | mean release | mean abs error | relative error | p95 abs error | predicted p95 | Google 95% CI (one count) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    steps = ["funnel: customers who purchased", "funnel: then the cake stand", "funnel: then a teacup"]
    for i, name in enumerate(steps):
        bins = 3 - i
        google = f"±{math.log(20) / eps:.1f}" if bins == 1 else "-"
        report(name, exact_f[i], rel_f[:, i], predicted_p95(1 / eps, bins), google)
    k = 5
    names = ["retention: January 2011 cohort", "bought again month 1", "month 2", "month 3", "month 6"]
    for i, name in enumerate(names):
        report(name, exact_r[i], rel_r[:, i], predicted_p95(k / eps, 1), f"±{k * math.log(20) / eps:.1f}")

    # grouped: the funnel by country at delta 1e-6, which countries are released
    cur.execute("SELECT country, count(*) FILTER (WHERE depth >= 1) FROM f GROUP BY country ORDER BY 2 DESC")
    exact_c = dict(cur.fetchall())
    cur.execute("SELECT country, uba_dp_funnel(customer_id, depth, 3, %s::float8, '{\"delta\": 1e-6}') FROM f GROUP BY country",
                (eps,))
    got = dict(cur.fetchall())
    released = sorted((c for c, v in got.items() if v is not None), key=lambda c: -exact_c[c])
    smallest = min((exact_c[c] for c in released), default=0)
    largest_suppressed = max((exact_c[c] for c, v in got.items() if v is None), default=0)
    threshold = 1 + math.ceil(2 / eps * math.log(1 / 1e-6))
    print(f"\nBy country at delta 1e-6 (threshold {threshold} noisy units, half of epsilon): "
          f"{len(released)} of {len(got)} countries released; the smallest released has {smallest} customers, "
          f"the largest suppressed {largest_suppressed}.")


if __name__ == "__main__":
    main()
