#!/bin/bash
# SIGHUP (the SSH link dropped) with an unsaved form: the console exits
# through its one cleanup path, the terminal is restored and the half-typed
# account is not written. Then the same with the terminal itself going away
# (the pane is killed): the process must not linger.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
tui_env
add_account "judy@example.com" "Judy-Pass-1" --smtp-host smtp.example.com
list_json > "$T/before.json" || fail "account list"
db_hash() { sha256sum "$STORE"/*.mdb "$STORE"/data* 2>/dev/null | grep -v lock | sort | sha256sum; }
h0=$(db_hash)

tui_start "$FLUENZR"
wait_screen "judy@example.com"
keys e
wait_title "Email Accounts > Edit account"
keys C-u
type_text "kim@example.com"
keys Tab
type_text "Kim"
wait_screen "Kim"
pid=$(cat "$T/pid")
kill -HUP "$pid"
rc=$(wait_exit 5)
check "exit status says SIGHUP (129)" [ "$rc" = 129 ]
check "stty restored" cmp -s "$T/stty.before" "$T/stty.after"
list_json > "$T/after.json" || fail "account list"
check "account list unchanged" cmp -s "$T/before.json" "$T/after.json"
check "store files unchanged" [ "$h0" = "$(db_hash)" ]
check "the half-typed account is not in the store" \
	sh -c "! '$FLUENZR' account show kim@example.com >/dev/null 2>&1"

# SIGTERM takes the same path.
tui_start "$FLUENZR"
wait_screen "judy@example.com"
kill -TERM "$(cat "$T/pid")"
check "SIGTERM: exit status 143" [ "$(wait_exit 5)" = 143 ]
check "SIGTERM: stty restored" cmp -s "$T/stty.before" "$T/stty.after"

# The terminal goes away: the pane (and its pty) is destroyed.
tui_start "$FLUENZR"
wait_screen "judy@example.com"
keys a
wait_title "Email Accounts > + SMTP"
type_text "lee@example.com"
pid=$(cat "$T/pid")
tm kill-server
check "the process ends when its terminal is gone" \
	wait_for -t 5 sh -c "! kill -0 $pid 2>/dev/null"
check "store files unchanged after the hangup" [ "$h0" = "$(db_hash)" ]
finish
