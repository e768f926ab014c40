#!/bin/sh
# Start a private loopback mail stack under DIR: real Postfix + Dovecot from
# config files in DIR, plus tests/mailstack/faultd.py, then write DIR/env.sh.
#
#   tests/mailstack/start.sh DIR        (as root; stop with stop.sh DIR)
#
# MAILSTACK_BASE=N picks the first port (default 22500); MAILSTACK_BASE=auto
# picks the first free block of 40 ports from 22500 up. Nothing is written
# outside DIR (apart from the lock file used by "auto").
#
# Port map (B = base), all on 127.0.0.1:
#   B+0  SMTP STARTTLS, valid cert, AUTH after STARTTLS
#   B+1  SMTP implicit TLS (wrapper mode), valid cert
#   B+2  SMTP STARTTLS, expired cert          B+3  STARTTLS, wrong-host cert
#   B+4  SMTP STARTTLS, self-signed cert      B+17 STARTTLS, not-yet-valid cert
#   B+5  SMTP STARTTLS, connection rate 1/min and message rate 1/min:
#          2nd connection: "421 4.7.0 mail.test Error: too many connections from 127.0.0.1"
#          2nd MAIL FROM:  "450 4.7.1 Error: too much mail from 127.0.0.1"
#   B+16 SMTP STARTTLS, message rate 1/min only (connections unlimited)
#   B+6  SMTP STARTTLS, reject_sender_login_mismatch, checked at MAIL FROM:
#          "553 5.7.1 <bob@mail.test>: Sender address rejected: not owned by user alice@mail.test"
#   B+7  SMTP STARTTLS, quota text for quota@mail.test at MAIL FROM:
#          "550 5.4.5 <quota@mail.test>: Sender address rejected: Daily user sending limit exceeded"
#   B+8  SMTP plain: no STARTTLS offered, AUTH offered in clear
#   B+9  SMTP smtpd_tls_security_level=encrypt:
#          MAIL, AUTH, RSET before STARTTLS: "530 5.7.0 Must issue a STARTTLS command first"
#   B+10 SMTP STARTTLS, no AUTH at all (smtpd_sasl_auth_enable=no):
#          AUTH: "503 5.5.1 Error: authentication not enabled"
#   B+11 IMAP (STARTTLS)   B+12 IMAPS   B+13 IMAPS with the self-signed cert
#   B+14 Dovecot LMTP      B+15 Dovecot auth (SASL for Postfix)
#   B+20.. faultd modes, in the order of MODES in faultd.py
#   B+18 SMTP STARTTLS whose SASL is a third Dovecot instance taking only
#        XOAUTH2 and OAUTHBEARER: HS256 JWTs checked locally against the key
#        in MAILSTACK_OAUTH_KEY (username from the token's "email" claim)
#   B+19 IMAPS of that instance      B+39 its auth service (for Postfix)
#   B+33 IMAPS of a fourth Dovecot instance over the same maildirs without
#        SPECIAL-USE flags and with the "INBOX." prefix and "." separator
#        (folders found by their names only: INBOX.Junk, INBOX.Sent ...),
#        and one IMAP session per user and address at a time
#        (mail_max_userip_connections = 1: a second is refused, limit named)
# Placement users (Sieve at LMTP delivery, per user, in DIR/sieve/USER.sieve):
#   junk@mail.test      everything is filed into Junk
#   sentcopy@mail.test  a copy of everything goes to Sent, as providers that
#                       keep SMTP-sent mail do; alice and the others get none
#   names@mail.test     filed into Junk; read it through B+33
# B+34 OpenDKIM (milter of every smtpd port): signs mail from mail.test with
#   selector "fz", a key made at start (DIR/opendkim/fz.private); the record
#   to publish is DIR/opendkim/fz.txt (zone-file syntax), a second key's
#   record, to publish as a wrong one, DIR/opendkim/wrong.txt. Nothing here
#   publishes them: a test that verifies serves them with tests/dns-lib.sh.
# The main instance's folders carry SPECIAL-USE (\Junk \Sent \Trash \Drafts
# \Archive), created for every user.
#   B+40..B+51 Exim, when tests/mailstack/exim.sh DIR adds it (its port map)
# Every SMTP port: unknown local user "550 5.1.1 <x@mail.test>: Recipient
# address rejected: User unknown in virtual mailbox table"; other domains
# without AUTH "554 5.7.1 <x@example.com>: Relay access denied"; with AUTH
# they are accepted and discarded (nothing leaves the machine). Dovecot
# answers wrong passwords at once (no auth delay or penalty).
set -eu

die() { echo "mailstack/start: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 DIR"
[ "$(id -u)" -eq 0 ] || die "must run as root (Postfix and Dovecot run from private configs)"
here=$(cd "$(dirname "$0")" && pwd -P)
PYTHON=/usr/bin/python3

for tool in postfix postconf dovecot doveadm certtool "$PYTHON" setpriv opendkim opendkim-genkey; do
	command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool"
done
for acct in postfix dovecot dovenull nobody opendkim; do
	getent passwd "$acct" >/dev/null || die "missing system user: $acct"
done
for grp in postdrop nogroup; do
	getent group "$grp" >/dev/null || die "missing system group: $grp"
done

mkdir -p "$1"
D=$(cd "$1" && pwd -P)
case $D in *[[:space:]]*) die "DIR must not contain white space: $D";; esac

