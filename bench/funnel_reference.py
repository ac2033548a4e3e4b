#!/usr/bin/python3
"""uba_funnel and uba_funnel_times, with and without options, against an independent reference of
ClickHouse's windowFunnel (and PostHog's unordered funnel), user by user.

The reference below is written from ClickHouse's algorithm (AggregateFunctionWindowFunnel.cpp,
read at commit 0215c755e1a3, which has the strict_deduplication fix of ClickHouse PR 99003), not
from uba's C code.  A group's rows are (ts, steps[1..n]); a row with a NULL ts or a NULL steps
array is skipped (a group of skipped rows only gives NULL, like max), a NULL element is false.

- Each kept row adds one pair (ts, k) per step k that holds on it; with strict_order a row on which
  no step holds adds (ts, 0).  Pairs are taken in (ts, k) order, so at equal times step 1 comes
  before step 2 and a no-step row before both.
- One scan keeps per level k an optional (first, last): a pair k = 1 sets level 1 = (t, t) (again
  and again: a later start replaces the earlier one, deeper levels keep theirs); with
  strict_deduplication a pair k > 1 whose level is already set stops the scan; with strict_order a
  (t, 0) pair after the first step-1 pair stops the scan, and so does a pair k > 1 whose level
  k - 1 is unset after the first step-1 pair (allow_reentry: that pair is ignored instead); else
  when level k - 1 = (f, l) is set and t <= f + window (strict_increase: and l < t) level k becomes
  (f, t).  Reaching level n ends the scan.  The depth is the deepest level set, 0 if none; with
  n = 1 and not strict_order it is 1 as soon as a pair exists.
- strict_once: each row may serve one step of a chain at most.  ClickHouse keeps every chain (a
  list per level, each chain with the rows it used); `strict_once_chains` transliterates that and
  `strict_once_depth` is the same computation with the chains merged that cannot differ later
  (once the scan has moved past a chain's last time only its first time matters, and the latest
  first is the best one).  The two are asserted equal on random groups.  Rows at equal times are
  taken in the order (ts, step bit mask, arrival); this only matters for strict_once together with
  strict_deduplication, where ClickHouse's own answer depends on the arrival order of tied rows.
- unordered (PostHog's unordered funnel, uba only): the most distinct steps that rows in
  [t0, t0 + window] hold, over the times t0 of rows holding some step.
- times (uba_funnel_times): non-strict_once modes: each level carries its chain's step times (level
  1 = [t], level k = level k - 1's + [t] when set); the answer is what the deepest level held when
  it was first set.  unordered: at the earliest t0 that reaches the depth, the sorted times of the
  first row in [t0, t0 + window] holding each step.  NULL at depth 0 and for a group of skipped
  rows; uba rejects times with strict_once.

The self-check (always run) asserts ClickHouse's own test answers (00632_aggregation_window_funnel),
its documentation examples, hand-made cases (ties, one row holding several steps, the inclusive
window, strict_increase losing a chain as ClickHouse does), and on random groups: the two strict_once
implementations agree; the default depth equals the longest chain over all starts; strict_once +
strict_increase equals the exact strictly increasing chain; the times form a valid chain of the
depth; the unordered depth equals a brute force.  ClickHouse's stored test answers for strict_order
and allow_reentry (tests/queries/0_stateless/00632_aggregation_window_funnel.reference at
0882b32b232a) come from an earlier version of the code and differ in 14 cases (a repeated step 1
after step 2 stopped strict_order there; allow_reentry did not skip a step that came too early;
strict_deduplication returned the previous pair's step): the asserts take the code's answers
and the earlier ones are noted beside them.

Then a seeded log in a TEMP table (--users users, 1 to 60 rows each, 3 to 5 steps per user, many
equal timestamps, exact window boundaries, rows holding several steps or none, NULL elements, NULL
ts and NULL steps rows) is compared for each mode set (default with 3 arguments and with '{}';
each single mode; strict_order + allow_reentry; strict_order + strict_increase;
strict_deduplication + strict_increase; strict_once + strict_increase; unordered) and each window
(--windows, seconds):

    SELECT user_id, uba_funnel(ts, w, steps, options), uba_funnel_times(ts, w, steps, options)
      FROM funnel_ref_events GROUP BY user_id

one line per configuration (users, depth and times mismatches) and the first mismatches in full.
uba must reject allow_reentry without strict_order, unordered with another mode and
uba_funnel_times with strict_once.  If the table retail_lines exists, its customers are compared
too on the funnel of doc/behaviour.md (a purchase, then stock 22423, then 22697 or 22699; 30 days).
The exit status is 1 on any mismatch, error on a valid option set or missing error, 2 when
the aggregates are missing.  Run (as
a role that may create a temporary table) from the project root:

    /usr/bin/python3 bench/funnel_reference.py --dsn 'host=/tmp/pgdev port=5499 dbname=bench'
        [--users 20000] [--seed S] [--windows 600,3600] [--wait MINUTES] [--no-retail]
    /usr/bin/python3 bench/funnel_reference.py --skip-db       # the self-check alone
"""
import argparse
import datetime
import io
import itertools
import json
import random
import sys
import time

SEC = 1000000                       # microseconds
EPOCH = datetime.datetime(2024, 3, 1, tzinfo=datetime.timezone.utc)
EPOCH_NAIVE = datetime.datetime(2024, 3, 1)
MODES = ("strict_deduplication", "strict_order", "strict_increase", "strict_once",
         "allow_reentry", "unordered")

# (label, options as given to uba, or None for the three-argument form)
CONFIGS = [
    ("default", None),
    ("default '{}'", {}),
    ("strict_deduplication", {"strict_deduplication": True}),
    ("strict_order", {"strict_order": True}),
    ("strict_increase", {"strict_increase": True}),
    ("strict_once", {"strict_once": True}),
    ("unordered", {"unordered": True}),
    ("strict_order+allow_reentry", {"strict_order": True, "allow_reentry": True}),
    ("strict_order+strict_increase", {"strict_order": True, "strict_increase": True}),
    ("strict_deduplication+strict_increase", {"strict_deduplication": True, "strict_increase": True}),
    ("strict_once+strict_increase", {"strict_once": True, "strict_increase": True}),
]

