-- The UCI Online Shoppers Purchasing Intention sessions (shoppers_scores.csv, CC BY 4.0; see
-- README.md here) as the regular table shoppers, so parallel plans can scan it.  Tests \i this
-- file from the project root.
CREATE TABLE shoppers (
	session int PRIMARY KEY, month text, visitor_type text, weekend boolean,
	product_related int, product_related_duration float8, page_values float8,
	exit_rates float8, revenue boolean
);
\copy shoppers FROM 'test/data/shoppers_scores.csv' WITH (FORMAT csv, HEADER)
ANALYZE shoppers;
