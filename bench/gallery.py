#!/usr/bin/python3
"""The gallery: the charts a BI tool draws from uba's outputs on the demo data (doc/gallery.md).

Each chart is one entry of CHARTS: a name (the PNG is <out>/<name>.png), the SQL that gives its
numbers (one string, shown as it is in doc/gallery.md) and a function that draws the rows with
matplotlib (Agg backend, no other plotting library).  The SQL reads the tables of
data/load_online_retail.sql (retail_lines, retail_products), which data/demo.sql loads:

    psql -X -v ON_ERROR_STOP=1 -q -f data/demo.sql          # from the project root, once
    /usr/bin/python3 bench/gallery.py [--dsn DSN] [--out doc/gallery] [--doc doc/gallery.md]

`make gallery` does both on a throw-away cluster.  The images are deterministic: 900 x 500 px,
at most 256 colours, no metadata (no dates or versions), nothing random; the same data, matplotlib
and Pillow give the same bytes.  After drawing, the script checks that doc/gallery.md shows each
chart's SQL exactly (--doc '' skips the check) and exits 1 when one differs.
"""
import argparse
import math
import os
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
from matplotlib.patches import PathPatch, Rectangle  # noqa: E402
from matplotlib.path import Path  # noqa: E402

import psycopg2  # noqa: E402
from PIL import Image  # noqa: E402  (matplotlib needs it too)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------------------------------------
# The SQL of each chart, exactly as doc/gallery.md shows it
# ---------------------------------------------------------------------------------------------

RETENTION_SQL = """\
WITH buys AS (    -- one row per customer and month with a purchase; whole months only
  SELECT DISTINCT customer_id, date_trunc('month', invoice_date) AS month
    FROM retail_lines
   WHERE customer_id IS NOT NULL AND quantity > 0 AND invoice_date < '2011-12-01'),
cohorts AS (SELECT customer_id, min(month) AS cohort FROM buys GROUP BY customer_id),
per_customer AS ( -- condition 1: bought in the cohort month; condition k + 1: k months later
  SELECT c.cohort,
         uba_retention(ARRAY(SELECT b.month = c.cohort + k * interval '1 month'
                               FROM generate_series(0, 11) AS k)) AS r
    FROM buys b JOIN cohorts c USING (customer_id)
   GROUP BY c.cohort, b.customer_id)
SELECT to_char(cohort, 'YYYY-MM') AS cohort, x.k - 1 AS months_later,
       count(*) AS customers, count(*) FILTER (WHERE x.retained) AS retained
  FROM per_customer, unnest(r) WITH ORDINALITY AS x(retained, k)
 WHERE cohort + (x.k - 1) * interval '1 month' < '2011-12-01'   -- months the data covers
 GROUP BY cohort, x.k
 ORDER BY cohort, x.k"""

