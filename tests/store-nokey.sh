#!/bin/bash
# No change without the key: with the key file missing, or another store's
# key file in its place, every command that would change the store fails
# with 77 and data.mdb stays byte for byte the same.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
setup_home
F="$FLUENZR"
U=a@example.org
PW='NoKey-Canary-Pw-9'

printf '%s\n' "$PW" | "$F" account add --email $U --smtp-host smtp.example.org \
	--password-stdin >/dev/null || fail "add"
"$F" --store "$T/other" --key-file "$T/other.key" account add --email o@example.org \
	--smtp-host smtp.example.org --no-password >/dev/null || fail "other store"
cp "$KEYFILE" "$T/good.key"
before=$(tree_hash "$STORE")

# every_write NAME: each writing command, with the key file as it is now
every_write() {
	local name=$1 rc what
	shift
	while IFS='|' read -r what args input; do
		[ -n "$what" ] || continue
		# shellcheck disable=SC2086
		printf '%s\n' "$input" | "$F" $args >"$T/out" 2>&1
		rc=$?
		check "$name: $what: refused with 77 ($rc)" test $rc -eq 77
		check "$name: $what: data.mdb unchanged" test "$(tree_hash "$STORE")" = "$before"
	done <<EOC
add --no-password|account add --email b@example.org --smtp-host smtp.example.org --no-password|
add with a password|account add --email c@example.org --smtp-host smtp.example.org --password-stdin|pw
edit --smtp-host|account edit $U --smtp-host evil.example.net|
edit --name|account edit $U --name Mallory|
edit --pin|account edit $U --pin sha256:abababababababababababababababababababababababababababababababab|
edit --smtp-security none --allow-plain|account edit $U --smtp-security none --allow-plain|
edit --smtp-port|account edit $U --smtp-port 2525|
edit --email (rename)|account edit $U --email z@example.org|
edit --password-stdin|account edit $U --password-stdin|new-pw
remove|account remove $U|
store passphrase|store passphrase --new-passphrase-fd 0|a long passphrase
store rotate|store rotate|
test (records a result)|test $U --no-send|
EOC
}

mv "$KEYFILE" "$T/aside.key"
every_write "no key file"
cp "$T/other.key" "$KEYFILE"
every_write "another store's key file"
cp "$T/good.key" "$KEYFILE"
check "with its key file the store still checks" sh -c '"$1" store check >/dev/null' _ "$F"
check "and the edit goes through" sh -c '"$1" account edit "$2" --name Alice >/dev/null' _ "$F" $U
finish
