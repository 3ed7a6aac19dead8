#!/usr/bin/env python3
"""Scale-out: two gateways (host names gw-a and gw-b, each in a UTS
namespace of its own) over one replica-2 GlusterFS volume, each with
data_dir on its own FUSE mount, as two hosts would be. A mailbox made on A
is seen on B; 8 concurrent SMTP clients split over both hosts while a
brick is killed with SIGKILL, every 250 retrievable exactly once and
byte-exact from either host, also after the brick returns and heals (read
with the other brick down); the maildrop lock across hosts: refused while
held, no refusal right after QUIT, a session killed with SIGKILL on A
locks B out only until the lease runs out, A itself breaks it at once; DELE
on B seen on A. Skips only without root or FUSE (see glusterlib.py)."""
import json
import os
import poplib
import re
import signal
import smtplib
import ssl
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("MSGW_SRCDIR", os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "t", "lib"))
sys.path.insert(0, os.path.join(SRC, "t", "store"))
import glusterlib  # noqa: E402

glusterlib.outer(os.path.abspath(__file__), timeout=900)

from glusterlib import Cluster, on_host  # noqa: E402
from msgwtest import Test, free_port, start_process, store_dir, wait_port  # noqa: E402

LEASE, RENEW = 6, 2
CLIENTS, PER_CLIENT, SIZE = 8, 25, 4096
STATE = os.environ["MSGW_GLUSTER_STATE"]

t = Test()
cluster = Cluster(t)
t.ok(True, f"GlusterFS replica-2 volume {glusterlib.VOL} mounted twice: {', '.join(cluster.mounts)}")


class Host:
    """One gateway: a config with data_dir on its own mount, its host name."""

    def __init__(self, name, mount, tls=None):
        self.name = name
        conf = dict(smtp__require_tls=False, pop3__lock_lease=LEASE, pop3__lock_renew=RENEW,
                    log_level="info", server__max_connections=50)
        if tls:
            conf.update(tls__cert=tls.cert, tls__key=tls.key)
        self.env = t.env(**conf)
        self.ca = tls.ca if tls else self.env.ca
        self.data_dir = os.path.join(mount, "data")
        store_dir(self.data_dir)   # msgw's, 0711, as tmpfiles.d makes it
        self.env.write_config(dict(self.env.settings, data_dir=self.data_dir))

    def run(self, *args, input=None):
        r = subprocess.run(on_host(self.name, self.env.cmd("msgw-mbox", *args)), input=input,
                           capture_output=True, timeout=120)
        return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")

    def start(self, prog, *args):
        port = free_port()
        argv = on_host(self.name, self.env.cmd(prog, "--foreground", *args, "--listen", f"127.0.0.1:{port}"))
        p = start_process(t, argv, os.path.join(self.env.dir, f"{prog}.log"))
        os.makedirs(f"{STATE}/gw", exist_ok=True)
        with open(f"{STATE}/gw/{self.name}-{prog}.pid", "w") as f:
            f.write(f"{p.pid}\n")
        wait_port(port, proc=p)
        return port

    def pop3(self, mbid, pw):
        """A logged-in POP3 session over implicit TLS (raises poplib.error_proto)."""
        ctx = ssl.create_default_context(cafile=self.ca)
        p = poplib.POP3_SSL("127.0.0.1", self.pop3_port, context=ctx, timeout=60)
        try:
            p.user(mbid)
            p.pass_(pw)
        except Exception:
            p.close()
            raise
        return p


a = Host("gw-a", cluster.mounts[0])
b = Host("gw-b", cluster.mounts[1], tls=a.env)
for h in (a, b):
    h.smtp_port = h.start("msgw-smtp")
    h.pop3_port = h.start("msgw-pop3", "--implicit-tls")

