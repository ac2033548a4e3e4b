#!/usr/bin/python3
"""Independent reference for A/B-test readouts and sample-size planning (numpy + scipy only).

Regenerate (deterministic; nothing else is read or written):

    /usr/bin/python3 bench/ab_reference.py

writes test/data/ab_fixture.csv (unit-level data), test/data/ab_reference.csv (expected readout
statistics) and test/data/ab_plan_reference.csv (expected planning figures), and prints a summary
including a Monte Carlo cross-check of the exact Beta-posterior figures (not written anywhere).

statsmodels is not installed for /usr/bin/python3, so the two statsmodels pieces the spec names are
re-implemented here from statsmodels' definitions (marked "statsmodels formula" below):
Holm (multipletests(method='holm')) and NormalIndPower / proportion_effectsize.

Floats are written with repr(), the shortest text that reads back as the same IEEE double, so the
database parses exactly the doubles this script computed with.  An empty cell is NULL.

FIXTURE  (test/data/ab_fixture.csv: experiment,unit_id,variant,value,covariate,converted)
------------------------------------------------------------------------------------------
One row per unit; unit_id runs 1..N within each experiment (control units first, then each
treatment in the order listed); converted is 't' / 'f'.  All draws come from one generator,
numpy.random.default_rng(SEED) with SEED = 20240611, in exactly the order below (experiment by
experiment, variant by variant, each variant drawing its arrays in the order listed).

- means: variants control (n=1200, multiplier 1.00), b (n=1180, 1.05), c (n=1230, 0.98).
      base      = exp(N(3, 1))                       (the unit's untreated revenue)
      noise     = exp(N(0, 0.5)),  extra = exp(N(1.5, 0.75))
      value     = round(base * multiplier, 2)         (revenue in cents: heavy tailed, lognormal)
      covariate = round(0.6 * base * noise + extra, 2)  (pre-period revenue, correlated with value)
      converted = value > 40
  Values are rounded to cents only to keep the fixture small; all statistics are computed from
  the rounded doubles, i.e. exactly the numbers in the file.
- small: variants control (n=40) and treatment (n=35), normal values with unequal spread so the
  Welch df is small and far from n - 2:
      control:   pre = N(50, 10), value = 0.7 * pre + N(15, 6)
      treatment: pre = N(50, 10), value = 0.7 * pre + N(21, 16)
      covariate = pre, converted = value > 55.
- conv: variants control (n=5000, p=0.10) and b (n=5100, p=0.112).
      covariate = Bernoulli(0.3) pre-period flag, written 0/1
      converted = Bernoulli(2 * p) if covariate = 1 else Bernoulli(4/7 * p)
                  (so P(converted) = 0.3 * 2p + 0.7 * 4p/7 = p exactly, and the flag is predictive,
                  which gives CUPED something to do)
      value     = converted as 0/1.
  value and covariate of conv are written as the integers 0 / 1.

EXPECTED READOUT  (test/data/ab_reference.csv)
----------------------------------------------
Columns: experiment,case,variant,units,mean,std_dev,adjusted_mean,lift,lift_lower,lift_upper,
relative_lift,relative_lift_lower,relative_lift_upper,p_value,p_value_adjusted,chance_to_win,
expected_loss,srm_p_value.  One row per (experiment, case, variant); the control (the variant named
'control') comes first and has NULL in every comparison column (lift .. expected_loss); the
treatments follow in fixture order.  Cases and the experiments they are written for:
welch (all), cuped (all), capped (means), proportion (conv, means), srm_weights (small).

Common definitions, for a metric y per unit (what y is depends on the case):
- units n = number of units of the variant; mean = mean(y); std_dev = sample std (ddof = 1);
  v = sample variance (ddof = 1); adjusted_mean = mean (except in cuped).
- m = number of treatments = variants - 1; alpha_ci = 0.05 / m (Bonferroni for the intervals when
  m > 1; 0.05 when m = 1).
- For treatment t against control c:
      lift d = mean_t - mean_c
      SE = sqrt(v_t/n_t + v_c/n_c)
      df = (v_t/n_t + v_c/n_c)^2 / ((v_t/n_t)^2/(n_t - 1) + (v_c/n_c)^2/(n_c - 1))  (Welch-Satterthwaite)
      q = the t quantile 1 - alpha_ci/2 at df, found by inverting scipy.stats.t.sf with brentq
          to full precision: scipy.stats.t.ppf itself is off by about 2e-9 relative at non-integer
          df (at df = 46.47, 2.012342235 where mpmath's 40-digit root is 2.0123422387; t.sf is
          accurate there), more than the 1e-9 the tests allow
      lift_lower, lift_upper = d - q*SE, d + q*SE
      relative_lift r = mean_t/mean_c - 1
      SE_r = sqrt(v_t/(n_t*mean_c^2) + mean_t^2*v_c/(n_c*mean_c^4))   (delta method)
      relative_lift_lower, relative_lift_upper = r - q*SE_r, r + q*SE_r   (same q, same df)
      p_value = scipy.stats.ttest_ind(y_t, y_c, equal_var=False).pvalue   (two-sided Welch t-test)
      p_value_adjusted = Holm over the m treatments' p-values (statsmodels formula: sort ascending
          p_(1) <= ... <= p_(m); adj_(k) = min(1, max_{j<=k} (m - j + 1) * p_(j)); mapped back to
          the treatments; equals p_value when m = 1)
      Bayesian (flat prior, normal posterior of the absolute lift delta ~ N(d, SE^2)):
      chance_to_win = Phi(d/SE)                      (scipy.stats.norm.cdf)
      expected_loss = E[max(0, -delta)] = SE*phi(d/SE) - d*Phi(-d/SE)
- srm_p_value = scipy.stats.chisquare(counts of all variants, f_exp = total * equal shares).pvalue,
  the same on every row of the experiment (also on the control's row).

Cases:
- welch: y = value.
- cuped: theta = cov(value, covariate) / var(covariate), both ddof = 1, over ALL units of the
  experiment (pooled across variants); y_adj = value - theta*(covariate - mean(covariate over ALL
  units of the experiment)).  mean and std_dev are those of the RAW value; adjusted_mean =
  mean(y_adj) in the variant; everything else (lift, SE, df, intervals, Welch p_value, Holm,
  chance_to_win, expected_loss) is computed from y_adj exactly as in welch, and
  relative_lift = adjusted_mean_t/adjusted_mean_c - 1 with the delta-method SE on the adjusted
  means and adjusted variances.
- capped: y = min(value, 200) (np.minimum, winsorized above only); every column, mean and std_dev
  included, is of the capped values.  Experiment means only.
- proportion: y = converted as 0/1.  Frequentist columns exactly as welch (sample variance
  ddof = 1, Welch df and p-value, Bonferroni intervals, Holm).  The Bayesian columns use Beta
  posteriors with a uniform prior: control ~ Beta(a_c, b_c) = Beta(1 + s_c, 1 + f_c), treatment ~
  Beta(a_t, b_t) = Beta(1 + s_t, 1 + f_t) (s successes, f failures), computed exactly:
      P(X > Y) for X ~ Beta(aX, bX), Y ~ Beta(aY, bY), aX a positive integer (Evan Miller):
          sum_{i=0}^{aX-1} B(aY + i, bX + bY) / ((bX + i) * B(1 + i, bX) * B(aY, bY)),
          summed in log space with scipy.special.betaln and logsumexp.
      chance_to_win = P(p_t > p_c) = P(Beta(a_t, b_t) > Beta(a_c, b_c))
      expected_loss = E[max(p_c - p_t, 0)] (Chris Stucchio, A = control, B = treatment)
          = a_c/(a_c + b_c) * P(Beta(a_c + 1, b_c) > Beta(a_t, b_t))
            - a_t/(a_t + b_t) * P(Beta(a_c, b_c) > Beta(a_t + 1, b_t))
  Both are cross-checked (printed only) with 2,000,000 Monte Carlo draws of each posterior, and
  against the same sums in 60-digit mpmath arithmetic when mpmath is importable: the double
  (betaln) figures written are within about 2e-11 (chance_to_win) and 3e-10 (expected_loss, a
  difference of two close terms) relative of the 60-digit ones, so compare with a tolerance of
  1e-9 relative, not bit for bit.  Experiments conv and means.
- srm_weights: experiment small only; srm_p_value = scipy.stats.chisquare([n_control,
  n_treatment], f_exp = total * [0.6, 0.4]).pvalue on both rows; only experiment, case, variant,
  units and srm_p_value are filled, every other column is NULL.

EXPECTED PLANNING  (test/data/ab_plan_reference.csv)
----------------------------------------------------
Columns: kind,baseline,std_dev,relative_mde,alpha,power,variants,units_per_variant,mde_units,
mde_expected (std_dev is NULL for kind proportion).  Two-sided two-sample z-test, equal groups,
Bonferroni over the treatments: alpha_eff = alpha / (variants - 1).
- Power (statsmodels NormalIndPower.power with ratio = 1, ddof = 0, alternative 'two-sided'):
      nobs = 1 / (1/n1 + 1/n1) = n1 / 2,  z = scipy.stats.norm.isf(alpha_eff / 2)
      power(es, n1) = norm.sf(z - es*sqrt(nobs)) + norm.cdf(-z - es*sqrt(nobs))
  (both tails: the second term is tiny but kept, so there is no closed form).
- Effect size: kind mean: es = baseline * relative_mde / std_dev; kind proportion: Cohen's h
  (statsmodels proportion_effectsize(p2, p1)) es = 2*asin(sqrt(p2)) - 2*asin(sqrt(p1)) with
  p1 = baseline, p2 = baseline * (1 + relative_mde).
- units_per_variant = the real n1 > 0 with power(es, n1) = power (unrounded), solved with
  scipy.optimize.brentq to machine precision (xtol 1e-12, rtol 4 * machine epsilon).
- Inverse: given mde_units (units per variant), es* = the positive root of power(es, mde_units) =
  power (brentq, xtol 1e-15); kind mean: mde_expected = es* * std_dev / baseline (relative);
  kind proportion: p2 = sin((es* + 2*asin(sqrt(p1)))/2)^2, mde_expected = p2/p1 - 1.
"""
import math
import os
import sys

