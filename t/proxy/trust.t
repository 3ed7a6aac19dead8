#!/usr/bin/env python3
# The recording proxy's trust model, played by the attacker from outside:
# an attacker's own accepting mail server (EvilUpstream) and a known
# mailbox id must not get a forged message into a mailbox, the proxy is no
# port scanner or open TLS connector, every refusal looks the same, and no
# command variant puts a message upstream unrecorded (with the attacker's
# server and with a real Postfix).
import base64
import json
import os
import poplib
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "proxy"))
from msgwtest import Test  # noqa: E402
from peers import (PASSWORD, USER, EvilUpstream, Peers, SmtpClient, have_peers,  # noqa: E402
                   stored_messages)

DELAY = 500   # pop3.login_failure_delay, ms
t = Test()
env = t.env(pop3__login_failure_delay=DELAY, smtp__require_tls=False)
base = {**env.settings, "proxy.ca_file": env.ca}
ctx = ssl.create_default_context(cafile=env.ca)
sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
sctx.load_cert_chain(env.cert, env.key)
evil_pop = EvilUpstream(t, "pop3", sctx)
evil_smtp = EvilUpstream(t, "smtp", sctx)


def conf(name, **settings):
    saved, path = env.config, os.path.join(env.dir, name + ".conf")
    env.config = path
    env.write_config({**base, **{k.replace("__", "."): v for k, v in settings.items()}})
    env.config = saved
    return path


def create(name, *flags):
    r = env.run("msgw-mbox", "create", name, *flags, "--json")
    if r.returncode != 0:
        t.bail(f"msgw-mbox create: {r.stderr.decode()}")
    return json.loads(r.stdout)


journal = create("journal")
proxybox = create("proxy", "--proxy")
netbox = create("proxy-nets", "--proxy")
with open(os.path.join(env.data_dir, "mailboxes", netbox["id"], "mailbox.conf"), "a") as f:
    f.write('allowed_networks = [ "192.0.2.0/24" ];\n')


def stored():
    return sum(len(stored_messages(env.data_dir, m["id"])) for m in (journal, proxybox, netbox))


def serve(prog, cfg, service=None, name=None):
    """A front end on a fresh port with configuration cfg (msgw-proxy: service)."""
    port = env.port()
    env.start(prog, "-c", cfg, "--listen", f"127.0.0.1:{port}", "--foreground",
              *([service] if service else []), port=port, logname=name)
    return port


class Smtp(SmtpClient):
    def __init__(self, port):
        super().__init__(socket.create_connection(("127.0.0.1", port), timeout=30))

    def tls(self):
        self.cmd("EHLO attacker.test")
        self.cmd("STARTTLS")
        self.s = ctx.wrap_socket(self.s, server_hostname="127.0.0.1")
        return self.cmd("EHLO attacker.test")

    def auth(self, login, pw=PASSWORD):
        tok = base64.b64encode(b"\0" + login.encode() + b"\0" + pw.encode()).decode()
        return self.cmd("AUTH PLAIN " + tok)


def pop_login(port, login, pw=PASSWORD, retr=True):
    """USER/PASS after STLS, then RETR 1 if that worked: (reply, elapsed)."""
    p = poplib.POP3("127.0.0.1", port, timeout=30)
    p.stls(ctx)
    p.user(login)
    start = time.monotonic()
    try:
        r = p.pass_(pw).decode()
        if retr:
            p.retr(1)
    except poplib.error_proto as e:
        r = e.args[0].decode(errors="replace")
    elapsed = time.monotonic() - start
    try:
        p.quit()
    except Exception:
        pass
    return r, elapsed


def smtp_attempt(port, login, message=True):
    """STARTTLS, AUTH PLAIN, and a message if that worked: (reply, elapsed)."""
    c = Smtp(port)
    c.tls()
    start = time.monotonic()
    r = c.auth(login)
    elapsed = time.monotonic() - start
    if r.startswith("235") and message:
        c.cmd("MAIL FROM:<ceo@victim.test>")
        c.cmd("RCPT TO:<archive@victim.test>")
        if c.cmd("DATA").startswith("354"):
            c.cmd(EvilUpstream.FORGED + b".\r\n")
    c.cmd("QUIT")
    return r, elapsed


