#!/bin/sh
# Add a real Exim 4.96 to a mail stack that tests/mailstack/start.sh started
# in DIR, then append its ports to DIR/env.sh.
#
#   tests/mailstack/exim.sh DIR     (as root; stop.sh DIR stops it too)
#   tests/mailstack/exim.sh --fetch (only fetch and unpack the binary)
#
# Exit status 3: the package could not be fetched (no network or mirror).
#
# Debian 12's exim4 packages conflict with postfix (installing one removes
# the other), so the daemon runs from exim4-daemon-light's .deb, unpacked
# with dpkg-deb -x into $FLUENZR_EXIM_CACHE (default
# /var/cache/fluenzr-tests/exim), with a config of its own (-C) and its
# spool, log and pid file under DIR/exim. The binary looks its compiled-in
# user Debian-exim up before it reads any config: it runs in a mount
# namespace where /etc/passwd and /etc/group are private copies that have
# that user, so the system's files are never changed.
#
# Ports (E = MAILSTACK_BASE + 40), all on 127.0.0.1, AUTH (PLAIN, LOGIN,
# against DIR/exim/passwd: alice, bob and quota of start.sh) only after
# STARTTLS or on the implicit-TLS port:
#   E+0  STARTTLS, valid cert. MAIL FROM another address than the login:
#          "550 Sender address <x> is not owned by authenticated user <y>"
#        without AUTH, other domains: "550 relay not permitted"
#   E+1  implicit TLS (tls_on_connect_ports), valid cert
#   E+2  STARTTLS, expired cert      E+3  STARTTLS, wrong-host cert
#   E+4  STARTTLS, no AUTH ever offered: "503 AUTH command used when not advertised"
#   E+5  as E+0, the sender check without a message (Exim's default text)
#   E+6  ratelimit defer at MAIL FROM, Exim's default text
#   E+7  ratelimit deny at RCPT TO, Exim's default text
#   E+8  ratelimit defer at RCPT TO, the spec's example message:
#          "451 Sender rate N / 1h exceeds limit"
#   E+9  ratelimit deny at RCPT TO, cPanel's text: "550 Domain mail.test has
#          exceeded the max emails per hour (N/N (100%)) allowed. ..."
#   E+10 ratelimit defer at connect, cPanel's text: "The server has reached
#          its limit for processing requests from your host. ..."
#   E+11 ratelimit deny after DATA, a hosting company's text:
#          "550 You have reached your hourly sending limit ..."
# Every limit is 0 per hour per login (per host at connect), so the first
# attempt already exceeds it. Local users are delivered to Dovecot over
# LMTP; other domains are accepted from authenticated users and discarded.
set -eu

die() { echo "mailstack/exim: $*" >&2; exit 1; }

CACHE=${FLUENZR_EXIM_CACHE:-/var/cache/fluenzr-tests/exim}
EXIM_PKG=exim4-daemon-light

# fetch: the unpacked package in $CACHE/root, once per machine. Concurrent
# starts take turns under a lock; a half-unpacked tree is never used.
fetch() {
	[ -x "$CACHE/root/usr/sbin/exim4" ] && return 0
	mkdir -p "$(dirname "$CACHE")"
	command -v flock >/dev/null 2>&1 || die "missing tool: flock"
	exec 8>"$CACHE.lock"
	flock 8
	if [ ! -x "$CACHE/root/usr/sbin/exim4" ]; then
		tmp=$(mktemp -d "$CACHE.new.XXXXXX")
		# apt-get download needs the package lists; a fresh system
		# may have none yet.
		(cd "$tmp" && apt-get download -q "$EXIM_PKG" >"$tmp/apt.log" 2>&1) ||
			{ apt-get update -q >>"$tmp/apt.log" 2>&1 &&
			  (cd "$tmp" && apt-get download -q "$EXIM_PKG" >>"$tmp/apt.log" 2>&1); } ||
			{ cat "$tmp/apt.log" >&2; rm -rf "$tmp"
			  echo "mailstack/exim: apt-get download $EXIM_PKG failed" >&2; exit 3; }
		dpkg-deb -x "$tmp"/${EXIM_PKG}_*.deb "$tmp/root" ||
			{ rm -rf "$tmp"; die "dpkg-deb -x failed"; }
		# The package's binary is setuid root; this copy is run by
		# root only and must not lie in a cache as a way to root.
		chmod 0755 "$tmp/root/usr/sbin/exim4"
		rm -rf "$CACHE"
		mkdir -p "$CACHE"
		mv "$tmp/root" "$CACHE/root"
		mv "$tmp"/${EXIM_PKG}_*.deb "$CACHE/"
		rm -rf "$tmp"
	fi
	exec 8>&-
}

