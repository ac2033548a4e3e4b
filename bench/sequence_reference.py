#!/usr/bin/python3
"""uba_sequence_match and uba_sequence_count against an independent reference of ClickHouse's
sequenceMatch and sequenceCount, group by group.

The reference below is written from a description of ClickHouse's behaviour, not from uba's C
code.  Per group, the events are (timestamp, set of the condition numbers that hold); rows on
which no condition holds are dropped (a NULL condition is false); events are ordered by time,
ties by the bit mask of their conditions ascending (bit k-1 for condition k).  Patterns: (?N) one
event on which condition N holds, . any one event, .* any number of events (lazy), (?tOPS) with
OP one of <= < >= > == and S whole seconds; a match may start at any event.  If a condition
named in the pattern holds on no event of the group, match is false and count 0.

- Patterns without time conditions: Python's re module over the events written as tokens
  (<1,3> for conditions {1,3}): (?N) is a token containing N, . any token, .* a lazy run of
  tokens.  match = a search succeeds; count = successive searches, each from where the previous
  match ended (one event further on after an empty match), while events are left.
- Patterns with time conditions: a backtracking matcher written from the description of
  ClickHouse's algorithm (backtracking_search below: an implicit leading .*, a stack of
  (step, event, base) choice points, time conditions measured from the base event, trailing
  .*, (?t<=S), (?t<S) and (?t>=0) matching nothing at the end).  match = the first search
  succeeds; count = successive searches from where the previous one stopped.  When a backtrack
  finds no choice point left, the state is ClickHouse's (do_backtrack assigns each entry it pops
  before testing it): the last entry popped, i.e. step 0 with the event past the end, and the
  steps are then skipped from step 0.  This only matters for patterns with (?t<0): (?t<0) alone
  gives match 1, count 1; .*(?t==0).*(?t<0) gives 0, 0.  The two other readings of "the search
  failed" ('kept': skip from the step that failed, where the search stopped; 'failed': no match)
  are shown beside any mismatch.

The self-check first asserts ClickHouse's own expected answers (its functional tests) and that
the two implementations agree on random patterns without time conditions.  Then a seeded table
seq_ref_events (dropped and recreated here: --users users with 5 to 60 events each, many equal
timestamps, fractional seconds, rows on which no condition holds, NULL conditions) is compared,
for --patterns random patterns plus a few fixed edge cases, user by user:

    SELECT user_id, uba_sequence_match(p, ts, c1, c2, c3, c4),
           uba_sequence_count(p, ts, c1, c2, c3, c4) FROM seq_ref_events GROUP BY user_id

A pattern uba rejects with an error is listed apart, with the most loop passes the reference's
backtracking needs on one search of a group (counted as ClickHouse does: the pass that gives up
is not counted; ClickHouse raises past 1,000,000) and on all of a group's searches.  Two groups
built to need just under and just over 1,000,000 passes check the limit itself.  Markdown
tables give the patterns tried (with and without time conditions), the groups compared and the
mismatches, then the mismatches by pattern (with how many equal the other two readings) and
the first ones in full.  The exit status is 1 when anything differs, when uba rejects a pattern
the reference does within the limit, or when the limit check is not as expected.  Run (as a
role that may create a table) from the project root:

    /usr/bin/python3 bench/sequence_reference.py [--dsn DSN] [--users 3000] [--patterns 300] [--seed S]
    /usr/bin/python3 bench/sequence_reference.py --self-check-only     # no database
"""
import argparse
import datetime
import random
import re
import sys
import time

import psycopg2
from psycopg2.extras import execute_values

from benchlib import connect

MAX_ITERATIONS = 1000000          # ClickHouse's sequence_match_max_iterations
N_CONDITIONS = 4

# ---------------------------------------------------------------- patterns

EVENT, ANY, STAR, TIME = "event", "any", "star", "time"
TIME_OPS = {"<=": lambda d, s: d <= s, "<": lambda d, s: d < s, ">=": lambda d, s: d >= s,
            ">": lambda d, s: d > s, "==": lambda d, s: d == s}
