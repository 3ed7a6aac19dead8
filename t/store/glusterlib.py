"""A private GlusterFS for the scale-out test and bench (see
../shared/PEERS.md): glusterd refuses bricks on loopback addresses, so
everything runs in a network namespace of its own with the documentation
address 192.0.2.10 on its lo, under one long-lived `ip netns exec` process
(its FUSE mounts exist only in that process's mount namespace).

glusterd runs with a volfile of its own: working directory, run directory
(pid files, sockets) and CLI socket live in the test's state directory, so
/var/lib/glusterd/vols and /var/run are never touched. Every process the
cluster starts writes a pid file there; the outer process kills each one by
its pid (checking that its command line names the state directory) even
when the inner one failed, then deletes the namespace.

    outer(__file__, timeout)     # at the top of a script: re-runs it inside
    c = Cluster(t)               # inside: glusterd, replica-2 volume, 2 mounts
    on_host("gw-a", argv)        # argv under a UTS namespace named gw-a
"""
import ctypes
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ADDR = "192.0.2.10"
VOL = "msgwt"
PR_SET_CHILD_SUBREAPER = 36
TOOLS = ("/usr/sbin/glusterd", "/usr/sbin/glusterfs", "/usr/sbin/gluster", "/usr/bin/unshare")


def _tap_skip(reason):
    print(f"1..0 # SKIP {reason}", flush=True)
    sys.exit(0)


def fuse_missing():
    """Why FUSE cannot be used here, or None."""
    try:
        fd = os.open("/dev/fuse", os.O_RDWR)
        os.close(fd)
    except OSError as e:
        return f"FUSE is unavailable (/dev/fuse: {e.strerror})"
    return None


def _pid_alive_ours(pid, state):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return state.encode() in f.read()
    except OSError:
        return False


def kill_pidfiles(state):
    """Stop every process whose pid file lies under state and whose command
    line names state: SIGTERM, then SIGKILL after 5 s."""
    pids = []
    for pf in glob.glob(os.path.join(state, "**", "*.pid"), recursive=True):
        try:
            pid = int(open(pf).read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        if pid > 1 and _pid_alive_ours(pid, state):
            pids.append(pid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_pid_alive_ours(p, state) for p in pids):
            time.sleep(0.1)
    return pids


def outer(script, timeout):
    """Outside the namespace: check, make it, run script inside, clean up."""
    if os.environ.get("MSGW_GLUSTER_STATE"):
        return
    if os.geteuid() != 0:
        _tap_skip("needs root (network namespace, glusterd, FUSE mounts)")
    missing = [x for x in TOOLS if not os.path.exists(x)]
    if missing:
        print(f"Bail out! {', '.join(missing)} missing: install glusterfs-server glusterfs-client (bin/deps)")
        sys.exit(1)
    why = fuse_missing()
    if why:
        _tap_skip(why)
    ns = f"msgw-t{os.getpid()}"
    state = tempfile.mkdtemp(prefix="msgw-gluster.")
    os.chmod(state, 0o755)
    rc = 1
    try:
        for argv in (["ip", "netns", "add", ns], ["ip", "-n", ns, "link", "set", "lo", "up"],
                     ["ip", "-n", ns, "addr", "add", f"{ADDR}/32", "dev", "lo"]):
            subprocess.run(argv, check=True)
        env = dict(os.environ, MSGW_GLUSTER_STATE=state, TMPDIR=os.path.join(state, "tmp"))
        os.makedirs(env["TMPDIR"])
        p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, script] + sys.argv[1:], env=env)
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            print(f"Bail out! {script}: still running after {timeout} s", flush=True)
            p.kill()
            p.wait()
    finally:
        left = kill_pidfiles(state)
        if left and rc == 0:
            print(f"# cleanup stopped {len(left)} leftover processes", flush=True)
        subprocess.run(["ip", "netns", "del", ns])
        shutil.rmtree(state, ignore_errors=True)
    sys.exit(rc)


def on_host(name, argv):
    """argv run under a UTS namespace of its own with host name name."""
    return ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', name, *argv]


