#!/usr/bin/env python3
# RSA and ECDSA certificates for every sender. msgw-acme issue --key-type
# both against pebble installs an ECDSA P-256 pair (tls.cert) and an RSA
# pair (tls.rsa_cert); a front end serves both, and GnuTLS clients limited
# to RSA signatures or to ECDSA signatures (TLS 1.2 and 1.3) each complete
# a verified handshake and get the pair they can use. Without the RSA pair
# the RSA-only client fails (the check can fail). selfsigned and import
# handle each type and both; status reports each pair.
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "acme"))
from msgwtest import *  # noqa: E402,F403
from acmetest import Pebble, have_pebble  # noqa: E402

t = Test()
env = t.env()
inst = os.path.join(env.dir, "inst")
cert, key = f"{inst}/cert.pem", f"{inst}/key.pem"
rsa_cert, rsa_key = f"{inst}/rsa-cert.pem", f"{inst}/rsa-key.pem"
base = {**env.settings, "domain": "www.acme.test", "hostname": "www.acme.test", "tls.cert": cert,
        "tls.key": key, "tls.rsa_cert": rsa_cert, "tls.rsa_key": rsa_key}
env.write_config(base)


def acme(*args):
    r = env.run("msgw-acme", *args)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def keytype(path):
    """What openssl says the certificate's key is."""
    out = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-text"], capture_output=True,
                         text=True).stdout
    if "rsaEncryption" in out:
        bits = out.split("Public-Key: (")[1].split(" ")[0]
        return f"RSA {bits}"
    return "ECDSA P-256" if "prime256v1" in out else "?"


def status():
    r = env.run("msgw-acme", "status", "--json")
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        return r.returncode, {"error": r.stdout.decode() + r.stderr.decode()}


# selfsigned: ECDSA by default, RSA, both.
rc, out, err = acme("selfsigned")
t.is_(rc, 0, "selfsigned (default ecdsa)")
t.is_(keytype(cert), "ECDSA P-256", "selfsigned: an ECDSA P-256 pair by default")
t.ok(not os.path.exists(rsa_cert), "no RSA pair unless asked")
rc, out, err = acme("selfsigned", "--key-type", "both")
t.ok(rc == 0, "selfsigned --key-type both", err)
t.is_((keytype(cert), keytype(rsa_cert)), ("ECDSA P-256", "RSA 2048"), "both: ECDSA in tls.cert, RSA 2048 in tls.rsa_cert")
t.is_(os.stat(rsa_key).st_mode & 0o777, 0o600, "the RSA key is 0600")
rc, st = status()
t.is_(rc, 0, "status with both pairs: ok")
t.is_((st.get("key_type"), (st.get("rsa") or {}).get("key_type")), ("ECDSA P-256", "RSA 2048"),
      "status reports each pair's key type")
t.ok((st.get("rsa") or {}).get("key_matches") is True and st["rsa"].get("file") == rsa_cert,
     "status checks the RSA pair's key too", st.get("rsa"))
r = env.run("msgw-acme", "status")
t.like(r.stdout.decode(), f"file: {rsa_cert}", "status (text) lists the RSA pair")
rc, out, err = acme("selfsigned", "--key-type", "rsa", "--rsa-bits", "3072")
t.is_(rc, 0, "selfsigned --key-type rsa --rsa-bits 3072")
t.is_(keytype(cert), "RSA 3072", "a lone RSA pair is tls.cert")
t.ok(not os.path.exists(rsa_cert) and os.path.exists(rsa_cert + ".old"),
     "a lone pair retires the earlier RSA pair (kept as .old), so it is not served stale")
r = env.run("msgw-mbox", "status")
t.ok(rsa_cert not in r.stdout.decode(), "msgw-mbox status no longer checks the retired pair")
for bad, what in ((["--key-type", "dsa"], "--key-type"), (["--rsa-bits", "1024"], "--rsa-bits")):
    rc, out, err = acme("selfsigned", *bad)
    t.ok(rc == 64 and what in err, f"selfsigned {' '.join(bad)}: usage error", err)