# A stack left running in DIR is stopped first, so start is repeatable.
if [ -f "$D/env.sh" ] || [ -f "$D/faultd.pid" ] || [ -d "$D/dovecot/run" ]; then
	sh "$here/stop.sh" "$D" || true
fi

t0=$(date +%s.%N)

# ---------------------------------------------------------------- ports
PORTS_OFFSETS="0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 33 34 39 20 21 22 23 24 25 26 27 28 29 30 31 32"

listening() {
	awk -v p=":$(printf '%04X' "$1")" \
	    '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
	    /proc/net/tcp
}

block_free() {
	for o in $PORTS_OFFSETS; do
		if listening $(($1 + o)); then return 1; fi
	done
	return 0
}

B=${MAILSTACK_BASE:-22500}
if [ "$B" = auto ]; then
	# Serialise concurrent "auto" starts so two stacks never pick one block.
	exec 9>"${TMPDIR:-/tmp}/fluenzr-mailstack.lock"
	flock 9
	B=22500
	while ! block_free $B; do
		B=$((B + 40))
		[ $B -lt 60000 ] || die "no free port block"
	done
fi
case $B in ''|*[!0-9]*) die "MAILSTACK_BASE must be a number or auto";; esac
if [ "$B" -lt 1024 ] || [ "$B" -gt 65000 ]; then die "MAILSTACK_BASE out of range"; fi
for o in $PORTS_OFFSETS; do
	listening $((B + o)) && die "port $((B + o)) is already in use (set MAILSTACK_BASE)"
done

P_STARTTLS=$B
P_IMPLICIT=$((B + 1))
P_EXPIRED=$((B + 2))
P_WRONGHOST=$((B + 3))
P_SELFSIGNED=$((B + 4))
P_RATELIMIT=$((B + 5))
P_MISMATCH=$((B + 6))
P_QUOTA=$((B + 7))
P_PLAIN=$((B + 8))
P_ENCRYPT=$((B + 9))
P_NOAUTH=$((B + 10))
P_IMAP=$((B + 11))
P_IMAPS=$((B + 12))
P_IMAPS_SS=$((B + 13))
P_LMTP=$((B + 14))
P_AUTH=$((B + 15))
P_MSGLIMIT=$((B + 16))
P_NOTYET=$((B + 17))
P_FAULT=$((B + 20))
P_OAUTH_SMTP=$((B + 18))
P_OAUTH_IMAPS=$((B + 19))
P_OAUTH_AUTH=$((B + 39))
P_IMAPS_NAMES=$((B + 33))
P_OPENDKIM=$((B + 34))

# ---------------------------------------------------------------- layout
umask 022
mkdir -p "$D/certs" "$D/postfix" "$D/postfix-spool" "$D/dovecot" "$D/mail"
# Unprivileged daemons (postfix, dovecot, nobody) must reach files under D.
chmod 0755 "$D" "$D/postfix" "$D/postfix-spool" "$D/dovecot" "$D/mail"
chmod 0700 "$D/certs"
setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$D/mail/." ||
	die "$D is not reachable by unprivileged users; choose a DIR whose parents are o+x (e.g. under /tmp)"
rm -f "$D/env.sh"

DOMAIN=mail.test
ALICE_PASS=Alice-Secret-Pass-1
BOB_PASS=Bob-Secret-Pass-2
QUOTA_PASS=Quota-Secret-Pass-3
JUNK_PASS=Junk-Secret-Pass-4
SENTCOPY_PASS=Sentcopy-Secret-Pass-5
NAMES_PASS=Names-Secret-Pass-6
BENCH_COUNT=250

# ---------------------------------------------------------------- certificates
C=$D/certs
if [ ! -s "$C/notyet.pem" ]; then
	now_plus() { date -u -d "+$1 days" '+%Y-%m-%d %H:%M:%S'; }
	gen_key() { certtool --generate-privkey --key-type=rsa --bits=2048 --no-text --outfile="$1" 2>/dev/null; }
	gen_key "$C/ca.key"
	gen_key "$C/leaf.key"
	# The CA's life covers every leaf, so only the leaf dates ever fail.
	cat >"$C/ca.tmpl" <<-EOF
		cn = "fluenzr test CA"
		organization = "fluenzr tests"
		serial = 1
		activation_date = "2019-01-01 00:00:00"
		expiration_date = "$(now_plus 3650)"
		ca
		cert_signing_key
		crl_signing_key
	EOF
	certtool --generate-self-signed --load-privkey="$C/ca.key" \
		--template="$C/ca.tmpl" --no-text --outfile="$C/ca.pem" 2>/dev/null

	# leaf NAME CN SERIAL FROM UNTIL SAN-LINES...: writes NAME.tmpl
	leaf() {
		name=$1 cn=$2 serial=$3 from=$4 until=$5
		shift 5
		{
			echo "cn = \"$cn\""
			echo "organization = \"fluenzr tests\""
			echo "serial = $serial"
			echo "activation_date = \"$from\""
			echo "expiration_date = \"$until\""
			echo "tls_www_server"
			echo "signing_key"
			echo "encryption_key"
			for san in "$@"; do echo "$san"; done
		} >"$C/$name.tmpl"
	}
	sign() {
		certtool --generate-certificate --load-privkey="$C/leaf.key" \
			--load-ca-certificate="$C/ca.pem" --load-ca-privkey="$C/ca.key" \
			--template="$C/$1.tmpl" --no-text --outfile="$C/$1.pem" 2>/dev/null
	}
	good_san='dns_name = "localhost"
