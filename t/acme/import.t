#!/usr/bin/env python3
# msgw-acme import (PKCS#12 from certtool and openssl, PEM) and status:
# a good bundle installs; a wrong password, a mismatched key, an expired
# certificate and an incomplete chain are refused and leave the installed
# pair alone; status reports and exits 0/1/2 by the configured thresholds.
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
from msgwtest import *  # noqa: E402,F403

t = Test()
env = t.env()
d = os.path.join(env.dir, "imp")
os.makedirs(d)
cert, key = os.path.join(env.dir, "inst", "cert.pem"), os.path.join(env.dir, "inst", "key.pem")
env.write_config({**env.settings, "tls.cert": cert, "tls.key": key})


def sh(*a, **kw):
    return subprocess.run(a, check=True, capture_output=True, **kw)


def leaf(name, days=30, fake=None, ca="ca"):
    """A P-256 key and a certificate for name issued by CA ca."""
    k, c = f"{d}/{name}.key", f"{d}/{name}.pem"
    sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", k,
       "-out", f"{d}/{name}.csr", "-subj", f"/CN={name}.mail.test")
    with open(f"{d}/{name}.ext", "w") as f:
        f.write(f"subjectAltName=DNS:{name}.mail.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    pre = ["faketime", "-f", fake] if fake else []
    sh(*pre, "openssl", "x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/{ca}.pem", "-CAkey", f"{d}/{ca}.key",
       "-CAcreateserial", "-out", c, "-days", str(days), "-extfile", f"{d}/{name}.ext")
    return k, c


sh("faketime", "-f", "-12d", "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
   f"{d}/ca.key", "-out", f"{d}/ca.pem", "-days", "30", "-subj", "/CN=import test CA")
good_k, good_c = leaf("good")
other_k, _ = leaf("other")
exp_k, exp_c = leaf("expired", days=2, fake="-10d")
chain = f"{d}/chain.pem"
with open(chain, "w") as f:
    f.write(open(good_c).read() + open(f"{d}/ca.pem").read())
pw = f"{d}/pw"
with open(pw, "w") as f:
    f.write("s3cret pass\n")
bad = f"{d}/badpw"
with open(bad, "w") as f:
    f.write("wrong\n")
# PKCS#12 from certtool (GnuTLS) and from openssl (AES + PBKDF2 by default).
p12_certtool = f"{d}/certtool.p12"
sh("certtool", "--to-p12", "--load-certificate", chain, "--load-privkey", good_k, "--p12-name", "msgw",
   "--password", "s3cret pass", "--outder", "--outfile", p12_certtool)
p12_openssl = f"{d}/openssl.p12"
sh("openssl", "pkcs12", "-export", "-in", good_c, "-certfile", f"{d}/ca.pem", "-inkey", good_k,
   "-passout", "pass:s3cret pass", "-out", p12_openssl)
p12_mismatch = f"{d}/mismatch.p12"
# openssl refuses to bundle a key with the wrong certificate; certtool does not.
sh("certtool", "--to-p12", "--load-certificate", chain, "--load-privkey", other_k, "--p12-name", "msgw",
   "--password", "s3cret pass", "--outder", "--outfile", p12_mismatch)
p12_expired = f"{d}/expired.p12"
sh("openssl", "pkcs12", "-export", "-in", exp_c, "-certfile", f"{d}/ca.pem", "-inkey", exp_k,
   "-passout", "pass:s3cret pass", "-out", p12_expired)


def fp(path):
    return sh("openssl", "x509", "-in", path, "-noout", "-fingerprint", "-sha256").stdout


def status(*extra):
    r = env.run("msgw-acme", "status", "--json", *extra)
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        return r.returncode, {"raw": r.stdout, "err": r.stderr}


rc, st = status()
t.is_(rc, 2, "status with no certificate is critical (2)")

r = env.run("msgw-acme", "import", p12_certtool, "--password-file", pw)
t.is_(r.returncode, 0, "import of a certtool PKCS#12 with the password file", )
t.ok(os.path.exists(cert) and fp(cert) == fp(good_c), "the leaf is installed first")
t.is_(open(cert).read().count("BEGIN CERTIFICATE"), 2, "the chain is installed with it")
t.is_(os.stat(key).st_mode & 0o777, 0o600, "the key is installed 0600")
t.is_(sh("openssl", "pkey", "-in", key, "-pubout").stdout, sh("openssl", "pkey", "-in", good_k, "-pubout").stdout,
      "the installed key is the bundle's key")

rc, st = status()
t.is_(rc, 0, "status exits 0 for a 30-day certificate (warning at 14 days)")
t.is_(st.get("sans"), ["good.mail.test"], "status lists the SANs")
t.like(st.get("issuer", ""), "import test CA", "status names the issuer")
t.ok(st.get("days_left") in (29, 30), "status gives the days left", st)
t.ok(st.get("self_signed") is False and st.get("acme_managed") is False and st.get("key_matches") is True,
     "status: not self-signed, not ACME-managed, key matches", st)
r = env.run("msgw-acme", "status")
t.ok(r.returncode == 0 and b"subject: CN=good.mail.test" in r.stdout and b"not_after: " in r.stdout,
     "plain status prints key: value lines", r.stdout)

installed = open(cert).read()
for name, args, want in [
        ("wrong password", [p12_openssl, "--password-file", bad], "wrong password"),
        ("mismatched key (PKCS#12)", [p12_mismatch, "--password-file", pw], "does not belong"),
        ("expired certificate (PKCS#12)", [p12_expired, "--password-file", pw], "expired"),
        ("mismatched key (PEM)", ["--cert", chain, "--key", other_k], "does not belong"),
        ("expired certificate (PEM)", ["--cert", exp_c, "--key", exp_k], "expired"),
        ("incomplete chain (PEM leaf without its CA)", ["--cert", good_c, "--key", good_k], "incomplete"),
        ("not a certificate", ["--cert", pw, "--key", good_k], "certificate"),
        ("missing file", ["--cert", f"{d}/nope.pem", "--key", good_k], "No such file")]:
    r = env.run("msgw-acme", "import", *args)
    t.ok(r.returncode not in (0, 64) and want in r.stderr.decode(), f"import refuses: {name}", r.stderr)
    t.is_(open(cert).read(), installed, f"installed certificate unchanged after: {name}")

r = env.run("msgw-acme", "import", p12_openssl, "--password-file", "-", input=b"s3cret pass\n")
t.is_(r.returncode, 0, "import of an openssl (AES/PBKDF2) PKCS#12, password on standard input")
t.is_(open(cert + ".old").read(), installed, "the previous certificate is kept as .old")

r = env.run("msgw-acme", "import", "--cert", chain, "--key", good_k)
t.is_(r.returncode, 0, "import --cert chain --key")

r = env.run("msgw-acme", "import", "--cert", chain)
t.is_(r.returncode, 64, "import --cert without --key is a usage error")

# Thresholds from the configuration.
env.write_config({**env.settings, "status.cert_warning_days": 40, "status.cert_critical_days": 5})
rc, st = status()
t.ok(rc == 1 and st.get("status") == "warning", "status exits 1 below status.cert_warning_days", st)
env.write_config({**env.settings, "status.cert_warning_days": 60, "status.cert_critical_days": 40})
rc, st = status()
t.ok(rc == 2 and st.get("status") == "critical", "status exits 2 below status.cert_critical_days", st)
env.write_config({**env.settings})
# A key that does not match the certificate is critical.
with open(key, "w") as f:
    f.write(open(other_k).read())
rc, st = status()
t.ok(rc == 2 and st.get("key_matches") is False, "status is critical when tls.key does not match", st)
r = env.run("msgw-acme", "selfsigned", "--days", "2")
rc, st = status()
t.ok(rc == 2 and st.get("self_signed") is True, "a 2-day self-signed certificate: critical, self_signed", st)
t.done()
