#!/bin/bash
# A wrong password: the live test fails at AUTH and the troubleshooting
# panel shows auth_failed, what the server said and the fixes. Then "test
# all" (T) runs both accounts concurrently and the rows update live.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
tui_env
start_mailstack

add_account "$MAILSTACK_ALICE_USER" "Not-Alice-Password" \
	--smtp-host 127.0.0.1 --smtp-port "$MAILSTACK_SMTP_STARTTLS_PORT" \
	--ca-file "$MAILSTACK_CA_FILE"
add_account "$MAILSTACK_BOB_USER" "$MAILSTACK_BOB_PASS" \
	--smtp-host 127.0.0.1 --smtp-port "$MAILSTACK_SMTP_STARTTLS_PORT" \
	--ca-file "$MAILSTACK_CA_FILE"

tui_start "$FLUENZR"
wait_screen "$MAILSTACK_ALICE_USER"
keys t
wait_screen "Authentication failed" 30
wait_screen "press f for troubleshooting"
keys f
wait_title "Troubleshooting"
s=$(screen)
check "category auth_failed" grep -qF "auth_failed" <<<"$s"
check "the server's words" grep -qF "What the server said:" <<<"$s"
check "535 reply shown" grep -qF "authentication failed" <<<"$s"
check "fix: username" grep -qF "[ ] Check the username" <<<"$s"
check "fix: app password" grep -qiF "app password" <<<"$s"
check "the wrong password is not on screen" lacks 'Not-Alice-Password' "$s"
keys Escape
wait_title "Live diagnostics"
keys Escape
wait_title "Email Accounts"
wait_screen "auth_failed"

keys T
wait_screen "Tested 2 accounts: 1 ok, 1 failed." 60
s=$(screen)
check "bob's row is ok" grep -qE "✓ ok +$MAILSTACK_BOB_USER" <<<"$s"
check "alice's row failed" grep -qE "✗ auth_fail.* +$MAILSTACK_ALICE_USER" <<<"$s"
keys q
check "exit 0" [ "$(wait_exit)" = 0 ]
check "bob's result recorded" sh -c "'$FLUENZR' account show '$MAILSTACK_BOB_USER' --json | grep -qF '\"result\": \"ok\"'"
check "alice's result recorded" sh -c "'$FLUENZR' account show '$MAILSTACK_ALICE_USER' --json | grep -qF '\"result\": \"auth_failed\"'"
finish
