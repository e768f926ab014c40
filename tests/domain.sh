#!/bin/bash
# `fluenzr-tui domain` against a real DNS server (nsd, tests/dns-lib.sh)
# serving the zones written here: a well-configured domain passes
# everything, and each misconfiguration receivers punish is found, with
# its fix and the record to publish, in JSON and text alike: no SPF, SPF
# without the provider's include, two SPF records, more than 10 lookups,
# an include loop, no DMARC, p=none, DMARC inherited from the
# organizational domain, DKIM keys present, missing, malformed, revoked and
# short, reverse DNS confirmed or not, blocklists listed, not listed and
# refused (127.255.255.x), and hostile TXT records.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/dns-lib.sh"
dns_enter "$@"
setup_home
export FLUENZR_PRESET_DIR="$top_srcdir/presets"

K1='MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwzEL/vxy7HOwnYXMvntNtreLDmaTrJ3RxT6Y3QUSyG8Lo5J06ljA2Q2VUFAJVjNwwaZRkh29R5LoXh32F9nKQKQZx7GSLUjpr6w+lGC0kr+nwhEoJubMRQ+BsGOjmr8ngKqTLfIiK/1TXUJDmNe7IaYg9PD6'
K2='Zvtu0QDDVNZ+UMGTgh1/zJ3QbBb04i4zve6/HUSsMjdTqT7+FrULVpS4UYgvdNLhI4+XT4tKe+uYE+TqGefNgJhSPTNnZIZLhXmAeoSU4KYORFm874UQf4RPcI0g81KmpNk/ZOXRMPGhVCNnAL7iOoQQJVvNN9GFPi/bJ0hOMbAdUr880gH5wzqn7QIDAQAB'
K512='MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAK82yaJKqwfcAZqNqOOHsCo6kjJFu9tb6ftk3SL5LksY03w3Zq/q3SZ7N/CXP55at4O9KyH1h45YKEWMWRfjlNcCAwEAAQ=='

# The provider's SPF (the gmail preset's include), served here.
dns_zone google.com <<'Z'
_spf   TXT "v=spf1 ip4:192.0.2.0/24 ~all"
aspmx.l A 127.0.0.1
Z
# a custom domain whose mail is at Google, told by its MX alone
dns_zone workspace.test <<'Z'
@      MX  1 aspmx.l.google.com.
@      TXT "v=spf1 ip4:192.0.2.1 -all"
Z
dns_zone good.test <<Z
@      MX  10 mail
mail   A   127.0.0.1
; two strings, joined without a space (RFC 7208 §3.3)
@      TXT "v=spf1 include:_spf.goo" "gle.com mx ~all"
@      TXT "google-site-verification=abc"
google._domainkey TXT ( "v=DKIM1; k=rsa; p=$K1" "$K2" )
short._domainkey  TXT "v=DKIM1; k=rsa; p=$K512"
gone._domainkey   TXT "v=DKIM1; k=rsa; p="
bad._domainkey    TXT "v=DKIM1; k=rsa; p=!!not-base64!!"
_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@good.test"
Z
dns_zone nospf.test <<'Z'
@      MX  10 mail
mail   A   127.0.0.1
_dmarc TXT "v=DMARC1; p=quarantine"
Z
dns_zone noinc.test <<'Z'
@      MX  10 mail
mail   A   127.0.0.1
@      TXT "v=spf1 ip4:192.0.2.1 -all"
_dmarc TXT "v=DMARC1; p=none; rua=mailto:d@noinc.test"
Z
dns_zone twospf.test <<'Z'
@      MX  10 mail
mail   A   127.0.0.1
@      TXT "v=spf1 include:_spf.google.com ~all"
@      TXT "v=spf1 ip4:192.0.2.1 -all"
Z
{
	echo '@ MX 10 mail'
	echo 'mail A 127.0.0.1'
	echo '@ TXT "v=spf1 include:i1.many.test -all"'
	for i in $(seq 1 11); do
		echo "i$i TXT \"v=spf1 ip4:192.0.2.$i include:i$((i + 1)).many.test ~all\""
	done
	echo 'i12 TXT "v=spf1 ip4:192.0.2.12 ~all"'
} | dns_zone many.test
dns_zone loop.test <<'Z'
@      MX  10 mail
mail   A   127.0.0.1
@      TXT "v=spf1 include:a.loop.test -all"
a      TXT "v=spf1 include:b.loop.test ~all"
b      TXT "v=spf1 include:a.loop.test ~all"
Z
dns_zone inherit.test <<'Z'
_dmarc TXT "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@inherit.test"
sub    MX  10 mail.sub
mail.sub A 127.0.0.1
sub    TXT "v=spf1 mx -all"
Z
{
	echo '@ MX 10 mail'
	echo 'mail A 127.0.0.1'
	# 9 strings of 250 bytes: more than the 2048 bytes a TXT record may have
	printf '@ TXT "v=spf1'
	for i in $(seq 1 9); do printf ' " "%s' "$(head -c 240 /dev/zero | tr '\0' 'x')"; done
	echo '"'
	# control characters and odd bytes in a record
	echo 'odd TXT "v=spf1 \027[31m \200\377 -all"'
	echo 'odd MX 10 mail'
} | dns_zone long.test
dns_zone 0.0.127.in-addr.arpa <<'Z'
1      PTR mail.good.test.
2      PTR liar.good.test.
Z
dns_zone bl.test <<'Z'
1.0.0.127 A 127.0.0.2
1.0.0.127 TXT "listed for testing"
Z
dns_zone nullmx.test <<'Z'
@      MX  0 .
@      TXT "v=spf1 -all"
Z
dns_zone clean.test <<'Z'
2.0.0.127 A 127.0.0.2
Z
dns_zone limit.test <<'Z'
1.0.0.127 A 127.255.255.254
Z
dns_start

