#!/usr/bin/python3
"""One DNS query to 127.0.0.1:53 for the tests' harness (tests/dns-lib.sh).

  dns-query.py NAME TYPE

Exits 0 when an authoritative NOERROR answer with at least one record of
TYPE came back within a second, 1 otherwise. Standard library only.
"""
import random
import socket
import struct
import sys

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
         "AAAA": 28, "SRV": 33}


def main():
    name, qtype = sys.argv[1].rstrip("."), TYPES[sys.argv[2].upper()]
    qid = random.getrandbits(16)
    q = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode("ascii")
    q += b"\0" + struct.pack("!HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    try:
        s.sendto(q, ("127.0.0.1", 53))
        r, _ = s.recvfrom(65535)
    except OSError:
        return 1
    if len(r) < 12:
        return 1
    rid, flags, _, ancount = struct.unpack("!HHHH", r[:8])
    aa, rcode = flags & 0x0400, flags & 0x000F
    return 0 if rid == qid and aa and rcode == 0 and ancount > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
