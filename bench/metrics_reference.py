#!/usr/bin/python3
"""Reference values of evaluation metrics from scikit-learn, for test/metrics_sklearn.sql.

Reads test/data/shoppers_scores.csv (one row per session of the UCI "Online
Shoppers Purchasing Intention" data, see test/data/README.md), computes the
metrics below with scikit-learn and writes test/data/metrics_reference.csv
(columns case,metric,value; value is repr(float), so it round-trips exactly
through float8 input).  The values are printed as well.

Cases (argument order of the uba aggregates is (predicted, actual); here
y_true = actual, y_pred = predicted):

  classification, positive label true; metrics f1, precision, recall,
  accuracy, mcc and the confusion-matrix counts tp, fp, tn, fn:
    pv_positive              predicted = page_values > 0,   actual = revenue
    exit_low                 predicted = exit_rates < 0.02, actual = revenue
    weekend_only             as pv_positive, rows with weekend = true only
    no_positive_predictions  predicted = false everywhere,  actual = revenue
                             (f1, precision, recall, accuracy, mcc only;
                             zero division gives scikit-learn's default 0.0)
  regression; metrics rmse = sqrt(mean_squared_error), mae, r2:
    duration_linear          actual = product_related_duration,
                             predicted = 35.0 * product_related
    duration_pv              actual = page_values,
                             predicted = 0.5 * exit_rates * 1000

The predictions are computed in float64 as SQL computes them in the test:
35.0::float8 * product_related::float8, and (0.5 * exit_rates) * 1000.0
left to right.

Usage (from the project root):
  /usr/bin/python3 bench/metrics_reference.py
  /usr/bin/python3 bench/metrics_reference.py --derive ../shared/data/online-shoppers-intention/online_shoppers_intention.csv
      # first (re)write test/data/shoppers_scores.csv from the UCI file
"""
import argparse
import csv
import math
import os
import sys
import warnings

import numpy as np
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score,
                             matthews_corrcoef, mean_absolute_error,
                             mean_squared_error, precision_score, r2_score,
                             recall_score)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "test", "data")
SCORES = os.path.join(DATA, "shoppers_scores.csv")
REFERENCE = os.path.join(DATA, "metrics_reference.csv")

COLUMNS = ["session", "month", "visitor_type", "weekend", "product_related",
           "product_related_duration", "page_values", "exit_rates", "revenue"]
N_SESSIONS = 12330


def parse_bool(s):
    if s in ("TRUE", "true"):
        return True
    if s in ("FALSE", "false"):
        return False
    raise ValueError("not a boolean: %r" % s)


def derive(source, target):
    """One row per session of the UCI file, in file order."""
    with open(source, newline="") as f:
        rows = list(csv.DictReader(f))
    if len(rows) != N_SESSIONS:
        sys.exit("%s: %d sessions, expected %d" % (source, len(rows), N_SESSIONS))
    with open(target, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for i, r in enumerate(rows, 1):
            w.writerow([
                i,
                r["Month"],
                r["VisitorType"],
                "true" if parse_bool(r["Weekend"]) else "false",
                int(r["ProductRelated"]),
                repr(float(r["ProductRelated_Duration"])),
                repr(float(r["PageValues"])),
                repr(float(r["ExitRates"])),
                "true" if parse_bool(r["Revenue"]) else "false",
            ])
    print("wrote %s (%d sessions)" % (os.path.relpath(target), len(rows)))


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if [int(r["session"]) for r in rows] != list(range(1, N_SESSIONS + 1)):
        sys.exit("%s: expected sessions 1..%d in order" % (path, N_SESSIONS))
    d = {
        "weekend": np.array([parse_bool(r["weekend"]) for r in rows]),
        "product_related": np.array([int(r["product_related"]) for r in rows], dtype=np.int64),
        "product_related_duration": np.array([float(r["product_related_duration"]) for r in rows]),
        "page_values": np.array([float(r["page_values"]) for r in rows]),
        "exit_rates": np.array([float(r["exit_rates"]) for r in rows]),
        "revenue": np.array([parse_bool(r["revenue"]) for r in rows]),
    }
    return d


def classification(predicted, actual, counts=True):
    predicted = np.asarray(predicted, dtype=bool)
    actual = np.asarray(actual, dtype=bool)
    with warnings.catch_warnings():
        # zero division (no positive predictions): scikit-learn returns 0.0 and warns
        warnings.simplefilter("ignore")
        out = [
            ("f1", float(f1_score(actual, predicted))),
            ("precision", float(precision_score(actual, predicted))),
            ("recall", float(recall_score(actual, predicted))),
            ("accuracy", float(accuracy_score(actual, predicted))),
            ("mcc", float(matthews_corrcoef(actual, predicted))),
        ]
    if counts:
        tn, fp, fn, tp = confusion_matrix(actual, predicted, labels=[False, True]).ravel()
        out += [("tp", float(tp)), ("fp", float(fp)), ("tn", float(tn)), ("fn", float(fn))]
    return out


def regression(predicted, actual):
    predicted = np.asarray(predicted, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    return [
        ("rmse", float(math.sqrt(mean_squared_error(actual, predicted)))),
        ("mae", float(mean_absolute_error(actual, predicted))),
        ("r2", float(r2_score(actual, predicted))),
    ]


def cases(d):
    revenue = d["revenue"]
    weekend = d["weekend"]
    # as SQL: 35.0::float8 * product_related::float8
    linear = np.float64(35.0) * d["product_related"].astype(np.float64)
    # as SQL: (0.5 * exit_rates) * 1000, left to right, in float8
    pv = (np.float64(0.5) * d["exit_rates"]) * np.float64(1000.0)
    return [
        ("pv_positive", classification(d["page_values"] > 0, revenue)),
        ("exit_low", classification(d["exit_rates"] < 0.02, revenue)),
        ("weekend_only", classification(d["page_values"][weekend] > 0, revenue[weekend])),
        ("no_positive_predictions",
         classification(np.zeros(len(revenue), dtype=bool), revenue, counts=False)),
        ("duration_linear", regression(linear, d["product_related_duration"])),
        ("duration_pv", regression(pv, d["page_values"])),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--derive", metavar="UCI_CSV",
                    help="first write test/data/shoppers_scores.csv from online_shoppers_intention.csv")
    ap.add_argument("--scores", default=SCORES, help="input (default test/data/shoppers_scores.csv)")
    ap.add_argument("--out", default=REFERENCE, help="output (default test/data/metrics_reference.csv)")
    args = ap.parse_args()

    if args.derive:
        derive(args.derive, args.scores)
    d = load(args.scores)
    results = cases(d)

    with open(args.out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "metric", "value"])
        for case, metrics in results:
            for metric, value in metrics:
                w.writerow([case, metric, repr(value)])
    n = sum(len(m) for _, m in results)
    for case, metrics in results:
        for metric, value in metrics:
            print("%-24s %-10s %r" % (case, metric, value))
    print("wrote %s (%d values)" % (os.path.relpath(args.out), n))


if __name__ == "__main__":
    main()
