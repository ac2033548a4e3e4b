#!/usr/bin/python3
"""Holdout accuracy of demand forecasts on Online Retail's weekly product series: uba beside R.

    /usr/bin/python3 bench/forecast_holdout.py [--host /tmp/pgdev] [--port 5499] [--dbname bench]
        [--user postgres] [--weekly /tmp/uba_retail_weekly.csv] [--reuse-weekly]
        [--workdir /tmp/uba_forecast_holdout]

Data: bench/retail_weekly.py's long table stockcode,week,units (run first, into --weekly, unless
--reuse-weekly): 3,941 products x 54 Monday-weeks, 2010-11-29 .. 2011-12-05, only the non-zero
weeks listed, the others zero.  The last week, 2011-12-05, is partial (the data end on 2011-12-09)
and is left out, leaving 53 full weeks:
  * training: the first 45 weeks, 2010-11-29 .. 2011-10-03;
  * holdout:  the last 8 weeks,   2011-10-10 .. 2011-11-28 (horizon h = 1..8).
Products kept: those with at least 2 non-zero weeks in the training part.

Methods, each forecasting the 8 holdout weeks from the 45 training weeks of every kept product:
  * uba auto, ets, sba, croston: the long table is loaded into the table fc_holdout_weekly of the
    database; one query per method trains every product (GROUP BY stockcode, training rows only,
    HAVING count(*) >= 2, options {"period": "week", "start": "2010-11-29", "end": "2011-10-03",
    "method": ...}, so each series spans the 45 weeks, zero-filled) and forecasts with
    uba_forecast(m, 8); seconds = wall clock of that one query, rows fetched (run once).
    Afterwards, untimed, uba_forecast_info gives the forms auto and ets chose.
  * R ets, R croston: bench/forecast_holdout.R (via Rscript, on a CSV of the same 45-week series
    written here): ets(ts(y, frequency = 52)) (the season is ignored at frequency 52; the warning
    silenced) then forecast(fit, h = 8), and croston(y, h = 8, alpha = 0.1); seconds = the
    elapsed time of R's loop of fits and forecasts (R startup and file I/O excluded).
  * naive (the last training week's units) and mean (the mean of the 45 training weeks), in numpy.
Forecasts are scored as they come (negative ones are not clipped at 0; their count is printed).

Metrics, per method, over the kept products (y = holdout units, f = forecast, t = training week):
  * mean MASE: MASE_i = mean_h |y - f| / s_i, s_i = mean_t |y_t - y_{t-1}| over the 45 training
    weeks (44 differences, leading zeros included); products with s_i = 0 are left out (count
    printed).
  * WRMSSE (as the M5 competition's, at the product level only): RMSSE_i =
    sqrt(mean_h (y - f)^2 / mean_t (y_t - y_{t-1})^2) over the same 45 weeks; weight w_i = the
    product's share of the units sold in the last 4 training weeks (2011-09-12 .. 2011-10-03)
    over the products with a non-zero scale (which are the only ones scored).  M5 weighted by
    dollar sales over the last 28 days and scaled from each series' first sale; the weekly file
    has no price, so units are used, and the scale covers all 45 weeks, as the methods see them.
    WRMSSE = sum_i w_i RMSSE_i.
Prints a table (method, products, mean MASE, WRMSSE, seconds), the ratios uba-ets / R-ets and
uba-croston / R-croston for MASE, WRMSSE and seconds, the forms chosen, and how often uba's and R's
ETS chose the same form.  Needs ../shared/data/online-retail (or retail_weekly.py's input) and
Rscript with forecast 8.20.
"""
import argparse
import collections
import csv
import datetime
import os
import re
import subprocess
import sys
import time

import numpy as np
import psycopg2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRST = datetime.date(2010, 11, 29)
N_TRAIN, H, WEIGHT_WEEKS = 45, 8, 4
TRAIN_END = FIRST + datetime.timedelta(weeks=N_TRAIN - 1)       # 2011-10-03
HOLD_END = FIRST + datetime.timedelta(weeks=N_TRAIN + H - 1)     # 2011-11-28
UBA_METHODS = ("auto", "ets", "sba", "croston")

FORECAST_SQL = """
SELECT s.stockcode, f.step, f.forecast, f.ts::date FROM (
  SELECT stockcode, uba_forecast_train(week, units, %(opts)s::jsonb) AS m
    FROM fc_holdout_weekly WHERE week <= %(end)s
   GROUP BY stockcode HAVING count(*) >= 2) s,
  uba_forecast(s.m, %(h)s) f"""
FORM_SQL = """
SELECT stockcode, (uba_forecast_info(uba_forecast_train(week, units, %(opts)s::jsonb))).form
  FROM fc_holdout_weekly WHERE week <= %(end)s
 GROUP BY stockcode HAVING count(*) >= 2"""


