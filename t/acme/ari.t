#!/usr/bin/env python3
# ACME Renewal Information (RFC 9773) with a small fake ACME server run by
# this test (Python http.server over TLS; Debian's pebble has no ARI):
# the certificate id (with a serial that needs a leading zero byte), a 503
# with Retry-After that is waited out, a window in the future (not due, the
# chosen time inside it and stable across runs, no new fetch before the
# Retry-After), then a window in the past: renewal is due and the order
# names the old certificate in "replaces"; the fake CA's refusal is reported
# and the old pair stays.
import base64
import json
import os
import ssl
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "acme"))
from msgwtest import *  # noqa: E402,F403
from acmetest import faketime, make_ca  # noqa: E402

t = Test()
env = t.env()
d = os.path.join(env.dir, "ari")
os.makedirs(d)
tls_ca, tls_cert, tls_key = make_ca(os.path.join(d, "server"))


def sh(*a):
    return subprocess.run(a, check=True, capture_output=True, text=True).stdout


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def rfc3339(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


# A certificate from a private CA, with an authority key identifier and a
# serial whose top bit is set, installed with import and marked as issued
# by msgw-acme (the state issue would have written).
sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
   f"{d}/ca.key", "-out", f"{d}/ca.pem", "-days", "30", "-subj", "/CN=ARI test CA")
sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{d}/leaf.key",
   "-out", f"{d}/leaf.csr", "-subj", "/CN=ari.acme.test")
with open(f"{d}/ext", "w") as f:
    f.write("subjectAltName=DNS:ari.acme.test\nauthorityKeyIdentifier=keyid\nbasicConstraints=CA:FALSE\n")
sh("openssl", "x509", "-req", "-in", f"{d}/leaf.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
   "-set_serial", "0x8a1b2c3d4e5f60", "-days", "20", "-extfile", f"{d}/ext", "-out", f"{d}/leaf.pem")
with open(f"{d}/chain.pem", "w") as f:
    f.write(open(f"{d}/leaf.pem").read() + open(f"{d}/ca.pem").read())
aki = sh("openssl", "x509", "-in", f"{d}/leaf.pem", "-noout", "-ext", "authorityKeyIdentifier")
aki_hex = aki.split("\n", 1)[1].strip().replace("keyid:", "").replace(":", "")
serial = bytes.fromhex("008a1b2c3d4e5f60")
cert_id = b64u(bytes.fromhex(aki_hex)) + "." + b64u(serial)
fingerprint = sh("openssl", "x509", "-in", f"{d}/leaf.pem", "-noout", "-fingerprint", "-sha256")
fingerprint = fingerprint.split("=", 1)[1].strip().replace(":", "").lower()


