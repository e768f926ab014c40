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
