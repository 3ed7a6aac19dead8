#!/usr/bin/env python3
# The escrow recipient: crypt.escrow_recipient is checked at start-up;
# with it, a message delivered by SMTP opens with the stock `age -d -i
# ESCROW_KEY` and with the mailbox password, `recover` exports it
# byte-exact, and a mailbox whose password is lost gets a new one from the
# escrow identity, with which POP3 retrieves the old mail. Attacks: a
# wrong escrow key, a message stored before escrow, the old password after
# the reset, an edit to a bogus recipient — all refused.
import json
import os
import poplib
import smtplib
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "smtp"))
from msgwtest import Test  # noqa: E402
from smtptest import sanitizer_clean, Mailbox, strip_trace  # noqa: E402

t = Test()
env = t.env(smtp__require_tls=False)
keys = os.path.join(env.dir, "keys")
os.makedirs(keys, mode=0o700)


def keygen(name):
    path = os.path.join(keys, name)
    subprocess.run(["age-keygen", "-o", path], check=True, capture_output=True)
    pub = subprocess.run(["age-keygen", "-y", path], check=True, capture_output=True).stdout
    return path, pub.decode().strip()


def age_open(key, path):
    r = subprocess.run(["age", "-d", "-i", key, path], capture_output=True, timeout=60)
    return r.stdout if r.returncode == 0 else None


def stanzas(path):
    with open(path, "rb") as f:
        head = f.read(4096).split(b"\n---")[0]
    return head.count(b"\n-> X25519 ")


escrow_key, escrow_pub = keygen("escrow.txt")
other_key, other_pub = keygen("other.txt")

# Start-up check: a bad recipient stops every program with 78 and file:line:key.
base = dict(env.settings)
for bad in ("age1bogus", escrow_pub[:-1] + ("q" if escrow_pub[-1] != "q" else "p")):
    env.write_config({**base, "crypt.escrow_recipient": bad})
    r = env.run("msgw-mbox", "list")
    t.is_(r.returncode, 78, f"crypt.escrow_recipient {bad[:12]}...: exit 78")
    t.like(r.stderr.decode(), f"{env.config}:", "the message names the file")
    t.like(r.stderr.decode(), "crypt.escrow_recipient: ", "... and the key")
    port = env.port()
    r = subprocess.run(env.cmd("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{port}"),
                       capture_output=True, timeout=60)
    t.is_(r.returncode, 78, "msgw-smtp refuses to start with it too")

# A mailbox from before escrow, with one message that has no escrow stanza.
env.write_config(base)
early = Mailbox(env, "from before escrow")
port = env.port()
p0 = env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{port}", port=port, logname="smtp0")


def send(port, rcpts, body):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        return s.sendmail("alice@example.org", rcpts, body)


send(port, [early.address], b"Subject: early\r\n\r\nbefore escrow\r\n")
t.is_(stanzas(early.files()[0]), 1, "before escrow: one X25519 stanza")
p0.terminate()
p0.wait(timeout=30)

env.write_config({**base, "crypt.escrow_recipient": escrow_pub})
a = Mailbox(env, "journal a")
b = Mailbox(env, "journal b")
c = Mailbox(env, "journal c")
r = env.run("msgw-mbox", "edit", b.id, "--escrow-recipient", "none")
t.is_(r.returncode, 0, "edit --escrow-recipient none")
r = env.run("msgw-mbox", "edit", c.id, "--escrow-recipient", other_pub)
t.is_(r.returncode, 0, "edit --escrow-recipient R (its own escrow key)")
r = env.run("msgw-mbox", "edit", c.id, "--escrow-recipient", "age1notakey")
t.is_(r.returncode, 65, "edit --escrow-recipient with a bogus recipient: exit 65")
t.like(r.stderr.decode(), "not an age recipient", "... saying why")
t.like(open(os.path.join(c.dir, "mailbox.conf")).read(), other_pub, "... and mailbox.conf keeps the good one")

port = env.port()
env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{port}", port=port)
msg = (b"From: Alice <alice@example.org>\r\nTo: journal@example.org\r\nSubject: escrow\r\n"
       b"Message-ID: <escrow-1@example.org>\r\n\r\nFor the archive.\r\n\x00\xff bytes\r\n")
t.is_(send(port, [a.address, b.address, c.address], msg), {}, "delivered to three mailboxes")
fa, fb, fc = a.files()[0], b.files()[0], c.files()[0]
t.is_(stanzas(fa), 2, "A: two X25519 stanzas (mailbox and escrow)")
plain_escrow = age_open(escrow_key, fa)
plain_pw = a.decrypt(fa)
t.is_(strip_trace(plain_escrow or b""), msg, "A: stock age -d -i ESCROW_KEY opens it, byte-exact")
t.is_(plain_pw, plain_escrow, "A: the mailbox password opens the same message")
t.is_(stanzas(fb), 1, "B (escrow none): one stanza")
t.ok(age_open(escrow_key, fb) is None, "B: the escrow key does not open it")
t.is_(strip_trace(b.decrypt(fb)), msg, "B: the password does")
t.ok(age_open(escrow_key, fc) is None, "C (own escrow key): the global escrow key does not open it")
t.is_(strip_trace(age_open(other_key, fc) or b""), msg, "C: its own escrow key does")

