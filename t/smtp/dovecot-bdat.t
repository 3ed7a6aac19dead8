#!/usr/bin/env python3
# BDAT from a real, independent client: Dovecot's submission service
# relays what a mail client submits to msgw-smtp (its "relay host") over
# verified STARTTLS, and its SMTP client uses BDAT when CHUNKING is offered.
# (Postfix 3.7's client has no BDAT at all; see postfix.t.) Each message
# must arrive byte-exact after Dovecot's and msgw's trace headers.
import os
import pwd
import shutil
import smtplib
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "smtp"))
from msgwtest import Test, wait_port  # noqa: E402
from smtptest import Mailbox, sanitizer_clean, strip_trace, wait_log  # noqa: E402

t = Test()
env = t.env()
mb = Mailbox(env, "bdat")
mport = env.port()
env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{mport}", port=mport)

# A private Dovecot that only does submission, relaying to msgw-smtp.
# Outside env.dir (mode 0700): Dovecot's auth process runs as user dovecot.
d = tempfile.mkdtemp(prefix="msgw-dovecot.")
os.chmod(d, 0o755)
t.at_exit(lambda: shutil.rmtree(d, ignore_errors=True))
for sub in ("run", "state", "home"):
    os.makedirs(os.path.join(d, sub), exist_ok=True)
os.chmod(os.path.join(d, "home"), 0o777)
shutil.chown(os.path.join(d, "state"), "dovecot")
# The submission process runs as the mail user (nobody): it reads the CA here.
ca = os.path.join(d, "ca.pem")
shutil.copy(env.ca, ca)
os.chmod(ca, 0o644)
with open(os.path.join(d, "passwd"), "w") as f:
    f.write("alice:{PLAIN}secret::::::\n")
sport = env.port()
nobody = pwd.getpwnam("nobody")
conf = os.path.join(d, "dovecot.conf")
with open(conf, "w") as f:
    f.write(f"""base_dir = {d}/run
state_dir = {d}/state
instance_name = msgw-bdat-{sport}
log_path = {d}/dovecot.log
protocols = submission
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
hostname = submission.test
mail_location = maildir:{d}/home/%u/Maildir
submission_relay_host = 127.0.0.1
submission_relay_port = {mport}
submission_relay_trusted = yes
submission_relay_ssl = starttls
submission_relay_ssl_verify = yes
ssl_client_ca_file = {ca}
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={nobody.pw_uid} gid={nobody.pw_gid} home={d}/home/%u
}}
service submission-login {{
  inet_listener submission {{
    port = {sport}
  }}
}}
""")
# Its own output to a file: the daemon keeps what it inherits open, and a
# pipe would never reach end of file.
with open(os.path.join(d, "start.log"), "wb") as out:
    rc = subprocess.run(["dovecot", "-c", conf], stdout=out, stderr=out, timeout=60).returncode
if rc != 0:
    with open(os.path.join(d, "start.log"), errors="replace") as f:
        t.bail(f"dovecot: {f.read()}")
t.at_exit(lambda: subprocess.run(["doveadm", "-c", conf, "stop"], capture_output=True))
wait_port(sport)


def dovecot_log():
    try:
        with open(os.path.join(d, "dovecot.log"), errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


big = b"".join(b"line %05d: 8-bit \xc3\xa9t\xc3\xa9 text with padding to make it longer\r\n" % i
               for i in range(8000))
messages = [
    b"From: alice@client.test\r\nTo: archive\r\nSubject: one\r\n\r\nplain body\r\n",
    b"From: alice@client.test\r\nTo: archive\r\nSubject: dots\r\n\r\n.leading dot\r\n..two\r\n.\r\nend\r\n",
    b"From: alice@client.test\r\nTo: archive\r\nSubject: big\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + big,
]
s = smtplib.SMTP("127.0.0.1", sport, timeout=60)
s.ehlo()
try:
    s.login("alice", "secret")
except smtplib.SMTPException as e:
    t.bail(f"log-in to Dovecot: {e}\n{dovecot_log()[-3000:]}")
for m in messages:
    refused = s.sendmail("alice@client.test", [mb.address], m)
    t.is_(refused, {}, f"Dovecot accepted a {len(m)}-byte message for the msgw mailbox")
s.quit()

log = wait_log(env, "msgw-smtp", "messages=3")
t.is_(log.count("from=rcpt to=bdat"), 3,
      "Dovecot relayed all three with BDAT (msgw's session entered its BDAT state each time)")
t.like(log, 'tls="TLS1.', "over TLS (Dovecot verified msgw's certificate against the test CA)")
stored = mb.messages()
t.is_(len(stored), 3, "three messages stored")
for m in messages:
    got = [x for x in stored if x.endswith(m)]
    t.ok(len(got) == 1 and strip_trace(got[0]) is not None,
         f"{len(m)}-byte message stored byte-exact after the trace headers",
         [x[:300] for x in stored])
t.ok("Error" not in dovecot_log(), "Dovecot logged no error", dovecot_log()[-2000:])
sanitizer_clean(t, env)
t.done()
