#!/usr/bin/python3
"""GitHub's published API descriptions as a contract for the GitHub double
(tests/doubles/ghdouble.py): REST answers and requests against
@octokit/openapi (api.github.com, dereferenced, OpenAPI 3.0), webhook
deliveries against @octokit/openapi-webhooks (OpenAPI 3.1).  Both come
from npm: `npm ci --prefix tests/contract` (scripts/install-deps does it).

    /usr/bin/python3 tests/contract/github_schema.py < items.json

items.json is a list; each item one of

    {"kind": "response", "method", "path", "status", "body", "version"?}
    {"kind": "request", "method", "path", "body", "version"?}
    {"kind": "webhook", "event", "action"?, "payload", "headers"?}

`path` is concrete (a query, /api/v3 and /repositories/{id} are fine); it
picks the operation whose template matches, literal segments first.
`version` (X-GitHub-Api-Version, default 2022-11-28) applies the
description's x-github-breaking-changes up to that version.  `body` None
means no body.  Prints a JSON list, one {"ok", "schema", "errors"} per
item, and exits 1 if any item fails, 2 on bad input.  The big files are
read once per run: send many items at a time.

Needs python3-jsonschema 4.x (Debian's /usr/bin/python3 has it).
"""
import json
import os
import re
import sys
import urllib.parse

import jsonschema

# PBSYNC_NODE_MODULES: where npm put them when this copy has none (make
# distcheck tests an unpacked tarball, which carries no node_modules).
NODE = os.path.join(os.environ.get("PBSYNC_NODE_MODULES") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "node_modules"), "@octokit")
REST = os.path.join(NODE, "openapi", "generated", "api.github.com.deref.json")
HOOKS = os.path.join(NODE, "openapi-webhooks", "generated",
                     "api.github.com.json")
DEFAULT_VERSION = "2022-11-28"

# jsonschema checks formats only with optional packages; these two matter
# here (timestamps ending in Z, absolute URLs) and need none.
FORMATS = jsonschema.FormatChecker([])
FORMATS.checks("date-time")(lambda v: not isinstance(v, str) or bool(
    re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
                 v)))
FORMATS.checks("uri")(lambda v: not isinstance(v, str) or bool(
    urllib.parse.urlsplit(v).scheme and urllib.parse.urlsplit(v).netloc))


def merge_patch(target, patch):
    """RFC 7386, the form of x-github-breaking-changes schema patches."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def to_json_schema(node, version):
    """A copy of an OpenAPI 3.0 schema as JSON Schema: the version's
    breaking changes applied, then `nullable: true` as a null type (or a
    null alternative when there is no type)."""
    if isinstance(node, list):
        return [to_json_schema(v, version) for v in node]
    if not isinstance(node, dict):
        return node
    for change in sorted(node.get("x-github-breaking-changes") or [],
                         key=lambda c: c.get("version", "")):
        if change.get("version", "9999") <= version and \
                isinstance(change.get("patch"), dict):
            node = merge_patch(node, change["patch"])
    out = {k: to_json_schema(v, version) for k, v in node.items()
           if k not in ("x-github-breaking-changes", "example", "examples")}
    if out.pop("nullable", False) is True:
        if "type" in out:
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = out["enum"] + [None]
        else:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


def describe(errors, limit=10):
    out = []
    for e in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        best = jsonschema.exceptions.best_match([e])
        where = "/" + "/".join(map(str, best.absolute_path))
        out.append("%s: %s" % (where, best.message[:300]))
        if len(out) == limit:
            break
    return out


class Rest:
    def __init__(self, path=REST):
        with open(path) as f:
            self.paths = json.load(f)["paths"]
        self.templates = []
        for tpl in self.paths:
            parts = re.split(r"\{[^}]+\}", tpl)
            rx = re.compile("[^/]+".join(re.escape(p) for p in parts))
            self.templates.append((len(parts), tpl, rx))
        self.templates.sort(key=lambda t: t[0])   # literal segments first
        self.cache = {}

    @staticmethod
    def normalize(path):
        path = urllib.parse.urlsplit(path).path
        if path.startswith("/api/v3/"):
            path = path[len("/api/v3"):]
        # GitHub's undocumented alias, used in its redirects
        return re.sub(r"^/repositories/\d+", "/repos/{owner}/{repo}", path)

    def operation(self, method, path):
        path = self.normalize(path)
        for _, tpl, rx in self.templates:
            if rx.fullmatch(path):
                op = self.paths[tpl].get(method.lower())
                if op is not None:
                    return tpl, op
                return tpl, None
        return None, None

    def validator(self, key, schema, version):
        if (key, version) not in self.cache:
            self.cache[key, version] = jsonschema.Draft4Validator(
                to_json_schema(schema, version), format_checker=FORMATS)
        return self.cache[key, version]

    def check(self, item):
        method, path = item["method"].upper(), item["path"]
        version = item.get("version") or DEFAULT_VERSION
        tpl, op = self.operation(method, path)
        if op is None:
            return "%s %s" % (method, tpl or path), [
                "no operation %s %s in the description" % (method, path)]
        if item["kind"] == "request":
            name = "%s %s request" % (method, tpl)
            content = (op.get("requestBody") or {}).get("content") or {}
        else:
            status = str(item["status"])
            name = "%s %s %s" % (method, tpl, status)
            resp = op["responses"].get(status) or op["responses"].get(
                "default")
            if resp is None:
                return name, ["status %s is not documented (only %s)" % (
                    status, ", ".join(op["responses"]))]
            content = resp.get("content") or {}
        body = item.get("body")
        media = content.get("application/json")
        if media is None:
            return name, [] if body in (None, "") else [
                "a body where the description has none"]
        if body is None and item["kind"] == "request":
            return name, [] if not op["requestBody"].get("required") else [
                "no body where one is required"]
        v = self.validator((name, item["kind"]), media.get("schema", {}),
                           version)
        return name, describe(v.iter_errors(body))


class Webhooks:
    def __init__(self, path=HOOKS):
        with open(path) as f:
            self.doc = json.load(f)
        self.resolver = jsonschema.RefResolver("", self.doc)

    def check(self, item):
        event, action = item["event"], item.get("action")
        name = event.replace("_", "-") + ("-" + action if action else "")
        hook = self.doc["webhooks"].get(name)
        if hook is None:
            return name, ["no webhook %s in the description" % name]
        post = hook["post"]
        errors = []
        sent = {k.lower() for k in item.get("headers") or {}}
        if item.get("headers") is not None:
            errors += ["header %s missing" % p["name"]
                       for p in post.get("parameters", [])
                       if p.get("in") == "header" and p.get("required")
                       and p["name"].lower() not in sent]
        schema = post["requestBody"]["content"]["application/json"]["schema"]
        v = jsonschema.Draft202012Validator(schema, resolver=self.resolver,
                                            format_checker=FORMATS)
        return name, errors + describe(v.iter_errors(item["payload"]))


def main():
    try:
        items = json.load(sys.stdin)
        assert isinstance(items, list)
    except (ValueError, AssertionError):
        sys.stderr.write(__doc__)
        return 2
    rest = hooks = None
    results = []
    for item in items:
        if item.get("kind") == "webhook":
            hooks = hooks or Webhooks()
            name, errors = hooks.check(item)
        elif item.get("kind") in ("response", "request"):
            rest = rest or Rest()
            name, errors = rest.check(item)
        else:
            sys.stderr.write("unknown kind in %r\n" % item)
            return 2
        results.append({"ok": not errors, "schema": name, "errors": errors})
    json.dump(results, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
