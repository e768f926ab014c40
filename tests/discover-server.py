#!/usr/bin/python3
"""DNS and autoconfig servers for tests/discover.sh, run inside the test's
own network namespace (so 127.0.0.1:53, :80 and :443 are its own).

  discover-server.py CERT KEY READY_FILE

DNS on 127.0.0.1:53 (UDP and TCP) answers from ZONE below; names under
silent.test are never answered, under garbage.test get a malformed answer,
under chain.test a long CNAME chain, under trunc.test a truncated UDP
answer whose TCP retry is malformed too. HTTPS on 443 and HTTP on 80 serve
the autoconfig documents by Host header, well and badly (see do_GET).
Standard library only; loopback only.
"""
import os
import socket
import ssl
import struct
import sys
import threading
import time
import http.server
import socketserver

L = "127.0.0.1"
ZONE = {
    # address domain -> MX hosts
    ("mx", "monentreprise.test"): ["mx1.mail.ovh.net", "mx2.mail.ovh.net"],
    ("mx", "stale.test"): ["mx1.mail.ovh.net"],
    ("mx", "viaispdb.test"): ["mx.a1.net"],
    ("mx", "isp.test"): ["mx.isp.test"],
    ("mx", "nullmx.test"): ["."],               # RFC 7505: takes no mail
    ("srv", "_submission._tcp.srvonly.test"): [(0, 1, 587, "mail.srvonly.test")],
    ("srv", "_imaps._tcp.srvonly.test"): [(0, 1, 993, "imap.srvonly.test")],
    ("srv", "_submissions._tcp.srvonly.test"): [(0, 0, 0, ".")],
    # rank.test: its autoconfig names out.rank.test, whose certificate is
    # for other hosts; its SRV names smtp.rank.test, which passes.
    ("mx", "rank.test"): ["mx.rank.test"],
    ("srv", "_submission._tcp.rank.test"): [(0, 1, 2587, "smtp.rank.test")],
}
# Hosts with an A record (the HTTPS server for each).
# Guessing: these answer SMTP (see smtp_dialogue); mail.wrongcert.test is on
# 127.0.0.2 with a certificate that does not name it.
ADDR = {"mail.wrongcert.test": "127.0.0.2", "out.rank.test": "127.0.0.3"}
HOSTS = ["smtp.guess.test", "smtp.wrongcert.test", "mail.wrongcert.test",
         "smtp.imapguess.test", "imap.imapguess.test", "autoconfig.rank.test",
         "out.rank.test", "smtp.rank.test",
         "smtp.noauth.test", "autoconfig.isp.test", "autoconfig.stale.test", "wk.test",
         "autoconfig.trickle.test", "autoconfig.big.test",
         "autoconfig.bomb.test", "autoconfig.badxml.test",
         "autoconfig.loop.test", "autoconfig.wronghost.test",
         "autoconfig.plain.test", "autoconfig.doctype.test"]

CONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="%(d)s">
    <domain>%(d)s</domain>
    <displayName>Test ISP</displayName>
    <incomingServer type="imap">
      <hostname>imap.%(d)s</hostname><port>993</port>
      <socketType>SSL</socketType><username>%%EMAILLOCALPART%%</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>%(h)s</hostname><port>465</port>
      <socketType>SSL</socketType><username>%%EMAILADDRESS%%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"""
BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<clientConfig version="1.1"><emailProvider id="x"><displayName>&lol4;</displayName>
<outgoingServer type="smtp"><hostname>smtp.bomb.test</hostname><port>465</port>
<socketType>SSL</socketType></outgoingServer></emailProvider></clientConfig>
"""


def name_at(msg, i, depth=0):
    labels = []
    while True:
        n = msg[i]
        if n & 0xC0 == 0xC0:
            p = struct.unpack("!H", msg[i:i + 2])[0] & 0x3FFF
            return labels + name_at(msg, p, depth + 1)[0], i + 2
        if n == 0:
            return labels, i + 1
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n


