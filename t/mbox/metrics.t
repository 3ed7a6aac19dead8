#!/usr/bin/env python3
"""msgw-mbox status --prometheus: the text format for a store with several
mailboxes (names with quotes, backslashes and UTF-8), accepted by
Prometheus's own promtool; the values match what was delivered through
msgw-smtp; --write replaces status.prometheus_file atomically."""
import os
import re
import shutil
import smtplib
import ssl
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "smtp"))
from msgwtest import Test  # noqa: E402
from smtptest import Mailbox  # noqa: E402

t = Test()
if not shutil.which("promtool"):
    t.skip("promtool (package prometheus) is not installed", "status --prometheus")
    t.done()
env = t.env(status__min_free_bytes=1024, status__cert_warning_days=1, status__cert_critical_days=0)
# msgw-mbox writes it as the store user (it becomes data_dir's owner).
prom_file = os.path.join(env.owned_dir("textfile"), "msgw.prom")
names = ['plain', 'say "hi"', 'back\\slash \\n not a newline', 'Größe – 日本語 ✉']
boxes = [Mailbox(env, n) for n in names]
counts = [3, 1, 2, 0]
port = env.port()
env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{port}", port=port)
ctx = ssl.create_default_context(cafile=env.ca)
before = int(time.time())
with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
    s.starttls(context=ctx)
    for box, n in zip(boxes, counts):
        for i in range(n):
            s.sendmail("a@example.org", [box.address], f"Subject: {i}\r\n\r\nbody {i}\r\n".encode())
after = int(time.time())


def status(*args):
    r = env.run("msgw-mbox", "status", *args)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


rc, out, err = status("--prometheus")
t.is_((rc, err), (0, ""), "status --prometheus: a healthy store exits 0")
check = subprocess.run(["promtool", "check", "metrics"], input=out.encode(), capture_output=True)
t.is_(check.returncode, 0, "promtool check metrics accepts the output")
t.is_(check.stdout.decode() + check.stderr.decode(), "", "promtool has no lint remark")


def unescape(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)


samples = {}
for line in out.splitlines():
    if line.startswith("#") or not line:
        continue
    m = re.fullmatch(r'(\w+)(?:\{(.*)\})? (\S+)', line)
    t.ok(m is not None, f"sample line parses: {line}") if m is None else None
    if m:
        labels = dict((k, unescape(v)) for k, v in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        samples.setdefault(m.group(1), []).append((labels, float(m.group(3))))


def value(metric, box):
    for labels, v in samples.get(metric, []):
        if labels.get("id") == box.id:
            t.is_(labels.get("name"), names[boxes.index(box)], f"{metric}: name label of '{labels.get('name')}' round-trips")
            return v
    return None


for box, n in zip(boxes, counts):
    t.is_(value("msgw_mailbox_messages", box), float(n), f"messages of '{names[boxes.index(box)]}'")
    sizes = sum(os.path.getsize(f) for f in box.files())
    t.is_(value("msgw_mailbox_bytes", box), float(sizes), f"bytes of '{names[boxes.index(box)]}' = file sizes")
    newest = value("msgw_mailbox_newest_delivery_timestamp_seconds", box)
    age = value("msgw_mailbox_oldest_message_age_seconds", box)
    if n == 0:
        t.ok(newest is None and age is None, "an empty mailbox has no newest delivery and no age")
    else:
        t.ok(before - 1 <= newest <= after + 1, "newest delivery is the time of the last message", newest)
        t.ok(0 <= age <= int(time.time()) - before + 1, "oldest message age in seconds", age)
cert = samples.get("msgw_certificate_expiry_timestamp_seconds", [])
t.ok(len(cert) == 1 and cert[0][0]["file"] == env.cert and cert[0][1] > time.time() + 86400,
     "certificate expiry of tls.cert (a 2-day test certificate)", cert)
free = samples.get("msgw_data_dir_free_bytes", [({}, 0)])[0][1]
st = os.statvfs(env.data_dir)
t.ok(abs(free - st.f_bavail * st.f_frsize) < 64 * 1048576, "free bytes in data_dir", free)
t.is_(samples.get("msgw_status", [({}, -1)])[0][1], float(rc), "msgw_status is the exit level")

# --write: needs the key, then writes the same metrics atomically.
rc, out2, err = status("--prometheus", "--write")
t.is_(rc, 78, "--write without status.prometheus_file: configuration error")
t.like(err, "status.prometheus_file is not set", "... and says which key")
env.settings["status.prometheus_file"] = prom_file
env.write_config(env.settings)
rc, out2, err = status("--prometheus", "--write")
t.is_((rc, out2, err), (0, "", ""), "--write exits 0 and prints nothing")
t.ok(os.path.exists(prom_file), "the metrics file exists")
t.is_(stat.S_IMODE(os.stat(prom_file).st_mode), 0o644, "readable by node_exporter's user (0644)")
t.is_(os.listdir(os.path.dirname(prom_file)), ["msgw.prom"], "no temporary file left beside it")
with open(prom_file) as f:
    written = f.read()
check = subprocess.run(["promtool", "check", "metrics"], input=written.encode(), capture_output=True)
t.is_(check.returncode, 0, "promtool accepts the written file")
t.like(written, f'msgw_mailbox_messages{{id="{boxes[0].id}",name="plain"}} 3', "file holds the counts")
os.chmod(os.path.dirname(prom_file), 0o500)
# Run as root too: msgw-mbox writes as the store user, so the mode counts.
rc, _, err = status("--prometheus", "--write")
t.is_(rc, 73, "an unwritable directory: exit 73 (EX_CANTCREAT)")
t.like(err, prom_file, "... naming the file")
with open(prom_file) as f:
    t.is_(f.read(), written, "... and the previous file is untouched")
os.chmod(os.path.dirname(prom_file), 0o700)
rc, out, err = status("--json", "--prometheus")
t.is_(rc, 64, "--json with --prometheus is a usage error")
t.done()
