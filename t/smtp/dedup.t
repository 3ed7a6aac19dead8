#!/usr/bin/env python3
# Per-mailbox de-duplication: one message sent to a mailbox in three SMTP
# sessions (as Google's per-recipient journal copies arrive) is answered
# 250 three times and stored once with --dedup on, three times with it
# off; a one-byte difference is stored; the index holds keyed hashes
# only; a kill -9 between the rename and the index update keeps the
# message; two gateways (own hostnames) sharing one data_dir keep one copy,
# also when they race; entries expire with the window and are swept.
import hashlib
import json
import os
import re
import smtplib
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "smtp"))
from msgwtest import Test  # noqa: E402
from smtptest import sanitizer_clean, Mailbox, strip_trace, wait_log  # noqa: E402

t = Test()
env = t.env(smtp__require_tls=False)
d = Mailbox(env, "dedup on")
n = Mailbox(env, "dedup off")
r = env.run("msgw-mbox", "edit", d.id, "--dedup", "7d")
t.is_(r.returncode, 0, "edit --dedup 7d")
for bad in ("7x", "-1d", "400d", "", "d7"):
    r = env.run("msgw-mbox", "edit", d.id, "--dedup", bad)
    t.is_(r.returncode, 65, f"edit --dedup {bad!r}: exit 65")
t.ok(os.path.exists(os.path.join(d.dir, "dedup.key")), "the mailbox's dedup key exists after the edit")
t.is_(os.stat(os.path.join(d.dir, "dedup.key")).st_mode & 0o777, 0o600, "... mode 0600")
sd = json.loads(env.run("msgw-mbox", "show", d.id, "--json").stdout)
sn = json.loads(env.run("msgw-mbox", "show", n.id, "--json").stdout)
t.is_((sd["dedup_window"], sn["dedup_window"]), (7 * 86400, 0), "show --json: window 7d; off by default")

port = env.port()
env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{port}", port=port)


def send(port, rcpt, body):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.ehlo("mx.google.example")
        code, _ = s.docmd("MAIL", "FROM:<journal@google.example>")
        s.docmd("RCPT", f"TO:<{rcpt}>")
        s.docmd("DATA")
        s.send(body.replace(b"\r\n.", b"\r\n..") + b".\r\n")
        return s.getreply()[0]


msg = (b"From: Bob <bob@example.org>\r\nTo: a@example.org, b@example.org, c@example.org\r\n"
       b"Subject: one message, three copies\r\nMessage-ID: <dup-1@example.org>\r\n\r\n"
       b"Body of the message.\r\n")
codes = [send(port, mb.address, msg) for mb in (d, d, d, n, n, n)]
t.is_(codes, [250] * 6, "all six sessions answered 250")
t.is_(len(d.files()), 1, "dedup on: the three copies are stored once")
t.is_(len(n.files()), 3, "dedup off: stored three times")
t.is_(wait_log(env, "msgw-smtp", "event=duplicate").count("event=duplicate id="), 2,
      "the log names each dropped duplicate")
t.is_(strip_trace(d.last()), msg, "the stored copy is the message")
one_off = msg.replace(b"Body of", b"body of")
t.is_(send(port, d.address, one_off), 250, "a message differing in one byte: 250")
t.is_(len(d.files()), 2, "... and stored")
sd = json.loads(env.run("msgw-mbox", "show", d.id, "--json").stdout)
t.is_(sd["duplicates_dropped"], 2, "show --json: 2 duplicates dropped")
t.like(env.run("msgw-mbox", "show", d.id).stdout.decode(), "dedup:       7d, 2 duplicates dropped",
       "show: the dedup line")
prom = env.run("msgw-mbox", "status", "--prometheus", check=False).stdout.decode()
t.like(prom, f'msgw_mailbox_duplicates_dropped_total{{id="{d.id}",name="', "status --prometheus: the counter")
t.ok(any(l.startswith(f'msgw_mailbox_duplicates_dropped_total{{id="{d.id}"') and l.endswith(" 2")
         for l in prom.splitlines()), "... counts the 2 duplicates")

# The index: names that are keyed hashes, empty files, nothing else.
idx = os.path.join(d.dir, "dedup")
entries = [e for e in os.listdir(idx) if not e.startswith(".")]
t.ok(len(entries) == 2 and all(re.fullmatch(r"[0-9a-f]{64}", e) for e in entries),
     "two index entries named by 64 hex digits", entries)
t.ok(all(os.path.getsize(os.path.join(idx, e)) == 0 for e in entries), "entries hold no content")
content = strip_trace(d.decrypt(d.files()[0]))
unkeyed = {hashlib.sha256(content).hexdigest(), hashlib.sha256(hashlib.sha256(content).digest()).hexdigest()}
t.ok(not unkeyed & set(entries), "entry names are not the unkeyed SHA-256 of the content")
t.ok(not os.path.exists(os.path.join(n.dir, "dedup")), "no index for the mailbox without dedup")

# Entries of one session are links to that process's anchor: no file
# created per message.
before = set(os.listdir(idx))
with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
    for i in range(2):
        s.sendmail("j@google.example", [d.address], msg.replace(b"dup-1", b"anchor-%d" % i))
