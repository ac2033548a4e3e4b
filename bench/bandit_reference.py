#!/usr/bin/python3
"""Independent reference for contextual bandits and off-policy evaluation (numpy + scipy only).

This docstring is the specification the C code (uba_bandit_*, uba_ope_*) is checked against.

Regenerate (deterministic, byte-identical across runs; nothing else is read or written):

    /usr/bin/python3 bench/bandit_reference.py

writes, into test/data/,
    bandit_log.csv          the logged decisions (600 rows) with the target-policy columns
    bandit_reference.csv    LinUCB / epsilon-greedy figures for 25 test contexts x 5 actions
    ope_reference.csv       IPS, SNIPS and DR estimates of the target policy on the log
    beta_ts_reference.csv   Beta-Bernoulli Thompson-sampling posteriors of the log's clicks
    bandit_hybrid_reference.csv   hybrid LinUCB figures for the same 25 test contexts x 5 actions
and prints a summary with two cross-checks that are not written anywhere (the target policy's
true value by simulation, and the Thompson propensities by numerical integration).

Floats are written with repr(), the shortest text that reads back as the same IEEE double, so the
database parses exactly the doubles this script computed with.  An empty cell is NULL.  Integers
(ids, actions, counts, clicks) are written as integers.  Vectors are numpy float64; sums over log
rows are accumulated row by row in decision_id order (no BLAS reductions), so a C implementation
that accumulates in the same order agrees to a few ulps; the SQL tests compare to 1e-9 relative.

FIXED PARAMETERS  (drawn once from N(0,1) / N(0,0.5), rounded to 2 decimals, hard-coded below)
-----------------------------------------------------------------------------------------------
Actions, in this order: 10, 20, 30, 40  (arbitrary bigint ids, deliberately not 0..3).  d = 5.

    action  s_a (logging scores)                  c_a     beta_a (true reward slopes)
    10      [ 1.35,  0.34, -1.16, -0.19, -0.34]   -0.67   [ 0.14,  0.68, -0.36, -1.05, -0.68]
    20      [-0.23,  0.60, -1.28,  0.97, -1.13]    0.24   [-0.12,  0.98,  0.29,  0.66, -0.44]
    30      [-0.19,  0.89,  0.66, -0.69,  1.77]   -0.89   [-0.27, -0.17,  0.58, -0.28, -0.15]
    40      [ 0.37, -0.95,  0.04, -0.83,  0.43]    0.55   [ 0.81, -0.44, -0.02, -0.67, -0.12]

    mu_a(x) = c_a + beta_a . x          (true mean reward of action a in context x)

THE LOG  (test/data/bandit_log.csv)
-----------------------------------
Columns: decision_id,action,x1,x2,x3,x4,x5,reward,propensity,click,
         target_probability,predicted_reward,target_expected_reward
600 decisions, decision_id = 1..600.  All draws come from numpy.random.default_rng(LOG_SEED),
LOG_SEED = 20240701, in exactly this order (each a whole array of 600):
    1. X     = round(rng.standard_normal((600, 5)), 4)   contexts x ~ N(0,1)^5; rounded to 4
               decimals only to keep the file small; every figure below uses the rounded doubles,
               i.e. exactly the numbers in the file
    2. U     = rng.random(600)                           uniforms for the logged action
    3. E     = rng.normal(0.0, 0.5, 600)                 reward noise, N(0, 0.5) read as
                                                         standard deviation 0.5
    4. V     = rng.random(600)                           uniforms for the click
Per decision i:
    logging policy  z_a = 0.5 * (s_a . x_i);  p_a = exp(z_a - max z) / sum_b exp(z_b - max z)
                    (softmax over the four actions)
    action          the first action a (in order 10, 20, 30, 40) with U_i < cumsum(p)_a; the
                    last action if rounding leaves none (inverse CDF)
    propensity      p_{action}: the logged action's softmax probability, unrounded
    reward          round(mu_{action}(x_i) + E_i, 4)     (rounded to keep the file small; all
                    figures use the rounded value)
    click           1 if V_i < sigmoid(mu_{action}(x_i)) else 0,  sigmoid(t) = 1 / (1 + exp(-t))
                    (a 0/1 reward for the Bernoulli methods)
The last three columns are the target policy's (see OFF-POLICY EVALUATION).

PER-ACTION RIDGE MODELS  (lambda = 1.0)
---------------------------------------
Over the log rows with action = a (n_a of them), with I the 5x5 identity:
    unweighted:          A_a = lambda I + sum x_i x_i^T,       b_a = sum reward_i x_i
    importance-weighted: A_a = lambda I + sum w_i x_i x_i^T,   b_a = sum w_i reward_i x_i,
                         w_i = 1 / propensity_i
    theta_a = solve(A_a, b_a)   (numpy.linalg.solve)
A cold-start action (no rows: action 50 below) has A = lambda I, b = 0, n = 0, so theta = 0.

LINUCB / EPSILON-GREEDY REFERENCE  (test/data/bandit_reference.csv)
-------------------------------------------------------------------
Columns: ctx_id,x1,x2,x3,x4,x5,action,n,theta_dot_x,ucb_bonus,linucb_score,linucb_iw_score,
         greedy_probability
25 test contexts, ctx_id = 1..25, x = round(default_rng(CTX_SEED).standard_normal((25, 5)), 4),
CTX_SEED = 20240702.  For each context, one row per action 10, 20, 30, 40, 50 (in that order);
50 never appears in the log (cold start).  alpha = 1.0, epsilon = 0.1, K = 4.
    n                  = n_a, the number of log rows with action a (0 for 50)
    theta_dot_x        = theta_a . x                (unweighted model)
    ucb_bonus          = sqrt(x^T A_a^{-1} x)       (unweighted A_a; computed as x . solve(A_a, x))
    linucb_score       = theta_dot_x + alpha * ucb_bonus
    linucb_iw_score    = theta_a' . x + alpha * sqrt(x^T A_a'^{-1} x) with the importance-weighted
                         A_a', b_a' (equal to linucb_score for the cold-start action)
    greedy_probability = the epsilon-greedy policy over the K = 4 logged actions 10..40, greedy on
                         the unweighted theta_dot_x:
                             epsilon / K + (1 - epsilon)  if a is the argmax of theta_a . x over
                                                          10..40 (ties: the smallest action id)
                             epsilon / K                  otherwise
                         evaluated as the doubles epsilon / K + (1.0 - epsilon) and epsilon / K.
                         NULL (empty) for action 50: it is not among the policy's K = 4 actions,
                         and the spec fixes K = 4, so no probability is defined for it.
                         No greedy choice here or in the log hangs on rounding: the best and
                         second-best theta . x differ by at least 0.0108 over the 25 test contexts
                         and 0.0036 over the 600 log rows.

HYBRID LINUCB REFERENCE  (test/data/bandit_hybrid_reference.csv)
-----------------------------------------------------------------
Li et al. 2010's hybrid model with the first H = 2 context features shared by every action:
z = (x1, x2) with coefficients beta common to all actions, x_a = (x3, x4, x5) with coefficients
theta_a of action a:  E[r | x, a] = z . beta + x_a . theta_a.  Computed here as ONE ridge
regression over the stacked parameter vector (beta, theta_10, theta_20, theta_30, theta_40,
theta_50) of 2 + 5 * 3 = 17 values: each log row i with action a has the design vector phi_i
= (z_i, 0, ..., x_{a,i} in a's block, ..., 0), and
    G = lambda I_17 + sum_i w_i phi_i phi_i^T,   h = sum_i w_i r_i phi_i,   param = solve(G, h)
(w_i = 1, or 1 / propensity_i for the importance-weighted columns; rows in log order).  Action
50, never logged, keeps only lambda I in its block.  This is not the algorithm uba runs (the
arms' blocks eliminated, Li et al.'s algorithm 2); the summary prints the largest difference
from a direct transcription of algorithm 2's sequential updates.
Columns: ctx_id,x1,x2,x3,x4,x5,action,hybrid_mean,hybrid_bonus,hybrid_score,hybrid_iw_score
for the 25 test contexts above and actions 10, 20, 30, 40, 50, alpha = 1:
    hybrid_mean     = phi . param          (phi: the test context's design vector for action a)
    hybrid_bonus    = sqrt(phi^T G^{-1} phi)   (computed as phi . solve(G, phi))
    hybrid_score    = hybrid_mean + alpha * hybrid_bonus
    hybrid_iw_score = the same with the importance-weighted G, h

OFF-POLICY EVALUATION  (per-row columns in bandit_log.csv; estimates in ope_reference.csv)
------------------------------------------------------------------------------------------
Target policy pi = the epsilon-greedy policy above (epsilon = 0.1, K = 4, greedy on the
unweighted theta_a . x over actions 10..40, the thetas fitted on this whole log).  Per log row i:
    target_probability     = pi(a_i | x_i), the probability of the logged action
    predicted_reward       = theta_{a_i} . x_i   (unweighted ridge model of the logged action)
    target_expected_reward = sum over a in 10..40 of pi(a | x_i) * theta_a . x_i
                             (summed in action order)
With n = 600, r = reward, w_i = target_probability_i / propensity_i, z = scipy.stats.norm.ppf(0.975):
    ips    estimate = mean(w r)                 std_error = std(w r, ddof=1) / sqrt(n)
    snips  estimate = sum(w r) / sum(w)         std_error = sqrt(sum(w^2 (r - snips)^2)) / sum(w)
    dr     t_i = target_expected_reward_i + w_i (r_i - predicted_reward_i)
           estimate = mean(t)                   std_error = std(t, ddof=1) / sqrt(n)
    lower, upper          = estimate - z * std_error, estimate + z * std_error
    effective_sample_size = sum(w)^2 / sum(w^2)   (the same in all three rows)
    max_weight            = max(w)                (the same in all three rows)
Columns: estimator,estimate,std_error,lower,upper,effective_sample_size,max_weight; rows ips,
snips, dr.  The reward is the continuous reward column (not click).

BETA-BERNOULLI THOMPSON SAMPLING  (test/data/beta_ts_reference.csv)
-------------------------------------------------------------------
Columns: action,successes,failures,posterior_mean,ts_propensity_mc; one row per action 10..40.
    successes = sum(click) over the action's log rows, failures = n_a - successes
    posterior Beta(1 + successes, 1 + failures)  (uniform prior)
    posterior_mean = (1 + successes) / (2 + n_a)
    ts_propensity_mc = the probability that the action's posterior draw is the largest of the four
        (its Thompson-sampling propensity when all four are offered), by Monte Carlo:
        rng = default_rng(TS_SEED), TS_SEED = 20240703; for each action in order 10..40,
        draws_a = rng.beta(1 + successes, 1 + failures, 1_000_000); the argmax over actions per
        draw (ties: the smallest action id); ts_propensity_mc = count / 1e6.  Its Monte Carlo
        standard error is at most 0.0005; the summary prints the exact integral
        int f_a(t) prod_{b != a} F_b(t) dt (scipy.integrate.quad) next to it.
"""

