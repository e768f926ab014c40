#!/bin/bash
# A password's age: the time it was set is kept (never the password),
# `account show`, `account list` and `check --all` show it, and past
# FLUENZR_SECRET_DAYS the account needs attention. The time is moved back
# in the store's activity database with mdb_dump/mdb_load, as time would.
. "$top_srcdir/tests/lib.sh"
need /usr/bin/python3 mdb_dump mdb_load
setup_home
D=$T/age
F=("$FLUENZR" --store "$D/s" --key-file "$D/k")
CANARY=Canary-Age-Pass-$$

"${F[@]}" account add --email a@example.org --smtp-host 127.0.0.1 --smtp-port 9 \
	--password-stdin <<<"$CANARY" >/dev/null || fail "account add"
"${F[@]}" account add --email b@example.org --smtp-host 127.0.0.1 --smtp-port 9 \
	--no-password >/dev/null || fail "account add without password"
show() { "${F[@]}" account show "$1" --json | $PY -c "import json,sys; h=json.load(sys.stdin)['health']; print($2)"; }

check "set now: 0 days" test "$(show a@example.org "h['secret_age_days']")" = 0
check "no reminder yet" test "$(show a@example.org "h['secret_reminder']")" = False
check "no password: age unknown" test "$(show b@example.org "h['secret_age_days']")" = None
check "the password is not in the activity database" sh -c "! mdb_dump -p -s activity '$D/s' | grep -qF '$CANARY'"

# 200 days pass.
old=$(( $(date +%s) - 200 * 86400 ))
mdb_dump -p -s activity "$D/s" | sed "s/pw=[0-9]*/pw=$old/" >"$T/activity.dump"
mdb_load -s activity "$D/s" <"$T/activity.dump" 2>/dev/null || fail "mdb_load"
check "200 days" test "$(show a@example.org "h['secret_age_days']")" = 200
check "past the default 180: reminder" test "$(show a@example.org "h['secret_reminder']")" = True
check "text list says so" sh -c "'$FLUENZR' --store '$D/s' --key-file '$D/k' account list | grep -q 'a@example.org.*password 200 days old'"
check "show says so" sh -c "'$FLUENZR' --store '$D/s' --key-file '$D/k' account show a@example.org | grep -q 'password age:  200 days (change it)'"
check "FLUENZR_SECRET_DAYS=365: no reminder" test "$(FLUENZR_SECRET_DAYS=365 show a@example.org "h['secret_reminder']")" = False
check "FLUENZR_SECRET_DAYS=0: never" test "$(FLUENZR_SECRET_DAYS=0 show a@example.org "h['secret_reminder']")" = False

# check --all names it (the account also fails: port 9 refuses).
"${F[@]}" check --all --timeout 2 --no-alternatives >"$T/check.out" 2>&1
check "check --all: the age in its line" grep -q "a@example.org.*password 200 days old" "$T/check.out"

# A new password starts the age again; a change of other fields does not.
"${F[@]}" account edit a@example.org --name "Renamed" >/dev/null || fail "edit"
check "edit without password: still 200" test "$(show a@example.org "h['secret_age_days']")" = 200
"${F[@]}" account edit a@example.org --password-stdin <<<"new-$CANARY" >/dev/null || fail "edit password"
check "new password: 0 days" test "$(show a@example.org "h['secret_age_days']")" = 0
# A rename keeps it, a removal takes it away.
"${F[@]}" account edit a@example.org --email c@example.org >/dev/null || fail "rename"
check "renamed: history and age follow" test "$(show c@example.org "len(h['history']), h['secret_age_days']")" = "1 0"
"${F[@]}" account remove c@example.org >/dev/null || fail "remove"
check "removed: nothing left in activity" sh -c "! mdb_dump -p -s activity '$D/s' | grep -q 'c@example.org'"
finish
