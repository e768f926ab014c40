#!/bin/bash
# Where the test message landed: INBOX, Junk (a Sieve rule of the stack
# files it there), with SPECIAL-USE flags and without (names only), a copy
# in Sent or none; the folder map, the capabilities for reply detection and
# what the receiving side wrote on the message, in JSON and in text.
# In the DNS harness's namespace, serving the stack's DKIM key, so that our
# own check of the signature passes and asks nothing of the host's resolver.
PROBE_DNS=1
. "$top_srcdir/tests/probe-common.sh"
{ echo "@ A 127.0.0.1"; cat "$MAILSTACK_DKIM_RECORD"; } | dns_zone "$MAILSTACK_DOMAIN"
dns_start

SMTP=(--smtp-host localhost --smtp-port "$MAILSTACK_SMTP_STARTTLS_PORT" --smtp-security starttls)
DOM=$MAILSTACK_DOMAIN

# acct CASE USER PASS IMAPS-PORT
acct() {
	mk "$1" "$2" "$3" "${SMTP[@]}" --username "$2" --ca-file "$CA" \
		--imap-host localhost --imap-port "$4" --imap-security ssl
}

# In INBOX; the stack keeps no copy in Sent for alice.
acct inbox "$MAILSTACK_ALICE_USER" "$MAILSTACK_ALICE_PASS" "$MAILSTACK_IMAPS_PORT"
run inbox "$MAILSTACK_ALICE_USER"
expect inbox ok
check "inbox: landed in INBOX" test "$(jget "(j['placement']['landed'], j['placement']['landed_folder'])")" = "('inbox', 'INBOX')"
check "inbox: reply detection yes" test "$(jget "j['reply_detection']")" = True
check "inbox: no copy in Sent" test "$(jget "j['placement']['sent_copy']")" = no
check "inbox: finding no_sent_copy" test "$(jget "[f['reason'] for f in j['findings']]")" = "['no_sent_copy']"
check "inbox: its fix speaks of APPEND" test "$(jget "'APPEND' in j['findings'][0]['fixes'][0]")" = True
check "inbox: folders from SPECIAL-USE" test "$(jget "{k: (v['name'], v['from']) for k, v in j['placement']['folders'].items()}")" = \
	"{'inbox': ('INBOX', 'standard'), 'sent': ('Sent', 'special-use'), 'junk': ('Junk', 'special-use'), 'trash': ('Trash', 'special-use'), 'drafts': ('Drafts', 'special-use'), 'archive': ('Archive', 'special-use')}"
check "inbox: capabilities" test "$(jget "j['placement']['capabilities']")" = \
	"{'idle': True, 'condstore': True, 'qresync': True, 'uidplus': True, 'special_use': True}"
check "inbox: no connection limit stated" test "$(jget "j['placement']['connection_limit']")" = None
check "inbox: the message was read" test "$(jget "0 < j['placement']['message_bytes'] < 262144")" = True
check "inbox: From domain" test "$(jget "j['placement']['received']['from_domain']")" = "$DOM"
check "inbox: handed over by 127.0.0.1 (LMTP hop skipped)" test "$(jget "j['placement']['received']['relay_ip']")" = 127.0.0.1
check "inbox: no A-R added by the stack" test "$(jget "j['placement']['received']['authentication_results']")" = None
check "inbox: steps" test "$(jget "','.join(s['name'] for s in j['steps'] if s['name'] in ('imap.folders', 'imap.reply_check', 'imap.sent_copy'))")" = \
	"imap.folders,imap.reply_check,imap.sent_copy"
check "inbox: the message is not marked seen (BODY.PEEK, EXAMINE)" \
	sh -c "! ls '$MAILSTACK_ALICE_MAILDIR/cur' '$MAILSTACK_ALICE_MAILDIR/new' | grep -q ':2,.*S'"
check "inbox: the fetch is kept out of the transcript" \
	test "$(jget "any('X-Mailer' in l['text'] for l in j['transcript'])")" = False