TOKEN = re.compile(r"\(\?t(<=|<|>=|>|==)(\d+)\)|\(\?(\d+)\)|(\.\*)|(\.)")


def parse(pattern):
    """The steps of a pattern: (EVENT, k), (ANY,), (STAR,), (TIME, op, seconds)."""
    steps, pos = [], 0
    while pos < len(pattern):
        m = TOKEN.match(pattern, pos)
        if not m:
            raise ValueError(f"cannot parse {pattern!r} at {pos}")
        if m.group(1):
            if steps and steps[-1][0] == TIME:
                raise ValueError(f"time condition after a time condition in {pattern!r}")
            steps.append((TIME, m.group(1), int(m.group(2))))
        elif m.group(3):
            if int(m.group(3)) < 1:
                raise ValueError(f"condition 0 in {pattern!r}")
            steps.append((EVENT, int(m.group(3))))
        elif m.group(4):
            steps.append((STAR,))
        else:
            steps.append((ANY,))
        pos = m.end()
    return steps


def conditions_named(steps):
    return {st[1] for st in steps if st[0] == EVENT}


def has_time(steps):
    return any(st[0] == TIME for st in steps)


# ---------------------------------------------------------------- events

def prepare(rows):
    """(times in microseconds, condition bit masks) of a group's rows (ts_us, [c1..c4] with None
    for NULL): rows without a true condition dropped, ordered by time then mask."""
    ev = []
    for ts, conds in rows:
        mask = 0
        for k, c in enumerate(conds):
            if c:                      # NULL is false
                mask |= 1 << k
        if mask:
            ev.append((ts, mask))
    ev.sort()
    return [t for t, _ in ev], [m for _, m in ev]


def conditions_met(masks):
    met = 0
    for m in masks:
        met |= m
    return {k + 1 for k in range(N_CONDITIONS + 28) if met >> k & 1}


# ---------------------------------------------------------------- reference 1: regular expressions

ANY_TOKEN = r"<[^>]*>"


def to_regex(steps):
    parts = []
    for st in steps:
        if st[0] == EVENT:
            parts.append(r"<(?:\d+,)*%d(?:,\d+)*>" % st[1])
        elif st[0] == ANY:
            parts.append(ANY_TOKEN)
        elif st[0] == STAR:
            parts.append(r"(?:%s)*?" % ANY_TOKEN)
        else:
            raise ValueError("no time conditions in a regular expression")
    return re.compile("".join(parts))


def regex_reference(steps, masks):
    """(match, count) of a pattern without time conditions, by Python's re."""
    if not conditions_named(steps) <= conditions_met(masks):
        return False, 0
    rx = to_regex(steps)
    tokens = ["<" + ",".join(str(k + 1) for k in range(32) if m >> k & 1) + ">" for m in masks]
    text = "".join(tokens)
    offsets, token_at, off = [], {}, 0
    for i, tok in enumerate(tokens):
        offsets.append(off)
        token_at[off] = i
        off += len(tok)
    token_at[off] = len(tokens)
    n = len(tokens)
    match = rx.search(text) is not None
    count, start = 0, 0
    while start < n:
        m = rx.search(text, offsets[start])
        if m is None:
            break
        count += 1
        end = token_at[m.end()]
        start = end if end > start else start + 1
    return match, count


# ---------------------------------------------------------------- reference 2: backtracking

def skippable(st):
    """Steps that match nothing once the events have run out."""
    return (st[0] == STAR or (st[0] == TIME and st[1] in ("<=", "<"))
            or (st[0] == TIME and st[1] == ">=" and st[2] == 0))


