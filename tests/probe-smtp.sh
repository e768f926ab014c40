#!/bin/bash
# `fluenzr-tui test` against real Postfix/Dovecot and the fault server: one
# case per diagnosis category, the message that arrives, certificates (and
# that no credential is sent before they are verified), alternatives.
#
# Each case is a function case_NAME, run by the table at the end in a
# subshell of its own: a case that stops early (fail) is reported by its
# name and the cases after it still run.
. "$top_srcdir/tests/probe-common.sh"

A=alice@mail.test
PW=$MAILSTACK_ALICE_PASS
S0=$MAILSTACK_SMTP_STARTTLS_PORT

# ---- ok: the message really arrives, with correct headers ----
case_ok() {
	local MSGID TOKEN MSG
	mk ok $A "$PW" --name "Zoë Ångström-Łukasiewicz 日本語の名前はとても長いです" \
		--smtp-host localhost --smtp-port "$S0" --smtp-security starttls \
		--username $A --ca-file "$CA"
	run ok $A
	expect ok ok
	check "ok: TLS 1.2+ verified" test "$(jget "j['tls'][0]['verified'] and j['tls'][0]['version'] in ('TLS1.2', 'TLS1.3')")" = True
	check "ok: fingerprint" test "$(jget "j['tls'][0]['sha256'].startswith('sha256:') and len(j['tls'][0]['sha256']) == 71")" = True
	check "ok: steps in order" test "$(jget "','.join(s['name'] for s in j['steps'])")" = \
		"smtp.resolve,smtp.connect,smtp.greeting,smtp.ehlo,smtp.starttls,smtp.tls,smtp.certificate,smtp.ehlo2,smtp.auth,smtp.mail,smtp.rcpt,smtp.data,smtp.quit"
	check "ok: every step ok" test "$(jget "all(s['ok'] for s in j['steps'])")" = True
	check "ok: reply_detection null without IMAP" test "$(jget "j['reply_detection']")" = None
	check "ok: EHLO with an FQDN or an address literal" \
		test "$(jget "[l['text'] for l in j['transcript'] if l['text'].startswith('EHLO ')][0]")" != "EHLO $(hostname)"
	check "ok: 221 read after QUIT" test "$(jget "j['steps'][-1]['detail'][:3]")" = 221
	MSGID=$(jget "j['message_id']")
	TOKEN=$(jget "j['token']")
	wait_for -t 10 sh -c "grep -rl 'Subject: fluenzr-tui test $TOKEN' '$MAILSTACK_ALICE_MAILDIR' 2>/dev/null | grep -q ." ||
		fail "the test message did not arrive in $MAILSTACK_ALICE_MAILDIR"
	MSG=$(grep -rl "Subject: fluenzr-tui test $TOKEN" "$MAILSTACK_ALICE_MAILDIR" | head -n 1)
	check "delivered message is well-formed" $PY - "$MSG" "$MSGID" "$TOKEN" <<'EOF'
import email, email.header, email.policy, sys
raw = open(sys.argv[1], 'rb').read()
m = email.message_from_bytes(raw, policy=email.policy.default)
want = "Zoë Ångström-Łukasiewicz 日本語の名前はとても長いです"
# RFC 2047 6.2: white space between encoded-words is dropped; the legacy
# decoder does that (the new policy's address parser keeps it).
legacy = email.message_from_bytes(raw)
frm = str(email.header.make_header(email.header.decode_header(legacy['From'])))
assert frm == want + ' <alice@mail.test>', frm
# Raw header: RFC 2047 encoded-words, none over 75 characters.
hdr = raw.split(b'\n\n', 1)[0].decode('ascii')
import re
words = re.findall(r'=\?[^?]+\?[BQbq]\?[^?]*\?=', hdr)
assert words and all(len(w) <= 75 for w in words), words
assert m['Message-ID'] == sys.argv[2]
assert m['Subject'] == 'fluenzr-tui test ' + sys.argv[3]
assert m['To'] == 'alice@mail.test'
assert m['MIME-Version'] == '1.0'
assert m.get_content_type() == 'text/plain' and m.get_content_charset() == 'utf-8'
assert email.utils.parsedate_to_datetime(m['Date']) is not None
body = m.get_content()
assert 'Grüße ✓' in body, body
# libetpan's dot-stuffing: the dot line arrives with one dot.
assert '\n. A line that starts with a dot' in body, body
assert sys.argv[3] in body
EOF
}

