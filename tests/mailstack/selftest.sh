#!/bin/bash
# Proves the loopback mail stack (start.sh) behaves as the other tests
# assume: real delivery, each special SMTP port's real refusal, IMAP logins,
# certificate failures and every faultd mode. Starts and stops the stack.
here=$(cd "$(dirname "$0")" && pwd -P)
: "${top_srcdir:=$(cd "$here/../.." && pwd -P)}"
# shellcheck source=../lib.sh
. "$here/../lib.sh"

need swaks certtool setpriv "$PY"
start_mailstack
# mktemp_dir runs in $(...) inside start_mailstack, so its own removal is lost.
at_exit "'$here/stop.sh' '$MAILSTACK_DIR'; rm -rf '$MAILSTACK_DIR' '$MAILSTACK_DIR.start.log'"
echo "ok - start.sh: stack up on 127.0.0.1:$MAILSTACK_BASE"

# wait_until SECONDS CMD...: poll CMD until it succeeds.
wait_until() {
	n=$(($1 * 20)); shift
	while ! "$@"; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.05
	done
}
has_token() { grep -rqs "$1" "$2/new" "$2/cur"; }

# 1. Real delivery: STARTTLS + AUTH on B+0, implicit TLS on B+1.
token=selftest-$$-$(date +%s)
swaks -4 --server 127.0.0.1 --port "$MAILSTACK_SMTP_STARTTLS_PORT" --tls \
	--tls-verify --tls-ca-path "$MAILSTACK_CA_FILE" \
	--auth PLAIN --auth-user "$MAILSTACK_ALICE_USER" \
	--auth-password "$MAILSTACK_ALICE_PASS" \
	--from "$MAILSTACK_ALICE_USER" --to "$MAILSTACK_ALICE_USER" \
	--h-Subject "$token" --body "$token" >"$MAILSTACK_DIR/swaks1.out" 2>&1 ||
	{ cat "$MAILSTACK_DIR/swaks1.out"; fail "swaks via STARTTLS port"; }
wait_until 10 has_token "$token" "$MAILSTACK_ALICE_MAILDIR" ||
	fail "message did not reach alice's maildir"
swaks -4 --server 127.0.0.1 --port "$MAILSTACK_SMTP_IMPLICIT_PORT" --tlsc \
	--tls-verify --tls-ca-path "$MAILSTACK_CA_FILE" \
	--auth LOGIN --auth-user "$MAILSTACK_BOB_USER" \
	--auth-password "$MAILSTACK_BOB_PASS" \
	--from "$MAILSTACK_BOB_USER" --to "$MAILSTACK_BOB_USER" \
	--h-Subject "$token-b" --body "$token-b" >"$MAILSTACK_DIR/swaks2.out" 2>&1 ||
	{ cat "$MAILSTACK_DIR/swaks2.out"; fail "swaks via implicit TLS port"; }
wait_until 10 has_token "$token-b" "$MAILSTACK_BOB_MAILDIR" ||
	fail "message did not reach bob's maildir"
echo "ok - delivery through STARTTLS (B+0) and implicit TLS (B+1)"

# 2. Everything else, one protocol exchange at a time.
TOKEN=$token "$PY" - <<'EOF' || fail "protocol checks failed"
import base64, imaplib, os, socket, smtplib, ssl, sys

E = os.environ
H = "127.0.0.1"
P = lambda name: int(E["MAILSTACK_" + name])
CA = E["MAILSTACK_CA_FILE"]
ALICE, APW = E["MAILSTACK_ALICE_USER"], E["MAILSTACK_ALICE_PASS"]
failed = []

def check(what, cond, detail=""):
    print(("ok - " if cond else "not ok - ") + what + ("" if cond else ": %r" % (detail,)))
    if not cond:
        failed.append(what)

def ctx():
    return ssl.create_default_context(cafile=CA)

def smtp(port):
    s = smtplib.SMTP(H, port, timeout=10)
    s.ehlo("selftest.example")
    return s