def at(box, port, host="127.0.0.1"):
    return f"x%{host}:{port}%{box['id']}"


POP_REFUSAL, SMTP_REFUSAL = "-ERR [AUTH] Authentication failed", "535 5.7.8 Authentication credentials invalid"

# --- 1. shipped defaults: the proxy is off ---
default = conf("default")
p3 = serve("msgw-pop3", default, name="pop3-default")
sm = serve("msgw-smtp", default, name="smtp-default")
pp = serve("msgw-proxy", default, "pop3", name="proxy-pop3-default")
ps = serve("msgw-proxy", default, "smtp", name="proxy-smtp-default")
t.is_(pop_login(p3, at(proxybox, evil_pop.port))[0], POP_REFUSAL,
      "defaults: msgw-pop3 refuses the attacker's % log-in like an unknown mailbox")
c = Smtp(sm)
t.ok("AUTH" not in c.tls(), "defaults: msgw-smtp offers no AUTH")
t.like(c.auth(at(proxybox, evil_smtp.port)), "502", "defaults: msgw-smtp refuses AUTH")
c.cmd("QUIT")
t.is_(pop_login(pp, at(proxybox, evil_pop.port))[0], POP_REFUSAL, "defaults: msgw-proxy pop3 refuses")
t.is_(smtp_attempt(ps, at(proxybox, evil_smtp.port))[0], SMTP_REFUSAL, "defaults: msgw-proxy smtp refuses")
t.is_(evil_pop.connections + evil_smtp.connections, 0, "defaults: the attacker's server is never contacted")
t.is_(stored(), 0, "defaults: nothing stored")

# --- 2. enabled, allowed_targets not listing the attacker ---
strict = conf("strict", proxy__enabled=True, proxy__allowed_targets=["mail.example.org"])
p3 = serve("msgw-pop3", strict, name="pop3-strict")
sm = serve("msgw-smtp", strict, name="smtp-strict")
pp = serve("msgw-proxy", strict, "pop3", name="proxy-pop3-strict")
for port, what in ((p3, "msgw-pop3"), (pp, "msgw-proxy pop3")):
    t.is_(pop_login(port, at(proxybox, evil_pop.port))[0], POP_REFUSAL,
          f"{what}: a target not in allowed_targets gets the uniform refusal")
t.is_(smtp_attempt(sm, at(proxybox, evil_smtp.port))[0], SMTP_REFUSAL,
      "msgw-smtp: a target not in allowed_targets gets the uniform refusal")
t.is_(evil_pop.connections + evil_smtp.connections, 0, "not allowed: never contacted")
t.is_(stored(), 0, "not allowed: nothing stored")
t.like(env.log("pop3-strict"), "result=target_not_allowed", "the reason is in the log")

# --- 3. wildcards never admit loopback (or any special address) ---
wild = conf("wild", proxy__enabled=True, proxy__allowed_targets=["*", "*:*", "*.test:*"])
pp = serve("msgw-proxy", wild, "pop3", name="proxy-pop3-wild")
ps = serve("msgw-proxy", wild, "smtp", name="proxy-smtp-wild")
for host in ("127.0.0.1", "localhost", "127.0.0.2"):
    t.is_(pop_login(pp, at(proxybox, evil_pop.port, host))[0], POP_REFUSAL,
          f"'*:*' does not admit {host} (POP3)")
    t.is_(smtp_attempt(ps, at(proxybox, evil_smtp.port, host))[0], SMTP_REFUSAL,
          f"'*:*' does not admit {host} (SMTP)")
t.is_(evil_pop.connections + evil_smtp.connections, 0, "loopback through a wildcard: never contacted")
t.like(env.log("proxy-pop3-wild"), "address not allowed", "logged: address not allowed")
t.is_(stored(), 0, "wildcards: nothing stored")

# --- 4. listed literally: the port rule, then journal vs proxy mailbox ---
portless = conf("portless", proxy__enabled=True, proxy__allowed_targets=["127.0.0.1"])
pp = serve("msgw-proxy", portless, "pop3", name="proxy-pop3-portless")
t.is_(pop_login(pp, at(proxybox, evil_pop.port))[0], POP_REFUSAL,
      "a pattern without a port admits no other port than 110/995")
