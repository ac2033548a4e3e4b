#!/usr/bin/python3
"""uba_prefixspan / uba_sequential_patterns against an independent PrefixSpan, pattern by pattern,
and the two timed on 1,000,000 events.

Definitions (uba's documented semantics; the reference below is written from them, not from the
C code).  Input rows (user, ts, item); a row with any NULL is skipped, a repeated (user, ts, item)
counts once.  A user's events are ordered by ts; events with equal ts are simultaneous.  A pattern
is a list of items p1..pk (k >= 1, repeats allowed).  A user supports it when they have events
e1..ek with item(ej) = pj and ts(e1) < ts(e2) < ... < ts(ek) (strictly: simultaneous events never
follow one another) and, when max_gap_seconds > 0, ts(e(j+1)) - ts(ej) <= max_gap_seconds for
every j.  users = the supporting users, N = the distinct users of the rows kept, support =
users / N; a pattern is frequent when users / N >= min_support (as floats) and k <= max_length.
Options: min_support (default 0.05), max_length (default 5), max_gap_seconds (default 0 = none).

The reference is PrefixSpan (Pei et al. 2001) with pseudo-projection over each user's list of
distinct timestamps (an itemset per timestamp; an extension must come from a strictly later one).
Without a gap a projected user keeps the first position where the prefix can end (the earliest
end dominates); with a gap it keeps every such position, and an item extends the prefix when it
occurs in a later itemset within the gap of one of them.  Three implementations:
prefixspan_first (no gap: items are counted from each user's items sorted by last occurrence;
the one timed), prefixspan_windows (any gap: the itemsets that may follow an end form merged
windows; used for the gap cases) and prefixspan_positions (any gap, plainly: every itemset after
every end is scanned; keeps every end position, or only the first to show why that is wrong).

Self-check (no database; alone with --skip-db): hand-made cases with known answers (ties,
repeats, a duplicate row, NULLs, the gap inclusive at its bound, a pattern that only a later end
position of its prefix can extend, the float threshold at c/N == min_support), then --logs (600)
seeded random small logs (1 to 12 users, up to 10 events each, 2 to 6 items, times in 0..9 s so
ties are common, duplicated rows, NULLs), each under four random option sets (min_support 0.05
to 1, max_length 1 to 5, max_gap_seconds 0 to 3) and the defaults.  The three PrefixSpans must
equal each other and a brute force that enumerates candidates level-wise (frequent patterns
extended by frequent items; every pattern over the items when there are few) and tests each user
by trying every choice of events (itertools.combinations) against the definition, a pattern
being frequent when users / N >= min_support.

Against uba (SET TimeZone = 'UTC'; each query is

    SELECT pattern, length, users, support
      FROM uba_sequential_patterns((SELECT uba_prefixspan(user_id, ts, item, OPTIONS) FROM t))

and the output must be the reference's frequent set with equal users counts, patterns compared
as tuples of item texts; length = k and support = users / N are checked too):
- a seeded synthetic click log (table prefixspan_ref_events, dropped and recreated): --users
  (5,000) users, 30 event names (22 with Zipf-like popularity, 8 rare), four planted sequences
  at known rates (one with a repeated item, one of length 5), ties, steps at and just past the
  gap of 3,600 s, repeated rows, NULLs in every column; items as text and as integers; the
  defaults (the 3-argument call) and five option sets, with and without max_gap_seconds.  A
  table gives the users planted with each sequence (with no tie in the run; with every step
  within 3,600 s) beside the users found: the reference must find at least those with a valid
  run;
- edge cases (table prefixspan_ref_edge): the threshold at exactly c/N == min_support
  (7/100 >= 0.07 where ceil(0.07 * 100) = 8), users whose only rows have a NULL item (not in N),
  uuid items;
- the UCI Online Retail lines if table retail_lines exists (user = customer_id, ts = invoice_date,
  item = stock_code; rows without a customer are skipped as NULLs): min_support --retail-support
  (0.02), max_length 4, without a gap and with max_gap_seconds = 30 days.

Speed: a seeded log of --events (1,000,000) events in table prefixspan_bench (kept between
runs while its comment matches the parameters): --speed-users (50,000) users with exponential
lengths, --items (200) items with Zipf-like popularity (weight 1 / rank ** 0.7) and a 30 % chance
that an event is a fixed successor of the one before; min_support 0.01, max_length 5.  uba's
time is the query above end to end from the client (aggregate and listing, every row fetched),
with parallel plans allowed and serial, after an untimed run whose output is checked against the
reference.  The reference's time is reading the same rows from the table with psycopg2, building
the sequences and mining with prefixspan_first (read and mine are also shown apart).  Medians of
--repeat runs (default 1); the table gives reference / uba (how many times faster uba is) and
the last line uba / reference.  The issue's target: PrefixSpan on 1M events in seconds, not
minutes.

Markdown tables go to stdout, progress to stderr.  Exit status: 0 all equal, 1 a mismatch,
2 the database part could not run (e.g. the SQL functions are not installed yet; the tables are
still generated and loaded, and the reference's side is run and timed).  Run as a role that may
create tables, from the project root:

    /usr/bin/python3 bench/prefixspan_reference.py [--dsn DSN] [--users 5000] [--repeat 3]
    /usr/bin/python3 bench/prefixspan_reference.py --skip-db        # the self-check alone
"""
import argparse
import datetime
import hashlib
import io
import json
import math
import os
import random
import statistics
import sys
import time
import uuid
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from itertools import combinations, product

import psycopg2

DEFAULTS = {"min_support": 0.05, "max_length": 5, "max_gap_seconds": 0}
US = 1000000                            # microseconds a second
EPOCH = datetime.datetime(2024, 3, 1, tzinfo=datetime.timezone.utc)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the reference

def options_of(options):
    o = dict(DEFAULTS)
    o.update(options or {})
    return o