def load_weekly(path):
    """Dense (codes, matrix products x 53 full weeks) from the long table."""
    rows = collections.defaultdict(dict)
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rows[r["stockcode"]][datetime.date.fromisoformat(r["week"])] = float(r["units"])
    codes = sorted(rows, key=lambda s: s.encode("utf-8"))
    nweeks = N_TRAIN + H
    Y = np.zeros((len(codes), nweeks))
    for i, c in enumerate(codes):
        for w, u in rows[c].items():
            k = (w - FIRST).days // 7
            if k < nweeks:
                Y[i, k] = u
    return codes, Y


def kept_series(path):
    """The products with at least 2 non-zero training weeks: (codes_all, codes, index, train, hold)."""
    codes_all, Y = load_weekly(path)
    keep = (Y[:, :N_TRAIN] > 0).sum(axis=1) >= 2
    codes = [c for c, k in zip(codes_all, keep) if k]
    return codes_all, codes, {c: i for i, c in enumerate(codes)}, Y[keep, :N_TRAIN], Y[keep, N_TRAIN:]


def metrics(F, train, hold):
    """(products scored, mean MASE, products with zero MASE scale, WRMSSE, zero RMSSE scales)."""
    ok = ~np.isnan(F).any(axis=1)
    d = np.diff(train, axis=1)
    s1, s2 = np.abs(d).mean(axis=1), (d ** 2).mean(axis=1)
    m1, m2 = ok & (s1 > 0), ok & (s2 > 0)
    mase = (np.abs(hold - F).mean(axis=1)[m1] / s1[m1]).mean()
    rmsse = np.sqrt(((hold - F) ** 2).mean(axis=1)[m2] / s2[m2])
    w = train[m2, -WEIGHT_WEEKS:].sum(axis=1)
    wrmsse = float((w / w.sum() * rmsse).sum())
    return int(ok.sum()), float(mase), int((ok & (s1 == 0)).sum()), wrmsse, int((ok & (s2 == 0)).sum())