def backtracking_search(steps, ts, masks, start, failed_state="clickhouse"):
    """One search from event `start`: (matched, where the next search starts, loop passes).

    failed_state says where the steps are skipped from when backtracking runs out of choice
    points: "clickhouse" (the state of the last choice point popped, its event moved on by one,
    as ClickHouse's do_backtrack leaves it), "kept" (the state at the failure) or "failed" (no
    skipping: the search fails)."""
    n = len(ts)
    steps = [(STAR,)] + steps
    a, e, b = 0, start, start
    stack = []
    passes = 0
    failed = False

    def backtrack():
        nonlocal a, e, b
        while stack:
            a2, e2, b2 = stack.pop()
            if failed_state == "clickhouse":
                a, e, b = a2, e2 + 1, b2
            if e2 + 1 < n:
                a, e, b = a2, e2 + 1, b2
                return True
        return False

    while a < len(steps) and e < n:
        st = steps[a]
        kind = st[0]
        if kind == EVENT:
            if masks[e] >> (st[1] - 1) & 1:
                b = e
                e += 1
                a += 1
            elif not backtrack():
                failed = True
                break
        elif kind == ANY:
            b = e
            e += 1
            a += 1
        elif kind == STAR:
            stack.append((a, e, b))
            b = e
            a += 1
        else:
            op, s = st[1], st[2]
            if TIME_OPS[op](ts[e] - ts[b], s * 1000000):
                stack.append((a, e, b))
                b = e
                a += 1
            elif op in ("<=", "<"):
                if not backtrack():
                    failed = True
                    break
            else:
                e += 1
                if e == n and not backtrack():
                    failed = True
                    break
        passes += 1                    # as ClickHouse: a pass that gives up is not counted
    if failed and failed_state == "failed":
        matched = False
    else:
        while a < len(steps) and skippable(steps[a]):
            a += 1
        matched = a == len(steps)
    return matched, (e if e != start else start + 1), passes


def backtracking_reference(steps, ts, masks, failed_state="clickhouse"):
    """(match, count, most loop passes of one search, loop passes of all searches)."""
    if not conditions_named(steps) <= conditions_met(masks):
        return False, 0, 0, 0
    n = len(ts)
    match, count, start, most, total = None, 0, 0, 0, 0
    if n == 0:                         # no search runs: the steps are skipped from the start
        matched, _, _ = backtracking_search(steps, ts, masks, 0, failed_state)
        return matched, 0, 0, 0
    while start < n:
        matched, start, passes = backtracking_search(steps, ts, masks, start, failed_state)
        most, total = max(most, passes), total + passes
        if match is None:
            match = matched
        if not matched:
            break
        count += 1
    return match, count, most, total


def reference(steps, ts, masks):
    """(match, count): the regular expressions without time conditions, else backtracking."""
    if has_time(steps):
        return backtracking_reference(steps, ts, masks)[:2]
    return regex_reference(steps, masks)


# ---------------------------------------------------------------- self-check

