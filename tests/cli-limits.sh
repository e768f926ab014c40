#!/bin/bash
# Sending limits: an account's own (interval, daily cap), its preset's
# (office365), the outreach profile; `send` refusing with EX_TEMPFAIL and
# the time to retry, or waiting with --wait; a limit reply from the real
# Postfix pausing the account until `account limits --resume`.
. "$top_srcdir/tests/probe-common.sh"

A=alice@mail.test
B=bob@mail.test
PW=$MAILSTACK_ALICE_PASS
S0=$MAILSTACK_SMTP_STARTTLS_PORT
# The presets of this tree, not those installed on the machine.
export FLUENZR_PRESET_DIR=$top_srcdir/presets

acct() { "$FLUENZR" --store "$D/s" --key-file "$D/k" "$@"; }
snd() { RC=0; acct send --account $A "$@" >"$D/out.json" 2>"$D/err" || RC=$?; }
lim() { acct account limits $A --json | $PY -c "import json,sys; l=json.load(sys.stdin); print($1)"; }

# ---- a minimum interval: refuse, then wait ----
mk interval $A "$PW" --smtp-host localhost --smtp-port "$S0" --smtp-security starttls --ca-file "$CA"
acct account limits $A --interval 3 >/dev/null || fail "account limits --interval"
check "interval: its own limits" test "$(lim "l['source'], l['interval']")" = "account 3"
snd $B <<<"Subject: one"
check "interval: the first goes" test "$RC" = 0
snd --json $B <<<"Subject: two"
check "interval: the second is refused: EX_TEMPFAIL" test "$RC" = 75
check "interval: with the time to retry" test "$(jget "0 < j['messages'][0]['retry_after'] - __import__('time').time() <= 3")" = True
snd $B <<<"Subject: three"
check "interval: the text says when" grep -q "retry after 20.* UTC" "$D/err"
t0=$(date +%s%N)
snd --wait $B <<<"Subject: four"
t1=$(date +%s%N)
check "interval: --wait sends" test "$RC" = 0
check "interval: after waiting" test $(( (t1 - t0) / 1000000 )) -ge 1500
snd --wait=0 $B <<<"Subject: five"
check "interval: --wait=0 does not wait 3 s" test "$RC" = 75

# ---- a daily cap, counted in recipients, over a batch ----
mk day $A "$PW" --smtp-host localhost --smtp-port "$S0" --smtp-security starttls --ca-file "$CA"
acct account limits $A --day 3 >/dev/null
printf 'From x\nTo: %s, %s\nSubject: 1\n\n1\n\nFrom x\nTo: %s\nSubject: 2\n\n2\n\nFrom x\nTo: %s\nSubject: 3\n\n3\n' \
	$A $B $B $A >"$T/day.mbox"
snd -t --batch --json <"$T/day.mbox"
check "day: exit 75" test "$RC" = 75
check "day: two messages (3 recipients) went, the third held" test "$(jget "[m['sent'] for m in j['messages']]")" = "[True, True, False]"
check "day: why" test "$(jget "'daily limit of 3' in j['messages'][2]['reply']")" = True
check "day: retry within a day" test "$(jget "0 < j['messages'][2]['retry_after'] - __import__('time').time() <= 86400")" = True
check "day: counted" test "$(lim "l['sent_day']")" = 3

# ---- the preset's limits, the outreach profile, none ----
mk preset $A "$PW" --preset office365 --smtp-host localhost --smtp-port "$S0" --smtp-security starttls
check "preset: office365's published limits" test "$(lim "l['source'], l['day'], l['interval']")" = "preset office365 10000 2"
acct account limits $A --profile outreach >/dev/null
check "outreach profile" test "$(lim "l['source'], l['day'], l['hour'], l['interval']")" = "outreach 40 10 120"
acct account limits $A --profile none >/dev/null
check "profile none" test "$(lim "l['source'], l['day']")" = "none None"
acct account limits $A --profile provider >/dev/null
check "back to the provider's" test "$(lim "l['source']")" = "preset office365"
check "shown by account show" sh -c "'$FLUENZR' --store '$D/s' --key-file '$D/k' account show $A | grep -q 'sending: .*0 of 10000 a day.*one message every 2 s (preset office365)'"

# ---- a limit reply pauses the account ----
mk pause $A "$PW" --smtp-host localhost --smtp-port "$MAILSTACK_SMTP_MSGLIMIT_PORT" \
	--smtp-security starttls --ca-file "$CA"
snd $B <<<"Subject: p1"
snd --json $B <<<"Subject: p2"
check "pause: the server's limit: rate_limited" test "$(jget "j['category']")" = rate_limited
check "pause: exit 75" test "$RC" = 75
check "pause: paused for the default hour" test "$(lim "3500 < l['paused_until'] - __import__('time').time() <= 3600")" = True
snd --json $B <<<"Subject: p3"
check "pause: the next send refused before connecting" test "$(jget "j['category'], 'paused' in j['messages'][0]['reply']")" = "('limited', True)"
check "pause: exit 75 again" test "$RC" = 75
acct account limits $A --resume >/dev/null
check "pause: --resume" test "$(lim "l['paused_until']")" = None
finish
