#!/bin/bash
# Replays each fuzz target's corpus (tests/fuzz/corpus/TARGET: seeds and
# every input that once crashed a parser or broke an invariant) through the
# target's own checks; a broken invariant aborts the replay.
. "$top_srcdir/tests/lib.sh"

replay() {
	local bin=$1 dir=$2 log
	log=$(mktemp_dir)/replay.log
	if "$bin" "$dir" >"$log" 2>&1; then
		tail -n 1 "$log"
		return 0
	fi
	# the last input named is the one that broke it
	tail -n 20 "$log" >&2
	return 1
}

for t in account valid preset transcript diag json message outgoing dns autoconfig mailhdr domain; do
	bin=$top_builddir/tests/fuzz/replay_$t
	dir=$top_srcdir/tests/fuzz/corpus/$t
	[ -x "$bin" ] || fail "$bin is not built (make check builds it)"
	[ -d "$dir" ] || fail "no corpus $dir"
	check "fuzz corpus of $t replays without a broken invariant" \
		replay "$bin" "$dir"
done
finish