t.is_(evil_pop.connections, 0, "other port: never contacted")
literal = conf("literal", proxy__enabled=True,
               proxy__allowed_targets=[f"127.0.0.1:{evil_pop.port}", f"127.0.0.1:{evil_smtp.port}"])
pp = serve("msgw-proxy", literal, "pop3", name="proxy-pop3-literal")
ps = serve("msgw-proxy", literal, "smtp", name="proxy-smtp-literal")
p3 = serve("msgw-pop3", literal, name="pop3-literal")
sm = serve("msgw-smtp", literal, name="smtp-literal")
t.is_(pop_login(pp, at(journal, evil_pop.port))[0], POP_REFUSAL, "a journal mailbox is no proxy target (POP3)")
t.is_(smtp_attempt(ps, at(journal, evil_smtp.port))[0], SMTP_REFUSAL,
      "a journal mailbox is no proxy target (SMTP)")
t.is_(evil_pop.connections + evil_smtp.connections, 0, "journal mailbox: never contacted")
t.like(env.log("proxy-pop3-literal"), "result=journal_mailbox", "logged: journal_mailbox")
t.is_(stored(), 0, "journal mailbox: nothing stored")
# the positive control: the same attempt, allowed, does reach and record
r, _ = pop_login(p3, at(proxybox, evil_pop.port))
t.like(r, "+OK", "listed literally, proxy mailbox: the log-in is relayed")
t.is_(evil_pop.connections, 1, "and the listed upstream was contacted")
t.is_(len(stored_messages(env.data_dir, proxybox["id"])), 1, "a RETR through an allowed upstream is recorded")

# --- 4b. msgw-proxy is proxy-only: no journal transaction, no mailbox log-in ---
def no_journal_before_auth(port, tls, what):
    """MAIL, RCPT to the journal mailbox, DATA pipelined with a forged body,
    and a BDAT whose octets would be a command if not read as its chunk."""
    c = Smtp(port)
    if tls:
        c.tls()
    else:
        c.cmd("EHLO attacker.test")
    r = [c.cmd("MAIL FROM:<ceo@victim.test>"), c.cmd(f"RCPT TO:<{journal['id']}@mail.test>"),
         c.cmd(b"DATA\r\nSubject: forged\r\n\r\nPlanted by the attacker.\r\n.\r\n")]
    body = [c.reply() for _ in range(4)]
    chunk = b"MAIL FROM:<x@victim.test>\r\n"
    r.append(c.cmd(b"BDAT %d LAST\r\n" % len(chunk) + chunk))
    t.ok(all(x.startswith("530 5.7.0 authentication required") for x in r),
         f"{what}: MAIL, RCPT, DATA, BDAT: 530 5.7.0", r)
    t.ok(all(x[:1] == "5" for x in body), f"{what}: the body lines are refused as commands", body)
    t.like(c.cmd("NOOP"), "250", f"{what}: the BDAT octets were read as its chunk, not as a command")
    c.cmd("QUIT")


before, contacted = stored(), evil_smtp.connections
no_journal_before_auth(ps, False, "msgw-proxy smtp before TLS")
no_journal_before_auth(ps, True, "msgw-proxy smtp after TLS, before AUTH")
t.is_(len(stored_messages(env.data_dir, journal["id"])), 0, "msgw-proxy smtp: nothing in the journal mailbox")
t.is_(stored(), before, "msgw-proxy smtp: nothing stored anywhere")
t.is_(evil_smtp.connections, contacted, "msgw-proxy smtp: no upstream contacted")
# the journal mailbox's real password: msgw-pop3 logs in, msgw-proxy refuses
for name in (journal["id"], f"{journal['id']}@mail.test"):
    r, _ = pop_login(p3, name, journal["password"], retr=False)
    t.like(r, "+OK", f"msgw-pop3: {name} with its password logs in (the control)")
    r, elapsed = pop_login(pp, name, journal["password"], retr=False)
    t.is_(r, POP_REFUSAL, f"msgw-proxy pop3: {name} with its password gets the uniform refusal")
    t.ok(elapsed >= DELAY / 1000 - 0.005, "msgw-proxy pop3: after pop3.login_failure_delay", elapsed)
