#!/usr/bin/env python3
# msgw-acme selfsigned: key (mode 0600) and certificate for the configured
# hostname or --name, installed atomically with the previous pair kept as
# .old; a real TLS client (openssl) accepts the pair; usage errors exit 64.
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
from msgwtest import *  # noqa: E402,F403

t = Test()
env = t.env()
cert, key = os.path.join(env.dir, "tls", "new", "cert.pem"), os.path.join(env.dir, "tls", "new", "key.pem")
env.write_config({**env.settings, "tls.cert": cert, "tls.key": key})


def x509(*args, path=cert):
    r = subprocess.run(["openssl", "x509", "-in", path, "-noout", *args], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


r = env.run("msgw-acme", "selfsigned")
t.is_(r.returncode, 0, "selfsigned exits 0", )
if r.returncode:
    t.diag(r.stderr.decode())
t.ok(os.path.exists(cert) and os.path.exists(key), "certificate and key written (parent directory created)")
t.is_(os.stat(key).st_mode & 0o777 if os.path.exists(key) else None, 0o600, "key mode is 0600")
t.like(x509("-ext", "subjectAltName"), "DNS:mx.mail.test", "default name is the configured hostname")
t.like(x509("-subject"), "CN = mx.mail.test", "subject CN is the name")
pub_cert = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"], capture_output=True).stdout
pub_key = subprocess.run(["openssl", "pkey", "-in", key, "-pubout"], capture_output=True).stdout
t.ok(pub_cert and pub_cert == pub_key, "key matches the certificate")
t.like(subprocess.run(["openssl", "pkey", "-in", key, "-noout", "-text"], capture_output=True,
                      text=True).stdout, "prime256v1", "key is ECDSA P-256")
t.is_(subprocess.run(["openssl", "verify", "-CAfile", cert, cert], capture_output=True).returncode, 0,
      "certificate verifies as its own root (self-signed)")
t.ok(subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-checkend", str(300 * 86400)],
                    capture_output=True).returncode == 0,
     "default lifetime is about a year")
first = open(cert).read()

r = env.run("msgw-acme", "selfsigned", "--days", "2", "--name", "a.mail.test", "--name", "127.0.0.1")
t.is_(r.returncode, 0, "selfsigned --days 2 --name x --name IP exits 0")
san = x509("-ext", "subjectAltName") or ""
t.ok("DNS:a.mail.test" in san and "IP Address:127.0.0.1" in san, "both names in subjectAltName", san)
t.ok(subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-checkend", str(3 * 86400)],
                    capture_output=True).returncode == 1, "--days 2 gives a short lifetime")
t.is_(open(cert + ".old").read() if os.path.exists(cert + ".old") else None, first,
      "previous certificate kept as .old")
t.ok(os.path.exists(key + ".old") and os.stat(key + ".old").st_mode & 0o777 == 0o600, "previous key kept as .old, 0600")
t.is_(sorted(f for f in os.listdir(os.path.dirname(cert)) if ".tmp" in f), [], "no temporary files left")

# A real TLS server (openssl s_server) with the pair, a real client checking it.
port = env.port()
srv = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", cert, "-key", key,
                        "-quiet"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
t.at_exit(lambda: (srv.kill(), srv.wait()))
wait_port(port, proc=srv)
c = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", cert,
                    "-verify_hostname", "a.mail.test", "-verify_return_error", "-brief"],
                   input=b"", capture_output=True, timeout=20)
t.like(c.stderr.decode(errors="replace"), "Verification: OK", "a TLS client verifies the installed pair")

r = env.run("msgw-acme", "selfsigned", "--days", "0")
t.is_(r.returncode, 64, "--days 0 is a usage error (64)")
r = env.run("msgw-acme", "selfsigned", "--bogus")
t.is_(r.returncode, 64, "unknown selfsigned flag exits 64")
t.like(r.stderr.decode(), "Usage: msgw-acme", "usage on stderr")
r = env.run("msgw-acme", "nosuchcommand")
t.is_(r.returncode, 64, "unknown command exits 64")
r = env.run("msgw-acme", "selfsigned", "--help")
t.ok(r.returncode == 0 and b"Usage: msgw-acme" in r.stdout, "selfsigned --help: usage on stdout, exit 0")

# A failure (unwritable directory) leaves the installed pair alone.
env.write_config({**env.settings, "tls.cert": "/proc/msgw-nonexistent/cert.pem", "tls.key": key})
before = open(key).read()
r = env.run("msgw-acme", "selfsigned")
t.ok(r.returncode != 0 and b"/proc/msgw-nonexistent" in r.stderr, "unwritable cert path fails, naming it",
     r.stderr)
t.is_(open(key).read(), before, "key unchanged after the failure")
t.done()