# -- a mailbox made on A is seen on B ----------------------------------------
rc, out, err = a.run("create", "scale-out", "--json")
mb = json.loads(out) if rc == 0 else {}
t.ok(rc == 0 and mb.get("id"), "create on gw-a", err)
mbid, pw, addr = mb.get("id", ""), mb.get("password", ""), mb.get("address", "")
rc, out, err = b.run("show", mbid, "--json")
t.ok(rc == 0 and json.loads(out).get("id") == mbid, "gw-b sees the mailbox made on gw-a", err)
mbdirs = [os.path.join(h.data_dir, "mailboxes", mbid) for h in (a, b)]

# -- 8 concurrent SMTP clients over both hosts, a brick killed meanwhile ----
sent, acked, failed = {}, set(), []
lock = threading.Lock()
brick_killed = threading.Event()


def message(token):
    body = (f"token {token}\r\n" + ("x" * 76 + "\r\n") * (SIZE // 78)).encode()
    return (f"From: journal@example.org\r\nTo: {addr}\r\nSubject: {token}\r\n"
            f"Message-ID: <{token}@example.org>\r\n\r\n").encode() + body


def client(i):
    host = (a, b)[i % 2]
    try:
        s = smtplib.SMTP("127.0.0.1", host.smtp_port, timeout=120)
    except OSError as e:
        with lock:
            failed.append(f"client {i}: connect: {e}")
        return
    for k in range(PER_CLIENT):
        token = f"c{i}m{k}r{os.urandom(4).hex()}"
        data = message(token)
        with lock:
            sent[token] = data
        try:
            s.sendmail("journal@example.org", [addr], data)
            with lock:
                acked.add(token)
        except (smtplib.SMTPException, OSError) as e:
            with lock:
                failed.append(f"{token} via {host.name}: {e}")
            try:
                s.close()
                s = smtplib.SMTP("127.0.0.1", host.smtp_port, timeout=120)
            except OSError:
                return
    s.quit()


def killer():
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(acked) < CLIENTS * PER_CLIENT // 3:
        time.sleep(0.01)
    cluster.kill_brick(1)
    brick_killed.set()


threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
kt = threading.Thread(target=killer)
t0 = time.monotonic()
kt.start()
for th in threads:
    th.start()
for th in threads:
    th.join(600)
kt.join(300)
dt = time.monotonic() - t0
t.ok(brick_killed.is_set(), f"brick 2 killed with SIGKILL after {CLIENTS * PER_CLIENT // 3} acknowledged messages")
t.ok(len(acked) == CLIENTS * PER_CLIENT and not failed,
     f"{CLIENTS} clients over gw-a and gw-b: {len(acked)} of {CLIENTS * PER_CLIENT} got 250 ({dt:.1f} s)",
     "\n".join(failed[:10]))
for d, h in zip(mbdirs, (a, b)):
    t.is_(os.listdir(os.path.join(d, "tmp")), [], f"nothing left in tmp/ (seen from {h.name}'s mount)")

# -- the brick returns and heals; read with the other brick down ------------
cluster.restart_bricks()
heal_s = cluster.heal()
t.ok(True, f"brick 2 restarted and healed in {heal_s:.1f} s")
cluster.kill_brick(0)
t.ok(True, "brick 1 killed: the healed brick 2 alone serves what follows")


def retrieve(host):
    """{token: count}, unknown texts, mismatches: RETR of every message."""
    p = host.pop3(mbid, pw)
    seen, bad = {}, []
    try:
        n = len(p.list()[1])
        uidls = [u.split()[1] for u in p.uidl()[1]]
        for i in range(1, n + 1):
            lines = p.retr(i)[1]
            got = b"\r\n".join(lines) + b"\r\n"
            m = re.search(rb"^token (\S+)\r$", got, re.M)
            tok = m.group(1).decode() if m else None
            seen[tok] = seen.get(tok, 0) + 1
            if tok not in sent or not got.endswith(sent[tok]) or b"Received: " not in got[:-len(sent[tok])]:
                bad.append(tok)
    finally:
        p.quit()
    return seen, bad, sorted(uidls)


seen_b, bad_b, uidls_b = retrieve(b)
t.ok(all(seen_b.get(tok) == 1 for tok in acked), "every 250 retrieved exactly once from gw-b (one brick healed)",
     [tok for tok in acked if seen_b.get(tok) != 1][:10])
t.ok(not bad_b and all(c == 1 for c in seen_b.values()),
     f"byte-exact behind the trace headers, no duplicate, nothing unknown ({len(seen_b)} messages)", bad_b[:10])
cluster.restart_bricks()
cluster.heal()
seen_a, bad_a, uidls_a = retrieve(a)
t.ok(seen_a == seen_b and not bad_a and uidls_a == uidls_b, "gw-a retrieves the same messages, UIDLs and bytes")

# -- the maildrop lock across hosts ------------------------------------------


def refused(host):
    """None when a log-in succeeds (then QUIT), else the -ERR text."""
    try:
        host.pop3(mbid, pw).quit()
        return None
    except poplib.error_proto as e:
        return e.args[0].decode(errors="replace")


def holder_pid():
    with open(os.path.join(mbdirs[0], "maildrop.lock")) as f:
        return int(f.read().split()[2])


sa = a.pop3(mbid, pw)
r = refused(b)
t.ok(r is not None and "[IN-USE]" in r, "a lock held on gw-a refuses gw-b with [IN-USE]", r)
rc, out, err = b.run("show", mbid)
t.ok(rc == 0 and re.search(r"locked by:   gw-a pid \d+, lease renewed \d+ s ago, lease 6 s \(live\)", out),
     "msgw-mbox show on gw-b names the holder on gw-a and the lease", out)
rc, out, err = b.run("unlock", mbid)
t.ok(rc == 75 and "gw-a" in err, "msgw-mbox unlock on gw-b refuses the live lock of gw-a", err)
sa.quit()
r = refused(b)
t.ok(r is None, "right after gw-a's QUIT, gw-b logs in without a refusal", r)

sa = a.pop3(mbid, pw)
pid = holder_pid()
os.kill(pid, signal.SIGKILL)
t0 = time.monotonic()
tries, r = 0, "not tried"
while r is not None and time.monotonic() - t0 < LEASE + 30:
    r = refused(b)
    tries += 1
waited = time.monotonic() - t0
sa.sock.close()
t.diag(f"pop3.lock_lease = {LEASE} s, pop3.lock_renew = {RENEW} s: gw-b got in {waited:.1f} s after "
       f"kill -9 of gw-a's session (pid {pid}), after {tries - 1} refusals")
t.ok(r is None and waited <= LEASE + 3,
     f"after kill -9 on gw-a, gw-b logs in as the lease runs out ({waited:.1f} s; lease {LEASE} s, "
     "plus one log-in)", r)
t.ok(waited >= LEASE - RENEW - 1, "gw-b waited for the lease: it cannot judge a pid of another host")

sa = a.pop3(mbid, pw)
os.kill(holder_pid(), signal.SIGKILL)
sa.sock.close()
t0 = time.monotonic()
r = refused(a)
t.ok(r is None, f"gw-a breaks the lock of its own killed session at once ({time.monotonic() - t0:.1f} s)", r)

# -- DELE on B is seen on A --------------------------------------------------
sb = b.pop3(mbid, pw)
n = len(sb.list()[1])
gone = sb.uidl(1).split()[2]
sb.dele(1)
sb.quit()
sa = a.pop3(mbid, pw)
uidls = [u.split()[1] for u in sa.uidl()[1]]
sa.quit()
t.ok(len(uidls) == n - 1 and gone not in uidls, "DELE on gw-b is seen on gw-a")

bad = []
for h in (a, b):
    for name in os.listdir(h.env.dir):
        if name.endswith(".log") and re.search(r"Sanitizer|runtime error:",
                                                open(os.path.join(h.env.dir, name), errors="replace").read()):
            bad.append(f"{h.name}/{name}")
t.ok(not bad, "no sanitizer report in the gateways' logs", bad)
t.done()