dns_name = "mail.test"
ip_address = "127.0.0.1"'
	yesterday=$(date -u -d '-1 day' '+%Y-%m-%d %H:%M:%S')
	leaf valid mail.test 2 "$yesterday" "$(now_plus 825)" "$good_san"
	leaf expired mail.test 3 "2020-01-01 00:00:00" "2021-01-01 00:00:00" "$good_san"
	leaf wronghost wrong.example 4 "$yesterday" "$(now_plus 825)" 'dns_name = "wrong.example"'
	leaf notyet mail.test 6 "$(now_plus 365)" "$(now_plus 730)" "$good_san"
	for n in valid expired wronghost notyet; do sign $n; done
	leaf selfsigned mail.test 5 "$yesterday" "$(now_plus 825)" "$good_san"
	certtool --generate-self-signed --load-privkey="$C/leaf.key" \
		--template="$C/selfsigned.tmpl" --no-text --outfile="$C/selfsigned.pem" 2>/dev/null
	[ -s "$C/notyet.pem" ] || die "certificate generation failed"
fi
chmod 0644 "$C"/*.pem
chmod 0600 "$C"/*.key

# ---------------------------------------------------------------- users
BENCH_FMT='u%03d'
{
	printf 'alice@%s:{PLAIN}%s::::::\n' $DOMAIN $ALICE_PASS
	printf 'bob@%s:{PLAIN}%s::::::\n' $DOMAIN $BOB_PASS
	printf 'quota@%s:{PLAIN}%s::::::\n' $DOMAIN $QUOTA_PASS
	printf 'junk@%s:{PLAIN}%s::::::\n' $DOMAIN $JUNK_PASS
	printf 'sentcopy@%s:{PLAIN}%s::::::\n' $DOMAIN $SENTCOPY_PASS
	printf 'names@%s:{PLAIN}%s::::::\n' $DOMAIN $NAMES_PASS
	awk -v n=$BENCH_COUNT -v d=$DOMAIN 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "u%03d@%s:{PLAIN}Bench-Pass-u%03d::::::\n", i, d, i }'
} >"$D/dovecot/users"
chown root:dovecot "$D/dovecot/users"
chmod 0640 "$D/dovecot/users"
# "user<TAB>password" for the benchmark, one account a line.
awk -F: '/^u[0-9]/ { sub(/^\{PLAIN\}/, "", $2); print $1 "\t" $2 }' \
	"$D/dovecot/users" >"$D/bench-users.tsv"
chmod 0600 "$D/bench-users.tsv"

for u in alice bob quota junk sentcopy names; do
	for sub in cur new tmp; do mkdir -p "$D/mail/$DOMAIN/$u/$sub"; done
done
# names@ reads its maildir through the instance without SPECIAL-USE: its
# folders have only the names people know.
for f in .Sent ".Deleted Items" .Junk; do
	for sub in cur new tmp; do mkdir -p "$D/mail/$DOMAIN/names/$f/$sub"; done
done
chown -R nobody:nogroup "$D/mail"

# Per-user Sieve scripts, run by Dovecot's LMTP at delivery.
mkdir -p "$D/sieve"
rm -f "$D/sieve"/*.sieve "$D/sieve"/*.svbin
printf 'require "fileinto";\nfileinto "Junk";\n' >"$D/sieve/junk.sieve"
cp "$D/sieve/junk.sieve" "$D/sieve/names.sieve"
printf 'require ["fileinto", "copy"];\nfileinto :copy "Sent";\n' >"$D/sieve/sentcopy.sieve"
chown -R nobody:nogroup "$D/sieve"

# ---------------------------------------------------------------- dovecot
PD=$D/dovecot
mkdir -p "$PD/run" "$PD/state" "$PD/run-ss" "$PD/state-ss" "$PD/run-oauth" \
	"$PD/state-oauth" "$PD/run-names" "$PD/state-names"
dovecot_common() { # LOGFILE
	cat <<-EOF
		# generated by tests/mailstack/start.sh
		listen = 127.0.0.1
		log_path = $1
		ssl = yes
		ssl_key = <$C/leaf.key
		ssl_min_protocol = TLSv1.2
		disable_plaintext_auth = no
		auth_mechanisms = plain login
		# Tests try wrong passwords on purpose: answer at once and do not
		# slow later logins from 127.0.0.1 down (auth penalty).
		auth_failure_delay = 0
		service anvil {
		  unix_listener anvil-auth-penalty {
		    mode = 0
		  }
		}
		mail_location = maildir:$D/mail/%d/%n
		first_valid_uid = 1
		passdb {
		  driver = passwd-file
		  args = scheme=PLAIN username_format=%Lu $PD/users
		}
		userdb {
		  driver = passwd-file
		  args = username_format=%Lu $PD/users
		  default_fields = uid=nobody gid=nogroup home=$D/mail/%d/%n
		}
	EOF
	# Debian ships DH parameters; without them only ECDHE suites are used.
	[ ! -f /usr/share/dovecot/dh.pem ] || echo "ssl_dh = </usr/share/dovecot/dh.pem"
}
{
	dovecot_common "$PD/dovecot.log"
	cat <<-EOF
		instance_name = mailstack-$B
		# LMTP's Received names the stack's domain, as a provider's own.
		hostname = $DOMAIN
		base_dir = $PD/run
		state_dir = $PD/state
		protocols = imap lmtp
		ssl_cert = <$C/valid.pem
		service imap-login {
		  inet_listener imap {
		    address = 127.0.0.1
		    port = $P_IMAP
		  }
		  inet_listener imaps {
		    address = 127.0.0.1
		    port = $P_IMAPS
		    ssl = yes
		  }
		}
		service lmtp {
		  inet_listener lmtp {
		    address = 127.0.0.1
		    port = $P_LMTP
		  }
		}
		service auth {
		  inet_listener {
		    address = 127.0.0.1
		    port = $P_AUTH
		  }
		}
		namespace inbox {
		  inbox = yes
		  mailbox Junk {
		    special_use = \\Junk
		    auto = subscribe
		  }
		  mailbox Sent {
		    special_use = \\Sent
		    auto = subscribe
		  }
		  mailbox Trash {
		    special_use = \\Trash
		    auto = subscribe
		  }
		  mailbox Drafts {
		    special_use = \\Drafts
		    auto = subscribe
		  }
		  mailbox Archive {
		    special_use = \\Archive
		    auto = subscribe
		  }
		}
		protocol lmtp {
		  mail_plugins = \$mail_plugins sieve
		}
		plugin {
		  sieve = $D/sieve/%n.sieve
		}
	EOF
} >"$PD/dovecot.conf"
# The same maildirs as a server without SPECIAL-USE flags would show them.
{
	dovecot_common "$PD/dovecot-names.log"
	cat <<-EOF
		instance_name = mailstack-names-$B
		base_dir = $PD/run-names
		state_dir = $PD/state-names
		protocols = imap
		ssl_cert = <$C/valid.pem
		namespace inbox {
		  inbox = yes
		  prefix = INBOX.
		  separator = .
		}
		# One IMAP session per user and address, so a test can meet the
		# limit a server states (held by one session, refused to a second).
		mail_max_userip_connections = 1
		service imap-login {
		  inet_listener imap {
		    port = 0
		  }
		  inet_listener imaps {
		    address = 127.0.0.1
		    port = $P_IMAPS_NAMES
		    ssl = yes
		  }
		}
	EOF
} >"$PD/dovecot-names.conf"
# Dovecot picks certificates by local address or SNI name, not by port, so
# the self-signed IMAPS port is a second, IMAP-only instance.
{
	dovecot_common "$PD/dovecot-ss.log"
	cat <<-EOF
		instance_name = mailstack-ss-$B
		base_dir = $PD/run-ss
		state_dir = $PD/state-ss
		protocols = imap
		ssl_cert = <$C/selfsigned.pem
		service imap-login {
		  inet_listener imap {
		    port = 0
		  }
		  inet_listener imaps {
		    address = 127.0.0.1
		    port = $P_IMAPS_SS
		    ssl = yes
		  }
		}
	EOF
} >"$PD/dovecot-ss.conf"

# The OAuth instance: no password passdb at all, so only a bearer token
# signed with the stack's HS256 key logs in. The key is looked up in the
# dict as <azp>/<alg>/<kid>; tokens carry neither azp nor kid, hence
# default/HS256/default, base64 as Dovecot 2.3 wants for HMAC keys. The
# key is the 64 characters of OAUTH_KEY themselves (not the bytes they spell).
OAUTH_KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$PD/oauth-keys/default/HS256"
printf '%s' "$OAUTH_KEY" | base64 -w0 >"$PD/oauth-keys/default/HS256/default"
chown -R root:dovecot "$PD/oauth-keys"
chmod 0750 "$PD/oauth-keys" "$PD/oauth-keys/default" "$PD/oauth-keys/default/HS256"
chmod 0640 "$PD/oauth-keys/default/HS256/default"
cat >"$PD/oauth2.conf.ext" <<EOF
introspection_mode = local
local_validation_key_dict = fs:posix:prefix=$PD/oauth-keys/
username_attribute = email
EOF
{
	dovecot_common "$PD/dovecot-oauth.log" |
		sed -e 's/^auth_mechanisms = .*/auth_mechanisms = xoauth2 oauthbearer/' \
		    -e '/^passdb {/,/^}/d'
	cat <<-EOF
		instance_name = mailstack-oauth-$B
		base_dir = $PD/run-oauth
		state_dir = $PD/state-oauth
		protocols = imap
		ssl_cert = <$C/valid.pem
		passdb {
		  driver = oauth2
		  mechanisms = xoauth2 oauthbearer
		  args = $PD/oauth2.conf.ext
		}
		service imap-login {
		  inet_listener imap {
		    port = 0
		  }
		  inet_listener imaps {
		    address = 127.0.0.1
		    port = $P_OAUTH_IMAPS
		    ssl = yes
		  }
		}
		service auth {
		  inet_listener {
		    address = 127.0.0.1
		    port = $P_OAUTH_AUTH
		  }
		}
	EOF
} >"$PD/dovecot-oauth.conf"