def add_arguments(ap):
    """The database and weekly file arguments the forecast benchmarks share."""
    ap.add_argument("--host", default="/tmp/pgdev")
    ap.add_argument("--port", default="5499")
    ap.add_argument("--dbname", default="bench")
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--weekly", default="/tmp/uba_retail_weekly.csv")
    ap.add_argument("--reuse-weekly", action="store_true", help="do not rerun retail_weekly.py")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(ap)
    ap.add_argument("--workdir", default="/tmp/uba_forecast_holdout")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)

    if not (a.reuse_weekly and os.path.exists(a.weekly)):
        subprocess.run([sys.executable, os.path.join(ROOT, "bench/retail_weekly.py"), a.weekly], check=True)
    codes_all, codes, index, train, hold = kept_series(a.weekly)
    n = len(codes)
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[0]
    print(f"{len(codes_all)} products; {n} with >= 2 non-zero training weeks; training "
          f"{FIRST} .. {TRAIN_END} ({N_TRAIN} weeks), holdout {TRAIN_END + datetime.timedelta(weeks=1)}"
          f" .. {HOLD_END} ({H} weeks); week 2011-12-05 (partial) left out")
    print(f"zero weeks: {100 * (train == 0).mean():.1f} % of training, {100 * (hold == 0).mean():.1f} % of holdout")

    forecasts, seconds, forms = {}, {}, {}

    # uba
    conn = psycopg2.connect(host=a.host, port=a.port, dbname=a.dbname, user=a.user)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS uba")
    cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'uba'")
    uba_version = cur.fetchone()[0]
    cur.execute("DROP TABLE IF EXISTS fc_holdout_weekly; "
                "CREATE TABLE fc_holdout_weekly (stockcode text, week date, units float8)")
    with open(a.weekly) as f:
        cur.copy_expert("COPY fc_holdout_weekly FROM STDIN WITH (FORMAT csv, HEADER)", f)
    cur.execute("VACUUM ANALYZE fc_holdout_weekly")
    for method in UBA_METHODS:
        opts = ('{"period": "week", "start": "%s", "end": "%s", "method": "%s"}'
                % (FIRST, TRAIN_END, method))
        t0 = time.perf_counter()
        cur.execute(FORECAST_SQL, {"opts": opts, "end": TRAIN_END, "h": H})
        rows = cur.fetchall()
        seconds["uba " + method] = time.perf_counter() - t0
        F = np.full((n, H), np.nan)
        for code, step, fc, ts in rows:
            assert ts == TRAIN_END + datetime.timedelta(weeks=step), (code, step, ts)
            F[index[code], step - 1] = fc
        assert len(rows) == n * H, (method, len(rows))
        forecasts["uba " + method] = F
        if method in ("auto", "ets"):
            cur.execute(FORM_SQL, {"opts": opts, "end": TRAIN_END})
            forms["uba " + method] = dict(cur.fetchall())
    conn.close()

    # R
    train_csv = os.path.join(a.workdir, "train.csv")
    r_csv = os.path.join(a.workdir, "r_forecasts.csv")
    with open(train_csv, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["stockcode"] + [f"w{k + 1}" for k in range(N_TRAIN)])
        for c, y in zip(codes, train):
            w.writerow([c] + [f"{v:g}" for v in y])
    t0 = time.perf_counter()
    out = subprocess.run(["Rscript", os.path.join(ROOT, "bench/forecast_holdout.R"), train_csv, r_csv, str(H)],
                         check=True, capture_output=True, text=True).stdout
    r_wall = time.perf_counter() - t0
    print(out.strip())
    for m in re.finditer(r"^R (\w+): \d+ series, ([0-9.]+) s", out, re.M):
        seconds["R " + m.group(1)] = float(m.group(2))
    for name in ("R ets", "R croston"):
        forecasts[name] = np.full((n, H), np.nan)
    forms["R ets"] = {}
    with open(r_csv, newline="") as f:
        for r in csv.DictReader(f):
            name = "R " + r["method"]
            if r["forecast"] != "NA":
                forecasts[name][index[r["stockcode"]], int(r["step"]) - 1] = float(r["forecast"])
            if name == "R ets":
                forms[name][r["stockcode"]] = r["form"]

    # baselines
    t0 = time.perf_counter()
    forecasts["naive"] = np.repeat(train[:, -1:], H, axis=1)
    seconds["naive"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    forecasts["mean"] = np.repeat(train.mean(axis=1, keepdims=True), H, axis=1)
    seconds["mean"] = time.perf_counter() - t0

    # table
    order = ["uba auto", "uba ets", "R ets", "uba sba", "uba croston", "R croston", "naive", "mean"]
    res = {}
    print(f"\nuba {uba_version}; load average before: {load_before}; Rscript wall clock "
          f"(startup, I/O, both methods): {r_wall:.1f} s")
    print(f"{'method':<12} {'products':>8} {'mean MASE':>10} {'WRMSSE':>8} {'seconds':>9} {'neg. fc':>8}")
    for name in order:
        F = forecasts[name]
        res[name] = metrics(F, train, hold)
        scored, mase, _, wrmsse, _ = res[name]
        neg = int((np.nan_to_num(F) < 0).any(axis=1).sum())
        print(f"{name:<12} {scored:>8} {mase:>10.4f} {wrmsse:>8.4f} {seconds[name]:>9.3f} {neg:>8}")
    _, _, z1, _, z2 = res["naive"]
    print(f"left out for a zero scale: {z1} products (MASE), {z2} (RMSSE); 'neg. fc': products with a "
          f"forecast below 0")
    print(f"WRMSSE weights: units of {TRAIN_END - datetime.timedelta(weeks=WEIGHT_WEEKS - 1)} .. {TRAIN_END} "
          f"(no price in the weekly file, so units, not M5's dollars)")
    for u, r in (("uba ets", "R ets"), ("uba croston", "R croston")):
        print(f"{u} / {r}: MASE {res[u][1] / res[r][1]:.4f}, WRMSSE {res[u][3] / res[r][3]:.4f}, "
              f"seconds {seconds[u] / seconds[r]:.4f} ({seconds[r] / seconds[u]:.1f}x faster)")
    d = np.abs(forecasts["uba croston"] - forecasts["R croston"])
    print(f"uba croston vs R croston: max |difference| of forecasts {np.nanmax(d):.3g}")

    # forms
    for name in ("uba auto", "uba ets", "R ets"):
        cnt = collections.Counter(forms[name].values())
        print(f"forms, {name}: " + ", ".join(f"{k} {v}" for k, v in cnt.most_common()))
    same = [c for c in codes if forms["uba ets"][c] == forms["R ets"][c]]
    print(f"uba ets and R ets chose the same form for {len(same)} of {n} products")
    same_set = set(same)
    sel = np.array([c in same_set for c in codes])
    dsame = np.abs(forecasts["uba ets"][sel] - forecasts["R ets"][sel]).max(axis=1)
    print(f"  where the same: median max |forecast difference| {np.median(dsame):.3g}, "
          f"{int((dsame > 0.01 * np.maximum(1, np.abs(forecasts['R ets'][sel]).max(axis=1))).sum())} "
          f"products differ by more than 1 %")
    for part, m in (("same form", sel), ("different form", ~sel)):
        mu = metrics(forecasts["uba ets"][m], train[m], hold[m])
        mr = metrics(forecasts["R ets"][m], train[m], hold[m])
        print(f"  {part} ({int(m.sum())}): MASE uba {mu[1]:.4f} R {mr[1]:.4f}; "
              f"WRMSSE (weights within the part) uba {mu[3]:.4f} R {mr[3]:.4f}")


if __name__ == "__main__":
    main()