PATHS_SQL = """\
WITH product_group AS MATERIALIZED (   -- a keyword map of the descriptions onto eight groups
  SELECT stock_code, CASE
    WHEN description ~ 'CHRISTMAS|XMAS|ADVENT|SANTA|REINDEER|SNOWFLAKE' THEN 'Christmas'
    WHEN description ~ 'LIGHT|CANDLE|LANTERN' THEN 'Lights & candles'
    WHEN description ~ '\\mBAGS?\\M|SHOPPER|BASKET|\\mCASES?\\M|CONTAINER|STORAGE' THEN 'Bags & storage'
    WHEN description ~ 'CAKE|\\mTEA|MUG|\\mCUPS?\\M|PLATE|BOWL|\\mJARS?\\M|BAKING|CUTLERY|LUNCH BOX|\\mTINS?\\M'
                       '|BOTTLE|\\mJAM|PANTRY|NAPKIN|KITCHEN|SPOON|APRON|DOILY|TRAY|GLASS|JUG|COOKIE|BREAD|OVEN'
         THEN 'Kitchen & dining'
    WHEN description ~ 'CARD|WRAP|PAPER|PARTY|BUNTING|NOTE ?BOOK|\\mPENS?\\M|PENCIL|STICKER|BIRTHDAY'
                       '|BALLOON|RIBBON|GIFT|CHALK|ENVELOPE|TISSUE' THEN 'Paper & party'
    WHEN description ~ 'CHILD|KIDS|TOY|DOLL|SPACEBOY|GAME|FELTCRAFT|PLAYING|JIGSAW|SKIPPING|CRAYON|COLOURING'
                       '|SPINNING TOP|SKITTLE|DOMINO|PLAYHOUSE|BINGO|SNAKES|KNITTING|MODELLING|PAINT SET|CRAFT|SEWING'
         THEN 'Toys & crafts'
    WHEN description ~ 'SIGN|FRAME|CLOCK|DOORMAT|DECORATION|HANGING|CUSHION|DRAWER|KNOB|HOOK|WALL|HEART'
                       '|MIRROR|GARDEN|VASE|\\mBOX|HOLDER|ORNAMENT|WREATH|BIRD|BLOCK WORD|BLACK ?BOARD|CABINET'
                       '|COAT RACK|PEGS|WATERING CAN|KEY FOB|\\mSTARS?\\M|WICKER' THEN 'Home & garden'
    ELSE 'Other' END AS grp
  FROM retail_products),
invoices AS (             -- one event per invoice: the group with the most lines on it
  SELECT DISTINCT ON (l.customer_id, l.invoice_no) l.customer_id, l.invoice_date, g.grp
    FROM retail_lines l JOIN product_group g USING (stock_code)
   WHERE l.customer_id IS NOT NULL AND l.quantity > 0
     AND l.stock_code ~ '^[0-9]'                   -- products, not postage, fees or manual lines
   GROUP BY l.customer_id, l.invoice_no, l.invoice_date, g.grp
   ORDER BY l.customer_id, l.invoice_no, count(*) DESC, g.grp),
paths AS (                -- each customer's first four invoices; a repeat is a step too
  SELECT customer_id,
         uba_path(invoice_date, grp, '{"max_steps": 4, "collapse_repeats": false}'::jsonb) AS path
    FROM invoices GROUP BY customer_id)
SELECT step, path[step] AS source, path[step + 1] AS target, count(*) AS customers
  FROM paths, generate_subscripts(path, 1) AS step   -- target NULL: no later invoice
 GROUP BY 1, 2, 3
 ORDER BY 1, 2, 3"""

LIFECYCLE_SQL = """\
SELECT s.period AS month, s.status, count(*) AS customers
  FROM (SELECT uba_lifecycle(invoice_date, '{"start": "2011-01-01", "end": "2011-11-30", "period": "month"}'::jsonb) AS l
          FROM retail_lines
         WHERE customer_id IS NOT NULL AND quantity > 0
         GROUP BY customer_id) u,
       unnest((l).periods, (l).statuses) AS s(period, status)
 GROUP BY 1, 2
 ORDER BY 1, 2"""

# The funnel's customers (HAVING): first purchase in 2011 (one in December 2010, the first month
# of the data, is often an older customer's) and 90 days of data after it (the data ends 2011-12-09)
FUNNEL_CTE = """\
WITH purchases AS (       -- one row per purchase (invoice time); n: the customer's 1st, 2nd, ...
  SELECT customer_id, invoice_date,
         row_number() OVER (PARTITION BY customer_id ORDER BY invoice_date) AS n
    FROM (SELECT DISTINCT customer_id, invoice_date FROM retail_lines
           WHERE customer_id IS NOT NULL AND quantity > 0) p)"""

FUNNEL_SQL = FUNNEL_CTE + """,
funnel AS (               -- customers first seen in 2011 with 90 days of data after it
  SELECT customer_id, uba_funnel(invoice_date, '90 days', ARRAY[n = 1, n = 2, n = 3]) AS depth
    FROM purchases
   GROUP BY customer_id
  HAVING min(invoice_date) >= '2011-01-01' AND min(invoice_date) < '2011-09-10')
SELECT step, count(*) FILTER (WHERE depth >= step) AS customers
  FROM funnel, generate_series(1, 3) AS step
 GROUP BY step
 ORDER BY step"""

