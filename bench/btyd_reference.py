#!/usr/bin/python3
"""Independent reference for "buy till you die" customer-value models (numpy/scipy only).

Written from the papers' formulas (no code from lifetimes, BTYD or CLVTools), so that uba's
customer-value functions can be checked against the same definitions on the same data.
Nothing here touches PostgreSQL.

Input: a customer summary CSV with a header customer_id,frequency,recency,T,monetary_value
(lifetimes' summary_data_from_transaction_data: x = frequency = repeat purchase periods,
t_x = recency = first to last purchase period, T = first purchase to the observation end,
m_x = monetary_value = mean spend of the repeat periods, 0 when x = 0).  Aliases accepted:
ID for customer_id, x / t_x / T_cal / zbar / m_x for the others (lifetimes' CDNOW files).
monetary_value may be missing (then no Gamma-Gamma model and no CLV).

Models, all fitted by maximum likelihood on log-parameters (several L-BFGS-B starts, the best
polished by BFGS and then Newton steps on a finite-difference Hessian; the JSON reports the
final gradient norm of the total log-likelihood with respect to the log-parameters and to the
parameters, and standard errors from the inverse Hessian):

* BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way", Marketing Science
  24(2)), r, alpha, a, b.  Likelihood (eq. 6):
      L = B(a,b+x)/B(a,b) G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
          + [x>0] B(a+1,b+x-1)/B(a,b) G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x)),
  evaluated as a logsumexp, with the analytic gradient (digamma).
  P(alive) = 1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))   (eq. 11 / note 004)
  E[Y(t) | x, t_x, T]  (eq. 10)
      = (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)] P(alive),
      z = t/(alpha+T+t).  Evaluated after Euler's transformation
      2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A,C-B;C;z), i.e. the bracket is
      1 - (1-z)^(a-1) 2F1(a-1, a+b-1-r; a+b+x-1; z): no overflow/underflow for large x.  (At a = 1
      exactly the expression is 0/0; the relative error grows like 1e-16/|a-1| near it.)
  E[X(t)] = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]   (eq. 9),
      transformed the same way.
* Pareto/NBD (Schmittlein, Morrison & Colombo 1987; likelihood, P(alive) and conditional
  expectation as in Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model and Related
  Expressions"), r, alpha, s, beta:
      L = G(r+x) alpha^r beta^s / G(r) * { 1/((alpha+T)^(r+x) (beta+T)^s) + s/(r+s+x) A0 },
      A0 = F(t_x) - F(T),  with, n = r+s+x,
        alpha >= beta: F(t) = 2F1(n, s+1;   n+1; (alpha-beta)/(alpha+t)) / (alpha+t)^n
        alpha <  beta: F(t) = 2F1(n, r+x;   n+1; (beta-alpha)/(beta+t))  / (beta+t)^n
  (F(t) is (n times) the integral int_t^inf (alpha+y)^-(r+x) (beta+y)^-(s+1) dy, so both branches
  are the same analytic function and A0 >= 0; the branch only keeps z in [0, 1)).  Each 2F1 is
  evaluated after Euler's transformation, 2F1(n, s+1; n+1; z) = (1-z)^-s 2F1(1, r+x; n+1; z) and
  2F1(n, r+x; n+1; z) = (1-z)^(1-r-x) 2F1(1, s+1; n+1; z), with ln(1-z) taken as a difference of
  logs: fewer overflows far from the optimum and <1e-13 relative error against mpmath.  Computed in
  logs: log A0 = log F(t_x) + log(-expm1(log F(T) - log F(t_x))), L as a logaddexp.  The gradient
  is a 5-point central difference (no closed form in r and s).
      P(alive) = 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A0)
      E[Y(t) | x, t_x, T] = (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive)
      E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]
  ([1 - u^(s-1)]/(s-1) is evaluated as -expm1((s-1) ln u)/(s-1), -ln u at s = 1).
* Gamma-Gamma spend (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-value Curves for
  Customer Base Analysis", J. Marketing Research 42(4); Fader & Hardie 2013 note 025), p, q, v,
  fitted on customers with x > 0 and m_x > 0:
      log L = lgamma(p x + q) - lgamma(p x) - lgamma(q) + q ln v + (p x - 1) ln m_x + p x ln x
              - (p x + q) ln(x m_x + v)
      E[M | x, m_x] = p (v + x m_x) / (p x + q - 1)   (for every customer, as lifetimes does)
* CLV as lifetimes' customer_lifetime_value(time=12, discount_rate=0.01, freq="D") with BG/NBD and
  Gamma-Gamma: sum over i = 30, 60, ..., 360 of
      (E[Y(i) | ...] - E[Y(i-30) | ...]) E[M | x, m_x] / 1.01^(i/30).

Self-checks (in the JSON under "self_check", at the fitted parameters, on up to 400 customers
including the extremes): every 2F1-based quantity against mpmath at 40 digits using the
untransformed formulas, the Pareto/NBD A0 against quadrature of its integral, the analytic
BG/NBD and Gamma-Gamma gradients against finite differences, the Pareto/NBD branch continuity
at alpha = beta.

Usage (from the project root):
  /usr/bin/python3 bench/btyd_reference.py SUMMARY.csv PREDICTIONS.csv [--json OUT.json]
  /usr/bin/python3 bench/btyd_reference.py --summarize-online-retail \\
      /work/shared/data/online-retail/online_retail.csv.gz /tmp/btyd/online_retail_summary.csv
  /usr/bin/python3 bench/btyd_reference.py /tmp/btyd/online_retail_summary.csv \\
      /tmp/btyd/online_retail_predictions.csv --json /tmp/btyd/online_retail_fit.json
  /usr/bin/python3 bench/btyd_reference.py --check-cdnow cdnow_customers_summary.csv \\
      [--json /tmp/btyd/cdnow_fit.json] [--predictions OUT.csv]

--check-cdnow takes lifetimes' lifetimes/datasets/cdnow_customers_summary.csv (ID, frequency,
recency, T; weeks) or cdnow_customers_summary_with_transactions.csv (ID, x, t_x, T, zbar; then
the Gamma-Gamma fit is checked too).  It compares the fits with the published values to the
published digits: BG/NBD r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4 (Fader,
Hardie & Lee 2005); Pareto/NBD r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669,
LL = -9595.0 (as reported for the same data in Fader, Hardie & Lee 2005 and Fader & Hardie's
Pareto/NBD notes); Gamma-Gamma p = 6.25, q = 3.74, v = 15.44 (Fader, Hardie & Lee 2005b).  It
exits with status 1 if any differs.

--summarize-online-retail builds the summary from the UCI Online Retail lines with lifetimes'
summary_data_from_transaction_data definitions by day: lines with a CustomerID, amount =
Quantity * UnitPrice (cancellations included as negative amounts), a customer's transaction days
= distinct dates of InvoiceDate up to --end (default 2011-12-09), frequency = days - 1, recency =
last - first day, T = end - first day, monetary_value = mean of the repeat days' summed amounts
(0 when frequency = 0).

Times in the predictions (t = 30, 90, 365) are in the summary's time unit (days for Online
Retail, weeks for CDNOW).
"""
import argparse
import csv
import datetime
import gzip
import json
import math
import sys
import time
from collections import defaultdict

