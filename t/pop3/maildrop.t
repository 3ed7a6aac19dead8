#!/usr/bin/env python3
# msgw-pop3 with a real mailbox: logins (USER/PASS, AUTH PLAIN both ways,
# address), the refusals (wrong password and unknown mailbox alike, a
# second session [IN-USE], a damaged message), deletions applied only by
# QUIT, RSET, TOP, UIDL stable across sessions and a new arrival, a
# suspended mailbox still emptied.
import base64
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "pop3"))
from pop3lib import *  # noqa: E402,F403

t = Test()
env = t.env()
sport = start_pop3(env, implicit=True)
mb = create_mailbox(env, "maildrop")
mbid, pw = mb["id"], mb["password"]
msgs = [b"Subject: m%d\r\n\r\nbody %d\r\nline two\r\n" % (i, i) for i in range(1, 4)]
for i, m in enumerate(msgs):
    put_message(env, mbid, m, when=1700000000 + i)


def session(user=mbid, password=pw):
    c = Raw(sport, env.ca, implicit=True)
    c.line()
    r = c.cmd(f"USER {user}")
    r = c.cmd(f"PASS {password}")
    return c, r


def files():
    d = mailbox_dir(env, mbid)
    return sorted(os.listdir(os.path.join(d, "new")) + os.listdir(os.path.join(d, "cur")))


# Wrong password and unknown mailbox: the same answer.
c, wrong = session(password="not-the-password")
c.close()
c, unknown = session(user="aaaaaaaaaaaaaaaa")
c.close()
c, unknown_addr = session(user="aaaaaaaaaaaaaaaa@mail.test")
c.close()
c, foreign = session(user=f"{mbid}@elsewhere.test")
c.close()
t.like(wrong, "-ERR [AUTH]", "wrong password: -ERR [AUTH]")
t.is_(unknown, wrong, "unknown mailbox id: the very same answer")
t.is_(unknown_addr, wrong, "unknown address: the very same answer")
t.is_(foreign, wrong, "right id in a foreign domain: the very same answer")
log = env.log("pop3s")
t.like(log, "reason=password", "the log tells the administrator a wrong password")
t.like(log, "reason=unknown", "the log tells the administrator an unknown name")
t.ok(pw not in log and "not-the-password" not in log, "no password in the log")

# A good login; a second session meanwhile is [IN-USE].
t.is_(len(os.listdir(os.path.join(mailbox_dir(env, mbid), "new"))), 3, "messages wait in new/")
c, r = session()
t.like(r, "+OK", "USER/PASS with the right password logs in")
t.is_(len(os.listdir(os.path.join(mailbox_dir(env, mbid), "new"))), 3,
      "a log-in renames nothing (kept messages move to cur/ at QUIT)")
c2, r2 = session()
t.like(r2, "-ERR [IN-USE]", "a second session gets -ERR [IN-USE]")
c2.close()
t.is_(c.cmd("STAT"), "+OK 3 %d" % sum(len(m) for m in msgs), "STAT: count and exact octets")
t.like(c.cmd("LIST 2"), "+OK 2 %d" % len(msgs[1]), "LIST n")
t.like(c.cmd("LIST 9"), "-ERR", "LIST of a message that does not exist")
t.like(c.cmd("UIDL"), "+OK", "UIDL listing")
uidl1 = c.multi()
t.like(c.cmd("TOP 1 0"), "+OK", "TOP 1 0")
t.is_(c.multi(), ["Subject: m1", ""], "TOP n 0: the header and the blank line")
c.cmd("TOP 1 1")
t.is_(c.multi(), ["Subject: m1", "", "body 1"], "TOP n 1: one body line")
c.cmd("TOP 1 99999999")
t.is_(c.multi(), ["Subject: m1", "", "body 1", "line two"], "TOP beyond the body: the whole message")
t.like(c.cmd("DELE 1"), "+OK", "DELE 1")
t.like(c.cmd("RETR 1"), "-ERR", "RETR of a deleted message is refused")
t.like(c.cmd("DELE 1"), "-ERR", "DELE twice is refused")
t.like(c.cmd("STAT"), "+OK 2 ", "STAT leaves deleted messages out")
t.like(c.cmd("RSET"), "+OK", "RSET")
t.like(c.cmd("STAT"), "+OK 3 ", "RSET unmarks")
c.cmd("DELE 1")
c.cmd("DELE 2")
c.close()   # dropped without QUIT
time.sleep(0.3)
t.is_(len(files()), 3, "deletions without QUIT are not applied")

# The lock went with the dropped connection; AUTH PLAIN with an initial response.
c = Raw(sport, env.ca, implicit=True)
c.line()
tok = base64.b64encode(f"\0{mbid}\0{pw}".encode()).decode()
t.like(c.cmd("AUTH PLAIN " + tok), "+OK", "AUTH PLAIN with an initial response (the lock was released)")
c.cmd("UIDL")
t.is_(c.multi(), uidl1, "UIDL is stable across sessions")
put_message(env, mbid, b"Subject: late\r\n\r\nlate\r\n", when=1800000000)
c.cmd("UIDL")
t.is_(c.multi(), uidl1, "a message arriving during a session does not change its listing")
t.like(c.cmd("DELE 3"), "+OK", "DELE 3")
t.like(c.cmd("QUIT"), "+OK", "QUIT")
c.close()
time.sleep(0.2)
t.is_(len(files()), 3, "QUIT removed the deleted message (3 - 1 + 1 new)")
t.is_([len(os.listdir(os.path.join(mailbox_dir(env, mbid), s))) for s in ("new", "cur")], [1, 2],
      "QUIT moved the kept messages to cur/; the one that arrived meanwhile stays in new/")

