#!/bin/bash
# The account commands end to end on a real store: presets, JSON, edit,
# rename, remove, and that no command ever prints a password.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
setup_home
F="$FLUENZR"
PW='Canary-Pw-7f3a9'

check "list on a missing store is empty" sh -c 'test "$("$1" account list --json)" = "[]"' _ "$F"
printf '%s\n' "$PW" | "$F" account add --email Me@Zoho.EU --name "Me" --password-stdin >/dev/null
check "add through the matching preset" test $? -eq 0
j=$("$F" account list --json)
check "the preset filled the servers" "$PY" -c '
import json,sys
l=json.loads(sys.argv[1]); a=l[0]
assert len(l)==1, l
assert a["email"]=="Me@Zoho.EU"
assert a["smtp"]=={"host":"smtp.zoho.eu","port":587,"security":"starttls","username":"Me@Zoho.EU"}, a["smtp"]
assert a["imap"]["host"]=="imap.zoho.eu" and a["imap"]["port"]==993 and a["imap"]["security"]=="ssl", a["imap"]
assert a["has_password"] is True and a["preset"]=="zoho-eu", a
' "$j"
printf 'x\n' | "$F" account add --email bridge@proton.me --preset protonmail-bridge --smtp-port 1026 --password-stdin >/dev/null
j=$("$F" account show bridge@proton.me --json)
check "--preset fills what was not given" "$PY" -c '
import json,sys; a=json.loads(sys.argv[1])
assert a["smtp"]["host"]=="127.0.0.1" and a["smtp"]["port"]==1026, a
assert a["imap"]["port"]==1143 and a["imap"]["security"]=="starttls", a
' "$j"
check "edit changes the given fields only" sh -c '"$1" account edit me@zoho.eu --name "New Name" --smtp-security ssl >/dev/null && "$1" account show me@zoho.eu --json | "$2" -c "
import json,sys; a=json.load(sys.stdin)
assert a[\"display_name\"]==\"New Name\" and a[\"smtp\"][\"security\"]==\"ssl\" and a[\"smtp\"][\"port\"]==465 and a[\"has_password\"], a"' _ "$F" "$PY"
check "rename keeps the password" sh -c '"$1" account edit me@zoho.eu --email renamed@zoho.eu >/dev/null && "$1" account show renamed@zoho.eu --json | grep -q "\"has_password\": true" && "$1" store check >/dev/null' _ "$F"
out=$("$F" account list; "$F" account list --json; "$F" account show renamed@zoho.eu; "$F" account show renamed@zoho.eu --json; "$F" store status; "$F" presets --domain zoho.eu)
check "no command prints the password" sh -c '! printf "%s" "$1" | grep -qF "$2"' _ "$out" "$PW"
check "the password is in no file of the store or key dir" sh -c '! grep -raF "$1" "$2" "$3"' _ "$PW" "$STORE" "$(dirname "$KEYFILE")"
check "remove" sh -c '"$1" account remove renamed@zoho.eu >/dev/null && ! "$1" account show renamed@zoho.eu >/dev/null 2>&1' _ "$F"
check "presets --json has the page's five" sh -c '"$1" presets --json | "$2" -c "
import json,sys; ids={p[\"id\"] for p in json.load(sys.stdin)}
assert {\"ovh\",\"gandi\",\"zoho-eu\",\"zoho\",\"infomaniak\",\"protonmail-bridge\"} <= ids, ids
assert len(ids) >= 25, len(ids)"' _ "$F" "$PY"
check "presets --domain matches an address" sh -c '"$1" presets --domain user@gandi.net --json | grep -q "mail.gandi.net"' _ "$F"
check "--help points to the manual" sh -c '"$1" --help | grep -q "fluenzr-tui(1)"' _ "$F"
check "--version" sh -c '"$1" --version | grep -q "^fluenzr-tui "' _ "$F"
check "unknown command is a usage error" sh -c '"$1" frobnicate >/dev/null 2>&1; test $? -eq 64' _ "$F"
finish
