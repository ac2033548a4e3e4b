#!/usr/bin/python3
"""Independent reference for linear fitted Q iteration on a simulated retention-offer problem (numpy only).

This docstring is the specification the C code is checked against (fitted Q iteration, Ernst, Geurts
& Wehenkel 2005, "Tree-based batch mode reinforcement learning", JMLR 6, with a per-action ridge
regression as the regressor).

Regenerate (deterministic, byte-identical across runs; nothing else is read or written):

    /usr/bin/python3 bench/fqi_reference.py

writes, into test/data/,
    fqi_log.csv          the logged steps of 400 episodes of a logging policy (3,123 rows)
    fqi_reference.csv    Q values of 20 test states x 4 actions under three (gamma, N) settings
and prints a summary with cross-checks that are not written anywhere: the true value per episode of
five policies by Monte Carlo, how fast theta converges, and a trajectory-wise importance-sampling
estimate of the far-sighted policy's value from the log next to its Monte Carlo truth.

Floats are written with repr(), the shortest text that reads back as the same IEEE double, so the
database parses exactly the doubles this script computed with.  An empty cell is NULL.  Integers
(ids, steps, actions, purchases) are written as integers.  Vectors are numpy float64; sums over log
rows are accumulated row by row in step_id order (no BLAS reductions over rows), and every dot
product theta . s is the sequential sum theta_1 s_1 + theta_2 s_2 + ... + theta_5 s_5 (left to
right), so a C implementation that does the same agrees to a few ulps; compare to 1e-9 relative.

THE SIMULATOR
-------------
Episodes of at most T = 10 steps, t = 1..T.  A customer's state is engagement e in [0, 1] and
coupon fatigue c >= 0 (unrounded doubles; the simulator itself never rounds them).  Actions:
0 (nothing), 1 (email), 2 (discount coupon).  [x] is 1.0 if x holds, else 0.0.

    features    phi(e, c) = numpy.round([1, e, c, e*e, e*c], 6)       (d = 5; e*e and e*c are
                products of the unrounded e, c, rounded afterwards; numpy.round, i.e. scale by 1e6,
                round half to even, scale back).  The learner and the greedy policies see only
                phi; every figure uses these rounded doubles, exactly as written in the log.
    purchase    x = -1.5 + 3.0*e + 1.0*[a=2] - 0.8*c*[a=2]   (left to right; 0.8*c*[a=2] is
                (0.8*c)*[a=2]);  p = 1 / (1 + exp(-x));  purchase = 1 if U_p < p else 0
    reward      numpy.round(purchase * (10.0 - 4.0*[a=2]) - 0.2*[a=1], 6)
                (so one of 0, 10, 6, -0.2, 9.8)
    next state  e' = clip(0.85*e + 0.12*[a=1] + 0.15*purchase - 0.05*[a=2] + Z, 0, 1)
                     (summed left to right, Z ~ N(0, 0.03) read as standard deviation 0.03)
                c' = 0.6*c + 1.0*[a=2]
    churn       churn = 1 if U_c < 0.15 * (1.0 - e') else 0, drawn after the step
    end         the episode ends after step t if churn = 1 or t = T; such a step has no next
                state (NULL next-state features).  Ending at T is treated as terminal too.
    start       e ~ Uniform(0.2, 0.8), c = 0

Policies (each maps the state of step t and the uniform U_a of that step to an action):
    logging     softmax over actions 0, 1, 2 of the preferences z = [0, 0.5*e, 1.0 - 1.0*c]
                (unrounded e, c): m = max z, q_a = exp(z_a - m),
                P_a = q_a / (q_0 + q_1 + q_2);  action = 0 if U_a < P_0, else 1 if
                U_a < P_0 + P_1, else 2;  propensity = P_action (unrounded; recomputing it from
                the log's rounded e2, e3 gives the same value to about 1e-7, not bit for bit)
    greedy(theta)  the action a in 0, 1, 2 with the largest theta_a . phi(e, c); ties go to the
                smallest action (U_a unused)
    uniform     action = min(floor(3 * U_a), 2)
    discount    always 2

Random draws: numpy.random.default_rng(seed); with n episodes simulated side by side, in exactly
this order:
    1. e_start = rng.uniform(0.2, 0.8, n)
    then for t = 1..T, each a whole array of n, drawn for every episode whether or not it has
    already ended (an ended episode's draws are discarded):
    2. U_a = rng.random(n)                   the action
    3. U_p = rng.random(n)                   the purchase
    4. Z   = rng.normal(0.0, 0.03, n)        the engagement noise
    5. U_c = rng.random(n)                   the churn

THE LOG  (test/data/fqi_log.csv)
--------------------------------
400 episodes of the logging policy, seed LOG_SEED = 20240801.  One row per step actually taken,
ordered by episode, then t; 3,123 rows (814 with action 0, 1,130 with action 1, 1,179 with
action 2; 251 episodes run the full T = 10 steps; propensities 0.121 .. 0.564).
Size: the log is 326 KB and the two fixtures 342 KB together, over the 150 KB budget the other
fixtures keep: 400 episodes of 7.8 steps on average, each row 17 columns with ten features at six
decimals (about 104 bytes).  Nothing shorter keeps 400 episodes and these columns; N_LOG = 160
would fit (1,189 rows, about 140 KB together; (b) below then 41.43 against (c) 37.49, still 13
standard errors apart, but a much weaker far-sighted policy than the 400-episode one).
Columns: step_id,episode,t,e1,e2,e3,e4,e5,action,propensity,reward,n1,n2,n3,n4,n5,purchase
    step_id     1..3123, the log order
    episode     1..400;  t  1..10
    e1..e5      phi of the state before the step
    action      0, 1 or 2;  propensity  the logging policy's probability of it
    reward      as above;   purchase    0 or 1
    n1..n5      phi of the next state; all five empty (NULL) when the episode ended at this step
Within an episode, n1..n5 of a step equal e1..e5 of the next step.

FITTED Q ITERATION  (the specification the C code follows)
---------------------------------------------------------
Rows i in step_id order: s_i = (e1..e5), a_i, r_i = reward, s'_i = (n1..n5) or none (terminal).
Actions: the sorted distinct logged actions (here 0, 1, 2).  lambda = 1, I the 5x5 identity.
    A_a = lambda I + sum_{i: a_i = a} s_i s_i^T      (A += outer(s_i, s_i), row by row, in log order)
    theta^0_a = 0 for every action
    for k = 1..N:
        y_i = r_i + gamma * (0.0 if terminal, else max over actions a' of theta^{k-1}_{a'} . s'_i)
        b_a = sum_{i: a_i = a} y_i s_i              (b += y_i * s_i elementwise, row by row, in
                                                     log order, starting from 0)
        theta^k_a = numpy.linalg.solve(A_a, b_a)
    Q(s, a) = theta^N_a . s;  an action never logged has theta = 0, so Q = 0.
With gamma = 0 and N = 1 this is the per-action ridge regression of the immediate reward.
The max over a' (and the greedy policies) range over the logged actions only.

FQI REFERENCE  (test/data/fqi_reference.csv)
--------------------------------------------
Columns: config,state_id,s1,s2,s3,s4,s5,action,q
20 test states, state_id = 1..20:  rng = default_rng(STATE_SEED), STATE_SEED = 20240803;
e = rng.uniform(0.0, 1.0, 20), then c = rng.uniform(0.0, 2.0, 20);  s = phi(e, c) as above.
Configs, in this order (config text, gamma, N):
    g0.9_n40   0.9  40
    g0.9_n3    0.9   3
    g0_n1      0.0   1
For each config, each state, actions 0, 1, 2, 7 in that order (7 never logged: q = 0.0):
q = theta^N_action . s.  240 rows.
No greedy choice hangs on rounding: over the 20 test states the best and second-best Q of actions
0..2 differ by at least 0.1045 (g0.9_n40), 0.1086 (g0.9_n3), 0.2496 (g0_n1); over the 3,123 log
states by at least 0.00019 (g0.9_n40, the policy the importance-sampling check evaluates),
0.00081 (g0.9_n3), 0.00015 (g0_n1).

SUMMARY CHECKS  (stdout only)
-----------------------------
True value per episode (Monte Carlo): 20,000 episodes with seed MC_SEED = 20240802 for every policy
(common random numbers: the same draws, so the difference of two policies is paired); an episode's
value is its undiscounted sum of rewards; standard error std(ddof=1) / sqrt(20000).  Policies:
(a) logging, (b) greedy(theta^40, gamma 0.9), (c) greedy(theta^1, gamma 0), myopic,
(d) uniform, (e) discount, with the thetas fitted on the log above.  The simulator's intent:
discounts buy now but add fatigue and cost engagement; emails cost 0.2 and build engagement for
later; so (b) should beat (c) by more than 3 Monte Carlo standard errors.  It does, with the
constants exactly as specified above (none tuned):
    (a) 39.61 +- 0.19   (b) 62.27 +- 0.19   (c) 37.25 +- 0.20   (d) 40.20 +- 0.19   (e) 14.02 +- 0.07
    (b) - (c) = 25.02, standard error 0.16 paired (0.28 if the two runs were independent).
Convergence (gamma 0.9): max over actions and components of |theta^k - theta^{k-1}| at k = 10, 20,
40, 80: 1.28, 0.0743, 1.01e-4, 7.47e-10 (a contraction by about 0.6 per iteration).
Trajectory-wise importance sampling of (b) on the log, one row per episode (gamma_eval = 1):
    G_j = sum_t r_t over episode j;  W_j = prod_t [greedy picks the logged action] / propensity_t
    (greedy by sequential dot products on the logged e1..e5 with theta^40, gamma 0.9)
    IPS   = mean(W G),        std error std(W G, ddof=1) / sqrt(400)
    SNIPS = sum(W G) / sum(W), std error sqrt(sum(W^2 (G - SNIPS)^2)) / sum(W)
    interval = estimate -+ z std error, z = statistics.NormalDist().inv_cdf(0.975)
also printed: how many episodes have W > 0, the effective sample size sum(W)^2 / sum(W^2), max W;
and, for scale, the same IPS and SNIPS and the mean weight (1 in expectation) on 20,000 fresh
episodes of the logging policy (seed IS_SEED = 20240804, greedy by numpy matrix products there).
What it shows: the trajectory weights of a deterministic target over episodes of up to ten steps
are degenerate.  On the log 8 of 400 episodes have W > 0 (effective sample size 5.1, max W
16.8): IPS 0.07, 95% [-0.13, 0.28]; SNIPS 0.66, [-1.22, 2.53]; truth 62.27, far outside both
intervals.  On 20,000 episodes 313 have W > 0, mean W 0.114 (against 1 in expectation): IPS 0.65
+- 0.15, SNIPS 5.68.  IPS is unbiased, but the target emails nearly always, 85% of its episodes
run all ten steps and they carry 98% of its value, while a logged ten-step episode follows it
with probability about 5e-6 (median; weight about 2e5): the mass of the estimator sits on
episodes too rare to appear in a log, so the normal intervals are confidently wrong, not merely
wide.  IPS/SNIPS over one row per episode do not evaluate this policy; a model-based estimate
(fitted Q evaluation) or a stochastic target would be needed.
"""

