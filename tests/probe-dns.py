#!/usr/bin/python3
"""A tiny DNS server for tests/probe-net.sh, UDP and TCP on 127.0.0.1:53.

  probe-dns.py MODE READY_FILE [NAME=ADDR,ADDR...]...

MODE nxdomain: every query gets NXDOMAIN.
MODE silent:   queries are read and never answered (a dead resolver).
MODE zone:     the NAMEs given get their A records (in that order, no
               AAAA), every other name NXDOMAIN.
READY_FILE is written once both sockets are bound. Exits 3 when port 53 is
taken. Standard library only; loopback only.
"""
import os
import select
import socket
import struct
import sys

ADDR = ("127.0.0.1", 53)


def parse_question(msg):
    """(qname lowercased, qtype, end offset of the question) or None."""
    if len(msg) < 12:
        return None
    i, labels = 12, []
    while True:
        if i >= len(msg):
            return None
        n = msg[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0 or i + 1 + n > len(msg):
            return None
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    if i + 4 > len(msg):
        return None
    qtype = struct.unpack("!H", msg[i:i + 2])[0]
    return ".".join(labels).lower().rstrip("."), qtype, i + 4


def answer(msg, mode, zone):
    q = parse_question(msg)
    if q is None:
        return None
    name, qtype, end = q
    qid, flags = struct.unpack("!HH", msg[:4])
    rd = flags & 0x0100
    addrs = zone.get(name) if mode == "zone" else None
    rcode = 3 if addrs is None else 0          # NXDOMAIN or NOERROR
    rrs = b""
    n = 0
    if addrs is not None and qtype == 1:       # A; AAAA gets no data
        for a in addrs:
            # name pointer to the question, A, IN, TTL 60, 4 bytes
            rrs += struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4)
            rrs += socket.inet_aton(a)
            n += 1
    hdr = struct.pack("!HHHHHH", qid, 0x8400 | rd | 0x0080 | rcode, 1, n,
                      0, 0)
    return hdr + msg[12:end] + rrs


def main():
    mode, ready = sys.argv[1], sys.argv[2]
    if mode not in ("nxdomain", "silent", "zone"):
        sys.exit("probe-dns.py: unknown mode " + mode)
    zone = {}
    for arg in sys.argv[3:]:
        name, _, addrs = arg.partition("=")
        zone[name.lower().rstrip(".")] = addrs.split(",")
    try:
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(ADDR)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind(ADDR)
        tcp.listen(16)
    except OSError as e:
        sys.stderr.write("probe-dns.py: cannot bind 127.0.0.1:53: %s\n" % e)
        sys.exit(3)
    with open(ready + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(ready + ".tmp", ready)
    conns = {}                                 # socket -> bytes buffered
    while True:
        r, _, _ = select.select([udp, tcp] + list(conns), [], [])
        for s in r:
            if s is udp:
                msg, peer = udp.recvfrom(4096)
                if mode != "silent":
                    out = answer(msg, mode, zone)
                    if out:
                        udp.sendto(out, peer)
            elif s is tcp:
                c, _ = tcp.accept()
                conns[c] = b""
            else:
                data = s.recv(4096)
                if not data:
                    s.close()
                    del conns[s]
                    continue
                buf = conns[s] + data
                # TCP messages carry a two-byte length prefix.
                while len(buf) >= 2:
                    n = struct.unpack("!H", buf[:2])[0]
                    if len(buf) < 2 + n:
                        break
                    msg, buf = buf[2:2 + n], buf[2 + n:]
                    if mode != "silent":
                        out = answer(msg, mode, zone)
                        if out:
                            s.sendall(struct.pack("!H", len(out)) + out)
                conns[s] = buf


if __name__ == "__main__":
    main()
