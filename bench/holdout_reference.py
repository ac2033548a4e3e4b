#!/usr/bin/python3
"""Independent reference for lifetimes' calibration_and_holdout_data on UCI Online Retail.

Written from the definitions of lifetimes (utils.calibration_and_holdout_data and
summary_data_from_transaction_data; no lifetimes or pandas code), so that uba's calibration /
holdout summary and its Fader-Hardie-Lee figure can be checked against the same definitions on
the same data.  Nothing here touches PostgreSQL.

Usage (from the project root):
  /usr/bin/python3 bench/holdout_reference.py [../shared/data/online-retail/online_retail.csv.gz] \\
      > test/data/retail_holdout.csv
  /usr/bin/python3 bench/holdout_reference.py [SRC] -o test/data/retail_holdout.csv   (same file)
  /usr/bin/python3 bench/holdout_reference.py --figure [--holdout test/data/retail_holdout.csv]
      [--params r,alpha,a,b]
  /usr/bin/python3 bench/holdout_reference.py --compare-lines [SRC]

SRC defaults to /work/shared/data/online-retail/online_retail.csv.gz (the project's shared copy,
sha256 317ec0cc...607a0); the bundled data/online_retail.csv.gz (the same lines without
Description) gives a byte-identical CSV.  Columns are found by name.  The CSV goes to stdout
(or -o PATH); the counts and summary numbers go to stderr.  --figure prints the figure table to
stdout instead of writing the CSV (from --holdout CSV if given, else from SRC).

Transactions
------------
* Lines kept: every line whose CustomerID is not empty (an integer, sometimes written "12345.0"),
  cancellations (InvoiceNo "C...") and returns (negative Quantity) included, so amounts can be
  negative -- as uba's README builds its summary: uba_rfm(invoice_date, quantity * unit_price, ...)
  over retail_lines WHERE customer_id IS NOT NULL.  406,829 lines, 4,372 customers.
* Amount of a line = Quantity * UnitPrice in exact decimal arithmetic.  A day's amount is the
  exact decimal sum of its lines; every mean below is computed exactly (fractions) and rounded to
  the nearest double once.  (lifetimes sums doubles; the difference is a few ulps.)
* Date of a line = the calendar date of InvoiceDate as written in the file ("2010-12-01 08:26:00";
  "12/1/2010 8:26" is accepted too): the shop's local date, no time-zone conversion -- what
  invoice_date::date gives for uba's `timestamp` (without time zone) column.  The time of day is
  then dropped.

lifetimes' definitions (freq = 'D': one period = one calendar day)
----------------------------------------------------------------
calibration_and_holdout_data(transactions, ..., calibration_period_end, observation_period_end,
freq='D', monetary_value_col=...) splits the transactions at calibration_period_end (inclusive)
and observation_period_end (inclusive), here 2011-06-30 and 2011-12-09:

* calibration part: summary_data_from_transaction_data of the transactions up to
  calibration_period_end, with observation_period_end = calibration_period_end.  Transactions
  are bucketed into periods (days) per customer; a day with any transaction is one purchase
  period and its monetary value is the SUM of that day's transaction amounts.  Then
    frequency_cal      = number of distinct purchase days - 1 (the repeat purchases);
    recency_cal        = days from the first to the last purchase day (0 when frequency_cal = 0);
    T_cal              = days from the first purchase day to calibration_period_end;
    monetary_value_cal = mean of the per-day sums over the purchase days except the first one
                         (the first purchase is set aside), 0 when frequency_cal = 0.
  Only customers with at least one calibration transaction get a row: the holdout summary is
  LEFT-joined onto the calibration summary, so customers whose first purchase is after
  calibration_period_end are left out.
* holdout part, transactions with calibration_period_end < date <= observation_period_end:
    frequency_holdout      = number of distinct purchase days (every one counts; no "first" here);
    monetary_value_holdout = mean amount of the holdout transactions (see the note below);
    duration_holdout       = periods from calibration_period_end to observation_period_end,
                             162 days;
  customers without a holdout transaction get frequency_holdout = monetary_value_holdout = 0
  (fillna(0) after the join).

This file is what lifetimes returns when it is given ONE TRANSACTION PER CUSTOMER AND DAY --
the day's summed amount, dated at the day (midnight) -- which is what uba computes.  Given the
raw timestamped invoice lines instead, lifetimes differs in two ways, which --compare-lines
measures:
  1. the split compares full timestamps with midnight of the end dates: lines of 2011-06-30
     after 00:00 fall into the holdout (not the calibration), lines of 2011-12-09 after 00:00 are
     dropped from the holdout;
  2. monetary_value_holdout is the mean over the holdout ROWS (here: invoice lines), not over the
     holdout days -- unlike monetary_value_cal, which sums each day first.
For day-level transactions both coincide with the definitions above.

Output: test/data/retail_holdout.csv, header
  customer_id,frequency_cal,recency_cal,t_cal,monetary_value_cal,frequency_holdout,
  monetary_value_holdout,duration_holdout
ordered by customer_id; counts and day numbers as integers, monetary values with repr(float)
(the shortest text that reads back as the same double).

--figure: Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science
24(2), the figure of conditional expectations (lifetimes' plot_calibration_purchases_vs_holdout_
purchases, kind 'frequency_cal', n = 7): BG/NBD fitted by maximum likelihood on (frequency_cal,
recency_cal, T_cal) with bench/btyd_reference.py (its likelihood, optimiser and starts), then per
group of frequency_cal 0, 1, ..., 6 and 7+: customers, mean frequency_holdout, and mean
E[X(duration_holdout) | x = frequency_cal, t_x = recency_cal, T = T_cal] (eq. 10;
btyd_reference.bgnbd_cond_exp).  --params r,alpha,a,b skips the fit.
"""
import argparse
import csv
import datetime
import gzip
import os
import sys
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

