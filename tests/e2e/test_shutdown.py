"""Shutdown: SIGTERM (and SIGINT) stop every program, its children and the
worker within a few seconds, in both FastCGI modes (supervising children
on a socket of its own, and on a socket handed over as stdin as
spawn-fcgi does); a request in hand is answered first."""
import os
import signal
import socket
import subprocess
import threading
import time

from harness import PROGRAMS, Stack, Tap, wait_for
import fixtures as fx
import reliability

STOP_S = 5
AREA = "shutdown"


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:    # a zombie is gone for our purpose
        return open("/proc/%d/stat" % pid).read().split()[2] != "Z"
    except OSError:
        return False


def children(pid):
    try:
        kids = open("/proc/%d/task/%d/children" % (pid, pid)).read().split()
    except OSError:
        return []
    return [int(k) for k in kids]


def stopped(proc, pids, sig):
    """Sends sig to proc: the seconds until proc and pids were gone, or
    None when they were not within STOP_S."""
    t0 = time.monotonic()
    os.kill(proc.pid, sig)
    try:
        proc.wait(STOP_S)
    except subprocess.TimeoutExpired:
        pass
    if proc.poll() is None or not wait_for(
            lambda: not any(alive(p) for p in pids), 2):
        for p in [proc.pid] + pids:     # leave nothing running
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()
        return None
    return time.monotonic() - t0


def row(case, took):
    reliability.check(t, AREA, case, "gone within %d s" % STOP_S,
                      "still running after %d s" % STOP_S if took is None
                      else "gone after %.2f s" % took, took is not None)


t = Tap()
s = Stack()
try:
    fx.seed(s)
    rc, iid, err = fx.create_integration(s)
    if rc != 0:
        raise SystemExit(err)
    pid = fx.plugin_id(s, iid)

    # -- every program, supervising children on its socket ------------------
    for name, sig in zip(PROGRAMS, (signal.SIGTERM, signal.SIGINT,
                                    signal.SIGTERM, signal.SIGTERM)):
        sock = os.path.join(s.dir, "stop-%s.sock" % name)
        p = subprocess.Popen(s.wrap() + [s.binary(name), "-s", sock, "-n",
                             "3"], env=s.env, stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(s.dir, "stop-%s.stderr"
                                                      % name), "w"))
        kids = wait_for(lambda: len(children(p.pid)) == 3 and
                        children(p.pid), 10) or []
        t.eq(len(kids), 3, "pbsync-%s -s: three children serve" % name)
        row("pbsync-%s -s (3 children), %s" % (
            name, signal.Signals(sig).name), stopped(p, kids, sig))

    # -- every program, on a socket handed over as stdin ----------------------
    for name in PROGRAMS:
        path = os.path.join(s.dir, "fd0-%s.sock" % name)
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(path)
        lsock.listen(8)
        p = subprocess.Popen(s.wrap() + [s.binary(name)], env=s.env,
                             stdin=lsock.fileno(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        lsock.close()
        # It is up when it accepts: a connection that gets answered.
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(path)
        c.close()
        time.sleep(0.2)
        t.ok(p.poll() is None, "pbsync-%s on stdin: serving" % name)
        row("pbsync-%s on a socket as stdin, SIGTERM" % name,
            stopped(p, [], signal.SIGTERM))

    # -- a request in hand is answered before the program goes ------------
    fid = fx.feature(s, "Push during shutdown")
    s.gl.call("POST", "/_double/faults", {
        "match": "POST /api/v4/projects/.*/issues$", "delay": 2,
        "count": 1})
    got = {}
    th = threading.Thread(target=lambda: got.update(
        r=fx.click(s, pid, fid)))
    th.start()
    t.ok(wait_for(lambda: s.gl.requests("/api/v4/projects/%d/issues" %
                                        fx.PROJECT), 10),
         "a push is in hand: GitLab holds its create")
    plugin = s.procs.pop("plugin")
    kids = children(plugin.pid)
    row("pbsync-plugin, SIGTERM during a push", stopped(
        plugin, kids, signal.SIGTERM))
    th.join(30)
    state = got.get("r", {}).get("connection", {}).get("state")
    reliability.check(t, AREA, "the push in hand when SIGTERM came",
                      "answered before the program exits",
                      "answered: %s" % state if state else "no answer",
                      state in ("connected", "progress"))

    # -- the worker -----------------------------------------------------------
    s.start_worker()
    t.ok(wait_for(lambda: "worker started" in s.log(), 20), "worker started")
    w = s.procs.pop("worker")
    row("pbsyncctl worker, SIGTERM", stopped(w, [], signal.SIGTERM))
finally:
    s.stop(t)
t.done()
