#!/usr/bin/env python3
"""status.probe: msgw-mbox status connects to each running front end as a
client would (STARTTLS, STLS, implicit TLS), reports the days left of the
certificate that port serves, and goes critical for an expired
certificate, a name that does not match, a port that is down, and a port
whose greeting is not the protocol's."""
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
from msgwtest import Test, start_process, wait_port  # noqa: E402

t = Test()
env = t.env(hostname="mail.test", status__min_free_bytes=1024, status__cert_warning_days=1,
            status__cert_critical_days=0)
ports = {k: env.port() for k in ("smtp", "smtps", "pop3", "pop3s")}
env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{ports['smtp']}", port=ports["smtp"])
env.start("msgw-smtp", "--foreground", "--implicit-tls", "--listen", f"127.0.0.1:{ports['smtps']}",
          port=ports["smtps"], logname="smtps")
env.start("msgw-pop3", "--foreground", "--listen", f"127.0.0.1:{ports['pop3']}", port=ports["pop3"])
env.start("msgw-pop3", "--foreground", "--implicit-tls", "--listen", f"[::1]:{ports['pop3s']}",
          port=None, logname="pop3s")
wait_port(ports["pop3s"], host="::1")
targets = [f"smtp://127.0.0.1:{ports['smtp']}", f"smtps://127.0.0.1:{ports['smtps']}",
           f"pop3://127.0.0.1:{ports['pop3']}", f"pop3s://[::1]:{ports['pop3s']}"]


def status(**settings):
    s = dict(env.settings)
    s.update({k.replace("__", "."): v for k, v in settings.items()})
    env.write_config(s)
    r = env.run("msgw-mbox", "status", "--json")
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        return r.returncode, {"stdout": r.stdout.decode(), "stderr": r.stderr.decode()}


def probes(j):
    """The probe checks, without the notes of the second (RSA-only) look."""
    return [c for c in j.get("checks", []) if c["check"] == "probe" and "RSA" not in c["message"]]


def rsa_notes(j):
    return [c for c in j.get("checks", []) if c["check"] == "probe" and "RSA" in c["message"]]


# The days left as the certificate file says (openssl), the way status counts them.
end = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", env.cert], capture_output=True,
                     check=True).stdout.decode().split("=", 1)[1].strip()
not_after = ssl.cert_time_to_seconds(end)
before = (not_after - int(time.time())) // 86400
rc, j = status(status__probe=targets, status__probe_ca_file=env.ca)
after = (not_after - int(time.time())) // 86400
t.is_(rc, 0, "four probes against running front ends: OK")
p = probes(j)
t.is_(len(p), 4, "one probe check per target")
for target, c in zip(targets, p):
    t.is_(c["status"], "ok", f"{target}: ok")
    t.ok(any(f"{target}: certificate for mail.test expires in {d} days" in c["message"] for d in (before, after)),
         f"{target}: the days left of the certificate the port serves", c["message"])
    t.like(c["message"], "TLS1.", f"{target}: TLS version and suite named")
t.is_(rsa_notes(j), [], "no RSA pair configured: no second look as an RSA-only client")
base = dict(env.settings)

# A name the certificate does not carry: critical.
env.settings = dict(base)
rc, j = status(status__probe=targets[1:2], status__probe_ca_file=env.ca, hostname="other.test")
t.is_(rc, 2, "a certificate for another name is critical")
t.like(probes(j)[0]["message"], "name in the certificate does not match", "... saying the name does not match")
env.settings = dict(base)

# A front end serving an expired certificate (made here, signed by the
# test CA, valid in 2020 only): critical, and says it expired.
d = os.path.join(env.dir, "expired")
os.makedirs(d)
with open(os.path.join(d, "tpl"), "w") as f:
    f.write('cn = "mail.test"\ndns_name = "mail.test"\ntls_www_server\nsigning_key\n'
            'activation_date = "2020-01-01 00:00:00"\nexpiration_date = "2020-02-01 00:00:00"\n')
subprocess.run(["certtool", "--generate-privkey", "--key-type", "ecdsa", "--outfile", f"{d}/key.pem"],
               check=True, capture_output=True)
subprocess.run(["certtool", "--generate-certificate", "--load-privkey", f"{d}/key.pem",
                "--load-ca-certificate", env.ca, "--load-ca-privkey", os.path.join(env.dir, "tls", "ca.key"),
                "--template", f"{d}/tpl", "--outfile", f"{d}/cert.pem"], check=True, capture_output=True)
conf2 = os.path.join(d, "msgw.conf")
with open(env.config) as f, open(conf2, "w") as g:
    g.write(f.read().replace(env.cert, f"{d}/cert.pem").replace(env.key, f"{d}/key.pem"))
xport = env.port()
start_process(t, [env.cmd("msgw-pop3")[0], "-c", conf2, "--foreground", "--implicit-tls", "--listen",
                  f"127.0.0.1:{xport}"], os.path.join(d, "pop3s.log"))
wait_port(xport)
# The default trust is tls.cert itself (a self-signed pair verifies);
# a certificate from elsewhere does not.
rc, j = status(status__probe=targets[:1])
t.is_(rc, 0, "probe_ca_file unset: the port's certificate is tls.cert itself, trusted")
rc, j = status(status__probe=targets[:1], status__probe_ca_file=f"{d}/cert.pem")
t.is_(rc, 2, "an untrusted certificate is critical")
t.like(probes(j)[0]["message"], "certificate verification failed", "... saying verification failed")
env.settings = dict(base)
rc, j = status(status__probe=targets + [f"pop3s://127.0.0.1:{xport}"], status__probe_ca_file=env.ca)
t.is_(rc, 2, "a port serving an expired certificate is critical")
p = probes(j)
t.is_([c["status"] for c in p], ["ok"] * 4 + ["critical"], "only that port is critical")
t.like(p[4]["message"], "expired", "... and the message says the certificate expired")
t.like(j["summary"], f"pop3s://127.0.0.1:{xport}", "the summary names the port")

# A port nobody listens on, and one that greets with something else.
dead = env.port()
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
liar = srv.getsockname()[1]


def greet_wrong():
    try:
        c, _ = srv.accept()
        c.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
        time.sleep(0.5)
        c.close()
    except OSError:
        pass


th = threading.Thread(target=greet_wrong, daemon=True)
th.start()
rc, j = status(status__probe=[f"smtp://127.0.0.1:{dead}", f"smtp://127.0.0.1:{liar}"],
               status__probe_ca_file=env.ca)
th.join(10)
srv.close()
p = probes(j)
t.is_(rc, 2, "a down port is critical")
t.like(p[0]["message"], "Connection refused", "... naming the connect error")
t.like(p[1]["message"], 'unexpected reply "SSH-2.0', "a wrong greeting is critical, quoted")

# A bad probe entry is a configuration error naming the key.
rc, j = status(status__probe=["imap://127.0.0.1:143"])
t.is_(rc, 2, "a bad status.probe entry is critical")
t.like(j.get("summary", ""), "status.probe", "... naming the key")

# The metrics carry the probes too.
env.write_config(dict(base, **{"status.probe": targets, "status.probe_ca_file": env.ca}))
r = env.run("msgw-mbox", "status", "--prometheus")
out = r.stdout.decode()
for target in targets:
    t.like(out, f'msgw_probe_up{{target="{target}"}} 1', f"metric: {target} up")
    t.like(out, f'msgw_probe_certificate_expiry_timestamp_seconds{{target="{target}"}} {int(not_after)}',
           f"metric: {target} certificate expiry")
t.done()
