#!/usr/bin/python3
"""Searches the memory of a running process for secrets.

Usage: mem_scan.py PID [--allow-locked] [--max N] NEEDLE...
Reads every anonymous mapping (heap, thread stacks and arenas) of PID
through /proc/PID/mem and prints one line per mapping that holds a needle:
"NEEDLE ADDRESSES NAME xCOUNT locked=KB/KB". With --allow-locked, hits in a
mapping that is wholly locked (mlock: secmem) are not counted. Exits 1 when
more than N hits (default 0) are counted, else 0.
"""
import sys

args = sys.argv[1:]
pid = int(args.pop(0))
allow_locked, limit = False, 0
while args and args[0].startswith("--"):
    opt = args.pop(0)
    if opt == "--allow-locked":
        allow_locked = True
    elif opt == "--max":
        limit = int(args.pop(0))
needles = [a.encode() for a in args]

# Locked kB per mapping: mlock() splits a mapping, so a locked buffer is a
# mapping of its own.
locked, cur = {}, None
for line in open("/proc/%d/smaps" % pid):
    f = line.split()
    if f and not f[0].endswith(":"):
        cur = f[0]
    elif f and f[0] == "Locked:":
        locked[cur] = int(f[1])

hits = 0
with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
    for line in maps:
        f = line.split()
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        name = f[5] if len(f) > 5 else "anon"
        # Files are what they are on disk; a sanitizer's shadow is huge.
        if "r" not in f[1] or name.startswith("/") or name in ("[vvar]", "[vsyscall]") \
                or hi - lo > (1 << 30):
            continue
        data = bytearray()
        for off in range(lo, hi, 1 << 20):
            n = min(1 << 20, hi - off)
            try:
                mem.seek(off)
                data += mem.read(n)
            except (OSError, ValueError):
                data += bytes(n)
        whole = locked.get(f[0], 0) * 1024 == hi - lo
        for nd in needles:
            c = data.count(nd)
            if c:
                print("%s %s %s x%d locked=%dkB/%dkB" % (nd.decode(errors="replace"), f[0],
                      name, c, locked.get(f[0], 0), (hi - lo) // 1024))
                if not (allow_locked and whole):
                    hits += c
sys.exit(1 if hits > limit else 0)
