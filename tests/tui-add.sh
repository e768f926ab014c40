#!/bin/bash
# The acceptance sequence of the form: a, address, Tab, name, Tab, server,
# Tab Tab Tab, password, Ctrl-S saves a working account with port 587,
# STARTTLS and the address as user name; the password is sealed, and the
# name (wide characters) is drawn in the list.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need "$PY"
tui_env

tui_start "$FLUENZR"
wait_screen "No accounts yet."
keys a
wait_title "Email Accounts > + SMTP"
type_text "carol@example.org"
keys Tab
type_text "Carol 山田太郎"
keys Tab
type_text "smtp.example.org"
keys Tab Tab Tab
type_text "Carol-Pass-9"
wait_screen "************"
check "the password is masked" sh -c "! tmux -u -L '$TUI_SOCK' capture-pane -p | grep -qF 'Carol-Pass-9'"
keys C-s
wait_screen "Saved carol@example.org."
wait_screen "Carol 山"

# Inline validation, with the CLI's rules: a bad address is flagged when the
# field is left, and saving refuses a form with a required field empty.
keys a
wait_title "Email Accounts > + SMTP"
type_text "not-an-address"
keys Tab
wait_screen "Email has no '@'"
keys Up C-u
type_text "oscar@example.org"
keys C-s
wait_screen "SMTP server is required"
# The refused save put the cursor on the first bad field.
type_text "smtp.example.org"
keys Tab C-u
type_text "99999"
keys Tab
# Next to the field (cut to the column), and in full when focused.
wait_screen "Port must be a numbe"
keys Up
wait_screen "Port must be a number from 1 to 65535"
keys Escape
wait_screen "discard your changes? y/n"
keys y
wait_screen "Changes discarded."
keys q
check "exit 0" [ "$(wait_exit)" = 0 ]
check "the refused account was not saved" sh -c "! '$FLUENZR' account show oscar@example.org >/dev/null 2>&1"

"$FLUENZR" account show carol@example.org --json > "$T/show.json" || fail "account show"
check "account show: 587, starttls, username = the address" \
	$PY - "$T/show.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
assert a["email"] == "carol@example.org", a
assert a["display_name"] == "Carol 山田太郎", a
assert a["smtp"]["host"] == "smtp.example.org", a
assert a["smtp"]["port"] == 587, a
assert a["smtp"]["security"] == "starttls", a
assert a["smtp"]["username"] == "carol@example.org", a
assert a["has_password"] is True, a
assert a["imap"] is None, a
PY
check "the password is not stored in clear" sh -c "! grep -rqF 'Carol-Pass-9' '$STORE'"
finish