class Fake:
    window = None            # (start, end) datetimes
    hits = {}                # path -> count
    orders = []              # newOrder payloads
    fail_first_ari = True    # one 503 with Retry-After: 1 first
    rate_limited = False     # newOrder answers 429 rateLimited
    lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def base(self):
        return f"https://127.0.0.1:{self.server.server_port}"

    def send(self, code, body=b"", ctype="application/json", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Replay-Nonce", b64u(os.urandom(12)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def count(self):
        with Fake.lock:
            Fake.hits[self.path.split("/")[1]] = Fake.hits.get(self.path.split("/")[1], 0) + 1

    def do_HEAD(self):
        self.count()
        self.send(200)

    def do_GET(self):
        self.count()
        if self.path == "/dir":
            b = self.base()
            self.send(200, json.dumps({"newNonce": b + "/nonce", "newAccount": b + "/acct",
                                       "newOrder": b + "/order", "renewalInfo": b + "/renewal-info",
                                       "meta": {"profiles": {"classic": "90 days",
                                                             "shortlived": "6 days"}}}).encode())
        elif self.path.startswith("/huge"):
            # With a Content-Length, or without one (read until close), so
            # both the announced size and the write callback's bound are hit.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if self.path == "/huge-length":
                self.send_header("Content-Length", str(2 << 20))
            self.end_headers()
            try:
                for _ in range(32):
                    self.wfile.write(b" " * (64 << 10))
            except OSError:
                pass
        elif self.path == "/nonce":
            self.send(204)
        elif self.path.startswith("/renewal-info/"):
            if self.path != "/renewal-info/" + cert_id:
                self.send(404, b'{"type":"urn:ietf:params:acme:error:malformed","detail":"unknown id"}',
                          "application/problem+json")
            elif Fake.fail_first_ari:
                Fake.fail_first_ari = False
                self.send(503, b"busy", "text/plain", [("Retry-After", "1")])
            else:
                s, e = Fake.window
                self.send(200, json.dumps({"suggestedWindow": {"start": rfc3339(s), "end": rfc3339(e)},
                                           "explanationURL": "https://ca.example/why"}).encode(),
                          headers=[("Retry-After", "3600")])
        else:
            self.send(404)

    def do_POST(self):
        self.count()
        n = int(self.headers.get("Content-Length", "0"))
        jws = json.loads(self.rfile.read(min(n, 1 << 20)) or b"{}")
        payload = jws.get("payload", "")
        payload = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)) or b"null") if payload else None
        if self.path == "/acct":
            self.send(201, b'{"status":"valid"}', headers=[("Location", self.base() + "/acct/1")])
        elif self.path == "/order" and Fake.rate_limited:
            self.send(429, json.dumps({"type": "urn:ietf:params:acme:error:rateLimited",
                                       "detail": "too many certificates for this name"}).encode(),
                      "application/problem+json", [("Retry-After", "3600")])
        elif self.path == "/order":
            Fake.orders.append(payload)
            self.send(403, json.dumps({"type": "urn:ietf:params:acme:error:unauthorized",
                                       "detail": "fake CA refuses to issue"}).encode(), "application/problem+json")
        else:
            self.send(404)


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(tls_cert, tls_key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
threading.Thread(target=srv.serve_forever, daemon=True).start()
t.at_exit(srv.shutdown)
port = srv.server_port

cert, key = os.path.join(env.dir, "inst", "cert.pem"), os.path.join(env.dir, "inst", "key.pem")
base = {**env.settings, "tls.cert": cert, "tls.key": key, "acme.ca_file": tls_ca,
        "acme.directory": f"https://127.0.0.1:{port}/dir", "acme.staging_directory": "",
        "acme.challenge_port": free_port(), "acme.challenge_address": "127.0.0.1"}
env.write_config(base)
r = env.run("msgw-acme", "import", "--cert", f"{d}/chain.pem", "--key", f"{d}/leaf.key")
t.is_(r.returncode, 0, "the test certificate is imported")
os.makedirs(os.path.join(env.data_dir, "acme"), exist_ok=True)
with open(os.path.join(env.data_dir, "acme", "managed.json"), "w") as f:
    json.dump({"sha256": fingerprint, "names": ["ari.acme.test"], "directory": "fake"}, f)
installed = open(cert).read()

now = datetime.now(timezone.utc).replace(microsecond=0)
Fake.window = (now + timedelta(days=10), now + timedelta(days=11))
t0 = time.monotonic()
r = env.run("msgw-acme", "renew")
elapsed = time.monotonic() - t0
err = r.stderr.decode(errors="replace")
t.ok(r.returncode == 0 and r.stdout == b"", "window in the future: renew exits 0 quietly", (r.returncode, err[-1500:]))
t.is_(Fake.hits.get("renewal-info"), 2, "renewalInfo fetched for the certificate id (503 retried once)")
t.ok(elapsed >= 1.0, "the 503's Retry-After: 1 was waited out", elapsed)
t.is_(Fake.orders, [], "no order while the window is in the future")
state = json.load(open(os.path.join(env.data_dir, "acme", "renewal.json")))
t.is_(state.get("cert"), cert_id, "the certificate id (RFC 9773: AKI . serial with its leading zero)")
at = datetime.strptime(state.get("renew_at", "1970-01-01T00:00:00Z"), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
t.ok(Fake.window[0] <= at <= Fake.window[1], "the chosen renewal time is inside the window", state)
r = env.run("msgw-acme", "status", "--json")
st = json.loads(r.stdout or b"{}")
t.is_((st.get("renewal_window") or {}).get("start"), rfc3339(Fake.window[0]), "status shows the renewal window")

r = env.run("msgw-acme", "renew")
t.is_(r.returncode, 0, "second run exits 0")
t.is_(Fake.hits.get("renewal-info"), 2, "no new renewalInfo request before its Retry-After (3600 s)")
state2 = json.load(open(os.path.join(env.data_dir, "acme", "renewal.json")))
t.is_(state2.get("renew_at"), state.get("renew_at"), "the chosen time is stable across runs")

# Two hours later (past the Retry-After) the CA's window has moved into the past.
Fake.window = (now - timedelta(days=2), now - timedelta(days=1))
argv, fenv = faketime(env.cmd("msgw-acme", "renew"), "+2h")
r = subprocess.run(argv, capture_output=True, timeout=120, env=fenv)
err = r.stderr.decode(errors="replace")
t.is_(Fake.hits.get("renewal-info"), 3, "the window is fetched again after the Retry-After")
t.ok(len(Fake.orders) == 1, "window in the past: renewal is due, an order is placed", err[-1500:])
o = Fake.orders[0] if Fake.orders else {}
t.is_(o.get("replaces"), cert_id, "the order names the old certificate in replaces")
t.is_(o.get("identifiers"), [{"type": "dns", "value": "ari.acme.test"}], "the order is for the managed names")
t.ok(r.returncode != 0 and "fake CA refuses to issue" in err and "unauthorized" in err,
     "the CA's refusal is reported with its error document", err[-800:])
t.is_(open(cert).read(), installed, "the old certificate stays in place")

# --force renews without asking for the window.
hits = Fake.hits.get("renewal-info")
r = env.run("msgw-acme", "renew", "--force")
t.ok(r.returncode != 0 and len(Fake.orders) == 2 and Fake.hits.get("renewal-info") == hits,
     "--force orders at once without fetching the window")
t.ok("profile" not in Fake.orders[-1], "no profile requested when acme.profile is empty", Fake.orders[-1])

# A rate limit: the CA's Retry-After is too long to wait for; reported.
Fake.rate_limited = True
r = env.run("msgw-acme", "renew", "--force")
err = r.stderr.decode(errors="replace")
t.ok(r.returncode != 0 and "rate limit reached" in err and "retry after 3600 s" in err,
     "a rate limit is reported with the CA's Retry-After", err[-600:])
t.is_(open(cert).read(), installed, "the old certificate stays in place after a rate limit")
Fake.rate_limited = False

# Every body is bounded: a 2 MiB directory is refused, not read.
for path in ("huge", "huge-length"):
    env.write_config({**base, "acme.directory": f"https://127.0.0.1:{port}/{path}"})
    r = env.run("msgw-acme", "renew", "--force")
    err = r.stderr.decode(errors="replace")
    t.ok(r.returncode != 0 and "response body larger than 1048576 bytes" in err,
         f"a body over 1 MiB is refused ({path})", err[-600:])

# acme.profile, when the directory offers profiles.
env.write_config({**base, "acme.profile": "shortlived"})
r = env.run("msgw-acme", "renew", "--force")
t.is_(Fake.orders[-1].get("profile") if len(Fake.orders) == 3 else None, "shortlived",
      "acme.profile is sent with the order")
env.write_config({**base, "acme.profile": "tiny"})
r = env.run("msgw-acme", "renew", "--force")
err = r.stderr.decode(errors="replace")
t.ok(r.returncode != 0 and len(Fake.orders) == 3 and "'tiny' is not offered" in err and "shortlived" in err,
     "an acme.profile the CA does not offer is refused before ordering, naming the offered ones", err[-600:])
t.done()
