#!/bin/bash
# Benchmark: `fluenzr-tui discover` on loopback (tests/discover-lib.sh: a DNS
# server and autoconfig servers in the benchmark's own namespaces) for a
# custom domain whose MX is at a preset provider, and for a domain where
# every source runs (MX, ISPDB, both autoconfig URLs over HTTPS, SRV); each
# against `presets --domain` (the same program start and preset load, no
# network) as the peer in the same run, and the MX hit against the 300 ms
# target.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
FLUENZR=${FLUENZR:-$top_builddir/fluenzr-tui}
. "$top_srcdir/tests/lib.sh"
need hyperfine
. "$top_srcdir/tests/discover-lib.sh"
RUNS=${BENCH_RUNS:-30}

peer="$FLUENZR presets --domain monentreprise.test"
mx="$FLUENZR discover jean@monentreprise.test --json --ca-file $C/ca.pem"
all="$FLUENZR discover ana@isp.test --json --ca-file $C/ca.pem"
$mx >/dev/null || fail "discover does not find the MX hit"
$all >/dev/null || fail "discover does not find the autoconfig"
hyperfine --style basic --warmup 3 --runs "$RUNS" -i --export-json "$T/d.json" \
	-n presets-lookup "$peer" -n discover-mx-hit "$mx" -n discover-all-sources "$all" \
	>"$T/d.txt" 2>&1 || { cat "$T/d.txt"; fail "hyperfine"; }
$PY - "$T/d.json" <<'PYEOF'
import json, sys
r = {x["command"]: x["median"] * 1000 for x in json.load(open(sys.argv[1]))["results"]}
p, m, a = r["presets-lookup"], r["discover-mx-hit"], r["discover-all-sources"]
print("discover, MX hit: median %.1f ms (target <= 300 ms: %s); presets lookup %.1f ms; ratio %.2f"
      % (m, "met" if m <= 300 else "MISSED", p, m / p))
print("discover, all sources: median %.1f ms (deadline 5000 ms); ratio to the presets lookup %.2f"
      % (a, a / p))
PYEOF
