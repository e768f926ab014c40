# The namespaces and servers of discovery's tests and benchmark: sourced
# after tests/lib.sh. Re-runs the calling script inside fresh network and
# mount namespaces (port 53, 80 and 443 and /etc/resolv.conf are its own),
# makes a test CA (C/ca.pem) with a certificate for the autoconfig hosts,
# and starts tests/discover-server.py there.
[ "$(id -u)" = 0 ] || skip_or_fail "unshare and port 53 need root"
need unshare ip mount certtool
unshare --mount --net true 2>/dev/null || skip_or_fail "unshare --mount --net does not work here"

if [ -z "${DISCOVER_IN_NS:-}" ]; then
	# Once more, inside fresh namespaces.
	DISCOVER_IN_NS=1 exec unshare --mount --net -- bash "$0" "$@"
fi
ip link set lo up || fail "cannot bring up lo"
setup_home
printf 'nameserver 127.0.0.1\n' >"$T/resolv.conf"
mount --bind "$T/resolv.conf" /etc/resolv.conf || fail "cannot bind-mount resolv.conf"
# The build's own presets and ISPDB, not an older installed copy (which
# would override them): this namespace sees no installed data.
for d in /usr/local/share/fluenzr /usr/share/fluenzr; do
	[ -d "$d" ] && { mount -t tmpfs none "$d" || fail "cannot hide $d"; }
done

# ---- a test CA and one certificate for the autoconfig hosts ----
C=$T/certs
mkdir -p "$C"
certtool --generate-privkey --key-type=ecdsa --no-text --outfile="$C/key.pem" 2>/dev/null
printf 'cn = "discover test CA"\nca\ncert_signing_key\nexpiration_days = 30\n' >"$C/ca.tmpl"
certtool --generate-self-signed --load-privkey="$C/key.pem" --template="$C/ca.tmpl" \
	--no-text --outfile="$C/ca.pem" 2>/dev/null
{
	echo 'cn = "autoconfig.isp.test"'
	for h in autoconfig.isp.test autoconfig.stale.test wk.test autoconfig.trickle.test \
		autoconfig.big.test autoconfig.bomb.test autoconfig.badxml.test \
		autoconfig.loop.test autoconfig.plain.test autoconfig.doctype.test \
		smtp.guess.test smtp.wrongcert.test smtp.noauth.test \
		smtp.imapguess.test imap.imapguess.test autoconfig.rank.test smtp.rank.test; do
		echo "dns_name = \"$h\""
	done
	printf 'tls_www_server\nexpiration_days = 30\n'
} >"$C/srv.tmpl"
certtool --generate-certificate --load-privkey="$C/key.pem" --load-ca-certificate="$C/ca.pem" \
	--load-ca-privkey="$C/key.pem" --template="$C/srv.tmpl" --no-text \
	--outfile="$C/srv.pem" 2>/dev/null
[ -s "$C/srv.pem" ] || fail "certificate generation failed"

$PY "$top_srcdir/tests/discover-server.py" "$C/srv.pem" "$C/key.pem" "$T/ready" 2>"$T/server.err" &
SERVER=$!
at_exit "kill $SERVER 2>/dev/null"
wait_for -t 10 test -s "$T/ready" || { cat "$T/server.err" >&2; fail "the servers did not start"; }

