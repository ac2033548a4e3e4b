#!/usr/bin/python3
"""uba_contribution ("why did the metric change?", like BigQuery ML's CONTRIBUTION_ANALYSIS)
against an independent brute-force reference, row by row and in order.

The reference below is written from the definition (the spec uba implements), not from uba's C
code.  Input rows (is_test, dims[], metric) for the summable form, (is_test, dims[], numerator,
denominator) for the ratio form; a row with a NULL is_test, a NULL dims array or a NULL metric
(numerator, denominator) takes no part; every kept row has the same number of dims; a NULL
element is a value of its own (JSON null).  Options: names (default dim1, dim2, ...), max_depth
(3), min_support (0.01), top_k (30; 0 keeps all), prune_redundant (true).

- Brute force: for every subset S of the dimensions with 1 <= |S| <= max_depth, every row adds
  itself to the segment (S, its values on S): its rows and metric values per period.  A segment
  exists when it holds a row.  Sums are math.fsum (the float nearest the exact sum, whatever the
  order of the rows: with the returns of Online Retail a naive sum leaves -2.8e-14 where the
  exact sum is 0, and that flips relative_difference between NULL and -6e14).  Every figure is
  then computed from those sums as the definition writes it, operations left to right (expected
  = metric_control * P_test / P_control; ratio contribution = (metric_test - metric_control) *
  D_seg_test / D_pop_test).
- Kept: support = (rows_test + rows_control) / all kept rows >= min_support, as floats.  With
  prune_redundant a segment is dropped when one of its parents (one condition fewer; the
  population for depth 1) has equal rows_test and rows_control.
- Order: the population ({}, depth 0) first, then abs(contribution) descending with NULL last,
  depth ascending, the segment's jsonb text ascending (keys ordered as jsonb orders them: shorter
  first, then bytewise; the text compared bytewise, as in the C.UTF-8 bench database); top_k
  rows after the population.

Self-check (no database; alone with --skip-db): hand-made summable and ratio cases whose answers
are worked out by hand in the comments (a segment whose revenue fell, a segment with no test
rows, a redundant depth-2 segment and a constant dimension that must be pruned, a NULL dimension
value, a zero denominator, ties broken by depth and by the jsonb text with its key order, NULL
contributions last, min_support, top_k, max_depth, prune off, the default names, the rows that
take no part, bad inputs), then seeded random small inputs on which the reference must equal a
second, slower computation that filters the rows of each segment afresh, and for the summable
form the contributions of one dimension's values must add up to the population's change.

Against uba (the functions must exist; nothing is created but TEMP tables), each call is

    SELECT c.* FROM unnest((SELECT uba_contribution(is_test, dims, m [, d], OPTIONS) FROM t))
           WITH ORDINALITY c ORDER BY ordinality

and uba's rows must be the reference's, in order: segment equal as parsed JSON, depth, rows_test,
rows_control exactly, floats to a relative tolerance of 1e-9 of the magnitudes each one is
computed from (a difference a - b to 1e-9 * (|a| + |b|), a quotient through its parts), NULL only
where the reference has NULL.  Where the reference's order rests on two abs(contribution) that
differ by less than that tolerance (float noise, a sum taken in another order), uba may swap them:
such rows are matched by segment and counted apart, not as mismatches.
- synthetic sales (TEMP table contrib_ref_sales; --rows control rows and 10% more test rows;
  dims country, device, channel, category; revenue in multiples of 0.25 so that every sum is
  exact in any order): in the test period the revenue of country DE on mobile drops 40% and the
  conversion rate of channel email doubles; a NULL channel, a country only ever seen on mobile
  via email (and never buying gift cards) and a category only sold on desktop (redundant
  segments), a country name with a quote and a non-ASCII letter, rows with zero sessions,
  rows with NULLs that take no part.  Summable form (revenue) and ratio form (orders / sessions),
  with no options, '{}' and every combination of max_depth 1..3, min_support 0 and 0.05,
  prune_redundant on and off, top_k 0 and 10.
- if table retail_lines exists: Online Retail revenue, 2011-10 (control) against 2011-11 (test),
  by country, weekday (to_char Dy) and stock-code prefix (two characters), summable form: in
  pounds ((quantity * unit_price)::float8) under the default options, and in thousandths of a
  pound (whole numbers: exact sums in any order) under the default options and two full
  enumerations (max_depth 2, and 3 with prune off; min_support 0, top_k 0).  In pounds the
  returns can leave +-1e-13 where an exact sum is 0, which flips relative_difference between
  NULL and -1 or +-1e14 and moves the segment among the ties at 0 (an order of additions the
  definition leaves open), hence no full enumeration in pounds.  uba's population and top 5
  segments in pounds under the default options are printed as a Markdown table (for the docs).
- bad inputs uba must reject: names of the wrong length, dims arrays of different lengths.

Output: one Markdown table row per configuration (rows of the reference and of uba, mismatches,
near-tie swaps, seconds), then the first mismatches in full.  Exit status 1 on any mismatch or
bad input not rejected, 2 when uba_contribution is missing.  Run (as a role that may create a
temporary table) from the project root:

    /usr/bin/python3 bench/contribution_reference.py --dsn 'host=/tmp/pgdev port=5499 dbname=bench'
        [--rows 20000] [--seed S] [--wait MINUTES] [--no-retail] [--show 10]
    /usr/bin/python3 bench/contribution_reference.py --skip-db      # the self-check alone
"""
import argparse
import itertools
import json
import math
import random
import sys
import time

FIELDS = ("segment", "depth", "metric_test", "metric_control", "difference",
          "relative_difference", "expected", "unexpected_difference",
          "relative_unexpected_difference", "contribution", "share_of_change", "support",
          "rows_test", "rows_control")
FLOATS = FIELDS[2:12]
EXACT = ("depth", "rows_test", "rows_control")
DEFAULTS = {"max_depth": 3, "min_support": 0.01, "top_k": 30, "prune_redundant": True}
RTOL = 1e-9


# ---------------------------------------------------------------- jsonb text of a segment

def json_string(s):
    """A string as PostgreSQL's escape_json writes it."""
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jsonb_key_order(name):
    """jsonb orders an object's keys by length in bytes, then bytewise."""
    b = name.encode()
    return len(b), b


def jsonb_text(segment):
    """segment::text of a dict {name: value or None}: keys in jsonb's order, ", " and ": "."""
    keys = sorted(segment, key=jsonb_key_order)
    return "{" + ", ".join(f"{json_string(k)}: "
                           + ("null" if segment[k] is None else json_string(segment[k]))
                           for k in keys) + "}"


# ---------------------------------------------------------------- the reference

