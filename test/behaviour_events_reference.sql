-- uba_session, uba_funnel and uba_retention against an independent Python computation
-- (test/data/derive_behaviour_reference.py) on every Online Retail line with a customer:
-- 406,829 events of 4,372 customers.  Every value must be equal.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(12);

CREATE TEMP TABLE lines (invoice_no text, stock_code text, quantity int, invoice_date timestamp,
	unit_price numeric, customer_id bigint, country text);
\copy lines FROM PROGRAM 'gzip -dc data/online_retail.csv.gz' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE ev AS SELECT * FROM lines WHERE customer_id IS NOT NULL;
CREATE TEMP TABLE sessions_ref (customer_id bigint, gap interval, sessions int, session_sum bigint);
\copy sessions_ref FROM 'test/data/sessions_reference.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE funnel_ref (customer_id bigint, config text, depth int);
\copy funnel_ref FROM 'test/data/funnel_reference.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE retention_ref (config text, group_key text, counts int[]);
\copy retention_ref FROM 'test/data/retention_reference.csv' WITH (FORMAT csv, HEADER)

SELECT is((SELECT count(*) FROM ev), 406829::bigint, 'all customer lines loaded');
SELECT is((SELECT count(*) FROM sessions_ref), 13116::bigint, 'all session references loaded');

-- sessions: the count and the sum of every line's session number, per customer and gap
SELECT is((
	WITH gaps AS (SELECT DISTINCT gap FROM sessions_ref),
	numbered AS (
		SELECT customer_id, gaps.gap, uba_session(invoice_date, gaps.gap) OVER (PARTITION BY customer_id, gaps.gap ORDER BY invoice_date) AS s
		  FROM ev, gaps),
	ours AS (SELECT customer_id, gap, max(s) AS sessions, sum(s) AS session_sum FROM numbered GROUP BY customer_id, gap)
	SELECT count(*) FROM sessions_ref r JOIN ours o USING (customer_id, gap)
	 WHERE r.sessions = o.sessions AND r.session_sum = o.session_sum),
	13116::bigint, 'session count and session-number sum equal the reference for every customer and gap (30 minutes, 1 day, 30 days)');

-- funnels: five configurations
CREATE TEMP TABLE funnel_ours AS
SELECT customer_id, 'F1' AS config, uba_funnel(invoice_date, '1 day', ARRAY[stock_code = '85123A', stock_code = '22423', quantity < 0, stock_code = '85099B']) AS depth FROM ev GROUP BY customer_id
UNION ALL
SELECT customer_id, 'F2', uba_funnel(invoice_date, '30 days', ARRAY[stock_code = '85123A', stock_code = '22423', quantity < 0, stock_code = '85099B']) FROM ev GROUP BY customer_id
UNION ALL
SELECT customer_id, 'F3', uba_funnel(invoice_date, '365 days', ARRAY[stock_code = '85123A', stock_code = '22423', quantity < 0, stock_code = '85099B']) FROM ev GROUP BY customer_id
UNION ALL
SELECT customer_id, 'F4', uba_funnel(invoice_date, '30 minutes', ARRAY[quantity > 0, quantity >= 12, unit_price > 10, quantity < 0]) FROM ev GROUP BY customer_id
UNION ALL
SELECT customer_id, 'F5', uba_funnel(invoice_date, '7 days', ARRAY[quantity > 0, quantity >= 12, unit_price > 10, quantity < 0]) FROM ev GROUP BY customer_id;
SELECT is((SELECT count(*) FROM funnel_ref), 21860::bigint, 'all funnel references loaded');
SELECT is((SELECT count(*) FROM funnel_ref r JOIN funnel_ours o USING (customer_id, config) WHERE r.depth = o.depth),
	21860::bigint, 'funnel depth equals the reference for every customer in all five configurations');
SELECT is((SELECT array_agg(n ORDER BY depth) FROM (SELECT depth, count(*) AS n FROM funnel_ours WHERE config = 'F5' GROUP BY depth) h),
	ARRAY[33, 226, 1782, 1836, 495]::bigint[], 'F5 depth histogram (every depth 0 to 4 occurs)');