# ---- where the server is ----
case_dns() {
	mk dns $A "$PW" --smtp-host no-such-host.invalid --smtp-port 587 --smtp-security starttls
	run dns $A --timeout 5
	expect dns dns_failure
	check "dns: resolve step failed" test "$(jget "j['steps'][-1]['name'] + str(j['steps'][-1]['ok'])")" = smtp.resolveFalse
}
case_refused() {
	mk refused $A "$PW" --smtp-host $H --smtp-port 9 --smtp-security starttls
	run refused $A --timeout 5 --no-alternatives
	expect refused connection_refused refused
}
case_timeout() {
	mk timeout $A "$PW" --smtp-host $H --smtp-port "$MAILSTACK_FAULT_NOGREET_PORT" --smtp-security starttls
	run timeout $A --timeout 2 --no-alternatives
	expect timeout timeout no_greeting
}
case_hang() {
	mk hang $A "$PW" --smtp-host $H --smtp-port "$MAILSTACK_FAULT_HANG_PORT" --smtp-security none --allow-plain
	run hang $A --timeout 2 --no-alternatives
	expect hang timeout
}

# ---- encryption that does not match the port ----
case_ssl_on_starttls() {
	mk ssl_on_starttls $A "$PW" --smtp-host localhost --smtp-port "$S0" --smtp-security ssl --ca-file "$CA"
	run ssl_on_starttls $A --timeout 3 --no-alternatives
	expect ssl_on_starttls tls_mismatch server_speaks_plain
	check "ssl_on_starttls: no AUTH sent" no_auth_sent
}
case_starttls_on_ssl() {
	mk starttls_on_ssl $A "$PW" --smtp-host localhost --smtp-port "$MAILSTACK_SMTP_IMPLICIT_PORT" \
		--smtp-security starttls --ca-file "$CA"
	run starttls_on_ssl $A --timeout 2 --no-alternatives
	expect starttls_on_ssl tls_mismatch server_speaks_tls
	check "starttls_on_ssl: no AUTH sent" no_auth_sent
}
case_implicit_ok() {
	mk implicit_ok $A "$PW" --smtp-host localhost --smtp-port "$MAILSTACK_SMTP_IMPLICIT_PORT" \
		--smtp-security ssl --ca-file "$CA"
	run implicit_ok $A --no-send
	expect implicit_ok ok
}
case_no_starttls() {
	mk no_starttls $A "$PW" --smtp-host localhost --smtp-port "$MAILSTACK_SMTP_PLAIN_PORT" \
		--smtp-security starttls --ca-file "$CA"
	run no_starttls $A
	expect no_starttls starttls_unavailable not_offered
	check "no_starttls: no AUTH sent in clear" no_auth_sent
}

# ---- certificates: each problem, and nothing secret sent before ----
# cert NAME PORT REASON [account add options...]
case_cert() {
	local name=$1 port=$2 reason=$3
	shift 3
	mk "$name" $A "$PW" --smtp-host localhost --smtp-port "$port" --smtp-security starttls "$@"
	run "$name" $A
	expect "$name" invalid_certificate "$reason"
	check "$name: no AUTH sent" no_auth_sent
	check "$name: tls problem $reason" test "$(jget "j['tls'][0]['problem']")" = "$reason"
	check "$name: pin candidate offered" test "$(jget "j['diagnosis']['pin_candidate'] == j['tls'][0]['sha256']")" = True
}
# The IP address must be in the certificate too (it is: SAN 127.0.0.1).
case_by_ip() {
	mk by_ip $A "$PW" --smtp-host 127.0.0.1 --smtp-port "$S0" --smtp-security starttls --ca-file "$CA"
	run by_ip $A --no-send
	expect by_ip ok
}
# Pinning the self-signed certificate's fingerprint (found by the case
# selfsigned) makes it pass.
case_pinned() {
	local PIN
	D=$T/selfsigned
	PIN=$(jget "j['diagnosis']['pin_candidate']")
	mk pinned $A "$PW" --smtp-host localhost --smtp-port "$MAILSTACK_SMTP_SELFSIGNED_PORT" \
		--smtp-security starttls --pin "$PIN"
	run pinned $A
	expect pinned ok
	check "pinned: certificate verified by pin" test "$(jget "j['tls'][0]['verified']")" = True
}