def resolve_options(options, n_dims):
    """The option values, defaults filled in; ValueError where the definition is broken."""
    opts = dict(DEFAULTS)
    opts.update(options or {})
    names = opts.get("names")
    if names is None:
        names = [f"dim{i + 1}" for i in range(n_dims)]
    elif len(names) != n_dims:
        raise ValueError(f"names has {len(names)} names for {n_dims} dimensions")
    if len(set(names)) != len(names):
        raise ValueError("names must be distinct")       # an interpretation: see the report
    opts["names"] = list(names)
    return opts


def kept_rows(rows, ratio):
    """(is_test, dims, numerator, denominator) of the rows that take part; denominator None in
    the summable form.  ValueError when the kept rows' dims differ in length."""
    out = []
    for r in rows:
        if ratio:
            is_test, dims, num, den = r
            if is_test is None or dims is None or num is None or den is None:
                continue
        else:
            is_test, dims, num = r
            den = None
            if is_test is None or dims is None or num is None:
                continue
        out.append((is_test, list(dims), num, den))
    if out and any(len(d) != len(out[0][1]) for _, d, _, _ in out):
        raise ValueError("dims arrays of different lengths")
    return out


def new_acc():
    # rows_test, rows_control, the numerators (metric values) of the test and control rows, the
    # denominators of the test and control rows
    return [0, 0, [], [], [], []]


def add(acc, row):
    is_test, _, num, den = row
    if is_test:
        acc[0] += 1
        acc[2].append(num)
        if den is not None:
            acc[4].append(den)
    else:
        acc[1] += 1
        acc[3].append(num)
        if den is not None:
            acc[5].append(den)


def sums(acc):
    """(rows_test, rows_control, numerator sums test / control, denominator sums): each sum
    the float nearest the exact sum of the values (math.fsum), so no order of the rows is
    preferred; 0 over no rows."""
    rt, rc, nt, nc, dt, dc = acc
    return rt, rc, math.fsum(nt), math.fsum(nc), math.fsum(dt), math.fsum(dc)


def accumulate(rows, ratio, max_depth):
    """(kept rows, number of dims, population accumulator, {(S, values): accumulator}) for every
    subset S of the dimensions with 1 <= |S| <= max_depth and every value combination present."""
    kept = kept_rows(rows, ratio)
    n_dims = len(kept[0][1]) if kept else 0
    pop = new_acc()
    for row in kept:
        add(pop, row)
    segs = {}
    for depth in range(1, min(max_depth, n_dims) + 1):
        for S in itertools.combinations(range(n_dims), depth):
            for row in kept:
                key = (S, tuple(row[1][i] for i in S))
                if key not in segs:
                    segs[key] = new_acc()
                add(segs[key], row)
    return kept, n_dims, pop, segs


def metrics_of(s, ratio):
    """(metric_test, metric_control) of a segment's sums()."""
    rt, rc, nt, nc, dt, dc = s
    if not ratio:
        return nt, nc                                     # 0 when the period has no rows
    mt = nt / dt if rt > 0 and dt != 0 else None
    mc = nc / dc if rc > 0 and dc != 0 else None
    return mt, mc


def measures(s, pop, n_rows, ratio):
    """The output's figures of one segment from its sums() and the population's, and the scales
    the comparison's tolerance uses."""
    rt, rc, _, _, dt, _ = s
    mt, mc = metrics_of(s, ratio)
    p_test, p_control = metrics_of(pop, ratio)
    d_pop_test = pop[4]

    difference = mt - mc if mt is not None and mc is not None else None
    relative_difference = (difference / mc
                           if difference is not None and mc is not None and mc != 0 else None)
    expected = (mc * p_test / p_control
                if mc is not None and p_test is not None and p_control is not None
                and p_control != 0 else None)
    unexpected_difference = mt - expected if mt is not None and expected is not None else None
    relative_unexpected_difference = (mt / expected - 1
                                      if mt is not None and expected is not None and expected != 0
                                      else None)
    if not ratio:
        contribution = difference
    elif mt is not None and mc is not None and d_pop_test != 0:
        contribution = (mt - mc) * dt / d_pop_test
    else:
        contribution = None
    change = p_test - p_control if p_test is not None and p_control is not None else None
    share_of_change = (contribution / change
                       if contribution is not None and change is not None and change != 0
                       else None)
    support = (rt + rc) / n_rows

    # tolerances: the magnitudes each float is computed from (not part of the definition)
    def ab(x):
        return abs(x) if x is not None else 0.0
    c_scale = ab(mt) + ab(mc)
    if ratio and d_pop_test:
        c_scale = c_scale * dt / d_pop_test
    ch_scale = ab(p_test) + ab(p_control)
    scales = {
        "difference": ab(mt) + ab(mc),
        "relative_difference": (ab(mt) + ab(mc)) / abs(mc) if mc else 0.0,
        "unexpected_difference": ab(mt) + ab(expected),
        "relative_unexpected_difference": (ab(mt) + ab(expected)) / abs(expected) if expected
        else 0.0,
        "contribution": c_scale,
        "share_of_change": ((c_scale + ab(share_of_change) * ch_scale) / abs(change)
                            if change else 0.0),
    }
    values = {"metric_test": mt, "metric_control": mc, "difference": difference,
              "relative_difference": relative_difference, "expected": expected,
              "unexpected_difference": unexpected_difference,
              "relative_unexpected_difference": relative_unexpected_difference,
              "contribution": contribution, "share_of_change": share_of_change,
              "support": support, "rows_test": rt, "rows_control": rc}
    return values, scales


def order_key(row):
    c = row["contribution"]
    return (c is None, -abs(c) if c is not None else 0.0, row["depth"],
            jsonb_text(row["segment"]).encode())


def finish(acc, options, ratio):
    """The output rows (dicts of FIELDS, plus '_scales') from accumulate()'s result.  None when
    no row takes part (an interpretation: as an aggregate over no rows)."""
    kept, n_dims, pop, segs = acc
    if not kept:
        return None
    opts = resolve_options(options, n_dims)
    names, n = opts["names"], len(kept)

    pop_sums = sums(pop)

    def row_of(segment, depth, a):
        values, scales = measures(sums(a), pop_sums, n, ratio)
        r = {"segment": segment, "depth": depth, **values}
        r["_scales"] = scales
        return r

    out = []
    for (S, vals), a in segs.items():
        depth = len(S)
        if depth > opts["max_depth"]:
            continue
        support = (a[0] + a[1]) / n
        if not support >= opts["min_support"]:
            continue
        if opts["prune_redundant"]:
            if depth == 1:
                parents = [pop]
            else:
                parents = [segs[(S[:i] + S[i + 1:], vals[:i] + vals[i + 1:])] for i in range(depth)]
            if any(p[0] == a[0] and p[1] == a[1] for p in parents):
                continue
        out.append(row_of({names[i]: v for i, v in zip(S, vals)}, depth, a))
    out.sort(key=order_key)
    if opts["top_k"] > 0:
        out = out[:opts["top_k"]]
    return [row_of({}, 0, pop)] + out


