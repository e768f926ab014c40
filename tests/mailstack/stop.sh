#!/bin/sh
# Stop the mail stack started by tests/mailstack/start.sh DIR: Postfix,
# both Dovecot instances and faultd, and Exim if exim.sh DIR added it.
# Only processes recorded in DIR's pid files (and the sessions they lead)
# are touched. Logs stay in DIR.
set -u

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
[ -d "$1" ] || exit 0
D=$(cd "$1" && pwd -P)

# pid_of FILE COMM: the pid in FILE if that process is alive and is COMM.
pid_of() {
	[ -s "$1" ] || return 1
	p=$(awk '{ print $1; exit }' "$1")
	case $p in ''|*[!0-9]*) return 1;; esac
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] || return 1
	echo "$p"
}

sessions=""
pids=""
for spec in "$D/postfix-spool/pid/master.pid:master" \
	    "$D/dovecot/run/master.pid:dovecot" \
	    "$D/dovecot/run-ss/master.pid:dovecot" \
	    "$D/dovecot/run-oauth/master.pid:dovecot" \
	    "$D/dovecot/run-names/master.pid:dovecot" \
	    "$D/opendkim/opendkim.pid:opendkim" \
	    "$D/faultd.pid:python3" \
	    "$D/exim/exim.pid:exim4"; do
	if p=$(pid_of "${spec%:*}" "${spec##*:}"); then
		# Every daemon here leads its own session (setsid), so the
		# session id finds the children it may leave behind.
		s=$(ps -o sid= -p "$p" | tr -d ' ')
		[ "$s" = "$p" ] || { echo "mailstack/stop: $p is not a session leader" >&2; s=""; }
		sessions="$sessions $s"
		pids="$pids $p"
		kill -TERM "$p" 2>/dev/null
	fi
done

# Live (not zombie) processes of the recorded sessions: an exited daemon
# stays a zombie until init reaps it, and that is gone enough.
members() {
	[ -n "$pids" ] || return 0
	ps -eo pid=,sid=,stat= | awk -v s="$sessions" -v p="$pids" '
		BEGIN {
			n = split(s, a, " "); for (i = 1; i <= n; i++) sid[a[i]] = 1
			n = split(p, a, " "); for (i = 1; i <= n; i++) pid[a[i]] = 1
		}
		(($2 in sid) || ($1 in pid)) && $3 !~ /^Z/ { print $1 }'
}

# Masters stop their children on SIGTERM; allow 10 s, then SIGKILL.
i=0
while [ -n "$(members)" ]; do
	i=$((i + 1))
	if [ $i -gt 200 ]; then
		for p in $(members); do kill -KILL "$p" 2>/dev/null; done
		[ $i -gt 220 ] && { echo "mailstack/stop: processes survived SIGKILL" >&2; exit 1; }
	fi
	sleep 0.05
done

rm -f "$D/env.sh" "$D/faultd.pid" "$D/dovecot/run/master.pid" \
	"$D/dovecot/run-ss/master.pid" "$D/exim/exim.pid"
exit 0
