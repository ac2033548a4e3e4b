#!/usr/bin/python3
"""Behaviour functions against the built-in SQL that does the nearest job, in one session.

- uba_funnel grouped by user against max(ts) and one count(*) FILTER per step,
  grouped by user over the same rows (requirement: at most 3x); also with the
  rows in hash order (every user's events out of time order, so each user's
  events are sorted) and steps that hold on almost every event;
- uba_session against the usual lag() sessionization (a new-session flag from
  ts - lag(ts) > gap, summed by a second window; requirement: at most 2x);
- uba_retention grouped by user against one bool_or per condition;
- uba_assoc_rules: time, itemsets and rules on the Online Retail invoices at
  several supports, and on the Groceries baskets when --groceries is given.

The events are the Online Retail lines with a customer (406,829), repeated
--copies times with shifted customer ids and times, so 5 copies give 2.0M
events of 21,860 users.  Medians of --repeat runs, the default plan and with
parallel query off.  Load the data first (from the project root):

    psql -X -v ON_ERROR_STOP=1 -f data/load_online_retail.sql
    /usr/bin/python3 bench/behaviour_bench.py [--copies 5] [--repeat 5] [--dsn DSN]
        [--groceries ../shared/data/groceries/groceries.csv]
"""
import argparse
import os
import statistics

from benchlib import compare_with_builtins, connect, print_comparison, timed

STEPS = "ARRAY[stock_code = '85123A', stock_code = '22423', quantity < 0, stock_code = '85099B']"
FILTERS = ("count(*) FILTER (WHERE stock_code = '85123A'), count(*) FILTER (WHERE stock_code = '22423'),"
           " count(*) FILTER (WHERE quantity < 0), count(*) FILTER (WHERE stock_code = '85099B')")
RETENTION = ("ARRAY[ts < '2011-01-01', date_trunc('month', ts) = '2011-01-01',"
             " date_trunc('month', ts) = '2011-06-01', date_trunc('month', ts) = '2011-11-01']")
BOOL_ORS = ("bool_or(ts < '2011-01-01'), bool_or(date_trunc('month', ts) = '2011-01-01'),"
            " bool_or(date_trunc('month', ts) = '2011-06-01'), bool_or(date_trunc('month', ts) = '2011-11-01')")

CASES = {
    "uba_funnel": (
        f"SELECT count(*) FROM (SELECT user_id, uba_funnel(ts, '30 days', {STEPS}) FROM bh_events GROUP BY user_id) s",
        f"SELECT count(*) FROM (SELECT user_id, max(ts), {FILTERS} FROM bh_events GROUP BY user_id) s"),
    "uba_funnel, shuffled, dense": (
        "SELECT count(*) FROM (SELECT user_id, uba_funnel(ts, '30 days', ARRAY[quantity > 0, quantity >= 12,"
        " unit_price > 10, quantity < 0]) FROM bh_shuffled GROUP BY user_id) s",
        "SELECT count(*) FROM (SELECT user_id, max(ts), count(*) FILTER (WHERE quantity > 0), count(*) FILTER"
        " (WHERE quantity >= 12), count(*) FILTER (WHERE unit_price > 10), count(*) FILTER (WHERE quantity < 0)"
        " FROM bh_shuffled GROUP BY user_id) s"),
    "uba_session": (
        "SELECT max(s) FROM (SELECT uba_session(ts, '30 minutes') OVER (PARTITION BY user_id ORDER BY ts) AS s"
        " FROM bh_events) x",
        "SELECT max(s) FROM (SELECT 1 + count(*) FILTER (WHERE starts) OVER (PARTITION BY user_id ORDER BY ts"
        " ROWS UNBOUNDED PRECEDING) AS s FROM (SELECT user_id, ts, ts - lag(ts) OVER (PARTITION BY user_id ORDER BY ts)"
        " > interval '30 minutes' AS starts FROM bh_events) y) x"),
    "uba_retention": (
        f"SELECT count(*) FROM (SELECT user_id, uba_retention({RETENTION}) FROM bh_events GROUP BY user_id) s",
        f"SELECT count(*) FROM (SELECT user_id, {BOOL_ORS} FROM bh_events GROUP BY user_id) s"),
}