import numpy as np
from scipy import integrate, optimize, special

HORIZONS = (30, 90, 365)
CLV_MONTHS, CLV_DISCOUNT, CLV_DAYS_PER_MONTH = 12, 0.01, 30
BOUND = 15.0  # |log parameter| bound for the L-BFGS-B starts

PUBLISHED_CDNOW = {
    "bgnbd": {"params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, "digits": 3,
              "loglik": -9582.4,
              "source": "Fader, Hardie & Lee (2005), Marketing Science 24(2), BG/NBD on CDNOW"},
    "pareto_nbd": {"params": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, "digits": 3,
                   "loglik": -9595.0,
                   "source": "Pareto/NBD on CDNOW as quoted from Fader & Hardie (2005 note) / Fader, Hardie & Lee "
                             "(2005); the originals were not re-read here"},
    "gamma_gamma": {"params": {"p": 6.25, "q": 3.74, "v": 15.44}, "digits": 2, "loglik": None,
                    "source": "Fader, Hardie & Lee (2005b), J. Marketing Research 42(4), 946 repeat buyers"},
}


# ----------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------
ALIASES = {
    "customer_id": ("customer_id", "ID", "id", "CustomerID"),
    "frequency": ("frequency", "x"),
    "recency": ("recency", "t_x", "t.x"),
    "T": ("T", "T_cal", "T.cal"),
    "monetary_value": ("monetary_value", "zbar", "m_x", "m.x"),
}


class Summary:
    def __init__(self, ids, x, tx, T, m):
        self.ids, self.x, self.tx, self.T, self.m = ids, x, tx, T, m

    def __len__(self):
        return len(self.x)


def read_summary(path):
    with open(path, newline="") as f:
        rd = csv.DictReader(f)
        cols = {}
        for key, names in ALIASES.items():
            for name in names:
                if name in rd.fieldnames:
                    cols[key] = name
                    break
        missing = [k for k in ("frequency", "recency", "T") if k not in cols]
        if missing:
            raise SystemExit(f"{path}: no column for {missing} (header {rd.fieldnames})")
        rows = list(rd)
    ids = [r[cols["customer_id"]] if "customer_id" in cols else str(i + 1) for i, r in enumerate(rows)]
    x = np.array([float(r[cols["frequency"]]) for r in rows])
    tx = np.array([float(r[cols["recency"]]) for r in rows])
    T = np.array([float(r[cols["T"]]) for r in rows])
    m = np.array([float(r[cols["monetary_value"]]) for r in rows]) if "monetary_value" in cols else None
    bad = (x < 0) | (x != np.round(x)) | (tx < 0) | (tx > T) | ((x == 0) & (tx != 0))
    if bad.any():
        raise SystemExit(f"{path}: {int(bad.sum())} rows violate 0 <= recency <= T, integer frequency, "
                         "recency = 0 when frequency = 0")
    return Summary(ids, x, tx, T, m)


def summarize_online_retail(src, dst, end):
    """lifetimes' summary_data_from_transaction_data by day, written from its definitions."""
    sums = defaultdict(lambda: defaultdict(list))
    lines = used = 0
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rt", newline="") as f:
        for r in csv.DictReader(f):
            lines += 1
            cid = r["CustomerID"].strip()
            if not cid:
                continue
            d = datetime.date.fromisoformat(r["InvoiceDate"][:10])
            if d > end:
                continue
            used += 1
            sums[cid][d].append(int(r["Quantity"]) * float(r["UnitPrice"]))
    out = []
    for cid, by_day in sums.items():
        days = sorted(by_day)
        repeat = [math.fsum(by_day[d]) for d in days[1:]]
        out.append((cid, len(days) - 1, (days[-1] - days[0]).days, (end - days[0]).days,
                    math.fsum(repeat) / len(repeat) if repeat else 0.0))
    out.sort(key=lambda t: (float(t[0]), t[0]))
    with open(dst, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["customer_id", "frequency", "recency", "T", "monetary_value"])
        for cid, fr, rec, age, mv in out:
            w.writerow([cid if not cid.endswith(".0") else cid[:-2], fr, rec, age, repr(float(mv))])
    return {"lines": lines, "lines_with_customer": used, "customers": len(out),
            "with_repeat": sum(1 for t in out if t[1] > 0),
            "with_repeat_and_positive_monetary": sum(1 for t in out if t[1] > 0 and t[4] > 0)}


