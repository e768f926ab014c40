#!/bin/bash
# The files that decide whom we trust are checked like the key file. A CA
# file (--ca-file) must be a regular file of at most 1 MiB, owned by the
# user or root and writable by no one else: a FIFO, /dev/zero, a directory,
# a 2 MiB file, a world-writable file and another user's file are refused
# at account add and edit (clear message with the fix, store unchanged) and
# again at test time, when the file was swapped after it was saved (the
# test names the file, sends nothing, never hangs past --timeout). A user
# preset that is not safe is skipped with a warning and the shipped preset
# stays in effect.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need "$PY" timeout
[ "$(id -u)" = 0 ] || skip_or_fail "a file owned by another user needs root (chown)"
id nobody >/dev/null 2>&1 || skip_or_fail "no user nobody"
setup_home
F="$FLUENZR"
U=u@example.org
PW='Files-Canary-Pw-8'

"$PY" "$top_srcdir/tests/security-server.py" "$T/port" "$T/log" "$U" "$PW" "PLAIN LOGIN" 2>"$T/server.err" &
at_exit "kill $!"
wait_for -t 10 test -s "$T/port" || fail "the test server did not start"
read -r SP IP <"$T/port"

# The bad CA files, in a directory of their own (its own mode is fine).
C=$T/ca
mkdir -m 755 "$C"
good() { printf -- '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' >"$1"; chmod 644 "$1"; }
good "$C/good.pem"
mkfifo "$C/fifo.pem"
mkdir "$C/dir.pem"
head -c $((2 * 1024 * 1024)) /dev/zero >"$C/big.pem"
good "$C/ww.pem"; chmod 666 "$C/ww.pem"
good "$C/gw.pem"; chmod 664 "$C/gw.pem"
good "$C/other.pem"; chown nobody "$C/other.pem"
mkdir -m 777 "$C/open"; good "$C/open/ca.pem"
# Whatever happens, nothing may stay blocked on the FIFO.
at_exit "timeout 1 sh -c ': > \"$C/fifo.pem\"' 2>/dev/null"

# refused NAME PATH WORDS: account add and edit refuse PATH with a message
# holding WORDS (an extended regex) and the path; the store is unchanged.
refused() {
	local name=$1 path=$2 words=$3 before out rc
	before=$(tree_hash "$STORE")
	out=$(printf '%s\n' "$PW" | timeout 10 "$F" account add --email "new-$name@example.org" \
		--smtp-host 127.0.0.1 --smtp-port "$SP" --smtp-security none --allow-plain \
		--ca-file "$path" --password-stdin 2>&1 >/dev/null)
	rc=$?
	check "add --ca-file $name: refused (exit $rc)" test $rc -ne 0 -a $rc -ne 124 -a $rc -lt 128
	check "add --ca-file $name: the message says why" grep -qE -- "$words" <<<"$out"
	check "add --ca-file $name: the message names the file" grep -qF -- "$(realpath "$path")" <<<"$out"
	out=$(timeout 10 "$F" account edit $U --ca-file "$path" 2>&1 >/dev/null)
	rc=$?
	check "edit --ca-file $name: refused (exit $rc)" test $rc -ne 0 -a $rc -ne 124 -a $rc -lt 128
	check "edit --ca-file $name: the message says why" grep -qE -- "$words" <<<"$out"
	check "add and edit --ca-file $name: store unchanged" test "$(tree_hash "$STORE")" = "$before"
}

printf '%s\n' "$PW" | "$F" account add --email $U --smtp-host 127.0.0.1 --smtp-port "$SP" \
	--smtp-security none --allow-plain --password-stdin >/dev/null 2>&1 || fail "account add"
refused fifo "$C/fifo.pem" "a FIFO"
refused zero /dev/zero "character device"
refused dir "$C/dir.pem" "a directory"
refused big "$C/big.pem" "larger than 1 MiB"
refused world-writable "$C/ww.pem" "writable by everyone.*chmod go-w"
refused group-writable "$C/gw.pem" "writable by its group.*chmod go-w"
refused other-user "$C/other.pem" "belongs to uid [0-9]+.*chown"
refused open-directory "$C/open/ca.pem" "its directory .* is writable by everyone.*chmod go-w"

