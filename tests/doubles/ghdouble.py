#!/usr/bin/env python3
"""A faithful double of the GitHub REST API (issues and repository
webhooks), as pbsync uses it.

Contract: shared/reference/more-trackers.md §A, checked against GitHub's
own descriptions (@octokit/openapi, @octokit/openapi-webhooks: see
tests/contract/github_schema.py) and docs.github.com; the deliveries have
the shape of payloads/github-issues-*.json.  Served at / (api.github.com)
and under /api/v3 (GitHub Enterprise Server), the same handlers:

  auth (Bearer or `token`), User-Agent and X-GitHub-Api-Version checks,
  GET /user and /rate_limit, repositories with visibility and per-token
  permissions, issues (create, get, update, list with filters and Link
  pagination, labels one at a time; pull requests in the list), repository
  webhooks (create with a ping, list, get, update, delete, ping, deliveries
  and redelivery), primary and secondary rate limits, conditional GETs.

Deliveries: every change, through the API or a control route (so pbsync
sees its own writes come back), is an `issues` event POSTed to every
active hook of the repository subscribed to `issues` or `*`, signed with
the hook's secret, 10 s timeout, never retried (a failed delivery is only
sent again through the redelivery API, with the same X-GitHub-Delivery).
Shared control API: double.py; GitHub's own control routes: README.md.
"""
import base64
import collections
import hashlib
import hmac
import json
import math
import random
import re
import time
import urllib.parse

from double import (Double, Refused, Reply, iso_time, main, new_uuid,
                    ok_status, parse_time, url_problem, with_query)

VERSIONS = ("2022-11-28", "2026-03-10")
# Response fields a version no longer has, and fields it no longer sends
# as null (x-github-breaking-changes of GitHub's OpenAPI description, for
# the operations served here: 2026-03-10 makes pull_request.merged_at
# non-nullable but not required).
DROPPED = {"2026-03-10": ({"assignee", "has_downloads", "master_branch",
                           "use_squash_pr_title_as_default"},
                          {"merged_at"})}
DOCS = "https://docs.github.com/rest"
RATE_DOCS = DOCS + "/overview/rate-limits-for-the-rest-api"
ROLES = ("pull", "triage", "push", "maintain", "admin")
ROLE_ALIASES = {"read": "pull", "write": "push"}
BODY_MAX, TITLE_MAX, ASSIGNEES_MAX = 65536, 256, 10
NO_UA = ("Request forbidden by administrative rules. Please make sure your "
         "request has a User-Agent header (https://docs.github.com/en/rest/"
         "overview/resources-in-the-rest-api#user-agent-required). Check "
         "https://developer.github.com for other possible causes.\n")
ZEN = ("Non-blocking is better than blocking.", "Design for failure.",
       "Favor focus over features.", "Keep it logically awesome.",
       "Speak like a human.", "Practicality beats purity.",
       "Responsive is better than fast.", "Encourage flow.",
       "Approachable is better than simple.", "Avoid administrative "
       "distraction.", "Mind your words, they are important.",
       "Anything added dilutes everything else.")
# Webhook event names (@octokit/openapi-webhooks), "*" for all of them.
EVENTS = frozenset("""* branch_protection_configuration
branch_protection_rule check_run check_suite code_scanning_alert
commit_comment create custom_property custom_property_values delete
dependabot_alert deploy_key deployment deployment_protection_rule
deployment_review deployment_status discussion discussion_comment fork
github_app_authorization gollum installation installation_repositories
installation_target issue_comment issue_dependencies issues label
marketplace_purchase member membership merge_group meta milestone org_block
organization package page_build personal_access_token_request ping project
project_card project_column projects_v2 projects_v2_item
projects_v2_status_update public pull_request pull_request_review
pull_request_review_comment pull_request_review_thread push
registry_package release repository repository_advisory
repository_dispatch repository_import repository_ruleset
repository_vulnerability_alert secret_scanning_alert
secret_scanning_alert_location secret_scanning_scan security_advisory
security_and_analysis sponsorship star status sub_issues team team_add
watch workflow_dispatch workflow_job workflow_run""".split())
OCTOCAT = {"login": "octocat", "id": 583231, "type": "User",
           "name": "The Octocat"}
REPO_R = r"(/repos/[^/]+/[^/]+|/repositories/\d+)"
# The *_url templates of accounts, organizations and repositories.
USER_LINKS = """followers=/followers following=/following{/other_user}
gists=/gists{/gist_id} starred=/starred{/owner}{/repo}
subscriptions=/subscriptions organizations=/orgs repos=/repos
events=/events{/privacy} received_events=/received_events"""
ORG_LINKS = """repos=/repos events=/events hooks=/hooks issues=/issues
members=/members{/member} public_members=/public_members{/member}"""
REPO_LINKS = """forks=/forks keys=/keys{/key_id}
collaborators=/collaborators{/collaborator} teams=/teams hooks=/hooks
issue_events=/issues/events{/number} events=/events
assignees=/assignees{/user} branches=/branches{/branch} tags=/tags
blobs=/git/blobs{/sha} git_tags=/git/tags{/sha} git_refs=/git/refs{/sha}
trees=/git/trees{/sha} statuses=/statuses/{sha} languages=/languages
stargazers=/stargazers contributors=/contributors subscribers=/subscribers
subscription=/subscription commits=/commits{/sha}
git_commits=/git/commits{/sha} comments=/comments{/number}
issue_comment=/issues/comments{/number} contents=/contents/{+path}
compare=/compare/{base}...{head} merges=/merges
archive=/{archive_format}{/ref} downloads=/downloads
issues=/issues{/number} pulls=/pulls{/number}
milestones=/milestones{/number}
notifications=/notifications{?since,all,participating}
labels=/labels{/name} releases=/releases{/id} deployments=/deployments"""
CONTENT_METHODS = ("POST", "PATCH", "PUT")   # what secondary limits count


def fail(reply):
    return Refused(reply, str(reply.data))


def links(base, spec):
    return {k + "_url": base + suffix
            for k, suffix in (x.split("=", 1) for x in spec.split())}


LEGACY_NODE = {"User": "04:User", "Bot": "03:Bot",
               "Organization": "012:Organization"}


def node_id(prefix, n):
    """GitHub-looking global node ids: legacy base64 for accounts,
    prefixed ones for the rest."""
    if prefix in LEGACY_NODE:
        return base64.b64encode(("%s%d" % (LEGACY_NODE[prefix], n)).encode(
        )).decode()
    return prefix + "_kwDO" + base64.urlsafe_b64encode(
        str(n).encode()).decode().rstrip("=")


def stamp(t):
    return iso_time(t, 0) if t is not None else None


def ruby(v):
    """A value as GitHub's request-schema messages quote it."""
    return "nil" if v is None else json.dumps(v)


def strip_keys(obj, keys, if_null):
    if isinstance(obj, dict):
        return {k: strip_keys(v, keys, if_null) for k, v in obj.items()
                if k not in keys and not (v is None and k in if_null)}
    if isinstance(obj, list):
        return [strip_keys(v, keys, if_null) for v in obj]
    return obj


def signatures(secret, raw):
    if not secret:
        return {}
    key = secret.encode()
    return {"X-Hub-Signature": "sha1=" + hmac.new(key, raw, hashlib.sha1)
            .hexdigest(),
            "X-Hub-Signature-256": "sha256=" + hmac.new(
                key, raw, hashlib.sha256).hexdigest()}


