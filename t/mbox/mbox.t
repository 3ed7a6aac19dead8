#!/usr/bin/env python3
"""msgw-mbox end to end: every command through the real program, --json
read by Python's json, identity.age opened by the stock age tool through a
pty, messages made by the stock age exported byte-exact, the refusals and
their exit codes, and status for monitoring."""
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
from msgwtest import *  # noqa: E402,F403

EX_USAGE, EX_DATAERR, EX_NOUSER, EX_NOPERM, EX_CONFIG = 64, 65, 67, 77, 78
KEYS = {"id", "address", "name", "description", "status", "proxy", "messages", "bytes", "oldest"}

t = Test()
if not shutil.which("age"):
    t.skip("the age tool is not installed", "msgw-mbox end to end")
    t.done()

env = t.env(status__min_free_bytes=1024, status__cert_warning_days=1, status__cert_critical_days=0)


def mbox(*args, input=None):
    r = env.run("msgw-mbox", *args, input=input)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def mbox_json(*args, input=None):
    rc, out, err = mbox(*args, "--json", input=input)
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, None, err + out


def place(mb_id, plaintext, name_time, sub="new"):
    """Encrypt with the stock age to identity.pub and place it under a valid name."""
    d = os.path.join(env.data_dir, "mailboxes", mb_id)
    with open(os.path.join(d, "identity.pub")) as f:
        pub = f.read().strip()
    src = os.path.join(env.dir, "plain.tmp")
    with open(src, "wb") as f:
        f.write(plaintext)
    enc = os.path.join(env.dir, "enc.tmp")
    subprocess.run(["age", "-r", pub, "-o", enc, src], check=True)
    w = len(plaintext.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    name = f"{name_time}.Rage{os.urandom(4).hex()}.host,S={os.path.getsize(enc)},W={w}"
    if sub == "cur":
        name += ":2,S"
    os.rename(enc, os.path.join(d, sub, name))
    return name


# -- usage ------------------------------------------------------------------
rc, out, err = mbox("--help")
t.ok(rc == 0 and "reset-password" in out, "--help prints the usage, exit 0")
rc, out, err = mbox("--bogus")
t.ok(rc == EX_USAGE and "Usage:" in err, "an unknown global option: exit 64, usage on stderr")
rc, out, err = mbox("list", "--bogus")
t.ok(rc == EX_USAGE and "Usage:" in err, "an unknown command option: exit 64")
rc, out, err = mbox("frobnicate")
t.is_(rc, EX_USAGE, "an unknown command: exit 64")
rc, out, err = mbox("create")
t.is_(rc, EX_USAGE, "create without NAME: exit 64")

# -- create, list, show -------------------------------------------------------
rc, a, err = mbox_json("create", "Journal A", "--description", "M365 journal")
t.ok(rc == 0 and a is not None, "create --json: exit 0, valid JSON", err)
a = a or {}
t.is_(set(a), KEYS | {"password"}, "create --json: the contract's keys plus password")
t.ok(len(a.get("id", "")) == 16 and a.get("address") == a.get("id", "") + "@mail.test", "create: 16-char id, address id@domain")
pw_a = a.get("password", "")
t.ok(len(pw_a) == 35 and pw_a.count("-") == 5 and not set(pw_a) & set("ilouILOU"), "create: grouped password without look-alikes")
t.ok(a.get("status") == "active" and a.get("messages") == 0 and a.get("oldest") is None, "create: active, empty, oldest null")

rc, out, err = mbox("create", "Journal B")
t.ok(rc == 0 and "cannot be recovered" in out and "password manager" in out, "create: the human output warns the password cannot be recovered")
b_id = next((ln.split()[1] for ln in out.splitlines() if ln.startswith("Mailbox ")), "")
pw_b = next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if "password:" in ln), "")
t.ok(len(b_id) == 16 and len(pw_b) == 35, "create: id and password shown once")

