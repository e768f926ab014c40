#!/bin/bash
# `fluenzr-tui test` with IMAP: STARTTLS and implicit TLS, the reply check
# (the message sent over SMTP found in INBOX), certificates, a bad login.
. "$top_srcdir/tests/probe-common.sh"

A=alice@mail.test
PW=$MAILSTACK_ALICE_PASS
SMTP=(--smtp-host localhost --smtp-port "$MAILSTACK_SMTP_STARTTLS_PORT" --smtp-security starttls)

mk imap $A "$PW" "${SMTP[@]}" --username $A --ca-file "$CA" \
	--imap-host localhost --imap-port "$MAILSTACK_IMAP_PORT" --imap-security starttls
run imap $A
expect imap ok
check "imap: the test message was found in INBOX" test "$(jget "j['reply_detection']")" = True
check "imap: round trip in ms" test "$(jget "isinstance(j['reply_ms'], int) and 0 <= j['reply_ms'] < 15000")" = True
check "imap: IMAP steps" test "$(jget "','.join(s['name'] for s in j['steps'] if s['name'].startswith('imap.'))")" = \
	"imap.resolve,imap.connect,imap.greeting,imap.starttls,imap.tls,imap.certificate,imap.capability,imap.login,imap.select,imap.folders,imap.reply_check,imap.sent_copy"
check "imap: IDLE reported" test "$(jget "[s['detail'] for s in j['steps'] if s['name'] == 'imap.capability'][0]")" = "IDLE yes"
check "imap: two verified TLS sessions" test "$(jget "[t['step'] for t in j['tls'] if t['verified']]")" = "['smtp.certificate', 'imap.certificate']"
check "imap: LOGIN arguments redacted" test "$(jget "any(l['text'].endswith(' LOGIN <redacted> <redacted>') for l in j['transcript'])")" = True
check "imap: no password in the JSON" sh -c "! grep -qF -- '$PW' '$D/out.json'"

mk imaps $A "$PW" "${SMTP[@]}" --username $A --ca-file "$CA" \
	--imap-host localhost --imap-port "$MAILSTACK_IMAPS_PORT" --imap-security ssl
run imaps $A --imap-only
expect imaps ok
check "imaps: no SMTP step with --imap-only" test "$(jget "any(s['name'].startswith('smtp.') for s in j['steps'])")" = False
check "imaps: reply check not done" test "$(jget "j['reply_detection']")" = None
run imaps $A --no-send
expect imaps ok
check "imaps --no-send: no message, no reply check" test "$(jget "(j['message_id'], j['reply_detection'])")" = "(None, None)"
run imaps $A --smtp-only --no-send
check "imaps --smtp-only: no IMAP step" test "$(jget "any(s['name'].startswith('imap.') for s in j['steps'])")" = False

mk imaps_ss $A "$PW" "${SMTP[@]}" --username $A --ca-file "$CA" \
	--imap-host localhost --imap-port "$MAILSTACK_IMAPS_SELFSIGNED_PORT" --imap-security ssl
run imaps_ss $A --imap-only
expect imaps_ss invalid_certificate self_signed
check "imaps_ss: no LOGIN sent" test "$(jget "any('LOGIN' in l['text'] for l in j['transcript'] if l['dir'] == 'C')")" = False

mk imap_mismatch $A "$PW" "${SMTP[@]}" --username $A --ca-file "$CA" \
	--imap-host localhost --imap-port "$MAILSTACK_IMAP_PORT" --imap-security ssl
run imap_mismatch $A --imap-only --timeout 3
expect imap_mismatch tls_mismatch

# Last: a wrong IMAP password (Dovecot then slows logins from 127.0.0.1).
D=$T/imap_bad
mkdir -p "$D"
"$FLUENZR" --store "$D/s" --key-file "$D/k" account add --email $A "${SMTP[@]}" --username $A \
	--ca-file "$CA" --imap-host localhost --imap-port "$MAILSTACK_IMAP_PORT" --imap-security starttls \
	--password-stdin --imap-password-fd 3 <<<"$PW" 3<<<"Wrong-Imap-Pass" >/dev/null 2>&1 ||
	fail "account add imap_bad"
run imap_bad $A --imap-only
expect imap_bad auth_failed bad_credentials
check "imap_bad: stage imap_login" test "$(jget "j['diagnosis']['stage']")" = imap_login
check "imap_bad: server words" test "$(jget "'Authentication failed' in j['diagnosis']['reply']")" = True

finish
