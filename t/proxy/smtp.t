#!/usr/bin/env python3
# The SMTP recording proxy against a real Postfix (submission with STARTTLS
# and SASL through Dovecot), with smtplib, swaks and a raw pipelining
# client; refusals against fake upstreams that record what reached them.
import base64
import json
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "proxy"))
from msgwtest import Test, make_ca, prog  # noqa: E402
from peers import (PASSWORD, PROXY_ON, USER, DiskFull, SmtpClient, FakeUpstream, Peers, age_decrypt,  # noqa: E402
                   can_mount_tmpfs, have_peers, other_cert, stored_messages)

t = Test()
missing = have_peers()
if missing:
    t.skip("missing: " + ", ".join(missing), "real Postfix/Dovecot upstreams")
    t.done()

env = t.env()
env.write_config({**env.settings, **PROXY_ON, "proxy.ca_file": env.ca})
peers = Peers(t, env.ca, env.cert, env.key)
peers.start_dovecot()
peers.start_postfix()


def mailbox(name):
    r = env.run("msgw-mbox", "create", name, "--proxy", "--json")
    if r.returncode != 0:
        t.bail(f"msgw-mbox create: {r.stderr.decode()}")
    return json.loads(r.stdout)


mb = mailbox("proxy")
mbdir = os.path.join(env.data_dir, "mailboxes", mb["id"])
identity = os.path.join(mbdir, "identity.age")
ctx = ssl.create_default_context(cafile=env.ca)

port = env.port()
env.start("msgw-proxy", "--listen", f"127.0.0.1:{port}", "--foreground", "smtp", port=port)
iport = env.port()
env.start("msgw-proxy", "--implicit-tls", "--listen", f"127.0.0.1:{iport}", "--foreground", "smtp",
          port=iport, logname="msgw-proxy-implicit")


def login(target=None, box=None):
    return f"{USER}%{target or f'127.0.0.1:{peers.smtp_port}'}%{box or mb['id']}"


def message(subject, body=b"Hello.\r\n"):
    return (b"From: Sender <sender@client.test>\r\nTo: bob@dest.test\r\n"
            b"Subject: " + subject.encode() + b"\r\nMessage-ID: <" + subject.encode() +
            b"@client.test>\r\nDate: Mon, 23 Nov 2026 06:00:00 +0000\r\n\r\n" + body)


def upstream_copy_of(subject, count):
    """The message as Postfix delivered it, without Postfix's own headers."""
    for m in peers.delivered(count):
        if isinstance(m, bytes) and (b"Subject: " + subject.encode()) in m:
            i = m.find(b"From: Sender")
            return m[i:] if i >= 0 else m
    return None


def copies():
    return stored_messages(env.data_dir, mb["id"])


def decrypt(path):
    return age_decrypt(identity, mb["password"], path)


def strip_trace(data):
    """The stored copy minus the proxy's X-Msgw-Proxy header (folded)."""
    assert data.startswith(b"X-Msgw-Proxy: sent;"), data[:80]
    lines = data.split(b"\r\n")
    i = 1
    while lines[i].startswith(b"\t"):
        i += 1
    return b"\r\n".join(lines[:i]), b"\r\n".join(lines[i:])


sent = 0

# --- 1. smtplib: STARTTLS, AUTH PLAIN, one message with a dot line ---
body = b"Line one.\r\n.A line that starts with a dot\r\n..two dots\r\n" + b"x" * 2000 + b"\r\n"
msg = message("plain-1", body)
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.starttls(context=ctx)
ehlo = s.ehlo()[1].decode()
t.like(ehlo, "AUTH PLAIN LOGIN", "AUTH PLAIN and LOGIN offered after STARTTLS")
s.login(login(), PASSWORD)
s.sendmail("sender@client.test", ["bob@dest.test"], msg)
s.quit()
sent += 1
got = upstream_copy_of("plain-1", sent)
t.is_(got.replace(b"\n", b"\r\n") if got else None, msg, "message arrived at Postfix unchanged")
c = copies()
t.is_(len(c), 1, "one copy stored")
trace, rest = strip_trace(decrypt(c[0]))
t.is_(rest, msg, "copy decrypts with age to exactly the bytes the client sent")
t.like(trace.decode(), "from=<sender@client.test>", "trace header records the sender")
t.like(trace.decode(), "rcpt=<bob@dest.test>", "trace header records the recipient")
log = env.log("msgw-proxy")
t.ok(PASSWORD not in log and base64.b64encode(PASSWORD.encode()).decode() not in log,
     "the password is in no log line")

