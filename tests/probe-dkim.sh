#!/bin/bash
# Our own check of the test message's DKIM signature: OpenDKIM signs at
# submission (the stack's milter), the key record is served by a real DNS
# server in the test's namespace, and libopendkim verifies it through our
# resolver: pass with the right key, fail with the reason when the key in
# DNS is not the signer's, fail when no key is published.
PROBE_DNS=1
. "$top_srcdir/tests/probe-common.sh"

A=$MAILSTACK_ALICE_USER
DOM=$MAILSTACK_DOMAIN
SEL=$MAILSTACK_DKIM_SELECTOR

# zone RECORD-FILE: mail.test with the key record of that file (or none).
zone() {
	{
		echo "@ MX 10 @"
		echo "@ A 127.0.0.1"
		[ -z "${1:-}" ] || cat "$1"
	} | dns_zone "$DOM"
}

mk dkim "$A" "$MAILSTACK_ALICE_PASS" --smtp-host localhost \
	--smtp-port "$MAILSTACK_SMTP_STARTTLS_PORT" --smtp-security starttls \
	--username "$A" --ca-file "$CA" \
	--imap-host localhost --imap-port "$MAILSTACK_IMAPS_PORT" --imap-security ssl

zone "$MAILSTACK_DKIM_RECORD"
dns_start
check "the key record is served" $PY "$top_srcdir/tests/dns-query.py" "$SEL._domainkey.$DOM" TXT
run dkim "$A"
expect dkim ok
check "pass: the message is signed by the stack" \
	test "$(jget "(j['placement']['received']['dkim_signature']['d'], j['placement']['received']['dkim_signature']['s'])")" = "('$DOM', '$SEL')"
check "pass: aligned with From, strict" \
	test "$(jget "j['placement']['received']['dkim_signature']['aligned_strict']")" = True
check "pass: verified by us" \
	test "$(jget "j['placement']['received']['dkim_verified']")" = "{'result': 'pass', 'd': '$DOM', 's': '$SEL', 'why': None}"
check "pass: no DKIM finding" test "$(jget "[f['reason'] for f in j['findings'] if f['reason'].startswith('dkim')]")" = "[]"
"$FLUENZR" --store "$D/s" --key-file "$D/k" test "$A" >"$D/out.txt" 2>&1
check "pass text: verified by us" grep -qx "  DKIM verified by us: pass" "$D/out.txt"

# What the test message showed feeds the account's domain health: its
# selector (d= is the domain checked), not the preset's guesses, and the
# host that relayed it for the reverse-DNS check.
"$FLUENZR" --store "$D/s" --key-file "$D/k" domain "$A" --json >"$D/domain.json" 2>"$D/domain.err" || true
dget() { $PY -c 'import json, sys
j = json.load(open(sys.argv[2]))
print(eval(sys.argv[1]))' "$1" "$D/domain.json"; }
check "domain: the DKIM key checked is the test message's selector" \
	test "$(dget "[(i['subject'], i['advisory'], i['status']) for i in j['items'] if i['id'] == 'dkim']")" = "[('$SEL', False, 'pass')]"
check "domain: the relay of the test message gets its reverse-DNS check" \
	test "$(dget "[i['subject'] for i in j['items'] if i['id'] == 'ptr']")" = "['$(jget "j['placement']['received']['relay_ip']")']"

# The key in DNS is not the signer's.
zone "$MAILSTACK_DKIM_WRONG_RECORD"
dns_restart
run dkim "$A"
expect dkim ok
check "wrong key: fail" test "$(jget "j['placement']['received']['dkim_verified']['result']")" = fail
check "wrong key: the reason" test "$(jget "j['placement']['received']['dkim_verified']['why']")" = "signature verification failed"
check "wrong key: the finding" test "$(jget "[f['reason'] for f in j['findings'] if f['reason'].startswith('dkim')]")" = "['dkim_failed']"
check "wrong key: its title" test "$(jget "[f['title'] for f in j['findings'] if f['reason'] == 'dkim_failed'][0]")" = \
	"The DKIM signature (d=$DOM) does not verify: signature verification failed"

# No key published at all.
zone
dns_restart
run dkim "$A"
check "no key: fail, and where it was looked for" \
	test "$(jget "(j['placement']['received']['dkim_verified']['result'], j['placement']['received']['dkim_verified']['why'])")" = \
	"('fail', 'no key record at $SEL._domainkey.$DOM')"
finish
