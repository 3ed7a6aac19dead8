"""Helpers for the msgw-smtp end-to-end tests: mailboxes made with
msgw-mbox, a raw SMTP client for byte-exact protocol tests, and reading
delivered messages back with the stock age tool."""
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

from msgwtest import age_decrypt  # noqa: F401 (tests import it from here too)


class Mailbox:
    def __init__(self, env, name="journal"):
        r = env.run("msgw-mbox", "create", name, "--json", check=False)
        if r.returncode != 0:
            raise RuntimeError(f"msgw-mbox create: {r.stderr.decode(errors='replace')}")
        j = json.loads(r.stdout)
        self.env = env
        self.id, self.address, self.password = j["id"], j["address"], j["password"]
        self.dir = os.path.join(env.data_dir, "mailboxes", self.id)

    def files(self, sub="new"):
        d = os.path.join(self.dir, sub)
        return sorted((os.path.join(d, f) for f in os.listdir(d)), key=os.path.getmtime)

    def set_conf(self, line):
        """Append a key to mailbox.conf (allowed_networks is not an msgw-mbox option)."""
        with open(os.path.join(self.dir, "mailbox.conf"), "a") as f:
            f.write(line + "\n")

    def suspend(self, on=True):
        r = self.env.run("msgw-mbox", "edit", self.id, "--status", "suspended" if on else "active")
        if r.returncode != 0:
            raise RuntimeError(f"msgw-mbox edit: {r.stderr.decode(errors='replace')}")

    def decrypt(self, path):
        return age_decrypt(os.path.join(self.dir, "identity.age"), self.password, path)

    def messages(self):
        return [self.decrypt(p) for p in self.files()]

    def last(self):
        """The newest message, decrypted."""
        return self.decrypt(self.files()[-1])


def strip_trace(msg):
    """The message after the prepended Return-Path: and Received: fields."""
    lines = msg.split(b"\r\n")
    i = 0
    if not lines[0].startswith(b"Return-Path: <"):
        return None
    i = 1
    if not lines[i].startswith(b"Received: "):
        return None
    i += 1
    while lines[i].startswith(b"\t"):
        i += 1
    return b"\r\n".join(lines[i:])


class Raw:
    """A byte-exact SMTP client: send what the test says, read replies."""

    def __init__(self, port, host="127.0.0.1", timeout=20, tls=False, ca=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        if tls:
            self.starttls_wrap(ca)

    def starttls_wrap(self, ca):
        ctx = ssl.create_default_context(cafile=ca)
        self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode(errors="replace")

    def reply(self):
        """(code, full text) of one possibly multi-line reply; (None, ...) at EOF."""
        text = []
        try:
            while True:
                ln = self.line()
                text.append(ln)
                if len(ln) < 4 or ln[3] != "-":
                    return int(ln[:3]), "\n".join(text)
        except (EOFError, OSError) as e:
            return None, "\n".join(text) + f" <{type(e).__name__}>"

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self, timeout=10):
        """True when the server closed the connection (EOF) within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(4096):
                    return True
        except socket.timeout:
            return False
        except OSError:
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Postfix:
    """A private Postfix instance on loopback, run from its own config
    directory (see PEERS.md): never touches /etc/postfix or port 25."""

    def __init__(self, t, dirpath, port, **main):
        self.t, self.dir, self.port = t, dirpath, port
        self.log = os.path.join(dirpath, "maillog")
        os.makedirs(dirpath, exist_ok=True)
        # Postfix's daemons run as user postfix and must reach their files.
        os.chmod(os.path.dirname(dirpath), 0o711)
        os.chmod(dirpath, 0o755)
        with open("/etc/postfix/master.cf") as f:
            master = [ln for ln in f.read().splitlines()
                      if not ln.startswith("smtp      inet") and not ln.startswith("smtp inet")]
        with open(os.path.join(dirpath, "master.cf"), "w") as f:
            f.write("\n".join(master) + "\n")
        data = os.path.join(dirpath, "data")
        os.makedirs(data, exist_ok=True)
        os.makedirs(os.path.join(dirpath, "queue"), exist_ok=True)
        shutil.chown(data, "postfix", "postfix")
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": os.path.join(dirpath, "queue"),
            "data_directory": data,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "myhostname": "postfix.test",
            "mydomain": "postfix.test",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "maillog_file": self.log,
            "maillog_file_prefixes": "/tmp",
            "smtputf8_enable": "no",
            "biff": "no",
            "append_dot_mydomain": "no",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
        }
        settings.update(main)
        with open(os.path.join(dirpath, "main.cf"), "w") as f:
            for k, v in settings.items():
                f.write(f"{k} = {v}\n")
        self.postconf("-F", "*/*/chroot = n")
        self.postconf("-M", f"127.0.0.1:{port}/inet=127.0.0.1:{port} inet n - n - - smtpd")

    def postconf(self, *args):
        subprocess.run(["postconf", "-c", self.dir, *args], check=True, capture_output=True)

    def start(self):
        # "postfix check" creates the queue's subdirectories with their owners.
        subprocess.run(["postfix", "-c", self.dir, "check"], capture_output=True, timeout=60)
        r = subprocess.run(["postfix", "-c", self.dir, "start"], capture_output=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"postfix start: {r.stderr.decode(errors='replace')} {self.maillog()[-2000:]}")
        self.t.at_exit(self.stop)

    def stop(self):
        subprocess.run(["postfix", "-c", self.dir, "stop"], capture_output=True, timeout=60)

    def maillog(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


def sanitizer_clean(t, env):
    """No AddressSanitizer/UBSan report in any log of this test's servers."""
    bad = []
    for n in os.listdir(env.dir):
        if n.endswith(".log"):
            with open(os.path.join(env.dir, n), errors="replace") as f:
                text = f.read()
            if "Sanitizer" in text or "runtime error:" in text:
                bad.append(n)
    t.ok(not bad, "no sanitizer report in the server logs", bad)


def wait_log(env, name, text, timeout=15):
    """The log of server `name` once it holds text (a session's summary is
    written after the client has gone), or as it is at the timeout."""
    deadline = time.monotonic() + timeout
    log = env.log(name)
    while text not in log and time.monotonic() < deadline:
        time.sleep(0.05)
        log = env.log(name)
    return log
