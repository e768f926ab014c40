#!/bin/bash
# `fluenzr-tui send` against the real Postfix: recipients as arguments and
# from the headers (-t, Bcc removed), the envelope sender (-f), an added
# From (-F), a batch over one connection (mboxrd framing), a failure
# diagnosed as `test` diagnoses it, and the password nowhere in what send
# writes.
. "$top_srcdir/tests/probe-common.sh"

A=alice@mail.test
B=bob@mail.test
PW=$MAILSTACK_ALICE_PASS
S0=$MAILSTACK_SMTP_STARTTLS_PORT

# The maildir file holding TEXT, for a user (alice, bob), waited for.
delivered() {
	local dir=$1 text=$2
	wait_for -t 10 sh -c "grep -rl -F -- '$text' '$dir' 2>/dev/null | grep -q ." || return 1
	grep -rl -F -- "$text" "$dir" | head -n 1
}

# snd CASE [send options...] <message: $D/out.json, $D/err, $RC.
snd() {
	local name=$1
	shift
	D=$T/$name
	RC=0
	"$FLUENZR" --store "$D/s" --key-file "$D/k" send --account $A "$@" \
		>"$D/out.json" 2>"$D/err" || RC=$?
}

no_password_in() {
	! grep -rqF -- "$PW" "$@"
}

case_args() {
	local tag=args-$$-$RANDOM f
	mk args $A "$PW" --smtp-host localhost --smtp-port "$S0" \
		--smtp-security starttls --ca-file "$CA" --name "Alice Sender"
	snd args -i $B <<EOF
Subject: $tag
To: someone-else@mail.test

Hello Bob.
.
A lone dot above, and a line starting with a dot:
.hidden
EOF
	check "args: exit 0" test "$RC" = 0
	check "args: silent on success" test ! -s "$D/out.json"
	f=$(delivered "$MAILSTACK_BOB_MAILDIR" "$tag") || { check "args: nothing arrived for bob" false; cat "$D/err" >&2; return; }
	check "args: not for alice (To is not a recipient without -t)" \
		sh -c "! grep -rqF '$tag' '$MAILSTACK_ALICE_MAILDIR'"
	check "args: message intact" $PY - "$f" <<'PYEOF'
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
assert m['From'] == 'Alice Sender <alice@mail.test>', m['From']
assert m['Date'] is not None
assert m['Return-Path'] == '<alice@mail.test>', m['Return-Path']
body = m.get_content()
assert '\n.\nA lone dot above' in body, body
assert '\n.hidden' in body, body
PYEOF
	check "args: no password on disk output" no_password_in "$D/out.json" "$D/err"
}

case_t() {
	local tag=t-$$-$RANDOM f
	mk t $A "$PW" --smtp-host localhost --smtp-port "$S0" \
		--smtp-security starttls --ca-file "$CA"
	snd t -t -F "Zoë Test" <<EOF
To: "Bob, the builder" <$B> (a comment)
Bcc: Alice
 <$A>
Subject: $tag

-t body
EOF
	check "-t: exit 0" test "$RC" = 0
	f=$(delivered "$MAILSTACK_BOB_MAILDIR" "$tag") || { check "-t: nothing for bob" false; cat "$D/err" >&2; return; }
	check "-t: From added with the -F name" grep -q '^From: =?UTF-8?' "$f"
	f=$(delivered "$MAILSTACK_ALICE_MAILDIR" "$tag") || { check "-t: nothing for the Bcc" false; cat "$D/err" >&2; return; }
	check "-t: Bcc removed" sh -c "! grep -qi '^Bcc:' '$f'"
	check "-t: bad address named" sh -c "printf 'To: not an address\n\nx\n' |
		'$FLUENZR' --store '$D/s' --key-file '$D/k' send --account $A -t 2>&1 >/dev/null |
		grep -q \"To: 'not an address' is not an address\""
	check "-t: no recipient refused before connecting" sh -c "printf 'Subject: x\n\nx\n' |
		'$FLUENZR' --store '$D/s' --key-file '$D/k' send --account $A -t; test \$? = 65"
}

case_f() {
	local tag=f-$$-$RANDOM f
	mk f $A "$PW" --smtp-host localhost --smtp-port "$S0" \
		--smtp-security starttls --ca-file "$CA"
	snd f -f "$B" "$A" <<EOF
Subject: $tag

envelope from bob
EOF
	check "-f: exit 0" test "$RC" = 0
	f=$(delivered "$MAILSTACK_ALICE_MAILDIR" "$tag") || { check "-f: nothing arrived" false; cat "$D/err" >&2; return; }
	check "-f: envelope sender" grep -q "^Return-Path: <$B>" "$f"
	check "-f: From from -f" grep -q "^From: $B" "$f"
}

