#!/bin/bash
# TLS 1.2 or later by default (RFC 8996): a server that speaks only TLS 1.0
# or 1.1, with a certificate that is otherwise valid (the mail stack's CA),
# never receives the password, and the diagnosis says why and names the
# option; with --allow-old-tls (stored in the account) the test connects,
# signs in and warns. A TLS 1.2 server works without the option.
. "${top_srcdir:-$(dirname "$0")/..}/tests/probe-common.sh"
A=user@example.org
PW='Old-Tls-Canary-Pw-7'
KEY=$(dirname "$MAILSTACK_CERT_VALID")/leaf.key

# server VERSION: an implicit-TLS SMTP server speaking only that version;
# sets PORT and LOG.
server() {
	local v=$1
	LOG=$T/srv-$v.log
	: >"$LOG"
	"$PY" "$top_srcdir/tests/oldtls-server.py" "$T/port-$v" "$LOG" \
		"$MAILSTACK_CERT_VALID" "$KEY" "$v" 2>"$T/srv-$v.err" &
	at_exit "kill $!"
	wait_for -t 10 test -s "$T/port-$v" || fail "the TLS $v server did not start: $(cat "$T/srv-$v.err")"
	PORT=$(cat "$T/port-$v")
}

# received_pw: the server received AUTH, or the password in any form.
received_auth() { grep -qiE '^AUTH' "$LOG"; }

for v in 1.0 1.1; do
	server $v
	name=old${v/./}
	mk $name $A "$PW" --smtp-host localhost --smtp-port "$PORT" --smtp-security ssl --ca-file "$CA"
	run $name $A --no-send --timeout 5
	expect $name tls_mismatch old_tls_only
	check "TLS $v: no AUTH reached the server" sh -c '! grep -qiE "^AUTH" "$1"' _ "$LOG"
	check "TLS $v: the client never sent AUTH" no_auth_sent
	check "TLS $v: the fixes name old TLS and the option" \
		sh -c 'grep -q "TLS 1.0 or 1.1" "$1" && grep -q -- "--allow-old-tls" "$1"' _ "$D/out.json"
	check "TLS $v: the password is nowhere in the output" sh -c '! grep -qF -- "$1" "$2" "$3"' _ "$PW" "$D/out.json" "$D/err"

	# The option, stored in the account: connects, signs in, warns.
	"$FLUENZR" --store "$D/s" --key-file "$D/k" account edit $A --allow-old-tls \
		>/dev/null 2>"$D/edit.err"
	check "TLS $v: account edit --allow-old-tls succeeds" test $? = 0
	check "TLS $v: the edit warns about the risk" grep -q "RFC 8996" "$D/edit.err"
	check "TLS $v: account show says old TLS is allowed" \
		sh -c '"$1" --store "$2/s" --key-file "$2/k" account show "$3" | grep -q "old tls: *allowed"' _ "$FLUENZR" "$D" $A
	check "TLS $v: account show --json has allow_old_tls" \
		sh -c '"$1" --store "$2/s" --key-file "$2/k" account show "$3" --json | grep -q "\"allow_old_tls\": true"' _ "$FLUENZR" "$D" $A
	run $name $A --no-send --timeout 5
	expect $name ok
	# Python names TLS 1.0 "TLSv1".
	check "TLS $v with the option: the server saw the TLS $v handshake" \
		grep -qx "HANDSHAKE-OK TLSv${v%.0}" "$LOG"
	check "TLS $v with the option: the transcript warns" \
		test "$(jget "any('obsolete' in l['text'] for l in j['transcript'])")" = True
	# And off again.
	"$FLUENZR" --store "$D/s" --key-file "$D/k" account edit $A --no-allow-old-tls >/dev/null 2>&1
	run $name $A --no-send --timeout 5
	expect $name tls_mismatch old_tls_only
done

# A TLS 1.2 server needs no option.
server 1.2
mk new12 $A "$PW" --smtp-host localhost --smtp-port "$PORT" --smtp-security ssl --ca-file "$CA"
run new12 $A --no-send --timeout 5
expect new12 ok
check "TLS 1.2: the server saw AUTH" received_auth
check "TLS 1.2: no old-TLS warning" test "$(jget "any('obsolete' in l['text'] for l in j['transcript'])")" = False
finish
