#!/bin/sh
# The privacy budget under load and through a crash (issue 23): 8 clients spend from one budget
# at once and together never exceed it; a charge whose transaction never committed (its backend
# killed with SIGKILL, the server through crash recovery) is still there afterwards.  Runs against
# the server of the usual PG* variables as a superuser that may signal backends (test/run.sh
# runs it in its throw-away cluster); prints TAP and exits 1 on a failure.
set -eu
cd "$(dirname "$0")/.."
PSQL="psql -X -q -At -v ON_ERROR_STOP=1"
DB=uba_dp_budget_test
n=0
failed=0
ok() {	# ok CONDITION-RESULT DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; dropdb --if-exists $DB 2>/dev/null || true' EXIT
echo "1..6"
dropdb --if-exists $DB 2>/dev/null
createdb $DB
$PSQL -d $DB <<'SQL' >/dev/null
CREATE EXTENSION uba;
CREATE TABLE orders AS SELECT c AS customer_id FROM generate_series(1, 1000) c;
SELECT uba_dp_grant('load', current_user::regrole, 10);
SELECT uba_dp_grant('crash', current_user::regrole, 1);
-- crash recovery empties unlogged tables: this one shows that it happened
CREATE UNLOGGED TABLE crash_marker AS SELECT 1 AS x;
SQL

# 8 clients, 25 releases of epsilon 0.1 each: 200 tries for a budget of 100
for c in 1 2 3 4 5 6 7 8; do
	(
		i=0
		while [ $i -lt 25 ]; do
			if $PSQL -d $DB -c "SELECT uba_dp_count(customer_id, 0.1, '{\"dataset\": \"load\"}') FROM orders" >/dev/null 2>"$tmp/err.$c.$i"; then
				echo released
			elif grep -q 'is exhausted' "$tmp/err.$c.$i"; then
				echo refused
			else
				cat "$tmp/err.$c.$i" >&2
				echo failed
			fi
			i=$((i + 1))
		done
	) > "$tmp/client.$c" &
done
wait
released=$(cat "$tmp"/client.* | grep -c '^released$' || true)
refused=$(cat "$tmp"/client.* | grep -c '^refused$' || true)
[ "$released" = 100 ] && [ "$refused" = 100 ]; ok $? "8 clients, 200 releases of 0.1 from a budget of 10: $released released, $refused refused (100 each expected)"
spent=$($PSQL -d $DB -c "SELECT round(epsilon_spent::numeric, 9) FROM uba_dp_budget WHERE dataset = 'load'")
[ "$spent" = "10.000000000" ]; ok $? "the budget's spent epsilon is its grant ($spent)"
lines=$($PSQL -d $DB -c "SELECT count(*) || ' ' || round(sum(epsilon)::numeric, 9) FROM uba_dp_ledger WHERE dataset = 'load'")
[ "$lines" = "100 10.000000000" ]; ok $? "the ledger has one line per release ($lines)"

# a release in a transaction that never commits: its backend is killed after the value came back
pid_file="$tmp/pid"
$PSQL -d $DB >"$tmp/crash.out" 2>&1 <<SQL || true
BEGIN;
SELECT uba_dp_count(customer_id, 0.25, '{"dataset": "crash"}') IS NOT NULL AS released FROM orders;
SELECT pg_backend_pid() AS pid \gset
\o $pid_file
SELECT :pid;
\o
\! kill -9 \$(cat $pid_file)
SELECT 1;
SQL
grep -q '^t$' "$tmp/crash.out"; ok $? "the release came back before the crash"
# the postmaster restarts every backend and replays the WAL
i=0
until $PSQL -d $DB -c "SELECT 1" >/dev/null 2>&1 || [ $i -ge 60 ]; do sleep 1; i=$((i + 1)); done
marker=$($PSQL -d $DB -c "SELECT count(*) FROM crash_marker" 2>/dev/null || echo error)
[ "$marker" = 0 ]; ok $? "the server is back after crash recovery (an unlogged table emptied: $marker rows)"
spent=$($PSQL -d $DB -c "SELECT epsilon_spent FROM uba_dp_budget WHERE dataset = 'crash'")
[ "$spent" = "0.25" ]; ok $? "the crashed transaction's charge survived the crash ($spent spent)"
exit $failed