# --- 2. swaks: AUTH LOGIN, two recipients ---
r = subprocess.run(["swaks", "--server", f"127.0.0.1:{port}", "--tls", "--tls-verify",
                    "--tls-ca-path", env.ca, "--auth", "LOGIN", "--auth-user", login(),
                    "--auth-password", PASSWORD, "--from", "sender@client.test",
                    "--to", "bob@dest.test,carol@dest.test", "--header", "Subject: swaks-1",
                    "--body", "Sent by swaks.", "--timeout", "30"],
                   capture_output=True, text=True, timeout=90)
t.is_(r.returncode, 0, "swaks with AUTH LOGIN through the proxy")
if r.returncode:
    t.diag(r.stdout[-2000:])
sent += 2
t.ok(upstream_copy_of("swaks-1", sent) is not None, "swaks message delivered upstream")
c = copies()
t.is_(len(c), 2, "one copy per message, not per recipient")
swaks_copy = [decrypt(x) for x in c]
t.ok(any(b"rcpt=<bob@dest.test>,\r\n\t<carol@dest.test>" in x for x in swaks_copy),
     "both recipients in the trace header")


# --- 3. raw client: pipelined groups, two messages, then BDAT ---
class Raw(SmtpClient):
    def __init__(self, p=port, implicit=False):
        sock = socket.create_connection(("127.0.0.1", p), timeout=30)
        if implicit:
            sock = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
        super().__init__(sock)

    def starttls(self):
        self.cmd("EHLO raw.test")
        self.cmd("STARTTLS")
        self.s = ctx.wrap_socket(self.s, server_hostname="127.0.0.1")

    def auth(self, user=None, pw=PASSWORD):
        tok = base64.b64encode(b"\0" + (user or login()).encode() + b"\0" + pw.encode()).decode()
        return self.cmd("AUTH PLAIN " + tok)


raw = Raw()
raw.starttls()
raw.cmd("EHLO raw.test")
t.like(raw.auth(), "235", "AUTH PLAIN with an initial response")
group = ("MAIL FROM:<sender@client.test>\r\nRCPT TO:<bob@dest.test>\r\nRCPT TO:<refuse@dest.test>\r\n"
         "DATA\r\n")
raw.send(group.encode())
replies = [raw.reply() for _ in range(4)]
t.ok(replies[0].startswith("250") and replies[1].startswith("250") and replies[2][0] in "45"
     and replies[3].startswith("354"), "pipelined MAIL/RCPT/RCPT/DATA answered in order",
     replies)
m3 = message("pipe-1")
raw.send(m3 + b".\r\nMAIL FROM:<sender@client.test>\r\nRCPT TO:<bob@dest.test>\r\nDATA\r\n")
replies = [raw.reply() for _ in range(4)]
t.ok(replies[0].startswith("250") and replies[1].startswith("250") and replies[3].startswith("354"),
     "final dot pipelined with the next transaction", replies)
m4 = message("pipe-2", b"Second in the same session.\r\n")
raw.send(m4 + b".\r\n")
t.like(raw.reply(), "250", "second message accepted")
sent += 2
ehlo = raw.cmd("EHLO raw.test")
t.ok("CHUNKING" in ehlo and "AUTH" not in ehlo and "STARTTLS" not in ehlo,
     "upstream EHLO relayed without AUTH and STARTTLS", ehlo)
m5 = message("bdat-1", b"Chunked.\r\n.not stuffed in BDAT\r\n")
raw.send(b"MAIL FROM:<sender@client.test>\r\nRCPT TO:<bob@dest.test>\r\n")
raw.reply()
raw.reply()
raw.send(b"BDAT %d\r\n" % 40 + m5[:40])
t.like(raw.reply(), "250", "first BDAT chunk")
raw.send(b"BDAT %d LAST\r\n" % (len(m5) - 40) + m5[40:])
t.like(raw.reply(), "250", "BDAT LAST accepted")
sent += 1
t.like(raw.cmd("AUTH PLAIN AAAA"), "503", "second AUTH refused")
t.like(raw.cmd("QUIT"), "221", "QUIT relayed")
got = upstream_copy_of("bdat-1", sent)
t.is_(got.replace(b"\n", b"\r\n") if got else None, m5, "BDAT message arrived unchanged")
stored = {strip_trace(decrypt(x))[1] for x in copies()}
t.ok(m3 in stored and m4 in stored and m5 in stored, "pipelined and BDAT messages recorded exactly")
t.is_(len(copies()), 5, "five copies so far")