def smtp_tls(port, login=None):
    s = smtp(port)
    s.starttls(context=ctx())
    s.ehlo("selftest.example")
    if login:
        s.login(*login)
    return s

# Certificates: valid verifies for every name in its SAN; the others fail
# verification with the reason their name promises.
for name in ("localhost", "mail.test", "127.0.0.1"):
    try:
        smtp_tls(P("SMTP_STARTTLS_PORT")).quit()
        with socket.create_connection((H, P("SMTP_IMPLICIT_PORT")), 10) as raw:
            with ctx().wrap_socket(raw, server_hostname=name) as t:
                ok = t.recv(100).startswith(b"220 ")
        check("valid cert verifies as %s" % name, ok)
    except Exception as e:
        check("valid cert verifies as %s" % name, False, e)

for port, want in (("SMTP_EXPIRED_PORT", "certificate has expired"),
                   ("SMTP_WRONGHOST_PORT", "mismatch"),
                   ("SMTP_SELFSIGNED_PORT", "self-signed certificate"),
                   ("SMTP_NOTYET_PORT", "certificate is not yet valid")):
    s = smtp(P(port))
    try:
        c = ctx()
        s.starttls(context=c)
        check("%s rejected" % port, False, "verified")
    except ssl.SSLCertVerificationError as e:
        check("%s fails: %s" % (port, want), want in str(e), e)
    finally:
        s.close()

# B+5: second MAIL in a session gets 450, second connection 421.
s = smtp_tls(P("SMTP_RATELIMIT_PORT"), (ALICE, APW))
r1 = s.docmd("MAIL FROM:<%s>" % ALICE); s.docmd("RSET")
r2 = s.docmd("MAIL FROM:<%s>" % ALICE); s.quit()
check("ratelimit: first MAIL accepted", r1[0] == 250, r1)
check("ratelimit: 450 4.7.1 on second MAIL",
      r2 == (450, b"4.7.1 Error: too much mail from 127.0.0.1"), r2)
try:
    smtp(P("SMTP_RATELIMIT_PORT")).quit()
    check("ratelimit: 421 on second connection", False, "accepted")
except smtplib.SMTPConnectError as e:
    check("ratelimit: 421 4.7.0 on second connection",
          e.smtp_code == 421 and b"4.7.0" in e.smtp_error
          and b"too many connections" in e.smtp_error, e)

# B+6: alice may not send as bob.
s = smtp_tls(P("SMTP_MISMATCH_PORT"), (ALICE, APW))
r = s.docmd("MAIL FROM:<bob@mail.test>"); s.docmd("RSET")
r_own = s.docmd("MAIL FROM:<%s>" % ALICE); s.quit()
check("mismatch: 553 5.7.1 not owned", r == (553,
      b"5.7.1 <bob@mail.test>: Sender address rejected: not owned by user alice@mail.test"), r)
check("mismatch: own address accepted", r_own[0] == 250, r_own)

# B+7: the quota text for quota@mail.test.
s = smtp_tls(P("SMTP_QUOTA_PORT"),
             (E["MAILSTACK_QUOTA_USER"], E["MAILSTACK_QUOTA_PASS"]))
r = s.docmd("MAIL FROM:<quota@mail.test>"); s.quit()
check("quota: 550 5.4.5 Daily user sending limit exceeded", r[0] == 550 and
      r[1].startswith(b"5.4.5 ") and r[1].endswith(b"Daily user sending limit exceeded"), r)

# B+8: no STARTTLS, AUTH in clear works.
s = smtp(P("SMTP_PLAIN_PORT"))
check("plain: no STARTTLS, AUTH offered",
      not s.has_extn("starttls") and "PLAIN" in s.esmtp_features.get("auth", ""),
      s.esmtp_features)
check("plain: login in clear", s.login(ALICE, APW)[0] == 235)
s.quit()

# B+9: encryption required.
s = smtp(P("SMTP_ENCRYPT_PORT"))
r = s.docmd("MAIL FROM:<%s>" % ALICE); s.close()
check("encrypt: 530 5.7.0 before STARTTLS",
      r == (530, b"5.7.0 Must issue a STARTTLS command first"), r)