"$FLUENZR" --store "$D/s" --key-file "$D/k" test "$MAILSTACK_ALICE_USER" >"$D/out.txt" 2>&1
check "inbox text: copy in Sent: no" grep -q "copy in Sent: no" "$D/out.txt"
check "inbox text: the folder map" grep -q "junk     Junk (special-use)" "$D/out.txt"
check "inbox text: capabilities" grep -q "IDLE yes, CONDSTORE yes, QRESYNC yes, UIDPLUS yes, SPECIAL-USE yes" "$D/out.txt"
# What the last test message showed is kept in the account's activity.
"$FLUENZR" --store "$D/s" --key-file "$D/k" account show "$MAILSTACK_ALICE_USER" --json >"$D/show.json" ||
	fail "account show"
check "inbox: the last message's signer and relay are recorded" \
	$PY -c 'import json, sys, time
m = json.load(open(sys.argv[1]))["last_message"]
assert (m["dkim_d"], m["dkim_s"], m["relay_ip"]) == (sys.argv[2], sys.argv[3], "127.0.0.1"), m
assert abs(m["time"] - time.time()) < 300, m' "$D/show.json" "$DOM" "$MAILSTACK_DKIM_SELECTOR"
# Activity written before these fields still parses: no last_message.
if command -v mdb_dump >/dev/null && command -v mdb_load >/dev/null; then
	mdb_dump -p -s activity "$D/s" | grep -v '^ seen=' | sed 's/\\0aseen=[^\\]*//' >"$D/act.dump"
	check "old activity: the seen line is gone" sh -c "! grep -q 'seen=' '$D/act.dump'"
	mdb_load -s activity "$D/s" <"$D/act.dump" 2>/dev/null || fail "mdb_load"
	"$FLUENZR" --store "$D/s" --key-file "$D/k" account show "$MAILSTACK_ALICE_USER" --json >"$D/show.json" ||
		fail "account show"
	check "old activity parses: its history, no last message" \
		$PY -c 'import json, sys
a = json.load(open(sys.argv[1]))
assert a["last_message"] is None and len(a["health"]["history"]) >= 2, a' "$D/show.json"
else
	skip_or_fail "mdb_dump/mdb_load (lmdb-utils) are not installed"
fi

# Filed into Junk by the user's Sieve rule: passed, with the finding.
acct junk "$MAILSTACK_JUNK_USER" "$MAILSTACK_JUNK_PASS" "$MAILSTACK_IMAPS_PORT"
run junk "$MAILSTACK_JUNK_USER"
expect junk ok
check "junk: landed in Junk" test "$(jget "(j['placement']['landed'], j['placement']['landed_folder'])")" = "('junk', 'Junk')"
check "junk: not in INBOX for a reply detector" test "$(jget "j['reply_detection']")" = False
check "junk: finding landed_in_junk first" test "$(jget "j['findings'][0]['reason']")" = landed_in_junk
check "junk: its title names the folder" test "$(jget "j['findings'][0]['title']")" = "The test email landed in Junk (Junk), not in INBOX"
check "junk: fixes: authenticate, mark as not spam, warm up" test "$(jget "all(any(w in f for f in j['findings'][0]['fixes']) for w in ('DKIM', 'not spam', 'Warm up'))")" = True
check "junk: the step says where" test "$(jget "[s['detail'] for s in j['steps'] if s['name'] == 'imap.reply_check'][0].startswith('the test message landed in Junk (Junk)')")" = True
"$FLUENZR" --store "$D/s" --key-file "$D/k" test "$MAILSTACK_JUNK_USER" >"$D/out.txt" 2>&1
check "junk text: exit 0" test $? = 0
check "junk text: landed in Junk" grep -q "landed in Junk (Junk) after" "$D/out.txt"
check "junk text: the finding" grep -q "The test email landed in Junk (Junk), not in INBOX (landed_in_junk)" "$D/out.txt"
check "junk text: not 'not seen in time'" sh -c "! grep -q 'not seen in INBOX in time' '$D/out.txt'"

