#!/usr/bin/env python3
# Privilege separation, played from the attacker's side (msgw(7),
# SECURITY; msgw-store(5), "Who can do what"): with the credentials of the
# process that parses SMTP, and of the POP3 process before log-in, every
# attempt to list, read, rename or delete stored mail, to read
# identity.age or to rewrite identity.pub or mailbox.conf fails with
# EACCES or EPERM, while delivery, log-in, RETR and DELE keep working. A
# logged-in session's memory is closed to other processes of its uid.
import json
import os
import poplib
import smtplib
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
from msgwtest import Test, ensure_users, user_ids, STORE_USER  # noqa: E402

t = Test()
if os.geteuid() != 0:
    t.skip("needs root (users, setuid)", "privilege separation attack tests")
    t.done()
ensure_users()
env = t.env()
ctx = ssl.create_default_context(cafile=env.ca)

r = env.run("msgw-mbox", "create", "Attacked box", "--json", check=True)
mb = json.loads(r.stdout)
mbdir = os.path.join(env.data_dir, "mailboxes", mb["id"])
t.is_(os.stat(mbdir).st_uid, user_ids(STORE_USER)[0], "msgw-mbox create as root: the mailbox is msgw's")


def send(port, body):
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    s.starttls(context=ctx)
    s.sendmail("a@example.org", [mb["address"]], body)
    s.quit()


def stored():
    return sorted(os.listdir(os.path.join(mbdir, "new")) + os.listdir(os.path.join(mbdir, "cur")))


def proc_uid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def session_procs(server_pid):
    """The parser (the server's child) and its store helper, once both run
    with their final uids."""
    for _ in range(100):
        for parser in children(server_pid):
            helpers = children(parser)
            if helpers and proc_uid(parser) != 0 and proc_uid(helpers[0]) != 0:
                return parser, helpers[0]
        time.sleep(0.05)
    return None, None


ATTACK = r'''
import errno, json, os, sys
mbdir, msg, helper = sys.argv[1], sys.argv[2], int(sys.argv[3])
res = {}
def tryit(name, fn):
    try:
        fn()
        res[name] = "SUCCEEDED"
    except OSError as e:
        res[name] = errno.errorcode.get(e.errno, str(e.errno))
def write(path):
    with open(path, "r+b") as f:
        f.write(b"x")
def replace(name):
    tmp = os.path.join(mbdir, name + ".evil")
    with open(tmp, "w") as f:
        f.write("evil")
    os.rename(tmp, os.path.join(mbdir, name))
tryit("list new/", lambda: os.listdir(os.path.join(mbdir, "new")))
tryit("list cur/", lambda: os.listdir(os.path.join(mbdir, "cur")))
tryit("list tmp/", lambda: os.listdir(os.path.join(mbdir, "tmp")))
tryit("list the mailbox folder", lambda: os.listdir(mbdir))
tryit("list mailboxes/", lambda: os.listdir(os.path.dirname(mbdir)))
tryit("open a stored message", lambda: open(msg, "rb").close())
tryit("unlink a stored message", lambda: os.unlink(msg))
tryit("rename a stored message", lambda: os.rename(msg, msg + "x"))
tryit("open identity.age", lambda: open(os.path.join(mbdir, "identity.age"), "rb").close())
tryit("write identity.pub", lambda: write(os.path.join(mbdir, "identity.pub")))
tryit("write mailbox.conf", lambda: write(os.path.join(mbdir, "mailbox.conf")))
tryit("replace identity.pub", lambda: replace("identity.pub"))
tryit("replace mailbox.conf", lambda: replace("mailbox.conf"))
tryit("unlink identity.age", lambda: os.unlink(os.path.join(mbdir, "identity.age")))
tryit("create a file in new/", lambda: open(os.path.join(mbdir, "new", "forged,S=1,W=1"), "wb").close())
tryit("signal the store helper", lambda: os.kill(helper, 0))
tryit("read the store helper's memory", lambda: open(f"/proc/{helper}/mem", "rb").close())
json.dump(res, sys.stdout)
'''


CONTROL = r'''
import json, os, sys
res = {}
for name, fn in (("list", lambda: os.listdir(os.path.join(sys.argv[1], "new"))),
                 ("read", lambda: open(sys.argv[2], "rb").close())):
    try:
        fn()
        res[name] = "SUCCEEDED"
    except OSError as e:
        res[name] = str(e)
json.dump(res, sys.stdout)
'''


def as_user(uid, gid, code, *args):
    def drop():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    r = subprocess.run([sys.executable, "-c", code, *args], preexec_fn=drop, capture_output=True,
                       timeout=60)
    try:
        return json.loads(r.stdout)
    except ValueError:
        return {"(attacker)": r.stderr.decode(errors="replace")}


