#!/usr/bin/env python3
"""make bench for msgw-smtp: messages per second accepted and durably
stored, msgw-smtp against Postfix delivering to a Maildir with virtual(8),
in the same run, both driven by Postfix's smtp-source. Also connections
per second for the inetd (systemd Accept=yes) path beside --listen, and
the memory of one connection.

Environment: MSGW_BENCH_RUNS (default 5; medians are reported),
MSGW_BENCH_SCALE (default 1.0: message counts per run)."""
import os
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time

SRC = os.environ.get("MSGW_SRCDIR", ".")
sys.path.insert(0, os.path.join(SRC, "t", "lib"))
sys.path.insert(0, os.path.join(SRC, "t", "smtp"))
from msgwtest import Test, free_port, wait_port  # noqa: E402
from smtptest import Mailbox, Postfix  # noqa: E402

RUNS = int(os.environ.get("MSGW_BENCH_RUNS", "5"))
SCALE = float(os.environ.get("MSGW_BENCH_SCALE", "1.0"))
SOURCE = "/usr/sbin/smtp-source"

for tool in (SOURCE, "/usr/sbin/postfix", "/usr/bin/socat"):
    if not os.path.exists(tool):
        print(f"bench: {tool} is missing; skipped")
        sys.exit(0)
if os.geteuid() != 0:
    print("bench: a private Postfix instance needs root; skipped")
    sys.exit(0)

t = Test()   # only for its clean-up of servers and directories
env = t.env(log_level="info", smtp__require_tls=False, server__max_connections=200)
os.chmod(env.dir, 0o711)


def start_bg(argv, name):
    log = open(os.path.join(env.dir, name + ".log"), "ab")
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)

    def stop():
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()
    t.at_exit(stop)
    return p


# msgw-smtp: plain (--listen) and implicit TLS (--listen --implicit-tls).
m_plain, m_tls = free_port(), free_port()
env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{m_plain}", port=m_plain)
env.start("msgw-smtp", "--foreground", "--implicit-tls", "--listen", f"127.0.0.1:{m_tls}", port=m_tls,
          logname="msgw-smtps")

# Postfix: smtpd plain and with implicit TLS, virtual(8) into Maildirs.
pdir = os.path.join(env.dir, "postfix")
maildirs = os.path.join(env.dir, "maildirs")
os.makedirs(maildirs)
nobody = 65534
os.chown(maildirs, nobody, nobody)
p_plain, p_tls = free_port(), free_port()
os.makedirs(pdir, exist_ok=True)
# A fresh Maildir per run (virtual(8) refuses regexp substitutions).
with open(os.path.join(env.dir, "vmailbox"), "w") as f:
    for i in range(1, 16 * RUNS + 2):
        f.write(f"run{i}@bench.test run{i}/\n")
pf = Postfix(t, pdir, p_plain,
             virtual_mailbox_domains="bench.test", virtual_mailbox_base=maildirs,
             virtual_mailbox_maps="texthash:" + os.path.join(env.dir, "vmailbox"),
             virtual_uid_maps=f"static:{nobody}", virtual_gid_maps=f"static:{nobody}",
             virtual_minimum_uid="100", in_flow_delay="0",
             smtpd_tls_cert_file=env.cert, smtpd_tls_key_file=env.key,
             default_process_limit="200", virtual_destination_concurrency_limit="20",
             virtual_destination_recipient_limit="1")
pf.postconf("-M", f"127.0.0.1:{p_tls}/inet=127.0.0.1:{p_tls} inet n - n - - smtpd "
            "-o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt")
pf.start()
wait_port(p_plain)
wait_port(p_tls)

# smtp-source has no TLS: for "TLS on" it talks to a socat that opens an
# implicit-TLS connection per client connection (the same for both servers).
tunnels = {}
for name, port in (("msgw", m_tls), ("postfix", p_tls)):
    lp = free_port()
    start_bg(["socat", f"TCP-LISTEN:{lp},bind=127.0.0.1,fork,reuseaddr,backlog=128",
              f"OPENSSL:127.0.0.1:{port},verify=0"], "socat-" + name)
    wait_port(lp)
    tunnels[name] = lp

run_no = [0]


def count(path):
    try:
        return len(os.listdir(path))
    except FileNotFoundError:
        return 0


def source(port, size, msgs, sessions, reuse, rcpt):
    argv = [SOURCE, "-s", str(sessions), "-l", str(size), "-m", str(msgs), "-f", "bench@example.org",
            "-t", rcpt, "-M", "source.bench"]
    if reuse:
        argv.insert(1, "-d")
    r = subprocess.run(argv + [f"127.0.0.1:{port}"], capture_output=True, timeout=900)
    if r.returncode != 0:
        raise RuntimeError(f"smtp-source: {r.stderr.decode(errors='replace')[-500:]}")


def run_msgw(size, msgs, sessions, reuse, tls):
    mb = Mailbox(env, "bench")
    t0 = time.monotonic()
    source(tunnels["msgw"] if tls else m_plain, size, msgs, sessions, reuse, mb.address)
    dt = time.monotonic() - t0
    n = count(os.path.join(mb.dir, "new"))
    if n != msgs:
        raise RuntimeError(f"msgw stored {n} of {msgs}")
    return msgs / dt