import numpy as np
from scipy import optimize, special, stats

from fixtures import fmt

SEED = 20240611
MC_SEED = 7
MC_DRAWS = 2_000_000
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "test", "data")

EXPERIMENTS = {
    "means": [("control", 1200, 1.00), ("b", 1180, 1.05), ("c", 1230, 0.98)],
    "small": [("control", 40, None), ("treatment", 35, None)],
    "conv": [("control", 5000, 0.10), ("b", 5100, 0.112)],
}
SMALL_PARAMS = {"control": (15.0, 6.0), "treatment": (21.0, 16.0)}
CAP = 200.0
RTOL = 4 * np.finfo(float).eps  # the smallest rtol brentq accepts
SRM_WEIGHTS = [0.6, 0.4]

COLUMNS = ["experiment", "case", "variant", "units", "mean", "std_dev", "adjusted_mean", "lift",
           "lift_lower", "lift_upper", "relative_lift", "relative_lift_lower",
           "relative_lift_upper", "p_value", "p_value_adjusted", "chance_to_win",
           "expected_loss", "srm_p_value"]


# ----------------------------------------------------------------------------------------------
# fixture
# ----------------------------------------------------------------------------------------------

def t_quantile(p, df):
    """Student's t quantile (p > 0.5) by inverting t.sf to full precision (t.ppf is ~2e-9 off)."""
    target = 1.0 - p
    return optimize.brentq(lambda t: stats.t.sf(t, df) - target, 0.0, 1e3, xtol=1e-300, rtol=8.9e-16, maxiter=500)