p = poplib.POP3("127.0.0.1", pp, timeout=30)
p.stls(ctx)
try:
    r = p._shortcmd("AUTH PLAIN " + base64.b64encode(b"\0" + journal["id"].encode() + b"\0" +
                                                     journal["password"].encode()).decode()).decode()
except poplib.error_proto as e:
    r = e.args[0].decode(errors="replace")
t.is_(r, POP_REFUSAL, "msgw-proxy pop3: AUTH PLAIN as the mailbox: the uniform refusal")
try:
    r = p._shortcmd("STAT").decode()
except poplib.error_proto as e:
    r = e.args[0].decode(errors="replace")
t.like(r, "-ERR", "and no maildrop is open: STAT refused")
p.quit()
t.like(env.log("proxy-pop3-literal"), "event=login_failed", "logged as a failed log-in")

# --- 5. client networks: proxy.allowed_networks and the mailbox's own ---
nets = conf("nets", proxy__enabled=True, proxy__allowed_targets=[f"127.0.0.1:{evil_pop.port}"],
            proxy__allowed_networks=["192.0.2.0/24"])
p3 = serve("msgw-pop3", nets, name="pop3-nets")
before = evil_pop.connections
t.is_(pop_login(p3, at(proxybox, evil_pop.port))[0], POP_REFUSAL,
      "a client outside proxy.allowed_networks is refused")
t.is_(pop_login(pp, at(netbox, evil_pop.port))[0], POP_REFUSAL,
      "a client outside the mailbox's allowed_networks is refused")
t.is_(evil_pop.connections, before, "networks: the upstream is never contacted")
t.like(env.log("pop3-nets"), "result=network_not_allowed", "logged: network_not_allowed")

# --- 6. one refusal text and one delay, whatever the reason ---
closed = socket.socket()
closed.bind(("127.0.0.1", 0))
closed_port = closed.getsockname()[1]
closed.close()
banner = socket.socket()     # a port that answers, but is no mail server
banner.bind(("127.0.0.1", 0))
banner.listen(8)
banner_port = banner.getsockname()[1]
t.at_exit(banner.close)


def banner_loop():
    banner.settimeout(0.2)
    while True:
        try:
            c, _ = banner.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        try:
            c.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
            time.sleep(0.05)
        finally:
            c.close()


threading.Thread(target=banner_loop, daemon=True).start()
probe = conf("probe", proxy__enabled=True,
             proxy__allowed_targets=[f"127.0.0.1:{closed_port}", f"127.0.0.1:{banner_port}"])
pp = serve("msgw-proxy", probe, "pop3", name="proxy-pop3-probe")
ps = serve("msgw-proxy", probe, "smtp", name="proxy-smtp-probe")
cases = [("closed port", closed_port, proxybox), ("non-mail port", banner_port, proxybox),
         ("unknown mailbox", closed_port, {"id": "a" * 16}),
         ("target not allowed", evil_pop.port, proxybox), ("journal mailbox", banner_port, journal)]
for proto, port, attempt, want in (("POP3", pp, pop_login, POP_REFUSAL),
                                   ("SMTP", ps, smtp_attempt, SMTP_REFUSAL)):
    got = {name: attempt(port, at(box, tport)) for name, tport, box in cases}
    t.ok(all(r == want for r, _ in got.values()), f"{proto}: one refusal text for every reason",
         {k: v[0] for k, v in got.items()})
    # the gateway counts whole milliseconds from the log-in: allow 5 ms
    t.ok(all(e >= DELAY / 1000 - 0.005 for _, e in got.values()),
         f"{proto}: every refusal waits pop3.login_failure_delay",
         {k: round(v[1], 3) for k, v in got.items()})
log = env.log("proxy-pop3-probe")
t.ok("Connection refused" in log and "bad greeting" in log and "unknown_mailbox" in log,
     "the reasons are in the log only", log[-2000:])

