"""Helpers for the msgw-smtp end-to-end tests: mailboxes made with
msgw-mbox, a raw SMTP client for byte-exact protocol tests, and reading
delivered messages back with the stock age tool."""
import json
import os
import pty
import select
import socket
import ssl
import subprocess
import tempfile
import time


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


def age_decrypt(identity, password, path, timeout=60):
    """`age -d -i identity.age FILE` with the passphrase typed on a pty
    (age 1.1 reads it from the terminal only)."""
    fd0, out = tempfile.mkstemp(prefix="plain.", dir=os.path.dirname(os.path.dirname(path)))
    os.close(fd0)
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp("age", ["age", "-d", "-i", identity, "-o", out, path])
        finally:
            os._exit(127)
    buf, sent = b"", False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            if not sent and b"passphrase" in buf.lower():
                os.write(fd, password.encode() + b"\r")
                sent = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"age -d failed: {buf.decode(errors='replace')}")
    with open(out, "rb") as f:
        data = f.read()
    os.unlink(out)
    return data


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
