#!/bin/sh
# kill -9 during writes leaves the old or the new state: a writer adds
# accounts (record + two sealed passwords per transaction) in a loop and is
# SIGKILLed at random moments; after each kill the store must open, pass
# store_check, and hold exactly accounts 0..n-1, each complete.
. "$top_srcdir/tests/lib.sh"

T=$(mktemp_dir)
# mktemp_dir runs in a subshell here, so its cleanup must be registered again.
at_exit "rm -rf '$T'"
PROG="$top_builddir/tests/test_store"
[ -x "$PROG" ] || fail "$PROG not built"
D="$T/store"
K="$T/keys/store.key"

"$PROG" --writer "$D" "$K" 5 || fail "cannot create the store"
check "initial store verifies" "$PROG" --verify "$D" "$K"

last=0
rounds=12
i=0
while [ $i -lt $rounds ]; do
	i=$((i + 1))
	"$PROG" --writer "$D" "$K" &
	pid=$!
	at_exit "kill -9 $pid 2>/dev/null"
	# A random moment, 20 to 400 ms after the start.
	sleep "0.$(printf '%03d' $(( ($(od -An -N2 -tu2 /dev/urandom) % 380) + 20 )))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	out=$("$PROG" --verify "$D" "$K")
	st=$?
	echo "# round $i: $out"
	check "round $i: store consistent after kill -9" [ "$st" -eq 0 ]
	n=$(echo "$out" | sed -n 's/^verify: \([0-9]*\) accounts.*/\1/p')
	last=${n:-0}
done
# The writer must really have been writing when it was killed.
check "the writer made progress ($last accounts)" [ "$last" -gt 5 ]
finish