def make_fixture():
    """{experiment: [(variant, value array, covariate array, converted bool array)]}"""
    rng = np.random.default_rng(SEED)
    out = {}
    groups = []
    for variant, n, mult in EXPERIMENTS["means"]:
        base = np.exp(rng.normal(3.0, 1.0, n))
        noise = np.exp(rng.normal(0.0, 0.5, n))
        extra = np.exp(rng.normal(1.5, 0.75, n))
        value = np.round(base * mult, 2)
        cov = np.round(0.6 * base * noise + extra, 2)
        groups.append((variant, value, cov, value > 40.0))
    out["means"] = groups
    groups = []
    for variant, n, _ in EXPERIMENTS["small"]:
        loc, sd = SMALL_PARAMS[variant]
        pre = rng.normal(50.0, 10.0, n)
        value = 0.7 * pre + rng.normal(loc, sd, n)
        groups.append((variant, value, pre, value > 55.0))
    out["small"] = groups
    groups = []
    for variant, n, p in EXPERIMENTS["conv"]:
        flag = rng.random(n) < 0.3
        u = rng.random(n)
        conv = np.where(flag, u < 2.0 * p, u < (4.0 / 7.0) * p)
        groups.append((variant, conv.astype(float), flag.astype(float), conv))
    out["conv"] = groups
    return out