def attack(who, parser, helper):
    uid, gid = proc_uid(parser), None
    with open(f"/proc/{parser}/status") as f:
        for line in f:
            if line.startswith("Gid:"):
                gid = int(line.split()[1])
    msg = os.path.join(mbdir, "new", os.listdir(os.path.join(mbdir, "new"))[0])
    # The probe can see success: the store user may list and read.
    suid, sgid = user_ids(STORE_USER)
    ctl = as_user(suid, sgid, CONTROL, mbdir, msg)
    t.ok(ctl.get("list") == "SUCCEEDED" and ctl.get("read") == "SUCCEEDED",
         f"control: the same probes as the store user succeed {ctl}")
    res = as_user(uid, gid, ATTACK, mbdir, msg, str(helper))
    for name, got in res.items():
        t.ok(got in ("EACCES", "EPERM"), f"{who} credentials: {name}: {got}")
    t.ok(os.path.exists(msg), f"{who}: the stored message is still there")


def fds_of(pid):
    out = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    return out


# --- SMTP ---
port = env.port()
srv = env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{port}", port=port)
send(port, "Subject: one\r\n\r\nfirst\r\n")
t.is_(len(stored()), 1, "SMTP: delivered through the store helper")
held = smtplib.SMTP("127.0.0.1", port, timeout=30)
held.ehlo("attacker.example")
parser, helper = session_procs(srv.pid)
t.ok(parser is not None, "SMTP: a session has a parser and a store helper")
if parser:
    t.is_(proc_uid(parser), user_ids("msgw-smtp")[0], "SMTP: the parser runs as msgw-smtp")
    t.is_(proc_uid(helper), user_ids(STORE_USER)[0], "SMTP: the store helper runs as msgw")
    conn = [x for x in fds_of(parser) if x.startswith("socket:")]
    helper_fds = fds_of(helper)
    t.ok(sum(1 for x in conn if x in helper_fds) == 0,
         "SMTP: the store helper holds none of the parser's sockets (not the connection)")
    attack("SMTP parser (msgw-smtp)", parser, helper)
held.quit()
send(port, "Subject: two\r\n\r\nsecond, after the attack\r\n")
t.is_(len(stored()), 2, "SMTP: delivery keeps working")

# --- POP3 ---
pport = env.port()
psrv = env.start("msgw-pop3", "--foreground", "--listen", f"127.0.0.1:{pport}", port=pport)
pre = poplib.POP3("127.0.0.1", pport, timeout=30)
pre.stls(ctx)
parser, helper = session_procs(psrv.pid)
t.ok(parser is not None, "POP3: a session has a parser and a store helper")
if parser:
    t.is_(proc_uid(parser), user_ids("msgw-pop3")[0], "POP3: the parser runs as msgw-pop3 before log-in")
    attack("POP3 parser before log-in (msgw-pop3)", parser, helper)
pre.quit()

p = poplib.POP3("127.0.0.1", pport, timeout=30)
p.stls(ctx)
p.user(mb["id"])
p.pass_(mb["password"])
count, _ = p.stat()
t.is_(count, 2, "POP3: the archiver's log-in sees both messages")
bodies = [b"\n".join(p.retr(i)[1]) for i in (1, 2)]
t.ok(sorted(b"first" in x for x in bodies) == [False, True] and any(b"second, after" in x for x in bodies),
     "POP3: RETR returns the plaintext of both messages")
parser, helper = session_procs(psrv.pid)
if parser:
    puid, pgid = user_ids("msgw-pop3")
    suid, sgid = user_ids(STORE_USER)
    peek = r'''
import errno, json, sys
res = {}
try:
    with open(f"/proc/{sys.argv[1]}/mem", "rb") as f:
        f.read(1)
    res["mem"] = "SUCCEEDED"
except OSError as e:
    res["mem"] = errno.errorcode.get(e.errno, str(e.errno))
json.dump(res, sys.stdout)
'''
    got = as_user(puid, pgid, peek, str(parser)).get("mem")
    t.ok(got in ("EACCES", "EPERM"), f"logged-in POP3 parser: /proc/PID/mem closed to its own uid: {got}")
    got = as_user(suid, sgid, peek, str(helper)).get("mem")
    t.ok(got in ("EACCES", "EPERM"),
         f"logged-in store helper (holds the identity): /proc/PID/mem closed to its own uid: {got}")
p.dele(1)
p.quit()
t.is_(len(stored()), 1, "POP3: DELE took effect at QUIT")
t.ok("level=error" not in env.log("msgw-smtp") and "store_helper_refused" not in env.log("msgw-pop3"),
     "no errors and no refused helper requests in the logs")
t.done()
