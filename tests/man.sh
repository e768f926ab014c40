#!/bin/bash
# The manual stays true to the code: it lints clean, its KEYS section is the
# one the key table generates, and every option the program accepts is in it.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
MAN="$top_srcdir/man/fluenzr-tui.1"
need mandoc

check "mandoc -Tlint is clean" sh -c '! mandoc -Tlint -W warning "$1" 2>&1 | grep -v "mandoc.db"' _ "$MAN"
gen=$("$FLUENZR" keys --man)
doc=$(sed -n '/^\.\\" KEYS-BEGIN$/,/^\.\\" KEYS-END$/p' "$MAN" | sed '1d;$d')
check "KEYS section matches the key table (regenerate with: fluenzr-tui keys --man)" test "$gen" = "$doc"

# Every long option named in the sources' option parsers is documented.
opts=$(grep -ohE '"--[a-z][a-z-]+' "$top_srcdir"/src/cli/*.c "$top_srcdir"/src/main.c | tr -d '"' | sort -u)
# Not options of their own: --man (the hidden keys --man), --opt (a comment),
# --password (named only to refuse it).
missing=
for o in $opts; do
	case $o in --man | --opt | --password) continue ;; esac
	grep -qE "Fl -${o#--}([^a-z-]|$)" "$MAN" || missing="$missing $o"
done
check "every option is in the manual:${missing:- yes}" test -z "$missing"
# And --help names only options that exist.
for o in $("$FLUENZR" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
	check "--help option $o exists in the sources" grep -q -- "\"$o" "$top_srcdir"/src/cli/*.c "$top_srcdir"/src/main.c
done
# Every exit status the diagnosis uses is listed.
for code in 0 64 65 66 67 68 69 70 75 76 77; do
	check "exit status $code is documented" grep -q "^\.It $code\$" "$MAN"
done
finish
