#!/usr/bin/python3
"""Reference Gaussian mixtures from scikit-learn, for uba_gmm_train, checked against an independent EM.

    /usr/bin/python3 bench/gmm_reference.py [--out test/data/gmm_reference.csv]
        [--points test/data/gmm_points.csv]
    /usr/bin/python3 bench/gmm_reference.py --check
        [--dsn "host=/tmp/pgdev port=5499 dbname=bench user=postgres"]

Data sets (features written to --points, one row per data set and point: dataset, row (1-based,
file order), features (an array literal "{x1,x2,...}" of Python repr()s, so ::float8[] reads
exactly the doubles used here)):
  * wholesale: the six spend columns of test/data/wholesale.csv, ln(1 + x) (440 x 6);
  * retail: test/data/retail_rfm.csv, [ln(1 + recency), ln(1 + frequency),
    ln(1 + max(monetary, 0))] (4,338 x 3).
Not standardized: uba is given them as they are, without "standardize".

Cases (case: data set, k, covariance_type): wholesale_full, wholesale_diag, wholesale_spherical,
wholesale_tied (k 3); retail_full, retail_diag (k 4).  The start of every case is fixed: the
initial means are the first k distinct rows of the data set in file order (rows 1..k when those
are distinct, as they are here; the rows used are written as kind init_rows); every row is given
responsibility 1 for its nearest initial mean (squared euclidean distance, ties to the lower
index), and the initial parameters come from those hard responsibilities exactly as
scikit-learn's _initialize makes them (_estimate_gaussian_parameters with reg_covar 1e-6, weights
nk / n, _compute_precision_cholesky).  scikit-learn 1.2 is then fitted from that start:
GaussianMixture(k, covariance_type, weights_init, means_init, precisions_init (the precisions
P = U U^T of the Cholesky factors U, or U^2 for diag and spherical), tol 1e-3, max_iter 100,
reg_covar 1e-6); its loop begins with an E-step on those parameters.  uba_gmm_train with
{"init_means": ..., "covariance_type": ...} begins with the M-step on the same hard
responsibilities and then runs the same loop: the same start.

The reference is checked before it is written: an EM written here in plain numpy (its own
densities from Cholesky factors of the covariances, covariances about each component's mean,
its own logsumexp), started from the M-step on the hard responsibilities as uba starts, must give
scikit-learn's n_iter_ and lower_bound_ within 1e-10, and its weights and means within 1e-8.

Written to --out: case, kind, idx, value.  Kinds (idx; components c, features j and rows i are
1-based):
  init_rows (c: the data set's row used as initial mean c), init_means ((c - 1) d + j: the
  means to pass as "init_means", in input units), lower_bound (0: lower_bound_, the mean
  log-likelihood of the last E-step), log_likelihood (0: score(X), the final parameters' mean
  log-likelihood), bic (0), aic (0), n_iter (0), converged (0: 1 or 0), weight (c), mean
  ((c - 1) d + j), score (i = 1..20: score_samples, log p(x)), proba ((i - 1) k + c for
  i = 1..5: predict_proba), predict (i = 1..20: predict + 1, uba's 1-based component).

Printed per case: the start's rows, n_iter, converged, lower bound, and how far the independent
EM is from scikit-learn.  The smallest margin of the hard assignment (over rows, the second
nearest initial mean's squared distance minus the nearest's, relative to the second nearest's)
shows that no rounding can send a row to another initial mean.

--check trains uba on the same cases through SQL (psycopg2; nothing is created in the database:
the points go as a text[] parameter, fed to the aggregate in file order) and prints per case the
largest absolute and relative differences from the reference file for the lower bound, the
log-likelihood, BIC, weights, means, scores and probabilities, the agreement of predict on rows
1..20 and on every row (against scikit-learn refitted here), and n_iter.
"""
import argparse
import csv
import json
import os
import sys

import numpy as np
from scipy import linalg
from sklearn.mixture import GaussianMixture
from sklearn.mixture._gaussian_mixture import (_compute_precision_cholesky,
                                               _estimate_gaussian_parameters)

from benchlib import log_features

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "test", "data")
TOL = 1e-3
MAX_ITER = 100
REG_COVAR = 1e-6
N_SCORE = 20        # rows with score and predict written
N_PROBA = 5         # rows with proba written

# (case, data set, k, covariance_type)
CASES = [
    ("wholesale_full", "wholesale", 3, "full"),
    ("wholesale_diag", "wholesale", 3, "diag"),
    ("wholesale_spherical", "wholesale", 3, "spherical"),
    ("wholesale_tied", "wholesale", 3, "tied"),
    ("retail_full", "retail", 4, "full"),
    ("retail_diag", "retail", 4, "diag"),
]


