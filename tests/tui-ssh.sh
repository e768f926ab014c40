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

S=$T/ssh
mkdir -p "$S"
ssh-keygen -q -t ed25519 -N '' -f "$S/host_key" || fail "host key"
ssh-keygen -q -t ed25519 -N '' -f "$S/client_key" || fail "client key"
cp "$S/client_key.pub" "$S/authorized_keys"
# sshd wants its privilege separation directory.
mkdir -p /run/sshd
chmod 755 /run/sshd

port_listening() {
	awk -v p=":$(printf '%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' /proc/net/tcp
}
port_free() { ! port_listening "$1"; }
port=
for p in $(seq $((20022 + $$ % 500)) 40 21999); do
	if port_free "$p"; then port=$p; break; fi
done
[ -n "$port" ] || fail "no free port for sshd"

cat > "$S/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $S/host_key
PidFile $S/sshd.pid
PermitRootLogin prohibit-password
AuthorizedKeysFile $S/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PrintMotd no
PrintLastLog no
LogLevel ERROR
CONF
/usr/sbin/sshd -D -f "$S/sshd_config" -E "$S/sshd.log" &
sshd_pid=$!
at_exit "kill $sshd_pid 2>/dev/null; wait $sshd_pid 2>/dev/null"
wait_for -t 10 port_listening "$port" ||
	{ cat "$S/sshd.log" >&2; fail "sshd did not start"; }

remote="env FLUENZR_STORE=$(shq "$STORE") FLUENZR_KEY_FILE=$(shq "$KEYFILE") \
XDG_CONFIG_HOME=$(shq "$XDG_CONFIG_HOME") \
LANG=C.UTF-8 LC_ALL=C.UTF-8 $(shq "$FLUENZR")"
tui_start ssh -tt -i "$S/client_key" -p "$port" \
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
