#!/bin/sh
# Benchmark: `account list --json` over 10,000 accounts against mdb_dump of
# the same LMDB environment, in the same run. Reports the ratio of median
# wall times and our peak RSS. Targets: ratio <= 3, RSS < 20 MB.
set -eu
top_builddir=${top_builddir:-$(pwd)}
F=${FLUENZR:-$top_builddir/fluenzr-tui}
N=${BENCH_ACCOUNTS:-10000}
RUNS=${BENCH_RUNS:-15}
T=$(mktemp -d /tmp/fluenzr-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 700 "$T"
export HOME="$T" XDG_CONFIG_HOME="$T/config" XDG_DATA_HOME="$T/data"
S="$T/data/fluenzr"
K="$T/config/fluenzr/store.key"

"$top_builddir/bench/fill_store" "$S" "$K" "$N"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_ms() {
	local s e
	s=$(date +%s%N)
	"$@" >/dev/null
	e=$(date +%s%N)
	echo $(( (e - s) / 1000 ))
}
ours=$(for i in $(seq "$RUNS"); do time_ms "$F" --store "$S" --key-file "$K" account list --json; done | median)
peer=$(for i in $(seq "$RUNS"); do time_ms mdb_dump -a "$S"; done | median)
count=$("$F" --store "$S" --key-file "$K" account list --json | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
rss=$(/usr/bin/time -f %M "$F" --store "$S" --key-file "$K" account list --json 2>&1 >/dev/null | tail -1)
ratio=$(awk -v a="$ours" -v b="$peer" 'BEGIN {printf "%.2f", a / b}')
echo "store-list: $count accounts; account list --json ${ours} us, mdb_dump -a ${peer} us (median of $RUNS); ratio ${ratio} (target <= 3); peak RSS ${rss} KiB (target < 20480)"
[ "$count" -eq "$N" ]
