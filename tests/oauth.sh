#!/bin/bash
# OAuth sign-in end to end, on loopback, against real servers: our own
# authorization server (tests/oauth-as.py, HTTPS with the stack's test CA)
# and the mail stack's Dovecot oauth2 passdb (HS256 JWTs checked locally)
# with Postfix delegating SASL to it. The device flow approved by a test
# "user"; a test passing on SMTP and IMAP (OAUTHBEARER, and XOAUTH2
# through a relay that hides OAUTHBEARER from CAPABILITY) with the token; an expired access token refreshed silently with rotation; a
# revoked refresh token and each authorization server error diagnosed; a
# token the mail server refuses; no token in any output or file.
. "$top_srcdir/tests/oauth-common.sh"

A=alice@mail.test

# as_post PATH FORM: a request to the authorization server, as a browser
# or the test's controls would send it.
as_post() {
	"$PY" - "$ASURL$1" "$2" "$CA" <<'PYEOF'
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[3])
urllib.request.urlopen(sys.argv[1], data=sys.argv[2].encode(), context=ctx).read()
PYEOF
}
log_count() { grep -c "$1" "$AS/log" 2>/dev/null || true; }

D=$T/acct
mkdir -p "$D"
F=("$FLUENZR" --store "$D/s" --key-file "$D/k")
check "an OAuth account is added without a password" \
	"${F[@]}" account add --email $A --smtp-host $H \
	--smtp-port "$MAILSTACK_OAUTH_SMTP_PORT" --smtp-security starttls \
	--imap-host $H --imap-port "$MAILSTACK_OAUTH_IMAPS_PORT" --imap-security ssl \
	--ca-file "$CA" --sign-in oauth --oauth-client-id fluenzr-test-client \
	--oauth-token-url "$ASURL/token" --oauth-device-url "$ASURL/device" \
	--oauth-scope "mail offline_access"
check "show says it is not signed in yet" \
	bash -c '"$@" account show '$A' | grep -q "not signed in yet"' _ "${F[@]}"

# A preset brings the provider's endpoints and scopes (the source tree's:
# an installed older copy would override the built-in ones); edit switches
# back.
P=$T/preset
mkdir -p "$P"
FLUENZR_PRESET_DIR=$top_srcdir/presets "$FLUENZR" --store "$P/s" --key-file "$P/k" account add --email me@contoso.com \
	--preset office365 --sign-in oauth --oauth-client-id my-client >/dev/null 2>"$P/err"
"$FLUENZR" --store "$P/s" --key-file "$P/k" account show me@contoso.com --json >"$P/show.json"
check "the office365 preset brings its device endpoint" \
	grep -q '"device_url": *"https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode"' "$P/show.json"
check "and its scopes" grep -q 'IMAP.AccessAsUser.All offline_access' "$P/show.json"
check "account edit --sign-in password drops the OAuth settings" \
	"$FLUENZR" --store "$P/s" --key-file "$P/k" account edit me@contoso.com \
	--sign-in password --no-password
"$FLUENZR" --store "$P/s" --key-file "$P/k" account show me@contoso.com --json >"$P/show2.json"
check "edited: signs in with a password" grep -q '"sign_in": *"password"' "$P/show2.json"
RC=0
"$FLUENZR" --store "$P/s" --key-file "$P/k" account add --email x@contoso.com \
	--smtp-host $H --sign-in oauth --oauth-client-id c \
	--oauth-token-url http://127.0.0.1/token >/dev/null 2>"$P/http.err" || RC=$?
check "a plain http:// token endpoint is refused" test "$RC" = 65
check "a client secret never goes in argv" \
	bash -c '! "$@" account add --email y@contoso.com --preset office365 --sign-in oauth --oauth-client-id c --oauth-client-secret s3cret 2>/dev/null' _ "$FLUENZR" --store "$P/s" --key-file "$P/k"

# A test before signing in says how to sign in.
RC=0
"${F[@]}" test $A >"$D/nosign.out" 2>"$D/nosign.err" || RC=$?
check "a test before sign-in fails with the auth status" test "$RC" = 77
check "and says to sign in with account authorize" \
	grep -q "account authorize $A" "$D/nosign.err"

# authorize NAME ACTION: runs the device flow; the test "user" reads the
# code off the screen and approves or denies it at the server.
authorize() {
	local name=$1 action=$2 uc
	AO=$T/$name.out
	AE=$T/$name.err
	ARC=0
	"${F[@]}" account authorize $A --flow device >"$AO" 2>"$AE" &
	local pid=$!
	wait_for -t 10 bash -c "grep -q '^user code: ' '$AO' || ! kill -0 $pid"
	if grep -q '^user code: ' "$AO"; then
		uc=$(sed -n 's/^user code: //p' "$AO")
		[ "$action" = none ] || as_post /approve "user_code=$uc&action=$action"
	fi
	wait $pid || ARC=$?
}