def write_fixture(fixture, path):
    rows = 0
    with open(path, "w") as f:
        f.write("experiment,unit_id,variant,value,covariate,converted\n")
        for exp, groups in fixture.items():
            uid = 0
            for variant, value, cov, conv in groups:
                for i in range(len(value)):
                    uid += 1
                    if exp == "conv":
                        v, c = str(int(value[i])), str(int(cov[i]))
                    else:
                        v, c = fmt(value[i]), fmt(cov[i])
                    f.write(f"{exp},{uid},{variant},{v},{c},{fmt(bool(conv[i]))}\n")
                    rows += 1
    return rows


def check_fixture_roundtrip(fixture, path):
    """Re-read the CSV and assert every double is bit-identical to what we compute with."""
    got = {}
    with open(path) as f:
        next(f)
        for line in f:
            exp, uid, variant, v, c, cv = line.rstrip("\n").split(",")
            got.setdefault((exp, variant), []).append((float(v), float(c), cv == "t"))
    for exp, groups in fixture.items():
        for variant, value, cov, conv in groups:
            rows = got[(exp, variant)]
            assert len(rows) == len(value)
            assert np.array_equal(np.array([r[0] for r in rows]), value)
            assert np.array_equal(np.array([r[1] for r in rows]), cov)
            assert np.array_equal(np.array([r[2] for r in rows]), conv)


# ----------------------------------------------------------------------------------------------
# statistics
# ----------------------------------------------------------------------------------------------
def holm(pvals):
    """statsmodels multipletests(method='holm')[1], re-implemented."""
    p = np.asarray(pvals, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="mergesort")
    adj_sorted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj_sorted
    return out


def srm_equal(counts):
    counts = np.asarray(counts, dtype=float)
    return float(stats.chisquare(counts, counts.sum() / len(counts) * np.ones(len(counts))).pvalue)


def welch_compare(yt, yc, alpha_ci):
    nt, nc = len(yt), len(yc)
    mt, mc = float(np.mean(yt)), float(np.mean(yc))
    vt, vc = float(np.var(yt, ddof=1)), float(np.var(yc, ddof=1))
    at, ac = vt / nt, vc / nc
    se = math.sqrt(at + ac)
    df = (at + ac) ** 2 / (at ** 2 / (nt - 1) + ac ** 2 / (nc - 1))
    q = t_quantile(1.0 - alpha_ci / 2.0, df)
    d = mt - mc
    r = mt / mc - 1.0
    se_r = math.sqrt(vt / (nt * mc ** 2) + mt ** 2 * vc / (nc * mc ** 4))
    p = float(stats.ttest_ind(yt, yc, equal_var=False).pvalue)
    z = d / se
    return {
        "lift": d, "lift_lower": d - q * se, "lift_upper": d + q * se,
        "relative_lift": r, "relative_lift_lower": r - q * se_r, "relative_lift_upper": r + q * se_r,
        "p_value": p,
        "chance_to_win": float(stats.norm.cdf(z)),
        "expected_loss": se * float(stats.norm.pdf(z)) - d * float(stats.norm.cdf(-z)),
        "_df": df, "_se": se,
    }


