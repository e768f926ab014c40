#!/usr/bin/python3
"""A small OAuth 2.0 authorization server for the tests, over HTTPS on
127.0.0.1 with the mail stack's test certificate.

  oauth-as.py --port N --cert PEM --key PEM --jwt-key TEXT --dir DIR

Endpoints:
  POST /device   RFC 8628 device authorization (client_id, scope)
  POST /token    grant_type device_code | refresh_token (rotated each time)
  GET /authorize the browser's sign-in (RFC 6749 4.1, PKCE S256 required):
                 redirects at once to redirect_uri with code and state, or
                 with error=access_denied when the query has deny=1
  POST /approve  the test "user": user_code=CODE&action=approve|deny
  POST /admin    the test's controls (form): see ADMIN below

Access tokens are HS256 JWTs with the claim "email", which the mail stack's
Dovecot checks locally with the same key. Every issued token is appended to
DIR/issued (for the tests' leak checks); every request's grant or path to
DIR/log. The port is written to DIR/port once listening.

ADMIN: error=CODE[&description=TEXT][&times=N] makes the next N token
requests fail with that error; expires_in=S for tokens issued from now on;
revoke=1 drops every refresh token; badsig=1 signs access tokens with a
wrong key from now on; badsig_once=1 signs only the next access token so;
delay=S holds the next token reply S seconds (outside the lock, so other
requests go on), then drops it, logged "token abandoned", when the
client has gone meanwhile; slow_down=N answers the next N device polls with
slow_down; expire_device=1 makes pending device codes expired.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import select
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLIENT_ID = "fluenzr-test-client"

state = {
    "devices": {},        # device_code -> {user_code, status, email, expires}
    "refresh": {},        # refresh_token -> email
    "errors": [],         # queued (error, description)
    "expires_in": 3600,
    "badsig": False,
    "slow_down": 0,
    "badsig_once": False,
    "delay": 0,
    "codes": {},          # code -> {challenge, redirect_uri, email}
}
lock = threading.Lock()


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(email, key, expires_in):
    now = int(time.time())
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps({"email": email, "sub": email, "iat": now,
                              "nbf": now, "exp": now + expires_in}).encode())
    sig = hmac.new(key, (head + "." + body).encode(), hashlib.sha256).digest()
    return head + "." + body + "." + b64url(sig)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def error(self, err, desc="", code=400):
        obj = {"error": err}
        if desc:
            obj["error_description"] = desc
        self.reply(code, obj)

    def log(self, what):
        with open(os.path.join(args.dir, "log"), "a") as f:
            f.write("%.3f %s\n" % (time.time(), what))

    def issue(self, email):
        key = args.jwt_key.encode()
        if state["badsig"] or state["badsig_once"]:
            key = b"not-the-key-the-mail-server-has"
            state["badsig_once"] = False
        access = jwt(email, key, state["expires_in"])
        refresh = "rt-" + secrets.token_urlsafe(24)
        state["refresh"][refresh] = email
        with open(os.path.join(args.dir, "issued"), "a") as f:
            f.write(access + "\n" + refresh + "\n")
        return {"access_token": access, "token_type": "Bearer",
                "expires_in": state["expires_in"], "refresh_token": refresh,
                "scope": "mail offline_access"}

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        with lock:
            self.log("authorize method=%s" % q.get("code_challenge_method", ""))
            if url.path != "/authorize" or q.get("response_type") != "code":
                return self.error("invalid_request", "no such endpoint", 404)
            if q.get("client_id") != CLIENT_ID:
                return self.error("invalid_client", "unknown client", 401)
            ru = q.get("redirect_uri", "")
            if not ru.startswith("http://127.0.0.1:") or not q.get("state") or \
               q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                return self.error("invalid_request", "PKCE S256, state and a loopback redirect_uri are required")
            if q.get("deny") == "1":
                loc = ru + "?" + urllib.parse.urlencode({"error": "access_denied", "state": q["state"]})
            else:
                code = "ac-" + secrets.token_urlsafe(18)
                state["codes"][code] = {"challenge": q["code_challenge"], "redirect_uri": ru,
                                        "email": q.get("login_hint", "alice@mail.test")}
                with open(os.path.join(args.dir, "issued"), "a") as f:
                    f.write(code + "\n")
                loc = ru + "?" + urllib.parse.urlencode({"code": code, "state": q["state"]})
            self.send_response(302)
            self.send_header("Location", loc)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(self.rfile.read(n).decode()))
        path = self.path
        if path == "/token":
            with lock:
                delay, state["delay"] = state["delay"], 0
            if delay:
                self.log("token delayed %d" % delay)
                time.sleep(delay)
                # A client that gave up closed its end: readable at EOF.
                r, _, _ = select.select([self.connection], [], [], 0)
                if r:
                    self.log("token abandoned")
                    self.close_connection = True
                    return
                self.log("token delay over")
        with lock:
            if path == "/device":
                self.log("device scope=%s" % form.get("scope", ""))
                if form.get("client_id") != CLIENT_ID:
                    return self.error("invalid_client", "unknown client", 401)
                if state["errors"]:
                    e, d = state["errors"].pop(0)
                    return self.error(e, d)
                dc = secrets.token_urlsafe(24)
                uc = "%04d-%04d" % (secrets.randbelow(10000), secrets.randbelow(10000))
                state["devices"][dc] = {"user_code": uc, "status": "pending",
                                        "email": None,
                                        "expires": time.time() + 600}
                return self.reply(200, {
                    "device_code": dc, "user_code": uc,
                    "verification_uri": "https://127.0.0.1:%d/device-login" % args.port,
                    "expires_in": 600, "interval": 1})
            if path == "/approve":
                self.log("approve %s" % form.get("action"))
                for d in state["devices"].values():
                    if d["user_code"] == form.get("user_code"):
                        d["status"] = "approved" if form.get("action") == "approve" else "denied"
                        d["email"] = form.get("email", "alice@mail.test")
                        return self.reply(200, {"ok": True})
                return self.error("invalid_request", "no such code", 404)
            if path == "/admin":
                self.log("admin %s" % ",".join(sorted(form)))
                if "error" in form:
                    for _ in range(int(form.get("times", "1"))):
                        state["errors"].append((form["error"], form.get("description", "")))
                if "expires_in" in form:
                    state["expires_in"] = int(form["expires_in"])
                if form.get("revoke"):
                    state["refresh"].clear()
                if "badsig" in form:
                    state["badsig"] = form["badsig"] == "1"
                if form.get("badsig_once"):
                    state["badsig_once"] = True
                if "delay" in form:
                    state["delay"] = int(form["delay"])
                if "slow_down" in form:
                    state["slow_down"] = int(form["slow_down"])
                if form.get("expire_device"):
                    for d in state["devices"].values():
                        d["expires"] = 0
                return self.reply(200, {"ok": True})
            if path != "/token":
                return self.error("invalid_request", "no such endpoint", 404)
            grant = form.get("grant_type", "")
            self.log("token %s" % grant)
            if form.get("client_id") != CLIENT_ID:
                return self.error("invalid_client", "unknown client", 401)
            if state["errors"]:
                e, d = state["errors"].pop(0)
                return self.error(e, d)
            if grant == "urn:ietf:params:oauth:grant-type:device_code":
                d = state["devices"].get(form.get("device_code", ""))
                if d is None:
                    return self.error("invalid_grant", "unknown device code")
                if d["expires"] < time.time():
                    return self.error("expired_token")
                if state["slow_down"] > 0:
                    state["slow_down"] -= 1
                    return self.error("slow_down")
                if d["status"] == "pending":
                    return self.error("authorization_pending")
                if d["status"] == "denied":
                    return self.error("access_denied", "the user refused")
                del state["devices"][form["device_code"]]
                return self.reply(200, self.issue(d["email"]))
            if grant == "authorization_code":
                c = state["codes"].pop(form.get("code", ""), None)
                if c is None:
                    return self.error("invalid_grant", "unknown or used code")
                if form.get("redirect_uri") != c["redirect_uri"]:
                    return self.error("invalid_grant", "AADSTS50011: redirect_uri differs")
                v = form.get("code_verifier", "").encode()
                if b64url(hashlib.sha256(v).digest()) != c["challenge"]:
                    return self.error("invalid_grant", "PKCE verification failed")
                return self.reply(200, self.issue(c["email"]))
            if grant == "refresh_token":
                email = state["refresh"].pop(form.get("refresh_token", ""), None)
                if email is None:
                    return self.error("invalid_grant", "Token has been expired or revoked.")
                return self.reply(200, self.issue(email))
            return self.error("unsupported_grant_type")


ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--cert", required=True)
ap.add_argument("--key", required=True)
ap.add_argument("--jwt-key", required=True)
ap.add_argument("--dir", required=True)
args = ap.parse_args()

class TLSServer(ThreadingHTTPServer):
    # The handshake runs on the connection's own thread: a client that
    # stalls it (or gives up) must not hold up everybody else's accept.
    def finish_request(self, request, client_address):
        request.settimeout(30)
        try:
            request = ctx.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        self.RequestHandlerClass(request, client_address, self)


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(args.cert, args.key)
srv = TLSServer(("127.0.0.1", args.port), Handler)
args.port = srv.server_address[1]
with open(os.path.join(args.dir, "port.tmp"), "w") as f:
    f.write("%d\n" % args.port)
os.rename(os.path.join(args.dir, "port.tmp"), os.path.join(args.dir, "port"))
sys.stdout.flush()
srv.serve_forever()
