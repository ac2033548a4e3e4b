#!/bin/sh
# Every documented example passes JSON options typed ('{"seed": 1}'::jsonb): an untyped literal
# resolves to text first, so an overload that another role creates in a schema on the caller's
# search_path would be called instead of uba's (issue 14, finding 3).  Prints TAP.
cd "$(dirname "$0")/.."
files="README.md doc/*.md data/*.sql"
echo "1..1"
# a JSON object literal ('{"..."}', or ''{"..."}'' inside a quoted query) not followed by a cast
untyped=$(grep -nP "(?<!')('|'')\{\"[^']*\}\1(?!'|::)" $files)
if [ -z "$untyped" ]; then
	echo "ok 1 - every JSON object literal in the documentation and the demo is cast (::jsonb)"
else
	echo "not ok 1 - JSON object literals without a cast in the documentation or the demo:"
	echo "$untyped" | sed 's/^/# /'
	exit 1
fi
