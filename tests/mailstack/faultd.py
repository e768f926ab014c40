#!/usr/bin/python3
"""Scripted misbehaving SMTP server for the fluenzr test suite.

One loopback port per fault mode, starting at --base.  Every connection's
traffic is written to --log as a transcript ("C:" client, "S:" server) so a
test can prove what reached the wire.  Standard library only.

Modes (port = base + index in MODES):
  nogreet   accept, never send anything
  hang      send the 220 greeting, then never answer anything
  garbage   send binary garbage / non-SMTP lines, answer every line with more
  drop      plain ESMTP offering AUTH PLAIN LOGIN; closes the connection
            as soon as an AUTH command arrives
  greet421  greet "421 4.3.2 Service not available, closing transmission
            channel" and close
  greet554  greet "554 5.7.1 No SMTP service here", then answer 503 to
            everything but QUIT (RFC 5321 3.1)
  authunsup plain ESMTP without AUTH and without STARTTLS; mail is accepted
  rl421 .. rl554  ESMTP with AUTH (any credentials succeed), then a real-world
            rate-limit reply at MAIL FROM (rl452: at RCPT TO); rl421 closes
            the connection after its reply
"""

import argparse
import asyncio
import os
import signal
import sys
import time

MODES = [
    "nogreet", "hang", "garbage", "drop", "greet421", "greet554",
    "authunsup", "rl421", "rl450", "rl451", "rl452", "rl550", "rl554",
]

# Reply, stage at which it is given, and whether the server then hangs up.
RATE_REPLIES = {
    "rl421": ("421 4.7.0 Too many connections", "MAIL", True),
    "rl450": ("450 4.7.1 Error: too much mail from 127.0.0.1", "MAIL", False),
    "rl451": ("451 4.7.1 Please try again later", "MAIL", False),
    "rl452": ("452 4.5.3 Too many recipients", "RCPT", False),
    "rl550": ("550 5.4.5 Daily user sending limit exceeded", "MAIL", False),
    "rl554": ("554 5.2.0 STOREDRV.Submission.Exception:"
              "SubmissionQuotaExceededException", "MAIL", False),
}

HOST = "fault.mail.test"
IDLE_TIMEOUT = 300      # seconds; clients are expected to give up long before
MAX_LINE = 4096

GARBAGE = (b"\x00\xff\xfe\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
           b"\x1b[2J\x07\r\n"
           b"HTTP/1.1 400 Bad Request\r\n"
           b"Server: not-smtp\r\n"
           b"\xc3\x28\xa0\xa1 ???? \x7f\x7f\r\n"
           b"-ERR this is not the mail server you are looking for\r\n")


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1, encoding="utf-8")
        self.seq = 0

    def next_id(self):
        self.seq += 1
        return self.seq

    def write(self, conn, mode, direction, data):
        text = data.decode("latin-1")
        esc = "".join(c if 32 <= ord(c) < 127 else "\\x%02x" % ord(c)
                      for c in text.rstrip("\r\n"))
        stamp = time.strftime("%H:%M:%S")
        self.f.write("%s conn=%d mode=%s %s: %s\n"
                     % (stamp, conn, mode, direction, esc))