# A copy in Sent (a Sieve :copy, as providers that keep SMTP-sent mail).
acct sent "$MAILSTACK_SENTCOPY_USER" "$MAILSTACK_SENTCOPY_PASS" "$MAILSTACK_IMAPS_PORT"
run sent "$MAILSTACK_SENTCOPY_USER"
expect sent ok
check "sent: in INBOX, a copy in Sent" test "$(jget "(j['placement']['landed'], j['placement']['sent_copy'])")" = "('inbox', 'yes')"
check "sent: no finding" test "$(jget "j['findings']")" = "[]"

# A server without SPECIAL-USE: the folders by their names, "INBOX." prefix.
acct names "$MAILSTACK_NAMES_USER" "$MAILSTACK_NAMES_PASS" "$MAILSTACK_IMAPS_NAMES_PORT"
run names "$MAILSTACK_NAMES_USER"
expect names ok
check "names: SPECIAL-USE not offered" test "$(jget "j['placement']['capabilities']['special_use']")" = False
check "names: folders by name" test "$(jget "{k: v and (v['name'], v['from']) for k, v in j['placement']['folders'].items()}")" = \
	"{'inbox': ('INBOX', 'standard'), 'sent': ('INBOX.Sent', 'name'), 'junk': ('INBOX.Junk', 'name'), 'trash': ('INBOX.Deleted Items', 'name'), 'drafts': None, 'archive': None}"
check "names: landed in INBOX.Junk" test "$(jget "(j['placement']['landed'], j['placement']['landed_folder'])")" = "('junk', 'INBOX.Junk')"
check "names: no copy in INBOX.Sent" test "$(jget "j['placement']['sent_copy']")" = no

# Without sending, the folder map is still there, the placement is not.
run names "$MAILSTACK_NAMES_USER" --no-send
expect names ok
check "names --no-send: no placement" test "$(jget "(j['placement']['landed'], j['placement']['sent_copy'], j['findings'])")" = "(None, 'unknown', [])"
check "names --no-send: the folder map" test "$(jget "j['placement']['folders']['junk']['name']")" = INBOX.Junk

# The connection limit, when the server states it: that instance allows
# one IMAP session per user and address; one is held open, and the test's
# login is refused with the limit named.
$PY - "$CA" "$MAILSTACK_IMAPS_NAMES_PORT" "$MAILSTACK_NAMES_USER" "$D/held" 3<<<"$MAILSTACK_NAMES_PASS" <<'PY' &
import imaplib, os, ssl, sys, time
ca, port, user, ready = sys.argv[1:5]
m = imaplib.IMAP4_SSL("localhost", int(port), ssl_context=ssl.create_default_context(cafile=ca))
m.login(user, os.fdopen(3).read().strip())
open(ready, "w").close()
time.sleep(30)
PY
HOLDER=$!
at_exit "kill $HOLDER 2>/dev/null"
wait_for -t 10 test -e "$D/held" || fail "the first IMAP session did not log in"
run names "$MAILSTACK_NAMES_USER" --no-send
check "limit: the IMAP login is refused" test "$(jget "[s['ok'] for s in j['steps'] if s['name'] == 'imap.login']")" = "[False]"
check "limit: the limit the server stated" test "$(jget "j['placement']['connection_limit']")" = \
	"1 per user and address (the server said: Maximum number of connections from user+IP exceeded (mail_max_userip_connections=1))"
check "limit: diagnosed as a connection limit" test "$(jget "(j['category'], j['diagnosis']['reason'])")" = "('rate_limited', 'connections')"
check "limit: titled as a limit on sessions, not on sending" test "$(jget "j['diagnosis']['title']")" = "Too many connections"
"$FLUENZR" --store "$D/s" --key-file "$D/k" test "$MAILSTACK_NAMES_USER" --no-send >"$D/limit.txt" 2>&1
check "limit text: the connection limit line" grep -q "connection limit: 1 per user and address" "$D/limit.txt"
kill "$HOLDER" 2>/dev/null

finish
