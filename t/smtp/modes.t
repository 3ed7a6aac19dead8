#!/usr/bin/env python3
# msgw-smtp's three connection modes: --listen, inetd (fds 0/1, as systemd
# Accept=yes or systemd-socket-activate --inetd) and LISTEN_FDS (Accept=no).
# Through the inetd mode, a 150 MiB message is streamed and the peak RSS of
# the connection's process is measured against a small message's.
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "smtp"))
from msgwtest import VALGRIND, Test, wait_port  # noqa: E402
from smtptest import sanitizer_clean, Mailbox, strip_trace  # noqa: E402

t = Test()
env = t.env()
mb = Mailbox(env, "modes")
ctx = ssl.create_default_context(cafile=env.ca)


def send(port, subject, check=True):
    body = f"Subject: {subject}\r\n\r\nvia {subject}\r\n".encode()
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
        s.starttls(context=ctx)
        refused = s.sendmail("m@example.org", [mb.address], body)
    return refused == {} and (not check or strip_trace(mb.last()) == body)


port = env.port()
env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{port}", port=port)
t.ok(send(port, "listen"), "--listen: message stored")

# IPv6: listen on [::1], the peer shows as [IPv6:::1] in Received: (RFC 5321).
try:
    with socket.socket(socket.AF_INET6) as probe:
        probe.bind(("::1", 0))
    has_v6 = True
except OSError:
    has_v6 = False
if not has_v6:
    t.skip("no ::1 on this machine", "IPv6 --listen")
else:
    p6 = env.port()
    env.start("msgw-smtp", "--foreground", "--listen", f"[::1]:{p6}", logname="v6")
    wait_port(p6, host="::1")
    with smtplib.SMTP("::1", p6, timeout=60) as s:
        s.starttls(context=ssl.create_default_context(cafile=env.ca))
        refused = s.sendmail("v6@example.org", [mb.address], b"Subject: v6\r\n\r\nover IPv6\r\n")
    m = mb.last()
    t.ok(refused == {} and b"([IPv6:::1])" in m.split(b"\r\n\r\n")[0],
         "--listen [::1]: stored, peer [IPv6:::1] in Received:",
         m[:300])

if shutil.which("systemd-socket-activate") is None:
    t.skip("systemd-socket-activate not installed", "inetd mode")
    t.skip("systemd-socket-activate not installed", "LISTEN_FDS mode")
else:
    for mode, extra in (("inetd", ["-a", "--inetd"]), ("listen-fds", [])):
        p = env.port()
        log = open(os.path.join(env.dir, f"{mode}.log"), "ab")
        proc = subprocess.Popen(["systemd-socket-activate", "-l", f"127.0.0.1:{p}", *extra,
                                 *env.cmd("msgw-smtp", "--foreground")],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)

        def stop(proc=proc, log=log):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
        t.at_exit(stop)
        wait_port(p, proc=proc)
        t.ok(send(p, mode) and send(p, mode + " again"), f"{mode}: two connections, two messages stored")
        results = []
        threads = [threading.Thread(target=lambda i=i: results.append(send(p, f"{mode} parallel {i}", False)))
                   for i in range(3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        stored = {strip_trace(mb.decrypt(f)) for f in mb.files()[-3:]}
        want = {f"Subject: {mode} parallel {i}\r\n\r\nvia {mode} parallel {i}\r\n".encode() for i in range(3)}
        t.ok(len(results) == 3 and all(results) and stored == want, f"{mode}: three concurrent connections served")


def inetd_session(nbytes):
    """One session on fds 0/1 through a socketpair, implicit TLS, one BDAT
    message of nbytes; returns (stored ok, peak RSS in KiB)."""
    ours, theirs = socket.socketpair()
    # Under AddressSanitizer freed memory sits in a quarantine (256 MiB by
    # default) that would count as RSS; keep it small so the measure means
    # what it does in a normal build. Ignored without ASan.
    e = dict(os.environ)
    e["ASAN_OPTIONS"] = ":".join(x for x in (e.get("ASAN_OPTIONS", ""), "quarantine_size_mb=1") if x)
    proc = subprocess.Popen(env.cmd("msgw-smtp", "--foreground", "--implicit-tls"), stdin=theirs,
                            stdout=theirs, stderr=open(os.path.join(env.dir, "pair.log"), "ab"), env=e)
    theirs.close()
    s = ctx.wrap_socket(ours, server_hostname="localhost")
    f = s.makefile("rb")

    def reply():
        while True:
            ln = f.readline()
            if len(ln) < 4 or ln[3:4] != b"-":
                return ln

    reply()
    s.sendall(b"EHLO pair.example\r\n")
    reply()
    s.sendall(b"MAIL FROM:<big@example.org> BODY=BINARYMIME SIZE=%d\r\nRCPT TO:<%s>\r\n" %
              (nbytes, mb.address.encode()))
    ok = reply().startswith(b"250") and reply().startswith(b"250")
    head = b"Subject: big\r\n\r\n"
    chunk = bytes(range(256)) * 4096   # 1 MiB, every byte value
    s.sendall(b"BDAT %d LAST\r\n" % nbytes + head)
    left = nbytes - len(head)
    while left > 0:
        n = min(left, len(chunk))
        s.sendall(chunk[:n])
        left -= n
    last = reply()
    mem = proc_memory(proc.pid)
    s.sendall(b"QUIT\r\n")
    reply()
    s.close()
    proc.wait(60)
    return ok and last.startswith(b"250 2.6.0"), mem, last


def proc_memory(pid):
    """Peak RSS (VmHWM) and private anonymous RSS now, in KiB, from
    /proc: wait4's ru_maxrss would include this Python's own RSS, which a
    child inherits as its high-water mark across fork and exec."""
    got = {}
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            k, _, v = ln.partition(":")
            if k in ("VmHWM", "RssAnon"):
                got[k] = int(v.split()[0])
    return got


small_ok, small_mem, _ = inetd_session(4096)
t.ok(small_ok, "inetd on a socketpair: 4 KiB message stored")
before = len(mb.files())
big = 150 * 1024 * 1024
big_ok, big_mem, last = inetd_session(big)
t.ok(big_ok, "150 MiB message streamed and stored", last)
path = mb.files()[-1]
size = os.path.getsize(path)
t.ok(len(mb.files()) == before + 1 and size > big, f"stored file holds the whole message ({size} bytes)")
t.diag(f"memory after a 4 KiB message: {small_mem}; after 150 MiB: {big_mem} (KiB)")
if VALGRIND:
    t.skip("valgrind changes the memory picture", "memory constant whatever the message size")
else:
    t.ok(big_mem["VmHWM"] - small_mem["VmHWM"] < 4096,
         "peak memory constant whatever the message size (within 4 MiB)", f"{small_mem} vs {big_mem}")
m = mb.decrypt(path)
body = strip_trace(m)
chunk = bytes(range(256)) * 4096
want_len = big - len(b"Subject: big\r\n\r\n")
t.ok(body is not None and len(body) == big and body[16:16 + 4096] == chunk[:4096] and
     body.endswith(chunk[:(want_len % len(chunk)) or len(chunk)]),
     "150 MiB message opens with age and matches")
os.unlink(path)
sanitizer_clean(t, env)
t.done()
