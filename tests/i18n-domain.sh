#!/bin/bash
# `fluenzr-tui domain` in French and Hindi against a real DNS server
# (tests/dns-lib.sh) serving broken records: the record parsers' reasons
# are in the user's language, and --json is the same in every language.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/i18n-lib.sh"
. "$top_srcdir/tests/dns-lib.sh"
dns_enter "$@"
need "$PY"
i18n_setup
export FLUENZR_PRESET_DIR="$top_srcdir/presets"

dns_zone broken.test <<'Z'
@      MX  10 mail
mail   A   127.0.0.1
@      TXT "v=spf1 foo:bar -all"
_dmarc TXT "v=DMARC1; p=maybe"
Z
dns_start

dom() { # dom LANG ARGS...: stdout+stderr in $out
	out=$(env LANG="$1" "$FLUENZR" domain --timeout 5 "${@:2}" broken.test 2>&1) || true
}
dom C.UTF-8
check "English: the SPF parser's reason" grep -qF "an unknown mechanism (RFC 7208 §5: a permerror)" <<<"$out"
check "... and the DMARC parser's" grep -qF "p= is not none, quarantine or reject" <<<"$out"
dom fr_FR.UTF-8
check "French: the SPF parser's reason" grep -qF "un mécanisme inconnu (RFC 7208 §5 : un permerror)" <<<"$out"
check "... and the DMARC parser's" grep -qF "p= n'est ni none, ni quarantine, ni reject" <<<"$out"
check "... no English reason left" bash -c '! grep -qF "an unknown mechanism" <<<"$1"' _ "$out"
dom hi_IN.UTF-8
check "Hindi: the SPF parser's reason" grep -qF "एक अज्ञात मैकेनिज़्म (RFC 7208 §5: एक permerror)" <<<"$out"
check "... and the DMARC parser's" grep -qF "p= none, quarantine या reject नहीं है" <<<"$out"

# The same but for the time the checks took.
dom C.UTF-8 --json; en=$(grep -v '"elapsed_ms":' <<<"$out")
check "--json holds the English reason" grep -qF "an unknown mechanism" <<<"$en"
for l in fr_FR.UTF-8 hi_IN.UTF-8; do
	dom "$l" --json; out=$(grep -v '"elapsed_ms":' <<<"$out")
	[ "$out" = "$en" ] || diff <(echo "$en") <(echo "$out") | head -8 >&2
	check "--json in $l: the same as in English" [ "$out" = "$en" ]
done
finish
