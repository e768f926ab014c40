#!/bin/bash
# store rotate writes a new key file beside the old one, commits, then
# renames it: killed at any moment, the next command opens the store with
# every password; several rotations at once all succeed, one after the other.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
setup_home
F="$FLUENZR"
ROUNDS=${KILL_ROUNDS:-30}

for i in 1 2 3; do
	printf 'Rot-Pw-%d\n' $i | "$F" account add --email "r$i@example.org" \
		--smtp-host smtp.example.org --password-stdin >/dev/null || fail "add"
done

bad=0
for r in $(seq 1 "$ROUNDS"); do
	"$F" store rotate >/dev/null 2>&1 &
	pid=$!
	sleep "0.0$(printf '%02d' $(( $(od -An -N2 -tu2 /dev/urandom) % 30 )))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	st=""
	[ -e "$KEYFILE.new" ] && st=" (store.key.new left)"
	echo "# round $r: killed$st"
	if ! "$F" store check >"$T/check" 2>&1 || ! grep -q "(3 accounts)" "$T/check"; then
		echo "# round $r: $(cat "$T/check")" >&2
		bad=$((bad + 1))
	fi
done
check "$ROUNDS kills during store rotate: the store opens and checks each time ($bad bad)" test "$bad" -eq 0

pids=()
for i in 1 2 3 4; do
	"$F" store rotate >"$T/rot.$i" 2>&1 &
	pids+=($!)
done
ok=0
for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)); done
check "4 rotations at once: all succeed ($ok)" test "$ok" -eq 4
check "  and the store checks" sh -c '"$1" store check >/dev/null' _ "$F"
check "  no store.key.new is left" test ! -e "$KEYFILE.new"
finish