def datasets():
    """{name: feature matrix}, rows in file order, as written to the points file"""
    return {"wholesale": log_features("wholesale"), "retail": log_features("retail")}


def first_distinct_rows(X, k):
    """Indices (0-based) of the first k distinct rows, in file order"""
    rows = []
    for i in range(X.shape[0]):
        if not any(np.array_equal(X[i], X[j]) for j in rows):
            rows.append(i)
            if len(rows) == k:
                return rows
    raise ValueError(f"fewer than {k} distinct rows")


def hard_responsibilities(X, means):
    """Each row all in its nearest mean (squared euclidean, ties to the lower index), and the
    smallest margin, over rows, between the nearest and the second nearest squared distance,
    relative to the second nearest"""
    D = ((X[:, None, :] - means[None, :, :]) ** 2).sum(axis=2)
    best = np.argmin(D, axis=1)             # the first of equal minima: the lower index
    resp = np.zeros_like(D)
    resp[np.arange(X.shape[0]), best] = 1.0
    Ds = np.sort(D, axis=1)
    margin = np.min((Ds[:, 1] - Ds[:, 0]) / Ds[:, 1])
    return resp, margin


def sklearn_start(X, resp, cov):
    """weights, means, precisions_init as scikit-learn's _initialize makes them from resp"""
    weights, means, covariances = _estimate_gaussian_parameters(X, resp, REG_COVAR, cov)
    weights /= X.shape[0]
    U = _compute_precision_cholesky(covariances, cov)
    if cov == "full":
        precisions = np.array([u @ u.T for u in U])
    elif cov == "tied":
        precisions = U @ U.T
    else:
        precisions = U ** 2
    return weights, means, precisions


def fit_sklearn(X, k, cov, resp):
    weights, means, precisions = sklearn_start(X, resp, cov)
    gm = GaussianMixture(n_components=k, covariance_type=cov, weights_init=weights,
                         means_init=means, precisions_init=precisions, tol=TOL,
                         max_iter=MAX_ITER, reg_covar=REG_COVAR)
    return gm.fit(X)


# --- an independent EM, plain numpy --------------------------------------------------------

def own_m_step(X, resp, cov):
    n, d = X.shape
    nk = resp.sum(axis=0) + 10 * np.finfo(float).eps
    means = (resp.T @ X) / nk[:, None]
    k = means.shape[0]
    if cov in ("full", "tied"):
        S = np.empty((k, d, d))
        for c in range(k):
            Z = X - means[c]
            S[c] = (resp[:, c, None] * Z).T @ Z
        covs = S / nk[:, None, None] if cov == "full" else np.repeat(S.sum(axis=0)[None] / nk.sum(), k, axis=0)
        covs = covs + REG_COVAR * np.eye(d)
    else:
        var = np.array([(resp[:, c, None] * (X - means[c]) ** 2).sum(axis=0) / nk[c]
                        for c in range(k)]) + REG_COVAR
        if cov == "spherical":
            var = np.repeat(var.mean(axis=1)[:, None], d, axis=1)
        covs = np.array([np.diag(v) for v in var])
    return nk / nk.sum(), means, covs


def own_log_weighted(X, weights, means, covs):
    """n x k log(weight) + log N(x | mean, cov), from Cholesky factors of the covariances"""
    n, d = X.shape
    out = np.empty((n, len(weights)))
    for c in range(len(weights)):
        L = np.linalg.cholesky(covs[c])
        z = linalg.solve_triangular(L, (X - means[c]).T, lower=True)
        out[:, c] = (np.log(weights[c]) - 0.5 * (d * np.log(2 * np.pi) + (z * z).sum(axis=0))
                     - np.log(np.diag(L)).sum())
    return out


def own_logsumexp(a):
    m = a.max(axis=1)
    return m + np.log(np.exp(a - m[:, None]).sum(axis=1))


def own_em(X, resp0, cov):
    """uba's order: M-step on the hard responsibilities, then E-step, M-step until the mean
    log-likelihood moves by less than TOL; the lower bound is the last E-step's"""
    params = own_m_step(X, resp0, cov)
    lb = -np.inf
    for it in range(1, MAX_ITER + 1):
        prev = lb
        lw = own_log_weighted(X, *params)
        lp = own_logsumexp(lw)
        lb = lp.mean()
        params = own_m_step(X, np.exp(lw - lp[:, None]), cov)
        if abs(lb - prev) < TOL:
            return params, lb, it, True
    return params, lb, MAX_ITER, False


