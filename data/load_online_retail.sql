-- Load the bundled UCI Online Retail sample into two tables:
--
--   retail_lines     one row per invoice line (541,909 rows)
--   retail_products  one row per stock code with its most frequent description (4,070 rows)
--
-- Run from the project root (the file paths are relative to it), in any database:
--
--   psql -X -v ON_ERROR_STOP=1 -f data/load_online_retail.sql
--
-- Safe to run again: it drops and recreates both tables.  Needs gzip on the
-- client machine (\copy ... FROM PROGRAM runs it in psql, not in the server).
-- Data: Chen, Sain & Guo (2012), UCI Machine Learning Repository, CC BY 4.0;
-- see data/README.md.

BEGIN;
SET LOCAL client_min_messages = warning;	-- no NOTICE when the tables do not exist yet

DROP TABLE IF EXISTS retail_lines;
DROP TABLE IF EXISTS retail_products;

CREATE TABLE retail_lines (
	invoice_no   text NOT NULL,		-- 'C...' = cancellation (negative quantity)
	stock_code   text NOT NULL,
	quantity     int NOT NULL,
	invoice_date timestamp NOT NULL,
	unit_price   numeric NOT NULL,		-- pounds sterling
	customer_id  bigint,				-- NULL when the customer is unknown
	country      text NOT NULL
);
COMMENT ON TABLE retail_lines IS
	'UCI Online Retail line items (Chen, Sain & Guo 2012, CC BY 4.0), without descriptions';

CREATE TABLE retail_products (
	stock_code  text PRIMARY KEY,
	description text				-- NULL when the data never describes it
);
COMMENT ON TABLE retail_products IS
	'UCI Online Retail stock codes with their most frequent description (CC BY 4.0)';

\copy retail_lines (invoice_no, stock_code, quantity, invoice_date, unit_price, customer_id, country) FROM PROGRAM 'gzip -dc data/online_retail.csv.gz' WITH (FORMAT csv, HEADER)
\copy retail_products (stock_code, description) FROM 'data/online_retail_products.csv' WITH (FORMAT csv, HEADER)

COMMIT;

ANALYZE retail_lines;
ANALYZE retail_products;