# ---- logging in and sending ----
case_noauth() {
	mk noauth $A "$PW" --smtp-host localhost --smtp-port "$MAILSTACK_SMTP_NOAUTH_PORT" \
		--smtp-security starttls --ca-file "$CA"
	run noauth $A
	expect noauth auth_unsupported not_offered
}
case_authunsup() {
	mk authunsup $A "$PW" --smtp-host $H --smtp-port "$MAILSTACK_FAULT_AUTHUNSUP_PORT" \
		--smtp-security none --allow-plain
	run authunsup $A
	expect authunsup auth_unsupported
}
case_encrypt() {
	mk encrypt $A "$PW" --smtp-host localhost --smtp-port "$MAILSTACK_SMTP_ENCRYPT_PORT" \
		--smtp-security none --allow-plain
	run encrypt $A
	expect encrypt encryption_required
	check "encrypt: the server's words" test "$(jget "'5.7.0' in j['diagnosis']['reply']")" = True
	check "encrypt: only a bare AUTH probe, no credentials" test "$(jget "[l['text'] for l in j['transcript'] if l['dir'] == 'C' and l['text'].startswith('AUTH')]")" = "['AUTH PLAIN']"
}
case_mismatch() {
	mk mismatch bob@mail.test "$PW" --smtp-host localhost --smtp-port "$MAILSTACK_SMTP_MISMATCH_PORT" \
		--smtp-security starttls --username $A --ca-file "$CA"
	run mismatch bob@mail.test
	expect mismatch sender_rejected
}
case_ghost() {
	mk ghost ghost@mail.test "$PW" --smtp-host localhost --smtp-port "$S0" \
		--smtp-security starttls --username $A --ca-file "$CA"
	run ghost ghost@mail.test
	expect ghost recipient_rejected unknown_user
	check "ghost: stage rcpt, 550 5.1.1" test "$(jget "j['diagnosis']['stage'] + ' ' + j['diagnosis']['reply'][:5]")" = "rcpt 5.1.1"
}

# ---- the server's state ----
# fault NAME CATEGORY: the fault server's mode NAME (its port in
# MAILSTACK_FAULT_<NAME>_PORT) gives CATEGORY.
case_fault() {
	local m=$1 cat=$2 M port
	M=$(echo "$m" | tr a-z A-Z)
	eval port=\$MAILSTACK_FAULT_${M}_PORT
	mk "$m" $A "$PW" --smtp-host $H --smtp-port "$port" --smtp-security none --allow-plain
	run "$m" $A --timeout 3
	expect "$m" "$cat"
}
case_garbage() {
	case_fault garbage protocol_error
	check "garbage: no control characters in the JSON" test "$($PY -c 'import sys; d = open(sys.argv[1], "rb").read(); print(any(b < 32 and b not in (10,) for b in d))' "$D/out.json")" = False
}
case_drop() {
	mk drop $A "$PW" --smtp-host $H --smtp-port "$MAILSTACK_FAULT_DROP_PORT" --smtp-security none --allow-plain
	run drop $A --timeout 3
	expect drop server_unavailable connection_closed
}