def load_events(cur, copies):
    cur.execute("SELECT count(*) FROM pg_class WHERE relname = 'bh_events'")
    if cur.fetchone()[0]:
        cur.execute("SELECT obj_description('bh_events'::regclass)")
        if cur.fetchone()[0] == f"copies={copies}":
            return
    print(f"making {copies} copies of the Online Retail customer lines")
    cur.execute("DROP TABLE IF EXISTS bh_events")
    cur.execute(f"""
        CREATE TABLE bh_events AS
        SELECT customer_id + r * 100000 AS user_id, invoice_date + r * interval '1 minute' AS ts,
               stock_code, quantity, unit_price
          FROM retail_lines, generate_series(0, {copies - 1}) r
         WHERE customer_id IS NOT NULL""")
    # the same rows in hash order: every user's events out of time order
    cur.execute("DROP TABLE IF EXISTS bh_shuffled")
    cur.execute("CREATE TABLE bh_shuffled AS SELECT * FROM bh_events"
                " ORDER BY hashint8(user_id * 1000003 + extract(epoch FROM ts)::bigint)")
    cur.execute(f"COMMENT ON TABLE bh_events IS 'copies={copies}'")
    cur.execute("VACUUM ANALYZE bh_events")
    cur.execute("VACUUM ANALYZE bh_shuffled")


def assoc(cur, groceries):
    cur.execute("DROP TABLE IF EXISTS bh_baskets")
    cur.execute("""
        CREATE TABLE bh_baskets AS
        WITH bl AS (SELECT invoice_no::bigint AS basket_id, stock_code FROM retail_lines
                     WHERE invoice_no ~ '^[0-9]+$' AND quantity > 0),
        codes AS (SELECT stock_code, row_number() OVER (ORDER BY stock_code COLLATE "C") AS item_id
                    FROM (SELECT DISTINCT stock_code FROM bl) d)
        SELECT basket_id, item_id FROM bl JOIN codes USING (stock_code)""")
    sets = [("Online Retail invoices", "bh_baskets", s, c) for s, c in
            ((0.02, 0.5), (0.01, 0.6), (0.005, 0.5), (0.003, 0.5))]
    if groceries:
        cur.execute("DROP TABLE IF EXISTS bh_groc_raw, bh_groc")
        cur.execute("CREATE TABLE bh_groc_raw (line text)")
        with open(groceries) as f:
            cur.copy_expert("COPY bh_groc_raw FROM STDIN WITH (FORMAT text, DELIMITER E'\\x01')", f)
        cur.execute("""
            CREATE TABLE bh_groc AS
            WITH b AS (SELECT row_number() OVER () AS basket_id, line FROM bh_groc_raw),
            bi AS (SELECT basket_id, unnest(string_to_array(line, ',')) AS name FROM b),
            names AS (SELECT name, row_number() OVER (ORDER BY name COLLATE "C") AS item_id
                        FROM (SELECT DISTINCT name FROM bi) d)
            SELECT basket_id, item_id FROM bi JOIN names USING (name)""")
        sets += [("Groceries", "bh_groc", s, c) for s, c in ((0.001, 0.8), (0.001, 0.1), (0.0005, 0.5))]
    out = []
    for name, table, s, c in sets:
        cur.execute(f"SELECT count(*), count(DISTINCT basket_id) FROM {table}")
        rows, baskets = cur.fetchone()
        sql = (f"SELECT uba_model_info(uba_assoc_rules(basket_id, item_id,"
               f" '{{\"min_support\": {s}, \"min_confidence\": {c}}}')) FROM {table}")
        times = []
        for _ in range(3):
            t, result = timed(cur, sql)
            times.append(t)
        info = result[0][0]
        out.append((name, rows, baskets, s, c, info["frequent_itemsets"], info["rules"], statistics.median(times)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dsn", default="")
    ap.add_argument("--groceries", default="")
    args = ap.parse_args()

    cur = connect(args.dsn)
    load_events(cur, args.copies)
    cur.execute("SELECT count(*), count(DISTINCT user_id) FROM bh_events")
    nrows, nusers = cur.fetchone()
    print(f"load average: {os.getloadavg()[0]:.2f}")

    rows = compare_with_builtins(cur, CASES, args.repeat)

    print(f"\n{nrows:,} events of {nusers:,} users, medians of {args.repeat} runs, times in seconds\n")
    print_comparison(rows, CASES, "function")

    print("\nassociation rules (medians of 3 runs):\n")
    print("| baskets of | rows | baskets | min_support | min_confidence | frequent itemsets | rules | seconds |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r, b, s, c, sets, rules, t in assoc(cur, args.groceries):
        print(f"| {name} | {r:,} | {b:,} | {s} | {c} | {sets:,} | {rules:,} | {t:.3f} |")


if __name__ == "__main__":
    main()