def self_check(seed):
    # the expectations of ClickHouse's functional tests of sequenceMatch / sequenceCount:
    # events 1 s apart, conditions data = 0, 1, 2, 3
    data = [0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1, 1]

    def group(values):
        rows = [(t * 1000000, [data[t] == v for v in values]) for t in range(len(data))]
        return prepare(rows)

    ts, masks = group([0, 1, 2, 3])
    expected = {
        "": (1, 12), ".": (1, 12), ".*": (1, 12), "(?1)": (1, 8), "(?2)": (1, 3), "(?3)": (1, 1),
        "(?4)": (0, 0), "(?1)(?1)": (1, 4), "(?1)(?1)(?1)": (1, 2), "(?1)(?1)(?1)(?1)": (1, 2),
        "(?1)(?1)(?1)(?1)(?1)": (0, 0), "(?1)(?1)(?1)(?1)(?2)": (1, 2),
        "(?1)(?t>10)(?2)": (1, 1), "(?1)(?t>11)(?2)": (0, 0), "(?1)(?t<11)(?2)": (1, 2),
        "(?1)(?t<3)(?3)": (1, 1), "(?1)(?t<=2)(?3)": (1, 1), "(?1)(?t<2)(?3)": (0, 0),
        "(?2)(?t>=7)(?2)": (1, 1), "(?2)(?t>7)(?2)": (0, 0), "(?2)(?3)(?1)": (1, 1),
    }
    for pattern, (m, c) in expected.items():
        steps = parse(pattern)
        assert reference(steps, ts, masks) == (bool(m), c), (pattern, reference(steps, ts, masks))
        assert backtracking_reference(steps, ts, masks)[:2] == (bool(m), c), pattern
    # after a backtrack that finds no choice point left, ClickHouse's state is that of the last
    # one popped (the implicit leading .* with its event moved past the end): the steps are
    # skipped from the first, so a pattern of .* and (?t<S) alone matches once, and a search
    # that failed on (?t<0) fails unless all of the pattern can be skipped
    assert reference(parse("(?t<0)"), ts, masks) == (True, 1)
    assert reference(parse(".*(?t==0).*(?t<0)"), ts, masks) == (False, 0)
    assert backtracking_reference(parse("(?t<0)"), ts, masks, "kept")[:2] == (True, 2)
    assert backtracking_reference(parse(".*(?t==0).*(?t<0)"), ts, masks, "kept")[:2] == (True, 2)
    assert backtracking_reference(parse("(?t<0)"), ts, masks, "failed")[:2] == (False, 0)
    ts, masks = group([1, 2])
    for pattern, (m, c) in {"(?1)(?t==2)(?2)": (0, 0), "(?1)(?t==1)(?2)": (1, 1)}.items():
        assert reference(parse(pattern), ts, masks) == (bool(m), c), pattern

    # a few of our own: ties ordered by mask, fractional seconds, empty groups of conditions
    ts, masks = prepare([(5, [False, True, None, None]), (5, [True, None, None, None]),
                         (1500005, [None, False, True, None]), (7, [None, None, None, None])])
    assert masks == [1, 2, 4] and ts == [5, 5, 1500005]
    assert reference(parse("(?1)(?2)"), ts, masks) == (True, 1)
    assert reference(parse("(?2)(?1)"), ts, masks) == (False, 0)
    assert reference(parse("(?1)(?t<=1)(?2)(?t<2)(?3)"), ts, masks) == (True, 1)
    assert reference(parse("(?2)(?t>1)(?3)"), ts, masks) == (True, 1)
    assert reference(parse("(?2)(?t>=2)(?3)"), ts, masks) == (False, 0)
    assert reference(parse("(?4)"), ts, masks) == (False, 0)
    assert reference(parse(".*"), [], []) == (True, 0)
    assert reference(parse("."), [], []) == (False, 0)

    # the two implementations agree on patterns without time conditions
    rng = random.Random(seed)
    agreed = 0
    for _ in range(20000):
        n = rng.randint(0, 12)
        ts = sorted(rng.randrange(20) * 1000000 for _ in range(n))
        masks = [rng.randint(1, 15) if rng.random() < 0.5 else 1 << rng.randrange(3)
                 for _ in range(n)]
        ev = sorted(zip(ts, masks))
        ts, masks = [t for t, _ in ev], [m for _, m in ev]
        steps = parse(random_pattern(rng, timed=False))
        want = regex_reference(steps, masks)
        got = backtracking_reference(steps, ts, masks)
        assert want[0] == got[0], ("match", steps, masks, want, got)
        assert want[1] == got[1], ("count", steps, masks, want, got)
        agreed += 1
    print(f"self-check of the reference: passed ({len(expected) + 2} ClickHouse cases; "
          f"regular expressions = backtracking on {agreed} random groups)")


# ---------------------------------------------------------------- random data and patterns

