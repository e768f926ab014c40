#!/bin/bash
# The network failures `fluenzr-tui test` must tell apart, hermetically: a
# name that does not exist, a resolver that does not answer, a host with
# several addresses, an unreachable network or host, a connect that times
# out. DNS comes from tests/probe-dns.py on 127.0.0.1:53, seen through a
# private /etc/resolv.conf, /etc/hosts and /etc/gai.conf (unshare --mount);
# unreachable networks come from fresh network namespaces (unshare --net).
# Nothing here sends a packet beyond loopback.
. "$top_srcdir/tests/probe-common.sh"

[ "$(id -u)" = 0 ] || skip_or_fail "unshare and port 53 need root"
need unshare ip mount flock
unshare --mount --net true 2>/dev/null || skip_or_fail "unshare --mount --net does not work here"

A=alice@mail.test
PW=$MAILSTACK_ALICE_PASS
S0=$MAILSTACK_SMTP_STARTTLS_PORT

# ---- a private resolver configuration ----
NS=$T/ns
mkdir -p "$NS"
printf '127.0.0.1 localhost\n' >"$NS/hosts"
# glibc sorts addresses (RFC 6724) and would put 127.0.0.1 first as the
# longest match of the source address: raise 127.0.0.3 above it, so the
# order tried is the order the DNS server gives.
cat >"$NS/gai.conf" <<'EOF'
precedence ::1/128 50
precedence ::/0 40
precedence ::ffff:127.0.0.3/128 38
precedence ::ffff:0:0/96 35
EOF
# resolv_conf OPTIONS: the nameserver is ours, with these options.
resolv_conf() {
	printf 'nameserver 127.0.0.1\noptions %s\n' "$1" >"$NS/resolv.conf"
}

# in_ns COMMAND...: COMMAND sees our resolv.conf, hosts and gai.conf.
in_ns() {
	unshare --mount -- /bin/sh -c '
		mount --bind "$0/resolv.conf" /etc/resolv.conf &&
		mount --bind "$0/hosts" /etc/hosts &&
		mount --bind "$0/gai.conf" /etc/gai.conf && exec "$@"' "$NS" "$@"
}

# in_netns SETUP COMMAND...: COMMAND in a fresh network namespace after the
# shell commands SETUP ("" leaves even lo down).
in_netns() {
	unshare --net -- /bin/sh -c 'eval "$0" && exec "$@"' "$@"
}

# The namespaces the cases run in.
direct() { "$@"; }
net_down() { in_netns true "$@"; }
net_lo() { in_netns 'ip link set lo up' "$@"; }
net_unreachable() {
	in_netns 'ip link set lo up && ip route add unreachable 127.0.0.9/32 table local' "$@"
}
net_prohibit() {
	in_netns 'ip link set lo up && ip route add prohibit 127.0.0.9/32 table local' "$@"
}

# runx WRAPPER CASE EMAIL [test options...]: like run, through the function
# WRAPPER, and MS is the wall time in milliseconds.
runx() {
	local wrap=$1 name=$2 email=$3 t0
	shift 3
	D=$T/$name
	RC=0
	t0=$(date +%s%N)
	"$wrap" "$FLUENZR" --store "$D/s" --key-file "$D/k" test "$email" --json "$@" \
		>"$D/out.json" 2>"$D/err" || RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
	echo "# $name: $(jget "j['category'] + ' ' + j['diagnosis']['reason'] + ' at ' + j['diagnosis']['stage']") in $MS ms"
}

# step NAME FIELD: a field of the step NAME of the last run.
step() {
	jget "[s['$2'] for s in j['steps'] if s['name'] == '$1'][0]"
}

# within CASE MS: the last run took at most MS milliseconds.
within() {
	check "$1: done within $2 ms (took $MS)" test "$MS" -le "$2"
}