def reference(rows, options=None, ratio=False):
    """uba_contribution's answer by the definition: a list of dicts (FIELDS), or None."""
    max_depth = (options or {}).get("max_depth", DEFAULTS["max_depth"])
    return finish(accumulate(rows, ratio, max_depth), options, ratio)


def filtered_reference(rows, options=None, ratio=False):
    """The same answer computed the slow way, for the self-check: every value combination of
    every subset of the dimensions (itertools.product of each dimension's values), each
    segment's rows filtered from all the rows afresh, sums by math.fsum."""
    kept = kept_rows(rows, ratio)
    if not kept:
        return None
    n_dims = len(kept[0][1])
    opts = resolve_options(options, n_dims)
    n = len(kept)

    def stats(cond):
        sel = [r for r in kept if all(r[1][i] == v for i, v in cond)]
        t = [r for r in sel if r[0]]
        c = [r for r in sel if not r[0]]
        return [len(t), len(c), math.fsum(r[2] for r in t), math.fsum(r[2] for r in c),
                math.fsum(r[3] for r in t) if ratio else 0.0,
                math.fsum(r[3] for r in c) if ratio else 0.0]

    pop = stats(())
    values_of = [sorted({r[1][i] for r in kept}, key=lambda v: (v is not None, v or ""))
                 for i in range(n_dims)]
    out = []
    for depth in range(1, min(opts["max_depth"], n_dims) + 1):
        for S in itertools.combinations(range(n_dims), depth):
            for vals in itertools.product(*(values_of[i] for i in S)):
                cond = tuple(zip(S, vals))
                a = stats(cond)
                if a[0] + a[1] == 0:
                    continue
                if not (a[0] + a[1]) / n >= opts["min_support"]:
                    continue
                if opts["prune_redundant"]:
                    parents = [stats(cond[:i] + cond[i + 1:]) for i in range(depth)]
                    if any(p[0] == a[0] and p[1] == a[1] for p in parents):
                        continue
                values, _ = measures(a, pop, n, ratio)
                out.append({"segment": {opts["names"][i]: v for i, v in cond}, "depth": depth,
                            **values})
    out.sort(key=order_key)
    if opts["top_k"] > 0:
        out = out[:opts["top_k"]]
    values, _ = measures(pop, pop, n, ratio)
    return [{"segment": {}, "depth": 0, **values}] + out


# ---------------------------------------------------------------- comparison

def close(want, got, scale):
    if want is None or got is None:
        return want is None and got is None
    if isinstance(got, float) and math.isnan(got):
        return False
    return abs(want - got) <= RTOL * max(abs(want), abs(got), scale or 0.0)


def row_differences(want, got):
    """[(field, reference, uba)] of the fields that differ."""
    out = []
    if got["segment"] != want["segment"]:
        out.append(("segment", want["segment"], got["segment"]))
    for f in EXACT:
        if got[f] != want[f]:
            out.append((f, want[f], got[f]))
    scales = want.get("_scales", {})
    for f in FLOATS:
        if not close(want[f], got[f], scales.get(f)):
            out.append((f, want[f], got[f]))
    return out


def near_tie(w, alt, got_w, got_alt):
    """Whether uba may give row alt where the reference has row w: their abs(contribution) are
    within the tolerance of each other, and not exactly equal both in the reference and in uba
    (an exact tie must be broken by depth and segment text; a near one is float noise).  got_w
    and got_alt are uba's rows of the two segments (None when absent)."""
    cw, ca = w["contribution"], alt["contribution"]
    if cw is None or ca is None:
        return False
    scale = max(w["_scales"]["contribution"], alt["_scales"]["contribution"])
    if not close(abs(cw), abs(ca), scale):
        return False
    uba_equal = (got_w is not None and got_alt is not None
                 and got_w["contribution"] is not None and got_alt["contribution"] is not None
                 and abs(got_w["contribution"]) == abs(got_alt["contribution"]))
    return not (abs(cw) == abs(ca) and uba_equal)


def compare(want, got, full):
    """(mismatches [(position, segment, [(field, reference, uba)])], near-tie swaps): uba's rows
    against the reference's in order; full = the reference's rows under top_k 0, by segment
    text, to match rows swapped within a near tie."""
    if want is None or got is None:
        if want is None and got is None:
            return [], 0
        return [(0, None, [("answer", want if want is None else f"{len(want)} rows",
                            got if got is None else f"{len(got)} rows")])], 0
    got_by_segment = {jsonb_text(g["segment"]): g for g in got if isinstance(g["segment"], dict)}
    bad, swaps = [], 0
    for i in range(max(len(want), len(got))):
        if i >= len(got):
            bad.append((i, want[i]["segment"], [("row", "present", "missing")]))
            continue
        g = got[i]
        if i >= len(want):
            bad.append((i, g["segment"], [("row", "missing", "extra")]))
            continue
        w = want[i]
        if g["segment"] != w["segment"] and isinstance(g["segment"], dict):
            alt = full.get(jsonb_text(g["segment"]))
            if alt is not None and near_tie(w, alt, got_by_segment.get(jsonb_text(w["segment"])),
                                            g):
                swaps += 1
                w = alt
        d = row_differences(w, g)
        if d:
            bad.append((i, w["segment"], d))
    return bad, swaps


# ---------------------------------------------------------------- self-check

NAMES = ["country", "device", "site"]

