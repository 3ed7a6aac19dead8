#!/usr/bin/env python3
"""Interop with the stock age tool (Debian's age 1.1.1), both ways.

msgw encrypts -> `age -d -i KEY` decrypts; `age -e -r` encrypts -> msgw
decrypts, for 0, 1, 65536, 65537 and 131072 bytes and 150 MiB; keys from
either side; an identity sealed by msgw opens with `age -d -i sealed` and
its passphrase, and one sealed by `age -p` opens in msgw. age reads
passphrases only from a terminal, so those runs go through a pty.

The 150 MiB runs also measure peak memory (getrusage in t/crypt/agetool):
it must stay under 8 MiB. In sanitizer builds, where ASan's runtime and
shadow memory make the absolute figure meaningless, it must not grow by 8
MiB or more over that of a 128 KiB payload (quarantine off). Under
valgrind (make check-valgrind) only the small sizes run under valgrind.
"""
import hashlib
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("MSGW_SRCDIR") or
                                os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."),
                                "t", "lib"))
from msgwtest import Test, prog, VALGRIND, with_pty  # noqa: E402

MIB = 1024 * 1024
SIZES = [0, 1, 65536, 65537, 131072, 150 * MIB]
RSS_LIMIT_KIB = 8 * 1024
PASSWORD = "correct horse battery staple 42"

t = Test()
if shutil.which("age") is None or shutil.which("age-keygen") is None:
    t.skip("the age package is not installed (apt-get install age)", "interop with age")
    t.done()

tool = prog("agetool")
tmp = tempfile.mkdtemp(prefix="msgw-age.")
t.at_exit(lambda: shutil.rmtree(tmp, ignore_errors=True))


def path(name):
    return os.path.join(tmp, name)


def run(argv, valgrind=True):
    if VALGRIND and valgrind and argv[0] == tool:
        argv = ["valgrind", "-q", "--error-exitcode=99", *argv]
    # ASan keeps freed memory in a quarantine (256 MiB by default), which
    # would show as growth that is not the program's
    env = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0")
    return subprocess.run(argv, capture_output=True, timeout=900, env=env)


