#!/usr/bin/env python3
# Real POP3 clients against msgw-pop3, each retrieving every message of a
# mailbox and deleting it: Python poplib (STLS and implicit TLS), fetchmail
# over POP3S with certificate checking, getmail6, curl. The messages go in
# through msgw-smtp; what comes out must be byte-exact what was sent, after
# the trace headers msgw-smtp puts on top.
import os
import poplib
import re
import smtplib
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "pop3"))
from pop3lib import *  # noqa: E402,F403


def sample_messages():
    """Messages that exercise the stream: leading dots, a "." line, 8-bit
    bytes, an empty body, several 64 KiB chunks past the 1 MiB read-ahead.
    (Bare LF is SMTP's business; maildrop.t stores one directly.)"""
    big = b"".join(b"%07d " % i + b"x" * 70 + (b".dot\r\n" if i % 97 == 0 else b"\r\n")
                   for i in range(30000))
    return [
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: one\r\n\r\nHello.\r\n",
        b"Subject: two\r\n\r\nline 1\r\nline 2\r\n",
        b"Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\nend.\r\n",
        b"Subject: 8bit \xe4\xf6\xfc\r\n\r\n\xff\xfe binary-ish \x01\x02\r\n",
        b"Subject: empty body\r\n\r\n",
        b"Subject: big\r\n\r\n" + big,
    ]


def as_sent(m):
    """What RETR must deliver: CRLF line ends."""
    return m.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def fill(env, mb, msgs):
    s = smtplib.SMTP("127.0.0.1", smtp_port, timeout=60)
    s.starttls(context=ctx)
    for m in msgs:
        s.sendmail("sender@example.org", [mb["address"]], m, mail_options=["BODY=8BITMIME"])
    s.quit()


TRACE = re.compile(rb"\A(?:(?:Return-Path|Received):[^\n]*\n(?:[ \t][^\n]*\n)*)+")


def same(got, want):
    """The same messages; several arriving in one second have no order."""
    return None not in got and sorted(got) == sorted(want)


def untraced(m, eol=b"\r\n"):
    """The message without the trace headers msgw-smtp prepended."""
    got = TRACE.match(m.replace(eol, b"\n"))
    return m[len(got.group(0).replace(b"\n", eol)):] if got else None


def count_files(env, mbid):
    d = mailbox_dir(env, mbid)
    return len(os.listdir(os.path.join(d, "new"))) + len(os.listdir(os.path.join(d, "cur")))


t = Test()
env = t.env()
port = start_pop3(env)
sport = start_pop3(env, implicit=True)
smtp_port = env.port()
env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{smtp_port}", port=smtp_port)
msgs = sample_messages()
want = [as_sent(m) for m in msgs]
ctx = ssl.create_default_context(cafile=env.ca)
work = os.path.join(env.dir, "clients")
os.makedirs(work)


def poplib_fetch(p, mb, name):
    p.user(mb["id"])
    p.pass_(mb["password"])
    n, size = p.stat()
    t.is_(n, len(msgs), f"{name}: STAT counts every message")
    lst = [int(x.split()[1]) for x in p.list()[1]]
    t.is_(size, sum(lst), f"{name}: STAT octets are the sum of LIST")
    uidls = p.uidl()[1]
    t.is_(len(set(u.split()[1] for u in uidls)), len(msgs), f"{name}: UIDLs are unique")
    got = []
    for i in range(1, n + 1):
        resp, lines, octets = p.retr(i)
        got.append(b"\r\n".join(lines) + b"\r\n" if lines else b"")
        p.dele(i)
    t.is_(lst, [len(g) for g in got], f"{name}: LIST sizes equal the RETR octets")
    got = [untraced(g) for g in got]
    t.ok(same(got, want), f"{name}: every message byte-exact after the trace headers",
         [len(g) if g else g for g in got])
    p.quit()


# poplib with STLS
mb = create_mailbox(env, "poplib-stls")
fill(env, mb, msgs)
p = poplib.POP3("127.0.0.1", port, timeout=30)
t.ok("STLS" in p.capa(), "poplib sees STLS")
p.stls(context=ctx)
poplib_fetch(p, mb, "poplib STLS")
t.is_(count_files(env, mb["id"]), 0, "poplib STLS: QUIT removed the deleted messages")

# poplib over implicit TLS, logging in with the full address
mb = create_mailbox(env, "poplib-tls")
fill(env, mb, msgs)
p = poplib.POP3_SSL("127.0.0.1", sport, context=ctx, timeout=30)
mb_addr = dict(mb, id=mb["address"])
poplib_fetch(p, mb_addr, "poplib implicit TLS (address login)")
t.is_(count_files(env, mb["id"]), 0, "poplib implicit TLS: mailbox emptied")