# msgw-mbox export decrypts the same copies the age tool does
pwfile = os.path.join(env.dir, "mbox.pw")
with open(pwfile, "w") as fh:
    fh.write(mb["password"])
exp = env.owned_dir("export")
r = env.run("msgw-mbox", "export", mb["id"], "--password-file", pwfile, "--maildir", exp)
exported = set()
for sub in ("new", "cur"):
    d = os.path.join(exp, sub)
    for x in (os.listdir(d) if os.path.isdir(d) else []):
        with open(os.path.join(d, x), "rb") as fh:
            exported.add(fh.read())
t.ok(r.returncode == 0 and exported == {decrypt(x) for x in copies()},
     "msgw-mbox export yields the same copies", r.stderr)

# --- 4. upstream rejects the message: no copy ---
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.starttls(context=ctx)
s.login(login(), PASSWORD)
try:
    s.sendmail("sender@client.test", ["bob@dest.test"], message("reject-me"))
    rejected = None
except smtplib.SMTPDataError as e:
    rejected = e.smtp_code
s.quit()
t.ok(rejected is not None and rejected >= 500, f"upstream rejection passed on ({rejected})")
t.is_(len(copies()), 5, "no copy of a rejected message")

# --- 5. implicit TLS on both sides ---
raw = Raw(iport, implicit=True)
raw.cmd("EHLO raw.test")
t.like(raw.auth(login(f"127.0.0.1:{peers.smtps_port}")), "235",
       "implicit-TLS client relayed over implicit TLS upstream")
raw.send(b"MAIL FROM:<sender@client.test>\r\nRCPT TO:<bob@dest.test>\r\nDATA\r\n")
raw.reply()
raw.reply()
t.like(raw.reply(), "354", "DATA over implicit TLS")
raw.send(message("implicit-1") + b".\r\n")
t.like(raw.reply(), "250", "message accepted over implicit TLS")
raw.cmd("QUIT")
sent += 1
t.ok(upstream_copy_of("implicit-1", sent) is not None, "implicit-TLS message delivered")
t.is_(len(copies()), 6, "and recorded")

# --- 6. refusals: nothing reaches the upstream ---
def refused_until_closed(raw, user):
    """Refused log-ins count like any refused command (smtp.max_errors, 10):
    the last is followed by 421 and the end of the session."""
    for _ in range(10):
        r = raw.auth(user)
        if not r.startswith("535"):
            return r + "\n" + raw.reply()
    return r


fake = FakeUpstream(t, "smtp")
raw = Raw()
ehlo = raw.cmd("EHLO raw.test")
t.ok("AUTH" not in ehlo, "no AUTH offered before TLS")
t.like(raw.cmd("AUTH PLAIN " + base64.b64encode(b"\0u%h%m\0pw").decode()), "530",
       "AUTH before STARTTLS refused")
t.like(raw.cmd("MAIL FROM:<a@b.test>"), "530", "MAIL before authentication refused")
raw.starttls()
raw.cmd("EHLO raw.test")
t.like(raw.auth(login(f"127.0.0.1:{fake.port}")), "535 5.7.8", "upstream without STARTTLS refused")
t.ok(fake.connections == 1 and b"AUTH" not in fake.received and PASSWORD.encode() not in fake.received,
     "no credential reached the plaintext upstream", fake.received)
t.like(raw.auth(login(f"127.0.0.1:{fake.port}", "a" * 16)), "535", "unknown mailbox refused")
suspended = mailbox("suspended")
env.run("msgw-mbox", "edit", suspended["id"], "--status", "suspended", check=True)
t.like(raw.auth(login(f"127.0.0.1:{fake.port}", suspended["id"])), "535 5.7.8",
       "suspended mailbox refused, with the uniform text")
end = refused_until_closed(raw, login(f"127.0.0.1:{fake.port}", "a" * 16))
t.ok(end.startswith("421 4.7.0") and end.endswith("\nEOF"),
     "smtp.max_errors refused log-ins and commands end the session", end)