# show says whether a mailbox has one, and which.
sa = json.loads(env.run("msgw-mbox", "show", a.id, "--json").stdout)
sb = json.loads(env.run("msgw-mbox", "show", b.id, "--json").stdout)
sc = json.loads(env.run("msgw-mbox", "show", c.id, "--json").stdout)
t.is_((sa["escrow_recipient"], sa["escrow_source"]), (escrow_pub, "crypt.escrow_recipient"),
      "show --json: A has the configured escrow recipient")
t.is_(sb["escrow_recipient"], None, "show --json: B has none")
t.is_((sc["escrow_recipient"], sc["escrow_source"]), (other_pub, "mailbox"), "show --json: C its own")
t.like(env.run("msgw-mbox", "show", a.id).stdout.decode(), f"escrow:      {escrow_pub}", "show: A's escrow line")
t.like(env.run("msgw-mbox", "show", b.id).stdout.decode(), "escrow:      none", "show: B's escrow line")

# recover: the escrow identity exports A's messages byte-exact.
out = env.owned_dir("recovered")
r = env.run("msgw-mbox", "recover", a.id, "--escrow-identity", escrow_key, "--maildir", out)
t.is_(r.returncode, 0, "recover with the escrow identity")
got = [open(os.path.join(out, "new", n), "rb").read() for n in os.listdir(os.path.join(out, "new"))]
t.is_(got, [plain_pw], "recover exported the message byte-exact")
r = env.run("msgw-mbox", "recover", b.id, "--escrow-identity", escrow_key, "--maildir", env.owned_dir("recovered-b"))
t.is_(r.returncode, 65, "recover of B (no escrow stanza): exit 65, nothing decrypts")
r = env.run("msgw-mbox", "recover", a.id, "--escrow-identity", fa, "--maildir", env.owned_dir("recovered-x"))
t.is_(r.returncode, 65, "recover with a file that is no identity: exit 65")

# The password of A is lost. reset-password with the escrow identity.
uidl_before = os.path.basename(fa).split(",")[0]
r = env.run("msgw-mbox", "reset-password", a.id, "--escrow-identity", escrow_key)
t.is_(r.returncode, 77, "reset-password of an active mailbox: refused (77)")
a.suspend()
sealed_before = open(os.path.join(a.dir, "identity.age"), "rb").read()
file_before = open(fa, "rb").read()
r = env.run("msgw-mbox", "reset-password", a.id, "--escrow-identity", other_key)
t.is_(r.returncode, 77, "reset-password with another escrow key: refused (77)")
t.like(r.stderr.decode(), "nothing changed", "... saying nothing changed")
t.ok(open(os.path.join(a.dir, "identity.age"), "rb").read() == sealed_before and
     open(fa, "rb").read() == file_before, "... and nothing did")
early.suspend()
r = env.run("msgw-mbox", "reset-password", early.id, "--escrow-identity", escrow_key)
t.is_(r.returncode, 77, "reset-password of a mailbox with mail from before escrow: refused")

r = env.run("msgw-mbox", "reset-password", a.id, "--escrow-identity", escrow_key, "--json")
t.is_(r.returncode, 0, "reset-password --escrow-identity of a suspended, non-empty mailbox")
new_pw = json.loads(r.stdout)["password"]
t.ok(new_pw != a.password, "a new password")
files = a.files()
t.is_([os.path.basename(f).split(",")[0] for f in files], [uidl_before], "the message keeps its name (UIDL)")
t.ok(age_open(escrow_key, files[0]) is not None, "it still opens with the escrow key")
a.suspend(False)

pport = env.port()
env.start("msgw-pop3", "--foreground", "--implicit-tls", "--listen", f"127.0.0.1:{pport}", port=pport)
ctx = ssl.create_default_context(cafile=env.ca)
p = poplib.POP3_SSL("127.0.0.1", pport, context=ctx, timeout=30)
p.user(a.id)
try:
    p.pass_(a.password)
    t.ok(False, "the old password no longer logs in")
except poplib.error_proto:
    t.ok(True, "the old password no longer logs in")
p.close()
p = poplib.POP3_SSL("127.0.0.1", pport, context=ctx, timeout=30)
p.user(a.id)
p.pass_(new_pw)
_, lines, _ = p.retr(1)
got = b"\r\n".join(lines) + b"\r\n"
t.is_(got, plain_pw, "POP3 with the new password retrieves the old mail")
t.like(p.uidl(1).decode(), uidl_before, "with its old UIDL")
p.quit()
sanitizer_clean(t, env)
t.done()
