# Helpers of the OAuth tests (sourced, not run): the mail stack (through
# probe-common.sh) and tests/oauth-as.py, our authorization server, on
# HTTPS with the stack's test certificate; $AS its directory (log, issued
# tokens), $ASURL its address.
. "$top_srcdir/tests/probe-common.sh"

AS=$T/as
mkdir -p "$AS"
setsid "$PY" "$top_srcdir/tests/oauth-as.py" --cert "$MAILSTACK_CERT_VALID" \
	--key "$MAILSTACK_DIR/certs/leaf.key" --jwt-key "$MAILSTACK_OAUTH_KEY" \
	--dir "$AS" </dev/null >"$AS/out" 2>&1 &
AS_PID=$!
at_exit "kill $AS_PID 2>/dev/null"
wait_for test -s "$AS/port" || fail "the authorization server did not start: $(cat "$AS/out")"
ASURL=https://127.0.0.1:$(cat "$AS/port")

# no_leak FILES...: none of the codes and tokens the server issued is in
# any of FILES (those that exist).
no_leak() {
	local found= tok f
	while read -r tok; do
		[ -n "$tok" ] || continue
		for f in "$@"; do
			[ -e "$f" ] || continue
			if grep -rqaF -- "$tok" "$f"; then found="$found $f"; fi
		done
	done <"$AS/issued"
	check "codes and tokens were issued (the canary list is not empty)" test -s "$AS/issued"
	check "no code or token in any output, transcript, JSON or store file" test -z "$found"
	[ -z "$found" ] || echo "leaked into:$found" >&2
}



# browser URL [deny]: what a browser does with the sign-in address: the AS
# redirects at once (the user "signed in"); prints the redirect's address.
browser() {
	"$PY" - "$1" "${2:-}" "$CA" <<'PYEOF'
import http.client, ssl, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1] + ("&deny=1" if sys.argv[2] else ""))
c = http.client.HTTPSConnection(u.hostname, u.port,
        context=ssl.create_default_context(cafile=sys.argv[3]))
c.request("GET", u.path + "?" + u.query)
r = c.getresponse()
print(r.getheader("Location") or "")
PYEOF
}
sign_in_url() { grep -oE "$ASURL/authorize\?[^ ]+" "$1" | head -n 1; }

# tunnel LOCAL PORT: the laptop's end of `ssh -L LOCAL:127.0.0.1:PORT`
# through the private sshd (LOCAL, as PORT itself is taken by the program
# on this same machine); SSH_PID, stopped at exit.
tunnel() {
	ssh -N -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
		-i "$S/client_key" -p "$SSHP" -L "$1:127.0.0.1:$2" root@127.0.0.1 2>"$S/ssh.err" &
	SSH_PID=$!
	at_exit "kill $SSH_PID 2>/dev/null"
	wait_for port_listening "$1" || fail "the tunnel did not open: $(cat "$S/ssh.err")"
}
# via_tunnel LOCATION PORT LOCAL: the page a browser on the laptop gets for
# the redirect LOCATION to 127.0.0.1:PORT, through the tunnel's LOCAL.
via_tunnel() {
	"$PY" -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' \
		"${1/127.0.0.1:$2/127.0.0.1:$3}" 2>&1
}
