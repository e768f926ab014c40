# Helpers for the probe tests (sourced, not run): one mail stack per test
# file, one store per case, `fluenzr-tui test --json` parsed with Python.
. "$top_srcdir/tests/lib.sh"

need /usr/bin/python3
# PROBE_DNS=1: the test runs in its own namespaces with the DNS harness
# (tests/dns-lib.sh), the mail stack inside them; zones are the test's.
if [ -n "${PROBE_DNS:-}" ]; then
	. "$top_srcdir/tests/dns-lib.sh"
	dns_enter "$@"
fi
[ -x "$FLUENZR" ] || fail "no binary at $FLUENZR"
setup_home
start_mailstack
CA=$MAILSTACK_CA_FILE
H=127.0.0.1

# mk CASE EMAIL PASSWORD [account add options...]: a store of its own.
mk() {
	local name=$1 email=$2 pw=$3
	shift 3
	D=$T/$name
	mkdir -p "$D"
	"$FLUENZR" --store "$D/s" --key-file "$D/k" account add --email "$email" "$@" \
		--password-stdin <<<"$pw" >"$D/add.out" 2>"$D/add.err" ||
		fail "account add for $name: $(cat "$D/add.err")"
}

# run CASE EMAIL [test options...]: $D/out.json, $D/err, $RC.
run() {
	local name=$1 email=$2
	shift 2
	D=$T/$name
	RC=0
	"$FLUENZR" --store "$D/s" --key-file "$D/k" test "$email" --json "$@" \
		>"$D/out.json" 2>"$D/err" || RC=$?
}

# jget EXPR: a Python expression over j (the JSON of the last run).
jget() {
	$PY -c 'import json, sys
j = json.load(open(sys.argv[2]))
print(eval(sys.argv[1]))' "$1" "$D/out.json"
}

# expect CASE CATEGORY [REASON]: category, reason and exit status agree.
expect() {
	local name=$1 cat=$2 reason=${3:-}
	D=$T/$name
	check "$name: category $cat" test "$(jget "j['category']")" = "$cat"
	[ -z "$reason" ] ||
		check "$name: reason $reason" test "$(jget "j['diagnosis']['reason']")" = "$reason"
	check "$name: exit status $(exit_for "$cat")" test "$RC" = "$(exit_for "$cat")"
}

# The sysexits.h status each category maps to (the contract in the man page).
exit_for() {
	case $1 in
	ok) echo 0 ;;
	dns_failure) echo 68 ;;
	connection_refused|server_unavailable) echo 69 ;;
	timeout|rate_limited|cancelled) echo 75 ;;
	tls_mismatch|starttls_unavailable|encryption_required|protocol_error) echo 76 ;;
	invalid_certificate|auth_failed|auth_unsupported|sender_rejected) echo 77 ;;
	recipient_rejected) echo 67 ;;
	*) echo 70 ;;
	esac
}

# no_auth_sent: the client never said AUTH (and no auth step ran).
no_auth_sent() {
	test "$(jget "any(l['dir'] == 'C' and l['text'].upper().startswith('AUTH') for l in j['transcript']) or any(s['name'] == 'smtp.auth' for s in j['steps'])")" = False
}

# run_case NAME [FUNCTION [ARGUMENTS...]]: the case in a subshell, so that
# a fail there stops only it. Its checks count in the file's total; a case
# that stopped early counts as one more failed check, named after it.
stopped=
run_case() {
	local name=$1 fn=${2:-$1} n=0 f=0 rc=0
	shift $(($# > 1 ? 2 : 1))
	echo "# case $name"
	(
		_checks=0
		_failed=0
		trap 'echo "$_checks $_failed" >"$T/case-$name.count"' EXIT
		"case_$fn" "$@"
	) || rc=$?
	[ -s "$T/case-$name.count" ] && read -r n f <"$T/case-$name.count"
	_checks=$((_checks + n + (rc != 0)))
	_failed=$((_failed + f + (rc != 0)))
	if [ $rc != 0 ]; then
		echo "not ok - case $name: stopped early (exit $rc)" >&2
		stopped="$stopped $name"
	fi
	return 0
}

# run_cases TABLE: run_case for each non-empty line of TABLE, then names
# the cases that stopped early.
run_cases() {
	local line
	while read -r line; do
		[ -n "$line" ] || continue
		# shellcheck disable=SC2086
		run_case $line
	done <<<"$1"
	[ -z "$stopped" ] || echo "# cases that stopped early:$stopped" >&2
}