def sha256(name):
    h = hashlib.sha256()
    with open(name, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            h.update(block)
    return h.hexdigest()


def make_plain(name, n):
    with open(name, "wb") as f:
        left = n
        while left > 0:
            k = min(left, 4 * MIB)
            f.write(os.urandom(k))
            left -= k


def maxrss(stderr):
    m = re.search(rb"maxrss_kib (\d+)", stderr)
    return int(m.group(1)) if m else None


# --- keys ---------------------------------------------------------------
agekey, msgwkey = path("age-key.txt"), path("msgw-key.txt")
subprocess.run(["age-keygen", "-o", agekey], capture_output=True, check=True)
age_rcpt = subprocess.run(["age-keygen", "-y", agekey], capture_output=True, text=True,
                          check=True).stdout.strip()
r = run([tool, "keygen", "-o", msgwkey])
t.ok(r.returncode == 0, "msgw generates an identity file", r.stderr)
with open(msgwkey) as f:
    text = f.read()
t.ok(re.fullmatch(r"# created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n# public key: age1[a-z0-9]{58}\n"
                  r"AGE-SECRET-KEY-1[A-Z0-9]{58}\n", text) is not None,
     "its identity file has age-keygen's three lines", text)
t.is_(os.stat(msgwkey).st_mode & 0o777, 0o600, "identity file mode 0600")
msgw_rcpt = run([tool, "recipient", msgwkey]).stdout.decode().strip()
t.is_(subprocess.run(["age-keygen", "-y", msgwkey], capture_output=True, text=True).stdout.strip(),
      msgw_rcpt, "age-keygen -y reads msgw's identity file and agrees on its recipient")
t.is_(run([tool, "recipient", agekey]).stdout.decode().strip(), age_rcpt,
      "msgw reads age-keygen's identity file and agrees on its recipient")

sanitized = run([tool, "features"], valgrind=False).stdout.decode().strip() == "sanitizers"
small_rss = {}   # peak RSS of the largest small size, per operation

# --- payloads, both ways ------------------------------------------------
n_small = max(x for x in SIZES if x <= MIB)
for n in SIZES:
    big = n > MIB
    what = f"{n // MIB} MiB" if big else f"{n} bytes"
    plain, enc, dec = path("plain"), path("enc.age"), path("dec")
    make_plain(plain, n)
    want = sha256(plain)

    r = run([tool, "encrypt", "-m", "-r", age_rcpt, "-o", enc, plain], valgrind=not big)
    enc_rss = maxrss(r.stderr)
    # stdout, not -o: age creates an -o file only when it has a byte to write
    with open(dec, "wb") as f:
        a = subprocess.run(["age", "-d", "-i", agekey, enc], stdout=f, stderr=subprocess.PIPE)
    t.ok(r.returncode == 0 and a.returncode == 0 and sha256(dec) == want,
         f"{what}: msgw encrypts, age -d decrypts", r.stderr + a.stderr)
    if n == 0:
        # header + nonce + one empty final chunk (16-byte tag)
        with open(enc, "rb") as f:
            data = f.read()
        t.ok(data.startswith(b"age-encryption.org/v1\n") and
             len(data) - (data.index(b"\n--- ") + 1 + 48) == 16 + 16,
             "empty payload: one empty final chunk")

    os.unlink(enc)
    a = subprocess.run(["age", "-e", "-r", msgw_rcpt, "-o", enc, plain], capture_output=True)
    r = run([tool, "decrypt", "-m", "-i", msgwkey, "-o", dec, enc], valgrind=not big)
    dec_rss = maxrss(r.stderr)
    t.ok(a.returncode == 0 and r.returncode == 0 and sha256(dec) == want,
         f"{what}: age -e encrypts, msgw decrypts", a.stderr + r.stderr)

    if not big:
        small_rss = {"encrypting": enc_rss, "decrypting": dec_rss}
    else:
        for op, rss in (("encrypting", enc_rss), ("decrypting", dec_rss)):
            if rss is None:
                t.ok(False, f"{op} {what}: peak RSS reported", "agetool reported no maxrss")
            elif sanitized:
                # ASan's runtime and shadow make the absolute figure
                # meaningless; what must hold is that it does not grow
                base = small_rss.get(op) or 0
                t.ok(rss - base < RSS_LIMIT_KIB,
                     f"{op} {what} grows RSS by under 8 MiB over {n_small} bytes "
                     f"({rss - base} KiB; sanitizer build)")
            else:
                t.ok(rss < RSS_LIMIT_KIB, f"{op} {what} peaks under 8 MiB RSS ({rss} KiB)")
    for f in (plain, enc, dec):
        os.unlink(f)

# --- sealed identities --------------------------------------------------
pwfile = path("password")
with open(pwfile, "w") as f:
    f.write(PASSWORD + "\n")
small, msg = path("small"), path("msg.age")
with open(small, "wb") as f:
    f.write(b"Subject: hello\r\n\r\nsealed identities work\r\n")
subprocess.run(["age", "-e", "-r", msgw_rcpt, "-o", msg, small], check=True)

sealed = path("identity.age")
r = run([tool, "seal", "-i", msgwkey, "-p", pwfile, "-n", "16", "-o", sealed])
t.ok(r.returncode == 0, "msgw seals its identity with a password (log N 16, the default)", r.stderr)
out = path("out")
status, tty = with_pty(["age", "-d", "-i", sealed, "-o", out, msg], PASSWORD)
t.ok(status == 0 and os.path.exists(out) and sha256(out) == sha256(small),
     "age -d -i identity.age opens the msgw-sealed identity with the password",
     tty.decode(errors="replace"))
if os.path.exists(out):
    os.unlink(out)
status, tty = with_pty(["age", "-d", "-i", sealed, "-o", out, msg], "wrong " + PASSWORD)
t.ok(status != 0 and not (os.path.exists(out) and os.path.getsize(out) > 0),
     "age refuses the msgw-sealed identity with a wrong password")

agesealed = path("age-sealed.age")
status, tty = with_pty(["age", "-p", "-o", agesealed, msgwkey], PASSWORD)
t.ok(status == 0, "age -p seals msgw's identity file", tty.decode(errors="replace"))
r = run([tool, "unseal", "-p", pwfile, agesealed])
key_line = [ln for ln in text.splitlines() if ln.startswith("AGE-SECRET-KEY-")][0]
t.ok(r.returncode == 0 and key_line in r.stdout.decode() and msgw_rcpt in r.stdout.decode(),
     "msgw unseals an identity sealed by age -p", r.stderr)
with open(path("badpw"), "w") as f:
    f.write("not the password\n")
r = run([tool, "unseal", "-p", path("badpw"), agesealed])
t.ok(r.returncode != 0 and b"no identity matches" in r.stderr,
     "msgw refuses it with a wrong password, saying why", r.stderr)
r = run([tool, "unseal", "-p", pwfile, "-n", "17", agesealed])
t.ok(r.returncode != 0 and b"work factor" in r.stderr,
     "msgw refuses a work factor above its limit (age -p uses 18)", r.stderr)

# An identity sealed by msgw decrypts a file that msgw encrypted, in age.
r = run([tool, "encrypt", "-r", msgw_rcpt, "-o", msg, small])
status, tty = with_pty(["age", "-d", "-i", sealed, "-o", out, msg], PASSWORD)
t.ok(r.returncode == 0 and status == 0 and sha256(out) == sha256(small),
     "the recovery path: msgw message, msgw-sealed identity, stock age and the password")

t.done()
