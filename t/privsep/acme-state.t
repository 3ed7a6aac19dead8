#!/usr/bin/env python3
# msgw-acme runs as root and keeps its state in data_dir/acme, and data_dir
# belongs to the store user. Played as that user: data_dir/acme replaced
# by a symlink to a directory of the attacker's choice, or by a directory
# of the attacker's own. Root's msgw-acme must refuse, and write nothing
# where the symlink points.
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
from msgwtest import Test, ensure_users, user_ids, STORE_USER  # noqa: E402

t = Test()
if os.geteuid() != 0:
    t.skip("needs root", "msgw-acme state against a service user's symlink")
    t.done()
ensure_users()
env = t.env()
uid, gid = user_ids(STORE_USER)
state = os.path.join(env.data_dir, "acme")

# Control: a fresh state directory is made and used (root's, 0700).
r = env.run("msgw-acme", "renew")
err = r.stderr.decode(errors="replace")
t.ok(os.path.isdir(state) and not os.path.islink(state) and os.stat(state).st_uid == 0 and
     os.stat(state).st_mode & 0o777 == 0o700, "control: data_dir/acme is root's, 0700", err)
t.ok("refusing" not in err, "control: root's own state directory is accepted", err)

# The store user swaps it for a symlink to a directory root would write.
target = os.path.join(env.dir, "victim")
os.mkdir(target, 0o755)
shutil.rmtree(state)
os.symlink(target, state)
os.lchown(state, uid, gid)
r = env.run("msgw-acme", "renew")
err = r.stderr.decode(errors="replace")
t.ok(r.returncode != 0 and "symlink" in err, "a symlink in place of data_dir/acme is refused", err)
t.is_(os.listdir(target), [], "nothing written where the symlink points")

# Or for a directory of its own.
os.unlink(state)
os.mkdir(state, 0o700)
os.chown(state, uid, gid)
r = env.run("msgw-acme", "renew")
err = r.stderr.decode(errors="replace")
t.ok(r.returncode != 0 and "owned by uid" in err, "a data_dir/acme of another user is refused", err)
t.is_(os.listdir(state), [], "nothing written into it")
t.done()