# ----------------------------------------------------------------------------------------------
# BG/NBD
# ----------------------------------------------------------------------------------------------
def bgnbd_ll(theta, x, tx, T, grad=False):
    """Per-customer log-likelihood (and its gradient w.r.t. log r, log alpha, log a, log b)."""
    r, alpha, a, b = np.exp(theta)
    pos = x > 0
    xp = np.where(pos, x, 1.0)  # keeps b + x - 1 > 0 in the masked-out lanes
    u1 = special.betaln(a, b + x) - (r + x) * np.log(alpha + T)
    u2 = np.where(pos, special.betaln(a + 1.0, b + xp - 1.0) - (r + x) * np.log(alpha + tx), -np.inf)
    lse = np.logaddexp(u1, u2)
    ll = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) - special.betaln(a, b) + lse
    if not grad:
        return ll
    w1, w2 = np.exp(u1 - lse), np.exp(u2 - lse)
    psi = special.digamma
    d_r = psi(r + x) - psi(r) + np.log(alpha) - w1 * np.log(alpha + T) - w2 * np.log(alpha + tx)
    d_alpha = r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + tx))
    d_a = -(psi(a) - psi(a + b)) + w1 * (psi(a) - psi(a + b + x)) + w2 * (psi(a + 1.0) - psi(a + b + x))
    d_b = (-(psi(b) - psi(a + b)) + w1 * (psi(b + x) - psi(a + b + x))
           + np.where(pos, w2 * (psi(b + xp - 1.0) - psi(a + b + x)), 0.0))
    return ll, np.stack([d_r * r, d_alpha * alpha, d_a * a, d_b * b], axis=1)


def bgnbd_palive(params, x, tx, T):
    r, alpha, a, b = params
    pos = x > 0
    xp = np.where(pos, x, 1.0)
    u1 = special.betaln(a, b + x) - (r + x) * np.log(alpha + T)
    u2 = np.where(pos, special.betaln(a + 1.0, b + xp - 1.0) - (r + x) * np.log(alpha + tx), -np.inf)
    return np.exp(u1 - np.logaddexp(u1, u2))


def bgnbd_bracket(params, t, x, T):
    """[1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)] / (a-1), Euler-transformed."""
    r, alpha, a, b = params
    t = np.asarray(t, dtype=float)
    z = t / (alpha + T + t)
    log1mz = np.log(alpha + T) - np.log(alpha + T + t)
    term = np.exp((a - 1.0) * log1mz) * special.hyp2f1(a - 1.0, a + b - 1.0 - r, a + b + x - 1.0, z)
    return (1.0 - term) / (a - 1.0)


def bgnbd_cond_exp(params, t, x, tx, T, palive=None):
    r, alpha, a, b = params
    if palive is None:
        palive = bgnbd_palive(params, x, tx, T)
    return (a + b + x - 1.0) * bgnbd_bracket(params, t, x, T) * palive


def bgnbd_pop_exp(params, t):
    r, alpha, a, b = params
    return float((a + b - 1.0) * bgnbd_bracket(params, t, 0.0, 0.0))


# ----------------------------------------------------------------------------------------------
# Pareto/NBD
# ----------------------------------------------------------------------------------------------
def pnbd_parts(theta, x, tx, T):
    """(log L, log of the 'alive at T' part, log of the 'died in (t_x, T]' part), per customer."""
    r, alpha, s, beta = np.exp(theta)
    n = r + s + x
    lead = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    term1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    # Euler's transformation 2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A,C-B;C;z) turns both branches into
    # a 2F1 with first parameter 1 (checked against mpmath: fewer overflows, <1e-13 relative error)
    if alpha >= beta:   # 2F1(n, s+1; n+1; z) = (1-z)^(-s) 2F1(1, r+x; n+1; z), 1-z = (beta+t)/(alpha+t)
        def log_f(t):
            return (-s * (np.log(beta + t) - np.log(alpha + t))
                    + np.log(special.hyp2f1(1.0, r + x, n + 1.0, (alpha - beta) / (alpha + t))) - n * np.log(alpha + t))
    else:               # 2F1(n, r+x; n+1; z) = (1-z)^(1-r-x) 2F1(1, s+1; n+1; z), 1-z = (alpha+t)/(beta+t)
        def log_f(t):
            return ((1.0 - r - x) * (np.log(alpha + t) - np.log(beta + t))
                    + np.log(special.hyp2f1(1.0, s + 1.0, n + 1.0, (beta - alpha) / (beta + t))) - n * np.log(beta + t))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lf_tx, lf_T = log_f(tx), log_f(T)
        d = np.minimum(lf_T - lf_tx, 0.0)
        log_a0 = np.where(tx < T, lf_tx + np.log(-np.expm1(d)), -np.inf)
        term2 = np.log(s) - np.log(n) + log_a0
        return lead + np.logaddexp(term1, term2), term1, term2


def pnbd_ll(theta, x, tx, T):
    return pnbd_parts(theta, x, tx, T)[0]


