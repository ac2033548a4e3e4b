-- uba_rfm_holdout (lifetimes' calibration_and_holdout_data) against an independent Python
-- computation (bench/holdout_reference.py, test/data/retail_holdout.csv) on every Online Retail
-- line with a customer, calibration to 2011-06-30, observation to 2011-12-09, in days; then BG/NBD
-- fitted on the calibration summaries against the holdout purchases per frequency group (Fader,
-- Hardie and Lee 2005, Figure 4), with the reference's figure from its own scipy fit.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(9);

CREATE TEMP TABLE lines (invoice_no text, stock_code text, quantity int, invoice_date timestamp,
	unit_price numeric, customer_id bigint, country text);
\copy lines FROM PROGRAM 'gzip -dc data/online_retail.csv.gz' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE ref (customer_id bigint, frequency_cal float8, recency_cal float8, t_cal float8,
	monetary_value_cal float8, frequency_holdout float8, monetary_value_holdout float8, duration_holdout float8);
\copy ref FROM 'test/data/retail_holdout.csv' WITH (FORMAT csv, HEADER)

CREATE TEMP TABLE h AS
SELECT customer_id, (uba_rfm_holdout(invoice_date, quantity * unit_price,
                     '{"calibration_end": "2011-06-30", "end": "2011-12-09"}'::jsonb)).*
  FROM lines WHERE customer_id IS NOT NULL GROUP BY customer_id;

SELECT is((SELECT count(*) FROM ref), 3002::bigint, 'the reference has 3,002 customers');
SELECT is((SELECT count(*) FROM h WHERE frequency_cal IS NOT NULL), 3002::bigint,
	'uba has the same customers: those who bought by the calibration end (the rest are NULL)');
SELECT is((SELECT count(*) FROM h JOIN ref r USING (customer_id)
            WHERE h.frequency_cal = r.frequency_cal AND h.recency_cal = r.recency_cal AND h.t_cal = r.t_cal
              AND h.frequency_holdout = r.frequency_holdout AND h.duration_holdout = r.duration_holdout),
	3002::bigint, 'frequency, recency and T of the calibration, the holdout purchases and duration: all equal');
SELECT is((SELECT count(*) FROM h JOIN ref r USING (customer_id)
            WHERE abs(h.monetary_value_cal - r.monetary_value_cal) <= 1e-9 * greatest(1, abs(r.monetary_value_cal))
              AND abs(h.monetary_value_holdout - r.monetary_value_holdout) <= 1e-9 * greatest(1, abs(r.monetary_value_holdout))),
	3002::bigint, 'the mean spend of repeat days in calibration and of holdout days: within 1e-9');
-- the holdout split adds up: the whole period's summary is calibration plus holdout
SELECT is((SELECT count(*) FROM h JOIN (
             SELECT customer_id, (uba_rfm(invoice_date, quantity * unit_price, '{"end": "2011-12-09"}'::jsonb)).frequency AS f
               FROM lines WHERE customer_id IS NOT NULL GROUP BY customer_id) w USING (customer_id)
            WHERE w.f <> h.frequency_cal + h.frequency_holdout), 0::bigint,
	'repeat days over the whole period = calibration repeat days + holdout days');

-- the reference's BG/NBD on the calibration summaries, and its figure
CREATE TEMP TABLE bg AS SELECT uba_bgnbd_train(frequency_cal, recency_cal, t_cal) AS m FROM h WHERE frequency_cal IS NOT NULL;
SELECT ok((SELECT bool_and(abs((uba_model_info(m)->'parameters'->>p.k)::float8 / p.v - 1) < 1e-6) FROM bg,
             (VALUES ('r', 0.7743909646), ('alpha', 49.74715105), ('a', 0.02585023676), ('b', 0.4147452448)) p(k, v)),
	'BG/NBD on the calibration: the reference''s parameters within 1e-6');
CREATE TEMP TABLE figure AS
SELECT CASE WHEN frequency_cal >= 7 THEN 7 ELSE frequency_cal::int END AS grp, count(*) AS customers,
       avg(frequency_holdout) AS actual,
       avg(uba_expected_purchases(bg.m, duration_holdout, frequency_cal, recency_cal, t_cal)) AS expected
  FROM h, bg WHERE frequency_cal IS NOT NULL GROUP BY 1;
CREATE TEMP TABLE figure_ref (grp int, customers bigint, actual float8, expected float8);
INSERT INTO figure_ref VALUES (0, 1238, 1.026656, 0.960411), (1, 657, 1.669711, 1.563529), (2, 357, 2.126050, 2.295186),
	(3, 219, 2.968037, 2.945293), (4, 125, 3.584000, 3.613080), (5, 116, 4.112069, 4.208384),
	(6, 71, 5.380282, 4.708847), (7, 219, 10.589041, 8.634019);
SELECT is((SELECT count(*) FROM figure f JOIN figure_ref r USING (grp)
            WHERE f.customers = r.customers AND abs(f.actual - r.actual) < 1e-6 AND abs(f.expected - r.expected) < 1e-5),
	8::bigint, 'the holdout figure per frequency group: customers, actual and expected purchases as the reference''s');
-- and the model tracks the holdout: over all customers within 10 %, per group within 25 % up to 6 repeat days
SELECT ok((SELECT abs(sum(expected * customers) / sum(actual * customers) - 1) < 0.1 FROM figure),
	'expected holdout purchases over all customers within 10 % of the actual');
SELECT ok((SELECT bool_and(abs(expected / actual - 1) < 0.25) FROM figure WHERE grp <= 6),
	'expected within 25 % of the actual in every group up to 6 repeat days');

SELECT * FROM finish();
ROLLBACK;