import math
import os
import sys

import numpy as np
import scipy.integrate
import scipy.stats

from fixtures import check_roundtrip, write_csv

LOG_SEED = 20240701
CTX_SEED = 20240702
TS_SEED = 20240703
TRUTH_SEED = 20240704   # only for the printed true value of the target policy

N_LOG = 600
N_CTX = 25
D = 5
ACTIONS = [10, 20, 30, 40]
COLD_ACTION = 50
LAMBDA = 1.0
ALPHA = 1.0
EPSILON = 0.1
K = len(ACTIONS)
TS_DRAWS = 1_000_000

S = np.array([[1.35, 0.34, -1.16, -0.19, -0.34],
              [-0.23, 0.60, -1.28, 0.97, -1.13],
              [-0.19, 0.89, 0.66, -0.69, 1.77],
              [0.37, -0.95, 0.04, -0.83, 0.43]])
C = np.array([-0.67, 0.24, -0.89, 0.55])
BETA = np.array([[0.14, 0.68, -0.36, -1.05, -0.68],
                 [-0.12, 0.98, 0.29, 0.66, -0.44],
                 [-0.27, -0.17, 0.58, -0.28, -0.15],
                 [0.81, -0.44, -0.02, -0.67, -0.12]])



def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def sigmoid(t):
    return 1.0 / (1.0 + math.exp(-t))


