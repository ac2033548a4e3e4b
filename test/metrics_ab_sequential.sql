-- Sequential A/B intervals (src/metrics/abtest.c, option "sequential") by simulation: 1,000
-- seeded A/A experiments (two arms of the same lognormal metric, 20 units per arm per day),
-- each peeked at every day for 14 days.  An always-valid interval must cover the true lift (0)
-- at every peek in at least 95% of the experiments; fixed-horizon intervals peeked at daily must
-- not (the simulation can tell the two apart), and cover 95% when read once at the end.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(4);

SELECT setseed(0.2024);
CREATE TEMP TABLE aa AS
SELECT r, d, CASE WHEN u % 2 = 0 THEN 'control' ELSE 'b' END AS variant,
       exp(sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) AS value
  FROM generate_series(1, 1000) r, generate_series(1, 14) d, generate_series(1, 40) u;
-- every experiment's readout on every day, over the units seen so far
CREATE FUNCTION pg_temp.peeks(options jsonb) RETURNS TABLE (r int, day int, lo float8, hi float8) LANGUAGE sql AS $$
	SELECT r, p, (x).lift_lower, (x).lift_upper
	  FROM (SELECT r, p, unnest(uba_ab_test(variant, value, options)) AS x
	          FROM aa JOIN generate_series(1, 14) p ON aa.d <= p GROUP BY r, p) s
	 WHERE NOT (x).is_control
$$;
CREATE TEMP TABLE coverage AS
SELECT o.name, 1 - avg(missed::int) AS covered
  FROM (VALUES ('sequential', '{"sequential": true}'::jsonb),
               ('sequential tuned to 500 units', '{"sequential": true, "sequential_tuning": 500}'::jsonb),
               ('fixed horizon', '{}'::jsonb)) o(name, options),
       LATERAL (SELECT r, bool_or(NOT (lo <= 0 AND hi >= 0)) AS missed FROM pg_temp.peeks(o.options) GROUP BY r) x
 GROUP BY o.name;

SELECT ok((SELECT covered >= 0.95 FROM coverage WHERE name = 'sequential'),
	'sequential intervals cover the true lift at every daily peek in >= 95% of 1,000 A/A runs: ' ||
	(SELECT covered FROM coverage WHERE name = 'sequential'));
SELECT ok((SELECT covered >= 0.95 FROM coverage WHERE name = 'sequential tuned to 500 units'),
	'... and tuned to be narrowest at 500 units: ' || (SELECT covered FROM coverage WHERE name = 'sequential tuned to 500 units'));
SELECT ok((SELECT covered < 0.9 FROM coverage WHERE name = 'fixed horizon'),
	'fixed-horizon intervals peeked at daily miss far more often than 5%: covered in ' ||
	(SELECT covered FROM coverage WHERE name = 'fixed horizon'));
SELECT ok((SELECT abs(avg((lo <= 0 AND hi >= 0)::int) - 0.95) < 0.025 FROM pg_temp.peeks('{}') WHERE day = 14),
	'fixed-horizon intervals read once, at the end, cover about 95%');

SELECT * FROM finish();
ROLLBACK;
