#!/bin/bash
# A password that needs escaping everywhere (a quote, a backslash, a space,
# UTF-8, and base64-looking text) is still redacted in every output of
# `test`: human, --transcript, --json, --all --json, and stderr; in every
# form it takes: as typed, JSON-escaped (both ways), IMAP-quoted, and the
# base64 of AUTH PLAIN and AUTH LOGIN. Against a loopback server that checks
# the credentials (so the password really went out, in the forms we look
# for), with a right and a wrong password, over PLAIN and over LOGIN.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need "$PY"
setup_home
F="$FLUENZR"
U=u@example.org
PW='Sec"ret\pw Zoë+/Zm9vYmFy=='
BAD='W"rong\pw Ünï+/YmFyYmF6=='

# The forms a password takes, one a line.
forms() {
	"$PY" - "$U" "$1" <<'PYEOF'
import base64, json, sys
user, pw = sys.argv[1], sys.argv[2]
u, p = user.encode(), pw.encode()
print(pw)
print(json.dumps(pw)[1:-1])
print(json.dumps(pw, ensure_ascii=False)[1:-1])
print(pw.replace("\\", "\\\\").replace('"', '\\"'))
print(base64.b64encode(b"\0" + u + b"\0" + p).decode())
print(base64.b64encode(p).decode())
# a piece of it, in case something splits it at the space
print(pw.split(" ")[0])
# as sanitising would show it (C1 controls as '?'), and the pieces around
# them
import re
c1 = "[\x80-\x9f]"
if re.search(c1, pw):
    print(re.sub(c1, "?", pw))
    for piece in re.split(c1, pw):
        if len(piece) >= 6:
            print(piece)
PYEOF
}

# serve NAME MECHS EXPECTED-PASSWORD: a server; sets SP, IP (its ports).
serve() {
	local d=$T/$1
	mkdir -p "$d"
	"$PY" "$top_srcdir/tests/security-server.py" "$d/port" "$d/log" "$U" "$3" "$2" 2>"$d/server.err" &
	at_exit "kill $!"
	wait_for -t 10 test -s "$d/port" || fail "the test server did not start"
	read -r SP IP <"$d/port"
}

# run NAME STORED-PASSWORD: adds the account to a store of its own, runs
# every output of `test`.
run() {
	local d=$T/$1 pw=$2
	printf '%s\n' "$pw" | "$F" --store "$d/s" --key-file "$d/k" account add --email $U \
		--smtp-host 127.0.0.1 --smtp-port "$SP" --smtp-security none --allow-plain \
		--imap-host 127.0.0.1 --imap-port "$IP" --imap-security none \
		--password-stdin >"$d/add.out" 2>"$d/add.err" || fail "account add: $(cat "$d/add.err")"
	"$F" --store "$d/s" --key-file "$d/k" test $U >"$d/human.out" 2>"$d/human.err"
	"$F" --store "$d/s" --key-file "$d/k" test $U --transcript >"$d/tr.out" 2>"$d/tr.err"
	"$F" --store "$d/s" --key-file "$d/k" test $U --json >"$d/json.out" 2>"$d/json.err"
	"$F" --store "$d/s" --key-file "$d/k" test --all --json >"$d/all.out" 2>"$d/all.err"
	"$F" --store "$d/s" --key-file "$d/k" account show $U --json >"$d/show.out" 2>"$d/show.err"
	# the IMAP side alone, for a refusal from the IMAP server
	"$F" --store "$d/s" --key-file "$d/k" test $U --imap-only --transcript >"$d/imap-tr.out" 2>"$d/imap-tr.err"
	"$F" --store "$d/s" --key-file "$d/k" test $U --imap-only --json >"$d/imap-json.out" 2>"$d/imap-json.err"
}

category() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["category"])' "$1"; }

# leak_free NAME PASSWORD: none of its forms in any output of NAME.
leak_free() {
	local d=$T/$1 form f found=
	while IFS= read -r form; do
		for f in "$d"/*.out "$d"/*.err "$d/s" "$d/k"; do
			grep -rqaF -- "$form" "$f" && found="$found ${f##*/}:$form"
		done
	done < <(forms "$2")
	check "$1: no form of the password in any output or file" test -z "$found"
	[ -z "$found" ] || echo "leaked:$found" >&2
}