for bad in ["x\ny", "", "n" * 200]:
    rc, out, err = mbox("create", bad)
    t.is_(rc, EX_DATAERR, f"create: a bad name ({bad[:8]!r}...) is refused with 65")

rc, lst, err = mbox_json("list")
t.ok(rc == 0 and isinstance(lst, list) and len(lst) == 2, "list --json: an array of both mailboxes", err)
t.ok(all(set(o) == KEYS for o in (lst or [])), "list --json: each object has exactly the contract's keys")
rc, out, err = mbox("list")
t.ok(rc == 0 and "ID" in out.splitlines()[0] and a.get("id", "?") in out and "Journal B" in out, "list: a table")

t.ok(a.get("proxy") is False and "journal" in next((ln for ln in out.splitlines() if a.get("id", "?") in ln), ""),
     "a mailbox is a journal mailbox unless created with --proxy (JSON and the KIND column)")

# -- journal and proxy mailboxes -------------------------------------------------
rc, px, err = mbox_json("create", "Recorder", "--proxy")
px = px or {}
t.ok(rc == 0 and px.get("proxy") is True, "create --proxy: JSON proxy true", err)
with open(os.path.join(env.data_dir, "mailboxes", px.get("id", "x"), "mailbox.conf")) as f:
    t.like(f.read(), "proxy = true;", "the kind is stored in mailbox.conf")
rc, out, err = mbox("list")
t.ok("KIND" in out.splitlines()[0] and any(px.get("id", "?") in ln and " proxy " in ln for ln in out.splitlines()),
     "list: the KIND column says proxy", out)
rc, out, err = mbox("edit", px.get("id", ""), "--proxy", "off")
rc2, s, err = mbox_json("show", px.get("id", ""))
t.ok(rc == 0 and "journal" in out and s and s.get("proxy") is False, "edit --proxy off: a journal mailbox", out)
rc, out, err = mbox("edit", px.get("id", ""), "--proxy", "on")
rc2, s, err = mbox_json("show", px.get("id", ""))
t.ok(rc == 0 and s and s.get("proxy") is True, "edit --proxy on: a proxy mailbox again")
rc, out, err = mbox("show", px.get("id", ""))
t.like(out, "kind:        proxy", "show: the kind")
rc, out, err = mbox("edit", px.get("id", ""), "--proxy", "maybe")
t.is_(rc, EX_USAGE, "edit --proxy with neither on nor off: exit 64")
env.run("msgw-mbox", "edit", px.get("id", ""), "--status", "suspended", check=True)
env.run("msgw-mbox", "delete", px.get("id", ""), check=True)

rc, s, err = mbox_json("show", a.get("id", ""))
t.ok(rc == 0 and s and s["name"] == "Journal A" and s["description"] == "M365 journal", "show --json", err)
rc, out, err = mbox("show", a.get("id", ""))
t.ok(rc == 0 and "address:" in out and "M365 journal" in out, "show: human output")

# -- bad and unknown ids ------------------------------------------------------
for bad in ["../x", "ABCDEFGHIJKMN234", "", "a" * 300, "abcdefghijkmn23"]:
    rc, out, err = mbox("show", bad)
    t.ok(rc == EX_DATAERR and "not a valid mailbox id" in err, f"show: bad id {bad[:10]!r} exit 65")
rc, out, err = mbox("show", "aaaaaaaaaaaaaaaa")
t.ok(rc == EX_NOUSER and "aaaaaaaaaaaaaaaa" in err and "no such mailbox" in err, "show: an unknown mailbox exit 67, named")
rc, out, err = mbox("delete", "../../etc")
t.is_(rc, EX_DATAERR, "delete: a bad id exit 65")

# -- the stock age opens identity.age with the password ----------------------
mdir_a = os.path.join(env.data_dir, "mailboxes", a.get("id", "x"))
probe = os.path.join(env.dir, "probe.age")
with open(os.path.join(env.dir, "probe.txt"), "w") as f:
    f.write("probe\n")
with open(os.path.join(mdir_a, "identity.pub")) as f:
    pub_a = f.read()
