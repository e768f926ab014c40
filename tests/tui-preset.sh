#!/bin/bash
# Adding an account through a preset: an address whose domain a preset
# serves is offered that preset as soon as Email is left; accepting it fills
# the servers and shows the provider's notes; the saved account carries it.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need "$PY"
tui_env

tui_start "$FLUENZR"
wait_screen "No accounts yet."
keys a
wait_title "Email Accounts > + SMTP"
type_text "dave@zoho.com"
keys Tab
wait_screen "Use preset Zoho Mail? y/n"
keys y
wait_screen "Preset Zoho Mail applied."
s=$(screen)
check "the SMTP server is filled" grep -qE 'SMTP server +smtp\.zoho\.com' <<<"$s"
check "the IMAP server is filled" grep -qE 'IMAP server +imap\.zoho\.com' <<<"$s"
check "the IMAP port is filled" grep -qE 'IMAP port +993' <<<"$s"
check "the preset's note is shown" grep -qF "App Password" <<<"$s"
type_text "Dave"
keys Tab Tab Tab Tab
type_text "dave-app-password"
keys C-s
wait_screen "Saved dave@zoho.com."
wait_screen "smtp.zoho.com:587"
keys q
check "exit 0" [ "$(wait_exit)" = 0 ]

list_json > "$T/list.json" || fail "account list --json"
check "account list --json has the account with its preset" \
	$PY - "$T/list.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
accts = doc["accounts"] if isinstance(doc, dict) else doc
a = [x for x in accts if x["email"] == "dave@zoho.com"]
assert len(a) == 1, doc
a = a[0]
assert a.get("preset") == "zoho", a
assert a["smtp"]["host"] == "smtp.zoho.com" and a["smtp"]["port"] == 587, a
assert a["display_name"] == "Dave", a
PY

# The picker (Ctrl-P) filters as one types and applies the chosen preset.
tui_start "$FLUENZR"
wait_screen "dave@zoho.com"
keys a
wait_title "Email Accounts > + SMTP"
type_text "erin@example.net"
keys C-p
wait_screen "Presets"
type_text "gandi"
wait_screen "mail.gandi.net"
keys Enter
wait_screen "Preset Gandi"
check "the picker filled the server" grep -qE 'SMTP server +mail\.gandi\.net' <<<"$(screen)"
keys Escape
wait_screen "discard your changes? y/n"
keys y
wait_screen "Changes discarded."
keys q
check "exit 0 after the picker" [ "$(wait_exit)" = 0 ]
check "the discarded form was not saved" sh -c "! '$FLUENZR' account show erin@example.net >/dev/null 2>&1"

# A user preset that is not safe (writable by everyone) is skipped: the
# console says so on its status line, and nothing is written over the
# screen; the shipped preset of the same id stays in use.
P=$XDG_CONFIG_HOME/fluenzr/presets
mkdir -p "$P"
chmod 755 "$XDG_CONFIG_HOME/fluenzr" "$P"
sed 's/smtp\.gmail\.com/evil.example.net/' "$top_srcdir/presets/gmail.preset" >"$P/gmail.preset"
chmod 666 "$P/gmail.preset"
tui_start "$FLUENZR"
wait_title "Email Accounts"
wait_screen "Preset skipped: "
s=$(screen)
check "the warning names the file" grep -qF "gmail.preset" <<<"$s"
check "no warning drawn over the title" grep -qE '^ Email Accounts +fluenzr-tui' <<<"$s"
keys a
wait_title "Email Accounts > + SMTP"
type_text "frank@gmail.com"
keys Tab
wait_screen "Use preset Gmail? y/n"
keys y
check "the shipped Gmail preset is used" wait_for -t 5 sh -c "tmux -u -L '$TUI_SOCK' capture-pane -p | grep -qE 'SMTP server +smtp\.gmail\.com'"
keys C-c
check "exit 0 after Ctrl-C" [ "$(wait_exit)" = 0 ]
finish