# option sets uba must reject (uba_funnel), and the one uba_funnel_times must reject
BAD_OPTIONS = [{"allow_reentry": True}, {"unordered": True, "strict_order": True},
               {"unordered": True, "strict_once": True}]
TIMES_BAD_OPTIONS = [{"strict_once": True}, {"strict_once": True, "strict_increase": True}]


# ---------------------------------------------------------------- the reference

def check_options(opts):
    """The set of modes switched on; ValueError for the combinations uba rejects."""
    opts = opts or {}
    for key in opts:
        if key not in MODES:
            raise ValueError(f"unknown option {key}")
    on = {k for k, v in opts.items() if v}
    if "allow_reentry" in on and "strict_order" not in on:
        raise ValueError("allow_reentry requires strict_order")
    if "unordered" in on and len(on) > 1:
        raise ValueError("unordered combines with no other mode")
    return on


def kept_rows(rows):
    """The rows a group keeps, in the canonical order (ts, step mask, arrival): (ts, mask) with
    bit k - 1 of mask for step k (NULL elements false)."""
    out = []
    for ts, steps in rows:
        if ts is None or steps is None:
            continue
        mask = 0
        for k, s in enumerate(steps):
            if s:
                mask |= 1 << k
        out.append((ts, mask))
    out.sort(key=lambda r: (r[0], r[1]))         # stable: arrival order among equal rows
    return out


def pairs_of(kept, n, strict_order):
    """(ts, k, row) per step k holding on a row, (ts, 0, row) for a no-step row under
    strict_order; in (ts, k, row) order."""
    pairs = []
    for rid, (ts, mask) in enumerate(kept):
        if mask == 0:
            if strict_order:
                pairs.append((ts, 0, rid))
            continue
        for k in range(1, n + 1):
            if mask >> (k - 1) & 1:
                pairs.append((ts, k, rid))
    pairs.sort()
    return pairs


def scan(pairs, n, window, on):
    """ClickHouse's one-chain-per-level scan: (depth, times of the deepest level when first set)."""
    so, sd, si, ar = ("strict_order" in on, "strict_deduplication" in on,
                      "strict_increase" in on, "allow_reentry" in on)
    level = [None] * (n + 1)            # level[k] = (first, last, step times)
    first_set = [None] * (n + 1)
    seen_first = False
    for t, k, _ in pairs:
        if k == 0:                      # only under strict_order
            if seen_first:
                break
            continue
        if k == 1:
            level[1] = (t, t, (t,))
            if first_set[1] is None:
                first_set[1] = (t,)
            seen_first = True
        elif sd and level[k] is not None:
            break
        elif so and seen_first and level[k - 1] is None:
            if ar:
                continue
            break
        elif level[k - 1] is not None:
            f, last, times = level[k - 1]
            if t <= f + window and (not si or last < t):
                level[k] = (f, t, times + (t,))
                if first_set[k] is None:
                    first_set[k] = level[k][2]
                if k == n:
                    break
    depth = max((k for k in range(1, n + 1) if level[k] is not None), default=0)
    return depth, (list(first_set[depth]) if depth else None)


def strict_once_chains(pairs, n, window, on):
    """ClickHouse's strict_once scan as written: every chain kept, with the rows it used."""
    so, sd, si, ar = ("strict_order" in on, "strict_deduplication" in on,
                      "strict_increase" in on, "allow_reentry" in on)
    chains = [[] for _ in range(n + 1)]       # chains[k]: [first, last, rows used]
    seen_first = False
    for t, k, rid in pairs:
        if k == 0:
            if seen_first:
                break
            continue
        if k == 1:
            chains[1].append((t, t, (rid,)))
            seen_first = True
        elif sd and chains[k]:
            break
        elif so and seen_first and not chains[k - 1]:
            if ar:
                continue
            break
        elif chains[k - 1]:
            prev = chains[k - 1]
            i = 0
            while i < len(prev):
                f, last, used = prev[i]
                ok = t <= f + window
                if not ok and len(prev) > 1:       # out of the window for good; one is kept
                    del prev[i]
                    continue
                ok = ok and rid not in used
                ok = ok and (not si or last < t)
                if ok:
                    chains[k].append((f, t, used + (rid,)))
                    if k == n:
                        return n
                i += 1
    return max((k for k in range(1, n + 1) if chains[k]), default=0)


def strict_once_depth(pairs, n, window, on):
    """strict_once_chains with the chains merged that cannot differ later: per level, the latest
    first among chains that ended before the current time (rows used no longer matter: a row's
    pairs all have its time), and the chains ending at the current time by the set of rows they
    used there (latest first kept).  The same answer in time linear in the pairs."""
    so, sd, si, ar = ("strict_order" in on, "strict_deduplication" in on,
                      "strict_increase" in on, "allow_reentry" in on)
    old = [None] * (n + 1)
    cur = [dict() for _ in range(n + 1)]      # {frozenset(rows used at the current time): first}
    ever = [False] * (n + 1)
    now = None
    seen_first = False
    for t, k, rid in pairs:
        if t != now:
            for lv in range(1, n + 1):
                if cur[lv]:
                    m = max(cur[lv].values())
                    if old[lv] is None or m > old[lv]:
                        old[lv] = m
                    cur[lv] = {}
            now = t
        if k == 0:
            if seen_first:
                break
            continue
        if k == 1:
            cur[1][frozenset((rid,))] = t
            ever[1] = seen_first = True
        elif sd and ever[k]:
            break
        elif so and seen_first and not ever[k - 1]:
            if ar:
                continue
            break
        elif ever[k - 1]:
            new = []
            if old[k - 1] is not None and t <= old[k - 1] + window:     # ended before t
                new.append((frozenset((rid,)), old[k - 1]))
            if not si:                                                   # ending at t
                for used, f in cur[k - 1].items():
                    if rid not in used and t <= f + window:
                        new.append((used | {rid}, f))
            for used, f in new:
                if cur[k].get(used, f) <= f:
                    cur[k][used] = f
            if new:
                ever[k] = True
                if k == n:
                    return n
    return max((k for k in range(1, n + 1) if ever[k]), default=0)


