#!/usr/bin/env python3
"""make bench for scale-out: messages per second msgw-smtp accepts and
durably stores with data_dir on a replica-2 GlusterFS volume (FUSE, both
bricks on this machine's disk) beside data_dir on the local disk, in the
same run, alternated; 4 KiB messages, 8 sessions of Postfix's smtp-source
(connections reused). Also what one message costs on a brick (bytes and
inodes, .glusterfs included) and a POP3 log-in (default scrypt cost) on
each. The figures feed the capacity sketch in msgw(7).

Environment: MSGW_BENCH_RUNS (default 5; medians), MSGW_BENCH_SCALE."""
import json
import os
import poplib
import ssl
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("MSGW_SRCDIR", os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "t", "lib"))
sys.path.insert(0, os.path.join(SRC, "t", "store"))
import glusterlib  # noqa: E402

SOURCE = "/usr/sbin/smtp-source"
if not os.path.exists(SOURCE):
    print(f"bench: {SOURCE} is missing; skipped")
    sys.exit(0)
if os.geteuid() != 0 or glusterlib.fuse_missing():
    print("bench: GlusterFS needs root and FUSE; skipped")
    sys.exit(0)
glusterlib.outer(os.path.abspath(__file__), timeout=3600)

from msgwtest import Test, free_port  # noqa: E402

RUNS = int(os.environ.get("MSGW_BENCH_RUNS", "5"))
MSGS = max(40, int(400 * float(os.environ.get("MSGW_BENCH_SCALE", "1.0"))))
SIZE, SESSIONS = 4096, 8

t = Test()
cluster = glusterlib.Cluster(t)
local = t.env(smtp__require_tls=False, log_level="warning", server__max_connections=50)
gl = t.env(smtp__require_tls=False, log_level="warning", server__max_connections=50)
gl.write_config(dict(gl.settings, data_dir=os.path.join(cluster.mounts[0], "data")))
os.makedirs(gl.settings["data_dir"])
ports = {}
for name, env in (("local", local), ("gluster", gl)):
    ports[name] = free_port()
    env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{ports[name]}", port=ports[name])


def create(env):
    r = env.run("msgw-mbox", "create", "bench", "--json", check=True)
    return json.loads(r.stdout)


def run(name, env):
    """One run into a fresh mailbox: messages per second."""
    mb = create(env)
    t0 = time.monotonic()
    r = subprocess.run([SOURCE, "-d", "-s", str(SESSIONS), "-l", str(SIZE), "-m", str(MSGS), "-f",
                        "bench@example.org", "-t", mb["address"], f"127.0.0.1:{ports[name]}"],
                       capture_output=True, timeout=1800)
    dt = time.monotonic() - t0
    new = os.path.join(env.settings["data_dir"], "mailboxes", mb["id"], "new")
    if r.returncode != 0 or len(os.listdir(new)) != MSGS:
        raise RuntimeError(f"{name}: stored {len(os.listdir(new))} of {MSGS}: {r.stderr[-300:]!r}")
    return MSGS / dt


def brick_usage():
    """Disk bytes and inodes under brick 1 (.glusterfs included)."""
    inodes, blocks = set(), 0
    for root, dirs, files in os.walk(cluster.bricks[0]):
        for n in dirs + files:
            st = os.lstat(os.path.join(root, n))
            if st.st_ino not in inodes:
                inodes.add(st.st_ino)
                blocks += st.st_blocks * 512
    return blocks, len(inodes)


def login_ms(env, mb, port, ca):
    ctx = ssl.create_default_context(cafile=ca)
    t0 = time.monotonic()
    p = poplib.POP3_SSL("127.0.0.1", port, context=ctx, timeout=60)
    p.user(mb["id"])
    p.pass_(mb["password"])
    p.stat()
    p.quit()
    return (time.monotonic() - t0) * 1000


rates = {"local": [], "gluster": []}
for _ in range(RUNS):
    for name, env in (("local", local), ("gluster", gl)):
        rates[name].append(run(name, env))
ml, mg = statistics.median(rates["local"]), statistics.median(rates["gluster"])
print(f"msgw-smtp, {SIZE // 1024} KiB messages, {SESSIONS} sessions (smtp-source -d), {MSGS} messages "
      f"per run, medians of {RUNS} runs, msgs/s accepted and durably stored")
print(f"{'local disk':>22} {ml:9.1f}")
print(f"{'GlusterFS replica 2':>22} {mg:9.1f}   ({mg / ml:.2f}x local)")

b0, i0 = brick_usage()
run("gluster", gl)
b1, i1 = brick_usage()
print(f"per {SIZE // 1024} KiB message on one GlusterFS brick: {(b1 - b0) / MSGS:.0f} bytes of disk, "
      f"{(i1 - i0) / MSGS:.2f} inodes (x2 bricks with replica 2)")

logins = {}
for name, env in (("local", local), ("gluster", gl)):
    env.write_config(dict(env.settings, **{"crypt.scrypt_log_n": 16}))
    mb = create(env)
    port = free_port()
    env.start("msgw-pop3", "--foreground", "--implicit-tls", "--listen", f"127.0.0.1:{port}", port=port)
    logins[name] = statistics.median(login_ms(env, mb, port, env.ca) for _ in range(RUNS))
print(f"POP3 log-in + STAT + QUIT, implicit TLS, scrypt log2 N 16, median of {RUNS}: "
      f"local {logins['local']:.0f} ms, GlusterFS {logins['gluster']:.0f} ms")
t.done()