t.ok(pub_a.startswith("age1") and pub_a.count("\n") == 1, "identity.pub: one line age1...")
subprocess.run(["age", "-r", pub_a.strip(), "-o", probe, os.path.join(env.dir, "probe.txt")], check=True)
code, tty = with_pty(["age", "-d", "-i", os.path.join(mdir_a, "identity.age"), "-o", os.path.join(env.dir, "probe.out"), probe], pw_a, 20)
got = open(os.path.join(env.dir, "probe.out")).read() if os.path.exists(os.path.join(env.dir, "probe.out")) else None
t.ok(code == 0 and got == "probe\n", "stock age: the password from create opens identity.age (through a pty)", tty)
code, tty = with_pty(["age", "-d", "-i", os.path.join(mdir_a, "identity.age"), "-o", os.path.join(env.dir, "probe.bad"), probe], "wrong-password", 20)
t.ok(code != 0, "stock age: a wrong password does not")
modes = {n: os.stat(os.path.join(mdir_a, n)).st_mode & 0o777 for n in os.listdir(mdir_a)}
want = {"tmp": 0o700, "new": 0o700, "cur": 0o700, "identity.age": 0o600, "mailbox.conf": 0o644,
        "identity.pub": 0o644}
t.ok(all(m == want.get(n, 0o600) for n, m in modes.items()),
     f"modes as msgw-store(5): Maildir 0700, identity.age 0600, mailbox.conf and identity.pub 0644 {modes}")
t.is_(os.stat(mdir_a).st_mode & 0o777, 0o711, "the mailbox folder: 0711 (passable, not listable)")
t.is_(os.stat(os.path.dirname(mdir_a)).st_mode & 0o777, 0o711, "mailboxes/: 0711")

# -- export -------------------------------------------------------------------
msg1 = b"From: a@example.org\r\nSubject: one\r\n\r\nbody\nbare LF\r\n" + os.urandom(70000) + b"\nend\n"
msg2 = b"Subject: two\n\nsecond message\n"
now = int(time.time())
n1 = place(a["id"], msg1, now - 3600)
n2 = place(a["id"], msg2, now - 1800, sub="cur")
pwfile = os.path.join(env.dir, "pw-a")
with open(pwfile, "w") as f:
    f.write(pw_a + "\n")
os.chmod(pwfile, 0o600)
out_dir = env.owned_dir("export-a")
rc, out, err = mbox("export", a["id"], "--password-file", pwfile, "--maildir", out_dir)
t.is_(rc, 0, "export: exit 0")
exported = {}
for sub in ("new", "cur"):
    for n in os.listdir(os.path.join(out_dir, sub)) if os.path.isdir(os.path.join(out_dir, sub)) else []:
        with open(os.path.join(out_dir, sub, n), "rb") as f:
            exported[(sub, n)] = f.read()
t.is_(exported.get(("new", n1.split(",")[0])), msg1, "export: a message made by the stock age is byte-exact (new/)")
t.is_(exported.get(("cur", n2.split(",")[0] + ":2,S")), msg2, "export: a cur/ message keeps its flags")
rc, s, err = mbox_json("show", a["id"])
t.ok(s and s["messages"] == 2 and s["oldest"] == now - 3600 and s["bytes"] > 70000, "show: messages, bytes, oldest from the names")
rc, out, err = mbox("show", a["id"])
t.ok(rc == 0 and "(1 h ago)" in out and "messages:    2" in out, "show: the age of the oldest message", out)

rc, out, err = mbox("export", a["id"], "--password-file", "-", "--maildir", out_dir, input=(pw_a + "\n").encode())
t.ok(rc == 0 and "2 already there" in out, "export: password from stdin; a second run skips what is there")
rc, out, err = mbox("export", a["id"], "--password-file", "-", "--maildir", os.path.join(env.dir, "x"), input=b"wrong\n")
t.ok(rc == EX_NOPERM and "wrong password" in err, "export: a wrong password exit 77")
rc, out, err = mbox("export", a["id"], "--maildir", os.path.join(env.dir, "x"), "--password-file", os.path.join(env.dir, "nope"))
t.is_(rc, 66, "export: a missing password file exit 66")
rc, out, err = mbox("export", a["id"], "--password-file", pwfile)
t.is_(rc, EX_USAGE, "export: --maildir is required")