def pnbd_palive(params, x, tx, T):
    _, term1, term2 = pnbd_parts(np.log(params), x, tx, T)
    return np.exp(term1 - np.logaddexp(term1, term2))


def _one_minus_pow_over(sm1, log_u):
    """[1 - u^(s-1)] / (s-1) for u = exp(log_u) <= 1, stable near s = 1."""
    if sm1 == 0.0:
        return -log_u
    return -np.expm1(sm1 * log_u) / sm1


def pnbd_cond_exp(params, t, x, tx, T, palive=None):
    r, alpha, s, beta = params
    if palive is None:
        palive = pnbd_palive(params, x, tx, T)
    log_u = np.log(beta + T) - np.log(beta + T + t)
    return (r + x) * (beta + T) / (alpha + T) * _one_minus_pow_over(s - 1.0, log_u) * palive


def pnbd_pop_exp(params, t):
    r, alpha, s, beta = params
    return float(r * beta / alpha * _one_minus_pow_over(s - 1.0, math.log(beta) - math.log(beta + t)))


# ----------------------------------------------------------------------------------------------
# Gamma-Gamma
# ----------------------------------------------------------------------------------------------
def gg_ll(theta, x, m, grad=False):
    p, q, v = np.exp(theta)
    px = p * x
    lxm = np.log(x * m + v)
    ll = (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(v)
          + (px - 1.0) * np.log(m) + px * np.log(x) - (px + q) * lxm)
    if not grad:
        return ll
    psi = special.digamma
    d_p = x * (psi(px + q) - psi(px) + np.log(m) + np.log(x) - lxm)
    d_q = psi(px + q) - psi(q) + np.log(v) - lxm
    d_v = q / v - (px + q) / (x * m + v)
    return ll, np.stack([d_p * p, d_q * q, d_v * v], axis=1)


def gg_expected_spend(params, x, m):
    p, q, v = params
    return p * (v + x * m) / (p * x + q - 1.0)


# ----------------------------------------------------------------------------------------------
# maximum likelihood
# ----------------------------------------------------------------------------------------------
def fd_grad(f, theta, h=1e-3):
    """5-point central difference of a scalar function."""
    g = np.empty_like(theta)
    for i in range(len(theta)):
        e = np.zeros_like(theta)
        e[i] = h
        g[i] = (-f(theta + 2 * e) + 8 * f(theta + e) - 8 * f(theta - e) + f(theta - 2 * e)) / (12 * h)
    return g


def fd_hessian(grad, theta, h=1e-4):
    k = len(theta)
    H = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = h
        H[i] = (grad(theta + e) - grad(theta - e)) / (2 * h)
    return 0.5 * (H + H.T)


class Objective:
    """Negative total log-likelihood in log-parameters, guarded against non-finite values."""

    def __init__(self, ll_total, grad_total):
        self.ll_total, self.grad_total, self.evals = ll_total, grad_total, 0

    def f(self, theta):
        self.evals += 1
        v = self.ll_total(theta)
        return -v if np.isfinite(v) else 1e20

    def g(self, theta):
        g = self.grad_total(theta)
        return -g if np.all(np.isfinite(g)) else np.zeros_like(theta)


def maximize(obj, starts, names, n_obs):
    t0 = time.perf_counter()
    runs = []
    # L-BFGS-B works on the mean negative log-likelihood: its first step is the raw gradient, which
    # on the total would jump to the bounds (where 2F1 can overflow) and stall
    w = 1.0 / n_obs
    for s0 in starts:
        res = optimize.minimize(lambda th: w * obj.f(th), np.asarray(s0, float), jac=lambda th: w * obj.g(th),
                                method="L-BFGS-B", bounds=[(-BOUND, BOUND)] * len(s0),
                                options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20000, "maxcor": 20})
        res.fun = res.fun / w
        runs.append(res)
    best = min(runs, key=lambda r: r.fun)
    theta, fval = best.x, best.fun
    # polish 1: unbounded BFGS from the best start
    res = optimize.minimize(obj.f, theta, jac=obj.g, method="BFGS", options={"gtol": 1e-10, "maxiter": 2000})
    if res.fun <= fval:
        theta, fval = res.x, res.fun
    # polish 2: Newton steps with a finite-difference Hessian of the gradient
    g = obj.g(theta)
    newton_steps = 0
    for _ in range(30):
        gn = np.linalg.norm(g)
        if gn < 1e-10:
            break
        H = fd_hessian(obj.g, theta)
        try:
            step = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        accepted = False
        for _ in range(20):
            cand = theta + step
            fc, gc = obj.f(cand), obj.g(cand)
            if fc <= fval + 1e-13 * abs(fval) and np.linalg.norm(gc) < gn:
                theta, fval, g, accepted = cand, fc, gc, True
                newton_steps += 1
                break
            step = step / 2
        if not accepted:
            break
    g_log = -obj.g(theta)  # gradient of the total log-likelihood w.r.t. log-parameters
    params = np.exp(theta)
    H = fd_hessian(obj.g, theta)  # Hessian of -LL in log-parameters
    try:
        cov = np.linalg.inv(H)
        se = params * np.sqrt(np.clip(np.diag(cov), 0, None))
        eig = np.linalg.eigvalsh(H)
    except np.linalg.LinAlgError:
        se, eig = np.full(len(params), np.nan), np.full(len(params), np.nan)
    ends = sorted(-r.fun for r in runs)
    return {
        "params": {k: float(v) for k, v in zip(names, params)},
        "params_17g": {k: f"{v:.17g}" for k, v in zip(names, params)},
        "loglik": float(-fval),
        "loglik_17g": f"{-fval:.17g}",
        "grad_norm_log_params": float(np.linalg.norm(g_log)),
        "grad_norm_params": float(np.linalg.norm(g_log / params)),
        "gradient_log_params": [float(v) for v in g_log],
        "std_err": {k: float(v) for k, v in zip(names, se)},
        "hessian_eigenvalues_log_params": [float(v) for v in eig],
        "at_bound": bool(np.any(np.abs(theta) > BOUND - 1e-6)),
        "optimizer": {
            "method": "L-BFGS-B on the mean (ftol 1e-15, gtol 1e-12) from each start, best polished by BFGS "
                      "on the total (gtol 1e-10) then Newton steps on a finite-difference Hessian",
            "starts": len(starts),
            "starts_within_1e-6_of_best": int(sum(1 for v in ends if v >= -fval - 1e-6)),
            "start_logliks": [float(v) for v in ends[::-1]],
            "newton_steps": newton_steps,
            "function_evaluations": obj.evals,
            "seconds": round(time.perf_counter() - t0, 3),
        },
    }


