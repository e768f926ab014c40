#!/bin/bash
# The console through a real SSH session: a private OpenSSH server on
# loopback (own host key, own client key, own config), ssh -tt from a tmux
# pane, the account list on the remote side, and a clean quit.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need ssh ssh-keygen
[ -x /usr/sbin/sshd ] || skip_or_fail "sshd (openssh-server) is not installed"
[ "$(id -u)" = 0 ] || skip_or_fail "the test logs in as root on its own sshd"
tui_env
add_account "mia@example.com" "Mia-Pass-1" --name Mia --smtp-host smtp.example.com

start_sshd 20022

remote="env FLUENZR_STORE=$(shq "$STORE") FLUENZR_KEY_FILE=$(shq "$KEYFILE") \
XDG_CONFIG_HOME=$(shq "$XDG_CONFIG_HOME") \
LANG=C.UTF-8 LC_ALL=C.UTF-8 $(shq "$FLUENZR")"
tui_start ssh -tt -i "$S/client_key" -p "$SSHP" \
	-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
	-o BatchMode=yes root@127.0.0.1 "$remote"
wait_title "Email Accounts" 20
wait_screen "mia@example.com"
check "the row is complete" grep -qE 'mia@example\.com +Mia +smtp\.example\.com:5' <<<"$(screen)"
keys '?'
wait_screen "Add an account (+ SMTP)"
keys Escape
wait_gone "Add an account (+ SMTP)"
keys q
check "ssh exits with the console's status 0" [ "$(wait_exit 10)" = 0 ]
check "local terminal restored" cmp -s "$T/stty.before" "$T/stty.after"
finish