# AUTH PLAIN with a continuation and an authzid equal to the user.
c = Raw(sport, env.ca, implicit=True)
c.line()
t.is_(c.cmd("AUTH PLAIN"), "+ ", "AUTH PLAIN asks for the response")
tok = base64.b64encode(f"{mbid}\0{mbid}\0{pw}".encode()).decode()
t.like(c.cmd(tok), "+OK", "AUTH PLAIN through the continuation logs in")
c.cmd("UIDL")
u2 = c.multi()
t.is_(u2[:2], uidl1[:2], "UIDL of the old messages unchanged after a new one arrived")
t.is_(len(u2), 3, "the new message is listed in the next session")
t.like(c.cmd("QUIT"), "+OK", "QUIT")
c.close()

# AUTH PLAIN acting for someone else is a failed login.
c = Raw(sport, env.ca, implicit=True)
c.line()
tok = base64.b64encode(f"other\0{mbid}\0{pw}".encode()).decode()
t.like(c.cmd("AUTH PLAIN " + tok), "-ERR [AUTH]", "AUTH PLAIN with a foreign authzid fails")
c.close()

# A message stored with bare LF line ends goes out with CRLF, and LIST
# counts it that way.
c, r = session()
n = int(c.cmd("STAT").split()[1])
c.cmd("QUIT")
c.close()
put_message(env, mbid, b"Subject: bare LF\n\n.line 1\nline 2\n", when=1900000000)
c, r = session()
t.like(r, "+OK", "login after QUIT")
t.like(c.cmd(f"LIST {n + 1}"), f"+OK {n + 1} 37", "LIST counts bare LF as CRLF")
c.send(f"RETR {n + 1}\r\n")
t.like(c.line(), "+OK", "RETR of a bare-LF message")
raw = b""
while not raw.endswith(b"\r\n.\r\n"):
    b = c.f.readline(4096)
    if not b:
        break
    raw += b
t.is_(raw, b"Subject: bare LF\r\n\r\n..line 1\r\nline 2\r\n.\r\n", "CRLF on the wire, dot-stuffed")
c.cmd("QUIT")
c.close()
time.sleep(0.2)

# A damaged message: -ERR for it, the session goes on, the file stays.
d = mailbox_dir(env, mbid)
victim = sorted(os.listdir(os.path.join(d, "cur")))[0]
path = os.path.join(d, "cur", victim)
data = bytearray(open(path, "rb").read())
data[-5] ^= 0x40   # inside the last chunk's tag
open(path, "wb").write(data)
garbage = os.path.join(d, "new", "1700000500.Rgarbage.test,S=20,W=20")
open(garbage, "wb").write(b"this is not age at all")
c, r = session()
t.like(r, "+OK", "login with damaged messages in the mailbox")
c.cmd("UIDL")
ul = dict((u.split()[1], u.split()[0]) for u in c.multi())
vi, gi = ul.get(victim.split(",")[0]), ul.get("1700000500.Rgarbage.test")
t.ok(vi and gi, "both damaged files are listed", ul)
t.like(c.cmd(f"RETR {vi}"), "-ERR", "a message whose payload fails to verify: -ERR")
t.like(c.cmd(f"RETR {gi}"), "-ERR", "a file that is not age at all: -ERR")
good = [n for n in ul.values() if n not in (vi, gi)][0]
t.like(c.cmd(f"RETR {good}"), "+OK", "the session goes on: the next message is retrieved")
t.like("\n".join(c.multi()), "Subject:", "and sent whole")
t.like(c.cmd("QUIT"), "+OK", "QUIT")
c.close()
time.sleep(0.2)
t.ok(os.path.exists(path), "the damaged message's file stays")
t.like(env.log("pop3s"), "event=decrypt_failed", "the damaged message is logged")

# Login pipelined with the commands after it (the password wipe must
# spare what is still unread).
c = Raw(sport, env.ca, implicit=True)
c.line()
c.send(f"USER {mbid}\r\nPASS {pw}\r\nSTAT\r\nNOOP\r\nQUIT\r\n")
answers = [c.line() for _ in range(5)]
t.ok(all(a and a.startswith("+OK") for a in answers), "USER, PASS, STAT, NOOP, QUIT pipelined: all answered",
     answers)
c.close()
time.sleep(0.2)

# A session killed outright leaves its lock behind; the next login finds
# it stale (its process is gone) and gets in.
c, r = session()
t.like(r, "+OK", "login before the kill")
pids = re.findall(r"msgw-pop3\[(\d+)\]: level=info peer=\S+ event=login mailbox=", env.log("pop3s"))
os.kill(int(pids[-1]), signal.SIGKILL)
c.close()
time.sleep(0.3)
c, r = session()
t.like(r, "+OK", "after a killed session the mailbox can be opened again")
c.cmd("QUIT")
c.close()

# A suspended mailbox can still be emptied.
r = env.run("msgw-mbox", "edit", mbid, "--status", "suspended")
t.is_(r.returncode, 0, "msgw-mbox suspends the mailbox")
c, r = session()
t.like(r, "+OK", "a suspended mailbox can still be logged into")
n = int(c.cmd("STAT").split()[1])
for i in range(1, n + 1):
    c.cmd(f"DELE {i}")
t.like(c.cmd("QUIT"), "+OK", "and emptied")
c.close()
time.sleep(0.2)
t.is_(len(files()), 0, "the suspended mailbox is empty")

log = env.log("pop3s")
t.like(log, "event=session_end mailbox=" + mbid, "the summary line names the mailbox")
t.like(log, "event=state from=AUTHORIZATION to=TRANSACTION", "state changes are logged at debug")
t.like(log, "from=TRANSACTION to=UPDATE", "QUIT enters UPDATE")
sanitizer_clean(t, env)
t.done()
