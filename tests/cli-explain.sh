#!/bin/bash
# `fluenzr-tui explain`: the diagnosis of a reply pasted from a log. Every
# corpus entry (tests/diag-corpus.tsv) explained as a sending system would
# call it gets the entry's category and reason; the text and JSON outputs,
# stdin, the inferred step, --account, the exit statuses, and hostile input.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

need /usr/bin/python3
setup_home
export FLUENZR_PRESET_DIR="$top_srcdir/presets"
F="$FLUENZR"
CORPUS="$top_srcdir/tests/diag-corpus.tsv"

# ---- every corpus entry, given on stdin with its step and preset ----
n=0 good=0
while IFS=$'\t' read -r id _ proto step preset cat reason _ _ reply; do
	case $id in '#'* | '') continue ;; esac
	args=(--json)
	if [ "$proto" = imap ]; then
		args+=(--imap --step "${step#imap_}")
	else
		args+=(--step "$step")
	fi
	[ "$preset" != - ] && args+=(--preset "$preset")
	printf '%b\n' "$reply" | "$F" explain "${args[@]}" - >"$T/out.json" 2>"$T/err"
	got=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1]))["diagnosis"]; print(d["category"] + "/" + d["reason"])' "$T/out.json" 2>/dev/null)
	n=$((n + 1))
	if [ "$got" = "$cat/$reason" ]; then
		good=$((good + 1))
	else
		echo "$id: want $cat/$reason, got ${got:-nothing} $(cat "$T/err")" >&2
	fi
done <"$CORPUS"
check "explain: every corpus entry gets its category and reason ($good of $n)" \
	test "$good" -eq "$n" -a "$n" -ge 100

# ---- the text output ----
out=$("$F" explain --preset office365 '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.')
rc=$?
check "auth_failed exits 77" test "$rc" -eq 77
check "the title and reason" grep -qF "Authentication failed (auth_failed: smtp_auth_disabled)" <<<"$out"
check "what it rests on" grep -qF "based on: 535 5.7.139" <<<"$out"
check "the preset's fix comes first" sh -c 'grep -A1 "what to check:" | grep -q "administrator must enable Authenticated SMTP"' <<<"$out"
check "no password advice for a disabled SMTP AUTH" sh -c '! grep -qi "caps lock"' <<<"$out"

# ---- the JSON shape, as documented ----
"$F" explain --json $'550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\n550-5.4.5 sending limits go to\n550 5.4.5  https://support.google.com/a/answer/166852 - gsmtp' >"$T/j.json"
rc=$?
check "rate_limited exits 75" test "$rc" -eq 75
check "the JSON has the documented shape" $PY - "$T/j.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"account", "ok", "category", "diagnosis"}, d.keys()
assert d["account"] is None and d["ok"] is False and d["category"] == "rate_limited"
g = d["diagnosis"]
assert set(g) == {"category", "reason", "stage", "reply", "evidence", "title",
                  "fixes", "suggestion", "alt_port", "alt_security",
                  "pin_candidate"}, g.keys()
assert g["reason"] == "daily_limit" and g["stage"] == "mail", g
assert g["reply"].startswith("5.4.5 Daily user sending limit exceeded. For more"), g["reply"]
assert "550" not in g["reply"].split(" ")[1:3], g["reply"]
assert g["evidence"].startswith("550 5.4.5"), g["evidence"]
assert isinstance(g["fixes"], list) and "daily" in g["fixes"][0]
assert g["alt_port"] is None and g["pin_candidate"] is None
PYEOF

# ---- the step: inferred, given, IMAP names ----
st() { $PY -c 'import json,sys; print(json.load(sys.stdin)["diagnosis"]["stage"])'; }
check "a 535 is taken at auth" test "$("$F" explain --json '535 5.7.8 Error: authentication failed' | st)" = auth
check "any other code at mail" test "$("$F" explain --json '550 5.7.1 Relaying denied' | st)" = mail
check "--step rcpt" test "$("$F" explain --json --step rcpt '550 5.7.1 Relaying denied' | st)" = rcpt
check "--imap --step select" test "$("$F" explain --json --imap --step select 'A3 BAD User is authenticated but not connected.' | st)" = imap_select
check "--imap alone is login" test "$("$F" explain --json --imap 'a1 NO [AUTHENTICATIONFAILED] Invalid credentials' | st)" = imap_login
check "the reply on stdin, no argument" sh -c 'printf "454 4.7.0 Too many login attempts, please try again later.\n" | "$1" explain --json </dev/stdin | grep -q login_attempts' _ "$F"
check "the same reply gives the same answer at a step where it is not a limit" \
	sh -c '"$1" explain --step rcpt "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown" | grep -q "recipient_rejected: unknown_user"' _ "$F"

# ---- --account: its preset and login ----
printf 'pw-1\n' | "$F" account add --email me@gmail.com --preset gmail --password-stdin >/dev/null ||
	fail "account add"
out=$("$F" explain --account me@gmail.com --json '534-5.7.9 Application-specific password required.')
check "--account: the account's address" grep -qF '"account": "me@gmail.com"' <<<"$out"
check "--account: its preset's hint" grep -qF 'myaccount.google.com/apppasswords' <<<"$out"
"$F" explain --account nobody@example.org 'x 535' >/dev/null 2>&1
check "--account unknown: 66" test $? -eq 66

# ---- usage errors: 64, and nothing on stdout ----
usage() { local o; o=$("$F" explain "$@" 2>/dev/null </dev/null); [ $? -eq 64 ] && [ -z "$o" ]; }
check "unknown option" usage --bogus '535 x'
check "unknown step" usage --step sending '535 x'
check "an IMAP step without --imap" usage --step select '535 x'
check "unknown preset" usage --preset nope '535 x'
check "two replies" usage '535 x' '535 y'
check "an empty reply" usage '   '
check "a reply too long" usage "$(head -c 20000 /dev/zero | tr '\0' a)"
check "a reply too long on stdin (65)" sh -c 'head -c 40000 /dev/zero | tr "\0" a | "$1" explain - >/dev/null 2>&1; test $? -eq 65' _ "$F"
check "a NUL byte on stdin is refused (65)" sh -c 'printf "535 a\0b\n" | "$1" explain - >/dev/null 2>&1; test $? -eq 65' _ "$F"

# ---- hostile words: no control character reaches the terminal ----
"$F" explain $'535 5.7.8 \e[2J\e]0;owned\a bad\r\nthing\x7f' >"$T/hostile.out" 2>&1
check "no escape, BEL, CR or DEL in the output" sh -c '! LC_ALL=C grep -q "$(printf "[\033\007\r\177]")" "$1"' _ "$T/hostile.out"
check "the words are still shown" grep -q "bad" "$T/hostile.out"
finish