DEFAULT_SRC = "/work/shared/data/online-retail/online_retail.csv.gz"
CAL_END = datetime.date(2011, 6, 30)
OBS_END = datetime.date(2011, 12, 9)
HEADER = ["customer_id", "frequency_cal", "recency_cal", "t_cal", "monetary_value_cal",
          "frequency_holdout", "monetary_value_holdout", "duration_holdout"]


def parse_ts(s):
    s = s.strip()
    try:
        return datetime.datetime.fromisoformat(s)
    except ValueError:
        return datetime.datetime.strptime(s, "%m/%d/%Y %H:%M")


def parse_customer(s):
    s = s.strip()
    if not s:
        return None
    d = Decimal(s)
    if d != d.to_integral_value():
        raise SystemExit(f"non-integer CustomerID {s!r}")
    return int(d)


def read_lines(src):
    """Yield (customer_id, invoice timestamp, exact amount) of the lines with a customer."""
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rt", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            cid = parse_customer(r["CustomerID"])
            if cid is None:
                continue
            yield cid, parse_ts(r["InvoiceDate"]), Decimal(r["Quantity"].strip()) * Decimal(r["UnitPrice"].strip())


def mean(values):
    """Exact mean of Decimals, rounded once to a double; 0.0 for no values."""
    if not values:
        return 0.0
    return float(sum((Fraction(v) for v in values), Fraction(0)) / len(values))


def holdout_summary(by_day, cal_end=CAL_END, obs_end=OBS_END):
    """by_day: {customer: {date: Decimal day sum}} -> rows (customer, f_cal, r_cal, T_cal, m_cal, f_h, m_h, dur)."""
    rows = []
    duration = (obs_end - cal_end).days
    for cid in sorted(by_day):
        days = by_day[cid]
        cal = sorted(d for d in days if d <= cal_end)
        if not cal:
            continue  # first purchase after the calibration end: no row (lifetimes' left join)
        hold = sorted(d for d in days if cal_end < d <= obs_end)
        rows.append((cid, len(cal) - 1, (cal[-1] - cal[0]).days, (cal_end - cal[0]).days,
                     mean([days[d] for d in cal[1:]]),
                     len(hold), mean([days[d] for d in hold]), duration))
    return rows