def unordered(kept, n, window):
    """(depth, times) of the unordered funnel over rows (ts, mask) sorted by time."""
    ev = [(t, m) for t, m in kept if m & ((1 << n) - 1)]
    counts = [0] * n
    distinct = 0
    best, best_t0 = 0, None
    lo = hi = 0
    for i, (t0, _) in enumerate(ev):
        if i and ev[i - 1][0] == t0:
            continue
        while lo < i:                       # rows before t0 leave
            for k in range(n):
                if ev[lo][1] >> k & 1:
                    counts[k] -= 1
                    distinct -= counts[k] == 0
            lo += 1
        while hi < len(ev) and ev[hi][0] <= t0 + window:
            for k in range(n):
                if ev[hi][1] >> k & 1:
                    distinct += counts[k] == 0
                    counts[k] += 1
            hi += 1
        if distinct > best:
            best, best_t0 = distinct, t0
    if not best:
        return 0, None
    firsts = {}
    for t, m in ev:
        if best_t0 <= t <= best_t0 + window:
            for k in range(n):
                if m >> k & 1:
                    firsts.setdefault(k, t)
    return best, sorted(firsts.values())


def reference(rows, n, window, opts=None):
    """(depth, times) of a group's rows [(ts, [steps]) with None for NULL]: depth None when every
    row is skipped; times None at depth 0 or under strict_once (uba rejects it)."""
    on = check_options(opts)
    kept = kept_rows(rows)
    if not kept:
        return None, None
    if "unordered" in on:
        return unordered(kept, n, window)
    pairs = pairs_of(kept, n, "strict_order" in on)
    if not pairs:
        return 0, None
    if "strict_once" in on:
        if "strict_order" not in on and n == 1:
            return 1, None
        return strict_once_depth(pairs, n, window, on), None
    return scan(pairs, n, window, on)


# ---------------------------------------------------------------- self-check

def rows_of(events, n):
    return [(t, [k + 1 in ks for k in range(n)]) for t, ks in events]


def depth_of(events, n, window_s, opts=None):
    return reference(rows_of(events, n), n, int(window_s * SEC), opts)[0]


def named(seq, names):
    """Events from [(seconds, name)] and the step names (a name may be several steps)."""
    return [(int(s * SEC), {i + 1 for i, x in enumerate(names) if x == name}) for s, name in seq]