def sequences(rows):
    """Users' sequences from rows (user, ts in microseconds, item): rows with a None skipped,
    repeats once.  Returns (user keys, times, itemsets): per user the distinct times ascending
    and the tuple of distinct items at each."""
    at = defaultdict(lambda: defaultdict(set))
    for u, t, x in rows:
        if u is None or t is None or x is None:
            continue
        at[u][t].add(x)
    keys, times, itemsets = [], [], []
    for u, by_t in at.items():
        ts = sorted(by_t)
        keys.append(u)
        times.append(ts)
        itemsets.append([tuple(by_t[t]) for t in ts])
    return keys, times, itemsets


def min_count(n, min_support):
    """The least number of users c with c / n >= min_support (floats), n + 1 if none."""
    if n == 0:
        return 1
    c = max(1, min(n, math.ceil(min_support * n)))
    while c > 1 and (c - 1) / n >= min_support:
        c -= 1
    while c <= n and c / n < min_support:
        c += 1
    return c


def prefixspan_first(times, itemsets, min_support, max_length):
    """PrefixSpan without a gap: {pattern tuple: users}.  A projected user is (user, the first
    itemset index where the prefix can end); the items that can extend it are those whose last
    occurrence is later, a prefix of the user's items sorted by last occurrence descending."""
    n = len(times)
    need = min_count(n, min_support)
    occ, by_last, neg_last = [], [], []
    for sets in itemsets:
        o = defaultdict(list)
        for j, s in enumerate(sets):
            for x in s:
                o[x].append(j)
        order = sorted(o, key=lambda x: -o[x][-1])
        occ.append(dict(o))
        by_last.append(order)
        neg_last.append([-o[x][-1] for x in order])
    out = {}
    if need > n or max_length < 1:
        return out

    def grow(prefix, us, ps):
        ends, seen = [], []
        for u, p in zip(us, ps):
            k = bisect_left(neg_last[u], -p)
            ends.append(k)
            seen.extend(by_last[u][:k])
        counts = Counter(seen)
        frequent = [x for x, c in counts.items() if c >= need]
        for x in frequent:
            out[prefix + (x,)] = counts[x]
        if not frequent or len(prefix) + 1 >= max_length:
            return
        proj = {x: ([], []) for x in frequent}
        if len(seen) <= len(us) * len(frequent):
            for u, p, k in zip(us, ps, ends):   # through each user's items that follow p
                o = occ[u]
                for x in by_last[u][:k]:
                    lists = proj.get(x)
                    if lists is not None:
                        js = o[x]
                        lists[0].append(u)
                        lists[1].append(js[bisect_right(js, p)])
        else:
            for x, (us2, ps2) in proj.items():  # through the users for each frequent item
                for u, p in zip(us, ps):
                    js = occ[u].get(x)
                    if js is not None and js[-1] > p:
                        us2.append(u)
                        ps2.append(js[bisect_right(js, p)])
        for x, (us2, ps2) in proj.items():
            grow(prefix + (x,), us2, ps2)

    grow((), list(range(n)), [-1] * n)
    return out


def prefixspan_positions(times, itemsets, min_support, max_length, max_gap_us=0, keep_all=True):
    """PrefixSpan with any gap (0 = none): {pattern tuple: users}.  A projected user is (user,
    the itemset indexes where the prefix can end: all of them when keep_all, else only the
    first, which is right without a gap and wrong with one)."""
    n = len(times)
    need = min_count(n, min_support)
    out = {}
    if need > n or max_length < 1:
        return out

    def extensions(entries):
        ext = defaultdict(list)              # item -> [(user, end positions)]
        for u, ends in entries:
            ts, sets = times[u], itemsets[u]
            m = len(ts)
            if ends is None:
                js = range(m)
            elif not max_gap_us:
                js = range(ends[0] + 1, m)
            else:
                js, last = [], -1
                for p in ends:
                    bound = ts[p] + max_gap_us
                    j = max(p + 1, last + 1)
                    while j < m and ts[j] <= bound:
                        js.append(j)
                        j += 1
                    last = max(last, j - 1)
            local = defaultdict(list)
            for j in js:
                for x in sets[j]:
                    local[x].append(j)
            for x, e in local.items():
                ext[x].append((u, e if keep_all else e[:1]))
        return ext

    def grow(prefix, entries):
        for x, proj in extensions(entries).items():
            if len(proj) >= need:
                out[prefix + (x,)] = len(proj)
                if len(prefix) + 1 < max_length:
                    grow(prefix + (x,), proj)

    grow((), [(u, None) for u in range(n)])
    return out


def prefixspan_windows(times, itemsets, min_support, max_length, max_gap_us=0):
    """PrefixSpan with any gap (0 = none), the faster way: {pattern tuple: users}.  A projected
    user is (user, every itemset index where the prefix can end; only the first without a gap).
    The itemsets that may follow one of the ends form a few merged windows of indexes; the items
    in them are counted, and a frequent item's new ends are its occurrences inside the windows."""
    n = len(times)
    need = min_count(n, min_support)
    occ = []
    for sets in itemsets:
        o = defaultdict(list)
        for j, s in enumerate(sets):
            for x in s:
                o[x].append(j)
        occ.append(dict(o))
    out = {}
    if need > n or max_length < 1:
        return out

    def windows(u, ends):
        ts = times[u]
        m = len(ts)
        if ends is None:
            return [[0, m]]
        if not max_gap_us:
            return [[ends[0] + 1, m]] if ends[0] + 1 < m else []
        iv = []
        for p in ends:                   # ends ascending: windows start and end in order
            a, b = p + 1, bisect_right(ts, ts[p] + max_gap_us, p + 1)
            if a < b:
                if iv and a <= iv[-1][1]:
                    iv[-1][1] = b
                else:
                    iv.append([a, b])
        return iv

    def grow(prefix, entries):
        scanned, seen = [], []
        for u, ends in entries:
            iv = windows(u, ends)
            if iv:
                sets = itemsets[u]
                s = set()
                for a, b in iv:
                    for j in range(a, b):
                        s.update(sets[j])
                scanned.append((u, iv, s))
                seen.extend(s)
        counts = Counter(seen)
        frequent = [x for x, c in counts.items() if c >= need]
        for x in frequent:
            out[prefix + (x,)] = counts[x]
        if not frequent or len(prefix) + 1 >= max_length:
            return
        proj = {x: [] for x in frequent}
        for u, iv, s in scanned:
            o = occ[u]
            for x in s:
                lst = proj.get(x)
                if lst is not None:
                    js = o[x]
                    if max_gap_us:
                        e = []
                        for a, b in iv:
                            e.extend(js[bisect_left(js, a):bisect_left(js, b)])
                    else:
                        e = [js[bisect_left(js, iv[0][0])]]
                    lst.append((u, e))
        for x, entries2 in proj.items():
            grow(prefix + (x,), entries2)

    grow((), [(u, None) for u in range(n)])
    return out


