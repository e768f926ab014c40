#!/bin/bash
# The console's OAuth sign-in, end to end on loopback: an OAuth account,
# "o" on the list runs the device flow on a worker while the screen shows
# the address and the code large; a test "user" approves the code at our
# authorization server (tests/oauth-as.py); the screen says signed in and
# a test then passes on SMTP and IMAP (the stack's OAuth Dovecot, Postfix
# delegating SASL to it) with the sealed token. Esc cancels a pending
# sign-in. An expired token is refreshed on the test's worker (the screen
# answers a key while the server holds the refresh; Esc drops it), the
# rotated refresh token is saved, and a token the mail server refuses is
# refreshed once more and the test passes. The loopback flow from the
# picker, through a real ssh -L tunnel to a private sshd, and the paste
# flow, each also cancelled with Esc. No token or code on any screen.
. "$top_srcdir/tests/oauth-common.sh"
. "$top_srcdir/tests/tuilib.sh"
need ssh ssh-keygen
[ -x /usr/sbin/sshd ] || skip_or_fail "sshd (openssh-server) is not installed"

A=alice@mail.test
export FLUENZR_STORE="$STORE" FLUENZR_KEY_FILE="$KEYFILE"
log_count() { grep -c "$1" "$AS/log" 2>/dev/null || true; }
export LANG=C.UTF-8 LC_ALL=C.UTF-8
unset NO_COLOR
CAPS=$T/captures
mkdir -p "$CAPS"
# cap NAME: keeps the whole screen, with scrollback, for the leak check.
cap() { tm capture-pane -p -J -S -200 >"$CAPS/$1.txt" 2>/dev/null; }

as_post() {
	"$PY" - "$ASURL$1" "$2" "$CA" <<'PYEOF'
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[3])
urllib.request.urlopen(sys.argv[1], data=sys.argv[2].encode(), context=ctx).read()
PYEOF
}

# The provider's OAuth endpoints come with its preset, as Gmail's and
# Microsoft's do; this one is our authorization server's.
export FLUENZR_PRESET_DIR=$T/presets
mkdir -p "$FLUENZR_PRESET_DIR"
cat >"$FLUENZR_PRESET_DIR/testoauth.preset" <<EOP
id = testoauth
name = Test OAuth
domains = mail.test
smtp = $H $MAILSTACK_OAUTH_SMTP_PORT starttls
imap = $H $MAILSTACK_OAUTH_IMAPS_PORT ssl
app_password = no
oauth_token_url = $ASURL/token
oauth_device_url = $ASURL/device
oauth_auth_url = $ASURL/authorize
oauth_scope = mail offline_access
oauth_flows = device loopback paste
EOP
# The loopback flow's fixed port, and the laptop's end of its tunnel.
P=$(free_port 31500)
LP=$(free_port 33500)
export FLUENZR_OAUTH_PORT=$P
start_sshd

# The account is added in the form: the preset offered for the address,
# the CA file, then Sign-in OAuth and the client ID in the password row.
tui_start -y 60 "$FLUENZR"
wait_screen "No accounts yet."
keys a
wait_title "Email Accounts > + SMTP"
type_text "$A"
keys Tab
wait_screen "Use preset Test OAuth? y/n"
keys y
wait_screen "Preset Test OAuth applied."
# From Display name to CA file.
for _ in $(seq 11); do keys Tab; done
type_text "$CA"
keys Tab Tab Tab
wait_screen "Space/Left/Right: password, or OAuth"
keys Space
wait_screen "< OAuth >"
wait_screen "OAuth with Test OAuth: save"
check "OAuth hides the password fields" \
	bash -c '! tmux -u -L "$1" capture-pane -p | grep -qE "^ +(IMAP )?[Pp]assword "' _ "$TUI_SOCK"
keys Tab
wait_screen "The client ID of your own app registration"
type_text "fluenzr-test-client"
keys Tab
type_text "not-a-real-secret-7"
wait_screen "*******************"
check "the client secret is masked" \
	bash -c '! tmux -u -L "$1" capture-pane -p | grep -qF "not-a-real-secret-7"' _ "$TUI_SOCK"
keys C-s
wait_screen "Saved $A: press o to sign it in."
cap added
"$FLUENZR" account show $A --json >"$T/show.json"
check "saved as an OAuth account" grep -q '"sign_in": *"oauth"' "$T/show.json"
check "with the preset's token endpoint" grep -qF "\"$ASURL/token\"" "$T/show.json"
check "and the client ID" grep -qF '"fluenzr-test-client"' "$T/show.json"
check "and its client secret, sealed" grep -q '"has_client_secret": *true' "$T/show.json"
check "the client secret is in no store file in clear" \
	bash -c '! grep -rqaF not-a-real-secret-7 "$1"' _ "$STORE"

