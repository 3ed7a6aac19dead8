"""TAP and fixtures for msgw's end-to-end tests (Python standard library only).

A test script:

    from msgwtest import *
    t = Test()                  # plan is printed at the end (done_testing)
    env = t.env()               # private dir, config, test CA + server cert
    srv = env.start("msgw-smtp", "--listen", f"127.0.0.1:{env.port()}")
    t.ok(..., "name")
    t.done()

Servers are started by the test and stopped by their pid at exit; only
loopback addresses are used.
"""
import atexit
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SRCDIR = os.environ.get("MSGW_SRCDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILDDIR = os.environ.get("MSGW_BUILDDIR", SRCDIR)
VALGRIND = os.environ.get("MSGW_VALGRIND") == "1"


def prog(name):
    """Path of a built program (src/NAME) or test helper (t/NAME)."""
    import glob
    for p in [os.path.join(BUILDDIR, "src", name)] + sorted(glob.glob(os.path.join(BUILDDIR, "t", "*", name))):
        if os.path.exists(p):
            return p
    raise FileNotFoundError(name)


class Test:
    def __init__(self):
        self.n = 0
        self.failed = 0
        self.crashed = False
        self.logs = []   # the servers' logs: their tails are shown on failure
        self._cleanups = []
        atexit.register(self._cleanup)
        hook = sys.excepthook

        def crashed(*exc):
            self.crashed = True
            hook(*exc)
        sys.excepthook = crashed

    def ok(self, cond, name, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print(f"{'' if cond else 'not '}ok {self.n} - {name}", flush=True)
        if not cond and diag is not None:
            self.diag(diag)
        return bool(cond)

    def is_(self, got, want, name):
        return self.ok(got == want, name, f"     got: {got!r}\n  wanted: {want!r}")

    def like(self, got, sub, name):
        return self.ok(got is not None and sub in got, name, f"     got: {got!r}\n  wanted substring: {sub!r}")

    def skip(self, reason, name):
        self.n += 1
        print(f"ok {self.n} - {name} # SKIP {reason}", flush=True)

    def diag(self, msg):
        for line in str(msg).splitlines():
            print(f"# {line}", flush=True)

    def bail(self, msg):
        print(f"Bail out! {msg}", flush=True)
        self.crashed = True
        self._cleanup()
        os._exit(255)

    def at_exit(self, fn):
        self._cleanups.append(fn)

    def _log_tails(self, lines=25):
        for path in self.logs:
            try:
                with open(path, errors="replace") as f:
                    tail = f.readlines()[-lines:]
            except OSError:
                continue
            self.diag(f"--- last lines of {os.path.basename(path)} ---")
            self.diag("".join(tail))
        self.logs = []

    def _cleanup(self):
        if self.failed or self.crashed:
            self._log_tails()   # before the directory goes
        while self._cleanups:
            fn = self._cleanups.pop()
            try:
                fn()
            except Exception as e:  # cleanup must not mask results
                print(f"# cleanup: {e}", flush=True)

    def done(self):
        self._cleanup()
        print(f"1..{self.n}", flush=True)
        sys.exit(1 if self.failed else 0)

    def env(self, **conf):
        return Env(self, **conf)


def free_port():
    """A currently free loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, host="127.0.0.1", timeout=15.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port}")


def start_process(t, argv, logpath, env=None):
    """Start argv in a session of its own, output appended to logpath;
    stopped at exit (SIGTERM, then SIGKILL after 10 s)."""
    log = open(logpath, "ab")
    if logpath not in t.logs:
        t.logs.append(logpath)
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                         start_new_session=True)

    def stop():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()
    t.at_exit(stop)
    return p


def make_ca(dirpath, names=("localhost", "mail.test"), ips=("127.0.0.1", "::1")):
    """A throwaway CA and a server certificate for names/ips (openssl)."""
    os.makedirs(dirpath, exist_ok=True)
    ca_key, ca_crt = f"{dirpath}/ca.key", f"{dirpath}/ca.pem"
    key, crt = f"{dirpath}/key.pem", f"{dirpath}/cert.pem"
    if not os.path.exists(crt):
        run = lambda *a: subprocess.run(a, check=True, capture_output=True)
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", ca_key, "-out", ca_crt, "-days", "3", "-subj", "/CN=msgw test CA")
        san = ",".join([f"DNS:{n}" for n in names] + [f"IP:{i}" for i in ips])
        ext = f"{dirpath}/ext.cnf"
        with open(ext, "w") as f:
            f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", f"{dirpath}/req.csr", "-subj", f"/CN={names[0]}")
        run("openssl", "x509", "-req", "-in", f"{dirpath}/req.csr", "-CA", ca_crt, "-CAkey", ca_key,
            "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext)
        os.chmod(key, 0o600)
    return ca_crt, crt, key


def conf_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return f"{v}L" if abs(v) >= 2**31 else str(v)
    if isinstance(v, (list, tuple)):
        return "[ " + ", ".join(conf_value(x) for x in v) + " ]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


STORE_USER, PARSER_USERS = "msgw", ("msgw-smtp", "msgw-pop3")


def ensure_users():
    """As root: the users of share/msgw.sysusers (msgw(7), SECURITY), made by
    systemd-sysusers from the shipped file, or else by useradd (the
    documented fallback). False when not root (no separation then)."""
    import pwd
    if os.geteuid() != 0:
        return False
    names = (STORE_USER,) + PARSER_USERS
    def missing():
        out = []
        for n in names:
            try:
                pwd.getpwnam(n)
            except KeyError:
                out.append(n)
        return out
    if missing():
        subprocess.run(["systemd-sysusers", os.path.join(SRCDIR, "share", "msgw.sysusers")],
                       capture_output=True)
    for n in missing():
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/",
                        "--shell", "/usr/sbin/nologin", n], capture_output=True)
    if missing():
        raise RuntimeError("cannot create the users " + " ".join(missing()))
    return True


def store_dir(path):
    """A data_dir as tmpfiles.d makes it: msgw's, mode 0711."""
    import pwd
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o711)
    if ensure_users():
        pw = pwd.getpwnam(STORE_USER)
        os.chown(path, pw.pw_uid, pw.pw_gid)


def store_mount_opts():
    """tmpfs options that give a mount over part of the tree to the store
    user, as the rest of the tree is."""
    if not ensure_users():
        return ""
    uid, gid = user_ids(STORE_USER)
    return f",uid={uid},gid={gid}"


def user_ids(name):
    import pwd
    pw = pwd.getpwnam(name)
    return pw.pw_uid, pw.pw_gid


class Env:
    """A private msgw installation: dir, config file, certificates."""

    def __init__(self, t, **conf):
        self.t = t
        self.dir = tempfile.mkdtemp(prefix="msgw-e2e.")
        t.at_exit(lambda: shutil.rmtree(self.dir, ignore_errors=True))
        self.ca, self.cert, self.key = make_ca(os.path.join(self.dir, "tls"))
        # The parsers pass through to mailbox.conf and read the CA file.
        os.chmod(self.dir, 0o711)
        os.chmod(os.path.dirname(self.ca), 0o755)
        os.chmod(self.ca, 0o644)
        self.data_dir = os.path.join(self.dir, "data")
        store_dir(self.data_dir)
        self.procs = []
        settings = {
            "domain": "mail.test",
            "hostname": "mx.mail.test",
            "data_dir": self.data_dir,
            "log_level": "debug",
            "tls.cert": self.cert,
            "tls.key": self.key,
            # no second (RSA) pair unless a test makes one; never /etc's
            "tls.rsa_cert": os.path.join(self.dir, "tls", "rsa-cert.pem"),
            "tls.rsa_key": os.path.join(self.dir, "tls", "rsa-key.pem"),
            "crypt.scrypt_log_n": 10,
            "pop3.login_failure_delay": 200,
            "crypt.unseal_lock_dir": os.path.join(self.dir, "unseal"),
        }
        if os.geteuid() != 0:
            settings["server.require_privsep"] = False
        settings.update({k.replace("__", "."): v for k, v in conf.items()})
        self.config = os.path.join(self.dir, "msgw.conf")
        self.write_config(settings)

    def write_config(self, settings):
        top, sections = [], {}
        for k, v in settings.items():
            if "." in k:
                sec, key = k.split(".", 1)
                sections.setdefault(sec, []).append(f"  {key} = {conf_value(v)};")
            else:
                top.append(f"{k} = {conf_value(v)};")
        with open(self.config, "w") as f:
            f.write("\n".join(top) + "\n")
            for sec, lines in sections.items():
                f.write(f"{sec} = {{\n" + "\n".join(lines) + "\n};\n")
        self.settings = settings

    def port(self):
        return free_port()

    def owned_dir(self, name):
        """A directory msgw-mbox may write after it became the store user
        (an export destination)."""
        path = os.path.join(self.dir, name)
        store_dir(path)
        return path

    def cmd(self, name, *args):
        argv = [prog(name), "-c", self.config, *args]
        if VALGRIND:
            argv = ["valgrind", "-q", "--error-exitcode=99", *argv]
        return argv

    def run(self, name, *args, input=None, check=False, timeout=120):
        return subprocess.run(self.cmd(name, *args), input=input, capture_output=True,
                              timeout=timeout, check=check)

    def start(self, name, *args, port=None, logname=None):
        """Start a server in the foreground mode; stop it at exit."""
        p = start_process(self.t, self.cmd(name, *args),
                          os.path.join(self.dir, (logname or name) + ".log"))
        self.procs.append(p)
        if port is not None:
            wait_port(port, proc=p)
        return p

    def log(self, name):
        try:
            with open(os.path.join(self.dir, name + ".log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


def with_pty(argv, password, timeout=120):
    """Run argv on a pseudo-terminal and type password at each passphrase
    prompt: the stock age 1.1 reads passphrases from a terminal only.
    Returns (exit status, or -1 after the timeout; what it printed)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    out, sent = b"", 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:   # EIO: the child closed the terminal
            break
        if not data:
            break
        out += data
        while sent < out.lower().count(b"passphrase"):
            os.write(fd, password.encode() + b"\r")
            sent += 1
    else:
        os.kill(pid, signal.SIGKILL)
        os.close(fd)
        os.waitpid(pid, 0)
        return -1, out
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out


def age_decrypt(identity, password, path, timeout=120):
    """The plaintext of an age file, by the stock `age -d -i identity`
    with the identity's password typed on a pty. RuntimeError on failure."""
    fd, out = tempfile.mkstemp(prefix="msgw-plain.")
    os.close(fd)
    try:
        rc, tty = with_pty(["age", "-d", "-i", identity, "-o", out, path], password, timeout)
        if rc != 0:
            raise RuntimeError(f"age -d failed ({rc}): {tty.decode(errors='replace')}")
        with open(out, "rb") as f:
            return f.read()
    finally:
        os.unlink(out)