# Summable.  dims = [country, device, site]; site is "shop" on every row (a constant dimension).
SUMMABLE_ROWS = [
    (False, ["UK", "web", "shop"], 100.0),     # 1
    (False, ["UK", "app", "shop"], 50.0),      # 2
    (False, ["DE", "web", "shop"], 40.0),      # 3
    (False, ["FR", None, "shop"], 10.0),       # 4   a NULL device: a value of its own
    (False, ["DE", "app", "shop"], 30.0),      # 5   DE app: no test rows
    (True, ["UK", "web", "shop"], 60.0),       # 6   UK web fell 100 -> 60
    (True, ["UK", "app", "shop"], 55.0),       # 7
    (True, ["DE", "web", "shop"], 40.0),       # 8
    (True, ["FR", None, "shop"], 20.0),        # 9
    (None, ["UK", "web", "shop"], 1000.0),     # take no part: NULL is_test,
    (True, None, 1000.0),                      # NULL dims,
    (True, ["UK", "web", "shop"], None),       # NULL metric
]
# n = 9 rows; P_test = 60+55+40+20 = 175, P_control = 100+50+40+10+30 = 230, change -55;
# P_test / P_control = 35/46.
# Population: diff -55, rel -55/230, expected 230*175/230 = 175, unexpected 0, rel 0,
#   contribution -55, share 1, support 1, rows 4 / 5.
# segment           rows  mt   mc   diff  rel     expected=mc*35/46  unexp      rel_unexp   share
# {country: UK}     2/2   115  150  -35   -7/30   2625/23            20/23      4/525       7/11
# {country: DE}     1/2   40   70   -30   -3/7    1225/23            -305/23    -61/245     6/11
# {country: FR}     1/1   20   10   10    1       175/23             285/23     57/35       -2/11
# {device: web}     2/2   100  140  -40   -2/7    2450/23            -150/23    -3/49       8/11
# {device: app}     1/2   55   80   -25   -5/16   1400/23            -135/23    -27/280     5/11
# {device: null}    1/1   20   10   10    1       175/23             285/23     57/35       -2/11
# {UK, web}         1/1   60   100  -40   -2/5    1750/23            -370/23    -37/175     8/11
# {UK, app}         1/1   55   50   5     1/10    875/23             390/23     78/175      -1/11
# {DE, web}         1/1   40   40   0     0       700/23             220/23     11/35       0
# {DE, app}         0/1   0    30   -30   -1      525/23             -525/23    -1          6/11
# {FR, null}: the rows of {country: FR} (and of {device: null}): pruned.
# {site: shop}: the population's rows: pruned; so is every segment with site (its parent without
#   site holds the same rows).  Contribution = difference; support = rows / 9.
# Order: |40| {device: web} (depth 1), {UK, web}; |35| {UK}; |30| {DE}, {DE, app}; |25| {app};
#   |10| {country: FR} before {device: null} ('{"c' < '{"d'); |5| {UK, app}; 0 {DE, web}.
SUMMABLE_WANT = [
    ({}, 0, 175, 230, -55, -55 / 230, 175, 0, 0, -55, 1, 1, 4, 5),
    ({"device": "web"}, 1, 100, 140, -40, -2 / 7, 2450 / 23, -150 / 23, -3 / 49, -40, 8 / 11,
     4 / 9, 2, 2),
    ({"country": "UK", "device": "web"}, 2, 60, 100, -40, -2 / 5, 1750 / 23, -370 / 23, -37 / 175,
     -40, 8 / 11, 2 / 9, 1, 1),
    ({"country": "UK"}, 1, 115, 150, -35, -7 / 30, 2625 / 23, 20 / 23, 4 / 525, -35, 7 / 11,
     4 / 9, 2, 2),
    ({"country": "DE"}, 1, 40, 70, -30, -3 / 7, 1225 / 23, -305 / 23, -61 / 245, -30, 6 / 11,
     3 / 9, 1, 2),
    ({"country": "DE", "device": "app"}, 2, 0, 30, -30, -1, 525 / 23, -525 / 23, -1, -30, 6 / 11,
     1 / 9, 0, 1),
    ({"device": "app"}, 1, 55, 80, -25, -5 / 16, 1400 / 23, -135 / 23, -27 / 280, -25, 5 / 11,
     3 / 9, 1, 2),
    ({"country": "FR"}, 1, 20, 10, 10, 1, 175 / 23, 285 / 23, 57 / 35, 10, -2 / 11, 2 / 9, 1, 1),
    ({"device": None}, 1, 20, 10, 10, 1, 175 / 23, 285 / 23, 57 / 35, 10, -2 / 11, 2 / 9, 1, 1),
    ({"country": "UK", "device": "app"}, 2, 55, 50, 5, 1 / 10, 875 / 23, 390 / 23, 78 / 175, 5,
     -1 / 11, 2 / 9, 1, 1),
    ({"country": "DE", "device": "web"}, 2, 40, 40, 0, 0, 700 / 23, 220 / 23, 11 / 35, 0, 0,
     2 / 9, 1, 1),
]

# Ratio: orders / sessions.  dims = [country, device].
RATIO_ROWS = [
    (False, ["UK", "web"], 2.0, 8.0),          # 1   0.25
    (False, ["UK", "app"], 1.0, 8.0),          # 2   0.125
    (False, ["DE", "web"], 1.0, 4.0),          # 3   0.25
    (True, ["UK", "web"], 2.0, 8.0),           # 4   0.25
    (True, ["UK", "app"], 4.0, 8.0),           # 5   0.5: UK app's rate rose
    (True, ["DE", "web"], 1.0, 4.0),           # 6   0.25
    (True, ["FR", "web"], 0.0, 0.0),           # 7   a zero denominator, FR only in the test period
    (True, ["DE", "app"], 2.0, 4.0),           # 8   DE app only in the test period
    (True, ["UK", "web"], None, 1.0),          # take no part: NULL numerator,
    (True, ["UK", "web"], 1.0, None),          # NULL denominator
]
# n = 8; P_test = 9/24 = 0.375, P_control = 4/20 = 0.2, change 0.175, D_pop_test = 24;
# expected = mc * 0.375 / 0.2 = mc * 1.875.  contribution = (mt - mc) * D_seg_test / 24.
# segment        rows mt     mc     diff   rel  expected  unexp     rel_unexp  D_t contrib share
# population     5/3  .375   .2     .175   .875 .375      0         0          24  .175    1
# {device: app}  2/1  .5     .125   .375   3    .234375   .265625   17/15      12  .1875   15/14
# {country: UK}  2/2  .375   .1875  .1875  1    .3515625  .0234375  1/15       16  .125    5/7
# {UK, app}      1/1  .5     .125   .375   3    .234375   .265625   17/15      8   .125    5/7
# {country: DE}  2/1  .375   .25    .125   .5   .46875    -.09375   -.2        8   1/24    5/21
# {device: web}  3/2  .25    .25    0      0    .46875    -.21875   -7/15      12  0       0
# {DE, web}      1/1  .25    .25    0      0    .46875    -.21875   -7/15      4   0       0
# {UK, web}      1/1  .25    .25    0      0    .46875    -.21875   -7/15      8   0       0
# {country: FR}  1/0  NULL (den 0) NULL  -> every derived figure NULL; contribution NULL: last
# {DE, app}      1/0  .5     NULL   -> NULL figures
# {FR, web}: the rows of {country: FR}: pruned.
# Ties: .125 {UK} (depth 1) before {UK, app}; 0: {device: web} (depth 1), then
#   '{"device": "web", "country": "DE"}' < '{"device": "web", "country": "UK"}';
#   NULL: depth 1 first.
N = None
RATIO_WANT = [
    ({}, 0, .375, .2, .175, .875, .375, 0, 0, .175, 1, 1, 5, 3),
    ({"device": "app"}, 1, .5, .125, .375, 3, .234375, .265625, 17 / 15, .1875, 15 / 14,
     3 / 8, 2, 1),
    ({"country": "UK"}, 1, .375, .1875, .1875, 1, .3515625, .0234375, 1 / 15, .125, 5 / 7,
     4 / 8, 2, 2),
    ({"country": "UK", "device": "app"}, 2, .5, .125, .375, 3, .234375, .265625, 17 / 15, .125,
     5 / 7, 2 / 8, 1, 1),
    ({"country": "DE"}, 1, .375, .25, .125, .5, .46875, -.09375, -.2, 1 / 24, 5 / 21, 3 / 8, 2, 1),
    ({"device": "web"}, 1, .25, .25, 0, 0, .46875, -.21875, -7 / 15, 0, 0, 5 / 8, 3, 2),
    ({"country": "DE", "device": "web"}, 2, .25, .25, 0, 0, .46875, -.21875, -7 / 15, 0, 0,
     2 / 8, 1, 1),
    ({"country": "UK", "device": "web"}, 2, .25, .25, 0, 0, .46875, -.21875, -7 / 15, 0, 0,
     2 / 8, 1, 1),
    ({"country": "FR"}, 1, N, N, N, N, N, N, N, N, N, 1 / 8, 1, 0),
    ({"country": "DE", "device": "app"}, 2, .5, N, N, N, N, N, N, N, N, 1 / 8, 1, 0),
]