def clickhouse_cases():
    """ClickHouse's tests (00632_aggregation_window_funnel), timestamps in seconds."""
    so, sd, si, once, ar = ({"strict_order": True}, {"strict_deduplication": True},
                            {"strict_increase": True}, {"strict_once": True},
                            {"strict_order": True, "allow_reentry": True})
    checked = 0

    def check(events, conds, window, want, opts=None):
        nonlocal checked
        n = len(conds)
        got = depth_of([(t, {i + 1 for i, c in enumerate(conds) if c(x)}) for t, x in events],
                       n, window, opts)
        assert got == want, (events, window, opts, got, want)
        checked += 1

    eq = lambda v: (lambda x: x == v)
    t1 = [(i * SEC, 1000 + i) for i in range(9)]
    check(t1, [eq(1000)], 10000, 1)
    check(t1, [eq(1000), eq(1001)], 10000, 2)
    check(t1, [eq(1000), eq(1001), eq(1002)], 10000, 3)
    check(t1, [eq(1000), eq(1001), eq(1002), eq(1008)], 10000, 4)
    check(t1, [eq(1000)], 1, 1)
    five = [eq(v) for v in range(1003, 1008)]
    check(t1, five, 2, 3)
    check(t1, five, 3, 4)
    check(t1, five, 4, 5)
    t2 = [((i + 1) * SEC, 1001 + i) for i in range(8)]
    check(t2, five, 4, 5)
    check(t2, [eq(1001), eq(1008)], 10000, 2)
    check(t2, [eq(1008), eq(1001)], 10000, 1)
    check(t2, [lambda x: x <= 1007, lambda x: x >= 1002, lambda x: x <= 1006,
               lambda x: x >= 1004], 4, 4)
    ts = [(s * SEC, e) for s, e in [(0, 1000), (10, 1001), (20, 1002), (30, 1003), (40, 1004),
                                    (50, 1005), (51, 1005), (60, 1006), (70, 1007), (80, 1008)]]
    seven = [eq(v) for v in range(1000, 1007)]
    check(ts, seven, 10000, 6, sd)
    check(ts, seven, 10000, 7)

    users = {1: "abc", 2: "adbc", 3: "aabbcc", 4: "aaaabbcc", 5: "aabbdcc", 6: "ccbbaa"}
    abc = [eq("a"), eq("b"), eq("c")]
    for opts, want in ((None, [3, 3, 3, 3, 3, 1]), (so, [3, 1, 3, 3, 2, 1]),
                       ({**so, **sd}, [3, 1, 2, 2, 2, 1])):
        for u, w in zip(users, want):
            check([((i + 1) * SEC, c) for i, c in enumerate(users[u])], abc, 86400, w, opts)
    check([(1 * SEC, "a"), (2 * SEC, "c"), (3 * SEC, "b")], abc, 10, 1, so)
    check([((i + 1) * SEC, c) for i, c in enumerate("abcbd")], abc + [eq("d")], 86400, 3, sd)

    # NULL columns: (a, b) per row; the conditions as ClickHouse's test writes them
    nn = {1: [("a1", "b1"), ("a2", "b2")], 2: [("a1", None), ("a2", None)], 3: [(None, None)],
          4: [(None, "b1"), ("a2", None), (None, "b3")]}
    for conds, opts, want in (
            ([lambda r: r[0] == "a1", lambda r: r[0] == "a2"], None, [2, 2, 0, 0]),
            ([lambda r: r[0] == "a1", lambda r: r[1] == "b2"], None, [2, 1, 0, 0]),
            ([lambda r: r[0] is None and r[1] is None], None, [0, 0, 1, 0]),
            ([lambda r: r[0] is None, lambda r: r[1] == "b3"], None, [0, 0, 1, 2]),
            ([lambda r: r[0] is None, lambda r: r[1] == "b3"], so, [0, 0, 1, 1])):
        for u, w in zip(nn, want):
            check([((i + 1) * SEC, r) for i, r in enumerate(nn[u])], conds, 86400, w, opts)

    inc = [(0, 1000), (SEC, 1001), (SEC, 1002), (SEC, 1003), (2 * SEC, 1004)]
    check(inc, [eq(v) for v in range(1000, 1005)], 10000, 5)
    check(inc, [eq(v) for v in range(1000, 1005)], 10000, 2, si)
    check(inc, [eq(1004)] * 3, 10000, 3)
    check(inc, [eq(1004)] * 3, 10000, 1, once)
    check(inc, [eq(1004)] * 3, 10000, 1, si)

    ff = {123: [(180, "failure"), (220, "failure"), (250, "success")],
          234: [(100, "failure"), (250, "failure")],
          345: [(200, "success"), (210, "failure"), (230, "success")]}
    fs = [eq("failure"), eq("failure"), eq("success")]
    for opts in ({**once, **si}, once, {**once, **sd}):
        for u, w in ((123, 3), (234, 2), (345, 1)):
            check([(s * SEC, e) for s, e in ff[u]], fs, 200, w, opts)

    # allow_reentry tests, with the answers of the code read; the stored .reference (0882b32b232a,
    # an earlier version) gives the answers in the comments, 14 of them different
    re_users = {1: "abac", 2: "ababc", 3: "abcbd", 4: "acb", 5: "abcabcd"}
    for opts, conds, want in (
            (so, abc, [3, 3, 3, 1, 3]),                        # that .reference: 2 2 3 1 3
            (ar, abc, [3, 3, 3, 2, 3]),                        # 3 3 3 1 3
            (so, abc + [eq("d")], [3, 3, 4, 1, 4]),            # 2 2 4 1 3
            (ar, abc + [eq("d")], [3, 3, 4, 2, 4]),            # 3 3 4 1 4
            ({**ar, **sd}, abc, [3, 2, 3, 2, 3])):             # 3 1 3 1 3 (old dedup bug)
        for u, w in zip(re_users, want):
            check([((i + 1) * SEC, c) for i, c in enumerate(re_users[u])], conds, 86400, w, opts)
    shop = {1: [(100, "bc"), (200, "vp"), (300, "bc"), (400, "cp")],
            2: [(100, "bc"), (200, "vp"), (250, "vp"), (300, "bc"), (400, "cp")],
            3: [(100, "bc"), (200, "vp"), (300, "cp")]}
    for opts, conds, want in (
            (so, [eq("bc"), eq("vp"), eq("cp")], [3, 3, 3]),                    # 2 2 3
            (ar, [eq("bc"), eq("vp"), eq("cp")], [3, 3, 3]),
            (so, [eq("bc"), eq("vp"), eq("bc"), eq("cp")], [1, 1, 1]),
            (ar, [eq("bc"), eq("vp"), eq("bc"), eq("cp")], [4, 4, 2])):          # 1 1 1
        for u, w in zip(shop, want):
            check([(s * SEC, e) for s, e in shop[u]], conds, 600, w, opts)
    return checked


