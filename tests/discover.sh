#!/bin/bash
# `fluenzr-tui discover` against a DNS server and autoconfig servers
# (tests/discover-server.py) on loopback in the test's own network and mount
# namespaces: port 53, 80 and 443 are the namespace's own, and the program's
# resolver reads the namespace's /etc/resolv.conf. The HTTPS servers' CA is
# given with --ca-file, as a user with a private CA would. Nothing leaves
# loopback.
. "$top_srcdir/tests/lib.sh"

. "$top_srcdir/tests/discover-lib.sh"

# disc NAME EMAIL [options]: runs discover --json; RC, MS, and D/out.json.
disc() {
	local name=$1 email=$2 t0
	shift 2
	D=$T/$name
	mkdir -p "$D"
	RC=0
	t0=$(date +%s%N)
	"$FLUENZR" discover "$email" --json --ca-file "$C/ca.pem" "$@" >"$D/out.json" 2>"$D/err" || RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
	echo "# $name: rc $RC in $MS ms: $(jget "[(c['source'], c['smtp']['host']) for c in j['candidates']]" 2>/dev/null)"
}
jget() {
	$PY -c 'import json, sys
j = json.load(open(sys.argv[2]))
print(eval(sys.argv[1]))' "$1" "$D/out.json"
}
contains() { grep -qF -- "$2" <<<"$1" || { echo "  '$1' lacks '$2'" >&2; return 1; }; }
first() { jget "j['candidates'][0]$1"; }
is() { [ "$1" = "$2" ] || { echo "  expected '$2', got '$1'" >&2; return 1; }; }
within() { [ "$MS" -lt "$(slow_ms "$1")" ] || { echo "  took $MS ms" >&2; return 1; }; }
has_note() { jget "j['notes']" | grep -qF "$1" || { echo "  notes: $(jget "j['notes']")" >&2; return 1; }; }

# ---- found ----
disc mx jean@monentreprise.test
check "a custom domain whose MX is at OVH gets the OVH preset" is "$(first "['preset']")" ovh
check "  its source says why" is "$(first "['why']")" "OVH Mail preset, because the MX is mx1.mail.ovh.net"
check "  the server is OVH's" is "$(first "['smtp']['host']")" ssl0.ovh.net
check "  and is flagged as outside the address's domain" is "$(first "['foreign_domain']")" True
check "  found fast" within 2000

disc ispmx someone@viaispdb.test
check "an MX at a provider the ISPDB knows gets its entry" is "$(first "['source']")" mx-ispdb
check "  its source says why" is "$(first "['why']")" "ISPDB entry for a1.net, because the MX is mx.a1.net"

disc isp ana@isp.test
check "an ISP's autoconfig over HTTPS is found" is "$(first "['source']")" autoconfig
check "  with its server" is "$(first "['smtp']['host']") $(first "['smtp']['port']") $(first "['smtp']['security']")" "smtp.isp.test 465 ssl"
check "  the placeholders replaced" is "$(first "['smtp']['username']") $(first "['imap']['username']")" "ana@isp.test ana"
check "  its source says where" is "$(first "['why']")" "autoconfig.isp.test over HTTPS"
check "  inside the address's domain, not flagged" is "$(first "['foreign_domain']")" False

disc wk bo@wk.test
check "the well-known autoconfig URL is found" is "$(first "['why']") $(first "['smtp']['host']")" "wk.test over HTTPS smtp.wk.test"

disc srv cy@srvonly.test
check "a domain with only SRV records is found" is "$(first "['source']")" srv
check "  submission on 587 with STARTTLS, IMAP on 993" is "$(first "['smtp']['host']") $(first "['smtp']['port']") $(first "['smtp']['security']") $(first "['imap']['host']") $(first "['imap']['port']")" \
	"mail.srvonly.test 587 starttls imap.srvonly.test 993"

disc stale di@stale.test
check "a correct MX beats a stale autoconfig" is "$(first "['source']") $(first "['smtp']['host']")" "mx-preset ssl0.ovh.net"
check "  the stale one is still offered, below" is "$(jget "j['candidates'][1]['source'] + ' ' + j['candidates'][1]['smtp']['host']")" "autoconfig old-smtp.stale.test"

