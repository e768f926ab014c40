#!/bin/bash
# src/http/ against a real HTTPS server on loopback (tests/http-server.py)
# that behaves well and badly: every request ends with the right result and
# within its deadline, bodies are capped, redirects counted and kept on
# HTTPS, certificates verified, and a cancel stops a request at once.
. "$top_srcdir/tests/lib.sh"
need certtool
GET=$top_builddir/tests/http_get
[ -x "$GET" ] || fail "run through make check (tests/http_get)"
setup_home

# A CA, a leaf for 127.0.0.1 and one for another name.
C=$T/certs
mkdir -p "$C"
certtool --generate-privkey --key-type=ecdsa --no-text --outfile="$C/key.pem" 2>/dev/null
printf 'cn = "http test CA"\nca\ncert_signing_key\nexpiration_days = 30\n' >"$C/ca.tmpl"
certtool --generate-self-signed --load-privkey="$C/key.pem" --template="$C/ca.tmpl" \
	--no-text --outfile="$C/ca.pem" 2>/dev/null
for n in good:127.0.0.1 wrong:10.9.9.9; do
	name=${n%%:*} ip=${n#*:}
	printf 'cn = "%s"\nip_address = "%s"\ntls_www_server\nexpiration_days = 30\n' "$ip" "$ip" >"$C/$name.tmpl"
	certtool --generate-certificate --load-privkey="$C/key.pem" --load-ca-certificate="$C/ca.pem" \
		--load-ca-privkey="$C/key.pem" --template="$C/$name.tmpl" --no-text \
		--outfile="$C/$name.pem" 2>/dev/null
done
[ -s "$C/wrong.pem" ] || fail "certificate generation failed"

serve() { # serve CERT PORTFILE [plain]
	"$PY" "$top_srcdir/tests/http-server.py" "$C/$1.pem" "$C/key.pem" "$T/$2" ${3:-} \
		>"$T/$2.log" 2>&1 &
	at_exit "kill $! 2>/dev/null"
}
serve good port
serve wrong wport
serve good hport plain
wait_for test -s "$T/port" -a -s "$T/wport" -a -s "$T/hport" || fail "http-server.py did not start"
P=$(cat "$T/port") W=$(cat "$T/wport") H=$(cat "$T/hport")
U=https://127.0.0.1:$P

get() { "$GET" "$@" >"$T/out" 2>"$T/err"; }
is() { grep -qFx "$1" "$T/out" || { echo "expected $1, got:" >&2; cat "$T/out" >&2; return 1; }; }
within() { local ms; ms=$(sed -n 's/^ms=//p' "$T/out"); [ "$ms" -lt "$(slow_ms "$1")" ]; }

get --ca "$C/ca.pem" --accept "$U/ok"
check "a GET returns the body and its type" is "body=hello text/xml"
check "  with status 200" is "status=200"
check "  and the content type" is "type=text/xml; charset=utf-8"
get --ca "$C/ca.pem" "$U/notfound"
check "a 404 is a reply, with its status" is "status=404"
check "  and result ok" is "result=ok"
get --ca "$C/ca.pem" "$U/empty"
check "an empty body is an empty string" is "len=0"
get --ca "$C/ca.pem" --post 'grant_type=x&code=y' "$U/post"
check "a POST sends its body, form-encoded" is "body=posted application/x-www-form-urlencoded grant_type=x&code=y"
get --ca "$C/ca.pem" --sensitive --post 'secret' "$U/post"
check "a sensitive body arrives the same" is "body=posted application/x-www-form-urlencoded secret"

get "$U/ok"
check "a certificate from an unknown CA is refused" is "result=cert"
get --ca "$C/ca.pem" "https://127.0.0.1:$W/ok"
check "a certificate for another host is refused" is "result=cert"
get --ca "$C/ca.pem" "http://127.0.0.1:$H/ok"
check "plain HTTP is refused without its option" is "result=bad_url"
get --allow-http "http://127.0.0.1:$H/ok"
check "plain HTTP works with its option" is "status=200"
get --ca "$C/ca.pem" "$(printf 'https://127.0.0.1:%s/ok\r\nX: y' "$P")"
check "a URL with a line break is refused" is "result=bad_url"
get --ca "$C/ca.pem" "ftp://127.0.0.1/x"
check "another scheme is refused" is "result=bad_url"

get --ca "$C/ca.pem" "$U/hop"
check "a redirect is not followed by default" is "status=302"
check "  its Location is reported" is "location=$U/ok"
get --ca "$C/ca.pem" --redirects 3 "$U/hop"
check "a redirect is followed when allowed" is "body=hello */*"
check "  and counted" is "redirects=1"
get --ca "$C/ca.pem" --redirects 5 "$U/loop"
check "a redirect loop ends" is "result=redirects"
get --ca "$C/ca.pem" --redirects 5 "$U/tohttp/$H"
check "a redirect to plain HTTP is refused" is "result=redirects"

get --ca "$C/ca.pem" --max 100000 "$U/big"
check "an announced 64 MiB body is refused" is "result=too_large"
get --ca "$C/ca.pem" --max 100000 --timeout 5000 "$U/endless"
check "an endless chunked body stops at the cap" is "result=too_large"
check "  at once" within 3000
get --ca "$C/ca.pem" --timeout 1500 "$U/trickle"
check "a trickling server meets the deadline" is "result=timeout"
check "  on time" within 2500
get --ca "$C/ca.pem" --timeout 1000 "$U/silent"
check "a silent server meets the deadline" is "result=timeout"
get --ca "$C/ca.pem" --timeout 20000 --cancel-after 300 "$U/silent"
check "a cancel stops a request" is "result=cancelled"
check "  at once" within 1500
get --ca "$C/ca.pem" "$U/garbage"
check "a reply that is not HTTP is a protocol error" is "result=protocol"

# A closed port: a port the kernel gave and took back.
closed=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
get --ca "$C/ca.pem" "https://127.0.0.1:$closed/ok"
check "a closed port is a connection failure" is "result=connect"
get --ca "$C/ca.pem" --timeout 3000 "https://no-such-host.invalid/ok"
check "a name that does not resolve is a DNS failure" is "result=dns"
finish
