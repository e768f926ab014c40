#!/bin/bash
# The console always answers q and SIGTERM, whatever a test is blocked on.
# An account whose CA file was replaced by a FIFO (no writer: opening it
# for reading would wait for ever) is tested, the test is left with Esc,
# then q quits within a bound and the terminal is restored; the same with
# SIGTERM. And SIGTERM during a test against a server that never greets.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
tui_env
start_mailstack
A=fifo@mail.test

# An account over implicit TLS with a valid certificate and its CA file,
# which is then replaced by a FIFO: an old console opened it after the
# handshake and hung there.
cp "$MAILSTACK_CA_FILE" "$T/ca.pem"
chmod 644 "$T/ca.pem"
add_account $A "whatever-pw" --smtp-host localhost \
	--smtp-port "$MAILSTACK_SMTP_IMPLICIT_PORT" --smtp-security ssl --ca-file "$T/ca.pem"
rm "$T/ca.pem"
mkfifo "$T/ca.pem"
# Whatever happens, nothing may stay blocked on the FIFO after the test.
at_exit "timeout 1 sh -c ': > \"$T/ca.pem\"' 2>/dev/null"

# start_fifo_test: the console, a test of the account, Esc back to the list.
start_fifo_test() {
	tui_start -x 100 -y 30 "$FLUENZR"
	wait_screen "$A"
	keys t
	# The test has started: the CA file refused at once, or (an old
	# console) connecting; then time for an old one to reach the FIFO
	# after the handshake.
	wait_for -t 10 sh -c 'tmux -u -L "$1" capture-pane -p -J | grep -qE "smtp\.(ca_file|connect)"' _ "$TUI_SOCK" ||
		{ screen >&2; fail "the test did not start"; }
	wait_for -t 3 sh -c 'tmux -u -L "$1" capture-pane -p -J | grep -qE "smtp\.ca_file|smtp\.certificate"' _ "$TUI_SOCK" || true
	keys Escape
	wait_title "Email Accounts"
}

start_fifo_test
start=$(date +%s%N)
keys q
rc=$(wait_for -t 5 test -f "$T/rc" && cat "$T/rc")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "q quits with a test blocked on a FIFO CA file (exit ${rc:-none})" [ "${rc:-x}" = 0 ]
check "...within 5 s ($ms ms)" [ "$ms" -lt 5000 ]
check "...and the terminal is restored" cmp -s "$T/stty.before" "$T/stty.after"
[ -f "$T/rc" ] || { kill -KILL "$(cat "$T/pid")" 2>/dev/null; wait_for -t 5 test -f "$T/rc"; }

start_fifo_test
start=$(date +%s%N)
kill -TERM "$(cat "$T/pid")"
rc=$(wait_for -t 5 test -f "$T/rc" && cat "$T/rc")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "SIGTERM ends it (exit ${rc:-none}, 143 expected)" [ "${rc:-x}" = 143 ]
check "...within 5 s ($ms ms)" [ "$ms" -lt 5000 ]
check "...and the terminal is restored" cmp -s "$T/stty.before" "$T/stty.after"
[ -f "$T/rc" ] || { kill -KILL "$(cat "$T/pid")" 2>/dev/null; wait_for -t 5 test -f "$T/rc"; }

# The test itself says why, at once, and nothing hangs (the CLI too).
out=$(timeout 10 "$FLUENZR" test $A --json --timeout 3)
rc=$?
check "the CLI test ends at once (exit $rc, 77 expected)" [ "$rc" = 77 ]
check "the diagnosis is ca_file_refused" grep -q '"reason": "ca_file_refused"' <<<"$out"
check "it names the FIFO" grep -q "is a FIFO" <<<"$out"

# SIGTERM while a test waits for a server that never greets.
add_account "stuck@mail.test" "whatever-pw" \
	--smtp-host 127.0.0.1 --smtp-port "$FAULT_NOGREET_PORT"
tui_start -x 100 -y 30 "$FLUENZR"
wait_screen "stuck@mail.test"
keys Down
keys t
wait_screen "smtp.greeting"
start=$(date +%s%N)
kill -TERM "$(cat "$T/pid")"
rc=$(wait_for -t 5 test -f "$T/rc" && cat "$T/rc")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "SIGTERM during a silent server's test: exit ${rc:-none}, 143 expected" [ "${rc:-x}" = 143 ]
check "...within 3 s ($ms ms)" [ "$ms" -lt 3000 ]
check "...and the terminal is restored" cmp -s "$T/stty.before" "$T/stty.after"
[ -f "$T/rc" ] || { kill -KILL "$(cat "$T/pid")" 2>/dev/null; wait_for -t 5 test -f "$T/rc"; }
finish
