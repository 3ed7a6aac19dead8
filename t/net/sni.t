#!/usr/bin/env python3
# A server name a client should not have sent is ignored, not fatal
# (src/net/sni.c through net/tls.c's ClientHello hooks), for every TLS
# server of msgw (here the echo server over the same tls_server_start):
# gnutls-cli and openssl s_client sending "::1", TLS 1.2 and 1.3; control
# characters, underscores, an IPv4 literal and 255 bytes; a NUL and high
# bytes put into a real ClientHello by hand, and lying lengths, which must
# neither crash the server nor stop it serving the next client. A valid DNS
# name still works and is not logged; the TLS 1.2 ServerHello still carries
# the ec_point_formats answer GnuTLS's own extension gives.
import os
import re
import select
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
from msgwtest import Test, free_port, wait_port  # noqa: E402

t = Test()
env = t.env()
port = free_port()
env.start("echo-server", "--foreground", "--implicit-tls", "--listen", f"[::1]:{port}",
          logname="sni")
wait_port(port, host="::1")


def ignored():
    """Connections that ignored a name (OpenSSL's TLS 1.3 client gets a
    HelloRetryRequest here and sends its name twice: one line each)."""
    return len({line.split(":", 1)[0] for line in env.log("sni").splitlines()
                if "event=tls_sni_ignored" in line})


def gnutls_cli(name, *extra):
    """Ask for TLS and keep stdin open until the answer is in: at end of
    input gnutls-cli sends close_notify at once, and the server's close
    with that unread could reset the connection before the answer is read."""
    p = subprocess.Popen(["gnutls-cli", "--x509cafile", env.ca, "--sni-hostname", name, *extra,
                          "-p", str(port), "::1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    p.stdin.write(b"TLS\n")
    p.stdin.flush()
    out, deadline = b"", time.monotonic() + 60
    while not re.search(rb"\+OK TLS.*\n", out) and time.monotonic() < deadline:
        if select.select([p.stdout], [], [], 1)[0]:
            chunk = os.read(p.stdout.fileno(), 4096)
            if not chunk:
                break
            out += chunk
    p.stdin.close()
    p.wait(60)
    out = out.decode(errors="replace")
    return (0 if "- Handshake was completed" in out else 1), out


def s_client(name, *extra):
    r = subprocess.run(["openssl", "s_client", "-connect", f"[::1]:{port}", "-servername", name,
                        "-CAfile", env.ca, "-verify_return_error", "-ign_eof", *extra],
                       input=b"TLS\nQUIT\n", capture_output=True, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")


# The GnuTLS client, as mpop and msmtp use it, with their "::1".
before = ignored()
for prio, version in (("NORMAL", "TLS1.3"), ("NORMAL:-VERS-TLS1.3", "TLS1.2")):
    rc, out = gnutls_cli("::1", "--priority", prio)
    t.ok(rc == 0 and f"+OK {version}" in out, f"gnutls-cli with server name ::1 over {version}",
         out[-600:])
t.is_(ignored() - before, 2, "both ignored names are logged (debug)")
t.like(env.log("sni"), "event=tls_sni_ignored names=1 name=::1", "the log line names it")

# A valid DNS name is kept, as before.
before = ignored()
rc, out = gnutls_cli("localhost")
t.ok(rc == 0 and "+OK TLS1.3" in out, "gnutls-cli with server name localhost", out[-600:])
t.is_(ignored() - before, 0, "a valid DNS name is not ignored")

# OpenSSL's client; TLS 1.2 still gets ec_point_formats in the ServerHello.
rc, out = s_client("::1", "-tls1_2", "-tlsextdebug")
t.ok(rc == 0 and "+OK TLS1.2" in out and "Verify return code: 0 (ok)" in out,
     "openssl s_client -tls1_2 with server name ::1, certificate verified", out[-800:])
t.is_(out.count('TLS server extension "EC point formats" (id=11), len=2'), 1,
      "the TLS 1.2 ServerHello answers ec_point_formats once, as GnuTLS does")
rc, out = s_client("::1", "-tls1_3")
t.ok(rc == 0 and "+OK TLS1.3" in out, "openssl s_client -tls1_3 with server name ::1", out[-600:])

# Names GnuTLS refuses, or that are no DNS name: each ignored, the session goes on.
for name, what in (("a\x01b\x7f.example", "control characters"), ("a_b.example", "an underscore"),
                   ("127.0.0.1", "an IPv4 literal"), ("x" * 255, "255 bytes"),
                   ('a"b=c d.example', "quote, '=' and space")):
    before = ignored()
    rc, out = s_client(name)
    t.ok(rc == 0 and "+OK TLS1.3" in out and ignored() - before == 1,
         f"a server name with {what}: ignored, the handshake completes", out[-600:])
t.like(env.log("sni"), r'name="a\"b=c?d.example"', "a hostile name is logged quoted and printable")


def client_hello(name):
    """The bytes Python's OpenSSL would send first, for server name name."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=name)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def first_reply(hello):
    """(record type, first handshake byte) of the server's answer, or None."""
    with socket.create_connection(("::1", port), timeout=30) as s:
        s.sendall(hello)
        got = b""
        while len(got) < 6:
            b = s.recv(4096)
            if not b:
                break
            got += b
    return (got[0], got[5]) if len(got) >= 6 else None


NAME = b"aqb.example"
hello = client_hello(NAME.decode())
at = hello.find(NAME)
t.ok(at > 9 and hello[at - 3] == 0, "a ClientHello with a host_name to tamper with", hello[:64])
for bad, what in ((b"a\x00b.example", "an embedded NUL"), (b"\xff" * len(NAME), "high bytes")):
    before = ignored()
    reply = first_reply(hello[:at] + bad + hello[at + len(NAME):])
    # The server answers with a ServerHello: its parser skipped the name. (The
    # handshake cannot finish: the client's transcript has the other bytes.)
    t.ok(reply == (22, 2) and ignored() - before == 1,
         f"a name with {what} is ignored: the server answers with a ServerHello", reply)
# The server_name list claims one byte more than its extension holds.
lying = bytearray(hello)
lying[at - 4] += 1
reply = first_reply(bytes(lying))
t.ok(reply is None or reply[0] == 21, "lying lengths: refused (alert or close), not parsed", reply)

rc, out = gnutls_cli("::1")
t.ok(rc == 0 and "+OK TLS1.3" in out, "and the server still serves the next client", out[-600:])
log = env.log("sni")
t.ok("Sanitizer" not in log and "runtime error:" not in log, "no sanitizer report in the log")
t.done()
