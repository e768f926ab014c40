#!/bin/bash
# Benchmark: 200 messages through one account against the real Postfix of
# tests/mailstack (STARTTLS with verification, AUTH PLAIN):
#   - `fluenzr-tui send --batch`, one connection for all of them;
#   - 200 msmtp invocations, one connection each (msmtp sends one message
#     per run and has no batch mode: its per-message cost is a run's);
#   - 200 `fluenzr-tui send` invocations, the same shape as msmtp's.
# Prints the medians and the ratios (ours / msmtp: below 1 means faster).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
FLUENZR=${FLUENZR:-$top_builddir/fluenzr-tui}
. "$top_srcdir/tests/lib.sh"
need hyperfine msmtp
N=${BENCH_MESSAGES:-200}
RUNS=${BENCH_RUNS:-3}

setup_home
start_mailstack
S=$T/store
K=$T/store.key
PORT=$MAILSTACK_SMTP_STARTTLS_PORT
A=$MAILSTACK_ALICE_USER
B=$MAILSTACK_BOB_USER

"$FLUENZR" --store "$S" --key-file "$K" account add --email "$A" --username "$A" \
	--smtp-host localhost --smtp-port "$PORT" --smtp-security starttls \
	--ca-file "$MAILSTACK_CA_FILE" --password-stdin <<<"$MAILSTACK_ALICE_PASS" >/dev/null ||
	fail "account add"

# The same message for everyone, about 1 KiB.
body=$(for i in $(seq 16); do echo "Line $i of the benchmark message, as a sending system would send it."; done)
printf 'To: %s\nSubject: send bench\n\n%s\n' "$B" "$body" >"$T/msg"
for i in $(seq "$N"); do
	echo "From bench Thu Jan  1 00:00:00 1970"
	cat "$T/msg"
	echo
done >"$T/batch.mbox"

umask 077
cat >"$T/msmtprc" <<EOF
account bench
host localhost
port $PORT
tls on
tls_starttls on
tls_trust_file $MAILSTACK_CA_FILE
auth plain
user $A
password $MAILSTACK_ALICE_PASS
from $A
logfile -
syslog off
account default : bench
EOF
msmtp -C "$T/msmtprc" -t <"$T/msg" || fail "msmtp does not send"
"$FLUENZR" --store "$S" --key-file "$K" send --account "$A" -t <"$T/msg" ||
	fail "fluenzr-tui send does not send"

cat >"$T/msmtp-n.sh" <<EOF
#!/bin/sh
i=0
while [ \$i -lt $N ]; do msmtp -C '$T/msmtprc' -t <'$T/msg' >/dev/null || exit 1; i=\$((i + 1)); done
EOF
cat >"$T/ours-n.sh" <<EOF
#!/bin/sh
i=0
while [ \$i -lt $N ]; do '$FLUENZR' --store '$S' --key-file '$K' send --account '$A' -t <'$T/msg' || exit 1; i=\$((i + 1)); done
EOF
chmod +x "$T/msmtp-n.sh" "$T/ours-n.sh"
batch="$FLUENZR --store $S --key-file $K send --account $A -t --batch <$T/batch.mbox >/dev/null"

hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$T/send.json" \
	-n "fluenzr-send-batch-$N" "$batch" -n "msmtp-x$N" "$T/msmtp-n.sh" \
	-n "fluenzr-send-x$N" "$T/ours-n.sh" >"$T/send.txt" 2>&1 ||
	{ cat "$T/send.txt"; fail "hyperfine"; }

$PY - "$T/send.json" "$N" <<'EOF'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
n = int(sys.argv[2])
b, m, o = (r["fluenzr-send-batch-%d" % n], r["msmtp-x%d" % n], r["fluenzr-send-x%d" % n])
print("%d messages: send --batch %.0f ms (%.1f ms/message), %d msmtp runs %.0f ms "
      "(%.1f ms/message), %d send runs %.0f ms (%.1f ms/message)" % (
      n, b * 1000, b * 1000 / n, n, m * 1000, m * 1000 / n, n, o * 1000, o * 1000 / n))
print("ratio send --batch / msmtp runs: %.2f (target <= 1)" % (b / m))
print("ratio send runs / msmtp runs: %.2f (per message, one connection each)" % (o / m))
EOF
