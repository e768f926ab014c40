# A real DNS server for the tests that need answers of their own: sourced
# after tests/lib.sh. dns_enter re-runs the calling script inside fresh
# network and mount namespaces, where 127.0.0.1:53 and /etc/resolv.conf are
# the test's; nsd (Debian's authoritative server, from NLnet Labs) then
# serves the zones the test writes, as a domain's owner would publish them.
#
#   dns_enter "$@"                  # first, before setup_home
#   dns_zone example.test <<'Z'     # records relative to the zone
#   @      MX  10 mail
#   mail   A   127.0.0.1
#   @      TXT "v=spf1 ip4:127.0.0.1 -all"
#   Z
#   dns_start                       # serves every zone written so far
#   dns_restart                     # after changing or adding zones
#
# The program finds the server as a user's would: through /etc/resolv.conf.
[ "$(id -u)" = 0 ] || skip_or_fail "unshare and port 53 need root"
need unshare ip mount nsd nsd-checkconf nsd-checkzone

dns_enter() {
	if [ -z "${DNS_IN_NS:-}" ]; then
		unshare --mount --net true 2>/dev/null ||
			skip_or_fail "unshare --mount --net does not work here"
		DNS_IN_NS=1 exec unshare --mount --net -- bash "$0" "$@"
	fi
	ip link set lo up || fail "cannot bring up lo"
	DNS_DIR=$(mktemp_dir)
	mkdir -p "$DNS_DIR/zones"
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:2\n' >"$DNS_DIR/resolv.conf"
	mount --bind "$DNS_DIR/resolv.conf" /etc/resolv.conf || fail "cannot bind-mount resolv.conf"
	# The build's own presets and ISPDB, not an older installed copy.
	local d
	for d in /usr/local/share/fluenzr /usr/share/fluenzr; do
		[ -d "$d" ] && { mount -t tmpfs none "$d" || fail "cannot hide $d"; }
	done
	DNS_PID=
	at_exit 'dns_stop'
}

# dns_zone ORIGIN: the zone's records from stdin; the SOA and NS are added.
dns_zone() {
	local z=${1%.}
	{
		printf '$ORIGIN %s.\n$TTL 60\n' "$z"
		printf '@ SOA ns.%s. hostmaster.%s. 1 3600 600 86400 60\n' "$z" "$z"
		printf '@ NS ns.%s.\nns A 127.0.0.1\n' "$z"
		cat
	} >"$DNS_DIR/zones/$z.zone"
	nsd-checkzone "$z" "$DNS_DIR/zones/$z.zone" >"$DNS_DIR/check.log" 2>&1 ||
		{ cat "$DNS_DIR/check.log" >&2; fail "zone $z does not parse"; }
}

dns_start() {
	local f z
	{
		cat <<-CONF
		server:
		  ip-address: 127.0.0.1
		  port: 53
		  username: ""
		  chroot: ""
		  zonesdir: "$DNS_DIR/zones"
		  zonelistfile: "$DNS_DIR/zone.list"
		  xfrdfile: "$DNS_DIR/xfrd.state"
		  xfrdir: "$DNS_DIR"
		  pidfile: "$DNS_DIR/nsd.pid"
		  database: ""
		  logfile: "$DNS_DIR/nsd.log"
		  server-count: 1
		  hide-version: yes
		  verbosity: 1
		remote-control:
		  control-enable: no
		CONF
		for f in "$DNS_DIR"/zones/*.zone; do
			z=$(basename "$f" .zone)
			printf 'zone:\n  name: "%s"\n  zonefile: "%s.zone"\n' "$z" "$z"
		done
	} >"$DNS_DIR/nsd.conf"
	nsd-checkconf "$DNS_DIR/nsd.conf" || fail "nsd.conf does not parse"
	nsd -d -c "$DNS_DIR/nsd.conf" >>"$DNS_DIR/nsd.log" 2>&1 &
	DNS_PID=$!
	for f in "$DNS_DIR"/zones/*.zone; do
		z=$(basename "$f" .zone)
		wait_for -t 10 "$PY" "$top_srcdir/tests/dns-query.py" "$z" SOA ||
			{ cat "$DNS_DIR/nsd.log" >&2; fail "nsd does not answer for $z"; }
	done
}

dns_stop() {
	[ -n "${DNS_PID:-}" ] || return 0
	kill "$DNS_PID" 2>/dev/null
	wait "$DNS_PID" 2>/dev/null
	DNS_PID=
}

dns_restart() {
	dns_stop
	dns_start
}
