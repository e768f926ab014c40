#!/bin/bash
# Benchmark: a full SMTP test (connect, STARTTLS, AUTH PLAIN, send, QUIT) by
# `fluenzr-tui test --smtp-only` against swaks doing the same, then
# `test --all` over 200 accounts against 200 swaks runs through xargs -P 16,
# all against the real Postfix of tests/mailstack. Prints both medians and
# the ratio (ours / swaks: below 1 means we are faster).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
FLUENZR=${FLUENZR:-$top_builddir/fluenzr-tui}
. "$top_srcdir/tests/lib.sh"
need hyperfine swaks
N=${BENCH_ACCOUNTS:-200}
RUNS=${BENCH_RUNS:-20}

setup_home
start_mailstack
S=$T/store
K=$T/store.key
PORT=$MAILSTACK_SMTP_STARTTLS_PORT
CA=$MAILSTACK_CA_FILE

# One account for the single test, N for --all (the stack's bench users).
"$FLUENZR" --store "$S" --key-file "$K" account add --email "$MAILSTACK_ALICE_USER" \
	--username "$MAILSTACK_ALICE_USER" --smtp-host localhost --smtp-port "$PORT" \
	--smtp-security starttls --ca-file "$CA" --password-stdin <<<"$MAILSTACK_ALICE_PASS" >/dev/null ||
	fail "account add"
SA=$T/store-all
head -n "$N" "$MAILSTACK_BENCH_USERS_FILE" >"$T/users.tsv"
[ "$(wc -l <"$T/users.tsv")" -eq "$N" ] || fail "the stack has fewer than $N bench users"
while IFS=$'\t' read -r u p; do
	"$FLUENZR" --store "$SA" --key-file "$K" account add --email "$u" --username "$u" \
		--smtp-host localhost --smtp-port "$PORT" --smtp-security starttls --ca-file "$CA" \
		--password-stdin <<<"$p" >/dev/null || fail "account add $u"
done <"$T/users.tsv"

# swaks with the same work: STARTTLS with verification, AUTH PLAIN, a message.
cat >"$T/swaks-one.sh" <<EOF
#!/bin/sh
exec swaks --silent 2 --server localhost --port $PORT --tls --tls-verify --tls-ca-path '$CA' \\
	--auth PLAIN --auth-user "\$1" --auth-password "\$2" --from "\$1" --to "\$1" \\
	--header "Subject: swaks bench" >/dev/null
EOF
chmod +x "$T/swaks-one.sh"
"$T/swaks-one.sh" "$MAILSTACK_ALICE_USER" "$MAILSTACK_ALICE_PASS" || fail "swaks does not pass the test"
"$FLUENZR" --store "$S" --key-file "$K" test "$MAILSTACK_ALICE_USER" --smtp-only >/dev/null ||
	fail "fluenzr-tui test does not pass"

ours1="$FLUENZR --store $S --key-file $K test $MAILSTACK_ALICE_USER --smtp-only --json"
peer1="$T/swaks-one.sh $MAILSTACK_ALICE_USER $MAILSTACK_ALICE_PASS"
oursN="$FLUENZR --store $SA --key-file $K test --all --jobs 16 --smtp-only --json"
peerN="tr '\\t' '\\n' <$T/users.tsv | xargs -P 16 -n 2 $T/swaks-one.sh"

hyperfine --style basic --warmup 2 --runs "$RUNS" --export-json "$T/one.json" \
	-n fluenzr-test "$ours1" -n swaks "$peer1" >"$T/one.txt" 2>&1 || { cat "$T/one.txt"; fail "hyperfine (one)"; }
hyperfine --style basic --warmup 1 --runs 5 --export-json "$T/all.json" \
	-n "fluenzr-test-all-$N" "$oursN" -n "swaks-xargs-$N" "$peerN" >"$T/all.txt" 2>&1 || { cat "$T/all.txt"; fail "hyperfine (all)"; }

report() {
	$PY - "$1" "$2" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
a, b = r[0], r[1]
print("%s: %s median %.1f ms, %s median %.1f ms, ratio %.2f" % (
    sys.argv[2], a["command"], a["median"] * 1000, b["command"],
    b["median"] * 1000, a["median"] / b["median"]))
EOF
}
report "$T/one.json" "one full SMTP test"
report "$T/all.json" "$N accounts, 16 at a time"

# And --all against testing the same accounts one by one, in sequence.
s=$(date +%s%N)
while IFS=$'\t' read -r u _; do
	"$FLUENZR" --store "$SA" --key-file "$K" test "$u" --smtp-only --json >/dev/null
done <"$T/users.tsv"
seq_ms=$(( ($(date +%s%N) - s) / 1000000 ))
all_ms=$($PY -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["results"][0]["median"]*1000))' "$T/all.json")
echo "$N accounts one by one: ${seq_ms} ms; test --all --jobs 16: ${all_ms} ms; speedup $(awk -v a="$seq_ms" -v b="$all_ms" 'BEGIN {printf "%.1f", a / b}')x"
