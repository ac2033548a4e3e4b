#!/usr/bin/python3
"""Coverage of uba_ope_ips / _snips / _dr's normal 95% intervals over many simulated logs (NumPy only).

test/metrics_ope_simulation.sql checks coverage on 200 logs in the database, where a coverage
figure has a binomial standard error of 1.5 points (0.7 on 1,000 logs): too coarse to tell 94%
from 95%.  This script runs the same simulator on tens of thousands of logs, with the intervals
computed by ope.c's formulas (which test/decide_bandit_reference.sql checks against the database
to 1e-9), against the exact true value.

The simulator (the SQL test's): contexts x ~ N(0, I_2); actions 0, 1, 2 with expected reward
mu(x, a) = c_a + beta_a . x, c = (0.5, 0.3, 0.1), beta = (1, 0), (0, 1), (0.5, 0.5), and N(0, 1)
noise; the logging policy a softmax of sharp * (x1 / 2, x2 / 2, -(x1 + x2) / 4) (sharp = 1 is the
SQL test; --sharp 3 makes the weights heavy-tailed); the target policy epsilon-greedy (0.1) on the
true mu.  DR's reward model: each log's per-action mean rewards (misspecified on purpose).
The truth, 0.9 E[max_a mu] + 0.1 E[mean_a mu], is integrated exactly: over x2 in closed form (the
upper envelope of three lines against the normal density), over x1 by quadrature.

    /usr/bin/python3 bench/ope_coverage.py [--logs 20000] [--n 2000] [--sharp 1] [--seed 1]
"""
import argparse
import math

import numpy as np
from scipy import integrate, stats

C = np.array([0.5, 0.3, 0.1])
BETA = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])


def true_value():
    def e_max_given_x1(x1):
        # mu_a = a0_a + a1_a x2: integrate the largest line against phi(x2), piece by piece
        a0, a1 = C + BETA[:, 0] * x1, BETA[:, 1]
        cuts = sorted((a0[j] - a0[i]) / (a1[i] - a1[j]) for i in range(3) for j in range(i + 1, 3) if a1[i] != a1[j])
        edges = [-math.inf] + cuts + [math.inf]
        total = 0.0
        for lo, hi in zip(edges[:-1], edges[1:]):
            if hi <= lo:
                continue
            probe = 0.0 if math.isinf(lo) and math.isinf(hi) else (hi - 1 if math.isinf(lo) else (lo + 1 if math.isinf(hi) else (lo + hi) / 2))
            k = int(np.argmax(a0 + a1 * probe))
            total += a0[k] * (stats.norm.cdf(hi) - stats.norm.cdf(lo)) + a1[k] * (stats.norm.pdf(lo) - stats.norm.pdf(hi))
        return total

    e_max = integrate.quad(lambda x1: e_max_given_x1(x1) * stats.norm.pdf(x1), -math.inf, math.inf,
                           epsabs=1e-13, epsrel=1e-13, limit=500)[0]
    return 0.9 * e_max + 0.1 * C.mean()


def simulate(rng, logs, n, sharp):
    """logs x n decisions: the weight w, the reward r and DR's per-row term."""
    x = rng.standard_normal((logs, n, 2))
    u = rng.random((logs, n))
    noise = rng.standard_normal((logs, n))
    s = sharp * np.stack([x[..., 0] / 2, x[..., 1] / 2, -(x[..., 0] + x[..., 1]) / 4], -1)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    a = (u[..., None] >= np.cumsum(p, -1)[..., :2]).sum(-1)
    mu = C + x @ BETA.T
    target = 0.1 / 3 + 0.9 * (np.arange(3) == mu.argmax(-1)[..., None])
    pick = lambda m: np.take_along_axis(m, a[..., None], -1)[..., 0]
    w = pick(target) / pick(p)
    r = pick(mu) + noise
    onehot = a[..., None] == np.arange(3)
    means = (onehot * r[..., None]).sum(1) / onehot.sum(1)
    predicted = np.take_along_axis(means, a, 1)
    expected = (target * means[:, None, :]).sum(-1)
    return w, r, expected + w * (r - predicted)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--logs", type=int, default=20000)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--sharp", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    truth = true_value()
    z = stats.norm.ppf(0.975)
    rng = np.random.default_rng(a.seed)
    hits = {k: np.zeros(3) for k in ("ips", "snips", "dr")}   # covered, truth below, truth above
    ess = []
    done = 0
    while done < a.logs:
        m = min(max(1, 400_000 // a.n), a.logs - done)
        w, r, dr = simulate(rng, m, a.n, a.sharp)
        ess.append(w.sum(1) ** 2 / (w * w).sum(1) / a.n)
        for name, term in (("ips", w * r), ("dr", dr)):
            est = term.mean(1)
            half = z * term.std(1, ddof=1) / math.sqrt(a.n)
            lo, hi = est - half, est + half
            hits[name] += [np.sum((lo <= truth) & (truth <= hi)), np.sum(truth < lo), np.sum(truth > hi)]
        est = (w * r).sum(1) / w.sum(1)
        half = z * np.sqrt((w * w * (r - est[:, None]) ** 2).sum(1)) / w.sum(1)
        lo, hi = est - half, est + half
        hits["snips"] += [np.sum((lo <= truth) & (truth <= hi)), np.sum(truth < lo), np.sum(truth > hi)]
        done += m
    print(f"{a.logs:,} logs of {a.n:,} decisions, sharp {a.sharp:g} (median effective sample size "
          f"{np.median(np.concatenate(ess)):.2f} n); exact truth {truth:.10f}\n")
    print("| estimator | coverage of the normal 95% interval | binomial s.e. | truth below | truth above |")
    print("|---|---:|---:|---:|---:|")
    for name, (cov, below, above) in hits.items():
        c = cov / a.logs
        print(f"| {name} | {100 * c:.2f}% | {100 * math.sqrt(c * (1 - c) / a.logs):.2f} | "
              f"{100 * below / a.logs:.2f}% | {100 * above / a.logs:.2f}% |")


if __name__ == "__main__":
    main()