# ---- the fake DNS server ----
# Port 53 is one for the machine: two runs of this test take turns.
exec 9>"${TMPDIR:-/tmp}/fluenzr-probe-net-dns.lock"
flock -w 120 9 || fail "another run of $TEST_NAME held port 53 for 2 minutes"
DNS_PID=
stop_dns() {
	if [ -n "$DNS_PID" ]; then
		kill "$DNS_PID" 2>/dev/null
		wait "$DNS_PID" 2>/dev/null
		DNS_PID=
	fi
}
at_exit stop_dns
# start_dns MODE [NAME=ADDR,...]...
start_dns() {
	rm -f "$NS/ready"
	$PY "$top_srcdir/tests/probe-dns.py" "$1" "$NS/ready" "${@:2}" 2>"$NS/dns.err" &
	DNS_PID=$!
	wait_for -t 10 sh -c "test -f '$NS/ready' || ! kill -0 $DNS_PID" ||
		fail "the DNS server did not start"
	if [ ! -f "$NS/ready" ]; then
		DNS_PID=
		fail "cannot run the fake DNS server: $(cat "$NS/dns.err") (is port 53 on 127.0.0.1 taken? $(ss -lnup 'sport = :53' 2>/dev/null | tail -n +2))"
	fi
}

# ---- 1. names: one that does not exist, a resolver that does not answer ----
resolv_conf "timeout:1 attempts:1"
start_dns nxdomain
mk nxdomain $A "$PW" --smtp-host nosuch.mail.test --smtp-port 587 --smtp-security starttls
runx in_ns nxdomain $A --timeout 5
expect nxdomain dns_failure no_such_host
check "nxdomain: stage resolve" test "$(jget "j['diagnosis']['stage']")" = resolve
check "nxdomain: the step says no such host" test "$(step smtp.resolve detail)" = "nosuch.mail.test: no such host name"
check "nxdomain: the fixes point at the name" test "$(jget "'does not exist' in j['diagnosis']['fixes'][0]")" = True
check "nxdomain: nothing connected" test "$(jget "any(s['name'] == 'smtp.connect' for s in j['steps'])")" = False
within nxdomain 2000
stop_dns

start_dns silent
# The resolver gives up (EAI_AGAIN) after its own timeout, 1 s.
mk silent $A "$PW" --smtp-host mail.test --smtp-port 587 --smtp-security starttls
runx in_ns silent $A --timeout 3
expect silent dns_failure resolver_unavailable
check "silent: the step says the resolver did not answer" \
	test "$(jget "'did not answer' in [s['detail'] for s in j['steps'] if s['name'] == 'smtp.resolve'][0]")" = True
check "silent: the fixes point at the resolver, not the name" \
	test "$(jget "'name server did not answer' in j['diagnosis']['fixes'][0]")" = True
within silent 4500
# A resolver slower than the step timeout (glibc's defaults wait 5 s, twice):
# the probe stops waiting at the timeout and says the same.
resolv_conf "timeout:5 attempts:2"
mk silent_long $A "$PW" --smtp-host mail.test --smtp-port 587 --smtp-security starttls
runx in_ns silent_long $A --timeout 2
expect silent_long dns_failure resolver_unavailable
check "silent_long: the step says the resolver did not answer in time" \
	test "$(step smtp.resolve detail)" = "mail.test: the resolver did not answer within 2 s"
check "silent_long: the fixes point at the resolver" \
	test "$(jget "'name server did not answer' in j['diagnosis']['fixes'][0]")" = True
check "silent_long: not before the timeout" test "$MS" -ge 1900
within silent_long 3500
stop_dns

# ---- every address is tried, in order ----
resolv_conf "timeout:1 attempts:1"
start_dns zone mail.test=127.0.0.3,127.0.0.1 dead.mail.test=127.0.0.3,127.0.0.4
# Nothing listens on 127.0.0.3: refused; then the stack on 127.0.0.1.
mk multi $A "$PW" --smtp-host mail.test --smtp-port "$S0" --smtp-security starttls \
	--username $A --ca-file "$CA"
runx in_ns multi $A --no-send --timeout 5
expect multi ok
check "multi: both addresses, in order" test "$(step smtp.resolve detail)" = "127.0.0.3, 127.0.0.1"
check "multi: connected to the second" test "$(jget "[s['detail'] for s in j['steps'] if s['name'] == 'smtp.connect'][0].startswith('127.0.0.1:$S0')")" = True
check "multi: the refused first address is reported" \
	test "$(step smtp.connect detail)" = "127.0.0.1:$S0 (after 127.0.0.3:$S0: Connection refused)"