def self_check(seed):
    checked = clickhouse_cases()
    D = 86400
    # ClickHouse's documentation: the phone example (window 6048000000000000 s, far past 70 days)
    phone = [(datetime.datetime(2019, 1, 29, 10), 1003), (datetime.datetime(2019, 1, 31, 9), 1007),
             (datetime.datetime(2019, 1, 30, 8), 1009), (datetime.datetime(2019, 2, 1, 8), 1010)]
    order = [1003, 1009, 1007, 1010]
    events = [(int((d - EPOCH_NAIVE).total_seconds() * SEC), {order.index(e) + 1}) for d, e in phone]
    assert depth_of(events, 4, 70 * D) == 4
    abc = ["A", "B", "C"]
    # strict_order: A->B->D->C stops at D (D is no step): 2; default 3
    e = named([(1, "A"), (2, "B"), (3, "D"), (4, "C")], abc)
    assert depth_of(e, 3, D, {"strict_order": True}) == 2 and depth_of(e, 3, D) == 3
    # allow_reentry: A->A->B->C is 3 (so it is without allow_reentry: a repeated step 1 restarts)
    e = named([(1, "A"), (2, "A"), (3, "B"), (4, "C")], abc)
    assert depth_of(e, 3, D, {"strict_order": True, "allow_reentry": True}) == 3
    assert depth_of(e, 3, D, {"strict_order": True}) == 3
    # the checkout example: begin, view, begin again, pay over steps (begin, view, begin, pay):
    # 4 with allow_reentry as documented; without it the first row already holds steps 1 and 3,
    # and 3 comes before 2: the code gives 1 (the documentation's comment says 2)
    co = ["begin", "view", "begin", "pay"]
    e = named([(1, "begin"), (2, "view"), (3, "begin"), (4, "pay")], co)
    assert depth_of(e, 4, 3600, {"strict_order": True, "allow_reentry": True}) == 4
    assert depth_of(e, 4, 3600, {"strict_order": True}) == 1
    assert depth_of(e, 4, 3600) == 4
    # strict_deduplication: A-B-C-B-D over A,B,C,D stops at the second B: 3
    e = named([(1, "A"), (2, "B"), (3, "C"), (4, "B"), (5, "D")], abc + ["D"])
    assert depth_of(e, 4, D, {"strict_deduplication": True}) == 3
    # the issue of ClickHouse PR 99003: install start login install ... -> 3, not 1
    e = named([(0, "i"), (5, "s"), (10, "l"), (15, "i")], ["i", "s", "l", "e"])
    assert depth_of(e, 4, 60, {"strict_deduplication": True}) == 3
    checked += 12

    def both(events, n, w, opts=None):
        return reference(rows_of(events, n), n, int(w * SEC), opts)

    # window inclusive, to the microsecond
    e = [(0, {1}), (600 * SEC, {2}), (600 * SEC + 1, {3})]
    assert both(e, 3, 600) == (2, [0, 600 * SEC])
    assert both(e, 3, 600 + 1e-6) == (3, [0, 600 * SEC, 600 * SEC + 1])
    # ties: steps at one time are taken in step order, from separate rows or one row
    e = [(5, {3}), (5, {2}), (5, {1})]
    assert both(e, 3, 1) == (3, [5, 5, 5])
    assert both(e, 3, 1, {"strict_increase": True}) == (1, [5])
    assert both(e, 3, 1, {"strict_once": True})[0] == 3          # three rows
    e = [(5, {1, 2, 3})]
    assert both(e, 3, 1) == (3, [5, 5, 5])
    assert both(e, 3, 1, {"strict_once": True})[0] == 1          # one row serves one step
    assert both(e, 3, 1, {"strict_order": True}) == (3, [5, 5, 5])
    assert both(e, 3, 1, {"unordered": True}) == (3, [5, 5, 5])
    # under strict_order one row holding steps 1 and 3 stops at its step 3 (2 unset)
    assert both([(5, {1, 3}), (6, {2}), (7, {3})], 3, 10, {"strict_order": True}) == (1, [5])
    assert both([(5, {1, 3}), (6, {2}), (7, {3})], 3, 10,
                {"strict_order": True, "allow_reentry": True}) == (3, [5, 6, 7])
    # a no-step row at the time of step 1 comes before it: no stop; at the time of step 2: a stop
    assert both([(5, set()), (5, {1}), (6, {2})], 2, 10, {"strict_order": True})[0] == 2
    assert both([(5, {1}), (6, set()), (6, {2})], 2, 10, {"strict_order": True})[0] == 1
    # a no-step row before any step 1 is ignored; steps before step 1 are ignored
    assert both([(1, set()), (2, {2}), (3, {1}), (4, {2})], 2, 10, {"strict_order": True})[0] == 2
    # NULLs: a NULL element is false, a NULL ts or NULL steps row is skipped (no stop either)
    rows = [(1 * SEC, [True, None]), (2 * SEC, None), (None, [False, True]), (3 * SEC, [None, True])]
    assert reference(rows, 2, 10 * SEC, {"strict_order": True}) == (2, [SEC, 3 * SEC])
    rows = [(1 * SEC, [True, None]), (2 * SEC, [None, None]), (3 * SEC, [False, True])]
    assert reference(rows, 2, 10 * SEC, {"strict_order": True}) == (1, [SEC])
    assert reference([(None, [True]), (SEC, None)], 1, SEC) == (None, None)
    assert reference([(SEC, [False, False])], 2, SEC) == (0, None)
    assert reference([(SEC, [False, False])], 2, SEC, {"strict_order": True}) == (0, None)
    # a later start replaces step 1 but deeper levels stay: A0 B1 A100 C101 (window 10) is 2
    e = [(0, {1}), (SEC, {2}), (100 * SEC, {1}), (101 * SEC, {3})]
    assert both(e, 3, 10) == (2, [0, SEC])
    # a later start reaches further: A0 B5 A8 B9 C12 (window 10) is 3, times from the start at 8
    e = [(0, {1}), (5 * SEC, {2}), (8 * SEC, {1}), (9 * SEC, {2}), (12 * SEC, {3})]
    assert both(e, 3, 10) == (3, [8 * SEC, 9 * SEC, 12 * SEC])
    # times are the deepest level's when first set, not a later, better chain's
    e = [(0, {1}), (2 * SEC, {2}), (3 * SEC, {1}), (4 * SEC, {2})]
    assert both(e, 3, 10) == (2, [0, 2 * SEC])
    # strict_increase keeps one chain a level: c1@0, c1@1, c2@1 gives 1 in ClickHouse, though
    # c1@0 -> c2@1 is a chain; strict_once + strict_increase keeps every chain and gives 2
    e = [(0, {1}), (SEC, {1}), (SEC, {2})]
    assert both(e, 2, 10, {"strict_increase": True}) == (1, [0])
    assert both(e, 2, 10, {"strict_once": True, "strict_increase": True})[0] == 2
    # strict_deduplication: a second row holding step 2 at the same time stops the scan
    e = [(0, {1}), (SEC, {2}), (SEC, {2}), (2 * SEC, {3})]
    assert both(e, 3, 10, {"strict_deduplication": True}) == (2, [0, SEC])
    assert both(e, 3, 10) == (3, [0, SEC, 2 * SEC])
    # strict_deduplication does not apply to step 1: a repeated step 1 restarts
    e = [(0, {1}), (SEC, {1}), (2 * SEC, {2})]
    assert both(e, 2, 10, {"strict_deduplication": True}) == (2, [SEC, 2 * SEC])
    # n = 1
    assert both([(3, {1}), (1, {1})], 1, 1) == (1, [1])
    assert both([(3, set())], 1, 1) == (0, None)
    # unordered: steps in any order within the window from some row holding a step
    e = [(0, {3}), (10 * SEC, {2}), (20 * SEC, {1}), (40 * SEC, {3}), (41 * SEC, {4})]
    assert both(e, 4, 20, {"unordered": True}) == (3, [0, 10 * SEC, 20 * SEC])
    assert both(e, 4, 30, {"unordered": True}) == (3, [0, 10 * SEC, 20 * SEC])
    assert both(e, 4, 31, {"unordered": True}) == (4, [10 * SEC, 20 * SEC, 40 * SEC, 41 * SEC])
    assert both([(0, {2}), (SEC, {2})], 3, 10, {"unordered": True}) == (1, [0])
    # option checks
    for bad in BAD_OPTIONS:
        try:
            check_options(bad)
            raise AssertionError(bad)
        except ValueError:
            pass
    checked += 40

    # random groups: the properties the reference must have
    rng = random.Random(seed)
    stats = {"strict_once chains = merged": 0, "default = longest chain": 0,
             "strict_once+strict_increase = exact increasing chain": 0, "times valid": 0,
             "unordered = brute force": 0, "strict_increase below exact": 0}
    once_modes = [{"strict_once": True, **dict.fromkeys(c, True)}
                  for r in range(4) for c in itertools.combinations(
                      ["strict_deduplication", "strict_order", "strict_increase"], r)]
    once_modes.append({"strict_once": True, "strict_order": True, "allow_reentry": True})
    for it in range(6000):
        n = rng.randint(1, 5)
        m = rng.randint(1, 12)
        events = []
        t = 0
        for _ in range(m):
            t += rng.choice([0, 0, 0, 1, 1, 2, 3, 5])
            events.append((t * SEC, {k for k in range(1, n + 1) if rng.random() < 0.35}))
        w = rng.choice([0, 1, 2, 3, 5, 8, 100])
        kept = kept_rows(rows_of(events, n))
        for opts in once_modes:
            on = check_options(opts)
            pairs = pairs_of(kept, n, "strict_order" in on)
            if not pairs:
                continue
            a = strict_once_chains(pairs, n, w * SEC, on)
            b = strict_once_depth(pairs, n, w * SEC, on)
            assert a == b, ("strict_once", events, n, w, opts, a, b)
            stats["strict_once chains = merged"] += 1
        got = both(events, n, w)
        assert got[0] == longest_chain(events, n, w * SEC, False), (events, n, w, got)
        stats["default = longest chain"] += 1
        exact = longest_chain(events, n, w * SEC, True)
        assert both(events, n, w, {"strict_once": True, "strict_increase": True})[0] == exact
        stats["strict_once+strict_increase = exact increasing chain"] += 1
        stats["strict_increase below exact"] += both(events, n, w, {"strict_increase": True})[0] < exact
        for opts in (None, {"strict_order": True}, {"strict_deduplication": True},
                     {"strict_increase": True}, {"strict_order": True, "allow_reentry": True},
                     {"strict_order": True, "strict_increase": True}):
            d, times = both(events, n, w, opts)
            assert_valid_times(events, d, times, w * SEC, opts and opts.get("strict_increase"))
            stats["times valid"] += 1
        d, times = both(events, n, w, {"unordered": True})
        assert d == unordered_brute(events, n, w * SEC), (events, n, w, d)
        if d:
            assert len(times) == d and times == sorted(times) and times[-1] - times[0] <= w * SEC
        stats["unordered = brute force"] += 1
    print(f"self-check of the reference: passed ({checked} fixed cases: ClickHouse's tests and "
          f"documentation, hand-made; on {it + 1} random groups: "
          + ", ".join(f"{k} {v}" for k, v in stats.items()) + ")")