def make_log():
    rng = np.random.default_rng(LOG_SEED)
    X = np.round(rng.standard_normal((N_LOG, D)), 4)
    U = rng.random(N_LOG)
    E = rng.normal(0.0, 0.5, N_LOG)
    V = rng.random(N_LOG)
    action_idx = np.empty(N_LOG, dtype=np.int64)
    propensity = np.empty(N_LOG)
    reward = np.empty(N_LOG)
    click = np.empty(N_LOG, dtype=np.int64)
    for i in range(N_LOG):
        x = X[i]
        p = softmax(np.array([0.5 * np.dot(S[a], x) for a in range(K)]))
        cum = np.cumsum(p)
        k = K - 1
        for a in range(K):
            if U[i] < cum[a]:
                k = a
                break
        mu = C[k] + np.dot(BETA[k], x)
        action_idx[i] = k
        propensity[i] = p[k]
        reward[i] = round(float(mu + E[i]), 4)
        click[i] = 1 if V[i] < sigmoid(float(mu)) else 0
    return X, action_idx, propensity, reward, click


def fit(X, action_idx, reward, weights):
    """Per-action ridge (A, b, n, theta), rows accumulated in log order."""
    models = []
    for a in range(K):
        A = LAMBDA * np.eye(D)
        b = np.zeros(D)
        n = 0
        for i in range(len(X)):
            if action_idx[i] != a:
                continue
            x = X[i]
            w = 1.0 if weights is None else weights[i]
            A += w * np.outer(x, x)
            b += (w * reward[i]) * x
            n += 1
        models.append((A, b, n, np.linalg.solve(A, b)))
    return models


