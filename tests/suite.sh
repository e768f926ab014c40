#!/bin/sh
# The whole test suite, from a fresh Debian 12 machine: installs what the
# build and the tests need, then runs `make check` on a normal build, again on
# an ASan/UBSan build, and `make distcheck`. Run as root (the tests start
# Postfix, Dovecot and sshd on loopback).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

if [ "$(id -u)" != 0 ]; then
	echo "tests/suite.sh: run as root (sudo): the tests start Postfix, Dovecot and sshd" >&2
	exit 77
fi

# Everything the build and the tests use, named here: recommended packages
# are not installed, so a tool's optional part the tests rely on (swaks's
# TLS and AUTH through Perl modules) is listed too. CI proves the list on a
# fresh Debian 12 minbase system (.ci/run).
pkgs="build-essential autoconf automake pkg-config
 libncurses-dev libgnutls28-dev liblmdb-dev libetpan-dev libcurl4-gnutls-dev
 libc-ares-dev libexpat1-dev libjansson-dev libpsl-dev gettext autopoint locales
 postfix dovecot-imapd dovecot-lmtpd gnutls-bin lmdb-utils tmux openssh-server
 openssh-client swaks libnet-ssleay-perl libauthen-sasl-perl msmtp mandoc
 hyperfine ncurses-term python3 openssl iproute2 procps nsd
 libopendkim-dev opendkim opendkim-tools dovecot-sieve
 libdb5.3 libgnutls-dane0 libidn12 libnsl2 libpcre2-8-0"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends $missing
fi
# Exim cannot be installed beside Postfix: the tests run it from its .deb,
# unpacked into a cache (tests/mailstack/exim.sh); the last five packages
# above are the libraries it links. Fetched here, with the package lists.
sh tests/mailstack/exim.sh --fetch

jobs=$(nproc 2>/dev/null || echo 2)
autoreconf -fi

# Prints the failed tests' logs of a build directory.
show_failures() {
	[ -f "$1/test-suite.log" ] && cat "$1/test-suite.log"
	return 1
}
# Adds up automake's "# PASS:" / "# FAIL:" counts of a build directory.
count() {
	sed -n "s/^# $2: *//p" "$1/test-suite.log" 2>/dev/null | head -n 1
}

# 1. the normal build
mkdir -p _build/normal
(cd _build/normal && "$top/configure" --enable-werror -q && make -j"$jobs" &&
	make -j"$jobs" check) || show_failures _build/normal || exit 1

# 2. the same suite under AddressSanitizer and UndefinedBehaviorSanitizer
mkdir -p _build/sanitizers
(cd _build/sanitizers && "$top/configure" --enable-sanitizers -q && make -j"$jobs" &&
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	make -j"$jobs" check) || show_failures _build/sanitizers || exit 1

# 3. the release tarball builds and passes its own tests
(cd _build/normal && make -j"$jobs" distcheck) || {
	for l in _build/normal/fluenzr-tui-*/_build/sub/test-suite.log; do
		[ -f "$l" ] && cat "$l"
	done
	exit 1
}

pass=$(( $(count _build/normal PASS) + $(count _build/sanitizers PASS) ))
fail=$(( $(count _build/normal FAIL) + $(count _build/sanitizers FAIL) ))
echo "suite: normal and sanitizer builds, then distcheck"
echo "$pass passed, $fail failed"
