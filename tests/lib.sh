# Shared helpers for the shell tests. Source it first:  . "$top_srcdir/tests/lib.sh"
# Automake's test driver reads the exit status: 0 pass, 77 skip, other fail.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${FLUENZR:=$top_builddir/fluenzr-tui}"
export top_srcdir top_builddir FLUENZR
PY=/usr/bin/python3
TEST_NAME=$(basename "$0" .sh)
_checks=0
_failed=0

fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	exit 1
}

# A check that counts: check "what" command...
check() {
	local what=$1
	shift
	_checks=$((_checks + 1))
	if "$@"; then
		echo "ok - $what"
	else
		echo "not ok - $what" >&2
		_failed=$((_failed + 1))
	fi
}

# Ends a test file: prints the summary line and exits with the right status.
finish() {
	echo "$((_checks - _failed)) passed, $_failed failed"
	[ "$_failed" -eq 0 ] || exit 1
	exit 0
}

# A missing tool skips the test on a developer's machine but fails in CI,
# where nothing may be skipped.
skip_or_fail() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $TEST_NAME: cannot run in CI: $*" >&2
		exit 1
	fi
	echo "SKIP: $TEST_NAME: $*" >&2
	exit 77
}

need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip_or_fail "$t is not installed"
	done
}

# wait_for [-t SECONDS] COMMAND...: polls every 50 ms until COMMAND succeeds.
wait_for() {
	local limit=10 start
	if [ "${1:-}" = -t ]; then
		limit=$2
		shift 2
	fi
	start=$(date +%s%N)
	while ! "$@" >/dev/null 2>&1; do
		if [ $(( ($(date +%s%N) - start) / 1000000 )) -ge $((limit * 1000)) ]; then
			return 1
		fi
		sleep 0.05
	done
	return 0
}

# slow_ms MS: a wall-time bound of MS for the program, widened in a
# sanitizer build, whose start and leak-checked exit each add a few hundred
# milliseconds under load. What the bound guards (a deadline kept, a cancel
# obeyed) must also be asserted by the outcome; precise timing is bench/'s.
slow_ms() {
	if grep -q '^#define FLUENZR_SANITIZERS 1' "$top_builddir/config.h" 2>/dev/null; then
		echo $(($1 + 2000))
	else
		echo "$1"
	fi
}

