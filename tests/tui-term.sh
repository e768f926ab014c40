#!/bin/bash
# Terminals: TERM=vt100 (no colour), linux, screen, xterm-256color with and
# without NO_COLOR, a non-UTF-8 locale (ASCII marks), and wide display names
# measured in columns.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
tui_env
add_account "hana@example.jp" "Hana-Pass-1" --name "山田太郎 Yamada Taro Long Name" \
	--smtp-host smtp.example.jp
add_account "ivan@example.com" "Ivan-Pass-1" --name Ivan --smtp-host smtp.example.com

# has_colour: the screen carries SGR colour attributes (30-37, 40-47, 256).
has_colour() {
	tm capture-pane -p -e | grep -qE $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7]|38;5;[0-9]+|48;5;[0-9]+)(;[0-9;]*)?m'
}
no_colour() { ! has_colour; }

# TERM=vt100: no colours, still the list.
tui_start env TERM=vt100 "$FLUENZR"
wait_screen "hana@example.jp"
wait_screen "a add"
keys q
check "vt100: exit 0" [ "$(wait_exit)" = 0 ]
check "vt100: stty restored" cmp -s "$T/stty.before" "$T/stty.after"

# The Linux console and GNU screen: the list and the help overlay render, and
# the terminal is restored.
for term in linux screen; do
	tui_start env TERM=$term "$FLUENZR"
	wait_screen "ivan@example.com"
	keys "?"
	wait_screen "Filter the list"
	keys Escape
	wait_screen "a add"
	keys q
	check "$term: exit 0" [ "$(wait_exit)" = 0 ]
	check "$term: stty restored" cmp -s "$T/stty.before" "$T/stty.after"
done

# NO_COLOR on a colour terminal: the list renders without colour.
tui_start env NO_COLOR=1 TERM=xterm-256color "$FLUENZR"
wait_screen "ivan@example.com"
check "NO_COLOR: no colour attributes on screen" no_colour
keys q
check "NO_COLOR: exit 0" [ "$(wait_exit)" = 0 ]

# Without NO_COLOR the same terminal does get colours: the check above can
# fail.
tui_start env TERM=xterm-256color "$FLUENZR"
wait_screen "ivan@example.com"
check "colour terminal: colour attributes present" has_colour
# Wide characters: the name is cut by columns, and the next column starts
# where it should.
s=$(screen)
line=$(grep -F "hana@example.jp" <<<"$s")
check "wide name drawn" grep -qF "山田太郎" <<<"$line"
check "SMTP column aligned after a wide name" $PY - "$line" "$(grep -F 'ivan@example.com' <<<"$s")" <<'PY'
import sys, unicodedata
def col(s, sub):
    i = s.index(sub)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s[:i])
assert col(sys.argv[1], "smtp.example.jp") == col(sys.argv[2], "smtp.example.com"), sys.argv
PY
keys q
check "xterm: exit 0" [ "$(wait_exit)" = 0 ]

# A C locale: ASCII marks, non-ASCII shown as '?', still no crash.
"$FLUENZR" account list >/dev/null
tui_start env LANG=C LC_ALL=C TERM=vt100 "$FLUENZR"
wait_screen "ivan@example.com"
check "ASCII never-tested mark" grep -qE '^ - never +hana@example\.jp' <<<"$(screen)"
keys q
check "C locale: exit 0" [ "$(wait_exit)" = 0 ]
finish
