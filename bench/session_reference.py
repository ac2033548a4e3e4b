#!/usr/bin/python3
"""Reference implementation of uba's session-based next-item recommenders.

An independent, plain-Python implementation (numpy only for the synthetic generator) of the five
methods defined in the specification of uba's session recommenders: pop, markov (first-order
transitions), sr (sequential rules), vsknn (vector-multiplication session kNN) and stan
(sequence and time aware neighbourhood), with the specification's tie-breaking rules, and of its
next-item evaluation (hit@20, MRR@20, at most the first 5 prefixes of each test session).  It
is written from the definitions, not from uba's C code, and touches no database.  Its outputs are
the test fixtures the C results are checked against.

Definitions in short (the specification is the authority):
  - a session's events are ordered by (ts, item id); its time is its largest ts; sessions are
    ordered by recency = (session time, session id); df(i) = sessions containing item i; S = the
    number of training sessions.  Text ids compare by their UTF-8 bytes, integers numerically.
  - a query drops unknown items (c_1..c_L remain); p(i) = the last position of i in c.  A result
    is the n items with the largest score > 0, ties by item id ascending; exclude_seen drops the
    query's items first.  With L = 0 only pop answers.
  - pop: df(j) / S.  markov: count(c_L, j) / sum_b count(c_L, b) over consecutive pairs a != b.
    sr: rule(a, b) = sum of 1 / (q - p) over positions p < q <= p + steps with x_p = a != b = x_q.
  - vsknn / stan: candidates are the sample_size most recent training sessions holding a query
    item; the k most similar (ties: more recent first) add their distinct items' scores; see the
    specification for the weights.

Numerics.  markov and sr are computed exactly and rounded once (sr keeps integer numerators over
lcm(1..steps)).  In vsknn and stan every sum whose order the specification leaves open (a
session's similarity over the shared items, an item's score over the neighbours) is taken with
math.fsum, so the result does not depend on any iteration order, and two sessions sharing the
same query items get exactly the same similarity.  The specification's ties are ties of exact
values; where vsknn can reach one exact value by two floating-point paths (w(a) + w(b) against
w(c)), near-equal values are compared exactly (see NEAR_REL below).  Session time differences
are taken in integer microseconds and divided by 1e6.

Modes (run from the project root, /usr/bin/python3):

  bench/session_reference.py --make-fixtures [--data PATH]
      Reads UCI Online Retail (default ../shared/data/online-retail/online_retail.csv.gz), keeps
      the invoices of 2010-12-01 .. 2010-12-09 (sessions = invoices without cancellations, lines
      with Quantity > 0 and a StockCode; ts = InvoiceDate + k microseconds, k = the line's index
      among its invoice's kept lines), tests on the sessions whose time falls on the window's last
      2 days (2010-12-08 and 2010-12-09) and writes test/data/session_events.csv,
      session_queries.csv (the first 100 evaluation queries), session_reference.csv (every
      method's top 20 for them) and session_metrics_reference.csv (hit@20, MRR@20 over all
      evaluation queries).  Prints the split and the metrics.  Method configurations (the
      `method` column): pop, markov, sr, vsknn, stan with the default options (stan's `at` = the
      ts of the query's last event), vsknn_k50_s100_idf0 (k 50, sample_size 100,
      idf_weighting 0), sr_steps3 (steps 3) and vsknn_exclude_seen (exclude_seen true); every
      list is a top 20.  Deterministic: a second run writes the same bytes.

  bench/session_reference.py --synthetic --events N --seed S --out FILE
      Writes a synthetic click log session_id,item_id,ts (integer ids): items in themes, a
      sparse Markov chain inside each theme, popularity noise, repeats; geometric session
      lengths (mean 6); session starts spread over 30 days (--items 10000, --themes 300,
      --days 30 by default; see synthesize()).

  bench/session_reference.py --evaluate FILE --split-days D [--max-queries 2000]
      Time split (sessions whose time falls on the last D calendar days are the test set) and
      hit@20 / MRR@20 of every method, with training and evaluation times.  pop, markov and sr are
      evaluated on every query; vsknn and stan on an evenly spaced subset of at most
      --max-queries queries (pop, markov and sr are also shown on that subset).  stan's `at` is
      the ts of the prefix's last event.  Columns of canonical integers are read as integer ids,
      others as text, so the fixture's session_events.csv can be evaluated too (its extra `test`
      column is ignored; --split-days 2 gives the fixture's split and metrics).

  bench/session_reference.py --check FILE [--reference test/data/session_reference.csv]
      Compares a CSV method,query,rank,item_id,score written by uba for the fixture queries with
      the reference: per method the queries compared, how many top-20 lists are identical (ranks
      whose scores are within 1e-9 relative of each other count as ties, in any order), the
      largest absolute and relative score differences (rank by rank).  A tie block cut by the
      top-20 limit may hold other items of a score within 1e-9 of the block's.  Exit status 1
      when a list differs or a method is missing.

  bench/session_reference.py --self-test
      Hand-computed cases of every method on a four-session toy log, an exact tie that the
      doubles miss, and vsknn with idf_weighting 0 against an exact rational computation on
      200 random logs.
"""

import argparse
import csv
import datetime
import gzip
import heapq
import math
import os
import re
import sys
import time
from collections import defaultdict
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA_DIR = os.path.join(ROOT, 'test', 'data')
RETAIL = os.path.normpath(os.path.join(ROOT, '..', 'shared', 'data', 'online-retail',
                                       'online_retail.csv.gz'))

# The fixture window: whole calendar days from the start of the data; the last TEST_DAYS days of
# it are the test period.  2010-12-01 .. 2010-12-09 holds 22,130 kept lines (no trading on
# Saturday 2010-12-04); the test days are 2010-12-08 and 2010-12-09.
WINDOW_FIRST = datetime.date(2010, 12, 1)
WINDOW_LAST = datetime.date(2010, 12, 9)
TEST_DAYS = 2
N_FIXTURE_QUERIES = 100
TOP_N = 20
MAX_PREFIXES = 5

US_PER_DAY = 86_400_000_000
EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()


# --------------------------------------------------------------------------------------------
# ids and timestamps

def id_key(x):
    """Sort key of an id: integers numerically, text by its UTF-8 bytes (memcmp order)."""
    return x.encode('utf-8') if isinstance(x, str) else x


