#!/bin/bash
# Someone who can write the store's files but has not got the key rewrites
# an account's record in data.mdb, pointing it at a server of theirs in
# clear text: "store check" must call the record DAMAGED and "test" must
# refuse to send the password. A logging server stands at the attacker's
# address and must never receive it.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need "$PY" mdb_dump mdb_load
setup_home
F="$FLUENZR"
U=victim@example.org
PW='Redirect-Canary-Pw-77'
EDIT=("$PY" "$top_srcdir/tests/store-edit-dump.py")

"$PY" "$top_srcdir/tests/security-server.py" "$T/port" "$T/log" "$U" "$PW" "PLAIN LOGIN" 2>"$T/server.err" &
at_exit "kill $!"
wait_for -t 10 test -s "$T/port" || fail "the attacker's server did not start"
read -r SP _ <"$T/port"
: >"$T/log"

# The victim's account: a server that wants TLS (nobody listens there).
printf '%s\n' "$PW" | "$F" account add --email $U --smtp-host 127.0.0.1 --smtp-port 9 \
	--smtp-security ssl --password-stdin >/dev/null || fail "add"
check "the untouched store checks" sh -c '"$1" store check >/dev/null' _ "$F"
mdb_dump -s accounts "$STORE" >"$T/orig.dump" || fail "mdb_dump"

# attack NAME EDIT-ARGS...: rewrite the record, then see what the program does
attack() {
	local name=$1 out rc
	shift
	"${EDIT[@]}" "$T/orig.dump" "$T/$name.dump" "$@" || fail "edit"
	mdb_load -s accounts -f "$T/$name.dump" "$STORE" 2>/dev/null || fail "mdb_load"
	out=$("$F" store check 2>&1)
	rc=$?
	check "$name: store check fails with 65 ($rc)" test $rc -eq 65
	check "$name: the record is reported DAMAGED" grep -q "^DAMAGED $U" <<<"$out"
	"$F" test $U --no-send >"$T/$name.out" 2>&1
	rc=$?
	check "$name: test refuses, 65 ($rc)" test $rc -eq 65
	"$F" test --all --no-send >/dev/null 2>&1
	check "$name: test --all fails with 65, the account skipped" test $? -eq 65
	"$F" account edit $U --name 'Blessed' >/dev/null 2>&1
	check "$name: an edit does not re-authenticate the altered record" test $? -ne 0
	check "$name: the attacker's server received nothing" test ! -s "$T/log"
	check "$name: the password is nowhere in the server's log, not even in base64" \
		sh -c '! grep -qF -e "$1" -e "$(printf "\\0%s\\0%s" "$2" "$1" | base64 -w0)" \
			-e "$(printf "%s" "$1" | base64 -w0)" "$3" && ! grep -q AUTH-OK "$3"' _ "$PW" "$U" "$T/log"
	mdb_load -s accounts -f "$T/orig.dump" "$STORE" 2>/dev/null || fail "restore"
}

attack redirect smtp-host=127.0.0.1 smtp-port="$SP" smtp-security=none allow-plain=1
attack port-only smtp-port="$SP"
attack security-only smtp-security=none allow-plain=1
attack pin-and-ca ca-file=/etc/hostname pin=sha256:abababababababababababababababababababababababababababababababab
attack stripped --strip smtp-port="$SP" smtp-security=none allow-plain=1

check "restored: the store checks again" sh -c '"$1" store check >/dev/null' _ "$F"
finish
