#!/bin/bash
# Golden screens: every main screen of the console, whole, at 80x24 — the
# account list, the form and its preset picker, a live test that passes and
# one that fails, troubleshooting, the store screen, the help overlay, the
# bottom-line question and passphrase prompt, and the unlock screen —
# compared with tests/screens/*.txt. What varies from run to run (ports, durations,
# times, the temp directory) is normalised by screen_normalise in
# tests/tuilib.sh; FLUENZR_REGEN_SCREENS=1 rewrites the files.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need "$PY"
tui_env
export NO_COLOR=1
start_mailstack

add_alice_bob

tui_start "$FLUENZR"
wait_title "Email Accounts"
wait_screen "$MAILSTACK_BOB_USER"
expect_screen accounts

keys '?'
wait_screen "Add an account (+ SMTP)"
expect_screen help
keys Escape
wait_gone "Add an account (+ SMTP)"

keys d
wait_screen "y/n"
expect_screen delete-question
keys n
wait_gone "y/n"

keys a
wait_title "Email Accounts > + SMTP"
expect_screen form
keys C-p
wait_screen "Presets"
expect_screen form-picker
keys Escape
wait_gone "Presets"
keys Escape
wait_title "Email Accounts"

# alice first: a wrong password, then troubleshooting.
keys t
wait_title "Live diagnostics"
wait_screen "press f for troubleshooting" 30
expect_screen diag-failed
keys f
wait_title "Troubleshooting"
expect_screen trouble
keys Escape
wait_title "Live diagnostics"
keys Escape
wait_title "Email Accounts"

# bob: everything works.
keys j
keys t
wait_title "Live diagnostics"
wait_screen "Everything works." 30
expect_screen diag-ok
keys Escape
wait_title "Email Accounts"
wait_screen "✓ ok"
expect_screen accounts-tested

keys s
wait_title "Store"
expect_screen store
keys p
wait_screen "New passphrase"
expect_screen store-passphrase
keys Escape
wait_gone "New passphrase"
keys Escape
wait_title "Email Accounts"

keys q
check "exit 0" [ "$(wait_exit)" = 0 ]

# A store only a passphrase opens: the unlock screen, and a wrong try.
"$FLUENZR" store passphrase --new-passphrase-fd 3 --drop-key-file \
	3<<<"screens passphrase" >/dev/null || fail "store passphrase"
tui_start "$FLUENZR"
wait_title "Unlock the store"
wait_screen "Store passphrase:"
expect_screen unlock
type_text "wrong"
keys Enter
wait_screen "Wrong passphrase (2 of 3 tries left)."
expect_screen unlock-wrong
keys Escape
check "Esc leaves with 77" [ "$(wait_exit)" = 77 ]
finish
