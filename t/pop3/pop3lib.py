"""Helpers for the msgw-pop3 tests: a raw POP3 line client (plain, STLS,
implicit TLS), mailbox creation through msgw-mbox, and putting messages
into a mailbox's Maildir with the stock age tool."""
import json
import os
import re
import socket
import ssl
import subprocess
import time

from msgwtest import *  # noqa: F401,F403


class Raw:
    """A line-level POP3 client that shows exactly what the server sends."""

    def __init__(self, port, ca, implicit=False, timeout=20):
        self.ca = ca
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if implicit:
            self.sock = self.ctx().wrap_socket(self.sock, server_hostname="localhost")
        self.f = self.sock.makefile("rb")

    def ctx(self):
        c = ssl.create_default_context(cafile=self.ca)
        return c

    def line(self):
        b = self.f.readline(4096)
        return b.decode("latin-1").rstrip("\r\n") if b else None

    def send(self, s):
        self.sock.sendall(s.encode("latin-1") if isinstance(s, str) else s)

    def cmd(self, s):
        self.send(s + "\r\n")
        return self.line()

    def multi(self):
        """Lines of a multi-line answer up to the "." (unstuffed), bounded."""
        out = []
        for _ in range(100000):
            l = self.line()
            if l is None or l == ".":
                break
            out.append(l[1:] if l.startswith("..") else l)
        return out

    def stls(self):
        r = self.cmd("STLS")
        if r.startswith("+OK"):
            self.sock = self.ctx().wrap_socket(self.sock, server_hostname="localhost")
            self.f = self.sock.makefile("rb")
        return r

    def close(self):
        """Really drop the connection: the makefile reader holds the
        socket open until it is closed too."""
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass


VALGRIND_ERR = re.compile(r"==\d+== (Invalid|Conditional jump|Use of uninitialised|Syscall param|Mismatched)")


def sanitizer_clean(t, env):
    """No AddressSanitizer/UBSan (or valgrind) report in any server log."""
    bad = []
    for n in os.listdir(env.dir):
        if n.endswith(".log"):
            with open(os.path.join(env.dir, n), errors="replace") as f:
                text = f.read()
            if "Sanitizer" in text or "runtime error:" in text or VALGRIND_ERR.search(text):
                bad.append(n)
    t.ok(not bad, "no sanitizer report in the server logs", bad)


def start_pop3(env, implicit=False, logname=None):
    port = env.port()
    args = ["--foreground", "--listen", f"127.0.0.1:{port}"]
    if implicit:
        args.insert(0, "--implicit-tls")
    env.start("msgw-pop3", *args, port=port, logname=logname or ("pop3s" if implicit else "pop3"))
    return port


def create_mailbox(env, name="archive"):
    r = env.run("msgw-mbox", "create", name, "--json")
    if r.returncode != 0:
        raise RuntimeError(f"msgw-mbox create: {r.returncode} {r.stderr.decode(errors='replace')}")
    return json.loads(r.stdout)


def mailbox_dir(env, mbid):
    return os.path.join(env.data_dir, "mailboxes", mbid)


_seq = [0]


def crlf_size(data):
    """Octets as RETR sends them: every bare LF counted as CRLF."""
    return len(data) + data.count(b"\n") - data.count(b"\r\n")


def put_message(env, mbid, data, when=None):
    """Encrypt data for the mailbox with the stock age tool and deliver it
    into new/ under a Maildir name carrying S= and W=, as the store does."""
    d = mailbox_dir(env, mbid)
    with open(os.path.join(d, "identity.pub")) as f:
        recipient = f.read().strip()
    _seq[0] += 1
    tmp = os.path.join(d, "tmp", f"t{os.getpid()}.{_seq[0]}")
    subprocess.run(["age", "-r", recipient, "-o", tmp], input=data, check=True, capture_output=True)
    size = os.path.getsize(tmp)
    unique = f"{int(when or time.time())}.M{_seq[0]}P{os.getpid()}Q{time.monotonic_ns() % 1000000}.test"
    name = f"{unique},S={size},W={crlf_size(data)}"
    os.rename(tmp, os.path.join(d, "new", name))
    return name


def proc_kib(pid, field):
    """A "Field:  N kB" line of /proc/PID/status or smaps_rollup (VmHWM,
    VmRSS: status; Pss: smaps_rollup), 0 when the process is gone."""
    name = "smaps_rollup" if field == "Pss" else "status"
    try:
        with open(f"/proc/{pid}/{name}") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def child_pids(ppid):
    """The processes whose parent is ppid."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == ppid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out
