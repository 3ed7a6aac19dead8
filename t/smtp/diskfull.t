#!/usr/bin/env python3
# A full disk: data_dir on a small tmpfs. A message that does not fit gets
# 452 4.3.1 (the sender retries), nothing is left in new/ or tmp/ of any
# recipient mailbox, and the next message that fits is stored.
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "smtp"))
from msgwtest import Test, store_mount_opts  # noqa: E402
from smtptest import sanitizer_clean, Mailbox, Raw, strip_trace  # noqa: E402

t = Test()
env = t.env(smtp__require_tls=False)
r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0711" + store_mount_opts(), "msgw-test",
                    env.data_dir],
                   capture_output=True) if os.geteuid() == 0 else None
if r is None or r.returncode != 0:
    t.skip("cannot mount a tmpfs here (needs root): " + (r.stderr.decode().strip() if r else "not root"),
           "full disk gives 452 4.3.1")
    t.done()
t.at_exit(lambda: subprocess.run(["umount", "-l", env.data_dir], capture_output=True))

a = Mailbox(env, "full a")
b = Mailbox(env, "full b")
port = env.port()
env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{port}", port=port)


def send(rcpts, body, bdat=False):
    c = Raw(port)
    c.reply()
    c.cmd("EHLO full.example")
    c.cmd("MAIL FROM:<f@example.org>")
    for x in rcpts:
        c.cmd(f"RCPT TO:<{x.address}>")
    if bdat:
        c.send(b"BDAT %d LAST\r\n" % len(body) + body)
    else:
        c.cmd("DATA")
        c.send(body + b".\r\n")
    res = c.reply()
    c.cmd("QUIT")
    c.close()
    return res


# 1.2 MiB x 2 copies, in lines: the store helper reports the full disk while
# the message streams or at the commit, so the message must not also be one
# with an overlong line (a 500 that may win the race).
big = b"Subject: too big for the disk\r\n\r\n" + (b"0123456789" * 99 + b"\r\n") * 1228
res = send([a, b], big)
t.like(res[1], "452 4.3.1", "disk full during DATA: 452 4.3.1")
t.ok(a.files() == [] and b.files() == [], "nothing in new/ of either mailbox")
t.ok(a.files("tmp") == [] and b.files("tmp") == [], "nothing half-written left in tmp/")
res = send([a], b"Subject: bdat\r\n\r\n" + b"y" * 3 * 1024 * 1024, bdat=True)
t.like(res[1], "452 4.3.1", "disk full during BDAT: 452 4.3.1")
t.ok(a.files() == [] and a.files("tmp") == [], "nothing stored or left behind after BDAT")
small = b"Subject: fits\r\n\r\nsmall\r\n"
res = send([a, b], small)
t.like(res[1], "250 2.6.0", "space freed: the next message is stored")
t.ok(strip_trace(a.last()) == small and strip_trace(b.last()) == small, "both copies complete")
t.like(env.log("msgw-smtp"), "No space left on device", "the cause is logged")
sanitizer_clean(t, env)
t.done()