# --- the reference ---------------------------------------------------------------------------

def run_case(X, k, cov):
    """The start and scikit-learn's fit of one case, checked against the independent EM"""
    rows = first_distinct_rows(X, k)
    init = X[rows]
    resp, margin = hard_responsibilities(X, init)
    gm = fit_sklearn(X, k, cov, resp)
    (w, mu, _), lb, it, conv = own_em(X, resp, cov)
    own = {"lb": abs(lb - gm.lower_bound_), "weights": np.max(np.abs(w - gm.weights_)),
           "means": np.max(np.abs(mu - gm.means_)), "n_iter": it - gm.n_iter_}
    return rows, init, margin, gm, own, conv


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(DATA, "gmm_reference.csv"))
    ap.add_argument("--points", default=os.path.join(DATA, "gmm_points.csv"))
    ap.add_argument("--check", action="store_true",
                    help="train uba on the cases in SQL and compare with --out (written before)")
    ap.add_argument("--dsn", default="host=/tmp/pgdev port=5499 dbname=bench user=postgres")
    a = ap.parse_args()
    if a.check:
        sys.exit(check(a))
    data = datasets()
    with open(a.points, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["dataset", "row", "features"])
        for name, X in data.items():
            for i, x in enumerate(X):
                w.writerow([name, i + 1, "{" + ",".join(repr(float(v)) for v in x) + "}"])
    print(f"wrote {a.points}")
    print(f"{'case':<20} {'rows':<10} {'margin':>8} {'n_iter':>6} {'conv':>4} {'lower bound':>22} "
          f"{'own EM: lb':>10} {'weights':>8} {'means':>8} {'n_iter':>6}")
    bad = []
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "kind", "idx", "value"])
        for case, dataset, k, cov in CASES:
            X = data[dataset]
            d = X.shape[1]
            rows, init, margin, gm, own, own_conv = run_case(X, k, cov)
            if (own["lb"] > 1e-10 or own["weights"] > 1e-8 or own["means"] > 1e-8
                    or own["n_iter"] != 0 or own_conv != gm.converged_):
                bad.append(case)
            for c, i in enumerate(rows):
                w.writerow([case, "init_rows", c + 1, i + 1])
            for c in range(k):
                for j in range(d):
                    w.writerow([case, "init_means", c * d + j + 1, repr(float(init[c, j]))])
            w.writerow([case, "lower_bound", 0, repr(float(gm.lower_bound_))])
            w.writerow([case, "log_likelihood", 0, repr(float(gm.score(X)))])
            w.writerow([case, "bic", 0, repr(float(gm.bic(X)))])
            w.writerow([case, "aic", 0, repr(float(gm.aic(X)))])
            w.writerow([case, "n_iter", 0, int(gm.n_iter_)])
            w.writerow([case, "converged", 0, int(gm.converged_)])
            for c in range(k):
                w.writerow([case, "weight", c + 1, repr(float(gm.weights_[c]))])
            for c in range(k):
                for j in range(d):
                    w.writerow([case, "mean", c * d + j + 1, repr(float(gm.means_[c, j]))])
            for i, s in enumerate(gm.score_samples(X[:N_SCORE])):
                w.writerow([case, "score", i + 1, repr(float(s))])
            P = gm.predict_proba(X[:N_PROBA])
            for i in range(N_PROBA):
                for c in range(k):
                    w.writerow([case, "proba", i * k + c + 1, repr(float(P[i, c]))])
            for i, c in enumerate(gm.predict(X[:N_SCORE])):
                w.writerow([case, "predict", i + 1, int(c) + 1])
            print(f"{case:<20} {','.join(str(i + 1) for i in rows):<10} {margin:>8.1e} "
                  f"{gm.n_iter_:>6} {str(gm.converged_):>4} {gm.lower_bound_!r:>22} "
                  f"{own['lb']:>10.1e} {own['weights']:>8.1e} {own['means']:>8.1e} {own['n_iter']:>6}")
    print(f"wrote {a.out}")
    if bad:
        print(f"the independent EM disagrees with scikit-learn: {', '.join(bad)}", file=sys.stderr)
        sys.exit(1)


# --- uba through SQL -------------------------------------------------------------------------

def read_reference(path):
    """{case: {kind: {idx: value}}}"""
    ref = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            ref.setdefault(r["case"], {}).setdefault(r["kind"], {})[int(r["idx"])] = float(r["value"])
    return ref


def read_points(path):
    """{dataset: [array literal, ...]} in row order"""
    pts = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            pts.setdefault(r["dataset"], []).append((int(r["row"]), r["features"]))
    return {name: [lit for _, lit in sorted(rows)] for name, rows in pts.items()}


