#!/usr/bin/env python3
# msgw-smtp protocol: every reply code, state errors, limits, SMTP
# smuggling, overlong lines, NUL bytes, timeouts, STARTTLS injection.
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "smtp"))
from msgwtest import Test  # noqa: E402
from smtptest import sanitizer_clean, wait_log, Mailbox, Raw, strip_trace  # noqa: E402

t = Test()
env = t.env(smtp__require_tls=False, proxy__enabled=True, proxy__allowed_targets=["mail.example.org"],
            smtp__max_recipients=3, smtp__max_errors=8,
            smtp__max_message_size=20000, smtp__command_timeout=3, smtp__data_timeout=3)
mb = Mailbox(env, "protocol")
other = Mailbox(env, "suspended one")
other.suspend()
fenced = Mailbox(env, "fenced")
fenced.set_conf('allowed_networks = [ "192.0.2.0/24" ];')
port = env.port()
env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{port}", port=port)


def unstuff(data):
    """RFC 5321 4.5.2 as msgw reads it: lines end only in CRLF; a line
    that starts with a dot loses that dot."""
    return b"\r\n".join(ln[1:] if ln.startswith(b".") else ln for ln in data.split(b"\r\n"))


def wait_empty(box, sub, timeout=10):
    """The files of box/sub once it is empty, or at the timeout (the server
    cleans up after it has seen the disconnect)."""
    deadline = time.monotonic() + timeout
    while box.files(sub) and time.monotonic() < deadline:
        time.sleep(0.05)
    return box.files(sub)


def code(r):
    return r[0]


def session(ehlo=True):
    c = Raw(port)
    t.is_(code(c.reply()), 220, "greeting") if not ehlo else c.reply()
    if ehlo:
        c.cmd("EHLO client.test")
    return c


# Greeting and capabilities.
c = Raw(port)
r = c.reply()
t.ok(r[0] == 220 and "mx.mail.test" in r[1], "220 greeting names the host", r)
r = c.cmd("EHLO client.test")
caps = r[1].upper()
t.is_(r[0], 250, "EHLO 250")
for cap in ("PIPELINING", "SIZE 20000", "8BITMIME", "BINARYMIME", "SMTPUTF8",
            "ENHANCEDSTATUSCODES", "CHUNKING", "STARTTLS"):
    t.ok(cap in caps, f"EHLO advertises {cap}", r[1])
t.ok("AUTH" not in caps, "no AUTH advertised", r[1])
t.like(c.cmd("HELO client.test")[1], "250 mx.mail.test", "HELO 250")
t.like(c.cmd("EHLO")[1], "501 5.5.4", "EHLO without a name: 501 5.5.4")
c.cmd("QUIT")
c.close()

# State machine: commands out of order.
c = Raw(port)
c.reply()
t.like(c.cmd(f"MAIL FROM:<a@b.test>")[1], "503 5.5.1", "MAIL before EHLO: 503 5.5.1")
c.cmd("EHLO client.test")
t.like(c.cmd(f"RCPT TO:<{mb.address}>")[1], "503 5.5.1", "RCPT before MAIL: 503 5.5.1")
t.like(c.cmd("DATA")[1], "503 5.5.1", "DATA before RCPT: 503 5.5.1")
t.like(c.cmd("XYZZY")[1], "500 5.5.1", "unknown command: 500 5.5.1")
t.like(c.cmd("EXPN list")[1], "502 5.5.1", "EXPN: 502 5.5.1")
t.like(c.cmd("VRFY someone")[1], "252 2.5.0", "VRFY: 252 2.5.0")
t.like(c.cmd("HELP")[1], "214 2.0.0", "HELP: 214")
t.like(c.cmd("NOOP")[1], "250 2.0.0", "NOOP: 250")
t.like(c.cmd("RSET")[1], "250 2.0.0", "RSET: 250")
t.like(c.cmd("AUTH PLAIN AGFAYg==")[1], "530 5.7.0", "AUTH before TLS: 530 5.7.0, nothing on the line is read")
t.like(c.cmd("QUIT")[1], "221 2.0.0", "QUIT: 221 2.0.0")
t.ok(c.closed(), "connection closed after QUIT")

# Line discipline: overlong, NUL, bare LF.
c = session()
c.send("NOOP " + "x" * 2000 + "\r\n")
t.like(c.reply()[1], "500 5.5.2", "overlong command line: 500 5.5.2")
t.like(c.cmd("NOOP")[1], "250", "session usable after an overlong line")
c.send(b"NO\x00OP\r\n")
t.like(c.reply()[1], "500 5.5.2", "NUL in a command: 500 5.5.2")
c.send(b"RSET\nNOOP\r\n")
t.like(c.reply()[1], "500 5.5.2", "bare LF does not end a command: 500 5.5.2")
t.like(c.cmd("HELP")[1], "214", "the text after a bare LF did not start a command")
c.send(b"RS\rET\r\n")
t.like(c.reply()[1], "500 5.5.2", "bare CR in a command: 500 5.5.2")
c.cmd("QUIT")
c.close()