class Cluster:
    """Inside the namespace: glusterd, a replica-2 volume of two bricks,
    two FUSE mounts (two hosts' views). Stopped at t's exit."""

    def __init__(self, t):
        self.t = t
        self.state = os.environ["MSGW_GLUSTER_STATE"]
        s = self.state
        self.run_dir, self.log_dir = f"{s}/run", f"{s}/log"
        self.bricks = [f"{s}/b1", f"{s}/b2"]
        self.mounts = [f"{s}/m1", f"{s}/m2"]
        for d in [f"{s}/wd", self.run_dir, self.log_dir] + self.bricks + self.mounts:
            os.makedirs(d, exist_ok=True)
        vol = f"{s}/glusterd.vol"
        with open(vol, "w") as f:
            f.write("volume management\n    type mgmt/glusterd\n"
                    f"    option working-directory {s}/wd\n    option run-directory {self.run_dir}\n"
                    f"    option glusterd-sockfile {self.run_dir}/glusterd.socket\n"
                    "    option transport-type socket\n    option transport.socket.listen-port 24007\n"
                    "    option ping-timeout 0\n"
                    "    option event-threads 1\n    option max-port 60999\nend-volume\n")
        # The daemons glusterd starts are orphans: be their reaper, or a
        # brick killed stays a zombie that glusterd takes for running.
        if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
        t.at_exit(self.stop)
        subprocess.run(["glusterd", "-f", vol, "-p", f"{s}/glusterd.pid",
                        f"--log-file={self.log_dir}/glusterd.log"], check=True)
        self._until(lambda: self.gluster("volume", "list", check=False).returncode == 0, 30, "glusterd answers")
        self.gluster("volume", "create", VOL, "replica", "2", *[f"{ADDR}:{b}" for b in self.bricks], "force")
        self.gluster("volume", "start", VOL)
        for i, m in enumerate(self.mounts):
            subprocess.run(["glusterfs", f"--volfile-server={ADDR}", f"--volfile-id={VOL}",
                            f"--pid-file={self.run_dir}/mount{i + 1}.pid",
                            f"--log-file={self.log_dir}/mount{i + 1}.log", m], check=True)
            self._until(lambda: os.path.ismount(m), 30, f"{m} mounted")

    def _until(self, cond, seconds, what):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if cond():
                return
            time.sleep(0.2)
        raise RuntimeError(f"gluster: not within {seconds} s: {what}")

    def gluster(self, *args, check=True):
        r = subprocess.run(["gluster", "--mode=script", f"--glusterd-sock={self.run_dir}/glusterd.socket",
                            f"--log-file={self.log_dir}/cli.log", *args], capture_output=True, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError(f"gluster {' '.join(args)}: {r.stdout.decode()} {r.stderr.decode()}")
        return r

    def brick_pid(self, i):
        name = f"{ADDR}{self.bricks[i]}".replace("/", "-")
        with open(f"{self.run_dir}/vols/{VOL}/{name}.pid") as f:
            return int(f.read().split()[0])

    def kill_brick(self, i):
        """SIGKILL one brick process (glusterfsd)."""
        pid = self.brick_pid(i)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return pid

    def restart_bricks(self):
        self.gluster("volume", "start", VOL, "force")

    def heal(self, seconds=300):
        """Start a heal (retried: the first call right after a restart can
        fail) and wait until no entry is left to heal, asking again every
        15 s (under load the self-heal daemon can miss the first request).
        Returns seconds."""
        t0 = time.monotonic()
        self._until(lambda: self.gluster("volume", "heal", VOL, check=False).returncode == 0, 30, "heal starts")
        asked = [time.monotonic()]

        def healed():
            if time.monotonic() - asked[0] > 15:
                self.gluster("volume", "heal", VOL, check=False)
                asked[0] = time.monotonic()
            return self.pending_heals() == 0
        self._until(healed, seconds, "heal finished")
        return time.monotonic() - t0

    def pending_heals(self):
        r = self.gluster("volume", "heal", VOL, "statistics", "heal-count", check=False)
        n = [int(line.split(":")[1]) for line in r.stdout.decode().splitlines()
             if line.startswith("Number of entries:") and line.split(":")[1].strip().isdigit()]
        return sum(n) if r.returncode == 0 and len(n) == len(self.bricks) else -1

    def stop(self):
        for m in self.mounts:
            subprocess.run(["umount", "-l", m], capture_output=True)
        self.gluster("volume", "stop", VOL, "force", check=False)
        self.gluster("volume", "delete", VOL, check=False)
        kill_pidfiles(self.state)
