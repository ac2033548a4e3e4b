-- uba_recommend: recommendations from the active version of a catalog model, kept parsed by the
-- backend across queries, and never stale after a new version is saved or activated
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS uba;
SELECT plan(12);

CREATE TEMP TABLE ev AS
SELECT (u * 7919) % 1000003 AS user_id, ((u * 31 + k * k * 17) % 97) * 1000 + 5 AS item_id, 1.0::float8 AS weight
  FROM generate_series(1, 300) u, generate_series(1, 12) k;
-- two different models (different seeds and factors), saved under the default name
CREATE TEMP TABLE m AS
SELECT uba_cf_train(user_id, item_id, weight, '{"factors": 8, "seed": 1}') AS a,
       uba_cf_train(user_id, item_id, weight, '{"factors": 16, "seed": 2}') AS b FROM ev;
SELECT is(uba_model_save('recommender', (SELECT a FROM m)), 1, 'version 1 saved');

-- the recommendations of a model, as (item, score) text
CREATE FUNCTION pg_temp.direct(model bytea, u bigint) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(item_id || ':' || score, ' ' ORDER BY ord)
	  FROM uba_cf_recommend(model, u, 5) WITH ORDINALITY AS r(item_id, score, source, ord)
$$;
CREATE FUNCTION pg_temp.via_catalog(u bigint, name text DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(item_id || ':' || score, ' ' ORDER BY ord)
	  FROM uba_recommend(u, 5, name) WITH ORDINALITY AS r(item_id, score, source, ord)
$$;

SELECT is(pg_temp.via_catalog(7919), pg_temp.direct((SELECT a FROM m), 7919),
	'uba_recommend uses the active version of uba.recommender');
SELECT is(pg_temp.via_catalog(7919), pg_temp.direct((SELECT a FROM m), 7919),
	'the same again (the model kept by the backend)');
SELECT is((SELECT count(*) FROM (SELECT DISTINCT user_id FROM ev) u, LATERAL uba_recommend(u.user_id, 10) r),
	3000::bigint, 'ten items for every user in one query (LATERAL)');

-- a new version is used by the next query
SELECT is(uba_model_save('recommender', (SELECT b FROM m)), 2, 'version 2 saved');
SELECT is(pg_temp.via_catalog(7919), pg_temp.direct((SELECT b FROM m), 7919),
	'the next call uses the new version');
SELECT isnt(pg_temp.direct((SELECT a FROM m), 7919), pg_temp.direct((SELECT b FROM m), 7919),
	'the two versions recommend differently, so a stale model would show');
-- activating the old version again switches back
SELECT uba_model_activate('recommender', 1);
SELECT is(pg_temp.via_catalog(7919), pg_temp.direct((SELECT a FROM m), 7919),
	'activating version 1 again is seen by the next call');

-- the setting names the model; an explicit name wins
SELECT uba_model_save('other', (SELECT b FROM m));
SET LOCAL uba.recommender = 'other';
SELECT is(pg_temp.via_catalog(7919), pg_temp.direct((SELECT b FROM m), 7919), 'uba.recommender picks the model');
SELECT is(pg_temp.via_catalog(7919, 'recommender'), pg_temp.direct((SELECT a FROM m), 7919), 'an explicit model name wins');

-- errors: no such model, a model of another kind
SELECT throws_ok($$SELECT * FROM uba_recommend(1, 5, 'nothing here')$$, '42704', 'model "nothing here" does not exist',
	'an unknown model name raises an error');
SELECT uba_model_save('segments', (SELECT uba_kmeans(ARRAY[i, i]::float8[], 1) FROM generate_series(1, 3) i));
SELECT throws_ok($$SELECT * FROM uba_recommend(1, 5, 'segments')$$, '42809', 'model is a kmeans model, not a cf model',
	'a model of another kind raises an error');

SELECT * FROM finish();
ROLLBACK;
