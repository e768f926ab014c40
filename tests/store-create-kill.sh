#!/bin/bash
# kill -9 while a store is being created (directories, key file, LMDB
# environment, meta data and first key slot) leaves no store or a complete
# one: the next run recovers without help, and leaves no temporary key file
# nor creation marker behind.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
F="$FLUENZR"
ROUNDS=${KILL_ROUNDS:-40}

# The state a kill left, for the log: which files exist.
state() {
	local s=""
	[ -e "$KEYFILE" ] && s="$s key"
	ls "$(dirname "$KEYFILE")"/store.key.tmp* >/dev/null 2>&1 && s="$s keytmp"
	[ -e "$STORE/creating" ] && s="$s marker"
	[ -e "$STORE/data.mdb" ] && s="$s data($(stat -c %s "$STORE/data.mdb"))"
	echo "${s:- nothing}"
}

recovers() {
	local r=$1
	if ! printf 'Next-Pw-%s\n' "$r" | "$F" account add --email next@example.org \
		--smtp-host smtp.example.org --password-stdin >"$T/next" 2>&1; then
		echo "# round $r: the next run failed: $(cat "$T/next")" >&2
		return 1
	fi
	"$F" store check >"$T/check" 2>&1 || { echo "# round $r: $(cat "$T/check")" >&2; return 1; }
	! ls "$(dirname "$KEYFILE")"/store.key.tmp* >/dev/null 2>&1 || return 1
	[ ! -e "$STORE/creating" ] || return 1
	# a killed add either happened or did not
	"$F" account list --json | "$PY" -c '
import json, sys
a = sorted(x["email"] for x in json.load(sys.stdin))
assert a in (["next@example.org"], ["first@example.org", "next@example.org"]), a'
}

bad=0
seen=""
for r in $(seq 1 "$ROUNDS"); do
	setup_home
	printf 'First-Pw-%d\n' "$r" | "$F" account add --email first@example.org \
		--smtp-host smtp.example.org --password-stdin >/dev/null 2>&1 &
	pid=$!
	# 0 to 20 ms: creation takes a few, so kills land all along it
	sleep "0.0$(printf '%02d' $(( $(od -An -N2 -tu2 /dev/urandom) % 20 )))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	st=$(state)
	echo "# round $r: killed with:$st"
	seen="$seen|$st"
	recovers "$r" || { bad=$((bad + 1)); echo "# round $r: not recovered (killed with:$st)" >&2; }
done
check "$ROUNDS kills during creation: the next run recovers each time ($bad bad)" test "$bad" -eq 0

# The kill points that the timing above reaches only by luck, made by hand.
setup_home
mkdir -p "$STORE" "$(dirname "$KEYFILE")"
chmod 700 "$STORE" "$(dirname "$KEYFILE")"
: >"$STORE/creating"
: >"$STORE/data.mdb"
chmod 600 "$STORE/data.mdb"
printf 'x%.0s' $(seq 1 20) >"$KEYFILE.tmp999999999"
check "killed inside LMDB's creation (marker, empty data.mdb): recovers" recovers hand1
check "the dead process's temporary key file was removed" test ! -e "$KEYFILE.tmp999999999"

setup_home
printf 'P\n' | "$F" account add --email first@example.org --smtp-host smtp.example.org \
	--password-stdin >/dev/null || fail "add"
: >"$STORE/creating"
check "killed after the first commit (marker left): the store is kept" recovers hand2
check "  and still holds the first account" sh -c '"$1" account show first@example.org >/dev/null' _ "$F"

setup_home
printf 'P\n' | "$F" account add --email first@example.org --smtp-host smtp.example.org \
	--password-stdin >/dev/null || fail "add"
: >"$STORE/data.mdb"
"$F" account add --email other@example.org --smtp-host smtp.example.org --no-password >/dev/null 2>&1
rc=$?
check "an empty data.mdb with no creation marker is damage, not a new store ($rc)" test "$rc" -eq 65
finish