def load(src):
    by_day = defaultdict(lambda: defaultdict(Decimal))
    lines = []
    for cid, ts, amount in read_lines(src):
        by_day[cid][ts.date()] += amount
        lines.append((cid, ts, amount))
    return by_day, lines


def write_csv(rows, out):
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER)
    for cid, f, r, T, m, fh, mh, dur in rows:
        w.writerow([cid, f, r, T, repr(m), fh, repr(mh), dur])


def read_csv(path):
    with open(path, newline="") as f:
        rd = csv.DictReader(f)
        return [(int(r["customer_id"]), int(r["frequency_cal"]), int(r["recency_cal"]), int(r["t_cal"]),
                 float(r["monetary_value_cal"]), int(r["frequency_holdout"]),
                 float(r["monetary_value_holdout"]), int(r["duration_holdout"])) for r in rd]


def describe(rows, nlines=None):
    n = len(rows)
    out = []
    if nlines is not None:
        out.append(f"lines with a customer: {nlines}")
    out += [
        f"customers in the calibration period: {n}",
        f"  with a repeat purchase (frequency_cal > 0): {sum(1 for r in rows if r[1] > 0)}",
        f"  sum frequency_cal: {sum(r[1] for r in rows)}, mean recency_cal: {sum(r[2] for r in rows) / n:.4f}, "
        f"mean T_cal: {sum(r[3] for r in rows) / n:.4f}",
        f"  mean monetary_value_cal (repeat buyers): "
        f"{sum(r[4] for r in rows if r[1] > 0) / max(1, sum(1 for r in rows if r[1] > 0)):.6f}",
        f"  active in the holdout: {sum(1 for r in rows if r[5] > 0)}, sum frequency_holdout: {sum(r[5] for r in rows)}",
        f"  mean monetary_value_holdout (active): "
        f"{sum(r[6] for r in rows if r[5] > 0) / max(1, sum(1 for r in rows if r[5] > 0)):.6f}",
        f"  duration_holdout: {sorted(set(r[7] for r in rows))}",
    ]
    return "\n".join(out)


def compare_lines(by_day, lines):
    """What lifetimes returns from the raw timestamped lines, against the day-level rows."""
    day_rows = {r[0]: r for r in holdout_summary(by_day)}
    cal_cut = datetime.datetime.combine(CAL_END, datetime.time())
    obs_cut = datetime.datetime.combine(OBS_END, datetime.time())
    cal_days = defaultdict(lambda: defaultdict(Decimal))
    hold_lines = defaultdict(list)
    for cid, ts, amount in lines:
        if ts <= cal_cut:
            cal_days[cid][ts.date()] += amount
        elif ts <= obs_cut:
            hold_lines[cid].append((ts.date(), amount))
    raw = {}
    for cid, days in cal_days.items():
        cal = sorted(days)
        hl = hold_lines.get(cid, [])
        raw[cid] = (cid, len(cal) - 1, (cal[-1] - cal[0]).days, (CAL_END - cal[0]).days,
                    mean([days[d] for d in cal[1:]]), len({d for d, _ in hl}), mean([a for _, a in hl]),
                    (OBS_END - CAL_END).days)
    msg = [f"lifetimes on the raw timestamped lines: {len(raw)} customers (day-level: {len(day_rows)})"]
    msg.append(f"  customers only in the day-level file: {len(set(day_rows) - set(raw))}, only in raw: "
               f"{len(set(raw) - set(day_rows))}")
    common = sorted(set(raw) & set(day_rows))
    for i, name in enumerate(HEADER[1:], 1):
        diff = sum(1 for c in common if raw[c][i] != day_rows[c][i])
        msg.append(f"  {name}: {diff} of {len(common)} common customers differ")
    n630 = sum(1 for _, ts, _ in lines if ts.date() == CAL_END)
    n1209 = sum(1 for _, ts, _ in lines if ts.date() == OBS_END)
    msg.append(f"  lines dated 2011-06-30 (moved to the holdout): {n630}; dated 2011-12-09 (dropped): {n1209}")
    return "\n".join(msg)