if [ "${1:-}" = --fetch ]; then
	[ "$(id -u)" -eq 0 ] || die "must run as root"
	fetch
	exit 0
fi

[ $# -eq 1 ] || die "usage: $0 DIR | --fetch"
[ "$(id -u)" -eq 0 ] || die "must run as root (Exim starts as root, in a mount namespace)"
for tool in unshare mount ldd dpkg-deb apt-get getent; do
	command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool"
done
D=$(cd "$1" && pwd -P)
[ -s "$D/env.sh" ] || die "no mail stack in $D (run start.sh first)"
# shellcheck disable=SC1091
. "$D/env.sh"

fetch
X=$CACHE/root
EXIM=$X/usr/sbin/exim4
if missing=$(ldd "$EXIM" 2>/dev/null | grep 'not found'); then
	die "libraries the Exim binary needs are not installed: $missing"
fi

B=$MAILSTACK_BASE
E=$((B + 40))
EXIM_OFFSETS="0 1 2 3 4 5 6 7 8 9 10 11"
listening() {
	awk -v p=":$(printf '%04X' "$1")" \
	    '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
	    /proc/net/tcp
}

ED=$D/exim
# A previous Exim in DIR is stopped first, so a start is repeatable.
if [ -s "$ED/exim.pid" ]; then
	p=$(cat "$ED/exim.pid")
	if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = exim4 ]; then
		kill -TERM "$p" 2>/dev/null || true
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	fi
	rm -f "$ED/exim.pid"
fi
for o in $EXIM_OFFSETS; do
	listening $((E + o)) && die "port $((E + o)) is already in use"
done

# ---------------------------------------------------------------- user
# A uid and gid no account of this system has, for Debian-exim.
EUID_=64990
while getent passwd $EUID_ >/dev/null || getent group $EUID_ >/dev/null; do
	EUID_=$((EUID_ - 1))
	[ $EUID_ -gt 60000 ] || die "no free uid for Debian-exim"
done
rm -rf "$ED"
mkdir -p "$ED/etc" "$ED/spool" "$ED/log" "$ED/certs"
chmod 0755 "$ED" "$ED/etc"
getent passwd | grep -v '^Debian-exim:' >"$ED/etc/passwd"
getent group | grep -v '^Debian-exim:' >"$ED/etc/group"
echo "Debian-exim:x:$EUID_:$EUID_:Exim (fluenzr test stack):$ED/spool:/usr/sbin/nologin" >>"$ED/etc/passwd"
echo "Debian-exim:x:$EUID_:" >>"$ED/etc/group"
chmod 0644 "$ED/etc/passwd" "$ED/etc/group"

# The receiving process runs as Debian-exim and loads the certificate
# per connection (it depends on the port): give it its own copies.
for n in valid expired wronghost; do
	cp "$D/certs/$n.pem" "$ED/certs/$n.pem"