# ---- every found server checked, not only guesses ----
disc rank ro@rank.test
check "an autoconfig server whose certificate is for another host ranks below a good SRV one" \
	is "$(jget "[(c['source'], c['smtp']['host']) for c in j['candidates']]")" "[('srv', 'smtp.rank.test'), ('autoconfig', 'out.rank.test')]"
check "  the good one says what its check showed" is "$(first "['why']")" "DNS SRV records of rank.test; checked: STARTTLS and AUTH PLAIN LOGIN"
check "  the other why it ranks lower" contains "$(jget "j['candidates'][1]['why']")" "autoconfig.rank.test over HTTPS; checked: implicit TLS, but its certificate failed the check"
disc isp ana@isp.test
check "a found server that cannot be reached now keeps its rank" is "$(first "['source']") $(first "['why']")" "autoconfig autoconfig.isp.test over HTTPS"
check "  and the note says why it was not checked" has_note "check of smtp.isp.test port 465: "

disc plain ed@plain.test
check "plain HTTP is not used without --allow-http" is "$RC" 69
disc plainok ed@plain.test --allow-http
check "with --allow-http it is, and said" is "$(first "['over_http']") $(first "['smtp']['host']")" "True smtp.plain.test"
check "  with a warning" grep -q "plain HTTP" "$D/err"

disc nothing fy@nowhere.test
check "nothing found: exit 69" is "$RC" 69
disc nothingtext fy@nowhere.test
"$FLUENZR" discover fy@nowhere.test --timeout 2 >"$D/text" 2>&1
check "  a clear message and the manual form" grep -q "No settings found for fy@nowhere.test" "$D/text"
check "  naming the command to enter it by hand" grep -q "account add --email fy@nowhere.test --smtp-host" "$D/text"

# ---- guessing: usual names checked with EHLO, TLS and the certificate ----
disc guess gi@guess.test --guess-ports 2465,2587
check "a domain found only by guessing" is "$(first "['source']") $(first "['smtp']['host']")" "guess smtp.guess.test"
check "  implicit TLS preferred when both answer" is "$(first "['smtp']['port']") $(first "['smtp']['security']")" "2465 ssl"
check "  its source says what answered" is "$(first "['why']")" "guessed: smtp.guess.test answered EHLO with implicit TLS and AUTH PLAIN LOGIN"
disc wrongcert wc@wrongcert.test --guess-ports 2465,2587
check "a guessed host whose certificate names another host ranks below one that passes" \
	is "$(jget "[c['smtp']['host'] for c in j['candidates']]")" "['smtp.wrongcert.test', 'mail.wrongcert.test']"
check "  and says why" contains "$(jget "j['candidates'][1]['why']")" "certificate failed the check"
disc noauth na@noauth.test --guess-ports 3465,3587
check "a guessed server that offers no AUTH is said so" is "$(first "['why']")" "guessed: smtp.noauth.test answered EHLO with STARTTLS, but offers no AUTH"
disc imapguess ig@imapguess.test --guess-ports 2465,2587,2993,2143
check "a domain whose IMAP server is found only by guessing" is "$(first "['smtp']['host']") $(first "['imap']['host']")" "smtp.imapguess.test imap.imapguess.test"
check "  implicit TLS preferred when both answer" is "$(first "['imap']['port']") $(first "['imap']['security']")" "2993 ssl"
check "  its source says what IMAP showed" contains "$(first "['why']")" "; IMAP guessed: imap.imapguess.test answered IMAP with implicit TLS and AUTH=PLAIN LOGIN"
disc imapstarttls ig@imapguess.test --guess-ports 2465,2587,3993,2143
check "an IMAP server with STARTTLS only is found on its port" is "$(first "['imap']['port']") $(first "['imap']['security']")" "2143 starttls"
check "  with what it offered after TLS" contains "$(first "['why']")" "imap.imapguess.test answered IMAP with STARTTLS and AUTH=PLAIN LOGIN"
disc imapsmtponly gi@guess.test --guess-ports 2465,2587,2993,2143
check "no IMAP server answering: the candidate has no IMAP side" is "$(first "['imap']")" None
disc imapwrongcert wc@wrongcert.test --guess-ports 2465,2587,2993,2143
check "a guessed IMAP server whose certificate names another host is not used" is "$(first "['imap']")" None
check "  and said" has_note "IMAP on mail.wrongcert.test port 2993 (implicit TLS): the certificate failed the check"
check "no credential, no AUTH, LOGIN or AUTHENTICATE, was ever sent during discovery" test ! -e "$T/ready.auth"
disc noguess gi@guess.test --guess-ports 2465,2587 --no-guess
check "--no-guess skips guessing" is "$RC" 69