def assert_rows(got, want, what):
    assert got is not None and len(got) == len(want), \
        (what, None if got is None else [r["segment"] for r in got])
    for i, (g, w) in enumerate(zip(got, want)):
        w = dict(zip(FIELDS, w))
        for f in FIELDS:
            if f in FLOATS:
                ok = (g[f] is None and w[f] is None) or (
                    g[f] is not None and w[f] is not None
                    and math.isclose(g[f], w[f], rel_tol=1e-12, abs_tol=1e-12))
            else:
                ok = g[f] == w[f]
            assert ok, (what, i, f, g[f], w[f], g["segment"])


def segments(rows):
    return [r["segment"] for r in rows]


def random_rows(rng, ratio):
    n_dims = rng.randint(1, 4)
    values = [[None if rng.random() < 0.15 else v for v in rng.sample("abcd", rng.randint(1, 4))]
              for _ in range(n_dims)]
    rows = []
    for _ in range(rng.randint(1, 40)):
        is_test = rng.random() < 0.5 if rng.random() > 0.05 else None
        dims = [rng.choice(v) for v in values] if rng.random() > 0.05 else None
        num = rng.choice([0, 1, 2, 3, 5, -2]) * 0.5 if rng.random() > 0.05 else None
        if ratio:
            den = rng.choice([0, 1, 2, 4]) * 1.0 if rng.random() > 0.05 else None
            rows.append((is_test, dims, num, den))
        else:
            rows.append((is_test, dims, num))
    return rows, n_dims


def random_options(rng, n_dims):
    opts = {}
    if rng.random() < 0.7:
        opts["names"] = rng.sample(["country", "device", "os", "channel", "a", "bb", "é"], n_dims)
    if rng.random() < 0.8:
        opts["max_depth"] = rng.randint(1, 4)
    if rng.random() < 0.8:
        opts["min_support"] = rng.choice([0, 0.05, 0.1, 0.25, 0.5])
    if rng.random() < 0.8:
        opts["top_k"] = rng.choice([0, 1, 3, 10])
    if rng.random() < 0.8:
        opts["prune_redundant"] = rng.random() < 0.5
    return opts