bad_name = f"{now - 60}.Rdamaged.host,S=20,W=20"
with open(os.path.join(mdir_a, "new", bad_name), "wb") as f:
    f.write(b"this is not age data")
out_dir2 = env.owned_dir("export-b")
rc, out, err = mbox("export", a["id"], "--password-file", pwfile, "--maildir", out_dir2)
t.ok(rc == EX_DATAERR and "Rdamaged" in err and "does not decrypt" in err, "export: a damaged message is reported, exit 65", err)
t.ok(len(os.listdir(os.path.join(out_dir2, "new"))) == 1 and len(os.listdir(os.path.join(out_dir2, "cur"))) == 1,
     "export: the other messages are still exported")
t.ok(os.path.exists(os.path.join(mdir_a, "new", bad_name)), "export: the damaged message stays in the store")

# -- edit, refusals, delete, reset-password ----------------------------------
rc, out, err = mbox("edit", b_id, "--name", "Renamed \"B\" ✓", "--description", "d")
rc2, s, err2 = mbox_json("show", b_id)
t.ok(rc == 0 and s and s["name"] == "Renamed \"B\" ✓" and s["description"] == "d", "edit: name and description")
rc, out, err = mbox("edit", b_id, "--name", "bad\x01")
t.is_(rc, EX_DATAERR, "edit: a control character exit 65")
rc, out, err = mbox("edit", b_id, "--status", "paused")
t.is_(rc, EX_USAGE, "edit: a bad status exit 64")
rc, out, err = mbox("edit", b_id)
t.is_(rc, EX_USAGE, "edit: nothing to change exit 64")

rc, out, err = mbox("delete", b_id)
t.ok(rc == EX_NOPERM and "not suspended" in err and b_id in err, "delete: an active mailbox is refused, exit 77")
rc, out, err = mbox("reset-password", b_id)
t.ok(rc == EX_NOPERM and "not suspended" in err, "reset-password: an active mailbox is refused, exit 77")
rc, out, err = mbox("edit", a["id"], "--status", "suspended")
rc, out, err = mbox("delete", a["id"])
t.ok(rc == EX_NOPERM and "not empty" in err, "delete: a mailbox with messages is refused, exit 77")
rc, out, err = mbox("reset-password", a["id"])
t.ok(rc == EX_NOPERM and "not empty" in err, "reset-password: a mailbox with messages is refused")
lock = os.path.join(env.data_dir, "mailboxes", b_id, "maildrop.lock")
with open(lock, "w") as f:
    f.write("msgw-lock1 other-host.example 4242 77 0123456789abcdef 600\n")
mbox("edit", b_id, "--status", "suspended")
rc, out, err = mbox("delete", b_id)
t.ok(rc == 75 and "in use" in err, "delete: refused while the maildrop is locked, exit 75")
os.utime(lock, (time.time() - 30, time.time() - 30))
rc, out, err = mbox("show", b_id)
t.ok(rc == 0 and re.search(r"locked by:   other-host\.example pid 4242, lease renewed 3\d s ago, "
                           r"lease 600 s \(live\)", out),
     "show: names the holder of the maildrop lock and the lease's age", out)
rc, r, err = mbox_json("show", b_id)
lk = dict((r or {}).get("lock") or {})
t.ok(rc == 0 and 30 <= lk.pop("age", -1) < 40 and lk == {"host": "other-host.example", "pid": 4242,
                                                         "state": "live", "lease": 600},
     "show --json: lock {host pid state lease age}", (r or {}).get("lock"))
rc, out, err = mbox("unlock", b_id)
t.ok(rc == 75 and "other-host.example pid 4242" in err and "--force" in err and os.path.exists(lock),
     "unlock: refused while the lease runs, exit 75, the lock stays", err)
