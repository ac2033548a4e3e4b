#!/bin/sh
# pg_dump / pg_restore keep every saved model and version, an upgraded extension is the same
# as a fresh one, and uba works installed in a schema of its own.  Runs against the server of the usual PG* variables (test/run.sh runs it
# in its throw-away cluster); prints TAP and exits 1 on a failure.
set -eu
cd "$(dirname "$0")/.."
PSQL="psql -X -q -v ON_ERROR_STOP=1"
n=0
failed=0
ok() {	# ok CONDITION-RESULT DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; for d in uba_dump_src uba_dump_dst uba_up_old uba_up_new uba_own_schema; do dropdb --if-exists $d; done' EXIT
echo "1..9"

# a catalog with two names, several versions (one of them not the newest active), provenance,
# a reader and a dropped version
for d in uba_dump_src uba_dump_dst uba_up_old uba_up_new uba_own_schema; do dropdb --if-exists $d 2>/dev/null; done
createdb uba_dump_src
$PSQL -d uba_dump_src <<'EOF' >/dev/null
CREATE EXTENSION uba;
CREATE TABLE points AS SELECT g, ARRAY[(g % 7)::float8, (g % 5)::float8] AS f FROM generate_series(1, 200) g;
SELECT uba_model_train('segments', 'SELECT uba_kmeans(f, 3, ''{"seed": 1}''::jsonb) FROM points');
SELECT uba_model_train('segments', 'SELECT uba_kmeans(f, 4, ''{"seed": 1}''::jsonb) FROM points');
SELECT uba_model_train('segments', 'SELECT uba_kmeans(f, 5, ''{"seed": 1}''::jsonb) FROM points');
SELECT uba_model_drop('segments', 2);
SELECT uba_model_activate('segments', 1);
SELECT uba_model_save('recommender', uba_cf_train(g % 40, (g * 7) % 60, 1.0, '{"factors": 8}'::jsonb), '{"recall_at_20": 0.1}'::jsonb) FROM points;
SELECT uba_model_grant_read('recommender', 'public');
SELECT uba_dp_grant('shop', current_user::regrole, 2.0, 1e-5);
EOF
# a charge commits in a transaction of its own: it needs the extension committed first
$PSQL -d uba_dump_src -c "SELECT uba_dp_count(g, 0.5, '{\"dataset\": \"shop\"}'::jsonb) FROM points" >/dev/null
q="SELECT s.name, s.version, s.active, s.kind, md5(s.model), s.metrics, s.training_rows, s.training_query,
          s.training_started, s.created_at, s.created_by, n.owner, n.readers, n.last_version, n.training_query
     FROM uba_model_store s JOIN uba_model_names n USING (name) ORDER BY 1, 2"
$PSQL -d uba_dump_src -At -c "$q" > "$tmp/src.txt"

pg_dump -Fc -f "$tmp/db.dump" uba_dump_src
createdb uba_dump_dst
pg_restore -d uba_dump_dst "$tmp/db.dump"
$PSQL -d uba_dump_dst -At -c "$q" > "$tmp/dst.txt"
cmp -s "$tmp/src.txt" "$tmp/dst.txt"; ok $? "pg_dump / pg_restore keep every model version, its bytes, metrics, provenance, owner and readers ($(wc -l < "$tmp/src.txt") versions)"
[ "$(wc -l < "$tmp/src.txt")" = 3 ]; ok $? "the source catalog has the three versions expected"
r=$($PSQL -d uba_dump_dst -At -c "SELECT uba_kmeans_assign(uba_model('segments'), ARRAY[3, 2]) IS NOT NULL, (SELECT count(*) FROM uba_recommend(5::bigint, 3)), uba_model_retrain('segments')")
[ "$r" = "t|3|4" ]; ok $? "the restored database scores, recommends and retrains (the version counter goes on at 4): $r"
r=$($PSQL -d uba_dump_dst -At -c "SELECT relrowsecurity FROM pg_class WHERE relname IN ('uba_model_names', 'uba_model_store') ORDER BY relname")
[ "$r" = "t
t" ]; ok $? "row security is still on for the catalog tables after the restore"
acl="SELECT c.relname, c.relacl, (SELECT string_agg(a.attname || '=' || a.attacl::text, ' ' ORDER BY a.attnum)
       FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL)
  FROM pg_class c WHERE c.relname IN ('uba_model_names', 'uba_model_store', 'uba_models') ORDER BY 1"
[ "$($PSQL -d uba_dump_src -At -c "$acl")" = "$($PSQL -d uba_dump_dst -At -c "$acl")" ] && \
	$PSQL -d uba_dump_dst -At -c "SELECT NOT has_table_privilege('public', 'uba_model_names', 'INSERT, UPDATE, DELETE, TRUNCATE')
	                                 AND NOT has_table_privilege('public', 'uba_model_store', 'INSERT, UPDATE, DELETE, TRUNCATE')
	                                 AND NOT has_column_privilege('public', 'uba_model_names', 'training_query', 'SELECT')" | grep -qx t
ok $? "the catalog's table and column privileges survive the restore (PUBLIC may not write, nor read training queries)"

budget="SELECT dataset, role, epsilon, delta, epsilon_spent, delta_spent FROM uba_dp_budget ORDER BY 1, 2;
        SELECT dataset, role, epsilon, delta, charged_at, query FROM uba_dp_ledger ORDER BY charged_at"
[ "$($PSQL -d uba_dump_src -At -c "$budget")" = "$($PSQL -d uba_dump_dst -At -c "$budget")" ] && \
	$PSQL -d uba_dump_dst -At -c "SELECT epsilon_spent FROM uba_dp_budget" | grep -qx 0.5
ok $? "the privacy budget and its ledger survive the restore (0.5 of 2 spent)"

# upgrade: 0.1.0 updated through every script has the same schema as a fresh install
createdb uba_up_old
createdb uba_up_new
$PSQL -d uba_up_old -c "CREATE EXTENSION uba VERSION '0.1.0'" -c "ALTER EXTENSION uba UPDATE"
$PSQL -d uba_up_new -c "CREATE EXTENSION uba"
# every object of the extension with its definition and privileges (pg_dump leaves them out)
objects="WITH members AS (
    SELECT classid, objid, objsubid FROM pg_depend
     WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
       AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'uba'))
  SELECT pg_describe_object(classid, objid, objsubid) || ' ' || coalesce(CASE classid
           WHEN 'pg_proc'::regclass THEN (SELECT CASE WHEN p.prokind = 'a' THEN '' ELSE pg_get_functiondef(p.oid) END
                                                 || coalesce(p.proacl::text, '') FROM pg_proc p WHERE p.oid = objid)
           WHEN 'pg_class'::regclass THEN (SELECT c.relkind::text || coalesce(c.relacl::text, '') || c.relrowsecurity::text
                                                 || coalesce(pg_get_viewdef(c.oid), '')
                                                 || (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                                                                       || a.attnotnull || coalesce(pg_get_expr(d.adbin, d.adrelid), ''), ', ' ORDER BY a.attnum)
                                                       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                                                      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
                                             FROM pg_class c WHERE c.oid = objid)
           ELSE '' END, '')
    FROM members
  UNION ALL
  SELECT 'column privileges ' || a.attrelid::regclass || '.' || a.attname || ' ' || a.attacl::text
    FROM pg_attribute a JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = a.attrelid
   WHERE a.attacl IS NOT NULL
  UNION ALL
  SELECT 'constraint ' || c.conname || ' on ' || c.conrelid::regclass || ' ' || pg_get_constraintdef(c.oid)
    FROM pg_constraint c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.conrelid
  UNION ALL
  SELECT 'policy ' || policyname || ' on ' || tablename || ' ' || cmd || ' ' || coalesce(qual, '') || ' ' || coalesce(with_check, '')
    FROM pg_policies WHERE tablename LIKE 'uba%'
  ORDER BY 1"