def longest_chain(events, n, window, strictly_increasing):
    """The most steps 1..k reached by a chain from some start: events (ts, steps) taken in (ts,
    step) order, each later step no earlier (strictly later) than the one before, within window
    of the start; a row may serve several steps unless strictly_increasing."""
    pairs = sorted((t, k) for t, ks in events for k in ks if k <= n)
    best = 0
    for t0, k0 in pairs:
        if k0 != 1:
            continue
        reach, last = 1, t0
        for t, k in pairs:
            if t < t0 or t > t0 + window or k != reach + 1:
                continue
            if strictly_increasing and t <= last:
                continue
            if (t, k) < (t0, 1):
                continue
            reach, last = k, t
        best = max(best, reach)
    return best


def assert_valid_times(events, depth, times, window, strictly):
    if not depth:
        assert times is None
        return
    assert len(times) == depth, (depth, times)
    for j, t in enumerate(times):
        assert any(te == t and j + 1 in ks for te, ks in events), (events, times)
    for a, b in zip(times, times[1:]):
        assert a < b if strictly else a <= b, times
    assert times[-1] <= times[0] + window


def unordered_brute(events, n, window):
    best = 0
    for t0, ks in events:
        if not ks:
            continue
        steps = set()
        for t, ks2 in events:
            if t0 <= t <= t0 + window:
                steps |= ks2
        best = max(best, len(steps))
    return best


# ---------------------------------------------------------------- the synthetic log

GAP_SECONDS = [0, 0, 0, 0, 0, 1, 2, 5, 10, 30, 60, 60, 60, 120, 180, 300, 300, 600, 900, 1200,
               1800, 3600, 3600, 7200]