# ---- AUTH PLAIN and IMAP LOGIN (quoted), the right password ----
serve plain "PLAIN LOGIN" "$PW"
run plain "$PW"
D=$T/plain
check "plain: the test passed (the password arrived intact)" test "$(category "$D/json.out")" = ok
check "plain: the server saw SMTP and IMAP sign-ins succeed, none fail" \
	sh -c 'grep -q "^AUTH-OK smtp" "$1" && grep -q "^AUTH-OK imap" "$1" &&
	       ! grep -q "^AUTH-BAD" "$1"' _ "$D/log"
check "plain: the PLAIN base64 form is what crossed the wire" \
	grep -qF "$(forms "$PW" | sed -n 5p)" "$D/log"
check "plain: the IMAP-quoted form is what crossed the wire" \
	grep -qF "$(forms "$PW" | sed -n 4p)" "$D/log"
check "plain: the transcript shows the redactions" sh -c 'grep -q "AUTH PLAIN <redacted>" "$1" &&
	grep -q "LOGIN <redacted> <redacted>" "$1"' _ "$D/tr.out"
leak_free plain "$PW"

# ---- AUTH LOGIN only, a wrong password stored ----
serve login "LOGIN" "$PW"
run login "$BAD"
D=$T/login
check "login: auth_failed" test "$(category "$D/json.out")" = auth_failed
check "login: the wrong password's base64 crossed the wire" \
	grep -qF "$(forms "$BAD" | sed -n 6p)" "$D/log"
check "login: the continuation lines are redacted" \
	test "$(grep -c ' C: <redacted>$' "$D/tr.out")" = 2
leak_free login "$BAD"

# ---- a server that quotes the credentials back in its refusals ----
SECSRV_ECHO=1 serve echo "PLAIN" "$PW"
run echo "$BAD"
D=$T/echo
check "echo: auth_failed" test "$(category "$D/json.out")" = auth_failed
# the server quoted both forms back: the reply keeps its words, not them
check "echo: the reply is kept, the password in it redacted" \
	grep -qF "authentication failed: <redacted> (<redacted>)" "$D/json.out"
leak_free echo "$BAD"

# ---- a password with a C1 control (U+0085), quoted back ----
# Sanitising turns the U+0085 into '?': the password must be found on the
# bytes as they came, before that.
BADC1="C1-Canary$(printf '\302\205')Pw-Zoë+/YmFy=="
SECSRV_ECHO=1 serve c1 "PLAIN" "$PW"
run c1 "$BADC1"
D=$T/c1
check "c1: auth_failed" test "$(category "$D/json.out")" = auth_failed
check "c1: the server quoted the password back, raw" \
	grep -qaF "$BADC1" "$D/log"
check "c1: the reply is kept, the password in it redacted" \
	grep -qF "authentication failed: <redacted> (<redacted>)" "$D/json.out"
check "c1: IMAP: the refusal is kept, the password in it redacted" \
	grep -qF "wrong password: <redacted>" "$D/imap-json.out"
leak_free c1 "$BADC1"

# ---- a password quoted back across a cut ----
# cut NAME PAD: the server puts PAD bytes before the password it quotes
# back, so that the password straddles one of the client's bounds (the
# reply text of 512 bytes, the transcript line of 1024). What is left of
# it before the cut must not show either.
BADCUT='Cut-Canary-Pw-31337'
cut() {
	SECSRV_ECHO=1 SECSRV_PAD=$2 serve "$1" "PLAIN" "$PW"
	run "$1" "$BADCUT"
	D=$T/$1
	check "$1: auth_failed" test "$(category "$D/json.out")" = auth_failed
	check "$1: the password crossed the wire" \
		grep -qF "$(forms "$BADCUT" | sed -n 5p)" "$D/log"
	check "$1: no start of the password where a text was cut" \
		sh -c '! grep -qaF "xxxx${2%"${2#???}"}" "$1"/*.out "$1"/*.err' _ "$D" "$BADCUT"
	check "$1: the cut is marked as redacted" \
		grep -qaF "xxxx<redacted>" "$D/json.out" "$D/tr.out"
	leak_free "$1" "$BADCUT"
}
# "535 5.7.8 " then the text: the password starts 6 bytes before the end
# of the 512-byte reply text, and 5 bytes before the end of the transcript
# line.
cut cut512 499
cut cut1024 1008
finish
