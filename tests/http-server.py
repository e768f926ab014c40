"""An HTTPS server for tests/http.sh, on loopback: each path is one way a
server can behave, well or badly. Usage: http-server.py CERT KEY PORTFILE
[plain]; writes its port to PORTFILE once listening."""
import http.server
import socketserver
import ssl
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, code, body, ctype="text/plain", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, where):
        self.send_body(302, b"", extra=[("Location", where)])

    def do_GET(self):
        p = self.path
        if p == "/ok":
            accept = self.headers.get("Accept", "")
            self.send_body(200, b"hello " + accept.encode(), "text/xml; charset=utf-8")
        elif p == "/empty":
            self.send_body(204 if False else 200, b"")
        elif p == "/notfound":
            self.send_body(404, b"no such document")
        elif p == "/big":          # announced as too large
            self.send_response(200)
            self.send_header("Content-Length", str(64 * 1024 * 1024))
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b"x" * 65536)
            except OSError:
                pass
        elif p == "/endless":      # chunked, never ends, no length
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b"10000\r\n" + b"y" * 65536 + b"\r\n")
            except OSError:
                pass
        elif p == "/trickle":      # one byte every 300 ms, forever
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b"z")
                    self.wfile.flush()
                    time.sleep(0.3)
            except OSError:
                pass
        elif p == "/silent":       # headers never come
            time.sleep(30)
        elif p == "/loop":
            self.redirect("/loop")
        elif p == "/hop":
            self.redirect("/ok")
        elif p.startswith("/tohttp/"):
            self.redirect("http://127.0.0.1:%s/ok" % p.split("/")[2])
        elif p == "/garbage":
            self.wfile.write(b"\x00\x01 this is not HTTP\r\n\r\n")
            self.close_connection = True
        else:
            self.send_body(400, b"unknown path")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        ctype = self.headers.get("Content-Type", "")
        self.send_body(200, b"posted " + ctype.encode() + b" " + body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    cert, key, portfile = sys.argv[1:4]
    srv = Server(("127.0.0.1", 0), Handler)
    if len(sys.argv) < 5 or sys.argv[4] != "plain":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


main()
