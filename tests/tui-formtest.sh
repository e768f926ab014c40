#!/bin/bash
# Ctrl-T tests the values on the form before they are saved: alice's details
# against the mail stack (STARTTLS submission, the stack's CA) pass live;
# Esc goes back to the form with the values still there, and nothing is in
# the store until Ctrl-S.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need "$PY"
tui_env
start_mailstack
S0=$MAILSTACK_SMTP_STARTTLS_PORT
before=$(maildir_count "$MAILSTACK_ALICE_MAILDIR")

tui_start -x 100 -y 50 "$FLUENZR"
wait_screen "No accounts yet."
keys a
wait_title "Email Accounts > + SMTP"
type_text "$MAILSTACK_ALICE_USER"
keys Tab
type_text "Alice"
keys Tab
type_text "localhost"
keys Tab C-u
type_text "$S0"
# Username follows the address; then the password.
keys Tab Tab
type_text "$MAILSTACK_ALICE_PASS"
# Encryption (TLS by default), the five IMAP fields, then the CA file.
keys Tab Tab Tab Tab Tab Tab Tab
wait_screen "Optional PEM file of extra trusted authorities"
type_text "$MAILSTACK_CA_FILE"
wait_screen "$(basename "$MAILSTACK_CA_FILE")"
check "the password is masked on the form" sh -c "! tmux -u -L '$TUI_SOCK' capture-pane -p | grep -qF '$MAILSTACK_ALICE_PASS'"

keys C-t
wait_title "Live diagnostics"
wait_screen "Everything works." 60
s=$(screen)
check "the values on screen were tested" \
	grep -qF "$MAILSTACK_ALICE_USER  localhost:$S0 TLS (STARTTLS)" <<<"$s"
check_steps_passed "$s" $SMTP_STEPS
check "the test email arrived" \
	wait_for -t 10 sh -c "[ \$(find '$MAILSTACK_ALICE_MAILDIR/new' '$MAILSTACK_ALICE_MAILDIR/cur' -type f | wc -l) -gt $before ]"
check "the unsaved account is not in the store during the test" \
	test "$(list_json | tr -d ' \n')" = "[]"

keys Escape
wait_title "Email Accounts > + SMTP"
s=$(screen)
check "back on the form: the server kept" grep -qE "SMTP server +localhost" <<<"$s"
check "back on the form: the port kept" grep -qE "Port +$S0 " <<<"$s"
check "back on the form: the password kept (masked)" grep -qE "Password +\*{${#MAILSTACK_ALICE_PASS}} " <<<"$s"
check "back on the form: focus still on the CA file" grep -qE "^> CA file" <<<"$s"
check "still not in the store after the test" test "$(list_json | tr -d ' \n')" = "[]"

keys C-s
wait_screen "Saved $MAILSTACK_ALICE_USER."
wait_title "Email Accounts"
keys q
check "exit 0" [ "$(wait_exit)" = 0 ]

list_json > "$T/list.json" || fail "account list"
check "saved by Ctrl-S: one account" $PY - "$T/list.json" "$MAILSTACK_ALICE_USER" <<'PY'
import json, sys
l = json.load(open(sys.argv[1]))
assert len(l) == 1, l
assert l[0]["email"] == sys.argv[2], l
PY
"$FLUENZR" account show "$MAILSTACK_ALICE_USER" --json > "$T/show.json" || fail "account show"
check "the saved account is what was tested" $PY - "$T/show.json" "$S0" "$MAILSTACK_CA_FILE" "$MAILSTACK_ALICE_USER" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
assert a["display_name"] == "Alice", a
assert a["smtp"]["host"] == "localhost", a
assert a["smtp"]["port"] == int(sys.argv[2]), a
assert a["smtp"]["security"] == "starttls", a
assert a["smtp"]["username"] == sys.argv[4], a
assert a["ca_file"] == sys.argv[3], a
assert a["has_password"] is True, a
PY
check "the saved password works" sh -c "'$FLUENZR' test '$MAILSTACK_ALICE_USER' --no-send >/dev/null 2>&1"
finish
