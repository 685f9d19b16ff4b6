#!/usr/bin/env python3
"""A faithful double of Jira Cloud's REST API v3 (issues, workflows,
search, admin webhooks), as pbsync uses it.

Contract: shared/reference/more-trackers.md §B, checked against
Atlassian's documentation (developer.atlassian.com: REST v3 issues,
transitions, createmeta, search/jql; webhooks; rate limiting) and the
published ADF JSON schema (@atlaskit/adf-schema, dist/json-schema/v1/
full.json); where they disagree the official behaviour is modelled and
README.md lists the point.  Served at the site root
(https://<site>.atlassian.net):

  Basic auth with e-mail and API token (a wrong token makes the request
  anonymous, as Jira does, with X-Seraph-LoginReason: AUTHENTICATED_FAILED),
  per-user project permissions, /myself, /mypermissions, projects, their
  issue types and createmeta, issues (create, get with ?fields= and
  ?expand=, edit with fields and update operations, delete), descriptions
  as ADF validated like Jira, workflows per project and issue type with
  transitions allowed from the current status, JQL search
  (/rest/api/3/search/jql; the old /search answers 410), admin webhooks
  (/rest/webhooks/1.0/webhook) with JQL filters and a secret, and the
  three rate limits of Jira Cloud (burst, per-issue writes, quota).

Deliveries: every change, through the API or a control route (so pbsync
sees its own writes come back), is a jira:issue_created / _updated /
_deleted event POSTed to each enabled webhook whose events and JQL filter
match, signed with X-Hub-Signature: sha256=<HMAC of the raw body>, and
retried with the same X-Atlassian-Webhook-Identifier on 408, 409, 425,
429, 5xx or a failed connection (the waits are `retry_schedule`).
Shared control API: double.py; Jira's own control routes: README.md.
"""
import base64
import collections
import copy
import hashlib
import hmac
import json
import math
import re
import time
import urllib.parse
from datetime import datetime, timezone

from double import (Double, Refused, Reply, main, new_uuid, ok_status,
                    url_problem)

JSON = "application/json;charset=UTF-8"
NOT_AUTHENTICATED = ("You are not authenticated. Authentication required to "
                     "perform this operation.")
NO_ISSUE = "Issue does not exist or you do not have permission to see it."
NO_ADF = ("Operation value must be an Atlassian Document (see the Atlassian "
          "Document Format)")
SEARCH_GONE = ("The requested API has been removed. Please migrate to the "
               "/rest/api/3/search/jql API. A full migration guideline is "
               "available at https://developer.atlassian.com/changelog/"
               "#CHANGE-2046")
UNBOUNDED = ("Unbounded JQL queries are not allowed here. Please add a "
             "search restriction to your query.")