os.utime(lock, (time.time() - 601, time.time() - 601))
rc, out, err = mbox("show", b_id)
t.ok(rc == 0 and "(expired)" in out, "show: a lease older than its 600 s is expired", out)
rc, out, err = mbox("unlock", b_id)
t.ok(rc == 0 and "removed the lock of other-host.example pid 4242 (expired" in out and not os.path.exists(lock),
     "unlock: an expired lock is removed", out + err)
with open(lock, "w") as f:
    f.write("garbage")
rc, out, err = mbox("show", b_id)
t.ok(rc == 0 and "locked by:   unreadable lock file" in out and "(live)" in out,
     "show: a garbled lock file is held until the configured lease runs out", out)
rc, out, err = mbox("unlock", b_id, "--force")
t.ok(rc == 0 and "removed the lock of unreadable lock file" in out and not os.path.exists(lock),
     "unlock --force: removes a live lock", out + err)
rc, out, err = mbox("unlock", b_id)
t.ok(rc == 0 and "not locked" in out, "unlock: a free maildrop is not locked, exit 0", out + err)
rc, r, err = mbox_json("show", b_id)
t.ok(rc == 0 and r and "lock" in r and r["lock"] is None, "show --json: lock null when free")

old_pub = open(os.path.join(env.data_dir, "mailboxes", b_id, "identity.pub")).read()
rc, r, err = mbox_json("reset-password", b_id)
t.ok(rc == 0 and r and len(r.get("password", "")) == 35 and r["password"] != pw_b, "reset-password --json: a new password", err)
new_pub = open(os.path.join(env.data_dir, "mailboxes", b_id, "identity.pub")).read()
t.ok(new_pub != old_pub, "reset-password: a new key pair")
place(b_id, b"after reset\n", now)
rc, out, err = mbox("export", b_id, "--password-file", "-", "--maildir", env.owned_dir("export-c"),
                    input=((r or {}).get("password", "") + "\n").encode())
t.is_(rc, 0, "reset-password: the new password opens the new key")
rc, out, err = mbox("export", b_id, "--password-file", "-", "--maildir", env.owned_dir("export-d"),
                    input=(pw_b + "\n").encode())
t.is_(rc, EX_NOPERM, "reset-password: the old password no longer does")
for sub in ("new", "cur"):
    d = os.path.join(env.data_dir, "mailboxes", b_id, sub)
    for n in os.listdir(d):
        os.unlink(os.path.join(d, n))
rc, out, err = mbox("delete", b_id)
t.ok(rc == 0 and not os.path.exists(os.path.join(env.data_dir, "mailboxes", b_id)), "delete: suspended and empty")
t.is_(sorted(os.listdir(os.path.join(env.data_dir, "mailboxes"))), [a["id"]], "delete: nothing left aside")
rc, out, err = mbox("show", b_id)
t.is_(rc, EX_NOUSER, "delete: the mailbox is gone (67)")
mbox("edit", a["id"], "--status", "active")

# -- status ---------------------------------------------------------------------
os.unlink(os.path.join(mdir_a, "new", bad_name))
rc, out, err = mbox("status")
t.ok(rc == 0 and out.startswith("MSGW OK") and out.count("\n") == 1, "status: OK, one line, exit 0", out + err)
rc, st, err = mbox_json("status")
t.ok(rc == 0 and st and st["status"] == "ok" and {c["check"] for c in st["checks"]} >=
     {"config", "data_dir", "free_space", "mailboxes", "certificate"}, "status --json: every check reported", err)
t.ok(st and all(set(o) == KEYS for o in st["mailboxes"]), "status --json: mailbox objects")
t.ok(st and any(c["check"] == "permissions" and c["status"] == "ok" for c in st["checks"]),
     "status --json: owners and modes as documented", st)
