#!/bin/bash
# First start on an empty store: the empty state, the help overlay generated
# from the key table, and a quit that leaves the terminal as it found it.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
tui_env

tui_start "$FLUENZR"
wait_title "Email Accounts"
wait_screen "No accounts yet. Press a to add one."
s=$(screen)
check "hint bar" grep -qF "a add" <<<"$s"
check "store created" test -d "$STORE"

keys '?'
wait_screen "Add an account (+ SMTP)"
s=$(screen)
for k in "Test the selected account" "Test every account shown" \
         "Delete the selected account" "Filter the list" "Quit" \
         "Store: key, passphrase"; do
	check "help lists: $k" grep -qF "$k" <<<"$s"
done
check "help shows the key names" grep -qE 'Enter, e +Edit the selected account' <<<"$s"
keys Escape
wait_gone "Add an account (+ SMTP)"
wait_screen "No accounts yet."

keys q
rc=$(wait_exit)
check "q exits with 0" [ "$rc" = 0 ]
check "stty -a identical before and after" cmp -s "$T/stty.before" "$T/stty.after"
wait_screen "[program exited]"
check "the console's screen is gone after exit" sh -c "! tmux -u -L '$TUI_SOCK' capture-pane -p | grep -qF 'Email Accounts'"
finish