# B+10: no AUTH even after STARTTLS.
s = smtp_tls(P("SMTP_NOAUTH_PORT"))
adv = s.has_extn("auth")
r = s.docmd("AUTH PLAIN " + base64.b64encode(b"\0x\0y").decode()); s.close()
check("noauth: AUTH not advertised, 503 5.5.1", not adv and
      r == (503, b"5.5.1 Error: authentication not enabled"), r)

# B+0: wrong password, unknown recipient.
s = smtp_tls(P("SMTP_STARTTLS_PORT"))
try:
    s.login(ALICE, "wrong-password")
    check("bad password refused", False, "accepted")
except smtplib.SMTPAuthenticationError as e:
    check("bad password refused (535)", e.smtp_code == 535, e)
s.docmd("MAIL FROM:<>")
r = s.docmd("RCPT TO:<nobody@mail.test>"); s.close()
check("unknown recipient 550 5.1.1", r[0] == 550 and r[1].startswith(b"5.1.1"), r)

# IMAP: STARTTLS on B+11, implicit TLS on B+12, the delivered message is there.
try:
    m = imaplib.IMAP4(H, P("IMAP_PORT"), timeout=10)
    m.starttls(ssl_context=ctx())
    m.login(ALICE, APW)
    m.select("INBOX", readonly=True)
    typ, data = m.search(None, "SUBJECT", E["TOKEN"])
    check("imap starttls login + message found", typ == "OK" and data[0].split(), data)
    m.logout()
except Exception as e:
    check("imap starttls login", False, e)
try:
    m = imaplib.IMAP4_SSL(H, P("IMAPS_PORT"), ssl_context=ctx(), timeout=10)
    m.login(E["MAILSTACK_BOB_USER"], E["MAILSTACK_BOB_PASS"])
    m.logout()
    check("imaps login", True)
    m = imaplib.IMAP4_SSL(H, P("IMAPS_PORT"), ssl_context=ctx(), timeout=10)
    try:
        m.login(ALICE, "wrong-password")
        check("imaps bad password refused", False, "accepted")
    except imaplib.IMAP4.error as e:
        check("imaps bad password refused", "AUTHENTICATIONFAILED" in str(e), e)
    m.logout()
except Exception as e:
    check("imaps login", False, e)
try:
    imaplib.IMAP4_SSL(H, P("IMAPS_SELFSIGNED_PORT"), ssl_context=ctx(), timeout=10)
    check("imaps self-signed rejected", False, "verified")
except ssl.SSLCertVerificationError as e:
    check("imaps self-signed fails verification", "self-signed" in str(e), e)
c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL(H, P("IMAPS_SELFSIGNED_PORT"), ssl_context=c, timeout=10)
check("imaps self-signed login without verification", m.login(ALICE, APW)[0] == "OK")
m.logout()

# faultd modes.
def conn(mode):
    s = socket.create_connection((H, P("FAULT_%s_PORT" % mode.upper())), 5)
    return s, s.makefile("rb")

def reply(f):
    lines = []
    while True:
        l = f.readline()
        if not l:
            return lines or None
        lines.append(l.rstrip(b"\r\n").decode("latin-1"))
        if len(l) < 4 or l[3:4] != b"-":
            return lines

def silent(s, f, secs=1.0):
    s.settimeout(secs)
    try:
        return f.readline() == b"" and "eof"
    except socket.timeout:
        return True

s, f = conn("nogreet")
check("fault nogreet: says nothing", silent(s, f) is True); s.close()

s, f = conn("hang")
g = reply(f); s.sendall(b"EHLO x\r\n")
check("fault hang: greets then never answers",
      g and g[0].startswith("220 ") and silent(s, f) is True, g); s.close()

s, f = conn("garbage")
s.settimeout(5); first = s.recv(64)
check("fault garbage: non-SMTP bytes", first and not first.startswith(b"220"), first); s.close()