# ---------------------------------------------------------------- opendkim
OD=$D/opendkim
mkdir -p "$OD"
if [ ! -s "$OD/fz.private" ] || [ ! -s "$OD/wrong.txt" ]; then
	rm -f "$OD"/*.private "$OD"/*.txt
	opendkim-genkey -b 2048 -d $DOMAIN -s fz -D "$OD" ||
		die "opendkim-genkey failed"
	opendkim-genkey -b 2048 -d $DOMAIN -s wrong -D "$OD" ||
		die "opendkim-genkey failed"
	# The wrong key's record under the signer's selector.
	sed 's/^wrong\._domainkey/fz._domainkey/' "$OD/wrong.txt" >"$OD/wrong.tmp" &&
		mv "$OD/wrong.tmp" "$OD/wrong.txt"
	rm -f "$OD/wrong.private"
fi
chown -R opendkim:opendkim "$OD"
chmod 0700 "$OD"
chmod 0600 "$OD/fz.private"
chmod 0644 "$OD"/*.txt
cat >"$OD/opendkim.conf" <<EOF
# generated by tests/mailstack/start.sh
Syslog no
Background yes
PidFile $OD/opendkim.pid
UserID opendkim
Mode s
Domain $DOMAIN
Selector fz
KeyFile $OD/fz.private
Socket inet:$P_OPENDKIM@127.0.0.1
InternalHosts 127.0.0.1
Canonicalization relaxed/simple
RequireSafeKeys no
EOF
chmod 0644 "$OD/opendkim.conf"

# ---------------------------------------------------------------- postfix
PF=$D/postfix
: >"$PF/vmailbox"
: >"$PF/sender_logins"
awk -F: '{ print $1 "\tOK" }' "$PD/users" >"$PF/vmailbox"
awk -F: '{ print $1 "\t" $1 }' "$PD/users" >"$PF/sender_logins"
printf 'quota@%s\t550 5.4.5 Daily user sending limit exceeded\n' $DOMAIN >"$PF/sender_quota"

cat >"$PF/main.cf" <<EOF
# generated by tests/mailstack/start.sh; run with: postfix -c $PF start
compatibility_level = 3.6
queue_directory = $D/postfix-spool
data_directory = $D/postfix-data
mail_owner = postfix
setgid_group = postdrop
myhostname = $DOMAIN
mydomain = $DOMAIN
myorigin = \$myhostname
mydestination =
mynetworks = 127.0.0.1/32
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
relayhost =
biff = no
smtputf8_enable = no
maillog_file = $PF/maillog
maillog_file_prefixes = $D
smtpd_banner = \$myhostname ESMTP Postfix (fluenzr test stack)
# Local users live in Dovecot; unknown ones get 550 5.1.1 at RCPT TO.
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_maps = texthash:$PF/vmailbox
virtual_transport = lmtp:inet:127.0.0.1:$P_LMTP
local_transport = error:5.1.1 no local delivery in the test stack
# Never send anything off the machine: other domains are accepted from
# authenticated users and silently discarded.
default_transport = discard:outbound mail is discarded by the test stack
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$P_AUTH
smtpd_sasl_auth_enable = yes
smtpd_tls_cert_file = $C/valid.pem
smtpd_tls_key_file = $C/leaf.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_sender_login_maps = texthash:$PF/sender_logins
anvil_rate_time_unit = 60s
# Used by single ports in master.cf (-o values cannot contain spaces).
mailstack_mismatch_restrictions = reject_sender_login_mismatch
mailstack_quota_restrictions = check_sender_access texthash:$PF/sender_quota
# Every message submitted is signed by OpenDKIM; should it be down, mail
# still flows (unsigned), and a DKIM test sees it.
smtpd_milters = inet:127.0.0.1:$P_OPENDKIM
milter_default_action = accept
EOF

smtpd() { # PORT NAME -o overrides...
	port=$1 name=$2
	shift 2
	printf '127.0.0.1:%s inet n - n - - smtpd\n  -o syslog_name=postfix/%s\n' "$port" "$name"
	for o in "$@"; do printf '  %s\n' "$o"; done
}
{
	cat <<-EOF
		# generated by tests/mailstack/start.sh
		pickup    unix  n       -       n       60      1       pickup
		cleanup   unix  n       -       n       -       0       cleanup
		qmgr      unix  n       -       n       300     1       qmgr
		tlsmgr    unix  -       -       n       1000?   1       tlsmgr
		rewrite   unix  -       -       n       -       -       trivial-rewrite
		bounce    unix  -       -       n       -       0       bounce
		defer     unix  -       -       n       -       0       bounce
		trace     unix  -       -       n       -       0       bounce
		verify    unix  -       -       n       -       1       verify
		flush     unix  n       -       n       1000?   0       flush
		proxymap  unix  -       -       n       -       -       proxymap
		proxywrite unix -       -       n       -       1       proxymap
		smtp      unix  -       -       n       -       -       smtp
		relay     unix  -       -       n       -       -       smtp
		showq     unix  n       -       n       -       -       showq
		error     unix  -       -       n       -       -       error
		retry     unix  -       -       n       -       -       error
		discard   unix  -       -       n       -       -       discard
		lmtp      unix  -       -       n       -       -       lmtp
		anvil     unix  -       -       n       -       1       anvil
		scache    unix  -       -       n       -       1       scache
		postlog   unix-dgram n  -       n       -       1       postlogd
	EOF
	smtpd $P_STARTTLS starttls
	smtpd $P_IMPLICIT implicit -o smtpd_tls_wrappermode=yes \
		-o smtpd_tls_security_level=encrypt
	smtpd $P_EXPIRED expired -o smtpd_tls_cert_file="$C/expired.pem"
	smtpd $P_WRONGHOST wronghost -o smtpd_tls_cert_file="$C/wronghost.pem"
	smtpd $P_SELFSIGNED selfsigned -o smtpd_tls_cert_file="$C/selfsigned.pem"
	smtpd $P_NOTYET notyet -o smtpd_tls_cert_file="$C/notyet.pem"
	# anvil keys its counters by service and client, so these limits apply
	# to this port only; the empty exception list stops 127.0.0.1 (in
	# mynetworks) from being exempt.
	smtpd $P_RATELIMIT ratelimit -o smtpd_client_connection_rate_limit=1 \
		-o smtpd_client_message_rate_limit=1 \
		-o smtpd_client_event_limit_exceptions=
	smtpd $P_MSGLIMIT msglimit -o smtpd_client_message_rate_limit=1 \
		-o smtpd_client_event_limit_exceptions=
	# smtpd_delay_reject=no: refuse at MAIL FROM, as providers do.
	smtpd $P_MISMATCH mismatch -o smtpd_delay_reject=no \
		-o smtpd_sender_restrictions=\$mailstack_mismatch_restrictions
	smtpd $P_QUOTA quota -o smtpd_delay_reject=no \
		-o smtpd_sender_restrictions=\$mailstack_quota_restrictions
	smtpd $P_PLAIN plain -o smtpd_tls_security_level=none \
		-o smtpd_tls_auth_only=no
	smtpd $P_ENCRYPT encrypt -o smtpd_tls_security_level=encrypt
	smtpd $P_NOAUTH noauth -o smtpd_sasl_auth_enable=no
	smtpd $P_OAUTH_SMTP oauth -o smtpd_sasl_path=inet:127.0.0.1:$P_OAUTH_AUTH
} >"$PF/master.cf"
# Postfix programs wait a second before reading a main.cf changed within
# the last second (a guard against half-written files): backdate ours.
touch -d '5 seconds ago' "$PF"/*

# ---------------------------------------------------------------- start
started_ok=no
cleanup_on_fail() {
	[ $started_ok = yes ] && return
	echo "mailstack/start: start failed; logs follow" >&2
	for f in "$PF/maillog" "$PD/dovecot.log" "$PD/dovecot-ss.log" \
	    "$PD/dovecot-oauth.log" "$PD/dovecot-names.log" "$D/faultd.err"; do
		[ -f "$f" ] && { echo "== $f" >&2; tail -n 20 "$f" >&2; }
	done
	sh "$here/stop.sh" "$D" >/dev/null 2>&1 || true
}
trap cleanup_on_fail EXIT

rm -f "$D/faultd.pid" "$PD/start.out"
: >>"$D/faultd.log"
setsid "$PYTHON" "$here/faultd.py" --base $P_FAULT --log "$D/faultd.log" \
	--pidfile "$D/faultd.pid" </dev/null >"$D/faultd.err" 2>&1 &

# Daemons must not inherit our stdout/stderr: a caller reading them through
# a pipe would wait for the daemons' exit.
dovecot -c "$PD/dovecot.conf" </dev/null >>"$PD/start.out" 2>&1 ||
	{ cat "$PD/start.out" >&2; die "dovecot failed to start"; }
dovecot -c "$PD/dovecot-ss.conf" </dev/null >>"$PD/start.out" 2>&1 ||
	{ cat "$PD/start.out" >&2; die "dovecot (self-signed instance) failed to start"; }
dovecot -c "$PD/dovecot-oauth.conf" </dev/null >>"$PD/start.out" 2>&1 ||
	{ cat "$PD/start.out" >&2; die "dovecot (OAuth instance) failed to start"; }
dovecot -c "$PD/dovecot-names.conf" </dev/null >>"$PD/start.out" 2>&1 ||
	{ cat "$PD/start.out" >&2; die "dovecot (names-only instance) failed to start"; }
rm -f "$OD/opendkim.pid"
setsid opendkim -x "$OD/opendkim.conf" </dev/null >"$OD/start.out" 2>&1 ||
	{ cat "$OD/start.out" >&2; die "opendkim failed to start"; }
postfix -c "$PF" start </dev/null >"$PF/start.out" 2>&1 ||
	{ cat "$PF/start.out" >&2; die "postfix failed to start"; }

# Wait until every port listens (no connection is made: that would use up
# the rate-limited port's allowance) and every pid file exists.
deadline=$(($(date +%s) + 30))
for o in $PORTS_OFFSETS; do
	until listening $((B + o)); do
		[ "$(date +%s)" -lt $deadline ] || die "port $((B + o)) did not come up"
		sleep 0.05
	done
done
until [ -s "$D/faultd.pid" ] && [ -s "$PD/run/master.pid" ] &&
      [ -s "$PD/run-ss/master.pid" ] && [ -s "$PD/run-oauth/master.pid" ] &&
      [ -s "$PD/run-names/master.pid" ] && [ -s "$OD/opendkim.pid" ] &&
      [ -s "$D/postfix-spool/pid/master.pid" ]; do
	[ "$(date +%s)" -lt $deadline ] || die "a pid file did not appear"
	sleep 0.05
done
read -r PID_FAULTD <"$D/faultd.pid"
read -r PID_DOVECOT <"$PD/run/master.pid"
read -r PID_DOVECOT_SS <"$PD/run-ss/master.pid"
read -r PID_DOVECOT_OAUTH <"$PD/run-oauth/master.pid"
read -r PID_DOVECOT_NAMES <"$PD/run-names/master.pid"
read -r PID_OPENDKIM <"$OD/opendkim.pid"
PID_POSTFIX=$(awk '{ print $1; exit }' "$D/postfix-spool/pid/master.pid")

# ---------------------------------------------------------------- env.sh
q() { printf "'%s'" "$1"; }
{
	echo "# generated by tests/mailstack/start.sh; source it"
	echo "export MAILSTACK_DIR=$(q "$D")"
	echo "export MAILSTACK_HOST=127.0.0.1"
	echo "export MAILSTACK_BASE=$B"
	echo "export MAILSTACK_DOMAIN=$DOMAIN"
	echo "# SMTP (Postfix)"
	echo "export MAILSTACK_SMTP_STARTTLS_PORT=$P_STARTTLS"
	echo "export MAILSTACK_SMTP_IMPLICIT_PORT=$P_IMPLICIT"
	echo "export MAILSTACK_SMTP_EXPIRED_PORT=$P_EXPIRED"
	echo "export MAILSTACK_SMTP_WRONGHOST_PORT=$P_WRONGHOST"
	echo "export MAILSTACK_SMTP_SELFSIGNED_PORT=$P_SELFSIGNED"
	echo "export MAILSTACK_SMTP_NOTYET_PORT=$P_NOTYET"
	echo "export MAILSTACK_SMTP_RATELIMIT_PORT=$P_RATELIMIT"
	echo "export MAILSTACK_SMTP_MSGLIMIT_PORT=$P_MSGLIMIT"
	echo "export MAILSTACK_SMTP_MISMATCH_PORT=$P_MISMATCH"
	echo "export MAILSTACK_SMTP_QUOTA_PORT=$P_QUOTA"
	echo "export MAILSTACK_SMTP_PLAIN_PORT=$P_PLAIN"
	echo "export MAILSTACK_SMTP_ENCRYPT_PORT=$P_ENCRYPT"
	echo "export MAILSTACK_SMTP_NOAUTH_PORT=$P_NOAUTH"
	echo "# IMAP, LMTP, auth (Dovecot)"
	echo "export MAILSTACK_IMAP_PORT=$P_IMAP"
	echo "export MAILSTACK_IMAPS_PORT=$P_IMAPS"
	echo "export MAILSTACK_IMAPS_SELFSIGNED_PORT=$P_IMAPS_SS"
	echo "export MAILSTACK_LMTP_PORT=$P_LMTP"
	echo "export MAILSTACK_AUTH_PORT=$P_AUTH"
	echo "# fault server modes (FAULT_*_PORT are short aliases)"
	i=0
	for m in $("$PYTHON" "$here/faultd.py" --list-modes); do
		M=$(echo "$m" | tr a-z A-Z)
		echo "export MAILSTACK_FAULT_${M}_PORT=$((P_FAULT + i)) FAULT_${M}_PORT=$((P_FAULT + i))"
		i=$((i + 1))
	done
	echo "# certificates (all leaves share $C/leaf.key)"
	echo "export MAILSTACK_CA_FILE=$(q "$C/ca.pem")"
	for n in valid expired wronghost selfsigned notyet; do
		N=$(echo "$n" | tr a-z A-Z)
		echo "export MAILSTACK_CERT_${N}=$(q "$C/$n.pem")"
	done
	echo "# users: address, password, maildir (Maildir++ with cur/ new/ tmp/)"
	for u in alice bob quota; do
		U=$(echo "$u" | tr a-z A-Z)
		case $u in
		alice) pw=$ALICE_PASS;; bob) pw=$BOB_PASS;; *) pw=$QUOTA_PASS;;
		esac
		echo "export MAILSTACK_${U}_USER=$u@$DOMAIN MAILSTACK_${U}_PASS=$(q "$pw")"
		echo "export MAILSTACK_${U}_MAILDIR=$(q "$D/mail/$DOMAIN/$u")"
	done
	echo "# bench users u001..u$(printf %03d $BENCH_COUNT): user = printf USER_FMT n, password = printf PASS_FMT n"
	echo "export MAILSTACK_BENCH_COUNT=$BENCH_COUNT"
	echo "export MAILSTACK_BENCH_USER_FMT='${BENCH_FMT}@$DOMAIN'"
	echo "export MAILSTACK_BENCH_PASS_FMT='Bench-Pass-${BENCH_FMT}'"
	echo "export MAILSTACK_BENCH_USERS_FILE=$(q "$D/bench-users.tsv")"
	echo "export MAILSTACK_MAILDIR_FMT=$(q "$D/mail/$DOMAIN/%s")"
	echo "# processes and logs"
	echo "export MAILSTACK_POSTFIX_PID=$PID_POSTFIX"
	echo "export MAILSTACK_DOVECOT_PID=$PID_DOVECOT"
	echo "export MAILSTACK_DOVECOT_SS_PID=$PID_DOVECOT_SS"
	echo "export MAILSTACK_DOVECOT_OAUTH_PID=$PID_DOVECOT_OAUTH"
	echo "export MAILSTACK_FAULTD_PID=$PID_FAULTD"
	echo "export MAILSTACK_POSTFIX_LOG=$(q "$PF/maillog")"
	echo "export MAILSTACK_DOVECOT_LOG=$(q "$PD/dovecot.log")"
	echo "export MAILSTACK_FAULTD_LOG=$(q "$D/faultd.log")"
	echo "# OAuth: SMTP and IMAPS taking bearer tokens, the HS256 key (its text) that signs them"
	echo "export MAILSTACK_OAUTH_SMTP_PORT=$P_OAUTH_SMTP"
	echo "export MAILSTACK_OAUTH_IMAPS_PORT=$P_OAUTH_IMAPS"
	echo "export MAILSTACK_OAUTH_AUTH_PORT=$P_OAUTH_AUTH"
	echo "export MAILSTACK_OAUTH_KEY=$OAUTH_KEY"
	echo "export MAILSTACK_DOVECOT_OAUTH_LOG=$(q "$PD/dovecot-oauth.log")"
	echo "# placement: a server without SPECIAL-USE (names only), the Sieve users"
	echo "export MAILSTACK_IMAPS_NAMES_PORT=$P_IMAPS_NAMES"
	echo "export MAILSTACK_DOVECOT_NAMES_PID=$PID_DOVECOT_NAMES"
	echo "# DKIM: OpenDKIM signs for $DOMAIN, selector fz; the records to publish"
	echo "export MAILSTACK_OPENDKIM_PID=$PID_OPENDKIM"
	echo "export MAILSTACK_DKIM_SELECTOR=fz"
	echo "export MAILSTACK_DKIM_RECORD=$(q "$OD/fz.txt") MAILSTACK_DKIM_WRONG_RECORD=$(q "$OD/wrong.txt")"
	for u in junk sentcopy names; do
		U=$(echo "$u" | tr a-z A-Z)
		case $u in
		junk) pw=$JUNK_PASS;; sentcopy) pw=$SENTCOPY_PASS;; *) pw=$NAMES_PASS;;
		esac
		echo "export MAILSTACK_${U}_USER=$u@$DOMAIN MAILSTACK_${U}_PASS=$(q "$pw")"
	done
} >"$D/env.sh.tmp"
mv "$D/env.sh.tmp" "$D/env.sh"

started_ok=yes
t1=$(date +%s.%N)
echo "mailstack: up on 127.0.0.1:$B-$((B + 32)) in $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s; source $D/env.sh"
