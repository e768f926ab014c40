#!/usr/bin/python3
"""A plain-text SMTP and IMAP server on loopback for the secrets tests.

Usage: security-server.py PORTFILE LOGFILE USER PASS MECHS
MECHS is what EHLO offers after AUTH ("PLAIN LOGIN" or "LOGIN"). IMAP LOGIN
takes atoms, quoted strings (with \\ escapes) and {n} literals, so passwords
with quotes, backslashes or UTF-8 arrive in whichever form the client picks.
Writes "SMTPPORT IMAPPORT" to PORTFILE, appends every byte received to
LOGFILE and a line "AUTH-OK smtp|imap" or "AUTH-BAD ..." per attempt.
With SECSRV_ECHO=1 in the environment, a refusal quotes back what the client
sent (the password, and for SMTP the base64 it came in), as a hostile or
careless server might. SECSRV_PAD=N puts N "x" before the password quoted
back, so that it falls across a cut of the client's buffers.
SECSRV_GREETING_HEX=HEX replaces the text of both greetings by those bytes
(bidi controls, C1 controls, raw 8-bit bytes...).
"""
import base64
import os
import socketserver
import sys
import threading

PORTFILE, LOGFILE, USER, PASS, MECHS = sys.argv[1:6]
ECHO = os.environ.get("SECSRV_ECHO") == "1"
PAD = "x" * int(os.environ.get("SECSRV_PAD", "0"))
GREETING = bytes.fromhex(os.environ.get("SECSRV_GREETING_HEX", ""))
USER_B, PASS_B = USER.encode(), PASS.encode()
LOCK = threading.Lock()


def log(data):
    with LOCK, open(LOGFILE, "ab") as f:
        f.write(data)


class Base(socketserver.StreamRequestHandler):
    def out(self, line):
        self.out_raw(line.encode())

    def out_raw(self, data):
        self.wfile.write(data + b"\r\n")
        self.wfile.flush()

    def raw_line(self):
        data = self.rfile.readline(65536)
        if data:
            log(data)
        return data


class Smtp(Base):
    def check(self, user, pw, sent=b""):
        ok = user == USER_B and pw == PASS_B
        log(b"AUTH-OK smtp\n" if ok else b"AUTH-BAD smtp\n")
        if ok:
            self.out("235 2.7.0 Authentication successful")
        elif ECHO and PAD:
            self.out_raw(b"535 5.7.8 " + PAD.encode() + pw + b" was refused")
        elif ECHO:
            self.out("535 5.7.8 Error: authentication failed: %s (%s)"
                     % (pw.decode(errors="replace"), sent.decode(errors="replace")))
        else:
            self.out("535 5.7.8 Error: authentication failed")

    def line(self):
        d = self.raw_line()
        return d.rstrip(b"\r\n") if d else None

    def handle(self):
        if GREETING:
            self.out_raw(b"220 " + GREETING)
        else:
            self.out("220 secrets.test ESMTP")
        while True:
            cmd = self.line()
            if cmd is None:
                return
            words = cmd.split(b" ")
            verb = words[0].upper()
            if verb in (b"EHLO", b"HELO"):
                self.out("250-secrets.test")
                self.out("250-AUTH " + MECHS)
                self.out("250 8BITMIME")
            elif verb == b"AUTH" and len(words) > 1 and words[1].upper() == b"PLAIN" \
                    and "PLAIN" in MECHS:
                if len(words) > 2:
                    resp = words[2]
                else:
                    self.out("334 ")
                    resp = self.line() or b""
                try:
                    parts = base64.b64decode(resp, validate=True).split(b"\0")
                except ValueError:
                    parts = []
                if len(parts) == 3:
                    self.check(parts[1], parts[2], resp)
                else:
                    self.out("501 5.5.2 Cannot decode response")
            elif verb == b"AUTH" and len(words) > 1 and words[1].upper() == b"LOGIN":
                self.out("334 VXNlcm5hbWU6")
                u = self.line()
                self.out("334 UGFzc3dvcmQ6")
                p = self.line()
                if u is None or p is None:
                    return
                try:
                    self.check(base64.b64decode(u), base64.b64decode(p), p)
                except ValueError:
                    self.out("501 5.5.2 Cannot decode response")
            elif verb == b"AUTH":
                self.out("504 5.5.4 Unsupported authentication mechanism")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.out("250 2.0.0 Ok")
            elif verb == b"DATA":
                self.out("354 End data with <CR><LF>.<CR><LF>")
                while True:
                    d = self.rfile.readline(65536)
                    if not d or d in (b".\r\n", b".\n"):
                        break
                self.out("250 2.0.0 Ok: queued")
            elif verb == b"QUIT":
                self.out("221 2.0.0 Bye")
                return
            else:
                self.out("502 5.5.2 Error: command not recognized")


