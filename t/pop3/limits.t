#!/usr/bin/env python3
# Issue 13, played from outside: the log-in deadline (a client that keeps
# the session busy with NOOP is still cut), the session going on after a
# log-in, the per-source limit of --listen, the listing limit (the oldest
# messages are served, the rest wait, the log and msgw-mbox status say
# so), CAPA after log-in, and the re-seal of an identity made at another
# work factor (atomic, and the stock age still opens it); msgw-proxy's
# POP3 front end has the log-in deadline too.
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "pop3"))
from pop3lib import *  # noqa: E402,F403

t = Test()
env = t.env(pop3__login_timeout=3, pop3__max_messages=3, server__max_connections_per_source=2,
            crypt__scrypt_log_n=12)
mb = create_mailbox(env)
mbid, pw = mb["id"], mb["password"]
ident = os.path.join(mailbox_dir(env, mbid), "identity.age")


def work_factor(path):
    with open(path, "rb") as f:
        return int(re.search(rb"^-> scrypt \S+ (\d+)$", f.read(200), re.M).group(1))


t.is_(work_factor(ident), 12, "the identity was sealed at the cost configured then (12)")
# The operator lowers the cost afterwards: the next log-in re-seals.
settings = dict(env.settings)
settings["crypt.scrypt_log_n"] = 10
env.write_config(settings)

names = [put_message(env, mbid, f"Subject: m{i}\n\nbody {i}\n".encode(), when=1700000000 + i)
         for i in (4, 2, 0, 3, 1)]
oldest = sorted(names)[:3]
port = start_pop3(env, implicit=True)


def login(c):
    c.line()
    c.cmd(f"USER {mbid}")
    return c.cmd(f"PASS {pw}")


def keep_busy(c, cmd, multi=False):
    """Send cmd every second without logging in, at most 20 times, until
    the server stops answering +OK; the answers."""
    c.line()
    answers = []
    for _ in range(20):
        r = c.cmd(cmd)
        answers.append(r)
        if r is None or not r.startswith("+OK"):
            break
        if multi:
            c.multi()
        time.sleep(1)
    return answers


# 1. The log-in deadline: NOOP every second does not keep the session.
c = Raw(port, env.ca, implicit=True)
start = time.monotonic()
answers = keep_busy(c, "NOOP")
tail = c.line() if answers and answers[-1] is not None else None
c.close()
t.ok(answers[-1] is None or answers[-1].startswith("-ERR"),
     "an unauthenticated client sending NOOP every second is disconnected", answers)
t.ok(len(answers) < 10, "at the log-in deadline (3 s), not at the idle timeout",
     f"{len(answers)} answers in {time.monotonic() - start:.1f} s")
t.ok(tail is None, "the connection is closed", tail)
t.like(env.log("pop3s"), "event=login_timeout", "the log says the log-in deadline passed")

# 2. Logged in, the log-in deadline no longer applies; CAPA keeps USER/SASL.
c = Raw(port, env.ca, implicit=True)
t.like(login(c), "+OK", "log-in with the right password")
t.is_(work_factor(ident), 10, "the identity was re-sealed at the new cost after the log-in")
t.ok(not [n for n in os.listdir(mailbox_dir(env, mbid)) if "identity.age." in n],
     "no temporary file is left beside identity.age", os.listdir(mailbox_dir(env, mbid)))
t.like(c.cmd("CAPA"), "+OK", "CAPA in TRANSACTION")
capa = c.multi()
t.ok("USER" in capa and "SASL PLAIN" in capa, "CAPA after log-in lists USER and SASL PLAIN", capa)
# 3. The listing limit: 5 messages, limit 3: the 3 oldest.
t.like(c.cmd("STAT"), "+OK 3 ", "a maildrop over the listing limit lists the limit")
t.like(c.cmd("UIDL"), "+OK", "UIDL")
uidls = [l.split(" ", 1)[1] for l in c.multi()]
t.is_(sorted(uidls), sorted(n.split(",")[0] for n in oldest), "the listed ones are the oldest")
for i in (1, 2, 3):
    c.cmd(f"DELE {i}")
time.sleep(4)   # past the log-in deadline
t.like(c.cmd("NOOP"), "+OK", "a logged-in session outlives the log-in deadline")
t.like(c.cmd("QUIT"), "+OK", "QUIT")
c.close()
log = env.log("pop3s")
t.like(log, "event=maildrop_limit", "the log says the maildrop is over the listing limit")
t.ok(re.search(r"event=maildrop_limit mailbox=\w+ listed=3 left_out=2", log),
     "with the counts listed and left out", log[-2000:])
t.ok("event=identity_resealed" in log and "from_log_n=12 to_log_n=10" in log,
     "the re-seal is logged with both work factors")

c = Raw(port, env.ca, implicit=True)
t.like(login(c), "+OK", "the re-sealed identity opens with the same password")
t.like(c.cmd("STAT"), "+OK 2 ", "the next session serves the messages left out")
c.cmd("QUIT")
c.close()
cur = os.path.join(mailbox_dir(env, mbid), "cur")
msg = os.path.join(cur, sorted(os.listdir(cur))[0])
t.like(age_decrypt(ident, pw, msg).decode(), "Subject: m", "the stock age opens the re-sealed identity")

# msgw-mbox status on a maildrop over the limit.
for i in range(4):
    put_message(env, mbid, b"Subject: more\n\nx\n")
r = env.run("msgw-mbox", "status", "--json")
checks = [c for c in json.loads(r.stdout)["checks"] if c["check"] == "listing_limit"]
t.ok(r.returncode >= 1 and checks and checks[0]["status"] == "warning",
     "msgw-mbox status warns about a maildrop over the listing limit", r.stdout)
t.like(checks[0]["message"] if checks else "", "above pop3.max_messages 3: a session serves the oldest 3",
       "and says what a session serves")

# 4. The per-source limit in --listen mode (2 here).
held = [Raw(port, env.ca, implicit=True) for _ in range(2)]
t.ok(all(h.line().startswith("+OK") for h in held), "two connections from one address are served")
extra = Raw(port, env.ca, implicit=False)
got = None
try:
    got = extra.f.readline(100)
except OSError:
    got = b""
extra.close()
t.is_(got, b"", "a third from the same address is closed at once, nothing sent")
t.like(env.log("pop3s"), "event=refused reason=per_source peer=127.0.0.1",
       "the refusal is logged with the address")
held[0].close()
time.sleep(0.5)
again = None
for _ in range(20):   # the listener reaps the closed session first
    c = Raw(port, env.ca, implicit=True)
    try:
        again = c.line()
    except OSError:
        again = None
    c.close()
    if again:
        break
    time.sleep(0.25)
t.like(again or "", "+OK", "once one closes, the address is served again")
for h in held[1:]:
    h.close()

# 5. msgw-proxy's POP3 front end has the same log-in deadline.
pport = env.port()
env.start("msgw-proxy", "pop3", "--implicit-tls", "--foreground", "--listen",
          f"127.0.0.1:{pport}", port=pport, logname="proxy-pop3")
c = Raw(pport, env.ca, implicit=True)
answers = keep_busy(c, "CAPA", multi=True)
c.close()
t.ok(answers[-1] is None or answers[-1].startswith("-ERR"),
     "msgw-proxy pop3: a client that never logs in is disconnected", answers)
t.ok(len(answers) < 10, "at the log-in deadline", f"{len(answers)} answers")

sanitizer_clean(t, env)
t.done()
