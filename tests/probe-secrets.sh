#!/bin/bash
# No password leaves the process in clear text except on the wire: neither
# the password nor its AUTH PLAIN or AUTH LOGIN base64 forms appear on
# stdout, stderr, in --transcript, --json or the store files; both with
# AUTH PLAIN (Postfix, IMAP LOGIN to Dovecot) and AUTH LOGIN (a server that
# offers nothing else), with a right and with a wrong password.
. "$top_srcdir/tests/probe-common.sh"

A=alice@mail.test
PW=$MAILSTACK_ALICE_PASS
BAD="Wrong-But-Secret-42"

# The forms a password takes on the wire.
forms() {
	$PY - "$1" "$2" <<'PYEOF'
import base64, sys
user, pw = sys.argv[1].encode(), sys.argv[2].encode()
print(pw.decode())
print(base64.b64encode(b"\0" + user + b"\0" + pw).decode())
print(base64.b64encode(pw).decode())
PYEOF
}

# leak_free CASE USER PASSWORD FILES...: none of the forms in any file.
leak_free() {
	local name=$1 user=$2 pw=$3 f form found=
	shift 3
	while read -r form; do
		for f in "$@"; do
			if grep -rqaF -- "$form" "$f"; then
				found="$found $f"
			fi
		done
	done < <(forms "$user" "$pw")
	check "$name: no password form in$(printf ' %s' "${@##*/}")" test -z "$found"
	[ -z "$found" ] || echo "leaked into:$found" >&2
}

run_all_outputs() {
	local name=$1
	D=$T/$name
	"$FLUENZR" --store "$D/s" --key-file "$D/k" test $A --transcript >"$D/human.out" 2>"$D/human.err" || true
	"$FLUENZR" --store "$D/s" --key-file "$D/k" test $A --json >"$D/json.out" 2>"$D/json.err" || true
	"$FLUENZR" --store "$D/s" --key-file "$D/k" test --all --json >"$D/all.out" 2>"$D/all.err" || true
}

# ---- AUTH PLAIN to Postfix and IMAP LOGIN to Dovecot, right password ----
mk plain $A "$PW" --username $A --smtp-host localhost --smtp-port "$MAILSTACK_SMTP_STARTTLS_PORT" \
	--smtp-security starttls --ca-file "$CA" \
	--imap-host localhost --imap-port "$MAILSTACK_IMAP_PORT" --imap-security starttls
run_all_outputs plain
D=$T/plain
check "plain: the test passed (so AUTH PLAIN and LOGIN really ran)" test "$($PY -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["category"], j["reply_detection"])' "$D/json.out")" = "ok True"
check "plain: transcript shows the redacted AUTH" grep -q 'AUTH PLAIN <redacted>' "$D/human.out"
check "plain: transcript shows the redacted IMAP LOGIN" grep -q 'LOGIN <redacted> <redacted>' "$D/human.out"
leak_free plain $A "$PW" "$D/human.out" "$D/human.err" "$D/json.out" "$D/json.err" \
	"$D/all.out" "$D/all.err" "$D/s" "$D/k"

# ---- AUTH LOGIN to a server that offers nothing else ----
LS=$T/login-server
"$PY" "$top_srcdir/tests/security-server.py" "$LS.port" "$LS.log" $A "$PW" LOGIN 2>"$LS.err" &
LSPID=$!
at_exit "kill $LSPID"
wait_for -t 10 test -s "$LS.port" || fail "the LOGIN-only server did not start"
read -r LPORT _ <"$LS.port"
mk login $A "$PW" --username $A --smtp-host $H --smtp-port "$LPORT" --smtp-security none --allow-plain
run_all_outputs login
D=$T/login
check "login: the test passed over AUTH LOGIN" test "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["category"])' "$D/json.out")" = ok
check "login: the server got the password's base64 (the form we look for)" \
	grep -qF "$(forms $A "$PW" | sed -n 3p)" "$LS.log"
check "login: each continuation line redacted" test "$(grep -c ' C: <redacted>$' "$D/human.out")" = 2
leak_free login $A "$PW" "$D/human.out" "$D/human.err" "$D/json.out" "$D/json.err" \
	"$D/all.out" "$D/all.err" "$D/s" "$D/k"

mk login_bad $A "$BAD" --username $A --smtp-host $H --smtp-port "$LPORT" --smtp-security none --allow-plain
run_all_outputs login_bad
D=$T/login_bad
check "login_bad: auth_failed" test "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["category"])' "$D/json.out")" = auth_failed
leak_free login_bad $A "$BAD" "$D/human.out" "$D/human.err" "$D/json.out" "$D/json.err" \
	"$D/all.out" "$D/all.err" "$D/s" "$D/k"

# ---- a wrong password over AUTH PLAIN (last: Dovecot slows logins after) ----
mk plain_bad $A "$BAD" --username $A --smtp-host localhost --smtp-port "$MAILSTACK_SMTP_STARTTLS_PORT" \
	--smtp-security starttls --ca-file "$CA"
D=$T/plain_bad
"$FLUENZR" --store "$D/s" --key-file "$D/k" test $A --transcript >"$D/human.out" 2>"$D/human.err" || true
"$FLUENZR" --store "$D/s" --key-file "$D/k" test $A --json >"$D/json.out" 2>"$D/json.err" || true
check "plain_bad: auth_failed" test "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["category"])' "$D/json.out")" = auth_failed
leak_free plain_bad $A "$BAD" "$D/human.out" "$D/human.err" "$D/json.out" "$D/json.err" "$D/s" "$D/k"

finish