class Imap(Base):
    def astrings(self, rest):
        """The arguments of a command line; reads literals as they come."""
        args = []
        while True:
            rest = rest.lstrip(b" ")
            if not rest:
                return args
            if rest.startswith(b'"'):
                i, s = 1, bytearray()
                while i < len(rest) and rest[i:i + 1] != b'"':
                    if rest[i:i + 1] == b"\\":
                        i += 1
                    s += rest[i:i + 1]
                    i += 1
                args.append(bytes(s))
                rest = rest[i + 1:]
            elif rest.startswith(b"{") and rest.endswith(b"}"):
                n = int(rest[1:-1].rstrip(b"+"))
                if not rest.endswith(b"+}"):
                    self.out("+ go ahead")
                data = self.rfile.read(n)
                log(data)
                args.append(data)
                nxt = self.raw_line()
                rest = nxt.rstrip(b"\r\n") if nxt else b""
            else:
                w, _, rest = rest.partition(b" ")
                args.append(w)

    def handle(self):
        if GREETING:
            self.out_raw(b"* OK " + GREETING)
        else:
            self.out("* OK [CAPABILITY IMAP4rev1] secrets.test ready")
        while True:
            d = self.raw_line()
            if not d:
                return
            tag, _, rest = d.rstrip(b"\r\n").partition(b" ")
            cmd, _, rest = rest.partition(b" ")
            t, cmd = tag.decode("latin-1"), cmd.upper()
            if cmd == b"CAPABILITY":
                self.out("* CAPABILITY IMAP4rev1")
                self.out(t + " OK CAPABILITY completed")
            elif cmd == b"LOGIN":
                a = self.astrings(rest)
                ok = len(a) == 2 and a[0] == USER_B and a[1] == PASS_B
                log(b"AUTH-OK imap\n" if ok else b"AUTH-BAD imap\n")
                if ok:
                    self.out(t + " OK LOGIN completed")
                elif ECHO and len(a) == 2:
                    self.out_raw(t.encode() + b" NO [AUTHENTICATIONFAILED] "
                                 + (PAD.encode() if PAD else b"wrong password: ")
                                 + a[1])
                else:
                    self.out(t + " NO [AUTHENTICATIONFAILED] Authentication failed.")
            elif cmd in (b"SELECT", b"EXAMINE"):
                self.out("* 1 EXISTS")
                self.out("* 0 RECENT")
                self.out(t + " OK [READ-WRITE] SELECT completed")
            elif cmd == b"SEARCH":
                self.out("* SEARCH 1")
                self.out(t + " OK SEARCH completed")
            elif cmd == b"NOOP":
                self.out(t + " OK NOOP completed")
            elif cmd == b"LOGOUT":
                self.out("* BYE")
                self.out(t + " OK LOGOUT completed")
                return
            else:
                self.out(t + " BAD unknown command")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


smtp = Server(("127.0.0.1", 0), Smtp)
imap = Server(("127.0.0.1", 0), Imap)
threading.Thread(target=imap.serve_forever, daemon=True).start()
with open(PORTFILE + ".tmp", "w") as f:
    f.write("%d %d\n" % (smtp.server_address[1], imap.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
smtp.serve_forever()