def random_users(n_users, rng):
    """{user: (n steps, [(ts in microseconds from EPOCH or None, [steps] or None)])}."""
    users = {}
    for u in range(1, n_users + 1):
        n = rng.randint(3, 5)
        p = [rng.choice([0.05, 0.15, 0.3, 0.5]) for _ in range(n)]
        p[0] = max(p[0], rng.choice([0.1, 0.3, 0.5]))
        p_null = rng.choice([0.0, 0.0, 0.05, 0.2])
        fractional = rng.random() < 0.2
        t = rng.randrange(86400) * SEC
        rows = []
        for _ in range(rng.randint(1, 60)):
            steps = [None if rng.random() < p_null else rng.random() < p[k] for k in range(n)]
            r = rng.random()
            if r < 0.02:
                rows.append((None, steps))
            elif r < 0.04:
                rows.append((t, None))
            else:
                rows.append((t, steps))
            gap = rng.choice(GAP_SECONDS) * SEC
            if fractional and gap and rng.random() < 0.5:
                gap += rng.choice([1, -1, SEC // 2, rng.randrange(SEC)])
            t += gap
        if u % 400 == 0:                 # every row skipped
            rows = [(None, s) if i % 2 else (t, None) for i, (t, s) in enumerate(rows)]
        elif u % 250 == 0:               # no step ever holds
            rows = [(t, [rng.choice([False, None]) for _ in range(n)]) for t, _ in rows]
        rng.shuffle(rows)
        users[u] = (n, rows)
    return users


def load(cur, users):
    cur.execute("DROP TABLE IF EXISTS pg_temp.funnel_ref_events")
    cur.execute("CREATE TEMP TABLE funnel_ref_events (user_id int, ts timestamptz, steps boolean[])")
    buf = io.StringIO()
    for u, (_, rows) in users.items():
        for t, steps in rows:
            ts = r"\N" if t is None else (EPOCH + datetime.timedelta(microseconds=t)).isoformat()
            st = r"\N" if steps is None else \
                "{" + ",".join("NULL" if s is None else ("t" if s else "f") for s in steps) + "}"
            buf.write(f"{u}\t{ts}\t{st}\n")
    buf.seek(0)
    cur.copy_expert("COPY funnel_ref_events FROM STDIN", buf)
    cur.execute("ANALYZE funnel_ref_events")
    return sum(len(rows) for _, rows in users.values())


# ---------------------------------------------------------------- comparison

SIGS = {
    "funnel3": "uba_funnel(timestamptz,interval,boolean[])",
    "funnel4": "uba_funnel(timestamptz,interval,boolean[],jsonb)",
    "times3": "uba_funnel_times(timestamptz,interval,boolean[])",
    "times4": "uba_funnel_times(timestamptz,interval,boolean[],jsonb)",
}


def available(dsn):
    import psycopg2
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as c:
            c.execute("SELECT " + ", ".join("to_regprocedure(%s) IS NOT NULL" for _ in SIGS),
                      list(SIGS.values()))
            return dict(zip(SIGS, c.fetchone()))
    finally:
        conn.close()


def wait_for(dsn, minutes):
    deadline = time.time() + minutes * 60
    while True:
        try:
            have = available(dsn)
        except Exception as e:                       # noqa: BLE001 - the server may be restarting
            print(f"cannot ask the server yet: {e}".strip(), file=sys.stderr)
            have = dict.fromkeys(SIGS, False)
        if all(have.values()) or time.time() + 60 > deadline:
            return have
        print("uba_funnel with options / uba_funnel_times not there yet; waiting a minute",
              file=sys.stderr)
        time.sleep(60)


def to_us(v):
    if v is None:
        return None
    if v.tzinfo is None:
        return int((v - EPOCH_NAIVE) / datetime.timedelta(microseconds=1))
    return int((v - EPOCH) / datetime.timedelta(microseconds=1))


def call(fn, opts, ts_expr, steps_expr, window_param):
    args = f"{ts_expr}, {window_param}, {steps_expr}"
    if opts is None:
        return f"{fn}({args})"
    return f"{fn}({args}, %(opts)s::jsonb)"


def run_config(cur, have, opts, table_sql, ts_expr, steps_expr, key, window_sql):
    """({group: depth} or None, {group: times in us} or None, notes, errors): each aggregate in
    its own query, so that an error in one does not hide the other; errors counts the aggregates
    that failed on an option set they must accept."""
    import psycopg2
    fsig, tsig = ("funnel3", "times3") if opts is None else ("funnel4", "times4")
    on = check_options(opts)
    params = {"w": window_sql, "opts": json.dumps(opts) if opts is not None else None}
    out, notes, errors = [], [], 0
    for fn, sig, wanted in (("uba_funnel", fsig, True),
                            ("uba_funnel_times", tsig, "strict_once" not in on)):
        if not wanted:
            out.append(None)
            continue
        if not have[sig]:
            notes.append(f"no {SIGS[sig]}")
            out.append(None)
            continue
        expr = call(fn, opts, ts_expr, steps_expr, "%(w)s::interval")
        try:
            cur.execute(f"SELECT {key}, {expr} FROM {table_sql} GROUP BY 1", params)
            rows = cur.fetchall()
        except psycopg2.Error as e:
            notes.append(f"{fn} error {e.pgcode}: {(e.diag.message_primary or str(e)).strip()}")
            errors += 1
            out.append(None)
            continue
        if fn == "uba_funnel":
            out.append(dict(rows))
        else:
            out.append({g: (None if v is None else [to_us(x) for x in v]) for g, v in rows})
    return out[0], out[1], notes, errors


def show_rows(rows, n):
    """A group's kept rows in order: seconds from the first, {steps} (- for a no-step row),
    plus the count of skipped rows."""
    kept = kept_rows(rows)
    skipped = len(rows) - len(kept)
    if not kept:
        return f"(all {skipped} rows skipped)"
    t0 = kept[0][0]
    out = []
    for t, m in kept:
        held = ",".join(str(k + 1) for k in range(n) if m >> k & 1) or "-"
        out.append(f"{(t - t0) / SEC:g}s:{{{held}}}")
    return " ".join(out) + (f" (+{skipped} skipped)" if skipped else "")


def compare(cur, have, groups, table_sql, ts_expr, steps_expr, key, windows, label, max_shown):
    """Compare every configuration and window over groups {key: (n, rows)}; the number of
    mismatches and of configurations not run."""
    print(f"\n### {label}\n")
    print("| configuration | window | groups | depth mismatches | times mismatches | notes |")
    print("|---|---|---:|---:|---:|---|")
    bad = not_run = 0
    shown = []
    for (name, opts), (wsql, wus) in itertools.product(CONFIGS, windows):
        t0 = time.perf_counter()
        got_d, got_t, notes, errors = run_config(cur, have, opts, table_sql, ts_expr, steps_expr,
                                                 key, wsql)
        sql_s = time.perf_counter() - t0
        bad += errors
        if got_d is None and got_t is None:
            not_run += not errors
            print(f"| {name} | {wsql} | - | - | - | not run: {'; '.join(notes)} |")
            continue
        t0 = time.perf_counter()
        bd = bt = 0
        for g, (n, rows) in groups.items():
            want_d, want_t = reference(rows, n, wus, opts)
            d_bad = got_d is not None and got_d.get(g, "absent") != want_d
            t_bad = got_t is not None and got_t.get(g, "absent") != want_t
            bd += d_bad
            bt += t_bad
            if (d_bad or t_bad) and len(shown) < max_shown:
                shown.append(f"- {name}, window {wsql}, {key} {g} ({n} steps): reference depth "
                             f"{want_d} times {want_t}; uba depth "
                             f"{None if got_d is None else got_d.get(g, 'absent')} times "
                             f"{None if got_t is None else got_t.get(g, 'absent')}\n  rows: "
                             f"{show_rows(rows, n)}")
        ref_s = time.perf_counter() - t0
        bad += bd + bt
        notes.append(f"SQL {sql_s:.2f} s, reference {ref_s:.2f} s")
        print(f"| {name} | {wsql} | {len(groups)} | {bd if got_d is not None else '-'} | "
              f"{bt if got_t is not None else '-'} | {'; '.join(notes)} |")
    if shown:
        print("\nfirst mismatches:\n")
        print("\n".join(shown))
    return bad, not_run


def check_errors(cur, have):
    """uba must reject the bad option sets; the number that it did not reject."""
    import psycopg2
    print("\n### option sets uba must reject\n")
    bad = 0
    cases = [("uba_funnel", "funnel4", o) for o in BAD_OPTIONS] + \
            [("uba_funnel_times", "times4", o) for o in TIMES_BAD_OPTIONS]
    for fn, sig, opts in cases:
        if not have[sig]:
            print(f"- {fn} {json.dumps(opts)}: not run (no {SIGS[sig]})")
            continue
        try:
            cur.execute(f"SELECT {fn}(ts, '1 hour', steps, %s::jsonb) FROM (VALUES "
                        "(now(), ARRAY[true, false])) v(ts, steps)", (json.dumps(opts),))
            cur.fetchall()
            print(f"- {fn} {json.dumps(opts)}: NOT rejected")
            bad += 1
        except psycopg2.Error as e:
            print(f"- {fn} {json.dumps(opts)}: rejected, {e.pgcode} "
                  f"{(e.diag.message_primary or '').strip()}")
    return bad


RETAIL_STEPS = ("ARRAY[quantity > 0, stock_code = '22423', stock_code IN ('22697', '22699')]")


def retail_groups(cur):
    cur.execute("SELECT to_regclass('retail_lines') IS NOT NULL")
    if not cur.fetchone()[0]:
        return None
    cur.execute(f"SELECT customer_id, invoice_date AT TIME ZONE 'UTC', {RETAIL_STEPS} "
                "FROM retail_lines WHERE customer_id IS NOT NULL")
    groups = {}
    for c, ts, steps in cur.fetchall():
        groups.setdefault(c, (3, []))[1].append((to_us(ts), steps))
    return groups


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", default="host=/tmp/pgdev port=5499 dbname=bench")
    ap.add_argument("--users", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--windows", default="600,3600", help="windows in seconds, comma-separated")
    ap.add_argument("--show", type=int, default=10, help="mismatches shown in full per data set")
    ap.add_argument("--wait", type=float, default=0,
                    help="minutes to wait for uba_funnel with options and uba_funnel_times")
    ap.add_argument("--no-retail", action="store_true", help="skip the Online Retail comparison")
    ap.add_argument("--skip-db", action="store_true", help="run the self-check alone")
    args = ap.parse_args()
    self_check(args.seed)
    if args.skip_db:
        return 0

    import psycopg2
    windows = [(f"{int(s)} seconds", int(s) * SEC) for s in args.windows.split(",")]
    have = wait_for(args.dsn, args.wait)
    if not have["funnel3"]:
        print("uba_funnel is not installed in this database", file=sys.stderr)
        return 2
    missing = [SIGS[k] for k, v in have.items() if not v]
    if missing:
        print(f"missing: {', '.join(missing)}; comparing what exists", file=sys.stderr)
    rng = random.Random(args.seed)
    users = random_users(args.users, rng)
    try:
        conn = psycopg2.connect(args.dsn)
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("SET TimeZone = 'UTC'")
        n_rows = load(cur, users)
        print(f"\n{n_rows} rows of {len(users)} users in funnel_ref_events (seed {args.seed}; "
              f"{sum(1 for n, r in users.values() if not kept_rows(r))} users with every row "
              f"skipped)")
        bad, not_run = compare(cur, have, users, "funnel_ref_events", "ts", "steps", "user_id",
                               windows, "synthetic click log, user by user", args.show)
        bad += check_errors(cur, have)
        if not args.no_retail:
            groups = retail_groups(cur)
            if groups is None:
                print("\n(no retail_lines table: Online Retail not compared)")
            else:
                b, nr = compare(cur, have, groups,
                                "retail_lines WHERE customer_id IS NOT NULL",
                                "invoice_date AT TIME ZONE 'UTC'", RETAIL_STEPS, "customer_id",
                                [("30 days", 30 * 86400 * SEC)],
                                f"Online Retail, {len(groups)} customers: a purchase, then 22423, "
                                "then 22697 or 22699", args.show)
                bad += b
                not_run += nr
    except psycopg2.Error as e:
        print(f"database part failed: {e}", file=sys.stderr)
        return 2
    print(f"\n{'no mismatches' if not bad else f'{bad} mismatches or unrejected option sets'}"
          + (f"; {not_run} configurations not run (aggregates missing)" if not_run else ""))
    if bad:
        return 1
    return 2 if not_run or missing else 0


if __name__ == "__main__":
    sys.exit(main())