def self_check(seed):
    names = {"names": NAMES}
    got = reference(SUMMABLE_ROWS, names)
    assert_rows(got, SUMMABLE_WANT, "summable")
    assert reference(SUMMABLE_ROWS, {**names, "max_depth": 2}) == got
    assert_rows(reference(SUMMABLE_ROWS, {**names, "top_k": 0}), SUMMABLE_WANT, "top_k 0")
    # top_k counts the rows after the population
    assert segments(reference(SUMMABLE_ROWS, {**names, "top_k": 3})) == \
        [{}, {"device": "web"}, {"country": "UK", "device": "web"}, {"country": "UK"}]
    # support >= 0.3: 4/9 and 3/9 stay, 2/9 and 1/9 go
    assert segments(reference(SUMMABLE_ROWS, {**names, "min_support": 0.3})) == \
        [{}, {"device": "web"}, {"country": "UK"}, {"country": "DE"}, {"device": "app"}]
    # support is compared as the float (rows_test + rows_control) / n: 2/9 >= 2/9
    assert len(reference(SUMMABLE_ROWS, {**names, "min_support": 2 / 9})) == 10
    # prune off, max_depth 1: the constant site comes back first (contribution -55)
    assert segments(reference(SUMMABLE_ROWS, {**names, "max_depth": 1,
                                              "prune_redundant": False})) == \
        [{}, {"site": "shop"}, {"device": "web"}, {"country": "UK"}, {"country": "DE"},
         {"device": "app"}, {"country": "FR"}, {"device": None}]
    # prune off, max_depth 2: jsonb orders keys by length, so {site, device} is written
    # '{"site": "shop", "device": "web"}' and comes after '{"device": "web", "country": "UK"}';
    # the five |10| segments: depth 1 FR, null; then '{"device": null, "country": "FR"}' <
    # '{"site": "shop", "country": "FR"}' < '{"site": "shop", "device": null}'
    s = lambda **kw: kw  # noqa: E731
    assert segments(reference(SUMMABLE_ROWS, {**names, "max_depth": 2,
                                              "prune_redundant": False})) == [
        {}, s(site="shop"),
        s(device="web"), s(country="UK", device="web"), s(device="web", site="shop"),
        s(country="UK"), s(country="UK", site="shop"),
        s(country="DE"), s(country="DE", device="app"), s(country="DE", site="shop"),
        s(device="app"), s(device="app", site="shop"),
        s(country="FR"), s(device=None), s(country="FR", device=None), s(country="FR", site="shop"),
        s(device=None, site="shop"),
        s(country="UK", device="app"), s(country="DE", device="web")]
    # prune off, max_depth 3: 7 + 11 + 5 depth-3 segments (one per country-device pair)
    assert len(reference(SUMMABLE_ROWS, {**names, "prune_redundant": False, "top_k": 0})) == 24
    # default names dim1.. (3-argument form); the same order ('{"dim1": "FR"}' < '{"dim2": null}')
    assert segments(reference(SUMMABLE_ROWS)) == \
        [{f"dim{NAMES.index(k) + 1}": v for k, v in seg.items()} for seg, *_ in SUMMABLE_WANT]
    assert reference(SUMMABLE_ROWS, {}) == reference(SUMMABLE_ROWS)

    got = reference(RATIO_ROWS, {"names": NAMES[:2]}, ratio=True)
    assert_rows(got, RATIO_WANT, "ratio")
    assert segments(reference(RATIO_ROWS, {"names": NAMES[:2], "min_support": 0.2}, ratio=True)) \
        == [r[0] for r in RATIO_WANT if r[11] >= 0.2]
    # prune off adds {FR, web} (NULL contribution, depth 2, '{"device": "web", "country": "FR"}'
    # after '{"device": "app", "country": "DE"}')
    assert segments(reference(RATIO_ROWS, {"names": NAMES[:2], "prune_redundant": False},
                              ratio=True))[-3:] == \
        [{"country": "FR"}, {"country": "DE", "device": "app"}, {"country": "FR", "device": "web"}]

    # bad inputs and the rows that take no part
    for bad_rows, opts in ((SUMMABLE_ROWS, {"names": ["a", "b"]}),
                           (SUMMABLE_ROWS + [(True, ["UK", "web"], 1.0)], names),
                           (SUMMABLE_ROWS, {"names": ["a", "a", "b"]})):
        try:
            reference(bad_rows, opts)
        except ValueError:
            continue
        raise AssertionError(("not rejected", opts))
    assert reference([(None, ["a"], 1.0), (True, None, 1.0)]) is None
    assert reference([(True, [], 1.0), (False, [], 2.0)]) is not None
    assert segments(reference([(True, [], 1.0), (False, [], 2.0)])) == [{}]
    # escaping as PostgreSQL writes it
    assert jsonb_text({"device": 'a"b\\c\n\x01', "é": None}) == \
        '{"é": null, "device": "a\\"b\\\\c\\n\\u0001"}'

    # the comparison: rows swapped within an exact tie (broken by depth) are mismatches; rows
    # whose abs(contribution) differ by float noise only may come in either order
    want = reference(SUMMABLE_ROWS, names)
    full = {jsonb_text(r["segment"]): r for r in want}
    assert compare(want, [dict(r) for r in want], full) == ([], 0)
    got = [dict(r) for r in want]
    got[1], got[2] = got[2], got[1]              # {device: web} and {UK, web}: both -40
    assert len(compare(want, got, full)[0]) == 2
    got[2]["contribution"] = -40 * (1 - 1e-13)    # uba's noise: {device: web} a bit smaller
    assert compare(want, got, full) == ([], 2)
    got[2]["contribution"] = -40
    want[2]["contribution"] = -40 * (1 - 1e-13)   # the reference's noise
    assert compare(want, got, full) == ([], 2)
    got[2]["contribution"] = -40 * (1 - 1e-6)
    assert len(compare(want, got, full)[0]) == 1

    # random small inputs: equal to the filtering computation; summable contributions of one
    # dimension's values add up to the change
    rng = random.Random(seed)
    checked = 0
    for _ in range(3000):
        ratio = rng.random() < 0.5
        rows, n_dims = random_rows(rng, ratio)
        opts = random_options(rng, n_dims)
        try:
            got = reference(rows, opts, ratio)
        except ValueError:
            continue
        want = filtered_reference(rows, opts, ratio)
        if got is None or want is None:
            assert got is None and want is None
            continue
        assert len(got) == len(want), (rows, opts, segments(got), segments(want))
        for g, w in zip(got, want):
            assert not row_differences(w, g), (rows, opts, g, w)
        if not ratio and got[0]["contribution"] is not None:
            full = reference(rows, {**opts, "prune_redundant": False, "min_support": 0,
                                    "top_k": 0, "max_depth": 1}, ratio)
            names_ = {k for r in full[1:] for k in r["segment"]}
            for nm in names_:
                total = sum(r["contribution"] for r in full[1:] if nm in r["segment"])
                assert abs(total - got[0]["contribution"]) < 1e-9, (rows, nm)
                assert sum(r["rows_test"] + r["rows_control"] for r in full[1:]
                           if nm in r["segment"]) == got[0]["rows_test"] + got[0]["rows_control"]
        checked += 1
    print(f"self-check of the reference: passed (hand-made summable and ratio cases; {checked} "
          "random inputs equal to the filtering computation)")


# ---------------------------------------------------------------- synthetic sales

SALES_NAMES = ["country", "device", "channel", "category"]
COUNTRIES = [("UK", 40), ("DE", 20), ("FR", 15), ("US", 20), ("Côte d'Ivoire", 3), ("IS", 2)]
DEVICES = [("desktop", 45), ("mobile", 45), ("tablet", 10)]
CHANNELS = [("organic", 40), ("paid", 30), ("email", 20), ("social", 7), (None, 3)]
CATEGORIES = [("books", 40), ("toys", 30), ("garden", 20), ("gift card", 10)]