-- rows in another order (newest first) give the same depths
SELECT is((SELECT count(*) FROM (
	SELECT customer_id, uba_funnel(invoice_date, '30 days', ARRAY[stock_code = '85123A', stock_code = '22423', quantity < 0, stock_code = '85099B'] ORDER BY invoice_date DESC) AS depth
	  FROM ev GROUP BY customer_id) o JOIN funnel_ref r USING (customer_id) WHERE r.config = 'F2' AND r.depth = o.depth),
	4372::bigint, 'F2 depths are the same when the rows arrive newest first');

-- retention R1: monthly cohorts of first purchase, retained in months 0..11 after it
CREATE TEMP TABLE r1 AS
WITH buys AS (SELECT customer_id, date_trunc('month', invoice_date) AS month FROM ev WHERE quantity > 0),
cohorts AS (SELECT customer_id, min(month) AS cohort FROM buys GROUP BY customer_id),
per_customer AS (
	SELECT c.cohort, uba_retention(ARRAY(SELECT b.month = c.cohort + i * interval '1 month' FROM generate_series(0, 11) i)) AS r
	  FROM buys b JOIN cohorts c USING (customer_id) GROUP BY c.cohort, b.customer_id)
SELECT group_key, array_agg(n ORDER BY i) AS counts
  FROM (SELECT to_char(cohort, 'YYYY-MM') AS group_key, i, sum(v::int)::int AS n
          FROM per_customer, unnest(r) WITH ORDINALITY u(v, i) GROUP BY 1, 2) s
 GROUP BY group_key;
SELECT is((SELECT count(*) FROM retention_ref r JOIN r1 o USING (group_key) WHERE r.config = 'R1' AND r.counts = o.counts),
	(SELECT count(*) FROM retention_ref WHERE config = 'R1'), 'R1 monthly cohort table equals the reference (13 cohorts x 12 months)');
SELECT is((SELECT count(*) FROM r1), 13::bigint, 'R1 has 13 cohorts');

-- retention R2: active before 2011 (condition 1), then in each month of 2011, per country
-- (a customer's country is that of their first line)
CREATE TEMP TABLE r2 AS
WITH country AS (SELECT DISTINCT ON (customer_id) customer_id, country FROM ev ORDER BY customer_id, ctid),
per_customer AS (
	SELECT customer_id, uba_retention(ARRAY[invoice_date < '2011-01-01'] ||
	                                  ARRAY(SELECT date_trunc('month', invoice_date) = make_date(2011, i, 1) FROM generate_series(1, 12) i)) AS r
	  FROM ev GROUP BY customer_id)
SELECT group_key, array_agg(n ORDER BY i) AS counts
  FROM (SELECT c.country AS group_key, i, sum(v::int)::int AS n
          FROM per_customer p JOIN country c USING (customer_id), unnest(r) WITH ORDINALITY u(v, i) GROUP BY 1, 2) s
 GROUP BY group_key;
SELECT is((SELECT count(*) FROM retention_ref r JOIN r2 o USING (group_key) WHERE r.config = 'R2' AND r.counts = o.counts),
	(SELECT count(*) FROM retention_ref WHERE config = 'R2'), 'R2 per-country retention equals the reference (37 countries x 13 conditions)');
SELECT is((SELECT sum(counts[1]) FROM r2), 948::bigint, 'R2: 948 customers were active before 2011');

-- the same results from a parallel plan
\i test/lib/parallel_plans.sql
SELECT is((SELECT count(*) FROM (
	SELECT customer_id, uba_funnel(invoice_date, '7 days', ARRAY[quantity > 0, quantity >= 12, unit_price > 10, quantity < 0]) AS depth
	  FROM ev GROUP BY customer_id) o JOIN funnel_ref r USING (customer_id) WHERE r.config = 'F5' AND r.depth = o.depth),
	4372::bigint, 'F5 depths equal the reference under a forced parallel plan');

SELECT * FROM finish();
ROLLBACK;