# ---- sending limits: the fault modes above, then real Postfix ----
case_pf_rate() {
	mk pf_rate $A "$PW" --smtp-host localhost --smtp-port "$MAILSTACK_SMTP_RATELIMIT_PORT" \
		--smtp-security starttls --ca-file "$CA"
	run pf_rate $A
	expect pf_rate ok
	run pf_rate $A
	expect pf_rate rate_limited
	check "pf_rate: Postfix's own words" test "$(jget "'too many connections' in j['diagnosis']['reply']")" = True
}
case_pf_msgrate() {
	mk pf_msgrate $A "$PW" --smtp-host localhost --smtp-port "$MAILSTACK_SMTP_MSGLIMIT_PORT" \
		--smtp-security starttls --ca-file "$CA"
	run pf_msgrate $A
	expect pf_msgrate ok
	run pf_msgrate $A
	expect pf_msgrate rate_limited
	check "pf_msgrate: too much mail" test "$(jget "'too much mail' in j['diagnosis']['reply']")" = True
}

# ---- alternatives: a refused port and a TLS mismatch find a working one ----
teststack_preset() {
	mkdir -p "$XDG_CONFIG_HOME/fluenzr/presets"
	cat >"$XDG_CONFIG_HOME/fluenzr/presets/teststack.preset" <<EOF
name = Test stack
domains = mail.test
smtp = localhost $S0 starttls
smtp = localhost $MAILSTACK_SMTP_IMPLICIT_PORT ssl
EOF
}
case_alt_refused() {
	teststack_preset
	mk alt_refused $A "$PW" --preset teststack --smtp-host localhost --smtp-port 9 \
		--smtp-security starttls --ca-file "$CA"
	run alt_refused $A --timeout 3
	expect alt_refused connection_refused
	check "alt_refused: the working port is suggested" test "$(jget "(j['diagnosis']['alt_port'], j['diagnosis']['alt_security'])")" = "($S0, 'starttls')"
	check "alt_refused: in the fixes too" test "$(jget "any(str($S0) in f for f in j['diagnosis']['fixes'])")" = True
}
case_alt_mismatch() {
	teststack_preset
	mk alt_mismatch $A "$PW" --preset teststack --smtp-host localhost --smtp-port "$S0" \
		--smtp-security ssl --ca-file "$CA"
	run alt_mismatch $A --timeout 3
	expect alt_mismatch tls_mismatch
	check "alt_mismatch: suggests starttls on the same port" test "$(jget "(j['diagnosis']['alt_port'], j['diagnosis']['alt_security'])")" = "($S0, 'starttls')"
}

# ---- human output, usage errors, unknown account, the stored result ----
# (with the stores of the cases ok and refused)
case_human() {
	local rc
	D=$T/ok
	LC_ALL=C "$FLUENZR" --store "$D/s" --key-file "$D/k" test $A --no-send >"$D/human" 2>&1
	check "human: one line per step, ASCII marks in the C locale" grep -q '^ok   smtp.auth ' "$D/human"
	check "human: diagnosis title" grep -q 'Test passed' "$D/human"
	"$FLUENZR" --store "$T/refused/s" --key-file "$T/refused/k" test $A --no-alternatives >"$D/human2" 2>&1
	check "human: FAIL mark, category, fixes" sh -c "grep -q '^✗ smtp.connect\|^FAIL smtp.connect' '$D/human2' && grep -q 'connection_refused' '$D/human2' && grep -q '   - ' '$D/human2'"
	rc=0; "$FLUENZR" --store "$D/s" --key-file "$D/k" test >/dev/null 2>&1 || rc=$?
	check "usage: no account is EX_USAGE" test $rc = 64
	rc=0; "$FLUENZR" --store "$D/s" --key-file "$D/k" test $A --smtp-only --imap-only >/dev/null 2>&1 || rc=$?
	check "usage: --smtp-only with --imap-only" test $rc = 64
	rc=0; "$FLUENZR" --store "$D/s" --key-file "$D/k" test $A --timeout abc >/dev/null 2>&1 || rc=$?
	check "usage: bad --timeout" test $rc = 64
	rc=0; "$FLUENZR" --store "$D/s" --key-file "$D/k" test nobody@mail.test 2>"$D/noacct" >/dev/null || rc=$?
	check "unknown account is EX_NOINPUT with a message" sh -c "test $rc = 66 && grep -q 'nobody@mail.test' '$D/noacct'"
	"$FLUENZR" --store "$T/refused/s" --key-file "$T/refused/k" account show $A --json >"$D/show.json"
	check "the result is recorded on the account" test "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["last_test"]["result"])' "$D/show.json")" = connection_refused
}