# --- 7. RCPT to a proxy mailbox is answered as to an unknown one ---
c = Smtp(sm)
c.cmd("EHLO journal.test")
c.cmd("MAIL FROM:<journal@tenant.test>")
unknown = c.cmd("RCPT TO:<aaaaaaaaaaaaaaaa@mail.test>")
t.like(unknown, "550 5.1.1", "RCPT to an unknown id: 550 5.1.1")
t.is_(c.cmd(f"RCPT TO:<{proxybox['id']}@mail.test>"), unknown,
      "RCPT to a proxy mailbox: exactly the unknown-address reply")
t.like(c.cmd(f"RCPT TO:<{journal['id']}@mail.test>"), "250", "RCPT to a journal mailbox: 250")
c.cmd("QUIT")

# --- 8. SMTP: no command variant puts a byte upstream unrecorded ---
VARIANTS = [b"DATA\t", b"DATA\x0b", b"DATA\x0c", b" DATA", b"DATA x", b"DATA\x00",
            b"DATA\r", b"\tDATA", b"DATA\xa0", b"XDATA", b"DAT", b"DATA:", b"BDAT 10\t", b"VRFY x",
            b"ETRN x", b"XCLIENT ADDR=1.2.3.4", b"MAIL FROM:<a@b>\x0b"]


def smuggle(c, variant, tag):
    """The variant, then a message body as if it had been accepted."""
    replies = [c.cmd(variant + b"\r\n")]
    for line in (b"Subject: " + tag, b"", b"smuggled body " + tag, b"."):
        replies.append(c.cmd(line + b"\r\n"))
    return replies


before_copies = len(stored_messages(env.data_dir, proxybox["id"]))
c = Smtp(serve("msgw-proxy", literal, "smtp", name="proxy-smtp-smuggle"))
c.tls()
t.like(c.auth(at(proxybox, evil_smtp.port)), "235", "the allowed upstream accepts the log-in")
t.like(c.cmd("MAIL FROM:<a@client.test>"), "250", "MAIL relayed")
t.like(c.cmd("RCPT TO:<b@dest.test>"), "250", "RCPT relayed")
local = []
for i, v in enumerate(VARIANTS):
    r = smuggle(c, v, b"smuggled-%d" % i)
    local.append(r[0])
t.ok(all(r[:1] == "5" for r in local), "every variant is refused by the proxy itself", local)
t.ok(b"smuggled" not in evil_smtp.received and b"XCLIENT" not in evil_smtp.received and
     b"VRFY" not in evil_smtp.received and b"\x0b" not in evil_smtp.received,
     "no variant and no byte of the smuggled bodies reached the upstream", evil_smtp.received[-600:])
# what msgw-smtp takes for DATA, the proxy does too: then it is recorded
t.like(c.cmd("dAtA"), "354", "a case variant of DATA is DATA")
c.send(b"Subject: legit\r\n\r\nline\n.\nMAIL FROM:<x@y>\r\nlast\r\n.\r\n")
t.like(c.reply(), "250", "and its message is accepted")
c.cmd("MAIL FROM:<a@client.test>")
c.cmd("RCPT TO:<b@dest.test>")
t.like(c.cmd("DATA  "), "354", "DATA with trailing spaces is DATA (as in msgw-smtp)")
c.send(b"Subject: legit-2\r\n\r\nbody\r\n.\r\n")
t.like(c.reply(), "250", "and its message is accepted")
for _ in range(50):
    if len(stored_messages(env.data_dir, proxybox["id"])) >= before_copies + 2:
        break
    time.sleep(0.1)
t.is_(len(stored_messages(env.data_dir, proxybox["id"])), before_copies + 2, "both are recorded")
t.is_(evil_smtp.received.count(b"\r\nDATA\r\n"), 2, "and each went upstream as the proxy's own DATA")
t.ok(b"line\n..\nMAIL FROM:<x@y>\r\nlast\r\n.\r\n" in evil_smtp.received,
     "a bare-LF dot line is re-stuffed for the upstream: no end of data inside the message",
     evil_smtp.received[-300:])
c.cmd("QUIT")