class GitHub(Double):
    name = "github"
    user_agent = "GitHub-Hookshot/5b1e3c7"
    defaults = dict(
        Double.defaults,
        rate_limit_per_hour=5000,       # primary, per token; 0 = off
        anonymous_rate_limit_per_hour=60,   # primary, unauthenticated
        content_create_per_min=80,      # secondary, per user; 0 = off
        content_create_per_hour=500,    # secondary, per user; 0 = off
        rate_limit_status=403,          # or 429: how limits answer
        hook_timeout=10,                # seconds
        api_prefix="")                  # "/api/v3": GHES-style links

    # -- state -----------------------------------------------------------
    def reset_state(self):
        self.accounts = {}      # login, lower-case -> account
        self.tokens = {}        # token -> {"login", "kind"}
        self.repos = {}         # id -> repository
        self.labels = {}        # repo id -> {name, lower-case: label}
        self.issues = {}        # (repo id, number) -> issue
        self.hooks = {}         # id -> hook (with its secret)
        self.hook_log = {}      # hook id -> [delivery record]
        self.ids = {"repo": 700000000, "issue": 3000000000,
                    "label": 9000000000, "hook": 500000000,
                    "delivery": 12000000000, "account": 9000000,
                    "milestone": 8000000}
        self.windows = {}       # primary: bucket -> {"reset", "used"}
        self.writes = {}        # secondary: login -> deque of times
        self.add_account(OCTOCAT)

    def state(self):
        return {"accounts": list(self.accounts.values()),
                "tokens": self.tokens, "repositories": [
                    dict(r, milestones=list(r["milestones"].values()))
                    for r in self.repos.values()],
                "labels": {str(k): list(v.values())
                           for k, v in self.labels.items()},
                "issues": [dict(i) for i in self.issues.values()],
                "hooks": list(self.hooks.values()),
                "config": self.config}

    def next_id(self, kind):
        self.ids[kind] += 1
        return self.ids[kind]

    # -- seeding ---------------------------------------------------------
    def add_account(self, q):
        login = q.get("login")
        if not login:
            raise fail(Reply(400, {"error": "need login"}))
        kind = q.get("type", "User")
        if kind not in ("User", "Bot", "Organization"):
            raise fail(Reply(400, {"error": "type: User, Bot or "
                                   "Organization"}))
        a = self.accounts.get(login.lower()) or {"repos": {}}
        a.update(login=login, type=kind, name=q.get("name", a.get("name")),
                 id=int(q.get("id") or a.get("id") or
                        self.next_id("account")),
                 created_at=a.get("created_at", time.time()))
        for full, role in (q.get("repos") or {}).items():
            role = ROLE_ALIASES.get(role, role)
            if role not in ROLES:
                raise fail(Reply(400, {"error": "role %r: one of %s" % (
                    role, ", ".join(ROLES))}))
            a["repos"][full.lower()] = role
        self.accounts[login.lower()] = a
        tokens = q.get("tokens") or ([q["token"]] if q.get("token") else [])
        kind = q.get("token_kind", "classic")
        if kind not in ("classic", "fine_grained", "app"):
            raise fail(Reply(400, {"error": "token_kind: classic, "
                                   "fine_grained or app"}))
        for t in tokens:
            self.tokens[t] = {"login": login, "kind": kind}
        return a

    def add_repo(self, q):
        full = q.get("full_name") or ""
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", full):
            raise fail(Reply(400, {"error": "need full_name owner/name"}))
        owner, name = full.split("/")
        if owner.lower() not in self.accounts:
            self.add_account({"login": owner,
                              "type": q.get("owner_type", "Organization")})
        now = time.time()
        rid = int(q.get("id") or self.next_id("repo"))
        r = {"id": rid, "owner": self.accounts[owner.lower()]["login"],
             "name": name, "full_name": full,
             "private": bool(q.get("private", False)),
             "has_issues": bool(q.get("has_issues", True)),
             "archived": bool(q.get("archived", False)),
             "description": q.get("description"), "created_at": now,
             "next_number": 1, "milestones": {}}
        self.repos[rid] = r
        self.labels.setdefault(rid, {})
        for lab in q.get("labels") or []:
            self.ensure_label(r, lab if isinstance(lab, dict) else
                              {"name": lab})
        for m in q.get("milestones") or []:
            n = int(m.get("number") or len(r["milestones"]) + 1)
            r["milestones"][n] = {
                "number": n, "id": self.next_id("milestone"),
                "title": m.get("title", "v%d" % n),
                "description": m.get("description"),
                "state": m.get("state", "open"), "due_on": m.get("due_on"),
                "created_at": now}
        return r

    def seed(self, data):
        with self.lock:
            super().seed(data)
            for r in data.get("repositories") or []:
                self.add_repo(r)
            for u in data.get("users") or []:
                self.add_account(u)
            for h in data.get("hooks") or []:
                self.add_hook(self.repo_named(h["repo"]), h,
                              self.actor(h.get("as_user")))
            for i in data.get("issues") or []:
                i = dict(i)
                self.human_opens(self.repo_named(i.pop("repo", "")), i,
                                 self.actor(i.pop("as_user", None)))

    def human_opens(self, r, q, actor):
        """An issue opened in the UI (a pull request with "pull_request":
        true: listed, but no `issues` events), closed at once with
        "state": "closed"."""
        q = dict(q)
        state = q.pop("state", "open")
        i = self.create_issue(r, q, actor, push=True,
                              pull_request=bool(q.pop("pull_request", 0)))
        if state == "closed":
            self.update_issue(i, {"state": "closed", "state_reason":
                                  q.get("state_reason")}, actor, push=True)
        return i

    def sandbox(self):
        with self.lock:
            self.add_account({"login": "sandbox", "id": 42, "type": "User",
                              "name": "Sandbox User",
                              "token": "gh-sandbox-token",
                              "repos": {"sandbox/demo": "admin"}})
            self.add_repo({"full_name": "sandbox/demo", "labels": [
                {"name": "bug", "color": "d73a4a",
                 "description": "Something isn't working", "default": True},
                {"name": "enhancement", "color": "a2eeef", "description":
                 "New feature or request", "default": True},
                {"name": "documentation", "color": "0075ca", "description":
                 "Improvements or additions to documentation",
                 "default": True}]})
        return ["GitHub sandbox: Authorization: Bearer gh-sandbox-token "
                "(user sandbox, admin); repository sandbox/demo (public); "
                "API %s and %s/api/v3" % (self.base_url, self.base_url)]

    # -- views -----------------------------------------------------------
    def api_root(self):
        return self.base_url + self.config["api_prefix"]

    def repo_api(self, r):
        return "%s/repos/%s" % (self.api_root(), r["full_name"])

    def user_view(self, a):
        """simple-user."""
        api = "%s/users/%s" % (self.api_root(), urllib.parse.quote(
            a["login"]))
        return {"login": a["login"], "id": a["id"],
                "node_id": node_id(a["type"], a["id"]),
                "avatar_url": self.avatar(a), "gravatar_id": "", "url": api,
                "html_url": "%s/%s" % (self.base_url, a["login"]),
                **links(api, USER_LINKS), "type": a["type"],
                "user_view_type": "public", "site_admin": False}

    def org_view(self, a):
        api = "%s/orgs/%s" % (self.api_root(), a["login"])
        return {"login": a["login"], "id": a["id"],
                "node_id": node_id("Organization", a["id"]), "url": api,
                **links(api, ORG_LINKS), "avatar_url": self.avatar(a),
                "description": None}

    def avatar(self, a):
        return "%s/avatars/u/%d?v=4" % (self.base_url, a["id"])

    def repo_view(self, r, role=None):
        """The repository of webhook payloads; with `role`, the REST
        full-repository with the caller's permissions."""
        api, html = self.repo_api(r), "%s/%s" % (self.base_url,
                                                 r["full_name"])
        host = urllib.parse.urlsplit(self.base_url).hostname
        owner = self.accounts[r["owner"].lower()]
        n_open = sum(1 for i in self.issues.values() if i["repo_id"] ==
                     r["id"] and self.listed(i) and i["state"] == "open")
        v = {"id": r["id"], "node_id": node_id("R", r["id"]),
             "name": r["name"], "full_name": r["full_name"],
             "private": r["private"], "owner": self.user_view(owner),
             "html_url": html, "description": r["description"],
             "fork": False, "url": api}
        v.update(links(api, REPO_LINKS))
        v.update(
            created_at=stamp(r["created_at"]),
            updated_at=stamp(r["created_at"]),
            pushed_at=stamp(r["created_at"]),
            git_url="git://%s/%s.git" % (host, r["full_name"]),
            ssh_url="git@%s:%s.git" % (host, r["full_name"]),
            clone_url=html + ".git", svn_url=html, homepage=None, size=0,
            stargazers_count=0, watchers_count=0, language=None,
            has_issues=r["has_issues"], has_projects=True,
            has_downloads=True, has_wiki=True, has_pages=False,
            has_discussions=False, forks_count=0, mirror_url=None,
            archived=r["archived"], disabled=False,
            open_issues_count=n_open, license=None, allow_forking=True,
            is_template=False, web_commit_signoff_required=False,
            topics=[], visibility="private" if r["private"] else "public",
            forks=0, open_issues=n_open, watchers=0, default_branch="main")
        if role is None:
            v["custom_properties"] = {}
            return v
        level = ROLES.index(role)
        v["permissions"] = {x: level >= ROLES.index(x) for x in ROLES}
        v.update(network_count=0, subscribers_count=0)
        if owner["type"] == "Organization":
            v["organization"] = self.user_view(owner)
        return v

    def label_view(self, r, lab):
        return {"id": lab["id"], "node_id": node_id("LA", lab["id"]),
                "url": "%s/labels/%s" % (self.repo_api(r), urllib.parse.quote(
                    lab["name"], safe="")),
                "name": lab["name"], "color": lab["color"],
                "default": lab["default"], "description": lab["description"]}

    def milestone_view(self, r, m):
        api = "%s/milestones/%d" % (self.repo_api(r), m["number"])
        mine = [i for i in self.issues.values() if i["repo_id"] == r["id"]
                and i["milestone"] == m["number"] and self.listed(i)]
        return {"url": api, "html_url": "%s/%s/milestone/%d" % (
                    self.base_url, r["full_name"], m["number"]),
                "labels_url": api + "/labels", "id": m["id"],
                "node_id": node_id("MI", m["id"]), "number": m["number"],
                "title": m["title"], "description": m["description"],
                "creator": self.user_view(self.accounts[r["owner"].lower()]),
                "open_issues": sum(i["state"] == "open" for i in mine),
                "closed_issues": sum(i["state"] == "closed" for i in mine),
                "state": m["state"], "created_at": stamp(m["created_at"]),
                "updated_at": stamp(m["created_at"]), "due_on": m["due_on"],
                "closed_at": None}

    def association(self, login, r):
        if login.lower() == r["owner"].lower():
            return "OWNER"
        a = self.accounts.get(login.lower())
        return "COLLABORATOR" if a and r["full_name"].lower() in \
            a["repos"] else "NONE"

    def issue_view(self, i, single=False):
        """The issue of REST answers (`single`: with closed_by, as one
        issue is answered) and of webhook payloads."""
        r = self.repos[i["repo_id"]]
        api = self.repo_api(r)
        own = "%s/issues/%d" % (api, i["number"])
        html = "%s/%s/%s/%d" % (self.base_url, r["full_name"], "pull" if
                                i["pull_request"] else "issues",
                                i["number"])
        assignees = [self.user_view(self.accounts[x])
                     for x in i["assignees"]]
        m = r["milestones"].get(i["milestone"])
        v = {"url": own, "repository_url": api,
             "labels_url": own + "/labels{/name}",
             "comments_url": own + "/comments",
             "events_url": own + "/events", "html_url": html,
             "id": i["id"], "node_id": node_id("I", i["id"]),
             "number": i["number"], "title": i["title"],
             "user": self.user_view(self.accounts[i["user"]]),
             "labels": [self.label_view(r, self.labels[r["id"]][x])
                        for x in sorted(i["labels"])],
             "state": i["state"], "locked": False,
             "assignee": assignees[0] if assignees else None,
             "assignees": assignees,
             "milestone": self.milestone_view(r, m) if m else None,
             "comments": 0, "created_at": stamp(i["created_at"]),
             "updated_at": stamp(i["updated_at"]),
             "closed_at": stamp(i["closed_at"]),
             "author_association": self.association(i["user"], r),
             "type": None, "active_lock_reason": None,
             "sub_issues_summary": {"total": 0, "completed": 0,
                                    "percent_completed": 0},
             "issue_dependencies_summary": {
                 "blocked_by": 0, "total_blocked_by": 0, "blocking": 0,
                 "total_blocking": 0},
             "body": i["body"],
             "reactions": dict({"url": own + "/reactions",
                                "total_count": 0}, **{k: 0 for k in (
                                    "+1", "-1", "laugh", "hooray",
                                    "confused", "heart", "rocket",
                                    "eyes")}),
             "timeline_url": own + "/timeline",
             "performed_via_github_app": None,
             "state_reason": i["state_reason"]}
        if i["pull_request"]:
            v["draft"] = False
            v["pull_request"] = {"url": "%s/pulls/%d" % (api, i["number"]),
                                 "html_url": html,
                                 "diff_url": html + ".diff",
                                 "patch_url": html + ".patch",
                                 "merged_at": None}
        if single:
            v["closed_by"] = self.user_view(self.accounts[
                i["closed_by"]]) if i["closed_by"] else None
        return v

    def hook_view(self, h):
        """Everything but the secret, which shows as ********."""
        api = "%s/hooks/%d" % (self.repo_api(self.repos[h["repo_id"]]),
                               h["id"])
        config = {k: h["config"][k] for k in ("content_type",
                                              "insecure_ssl", "url")}
        if h["config"].get("secret"):
            config["secret"] = "********"
        return {"type": "Repository", "id": h["id"], "name": "web",
                "active": h["active"], "events": list(h["events"]),
                "config": config, "updated_at": stamp(h["updated_at"]),
                "created_at": stamp(h["created_at"]), "url": api,
                "test_url": api + "/test", "ping_url": api + "/pings",
                "deliveries_url": api + "/deliveries",
                "last_response": dict(h["last_response"])}

    # -- answers ---------------------------------------------------------
    @staticmethod
    def json(status, body, headers=None):
        return Reply(status, body, headers,
                     ctype="application/json; charset=utf-8")

    def error(self, req, status, message, doc=None, headers=None, **extra):
        """GitHub's error body: message, [errors], documentation_url and
        the status as a string."""
        body = dict({"message": message}, **extra)
        body["documentation_url"] = doc or getattr(req, "doc", DOCS)
        body["status"] = str(status)
        return self.json(status, body, headers)

    def refuse(self, req, status, message, **extra):
        return fail(self.error(req, status, message, **extra))

    def invalid(self, req, *errors):
        """422 Validation Failed with errors [{resource, field, code}]."""
        return self.refuse(req, 422, "Validation Failed",
                           errors=list(errors))

    def bad_request(self, req, detail):
        """422 of GitHub's request-schema check."""
        return self.refuse(req, 422, "Invalid request.\n\n" + detail)

    def fault_reply(self, status, req):
        if status in (403, 429):
            return self.secondary_reply(req, 60, status)
        text = {400: "Bad request", 401: "Bad credentials",
                404: "Not Found", 409: "Conflict", 410: "Gone",
                422: "Validation Failed", 502: "Server Error",
                503: "Service Unavailable", 504: "We couldn't respond to "
                "your request in time. Sorry about that. Please try "
                "resubmitting your request and contact us if the problem "
                "persists."}.get(status, "Server Error")
        return self.error(req, status, text)

    # -- the API ---------------------------------------------------------
    def add_api(self, r):
        self.docs = {}

        def add(method, pattern, fn, doc):
            r.add(method, pattern, fn)
            self.docs[fn] = DOCS + "/" + doc
        n, h = r"/issues/(\d+)", r"/hooks/(\d+)"
        add("GET", r"/user", self.user_get,
            "users/users#get-the-authenticated-user")
        add("GET", r"/rate_limit", self.rate_limit_get, "rate-limit/"
            "rate-limit#get-rate-limit-status-for-the-authenticated-user")
        add("GET", REPO_R, self.repo_get, "repos/repos#get-a-repository")
        add("GET", REPO_R + r"/issues", self.issue_list,
            "issues/issues#list-repository-issues")
        add("POST", REPO_R + r"/issues", self.issue_create,
            "issues/issues#create-an-issue")
        add("GET", REPO_R + n, self.issue_get, "issues/issues#get-an-issue")
        add("PATCH", REPO_R + n, self.issue_update,
            "issues/issues#update-an-issue")
        add("GET", REPO_R + n + r"/labels", self.labels_get,
            "issues/labels#list-labels-for-an-issue")
        add("POST", REPO_R + n + r"/labels", self.labels_add,
            "issues/labels#add-labels-to-an-issue")
        add("PUT", REPO_R + n + r"/labels", self.labels_set,
            "issues/labels#set-labels-for-an-issue")
        add("DELETE", REPO_R + n + r"/labels", self.labels_clear,
            "issues/labels#remove-all-labels-from-an-issue")
        add("DELETE", REPO_R + n + r"/labels/([^/]+)", self.label_remove,
            "issues/labels#remove-a-label-from-an-issue")
        add("GET", REPO_R + r"/labels", self.repo_labels,
            "issues/labels#list-labels-for-a-repository")
        add("GET", REPO_R + r"/hooks", self.hook_list,
            "repos/webhooks#list-repository-webhooks")
        add("POST", REPO_R + r"/hooks", self.hook_create,
            "repos/webhooks#create-a-repository-webhook")
        add("GET", REPO_R + h, self.hook_get,
            "repos/webhooks#get-a-repository-webhook")
        add("PATCH", REPO_R + h, self.hook_update,
            "repos/webhooks#update-a-repository-webhook")
        add("DELETE", REPO_R + h, self.hook_delete,
            "repos/webhooks#delete-a-repository-webhook")
        add("POST", REPO_R + h + r"/pings", self.hook_ping,
            "repos/webhooks#ping-a-repository-webhook")
        add("GET", REPO_R + h + r"/deliveries", self.delivery_list,
            "repos/webhooks#list-deliveries-for-a-repository-webhook")
        add("GET", REPO_R + h + r"/deliveries/(\d+)", self.delivery_get,
            "repos/webhooks#get-a-delivery-for-a-repository-webhook")
        add("POST", REPO_R + h + r"/deliveries/(\d+)/attempts",
            self.redeliver, "repos/webhooks#redeliver-a-delivery-for-a-"
            "repository-webhook")

    def api(self, req):
        """GitHub's order: the edge's User-Agent rule, the API version,
        credentials, the primary limit, routing, the secondary limit."""
        if not req.headers.get("user-agent", "").strip():
            return Reply(403, NO_UA, ctype="text/plain; charset=utf-8")
        path = req.path
        if path == "/api/v3" or path.startswith("/api/v3/"):
            path = path[len("/api/v3"):] or "/"
        req.version = req.headers.get("x-github-api-version", VERSIONS[0])
        if req.version not in VERSIONS:
            return self.error(req, 400, "Unsupported 'X-GitHub-Api-Version'"
                              " header: %s. Supported versions are %s." % (
                                  req.version, ", ".join(VERSIONS)),
                              DOCS + "/about-the-rest-api/api-versions")
        fn, groups = self.routes.match(req.method, path)
        req.doc = self.docs.get(fn, DOCS)
        req.request_id = "%04X:%04X:%06X:%06X:%08X" % tuple(
            random.getrandbits(b) for b in (16, 16, 24, 24, 32))
        with self.lock:
            user = self.authenticate(req)
            limited, headers = self.primary(req, user, path)
        if limited:
            return limited
        if user is False:
            reply = self.error(req, 401, "Bad credentials", DOCS)
        else:
            reply = self.route(req, fn, groups, user)
        for k, v in headers.items():
            reply.set_default(k, v)
        reply.set_default("X-GitHub-Api-Version-Selected", req.version)
        reply.set_default("X-GitHub-Media-Type", "github.v3; format=json")
        reply.set_default("X-GitHub-Request-Id", req.request_id)
        return self.finish(req, reply, user)

    def route(self, req, fn, groups, user):
        if fn is None:
            return self.error(req, 404, "Not Found", DOCS)
        if user is None and (req.method != "GET" or fn == self.user_get):
            return self.error(req, 401, "Requires authentication")
        if req.raw and not req.ctype.endswith("json"):
            try:        # GitHub reads JSON whatever the Content-Type says
                req.body, req.malformed = json.loads(req.raw), False
            except ValueError:
                req.malformed = True
        if req.malformed:
            return self.error(req, 400, "Problems parsing JSON")
        try:
            with self.lock:
                if req.method in CONTENT_METHODS:
                    self.secondary(req, user)
                return fn(req, *groups, user)
        except Refused as e:
            return e.reply

    def finish(self, req, reply, user):
        """The version's dropped fields, then conditional GETs: a 304
        costs nothing (GitHub refunds it)."""
        if not reply.headers.get("Content-Type", "").startswith(
                "application/json") or not reply.data:
            return reply
        dropped = DROPPED.get(req.version)
        if dropped:
            stripped = self.json(reply.status, strip_keys(
                json.loads(reply.data), *dropped), reply.headers)
            stripped.bare = reply.bare
            reply = stripped
        if req.method == "GET" and reply.status == 200:
            etag = 'W/"%s"' % hashlib.sha256(reply.data).hexdigest()[:40]
            reply.set_header("ETag", etag)
            if etag in req.headers.get("if-none-match", ""):
                with self.lock:
                    _, headers = self.primary(req, user, None, refund=True)
                not_modified = Reply(304, None, dict(reply.headers, **headers))
                not_modified.headers.pop("Content-Type", None)
                return not_modified
        return reply

    def authenticate(self, req):
        """The token's account; None without credentials, False for a
        token GitHub does not know."""
        auth = req.headers.get("authorization", "").strip()
        if not auth:
            return None
        scheme, _, token = auth.partition(" ")
        t = self.tokens.get(token.strip()) if scheme.lower() in (
            "bearer", "token") else None
        if t is None:
            return False
        req.token, req.token_kind = token.strip(), t["kind"]
        return self.accounts[t["login"].lower()]

    # -- rate limits -----------------------------------------------------
    def window(self, key):
        """A primary window: an hour from its first request."""
        now = time.time()
        w = self.windows.get(key)
        if w is None or now >= w["reset"]:
            w = self.windows[key] = {"reset": int(now) + 3600, "used": 0}
        return w

    def bucket(self, req, user):
        """(window, limit): per token; without valid credentials the
        client's ('anonymous') one."""
        if user:
            key, limit = ("token", req.token), "rate_limit_per_hour"
        else:
            key, limit = ("anonymous",), "anonymous_rate_limit_per_hour"
        return self.window(key), int(self.config[limit] or 0)

    def primary(self, req, user, path, refund=False):
        """(refusal or None, x-ratelimit-* headers)."""
        w, limit = self.bucket(req, user)
        if not limit:
            return None, {}
        if refund:
            w["used"] = max(0, w["used"] - 1)
        elif path == "/rate_limit":
            pass                    # free, as on GitHub
        elif w["used"] >= limit:
            who = "user ID %d" % user["id"] if user else "127.0.0.1"
            headers = self.limit_headers(limit, w)
            return self.error(
                req, int(self.config["rate_limit_status"]),
                "API rate limit exceeded for %s. If you reach out to GitHub "
                "Support for help, please include the request ID %s and "
                "timestamp %s." % (who, req.request_id,
                                   stamp(time.time()).replace("T", " ")),
                RATE_DOCS + "#about-primary-rate-limits",
                headers), headers
        else:
            w["used"] += 1
        return None, self.limit_headers(limit, w)

    @staticmethod
    def limit_headers(limit, w):
        return {"x-ratelimit-limit": str(limit),
                "x-ratelimit-remaining": str(max(0, limit - w["used"])),
                "x-ratelimit-reset": str(w["reset"]),
                "x-ratelimit-used": str(w["used"]),
                "x-ratelimit-resource": "core"}

    def secondary(self, req, user):
        """Content-creating requests (POST, PATCH, PUT) per user and
        minute / hour, sliding windows; a refused one does not count."""
        now = time.time()
        q = self.writes.setdefault(user["login"], collections.deque())
        while q and q[0] <= now - 3600:
            q.popleft()
        per_min = int(self.config["content_create_per_min"] or 0)
        per_hour = int(self.config["content_create_per_hour"] or 0)
        minute = [t for t in q if t > now - 60]
        if per_min and len(minute) >= per_min:
            wait = minute[0] + 60 - now
        elif per_hour and len(q) >= per_hour:
            wait = q[0] + 3600 - now
        else:
            q.append(now)
            return
        raise Refused(self.secondary_reply(req, wait), "secondary limit")

    def secondary_reply(self, req, wait, status=None):
        return self.error(
            req, status or int(self.config["rate_limit_status"]),
            "You have exceeded a secondary rate limit and have been "
            "temporarily blocked from content creation. Please retry your "
            "request again later. If you reach out to GitHub Support for "
            "help, please include the request ID %s." % getattr(
                req, "request_id", "0000:0000:000000:000000:00000000"),
            RATE_DOCS + "#about-secondary-rate-limits",
            {"retry-after": str(max(1, math.ceil(wait)))})

    def rate_limit_get(self, req, user):
        w, limit = self.bucket(req, user)
        core = {"limit": limit, "used": w["used"],
                "remaining": max(0, limit - w["used"]), "reset": w["reset"]}
        search = {"limit": 30, "used": 0, "remaining": 30,
                  "reset": int(time.time()) + 60}   # not modelled
        return self.json(200, {"resources": {"core": core, "search": search},
                               "rate": core})

    # -- users and repositories ------------------------------------------
    def user_get(self, req, user):
        if getattr(req, "token_kind", "") == "app":
            raise self.refuse(req, 403, "Resource not accessible by "
                              "integration")
        private = sum(1 for r in self.repos.values() if r["private"] and
                      r["owner"].lower() == user["login"].lower())
        public = sum(1 for r in self.repos.values() if not r["private"] and
                     r["owner"].lower() == user["login"].lower())
        v = dict(self.user_view(user), user_view_type="private",
                 name=user["name"], company=None, blog="", location=None,
                 email=None, hireable=None, bio=None, twitter_username=None,
                 notification_email=None, public_repos=public,
                 public_gists=0, followers=0, following=0,
                 created_at=stamp(user["created_at"]),
                 updated_at=stamp(user["created_at"]), private_gists=0,
                 total_private_repos=private, owned_private_repos=private,
                 disk_usage=0, collaborators=0,
                 two_factor_authentication=True)
        return self.json(200, v)

    def role(self, user, r):
        """The caller's role: owner admin, a grant, else pull on public
        repositories (also without credentials); None: invisible."""
        if user:
            if user["login"].lower() == r["owner"].lower():
                return "admin"
            if r["full_name"].lower() in user["repos"]:
                return user["repos"][r["full_name"].lower()]
        return None if r["private"] else "pull"

    def repo_named(self, full):
        r = next((r for r in self.repos.values()
                  if r["full_name"].lower() == str(full).lower()), None)
        if r is None:
            raise fail(Reply(404, {"error": "no repository %s" % full}))
        return r

    def repo(self, req, where, user, need="pull", issues=False):
        """(repository, role).  Invisible -> 404; issues disabled -> 410;
        an admin route without admin -> 404 for classic tokens, 403 for
        app and fine-grained ones; archived and other writes -> 403."""
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)|/repositories/(\d+)",
                         where)
        if m.group(3):
            r = self.repos.get(int(m.group(3)))
        else:
            full = "%s/%s" % tuple(urllib.parse.unquote(g)
                                   for g in m.groups()[:2])
            r = next((r for r in self.repos.values()
                      if r["full_name"].lower() == full.lower()), None)
        role = self.role(user, r) if r else None
        if role is None:
            raise self.refuse(req, 404, "Not Found")
        if issues and not r["has_issues"]:
            raise self.refuse(req, 410, "Issues are disabled for this repo",
                              doc=DOCS + "/issues/issues")
        if ROLES.index(role) < ROLES.index(need):
            kind = getattr(req, "token_kind", "classic")
            if need == "admin" and kind == "classic":
                raise self.refuse(req, 404, "Not Found")
            raise self.refuse(req, 403, {
                "app": "Resource not accessible by integration",
                "fine_grained": "Resource not accessible by personal "
                                "access token"}.get(
                kind, "Must have admin rights to Repository."))
        if r["archived"] and req.method != "GET":
            raise self.refuse(req, 403, "Repository was archived so is "
                              "read-only.")
        return r, role

    def repo_get(self, req, where, user):
        r, role = self.repo(req, where, user)
        return self.json(200, self.repo_view(r, role))

    def repo_labels(self, req, where, user):
        r, _ = self.repo(req, where, user)
        labels = sorted(self.labels[r["id"]].values(),
                        key=lambda x: x["name"].lower())
        return self.paginate(req, [self.label_view(r, x) for x in labels])

    def paginate(self, req, items):
        """per_page (default 30, max 100) and page, with GitHub's Link
        header: prev and first after page 1, next and last before the
        end."""
        per = req.q("per_page", "30")
        per = min(max(int(per), 1), 100) if per.isdigit() else 30
        page = req.q("page", "1")
        page = max(int(page), 1) if page.isdigit() else 1
        pages = max(1, math.ceil(len(items) / per))
        link = lambda n: with_query(self.base_url, req.path, req.pairs,
                                    page=n)
        rels = [(page - 1, "prev")] if page > 1 else []
        if page < pages:
            rels += [(page + 1, "next"), (pages, "last")]
        if page > 1:
            rels += [(1, "first")]
        headers = {"Link": ", ".join('<%s>; rel="%s"' % (link(n), rel)
                                     for n, rel in rels)} if rels else {}
        return self.json(200, items[(page - 1) * per:page * per], headers)

    # -- issues ----------------------------------------------------------
    @staticmethod
    def listed(i):
        return not i["deleted"] and not i["moved_to"]

    def find_issue(self, req, r, number):
        """The issue; 404 unknown, 410 deleted, 301 transferred (to the
        new place, by repository id as GitHub does)."""
        i = self.issues.get((r["id"], int(number)))
        if i is None:
            raise self.refuse(req, 404, "Not Found")
        if i["deleted"]:
            raise self.refuse(req, 410, "This issue was deleted")
        if i["moved_to"]:
            rid, n = i["moved_to"]
            tail = re.sub(r"^.*?/issues/\d+", "", req.path)
            loc = "%s/repositories/%d/issues/%d%s" % (
                self.api_root(), rid, n, tail)
            if req.query_string:
                loc += "?" + req.query_string
            raise fail(self.error(req, 301, "Moved Permanently", url=loc,
                                  headers={"Location": loc}))
        return i

    def issue_get(self, req, where, number, user):
        r, _ = self.repo(req, where, user, issues=True)
        return self.json(200, self.issue_view(self.find_issue(req, r, number),
                                              single=True))

    def issue_create(self, req, where, user):
        r, role = self.repo(req, where, user, issues=True)
        q = self.body_object(req)
        if "title" not in q:
            raise self.bad_request(req, '"title" wasn\'t supplied.')
        i = self.create_issue(r, q, user, self.can(role, "push"), req)
        return self.json(201, self.issue_view(i, single=True), {
            "Location": "%s/issues/%d" % (self.repo_api(r), i["number"])})

    def issue_update(self, req, where, number, user):
        r, role = self.repo(req, where, user, issues=True)
        i = self.find_issue(req, r, number)
        if i["user"] != user["login"].lower() and not self.can(role,
                                                               "triage"):
            raise self.refuse(req, 403, "Must have admin rights to "
                              "Repository.")
        self.update_issue(i, self.body_object(req), user,
                          self.can(role, "push"), req)
        return self.json(200, self.issue_view(i, single=True))

    def issue_list(self, req, where, user):
        r, _ = self.repo(req, where, user, issues=True)
        return self.paginate(req, [self.issue_view(i) for i in
                                   self.filter_issues(req, r)])

    def filter_issues(self, req, r):
        """state, labels, creator, assignee, milestone, since, sort,
        direction; pull requests included, as GitHub lists them."""
        out = [i for i in self.issues.values()
               if i["repo_id"] == r["id"] and self.listed(i)]
        state = req.q("state", "open")
        sort, direction = req.q("sort", "created"), req.q("direction",
                                                          "desc")
        for name, value, allowed in (
                ("state", state, ("open", "closed", "all")),
                ("sort", sort, ("created", "updated", "comments")),
                ("direction", direction, ("asc", "desc"))):
            if value not in allowed:
                raise self.invalid(req, {"resource": "Issue", "field": name,
                                         "code": "invalid"})
        if state != "all":
            out = [i for i in out if i["state"] == state]
        if req.q("labels"):
            want = {x.strip().lower() for x in req.q("labels").split(",")
                    if x.strip()}
            out = [i for i in out if want <= set(i["labels"])]
        if req.q("creator"):
            out = [i for i in out if i["user"] == req.q("creator").lower()]
        who = req.q("assignee")
        if who == "none":
            out = [i for i in out if not i["assignees"]]
        elif who == "*":
            out = [i for i in out if i["assignees"]]
        elif who:
            out = [i for i in out if who.lower() in i["assignees"]]
        ms = req.q("milestone")
        if ms == "none":
            out = [i for i in out if i["milestone"] is None]
        elif ms == "*":
            out = [i for i in out if i["milestone"] is not None]
        elif ms:
            out = [i for i in out if str(i["milestone"]) == ms]
        if req.q("since"):
            t = parse_time(req.q("since"))
            if t is None:
                raise self.invalid(req, {"resource": "Issue", "field":
                                         "since", "code": "invalid"})
            out = [i for i in out if int(i["updated_at"]) >= int(t)]
        key = {"created": "created_at", "updated": "updated_at",
               "comments": "comments"}[sort]
        out.sort(key=lambda i: (i.get(key, 0), i["number"]),
                 reverse=direction == "desc")
        return out

    @staticmethod
    def can(role, need):
        return ROLES.index(role) >= ROLES.index(need)

    def body_object(self, req):
        if req.body is None:
            return {}
        if not isinstance(req.body, dict):
            raise self.bad_request(req, "For 'links/0/schema', %s is not an "
                                   "object." % ruby(req.body))
        return dict(req.body)

    def check_fields(self, req, q, create):
        """The request schema (422 Invalid request) and the model's rules
        (422 Validation Failed) of create and update."""
        def bad(key, what):
            raise self.bad_request(req, "For 'properties/%s', %s is not %s."
                                   % (key, ruby(q[key]), what))
        title = q.get("title", "")
        if not (isinstance(title, (str, int)) and not isinstance(
                title, bool)) and not (title is None and not create):
            bad("title", "a string or an integer")
        if "body" in q and not isinstance(q["body"], str) and not (
                q["body"] is None and not create):
            bad("body", "a string")
        for key in ("labels", "assignees"):
            if key in q and not isinstance(q[key], list):
                bad(key, "an array")
        if q.get("state") not in (None, "open", "closed") or \
                ("state" in q and q["state"] is None):
            bad("state", 'one of ["open", "closed"]')
        if q.get("state_reason") not in (None, "completed", "not_planned",
                                         "duplicate", "reopened"):
            bad("state_reason", 'one of ["completed", "not_planned", '
                '"duplicate", "reopened", null]')
        if "title" in q and title is not None:
            title = str(title)
            if not title.strip():
                raise self.invalid(req, {"resource": "Issue", "code":
                                         "missing_field", "field": "title"})
            if len(title) > TITLE_MAX:
                raise self.invalid(req, {
                    "resource": "Issue", "code": "custom", "field": "title",
                    "message": "title is too long (maximum is %d "
                    "characters)" % TITLE_MAX})
        if len(q.get("body") or "") > BODY_MAX:
            raise self.invalid(req, {
                "resource": "Issue", "code": "custom", "field": "body",
                "message": "body is too long (maximum is %d characters)"
                % BODY_MAX})

    def ensure_label(self, r, spec):
        """An existing label (names match case-insensitively) or a new one
        with GitHub's default colour, as adding an unknown name does."""
        name = (spec.get("name") if isinstance(spec, dict) else
                str(spec)).strip()
        labels = self.labels[r["id"]]
        if name.lower() not in labels:
            labels[name.lower()] = {
                "id": self.next_id("label"), "name": name,
                "color": (spec.get("color") if isinstance(spec, dict)
                          else None) or "ededed",
                "default": bool(isinstance(spec, dict) and
                                spec.get("default")),
                "description": spec.get("description") if isinstance(
                    spec, dict) else None}
        return name.lower()

    def label_names(self, req, items):
        names = []
        for x in items:
            name = x.get("name") if isinstance(x, dict) else x
            if not isinstance(name, str) or not name.strip():
                raise self.invalid(req, {"resource": "Label", "code":
                                         "invalid", "field": "name"})
            names.append(x if isinstance(x, dict) else name)
        return names

    def apply_push_fields(self, req, i, r, q):
        """labels (replace the set), assignees, milestone: only callers
        with push access set them (the caller checks that).  Everything is
        checked before anything changes."""
        names = self.label_names(req, q["labels"]) if "labels" in q else None
        logins = None
        if "assignees" in q:
            logins = [x.get("login") if isinstance(x, dict) else x
                      for x in q["assignees"]]
        elif "assignee" in q and req is not None and \
                req.version == "2022-11-28":
            logins = [q["assignee"]] if q["assignee"] else []
        assignees = []
        for login in (logins or [])[:ASSIGNEES_MAX]:
            a = self.accounts.get(str(login).lower())
            if a is None or self.association(a["login"], r) == "NONE":
                raise self.invalid(req, {"resource": "Issue", "code":
                                         "invalid", "field": "assignees",
                                         "value": str(login)})
            if a["login"].lower() not in assignees:
                assignees.append(a["login"].lower())
        m = q.get("milestone")
        if m is not None and (not str(m).isdigit() or
                              int(m) not in r["milestones"]):
            raise self.invalid(req, {"resource": "Issue", "code": "invalid",
                                     "field": "milestone", "value": m})
        if names is not None:
            i["labels"] = sorted({self.ensure_label(r, x) for x in names})
        if logins is not None:
            i["assignees"] = assignees
        if "milestone" in q:
            i["milestone"] = int(m) if m is not None else None

    def create_issue(self, r, q, actor, push, req=None, emit=True,
                     pull_request=False):
        self.check_fields(req, q, create=True)
        now = time.time()
        i = {"id": self.next_id("issue"), "repo_id": r["id"],
             "number": r["next_number"], "title": str(q["title"]),
             "body": q.get("body"), "state": "open", "state_reason": None,
             "labels": [], "assignees": [], "milestone": None,
             "user": actor["login"].lower(), "created_at": now,
             "updated_at": now, "closed_at": None, "closed_by": None,
             "comments": 0, "pull_request": pull_request,
             "deleted": False, "moved_to": None}
        if push:        # GitHub silently drops them otherwise
            self.apply_push_fields(req, i, r, q)
        r["next_number"] += 1
        self.issues[(r["id"], i["number"])] = i
        if emit:
            self.emit(i, "opened", actor)
            self.emit_sets(i, {"labels": [], "assignees": [],
                               "milestone": None}, actor)
        return i

    def update_issue(self, i, q, actor, push, req=None):
        """PATCH: title, body, state (+ state_reason, honoured only when
        the state changes), and with push access labels (replacing the
        set), assignees and milestone.  One event per kind of change."""
        self.check_fields(req, q, create=False)
        r = self.repos[i["repo_id"]]
        before = {k: (list(v) if isinstance(v, list) else v)
                  for k, v in i.items()}
        if q.get("title") is not None:
            i["title"] = str(q["title"])
        if "body" in q:
            i["body"] = q["body"]
        if push:
            self.apply_push_fields(req, i, r, q)
        now = max(time.time(), i["updated_at"])
        state = q.get("state") or i["state"]
        if state != i["state"]:
            closing = state == "closed"
            i.update(state=state, closed_at=now if closing else None,
                     closed_by=actor["login"].lower() if closing else None,
                     state_reason=(q.get("state_reason") or "completed")
                     if closing else "reopened")
        if i == before:
            return i
        i["updated_at"] = now
        changes = {k: {"from": before[k]} for k in ("title", "body")
                   if i[k] != before[k]}
        if changes:
            self.emit(i, "edited", actor, changes=changes)
        if i["state"] != before["state"]:
            self.emit(i, "closed" if i["state"] == "closed" else "reopened",
                      actor)
        self.emit_sets(i, before, actor)
        return i

    def emit_sets(self, i, before, actor):
        """labeled/unlabeled, assigned/unassigned, milestoned/
        demilestoned for what changed, one event per item."""
        r = self.repos[i["repo_id"]]
        labels = self.labels[r["id"]]
        for x in sorted(set(before["labels"]) - set(i["labels"])):
            self.emit(i, "unlabeled", actor,
                      label=self.label_view(r, labels[x]))
        for x in sorted(set(i["labels"]) - set(before["labels"])):
            self.emit(i, "labeled", actor,
                      label=self.label_view(r, labels[x]))
        for x in before["assignees"]:
            if x not in i["assignees"]:
                self.emit(i, "unassigned", actor, assignee=self.user_view(
                    self.accounts[x]))
        for x in i["assignees"]:
            if x not in before["assignees"]:
                self.emit(i, "assigned", actor, assignee=self.user_view(
                    self.accounts[x]))
        if i["milestone"] != before["milestone"]:
            old = r["milestones"].get(before["milestone"])
            new = r["milestones"].get(i["milestone"])
            if old:
                self.emit(i, "demilestoned", actor,
                          milestone=self.milestone_view(r, old))
            if new:
                self.emit(i, "milestoned", actor,
                          milestone=self.milestone_view(r, new))

    def delete_issue(self, i, actor):
        """As an admin in the UI (REST has no delete): `deleted` with the
        whole issue, then 410."""
        self.emit(i, "deleted", actor)
        i["deleted"] = True

    def transfer_issue(self, i, target, actor):
        """A new issue in `target` (labels that exist there, assignees
        with access there); the old one answers 301.  `transferred` to the
        old repository, `opened` with the old issue to the new one."""
        src = self.repos[i["repo_id"]]
        if target["id"] == src["id"] or not target["has_issues"]:
            raise fail(Reply(422, {"error": "cannot transfer there"}))
        new = self.create_issue(target, {"title": i["title"]},
                                self.accounts[i["user"]], push=False,
                                emit=False)
        new["body"] = i["body"]
        new["labels"] = [x for x in i["labels"]
                         if x in self.labels[target["id"]]]
        new["assignees"] = [x for x in i["assignees"] if self.association(
            x, target) != "NONE"]
        i["moved_to"] = (target["id"], new["number"])
        self.emit(i, "transferred", actor, changes={
            "new_issue": self.issue_view(new),
            "new_repository": self.repo_view(target)})
        self.emit(new, "opened", actor, changes={
            "old_issue": self.issue_view(i),
            "old_repository": self.repo_view(src)})
        return new

    # -- labels one at a time -------------------------------------------
    def label_issue(self, req, where, number, user):
        r, role = self.repo(req, where, user, issues=True)
        i = self.find_issue(req, r, number)
        if not self.can(role, "triage"):
            raise self.refuse(req, 403, "Must have admin rights to "
                              "Repository.")
        return r, i

    def labels_answer(self, r, i, status=200):
        return self.json(status, [self.label_view(r, self.labels[r["id"]][x])
                                  for x in sorted(i["labels"])])

    def labels_get(self, req, where, number, user):
        r, _ = self.repo(req, where, user, issues=True)
        return self.labels_answer(r, self.find_issue(req, r, number))

    def label_input(self, req):
        """{"labels": [...]} or a bare array, of names or {name}."""
        b = req.body if isinstance(req.body, list) else \
            self.body_object(req).get("labels")
        if not isinstance(b, list) or not b:
            raise self.bad_request(req, "For 'properties/labels', %s is not "
                                   "a non-empty array." % ruby(b))
        return self.label_names(req, b)

    def relabel(self, req, where, number, user, names):
        r, i = self.label_issue(req, where, number, user)
        before = dict(i, labels=list(i["labels"]))
        i["labels"] = sorted({self.ensure_label(r, x) for x in names(i)})
        if i["labels"] != before["labels"]:
            i["updated_at"] = max(time.time(), i["updated_at"])
            self.emit_sets(i, before, user)
        return self.labels_answer(r, i)

    def labels_add(self, req, where, number, user):
        new = self.label_input(req)
        return self.relabel(req, where, number, user,
                            lambda i: i["labels"] + new)

    def labels_set(self, req, where, number, user):
        new = self.label_input(req)
        return self.relabel(req, where, number, user, lambda i: new)

    def labels_clear(self, req, where, number, user):
        self.relabel(req, where, number, user, lambda i: [])
        return Reply(204)

    def label_remove(self, req, where, number, name, user):
        r, i = self.label_issue(req, where, number, user)
        key = urllib.parse.unquote(name).lower()
        if key not in i["labels"]:
            raise self.refuse(req, 404, "Label does not exist")
        return self.relabel(req, where, number, user, lambda i: [
            x for x in i["labels"] if x != key])

    # -- deliveries ------------------------------------------------------
    def emit(self, i, action, actor, **extra):
        """An `issues` event for every subscribed hook.  Pull requests
        send `pull_request` events, which the double does not model."""
        if i["pull_request"]:
            return
        r = self.repos[i["repo_id"]]
        payload = dict({"action": action, "issue": self.issue_view(i)},
                       **extra)
        self.deliver(r, "issues", self.envelope(r, payload, actor))

    def envelope(self, r, payload, actor):
        owner = self.accounts[r["owner"].lower()]
        payload["repository"] = self.repo_view(r)
        if owner["type"] == "Organization":
            payload["organization"] = self.org_view(owner)
        payload["sender"] = self.user_view(actor)
        return payload

    def deliver(self, r, event, payload, hook=None):
        for h in sorted(self.hooks.values(), key=lambda h: h["id"]):
            if h["repo_id"] != r["id"] or not h["active"] or \
                    (hook and h is not hook):
                continue
            if event == "ping" or event in h["events"] or "*" in h["events"]:
                self.send(h, event, payload)

    def send(self, h, event, payload):
        """Encodes (json, or form `payload=`), signs the exact bytes and
        queues the POST: no retries, as GitHub makes none."""
        data = json.dumps(payload, separators=(",", ":"))
        if h["config"]["content_type"] == "form":
            raw = urllib.parse.urlencode({"payload": data}).encode()
            ctype = "application/x-www-form-urlencoded"
        else:
            raw, ctype = data.encode(), "application/json"
        headers = {"Accept": "*/*", "Content-Type": ctype,
                   "User-Agent": self.user_agent,
                   "X-GitHub-Delivery": new_uuid(),
                   "X-GitHub-Event": event,
                   "X-GitHub-Hook-ID": str(h["id"]),
                   "X-GitHub-Hook-Installation-Target-ID": str(h["repo_id"]),
                   "X-GitHub-Hook-Installation-Target-Type": "repository"}
        headers.update(signatures(h["config"].get("secret"), raw))
        self.queue(h, raw, headers, event, payload.get("action"), False)

    def queue(self, h, raw, headers, event, action, redelivery):
        self.enqueue("webhook", h["config"]["url"], raw, headers,
                     timeout=self.config["hook_timeout"],
                     on_result=self.delivered, meta={
                         "hook_id": h["id"], "event": event,
                         "action": action, "redelivery": redelivery,
                         "guid": headers["X-GitHub-Delivery"]})

    def delivered(self, item, rec):
        """Records the attempt for the deliveries API (with the bytes and
        headers, for a redelivery) and the hook's last_response."""
        meta, h = item["meta"], self.hooks.get(item["meta"]["hook_id"])
        if h is None:
            return
        code = rec["status"] or 0
        if ok_status(rec["status"]):
            status = "OK"
        elif rec["status"] is not None:
            status = "Invalid HTTP Response: %d" % code
        elif (rec["error"] or "").startswith("timeout"):
            status = "timed out"
        else:
            status = "failed to connect to host"
        raw = item["body"]
        text = raw.decode()
        if item["headers"]["Content-Type"].startswith("application/x-www"):
            text = urllib.parse.parse_qs(text)["payload"][0]
        self.hook_log.setdefault(h["id"], []).append({
            "id": self.next_id("delivery"), "guid": meta["guid"],
            "delivered_at": stamp(rec["ts"]),
            "redelivery": meta["redelivery"],
            "duration": rec["elapsed"], "status": status,
            "status_code": code, "event": meta["event"],
            "action": meta["action"], "installation_id": None,
            "repository_id": h["repo_id"], "throttled_at": None,
            "url": h["config"]["url"],
            "request": {"headers": dict(item["headers"]),
                        "payload": json.loads(text)},
            "response": {"headers": rec["response_headers"],
                         "payload": rec["response"]}, "raw": raw})
        h["last_response"] = {"code": code or None, "status": "active" if
                              status == "OK" else "failed",
                              "message": status}

    # -- hooks -----------------------------------------------------------
    def add_hook(self, r, q, actor, req=None):
        """Validates like GitHub (422 Validation Failed), stores, pings."""
        h = {"id": None, "repo_id": r["id"], "active": True,
             "events": ["push"], "config": {}, "created_at": time.time(),
             "last_response": {"code": None, "status": "unused",
                               "message": None}}
        self.hook_fields(req, h, q)
        h["id"] = self.next_id("hook")
        h["updated_at"] = h["created_at"]
        self.hooks[h["id"]] = h
        self.ping(r, h, actor)
        return h

    def ping(self, r, h, actor):
        self.deliver(r, "ping", self.envelope(r, {
            "zen": random.choice(ZEN), "hook_id": h["id"],
            "hook": self.hook_view(h)}, actor), hook=h)

    def hook_fields(self, req, h, q, update=False):
        """Sets config, events and active from a create or update body;
        an update without the secret removes it, as GitHub warns."""
        def bad(message, field=None):
            e = {"resource": "Hook", "code": "custom", "message": message}
            raise self.invalid(req, dict(e, field=field) if field else e)
        if q.get("name", "web") != "web":
            bad("Name must be web", "name")
        config = q.get("config", h["config"] if update else None)
        if not isinstance(config, dict):
            bad("Config must be an object with a url", "config")
        url = str(config.get("url") or "")
        if not url:
            bad("url cannot be blank", "url")
        problem = url_problem(url, self.config["require_https"])
        if problem == "must point to a public host":
            bad("Sorry, the URL host %s is not supported because it isn't "
                "reachable over the public Internet" %
                urllib.parse.urlsplit(url).hostname, "url")
        if problem:
            bad("url %s" % problem, "url")
        ctype = config.get("content_type", "form")
        if ctype not in ("json", "form"):
            bad("content_type must be json or form", "content_type")
        if any(other["repo_id"] == h["repo_id"] and other["id"] != h["id"]
               and other["config"]["url"] == url
               for other in self.hooks.values()):
            bad("Hook already exists on this repository")
        for key in ("events", "add_events", "remove_events"):
            if not isinstance(q.get(key, []), list):
                bad("%s must be an array" % key, key)
        events = list(q.get("events", h["events"]))
        events += [e for e in q.get("add_events", []) if e not in events]
        events = [e for e in events if e not in q.get("remove_events", [])]
        for e in events:
            if not isinstance(e, str) or e not in EVENTS:
                bad("%s is not a valid event name" % ruby(e), "events")
        secret = config.get("secret")
        h["config"] = {"url": url, "content_type": ctype,
                       "insecure_ssl": str(config.get("insecure_ssl", "0")),
                       "secret": secret or None}
        h["events"] = events or ["push"]
        h["active"] = bool(q.get("active", h["active"]))

    def hook_of(self, req, where, hid, user):
        r, _ = self.repo(req, where, user, need="admin")
        h = self.hooks.get(int(hid))
        if h is None or h["repo_id"] != r["id"]:
            raise self.refuse(req, 404, "Not Found")
        return r, h

    def hook_list(self, req, where, user):
        r, _ = self.repo(req, where, user, need="admin")
        return self.paginate(req, [self.hook_view(h) for h in sorted(
            self.hooks.values(), key=lambda h: h["id"])
            if h["repo_id"] == r["id"]])

    def hook_create(self, req, where, user):
        r, _ = self.repo(req, where, user, need="admin")
        h = self.add_hook(r, self.body_object(req), user, req)
        return self.json(201, self.hook_view(h), {
            "Location": self.hook_view(h)["url"]})

    def hook_get(self, req, where, hid, user):
        return self.json(200, self.hook_view(self.hook_of(
            req, where, hid, user)[1]))

    def hook_update(self, req, where, hid, user):
        _, h = self.hook_of(req, where, hid, user)
        work = dict(h)
        self.hook_fields(req, work, self.body_object(req), update=True)
        h.update(work, updated_at=time.time())
        return self.json(200, self.hook_view(h))

    def hook_delete(self, req, where, hid, user):
        _, h = self.hook_of(req, where, hid, user)
        del self.hooks[h["id"]]
        self.hook_log.pop(h["id"], None)
        return Reply(204)

    def hook_ping(self, req, where, hid, user):
        r, h = self.hook_of(req, where, hid, user)
        self.ping(r, h, user)
        return Reply(204)

    @staticmethod
    def delivery_item(d):
        return {k: d[k] for k in (
            "id", "guid", "delivered_at", "redelivery", "duration", "status",
            "status_code", "event", "action", "installation_id",
            "repository_id", "throttled_at")}

    def delivery_list(self, req, where, hid, user):
        """Newest first, per_page (max 100) and a cursor in the Link."""
        _, h = self.hook_of(req, where, hid, user)
        items = sorted(self.hook_log.get(h["id"], []), key=lambda d: d["id"],
                       reverse=True)
        cursor = req.q("cursor", "")
        if cursor:
            if not re.fullmatch(r"v1_\d+", cursor):
                raise self.refuse(req, 400, "Invalid cursor")
            items = [d for d in items if d["id"] < int(cursor[3:])]
        per = req.q("per_page", "30")
        per = min(max(int(per), 1), 100) if per.isdigit() else 30
        page, headers = items[:per], {}
        if len(items) > per:
            headers["Link"] = '<%s>; rel="next"' % with_query(
                self.base_url, req.path, req.pairs,
                cursor="v1_%d" % page[-1]["id"])
        return self.json(200, [self.delivery_item(d) for d in page], headers)

    def find_delivery(self, req, h, did):
        d = next((d for d in self.hook_log.get(h["id"], [])
                  if d["id"] == int(did)), None)
        if d is None:
            raise self.refuse(req, 404, "Not Found")
        return d

    def delivery_get(self, req, where, hid, did, user):
        _, h = self.hook_of(req, where, hid, user)
        d = self.find_delivery(req, h, did)
        return self.json(200, dict(self.delivery_item(d), url=d["url"],
                                   request=d["request"],
                                   response=d["response"]))

    def redeliver(self, req, where, hid, did, user):
        """The same bytes and headers, so the same X-GitHub-Delivery."""
        _, h = self.hook_of(req, where, hid, user)
        d = self.find_delivery(req, h, did)
        self.queue(h, d["raw"], d["request"]["headers"], d["event"],
                   d["action"], True)
        return self.json(202, {})

    # -- control ---------------------------------------------------------
    def add_control(self, r):
        rr, n = r"/_double/repos/([^/]+/[^/]+)", r"/issues/(\d+)"
        r.add("POST", r"/_double/users", self.c_user)
        r.add("POST", r"/_double/repos", self.c_repo)
        r.add("POST", rr + r"/issues", self.c_issue_create)
        r.add("PATCH", rr + n, self.c_issue_update)
        r.add("DELETE", rr + n, self.c_issue_delete)
        r.add("POST", rr + n + r"/transfer", self.c_issue_transfer)

    def actor(self, login):
        """A control call's human: `as_user` by login, else octocat."""
        a = self.accounts.get(str(login or "octocat").lower())
        if a is None:
            raise fail(Reply(400, {"error": "no user %r" % login}))
        return a

    def c_user(self, req):
        with self.lock:
            return Reply(201, self.add_account(req.obj()))

    def c_repo(self, req):
        with self.lock:
            return Reply(201, self.add_repo(req.obj()))

    def c_human(self, req, full, number=None):
        b = req.obj()
        actor = self.actor(b.pop("as_user", None))
        r = self.repo_named(full)
        i = None
        if number is not None:
            i = self.issues.get((r["id"], int(number)))
            if i is None or not self.listed(i):
                raise fail(Reply(404, {"error": "no issue %s#%s" % (
                    full, number)}))
        return r, i, b, actor

    def c_issue_create(self, req, full):
        with self.lock:
            r, _, b, actor = self.c_human(req, full)
            b.setdefault("title", "")
            return self.json(201, self.issue_view(
                self.human_opens(r, b, actor), single=True))

    def c_issue_update(self, req, full, number):
        """A human edit in the UI: the API's code path, with push."""
        with self.lock:
            _, i, b, actor = self.c_human(req, full, number)
            return self.json(200, self.issue_view(self.update_issue(
                i, b, actor, push=True), single=True))

    def c_issue_delete(self, req, full, number):
        with self.lock:
            _, i, _, actor = self.c_human(req, full, number)
            self.delete_issue(i, actor)
        return Reply(204)

    def c_issue_transfer(self, req, full, number):
        with self.lock:
            _, i, b, actor = self.c_human(req, full, number)
            new = self.transfer_issue(i, self.repo_named(b.get("to")), actor)
            return self.json(201, self.issue_view(new, single=True))


if __name__ == "__main__":
    main(GitHub, "GitHub REST API test double (issues, repository webhooks)")
