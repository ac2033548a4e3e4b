#!/usr/bin/python3
"""Speed of demand forecasting: uba_forecast_train against R's forecast::ets, side by side.

    /usr/bin/python3 bench/forecast_bench.py [--host /tmp/pgdev] [--port 5499] [--dbname bench]
                                             [--repeat 3] [--r-sample all|300] [--skip-r]

Series: every Online Retail product's weekly units (bench/retail_weekly.py: 3,941 products, the
shared 54 weeks from 2010-11-29, zero-filled), and the 21 monthly, quarterly and annual series of
test/data/forecast_series.csv (their training parts).  uba: one query per set that trains every
series (GROUP BY) and forecasts 4 steps for each, best of --repeat; with "method": "ets" (the same
search as R's) and with the default "auto" (intermittent products get SBA).  R: bench/forecast_speed.R
times ets() looping over the same weekly series (all of them by default), and the 21 series'
seconds come from test/data/forecast_ets_reference.csv (written by bench/forecast_reference.R).
Prints the times and the ratios.  Needs ../shared/data/online-retail and Rscript with forecast.
"""
import argparse
import csv
import os
import re
import subprocess
import sys
import time

import psycopg2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEEKLY = "/tmp/uba_retail_weekly.csv"

TRAIN_WEEKLY = """
SELECT count(*), sum(f.forecast) FROM (
  SELECT stockcode, uba_forecast_train(week, units, %s::jsonb) AS m FROM fc_weekly GROUP BY stockcode) s,
  uba_forecast(s.m, 4) f"""
TRAIN_SERIES = """
SELECT count(*), sum(f.forecast) FROM (
  SELECT series, uba_forecast_train(d, value) AS m FROM fc_series WHERE part = 'train' GROUP BY series) s,
  uba_forecast(s.m, 4) f"""


def best(cur, sql, args, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        cur.execute(sql, args)
        cur.fetchall()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="/tmp/pgdev")
    ap.add_argument("--port", default="5499")
    ap.add_argument("--dbname", default="bench")
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--r-sample", default="all")
    ap.add_argument("--skip-r", action="store_true")
    a = ap.parse_args()

    subprocess.run([sys.executable, os.path.join(ROOT, "bench/retail_weekly.py"), WEEKLY], check=True)
    conn = psycopg2.connect(host=a.host, port=a.port, dbname=a.dbname, user=a.user)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS uba")
    cur.execute("DROP TABLE IF EXISTS fc_weekly; CREATE TABLE fc_weekly (stockcode text, week date, units float8)")
    with open(WEEKLY) as f:
        cur.copy_expert("COPY fc_weekly FROM STDIN WITH (FORMAT csv, HEADER)", f)
    cur.execute("DROP TABLE IF EXISTS fc_series; CREATE TABLE fc_series (series text, frequency int, idx int, d date, value float8, part text)")
    with open(os.path.join(ROOT, "test/data/forecast_series.csv")) as f:
        cur.copy_expert("COPY fc_series FROM STDIN WITH (FORMAT csv, HEADER)", f)
    cur.execute("VACUUM ANALYZE fc_weekly")
    cur.execute("SELECT count(DISTINCT stockcode) FROM fc_weekly")
    products = cur.fetchone()[0]

    span = '{"period": "week", "start": "2010-11-29", "end": "2011-12-05"%s}'
    uba_ets = best(cur, TRAIN_WEEKLY, (span % ', "method": "ets"',), a.repeat)
    uba_auto = best(cur, TRAIN_WEEKLY, (span % "",), a.repeat)
    uba_series = best(cur, TRAIN_SERIES, (), a.repeat)
    print(f"uba, {products} weekly series, ets:  {uba_ets:.3f} s (train and forecast 4 weeks, one query)")
    print(f"uba, {products} weekly series, auto: {uba_auto:.3f} s")
    print(f"uba, 21 series of test/data:        {uba_series:.3f} s")

    with open(os.path.join(ROOT, "test/data/forecast_ets_reference.csv")) as f:
        r_series = sum(float(r["seconds"]) for r in csv.DictReader(f))
    print(f"R ets(), 21 series (reference file): {r_series:.3f} s -> uba {uba_series / r_series:.3f}x R's time")
    if a.skip_r:
        return
    out = subprocess.run(["Rscript", os.path.join(ROOT, "bench/forecast_speed.R"), WEEKLY, a.r_sample],
                         check=True, capture_output=True, text=True).stdout
    print(out.strip())
    m = re.search(r"(all|extrapolated)[^\n]*?([0-9.]+) s", out)
    total = None
    for line in out.splitlines():
        nums = re.findall(r"([0-9]+\.[0-9]+) s\b", line)
        if ("total" in line or "all" in line) and nums:
            total = float(nums[0])
    if total:
        print(f"R ets() over the weekly series: {total:.2f} s -> uba ets {uba_ets / total:.4f}x R's time "
              f"({total / uba_ets:.1f}x faster)")


if __name__ == "__main__":
    main()