def figure(rows, params=None, out=sys.stdout):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import numpy as np
    import btyd_reference as br

    x = np.array([r[1] for r in rows], float)
    tx = np.array([r[2] for r in rows], float)
    T = np.array([r[3] for r in rows], float)
    fh = np.array([r[5] for r in rows], float)
    dur = np.array([r[7] for r in rows], float)
    if params is None:
        rng = np.random.default_rng(20240607)
        obj = br.Objective(lambda th: float(np.sum(br.bgnbd_ll(th, x, tx, T))),
                           lambda th: np.sum(br.bgnbd_ll(th, x, tx, T, grad=True)[1], axis=0))
        fit = br.maximize(obj, br.starts_for("bgnbd", float(np.mean(T)), rng), ("r", "alpha", "a", "b"), len(x))
        params = np.array([fit["params"][k] for k in ("r", "alpha", "a", "b")])
        ll = fit["loglik"]
        note = (f" (gradient norm {fit['grad_norm_log_params']:.2g}; "
                f"{fit['optimizer']['starts_within_1e-6_of_best']} of {fit['optimizer']['starts']} starts reach it)")
    else:
        params = np.asarray(params, float)
        ll, note = float(np.sum(br.bgnbd_ll(np.log(params), x, tx, T))), " (given parameters)"
    expected = br.bgnbd_cond_exp(params, dur, x, tx, T)
    print(f"BG/NBD on {len(x)} calibration customers: r = {params[0]:.10g}, alpha = {params[1]:.10g}, "
          f"a = {params[2]:.10g}, b = {params[3]:.10g}, log-likelihood = {ll:.10g}" + note, file=out)
    print(f"holdout: {int(dur[0])} days; E[X(t) | x, t_x, T] (eq. 10) with t = duration_holdout", file=out)
    print(f"{'frequency_cal':>13} {'customers':>9} {'actual':>12} {'expected':>12}", file=out)
    group = np.minimum(x, 7)
    for g in range(8):
        m = group == g
        label = f"{g}+" if g == 7 else str(g)
        print(f"{label:>13} {int(m.sum()):>9} {fh[m].mean():>12.6f} {expected[m].mean():>12.6f}", file=out)
    print(f"{'all':>13} {len(x):>9} {fh.mean():>12.6f} {expected.mean():>12.6f}", file=out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", nargs="?", default=DEFAULT_SRC, help="Online Retail CSV (.gz)")
    ap.add_argument("-o", "--output", help="write the CSV here instead of stdout")
    ap.add_argument("--figure", action="store_true", help="print the BG/NBD figure table instead of the CSV")
    ap.add_argument("--holdout", help="with --figure: read this holdout CSV instead of deriving it from SRC")
    ap.add_argument("--params", help="with --figure: r,alpha,a,b instead of fitting")
    ap.add_argument("--compare-lines", action="store_true",
                    help="report how lifetimes on the raw timestamped lines differs, write nothing")
    args = ap.parse_args(argv)

    if args.figure and args.holdout:
        rows = read_csv(args.holdout)
        print(describe(rows), file=sys.stderr)
    else:
        by_day, lines = load(args.src)
        rows = holdout_summary(by_day)
        print(describe(rows, len(lines)), file=sys.stderr)
        if args.compare_lines:
            print(compare_lines(by_day, lines), file=sys.stderr)
            return 0
    if args.figure:
        figure(rows, [float(v) for v in args.params.split(",")] if args.params else None)
        return 0
    if args.output:
        with open(args.output, "w", newline="") as f:
            write_csv(rows, f)
    else:
        write_csv(rows, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