def prefixspan(rows, options=None):
    """The reference: {pattern tuple: users}, N."""
    o = options_of(options)
    _, times, itemsets = sequences(rows)
    gap = round(o["max_gap_seconds"] * US)
    if gap:
        got = prefixspan_windows(times, itemsets, o["min_support"], o["max_length"], gap)
    else:
        got = prefixspan_first(times, itemsets, o["min_support"], o["max_length"])
    return got, len(times)


# ---------------------------------------------------------------- brute force

def user_events(rows):
    """{user: sorted distinct (ts, item)}, rows with a None skipped."""
    ev = defaultdict(set)
    for u, t, x in rows:
        if u is not None and t is not None and x is not None:
            ev[u].add((t, x))
    return {u: sorted(e, key=lambda e: (e[0], repr(e[1]))) for u, e in ev.items()}


def supports(events, pattern, max_gap_us):
    """Whether some choice of len(pattern) events, in time order, has the pattern's items, strictly
    increasing times and (with a gap) each step within the gap: by trying every choice."""
    want = set(pattern)
    evs = [e for e in events if e[1] in want]
    for choice in combinations(evs, len(pattern)):
        if all(e[1] == x for e, x in zip(choice, pattern)) and \
           all(b[0] > a[0] and (not max_gap_us or b[0] - a[0] <= max_gap_us)
               for a, b in zip(choice, choice[1:])):
            return True
    return False


def brute_force(rows, options=None, exhaustive=False):
    """{pattern: users} of every frequent pattern: candidates level by level (frequent patterns
    of length k extended by the frequent items, or every pattern over the items when
    exhaustive), each user tested by supports()."""
    o = options_of(options)
    ev = user_events(rows)
    n = len(ev)
    gap = round(o["max_gap_seconds"] * US)
    items = sorted({x for e in ev.values() for _, x in e}, key=repr)

    def count(p):
        return sum(supports(e, p, gap) for e in ev.values())

    out = {}
    if exhaustive:
        for k in range(1, o["max_length"] + 1):
            for p in product(items, repeat=k):
                c = count(p)
                if c and c / n >= o["min_support"]:
                    out[p] = c
        return out
    level = [(x,) for x in items]
    frequent_items = []
    k = 1
    while level and k <= o["max_length"]:
        found = []
        for p in level:
            c = count(p)
            if c and c / n >= o["min_support"]:
                out[p] = c
                found.append(p)
        if k == 1:
            frequent_items = [p[0] for p in found]
        level = [p + (x,) for p in found for x in frequent_items]
        k += 1
    return out


# ---------------------------------------------------------------- self-check

def random_log(rng):
    """A small random log: (rows, a description)."""
    n_users = rng.randint(1, 12)
    n_items = rng.randint(2, 6)
    weights = [rng.choice([1, 1, 2, 4, 8]) for _ in range(n_items)]
    horizon = rng.choice([3, 6, 10])
    rows = []
    for u in range(1, n_users + 1):
        for _ in range(rng.randint(1, 10)):
            rows.append((u, rng.randrange(horizon) * US,
                         rng.choices(range(n_items), weights)[0]))
    for _ in range(rng.randint(0, 3)):                      # duplicates
        rows.append(rng.choice(rows))
    if rng.random() < 0.3:                                  # NULLs, and a user with only NULLs
        u, t, x = rng.choice(rows)
        rows += [(None, t, x), (u, None, x), (u, t, None), (n_users + 1, t, None)]
    rng.shuffle(rows)
    return rows, f"{n_users} users, {n_items} items, times 0..{horizon - 1} s"


def random_options(rng):
    return {"min_support": rng.choice([0.05, 0.1, 0.2, 0.25, 1 / 3, 0.34, 0.5, 0.75, 1.0]),
            "max_length": rng.choice([1, 2, 3, 3, 4, 4, 5]),
            "max_gap_seconds": rng.choice([0, 0, 1, 2, 3])}


def check_case(rows, options, want=None, exhaustive=False):
    """The three implementations (and want, if given) agree; returns the answer."""
    o = options_of(options)
    ref, _ = prefixspan(rows, o)
    _, times, itemsets = sequences(rows)
    gap = round(o["max_gap_seconds"] * US)
    pos = prefixspan_positions(times, itemsets, o["min_support"], o["max_length"], gap)
    win = prefixspan_windows(times, itemsets, o["min_support"], o["max_length"], gap)
    bf = brute_force(rows, o, exhaustive)
    for name, got in (("prefixspan_positions", pos), ("prefixspan_windows", win),
                      ("brute force", bf)) + \
            ((("expected", want),) if want is not None else ()):
        if got != ref:
            raise AssertionError(f"{name} differs from the reference under {o} on {sorted(rows, key=repr)}:\n"
                                 f"  reference {sorted(ref.items())}\n  {name} {sorted(got.items())}")
    if not gap:                         # keeping every end position is right without a gap too
        assert prefixspan_positions(times, itemsets, o["min_support"], o["max_length"]) == ref
    else:                               # the reference without a gap, both ways
        assert prefixspan_first(times, itemsets, o["min_support"], o["max_length"]) == \
            prefixspan_windows(times, itemsets, o["min_support"], o["max_length"])
    return ref