# ---- the device flow, with slow_down honoured ----
# Tokens of 60 s: with under a minute left a token counts as expired, so
# each test refreshes it first.
as_post /admin "slow_down=1&expires_in=60"
authorize device approve
check "device flow: authorize succeeds" test "$ARC" = 0
check "device flow: the verification address is shown" grep -q "$ASURL/device-login" "$AO"
check "device flow: the code is shown large" grep -qE '^    \|  [0-9] [0-9] ' "$AO"
check "device flow: slow_down was answered and polling went on" \
	test "$(log_count 'token urn:ietf:params:oauth:grant-type:device_code')" -ge 2
check "device flow: signed in" grep -q "^signed in: $A" "$AO"
check "show says signed in" bash -c '"$@" account show '$A' | grep -q "signed in (tokens"' _ "${F[@]}"

# ---- an expired access token is refreshed silently; the test passes on
# SMTP and IMAP with the new one ----
RC=0
"${F[@]}" test $A --json >"$D/ok.json" 2>"$D/ok.err" || RC=$?
check "test with an expired access token passes (SMTP and IMAP)" test "$RC" = 0
check "test: category ok" test "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["category"])' "$D/ok.json")" = ok
check "the expired access token was refreshed first" test "$(log_count 'token refresh_token')" = 1
"${F[@]}" test $A --transcript >"$D/ok.txt" 2>&1 || true
check "SMTP signed in with OAUTHBEARER" grep -q 'smtp.auth.*OAUTHBEARER as alice@mail.test: 235' "$D/ok.txt"
check "IMAP signed in with OAUTHBEARER (offered with XOAUTH2)" grep -q 'imap.login.*OAUTHBEARER as alice@mail.test' "$D/ok.txt"
check "the transcript redacts the SMTP SASL line" grep -q 'C: AUTH OAUTHBEARER <redacted>' "$D/ok.txt"
check "the transcript redacts the IMAP SASL line" grep -q 'AUTHENTICATE OAUTHBEARER <redacted>' "$D/ok.txt"
# The server drops each refresh token it rotates: a second refresh works
# only with the rotated one saved.
check "the second refresh used the rotated refresh token" \
	test "$(log_count 'token refresh_token')" = 2
check "no refresh failure" test ! -s "$D/ok.err"

# ---- the mail server refuses a token the AS issued (and the one
# refreshed after that refusal) ----
as_post /admin "badsig=1"
RC=0
"${F[@]}" test $A --json >"$D/bad.json" 2>"$D/bad.err" || RC=$?
check "a refused token fails with the auth status" test "$RC" = 77
check "reason: the mail server refused the OAuth token" \
	test "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["diagnosis"]["reason"])' "$D/bad.json")" = oauth_token_refused
check "the RFC 7628 error challenge is read" grep -q 'OAuth status' "$D/bad.json"
check "after the refusal the token was refreshed once more" \
	test "$(log_count 'token refresh_token')" = 4

# IMAP: the refusal's RFC 7628 challenge is read and diagnosed, with
# OAUTHBEARER and with XOAUTH2 (the relay hides OAUTHBEARER).
R=$T/relay
mkdir -p "$R"
setsid "$PY" "$top_srcdir/tests/imap-capstrip.py" --cert "$MAILSTACK_CERT_VALID" \
	--key "$MAILSTACK_DIR/certs/leaf.key" --to "$MAILSTACK_OAUTH_IMAPS_PORT" \
	--hide OAUTHBEARER --dir "$R" </dev/null >"$R/out" 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_for test -s "$R/port" || fail "the IMAP relay did not start: $(cat "$R/out")"
RELAY_PORT=$(cat "$R/port")
for mech in OAUTHBEARER XOAUTH2; do
	port=$MAILSTACK_OAUTH_IMAPS_PORT
	[ $mech = XOAUTH2 ] && port=$RELAY_PORT
	"${F[@]}" account edit $A --imap-port "$port" >/dev/null
	RC=0
	"${F[@]}" test $A --imap-only --json >"$D/ibad-$mech.json" 2>"$D/ibad-$mech.err" || RC=$?
	check "IMAP $mech: a refused token fails with the auth status" test "$RC" = 77
	check "IMAP $mech: the mail server refused the OAuth token" \
		test "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["diagnosis"]["reason"])' "$D/ibad-$mech.json")" = oauth_token_refused
	check "IMAP $mech: the RFC 7628 error challenge is read" grep -q 'OAuth status' "$D/ibad-$mech.json"
	[ "$RC" = 77 ] || { echo "# IMAP $mech: status $RC"; cat "$D/ibad-$mech.err" "$D/ibad-$mech.json"; } >&2