# A pending sign-in is cancelled with Esc: nothing is sealed.
keys o
wait_title "Email Accounts > Sign in"
wait_screen "How?"
cap picker
check "the picker marks the provider's first flow" grep -qE '^ +> d  device code' "$CAPS/picker.txt"
keys d
wait_screen "user code: " 15
cap pending
s=$(screen)
check "the verification address is shown" grep -qF "$ASURL/device-login" <<<"$s"
check "the code is shown large, spaced out" grep -qE '│  [0-9] [0-9] [0-9] ' <<<"$s"
check "the wait says Esc cancels" grep -qF "Esc cancels" <<<"$s"
keys Escape
wait_title "Email Accounts"
wait_screen "Sign-in cancelled."
check "cancelled: the account is still not signed in" \
	bash -c '"$FLUENZR" account show '$A' | grep -q "not signed in yet"'

# Signed in: the test "user" approves the code read off the screen.
keys o
wait_title "Email Accounts > Sign in"
wait_screen "How?"
keys Enter
wait_screen "user code: " 15
uc=$(screen | sed -n 's/^ *user code: \([^ ]*\).*/\1/p' | head -n1)
check "a user code was read off the screen" test -n "$uc"
# Tokens of 30 s: with under a minute left a token counts as expired, so
# each test refreshes it first.
as_post /admin "expires_in=30"
as_post /approve "user_code=$uc&action=approve"
wait_screen "Signed in: $A" 20
cap signed
check "the sign-in is shown as done" grep -qF "tokens encrypted in the store" "$CAPS/signed.txt"
check "the account is signed in" \
	bash -c '"$FLUENZR" account show '$A' | grep -q "signed in (tokens"'
keys Escape
wait_title "Email Accounts"

# A test with the sealed token passes on SMTP and IMAP.
keys t
wait_title "Live diagnostics"
wait_screen "Everything works." 30
cap tested
check "SMTP signed in with the token" grep -qE 'smtp.auth .*OAUTHBEARER as alice@mail.test: 235' "$CAPS/tested.txt"
check "IMAP signed in with the token" grep -qE 'imap.login .*OAUTHBEARER as alice@mail.test' "$CAPS/tested.txt"
keys l
wait_screen "Transcript (credentials redacted)"
# The pane follows the end: page up to the sign-in lines.
for _ in 1 2 3 4; do
	screen | grep -qF "<redacted>" && break
	keys PPage
	sleep 0.2
done
cap transcript
check "the transcript redacts the SASL line" \
	grep -qE "AUTH(ENTICATE)? (XOAUTH2|OAUTHBEARER) <redacted>" "$CAPS/transcript.txt"
keys Escape
wait_title "Email Accounts"
check "the expired token was refreshed before the test" test "$(log_count 'token refresh_token')" = 1

# The refresh runs on the test's worker: held 6 s by the authorization
# server, the screen still answers a key (help drawn) before it ends.
as_post /admin "delay=6"
keys t
wait_title "Live diagnostics"
wait_for -t 10 grep -q "token delayed 6" "$AS/log"
keys ?
wait_screen " Keys " 3
cap help-during-refresh
check "help was drawn while the refresh was held" \
	bash -c '! grep -q "token delay over" "$1"' _ "$AS/log"
keys Escape
wait_screen "Everything works." 30
check "the held refresh was answered, not dropped" grep -q "token delay over" "$AS/log"
check "the test refreshed the token once more" test "$(log_count 'token refresh_token')" = 2
# The server drops each refresh token it rotates: this refresh works only
# with the one the last refresh rotated saved.
keys r
wait_for -t 15 bash -c '[ "$(grep -c "token refresh_token" "$1")" = 3 ]' _ "$AS/log"
wait_screen "Everything works." 30
cap rotated
check "the rotated refresh token was saved (a second refresh worked)" \
	bash -c '! grep -q "invalid_grant\|not saved" "$1"' _ "$CAPS/rotated.txt"
keys Escape
wait_title "Email Accounts"