def prob_greater(ax, bx, ay, by):
    """P(X > Y), X ~ Beta(ax, bx), Y ~ Beta(ay, by), ax a positive integer (Evan Miller)."""
    assert ax == int(ax) and ax >= 1
    i = np.arange(int(ax), dtype=float)
    logt = (special.betaln(ay + i, bx + by) - np.log(bx + i) - special.betaln(1.0 + i, bx)
            - special.betaln(ay, by))
    return float(np.exp(special.logsumexp(logt)))


def beta_bayes(sc, fc, st, ft):
    ac, bc, at, bt = 1.0 + sc, 1.0 + fc, 1.0 + st, 1.0 + ft
    ctw = prob_greater(at, bt, ac, bc)
    loss = (ac / (ac + bc) * prob_greater(ac + 1.0, bc, at, bt)
            - at / (at + bt) * prob_greater(ac, bc, at + 1.0, bt))
    return ctw, loss


def readout(exp, case, groups, metric, raw=None):
    """groups: [(variant, y)]; raw: {variant: raw values} for mean/std_dev when they differ from y."""
    rows = []
    names = [g[0] for g in groups]
    assert names[0] == "control"
    counts = [len(g[1]) for g in groups]
    srm = srm_equal(counts)
    m = len(groups) - 1
    alpha_ci = 0.05 / m
    yc = groups[0][1]
    comps = [welch_compare(y, yc, alpha_ci) for _, y in groups[1:]]
    padj = holm([c["p_value"] for c in comps]) if m > 1 else [comps[0]["p_value"]]
    if metric == "proportion":
        sc = int(yc.sum())
        fc = len(yc) - sc
        for c, (_, y) in zip(comps, groups[1:]):
            st = int(y.sum())
            c["chance_to_win"], c["expected_loss"] = beta_bayes(sc, fc, st, len(y) - st)
            c["_beta"] = (sc, fc, st, len(y) - st)
    for k, (variant, y) in enumerate(groups):
        base = raw[variant] if raw is not None else y
        row = {"experiment": exp, "case": case, "variant": variant, "units": len(y),
               "mean": float(np.mean(base)), "std_dev": float(np.std(base, ddof=1)),
               "adjusted_mean": float(np.mean(y)), "srm_p_value": srm}
        if k > 0:
            c = comps[k - 1]
            row.update({key: val for key, val in c.items() if not key.startswith("_")})
            row["p_value_adjusted"] = float(padj[k - 1])
            row["_df"] = c["_df"]
            if "_beta" in c:
                row["_beta"] = c["_beta"]
        rows.append(row)
    return rows


def all_readouts(fixture):
    rows = []
    for exp, groups in fixture.items():
        vals = [(v, val) for v, val, _, _ in groups]
        rows += readout(exp, "welch", vals, "mean")
        # cuped
        allv = np.concatenate([g[1] for g in groups])
        allc = np.concatenate([g[2] for g in groups])
        theta = float(np.cov(allv, allc, ddof=1)[0, 1] / np.var(allc, ddof=1))
        cbar = float(np.mean(allc))
        adj = [(v, val - theta * (cov - cbar)) for v, val, cov, _ in groups]
        rows += readout(exp, "cuped", adj, "mean", raw={v: val for v, val, _, _ in groups})
        rows[-1]["_theta"] = theta
        if exp == "means":
            rows += readout(exp, "capped", [(v, np.minimum(val, CAP)) for v, val in vals], "mean")
        if exp in ("conv", "means"):
            rows += readout(exp, "proportion", [(v, cv.astype(float)) for v, _, _, cv in groups],
                            "proportion")
        if exp == "small":
            counts = np.array([len(g[1]) for g in groups], dtype=float)
            p = float(stats.chisquare(counts, counts.sum() * np.array(SRM_WEIGHTS)).pvalue)
            for v, val, _, _ in groups:
                rows.append({"experiment": exp, "case": "srm_weights", "variant": v,
                             "units": len(val), "srm_p_value": p})
    return rows


def write_reference(rows, path):
    with open(path, "w") as f:
        f.write(",".join(COLUMNS) + "\n")
        for r in rows:
            f.write(",".join(fmt(r.get(c)) for c in COLUMNS) + "\n")