class Session:
    def __init__(self, mode, reader, writer, log):
        self.mode = mode
        self.r = reader
        self.w = writer
        self.log = log
        self.id = log.next_id()

    async def send(self, line):
        data = line.encode("latin-1") if isinstance(line, str) else line
        if not data.endswith(b"\n"):
            data += b"\r\n"
        for part in data.split(b"\n"):
            if part:
                self.log.write(self.id, self.mode, "S", part)
        self.w.write(data)
        await self.w.drain()

    async def recv(self):
        """Next client line without its CRLF, or None at EOF/timeout."""
        try:
            line = await asyncio.wait_for(self.r.readline(), IDLE_TIMEOUT)
        except (asyncio.TimeoutError, ConnectionError, ValueError):
            return None
        if not line:
            return None
        line = line[:MAX_LINE]
        self.log.write(self.id, self.mode, "C", line)
        return line.rstrip(b"\r\n").decode("latin-1")

    async def run(self):
        peer = self.w.get_extra_info("peername")
        self.log.write(self.id, self.mode, "*",
                       ("connect from %s:%s" % peer[:2]).encode())
        try:
            name = "rl" if self.mode.startswith("rl") else self.mode
            await getattr(self, "mode_" + name)()
        except ConnectionError:
            pass
        finally:
            self.log.write(self.id, self.mode, "*", b"close")
            try:
                self.w.close()
                await self.w.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def drain_silently(self):
        while await self.recv() is not None:
            pass

    async def mode_nogreet(self):
        await self.drain_silently()

    async def mode_hang(self):
        await self.send("220 %s ESMTP faultd" % HOST)
        await self.drain_silently()

    async def mode_garbage(self):
        await self.send(GARBAGE)
        while await self.recv() is not None:
            await self.send(b"\xff\xfe\x00garbage\x1b[0m ~~~ 99x what?\r\n")

    async def mode_greet421(self):
        await self.send("421 4.3.2 Service not available, "
                        "closing transmission channel")

    async def mode_greet554(self):
        await self.send("554 5.7.1 No SMTP service here")
        while True:
            line = await self.recv()
            if line is None:
                return
            if line.upper().startswith("QUIT"):
                await self.send("221 2.0.0 Bye")
                return
            await self.send("503 5.5.1 No SMTP service here")

    async def mode_drop(self):
        await self.esmtp(auth=True, on_auth="drop")

    async def mode_authunsup(self):
        await self.esmtp(auth=False)

    async def mode_rl(self):
        await self.esmtp(auth=True, rate=RATE_REPLIES[self.mode])

    async def read_auth(self, args):
        """Run an AUTH exchange, accepting any credentials; False at EOF."""
        parts = args.split()
        mech = parts[0].upper() if parts else ""
        if mech == "PLAIN":
            if len(parts) < 2:
                await self.send("334 ")
                if await self.recv() is None:
                    return False
        elif mech == "LOGIN":
            if len(parts) < 2:
                await self.send("334 VXNlcm5hbWU6")
                if await self.recv() is None:
                    return False
            await self.send("334 UGFzc3dvcmQ6")
            if await self.recv() is None:
                return False
        else:
            await self.send("504 5.5.4 Unsupported authentication mechanism")
            return True
        await self.send("235 2.7.0 Authentication successful")
        return True

    async def esmtp(self, auth, on_auth=None, rate=None):
        await self.send("220 %s ESMTP faultd" % HOST)
        while True:
            line = await self.recv()
            if line is None:
                return
            verb, _, args = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                ext = ["PIPELINING", "SIZE 10240000"]
                if auth:
                    ext.append("AUTH PLAIN LOGIN")
                ext += ["8BITMIME", "ENHANCEDSTATUSCODES"]
                lines = ["250-%s" % HOST] + ["250-" + e for e in ext[:-1]]
                lines.append("250 " + ext[-1])
                await self.send("\r\n".join(lines) + "\r\n")
            elif verb == "HELO":
                await self.send("250 %s" % HOST)
            elif verb == "AUTH":
                if not auth:
                    await self.send("503 5.5.1 Error: authentication "
                                    "not enabled")
                elif on_auth == "drop":
                    return
                elif not await self.read_auth(args):
                    return
            elif verb == "STARTTLS":
                await self.send("502 5.5.1 Error: command not implemented")
            elif verb == "MAIL":
                if rate and rate[1] == "MAIL":
                    await self.send(rate[0])
                    if rate[2]:
                        return
                else:
                    await self.send("250 2.1.0 Ok")
            elif verb == "RCPT":
                if rate and rate[1] == "RCPT":
                    await self.send(rate[0])
                else:
                    await self.send("250 2.1.5 Ok")
            elif verb == "DATA":
                await self.send("354 End data with <CR><LF>.<CR><LF>")
                while True:
                    body = await self.recv()
                    if body is None:
                        return
                    if body == ".":
                        break
                await self.send("250 2.0.0 Ok: queued as FAULTD")
            elif verb in ("RSET", "NOOP"):
                await self.send("250 2.0.0 Ok")
            elif verb == "QUIT":
                await self.send("221 2.0.0 Bye")
                return
            else:
                await self.send("502 5.5.2 Error: command not recognized")


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--list-modes", action="store_true",
                    help="print the modes in port order and exit")
    ap.add_argument("--base", type=int)
    ap.add_argument("--log")
    ap.add_argument("--pidfile")
    ap.add_argument("--host", default="127.0.0.1")
    opt = ap.parse_args()
    if opt.list_modes:
        print(" ".join(MODES))
        return
    if opt.base is None or not opt.log or not opt.pidfile:
        ap.error("--base, --log and --pidfile are required")

    log = Log(opt.log)
    servers = []
    for i, mode in enumerate(MODES):
        def handler(r, w, mode=mode):
            return Session(mode, r, w, log).run()
        servers.append(await asyncio.start_server(
            handler, opt.host, opt.base + i, reuse_address=True))

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(
            sig, lambda: stop.done() or stop.set_result(None))

    # The pid file appears only once every port is bound: start.sh waits on it.
    tmp = opt.pidfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(tmp, opt.pidfile)

    await stop
    for s in servers:
        s.close()
    try:
        os.unlink(opt.pidfile)
    except OSError:
        pass


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except OSError as e:
        print("faultd: %s" % e, file=sys.stderr)
        sys.exit(1)
