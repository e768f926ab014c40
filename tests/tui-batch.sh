#!/bin/bash
# "Test all" (T) in the console: 300 accounts all get tested through the
# bounded pool, the console stays small and responsive; then a batch
# against a server that never finishes its greeting, with the terminal
# resized to too small and back while it runs and Esc pressed twice at
# once: the batch stops, the console keeps working, and quits cleanly.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need /usr/bin/python3
tui_env

# 300 accounts on a port where nothing listens (refused at once).
for i in $(seq 1 300); do
	add_account "b$i@h.test" "pw-$i-secret" --smtp-host 127.0.0.1 --smtp-port 9 \
		--smtp-security none --allow-plain 2>/dev/null
done

tui_start -x 100 -y 30 "$FLUENZR"
wait_screen "300 accounts"
keys T
wait_screen "Tested 300 accounts: 0 ok, 300 failed." 60
pid=$(cat "$T/pid")
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
threads=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
echo "# after 300 tests: $rss KiB, $threads threads"
check "every worker joined after the batch ($threads threads)" test "$threads" -eq 1
check "... and the console stays small ($rss KiB)" test "$rss" -lt 131072
check "the results are recorded" \
	sh -c '"$1" account list --json | "$2" -c "import json, sys; sys.exit(sum((a[\"last_test\"] or {}).get(\"result\") == \"connection_refused\" for a in json.load(sys.stdin)) != 300)"' _ "$FLUENZR" "$PY"
keys q
rc=$(wait_exit 5)
check "quit: exit 0" [ "$rc" = 0 ]

# A server that sends its greeting one byte at a time, never ending it.
SRV=$T/srv
mkdir -p "$SRV"
$PY "$top_srcdir/tests/probe-hostile-server.py" "$SRV" smtp-trickle 2>"$SRV/log" &
at_exit "kill $! 2>/dev/null"
wait_for test -s "$SRV/smtp-trickle.port" || fail "the hostile server did not start"
# A store of its own.
export FLUENZR_STORE="$T/store2" FLUENZR_KEY_FILE="$T/store2.key"
for i in 1 2 3 4 5 6; do
	add_account "slow$i@h.test" "pw-$i-secret" --smtp-host 127.0.0.1 \
		--smtp-port "$(cat "$SRV/smtp-trickle.port")" --smtp-security none --allow-plain 2>/dev/null
done

tui_start -x 100 -y 30 "$FLUENZR"
wait_screen "6 accounts"
keys T
wait_screen "Testing: 0 of 6 done"
tm resize-window -x 60 -y 20
wait_screen "Terminal too small"
tm resize-window -x 100 -y 30
wait_screen "Testing: 0 of 6 done"
start=$(date +%s%N)
keys Escape Escape
wait_screen "Tested " 5
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "# batch stopped after $ms ms"
check "Esc Esc: the batch stops within $(slow_ms 2500) ms ($ms ms)" [ "$ms" -lt "$(slow_ms 2500)" ]
check "... and nothing is left queued" lacks "Testing:" "$(screen)"
check "... the stopped tests are not counted as failures" \
	grep -qE 'Tested [0-9]+ accounts?: 0 ok, 0 failed, [0-9]+ stopped\.' <<<"$(screen)"
pid=$(cat "$T/pid")
check "... every worker joined" test "$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")" -eq 1
check "the cancelled tests recorded nothing" \
	sh -c '"$1" account list --json | "$2" -c "import json, sys; sys.exit(any(a[\"last_test\"] for a in json.load(sys.stdin)))"' _ "$FLUENZR" "$PY"
keys q
rc=$(wait_exit 5)
check "quit: exit 0" [ "$rc" = 0 ]
check "stty restored" cmp -s "$T/stty.before" "$T/stty.after"
finish
