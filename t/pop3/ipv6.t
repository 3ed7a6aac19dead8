#!/usr/bin/env python3
# Real clients over IPv6 and by address: msmtp delivers to msgw-smtp and
# mpop retrieves from msgw-pop3, configured with "host ADDRESS" and no
# name override, certificates verified against the test CA (which names
# 127.0.0.1 and ::1). An IPv6 sender appears in Received: as the RFC 5321
# address literal [IPv6:::1].
# With "host ::1", both send "::1" as the TLS server name (RFC 6066 forbids
# it; GnuTLS 3.7 refuses it): msgw ignores the name and the session goes on
# (src/net/sni.c, net/tls.c), and says so in the debug log.
import os
import smtplib
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "pop3"))
from pop3lib import *  # noqa: E402,F403

t = Test()
env = t.env(smtp__require_tls=True)
mb = create_mailbox(env)
maildir = os.path.join(mailbox_dir(env, mb["id"]), "new")
ports = {}
for host in ("127.0.0.1", "::1"):
    literal = f"[{host}]" if ":" in host else host
    ports[host] = (env.port(), env.port())
    env.start("msgw-smtp", "--foreground", "--listen", f"{literal}:{ports[host][0]}",
              logname=f"smtp-{len(host)}")
    env.start("msgw-pop3", "--implicit-tls", "--foreground", "--listen",
              f"{literal}:{ports[host][1]}", logname=f"pop3-{len(host)}")
for host in ports:
    for p in ports[host]:
        wait_port(p, host=host)
pwfile = os.path.join(env.dir, "password")
with open(pwfile, "w") as f:
    f.write(mb["password"])


def rcfile(name, text):
    path = os.path.join(env.dir, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def account(host, port, starttls):
    """The part of an msmtp or mpop account both share: by address, TLS
    verified against the test CA, no name override."""
    return (f"account default\nhost {host}\nport {port}\ntls on\n"
            f"tls_starttls {'on' if starttls else 'off'}\ntls_trust_file {env.ca}\n")


def msmtp(host, subject):
    rc = rcfile(f"msmtprc-{len(host)}", account(host, ports[host][0], True) + """\
from sender@example.org
auth off
""")
    msg = f"From: sender@example.org\r\nSubject: {subject}\r\n\r\nvia msmtp\r\n".encode()
    return subprocess.run(["msmtp", "-C", rc, mb["address"]], input=msg, capture_output=True,
                          timeout=60)


def mpop(host):
    out = os.path.join(env.dir, f"fetched-{len(host)}")
    for s in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(out, s), exist_ok=True)
    rc = rcfile(f"mpoprc-{len(host)}", account(host, ports[host][1], False) + f"""\
user {mb['id']}
passwordeval cat {pwfile}
delivery maildir {out}
keep off
""")
    r = subprocess.run(["mpop", "-C", rc, "-q"], capture_output=True, timeout=60)
    got = []
    for f in os.listdir(os.path.join(out, "new")):
        with open(os.path.join(out, "new", f), "rb") as fh:
            got.append(fh.read())
    return r, got


# By IPv4 address: both clients work end to end.
r = msmtp("127.0.0.1", "v4")
t.ok(r.returncode == 0, "msmtp with host 127.0.0.1 delivers", r.stderr)
r, got = mpop("127.0.0.1")
t.ok(r.returncode == 0, "mpop with host 127.0.0.1 retrieves", r.stderr)
t.ok(len(got) == 1 and b"Subject: v4" in got[0] and b"via msmtp" in got[0] and
     b"([127.0.0.1])" in got[0], "the message came back whole, the IPv4 literal in Received:",
     got[:1])
t.is_(os.listdir(maildir), [], "mpop deleted what it retrieved")

# An IPv6 peer in Received: (Python sends no server name for an address).
with smtplib.SMTP("::1", ports["::1"][0], timeout=30) as s:
    s.starttls(context=ssl.create_default_context(cafile=env.ca))
    s.sendmail("sender@example.org", [mb["address"]], b"Subject: v6\r\n\r\nover IPv6\r\n")
c = Raw(ports["127.0.0.1"][1], env.ca, implicit=True)
c.line()
c.cmd(f"USER {mb['id']}")
t.like(c.cmd(f"PASS {mb['password']}"), "+OK", "log-in to read the IPv6 delivery")
c.cmd("RETR 1")
body = "\n".join(c.multi())
c.cmd("DELE 1")
c.cmd("QUIT")
c.close()
t.ok("([IPv6:::1])" in body, "an IPv6 peer appears as [IPv6:::1] in Received:", body[:300])

# host ::1: the clients send "::1" as the server name, which is ignored.
r = msmtp("::1", "v6")
t.ok(r.returncode == 0, "msmtp with host ::1 delivers", r.stderr)
r, got = mpop("::1")
t.ok(r.returncode == 0 and len(got) == 1 and b"Subject: v6" in got[0] and b"via msmtp" in got[0],
     "mpop with host ::1 retrieves what msmtp delivered", (r.stderr, got[:1]))
t.is_(os.listdir(maildir), [], "and deleted it")
for log in ("smtp-3", "pop3-3"):
    t.like(env.log(log), "event=tls_sni_ignored names=1 name=::1",
           f"msgw-{log[:4]} logs the ignored server name (debug)")
sanitizer_clean(t, env)
t.done()