import math
import os
import statistics
import sys

import numpy as np

from fixtures import check_roundtrip, write_csv

LOG_SEED = 20240801
MC_SEED = 20240802
STATE_SEED = 20240803
IS_SEED = 20240804      # only for the printed importance-sampling figure at scale

T = 10
D = 5
ACTIONS = [0, 1, 2]
NEVER_LOGGED = 7
LAMBDA = 1.0
N_LOG = 400
N_STATES = 20
N_MC = 20_000
N_IS = 20_000
CONFIGS = [("g0.9_n40", 0.9, 40), ("g0.9_n3", 0.9, 3), ("g0_n1", 0.0, 1)]
CONVERGENCE_AT = [10, 20, 40, 80]



def phi(e, c):
    """Features of arrays of states, one row per state: numpy.round([1, e, c, e*e, e*c], 6)."""
    return np.round(np.stack([np.ones_like(e), e, c, e * e, e * c], axis=1), 6)


def dot(theta, s):
    """theta . s as the sequential sum theta_1 s_1 + ... + theta_d s_d."""
    acc = 0.0
    for j in range(D):
        acc += float(theta[j]) * float(s[j])
    return acc


def greedy_action(theta, s):
    """argmax over actions of theta_a . s (sequential dots), ties to the smallest action."""
    best, best_q = 0, dot(theta[0], s)
    for a in range(1, len(ACTIONS)):
        q = dot(theta[a], s)
        if q > best_q:
            best, best_q = a, q
    return best


