#!/bin/bash
# The store's protections through the CLI: wrong key file or passphrase fails
# with the database unchanged, unsafe permissions are refused, a passphrase
# can replace the key file, rotation keeps every secret.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
setup_home
F="$FLUENZR"
PW='Canary-Pw-store-51'

printf '%s\n' "$PW" | "$F" account add --email a@example.org --smtp-host smtp.example.org --password-stdin >/dev/null || fail "add"
check "store and key file created with safe modes" sh -c '
test "$(stat -c %a "$1")" = 700 && test "$(stat -c %a "$1/data.mdb")" = 600 &&
test "$(stat -c %a "$2")" = 600' _ "$STORE" "$KEYFILE"
check "the key file is outside the store" sh -c 'case "$2" in "$1"/*) false;; *) true;; esac' _ "$STORE" "$KEYFILE"
before=$(tree_hash "$STORE")

# A wrong key file: an error naming the problem, exit 77, nothing written.
"$PY" -c 'import os,sys; open(sys.argv[1],"wb").write(os.urandom(64))' "$T/other.key"
chmod 600 "$T/other.key"
cp "$KEYFILE" "$T/good.key"
out=$(printf 'x\n' | "$F" --key-file "$T/other.key" account add --email b@example.org --smtp-host smtp.example.org --password-stdin 2>&1)
check "wrong key file refused with 77" test $? -eq 77
check "the message names the key file" sh -c 'printf "%s" "$1" | grep -qi "key"' _ "$out"
check "wrong key file: store byte-for-byte unchanged" test "$(tree_hash "$STORE")" = "$before"
"$F" --key-file "$T/other.key" store check >/dev/null 2>&1
check "store check with the wrong key fails" test $? -eq 77

# Unsafe permissions are refused.
chmod 644 "$KEYFILE"
"$F" store check >/dev/null 2>&1
check "key file readable by others refused" test $? -eq 77
chmod 600 "$KEYFILE"
chmod 755 "$STORE"
"$F" account list >/dev/null 2>&1
check "store directory readable by others refused" test $? -eq 77
chmod 700 "$STORE"
check "store check passes" sh -c '"$1" store check >/dev/null' _ "$F"

# Passphrase: set it, drop the key file, open with the passphrase only.
exec 3<<EOP
correct horse battery
EOP
check "set a passphrase, dropping the key-file slot" sh -c '"$1" store passphrase --new-passphrase-fd 3 --drop-key-file >/dev/null' _ "$F"
exec 3<&-
check "status shows only the passphrase slot" sh -c '"$1" store status --json | "$2" -c "
import json,sys; s=json.load(sys.stdin)
assert s[\"passphrase_slot\"] and not s[\"key_file_slot\"] and s[\"pbkdf2_iterations\"]>=600000, s"' _ "$F" "$PY"
before=$(tree_hash "$STORE")
out=$(printf 'wrong passphrase\n' | "$F" --passphrase-fd 0 store check 2>&1)
check "wrong passphrase refused with 77" test $? -eq 77
check "the message names the passphrase" sh -c 'printf "%s" "$1" | grep -qi "passphrase"' _ "$out"
check "wrong passphrase: store byte-for-byte unchanged" test "$(tree_hash "$STORE")" = "$before"
check "the right passphrase opens it" sh -c 'printf "correct horse battery\n" | "$1" --passphrase-fd 0 store check >/dev/null' _ "$F"
check "no passphrase and no terminal: refused" sh -c 'setsid "$1" store check </dev/null >/dev/null 2>&1; test $? -ne 0' _ "$F"

# Rotation re-encrypts every secret; they still open.
printf 'y\n' > /dev/null
sealed_before=$(mdb_dump -s secrets -p "$STORE" 2>/dev/null | sha256sum)
check "rotate" sh -c 'printf "correct horse battery\n" | "$1" --passphrase-fd 0 store rotate >/dev/null' _ "$F"
sealed_after=$(mdb_dump -s secrets -p "$STORE" 2>/dev/null | sha256sum)
check "rotation changed every sealed record" test "$sealed_before" != "$sealed_after"
check "after rotation every record opens" sh -c 'printf "correct horse battery\n" | "$1" --passphrase-fd 0 store check >/dev/null' _ "$F"
check "the password is in no file" sh -c '! grep -raF "$1" "$2" "$3"' _ "$PW" "$STORE" "$T/home/.config"

# A corrupt environment is an error, never a crash.
cp -r "$STORE" "$T/corrupt"
"$PY" -c 'import os,sys; f=open(sys.argv[1],"r+b"); f.seek(0); f.write(os.urandom(8192))' "$T/corrupt/data.mdb"
"$F" --store "$T/corrupt" --key-file "$T/good.key" account list >/dev/null 2>"$T/err"
rc=$?
check "corrupt environment: clean error" sh -c 'test "$1" -ne 0 && test "$1" -lt 128' _ "$rc"
: >"$T/corrupt/data.mdb"
"$F" --store "$T/corrupt" account list >/dev/null 2>&1
rc=$?
check "empty data file: clean error" sh -c 'test "$1" -ne 0 && test "$1" -lt 128' _ "$rc"
finish