FUNNEL_TIMES_SQL = FUNNEL_CTE + """,
times AS (                -- t[1]: the first purchase, t[2]: the second (NULL: none in 90 days)
  SELECT customer_id, uba_funnel_times(invoice_date, '90 days', ARRAY[n = 1, n = 2]) AS t
    FROM purchases
   GROUP BY customer_id
  HAVING min(invoice_date) >= '2011-01-01' AND min(invoice_date) < '2011-09-10')
SELECT floor(extract(epoch FROM t[2] - t[1]) / 86400 / 7)::int AS week, count(*) AS customers
  FROM times
 WHERE t[2] IS NOT NULL
 GROUP BY week
 ORDER BY week"""

RFM_SQL = """\
WITH rfm AS (             -- lifetimes' RFM by day, up to the last day of the data
  SELECT customer_id,
         (uba_rfm(invoice_date, quantity * unit_price::float8, '{"end": "2011-12-09"}'::jsonb)).*
    FROM retail_lines
   WHERE customer_id IS NOT NULL AND quantity > 0
   GROUP BY customer_id),
scores AS (               -- quintile scores 1..5, 5 the best; equal values get the same score
  SELECT customer_id,
         least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY t - recency DESC)))::int AS r,
         least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY frequency)))::int AS f
    FROM rfm)
SELECT r, f, uba_rfm_segment(r, f) AS segment, count(*) AS customers
  FROM scores
 GROUP BY r, f
 ORDER BY r DESC, f"""

# ---------------------------------------------------------------------------------------------
# One style for every chart
# ---------------------------------------------------------------------------------------------

WIDTH, HEIGHT, DPI = 9.0, 5.0, 100          # 900 x 500 px
INK = "#222222"
MUTED = "#666666"
GRID = "#dddddd"
# a colour-blind-friendly categorical palette (Okabe & Ito)
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]

STYLE = {
    "figure.figsize": (WIDTH, HEIGHT),
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.facecolor": "white",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.titlelocation": "left",
    "axes.titlepad": 8,
    "axes.labelsize": 10,
    "axes.labelcolor": INK,
    "axes.edgecolor": "#999999",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "grid.color": GRID,
    "xtick.color": INK,
    "ytick.color": INK,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "text.color": INK,
}


def fmt(n):
    return f"{n:,}"


def header(fig, title, subtitle):
    """The title and, in grey under it, what the numbers are and which uba function made them."""
    fig.text(0.015, 0.965, title, fontsize=14, weight="bold", va="top")
    fig.text(0.015, 0.905, subtitle, fontsize=9, color=MUTED, va="top", linespacing=1.4)


def save(fig, path):
    """A PNG of 256 colours at most (a third of the size, no visible change), without metadata."""
    fig.canvas.draw()
    w, h = fig.canvas.get_width_height()
    img = Image.frombuffer("RGBA", (w, h), bytes(fig.canvas.buffer_rgba()), "raw", "RGBA", 0, 1)
    img = img.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    img.save(path, optimize=True)


def thousands(ax, axis="y"):
    f = matplotlib.ticker.FuncFormatter(lambda v, _: fmt(int(abs(v))))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(f)


# ---------------------------------------------------------------------------------------------
# The charts
# ---------------------------------------------------------------------------------------------

