#!/bin/sh
# uba_boost_export, round trip: models trained in SQL (binary, regression, multi-class, a forest,
# and typed rows with categorical splits) are exported, loaded by Python XGBoost (Debian's
# python3-xgboost, so Debian's /usr/bin/python3) and predict what uba predicts, to 1e-6.  Runs in
# the current database; prints TAP.
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 777 "$tmp"

psql -X -q -v ON_ERROR_STOP=1 -v dir="$tmp" > "$tmp/psql.out" 2>&1 <<'SQL' || { echo "1..1"; echo "not ok 1 - the models could not be trained and exported"; sed 's/^/# /' "$tmp/psql.out"; exit 1; }
\pset tuples_only on
\pset format unaligned
CREATE TEMP TABLE ex_rows AS
SELECT g AS id, ARRAY[(g * 37 % 72)::float8, 20 + (g * 53 % 100), (g * 11 % 6), sin(g * 1.7)] AS f,
       ((g * 37 % 72) < 12 AND (g * 11 % 6) >= 2) OR (g * 53 % 100) > 90 AS label,
       (g * 37 % 72) * 0.5 + (g * 11 % 6) * 3 + sin(g * 1.7) AS target,
       (ARRAY['new', 'loyal', 'unhappy'])[1 + (g * 37 % 72) / 24] AS segment,
       (ARRAY['web', 'app', 'tablet', 'kiosk', 'phone'])[1 + g * 7 % 5] AS device
  FROM generate_series(1, 2000) g;
CREATE TEMP TABLE ex_models AS
SELECT 'binary' AS name, uba_boost_train(label, f, '{"n_estimators": 20, "max_depth": 4}'::jsonb) AS m FROM ex_rows
UNION ALL SELECT 'regression', uba_boost_train(target, f, '{"n_estimators": 20}'::jsonb) FROM ex_rows
UNION ALL SELECT 'multiclass', uba_boost_train(segment, f, '{"n_estimators": 10}'::jsonb) FROM ex_rows
UNION ALL SELECT 'forest', uba_forest_train(label, f, '{"n_estimators": 20}'::jsonb) FROM ex_rows
UNION ALL SELECT 'typed', uba_boost_train(label, t, '{"n_estimators": 20, "max_cat_to_onehot": 1}'::jsonb)
  FROM ex_rows, LATERAL (SELECT f[1] AS tenure, f[2] AS charges, device) t;
-- per model: its JSON, the rows as XGBoost reads them (typed: the device as its level's number
-- in byte order), and uba's predictions (probabilities of every class for multi-class)
\o :dir/models.txt
SELECT name || E'\t' || uba_boost_export(m)::text FROM ex_models ORDER BY name;
\o :dir/rows.txt
SELECT name || E'\t' || array_to_json(array_agg(CASE WHEN name = 'typed'
                                      THEN ARRAY[f[1], f[2], array_position(ARRAY['app', 'kiosk', 'phone', 'tablet', 'web'], ex_rows.device) - 1]
                                      ELSE f END ORDER BY id))::text
         || E'\t' || array_to_json(array_agg(CASE WHEN name = 'multiclass' THEN uba_predict_proba(m, f)
                                   WHEN name = 'typed' THEN ARRAY[uba_predict(m, t)]
                                   ELSE ARRAY[uba_predict(m, f)] END ORDER BY id))::text
  FROM ex_models, ex_rows, LATERAL (SELECT f[1] AS tenure, f[2] AS charges, device) t
 GROUP BY name ORDER BY name;
\o
SQL

/usr/bin/python3 - "$tmp" <<'PY'
import json, sys
try:
    import numpy as np
    import xgboost
except ImportError as e:
    print("1..1")
    print(f"not ok 1 - Python XGBoost is missing ({e}); apt-get install python3-xgboost")
    sys.exit(1)
d = sys.argv[1]
models = dict(l.rstrip("\n").split("\t", 1) for l in open(f"{d}/models.txt") if l.strip())
rows = {}
for l in open(f"{d}/rows.txt"):
    if l.strip():
        name, x, p = l.rstrip("\n").split("\t")
        rows[name] = (np.array(json.loads(x), dtype=np.float32), np.array(json.loads(p)))
print(f"1..{len(models)}")
rc = 0
for i, name in enumerate(sorted(models), 1):
    b = xgboost.Booster()
    b.load_model(bytearray(models[name], "utf8"))
    x, want = rows[name]
    types = ["q", "q", "c"] if name == "typed" else None
    names = json.loads(models[name])["learner"]["feature_names"] or None
    got = b.predict(xgboost.DMatrix(x, feature_names=names, feature_types=types, enable_categorical=name == "typed"))
    diff = float(np.max(np.abs(got.reshape(want.shape) - want)))
    ok = diff <= 1e-6
    rc |= not ok
    print(f"{'ok' if ok else 'not ok'} {i} - {name}: Python XGBoost {xgboost.__version__} loads uba_boost_export "
          f"and predicts what uba predicts on {len(x)} rows (largest difference {diff:.1e})")
sys.exit(rc)
PY