def enc(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rr(owner, rtype, rdata):
    return owner + struct.pack("!HHIH", rtype, 1, 60, len(rdata)) + rdata


def answer(msg, tcp):
    if len(msg) < 17:
        return None
    labels, end = name_at(msg, 12)
    qname = ".".join(labels).lower()
    qtype = struct.unpack("!H", msg[end:end + 2])[0]
    end += 4
    qid, flags = struct.unpack("!HH", msg[:4])
    if qname.endswith("silent.test"):
        return None
    if qname.endswith("garbage.test"):
        return struct.pack("!HHHHHH", qid, 0x8180, 1, 3, 0, 0) + msg[12:end] + b"\xc0\x0c\x00"
    rcode, rrs, n, tc = 3, b"", 0, 0
    ptr = b"\xc0\x0c"
    if qname.endswith("chain.test"):
        # chain.test -> c1.chain.test -> ... -> c30.chain.test
        prev = ptr
        for k in range(1, 31):
            target = enc("c%d.chain.test" % k)
            rrs += rr(prev, 5, target)
            prev = target
            n += 1
        rrs += rr(prev, qtype if qtype in (1,) else 1, socket.inet_aton(L))
        n += 1
        rcode = 0
    elif qname.endswith("trunc.test"):
        if not tcp:
            tc, rcode = 0x0200, 0
        else:
            return struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + msg[12:end] + b"\xc0\x0c\x00\x0f\x00\x01"
    elif qtype == 15 and ("mx", qname) in ZONE:
        for pref, host in enumerate(ZONE[("mx", qname)]):
            rrs += rr(ptr, 15, struct.pack("!H", 10 + pref) + enc(host))
            n += 1
        rcode = 0
    elif qtype == 33 and ("srv", qname) in ZONE:
        for prio, weight, port, host in ZONE[("srv", qname)]:
            rrs += rr(ptr, 33, struct.pack("!HHH", prio, weight, port) + enc(host))
            n += 1
        rcode = 0
    elif qtype == 1 and qname in HOSTS:
        rrs, n, rcode = rr(ptr, 1, socket.inet_aton(ADDR.get(qname, L))), 1, 0
    elif any(qname == k[1] or qname.endswith("." + k[1]) for k in ZONE) or qname in HOSTS:
        rcode = 0                               # exists, no such record
    hdr = struct.pack("!HHHHHH", qid, 0x8400 | (flags & 0x0100) | 0x0080 | tc | rcode,
                      1, n, 0, 0)
    return hdr + msg[12:end] + rrs


def dns_udp(sock):
    while True:
        msg, peer = sock.recvfrom(4096)
        try:
            out = answer(msg, False)
        except Exception:
            out = None
        if out:
            sock.sendto(out, peer)


def dns_tcp_conn(c):
    buf = b""
    with c:
        while True:
            data = c.recv(4096)
            if not data:
                return
            buf += data
            while len(buf) >= 2:
                n = struct.unpack("!H", buf[:2])[0]
                if len(buf) < 2 + n:
                    break
                msg, buf = buf[2:2 + n], buf[2 + n:]
                out = answer(msg, True)
                if out:
                    c.sendall(struct.pack("!H", len(out)) + out)


def dns_tcp(sock):
    while True:
        c, _ = sock.accept()
        threading.Thread(target=dns_tcp_conn, args=(c,), daemon=True).start()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self, code, data, extra=()):
        self.send_response(code)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        path = self.path
        d = host[len("autoconfig."):] if host.startswith("autoconfig.") else host
        if host == "autoconfig.isp.test" and path == "/mail/config-v1.1.xml":
            self.body(200, (CONFIG % {"d": "isp.test", "h": "smtp.isp.test"}).encode())
        elif host == "autoconfig.rank.test":
            self.body(200, (CONFIG % {"d": "rank.test", "h": "out.rank.test"}).encode())
        elif host == "autoconfig.stale.test":
            self.body(200, (CONFIG % {"d": "stale.test", "h": "old-smtp.stale.test"}).encode())
        elif host == "wk.test" and path == "/.well-known/autoconfig/mail/config-v1.1.xml":
            self.body(200, (CONFIG % {"d": "wk.test", "h": "smtp.wk.test"}).encode())
        elif host == "autoconfig.plain.test" and self.server.plain:
            self.body(200, (CONFIG % {"d": "plain.test", "h": "smtp.plain.test"}).encode())
        elif host == "autoconfig.trickle.test":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(1000):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.2)
        elif host == "autoconfig.big.test":
            self.send_response(200)
            self.send_header("Content-Length", str(1 << 30))
            self.end_headers()
            chunk = b"<a>" * 20000
            for _ in range((1 << 30) // len(chunk)):
                self.wfile.write(chunk)
        elif host == "autoconfig.bomb.test":
            self.body(200, BOMB.encode())
        elif host == "autoconfig.doctype.test":
            self.body(200, b'<?xml version="1.0"?><!DOCTYPE clientConfig SYSTEM "file:///etc/passwd"><clientConfig/>')
        elif host == "autoconfig.badxml.test":
            self.body(200, b"<clientConfig><emailProvider><outgoingServer type='smtp'><hostname>x</port>")
        elif host == "autoconfig.loop.test":
            self.body(302, b"", [("Location", "https://autoconfig.loop.test/mail/config-v1.1.xml?again")])
        else:
            self.body(404, b"no")


class Conn:
    """One client connection, implicit TLS or switched to TLS on STARTTLS."""

    def __init__(self, c, ctx, implicit):
        self.c, self.ctx, self.tls = c, ctx, implicit
        if implicit:
            self.c = ctx.wrap_socket(c, server_side=True)
        self.f = self.c.makefile("rwb")

    def send(self, data):
        self.f.write(data)
        self.f.flush()

    def starttls(self):
        self.f.close()
        self.c = self.ctx.wrap_socket(self.c, server_side=True)
        self.f = self.c.makefile("rwb")
        self.tls = True


def serve(c, ctx, implicit, auth, log, dialogue):
    """Runs dialogue on c until either side ends it; closes c in any case."""
    x = None
    try:
        x = Conn(c, ctx, implicit)
        dialogue(x, auth, log)
    except (OSError, ssl.SSLError):
        pass
    finally:
        try:
            (x.c if x else c).close()
        except OSError:
            pass


def smtp_dialogue(x, auth, log):
    """A submission server's dialogue up to the point a client would send
    AUTH: greeting, EHLO, STARTTLS; any AUTH attempt is logged (the test
    asserts there is none) and refused."""
    x.send(b"220 guess.test ESMTP\r\n")
    while True:
        line = x.f.readline(1000)
        if not line:
            return
        cmd = line.strip().upper()
        if cmd.startswith(b"EHLO"):
            caps = [b"guess.test", b"8BITMIME"]
            if not x.tls:
                caps.append(b"STARTTLS")
            elif auth:
                caps.append(b"AUTH PLAIN LOGIN")
            out = b"".join(b"250-" + c + b"\r\n" for c in caps[:-1])
            x.send(out + b"250 " + caps[-1] + b"\r\n")
        elif cmd == b"STARTTLS" and not x.tls:
            x.send(b"220 go ahead\r\n")
            x.starttls()
        elif cmd.startswith(b"AUTH"):
            with open(log, "a") as lf:
                lf.write("AUTH received\n")
            x.send(b"535 no\r\n")
        elif cmd == b"QUIT":
            x.send(b"221 bye\r\n")
            return
        else:
            x.send(b"502 no\r\n")


def imap_dialogue(x, auth, log):
    """An IMAP server's dialogue up to the point a client would log in:
    greeting, CAPABILITY, STARTTLS; LOGIN or AUTHENTICATE is logged (the
    test asserts there is none) and refused."""
    x.send(b"* OK guess.test IMAP ready\r\n")
    while True:
        line = x.f.readline(1000)
        if not line:
            return
        parts = line.strip().split(None, 1)
        tag = parts[0] if parts else b"*"
        cmd = parts[1].upper() if len(parts) > 1 else b""
        if cmd == b"CAPABILITY":
            caps = b"IMAP4rev1 IDLE"
            if not x.tls:
                caps += b" STARTTLS LOGINDISABLED"
            elif auth:
                caps += b" AUTH=PLAIN AUTH=LOGIN"
            else:
                caps += b" LOGINDISABLED"
            x.send(b"* CAPABILITY " + caps + b"\r\n" + tag + b" OK done\r\n")
        elif cmd == b"STARTTLS" and not x.tls:
            x.send(tag + b" OK begin TLS\r\n")
            x.starttls()
        elif cmd.startswith(b"LOGIN") or cmd.startswith(b"AUTHENTICATE"):
            with open(log, "a") as lf:
                lf.write("IMAP credential received\n")
            x.send(tag + b" NO no\r\n")
        elif cmd == b"LOGOUT":
            x.send(b"* BYE\r\n" + tag + b" OK bye\r\n")
            return
        else:
            x.send(tag + b" BAD no\r\n")


def listen(addr, port, ctx, implicit, auth, log, dialogue=smtp_dialogue):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)

    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=serve, args=(c, ctx, implicit, auth, log, dialogue),
                             daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    cert, key, ready = sys.argv[1:4]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((L, 53))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((L, 53))
    tcp.listen(16)
    threading.Thread(target=dns_udp, args=(udp,), daemon=True).start()
    threading.Thread(target=dns_tcp, args=(tcp,), daemon=True).start()
    https = Server((L, 443), Handler)
    https.plain = False
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    https.socket = ctx.wrap_socket(https.socket, server_side=True)
    # Guessing's servers, on the ports the test gives with --guess-ports:
    # 2465 implicit TLS, 2587 STARTTLS; 3587 STARTTLS with no AUTH after
    # TLS (the test's --guess-ports 3465,3587 for noauth.test).
    log = ready + ".auth"
    for addr in (L, "127.0.0.2"):
        listen(addr, 2465, ctx, True, True, log)
        listen(addr, 2587, ctx, False, True, log)
    listen(L, 3587, ctx, False, False, log)
    # The server rank.test's autoconfig names, on the real port.
    listen("127.0.0.3", 465, ctx, True, True, log)
    # IMAP guessing's: 2993 implicit TLS, 2143 STARTTLS (the test's
    # --guess-ports 2465,2587,2993,2143).
    for addr in (L, "127.0.0.2"):
        listen(addr, 2993, ctx, True, True, log, imap_dialogue)
        listen(addr, 2143, ctx, False, True, log, imap_dialogue)
    plain = Server((L, 80), Handler)
    plain.plain = True
    threading.Thread(target=https.serve_forever, daemon=True).start()
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    with open(ready + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(ready + ".tmp", ready)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
