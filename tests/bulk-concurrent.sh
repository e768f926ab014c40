#!/bin/bash
# Everything at once on one store: the console testing every account,
# two `check --all` runs and a `send --batch` through an account with
# limits, all started together. Afterwards the store verifies, every
# account's history holds every run (none lost to a concurrent writer),
# the limits counted every recipient, and every message arrived.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need "$PY"
tui_env
export NO_COLOR=1
start_mailstack

N=12
A=$MAILSTACK_ALICE_USER
add_account "$A" "$MAILSTACK_ALICE_PASS" --smtp-host localhost \
	--smtp-port "$MAILSTACK_SMTP_STARTTLS_PORT" --ca-file "$MAILSTACK_CA_FILE"
for i in $(seq 2 "$N"); do
	add_account "user$i@mail.test" "Wrong-$i" --smtp-host localhost \
		--smtp-port "$MAILSTACK_SMTP_STARTTLS_PORT" --ca-file "$MAILSTACK_CA_FILE"
done
"$FLUENZR" account limits "$A" --day 1000 >/dev/null || fail "account limits"
TAG=conc-$$-$RANDOM
for i in $(seq 20); do
	printf 'From x\nTo: %s\nSubject: %s %s\n\nbody %s\n\n' "$MAILSTACK_BOB_USER" "$TAG" "$i" "$i"
done >"$T/batch.mbox"
before=$(maildir_count "$MAILSTACK_BOB_MAILDIR")

tui_start "$FLUENZR"
wait_title "Email Accounts"
wait_screen "$N accounts"
keys T
"$FLUENZR" check --all --jobs 4 >"$T/check1.out" 2>&1 &
c1=$!
"$FLUENZR" check --all --jobs 4 >"$T/check2.out" 2>&1 &
c2=$!
"$FLUENZR" send --account "$A" -t --batch >"$T/send.out" 2>&1 <"$T/batch.mbox" &
s1=$!
wait_screen "Tested $N accounts" 60
rc1=0; wait $c1 || rc1=$?
rc2=0; wait $c2 || rc2=$?
rs=0; wait $s1 || rs=$?
check "check runs ended with 2 (accounts failing), not a store error" test "$rc1:$rc2" = "2:2"
check "send --batch sent everything" test "$rs" = 0
keys q
wait_exit

check "the store verifies" sh -c "'$FLUENZR' store check >/dev/null"
hist() { "$FLUENZR" account show "$1" --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["health"]["history"]))'; }
# Two checks and the console's test each; the sender's account also its send.
check "alice: 2 checks + console + send = 4 lines" test "$(hist "$A")" = 4
bad=
for i in $(seq 2 "$N"); do
	[ "$(hist "user$i@mail.test")" = 3 ] || bad="$bad user$i"
done
check "every other account: 2 checks + console = 3 lines:${bad:- yes}" test -z "$bad"
check "the limits counted 20 recipients" test "$("$FLUENZR" account limits "$A" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["sent_day"])')" = 20
check "20 messages arrived" wait_for -t 20 sh -c "test \$(find '$MAILSTACK_BOB_MAILDIR/new' '$MAILSTACK_BOB_MAILDIR/cur' -type f | wc -l) -ge $((before + 20))"
finish
