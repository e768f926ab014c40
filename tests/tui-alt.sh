#!/bin/bash
# Applying the working alternative from the troubleshooting panel: alice's
# account uses a user preset listing the stack's submission ports, but asks
# for implicit TLS (ssl) on the STARTTLS port: tls_mismatch. The panel names
# the port/encryption that works; a applies it (saved, the password kept),
# r retests and every step passes. Then bob's account points at a closed
# port (connection_refused) and gets the same fix from his edit form.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need "$PY"
tui_env
start_mailstack
S0=$MAILSTACK_SMTP_STARTTLS_PORT

# A user preset ($XDG_CONFIG_HOME/fluenzr/presets) is where the probe looks
# for other ports to try.
mkdir -p "$XDG_CONFIG_HOME/fluenzr/presets"
cat >"$XDG_CONFIG_HOME/fluenzr/presets/teststack.preset" <<EOF
name = Test stack
domains = $MAILSTACK_DOMAIN
smtp = localhost $S0 starttls
smtp = localhost $MAILSTACK_SMTP_IMPLICIT_PORT ssl
EOF

add_account "$MAILSTACK_ALICE_USER" "$MAILSTACK_ALICE_PASS" --preset teststack \
	--smtp-host localhost --smtp-port "$S0" --smtp-security ssl \
	--ca-file "$MAILSTACK_CA_FILE"
# A port nothing listens on: bound by the kernel's choice, then released.
closed=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
add_account "$MAILSTACK_BOB_USER" "$MAILSTACK_BOB_PASS" --preset teststack \
	--smtp-host localhost --smtp-port "$closed" --smtp-security starttls \
	--ca-file "$MAILSTACK_CA_FILE"
"$FLUENZR" account show "$MAILSTACK_ALICE_USER" --json > "$T/before.json" || fail "account show"
check "the account starts with ssl on the STARTTLS port" $PY - "$T/before.json" "$S0" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
assert a["smtp"]["port"] == int(sys.argv[2]), a
assert a["smtp"]["security"] == "ssl", a
assert a["preset"] == "teststack", a
PY

# A tall, wide terminal shows every step and the whole panel unwrapped.
tui_start -x 100 -y 50 "$FLUENZR"
wait_screen "$MAILSTACK_ALICE_USER"
keys t
wait_title "Live diagnostics"
wait_screen "press f for troubleshooting" 60
check "the test failed with tls_mismatch" grep -qF "tls_mismatch" <<<"$(screen)"
keys f
wait_title "Troubleshooting"
s=$(screen)
check "category tls_mismatch in the panel" grep -qF "category tls_mismatch" <<<"$s"
check "the working alternative is offered" \
	grep -qF "SMTP port $S0 with TLS (STARTTLS) works: press a to apply it." <<<"$s"
keys a
wait_screen "SMTP now uses port $S0 with TLS (STARTTLS). Press r to test again."

"$FLUENZR" account show "$MAILSTACK_ALICE_USER" --json > "$T/show.json" || fail "account show"
check "the alternative is saved, the rest kept" $PY - "$T/show.json" "$S0" "$MAILSTACK_CA_FILE" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
assert a["smtp"]["host"] == "localhost", a
assert a["smtp"]["port"] == int(sys.argv[2]), a
assert a["smtp"]["security"] == "starttls", a
assert a["has_password"] is True, a
assert a["ca_file"] == sys.argv[3], a
assert a["preset"] == "teststack", a
PY

keys r
wait_screen "Everything works." 60
s=$(screen)
check "the header shows the new port and encryption" \
	grep -qF "$MAILSTACK_ALICE_USER  localhost:$S0 TLS (STARTTLS)" <<<"$s"
check_steps_passed "$s" $SMTP_STEPS
keys Escape
wait_title "Email Accounts"
wait_screen "✓ ok"

# bob, from his edit form: Ctrl-T tests the form's values (the saved ones),
# the alternative goes into the form only (Ctrl-S saves it), and the
# retest tests the form's values, now with the applied port.
keys j
keys Enter
wait_title "Email Accounts > Edit account"
wait_screen "Port              $closed"
keys C-t
wait_screen "press f for troubleshooting" 60
check "bob's test failed with connection_refused" grep -qF "connection_refused" <<<"$(screen)"
keys f
wait_screen "category connection_refused"
check "bob: the working alternative is offered" \
	grep -qF "SMTP port $S0 with TLS (STARTTLS) works: press a to apply it." <<<"$(screen)"
keys a
wait_screen "SMTP now uses port $S0 with TLS (STARTTLS) (in the form: Ctrl-S saves it). Press r to test again."
"$FLUENZR" account show "$MAILSTACK_BOB_USER" --json > "$T/bob0.json" || fail "account show"
check "bob: not saved before Ctrl-S" $PY - "$T/bob0.json" "$closed" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
assert a["smtp"]["port"] == int(sys.argv[2]), a
PY
keys r
wait_screen "Everything works." 60
check "bob: the retest used the applied port" grep -qF "$MAILSTACK_BOB_USER  localhost:$S0 TLS (STARTTLS)" <<<"$(screen)"
keys Escape
wait_title "Email Accounts > Edit account"
check "bob: the form holds the applied port" grep -qE "Port +$S0 " <<<"$(screen)"
keys C-s
wait_screen "Saved $MAILSTACK_BOB_USER."
keys Escape
wait_title "Email Accounts"
keys q
check "exit 0" [ "$(wait_exit)" = 0 ]

"$FLUENZR" account show "$MAILSTACK_ALICE_USER" --json > "$T/after.json" || fail "account show"
check "the passing retest is recorded, the port kept" $PY - "$T/after.json" "$S0" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
assert a["smtp"]["port"] == int(sys.argv[2]), a
assert a["smtp"]["security"] == "starttls", a
assert a["last_test"]["result"] == "ok", a
PY
"$FLUENZR" account show "$MAILSTACK_BOB_USER" --json > "$T/bob.json" || fail "account show"
check "bob: the applied port is saved by Ctrl-S, the password kept" $PY - "$T/bob.json" "$S0" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
assert a["smtp"]["port"] == int(sys.argv[2]), a
assert a["smtp"]["security"] == "starttls", a
assert a["has_password"] is True, a
PY
finish
