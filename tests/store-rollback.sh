#!/bin/bash
# Rollback through the CLI: an older sealed password put back over the
# current one, and an older copy of the whole data.mdb put back, are
# detected; a copy of the store taken before "store rotate" does not open
# with the key file kept after it.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need "$PY" mdb_dump mdb_load
setup_home
F="$FLUENZR"
U=a@example.org

printf 'Old-Pw-1\n' | "$F" account add --email $U --smtp-host smtp.example.org \
	--password-stdin >/dev/null || fail "add"
mdb_dump -s secrets "$STORE" >"$T/old-secrets.dump" || fail "dump"
cp "$STORE/data.mdb" "$T/old.mdb"

# One sealed password put back.
printf 'New-Pw-2\n' | "$F" account edit $U --password-stdin >/dev/null || fail "edit"
check "after the change the store checks" sh -c '"$1" store check >/dev/null' _ "$F"
mdb_load -s secrets -f "$T/old-secrets.dump" "$STORE" 2>/dev/null || fail "load"
out=$("$F" store check 2>&1)
rc=$?
check "an older sealed password put back: store check fails with 65 ($rc)" test $rc -eq 65
check "  and calls it an older copy" grep -q "^DAMAGED $U.*older copy" <<<"$out"
"$F" test $U --no-send >/dev/null 2>&1
check "  and test does not use it (65)" test $? -eq 65
printf 'New-Pw-3\n' | "$F" account edit $U --password-stdin >/dev/null
check "setting the password again repairs it" sh -c '"$1" store check >/dev/null' _ "$F"

# The whole data.mdb put back.
cp "$STORE/data.mdb" "$T/new.mdb"
cp "$T/old.mdb" "$STORE/data.mdb"
out=$("$F" store check 2>&1)
rc=$?
check "an older data.mdb put back: refused with 65 ($rc)" test $rc -eq 65
check "  the message says an older copy was put back" grep -q "older copy was put back" <<<"$out"
"$F" account edit $U --name Mallory >/dev/null 2>&1
check "  and nothing can be changed in it" test $? -eq 65
cp "$T/new.mdb" "$STORE/data.mdb"
check "the newest one back: it checks" sh -c '"$1" store check >/dev/null' _ "$F"

# A copy from before a rotation, with the key file from after it.
mkdir -m 700 "$T/before"
cp "$STORE/data.mdb" "$T/before/data.mdb"
cp "$KEYFILE" "$T/key.before"
check "rotate" sh -c '"$1" store rotate >/dev/null' _ "$F"
check "rotate made a new key file" sh -c '! cmp -s "$1" "$2"' _ "$KEYFILE" "$T/key.before"
check "no store.key.new is left" test ! -e "$KEYFILE.new"
"$F" --store "$T/before" store check >/dev/null 2>&1
check "the copy from before the rotation does not open with the new key file (77)" test $? -eq 77
check "the store itself opens, its password too" sh -c '"$1" store check >/dev/null' _ "$F"
finish
