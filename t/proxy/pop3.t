#!/usr/bin/env python3
# The POP3 recording proxy against a real Dovecot (STLS and implicit TLS),
# with poplib, a raw AUTH PLAIN client and fetchmail; dedup across
# sessions, TOP not recorded, refusals, and a full disk.
import base64
import json
import os
import poplib
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "proxy"))
from msgwtest import Test  # noqa: E402
from peers import (PASSWORD, PROXY_ON, USER, DiskFull, FakeUpstream, Peers, age_decrypt,  # noqa: E402
                   can_mount_tmpfs, have_peers, stored_messages)

t = Test()
missing = have_peers()
if missing:
    t.skip("missing: " + ", ".join(missing), "real Dovecot upstream")
    t.done()

env = t.env()
env.write_config({**env.settings, **PROXY_ON, "proxy.ca_file": env.ca})
peers = Peers(t, env.ca, env.cert, env.key)
peers.start_dovecot()

r = env.run("msgw-mbox", "create", "pop3-proxy", "--proxy", "--json")
if r.returncode != 0:
    t.bail(f"msgw-mbox create: {r.stderr.decode()}")
mb = json.loads(r.stdout)
mbdir = os.path.join(env.data_dir, "mailboxes", mb["id"])
identity = os.path.join(mbdir, "identity.age")
ctx = ssl.create_default_context(cafile=env.ca)


def msg(n, body):
    return (f"From: someone@else.test\nTo: {USER}\nSubject: pop-{n}\n"
            f"Message-ID: <pop-{n}@else.test>\n\n").encode() + body


m1 = msg(1, b"First.\n.leading dot\n..two\n.\nnot the end\n")
m2 = msg(2, b"Second.\n")
m3 = msg(3, b"".join(b"line %06d of a larger message, with some padding text\n" % i for i in range(6000)))
peers.put_pop3_message("1000000001.M1P1.upstream", m1)
peers.put_pop3_message("1000000002.M2P1.upstream", m2)
peers.put_pop3_message("1000000003.M3P1.upstream", m3)


def crlf(m):
    return m.replace(b"\n", b"\r\n")


port = env.port()
env.start("msgw-proxy", "--listen", f"127.0.0.1:{port}", "--foreground", "pop3", port=port)
iport = env.port()
env.start("msgw-proxy", "--implicit-tls", "--listen", f"127.0.0.1:{iport}", "--foreground", "pop3",
          port=iport, logname="msgw-proxy-implicit")
login = f"{USER}%127.0.0.1:{peers.pop3_port}%{mb['id']}"


def copies():
    return stored_messages(env.data_dir, mb["id"])


def contents():
    out = []
    for path in copies():
        data = age_decrypt(identity, mb["password"], path)
        lines = data.split(b"\r\n")
        i = 1
        while lines[i].startswith(b"\t"):
            i += 1
        out.append((b"\r\n".join(lines[:i]), b"\r\n".join(lines[i:])))
    return out


# --- 1. poplib: STLS, USER/PASS, RETR recorded, TOP not ---
p = poplib.POP3("127.0.0.1", port, timeout=30)
caps = p.capa()
t.ok("STLS" in caps and "USER" not in caps and "SASL" not in caps, "before TLS: STLS, no log-in offered")
try:
    p.user(login)
    t.ok(False, "USER before STLS refused")
except poplib.error_proto as e:
    t.like(str(e), "STLS", "USER before STLS refused")
p.stls(ctx)
caps = p.capa()
t.ok("USER" in caps and "SASL" in caps, "after TLS: USER and SASL PLAIN offered")
p.user(login)
t.like(p.pass_(PASSWORD).decode(), "+OK", "log-in relayed to Dovecot")
t.is_(p.stat()[0], 3, "upstream maildrop seen through the proxy")
t.is_(len(p.uidl()[1]), 3, "UIDL list relayed")
t.is_(len(p.list()[1]), 3, "LIST relayed")
t.ok(p.capa() != {}, "CAPA relayed in the transaction state")
resp, lines, _ = p.retr(1)
t.is_(b"\r\n".join(lines) + b"\r\n", crlf(m1), "RETR 1 returned unchanged (dot lines intact)")
resp, lines, _ = p.top(2, 0)
t.ok(resp.startswith(b"+OK"), "TOP relayed")
resp, lines, _ = p.retr(3)
t.is_(b"\r\n".join(lines) + b"\r\n", crlf(m3), "RETR 3 (330 KB) returned unchanged")
p.quit()
got = contents()
t.is_(len(got), 2, "two copies: RETR 1 and RETR 3, not TOP 2")
bodies = [b for _, b in got]
t.ok(crlf(m1) in bodies and crlf(m3) in bodies, "copies decrypt with age to the retrieved messages")
t.ok(all(h.startswith(b"X-Msgw-Proxy: retrieved;") and b"uidl=" in h for h, _ in got),
     "trace header names direction and upstream UIDL")