_day_of = {}


def parse_ts(s):
    """'YYYY-MM-DD HH:MM:SS[.ffffff][+00]' (UTC) -> integer microseconds since the epoch."""
    d = s[:10]
    days = _day_of.get(d)
    if days is None:
        days = datetime.date(int(d[0:4]), int(d[5:7]), int(d[8:10])).toordinal() - EPOCH_ORDINAL
        _day_of[d] = days
    if s[10] not in ' T' or s[13] != ':' or s[16] != ':':
        raise ValueError('bad timestamp %r' % s)
    us = (((days * 24 + int(s[11:13])) * 60 + int(s[14:16])) * 60 + int(s[17:19])) * 1_000_000
    rest = s[19:]
    if rest.startswith('.'):
        j = 1
        while j < len(rest) and rest[j].isdigit():
            j += 1
        frac = rest[1:j]
        if len(frac) > 6:
            raise ValueError('more than microseconds in %r' % s)
        us += int(frac.ljust(6, '0'))
        rest = rest[j:]
    if rest not in ('', '+00', '+00:00', '+0000', 'Z'):
        raise ValueError('timestamp not in UTC: %r' % s)
    return us


_date_text = {}


def format_ts(us):
    """Integer microseconds since the epoch -> 'YYYY-MM-DD HH:MM:SS.ffffff+00'."""
    days, rem = divmod(us, US_PER_DAY)
    d = _date_text.get(days)
    if d is None:
        d = datetime.date.fromordinal(days + EPOCH_ORDINAL).isoformat()
        _date_text[days] = d
    secs, micro = divmod(rem, 1_000_000)
    hh, rem_s = divmod(secs, 3600)
    mm, ss = divmod(rem_s, 60)
    return '%s %02d:%02d:%02d.%06d+00' % (d, hh, mm, ss, micro)


