-- uba_assoc_rules against an independent level-wise count (test/data/derive_assoc_reference.py)
-- on real baskets: every rule of the 20,725 Online Retail invoices at three settings, with equal
-- counts, support, confidence and lift; and, when the Groceries baskets (arules, GPL, not part
-- of this project) are at hand through UBA_GROCERIES, the itemset and rule counts and the md5
-- of the rule list at four settings.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(14);

CREATE TEMP TABLE lines (invoice_no text, stock_code text, quantity int, invoice_date timestamp,
	unit_price numeric, customer_id bigint, country text);
\copy lines FROM PROGRAM 'gzip -dc data/online_retail.csv.gz' WITH (FORMAT csv, HEADER)
-- invoices as baskets; the reference numbers items by the rank of the stock code in byte order
CREATE TEMP TABLE bl AS SELECT invoice_no::bigint AS basket_id, stock_code FROM lines WHERE invoice_no ~ '^[0-9]+$' AND quantity > 0;
CREATE TEMP TABLE codes AS
SELECT stock_code, row_number() OVER (ORDER BY stock_code COLLATE "C") AS item_id FROM (SELECT DISTINCT stock_code FROM bl) d;
CREATE TEMP TABLE baskets AS SELECT basket_id, item_id FROM bl JOIN codes USING (stock_code);
CREATE TEMP TABLE ref (setting text, antecedent bigint[], consequent bigint[], count bigint,
	support float8, confidence float8, lift float8);
\copy ref FROM 'test/data/assoc_reference.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE settings (setting text, options jsonb);
INSERT INTO settings VALUES
	('S1', '{"min_support": 0.02, "min_confidence": 0.5, "max_length": 10, "max_consequent": 1}'),
	('S2', '{"min_support": 0.01, "min_confidence": 0.6, "max_length": 10, "max_consequent": 1}'),
	('S3', '{"min_support": 0.015, "min_confidence": 0.3, "max_length": 3, "max_consequent": 2}');
CREATE TEMP TABLE models AS
SELECT setting, (SELECT uba_assoc_rules(basket_id, item_id, s.options) FROM baskets) AS m FROM settings s;
CREATE TEMP TABLE ours AS SELECT setting, r.* FROM models, uba_assoc_rules_list(m, NULL::bigint) r;

SELECT is((SELECT count(DISTINCT basket_id) FROM baskets), 20725::bigint, 'all invoices loaded');
SELECT is((SELECT array_agg(n ORDER BY setting) FROM (SELECT setting, count(*) AS n FROM ref GROUP BY setting) c),
	ARRAY[49, 470, 440]::bigint[], 'all reference rules loaded');
SELECT is((SELECT array_agg((uba_model_info(m)->>'frequent_itemsets')::int ORDER BY setting) FROM models),
	ARRAY[353, 1840, 691], 'frequent itemset counts equal the reference (S1, S2, S3)');
SELECT is((SELECT count(*) FROM ours o WHERE o.setting = s), (SELECT count(*) FROM ref r WHERE r.setting = s),
	format('%s: as many rules as the reference', s))
  FROM unnest(ARRAY['S1', 'S2', 'S3']) s;
SELECT is((SELECT count(*) FROM ours o JOIN ref r USING (setting, antecedent, consequent)
            WHERE o.setting = s AND o.count = r.count AND o.support = r.support
              AND o.confidence = r.confidence AND o.lift = r.lift),
	(SELECT count(*) FROM ref r WHERE r.setting = s),
	format('%s: every rule equal, with the same count, support, confidence and lift', s))
  FROM unnest(ARRAY['S1', 'S2', 'S3']) s;

-- the stock codes as they are (text): the same rules, named by their codes
SELECT is((SELECT count(*) FROM uba_assoc_rules_list((SELECT uba_assoc_rules(basket_id, stock_code, '{"min_support": 0.01, "min_confidence": 0.6}'::jsonb) FROM bl)) o
             JOIN ref r ON r.setting = 'S2' AND o.count = r.count
              AND r.antecedent = ARRAY(SELECT c.item_id FROM unnest(o.antecedent) a JOIN codes c ON c.stock_code = a ORDER BY 1)
              AND r.consequent = ARRAY(SELECT c.item_id FROM unnest(o.consequent) a JOIN codes c ON c.stock_code = a ORDER BY 1)),
	470::bigint, 'S2 on text stock codes: every reference rule, by code');