new = [os.stat(os.path.join(idx, e)) for e in set(os.listdir(idx)) - before if not e.startswith(".")]
t.ok(len(new) == 2 and new[0].st_ino == new[1].st_ino and new[0].st_nlink >= 3,
     "two entries of one session share one anchor file (hard links)")

# kill -9 between the rename into new/ and the index update: the message
# is there; the lost entry costs one duplicate later, never the message.
crash = msg.replace(b"dup-1", b"crash-1")
conv = (b"EHLO crash.example\r\nMAIL FROM:<j@google.example>\r\nRCPT TO:<" + d.address.encode() +
        b">\r\nDATA\r\n" + crash + b".\r\nQUIT\r\n")
p = subprocess.run(env.cmd("msgw-smtp"), input=conv, capture_output=True, timeout=60,
                   env={**os.environ, "MSGW_TEST_CRASH": "dedup-index"})
# As root the delivery runs in the store helper (privilege separation):
# the helper dies at the hook and the parser answers 4xx; otherwise the
# one msgw-smtp process dies.
after_data = p.stdout.split(b"354")[-1]
t.ok(p.returncode == -9 or (os.geteuid() == 0 and re.search(rb"(^|\n)4\d\d ", after_data)),
     "the delivering process was killed by SIGKILL at the hook (inetd mode)", (p.returncode, after_data[:200]))
t.ok(b"250 2.0.0" not in p.stdout.split(b"354")[-1], "no 250 was sent for it")
t.is_(len(d.files()), 5, "after the kill the message is in new/")
t.is_(strip_trace(d.last()), crash, "... whole and decryptable")
t.is_(len([e for e in os.listdir(idx) if not e.startswith(".")]), 4, "... and its index entry is missing")
t.is_(send(port, d.address, crash), 250, "the sender's retry: 250")
t.is_(len(d.files()), 6, "... stored again (the lost entry cost one duplicate)")
t.is_(send(port, d.address, crash), 250, "a third copy: 250")
t.is_(len(d.files()), 6, "... dropped: the retry wrote the entry")

# Two gateways, their own hostnames, one data_dir.
conf2 = os.path.join(env.dir, "gw2.conf")
with open(env.config) as f:
    text = f.read()
with open(conf2, "w") as f:
    f.write(text.replace('hostname = "mx.mail.test"', 'hostname = "mx2.mail.test"'))
port2 = env.port()
p2 = subprocess.Popen([env.cmd("msgw-smtp")[0], "-c", conf2, "--foreground", "--listen", f"127.0.0.1:{port2}"],
                      stdout=open(os.path.join(env.dir, "gw2.log"), "w"), stderr=subprocess.STDOUT)
t.at_exit(lambda: (p2.kill(), p2.wait()))
from msgwtest import wait_port  # noqa: E402
wait_port(port2, proc=p2)
two = msg.replace(b"dup-1", b"two-gateways")
t.is_([send(port, d.address, two), send(port2, d.address, two)], [250, 250], "both gateways answer 250")
t.is_(len(d.files()), 7, "one copy kept across the two gateways")
heads = [m.split(b"\r\n\r\n")[0] for m in (d.last(),)]
t.like(heads[0].decode(), "by mx.mail.test", "the kept copy came through the first gateway")

# A race: eight sessions of one new message at once, over both gateways.
race = msg.replace(b"dup-1", b"race-1")
results = []


def racer(pt):
    results.append(send(pt, d.address, race))


threads = [threading.Thread(target=racer, args=(port if i % 2 else port2,)) for i in range(8)]
for th in threads:
    th.start()
for th in threads:
    th.join(timeout=60)
t.is_(results, [250] * 8, "eight racing sessions: all 250")
t.is_(len(d.files()), 8, "... one copy stored")

# The window: an entry older than it no longer drops; the hourly sweep
# removes expired entries, so the index stays bounded.
name_two = [e for e in os.listdir(idx) if not e.startswith(".")]
old = time.time() - 8 * 86400
for e in name_two:
    os.utime(os.path.join(idx, e), (old, old))
t.is_(send(port, d.address, two), 250, "after the window: 250")
t.is_(len(d.files()), 9, "... and stored again")
os.utime(os.path.join(idx, ".swept"), (time.time() - 7200, time.time() - 7200))
t.is_(send(port, d.address, msg.replace(b"dup-1", b"sweep")), 250, "a delivery that sweeps")
left = [e for e in os.listdir(idx) if not e.startswith(".")]
t.is_(len(left), 2, "the sweep removed the expired entries (two live ones left)")

# Off again: nothing is dropped.
env.run("msgw-mbox", "edit", d.id, "--dedup", "off")
t.is_(send(port, d.address, race), 250, "dedup off: 250")
t.is_(len(d.files()), 11, "... and stored")
t.is_(json.loads(env.run("msgw-mbox", "show", d.id, "--json").stdout)["dedup_window"], 0, "show: window 0")
sanitizer_clean(t, env)
t.done()