# ---- policies: (e, c, phi, U_a) -> (actions, propensities or None) ----

def logging_policy(e, c, ph, ua):
    z = np.stack([np.zeros_like(e), 0.5 * e, 1.0 - 1.0 * c], axis=1)
    m = np.max(z, axis=1, keepdims=True)
    q = np.exp(z - m)
    p = q / (q[:, 0] + q[:, 1] + q[:, 2])[:, None]
    a = np.where(ua < p[:, 0], 0, np.where(ua < p[:, 0] + p[:, 1], 1, 2))
    return a, p[np.arange(len(e)), a]


def uniform_policy(e, c, ph, ua):
    return np.minimum(np.floor(3.0 * ua).astype(np.int64), 2), None


def discount_policy(e, c, ph, ua):
    return np.full(len(e), 2, dtype=np.int64), None


def greedy_policy(theta):
    def policy(e, c, ph, ua):
        return np.argmax(ph @ theta.T, axis=1), None   # first maximum: smallest action on ties
    return policy


def simulate(policy, n, seed, record=False, target=None):
    """Run n episodes side by side.  Returns the per-episode undiscounted returns, the log rows
    (record=True; ordered by episode, then t) and, with a target theta, the per-episode
    trajectory importance weights of greedy(target) under this (logging) policy."""
    rng = np.random.default_rng(seed)
    e = rng.uniform(0.2, 0.8, n)
    c = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    ret = np.zeros(n)
    weight = np.ones(n)
    steps = [[] for _ in range(n)]
    for t in range(1, T + 1):
        ua = rng.random(n)
        up = rng.random(n)
        z = rng.normal(0.0, 0.03, n)
        uc = rng.random(n)
        ph = phi(e, c)
        a, prop = policy(e, c, ph, ua)
        d1 = (a == 1).astype(np.float64)
        d2 = (a == 2).astype(np.float64)
        x = -1.5 + 3.0 * e + 1.0 * d2 - 0.8 * c * d2
        p = 1.0 / (1.0 + np.exp(-x))
        buy = (up < p).astype(np.int64)
        r = np.round(buy * (10.0 - 4.0 * d2) - 0.2 * d1, 6)
        e2 = np.clip(0.85 * e + 0.12 * d1 + 0.15 * buy - 0.05 * d2 + z, 0.0, 1.0)
        c2 = 0.6 * c + 1.0 * d2
        churn = uc < 0.15 * (1.0 - e2)
        end = churn | (t == T)
        ret += np.where(alive, r, 0.0)
        if target is not None:
            match = np.argmax(ph @ target.T, axis=1) == a
            weight = np.where(alive, weight * np.where(match, 1.0, 0.0) / prop, weight)
        if record:
            ph2 = phi(e2, c2)
            for i in np.flatnonzero(alive):
                steps[i].append((i + 1, t, ph[i], int(a[i]), float(prop[i]), float(r[i]),
                                 None if end[i] else ph2[i], int(buy[i])))
        alive &= ~end
        e, c = e2, c2
    rows = [row for ep in steps for row in ep]
    return ret, rows, weight


