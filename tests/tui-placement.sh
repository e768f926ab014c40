#!/bin/bash
# The live test screen shows where the test email landed: a user whose
# Sieve rule files everything into Junk gets the placement line, the
# "landed in Junk" finding with its fixes, the folder map with where each
# name came from and the capabilities a reply detector uses.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need "$PY"
tui_env
start_mailstack

add_account "$MAILSTACK_JUNK_USER" "$MAILSTACK_JUNK_PASS" --name Junk \
	--smtp-host 127.0.0.1 --smtp-port "$MAILSTACK_SMTP_STARTTLS_PORT" \
	--ca-file "$MAILSTACK_CA_FILE" \
	--imap-host 127.0.0.1 --imap-port "$MAILSTACK_IMAPS_PORT" --imap-security ssl

tui_start -x 200 -y 70 "$FLUENZR"
wait_screen "$MAILSTACK_JUNK_USER"
keys t
wait_title "Live diagnostics"
wait_screen "Everything works." 30
s=$(screen)
check "placement shown" grep -qE 'Placement: the test email landed in Junk \(Junk\) after [0-9]+ ms' <<<"$s"
check "no 'not found in INBOX in time' for a message in Junk" lacks "not found in INBOX in time" "$s"
check "the finding's title" grep -qF 'The test email landed in Junk (Junk), not in INBOX' <<<"$s"
check "its fixes" grep -qF -- '- Open the test email in Junk and mark it as not spam' <<<"$s"
check "the folder map and where it came from" grep -qF 'Folders: sent Sent (special-use), junk Junk (special-use)' <<<"$s"
check "capabilities for reply detection" grep -qF 'Reply detection: IDLE yes, CONDSTORE yes, QRESYNC yes, UIDPLUS yes, SPECIAL-USE yes' <<<"$s"
check "copy in Sent" grep -qF 'Copy in Sent: no' <<<"$s"
check "the relay of the message" grep -qF 'Handed over by 127.0.0.1' <<<"$s"
keys Escape
wait_title "Email Accounts"
keys q
check "exit 0" [ "$(wait_exit)" = 0 ]
finish