$PSQL -d uba_up_old -At -c "$objects" > "$tmp/old.txt"
$PSQL -d uba_up_new -At -c "$objects" > "$tmp/new.txt"
diff "$tmp/old.txt" "$tmp/new.txt" > "$tmp/schema.diff" && d=0 || d=1
ok $d "an upgraded extension equals a fresh install: all $(wc -l < "$tmp/new.txt") lines of objects, their definitions, columns, constraints, policies and privileges"
[ $d = 0 ] || head -40 "$tmp/schema.diff" | sed 's/^/# /'
r=$($PSQL -d uba_up_old -At -c "SELECT extversion FROM pg_extension WHERE extname = 'uba'")
[ "$r" = "$(sed -n "s/^default_version = '\(.*\)'/\1/p" uba.control)" ]; ok $? "the upgrade reaches the default version ($r)"

# installed in a schema of its own, off the search_path: every call qualified, nothing depends on
# uba's schema being searched (its SQL functions qualify their references; the C ones find the
# catalog beside themselves)
createdb uba_own_schema
r=$($PSQL -d uba_own_schema -At <<'EOF' | paste -sd '|' -
CREATE SCHEMA uba;
CREATE EXTENSION uba SCHEMA uba;
SET search_path = public;
CREATE TABLE points AS SELECT g, ARRAY[(g % 7)::float8, (g % 5)::float8] AS f FROM generate_series(1, 200) g;
SELECT uba.uba_model_train('segments', 'SELECT uba.uba_kmeans(f, 3, ''{"seed": 1}''::jsonb) FROM points');
SELECT uba.uba_model_retrain('segments');
SELECT uba.uba_model_save('recs', (SELECT uba.uba_cf_train(g % 40, (g * 7) % 60, 1.0, '{"factors": 4}'::jsonb) FROM points));
SELECT count(*) FROM uba.uba_recommend(5::bigint, 3, 'recs');
SELECT count(*) FROM uba.uba_models;
SELECT uba.uba_model_drop('segments', 1);
EOF
)
[ "$r" = "1|2|1|3|3|1" ]; ok $? "installed in a schema of its own, uba trains, retrains, saves, recommends, lists and drops: $r"

exit $failed