SUMMARY_MAX, LABEL_MAX = 255, 255
# Status categories (GET /rest/api/3/statuscategory).
CATEGORIES = {
    "undefined": {"id": 1, "key": "undefined", "colorName": "medium-gray",
                  "name": "No Category"},
    "new": {"id": 2, "key": "new", "colorName": "blue-gray",
            "name": "To Do"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
    "indeterminate": {"id": 4, "key": "indeterminate",
                      "colorName": "yellow", "name": "In Progress"}}
# (id, name, description, hierarchyLevel, subtask, avatarId)
ISSUE_TYPES = (
    ("10000", "Epic", "A big user story that needs to be broken down.", 1,
     False, 10307),
    ("10001", "Task", "A small, distinct piece of work.", 0, False, 10318),
    ("10002", "Bug", "A problem or error.", 0, False, 10303),
    ("10003", "Story", "Functionality or a feature expressed as a user "
     "goal.", 0, False, 10315),
    ("10004", "Subtask", "A small piece of work that's part of a larger "
     "task.", -1, True, 10316))
# The workflow of a new company-managed project ("Software Simplified
# Workflow"): three statuses, a global transition into each.
DEFAULT_WORKFLOW = {
    "statuses": [{"name": "To Do", "category": "new", "id": "10000"},
                 {"name": "In Progress", "category": "indeterminate",
                  "id": "3"},
                 {"name": "Done", "category": "done", "id": "10001"}],
    "transitions": [{"id": "11", "name": "To Do", "to": "To Do"},
                    {"id": "21", "name": "In Progress", "to": "In Progress"},
                    {"id": "31", "name": "Done", "to": "Done"}]}
RESOLUTION_DONE = {"id": "10000", "name": "Done",
                   "description": "Work has been completed on this issue."}
# Project permissions the double checks, and role shorthands.
PERMISSIONS = {
    "BROWSE_PROJECTS": "Browse Projects", "CREATE_ISSUES": "Create Issues",
    "EDIT_ISSUES": "Edit Issues", "TRANSITION_ISSUES": "Transition Issues",
    "DELETE_ISSUES": "Delete Issues",
    "ADMINISTER_PROJECTS": "Administer Projects"}
SHORT = {"browse": "BROWSE_PROJECTS", "create": "CREATE_ISSUES",
         "edit": "EDIT_ISSUES", "transition": "TRANSITION_ISSUES",
         "delete": "DELETE_ISSUES", "administer": "ADMINISTER_PROJECTS"}
ROLES = {"viewer": ("browse",),
         "member": ("browse", "create", "edit", "transition"),
         "admin": tuple(SHORT)}
# Webhook events an admin webhook may name (developer.atlassian.com,
# "Available webhook events"); only the issue events are ever sent.
ISSUE_EVENTS = ("jira:issue_created", "jira:issue_updated",
                "jira:issue_deleted")
EVENTS = frozenset(ISSUE_EVENTS + tuple("""comment_created comment_updated
comment_deleted worklog_created worklog_updated worklog_deleted
attachment_created attachment_deleted issuelink_created issuelink_deleted
issue_property_set issue_property_deleted project_created project_updated
project_deleted project_soft_deleted project_restored_deleted
project_archived project_restored_archived jira:version_released
jira:version_unreleased jira:version_created jira:version_moved
jira:version_updated jira:version_deleted user_created user_updated
user_deleted option_voting_changed option_watching_changed
option_unassigned_issues_changed option_subtasks_changed
option_attachments_changed option_issuelinks_changed
option_timetracking_changed sprint_created sprint_deleted sprint_updated
sprint_started sprint_closed board_created board_updated board_deleted
board_configuration_changed jira:worklog_updated""".split()))
# Statuses a failed delivery is retried on (webhooks, "Retry policy").
RETRY_ON = (408, 409, 425, 429)
HOOK_FILTER = "issue-related-events-section"


def jira_time(t):
    """Jira's timestamps: 2026-01-31T19:03:35.123+0000."""
    dt = datetime.fromtimestamp(t, timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d+0000" % (
        dt.microsecond // 1000)


def jerror(status, messages=(), errors=None, headers=None):
    """Jira's error body: {"errorMessages": [...], "errors": {...}}."""
    return Reply(status, {"errorMessages": list(messages),
                          "errors": dict(errors or {})}, headers, ctype=JSON)


def fail(status, messages=(), errors=None, headers=None):
    r = jerror(status, messages, errors, headers)
    return Refused(r, r.data.decode())


def bad_field(name):
    return "Field '%s' cannot be set. It is not on the appropriate " \
        "screen, or unknown." % name


# -- ADF (Atlassian Document Format) ----------------------------------------
#
# The rules of @atlaskit/adf-schema's dist/json-schema/v1/full.json for the
# nodes below; any other node type (extensions, layouts, sync blocks ...)
# is refused, so whatever the double accepts the published schema accepts
# too (the self-test cross-checks this when the schema is at hand).

def _str(v):
    return isinstance(v, str)


def _num(lo=None, hi=None):
    def check(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and \
            (lo is None or v >= lo) and (hi is None or v <= hi)
    return check


def _enum(*values):
    return lambda v: v in values


def _nonempty(v):
    return isinstance(v, str) and len(v) >= 1


def _color(v):
    return isinstance(v, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", v)


def _bool(v):
    return isinstance(v, bool)


LAYOUTS = ("wide", "full-width", "center", "wrap-right", "wrap-left",
           "align-end", "align-start")
# mark -> ({attr: check}, required attrs)
MARKS = {
    "strong": ({}, ()), "em": ({}, ()), "strike": ({}, ()),
    "underline": ({}, ()), "code": ({}, ()),
    "link": ({"href": _str, "title": _str, "id": _str, "collection": _str,
              "occurrenceKey": _str}, ("href",)),
    "subsup": ({"type": _enum("sub", "sup")}, ("type",)),
    "textColor": ({"color": _color}, ("color",)),
    "backgroundColor": ({"color": _color}, ("color",)),
    "annotation": ({"id": _str, "annotationType": _enum("inlineComment")},
                   ("id", "annotationType")),
    "alignment": ({"align": _enum("center", "end")}, ("align",)),
    "indentation": ({"level": _num(1, 6)}, ("level",)),
    "fontSize": ({"fontSize": _enum("small")}, ("fontSize",)),
}
TEXT_MARKS = ("link", "em", "strong", "strike", "subsup", "underline",
              "textColor", "annotation", "backgroundColor")
CODE_MARKS = ("code", "link", "annotation")
LOCAL = {"localId": _str}
INLINE = ("text", "hardBreak", "mention", "emoji", "date", "status",
          "inlineCard", "placeholder")
LIST_ITEM = ("paragraph", "bulletList", "orderedList", "taskList",
             "mediaSingle", "codeBlock")
QUOTE = ("paragraph", "orderedList", "bulletList", "codeBlock",
         "mediaSingle", "mediaGroup")
PANEL = ("paragraph", "heading", "bulletList", "orderedList", "blockCard",
         "mediaGroup", "mediaSingle", "codeBlock", "taskList", "rule",
         "decisionList")
CELL = ("paragraph", "panel", "blockquote", "orderedList", "bulletList",
        "rule", "heading", "codeBlock", "mediaSingle", "mediaGroup",
        "decisionList", "taskList", "blockCard", "embedCard",
        "nestedExpand")
NON_NESTABLE = ("paragraph", "panel", "blockquote", "orderedList",
                "bulletList", "rule", "heading", "codeBlock", "mediaGroup",
                "mediaSingle", "decisionList", "taskList", "table",
                "blockCard", "embedCard")
NESTED_EXPAND = ("paragraph", "heading", "mediaSingle", "mediaGroup",
                 "codeBlock", "bulletList", "orderedList", "taskList",
                 "decisionList", "rule", "panel", "blockquote")
DOC = ("paragraph", "heading", "bulletList", "orderedList", "codeBlock",
       "blockquote", "rule", "panel", "table", "mediaSingle", "mediaGroup",
       "taskList", "decisionList", "expand", "blockCard", "embedCard")
CELL_ATTRS = dict(LOCAL, colspan=_num(), rowspan=_num(),
                  colwidth=lambda v: isinstance(v, list) and all(
                      _num()(x) for x in v), background=_str,
                  valign=_enum("top", "middle", "bottom"))
# node -> (attrs {name: check}, required attrs, children or None,
#          children required (minItems 1), node required keys)
NODES = {
    "paragraph": (LOCAL, (), INLINE, False),
    "heading": (dict(LOCAL, level=_num(1, 6)), ("level",), INLINE, False),
    "bulletList": (LOCAL, (), ("listItem",), True),
    "orderedList": (dict(LOCAL, order=_num(0)), (), ("listItem",), True),
    "listItem": (LOCAL, (), LIST_ITEM, True),
    "codeBlock": (dict(LOCAL, language=_str, uniqueId=_str, wrap=_bool,
                       hideLineNumbers=_bool), (), ("text",), False),
    "blockquote": (LOCAL, (), QUOTE, True),
    "rule": (LOCAL, (), None, False),
    "panel": (dict(LOCAL, panelType=_enum(
        "info", "note", "tip", "warning", "error", "success", "custom"),
        panelIcon=_str, panelIconId=_str, panelIconText=_str,
        panelColor=_str), ("panelType",), PANEL, True),
    "table": (dict(displayMode=_enum("default", "fixed"),
                   isNumberColumnEnabled=_bool,
                   layout=_enum("wide", "full-width", "center", "align-end",
                                "align-start", "default"),
                   localId=_nonempty, width=_num()), (), ("tableRow",), True),
    "tableRow": (LOCAL, (), ("tableCell", "tableHeader"), False),
    "tableCell": (CELL_ATTRS, (), CELL, True),
    "tableHeader": (CELL_ATTRS, (), CELL, True),
    "mediaSingle": (dict(LOCAL, width=_num(0, 100), widthType=_enum(
        "percentage"), layout=_enum(*LAYOUTS)), ("layout",),
        ("media", "caption"), True),
    "mediaGroup": ({}, (), ("media",), True),
    "media": (dict(LOCAL, type=_enum("link", "file"), id=_nonempty,
                   alt=_str, collection=_str, height=_num(),
                   occurrenceKey=_nonempty, width=_num()),
              ("type", "id", "collection"), None, False),
    "caption": (LOCAL, (), INLINE, False),
    "taskList": (LOCAL, ("localId",), ("taskItem", "taskList"), True),
    "taskItem": (dict(LOCAL, state=_enum("TODO", "DONE")),
                 ("localId", "state"), INLINE, False),
    "decisionList": (LOCAL, ("localId",), ("decisionItem",), True),
    "decisionItem": (dict(LOCAL, state=_str), ("localId", "state"),
                     INLINE, False),
    "expand": (dict(LOCAL, title=_str), (), NON_NESTABLE + (
        "nestedExpand",), True),
    "nestedExpand": (dict(LOCAL, title=_str), (), NESTED_EXPAND, True),
    "blockCard": (dict(LOCAL, url=_str), ("url",), None, False),
    "embedCard": (dict(LOCAL, url=_str, layout=_enum(*LAYOUTS),
                       width=_num(0, 100), originalHeight=_num(),
                       originalWidth=_num()), ("url", "layout"), None, False),
    "text": ({}, (), None, False),
    "hardBreak": (dict(LOCAL, text=_enum("\n")), (), None, False),
    "mention": (dict(LOCAL, id=_str, text=_str, accessLevel=_str,
                     userType=_enum("DEFAULT", "SPECIAL", "APP")), ("id",),
                None, False),
    "emoji": (dict(LOCAL, shortName=_str, id=_str, text=_str),
              ("shortName",), None, False),
    "date": (dict(LOCAL, timestamp=_nonempty), ("timestamp",), None, False),
    "status": (dict(LOCAL, text=_nonempty, color=lambda v: isinstance(
        v, str) and re.fullmatch(r"neutral|purple|blue|red|yellow|green|"
                                 r"#[0-9a-fA-F]{6}", v), style=_str),
               ("text", "color"), None, False),
    "inlineCard": (dict(LOCAL, url=_str), ("url",), None, False),
    "placeholder": (dict(LOCAL, text=_str), ("text",), None, False),
}
# Nodes with a "marks" key (for codeBlock, table, expand: empty).
MARKABLE = {"paragraph", "heading", "codeBlock", "table", "mediaSingle",
            "expand"}
# Nodes that must carry attrs / content (the schema's "required").
NEED_ATTRS = {"heading", "panel", "taskList", "taskItem", "decisionList",
              "decisionItem", "media", "embedCard", "blockCard", "mention",
              "emoji", "date", "status", "inlineCard", "placeholder"}
NEED_CONTENT = {"bulletList", "orderedList", "listItem", "blockquote",
                "panel", "table", "tableRow", "tableCell", "tableHeader",
                "mediaSingle", "mediaGroup", "taskList", "decisionList",
                "expand", "nestedExpand"}


class AdfError(Exception):
    """An invalid document: `shallow` when it is not a document at all
    (Jira: errors.description), else a rule broken inside it."""

    def __init__(self, where, why, shallow=False):
        super().__init__("%s: %s" % (where, why))
        self.shallow = shallow


def adf_check(doc):
    """Raises AdfError unless doc is a valid ADF document."""
    if not isinstance(doc, dict) or doc.get("type") != "doc" or \
            doc.get("version") != 1 or not isinstance(doc.get("content"),
                                                      list):
        raise AdfError("$", "not an ADF document (type doc, version 1, "
                       "content)", shallow=True)
    extra = set(doc) - {"type", "version", "content"}
    if extra:
        raise AdfError("$", "unknown keys %s" % sorted(extra))
    for i, child in enumerate(doc["content"]):
        _adf_node(child, "$.content[%d]" % i, DOC, "doc")


def _adf_attrs(where, attrs, allowed, required):
    if not isinstance(attrs, dict):
        raise AdfError(where, "attrs must be an object")
    for k, v in attrs.items():
        if k not in allowed:
            raise AdfError(where, "unknown attribute %r" % k)
        if not allowed[k](v):
            raise AdfError(where, "bad value for %r" % k)
    for k in required:
        if k not in attrs:
            raise AdfError(where, "missing attribute %r" % k)


def _adf_marks(where, marks, allowed):
    if not isinstance(marks, list):
        raise AdfError(where, "marks must be an array")
    for m in marks:
        kind = m.get("type") if isinstance(m, dict) else None
        if kind not in allowed:
            raise AdfError(where, "mark %r not allowed here" % kind)
        extra = set(m) - {"type", "attrs"}
        if extra:
            raise AdfError(where, "unknown keys %s in mark" % sorted(extra))
        attrs, required = MARKS[kind]
        if "attrs" in m or required:
            _adf_attrs(where + ".marks", m.get("attrs"), attrs, required)


def _node_marks(kind, parent):
    """Which marks a block may carry where it stands."""
    if kind == "paragraph":
        if parent == "doc":
            return ("alignment", "indentation", "fontSize")
        if parent in ("tableCell", "tableHeader"):
            return ("alignment", "fontSize")
        return ("fontSize",) if parent in ("listItem", "panel",
                                           "nestedExpand") else ()
    if kind == "heading":
        if parent == "doc":
            return ("alignment", "indentation")
        return ("alignment",) if parent in ("tableCell",
                                            "tableHeader") else ()
    if kind == "mediaSingle":
        return ("link",)
    return ()


def _adf_node(node, where, allowed, parent):
    kind = node.get("type") if isinstance(node, dict) else None
    if kind not in allowed:
        raise AdfError(where, "node %r not allowed in %s" % (kind, parent))
    if kind not in NODES:
        raise AdfError(where, "node %r is not supported" % kind)
    attrs, required, children, min1 = NODES[kind]
    keys = {"type", "attrs", "content"} | (
        {"marks"} if kind in MARKABLE else set())
    if kind == "text":
        keys = {"type", "text", "marks"}
    elif children is None:
        keys = {"type", "attrs"} | ({"marks"} if kind == "media" else set())
    extra = set(node) - keys
    if extra:
        raise AdfError(where, "unknown keys %s" % sorted(extra))
    if kind in NEED_ATTRS and "attrs" not in node:
        raise AdfError(where, "attrs required")
    if "attrs" in node:
        _adf_attrs(where, node["attrs"], attrs, required)
    if kind == "text":
        if not isinstance(node.get("text"), str) or not node["text"]:
            raise AdfError(where, "text must be a non-empty string")
        if "marks" in node:
            marks = node["marks"]
            if parent == "codeBlock":
                _adf_marks(where, marks, ())
            else:
                kinds = [m.get("type") for m in marks if isinstance(
                    m, dict)] if isinstance(marks, list) else []
                _adf_marks(where, marks, CODE_MARKS if "code" in kinds
                           else TEXT_MARKS)
        return
    if "marks" in node:
        _adf_marks(where, node["marks"], ("link", "annotation")
                   if kind == "media" else _node_marks(kind, parent))
    if children is None:
        return
    if kind in NEED_CONTENT and "content" not in node:
        raise AdfError(where, "content required")
    content = node.get("content", [])
    if not isinstance(content, list):
        raise AdfError(where, "content must be an array")
    if min1 and not content:
        raise AdfError(where, "content must not be empty")
    if kind == "mediaSingle":
        kinds = [c.get("type") if isinstance(c, dict) else None
                 for c in content]
        if kinds not in (["media"], ["media", "caption"]):
            raise AdfError(where, "mediaSingle holds one media and an "
                           "optional caption")
    for i, child in enumerate(content):
        _adf_node(child, "%s.content[%d]" % (where, i), children, kind)


def adf_text(node):
    """The plain text of a document (search, changelog), blocks on lines."""
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return node.get("text", "")
    if kind == "hardBreak":
        return "\n"
    attrs = node.get("attrs") or {}
    if kind in ("mention", "emoji", "status", "placeholder"):
        return attrs.get("text") or attrs.get("shortName") or ""
    if kind in ("inlineCard", "blockCard", "embedCard"):
        return attrs.get("url", "")
    parts = [adf_text(c) for c in node.get("content") or []]
    if kind in INLINE or kind in ("paragraph", "heading", "caption",
                                  "taskItem", "decisionItem", "codeBlock"):
        return "".join(parts)
    return "\n".join(p for p in parts if p)


def _wiki_inline(nodes):
    out = []
    for n in nodes or []:
        kind = n.get("type")
        if kind == "hardBreak":
            out.append("\n")
            continue
        if kind != "text":
            out.append(adf_text(n))
            continue
        s = n.get("text", "")
        for m in n.get("marks") or []:
            t = m.get("type")
            if t == "code":
                s = "{{%s}}" % s
            elif t in ("strong", "em", "strike", "underline"):
                c = {"strong": "*", "em": "_", "strike": "-",
                     "underline": "+"}[t]
                s = c + s + c
            elif t == "link":
                s = "[%s|%s]" % (s, m.get("attrs", {}).get("href", ""))
        out.append(s)
    return "".join(out)


def adf_wiki(node, depth=0, bullet=""):
    """A document as wiki markup: what webhook payloads carry in
    `description` (their fields are in REST v2 form)."""
    if not isinstance(node, dict):
        return None
    kind = node.get("type")
    kids = node.get("content") or []
    if kind == "doc":
        return "\n\n".join(b for b in (adf_wiki(c) for c in kids) if b)
    if kind == "paragraph":
        return _wiki_inline(kids)
    if kind == "heading":
        return "h%d. %s" % (node["attrs"]["level"], _wiki_inline(kids))
    if kind in ("bulletList", "orderedList"):
        mark = bullet + ("*" if kind == "bulletList" else "#")
        return "\n".join(adf_wiki(c, depth + 1, mark) for c in kids)
    if kind == "listItem":
        lines = []
        for c in kids:
            if c.get("type") in ("bulletList", "orderedList"):
                lines.append(adf_wiki(c, depth, bullet))
            else:
                text = adf_wiki(c, depth, bullet)
                lines.append("%s %s" % (bullet, text) if not lines else text)
        return "\n".join(lines)
    if kind == "codeBlock":
        lang = (node.get("attrs") or {}).get("language")
        return "{code%s}%s{code}" % (":" + lang if lang else "",
                                     _wiki_inline(kids))
    if kind == "blockquote":
        return "{quote}%s{quote}" % "\n\n".join(adf_wiki(c) for c in kids)
    if kind == "rule":
        return "----"
    if kind == "table":
        return "\n".join(adf_wiki(c) for c in kids)
    if kind == "tableRow":
        cells = []
        for c in kids:
            sep = "||" if c.get("type") == "tableHeader" else "|"
            cells.append(sep + " ".join(adf_wiki(x) for x in
                                        c.get("content") or []))
        return "".join(cells) + ("||" if kids and kids[-1].get(
            "type") == "tableHeader" else "|")
    if kind == "panel":
        return "{panel}%s{panel}" % "\n\n".join(adf_wiki(c) for c in kids)
    return adf_text(node)


def adf_from_text(text):
    """A person's plain text as the editor stores it: a paragraph per
    blank-line block, hard breaks for single newlines."""
    paras = []
    for block in re.split(r"\n\s*\n", text or ""):
        if not block.strip():
            continue
        content = []
        for i, line in enumerate(block.split("\n")):
            if i:
                content.append({"type": "hardBreak"})
            if line:
                content.append({"type": "text", "text": line})
        paras.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paras}


# -- JQL (the subset pbsync and its tests use) --------------------------------

class JqlError(Exception):
    pass


_TOKEN = re.compile(r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|
    (?P<op>!=|!~|>=|<=|=|~|>|<|\(|\)|,)|
    (?P<word>[^\s"'=!~<>(),]+))""", re.X)
FIELDS = {"project", "key", "issuekey", "issue", "id", "issuetype", "type",
          "status", "statuscategory", "labels", "label", "reporter",
          "creator", "assignee", "summary", "description", "text",
          "created", "createddate", "updated", "updateddate", "resolution"}
TEXT_FIELDS = {"summary", "description", "text"}


def jql_tokens(s):
    out, pos = [], 0
    s = s or ""
    while pos < len(s):
        if not s[pos:].strip():
            break
        m = _TOKEN.match(s, pos)
        if not m or m.end() == pos:
            raise JqlError("Error in the JQL Query: The character '%s' is a "
                           "reserved JQL character. You must enclose it in "
                           "a string or use the escape '\\u%04x' instead. "
                           "(line 1, character %d)" % (
                               s[pos:].strip()[0], ord(s[pos:].strip()[0]),
                               pos + 1))
        if m.group("str") is not None:
            raw = m.group("str")[1:-1]
            out.append(("str", re.sub(r"\\(.)", r"\1", raw)))
        elif m.group("op") is not None:
            out.append(("op", m.group("op")))
        else:
            out.append(("word", m.group("word")))
        pos = m.end()
    return out


class JqlParser:
    """query := [or] [ORDER BY field [ASC|DESC], ...]; or := and (OR and)*;
    and := not (AND not)*; not := NOT not | ( or ) | clause; clause :=
    field op value, op one of = != ~ !~ > >= < <= IN, NOT IN, IS, IS NOT;
    value a word, a string, EMPTY/NULL, currentUser() or a ( list )."""

    def __init__(self, text):
        self.t = jql_tokens(text)
        self.i = 0

    def peek(self, k=0):
        return self.t[self.i + k] if self.i + k < len(self.t) else (None,
                                                                    None)

    def kw(self, *words):
        kind, v = self.peek()
        return kind == "word" and v.lower() in words

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, kind, value=None):
        tok = self.take()
        if tok[0] != kind or (value is not None and tok[1] != value):
            raise JqlError("Error in the JQL Query: Expecting %s but got "
                           "'%s'." % (value or kind, tok[1] or "end of "
                                      "query"))
        return tok

    def parse(self):
        where = None
        if self.peek()[0] is not None and not self.kw("order"):
            where = self.or_()
        order = []
        if self.kw("order"):
            self.take()
            if not self.kw("by"):
                raise JqlError("Error in the JQL Query: Expecting 'by' "
                               "after 'order'.")
            self.take()
            while True:
                kind, field = self.take()
                if kind not in ("word", "str"):
                    raise JqlError("Error in the JQL Query: Expecting a "
                                   "field name after 'order by'.")
                desc = False
                if self.kw("asc", "desc"):
                    desc = self.take()[1].lower() == "desc"
                order.append((field.lower(), desc))
                if self.peek() != ("op", ","):
                    break
                self.take()
        if self.peek()[0] is not None:
            raise JqlError("Error in the JQL Query: Expecting either 'OR' "
                           "or 'AND' but got '%s'." % self.peek()[1])
        return where, order

    def or_(self):
        node = self.and_()
        while self.kw("or"):
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self):
        node = self.not_()
        while self.kw("and"):
            self.take()
            node = ("and", node, self.not_())
        return node

    def not_(self):
        if self.kw("not"):
            self.take()
            return ("not", self.not_())
        if self.peek() == ("op", "("):
            self.take()
            node = self.or_()
            self.expect("op", ")")
            return node
        return self.clause()

    def clause(self):
        kind, field = self.take()
        if kind not in ("word", "str"):
            raise JqlError("Error in the JQL Query: Expecting a field name "
                           "but got '%s'." % (field or "end of query"))
        f = field.lower()
        if f.startswith("cf[") or f.startswith("issue.property"):
            raise JqlError("jiradouble: the field '%s' is not modelled" %
                           field)
        if f not in FIELDS:
            raise JqlError("Field '%s' does not exist or you do not have "
                           "permission to view it." % field)
        if self.kw("in"):
            self.take()
            return ("clause", f, "in", self.values())
        if self.kw("not") and self.peek(1)[0] == "word" and \
                self.peek(1)[1].lower() == "in":
            self.take()
            self.take()
            return ("clause", f, "not in", self.values())
        if self.kw("is"):
            self.take()
            op = "is"
            if self.kw("not"):
                self.take()
                op = "is not"
            if not self.kw("empty", "null"):
                raise JqlError("Error in the JQL Query: Expecting 'EMPTY' "
                               "or 'NULL' after 'IS'.")
            self.take()
            return ("clause", f, op, None)
        kind, op = self.take()
        if kind != "op" or op in ("(", ")", ","):
            raise JqlError("Error in the JQL Query: Expecting operator but "
                           "got '%s'." % (op or "end of query"))
        return ("clause", f, op, self.value())

    def value(self):
        kind, v = self.take()
        if kind == "str":
            return ("str", v)
        if kind != "word":
            raise JqlError("Error in the JQL Query: Expecting a value but "
                           "got '%s'." % (v or "end of query"))
        if self.peek() == ("op", "("):
            self.take()
            self.expect("op", ")")
            if v.lower() != "currentuser":
                raise JqlError("jiradouble: the function '%s()' is not "
                               "modelled" % v)
            return ("fn", "currentuser")
        if v.lower() in ("empty", "null"):
            return ("empty", None)
        return ("word", v)

    def values(self):
        self.expect("op", "(")
        out = [self.value()]
        while self.peek() == ("op", ","):
            self.take()
            out.append(self.value())
        self.expect("op", ")")
        return out


def words(text):
    return re.findall(r"[0-9a-z]+", (text or "").lower())


def text_match(haystack, query):
    """Jira's text search, roughly: a query in quotes is a phrase (the
    words in order), else every word must occur; `word*` is a prefix."""
    hay = words(haystack)
    q = query.strip()
    phrase = len(q) >= 2 and q[0] == q[-1] == '"'
    terms = [(w, w.endswith("*")) for w in re.findall(r"[0-9A-Za-z*]+",
                                                       q.lower())]
    terms = [(w.rstrip("*"), pre) for w, pre in terms if w.rstrip("*")]
    if not terms:
        return False

    def hit(word, term):
        return word.startswith(term[0]) if term[1] else word == term[0]
    if phrase:
        n = len(terms)
        return any(all(hit(hay[i + k], terms[k]) for k in range(n))
                   for i in range(len(hay) - n + 1))
    return all(any(hit(w, t) for w in hay) for t in terms)


def relative_time(v, now):
    """JQL dates: -5m, -2h, -1d, -1w, or "yyyy-mm-dd[ hh:mm]" (UTC)."""
    m = re.fullmatch(r"([-+]?)(\d+)([mhdw])", v.strip())
    if m:
        n = int(m.group(2)) * {"m": 60, "h": 3600, "d": 86400,
                               "w": 604800}[m.group(3)]
        return now - n if m.group(1) != "+" else now + n
    for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return datetime.strptime(v.strip(), fmt).replace(
                tzinfo=timezone.utc).timestamp()
        except ValueError:
            pass
    raise JqlError("Date value '%s' for field 'created' is invalid. Valid "
                   "formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', "
                   "'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. "
                   "'-5d', '4w 2d'." % v)


# -- the double ---------------------------------------------------------------

class Jira(Double):
    name = "jira"
    user_agent = "Atlassian Webhook HTTP Client"
    defaults = dict(
        Double.defaults,
        burst_limit=100,          # jira-burst-based: per endpoint + method
        burst_window_s=1,         # ... in a sliding window this long
        per_issue_writes=20,      # jira-per-issue-on-write, per window
        per_issue_window_s=2,     # seconds
        quota_per_hour=0,         # jira-quota-tenant-based (apps only: 0)
        hook_timeout=20,          # seconds a receiver has to answer
        retry_schedule=[0.5, 1, 2, 4, 8],   # waits before retries 1..5
        search_lag_s=0,           # how long the search index lags writes
        search_page_max=100,      # largest search page with fields
        description_max=32767)    # characters of a description

    # -- state -----------------------------------------------------------
    def reset_state(self):
        self.users = {}          # accountId -> user
        self.tokens = {}         # (email lower, token) -> accountId
        self.projects = {}       # id -> project
        self.statuses = {}       # id -> {"id","name","category"}
        self.issuetypes = {}     # id -> issue type
        self.issues = {}         # id (int) -> issue
        self.hooks = {}          # id (int) -> admin webhook
        self.ids = {"issue": 10000, "project": 10000, "status": 10001,
                    "hook": 0, "history": 10000, "transition": 100,
                    "account": 0}
        self.burst = {}          # (method, route) -> deque of times
        self.writes = {}         # issue id -> deque of write times
        self.after_move = {}     # issue id -> (target, person): see below
        self.quota = collections.deque()
        for i, name, desc, level, sub, avatar in ISSUE_TYPES:
            self.issuetypes[i] = {"id": i, "name": name, "description": desc,
                                  "hierarchyLevel": level, "subtask": sub,
                                  "avatarId": avatar}
        for s in DEFAULT_WORKFLOW["statuses"]:
            self.ensure_status(s)

    def state(self):
        return {"users": [dict(u, tokens=[t for (_, t), a in
                                          self.tokens.items()
                                          if a == u["accountId"]])
                          for u in self.users.values()],
                "projects": [self.project_state(p)
                             for p in self.projects.values()],
                "statuses": list(self.statuses.values()),
                "issuetypes": list(self.issuetypes.values()),
                "issues": [self.issue_state(i) for i in
                           sorted(self.issues.values(),
                                  key=lambda i: i["id"])],
                "webhooks": [dict(h) for h in self.hooks.values()],
                "config": self.config}

    def project_state(self, p):
        return dict(p, workflows={self.issuetypes[t]["name"]: wf
                                  for t, wf in p["workflows"].items()})

    def issue_state(self, i):
        """The internal issue plus what tests read most: the project key,
        the number of its key, the status by name and category, the
        description's text."""
        st = self.statuses[i["status"]]
        out = {k: v for k, v in i.items() if k != "versions"}
        out.update(project=self.projects[i["project"]]["key"],
                   number=int(i["key"].rsplit("-", 1)[1]),
                   issuetype=self.issuetypes[i["issuetype"]]["name"],
                   status={"id": st["id"], "name": st["name"],
                           "category": st["category"]},
                   description_text=adf_text(i["description"])
                   if i["description"] else "")
        return out

    def next_id(self, kind):
        self.ids[kind] += 1
        return self.ids[kind]

    # -- seeding ---------------------------------------------------------
    def ensure_status(self, spec):
        """A status by name (created with its category when new)."""
        if isinstance(spec, str):
            spec = {"name": spec}
        name = str(spec.get("name") or "").strip()
        if not name:
            raise fail(400, ["a status needs a name"])
        for s in self.statuses.values():
            if s["name"].lower() == name.lower():
                return s
        cat = spec.get("category", "indeterminate")
        if cat not in CATEGORIES:
            raise fail(400, ["category: one of %s" % sorted(CATEGORIES)])
        sid = str(spec.get("id") or self.next_id("status"))
        self.statuses[sid] = {"id": sid, "name": name, "category": cat,
                              "description": spec.get("description", "")}
        return self.statuses[sid]

    def make_workflow(self, spec, name):
        """{"statuses": [name | {"name","category","id"?}], "transitions":
        [{"id"?, "name"?, "to": status, "from"?: [status]}]}; no "from" is
        a global transition (from every other status).  The first status
        is where new issues start."""
        spec = copy.deepcopy(spec or DEFAULT_WORKFLOW)
        ids = [self.ensure_status(s)["id"] for s in spec.get("statuses") or
               []]
        if not ids:
            raise fail(400, ["a workflow needs statuses"])
        wf = {"name": spec.get("name") or name, "statuses": ids,
              "initial": ids[0], "transitions": []}
        for t in spec.get("transitions") or []:
            wf["transitions"].append(self.make_transition(wf, t))
        return wf

    def wf_status(self, wf, name):
        for sid in wf["statuses"]:
            s = self.statuses[sid]
            if str(name).lower() in (s["name"].lower(), sid):
                return sid
        raise fail(400, ["status %r is not in the workflow" % name])

    def make_transition(self, wf, t, old=None):
        old = old or {}
        to = self.wf_status(wf, t["to"]) if "to" in t else old.get("to")
        if to is None:
            raise fail(400, ["a transition needs `to`"])
        frm = old.get("from", [])
        if "from" in t:
            frm = [self.wf_status(wf, f) for f in t["from"] or []]
        tid = str(t.get("id") or old.get("id") or self.next_id("transition"))
        if not old and any(x["id"] == tid for x in wf["transitions"]):
            raise fail(400, ["transition id %s exists" % tid])
        return {"id": tid, "name": t.get("name") or old.get("name") or
                self.statuses[to]["name"], "to": to, "from": frm,
                "event": t.get("event", old.get("event", "issue_generic"))}

    def add_user(self, q):
        email = str(q.get("email") or "").strip()
        if not email:
            raise fail(400, ["a user needs an email"])
        aid = str(q.get("account_id") or q.get("accountId") or next(
            (a for a, u in self.users.items()
             if u["email"].lower() == email.lower()), "") or
            "5b10ac8d82e05b22cc7d%04x" % self.next_id("account"))
        u = self.users.get(aid) or {"projects": {}}
        u.update(accountId=aid, email=email,
                 displayName=q.get("display_name") or q.get("displayName")
                 or u.get("displayName") or email.split("@")[0],
                 admin=bool(q.get("admin", u.get("admin", False))),
                 active=bool(q.get("active", u.get("active", True))),
                 accountType=q.get("account_type", u.get("accountType",
                                                         "atlassian")))
        for key, perms in (q.get("projects") or {}).items():
            if isinstance(perms, str):
                if perms not in ROLES:
                    raise fail(400, ["role %r: one of %s" % (
                        perms, sorted(ROLES))])
                perms = ROLES[perms]
            full = []
            for p in perms:
                p = SHORT.get(p, p)
                if p not in PERMISSIONS:
                    raise fail(400, ["permission %r: one of %s" % (
                        p, sorted(SHORT))])
                full.append(p)
            u["projects"][key.upper()] = sorted(set(full))
        self.users[aid] = u
        tokens = q.get("tokens") or ([q["api_token"]] if q.get("api_token")
                                     else [])
        for t in tokens:
            self.tokens[(email.lower(), t)] = aid
        return u

    def add_project(self, q):
        key = str(q.get("key") or "").strip().upper()
        if not re.fullmatch(r"[A-Z][A-Z0-9_]{1,9}", key):
            raise fail(400, ["a project key: an uppercase letter, then 1-9 "
                             "letters, digits or _"])
        if any(p["key"] == key for p in self.projects.values()):
            raise fail(400, ["project %s exists" % key])
        pid = str(q.get("id") or self.next_id("project"))
        types = []
        for name in q.get("issue_types") or ("Task", "Bug", "Story"):
            t = self.type_named(name)
            if t is None:
                tid = str(10005 + len(self.issuetypes))
                t = self.issuetypes[tid] = {
                    "id": tid, "name": name, "description": "",
                    "hierarchyLevel": 0, "subtask": False,
                    "avatarId": 10318}
            types.append(t["id"])
        lead = q.get("lead")
        p = {"id": pid, "key": key, "name": q.get("name") or key.title(),
             "description": q.get("description", ""), "issuetypes": types,
             "workflows": {}, "next_number": 1, "lead": lead}
        wf = q.get("workflow")
        for tid in types:
            p["workflows"][tid] = self.make_workflow(
                (q.get("workflows") or {}).get(self.issuetypes[tid]["name"],
                                               wf),
                "Software Simplified Workflow for Project %s" % key)
        self.projects[pid] = p
        return p

    def type_named(self, name):
        for t in self.issuetypes.values():
            if t["name"].lower() == str(name).lower() or t["id"] == str(
                    name):
                return t
        return None

    def seed(self, data):
        with self.lock:
            super().seed(data)
            for p in data.get("projects") or []:
                self.add_project(p)
            for u in data.get("users") or []:
                self.add_user(u)
            for h in data.get("webhooks") or []:
                h = dict(h)
                self.add_hook(h, self.actor(h.pop("as_user", None)))
            for i in data.get("issues") or []:
                i = dict(i)
                self.human_create(i, self.actor(i.pop("as_user", None)))

    def sandbox(self):
        with self.lock:
            self.add_project({"key": "DEMO", "name": "Sandbox Demo",
                              "issue_types": ["Task", "Bug", "Story"]})
            self.add_user({"email": "sandbox@example.com",
                           "api_token": "jira-sandbox-token",
                           "account_id": "5b10ac8d82e05b22cc7d4ef5",
                           "display_name": "Sandbox User", "admin": True,
                           "projects": {"DEMO": "admin"}})
        return ["Jira sandbox: e-mail sandbox@example.com, API token "
                "jira-sandbox-token (Sandbox User, Jira admin); project "
                "DEMO (Task, Bug, Story; To Do / In Progress / Done); site "
                "%s" % self.base_url]

    # -- views -----------------------------------------------------------
    def api_url(self, path, v=3):
        return "%s/rest/api/%d/%s" % (self.base_url, v, path)

    def avatars(self, seed):
        url = "https://secure.gravatar.com/avatar/%s?d=mm&s=" % \
            hashlib.md5(seed.encode()).hexdigest()
        return {"%dx%d" % (n, n): url + str(n) for n in (48, 24, 16, 32)}

    def user_view(self, u, v=3, email=False):
        out = {"self": self.api_url("user?accountId=" + u["accountId"], v),
               "accountId": u["accountId"]}
        if email:
            out["emailAddress"] = u["email"]
        out.update(avatarUrls=self.avatars(u["accountId"]),
                   displayName=u["displayName"], active=u["active"],
                   timeZone="Etc/UTC", accountType=u["accountType"])
        return out

    def category_view(self, key, v=3):
        c = CATEGORIES[key]
        return dict({"self": self.api_url("statuscategory/%d" % c["id"], v)},
                    **c)

    def status_view(self, sid, v=3):
        s = self.statuses[sid]
        return {"self": self.api_url("status/" + sid, v),
                "description": s["description"],
                "iconUrl": self.base_url + "/images/icons/statuses/"
                "generic.png", "name": s["name"], "id": sid,
                "statusCategory": self.category_view(s["category"], v)}

    def type_view(self, tid, v=3):
        t = self.issuetypes[tid]
        return {"self": self.api_url("issuetype/" + tid, v), "id": tid,
                "description": t["description"],
                "iconUrl": "%s/rest/api/2/universal_avatar/view/type/"
                "issuetype/avatar/%d?size=medium" % (self.base_url,
                                                     t["avatarId"]),
                "name": t["name"], "subtask": t["subtask"],
                "avatarId": t["avatarId"], "hierarchyLevel":
                t["hierarchyLevel"]}

    def project_brief(self, p, v=3):
        return {"self": self.api_url("project/" + p["id"], v),
                "id": p["id"], "key": p["key"], "name": p["name"],
                "projectTypeKey": "software", "simplified": False,
                "avatarUrls": {"%dx%d" % (n, n): "%s/rest/api/2/"
                               "universal_avatar/view/type/project/avatar/"
                               "10400?size=%s" % (self.base_url, s)
                               for n, s in ((48, "large"), (24, "small"),
                                            (16, "xsmall"),
                                            (32, "medium"))}}

    def project_view(self, p):
        lead = self.users.get(p["lead"]) if p["lead"] else None
        out = dict(self.project_brief(p))
        out = {"expand": "description,lead,issueTypes,url,projectKeys,"
                         "permissions,insight", **out}
        out.update(description=p["description"],
                   lead=self.user_view(lead) if lead else None,
                   components=[], issueTypes=[
                       self.type_view(t) for t in p["issuetypes"]],
                   assigneeType="UNASSIGNED", versions=[], roles={},
                   style="classic", isPrivate=False, properties={})
        return out

    def fields_view(self, i, want=None, v=3):
        """An issue's fields; `want` a set of field ids (None: all).  v=2
        is the form of webhook payloads: the description as wiki markup."""
        p = self.projects[i["project"]]
        user = lambda aid: self.user_view(self.users[aid], v) \
            if aid in self.users else None
        desc = i["description"]
        if v == 2:
            desc = adf_wiki(desc) if desc else None
        f = {"statuscategorychangedate": jira_time(i["status_changed"]),
             "issuetype": self.type_view(i["issuetype"], v),
             "timespent": None, "project": self.project_brief(p, v),
             "fixVersions": [], "aggregatetimespent": None,
             "resolution": dict(RESOLUTION_DONE, self=self.api_url(
                 "resolution/10000", v)) if i["resolution"] else None,
             "resolutiondate": jira_time(i["resolutiondate"])
             if i["resolutiondate"] else None, "workratio": -1,
             "watches": {"self": self.api_url("issue/%s/watchers" % i["key"],
                                              v), "watchCount": 1,
                         "isWatching": False},
             "lastViewed": None, "created": jira_time(i["created"]),
             "priority": {"self": self.api_url("priority/3", v),
                          "iconUrl": self.base_url + "/images/icons/"
                          "priorities/medium.svg", "name": "Medium",
                          "id": "3"},
             "labels": list(i["labels"]), "versions": [],
             "issuelinks": [], "assignee": user(i["assignee"]),
             "updated": jira_time(i["updated"]),
             "status": self.status_view(i["status"], v),
             "components": [], "description": desc,
             "security": None, "summary": i["summary"],
             "creator": user(i["creator"]), "subtasks": [],
             "reporter": user(i["reporter"]), "environment": None,
             "duedate": None, "votes": {"self": self.api_url(
                 "issue/%s/votes" % i["key"], v), "votes": 0,
                 "hasVoted": False},
             "comment": {"comments": [], "self": self.api_url(
                 "issue/%d/comment" % i["id"], v), "maxResults": 0,
                 "total": 0, "startAt": 0},
             "attachment": [], "timetracking": {},
             "worklog": {"startAt": 0, "maxResults": 20, "total": 0,
                         "worklogs": []}}
        if want is not None:
            f = {k: val for k, val in f.items() if k in want}
        return f

    NOT_NAVIGABLE = ("comment", "attachment", "timetracking",
                          "worklog")

    def wanted(self, spec, default):
        """The set of field ids a `fields` list names: *all, *navigable,
        names, -name exclusions (from `default` when nothing else is
        named: GET issue *all, search the navigable fields)."""
        names = [x.strip() for s in spec for x in s.split(",") if x.strip()]
        if not names:
            names = [default]
        every = self.fields_view_keys()
        navigable = [k for k in every if k not in self.NOT_NAVIGABLE]
        out = set()
        plain = [n for n in names if not n.startswith("-")]
        if not plain:
            out.update(every if default == "*all" else navigable)
        for n in plain:
            if n == "*all":
                out.update(every)
            elif n == "*navigable":
                out.update(navigable)
            else:
                out.add(n)
        out -= {n[1:] for n in names if n.startswith("-")}
        return out

    def fields_view_keys(self):
        return ["statuscategorychangedate", "issuetype", "timespent",
                "project", "fixVersions", "aggregatetimespent",
                "resolution", "resolutiondate", "workratio", "watches",
                "lastViewed", "created", "priority", "labels", "versions",
                "issuelinks", "assignee", "updated", "status", "components",
                "description", "security", "summary", "creator",
                "subtasks", "reporter", "environment", "duedate", "votes",
                "comment", "attachment", "timetracking", "worklog"]

    def issue_view(self, i, want=None, expand=(), user=None, v=3):
        out = {"expand": "renderedFields,names,schema,operations,editmeta,"
                         "changelog,versionedRepresentations",
               "id": str(i["id"]),
               "self": self.api_url("issue/%d" % i["id"], v),
               "key": i["key"]}
        out["fields"] = self.fields_view(i, want, v)
        if "transitions" in expand:
            out["transitions"] = [self.transition_view(t) for t in
                                  self.available(i, user)]
        if "changelog" in expand:
            hist = list(reversed(i["changelog"]))
            out["changelog"] = {"startAt": 0, "maxResults": len(hist),
                                "total": len(hist), "histories": hist}
        if "names" in expand:
            out["names"] = {k: k[:1].upper() + k[1:]
                            for k in out["fields"]}
        return out

    def transition_view(self, t, fields=False):
        out = {"id": t["id"], "name": t["name"],
               "to": self.status_view(t["to"]), "hasScreen": False,
               "isGlobal": not t["from"], "isInitial": False,
               "isAvailable": True, "isConditional": False,
               "isLooped": False}
        if fields:
            out["fields"] = {}
        return out

    def hook_view(self, h):
        """An admin webhook as the REST API shows it: never the secret."""
        u = self.users.get(h["updated_by"])
        return {"self": "%s/rest/webhooks/1.0/webhook/%d" % (self.base_url,
                                                             h["id"]),
                "name": h["name"], "url": h["url"],
                "excludeBody": h["excludeBody"],
                "filters": {HOOK_FILTER: h["jql"]},
                "events": list(h["events"]), "enabled": h["enabled"],
                "lastUpdatedUser": h["updated_by"],
                "lastUpdatedDisplayName": u["displayName"] if u else None,
                "lastUpdated": int(h["updated"] * 1000)}

    # -- the API ---------------------------------------------------------
    def add_api(self, r):
        a, issue = r"/rest/api/3", r"/rest/api/3/issue/([^/]+)"
        hook = r"/rest/webhooks/1.0/webhook"
        r.add("GET", a + r"/myself", self.myself)
        r.add("GET", a + r"/serverInfo", self.server_info)
        r.add("GET", a + r"/mypermissions", self.my_permissions)
        r.add("GET", a + r"/project/([^/]+)", self.project_get)
        r.add("GET", a + r"/project/([^/]+)/statuses", self.project_statuses)
        r.add("GET", a + r"/issue/createmeta/([^/]+)/issuetypes",
              self.createmeta_types)
        r.add("GET", a + r"/issue/createmeta/([^/]+)/issuetypes/([^/]+)",
              self.createmeta_fields)
        r.add("POST", a + r"/issue", self.issue_create)
        r.add("GET", issue, self.issue_get)
        r.add("PUT", issue, self.issue_edit)
        r.add("DELETE", issue, self.issue_delete)
        r.add("GET", issue + r"/transitions", self.transitions_get)
        r.add("POST", issue + r"/transitions", self.transition_post)
        r.add("POST", a + r"/search/jql", self.search)
        r.add("GET", a + r"/search/jql", self.search)
        r.add("GET", a + r"/search", self.search_gone)
        r.add("POST", a + r"/search", self.search_gone)
        r.add("GET", hook, self.hook_list)
        r.add("POST", hook, self.hook_create)
        r.add("GET", hook + r"/(\d+)", self.hook_get)
        r.add("PUT", hook + r"/(\d+)", self.hook_update)
        r.add("DELETE", hook + r"/(\d+)", self.hook_delete)

    def fault_reply(self, status, req):
        if status == 429:
            return self.limited("jira-burst-based", 1, None)
        if status == 503:
            return jerror(503, ["Service Unavailable"],
                          headers={"Retry-After": "1"})
        text = {400: "Bad Request", 401: NOT_AUTHENTICATED,
                403: "Forbidden", 404: NO_ISSUE, 409: "Conflict",
                500: "Internal server error", 502: "Bad Gateway",
                504: "Gateway Timeout"}.get(status, "Internal server error")
        return jerror(status, [text])

    def api(self, req):
        """Jira's order: credentials (a failed login goes on anonymous),
        the burst limit, the body, the route; a handler checks the
        per-issue write limit once it knows the issue."""
        fn, groups = self.routes.match(req.method, req.path)
        with self.lock:
            user, failed = self.authenticate(req)
            limited = self.burst_limit(req, fn)
        headers = {"X-AREQUESTID": "%d" % (time.time() * 1000 % 1e9),
                   "ATL-TraceId": new_uuid().replace("-", "")[:16]}
        if failed:
            headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"
        if limited:
            reply = limited
        elif req.raw and req.method in ("POST", "PUT") and \
                not req.ctype.endswith("json"):
            reply = self.media_refusal(req)
        elif fn is None:
            reply = jerror(405 if groups else 404, [
                "Method Not Allowed" if groups else
                "null for uri: %s%s" % (self.base_url, req.path)])
        elif req.malformed:
            reply = jerror(400, ["Unexpected character: the request body "
                                 "is not valid JSON."])
        else:
            try:
                with self.lock:
                    reply = fn(req, *groups, user)
            except Refused as e:
                reply = e.reply
        for k, v in headers.items():
            reply.set_default(k, v)
        return reply

    @staticmethod
    def media_refusal(req):
        """A body that is not JSON: the content types a browser form can
        send fail Jira's XSRF check (403, plain text), others are 415."""
        if req.ctype in ("application/x-www-form-urlencoded",
                         "multipart/form-data", "text/plain", ""):
            return Reply(403, "XSRF check failed",
                         ctype="text/plain;charset=UTF-8")
        return Reply(415, b"", ctype="text/html;charset=UTF-8")

    def authenticate(self, req):
        """(user or None, failed): Basic base64(email:api_token).  An
        unknown pair or another scheme is a failed login; Jira goes on
        with the request as an anonymous user."""
        auth = req.headers.get("authorization", "").strip()
        if not auth:
            return None, False
        scheme, _, cred = auth.partition(" ")
        if scheme.lower() != "basic":
            return None, True
        try:
            email, _, token = base64.b64decode(
                cred.strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, True
        aid = self.tokens.get((email.lower(), token))
        u = self.users.get(aid)
        if u is None or not u["active"]:
            return None, True
        return u, False

    # -- rate limits -----------------------------------------------------
    def limited(self, reason, wait, limit):
        wait = max(1, int(math.ceil(wait)))
        reset = datetime.fromtimestamp(time.time() + wait, timezone.utc)
        h = {"Retry-After": str(wait), "RateLimit-Reason": reason,
             "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ")}
        if limit:
            h.update({"X-RateLimit-Limit": str(limit),
                      "X-RateLimit-Remaining": "0"})
        return jerror(429, ["Rate limit exceeded."], headers=h)

    def burst_limit(self, req, fn):
        """jira-burst-based: burst_limit requests per endpoint and method
        in a sliding burst_window_s (the tenant is the double; a refused
        request does not count); then the hourly quota, which Jira
        applies to apps only (0 = off, as for API tokens)."""
        now = time.time()
        limit = int(self.config["burst_limit"] or 0)
        if limit and fn is not None:
            window = float(self.config["burst_window_s"])
            q = self.burst.setdefault((req.method, fn.__name__),
                                      collections.deque())
            while q and q[0] <= now - window:
                q.popleft()
            if len(q) >= limit:
                return self.limited("jira-burst-based",
                                    q[0] + window - now, limit)
            q.append(now)
        quota = int(self.config["quota_per_hour"] or 0)
        if quota:
            while self.quota and self.quota[0] <= now - 3600:
                self.quota.popleft()
            if len(self.quota) >= quota:
                return self.limited("jira-quota-tenant-based",
                                    self.quota[0] + 3600 - now, quota)
            self.quota.append(now)
        return None

    def write_limit(self, i):
        """jira-per-issue-on-write: at most per_issue_writes writes to one
        issue in a sliding per_issue_window_s."""
        limit = int(self.config["per_issue_writes"] or 0)
        if not limit:
            return
        now, window = time.time(), float(self.config["per_issue_window_s"])
        q = self.writes.setdefault(i["id"], collections.deque())
        while q and q[0] <= now - window:
            q.popleft()
        if len(q) >= limit:
            raise Refused(self.limited("jira-per-issue-on-write",
                                       q[0] + window - now, limit),
                          "per-issue write limit")
        q.append(now)

    # -- permissions -----------------------------------------------------
    def can(self, user, p, perm):
        """`user` None is anonymous; True stands for the system (webhook
        filters are checked and run without a user's permissions)."""
        if user is True:
            return True
        return bool(user) and perm in user["projects"].get(p["key"], ())

    def need_user(self, user):
        if user is None:
            raise fail(401, [NOT_AUTHENTICATED])

    def project_of(self, ref, user):
        """A project the user may browse, by id or key (case-insensitive);
        None otherwise."""
        ref = urllib.parse.unquote(str(ref))
        for p in self.projects.values():
            if ref == p["id"] or ref.upper() == p["key"]:
                return p if self.can(user, p, "BROWSE_PROJECTS") else None
        return None

    def browsable_project(self, ref, user):
        p = self.project_of(ref, user)
        if p is None:
            raise fail(404, ["No project could be found with key '%s'." %
                             urllib.parse.unquote(str(ref))])
        return p

    def find_issue(self, ref, user):
        """An issue by id or key that the user may browse, else 404."""
        ref = urllib.parse.unquote(ref)
        i = None
        if ref.isdigit():
            i = self.issues.get(int(ref))
        else:
            i = next((x for x in self.issues.values()
                      if ref.upper() in [x["key"]] + x["old_keys"]), None)
        if i is None or i["deleted"] or not self.can(
                user, self.projects[i["project"]], "BROWSE_PROJECTS"):
            raise fail(404, [NO_ISSUE])
        return i

    # -- users, projects, metadata --------------------------------------
    def myself(self, req, user):
        self.need_user(user)
        out = self.user_view(user, email=True)
        out.update(locale="en_US", groups={"size": 1, "items": []},
                   applicationRoles={"size": 1, "items": []},
                   expand="groups,applicationRoles")
        return Reply(200, out, ctype=JSON)

    def server_info(self, req, user):
        return Reply(200, {"baseUrl": self.base_url, "displayUrl":
                           self.base_url, "version": "1001.0.0-SNAPSHOT",
                           "versionNumbers": [1001, 0, 0],
                           "deploymentType": "Cloud", "buildNumber": 100285,
                           "serverTitle": "Jira",
                           "defaultLocale": {"locale": "en_US"},
                           "serverTimeZone": "Etc/UTC"}, ctype=JSON)

    def my_permissions(self, req, user):
        """GET /mypermissions?permissions=A,B&projectKey=|projectId=|
        issueKey=|issueId=: havePermission per key."""
        keys = [k for k in (req.q("permissions") or "").split(",") if k]
        if not keys:
            raise fail(400, ["The permissions query parameter is required."])
        unknown = [k for k in keys if k not in PERMISSIONS]
        if unknown:
            raise fail(400, ["Invalid permission key(s): %s" %
                             ", ".join(unknown)])
        p = None
        if req.q("projectKey") or req.q("projectId"):
            p = self.project_of(req.q("projectKey") or req.q("projectId"),
                                user)
            if p is None:
                raise fail(404, ["No project could be found with key "
                                 "'%s'." % (req.q("projectKey") or
                                            req.q("projectId"))])
        elif req.q("issueKey") or req.q("issueId"):
            i = self.find_issue(req.q("issueKey") or req.q("issueId"), user)
            p = self.projects[i["project"]]
        perms = {}
        for n, k in enumerate(keys):
            have = any(self.can(user, x, k) for x in self.projects.values()) \
                if p is None else self.can(user, p, k)
            perms[k] = {"id": str(10 + n), "key": k,
                        "name": PERMISSIONS[k], "type": "PROJECT",
                        "description": "", "havePermission": have}
        return Reply(200, {"permissions": perms}, ctype=JSON)

    def project_get(self, req, ref, user):
        return Reply(200, self.project_view(self.browsable_project(
            ref, user)), ctype=JSON)

    def project_statuses(self, req, ref, user):
        """GET /project/{p}/statuses ("Get all statuses for project"): an
        IssueTypeWithStatus per issue type of the project (self, id,
        name, subtask, statuses), each status a StatusDetails with its
        untranslatedName; Browse projects, else 404."""
        p = self.browsable_project(ref, user)
        return Reply(200, [{
            "self": self.api_url("issueType/" + t), "id": t,
            "name": self.issuetypes[t]["name"],
            "subtask": self.issuetypes[t]["subtask"],
            "statuses": [dict(self.status_view(s), untranslatedName=self
                              .statuses[s]["name"])
                         for s in p["workflows"][t]["statuses"]]}
            for t in p["issuetypes"]], ctype=JSON)

    def page(self, req, items):
        """startAt / maxResults (50) paging of the createmeta lists."""
        try:
            start = max(0, int(req.q("startAt", "0")))
            size = min(200, max(1, int(req.q("maxResults", "50"))))
        except ValueError:
            raise fail(400, ["startAt and maxResults must be integers"])
        return items[start:start + size], start, size

    def createmeta_types(self, req, ref, user):
        """GET /issue/createmeta/{p}/issuetypes: the issue types the user
        may create in the project (404 without Create issues)."""
        p = self.project_of(ref, user)
        if p is None or not self.can(user, p, "CREATE_ISSUES"):
            raise fail(404, ["No project could be found with key '%s'." %
                             ref])
        items, start, size = self.page(req, [
            self.type_view(t) for t in p["issuetypes"]])
        return Reply(200, {"maxResults": size, "startAt": start,
                           "total": len(p["issuetypes"]),
                           "issueTypes": items}, ctype=JSON)

    def createmeta_fields(self, req, ref, tid, user):
        p = self.project_of(ref, user)
        if p is None or not self.can(user, p, "CREATE_ISSUES"):
            raise fail(404, ["No project could be found with key '%s'." %
                             ref])
        if tid not in p["issuetypes"]:
            raise fail(404, ["Issue type with id '%s' does not exist or is "
                             "not valid for the project." % tid])

        def field(key, name, schema, required, ops, **extra):
            return dict({"required": required, "schema": schema,
                         "name": name, "key": key, "fieldId": key,
                         "hasDefaultValue": False, "operations": ops},
                        **extra)
        fields = [
            field("issuetype", "Issue Type", {"type": "issuetype",
                                              "system": "issuetype"},
                  True, [], allowedValues=[self.type_view(tid)]),
            field("project", "Project", {"type": "project",
                                         "system": "project"}, True,
                  ["set"], allowedValues=[self.project_brief(p)]),
            field("summary", "Summary", {"type": "string",
                                         "system": "summary"}, True,
                  ["set"]),
            field("description", "Description", {"type": "string",
                                                 "system": "description"},
                  False, ["set"]),
            field("labels", "Labels", {"type": "array", "items": "string",
                                       "system": "labels"}, False,
                  ["add", "set", "remove"],
                  autoCompleteUrl=self.api_url("label/suggest?query=")),
            field("reporter", "Reporter", {"type": "user",
                                           "system": "reporter"}, True,
                  ["set"], hasDefaultValue=True),
        ]
        items, start, size = self.page(req, fields)
        return Reply(200, {"maxResults": size, "startAt": start,
                           "total": len(fields), "fields": items},
                     ctype=JSON)

    # -- issues ----------------------------------------------------------
    def body(self, req):
        if req.body is None:
            return {}
        if not isinstance(req.body, dict):
            raise fail(400, ["Can not deserialize instance of "
                             "com.atlassian.jira.rest.v2.issue.IssueUpdateBean"
                             " out of START_ARRAY token"])
        return req.body

    def check_summary(self, v, errors):
        if not isinstance(v, str) or not v.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(v) > SUMMARY_MAX:
            errors["summary"] = "Summary must be less than 255 characters."
        elif "\n" in v or "\r" in v:
            errors["summary"] = "The summary is invalid because it " \
                "contains newline characters."

    def check_description(self, v, errors, messages):
        if v is None:
            return
        try:
            adf_check(v)
        except AdfError as e:
            if e.shallow:
                errors["description"] = NO_ADF
            else:
                messages.append("INVALID_INPUT")
            return
        if len(json.dumps(v, separators=(",", ":"))) > int(
                self.config["description_max"]):
            errors["description"] = "The entered text is too long. It " \
                "exceeds the allowed limit of %s characters." % "{:,}".format(
                    int(self.config["description_max"]))

    def check_labels(self, labels, errors):
        if not isinstance(labels, list) or not all(isinstance(x, str)
                                                   for x in labels):
            errors["labels"] = "Field 'labels' must be an array of strings."
            return
        for x in labels:
            if not x.strip():
                errors["labels"] = "Labels cannot be empty."
            elif re.search(r"\s", x):
                errors["labels"] = "The label '%s' contains spaces which " \
                    "is invalid." % x
            elif len(x) > LABEL_MAX:
                errors["labels"] = "The label '%s' exceeds the maximum " \
                    "length for a single label of 255 characters." % x

    def issue_create(self, req, user):
        self.need_user(user)
        q = self.body(req)
        fields = q.get("fields")
        if not isinstance(fields, dict):
            raise fail(400, [], {"project": "Specify a valid project ID or "
                                            "key",
                                 "summary": "You must specify a summary of "
                                            "the issue.",
                                 "issuetype": "Specify an issue type"})
        pref = fields.get("project") or {}
        p = self.project_of(pref.get("key") or pref.get("id") or "", user) \
            if isinstance(pref, dict) else None
        if p is None:
            raise fail(400, [], {"project": "Specify a valid project ID or "
                                            "key"})
        if not self.can(user, p, "CREATE_ISSUES"):
            raise fail(400, [], {"project": "You do not have permission to "
                                            "create issues in this project."})
        return self.created(self.create_issue(p, q, user))

    def created(self, i):
        return Reply(201, {"id": str(i["id"]), "key": i["key"],
                           "self": self.api_url("issue/%d" % i["id"])},
                     ctype=JSON)

    def create_issue(self, p, q, actor):
        """Validates like Jira (every problem at once, 400), creates the
        issue in its workflow's initial status, sends jira:issue_created."""
        fields = dict(q.get("fields") or {})
        errors, messages = {}, []
        tref = fields.pop("issuetype", None)
        t = None
        if not isinstance(tref, dict) or not (tref.get("id") or
                                              tref.get("name")):
            errors["issuetype"] = "Specify an issue type"
        else:
            t = self.type_named(tref.get("id") or tref.get("name"))
            if t is None or t["id"] not in p["issuetypes"]:
                errors["issuetype"] = "Specify a valid issue type"
        fields.pop("project", None)
        self.check_summary(fields.pop("summary", None), errors)
        desc = fields.pop("description", None)
        self.check_description(desc, errors, messages)
        labels = fields.pop("labels", [])
        self.check_labels(labels, errors)
        reporter = fields.pop("reporter", None)
        for k in fields:
            errors[k] = bad_field(k)
        update = q.get("update") or {}
        if "labels" in update and "labels" not in errors:
            labels = self.label_ops(labels, update["labels"], errors)
        if errors or messages:
            raise fail(400, messages, errors)
        now = time.time()
        wf = p["workflows"][t["id"]]
        rep = actor["accountId"]
        if isinstance(reporter, dict) and reporter.get("accountId") in \
                self.users:
            rep = reporter["accountId"]
        i = {"id": self.next_id("issue"),
             "key": "%s-%d" % (p["key"], p["next_number"]),
             "project": p["id"], "issuetype": t["id"],
             "summary": q["fields"]["summary"], "description": desc,
             "labels": sorted(set(labels)), "status": wf["initial"],
             "resolution": False, "resolutiondate": None,
             "reporter": rep, "creator": actor["accountId"],
             "assignee": None, "created": now, "updated": now,
             "status_changed": now, "deleted": False, "changelog": [],
             "versions": [], "old_keys": []}
        p["next_number"] += 1
        self.issues[i["id"]] = i
        self.snapshot(i)
        self.emit(i, "jira:issue_created", "issue_created", actor)
        tr = q.get("transition")
        if isinstance(tr, dict) and tr.get("id"):
            self.do_transition(i, str(tr["id"]), actor)
        return i

    def label_ops(self, labels, ops, errors):
        """update.labels: [{"add": x}, {"remove": x}, {"set": [...]}]."""
        out = list(labels)
        if not isinstance(ops, list):
            errors["labels"] = "Field 'labels' operations must be an array."
            return out
        for op in ops:
            if not isinstance(op, dict) or len(op) != 1 or \
                    next(iter(op)) not in ("add", "remove", "set"):
                errors["labels"] = "Invalid operation for field 'labels'; " \
                    "valid operations are add, set, remove."
                return out
            (verb, value), = op.items()
            vals = value if verb == "set" else [value]
            self.check_labels(vals, errors)
            if "labels" in errors:
                return out
            if verb == "set":
                out = list(value)
            elif verb == "add" and value not in out:
                out.append(value)
            elif verb == "remove":
                out = [x for x in out if x != value]
        return out

    def issue_get(self, req, ref, user):
        i = self.find_issue(ref, user)
        want = None
        if "fields" in req.query:
            want = self.wanted(req.query["fields"], "*all")
        expand = {x.strip() for s in req.query.get("expand", [])
                  for x in s.split(",")}
        return Reply(200, self.issue_view(i, want, expand, user), ctype=JSON)

    def issue_edit(self, req, ref, user):
        """PUT: fields summary, description, labels; update operations on
        the same (set, and add/remove for labels).  204, or 200 with the
        issue for ?returnIssue=true.  Without Edit issues every field is
        'not on the appropriate screen' (400)."""
        i = self.find_issue(ref, user)
        p = self.projects[i["project"]]
        self.need_user(user)
        if req.q("notifyUsers", "true") == "false" and not user["admin"] \
                and not self.can(user, p, "ADMINISTER_PROJECTS"):
            raise fail(403, ["To discard the user notification either "
                             "admin or project admin permissions are "
                             "required."])
        q = self.body(req)
        editable = self.can(user, p, "EDIT_ISSUES")
        changes = self.edit_changes(i, q, editable)
        self.write_limit(i)
        self.apply_edit(i, changes, user)
        if req.q("returnIssue") == "true":
            return Reply(200, self.issue_view(i, None, (), user), ctype=JSON)
        return Reply(204)

    def edit_changes(self, i, q, editable):
        """The new values of an edit body, validated (400 with every
        problem); raises before anything changes."""
        fields, update = q.get("fields") or {}, q.get("update") or {}
        errors, messages = {}, []
        if not isinstance(fields, dict) or not isinstance(update, dict):
            raise fail(400, ["fields and update must be objects"])
        out = {}
        for k in set(fields) & set(update):
            errors[k] = "Field '%s' cannot be set in both 'fields' and " \
                "'update'." % k
        for k in list(fields) + list(update):
            if k not in ("summary", "description", "labels") or \
                    not editable:
                errors[k] = bad_field(k)
        if errors:
            raise fail(400, messages, errors)
        for k, ops in update.items():
            if k == "labels":
                continue
            if not isinstance(ops, list) or len(ops) != 1 or not isinstance(
                    ops[0], dict) or list(ops[0]) != ["set"]:
                errors[k] = "Field '%s' supports only the set operation." % k
                continue
            fields = dict(fields, **{k: ops[0]["set"]})
        if "summary" in fields:
            self.check_summary(fields["summary"], errors)
            out["summary"] = fields["summary"]
        if "description" in fields:
            self.check_description(fields["description"], errors, messages)
            out["description"] = fields["description"]
        if "labels" in fields:
            self.check_labels(fields["labels"], errors)
            out["labels"] = fields["labels"]
        if "labels" in update:
            out["labels"] = self.label_ops(i["labels"], update["labels"],
                                           errors)
        if errors or messages:
            raise fail(400, messages, errors)
        return out

    def apply_edit(self, i, changes, actor):
        """Records one history with an item per changed field and sends
        jira:issue_updated; an edit that changes nothing sends nothing."""
        items = self.edit_items(i, changes)
        if items:
            self.record(i, items, actor, "issue_updated")
        return items

    def edit_items(self, i, changes):
        """Applies validated changes; returns their history items."""
        items = []
        if "summary" in changes and changes["summary"] != i["summary"]:
            items.append(self.item("summary", None, i["summary"], None,
                                   changes["summary"]))
            i["summary"] = changes["summary"]
        if "description" in changes and changes["description"] != \
                i["description"]:
            old, new = i["description"], changes["description"]
            items.append(self.item("description", None, adf_wiki(old)
                                   if old else None, None,
                                   adf_wiki(new) if new else None))
            i["description"] = new
        if "labels" in changes:
            new = sorted(set(changes["labels"]))
            if new != i["labels"]:
                items.append(self.item("labels", None, " ".join(i["labels"]),
                                       None, " ".join(new)))
                i["labels"] = new
        return items

    @staticmethod
    def item(field, frm, frm_s, to, to_s):
        return {"field": field, "fieldtype": "jira", "fieldId": field,
                "from": frm, "fromString": frm_s, "to": to,
                "toString": to_s}

    def record(self, i, items, actor, event_type):
        now = max(time.time(), i["updated"])
        i["updated"] = now
        hist = {"id": str(self.next_id("history")),
                "author": self.user_view(actor), "created": jira_time(now),
                "items": items}
        i["changelog"].append(hist)
        self.snapshot(i)
        self.emit(i, "jira:issue_updated", event_type, actor,
                  changelog={"id": hist["id"], "items": items})

    def issue_delete(self, req, ref, user):
        i = self.find_issue(ref, user)
        self.need_user(user)
        if not self.can(user, self.projects[i["project"]], "DELETE_ISSUES"):
            raise fail(403, ["You do not have permission to delete issues "
                             "in this project."])
        self.write_limit(i)
        self.delete_issue(i, user)
        return Reply(204)

    def delete_issue(self, i, actor):
        """jira:issue_deleted with the issue as it was, then 404."""
        self.emit(i, "jira:issue_deleted", "issue_deleted", actor)
        i["deleted"] = True
        i["updated"] = time.time()
        self.snapshot(i)

    # -- workflows and transitions --------------------------------------
    def workflow(self, i):
        return self.projects[i["project"]]["workflows"][i["issuetype"]]

    def available(self, i, user, human=False):
        """Transitions allowed now: those whose `from` holds the current
        status, and global ones into another status; none without
        Transition issues (a person in the UI: `human`, always)."""
        if not human and not self.can(user, self.projects[i["project"]],
                                      "TRANSITION_ISSUES"):
            return []
        cur = i["status"]
        return [t for t in self.workflow(i)["transitions"]
                if (cur in t["from"]) or (not t["from"] and t["to"] != cur)]

    def transitions_get(self, req, ref, user):
        i = self.find_issue(ref, user)
        ts = self.available(i, user)
        if req.q("transitionId"):
            ts = [t for t in ts if t["id"] == req.q("transitionId")]
        fields = "transitions.fields" in (req.q("expand") or "")
        return Reply(200, {"expand": "transitions", "transitions": [
            self.transition_view(t, fields) for t in ts]}, ctype=JSON)

    def transition_post(self, req, ref, user):
        i = self.find_issue(ref, user)
        self.need_user(user)
        q = self.body(req)
        tr = q.get("transition")
        if not isinstance(tr, dict) or not tr.get("id"):
            raise fail(400, ["Missing 'transition' identifier"])
        tid = str(tr["id"])
        if tid not in [t["id"] for t in self.available(i, user)]:
            raise fail(400, ["Transition id '%s' is not valid for this "
                             "issue." % tid])
        if q.get("fields") or q.get("update"):
            changes = self.edit_changes(i, {"fields": q.get("fields") or {},
                                            "update": q.get("update") or {}},
                                        self.can(user, self.projects[
                                            i["project"]], "EDIT_ISSUES"))
        else:
            changes = {}
        self.write_limit(i)
        self.do_transition(i, tid, user, changes)
        after = self.after_move.pop(i["id"], None)
        if after is not None:
            self.human_move(i, after[0], after[1])
        return Reply(204)

    def do_transition(self, i, tid, actor, changes=None):
        """Moves the issue; entering a done status sets the resolution
        (Done), leaving one clears it, as the simplified workflow does.
        One history, one jira:issue_updated (issue_generic)."""
        t = next(t for t in self.workflow(i)["transitions"]
                 if t["id"] == tid)
        old, new = self.statuses[i["status"]], self.statuses[t["to"]]
        items = [self.item("status", old["id"], old["name"], new["id"],
                           new["name"])]
        now = max(time.time(), i["updated"])
        if old["category"] != new["category"]:
            i["status_changed"] = now
        if new["category"] == "done" and not i["resolution"]:
            items.insert(0, self.item("resolution", None, None, "10000",
                                      "Done"))
            i["resolution"], i["resolutiondate"] = True, now
        elif new["category"] != "done" and i["resolution"]:
            items.insert(0, self.item("resolution", "10000", "Done", None,
                                      None))
            i["resolution"], i["resolutiondate"] = False, None
        i["status"] = new["id"]
        if changes:
            items += self.edit_items(i, changes)
        self.record(i, items, actor, t["event"])

    # -- search ----------------------------------------------------------
    def search_gone(self, req, user):
        return jerror(410, [SEARCH_GONE])

    def search(self, req, user):
        """POST|GET /rest/api/3/search/jql: bounded JQL (400 otherwise),
        pages by nextPageToken (isLast), `fields` default id only, 50 per
        page; eventually consistent (search_lag_s) unless the issue is in
        reconcileIssues."""
        if req.method == "POST":
            q = self.body(req)
        else:
            q = {k: req.q(k) for k in ("jql", "nextPageToken",
                                       "maxResults", "expand")
                 if req.q(k) is not None}
            if "fields" in req.query:
                q["fields"] = req.query["fields"]
            if req.q("reconcileIssues"):
                q["reconcileIssues"] = [int(x) for x in req.q(
                    "reconcileIssues").split(",") if x.strip().isdigit()]
        jql = q.get("jql")
        if not isinstance(jql, str):
            raise fail(400, ["The JQL query is required."])
        try:
            where, order = JqlParser(jql).parse()
        except JqlError as e:
            raise fail(400, [str(e)])
        if where is None:
            raise fail(400, [UNBOUNDED])
        self.jql_check(where, user)
        fields = q.get("fields") or []
        if isinstance(fields, str):
            fields = [fields]
        want = self.wanted(fields, "id") if fields else {"id"}
        try:
            size = int(q.get("maxResults", 50))
        except (TypeError, ValueError):
            raise fail(400, ["maxResults must be an integer"])
        cap = 5000 if want <= {"id", "key"} else int(
            self.config["search_page_max"])
        size = max(1, min(size, cap))
        recon = set(q.get("reconcileIssues") or [])
        hits = [i for i in self.search_view(recon)
                if self.can(user, self.projects[i["project"]],
                            "BROWSE_PROJECTS") and
                self.jql_eval(where, i, user)]
        hits = self.jql_sort(hits, order)
        start = 0
        token = q.get("nextPageToken")
        if token:
            start = self.read_token(token, jql)
        page = hits[start:start + size]
        expand = {x.strip() for x in (q.get("expand") or "").split(",")}
        out = []
        for snap in page:
            i = self.issues[snap["id"]]
            if want == {"id"}:
                out.append({"id": str(i["id"])})
                continue
            v = self.issue_view(i, want - {"id", "key"}, expand, user)
            out.append(v)
        body = {"issues": out, "isLast": start + size >= len(hits)}
        if not body["isLast"]:
            body["nextPageToken"] = base64.urlsafe_b64encode(json.dumps(
                [start + size, hashlib.sha1(jql.encode()).hexdigest()[:8]])
                .encode()).decode().rstrip("=")
        return Reply(200, body, ctype=JSON)

    def read_token(self, token, jql):
        try:
            start, h = json.loads(base64.urlsafe_b64decode(
                token + "=" * (-len(token) % 4)))
            assert h == hashlib.sha1(jql.encode()).hexdigest()[:8]
            return int(start)
        except (ValueError, AssertionError, TypeError):
            raise fail(400, ["The provided next page token is invalid or "
                             "expired."])

    def snapshot(self, i):
        """Keeps what the search index will see, and when."""
        snap = {k: copy.deepcopy(v) for k, v in i.items()
                if k not in ("versions", "changelog")}
        i["versions"].append((time.time(), snap))
        if len(i["versions"]) > 50:
            del i["versions"][:-50]

    def search_view(self, recon):
        """The issues as the index has them: each one's newest snapshot
        older than search_lag_s (reconciled ones: as they are now)."""
        lag = float(self.config["search_lag_s"] or 0)
        now = time.time()
        out = []
        for i in self.issues.values():
            if i["id"] in recon or not lag:
                snap = i
            else:
                snap = next((s for t, s in reversed(i["versions"])
                             if t <= now - lag), None)
            if snap is not None and not snap["deleted"] and \
                    not self.issues[i["id"]]["deleted"]:
                out.append(snap)
        return out

    def jql_check(self, node, user):
        """Values Jira checks before searching: projects must exist for
        the user, issue types and statuses must exist."""
        if node[0] in ("and", "or"):
            self.jql_check(node[1], user)
            self.jql_check(node[2], user)
            return
        if node[0] == "not":
            self.jql_check(node[1], user)
            return
        _, f, op, value = node
        vals = value if isinstance(value, list) else [value]
        for v in vals:
            if v is None or v[0] in ("empty", "fn"):
                continue
            if f == "project" and self.project_of(v[1], user) is None and \
                    not any(p["name"].lower() == v[1].lower() and
                            self.can(user, p, "BROWSE_PROJECTS")
                            for p in self.projects.values()):
                raise fail(400, ["The value '%s' does not exist for the "
                                 "field 'project'." % v[1]])
            if f in ("issuetype", "type") and self.type_named(v[1]) is None:
                raise fail(400, ["The value '%s' does not exist for the "
                                 "field 'issuetype'." % v[1]])
            if f == "status" and not any(
                    s["name"].lower() == v[1].lower() or s["id"] == v[1]
                    for s in self.statuses.values()):
                raise fail(400, ["The value '%s' does not exist for the "
                                 "field 'status'." % v[1]])
            if f in TEXT_FIELDS and op in ("~", "!~") and \
                    v[1].lstrip('"').startswith(("*", "?")):
                raise fail(400, ["The text query '%s' for field '%s' is "
                                 "not allowed to start with a wildcard."
                                 % (v[1], f)])
        if f in TEXT_FIELDS and op not in ("~", "!~", "is", "is not"):
            raise fail(400, ["The operator '%s' is not supported by the "
                             "'%s' field." % (op, f)])
        if f not in TEXT_FIELDS and op in ("~", "!~"):
            raise fail(400, ["The operator '%s' is not supported by the "
                             "'%s' field." % (op, f)])

    def field_values(self, f, i, user):
        """The values of a field of an issue snapshot, lower-cased."""
        p = self.projects[i["project"]]
        st = self.statuses[i["status"]]
        return {
            "project": [p["key"].lower(), p["id"], p["name"].lower()],
            "key": [i["key"].lower(), str(i["id"])],
            "id": [str(i["id"]), i["key"].lower()],
            "issuetype": [self.issuetypes[i["issuetype"]]["name"].lower(),
                          i["issuetype"]],
            "status": [st["name"].lower(), st["id"]],
            "statuscategory": [CATEGORIES[st["category"]]["name"].lower(),
                               st["category"],
                               str(CATEGORIES[st["category"]]["id"])],
            "labels": [x.lower() for x in i["labels"]],
            "reporter": [i["reporter"].lower()] if i["reporter"] else [],
            "creator": [i["creator"].lower()] if i["creator"] else [],
            "assignee": [i["assignee"].lower()] if i["assignee"] else [],
            "resolution": ["done", "10000"] if i["resolution"] else [],
        }[{"issuekey": "key", "issue": "key", "type": "issuetype",
           "label": "labels"}.get(f, f)]

    def jql_eval(self, node, i, user):
        kind = node[0]
        if kind == "and":
            return self.jql_eval(node[1], i, user) and \
                self.jql_eval(node[2], i, user)
        if kind == "or":
            return self.jql_eval(node[1], i, user) or \
                self.jql_eval(node[2], i, user)
        if kind == "not":
            return not self.jql_eval(node[1], i, user)
        _, f, op, value = node
        if f in TEXT_FIELDS:
            text = {"summary": i["summary"],
                    "description": adf_text(i["description"])
                    if i["description"] else "",
                    "text": i["summary"] + "\n" + (adf_text(
                        i["description"]) if i["description"] else "")}[f]
            if op in ("is", "is not"):
                return (not text.strip()) == (op == "is")
            hit = text_match(text, value[1])
            return hit if op == "~" else not hit
        if f in ("created", "createddate", "updated", "updateddate"):
            t = i["created" if f.startswith("created") else "updated"]
            ref = relative_time(value[1], time.time())
            return {">": t > ref, ">=": t >= ref, "<": t < ref,
                    "<=": t <= ref, "=": abs(t - ref) < 60,
                    "!=": abs(t - ref) >= 60}.get(op, False)
        have = self.field_values(f, i, user)
        if op in ("is", "is not"):
            return (not have) == (op == "is")

        def val(v):
            if v[0] == "fn":
                return user["accountId"].lower() if user else ""
            if v[0] == "empty":
                return None
            return v[1].lower()
        if op in ("in", "not in"):
            wanted = [val(v) for v in value]
            hit = any((w is None and not have) or w in have for w in wanted)
            return hit if op == "in" else not hit
        w = val(value)
        hit = (not have) if w is None else w in have
        if op == "=":
            return hit
        if op == "!=":
            return not hit and bool(have)
        raise fail(400, ["The operator '%s' is not supported by the '%s' "
                         "field." % (op, f)])

    def jql_sort(self, hits, order):
        """ORDER BY created, updated, key, id, summary, status; without
        one, newest first."""
        keys = {"created": lambda i: i["created"],
                "updated": lambda i: i["updated"],
                "key": lambda i: (i["project"], i["id"]),
                "issuekey": lambda i: (i["project"], i["id"]),
                "id": lambda i: i["id"], "summary": lambda i: i["summary"],
                "status": lambda i: self.statuses[i["status"]]["name"]}
        if not order:
            return sorted(hits, key=lambda i: i["id"], reverse=True)
        for f, _ in order:
            if f not in keys:
                raise fail(400, ["Not able to sort using field '%s'." % f])
        for f, desc in reversed(order):
            hits = sorted(hits, key=keys[f], reverse=desc)
        return hits

    # -- admin webhooks --------------------------------------------------
    def need_admin(self, user):
        self.need_user(user)
        if not user["admin"]:
            raise fail(403, ["Only Jira administrators can manage "
                             "webhooks."])

    def hook_fields(self, h, q, create):
        """name, url, events, filters (or jqlFilter), excludeBody,
        enabled, secret: 400 with every problem."""
        errors = {}
        if create or "name" in q:
            if not isinstance(q.get("name"), str) or not q["name"].strip():
                errors["name"] = "The webhook name is required."
        if create or "url" in q:
            problem = url_problem(str(q.get("url") or ""),
                                  self.config["require_https"])
            if not q.get("url") or problem:
                errors["url"] = "The webhook URL %s." % (
                    problem or "is required")
        events = q.get("events", h.get("events", []))
        if not isinstance(events, list) or not all(
                isinstance(e, str) and e in EVENTS for e in events):
            errors["events"] = "Unknown webhook event in %s." % json.dumps(
                events)
        jql = h.get("jql", "")
        if "filters" in q:
            if not isinstance(q["filters"], dict):
                errors["filters"] = "filters must be an object"
            else:
                jql = q["filters"].get(HOOK_FILTER, "") or ""
        elif "jqlFilter" in q:
            jql = q.get("jqlFilter") or ""
        if jql:
            try:
                where, order = JqlParser(jql).parse()
                if where is not None:
                    self.jql_check(where, True)
            except JqlError as e:
                errors["filters"] = str(e)
            except Refused as e:
                errors["filters"] = json.loads(e.reply.data)[
                    "errorMessages"][0]
        secret = q.get("secret", h.get("secret"))
        if secret is not None and not isinstance(secret, str):
            errors["secret"] = "The secret must be a string."
        if errors:
            raise fail(400, [], errors)
        for k in ("name", "url", "excludeBody", "enabled"):
            if k in q:
                h[k] = q[k]
        h.update(events=list(events), jql=jql, secret=secret or None,
                 excludeBody=bool(h.get("excludeBody", False)),
                 enabled=bool(h.get("enabled", True)))

    def add_hook(self, q, actor):
        h = {"id": None, "events": []}
        self.hook_fields(h, q, create=True)
        h["id"] = self.next_id("hook")
        h["updated"], h["updated_by"] = time.time(), actor["accountId"]
        self.hooks[h["id"]] = h
        return h

    def find_hook(self, hid):
        h = self.hooks.get(int(hid))
        if h is None:
            raise fail(404, ["Webhook with id %s not found." % hid])
        return h

    def hook_list(self, req, user):
        self.need_admin(user)
        return Reply(200, [self.hook_view(h) for h in sorted(
            self.hooks.values(), key=lambda h: h["id"])], ctype=JSON)

    def hook_create(self, req, user):
        self.need_admin(user)
        h = self.add_hook(self.body(req), user)
        view = self.hook_view(h)
        return Reply(201, view, {"Location": view["self"]}, ctype=JSON)

    def hook_get(self, req, hid, user):
        self.need_admin(user)
        return Reply(200, self.hook_view(self.find_hook(hid)), ctype=JSON)

    def hook_update(self, req, hid, user):
        """Changes what the body names; the secret stays unless "secret"
        is given (null or "" removes it)."""
        self.need_admin(user)
        h = self.find_hook(hid)
        work = dict(h)
        self.hook_fields(work, self.body(req), create=False)
        h.update(work, updated=time.time(), updated_by=user["accountId"])
        return Reply(200, self.hook_view(h), ctype=JSON)

    def hook_delete(self, req, hid, user):
        self.need_admin(user)
        del self.hooks[self.find_hook(hid)["id"]]
        return Reply(204)

    # -- deliveries ------------------------------------------------------
    def emit(self, i, event, event_type, actor, changelog=None):
        """The event to every enabled webhook that wants it and whose JQL
        matches the issue (as it is now; a deleted one as it was)."""
        payload = None
        for h in sorted(self.hooks.values(), key=lambda h: h["id"]):
            if not h["enabled"] or event not in h["events"]:
                continue
            if h["jql"]:
                where, _ = JqlParser(h["jql"]).parse()
                if where is not None and not self.jql_eval(where, i, None):
                    continue
            if payload is None:
                payload = {"timestamp": int(time.time() * 1000),
                           "webhookEvent": event,
                           "issue_event_type_name": event_type,
                           "user": self.user_view(actor, v=2),
                           "issue": self.issue_view(i, v=2)}
                del payload["issue"]["expand"]
                if changelog is not None:
                    payload["changelog"] = changelog
            self.send(h, i, payload, event)

    def send(self, h, i, payload, event):
        """Encodes once, signs the exact bytes (X-Hub-Signature: sha256=),
        queues the POST with its identifier (kept on every retry)."""
        raw = b"" if h["excludeBody"] else json.dumps(
            payload, separators=(",", ":")).encode()
        p = self.projects[i["project"]]
        url = h["url"]
        for k, v in (("issue.id", str(i["id"])), ("issue.key", i["key"]),
                     ("project.id", p["id"]), ("project.key", p["key"])):
            url = url.replace("${%s}" % k, urllib.parse.quote(v))
        ident = new_uuid()
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "User-Agent": self.user_agent,
                   "X-Atlassian-Webhook-Identifier": ident,
                   "X-Atlassian-Webhook-Flow": "Primary"}
        if h["secret"]:
            headers["X-Hub-Signature"] = "sha256=" + hmac.new(
                h["secret"].encode(), raw, hashlib.sha256).hexdigest()
        self.enqueue("webhook", url, raw, headers,
                     timeout=float(self.config["hook_timeout"]),
                     retries=self.config["retry_schedule"],
                     meta={"hook_id": h["id"], "event": event,
                           "identifier": ident, "issue": i["key"]})

    def _send(self, item):
        """As Double._send, but with Jira's retry policy: only 408, 409,
        425, 429, 5xx and failed connections are retried, and a retry
        carries X-Atlassian-Webhook-Retry (1, 2, ...)."""
        headers = dict(item["headers"])
        if item["attempt"] > 1:
            headers["X-Atlassian-Webhook-Retry"] = str(item["attempt"] - 1)
        rec = self.call_out(item["kind"], "POST", item["url"], headers,
                            item["body"], item["timeout"], gen=item["gen"],
                            attempt=item["attempt"], meta=item["meta"])
        with self.cond:
            if item["gen"] != self.gen:
                return
            n, status = item["attempt"], rec["status"]
            retry = status is None or status in RETRY_ON or status >= 500
            if not ok_status(status) and retry and n <= len(item["retries"]):
                self.schedule(dict(item, attempt=n + 1, due=time.monotonic()
                                   + float(item["retries"][n - 1])))

    # -- control ---------------------------------------------------------
    def add_control(self, r):
        p, wft = r"/_double/projects/([^/]+)", r"/workflow/transitions"
        r.add("POST", r"/_double/users", self.c_user)
        r.add("POST", r"/_double/projects", self.c_project)
        r.add("POST", p + r"/workflow", self.c_workflow)
        r.add("POST", p + wft, self.c_transition_add)
        r.add("PATCH", p + wft + r"/([^/]+)", self.c_transition_edit)
        r.add("DELETE", p + wft + r"/([^/]+)", self.c_transition_delete)
        r.add("POST", r"/_double/issues", self.c_issue_create)
        r.add("PUT", r"/_double/issues/([^/]+)", self.c_issue_edit)
        r.add("POST", r"/_double/issues/([^/]+)/transitions",
              self.c_issue_transition)
        r.add("DELETE", r"/_double/issues/([^/]+)", self.c_issue_delete)
        r.add("POST", r"/_double/issues/([^/]+)/move", self.c_issue_move)

    def actor(self, who):
        """A control call's person: `as_user` by e-mail, account id or
        display name; default the first user seeded."""
        if who is None:
            if not self.users:
                raise fail(400, ["seed a user first"])
            return next(iter(self.users.values()))
        for u in self.users.values():
            if str(who).lower() in (u["email"].lower(), u["accountId"],
                                    u["displayName"].lower()):
                return u
        raise fail(400, ["no user %r" % who])

    def c_issue(self, ref):
        """An issue by key or id, whoever may see it (a control call)."""
        ref = urllib.parse.unquote(ref)
        for x in self.issues.values():
            if (ref.upper() in [x["key"]] + x["old_keys"] or
                    str(x["id"]) == ref) and not x["deleted"]:
                return x
        raise fail(404, ["no issue %s" % ref])

    def c_user(self, req):
        with self.lock:
            return Reply(201, self.add_user(req.obj()))

    def c_project(self, req):
        with self.lock:
            return Reply(201, self.project_state(self.add_project(
                req.obj())))

    def c_project_of(self, ref):
        for p in self.projects.values():
            if ref.upper() == p["key"] or ref == p["id"]:
                return p
        raise fail(404, ["no project %s" % ref])

    def c_workflows(self, p, q):
        """The workflows a change applies to: one issue type's, or all."""
        name = q.get("issuetype")
        if name is None:
            return [p["workflows"][t] for t in p["issuetypes"]]
        t = self.type_named(name)
        if t is None or t["id"] not in p["issuetypes"]:
            raise fail(400, ["issue type %r is not in %s" % (name,
                                                             p["key"])])
        return [p["workflows"][t["id"]]]

    def c_workflow(self, req, ref):
        """Replaces the workflow (of one issue type or all); issues keep
        their status even when the new workflow lacks it."""
        with self.lock:
            p = self.c_project_of(ref)
            q = req.obj()
            tid = None
            if q.get("issuetype") is not None:
                self.c_workflows(p, q)
                tid = self.type_named(q["issuetype"])["id"]
            for t in p["issuetypes"]:
                if tid is None or t == tid:
                    p["workflows"][t] = self.make_workflow(
                        q, p["workflows"][t]["name"])
            return Reply(200, self.project_state(p))

    def c_transition_add(self, req, ref):
        with self.lock:
            p = self.c_project_of(ref)
            q = req.obj()
            for wf in self.c_workflows(p, q):
                wf["transitions"].append(self.make_transition(wf, q))
            return Reply(201, self.project_state(p))

    def c_transition_edit(self, req, ref, tid):
        """Renames or re-targets a transition: {"name"?, "to"?, "from"?}."""
        with self.lock:
            p = self.c_project_of(ref)
            q = req.obj()
            found = False
            for wf in self.c_workflows(p, q):
                for n, t in enumerate(wf["transitions"]):
                    if t["id"] == tid:
                        wf["transitions"][n] = self.make_transition(
                            wf, dict(q, id=tid), old=t)
                        found = True
            if not found:
                raise fail(404, ["no transition %s" % tid])
            return Reply(200, self.project_state(p))

    def c_transition_delete(self, req, ref, tid):
        with self.lock:
            p = self.c_project_of(ref)
            q = {"issuetype": req.q("issuetype")} if req.q("issuetype") \
                else req.obj()
            found = False
            for wf in self.c_workflows(p, q):
                before = len(wf["transitions"])
                wf["transitions"] = [t for t in wf["transitions"]
                                     if t["id"] != tid]
                found = found or len(wf["transitions"]) != before
            if not found:
                raise fail(404, ["no transition %s" % tid])
            return Reply(204)

    def human_create(self, q, actor):
        """A person creates an issue in the UI: {"project","summary",
        "description" (ADF, or text made into paragraphs),"labels",
        "issuetype" (default the project's first),"status"?}."""
        p = self.c_project_of(str(q.get("project") or ""))
        desc = q.get("description")
        if isinstance(desc, str):
            desc = adf_from_text(desc)
        fields = {"summary": q.get("summary", ""), "description": desc,
                  "labels": q.get("labels") or [],
                  "issuetype": {"name": q.get("issuetype") or
                                self.issuetypes[p["issuetypes"][0]]["name"]}}
        i = self.create_issue(p, {"fields": fields}, actor)
        if q.get("status"):
            self.human_move(i, q["status"], actor)
        return i

    def human_move(self, i, target, actor):
        """A person picks a transition by id, name or target status."""
        target = str(target).lower()
        for t in self.available(i, None, human=True):
            if target in (t["id"], t["name"].lower(),
                          self.statuses[t["to"]]["name"].lower()):
                self.do_transition(i, t["id"], actor)
                return
        raise fail(400, ["no transition %r from %s" % (
            target, self.statuses[i["status"]]["name"])])

    def c_issue_create(self, req):
        with self.lock:
            q = req.obj()
            actor = self.actor(q.pop("as_user", None))
            i = self.human_create(q, actor)
            return Reply(201, self.issue_state(i))

    def c_issue_edit(self, req, ref):
        """A person's edit in the UI: the API's code path with every
        permission; "description" as text is made into paragraphs;
        "status" moves it by a transition allowed now."""
        with self.lock:
            q = req.obj()
            actor = self.actor(q.pop("as_user", None))
            i = self.c_issue(ref)
            status = q.pop("status", None)
            if isinstance(q.get("description"), str):
                q["description"] = adf_from_text(q["description"])
            fields = {k: q[k] for k in ("summary", "description", "labels")
                      if k in q}
            update = q.get("update") or {}
            if fields or update:
                self.apply_edit(i, self.edit_changes(
                    i, {"fields": fields, "update": update}, True), actor)
            if status is not None:
                self.human_move(i, status, actor)
            return Reply(200, self.issue_state(i))

    def c_issue_transition(self, req, ref):
        with self.lock:
            q = req.obj()
            actor = self.actor(q.pop("as_user", None))
            i = self.c_issue(ref)
            tr = q.get("transition")
            if isinstance(tr, dict):
                tr = tr.get("id") or tr.get("name")
            tr = tr if tr is not None else ""
            # "after": "next transition": the person moves the issue just
            # after the API's next transition of it, before its answer (a
            # race that timing alone would rarely make).
            if q.get("after") == "next transition":
                self.after_move[i["id"]] = (tr, actor)
                return Reply(202, self.issue_state(i))
            self.human_move(i, tr, actor)
            return Reply(200, self.issue_state(i))

    def c_issue_move(self, req, ref):
        """A person moves the issue to another project ({"to_project",
        "as_user"}), as Jira Cloud's Move does: the id kept, a new key
        there, the old key still answering with the issue where it is
        now; the issue type kept if the project has it (else its first),
        the status if the new workflow has it (else its initial one);
        jira:issue_updated (issue_moved) to the hooks whose JQL matches
        the issue in its new project."""
        with self.lock:
            q = req.obj()
            actor = self.actor(q.get("as_user"))
            i = self.c_issue(ref)
            was = self.projects[i["project"]]
            p = self.c_project_of(str(q.get("to_project") or ""))
            if p is was:
                raise fail(400, ["%s is in %s already" % (i["key"],
                                                         p["key"])])
            key = "%s-%d" % (p["key"], p["next_number"])
            p["next_number"] += 1
            items = [self.item("project", was["id"], was["name"], p["id"],
                               p["name"]),
                     self.item("Key", None, i["key"], None, key)]
            i["old_keys"].append(i["key"])
            i["key"], i["project"] = key, p["id"]
            if i["issuetype"] not in p["issuetypes"]:
                i["issuetype"] = p["issuetypes"][0]
            if i["status"] not in self.workflow(i)["statuses"]:
                i["status"] = self.workflow(i)["initial"]
            self.record(i, items, actor, "issue_moved")
            return Reply(200, self.issue_state(i))

    def c_issue_delete(self, req, ref):
        """Deleted by an admin in the UI: jira:issue_deleted, then 404."""
        with self.lock:
            q = req.obj()
            actor = self.actor(q.get("as_user") or req.q("as_user"))
            self.delete_issue(self.c_issue(ref), actor)
        return Reply(204)


if __name__ == "__main__":
    main(Jira, "Jira Cloud REST API v3 test double (issues, workflows, "
               "search, admin webhooks)")
