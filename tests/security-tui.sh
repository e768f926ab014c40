#!/bin/bash
# The console never shows a secret: a stored password that fails (test and
# troubleshooting screens, with the transcript open), a new password typed
# on the edit form (masked while typing, shown by Ctrl-R, masked again by a
# second Ctrl-R), tested from the form, saved; the passphrase typed twice
# on the store screen; and what the pane shows after the console exits.
# Every screen along the way is kept and searched, in every form the
# passwords take (as typed, IMAP-quoted, base64 of AUTH PLAIN and LOGIN).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need "$PY"
tui_env
U=u@example.org
PW='Sec"ret\pw Zoë+/Zm9vYmFy=='
BAD='W"rong\pw Ünï+/YmFyYmF6=='
PASS='tui passphrase "quoted" 42'

"$PY" "$top_srcdir/tests/security-server.py" "$T/port" "$T/log" "$U" "$PW" "PLAIN LOGIN" 2>"$T/server.err" &
at_exit "kill $!"
wait_for -t 10 test -s "$T/port" || fail "the test server did not start"
read -r SP IP <"$T/port"
add_account "$U" "$BAD" --smtp-host 127.0.0.1 --smtp-port "$SP" --smtp-security none \
	--allow-plain --imap-host 127.0.0.1 --imap-port "$IP" --imap-security none 2>/dev/null

: >"$T/screens"
snap() { screen >>"$T/screens"; }

tui_start -x 110 -y 45 "$FLUENZR"
wait_screen "$U"
snap

# The stored (wrong) password: test, transcript, troubleshooting.
keys t
wait_screen "Authentication failed" 30
snap
keys l
wait_screen "credentials redacted"
snap
keys f
wait_screen "What to check:"
snap
keys Escape
wait_gone "What to check:"
keys Escape
wait_gone "credentials redacted"

# The edit form: the right password typed into it.
keys e
wait_screen "(unchanged)"
snap
keys Tab Tab Tab Tab Tab
type_text "$PW"
wait_screen "$(printf '%*s' ${#PW} '' | tr ' ' '*')"
snap
keys C-r
wait_screen "Zm9vYmFy=="
# The control: shown on request, so the search below would see it.
check "Ctrl-R shows the password (the capture sees it)" sh -c 'screen_has() { tmux -u -L "$1" capture-pane -p -J | grep -qF -- "$2"; }; screen_has "$1" "$2"' _ "$TUI_SOCK" "$PW"
keys C-r
wait_gone "Zm9vYmFy=="
snap
keys C-t
wait_screen "Everything works." 30
snap
# The transcript stays open from the first test, or is opened now.
screen | grep -qF "credentials redacted" || keys l
wait_screen "credentials redacted"
snap
keys Escape
wait_screen "Ctrl-S"
snap
keys C-s
wait_screen "Saved $U."
snap

# The store screen: a new passphrase, twice.
keys s
wait_screen "set a passphrase"
snap
keys p
wait_screen "New passphrase"
type_text "$PASS"
snap
keys Enter
wait_screen "Repeat the new passphrase"
type_text "$PASS"
snap
keys Enter
wait_screen "y/n"
snap
keys n
wait_screen "Passphrase set"
snap
keys Escape
wait_screen "$U"
keys q
check "the console exits 0" [ "$(wait_exit)" = 0 ]
snap

check "the new password was saved and works" sh -c '"$1" test "$2" --no-send >/dev/null 2>&1' _ "$FLUENZR" "$U"
check "the passphrase was set" sh -c '"$1" store status --json | grep -q "\"passphrase_slot\": true"' _ "$FLUENZR"

forms() {
	"$PY" - "$U" "$1" <<'PYEOF'
import base64, sys
u, pw = sys.argv[1].encode(), sys.argv[2]
p = pw.encode()
print(pw)
print(pw.replace("\\", "\\\\").replace('"', '\\"'))
print(base64.b64encode(b"\0" + u + b"\0" + p).decode())
print(base64.b64encode(p).decode())
print(pw.split(" ")[0])
PYEOF
}
found=
while IFS= read -r form; do
	grep -qF -- "$form" "$T/screens" && found="$found [$form]"
done < <(forms "$PW"; forms "$BAD"; echo "$PASS"; echo "passphrase \"quoted\"")
check "no secret on any of $(grep -c '' "$T/screens") screen lines captured" test -z "$found"
[ -z "$found" ] || echo "on screen:$found" >&2
finish