def monte_carlo_check(rows):
    rng = np.random.default_rng(MC_SEED)
    worst = 0.0
    for r in rows:
        if "_beta" not in r:
            continue
        sc, fc, st, ft = r["_beta"]
        pc = rng.beta(1 + sc, 1 + fc, MC_DRAWS)
        pt = rng.beta(1 + st, 1 + ft, MC_DRAWS)
        win = pt > pc
        ctw_mc = float(win.mean())
        loss_mc = float(np.maximum(pc - pt, 0.0).mean())
        se_ctw = math.sqrt(ctw_mc * (1 - ctw_mc) / MC_DRAWS)
        se_loss = float(np.maximum(pc - pt, 0.0).std()) / math.sqrt(MC_DRAWS)
        zc = (ctw_mc - r["chance_to_win"]) / se_ctw
        zl = (loss_mc - r["expected_loss"]) / se_loss
        worst = max(worst, abs(zc), abs(zl))
        print(f"  MC {r['experiment']}/{r['variant']}: chance_to_win exact {r['chance_to_win']:.6f} "
              f"MC {ctw_mc:.6f} (diff {ctw_mc - r['chance_to_win']:+.2e}, {zc:+.2f} MC s.e.); "
              f"expected_loss exact {r['expected_loss']:.6e} MC {loss_mc:.6e} "
              f"(diff {loss_mc - r['expected_loss']:+.2e}, {zl:+.2f} MC s.e.)")
    return worst


def mpmath_check(rows):
    """Distance of the float (betaln) Beta figures from the same sums in 60-digit arithmetic."""
    try:
        import mpmath
    except ImportError:
        print("  mpmath not available; high-precision check skipped")
        return
    mpmath.mp.dps = 60

    def pg(ax, bx, ay, by):
        ax, bx, ay, by = (mpmath.mpf(x) for x in (ax, bx, ay, by))
        lb = mpmath.log(mpmath.beta(ay, by))
        return mpmath.fsum(mpmath.exp(mpmath.log(mpmath.beta(ay + i, bx + by)) - mpmath.log(bx + i)
                                      - mpmath.log(mpmath.beta(1 + i, bx)) - lb)
                           for i in range(int(ax)))
    worst_c = worst_l = 0.0
    for r in rows:
        if "_beta" not in r:
            continue
        sc, fc, st, ft = r["_beta"]
        ac, bc, at, bt = 1 + sc, 1 + fc, 1 + st, 1 + ft
        ctw = pg(at, bt, ac, bc)
        loss = (mpmath.mpf(ac) / (ac + bc) * pg(ac + 1, bc, at, bt)
                - mpmath.mpf(at) / (at + bt) * pg(ac, bc, at + 1, bt))
        worst_c = max(worst_c, abs(float((r["chance_to_win"] - ctw) / ctw)))
        worst_l = max(worst_l, abs(float((r["expected_loss"] - loss) / loss)))
    print(f"  60-digit mpmath check: largest relative error chance_to_win {worst_c:.1e}, "
          f"expected_loss {worst_l:.1e}")


