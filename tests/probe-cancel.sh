#!/bin/bash
# Ctrl-C during `fluenzr-tui test` ends the run within a second with the
# "cancelled" diagnosis, whatever the probe is waiting for.
. "$top_srcdir/tests/probe-common.sh"

A=alice@mail.test

# last_test as "RESULT TIME" from account show --json.
last_test() {
	"$FLUENZR" --store "$D/s" --key-file "$D/k" account show $A --json |
		$PY -c 'import json, sys; t = json.load(sys.stdin)["last_test"]; print(t and "%s %s" % (t["result"], t["time"]))'
}

cancel_case() {
	local name=$1 port=$2 sec=$3 pid rc t0 ms before
	shift 3
	mk "$name" $A x --smtp-host $H --smtp-port "$port" --smtp-security "$sec" --allow-plain
	D=$T/$name
	# A real result first (the server never answers: a timeout), which the
	# cancelled test must leave as it is.
	"$FLUENZR" --store "$D/s" --key-file "$D/k" test $A --timeout 1 "$@" >/dev/null 2>&1
	before=$(last_test)
	check "$name: the first test is recorded ($before)" test "${before%% *}" = timeout
	"$FLUENZR" --store "$D/s" --key-file "$D/k" test $A --timeout 60 "$@" >"$D/out" 2>&1 &
	pid=$!
	# Wait until the probe is inside the wait we want to interrupt.
	wait_for -t 10 grep -q 'smtp.connect' "$D/out" || fail "$name: the test did not start"
	wait_for -t 10 in_wait $pid || fail "$name: the probe never waited"
	t0=$(date +%s%N)
	kill -INT $pid
	rc=0
	wait $pid || rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	check "$name: ends within a second of SIGINT ($ms ms)" test $ms -lt "$(slow_ms 1000)"
	check "$name: exit status of cancelled (75)" test $rc = 75
	check "$name: says cancelled" grep -q '(cancelled' "$D/out"
	check "$name: the cancelled test recorded nothing" test "$(last_test)" = "$before"
}
cancel_case nogreet "$MAILSTACK_FAULT_NOGREET_PORT" starttls
cancel_case hang "$MAILSTACK_FAULT_HANG_PORT" none
# Inside a TLS handshake: implicit TLS to a server that never answers.
cancel_case handshake "$MAILSTACK_FAULT_NOGREET_PORT" ssl

finish