def self_check(seed, n_logs):
    t0 = time.perf_counter()
    s = US
    # ties (B and C at 2 s), a repeat (A A), a duplicate row, NULLs, user 9 with only a NULL item
    rows = [(1, 1 * s, "A"), (1, 2 * s, "B"), (1, 2 * s, "C"), (1, 3 * s, "A"), (1, 2 * s, "B"),
            (2, 1 * s, "A"), (2, 1 * s, "B"), (2, 5 * s, "B"),
            (3, 1 * s, "C"), (3, 4 * s, "A"), (3, 10 * s, "B"),
            (None, 1 * s, "A"), (3, None, "B"), (9, 1 * s, None)]
    A, B, C = "A", "B", "C"
    cases = [
        ({"min_support": 0.5}, {(A,): 3, (B,): 3, (C,): 2, (A, B): 3, (C, A): 2}),
        ({"min_support": 0.5, "max_gap_seconds": 3}, {(A,): 3, (B,): 3, (C,): 2, (C, A): 2}),
        ({"min_support": 0.5, "max_gap_seconds": 2}, {(A,): 3, (B,): 3, (C,): 2}),
        ({"min_support": 0.5, "max_length": 1}, {(A,): 3, (B,): 3, (C,): 2}),
        ({"min_support": 0.34}, {(A,): 3, (B,): 3, (C,): 2, (A, B): 3, (C, A): 2}),
        ({"min_support": 1 / 3}, {(A,): 3, (B,): 3, (C,): 2, (A, B): 3, (C, A): 2, (A, A): 1,
                                  (A, C): 1, (B, A): 1, (B, B): 1, (C, B): 1, (A, B, A): 1,
                                  (C, A, B): 1, (A, C, A): 1}),
        ({"min_support": 1.0}, {(A,): 3, (B,): 3, (A, B): 3}),
    ]
    for options, want in cases:
        check_case(rows, options, want, exhaustive=True)
    assert prefixspan(rows)[1] == 3                       # user 9 (a NULL item only) is not in N
    # only the second A can start A B within 2 s: keeping the first end position is wrong
    rows = [(1, 0, A), (1, 10 * s, A), (1, 12 * s, B), (2, 5 * s, A), (2, 7 * s, B)]
    o = {"min_support": 1.0, "max_gap_seconds": 2}
    check_case(rows, o, {(A,): 2, (B,): 2, (A, B): 2}, exhaustive=True)
    _, times, itemsets = sequences(rows)
    assert prefixspan_positions(times, itemsets, 1.0, 5, 2 * s, keep_all=False) == {(A,): 2, (B,): 2}
    check_case(rows, dict(o, max_gap_seconds=1), {(A,): 2, (B,): 2}, exhaustive=True)
    check_case(rows, {"min_support": 0.5, "max_gap_seconds": 10},
               {(A,): 2, (B,): 2, (A, B): 2, (A, A): 1, (A, A, B): 1}, exhaustive=True)
    # the threshold is users / N >= min_support as floats: 7/100 >= 0.07 although
    # ceil(0.07 * 100) = 8; and 0.29 * 100 = 28.999999999999996
    assert math.ceil(0.07 * 100) == 8 and min_count(100, 0.07) == 7 and min_count(100, 0.29) == 29
    rows = [(u, 0, "x") for u in range(7)] + [(u, 0, "y") for u in range(7, 100)]
    check_case(rows, {"min_support": 0.07}, {("x",): 7, ("y",): 93})
    check_case(rows, {"min_support": 0.0700001}, {("y",): 93})
    assert min_count(0, 0.5) == 1 and prefixspan([], {})[0] == {}
    hand = len(cases) + 4

    # random small logs, each under several option sets
    rng = random.Random(seed)
    tried = patterns = exhaustive_runs = 0
    by_gap = Counter()
    for i in range(n_logs):
        rows, _ = random_log(rng)
        n_items = len({x for _, _, x in rows if x is not None})
        for _ in range(4):
            o = random_options(rng)
            exhaustive = n_items ** o["max_length"] <= 300
            got = check_case(rows, o, exhaustive=exhaustive)
            tried += 1
            exhaustive_runs += exhaustive
            patterns += len(got)
            by_gap[o["max_gap_seconds"] > 0] += 1
        # and with the defaults
        check_case(rows, None)
        tried += 1
        by_gap[False] += 1
    print(f"self-check of the reference: passed ({hand} hand-made cases; {n_logs} random logs x "
          f"{tried // max(n_logs, 1)} option sets = {tried} runs, {by_gap[True]} with a gap, "
          f"{exhaustive_runs} against every pattern over the items, {patterns:,} frequent patterns "
          f"in all: the three PrefixSpans = brute force; "
          f"{time.perf_counter() - t0:.1f} s)")


# ---------------------------------------------------------------- synthetic click log

BACKGROUND = ["home", "search", "view_item", "view_category", "add_to_cart", "remove_from_cart",
              "wishlist", "share", "login", "logout", "settings", "help", "faq", "contact",
              "newsletter", "compare", "filter", "sort", "zoom", "review_read", "video", "chat"]
RARE = ["signup", "verify_email", "onboarding", "first_purchase", "coupon", "checkout", "pay",
        "refer_friend"]
