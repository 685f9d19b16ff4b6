#!/usr/bin/env python3
"""Self-test of the Jira Cloud double (jiradouble.py).

Starts the double as the e2e harness does (subprocess, --port 0) plus a
local receiver that keeps every delivery's raw bytes, and holds the double
to the contract it promises: Basic auth and permissions, projects and
createmeta, issues (create, get, edit, delete) with Jira's validation and
ADF checks, workflows and transitions (and changing them between two
syncs), JQL search, admin webhooks (signatures recomputed here, the retry
policy with one identifier, JQL filters), and the three rate limits.

    python3 tests/doubles/selftest_jira.py [-v] [-k PATTERN]

make check runs these tests through test_doubles.py.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import socket
import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from selftest import Proc, call  # noqa: E402

BOT, ALICE, VIEWER, OUTSIDER = ("bot@example.com", "alice@example.com",
                                "vera@example.com", "otto@example.com")
TOKENS = {BOT: "ATATT-bot-token", ALICE: "ATATT-alice", VIEWER: "ATATT-vera",
          OUTSIDER: "ATATT-otto"}
SECRET = "It's a Secret to Everybody"
JIRA_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000")
NOT_AUTH = ("You are not authenticated. Authentication required to "
            "perform this operation.")
NO_ISSUE = "Issue does not exist or you do not have permission to see it."
NO_ADF = ("Operation value must be an Atlassian Document (see the Atlassian "
          "Document Format)")


def doc(*paragraphs):
    return {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": p}]}
        for p in paragraphs]}


class Receiver:
    """pbsync's stand-in: keeps each POST with its raw bytes; answers the
    statuses queued for its path in turn, then 200."""

    def __init__(self):
        self.got, self.plan = [], {}
        self.lock = threading.Lock()
        rcv = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get(
                    "Content-Length") or 0))
                with rcv.lock:
                    rcv.got.append({"path": self.path, "raw": raw,
                                    "t": time.monotonic(), "headers": {
                                        k.lower(): v for k, v in
                                        self.headers.items()}})
                    plan = rcv.plan.get(self.path.split("?")[0]) or []
                    code = plan.pop(0) if plan else 200
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.srv.handle_error = lambda request, address: None
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def clear(self):
        with self.lock:
            self.got, self.plan = [], {}

    def hooks(self, path=None):
        """[(headers, payload or None, raw)] in arrival order."""
        with self.lock:
            got = [g for g in self.got if path is None or
                   g["path"].split("?")[0] == path]
        return [(g["headers"], json.loads(g["raw"]) if g["raw"] else None,
                 g["raw"]) for g in got]


JD = RCV = None


def setUpModule():
    global JD, RCV
    JD, RCV = Proc("jiradouble.py"), Receiver()


def tearDownModule():
    JD.stop()
    RCV.srv.shutdown()


def basic(email, token=None):
    cred = "%s:%s" % (email, token if token is not None else TOKENS[email])
    return "Basic " + base64.b64encode(cred.encode()).decode()


class JiraTest(unittest.TestCase):
    def setUp(self):
        RCV.clear()
        JD.ctl("POST", "reset")
        r = JD.ctl("POST", "seed", {
            "config": {"retry_schedule": [0.1, 0.2]},
            "projects": [
                {"key": "PROJ", "id": "10100", "name": "Widgets",
                 "issue_types": ["Task", "Bug"], "lead": "bot-1"},
                {"key": "OTHER", "id": "10200"}],
            "users": [
                {"email": BOT, "api_token": TOKENS[BOT],
                 "account_id": "bot-1", "display_name": "pbsync bot",
                 "admin": True, "projects": {
                     "PROJ": ["browse", "create", "edit", "transition",
                              "delete"], "OTHER": "member"}},
                {"email": ALICE, "api_token": TOKENS[ALICE],
                 "account_id": "alice-1", "display_name": "Alice",
                 "projects": {"PROJ": "member"}},
                {"email": VIEWER, "api_token": TOKENS[VIEWER],
                 "account_id": "vera-1", "projects": {"PROJ": "viewer"}},
                {"email": OUTSIDER, "api_token": TOKENS[OUTSIDER],
                 "account_id": "otto-1"}]})
        self.assertEqual(r.status, 200, r.text)

    # -- helpers ---------------------------------------------------------
    def api(self, method, path, body=None, who=BOT, headers=None):
        h = {"Authorization": basic(who)} if who else {}
        h.update(headers or {})
        return call(JD.url + path, method, body, h)

    def jerr(self, r, status, messages=None, errors=None):
        """Jira's error shape, and the status."""
        self.assertEqual(r.status, status, r.text)
        self.assertEqual(set(r.json), {"errorMessages", "errors"}, r.text)
        if messages is not None:
            self.assertEqual(r.json["errorMessages"], messages)
        if errors is not None:
            self.assertEqual(r.json["errors"], errors)

    def create(self, summary="Dark mode", who=BOT, **fields):
        f = {"project": {"key": "PROJ"}, "issuetype": {"name": "Task"},
             "summary": summary}
        f.update(fields)
        r = self.api("POST", "/rest/api/3/issue", {"fields": f}, who)
        self.assertEqual(r.status, 201, r.text)
        return r.json

    def get(self, key, query="", who=BOT):
        r = self.api("GET", "/rest/api/3/issue/%s%s" % (key, query), who=who)
        self.assertEqual(r.status, 200, r.text)
        return r.json

    def hook(self, path="/jira", events=None, jql="project = PROJ",
             secret=SECRET, **extra):
        body = {"name": "pbsync", "url": RCV.url + path,
                "events": events or ["jira:issue_created",
                                     "jira:issue_updated",
                                     "jira:issue_deleted"],
                "filters": {"issue-related-events-section": jql}}
        if secret is not None:
            body["secret"] = secret
        body.update(extra)
        r = self.api("POST", "/rest/webhooks/1.0/webhook", body)
        self.assertEqual(r.status, 201, r.text)
        return r.json

    def wait(self):
        self.assertTrue(JD.ctl("POST", "wait", {"timeout": 15}).json["idle"])

    def events(self, path="/jira"):
        self.wait()
        return [p for _, p, _ in RCV.hooks(path)]

    def config(self, **kw):
        r = JD.ctl("POST", "config", kw)
        self.assertEqual(r.status, 200, r.text)

    # -- auth ------------------------------------------------------------
    def test_myself_with_basic_auth(self):
        r = self.api("GET", "/rest/api/3/myself")
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual((r.json["accountId"], r.json["emailAddress"],
                          r.json["displayName"], r.json["accountType"],
                          r.json["active"]),
                         ("bot-1", BOT, "pbsync bot", "atlassian", True))
        self.assertTrue(r.headers["content-type"].startswith(
            "application/json"))

    def test_no_credentials_is_401(self):
        r = self.api("GET", "/rest/api/3/myself", who=None)
        self.jerr(r, 401, [NOT_AUTH], {})
        self.assertNotIn("x-seraph-loginreason", r.headers)

    def test_wrong_token_goes_on_anonymous(self):
        """Jira makes a failed login anonymous: 401 where a user is
        needed, 404 for what anonymous cannot see, 200 elsewhere; each
        answer says AUTHENTICATED_FAILED."""
        key = self.create()["key"]
        h = {"Authorization": basic(BOT, "wrong")}
        r = call(JD.url + "/rest/api/3/myself", "GET", None, h)
        self.jerr(r, 401, [NOT_AUTH])
        self.assertEqual(r.headers["x-seraph-loginreason"],
                         "AUTHENTICATED_FAILED")
        r = call(JD.url + "/rest/api/3/issue/" + key, "GET", None, h)
        self.jerr(r, 404, [NO_ISSUE])
        r = call(JD.url + "/rest/api/3/serverInfo", "GET", None, h)
        self.assertEqual((r.status, r.headers["x-seraph-loginreason"]),
                         (200, "AUTHENTICATED_FAILED"))
        r = call(JD.url + "/rest/api/3/issue", "POST", {"fields": {}}, h)
        self.jerr(r, 401, [NOT_AUTH])

    def test_other_schemes_and_inactive_users_fail(self):
        r = self.api("GET", "/rest/api/3/myself", who=None, headers={
            "Authorization": "Bearer " + TOKENS[BOT]})
        self.jerr(r, 401)
        r = self.api("GET", "/rest/api/3/myself", who=None, headers={
            "Authorization": "Basic !!!"})
        self.jerr(r, 401)
        JD.ctl("POST", "users", {"email": ALICE, "active": False})
        self.jerr(self.api("GET", "/rest/api/3/myself", who=ALICE), 401)
        # The e-mail matches case-insensitively, the token exactly.
        r = self.api("GET", "/rest/api/3/myself", who=None, headers={
            "Authorization": basic(BOT.upper(), TOKENS[BOT])})
        self.assertEqual(r.status, 200, r.text)

    def test_bodies_must_be_json(self):
        """Jira's XSRF check refuses what a browser form could send; other
        content types are 415."""
        raw = json.dumps({"fields": {"project": {"key": "PROJ"},
                                     "issuetype": {"name": "Task"},
                                     "summary": "x"}})
        for ctype, status in (("text/plain", 403),
                              ("application/x-www-form-urlencoded", 403),
                              ("application/xml", 415),
                              ("application/json", 201),
                              ("application/json; charset=utf-8", 201)):
            r = self.api("POST", "/rest/api/3/issue", raw, headers={
                "Content-Type": ctype})
            self.assertEqual(r.status, status, ctype)
        self.assertEqual(r.json["key"], "PROJ-2")
        r = self.api("POST", "/rest/api/3/issue", "{not json", headers={
            "Content-Type": "application/json"})
        self.jerr(r, 400)

    # -- projects and metadata -------------------------------------------
    def test_project_by_key_and_id(self):
        for ref in ("PROJ", "proj", "10100"):
            r = self.api("GET", "/rest/api/3/project/" + ref)
            self.assertEqual(r.status, 200, r.text)
            self.assertEqual((r.json["id"], r.json["key"], r.json["name"]),
                             ("10100", "PROJ", "Widgets"))
        self.assertEqual([t["name"] for t in r.json["issueTypes"]],
                         ["Task", "Bug"])
        self.assertEqual(r.json["lead"]["accountId"], "bot-1")

    def test_project_hidden_without_browse(self):
        for who in (OUTSIDER, None):
            r = self.api("GET", "/rest/api/3/project/PROJ", who=who)
            self.jerr(r, 404, ["No project could be found with key "
                               "'PROJ'."])
        self.jerr(self.api("GET", "/rest/api/3/project/NOPE"), 404)

    def test_createmeta_issuetypes(self):
        r = self.api("GET", "/rest/api/3/issue/createmeta/PROJ/issuetypes")
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual((r.json["startAt"], r.json["maxResults"],
                          r.json["total"]), (0, 50, 2))
        task = r.json["issueTypes"][0]
        self.assertEqual((task["id"], task["name"], task["subtask"],
                          task["hierarchyLevel"]),
                         ("10001", "Task", False, 0))
        self.assertTrue(task["self"].endswith("/rest/api/3/issuetype/10001"))
        r = self.api("GET", "/rest/api/3/issue/createmeta/10100/issuetypes"
                     "?startAt=1&maxResults=1")
        self.assertEqual([t["name"] for t in r.json["issueTypes"]], ["Bug"])
        self.assertEqual(r.json["total"], 2)
        # Without Create issues the project is not there.
        r = self.api("GET", "/rest/api/3/issue/createmeta/PROJ/issuetypes",
                     who=VIEWER)
        self.jerr(r, 404)

    def test_createmeta_fields(self):
        r = self.api("GET", "/rest/api/3/issue/createmeta/PROJ/issuetypes/"
                     "10001")
        self.assertEqual(r.status, 200, r.text)
        fields = {f["fieldId"]: f for f in r.json["fields"]}
        self.assertEqual(r.json["total"], len(fields))
        self.assertTrue(fields["summary"]["required"])
        self.assertFalse(fields["description"]["required"])
        self.assertEqual(fields["labels"]["operations"],
                         ["add", "set", "remove"])
        self.assertEqual(fields["labels"]["schema"], {
            "type": "array", "items": "string", "system": "labels"})
        # Epic exists but not in this project.
        r = self.api("GET", "/rest/api/3/issue/createmeta/PROJ/issuetypes/"
                     "10000")
        self.jerr(r, 404)

    def test_mypermissions(self):
        r = self.api("GET", "/rest/api/3/mypermissions?projectKey=PROJ&"
                     "permissions=BROWSE_PROJECTS,EDIT_ISSUES,DELETE_ISSUES",
                     who=ALICE)
        self.assertEqual(r.status, 200, r.text)
        have = {k: v["havePermission"] for k, v in
                r.json["permissions"].items()}
        self.assertEqual(have, {"BROWSE_PROJECTS": True, "EDIT_ISSUES": True,
                                "DELETE_ISSUES": False})
        self.jerr(self.api("GET", "/rest/api/3/mypermissions"), 400)
        self.jerr(self.api("GET", "/rest/api/3/mypermissions?permissions="
                           "FLY"), 400)

    def test_project_statuses(self):
        """Atlassian's "Get all statuses for project": an
        IssueTypeWithStatus per issue type (self, id, name, subtask,
        statuses), each status a StatusDetails; by key or id, for anyone
        who may browse the project, its workflow per issue type."""
        JD.ctl("POST", "projects/PROJ/workflow", {
            "issuetype": "Bug", "statuses": [
                {"name": "Open", "category": "new"},
                {"name": "Fixed", "category": "done"}],
            "transitions": [{"name": "Fix", "to": "Fixed"}]})
        for ref, who in (("PROJ", BOT), ("10100", VIEWER)):
            r = self.api("GET", "/rest/api/3/project/%s/statuses" % ref,
                         who=who)
            self.assertEqual(r.status, 200, r.text)
            self.assertEqual([(t["id"], t["name"], t["subtask"])
                              for t in r.json],
                             [("10001", "Task", False),
                              ("10002", "Bug", False)])
            self.assertEqual(set(r.json[0]), {"self", "id", "name",
                                              "subtask", "statuses"})
            self.assertTrue(r.json[0]["self"].endswith(
                "/rest/api/3/issueType/10001"), r.json[0]["self"])
            self.assertEqual([(s["name"], s["untranslatedName"],
                               s["statusCategory"]["key"])
                              for s in r.json[0]["statuses"]],
                             [("To Do", "To Do", "new"),
                              ("In Progress", "In Progress",
                               "indeterminate"), ("Done", "Done", "done")])
            self.assertEqual([(s["name"], s["statusCategory"]["key"])
                              for s in r.json[1]["statuses"]],
                             [("Open", "new"), ("Fixed", "done")])
            st = r.json[0]["statuses"][0]
            self.assertTrue({"self", "description", "iconUrl", "name", "id",
                             "statusCategory"} <= set(st), st)
            self.assertEqual(set(st["statusCategory"]), {
                "self", "id", "key", "colorName", "name"})
        for who in (OUTSIDER, None):
            self.jerr(self.api("GET", "/rest/api/3/project/PROJ/statuses",
                               who=who), 404,
                      ["No project could be found with key 'PROJ'."])
        self.jerr(self.api("GET", "/rest/api/3/project/NOPE/statuses"), 404)

    # -- issues ----------------------------------------------------------
    def test_create_and_get(self):
        a = self.create(description=doc("Hello", "World"),
                        labels=["productboard"])
        self.assertEqual(set(a), {"id", "key", "self"})
        self.assertEqual(a["key"], "PROJ-1")
        self.assertTrue(a["self"].endswith("/rest/api/3/issue/" + a["id"]))
        self.assertEqual(self.create()["key"], "PROJ-2")
        i = self.get("PROJ-1")
        self.assertEqual((i["id"], i["key"]), (a["id"], "PROJ-1"))
        f = i["fields"]
        self.assertEqual(f["summary"], "Dark mode")
        self.assertEqual(f["description"], doc("Hello", "World"))
        self.assertEqual(f["labels"], ["productboard"])
        self.assertEqual((f["status"]["name"],
                          f["status"]["statusCategory"]["key"]),
                         ("To Do", "new"))
        self.assertEqual((f["issuetype"]["name"], f["project"]["key"],
                          f["reporter"]["accountId"],
                          f["creator"]["accountId"]),
                         ("Task", "PROJ", "bot-1", "bot-1"))
        self.assertIsNone(f["resolution"])
        for k in ("created", "updated", "statuscategorychangedate"):
            self.assertRegex(f[k], JIRA_TIME)
        self.assertEqual(self.get(a["id"])["key"], "PROJ-1")
        self.assertEqual(self.get("proj-1")["key"], "PROJ-1")
        self.jerr(self.api("GET", "/rest/api/3/issue/PROJ-99"), 404,
                  [NO_ISSUE], {})

    def test_get_fields_and_expand(self):
        key = self.create(description=doc("x"))["key"]
        f = self.get(key, "?fields=summary,status")["fields"]
        self.assertEqual(set(f), {"summary", "status"})
        f = self.get(key, "?fields=*all,-description,-comment")["fields"]
        self.assertNotIn("description", f)
        self.assertIn("labels", f)
        f = self.get(key, "?fields=-description")["fields"]
        self.assertIn("summary", f)
        self.assertNotIn("description", f)
        i = self.get(key, "?fields=summary&expand=transitions,changelog")
        self.assertEqual([t["name"] for t in i["transitions"]],
                         ["In Progress", "Done"])
        self.assertEqual(i["changelog"]["total"], 0)

    def test_create_reports_every_problem(self):
        r = self.api("POST", "/rest/api/3/issue", {"fields": {
            "project": {"key": "PROJ"}, "issuetype": {"name": "Epic"},
            "summary": "", "labels": ["has space"], "colour": "red"}})
        self.jerr(r, 400, [], {
            "issuetype": "Specify a valid issue type",
            "summary": "You must specify a summary of the issue.",
            "labels": "The label 'has space' contains spaces which is "
                      "invalid.",
            "colour": "Field 'colour' cannot be set. It is not on the "
                      "appropriate screen, or unknown."})
        r = self.api("POST", "/rest/api/3/issue", {"fields": {
            "project": {"key": "PROJ"}, "summary": "x"}})
        self.jerr(r, 400, [], {"issuetype": "Specify an issue type"})
        self.assertEqual(JD.ctl("GET", "state").json["issues"], [])

    def test_summary_limits(self):
        self.create("x" * 255)
        r = self.api("POST", "/rest/api/3/issue", {"fields": {
            "project": {"key": "PROJ"}, "issuetype": {"id": "10001"},
            "summary": "x" * 256}})
        self.jerr(r, 400, [], {"summary": "Summary must be less than 255 "
                                          "characters."})
        r = self.api("POST", "/rest/api/3/issue", {"fields": {
            "project": {"id": "10100"}, "issuetype": {"id": "10001"},
            "summary": "two\nlines"}})
        self.jerr(r, 400)
        self.assertIn("newline", r.json["errors"]["summary"])

    def test_create_needs_permission(self):
        r = self.api("POST", "/rest/api/3/issue", {"fields": {
            "project": {"key": "PROJ"}, "issuetype": {"name": "Task"},
            "summary": "x"}}, who=VIEWER)
        self.jerr(r, 400, [], {"project": "You do not have permission to "
                                          "create issues in this project."})
        for who in (OUTSIDER,):
            r = self.api("POST", "/rest/api/3/issue", {"fields": {
                "project": {"key": "PROJ"}, "issuetype": {"name": "Task"},
                "summary": "x"}}, who=who)
            self.jerr(r, 400, [], {"project": "Specify a valid project ID "
                                              "or key"})
        r = self.api("POST", "/rest/api/3/issue", {"fields": {}}, who=None)
        self.jerr(r, 401, [NOT_AUTH])

    def test_adf_valid_documents_accepted(self):
        docs = [
            doc("plain"),
            {"type": "doc", "version": 1, "content": []},
            {"type": "doc", "version": 1, "content": [
                {"type": "heading", "attrs": {"level": 2}, "content": [
                    {"type": "text", "text": "Title"}]},
                {"type": "paragraph", "content": [
                    {"type": "text", "text": "bold", "marks": [
                        {"type": "strong"}]},
                    {"type": "hardBreak"},
                    {"type": "text", "text": "code", "marks": [
                        {"type": "code"}]},
                    {"type": "text", "text": "link", "marks": [
                        {"type": "link", "attrs": {
                            "href": "https://example.com"}},
                        {"type": "em"}]}]},
                {"type": "bulletList", "content": [
                    {"type": "listItem", "content": [
                        {"type": "paragraph", "content": [
                            {"type": "text", "text": "one"}]},
                        {"type": "orderedList", "attrs": {"order": 1},
                         "content": [{"type": "listItem", "content": [
                             {"type": "paragraph"}]}]}]}]},
                {"type": "codeBlock", "attrs": {"language": "c"},
                 "content": [{"type": "text", "text": "int x;\n"}]},
                {"type": "blockquote", "content": [
                    {"type": "paragraph", "content": [
                        {"type": "text", "text": "quoted"}]}]},
                {"type": "rule"},
                {"type": "table", "content": [{"type": "tableRow",
                                               "content": [
                    {"type": "tableHeader", "content": [
                        {"type": "paragraph"}]},
                    {"type": "tableCell", "content": [
                        {"type": "paragraph"}]}]}]}]}]
        for d in docs:
            key = self.create(description=d)["key"]
            self.assertEqual(self.get(key)["fields"]["description"], d)
            r = self.api("PUT", "/rest/api/3/issue/" + key,
                         {"fields": {"description": d}})
            self.assertEqual(r.status, 204, r.text)

    def test_adf_not_a_document(self):
        key = self.create()["key"]
        for bad in ("plain text", {"type": "doc", "content": []},
                    {"type": "doc", "version": 2, "content": []},
                    {"type": "paragraph", "content": []}, ["doc"]):
            r = self.api("PUT", "/rest/api/3/issue/" + key,
                         {"fields": {"description": bad}})
            self.jerr(r, 400, [], {"description": NO_ADF})
            r = self.api("POST", "/rest/api/3/issue", {"fields": {
                "project": {"key": "PROJ"}, "issuetype": {"name": "Task"},
                "summary": "x", "description": bad}})
            self.jerr(r, 400, [], {"description": NO_ADF})

    def test_adf_broken_inside(self):
        """Documents that break the ADF schema inside: 400 INVALID_INPUT,
        and nothing changes."""
        key = self.create(description=doc("keep"))["key"]
        p = lambda *c: {"type": "paragraph", "content": list(c)}
        t = lambda s, *m: dict({"type": "text", "text": s},
                               **({"marks": list(m)} if m else {}))
        bads = [
            [t("text at the top level")],
            [p(t(""))],
            [p(t("x", {"type": "bold"}))],
            [p(t("x", {"type": "code"}, {"type": "strong"}))],
            [p(t("x", {"type": "link"}))],
            [{"type": "heading", "content": [t("no level")]}],
            [{"type": "heading", "attrs": {"level": 7}}],
            [{"type": "bulletList", "content": []}],
            [{"type": "bulletList", "content": [p(t("not an item"))]}],
            [{"type": "codeBlock", "content": [t("x", {"type": "em"})]}],
            [p(p(t("nested")))],
            [{"type": "unknownNode"}],
            [p(t("x", {"type": "textColor", "attrs": {"color": "red"}}))],
            [dict(p(t("x")), extra=True)],
            [{"type": "listItem", "content": [p(t("x"))]}],
        ]
        for content in bads:
            d = {"type": "doc", "version": 1, "content": content}
            r = self.api("PUT", "/rest/api/3/issue/" + key,
                         {"fields": {"description": d, "summary": "new"}})
            self.jerr(r, 400, ["INVALID_INPUT"], {})
        f = self.get(key)["fields"]
        self.assertEqual((f["summary"], f["description"]),
                         ("Dark mode", doc("keep")))

    def test_description_length_limit(self):
        self.config(description_max=200)
        key = self.create()["key"]
        r = self.api("PUT", "/rest/api/3/issue/" + key,
                     {"fields": {"description": doc("y" * 300)}})
        self.jerr(r, 400)
        self.assertIn("exceeds the allowed limit of 200 characters",
                      r.json["errors"]["description"])

    def test_edit_fields(self):
        key = self.create(description=doc("old"), labels=["a"])["key"]
        r = self.api("PUT", "/rest/api/3/issue/" + key, {"fields": {
            "summary": "New", "description": doc("new"),
            "labels": ["b", "c"]}})
        self.assertEqual((r.status, r.text), (204, ""))
        i = self.get(key, "?expand=changelog")
        self.assertEqual((i["fields"]["summary"], i["fields"]["description"],
                          i["fields"]["labels"]), ("New", doc("new"),
                                                   ["b", "c"]))
        items = i["changelog"]["histories"][0]["items"]
        self.assertEqual([x["field"] for x in items],
                         ["summary", "description", "labels"])
        self.assertEqual((items[0]["fromString"], items[0]["toString"]),
                         ("Dark mode", "New"))
        self.assertEqual((items[2]["fromString"], items[2]["toString"]),
                         ("a", "b c"))
        r = self.api("PUT", "/rest/api/3/issue/%s?returnIssue=true" % key,
                     {"fields": {"summary": "Newer"}})
        self.assertEqual((r.status, r.json["fields"]["summary"]),
                         (200, "Newer"))
        r = self.api("PUT", "/rest/api/3/issue/" + key,
                     {"fields": {"description": None}})
        self.assertEqual(r.status, 204, r.text)
        self.assertIsNone(self.get(key)["fields"]["description"])

    def test_edit_update_operations(self):
        key = self.create(labels=["keep", "old"])["key"]
        r = self.api("PUT", "/rest/api/3/issue/" + key, {"update": {
            "labels": [{"add": "new"}, {"remove": "old"}],
            "summary": [{"set": "Set by update"}]}})
        self.assertEqual(r.status, 204, r.text)
        f = self.get(key)["fields"]
        self.assertEqual((f["labels"], f["summary"]),
                         (["keep", "new"], "Set by update"))
        r = self.api("PUT", "/rest/api/3/issue/" + key, {"update": {
            "labels": [{"set": ["only"]}]}})
        self.assertEqual(self.get(key)["fields"]["labels"], ["only"])
        r = self.api("PUT", "/rest/api/3/issue/" + key, {"update": {
            "labels": [{"add": "with space"}]}})
        self.jerr(r, 400)
        self.assertIn("labels", r.json["errors"])
        r = self.api("PUT", "/rest/api/3/issue/" + key, {"update": {
            "labels": [{"append": "x"}]}})
        self.jerr(r, 400)
        r = self.api("PUT", "/rest/api/3/issue/" + key, {
            "fields": {"labels": ["a"]}, "update": {"labels": [
                {"add": "b"}]}})
        self.jerr(r, 400)
        self.assertIn("labels", r.json["errors"])
        self.assertEqual(self.get(key)["fields"]["labels"], ["only"])

    def test_edit_cannot_set_status_or_unknown_fields(self):
        key = self.create()["key"]
        r = self.api("PUT", "/rest/api/3/issue/" + key, {"fields": {
            "status": {"name": "Done"}, "summary": "x"}})
        self.jerr(r, 400, [], {"status": "Field 'status' cannot be set. It "
                                         "is not on the appropriate screen, "
                                         "or unknown."})
        self.assertEqual(self.get(key)["fields"]["summary"], "Dark mode")

    def test_edit_needs_edit_permission(self):
        key = self.create()["key"]
        r = self.api("PUT", "/rest/api/3/issue/" + key,
                     {"fields": {"summary": "x", "labels": ["y"]}},
                     who=VIEWER)
        self.jerr(r, 400)
        self.assertEqual(set(r.json["errors"]), {"summary", "labels"})
        r = self.api("PUT", "/rest/api/3/issue/" + key,
                     {"fields": {"summary": "x"}}, who=OUTSIDER)
        self.jerr(r, 404, [NO_ISSUE])
        r = self.api("PUT", "/rest/api/3/issue/%s?notifyUsers=false" % key,
                     {"fields": {"summary": "x"}}, who=ALICE)
        self.jerr(r, 403)
        self.assertEqual(self.get(key)["fields"]["summary"], "Dark mode")

    def test_delete_through_the_api(self):
        key = self.create()["key"]
        self.jerr(self.api("DELETE", "/rest/api/3/issue/" + key, who=ALICE),
                  403, ["You do not have permission to delete issues in this "
                        "project."])
        r = self.api("DELETE", "/rest/api/3/issue/" + key)
        self.assertEqual(r.status, 204, r.text)
        self.jerr(self.api("GET", "/rest/api/3/issue/" + key), 404,
                  [NO_ISSUE])

    # -- workflows -------------------------------------------------------
    def transitions(self, key, who=BOT):
        r = self.api("GET", "/rest/api/3/issue/%s/transitions" % key,
                     who=who)
        self.assertEqual(r.status, 200, r.text)
        return r.json["transitions"]

    def test_transitions_from_the_current_status(self):
        key = self.create()["key"]
        ts = self.transitions(key)
        self.assertEqual([(t["id"], t["name"], t["to"]["name"],
                           t["to"]["statusCategory"]["key"], t["isGlobal"])
                          for t in ts],
                         [("21", "In Progress", "In Progress",
                           "indeterminate", True),
                          ("31", "Done", "Done", "done", True)])
        r = self.api("POST", "/rest/api/3/issue/%s/transitions" % key,
                     {"transition": {"id": "31"}})
        self.assertEqual((r.status, r.text), (204, ""))
        f = self.get(key)["fields"]
        self.assertEqual((f["status"]["name"], f["resolution"]["name"]),
                         ("Done", "Done"))
        self.assertRegex(f["resolutiondate"], JIRA_TIME)
        self.assertEqual([t["id"] for t in self.transitions(key)],
                         ["11", "21"])
        self.api("POST", "/rest/api/3/issue/%s/transitions" % key,
                 {"transition": {"id": "11"}})
        f = self.get(key)["fields"]
        self.assertEqual((f["status"]["name"], f["resolution"],
                          f["resolutiondate"]), ("To Do", None, None))

    def test_transition_not_allowed_now(self):
        JD.ctl("POST", "projects", {"key": "FLOW", "workflow": {
            "statuses": [{"name": "Open", "category": "new"},
                         {"name": "Doing", "category": "indeterminate"},
                         {"name": "Closed", "category": "done"}],
            "transitions": [
                {"id": "4", "name": "Start", "to": "Doing",
                 "from": ["Open"]},
                {"id": "5", "name": "Close", "to": "Closed",
                 "from": ["Doing"]}]}})
        JD.ctl("POST", "users", {"email": BOT, "projects": {
            "FLOW": "admin"}})
        key = self.create(project={"key": "FLOW"})["key"]
        self.assertEqual([t["id"] for t in self.transitions(key)], ["4"])
        for tid in ("5", "999"):
            r = self.api("POST", "/rest/api/3/issue/%s/transitions" % key,
                         {"transition": {"id": tid}})
            self.jerr(r, 400, ["Transition id '%s' is not valid for this "
                               "issue." % tid], {})
        r = self.api("POST", "/rest/api/3/issue/%s/transitions" % key, {})
        self.jerr(r, 400)
        self.api("POST", "/rest/api/3/issue/%s/transitions" % key,
                 {"transition": {"id": "4"}})
        self.assertEqual([t["id"] for t in self.transitions(key)], ["5"])

    def test_transitions_need_permission(self):
        key = self.create()["key"]
        self.assertEqual(self.transitions(key, who=VIEWER), [])
        r = self.api("POST", "/rest/api/3/issue/%s/transitions" % key,
                     {"transition": {"id": "31"}}, who=VIEWER)
        self.jerr(r, 400)
        self.jerr(self.api("GET", "/rest/api/3/issue/%s/transitions" % key,
                           who=OUTSIDER), 404)

    def test_workflow_change_between_two_syncs(self):
        """An admin renames a transition, removes another and adds one
        between two syncs: the next GET shows it at once."""
        key = self.create()["key"]
        before = {t["id"]: t["name"] for t in self.transitions(key)}
        self.assertEqual(before, {"21": "In Progress", "31": "Done"})
        r = JD.ctl("PATCH", "projects/PROJ/workflow/transitions/31",
                   {"name": "Ship it"})
        self.assertEqual(r.status, 200, r.text)
        r = JD.ctl("DELETE", "projects/PROJ/workflow/transitions/21")
        self.assertEqual(r.status, 204, r.text)
        JD.ctl("POST", "projects/PROJ/workflow/transitions",
               {"id": "41", "name": "Won't do", "to": "Done",
                "from": ["To Do"]})
        after = [(t["id"], t["name"], t["to"]["name"])
                 for t in self.transitions(key)]
        self.assertEqual(after, [("31", "Ship it", "Done"),
                                 ("41", "Won't do", "Done")])
        r = self.api("POST", "/rest/api/3/issue/%s/transitions" % key,
                     {"transition": {"id": "21"}})
        self.jerr(r, 400)
        # One issue type only; a whole new workflow for the other.
        r = JD.ctl("POST", "projects/PROJ/workflow", {
            "issuetype": "Bug", "statuses": [
                {"name": "Triage", "category": "new"},
                {"name": "Fixed", "category": "done"}],
            "transitions": [{"id": "7", "name": "Fix", "to": "Fixed"}]})
        self.assertEqual(r.status, 200, r.text)
        bug = self.create(issuetype={"name": "Bug"})["key"]
        self.assertEqual(self.get(bug)["fields"]["status"]["name"], "Triage")
        self.assertEqual([t["id"] for t in self.transitions(bug)], ["7"])
        self.assertEqual(JD.ctl("DELETE", "projects/PROJ/workflow/"
                                "transitions/999").status, 404)

    # -- search ----------------------------------------------------------
    def search(self, jql, who=BOT, **kw):
        r = self.api("POST", "/rest/api/3/search/jql", dict(kw, jql=jql),
                     who=who)
        self.assertEqual(r.status, 200, r.text)
        return r.json

    def test_search_finds_the_marker(self):
        a = self.create("First", description=doc(
            "Body", "pbsync:feature=7b2f-11aa"), labels=["pb"])
        self.create("Second", description=doc("pbsync:feature=99"))
        self.create("Third", who=ALICE)
        r = self.search('project = PROJ AND text ~ "\\"pbsync feature '
                        '7b2f 11aa\\""', fields=["summary", "labels"])
        self.assertEqual([(i["key"], i["fields"]) for i in r["issues"]],
                         [("PROJ-1", {"summary": "First",
                                      "labels": ["pb"]})])
        self.assertTrue(r["isLast"])
        self.assertNotIn("nextPageToken", r)
        r = self.search("project = PROJ AND labels = pb")
        self.assertEqual(r["issues"], [{"id": a["id"]}])
        keys = lambda r: [i["key"] for i in r["issues"]]
        r = self.search("project = PROJ AND creator = currentUser() "
                        "ORDER BY created DESC", fields=["key"])
        self.assertEqual(keys(r), ["PROJ-2", "PROJ-1"])
        r = self.search('project in (PROJ, OTHER) AND summary ~ "sec*"',
                        fields=["summary"])
        self.assertEqual(keys(r), ["PROJ-2"])
        r = self.search("project = PROJ AND statusCategory != Done AND "
                        "NOT labels = pb ORDER BY key ASC", fields=["key"])
        self.assertEqual(keys(r), ["PROJ-2", "PROJ-3"])
        r = self.search("issuekey = PROJ-3 OR id = %s" % a["id"],
                        fields=["key"])
        self.assertEqual(sorted(keys(r)), ["PROJ-1", "PROJ-3"])
        r = self.api("GET", "/rest/api/3/search/jql?jql=project%3DPROJ"
                     "&fields=summary&maxResults=1")
        self.assertEqual((r.status, len(r.json["issues"]),
                          r.json["isLast"]), (200, 1, False))

    def test_search_pages(self):
        for n in range(5):
            self.create("Issue %d" % n)
        seen, token, pages = [], None, 0
        while True:
            body = {"fields": ["summary"], "maxResults": 2}
            if token:
                body["nextPageToken"] = token
            r = self.search("project = PROJ ORDER BY created ASC", **body)
            pages += 1
            seen += [i["fields"]["summary"] for i in r["issues"]]
            if r["isLast"]:
                break
            token = r["nextPageToken"]
        self.assertEqual((pages, seen), (3, ["Issue %d" % n
                                             for n in range(5)]))
        r = self.api("POST", "/rest/api/3/search/jql", {
            "jql": "project = PROJ", "nextPageToken": "garbage"})
        self.jerr(r, 400)

    def test_search_refuses_bad_queries(self):
        cases = [
            ("", "Unbounded JQL queries are not allowed here. Please add a "
             "search restriction to your query."),
            ("ORDER BY created DESC", "Unbounded JQL queries are not "
             "allowed here. Please add a search restriction to your query."),
            ("colour = red", "Field 'colour' does not exist or you do not "
             "have permission to view it."),
            ("project = NOPE", "The value 'NOPE' does not exist for the "
             "field 'project'."),
            ("project = PROJ AND", None), ("project = (", None),
            ("summary = x", None), ('text ~ "*x"', None),
        ]
        for jql, message in cases:
            r = self.api("POST", "/rest/api/3/search/jql", {"jql": jql})
            self.jerr(r, 400, [message] if message else None)
        # A project the user cannot browse does not exist for them.
        r = self.api("POST", "/rest/api/3/search/jql",
                     {"jql": "project = PROJ"}, who=OUTSIDER)
        self.jerr(r, 400, ["The value 'PROJ' does not exist for the field "
                           "'project'."])

    def test_old_search_is_gone(self):
        for method in ("GET", "POST"):
            r = self.api(method, "/rest/api/3/search?jql=project%3DPROJ",
                         {"jql": "project = PROJ"} if method == "POST"
                         else None)
            self.jerr(r, 410)
            self.assertIn("/rest/api/3/search/jql", r.json[
                "errorMessages"][0])

    def test_search_lags_until_reconciled(self):
        self.config(search_lag_s=30)
        a = self.create("Fresh", labels=["m1"])
        self.assertEqual(self.search("labels = m1")["issues"], [])
        r = self.search("labels = m1", reconcileIssues=[int(a["id"])])
        self.assertEqual(r["issues"], [{"id": a["id"]}])
        self.config(search_lag_s=0)
        self.assertEqual(self.search("labels = m1")["issues"],
                         [{"id": a["id"]}])

    def test_search_sees_only_browsable_issues(self):
        self.create("in PROJ")
        JD.ctl("POST", "issues", {"project": "OTHER", "summary": "in OTHER",
                                  "as_user": BOT})
        r = self.search('text ~ "in"', who=ALICE, fields=["summary"])
        self.assertEqual([i["fields"]["summary"] for i in r["issues"]],
                         ["in PROJ"])
        r = self.search('text ~ "in"', fields=["summary"])
        self.assertEqual(len(r["issues"]), 2)

    # -- webhooks: the admin API -----------------------------------------
    def test_webhooks_need_a_jira_admin(self):
        body = {"name": "x", "url": RCV.url + "/x",
                "events": ["jira:issue_created"]}
        self.jerr(self.api("POST", "/rest/webhooks/1.0/webhook", body,
                           who=ALICE), 403)
        self.jerr(self.api("GET", "/rest/webhooks/1.0/webhook", who=None),
                  401, [NOT_AUTH])

    def test_webhook_crud_never_shows_the_secret(self):
        h = self.hook()
        self.assertTrue(re.search(r"/rest/webhooks/1\.0/webhook/\d+$",
                                  h["self"]))
        self.assertEqual((h["name"], h["events"], h["filters"], h["enabled"],
                          h["excludeBody"], h["lastUpdatedUser"]),
                         ("pbsync", ["jira:issue_created",
                                     "jira:issue_updated",
                                     "jira:issue_deleted"],
                          {"issue-related-events-section":
                           "project = PROJ"}, True, False, "bot-1"))
        hid = h["self"].rsplit("/", 1)[1]
        path = "/rest/webhooks/1.0/webhook/" + hid
        answers = [h, self.api("GET", path).json,
                   self.api("GET", "/rest/webhooks/1.0/webhook").json]
        r = self.api("PUT", path, {"name": "renamed"})
        self.assertEqual((r.status, r.json["name"]), (200, "renamed"))
        answers.append(r.json)
        for a in answers:
            self.assertNotIn(SECRET, json.dumps(a))
            self.assertNotIn("secret", json.dumps(a))
        # The secret survived the update: deliveries are still signed.
        self.create()
        self.wait()
        self.assertIn("x-hub-signature", RCV.hooks("/jira")[0][0])
        self.assertEqual(self.api("DELETE", path).status, 204)
        self.jerr(self.api("GET", path), 404)
        self.assertEqual(self.api("GET", "/rest/webhooks/1.0/webhook").json,
                         [])

    def test_webhook_validation(self):
        for body, field in (
                ({"url": RCV.url, "events": ["jira:issue_created"]}, "name"),
                ({"name": "x", "events": ["jira:issue_created"]}, "url"),
                ({"name": "x", "url": "ftp://x", "events": []}, "url"),
                ({"name": "x", "url": RCV.url, "events": ["issue_made"]},
                 "events"),
                ({"name": "x", "url": RCV.url, "events": [],
                  "filters": {"issue-related-events-section":
                              "project = NOPE"}}, "filters"),
                ({"name": "x", "url": RCV.url, "events": [],
                  "filters": {"issue-related-events-section":
                              "project ="}}, "filters")):
            r = self.api("POST", "/rest/webhooks/1.0/webhook", body)
            self.jerr(r, 400)
            self.assertIn(field, r.json["errors"])
        self.config(require_https=True)
        r = self.api("POST", "/rest/webhooks/1.0/webhook", {
            "name": "x", "url": RCV.url + "/x", "events": []})
        self.jerr(r, 400)

    # -- webhooks: deliveries --------------------------------------------
    def test_created_delivery(self):
        self.hook()
        a = self.create(description=doc("Hello"), labels=["pb"])
        self.wait()
        (headers, p, raw), = RCV.hooks("/jira")
        self.assertEqual(set(p), {"timestamp", "webhookEvent",
                                  "issue_event_type_name", "user", "issue"})
        self.assertEqual((p["webhookEvent"], p["issue_event_type_name"]),
                         ("jira:issue_created", "issue_created"))
        self.assertIsInstance(p["timestamp"], int)
        self.assertEqual((p["user"]["accountId"], p["issue"]["id"],
                          p["issue"]["key"]), ("bot-1", a["id"], "PROJ-1"))
        self.assertTrue(p["issue"]["self"].endswith(
            "/rest/api/2/issue/" + a["id"]))
        f = p["issue"]["fields"]
        self.assertEqual((f["summary"], f["labels"], f["description"],
                          f["status"]["statusCategory"]["key"]),
                         ("Dark mode", ["pb"], "Hello", "new"))
        self.assertEqual(headers["content-type"],
                         "application/json; charset=utf-8")
        self.assertEqual(headers["user-agent"],
                         "Atlassian Webhook HTTP Client")
        self.assertEqual(headers["x-atlassian-webhook-flow"], "Primary")
        self.assertTrue(headers["x-atlassian-webhook-identifier"])
        self.assertNotIn("x-atlassian-webhook-retry", headers)
        self.assertNotIn(b" ", raw[:40])     # compact JSON

    def test_signature_recomputed_independently(self):
        self.hook()
        self.hook(path="/unsigned", secret=None)
        key = self.create()["key"]
        self.api("PUT", "/rest/api/3/issue/" + key,
                 {"fields": {"summary": "x"}})
        JD.ctl("DELETE", "issues/" + key)
        self.wait()
        signed = RCV.hooks("/jira")
        self.assertEqual(len(signed), 3)
        for headers, _, raw in signed:
            want = "sha256=" + hmac.new(SECRET.encode(), raw,
                                        hashlib.sha256).hexdigest()
            self.assertTrue(hmac.compare_digest(headers["x-hub-signature"],
                                                want))
            wrong = "sha256=" + hmac.new(b"another secret", raw,
                                         hashlib.sha256).hexdigest()
            self.assertNotEqual(headers["x-hub-signature"], wrong)
            self.assertNotIn("x-hub-signature-256", headers)
        for headers, _, _ in RCV.hooks("/unsigned"):
            self.assertNotIn("x-hub-signature", headers)
        self.assertEqual(len(RCV.hooks("/unsigned")), 3)

    def test_updated_delivery_changelog(self):
        self.hook()
        key = self.create(description=doc("old"), labels=["a"])["key"]
        self.api("PUT", "/rest/api/3/issue/" + key, {"fields": {
            "summary": "New", "description": doc("new"), "labels": ["b"]}})
        self.api("PUT", "/rest/api/3/issue/" + key, {"fields": {
            "summary": "New"}})         # no change: nothing sent
        ev = self.events()
        self.assertEqual([e["webhookEvent"] for e in ev],
                         ["jira:issue_created", "jira:issue_updated"])
        up = ev[1]
        self.assertEqual(up["issue_event_type_name"], "issue_updated")
        self.assertTrue(up["changelog"]["id"])
        self.assertEqual([(x["field"], x["fieldtype"], x["fieldId"],
                           x["fromString"], x["toString"])
                          for x in up["changelog"]["items"]],
                         [("summary", "jira", "summary", "Dark mode", "New"),
                          ("description", "jira", "description", "old",
                           "new"),
                          ("labels", "jira", "labels", "a", "b")])
        self.assertEqual(up["issue"]["fields"]["description"], "new")

    def test_transition_delivery(self):
        self.hook()
        key = self.create()["key"]
        self.api("POST", "/rest/api/3/issue/%s/transitions" % key,
                 {"transition": {"id": "31"}})
        up = self.events()[1]
        self.assertEqual((up["webhookEvent"], up["issue_event_type_name"]),
                         ("jira:issue_updated", "issue_generic"))
        self.assertEqual([(x["field"], x["from"], x["fromString"], x["to"],
                           x["toString"]) for x in up["changelog"]["items"]],
                         [("resolution", None, None, "10000", "Done"),
                          ("status", "10000", "To Do", "10001", "Done")])
        self.assertEqual(up["issue"]["fields"]["status"]["statusCategory"][
            "key"], "done")

    def test_person_edits_and_deletion_are_delivered(self):
        """A person's edits (control routes) come as the person; pbsync's
        own writes as the bot; deletion as jira:issue_deleted."""
        self.hook()
        r = JD.ctl("POST", "issues", {"project": "PROJ", "summary": "Human",
                                      "description": "one\n\ntwo",
                                      "as_user": ALICE})
        self.assertEqual(r.status, 201, r.text)
        key = r.json["key"]
        self.assertEqual(self.get(key)["fields"]["description"],
                         doc("one", "two"))
        r = JD.ctl("PUT", "issues/" + key, {"as_user": ALICE,
                                             "summary": "Edited",
                                             "status": "In Progress"})
        self.assertEqual((r.status, r.json["status"]["name"]),
                         (200, "In Progress"))
        self.api("PUT", "/rest/api/3/issue/" + key, {"update": {
            "labels": [{"add": "synced"}]}})
        r = JD.ctl("DELETE", "issues/" + key, {"as_user": BOT})
        self.assertEqual(r.status, 204, r.text)
        ev = self.events()
        self.assertEqual([(e["webhookEvent"], e["user"]["accountId"])
                          for e in ev],
                         [("jira:issue_created", "alice-1"),
                          ("jira:issue_updated", "alice-1"),
                          ("jira:issue_updated", "alice-1"),
                          ("jira:issue_updated", "bot-1"),
                          ("jira:issue_deleted", "bot-1")])
        deleted = ev[-1]
        self.assertEqual((deleted["issue"]["key"],
                          deleted["issue_event_type_name"]),
                         (key, "issue_deleted"))
        self.assertNotIn("changelog", deleted)
        self.jerr(self.api("GET", "/rest/api/3/issue/" + key), 404)
        r = JD.ctl("POST", "issues/%s/transitions" % key, {"transition": 31})
        self.assertEqual(r.status, 404)

    def test_person_moves_an_issue(self):
        """Moved to OTHER: the id kept, a new key there, the old key
        answering with the issue in OTHER; the move (issue_moved, its
        project and Key items) goes only to a hook whose JQL matches the
        issue in its new project."""
        self.hook(path="/proj")
        self.hook(path="/other", jql="project = OTHER")
        old = self.create()
        r = JD.ctl("POST", "issues/%s/move" % old["key"], {
            "to_project": "OTHER", "as_user": ALICE})
        self.assertEqual((r.status, r.json["key"], r.json["project"]),
                         (200, "OTHER-1", "OTHER"), r.text)
        for ref in (old["id"], old["key"], "OTHER-1"):
            i = self.get(ref)
            self.assertEqual((i["id"], i["key"], i["fields"]["project"]
                              ["key"]), (old["id"], "OTHER-1", "OTHER"))
        self.jerr(self.api("GET", "/rest/api/3/issue/" + old["key"],
                           who=ALICE), 404, [NO_ISSUE])
        self.assertEqual([e["webhookEvent"] for e in self.events("/proj")],
                         ["jira:issue_created"])
        moved = self.events("/other")
        self.assertEqual([(e["webhookEvent"], e["issue_event_type_name"],
                           e["issue"]["key"]) for e in moved],
                         [("jira:issue_updated", "issue_moved", "OTHER-1")])
        self.assertEqual([(x["field"], x["to"], x["toString"]) for x in
                          moved[0]["changelog"]["items"]][1:],
                         [("Key", None, "OTHER-1")])
        self.assertEqual(moved[0]["changelog"]["items"][0]["to"], "10200")
        self.assertEqual(JD.ctl("POST", "issues/OTHER-1/move", {
            "to_project": "OTHER"}).status, 400)

    def test_jql_and_event_filters(self):
        self.hook(path="/proj")
        self.hook(path="/labelled", jql="project = PROJ AND labels = pb")
        self.hook(path="/created", events=["jira:issue_created"], jql="")
        self.create()
        key = self.create(labels=["pb"])["key"]
        self.create(project={"key": "OTHER"})
        self.api("PUT", "/rest/api/3/issue/" + key,
                 {"fields": {"summary": "x"}})
        self.wait()
        self.assertEqual(len(RCV.hooks("/proj")), 3)
        self.assertEqual([p["issue"]["key"] for _, p, _ in
                          RCV.hooks("/labelled")], [key, key])
        self.assertEqual([p["webhookEvent"] for _, p, _ in
                          RCV.hooks("/created")],
                         ["jira:issue_created"] * 3)

    def test_retries_keep_the_identifier(self):
        """408, 409, 425, 429 and 5xx are retried on retry_schedule, with
        the same identifier and X-Atlassian-Webhook-Retry 1, 2."""
        self.hook()
        RCV.plan["/jira"] = [503, 429]
        self.create()
        self.wait()
        got = RCV.hooks("/jira")
        self.assertEqual(len(got), 3)
        self.assertEqual(len({h["x-atlassian-webhook-identifier"]
                              for h, _, _ in got}), 1)
        self.assertEqual([h.get("x-atlassian-webhook-retry")
                          for h, _, _ in got], [None, "1", "2"])
        self.assertEqual(len({raw for _, _, raw in got}), 1)
        times = [g["t"] for g in RCV.got]
        self.assertGreaterEqual(times[1] - times[0], 0.09)
        self.assertGreaterEqual(times[2] - times[1], 0.19)
        d = JD.ctl("GET", "deliveries").json
        self.assertEqual([(x["attempt"], x["status"]) for x in d],
                         [(1, 503), (2, 429), (3, 200)])
        # The schedule is finite: all attempts fail, the event is dropped.
        RCV.clear()
        RCV.plan["/jira"] = [500, 500, 500, 500]
        self.create()
        self.wait()
        self.assertEqual(len(RCV.hooks("/jira")), 3)

    def test_no_retry_on_other_client_errors(self):
        self.hook()
        for code, attempts in ((400, 1), (404, 1), (410, 1), (408, 2),
                               (409, 2), (425, 2)):
            RCV.clear()
            RCV.plan["/jira"] = [code]
            self.create()
            self.wait()
            self.assertEqual(len(RCV.hooks("/jira")), attempts, code)

    def test_retry_after_a_failed_connection(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        r = self.api("POST", "/rest/webhooks/1.0/webhook", {
            "name": "dead", "url": "http://127.0.0.1:%d/x" % port,
            "events": ["jira:issue_created"]})
        self.assertEqual(r.status, 201, r.text)
        self.create()
        self.wait()
        d = JD.ctl("GET", "deliveries").json
        self.assertEqual([(x["attempt"], x["status"]) for x in d],
                         [(1, None), (2, None), (3, None)])
        self.assertTrue(all(x["error"] for x in d))
        self.assertEqual(len({x["headers"]["x-atlassian-webhook-identifier"]
                              for x in d}), 1)

    def test_duplicates_and_exclude_body(self):
        self.config(duplicate_deliveries=1)
        self.hook()
        self.hook(path="/nobody", excludeBody=True)
        self.create()
        self.wait()
        got = RCV.hooks("/jira")
        self.assertEqual(len(got), 2)
        self.assertEqual(got[0][0]["x-atlassian-webhook-identifier"],
                         got[1][0]["x-atlassian-webhook-identifier"])
        for headers, payload, raw in RCV.hooks("/nobody"):
            self.assertEqual((raw, payload), (b"", None))
            self.assertEqual(headers["x-hub-signature"], "sha256=" +
                             hmac.new(SECRET.encode(), b"",
                                      hashlib.sha256).hexdigest())

    def test_url_variables_and_disabled_hooks(self):
        self.hook(path="/by/${project.key}/${issue.key}?id=${issue.id}")
        h = self.hook(path="/off")
        self.api("PUT", "/rest/webhooks/1.0/webhook/" + h["self"].rsplit(
            "/", 1)[1], {"enabled": False})
        a = self.create()
        self.wait()
        self.assertEqual([g["path"] for g in RCV.got],
                         ["/by/PROJ/PROJ-1?id=" + a["id"]])

    # -- rate limits -----------------------------------------------------
    def test_burst_limit(self):
        key = self.create()["key"]
        self.config(burst_limit=3, burst_window_s=30)
        codes = [self.api("GET", "/rest/api/3/issue/" + key).status
                 for _ in range(3)]
        r = self.api("GET", "/rest/api/3/issue/" + key)
        self.assertEqual(codes, [200, 200, 200])
        self.jerr(r, 429, ["Rate limit exceeded."])
        self.assertEqual(r.headers["ratelimit-reason"], "jira-burst-based")
        self.assertTrue(1 <= int(r.headers["retry-after"]) <= 30)
        self.assertEqual((r.headers["x-ratelimit-limit"],
                          r.headers["x-ratelimit-remaining"]), ("3", "0"))
        self.assertRegex(r.headers["x-ratelimit-reset"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\dZ$")
        # Another endpoint, or another method, has a budget of its own.
        self.assertEqual(self.api("GET", "/rest/api/3/myself").status, 200)
        self.assertEqual(self.api("PUT", "/rest/api/3/issue/" + key, {
            "fields": {"summary": "x"}}).status, 204)
        self.config(burst_window_s=0.3)
        time.sleep(0.35)
        self.assertEqual(self.api("GET", "/rest/api/3/issue/" + key).status,
                         200)

    def test_per_issue_write_limit(self):
        self.config(per_issue_writes=2, per_issue_window_s=30)
        a, b = self.create()["key"], self.create()["key"]
        put = lambda k, s: self.api("PUT", "/rest/api/3/issue/" + k,
                                    {"fields": {"summary": s}})
        self.assertEqual([put(a, "1").status, put(a, "2").status], [204, 204])
        r = self.api("POST", "/rest/api/3/issue/%s/transitions" % a,
                     {"transition": {"id": "31"}})
        self.jerr(r, 429)
        self.assertEqual(r.headers["ratelimit-reason"],
                         "jira-per-issue-on-write")
        self.assertGreaterEqual(int(r.headers["retry-after"]), 1)
        self.assertEqual(put(b, "other issue").status, 204)
        self.assertEqual(self.get(a)["fields"]["status"]["name"], "To Do")
        # Reads are not writes; a refused edit does not count.
        self.get(a)
        self.assertEqual(self.api("PUT", "/rest/api/3/issue/" + b, {
            "fields": {"summary": ""}}).status, 400)
        self.assertEqual(put(b, "second write").status, 204)
        self.config(per_issue_window_s=0.3)
        time.sleep(0.35)
        self.assertEqual(put(a, "3").status, 204)

    def test_quota_and_injected_limits(self):
        self.config(quota_per_hour=2)
        self.api("GET", "/rest/api/3/myself")
        self.api("GET", "/rest/api/3/myself")
        r = self.api("GET", "/rest/api/3/serverInfo")
        self.jerr(r, 429)
        self.assertEqual(r.headers["ratelimit-reason"],
                         "jira-quota-tenant-based")
        self.config(quota_per_hour=0)
        JD.ctl("POST", "faults", {"match": "GET /rest/api/3/myself",
                                  "status": 503})
        r = self.api("GET", "/rest/api/3/myself")
        self.jerr(r, 503)
        self.assertEqual(r.headers["retry-after"], "1")
        JD.ctl("POST", "faults", {"match": "POST /rest/api/3/issue$",
                                  "status": 429, "headers": {
                                      "RateLimit-Reason":
                                      "jira-quota-tenant-based",
                                      "Retry-After": "7"}})
        r = self.api("POST", "/rest/api/3/issue", {"fields": {}})
        self.jerr(r, 429)
        self.assertEqual((r.headers["ratelimit-reason"],
                          r.headers["retry-after"]),
                         ("jira-quota-tenant-based", "7"))
        JD.ctl("POST", "faults", {"match": "GET", "status": 429})
        r = self.api("GET", "/rest/api/3/myself")
        self.assertEqual(r.headers["ratelimit-reason"], "jira-burst-based")

    # -- control ---------------------------------------------------------
    def test_control_and_state(self):
        r = JD.ctl("POST", "config", {"no_such_setting": 1})
        self.assertEqual(r.status, 400)
        key = self.create()["key"]
        st = JD.ctl("GET", "state").json
        i, = st["issues"]
        self.assertEqual((i["key"], i["project"], i["number"],
                          i["status"]["name"], i["status"]["category"],
                          i["reporter"]),
                         (key, "PROJ", 1, "To Do", "new", "bot-1"))
        self.assertEqual(sorted(u["email"] for u in st["users"]),
                         sorted(TOKENS))
        bot = next(u for u in st["users"] if u["email"] == BOT)
        self.assertEqual(bot["tokens"], [TOKENS[BOT]])
        proj = next(p for p in st["projects"] if p["key"] == "PROJ")
        self.assertEqual(sorted(proj["workflows"]), ["Bug", "Task"])
        reqs = JD.ctl("GET", "requests?path=/rest/api/3/issue$").json
        self.assertEqual([(x["method"], x["status"]) for x in reqs],
                         [("POST", 201)])
        self.assertEqual(JD.ctl("POST", "issues/%s/transitions" % key,
                                {"transition": "Done"}).json["status"][
                                    "name"], "Done")
        self.assertEqual(JD.ctl("PUT", "issues/" + key, {
            "status": "Nowhere"}).status, 400)
        self.assertEqual(JD.ctl("POST", "users", {"email": "x@y",
                                                  "projects": {
                                                      "PROJ": "god"}}).status,
                         400)
        JD.ctl("POST", "reset")
        self.assertEqual(JD.ctl("GET", "state").json["issues"], [])

    def test_sandbox(self):
        sb = Proc("jiradouble.py", "--sandbox")
        try:
            self.assertIn("jira-sandbox-token", sb.extra[0])
            r = call(sb.url + "/rest/api/3/issue", "POST", {"fields": {
                "project": {"key": "DEMO"}, "issuetype": {"name": "Story"},
                "summary": "From the sandbox"}}, {"Authorization": basic(
                    "sandbox@example.com", "jira-sandbox-token")})
            self.assertEqual((r.status, r.json["key"]), (201, "DEMO-1"))
            r = call(sb.url + "/rest/webhooks/1.0/webhook", "GET", None, {
                "Authorization": basic("sandbox@example.com",
                                       "jira-sandbox-token")})
            self.assertEqual((r.status, r.json), (200, []))
        finally:
            sb.stop()


if __name__ == "__main__":
    unittest.main()
