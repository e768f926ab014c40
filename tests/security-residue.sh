#!/bin/bash
# What the files on disk give away, to someone holding data.mdb and the key
# file (or an old passphrase): after a password is changed, an account
# renamed or removed, the passphrase changed, the data key rotated or the
# key-file slot dropped, nothing old opens any more, not even from pages
# LMDB has freed; no password or passphrase is ever on disk in clear, nor
# the data key. tests/sec_scan tries every byte offset of data.mdb.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
setup_home
F="$FLUENZR"
SCAN="$top_builddir/tests/sec_scan"
[ -x "$SCAN" ] || fail "$SCAN not built"

# Same length on purpose: each old one could hide in the new one's place.
OLD='Old-Canary-Pw-0001'
NEW='New-Canary-Pw-0002'
IMAP='Imap-Canary-Pw-003'
BOB='Bob-Canary-Pw-0004'
P1='first passphrase 1'
P2='second passphrase 2'

scan() {
	"$SCAN" "$STORE/data.mdb" "$KEYFILE" --acct a@example.org \
		--acct c@example.org --acct bob@example.org --len ${#OLD} "$@"
}

# Nothing secret in clear in any file we or LMDB wrote.
no_clear_text() {
	local s
	for s in "$OLD" "$NEW" "$IMAP" "$BOB" "$P1" "$P2"; do
		if grep -raqF -- "$s" "$T"; then
			echo "in clear on disk: $s" >&2
			return 1
		fi
	done
}

printf '%s\n' "$OLD" | "$F" account add --email a@example.org --smtp-host smtp.example.org \
	--imap-host imap.example.org --password-stdin --imap-password-fd 3 3<<<"$IMAP" >/dev/null ||
	fail "add a"
printf '%s\n' "$BOB" | "$F" account add --email bob@example.org --smtp-host smtp.example.org \
	--password-stdin >/dev/null || fail "add bob"
out=$(scan)
# The positive control: the scanner does find what is live.
check "scanner finds the live key-file slot" grep -qx 'slot keyfile' <<<"$out"
check "scanner opens the live passwords" bash -c 'grep -qx "secret a@example.org smtp $2" <<<"$1" &&
	grep -qx "secret a@example.org imap $3" <<<"$1" && grep -qx "secret bob@example.org smtp $4" <<<"$1"' \
	_ "$out" "$OLD" "$IMAP" "$BOB"

printf '%s\n' "$NEW" | "$F" account edit a@example.org --password-stdin >/dev/null || fail "edit"
out=$(scan)
check "edit: the new password opens" grep -qxF "secret a@example.org smtp $NEW" <<<"$out"
check "edit: the replaced password no longer opens from a freed page" \
	bash -c '! grep -qF -- "$2" <<<"$1"' _ "$out" "$OLD"

"$F" account edit a@example.org --email c@example.org >/dev/null || fail "rename"
out=$(scan)
check "rename: the passwords moved with the account" bash -c 'grep -qxF "secret c@example.org smtp $2" <<<"$1" &&
	grep -qxF "secret c@example.org imap $3" <<<"$1"' _ "$out" "$NEW" "$IMAP"
check "rename: nothing opens under the old address" bash -c '! grep -q "^secret a@example.org" <<<"$1"' _ "$out"

"$F" account remove bob@example.org >/dev/null || fail "remove"
out=$(scan)
check "remove: the removed account's password no longer opens" bash -c '! grep -q "^secret bob@" <<<"$1"' _ "$out"
check "no clear text after edits and removal" no_clear_text

"$F" store passphrase --new-passphrase-fd 3 3<<<"$P1" >/dev/null || fail "passphrase 1"
"$F" store passphrase --new-passphrase-fd 3 3<<<"$P2" >/dev/null || fail "passphrase 2"
out=$(scan --pass "$P1" --pass "$P2")
check "the new passphrase opens its slot" grep -qxF "slot passphrase $P2" <<<"$out"
check "a changed passphrase opens nothing, not even a freed slot" \
	bash -c '! grep -qF "slot passphrase $2" <<<"$1"' _ "$out" "$P1"

printf '%s\n' "$P2" | "$F" --passphrase-fd 0 store rotate >/dev/null || fail "rotate"
out=$(scan --pass "$P2")
check "rotate: the secrets open with the new key" grep -qxF "secret c@example.org smtp $NEW" <<<"$out"
check "rotate: exactly one data key can be recovered (no old slot left)" grep -qx 'keys 1' <<<"$out"
check "rotate: each password opens once (no blob under the old key)" \
	test "$(grep -c '^secret ' <<<"$out")" = 2
check "the data key is never in clear" bash -c '! grep -q clearkey <<<"$1"' _ "$out"

printf '%s\n' "$P2" | "$F" --passphrase-fd 0 store passphrase --new-passphrase-fd 3 \
	--drop-key-file 3<<<"$P2" >/dev/null || fail "drop key file"
out=$(scan --pass "$P2")
check "drop-key-file: the key file opens nothing, not even a freed slot" \
	bash -c '! grep -qx "slot keyfile" <<<"$1"' _ "$out"
check "drop-key-file: the passphrase still opens" grep -qxF "secret c@example.org smtp $NEW" <<<"$out"
check "no clear text at the end" no_clear_text
check "the store still checks" bash -c 'printf "%s\n" "$2" | "$1" --passphrase-fd 0 store check >/dev/null' _ "$F" "$P2"
finish