log = env.log("msgw-proxy")
t.ok(PASSWORD not in log, "the password is in no log line")

# --- 2. dedup across sessions ---
p = poplib.POP3("127.0.0.1", port, timeout=30)
p.stls(ctx)
p.user(login)
p.pass_(PASSWORD)
p.retr(1)
p.retr(2)
p.quit()
t.is_(len(copies()), 3, "second session: RETR 1 not stored again, RETR 2 stored")


# --- 3. AUTH PLAIN, raw client ---
def raw_session(p_port, implicit=False):
    s = socket.create_connection(("127.0.0.1", p_port), timeout=30)
    if implicit:
        s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
    f = s.makefile("rb")
    f.readline()
    return s, f


s, f = raw_session(port)
s.sendall(b"STLS\r\n")
f.readline()
s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
f = s.makefile("rb")
tok = base64.b64encode(b"\0" + login.encode() + b"\0" + PASSWORD.encode())
s.sendall(b"AUTH PLAIN " + tok + b"\r\n")
t.like(f.readline().decode(), "+OK", "AUTH PLAIN relayed as AUTH PLAIN")
s.sendall(b"USER x\r\n")
t.like(f.readline().decode(), "-ERR", "no second log-in")
s.sendall(b"RETR 2\r\n")
data = b""
while not data.endswith(b"\r\n.\r\n"):
    line = f.readline()
    if not line:
        break
    data += line
t.like(data.decode(), "Second.", "RETR over the AUTH PLAIN session")
s.sendall(b"QUIT\r\n")
f.readline()
s.close()
t.is_(len(copies()), 3, "already recorded message not stored again")

# --- 4. implicit TLS both sides ---
p = poplib.POP3_SSL("127.0.0.1", iport, context=ctx, timeout=30)
p.user(f"{USER}%127.0.0.1:{peers.pop3s_port}%{mb['id']}")
t.like(p.pass_(PASSWORD).decode(), "+OK", "implicit TLS to Dovecot's pop3s port")
t.is_(p.stat()[0], 3, "STAT over implicit TLS")
p.quit()

# --- 5. fetchmail through the proxy (keeps mail: nothing new to record) ---
rc = os.path.join(env.dir, "fetchmailrc")
fetched = os.path.join(env.dir, "fetched")
with open(rc, "w") as fh:
    fh.write(f'poll 127.0.0.1 service {port} protocol pop3 auth password\n'
             f'  user "{login}" password "{PASSWORD}" is root here\n'
             f'  sslproto TLS1.2+ sslcertck sslcertfile "{env.ca}" sslcommonname localhost\n'
             f'  keep fetchall mda "/bin/sh -c \'cat >> {fetched}\'"\n')
