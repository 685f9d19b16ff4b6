"""What the fault suites (test_faults*.py, test_multihost.py) share: a
linked feature to break things on, views of the doubles' logs and of the
job table, the secrets pbsync registered upstream, to send or replay
deliveries as the real senders would, a load balancer in front of several
app hosts, and a whole host's sudden death and restart."""
import hashlib
import http.client
import json
import os
import queue
import re
import signal
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import fixtures as fx
from harness import PROGRAMS, wait_for


class Linked:
    """An integration with one pushed feature and its issue; the worker
    runs unless told not to (the stack should set PBSYNC_JOB_BUDGET_MS=0
    so that only the worker runs jobs)."""

    def __init__(self, s, name="Fault target", worker=True):
        self.s = s
        fx.seed(s)
        rc, self.iid, err = fx.create_integration(s)
        if rc != 0:
            raise SystemExit("integration add failed: " + err)
        self.pid = fx.plugin_id(s, self.iid)
        if worker:
            s.start_worker()
        self.fid, self.issue_iid = self.push(name)
        if self.issue_iid is None:
            raise SystemExit("the first push failed")
        if worker:
            fx.idle(s)
        else:
            # Nobody runs the jobs (fx.idle would wait for them in vain):
            # the deliveries of the push only.
            for d in (s.pb, s.td):
                d.call("POST", "/_double/wait", {"deliveries_idle": True,
                                                 "timeout": 20})

    def push(self, name):
        """Creates a feature and clicks Push: (feature id, issue iid or
        None when the click did not answer connected)."""
        fid = fx.feature(self.s, name)
        r = fx.click(self.s, self.pid, fid)
        if r.get("connection", {}).get("state") != "connected":
            return fid, None
        return fid, self.issue_of(fid)["number"]

    # -- the two sides -----------------------------------------------------
    def feature(self, fid=None):
        return self.s.pb.call("GET", "/_double/state")["features"][
            fid or self.fid]

    def issue(self, iid=None):
        want = iid or self.issue_iid
        return [i for i in fx.issues(self.s) if i["iid"] == want][0]

    def issue_of(self, fid):
        """The one issue carrying the feature's marker (or None), as the
        tracker's adapter shows it ({number, title, body, state, ...})."""
        found = self.s.tr.issues_of(fid)
        return found[0] if len(found) == 1 else None

    def tr_issue(self, number=None):
        """An issue as the tracker's adapter shows it (default: k's)."""
        return self.s.tr.issue(number or self.issue_iid)

    def tr_edit(self, number=None, **kw):
        """A person's edit in the tracker's UI (title, body, state,
        labels), of k's issue by default."""
        self.s.tr.edit(number or self.issue_iid, **kw)

    def state(self, fid):
        return fx.connection(self.s, self.pid, fid)["data"]["fields"][
            "connection"].get("state")

    def pb_edit(self, fid=None, **kw):
        self.s.pb.call("PATCH", "/_double/features/" + (fid or self.fid), kw)

    def gl_edit(self, iid=None, **kw):
        kw.setdefault("as_user", "alice")
        self.s.gl.call("PUT", "/_double/projects/%d/issues/%d" %
                       (fx.PROJECT, iid or self.issue_iid), kw)

    # -- secrets pbsync registered upstream -------------------------------
    def gl_hook_token(self):
        hooks = self.s.gl.call("GET", "/_double/state")["hooks"]
        hooks = hooks.values() if isinstance(hooks, dict) else hooks
        return [h["token"] for h in hooks if self.iid in h["url"]][0]

    def pb_hook_auth(self):
        hooks = self.s.pb.call("GET", "/_double/state")["webhooks"]
        hooks = hooks.values() if isinstance(hooks, dict) else hooks
        return [h["authorization"] for h in hooks if self.iid in h["url"]][0]


def issues_of(s, fid):
    mark = "pbsync:feature=%s " % fid
    return [i for i in fx.issues(s) if mark in (i.get("description") or "")]


def api(double, method=None, pattern=""):
    """The API requests a double received (control calls excluded), by
    method and a regular expression on the path."""
    return [r for r in double.requests() if not r["path"].startswith(
        "/_double") and (method is None or r["method"] == method) and
        re.search(pattern, r["path"])]