def starts_for(kind, scale, rng, extra=4):
    if kind == "bgnbd":      # r, alpha, a, b
        base = [(1, 1, 1, 1), (0.5, scale / 8, 0.5, 2), (0.2, scale / 4, 1, 3), (2, scale, 0.2, 0.5),
                (1, scale / 8, 3, 10)]
    elif kind == "pnbd":     # r, alpha, s, beta
        base = [(1, 1, 1, 1), (0.5, scale / 4, 0.5, scale / 4), (0.5, scale / 3, 0.5, scale),
                (2, scale, 1, scale / 10), (0.2, scale / 10, 2, scale * 3)]
    else:                    # p, q, v
        base = [(1, 1, 1), (2, 3, scale), (6, 4, 15), (1, 10, scale * 10), (10, 2, scale / 10)]
    k = len(base[0])
    out = [np.log(np.asarray(s, float)) for s in base]
    out += [rng.uniform(-2, 2, k) + np.log(np.asarray(base[1], float)) for _ in range(extra)]
    return [np.clip(s, -BOUND + 1, BOUND - 1) for s in out]


def fit_all(data, rng):
    x, tx, T = data.x, data.tx, data.T
    scale = float(np.mean(T)) if np.mean(T) > 0 else 1.0
    out = {}

    bg = Objective(lambda th: float(np.sum(bgnbd_ll(th, x, tx, T))),
                   lambda th: np.sum(bgnbd_ll(th, x, tx, T, grad=True)[1], axis=0))
    out["bgnbd"] = maximize(bg, starts_for("bgnbd", scale, rng), ("r", "alpha", "a", "b"), len(x))
    out["bgnbd"]["n_customers"] = len(x)
    out["bgnbd"]["gradient"] = "analytic"

    pn_total = lambda th: float(np.sum(pnbd_ll(th, x, tx, T)))  # noqa: E731
    pn = Objective(pn_total, lambda th: fd_grad(pn_total, th))
    out["pareto_nbd"] = maximize(pn, starts_for("pnbd", scale, rng), ("r", "alpha", "s", "beta"), len(x))
    out["pareto_nbd"]["n_customers"] = len(x)
    out["pareto_nbd"]["gradient"] = "5-point central difference, h = 1e-3 in log-parameters"

    if data.m is not None:
        use = (x > 0) & (data.m > 0)
        xg, mg = x[use], data.m[use]
        gg = Objective(lambda th: float(np.sum(gg_ll(th, xg, mg))),
                       lambda th: np.sum(gg_ll(th, xg, mg, grad=True)[1], axis=0))
        out["gamma_gamma"] = maximize(gg, starts_for("gg", float(np.mean(mg)), rng), ("p", "q", "v"), len(xg))
        out["gamma_gamma"]["n_customers"] = int(use.sum())
        out["gamma_gamma"]["n_repeat_customers"] = int((x > 0).sum())
        out["gamma_gamma"]["n_repeat_excluded_nonpositive_monetary"] = int(((x > 0) & (data.m <= 0)).sum())
        out["gamma_gamma"]["gradient"] = "analytic"
        p, q, v = (out["gamma_gamma"]["params"][k] for k in "pqv")
        out["gamma_gamma"]["population_mean_spend"] = p * v / (q - 1.0) if q > 1 else None
    return out


# ----------------------------------------------------------------------------------------------
# predictions
# ----------------------------------------------------------------------------------------------
def predictions(data, fits):
    x, tx, T = data.x, data.tx, data.T
    bgp = np.array([fits["bgnbd"]["params"][k] for k in ("r", "alpha", "a", "b")])
    pnp = np.array([fits["pareto_nbd"]["params"][k] for k in ("r", "alpha", "s", "beta")])
    cols = {}
    pa = bgnbd_palive(bgp, x, tx, T)
    cols["bgnbd_p_alive"] = pa
    for t in HORIZONS:
        cols[f"bgnbd_exp_purchases_{t}"] = bgnbd_cond_exp(bgp, t, x, tx, T, pa)
    pp = pnbd_palive(pnp, x, tx, T)
    cols["pnbd_p_alive"] = pp
    for t in HORIZONS:
        cols[f"pnbd_exp_purchases_{t}"] = pnbd_cond_exp(pnp, t, x, tx, T, pp)
    if "gamma_gamma" in fits:
        ggp = np.array([fits["gamma_gamma"]["params"][k] for k in "pqv"])
        spend = gg_expected_spend(ggp, x, data.m)
        cols["gg_expected_spend"] = spend
        cols["in_gg_fit"] = ((x > 0) & (data.m > 0)).astype(int)
        clv = np.zeros_like(x)
        prev = np.zeros_like(x)
        for k in range(1, CLV_MONTHS + 1):
            i = k * CLV_DAYS_PER_MONTH
            cur = bgnbd_cond_exp(bgp, float(i), x, tx, T, pa)
            clv += (cur - prev) * spend / (1.0 + CLV_DISCOUNT) ** (i / CLV_DAYS_PER_MONTH)
            prev = cur
        cols["clv_bgnbd_gg"] = clv
    return cols


