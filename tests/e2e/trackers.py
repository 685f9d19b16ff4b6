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
    max_title = 255             # characters of a title the tracker keeps
    # A delete in the tracker reaches pbsync as a delivery (else only a
    # reconcile finds it).
    sends_delete = False

    def form_options(self, human=False):
        """The admin form's fields for the tracker's own settings (with
        human: those of the human's token, where a setting says whose the
        token is)."""
        return {}

    # The states the admin form offers for a Productboard status (the
    # values of its select), and the ways back it offers besides open and
    # closed (a workflow's statuses, then their categories): the default
    # project's.  named_state: a state of the tracker's own to choose
    # (None where open and closed are all there is).
    state_choices = ["opened", "closed"]
    back_choices = []
    named_state = None
    # What pbsync says of a status map naming a state the tracker does
    # not have ("Shipped"), to the tracker and back to Productboard.
    unknown_state_says = "must map to open or closed"
    unknown_back_says = "The status mapping is not valid"
    # The tracker lets a person set the webhook up by hand (for a token
    # that may not register one): hook_by_hand_token is such a token,
    # add_hook() what an administrator does in the tracker's settings.
    hook_by_hand = False
    hook_by_hand_token = None
    # A setting of the form that an edit may not change (field, value),
    # or None.
    fixed_option = None

    def add_hook(self, name, url, events, jql, secret):
        """The webhook a tracker administrator creates in its settings with
        what pbsync's page says (events in the tracker's words); returns
        its id."""
        raise NotImplementedError

    @staticmethod
    def actionable(body, words):
        """What in body the tracker would act on, of words written in
        Productboard (a mention, a reference): in Markdown, the words
        left as they were."""
        return [w for w in words if w in body]

    @staticmethod
    def shows(body, how, text):
        """True if body, the tracker's text, shows text as how ("bold",
        "item": a list item; "top": the heading the text starts with)."""
        if how == "top":
            return body.startswith("# %s" % text)
        return {"bold": "**%s**", "item": "- %s"}[how] % text in body

    @staticmethod
    def marked(body, fid):
        """True if body carries pbsync's hidden marker of feature fid."""
        return "<!-- pbsync:feature=%s -->" % fid in body

    @staticmethod
    def notifies(body, name):
        """True if body would notify name: "@name" left as written (not
        in a code span, broken by a zero-width space, nor escaped)."""
        at = "@" + name
        return at in body.replace("`%s`" % at, "").replace(
            "@\u200b" + name, "") and "\\" + at not in body

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

    # The tracker retries a delivery pbsync answered 5xx by itself (else
    # only its admin sends it again: resend()).
    retries_deliveries = False
    # The status of a successful write of an issue.
    write_status = 200
    # The Retry-After (s) of the double's 503, as the service's own 503
    # carries one (pbsync then waits that long, not its backoff), or None.
    unavailable_retry_after = None

    def credential(self):
        """What pbsync sends as the token, and keys the token's
        rate-limit pause on (faultkit.token_hash)."""
        return self.token

    def creates(self):
        """pbsync's issue creates, in order."""
        return [r for r in self.api("POST") if re.search(
            self.create_match, "POST " + r["path"])]

    @staticmethod
    def key_number(key):
        """The issue number in a link's issue_key (GitLab "#5", GitHub
        "acme/widgets#5", Jira "PROJ-5"), or None."""
        m = re.search(r"(\d+)$", key or "")
        return int(m.group(1)) if m else None

    def ignored_delivery(self, hook):
        """(headers, body) of a delivery of an event pbsync acknowledges
        and ignores, signed as the tracker signs it: here the event is
        named in a header."""
        body = "{}"
        return dict(self.signed(hook, body), **{
            self.event_header: self.ignored_event}), body

    def ignored_body(self, body):
        """body made one of an event pbsync acknowledges and ignores when
        sent with ignored_event: here the header says so, body is kept."""
        return body

    # The tracker acts on mentions and references in titles too, so
    # pbsync breaks them there (title_shown()); elsewhere only in bodies.
    mentions_in_titles = False
    # The tracker runs commands written in a description (GitLab's quick
    # actions): quick_actions_run() says which ran.
    quick_actions = False
    # An issue moved to another project stays linked (pbsync follows the
    # move); elsewhere a move or a transfer ends the link.
    moves_keep_link = False
    # A move out of the project reaches pbsync as a delivery (else only a
    # reconcile finds it).
    sends_move = True
    # The characters of a description pbsync writes to the tracker (its
    # limit in src/trackers).
    max_description = None
    # Deliveries (delivery_headers()): the event of an issue change, in
    # event_header; the User-Agent; a delivery the tracker sent
    # (tests/data/payloads); and two bodies pbsync refuses: one without
    # the issue's ids, one with ids of the wrong type.
    issue_event = hook_agent = sample = None
    delivery_no_ids = delivery_bad_ids = None
    # The header in which older versions of the tracker sent the delivery
    # key, read when dedupe_header is missing or empty (None: none).
    old_key_header = None
    # Another event carrying issue changes, and a delivery of it (None:
    # the tracker has one event for every issue).
    confidential_event = confidential_sample = None
    # Where a delivery (a dict) has, by dotted path, the tracker's id of
    # the issue and its description; the (path, value) that says the
    # issue left the project (delivery_about(..., gone=True)), in words,
    # and as the job pbsync queues says it.
    delivery_id_at, delivery_text_at = "issue.id", None
    delivery_gone = gone_what = gone_says = None
    # What Productboard's column shows for an issue just made.
    open_label = "Open"

    @staticmethod
    def create_title(body):
        """The title a create request's body (a dict, creates()) gives
        the issue."""
        return body.get("title")

    def title_shown(self, name):
        """The title the issue of a feature named name has."""
        return name

    def hook_switch(self, on):
        """(method, body) of the call to hook_api() that turns the
        webhook off (or on again) without deleting it; None where the
        tracker has no such switch."""
        return None

    # The project's webhooks in the tracker's API, a regular expression
    # on the path as a double's fault matches it ("METHOD path"): a POST
    # to it creates one, a DELETE of it + "/<id>" removes one.
    hook_path = None
    # What pbsync says when the token cannot create the webhook (the
    # backend's need_hook in src/trackers, without the project).
    need_hook = None
    # The double's fault (status, body, headers) for the tracker refusing
    # the bot the webhook's creation for want of a right.
    hook_refusal = {"status": 403}

    def refuse_hook_urls(self, on):
        """The tracker refuses (on) the URL of the webhook pbsync creates,
        a loopback one, as the hosted service does: 422 to the creation;
        off clears the double's faults."""
        if on:
            self.d.call("POST", "/_double/faults", {
                "match": "POST %s$" % self.hook_path, "status": 422,
                "count": -1})
        else:
            self.d.call("DELETE", "/_double/faults")

    def hook_asked(self, body):
        """What pbsync's request to create the webhook (its body, a dict)
        asked for, to compare with hook_wants() (the secret aside:
        hook_secret_sent())."""
        raise NotImplementedError

    def hook_wants(self, url):
        """What the request creating the webhook must ask for, url its
        delivery URL."""
        raise NotImplementedError

    def titles_of(self, ids):
        """The titles of the issues with these tracker ids, in whatever
        project they are now."""
        return [i["title"] for i in self.d.call("GET", "/_double/state")[
            "issues"] if i["id"] in ids]

    def sample_delivery(self, name=None):
        """A delivery the tracker sent (tests/data/payloads: name, else
        the adapter's sample), as a dict."""
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "..", "data", "payloads", name or self.sample)
        with open(path) as f:
            return json.load(f)

    def secret_header(self, value, raw=b""):
        """The header that gives value as the webhook's secret for a
        delivery of raw (bytes): the value itself, or where the tracker
        signs bodies the HMAC-SHA256 of raw with it."""
        if not self.signs_body:
            return {self.auth_header: value}
        mac = hmac.new(value.encode(), raw or b"", hashlib.sha256)
        return {self.auth_header: "sha256=" + mac.hexdigest()}

    def delivery_headers(self, raw, secret=None, key=None, event=None,
                         old_key=None):
        """The headers of a delivery of raw (bytes) as the tracker sends
        it, each part chosen: secret, the hook's secret or another value,
        in secret_header() (None: no such header); key in dedupe_header
        (None: none); event in event_header (None: issue_event); old_key
        in old_key_header where the tracker has one (True: "e-" and the
        key; None: none)."""
        h = {"User-Agent": self.hook_agent}
        if self.event_header is not None:
            h[self.event_header] = event or self.issue_event
        if key is not None:
            h[self.dedupe_header] = key
        if self.old_key_header is not None and old_key:
            h[self.old_key_header] = "e-%s" % key if old_key is True \
                else old_key
        if secret is not None:
            h.update(self.secret_header(secret, raw))
        return h

    @staticmethod
    def _field(p, path, value=None):
        """The field of p at a dotted path; set to value first unless it
        is None (with the objects on the way)."""
        *up, last = path.split(".")
        for k in up:
            p = p[k] if value is None else p.setdefault(k, {})
        if value is not None:
            p[last] = value
        return p[last]

    def delivery_issue_id(self, payload):
        """The tracker's id of the issue a delivery (a dict) is about."""
        return str(self._field(payload, self.delivery_id_at))

    def delivery_about(self, payload, issue_id, gone=False, text=None):
        """A copy of a delivery (a dict) about another issue (its tracker
        id); gone: saying that the issue left the project (gone_what);
        text: with that description."""
        p = copy.deepcopy(payload)
        self._field(p, self.delivery_id_at, issue_id)
        if gone:
            self._field(p, *self.delivery_gone)
        if text is not None:
            self._field(p, self.delivery_text_at, text)
        return p


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

    hook_path = r"/api/v4/projects/[^/]+/hooks"
    need_hook = "GitLab token cannot create project hooks: it needs the " \
        "Maintainer role"

    def refuse_hook_urls(self, on):
        """The double's switch: hook URLs on the local network answered
        422, as GitLab does unless its admin allows them."""
        self.d.call("POST", "/_double/config", {"hook_url_blocked": on})

    @staticmethod
    def hook_asked(body):
        return {k: body.get(k) for k in ("url", "issues_events",
                                         "confidential_issues_events",
                                         "push_events")}

    @staticmethod
    def hook_wants(url):
        return {"url": url, "issues_events": True,
                "confidential_issues_events": True, "push_events": False}

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

    # Titles are parsed for mentions and references too: pbsync puts a
    # word joiner after each '@' and '#' of a title.
    mentions_in_titles = True
    quick_actions = True
    moves_keep_link = True      # the link follows the issue (moved_to_id)
    max_description = 1 << 20   # MAX_DESC, src/trackers/gitlab.c
    issue_event, hook_agent = "Issue Hook", "GitLab/18.6.0"
    sample = "gitlab-issue-hook-close.json"
    delivery_no_ids = {"object_kind": "issue", "object_attributes": {}}
    delivery_bad_ids = {"object_kind": "issue", "object_attributes": {
        "id": "1", "iid": 1, "project_id": 2}}
    old_key_header = "X-Gitlab-Event-UUID"      # before GitLab 17.4
    confidential_event = "Confidential Issue Hook"
    confidential_sample = \
        "gitlab-confidential-issue-hook-update-description.json"
    delivery_id_at = "object_attributes.id"
    delivery_text_at = "object_attributes.description"
    # A move names the issue it became.
    delivery_gone = ("object_attributes.moved_to_id", 999)
    gone_what, gone_says = "moved to issue 999", '"moved_to":"999"'

    def key_of(self, number):
        """How the tracker names issue number in its project, as the
        Productboard column's hover label shows it (key_number() reads
        it back)."""
        return "#%d" % number

    def web_url(self, number):
        """The issue's page in the tracker's web UI."""
        return [i for i in self.d.call("GET", "/_double/state")["issues"]
                if i.get("project_id") == self.pid and
                i["iid"] == number][0]["web_url"]

    def title_shown(self, name):
        return name.replace("@", "@\u2060").replace("#", "#\u2060")

    def quick_actions_run(self, number):
        """The quick actions GitLab ran on issue number ({issue, command,
        argument} as the double records them)."""
        st = self.d.call("GET", "/_double/state")
        ids = {i["id"] for i in st["issues"] if i.get("project_id") ==
               self.pid and i["iid"] == number}
        return [c for c in st["quick_actions"] if c["issue"] in ids]

    def hook_api(self, hid):
        """(URL, headers) of the webhook pbsync registered (its id hid)
        as its owner reaches it in the tracker's API (a person in the
        web UI does the same)."""
        return ("%s/api/v4/projects/%d/hooks/%s" % (self.url(), self.pid,
                                                    hid),
                {"PRIVATE-TOKEN": self.token})

    def open_issue(self, title, body, as_user=HUMAN):
        """An issue a person opens in this project in the web UI: its
        {number, id}."""
        i = self.d.call("POST", "/_double/projects/%d/issues" % self.pid, {
            "title": title, "description": body, "as_user": as_user})
        return {"number": i["iid"], "id": i["id"]}

    def bare_project(self, name):
        """Another project as its admin makes it, where nobody has a role
        yet (grant() gives them): an adapter working in it."""
        other = copy.copy(self)
        other.project, other.pid = name, 1 + max(p["id"] for p in self.d.call(
            "GET", "/_double/state")["projects"])
        self.d.call("POST", "/_double/projects", {
            "id": other.pid, "name": name.split("/")[-1],
            "path_with_namespace": name})
        return other

    def grant(self, user, token, places, role):
        """user, with token, gets role on each of places (adapters) and
        on no other project: "admin" (here Maintainer) or "write"
        (Developer).  A user the double knows keeps its id."""
        known = [u["id"] for u in self.d.call("GET", "/_double/state")[
            "users"] if u["token"] == token]
        u = {"token": token, "username": user, "name": user, "projects": {
            str(p.pid): {"admin": "maintainer", "write": "developer"}[role]
            for p in places}}
        if known:
            u["id"] = known[0]
        self.d.call("POST", "/_double/users", u)

    def move(self, number, to, as_user):
        """as_user moves issue number to the project of adapter to."""
        return self.d.call("POST", "/_double/projects/%d/issues/%d/move" % (
            self.pid, number), {"to_project": to.pid, "as_user": as_user})

    def holds(self, issue_ref):
        """True if a link's issue_ref ("project id/iid") is of this
        project."""
        return issue_ref.split("/")[0] == str(self.pid)


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
    max_title = 256
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

    hook_path = r"/repos/[^/]+/[^/]+/hooks"
    # A fine-grained token without Webhooks: write.  The double's own 403
    # is a secondary rate limit (Retry-After: 60), which pbsync would
    # honour, so the fault's blank Retry-After makes it a plain refusal.
    hook_refusal = {"status": 403, "headers": {"Retry-After": ""}, "body": {
        "message": "Resource not accessible by personal access token",
        "documentation_url": "https://docs.github.com/rest/repos/webhooks"
        "#create-a-repository-webhook", "status": "403"}}
    need_hook = "GitHub token cannot create repository webhooks (it " \
        "needs admin access"

    @staticmethod
    def hook_asked(body):
        cfg = body.get("config") or {}
        return {"url": cfg.get("url"), "events": body.get("events"),
                "active": body.get("active"),
                "content_type": cfg.get("content_type"),
                "insecure_ssl": cfg.get("insecure_ssl")}

    @staticmethod
    def hook_wants(url):
        return {"url": url, "events": ["issues"], "active": True,
                "content_type": "json", "insecure_ssl": "0"}

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

    max_description = 65536     # MAX_BODY, src/trackers/github.c
    issue_event, hook_agent = "issues", "GitHub-Hookshot/5f3c2a1"
    sample = "github-issues-closed.json"
    delivery_no_ids = {"action": "edited", "issue": {}}
    delivery_bad_ids = {"action": "edited", "issue": {"id": "1",
                                                      "number": 1}}
    delivery_text_at = "issue.body"
    # A transferred issue is gone for pbsync, as a deleted one.
    delivery_gone = ("action", "transferred")
    gone_what, gone_says = "transferred", '"deleted":true'

    def key_of(self, number):
        return "%s#%d" % (self.project, number)

    def web_url(self, number):
        return "%s/%s/issues/%d" % (self.url(), self.project, number)

    def hook_api(self, hid):
        return ("%s/repos/%s/hooks/%s" % (self.url(), self.project, hid),
                {"Authorization": "Bearer " + self.token,
                 "User-Agent": "a person",
                 "Accept": "application/vnd.github+json",
                 "X-GitHub-Api-Version": "2022-11-28"})

    def hook_switch(self, on):
        """A repository webhook has "active"."""
        return "PATCH", {"active": on}

    def open_issue(self, title, body, as_user=HUMAN):
        i = self.d.call("POST", "/_double/repos/%s/issues" % self.project,
                        {"title": title, "body": body, "as_user": as_user})
        return {"number": i["number"], "id": i["id"]}

    def bare_project(self, name):
        """Another repository, where nobody has a role yet."""
        other = copy.copy(self)
        other.project = name
        self.d.call("POST", "/_double/repos", {"full_name": name,
                                               "private": True})
        return other

    def grant(self, user, token, places, role):
        """"admin" is the admin role, "write" push."""
        self.d.call("POST", "/_double/users", {
            "login": user, "token": token, "repos": {
                p.project: {"admin": "admin", "write": "push"}[role]
                for p in places}})

    def move(self, number, to, as_user):
        """A transfer to the repository of adapter to."""
        return self.d.call("POST", "/_double/repos/%s/issues/%d/transfer" % (
            self.project, number), {"to": to.project, "as_user": as_user})


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

    def form_options(self, human=False):
        return {"tracker_opt0": self.human_email if human else self.email}

    state_choices = ["opened", "closed", "To Do", "In Progress", "Done"]
    back_choices = ["To Do", "In Progress", "Done", "new", "indeterminate",
                    "done"]
    named_state = "In Progress"
    unknown_state_says = "is not a status of the Jira workflow"
    unknown_back_says = "nor one of its status categories (new, " \
        "indeterminate, done)"
    # Only a Jira administrator registers webhooks; alice is none.
    hook_by_hand = True
    hook_by_hand_token = human_token
    fixed_option = ("tracker_opt1", "Bug")   # the issue type

    def add_hook(self, name, url, events, jql, secret):
        """A Jira administrator (the bot) creates the admin webhook in
        System, WebHooks: "Issue: created, updated, deleted" are the
        jira:issue_* events."""
        import base64
        import urllib.request
        kind, _, which = events.partition(":")
        body = {"name": name, "url": url, "events": [
            "jira:%s_%s" % (kind.strip().lower(), w.strip())
            for w in which.split(",")],
            "filters": {"issue-related-events-section": jql},
            "excludeBody": False, "secret": secret}
        auth = base64.b64encode(("%s:%s" % (self.email, self.token))
                                .encode()).decode()
        req = urllib.request.Request(
            self.url() + "/rest/webhooks/1.0/webhook", method="POST",
            data=json.dumps(body).encode(), headers={
                "Authorization": "Basic " + auth,
                "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())["self"].rsplit("/", 1)[1]

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
        """In the ADF document: a text node with the strong mark, one in
        a list item, or (top) the document's first node a level-1
        heading of that text alone."""
        if how == "top":
            try:
                first = (json.loads(body).get("content") or [{}])[0]
            except (ValueError, AttributeError):
                return False
            return first.get("type") == "heading" and \
                (first.get("attrs") or {}).get("level") == 1 and \
                first.get("content") == [{"type": "text", "text": text}]

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

    @staticmethod
    def marked(body, fid):
        """pbsync's footer as src/convert/adf.c writes it, the document's
        end: a rule, the paragraph linking to the feature, then a
        paragraph of one code-marked text node, "pbsync:feature=<id>"."""
        try:
            end = json.loads(body).get("content")[-3:]
        except (ValueError, AttributeError, TypeError):
            return False
        if len(end) != 3:
            return False
        lead = (end[1].get("content") or [{}])[0]
        return end[0].get("type") == "rule" and \
            end[1].get("type") == "paragraph" and \
            (lead.get("text") or "").startswith(
                "Linked to the Productboard feature ") and \
            end[2] == {"type": "paragraph", "content": [{
                "type": "text", "text": "pbsync:feature=%s" % fid,
                "marks": [{"type": "code"}]}]}

    @staticmethod
    def notifies(body, name):
        """Jira notifies through mention nodes, never through text: any
        mention node (or a body that is not ADF) would."""
        return bool([n for n in Jira.actionable(body, ()) if n in (
            "mention", "not ADF")])

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

    hook_path = r"/rest/webhooks/1\.0/webhook"
    need_hook = "Jira account is not a Jira administrator"

    @staticmethod
    def hook_asked(body):
        return {"url": body.get("url"), "excludeBody": body.get("excludeBody")}

    @staticmethod
    def hook_wants(url):
        return {"url": url, "excludeBody": False}

    def signed(self, hook, body, good=True):
        secret = self.hook_secret_sent(hook)
        raw = body if isinstance(body, bytes) else body.encode()
        mac = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
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

    # The job error pbsync records when the double answers a write 500.
    server_error = "jira answered 500"
    write_status = 200          # PUT /issue/{id}?returnIssue=true
    unavailable_retry_after = 1

    def credential(self):
        """Basic auth of the account's e-mail and API token."""
        import base64
        return base64.b64encode(("%s:%s" % (self.email, self.token))
                                .encode()).decode()
    # Jira retries a delivery answered 408, 409, 425, 429 or 5xx itself
    # (the same bytes, X-Atlassian-Webhook-Identifier, and
    # X-Atlassian-Webhook-Retry: 1, 2, ...); it has no resend button.
    retries_deliveries = True

    def ignored_delivery(self, hook):
        """Jira names the event in the body (webhookEvent); a comment's
        is acknowledged and ignored."""
        body = self.ignored_body("{}")
        return self.signed(hook, body), body

    def ignored_body(self, body):
        """A comment's event, whatever body was."""
        return json.dumps({"timestamp": 1, "webhookEvent": "comment_created",
                           "comment": {"id": "10000", "body": "a comment"},
                           "issue": {"id": "10001",
                                     "key": self.project + "-1"}})

    @staticmethod
    def delivery_number(body):
        key = ((body or {}).get("issue") or {}).get("key") or ""
        m = re.fullmatch(r"[A-Z][A-Z0-9_]*-(\d+)", key)
        return int(m.group(1)) if m else None

    def issues_of(self, fid):
        """The issues carrying the feature's marker: in ADF a text node
        of its own (code), "pbsync:feature=<id>" and nothing more."""
        mark = json.dumps("pbsync:feature=%s" % fid)
        return [i for i in self.issues() if mark in i["body"]]

    def add_project(self, name):
        """Another project, its key the letters and digits of name's last
        part in upper case ("grp/pbwins": PBWINS), where the bot and the
        human have the permissions seed() gave them in this one: an
        adapter working in it."""
        other = copy.copy(self)
        short = name.split("/")[-1]
        other.project = re.sub(r"[^A-Z0-9]", "", short.upper())[:10]
        self.d.call("POST", "/_double/projects", {"key": other.project,
                                                  "name": short})
        for u in self._state()["users"]:
            perms = (u.get("projects") or {}).get(self.project)
            if perms is not None:
                self.d.call("POST", "/_double/users", {
                    "email": u["email"], "projects": {other.project: perms}})
        return other

    def attempts(self, delivery):
        """Once the double's retries of a delivery are over: every
        attempt of it (its X-Atlassian-Webhook-Identifier), in order, as
        pbsync answered them (None: no answer)."""
        self.d.call("POST", "/_double/wait", {"deliveries_idle": True,
                                              "timeout": 30})
        return [d["status"] for d in sorted(
            self.d.call("GET", "/_double/deliveries"), key=lambda d: d["seq"])
            if d.get("identifier") == delivery.get("identifier")]

    def resend(self, delivery):
        """A delivery sent again as Jira sends it again: once its own
        retries are over (attempts()), one more retry of the same bytes,
        signature and identifier, as Jira's at-least-once delivery sends
        when pbsync's acknowledgement was lost; returns pbsync's answer."""
        import urllib.parse
        n = len(self.attempts(delivery))
        # The double logs the body parsed; Jira's compact JSON gives the
        # signed bytes back.
        body = delivery["body"] if isinstance(delivery["body"], str) else \
            json.dumps(delivery["body"], separators=(",", ":"))
        keep = {k: v for k, v in delivery["headers"].items() if k.lower()
                not in ("host", "content-length", "connection")}
        keep["x-atlassian-webhook-retry"] = str(n)
        return self.s.request("POST", urllib.parse.urlsplit(
            delivery["url"]).path, body, keep).status

    max_description = 32767     # MAX_DESCRIPTION, src/trackers/jira.c
    # Jira names the event in the body (webhookEvent), not in a header.
    issue_event, hook_agent = "jira:issue_updated", \
        "Atlassian Webhook HTTP Client"
    delivery_no_ids = {"timestamp": 1, "webhookEvent": "jira:issue_updated",
                       "issue": {}}
    delivery_bad_ids = {"timestamp": 1, "webhookEvent":
                        "jira:issue_updated", "issue": {"id": "PROJ-1",
                                                        "key": 1}}

    def key_of(self, number):
        return "%s-%d" % (self.project, number)

    def web_url(self, number):
        return "%s/browse/%s" % (self.url(), self.key_of(number))

    open_label = "To Do"   # the workflow's first status

    @staticmethod
    def create_title(body):
        return (body.get("fields") or {}).get("summary")

    delivery_text_at = "issue.fields.description"
    # A moved issue leaves the project: gone for pbsync, as a deleted one.
    delivery_gone = ("webhookEvent", "jira:issue_deleted")
    gone_what, gone_says = "deleted", '"deleted":true'

    def sample_delivery(self, name=None):
        """tests/data/payloads keeps no Jira delivery: one as the double
        sends it for an edit of issue 1 (only the fields pbsync reads)."""
        return json.loads(self.delivery_body(10001, 1))

    def titles_of(self, ids):
        return [i["summary"] for i in self._state()["issues"]
                if i["id"] in ids]

    def hook_api(self, hid):
        """Admin webhooks, Basic auth (the bot is a Jira admin)."""
        import base64
        auth = base64.b64encode(("%s:%s" % (self.email, self.token))
                                .encode()).decode()
        return ("%s/rest/webhooks/1.0/webhook/%s" % (self.url(), hid),
                {"Authorization": "Basic " + auth})

    def hook_switch(self, on):
        """An admin webhook has "enabled"."""
        return "PUT", {"enabled": on}

    def open_issue(self, title, body, as_user=HUMAN):
        i = self.d.call("POST", "/_double/issues", {
            "project": self.project, "summary": title, "description": body,
            "as_user": as_user})
        return {"number": i["number"], "id": i["id"]}

    def bare_project(self, name):
        """Another project (its key made of name as add_project() makes
        it), where nobody has a permission yet."""
        other = copy.copy(self)
        other.project = re.sub(r"[^A-Z0-9]", "", name.split("/")[-1]
                               .upper())[:10]
        self.d.call("POST", "/_double/projects", {
            "key": other.project, "name": name.split("/")[-1]})
        return other

    def grant(self, user, token, places, role):
        """"admin" is every project permission, "write" a member's
        (browse, create, edit, transition); Jira adds them to the user's
        other projects."""
        email = {BOT: self.email, HUMAN: self.human_email}.get(
            user, user + "@example.com")
        self.d.call("POST", "/_double/users", {
            "email": email, "api_token": token, "display_name": user,
            "projects": {p.project: {"admin": "admin", "write": "member"}[
                role] for p in places}})

    def move(self, number, to, as_user):
        """Moved to the project of adapter to (Jira's Move): a new key
        there, the id kept."""
        return self.d.call("POST", "/_double/issues/%s/move" % self.key_of(
            number), {"to_project": to.project, "as_user": as_user})

    # A moved issue has left the integration's project: gone for pbsync,
    # the link ends (src/trackers/jira.c answer_issue).  The webhook's
    # JQL (project = ...) matches the issue where it is now, so Jira
    # sends pbsync nothing for the move: a reconcile finds it.
    moves_keep_link = False
    sends_move = False


ALL = (GitLab, GitHub)
# Trackers a suite runs only when PBSYNC_E2E_TRACKERS names them, or
# with every: the e2e time of the test command is shared out.
NAMED_ONLY = (Jira,)
EVERY = ALL + NAMED_ONLY


def by_kind(kind):
    return [c for c in ALL + NAMED_ONLY if c.kind == kind][0]


def chosen(every=False):
    """The trackers a parametrised suite runs against: all of them (with
    every, the named-only ones too), or those PBSYNC_E2E_TRACKERS names
    (\"gitlab github\")."""
    want = os.environ.get("PBSYNC_E2E_TRACKERS", "").replace(",", " ")
    if not want.split():
        return list(EVERY if every else ALL)
    return [c for c in ALL + NAMED_ONLY if c.kind in want.split()]


def each(tap, suite, every=False, **stack_kw):
    """Runs suite(s, tr) once per chosen tracker (with every, the
    named-only ones too), each time on a fresh Stack(tracker=...,
    **stack_kw) whose Productboard token and tracker users are seeded,
    the tracker's title in front of every check; then ends the TAP
    stream.  A suite that raises fails one check and the next tracker
    still runs."""
    from harness import Stack
    from fixtures import PB_TOKEN
    for cls in chosen(every):
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
