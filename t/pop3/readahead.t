#!/usr/bin/env python3
# RETR through the store helper: a message under 64 KiB comes whole in one
# frame, a larger one through a pipe, and the next messages are asked for
# ahead of the client. Whatever order the client asks in, each answer is
# its own message byte for byte: out of order, TOP that stops early (the
# helper's pipe closed under it), damaged messages small and large, DELE
# of a message read ahead, and QUIT with answers still unread.
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "pop3"))
from pop3lib import *  # noqa: E402,F403

t = Test()
env = t.env()
sport = start_pop3(env, implicit=True)
mb = create_mailbox(env, "readahead")


def body(n, size):
    line = b"message %d %s\r\n" % (n, b"y" * 60)
    head = b"Subject: m%d\r\n\r\n" % n
    return head + line * ((size - len(head)) // len(line))


KIB = 1024
sizes = {1: 3 * KIB, 2: 200 * KIB, 3: 5 * KIB, 4: 2048 * KIB, 5: 300 * KIB, 6: 64 * KIB - 20, 7: 1 * KIB}
msgs = {n: body(n, s) for n, s in sizes.items()}
names = {n: put_message(env, mb["id"], m, when=1700000000 + n) for n, m in msgs.items()}


def damage(n, back):
    """Flip one byte `back` octets before the end of message n's file."""
    p = os.path.join(mailbox_dir(env, mb["id"]), "new", names[n])
    data = bytearray(open(p, "rb").read())
    data[len(data) - back] ^= 0x01
    open(p, "wb").write(data)


damage(4, 100 * KIB)  # past the first MiB: cut off after +OK
damage(5, 100 * KIB)  # within the first MiB: -ERR


def login():
    c = Raw(sport, env.ca, implicit=True, timeout=60)
    c.line()
    c.cmd(f"USER {mb['id']}")
    r = c.cmd(f"PASS {mb['password']}")
    return c, r


def retr(c, n):
    """The message as the client gets it (unstuffed, CRLF), or the -ERR."""
    r = c.cmd(f"RETR {n}")
    if not r.startswith("+OK"):
        return r
    return "".join(l + "\r\n" for l in c.multi()).encode("latin-1")


def digest(b):
    return hashlib.sha256(b).hexdigest() if isinstance(b, bytes) else b


c, r = login()
t.like(r, "+OK", "log-in")
t.is_(digest(retr(c, 3)), digest(msgs[3]), "RETR 3 first (the read-ahead starts at 4)")
t.is_(digest(retr(c, 1)), digest(msgs[1]), "then RETR 1: its own message, the read-ahead dropped")
t.like(c.cmd("TOP 2 0"), "+OK", "TOP 2 0 of a 200 KiB message (through a pipe)")
t.is_(c.multi(), ["Subject: m2", ""], "TOP stops after the header")
t.is_(digest(retr(c, 2)), digest(msgs[2]), "RETR 2 after the TOP that closed its pipe early: whole")
t.is_(digest(retr(c, 3)), digest(msgs[3]), "RETR 3 again")
t.like(retr(c, 5), "-ERR", "a 300 KiB message damaged within the first MiB: -ERR")
t.is_(digest(retr(c, 6)), digest(msgs[6]), "the session goes on: RETR 6 (just under one frame)")
t.like(c.cmd("DELE 7"), "+OK", "DELE 7, which was read ahead")
t.like(c.cmd("RETR 7"), "-ERR", "RETR of the deleted message: -ERR")
t.is_(digest(retr(c, 1)), digest(msgs[1]), "RETR 1 after all that")
c.send("RETR 1\r\nRETR 2\r\nRETR 3\r\n")
got = []
for n in (1, 2, 3):
    c.line()
    got.append(digest("".join(l + "\r\n" for l in c.multi()).encode("latin-1")))
t.is_(got, [digest(msgs[n]) for n in (1, 2, 3)], "RETR 1, 2, 3 pipelined: each its own message")
t.like(c.cmd("DELE 1"), "+OK", "DELE 1")
t.like(c.cmd("RETR 2"), "+OK", "RETR 2, and the answers asked ahead left unread at QUIT")
c.multi()
t.like(c.cmd("QUIT"), "+OK", "QUIT with read-ahead outstanding commits")
c.close()
time.sleep(0.3)
left = sorted(os.listdir(os.path.join(mailbox_dir(env, mb["id"]), "cur")) +
              os.listdir(os.path.join(mailbox_dir(env, mb["id"]), "new")))
gone = [n for n in (1, 7) if any(x.startswith(names[n].split(",")[0]) for x in left)]
kept = [n for n in (2, 3, 4, 5, 6) if any(x.startswith(names[n].split(",")[0]) for x in left)]
t.is_((gone, kept), ([], [2, 3, 4, 5, 6]), "DELE 1 and DELE 7 applied, the rest kept")



def numbers(c):
    """UIDL: message number by the message it is (the listing changed)."""
    c.cmd("UIDL")
    by = {}
    for l in c.multi():
        num, uid = l.split()
        for n, name in names.items():
            if name.split(",")[0] == uid:
                by[n] = num
    return by


c, r = login()
t.like(r, "+OK", "a second session (the maildrop lock was released)")
num = numbers(c)
t.like(c.cmd(f"RETR {num[4]}"), "+OK", "RETR of the 2 MiB message damaged past its first MiB starts")
cut = True
for _ in range(200000):
    line = c.f.readline(1 << 16)
    if not line:
        break
    if line == b".\r\n":
        cut = False
        break
t.ok(cut, "and is cut off without the final dot, so no client takes it for complete")
c.close()
time.sleep(0.3)
c, r = login()
t.like(r, "+OK", "a session after the cut-off one logs in")
t.is_(digest(retr(c, numbers(c)[6])), digest(msgs[6]), "and retrieves")
c.cmd("QUIT")
c.close()
t.like(env.log("pop3s"), "event=retr_damaged", "the store helper logged the damaged messages")
sanitizer_clean(t, env)
t.done()