def write_predictions(path, data, cols):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["customer_id", "frequency", "recency", "T", "monetary_value"] + list(cols))
        for i in range(len(data)):
            row = [data.ids[i], repr(float(data.x[i])), repr(float(data.tx[i])), repr(float(data.T[i])),
                   repr(float(data.m[i])) if data.m is not None else ""]
            row += [str(int(c[i])) if c.dtype.kind == "i" else f"{c[i]:.17g}" for c in cols.values()]
            w.writerow(row)


# ----------------------------------------------------------------------------------------------
# self-checks
# ----------------------------------------------------------------------------------------------
def check_sample(data, rng, k=400):
    n = len(data)
    idx = set(np.argsort(-data.x)[:60]) | set(np.argsort(data.T)[:40]) | set(np.argsort(-data.T)[:20])
    idx |= set(np.flatnonzero(data.tx == data.T)[:20]) | set(np.flatnonzero((data.x > 0) & (data.tx < 1))[:20])
    idx |= set(rng.choice(n, size=min(n, max(0, k - len(idx))), replace=False))
    return np.array(sorted(idx))


def self_check(data, fits, rng):
    import mpmath
    mpmath.mp.dps = 40
    mpf, hyp = mpmath.mpf, mpmath.hyp2f1
    out = {}
    sel = check_sample(data, rng)
    x, tx, T = data.x[sel], data.tx[sel], data.T[sel]
    bgp = np.array([fits["bgnbd"]["params"][k] for k in ("r", "alpha", "a", "b")])
    pnp = np.array([fits["pareto_nbd"]["params"][k] for k in ("r", "alpha", "s", "beta")])
    out["customers_checked"] = int(len(sel))

    # BG/NBD conditional expectation: transformed scipy vs untransformed eq. 10 in mpmath
    r, al, a, b = (mpf(float(v)) for v in bgp)
    worst = 0.0
    pa = bgnbd_palive(bgp, x, tx, T)
    for t in HORIZONS:
        got = bgnbd_cond_exp(bgp, t, x, tx, T, pa)
        for i in range(len(sel)):
            xi, ti, Ti = mpf(float(x[i])), mpf(float(tx[i])), mpf(float(T[i]))
            z = t / (al + Ti + t)
            brk = 1 - ((al + Ti) / (al + Ti + t)) ** (r + xi) * hyp(r + xi, b + xi, a + b + xi - 1, z)
            den = 1 + (a / (b + xi - 1) * ((al + Ti) / (al + ti)) ** (r + xi) if xi > 0 else 0)
            want = (a + b + xi - 1) / (a - 1) * brk / den
            worst = max(worst, abs(float(got[i] - want)) / max(1e-300, abs(float(want))))
    out["bgnbd_cond_exp_max_rel_err_vs_mpmath_eq10"] = worst
    worst = 0.0
    for t in HORIZONS:
        want = (a + b - 1) / (a - 1) * (1 - (al / (al + t)) ** r * hyp(r, b, a + b - 1, t / (al + t)))
        worst = max(worst, abs(bgnbd_pop_exp(bgp, t) - float(want)) / float(want))
    out["bgnbd_pop_exp_max_rel_err_vs_mpmath_eq9"] = worst

    # Pareto/NBD log-likelihood: scipy vs the note's formula in mpmath, and A0 vs quadrature
    r, al, s, be = (mpf(float(v)) for v in pnp)
    fallbacks = [0]

    def pnbd_F(xi, t):
        """The note's F(t) in mpmath, untransformed; the a = 1 form at 80 digits if that fails."""
        n = r + s + xi
        try:
            if al >= be:
                v = hyp(n, s + 1, n + 1, (al - be) / (al + t)) / (al + t) ** n
            else:
                v = hyp(n, r + xi, n + 1, (be - al) / (be + t)) / (be + t) ** n
            if isinstance(v, mpmath.mpf) and v > 0:
                return v
        except mpmath.libmp.NoConvergence:
            pass
        fallbacks[0] += 1
        with mpmath.workdps(80):
            if al >= be:
                return ((be + t) / (al + t)) ** (-s) * hyp(1, r + xi, n + 1, (al - be) / (al + t)) / (al + t) ** n
            return ((al + t) / (be + t)) ** (1 - r - xi) * hyp(1, s + 1, n + 1, (be - al) / (be + t)) / (be + t) ** n

    got = pnbd_ll(np.log(pnp), x, tx, T)
    worst_ll, worst_q = 0.0, 0.0
    for i in range(len(sel)):
        xi, ti, Ti = mpf(float(x[i])), mpf(float(tx[i])), mpf(float(T[i]))
        n = r + s + xi
        a0 = pnbd_F(xi, ti) - pnbd_F(xi, Ti)
        L = (mpmath.exp(mpmath.loggamma(r + xi) - mpmath.loggamma(r)) * al ** r * be ** s
             * (1 / ((al + Ti) ** (r + xi) * (be + Ti) ** s) + s / n * a0))
        worst_ll = max(worst_ll, abs(float(got[i] - mpmath.log(L))))
        if float(tx[i]) < float(T[i]):
            rf, af, sf, bf, xf = (float(v) for v in (r, al, s, be, xi))
            c = (af + float(tx[i]))  # scale the integrand to O(1)
            quad, _ = integrate.quad(lambda y: ((af + y) / c) ** -(rf + xf) * ((bf + y) / c) ** -(sf + 1.0),
                                     float(tx[i]), float(T[i]), epsabs=0, epsrel=1e-13, limit=200)
            want = float(a0 / n * mpf(c) ** (r + xi + s + 1))
            worst_q = max(worst_q, abs(quad - want) / want)
    out["pnbd_loglik_max_abs_err_vs_mpmath"] = worst_ll
    out["pnbd_A0_max_rel_err_vs_quadrature"] = worst_q

    # Pareto/NBD conditional expectation and P(alive) via the mpmath likelihood parts
    pp = pnbd_palive(pnp, x, tx, T)
    worst = 0.0
    for i in range(len(sel)):
        xi, ti, Ti = mpf(float(x[i])), mpf(float(tx[i])), mpf(float(T[i]))
        n = r + s + xi
        want = 1 / (1 + s / n * (al + Ti) ** (r + xi) * (be + Ti) ** s * (pnbd_F(xi, ti) - pnbd_F(xi, Ti)))
        worst = max(worst, abs(float(pp[i] - want)) / float(want))
    out["pnbd_p_alive_max_rel_err_vs_mpmath"] = worst
    out["pnbd_mpmath_untransformed_failures_redone_in_a1_form"] = fallbacks[0]

    # branch continuity of the Pareto/NBD likelihood at alpha = beta
    th = np.log(np.array([pnp[0], pnp[1], pnp[2], pnp[1]]))
    lo, hi = th.copy(), th.copy()
    lo[3] += 1e-12
    hi[3] -= 1e-12
    out["pnbd_branch_jump_at_alpha_eq_beta"] = float(np.max(np.abs(pnbd_ll(lo, x, tx, T) - pnbd_ll(hi, x, tx, T))))

    # analytic gradients against finite differences (at the optimum and at a shifted point)
    worst = 0.0
    for th in (np.log(bgp), np.log(bgp) + rng.normal(0, 0.3, 4)):
        ga = np.sum(bgnbd_ll(th, data.x, data.tx, data.T, grad=True)[1], axis=0)
        gn = fd_grad(lambda u: float(np.sum(bgnbd_ll(u, data.x, data.tx, data.T))), th, 1e-4)
        worst = max(worst, float(np.max(np.abs(ga - gn)) / max(1.0, np.max(np.abs(gn)))))
    out["bgnbd_analytic_grad_vs_fd_max_rel"] = worst
    if "gamma_gamma" in fits:
        use = (data.x > 0) & (data.m > 0)
        ggp = np.array([fits["gamma_gamma"]["params"][k] for k in "pqv"])
        worst = 0.0
        for th in (np.log(ggp), np.log(ggp) + rng.normal(0, 0.3, 3)):
            ga = np.sum(gg_ll(th, data.x[use], data.m[use], grad=True)[1], axis=0)
            gn = fd_grad(lambda u: float(np.sum(gg_ll(u, data.x[use], data.m[use]))), th, 1e-4)
            worst = max(worst, float(np.max(np.abs(ga - gn)) / max(1.0, np.max(np.abs(gn)))))
        out["gg_analytic_grad_vs_fd_max_rel"] = worst
    # Pareto/NBD finite-difference gradient: agreement of two step sizes at the optimum
    f = lambda u: float(np.sum(pnbd_ll(u, data.x, data.tx, data.T)))  # noqa: E731
    g1, g2 = fd_grad(f, np.log(pnp), 1e-3), fd_grad(f, np.log(pnp), 2e-3)
    out["pnbd_fd_grad_step_disagreement"] = float(np.max(np.abs(g1 - g2)))
    return out


