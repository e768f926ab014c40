#!/bin/bash
# A server with a self-signed certificate and no pin: invalid_certificate.
# The panel shows the certificate; p then y pins it on the account (the
# password kept), and the retest passes.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need "$PY"
tui_env
start_mailstack

add_account "$MAILSTACK_ALICE_USER" "$MAILSTACK_ALICE_PASS" \
	--smtp-host 127.0.0.1 --smtp-port "$MAILSTACK_SMTP_SELFSIGNED_PORT"
fp=$(certtool --fingerprint --hash=sha256 --infile="$MAILSTACK_CERT_SELFSIGNED" 2>/dev/null |
	tr -d ':' | tr 'A-F' 'a-f')
[ -n "$fp" ] || fail "cannot compute the certificate's fingerprint"

tui_start -y 40 "$FLUENZR"
wait_screen "$MAILSTACK_ALICE_USER"
keys t
wait_screen "Invalid certificate" 30
keys f
wait_screen "The server's certificate:"
check "fingerprint shown before pinning" grep -qF "sha256:$fp" <<<"$(screen)"
check "subject shown" grep -qE 'subject  CN=[^ ]+' <<<"$(screen)"
keys p
wait_screen "Trust this certificate from now on"
keys y
wait_screen "Certificate pinned."
"$FLUENZR" account show "$MAILSTACK_ALICE_USER" --json > "$T/show.json"
check "the pin is stored, the password kept" $PY - "$T/show.json" "$fp" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
assert a["pin"] == "sha256:" + sys.argv[2], a
assert a["has_password"] is True, a
PY
keys r
wait_screen "Everything works." 30
keys Escape
wait_screen "✓ ok"

# The account removed (by the CLI) while its troubleshooting is open:
# pinning cannot re-read it, says so, and writes nothing back.
add_account "$MAILSTACK_BOB_USER" "$MAILSTACK_BOB_PASS" \
	--smtp-host 127.0.0.1 --smtp-port "$MAILSTACK_SMTP_SELFSIGNED_PORT"
keys q
check "exit 0" [ "$(wait_exit)" = 0 ]
tui_start -y 40 "$FLUENZR"
wait_screen "$MAILSTACK_BOB_USER"
keys j t
wait_screen "Invalid certificate" 30
keys f
wait_title "Troubleshooting"
"$FLUENZR" account remove "$MAILSTACK_BOB_USER" >/dev/null || fail "account remove"
keys p
wait_screen "Trust this certificate from now on"
keys y
wait_screen "Cannot read $MAILSTACK_BOB_USER from the store"
check "the removed account is not written back" \
	sh -c "! '$FLUENZR' account show '$MAILSTACK_BOB_USER' >/dev/null 2>&1"
keys q q q
check "exit 0" [ "$(wait_exit)" = 0 ]
finish
