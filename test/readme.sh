#!/bin/sh
# Every SQL block of README.md, in order, as written, in one psql session from the project root:
# the README must run on the bundled data (it loads data/load_online_retail.sql itself).  Runs in
# the database pg_cron is in (its scheduling example needs it).  Prints TAP.
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db=$(psql -X -At -c "SELECT coalesce(current_setting('cron.database_name', true), current_database())")
awk '/^```sql$/ { p = 1; n++; next } /^```$/ { p = 0 } p' README.md > "$tmp/readme.sql"
blocks=$(grep -c '^```sql$' README.md)
echo "1..1"
if psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$tmp/readme.sql" > "$tmp/out" 2>&1; then
	echo "ok 1 - all $blocks SQL blocks of README.md run in order on the bundled data"
	rc=0
else
	echo "not ok 1 - a SQL block of README.md fails:"
	tail -15 "$tmp/out" | sed 's/^/# /'
	rc=1
fi
# leave the cluster as it was for what runs after
psql -X -q -d "$db" -c "SELECT cron.unschedule('nightly-recs')" -c "DROP ROLE IF EXISTS dashboards" >/dev/null 2>&1 || true
exit $rc
