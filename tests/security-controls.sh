#!/bin/bash
# What a server says cannot steer the terminal or disguise itself: a
# greeting full of bidi controls (U+202E, U+2066...), zero-width and
# invisible characters (U+200B, U+FEFF, U+2028, U+061C), C1 controls
# (U+009B, the 8-bit CSI) and raw 8-bit bytes reaches no output of `test`
# as such: human, --transcript, --json, over SMTP and IMAP. And in a
# locale that is not UTF-8 (LANG=C), no byte 0x80..0x9f is written at all,
# whoever's text it is (a UTF-8 letter such as U+079B is made of such
# bytes): the commands escape them, the JSON says \uXXXX. Against the
# scripted server on loopback. Last, a certificate subject with bidi and
# zero-width characters, from a TLS server on loopback.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need "$PY"
setup_home
F="$FLUENZR"
U=u@example.org
PW='Controls-Canary-Pw-7'

# The greeting: U+202E "deliaf" U+202C, U+2066 U+2069, U+200B, U+200F,
# U+FEFF, U+061C, U+2028, U+0085, U+009B "[31m", a raw 0x9b, a raw 0x85,
# and U+079B (a Thaana letter, bytes de 9b) between "thaana" markers.
GREETING=$("$PY" -c '
import sys
t = ("secrets.test ESMTP \u202edeliaf\u202c \u2066x\u2069 zw\u200bsp\u200f "
     "bom\ufeff alm\u061c ls\u2028 nel\u0085 csi\u009b[31m ").encode()
t += b"raw\x9b[32m raw\x85 thaana\xde\x9bthaana"
print(t.hex())')

SECSRV_GREETING_HEX=$GREETING "$PY" "$top_srcdir/tests/security-server.py" "$T/port" \
	"$T/log" "$U" "$PW" "PLAIN LOGIN" 2>"$T/server.err" &
at_exit "kill $!"
wait_for -t 10 test -s "$T/port" || fail "the test server did not start"
read -r SP IP <"$T/port"

# A display name with a letter whose UTF-8 holds a byte of 0x80..0x9f
# (U+0100 is c4 80), for `account show`.
printf '%s\n' "$PW" | "$F" account add --email $U --name "Ādam" \
	--smtp-host 127.0.0.1 --smtp-port "$SP" --smtp-security none --allow-plain \
	--imap-host 127.0.0.1 --imap-port "$IP" --imap-security none \
	--password-stdin >"$T/add.out" 2>"$T/add.err" || fail "account add: $(cat "$T/add.err")"

# outputs DIR ENV...: every output of `test`, `account show` and an error
# that echoes an argument, under the environment given.
outputs() {
	local d=$1
	shift
	mkdir -p "$d"
	env "$@" "$F" test $U >"$d/human.out" 2>"$d/human.err"
	env "$@" "$F" test $U --transcript >"$d/tr.out" 2>"$d/tr.err"
	env "$@" "$F" test $U --json >"$d/json.out" 2>"$d/json.err"
	env "$@" "$F" test --all --json >"$d/all.out" 2>"$d/all.err"
	env "$@" "$F" test $U --imap-only --transcript >"$d/imap.out" 2>"$d/imap.err"
	env "$@" "$F" account show $U >"$d/list.out" 2>"$d/list.err"
	env "$@" "$F" account show $U --json >"$d/show.out" 2>"$d/show.err"
	env "$@" "$F" test "--bogus-x$(printf '\302\233')y" >"$d/usage.out" 2>"$d/usage.err"
}

# scan WHAT FILES...: exits 1 and names the file when one holds WHAT:
# "invisible" (the UTF-8 of a bidi, invisible or C1 character) or "c1"
# (any byte 0x80..0x9f).
scan() {
	"$PY" - "$@" <<'PYEOF'
import re, sys
what, files = sys.argv[1], sys.argv[2:]
inv = re.compile("[\u0080-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
                 "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]")
bad = []
for f in files:
    data = open(f, "rb").read()
    if what == "c1":
        hits = [b for b in data if 0x80 <= b <= 0x9f]
    else:
        hits = inv.findall(data.decode("utf-8", errors="replace"))
    if hits:
        bad.append("%s (%d)" % (f.rsplit("/", 1)[-1], len(hits)))
if bad:
    print("found in: " + ", ".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
}

# ---- a UTF-8 locale ----
outputs "$T/utf8" LANG=C.UTF-8 LC_ALL=C.UTF-8
D=$T/utf8
check "utf8: the test passed (the greeting was read)" \
	"$PY" -c 'import json,sys; assert json.load(open(sys.argv[1]))["category"] == "ok"' "$D/json.out"
check "utf8: the greeting is shown, its controls as '?'" \
	grep -qF 'secrets.test ESMTP ?deliaf? ?x? zw?sp? bom? alm? ls? nel? csi?[31m raw?[32m raw?' "$D/tr.out"
check "utf8: a letter made of such bytes is kept (U+079B)" \
	grep -qF "thaana$(printf '\336\233')thaana" "$D/tr.out"
check "utf8: no bidi, invisible or C1 character in any output" \
	scan invisible "$D"/*.out "$D"/*.err
check "utf8: the JSON is valid and keeps the letter" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert any("thaana\u079bthaana" in s["detail"] for s in d["steps"]), d' "$D/json.out"

# ---- LANG=C: no byte 0x80..0x9f at all ----
outputs "$T/c" LANG=C LC_ALL=C
D=$T/c
check "C: the test passed" \
	"$PY" -c 'import json,sys; assert json.load(open(sys.argv[1]))["category"] == "ok"' "$D/json.out"
check "C: no byte 0x80..0x9f in any output (stdout, stderr)" \
	scan c1 "$D"/*.out "$D"/*.err
check "C: the human output is ASCII, the letter escaped" \
	sh -c '! LC_ALL=C grep -q "[^ -~	]" "$1/tr.out" && grep -qF "thaana\\xde\\x9bthaana" "$1/tr.out"' _ "$D"
check "C: the account shows its name escaped" grep -qF '\xc4\x80dam' "$D/list.out"
check "C: the JSON is ASCII, valid, and gives back the same text" "$PY" -c '
import json, sys
raw = open(sys.argv[1], "rb").read()
assert all(b < 0x80 for b in raw)
d = json.load(open(sys.argv[1]))
assert any("thaana\u079bthaana" in s["detail"] for s in d["steps"]), d
s = json.load(open(sys.argv[2]))
assert s["display_name"] == "\u0100dam", s' "$D/json.out" "$D/show.out"
check "C: an unknown option is echoed escaped" grep -qF 'x\xc2\x9by' "$D/usage.err"
check "utf8: an unknown option is echoed with its C1 control as '?'" \
	grep -qF "bogus-x?y" "$T/utf8/usage.err"

# ---- a certificate whose subject holds bidi and zero-width characters ----
need openssl
RLO=$(printf '\342\200\256') PDF=$(printf '\342\200\254') ZWSP=$(printf '\342\200\213')
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout "$T/key.pem" -out "$T/cert.pem" \
	-utf8 -subj "/CN=127.0.0.1/O=Evil ${RLO}gnp.exe${PDF} Ltd${ZWSP}" >/dev/null 2>&1 ||
	fail "openssl req"
# A TLS server that greets and hangs up: the certificate is what counts.
"$PY" - "$T/cert.pem" "$T/key.pem" "$T/tlsport" <<'PYEOF' 2>"$T/tls.err" &
import os, socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(8)
with open(sys.argv[3] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[3] + ".tmp", sys.argv[3])
while True:
    c, _ = s.accept()
    try:
        t = ctx.wrap_socket(c, server_side=True)
        t.sendall(b"220 tls.test ESMTP\r\n")
        t.close()
    except (OSError, ssl.SSLError):
        c.close()
PYEOF
at_exit "kill $!"
wait_for -t 10 test -s "$T/tlsport" || fail "the TLS server did not start"
read -r TP <"$T/tlsport"
printf '%s\n' "$PW" | "$F" account add --email cert@example.org \
	--smtp-host 127.0.0.1 --smtp-port "$TP" --smtp-security ssl \
	--password-stdin >/dev/null 2>&1 || fail "account add cert@example.org"
D=$T/cert
mkdir -p "$D"
"$F" test cert@example.org --transcript >"$D/human.out" 2>"$D/human.err"
"$F" test cert@example.org --json >"$D/json.out" 2>"$D/json.err"
check "cert: the certificate is refused (self-signed)" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["category"] == "invalid_certificate", d["category"]' "$D/json.out"
check "cert: the subject is reported, its bidi and zero-width characters as '?'" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
subj = [t["subject"] for t in d["tls"]]
assert any("?gnp.exe? Ltd?" in s for s in subj), subj' "$D/json.out"
check "cert: no bidi or invisible character in any output" \
	scan invisible "$D"/*.out "$D"/*.err
finish