s, f = conn("drop")
reply(f); s.sendall(b"EHLO x\r\n"); e = reply(f)
cred = base64.b64encode(b"\0" + ALICE.encode() + b"\0" + APW.encode())
s.sendall(b"AUTH PLAIN " + cred + b"\r\n")
s.settimeout(5)
check("fault drop: offers AUTH, closes on AUTH",
      "250 AUTH PLAIN LOGIN" in " ".join(e).replace("250-", "250 ") and f.readline() == b"", e)
s.close()

for mode, code in (("greet421", "421 4.3.2 Service not available"),
                   ("greet554", "554 5.7.1 No SMTP service here")):
    s, f = conn(mode); g = reply(f)
    check("fault %s: %s" % (mode, code), g and g[0].startswith(code), g)
    if mode == "greet421":
        check("fault greet421 closes", f.readline() == b"")
    else:
        s.sendall(b"EHLO x\r\n"); r = reply(f)
        s.sendall(b"QUIT\r\n"); q = reply(f)
        check("fault greet554: 503 then 221", r and r[0].startswith("503") and
              q and q[0].startswith("221"), (r, q))
    s.close()

s, f = conn("authunsup")
reply(f); s.sendall(b"EHLO x\r\n"); e = " ".join(reply(f))
check("fault authunsup: neither AUTH nor STARTTLS",
      "AUTH" not in e and "STARTTLS" not in e and e.startswith("250"), e); s.close()

for mode, want in (("rl421", "421 4.7.0 Too many connections"),
                   ("rl450", "450 4.7.1 Error: too much mail from 127.0.0.1"),
                   ("rl451", "451 4.7.1 Please try again later"),
                   ("rl452", "452 4.5.3 Too many recipients"),
                   ("rl550", "550 5.4.5 Daily user sending limit exceeded"),
                   ("rl554", "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException")):
    s, f = conn(mode)
    reply(f); s.sendall(b"EHLO x\r\n"); reply(f)
    s.sendall(b"AUTH LOGIN\r\n"); a = reply(f)
    s.sendall(base64.b64encode(ALICE.encode()) + b"\r\n"); reply(f)
    s.sendall(base64.b64encode(APW.encode()) + b"\r\n"); a = reply(f)
    s.sendall(b"MAIL FROM:<%s>\r\n" % ALICE.encode()); r = reply(f)
    if mode == "rl452":
        check("fault rl452: MAIL accepted", r and r[0].startswith("250"), r)
        s.sendall(b"RCPT TO:<x@example.com>\r\n"); r = reply(f)
    check("fault %s: %s" % (mode, want), a and a[0].startswith("235") and r == [want], (a, r))
    if mode == "rl421":
        check("fault rl421 closes", f.readline() == b"")
    s.close()

with open(E["MAILSTACK_FAULTD_LOG"]) as log:
    text = log.read()
check("faultd log has the AUTH PLAIN line as sent", "C: AUTH PLAIN " + cred.decode() in text)

sys.exit(1 if failed else 0)
EOF

# 3. Stop leaves nothing behind and frees the ports.
"$here/stop.sh" "$MAILSTACK_DIR" || fail "stop.sh failed"
for pid in $MAILSTACK_POSTFIX_PID $MAILSTACK_DOVECOT_PID $MAILSTACK_DOVECOT_SS_PID $MAILSTACK_FAULTD_PID; do
	# Zombies do not count: an unreaped exit status is not a running process.
	left=$(ps -eo pid=,sid=,stat= | awk -v p="$pid" '($1 == p || $2 == p) && $3 !~ /^Z/' | wc -l)
	[ "$left" -eq 0 ] || fail "$left processes of session $pid survived stop.sh"
done
"$PY" -c "
import socket, sys
for p in (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])):
    try:
        socket.create_connection(('127.0.0.1', p), 1).close(); sys.exit('port %d still open' % p)
    except ConnectionRefusedError:
        pass
" "$MAILSTACK_SMTP_STARTTLS_PORT" "$MAILSTACK_IMAPS_PORT" "$MAILSTACK_FAULT_HANG_PORT" ||
	fail "ports still open after stop.sh"
echo "ok - stop.sh left no process and no listener"
exit 0
