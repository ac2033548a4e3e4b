#!/bin/sh
# The Debian package: build it (test/deb.sh build: dist/postgresql-15-uba_<version>_<arch>.deb),
# or build it, install it, create the extension on a throw-away cluster, run a smoke query, and
# put the source build back (test/deb.sh test).  Root installs what is missing.
set -eu
cd "$(dirname "$0")/.."
mode=${1:-test}
PGVER=15
PACKAGES="debhelper postgresql-server-dev-all dpkg-dev fakeroot libopenblas-dev libxgboost-dev postgresql-$PGVER postgresql-server-dev-$PGVER"
missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || { echo "uba: run as root, or install:$missing" >&2; exit 1; }
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# build from the tracked files only, in a copy (dpkg-buildpackage writes beside the tree)
version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" uba.control)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/uba-$version"
git ls-files -z | xargs -0 tar -cf - | tar -xf - -C "$work/uba-$version"
# only the versions whose server headers are here (debian/pgversions allows 13 and later)
(cd "$work/uba-$version" && pg_buildext updatecontrol >/dev/null &&
	dpkg-buildpackage -b -us -uc -j"$(nproc)" > "$work/build.log" 2>&1) || { tail -40 "$work/build.log"; exit 1; }
mkdir -p dist
cp "$work"/*.deb dist/
deb=$(ls -t dist/postgresql-$PGVER-uba_"$version"_*.deb | head -1)
echo "uba: built $deb"
[ "$mode" = build ] && exit 0

# install it over the source build, use it, then put the source build back
echo "1..4"
dpkg -i "$deb" >/dev/null 2>&1 && echo "ok 1 - dpkg installs $(basename "$deb")" || { echo "not ok 1 - dpkg -i"; exit 1; }
dpkg -L postgresql-$PGVER-uba | grep -q "/uba.so$" && dpkg -L postgresql-$PGVER-uba | grep -q "uba--$version.sql$"
echo "ok 2 - the package holds the library and the install script of $version"
cat > "$work/smoke.sql" <<'SQL'
CREATE EXTENSION uba;
SELECT extversion FROM pg_extension WHERE extname = 'uba';
SELECT uba_kmeans_assign(uba_kmeans(ARRAY[g % 5, g % 3]::float8[], 2, '{"seed": 1}'::jsonb), ARRAY[4, 2]) IS NOT NULL
  FROM generate_series(1, 100) g;
SQL
chmod a+r "$work/smoke.sql"
pg_virtualenv -v $PGVER sh -c "psql -X -q -At -v ON_ERROR_STOP=1 -f '$work/smoke.sql' > '$work/smoke.out'" >/dev/null
r=$(tr '\n' ' ' < "$work/smoke.out")
[ "$r" = "$version t " ] && echo "ok 3 - on a fresh cluster, CREATE EXTENSION uba and a k-means model work: $r" || { echo "not ok 3 - $r"; exit 1; }
dpkg -r postgresql-$PGVER-uba >/dev/null 2>&1
make -s PG_CONFIG=/usr/lib/postgresql/$PGVER/bin/pg_config install >/dev/null
echo "ok 4 - the package is removed and the source build put back"