def run_postfix(size, msgs, sessions, reuse, tls):
    run_no[0] += 1
    box = f"run{run_no[0]}"
    new = os.path.join(maildirs, box, "new")
    t0 = time.monotonic()
    source(tunnels["postfix"] if tls else p_plain, size, msgs, sessions, reuse, f"{box}@bench.test")
    deadline = time.monotonic() + 600
    while count(new) < msgs and time.monotonic() < deadline and "status=bounced" not in pf.maillog()[-4000:]:
        time.sleep(0.005)
    dt = time.monotonic() - t0
    if count(new) != msgs:
        raise RuntimeError(f"postfix stored {count(new)} of {msgs}: {pf.maillog()[-1500:]}")
    return msgs / dt


def medians(*a):
    """Runs msgw and Postfix alternately, so both see the same load from
    whatever else the machine does; medians of RUNS each."""
    mw, pf_ = [], []
    for _ in range(RUNS):
        mw.append(run_msgw(*a))
        pf_.append(run_postfix(*a))
    return statistics.median(mw), statistics.median(pf_)


print(f"msgw-smtp vs Postfix (virtual(8) to Maildir), smtp-source, medians of {RUNS} runs, msgs/s "
      "accepted and durably stored")
print("TLS on: implicit TLS through a socat tunnel (smtp-source has no STARTTLS)")
print(f"{'size':>6} {'conc':>4} {'connection':>11} {'tls':>4} {'msgw':>9} {'postfix':>9} {'ratio':>6}")
rows = []
# Messages per run, sized so each run takes a few seconds: a TLS handshake
# per message through the tunnel costs far more than the message itself.
COUNTS = {(4096, True, False): 1000, (4096, False, False): 300, (4096, True, True): 600,
          (4096, False, True): 60, (1 << 20, True, False): 100, (1 << 20, False, False): 50,
          (1 << 20, True, True): 60, (1 << 20, False, True): 30}
for size in (4096, 1 << 20):
    for tls in (False, True):
        for sessions in (1, 8):
            for reuse in (True, False):
                msgs = max(8, int(COUNTS[(size, reuse, tls)] * SCALE))
                mw, pf_ = medians(size, msgs, sessions, reuse, tls)
                label = "reused" if reuse else "per-msg"
                sz = "4K" if size == 4096 else "1M"
                print(f"{sz:>6} {sessions:>4} {label:>11} {'on' if tls else 'off':>4} {mw:9.1f} {pf_:9.1f} "
                      f"{mw / pf_:5.2f}x", flush=True)
                rows.append((sz, mw / pf_))
for sz in ("4K", "1M"):
    r = [x for s, x in rows if s == sz]
    print(f"ratio msgw/postfix at {sz}: median {statistics.median(r):.2f}x (min {min(r):.2f}x, max {max(r):.2f}x)")


# Connections per second: greeting + QUIT, 8 clients, --listen vs inetd.
def conn_rate(port, seconds=3.0, clients=8):
    done = [0]
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def worker():
        n = 0
        while time.monotonic() < end:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                f = s.makefile("rb")
                f.readline()
                s.sendall(b"QUIT\r\n")
                f.readline()
            n += 1
        with lock:
            done[0] += n
    th = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.monotonic()
    for x in th:
        x.start()
    for x in th:
        x.join()
    return done[0] / (time.monotonic() - t0)


inetd = free_port()
start_bg(["systemd-socket-activate", "-l", f"127.0.0.1:{inetd}", "-a", "--inetd",
          *env.cmd("msgw-smtp", "--foreground")], "inetd")
wait_port(inetd)
rl = statistics.median(conn_rate(m_plain) for _ in range(3))
ri = statistics.median(conn_rate(inetd) for _ in range(3))
print(f"connections/s (greeting+QUIT, 8 clients): --listen {rl:.0f}, inetd/Accept=yes {ri:.0f}")


# Memory of one connection (inetd on a socketpair, read from /proc).
def session_memory(nbytes, tls):
    ours, theirs = socket.socketpair()
    argv = env.cmd("msgw-smtp", "--foreground", *(["--implicit-tls"] if tls else []))
    p = subprocess.Popen(argv, stdin=theirs, stdout=theirs, stderr=subprocess.DEVNULL)
    theirs.close()
    s = ssl.create_default_context(cafile=env.ca).wrap_socket(ours, server_hostname="localhost") if tls else ours
    f = s.makefile("rb")

    def reply():
        while True:
            ln = f.readline()
            if len(ln) < 4 or ln[3:4] != b"-":
                return ln
    mb = Mailbox(env, "mem")
    reply()
    s.sendall(b"EHLO mem\r\nMAIL FROM:<m@example.org>\r\nRCPT TO:<%s>\r\nBDAT %d LAST\r\n" %
              (mb.address.encode(), nbytes))
    for _ in range(3):
        reply()
    chunk = b"x" * 65536
    left = nbytes
    while left:
        k = min(left, len(chunk))
        s.sendall(chunk[:k])
        left -= k
    reply()
    mem = {}
    with open(f"/proc/{p.pid}/status") as st:
        for ln in st:
            k, _, v = ln.partition(":")
            if k in ("VmHWM", "RssAnon", "RssFile"):
                mem[k] = int(v.split()[0])
    s.sendall(b"QUIT\r\n")
    reply()
    s.close()
    p.wait(60)
    return mem


for tls in (False, True):
    for nbytes in (4096, 1024 * 1024, 150 * 1024 * 1024):
        m = session_memory(nbytes, tls)
        print(f"memory of one connection, tls {'on ' if tls else 'off'}, {nbytes >> 10:>6} KiB message: "
              f"peak RSS {m['VmHWM']} KiB (private anon {m['RssAnon']} KiB, shared files {m['RssFile']} KiB)")
t._cleanup()
