#!/usr/bin/python3
"""A minimal ESMTP server offering only AUTH LOGIN, for the secrets test.

Usage: probe-login-server.py PORTFILE LOGFILE EXPECTED_USER EXPECTED_PASS
Listens on 127.0.0.1 (a free port, written to PORTFILE), serves connections
until killed, and appends what arrived on the wire to LOGFILE.
"""
import base64
import socketserver
import sys

PORTFILE, LOGFILE, USER, PASS = sys.argv[1:5]


class Handler(socketserver.StreamRequestHandler):
    def out(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def line(self):
        data = self.rfile.readline(4096)
        with open(LOGFILE, "ab") as f:
            f.write(b"C: " + data)
        return data.rstrip(b"\r\n").decode("latin-1") if data else None

    def handle(self):
        self.out("220 login-only.test ESMTP")
        while True:
            cmd = self.line()
            if cmd is None:
                return
            verb = cmd.split(" ")[0].upper()
            if verb == "EHLO":
                self.out("250-login-only.test")
                self.out("250-AUTH LOGIN")
                self.out("250 8BITMIME")
            elif verb == "AUTH" and cmd.upper() == "AUTH LOGIN":
                self.out("334 VXNlcm5hbWU6")
                u = self.line()
                self.out("334 UGFzc3dvcmQ6")
                p = self.line()
                if u is None or p is None:
                    return
                ok = (base64.b64decode(u) == USER.encode()
                      and base64.b64decode(p) == PASS.encode())
                self.out("235 2.7.0 Authentication successful" if ok
                         else "535 5.7.8 Error: authentication failed")
            elif verb == "AUTH":
                self.out("504 5.5.4 Unsupported authentication mechanism")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.out("250 2.0.0 Ok")
            elif verb == "DATA":
                self.out("354 End data with <CR><LF>.<CR><LF>")
                while True:
                    d = self.rfile.readline(65536)
                    if not d or d in (b".\r\n", b".\n"):
                        break
                self.out("250 2.0.0 Ok: queued")
            elif verb == "QUIT":
                self.out("221 2.0.0 Bye")
                return
            else:
                self.out("502 5.5.2 Error: command not recognized")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


with Server(("127.0.0.1", 0), Handler) as srv:
    with open(PORTFILE + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(PORTFILE + ".tmp", PORTFILE)
    srv.serve_forever()
