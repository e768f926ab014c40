#!/bin/bash
# `fluenzr-tui test` against a real Exim 4.96 (tests/mailstack/exim.sh):
# each case is an account of a kind users really have on Exim hosting, and
# asserts the category and reason the user should be given, with Exim's own
# words in the diagnosis. Exim sends no enhanced status codes by default,
# words its refusals its own way and wraps long ones over several lines,
# so these cases hold the diagnosis to more than Postfix's phrasing.
. "$top_srcdir/tests/probe-common.sh"
start_exim

A=alice@mail.test
PW=$MAILSTACK_ALICE_PASS
E0=$MAILSTACK_EXIM_STARTTLS_PORT
E1=$MAILSTACK_EXIM_IMPLICIT_PORT

# ex CASE PORT SECURITY [account add options...]: an account of alice's on
# an Exim port (security ssl/starttls/none as given).
ex() {
	local name=$1 port=$2 sec=$3
	shift 3
	local extra=()
	[ "$sec" != none ] || extra=(--allow-plain)
	mk "$name" $A "$PW" --smtp-host localhost --smtp-port "$port" \
		--smtp-security "$sec" --ca-file "$CA" "${extra[@]}" "$@"
}

# said CASE WORDS: the diagnosis shows the server's own words.
said() {
	check "$1: the server's words '$2'" test "$(jget "'$2' in j['diagnosis']['reply']")" = True
}
# at CASE STAGE: the failure is placed at that step of the dialogue.
at() {
	check "$1: stage $2" test "$(jget "j['diagnosis']['stage']")" = "$2"
}
# no_credentials CASE: at most a bare "AUTH PLAIN" (the probe asks, without
# credentials, what a port without AUTH says to it), never a secret.
no_credentials() {
	check "$1: no credentials sent" test "$(jget "[l['text'] for l in j['transcript'] if l['dir'] == 'C' and (l['text'].upper().startswith('AUTH') or '<redacted>' in l['text'])]")" = "['AUTH PLAIN']"
}
# auth_ok CASE: AUTH succeeded before the failure.
auth_ok() {
	check "$1: AUTH succeeded first" test "$(jget "[s['ok'] for s in j['steps'] if s['name'] == 'smtp.auth']")" = "[True]"
}

# ---- success: the message goes through Exim into alice's maildir ----
case_ok() {
	local TOKEN
	ex ok "$E0" starttls
	run ok $A
	expect ok ok
	check "ok: it was Exim 4.96 that answered" test "$(jget "any('Exim 4.96' in l['text'] for l in j['transcript'] if l['dir'] == 'S')")" = True
	check "ok: AUTH only after STARTTLS" test "$(jget "[l['text'].split()[0] for l in j['transcript'] if l['dir'] == 'C' and l['text'].split()[0] in ('STARTTLS', 'AUTH')]")" = "['STARTTLS', 'AUTH']"
	TOKEN=$(jget "j['token']")
	wait_for -t 10 sh -c "grep -rl 'Subject: fluenzr-tui test $TOKEN' '$MAILSTACK_ALICE_MAILDIR' 2>/dev/null | grep -q ." ||
		fail "ok: the test message did not arrive in $MAILSTACK_ALICE_MAILDIR"
	check "ok: delivered by Exim" sh -c "grep -rl 'Subject: fluenzr-tui test $TOKEN' '$MAILSTACK_ALICE_MAILDIR' | xargs grep -l 'with esmtpsa' | grep -q ."
}
# The whole round trip: sent through Exim, delivered over LMTP, found over
# IMAP by the reply check.
case_imap_ok() {
	ex imap_ok "$E0" starttls --imap-host localhost --imap-port "$MAILSTACK_IMAPS_PORT" \
		--imap-security ssl
	run imap_ok $A
	expect imap_ok ok
	check "imap_ok: the message sent through Exim was found over IMAP" test "$(jget "j['reply_detection']")" = True
}
case_implicit_ok() {
	ex implicit_ok "$E1" ssl
	run implicit_ok $A
	expect implicit_ok ok
	check "implicit_ok: TLS verified" test "$(jget "j['tls'][0]['verified']")" = True
}

# ---- logging in ----
case_badpw() {
	mk badpw $A "not-alices-password" --smtp-host localhost --smtp-port "$E0" \
		--smtp-security starttls --ca-file "$CA"
	run badpw $A
	expect badpw auth_failed bad_credentials
	said badpw "Incorrect authentication data"
	at badpw auth
}
# An account set to no encryption on a port that offers STARTTLS: Exim
# offers AUTH only inside TLS, so the fix is encryption, not the login.
case_clear_auth() {
	ex clear_auth "$E0" none
	run clear_auth $A
	expect clear_auth encryption_required
	no_credentials clear_auth
	check "clear_auth: the fix names STARTTLS" test "$(jget "'starttls' in j['diagnosis']['fixes'][0].lower()")" = True
}
case_noauth() {
	ex noauth "$MAILSTACK_EXIM_NOAUTH_PORT" starttls
	run noauth $A
	expect noauth auth_unsupported not_offered
	no_credentials noauth
	said noauth "AUTH command used when not advertised"
}

