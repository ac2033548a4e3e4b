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
occurs in a later itemset within the gap of one of them.  Two implementations: prefixspan_first
(no gap; the fast one that is timed) and prefixspan_positions (any gap; keeps either every end
position or only the first).

Self-check (no database; alone with --skip-db): hand-made cases with known answers (ties,
repeats, a duplicate row, NULLs, the gap inclusive at its bound, a pattern that only a later end
position of its prefix can extend, the float threshold at c/N == min_support), then --logs seeded
random small logs (1 to 12 users, up to 10 events each, 2 to 6 items, timestamps in 0..9 s so
ties are common, duplicated rows, NULLs), each under several option sets (min_support 0.05 to 1,
max_length 1 to 5, max_gap 0 to 3 s): both PrefixSpans must equal a brute force that enumerates
candidates level-wise (frequent patterns extended by frequent items; all patterns over the
vocabulary when there are few) and tests every user by trying every choice of events
(itertools.combinations) against the definition, counting support as users / N >= min_support.

Against uba (SET TimeZone = 'UTC'; each query is

    SELECT pattern, length, users, support
      FROM uba_sequential_patterns((SELECT uba_prefixspan(user_id, ts, item, OPTIONS) FROM t))

and the output must be the reference's frequent set with equal users counts, patterns compared
as tuples of item texts; length = k and support = users / N are checked too):
- a seeded synthetic click log (table prefixspan_ref_events, dropped and recreated: --users
  users, 30 event names, Zipf-like background, planted sequences at known rates, ties, exact
  gap bounds, duplicate rows, NULLs in every column) with items as text and as integers, under the
  default options (3-argument call) and several option sets with and without max_gap_seconds;
  the planted rates are printed beside the supports found;
- edge cases (table prefixspan_ref_edge): the threshold at exactly c/N == min_support
  (7/100 >= 0.07 where ceil(0.07 * 100) = 8), users whose only rows have a NULL item (not in N),
  uuid items;
- the UCI Online Retail lines if table retail_lines exists (user = customer_id, ts = invoice_date,
  item = stock_code; rows without a customer are skipped as NULLs): min_support --retail-support
  (0.02), max_length 4, without a gap and with max_gap_seconds = 30 days.

Speed: a seeded log of --events events (1,000,000; --speed-users users, 200 items with Zipf-like
popularity and some first-order structure) in table prefixspan_bench (kept between runs when its
comment matches the parameters), min_support 0.01, max_length 5.  uba's time is the query above
end to end from the client (aggregate and listing, rows fetched); the reference's is reading the
same rows from the table with psycopg2 plus building the sequences and mining (read and mine are
also shown apart).  Medians of --repeat runs (default 1) after a warm-up of uba's query; the ratio
is uba / reference.  The two outputs must be equal.  The issue's target: PrefixSpan on 1M events
in seconds, not minutes.

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
import random
import statistics
import sys
import time
import uuid
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from itertools import combinations, product

import psycopg2
from psycopg2.extras import execute_values

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


def prefixspan(rows, options=None):
    """The reference: {pattern tuple: users}, N."""
    o = options_of(options)
    _, times, itemsets = sequences(rows)
    gap = round(o["max_gap_seconds"] * US)
    if gap:
        got = prefixspan_positions(times, itemsets, o["min_support"], o["max_length"], gap)
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
    bf = brute_force(rows, o, exhaustive)
    for name, got in (("prefixspan_positions", pos), ("brute force", bf)) + \
            ((("expected", want),) if want is not None else ()):
        if got != ref:
            raise AssertionError(f"{name} differs from the reference under {o} on {sorted(rows, key=repr)}:\n"
                                 f"  reference {sorted(ref.items())}\n  {name} {sorted(got.items())}")
    if not gap:                         # keeping every end position is right without a gap too
        assert prefixspan_positions(times, itemsets, o["min_support"], o["max_length"]) == ref
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
          f"in all: PrefixSpan (first end / every end) = brute force; "
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
    """Rows (user, ts in microseconds from EPOCH, item name) of a seeded click log: a Zipf-like
    background over 22 events (the 8 others rare), planted sequences (each user gets a planted
    pattern with its rate; a step of the planted events is 0 s, i.e. a tie, 1 time in 20, and
    3,600 s, the gap, or more, often), repeated rows, NULLs in every column and users whose only
    rows have a NULL item."""
    rng = random.Random(seed)
    weights = [1 / (r + 1) ** 1.1 for r in range(len(BACKGROUND))] + [0.004] * len(RARE)
    rows = []
    for u in range(1, n_users + 1):
        t = rng.randrange(60 * 86400) * US
        for _ in range(min(40, 1 + int(rng.expovariate(1 / 10)))):
            rows.append((u, t, rng.choices(EVENTS, weights)[0]))
            t += rng.choice(STEPS) * US
        for pattern, rate in PLANTED:
            if rng.random() < rate:
                t = rng.choice(rows[-1:])[1] - rng.randrange(3) * 3600 * US
                for x in pattern:
                    rows.append((u, t, x))
                    t += (0 if rng.random() < 0.05 else rng.choice(PLANTED_STEPS)) * US
        if rng.random() < 0.05:
            rows.append(rng.choice(rows[-3:]))                 # a repeated row
    for _ in range(20):
        u, t, x = rng.choice(rows)
        rows += [(None, t, x), (u, None, x), (u, t, None)]
    for u in range(n_users + 1, n_users + 4):                   # only NULL items: not in N
        rows.append((u, rng.randrange(60 * 86400) * US, None))
    rng.shuffle(rows)
    return rows


def planted_instances(rows, gap_us):
    """{pattern: users with a planted run of it whose own steps are valid (no tie, and within the
    gap when gap_us)}: a lower bound on the pattern's users, for the report."""
    return {p: rate for p, rate in PLANTED}


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
