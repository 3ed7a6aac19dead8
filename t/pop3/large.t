#!/usr/bin/env python3
# A 150 MiB message (smtp.max_message_size) streams out of msgw-pop3
# byte-exact in constant memory: the session's peak resident size grows by
# far less than the message while it is sent.
import hashlib
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "pop3"))
from pop3lib import *  # noqa: E402,F403

SIZE = 150 * 1024 * 1024
# Freed memory kept in ASan's quarantine would read as growth.
os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=1"

t = Test()
env = t.env()
sport = start_pop3(env, implicit=True)
mb = create_mailbox(env, "large")
line = b"%-78s\r\n" % (b"x" * 60)
msg = b"Subject: large\r\n\r\n" + line * ((SIZE - 18) // len(line))
want = hashlib.sha256(msg).hexdigest()
put_message(env, mb["id"], msg)
del msg


def hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1))


c = Raw(sport, env.ca, implicit=True, timeout=120)
c.line()
c.cmd(f"USER {mb['id']}")
t.like(c.cmd(f"PASS {mb['password']}"), "+OK", "login")
pids = re.findall(r"msgw-pop3\[(\d+)\]: level=info peer=\S+ event=login mailbox=", env.log("pop3s"))
pid = int(pids[-1])
before = hwm_kib(pid)
t.like(c.cmd("LIST 1"), "+OK 1 %d" % (len(line) * ((SIZE - 18) // len(line)) + 18), "LIST: the exact size")
c.send("RETR 1\r\n")
t.like(c.line(), "+OK", "RETR of a 150 MiB message")
h = hashlib.sha256()
tail = b""
got = 0
deadline = time.monotonic() + 600
while time.monotonic() < deadline:
    b = c.f.read1(1 << 20)
    if not b:
        break
    buf = tail + b
    if buf.endswith(b"\r\n.\r\n"):
        h.update(buf[:-3])
        got += len(buf) - 3
        tail = None
        break
    h.update(buf[:-5])
    got += len(buf) - 5
    tail = buf[-5:]
after = hwm_kib(pid)
t.ok(tail is None, "the message ends with the terminator", got)
t.is_(h.hexdigest(), want, "the 150 MiB message arrives byte-exact")
t.ok(after - before < 16 * 1024, f"peak memory grew by {after - before} KiB while sending 150 MiB (< 16 MiB)",
     (before, after))
t.like(c.cmd("QUIT"), "+OK", "QUIT")
c.close()
sanitizer_clean(t, env)
t.done()
