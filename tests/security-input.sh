#!/bin/bash
# Hostile or clumsy input around secrets gets a clear error and loses
# nothing: how --password-stdin/--password-fd read a line (CRLF, no newline,
# more lines, a NUL byte), an unreadable --passphrase-fd, Ctrl-C at the
# password prompt, and a hostile store: a FIFO, another user's file or a
# symbolic link where the key file, the store or data.mdb should be, and
# records of absurd sizes. No hang, no crash, the store unchanged.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need "$PY" timeout
setup_home
F="$FLUENZR"
U=u@example.org
PW='Line-Canary-Pw-5'
PASS='line passphrase 6'

"$PY" "$top_srcdir/tests/security-server.py" "$T/port" "$T/log" "$U" "$PW" "PLAIN LOGIN" 2>"$T/server.err" &
at_exit "kill $!"
wait_for -t 10 test -s "$T/port" || fail "the test server did not start"
read -r SP IP <"$T/port"
SRV=(--smtp-host 127.0.0.1 --smtp-port "$SP" --smtp-security none --allow-plain)

# added NAME INPUT: a store of its own with the account added
# from INPUT on stdin; then `test` tells whether the password stored is
# exactly PW (the server checks it).
added() {
	local d=$T/$1 input=$2
	printf "$input" | "$F" --store "$d/s" --key-file "$d/k" account add --email $U "${SRV[@]}" \
		--password-stdin >/dev/null 2>"$d.err" &&
	"$F" --store "$d/s" --key-file "$d/k" test $U --no-send >/dev/null 2>&1
}

# ---- how a password is read from a descriptor: one line ----
check "CRLF: the CR is not part of the password" added crlf "$PW\r\n"
check "no newline at the end: the whole input" added nonl "$PW"
check "more lines: the first one, as documented" added lines "$PW\nsecond line\n"
printf 'ab\000cd\n' | "$F" account add --email $U "${SRV[@]}" --password-stdin >/dev/null 2>"$T/nul.err"
rc=$?
check "a NUL byte is refused, not cut at" test $rc -ne 0
check "the refusal names the NUL byte" grep -q "NUL byte" "$T/nul.err"
check "nothing was stored" sh -c '! "$1" account show "$2" >/dev/null 2>&1' _ "$F" "$U"

# One pipe for the password and then the passphrase of a passphrase store.
printf '%s\n' "$PW" | "$F" account add --email $U "${SRV[@]}" --password-stdin >/dev/null 2>&1 || fail "add"
"$F" store passphrase --new-passphrase-fd 3 --drop-key-file 3<<<"$PASS" >/dev/null || fail "passphrase"
before=$(tree_hash "$STORE")
printf '%s\r\n%s\n' "$PW" "$PASS" | "$F" --passphrase-fd 0 account edit $U --password-stdin >/dev/null 2>&1
check "password then passphrase, one line each from one pipe" test $? -eq 0
check "...and the password is exactly right" sh -c 'printf "%s\n" "$3" | "$1" --passphrase-fd 0 test "$2" --no-send >/dev/null 2>&1' _ "$F" "$U" "$PASS"
before=$(tree_hash "$STORE")

# ---- an unreadable --passphrase-fd, an empty password: nothing changes ----
unreadable() {
	local what=$1 out rc
	shift
	out=$(printf '%s\n' "$PW" | "$F" "$@" account edit $U --password-stdin 2>&1 >/dev/null)
	rc=$?
	check "--passphrase-fd $what: refused" test $rc -ne 0 -a $rc -lt 128
	check "--passphrase-fd $what: the message says what" grep -q "cannot read the store passphrase" <<<"$out"
	check "--passphrase-fd $what: store unchanged" test "$(tree_hash "$STORE")" = "$before"
}
unreadable "closed" --passphrase-fd 9 9<&-
unreadable "write-only" --passphrase-fd 9 9>/dev/null
unreadable "a directory" --passphrase-fd 9 9<"$T"
printf '%s\n' "$PASS" | "$F" --passphrase-fd 0 account edit $U --password-fd 3 3</dev/null >/dev/null 2>&1
check "an empty new password is refused" test $? -ne 0
check "...and the stored one is kept" test "$(tree_hash "$STORE")" = "$before"

# ---- Ctrl-C at the password prompt gives the terminal its echo back ----
tui_env
tui_start "$FLUENZR" account add --email p@example.org --smtp-host smtp.example.org
wait_screen "Password for p@example.org:"
type_text "half a pass"
# The signal Ctrl-C sends, to the program only (the pane's shell records).
kill -INT "$(cat "$T/pid")"
check "Ctrl-C ends the prompt with 130" [ "$(wait_exit)" = 130 ]
check "Ctrl-C at the prompt: the terminal settings are restored (echo on)" \
	cmp -s "$T/stty.before" "$T/stty.after"