# A good file is accepted: the control.
"$F" account edit $U --ca-file "$C/good.pem" >/dev/null 2>"$T/edit.err"
check "edit --ca-file with a safe file: accepted" test $? = 0
check "...and stored" sh -c '"$1" account show "$2" --json | grep -qF "\"ca_file\": \"$3\""' _ "$F" $U "$C/good.pem"

# ---- at test time: the file was swapped after it was saved ----
# swapped NAME PATH WORDS: good.pem replaced by PATH (moved or linked in
# its place), the test refuses at once and sends nothing.
swapped() {
	local name=$1 src=$2 words=$3 out rc start ms
	rm -rf "$C/good.pem"
	if [ -n "$src" ]; then mv "$src" "$C/good.pem"; fi
	: >"$T/log"
	start=$(date +%s%N)
	out=$(timeout 20 "$F" test $U --json --timeout 3 2>"$T/test.err")
	rc=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	check "test with a $name CA file: exit 77 ($rc), within --timeout ($ms ms)" \
		test $rc = 77 -a $ms -lt 3000
	check "test with a $name CA file: ca_file_refused" grep -qF '"reason": "ca_file_refused"' <<<"$out"
	check "test with a $name CA file: says why" grep -qE -- "$words" <<<"$out"
	check "test with a $name CA file: names the file" grep -qF -- "$C/good.pem" <<<"$out"
	check "test with a $name CA file: nothing reached the server" test ! -s "$T/log"
}
swapped FIFO "$C/fifo.pem" "a FIFO"
swapped directory "$C/dir.pem" "a directory"
swapped "too large" "$C/big.pem" "larger than 1 MiB"
swapped world-writable "$C/ww.pem" "writable by everyone"
swapped "foreign-owned" "$C/other.pem" "belongs to uid"
ln -s /dev/zero "$T/zero-link"
swapped "/dev/zero (linked)" "$T/zero-link" "symbolic link"
swapped missing "" "No such file"
check "the test server never saw the password" sh -c '! grep -qF -- "$1" "$2"' _ "$PW" "$T/log"

# ---- user presets ----
P=$XDG_CONFIG_HOME/fluenzr/presets
mkdir -p "$P"
chmod 755 "$XDG_CONFIG_HOME/fluenzr" "$P"
# An override of Gmail's servers, owned by another user.
sed 's/smtp\.gmail\.com/evil.example.net/' "$top_srcdir/presets/gmail.preset" >"$P/gmail.preset"
chmod 644 "$P/gmail.preset"
chown nobody "$P/gmail.preset"
out=$("$F" presets --json 2>"$T/presets.err")
check "a foreign-owned user preset is skipped with a warning" grep -q "gmail.preset: .*belongs to uid.*skipped" "$T/presets.err"
check "...the warning says the fix" grep -q "chown" "$T/presets.err"
check "...and the shipped gmail preset stays in effect" bash -c 'grep -q "smtp.gmail.com" <<<"$1" && ! grep -q "evil.example.net" <<<"$1"' _ "$out"
chown root "$P/gmail.preset"
chmod 666 "$P/gmail.preset"
out=$("$F" presets --json 2>"$T/presets.err")
check "a world-writable user preset is skipped with a warning" grep -q "gmail.preset: .*writable by everyone.*chmod go-w" "$T/presets.err"
check "...and the shipped gmail preset stays in effect" bash -c '! grep -q "evil.example.net" <<<"$1"' _ "$out"
rm "$P/gmail.preset"
mkfifo "$P/fifo.preset"
mkdir "$P/dir.preset"
ln -s /dev/zero "$P/zero.preset"
out=$(timeout 10 "$F" presets --json 2>"$T/presets.err")
check "FIFO, directory and /dev/zero presets: no hang" test $? = 0
check "...the FIFO is refused" grep -q "fifo.preset: .*FIFO" "$T/presets.err"
check "...the directory is refused" grep -q "dir.preset: .*directory" "$T/presets.err"
check "...the link to /dev/zero is refused" grep -q "zero.preset: .*symbolic link" "$T/presets.err"
rm -rf "$P"/*
# The control: a safe user preset does override.
sed 's/smtp\.gmail\.com/smtp.override.example/' "$top_srcdir/presets/gmail.preset" >"$P/gmail.preset"
chmod 644 "$P/gmail.preset"
out=$("$F" presets --json 2>"$T/presets.err")
check "a safe user preset overrides the shipped one" grep -q "smtp.override.example" <<<"$out"
finish
