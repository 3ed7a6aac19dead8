#!/usr/bin/env python3
# Postfix as the sending MTA: a private Postfix instance relays to
# msgw-smtp over TLS (smtp_tls_security_level = encrypt). The stored copies open with the
# stock age tool and match byte-for-byte after the trace headers.
# (Postfix's client sends DATA even when CHUNKING is offered: it has no BDAT.)
import os
import shutil
import smtplib
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "smtp"))
from msgwtest import Test  # noqa: E402
from smtptest import sanitizer_clean, Mailbox, Postfix, strip_trace  # noqa: E402

t = Test()
if shutil.which("postfix") is None or os.geteuid() != 0:
    t.skip("needs postfix and root to run a private instance", "postfix relays to msgw-smtp")
    t.done()

env = t.env()
a = Mailbox(env, "postfix a")
b = Mailbox(env, "postfix b")
port = env.port()
env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{port}", port=port)
pport = env.port()
pf = Postfix(t, os.path.join(env.dir, "postfix"), pport,
             relayhost=f"[127.0.0.1]:{port}", smtp_tls_security_level="encrypt",
             smtp_tls_CAfile=env.ca, smtp_tls_loglevel="1")
pf.start()


def unfold_first_received(msg):
    """Drop Postfix's own Received: field (the first header, folded)."""
    lines = msg.split(b"\r\n")
    if not lines[0].startswith(b"Received: "):
        return None
    i = 1
    while lines[i][:1] in (b"\t", b" "):
        i += 1
    return b"\r\n".join(lines[i:])


msgs = []
for i, (rcpts, body) in enumerate([
        ([a.address, b.address], b"first message to two mailboxes\r\n"),
        ([a.address], b"..a line that starts with a dot\r\n8-bit: \xc3\xa9\xc3\xa8\r\n" + b"x" * 900 + b"\r\n"),
        ([b.address], (b"a longer message line\r\n" * 40000))]):
    m = (b"From: sender@postfix.test\r\nTo: journal@mail.test\r\nSubject: via postfix %d\r\n"
         b"Date: Mon, 23 Nov 2026 06:00:00 +0000\r\nMessage-ID: <%d@postfix.test>\r\n"
         b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
         b"Content-Transfer-Encoding: 8bit\r\n\r\n" % (i, i)) + body
    msgs.append((rcpts, m))
    for _ in range(50):   # postfix's smtpd may need a moment after start
        try:
            with smtplib.SMTP("127.0.0.1", pport, timeout=30) as s:
                s.sendmail("sender@postfix.test", rcpts, m)
            break
        except (ConnectionRefusedError, smtplib.SMTPServerDisconnected):
            time.sleep(0.2)

deadline = time.monotonic() + 90
while time.monotonic() < deadline and (len(a.files()) < 2 or len(b.files()) < 2):
    time.sleep(0.2)
t.ok(len(a.files()) == 2 and len(b.files()) == 2, "postfix relayed every message to msgw-smtp",
     pf.maillog()[-3000:])

got = {}
for mbx in (a, b):
    for f in mbx.files():
        m = mbx.decrypt(f)
        inner = unfold_first_received(strip_trace(m) or b"")
        got.setdefault(mbx.id, []).append((m, inner))
for i, (rcpts, m) in enumerate(msgs):
    for mbx in (a, b):
        if mbx.address in rcpts:
            t.ok(any(inner == m for _, inner in got.get(mbx.id, [])),
                 f"message {i} in mailbox {mbx.id[:4]}: byte-exact after the trace headers")
first = got[a.id][0][0] if a.id in got else b""
t.like(first.split(b"\r\n\r\n")[0].decode(errors="replace"), "with ESMTPS", "received over TLS")
log = env.log("msgw-smtp")
# Postfix 3.7's SMTP client has no BDAT (only its smtpd offers CHUNKING),
# so these copies came by DATA; BDAT is covered by protocol.t, modes.t and
# delivery.t with byte-exact raw clients.
t.ok("event=state from=rcpt to=ready" in log and "to=bdat" not in log,
     "postfix sent with DATA (its client does not speak BDAT)")
t.like(pf.maillog(), "status=sent", "postfix logged the relay as sent")
t.like(pf.maillog(), "TLS connection established to 127.0.0.1", "postfix's connection was TLS")
sanitizer_clean(t, env)
t.done()
