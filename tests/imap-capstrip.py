#!/usr/bin/python3
"""A TLS relay in front of an IMAPS server that hides one SASL mechanism,
so that a test sees a server offering the others only (the mail stack's
OAuth Dovecot offers both XOAUTH2 and OAUTHBEARER).

  imap-capstrip.py --cert PEM --key PEM --to PORT --hide MECH --dir DIR

Listens on 127.0.0.1 (the port written to DIR/port); each connection is
relayed to 127.0.0.1:PORT over TLS, with " AUTH=MECH" removed from every
line the server sends.
"""
import argparse
import os
import re
import select
import socket
import ssl
import threading

ap = argparse.ArgumentParser()
ap.add_argument("--cert", required=True)
ap.add_argument("--key", required=True)
ap.add_argument("--to", type=int, required=True)
ap.add_argument("--hide", required=True)
ap.add_argument("--dir", required=True)
args = ap.parse_args()
hide = re.compile(rb" AUTH=" + re.escape(args.hide.encode()) + rb"(?= |\]|\r)", re.I)

sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
sctx.load_cert_chain(args.cert, args.key)
cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
cctx.check_hostname = False
cctx.verify_mode = ssl.CERT_NONE


def send_all(s, data):
    """All of data on the non-blocking TLS socket s."""
    while data:
        try:
            data = data[s.send(data):]
        except ssl.SSLWantWriteError:
            select.select([], [s], [], 10)
        except ssl.SSLWantReadError:
            select.select([s], [], [], 10)


def serve(raw):
    """One connection, both ways, on one thread: an SSL object must not be
    read and written by two threads at once (a TLS 1.3 session ticket read
    while a reply is written corrupts it now and then)."""
    try:
        raw.settimeout(60)
        cli = sctx.wrap_socket(raw, server_side=True)
        srv = cctx.wrap_socket(socket.create_connection(("127.0.0.1", args.to), 10))
    except (OSError, ssl.SSLError):
        raw.close()
        return
    cli.setblocking(False)
    srv.setblocking(False)
    held = b""      # the server's bytes after its last whole line
    try:
        while True:
            ready = [s for s in (cli, srv) if s.pending()]
            if not ready:
                ready = select.select([cli, srv], [], [], 60)[0]
                if not ready:
                    break
            for s in ready:
                try:
                    b = s.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    continue
                if not b:
                    raise EOFError
                if s is cli:
                    send_all(srv, b)
                    continue
                held += b
                *lines, held = held.split(b"\n")
                for line in lines:
                    send_all(cli, hide.sub(b"", line + b"\n"))
    except (OSError, EOFError):
        pass
    for s in (cli, srv):
        try:
            s.close()
        except OSError:
            pass


ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(16)
with open(os.path.join(args.dir, "port.tmp"), "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
os.rename(os.path.join(args.dir, "port.tmp"), os.path.join(args.dir, "port"))
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