EVENTS = BACKGROUND + RARE                      # 30 event names; item_no = index + 1
PLANTED = [(("signup", "verify_email", "onboarding", "first_purchase"), 0.20),
           (("coupon", "checkout", "pay"), 0.10),
           (("coupon", "coupon", "pay", "refer_friend"), 0.06),
           (("search", "checkout", "pay", "pay", "refer_friend"), 0.04)]
STEPS = [0, 0, 1, 1, 5, 30, 60, 300, 1800, 3599, 3600, 3601, 86400]
PLANTED_STEPS = [1, 30, 600, 3599, 3600, 3600, 3601, 7200]
CLICK_GAP = 3600


def click_log(n_users, seed):
    """Rows (user, ts in microseconds from EPOCH, item name) of a seeded click log, and
    {planted pattern: [users given a run of it, of them with no tie in the run, of them with every
    step within CLICK_GAP]}.  A Zipf-like background over 22 events (the 8 others rare); each user
    gets each planted pattern with its rate, a step of the run being a tie (0 s) 1 time in 20 and
    often at, or just past, CLICK_GAP; repeated rows, NULLs in every column and users whose only
    rows have a NULL item."""
    rng = random.Random(seed)
    weights = [1 / (r + 1) ** 1.1 for r in range(len(BACKGROUND))] + [0.004] * len(RARE)
    rows = []
    planted = {p: [0, 0, 0] for p, _ in PLANTED}
    for u in range(1, n_users + 1):
        t = rng.randrange(60 * 86400) * US
        for _ in range(min(40, 1 + int(rng.expovariate(1 / 10)))):
            rows.append((u, t, rng.choices(EVENTS, weights)[0]))
            t += rng.choice(STEPS) * US
        for pattern, rate in PLANTED:
            if rng.random() < rate:
                t = rows[-1][1] - rng.randrange(3) * 3600 * US
                steps = [0 if rng.random() < 0.05 else rng.choice(PLANTED_STEPS)
                         for _ in pattern[1:]]
                for x, step in zip(pattern, steps + [0]):
                    rows.append((u, t, x))
                    t += step * US
                planted[pattern][0] += 1
                planted[pattern][1] += all(steps)
                planted[pattern][2] += all(0 < s <= CLICK_GAP for s in steps)
        if rng.random() < 0.05:
            rows.append(rng.choice(rows[-3:]))                 # a repeated row
    for _ in range(20):
        u, t, x = rng.choice(rows)
        rows += [(None, t, x), (u, None, x), (u, t, None)]
    for u in range(n_users + 1, n_users + 4):                   # only NULL items: not in N
        rows.append((u, rng.randrange(60 * 86400) * US, None))
    rng.shuffle(rows)
    return rows, planted


def ts_of(t_us):
    return None if t_us is None else EPOCH + datetime.timedelta(microseconds=t_us)


def copy_rows(cur, table, columns, rows):
    """COPY rows (tuples of Python values, None for NULL) into table."""
    def text(v):
        if v is None:
            return "\\N"
        if isinstance(v, datetime.datetime):
            return v.isoformat()
        return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    buf = io.StringIO()
    for r in rows:
        buf.write("\t".join(text(v) for v in r))
        buf.write("\n")
    buf.seek(0)
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buf)


def load_clicks(cur, rows):
    cur.execute("DROP TABLE IF EXISTS prefixspan_ref_events")
    cur.execute("CREATE TABLE prefixspan_ref_events (user_id int, ts timestamptz, item text, "
                "item_no int)")
    copy_rows(cur, "prefixspan_ref_events", ["user_id", "ts", "item", "item_no"],
              [(u, ts_of(t), x, None if x is None else EVENTS.index(x) + 1) for u, t, x in rows])
    cur.execute("ANALYZE prefixspan_ref_events")


def edge_log():
    """Rows of the edge cases: 100 users, 7 with x then y a minute later, 93 with y alone; users
    100..102 with only NULL items.  At min_support 0.07: x 7, y 100, (x, y) 7."""
    rows = []
    for u in range(100):
        if u < 7:
            rows.append((u, 0, "x"))
        rows.append((u, 60 * US, "y"))
    rows += [(u, 0, None) for u in range(100, 103)]
    return rows


def load_edge(cur, rows):
    cur.execute("DROP TABLE IF EXISTS prefixspan_ref_edge")
    cur.execute("CREATE TABLE prefixspan_ref_edge (user_id int, ts timestamptz, item text)")
    copy_rows(cur, "prefixspan_ref_edge", ["user_id", "ts", "item"],
              [(u, ts_of(t), x) for u, t, x in rows])


def md5_uuid(x):
    """PostgreSQL's md5(x)::uuid, as text."""
    return None if x is None else str(uuid.UUID(hashlib.md5(x.encode()).hexdigest()))


# ---------------------------------------------------------------- the speed log

SPEED_TABLE = "prefixspan_bench"
ZIPF_S = 0.7                            # item popularity: weight 1 / rank ** ZIPF_S


def speed_log(n_users, n_events, n_items, seed):
    """Rows (user, ts in microseconds from EPOCH, item 1..n_items) of exactly n_events events:
    users with about n_events / n_users events each (exponential lengths, at least 1), items
    Zipf-like (weight 1 / rank) with a 30 % chance that an event is the fixed successor of the
    one before, steps of about 2 minutes (5 % ties)."""
    rng = random.Random(seed)
    mean = n_events / n_users
    lengths = [1 + int(rng.expovariate(1 / max(mean - 0.5, 0.5))) for _ in range(n_users)]
    diff = n_events - sum(lengths)
    while diff:
        u = rng.randrange(n_users)
        if diff > 0:
            lengths[u] += 1
            diff -= 1
        elif lengths[u] > 1:
            lengths[u] -= 1
            diff += 1
    items = list(range(1, n_items + 1))
    cum = []
    acc = 0.0
    for r in range(n_items):
        acc += 1 / (r + 1) ** ZIPF_S
        cum.append(acc)
    successor = {x: rng.randint(1, n_items) for x in items}
    rows = []
    rand, choices, expo = rng.random, rng.choices, rng.expovariate
    for u, n in enumerate(lengths, 1):
        t = rng.randrange(30 * 86400) * US
        drawn = choices(items, cum_weights=cum, k=n)
        prev = None
        for x in drawn:
            if prev is not None and rand() < 0.3:
                x = successor[prev]
            rows.append((u, t, x))
            prev = x
            t += 0 if rand() < 0.05 else int(expo(1 / 120) * US) // US * US + US
    return rows


