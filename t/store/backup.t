#!/usr/bin/env python3
# Backup while msgw runs, exactly as msgw-setup(7) says: tar data_dir
# (new/ before cur/, without maildrop.lock and tmp/ contents) while SMTP
# deliveries and POP3 retrievals (which move new/ to cur/ and delete) go
# on, restore into a fresh data_dir on another path, and every message
# acknowledged before the copy began is there and decrypts (retrieved by a
# msgw-pop3 serving the restored tree, compared byte for byte).
import os
import poplib
import re
import smtplib
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "smtp"))
from msgwtest import Test  # noqa: E402
from smtptest import Mailbox  # noqa: E402

BEFORE = 60          # messages per mailbox acknowledged before the copy
BOUND = 400          # at most this many operations per worker
t = Test()
env = t.env(log_level="info")
ctx = ssl.create_default_context(cafile=env.ca)
kept, collected = Mailbox(env, "kept"), Mailbox(env, "collected")
sp, pp = env.port(), env.port()
env.start("msgw-smtp", "--listen", f"127.0.0.1:{sp}", "--foreground", port=sp)
env.start("msgw-pop3", "--implicit-tls", "--listen", f"127.0.0.1:{pp}", "--foreground", port=pp)
sent = {}            # subject -> message bytes


def message(subject):
    body = os.urandom(9000).hex()   # 18 KB a message, random: no two alike
    lines = "\r\n".join(body[i:i + 76] for i in range(0, len(body), 76))
    return f"Subject: {subject}\r\nFrom: j@example.com\r\n\r\n{lines}\r\n".encode()


def deliver(smtp, box, subject):
    m = message(subject)
    smtp.sendmail("journal@example.com", [box.address], m)   # returns on 250
    sent[subject] = m


def smtp_session():
    s = smtplib.SMTP("127.0.0.1", sp, timeout=60)
    s.starttls(context=ctx)
    return s


def pop3_messages(port, box, delete=lambda subject: False):
    """Every message of box by RETR (subject -> bytes); DELE those that
    delete() names. poplib raises on any -ERR, e.g. one that fails to decrypt."""
    for attempt in range(20):
        p = poplib.POP3_SSL("127.0.0.1", port, context=ctx, timeout=60)
        p.user(box.id)
        try:
            p.pass_(box.password)
            break
        except poplib.error_proto as e:
            # the previous session's process releases the maildrop lock
            # just after its QUIT answer: an archiver's next run retries
            p.quit()
            if b"IN-USE" not in e.args[0] or attempt == 19:
                raise
            time.sleep(0.1)
    got = {}
    for i in range(1, p.stat()[0] + 1):
        raw = b"\r\n".join(p.retr(i)[1]) + b"\r\n"
        m = re.search(rb"^Subject: (\S+)", raw, re.M)
        subject = m.group(1).decode() if m else f"?{i}"
        got[subject] = raw
        if delete(subject):
            p.dele(i)
    p.quit()
    return got


# Before the copy: messages in both mailboxes, some of them already seen
# (moved to cur/) by an archiver that keeps them.
s = smtp_session()
for n in range(BEFORE):
    deliver(s, kept, f"before-kept-{n}")
    deliver(s, collected, f"before-collected-{n}")
s.quit()
pop3_messages(pp, kept)
before = {k: v for k, v in sent.items()}
t.is_(len(before), 2 * BEFORE, f"{2 * BEFORE} messages acknowledged before the copy")

# During the copy: a sender and two archivers, each bounded in count.
stop = threading.Event()
done = {"deliveries": [], "kept-sessions": [], "collected-sessions": []}
errors = []


def worker(name, op):
    try:
        for n in range(BOUND):
            if stop.is_set():
                return
            op(n)
            done[name].append(time.monotonic())
    except Exception as e:   # reported below as a failed check
        errors.append(f"{name}: {e!r}")


def send_during(n):
    s = smtp_session()
    deliver(s, kept if n % 2 else collected, f"during-{n}")
    s.quit()