# an upstream answering 354 to anything but DATA ends the session
odd = EvilUpstream(t, "smtp", sctx, odd_354=b"NOOP")
odd_conf = conf("odd", proxy__enabled=True, proxy__allowed_targets=[f"127.0.0.1:{odd.port}"])
c = Smtp(serve("msgw-proxy", odd_conf, "smtp", name="proxy-smtp-odd"))
c.tls()
c.auth(at(proxybox, odd.port))
c.cmd("MAIL FROM:<a@client.test>")
c.cmd("RCPT TO:<b@dest.test>")
t.like(c.cmd("NOOP"), "421", "354 to NOOP: the proxy ends the session")
try:
    c.send(b"Subject: after-odd-354\r\n\r\nbody\r\n.\r\n")
    time.sleep(0.3)
except OSError:
    pass
t.ok(b"after-odd-354" not in odd.received, "nothing more reaches that upstream")
t.like(env.log("proxy-smtp-odd"), "event=proxy_unexpected_354", "and it is logged")

# --- 9. the same against a real Postfix upstream ---
missing = have_peers()
if missing:
    t.skip("missing: " + ", ".join(missing), "real Postfix: DATA variants queue nothing")
else:
    peers = Peers(t, env.ca, env.cert, env.key)
    peers.start_dovecot()
    peers.start_postfix()
    real = conf("real", proxy__enabled=True, proxy__allowed_targets=[f"127.0.0.1:{peers.smtp_port}"])
    c = Smtp(serve("msgw-proxy", real, "smtp", name="proxy-smtp-real"))
    c.tls()
    t.like(c.auth(f"{USER}%127.0.0.1:{peers.smtp_port}%{proxybox['id']}"), "235",
           "Postfix accepts the relayed log-in")
    c.cmd("MAIL FROM:<sender@client.test>")
    t.like(c.cmd("RCPT TO:<bob@dest.test>"), "250", "Postfix accepts the recipient")
    copies = len(stored_messages(env.data_dir, proxybox["id"]))
    for i, v in enumerate(VARIANTS[:10]):
        smuggle(c, v, b"postfix-smuggled-%d" % i)
    t.like(c.cmd("DATA"), "354", "then a real DATA")
    c.send(b"Subject: postfix-legit\r\n\r\nrecorded\r\n.\r\n")
    t.like(c.reply(), "250", "Postfix queues the real message")
    c.cmd("QUIT")
    got = peers.delivered(1)
    t.ok(len(got) == 1 and b"postfix-legit" in got[0], "Postfix delivered exactly the one message",
         [x[:200] for x in got if isinstance(x, bytes)])
    time.sleep(1)
    got = peers.delivered(1)
    t.ok(not any(isinstance(x, bytes) and b"smuggled" in x for x in got) and len(got) == 1,
         "nothing smuggled was queued by Postfix")
    t.is_(len(stored_messages(env.data_dir, proxybox["id"])), copies + 1,
          "and the message it queued is recorded")

# --- 10. msgw-proxy's log-in deadline (pop3.login_timeout), kept busy with NOOP ---
deadline = conf("deadline", proxy__enabled=True, proxy__allowed_targets=["mail.example.org"],
                pop3__login_timeout=2)
for proto, port in (("smtp", serve("msgw-proxy", deadline, "smtp", name="proxy-smtp-deadline")),
                    ("pop3", serve("msgw-proxy", deadline, "pop3", name="proxy-pop3-deadline"))):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = s.makefile("rb")
    f.readline()
    start, last = time.monotonic(), b""
    for _ in range(100):   # 10 s at most: the idle timeouts are longer
        try:
            s.sendall(b"NOOP\r\n")
        except OSError:
            break
        line = f.readline()
        if not line:
            break
        last = line
        time.sleep(0.1)
    took = time.monotonic() - start
    s.close()
    t.ok(took < 9, f"msgw-proxy {proto}: a client that does not log in is cut at pop3.login_timeout",
         f"{took:.1f} s, last reply {last!r}")
    t.ok(last.startswith(b"421 4.4.2" if proto == "smtp" else b"-ERR"),
         f"msgw-proxy {proto}: with the front end's own timeout reply", last)

for name in os.listdir(env.dir):
    if name.endswith(".log") and ("proxy" in name or "pop3" in name or "smtp" in name):
        log = env.log(name[:-4])
        t.ok("Sanitizer" not in log and "runtime error" not in log, f"{name}: no sanitizer report",
             log[-3000:])
t.done()
