#!/bin/sh
# Every SQLSTATE that uba raises (errcode(ERRCODE_...) in src/, ERRCODE = '...' in sql/install)
# has a row in the "By SQLSTATE" table of doc/errors.md.  Prints TAP.
cd "$(dirname "$0")/.."
errcodes=$(pg_config --includedir-server 2>/dev/null)/utils/errcodes.h
[ -r "$errcodes" ] || errcodes=/usr/include/postgresql/15/server/utils/errcodes.h
table=$(sed -n '/^## By SQLSTATE/,/^## /p' doc/errors.md)
echo "1..1"
missing=""
for name in $(grep -rhoE 'errcode\(ERRCODE_[A-Z0-9_]+\)' src --include=*.c | sed 's/errcode(//; s/)//' | sort -u); do
	code=$(sed -n "s/^#define $name MAKE_SQLSTATE('\(.\)','\(.\)','\(.\)','\(.\)','\(.\)')/\1\2\3\4\5/p" "$errcodes")
	[ -n "$code" ] || { missing="$missing $name(unknown)"; continue; }
	echo "$table" | grep -q "^| $code |" || missing="$missing $code($name)"
done
for cond in $(grep -rhoE "ERRCODE = '[a-z_]+'" sql/install | sed "s/ERRCODE = '//; s/'//" | sort -u); do
	echo "$table" | grep -q "| \`$cond\` |" || missing="$missing $cond"
done
if [ -z "$missing" ]; then
	echo "ok 1 - every SQLSTATE uba raises is in doc/errors.md"
else
	echo "not ok 1 - SQLSTATEs raised in src/ or sql/install but missing from doc/errors.md:$missing"
	exit 1
fi