# ---- hostile: each ends within the deadline, with a reason ----
disc silent ga@silent.test --timeout 1.5
check "a resolver that never answers: nothing found" is "$RC" 69
check "  within the deadline" within 2500
check "  and said" has_note "did not answer"

disc nullmx na@nullmx.test --timeout 2 --no-guess
check "a null MX (RFC 7505) is understood, not refused as malformed" has_note "MX of nullmx.test: a null MX (RFC 7505)"

disc garbage ha@garbage.test --timeout 2
check "a malformed DNS answer is refused" has_note "MX of garbage.test"
check "  at once" within 2500

disc chain ia@chain.test --timeout 2
check "a long CNAME chain is refused" has_note "CNAME chain"

disc trunc ja@trunc.test --timeout 2
check "a truncated answer whose TCP retry is malformed ends" is "$RC" 69
check "  within the deadline" within 3000

disc trickle ka@trickle.test --timeout 2
check "an HTTPS server that trickles is abandoned at the deadline" is "$RC" 69
check "  within it" within 3000

disc big la@big.test --timeout 3
check "a 1 GB document is refused" has_note "autoconfig.big.test"
check "  within the deadline" within 4000

disc bomb ma@bomb.test
check "an XML bomb is refused" has_note "DOCTYPE"
check "  at once" within 2500
disc doctype na@doctype.test
check "an external DTD is refused" has_note "DOCTYPE"
disc badxml oa@badxml.test
check "malformed XML is refused with its line" has_note "malformed XML at line"
disc loop pa@loop.test --timeout 3
check "a redirect loop ends" is "$RC" 69
check "  within the deadline" within 4000

# ---- account add with no server and no preset ----
add() { echo pw | "$FLUENZR" account add --email "$1" --password-stdin "${@:2}" >"$T/add.out" 2>"$T/add.err"; }
show() { "$FLUENZR" account show "$1" --json | $PY -c 'import json, sys
j = json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"; }
add ana@isp.test --ca-file "$C/ca.pem"
check "account add discovers the server when none is given" is "$(show ana@isp.test "j['smtp']['host'], j['smtp']['port']")" "('smtp.isp.test', 465)"
check "  and says where it came from" grep -q "found: autoconfig.isp.test over HTTPS" "$T/add.err"
add jean@monentreprise.test; RC=$?
check "a discovered server outside the domain is not saved without confirmation" is "$RC" 65
check "  the warning says why" grep -q "ssl0.ovh.net is not in monentreprise.test and was found through DNS or HTTP" "$T/add.err"
check "  and nothing was saved" sh -c '! "$1" account show jean@monentreprise.test >/dev/null 2>&1' _ "$FLUENZR"
add jean@monentreprise.test --trust-discovered
check "with --trust-discovered it is, with the preset" is "$(show jean@monentreprise.test "j['smtp']['host'], j.get('preset')")" "('ssl0.ovh.net', 'ovh')"
add fy@nowhere.test; RC=$?
check "nothing discovered: account add asks for the server" is "$RC" 65
check "  naming discover" grep -q "none found for fy@nowhere.test" "$T/add.err"

# ---- the CLI's edges ----
"$FLUENZR" discover not-an-address >"$T/o" 2>&1
check "an invalid address is refused" is "$?" 65
"$FLUENZR" discover a@b.test --timeout 0 >"$T/o" 2>&1
check "a zero timeout is refused" is "$?" 64
finish
