"""The tracker side of the end-to-end suites, one adapter per tracker
double: the suites that run once per tracker (test_trackers.py) talk to
the issue tracker only through these, so the same test code holds every
backend to the same behaviour.

An adapter seeds its double (pbsync's bot with the rights the backend
needs, a human who edits), names the project as the admin would give it,
and reads and edits issues as a person in the tracker's web UI does."""
import hmac
import hashlib
import json
import os
import re
import traceback

BOT, HUMAN = "pbsync-bot", "alice"


class Tracker:
    kind = title = None
    token = human_token = None

    def __init__(self, stack):
        self.s = stack

    def integration_args(self):
        return ("--tracker", self.kind, "--url", self.url(), "--project",
                self.project)

    def server_url(self):
        """The URL of a self-hosted server of the same tracker."""
        return self.url()

    def issue(self, number):
        for i in self.issues():
            if i["number"] == number:
                return i
        return None

    def create_integration(self, name="Team", extra=(), env=None,
                           token=None):
        """pbsyncctl integration add, as an admin runs it: returns
        (returncode, integration id, stderr)."""
        from fixtures import PB_TOKEN
        e = {"PBSYNC_PB_TOKEN": PB_TOKEN,
             "PBSYNC_TRACKER_TOKEN": token or self.token}
        e.update(env or {})
        r = self.s.ctl("integration", "add", "--name", name,
                       *self.integration_args(), *extra, env=e, check=False)
        return r.returncode, r.stdout.strip(), r.stderr

    def issues_of(self, fid):
        """The issues carrying the feature's marker."""
        mark = "pbsync:feature=%s " % fid
        return [i for i in self.issues() if mark in i["body"]]

    def api(self, method=None, pattern=""):
        """The API requests the double received (its control calls
        excluded), by method and a regular expression on the path."""
        return [r for r in self.d.requests() if not r["path"].startswith(
            "/_double") and (method is None or r["method"] == method) and
            re.search(pattern, r["path"])]

    def all_writes(self):
        """pbsync's writes to existing issues, whichever issue."""
        return [r for r in self.api() if r["method"] != "GET" and
                re.search(self.write_match, r["method"] + " " + r["path"])]

    def clear(self):
        self.d.call("DELETE", "/_double/requests")

    def hook_of(self, iid):
        """The webhook pbsync registered for an integration (or None)."""
        hooks = [h for h in self.hooks() if iid in json.dumps(h)]
        return hooks[0] if hooks else None


class GitLab(Tracker):
    kind, title = "gitlab", "GitLab"
    token, human_token = "glpat-test-token-0123456789", \
        "glpat-human-0123456789"
    project, pid = "grp/proj", 1001
    auth_header = "X-Gitlab-Token"
    newline = " "          # a single newline is a soft break
    create_match = r"^POST /api/v4/projects/[^/]+/issues$"
    write_match = r"^PUT /api/v4/projects/[^/]+/issues/\d+$"
    # Fault patterns ("METHOD path") for the double's /_double/faults.
    update_fault = "PUT /api/v4/projects/.*/issues/.*"
    read_fault = "GET /api/v4/projects/.*/issues/.*"

    def __init__(self, stack):
        super().__init__(stack)
        self.d = stack.gl

    def seed(self):
        self.d.call("POST", "/_double/projects", {
            "id": self.pid, "path_with_namespace": self.project,
            "name": "proj"})
        for tok, uid, user, role in ((self.token, 77, BOT, "maintainer"),
                                     (self.human_token, 5, HUMAN,
                                      "developer")):
            self.d.call("POST", "/_double/users", {
                "token": tok, "id": uid, "username": user, "name": user,
                "projects": {str(self.pid): role}})

    def url(self):
        return self.d.url

    def issues(self):
        """Issues as {number, title, body, state, labels, author}."""
        return [{"number": i["iid"], "title": i["title"],
                 "body": i.get("description") or "",
                 "state": "closed" if i["state"] == "closed" else "open",
                 "labels": list(i.get("labels") or []),
                 "author": i.get("author", {}).get("username")
                 if isinstance(i.get("author"), dict) else i.get("author")}
                for i in self.d.call("GET", "/_double/state")["issues"]
                if i.get("project_id") == self.pid]

    def edit(self, number, title=None, body=None, state=None, labels=None):
        b = {"as_user": HUMAN}
        if title is not None:
            b["title"] = title
        if body is not None:
            b["description"] = body
        if labels is not None:
            b["labels"] = ",".join(labels)
        if state is not None:
            b["state_event"] = "close" if state == "closed" else "reopen"
        self.d.call("PUT", "/_double/projects/%d/issues/%d" % (
            self.pid, number), b)

    def delete(self, number):
        """Deleted in the UI: GitLab sends nothing, reconcile finds it."""
        self.d.call("DELETE", "/_double/projects/%d/issues/%d" % (
            self.pid, number))

    def writes(self, number):
        """pbsync's writes to one issue so far."""
        return [r for r in self.d.requests(
            r"^/api/v4/projects/\d+/issues/%d$" % number)
            if r["method"] == "PUT"]

    def hooks(self):
        return self.d.call("GET", "/_double/state")["hooks"]

    def hook_secret_sent(self, hook):
        return hook.get("token")

    def signed(self, hook, body, good=True):
        """Headers of a delivery for body as this tracker would send it."""
        secret = hook["token"] if good else hook["token"][::-1]
        return {"X-Gitlab-Token": secret, "X-Gitlab-Event": "Issue Hook",
                "Content-Type": "application/json"}

    def delivery_body(self, issue_id, number):
        return json.dumps({"object_kind": "issue", "object_attributes": {
            "id": issue_id, "iid": number, "project_id": self.pid}})