# in_wait PID [N]: N threads of PID (1 if not given) sleep in poll(2) or
# ppoll(2): probes waiting for their socket or the cancel descriptor, the
# moment a test means by "under way", seen instead of slept for.
in_wait() {
	local f n w arch found=0
	arch=$(uname -m)
	for f in /proc/"$1"/task/*/syscall; do
		read -r n _ <"$f" 2>/dev/null || continue
		case $arch:$n in
		x86_64:7 | x86_64:271 | aarch64:73 | i?86:168 | i?86:309)
			found=$((found + 1))
			continue ;;
		esac
		w=$(cat "${f%/syscall}/wchan" 2>/dev/null) || continue
		case $w in *poll*) found=$((found + 1)) ;; esac
	done
	[ "$found" -ge "${2:-1}" ]
}

# Cleanups run at exit, last registered first. Temporary directories are
# listed in a file, since mktemp_dir usually runs in a $(...) subshell.
_cleanups=()
_tmplist=$(mktemp "${TMPDIR:-/tmp}/fluenzr-tmplist.XXXXXX")
at_exit() { _cleanups+=("$*"); }
_run_cleanups() {
	local i d
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[$i]}" || true
	done
	if [ -f "$_tmplist" ]; then
		while IFS= read -r d; do
			[ -n "$d" ] && rm -rf "$d"
		done <"$_tmplist"
		rm -f "$_tmplist"
	fi
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

mktemp_dir() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/fluenzr-$TEST_NAME.XXXXXX") || fail "mktemp"
	chmod 700 "$d"
	echo "$d" >>"$_tmplist"
	echo "$d"
}

# A private home: XDG dirs, store and key file under one temp dir.
setup_home() {
	T=$(mktemp_dir)
	export HOME="$T/home" XDG_DATA_HOME="$T/home/.local/share" XDG_CONFIG_HOME="$T/home/.config"
	mkdir -p "$HOME"
	chmod 700 "$HOME"
	STORE="$T/home/.local/share/fluenzr"
	KEYFILE="$T/home/.config/fluenzr/store.key"
	unset FLUENZR_STORE FLUENZR_KEY_FILE
}

# A sha256 of every file of a directory tree, to prove nothing changed.
# LMDB's lock.mdb is left out: it holds the reader table, which every open
# rewrites; the database is data.mdb.
tree_hash() {
	(cd "$1" && find . -type f ! -name lock.mdb -print0 | sort -z | xargs -0 sha256sum) | sha256sum
}

# The shared mail stack: start_mailstack exports everything of env.sh.
start_mailstack() {
	command -v postfix >/dev/null 2>&1 || [ -x /usr/sbin/postfix ] || skip_or_fail "postfix is not installed"
	[ -x /usr/sbin/dovecot ] || skip_or_fail "dovecot is not installed"
	[ "$(id -u)" = 0 ] || skip_or_fail "the mail stack runs Postfix and Dovecot as root"
	MAILSTACK_DIR=$(mktemp_dir)
	# Tests may run in parallel (make -j): each stack takes a free block of
	# 100 ports, claimed with an atomic mkdir.
	if [ -z "${MAILSTACK_BASE:-}" ]; then
		local b
		for b in $(seq 22500 100 29900); do
			if mkdir "/tmp/fluenzr-mailstack-$b.lock" 2>/dev/null; then
				# a stack started by hand holds no lock: see that its
				# first ports are free too
				if (exec 3<>"/dev/tcp/127.0.0.1/$b") 2>/dev/null ||
				   (exec 3<>"/dev/tcp/127.0.0.1/$((b + 11))") 2>/dev/null; then
					rmdir "/tmp/fluenzr-mailstack-$b.lock"
					continue
				fi
				MAILSTACK_BASE=$b
				at_exit "rmdir '/tmp/fluenzr-mailstack-$b.lock'"
				break
			fi
		done
		[ -n "${MAILSTACK_BASE:-}" ] || fail "no free port block for the mail stack"
	fi
	export MAILSTACK_BASE
	at_exit "'$top_srcdir/tests/mailstack/stop.sh' '$MAILSTACK_DIR' >/dev/null 2>&1"
	echo "$MAILSTACK_DIR.start.log" >>"$_tmplist"
	"$top_srcdir/tests/mailstack/start.sh" "$MAILSTACK_DIR" >"$MAILSTACK_DIR.start.log" 2>&1 ||
		{ cat "$MAILSTACK_DIR.start.log" >&2; fail "the mail stack did not start"; }
	# shellcheck disable=SC1091
	. "$MAILSTACK_DIR/env.sh"
}

# start_exim: Exim 4.96 beside the stack of start_mailstack
# (tests/mailstack/exim.sh), its MAILSTACK_EXIM_* exported. stop.sh, already
# registered, stops it with the rest.
start_exim() {
	local rc=0
	echo "$MAILSTACK_DIR.exim.log" >>"$_tmplist"
	unshare --mount true 2>/dev/null || skip_or_fail "unshare --mount does not work here (Exim runs in a mount namespace)"
	"$top_srcdir/tests/mailstack/exim.sh" "$MAILSTACK_DIR" >"$MAILSTACK_DIR.exim.log" 2>&1 || rc=$?
	if [ $rc = 3 ]; then
		cat "$MAILSTACK_DIR.exim.log" >&2
		skip_or_fail "the Exim package cannot be fetched"
	fi
	[ $rc = 0 ] || { cat "$MAILSTACK_DIR.exim.log" >&2; fail "Exim did not start"; }
	# shellcheck disable=SC1091
	. "$MAILSTACK_DIR/env.sh"
}

# port_listening PORT: something listens on 127.0.0.1:PORT.
port_listening() {
	awk -v p=":$(printf '%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' /proc/net/tcp
}
# free_port BASE: a port near BASE that nothing listens on.
free_port() {
	local p
	for p in $(seq $(($1 + $$ % 400)) 7 $(($1 + 2000))); do
		port_listening "$p" || { echo "$p"; return; }
	done
	fail "no free port"
}

# start_sshd [BASE]: a private OpenSSH server on 127.0.0.1:$SSHP, a free
# port near BASE (its own host key, config and client key $S/client_key;
# logs in root), for a console over SSH and for tunnels; stopped at exit.
start_sshd() {
	S=$T/ssh
	# (sshd wants its privilege separation directory)
	mkdir -p "$S" /run/sshd
	chmod 755 /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$S/host_key" || fail "host key"
	ssh-keygen -q -t ed25519 -N '' -f "$S/client_key" || fail "client key"
	cp "$S/client_key.pub" "$S/authorized_keys"
	SSHP=$(free_port "${1:-30022}")
	cat >"$S/sshd_config" <<-CONF
	Port $SSHP
	ListenAddress 127.0.0.1
	HostKey $S/host_key
	PidFile $S/sshd.pid
	PermitRootLogin prohibit-password
	AuthorizedKeysFile $S/authorized_keys
	StrictModes no
	UsePAM no
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	AllowTcpForwarding yes
	PrintMotd no
	PrintLastLog no
	LogLevel ERROR
	CONF
	/usr/sbin/sshd -D -f "$S/sshd_config" -E "$S/sshd.log" &
	SSHD_PID=$!
	at_exit "kill $SSHD_PID 2>/dev/null"
	wait_for -t 10 port_listening "$SSHP" || fail "sshd did not start: $(cat "$S/sshd.log")"
}
