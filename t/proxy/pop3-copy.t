#!/usr/bin/env python3
# The POP3 proxy's recording: a TOP that carries the whole message is
# recorded like a RETR, once per UIDL; a partial TOP is not; seen-UIDL
# records planted from elsewhere suppress no copy; pop3_require_copy
# handles a 150 MiB message in constant memory (peak RSS of the serving
# process under the msgw-proxy-pop3s unit's MemoryMax).
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "proxy"))
from msgwtest import Test  # noqa: E402
from peers import PASSWORD, EvilUpstream, stored_messages  # noqa: E402

MEMORY_MAX = 128 << 20   # share/msgw-proxy-pop3s@.service.in
BIG = 150 << 20          # smtp.max_message_size's default, which also bounds a copy

t = Test()
env = t.env()
ctx = ssl.create_default_context(cafile=env.ca)
sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
sctx.load_cert_chain(env.cert, env.key)
up = EvilUpstream(t, "pop3", sctx)
line = b"x" * 998 + b"\r\n"
big_msg = b"Subject: big\r\n\r\n" + line * ((BIG - 16) // len(line))
big_msg += b"y" * (BIG - len(big_msg) - 2) + b"\r\n"
big = EvilUpstream(t, "pop3", sctx, message=big_msg)


def conf(name, **settings):
    saved, path = env.config, os.path.join(env.dir, name + ".conf")
    env.config = path
    env.write_config({**env.settings, "proxy.ca_file": env.ca, "proxy.enabled": True,
                      "proxy.allowed_targets": [f"127.0.0.1:{up.port}", f"127.0.0.1:{big.port}"],
                      **{k.replace("__", "."): v for k, v in settings.items()}})
    env.config = saved
    return path


def create(name):
    r = env.run("msgw-mbox", "create", name, "--proxy", "--json")
    if r.returncode != 0:
        t.bail(f"msgw-mbox create: {r.stderr.decode()}")
    return json.loads(r.stdout)


class Pop:
    def __init__(self, sock):
        self.s, self.buf = sock, b""
        self.line()
        self.cmd("STLS")
        self.s = ctx.wrap_socket(self.s, server_hostname="127.0.0.1")

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(1 << 20)
            if not d:
                return "EOF"
            self.buf += d
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln.decode(errors="replace")

    def cmd(self, c):
        self.s.sendall(c.encode() + b"\r\n")
        return self.line()

    def body(self):
        """The dot-terminated body: its size with CRLF, un-stuffed; -1 if cut."""
        n = 0
        while True:
            ln = self.line()
            if ln == "EOF":
                return -1
            if ln == ".":
                return n
            n += len(ln) + 2 - (1 if ln.startswith("..") else 0)

    def login(self, box, upstream):
        self.cmd(f"USER x%127.0.0.1:{upstream.port}%{box['id']}")
        return self.cmd("PASS " + PASSWORD)


def session(port):
    return Pop(socket.create_connection(("127.0.0.1", port), timeout=120))


def copies(box):
    return len(stored_messages(env.data_dir, box["id"]))


port = env.port()
env.start("msgw-proxy", "-c", conf("proxy"), "--listen", f"127.0.0.1:{port}", "--foreground", "pop3",
          port=port)

# --- TOP with the whole message: recorded once per UIDL ---
box = create("top")
p = session(port)
t.like(p.login(box, up), "+OK", "logged in through the proxy")
t.like(p.cmd("TOP 1 0"), "+OK", "TOP 1 0 relayed")
t.ok(p.body() > 0, "the header came back")
p.cmd("NOOP")
t.is_(copies(box), 0, "a TOP of the header only is not recorded")
t.like(p.cmd("TOP 1 99999999"), "+OK", "TOP 1 99999999 (fetchmail's way to fetch)")
t.is_(p.body(), len(EvilUpstream.FORGED), "the whole message came back")
p.cmd("NOOP")
t.like(p.cmd("TOP 1 99999999"), "+OK", "TOP again")
p.body()
t.like(p.cmd("RETR 1"), "+OK", "and RETR")
p.body()
t.like(p.cmd("QUIT"), "+OK", "QUIT")
t.is_(copies(box), 1, "one copy for the UIDL, whether fetched by TOP or RETR")

# --- planted seen records suppress nothing ---
victim = create("victim")
vdir = os.path.join(env.data_dir, "mailboxes", victim["id"])
shutil.copy(os.path.join(env.data_dir, "mailboxes", box["id"], "proxy-seen"),
            os.path.join(vdir, "proxy-seen"))
# The planter writes as the store's owner would (the file stays msgw's).
vst = os.stat(vdir)
os.chown(os.path.join(vdir, "proxy-seen"), vst.st_uid, vst.st_gid)
with open(os.path.join(vdir, "proxy-seen"), "a") as f:   # and guesses of every unkeyed kind
    for acct in ("x%127.0.0.1", "x"):
        for uid in ("forged-1", "1"):
            f.write(hashlib.sha256(f"{acct}\0{uid}".encode()).hexdigest()[:32] + "\n")
            f.write(hashlib.md5(f"{acct}%{uid}".encode()).hexdigest() + "\n")
p = session(port)
p.login(victim, up)
t.like(p.cmd("RETR 1"), "+OK", "RETR into a mailbox with planted records")
p.body()
p.cmd("QUIT")
t.is_(copies(victim), 1, "records planted from another mailbox (or guessed) do not suppress the copy")
t.ok(os.path.exists(os.path.join(vdir, "proxy-seen.key")), "the mailbox has a secret of its own")
p = session(port)
p.login(victim, up)
p.cmd("RETR 1")
p.body()
p.cmd("QUIT")
t.is_(copies(victim), 1, "its own record does suppress a second copy")

# --- pop3_require_copy, 150 MiB, in constant memory ---
strict = conf("strict", proxy__pop3_require_copy=True)
bigbox = create("big")
lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(1)
client = socket.create_connection(lsock.getsockname(), timeout=300)
server, _ = lsock.accept()
lsock.close()
child_env = dict(os.environ)
child_env["ASAN_OPTIONS"] = (child_env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=8").lstrip(":")
with open(os.path.join(env.dir, "msgw-proxy-big.log"), "wb") as log:
    proc = subprocess.Popen(env.cmd("msgw-proxy", "-c", strict, "--foreground", "pop3"),
                            stdin=server, stdout=server, stderr=log, env=child_env)
server.close()
p = Pop(client)
t.like(p.login(bigbox, big), "+OK", "150 MiB: logged in")
t.like(p.cmd("RETR 1"), "+OK", "150 MiB: RETR with pop3_require_copy")
t.is_(p.body(), len(big_msg), "150 MiB: the whole message reached the client")
# the serving process's high-water mark, while it still runs (rusage from
# wait4 would start from the Python parent's size at fork)
with open(f"/proc/{proc.pid}/status") as f:
    peak = next((int(x.split()[1]) << 10 for x in f if x.startswith("VmHWM:")), 1 << 40)
p.cmd("QUIT")
client.close()
proc.wait(60)
t.ok(peak < MEMORY_MAX, f"150 MiB: peak memory {peak >> 20} MiB, under MemoryMax {MEMORY_MAX >> 20} MiB")
t.is_(copies(bigbox), 1, "150 MiB: and recorded")
log = env.log("msgw-proxy-big")
t.ok("Sanitizer" not in log and "runtime error" not in log, "no sanitizer report", log[-2000:])
log = env.log("msgw-proxy")
t.ok("Sanitizer" not in log and "runtime error" not in log, "no sanitizer report", log[-2000:])
t.done()
