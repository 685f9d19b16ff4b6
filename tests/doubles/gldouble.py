#!/usr/bin/env python3
"""A faithful double of the GitLab REST API v4, as pbsync uses it.

Contract: shared/reference/gittab-api.md, §7 "What a faithful test double
of GitLab must do", and the real deliveries in payloads/gitlab-*.json
(the Issue Hook bodies here have the same shape and keys).  Served under
/api/v4:

  token auth (PRIVATE-TOKEN or Bearer), projects by id or URL-encoded
  path (on the raw path), issues (create, get, edit, delete, list with
  filters and pagination headers, move), project hooks (incl. the test
  endpoint), Rack::Attack and issue-creation rate limits.

Deliveries: after every create, edit, close or reopen (API or control,
so pbsync sees its own writes come back), the Issue Hook POST to each
matching hook, in order from a background thread, 10 s timeout, with the
§5.6 auto-disable counters.  No webhook on delete.  Shared control API:
double.py; GitLab's own control routes: README.md.
"""
import copy
import math
import re
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

from double import (Double, Refused, Reply, form_dict, http_date, iso_time,
                    is_local_host, main, new_uuid, ok_status, parse_time,
                    url_problem, with_query)

VERSION = "18.6.0"
LEVELS = {"guest": 10, "planner": 15, "reporter": 20, "developer": 30,
          "maintainer": 40, "owner": 50}
HOOK_EVENTS = ("push_events", "issues_events", "confidential_issues_events",
               "merge_requests_events", "tag_push_events", "note_events",
               "confidential_note_events", "job_events", "pipeline_events",
               "wiki_page_events", "deployment_events", "releases_events",
               "emoji_events", "resource_access_token_events",
               "feature_flag_events", "member_events", "project_events",
               "milestone_events", "vulnerability_events")
EDITABLE = ("title", "description", "assignee_id", "assignee_ids",
            "confidential", "created_at", "discussion_locked", "due_date",
            "labels", "add_labels", "remove_labels", "milestone_id",
            "state_event", "updated_at", "weight", "epic_id", "epic_iid",
            "issue_type")
TOO_MANY = {"message": {"error": "This endpoint has been requested too many "
                                 "times. Try again later."}}
TODO_STATUS = {"id": "gid://gitlab/WorkItems::Statuses::SystemDefined::"
                     "Status/1", "name": "To do", "category": "to_do",
               "description": None, "color": "#737278"}
ROOT = {"id": 1, "username": "root", "name": "Administrator", "projects": {}}
# Fields of REST issues and hook object_attributes the double never varies.
ISSUE_CONSTANTS = {
    "user_notes_count": 0, "merge_requests_count": 0, "upvotes": 0,
    "downvotes": 0, "severity": "UNKNOWN", "has_tasks": False,
    "task_completion_status": {"count": 0, "completed_count": 0},
    "time_stats": {"time_estimate": 0, "total_time_spent": 0,
                   "human_time_estimate": None,
                   "human_total_time_spent": None}}
HOOK_CONSTANTS = {
    "duplicated_to_id": None, "time_estimate": 0, "weight": None,
    "health_status": None, "type": "Issue", "total_time_spent": 0,
    "time_change": 0, "human_total_time_spent": None,
    "human_time_change": None, "human_time_estimate": None,
    "severity": "unknown", "customer_relations_contacts": []}
TIME_KEYS = ("created_at", "updated_at", "closed_at", "last_edited_at")


def message(status, msg):
    return Reply(status, {"message": msg})


def error(status, msg):
    return Reply(status, {"error": msg})


def fail(reply):
    return Refused(reply, str(reply.data))


def too_long(field, n):
    return fail(message(400, {field: ["is too long (maximum is %d "
                                      "characters)" % n]}))


# -- parameters: query string, form fields or JSON, all accepted ----------

def params_of(req):
    p = form_dict(req.pairs)
    if isinstance(req.body, dict):
        p.update(req.body)
    return p


def to_bool(v, name):
    if isinstance(v, bool):
        return v
    if str(v).lower() in ("true", "1", "yes"):
        return True
    if str(v).lower() in ("false", "0", "no"):
        return False
    raise fail(error(400, "%s is invalid" % name))


def to_int(v, name):
    if isinstance(v, bool) or not re.fullmatch(r"-?\d+", str(v).strip()):
        raise fail(error(400, "%s is invalid" % name))
    return int(v)


def to_list(v):
    """Labels and ids: a comma-separated string or a list."""
    items = v if isinstance(v, list) else str(v or "").split(",")
    return [str(x).strip() for x in items if str(x).strip()]


# Quick actions (docs/user/project/quick_actions.md): GitLab runs a line
# "/command [argument]" of a description the API receives, as the caller,
# and drops the line; lines inside a ``` block, an HTML block or a >>>
# quote are text (Gitlab::QuickActions::Extractor).  The commands the double
# knows act; every one found is recorded for the tests to see.
QUICK_ACTIONS = ("close", "reopen", "title", "label", "unlabel", "relabel",
                 "assign", "unassign", "confidential", "lock", "unlock",
                 "move", "clone", "due", "remove_due_date", "estimate",
                 "spend", "milestone", "remove_milestone", "copy_metadata",
                 "duplicate", "promote", "create_merge_request", "todo",
                 "done", "subscribe", "unsubscribe", "award", "shrug",
                 "tableflip", "weight", "epic", "iteration", "health_status")
_QA_SKIP = re.compile(r"^```.+?\n```$|^<[^>]+?>\n.+?\n</[^>]+?>$|"
                      r"^>>>.+?\n>>>$", re.M | re.S)
_QA_LINE = re.compile(r"^/(%s)(?: ([^\n]*))?(?:[ \t]*\n|$)" %
                      "|".join(QUICK_ACTIONS), re.M | re.I)