# import: two PEM pairs (one RSA, one ECDSA), then a refused pair of two ECDSA.
d = os.path.join(env.dir, "imp")
os.makedirs(d)
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{d}/r.key", "-out",
                f"{d}/r.pem", "-days", "5", "-subj", "/CN=www.acme.test", "-addext",
                "subjectAltName=DNS:www.acme.test"], check=True, capture_output=True)
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{d}/e.key", "-out", f"{d}/e.pem", "-days", "5", "-subj", "/CN=www.acme.test",
                "-addext", "subjectAltName=DNS:www.acme.test"], check=True, capture_output=True)
rc, out, err = acme("import", "--cert", f"{d}/r.pem", "--key", f"{d}/r.key", "--cert", f"{d}/e.pem",
                    "--key", f"{d}/e.key")
t.ok(rc == 0, "import of an RSA and an ECDSA pair", err)
t.is_((open(cert).read(), open(rsa_cert).read()), (open(f"{d}/e.pem").read(), open(f"{d}/r.pem").read()),
      "import: the ECDSA pair to tls.cert, the RSA pair to tls.rsa_cert, whatever the order")
before = (open(cert).read(), open(rsa_cert).read())
rc, out, err = acme("import", "--cert", f"{d}/e.pem", "--key", f"{d}/e.key", "--cert", f"{d}/e.pem",
                    "--key", f"{d}/e.key")
t.ok(rc != 0 and "one RSA and one ECDSA" in err, "import of two ECDSA pairs is refused", err)
t.is_((open(cert).read(), open(rsa_cert).read()), before, "... and changes nothing")
rc, out, err = acme("import", "--cert", f"{d}/e.pem")
t.is_(rc, 64, "import --cert without its --key: usage error")

if not have_pebble():
    t.skip("pebble not installed", "ACME --key-type both")
    t.done()
ch = free_port()
pb = Pebble(t, os.path.join(env.dir, "pebble"), ch, validity=6 * 86400)
env.write_config({**base, "acme.directory": pb.directory, "acme.staging_directory": "", "acme.ca_file": pb.ca,
                  "acme.challenge_port": ch, "acme.challenge_address": "127.0.0.1",
                  "status.cert_warning_days": 2, "status.cert_critical_days": 1})
rc, out, err = acme("issue", "--key-type", "both")
t.ok(rc == 0, "issue --key-type both from pebble", err[-1500:])
t.is_((keytype(cert), keytype(rsa_cert)), ("ECDSA P-256", "RSA 2048"), "pebble issued an ECDSA and an RSA certificate")
rc, st = status()
t.ok(rc == 0 and st.get("acme_managed") and (st.get("rsa") or {}).get("acme_managed") is True
     and (st.get("rsa") or {}).get("status") == "ok"
     and st["rsa"].get("days_left") in (5, 6), "status: both pairs from pebble, ok, days left", st)
root = os.path.join(env.dir, "pebble-root.pem")
with open(root, "w") as f:
    f.write(pb.root())

port = env.port()
env.start("msgw-smtp", "--foreground", "--implicit-tls", "--listen", f"127.0.0.1:{port}", port=port)
RSA = "-SIGN-ALL:+SIGN-RSA-SHA256:+SIGN-RSA-SHA384:+SIGN-RSA-PSS-RSAE-SHA256:+SIGN-RSA-PSS-RSAE-SHA384"
ECDSA = "-SIGN-ALL:+SIGN-ECDSA-SHA256:+SIGN-ECDSA-SECP256R1-SHA256"