def self_check():
    """Hand-checkable cases for the closed forms."""
    # Evan Miller sum: Beta(1,1) vs Beta(1,1) -> 1/2; Beta(2,1) (density 2x) vs uniform -> 2/3.
    assert abs(prob_greater(1, 1, 1, 1) - 0.5) < 1e-15
    assert abs(prob_greater(2, 1, 1, 1) - 2.0 / 3.0) < 1e-15
    # symmetry: P(X > Y) + P(Y > X) = 1 for integer parameters
    assert abs(prob_greater(7, 5, 4, 9) + prob_greater(4, 9, 7, 5) - 1.0) < 1e-13
    # Stucchio loss for two uniforms: E[max(U1 - U2, 0)] = 1/6
    ctw, loss = beta_bayes(0, 0, 0, 0)
    assert abs(ctw - 0.5) < 1e-15 and abs(loss - 1.0 / 6.0) < 1e-15
    # Holm against a hand computation: p = [0.01, 0.04, 0.03] -> [0.03, 0.06, 0.06]
    assert np.allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06], rtol=0, atol=1e-15)
    assert np.allclose(holm([0.5, 0.9]), [1.0, 1.0])
    # normal expected loss equals a numeric integral
    d, se = 0.3, 0.7
    xs = np.linspace(d - 12 * se, d + 12 * se, 400001)
    integ = np.trapz(np.maximum(0, -xs) * stats.norm.pdf(xs, d, se), xs)
    closed = se * stats.norm.pdf(d / se) - d * stats.norm.cdf(-d / se)
    assert abs(integ - closed) < 1e-9
    # the Welch df above is scipy's: its two-sided p equals 2 * t.sf(|d / SE|, df)
    r = np.random.default_rng(1)
    a, b = r.normal(0, 1, 13), r.normal(0.5, 3, 21)
    c = welch_compare(a, b, 0.05)
    assert abs(c["p_value"] - 2 * stats.t.sf(abs(c["lift"] / c["_se"]), c["_df"])) < 1e-14
    # NormalIndPower: effect size 0.5, alpha 0.05, power 0.8 -> 62.79 per group (statsmodels docs'
    # round trip gives nobs 33.367 for the one-sample t-test; for the two-sample z-test the textbook
    # value is 2 * (z_.975 + z_.8)^2 / 0.25 = 62.79, plus the far tail's tiny share)
    n = solve_units(0.5, 0.05, 0.8)
    assert abs(n - 2 * (stats.norm.isf(0.025) + stats.norm.isf(0.2)) ** 2 / 0.25) < 1e-3


# ----------------------------------------------------------------------------------------------
# planning
# ----------------------------------------------------------------------------------------------
def normal_ind_power(es, n1, alpha):
    """statsmodels NormalIndPower().power(es, n1, alpha, ratio=1, alternative='two-sided')."""
    nobs = 1.0 / (1.0 / n1 + 1.0 / n1)
    z = stats.norm.isf(alpha / 2.0)
    return float(stats.norm.sf(z - es * math.sqrt(nobs)) + stats.norm.cdf(-z - es * math.sqrt(nobs)))


def solve_units(es, alpha, power):
    f = lambda n: normal_ind_power(es, n, alpha) - power  # noqa: E731
    lo, hi = 1e-6, 10.0
    while f(hi) < 0:
        hi *= 2.0
    return optimize.brentq(f, lo, hi, xtol=1e-12, rtol=RTOL, maxiter=1000)


def solve_es(n1, alpha, power):
    f = lambda es: normal_ind_power(es, n1, alpha) - power  # noqa: E731
    lo, hi = 1e-12, 1.0
    while f(hi) < 0:
        hi *= 2.0
    return optimize.brentq(f, lo, hi, xtol=1e-15, rtol=RTOL, maxiter=1000)


PLAN = [
    # kind, baseline, std_dev, relative_mde, alpha, power, variants, mde_units
    ("mean", 25.0, 40.0, 0.05, 0.05, 0.8, 2, 1000),
    ("mean", 25.0, 40.0, 0.05, 0.01, 0.9, 3, 25000),
    ("mean", 100.0, 30.0, 0.02, 0.05, 0.9, 2, 25000),
    ("mean", 12.5, 50.0, 0.10, 0.01, 0.8, 3, 1000),
    ("proportion", 0.10, None, 0.12, 0.05, 0.8, 2, 25000),
    ("proportion", 0.10, None, 0.05, 0.01, 0.9, 3, 1000),
    ("proportion", 0.03, None, 0.20, 0.05, 0.9, 3, 25000),
    ("proportion", 0.50, None, 0.02, 0.01, 0.8, 2, 1000),
]


