#!/bin/bash
# Many first runs at once: 8 processes add an account each to a store that
# does not exist yet, 20 times over. Every add must succeed, and they must
# end with one store and one data key that opens every password: nobody may
# replace another's key file, data key or key slot, nor report the key as
# changed for a store it raced to create.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
F="$FLUENZR"
N=8
ROUNDS=${RACE_ROUNDS:-20}

round_ok() {
	local r=$1 i pids=() rc=0
	setup_home
	for i in $(seq 1 $N); do
		printf 'Race-Pw-%d-%d\n' "$r" "$i" | "$F" account add --email "u$i@example.org" \
			--smtp-host smtp.example.org --password-stdin >"$T/out.$i" 2>&1 &
		pids+=($!)
	done
	for i in $(seq 1 $N); do
		wait "${pids[$((i - 1))]}" || { echo "# round $r: add $i failed: $(cat "$T/out.$i")" >&2; rc=1; }
		grep -q "^added u$i@example.org" "$T/out.$i" || rc=1
	done
	[ $rc -eq 0 ] || return 1
	if ! "$F" store check >"$T/check" 2>&1; then
		echo "# round $r: $(cat "$T/check")" >&2
		return 1
	fi
	grep -q "($N accounts)" "$T/check" || return 1
	"$F" account list --json | "$PY" -c '
import json, sys
a = json.load(sys.stdin)
assert len(a) == int(sys.argv[1]) and all(x["has_password"] for x in a), a' "$N" || return 1
	# one key file, no temporary left over
	[ -f "$KEYFILE" ] || return 1
	[ "$(find "$T/home/.config/fluenzr" -name 'store.key*tmp*' | wc -l)" -eq 0 ] || return 1
	[ ! -e "$STORE/creating" ] || return 1
}

bad=0
for r in $(seq 1 "$ROUNDS"); do
	round_ok "$r" || bad=$((bad + 1))
done
check "$ROUNDS rounds of $N concurrent first adds: all added, one store, every password opens ($bad bad)" \
	test "$bad" -eq 0
finish
