#!/usr/bin/env python3
# The foundation's connection handling through the real front-end code
# (t/net/echo-server): --listen on IPv4 and IPv6, inetd through
# systemd-socket-activate, LISTEN_FDS, the child bound, SIGTERM, server TLS
# (implicit and STARTTLS, injection, minimum version, certificate reload)
# and the verifying TLS client helper.
import os
import signal
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
from msgwtest import Test, free_port, make_ca, prog, wait_port  # noqa: E402

t = Test()
env = t.env(server__max_connections=2)


def lines(sock, n=1, timeout=10):
    sock.settimeout(timeout)
    f = sock.makefile("rb")
    return [f.readline().decode().rstrip("\r\n") for _ in range(n)]


def talk(sock, cmd):
    sock.sendall(cmd.encode() + b"\r\n")
    return lines(sock)[0]


def connect(port, host="127.0.0.1"):
    s = socket.create_connection((host, port), timeout=10)
    return s


def tls_context():
    ctx = ssl.create_default_context(cafile=env.ca)
    return ctx


# --listen, IPv4
port = free_port()
srv = env.start("echo-server", "--foreground", "--listen", f"127.0.0.1:{port}", port=port, logname="v4")
with connect(port) as s:
    t.is_(lines(s)[0], "+OK echo ready", "--listen IPv4: greeting")
    t.like(talk(s, "PEER"), "peer=127.0.0.1 local=127.0.0.1", "--listen IPv4: peer and local address known")
    t.is_(talk(s, "x" * 600), "-ERR too long", "an overlong line is refused, not grown")
    t.is_(talk(s, "hello"), "+OK hello", "and the session goes on")

# the child bound: max_connections = 2
a, b = connect(port), connect(port)
lines(a), lines(b)
c = connect(port)
c.settimeout(1.0)
try:
    got = c.recv(100)
except socket.timeout:
    got = b""
t.is_(got, b"", "a third connection waits while two children run (max_connections=2)")
a.close()
t.is_(lines(c, timeout=10)[0], "+OK echo ready", "it is served once a child exits")
b.close()
c.close()

# SIGTERM: clean shutdown, children ended
d = connect(port)
lines(d)
srv.send_signal(signal.SIGTERM)
try:
    rc = srv.wait(15)
except subprocess.TimeoutExpired:
    rc = None
t.is_(rc, 0, "SIGTERM stops the listener with status 0")
d.settimeout(5)
try:
    rest = d.recv(100)
except (socket.timeout, ConnectionError):
    rest = None
t.ok(rest == b"" or rest is None, "and its children end too", f"got {rest!r}")
d.close()
t.like(env.log("v4"), "event=shutdown", "shutdown is logged")

# --listen, IPv6
try:
    port6 = free_port()
    env.start("echo-server", "--foreground", "--listen", f"[::1]:{port6}", logname="v6")
    wait_port(port6, host="::1")
    with connect(port6, "::1") as s:
        lines(s)
        t.like(talk(s, "PEER"), "peer=::1 local=::1", "--listen IPv6: peer address known")
except OSError as e:
    t.skip(f"no IPv6 loopback here: {e}", "--listen IPv6")

# inetd (systemd Accept=yes): fds 0/1
port = free_port()
p = subprocess.Popen(["systemd-socket-activate", "-l", f"127.0.0.1:{port}", "-a", "--inetd",
                      prog("echo-server"), "-c", env.config, "--foreground"],
                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(env.dir, "inetd.log"), "ab"),
                     start_new_session=True)
t.at_exit(lambda: (p.terminate(), p.wait(10)))
wait_port(port, proc=p)
with connect(port) as s:
    t.is_(lines(s)[0], "+OK echo ready", "inetd mode: greeting on fd 1")
    t.like(talk(s, "PEER"), "peer=127.0.0.1", "inetd mode: peer address from getpeername")

# LISTEN_FDS (systemd Accept=no): accept on fd 3
port = free_port()
p2 = subprocess.Popen(["systemd-socket-activate", "-l", f"127.0.0.1:{port}",
                       prog("echo-server"), "-c", env.config, "--foreground"],
                      stdout=subprocess.DEVNULL, stderr=open(os.path.join(env.dir, "fds.log"), "ab"),
                      start_new_session=True)