# MAIL and RCPT checks.
c = session()
t.like(c.cmd("MAIL FROM:a@b.test")[1], "501 5.1.7", "MAIL without <>: 501 5.1.7")
t.like(c.cmd("MAIL FROM:<a@b.test> RET=HDRS")[1], "555 5.5.4", "unsupported parameter: 555 5.5.4")
t.like(c.cmd("MAIL FROM:<a@b.test> SIZE=20001")[1], "552 5.3.4", "SIZE= over the limit: 552 5.3.4")
t.like(c.cmd("MAIL FROM:<a@b.test> SIZE=20000 BODY=8BITMIME")[1], "250 2.1.0", "MAIL: 250 2.1.0")
t.like(c.cmd("RCPT TO:<someone@example.org>")[1], "550 5.7.1", "other domain: 550 5.7.1")
t.like(c.cmd("RCPT TO:<aaaaaaaaaaaaaaaa@mail.test>")[1], "550 5.1.1", "unknown mailbox: 550 5.1.1")
t.like(c.cmd(f"RCPT TO:<{mb.id.upper()}@mail.test>")[1], "550 5.1.1", "id is exact (upper case unknown)")
t.like(c.cmd("RCPT TO:<nobrackets>")[1], "501 5.1.3", "bad recipient syntax: 501 5.1.3")
c.close()
c = session()
c.cmd("MAIL FROM:<>")
t.like(c.cmd(f"RCPT TO:<{mb.id}@MAIL.Test>")[1], "250 2.1.5", "domain in any case: 250 2.1.5")
t.like(c.cmd(f"RCPT TO:<{mb.id}+tag@mail.test>")[1], "250 2.1.5", "+tag accepted")
t.like(c.cmd(f"RCPT TO:<{other.address}>")[1], "450 4.2.1", "suspended mailbox: 450 4.2.1")
t.like(c.cmd(f"RCPT TO:<{fenced.address}>")[1], "554 5.7.1", "mailbox allowed_networks: 554 5.7.1")
t.like(c.cmd(f"RCPT TO:<{mb.address}>")[1], "250", "third recipient accepted")
t.like(c.cmd(f"RCPT TO:<{mb.address}>")[1], "452 4.5.3", "too many recipients: 452 4.5.3")
t.like(c.cmd("DATA")[1], "354", "DATA: 354")
c.send(b"Subject: dup\r\n\r\none copy per mailbox\r\n.\r\n")
r = c.reply()
t.like(r[1], "250 2.6.0", "three RCPTs to one mailbox: 250 2.6.0")
t.is_(len(mb.files()), 1, "one copy for one mailbox named three times")
t.like(c.cmd("MAIL FROM:<a@b.test> BODY=BINARYMIME")[1], "250", "MAIL BODY=BINARYMIME")
c.cmd(f"RCPT TO:<{mb.address}>")
t.like(c.cmd("DATA")[1], "503 5.5.1", "DATA after BODY=BINARYMIME: 503 5.5.1")
c.cmd("QUIT")
c.close()
t.like(env.log("msgw-smtp"), "event=denied reason=mailbox-networks", "mailbox network refusal logged")

# Size limit during DATA: the data is read to its end, then 552.
before = len(mb.files())
c = session()
c.cmd("MAIL FROM:<a@b.test>")
c.cmd(f"RCPT TO:<{mb.address}>")
c.cmd("DATA")
c.send(b"Subject: big\r\n\r\n" + (b"y" * 998 + b"\r\n") * 25 + b".\r\n")
t.like(c.reply()[1], "552 5.3.4", "message over max_message_size: 552 5.3.4")
t.like(c.cmd("NOOP")[1], "250", "in step after the refused message")
t.is_(len(mb.files()), before, "nothing stored for a refused message")
c.cmd("QUIT")
c.close()

