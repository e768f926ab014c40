#!/bin/bash
# The console's settings lookup: an address no preset serves starts
# discovery when Email is left, on the runner, while the form stays live;
# a custom domain whose MX is at OVH is confirmed (the server is outside the
# domain and came from DNS) and then filled in with its source; nothing
# found says so; Esc cancels a lookup that waits on a dead resolver. DNS
# comes from tests/discover-server.py in the test's own namespaces.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need tmux
. "$top_srcdir/tests/discover-lib.sh"
tui_env
lacks_re() { ! grep -qE -- "$1" <<<"$2"; }

tui_start "$FLUENZR"
wait_screen "No accounts yet."
keys a
wait_title "Email Accounts > + SMTP"
type_text "jean@monentreprise.test"
keys Tab
wait_screen "ssl0.ovh.net is not in monentreprise.test and was found through DNS or HTTP"
check "a server outside the domain is asked about first" grep -qF "Use ssl0.ovh.net (OVH Mail preset" <<<"$(screen)"
check "  and not filled in before the answer" lacks "SMTP server        ssl0" "$(screen)"
keys y
wait_screen "Found: OVH Mail preset, because the MX is mx1.mail.ovh.net."
s=$(screen)
check "the SMTP server is filled in" grep -qE 'SMTP server +ssl0\.ovh\.net' <<<"$s"
check "the port too" grep -qE 'Port +587' <<<"$s"
check "the IMAP server too" grep -qE 'IMAP server +ssl0\.ovh\.net' <<<"$s"
check "the preset is OVH's" grep -qE 'Preset +OVH Mail' <<<"$s"
type_text "Jean"
keys Tab Tab Tab Tab
type_text "jean-password"
keys C-s
wait_screen "Saved jean@monentreprise.test."
keys q
check "exit 0" [ "$(wait_exit)" = 0 ]
check "the saved account has OVH's server" sh -c '"$1" account show jean@monentreprise.test --json | grep -q "ssl0.ovh.net"' _ "$FLUENZR"

tui_start "$FLUENZR"
wait_screen "jean@monentreprise"
keys a
wait_title "Email Accounts > + SMTP"
type_text "fy@nowhere.test"
keys Tab
wait_screen "No settings found for nowhere.test: enter the server by hand."
check "nothing found leaves the server empty" lacks_re "SMTP server +[a-z0-9]" "$(screen)"

# A dead resolver: the lookup shows, the form answers keys, Esc cancels.
keys BTab C-u
type_text "ga@silent.test"
keys Tab
wait_screen "Looking up settings for silent.test... (Esc cancels)"
type_text "Ga"
wait_screen "Ga"
check "the form answers keys during a lookup" grep -qF "Ga" <<<"$(screen)"
keys Escape
wait_screen "Lookup cancelled: enter the server by hand."
check "Esc cancelled the lookup, the form stays" grep -qF "+ SMTP" <<<"$(screen)"
keys Escape
wait_screen "Leave the form and discard your changes? y/n"
keys y
keys q
check "exit 0 after a cancelled lookup" [ "$(wait_exit)" = 0 ]
finish
