#!/bin/bash
# --password-fd N and --password-stdin on a terminal read like the prompt:
# the password typed is not echoed, and the terminal's settings are
# restored afterwards, also when the read is interrupted by Ctrl-C.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
tui_env
PW='Typed-Not-Echoed-9'

# typed ARGS...: account add with ARGS in a pane, the password typed.
typed() {
	local email=$1
	shift
	tui_start "$FLUENZR" account add --email "$email" --smtp-host smtp.example.org "$@"
	wait_screen "Password for $email:"
	type_text "$PW"
	keys Enter
	wait_exit >/dev/null
}

typed fd@example.org --password-fd 0
check "--password-fd 0 on a terminal: the account was added" grep -q "added fd@example.org" <<<"$(screen)"
check "--password-fd 0 on a terminal: the password was not echoed" lacks "$PW" "$(screen)"
check "--password-fd 0 on a terminal: the terminal settings are restored" \
	cmp -s "$T/stty.before" "$T/stty.after"

typed stdin@example.org --password-stdin
check "--password-stdin on a terminal: the account was added" grep -q "added stdin@example.org" <<<"$(screen)"
check "--password-stdin on a terminal: the password was not echoed" lacks "$PW" "$(screen)"
check "--password-stdin on a terminal: the terminal settings are restored" \
	cmp -s "$T/stty.before" "$T/stty.after"

# Ctrl-C half-way: echo comes back. (What was typed is not searched: keys
# still in flight when the signal lands reach the shell after the exit.)
tui_start "$FLUENZR" account add --email c@example.org --smtp-host smtp.example.org --password-fd 0
wait_screen "Password for c@example.org:"
type_text "half a pass"
kill -INT "$(cat "$T/pid")"
check "Ctrl-C at --password-fd 0 ends with 130" [ "$(wait_exit)" = 130 ]
check "...the terminal settings are restored (echo on)" cmp -s "$T/stty.before" "$T/stty.after"
finish
