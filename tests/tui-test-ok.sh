#!/bin/bash
# Testing a good account against the real mail stack (Postfix submission with
# STARTTLS and a certificate from the test CA, Dovecot IMAPS): every step
# turns to a check mark live, the test email arrives in the mailbox, and the
# result is recorded on the account.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need "$PY"
tui_env
start_mailstack

add_account "$MAILSTACK_ALICE_USER" "$MAILSTACK_ALICE_PASS" --name Alice \
	--smtp-host 127.0.0.1 --smtp-port "$MAILSTACK_SMTP_STARTTLS_PORT" \
	--ca-file "$MAILSTACK_CA_FILE" \
	--imap-host 127.0.0.1 --imap-port "$MAILSTACK_IMAPS_PORT" --imap-security ssl
before=$(maildir_count "$MAILSTACK_ALICE_MAILDIR")

# A tall terminal shows every step at once.
tui_start -y 50 "$FLUENZR"
wait_screen "$MAILSTACK_ALICE_USER"
keys t
wait_title "Live diagnostics"
wait_screen "Everything works." 30
s=$(screen)
check_steps_passed "$s" $SMTP_STEPS imap.login
check "TLS details shown" grep -qE 'TLS \(smtp' <<<"$s"
check "certificate subject shown" grep -qE 'subject  CN=[^ ]+' <<<"$s"
check "certificate issuer shown" grep -qF 'issuer   CN=fluenzr test CA' <<<"$s"
check "message id shown" grep -qF 'Message-ID' <<<"$s"
check "reply detection round trip shown" grep -qE 'Reply detection: the test email was found in INBOX after [0-9]+ ms' <<<"$s"
check "the transcript redacts the password" lacks "$MAILSTACK_ALICE_PASS" "$s"
keys l
wait_screen "Transcript (credentials redacted)"
check "the transcript pane never shows the password" \
	sh -c "! tmux -u -L '$TUI_SOCK' capture-pane -p -S -100 | grep -qF '$MAILSTACK_ALICE_PASS'"
check "the test email arrived in alice's maildir" \
	wait_for -t 10 sh -c "[ \$(find '$MAILSTACK_ALICE_MAILDIR/new' '$MAILSTACK_ALICE_MAILDIR/cur' -type f | wc -l) -gt $before ]"
keys Escape
wait_title "Email Accounts"
wait_screen "✓ ok"
keys q
check "exit 0" [ "$(wait_exit)" = 0 ]

"$FLUENZR" account show "$MAILSTACK_ALICE_USER" --json > "$T/show.json" || fail "account show"
check "the result is recorded" $PY - "$T/show.json" <<'PY'
import json, sys, time
a = json.load(open(sys.argv[1]))
assert a["last_test"]["result"] == "ok", a
assert abs(a["last_test"]["time"] - time.time()) < 300, a
PY
finish