def diff(uba, ref):
    """largest absolute and relative differences of two equal-length sequences"""
    u, r = np.asarray(uba, dtype=float), np.asarray(ref, dtype=float)
    ad = np.abs(u - r)
    return float(ad.max()), float((ad / np.maximum(np.abs(r), np.finfo(float).tiny)).max())


def check(a):
    import psycopg2

    ref = read_reference(a.out)
    pts = read_points(a.points)
    data = datasets()
    conn = psycopg2.connect(a.dsn)
    conn.autocommit = True
    cur = conn.cursor()
    train = ("SELECT uba_gmm_train(f::float8[], %s, %s::jsonb ORDER BY i) "
             "FROM unnest(%s::text[]) WITH ORDINALITY AS u(f, i)")
    print(f"{'case':<20} {'quantity':<15} {'max abs':>9} {'max rel':>9}")
    worst = 0.0
    for case, dataset, k, cov in CASES:
        R = ref[case]
        X = data[dataset]
        d = X.shape[1]
        lits = pts[dataset]
        assert np.array_equal(np.array([json.loads("[" + s[1:-1] + "]") for s in lits]), X)
        init = [[R["init_means"][c * d + j + 1] for j in range(d)] for c in range(k)]
        opts = {"covariance_type": cov, "init_means": init, "tol": TOL, "max_iter": MAX_ITER,
                "reg_covar": REG_COVAR}
        # json.dumps writes floats with repr(): the jsonb numbers are the same doubles
        cur.execute(train, (k, json.dumps(opts), lits))
        model = cur.fetchone()[0]
        cur.execute("SELECT uba_model_info(%s)", (model,))
        info = cur.fetchone()[0]
        cur.execute("SELECT weight, mean FROM uba_gmm_components(%s) ORDER BY component", (model,))
        comps = cur.fetchall()
        sample = lits[:N_SCORE]
        cur.execute("SELECT uba_gmm_score(%s, f::float8[]), uba_gmm_predict(%s, f::float8[]), "
                    "uba_gmm_proba(%s, f::float8[]) FROM unnest(%s::text[]) WITH ORDINALITY AS u(f, i) "
                    "ORDER BY i", (model, model, model, sample))
        rows = cur.fetchall()
        cur.execute("SELECT array_agg(uba_gmm_predict(%s, f::float8[]) ORDER BY i) "
                    "FROM unnest(%s::text[]) WITH ORDINALITY AS u(f, i)", (model, lits))
        pred_all = np.array(cur.fetchone()[0])
        # every row's component, against scikit-learn refitted from the same start
        resp, _ = hard_responsibilities(X, X[[int(R["init_rows"][c + 1]) - 1 for c in range(k)]])
        sk_all = fit_sklearn(X, k, cov, resp).predict(X) + 1

        out = [
            ("lower_bound", diff([info["lower_bound"]], [R["lower_bound"][0]])),
            ("log_likelihood", diff([info["log_likelihood"]], [R["log_likelihood"][0]])),
            ("bic", diff([info["bic"]], [R["bic"][0]])),
            ("aic", diff([info["aic"]], [R["aic"][0]])),
            ("weights", diff([w for w, _ in comps], [R["weight"][c + 1] for c in range(k)])),
            ("means", diff([m for _, m in comps for m in m],
                           [R["mean"][i + 1] for i in range(k * d)])),
            ("scores", diff([r[0] for r in rows], [R["score"][i + 1] for i in range(N_SCORE)])),
            ("probas", diff([p for r in rows[:N_PROBA] for p in r[2]],
                            [R["proba"][i + 1] for i in range(N_PROBA * k)])),
        ]
        for name, (ad, rd) in out:
            print(f"{case:<20} {name:<15} {ad:>9.1e} {rd:>9.1e}")
            worst = max(worst, rd)
        agree = sum(int(r[1]) == int(R["predict"][i + 1]) for i, r in enumerate(rows))
        print(f"{case:<20} {'predict 1..20':<15} {agree:>6} / {N_SCORE}")
        print(f"{case:<20} {'predict all':<15} {int((pred_all == sk_all).sum()):>6} / {len(X)}")
        print(f"{case:<20} {'n_iter':<15} uba {info['iterations']}, sklearn {int(R['n_iter'][0])}; "
              f"converged uba {info['converged']}, sklearn {bool(R['converged'][0])}")
    conn.close()
    print(f"largest relative difference over all cases and quantities: {worst:.1e}")
    return 0


if __name__ == "__main__":
    main()