def fqi(rows, gamma, n_iter):
    """Linear fitted Q iteration as in the docstring; returns theta^N and max |theta^k - theta^{k-1}|."""
    k_act = len(ACTIONS)
    A = [LAMBDA * np.eye(D) for _ in range(k_act)]
    for (_, _, s, a, _, _, _, _) in rows:
        A[a] += np.outer(s, s)
    theta = np.zeros((k_act, D))
    change = {}
    for k in range(1, n_iter + 1):
        b = [np.zeros(D) for _ in range(k_act)]
        for (_, _, s, a, _, r, s2, _) in rows:
            if s2 is None:
                y = r + gamma * 0.0
            else:
                y = r + gamma * max(dot(theta[j], s2) for j in range(k_act))
            b[a] += y * s
        new = np.array([np.linalg.solve(A[j], b[j]) for j in range(k_act)])
        change[k] = float(np.max(np.abs(new - theta)))
        theta = new
    return theta, change


def min_gap(theta, states):
    """Smallest difference between the best and second-best theta_a . s over the states."""
    gap = math.inf
    for s in states:
        q = sorted((dot(theta[a], s) for a in range(len(ACTIONS))), reverse=True)
        gap = min(gap, q[0] - q[1])
    return gap


def main():
    _, rows, _ = simulate(logging_policy, N_LOG, LOG_SEED, record=True)
    header = (["step_id", "episode", "t", "e1", "e2", "e3", "e4", "e5", "action", "propensity",
               "reward", "n1", "n2", "n3", "n4", "n5", "purchase"])
    log_rows = []
    for i, (ep, t, s, a, prop, r, s2, buy) in enumerate(rows):
        nxt = [None] * D if s2 is None else [float(v) for v in s2]
        log_rows.append([i + 1, ep, t] + [float(v) for v in s] + [ACTIONS[a], prop, r] + nxt + [buy])
    paths = []
    p = write_csv("fqi_log.csv", header, log_rows)
    check_roundtrip(p, header, log_rows)
    paths.append((p, len(log_rows)))

    rng = np.random.default_rng(STATE_SEED)
    e = rng.uniform(0.0, 1.0, N_STATES)
    c = rng.uniform(0.0, 2.0, N_STATES)
    states = phi(e, c)
    thetas = {}
    ref_rows = []
    for name, gamma, n_iter in CONFIGS:
        theta, _ = fqi(rows, gamma, n_iter)
        thetas[name] = theta
        for sid in range(N_STATES):
            s = states[sid]
            for action in ACTIONS + [NEVER_LOGGED]:
                q = dot(theta[ACTIONS.index(action)], s) if action in ACTIONS else 0.0
                ref_rows.append([name, sid + 1] + [float(v) for v in s] + [action, q])
    header = ["config", "state_id", "s1", "s2", "s3", "s4", "s5", "action", "q"]
    p = write_csv("fqi_reference.csv", header, ref_rows)
    check_roundtrip(p, header, ref_rows)
    paths.append((p, len(ref_rows)))

    # ---- summary (stdout only) ----
    total = 0
    for path, n in paths:
        size = os.path.getsize(path)
        total += size
        print(f"{os.path.relpath(path)}: {n} rows, {size} bytes")
    print(f"total {total} bytes" + ("  (over the 150 KB fixture budget)" if total >= 150_000 else ""))
    acts = [r[3] for r in rows]
    lengths = np.bincount([r[0] for r in rows])[1:]
    print(f"log: {N_LOG} episodes, {len(rows)} steps, actions "
          f"{dict(zip(ACTIONS, np.bincount(acts, minlength=3).tolist()))}, "
          f"{int(np.sum(lengths == T))} episodes of {T} steps, "
          f"propensity min {min(r[4] for r in rows):.4f} max {max(r[4] for r in rows):.4f}")
    log_states = [r[2] for r in rows]
    for name, _, _ in CONFIGS:
        print(f"  {name}: greedy gap min {min_gap(thetas[name], states):.4g} (test states), "
              f"{min_gap(thetas[name], log_states):.4g} (log states)")

    theta_far, change = fqi(rows, 0.9, max(CONVERGENCE_AT))
    print("convergence, gamma 0.9, max |theta^k - theta^(k-1)|: "
          + ", ".join(f"k={k}: {change[k]:.3g}" for k in CONVERGENCE_AT))

    policies = [("(a) logging", logging_policy),
                ("(b) FQI greedy, gamma 0.9, N 40", greedy_policy(thetas["g0.9_n40"])),
                ("(c) myopic, gamma 0, N 1", greedy_policy(thetas["g0_n1"])),
                ("(d) uniform random", uniform_policy),
                ("(e) always discount", discount_policy)]
    print(f"true value per episode (Monte Carlo, {N_MC} episodes, seed {MC_SEED}, same draws for all):")
    values = {}
    for name, pol in policies:
        ret, _, _ = simulate(pol, N_MC, MC_SEED)
        values[name[:3]] = ret
        print(f"  {name:32s} {ret.mean():8.4f} +- {ret.std(ddof=1) / math.sqrt(N_MC):.4f}")
    diff = values["(b)"] - values["(c)"]
    se_paired = diff.std(ddof=1) / math.sqrt(N_MC)
    se_indep = math.sqrt((values["(b)"].var(ddof=1) + values["(c)"].var(ddof=1)) / N_MC)
    print(f"  (b) - (c) = {diff.mean():.4f}, se {se_paired:.4f} paired, {se_indep:.4f} as if independent"
          f": {diff.mean() / se_indep:.1f} independent standard errors")
    if not diff.mean() > 3.0 * se_indep:
        sys.exit("the far-sighted policy does not beat the myopic one by 3 standard errors")

    # trajectory-wise importance sampling of (b) on the log, one row per episode
    theta = thetas["g0.9_n40"]
    G = np.zeros(N_LOG)
    W = np.ones(N_LOG)
    for (ep, t, s, a, prop, r, s2, buy) in rows:
        G[ep - 1] += r
        W[ep - 1] *= (1.0 if greedy_action(theta, s) == a else 0.0) / prop
    z = statistics.NormalDist().inv_cdf(0.975)
    truth = values["(b)"].mean()
    wg = W * G
    ips = float(np.mean(wg))
    se_ips = float(np.std(wg, ddof=1)) / math.sqrt(N_LOG)
    nz = int(np.sum(W > 0))
    print(f"importance sampling of (b) on the log ({N_LOG} episodes, one row each; truth {truth:.4f}):")
    print(f"  episodes with W > 0: {nz}; effective sample size "
          f"{(np.sum(W) ** 2 / np.sum(W ** 2)) if nz else 0.0:.2f}; max W {np.max(W):.4g}")
    print(f"  ips   {ips:9.4f}  se {se_ips:9.4f}  [{ips - z * se_ips:.4f}, {ips + z * se_ips:.4f}]")
    if nz:
        snips = float(np.sum(wg) / np.sum(W))
        se_snips = math.sqrt(float(np.sum(W ** 2 * (G - snips) ** 2))) / float(np.sum(W))
        print(f"  snips {snips:9.4f}  se {se_snips:9.4f}  [{snips - z * se_snips:.4f}, {snips + z * se_snips:.4f}]")
    else:
        print("  snips undefined (every weight is 0)")
    G2, _, W2 = simulate(logging_policy, N_IS, IS_SEED, target=theta)
    wg2 = W2 * G2
    se2 = float(np.std(wg2, ddof=1)) / math.sqrt(N_IS)
    print(f"  at scale, {N_IS} fresh logged episodes: ips {np.mean(wg2):.4f} se {se2:.4f}, "
          f"snips {np.sum(wg2) / np.sum(W2):.4f}, mean W {np.mean(W2):.4f}, "
          f"{int(np.sum(W2 > 0))} with W > 0, ess {np.sum(W2) ** 2 / np.sum(W2 ** 2):.1f}, "
          f"max W {np.max(W2):.4g}")


if __name__ == "__main__":
    main()
