#!/usr/bin/python3
"""An implicit-TLS SMTP server on loopback that speaks one TLS version only.

Usage: oldtls-server.py PORTFILE LOGFILE CERT KEY VERSION
VERSION is 1.0, 1.1 or 1.2. Writes its port to PORTFILE and appends to
LOGFILE every line received after the handshake, plus "HANDSHAKE-OK v" or
"HANDSHAKE-FAIL reason" per connection. Any AUTH succeeds, so a client that
sends its password is seen doing so.
"""
import os
import socket
import ssl
import sys
import threading

PORTFILE, LOGFILE, CERT, KEY, VERSION = sys.argv[1:6]
VERS = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1,
        "1.2": ssl.TLSVersion.TLSv1_2}[VERSION]
LOCK = threading.Lock()


def log(data):
    with LOCK, open(LOGFILE, "ab") as f:
        f.write(data)


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
# OpenSSL 3 refuses TLS 1.0/1.1 above security level 0.
ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
ctx.minimum_version = VERS
ctx.maximum_version = VERS
ctx.load_cert_chain(CERT, KEY)


def serve(conn):
    try:
        conn.settimeout(20)
        try:
            s = ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log(b"HANDSHAKE-FAIL %s\n" % str(e).encode())
            return
        log(b"HANDSHAKE-OK %s\n" % s.version().encode())
        f = s.makefile("rwb")

        def out(line):
            f.write(line.encode() + b"\r\n")
            f.flush()

        out("220 oldtls.test ESMTP")
        while True:
            line = f.readline(65536)
            if not line:
                return
            log(line)
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO"):
                out("250-oldtls.test")
                out("250 AUTH PLAIN LOGIN")
            elif cmd.startswith(b"AUTH PLAIN"):
                if cmd == b"AUTH PLAIN":
                    out("334 ")
                    log(f.readline(65536))
                out("235 2.7.0 Authentication successful")
            elif cmd.startswith(b"AUTH LOGIN"):
                out("334 VXNlcm5hbWU6")
                log(f.readline(65536))
                out("334 UGFzc3dvcmQ6")
                log(f.readline(65536))
                out("235 2.7.0 Authentication successful")
            elif cmd == b"QUIT":
                out("221 bye")
                return
            else:
                out("250 ok")
    except OSError:
        pass
    finally:
        conn.close()


srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
with open(PORTFILE + ".tmp", "w") as pf:
    pf.write("%d\n" % srv.getsockname()[1])

os.rename(PORTFILE + ".tmp", PORTFILE)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