S_CHOICES = [0, 0, 1, 1, 2, 3, 5, 10, 30, 60, 120, 300, 600]
FIXED_PATTERNS = ["", ".*", "(?t<0)", ".*(?t<0)", "(?t<=0)", "(?t>=0)", "(?t>0)", "(?t==0)(?1)",
                  "(?1)(?t<0)", "(?1)(?t<=0)(?2)", "(?1)(?t==0)(?2)", "(?1)(?t>=0)(?1)",
                  "(?1).*(?t>600)(?2)", ".(?t==1).", "(?1)(?2)(?3)(?4)", "(?4)(?t<60)(?4)",
                  "(?t<0).*", ".*(?t==0).*(?t<0)", "(?t<=5).*(?t<0)"]


def random_pattern(rng, timed):
    """A valid pattern of 1 to 6 tokens over conditions 1..m (m from 1 to 4), with at least one
    time condition when timed, none otherwise."""
    m = rng.randint(1, N_CONDITIONS)
    while True:
        tokens, kinds = [], []
        for _ in range(rng.randint(1, 6)):
            r = rng.random()
            time_ok = not kinds or kinds[-1] != TIME
            if timed and time_ok and r < 0.3:
                op = rng.choice(list(TIME_OPS))
                s = rng.choice(S_CHOICES) if rng.random() < 0.8 else rng.randint(0, 600)
                tokens.append(f"(?t{op}{s})")
                kinds.append(TIME)
            elif r < 0.65:
                tokens.append(f"(?{rng.randint(1, m)})")
                kinds.append(EVENT)
            elif r < 0.8:
                tokens.append(".")
                kinds.append(ANY)
            else:
                tokens.append(".*")
                kinds.append(STAR)
        if (TIME in kinds) == timed:
            return "".join(tokens)


STEP_SECONDS = [0, 0, 0, 0, 1, 1, 2, 3, 5, 10, 30, 60, 60, 120, 300, 600, 601, 1800]
EPOCH = datetime.datetime(2024, 3, 1, tzinfo=datetime.timezone.utc)


def random_users(n_users, rng):
    """{user: [(ts in microseconds from EPOCH, [c1..c4] with None for NULL)]}."""
    users = {}
    for u in range(1, n_users + 1):
        t = rng.randrange(4 * 3600) * 1000000
        p = [rng.choice([0.05, 0.2, 0.4, 0.7]) for _ in range(N_CONDITIONS)]
        p_null = rng.choice([0.0, 0.1, 0.3])
        fractional = rng.random() < 0.3
        rows = []
        for _ in range(rng.randint(5, 60)):
            conds = [None if rng.random() < p_null else rng.random() < p[k]
                     for k in range(N_CONDITIONS)]
            rows.append((t, conds))
            step = rng.choice(STEP_SECONDS) * 1000000
            if fractional and rng.random() < 0.5:
                step += rng.choice([500000, 1, 999999, rng.randrange(1000000)])
            t += step
        if u % 500 == 0:               # a few users on whose rows no condition holds
            rows = [(t, [rng.choice([False, None]) for _ in range(N_CONDITIONS)]) for t, _ in rows]
        rng.shuffle(rows)
        users[u] = rows
    return users


def load(cur, users):
    cur.execute("DROP TABLE IF EXISTS seq_ref_events")
    cur.execute("CREATE TABLE seq_ref_events (user_id int, ts timestamptz, "
                "c1 bool, c2 bool, c3 bool, c4 bool)")
    rows = [(u, EPOCH + datetime.timedelta(microseconds=t), *conds)
            for u, ev in users.items() for t, conds in ev]
    execute_values(cur, "INSERT INTO seq_ref_events VALUES %s", rows, page_size=5000)
    cur.execute("ANALYZE seq_ref_events")
    return len(rows)


# ---------------------------------------------------------------- comparison

