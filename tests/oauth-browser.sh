#!/bin/bash
# OAuth's authorization code flows for a server without a browser, end to
# end on loopback: PKCE S256 and state, checked by tests/oauth-as.py.
# loopback: the redirect comes back to 127.0.0.1:PORT on the server through
# a real `ssh -L` tunnel to a private sshd (the "laptop" side of the tunnel
# on another port, as both ends share this machine); paste: the address the
# browser ended on is pasted back. Then a test passes on SMTP and IMAP with
# the tokens, and none of them or the codes is in any output or file.
. "$top_srcdir/tests/oauth-common.sh"
need ssh ssh-keygen
[ -x /usr/sbin/sshd ] || skip_or_fail "sshd (openssh-server) is not installed"

A=alice@mail.test

start_sshd

D=$T/acct
mkdir -p "$D"
F=("$FLUENZR" --store "$D/s" --key-file "$D/k")
"${F[@]}" account add --email $A --smtp-host $H \
	--smtp-port "$MAILSTACK_OAUTH_SMTP_PORT" --smtp-security starttls \
	--imap-host $H --imap-port "$MAILSTACK_OAUTH_IMAPS_PORT" --imap-security ssl \
	--ca-file "$CA" --sign-in oauth --oauth-client-id fluenzr-test-client \
	--oauth-token-url "$ASURL/token" --oauth-auth-url "$ASURL/authorize" \
	--oauth-scope "mail offline_access" >/dev/null 2>"$D/add.err" ||
	fail "account add: $(cat "$D/add.err")"

# ---- loopback, through ssh -L ----
P=$(free_port 31000)
LP=$(free_port 33000)
AO=$T/loop.out
"${F[@]}" account authorize $A --flow loopback --port "$P" >"$AO" 2>"$T/loop.err" &
APID=$!
wait_for grep -q "$ASURL/authorize" "$AO" || fail "no sign-in address: $(cat "$T/loop.err")"
check "loopback: the exact ssh -L command is printed" \
	grep -qE "^    ssh -L $P:127.0.0.1:$P [^ ]+@[^ ]+$" "$AO"
url=$(sign_in_url "$AO")
check "loopback: PKCE S256 and state are in the address" \
	bash -c '[[ $1 == *code_challenge_method=S256* && $1 == *state=* && $1 == *code_challenge=* ]]' _ "$url"
# The laptop's end of the tunnel: LP here, as P itself is taken by the
# program on this same machine.
tunnel "$LP" "$P"
loc=$(browser "$url")
check "loopback: the AS redirects to 127.0.0.1:$P" bash -c '[[ $1 == http://127.0.0.1:'"$P"'/\?code=* ]]' _ "$loc"
page=$(via_tunnel "$loc" "$P" "$LP")
check "loopback: the browser, through the tunnel, gets the done page" grep -q 'go back to the terminal' <<<"$page"
ARC=0
wait $APID || ARC=$?
check "loopback: authorize succeeds" test "$ARC" = 0
check "loopback: signed in" grep -q "^signed in: $A" "$AO"
kill $SSH_PID 2>/dev/null
check "PKCE verified by the AS (code grant logged)" grep -q 'token authorization_code' "$AS/log"

RC=0
"${F[@]}" test $A --transcript >"$D/t1.out" 2>&1 || RC=$?
check "after loopback sign-in the test passes on SMTP and IMAP" test "$RC" = 0

# ---- paste ----
P2=$(free_port 34000)
mkfifo "$T/paste.in"
"${F[@]}" account authorize $A --flow paste --port "$P2" <"$T/paste.in" >"$T/paste.out" 2>"$T/paste.err" &
APID=$!
exec 7>"$T/paste.in"
wait_for grep -q "$ASURL/authorize" "$T/paste.out" || fail "no sign-in address (paste)"
not_listening() { ! port_listening "$1"; }
check "paste: nothing listens on the redirect port" not_listening "$P2"
loc=$(browser "$(sign_in_url "$T/paste.out")")
echo "$loc" >&7
exec 7>&-
ARC=0
wait $APID || ARC=$?
check "paste: authorize succeeds" test "$ARC" = 0
RC=0
"${F[@]}" test $A >"$D/t2.out" 2>&1 || RC=$?
check "after the paste sign-in the test passes" test "$RC" = 0

# ---- a forged or foreign redirect, and a refusal ----
mkfifo "$T/forge.in"
"${F[@]}" account authorize $A --flow paste --port "$P2" <"$T/forge.in" >"$T/forge.out" 2>"$T/forge.err" &
APID=$!
exec 7>"$T/forge.in"
wait_for grep -q "$ASURL/authorize" "$T/forge.out"
loc=$(browser "$(sign_in_url "$T/forge.out")")
echo "${loc%%&state=*}&state=not-ours" >&7
exec 7>&-
ARC=0
wait $APID || ARC=$?
check "paste: a redirect with another state is refused" test "$ARC" -ne 0
check "paste: and said so" grep -q 'state differs' "$T/forge.err"

mkfifo "$T/deny.in"
"${F[@]}" account authorize $A --flow paste --port "$P2" <"$T/deny.in" >"$T/deny.out" 2>"$T/deny.err" &
APID=$!
exec 7>"$T/deny.in"
wait_for grep -q "$ASURL/authorize" "$T/deny.out"
browser "$(sign_in_url "$T/deny.out")" deny >&7
exec 7>&-
ARC=0
wait $APID || ARC=$?
check "paste: a refusal in the browser is diagnosed" grep -q 'refused in the browser' "$T/deny.err"

# ---- no token or code anywhere ----
no_leak "$T"/*.out "$T"/*.err "$D"/*.out "$D/s" "$D/k"

finish
