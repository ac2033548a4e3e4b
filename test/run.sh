#!/bin/sh
# Install what is missing, build, install, and run the tests or the demo on a
# throw-away PostgreSQL 15 cluster (pg_virtualenv).  Usage: test/run.sh deps|test|demo|gallery|sanitized|valgrind|fuzz [seconds]
set -eu
cd "$(dirname "$0")/.."
mode=${1:-test}
PGVER=15
PACKAGES="postgresql-$PGVER postgresql-server-dev-$PGVER postgresql-$PGVER-pgtap libtap-parser-sourcehandler-pgtap-perl libopenblas-dev libxgboost-dev python3-xgboost postgresql-$PGVER-cron postgresql-common make gcc"

root() { [ "$(id -u)" = 0 ]; }

# 1. Debian packages (the reader fuzzer also needs clang and libFuzzer; the Valgrind run, valgrind;
# the gallery, matplotlib and psycopg2 for the system Python)
case "$mode" in
fuzz) PACKAGES="$PACKAGES clang libfuzzer-14-dev xxd" ;;
valgrind) PACKAGES="$PACKAGES valgrind" ;;
gallery) PACKAGES="$PACKAGES python3-matplotlib python3-psycopg2" ;;
esac
missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if root; then
		echo "uba: installing$missing"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
	else
		echo "uba: these Debian packages are missing:$missing" >&2
		echo "uba: run as root:  sudo apt-get install -y$missing" >&2
		exit 1
	fi
fi
[ "$mode" = deps ] && exit 0

# the reader fuzzer runs outside the server
[ "$mode" = fuzz ] && exec make -s -C test/fuzz run SECONDS="${2:-60}" PG_CONFIG=/usr/lib/postgresql/$PGVER/bin/pg_config

PG_CONFIG=/usr/lib/postgresql/$PGVER/bin/pg_config
export PG_CONFIG

# 2. build and install (the sanitized mode builds with UBSan and assertions)
if [ "$mode" = sanitized ]; then
	make -s PG_CONFIG=$PG_CONFIG sanitized
else
	make -s PG_CONFIG=$PG_CONFIG
fi
if root; then
	make -s PG_CONFIG=$PG_CONFIG install
elif ! cmp -s uba.so "$($PG_CONFIG --pkglibdir)/uba.so"; then
	echo "uba: the built extension is not installed; run as root:  sudo make install PG_CONFIG=$PG_CONFIG" >&2
	exit 1
fi

# 3. run on a throw-away cluster (as the postgres user when we are root).  Data that may not be
# redistributed with uba is used when the shared data folder beside the project has it.
groceries=../shared/data/groceries/groceries.csv
[ -r "$groceries" ] && UBA_GROCERIES=$(cd "$(dirname "$groceries")" && pwd)/groceries.csv && export UBA_GROCERIES

# pg_cron runs in the cluster (scheduled retraining is tested and shown for real); its jobs run
# in background workers, so they need no password
CRON="-o shared_preload_libraries=pg_cron -o cron.database_name=postgres -o cron.use_background_workers=on -o max_worker_processes=16"
case "$mode" in
test)
	exec pg_virtualenv -v $PGVER $CRON sh -c "make -s PG_CONFIG=$PG_CONFIG installcheck || { cat regression.diffs; exit 1; }; make -s tap && sh test/dump_restore.sh && sh test/doc_lint.sh && sh test/doc_errors.sh && sh test/readme.sh && sh test/boost_export.sh && sh test/privacy_budget.sh"
	;;
sanitized)
	# UBSan reports go to files that must not exist afterwards (a report also stops the backend)
	asan_dir=$(mktemp -d)
	chmod 777 "$asan_dir"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$asan_dir/ubsan"
	rc=0
	pg_virtualenv -v $PGVER $CRON sh -c "make -s PG_CONFIG=$PG_CONFIG installcheck || { cat regression.diffs; exit 1; }; make -s tap" || rc=$?
	if ls "$asan_dir"/* >/dev/null 2>&1; then
		echo "uba: undefined behaviour reports:" >&2
		cat "$asan_dir"/* >&2
		rc=1
	fi
	rm -rf "$asan_dir"
	# put the normal build back
	make -s PG_CONFIG=$PG_CONFIG clean
	make -s PG_CONFIG=$PG_CONFIG
	if root; then make -s PG_CONFIG=$PG_CONFIG install; fi
	exit $rc
	;;
valgrind)
	# its own throw-away cluster: the server must start under valgrind (pg_ctl -p)
	exec sh test/valgrind.sh
	;;
demo)
	exec pg_virtualenv -v $PGVER $CRON sh -c "psql -X -v ON_ERROR_STOP=1 -q -f data/demo.sql"
	;;
gallery)
	# the demo's output is not shown (its errors are); the charts go to doc/gallery, and the
	# script checks that doc/gallery.md shows the SQL it ran
	exec pg_virtualenv -v $PGVER $CRON sh -c "psql -X -v ON_ERROR_STOP=1 -q -f data/demo.sql >/dev/null && /usr/bin/python3 bench/gallery.py --out doc/gallery"
	;;
*)
	echo "usage: test/run.sh deps|test|demo|gallery|sanitized|valgrind|fuzz [seconds]" >&2
	exit 2
	;;
esac