def clear(s):
    for d in (s.pb, s.td):
        d.call("DELETE", "/_double/requests")
        d.call("DELETE", "/_double/deliveries")
        d.call("DELETE", "/_double/faults")


def fault(double, match, **kw):
    double.call("POST", "/_double/faults", dict(kw, match=match))


def jobs(s, where="true"):
    """Job rows as dicts: kind, key, state, attempts, run_at, last_error."""
    cols = ("id", "kind", "key", "state", "attempts", "run_at", "last_error")
    return [dict(zip(cols, r)) for r in s.sql(
        "SELECT %s FROM job WHERE %s ORDER BY id" % (", ".join(cols), where))]


def integrity(s):
    return s.integrity()


def deliveries(double, kind="webhook", path=None):
    out = [d for d in double.call("GET", "/_double/deliveries")
           if d.get("kind") == kind]
    return [d for d in out if path is None or path in d.get("url", "")]


def replay(s, d):
    """Sends a delivery the double recorded to pbsync again, byte for
    byte (GitLab's "Resend request")."""
    u = urllib.parse.urlsplit(d["url"])
    body = d["body"] if isinstance(d["body"], str) else json.dumps(d["body"])
    keep = {k: v for k, v in d["headers"].items()
            if k.lower() not in ("host", "content-length", "connection")}
    return s.request("POST", u.path, body, keep)


def ctl_show(s, iid):
    """pbsyncctl integration show as a dict."""
    out = s.ctl("integration", "show", iid).stdout
    return dict(line.split("\t", 1) for line in out.splitlines()
                if "\t" in line)


def token_hash(token):
    """The key of a token's row in upstream_pause (crypto_digest)."""
    return hashlib.blake2b(token.encode(), digest_size=32).hexdigest()


def children(pid):
    """Pids of the live child processes of pid (the FastCGI workers of a
    supervisor)."""
    return live(1, {pid})


def live(field, values):
    """Pids of the live processes whose field of /proc/PID/stat, counted
    from the state (0; 1 the parent, 2 the process group), is in
    values."""
    out = []
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[field]) in values and fields[0] != "Z":
            out.append(int(d))
    return out


def sanitizer_runtime(binary):
    """The ASan runtime a binary is linked with, which must come first in
    LD_PRELOAD ([] for a build without sanitizers)."""
    try:
        out = subprocess.run(["ldd", binary], capture_output=True,
                             text=True, timeout=30).stdout
    except OSError:
        return []
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0].startswith("libasan.so") and len(parts) >= 3:
            return [parts[2]]
    return []


def settle(s, timeout=30):
    """Waits until the doubles delivered everything and no job is ready or
    leased (dead ones stay).  The deliveries first: the webhook of the
    last write, still on its way, would otherwise make a job just after
    the queue looked empty."""
    def quiet():
        for d in (s.pb, s.gl, s.gh, s.jr):
            if d is not None:
                d.call("POST", "/_double/wait", {"deliveries_idle": True,
                                                 "timeout": 5})
        return not s.sql("SELECT 1 FROM job WHERE state != 'dead' LIMIT 1")
    return wait_for(lambda: quiet() and quiet(), timeout, 0.2)


def link_of(s, fid):
    """[(state, issue number)] of the feature's link."""
    return [(st, s.tr.key_number(key)) for st, key in s.sql(
        "SELECT state, issue_key FROM link WHERE feature_id = ?", fid)]


def since(t0):
    return time.time() - t0


# -- several app hosts -------------------------------------------------------
# Headers of one connection, not of the request: a proxy does not pass them.
HOP = ("connection", "keep-alive", "transfer-encoding", "content-length",
       "proxy-connection", "te", "upgrade")
# Answers after which a balancer tries another host: none (refused, reset,
# timed out), the host's nginx without its program, a rate limit.
AGAIN = (None, 429, 502, 503, 504)


