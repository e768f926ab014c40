#!/bin/bash
# The program as README command 1 leaves it, on a first run: a home with no
# store, no key file and no fluenzr variable at all (FLUENZR_PRESET_DIR
# included), the binary where it was built. The product page's first step --
# start from your provider -- must work from there: the shipped presets are
# listed with the page's settings, an account is added from one, and the
# console's picker offers them.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need "$PY"
setup_home
for v in $(env | sed -n 's/^\(FLUENZR_[A-Z_]*\)=.*/\1/p'); do
	[ "$v" = FLUENZR ] || unset "$v"
done
check "no FLUENZR_PRESET_DIR in the environment" sh -c '! env | grep -q ^FLUENZR_PRESET_DIR='

"$FLUENZR" presets --json >"$T/presets.json" 2>"$T/presets.err"
check "presets: no warning on a first run" test ! -s "$T/presets.err"
# The page's table of common configurations, as the presets must give it.
check "presets: the page's providers, with the page's servers" \
	$PY - "$T/presets.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
ps = {p["id"]: p for p in (doc["presets"] if isinstance(doc, dict) else doc)}
def first(p, kind):
    s = p[kind][0]
    return (s["host"], s["port"], s["security"])
want = {
    "ovh": (("ssl0.ovh.net", 587, "starttls"), ("ssl0.ovh.net", 993, "ssl")),
    "gandi": (("mail.gandi.net", 587, "starttls"), ("mail.gandi.net", 993, "ssl")),
    "zoho-eu": (("smtp.zoho.eu", 587, "starttls"), ("imap.zoho.eu", 993, "ssl")),
    "infomaniak": (("mail.infomaniak.com", 587, "starttls"), ("mail.infomaniak.com", 993, "ssl")),
    "protonmail-bridge": (("127.0.0.1", 1025, "starttls"), ("127.0.0.1", 1143, "starttls")),
}
for pid, (smtp, imap) in want.items():
    assert pid in ps, (pid, sorted(ps))
    assert first(ps[pid], "smtp") == smtp, (pid, ps[pid]["smtp"])
    assert first(ps[pid], "imap") == imap, (pid, ps[pid]["imap"])
    # built in, or the installed copy when `make install` has run
    f = ps[pid]["file"]
    assert f == "built-in %s.preset" % pid or f.endswith("/%s.preset" % pid), f
assert len(ps) >= 25, len(ps)
PY

rc=0
printf 'a-password\n' | "$FLUENZR" account add --email jean@monentreprise.fr \
	--preset gandi --password-stdin >"$T/add.out" 2>"$T/add.err" || rc=$?
check "account add --preset gandi on a first run (rc $rc: $(cat "$T/add.err"))" test $rc = 0
check "... it has Gandi's server" sh -c "'$FLUENZR' account show jean@monentreprise.fr | grep -q mail.gandi.net"
check "... the store is where the manual says, mode 0700" \
	test "$(stat -c %a "$XDG_DATA_HOME/fluenzr")" = 700
check "... the key file is where the manual says, mode 0600" \
	test "$(stat -c %a "$XDG_CONFIG_HOME/fluenzr/store.key")" = 600

# The console, started the same way: the picker lists the page's providers.
export LANG=C.UTF-8 LC_ALL=C.UTF-8
tui_start "$FLUENZR"
wait_screen "jean@monentreprise"
keys a
wait_title "Email Accounts > + SMTP"
keys C-p
wait_screen "Presets"
s=$(screen)
for name in "Gandi" "Infomaniak"; do
	check "the picker lists $name" grep -q "$name" <<<"$s"
done
# The rest of the page's table, found by typing in the picker's search.
pick_shows() {
	type_text "$1"
	wait_screen "$2"
	check "the picker finds $1: $2" grep -qF "$2" <<<"$(screen)"
	keys BSpace BSpace BSpace BSpace BSpace BSpace
}
pick_shows ovh "ssl0.ovh.net:587"
pick_shows zoho "smtp.zoho.eu:587"
pick_shows proton "127.0.0.1:1025"
keys Escape
keys Escape
wait_title "Email Accounts"
keys q
check "exit 0" [ "$(wait_exit)" = 0 ]
finish
