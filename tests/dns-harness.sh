#!/bin/bash
# The tests' DNS harness (tests/dns-lib.sh): nsd in the test's own
# namespaces answers the zones a test writes, NXDOMAIN for names outside
# them, picks up a changed zone on restart, and the program finds it
# through /etc/resolv.conf as it would a user's resolver.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/dns-lib.sh"
dns_enter "$@"
setup_home

q() { $PY "$top_srcdir/tests/dns-query.py" "$@"; }

dns_zone monentreprise.test <<'Z'
@      MX  10 mx1.mail.ovh.net.
@      TXT "v=spf1 include:mx.ovh.com " "-all"
Z
dns_zone 0.0.127.in-addr.arpa <<'Z'
1      PTR localhost.
Z
dns_start
check "an MX record is served" q monentreprise.test MX
check "a TXT record of two strings is served" q monentreprise.test TXT
check "a PTR record is served" q 1.0.0.127.in-addr.arpa PTR
check "a name outside the zones gets no answer" eval '! q nowhere.test A'
check "a missing record type gets no answer" eval '! q monentreprise.test AAAA'

out=$("$FLUENZR" discover jean@monentreprise.test --json 2>"$T/err") || true
check "the program reads the namespace's resolver: the MX at OVH finds the OVH preset" \
	grep -q '"preset": *"ovh"' <<<"$out"

dns_zone monentreprise.test <<'Z'
@      MX  10 mx.zoho.eu.
Z
dns_restart
out=$("$FLUENZR" discover jean@monentreprise.test --json 2>"$T/err") || true
check "a changed zone is served after dns_restart" grep -q '"preset": *"zoho-eu"' <<<"$out"
check "  and the old record is gone" eval '! grep -q "\"preset\": *\"ovh\"" <<<"$out"'
finish