def gcli(sign, vers):
    # gnutls-cli connects to the name given; verify that name, connect to 127.0.0.1.
    prio = f"NORMAL:-VERS-ALL:+VERS-{vers}:{sign}"
    r = subprocess.run(["gnutls-cli", "--x509cafile", root, "--verify-hostname", "www.acme.test",
                        "--priority", prio, "-p", str(port), "127.0.0.1"],
                       input=b"QUIT\r\n", capture_output=True, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")


for vers in ("TLS1.2", "TLS1.3"):
    rc, out = gcli(RSA, vers)
    t.ok(rc == 0 and "Handshake was completed" in out, f"{vers}: a client limited to RSA signatures completes a verified handshake", out[-1500:])
    t.like(out, "RSA key 2048 bits", f"{vers}: ... and is served the RSA certificate")
    t.like(out, "220 www.acme.test", f"{vers}: ... and gets the greeting")
    rc, out = gcli(ECDSA, vers)
    t.ok(rc == 0 and "Handshake was completed" in out, f"{vers}: a client limited to ECDSA signatures completes a verified handshake", out[-1500:])
    t.like(out, "EC/ECDSA key 256 bits", f"{vers}: ... and is served the ECDSA certificate")

# msgw-mbox status probes the port as both kinds of client: it sees
# both certificates, each with its days left.
target = f"smtps://127.0.0.1:{port}"
env.write_config({**base, "status.probe": [target], "status.probe_ca_file": root,
                  "status.cert_warning_days": 2, "status.cert_critical_days": 1})


def probe_checks():
    r = env.run("msgw-mbox", "status", "--json")
    j = json.loads(r.stdout or b"{}")
    return r.returncode, [c for c in j.get("checks", []) if c["check"] == "probe"]


rc, p = probe_checks()
t.is_(rc, 0, "status with a probe of the two-pair port: ok")
t.ok(len(p) == 2 and p[0]["message"].startswith(f"{target}: certificate for www.acme.test expires in")
     and p[1]["message"].startswith(f"{target} (RSA): certificate for www.acme.test expires in"),
     "the probe reports the ECDSA and the RSA certificate the port serves, with days left", p)
r = env.run("msgw-mbox", "status", "--prometheus")
rsa_end = int(subprocess.run(["date", "-d", subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", rsa_cert],
                                                           capture_output=True, text=True).stdout.split("=", 1)[1],
                              "+%s"], capture_output=True, text=True).stdout)
t.like(r.stdout.decode(), f'msgw_probe_rsa_certificate_expiry_timestamp_seconds{{target="{target}"}} {rsa_end}',
       "metric: the RSA certificate's expiry as the port serves it")

# An RSA certificate that does not verify on the port is critical: here
# one from a CA the probe does not trust, beside the good ECDSA pair.
saved = (open(rsa_cert).read(), open(rsa_key).read())
subprocess.run(["cp", f"{d}/r.pem", rsa_cert], check=True)
subprocess.run(["cp", f"{d}/r.key", rsa_key], check=True)
rc, p = probe_checks()
t.is_(rc, 2, "a port whose RSA certificate does not verify is critical")
t.like(p[-1]["message"], f"{target} (RSA): TLS handshake failed: certificate verification failed", "... naming the RSA look")

# Without the RSA pair, the RSA-only client cannot connect: the handshakes
# above succeeded because of the second pair.
os.rename(rsa_cert, rsa_cert + ".aside")
rc, out = gcli(RSA, "TLS1.2")
t.ok(rc != 0 and "Handshake was completed" not in out, "ECDSA pair only: the RSA-only client fails", out[-800:])
rc, p = probe_checks()
t.ok(rc == 0 and len(p) == 1, "... and the probe, with no RSA pair configured, looks for none", p)
os.rename(rsa_cert + ".aside", rsa_cert)
with open(rsa_cert, "w") as f:
    f.write(saved[0])
with open(rsa_key, "w") as f:
    f.write(saved[1])
env.write_config({**base, "acme.directory": pb.directory, "acme.staging_directory": "", "acme.ca_file": pb.ca,
                  "acme.challenge_port": ch, "acme.challenge_address": "127.0.0.1"})

# renew keeps the key types issue chose.
rc, out, err = acme("renew", "--force")
t.ok(rc == 0, "renew --force", err[-1500:])
t.ok(out.count("renewed a certificate") == 2, "renew renews both pairs", out)
t.is_((keytype(cert), keytype(rsa_cert)), ("ECDSA P-256", "RSA 2048"), "... keeping their types")
t.done()