def cdnow_spot_checks(fits):
    """Published single-customer values (Hardie's BG/NBD Excel note; BTYD vignette)."""
    bgp = np.array([fits["bgnbd"]["params"][k] for k in ("r", "alpha", "a", "b")])
    one = lambda v: np.array([float(v)])  # noqa: E731
    out = {
        "bgnbd_E[Y(39)|x=2,t_x=30.43,T=38.86] (published 1.226)":
            float(bgnbd_cond_exp(bgp, 39.0, one(2), one(30.43), one(38.86))[0]),
        "bgnbd_E[X(78)] (published 1.8576, Hardie's bgnbd.xls)": bgnbd_pop_exp(bgp, 78.0),
    }
    btyd = np.array([0.5534, 10.5802, 0.6061, 11.6562])  # BTYD's stored CDNOW Pareto/NBD estimates
    out["pnbd_P(alive|26,30.86,31) at BTYD's (0.5534,10.5802,0.6061,11.6562) (published 0.9979)"] = \
        float(pnbd_palive(btyd, one(26), one(30.86), one(31))[0])
    pnp = np.array([fits["pareto_nbd"]["params"][k] for k in ("r", "alpha", "s", "beta")])
    out["pnbd_E[Y(52)|26,30.86,31] at the fit (BTYD vignette 25.46)"] = \
        float(pnbd_cond_exp(pnp, 52.0, one(26), one(30.86), one(31))[0])
    return out