# dom ARGS...: runs `domain --json`; its output in $T/out, status in $rc.
dom() {
	rc=0
	"$FLUENZR" domain --json --timeout 5 "$@" >"$T/out" 2>"$T/err" || rc=$?
}
# st ID [SUBJECT]: the statuses of the items ID (of SUBJECT).
st() {
	$PY - "$T/out" "$@" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(i["status"] for i in d["items"] if i["id"] == sys.argv[2]
               and (len(sys.argv) < 4 or i["subject"] == sys.argv[3])))
P
}
# field ID KEY: an item's field (record: "NAME TYPE VALUE").
field() {
	$PY - "$T/out" "$@" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
for i in d["items"]:
    if i["id"] == sys.argv[2]:
        v = i[sys.argv[3]]
        if isinstance(v, dict):
            v = " ".join((v["name"], v["type"], v["value"]))
        print(v)
        break
P
}
is() { [ "$(st "$1" ${3:+"$3"})" = "$2" ]; }

dom good.test --preset gmail --selector google --sender-ip 127.0.0.1
check "a well-configured domain: exit 0" test "$rc" -eq 0
check "  every item passes" $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
ids = [i["id"] for i in d["items"]]
assert ids == ["mx", "spf", "spf_lookups", "spf_all", "spf_provider", "dkim",
               "dmarc", "dmarc_reports", "ptr"], ids
assert all(i["status"] == "pass" for i in d["items"]), d["items"]
assert d["status"] == "pass" and d["spf_lookups"] == 2, d
' "$T/out"
check "  the two TXT strings were joined: the provider's include is found" 	grep -q 'include:_spf.google.com (Gmail)' "$T/out"
check "  the 2048-bit key split over two strings is read" grep -q 'key of 2048 bits' "$T/out"
# (JSON escapes the arrow, \u2192, where the locale is not UTF-8, as on
# a bare system)
A='(→|\\u2192)'
check "  the reverse DNS is forward-confirmed" grep -Eq "127\\.0\\.0\\.1 $A mail\\.good\\.test $A 127\\.0\\.0\\.1" "$T/out"
check "  nothing on stderr" test ! -s "$T/err"

trc=0
"$FLUENZR" domain good.test --preset gmail --selector google --sender-ip 127.0.0.1 \
	>"$T/text" 2>&1 || trc=$?
check "the text says the same (exit 0, every item pass)" \
	eval '[ $trc -eq 0 ] && [ "$(grep -c "^  pass " "$T/text")" -eq 9 ]'
trc=0
"$FLUENZR" domain noinc.test --preset gmail >"$T/text" 2>&1 || trc=$?
check "  and the same failures, fixes and records (exit 2)" \
	eval '[ $trc -eq 2 ] && grep -q "^  FAIL    SPF: includes your provider" "$T/text" &&
	grep -q "fix: Add include:_spf.google.com" "$T/text" &&
	grep -q "publish: noinc.test TXT \"v=spf1 ip4:192.0.2.1 include:_spf.google.com -all\"" "$T/text"'

dom good.test --preset gmail
check "without a selector the preset's is checked, marked advisory" \
	eval 'is dkim pass google && grep -q "\"advisory\": true" "$T/out"'

dom workspace.test
check "a bare domain whose MX is at Google: the Gmail preset's needs are checked" \
	eval 'is spf_provider fail && field spf_provider fix | grep -q "include:_spf.google.com"'
check "  the MX named the provider" \
	eval 'field mx evidence | grep -q "the mail is at Gmail" &&
	$PY -c "import json,sys; assert json.load(open(sys.argv[1]))[\"provider_mx\"] == \"aspmx.l.google.com\"" "$T/out"'
dom workspace.test --preset office365
check "  --preset still names the provider" \
	eval 'field spf_provider fix | grep -q "spf.protection.outlook.com" && ! field mx evidence | grep -q "the mail is at"'

dom nullmx.test
check "a null MX (RFC 7505): the mx item fails, named so" \
	eval 'is mx fail && field mx evidence | grep -q "null MX (RFC 7505)" && [ $rc -eq 2 ]'
check "  with the records to publish instead" \
	eval '[ "$(field mx record)" = "nullmx.test MX 10 <your provider'"'"'s mail server>" ]'

dom nospf.test --preset gmail
check "no SPF: fail, exit 2" eval 'is spf fail && [ $rc -eq 2 ]'
check "  the record to publish includes the provider" \
	eval '[ "$(field spf record)" = "nospf.test TXT v=spf1 include:_spf.google.com ~all" ]'
