#!/bin/bash
# The layers of src/ are enforced by the build (src/layers.am): compiled
# with a layer's own flags, a header of a layer above is not found, and a
# third-party library's header fails with the poison's #error unless the
# layer owns that library; the owned libraries' real headers still compile.
. "$top_srcdir/tests/lib.sh"
[ -n "${LAYER_CC:-}" ] || fail "run through make check (LAYER_CC and the layers' flags)"

# compiles LAYER TEXT: 0 when TEXT compiles with LAYER's flags.
compiles() {
	local var="LAYER_FLAGS_$1"
	# shellcheck disable=SC2086
	printf '%s\n' "$2" | $LAYER_CC -DHAVE_CONFIG_H -I"$top_builddir" ${!var} \
		-fsyntax-only -x c - 2>"$T/err"
}
refused() {
	! compiles "$1" "$2" && grep -q "$3" "$T/err"
}

setup_home
lib_header() {
	case $1 in
	lmdb) echo '#include <lmdb.h>' ;;
	curses) echo '#include <curses.h>' ;;
	gnutls) echo '#include <gnutls/gnutls.h>' ;;
	libetpan) echo '#include <libetpan/libetpan.h>' ;;
	curl) echo '#include <curl/curl.h>' ;;
	jansson) echo '#include <jansson.h>' ;;
	cares) echo '#include <ares.h>' ;;
	expat) echo '#include <expat.h>' ;;
	psl) echo '#include <libpsl.h>' ;;
	opendkim) echo '#include <dkim.h>' ;;
	opendkim2) echo '#include <opendkim/dkim.h>' ;;
	esac
}
# Which layer owns which library.
owns() {
	case "$1:$2" in
	store:lmdb | store:gnutls | conn:gnutls | http:curl | dns:cares | discover:expat | \
	oauth:jansson | oauth:gnutls | probe:libetpan | tui:curses | domain:psl | \
	msgauth:opendkim | msgauth:opendkim2) return 0 ;;
	esac
	return 1
}
for layer in base model store conn http oauth dns diag probe discover msgauth domain app cli tui; do
	for lib in lmdb curses gnutls libetpan curl cares expat jansson opendkim opendkim2 psl; do
		if owns "$layer" "$lib"; then
			check "$layer may include $lib" compiles "$layer" "$(lib_header "$lib")"
		else
			check "$layer may not include $lib" refused "$layer" "$(lib_header "$lib")" "only src/"
		fi
	done
done

# Headers of the layers above are not on a layer's path.
up() { refused "$1" "#include \"$2\"" "No such file"; }
check "base cannot see the model" up base account.h
check "model cannot see the store" up model store.h
check "the store cannot see a connection" up store net.h
check "a connection cannot see the probe" up conn probe.h
check "a connection cannot see the diagnosis" up conn diag.h
check "HTTPS cannot see the model" up http account.h
check "the diagnosis cannot see HTTPS" up diag http.h
check "HTTPS cannot see OAuth" up http oauth.h
check "OAuth cannot see the model" up oauth account.h
check "OAuth cannot see the store" up oauth store.h
check "DNS cannot see the model" up dns account.h
check "DNS cannot see HTTPS" up dns http.h
check "the probe cannot see DNS" up probe dns.h
check "the probe cannot see discovery" up probe discover.h
check "the probe cannot see the DKIM check" up probe msgauth.h
check "DNS cannot see the DKIM check" up dns msgauth.h
check "the DKIM check cannot see the probe" up msgauth probe.h
check "the DKIM check cannot see the model" up msgauth account.h
check "discovery cannot see what the commands and the console share" up discover app.h
check "domain health cannot see the model" up domain account.h
check "domain health cannot see discovery" up domain discover.h
check "domain health cannot see what the commands and the console share" up domain app.h
check "discovery cannot see domain health" up discover domain.h
check "the diagnosis cannot see the probe" up diag probe.h
check "the probe cannot see what the commands and the console share" up probe app.h
check "the shared layer cannot see the commands" up app cli.h
check "the shared layer cannot see the console" up app tui.h
check "the commands cannot see the console" up cli tui.h
# The probe sees the store's seal, not its internals (they carry LMDB).
check "the probe cannot see the store's internals" refused probe \
	'#include "store_int.h"' "only src/"
# TLS wraps a connection (net_ops); the socket code never calls it.
check "the socket code does not include TLS" \
	eval '! grep -Eq "#include \"tls\.h\"|tls_" "$top_srcdir/src/conn/net.c"'
# ... and those below are.
check "the probe sees the store's seal and TLS" compiles probe '#include "seal.h"
#include "tls.h"
#include "probe_int.h"'
check "discovery sees DNS, HTTPS, the presets and its parser" compiles discover '#include "dns.h"
#include "http.h"
#include "preset.h"
#include "autoconfig.h"
#include "discover.h"'
check "domain health sees DNS" compiles domain '#include "dns.h"
#include "domain.h"'
check "the shared layer sees the probe and the store" compiles app '#include "probe.h"
#include "store.h"
#include "app.h"'
check "the DKIM check sees DNS and the base" compiles msgauth '#include "dns.h"
#include "util.h"
#include "msgauth.h"'
check "the shared layer sees the DKIM check" compiles app '#include "msgauth.h"'
check "the commands see the shared layer" compiles cli '#include "app.h"
#include "cli.h"'
check "the console sees the commands" compiles tui '#include "cli.h"
#include "tui.h"'
finish
