#!/bin/sh
# Where a query's time goes inside the server: perf samples the backend (and its parallel
# workers) while the query runs, then prints the hottest functions, self time first.
#
#   bench/profile.sh "SELECT uba_kmeans(features, 8, '{\"max_iter\": 1}'::jsonb) FROM kmeans_bench" [dsn]
#
# Needs perf (Debian: linux-perf) and rights to profile the server's processes (root).
set -eu
query=$1
dsn=${2:-"host=/var/run/postgresql port=5440 user=postgres dbname=bench_dev"}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# one session: run the query once to warm up, tell us its pid, wait for perf to attach, run it again
psql -X -q -At "$dsn" > "$out/psql.log" 2>&1 <<SQL &
$query;
\o $out/pid
SELECT pg_backend_pid();
\o
SELECT pg_sleep(1.5);
\timing on
$query;
SQL
psql_pid=$!
while [ ! -s "$out/pid" ]; do sleep 0.1; done
pid=$(cat "$out/pid")
perf record -q -F 999 -g -p "$pid" -o "$out/perf.data" -- sleep 600 >/dev/null 2>&1 &
perf_pid=$!
wait $psql_pid || true
kill -INT $perf_pid 2>/dev/null || true
wait $perf_pid 2>/dev/null || true
grep -i "time:" "$out/psql.log" | tail -1
perf report -i "$out/perf.data" ${CHILDREN:---no-children} --sort symbol --stdio 2>/dev/null | \
	grep -E '^ +[0-9]+\.[0-9]+%' | head -${TOP:-30}