t.at_exit(lambda: (p2.terminate(), p2.wait(10)))
wait_port(port, proc=p2)
with connect(port) as s, connect(port) as s2:
    lines(s), lines(s2)
    t.like(talk(s, "PEER"), "peer=127.0.0.1", "LISTEN_FDS mode: serves a connection")
    t.like(talk(s2, "PEER"), "peer=127.0.0.1", "LISTEN_FDS mode: and a second one at once")

# TCPREMOTEIP when fd 0 is not a socket (tcpserver)
r = subprocess.run([prog("echo-server"), "-c", env.config, "--foreground"], input=b"PEER\r\nQUIT\r\n",
                   capture_output=True, env={**os.environ, "TCPREMOTEIP": "192.0.2.7"}, timeout=30)
t.like(r.stdout.decode(), "peer=192.0.2.7", "TCPREMOTEIP names the peer when fd 0 is a pipe")

# STARTTLS, with an injection attempt pipelined before the handshake
port = free_port()
env.start("echo-server", "--foreground", "--listen", f"127.0.0.1:{port}", port=port, logname="tls")
with connect(port) as s:
    lines(s)
    s.sendall(b"STARTTLS\r\nINJECTED\r\n")
    t.is_(lines(s)[0], "+OK go", "STARTTLS accepted")
    ts = tls_context().wrap_socket(s, server_hostname="localhost")
    t.ok(ts.version() in ("TLSv1.2", "TLSv1.3"), f"handshake with a verifying client ({ts.version()})")
    t.like(talk(ts, "TLS"), "+OK TLS1.", "first reply after the handshake answers the first command sent under TLS")
    t.like(talk(ts, "again"), "+OK again", "the plaintext sent before the handshake was discarded")
    ts.close()

# TLS older than 1.2 is refused
with connect(port) as s:
    lines(s)
    talk(s, "STARTTLS")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(env.ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        ctx.wrap_socket(s, server_hostname="localhost")
        refused = False
    except (ssl.SSLError, OSError):
        refused = True
    t.ok(refused, "TLS 1.1 is refused")

# implicit TLS
port = free_port()
env.start("echo-server", "--foreground", "--implicit-tls", "--listen", f"127.0.0.1:{port}", port=port, logname="imp")
with tls_context().wrap_socket(connect(port), server_hostname="localhost") as ts:
    t.is_(lines(ts)[0], "+OK echo ready", "implicit TLS: greeting under TLS")
    t.like(talk(ts, "TLS"), "+OK TLS1.", "implicit TLS: session is encrypted")

# the certificate is read for every connection: replace it, no restart
newdir = os.path.join(env.dir, "tls2")
ca2, cert2, key2 = make_ca(newdir, names=("renewed.test",), ips=("127.0.0.1",))
os.replace(cert2, env.cert)
os.replace(key2, env.key)
ctx = ssl.create_default_context(cafile=ca2)
with ctx.wrap_socket(connect(port), server_hostname="renewed.test") as ts:
    t.is_(lines(ts)[0], "+OK echo ready", "a renewed certificate is served without a restart")

# the TLS client helper: verified chain and name, SNI
with ctx.wrap_socket(connect(port), server_hostname="renewed.test") as ts:
    lines(ts)
    t.like(talk(ts, f"CLIENT 127.0.0.1 {port} {ca2}"), "+OK verified TLS1.", "client helper: trusted CA and IP name verify")
    t.like(talk(ts, f"CLIENT 127.0.0.1 {port}"), "-ERR TLS handshake failed", "client helper: unknown CA refused")
    t.like(talk(ts, f"CLIENT 127.0.0.1 {port} {env.ca}"), "-ERR TLS handshake failed", "client helper: a CA that did not sign it is refused")
    t.like(talk(ts, f"CLIENT localhost {port} {ca2}"), "-ERR TLS handshake failed", "client helper: a name not in the certificate is refused")

t.done()
