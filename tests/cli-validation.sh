#!/bin/bash
# Bad input through the CLI: every rule gives a nonzero exit, a message naming
# the field, and leaves the store exactly as it was.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
setup_home
F="$FLUENZR"

# A store with one account, so "unchanged" means something.
printf 'Canary-Pw-1\n' | "$F" account add --email first@example.org \
	--smtp-host smtp.example.org --password-stdin >/dev/null ||
	fail "cannot create the first account"
before=$(tree_hash "$STORE")

# rejects FIELD ARGS...: exit nonzero, stderr names FIELD, store unchanged.
rejects() {
	local field=$1 out rc
	shift
	out=$(printf 'pw\n' | "$F" account add "$@" --password-stdin 2>&1 >/dev/null)
	rc=$?
	[ "$rc" -ne 0 ] || { echo "accepted: $*" >&2; return 1; }
	case $out in
	*"$field"*) ;;
	*) echo "message does not name '$field': $out" >&2; return 1 ;;
	esac
	[ "$(tree_hash "$STORE")" = "$before" ] || { echo "store changed: $*" >&2; return 1; }
}

H="--smtp-host smtp.example.org"
check "email without @" rejects email --email no-at-sign $H
check "email without a dot in the domain" rejects email --email a@localhost $H
check "email with CR LF" rejects email --email "$(printf 'a@b.org\r\nRCPT TO:<x@y.z>')" $H
check "email with two dots" rejects email --email a..b@example.org $H
check "email too long" rejects email --email "$(printf '%0300d' 0)@example.org" $H
check "email with a space" rejects email --email "a b@example.org" $H
check "name with CR LF (header injection)" rejects name --email n@example.org $H --name "$(printf 'Evil\r\nBcc: x@y.z')"
check "name with a tab" rejects name --email n@example.org $H --name "$(printf 'a\tb')"
check "name with DEL" rejects name --email n@example.org $H --name "$(printf 'a\177b')"
check "name with a C1 control" rejects name --email n@example.org $H --name "$(printf 'a\302\205b')"
check "name not UTF-8" rejects name --email n@example.org $H --name "$(printf 'a\377b')"
check "name too long" rejects name --email n@example.org $H --name "$(printf '%0300d' 0)"
check "host with an underscore" rejects smtp-host --email n@example.org --smtp-host bad_host.example.org
check "host with a leading hyphen" rejects smtp-host --email n@example.org --smtp-host -x.example.org
check "bracketed IPv6" rejects smtp-host --email n@example.org --smtp-host "[::1]"
check "host with a newline" rejects smtp-host --email n@example.org --smtp-host "$(printf 'a.org\nb')"
check "label longer than 63" rejects smtp-host --email n@example.org --smtp-host "$(printf '%070d' 0).org"
check "port 0" rejects smtp-port --email n@example.org $H --smtp-port 0
check "port 65536" rejects smtp-port --email n@example.org $H --smtp-port 65536
check "port with letters" rejects smtp-port --email n@example.org $H --smtp-port 587x
check "port with a sign" rejects smtp-port --email n@example.org $H --smtp-port +587
check "port empty" rejects smtp-port --email n@example.org $H --smtp-port ""
check "unknown encryption" rejects smtp-security --email n@example.org $H --smtp-security rot13
check "none without --allow-plain" rejects smtp-security --email n@example.org $H --smtp-security none
check "username with a tab" rejects username --email n@example.org $H --username "$(printf 'u\tv')"
check "imap host" rejects imap-host --email n@example.org $H --imap-host "bad host"
check "imap port" rejects imap-port --email n@example.org $H --imap-host imap.example.org --imap-port 99999
check "imap encryption" rejects imap-security --email n@example.org $H --imap-host imap.example.org --imap-security maybe
check "pin not hex" rejects pin --email n@example.org $H --pin sha256:xyz
check "pin wrong length" rejects pin --email n@example.org $H --pin "sha256:$(printf '%062d' 0)"
check "pin without prefix" rejects pin --email n@example.org $H --pin "$(printf '%064d' 0)"
check "missing CA file" rejects ca-file --email n@example.org $H --ca-file /nonexistent/ca.pem
check "unknown preset" rejects preset --email n@example.org --preset no-such-provider
check "no server and no preset" rejects smtp-host --email n@unknown-provider.example
check "existing account (other case)" rejects exists --email FIRST@Example.ORG $H

# Passwords: never from argv; too long or with control characters refused.
out=$("$F" account add --email p@example.org $H --password secret 2>&1)
check "--password on the command line is refused" test $? -eq 64
check "the refusal explains why" sh -c 'case "$1" in *password-stdin*) true;; *) false;; esac' _ "$out"
long=$(printf '%02000d' 0)
out=$(printf '%s\n' "$long" | "$F" account add --email p@example.org $H --password-stdin 2>&1)
check "overlong password refused" test $? -ne 0
check "overlong password: store unchanged" test "$(tree_hash "$STORE")" = "$before"
out=$(printf 'a\033[2Jb\n' | "$F" account add --email p@example.org $H --password-stdin 2>&1)
check "password with an escape sequence refused" test $? -ne 0
check "non-tty without a password source is refused" sh -c '"$1" account add --email q@example.org --smtp-host smtp.example.org </dev/null >/dev/null 2>&1; test $? -eq 64' _ "$F"

# Edit and remove of an unknown account, and a bad edit.
"$F" account edit nobody@example.org --name x >/dev/null 2>&1
check "edit of an unknown account fails with 66" test $? -eq 66
"$F" account remove nobody@example.org >/dev/null 2>&1
check "remove of an unknown account fails with 66" test $? -eq 66
"$F" account edit first@example.org --smtp-port 70000 >/dev/null 2>&1
check "bad edit fails" test $? -eq 65
check "bad edit leaves the store unchanged" test "$(tree_hash "$STORE")" = "$before"

# What is accepted: IDN domain, IPv6 literal, UTF-8 name, tls synonym.
check "IDN address accepted" sh -c 'printf "pw\n" | "$1" account add --email "joerg@bücher.example" --smtp-host "::1" --name "Zoë 山田" --smtp-security tls --password-stdin >/dev/null' _ "$F"
json=$("$F" account show "JOERG@bücher.example" --json 2>&1) || true
check "tls is stored as starttls on port 587" "$PY" -c '
import json,sys; a=json.loads(sys.argv[1])
assert a["smtp"]["security"]=="starttls" and a["smtp"]["port"]==587, a
assert a["smtp"]["host"]=="::1" and a["display_name"]=="Zoë 山田", a' "$json"
check "ssl defaults to port 465" sh -c 'printf "pw\n" | "$1" account add --email s@example.org --smtp-host smtp.example.org --smtp-security ssl --password-stdin >/dev/null && "$1" account show s@example.org --json | grep -q "\"port\": 465"' _ "$F"
check "none accepted with --allow-plain" sh -c 'printf "pw\n" | "$1" account add --email plain@example.org --smtp-host smtp.example.org --smtp-security none --allow-plain --password-stdin >/dev/null 2>&1' _ "$F"
finish
