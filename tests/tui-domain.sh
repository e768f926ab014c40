#!/bin/bash
# The console's domain health: from the account list, h opens the panel
# of the selected account's domain; the check runs on the runner while the
# screen stays live, each item shows its status and the one under the
# cursor its evidence, fix and record to publish (golden screen); Esc
# cancels a check that waits on a silent name server. DNS is nsd in the
# test's own namespace (tests/dns-lib.sh).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need tmux
. "$top_srcdir/tests/dns-lib.sh"
dns_enter "$@"
tui_env
export FLUENZR_PRESET_DIR="$top_srcdir/presets"

dns_zone google.com <<'Z'
_spf   TXT "v=spf1 ip4:192.0.2.0/24 ~all"
Z
dns_zone good.test <<'Z'
@      MX  10 mail
mail   A   127.0.0.1
@      TXT "v=spf1 include:_spf.google.com ~all"
google._domainkey TXT ( "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwzEL/vxy7HOwnYXMvntNtreLDmaTrJ3RxT6Y3QUSyG8Lo5J06ljA2Q2VUFAJVjNwwaZRkh29R5LoXh32F9nKQKQZx7GSLUjpr6w+lGC0kr+nwhEoJubMRQ+BsGOjmr8ngKqTLfIiK/1TXUJDmNe7IaYg9PD6" "Zvtu0QDDVNZ+UMGTgh1/zJ3QbBb04i4zve6/HUSsMjdTqT7+FrULVpS4UYgvdNLhI4+XT4tKe+uYE+TqGefNgJhSPTNnZIZLhXmAeoSU4KYORFm874UQf4RPcI0g81KmpNk/ZOXRMPGhVCNnAL7iOoQQJVvNN9GFPi/bJ0hOMbAdUr880gH5wzqn7QIDAQAB" )
_dmarc TXT "v=DMARC1; p=none"
Z
dns_zone nospf.test <<'Z'
@      MX  10 mail
mail   A   127.0.0.1
Z
dns_start
add_account jean@good.test pw-jean --preset gmail
add_account ana@nospf.test pw-ana --preset gmail

tui_start "$FLUENZR"
wait_screen "jean@good.test"
keys j
keys h
wait_title "Email Accounts > Domain health"
wait_screen "Some items need attention."
expect_screen domain-health
s=$(screen)
check "each item has its status" grep -qE 'pass +SPF: includes your provider' <<<"$s"
check "  the DKIM key of the preset's selector is advisory" \
	grep -qE 'pass +DKIM: signing key \[google\] \(advisory\)' <<<"$s"
check "  p=none is a warning" grep -qE 'warn +DMARC: policy' <<<"$s"
check "the cursor starts on the first item to act on: its evidence and fix" \
	grep -qF "Fix: Once the reports show your own mail passes" <<<"$s"
keys j
wait_screen "Fix: Add rua=mailto:"
check "the next item's fix replaces it" lacks "Fix: Once the reports" "$(screen)"
keys Escape
wait_gone "Domain health of"
keys k
keys h
wait_screen "Some items fail"
check "a domain without SPF: the record to publish is shown" \
	grep -qF 'Publish: nospf.test TXT "v=spf1 include:_spf.google.com ~all"' <<<"$(screen)"
keys Escape
wait_gone "Domain health of"

# A silent name server: the check waits, keys still work, Esc cancels.
# nsd answers from child processes: all of them are stopped, by their
# ids, and let go again whatever happens next.
descendants() {
	local p
	for p in $(pgrep -P "$1"); do echo "$p"; descendants "$p"; done
}
nsd_pids="$DNS_PID $(descendants "$DNS_PID" | tr '\n' ' ')"
at_exit "kill -CONT $nsd_pids 2>/dev/null"
# shellcheck disable=SC2086
kill -STOP $nsd_pids
keys h
wait_screen "Checking MX, SPF, DKIM and DMARC in DNS"
keys '?'
wait_screen "Cancel a running check, or go back"
keys Escape
wait_gone "Cancel a running check, or go back"
check "the check is still running under the help" grep -qF "Checking MX, SPF" <<<"$(screen)"
keys Escape
wait_screen "Domain check cancelled."
wait_gone "Domain health of"
check "Esc went back to the list" grep -qF "ana@nospf.test" <<<"$(screen)"
# shellcheck disable=SC2086
kill -CONT $nsd_pids
keys q
check "exit 0" [ "$(wait_exit)" = 0 ]
finish
