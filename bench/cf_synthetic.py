#!/usr/bin/python3
"""Synthetic implicit-feedback data shaped like MovieLens-1M (and larger).

Writes tab-separated lines  user_id<TAB>item_id<TAB>weight  (no header), one
per distinct (user, item) pair, for loading into PostgreSQL and timing uba's
recommenders at MovieLens sizes.  Deterministic for a given --scale and --seed
(same numpy version).

Usage (from the project root):
  /usr/bin/python3 bench/cf_synthetic.py --out /tmp/ml1m_synth.tsv
  /usr/bin/python3 bench/cf_synthetic.py --scale 20 --seed 42 --out /tmp/ml20_synth.tsv
  /usr/bin/python3 bench/cf_synthetic.py --scale 1 --out /tmp/ml1m_synth.tsv --als-seconds

Load it with e.g.
  CREATE TABLE synth (user_id bigint, item_id bigint, weight int);
  \\copy synth FROM '/tmp/ml1m_synth.tsv'

Shape
-----
Targets (users, items, interactions):
  scale 1:  6,040 users, 3,706 items, 1,000,209 pairs (MovieLens-1M)
  scale 20: 138,000 users, 26,700 items, 9,500,000 pairs
Other scales interpolate/extrapolate each of the three as a power of the scale
through both anchors: n(s) = n(1) * s ** (ln(n(20) / n(1)) / ln 20), rounded
(exponents: users 1.044, items 0.659, pairs 0.751).  The printed counts are
the actual ones.

Generation
----------
rng = numpy.random.default_rng(seed).
* User activity: d_u = clip(round(exp(mu + 1.0 * z_u)), 20, cap), z_u standard
  normal (log-normal, sigma 1.0, as in MovieLens-1M: median ~96, mean ~165
  ratings), cap = round(0.62 * items) (ML-1M's busiest user rated 62% of the
  items).  mu is found by bisection so that sum(d_u) is as close as possible
  to the pair target; the remaining difference is spread as +-1 over random
  users within [20, cap].
* Item popularity: item of popularity rank r = 1..items has weight
  1 / (r + q) (Zipf, exponent 1, shifted by q = 37 at every scale, so that
  the most popular items are not bought by nearly every user: at scale 1 the
  top item has about half of the users, as in ML-1M).
* Each user gets d_u DISTINCT items: weighted sampling without replacement
  (i.i.d. draws from the popularity distribution, keeping the first d_u
  distinct items in draw order; drawn in vectorised rounds).
* Every item is used at least once: an item never drawn is given to one
  random user (adds a pair; rare).
* weight: i.i.d. integer 1..5 with the MovieLens-1M rating frequencies
  (0.056, 0.108, 0.261, 0.349, 0.226).
* Ids are sparse and unsorted, so a consumer must map them:
    user_id = ((perm[u] + 1) * 1000003) mod 2147483647, perm a random
              permutation of 0..users-1 (distinct, fits int4);
    item_id = distinct random integers in [1, 2^40) (need bigint).
  Lines are written in random order.

--als-seconds also fits the implicit ALS of cf_reference.py (solver cg, 64
factors, 15 iterations, alpha 10, reg 0.1, seed 42, weight = the 1..5 value)
on the generated pairs (ids mapped to dense indices in ascending id order) and
prints the fit time and final objective (reference only; --als-solver exact to
use the exact solver instead).
"""
import argparse
import math
import os
import sys
import time

import numpy as np

ANCHOR_1 = (6040, 3706, 1000209)
ANCHOR_20 = (138000, 26700, 9500000)
RATING_P = np.array([0.056, 0.108, 0.261, 0.349, 0.226])
MIN_ITEMS_PER_USER = 20
SIGMA = 1.0
CAP_FRACTION = 0.62
ZIPF_SHIFT = 37.0


def shape_for_scale(scale):
    """(users, items, pairs) targets: power law in the scale through the anchors."""
    out = []
    for a, b in zip(ANCHOR_1, ANCHOR_20):
        expo = math.log(b / a) / math.log(20.0)
        out.append(int(round(a * scale ** expo)))
    return tuple(out)