def cold_model():
    A = LAMBDA * np.eye(D)
    b = np.zeros(D)
    return (A, b, 0, np.linalg.solve(A, b))


def score(model, x):
    A, b, n, theta = model
    tx = float(np.dot(theta, x))
    bonus = math.sqrt(float(np.dot(x, np.linalg.solve(A, x))))
    return tx, bonus, tx + ALPHA * bonus


def greedy_probs(models, x):
    """epsilon-greedy over the K logged actions; argmax ties go to the smallest action id."""
    tx = [float(np.dot(m[3], x)) for m in models]
    best = 0
    for a in range(1, K):
        if tx[a] > tx[best]:
            best = a
    probs = [EPSILON / K + (1.0 - EPSILON) if a == best else EPSILON / K for a in range(K)]
    return probs, tx


def bandit_rows(models, models_iw):
    X = np.round(np.random.default_rng(CTX_SEED).standard_normal((N_CTX, D)), 4)
    rows = []
    cold = cold_model()
    for c in range(N_CTX):
        x = X[c]
        probs, _ = greedy_probs(models, x)
        for a, action in enumerate(ACTIONS + [COLD_ACTION]):
            m = models[a] if a < K else cold
            miw = models_iw[a] if a < K else cold
            tx, bonus, ucb = score(m, x)
            _, _, ucb_iw = score(miw, x)
            gp = probs[a] if a < K else None
            rows.append([c + 1] + [float(v) for v in x] + [action, m[2], tx, bonus, ucb, ucb_iw, gp])
    return rows


HYBRID_SHARED = 2


def hybrid_phi(x, a):
    """The stacked design vector of context x for action index a (0..K, K = the cold action)."""
    p = D - HYBRID_SHARED
    phi = np.zeros(HYBRID_SHARED + (K + 1) * p)
    phi[:HYBRID_SHARED] = x[:HYBRID_SHARED]
    start = HYBRID_SHARED + a * p
    phi[start:start + p] = x[HYBRID_SHARED:]
    return phi


def hybrid_fit(X, action_idx, reward, weights):
    """One ridge regression over (beta, every action's theta), rows in log order."""
    m = HYBRID_SHARED + (K + 1) * (D - HYBRID_SHARED)
    G = LAMBDA * np.eye(m)
    h = np.zeros(m)
    for i in range(len(X)):
        phi = hybrid_phi(X[i], action_idx[i])
        w = 1.0 if weights is None else weights[i]
        G += w * np.outer(phi, phi)
        h += (w * reward[i]) * phi
    return G, np.linalg.solve(G, h)


def hybrid_rows(fitted, fitted_iw):
    X = np.round(np.random.default_rng(CTX_SEED).standard_normal((N_CTX, D)), 4)
    rows = []
    for c in range(N_CTX):
        x = X[c]
        for a, action in enumerate(ACTIONS + [COLD_ACTION]):
            out = []
            for G, param in (fitted, fitted_iw):
                phi = hybrid_phi(x, a)
                mean = float(np.dot(phi, param))
                bonus = math.sqrt(float(np.dot(phi, np.linalg.solve(G, phi))))
                out.append((mean, bonus, mean + ALPHA * bonus))
            rows.append([c + 1] + [float(v) for v in x] + [action, out[0][0], out[0][1], out[0][2], out[1][2]])
    return rows


