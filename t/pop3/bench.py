#!/usr/bin/env python3
"""msgw-pop3 benchmark: RETR of every message, then DELE, QUIT, of
2,000 x 4 KiB and 200 x 1 MiB, msgw-pop3 (decrypting) against Dovecot's POP3
server over a plain Maildir of the same messages, in the same run, with the
same client (t/pop3/pop3-bench-client), plain and over TLS. Medians of
MSGW_BENCH_RUNS runs (default 5). The login (scrypt, at the default work
factor) is timed apart from the retrieval, and the archiver's whole
session (log-in, retrieval, QUIT) is compared too. Then the peak memory
(VmHWM) of one POP3 session on a 50,000-message maildrop (log-in, STAT,
UIDL, LIST), msgw's session process beside Dovecot's pop3 process.

msgw never takes credentials on a plaintext connection, so its "plain" row
is STLS on the plain port: TLS is always on for msgw; the plain row compares
it with Dovecot without TLS."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "lib"))
sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR", "."), "t", "pop3"))
from pop3lib import *  # noqa: E402,F403

RUNS = int(os.environ.get("MSGW_BENCH_RUNS", "5"))
WORKLOADS = [("4KiB", 2000, 4096), ("1MiB", 200, 1024 * 1024)]
# MSGW_BENCH_ONLY=4KiB (or 1MiB) runs one workload.
WORKLOADS = [w for w in WORKLOADS if os.environ.get("MSGW_BENCH_ONLY", w[0]) == w[0]]


def give_to_store(path):
    """What pop3-fill wrote or a copy made as root becomes the store user's:
    under privilege separation the store helper (msgw) opens the maildrop."""
    import msgwtest
    if os.geteuid() == 0 and msgwtest.ensure_users():
        uid, gid = msgwtest.user_ids(msgwtest.STORE_USER)
        subprocess.run(["chown", "-R", f"{uid}:{gid}", path], check=True)


def message(i, size):
    head = b"From: bench@example.org\r\nTo: archive@mail.test\r\nSubject: bench %d\r\n" \
           b"Message-ID: <%d@bench.example.org>\r\n\r\n" % (i, i)
    line = b"%-74d\r\n" % i
    body = line * ((size - len(head)) // len(line))
    return head + body + b"x" * (size - len(head) - len(body) - 2) + b"\r\n"


def write_plain(dirpath, count, size):
    """The messages as a plain Maildir (Dovecot's) and as files for fill."""
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(dirpath, sub))
    paths = []
    for i in range(count):
        m = message(i, size)
        name = f"{1700000000 + i}.M{i}P1.bench,S={len(m)},W={len(m)}:2,"
        p = os.path.join(dirpath, "cur", name)
        with open(p, "wb") as f:
            f.write(m)
        paths.append(p)
    return paths


def dovecot_conf(d, port, sport, cert, key):
    os.makedirs(os.path.join(d, "run"))
    os.makedirs(os.path.join(d, "state"))
    with open(os.path.join(d, "passwd"), "w") as f:
        f.write("bench:{PLAIN}benchpw\n")
    with open(os.path.join(d, "dovecot.conf"), "w") as f:
        f.write(f"""base_dir = {d}/run
state_dir = {d}/state
instance_name = msgwbench{os.getpid()}
log_path = {d}/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={d}/home/%u
}}
mail_location = maildir:~
service pop3-login {{
  inet_listener pop3 {{
    port = {port}
  }}
  inet_listener pop3s {{
    port = {sport}
    ssl = yes
  }}
}}
""")
    with open(os.path.join(d, "pw"), "w") as f:
        f.write("benchpw\n")
    return os.path.join(d, "dovecot.conf")


LOGS = [lambda: ""]


def client(port, mode, ca, user, pwfile):
    r = subprocess.run([prog("pop3-bench-client"), str(port), mode, ca, user, pwfile], capture_output=True,
                       timeout=600)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.decode(errors="replace") + LOGS[0]())
    return dict((k, float(v)) for k, v in (x.split("=") for x in r.stdout.decode().split()))