done
cp "$D/certs/leaf.key" "$ED/certs/leaf.key"
chown -R "root:$EUID_" "$ED/certs"
chmod 0750 "$ED/certs"
chmod 0640 "$ED/certs"/*
chown "$EUID_:$EUID_" "$ED/spool" "$ED/log"
chmod 0750 "$ED/spool" "$ED/log"

# Logins: "address: password" (lsearch), from start.sh's users.
{
	echo "$MAILSTACK_ALICE_USER: $MAILSTACK_ALICE_PASS"
	echo "$MAILSTACK_BOB_USER: $MAILSTACK_BOB_PASS"
	echo "$MAILSTACK_QUOTA_USER: $MAILSTACK_QUOTA_PASS"
} >"$ED/passwd"
chown "root:$EUID_" "$ED/passwd"
chmod 0640 "$ED/passwd"

# ---------------------------------------------------------------- config
P0=$E P1=$((E + 1)) P2=$((E + 2)) P3=$((E + 3)) P4=$((E + 4)) P5=$((E + 5))
P6=$((E + 6)) P7=$((E + 7)) P8=$((E + 8)) P9=$((E + 9)) P10=$((E + 10)) P11=$((E + 11))
ifaces=
for o in $EXIM_OFFSETS; do ifaces="$ifaces${ifaces:+ ; }127.0.0.1.$((E + o))"; done

cat >"$ED/exim.conf" <<EOF
# generated by tests/mailstack/exim.sh; run as: exim4 -C $ED/exim.conf -bd
exim_path = $EXIM
primary_hostname = $MAILSTACK_DOMAIN
qualify_domain = $MAILSTACK_DOMAIN
domainlist local_domains = $MAILSTACK_DOMAIN
local_interfaces = <; $ifaces
tls_on_connect_ports = $P1
spool_directory = $ED/spool
log_file_path = $ED/log/%slog
pid_file_path = $ED/exim.pid
keep_environment =
smtp_banner = \$primary_hostname ESMTP Exim \$version_number (fluenzr test stack)
# Nothing here may wait for DNS or ident: loopback only.
host_lookup =
rfc1413_hosts =
rfc1413_query_timeout = 0s
dns_retrans = 1s
dns_retry = 1
# Cases may run at once: Exim's default of 20 connections is not a limit
# under test, and every message is delivered at once, never queued.
smtp_accept_max = 100
smtp_accept_max_per_host = 100
smtp_accept_queue_per_connection = 0
# The certificate is chosen by the port the client came to.
tls_advertise_hosts = *
tls_certificate = \${if eq{\$received_port}{$P2}{$ED/certs/expired.pem}{\${if eq{\$received_port}{$P3}{$ED/certs/wronghost.pem}{$ED/certs/valid.pem}}}}
tls_privatekey = $ED/certs/leaf.key
acl_smtp_connect = acl_connect
acl_smtp_mail = acl_mail
acl_smtp_rcpt = acl_rcpt
acl_smtp_data = acl_data

begin acl

acl_connect:
  defer   condition = \${if eq{\$received_port}{$P10}}
          ratelimit = 0 / 1h / strict / per_conn / conn:\$sender_host_address
          message   = The server has reached its limit for processing requests from your host. Please try again later.
  accept

acl_mail:
  defer   condition = \${if eq{\$received_port}{$P6}}
          authenticated = *
          ratelimit = 0 / 1h / strict / per_mail / mail:\$authenticated_id
  deny    condition = \${if eq{\$received_port}{$P5}}
          authenticated = *
          condition = \${if !eqi{\$sender_address}{\$authenticated_id}}
  deny    authenticated = *
          condition = \${if !eqi{\$sender_address}{\$authenticated_id}}
          message   = Sender address <\$sender_address> is not owned by authenticated user <\$authenticated_id>
  accept

acl_rcpt:
  deny    condition = \${if eq{\$received_port}{$P7}}
          authenticated = *
          ratelimit = 0 / 1h / strict / per_rcpt / rcpt:\$authenticated_id
  defer   condition = \${if eq{\$received_port}{$P8}}
          authenticated = *
          ratelimit = 0 / 1h / strict / per_rcpt / rcpt:\$authenticated_id
          message   = Sender rate \$sender_rate / \$sender_rate_period exceeds limit
  deny    condition = \${if eq{\$received_port}{$P9}}
          authenticated = *
          ratelimit = 0 / 1h / strict / per_rcpt / rcpt:\$authenticated_id
          message   = Domain \$sender_address_domain has exceeded the max emails per hour (\${eval:\$sender_rate_limit+0}/\${eval:\$sender_rate_limit+0} (100%)) allowed.  Message discarded.
  require message   = relay not permitted
          condition = \${if or{{def:authenticated_id}{match_domain{\$domain}{+local_domains}}}}
  require verify    = recipient
  accept

acl_data:
  deny    condition = \${if eq{\$received_port}{$P11}}
          authenticated = *
          ratelimit = 0 / 1h / strict / per_mail / data:\$authenticated_id
          message   = You have reached your hourly sending limit. Please wait before sending more messages.
  accept

begin routers

local_users:
  driver = manualroute
  domains = +local_domains
  condition = \${lookup{\$local_part@\$domain}lsearch{$ED/passwd}{yes}{no}}
  route_list = * 127.0.0.1
  transport = dovecot_lmtp
  self = send

elsewhere:
  driver = redirect
  domains = ! +local_domains
  data = :blackhole:

begin transports

dovecot_lmtp:
  driver = smtp
  protocol = lmtp
  port = $MAILSTACK_LMTP_PORT
  hosts_avoid_tls = *
  allow_localhost

begin authenticators

plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_advertise_condition = \${if and{{def:tls_in_cipher}{!eq{\$received_port}{$P4}}}}
  server_condition = \${if and{{!eq{\$auth2}{}}{!eq{\$auth3}{}}{eq{\$auth3}{\${lookup{\$auth2}lsearch{$ED/passwd}{\$value}{}}}}}}
  server_set_id = \$auth2

login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = <| Username: | Password:
  server_advertise_condition = \${if and{{def:tls_in_cipher}{!eq{\$received_port}{$P4}}}}
  server_condition = \${if and{{!eq{\$auth1}{}}{!eq{\$auth2}{}}{eq{\$auth2}{\${lookup{\$auth1}lsearch{$ED/passwd}{\$value}{}}}}}}
  server_set_id = \$auth1
EOF
chmod 0644 "$ED/exim.conf"

# ---------------------------------------------------------------- start
# run.sh ARGS...: the binary with the private passwd and group in place
# (run inside unshare --mount, so the system never sees them).
cat >"$ED/run.sh" <<EOF
#!/bin/sh
# generated by tests/mailstack/exim.sh: Exim with a private Debian-exim user
mount --bind $ED/etc/passwd /etc/passwd &&
mount --bind $ED/etc/group /etc/group || exit 1
exec $EXIM -C $ED/exim.conf "\$@"
EOF
chmod 0755 "$ED/run.sh"
# -bV reads and checks the config: its errors are the start's, not a
# silent port later.
unshare --mount --propagation private -- "$ED/run.sh" -bV >"$ED/version.out" 2>&1 ||
	{ cat "$ED/version.out" >&2; die "exim does not start or rejects its config (-bV)"; }
grep -q '^Exim version 4\.96' "$ED/version.out" ||
	die "not Exim 4.96: $(head -n 1 "$ED/version.out")"
# The daemon leads a session of its own, as the other daemons of the stack
# (stop.sh finds its children by it); -bdf keeps it in the foreground of
# that session, so the pid file names the process stop.sh signals.
setsid unshare --mount --propagation private -- "$ED/run.sh" -bdf \
	</dev/null >"$ED/daemon.out" 2>&1 &
daemon=$!
# A start that fails leaves no daemon behind.
started=no
trap '[ $started = yes ] || kill -TERM $daemon 2>/dev/null || true' EXIT

deadline=$(($(date +%s) + 30))
for o in $EXIM_OFFSETS; do
	until listening $((E + o)); do
		if [ "$(date +%s)" -ge $deadline ] || ! kill -0 $daemon 2>/dev/null; then
			cat "$ED/daemon.out" "$ED/log/paniclog" "$ED/log/mainlog" 2>/dev/null | tail -n 20 >&2
			die "port $((E + o)) did not come up"
		fi
		sleep 0.05
	done
done
until [ -s "$ED/exim.pid" ]; do
	[ "$(date +%s)" -lt $deadline ] || die "no pid file"
	sleep 0.05
done
read -r PID_EXIM <"$ED/exim.pid"
[ "$PID_EXIM" = "$daemon" ] || die "the pid file names $PID_EXIM, not the daemon $daemon"

q() { printf "'%s'" "$1"; }
# A restart replaces the lines of the previous start.
grep -v -e '^# SMTP (Exim' -e '^export MAILSTACK_EXIM_' "$D/env.sh" >"$D/env.sh.tmp" || true
{
	echo "# SMTP (Exim, tests/mailstack/exim.sh)"
	echo "export MAILSTACK_EXIM_VERSION=$(q "$(sed -n 's/^Exim version \([^ ]*\).*/\1/p' "$ED/version.out")")"
	echo "export MAILSTACK_EXIM_STARTTLS_PORT=$P0"
	echo "export MAILSTACK_EXIM_IMPLICIT_PORT=$P1"
	echo "export MAILSTACK_EXIM_EXPIRED_PORT=$P2"
	echo "export MAILSTACK_EXIM_WRONGHOST_PORT=$P3"
	echo "export MAILSTACK_EXIM_NOAUTH_PORT=$P4"
	echo "export MAILSTACK_EXIM_MISMATCH_PORT=$P5"
	echo "export MAILSTACK_EXIM_RL_MAIL_DEFER_PORT=$P6"
	echo "export MAILSTACK_EXIM_RL_RCPT_DENY_PORT=$P7"
	echo "export MAILSTACK_EXIM_RL_RCPT_DEFER_PORT=$P8"
	echo "export MAILSTACK_EXIM_RL_CPANEL_PORT=$P9"
	echo "export MAILSTACK_EXIM_RL_CONNECT_PORT=$P10"
	echo "export MAILSTACK_EXIM_RL_DATA_PORT=$P11"
	echo "export MAILSTACK_EXIM_PID=$PID_EXIM"
	echo "export MAILSTACK_EXIM_LOG=$(q "$ED/log/mainlog")"
} >>"$D/env.sh.tmp"
mv "$D/env.sh.tmp" "$D/env.sh"
started=yes
echo "mailstack: Exim $(sed -n 's/^Exim version \([^ ]*\).*/\1/p' "$ED/version.out") up on 127.0.0.1:$E-$((E + 11))"
