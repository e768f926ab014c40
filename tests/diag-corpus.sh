#!/bin/bash
# The corpus of real replies (tests/diag-corpus.tsv) replayed to the real
# program: tests/diag-corpus-server.py gives each entry's reply at its step
# on loopback, one account per entry (ID@corpus.test, with the entry's
# preset) is tested with `fluenzr-tui test --all --json`, and each result
# must have the entry's category, reason and a first fix naming the cause.
# Hermetic: loopback only, plain text (the replies, not TLS, are tested).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

need /usr/bin/python3
[ -x "$FLUENZR" ] || fail "no binary at $FLUENZR"
setup_home
# The presets of this tree, not an older installed copy.
export FLUENZR_PRESET_DIR="$top_srcdir/presets"
CORPUS="$top_srcdir/tests/diag-corpus.tsv"
SRV=$T/srv
mkdir -p "$SRV"
$PY "$top_srcdir/tests/diag-corpus-server.py" "$CORPUS" "$SRV" 2>"$SRV/log" &
at_exit "kill $! 2>/dev/null"
wait_for test -s "$SRV/imap.port" || fail "the corpus server did not start: $(cat "$SRV/log")"
SP=$(cat "$SRV/smtp.port")
IP=$(cat "$SRV/imap.port")

# One store per protocol: `test --all` tests one side of every account.
n=0
while IFS=$'\t' read -r id _ proto step preset _; do
	case $id in '#'* | '') continue ;; esac
	port=$SP
	[ "$step" = greeting ] && port=$(cat "$SRV/greet-$id.port")
	args=(--email "$id@corpus.test" --smtp-host 127.0.0.1 --smtp-port "$port"
		--smtp-security none --allow-plain)
	[ "$proto" = imap ] && args+=(--imap-host 127.0.0.1 --imap-port "$IP"
		--imap-security none)
	[ "$preset" != - ] && args+=(--preset "$preset")
	"$FLUENZR" --store "$T/$proto/s" --key-file "$T/$proto/k" account add \
		"${args[@]}" --password-stdin <<<"corpus-pw-1" >/dev/null 2>"$T/add.err" ||
		fail "account add $id: $(cat "$T/add.err")"
	n=$((n + 1))
done <"$CORPUS"
check "the corpus has at least 100 entries ($n)" test "$n" -ge 100

"$FLUENZR" --store "$T/smtp/s" --key-file "$T/smtp/k" test --all --json \
	--smtp-only --no-alternatives --timeout 10 >"$T/smtp.json" 2>"$T/smtp.err"
"$FLUENZR" --store "$T/imap/s" --key-file "$T/imap/k" test --all --json \
	--imap-only --no-alternatives --timeout 10 >"$T/imap.json" 2>"$T/imap.err"

# id TAB ok|why, one line per entry.
$PY - "$CORPUS" "$T/smtp.json" "$T/imap.json" >"$T/verdicts" <<'PYEOF' ||
import json, sys
got = {}
for path in sys.argv[2:]:
    for r in json.load(open(path)):
        got[r["account"].split("@")[0]] = r["diagnosis"]
for line in open(sys.argv[1], encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    if not line.strip() or line.startswith("#"):
        continue
    eid, cat, reason, fix = f[0], f[5], f[6], f[7]
    d = got.get(eid)
    if d is None:
        print("%s\tno result" % eid)
        continue
    first = d["fixes"][0] if d["fixes"] else ""
    if d["category"] == cat and d["reason"] == reason and fix.lower() in first.lower():
        print("%s\tok" % eid)
    else:
        print("%s\twant %s/%s with \"%s\", got %s/%s: %s" % (
            eid, cat, reason, fix, d["category"], d["reason"], first))
PYEOF
	fail "cannot read the results: $(head -c 300 "$T/smtp.err" "$T/imap.err")"

good=0
while IFS=$'\t' read -r id verdict; do
	check "$id: $verdict" test "$verdict" = ok
	[ "$verdict" = ok ] && good=$((good + 1))
done <"$T/verdicts"
check "every entry has a result" test "$(wc -l <"$T/verdicts")" -eq "$n"
echo "corpus replayed: $good of $n entries diagnosed as expected"
finish