-- the rows in another order, and a parallel plan, give the same model
SELECT is((SELECT array_agg(format('%s>%s:%s', antecedent, consequent, count))
             FROM uba_assoc_rules_list((SELECT uba_assoc_rules(basket_id, item_id, '{"min_support": 0.01, "min_confidence": 0.6}' ORDER BY item_id DESC, basket_id DESC) FROM baskets), NULL::bigint)),
	(SELECT array_agg(format('%s>%s:%s', antecedent, consequent, count)) FROM ours WHERE setting = 'S2'),
	'S2: the same rules in the same order when the rows come in another order');
\i test/lib/parallel_plans.sql
SELECT is((SELECT count(*) FROM uba_assoc_rules_list((SELECT uba_assoc_rules(basket_id, item_id, '{"min_support": 0.01, "min_confidence": 0.6}') FROM baskets), NULL::bigint) o
             JOIN ref r USING (antecedent, consequent) WHERE r.setting = 'S2' AND o.count = r.count),
	470::bigint, 'S2 rules equal the reference under a forced parallel plan');

-- Groceries, when available
CREATE TEMP TABLE groc_raw (line text);
CREATE TEMP TABLE groc_ref (setting text, min_support float8, min_confidence float8, max_length int,
	max_consequent int, baskets bigint, itemsets bigint, rules bigint, rules_md5 text);
\copy groc_ref FROM 'test/data/assoc_groceries_reference.csv' WITH (FORMAT csv, HEADER)
\getenv groceries UBA_GROCERIES
\if :{?groceries}
\copy groc_raw FROM PROGRAM 'cat "$UBA_GROCERIES"' WITH (FORMAT text, DELIMITER E'\x01')
CREATE TEMP TABLE groc AS
WITH b AS (SELECT row_number() OVER () AS basket_id, line FROM groc_raw),
bi AS (SELECT basket_id, unnest(string_to_array(line, ',')) AS name FROM b),
names AS (SELECT name, row_number() OVER (ORDER BY name COLLATE "C") AS item_id FROM (SELECT DISTINCT name FROM bi) d)
SELECT basket_id, item_id FROM bi JOIN names USING (name);
CREATE TEMP TABLE groc_ours AS
SELECT g.setting, uba_model_info(m) AS info,
       (SELECT md5(string_agg(array_to_string(antecedent, ',') || '|' || array_to_string(consequent, ',') || '|' || count,
                              E'\n' ORDER BY (array_to_string(antecedent, ',') || '|' || array_to_string(consequent, ',') || '|' || count) COLLATE "C"))
          FROM uba_assoc_rules_list(m)) AS rules_md5
  FROM groc_ref g,
       LATERAL (SELECT uba_assoc_rules(basket_id, item_id, jsonb_build_object('min_support', g.min_support,
                  'min_confidence', g.min_confidence, 'max_length', g.max_length, 'max_consequent', g.max_consequent)) AS m
                  FROM groc) x;
SELECT is((SELECT count(*) FROM groc_ref g JOIN groc_ours o USING (setting)
            WHERE (o.info->>'baskets')::bigint = g.baskets AND (o.info->>'frequent_itemsets')::bigint = g.itemsets
              AND (o.info->>'rules')::bigint = g.rules),
	4::bigint, 'Groceries: baskets, frequent itemsets and rules counted as the reference at four settings (410 rules at 0.001 / 0.8)');
SELECT is((SELECT count(*) FROM groc_ref g JOIN groc_ours o USING (setting) WHERE o.rules_md5 = g.rules_md5),
	4::bigint, 'Groceries: the rule lists equal the reference (md5) at four settings');
\else
SELECT skip('the Groceries baskets are not here (test/run.sh sets UBA_GROCERIES when ../shared/data has them)', 2);
\endif

SELECT * FROM finish();
ROLLBACK;
