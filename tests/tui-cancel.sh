#!/bin/bash
# Esc during a test against a server that never greets: the probe is
# cancelled and the account list is back within a second (the bound allows
# for tmux's own latency; this is a functional check, not a benchmark). The
# console then quits promptly, the cancelled worker joined.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
tui_env
start_mailstack

add_account "stuck@mail.test" "whatever-pw" \
	--smtp-host 127.0.0.1 --smtp-port "$FAULT_NOGREET_PORT"
# A real result first, which a cancelled test must leave as it is: the same
# rule as `fluenzr-tui test` interrupted with Ctrl-C (tests/probe-cancel.sh).
"$FLUENZR" test stuck@mail.test --timeout 1 >/dev/null 2>&1
last_test() {
	"$FLUENZR" account show stuck@mail.test --json |
		/usr/bin/python3 -c 'import json, sys; t = json.load(sys.stdin)["last_test"]; print(t and "%s %s" % (t["result"], t["time"]))'
}
before=$(last_test)
check "the first test is recorded ($before)" test "${before%% *}" = timeout

tui_start "$FLUENZR"
wait_screen "stuck@mail.test"
keys t
wait_screen "Testing..."
wait_screen "smtp.greeting"
start=$(date +%s%N)
keys Escape
wait_screen "Test cancelled." 5
wait_title "Email Accounts"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "# back at the list after $ms ms"
check "back at the list within $(slow_ms 1500) ms ($ms ms)" [ "$ms" -lt "$(slow_ms 1500)" ]
check "the cancelled test recorded nothing" test "$(last_test)" = "$before"

# A second test, then Ctrl-C while it runs: the worker is cancelled and
# joined, and the exit is prompt too.
keys t
wait_screen "smtp.greeting"
start=$(date +%s%N)
keys C-c
rc=$(wait_exit 5)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "exit 0" [ "$rc" = 0 ]
check "quit during a test within $(slow_ms 2500) ms ($ms ms)" [ "$ms" -lt "$(slow_ms 2500)" ]
check "stty restored" cmp -s "$T/stty.before" "$T/stty.after"
finish
