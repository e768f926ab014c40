#!/bin/bash
# A new passphrase too short is refused alike by the command and the
# console (one rule, policy_passphrase()). A store that only a passphrase
# opens: the console asks for it first (no echo), lets the list in after
# the right one, and after three wrong tries exits cleanly with 77 and a
# message.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
tui_env
add_account "nina@example.com" "Nina-Pass-1" --smtp-host smtp.example.com

rc=0
out=$("$FLUENZR" store passphrase --new-passphrase-fd 3 3<<<"7 bytes" 2>&1) || rc=$?
check "store passphrase: 7 bytes refused (65)" test $rc = 65
check "... because it is too short" grep -qF "invalid passphrase: use at least 8 characters; nothing changed" <<<"$out"
tui_start "$FLUENZR"
wait_screen "nina@example.com"
keys s
wait_screen "set a passphrase"
keys p
wait_screen "New passphrase (no echo):"
type_text "7 bytes"
keys Enter
wait_screen "Use at least 8 characters."
keys Escape
wait_screen "nina@example.com"
keys q
check "exit 0" [ "$(wait_exit)" = 0 ]
check "neither set a passphrase" sh -c '"$1" store status --json | grep -q "\"passphrase_slot\": false"' _ "$FLUENZR"

PASS="correct horse battery"
"$FLUENZR" store passphrase --new-passphrase-fd 3 --drop-key-file 3<<<"$PASS" >/dev/null ||
	fail "store passphrase"

tui_start "$FLUENZR"
wait_screen "Store passphrase:"
check "the list is not shown before unlocking" sh -c "! tmux -u -L '$TUI_SOCK' capture-pane -p | grep -qF nina@example.com"
type_text "$PASS"
check "the passphrase is not echoed" sh -c "! tmux -u -L '$TUI_SOCK' capture-pane -p | grep -qF 'horse'"
keys Enter
wait_screen "nina@example.com"
wait_screen "Store unlocked."
keys q
check "exit 0 after unlocking" [ "$(wait_exit)" = 0 ]

tui_start "$FLUENZR"
for i in 1 2; do
	wait_screen "Store passphrase:"
	type_text "wrong $i"
	keys Enter
	wait_screen "Wrong passphrase ($((3 - i)) of 3 tries left)."
done
type_text "wrong 3"
keys Enter
check "three wrong tries exit 77" [ "$(wait_exit)" = 77 ]
check "stty restored" cmp -s "$T/stty.before" "$T/stty.after"
wait_screen "wrong passphrase three times"
finish
