#!/usr/bin/python3
"""Edits the account records of an mdb_dump dump (hex, not -p), as someone who can
write the store's files but has not got its key would: without LMDB's or
the program's help, only the bytes.

Usage: store-edit-dump.py IN OUT [--strip] FIELD=VALUE...
Each FIELD=VALUE replaces that line of every record's text; --strip cuts
what follows the text (the record's authentication)."""
import re
import sys


def decode(s):
    return bytes.fromhex(s)


def encode(b):
    return b.hex()


src, dst, args = sys.argv[1], sys.argv[2], sys.argv[3:]
strip = "--strip" in args
edits = [a.split("=", 1) for a in args if a != "--strip"]
lines = open(src).read().split("\n")
out, in_data, is_value = [], False, False
for line in lines:
    if line == "HEADER=END":
        in_data, is_value = True, False
    elif line == "DATA=END":
        in_data = False
    elif in_data and line.startswith(" "):
        if is_value:
            rec = decode(line[1:])
            text, sep, tail = rec.partition(b"\0")
            for k, v in edits:
                text = re.sub(rb"(?m)^" + re.escape(k.encode()) + rb"=.*$",
                              (k + "=" + v).encode(), text)
            rec = text if strip else text + sep + tail
            line = " " + encode(rec)
        is_value = not is_value
    out.append(line)
open(dst, "w").write("\n".join(out))
