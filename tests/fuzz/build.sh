#!/bin/sh
# Builds the libFuzzer targets with clang, ASan and UBSan. Not run by
# `make check` (which replays the corpus with the normal toolchain, see
# tests/fuzz-replay.sh); it needs clang and its runtime (Debian: clang,
# libclang-rt-14-dev).
#
#   tests/fuzz/build.sh [BUILDDIR [OUTDIR]]
#
# BUILDDIR is a configured build tree (for config.h and the library flags;
# default: the source tree), OUTDIR where the fuzzers go (default:
# $TMPDIR/fluenzr-fuzz). Every library source is compiled again with clang and
# instrumentation, into OUTDIR/libfuzzlib.a.
#
# A fuzzing session, e.g. for the account records (targets: account valid
# preset transcript diag json message outgoing), from the source tree:
#   tests/fuzz/build.sh . /tmp/fz
#   mkdir -p /tmp/fz/work-account
#   /tmp/fz/fuzz_account -max_total_time=120 -timeout=5 -rss_limit_mb=2048 \
#       -dict=tests/fuzz/account.dict /tmp/fz/work-account \
#       tests/fuzz/corpus/account
# (account and preset have a dictionary of their keys.) New inputs go to
# the first directory; the shipped corpus is only read. A crash leaves
# crash-<sha1> in the current directory: fix the bug, then copy the input
# (if small) into tests/fuzz/corpus/<target>/ so that `make check` replays
# it from then on. To fold a session's finds back into the corpus (keep it
# small):
#   /tmp/fz/fuzz_account -merge=1 tests/fuzz/corpus/account /tmp/fz/work-account
set -eu

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir=$(cd "${1:-$srcdir}" && pwd)
out=${2:-${TMPDIR:-/tmp}/fluenzr-fuzz}
CC=${CC:-clang}
JOBS=${JOBS:-2}

[ -f "$builddir/config.h" ] && [ -f "$builddir/Makefile" ] || {
	echo "build.sh: $builddir is not a configured build tree" >&2
	exit 1
}
mkvar() { sed -n "s/^$1 = //p" "$builddir/Makefile"; }

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-g -O1 -std=gnu11 -pthread -fno-omit-frame-pointer $SAN"
# Every layer's headers, and every library the program links (the
# configured tree's pkg-config results, named as in configure.ac).
layers=
for d in "$srcdir"/src/*/; do
	case $d in */poison/) continue ;; esac
	layers="$layers -I${d%/}"
done
libs="LIBETPAN EXPAT OPENDKIM CARES PSL LIBCURL JANSSON LMDB GNUTLS NCURSES"
lib_cflags= LIBS=
for l in $libs; do
	lib_cflags="$lib_cflags $(mkvar "${l}_CFLAGS")"
	LIBS="$LIBS $(mkvar "${l}_LIBS")"
done
CPPFLAGS="-DHAVE_CONFIG_H -I$builddir $layers -I$srcdir/tests/fuzz $lib_cflags"

rm -rf "$out/obj"
mkdir -p "$out/obj"
export CC CFLAGS CPPFLAGS out
# The library, instrumented for coverage but without libFuzzer's main().
# shellcheck disable=SC2016
# The generated built-in presets too (made by the configured tree's make).
make -C "$builddir" -s src/model/preset_builtin.c
{ find "$srcdir/src" -mindepth 2 -name '*.c' -print0
  printf '%s\0' "$builddir/src/model/preset_builtin.c"; } |
	xargs -0 -n 1 -P "$JOBS" sh -c '
		o="$out/obj/$(basename "$1" .c).o"
		# shellcheck disable=SC2086
		$CC $CPPFLAGS $CFLAGS -fsanitize=fuzzer-no-link -c "$1" -o "$o"
	' sh
rm -f "$out/libfuzzlib.a"
ar rcs "$out/libfuzzlib.a" "$out"/obj/*.o

for t in account valid preset transcript diag json message outgoing dns autoconfig mailhdr domain; do
	# shellcheck disable=SC2086
	$CC $CPPFLAGS $CFLAGS -fsanitize=fuzzer \
		"$srcdir/tests/fuzz/fuzz_$t.c" "$out/libfuzzlib.a" $LIBS \
		-o "$out/fuzz_$t"
	echo "built $out/fuzz_$t"
done
