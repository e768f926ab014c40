#!/bin/bash
# Many accounts at once: `account import` of a CSV with good and bad rows
# (each bad row named with its line and field, nothing half-written,
# --continue, --dry-run, passwords from a column or a --secrets file, the
# warning to delete them), `account export` without secrets and back; a
# sealed `store export` / `store import` round trip with a canary
# password never in clear, its password still signing in on the real
# Postfix, and a wrong passphrase, a cut or altered file refused whole.
. "$top_srcdir/tests/probe-common.sh"

A=alice@mail.test
B=bob@mail.test
S0=$MAILSTACK_SMTP_STARTTLS_PORT
CANARY=$MAILSTACK_ALICE_PASS
D=$T/imp
mkdir -p "$D"
st() { "$FLUENZR" --store "$D/$1" --key-file "$D/$1.key" "${@:2}"; }
count() { st "$1" account list --json 2>/dev/null | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
no_canary() { ! grep -rqF -- "$CANARY" "$@"; }

cat >"$D/mixed.csv" <<CSV
email,name,smtp-host,smtp-port,smtp-security,ca-file,password
$A,"Alice, the first",localhost,$S0,starttls,$CA,$CANARY
carol@mail.test,Carol,localhost,99999,starttls,,
dave@mail.test,Dave,localhost,$S0,none,,
$B,Bob,localhost,$S0,starttls,$CA,$MAILSTACK_BOB_PASS
not-an-address,X,localhost,$S0,starttls,,
$A,Again,localhost,$S0,starttls,,
CSV
RC=0
st s account import "$D/mixed.csv" >"$D/out" 2>"$D/err" || RC=$?
check "mixed: exit 65" test "$RC" = 65
check "mixed: line 3 smtp-port named" grep -q "^fluenzr-tui: line 3: invalid smtp-port:" "$D/err"
check "mixed: line 4 smtp-security named" grep -q "^fluenzr-tui: line 4: invalid smtp-security:" "$D/err"
check "mixed: line 6 email named" grep -q "^fluenzr-tui: line 6: invalid email:" "$D/err"
check "mixed: line 7 the duplicate named" grep -q "^fluenzr-tui: line 7: invalid email: $A is also on line 2" "$D/err"
check "mixed: nothing imported" test "$(count s)" = 0
check "mixed: the password is not echoed" no_canary "$D/out" "$D/err"

RC=0
st s account import --dry-run --continue "$D/mixed.csv" >"$D/out" 2>"$D/err" || RC=$?
check "dry run: says what it would add" grep -q "would add $B" "$D/out"
check "dry run: nothing written" test "$(count s)" = 0

RC=0
st s account import --continue "$D/mixed.csv" >"$D/out" 2>"$D/err" || RC=$?
check "continue: exit 65 (rows refused)" test "$RC" = 65
check "continue: the two good rows" test "$(count s)" = 2
check "continue: warning to delete the file" grep -q "warning: $D/mixed.csv holds passwords in clear: delete it" "$D/err"
check "continue: the password signs in" sh -c "'$FLUENZR' --store '$D/s' --key-file '$D/s.key' test $A --no-send --json >/dev/null"
check "continue: no password in clear in the store" no_canary "$D/s"

# An account already in the store: all or nothing, its line named.
printf 'email,smtp-host\nnew@mail.test,localhost\n%s,localhost\n' "$B" >"$D/exists.csv"
RC=0
st s account import "$D/exists.csv" >"$D/out" 2>"$D/err" || RC=$?
check "exists: refused" test "$RC" != 0
check "exists: its line named" grep -q "line 3: $B: the account exists already: nothing imported" "$D/err"
check "exists: not even the new one" test "$(count s)" = 2

# Passwords from a file of their own; the accounts from stdin.
printf 'email,smtp-host,smtp-port,ca-file\n%s,localhost,%s,%s\n' $A "$S0" "$CA" >"$D/nopw.csv"
printf 'email,password\n%s,%s\n' $A "$CANARY" >"$D/secrets.csv"
RC=0
st s2 account import - --secrets "$D/secrets.csv" <"$D/nopw.csv" >"$D/out" 2>"$D/err" || RC=$?
check "secrets file: imported" test "$RC" = 0
check "secrets file: warning to delete it" grep -q "warning: $D/secrets.csv holds passwords in clear" "$D/err"
check "secrets file: the password signs in" sh -c "'$FLUENZR' --store '$D/s2' --key-file '$D/s2.key' test $A --no-send --json >/dev/null"
printf 'email,password\nzed@mail.test,x\n' >"$D/bad-secrets.csv"
RC=0
st s3 account import - --secrets "$D/bad-secrets.csv" <"$D/nopw.csv" >/dev/null 2>"$D/err" || RC=$?
check "secrets file: an unknown account refused" grep -q "line 2: no account zed@mail.test in the import" "$D/err"
check "secrets file: nothing imported" test "$(count s3)" = 0

# account export: no secrets, and it imports back.
st s account export >"$D/export.csv" 2>"$D/err" || fail "account export: $(cat "$D/err")"
check "export: a header and a row per account" test "$(wc -l <"$D/export.csv")" = 3
check "export: no password" no_canary "$D/export.csv"
check "export: no password column" sh -c "! head -n 1 '$D/export.csv' | grep -q password"
st s4 account import "$D/export.csv" >/dev/null 2>&1
summary() {
	st "$1" account list --json | $PY -c 'import json,sys; print(sorted((a["email"], a["display_name"], a["smtp"]["port"]) for a in json.load(sys.stdin)))'
}
check "export: imports back the same accounts" test "$(summary s4)" = "$(summary s)"

# ---- sealed copy of a store ----
PASS=Sealed-Copy-Passphrase-9
RC=0
st s store export --sealed "$D/copy.seal" --sealed-passphrase-fd 3 3<<<"$PASS" >"$D/out" 2>"$D/err" || RC=$?
check "sealed: exported" test "$RC" = 0
check "sealed: mode 0600" test "$(stat -c %a "$D/copy.seal")" = 600
check "sealed: no password in clear in the file or the output" no_canary "$D/copy.seal" "$D/out" "$D/err"
check "sealed: no address in clear either" sh -c "! grep -qF '$A' '$D/copy.seal'"
check "sealed: no temporary file left" test ! -e "$D/copy.seal.tmp"
RC=0
st s store export "$D/x.seal" >/dev/null 2>&1 || RC=$?
check "sealed: export without --sealed refused" test "$RC" = 64
RC=0
st s5 store import "$D/copy.seal" --sealed-passphrase-fd 3 3<<<"wrong-$PASS" >/dev/null 2>"$D/err" || RC=$?
check "sealed: a wrong passphrase: 77" test "$RC" = 77
check "sealed: nothing imported" test "$(count s5)" = 0
head -c -20 "$D/copy.seal" >"$D/cut.seal"
RC=0
st s5 store import "$D/cut.seal" --sealed-passphrase-fd 3 3<<<"$PASS" >/dev/null 2>"$D/err" || RC=$?
check "sealed: a cut file refused" test "$RC" != 0
check "sealed: a cut file: nothing imported" test "$(count s5)" = 0
$PY -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 1
open(sys.argv[2], "wb").write(b)' "$D/copy.seal" "$D/flip.seal"
RC=0
st s5 store import "$D/flip.seal" --sealed-passphrase-fd 3 3<<<"$PASS" >/dev/null 2>"$D/err" || RC=$?
check "sealed: an altered byte refused" test "$RC" != 0
check "sealed: an altered byte: nothing imported" test "$(count s5)" = 0
RC=0
st s6 store import "$D/copy.seal" --sealed-passphrase-fd 3 3<<<"$PASS" >"$D/out" 2>"$D/err" || RC=$?
check "sealed: imported into another store" test "$RC" = 0
check "sealed: every account" test "$(count s6)" = 2
check "sealed: store check passes" sh -c "'$FLUENZR' --store '$D/s6' --key-file '$D/s6.key' store check >/dev/null"
check "sealed: the password came across and signs in" sh -c "'$FLUENZR' --store '$D/s6' --key-file '$D/s6.key' test $A --no-send --json >/dev/null"
check "sealed: no password in clear in the new store" no_canary "$D/s6"
RC=0
st s6 store import "$D/copy.seal" --sealed-passphrase-fd 3 3<<<"$PASS" >/dev/null 2>"$D/err" || RC=$?
check "sealed: again: the accounts exist: 73" test "$RC" = 73
check "sealed: again: nothing changed" test "$(count s6)" = 2
finish
