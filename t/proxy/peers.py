"""Private Postfix (submission with STARTTLS + SASL) and Dovecot (POP3 with
STLS and implicit TLS, and the SASL service Postfix authenticates against)
instances on loopback for the proxy tests. Nothing outside their own
directory is touched; both are stopped at exit."""
import os
import shutil
import subprocess
import tempfile
import time

from msgwtest import age_decrypt, free_port, store_mount_opts, wait_port

NOBODY = 65534
USER = "alice@dest.test"      # the remote account: a name with '@'
PASSWORD = "s3cret%pass word"  # spaces and '%' must survive the relay


def have_peers():
    missing = [p for p in ("/usr/sbin/postfix", "/usr/sbin/dovecot", "/usr/bin/doveadm")
               if not os.path.exists(p)]
    if os.geteuid() != 0:
        missing.append("root (Postfix and Dovecot need it to start)")
    return missing


class Peers:
    def __init__(self, t, ca, cert, key):
        self.t = t
        self.dir = tempfile.mkdtemp(prefix="msgw-peers.")
        os.chmod(self.dir, 0o755)
        t.at_exit(lambda: shutil.rmtree(self.dir, ignore_errors=True))
        self.ca, self.cert, self.key = ca, cert, key
        # Dovecot reads the key as root at start; copy so the paths are ours
        self.pop3_port, self.pop3s_port = free_port(), free_port()
        self.smtp_port, self.smtps_port = free_port(), free_port()
        self.home = os.path.join(self.dir, "home")
        self.vmail = os.path.join(self.dir, "vmail")

    def _run(self, *argv):
        """Run a command to completion; daemons it starts must not keep
        our pipes, so its output goes through a file."""
        with tempfile.TemporaryFile() as out:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, timeout=60)
            out.seek(0)
            text = out.read().decode(errors="replace")
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)}: {text.strip()}")
        return text

    # --- Dovecot ---
    def start_dovecot(self):
        d = os.path.join(self.dir, "dovecot")
        os.makedirs(d)
        os.makedirs(self.home)
        os.chown(self.home, NOBODY, NOBODY)
        with open(os.path.join(d, "passwd"), "w") as f:
            f.write(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        self.dovecot_conf = os.path.join(d, "dovecot.conf")
        self.auth_socket = os.path.join(d, "run", "auth-postfix")
        with open(self.dovecot_conf, "w") as f:
            f.write(f"""
base_dir = {d}/run
state_dir = {d}/state
instance_name = msgwtest-{os.getpid()}
log_path = {d}/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = required
ssl_cert = <{self.cert}
ssl_key = <{self.key}
disable_plaintext_auth = yes
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={NOBODY} gid={NOBODY} home={self.home}/%u
}}
mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv
service pop3-login {{
  inet_listener pop3 {{
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    port = {self.pop3s_port}
    ssl = yes
  }}
}}
service auth {{
  unix_listener {self.auth_socket} {{
    mode = 0666
  }}
}}
""")
        self._run("dovecot", "-c", self.dovecot_conf)
        self.t.at_exit(lambda: subprocess.run(["doveadm", "-c", self.dovecot_conf, "stop"],
                                              capture_output=True, timeout=30))
        wait_port(self.pop3_port)
        wait_port(self.pop3s_port)

    def maildir(self):
        return os.path.join(self.home, USER, "Maildir")

    def put_pop3_message(self, name, data):
        """A message waiting in the account's Maildir (what POP3 serves)."""
        md = self.maildir()
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(md, sub), exist_ok=True)
        path = os.path.join(md, "new", name)
        with open(path, "wb") as f:
            f.write(data)
        for root, dirs, files in os.walk(os.path.join(self.home, USER)):
            os.chown(root, NOBODY, NOBODY)
            for x in files:
                os.chown(os.path.join(root, x), NOBODY, NOBODY)

    def dovecot_log(self):
        try:
            with open(os.path.join(self.dir, "dovecot", "dovecot.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    # --- Postfix ---
    def start_postfix(self, reject_subject="reject-me"):
        d = os.path.join(self.dir, "postfix")
        os.makedirs(d)
        os.makedirs(self.vmail)
        os.chown(self.vmail, NOBODY, NOBODY)
        data = os.path.join(d, "data")
        os.makedirs(data)
        os.makedirs(os.path.join(d, "queue"))   # postfix fills it at start
        shutil.chown(data, "postfix", "postfix")
        shutil.copy("/etc/postfix/master.cf", d)
        self.maillog = os.path.join(d, "maillog")
        with open(os.path.join(d, "header_checks"), "w") as f:
            f.write(f"/^Subject: {reject_subject}/ REJECT policy says no\n")
        with open(os.path.join(d, "main.cf"), "w") as f:
            f.write(f"""compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {data}
mail_owner = postfix
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = upstream.test
mydomain = upstream.test
mydestination =
mynetworks = 127.0.0.0/8
maillog_file = {self.maillog}
maillog_file_prefixes = /tmp
virtual_mailbox_domains = dest.test
virtual_mailbox_base = {self.vmail}
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:{NOBODY}
virtual_gid_maps = static:{NOBODY}
header_checks = regexp:{d}/header_checks
smtpd_tls_cert_file = {self.cert}
smtpd_tls_key_file = {self.key}
smtpd_tls_security_level = encrypt
smtpd_tls_auth_only = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {self.auth_socket}
smtpd_sasl_auth_enable = yes
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = check_recipient_access inline:{{ {{refuse@dest.test = REJECT no such user}} }}, permit_sasl_authenticated, reject
message_size_limit = 52428800
virtual_mailbox_limit = 0
alias_maps =
alias_database =
""")
        pc = lambda *a: self._run("postconf", "-c", d, *a)
        pc("-MX", "smtp/inet")
        pc("-M", f"127.0.0.1:{self.smtp_port}/inet=127.0.0.1:{self.smtp_port} inet n - n - - smtpd")
        pc("-M", f"127.0.0.1:{self.smtps_port}/inet=127.0.0.1:{self.smtps_port} inet n - n - - smtpd")
        pc("-P", f"127.0.0.1:{self.smtps_port}/inet/smtpd_tls_wrappermode=yes")
        pc("-F", "*/*/chroot = n")
        self.postfix_dir = d
        self._run("postfix", "-c", d, "start")
        self.t.at_exit(lambda: subprocess.run(["postfix", "-c", d, "stop"], capture_output=True,
                                              timeout=60))
        wait_port(self.smtp_port)
        wait_port(self.smtps_port)

    def delivered(self, count, timeout=30):
        """Wait for count messages in the virtual mailbox; their bytes."""
        new = os.path.join(self.vmail, "box", "new")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            files = sorted(os.listdir(new)) if os.path.isdir(new) else []
            if len(files) >= count:
                out = []
                for x in files:
                    with open(os.path.join(new, x), "rb") as f:
                        out.append(f.read())
                return out
            time.sleep(0.1)
        return sorted(os.listdir(new)) if os.path.isdir(new) else []

    def postfix_log(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


def stored_messages(data_dir, mbid):
    """Paths of the encrypted messages in a mailbox (new/ and cur/)."""
    base = os.path.join(data_dir, "mailboxes", mbid)
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(base, sub)
        if os.path.isdir(d):
            out += [os.path.join(d, x) for x in sorted(os.listdir(d))]
    return out


# The proxy is off by default and, when on, must list its upstreams: the
# tests' upstreams are on loopback, so they are listed literally.
PROXY_ON = {"proxy.enabled": True,
            "proxy.allowed_targets": ["127.0.0.1:*", "[::1]:*", "localhost:*"]}


class SmtpClient:
    """A raw SMTP client on a connected socket: send bytes, read replies
    (multi-line joined by newlines; "EOF" appended when the server hung up)."""

    def __init__(self, sock):
        self.s, self.buf = sock, b""
        self.reply()

    def send(self, data):
        self.s.sendall(data)

    def reply(self):
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                d = self.s.recv(65536)
                if not d:
                    return "\n".join(lines + ["EOF"])
                self.buf += d
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode(errors="replace"))
            if len(line) < 4 or line[3:4] != b"-":
                return "\n".join(lines)

    def cmd(self, c):
        self.send(c if isinstance(c, bytes) else c.encode() + b"\r\n")
        return self.reply()


class ThreadServer:
    """A loopback server in a thread, one connection at a time, each
    handled by self._session(sock); stopped at exit."""

    def __init__(self, t, host="127.0.0.1"):
        import socket
        import threading
        self.received = b""
        self.connections = 0
        self.handshake_error = None
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        t.at_exit(self.stop)

    def stop(self):
        self._stop = True
        self.thread.join(5)
        self.sock.close()

    def _serve(self):
        import socket
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            self.connections += 1
            c.settimeout(10)
            try:
                self._session(c)
            except Exception as e:  # the proxy hanging up is expected
                self.handshake_error = self.handshake_error or repr(e)
            finally:
                c.close()

    def _lines(self, c, record=True):
        """Lines from c without CR LF; what arrives is kept in received."""
        buf = b""
        while True:
            while b"\n" not in buf:
                d = c.recv(65536)
                if not d:
                    return
                if record:
                    self.received += d
                buf += d
            line, buf = buf.split(b"\n", 1)
            yield line.rstrip(b"\r")


class FakeUpstream(ThreadServer):
    """A small SMTP or POP3 server in a thread that records every byte it
    receives (after TLS, if it gets that far): the proof of what the proxy
    did or did not send. tls: None (offers no STARTTLS/STLS) or an
    ssl.SSLContext it offers with STARTTLS/STLS."""

    def __init__(self, t, proto, tls=None, host="127.0.0.1"):
        self.proto, self.tls = proto, tls
        super().__init__(t, host)


    def _session(self, c):
        smtp = self.proto == "smtp"
        c.sendall(b"220 fake ESMTP\r\n" if smtp else b"+OK fake POP3\r\n")
        it = self._lines(c)
        for line in it:
            verb = line.split(b" ")[0].upper()
            if smtp and verb in (b"EHLO", b"HELO"):
                c.sendall(b"250-fake\r\n" + (b"250-STARTTLS\r\n" if self.tls else b"") +
                          b"250 AUTH PLAIN LOGIN\r\n")
            elif verb in (b"STARTTLS", b"STLS") and self.tls:
                c.sendall(b"220 go ahead\r\n" if smtp else b"+OK go ahead\r\n")
                c = self.tls.wrap_socket(c, server_side=True)
                it = self._lines(c)
                for l2 in it:   # after TLS: record, answer, never accept
                    v2 = l2.split(b" ")[0].upper()
                    if v2 == b"QUIT":
                        c.sendall(b"221 bye\r\n" if smtp else b"+OK bye\r\n")
                        return
                    c.sendall(b"250-fake\r\n250 AUTH PLAIN\r\n" if smtp and v2 == b"EHLO"
                              else b"535 no\r\n" if smtp else b"-ERR no\r\n")
                return
            elif verb == b"QUIT":
                c.sendall(b"221 bye\r\n" if smtp else b"+OK bye\r\n")
                return
            else:
                c.sendall(b"502 no\r\n" if smtp else b"-ERR no\r\n")


def other_cert(dirpath, ca_dir, names):
    """A server certificate for names signed by the CA in ca_dir."""
    os.makedirs(dirpath, exist_ok=True)
    key, crt, csr, ext = (os.path.join(dirpath, x) for x in ("key.pem", "cert.pem", "req.csr", "ext.cnf"))
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)
    with open(ext, "w") as f:
        f.write("subjectAltName=" + ",".join(f"DNS:{n}" for n in names) +
                "\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", csr, "-subj", f"/CN={names[0]}")
    run("openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(ca_dir, "ca.pem"), "-CAkey",
        os.path.join(ca_dir, "ca.key"), "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext)
    return crt, key


class DiskFull:
    """A full file system over a mailbox's tmp/ (a tiny tmpfs, filled)."""

    def __init__(self, t, mbdir):
        self.dir = os.path.join(mbdir, "tmp")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700" + store_mount_opts(), "tmpfs",
                        self.dir],
                       check=True, capture_output=True)
        self.mounted = True
        t.at_exit(self.release)
        fd = os.open(os.path.join(self.dir, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            for _ in range(10000):   # 64 KiB: far fewer blocks than that
                os.write(fd, b"x" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)

    def release(self):
        if self.mounted:
            subprocess.run(["umount", self.dir], capture_output=True)
            self.mounted = False


def can_mount_tmpfs():
    d = tempfile.mkdtemp(prefix="msgw-mnt.")
    try:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", d], capture_output=True)
        if r.returncode == 0:
            subprocess.run(["umount", d], capture_output=True)
            return True
        return False
    finally:
        os.rmdir(d)


class EvilUpstream(ThreadServer):
    """An attacker's own mail server, in a thread: STARTTLS/STLS with the
    given ssl.SSLContext, then it accepts every credential, every command
    and every message (POP3: serves one forged message). It records every
    byte it receives after TLS: what the proxy let through. odd_354: an
    SMTP verb it answers with 354, as a hostile or broken upstream might."""

    FORGED = (b"From: ceo@victim.test\r\nTo: archive@victim.test\r\nSubject: forged\r\n"
              b"Message-ID: <forged@attacker.test>\r\n\r\nPlanted by the attacker.\r\n")

    def __init__(self, t, proto, tls, odd_354=None, message=None):
        self.proto, self.tls, self.odd_354 = proto, tls, odd_354
        self.message = message or self.FORGED   # CRLF lines, no line starting with "."
        super().__init__(t)

    def _session(self, c):
        smtp = self.proto == "smtp"
        c.sendall(b"220 evil ESMTP\r\n" if smtp else b"+OK evil POP3\r\n")
        for line in self._lines(c, False):
            verb = line.split(b" ")[0].upper()
            if verb in (b"STARTTLS", b"STLS"):
                c.sendall(b"220 go\r\n" if smtp else b"+OK go\r\n")
                c = self.tls.wrap_socket(c, server_side=True)
                return (self._smtp if smtp else self._pop3)(c)
            c.sendall(b"250-evil\r\n250 STARTTLS\r\n" if smtp else b"-ERR no\r\n")

    def _smtp(self, c):
        data = False
        for line in self._lines(c, True):
            verb = line.split(b" ")[0].upper()
            if data:
                if line == b".":
                    data = False
                    c.sendall(b"250 2.0.0 queued\r\n")
                continue
            if self.odd_354 and verb == self.odd_354:
                c.sendall(b"354 go ahead\r\n")
                data = True
            elif verb == b"EHLO":
                c.sendall(b"250-evil\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
            elif verb == b"AUTH":
                c.sendall(b"235 2.7.0 welcome\r\n")
            elif verb == b"DATA":
                c.sendall(b"354 go ahead\r\n")
                data = True
            elif verb == b"QUIT":
                c.sendall(b"221 bye\r\n")
                return
            else:
                c.sendall(b"250 ok\r\n")

    def _pop3(self, c):
        m = self.message
        for line in self._lines(c, True):
            verb = line.split(b" ")[0].upper()
            if verb == b"TOP" and line.endswith(b" 0"):   # the header only
                c.sendall(b"+OK\r\n" + m[:m.index(b"\r\n\r\n") + 4] + b".\r\n")
            elif verb in (b"RETR", b"TOP"):
                c.sendall(b"+OK\r\n")
                for i in range(0, len(m), 1 << 20):
                    c.sendall(m[i:i + (1 << 20)])
                c.sendall(b".\r\n")
            elif verb == b"UIDL":
                c.sendall(b"+OK 1 forged-1\r\n" if b" " in line else b"+OK\r\n1 forged-1\r\n.\r\n")
            elif verb == b"LIST":
                c.sendall(b"+OK 1 %d\r\n" % len(m) if b" " in line else b"+OK\r\n1 %d\r\n.\r\n" % len(m))
            elif verb == b"STAT":
                c.sendall(b"+OK 1 %d\r\n" % len(m))
            elif verb == b"QUIT":
                c.sendall(b"+OK bye\r\n")
                return
            else:
                c.sendall(b"+OK\r\n")
