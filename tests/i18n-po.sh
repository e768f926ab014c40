#!/bin/bash
# The catalogs are complete and current: msgfmt --check passes (format
# strings, plural forms, header) with no fuzzy and no untranslated message,
# and every message the sources mark today -- a fresh .pot made the way
# `make update-po` makes it -- is translated in each catalog.
. "$top_srcdir/tests/lib.sh"
need msgfmt msgmerge xgettext
T=$(mktemp_dir)

langs=$(sed 's/#.*//' "$top_srcdir/po/LINGUAS")
check "LINGUAS lists fr and hi" [ "$(echo $langs)" = "fr hi" ]

# XGETTEXT_OPTIONS of po/Makevars, continuation lines joined.
opts=$(sed -n '/^XGETTEXT_OPTIONS/,/[^\\]$/p' "$top_srcdir/po/Makevars" |
	sed 's/^XGETTEXT_OPTIONS *= *//; s/\\$//' | tr '\n\t' '  ')
[ -n "$opts" ] || fail "no XGETTEXT_OPTIONS in po/Makevars"
# shellcheck disable=SC2086
(cd "$top_srcdir" && xgettext --default-domain=fluenzr-tui --output="$T/fresh.pot" \
	$opts --files-from=po/POTFILES.in) || fail "xgettext"
n=$(grep -c '^msgid ' "$T/fresh.pot")
check "the sources mark messages ($((n - 1)))" [ "$n" -gt 500 ]
# Every source file that marks a message is in POTFILES.in.
missing=$(cd "$top_srcdir" && grep -lE '\b(N?_|ngettext)\(' src/*.c src/*/*.c src/*/*.h 2>/dev/null |
	grep -vxFf <(sed 's/#.*//' po/POTFILES.in) | grep -v '^src/base/i18n.h$' || true)
check "POTFILES.in lists every file with marked messages${missing:+ (not: $missing)}" [ -z "$missing" ]

for l in $langs; do
	po=$top_srcdir/po/$l.po
	msgfmt --check --statistics -o "$T/$l.mo" "$po" >"$T/$l.stat" 2>&1
	rc=$?
	check "$l.po: msgfmt --check passes ($(cat "$T/$l.stat"))" [ $rc = 0 ]
	check "$l.po: no fuzzy, no untranslated" \
		grep -qE '^[0-9]+ translated messages?\.$' "$T/$l.stat"
	# merged with today's messages: still all translated
	msgmerge --quiet --no-fuzzy-matching -o "$T/$l.merged.po" "$po" "$T/fresh.pot" ||
		fail "msgmerge $l"
	msgfmt --statistics -o /dev/null "$T/$l.merged.po" >"$T/$l.mstat" 2>&1
	check "$l.po translates every message of the sources ($(cat "$T/$l.mstat"))" \
		grep -qE "^$((n - 1)) translated messages?\.$" "$T/$l.mstat"
	check "$l.po: the header names its language" grep -qxF "\"Language: $l\\n\"" "$po"
	check "$l.po: the header has plural forms" grep -qF 'Plural-Forms: nplurals=2;' "$po"
done
finish