def user_degrees(rng, n_users, n_items, target):
    """Log-normal activity with floor 20 and cap, summing to about target."""
    cap = max(MIN_ITEMS_PER_USER, int(round(CAP_FRACTION * n_items)))
    cap = min(cap, n_items)
    z = rng.standard_normal(n_users)

    def degrees(mu):
        return np.clip(np.rint(np.exp(mu + SIGMA * z)), MIN_ITEMS_PER_USER,
                       cap).astype(np.int64)

    lo, hi = -10.0, 20.0
    for _ in range(100):                       # bisection on mu
        mid = 0.5 * (lo + hi)
        if degrees(mid).sum() < target:
            lo = mid
        else:
            hi = mid
    d = degrees(lo)
    # Spread the remaining difference as +-1 over random users.
    diff = int(target - d.sum())
    step = 1 if diff > 0 else -1
    order = rng.permutation(n_users)
    ok = d[order] < cap if step > 0 else d[order] > MIN_ITEMS_PER_USER
    chosen = order[ok][:abs(diff)]
    d[chosen] += step
    return d


def sample_items(rng, degrees, n_items):
    """Distinct items per user, weighted sampling without replacement.

    Returns (user_index, item_rank) arrays sorted by user; item_rank 0 is the
    most popular item.
    """
    n_users = len(degrees)
    q = ZIPF_SHIFT
    w = 1.0 / (np.arange(1, n_items + 1) + q)
    cdf = np.cumsum(w)
    cdf /= cdf[-1]
    need = degrees.astype(np.int64).copy()
    got_u, got_i = [], []                      # accepted pairs, by round
    accepted_keys = np.empty(0, dtype=np.int64)  # keys of pending users only
    rnd = 0
    while True:
        pending = np.nonzero(need > 0)[0]
        if len(pending) == 0:
            break
        # Oversample more in later rounds (heavy users hit many duplicates).
        m = np.ceil(need[pending] * 1.25 * 1.5 ** rnd).astype(np.int64) + 2
        m = np.minimum(m, 50 * n_items)
        du = np.repeat(pending, m)
        di = np.searchsorted(cdf, rng.random(len(du)), side="right")
        di = np.minimum(di, n_items - 1)
        keys = du * n_items + di
        # First occurrence of each key in draw order...
        _, first = np.unique(keys, return_index=True)
        first.sort()
        keys, du, di = keys[first], du[first], di[first]
        # ...that the user does not have yet.
        new = ~np.isin(keys, accepted_keys, assume_unique=True)
        keys, du, di = keys[new], du[new], di[new]
        # Keep the first need[u] of them per user (du is sorted by user since
        # draws were generated user by user and `first` is in draw order).
        start = np.searchsorted(du, du, side="left")
        rank = np.arange(len(du)) - start
        keep = rank < need[du]
        keys, du, di = keys[keep], du[keep], di[keep]
        got_u.append(du)
        got_i.append(di)
        need -= np.bincount(du, minlength=n_users)
        still = need > 0
        accepted_keys = np.concatenate([accepted_keys, keys])
        accepted_keys = accepted_keys[still[accepted_keys // n_items]]
        rnd += 1
    u = np.concatenate(got_u)
    i = np.concatenate(got_i)
    # Every item at least once.
    unused = np.nonzero(np.bincount(i, minlength=n_items) == 0)[0]
    if len(unused):
        u = np.concatenate([u, rng.integers(0, n_users, len(unused))])
        i = np.concatenate([i, unused])
    order = np.lexsort((i, u))
    return u[order], i[order], len(unused), rnd


def make_ids(rng, n_users, n_items):
    perm = rng.permutation(n_users).astype(np.int64)
    user_ids = ((perm + 1) * 1000003) % 2147483647
    item_ids = np.empty(0, dtype=np.int64)
    while len(item_ids) < n_items:
        cand = rng.integers(1, 2 ** 40, size=n_items + 64, dtype=np.int64)
        allc = np.concatenate([item_ids, cand])
        _, first = np.unique(allc, return_index=True)
        item_ids = allc[np.sort(first)]
    return user_ids, item_ids[:n_items]


def generate(scale, seed):
    rng = np.random.default_rng(seed)
    n_users, n_items, target = shape_for_scale(scale)
    d = user_degrees(rng, n_users, n_items, target)
    u, i, n_added, rounds = sample_items(rng, d, n_items)
    weight = rng.choice(np.arange(1, 6), size=len(u), p=RATING_P)
    user_ids, item_ids = make_ids(rng, n_users, n_items)
    order = rng.permutation(len(u))
    return dict(user=user_ids[u[order]], item=item_ids[i[order]],
                weight=weight[order].astype(np.int64), n_users=n_users,
                n_items=n_items, target=target, added=n_added, rounds=rounds,
                degrees=np.bincount(u, minlength=n_users),
                item_counts=np.bincount(i, minlength=n_items))


def write_tsv(path, data, chunk=1 << 20):
    n = len(data["user"])
    with open(path, "w") as f:
        for s in range(0, n, chunk):
            e = min(n, s + chunk)
            f.write("".join("%d\t%d\t%d\n" % t for t in zip(
                data["user"][s:e].tolist(), data["item"][s:e].tolist(),
                data["weight"][s:e].tolist())))


def fit_als_on(data, solver):
    """Map ids, build the CSR matrix and time cf_reference's ALS."""
    sys.dont_write_bytecode = True             # no __pycache__ in bench/
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import scipy.sparse as sp
    from cf_reference import fit_als
    t0 = time.perf_counter()
    uid, rows = np.unique(data["user"], return_inverse=True)
    iid, cols = np.unique(data["item"], return_inverse=True)
    X = sp.csr_matrix((data["weight"].astype(np.float64), (rows, cols)),
                      shape=(len(uid), len(iid)))
    X.sum_duplicates()
    X.sort_indices()
    t_map = time.perf_counter() - t0
    _, _, fit_s, losses = fit_als(X, factors=64, iterations=15, reg=0.1,
                                  alpha=10.0, seed=42, solver=solver)
    return t_map, fit_s, losses[-1], X.shape, X.nnz


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", required=True, help="output .tsv path")
    ap.add_argument("--als-seconds", action="store_true",
                    help="also time implicit ALS (cg, f 64, 15 iterations)")
    ap.add_argument("--als-solver", choices=["cg", "exact"], default="cg")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    data = generate(args.scale, args.seed)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_tsv(args.out, data)
    t_write = time.perf_counter() - t0

    deg, cnt = data["degrees"], data["item_counts"]
    n = len(data["user"])
    print("scale %g seed %d -> %s" % (args.scale, args.seed, args.out))
    print("targets: users %d, items %d, pairs %d"
          % (data["n_users"], data["n_items"], data["target"]))
    print("actual:  users %d, items %d, pairs %d (%d added for item coverage, "
          "%d sampling rounds)" % ((deg > 0).sum(), (cnt > 0).sum(), n,
                                   data["added"], data["rounds"]))
    print("items per user: min %d, median %d, mean %.1f, max %d"
          % (deg.min(), np.median(deg), deg.mean(), deg.max()))
    print("users per item: min %d, median %d, mean %.1f, max %d (%.1f%% of users)"
          % (cnt.min(), np.median(cnt), cnt.mean(), cnt.max(),
             100.0 * cnt.max() / data["n_users"]))
    print("weights 1..5: %s" % np.bincount(data["weight"], minlength=6)[1:].tolist())
    print("generate %.1f s, write %.1f s" % (t_gen, t_write))
    sys.stdout.flush()
    if args.als_seconds:
        t_map, fit_s, loss, shape, nnz = fit_als_on(data, args.als_solver)
        print("als %s (f 64, 15 iterations, alpha 10, reg 0.1, seed 42) on "
              "%d x %d, %d pairs: id mapping + CSR %.2f s, fit %.2f s, "
              "objective %.6f" % (args.als_solver, shape[0], shape[1], nnz,
                                  t_map, fit_s, loss))


if __name__ == "__main__":
    main()
