"""The tracker side of the end-to-end suites, one adapter per tracker
double: the suites that run once per tracker (test_trackers.py) talk to
the issue tracker only through these, so the same test code holds every
backend to the same behaviour.

An adapter seeds its double (pbsync's bot with the rights the backend
needs, a human who edits), names the project as the admin would give it,
and reads and edits issues as a person in the tracker's web UI does."""
import copy
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

    # What Productboard's column shows for a closed issue.
    closed_label = "Closed"
    # A delete in the tracker reaches pbsync as a delivery (else only a
    # reconcile finds it).
    sends_delete = False

    def form_options(self):
        """The admin form's fields for the tracker's own settings."""
        return {}

    @staticmethod
    def actionable(body, words):
        """What in body the tracker would act on, of words written in
        Productboard (a mention, a reference): in Markdown, the words
        left as they were."""
        return [w for w in words if w in body]

    @staticmethod
    def shows(body, how, text):
        """True if body, the tracker's text, shows text as how ("bold",
        "item": a list item)."""
        return {"bold": "**%s**", "item": "- %s"}[how] % text in body

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

    def writes_to(self, number):
        """pbsync's writes to issue number of this adapter's project
        (writes() counts that number in every project of the double)."""
        path = self.issue_path(number)
        return [r for r in self.all_writes() if r["path"] == path or
                r["path"].startswith(path + "/")]

    def edits_to(self, number):
        """pbsync's edits of issue number of this project, each counted
        once however many calls the tracker needs for it: a write of the
        issue itself, or a run of writes of its labels (GitHub changes
        labels a call at a time, after the PATCH of the other fields or
        alone)."""
        path = self.issue_path(number)
        writes = {r["seq"] for r in self.writes_to(number)}
        n, prev = 0, False
        for r in sorted(self.api(pattern="^%s(/|$)" % re.escape(path)),
                        key=lambda r: r["seq"]):
            w = r["seq"] in writes
            if w and (r["path"] == path or not prev):
                n += 1
            prev = w
        return n

    def edit_call(self, number, **fields):
        """The control call edit(number, **fields) makes, as a double's
        fault takes it in "then": a person's edit landing right after the
        request the fault matched."""
        rec = copy.copy(self)
        rec.d = _Recording()
        rec.edit(number, **fields)
        return rec.d.calls[0]


