#!/usr/bin/env python3
# msgw-acme issue / renew / status against a real ACME server: pebble and
# pebble-challtestsrv from Debian on loopback (pebble's 5% nonce rejection
# left on, so the badNonce retry runs). Issue (with a staging run first),
# the chain verifies against pebble's root, status, renew not due (nothing
# changes), renew when due (faketime), --force, --webroot, and failure paths
# (challenge port in use, CA unreachable, CA error) that keep the old pair.
import fcntl
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "acme"))
from msgwtest import *  # noqa: E402,F403
from acmetest import Pebble, faketime, have_pebble  # noqa: E402

t = Test()
if not have_pebble():
    print("1..0 # SKIP pebble or pebble-challtestsrv not installed (Debian package pebble)")
    sys.exit(0)
env = t.env()
ch = free_port()
# 6-day certificates, like Let's Encrypt's shortlived profile: renewal is
# due when half the lifetime is left.
# No authorization reuse, so every order needs the challenge port.
pb = Pebble(t, os.path.join(env.dir, "pebble"), ch, validity=6 * 86400, env={"PEBBLE_AUTHZREUSE": "0"})
cert, key = os.path.join(env.dir, "inst", "cert.pem"), os.path.join(env.dir, "inst", "key.pem")
base = {**env.settings, "domain": "www.acme.test", "tls.cert": cert, "tls.key": key,
        "acme.directory": pb.directory, "acme.staging_directory": pb.directory, "acme.ca_file": pb.ca,
        "acme.challenge_port": ch, "acme.challenge_address": "127.0.0.1", "acme.email": "admin@acme.test",
        "status.cert_warning_days": 2, "status.cert_critical_days": 1}
env.write_config(base)


T0 = time.monotonic()


def run(*args, **kw):
    t.diag(f"{time.monotonic() - T0:.1f}s: msgw-acme {' '.join(args)}")
    r = env.run("msgw-acme", *args, **kw)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def acme_ahead(offset, *args):
    argv, e = faketime(env.cmd("msgw-acme", *args), offset)
    r = subprocess.run(argv, capture_output=True, timeout=120, env=e)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


def verifies(root_pem):
    """openssl verify of the installed leaf with the installed intermediates."""
    d = os.path.join(env.dir, "verify")
    os.makedirs(d, exist_ok=True)
    pems = [p + "-----END CERTIFICATE-----\n" for p in read(cert).split("-----END CERTIFICATE-----")[:-1]]
    with open(f"{d}/root.pem", "w") as f:
        f.write(root_pem)
    with open(f"{d}/leaf.pem", "w") as f:
        f.write(pems[0].lstrip())
    with open(f"{d}/chain.pem", "w") as f:
        f.write("".join(pems[1:]))
    r = subprocess.run(["openssl", "verify", "-CAfile", f"{d}/root.pem", "-untrusted", f"{d}/chain.pem",
                        f"{d}/leaf.pem"], capture_output=True, text=True)
    return r.returncode == 0, r.stdout + r.stderr, len(pems)


rc, out, err = run("selfsigned", "--name", "www.acme.test")
t.is_(rc, 0, "a self-signed certificate to start from")

# Issue: one command after setting domain and acme.directory (+ the test CA).
rc, out, err = run("issue")
t.is_(rc, 0, "issue exits 0", )
if rc:
    t.diag(err[-2000:])
t.like(err, "event=staging_run", "the whole flow ran against the staging directory first")
t.like(out, "www.acme.test", "issue reports the certificate")
try:
    socket.create_connection(("127.0.0.1", ch), timeout=2).close()
    t.ok(False, "the challenge port is released after the order")
except OSError:
    t.ok(True, "the challenge port is released after the order")
ok_, detail, n = verifies(pb.root())
t.ok(ok_, "the installed chain verifies against pebble's root (/roots/0)", detail)
t.ok(n >= 2, "the chain includes the intermediate", n)
t.is_(os.stat(key).st_mode & 0o777, 0o600, "the new key is 0600")
acct = os.path.join(env.data_dir, "acme", "account.key")
t.ok(os.path.exists(acct) and os.stat(acct).st_mode & 0o777 == 0o600, "account key under data_dir/acme/, 0600")
t.like(read(acct) or "", "BEGIN PRIVATE KEY", "account key is PEM")
t.ok(read(cert + ".old") is not None and "BEGIN CERTIFICATE" in read(cert + ".old"), "the self-signed pair kept as .old")
t.ok("BEGIN PRIVATE KEY" not in err and (read(key) or "x").splitlines()[1] not in err + out,
     "no key material in the output")

r = env.run("msgw-acme", "status", "--json")
st = json.loads(r.stdout or b"{}")
t.is_(r.returncode, 0, "status exits 0 for the fresh certificate")
t.ok(st.get("acme_managed") is True and st.get("self_signed") is False and st.get("sans") == ["www.acme.test"],
     "status: ACME-managed, not self-signed, the domain", st)
t.ok(st.get("days_left") in (5, 6), "status: days left of a 6-day certificate", st.get("days_left"))

issued = read(cert)
rc, out, err = run("renew")
t.ok(rc == 0 and out == "", "renew when not due: exit 0, nothing on stdout", (rc, out, err[-1500:]))
t.is_(read(cert), issued, "renew when not due changes nothing")
t.like(err, "event=not_due", "renew says why (debug log)")

# 4 days on, half of the 6-day lifetime is gone: due.
rc, out, err = acme_ahead("+4d", "renew")
t.is_(rc, 0, "renew when due (4 days later, faketime) exits 0")
if rc:
    t.diag(err[-2000:])