# SMTP smuggling: bare LF / bare CR never end the data; the "smuggled"
# commands are message content, and only one message is stored.
smuggles = [b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r"]
for i, sep in enumerate(smuggles):
    before = len(mb.files())
    c = session()
    c.cmd("MAIL FROM:<a@b.test>")
    c.cmd(f"RCPT TO:<{mb.address}>")
    c.cmd("DATA")
    body = (b"Subject: smuggle %d\r\n\r\nfirst" % i + sep +
            b"MAIL FROM:<evil@b.test>\r\nRCPT TO:<" + mb.address.encode() + b">\r\nDATA\r\n"
            b"Subject: smuggled\r\n\r\nsecond\r\n.\r\n")
    c.send(body)
    r = c.reply()
    t.like(r[1], "250 2.6.0", f"smuggling case {sep!r}: one 250 at the real end")
    r2 = c.cmd("NOOP")
    t.like(r2[1], "250 2.0.0", f"smuggling case {sep!r}: no further replies queued")
    c.cmd("QUIT")
    c.close()
    files = mb.files()
    t.is_(len(files) - before, 1, f"smuggling case {sep!r}: exactly one message stored")
    msg = strip_trace(mb.decrypt(files[-1]))
    want = unstuff(body[:-5] + b"\r\n")   # without the final ".\r\n"
    t.is_(msg, want, f"smuggling case {sep!r}: smuggled text stored as content, byte-exact")

# Dot-unstuffing, 8-bit and NUL bytes in DATA, byte-exact.
c = session()
c.cmd("MAIL FROM:<a@b.test> BODY=8BITMIME")
c.cmd(f"RCPT TO:<{mb.address}>")
c.cmd("DATA")
c.send(b"Subject: dots\r\n\r\n..leading dot\r\n...two\r\n\xc3\xa9t\xc3\xa9 \x00nul\r\n.\r\n")
t.like(c.reply()[1], "250 2.6.0", "8-bit message with NUL stored")
t.is_(strip_trace(mb.last()),
      b"Subject: dots\r\n\r\n.leading dot\r\n..two\r\n\xc3\xa9t\xc3\xa9 \x00nul\r\n",
      "dot-unstuffing exact, 8-bit and NUL kept")

# BDAT: byte-exact chunks, and a refused BDAT still consumes its octets.
c.cmd("MAIL FROM:<a@b.test> BODY=BINARYMIME")
c.cmd(f"RCPT TO:<{mb.address}>")
part1 = b"Subject: bdat\r\n\r\nbinary\x00\r\n.\r\n"
part2 = b"bare\nLF and bare\rCR\r\n.\r\nQUIT\r\n"
c.send(b"BDAT %d\r\n" % len(part1) + part1)
t.like(c.reply()[1], "250 2.0.0 %d" % len(part1), "BDAT chunk: 250 with its size")
t.like(c.cmd("DATA")[1], "503", "DATA during BDAT: 503")
c.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
t.like(c.reply()[1], "250 2.6.0", "BDAT LAST: 250 2.6.0")
t.is_(strip_trace(mb.last()), part1 + part2, "BDAT content stored byte-exact (no unstuffing)")
c.send(b"BDAT 6 LAST\r\nQUIT\r\n")
t.like(c.reply()[1], "503 5.5.1", "BDAT without a transaction: 503, octets consumed")
t.like(c.cmd("NOOP")[1], "250", "BDAT octets were not taken as a command")
c.cmd("MAIL FROM:<a@b.test>")
c.cmd(f"RCPT TO:<{mb.address}>")
c.send(b"BDAT 30000 LAST\r\n" + b"z" * 30000)
t.like(c.reply()[1], "552 5.3.4", "BDAT over the size limit: 552 5.3.4")
t.like(c.cmd("NOOP")[1], "250", "in step after the refused chunk")
c.cmd("QUIT")
c.close()

# A client that disconnects mid-DATA: nothing stored, nothing left in tmp/.
before = len(mb.files())
c = session()
c.cmd("MAIL FROM:<a@b.test>")
c.cmd(f"RCPT TO:<{mb.address}>")
c.cmd("DATA")
c.send(b"Subject: cut\r\n\r\nhalf a message\r\n")
c.close()
wait_log(env, "msgw-smtp", "event=disconnect state=data")
t.is_(len(mb.files()), before, "disconnect mid-DATA: nothing in new/")
t.is_(wait_empty(mb, "tmp"), [], "disconnect mid-DATA: nothing left in tmp/")
c = session()
c.cmd("MAIL FROM:<a@b.test>")
c.cmd(f"RCPT TO:<{mb.address}>")
c.send(b"BDAT 100 LAST\r\nonly some")
c.close()
wait_log(env, "msgw-smtp", "event=disconnect state=bdat")
t.is_(len(mb.files()), before, "disconnect mid-BDAT: nothing in new/")
t.is_(wait_empty(mb, "tmp"), [], "disconnect mid-BDAT: nothing left in tmp/")

# A store failure: 451 4.3.0, and the client may try again.
broken = Mailbox(env, "broken")
shutil.rmtree(os.path.join(broken.dir, "tmp"))
with open(os.path.join(broken.dir, "tmp"), "w") as f:
    f.write("not a directory\n")
c = session()
c.cmd("MAIL FROM:<a@b.test>")
t.like(c.cmd(f"RCPT TO:<{broken.address}>")[1], "250", "recipient with a broken Maildir accepted")
t.like(c.cmd("DATA")[1], "451 4.3.0", "store failure: 451 4.3.0")
t.like(c.cmd("MAIL FROM:<a@b.test>")[1], "250", "a new transaction may start")
c.cmd("QUIT")
c.close()
t.is_(broken.files(), [], "nothing stored for the failed delivery")

# Too many errors: the 8th refused command is followed by 421 and close.
c = session()
for i in range(7):
    c.cmd("BOGUS")
c.send("BOGUS\r\n")
r1, r2 = c.reply(), c.reply()
t.like(r1[1], "500 5.5.1", "eighth error still answered")
t.like(r2[1], "421 4.7.0", "too many errors: 421 4.7.0")
t.ok(c.closed(), "closed after too many errors")

# A client that stalls: 421 4.4.2 after command_timeout, then close.
c = session()
t0 = time.monotonic()
r = c.reply()
t.like(r[1], "421 4.4.2", "stalled client: 421 4.4.2")
t.ok(c.closed(), "stalled client disconnected")
c = session()
c.cmd("MAIL FROM:<a@b.test>")
c.cmd(f"RCPT TO:<{mb.address}>")
c.cmd("DATA")
before = len(mb.files())
c.send(b"Subject: stall\r\n\r\n")
t.like(c.reply()[1], "421 4.4.2", "stall inside DATA: 421 4.4.2")
t.is_(len(mb.files()), before, "stall inside DATA: nothing stored")

# Pipelining (RFC 2920): a batch of commands answered in order.
c = session()
c.send(f"RSET\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<{mb.address}>\r\nRCPT TO:<x@example.org>\r\nDATA\r\n")
codes = [c.reply()[0] for _ in range(5)]
t.is_(codes, [250, 250, 250, 550, 354], "pipelined batch answered in order")
c.send(b"Subject: piped\r\n\r\nx\r\n.\r\nQUIT\r\n")
t.is_([c.reply()[0], c.reply()[0]], [250, 221], "data end and QUIT pipelined")
c.close()

# require_tls (the default), STARTTLS, and commands pipelined before it.
env.write_config({**env.settings, "smtp.require_tls": True})
tport = env.port()
env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{tport}", port=tport, logname="tls")
c = Raw(tport)
c.reply()
c.cmd("EHLO client.test")
t.like(c.cmd("MAIL FROM:<a@b.test>")[1], "530 5.7.0", "require_tls: MAIL before STARTTLS is 530 5.7.0")
t.like(c.cmd("STARTTLS now")[1], "501", "STARTTLS with an argument: 501")
c.send(f"STARTTLS\r\nMAIL FROM:<evil@b.test>\r\nRCPT TO:<{mb.address}>\r\n")
t.like(c.reply()[1], "220 2.0.0", "STARTTLS: 220 2.0.0")
c.starttls_wrap(env.ca)
r = c.cmd("EHLO client.test")
t.ok(r[0] == 250 and "STARTTLS" not in r[1], "EHLO after TLS: no STARTTLS advertised", r)
t.like(c.cmd(f"RCPT TO:<{mb.address}>")[1], "503 5.5.1",
       "commands pipelined before the handshake were discarded (no MAIL in effect)")
t.like(c.cmd("STARTTLS")[1], "503 5.5.1", "STARTTLS twice: 503")
t.ok("AUTH PLAIN LOGIN" in r[1], "EHLO after TLS offers AUTH PLAIN LOGIN (proxy log-ins)", r)
t.like(c.cmd("AUTH CRAM-MD5")[1], "504 5.5.4", "AUTH with another mechanism: 504 5.5.4")
t.like(c.cmd("AUTH PLAIN !!!!")[1], "501 5.5.2", "AUTH PLAIN with bad base64: 501 5.5.2")
t.like(c.cmd("AUTH LOGIN")[1], "334 VXNlcm5hbWU6", "AUTH LOGIN asks for the user name")
t.like(c.cmd("*")[1], "501 5.0.0", "AUTH cancelled with *: 501 5.0.0")
t.like(c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")[1], "535 5.7.8",
       "AUTH with a name that is no proxy log-in: 535 5.7.8 (the journal path has no log-ins)")
t.like(c.cmd("NOOP")[1], "250", "the session goes on after a refused AUTH")
t.ok("AGFsaWNlAHNlY3JldA" not in env.log("tls") and "secret" not in env.log("tls"),
     "no credential in the log")
t.like(c.cmd("MAIL FROM:<a@b.test>")[1], "250", "MAIL after STARTTLS: 250")
c.cmd(f"RCPT TO:<{mb.address}>")
c.cmd("DATA")
c.send(b"Subject: tls\r\n\r\nover TLS\r\n.\r\n")
t.like(c.reply()[1], "250 2.6.0", "message over STARTTLS stored")
m = mb.last()
t.ok(b"with ESMTPS" in m and b"TLS1." in m.split(b"\r\n\r\n")[0], "Received: names ESMTPS and the TLS version",
     m[:400])
c.cmd("QUIT")
c.close()
log = wait_log(env, "tls", "event=session tls=\"TLS1.")
t.like(log, "event=session tls=\"TLS1.", "summary line names the TLS version")
t.ok("result=quit" in log and "duration_ms=" in log and "messages=1" in log, "one summary line per session", log)

# RFC 4954 section 5: offering AUTH means taking MAIL's AUTH= parameter
c = Raw(tport)
c.reply()
c.cmd("EHLO client.test")
c.cmd("STARTTLS")
c.starttls_wrap(env.ca)
c.cmd("EHLO client.test")
t.like(c.cmd("MAIL FROM:<a@b.test> AUTH=<>")[1], "250", "MAIL with AUTH=<> (RFC 4954, AUTH is offered): 250")
c.cmd("RSET")
t.like(c.cmd("MAIL FROM:<a@b.test> AUTH=alice+40example.com")[1], "250", "MAIL with an xtext AUTH=: 250")
c.cmd("RSET")
t.like(c.cmd("MAIL FROM:<a@b.test> AUTH=bad=value")[1], "555 5.5.4", "MAIL with a malformed AUTH=: 555 5.5.4")
c.cmd("QUIT")
c.close()

# Global allowed_networks and the session bound.
env.write_config({**env.settings, "smtp.allowed_networks": ["192.0.2.0/24", "::1/128"],
                  "smtp.session_timeout": 2, "smtp.require_tls": False})
gport = env.port()
env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{gport}", port=gport, logname="fenced")
c = Raw(gport)
t.like(c.reply()[1], "554 5.7.1", "connection from outside allowed_networks: 554 5.7.1")
t.like(c.cmd("EHLO client.test")[1], "503", "then only QUIT")
t.like(c.cmd("QUIT")[1], "221", "QUIT after 554")
c.close()
t.like(env.log("fenced"), "event=denied reason=allowed-networks", "network refusal logged")

env.write_config({**env.settings, "smtp.allowed_networks": [], "smtp.session_timeout": 2,
                  "smtp.command_timeout": 60})
sport = env.port()
env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{sport}", port=sport, logname="session")
c = Raw(sport)
c.reply()
r = None
for i in range(40):
    r = c.cmd("NOOP")
    if r[0] != 250:
        break
    time.sleep(0.25)
t.like(r[1], "421 4.4.2", "session_timeout: 421 4.4.2 even for a busy client")
c.close()

# No usable certificate: STARTTLS is not offered and gets 454 4.7.0.
env.write_config({**env.settings, "tls.cert": os.path.join(env.dir, "missing.pem"),
                  "smtp.session_timeout": 3600, "smtp.command_timeout": 3,
                  "smtp.max_message_size": 4 * 1024 * 1024})
nport = env.port()
env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{nport}", port=nport, logname="nocert")
c = Raw(nport)
c.reply()
r = c.cmd("EHLO client.test")
t.ok(r[0] == 250 and "STARTTLS" not in r[1], "no certificate: STARTTLS not advertised", r)
t.like(c.cmd("STARTTLS")[1], "454 4.7.0", "STARTTLS without a certificate: 454 4.7.0")
t.like(c.cmd("NOOP")[1], "250", "session goes on in plain text")
# A message line over 1 MiB (no CRLF): refused with 500 5.5.2 at the end.
before = len(mb.files())
c.cmd("MAIL FROM:<a@b.test>")
c.cmd(f"RCPT TO:<{mb.address}>")
c.cmd("DATA")
c.send(b"Subject: long line\r\n\r\n" + b"w" * (1024 * 1024 + 10) + b"\r\n.\r\n")
t.like(c.reply()[1], "500 5.5.2", "message line over 1 MiB: 500 5.5.2")
t.is_(len(mb.files()), before, "nothing stored for it")
c.cmd("QUIT")
c.close()

sanitizer_clean(t, env)
t.done()