def speed_key(args):
    return (f"prefixspan_reference.py speed log: users={args.speed_users} events={args.events} "
            f"items={args.items} seed={args.seed}")


def ensure_speed_table(cur, args):
    """Create and load the speed table unless its comment says it holds these parameters."""
    key = speed_key(args)
    cur.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", (SPEED_TABLE,))
    if cur.fetchone()[0] == key:
        log(f"{SPEED_TABLE} already holds: {key}")
        return
    t0 = time.perf_counter()
    rows = speed_log(args.speed_users, args.events, args.items, args.seed)
    log(f"generated {len(rows):,} events in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    cur.execute(f"DROP TABLE IF EXISTS {SPEED_TABLE}")
    cur.execute(f"CREATE TABLE {SPEED_TABLE} (user_id int, ts timestamptz, item int)")
    copy_rows(cur, SPEED_TABLE, ["user_id", "ts", "item"], [(u, ts_of(t), x) for u, t, x in rows])
    cur.execute(f"VACUUM (FREEZE, ANALYZE) {SPEED_TABLE}")
    cur.execute(f"COMMENT ON TABLE {SPEED_TABLE} IS %s", (key,))
    log(f"loaded {SPEED_TABLE} in {time.perf_counter() - t0:.1f} s")


# ---------------------------------------------------------------- against uba

QUERY = ("SELECT pattern, length, users, support FROM uba_sequential_patterns("
         "(SELECT uba_prefixspan({user}, {ts}, {item}{options}) FROM {table}))")
EPOCH_US = "(extract(epoch FROM {ts}) * 1000000)::bigint"


def query(table, user, ts, item, options):
    """uba's query; options None: the three-argument call (the defaults)."""
    opts = "" if options is None else ", '" + json.dumps(options) + "'::jsonb"
    return QUERY.format(user=user, ts=ts, item=item, options=opts, table=table)


def connect_db(dsn):
    """An autocommit cursor with TimeZone UTC, or an error message (the extension is not created
    here)."""
    try:
        conn = psycopg2.connect(dsn)
    except psycopg2.OperationalError as e:
        return None, f"cannot connect: {str(e).strip()}"
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'uba'")
    row = cur.fetchone()
    if row is None:
        return None, "the uba extension is not installed in this database"
    cur.execute("SET TimeZone = 'UTC'")
    return cur, row[0]


def sql_present(cur):
    cur.execute("SELECT count(DISTINCT proname) FROM pg_proc "
                "WHERE proname IN ('uba_prefixspan', 'uba_sequential_patterns')")
    return cur.fetchone()[0] == 2


def wait_for_sql(cur, minutes):
    deadline = time.time() + minutes * 60
    while not sql_present(cur):
        if time.time() + 60 > deadline:
            return False
        log("uba_prefixspan / uba_sequential_patterns not there yet; waiting a minute")
        time.sleep(60)
    return True


def run_uba(cur, sql):
    """(seconds, rows) or (seconds, the error's message)."""
    t0 = time.perf_counter()
    try:
        cur.execute(sql)
        rows = cur.fetchall()
    except psycopg2.Error as e:
        msg = e.diag.message_primary or (e.pgerror or str(e)).strip().splitlines()[0]
        return time.perf_counter() - t0, f"error {e.pgcode}: {msg}"
    return time.perf_counter() - t0, rows


def as_text(found):
    """{pattern: users} with the items as text, as uba lists them."""
    return {tuple(str(x) for x in p): c for p, c in found.items()}


def compare(want, n, rows):
    """Differences between the reference ({pattern of texts: users}, N) and uba's rows."""
    got, dup, bad_length, bad_support, implied_n = {}, 0, 0, 0, set()
    for pattern, length, users, support in rows:
        key = tuple(pattern)
        dup += key in got
        got[key] = users
        bad_length += length != len(key)
        if support is None or abs(support - users / n) > 1e-12 * max(1.0, users / n):
            bad_support += 1
            if support:
                implied_n.add(round(users / support))
    missing = sorted(k for k in want if k not in got)
    extra = sorted(k for k in got if k not in want)
    differ = sorted(k for k in want if k in got and got[k] != want[k])
    return {"got": got, "missing": missing, "extra": extra, "differ": differ, "dup": dup,
            "bad_length": bad_length, "bad_support": bad_support, "implied_n": implied_n,
            "bad": len(missing) + len(extra) + len(differ) + dup + bad_length + bad_support}


def show(p):
    return "[" + ", ".join(p) + "]"


def print_mismatches(name, want, n, diff, limit=5):
    print(f"\n{name}: {len(diff['missing'])} missing from uba, {len(diff['extra'])} extra in uba, "
          f"{len(diff['differ'])} with other users, {diff['dup']} listed twice, "
          f"{diff['bad_length']} with a wrong length, {diff['bad_support']} with support != "
          f"users / {n}" + (f" (uba's supports imply N = {sorted(diff['implied_n'])[:5]})"
                            if diff["implied_n"] else ""))
    for p in diff["missing"][:limit]:
        print(f"- missing {show(p)}: reference {want[p]} users ({want[p] / n:.6f})")
    for p in diff["extra"][:limit]:
        print(f"- extra {show(p)}: uba {diff['got'][p]} users ({diff['got'][p] / n:.6f})")
    for p in diff["differ"][:limit]:
        print(f"- {show(p)}: reference {want[p]} users, uba {diff['got'][p]}")


CLICK_OPTIONS = [
    ("defaults (3-argument call)", "item", None),
    ("min_support 0.05, integer items", "item_no", {"min_support": 0.05}),
    ("min_support 0.02, max_length 5", "item", {"min_support": 0.02, "max_length": 5}),
    ("min_support 0.02, max_length 4, gap 3600 s", "item",
     {"min_support": 0.02, "max_length": 4, "max_gap_seconds": CLICK_GAP}),
    ("min_support 0.1, max_length 3, gap 1 day, integer items", "item_no",
     {"min_support": 0.1, "max_length": 3, "max_gap_seconds": 86400}),
    ("min_support 0.5", "item", {"min_support": 0.5}),
]
EDGE_OPTIONS = [
    ("edge: min_support 0.07 (7/100)", "item", {"min_support": 0.07},
     {("x",): 7, ("y",): 100, ("x", "y"): 7}),
    ("edge: min_support 0.07, uuid items", "md5(item)::uuid", {"min_support": 0.07}, None),
    ("edge: min_support 0.0700001", "item", {"min_support": 0.0700001}, {("y",): 100}),
    ("edge: min_support 1", "item", {"min_support": 1}, {("y",): 100}),
    ("edge: gap 59 s", "item", {"min_support": 0.07, "max_gap_seconds": 59},
     {("x",): 7, ("y",): 100}),
]
RETAIL_TS = "invoice_date AT TIME ZONE 'UTC'"


def correctness_cases(cur, args, present):
    """Run every correctness case: (rows of the results table, mismatching cases)."""
    table, bad = [], 0
    cases = []

    rows, planted = click_log(args.users, args.seed)
    load_clicks(cur, rows)
    log(f"loaded prefixspan_ref_events: {len(rows):,} rows")
    as_no = [(u, t, None if x is None else EVENTS.index(x) + 1) for u, t, x in rows]
    for name, item, options in CLICK_OPTIONS:
        cases.append((f"click log: {name}", "prefixspan_ref_events", "user_id", "ts", item,
                      options, as_no if item == "item_no" else rows, None))
    edge = edge_log()
    load_edge(cur, edge)
    as_uuid = [(u, t, md5_uuid(x)) for u, t, x in edge]
    for name, item, options, want in EDGE_OPTIONS:
        cases.append((name, "prefixspan_ref_edge", "user_id", "ts", item, options,
                      as_uuid if "uuid" in item else edge, want))
    cur.execute("SELECT to_regclass('retail_lines') IS NOT NULL")
    if cur.fetchone()[0]:
        cur.execute(f"SELECT customer_id, {EPOCH_US.format(ts=RETAIL_TS)}, stock_code "
                    "FROM retail_lines")
        retail = cur.fetchall()
        log(f"read retail_lines: {len(retail):,} rows")
        for name, options in (("", {"min_support": args.retail_support, "max_length": 4}),
                              (", gap 30 days", {"min_support": args.retail_support,
                                                 "max_length": 4,
                                                 "max_gap_seconds": 30 * 86400})):
            cases.append((f"Online Retail: min_support {args.retail_support}, max_length 4{name}",
                          "retail_lines", "customer_id", RETAIL_TS, "stock_code", options,
                          retail, None))
    else:
        print("\n(table retail_lines not found: the Online Retail cases are skipped; "
              "load it with psql -f data/load_online_retail.sql)")

    found_planted = {}
    for name, tbl, user, ts, item, options, data, expected in cases:
        t0 = time.perf_counter()
        found, n = prefixspan(data, options)
        ref_s = time.perf_counter() - t0
        want = as_text(found)
        if expected is not None:
            assert want == expected, (name, want)
        if options is None:
            found_planted = found
            for p, (_, valid, _) in planted.items():   # a valid planted run is a support
                assert found.get(p, 0) >= valid or valid / n < DEFAULTS["min_support"], p
        if options and options.get("max_gap_seconds") == CLICK_GAP:
            for p, (_, _, valid) in planted.items():
                assert len(p) > options["max_length"] or found.get(p, 0) >= valid or \
                    valid / n < options["min_support"], p
        o = json.dumps(options) if options is not None else "(defaults)"
        line = [name, f"`{o}`", f"{n:,}", f"{len(want):,}"]
        if not present:
            table.append(line + ["-"] * 5 + [f"{ref_s:.2f}", "-"])
            continue
        sql = query(tbl, user, ts, item, options)
        uba_s, got = run_uba(cur, sql)
        if isinstance(got, str):
            print(f"\n{name}: uba failed: {got}\n  {sql}")
            table.append(line + [got] + ["-"] * 4 + [f"{ref_s:.2f}", f"{uba_s:.2f}"])
            bad += 1
            continue
        diff = compare(want, n, got)
        if diff["bad"]:
            bad += 1
            print_mismatches(name, want, n, diff)
        table.append(line + [f"{len(diff['got']):,}", str(len(diff["missing"])),
                             str(len(diff["extra"])), str(len(diff["differ"])),
                             str(diff["dup"] + diff["bad_length"] + diff["bad_support"]),
                             f"{ref_s:.2f}", f"{uba_s:.2f}"])
        if options is None:
            found_planted = (found, diff["got"])

    print("\n### correctness: the pattern sets with users, reference against uba\n")
    print("| case | options | N | reference patterns | uba patterns | missing in uba | "
          "extra in uba | users differ | length, support or duplicates wrong | reference s | "
          "uba s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for line in table:
        print("| " + " | ".join(line) + " |")

    found, got = found_planted if isinstance(found_planted, tuple) else (found_planted, {})
    print(f"\nplanted sequences in the click log ({args.users:,} users; default options): users "
          "given a run, of them without a tie, of them with every step within "
          f"{CLICK_GAP} s; users found by the reference and by uba\n")
    print("| pattern | planted rate | planted users | no tie | within the gap | reference users | "
          "uba users |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for p, rate in PLANTED:
        given, valid, valid_gap = planted[p]
        print(f"| {show(p)} | {rate} | {given} | {valid} | {valid_gap} | {found.get(p, '-')} | "
              f"{got.get(p, '-') if present else 'n/a'} |")
    return bad


def load_average():
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def speed(cur, args, present):
    """Time uba and the reference on the speed log; the number of mismatching runs."""
    before = load_average()
    log(f"load average before the speed runs: {before}")
    ensure_speed_table(cur, args)
    options = {"min_support": args.speed_support, "max_length": args.speed_length}
    read_sql = (f"SELECT user_id, {EPOCH_US.format(ts='ts')}, item FROM {SPEED_TABLE}")
    ref = {"read": [], "mine": [], "total": []}
    want = None
    for i in range(args.repeat):
        t0 = time.perf_counter()
        cur.execute(read_sql)
        rows = cur.fetchall()
        t1 = time.perf_counter()
        found, n = prefixspan(rows, options)
        t2 = time.perf_counter()
        del rows
        ref["read"].append(t1 - t0)
        ref["mine"].append(t2 - t1)
        ref["total"].append(t2 - t0)
        want = as_text(found)
        log(f"reference run {i + 1}: read {t1 - t0:.2f} s, mine {t2 - t1:.2f} s, "
            f"{len(want):,} patterns")
    med = {k: statistics.median(v) for k, v in ref.items()}
    lengths = Counter(len(p) for p in want)
    print(f"\n(load average before the speed runs, 1, 5, 15 min: {before})")
    print(f"\n### speed: {args.events:,} events, {args.speed_users:,} users, {args.items} items "
          f"(table {SPEED_TABLE}), options `{json.dumps(options)}`\n")
    print(f"{len(want):,} frequent patterns (by length: "
          + ", ".join(f"{k}: {lengths[k]:,}" for k in sorted(lengths)) + f"); N = {n:,}\n")
    bad = 0
    sql = query(SPEED_TABLE, "user_id", "ts", "item", options)
    uba = {}
    if present:
        t, got = run_uba(cur, sql)            # the check, and a warm-up
        log(f"uba check run: {t:.2f} s")
        if isinstance(got, str):
            print(f"uba failed: {got}")
            return 1
        diff = compare(want, n, got)
        if diff["bad"]:
            bad = 1
            print_mismatches("speed log", want, n, diff)
        for plan in ("parallel", "serial"):
            cur.execute("RESET max_parallel_workers_per_gather" if plan == "parallel"
                        else "SET max_parallel_workers_per_gather = 0")
            ts = []
            for i in range(args.repeat):
                t, got = run_uba(cur, sql)
                ts.append(t)
                log(f"uba {plan} run {i + 1}: {t:.2f} s")
            uba[plan] = statistics.median(ts)
        cur.execute("RESET max_parallel_workers_per_gather")
    print(f"| what | median s of {args.repeat} | reference / uba |")
    print("|---|---:|---:|")
    for plan, s in uba.items():
        label = "parallel plans allowed" if plan == "parallel" else "serial"
        print(f"| uba: aggregate and listing ({label}) | {s:.2f} | {med['total'] / s:.1f}x |")
    print(f"| reference: read the rows (psycopg2) | {med['read']:.2f} | |")
    print(f"| reference: sequences and PrefixSpan | {med['mine']:.2f} | |")
    print(f"| reference: read and mine | {med['total']:.2f} | 1.0x |")
    if uba:
        print(f"\nuba / reference = {uba['parallel'] / med['total']:.4f} (parallel plans allowed), "
              f"{uba['serial'] / med['total']:.4f} (serial); outputs "
              f"{'equal' if not bad else 'DIFFER'}")
    print(f"\nuba's query: `{sql}`")
    print(f"\nload average (1, 5, 15 min) at the end: {load_average()}; {os.cpu_count()} CPUs")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", default="dbname=bench")
    ap.add_argument("--seed", type=int, default=20240301)
    ap.add_argument("--logs", type=int, default=600, help="random small logs of the self-check")
    ap.add_argument("--skip-db", action="store_true", help="the self-check alone, no database")
    ap.add_argument("--users", type=int, default=5000, help="users of the synthetic click log")
    ap.add_argument("--retail-support", type=float, default=0.02)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--events", type=int, default=1000000, help="events of the speed log")
    ap.add_argument("--speed-users", type=int, default=50000)
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--speed-support", type=float, default=0.01)
    ap.add_argument("--speed-length", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=1, help="timed runs of each side (medians)")
    ap.add_argument("--wait", type=float, default=0,
                    help="minutes to wait for the SQL functions to appear (0: do not wait)")
    args = ap.parse_args()

    self_check(args.seed, args.logs)
    if args.skip_db:
        return 0
    cur, version = connect_db(args.dsn)
    if cur is None:
        print(version, file=sys.stderr)
        return 2
    present = wait_for_sql(cur, args.wait) if args.wait else sql_present(cur)
    print(f"\nuba {version}; uba_prefixspan and uba_sequential_patterns "
          f"{'present' if present else 'NOT installed: the reference side alone is run'}")
    bad = correctness_cases(cur, args, present)
    if not args.skip_speed:
        bad += speed(cur, args, present)
    if not present:
        print("\nno comparison: uba_prefixspan / uba_sequential_patterns are not installed")
        return 2
    print(f"\n{'all equal' if not bad else f'{bad} cases differ or failed'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