def pick(rng, weighted):
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def sales_rows(n_control, seed):
    """(is_test, dims, revenue, orders, sessions): revenue in multiples of 0.25 (exact sums)."""
    rng = random.Random(seed)
    rows = []
    for is_test in [False] * n_control + [True] * (n_control + n_control // 10):
        country, device = pick(rng, COUNTRIES), pick(rng, DEVICES)
        channel, category = pick(rng, CHANNELS), pick(rng, CATEGORIES)
        if country == "IS":                      # redundant: IS is always mobile via email,
            device, channel = "mobile", "email"  # never a gift card
            category = "books" if category == "gift card" else category
        if category == "gift card":              # redundant: gift cards only on desktop
            device = "desktop"
        sessions = rng.randint(0, 6)
        p = {"books": 0.08, "toys": 0.06, "garden": 0.04, "gift card": 0.1}[category]
        if is_test and channel == "email":       # planted: email's conversion rate doubles
            p *= 2
        orders = sum(rng.random() < p for _ in range(sessions))
        revenue = orders * rng.randint(20, 400) * 0.25
        if is_test and country == "DE" and device == "mobile":   # planted: DE mobile -40%
            revenue = round(revenue * 2.4) / 4
        dims = [country, device, channel, category]
        r = rng.random()
        if r < 0.003:
            is_test = None
        elif r < 0.006:
            dims = None
        rows.append((is_test, dims,
                     None if rng.random() < 0.003 else float(revenue),
                     None if rng.random() < 0.003 else float(orders),
                     None if rng.random() < 0.003 else float(sessions)))
    return rows


def sales_configs():
    out = [("no options", None), ("'{}'", {})]
    for d, s, p, k in itertools.product((1, 2, 3), (0, 0.05), (True, False), (0, 10)):
        out.append((f"max_depth {d}, min_support {s}, prune {'on' if p else 'off'}, top_k {k}",
                    {"names": SALES_NAMES, "max_depth": d, "min_support": s,
                     "prune_redundant": p, "top_k": k}))
    return out


# ---------------------------------------------------------------- the database

FUNC = "uba_contribution"       # a test of this script may point it at a stand-in
SIGS = {
    "summable": "(boolean,text[],double precision)",
    "summable_options": "(boolean,text[],double precision,jsonb)",
    "ratio": "(boolean,text[],double precision,double precision)",
    "ratio_options": "(boolean,text[],double precision,double precision,jsonb)",
}


def func_of(sig):
    """The SQL function of a form: the ratio form is uba_contribution_ratio."""
    return FUNC + ("_ratio" if sig.startswith("ratio") else "")


def available(dsn):
    import psycopg2
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as c:
            c.execute("SELECT " + ", ".join("to_regprocedure(%s) IS NOT NULL" for _ in SIGS),
                      [func_of(k) + a for k, a in SIGS.items()])
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
        print("uba_contribution not (all) there yet; waiting a minute", file=sys.stderr)
        time.sleep(60)


def call_sql(table, metric_cols, options):
    args = f"is_test, dims, {metric_cols}" + ("" if options is None else ", %(opts)s::jsonb")
    func = FUNC + ("_ratio" if "," in metric_cols else "")
    return (f"SELECT {', '.join('c.' + f for f in FIELDS)} FROM unnest((SELECT "
            f"{func}({args}) FROM {table})) WITH ORDINALITY c ORDER BY c.ordinality")


def run_uba(cur, table, metric_cols, options):
    """uba's rows as dicts of FIELDS; None when there are none (the aggregate gave NULL: the
    reference never gives an empty list, its population row is always there)."""
    cur.execute(call_sql(table, metric_cols, options), {"opts": json.dumps(options)})
    return [dict(zip(FIELDS, r)) for r in cur.fetchall()] or None


def load_sales(cur, rows):
    from psycopg2.extras import execute_values
    cur.execute("DROP TABLE IF EXISTS contrib_ref_sales")
    cur.execute("CREATE TEMP TABLE contrib_ref_sales (is_test boolean, dims text[], "
                "revenue float8, orders float8, sessions float8)")
    execute_values(cur, "INSERT INTO contrib_ref_sales VALUES %s", rows, page_size=5000)
    cur.execute("ANALYZE contrib_ref_sales")


RETAIL_NAMES = ["country", "weekday", "stock_prefix"]


def load_retail(cur):
    """The rows of TEMP table contrib_ref_retail, read back in the order they are stored, as
    (is_test, dims, revenue in pounds, revenue in thousandths of a pound); None when
    retail_lines does not exist."""
    cur.execute("SELECT to_regclass('retail_lines') IS NOT NULL")
    if not cur.fetchone()[0]:
        return None
    cur.execute("DROP TABLE IF EXISTS contrib_ref_retail")
    cur.execute("""
        CREATE TEMP TABLE contrib_ref_retail AS
        SELECT invoice_date >= '2011-11-01' AS is_test,
               ARRAY[country, to_char(invoice_date, 'Dy'), left(stock_code, 2)] AS dims,
               (quantity * unit_price)::float8 AS revenue,
               (quantity * unit_price * 1000)::float8 AS revenue_milli
          FROM retail_lines
         WHERE invoice_date >= '2011-10-01' AND invoice_date < '2011-12-01'
         ORDER BY invoice_date, invoice_no, stock_code, quantity, unit_price""")
    cur.execute("ANALYZE contrib_ref_retail")
    cur.execute("SELECT is_test, dims, revenue, revenue_milli FROM contrib_ref_retail")
    rows = [(t, list(d), r, m) for t, d, r, m in cur.fetchall()]
    assert all(m == int(m) and abs(m) < 2 ** 52 for _, _, _, m in rows), \
        "revenue in thousandths of a pound is not a whole number"
    return rows


def retail_configs():
    """(label, options, metric column): in pounds only the default options (the docs' query;
    its segments hold 1% of the rows or more); every option set in thousandths of a pound, whole
    numbers whose float sums are exact in any order.  In pounds, the returns (negative lines) can
    leave a float sum of +-1e-13 where the exact sum is 0, and that turns relative_difference
    from NULL into -1 or +-1e14 and moves the segment among the ties at 0, depending on the
    order of the additions, which the definition leaves open."""
    full2 = {"names": RETAIL_NAMES, "max_depth": 2, "min_support": 0, "top_k": 0}
    full3 = {"names": RETAIL_NAMES, "max_depth": 3, "min_support": 0, "top_k": 0,
             "prune_redundant": False}
    return [("pounds, default options (names only)", {"names": RETAIL_NAMES}, "revenue"),
            ("1/1000 pound, default options", {"names": RETAIL_NAMES}, "revenue_milli"),
            ("1/1000 pound, max_depth 2, min_support 0, top_k 0", full2, "revenue_milli"),
            ("1/1000 pound, max_depth 3, min_support 0, top_k 0, prune off", full3,
             "revenue_milli")]


def fmt(v):
    if v is None:
        return "NULL"
    if isinstance(v, float):
        return f"{v:.17g}"
    if isinstance(v, dict):
        return jsonb_text(v)
    return repr(v)


class Runner:
    def __init__(self, cur, have, show):
        self.cur, self.have, self.show = cur, have, show
        self.shown, self.bad, self.not_run = [], 0, 0
        self.cache = {}

    def run(self, label, data, rows, table, metric_cols, ratio, options):
        """Compare one configuration; print its table row; uba's rows (or None)."""
        sig = ("ratio" if ratio else "summable") + ("" if options is None else "_options")
        form = "ratio" if ratio else "summable"
        if not self.have[sig]:
            self.not_run += 1
            print(f"| {data} | {form} | {label} | - | - | - | - | not run: no {FUNC}{SIGS[sig]} |")
            return None
        max_depth = (options or {}).get("max_depth", DEFAULTS["max_depth"])
        t0 = time.perf_counter()
        key = (data, table, metric_cols, ratio, max_depth)
        if key not in self.cache:
            self.cache[key] = accumulate(rows, ratio, max_depth)
        acc = self.cache[key]
        want = finish(acc, options, ratio)
        full = {jsonb_text(r["segment"]): r
                for r in (finish(acc, {**(options or {}), "top_k": 0}, ratio) or [])}
        ref_s = time.perf_counter() - t0
        import psycopg2
        t0 = time.perf_counter()
        try:
            got = run_uba(self.cur, table, metric_cols, options)
        except psycopg2.Error as e:
            self.bad += 1
            msg = f"error {e.pgcode}: {(e.diag.message_primary or str(e)).strip()}"
            print(f"| {data} | {form} | {label} | {len(want or [])} | - | 1 | - | {msg} |")
            return None
        sql_s = time.perf_counter() - t0
        bad, swaps = compare(want, got, full)
        self.bad += len(bad)
        for pos, seg, diffs in bad:
            if len(self.shown) < self.show:
                self.shown.append(
                    f"- {data}, {form}, {label}: row {pos + 1} {fmt(seg)}: "
                    + "; ".join(f"{f} reference {fmt(w)} uba {fmt(g)}" for f, w, g in diffs))
        n_want = "NULL" if want is None else len(want)
        n_got = "NULL" if got is None else len(got)
        print(f"| {data} | {form} | {label} | {n_want} | {n_got} | {len(bad)} | {swaps} | "
              f"SQL {sql_s:.2f} s, reference {ref_s:.2f} s |")
        return got


def check_rejections(cur, have):
    """uba must reject names of the wrong length and dims of different lengths; the number of
    bad inputs it accepted."""
    import psycopg2
    print("\n### inputs uba must reject\n")
    bad = 0
    cases = [("names of the wrong length",
              "SELECT " + FUNC + "(t, d, m, '{\"names\": [\"a\"]}'::jsonb) FROM (VALUES "
              "(true, ARRAY['x', 'y'], 1.0::float8)) v(t, d, m)"),
             ("dims of different lengths",
              "SELECT " + FUNC + "(t, d, m) FROM (VALUES (true, ARRAY['x', 'y'], 1.0::float8),"
              " (false, ARRAY['x'], 2.0::float8)) v(t, d, m)")]
    for what, sql in cases:
        if not (have["summable"] and have["summable_options"]):
            print(f"- {what}: not run")
            continue
        try:
            cur.execute(sql)
            cur.fetchall()
            print(f"- {what}: NOT rejected")
            bad += 1
        except psycopg2.Error as e:
            print(f"- {what}: rejected, {e.pgcode} {(e.diag.message_primary or '').strip()}")
    # not part of the comparison: what uba gives when no row takes part (the spec is silent)
    if have["summable"]:
        try:
            cur.execute("SELECT " + FUNC + "(t, d, m) FROM (VALUES (NULL::boolean, "
                        "ARRAY['x'], 1.0::float8)) v(t, d, m)")
            print(f"- (for information) no row taking part gives: {cur.fetchone()[0]!r}")
        except psycopg2.Error as e:
            print(f"- (for information) no row taking part: error {e.pgcode} "
                  f"{(e.diag.message_primary or '').strip()}")
    return bad


def print_top(rows, k=5):
    print("\n### Online Retail: why did revenue change from October (control) to November 2011 "
          "(test)?\n")
    print("uba_contribution(invoice_date >= '2011-11-01', ARRAY[country, to_char(invoice_date, "
          "'Dy'), left(stock_code, 2)], (quantity * unit_price)::float8, "
          f"'{{\"names\": {json.dumps(RETAIL_NAMES)}}}') over the lines of 2011-10 and 2011-11; "
          f"the population and the top {k} segments:\n")
    print("| segment | depth | revenue Nov | revenue Oct | difference | unexpected difference | "
          "contribution | share of change | support | rows Nov | rows Oct |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def n(v, f="{:,.2f}"):
        return "NULL" if v is None else f.format(v)
    for r in rows[:k + 1]:
        seg = ", ".join(f"{k_}={'NULL' if v is None else v}" for k_, v in
                        sorted(r["segment"].items(), key=lambda kv: RETAIL_NAMES.index(kv[0]))) \
            or "(all)"
        print(f"| {seg} | {r['depth']} | {n(r['metric_test'])} | {n(r['metric_control'])} | "
              f"{n(r['difference'])} | {n(r['unexpected_difference'])} | "
              f"{n(r['contribution'])} | {n(r['share_of_change'], '{:.1%}')} | "
              f"{n(r['support'], '{:.1%}')} | {r['rows_test']:,} | {r['rows_control']:,} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", default="host=/tmp/pgdev port=5499 dbname=bench")
    ap.add_argument("--rows", type=int, default=20000, help="control rows of the synthetic sales "
                    "(test: 10%% more)")
    ap.add_argument("--seed", type=int, default=20240701)
    ap.add_argument("--show", type=int, default=10, help="mismatches shown in full")
    ap.add_argument("--wait", type=float, default=0, help="minutes to wait for uba_contribution")
    ap.add_argument("--no-retail", action="store_true", help="skip the Online Retail comparison")
    ap.add_argument("--skip-db", action="store_true", help="run the self-check alone")
    args = ap.parse_args()
    self_check(args.seed)
    if args.skip_db:
        return 0

    import psycopg2
    have = wait_for(args.dsn, args.wait)
    if not any(have.values()):
        print("uba_contribution is not installed in this database", file=sys.stderr)
        return 2
    missing = [FUNC + SIGS[k] for k, v in have.items() if not v]
    if missing:
        print(f"missing: {', '.join(missing)}; comparing what exists", file=sys.stderr)
    try:
        conn = psycopg2.connect(args.dsn)
        conn.autocommit = True
        cur = conn.cursor()
        run = Runner(cur, have, args.show)
        sales = sales_rows(args.rows, args.seed)
        load_sales(cur, sales)
        summable = [(t, d, rev) for t, d, rev, _, _ in sales]
        ratio = [(t, d, o, s) for t, d, _, o, s in sales]
        print(f"\n{len(sales)} rows in contrib_ref_sales (seed {args.seed}): planted a 40% revenue "
              "drop in country DE on mobile and a doubled conversion rate in channel email\n")
        print("| data | form | options | reference rows | uba rows | mismatches | near-tie swaps "
              "| notes |")
        print("|---|---|---|---:|---:|---:|---:|---|")
        for label, opts in sales_configs():
            run.run(label, "sales", summable, "contrib_ref_sales", "revenue", False, opts)
            run.run(label, "sales", ratio, "contrib_ref_sales", "orders, sessions", True, opts)
        retail_top = None
        if not args.no_retail:
            retail = load_retail(cur)
            if retail is None:
                print("\n(no retail_lines table: Online Retail not compared)")
            else:
                for label, opts, col in retail_configs():
                    data = [(t, d, r if col == "revenue" else m) for t, d, r, m in retail]
                    got = run.run(label, "Online Retail", data, "contrib_ref_retail", col,
                                  False, opts)
                    if retail_top is None and col == "revenue" and got:
                        retail_top = got
        if run.shown:
            print("\nfirst mismatches:\n")
            print("\n".join(run.shown))
        bad = run.bad + check_rejections(cur, have)
        if retail_top:
            print_top(retail_top)
    except psycopg2.Error as e:
        print(f"database part failed: {e}", file=sys.stderr)
        return 2
    print(f"\n{'no mismatches' if not bad else f'{bad} mismatches or bad inputs accepted'}"
          + (f"; {run.not_run} configurations not run (functions missing)" if run.not_run else ""))
    if bad:
        return 1
    return 2 if run.not_run else 0


if __name__ == "__main__":
    sys.exit(main())