workers = [
    threading.Thread(target=worker, args=("deliveries", send_during)),
    threading.Thread(target=worker, args=("kept-sessions", lambda n: pop3_messages(pp, kept))),
    # this archiver deletes what it collects, except the messages the
    # check below needs
    threading.Thread(target=worker, args=("collected-sessions", lambda n: pop3_messages(
        pp, collected, delete=lambda subj: subj.startswith("during-")))),
]
for w in workers:
    w.start()
for _ in range(600):   # until each has done its first operation (at most 60 s)
    if all(done.values()) or errors:
        break
    time.sleep(0.1)

# The procedure of msgw-setup(7), BACKUP WHILE RUNNING. The checkpoint
# options only make this small copy last a few seconds, as a large one
# would, so that the workers really run during it.
parent, name = os.path.split(env.data_dir)
archive = os.path.join(env.dir, "msgw.tar")
slow = ["--checkpoint=40", "--checkpoint-action=sleep=1"]
t0 = time.monotonic()
r1 = subprocess.run(["tar", "-cpf", archive, *slow, "--exclude=maildrop.lock",
                     f"--exclude={name}/mailboxes/*/tmp/*", f"--exclude={name}/mailboxes/*/cur", name],
                    cwd=parent, capture_output=True, text=True, timeout=300)
curs = sorted(f"{name}/mailboxes/{d}/cur" for d in os.listdir(os.path.join(env.data_dir, "mailboxes")))
r2 = subprocess.run(["tar", "-rpf", archive, *slow, *curs], cwd=parent, capture_output=True,
                    text=True, timeout=300)
t1 = time.monotonic()
stop.set()
for w in workers:
    w.join(120)
t.ok(r1.returncode in (0, 1) and r2.returncode in (0, 1),
     "tar exits 0 or 1 (1: a file changed or went away while it read)",
     r1.stderr + r2.stderr)
t.diag(f"copy took {t1 - t0:.1f} s; tar said: {(r1.stderr + r2.stderr).strip()[:500]}")
t.is_(errors, [], "deliveries and retrievals never failed during the copy")
for k, v in done.items():
    during = [x for x in v if t0 <= x <= t1]
    t.ok(len(during) > 0, f"{k} completed during the copy ({len(during)})")

# Restore into a fresh data_dir on another path, serve it, read it back.
restore = os.path.join(env.dir, "restore", "elsewhere")
os.makedirs(restore)
# As tmpfiles.d makes data_dir's parents: the store user passes through.
os.chmod(os.path.dirname(restore), 0o711)
os.chmod(restore, 0o711)
r = subprocess.run(["tar", "-C", restore, "-xpf", archive], capture_output=True, text=True,
                   timeout=300)
t.is_(r.returncode, 0, "tar -xpf restores the copy", )
new_dir = os.path.join(restore, name)
names = [f for _, _, fs in os.walk(new_dir) for f in fs]
t.ok("maildrop.lock" not in names, "no maildrop lock came along")
env.write_config({**env.settings, "data_dir": new_dir})
rp = env.port()
env.start("msgw-pop3", "--implicit-tls", "--listen", f"127.0.0.1:{rp}", "--foreground", port=rp,
          logname="restored-pop3")
for box in (kept, collected):
    try:
        got = pop3_messages(rp, box)
    except Exception as e:
        t.ok(False, f"{box.id}: restored mailbox opens and every message decrypts", repr(e))
        continue
    t.ok(True, f"restored mailbox {box.id}: log-in with its password, every message retrieved")
    want = {k: v for k, v in before.items() if k.startswith(f"before-{'kept' if box is kept else 'collected'}-")}
    missing = sorted(set(want) - set(got))
    t.is_(missing, [], f"restored mailbox {box.id}: every message acknowledged before the copy is there")
    differ = [k for k in want if k in got and want[k] not in got[k]]
    t.is_(differ, [], f"restored mailbox {box.id}: each decrypts to what was sent")
    extra = [k for k in got if k not in sent]
    t.is_(extra, [], f"restored mailbox {box.id}: nothing that was never sent")
t.done()
