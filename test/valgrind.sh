#!/bin/sh
# The regression and pgTAP suites against a throw-away cluster whose server runs under Valgrind
# memcheck (every backend and parallel worker, as they are forked from the postmaster).  Fails
# when a report involves uba's code: an error in it, or memory it allocated or left uninitialised
# that the server then reads or writes out.  Reports wholly inside the server or the C library are
# counted and kept in the log directory, not failed on: the packaged server is not built for
# Valgrind (no USE_VALGRIND), so some of its own tricks are reported.  test/valgrind.supp silences
# the known ones.
#
# Usage: test/valgrind.sh (the installed uba.so is the one tested; make install first).
# VALGRIND_REGRESS="setup kmeans" and VALGRIND_TAP="test/hardening_limits.sql" (or none) run a part.
# Runs as root (the server as the postgres user) or as a user that may run initdb.
set -eu
cd "$(dirname "$0")/.."
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGBIN=$($PG_CONFIG --bindir)
command -v valgrind >/dev/null || { echo "uba: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

root() { [ "$(id -u)" = 0 ]; }
as_server() { if root; then su postgres -c "$1"; else sh -c "$1"; fi; }

dir=$(mktemp -d /tmp/uba-valgrind.XXXXXX)
mkdir "$dir/log"
port=${VALGRIND_PORT:-55499}
# pg_ctl starts this instead of postgres (pg_ctl -p)
cat > "$dir/postgres" <<EOF
#!/bin/sh
exec valgrind --quiet --track-origins=yes --num-callers=40 --error-limit=no --leak-check=no \\
	--suppressions=$(pwd)/test/valgrind.supp --log-file=$dir/log/%p.log $PGBIN/postgres "\$@"
EOF
chmod 755 "$dir" "$dir/postgres"
root && chown -R postgres "$dir"

as_server "$PGBIN/initdb -D $dir/data -A trust -U postgres --no-sync >/dev/null"
# jit off: loading llvmjit is slow under Valgrind and only exercises the dynamic loader
cat >> "$dir/data/postgresql.conf" <<EOF
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
jit = off
fsync = off
autovacuum = off
EOF
as_server "$PGBIN/pg_ctl -D $dir/data -p $dir/postgres -l $dir/server.log -w -t 600 start >/dev/null"
stop() { as_server "$PGBIN/pg_ctl -D $dir/data -m fast -w -t 600 stop >/dev/null" || true; }
trap stop EXIT

export PGHOST="$dir" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
rc=0
start=$(date +%s)
if [ -n "${VALGRIND_REGRESS:-}" ]; then
	make -s PG_CONFIG=$PG_CONFIG installcheck REGRESS="$VALGRIND_REGRESS" || { cat regression.diffs; rc=1; }
else
	make -s PG_CONFIG=$PG_CONFIG installcheck || { cat regression.diffs; rc=1; }
fi
# hardening_limits.sql is left out: it asserts cancel latencies, which Valgrind stretches 20 to 50 times
tap=${VALGRIND_TAP:-$(ls test/*.sql | grep -v '^test/hardening_limits\.sql$')}
[ "$tap" = none ] || pg_prove --ext .sql $tap || rc=1
stop
trap - EXIT

# One block per report; it is ours when any of its stacks (where, allocated, origin) passes
# through uba's sources or uba.so.
ours=$(ls src/*.c src/*/*.c | sed 's|.*/||; s|\.|\\.|' | tr '\n' '|' | sed 's/|$//')
cat "$dir"/log/*.log | awk -v ours="(uba\\.so|[( ](${ours}):[0-9])" '
	{ line = $0; sub(/^==[0-9]+== ?/, "", line) }
	line == "" { if (block != "") flush(); next }
	{ block = block line "\n" }
	function flush() {
		if (block ~ /^(Warning|HEAP SUMMARY|For lists|For counts|ERROR SUMMARY)/) { block = ""; return }
		if (block ~ ours) { n_ours++; printf "%s\n", block > "/dev/stderr" } else n_other++
		block = ""
	}
	END {
		if (block != "") flush()
		printf "uba: valgrind: %d report(s) involving uba, %d in the server or libraries only\n", n_ours, n_other > "/dev/stderr"
		exit (n_ours > 0 ? 1 : 0)
	}' || rc=1
echo "uba: valgrind run took $(( $(date +%s) - start )) s" >&2
[ $rc = 0 ] || echo "uba: server logs and valgrind reports kept in $dir" >&2
[ $rc = 0 ] && rm -rf "$dir"
exit $rc