# ---- --all: a pool of threads over several accounts ----
addall() {
	local email=$1
	shift
	"$FLUENZR" --store "$D/s" --key-file "$D/k" account add --email "$email" "$@" \
		--password-stdin <<<"$PW" >/dev/null 2>&1 || fail "add $email"
}
case_all() {
	local rc
	D=$T/all
	mkdir -p "$D"
	addall a1@mail.test --username $A --smtp-host localhost --smtp-port "$S0" --smtp-security starttls --ca-file "$CA"
	addall a2@mail.test --username $A --smtp-host $H --smtp-port 9 --smtp-security starttls
	addall a3@mail.test --username $A --smtp-host localhost --smtp-port "$MAILSTACK_SMTP_NOAUTH_PORT" --smtp-security starttls --ca-file "$CA"
	addall a4@mail.test --username $A --smtp-host localhost --smtp-port "$MAILSTACK_SMTP_EXPIRED_PORT" --smtp-security starttls --ca-file "$CA"
	rc=0
	"$FLUENZR" --store "$D/s" --key-file "$D/k" test --all --jobs 3 --json --no-send >"$D/out.json" 2>"$D/err" || rc=$?
	check "--all: one object per account" test "$(jget "[o['account'] + ':' + o['category'] for o in sorted(j, key=lambda o: o['account'])]")" = \
		"['a1@mail.test:ok', 'a2@mail.test:connection_refused', 'a3@mail.test:auth_unsupported', 'a4@mail.test:invalid_certificate']"
	check "--all: exit status of the first failing account" test $rc = 69
	"$FLUENZR" --store "$D/s" --key-file "$D/k" test --all --no-send >"$D/human" 2>&1 || true
	check "--all: a summary line per account" test "$(grep -c '@mail.test' "$D/human")" = 4
}

# ---- last: a wrong password (Dovecot then slows logins from 127.0.0.1) ----
case_badpw() {
	mk badpw $A "wrong-password" --smtp-host localhost --smtp-port "$S0" --smtp-security starttls \
		--username $A --ca-file "$CA"
	run badpw $A
	expect badpw auth_failed bad_credentials
	check "badpw: 535 5.7.8 from the server" test "$(jget "j['diagnosis']['reply'][:5]")" = 5.7.8
}

# The cases, in order, one a line: NAME [FUNCTION [ARGUMENTS...]] runs
# case_FUNCTION ARGUMENTS..., or case_NAME when no function is given. A
# case may read the files of one above it (pinned: selfsigned; human: ok
# and refused).
CASES="
ok
dns
refused
timeout
hang
ssl_on_starttls
starttls_on_ssl
implicit_ok
no_starttls
expired     cert expired $MAILSTACK_SMTP_EXPIRED_PORT expired --ca-file $CA
wronghost   cert wronghost $MAILSTACK_SMTP_WRONGHOST_PORT hostname_mismatch --ca-file $CA
selfsigned  cert selfsigned $MAILSTACK_SMTP_SELFSIGNED_PORT self_signed --ca-file $CA
untrusted   cert untrusted $S0 untrusted
notyet      cert notyet $MAILSTACK_SMTP_NOTYET_PORT not_yet_valid --ca-file $CA
pinbad      cert pinbad $S0 pin_mismatch --ca-file $CA --pin sha256:0000000000000000000000000000000000000000000000000000000000000000
by_ip
pinned
noauth
authunsup
encrypt
mismatch
ghost
greet421    fault greet421 server_unavailable
greet554    fault greet554 server_unavailable
garbage
drop
rl421       fault rl421 rate_limited
rl450       fault rl450 rate_limited
rl451       fault rl451 rate_limited
rl452       fault rl452 rate_limited
rl550       fault rl550 rate_limited
rl554       fault rl554 rate_limited
pf_rate
pf_msgrate
alt_refused
alt_mismatch
human
all
badpw
"

run_cases "$CASES"
finish