def wait_for_aggregates(dsn, minutes=20):
    """Wait (a minute at a time) until both aggregates exist; False after `minutes`."""
    deadline = time.time() + minutes * 60
    while True:
        try:
            conn = psycopg2.connect(dsn)
            try:
                with conn.cursor() as c:
                    c.execute("SELECT to_regprocedure('uba_sequence_match(text,timestamptz,boolean[])')"
                              " IS NOT NULL AND to_regprocedure("
                              "'uba_sequence_count(text,timestamptz,boolean[])') IS NOT NULL")
                    ok = c.fetchone()[0]
            finally:
                conn.close()
        except psycopg2.OperationalError as e:
            print(f"cannot connect yet: {e}".strip(), file=sys.stderr)
            ok = False
        if ok:
            return True
        if time.time() + 60 > deadline:
            return False
        print("uba_sequence_match / uba_sequence_count not there yet; waiting a minute",
              file=sys.stderr)
        time.sleep(60)


def show_events(rows):
    """A group's rows in order, times in seconds from its first row, conditions as 1..4
    (- for NULL), rows without a true condition marked dropped."""
    rows = sorted(rows, key=lambda r: (r[0], sum(1 << k for k, c in enumerate(r[1]) if c)))
    t0 = rows[0][0]
    out = []
    for t, conds in rows:
        held = [str(k + 1) for k, c in enumerate(conds) if c]
        nulls = [str(k + 1) for k, c in enumerate(conds) if c is None]
        s = f"{(t - t0) / 1e6:g}s:{{{','.join(held)}}}"
        if nulls:
            s += f"(NULL {','.join(nulls)})"
        if not held:
            s += "(dropped)"
        out.append(s)
    return " ".join(out)


SQL = "SELECT user_id, {} FROM seq_ref_events GROUP BY user_id"
MATCH = "uba_sequence_match(%s, ts, c1, c2, c3, c4)"
COUNT = "uba_sequence_count(%s, ts, c1, c2, c3, c4)"


def sql_error(e):
    msg = e.diag.message_primary or (e.pgerror or str(e)).strip().splitlines()[0]
    return e.pgcode, msg


def run_sql(cur, pattern):
    """({user: match} or None, {user: count} or None, {aggregate: (sqlstate, message)})."""
    try:
        cur.execute(SQL.format(MATCH + ", " + COUNT), (pattern, pattern))
        rows = cur.fetchall()
        return {u: m for u, m, _ in rows}, {u: c for u, _, c in rows}, {}
    except psycopg2.Error:
        pass
    out, errors = [], {}
    for name, expr in (("match", MATCH), ("count", COUNT)):
        try:
            cur.execute(SQL.format(expr), (pattern,))
            out.append(dict(cur.fetchall()))
        except psycopg2.Error as e:
            errors[name] = sql_error(e)
            out.append(None)
    return out[0], out[1], errors


# groups built to need just under and just over 1,000,000 passes of one search (found by
# trying sizes): n events with condition 2 alone, 121 s apart (so (?2)(?t<=120)(?2) never
# holds), then m events with condition 1 alone; the pattern never matches.
LIMIT_PATTERN = ".*.*(?2)(?t<=120)(?2)"
LIMIT_GROUPS = [(123, 2), (124, 1)]


def limit_rows(n, m):
    return ([(t * 121000000, [False, True, False, False]) for t in range(n)]
            + [((n + j) * 121000000, [True, False, False, False]) for j in range(1, m + 1)])