def failure_timing(env, sport, mbid):
    """With pop3.login_failure_delay = 0 only the work is left: a wrong
    password (real unseal) against an unknown name (decoy unseal)."""
    times = {"wrong password": [], "unknown mailbox": []}
    for _ in range(7):
        for what, user in (("wrong password", mbid), ("unknown mailbox", "aaaaaaaaaaaaaaaa")):
            c = Raw(sport, env.ca, implicit=True)
            c.line()
            c.cmd(f"USER {user}")
            t0 = time.monotonic()
            r = c.cmd("PASS not-the-password")
            times[what].append((time.monotonic() - t0) * 1000)
            c.close()
            if not r.startswith("-ERR [AUTH]"):
                raise RuntimeError(f"{what}: {r}")
    print("# failed login, delay 0 (work only): " + ", ".join(
        f"{k} median {statistics.median(v):.1f} ms" for k, v in times.items()))


BIG = int(os.environ.get("MSGW_BENCH_BIG", "50000"))


def list_session(port, ca, user, password, pids):
    """Log in, STAT, UIDL, LIST, read the peak memory of the serving
    process(es) pids() found while the session is open, QUIT."""
    c = Raw(port, ca, implicit=True, timeout=600)
    c.line()
    c.cmd(f"USER {user}")
    r = c.cmd(f"PASS {password}")
    if not r.startswith("+OK"):
        raise RuntimeError(f"log-in: {r}")
    stat = c.cmd("STAT")
    c.cmd("UIDL")
    n = len(c.multi())
    c.cmd("LIST")
    c.multi()
    peak = max([proc_kib(p, "VmHWM") for p in pids()] or [0])
    c.cmd("QUIT")
    c.close()
    return stat, n, peak


def session_memory(env, mb, sport, server_pid, dsport, dhome, bench):
    plain = os.path.join(bench, "plain-big")
    paths = write_plain(plain, BIG, 1024)
    r = subprocess.run([prog("pop3-fill"), env.config, mb["id"]], input="\n".join(paths).encode(),
                       capture_output=True, timeout=3600)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.decode(errors="replace"))
    give_to_store(mailbox_dir(env, mb["id"]))
    shutil.rmtree(dhome, ignore_errors=True)
    shutil.copytree(plain, dhome)
    subprocess.run(["chown", "-R", "mail:mail", os.path.dirname(dhome)], check=True)

    def dovecot_pop3():
        r = subprocess.run(["ps", "-C", "pop3", "-o", "pid="], capture_output=True)
        return [int(x) for x in r.stdout.split()]

    m = list_session(sport, env.ca, mb["id"], mb["password"], lambda: child_pids(server_pid))
    d = list_session(dsport, env.ca, "bench", "benchpw", dovecot_pop3)
    for srv, (stat, n, _) in (("msgw", m), ("dovecot", d)):
        if n != BIG:
            raise RuntimeError(f"{srv}: UIDL listed {n} of {BIG} ({stat})")
    print(f"# peak memory of one POP3 session, {BIG} messages (log-in, STAT, UIDL, LIST): "
          f"msgw {m[2] / 1024:.1f} MiB, dovecot {d[2] / 1024:.1f} MiB (VmHWM)")