done
as_post /admin "badsig=0"
for mech in OAUTHBEARER XOAUTH2; do
	port=$MAILSTACK_OAUTH_IMAPS_PORT
	[ $mech = XOAUTH2 ] && port=$RELAY_PORT
	"${F[@]}" account edit $A --imap-port "$port" >/dev/null
	RC=0
	"${F[@]}" test $A --imap-only --transcript >"$D/imap-$mech.txt" 2>&1 || RC=$?
	check "IMAP $mech: the test passes" test "$RC" = 0
	check "IMAP $mech: signed in with $mech" grep -q "imap.login.*$mech as alice@mail.test" "$D/imap-$mech.txt"
	check "IMAP $mech: the SASL line is redacted" grep -q "AUTHENTICATE $mech <redacted>" "$D/imap-$mech.txt"
done
"${F[@]}" account edit $A --imap-port "$MAILSTACK_OAUTH_IMAPS_PORT" >/dev/null

# ---- each authorization server error, on refresh, to its diagnosis ----
# as_error NAME ERROR DESCRIPTION EXPECTED-TEXT: the next refresh fails so.
as_error() {
	local name=$1 err=$2 desc=$3 want=$4
	as_post /admin "error=$err&description=$desc"
	RC=0
	"${F[@]}" test $A >"$T/$name.out" 2>"$T/$name.err" || RC=$?
	check "$name: the test fails" test "$RC" -ne 0
	check "$name: diagnosed ($want)" grep -qF "$want" "$T/$name.err"
}
as_error public_client invalid_client "AADSTS7000218: The request body must contain client_secret" \
	'Allow public client flows'
as_error secret_not_allowed invalid_client "AADSTS700025: Client is public so neither client_assertion nor client_secret should be presented" \
	'A public client must not send a client secret'
as_error redirect invalid_request "AADSTS50011: The redirect URI does not match" \
	'redirect address is not registered'
as_error unknown_app unauthorized_client "AADSTS700016: Application not found in the directory" \
	'The client ID is not known to this tenant'
as_error consent invalid_grant "AADSTS65001: The user or administrator has not consented" \
	'Consent or an administrator'
as_error client invalid_client "bad client" 'does not accept this client'
as_error scope invalid_scope "scope not allowed" 'refused the scopes'

# ---- a revoked refresh token ----
as_post /admin "revoke=1"
RC=0
"${F[@]}" test $A >"$D/revoked.out" 2>"$D/revoked.err" || RC=$?
check "revoked: the test fails with the auth status" test "$RC" = 77
check "revoked: the sign-in is no longer valid" grep -q 'The sign-in is no longer valid' "$D/revoked.err"
check "revoked: the fix is to authorize again" grep -q "fix: .*account authorize $A" "$D/revoked.err"
check "revoked: Google's 7-day Testing apps are named" grep -q '7 days' "$D/revoked.err"

# ---- the device flow's refusals ----
authorize denied deny
check "device flow denied: fails" test "$ARC" -ne 0
check "device flow denied: diagnosed" grep -q 'refused in the browser' "$AE"
as_post /admin "expire_device=1"
authorize expired none &
bg=$!
wait_for grep -q '^user code: ' "$T/expired.out"
as_post /admin "expire_device=1"
wait $bg
check "device flow expired: diagnosed" grep -q 'The code expired' "$T/expired.err"
as_post /admin "error=invalid_scope&description=Google+device+flow"
authorize scope_device none
check "device flow refused for the scope: diagnosed" grep -q 'refused the scopes' "$AE"

# ---- sign in again after the revocation; it works ----
as_post /admin "expires_in=3600"
authorize again approve
n=$(log_count 'token refresh_token')
check "authorize again after revocation" test "$ARC" = 0
RC=0
"${F[@]}" test $A >"$D/again.out" 2>&1 || RC=$?
check "after signing in again the test passes" test "$RC" = 0
check "a good access token is used as is (no refresh)" test "$(log_count 'token refresh_token')" = "$n"

# ---- no token anywhere: outputs, transcripts, JSON, the store files ----
no_leak "$T"/*.out "$T"/*.err "$D"/*.json "$D"/*.out "$D"/*.err "$D"/*.txt "$D/s" "$D/k"

finish