renewed = read(cert)
t.ok(renewed != issued and "renewed" in out, "renew when due installs a new certificate", out)
t.is_(read(cert + ".old"), issued, "the previous certificate is kept as .old")
ok_, detail, _ = verifies(pb.root())
t.ok(ok_, "the renewed chain verifies", detail)

rc, out, err = run("renew", "--force")
t.is_(rc, 0, "renew --force exits 0")
t.ok(read(cert) != renewed, "renew --force installs a new certificate")
current, current_key = read(cert), read(key)


def unchanged(what):
    t.ok(read(cert) == current and read(key) == current_key, f"old certificate and key still in place after: {what}")


rc, out, err = run("issue", "--no-staging-check", "--domain", "a.acme.test", "--domain", "b.acme.test")
san = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-ext", "subjectAltName"], capture_output=True,
                     text=True).stdout
t.ok(rc == 0 and "DNS:a.acme.test" in san and "DNS:b.acme.test" in san, "one certificate for two --domain names",
     (err[-600:], san))

# A newcomer's configuration: domain and acme.directory (and the test CA);
# the default staging directory (Let's Encrypt's) is not used with pebble.
newcomer = {k: v for k, v in base.items() if k != "acme.staging_directory"}
env.write_config({**newcomer, "domain": "new.acme.test"})
rc, out, err = run("issue")
t.ok(rc == 0 and "event=staging_run" not in err and "new.acme.test" in out,
     "one command with only domain and acme.directory set: no staging run against Let's Encrypt", err[-800:])
env.write_config(base)
rc, out, err = run("renew", "--force")
t.ok(rc == 0 and "new.acme.test" in out, "renew --force renews the names issue was given (managed.json)", out)
current, current_key = read(cert), read(key)

# Failure: the challenge port is taken by another program.
blocker = socket.socket()
blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
blocker.bind(("127.0.0.1", ch))
blocker.listen(1)
rc, out, err = run("renew", "--force")
t.ok(rc != 0 and "challenge port" in err and "in use" in err, "challenge port in use: renew fails and says so",
     err[-1500:])
unchanged("challenge port in use")
rc, out, err = run("issue", "--no-staging-check", "--domain", "other.acme.test")
t.ok(rc != 0 and "challenge port" in err, "challenge port in use: issue fails too", err[-800:])
unchanged("issue with the challenge port in use")
blocker.close()

# --webroot: another web server owns the port and serves the directory.
web = os.path.join(env.dir, "www")
os.makedirs(web)
httpd = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", web, str(ch)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
t.at_exit(lambda: (httpd.kill(), httpd.wait()))
wait_port(ch, proc=httpd)
rc, out, err = run("issue", "--no-staging-check", "--webroot", web, "--domain", "web.acme.test")
t.is_(rc, 0, "issue --webroot with another web server on the challenge port")
t.like(subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-ext", "subjectAltName"], capture_output=True,
                      text=True).stdout, "web.acme.test", "the webroot certificate names the domain")
t.is_(os.listdir(os.path.join(web, ".well-known", "acme-challenge")), [], "challenge files removed afterwards")
httpd.kill()
httpd.wait()
current, current_key = read(cert), read(key)

# Failure: the CA is unreachable.
env.write_config({**base, "acme.directory": f"https://127.0.0.1:{free_port()}/dir"})
rc, out, err = run("renew", "--force")
t.ok(rc != 0 and "cannot connect" in err, "CA unreachable: renew fails and says so", err[-800:])
unchanged("CA unreachable")
rc, out, err = run("issue", "--no-staging-check")
t.ok(rc != 0 and "cannot connect" in err, "CA unreachable: issue fails and says so", err[-800:])
unchanged("issue with the CA unreachable")

# Failure: the CA cannot reach the challenge port (as behind a firewall):
# the responder listens elsewhere than where pebble validates.
env.write_config({**base, "acme.challenge_port": free_port()})
rc, out, err = run("renew", "--force")
t.ok(rc != 0 and "could not connect to the challenge port" in err, "challenge port unreachable for the CA: "
     "renew fails and says so", err[-800:])
unchanged("challenge port unreachable")

# Another issue/renew is running (holds the lock): refused, nothing changes.
with open(os.path.join(env.data_dir, "acme", "lock"), "a") as lk:
    fcntl.flock(lk, fcntl.LOCK_EX)
    rc, out, err = run("renew", "--force")
    fcntl.flock(lk, fcntl.LOCK_UN)
t.ok(rc != 0 and "another msgw-acme issue or renew is running" in err, "one issue/renew at a time", err[-600:])
unchanged("a concurrent run")

env.write_config({**base, "acme.challenge_address": "not-an-address"})
rc, out, err = run("renew", "--force")
t.ok(rc != 0 and "acme.challenge_address: 'not-an-address' is not an IP address" in err,
     "a bad acme.challenge_address is named", err[-600:])
unchanged("a bad challenge address")

# Failure: the CA refuses (an identifier pebble will not issue for); its
# error document is reported.
env.write_config(base)
rc, out, err = run("issue", "--no-staging-check", "--domain", "bad_name!.acme.test")
t.ok(rc != 0 and "CA error" in err and "urn:" not in err and ("malformed" in err or "rejectedIdentifier" in err),
     "CA error: the error document's type and detail are reported", err[-800:])
unchanged("CA error")
# Failure: the CA's certificate is not trusted (no acme.ca_file).
env.write_config({**base, "acme.ca_file": ""})
rc, out, err = run("issue", "--no-staging-check")
t.ok(rc != 0 and "TLS" in err, "untrusted CA certificate: TLS failure reported", err[-800:])
unchanged("untrusted CA certificate")
t.done()