check "  nothing is said about lookups of a record that is not there" is spf_lookups ""

dom noinc.test --preset gmail
check "SPF without the provider's include: spf passes, spf_provider fails" \
	eval 'is spf pass && is spf_provider fail'
check "  the record to publish has the include before -all" \
	eval '[ "$(field spf_provider record)" = "noinc.test TXT v=spf1 ip4:192.0.2.1 include:_spf.google.com -all" ]'
check "  p=none is a warning, with its fix" \
	eval 'is dmarc warn && field dmarc fix | grep -q "p=quarantine"'
dom noinc.test
check "  without a provider there is no provider item" is spf_provider ""

dom twospf.test
check "two SPF records: fail (permerror)" \
	eval 'is spf fail && field spf evidence | grep -q "has 2 SPF records"'

dom many.test
check "more than 10 lookups through a chain of includes: fail" \
	eval 'is spf_lookups fail && field spf_lookups evidence | grep -q "more than 10 DNS lookups"'
check "  the evidence shows the chain" \
	eval 'field spf_lookups evidence | grep -q "many.test → i1.many.test → i2.many.test"'

dom loop.test
check "an include loop: fail, the loop named" \
	eval 'is spf_lookups fail && field spf_lookups evidence | grep -q "loop: loop.test → a.loop.test → b.loop.test → a.loop.test"'

dom twospf.test
check "no DMARC: fail, with the record to publish" \
	eval 'is dmarc fail && field dmarc record | grep -q "^_dmarc.twospf.test TXT v=DMARC1; p="'

dom sub.inherit.test
check "DMARC inherited from the organizational domain: its sp= applies" \
	eval 'is dmarc pass && field dmarc evidence | grep -q "p=quarantine at _dmarc.inherit.test (inherited from inherit.test"'
check "  the organizational domain is reported" grep -q '"org_domain": "inherit.test"' "$T/out"

dom good.test --selector missing
check "a DKIM key that is not there: fail, with the record to publish" \
	eval 'is dkim fail && field dkim record | grep -q "^missing._domainkey.good.test TXT v=DKIM1"'
dom good.test --selector bad
check "a DKIM key that is not base64: fail" \
	eval 'is dkim fail && field dkim evidence | grep -q "not base64"'
dom good.test --selector gone
check "a revoked DKIM key (p= empty): fail" \
	eval 'is dkim fail && field dkim evidence | grep -q revoked'
dom good.test --selector short
check "a 512-bit DKIM key: warn" \
	eval 'is dkim warn && field dkim evidence | grep -q "512 bits"'

dom good.test --sender-ip 127.0.0.2
check "a PTR whose name does not resolve back: fail" \
	eval 'is ptr fail && field ptr evidence | grep -q "not forward-confirmed"'
dom good.test --sender-ip 127.0.0.3
check "no PTR at all: fail, with its fix" \
	eval 'is ptr fail && field ptr fix | grep -q "reverse DNS"'

dom good.test --sender-ip 127.0.0.1 --blocklist-zones bl.test,clean.test,limit.test,unserved.test
check "listed on a blocklist (127.0.0.2): fail" is blocklist fail bl.test
check "not listed (NXDOMAIN): pass" is blocklist pass clean.test
check "127.255.255.254 (public resolver / over the limit): unknown, not listed" \
	is blocklist unknown limit.test
check "a list that does not answer: unknown" is blocklist unknown unserved.test
dom good.test --sender-ip 127.0.0.1
check "blocklists are not looked up unless asked" is blocklist ""

dom long.test
check "a TXT record over 2048 bytes is refused, not cut: fail with a fix" \
	eval 'is spf fail && field spf evidence | grep -q "too long"'
dom odd.long.test
check "control characters in a record: a syntax failure" is spf fail
check "  and no control character reaches the output" \
	eval '! LC_ALL=C grep -q "[[:cntrl:]]" <<<"$(tr -d "\n" <"$T/out")"'

# An account: its preset says what its provider needs.
printf 'pw\n' | "$FLUENZR" account add --email jean@noinc.test --preset gmail \
	--password-stdin >/dev/null 2>"$T/add.err" || fail "account add: $(cat "$T/add.err")"
dom jean@noinc.test
check "domain ACCOUNT: the account's domain, judged against its preset" \
	eval '[ "$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))[\"domain\"])" "$T/out")" = noinc.test ] && is spf_provider fail'
dom nobody@noinc.test
check "an account that does not exist: EX_NOINPUT" test "$rc" -eq 66

for bad in "" "-x" "exa mple.test" "192.0.2.1" "nodot"; do
	dom "$bad"
	check "'$bad' is refused as a domain (usage or data error)" eval '[ $rc -eq 64 ] || [ $rc -eq 65 ]'
done
dom good.test --sender-ip 300.1.1.1
check "a sender that is not an IP address is refused" test "$rc" -eq 65
dom good.test --selector 'a;b'
check "a selector that is not a label is refused" test "$rc" -eq 65
finish
