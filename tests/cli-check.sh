#!/bin/bash
# `fluenzr-tui check --all` against the real mail stack: each run leaves a
# line in every account's history (time, category, reason, duration, the
# last ten kept), health states change with the results (Healthy, Needs
# attention, Failing since ...), --changed prints only the accounts whose
# state changed and nothing else, the exit status summarises; `test` and
# `account list` see the same history.
. "$top_srcdir/tests/probe-common.sh"

A=alice@mail.test
B=bob@mail.test
S0=$MAILSTACK_SMTP_STARTTLS_PORT
D=$T/check
mkdir -p "$D"
F=("$FLUENZR" --store "$D/s" --key-file "$D/k")

add() {
	local email=$1 pw=$2
	shift 2
	"${F[@]}" account add --email "$email" --smtp-host localhost --smtp-port "$S0" \
		--smtp-security starttls --ca-file "$CA" "$@" --password-stdin <<<"$pw" \
		>/dev/null 2>"$D/add.err" || fail "account add $email: $(cat "$D/add.err")"
}
add $A "$MAILSTACK_ALICE_PASS"
add $B "wrong-$MAILSTACK_BOB_PASS"

# chk [options]: $D/out.json (or text), $RC.
chk() {
	RC=0
	"${F[@]}" check --all --timeout 5 "$@" >"$D/out.json" 2>"$D/err" || RC=$?
}
st() { jget "{a['account']: a['state'] for a in j}['$1']"; }

chk --json
check "first run: exit 2 (one account failing)" test "$RC" = 2
check "first run: alice healthy" test "$(st $A)" = healthy
check "first run: bob failing" test "$(st $B)" = failing
check "first run: bob failing since this run" test "$(jget "[a for a in j if a['account'] == '$B'][0]['since'] == [a for a in j if a['account'] == '$B'][0]['history'][-1]['time']")" = True
check "first run: the reason kept" test "$(jget "[a for a in j if a['account'] == '$B'][0]['history'][-1]['category']")" = auth_failed
check "first run: a duration kept" test "$(jget "[a for a in j if a['account'] == '$A'][0]['history'][-1]['ms'] > 0")" = True
check "first run: no message sent (sign-in only)" test "$(jget "all(a['category'] in ('ok', 'auth_failed') for a in j)")" = True
check "first run: changed from untested" test "$(jget "all(a['changed'] and a['previous_state'] == 'untested' for a in j)")" = True

chk --changed
check "nothing changed: --changed prints nothing" test ! -s "$D/out.json"
check "nothing changed: still exit 2" test "$RC" = 2

# Alice's server goes away: she fails, and only she is printed.
"${F[@]}" account edit $A --smtp-port 9 >/dev/null 2>&1 || fail "account edit"
chk --changed --no-alternatives
check "alice fails: one line" test "$(wc -l <"$D/out.json")" = 1
check "alice fails: it names her, failing since" grep -q "^$A .*connection_refused.*Failing since .* UTC \[++x\] (changed)" "$D/out.json"

"${F[@]}" account edit $A --smtp-port "$S0" >/dev/null 2>&1 || fail "account edit back"
chk --changed --json
check "alice back: needs attention after a recent failure" test "$(st $A)" = attention
check "alice back: only her" test "$(jget "len(j)")" = 1
check "alice back: strip oldest first" test "$(jget "j[0]['strip']")" = "++x+"

# Bob's password fixed: failing -> attention (recovering) -> healthy.
"${F[@]}" account edit $B --password-stdin <<<"$MAILSTACK_BOB_PASS" >/dev/null 2>&1 || fail "edit bob"
for i in 1 2 3 4 5 6 7 8 9 10; do chk --json; done
check "ten runs later: both healthy, exit 0" test "$RC" = 0
check "ten runs later: alice healthy" test "$(st $A)" = healthy
check "history keeps the last ten" test "$(jget "len(j[0]['history'])")" = 10
check "history strip of ten" test "$(jget "j[0]['strip']")" = "++++++++++"

# `test` leaves its line too, with the diagnosis's reason; the list shows it.
"${F[@]}" account edit $A --smtp-port 9 >/dev/null 2>&1
"${F[@]}" test $A --no-alternatives --timeout 5 --json >/dev/null 2>&1
chk --json --no-alternatives
# The test's line, then this run's.
check "test's result is in the history" test "$(jget "[a for a in j if a['account'] == '$A'][0]['history'][-2]['reason']")" = refused
"${F[@]}" account list --json >"$D/out.json" 2>"$D/err" || fail "account list: $(cat "$D/err")"
check "account list: health" test "$(jget "{a['email']: a['health']['state'] for a in j}['$A']")" = failing
check "account list: strip" test "$(jget "{a['email']: a['health']['strip'] for a in j}['$B']")" = "++++++++++"
"${F[@]}" account list >"$D/list.txt" 2>&1
check "account list (text): the state" grep -q "Failing since" "$D/list.txt"

# A store written before histories existed (no activity database) checks
# and lists as untested.
RC=0
"$FLUENZR" --store "$T/fresh/s" --key-file "$T/fresh/k" account add --email $A \
	--smtp-host localhost --smtp-port "$S0" --password-stdin <<<x >/dev/null 2>&1
"$FLUENZR" --store "$T/fresh/s" --key-file "$T/fresh/k" account list --json >"$D/out.json" 2>&1 || RC=$?
check "fresh store: list works" test "$RC" = 0
check "fresh store: untested" test "$(jget "j[0]['health']['state']")" = untested

# The shipped service runs what this test ran, quietly.
U=$top_builddir/contrib/systemd/fluenzr-check.service
check "unit: built" test -s "$U"
cmd=$(sed -n 's/^ExecStart=//p' "$U")
check "unit: the installed program's path" sh -c "case '$cmd' in /*/fluenzr-tui\ *) ! grep -q @ '$U';; *) false;; esac"
RC=0
# shellcheck disable=SC2086
FLUENZR_STORE=$D/s FLUENZR_KEY_FILE=$D/k "$FLUENZR" ${cmd#* } >"$D/unit.out" 2>&1 || RC=$?
RC2=0
FLUENZR_STORE=$D/s FLUENZR_KEY_FILE=$D/k "$FLUENZR" ${cmd#* } >"$D/unit.out" 2>&1 || RC2=$?
check "unit: its command runs (exit $RC2: failing)" test "$RC2" = 2
check "unit: a second run with nothing changed prints nothing" test ! -s "$D/unit.out"
check "unit: the timer starts it" grep -q '^OnCalendar=' "$top_srcdir/contrib/systemd/fluenzr-check.timer"

check "usage: check wants --all" sh -c "'$FLUENZR' --store '$D/s' --key-file '$D/k' check $A 2>/dev/null; test \$? = 64"
finish