def day_of(us):
    return datetime.date.fromordinal(us // US_PER_DAY + EPOCH_ORDINAL)


# --------------------------------------------------------------------------------------------
# the model

# Exact ties.  The specification's ties are ties of the exact values.  pop, markov and sr scores
# are exact rationals rounded once, so equal doubles are equal values.  In stan, equal exact
# values come from the same terms (sums of distinct powers of e do not coincide, and the
# recency factors differ with the sessions' times), which fsum turns into the same double, so
# plain sorting of doubles is exact there too (barring such coincidences as two sessions exactly
# lambda_recency apart).  In vsknn one exact value can be reached by different sums (w(a) + w(b)
# against w(c) when p(a) + p(b) = p(c) and df(a) = df(b) = df(c); P / L^2 / 1 against
# 3P / L^2 / 3 with idf_weighting 0), whose doubles may differ in the last bits.  So where vsknn
# values within NEAR_REL (relative) of the next one but not all equal as doubles meet, their
# exact values are compared: a value is
#     (A + idf_weighting * sum over primes p of V_p ln p) / L^2
# with rational A and V_p (ln(S/df) written over the logarithms of primes).  sum V_p ln p is the
# logarithm of a rational number, transcendental unless every V_p is 0, so two values are equal
# exactly when their (A, V) are.  A run of equal doubles is taken as a tie without that test.
NEAR_REL = 1e-12


def near(a, b, rel=NEAR_REL):
    return abs(a - b) <= rel * max(abs(a), abs(b))


def ordered_with_ties(pairs, value, tie_key, exact_key=None):
    """pairs by value descending, equal values by tie_key.  With exact_key, a run of values each
    within NEAR_REL of the previous one whose doubles are not all equal is split into classes of
    equal exact_key, ordered by their largest double, each class by tie_key."""
    pairs = sorted(pairs, key=lambda x: (-value(x), tie_key(x)))
    if exact_key is None:
        return pairs
    out = []
    a = 0
    while a < len(pairs):
        b = a + 1
        while b < len(pairs) and near(value(pairs[b - 1]), value(pairs[b])):
            b += 1
        run = pairs[a:b]
        if value(run[0]) == value(run[-1]):
            out.extend(run)
        else:
            classes = {}
            for x in run:                       # descending: a class appears at its largest
                classes.setdefault(exact_key(x), []).append(x)
            for members in classes.values():
                out.extend(sorted(members, key=tie_key))
        a = b
    return out


def top_n(scores, n, exclude=(), exact_key=None):
    """The n (item, score) pairs with the largest score > 0, ties by item id ascending.
    exact_key(item): the exact value of the item's score, see ordered_with_ties."""
    pairs = [(j, s) for j, s in scores.items() if s > 0 and j not in exclude]
    if len(pairs) > n:
        nth = heapq.nlargest(n, (s for _, s in pairs))[-1]
        if exact_key is None:
            pairs = [js for js in pairs if js[1] >= nth]
        else:
            low = nth - 2 * NEAR_REL * nth       # the n-th's exact ties are all above this
            pairs = [js for js in pairs if js[1] >= low]
    key = None if exact_key is None else (lambda js: exact_key(js[0]))
    return ordered_with_ties(pairs, lambda js: js[1], lambda js: id_key(js[0]), key)[:n]


_factors = {}


def prime_exponents(n):
    """{prime: exponent} of a positive integer."""
    f = _factors.get(n)
    if f is None:
        f = {}
        m, d = n, 2
        while d * d <= m:
            while m % d == 0:
                f[d] = f.get(d, 0) + 1
                m //= d
            d += 1
        if m > 1:
            f[m] = f.get(m, 0) + 1
        _factors[n] = f
    return f


def order_session(events):
    """A session's events [(ts_us, item), ...] in the order (ts, item id)."""
    return sorted(events, key=lambda e: (e[0], id_key(e[1])))


class SessionModel:
    """Training sessions and the statistics every method needs.

    sessions: iterable of (session_id, [(ts_us, item), ...]).  Internally a session is known by
    its recency rank r (0 = the oldest): self.items[r] its items in click order, self.time[r]
    its time in microseconds.  self.index[i] = the ranks of the sessions holding item i,
    ascending (oldest first)."""

    def __init__(self, sessions):
        recs = []
        for sid, events in sessions:
            ev = order_session(events)
            recs.append((ev[-1][0], id_key(sid), sid, tuple(e[1] for e in ev)))
        recs.sort(key=lambda rec: (rec[0], rec[1]))
        self.S = len(recs)
        self.session_id = [rec[2] for rec in recs]
        self.time = [rec[0] for rec in recs]
        self.items = [rec[3] for rec in recs]
        index = defaultdict(list)
        for r, items in enumerate(self.items):
            for i in set(items):
                index[i].append(r)          # r increases, so every list stays sorted
        self.index = dict(index)
        self.df = {i: len(rs) for i, rs in self.index.items()}
        self.pop_ranking = sorted(self.df, key=lambda i: (-self.df[i], id_key(i)))
        self._markov = None
        self._sr = {}

    # ---- shared query preparation
    def prepare(self, query):
        """Known query items c_1..c_L, L and p(i) = the last (1-based) position of each."""
        c = [i for i in query if i in self.df]
        last = {}
        for q, i in enumerate(c, 1):
            last[i] = q
        return c, len(c), last

    # ---- pop
    def pop(self, query, n=TOP_N, exclude_seen=False):
        seen = set(i for i in query if i in self.df) if exclude_seen else ()
        out = []
        for i in self.pop_ranking:
            if len(out) == n:
                break
            if i not in seen:
                out.append((i, self.df[i] / self.S))
        return out

    # ---- markov
    def train_markov(self):
        if self._markov is None:
            counts = {}
            for items in self.items:
                for a, b in zip(items, items[1:]):
                    if a != b:
                        row = counts.get(a)
                        if row is None:
                            row = counts[a] = defaultdict(int)
                        row[b] += 1
            self._markov = {a: (dict(row), sum(row.values())) for a, row in counts.items()}
        return self._markov

    def markov(self, query, n=TOP_N, exclude_seen=False):
        c, L, last = self.prepare(query)
        if L == 0:
            return []
        entry = self.train_markov().get(c[-1])
        if entry is None:
            return []
        row, total = entry
        scores = {j: cnt / total for j, cnt in row.items()}
        return top_n(scores, n, last if exclude_seen else ())

    # ---- sr
    def train_sr(self, steps):
        """rule(a, b) * lcm(1..steps), as exact integers."""
        if steps not in self._sr:
            denom = math.lcm(*range(1, steps + 1))
            weight = [0] + [denom // d for d in range(1, steps + 1)]
            rules = {}
            for items in self.items:
                m = len(items)
                for p in range(m - 1):
                    a = items[p]
                    row = rules.get(a)
                    if row is None:
                        row = rules[a] = defaultdict(int)
                    for q in range(p + 1, min(m, p + steps + 1)):
                        b = items[q]
                        if b != a:
                            row[b] += weight[q - p]
            self._sr[steps] = (denom, {a: dict(row) for a, row in rules.items() if row})
        return self._sr[steps]

    def sr(self, query, n=TOP_N, steps=10, exclude_seen=False):
        c, L, last = self.prepare(query)
        if L == 0:
            return []
        denom, rules = self.train_sr(steps)
        row = rules.get(c[-1])
        if row is None:
            return []
        scores = {j: num / denom for j, num in row.items()}   # one correctly rounded division
        return top_n(scores, n, last if exclude_seen else ())

    # ---- neighbourhood methods
    def candidates(self, seen, sample_size):
        """Ranks of the sample_size most recent sessions holding a seen item, most recent first."""
        lists = [self.index[i] for i in seen]
        if len(lists) == 1:
            return lists[0][::-1][:sample_size]
        out = []
        previous = None
        for r in heapq.merge(*(reversed(rs) for rs in lists), reverse=True):
            if r != previous:
                out.append(r)
                previous = r
                if len(out) == sample_size:
                    break
        return out

    @staticmethod
    def nearest(sims, k, exact_key=None):
        """sims: [(sim, rank, ...)]; the k with the largest sim > 0, ties: more recent first."""
        positive = [x for x in sims if x[0] > 0]
        return ordered_with_ties(positive, lambda x: x[0], lambda x: -x[1], exact_key)[:k]

    @staticmethod
    def last_shared_position(c, session_items):
        """P = the largest position q (1-based) such that c_q is in the session."""
        for q in range(len(c), 0, -1):
            if c[q - 1] in session_items:
                return q
        raise AssertionError('a candidate shares no query item')

    def vsknn(self, query, n=TOP_N, k=100, sample_size=500, idf_weighting=1.0,
              exclude_seen=False):
        c, L, last = self.prepare(query)
        if L == 0:
            return []
        w = {}
        for i, p in last.items():
            idf = math.log(self.S / self.df[i])
            w[i] = (p / L) * (1.0 + idf_weighting * idf)

        # Exact values, for ties only: sim(n) * L^2 = A + idf_weighting * sum_p V_p ln p with
        # A = the sum of p(i) and V = the sum of p(i) * (exponents of S - exponents of df(i))
        # over the shared items i.
        def log_vector(i):
            v = dict(prime_exponents(self.S))
            for pr, e in prime_exponents(self.df[i]).items():
                v[pr] = v.get(pr, 0) - e
            return {pr: e for pr, e in v.items() if e}

        logs = {i: log_vector(i) for i in last} if idf_weighting != 0 else None

        def sim_exact(distinct):
            A = 0
            V = defaultdict(int)
            for i, p in last.items():
                if i in distinct:
                    A += p
                    if logs is not None:
                        for pr, e in logs[i].items():
                            V[pr] += p * e
            return A, frozenset((pr, e) for pr, e in V.items() if e)

        sims = []
        for r in self.candidates(last, sample_size):
            distinct = set(self.items[r])
            sim = math.fsum(w[i] for i in last if i in distinct) / L
            sims.append((sim, r, distinct))
        neighbours = self.nearest(sims, k, lambda x: sim_exact(x[2]))

        terms = defaultdict(list)
        steps = []
        for sim, r, distinct in neighbours:
            step = L - self.last_shared_position(c, distinct) + 1
            steps.append(step)
            decay = 1.0 / step
            v = sim * decay
            for j in distinct:
                terms[j].append(v)
        scores = {j: math.fsum(t) for j, t in terms.items()}

        def score_exact(j):
            A = Fraction(0)
            V = defaultdict(Fraction)
            for (_, _, distinct), step in zip(neighbours, steps):
                if j not in distinct:
                    continue
                a, vec = sim_exact(distinct)
                A += Fraction(a, step)
                for pr, e in vec:
                    V[pr] += Fraction(e, step)
            return A, frozenset((pr, e) for pr, e in V.items() if e)

        return top_n(scores, n, last if exclude_seen else (), score_exact)

    def stan(self, query, at_us, n=TOP_N, k=100, sample_size=500, lambda_position=1.0,
             lambda_recency=604800.0, lambda_item=1.0, exclude_seen=False):
        """at_us: the query's time, integer microseconds since the epoch."""
        c, L, last = self.prepare(query)
        if L == 0:
            return []
        w1 = {i: math.exp((p - L) / lambda_position) for i, p in last.items()}
        n_seen = len(last)
        sims = []
        for r in self.candidates(last, sample_size):
            first = {}
            for pos, x in enumerate(self.items[r], 1):
                if x not in first:
                    first[x] = pos
            age = max(0, at_us - self.time[r]) / 1e6           # seconds
            w2 = math.exp(-age / lambda_recency)
            sim = math.fsum(w1[i] for i in last if i in first) / math.sqrt(n_seen * len(first)) * w2
            sims.append((sim, r, first))
        terms = defaultdict(list)
        for sim, r, first in self.nearest(sims, k):
            m = c[self.last_shared_position(c, first) - 1]
            pos_m = first[m]
            for j, pos_j in first.items():
                terms[j].append(sim * math.exp(-abs(pos_j - pos_m) / lambda_item))
        scores = {j: math.fsum(t) for j, t in terms.items()}
        return top_n(scores, n, last if exclude_seen else ())


# The method configurations of the fixtures and of --evaluate: name -> function(model, query).
# A query is a dict with 'items' (the prefix) and 'at' (its last event's ts, microseconds).
METHODS = [
    ('pop', lambda m, q: m.pop(q['items'])),
    ('markov', lambda m, q: m.markov(q['items'])),
    ('sr', lambda m, q: m.sr(q['items'])),
    ('vsknn', lambda m, q: m.vsknn(q['items'])),
    ('stan', lambda m, q: m.stan(q['items'], q['at'])),
    ('vsknn_k50_s100_idf0',
     lambda m, q: m.vsknn(q['items'], k=50, sample_size=100, idf_weighting=0.0)),
    ('sr_steps3', lambda m, q: m.sr(q['items'], steps=3)),
    ('vsknn_exclude_seen', lambda m, q: m.vsknn(q['items'], exclude_seen=True)),
]
NEIGHBOUR_METHODS = {'vsknn', 'stan', 'vsknn_k50_s100_idf0', 'vsknn_exclude_seen'}


def train_for(model, name):
    """Build the method's tables ahead of evaluation so that training is timed apart."""
    if name.startswith('markov'):
        model.train_markov()
    elif name == 'sr':
        model.train_sr(10)
    elif name == 'sr_steps3':
        model.train_sr(3)


# --------------------------------------------------------------------------------------------
# split and evaluation

def split_sessions(sessions, first_test_day):
    """sessions: {sid: [(ts, item)]} -> (train, test) lists of (sid, ordered events); a session
    is a test session when the date of its time is first_test_day or later."""
    train, test = [], []
    for sid, events in sessions.items():
        ev = order_session(events)
        (test if day_of(ev[-1][0]) >= first_test_day else train).append((sid, ev))
    return train, test


def make_queries(test):
    """Evaluation queries, numbered from 1 in order of (session time, session id), then t."""
    ordered = sorted(test, key=lambda se: (se[1][-1][0], id_key(se[0])))
    queries = []
    for sid, ev in ordered:
        m = len(ev)
        for t in range(1, min(m - 1, MAX_PREFIXES) + 1):
            queries.append({'query': len(queries) + 1, 'session_id': sid, 't': t,
                            'items': [e[1] for e in ev[:t]], 'at': ev[t - 1][0],
                            'target': ev[t][1]})
    return queries


def evaluate(model, fn, queries):
    """(hit@20, MRR@20) of fn over queries (each query counts, answered or not)."""
    hits = 0
    rr = 0.0
    for q in queries:
        recs = fn(model, q)
        for rank, (item, _) in enumerate(recs[:TOP_N], 1):
            if item == q['target']:
                hits += 1
                rr += 1.0 / rank
                break
    nq = len(queries)
    return (hits / nq, rr / nq) if nq else (float('nan'), float('nan'))


# --------------------------------------------------------------------------------------------
# --make-fixtures

def read_retail(path):
    """Kept lines of the window as {invoice: [(ts_us, stock_code)]} and the number of invoices
    whose lines carry more than one InvoiceDate."""
    sessions = defaultdict(list)
    k_of = defaultdict(int)
    dates_of = defaultdict(set)
    first_us = parse_ts(WINDOW_FIRST.isoformat() + ' 00:00:00')
    end_us = parse_ts((WINDOW_LAST + datetime.timedelta(days=1)).isoformat() + ' 00:00:00')
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rt', encoding='utf-8', newline='') as f:
        reader = csv.reader(f)
        header = next(reader)
        col = {name: j for j, name in enumerate(header)}
        ji, js, jq, jd = col['InvoiceNo'], col['StockCode'], col['Quantity'], col['InvoiceDate']
        for row in reader:
            inv, code = row[ji], row[js]
            if inv.startswith('C') or int(row[jq]) <= 0 or code == '':
                continue
            if len(row[jd]) != 19:
                raise ValueError('unexpected InvoiceDate %r' % row[jd])
            k = k_of[inv]
            k_of[inv] = k + 1
            ts = parse_ts(row[jd]) + k
            if first_us <= ts < end_us:
                sessions[inv].append((ts, code))
                dates_of[inv].add(row[jd])
    multi = sum(1 for s in dates_of.values() if len(s) > 1)
    return dict(sessions), multi


def write_csv(path, header, rows):
    with open(path, 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(header)
        w.writerows(rows)


def make_fixtures(args):
    t0 = time.time()
    sessions, multi = read_retail(args.data)
    first_test_day = WINDOW_LAST - datetime.timedelta(days=TEST_DAYS - 1)
    train, test = split_sessions(sessions, first_test_day)
    test_ids = set(sid for sid, _ in test)
    model = SessionModel(train)
    queries = make_queries(test)
    n_train_ev = sum(len(ev) for _, ev in train)
    n_test_ev = sum(len(ev) for _, ev in test)
    train_items = set(model.df)
    test_items = set(e[1] for _, ev in test for e in ev)
    unknown_targets = sum(1 for q in queries if q['target'] not in model.df)
    empty_queries = sum(1 for q in queries if not any(i in model.df for i in q['items']))

    print('window %s .. %s (%d calendar days), test days %s .. %s'
          % (WINDOW_FIRST, WINDOW_LAST, (WINDOW_LAST - WINDOW_FIRST).days + 1,
             first_test_day, WINDOW_LAST))
    print('events %d in %d sessions (invoices with lines at more than one InvoiceDate: %d)'
          % (n_train_ev + n_test_ev, len(sessions), multi))
    print('train: %d sessions, %d events, %d items' % (len(train), n_train_ev, len(train_items)))
    print('test:  %d sessions, %d events, %d items (%d not in training)'
          % (len(test), n_test_ev, len(test_items), len(test_items - train_items)))
    print('evaluation queries: %d (from %d test sessions with >= 2 events); targets unknown to '
          'training: %d; queries with no known item: %d'
          % (len(queries), sum(1 for _, ev in test if len(ev) >= 2), unknown_targets,
             empty_queries))

    os.makedirs(args.out_dir, exist_ok=True)
    # events, sorted by session id (byte order) then ts
    rows = []
    for sid in sorted(sessions, key=id_key):
        flag = 't' if sid in test_ids else 'f'
        for ts, item in order_session(sessions[sid]):
            rows.append((sid, item, format_ts(ts), flag))
    write_csv(os.path.join(args.out_dir, 'session_events.csv'),
              ['session_id', 'item_id', 'ts', 'test'], rows)

    fixture_q = queries[:N_FIXTURE_QUERIES]
    write_csv(os.path.join(args.out_dir, 'session_queries.csv'),
              ['query', 'session_id', 't', 'target'],
              [(q['query'], q['session_id'], q['t'], q['target']) for q in fixture_q])

    ref_rows = []
    metric_rows = []
    print()
    print('%-22s %8s %14s %12s %8s' % ('method', 'queries', 'hit_rate_at_20', 'mrr_at_20', 'sec'))
    for name, fn in METHODS:
        for q in fixture_q:
            for rank, (item, score) in enumerate(fn(model, q), 1):
                ref_rows.append((name, q['query'], rank, item, repr(score)))
        t1 = time.time()
        hit, mrr = evaluate(model, fn, queries)
        metric_rows.append((name, len(queries), repr(hit), repr(mrr)))
        print('%-22s %8d %14.6f %12.6f %8.2f' % (name, len(queries), hit, mrr, time.time() - t1))
    write_csv(os.path.join(args.out_dir, 'session_reference.csv'),
              ['method', 'query', 'rank', 'item_id', 'score'], ref_rows)
    write_csv(os.path.join(args.out_dir, 'session_metrics_reference.csv'),
              ['method', 'queries', 'hit_rate_at_20', 'mrr_at_20'], metric_rows)
    print()
    for fname in ('session_events.csv', 'session_queries.csv', 'session_reference.csv',
                  'session_metrics_reference.csv'):
        p = os.path.join(args.out_dir, fname)
        with open(p) as f:
            nrows = sum(1 for _ in f) - 1
        print('wrote %s: %d rows, %d bytes' % (p, nrows, os.path.getsize(p)))
    print('%.1f s' % (time.time() - t0))


# --------------------------------------------------------------------------------------------
# --synthetic

def synthesize(args):
    """A click log with known structure, written as session_id,item_id,ts (integer ids).

    n_items items (ids 1..n_items, shuffled) fall into n_themes themes of equal size; themes are
    chosen with Zipf(0.8) popularity, a session's first item within its theme with Zipf(1.0).
    Each item has 4 successors in its theme with Dirichlet(0.5) transition probabilities.  Each
    next click: with probability 0.15 an item drawn from a global Zipf(1.05) popularity (noise),
    with 0.03 the same item again, otherwise a Markov transition.  Session lengths are geometric
    with mean 6; session starts are uniform over `days` days from 2021-03-01 00:00 UTC (less the
    last two hours), clicks 1 s + an exponential gap of mean 45 s apart.  Session ids 1.. in
    order of start; exactly --events events (the last session may be cut short)."""
    import numpy as np
    rng = np.random.default_rng(args.seed)
    n_events, n_items, n_themes, days = args.events, args.items, args.themes, args.days
    p_noise, p_repeat, n_succ = 0.15, 0.03, 4

    def zipf(size, s):
        w = 1.0 / np.arange(1, size + 1) ** s
        return w / w.sum()

    item_ids = rng.permutation(n_items) + 1
    members = [item_ids[t::n_themes] for t in range(n_themes)]
    theme_of = np.empty(n_items + 1, dtype=np.int64)
    for t, mem in enumerate(members):
        theme_of[mem] = t
    start_cum = [np.cumsum(zipf(len(mem), 1.0)) for mem in members]
    succ = {}
    for t, mem in enumerate(members):
        for i in mem:
            others = mem[mem != i]
            chosen = rng.choice(others, size=min(n_succ, len(others)), replace=False)
            probs = rng.dirichlet(np.full(len(chosen), 0.5))
            succ[int(i)] = ([int(x) for x in chosen], np.cumsum(probs).tolist())
    global_order = rng.permutation(n_items) + 1

    lengths = rng.geometric(1.0 / 6.0, size=n_events)
    cum = np.cumsum(lengths)
    n_sess = int(np.searchsorted(cum, n_events) + 1)
    lengths = lengths[:n_sess].copy()
    lengths[-1] -= int(cum[n_sess - 1]) - n_events
    # starts end two hours before the last day ends, so that sessions stay inside the days
    starts = np.sort(rng.integers(0, days * US_PER_DAY - 7_200_000_000, size=n_sess))
    themes = rng.choice(n_themes, size=n_sess, p=zipf(n_themes, 0.8))
    u_start = rng.random(n_sess)
    u_kind = rng.random(n_events).tolist()
    u_next = rng.random(n_events).tolist()
    noise = global_order[rng.choice(n_items, size=n_events, p=zipf(n_items, 1.05))].tolist()
    gaps = (1_000_000 + rng.exponential(45e6, size=n_events)).astype(np.int64).tolist()
    base = parse_ts('2021-03-01 00:00:00')

    import bisect
    e = 0
    with open(args.out, 'w') as f:
        f.write('session_id,item_id,ts\n')
        for s in range(n_sess):
            t = int(themes[s])
            j = min(int(np.searchsorted(start_cum[t], u_start[s])), len(members[t]) - 1)
            item = int(members[t][j])
            ts = base + int(starts[s])
            sid = s + 1
            for step in range(int(lengths[s])):
                if step > 0:
                    u = u_kind[e]
                    if u < p_noise:
                        item = noise[e]
                    elif u < p_noise + p_repeat:
                        pass
                    else:
                        nxt, cp = succ[item]
                        item = nxt[min(bisect.bisect_right(cp, u_next[e]), len(nxt) - 1)]
                    ts += gaps[e]
                f.write('%d,%d,%s\n' % (sid, item, format_ts(ts)))
                e += 1
    print('wrote %s: %d events, %d sessions, %d items in %d themes, %d days'
          % (args.out, e, n_sess, n_items, n_themes, days))


# --------------------------------------------------------------------------------------------
# --evaluate

INT_RE = re.compile(r'-?(0|[1-9][0-9]*)\Z')


def read_events(path):
    """{sid: [(ts_us, item)]}; a column of canonical integers is read as int, otherwise text."""
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rt', encoding='utf-8', newline='') as f:
        reader = csv.reader(f)
        header = next(reader)
        col = {name: j for j, name in enumerate(header)}
        js, ji, jt = col['session_id'], col['item_id'], col['ts']
        raw = [(row[js], row[ji], row[jt]) for row in reader]
    sid_int = all(INT_RE.match(r[0]) for r in raw)
    item_int = all(INT_RE.match(r[1]) for r in raw)
    sessions = defaultdict(list)
    for s, i, t in raw:
        sessions[int(s) if sid_int else s].append((parse_ts(t), int(i) if item_int else i))
    return dict(sessions), len(raw)


def run_evaluate(args):
    t0 = time.time()
    sessions, n_events = read_events(args.evaluate)
    last_day = max(day_of(max(ts for ts, _ in ev)) for ev in sessions.values())
    first_test_day = last_day - datetime.timedelta(days=args.split_days - 1)
    train, test = split_sessions(sessions, first_test_day)
    del sessions
    t1 = time.time()
    model = SessionModel(train)
    t_index = time.time() - t1
    queries = make_queries(test)
    step = max(1, math.ceil(len(queries) / args.max_queries)) if queries else 1
    subset = queries[::step]
    print('%s: %d events, read in %.1f s; test days %s .. %s' %
          (args.evaluate, n_events, t1 - t0, first_test_day, last_day))
    print('train %d sessions (%d events, %d items), test %d sessions; %d queries; the '
          'neighbourhood methods take one query in %d (%d queries)'
          % (len(train), sum(len(ev) for _, ev in train), len(model.df), len(test),
             len(queries), step, len(subset)))
    print('sessions, index and df: %.2f s' % t_index)
    print()
    print('%-22s %8s %9s %9s %8s %8s   %s' % ('method', 'queries', 'hit@20', 'mrr@20',
                                           'train_s', 'eval_s', 'on the subset'))
    for name, fn in METHODS:
        t1 = time.time()
        train_for(model, name)
        t_train = time.time() - t1
        qs = subset if name in NEIGHBOUR_METHODS else queries
        t1 = time.time()
        hit, mrr = evaluate(model, fn, qs)
        t_eval = time.time() - t1
        extra = ''
        if name not in NEIGHBOUR_METHODS and step > 1:
            sh, sm = evaluate(model, fn, subset)
            extra = 'hit@20 %.4f  mrr@20 %.4f' % (sh, sm)
        print('%-22s %8d %9.4f %9.4f %8.2f %8.2f   %s'
              % (name, len(qs), hit, mrr, t_train, t_eval, extra))
    print('\ntotal %.1f s' % (time.time() - t0))


# --------------------------------------------------------------------------------------------
# --check

TIE_REL = 1e-9


def close(a, b, rel=TIE_REL):
    return abs(a - b) <= rel * max(abs(a), abs(b))


def read_lists(path):
    """{method: {query: [(item, score)] by rank}}."""
    lists = defaultdict(lambda: defaultdict(list))
    with open(path, newline='') as f:
        for row in csv.DictReader(f):
            lists[row['method']][int(row['query'])].append(
                (int(row['rank']), row['item_id'], float(row['score'])))
    out = {}
    for method, per_q in lists.items():
        out[method] = {}
        for q, rows in per_q.items():
            rows.sort()
            if [r[0] for r in rows] != list(range(1, len(rows) + 1)):
                print('warning: %s: %s query %d: ranks are not 1..%d (taken in rank order)'
                      % (path, method, q, len(rows)))
            out[method][q] = [(r[1], r[2]) for r in rows]
    return out


def same_list(ref, got, n):
    """ref and got agree up to the order of tied items (adjacent reference scores within 1e-9
    relative form a block; a block must hold the same items, or, when it is cut by the top-n
    limit, items whose uba score is within 1e-9 of the block's)."""
    if len(ref) != len(got):
        return False
    a = 0
    while a < len(ref):
        b = a
        while b + 1 < len(ref) and close(ref[b][1], ref[b + 1][1]):
            b += 1
        ref_items = set(x[0] for x in ref[a:b + 1])
        got_items = set(x[0] for x in got[a:b + 1])
        if ref_items != got_items:
            cut = b == len(ref) - 1 and len(ref) == n
            if not cut:
                return False
            for item, score in got[a:b + 1]:
                if item not in ref_items and not close(score, ref[b][1]):
                    return False
        a = b + 1
    return True


def run_check(args):
    ref = read_lists(args.reference)
    got = read_lists(args.check)
    qfile = os.path.join(os.path.dirname(args.reference), 'session_queries.csv')
    if os.path.exists(qfile):
        with open(qfile, newline='') as f:
            query_ids = sorted(int(r['query']) for r in csv.DictReader(f))
    else:
        query_ids = sorted(set(q for m in ref.values() for q in m))
    print('%-22s %8s %10s %10s %10s %12s %12s' % ('method', 'queries', 'identical', 'ref_rows',
                                                 'uba_rows', 'max_abs', 'max_rel'))
    bad = 0
    for method in [m for m, _ in METHODS] + sorted(set(ref) - set(m for m, _ in METHODS)):
        if method not in ref:
            continue
        if method not in got:
            print('%-22s missing from %s' % (method, args.check))
            bad += 1
            continue
        r_m, g_m = ref[method], got[method]
        identical = 0
        max_abs = max_rel = 0.0
        differing = []
        for q in query_ids:
            rl, gl = r_m.get(q, []), g_m.get(q, [])
            if same_list(rl, gl, TOP_N):
                identical += 1
            else:
                differing.append(q)
            for (_, rs), (_, gs) in zip(rl, gl):
                d = abs(rs - gs)
                max_abs = max(max_abs, d)
                if d:
                    max_rel = max(max_rel, d / max(abs(rs), abs(gs)))
        print('%-22s %8d %10d %10d %10d %12.3g %12.3g'
              % (method, len(query_ids), identical, sum(len(r_m.get(q, [])) for q in query_ids),
                 sum(len(g_m.get(q, [])) for q in query_ids), max_abs, max_rel))
        if differing:
            bad += 1
            print('    differing queries: %s' % ' '.join(map(str, differing[:20])))
    for method in sorted(set(got) - set(ref)):
        print('%-22s not in the reference (ignored)' % method)
    return 1 if bad else 0


# --------------------------------------------------------------------------------------------
# --self-test

def vsknn_idf0_exact(model, query, n, k, sample_size):
    """vsknn with idf_weighting 0 in exact rational arithmetic, by brute force (self-test)."""
    c = [i for i in query if i in model.df]
    L = len(c)
    if L == 0:
        return []
    p = {i: q for q, i in enumerate(c, 1)}
    holding = [r for r in range(model.S) if set(model.items[r]) & set(p)]
    candidates = sorted(holding, reverse=True)[:sample_size]
    sims = [(sum(Fraction(p[i], L) for i in set(model.items[r]) & set(p)) / L, r)
            for r in candidates]
    sims.sort(key=lambda sr: (-sr[0], -sr[1]))
    scores = defaultdict(Fraction)
    for sim, r in sims[:k]:
        P = max(q for q in range(1, L + 1) if c[q - 1] in model.items[r])
        for j in set(model.items[r]):
            scores[j] += sim / (L - P + 1)
    return sorted(scores.items(), key=lambda jv: (-jv[1], jv[0]))[:n]


def self_test():
    """Hand-computed cases on four training sessions (times in seconds):
        s1 @1: 1 2 3      s2 @2: 2 3 3 4      s3 @3: 1 4      s4 @4: 5 5
    df = {1: 2, 2: 2, 3: 2, 4: 2, 5: 1}, S = 4."""
    sec = 1_000_000
    train = [(1, [(1 * sec - 2, 1), (1 * sec - 1, 2), (1 * sec, 3)]),
             (2, [(2 * sec - 3, 2), (2 * sec - 2, 3), (2 * sec - 1, 3), (2 * sec, 4)]),
             (3, [(3 * sec - 1, 1), (3 * sec, 4)]),
             (4, [(4 * sec - 1, 5), (4 * sec, 5)])]
    m = SessionModel(train)
    assert m.S == 4 and m.df == {1: 2, 2: 2, 3: 2, 4: 2, 5: 1}
    assert m.pop([]) == [(1, .5), (2, .5), (3, .5), (4, .5), (5, .25)]
    assert m.pop([9, 2], exclude_seen=True)[:2] == [(1, .5), (3, .5)]
    # markov: pairs (1,2) (2,3) | (2,3) (3,4) | (1,4); (3,3) and (5,5) do not count
    assert m.markov([9, 1]) == [(2, .5), (4, .5)]
    assert m.markov([2]) == [(3, 1.0)]
    assert m.markov([5]) == [] and m.markov([9]) == []
    # sr: rule(2,3) = 1 (s1) + 1 + 1/2 (s2); rule(2,4) = 1/3; rule(3,4) = 1/2 + 1
    assert m.sr([2]) == [(3, 2.5), (4, 1 / 3)]
    assert m.sr([1, 3]) == [(4, 1.5)]
    assert m.sr([2], steps=1) == [(3, 2.0)]
    # vsknn on [1, 2]: w(1) = 1/2 a, w(2) = a with a = 1 + ln 2; sims 3/4 a (s1), 1/2 a (s2),
    # 1/4 a (s3); decays 1, 1, 1/2 -> 1: 7/8 a, 2: 5/4 a, 3: 5/4 a, 4: 5/8 a
    a = 1 + math.log(2)
    got = m.vsknn([1, 2])
    want = [(2, 1.25 * a), (3, 1.25 * a), (1, .875 * a), (4, .625 * a)]
    assert [g[0] for g in got] == [w[0] for w in want], got
    assert all(close(g[1], w[1], 1e-15) for g, w in zip(got, want)), got
    assert [g[0] for g in m.vsknn([1, 2], exclude_seen=True)] == [3, 4]
    # k = 1 keeps s1; k = 2 keeps s1, s2; with idf 0 all w equal -> s1 1/... tie order irrelevant
    assert [g[0] for g in m.vsknn([1, 2], k=1)] == [1, 2, 3]
    # sample_size 1: only s3 (the most recent holding 1 or 2): sim 1/4 a, decay 1/2
    assert m.vsknn([1, 2], sample_size=1) == [(1, .125 * a), (4, .125 * a)]
    # ties in sim: query [4] idf 0 -> s2 and s3 both sim 1; k = 1 takes the more recent s3
    assert m.vsknn([4], k=1, idf_weighting=0.0) == [(1, 1.0), (4, 1.0)]
    # stan on [1, 2] at 4 s, lambda_recency 1: w1(1) = e^-1, w1(2) = 1
    e = math.exp
    sim1 = (e(-1) + 1) / math.sqrt(2 * 3) * e(-3.0)
    sim2 = 1 / math.sqrt(2 * 3) * e(-2.0)
    sim3 = e(-1) / math.sqrt(2 * 2) * e(-1.0)
    # s1 = 1 2 3, m = 2 (pos 2); s2 = 2 3 3 4, m = 2 (pos 1); s3 = 1 4, m = 1 (pos 1)
    want = {1: sim1 * e(-1) + sim3, 2: sim1 + sim2, 3: sim1 * e(-1) + sim2 * e(-1),
            4: sim2 * e(-3) + sim3 * e(-1)}
    got = m.stan([1, 2], 4 * sec, lambda_recency=1.0)
    assert [g[0] for g in got] == sorted(want, key=lambda j: -want[j]), got
    assert all(close(s, want[j], 1e-15) for j, s in got), got
    # at before a session's time: no recency penalty for it
    got = m.stan([5], 0, lambda_recency=1.0)
    assert got == [(5, 1.0)], got
    assert m.stan([9], 0) == [] and m.vsknn([]) == []
    # text ids compare by bytes
    t = SessionModel([('b', [(1, 'é'), (2, 'z')]), ('a', [(1, 'Z'), (2, 'z')])])
    assert [i for i, _ in t.pop([])] == ['z', 'Z', 'é']
    assert [i for i, _ in t.markov(['z'])] == []
    assert [i for i, _ in t.markov(['é'])] == ['z']
    # query numbering and prefixes
    qs = make_queries([('x', [(5, 1), (6, 2)]), ('a', [(5, 3), (9, 4), (9, 5)])])
    assert [(q['session_id'], q['t'], q['target']) for q in qs] == [('x', 1, 2), ('a', 1, 4),
                                                                     ('a', 2, 5)]
    # near-equal doubles: ties when their exact values agree, else by the double
    exact = {'a': 3, 'b': 3, 'c': 2, 'd': 1}.get
    assert top_n({'b': 0.1 + 0.2, 'a': 0.3, 'c': 0.2}, 2, (), exact) == [('a', 0.3),
                                                                       ('b', 0.1 + 0.2)]
    assert top_n({'b': 0.1 + 0.2, 'a': 0.3, 'c': 0.2}, 1, (), exact) == [('a', 0.3)]
    assert top_n({'b': 0.1 + 0.2, 'd': 0.3}, 2, (), exact) == [('b', 0.1 + 0.2), ('d', 0.3)]
    assert top_n({'b': 0.1 + 0.2, 'a': 0.3}, 2) == [('b', 0.1 + 0.2), ('a', 0.3)]
    # vsknn, an exact tie of similarities that the doubles miss: S = 8, every df 1, query
    # [u, v, x]: sim(X) = (3/3)(1 + ln 8)/3 and sim(Y) = ((1/3) + (2/3))(1 + ln 8)/3 are equal,
    # their doubles not; with k = 1 the more recent session is the neighbour
    for y_time, want in ((9, {'u', 'v', 'y'}), (1, {'x', 'z'})):
        sessions = [('X', [(5, 'x'), (6, 'z')]),
                    ('Y', [(y_time, 'u'), (y_time, 'v'), (y_time, 'y')])]
        sessions += [('f%d' % f, [(f, 'f%d' % f)]) for f in range(6)]
        t = SessionModel(sessions)
        w = {q: (q / 3) * (1 + math.log(8)) for q in (1, 2, 3)}
        assert math.fsum([w[3]]) / 3 != math.fsum([w[1], w[2]]) / 3
        assert set(i for i, _ in t.vsknn(['u', 'v', 'x'], k=1)) == want
    # vsknn with idf_weighting 0 is rational: against a Fraction computation on random logs
    import random
    rnd = random.Random(5)
    for trial in range(200):
        sessions = [(sid, [(rnd.randrange(50), rnd.randrange(1, 7))
                           for _ in range(rnd.randint(1, 5))]) for sid in range(25)]
        t = SessionModel(sessions)
        query = [rnd.randrange(1, 8) for _ in range(rnd.randint(1, 5))]
        k, size = rnd.randint(1, 8), rnd.randint(1, 30)
        got = t.vsknn(query, n=4, k=k, sample_size=size, idf_weighting=0.0)
        want = vsknn_idf0_exact(t, query, 4, k, size)
        assert [j for j, _ in got] == [j for j, _ in want], (trial, got, want)
        assert all(near(g, float(v), 1e-15) for (_, g), (_, v) in zip(got, want)), (trial, got)
    # timestamps
    assert format_ts(parse_ts('2010-12-01 08:26:00') + 7) == '2010-12-01 08:26:00.000007+00'
    assert parse_ts('1970-01-02 00:00:01.5+00') == US_PER_DAY + 1_500_000
    # check's tie rule
    assert same_list([('a', 1.0), ('b', 1.0)], [('b', 1.0), ('a', 1.0 + 1e-12)], 20)
    assert not same_list([('a', 2.0), ('b', 1.0)], [('b', 2.0), ('a', 1.0)], 20)
    assert same_list([('a', 2.0), ('b', 1.0)], [('a', 2.0), ('c', 1.0)], 2)
    assert not same_list([('a', 2.0), ('b', 1.0)], [('a', 2.0), ('c', 1.0)], 3)
    print('self-test passed')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument('--make-fixtures', action='store_true')
    mode.add_argument('--synthetic', action='store_true')
    mode.add_argument('--evaluate', metavar='FILE')
    mode.add_argument('--check', metavar='FILE')
    mode.add_argument('--self-test', action='store_true')
    ap.add_argument('--data', default=RETAIL, help='Online Retail CSV (.gz) for --make-fixtures')
    ap.add_argument('--out-dir', default=DATA_DIR, help='where --make-fixtures writes')
    ap.add_argument('--events', type=int, default=200_000)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--out', help='output CSV of --synthetic')
    ap.add_argument('--items', type=int, default=10_000)
    ap.add_argument('--themes', type=int, default=300)
    ap.add_argument('--days', type=int, default=30)
    ap.add_argument('--split-days', type=int, default=2)
    ap.add_argument('--max-queries', type=int, default=2000)
    ap.add_argument('--reference', default=os.path.join(DATA_DIR, 'session_reference.csv'))
    args = ap.parse_args()
    if args.make_fixtures:
        make_fixtures(args)
    elif args.synthetic:
        if not args.out:
            ap.error('--synthetic needs --out')
        synthesize(args)
    elif args.evaluate:
        run_evaluate(args)
    elif args.check:
        return run_check(args)
    else:
        self_test()
    return 0


if __name__ == '__main__':
    sys.exit(main())