def hybrid_algorithm2(X, action_idx, reward, rows):
    """Li et al. 2010, algorithm 2, transcribed (sequential updates); the largest difference from rows."""
    k, p = HYBRID_SHARED, D - HYBRID_SHARED
    A0, b0 = LAMBDA * np.eye(k), np.zeros(k)
    A = [LAMBDA * np.eye(p) for _ in range(K + 1)]
    B = [np.zeros((p, k)) for _ in range(K + 1)]
    b = [np.zeros(p) for _ in range(K + 1)]
    for i in range(len(X)):
        a, z, xa, r = action_idx[i], X[i][:k], X[i][k:], reward[i]
        Ainv = np.linalg.inv(A[a])
        A0 += B[a].T @ Ainv @ B[a]
        b0 += B[a].T @ Ainv @ b[a]
        A[a] += np.outer(xa, xa)
        B[a] += np.outer(xa, z)
        b[a] += r * xa
        Ainv = np.linalg.inv(A[a])
        A0 += np.outer(z, z) - B[a].T @ Ainv @ B[a]
        b0 += r * z - B[a].T @ Ainv @ b[a]
    A0inv = np.linalg.inv(A0)
    beta = A0inv @ b0
    diff = 0.0
    for row in rows:
        x = np.array(row[1:1 + D])
        a = (ACTIONS + [COLD_ACTION]).index(row[1 + D])
        z, xa = x[:k], x[k:]
        Ainv = np.linalg.inv(A[a])
        theta = Ainv @ (b[a] - B[a] @ beta)
        s = (z @ A0inv @ z - 2 * z @ A0inv @ B[a].T @ Ainv @ xa + xa @ Ainv @ xa
             + xa @ Ainv @ B[a] @ A0inv @ B[a].T @ Ainv @ xa)
        score = z @ beta + xa @ theta + ALPHA * math.sqrt(s)
        diff = max(diff, abs(score - row[1 + D + 3]))
    return diff


def target_columns(models, X, action_idx):
    tp = np.empty(N_LOG)
    pred = np.empty(N_LOG)
    texp = np.empty(N_LOG)
    for i in range(N_LOG):
        probs, tx = greedy_probs(models, X[i])
        tp[i] = probs[action_idx[i]]
        pred[i] = tx[action_idx[i]]
        s = 0.0
        for a in range(K):
            s += probs[a] * tx[a]
        texp[i] = s
    return tp, pred, texp


def ope_rows(reward, propensity, tp, pred, texp):
    n = len(reward)
    z = scipy.stats.norm.ppf(0.975)
    w = tp / propensity
    wr = w * reward
    ips = np.mean(wr)
    se_ips = np.std(wr, ddof=1) / math.sqrt(n)
    snips = np.sum(wr) / np.sum(w)
    se_snips = math.sqrt(np.sum(w ** 2 * (reward - snips) ** 2)) / np.sum(w)
    t = texp + w * (reward - pred)
    dr = np.mean(t)
    se_dr = np.std(t, ddof=1) / math.sqrt(n)
    ess = np.sum(w) ** 2 / np.sum(w ** 2)
    mw = np.max(w)
    return [[name, est, se, est - z * se, est + z * se, ess, mw]
            for name, est, se in (("ips", ips, se_ips), ("snips", snips, se_snips), ("dr", dr, se_dr))]


def ts_rows(action_idx, click):
    succ = [int(np.sum(click[action_idx == a])) for a in range(K)]
    n = [int(np.sum(action_idx == a)) for a in range(K)]
    rng = np.random.default_rng(TS_SEED)
    draws = np.empty((TS_DRAWS, K))
    for a in range(K):
        draws[:, a] = rng.beta(1 + succ[a], 1 + n[a] - succ[a], TS_DRAWS)
    counts = np.bincount(np.argmax(draws, axis=1), minlength=K)   # argmax: first (smallest id) on ties
    rows = []
    for a in range(K):
        rows.append([ACTIONS[a], succ[a], n[a] - succ[a], (1 + succ[a]) / (2 + n[a]),
                     counts[a] / TS_DRAWS])
    return rows


def ts_exact(rows):
    dists = [scipy.stats.beta(1 + s, 1 + f) for _, s, f, _, _ in rows]
    means = [d.mean() for d in dists]
    out = []
    for a in range(K):
        def integrand(t, a=a):
            v = dists[a].pdf(t)
            for b in range(K):
                if b != a:
                    v *= dists[b].cdf(t)
            return v
        val, _ = scipy.integrate.quad(integrand, 0.0, 1.0, points=sorted(means), limit=500,
                                      epsabs=1e-13, epsrel=1e-12)
        out.append(val)
    return out