raw = Raw()
raw.starttls()
raw.cmd("EHLO raw.test")
t.like(raw.cmd("AUTH"), "504", "AUTH without a mechanism")
t.like(raw.cmd("AUTH CRAM-MD5"), "504", "unsupported mechanism")
t.like(raw.cmd("AUTH PLAIN ???"), "501", "undecodable response")
t.like(raw.auth(f"{USER}%127.0.0.1%bad"), "535", "malformed log-in refused")
t.like(raw.auth("plainuser"), "535", "a log-in without % refused on the proxy port")
t.is_(fake.connections, 1, "no upstream connection for a refused mailbox")

# wrong host name, then a CA nobody trusts
wrong_crt, wrong_key = other_cert(os.path.join(env.dir, "wrong"), os.path.join(env.dir, "tls"),
                                  ["not-this-host.test"])
sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
sctx.load_cert_chain(wrong_crt, wrong_key)
fake_name = FakeUpstream(t, "smtp", tls=sctx)
raw = Raw()
raw.starttls()
raw.cmd("EHLO raw.test")
t.like(raw.auth(login(f"127.0.0.1:{fake_name.port}")), "535 5.7.8", "upstream certificate for another name refused")
t.ok(b"AUTH" not in fake_name.received, "no credential sent to the wrong host")
_, ocrt, okey = make_ca(os.path.join(env.dir, "otherca"))
sctx2 = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
sctx2.load_cert_chain(ocrt, okey)
fake_ca = FakeUpstream(t, "smtp", tls=sctx2)
t.like(raw.auth(login(f"127.0.0.1:{fake_ca.port}")), "535 5.7.8", "upstream certificate from an unknown CA refused")
t.ok(b"AUTH" not in fake_ca.received, "no credential sent to the unknown CA's server")

# proxy.target_ca_files: that CA, and only it, for the targets it names
pin_conf = os.path.join(env.dir, "pinned.conf")
with open(env.config) as f, open(pin_conf, "w") as g:
    g.write(f.read().replace("proxy = {", "proxy = {\n  target_ca_files = [ \"127.0.0.1=%s\" ];"
                             % os.path.join(env.dir, "otherca", "ca.pem"), 1))
pport = env.port()
env.start("msgw-proxy", "-c", pin_conf, "--listen", f"127.0.0.1:{pport}", "--foreground", "smtp",
          port=pport, logname="msgw-proxy-pinned")
praw = Raw(pport)
praw.starttls()
praw.cmd("EHLO raw.test")
t.like(praw.auth(login(f"127.0.0.1:{fake_ca.port}")), "535 no",
       "target_ca_files: a private CA named for the target is trusted (credentials relayed)")
t.like(praw.auth(login(f"127.0.0.1:{peers.smtp_port}")), "535 5.7.8",
       "target_ca_files: for that target the general trust no longer applies (a pin)")
praw.cmd("QUIT")

# a trusted upstream by name: SNI sent, credentials relayed exactly, the
# upstream's own refusal passed back
sni = []
sctx3 = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
sctx3.load_cert_chain(env.cert, env.key)
sctx3.sni_callback = lambda sock, name, c: sni.append(name)
fake_ok = FakeUpstream(t, "smtp", tls=sctx3)
t.like(raw.auth(login(f"localhost:{fake_ok.port}")), "535 no", "upstream's refusal of the credentials passed on")
t.is_(sni, ["localhost"], "SNI names the target server")
sent_auth = [x for x in fake_ok.received.split(b"\r\n") if x.startswith(b"AUTH PLAIN ")]
t.ok(len(sent_auth) == 1 and base64.b64decode(sent_auth[0][11:]) ==
     b"\0" + USER.encode() + b"\0" + PASSWORD.encode(), "credentials relayed as remote user and password, over TLS only")
try:
    fake6 = FakeUpstream(t, "smtp", tls=sctx3, host="::1")
except OSError as e:
    fake6 = None
    t.skip(f"no IPv6 loopback: {e}", "[::1]:port target, certificate checked against its IP address")
end = refused_until_closed(raw, "plainuser")
t.ok(end.startswith("421 4.7.0") and end.endswith("\nEOF"), "after smtp.max_errors refusals the session ends", end)
if fake6:
    raw = Raw()
    raw.starttls()
    raw.cmd("EHLO raw.test")
    t.like(raw.auth(login(f"[::1]:{fake6.port}")), "535 no",
           "[::1]:port target, certificate checked against its IP address")
    raw.cmd("QUIT")
