#!/usr/bin/env python3
# Throughput of the recording proxy against a direct session to the same
# upstream, 1 MiB messages: SMTP (smtplib to Postfix submission) and POP3
# (poplib RETR from Dovecot). Rounds pair a direct and a proxy session,
# which goes first alternating; the verdict is the median of the per-round
# ratios (the pair saw the same load), medians of the rates beside it.
import base64
import json
import os
import socket
import ssl
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "proxy"))
from msgwtest import Test  # noqa: E402
from peers import PASSWORD, PROXY_ON, USER, Peers, have_peers  # noqa: E402

MSGS, SIZE = 8, 1 << 20
ROUNDS = int(os.environ.get("MSGW_BENCH_ROUNDS", "11"))

t = Test()
if have_peers():
    print("# skipped: " + ", ".join(have_peers()))
    sys.exit(0)
env = t.env(log_level="warning")
env.write_config({**env.settings, **PROXY_ON, "proxy.ca_file": env.ca})
peers = Peers(t, env.ca, env.cert, env.key)
peers.start_dovecot()
peers.start_postfix()
ctx = ssl.create_default_context(cafile=env.ca)
port = env.port()
env.start("msgw-proxy", "--listen", f"127.0.0.1:{port}", "--foreground", "smtp", port=port)
pport = env.port()
env.start("msgw-proxy", "--listen", f"127.0.0.1:{pport}", "--foreground", "pop3", port=pport,
          logname="msgw-proxy-pop3")

line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\r\n"
body = line * (SIZE // len(line))
msg = (b"From: bench@client.test\r\nTo: bob@dest.test\r\nSubject: bench\r\n\r\n" + body)


def mailbox():
    return json.loads(env.run("msgw-mbox", "create", "bench", "--proxy", "--json",
                              check=True).stdout)["id"]


class Client:
    """A lean client: raw TLS socket, bulk sends and terminator search, so
    the Python side is not the bottleneck of the measurement."""

    def __init__(self, p, smtp):
        self.s = socket.create_connection(("127.0.0.1", p), timeout=120)
        self.buf = b""
        self.line()
        if smtp:
            self.cmd(b"EHLO bench.test", multi=True)
            self.cmd(b"STARTTLS")
        else:
            self.cmd(b"STLS")
        self.s = ctx.wrap_socket(self.s, server_hostname="127.0.0.1")
        if smtp:
            self.cmd(b"EHLO bench.test", multi=True)

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(1 << 20)
            if not d:
                raise EOFError("connection closed")
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def cmd(self, c, multi=False):
        self.s.sendall(c + b"\r\n")
        line = self.line()
        while multi and line[3:4] == b"-":
            line = self.line()
        if line[:1] not in (b"2", b"3", b"+"):
            raise RuntimeError(f"{c[:20]!r}: {line!r}")
        return line

    def until_dot(self):
        """Bytes up to and including the terminating dot line."""
        got = bytearray(self.buf)
        start = 0
        while True:
            i = got.find(b"\r\n.\r\n", start)
            if i >= 0:
                self.buf = bytes(got[i + 5:])
                return i + 5
            start = max(0, len(got) - 4)
            d = self.s.recv(1 << 20)
            if not d:
                raise EOFError("connection closed")
            got += d


def smtp_round(p, user):
    c = Client(p, True)
    c.cmd(b"AUTH PLAIN " + base64.b64encode(b"\0" + user.encode() + b"\0" + PASSWORD.encode()))
    t0 = time.monotonic()
    for _ in range(MSGS):
        c.s.sendall(b"MAIL FROM:<bench@client.test>\r\nRCPT TO:<bob@dest.test>\r\nDATA\r\n")
        c.line()
        c.line()
        c.line()
        c.s.sendall(msg + b".\r\n")
        if not c.line().startswith(b"250"):
            raise RuntimeError("message refused")
    dt = time.monotonic() - t0
    c.cmd(b"QUIT")
    return MSGS * len(msg) / dt / 1e6


def pop3_round(p, user):
    c = Client(p, False)
    c.cmd(b"USER " + user.encode())
    c.cmd(b"PASS " + PASSWORD.encode())
    n = int(c.cmd(b"STAT").split()[1])
    t0 = time.monotonic()
    got = 0
    for i in range(1, n + 1):
        c.s.sendall(b"RETR %d\r\n" % i)
        got += c.until_dot()
    dt = time.monotonic() - t0
    c.cmd(b"QUIT")
    return got / dt / 1e6


for i in range(MSGS):
    peers.put_pop3_message(f"17000000{i:02d}.M{i}P1.bench", body.replace(b"\r\n", b"\n"))

results = {}
for proto, fn, pp, direct_port in (("smtp", smtp_round, port, peers.smtp_port),
                                   ("pop3", pop3_round, pport, peers.pop3_port)):
    d, p = [], []
    for r in range(ROUNDS):
        # a fresh mailbox each round, so every POP3 RETR is really recorded
        user = f"{USER}%127.0.0.1:{direct_port}%{mailbox()}"
        if r % 2:
            p.append(fn(pp, user))
            d.append(fn(direct_port, USER))
        else:
            d.append(fn(direct_port, USER))
            p.append(fn(pp, user))
    md, mp = statistics.median(d), statistics.median(p)
    ratio = statistics.median(b / a for a, b in zip(d, p))
    results[proto] = ratio
    print(f"{proto}: 1 MiB messages, direct {md:.1f} MB/s, through the proxy (recording) "
          f"{mp:.1f} MB/s, ratio {ratio:.2f} (median of {ROUNDS} rounds; target >= 0.8)",
          flush=True)
    if proto == "pop3":
        # the same messages again: already recorded, so this is the relay
        # alone (TLS both ways, UIDL lookup), without encryption and fsync
        user = f"{USER}%127.0.0.1:{direct_port}%{mailbox()}"
        fn(pp, user)
        r = [fn(pp, user) for _ in range(ROUNDS)]
        print(f"pop3: relay alone (copies already stored) {statistics.median(r):.1f} MB/s, "
              f"ratio {statistics.median(r) / md:.2f}", flush=True)
t._cleanup()