class _Recording:
    """Stands in for a double: keeps the control calls made to it."""

    def __init__(self):
        self.calls = []

    def call(self, method, path, body=None):
        self.calls.append({"method": method, "path": path, "body": body})


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
    # Creates and lists (the marker search) of the project's issues.
    issues_fault = r"(GET|POST) /api/v4/projects/\d+/issues$"
    api_root = "/api/v4/"  # every API path starts with it
    # The header whose value pbsync deduplicates deliveries on.
    dedupe_header = "Idempotency-Key"
    # A secret header, not a signature over the body: pbsync keeps only
    # its hash, and a body changed on the way still passes.
    signs_body = False
    update_method = "PUT"       # how pbsync writes an issue
    # updated_at has milliseconds: an edit 10 ms after another is later.
    clock_resolution = 0.001
    # The job error pbsync records when the double answers a write 500.
    server_error = "gitlab answered 500: 500 Internal Server Error"
    # The header naming a delivery's event, and an event pbsync
    # acknowledges and ignores.
    event_header, ignored_event = "X-Gitlab-Event", "Push Hook"

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

    def issue_path(self, number):
        """The API path of an issue of this adapter's project."""
        return "/api/v4/projects/%d/issues/%d" % (self.pid, number)

    def add_project(self, name):
        """Another project, where the bot and the human have the roles
        seed() gave them in this one: an adapter working in it."""
        st = self.d.call("GET", "/_double/state")
        other = copy.copy(self)
        other.project = name
        other.pid = max(p["id"] for p in st["projects"]) + 1
        self.d.call("POST", "/_double/projects", {
            "id": other.pid, "path_with_namespace": name,
            "name": name.split("/")[-1]})
        for u in st["users"]:
            role = u["projects"].get(str(self.pid))
            if role is not None:
                self.d.call("POST", "/_double/users", dict(u, projects=dict(
                    u["projects"], **{str(other.pid): role})))
        return other

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

    @staticmethod
    def delivery_number(body):
        """The issue number a recorded delivery's body is about."""
        return ((body or {}).get("object_attributes") or {}).get("iid")

    def resend(self, delivery):
        """A failed delivery sent again as the admin would (GitLab does
        not retry: "Resend request", the same bytes and headers); returns
        pbsync's answer."""
        from faultkit import replay
        return replay(self.s, delivery).status


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
    issues_fault = r"(GET|POST) /repos/[^/]+/[^/]+/issues$"
    api_root = "/"
    dedupe_header = "X-GitHub-Delivery"
    # X-Hub-Signature-256 is an HMAC of the exact body: pbsync keeps the
    # secret sealed (it needs it back), and a changed body is refused.
    signs_body = True
    sends_delete = True         # the issues event, action deleted
    update_method = "PATCH"
    # updated_at in whole seconds: an edit is later only in a later
    # second (the API shows no finer time).
    clock_resolution = 1.0
    server_error = "github answered 500: Server Error"
    event_header, ignored_event = "X-GitHub-Event", "ping"

    def __init__(self, stack):
        super().__init__(stack)
        self.d = stack.gh

    def seed(self):
        # Once: a second POST would make a second repository of that name.
        if self._repo_id() is None:
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

    def issue_path(self, number):
        return "/repos/%s/issues/%d" % (self.project, number)

    def add_project(self, name):
        other = copy.copy(self)
        other.project = name
        self.d.call("POST", "/_double/repos", {"full_name": name,
                                               "private": True})
        for tok, login, role in ((self.token, BOT, "admin"),
                                 (self.human_token, HUMAN, "push")):
            self.d.call("POST", "/_double/users", {
                "login": login, "token": tok, "repos": {name: role}})
        return other

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
        raw = body if isinstance(body, bytes) else body.encode()
        mac = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
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

    @staticmethod
    def delivery_number(body):
        return ((body or {}).get("issue") or {}).get("number")

    def rest(self, method, path):
        """A call to the double's REST API as pbsync's bot: (status, JSON)."""
        import urllib.request
        req = urllib.request.Request(self.url() + path, method=method,
                                     data=b"" if method == "POST" else None,
                                     headers={
            "Authorization": "Bearer " + self.token,
            "Accept": "application/vnd.github+json",
            "User-Agent": "pbsync-e2e"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw, st = r.read(), r.status
        except urllib.error.HTTPError as e:
            raw, st = e.read(), e.code
        return st, json.loads(raw) if raw.strip() else None

    def resend(self, delivery):
        """A failed delivery sent again as the admin would: GitHub does
        not retry; "Redeliver" (the REST redelivery API) sends the same
        bytes, signature and X-GitHub-Delivery.  Returns pbsync's answer
        to the redelivery (None when there was none)."""
        hooks = "/repos/%s/hooks/%s/deliveries" % (self.project,
                                                   delivery["hook_id"])
        st, items = self.rest("GET", hooks + "?per_page=100")
        first = [d["id"] for d in items or [] if st == 200 and
                 d["guid"] == delivery["guid"] and not d["redelivery"]]
        if not first:
            return None
        seen = {d["seq"] for d in self.d.call("GET", "/_double/deliveries")}
        st, _ = self.rest("POST", "%s/%d/attempts" % (hooks, first[0]))
        self.d.call("POST", "/_double/wait", {"deliveries_idle": True,
                                              "timeout": 20})
        again = [d for d in self.d.call("GET", "/_double/deliveries")
                 if d["seq"] not in seen and d.get("guid") ==
                 delivery["guid"] and d.get("redelivery")]
        return again[-1]["status"] if st == 202 and again else None


class Jira(Tracker):
    kind, title = "jira", "Jira"
    token, human_token = "ATATT3x-test-token-0123456789", \
        "ATATT3x-human-token-0123456789"
    email, human_email = "pbsync-bot@example.com", "alice@example.com"
    project = "PROJ"
    auth_header = "X-Hub-Signature"
    newline = "<br/>"      # the editor keeps a single newline as a break
    create_match = r"^POST /rest/api/3/issue$"
    write_match = r"^(PUT /rest/api/3/issue/\d+|POST /rest/api/3/issue/" \
        r"\d+/transitions)$"
    update_fault = "PUT /rest/api/3/issue/.*"
    read_fault = r"GET /rest/api/3/issue/\d+(\?|$)"
    issues_fault = r"POST /rest/api/3/(issue|search/jql)$"
    api_root = "/rest/"
    dedupe_header = "X-Atlassian-Webhook-Identifier"
    signs_body = True
    update_method = "PUT"
    clock_resolution = 0.001
    event_header, ignored_event = None, None

    closed_label = "Done"  # the workflow's status, as Jira names it
    sends_delete = True    # jira:issue_deleted

    def form_options(self):
        return {"tracker_opt0": self.email}

    @staticmethod
    def actionable(body, words):
        """ADF text is text: what Jira acts on are nodes (a mention, an
        emoji, a card, a status) and they must not appear."""
        found = []

        def walk(n):
            if isinstance(n, list):
                for x in n:
                    walk(x)
            elif isinstance(n, dict):
                if n.get("type") in ("mention", "emoji", "inlineCard",
                                     "status", "date"):
                    found.append(n.get("type"))
                walk(n.get("content") or [])
        try:
            walk(json.loads(body))
        except ValueError:
            return ["not ADF"]
        return found

    def __init__(self, stack):
        super().__init__(stack)
        self.d = stack.jr

    @staticmethod
    def shows(body, how, text):
        """In the ADF document: a text node with the strong mark, or
        one in a list item."""
        def walk(n, in_item):
            if isinstance(n, list):
                return any(walk(x, in_item) for x in n)
            if not isinstance(n, dict):
                return False
            if n.get("type") == "text" and n.get("text") == text:
                marks = [m.get("type") for m in n.get("marks") or []]
                return "strong" in marks if how == "bold" else in_item
            return walk(n.get("content") or [], in_item or
                        n.get("type") == "listItem")
        try:
            return walk(json.loads(body), False)
        except ValueError:
            return False

    def integration_args(self):
        return super().integration_args() + ("--option",
                                             "email=" + self.email)

    def seed(self):
        self.d.call("POST", "/_double/projects", {"key": self.project,
                                                  "name": "Project"})
        for email, tok, name, admin, role in (
                (self.email, self.token, BOT, True, "member"),
                (self.human_email, self.human_token, HUMAN, False,
                 "member")):
            self.d.call("POST", "/_double/users", {
                "email": email, "api_token": tok, "display_name": name,
                "admin": admin, "projects": {self.project: role}})

    def url(self):
        return self.d.url

    def _state(self):
        return self.d.call("GET", "/_double/state")

    def _raw(self, number):
        for i in self._state()["issues"]:
            if i["key"] == "%s-%d" % (self.project, number):
                return i
        return None

    def issues(self):
        """The ADF document as JSON text is the body: the tracker's own
        text, as GitLab's Markdown is theirs."""
        users = {u["accountId"]: u["displayName"]
                 for u in self._state()["users"]}
        return [{"number": int(i["key"].split("-")[1]), "id": i["id"],
                 "title": i["summary"],
                 "body": json.dumps(i["description"])
                 if i.get("description") else "",
                 "state": "closed" if i["status"]["category"] == "done"
                 else "open", "status": i["status"]["name"],
                 "labels": list(i.get("labels") or []),
                 "author": users.get(i.get("reporter"))}
                for i in self._state()["issues"]
                if i["project"] == self.project and not i.get("deleted")]

    def edit(self, number, title=None, body=None, state=None, labels=None,
             status=None):
        b = {"as_user": self.human_email}
        if title is not None:
            b["summary"] = title
        if body is not None:
            try:
                doc = json.loads(body)
            except ValueError:
                doc = None
            b["description"] = doc if isinstance(doc, dict) else body
        if labels is not None:
            b["labels"] = labels
        if state is not None:
            b["status"] = "Done" if state == "closed" else "In Progress"
        if status is not None:
            b["status"] = status
        self.d.call("PUT", "/_double/issues/%s-%d" % (self.project,
                                                      number), b)

    def delete(self, number):
        """Deleted in the UI: Jira sends jira:issue_deleted."""
        self.d.call("DELETE", "/_double/issues/%s-%d?as_user=%s" % (
            self.project, number, self.human_email))

    def issue_path(self, number):
        i = self._raw(number)
        return "/rest/api/3/issue/%s" % (i["id"] if i else "none")

    def writes(self, number):
        path = self.issue_path(number)
        return [r for r in self.all_writes() if r["path"] == path or
                r["path"] == path + "/transitions"]

    def hooks(self):
        return self._state()["webhooks"]

    def hook_secret_sent(self, hook):
        return hook.get("secret")

    def signed(self, hook, body, good=True):
        secret = self.hook_secret_sent(hook)
        mac = hmac.new(secret.encode(), body.encode(),
                       hashlib.sha256).hexdigest()
        if not good:
            mac = mac[::-1]
        return {"X-Hub-Signature": "sha256=" + mac,
                "X-Atlassian-Webhook-Identifier": "id-%s" % mac[:12],
                "Content-Type": "application/json"}

    def delivery_body(self, issue_id, number):
        return json.dumps({"timestamp": 1, "webhookEvent":
                           "jira:issue_updated", "issue": {
                               "id": str(issue_id),
                               "key": "%s-%d" % (self.project, number)}})


ALL = (GitLab, GitHub)
# Trackers a suite runs only when PBSYNC_E2E_TRACKERS names them.
NAMED_ONLY = (Jira,)
EVERY = ALL + NAMED_ONLY


def by_kind(kind):
    return [c for c in ALL + NAMED_ONLY if c.kind == kind][0]


def chosen():
    """The trackers a parametrised suite runs against: all of them, or
    those PBSYNC_E2E_TRACKERS names (\"gitlab github\")."""
    want = os.environ.get("PBSYNC_E2E_TRACKERS", "").replace(",", " ")
    if not want.split():
        return list(ALL)
    return [c for c in ALL + NAMED_ONLY if c.kind in want.split()]


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