case_batch() {
	local tag=batch-$$-$RANDOM i n
	mk batch $A "$PW" --smtp-host localhost --smtp-port "$S0" \
		--smtp-security starttls --ca-file "$CA"
	for i in 1 2 3 4 5; do
		printf 'From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n'
		printf 'To: %s\nSubject: %s %s\n\n>From the mbox\n\n' $B "$tag" $i
	done >"$T/batch.mbox"
	# A message without recipient in the middle: reported, the others go.
	{
		head -n 12 "$T/batch.mbox"
		printf 'From x\nSubject: none\n\nno recipient\n\n'
		tail -n +13 "$T/batch.mbox"
	} >"$T/batch2.mbox"
	snd batch -t --batch --json -v <"$T/batch2.mbox"
	check "batch: exit 65 (one message could not be sent as given)" test "$RC" = 65
	check "batch: one connection" test "$(jget "sum(1 for l in j['transcript'] if l['dir'] == 'C' and l['text'].startswith('EHLO'))")" = 2
	check "batch: six messages, five sent" test "$(jget "[m['sent'] for m in j['messages']]")" = \
		"[True, True, False, True, True, True]"
	check "batch: the bad one named" test "$(jget "j['messages'][2]['reply']")" = \
		"not sent: no recipient in To, Cc or Bcc"
	check "batch: category ok" test "$(jget "j['category']")" = ok
	n=0
	for i in 1 2 3 4 5; do
		f=$(delivered "$MAILSTACK_BOB_MAILDIR" "$tag $i") && n=$((n + 1))
	done
	check "batch: 5 delivered" test "$n" = 5
	check "batch: >From unquoted" grep -q '^From the mbox' "$f"
	check "batch: not an mbox refused" sh -c "echo 'Subject: x' |
		'$FLUENZR' --store '$D/s' --key-file '$D/k' send --account $A -t --batch $B 2>&1 |
		grep -q 'not an mbox'"
	check "batch: no password in the JSON" no_password_in "$D/out.json" "$D/err"
}

case_auth() {
	mk auth $A "wrong-$PW" --smtp-host localhost --smtp-port "$S0" \
		--smtp-security starttls --ca-file "$CA"
	snd auth --json $B <<<"Subject: x"
	D=$T/auth
	check "auth: category auth_failed" test "$(jget "j['category']")" = auth_failed
	check "auth: exit 77" test "$RC" = 77
	check "auth: message not sent" test "$(jget "j['messages'][0]['sent']")" = False
	snd auth $B <<<"Subject: x"
	check "auth: diagnosis on stderr" grep -q "auth_failed" "$D/err"
	check "auth: what to check" grep -q "what to check" "$D/err"
}

case_rcpt() {
	mk rcpt $A "$PW" --smtp-host localhost --smtp-port "$S0" \
		--smtp-security starttls --ca-file "$CA"
	snd rcpt --json nobody@mail.test <<<"Subject: x"
	check "rcpt: recipient_rejected" test "$(jget "j['category']")" = recipient_rejected
	check "rcpt: exit 67" test "$RC" = 67
	check "rcpt: the server's words" test "$(jget "j['messages'][0]['code']")" = 550
}

case_tempfail() {
	# Postfix on this port takes one message a minute from 127.0.0.1.
	local tag=temp-$$-$RANDOM
	mk temp $A "$PW" --smtp-host localhost --smtp-port "$MAILSTACK_SMTP_MSGLIMIT_PORT" \
		--smtp-security starttls --ca-file "$CA"
	printf 'From x\nTo: %s\nSubject: %s 1\n\none\n\nFrom x\nTo: %s\nSubject: %s 2\n\ntwo\n' \
		$B "$tag" $B "$tag" >"$T/temp.mbox"
	snd temp -t --batch --json <"$T/temp.mbox"
	check "tempfail: rate_limited" test "$(jget "j['category']")" = rate_limited
	check "tempfail: exit 75" test "$RC" = 75
	check "tempfail: a 4xx reply" test "$(jget "str(j['messages'][-1]['code'])[0]")" = 4
}

case_noaccount() {
	mk none $A "$PW" --smtp-host localhost --smtp-port "$S0"
	D=$T/none
	RC=0
	"$FLUENZR" --store "$D/s" --key-file "$D/k" send --account nobody@mail.test $B \
		</dev/null >/dev/null 2>&1 || RC=$?
	check "no account: exit 66" test "$RC" = 66
	RC=0
	"$FLUENZR" --store "$D/s" --key-file "$D/k" send --account $A </dev/null \
		>/dev/null 2>&1 || RC=$?
	check "no recipient: usage" test "$RC" = 64
	RC=0
	"$FLUENZR" --store "$D/s" --key-file "$D/k" send --account $A -f 'a b' $B \
		</dev/null >/dev/null 2>&1 || RC=$?
	check "bad -f: data error" test "$RC" = 65
}

# Each case reports its own checks; one that stops early says so by a
# failed check and returns, and the others still run.
for c in args t f batch auth rcpt tempfail noaccount; do
	echo "# case $c"
	"case_$c"
done
finish
