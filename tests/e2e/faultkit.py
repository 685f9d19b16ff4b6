"""What the fault suites (test_faults*.py) share: a linked feature to
break things on, views of the doubles' logs and of the job table, and the
secrets pbsync registered upstream, to send or replay deliveries as the
real senders would."""
import hashlib
import json
import os
import re
import subprocess
import time
import urllib.parse

import fixtures as fx
from harness import wait_for


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


def jobs(s, where="1"):
    """Job rows as dicts: kind, key, state, attempts, run_at, last_error."""
    cols = ("id", "kind", "key", "state", "attempts", "run_at", "last_error")
    return [dict(zip(cols, r)) for r in s.sql(
        "SELECT %s FROM job WHERE %s ORDER BY id" % (", ".join(cols), where))]


def integrity(s):
    return s.sql("PRAGMA integrity_check")[0][0]


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
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
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


def since(t0):
    return time.time() - t0