def draw_retention(rows):
    """Heatmap: cohorts down, months since the first purchase across, % of the cohort."""
    cohorts = sorted({r[0] for r in rows if r[1] > 0})     # the last cohort has no later month yet
    months = sorted({r[1] for r in rows if r[1] > 0})
    size = {r[0]: r[2] for r in rows}
    rate = {(r[0], r[1]): 100.0 * r[3] / r[2] for r in rows}
    grid = [[rate.get((c, m), float("nan")) for m in months] for c in cohorts]
    top = 5 * math.ceil(max(v for row in grid for v in row if v == v) / 5)

    fig, ax = plt.subplots()
    fig.subplots_adjust(left=0.17, right=0.96, top=0.8, bottom=0.11)
    header(fig, "Monthly cohort retention",
           "customers by the month of their first purchase: the share who bought again 1, 2, ..."
           " months later (uba_retention)")
    im = ax.imshow(grid, cmap=plt.get_cmap("Blues", top // 5), vmin=0, vmax=top, aspect="auto")
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            if v == v:
                ax.text(j, i, f"{v:.0f}%", ha="center", va="center", fontsize=8.5,
                        color="white" if v > 0.55 * top else INK)
    ax.set_xticks(range(len(months)), [str(m) for m in months])
    ax.set_yticks(range(len(cohorts)), [f"{c}  ({fmt(size[c])})" for c in cohorts])
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.set_xlabel("months after the first purchase")
    ax.set_ylabel("first purchase (customers)")
    cb = fig.colorbar(im, ax=ax, fraction=0.025, pad=0.015, format="%.0f%%",
                      ticks=range(0, top + 1, 10))
    cb.outline.set_visible(False)
    cb.ax.tick_params(labelsize=8, length=0)
    return fig


def draw_paths(rows):
    """Sankey: a column per invoice, a node per product group, ribbons between steps."""
    node = {}                                    # (column, group) -> customers
    flow = {}                                    # (column, source, target) -> customers
    for step, source, target, n in rows:
        node[(step, source)] = node.get((step, source), 0) + n
        if target is not None:
            flow[(step, source, target)] = n
    columns = sorted({c for c, _ in node})
    first = {g: n for (c, g), n in node.items() if c == 1}
    groups = sorted(first, key=lambda g: (g == "Other", -first[g], g))
    groups += sorted({g for (_, g) in node} - set(groups))
    colour = {g: PALETTE[i % (len(PALETTE) - 1)] for i, g in enumerate(groups)}
    colour["Other"] = "#aaaaaa"

    gap = 0.012                                  # between nodes, as a share of the height
    scale = (1.0 - gap * (len(groups) - 1)) / sum(first.values())
    width = 0.035
    x = {c: (c - 1) * 1.0 for c in columns}
    pos = {}                                     # (column, group) -> (top, bottom)
    for c in columns:
        present = [g for g in groups if node.get((c, g))]
        height = sum(node[(c, g)] for g in present) * scale + gap * (len(present) - 1)
        y = 0.5 + height / 2                     # columns centred
        for g in present:
            h = node[(c, g)] * scale
            pos[(c, g)] = (y, y - h)
            y -= h + gap

    fig, ax = plt.subplots()
    fig.subplots_adjust(left=0.19, right=0.82, top=0.75, bottom=0.03)
    header(fig, "What customers buy first, and next",
           "each invoice's main product group, over the first four invoices of each customer"
           " (uba_path);\na node's part without a ribbon is the customers with no later invoice")
    # ribbons, stacked in group order at both ends so that they do not cross inside a node
    out_used = {k: 0.0 for k in pos}
    in_used = {k: 0.0 for k in pos}
    for c in columns[:-1]:
        for s in groups:
            for t in groups:
                n = flow.get((c, s, t))
                if not n:
                    continue
                h = n * scale
                y0 = pos[(c, s)][0] - out_used[(c, s)]
                y1 = pos[(c + 1, t)][0] - in_used[(c + 1, t)]
                out_used[(c, s)] += h
                in_used[(c + 1, t)] += h
                x0, x1 = x[c] + width / 2, x[c + 1] - width / 2
                xm = (x0 + x1) / 2
                verts = [(x0, y0), (xm, y0), (xm, y1), (x1, y1), (x1, y1 - h),
                         (xm, y1 - h), (xm, y0 - h), (x0, y0 - h), (x0, y0)]
                codes = [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO,
                         Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.CLOSEPOLY]
                ax.add_patch(PathPatch(Path(verts, codes), facecolor=colour[s], alpha=0.35,
                                       edgecolor="none"))
    for (c, g), (top, bottom) in pos.items():
        ax.add_patch(Rectangle((x[c] - width / 2, bottom), width, top - bottom,
                               facecolor=colour[g], edgecolor="white", linewidth=0.5))
    # names and counts left of the first column and right of the last, pushed apart to stay legible
    for c, side in ((columns[0], -1), (columns[-1], 1)):
        labels = sorted(((top + bottom) / 2, g) for (cc, g), (top, bottom) in pos.items() if cc == c)
        last = None
        for y, g in reversed(labels):            # from the top down
            y = y if last is None else min(y, last - 0.042)
            last = y
            text = f"{g}  {fmt(node[(c, g)])}" if side < 0 else f"{fmt(node[(c, g)])}  {g}"
            ax.text(x[c] + side * (width / 2 + 0.03), y, text, ha="right" if side < 0 else "left",
                    va="center", fontsize=9)
    ordinal = {1: "1st", 2: "2nd", 3: "3rd"}
    for c in columns:
        total = sum(n for (cc, _), n in node.items() if cc == c)
        ax.text(x[c], 1.02, f"{ordinal.get(c, f'{c}th')} invoice\n{fmt(total)} customers",
                ha="center", va="bottom", fontsize=9)
    ax.set_xlim(x[columns[0]] - 0.05, x[columns[-1]] + 0.05)
    ax.set_ylim(-0.01, 1.01)
    ax.axis("off")
    return fig


LIFECYCLE_ORDER = [("new", "#009E73"), ("returning", "#0072B2"),
                   ("resurrecting", "#E69F00"), ("dormant", "#D55E00")]


def draw_lifecycle(rows):
    """Stacked bars: new, returning, resurrecting up; dormant down."""
    months = sorted({r[0] for r in rows})
    count = {(r[0], r[1]): r[2] for r in rows}
    fig, ax = plt.subplots()
    fig.subplots_adjust(left=0.09, right=0.98, top=0.78, bottom=0.11)
    header(fig, "Customer lifecycle by month",
           "customers who bought in the month: new (first purchase ever), returning (bought the"
           " month before too), resurrecting (did not);\nbelow the axis, dormant: bought the"
           " month before, not in this one (uba_lifecycle)")
    xs = range(len(months))
    base = [0] * len(months)
    for status, col in LIFECYCLE_ORDER:
        vals = [count.get((m, status), 0) for m in months]
        if status == "dormant":
            ax.bar(xs, [-v for v in vals], 0.7, color=col, label=status)
        else:
            ax.bar(xs, vals, 0.7, bottom=base, color=col, label=status)
            base = [b + v for b, v in zip(base, vals)]
    ax.axhline(0, color=INK, linewidth=0.8)
    ax.set_xticks(list(xs), [m.strftime("%b\n%Y") if m.month == 1 or i == 0 else m.strftime("%b")
                             for i, m in enumerate(months)])
    ax.yaxis.grid(True)
    ax.set_axisbelow(True)
    thousands(ax)
    ax.set_ylabel("customers")
    ax.legend(ncol=4, loc="upper left", bbox_to_anchor=(0, 1.02))
    top = max(base)
    bottom = max(count.get((m, "dormant"), 0) for m in months)
    ax.set_ylim(-bottom * 1.1, top * 1.2)
    return fig


def draw_funnel(funnel_rows, time_rows):
    """Funnel bars with conversion rates, and a histogram of the days from step 1 to step 2."""
    fig, (ax, hx) = plt.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.2]})
    fig.subplots_adjust(left=0.09, right=0.98, top=0.76, bottom=0.12, wspace=0.3)
    header(fig, "Repeat purchases within 90 days of the first",
           "customers first seen 2011-01-01 .. 2011-09-09: how many bought a 2nd and a 3rd time"
           " within 90 days (uba_funnel),\nand how long the 2nd purchase took (uba_funnel_times)")
    labels = {1: "1st purchase", 2: "2nd purchase", 3: "3rd purchase"}
    steps = [r[0] for r in funnel_rows]
    counts = [r[1] for r in funnel_rows]
    first = counts[0]
    ax.bar(steps, [first] * len(steps), 0.6, color="#ebebeb")
    ax.bar(steps, counts, 0.6, color=PALETTE[0])
    for i, (s, n) in enumerate(zip(steps, counts)):
        ax.text(s, n + first * 0.015, f"{fmt(n)}\n{100.0 * n / first:.0f}%", ha="center",
                va="bottom", fontsize=9)
        if i:
            ax.text(s, first * 0.97, f"{100.0 * n / counts[i - 1]:.0f}% of the\nstep before",
                    ha="center", va="top", fontsize=8, color=MUTED)
    ax.set_xticks(steps, [labels.get(s, f"step {s}") for s in steps])
    ax.tick_params(axis="x", length=0)
    ax.set_ylim(0, first * 1.13)
    thousands(ax)
    ax.set_ylabel("customers")
    ax.set_title("the funnel: share of the 1st step")

    weeks = [r[0] for r in time_rows]
    n = [r[1] for r in time_rows]
    total = sum(n)
    acc, median_week = 0, weeks[-1]             # the week in which half have converted
    for w, k in zip(weeks, n):
        acc += k
        if acc * 2 >= total:
            median_week = w
            break
    hx.bar([w * 7 + 3.5 for w in weeks], n, 6.3, color=PALETTE[2])
    hx.set_xticks(range(0, 92, 14))
    hx.set_xlim(0, 91)
    hx.set_xlabel("days from the 1st to the 2nd purchase (bins of a week)")
    hx.set_ylabel("customers")
    hx.yaxis.grid(True)
    hx.set_axisbelow(True)
    hx.set_title(f"time to convert: {fmt(total)} customers, half within {(median_week + 1) * 7} days")
    return fig