def check_limit(cur):
    """Markdown table of the limit check; the number of disagreements."""
    print(f"\n### the limit of 1,000,000 passes of one search: `{LIMIT_PATTERN}`\n")
    print("| group | events | reference: match, count | reference passes | expected | "
          "uba_sequence_match | uba_sequence_count |")
    print("|---|---:|---|---:|---|---|---|")
    bad = 0
    for n, m in LIMIT_GROUPS:
        rows = limit_rows(n, m)
        want_m, want_c, passes, _ = backtracking_reference(parse(LIMIT_PATTERN), *prepare(rows))
        too_costly = passes > MAX_ITERATIONS
        values = ",".join(cur.mogrify("(%s::timestamptz, %s, %s, %s, %s)",
                                      (EPOCH + datetime.timedelta(microseconds=t), *c)).decode()
                          for t, c in rows)
        got = []
        for expr, want in ((MATCH, want_m), (COUNT, want_c)):
            try:
                cur.execute(f"SELECT {expr} FROM (VALUES {values}) v(ts, c1, c2, c3, c4)",
                            (LIMIT_PATTERN,))
                v = cur.fetchone()[0]
                got.append(repr(v))
                bad += too_costly or v != want
            except psycopg2.Error as e:
                code, msg = sql_error(e)
                got.append(f"error {code}: {msg}")
                bad += not too_costly
        print(f"| {n} with condition 2, {m} with condition 1 | {n + m} | {want_m}, {want_c} | "
              f"{passes:,} | {'an error' if too_costly else 'an answer'} | {got[0]} | {got[1]} |")
    return bad


