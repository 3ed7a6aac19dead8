#!/usr/bin/env python3
"""make bench: msgw-smtp ingest with de-duplication on against off, 4 KiB
messages over 8 concurrent sessions (connections reused), every message
distinct so that dedup does its whole work (hash, index look-up, entry
creation) and drops nothing. Runs alternate on/off (order swapped
every round); medians of
MSGW_BENCH_RUNS (default 9) runs of MSGW_BENCH_DEDUP_MSGS (default 400)
messages. The goal: dedup on within 10 % of off."""
import os
import smtplib
import statistics
import sys
import threading
import time

SRC = os.environ.get("MSGW_SRCDIR", ".")
sys.path.insert(0, os.path.join(SRC, "t", "lib"))
sys.path.insert(0, os.path.join(SRC, "t", "smtp"))
from msgwtest import Test  # noqa: E402
from smtptest import Mailbox  # noqa: E402

RUNS = int(os.environ.get("MSGW_BENCH_RUNS", "9"))
MSGS = int(os.environ.get("MSGW_BENCH_DEDUP_MSGS", "400"))
SESSIONS = 8
SIZE = 4096

t = Test()
env = t.env(log_level="warning", smtp__require_tls=False, server__max_connections=200)
port = env.port()
env.start("msgw-smtp", "--foreground", "--listen", f"127.0.0.1:{port}", port=port)
filler = (b"x" * 76 + b"\r\n") * (SIZE // 78)


def run(dedup, run_no):
    mb = Mailbox(env, "bench")
    if dedup:
        env.run("msgw-mbox", "edit", mb.id, "--dedup", "7d", check=True)
    per = MSGS // SESSIONS

    def worker(w):
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
            for i in range(per):
                body = (f"Subject: bench {run_no} {w} {i}\r\nMessage-ID: <{run_no}.{w}.{i}@bench>\r\n\r\n"
                        .encode() + filler)
                s.sendmail("bench@example.org", [mb.address], body[:SIZE])
    th = [threading.Thread(target=worker, args=(w,)) for w in range(SESSIONS)]
    t0 = time.monotonic()
    for x in th:
        x.start()
    for x in th:
        x.join()
    dt = time.monotonic() - t0
    n = len(os.listdir(os.path.join(mb.dir, "new")))
    if n != per * SESSIONS:
        raise RuntimeError(f"stored {n} of {per * SESSIONS}")
    return per * SESSIONS / dt


on, off = [], []
for r in range(RUNS):
    # Alternate which goes first, so neither gains from the other's order.
    for dedup in ((False, True) if r % 2 == 0 else (True, False)):
        (on if dedup else off).append(run(dedup, 2 * r + dedup))
mon, moff = statistics.median(on), statistics.median(off)
# Each round's on and off ran back to back under the same load from the
# rest of the machine: the median of the per-round ratios is the steadier figure.
ratio = statistics.median(a / b for a, b in zip(on, off))
print(f"msgw-smtp ingest, {SIZE} B, {SESSIONS} sessions, medians of {RUNS} runs of {MSGS} messages:")
print(f"  dedup off {moff:8.1f} msgs/s   runs {' '.join(f'{x:.0f}' for x in off)}")
print(f"  dedup on  {mon:8.1f} msgs/s   runs {' '.join(f'{x:.0f}' for x in on)}")
print(f"  on/off of the medians {mon / moff:.3f} ({'within' if mon >= 0.9 * moff else 'NOT within'} 10 %); "
      f"median of the per-round ratios {ratio:.3f}")
t.done()
