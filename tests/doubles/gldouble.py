#!/usr/bin/env python3
"""A faithful double of the GitLab REST API v4 as pbsync uses it
(shared/reference/gittab-api.md §7): token auth, projects by id or encoded
path, issues (create, get, edit, delete, list and search), project hooks,
and Issue Hook deliveries after every create, edit, close and reopen, the
service's own writes included.  Test control under /_double/ (see
double.py), plus:

  POST /_double/users      {"token","id","username","name","projects":
                            {"1001": "maintainer"}}
  POST /_double/projects   {"id","path_with_namespace","name"}
  POST|PUT|DELETE /_double/projects/ID/issues[/IID]   a human's edit
                           (PUT takes "as_user": username)
  POST /_double/projects/ID/issues/IID/move  {"to_project"}
Settings: duplicate_deliveries, reorder_deliveries, deliver,
timestamp_format (iso|utc|offset), hook_url_blocked,
rate_limit_per_min, issue_create_per_min.
"""
import re
import time
import urllib.parse

from double import Double, Reply, main, new_id

LEVELS = {"guest": 10, "reporter": 20, "developer": 30, "maintainer": 40,
          "owner": 50}
HOOK_EVENTS = ("push_events", "issues_events", "confidential_issues_events",
               "note_events", "confidential_note_events", "tag_push_events",
               "merge_requests_events", "pipeline_events", "job_events",
               "wiki_page_events", "releases_events", "deployment_events")


def msg(status, text):
    return Reply(status, {"message": text})


