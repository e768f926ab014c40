#!/bin/bash
# The console shows no password that a server quotes back, even one holding
# a C1 control (U+0085, which sanitising turns into '?'): the test,
# transcript and troubleshooting screens are kept and searched, as in
# security-tui.sh. (The cuts are checked by security-output.sh: the screens
# wrap a long reply before its cut.)
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need "$PY"
tui_env
PW='Right-Pw-Zm9vYmFy=='
BADC1="C1-Canary$(printf '\302\205')Pw-Zoë+/YmFy=="

# session NAME BAD-PASSWORD: an echoing server, an account with the wrong
# password, the console: test it, open its transcript and its
# troubleshooting; every screen into $T/NAME.screens.
session() {
	local name=$1 bad=$2 u=$1@example.org
	mkdir -p "$T/$name"
	SECSRV_ECHO=1 "$PY" "$top_srcdir/tests/security-server.py" \
		"$T/$name/port" "$T/$name/log" "$u" "$PW" "PLAIN" 2>"$T/$name/server.err" &
	at_exit "kill $!"
	wait_for -t 10 test -s "$T/$name/port" || fail "the test server did not start"
	read -r SP IP <"$T/$name/port"
	add_account "$u" "$bad" --smtp-host 127.0.0.1 --smtp-port "$SP" --smtp-security none \
		--allow-plain --imap-host 127.0.0.1 --imap-port "$IP" --imap-security none 2>/dev/null
	: >"$T/$name.screens"
	tui_start -x 200 -y 50 "$FLUENZR"
	wait_screen "$u"
	keys t
	wait_screen "Authentication failed" 30
	screen >>"$T/$name.screens"
	keys l
	wait_screen "credentials redacted"
	screen >>"$T/$name.screens"
	keys f
	wait_screen "What to check:"
	screen >>"$T/$name.screens"
	keys Escape
	wait_gone "What to check:"
	keys Escape
	wait_gone "credentials redacted"
	keys q
	check "$name: the console exits 0" [ "$(wait_exit)" = 0 ]
}

session c1 "$BADC1"
check "c1: the screens show the redacted echo" grep -qF "<redacted>" "$T/c1.screens"
for form in "$BADC1" "C1-Canary?Pw-Zoë+/YmFy==" "C1-Canary" "Pw-Zoë+/YmFy=="; do
	check "c1: not on any screen: $form" sh -c '! grep -qF -- "$1" "$2"' _ "$form" "$T/c1.screens"
done
finish