t.like(env.log("msgw-proxy"), "result=upstream_failed", "refusals logged")

# target allow-list (a second configuration)
allow_conf = os.path.join(env.dir, "allow.conf")
env_settings = dict(env.settings)
env_settings["proxy.allowed_targets"] = ["*.allowed.test", "mail.example.org", "localhost:*"]
env_settings["proxy.reply_timeout"] = 2
saved = env.config
env.config = allow_conf
env.write_config(env_settings)
env.config = saved
aport = env.port()
env.start("msgw-proxy", "-c", allow_conf, "--listen", f"127.0.0.1:{aport}", "--foreground", "smtp",
          port=aport, logname="msgw-proxy-allow")
raw = Raw(aport)
raw.starttls()
raw.cmd("EHLO raw.test")
t.like(raw.auth(login(f"127.0.0.1:{fake.port}")), "535", "target outside proxy.allowed_targets refused")
t.is_(fake.connections, 1, "the disallowed target was never contacted")
# an upstream that accepts the connection and never says a word
silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen(4)
t.at_exit(silent.close)
t.like(raw.auth(login(f"localhost:{silent.getsockname()[1]}")), "535 5.7.8", "silent upstream: the uniform refusal")
t.like(env.log("msgw-proxy-allow"), 'detail="timed out"', "after proxy.reply_timeout")
raw.cmd("QUIT")

# --- 7. disk full: temporary error, nothing sent upstream ---
if can_mount_tmpfs():
    before = len(peers.delivered(sent))
    full = DiskFull(t, mbdir)
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    s.starttls(context=ctx)
    s.login(login(), PASSWORD)
    try:
        s.sendmail("sender@client.test", ["bob@dest.test"], message("diskfull-1"))
        code = 250
    except smtplib.SMTPDataError as e:
        code = e.smtp_code
    s.quit()
    t.ok(400 <= code < 500, f"full disk: temporary error to the client ({code})")
    time.sleep(1)
    t.is_(len(peers.delivered(before)), before, "full disk: nothing delivered upstream")
    t.ok(upstream_copy_of("diskfull-1", before) is None, "the unrecorded message never left")
    full.release()
else:
    t.skip("cannot mount a tmpfs here", "full disk: temporary error")


# --- 8. msgw-smtp hands AUTH with a % log-in to the proxy (proxy.enabled) ---
sport = env.port()
env.start("msgw-smtp", "--listen", f"127.0.0.1:{sport}", "--foreground", port=sport)
before = len(copies())
msg = message("via-msgw-smtp")
s = smtplib.SMTP("127.0.0.1", sport, timeout=30)
t.ok("AUTH" not in s.ehlo()[1].decode(), "msgw-smtp: no AUTH offered before TLS")
s.starttls(context=ctx)
t.like(s.ehlo()[1].decode(), "AUTH PLAIN LOGIN", "msgw-smtp: AUTH PLAIN LOGIN offered after STARTTLS")
s.login(login(), PASSWORD)
s.sendmail("sender@client.test", ["bob@dest.test"], msg)
s.quit()
sent += 1
got = upstream_copy_of("via-msgw-smtp", sent)
t.is_(got.replace(b"\n", b"\r\n") if got else None, msg, "msgw-smtp: the message reached Postfix unchanged")
c = copies()
t.is_(len(c), before + 1, "msgw-smtp: and its copy is stored")
t.ok(any(strip_trace(decrypt(p))[1] == msg for p in c), "msgw-smtp: the copy decrypts to the bytes sent")
for _ in range(100):   # the summary is written just after the session ends
    if "result=proxy" in env.log("msgw-smtp"):
        break
    time.sleep(0.1)
t.like(env.log("msgw-smtp"), "result=proxy", "msgw-smtp: the session summary says it was proxied")
t.ok(PASSWORD not in env.log("msgw-smtp"), "msgw-smtp: the password is in no log line")

# every server log free of sanitizer reports (ASan/UBSan/LSan builds)
for name in ['msgw-proxy', 'msgw-proxy-implicit', 'msgw-proxy-allow', 'msgw-smtp', 'msgw-proxy-pinned']:
    t.ok("Sanitizer" not in env.log(name) and "runtime error" not in env.log(name),
         f"{name}: no sanitizer report", env.log(name)[-3000:])

t.done()
