#!/bin/bash
# Benchmark: launch of the console over a store of 10,000 accounts until the
# first complete frame of the account list is on a real terminal (tmux),
# median of several runs, next to the same measurement for a program that
# only prints the footer (what tmux itself costs). Target: under 100 ms.
#
# It also checks that startup opens no secret: an LD_PRELOAD shim counts
# GnuTLS AEAD decryptions (the only way seal.c opens anything). Startup may
# unwrap the data key once (a key slot); the count must be the same for a
# store of 10 accounts and one of 10,000, i.e. no password is decrypted.
set -eu
top_builddir=${top_builddir:-$(pwd)}
F=${FLUENZR:-$top_builddir/fluenzr-tui}
N=${BENCH_ACCOUNTS:-10000}
RUNS=${BENCH_RUNS:-9}
command -v tmux >/dev/null || { echo "tui-start: tmux is needed" >&2; exit 1; }
command -v mdb_dump >/dev/null || { echo "tui-start: mdb_dump (lmdb-utils) is needed" >&2; exit 1; }
T=$(mktemp -d /tmp/fluenzr-bench-tui.XXXXXX)
# A fresh tmux server per run: reusing a socket races with the old server's
# exit.
RUN=0
SOCK="fluenzr-bench-$$-0"
new_sock() {
	tmux -L "$SOCK" kill-server >/dev/null 2>&1 || true
	RUN=$((RUN + 1))
	SOCK="fluenzr-bench-$$-$RUN"
}
trap 'tmux -L "$SOCK" kill-server >/dev/null 2>&1; rm -rf "$T"' EXIT
chmod 700 "$T"
export HOME="$T" XDG_CONFIG_HOME="$T/config" XDG_DATA_HOME="$T/data" LANG=C.UTF-8 LC_ALL=C.UTF-8

"$top_builddir/bench/fill_store" "$T/big" "$T/big.key" "$N" >/dev/null
"$top_builddir/bench/fill_store" "$T/small" "$T/small.key" 10 >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# frame_ms TEXT COMMAND: ms from tmux new-session until TEXT is on screen.
frame_ms() {
	local text=$1 s e
	shift
	new_sock
	s=$(date +%s%N)
	tmux -u -L "$SOCK" -f /dev/null new-session -d -x 80 -y 24 "$* ; sleep 60"
	until tmux -L "$SOCK" capture-pane -p 2>/dev/null | grep -qF -- "$text"; do
		e=$(date +%s%N)
		[ $(( (e - s) / 1000000 )) -lt 10000 ] || { echo "tui-start: no frame" >&2; exit 1; }
		sleep 0.002
	done
	e=$(date +%s%N)
	echo $(( (e - s) / 1000000 ))
}

# The footer and the last visible row (the 19th of a 24-line screen) are drawn in the same frame (one
# refresh), so both on screen means the frame is complete.
last_row="Sender 19 "
# The console's runs and tmux's alternate, so that both see the same load
# on the machine. (Loops in this shell, not in $(...): new_sock must update
# SOCK here.)
: > "$T/tui.ms"
: > "$T/base.ms"
: > "$T/dump.ms"
for i in $(seq "$RUNS"); do
	frame_ms "$N accounts" "'$F' --store '$T/big' --key-file '$T/big.key'" >> "$T/tui.ms"
	[ "$i" != 1 ] || tmux -L "$SOCK" capture-pane -p | grep -qF "$last_row" ||
		{ echo "tui-start: the first page is incomplete" >&2; tmux -L "$SOCK" capture-pane -p >&2; exit 1; }
	frame_ms "$N accounts" "printf '%s accounts' $N" >> "$T/base.ms"
	# The peer: mdb_dump reading the same store whole, in the same load.
	s=$(date +%s%N)
	mdb_dump -a "$T/big" >/dev/null
	echo $(( ($(date +%s%N) - s) / 1000000 )) >> "$T/dump.ms"
done
tui=$(median < "$T/tui.ms")
base=$(median < "$T/base.ms")
dump=$(median < "$T/dump.ms")

# Decryptions at startup, counted by a shim in front of GnuTLS.
cat > "$T/shim.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
typedef int (*dec_fn)(void *, const void *, size_t, const void *, size_t,
                      size_t, const void *, size_t, void *, size_t *);
static long count;
static void report(void)
{
	const char *p = getenv("DECRYPT_COUNT_FILE");
	FILE *f = p ? fopen(p, "w") : NULL;
	if (f) { fprintf(f, "%ld\n", count); fclose(f); }
}
int gnutls_aead_cipher_decrypt(void *h, const void *n, size_t nl, const void *a,
                               size_t al, size_t tag, const void *c, size_t cl,
                               void *p, size_t *pl)
{
	static dec_fn real;
	if (!real) { real = (dec_fn)dlsym(RTLD_NEXT, "gnutls_aead_cipher_decrypt"); atexit(report); }
	count++;
	return real(h, n, nl, a, al, tag, c, cl, p, pl);
}
C
cc -shared -fPIC -o "$T/shim.so" "$T/shim.c" -ldl
decrypts() {
	local i=0
	rm -f "$T/count"
	new_sock
	tmux -u -L "$SOCK" -f /dev/null new-session -d -x 80 -y 24 \
		"env LD_PRELOAD='$T/shim.so' DECRYPT_COUNT_FILE='$T/count' '$F' --store '$T/$1' --key-file '$T/$1.key'; sleep 60"
	until tmux -L "$SOCK" capture-pane -p 2>/dev/null | grep -qF "$2 accounts"; do
		i=$((i + 1))
		[ $i -lt 1000 ] || { echo "tui-start: no frame (decrypt count)" >&2; exit 1; }
		sleep 0.01
	done
	tmux -L "$SOCK" send-keys q
	until [ -s "$T/count" ]; do
		i=$((i + 1))
		[ $i -lt 2000 ] || { echo "tui-start: no count written" >&2; exit 1; }
		sleep 0.01
	done
	cat "$T/count"
}
decrypts small 10 > "$T/d_small"
decrypts big "$N" > "$T/d_big"
d_small=$(cat "$T/d_small") d_big=$(cat "$T/d_big")

echo "tui-start: $N accounts; launch to first complete frame ${tui} ms (median of $RUNS; target < 100 ms); tmux + shell alone ${base} ms; console's own share ~$((tui - base)) ms"
echo "tui-start: mdb_dump -a of the same store ${dump} ms; the console's share over it: $(awk -v a="$((tui - base))" -v b="$dump" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
echo "tui-start: AEAD decryptions at startup: $d_small with 10 accounts, $d_big with $N (equal: no secret opened)"
[ "$d_small" = "$d_big" ] || { echo "tui-start: startup decrypts per account" >&2; exit 1; }
[ "$tui" -lt 100 ] || { echo "tui-start: over the 100 ms target" >&2; exit 1; }
