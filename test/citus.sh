#!/bin/sh
# uba on a real Citus cluster: builds Citus 13.2.2 from ../shared/citus when that version is not
# installed, installs uba, starts a throw-away cluster on this machine (a coordinator and two
# workers, unix sockets and localhost, trust authentication), runs the suites of test/citus/ with
# pg_regress against the coordinator, and stops it.  Each suite loads the same rows into a
# distributed table and a local one and compares what uba gives on both.  The coordinator also
# runs pg_cron (postgresql-15-cron).
#
#   test/citus.sh            build if needed, run the suites (make check-citus; CITUS_REBUILD=1 builds anyway)
#   test/citus.sh start      start a cluster and leave it running (prints how to reach it)
#   test/citus.sh stop DIR   stop a cluster that start left running
# UBA_CITUS_PORTS="57001 57002 57003" runs the nodes on other ports (the coordinator's first).
set -eu
cd "$(dirname "$0")/.."
PGVER=15
CITUS_VERSION=13.2.2
BIN=/usr/lib/postgresql/$PGVER/bin
PG_CONFIG=$BIN/pg_config
PORTS=${UBA_CITUS_PORTS:-"56001 56002 56003"}	# the coordinator first
mode=${1:-check}

root() { [ "$(id -u)" = 0 ]; }
# as the postgres user when we are root: PostgreSQL refuses to run as root
as_pg() { if root; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi; }

installed_citus() {
	[ -r "$($PG_CONFIG --pkglibdir)/citus.so" ] &&
		grep -q "default_version = '$(echo $CITUS_VERSION | cut -d. -f1,2)" "$($PG_CONFIG --sharedir)/extension/citus.control" 2>/dev/null &&
		strings "$($PG_CONFIG --pkglibdir)/citus.so" | grep -q "Citus $CITUS_VERSION"
}

# 1. Citus, built from the source beside the project (its README says how), unless installed
build_citus() {
	shared=${UBA_SHARED:-../shared}
	# absolute: the build below runs in another directory
	[ -d "$shared" ] && shared=$(cd "$shared" && pwd)
	tarball=$shared/citus/citus-$CITUS_VERSION.tar.gz
	if [ ! -r "$tarball" ]; then
		echo "uba: Citus $CITUS_VERSION is not installed and $tarball is missing" >&2
		exit 1
	fi
	if ! root; then
		echo "uba: Citus $CITUS_VERSION is not installed; building it needs root (apt-get, make install)" >&2
		exit 1
	fi
	deps="postgresql-server-dev-$PGVER libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev libssl-dev libselinux1-dev libxslt1-dev libpam0g-dev libreadline-dev libicu-dev zlib1g-dev autoconf flex bison make gcc binutils"
	missing=""
	for p in $deps; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
	fi
	(cd "$shared/citus" && sha256sum -c --quiet SHA256SUMS)
	src=$(mktemp -d)
	tar -xzf "$tarball" -C "$src"
	(cd "$src/citus-$CITUS_VERSION" && patch -s -p0 < "$(cd "$shared/citus" && pwd)/pg15_20_have_createdb_privilege.patch" &&
		./configure -q PG_CONFIG=$PG_CONFIG >/dev/null && make -s -j2 >/dev/null 2>&1 && make -s install >/dev/null)
	rm -rf "$src"
	echo "uba: built and installed Citus $CITUS_VERSION"
}

# 2. a cluster in a fresh directory: three servers, citus on each, the workers added
start_cluster() {
	dir=$(mktemp -d /tmp/uba-citus.XXXXXX)
	chmod 777 "$dir"
	for port in $PORTS; do
		as_pg "$BIN/initdb -D $dir/$port -U postgres --auth=trust -E UTF8 --locale=C >/dev/null"
		cat >> "$dir/$port/postgresql.conf" <<EOF
port = $port
listen_addresses = 'localhost'
unix_socket_directories = '$dir'
shared_preload_libraries = 'citus'
max_connections = 100
max_worker_processes = 16
fsync = off
timezone = 'UTC'
EOF
		if [ "$port" = "${PORTS%% *}" ]; then
			# the coordinator runs pg_cron too: scheduled retraining from distributed tables
			cat >> "$dir/$port/postgresql.conf" <<EOF
shared_preload_libraries = 'citus,pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
EOF
		fi
		as_pg "$BIN/pg_ctl -D $dir/$port -l $dir/$port.log -w start >/dev/null"
		as_pg "$BIN/psql -X -q -h $dir -p $port -d postgres -c 'CREATE EXTENSION citus'"
	done
	set -- $PORTS
	as_pg "$BIN/psql -X -q -h $dir -p $1 -d postgres -v ON_ERROR_STOP=1 \
		-c \"SELECT citus_set_coordinator_host('localhost', $1)\" \
		-c \"SELECT citus_add_node('localhost', $2)\" -c \"SELECT citus_add_node('localhost', $3)\"" >/dev/null
	echo "$dir"
}

stop_cluster() {
	for port in $PORTS; do
		[ -d "$1/$port" ] && as_pg "$BIN/pg_ctl -D $1/$port -m immediate stop >/dev/null 2>&1" || true
	done
	rm -rf "$1"
}

case "$mode" in
stop)
	stop_cluster "$2"
	exit 0
	;;
esac

{ [ -z "${CITUS_REBUILD:-}" ] && installed_citus; } || build_citus
# pg_cron on the coordinator (the cron suite retrains from a distributed table)
if [ ! -r "$($PG_CONFIG --pkglibdir)/pg_cron.so" ]; then
	if root; then
		apt-get install -y -q postgresql-$PGVER-cron >/dev/null
	else
		echo "uba: pg_cron is not installed; run as root: apt-get install postgresql-$PGVER-cron" >&2
		exit 1
	fi
fi
make -s PG_CONFIG=$PG_CONFIG
if root; then
	make -s PG_CONFIG=$PG_CONFIG install
elif ! cmp -s uba.so "$($PG_CONFIG --pkglibdir)/uba.so"; then
	echo "uba: the built extension is not installed; run as root:  sudo make install PG_CONFIG=$PG_CONFIG" >&2
	exit 1
fi

dir=$(start_cluster)
if [ "$mode" = start ]; then
	echo "uba: a Citus cluster runs in $dir: psql -h $dir -p ${PORTS%% *} -U postgres (test/citus.sh stop $dir)"
	exit 0
fi
trap 'stop_cluster "$dir"' EXIT

# 3. the suites, against the coordinator; uba is created there (Citus creates it on the workers)
out=$(mktemp -d)
chmod 777 "$out"
tests="setup $(cd test/citus/sql && ls *.sql | sed 's/\.sql$//' | grep -v '^setup$' | tr '\n' ' ')"
rc=0
as_pg "$($PG_CONFIG --pkglibdir)/pgxs/src/test/regress/pg_regress --inputdir=test/citus --outputdir=$out \
	--bindir=$BIN --host=$dir --port=${PORTS%% *} --user=postgres --dbname=postgres --use-existing $tests" || rc=$?
if [ $rc -ne 0 ]; then
	cat "$out/regression.diffs" 2>/dev/null || true
	# the servers' errors and crashes, not their chatter
	for port in $PORTS; do grep -E 'ERROR|FATAL|PANIC|terminated by signal' "$dir/$port.log" | tail -20 || true; done
fi
rm -rf "$out"
exit $rc