class Balancer:
    """The load balancer in front of app hosts (stacks), on a port of its
    own: the public URL pbsync registers upstream, so the doubles'
    deliveries and clicks reach every host.  A request goes to one host at
    random, or to every host at once where both(path, body) says so (the
    same delivery or click on two hosts together; twice to a lone host);
    without a 2xx or a final answer it goes again to a host at random for
    up to patience seconds, as a balancer's next upstream or the sender's
    retry would.  Webhook deliveries it forwarded are put on self.resend
    ({path, headers, body, acked: the first 2xx status or None}) for the
    suite to send again, byte for
    byte; self.log keeps (time, port, status) of every answer, and
    self.together counts the requests sent to every host at once."""

    def __init__(self, rnd, patience=4.0):
        self.hosts, self.rnd, self.patience = [], rnd, patience
        self.both = lambda path, body: False
        self.lock = threading.Lock()
        self.resend = queue.Queue()
        self.log, self.deliveries, self.together = [], [], 0
        bal = self

        class Handler(BaseHTTPRequestHandler):
            def relay(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in HOP}
                item = {"path": self.path, "headers": headers,
                        "body": body, "acked": None}
                st, hdrs, data = bal.forward(self.command, item,
                                             bal.both(self.path, body))
                if self.path.startswith("/webhooks/"):
                    with bal.lock:
                        bal.deliveries.append(item)
                    bal.resend.put(item)
                try:
                    self.send_response(st)
                    for k, v in hdrs:
                        if k.lower() not in HOP:
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass        # the sender gave up waiting: its retry
            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = relay

            def log_message(self, *args):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def pick(self):
        with self.lock:
            return self.rnd.choice(self.hosts)

    def send(self, port, method, item):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            c.request(method, item["path"], item["body"], item["headers"])
            r = c.getresponse()
            out = (r.status, r.getheaders(), r.read())
            c.close()
        except (OSError, http.client.HTTPException):
            out = (None, [], b"")
        with self.lock:
            self.log.append((time.monotonic(), port, out[0]))
        return out

    def forward(self, method, item, both=False, patience=None):
        """(status, headers, body): the first 2xx answer, else the first
        final one, else the last (502 when no host answered); the first
        2xx is kept in item["acked"]."""
        end = time.monotonic() + (patience or self.patience)
        ports = [self.pick().port]
        if both:
            ports = [s.port for s in self.hosts] * (
                2 if len(self.hosts) == 1 else 1)
            with self.lock:
                self.together += 1
        while True:
            got = [None] * len(ports)

            def one(i):
                got[i] = self.send(ports[i], method, item)
            ts = [threading.Thread(target=one, args=(i,))
                  for i in range(len(ports))]
            [x.start() for x in ts]
            [x.join() for x in ts]
            good = [a for a in got if a[0] is not None and
                    200 <= a[0] < 300]
            final = [a for a in got if a[0] not in AGAIN]
            if good:
                item["acked"] = item["acked"] or good[0][0]
                return good[0]
            if final:
                return final[0]
            if time.monotonic() > end:
                return got[-1] if got[-1][0] is not None else (502, [], b"")
            time.sleep(0.05)
            ports = [self.pick().port]

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def kill_host(s):
    """kill -9 of a whole app host at once: nginx, every program with its
    children, the worker with its children (each a process group).
    Returns the pids of those groups still alive a while after it
    (none: a process killed takes a moment to go)."""
    groups = [p.pid for p in s.procs.values()]
    for g in groups:
        try:
            os.killpg(g, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for name in list(s.procs):
        s.procs.pop(name).wait(10)
    wait_for(lambda: not live(2, set(groups)), 5)
    return live(2, set(groups))


def start_host(s):
    """An app host started again as its service manager would after a
    crash: the programs (their stale sockets removed), nginx, the
    worker."""
    for name in PROGRAMS:
        try:
            os.unlink(os.path.join(s.dir, name + ".sock"))
        except FileNotFoundError:
            pass
        s.start_program(name)
    s.start_nginx()
    s.start_worker()


JOB_LINE = re.compile(r"job (\d+) \((\S+) \S+\) (started, attempt (\d+))?")


def jobs_begun(text):
    """{job id: attempt} of the jobs the log text shows started and not
    yet settled (done, retried, buried) by its last line about them."""
    out = {}
    for m in JOB_LINE.finditer(text):
        if m.group(3):
            out[int(m.group(1))] = int(m.group(4))
        else:
            out.pop(int(m.group(1)), None)
    return out
