#!/bin/bash
# The console's list shows each account's health and its strip of results,
# as `check --all` recorded them, and for the selected account since when
# it fails; a test run in the console updates it; the form shows the
# password's age and the sending limits.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need "$PY"
tui_env
export NO_COLOR=1
start_mailstack

add_alice_bob
"$FLUENZR" check --all >/dev/null 2>&1
"$FLUENZR" check --all >/dev/null 2>&1

tui_start -x 110 "$FLUENZR"
wait_title "Email Accounts"
wait_screen "$MAILSTACK_BOB_USER"
s=$(screen)
check "header: Health" grep -q "Status  *Health  *Email" <<<"$s"
check "alice: failing, two failures" grep -q "auth_failed Failing xx  *$MAILSTACK_ALICE_USER" <<<"$s"
check "bob: healthy, two passes" grep -q "✓ ok  *Healthy ++  *$MAILSTACK_BOB_USER" <<<"$s"
check "selected alice: failing since, in words" grep -q "Failing since 20[0-9-]* [0-9:]* UTC \[xx\]" <<<"$s"

# A test of bob in the console adds to his strip.
keys j
keys t
wait_title "Live diagnostics"
wait_screen "Everything works." 30
keys Escape
wait_title "Email Accounts"
check "bob: the console's test is in his history" wait_for -t 10 sh -c "test \"\$(\"\$0\" account show '$MAILSTACK_BOB_USER' --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)[\"health\"][\"history\"]))')\" = 3" "$FLUENZR"
check "bob: still healthy in the list" grep -q "Healthy +++ *$MAILSTACK_BOB_USER" <<<"$(screen)"
# The form of a stored account: its password's age and its limits.
"$FLUENZR" account limits "$MAILSTACK_BOB_USER" --day 25 >/dev/null
keys e
wait_screen "Sending:"
s=$(screen)
check "form: the password's age" grep -q "(unchanged) set 0 days ago" <<<"$s"
check "form: the limits" grep -q "Sending: 0 of 25 a day, no hourly limit (account)" <<<"$s"
keys Escape
wait_title "Email Accounts"
keys q
finish