def compare_published(fits, data):
    use = None if data.m is None else (data.x > 0) & (data.m > 0)
    ll_at = {"bgnbd": lambda th: bgnbd_ll(th, data.x, data.tx, data.T),
             "pareto_nbd": lambda th: pnbd_ll(th, data.x, data.tx, data.T),
             "gamma_gamma": lambda th: gg_ll(th, data.x[use], data.m[use])}
    res, ok = {}, True
    for model, pub in PUBLISHED_CDNOW.items():
        if model not in fits:
            continue
        d = pub["digits"]
        got = {k: round(fits[model]["params"][k], d) for k in pub["params"]}
        same = {k: got[k] == pub["params"][k] for k in pub["params"]}
        entry = {"published": pub["params"], "fitted_rounded": got, "params_match": all(same.values()),
                 "source": pub["source"]}
        entry["within_one_unit_of_last_published_digit"] = all(
            abs(fits[model]["params"][k] - v) <= 10.0 ** -d * (1 + 1e-9) for k, v in pub["params"].items())
        entry["differences_in_std_errors"] = {
            k: (fits[model]["params"][k] - v) / fits[model]["std_err"][k] for k, v in pub["params"].items()}
        # the published point's own log-likelihood, against the maximum
        th = np.log([pub["params"][k] for k in pub["params"]])
        entry["loglik_at_published_params"] = float(np.sum(ll_at[model](th)))
        entry["fitted_loglik"] = fits[model]["loglik"]
        if pub["loglik"] is not None:
            entry["published_loglik"] = pub["loglik"]
            entry["fitted_loglik_rounded"] = round(fits[model]["loglik"], 1)
            entry["loglik_match"] = entry["fitted_loglik_rounded"] == pub["loglik"]
        ok = ok and entry["params_match"] and entry.get("loglik_match", True)
        res[model] = entry
    return res, ok



# ----------------------------------------------------------------------------------------------
def run(args):
    t_start = time.perf_counter()
    rng = np.random.default_rng(20240607)
    path = args.check_cdnow or args.summary
    data = read_summary(path)
    fits = fit_all(data, rng)
    result = {"input": path, "n_customers": len(data), "time_unit": args.time_unit}
    result.update(fits)
    for model, fn in (("bgnbd", bgnbd_pop_exp), ("pareto_nbd", pnbd_pop_exp)):
        p = np.array(list(fits[model]["params"].values()))
        fits[model]["expected_purchases_population"] = {str(t): fn(p, float(t)) for t in HORIZONS}
    t_pred = time.perf_counter()
    cols = predictions(data, fits)
    pred_path = args.predictions if args.check_cdnow else args.predictions_csv
    if pred_path:
        write_predictions(pred_path, data, cols)
        result["predictions_csv"] = pred_path
    result["prediction_summary"] = {k: {"mean": float(np.mean(v)), "min": float(np.min(v)), "max": float(np.max(v)),
                                        "non_finite": int(np.sum(~np.isfinite(v)))} for k, v in cols.items()}
    if "clv_bgnbd_gg" in cols:
        result["clv"] = {"model": "BG/NBD transactions x Gamma-Gamma E[M|x,m_x]", "time_months": CLV_MONTHS,
                         "discount_rate_per_month": CLV_DISCOUNT, "freq": "D (30 periods per month)",
                         "sum": float(np.sum(cols["clv_bgnbd_gg"])), "mean": float(np.mean(cols["clv_bgnbd_gg"])),
                         "customers_with_negative_expected_spend": int(np.sum(cols["gg_expected_spend"] < 0)),
                         "customers_predicted_but_not_in_gg_fit": int(np.sum(cols["in_gg_fit"] == 0))}
    result["prediction_seconds"] = round(time.perf_counter() - t_pred, 3)
    t_chk = time.perf_counter()
    result["self_check"] = self_check(data, fits, rng)
    result["self_check_seconds"] = round(time.perf_counter() - t_chk, 3)
    ok = True
    if args.check_cdnow:
        result["cdnow_check"], ok = compare_published(fits, data)
        result["cdnow_check"]["all_match"] = ok
        result["cdnow_check"]["spot_checks"] = cdnow_spot_checks(fits)
    result["runtime_seconds"] = round(time.perf_counter() - t_start, 3)
    text = json.dumps(result, indent=2)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    print(text)
    return 0 if ok else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("summary", nargs="?", help="customer summary CSV")
    ap.add_argument("predictions_csv", nargs="?", help="per-customer predictions CSV to write")
    ap.add_argument("--json", help="also write the JSON results to this file")
    ap.add_argument("--check-cdnow", metavar="PATH", help="fit lifetimes' CDNOW summary and compare with the papers")
    ap.add_argument("--predictions", help="with --check-cdnow: also write predictions here")
    ap.add_argument("--time-unit", default=None, help="label of the summary's time unit (JSON only)")
    ap.add_argument("--summarize-online-retail", nargs=2, metavar=("TRANSACTIONS", "OUT_CSV"),
                    help="build the daily summary from the Online Retail lines and exit")
    ap.add_argument("--end", default="2011-12-09", help="observation end for --summarize-online-retail")
    args = ap.parse_args(argv)
    if args.summarize_online_retail:
        info = summarize_online_retail(*args.summarize_online_retail, datetime.date.fromisoformat(args.end))
        print(json.dumps(info, indent=2))
        return 0
    if args.check_cdnow:
        args.time_unit = args.time_unit or "week"
    elif not (args.summary and args.predictions_csv):
        ap.error("give SUMMARY PREDICTIONS_CSV, or --check-cdnow PATH, or --summarize-online-retail")
    args.time_unit = args.time_unit or "day"
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