def describe_readings(steps, ts, masks, got):
    """Which other readings of a failed backtrack give uba's answer."""
    if not has_time(steps):
        return [f"backtracking gives {backtracking_reference(steps, ts, masks)[:2]}"]
    out = []
    for variant in ("kept", "failed"):
        alt = backtracking_reference(steps, ts, masks, failed_state=variant)[:2]
        out.append(f"{variant!r} reading {alt}" + (" = uba" if alt == got else ""))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", default="dbname=postgres")
    ap.add_argument("--users", type=int, default=3000)
    ap.add_argument("--patterns", type=int, default=300, help="random patterns (plus the fixed ones)")
    ap.add_argument("--seed", type=int, default=20240301)
    ap.add_argument("--self-check-only", action="store_true", help="check the reference, no database")
    args = ap.parse_args()
    self_check(args.seed)
    if args.self_check_only:
        return 0

    rng = random.Random(args.seed)
    users = random_users(args.users, rng)
    events = {u: prepare(rows) for u, rows in users.items()}
    patterns = list(FIXED_PATTERNS)
    seen = set(patterns)
    while len(patterns) < len(FIXED_PATTERNS) + args.patterns:
        p = random_pattern(rng, timed=len(patterns) % 2 == 0)
        if p not in seen:
            seen.add(p)
            patterns.append(p)

    if not wait_for_aggregates(args.dsn):
        print("uba_sequence_match / uba_sequence_count did not appear within 20 minutes",
              file=sys.stderr)
        return 2
    stats = {False: [0, 0, 0, 0, 0], True: [0, 0, 0, 0, 0]}  # patterns, groups, match, count, errors
    by_pattern, errors = {}, []
    ref_seconds = sql_seconds = 0.0
    try:
        cur = connect(args.dsn)
        n_rows = load(cur, users)
        print(f"\n{n_rows} rows of {len(users)} users in seq_ref_events "
              f"({sum(len(t) for t, _ in events.values())} with a true condition; "
              f"{sum(1 for t, _ in events.values() if not t)} users with none); "
              f"{len(patterns)} patterns ({len(FIXED_PATTERNS)} fixed, {args.patterns} random, "
              f"seed {args.seed})")
        for pattern in patterns:
            steps = parse(pattern)
            timed = has_time(steps)
            t0 = time.perf_counter()
            got_m, got_c, errs = run_sql(cur, pattern)
            sql_seconds += time.perf_counter() - t0
            t0 = time.perf_counter()
            st = stats[timed]
            st[0] += 1
            if errs:
                st[4] += 1
                passes = [backtracking_reference(steps, *events[u])[2:] for u in users]
                errors.append((pattern, errs, max(p for p, _ in passes), max(t for _, t in passes)))
            for u in users:
                want = reference(steps, *events[u])
                got = (None if got_m is None else got_m.get(u, "absent"),
                       None if got_c is None else got_c.get(u, "absent"))
                st[1] += 1
                bad_m = got_m is not None and got[0] != want[0]
                bad_c = got_c is not None and got[1] != want[1]
                st[2] += bad_m
                st[3] += bad_c
                if bad_m or bad_c:
                    by_pattern.setdefault(pattern, []).append((u, want, got, bad_m, bad_c))
            ref_seconds += time.perf_counter() - t0
        limit_bad = check_limit(cur)
    except psycopg2.Error as e:
        print(f"database part failed: {e}", file=sys.stderr)
        return 2

    print("\n### random and fixed patterns, user by user\n")
    print("| patterns | tried | groups compared | match mismatches | count mismatches | "
          "patterns uba rejected |")
    print("|---|---:|---:|---:|---:|---:|")
    for timed, label in ((False, "without time conditions"), (True, "with time conditions")):
        p, g, bm, bc, er = stats[timed]
        print(f"| {label} | {p} | {g} | {bm} | {bc} | {er} |")
    p, g, bm, bc, er = (sum(x) for x in zip(stats[False], stats[True]))
    print(f"| all | {p} | {g} | {bm} | {bc} | {er} |")
    print(f"\n(SQL {sql_seconds:.1f} s, reference {ref_seconds:.1f} s)")

    if errors:
        print("\npatterns uba rejected, with the most passes the reference's backtracking needs on "
              "one search of a group and on all of a group's searches (ClickHouse gives up past "
              f"{MAX_ITERATIONS:,} on one search):\n")
        for pattern, errs, most, most_total in errors:
            said = "; ".join(f"{k}: {code} {msg}" for k, (code, msg) in errs.items())
            verdict = "the reference is past the limit too" if most > MAX_ITERATIONS else \
                "the reference is within the limit" + \
                (" (past it over all searches)" if most_total > MAX_ITERATIONS else "")
            print(f"- `{pattern}`: {said}; reference {most:,} / {most_total:,} passes: {verdict}")

    if by_pattern:
        print("\n### mismatches by pattern\n")
        print("(other readings: what happens after a backtrack finds no choice point left; the "
              "reference takes ClickHouse's, 'kept' skips the steps from where the search failed, "
              "'failed' fails the search)\n")
        print("| pattern | groups differing | match | count | of them equal to the 'kept' reading "
              "| to the 'failed' reading |")
        print("|---|---:|---:|---:|---:|---:|")
        for pattern, rows in by_pattern.items():
            steps = parse(pattern)
            same = {"kept": 0, "failed": 0}
            if has_time(steps):
                for u, _, got, _, _ in rows:
                    for variant in same:
                        alt = backtracking_reference(steps, *events[u], failed_state=variant)[:2]
                        same[variant] += all(g is None or g == a for g, a in zip(got, alt))
            print(f"| `{pattern}` | {len(rows)} | {sum(r[3] for r in rows)} | "
                  f"{sum(r[4] for r in rows)} | {same['kept']} | {same['failed']} |")
        print("\nfirst mismatches (two a pattern):\n")
        for pattern, rows in list(by_pattern.items())[:8]:
            for u, want, got, bad_m, bad_c in rows[:2]:
                notes = describe_readings(parse(pattern), *events[u], got)
                what = " and ".join(w for w, b in (("match", bad_m), ("count", bad_c)) if b)
                print(f"- `{pattern}`, user {u}: {what} differ; (match, count) reference {want}, "
                      f"uba {got}" + (f" [{'; '.join(notes)}]" if notes else "")
                      + f"\n  events: {show_events(users[u])}")

    wrong_errors = sum(1 for _, _, most, _ in errors if most <= MAX_ITERATIONS)
    n_bad = sum(map(len, by_pattern.values()))
    print(f"\n{'all groups equal' if not n_bad else f'{n_bad} groups differ'}; "
          f"{len(errors)} patterns rejected by uba ({wrong_errors} within the reference's limit); "
          f"limit check: {'as expected' if not limit_bad else f'{limit_bad} answers unexpected'}")
    return 1 if n_bad or wrong_errors or limit_bad else 0


if __name__ == "__main__":
    sys.exit(main())
