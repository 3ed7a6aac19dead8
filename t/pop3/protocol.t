#!/usr/bin/env python3
# msgw-pop3 protocol engine, no mailbox needed: greeting, CAPA before and
# after TLS, STLS, credentials refused before TLS (and never read), line
# and bad-command limits, states, implicit TLS, unknown names.
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "pop3"))
from pop3lib import *  # noqa: E402,F403

t = Test()
env = t.env(pop3__max_errors=20)
port = start_pop3(env)
sport = start_pop3(env, implicit=True)

c = Raw(port, env.ca)
g = c.line()
t.like(g, "+OK", "greeting is +OK")
t.like(g, "mx.mail.test", "greeting names the configured host name")
t.ok("<" not in g, "no APOP timestamp (APOP is not offered)", g)

t.is_(c.cmd("CAPA"), "+OK Capability list follows", "CAPA answers +OK")
capa = c.multi()
for cap in ("TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "STLS"):
    t.ok(cap in capa, f"CAPA before TLS lists {cap}", capa)
t.ok(any(x.startswith("IMPLEMENTATION ") for x in capa), "CAPA lists IMPLEMENTATION", capa)
t.ok("USER" not in capa and not any(x.startswith("SASL") for x in capa),
     "CAPA before TLS offers no way to send credentials", capa)

# Credentials before TLS: refused, and nothing is taken as a credential.
t.like(c.cmd("USER aaaaaaaaaaaaaaaa"), "-ERR", "USER before STLS is refused")
t.like(c.cmd("PASS secret"), "-ERR", "PASS before STLS is refused")
r = c.cmd("AUTH PLAIN")
t.like(r, "-ERR", "AUTH PLAIN before STLS is refused without a continuation")
# Had the server taken AUTH's next line as a response, this would not be
# answered as a command.
t.like(c.cmd("NOOP"), "+OK", "the line after a refused AUTH is read as a command")
t.like(c.cmd("STAT"), "-ERR", "STAT in AUTHORIZATION is refused")
t.like(c.cmd("FOO"), "-ERR", "an unknown command gets -ERR")

# STLS with a command pipelined behind it: that plaintext must be dropped.
c.send("STLS\r\nNOOP\r\n")
t.like(c.line(), "+OK", "STLS answers +OK")
c.sock = c.ctx().wrap_socket(c.sock, server_hostname="localhost")
c.f = c.sock.makefile("rb")
t.like(c.cmd("CAPA"), "+OK", "CAPA after STLS")
capa = c.multi()
t.ok("USER" in capa and "SASL PLAIN" in capa, "CAPA after TLS offers USER and SASL PLAIN", capa)
t.ok("STLS" not in capa, "CAPA after TLS no longer offers STLS", capa)
t.like(c.cmd("STLS"), "-ERR", "a second STLS is refused")
t.like(c.cmd("USER nosuchmailbox1234"), "+OK", "USER answers +OK whatever the name")
t.like(c.cmd("PASS wrong"), "-ERR [AUTH]", "an unknown mailbox gets -ERR [AUTH]")
t.like(c.cmd("PASS wrong"), "-ERR", "PASS without USER is refused")
r = c.cmd("AUTH PLAIN")
t.is_(r, "+ ", "AUTH PLAIN without initial response asks with '+ '")
t.like(c.cmd("*"), "-ERR", "'*' cancels the AUTH exchange")
t.like(c.cmd("AUTH PLAIN !!!"), "-ERR", "bad base64 in AUTH PLAIN is refused")
t.like(c.cmd("AUTH CRAM-MD5"), "-ERR", "an unsupported mechanism is refused")
t.like(c.cmd("AUTH"), "+OK", "a bare AUTH lists the mechanisms")
t.is_(c.multi(), ["PLAIN"], "the only mechanism is PLAIN")
t.like(c.cmd("QUIT"), "+OK", "QUIT in AUTHORIZATION says goodbye")
t.is_(c.line(), None, "the server closes after QUIT")
c.close()

# Overlong lines: -ERR and the session goes on.
c = Raw(port, env.ca)
c.line()
c.send("NOOP " + "x" * 5000 + "\r\n")
t.like(c.line(), "-ERR", "an overlong line gets -ERR")
t.like(c.cmd("NOOP"), "+OK", "the session goes on after an overlong line")
c.close()

# The bad-command limit (20 in this config): the connection is closed.
c = Raw(port, env.ca)
c.line()
answers = [c.cmd(f"BAD{i}") for i in range(20)]
t.ok(all(a is not None and a.startswith("-ERR") for a in answers), "bad commands get -ERR", answers)
t.is_(c.line(), None, "the connection is closed at the bad-command limit")
c.close()

# Pipelined commands are all answered, in order.
c = Raw(port, env.ca)
c.line()
c.send("NOOP\r\nCAPA\r\nNOOP\r\n")
t.like(c.line(), "+OK", "first pipelined command answered")
t.like(c.line(), "+OK", "second pipelined command answered")
c.multi()
t.like(c.line(), "+OK", "third pipelined command answered")
c.close()

# Implicit TLS: greeting inside TLS, credentials allowed, no STLS offered.
c = Raw(sport, env.ca, implicit=True)
t.like(c.line(), "+OK", "implicit TLS greeting")
c.cmd("CAPA")
capa = c.multi()
t.ok("USER" in capa and "STLS" not in capa, "implicit TLS CAPA: USER, no STLS", capa)
import base64  # noqa: E402
tok = base64.b64encode(b"\0someone@mail.test\0pw").decode()
t.like(c.cmd("AUTH PLAIN " + tok), "-ERR [AUTH]", "AUTH PLAIN for an unknown address: -ERR [AUTH]")
t.like(c.cmd("USER a%b%c"), "+OK", "a proxy-style name is accepted by USER")
t.like(c.cmd("PASS x"), "-ERR [AUTH]", "a proxy-style name is (for now) an unknown mailbox")
t.like(c.cmd("QUIT"), "+OK", "QUIT over implicit TLS")
c.close()

# The idle timeout (1 s in a second server's config): told, then closed.
env.write_config(dict(env.settings, **{"pop3.idle_timeout": 1}))
iport = start_pop3(env, logname="pop3-idle")
c = Raw(iport, env.ca)
c.line()
t.like(c.line(), "-ERR", "an idle client is told before the connection closes")
t.is_(c.line(), None, "and the connection is closed")
c.close()
t.like(env.log("pop3-idle"), "end=timeout", "the summary line says why the session ended")

log = env.log("pop3s")
t.like(log, "event=login_failed", "failed logins are logged")
t.like(log, "peer=127.0.0.1 event=login_failed", "the failure line carries the peer (fail2ban)")
t.like(env.log("pop3"), "event=session_end", "each session ends with a summary line")
t.ok("wrong" not in env.log("pop3"), "no password appears in the log")
sanitizer_clean(t, env)
t.done()