age_path = os.path.join(env.data_dir, "mailboxes", a["id"], "identity.age")
os.chmod(age_path, 0o644)
rc, out, err = mbox("status")
t.ok(rc == 1 and out.startswith("MSGW WARNING") and "identity.age: mode 0644, want 0600" in out,
     "status: identity.age readable by others is a warning naming the file", out)
os.chmod(age_path, 0o600)
place(a["id"], b"old\n", now - 30 * 3600)
rc, out, err = mbox("status")
t.ok(rc == 1 and out.startswith("MSGW WARNING") and a["id"] in out, "status: a 30 h old message is a warning (exit 1)", out)
place(a["id"], b"older\n", now - 80 * 3600)
rc, out, err = mbox("status")
t.ok(rc == 2 and out.startswith("MSGW CRITICAL") and "80 h" in out, "status: an 80 h old message is critical (exit 2)", out)

settings = dict(env.settings)
env.write_config({**settings, "status.cert_warning_days": 30, "status.cert_critical_days": 0,
                  "status.oldest_warning_hours": 1000, "status.oldest_critical_hours": 2000})
rc, out, err = mbox("status")
t.ok(rc == 1 and "certificate" in out and "expires in" in out, "status: a certificate within the warning days (exit 1)", out)
env.write_config({**settings, "status.cert_critical_days": 10, "status.cert_warning_days": 20,
                  "status.oldest_warning_hours": 1000, "status.oldest_critical_hours": 2000})
rc, out, err = mbox("status")
t.ok(rc == 2 and "certificate" in out, "status: a certificate within the critical days (exit 2)", out)
env.write_config({**settings, "status.min_free_bytes": 1 << 49, "status.oldest_warning_hours": 1000,
                  "status.oldest_critical_hours": 2000})
rc, out, err = mbox("status")
t.ok(rc == 2 and "free" in out, "status: too little free space is critical", out)
env.write_config({**settings, "no_such_key": 1})
rc, out, err = mbox("status")
t.ok(rc == 2 and out.startswith("MSGW CRITICAL") and "no_such_key" in out, "status: an invalid config is critical", out)
rc, out, err = mbox("list")
t.is_(rc, EX_CONFIG, "an invalid config: other commands exit 78")
env.write_config(settings)

# -- a damaged mailbox.conf does not hide the others --------------------------
rc, c2, err = mbox_json("create", "Will be damaged")
conf = os.path.join(env.data_dir, "mailboxes", (c2 or {}).get("id", "x"), "mailbox.conf")
with open(conf, "w") as f:
    f.write('id = "broken')
rc, lst, err = mbox_json("list")
t.ok(rc == EX_DATAERR and c2["id"] in err and "damaged" in err and lst and [o["id"] for o in lst] == [a["id"]],
     "list: a damaged mailbox is named on stderr (exit 65), the others listed", err)
rc, out, err = mbox("status")
t.ok(rc == 2 and c2["id"] in out and "damaged" in out, "status: a damaged mailbox is critical", out)
rc, out, err = mbox("show", c2["id"])
t.ok(rc == EX_DATAERR and "damaged" in err, "show: a damaged mailbox exit 65")
shutil.rmtree(os.path.dirname(conf))

# -- root acts as the owner of data_dir ----------------------------------------
if os.geteuid() == 0:
    os.chmod(env.dir, 0o711)
    for root, dirs, files in os.walk(env.data_dir):
        for n in dirs + files:
            os.chown(os.path.join(root, n), 65534, 65534)
    os.chown(env.data_dir, 65534, 65534)
    rc, c, err = mbox_json("create", "Made by root")
    d = os.path.join(env.data_dir, "mailboxes", (c or {}).get("id", "x"))
    owners = {os.stat(os.path.join(r, n)).st_uid for r, ds, fs in os.walk(d) for n in ds + fs} | {os.stat(d).st_uid}
    t.ok(rc == 0 and owners == {65534}, f"root: files are made as the owner of data_dir ({owners})", err)
else:
    t.skip("not running as root", "root: files are made as the owner of data_dir")

t.done()
