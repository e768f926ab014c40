#!/usr/bin/python3
"""Replays the replies of tests/diag-corpus.tsv to fluenzr-tui test.

One SMTP and one IMAP listener on loopback serve every entry: the login
(ID@corpus.test) says which entry a dialogue is for, and the server gives
the entry's reply at the entry's step, a plain success at every step
before it. An entry at the SMTP greeting has a port of its own, since
nothing identifies it before its greeting. Plain text only (the accounts
use no encryption on loopback). The ports are written to DIR/smtp.port,
DIR/imap.port and DIR/greet-ID.port. Standard library only.

usage: diag-corpus-server.py CORPUS DIR
"""

import asyncio
import base64
import os
import re
import sys

MAX_LINE = 8192


def load(path):
    entries = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            f_ = line.split("\t")
            if len(f_) != 10:
                sys.exit("corpus: a line without 10 fields: " + line[:40])
            reply = f_[9].replace("\\\\", "\0").replace("\\n", "\n").replace("\0", "\\")
            entries[f_[0]] = {"proto": f_[2], "step": f_[3], "reply": reply}
    return entries


def smtp_lines(reply):
    """The reply as an SMTP server sends it: every line with the code,
    '-' on all but the last."""
    lines = reply.split("\n")
    code = lines[0][:3]
    out = []
    for i, l in enumerate(lines):
        if l[:3] == code and (len(l) == 3 or l[3] in " -"):
            rest = l[4:]
        else:
            rest = l
        out.append("%s%s%s" % (code, "-" if i < len(lines) - 1 else " ", rest))
    return ("\r\n".join(out) + "\r\n").encode()


def imap_rest(reply):
    """The status and text of an IMAP reply, without the tag it had."""
    words = reply.split(" ", 1)
    if words[0].upper() in ("NO", "BAD", "BYE", "OK"):
        return reply
    if reply.startswith("["):
        return "NO " + reply
    rest = words[1] if len(words) > 1 else ""
    if rest.split(" ", 1)[0].upper() in ("NO", "BAD", "BYE", "OK"):
        return rest
    return "NO " + rest


def entry_of(entries, user):
    return entries.get(user.split("@", 1)[0].strip('"'))


async def readline(r):
    line = await r.readline()
    if not line:
        raise EOFError
    return line[:MAX_LINE].decode("utf-8", "replace").rstrip("\r\n")


async def smtp(entries, r, w):
    e = None

    async def send(b):
        w.write(b)
        await w.drain()

    async def at(step, ok):
        if e is not None and e["step"] == step:
            await send(smtp_lines(e["reply"]))
        else:
            await send(ok)

    await send(b"220 corpus.test ESMTP\r\n")
    try:
        while True:
            line = await readline(r)
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                await send(b"250-corpus.test\r\n250-AUTH PLAIN LOGIN\r\n"
                           b"250 8BITMIME\r\n")
            elif verb == "AUTH":
                parts = line.split(" ")
                mech = parts[1].upper() if len(parts) > 1 else ""
                if mech == "PLAIN":
                    resp = parts[2] if len(parts) > 2 else None
                    if resp is None:
                        await send(b"334 \r\n")
                        resp = await readline(r)
                    try:
                        user = base64.b64decode(resp).split(b"\0")[1].decode()
                    except Exception:
                        user = ""
                elif mech == "LOGIN":
                    await send(b"334 VXNlcm5hbWU6\r\n")
                    user = base64.b64decode(await readline(r)).decode("utf-8", "replace")
                    await send(b"334 UGFzc3dvcmQ6\r\n")
                    await readline(r)
                else:
                    await send(b"504 5.5.4 unknown mechanism\r\n")
                    continue
                e = entry_of(entries, user)
                await at("auth", b"235 2.7.0 Authentication successful\r\n")
            elif verb == "MAIL":
                await at("mail", b"250 2.1.0 Ok\r\n")
            elif verb == "RCPT":
                await at("rcpt", b"250 2.1.5 Ok\r\n")
            elif verb == "DATA":
                await send(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                while await readline(r) != ".":
                    pass
                await at("data", b"250 2.0.0 Ok: queued\r\n")
            elif verb == "QUIT":
                await send(b"221 2.0.0 Bye\r\n")
                break
            else:
                await send(b"250 2.0.0 Ok\r\n")
    except (EOFError, ConnectionError):
        pass
    w.close()


LOGIN_RE = re.compile(r'^(\S+) LOGIN ("(?:[^"\\]|\\.)*"|\S+)', re.I)


async def imap(entries, r, w):
    e = None

    async def send(s):
        w.write(s.encode())
        await w.drain()

    await send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] corpus ready\r\n")
    try:
        while True:
            line = await readline(r)
            parts = line.split(" ")
            tag = parts[0]
            cmd = parts[1].upper() if len(parts) > 1 else ""
            if cmd == "CAPABILITY":
                await send("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n%s OK done\r\n" % tag)
            elif cmd == "LOGIN":
                m = LOGIN_RE.match(line)
                e = entry_of(entries, m.group(2) if m else "")
                if e is not None and e["step"] == "imap_login":
                    await send("%s %s\r\n" % (tag, imap_rest(e["reply"])))
                else:
                    await send("%s OK LOGIN completed\r\n" % tag)
            elif cmd in ("SELECT", "EXAMINE"):
                if e is not None and e["step"] == "imap_select":
                    await send("%s %s\r\n" % (tag, imap_rest(e["reply"])))
                else:
                    await send("* 0 EXISTS\r\n* FLAGS ()\r\n"
                               "%s OK [READ-WRITE] SELECT completed\r\n" % tag)
            elif cmd == "LOGOUT":
                await send("* BYE bye\r\n%s OK LOGOUT completed\r\n" % tag)
                break
            else:
                await send("%s OK done\r\n" % tag)
    except (EOFError, ConnectionError):
        pass
    w.close()


async def greet(reply, r, w):
    w.write(smtp_lines(reply))
    await w.drain()
    w.close()


async def main():
    entries = load(sys.argv[1])
    out = sys.argv[2]
    servers = []

    async def listen(handler, name):
        s = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(s)
        port = s.sockets[0].getsockname()[1]
        tmp = os.path.join(out, name + ".tmp")
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, os.path.join(out, name + ".port"))

    await listen(lambda r, w: smtp(entries, r, w), "smtp")
    await listen(lambda r, w: imap(entries, r, w), "imap")
    for k, e in entries.items():
        if e["proto"] == "smtp" and e["step"] == "greeting":
            await listen(lambda r, w, rep=e["reply"]: greet(rep, r, w),
                         "greet-" + k)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