class GitLab(Double):
    defaults = dict(Double.defaults, duplicate_deliveries=0,
                    reorder_deliveries=False, timestamp_format="iso",
                    hook_url_blocked=False, rate_limit_per_min=0,
                    issue_create_per_min=0)

    def reset_state(self):
        self.users = {}
        self.projects = {}
        self.issues = {}            # global id -> issue
        self.hooks = {}             # hook id -> hook
        self.next_id = 1000
        self.windows = {}
        self.held = []              # deliveries held back to reorder

    def state(self):
        return {"issues": [self.issue_view(i) for i in self.issues.values()],
                "hooks": list(self.hooks.values()),
                "projects": list(self.projects.values())}

    def error_body(self, status):
        return {"message": "%d %s" % (status, {
            500: "Internal Server Error", 503: "Service Unavailable",
            429: "Retry later"}.get(status, "Error"))}

    def fault_reply(self, f):
        r = super().fault_reply(f)
        if f["status"] == 429:
            r.body = f.get("body", "Retry later")
            r.headers.setdefault("Retry-After", "60")
        return r

    # -- seeding -----------------------------------------------------------------
    def add_user(self, u):
        self.users[u["token"]] = dict(u, projects={str(k): v for k, v in
                                                   u.get("projects", {}).items()})

    def add_project(self, p):
        pid = int(p["id"])
        self.projects[pid] = {
            "id": pid, "path_with_namespace": p["path_with_namespace"],
            "name": p.get("name", p["path_with_namespace"].split("/")[-1]),
            "web_url": "%s/%s" % (self.base_url, p["path_with_namespace"]),
            "issues_enabled": p.get("issues_enabled", True), "next_iid": 1}

    def seed(self, data):
        for p in data.get("projects", []):
            self.add_project(p)
        for u in data.get("users", []):
            self.add_user(u)

    def sandbox(self):
        self.add_project({"id": 1001, "path_with_namespace": "sandbox/demo"})
        self.add_user({"token": "gl-sandbox-token", "id": 1,
                       "username": "sandbox", "name": "Sandbox Bot",
                       "projects": {"1001": "maintainer"}})
        print("sandbox token: gl-sandbox-token; project 1001 sandbox/demo",
              flush=True)

    # -- time formats of deliveries (gittab-api.md §5.3) ---------------------------
    def stamp(self, t):
        fmt = self.config.get("timestamp_format", "iso")
        if fmt == "utc":
            return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))
        if fmt == "offset":
            return time.strftime("%Y-%m-%d %H:%M:%S +0100",
                                 time.gmtime(t + 3600))
        return self.iso(t)

    # -- issues ---------------------------------------------------------------------
    def issue_view(self, i):
        p = self.projects[i["project_id"]]
        v = {k: i[k] for k in ("id", "iid", "project_id", "title",
                               "description", "state", "labels",
                               "moved_to_id", "confidential", "assignees")}
        v.update(created_at=self.iso(i["created"]),
                 updated_at=self.iso(i["updated"]),
                 closed_at=self.iso(i["closed"]) if i["closed"] else None,
                 web_url="%s/-/issues/%d" % (p["web_url"], i["iid"]),
                 references={"short": "#%d" % i["iid"],
                             "full": "%s#%d" % (p["path_with_namespace"],
                                                i["iid"])},
                 type="ISSUE", issue_type="issue")
        return v

    def create_issue(self, pid, b, actor):
        p = self.projects[pid]
        self.next_id += 1
        now = self.now()
        labels = [x.strip() for x in (b.get("labels") or "").split(",")
                  if x.strip()]
        i = {"id": self.next_id, "iid": p["next_iid"], "project_id": pid,
             "title": b["title"], "description": b.get("description"),
             "state": "opened", "labels": labels, "moved_to_id": None,
             "confidential": bool(b.get("confidential")), "assignees": [],
             "created": now, "updated": now, "closed": None}
        p["next_iid"] += 1
        self.issues[i["id"]] = i
        self.emit(i, "open", {k: {"previous": None, "current": v} for k, v in
                              (("title", i["title"]),
                               ("description", i["description"]))}, actor)
        return i

    def edit_issue(self, i, b, actor):
        changes, action = {}, "update"
        for k in ("title", "description"):
            if k in b and b[k] != i[k]:
                changes[k] = {"previous": i[k], "current": b[k]}
                i[k] = b[k]
        labels = list(i["labels"])
        if "labels" in b:
            labels = [x.strip() for x in (b["labels"] or "").split(",")
                      if x.strip()]
        for x in (b.get("add_labels") or "").split(","):
            if x.strip() and x.strip() not in labels:
                labels.append(x.strip())
        rm = [x.strip() for x in (b.get("remove_labels") or "").split(",")]
        labels = [x for x in labels if x not in rm]
        if labels != i["labels"]:
            changes["labels"] = {"previous": [{"title": x} for x in i["labels"]],
                                 "current": [{"title": x} for x in labels]}
            i["labels"] = labels
        ev = b.get("state_event")
        if ev == "close" and i["state"] == "opened":
            i["state"], i["closed"], action = "closed", self.now(), "close"
            changes["state_id"] = {"previous": 1, "current": 2}
        elif ev == "reopen" and i["state"] == "closed":
            i["state"], i["closed"], action = "opened", None, "reopen"
            changes["state_id"] = {"previous": 2, "current": 1}
        if changes:
            prev = i["updated"]
            i["updated"] = max(self.now(), prev + 0.001)
            changes["updated_at"] = {"previous": self.stamp(prev),
                                     "current": self.stamp(i["updated"])}
            self.emit(i, action, changes, actor)
        return i

    # -- deliveries (gittab-api.md §5) ------------------------------------------------
    def emit(self, i, action, changes, actor):
        p = self.projects[i["project_id"]]
        conf = i["confidential"]
        attrs = {k: v for k, v in self.issue_view(i).items()
                 if k not in ("labels", "references", "web_url")}
        attrs.update(action=action, url="%s/-/issues/%d" % (p["web_url"],
                                                           i["iid"]),
                     state_id=1 if i["state"] == "opened" else 2,
                     created_at=self.stamp(i["created"]),
                     updated_at=self.stamp(i["updated"]),
                     closed_at=self.stamp(i["closed"]) if i["closed"] else None,
                     labels=[{"title": x, "type": "ProjectLabel"}
                             for x in i["labels"]])
        body = {"object_kind": "issue",
                "event_type": "confidential_issue" if conf else "issue",
                "user": {"id": actor["id"], "name": actor.get("name", ""),
                         "username": actor["username"], "email": "[REDACTED]"},
                "project": {"id": p["id"], "name": p["name"],
                            "path_with_namespace": p["path_with_namespace"],
                            "web_url": p["web_url"]},
                "object_attributes": attrs, "labels": attrs["labels"],
                "changes": changes}
        key = new_id()
        for h in self.hooks.values():
            if h["project_id"] != p["id"] or not h["issues_events" if not conf
                                                  else "confidential_issues_events"]:
                continue
            if h["alert_status"] != "executable" or not self.config.get(
                    "deliver", True):
                continue    # GitLab drops events of a disabled hook
            headers = {"X-Gitlab-Event": "Confidential Issue Hook" if conf
                       else "Issue Hook", "X-Gitlab-Instance": self.base_url,
                       "X-Gitlab-Event-UUID": new_id(),
                       "X-Gitlab-Webhook-UUID": new_id(),
                       "Idempotency-Key": key, "User-Agent": "GitLab/18.6.0"}
            if h.get("token"):
                headers["X-Gitlab-Token"] = h["token"]
            for _ in range(1 + int(self.config.get("duplicate_deliveries", 0))):
                item = ("hook:%d" % h["id"], h["url"], headers, body)
                if self.config.get("reorder_deliveries"):
                    self.held.append(item)
                    if len(self.held) >= 2:
                        for x in reversed(self.held):
                            self.deliver(*x)
                        self.held = []
                else:
                    self.deliver(*item)

    def delivered(self, kind, url, ok):
        """The auto-disable counters of gittab-api.md §5.6."""
        hid = int(kind.split(":")[1]) if kind.startswith("hook:") else None
        with self.lock:
            h = self.hooks.get(hid)
            if h is None:
                return
            h["failures"] = 0 if ok else h["failures"] + 1
            if h["failures"] >= 40:
                h["alert_status"] = "disabled"
            elif h["failures"] >= 4:
                h["alert_status"] = "temporarily_disabled"

    def idle(self):
        with self.lock:
            if self.held and not self.config.get("reorder_deliveries"):
                for x in self.held:
                    self.deliver(*x)
                self.held = []
        return super().idle()

    # -- control -------------------------------------------------------------------
    def control(self, req):
        p, m, b = req.path, req.method, req.body or {}
        if p == "/_double/users" and m == "POST":
            self.add_user(b)
            return Reply(201, b)
        if p == "/_double/projects" and m == "POST":
            self.add_project(b)
            return Reply(201, self.projects[int(b["id"])])
        mm = re.fullmatch(r"/_double/projects/(\d+)/issues(?:/(\d+))?(/move)?", p)
        if not mm or int(mm.group(1)) not in self.projects:
            return Reply(404, {"error": "unknown control route"})
        pid = int(mm.group(1))
        actor = self.user_named(b.get("as_user")) or {"id": 1, "username":
                                                      "human", "name": "Human"}
        if m == "POST" and not mm.group(2):
            return Reply(201, self.issue_view(self.create_issue(pid, b, actor)))
        i = self.find_issue(pid, int(mm.group(2) or 0))
        if i is None:
            return Reply(404, {"message": "404 Issue Not Found"})
        if mm.group(3):
            to = int(b["to_project"])
            new = self.create_issue(to, {"title": i["title"], "description":
                                         i["description"]}, actor)
            i["moved_to_id"] = new["id"]
            self.edit_issue(i, {"state_event": "close"}, actor)
            return Reply(201, self.issue_view(new))
        if m == "PUT":
            return Reply(200, self.issue_view(self.edit_issue(i, b, actor)))
        if m == "DELETE":
            del self.issues[i["id"]]
            return Reply(204)
        return Reply(405, {"error": "method"})

    def user_named(self, name):
        for u in self.users.values():
            if u["username"] == name:
                return u
        return None

    def find_issue(self, pid, iid):
        for i in self.issues.values():
            if i["project_id"] == pid and i["iid"] == iid:
                return i
        return None

    # -- API ---------------------------------------------------------------------
    def limited(self, key, per_min):
        if not per_min:
            return False
        now = time.time()
        w = [t for t in self.windows.get(key, []) if t > now - 60]
        if len(w) >= per_min:
            self.windows[key] = w
            return True
        self.windows[key] = w + [now]
        return False

    def api(self, req):
        with self.lock:
            if not req.path.startswith("/api/v4/"):
                return Reply(404, {"error": "404 Not Found"})
            tok = req.headers.get("private-token") or (
                req.headers.get("authorization", "")[7:]
                if req.headers.get("authorization", "").startswith("Bearer ")
                else None)
            user = self.users.get(tok)
            if user is None:
                return msg(401, "401 Unauthorized")
            if self.limited("all:" + tok, self.config.get("rate_limit_per_min")):
                reset = int(time.time()) + 60
                return Reply(429, "Retry later", {
                    "Retry-After": "60", "RateLimit-Limit":
                    str(self.config["rate_limit_per_min"]),
                    "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset),
                    "RateLimit-ResetTime": time.strftime(
                        "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(reset))})
            if isinstance(req.body, Exception):
                return Reply(400, {"error": "body is not valid JSON"})
            r = self.route(req, user)
            r.headers.setdefault("RateLimit-Limit", "2000")
            return r

    def project_for(self, raw, user):
        """Numeric id or URL-encoded path, matched on the raw path."""
        pid = None
        if raw.isdigit():
            pid = int(raw)
        else:
            path = urllib.parse.unquote(raw)
            for p in self.projects.values():
                if p["path_with_namespace"] == path:
                    pid = p["id"]
        if pid not in self.projects or str(pid) not in user["projects"]:
            return None, 0
        return self.projects[pid], LEVELS.get(user["projects"][str(pid)], 0)

    def route(self, req, user):
        parts = req.raw_path[len("/api/v4/"):].split("/")
        if parts == ["user"]:
            return Reply(200, {k: user[k] for k in ("id", "username", "name")})
        if parts[0] != "projects" or len(parts) < 2:
            return Reply(404, {"error": "404 Not Found"})
        p, level = self.project_for(parts[1], user)
        if p is None:
            return msg(404, "404 Project Not Found")
        rest = parts[2:]
        if not rest and req.method == "GET":
            v = {k: p[k] for k in ("id", "path_with_namespace", "name",
                                   "web_url")}
            v["permissions"] = {"project_access": {"access_level": level},
                                "group_access": None}
            return Reply(200, v)
        if rest[:1] == ["issues"]:
            return self.issues_route(req, user, p, level, rest[1:])
        if rest[:1] == ["hooks"]:
            if level < 40:
                return msg(403, "403 Forbidden")
            return self.hooks_route(req, p, rest[1:])
        return Reply(404, {"error": "404 Not Found"})

    def issues_route(self, req, user, p, level, rest):
        b = req.body if isinstance(req.body, dict) else {}
        if not p["issues_enabled"]:
            return msg(403, "403 Forbidden")
        if not rest:
            if req.method == "POST":
                if not b.get("title"):
                    return Reply(400, {"error": "title is missing"})
                if len(b["title"]) > 255:
                    return msg(400, {"title": ["is too long (maximum is 255 "
                                               "characters)"]})
                if len(b.get("description") or "") > 1048576:
                    return msg(400, {"description": ["is too long (maximum "
                                                     "is 1048576 characters)"]})
                if self.limited("create:" + str(user["id"]), self.config.get(
                        "issue_create_per_min")):
                    return msg(429, {"error": "This endpoint has been "
                                     "requested too many times. Try again "
                                     "later."})
                return Reply(201, self.issue_view(self.create_issue(
                    p["id"], b, user)))
            if req.method == "GET":
                return self.list_issues(req, p)
            return Reply(405, {"error": "405 Method Not Allowed"})
        if not rest[0].isdigit():
            return Reply(400, {"error": "issue_iid is invalid"})
        i = self.find_issue(p["id"], int(rest[0]))
        if i is None:
            return msg(404, "404 Issue Not Found")
        if req.method == "GET":
            return Reply(200, self.issue_view(i))
        if req.method == "PUT":
            known = ("title", "description", "labels", "add_labels",
                     "remove_labels", "state_event", "assignee_ids",
                     "due_date", "milestone_id", "confidential")
            if not any(k in b for k in known):
                return Reply(400, {"error": "title, description, ... are "
                                   "missing, at least one parameter must be "
                                   "provided"})
            return Reply(200, self.issue_view(self.edit_issue(i, b, user)))
        if req.method == "DELETE":
            if level < 50:
                return msg(403, "403 Forbidden")
            del self.issues[i["id"]]
            return Reply(204)
        return Reply(405, {"error": "405 Method Not Allowed"})

    def list_issues(self, req, p):
        q = {k: v[-1] for k, v in req.query.items()}
        out = [i for i in self.issues.values() if i["project_id"] == p["id"]]
        iids = req.query.get("iids[]")
        if iids:
            out = [i for i in out if str(i["iid"]) in iids]
        if q.get("state") in ("opened", "closed"):
            out = [i for i in out if i["state"] == q["state"]]
        if q.get("search"):
            fields = (q.get("in") or "title,description").split(",")
            out = [i for i in out if any(q["search"].lower() in
                                         (i.get(f) or "").lower()
                                         for f in fields)]
        out.sort(key=lambda i: i["id"])
        per = min(int(q.get("per_page", 20)), 100)
        page = int(q.get("page", 1))
        total = len(out)
        chunk = out[(page - 1) * per:page * per]
        nxt = str(page + 1) if page * per < total else ""
        return Reply(200, [self.issue_view(i) for i in chunk], {
            "X-Page": str(page), "X-Per-Page": str(per), "X-Total": str(total),
            "X-Total-Pages": str(max(1, -(-total // per))),
            "X-Next-Page": nxt})

    def hooks_route(self, req, p, rest):
        b = req.body if isinstance(req.body, dict) else {}
        if not rest and req.method == "POST":
            if not b.get("url"):
                return Reply(400, {"error": "url is missing"})
            if self.config.get("hook_url_blocked"):
                return Reply(422, {"error": "Invalid url given"})
            self.next_id += 1
            h = {"id": self.next_id, "project_id": p["id"], "url": b["url"],
                 "name": b.get("name", ""), "token": b.get("token"),
                 "enable_ssl_verification": b.get("enable_ssl_verification",
                                                  True),
                 "alert_status": "executable", "failures": 0,
                 "created_at": self.iso()}
            for e in HOOK_EVENTS:
                h[e] = bool(b.get(e, e == "push_events"))
            self.hooks[h["id"]] = h
            return Reply(201, self.hook_view(h))
        if not rest:
            return Reply(200, [self.hook_view(h) for h in self.hooks.values()
                               if h["project_id"] == p["id"]])
        h = self.hooks.get(int(rest[0])) if rest[0].isdigit() else None
        if h is None or h["project_id"] != p["id"]:
            return msg(404, "404 Hook Not Found")
        if rest[1:] == ["test", "issues_events"] and req.method == "POST":
            h["alert_status"], h["failures"] = "executable", 0
            return Reply(201, {"message": "201 Created"})
        if req.method == "DELETE":
            del self.hooks[h["id"]]
            return Reply(204)
        if req.method == "PUT":
            if not b.get("url"):
                return Reply(400, {"error": "url is missing"})
            if b["url"] != h["url"]:
                h["token"] = None       # changing the URL clears the token
            h.update({k: v for k, v in b.items() if k in HOOK_EVENTS or
                      k in ("url", "name", "token")})
        return Reply(200, self.hook_view(h))

    def hook_view(self, h):
        v = {k: val for k, val in h.items() if k not in ("token", "failures")}
        v["token_present"] = bool(h.get("token"))
        return v


if __name__ == "__main__":
    main(GitLab(), "GitLab REST v4 test double")
