#!/bin/bash
# A stored password that does not open (its sealed record damaged): `test`
# and the console give the same reason, in the same words, and neither runs
# the test without it nor records anything (both go through
# app_secrets_open() and app_result_record()).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need mdb_load
tui_env

for u in u1 u2; do
	add_account "$u@h.test" "pw-$u-secret" --smtp-host 127.0.0.1 --smtp-port 9 \
		--smtp-security none --allow-plain 2>/dev/null
done
printf 'u2@h.test\\00\\00\n\\01garbage-garbage-garbage-garbage-garbage\n' |
	mdb_load -T -s secrets "$STORE" || fail "mdb_load"
last_test() {
	"$FLUENZR" account show "$1" --json |
		/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["last_test"])'
}

rc=0
"$FLUENZR" test u2@h.test --timeout 2 >"$T/out" 2>"$T/err" || rc=$?
why=$(sed -n 's/^fluenzr-tui: \(u2@h.test: password: .*\)$/\1/p' "$T/err")
echo "# test says: $why (exit $rc)"
check "test: the damaged password is named" test -n "$why"
check "test: a data error (65)" test $rc = 65
check "test: nothing was tested" lacks "Testing u2" "$(cat "$T/out")"
check "test: nothing recorded" test "$(last_test u2@h.test)" = None

tui_start "$FLUENZR"
wait_screen "u2@h.test"
keys Down
keys t
wait_screen "Not tested: $why."
check "console: no test ran without the password" lacks "Live diagnostics" "$(screen)"
# The other account still tests (refused at once), and is recorded.
keys Up t
wait_screen "Live diagnostics"
keys Escape
wait_screen "Email Accounts"
keys q
check "quit: exit 0" test "$(wait_exit 5)" = 0
check "console: nothing recorded for the damaged one" test "$(last_test u2@h.test)" = None
check "console: the other one recorded" lacks None "$(last_test u1@h.test)"
finish