# fetchmail over POP3S, certificate checked against the test CA
mb = create_mailbox(env, "fetchmail")
fill(env, mb, msgs)
out = os.path.join(work, "fetchmail-out")
os.makedirs(out)
saver = os.path.join(work, "save.py")
with open(saver, "w") as f:
    f.write("import sys, os, itertools\n"
            "d = sys.argv[1]\n"
            "n = len(os.listdir(d))\n"
            "open(os.path.join(d, '%04d' % n), 'wb').write(sys.stdin.buffer.read())\n")
rc = os.path.join(work, "fetchmailrc")
with open(rc, "w") as f:
    f.write(f'set invisible\npoll 127.0.0.1 service {sport} protocol pop3 uidl timeout 60\n'
            f'  user "{mb["id"]}" there with password "{mb["password"]}" is "x" here\n'
            f'  ssl sslcertck sslcertfile "{env.ca}" sslcommonname localhost\n'
            f'  fetchall no rewrite\n'
            f'  mda "{sys.executable} {saver} {out}"\n')
os.chmod(rc, 0o600)
home = os.path.join(work, "fmhome")
os.makedirs(home)
r = subprocess.run(["fetchmail", "-f", rc, "--nodetach", "--nosyslog", "-v", "-i", os.path.join(home, "ids")],
                   capture_output=True, timeout=120, env=dict(os.environ, HOME=home))
t.ok(r.returncode == 0, "fetchmail exits 0", r.stdout.decode(errors="replace")[-3000:] + r.stderr.decode(errors="replace")[-2000:])
got = [open(os.path.join(out, n), "rb").read() for n in sorted(os.listdir(out))]
# fetchmail hands the MDA LF line ends.
got = [untraced(g, b"\n") for g in got]
t.ok(same(got, [w.replace(b"\r\n", b"\n") for w in want]),
     "fetchmail: every message byte-exact after the trace headers (LF line ends as its MDA gets them)",
     [len(g) for g in got])
t.is_(count_files(env, mb["id"]), 0, "fetchmail: deleted messages are gone")

# getmail6 with certificate checking, deleting after retrieval
mb = create_mailbox(env, "getmail")
fill(env, mb, msgs)
gdir = os.path.join(work, "getmail")
gout = os.path.join(gdir, "out")
os.makedirs(gout)
with open(os.path.join(gdir, "getmailrc"), "w") as f:
    f.write("[retriever]\ntype = SimplePOP3SSLRetriever\n"
            f"server = localhost\nport = {sport}\nusername = {mb['id']}\npassword = {mb['password']}\n"
            f"ca_certs = {env.ca}\n"
            f"[destination]\ntype = MDA_external\npath = {sys.executable}\n"
            f"arguments = ('{saver}', '{gout}')\nallow_root_commands = true\nunixfrom = false\n"
            "[options]\ndelete = true\nreceived = false\ndelivered_to = false\nread_all = true\n"
            "verbose = 1\n")
r = subprocess.run(["getmail", "--getmaildir", gdir, "--rcfile", "getmailrc"], capture_output=True,
                   timeout=120)
t.ok(r.returncode == 0, "getmail exits 0", r.stdout.decode(errors="replace")[-2000:] + r.stderr.decode(errors="replace")[-2000:])
got = [open(os.path.join(gout, n), "rb").read() for n in sorted(os.listdir(gout))]
# getmail's MDA_external puts its own Return-Path line first: take it off.
rp = b"Return-Path: <unknown>\n"
got = [untraced(g[len(rp):] if g.startswith(rp) else g, b"\n") for g in got]
t.ok(same(got, [w.replace(b"\r\n", b"\n") for w in want]),
     "getmail: every message byte-exact after the trace headers (LF line ends as its MDA gets them)",
     [len(g) if g else g for g in got])
t.is_(count_files(env, mb["id"]), 0, "getmail: deleted messages are gone")

# curl pop3s:// with the test CA: each message by number, then DELE via -X
mb = create_mailbox(env, "curl")
fill(env, mb, msgs)
got = []
for i in range(1, len(msgs) + 1):
    r = subprocess.run(["curl", "-sS", "--cacert", env.ca, "--resolve", f"localhost:{sport}:127.0.0.1",
                        f"pop3s://localhost:{sport}/{i}", "--user", f"{mb['id']}:{mb['password']}"],
                       capture_output=True, timeout=60)
    got.append(r.stdout if r.returncode == 0 else None)
got = [untraced(g) if g else g for g in got]
t.ok(same(got, want), "curl pop3s: every message byte-exact after the trace headers",
     [len(g) if g else g for g in got])
r = subprocess.run(["curl", "-sS", "--cacert", env.ca, "--resolve", f"localhost:{port}:127.0.0.1",
                    "--ssl-reqd", f"pop3://localhost:{port}/", "--user", f"{mb['id']}:{mb['password']}"],
                   capture_output=True, timeout=60)
t.is_(len(r.stdout.splitlines()), len(msgs), "curl pop3 with STLS (--ssl-reqd) lists every message")
t.is_(count_files(env, mb["id"]), len(msgs), "curl: nothing deleted without DELE")
sanitizer_clean(t, env)
t.done()