def quick_actions(text):
    """(text without its command lines, [(command, argument)])."""
    out, found, pos = [], [], 0
    for m in _QA_SKIP.finditer(text):
        out.append(_QA_LINE.sub(lambda c: found.append(
            (c.group(1).lower(), c.group(2) or "")) or "", text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_QA_LINE.sub(lambda c: found.append(
        (c.group(1).lower(), c.group(2) or "")) or "", text[pos:]))
    return "".join(out), found


class GitLab(Double):
    name = "gitlab"
    user_agent = "GitLab/" + VERSION
    defaults = dict(
        Double.defaults,
        rate_limit_per_min=2000,     # Rack::Attack, per user; 0 = off
        issue_create_per_min=200,    # application limit; 0 = off
        test_hook_per_min=5,         # POST .../hooks/:id/test/:trigger
        hook_url_blocked=False,      # local-network hook URLs -> 422
        timestamp_format="iso",      # webhook dates: iso | utc | offset
        close_then_update=False,     # a close also sends an update
        rewrite_uploads=True,        # /uploads/ links absolute in hooks
        hook_timeout=10,             # seconds
        auto_disable_unit_s=60)      # "1 minute" of the §5.6 backoff

    def reset_state(self):
        self.users = {}              # token -> user
        self.projects = {}           # id -> project
        self.issues = {}             # global id -> issue
        self.labels = {}             # project id -> {title: label}
        self.hooks = {}              # id -> hook
        self.ids = {"issue": 5000, "hook": 0, "label": 8000, "project": 1000}
        self.windows = {}            # rate-limit key -> (minute, count)
        self.commands = []           # quick actions run: {issue, command}

    def state(self):
        return {"users": list(self.users.values()),
                "projects": list(self.projects.values()),
                "issues": [self.issue_view(i) for i in self.issues.values()],
                "hooks": [dict(h, alert_status=self.alert_status(h))
                          for h in self.hooks.values()],
                "labels": {str(k): list(v.values())
                           for k, v in self.labels.items()},
                "quick_actions": list(self.commands),
                "config": self.config}

    def next_id(self, kind):
        self.ids[kind] += 1
        return self.ids[kind]

    # -- seeding ---------------------------------------------------------
    def add_user(self, u):
        if not u.get("token") or not u.get("username"):
            raise fail(error(400, "need token and username"))
        roles = {str(k): LEVELS[v] if v in LEVELS else int(v)
                 for k, v in (u.get("projects") or {}).items()}
        self.users[u["token"]] = {
            "id": int(u.get("id") or 100 + len(self.users)),
            "username": u["username"], "name": u.get("name", u["username"]),
            "email": u.get("email", u["username"] + "@example.com"),
            "token": u["token"], "projects": roles}
        return self.users[u["token"]]

    def add_project(self, p):
        pid = int(p.get("id") or self.next_id("project"))
        path = p.get("path_with_namespace") or "group/project-%d" % pid
        self.projects[pid] = {
            "id": pid, "path_with_namespace": path,
            "name": p.get("name", path.split("/")[-1]),
            "description": p.get("description", ""),
            "issues_enabled": bool(p.get("issues_enabled", True)),
            "old_paths": [], "next_iid": 1, "created_at": time.time()}
        self.labels.setdefault(pid, {})
        return self.projects[pid]

    def seed(self, data):
        with self.lock:
            super().seed(data)
            for p in data.get("projects") or []:
                self.add_project(p)
            for u in data.get("users") or []:
                self.add_user(u)
            for h in data.get("hooks") or []:
                self.add_hook(self.projects[int(h["project_id"])], h)
            for i in data.get("issues") or []:
                self.create_issue(self.projects[int(i["project_id"])], i,
                                  self.actor(i.get("as_user")))

    def sandbox(self):
        with self.lock:
            self.add_project({"id": 1001, "path_with_namespace":
                              "sandbox/demo", "name": "demo"})
            self.add_user({"token": "gl-sandbox-token", "id": 42,
                           "username": "sandbox", "name": "Sandbox User",
                           "projects": {"1001": "maintainer"}})
        return ["GitLab sandbox: PRIVATE-TOKEN gl-sandbox-token (user "
                "sandbox, Maintainer); project 1001 sandbox/demo; API "
                "%s/api/v4" % self.base_url]

    # -- views -----------------------------------------------------------
    def web_url(self, p):
        return "%s/%s" % (self.base_url, p["path_with_namespace"])

    def user_by_id(self, uid):
        if uid == ROOT["id"]:
            return ROOT
        return next((u for u in self.users.values() if u["id"] == uid), None)

    def user_brief(self, u):
        return {"id": u["id"], "username": u["username"], "name": u["name"],
                "state": "active", "locked": False,
                "avatar_url": self.avatar(u),
                "web_url": "%s/%s" % (self.base_url, u["username"])}

    def avatar(self, u):
        return "%s/uploads/-/system/user/avatar/%d/avatar.png" % (
            self.base_url, u["id"])

    def issue_view(self, i):
        """The REST issue of §3.2 (ISO times with ms, label strings)."""
        p = self.projects[i["project_id"]]
        api = "%s/api/v4/projects/%d" % (self.base_url, p["id"])
        ref = "#%d" % i["iid"]
        users = [self.user_by_id(x) for x in i["assignee_ids"]]
        briefs = [self.user_brief(u) for u in users if u]
        closer = self.user_by_id(i["closed_by_id"])
        t = lambda k: iso_time(i[k]) if i[k] else None
        own = "%s/issues/%d" % (api, i["iid"])
        v = {k: i[k] for k in ("id", "iid", "project_id", "title",
                               "description", "state", "due_date",
                               "confidential", "discussion_locked",
                               "issue_type", "moved_to_id")}
        v.update(
            created_at=t("created_at"), updated_at=t("updated_at"),
            closed_at=t("closed_at"),
            closed_by=self.user_brief(closer) if closer else None,
            labels=sorted(i["labels"]), assignees=briefs,
            assignee=briefs[0] if briefs else None,
            author=self.user_brief(self.user_by_id(i["author_id"]) or ROOT),
            milestone=None if i["milestone_id"] is None else {
                "id": i["milestone_id"], "iid": i["milestone_id"],
                "project_id": p["id"], "state": "active",
                "title": "Milestone %d" % i["milestone_id"]},
            type=i["issue_type"].upper(),
            web_url="%s/-/issues/%d" % (self.web_url(p), i["iid"]),
            references={"short": ref, "relative": ref,
                        "full": p["path_with_namespace"] + ref},
            _links={"self": own, "notes": own + "/notes", "project": api,
                    "award_emoji": own + "/award_emoji",
                    "closed_as_duplicate_of": None}, **ISSUE_CONSTANTS)
        return v

    def project_view(self, p, level):
        return {"id": p["id"], "name": p["name"],
                "description": p["description"],
                "path": p["path_with_namespace"].split("/")[-1],
                "path_with_namespace": p["path_with_namespace"],
                "name_with_namespace": p["path_with_namespace"].replace(
                    "/", " / "),
                "created_at": iso_time(p["created_at"]),
                "default_branch": "main", "visibility": "private",
                "web_url": self.web_url(p),
                "issues_enabled": p["issues_enabled"],
                "permissions": {"project_access": {
                    "access_level": level, "notification_level": 3},
                    "group_access": None}}

    # -- the API ---------------------------------------------------------
    def fault_reply(self, status, req):
        if status == 429:
            return self.throttled(int(self.cfg("rate_limit_per_min")), 0,
                                  int(time.time()) + 1)
        if status in (502, 503, 504):     # the load balancer's HTML page
            return Reply(status, "<!DOCTYPE html><html><head><title>GitLab "
                         "is not responding (%d)</title></head><body><h1>%d"
                         "</h1></body></html>" % (status, status),
                         ctype="text/html; charset=utf-8")
        text = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden",
                404: "Not Found", 409: "Conflict", 422: "Unprocessable "
                "Entity"}.get(status, "Internal Server Error")
        return message(status, "%d %s" % (status, text))

    def api(self, req):
        if not req.path.startswith("/api/v4/"):
            return error(404, "404 Not Found")
        fn, groups = self.routes.match(req.method, req.path[len("/api/v4"):])
        if fn is None:
            return error(405, "405 Not Allowed") if groups else \
                error(404, "404 Not Found")
        with self.lock:
            user = self.user_of(req)
            if user is None:
                return message(401, "401 Unauthorized")
            limited, headers = self.throttle(user)
        if limited:
            return limited
        if req.malformed:
            return message(400, "400 Bad request - the body is not valid "
                           "JSON")
        try:
            reply = fn(req, *groups, user)
        except Refused as e:
            reply = e.reply
        if not reply.bare:
            for k, v in headers.items():
                reply.set_default(k, v)
        return reply

    def user_of(self, req):
        h = req.headers
        token = h.get("private-token") or req.q("private_token")
        scheme, _, bearer = h.get("authorization", "").partition(" ")
        if not token and scheme.lower() == "bearer":
            token = bearer.strip()
        return self.users.get(token) if token else None

    def window(self, key, limit):
        """Fixed one-minute window (Rack::Attack): (count, reset time)."""
        now = time.time()
        minute = int(now // 60)
        m, n = self.windows.get(key, (minute, 0))
        n = n + 1 if m == minute else 1
        self.windows[key] = (minute, n)
        return n, (minute + 1) * 60

    def throttle(self, user):
        limit = int(self.config["rate_limit_per_min"] or 0)
        if not limit:
            return None, {}
        n, reset = self.window(("api", user["id"]), limit)
        if n > limit:
            return self.throttled(limit, n, reset), {}
        return None, {"RateLimit-Name": "throttle_authenticated_api",
                      "RateLimit-Limit": str(limit),
                      "RateLimit-Observed": str(n),
                      "RateLimit-Remaining": str(limit - n),
                      "RateLimit-Reset": str(reset)}

    def throttled(self, limit, observed, reset):
        """§2: 429, plain text `Retry later`, RateLimit-* + Retry-After."""
        return Reply(429, "Retry later\n", {
            "RateLimit-Name": "throttle_authenticated_api",
            "RateLimit-Limit": str(limit),
            "RateLimit-Observed": str(observed),
            "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset),
            "RateLimit-ResetTime": http_date(reset),
            "Retry-After": str(max(1, reset - int(time.time())))},
            ctype="text/plain")

    def app_limit(self, key, setting):
        """Application limits: 429 JSON, no RateLimit headers."""
        limit = int(self.config[setting] or 0)
        if limit and self.window(key, limit)[0] > limit:
            r = Reply(429, TOO_MANY)
            r.bare = True
            raise Refused(r, "rate limited")

    def add_api(self, r):
        pid, iid, hid = r"/projects/([^/]+)", r"/issues/([^/]+)", \
            r"/hooks/([^/]+)"
        r.add("GET", r"/user", self.user_get)
        r.add("GET", r"/issues", self.issue_list_all)
        r.add("GET", pid, self.project_get)
        r.add("GET", pid + r"/issues", self.issue_list)
        r.add("POST", pid + r"/issues", self.issue_create)
        r.add("GET", pid + iid, self.issue_get)
        r.add("PUT", pid + iid, self.issue_edit)
        r.add("DELETE", pid + iid, self.issue_delete)
        r.add("POST", pid + iid + "/move", self.issue_move)
        r.add("GET", pid + r"/hooks", self.hook_list)
        r.add("POST", pid + r"/hooks", self.hook_create)
        r.add("GET", pid + hid, self.hook_get)
        r.add("PUT", pid + hid, self.hook_edit)
        r.add("DELETE", pid + hid, self.hook_delete)
        r.add("POST", pid + hid + r"/test/([^/]+)", self.hook_test)

    def project(self, req, raw, user, need=10):
        """(project, access level) of a numeric id or URL-encoded path.
        Invisible -> 404 (never 403); an old path -> 301 to the new one;
        below `need` -> 403."""
        key = urllib.parse.unquote(raw).lower()
        p = self.projects.get(int(raw)) if raw.isdigit() else next(
            (p for p in self.projects.values()
             if p["path_with_namespace"].lower() == key), None)
        level = user["projects"].get(str(p["id"]), 0) if p else 0
        if p is None:
            old = next((p for p in self.projects.values()
                        if key in p["old_paths"]), None)
            if old and str(old["id"]) in user["projects"]:
                new = urllib.parse.quote(old["path_with_namespace"], safe="")
                loc = self.base_url + req.path.replace(raw, new, 1)
                raise fail(Reply(301, {"message": "301 Moved Permanently"},
                                 {"Location": loc + (
                                     "?" + req.query_string
                                     if req.query_string else "")}))
        if not level:
            raise fail(message(404, "404 Project Not Found"))
        if level < need:
            raise fail(message(403, "403 Forbidden"))
        return p, level

    def user_get(self, req, user):
        with self.lock:
            return Reply(200, dict(self.user_brief(user), email=user["email"],
                                   bot=False))

    def project_get(self, req, raw, user):
        with self.lock:
            return Reply(200, self.project_view(*self.project(req, raw,
                                                              user)))

    # -- issues (§3) -----------------------------------------------------
    def issue_project(self, req, raw, user, need=10):
        p, level = self.project(req, raw, user, need)
        if not p["issues_enabled"]:
            raise fail(message(403, "403 Forbidden"))
        return p, level

    def find_issue(self, p, raw_iid):
        if not raw_iid.isdigit():
            raise fail(error(400, "issue_iid is invalid"))
        i = next((i for i in self.issues.values() if i["project_id"] ==
                  p["id"] and i["iid"] == int(raw_iid)), None)
        if i is None:
            raise fail(message(404, "404 Issue Not Found"))
        return i

    def issue_create(self, req, raw, user):
        with self.lock:
            p, _ = self.issue_project(req, raw, user)
            params = params_of(req)
            self.check_content(params, create=True)
            self.app_limit(("issue", user["id"]), "issue_create_per_min")
            return Reply(201, self.issue_view(self.create_issue(
                p, params, user)))

    def issue_get(self, req, raw, iid, user):
        with self.lock:
            p, _ = self.issue_project(req, raw, user)
            return Reply(200, self.issue_view(self.find_issue(p, iid)))

    def issue_edit(self, req, raw, iid, user):
        with self.lock:
            p, level = self.issue_project(req, raw, user)
            i = self.find_issue(p, iid)
            if level < LEVELS["planner"] and i["author_id"] != user["id"]:
                raise fail(message(403, "403 Forbidden"))
            return Reply(200, self.issue_view(self.edit_issue(
                i, params_of(req), user)))

    def issue_delete(self, req, raw, iid, user):
        """Planner or Owner (18.6: authors may not yet); no webhook."""
        with self.lock:
            p, level = self.issue_project(req, raw, user)
            i = self.find_issue(p, iid)
            if level != LEVELS["planner"] and level < LEVELS["owner"]:
                raise fail(message(403, "403 Forbidden"))
            del self.issues[i["id"]]
        return Reply(204)

    def issue_move(self, req, raw, iid, user):
        with self.lock:
            p, _ = self.issue_project(req, raw, user, LEVELS["reporter"])
            i = self.find_issue(p, iid)
            to = params_of(req).get("to_project_id")
            if to is None:
                raise fail(error(400, "to_project_id is missing"))
            target, _ = self.issue_project(req, str(to), user)
            return Reply(201, self.issue_view(self.move_issue(i, target,
                                                              user)))

    def issue_list(self, req, raw, user):
        with self.lock:
            p, _ = self.issue_project(req, raw, user)
            items = self.filter_issues(p, params_of(req))
            return self.paginate(req, [self.issue_view(i) for i in items])

    def issue_list_all(self, req, user):
        """GET /issues?scope=all: every issue the user can see."""
        with self.lock:
            q = params_of(req)
            items = []
            for pid in sorted(self.projects):
                if str(pid) in user.get("projects", {}):
                    items += self.filter_issues(self.projects[pid], q)
            return self.paginate(req, [self.issue_view(i) for i in items])

    def filter_issues(self, p, q):
        """§3.5 filters: iids[], state, labels, search+in, updated_*,
        created_*, order_by, sort."""
        out = [i for i in self.issues.values() if i["project_id"] == p["id"]]
        state = q.get("state", "all")
        if state not in ("opened", "closed", "all"):
            raise fail(error(400, "state does not have a valid value"))
        if state != "all":
            out = [i for i in out if i["state"] == state]
        if "iids" in q:
            iids = {to_int(x, "iids") for x in to_list(q["iids"])}
            out = [i for i in out if i["iid"] in iids]
        if "labels" in q:
            want = to_list(q["labels"])
            if [w.lower() for w in want] == ["none"]:
                out = [i for i in out if not i["labels"]]
            elif [w.lower() for w in want] == ["any"]:
                out = [i for i in out if i["labels"]]
            else:
                out = [i for i in out if set(want) <= set(i["labels"])]
        if q.get("search"):
            fields = to_list(q.get("in") or "title,description")
            terms = str(q["search"]).lower().split()
            out = [i for i in out if all(any(
                t in (i.get(f) or "").lower() for f in fields)
                for t in terms)]
        for name, key, after in (("updated_after", "updated_at", True),
                                 ("updated_before", "updated_at", False),
                                 ("created_after", "created_at", True),
                                 ("created_before", "created_at", False)):
            if name in q:
                t = parse_time(str(q[name]))
                if t is None:
                    raise fail(error(400, "%s is invalid" % name))
                out = [i for i in out if (i[key] >= t) == after]
        order = q.get("order_by", "created_at")
        if order not in ("created_at", "updated_at", "title", "due_date"):
            raise fail(error(400, "order_by does not have a valid value"))
        out.sort(key=lambda i: (i[order] is None, i[order] or 0, i["id"]),
                 reverse=q.get("sort", "desc") != "asc")
        return out

    def paginate(self, req, items):
        """page/per_page (max 100) with the x-* headers and Link."""
        q = params_of(req)
        per = min(max(to_int(q.get("per_page", 20), "per_page"), 1), 100)
        page = max(to_int(q.get("page", 1), "page"), 1)
        pages = max(1, math.ceil(len(items) / per))
        link = lambda n: with_query(self.base_url, req.path, req.pairs,
                                    page=n, per_page=per)
        rels = [(page - 1, "prev")] if page > 1 else []
        rels += [(page + 1, "next")] if page < pages else []
        rels += [(1, "first"), (pages, "last")]
        return Reply(200, items[(page - 1) * per:page * per], {
            "X-Page": str(page), "X-Per-Page": str(per),
            "X-Total": str(len(items)), "X-Total-Pages": str(pages),
            "X-Next-Page": str(page + 1) if page < pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
            "Link": ", ".join('<%s>; rel="%s"' % (link(n), rel)
                              for n, rel in rels)})

    def check_content(self, q, create):
        """Title and description rules of §3.1/§7 (400 bodies)."""
        if create and q.get("title") is None:
            raise fail(error(400, "title is missing"))
        if "title" in q:
            if not str(q["title"] or "").strip():
                raise fail(message(400, {"title": ["can't be blank"]}))
            if len(str(q["title"])) > 255:
                raise too_long("title", 255)
        if len(str(q.get("description") or "")) > 1048576:
            raise too_long("description", 1048576)

    # -- the issue model -------------------------------------------------
    def actor(self, username):
        """A control call's human: `as_user` by username, else root."""
        if username is None:
            return ROOT
        u = next((u for u in self.users.values()
                  if u["username"] == username), None)
        if u is None:
            raise fail(error(400, "no user named %r" % username))
        return u

    def ensure_labels(self, p, titles):
        """Unknown labels become project labels (§3.1)."""
        now = time.time()
        for t in titles:
            self.labels[p["id"]].setdefault(t, {
                "id": self.next_id("label"), "title": t, "color": "#6699cc",
                "project_id": p["id"], "created_at": now, "updated_at": now,
                "template": False, "description": None,
                "type": "ProjectLabel", "group_id": None})

    def create_issue(self, p, q, actor):
        self.check_content(q, create=True)
        now = time.time()
        i = {"id": self.next_id("issue"), "iid": p["next_iid"],
             "project_id": p["id"], "title": str(q["title"]),
             "description": q.get("description"), "state": "opened",
             "labels": [], "assignee_ids": [], "milestone_id": None,
             "due_date": None, "confidential": False,
             "discussion_locked": None, "issue_type": "issue",
             "author_id": actor["id"], "created_at": now, "updated_at": now,
             "closed_at": None, "closed_by_id": None, "moved_to_id": None,
             "updated_by_id": None, "last_edited_at": None,
             "last_edited_by_id": None,
             "relative_position": 513 * p["next_iid"]}
        self.apply_fields(i, p, q)
        p["next_iid"] += 1
        self.issues[i["id"]] = i
        keys = ("author_id", "created_at", "description", "due_date", "id",
                "iid", "milestone_id", "project_id", "title", "updated_at")
        changes = {k: {"previous": None, "current": i[k]} for k in keys
                   if i[k] is not None}
        if i["confidential"]:
            changes["confidential"] = {"previous": False, "current": True}
        if i["assignee_ids"]:
            changes["assignees"] = {"previous": [],
                                    "current": i["assignee_ids"]}
        self.emit(i, "open", changes, actor)
        return i

    def apply_fields(self, i, p, q):
        """Sets the editable attributes present in q (labels, assignees,
        milestone, due date, flags) after checking their values."""
        if "title" in q:
            i["title"] = str(q["title"])
        if "description" in q:
            i["description"] = q["description"]
            if q["description"]:
                i["description"], run = quick_actions(q["description"])
                for cmd, arg in run:
                    self.commands.append({"issue": i["id"], "command": cmd,
                                          "argument": arg})
                    if cmd == "close":
                        i["state"] = "closed"
                    elif cmd == "reopen":
                        i["state"] = "opened"
                    elif cmd == "title" and arg.strip():
                        i["title"] = arg.strip()
                    elif cmd == "confidential":
                        i["confidential"] = True
        labels = to_list(q["labels"]) if "labels" in q else list(i["labels"])
        labels += [x for x in to_list(q.get("add_labels"))
                   if x not in labels]
        drop = set(to_list(q.get("remove_labels")))
        labels = [x for x in labels if x not in drop]
        self.ensure_labels(p, labels)
        i["labels"] = sorted(set(labels))
        ids = None
        if "assignee_ids" in q:
            ids = [to_int(x, "assignee_ids") for x in to_list(
                q["assignee_ids"])]
        elif "assignee_id" in q:
            ids = [to_int(q["assignee_id"] or 0, "assignee_id")]
        if ids is not None:     # GitLab Free keeps only the first assignee
            i["assignee_ids"] = [x for x in ids if x and
                                 self.user_by_id(x)][:1]
        if "milestone_id" in q:
            i["milestone_id"] = to_int(q["milestone_id"] or 0,
                                       "milestone_id") or None
        if "due_date" in q:
            d = q["due_date"] or None
            if d and not re.fullmatch(r"\d{4}-\d\d-\d\d", str(d)):
                raise fail(error(400, "due_date is invalid"))
            i["due_date"] = d
        for flag in ("confidential", "discussion_locked"):
            if flag in q:
                i[flag] = to_bool(q[flag], flag)
        if "issue_type" in q:
            if q["issue_type"] not in ("issue", "incident", "test_case",
                                       "task"):
                raise fail(error(400, "issue_type does not have a valid "
                                 "value"))
            i["issue_type"] = q["issue_type"]

    def tracked(self, i):
        """What a change of shows up in an Issue Hook's `changes`."""
        t = {k: i[k] for k in (
            "title", "description", "milestone_id", "due_date",
            "confidential", "discussion_locked", "closed_at", "moved_to_id",
            "updated_at", "updated_by_id", "last_edited_at",
            "last_edited_by_id")}
        t.update(labels=list(i["labels"]), assignees=list(i["assignee_ids"]),
                 state_id=1 if i["state"] == "opened" else 2)
        return t

    def edit_issue(self, i, q, actor, moved_to=None):
        """PUT semantics of §3.3; one Issue Hook if anything changed."""
        if not any(k in q for k in EDITABLE):
            raise fail(error(400, ", ".join(EDITABLE) + " are missing, at "
                             "least one parameter must be provided"))
        ev = q.get("state_event")
        if ev is not None and ev not in ("close", "reopen"):
            raise fail(error(400, "state_event does not have a valid value"))
        self.check_content(q, create=False)
        before = self.tracked(i)
        work = copy.deepcopy(i)
        self.apply_fields(work, self.projects[i["project_id"]], q)
        now = max(time.time(), i["updated_at"] + 0.001)
        content = {k for k, v in self.tracked(work).items()
                   if v != before[k]}
        if ev == "close" and i["state"] == "opened":
            work.update(state="closed", closed_at=now,
                        closed_by_id=actor["id"])
        elif ev == "reopen" and i["state"] == "closed":
            work.update(state="opened", closed_at=None, closed_by_id=None)
        if moved_to:
            work["moved_to_id"] = moved_to
        if self.tracked(work) == before:
            return i
        work["updated_at"] = now
        if content:
            work["updated_by_id"] = actor["id"]
        if content & {"title", "description"}:
            work.update(last_edited_at=now, last_edited_by_id=actor["id"])
        i.update(work)
        after = self.tracked(i)
        changes = {k: {"previous": before[k], "current": after[k]}
                   for k in sorted(after) if after[k] != before[k]}
        action = "update" if "state_id" not in changes else \
            "close" if i["state"] == "closed" else "reopen"
        self.emit(i, action, changes, actor)
        return i

    def move_issue(self, i, target, actor):
        """A copy in `target`, the original closed with moved_to_id.  The
        copy keeps the original's author, as GitLab's Issues::MoveService
        does (author: original_entity.author); the mover only acts."""
        if target["id"] == i["project_id"]:
            raise fail(message(400, "Cannot move issue to project it "
                               "originates from!"))
        author = self.user_by_id(i["author_id"]) or actor
        new = self.create_issue(target, {
            k: i[k] for k in ("title", "description", "labels",
                              "confidential", "due_date")
            if i[k] is not None}, author)
        self.edit_issue(i, {"state_event": "close"}, actor, moved_to=new["id"])
        return new

    # -- deliveries (§5) -------------------------------------------------
    def stamp(self, t):
        """A webhook date in the configured format of §5.3."""
        if t is None:
            return None
        fmt = self.config["timestamp_format"]
        if fmt == "utc":
            return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))
        if fmt == "offset":
            tz = timezone(timedelta(hours=1))
            return datetime.fromtimestamp(t, tz).strftime(
                "%Y-%m-%d %H:%M:%S +0100")
        return iso_time(t)

    def absolute_uploads(self, text, p):
        if not text or not self.config["rewrite_uploads"]:
            return text
        return re.sub(r'(\]\(|src=")/uploads/', r"\1%s/uploads/"
                      % self.web_url(p).replace("\\", "\\\\"), text)

    def hook_label(self, p, title):
        lab = self.labels[p["id"]].get(title) or {"id": None, "title": title}
        return dict(lab, created_at=self.stamp(lab.get("created_at")),
                    updated_at=self.stamp(lab.get("updated_at")))

    def hook_user(self, u):
        return {"id": u["id"], "name": u["name"], "username": u["username"],
                "avatar_url": self.avatar(u), "email": "[REDACTED]"}

    def hook_change(self, p, key, v):
        if key in TIME_KEYS:
            return self.stamp(v)
        if key == "labels":
            return [self.hook_label(p, x) for x in v]
        if key == "assignees":
            return [self.hook_user(self.user_by_id(x)) for x in v]
        if key == "description":
            return self.absolute_uploads(v, p)
        return v

    def hook_body(self, i, action, changes, actor):
        """The Issue Hook body, keys as in payloads/gitlab-*.json."""
        p = self.projects[i["project_id"]]
        web, st = self.web_url(p), self.stamp
        host = urllib.parse.urlsplit(self.base_url).hostname
        ssh = "git@%s:%s.git" % (host, p["path_with_namespace"])
        labels = [self.hook_label(p, x) for x in i["labels"]]
        attrs = {k: i[k] for k in (
            "author_id", "confidential", "discussion_locked", "due_date",
            "id", "iid", "last_edited_by_id", "milestone_id", "moved_to_id",
            "project_id", "relative_position", "title", "updated_by_id",
            "state")}
        attrs.update({k: st(i[k]) for k in TIME_KEYS}, **HOOK_CONSTANTS)
        attrs.update(
            description=self.absolute_uploads(i["description"], p),
            state_id=1 if i["state"] == "opened" else 2,
            url="%s/-/issues/%d" % (web, i["iid"]),
            assignee_ids=list(i["assignee_ids"]),
            assignee_id=(i["assignee_ids"] or [None])[0], labels=labels,
            status=dict(TODO_STATUS))
        if action:
            attrs["action"] = action
        body = {"object_kind": "issue", "event_type": "confidential_issue"
                if i["confidential"] else "issue",
                "user": self.hook_user(actor),
                "project": {
                    "id": p["id"], "name": p["name"],
                    "description": p["description"], "web_url": web,
                    "avatar_url": None, "git_ssh_url": ssh,
                    "git_http_url": web + ".git",
                    "namespace": p["path_with_namespace"].split("/")[0],
                    "visibility_level": 0,
                    "path_with_namespace": p["path_with_namespace"],
                    "default_branch": "main", "ci_config_path": "",
                    "homepage": web, "url": ssh, "ssh_url": ssh,
                    "http_url": web + ".git"},
                "object_attributes": attrs, "labels": labels,
                "changes": {k: {x: self.hook_change(p, k, v[x]) for x in
                                ("previous", "current")}
                            for k, v in changes.items()}}
        if i["assignee_ids"]:
            body["assignees"] = [self.hook_user(self.user_by_id(x))
                                 for x in i["assignee_ids"]]
        body["repository"] = {"name": p["name"], "url": ssh,
                              "description": p["description"],
                              "homepage": web}
        return body

    def emit(self, i, action, changes, actor):
        """Queues the Issue Hook of one event to every matching hook;
        close_then_update adds the separate update real captures show."""
        self.send_event(i, self.hook_body(i, action, changes, actor))
        if action == "close" and self.config["close_then_update"]:
            self.send_event(i, self.hook_body(i, "update", changes, actor))

    def hook_headers(self, h, event, event_uuid):
        headers = {"X-Gitlab-Event": event,
                   "X-Gitlab-Instance": self.base_url,
                   "X-Gitlab-Event-UUID": event_uuid,
                   "Idempotency-Key": new_uuid()}
        if h["token"]:
            headers["X-Gitlab-Token"] = h["token"]
        for c in h["custom_headers"]:
            headers[c["key"]] = c["value"]
        return headers

    def send_event(self, i, body):
        conf = i["confidential"]
        event = "Confidential Issue Hook" if conf else "Issue Hook"
        event_uuid = new_uuid()
        for h in sorted(self.hooks.values(), key=lambda h: h["id"]):
            if h["project_id"] != i["project_id"] or \
                    not h["confidential_issues_events" if conf
                          else "issues_events"]:
                continue
            if self.alert_status(h) != "executable":
                h["dropped_events"] += 1        # dropped, not queued
                continue
            self.enqueue("webhook", h["url"], body,
                         self.hook_headers(h, event, event_uuid),
                         timeout=self.config["hook_timeout"],
                         on_result=self.hook_result,
                         fresh=("X-Gitlab-Webhook-UUID",),
                         meta={"hook_id": h["id"], "event": event,
                               "action": body["object_attributes"].get(
                                   "action")})

    def alert_status(self, h):
        if h["recent_failures"] > 39:
            return "disabled"
        if h["disabled_until"] and h["disabled_until"] > time.time():
            return "temporarily_disabled"
        return "executable"

    def hook_result(self, item, rec):
        """§5.6 auto-disable: failures 1-3 tolerated, the 4th disables for
        one unit (60 s), each further one doubles it (max 24 h), the 40th
        disables for good; a success (2xx/3xx) re-enables."""
        h = self.hooks.get(item["meta"]["hook_id"])
        if h is None:
            return
        h["last_status"] = rec["status"] or rec["error"]
        if rec["status"] is not None and rec["status"] < 400:
            h.update(recent_failures=0, disabled_until=None, backoff_count=0)
            return
        if h["recent_failures"] > 39:
            return
        h["recent_failures"] += 1
        if h["recent_failures"] > 3:
            unit = float(self.config["auto_disable_unit_s"])
            h["disabled_until"] = time.time() + min(
                unit * 2 ** h["backoff_count"], unit * 1440)
            h["backoff_count"] += 1

    # -- hooks (§4) ------------------------------------------------------
    def hook_view(self, h):
        """Everything echoed back, never the token (§4)."""
        v = {k: h[k] for k in ("id", "url", "name", "description",
                               "project_id") + HOOK_EVENTS + (
            "push_events_branch_filter", "enable_ssl_verification",
            "custom_webhook_template")}
        v.update(created_at=iso_time(h["created_at"]),
                 repository_update_events=False,
                 branch_filter_strategy="wildcard",
                 alert_status=self.alert_status(h),
                 disabled_until=iso_time(h["disabled_until"])
                 if self.alert_status(h) == "temporarily_disabled" else None,
                 url_variables=[], custom_headers=[
                     {"key": c["key"]} for c in h["custom_headers"]])
        return v

    def hook_url(self, q):
        url = q.get("url")
        if not url:
            raise fail(error(400, "url is missing"))
        host = urllib.parse.urlsplit(str(url)).hostname
        if url_problem(str(url), self.config["require_https"]) or (
                self.config["hook_url_blocked"] and is_local_host(host)):
            raise fail(error(422, "Invalid url given"))
        return str(url)

    def add_hook(self, p, q):
        h = {"id": self.next_id("hook"), "project_id": p["id"],
             "url": self.hook_url(q), "name": q.get("name", ""),
             "description": q.get("description", ""),
             "token": q.get("token") or None,
             "push_events_branch_filter": q.get("push_events_branch_filter",
                                                ""),
             "enable_ssl_verification": to_bool(q.get(
                 "enable_ssl_verification", True), "enable_ssl_verification"),
             "custom_webhook_template": q.get("custom_webhook_template"),
             "custom_headers": list(q.get("custom_headers") or [])[:20],
             "created_at": time.time(), "recent_failures": 0,
             "backoff_count": 0, "disabled_until": None,
             "last_status": None, "dropped_events": 0}
        for e in HOOK_EVENTS:   # push_events defaults to true, others false
            h[e] = to_bool(q.get(e, e == "push_events"), e)
        self.hooks[h["id"]] = h
        return h

    def find_hook(self, p, raw_hid):
        if not raw_hid.isdigit():
            raise fail(error(400, "hook_id is invalid"))
        h = self.hooks.get(int(raw_hid))
        if h is None or h["project_id"] != p["id"]:
            raise fail(message(404, "404 Not found"))
        return h

    def hook_list(self, req, raw, user):
        with self.lock:
            p, _ = self.project(req, raw, user, LEVELS["maintainer"])
            return self.paginate(req, [self.hook_view(h) for h in
                                       self.hooks.values()
                                       if h["project_id"] == p["id"]])

    def hook_create(self, req, raw, user):
        with self.lock:
            p, _ = self.project(req, raw, user, LEVELS["maintainer"])
            return Reply(201, self.hook_view(self.add_hook(p,
                                                           params_of(req))))

    def hook_get(self, req, raw, hid, user):
        with self.lock:
            p, _ = self.project(req, raw, user, LEVELS["maintainer"])
            return Reply(200, self.hook_view(self.find_hook(p, hid)))

    def hook_edit(self, req, raw, hid, user):
        """`url` is required; a new URL clears the token unless one is
        given too."""
        with self.lock:
            p, _ = self.project(req, raw, user, LEVELS["maintainer"])
            h, q = self.find_hook(p, hid), params_of(req)
            url = self.hook_url(q)
            if url != h["url"]:
                h["token"] = None
            h["url"] = url
            for k in ("name", "description", "push_events_branch_filter",
                      "custom_webhook_template"):
                if k in q:
                    h[k] = q[k]
            if "token" in q:
                h["token"] = q["token"] or None
            for k in HOOK_EVENTS + ("enable_ssl_verification",):
                if k in q:
                    h[k] = to_bool(q[k], k)
            return Reply(200, self.hook_view(h))

    def hook_delete(self, req, raw, hid, user):
        with self.lock:
            p, _ = self.project(req, raw, user, LEVELS["maintainer"])
            del self.hooks[self.find_hook(p, hid)["id"]]
        return Reply(204)

    def hook_test(self, req, raw, hid, trigger, user):
        """Sends the project's latest issue now, even to a disabled hook;
        a 2xx answer re-enables it.  201, or 422 with the failure."""
        with self.lock:
            p, _ = self.project(req, raw, user, LEVELS["maintainer"])
            h = self.find_hook(p, hid)
            if trigger not in ("issues_events", "confidential_issues_events"):
                raise fail(error(400, "trigger does not have a valid value"))
            self.app_limit(("test", user["id"], p["id"]), "test_hook_per_min")
            issues = [i for i in self.issues.values()
                      if i["project_id"] == p["id"]]
            if not issues:
                return message(422, "Ensure the project has issues.")
            i = max(issues, key=lambda i: i["id"])
            body = self.hook_body(i, None, {}, user)
            headers = self.hook_headers(h, "Issue Hook", new_uuid())
            headers["X-Gitlab-Webhook-UUID"] = new_uuid()
            url, timeout = h["url"], self.config["hook_timeout"]
        rec = self.call_out("webhook_test", "POST", url, headers, body,
                            timeout, meta={"hook_id": h["id"]})
        with self.lock:
            self.hook_result({"meta": {"hook_id": h["id"]}}, rec)
        if ok_status(rec["status"]):
            return message(201, "201 Created")
        return message(422, "Error: %s" % (rec["error"] or
                                           "HTTP %s" % rec["status"]))

    # -- control ---------------------------------------------------------
    def add_control(self, r):
        pid = r"/_double/projects/(\d+)"
        r.add("POST", r"/_double/users", self.c_user)
        r.add("POST", r"/_double/projects", self.c_project)
        r.add("POST", pid + r"/rename", self.c_rename)
        r.add("POST", pid + r"/issues", self.c_issue_create)
        r.add("PUT", pid + r"/issues/(\d+)", self.c_issue_edit)
        r.add("DELETE", pid + r"/issues/(\d+)", self.c_issue_delete)
        r.add("POST", pid + r"/issues/(\d+)/move", self.c_issue_move)

    def c_user(self, req):
        with self.lock:
            u = self.add_user(req.obj())
            return Reply(201, u)

    def c_project(self, req):
        with self.lock:
            return Reply(201, self.add_project(req.obj()))

    def c_project_of(self, pid):
        p = self.projects.get(int(pid))
        if p is None:
            raise fail(error(404, "no project %s" % pid))
        return p

    def c_rename(self, req, pid):
        """A rename: the old path answers 301 to the new one."""
        with self.lock:
            p = self.c_project_of(pid)
            new = req.obj().get("path_with_namespace")
            if not new:
                return error(400, "need path_with_namespace")
            p["old_paths"].append(p["path_with_namespace"].lower())
            p["path_with_namespace"] = new
            return Reply(200, p)

    def c_human(self, req, pid, iid=None):
        """(project, issue or None, body, actor) of a human's UI action;
        `as_user` names the actor (default: root)."""
        b = req.obj()
        actor = self.actor(b.pop("as_user", None))
        p = self.c_project_of(pid)
        return p, iid and self.find_issue(p, iid), b, actor

    def c_issue_create(self, req, pid):
        """A human creates an issue in the UI (webhook as the API)."""
        with self.lock:
            p, _, b, actor = self.c_human(req, pid)
            return Reply(201, self.issue_view(self.create_issue(p, b,
                                                                actor)))

    def c_issue_edit(self, req, pid, iid):
        """A human edit in the UI: the API's code path, `as_user` acts."""
        with self.lock:
            _, i, b, actor = self.c_human(req, pid, iid)
            return Reply(200, self.issue_view(self.edit_issue(i, b, actor)))

    def c_issue_delete(self, req, pid, iid):
        with self.lock:
            del self.issues[self.c_human(req, pid, iid)[1]["id"]]
        return Reply(204)

    def c_issue_move(self, req, pid, iid):
        with self.lock:
            _, i, b, actor = self.c_human(req, pid, iid)
            target = self.c_project_of(b.get("to_project", 0))
            return Reply(201, self.issue_view(self.move_issue(i, target,
                                                              actor)))


if __name__ == "__main__":
    main(GitLab, "GitLab REST API v4 test double")
