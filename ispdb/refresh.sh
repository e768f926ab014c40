#!/bin/sh
# Replaces ispdb/data with the ispdb/ files of a clone of
# https://github.com/thunderbird/autoconfig (unmodified), and the file list
# in ispdb/ispdb.am. Run from the top of the source tree.
set -eu
src=${1:?usage: ispdb/refresh.sh CLONE_OF_THUNDERBIRD_AUTOCONFIG}
[ -d "$src/ispdb" ] || { echo "refresh.sh: $src/ispdb is not a directory" >&2; exit 1; }
rm -f ispdb/data/*.xml
cp "$src"/ispdb/*.xml ispdb/data/
cp "$src/LICENSE" ispdb/LICENSE
{
	sed -n '1,/^dist_ispdb_DATA/p' ispdb/ispdb.am
	ls ispdb/data/*.xml | sed 's/^/\t/; s/$/ \\/' | sed '$ s/ \\$//'
	grep '^EXTRA_DIST' ispdb/ispdb.am
} >ispdb/ispdb.am.new
mv ispdb/ispdb.am.new ispdb/ispdb.am
echo "snapshot: commit $(git -C "$src" rev-parse HEAD) — record it in ispdb/README"
