#!/bin/bash
# When memory cannot be locked (RLIMIT_MEMLOCK 0), the program says so,
# once, instead of keeping passwords in pages that may be swapped out
# without a word: `test` prints one warning on stderr and still works, the
# console shows it on its status line. With locking possible, no warning.
# As root, CAP_IPC_LOCK ignores the limit: it is dropped from the bounding
# set for the runs that must not lock.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need "$PY"
tui_env
U=u@example.org
PW='Memlock-Canary-Pw-5'
MSG='memory cannot be locked (RLIMIT_MEMLOCK'

# nolock COMMAND...: COMMAND with RLIMIT_MEMLOCK 0 and, as root, without
# CAP_IPC_LOCK.
NOLOCK=(sh -c 'ulimit -l 0 && exec "$@"' sh)
if [ "$(id -u)" = 0 ]; then
	need setpriv
	NOLOCK+=(setpriv --bounding-set=-ipc_lock)
fi

"$PY" "$top_srcdir/tests/security-server.py" "$T/port" "$T/log" "$U" "$PW" "PLAIN LOGIN" \
	2>"$T/server.err" &
at_exit "kill $!"
wait_for -t 10 test -s "$T/port" || fail "the test server did not start"
read -r SP IP <"$T/port"
add_account "$U" "$PW" --smtp-host 127.0.0.1 --smtp-port "$SP" --smtp-security none \
	--allow-plain --imap-host 127.0.0.1 --imap-port "$IP" --imap-security none 2>/dev/null

# AddressSanitizer replaces mlock() by a no-op that succeeds: under it,
# locking cannot fail, and only the silence with locking is checked.
SAN=false
grep -q '^#define FLUENZR_SANITIZERS 1' "$top_builddir/config.h" 2>/dev/null && SAN=true

if ! $SAN; then
	# ---- locking refused ----
	"${NOLOCK[@]}" "$FLUENZR" test $U --json >"$T/nolock.out" 2>"$T/nolock.err"
	rc=$?
	check "no lock: the test still passes" test "$rc" = 0
	check "no lock: one warning on stderr" test "$(grep -c -F "$MSG" "$T/nolock.err")" = 1
	check "no lock: it says what to look at" grep -qF "ulimit -l" "$T/nolock.err"
	check "no lock: stdout is the JSON alone" \
		"$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/nolock.out"
	"${NOLOCK[@]}" "$FLUENZR" test --all --jobs 4 >"$T/all.out" 2>"$T/all.err"
	check "no lock: test --all warns once too" test "$(grep -c -F "$MSG" "$T/all.err")" = 1

	# ---- the console ----
	tui_start -x 150 -y 30 "${NOLOCK[@]}" "$FLUENZR"
	wait_screen "$U"
	check "console: the status line says memory cannot be locked" \
		wait_for -t 5 sh -c 'tmux -u -L "$1" capture-pane -p -J | grep -qF "$2"' _ "$TUI_SOCK" "$MSG"
	keys q
	check "console: exits 0" [ "$(wait_exit)" = 0 ]
fi

# ---- locking possible: silence ----
if [ "$(id -u)" = 0 ] || [ "$(ulimit -l)" = unlimited ] || [ "$(ulimit -l)" -ge 1024 ]; then
	"$FLUENZR" test $U >"$T/lock.out" 2>"$T/lock.err"
	check "with locking: the test passes" test $? = 0
	check "with locking: no warning" sh -c '! grep -qF "$1" "$2"' _ "$MSG" "$T/lock.err"
fi

finish