def plan_rows():
    rows = []
    for kind, base, sd, mde, alpha, power, variants, mde_units in PLAN:
        a = alpha / (variants - 1)
        if kind == "mean":
            es = base * mde / sd
        else:
            p1, p2 = base, base * (1.0 + mde)
            es = 2.0 * math.asin(math.sqrt(p2)) - 2.0 * math.asin(math.sqrt(p1))
        n = solve_units(es, a, power)
        assert abs(normal_ind_power(es, n, a) - power) < 1e-13
        es_inv = solve_es(mde_units, a, power)
        assert abs(normal_ind_power(es_inv, mde_units, a) - power) < 1e-13
        # round trip: at units_per_variant the solved effect size is the one we started from
        assert abs(solve_es(n, a, power) - es) < 1e-12 * es
        if kind == "mean":
            mde_exp = es_inv * sd / base
        else:
            p2i = math.sin((es_inv + 2.0 * math.asin(math.sqrt(base))) / 2.0) ** 2
            mde_exp = p2i / base - 1.0
        rows.append([kind, base, sd, mde, alpha, power, variants, n, mde_units, mde_exp])
    return rows


def write_plan(rows, path):
    with open(path, "w") as f:
        f.write("kind,baseline,std_dev,relative_mde,alpha,power,variants,units_per_variant,"
                "mde_units,mde_expected\n")
        for r in rows:
            f.write(",".join([r[0]] + [fmt(x) for x in r[1:]]) + "\n")


# ----------------------------------------------------------------------------------------------
def main():
    try:
        import statsmodels  # noqa: F401
        sm = "installed but not used (formulas re-implemented)"
    except ImportError:
        sm = "not installed: Holm, NormalIndPower and proportion_effectsize re-implemented"
    self_check()
    os.makedirs(DATA, exist_ok=True)
    fixture = make_fixture()
    fx_path = os.path.join(DATA, "ab_fixture.csv")
    ref_path = os.path.join(DATA, "ab_reference.csv")
    plan_path = os.path.join(DATA, "ab_plan_reference.csv")
    nfx = write_fixture(fixture, fx_path)
    check_fixture_roundtrip(fixture, fx_path)
    rows = all_readouts(fixture)
    write_reference(rows, ref_path)
    prow = plan_rows()
    write_plan(prow, plan_path)

    print(f"seed {SEED}; statsmodels {sm}")
    for p, n in ((fx_path, nfx), (ref_path, len(rows)), (plan_path, len(prow))):
        print(f"wrote {os.path.relpath(p, os.path.join(HERE, '..'))}: {n} rows, {os.path.getsize(p)} bytes")
    print("readout (lift [interval], p, p_holm, chance_to_win, expected_loss, srm):")
    for r in rows:
        extra = ""
        if "_theta" in r:
            extra = f"  theta={r['_theta']:.6g}"
        if r["case"] == "srm_weights":
            print(f"  {r['experiment']:5s} {r['case']:11s} {r['variant']:9s} n={r['units']:5d} "
                  f"srm(weights {SRM_WEIGHTS})={r['srm_p_value']:.4g}")
        elif r.get("lift") is None:
            print(f"  {r['experiment']:5s} {r['case']:11s} {r['variant']:9s} n={r['units']:5d} "
                  f"mean={r.get('mean', float('nan')):.6g} srm={r['srm_p_value']:.4g}{extra}")
        else:
            print(f"  {r['experiment']:5s} {r['case']:11s} {r['variant']:9s} n={r['units']:5d} "
                  f"lift={r['lift']:.5g} [{r['lift_lower']:.5g}, {r['lift_upper']:.5g}] "
                  f"rel={r['relative_lift']:+.4f} df={r['_df']:.2f} p={r['p_value']:.4g} "
                  f"p_holm={r['p_value_adjusted']:.4g} ctw={r['chance_to_win']:.4f} "
                  f"loss={r['expected_loss']:.4g}{extra}")
    print("plan:")
    for r in prow:
        print(f"  {r[0]:10s} base={r[1]} sd={r[2]} mde={r[3]} alpha={r[4]} power={r[5]} "
              f"variants={r[6]}: units/variant={r[7]:.4f}; at {r[8]} units mde={r[9]:.6f}")
    print(f"Monte Carlo check of the exact Beta figures ({MC_DRAWS} draws per posterior, seed {MC_SEED}):")
    worst = monte_carlo_check(rows)
    print(f"  largest |exact - MC| / MC s.e. = {worst:.2f}")
    mpmath_check(rows)
    if worst > 5:
        print("Monte Carlo disagrees with the exact figures", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
