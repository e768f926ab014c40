#!/bin/bash
# Resizing: below 80x24 a clear "too small" message (never garbage, never a
# crash); back to 80x24 every screen is redrawn, the form keeps its input.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
tui_env
add_account "frank@example.com" "Frank-Pass-1" --name Frank --smtp-host smtp.example.com

tui_start "$FLUENZR"
wait_screen "frank@example.com"
tm resize-window -x 60 -y 20
wait_screen "Terminal too small (need 80x24, have 60x20)"
check "nothing else is drawn" sh -c "! tmux -u -L '$TUI_SOCK' capture-pane -p | grep -qF 'frank@example.com'"
tm resize-window -x 80 -y 24
wait_screen "frank@example.com"
wait_title "Email Accounts"
check "hint bar back" grep -qF "q quit" <<<"$(screen)"

# In the form, with text typed.
keys a
wait_title "Email Accounts > + SMTP"
type_text "gina@example.com"
tm resize-window -x 79 -y 30
wait_screen "Terminal too small (need 80x24, have 79x30)"
tm resize-window -x 120 -y 40
wait_screen "gina@example.com"
check "form redrawn at 120x40" grep -qF "Display name" <<<"$(screen)"
keys Escape
wait_screen "discard your changes? y/n"
keys y
wait_screen "frank@example.com"
tm resize-window -x 80 -y 24
wait_screen "frank@example.com"

# Help overlay and store screen survive a resize cycle too.
keys '?'
wait_screen "Add an account"
tm resize-window -x 40 -y 10
wait_screen "Terminal too small"
tm resize-window -x 80 -y 24
wait_screen "Add an account"
keys Escape s
wait_screen "Security recommendations"
tm resize-window -x 70 -y 24
wait_screen "Terminal too small"
tm resize-window -x 80 -y 24
wait_screen "Security recommendations"
keys Escape q
check "exit 0" [ "$(wait_exit)" = 0 ]
check "stty restored" cmp -s "$T/stty.before" "$T/stty.after"
finish