class GitHub(Tracker):
    kind, title = "github", "GitHub"
    token, human_token = "ghp_test_token_0123456789", \
        "ghp_human_token_0123456789"
    project = "acme/widgets"
    auth_header = "X-Hub-Signature-256"
    newline = "<br/>"      # issues show a single newline as a break
    create_match = r"^POST /repos/[^/]+/[^/]+/issues$"
    write_match = r"^(PATCH|POST|PUT|DELETE) /repos/[^/]+/[^/]+/issues/\d+" \
        r"(/labels.*)?$"
    update_fault = "PATCH /repos/.*/issues/.*"
    read_fault = "GET /repos/[^/]+/[^/]+/issues/\\d+$"

    def __init__(self, stack):
        super().__init__(stack)
        self.d = stack.gh

    def seed(self):
        self.d.call("POST", "/_double/repos", {
            "full_name": self.project, "private": True})
        for tok, login, role in ((self.token, BOT, "admin"),
                                 (self.human_token, HUMAN, "push")):
            self.d.call("POST", "/_double/users", {
                "login": login, "token": tok, "repos": {self.project: role}})

    def url(self):
        return self.d.url

    def server_url(self):
        """GitHub Enterprise Server: the API under /api/v3."""
        return self.d.url + "/api/v3"

    def _repo_id(self):
        for r in self.d.call("GET", "/_double/state")["repositories"]:
            if r["full_name"].lower() == self.project:
                return r["id"]
        return None

    def issues(self):
        st = self.d.call("GET", "/_double/state")
        rid = self._repo_id()
        return [{"number": i["number"], "title": i["title"],
                 "body": i.get("body") or "", "state": i["state"],
                 "labels": list(i.get("labels") or []),
                 "author": i.get("user")}
                for i in st["issues"]
                if i["repo_id"] == rid and not i.get("deleted") and
                not i.get("pull_request")]

    def edit(self, number, title=None, body=None, state=None, labels=None):
        b = {"as_user": HUMAN}
        if title is not None:
            b["title"] = title
        if body is not None:
            b["body"] = body
        if labels is not None:
            b["labels"] = labels
        if state is not None:
            b["state"] = "closed" if state == "closed" else "open"
        self.d.call("PATCH", "/_double/repos/%s/issues/%d" % (
            self.project, number), b)

    def delete(self, number):
        """Deleted by an admin in the UI: GitHub sends `deleted`."""
        self.d.call("DELETE", "/_double/repos/%s/issues/%d" % (
            self.project, number))

    def writes(self, number):
        return [r for r in self.d.requests(
            r"^/repos/[^/]+/[^/]+/issues/%d(/labels.*)?$" % number)
            if r["method"] in ("PATCH", "POST", "PUT", "DELETE")]

    def hooks(self):
        return self.d.call("GET", "/_double/state")["hooks"]

    def hook_secret_sent(self, hook):
        return hook.get("config", {}).get("secret") or hook.get("secret")

    def signed(self, hook, body, good=True):
        secret = self.hook_secret_sent(hook)
        mac = hmac.new(secret.encode(), body.encode(),
                       hashlib.sha256).hexdigest()
        if not good:
            mac = mac[::-1]
        return {"X-Hub-Signature-256": "sha256=" + mac,
                "X-GitHub-Event": "issues",
                "X-GitHub-Delivery": "d-%s" % mac[:12],
                "Content-Type": "application/json"}

    def delivery_body(self, issue_id, number):
        return json.dumps({"action": "edited", "issue": {
            "id": issue_id, "number": number, "title": "x"},
            "repository": {"full_name": self.project}})


ALL = (GitLab, GitHub)


def by_kind(kind):
    return [c for c in ALL if c.kind == kind][0]


def chosen():
    """The trackers a parametrised suite runs against: all of them, or
    those PBSYNC_E2E_TRACKERS names (\"gitlab github\")."""
    want = os.environ.get("PBSYNC_E2E_TRACKERS", "").replace(",", " ")
    return [c for c in ALL if not want.split() or c.kind in want.split()]


def each(tap, suite, **stack_kw):
    """Runs suite(s, tr) once per chosen tracker, each time on a fresh
    Stack(tracker=..., **stack_kw) whose Productboard token and tracker
    users are seeded, the tracker's title in front of every check; then
    ends the TAP stream.  A suite that raises fails one check and the
    next tracker still runs."""
    from harness import Stack
    from fixtures import PB_TOKEN
    for cls in chosen():
        tap.prefix = cls.title + ": "
        s = None
        try:
            s = Stack(tracker=cls.kind, **stack_kw)
            s.pb.call("POST", "/_double/tokens", {"token": PB_TOKEN})
            s.tr.seed()
            suite(s, s.tr)
        except Exception:
            tap.ok(False, "the suite ran to its end", traceback.format_exc())
        finally:
            if s is not None:
                s.stop(tap)
    tap.prefix = ""
    tap.done()
