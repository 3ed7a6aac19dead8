#!/usr/bin/env python3
# msgw-smtp delivery with real clients: Python smtplib (STARTTLS, implicit
# TLS), a pipelined batch over TLS, swaks (STARTTLS, 8-bit, large). Each
# recipient mailbox gets its own encrypted copy; the stock age tool opens
# it and the content matches byte-for-byte after the trace header.
import os
import shutil
import smtplib
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "smtp"))
from msgwtest import Test  # noqa: E402
from smtptest import sanitizer_clean, Mailbox, Raw, strip_trace  # noqa: E402

t = Test()
env = t.env()
a = Mailbox(env, "journal a")
b = Mailbox(env, "journal b")
port, tport = env.port(), env.port()
env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{port}", port=port)
env.start("msgw-smtp", "--foreground", "--implicit-tls", "--listen", f"127.0.0.1:{tport}", port=tport,
          logname="implicit")
ctx = ssl.create_default_context(cafile=env.ca)

# smtplib with STARTTLS, two recipient mailboxes.
msg = (b"From: Alice <alice@example.org>\r\nTo: journal@example.org\r\nSubject: hello\r\n"
       b"Message-ID: <1@example.org>\r\n\r\nFirst line.\r\n.A line with a leading dot.\r\n")
with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
    s.ehlo("client.example.org")
    s.starttls(context=ctx)
    s.ehlo("client.example.org")
    refused = s.sendmail("alice@example.org", [a.address, b.address], msg)
t.is_(refused, {}, "smtplib STARTTLS: both recipients accepted")
fa, fb = a.files(), b.files()
t.ok(len(fa) == 1 and len(fb) == 1, "one file in new/ of each mailbox")
raw_a, raw_b = open(fa[0], "rb").read(), open(fb[0], "rb").read()
t.ok(raw_a.startswith(b"age-encryption.org/v1\n") and raw_b.startswith(b"age-encryption.org/v1\n"),
     "stored files are age files")
t.ok(b"Subject: hello" not in raw_a and b"First line" not in raw_a, "no plaintext on disk")
t.ok(raw_a != raw_b, "each mailbox has its own encrypted copy")
ma, mb_ = a.decrypt(fa[0]), b.decrypt(fb[0])
t.is_(strip_trace(ma), msg, "copy A opens with age and matches byte-for-byte")
t.is_(strip_trace(mb_), msg, "copy B opens with age and matches byte-for-byte")
head = ma.split(b"\r\n\r\n")[0].decode()
t.like(head, "Return-Path: <alice@example.org>", "Return-Path: with the envelope sender")
t.like(head, "Received: from client.example.org ([127.0.0.1])", "Received: names peer and address")
t.like(head, "by mx.mail.test (msgw) with ESMTPS id ", "Received: names us, ESMTPS and an id")
t.ok("TLS1." in head and "for <" not in head, "Received: TLS version and cipher; no 'for' with two recipients",
     head)
t.ok(",S=" in os.path.basename(fa[0]) and f",W={len(ma)}" in os.path.basename(fa[0]),
     "Maildir name carries the sizes", fa[0])

# Implicit TLS (port 465 style) with SMTP_SSL; null sender; one recipient.
with smtplib.SMTP_SSL("127.0.0.1", tport, context=ctx, timeout=30) as s:
    refused = s.sendmail("", [a.address], b"Subject: implicit\r\n\r\nbody\r\n")
t.is_(refused, {}, "smtplib implicit TLS: accepted")
m = a.last()
t.ok(m.startswith(b"Return-Path: <>\r\n") and f"for <{a.address}>".encode() in m,
     "null sender; 'for' names the one recipient", m[:300])
t.is_(strip_trace(m), b"Subject: implicit\r\n\r\nbody\r\n", "implicit TLS message byte-exact")

# A pipelined transaction over implicit TLS (RFC 2920).
c = Raw(tport, tls=True, ca=env.ca)
c.reply()
c.cmd("EHLO client.example.org")
c.send(f"MAIL FROM:<p@example.org>\r\nRCPT TO:<{a.address}>\r\nRCPT TO:<{b.address}>\r\nDATA\r\n")
t.is_([c.reply()[0] for _ in range(4)], [250, 250, 250, 354], "pipelined MAIL/RCPT/RCPT/DATA over TLS")
c.send(b"Subject: piped\r\n\r\npipelined\r\n.\r\nMAIL FROM:<q@example.org>\r\nRCPT TO:<" +
       a.address.encode() + b">\r\nBDAT 5 LAST\r\nabcdeQUIT\r\n")
t.is_([c.reply()[0] for _ in range(5)], [250, 250, 250, 250, 221], "two transactions and QUIT in one batch")
c.close()
t.is_(strip_trace(a.last()), b"abcde", "BDAT message after a pipelined DATA message")

# swaks: STARTTLS, 8-bit body, and a large message.
if shutil.which("swaks") is None:
    t.skip("swaks not installed", "swaks STARTTLS 8-bit")
    t.skip("swaks not installed", "swaks large message")
else:
    def swaks(data, *extra):
        path = os.path.join(env.dir, "swaks.eml")
        with open(path, "wb") as f:
            f.write(data + b".\r\n")   # sent as is: --no-data-fixup
        return subprocess.run(["swaks", "--server", f"127.0.0.1:{port}", "--tls", "--tls-verify",
                               "--tls-ca-path", env.ca, "--tls-sni", "localhost", "--ehlo", "swaks.example",
                               "--from", "swaks@example.org", "--to", b.address, "--data", "@" + path,
                               "--no-data-fixup", *extra], capture_output=True, timeout=300)

    eight = ("From: s@example.org\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nContent-Type: text/plain; charset=utf-8\r\n"
             "Content-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln — ünïcödé ✓\r\n").encode()
    r = swaks(eight)
    t.ok(r.returncode == 0, "swaks STARTTLS with an 8-bit body", r.stdout[-2000:].decode(errors="replace"))
    t.is_(strip_trace(b.last()), eight, "8-bit message byte-exact")
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&'()*+,-/:;<=>?@[]^_`{|}~\r\n"
    big = b"Subject: large\r\n\r\n" + line * (20 * 1024 * 1024 // len(line))
    r = swaks(big, "--suppress-data")
    t.ok(r.returncode == 0, "swaks STARTTLS with a 20 MiB message", r.stdout[-2000:].decode(errors="replace"))
    got = strip_trace(b.last())
    t.ok(got == big, f"20 MiB message byte-exact ({len(got) if got else None} of {len(big)} bytes)")

t.like(env.log("msgw-smtp"), "event=message", "per-message log line")
sanitizer_clean(t, env)
t.done()