# Esc cancels a refresh in progress: the request is dropped at once (the
# server finds the client gone when its delay ends).
as_post /admin "delay=5"
keys t
wait_title "Live diagnostics"
wait_for -t 10 grep -q "token delayed 5" "$AS/log"
keys Escape
wait_title "Email Accounts" 3
wait_for -t 10 grep -q "token abandoned" "$AS/log"
check "Esc dropped the refresh in progress" grep -q "token abandoned" "$AS/log"

# The mail server refuses the next token issued (signed with a key it does
# not have): the test refreshes once more and passes, and says so.
as_post /admin "expires_in=3600&badsig_once=1"
keys t
wait_title "Live diagnostics"
wait_screen "Everything works." 30
cap retried
check "the test says it retried with a fresh token" \
	grep -qF "The OAuth token was refused: it was refreshed and the test run once more." "$CAPS/retried.txt"
check "the refused token and the retry's each came from a refresh" \
	test "$(log_count 'token refresh_token')" = 5
keys l
wait_screen "Transcript (credentials redacted)"
cap retried-transcript
keys Escape
wait_title "Email Accounts"

# The sign-in address as the screen shows it, its wrapped lines joined.
screen_url() {
	screen | awk -v a="$ASURL/authorize" 'index($0, "  " a) == 1 { on = 1 }
		on && /^ *$/ { exit } on { sub(/^ +/, ""); sub(/ +$/, ""); printf "%s", $0 }'
}

# The loopback flow from the console: the exact ssh -L line, the address;
# the browser comes back through a real tunnel to the test sshd.
keys o
wait_screen "How?"
keys l
wait_screen "Waiting for the browser" 15
cap loopback
check "loopback: the exact ssh -L line is shown" \
	grep -qE "^ +ssh -L $P:127.0.0.1:$P [^ ]+@[^ ]+ *$" "$CAPS/loopback.txt"
url=$(screen_url)
check "loopback: the whole address, with PKCE S256 and state" \
	bash -c '[[ $1 == *code_challenge_method=S256* && $1 == *state=* ]]' _ "$url"
tunnel "$LP" "$P"
loc=$(browser "$url")
page=$(via_tunnel "$loc" "$P" "$LP")
check "loopback: the browser, through the tunnel, gets the done page" grep -q 'go back to the terminal' <<<"$page"
wait_screen "Signed in: $A" 20
n=$(log_count 'token authorization_code')
check "loopback: the code was exchanged" test "$n" = 1
keys Escape
wait_title "Email Accounts"

# Esc cancels a loopback wait: the redirect port is closed again.
keys o
wait_screen "How?"
keys l
wait_screen "Waiting for the browser" 15
check "loopback: the redirect port listens while it waits" port_listening "$P"
keys Escape
wait_title "Email Accounts"
wait_screen "Sign-in cancelled."
not_listening() { ! port_listening "$1"; }
wait_for not_listening "$P"
check "loopback cancelled: the redirect port is closed" not_listening "$P"

# The paste flow: the address the browser ended on goes in a field that
# shows none of it.
keys o
wait_screen "How?"
keys p
wait_screen "Paste the address" 15
check "paste: nothing listens on the redirect port" not_listening "$P"
url=$(screen_url)
loc=$(browser "$url")
check "paste: the AS redirected with a code" bash -c '[[ $1 == *code=* ]]' _ "$loc"
type_text "$loc"
cap pasting
check "paste: the pasted address is not shown" bash -c '! grep -qF "code=" "$1"' _ "$CAPS/pasting.txt"
keys Enter
wait_screen "Signed in: $A" 20
check "paste: the code was exchanged" test "$(log_count 'token authorization_code')" = 2
keys Escape
wait_title "Email Accounts"

# Esc in the paste field cancels the sign-in.
keys o
wait_screen "How?"
keys p
wait_screen "Paste the address" 15
keys Escape
wait_screen "Sign-in cancelled."
keys Escape
wait_title "Email Accounts"
check "paste cancelled: no code exchanged" test "$(log_count 'token authorization_code')" = 2

# Signed in through the browser flows, a test passes.
keys t
wait_title "Live diagnostics"
wait_screen "Everything works." 30
keys Escape
wait_title "Email Accounts"
keys ?
wait_screen "Sign the selected OAuth account in"
cap help
keys Escape
keys q
wait_for -t 10 test -e "$T/rc"
check "the console exits cleanly" test "$(cat "$T/rc")" = 0
no_leak "$CAPS"
check "the client secret is on no screen" bash -c '! grep -rqF not-a-real-secret-7 "$1"' _ "$CAPS"
finish
