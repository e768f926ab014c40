#!/usr/bin/python3
"""Hostile SMTP and IMAP servers for tests/probe-hostile.sh.

Usage: probe-hostile-server.py DIR MODE...
Listens on 127.0.0.1, one free port per MODE (written to DIR/MODE.port once
listening), and serves every connection with its MODE until killed.
Standard library only.

Modes:
  smtp-flood-noline   "220-" then bytes without end, never a line feed
  smtp-flood-lines    "220-..." continuation lines without end, fast
  smtp-trickle        "220-" then one byte every 0.3 s, never a line feed
  smtp-ehlo-10k       greets, answers EHLO with 10,000 continuation lines,
                      NUL bytes and lines without CRLF, then a normal
                      ESMTP dialogue without AUTH
  imap-literal-4g     greets, then answers CAPABILITY with a FETCH literal
                      of 4,294,967,295 bytes and sends its bytes slowly
  imap-literal-inner  greets, answers CAPABILITY with a FETCH whose literal
                      holds lines ending in "{99999999}" (data, not an
                      announcement), then refuses LOGIN
  imap-flood-untagged greets, then answers CAPABILITY with untagged
                      responses without end, fast
  smtp-rst-after-mail ESMTP with AUTH PLAIN (any password), answers MAIL
                      with 250 and resets the connection (RST) at once
  smtps-bigcert       implicit TLS with DIR/big.crt and DIR/big.key (a
                      certificate with a subject of 100 KB), then "220"
"""
import os
import socket
import struct
import socketserver
import ssl
import sys
import threading
import time

DIR = sys.argv[1]
MODES = sys.argv[2:]


class Handler(socketserver.BaseRequestHandler):
    mode = None

    def send(self, data):
        self.request.sendall(data)

    def line(self):
        buf = b""
        while not buf.endswith(b"\n"):
            c = self.request.recv(1)
            if not c:
                return None
            buf += c
            if len(buf) > 4096:
                return None
        return buf.rstrip(b"\r\n").decode("latin-1")

    def handle(self):
        try:
            getattr(self, "mode_" + self.mode.replace("-", "_"))()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def mode_smtp_flood_noline(self):
        self.send(b"220-")
        chunk = b"x" * 65536
        while True:
            self.send(chunk)

    def mode_smtp_flood_lines(self):
        chunk = b"220-hostile.test a continuation line that never ends\r\n" * 1024
        while True:
            self.send(chunk)

    def mode_smtp_trickle(self):
        self.send(b"220-")
        while True:
            self.send(b"x")
            time.sleep(0.3)

    def mode_smtp_ehlo_10k(self):
        self.send(b"220 hostile.test ESMTP\r\n")
        while True:
            cmd = self.line()
            if cmd is None:
                return
            verb = cmd.split(" ")[0].upper()
            if verb == "EHLO":
                out = [b"250-hostile.test"]
                for i in range(10000):
                    if i % 1000 == 1:
                        out.append(b"250-X-NUL\x00HIDDEN")
                    elif i % 1000 == 2:
                        out.append(b"250-X-BARE-LF-ONLY")
                    else:
                        out.append(b"250-X-FILLER-%d" % i)
                # bare \n after the LF-only line: not CRLF
                data = b""
                for o in out:
                    data += o + (b"\n" if o.endswith(b"ONLY") else b"\r\n")
                self.send(data + b"250 8BITMIME\r\n")
            elif verb == "AUTH":
                self.send(b"503 5.5.1 no AUTH here\r\n")
            elif verb == "QUIT":
                self.send(b"221 bye\r\n")
                return
            else:
                self.send(b"250 ok\r\n")

    def mode_imap_literal_4g(self):
        self.send(b"* OK [CAPABILITY IMAP4rev1] hostile.test ready\r\n")
        cmd = self.line()
        if cmd is None:
            return
        self.send(b"* 1 FETCH (BODY[] {4294967295}\r\n")
        while True:
            self.send(b"y" * 1024)
            time.sleep(0.1)

    def mode_imap_literal_inner(self):
        self.send(b"* OK [CAPABILITY IMAP4rev1] hostile.test ready\r\n")
        body = b"Subject: a line {99999999}\r\nX-Also: {4294967295}\r\n"
        while True:
            cmd = self.line()
            if cmd is None:
                return
            tag, _, verb = cmd.partition(" ")
            verb = verb.split(" ")[0].upper()
            if verb == "CAPABILITY":
                self.send(b"* 1 FETCH (BODY[] {%d}\r\n" % len(body) + body + b")\r\n"
                          b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" +
                          tag.encode() + b" OK done\r\n")
            elif verb == "LOGOUT":
                self.send(b"* BYE\r\n" + tag.encode() + b" OK bye\r\n")
                return
            else:
                self.send(tag.encode() + b" NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")

    def mode_imap_flood_untagged(self):
        self.send(b"* OK [CAPABILITY IMAP4rev1] hostile.test ready\r\n")
        cmd = self.line()
        if cmd is None:
            return
        chunk = b"* OK still thinking about it\r\n" * 2048
        while True:
            self.send(chunk)

    def mode_smtp_rst_after_mail(self):
        self.send(b"220 hostile.test ESMTP\r\n")
        while True:
            cmd = self.line()
            if cmd is None:
                return
            verb = cmd.split(" ")[0].upper()
            if verb == "EHLO":
                self.send(b"250-hostile.test\r\n250 AUTH PLAIN\r\n")
            elif verb == "AUTH":
                self.send(b"235 2.7.0 Authentication successful\r\n")
            elif verb == "MAIL":
                self.send(b"250 2.1.0 Ok\r\n")
                self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        struct.pack("ii", 1, 0))
                self.request.close()
                return
            else:
                self.send(b"250 ok\r\n")

    def mode_smtps_bigcert(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(DIR, "big.crt"),
                            os.path.join(DIR, "big.key"))
        try:
            self.request = ctx.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        self.send(b"220 hostile.test ESMTP\r\n")
        while True:
            cmd = self.line()
            if cmd is None or cmd.upper() == "QUIT":
                return
            self.send(b"250 ok\r\n")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


servers = []
for mode in MODES:
    handler = type("Handler_" + mode.replace("-", "_"), (Handler,),
                   {"mode": mode})
    srv = Server(("127.0.0.1", 0), handler)
    servers.append(srv)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = os.path.join(DIR, mode + ".port")
    with open(port + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(port + ".tmp", port)
while True:
    time.sleep(3600)