def true_value(models):
    """The target policy's value E_x[sum_a pi(a|x) mu_a(x)] by simulation (printed only)."""
    Xs = np.random.default_rng(TRUTH_SEED).standard_normal((200_000, D))
    theta = np.array([m[3] for m in models])
    tx = Xs @ theta.T
    best = np.argmax(tx, axis=1)
    mu = C + Xs @ BETA.T
    pi = np.full(tx.shape, EPSILON / K)
    pi[np.arange(len(Xs)), best] += 1.0 - EPSILON
    v = np.sum(pi * mu, axis=1)
    return float(np.mean(v)), float(np.std(v, ddof=1) / math.sqrt(len(v)))


def main():
    X, action_idx, propensity, reward, click = make_log()
    models = fit(X, action_idx, reward, None)
    models_iw = fit(X, action_idx, reward, 1.0 / propensity)
    tp, pred, texp = target_columns(models, X, action_idx)

    log_rows = []
    for i in range(N_LOG):
        log_rows.append([i + 1, ACTIONS[action_idx[i]]] + [float(v) for v in X[i]]
                        + [float(reward[i]), float(propensity[i]), int(click[i]),
                           float(tp[i]), float(pred[i]), float(texp[i])])
    brows = bandit_rows(models, models_iw)
    orows = ope_rows(reward, propensity, tp, pred, texp)
    trows = ts_rows(action_idx, click)
    hrows = hybrid_rows(hybrid_fit(X, action_idx, reward, None),
                        hybrid_fit(X, action_idx, reward, 1.0 / propensity))
    fixtures = [
        ("bandit_log.csv",
         ["decision_id", "action", "x1", "x2", "x3", "x4", "x5", "reward", "propensity",
          "click", "target_probability", "predicted_reward", "target_expected_reward"], log_rows),
        ("bandit_reference.csv",
         ["ctx_id", "x1", "x2", "x3", "x4", "x5", "action", "n", "theta_dot_x", "ucb_bonus",
          "linucb_score", "linucb_iw_score", "greedy_probability"], brows),
        ("ope_reference.csv",
         ["estimator", "estimate", "std_error", "lower", "upper", "effective_sample_size",
          "max_weight"], [[r[0]] + [float(v) for v in r[1:]] for r in orows]),
        ("beta_ts_reference.csv",
         ["action", "successes", "failures", "posterior_mean", "ts_propensity_mc"], trows),
        ("bandit_hybrid_reference.csv",
         ["ctx_id", "x1", "x2", "x3", "x4", "x5", "action", "hybrid_mean", "hybrid_bonus",
          "hybrid_score", "hybrid_iw_score"], hrows),
    ]
    paths = []
    for name, header, rows in fixtures:
        p = write_csv(name, header, rows)
        check_roundtrip(p, header, rows)
        paths.append((p, len(rows)))

    # ---- summary (stdout only) ----
    total = 0
    for path, rows in paths:
        size = os.path.getsize(path)
        total += size
        print(f"{os.path.relpath(path)}: {rows} rows, {size} bytes")
    print(f"total {total} bytes")
    counts = [int(np.sum(action_idx == a)) for a in range(K)]
    print("log: actions", dict(zip(ACTIONS, counts)),
          f"propensity min {propensity.min():.4f} max {propensity.max():.4f}",
          f"clicks {int(click.sum())}")
    for a in range(K):
        print(f"  theta_{ACTIONS[a]} = {np.round(models[a][3], 3).tolist()}"
              f"  (true beta {BETA[a].tolist()})")
    v, se = true_value(models)
    print(f"target policy true value (simulated, 200k contexts, seed {TRUTH_SEED}): {v:.4f} +- {se:.4f}")
    for r in orows:
        print(f"  {r[0]:5s} {r[1]:.4f}  se {r[2]:.4f}  [{r[3]:.4f}, {r[4]:.4f}]"
              f"  ess {r[5]:.1f}  max_w {r[6]:.2f}")
    print(f"hybrid LinUCB: the stacked ridge against Li et al.'s algorithm 2, largest score difference "
          f"{hybrid_algorithm2(X, action_idx, reward, hrows):.3g}")
    exact = ts_exact(trows)
    print("Thompson propensities (Monte Carlo vs exact integral):")
    for r, e in zip(trows, exact):
        print(f"  {r[0]}: s {r[1]} f {r[2]} mean {r[3]:.4f}  mc {r[4]:.6f}  exact {e:.6f}"
              f"  diff {r[4] - e:+.6f}")
    print(f"  exact sum {sum(exact):.12f}")
    if total >= 150_000:
        sys.exit("fixtures exceed 150 KB")


if __name__ == "__main__":
    main()
