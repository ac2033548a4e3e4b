#!/usr/bin/python3
"""The global gradient-boosted forecaster beside per-series exponential smoothing, on one holdout.

    /usr/bin/python3 bench/forecast_global.py [--host /tmp/pgdev] [--port 5499] [--dbname bench]
        [--user postgres] [--weekly /tmp/uba_retail_weekly.csv] [--reuse-weekly]

Data, split, products kept and metrics: bench/forecast_holdout.py's (Online Retail, 3,595 weekly
product series; 45 weeks trained, 2010-11-29 .. 2011-10-03; 8 held out, 2011-10-10 .. 2011-11-28;
mean MASE and product-level WRMSSE, weights = units of the last 4 training weeks).

Methods, each one query over the table fc_holdout_weekly (training rows only), timed by wall clock:
  * uba ets, uba auto: uba_forecast_train(week, units, ...) GROUP BY stockcode, uba_forecast(m, 8)
    (one model per product, as in forecast_holdout.py).
  * uba boost: one uba_forecast_train(stockcode, week, units, options) over all products (every
    series zero-filled from 2010-11-29, "start"), then uba_forecast_global(m, 8): recursive.
    Variants: the default lags and trees; with "holidays" (Christmas and New Year's Day, the UK
    bank holidays of 2010-2011: the periods to the next holiday are a feature); shallower trees with
    more rounds ("trees": {"max_depth": 4, "n_estimators": 300, "learning_rate": 0.05}).
  * naive and mean, as in forecast_holdout.py.
Prints a table (method, products, mean MASE, WRMSSE, seconds), the 80 % and 95 % intervals' share
of held-out weeks inside and mean width (over the MASE scale) for the uba methods, and boost / ets
ratios.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time

import numpy as np
import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forecast_holdout as fh  # noqa: E402  (the same data, split and metrics)

HOLIDAYS = ["2010-12-25", "2010-12-26", "2010-12-27", "2010-12-28", "2011-01-03", "2011-04-22",
            "2011-04-25", "2011-04-29", "2011-05-02", "2011-05-30", "2011-08-29", "2011-12-25",
            "2011-12-26", "2011-12-27", "2012-01-02"]

LEVELS = (80, 95)
PER_SERIES_SQL = """
SELECT s.stockcode, f.step, f.forecast, f.ts::date, f.level, f.lower, f.upper FROM (
  SELECT stockcode, uba_forecast_train(week, units, %(opts)s::jsonb) AS m
    FROM fc_holdout_weekly WHERE week <= %(end)s
   GROUP BY stockcode HAVING count(*) >= 2) s,
  uba_forecast(s.m, %(h)s, '{80, 95}') f"""
GLOBAL_SQL = """
SELECT f.series, f.step, f.forecast, f.ts::date, f.level, f.lower, f.upper
  FROM uba_forecast_global((SELECT uba_forecast_train(stockcode, week, units, %(opts)s::jsonb)
                              FROM fc_holdout_weekly
                             WHERE week <= %(end)s
                               AND stockcode IN (SELECT stockcode FROM fc_holdout_weekly
                                                  WHERE week <= %(end)s
                                                  GROUP BY stockcode HAVING count(*) >= 2)),
                           %(h)s, NULL, '{80, 95}') f"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    fh.add_arguments(ap)
    a = ap.parse_args()

    if not (a.reuse_weekly and os.path.exists(a.weekly)):
        subprocess.run([sys.executable, os.path.join(fh.ROOT, "bench/retail_weekly.py"), a.weekly], check=True)
    _, codes, index, train, hold = fh.kept_series(a.weekly)
    n = len(codes)
    print(f"{n} products, {fh.N_TRAIN} training weeks to {fh.TRAIN_END}, {fh.H} held out to {fh.HOLD_END}")

    conn = psycopg2.connect(host=a.host, port=a.port, dbname=a.dbname, user=a.user)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS uba")
    cur.execute("DROP TABLE IF EXISTS fc_holdout_weekly; "
                "CREATE TABLE fc_holdout_weekly (stockcode text, week date, units float8)")
    with open(a.weekly) as f:
        cur.copy_expert("COPY fc_holdout_weekly FROM STDIN WITH (FORMAT csv, HEADER)", f)
    cur.execute("VACUUM ANALYZE fc_holdout_weekly")

    forecasts, seconds, bounds = {}, {}, {}

    def collect(name, sql, params):
        t0 = time.perf_counter()
        cur.execute(sql, params)
        rows = cur.fetchall()
        seconds[name] = time.perf_counter() - t0
        F = np.full((n, fh.H), np.nan)
        B = {lv: (np.full((n, fh.H), np.nan), np.full((n, fh.H), np.nan)) for lv in LEVELS}
        for code, step, fc, ts, level, lower, upper in rows:
            assert ts == fh.TRAIN_END + datetime.timedelta(weeks=step), (name, code, step, ts)
            F[index[code], step - 1] = fc
            B[int(level)][0][index[code], step - 1] = lower
            B[int(level)][1][index[code], step - 1] = upper
        assert len(rows) == n * fh.H * len(LEVELS), (name, len(rows))
        forecasts[name] = F
        bounds[name] = B

    for method in ("ets", "auto"):
        opts = json.dumps({"period": "week", "start": str(fh.FIRST), "end": str(fh.TRAIN_END), "method": method})
        collect("uba " + method, PER_SERIES_SQL, {"opts": opts, "end": fh.TRAIN_END, "h": fh.H})
    base = {"method": "boost", "period": "week", "start": str(fh.FIRST), "end": str(fh.TRAIN_END)}
    variants = {
        "boost": base,
        "boost+hol": dict(base, holidays=HOLIDAYS),
        "boost+hol d4": dict(base, holidays=HOLIDAYS,
                             trees={"max_depth": 4, "n_estimators": 300, "learning_rate": 0.05}),
    }
    for name, opts in variants.items():
        collect("uba " + name, GLOBAL_SQL, {"opts": json.dumps(opts), "end": fh.TRAIN_END, "h": fh.H})
    conn.close()

    forecasts["naive"] = np.repeat(train[:, -1:], fh.H, axis=1)
    forecasts["mean"] = np.repeat(train.mean(axis=1, keepdims=True), fh.H, axis=1)
    seconds["naive"] = seconds["mean"] = float("nan")

    res = {}
    print(f"{'method':<18} {'products':>8} {'mean MASE':>10} {'WRMSSE':>8} {'seconds':>9}")
    for name in forecasts:
        res[name] = fh.metrics(forecasts[name], train, hold)
        scored, mase, _, wrmsse, _ = res[name]
        print(f"{name:<18} {scored:>8} {mase:>10.4f} {wrmsse:>8.4f} {seconds[name]:>9.3f}")
    # prediction intervals: how often the held-out weeks fall inside, and how wide they are
    # (mean width over the series' MASE scale, the mean absolute weekly change in training)
    scale = np.abs(np.diff(train, axis=1)).mean(axis=1)
    ok = scale > 0
    print(f"{'intervals':<18} " + " ".join(f"{'cover ' + str(lv):>9} {'width ' + str(lv):>9}" for lv in LEVELS))
    for name in bounds:
        cells = []
        for lv in LEVELS:
            lo, hi = bounds[name][lv]
            inside = (hold >= lo - 1e-9) & (hold <= hi + 1e-9)
            cells.append(f"{100 * inside.mean():>8.1f}% {((hi - lo)[ok] / scale[ok, None]).mean():>9.2f}")
        print(f"{name:<18} " + " ".join(cells))
    for name in variants:
        b, e = res["uba " + name], res["uba ets"]
        print(f"uba {name} / uba ets: MASE {b[1] / e[1]:.4f}, WRMSSE {b[3] / e[3]:.4f}, "
              f"seconds {seconds['uba ' + name] / seconds['uba ets']:.2f}")


if __name__ == "__main__":
    main()