# ---- encryption that does not match the port ----
case_ssl_on_starttls() {
	ex ssl_on_starttls "$E0" ssl
	run ssl_on_starttls $A --timeout 3 --no-alternatives
	expect ssl_on_starttls tls_mismatch server_speaks_plain
	check "ssl_on_starttls: no AUTH sent" no_auth_sent
}
case_starttls_on_ssl() {
	ex starttls_on_ssl "$E1" starttls
	run starttls_on_ssl $A --timeout 2 --no-alternatives
	expect starttls_on_ssl tls_mismatch server_speaks_tls
	check "starttls_on_ssl: no AUTH sent" no_auth_sent
}
case_none_on_ssl() {
	ex none_on_ssl "$E1" none
	run none_on_ssl $A --timeout 2 --no-alternatives
	expect none_on_ssl tls_mismatch server_speaks_tls
	check "none_on_ssl: no AUTH sent" no_auth_sent
}

# ---- certificates ----
# cert NAME PORT REASON
case_cert() {
	local name=$1 port=$2 reason=$3
	ex "$name" "$port" starttls
	run "$name" $A
	expect "$name" invalid_certificate "$reason"
	check "$name: no AUTH sent" no_auth_sent
	check "$name: tls problem $reason" test "$(jget "j['tls'][0]['problem']")" = "$reason"
}

# ---- who may send what ----
# Exim's ACL with a message, wrapped by Exim over two reply lines.
case_mismatch() {
	mk mismatch bob@mail.test "$PW" --smtp-host localhost --smtp-port "$E0" \
		--smtp-security starttls --username $A --ca-file "$CA"
	run mismatch bob@mail.test
	expect mismatch sender_rejected
	at mismatch mail
	auth_ok mismatch
	said mismatch "is not owned by authenticated user"
}
# The same ACL without a message: Exim's "550 Administrative prohibition".
case_mismatch_bare() {
	mk mismatch_bare bob@mail.test "$PW" --smtp-host localhost \
		--smtp-port "$MAILSTACK_EXIM_MISMATCH_PORT" --smtp-security starttls \
		--username $A --ca-file "$CA"
	run mismatch_bare bob@mail.test
	expect mismatch_bare sender_rejected
	at mismatch_bare mail
	said mismatch_bare "Administrative prohibition"
}
# No password, another domain: Exim relays only for a login.
case_relay() {
	"$FLUENZR" --store "$T/relay/s" --key-file "$T/relay/k" account add \
		--email carol@example.com --smtp-host localhost --smtp-port "$E0" \
		--smtp-security starttls --ca-file "$CA" --no-password \
		>/dev/null 2>"$T/relay.err" || { mkdir -p "$T/relay"; fail "relay: account add: $(cat "$T/relay.err")"; }
	run relay carol@example.com
	expect relay recipient_rejected relay_denied
	at relay rcpt
	check "relay: no AUTH without a password" no_auth_sent
	said relay "relay not permitted"
}

# ---- sending limits (ratelimit ACLs, each already exceeded) ----
# limit NAME PORT STAGE REASON WORDS: rate_limited at STAGE after a good
# login (except at connect), with REASON and the server's WORDS (_ for a
# space in the table below).
case_limit() {
	local name=$1 port=$2 stage=$3 reason=$4 words=${5//_/ }
	ex "$name" "$port" starttls
	run "$name" $A
	expect "$name" rate_limited "$reason"
	at "$name" "$stage"
	said "$name" "$words"
	[ "$stage" = greeting ] || auth_ok "$name"
}

# Exim's own texts for a ratelimit ACL without a message name no limit:
# "451 Temporary local problem - please try later" and "550 Administrative
# prohibition" could be any defer or deny. What the user can be told is
# what the words say: a temporary refusal to retry later, and a refusal
# whose only clue is the server's words. Naming a sending limit there
# would be a guess.
case_rl_mail_bare() {
	ex rl_mail_bare "$MAILSTACK_EXIM_RL_MAIL_DEFER_PORT" starttls
	run rl_mail_bare $A
	expect rl_mail_bare server_unavailable temporary
	at rl_mail_bare mail
	auth_ok rl_mail_bare
	said rl_mail_bare "Temporary local problem"
	check "rl_mail_bare: the fix is to try again later" test "$(jget "'later' in j['diagnosis']['fixes'][0]")" = True
}
case_rl_rcpt_bare() {
	ex rl_rcpt_bare "$MAILSTACK_EXIM_RL_RCPT_DENY_PORT" starttls
	run rl_rcpt_bare $A
	expect rl_rcpt_bare recipient_rejected
	at rl_rcpt_bare rcpt
	auth_ok rl_rcpt_bare
	said rl_rcpt_bare "Administrative prohibition"
	check "rl_rcpt_bare: no doubt about the login's own mailbox" test "$(jget "any('mailbox exists at' in f for f in j['diagnosis']['fixes'])")" = False
}

CASES="
ok
imap_ok
implicit_ok
badpw
clear_auth
noauth
ssl_on_starttls
starttls_on_ssl
none_on_ssl
expired      cert expired $MAILSTACK_EXIM_EXPIRED_PORT expired
wronghost    cert wronghost $MAILSTACK_EXIM_WRONGHOST_PORT hostname_mismatch
mismatch
mismatch_bare
relay
rl_mail_bare
rl_rcpt_bare
rl_rate      limit rl_rate $MAILSTACK_EXIM_RL_RCPT_DEFER_PORT rcpt messages exceeds_limit
rl_cpanel    limit rl_cpanel $MAILSTACK_EXIM_RL_CPANEL_PORT rcpt messages max_emails_per_hour
rl_connect   limit rl_connect $MAILSTACK_EXIM_RL_CONNECT_PORT greeting connections reached_its_limit
rl_data      limit rl_data $MAILSTACK_EXIM_RL_DATA_PORT data messages hourly_sending_limit
"
run_cases "$CASES"
finish