os.chmod(rc, 0o600)
r = subprocess.run(["fetchmail", "-f", rc, "--nodetach", "--nosyslog", "-i", os.path.join(env.dir, "fm.ids")],
                   capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": env.dir})
t.ok(r.returncode in (0, 1), f"fetchmail through the proxy (exit {r.returncode})", r.stdout + r.stderr)
try:
    with open(fetched, "rb") as fh:
        fm = fh.read()
except FileNotFoundError:
    fm = b""
t.ok(b"Subject: pop-1" in fm and b"Subject: pop-3" in fm and b"line 005999" in fm,
     "fetchmail got all three messages")
t.is_(len(copies()), 3, "fetchmail's retrievals did not duplicate copies")

# --- 6. refusals ---
fake = FakeUpstream(t, "pop3")
p = poplib.POP3("127.0.0.1", port, timeout=30)
p.stls(ctx)
p.user(f"{USER}%127.0.0.1:{fake.port}%{mb['id']}")
try:
    p.pass_(PASSWORD)
    t.ok(False, "upstream without STLS refused")
except poplib.error_proto as e:
    t.like(str(e), "[AUTH] Authentication failed", "upstream without STLS refused (uniform text)")
t.ok(fake.connections == 1 and b"USER" not in fake.received and b"PASS" not in fake.received
     and PASSWORD.encode() not in fake.received, "no credential reached the plaintext upstream",
     fake.received)
p.user(f"{USER}%127.0.0.1:{fake.port}%{'b' * 16}")
try:
    p.pass_(PASSWORD)
    t.ok(False, "unknown mailbox refused")
except poplib.error_proto as e:
    t.like(str(e), "[AUTH] Authentication failed", "unknown mailbox refused (uniform text)")
t.is_(fake.connections, 1, "no upstream connection for an unknown mailbox")

# --- 7. full disk: returned (and logged loudly), or -ERR with pop3_require_copy ---
m4 = msg(4, b"Fourth, while the disk is full.\n")
peers.put_pop3_message("1000000004.M4P1.upstream", m4)
if can_mount_tmpfs():
    strict_conf = os.path.join(env.dir, "strict.conf")
    saved = env.config
    env.config = strict_conf
    env.write_config({**env.settings, "proxy.pop3_require_copy": True})
    env.config = saved
    sport = env.port()
    env.start("msgw-proxy", "-c", strict_conf, "--listen", f"127.0.0.1:{sport}", "--foreground", "pop3",
              port=sport, logname="msgw-proxy-strict")
    full = DiskFull(t, mbdir)
    p = poplib.POP3("127.0.0.1", sport, timeout=30)
    p.stls(ctx)
    p.user(login)
    p.pass_(PASSWORD)
    try:
        p.retr(4)
        t.ok(False, "pop3_require_copy: RETR fails when no copy can be stored")
    except poplib.error_proto as e:
        t.like(str(e), "SYS/TEMP", "pop3_require_copy: RETR fails when no copy can be stored")
    p.quit()
    p = poplib.POP3("127.0.0.1", port, timeout=30)
    p.stls(ctx)
    p.user(login)
    p.pass_(PASSWORD)
    resp, lines, _ = p.retr(4)
    p.quit()
    t.is_(b"\r\n".join(lines) + b"\r\n", crlf(m4), "default: the message still reaches the client")
    t.like(env.log("msgw-proxy"), "level=error", "and the missing copy is logged as an error")
    full.release()
    t.is_(len(copies()), 3, "nothing stored while the disk was full")
    p = poplib.POP3("127.0.0.1", port, timeout=30)
    p.stls(ctx)
    p.user(login)
    p.pass_(PASSWORD)
    p.retr(4)
    p.quit()
    t.is_(len(copies()), 4, "retrieved again with space: now recorded")
else:
    t.skip("cannot mount a tmpfs here", "full disk")


# --- msgw-pop3 hands % log-ins to the proxy (proxy.enabled) ---
seen_uidls = set()
q = poplib.POP3("127.0.0.1", port, timeout=30)
q.stls(ctx)
q.user(login)
q.pass_(PASSWORD)
seen_uidls = {x.split()[1] for x in q.uidl()[1]}
q.quit()
pport = env.port()
env.start("msgw-pop3", "--listen", f"127.0.0.1:{pport}", "--foreground", port=pport)
before = len(copies())
peers.put_pop3_message("1000000009.M9P1.upstream", msg(9, b"Through msgw-pop3.\n"))
p = poplib.POP3("127.0.0.1", pport, timeout=30)
p.stls(ctx)
p.user(login)
t.like(p.pass_(PASSWORD).decode(), "+OK", "msgw-pop3: a user%server%mailbox log-in is relayed to Dovecot")
t.ok(p.stat()[0] >= 1, "msgw-pop3: the upstream maildrop is seen")
new = [int(x.split()[0]) for x in p.uidl()[1] if b"M9P1" in x or x.split()[1] not in seen_uidls]
resp, lines, _ = p.retr(new[-1])
t.like(b"\r\n".join(lines).decode(), "Through msgw-pop3.", "msgw-pop3: the new upstream message is retrieved")
p.quit()
t.is_(len(copies()), before + 1, "msgw-pop3: a message retrieved through it is recorded")
for _ in range(100):   # the summary is written just after the session ends
    if "end=proxy" in env.log("msgw-pop3"):
        break
    time.sleep(0.1)
t.like(env.log("msgw-pop3"), "end=proxy", "msgw-pop3: the session summary says it was proxied")

# with proxy.enabled = false the same log-in is just an unknown name
off_conf = os.path.join(env.dir, "noproxy.conf")
with open(env.config) as f, open(off_conf, "w") as g:
    g.write(f.read().replace("enabled = true;", "enabled = false;", 1))
oport = env.port()
env.start("msgw-pop3", "-c", off_conf, "--listen", f"127.0.0.1:{oport}", "--foreground", port=oport,
          logname="msgw-pop3-noproxy")
p = poplib.POP3("127.0.0.1", oport, timeout=30)
p.stls(ctx)
p.user(login)
try:
    p.pass_(PASSWORD)
    t.ok(False, "proxy.enabled = false: the % log-in is refused")
except poplib.error_proto as e:
    t.like(str(e), "[AUTH]", "proxy.enabled = false: the % log-in is refused like an unknown mailbox")
p.quit()

# every server log free of sanitizer reports (ASan/UBSan/LSan builds)
for name in ['msgw-proxy', 'msgw-proxy-implicit', 'msgw-proxy-strict', 'msgw-pop3',
             'msgw-pop3-noproxy']:
    t.ok("Sanitizer" not in env.log(name) and "runtime error" not in env.log(name),
         f"{name}: no sanitizer report", env.log(name)[-3000:])

t.done()
