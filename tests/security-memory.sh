#!/bin/bash
# What the console's memory holds after a test whose server quoted the
# password back: the password, its AUTH PLAIN base64 and the server's echo
# are in no unlocked page (not in the transcript's line buffers, libetpan's
# stream and line buffers, a thread's stack or a freed heap chunk); at most
# in locked memory (secmem). Read through /proc/PID/mem, which takes root.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need "$PY"
[ "$(id -u)" = 0 ] || skip_or_fail "reads another process's memory, which needs root"
tui_env
U=u@example.org
PW='Right-Pw-Zm9vYmFy=='
BAD='Mem-Canary-Pw-424242'
SCAN=("$PY" "$top_srcdir/tests/mem_scan.py")

SECSRV_ECHO=1 "$PY" "$top_srcdir/tests/security-server.py" "$T/port" "$T/log" "$U" "$PW" \
	"PLAIN" 2>"$T/server.err" &
at_exit "kill $!"
wait_for -t 10 test -s "$T/port" || fail "the test server did not start"
read -r SP IP <"$T/port"
add_account "$U" "$BAD" --smtp-host 127.0.0.1 --smtp-port "$SP" --smtp-security none \
	--allow-plain --imap-host 127.0.0.1 --imap-port "$IP" --imap-security none 2>/dev/null
B64=$("$PY" -c 'import base64, sys
print(base64.b64encode(b"\0" + sys.argv[1].encode() + b"\0" + sys.argv[2].encode()).decode())' \
	"$U" "$BAD")

# Under ASan mlock() is a no-op: nothing can be told locked, and the one
# buffer that holds the password for the console is allowed.
SAN=false
grep -q '^#define FLUENZR_SANITIZERS 1' "$top_builddir/config.h" 2>/dev/null && SAN=true

tui_start -x 160 -y 40 "$FLUENZR"
wait_screen "$U"
pid=$(cat "$T/pid")
keys t
wait_screen "Authentication failed" 30
check "the server quoted the password back" grep -qF "AUTH-BAD smtp" "$T/log"
check "the scanner reads the console's memory (it finds the address)" \
	sh -c '"$@" >/dev/null; test $? = 1' _ "${SCAN[@]}" "$pid" "$U"
# The worker may still be freeing the run when the result shows: polled.
check "no AUTH PLAIN base64 in the console's memory, locked or not" \
	wait_for -t 5 "${SCAN[@]}" "$pid" "$B64" "${B64:0:24}"
if $SAN; then
	check "the password in one place at most (no mlock under ASan)" \
		wait_for -t 5 "${SCAN[@]}" "$pid" --max 1 "$BAD"
else
	check "the password in no unlocked page" \
		wait_for -t 5 "${SCAN[@]}" "$pid" --allow-locked "$BAD" "${BAD:0:12}"
fi
"${SCAN[@]}" "$pid" "$BAD" "$B64" >&2 || true
keys Escape q
check "the console exits 0" [ "$(wait_exit)" = 0 ]
finish
