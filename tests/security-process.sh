#!/bin/bash
# The running process guards what it holds: no core file (RLIMIT_CORE 0) and
# not dumpable, so that another process of the same user can read neither
# its environment nor its memory; a password in transit is in neither its
# command line nor its environment. Checked on `account add` blocked half-way
# through reading a password, and on the console. The program runs as
# nobody, since root may read any process anyway.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need setpriv
[ "$(id -u)" = 0 ] || skip_or_fail "runs the program as another user, which needs root"
id nobody >/dev/null 2>&1 || skip_or_fail "no user nobody"

U=$(mktemp_dir)
AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
runs() { [ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$2" ]; }
root_owned() { [ "$(stat -c %u "/proc/$1/environ" 2>/dev/null)" = 0 ]; }
# The program and its home where nobody can reach them, whatever the build
# tree's permissions.
cp "$FLUENZR" "$U/fluenzr-tui"
mkdir -p "$U/home"
chmod 755 "$U/fluenzr-tui"
chown -R nobody:nogroup "$U"
NENV=(env -i HOME="$U/home" PATH=/usr/bin:/bin LANG=C.UTF-8 TERM="${TERM:-xterm}")
PW='Proc-Canary-Pw-77'

# Under ASan the process stays dumpable on purpose: LeakSanitizer attaches
# to it with ptrace (see src/base/secmem.c).
SAN=false
grep -q '^#define FLUENZR_SANITIZERS 1' "$top_builddir/config.h" 2>/dev/null && SAN=true

# hardened PID WHAT: the checks on a running process.
hardened() {
	local pid=$1 what=$2
	# Polled: the program may just have been exec'ed.
	check "$what: core file size limit 0" \
		wait_for -t 5 grep -qE '^Max core file size +0 +0 ' "/proc/$pid/limits"
	check "$what: no secret in its command line or environment" \
		sh -c '! tr "\0" "\n" <"/proc/$1/cmdline" | grep -qF -- "$2" &&
		       ! tr "\0" "\n" <"/proc/$1/environ" | grep -qF -- "$2"' _ "$pid" "$PW"
	$SAN && return 0
	# Not dumpable: the kernel gives its /proc files to root.
	check "$what: not dumpable (its /proc files belong to root)" \
		wait_for -t 5 root_owned "$pid"
	check "$what: the same user cannot read its environment" \
		sh -c '! setpriv --reuid=nobody --regid=nogroup --clear-groups cat "/proc/$1/environ" >/dev/null 2>&1' _ "$pid"
	check "$what: the same user cannot read its memory maps" \
		sh -c '! setpriv --reuid=nobody --regid=nogroup --clear-groups cat "/proc/$1/maps" >/dev/null 2>&1' _ "$pid"
}

# ---- account add, blocked in the middle of the password ----
mkfifo "$U/pw"
chown nobody:nogroup "$U/pw"
exec 4<>"$U/pw"
"${AS_NOBODY[@]}" "${NENV[@]}" "$U/fluenzr-tui" account add --email a@example.org \
	--smtp-host smtp.example.org --password-fd 3 3<"$U/pw" >"$U/add.out" 2>&1 &
pid=$!
at_exit "kill $pid 2>/dev/null"
wait_for -t 10 runs "$pid" "$U/fluenzr-tui" ||
	fail "account add did not start"
# Half the password: the program holds it and waits for the rest.
printf '%s' "${PW:0:8}" >&4
check "account add runs as nobody" \
	test "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" = 65534
hardened "$pid" "account add"
printf '%s\n' "${PW:8}" >&4
exec 4>&-
wait "$pid"
check "account add then completes" test $? -eq 0
check "the password is on no file in clear" sh -c '! grep -raqF -- "$1" "$2"' _ "$PW" "$U"

# ---- the console ----
tui_env
tui_start env -i HOME="$U/home" PATH=/usr/bin:/bin LANG=C.UTF-8 TERM=screen \
	"${AS_NOBODY[@]}" "$U/fluenzr-tui"
wait_screen "a@example.org"
pid=$(cat "$T/pid")
check "the console runs as nobody" \
	test "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" = 65534
hardened "$pid" "console"
keys q
check "the console exits 0" [ "$(wait_exit)" = 0 ]
finish
