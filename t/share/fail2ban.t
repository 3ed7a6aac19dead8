#!/usr/bin/env python3
# The fail2ban filter in share/ against log lines the real servers wrote:
# an attacker guessing POP3 passwords, trying proxy log-ins that msgw
# refuses and SMTP AUTH that fails is matched, by its address, once per
# attempt; a successful POP3 and SMTP session matches nothing.
import json
import os
import poplib
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "proxy"))
from msgwtest import SRCDIR, Test  # noqa: E402
from peers import FakeUpstream  # noqa: E402

FILTER = os.path.join(SRCDIR, "share", "fail2ban", "filter.d", "msgw.conf")
JAIL = os.path.join(SRCDIR, "share", "fail2ban", "jail.d", "msgw.conf")

t = Test()
if shutil.which("fail2ban-regex") is None:
    t.skip("fail2ban-regex missing (Debian package fail2ban)", "fail2ban filter")
    t.done()

env = t.env(proxy__enabled=True, proxy__allowed_targets=["allowed.test", "localhost:*"],
            log_level="info")
env.write_config({**env.settings, "proxy.ca_file": env.ca})
r = env.run("msgw-mbox", "create", "f2b", "--json", check=True)
mb = json.loads(r.stdout)
# A proxy mailbox for the proxy log-ins (journal mail goes to mb).
pmb = json.loads(env.run("msgw-mbox", "create", "f2b-proxy", "--proxy", "--json", check=True).stdout)
ctx = ssl.create_default_context(cafile=env.ca)
# the filter where fail2ban keeps it, beside the common.conf it includes
fdir = os.path.join(env.dir, "fail2ban", "filter.d")
os.makedirs(fdir)
shutil.copy("/etc/fail2ban/filter.d/common.conf", fdir)
shutil.copy(FILTER, fdir)


def servers(tag):
    """An implicit-TLS msgw-pop3 and a STARTTLS msgw-smtp logging to TAG-*."""
    pp, sp = env.port(), env.port()
    env.start("msgw-pop3", "--implicit-tls", "--listen", f"127.0.0.1:{pp}", "--foreground",
              port=pp, logname=f"{tag}-pop3")
    env.start("msgw-smtp", "--listen", f"127.0.0.1:{sp}", "--foreground", port=sp,
              logname=f"{tag}-smtp")
    return pp, sp


def pop3_login(port, user, password):
    """True when the log-in succeeded; the session is closed either way."""
    p = poplib.POP3_SSL("127.0.0.1", port, context=ctx, timeout=30)
    try:
        p.user(user)
        p.pass_(password)
    except poplib.error_proto:
        p.quit()
        return False
    n = p.stat()[0]
    for i in range(1, n + 1):
        p.retr(i)
    p.quit()
    return True


def smtp_auth(port, user, password):
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    s.starttls(context=ctx)
    s.ehlo()
    s.user, s.password = user, password
    try:   # one AUTH PLAIN (smtplib's login() would try LOGIN as well)
        s.auth("PLAIN", s.auth_plain)
        ok = True
    except smtplib.SMTPException:
        ok = False
    s.quit()
    return ok


def syslog_file(tag):
    """The servers' lines as a syslog daemon (facility mail) writes them."""
    stamp = time.strftime("%b %d %H:%M:%S")
    path = os.path.join(env.dir, f"{tag}.syslog")
    with open(path, "w") as out:
        for name in ("pop3", "smtp"):
            for line in env.log(f"{tag}-{name}").splitlines():
                if re.match(r"msgw-\w+\[\d+\]: ", line):
                    out.write(f"{stamp} gw {line}\n")
    return path


def f2b(path):
    """(matched, missed, hits per failregex, matched lines) by fail2ban-regex."""
    r = subprocess.run(["fail2ban-regex", "--print-all-matched", path,
                        os.path.join(fdir, "msgw.conf")],
                       capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    m = re.search(r"Lines: \d+ lines, \d+ ignored, (\d+) matched, (\d+) missed", out)
    hits = [int(h) for h in re.findall(r"^\|\s+\d+\) \[(\d+)\] ", out, re.M)]
    return (int(m.group(1)) if m else -1, int(m.group(2)) if m else -1, hits, out)


# An upstream that refuses every log-in, over TLS the proxy trusts.
up_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
up_ctx.load_cert_chain(env.cert, env.key)
up_smtp = FakeUpstream(t, "smtp", tls=up_ctx)

# The attacker.
pp, sp = servers("attack")
t.ok(not pop3_login(pp, mb["id"], "wrong password"), "POP3: a wrong password is refused")
t.ok(not pop3_login(pp, "aaaaaaaaaaaaaaaa", "guess"), "POP3: an unknown mailbox is refused")
t.ok(not pop3_login(pp, f"u%elsewhere.test%{mb['id']}", "pw"), "POP3: a proxy log-in to a target not allowed is refused")
t.ok(not pop3_login(pp, "u%allowed.test%bbbbbbbbbbbbbbbb", "pw"), "POP3: a proxy log-in to an unknown mailbox is refused")
t.ok(not pop3_login(pp, f"u%allowed.test%{mb['id']}", "pw"), "POP3: a proxy log-in naming a journal mailbox is refused")
t.ok(not smtp_auth(sp, "user@example.com", "pw"), "SMTP: AUTH that is not a proxy log-in fails")
t.ok(not smtp_auth(sp, "u%allowed.test%bbbbbbbbbbbbbbbb", "pw"), "SMTP: a proxy log-in to an unknown mailbox fails")
t.ok(not smtp_auth(sp, f"u%localhost:{up_smtp.port}%{pmb['id']}", "guess"),
     "SMTP: a proxy log-in the target server rejects fails")
for p in env.procs:
    p.terminate()
    p.wait(10)

matched, missed, hits, out = f2b(syslog_file("attack"))
t.is_(matched, 8, "fail2ban-regex matches each of the eight failed attempts once")
t.is_(hits, [2, 1, 5], "per failregex: 2 POP3 log-ins, 1 SMTP AUTH, 5 proxy log-ins")
t.like(out, "result=rejected_by_target", "a log-in the target rejected is among them")
lines = [l for l in out.split("Matched line(s):")[-1].split("Missed line(s):")[0].splitlines()
         if "event=" in l]
t.ok(lines and all("peer=127.0.0.1 " in l for l in lines), "every match is the attacker's address")
t.ok(missed > 0, "the attack's other lines (sessions, greetings) are not matched")
if matched != 7:
    t.diag(out)

# A good archiver and a good sender.
env.procs.clear()
pp, sp = servers("good")
s = smtplib.SMTP("127.0.0.1", sp, timeout=30)
s.starttls(context=ctx)
s.sendmail("journal@example.com", [mb["address"]], b"Subject: hello\r\n\r\nbody\r\n")
s.quit()
t.ok(pop3_login(pp, mb["id"], mb["password"]), "POP3: the archiver logs in and retrieves")
for p in env.procs:
    p.terminate()
    p.wait(10)
path = syslog_file("good")
matched, missed, hits, out = f2b(path)
t.ok(missed > 5, f"the successful sessions logged lines ({missed})")
t.is_(matched, 0, "fail2ban-regex matches nothing in successful sessions")
if matched:
    t.diag(out)

# The jail example names the filter and stays off until enabled.
with open(JAIL) as f:
    jail = f.read()
t.ok(re.search(r"^filter\s*=\s*msgw$", jail, re.M) and re.search(r"^enabled\s*=\s*false$", jail, re.M),
     "the jail example uses the msgw filter and is off until the admin enables it")
t.done()