# ---- hostile stores ----
setup_home
printf '%s\n' "$PW" | "$F" account add --email $U "${SRV[@]}" --password-stdin >/dev/null 2>&1 || fail "add"
cp -a "$STORE" "$T/good"
cp -a "$KEYFILE" "$T/good.key"
KB=$(tree_hash "$STORE")

# clean NAME CMD...: exits by itself within 10 s, nonzero, not by a signal.
clean() {
	local name=$1 rc
	shift
	timeout 10 "$@" >"$T/out" 2>"$T/err"
	rc=$?
	check "$name: a clean error (exit $rc)" test $rc -ne 0 -a $rc -lt 124
	[ -s "$T/err" ] || echo "no message for $name" >&2
}

rm -f "$KEYFILE"
mkfifo -m 600 "$KEYFILE"
clean "key file is a FIFO" "$F" store check
check "key file is a FIFO: the message says so" grep -q "not a regular file" "$T/err"
rm -f "$KEYFILE"

cp "$T/good.key" "$T/other.key"
chown nobody "$T/other.key"
cp "$T/good.key" "$KEYFILE"
clean "key file of another user" "$F" --key-file "$T/other.key" store check
check "key file of another user: the message says so" grep -q "another user" "$T/err"
ln -s "$T/other.key" "$T/link.key"
clean "symbolic link to another user's key file" "$F" --key-file "$T/link.key" store check
ln -s "$KEYFILE" "$T/own.key"
check "a symbolic link to one's own key file is fine" sh -c '"$1" --key-file "$2" store check >/dev/null' _ "$F" "$T/own.key"

cp -a "$T/good" "$T/theirs"
chown -R nobody "$T/theirs"
clean "store of another user" "$F" --store "$T/theirs" account list
ln -s "$T/theirs" "$T/link.store"
clean "symbolic link to another user's store" "$F" --store "$T/link.store" account list
ln -s "$STORE" "$T/own.store"
check "a symbolic link to one's own store is fine" sh -c '"$1" --store "$2" account list | grep -q "$3"' _ "$F" "$T/own.store" "$U"

for kind in fifo dir; do
	d=$T/bad-$kind
	mkdir -m 700 "$d"
	if [ $kind = fifo ]; then mkfifo -m 600 "$d/data.mdb"; else mkdir -m 700 "$d/data.mdb"; fi
	clean "data.mdb is a $kind: list" "$F" --store "$d" account list
	clean "data.mdb is a $kind: add" sh -c 'printf "x\n" | "$1" --store "$2" account add --email z@example.org --smtp-host smtp.example.org --password-stdin' _ "$F" "$d"
done
d=$T/bad-lock
cp -a "$T/good" "$d"
rm -f "$d/lock.mdb"
mkfifo -m 600 "$d/lock.mdb"
clean "lock.mdb is a FIFO" "$F" --store "$d" account list
check "the real store was never touched" test "$(tree_hash "$STORE")" = "$KB"

# Records of absurd sizes, put in with LMDB's own tool.
if command -v mdb_load >/dev/null 2>&1; then
	d=$T/huge
	cp -a "$T/good" "$d"
	"$PY" -c 'import sys; sys.stdout.write("huge@example.org\n" + "A" * 1000000 + "\n")' |
		mdb_load -T -s accounts "$d" || fail "mdb_load accounts"
	"$PY" -c 'import sys; sys.stdout.write("u@example.org\\00\\00\n" + "\\01" * 300000 + "\n")' |
		mdb_load -T -s secrets "$d" || fail "mdb_load secrets"
	timeout 10 "$F" --store "$d" account list >"$T/out" 2>"$T/err"
	check "a 1 MB record: reported, the rest still listed" sh -c 'grep -q huge "$1" && grep -q "u@example.org" "$2"' _ "$T/err" "$T/out"
	timeout 10 "$F" --store "$d" store check >"$T/out" 2>&1
	check "a 300 kB password blob: store check reports it (exit $?)" test $? -eq 65
	check "store check names both" sh -c 'grep -q "^DAMAGED huge@" "$1" && grep -q "^DAMAGED u@example.org" "$1"' _ "$T/out"
	clean "a 300 kB password blob: test" "$F" --store "$d" test $U --no-send
else
	skip_or_fail "mdb_load (lmdb-utils) is not installed"
fi
finish