SEGMENT_COLOURS = {
    "Champions": "#006d2c", "Loyal customers": "#31a354", "Potential loyalists": "#74c476",
    "New customers": "#3690c0", "Promising": "#9ecae1", "Need attention": "#F0E442",
    "About to sleep": "#fdd49e", "At risk": "#fc8d59", "Can't lose them": "#d7301f",
    "Hibernating": "#bdbdbd",
}


def _dark(hexcolour):
    r, g, b = (int(hexcolour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b < 140


def draw_rfm(rows):
    """The R x F grid of the segment map, each segment one block, and the segments by size."""
    total = sum(r[3] for r in rows)
    seg_cells = {}                               # segment -> [(r, f, customers)]
    for r, f, seg, n in rows:
        seg_cells.setdefault(seg, []).append((r, f, n))
    size = {s: sum(c[2] for c in cs) for s, cs in seg_cells.items()}
    fig, ax = plt.subplots()
    fig.subplots_adjust(left=0.075, right=0.66, top=0.8, bottom=0.11)
    header(fig, "RFM segments",
           f"{fmt(total)} customers by their recency and frequency scores (uba_rfm), named by"
           " uba_rfm_segment; small figures: customers per cell")
    for seg in sorted(seg_cells, key=str):
        cs = seg_cells[seg]
        col = SEGMENT_COLOURS.get(seg, "#dddddd")
        ink = "white" if _dark(col) else INK
        for r, f, k in cs:
            ax.add_patch(Rectangle((f - 0.5, r - 0.5), 1, 1, facecolor=col, edgecolor="white",
                                   linewidth=0.5))
            ax.text(f + 0.45, r - 0.45, fmt(k), ha="right", va="bottom", fontsize=7.5,
                    color=ink, alpha=0.85)
        f0, f1 = min(c[1] for c in cs), max(c[1] for c in cs)
        r0, r1 = min(c[0] for c in cs), max(c[0] for c in cs)
        ax.add_patch(Rectangle((f0 - 0.5, r0 - 0.5), f1 - f0 + 1, r1 - r0 + 1, fill=False,
                               edgecolor="white", linewidth=3))
        name = seg if seg is not None else "(no segment)"
        if f1 == f0:                             # one cell wide: wrap the name
            name = textwrap.fill(name, 11)
        ax.text(f0 - 0.42, r1 + 0.4, name, ha="left", va="top", fontsize=9, weight="bold",
                color=ink, linespacing=1.1)
        ax.text(f0 - 0.42, r1 + 0.4 - 0.21 * (name.count("\n") + 1) - 0.03,
                f"{fmt(size[seg])} ({100.0 * size[seg] / total:.0f}%)", ha="left", va="top",
                fontsize=8.5, color=ink)
    ax.set_xlim(0.5, 5.5)
    ax.set_ylim(0.5, 5.5)
    ax.set_xticks(range(1, 6))
    ax.set_yticks(range(1, 6))
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.set_xlabel("frequency score (5: the most repeat purchases)")
    ax.set_ylabel("recency score (5: bought the most recently)")
    # beside the map: the segments by size
    bx = fig.add_axes([0.815, 0.11, 0.165, 0.69])
    order = sorted(seg_cells, key=lambda s: (-size[s], str(s)))
    bx.barh(range(len(order)), [size[s] for s in order],
            color=[SEGMENT_COLOURS.get(s, "#dddddd") for s in order])
    bx.set_yticks(range(len(order)), [str(s) for s in order], fontsize=8.5)
    bx.invert_yaxis()
    bx.tick_params(axis="y", length=0)
    bx.set_xticks([])
    bx.spines["bottom"].set_visible(False)
    bx.spines["left"].set_visible(False)
    top = max(size.values())
    for i, s in enumerate(order):
        bx.text(size[s] + top * 0.04, i, fmt(size[s]), va="center", fontsize=8)
    bx.set_xlim(0, top * 1.4)
    return fig


# name: ([SQL, ...], the function that draws the rows of each SQL), in the order of the page
CHARTS = {
    "retention": ([RETENTION_SQL], draw_retention),
    "paths": ([PATHS_SQL], draw_paths),
    "lifecycle": ([LIFECYCLE_SQL], draw_lifecycle),
    "funnel": ([FUNNEL_SQL, FUNNEL_TIMES_SQL], draw_funnel),
    "rfm": ([RFM_SQL], draw_rfm),
}


def check_doc(path):
    """Names of the charts whose SQL doc/gallery.md does not show exactly (in a ```sql block)."""
    text = open(path).read()
    return [name for name, (sqls, _) in CHARTS.items()
            if any(f"```sql\n{sql};\n```" not in text for sql in sqls)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dsn", default="", help="libpq connection string (default: the PG* variables)")
    ap.add_argument("--out", default=os.path.join(ROOT, "doc", "gallery"), help="folder of the PNGs")
    ap.add_argument("--doc", default=os.path.join(ROOT, "doc", "gallery.md"),
                    help="check that this page shows each chart's SQL ('' to skip)")
    ap.add_argument("charts", nargs="*", help=f"only these charts (of {', '.join(CHARTS)})")
    args = ap.parse_args()
    unknown = [c for c in args.charts if c not in CHARTS]
    if unknown:
        ap.error(f"unknown chart {', '.join(unknown)}; the charts are {', '.join(CHARTS)}")

    conn = psycopg2.connect(args.dsn)
    conn.set_session(readonly=True, autocommit=True)
    cur = conn.cursor()
    plt.rcParams.update(STYLE)
    os.makedirs(args.out, exist_ok=True)
    for name in args.charts or CHARTS:
        sqls, draw = CHARTS[name]
        results = []
        for sql in sqls:
            cur.execute(sql)
            results.append(cur.fetchall())
        fig = draw(*results)
        path = os.path.join(args.out, f"{name}.png")
        save(fig, path)
        plt.close(fig)
        print(f"{path}: {os.path.getsize(path) // 1024} kB")
    conn.close()

    if args.doc:
        if not os.path.exists(args.doc):
            sys.exit(f"{args.doc} is missing (--doc '' skips the check)")
        stale = check_doc(args.doc)
        if stale:
            sys.exit(f"{args.doc} does not show the SQL of {', '.join(stale)} as bench/gallery.py"
                     " runs it: copy it from the script")


if __name__ == "__main__":
    main()