def main():
    t = Test()
    # The default work factor: what a log-in costs in production.
    env = t.env(log_level="info", pop3__login_failure_delay=0)
    env.settings.pop("crypt.scrypt_log_n")
    env.write_config(env.settings)
    bench = os.path.join(env.dir, "bench")
    os.makedirs(bench)
    mb = create_mailbox(env, "bench")
    live = mailbox_dir(env, mb["id"])
    pwfile = os.path.join(bench, "msgw-pw")
    with open(pwfile, "w") as f:
        f.write(mb["password"] + "\n")
    port = start_pop3(env)
    sport = start_pop3(env, implicit=True)
    dport, dsport = env.port(), env.port()
    # Dovecot's auth and mail processes drop privileges: its tree lives
    # outside the private (0700) test directory.
    ddir = tempfile.mkdtemp(prefix="msgw-bench-dovecot.")
    os.chmod(ddir, 0o755)
    t.at_exit(lambda: shutil.rmtree(ddir, ignore_errors=True))
    dconf = dovecot_conf(os.path.join(ddir, "d"), dport, dsport, env.cert, env.key)
    dv = subprocess.Popen(["dovecot", "-F", "-c", dconf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t.at_exit(lambda: (dv.terminate(), dv.wait(10)))
    wait_port(dport, proc=dv)
    LOGS[0] = lambda: open(os.path.join(ddir, "d", "dovecot.log"), errors="replace").read()[-3000:]
    dhome = os.path.join(ddir, "d", "home", "bench")

    templates = {}
    for name, count, size in WORKLOADS:
        plain = os.path.join(bench, "plain-" + name)
        paths = write_plain(plain, count, size)
        r = subprocess.run([prog("pop3-fill"), env.config, mb["id"]], input="\n".join(paths).encode(),
                           capture_output=True, timeout=1200)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode(errors="replace"))
        enc = os.path.join(bench, "msgw-" + name)
        shutil.copytree(live, enc)
        for sub in ("new", "cur"):
            for n in os.listdir(os.path.join(live, sub)):
                os.unlink(os.path.join(live, sub, n))
        templates[name] = (plain, enc)

    def reset_msgw(enc):
        shutil.rmtree(live)
        shutil.copytree(enc, live)
        give_to_store(live)

    def reset_dovecot(plain):
        shutil.rmtree(dhome, ignore_errors=True)
        shutil.copytree(plain, dhome)
        subprocess.run(["chown", "-R", "mail:mail", os.path.dirname(dhome)], check=True)

    print(f"# medians of {RUNS} runs; msgw 'plain' = STLS (msgw takes no credentials without TLS)")
    print(f"{'workload':8} {'transport':9} {'server':8} {'msgs/s':>9} {'MB/s':>8} {'login ms':>9} {'QUIT ms':>8}")
    logins = []
    for name, count, size in WORKLOADS:
        plain, enc = templates[name]
        for transport in ("plain", "tls"):
            res = {"msgw": [], "dovecot": []}
            for _ in range(RUNS):
                reset_msgw(enc)
                reset_dovecot(plain)
                time.sleep(0.2)
                m = client(port if transport == "plain" else sport, "stls" if transport == "plain" else "tls",
                           env.ca, mb["id"], pwfile)
                dvr = client(dport if transport == "plain" else dsport, transport, env.ca, "bench",
                             os.path.join(ddir, "d", "pw"))
                for srv, r in (("msgw", m), ("dovecot", dvr)):
                    if r["messages"] != count:
                        raise RuntimeError(f"{srv}: {r['messages']} messages, wanted {count}")
                    res[srv].append(r)
                logins.append(m["login_ms"])
            med = {}
            for srv in ("msgw", "dovecot"):
                secs = statistics.median(r["retr_ms"] for r in res[srv]) / 1000
                byt = res[srv][0]["bytes"]
                med[srv] = (count / secs, byt / secs / 1e6)
                lms = statistics.median(r["login_ms"] for r in res[srv])
                qms = statistics.median(r["quit_ms"] for r in res[srv])
                print(f"{name:8} {transport:9} {srv:8} {med[srv][0]:9.0f} {med[srv][1]:8.1f} {lms:9.1f} {qms:8.1f}")
            print(f"{name:8} {transport:9} ratio msgw/dovecot = {med['msgw'][0] / med['dovecot'][0]:.2f}")
            whole = {srv: statistics.median(r["login_ms"] + r["retr_ms"] for r in res[srv])
                     for srv in res}
            print(f"{name:8} {transport:9} archiver session, log-in included: msgw {whole['msgw']:.0f} ms, "
                  f"dovecot {whole['dovecot']:.0f} ms, ratio {whole['dovecot'] / whole['msgw']:.2f}x dovecot")
    print(f"# msgw login (scrypt at the default work factor, one unseal): median {statistics.median(logins):.1f} ms "
          f"over {len(logins)} logins")
    failure_timing(env, sport, mb["id"])
    if os.environ.get("MSGW_BENCH_ONLY") is None:
        shutil.rmtree(live)
        shutil.copytree(templates[WORKLOADS[0][0]][1], live)
        for sub in ("new", "cur"):
            for n in os.listdir(os.path.join(live, sub)):
                os.unlink(os.path.join(live, sub, n))
        session_memory(env, mb, sport, env.procs[1].pid, dsport, dhome, bench)
    t._cleanup()


main()