check "multi: the certificate verified for mail.test" test "$(jget "j['tls'][0]['verified']")" = True
mk dead $A "$PW" --smtp-host dead.mail.test --smtp-port "$S0" --smtp-security starttls
runx in_ns dead $A --timeout 5 --no-alternatives
expect dead connection_refused refused
check "dead: each address tried" test "$(step smtp.connect detail)" = \
	"127.0.0.3:$S0: Connection refused; 127.0.0.4:$S0: Connection refused"
stop_dns

# ---- 2. unreachable: answered at once, and not a refusal ----
# A fresh network namespace: lo is down, 127.0.0.1 has no route.
mk netunreach $A "$PW" --smtp-host 127.0.0.1 --smtp-port "$S0" --smtp-security starttls
runx net_down netunreach $A --timeout 5 --no-alternatives
expect netunreach connection_refused network_unreachable
check "netunreach: stage connect" test "$(jget "j['diagnosis']['stage']")" = connect
check "netunreach: the step says why" test "$(step smtp.connect detail)" = "127.0.0.1:$S0: Network is unreachable"
check "netunreach: the first fix says no route" \
	test "$(jget "'no route' in j['diagnosis']['fixes'][0]")" = True
within netunreach 1000
# lo up with an unreachable route: EHOSTUNREACH, as an ICMP error gives.
mk hostunreach $A "$PW" --smtp-host 127.0.0.9 --smtp-port "$S0" --smtp-security starttls
runx net_unreachable hostunreach $A --timeout 5 --no-alternatives
expect hostunreach connection_refused unreachable
check "hostunreach: the step says why" test "$(step smtp.connect detail)" = "127.0.0.9:$S0: No route to host"
check "hostunreach: the first fix says no route" \
	test "$(jget "'no route' in j['diagnosis']['fixes'][0]")" = True
within hostunreach 1000
# A local firewall's rule (a prohibit route): EACCES.
mk prohibit $A "$PW" --smtp-host 127.0.0.9 --smtp-port "$S0" --smtp-security starttls
runx net_prohibit prohibit $A --timeout 5 --no-alternatives
expect prohibit connection_refused blocked_locally
within prohibit 1000
# The same namespace setup still refuses where lo works and nothing listens.
mk nslocal $A "$PW" --smtp-host 127.0.0.1 --smtp-port "$S0" --smtp-security starttls
runx net_lo nslocal $A --timeout 5 --no-alternatives
expect nslocal connection_refused refused

# ---- 3. a connect that times out ----
# listen(0) queues one connection; with one idle client in the queue and
# never accepted, Linux drops further SYNs, so connect() waits.
rm -f "$T/bl.port"
$PY - "$T/bl.port" <<'EOF' &
import os, socket, sys, time
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(0)
port = l.getsockname()[1]
idle = []
for _ in range(2):
    c = socket.socket()
    c.settimeout(0.5)
    try:
        c.connect(("127.0.0.1", port))
    except socket.timeout:
        break                   # the queue is full
    idle.append(c)
else:
    sys.exit("the accept queue does not fill up")
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(port))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(120)
EOF
BL_PID=$!
at_exit "kill $BL_PID 2>/dev/null"
wait_for -t 5 test -f "$T/bl.port" || fail "the full listener did not start"
BL_PORT=$(cat "$T/bl.port")
mk ctimeout $A "$PW" --smtp-host 127.0.0.1 --smtp-port "$BL_PORT" --smtp-security starttls
runx direct ctimeout $A --timeout 2 --no-alternatives
expect ctimeout timeout no_answer
check "ctimeout: stage connect" test "$(jget "j['diagnosis']['stage']")" = connect
check "ctimeout: the step says no answer in time" test "$(step smtp.connect detail)" = "127.0.0.1:$BL_PORT: no answer in time"
check "ctimeout: not before the timeout" test "$(step smtp.connect ms)" -ge 1900
within ctimeout 3000

finish
