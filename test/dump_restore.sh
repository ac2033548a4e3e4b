#!/bin/sh
# pg_dump / pg_restore keep every saved model and version, and an upgraded extension is the
# same as a fresh one.  Runs against the server of the usual PG* variables (test/run.sh runs it
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
trap 'rm -rf "$tmp"; for d in uba_dump_src uba_dump_dst uba_up_old uba_up_new; do dropdb --if-exists $d; done' EXIT
echo "1..6"

# a catalog with two names, several versions (one of them not the newest active), provenance,
# a reader and a dropped version
for d in uba_dump_src uba_dump_dst uba_up_old uba_up_new; do dropdb --if-exists $d 2>/dev/null; done
createdb uba_dump_src
$PSQL -d uba_dump_src <<'EOF' >/dev/null
CREATE EXTENSION uba;
CREATE TABLE points AS SELECT g, ARRAY[(g % 7)::float8, (g % 5)::float8] AS f FROM generate_series(1, 200) g;
SELECT uba_model_train('segments', 'SELECT uba_kmeans(f, 3, ''{"seed": 1}'') FROM points');
SELECT uba_model_train('segments', 'SELECT uba_kmeans(f, 4, ''{"seed": 1}'') FROM points');
SELECT uba_model_train('segments', 'SELECT uba_kmeans(f, 5, ''{"seed": 1}'') FROM points');
SELECT uba_model_drop('segments', 2);
SELECT uba_model_activate('segments', 1);
SELECT uba_model_save('recommender', uba_cf_train(g % 40, (g * 7) % 60, 1.0, '{"factors": 8}'), '{"recall_at_20": 0.1}') FROM points;
SELECT uba_model_grant_read('recommender', 'public');
EOF
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
r=$($PSQL -d uba_dump_dst -At -c "SELECT uba_kmeans_assign(uba_model('segments'), ARRAY[3, 2]) IS NOT NULL, (SELECT count(*) FROM uba_recommend(5, 3)), uba_model_retrain('segments')")
[ "$r" = "t|3|4" ]; ok $? "the restored database scores, recommends and retrains (the version counter goes on at 4): $r"
r=$($PSQL -d uba_dump_dst -At -c "SELECT relrowsecurity FROM pg_class WHERE relname IN ('uba_model_names', 'uba_model_store') ORDER BY relname")
[ "$r" = "t
t" ]; ok $? "row security is still on for the catalog tables after the restore"

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
  SELECT 'policy ' || policyname || ' on ' || tablename || ' ' || cmd || ' ' || coalesce(qual, '') || ' ' || coalesce(with_check, '')
    FROM pg_policies WHERE tablename LIKE 'uba%'
  ORDER BY 1"
$PSQL -d uba_up_old -At -c "$objects" > "$tmp/old.txt"
$PSQL -d uba_up_new -At -c "$objects" > "$tmp/new.txt"
diff "$tmp/old.txt" "$tmp/new.txt" > "$tmp/schema.diff" && d=0 || d=1
ok $d "an upgraded extension equals a fresh install: all $(wc -l < "$tmp/new.txt") objects, their definitions, columns, policies and privileges"
[ $d = 0 ] || head -40 "$tmp/schema.diff" | sed 's/^/# /'
r=$($PSQL -d uba_up_old -At -c "SELECT extversion FROM pg_extension WHERE extname = 'uba'")
[ "$r" = "$(sed -n "s/^default_version = '\(.*\)'/\1/p" uba.control)" ]; ok $? "the upgrade reaches the default version ($r)"

exit $failed
