#!/usr/bin/python3
"""A small OpenAPI 3.0 / 3.1 checker: holds HTTP exchanges against the
operations of one or more descriptions, with jsonschema doing the work.

    /usr/bin/python3 tests/contract/openapi.py [--exceptions FILE] [--json]
        SPEC.json... < items.json

items.json is a list of {"method", "path", "status"?, "request_body"?,
"response_body"?, "callback"?, "label"?}.  `path` is the path as sent,
with the servers' base path (e.g. /v2) and any query; `callback`
("TEMPLATE#NAME", e.g. "/webhooks#entityChange") checks a call the
service makes instead, against that callback of an operation of TEMPLATE
(`path` then only gives the query).  A body key left out is not checked;
null means "no body".  Prints one line per problem (--json: a list of
{"index", "label", "problems"}); exits 1 if there is any, 2 on bad input.

Checked: the path matches a template (a concrete segment beats a
parameter) and the method an operation; path and query parameters
against their schemas, required ones present; the request body against
requestBody; the status is declared (exact, 2XX-style or default); the
answer's body against that response (JSON, or text/* for a string).
OpenAPI's rules on top of JSON Schema: 3.0 `nullable`; `readOnly`
properties are neither required nor allowed in requests, `writeOnly`
ones neither in answers.

Exceptions (--exceptions FILE) are documented disagreements between a
description and the service's documentation: {"exceptions": [{"id",
"reason", "method", "path" (template or callback; globs), "status"
(glob), "part": "request"|"response"|"status", "schema"}]}.  A body the
description refuses passes when it validates against the exception's
`schema` (which may $ref into the description); for part "status", an
undeclared status passes.  Nothing else is waived.

Needs jsonschema 4.x (python3-jsonschema: 4.10); nothing else outside the
standard library.
"""
import copy
import fnmatch
import json
import os
import re
import sys
import urllib.parse
import warnings

import jsonschema
from jsonschema import validators

METHODS = ("get", "put", "post", "delete", "options", "head", "patch",
           "trace")
_ABSENT = object()
FORMATS = jsonschema.FormatChecker()
# RFC 3339 and RFC 3986 shapes, for when jsonschema's optional checkers
# (rfc3339-validator, rfc3987) are not installed.
for _name, _rx in (("date-time", r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?"
                   r"([Zz]|[+-]\d\d:\d\d)"),
                   ("uri", r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]*")):
    if _name not in FORMATS.checkers:
        FORMATS.checks(_name)(lambda v, rx=re.compile(_rx): not isinstance(
            v, str) or rx.fullmatch(v) is not None)


def _nullable_30(node):
    """OpenAPI 3.0 `nullable: true` as JSON Schema, in place."""
    if isinstance(node, list):
        for v in node:
            _nullable_30(v)
        return node
    if not isinstance(node, dict):
        return node
    for v in node.values():
        _nullable_30(v)
    if node.pop("nullable", None) is True:
        if "type" in node and "$ref" not in node:
            t = node["type"]
            node["type"] = (t if isinstance(t, list) else [t]) + ["null"]
            if "enum" in node:
                node["enum"] = node["enum"] + [None]
        else:
            rest = dict(node)
            node.clear()
            node["anyOf"] = [{"type": "null"}, rest]
    return node


def _validator_class(base, mode):
    """`base` with readOnly/writeOnly honoured for mode request|response."""
    hidden = "readOnly" if mode == "request" else "writeOnly"
    plain_required = base.VALIDATORS["required"]

    def flag(validator, value, instance, schema):
        if value is True:
            yield jsonschema.ValidationError(
                "%s value is not allowed in a %s" % (hidden, mode))

    def required(validator, req, instance, schema):
        props = schema.get("properties") or {}
        req = [r for r in req if not (isinstance(props.get(r), dict) and
                                      props[r].get(hidden) is True)]
        yield from plain_required(validator, req, instance, schema)

    return validators.extend(base, {hidden: flag, "required": required})


class Spec:
    """One OpenAPI description: its operations and their schemas."""

    def __init__(self, path_or_doc):
        doc = path_or_doc
        if isinstance(doc, str):
            with open(doc) as f:
                doc = json.load(f)
        self.name = path_or_doc if isinstance(path_or_doc, str) else \
            doc.get("info", {}).get("title", "spec")
        version = str(doc.get("openapi", ""))
        if not version.startswith("3."):
            raise ValueError("%s: not OpenAPI 3.x" % self.name)
        if version.startswith("3.0"):
            doc = _nullable_30(copy.deepcopy(doc))
            base = jsonschema.Draft4Validator
        else:
            base = jsonschema.Draft202012Validator
            if doc.get("jsonSchemaDialect"):
                base = validators.validator_for(
                    {"$schema": doc["jsonSchemaDialect"]}, default=base)
        self.doc = doc
        with warnings.catch_warnings():     # deprecated since 4.18, works
            warnings.simplefilter("ignore", DeprecationWarning)
            self.resolver = jsonschema.RefResolver("", doc)
        self.classes = {m: _validator_class(base, m)
                        for m in ("request", "response")}
        self.bases = sorted({urllib.parse.urlsplit(s.get("url", "")).path
                             .rstrip("/") for s in doc.get("servers") or
                             [{"url": "/"}]}, key=len, reverse=True)
        self.templates = []
        for tpl, item in (doc.get("paths") or {}).items():
            names = re.findall(r"\{([^}]+)\}", tpl)
            rx = "([^/]+)".join(re.escape(p) for p in re.split(
                r"\{[^}]+\}", tpl))
            self.templates.append((tpl, re.compile(rx), names,
                                   self.deref(item)))
        # A concrete segment wins over a template one (OpenAPI 3 rules).
        self.templates.sort(key=lambda t: (len(t[2]), -len(t[0])))

    def deref(self, node):
        """Follows a $ref chain of a non-schema object (a path item,
        parameter, request body or response)."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 32:
            node = self.resolver.resolve(node["$ref"])[1]
            seen += 1
        return node

    def match(self, path):
        """(template, path item, {param: value}) or None."""
        for base in self.bases:
            if base and not (path == base or path.startswith(base + "/")):
                continue
            rest = path[len(base):] or "/"
            for tpl, rx, names, item in self.templates:
                m = rx.fullmatch(rest)
                if m:
                    return tpl, item, {n: urllib.parse.unquote(v) for n, v
                                       in zip(names, m.groups())}
        return None

    def errors(self, schema, instance, mode):
        """[(JSON pointer, message)] of `instance` against `schema`."""
        if schema is None:
            return []
        v = self.classes[mode](schema, resolver=self.resolver,
                               format_checker=FORMATS)
        errs = sorted(v.iter_errors(instance), key=lambda e: [
            str(p) for p in e.absolute_path])
        return [("/" + "/".join(str(p) for p in e.absolute_path),
                 _message(jsonschema.exceptions.best_match([e])))
                for e in errs]


def _message(e, limit=400):
    """The error's message; for a failed anyOf/oneOf, each branch's."""
    msg = _plain(e)
    if e.context:
        first = {}
        for c in e.context:
            first.setdefault(c.schema_path[0], c)
        msg = "matches no %s branch (%s)" % (e.validator, "; ".join(
            "%s: %s%s" % (i, "/".join(map(str, c.relative_path)) + ": " if
                          c.relative_path else "", _cut(_plain(c), 100))
            for i, c in first.items()))
    return _cut(msg, limit)


def _plain(e):
    """e.message with a long instance shown by its head and length."""
    r = repr(e.instance)
    if len(r) <= 60 or not e.message.startswith(r):
        return e.message
    size = " (%d %s)" % (len(e.instance), "chars" if isinstance(
        e.instance, str) else "items") if hasattr(e.instance, "__len__") \
        else ""
    return r[:40] + "..." + size + e.message[len(r):]


def _cut(s, limit):
    return s if len(s) <= limit else s[:limit - 3] + "..."


def _typed(value, schema):
    """A parameter as the type its schema asks for, if it reads so."""
    types = (schema or {}).get("type")
    types = types if isinstance(types, list) else [types]
    for t, rx, conv in (("integer", r"-?\d+", int),
                        ("number", r"-?\d+(\.\d+)?([eE][-+]?\d+)?", float),
                        ("boolean", r"true|false", lambda v: v == "true")):
        if t in types and re.fullmatch(rx, value):
            return conv(value)
    return value


def media_schema(content, body):
    """The schema of the content map's media type for `body`: a text/*
    one for a string when there is one, else the JSON one; or None."""
    text = isinstance(body, str)
    for want in ("text", "json") if text else ("json",):
        for mt, obj in (content or {}).items():
            base = mt.split(";")[0].strip().lower()
            if (base.startswith("text/") if want == "text" else
                    base == "application/json" or base.endswith("+json") or
                    base in ("*/*", "application/*")):
                return obj.get("schema", {}) if isinstance(obj, dict) else {}
    return None


def response_for(responses, status):
    """The response object declared for `status`: exact, then 2XX-style,
    then default; (key, object) or (None, None)."""
    s = str(status)
    for key in (s, s[:1] + "XX", s[:1] + "xx", "default"):
        if key in responses:
            return key, responses[key]
    return None, None


class Checker:
    """Several descriptions (the first match wins) plus exceptions."""

    def __init__(self, specs, exceptions=None):
        self.specs = [s if isinstance(s, Spec) else Spec(s) for s in specs]
        self.exceptions = []
        if isinstance(exceptions, str):
            with open(exceptions) as f:
                exceptions = json.load(f)
        for x in (exceptions or {}).get("exceptions", []):
            need = {"id", "reason", "part"} | (
                set() if x.get("part") == "status" else {"schema"})
            if need - set(x) or x["part"] not in ("request", "response",
                                                  "status"):
                raise ValueError("exception %r: needs id, reason, part "
                                 "(request|response|status) and, for a "
                                 "body, schema" % x.get("id"))
            self.exceptions.append(x)

    def waived(self, spec, method, tpl, status, part, body=None):
        """The id of an exception that accepts this body (or, for part
        "status", this undeclared status), or None."""
        for x in self.exceptions:
            if x["part"] == part and fnmatch.fnmatchcase(
                    method.upper(), x.get("method", "*").upper()) and \
                    fnmatch.fnmatchcase(tpl, x.get("path", "*")) and \
                    fnmatch.fnmatchcase(str(status), str(x.get("status",
                                                               "*"))) and \
                    (part == "status" or not spec.errors(x["schema"], body,
                                                         part)):
                return x["id"]
        return None

    def locate(self, path, callback=None):
        """(spec, template, path item, path parameters), or a problem.
        A callback is named "TEMPLATE#NAME": the callback NAME of an
        operation of TEMPLATE (its runtime URL expression is not
        evaluated)."""
        if callback:
            tpl, _, name = callback.partition("#")
            for spec in self.specs:
                for op in ((spec.doc.get("paths") or {}).get(tpl) or
                           {}).values():
                    cb = spec.deref((op.get("callbacks") or {}).get(name)) \
                        if isinstance(op, dict) else None
                    if cb:
                        return spec, callback, spec.deref(next(iter(
                            cb.values()))), {}
            return "no callback %s in %s" % (callback, self._names())
        path = urllib.parse.urlsplit(path).path
        for spec in self.specs:
            found = spec.match(path)
            if found:
                return (spec,) + found
        return "no path template matches %s (in %s)" % (path, self._names())

    def _names(self):
        return ", ".join(os.path.basename(s.name) for s in self.specs)

    def check(self, method, path, status=None, request_body=_ABSENT,
              response_body=_ABSENT, callback=None):
        """Problems (strings) of one exchange; [] if it conforms.  A body
        left _ABSENT is not checked; None means "no body"."""
        method = method.lower()
        found = self.locate(path, callback)
        if isinstance(found, str):
            return [found]
        spec, tpl, item, params = found
        op = item.get(method)
        if method not in METHODS or not isinstance(op, dict):
            return ["unknown operation %s %s (template %s allows %s)" % (
                method.upper(), path, tpl, ", ".join(
                    m.upper() for m in METHODS if m in item) or "nothing")]
        where = "%s %s" % (method.upper(), tpl)
        out = []
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query,
                                      keep_blank_values=True)
        for p in [spec.deref(p) for p in item.get("parameters", []) +
                  op.get("parameters", [])]:
            name, schema = p.get("name"), spec.deref(p.get("schema")) or {}
            if p.get("in") == "path" and name in params:
                value = _typed(params[name], schema)
            elif p.get("in") != "query":
                continue
            elif name not in query:
                if p.get("required"):
                    out.append("query parameter %s: required but absent"
                               % name)
                continue
            elif schema.get("type") == "array":
                value = [_typed(v, spec.deref(schema.get("items"))) for v in
                         query[name]]
            else:
                value = _typed(query[name][-1], schema)
            out += ["%s parameter %s: %s" % (p["in"], name, msg) for _, msg
                    in spec.errors(schema, value, "request")[:1]]
        if request_body is not _ABSENT:
            out += self._body(spec, where, tpl, method, status, "request",
                              spec.deref(op.get("requestBody")),
                              request_body)
        if status is None:
            return out
        key, resp = response_for(op.get("responses") or {}, status)
        if resp is None:
            if self.waived(spec, method, tpl, status, "status"):
                return out
            return out + ["%s: status %s is not declared (declared: %s)" % (
                where, status, ", ".join(op.get("responses") or {}))]
        if response_body is not _ABSENT:
            out += self._body(spec, where, tpl, method, status, "response",
                              spec.deref(resp), response_body)
        return out

    def _body(self, spec, where, tpl, method, status, part, obj, body):
        label = "%s %s body" % (where, part if part == "request" else
                                "%s answer" % status)
        content = (obj or {}).get("content")
        if body is None:
            if part == "request" and (obj or {}).get("required"):
                return ["%s: required but absent" % label]
            if part == "response" and content:
                return ["%s: absent, the description declares %s" % (
                    label, ", ".join(content))]
            return []
        if obj is None or not content:
            if self.waived(spec, method, tpl, status, part, body):
                return []
            return ["%s: present, the description declares none" % label]
        schema = media_schema(content, body)
        if schema is None:
            return ["%s: no media type of %s fits it" % (label, ", ".join(
                content))]
        errs = spec.errors(schema, body, part)
        if errs and self.waived(spec, method, tpl, status, part, body):
            return []
        return ["%s %s: %s" % (label, ptr, msg) for ptr, msg in errs]


def main(argv):
    args, specs, exc, as_json = argv[1:], [], None, False
    while args:
        a = args.pop(0)
        if a == "--exceptions" and args:
            exc = args.pop(0)
        elif a == "--json":
            as_json = True
        elif a.startswith("-"):
            sys.stderr.write(__doc__)
            return 2
        else:
            specs.append(a)
    if not specs:
        sys.stderr.write(__doc__)
        return 2
    try:
        checker = Checker(specs, exc)
        items = json.load(sys.stdin)
    except (OSError, ValueError) as e:
        sys.stderr.write("openapi.py: %s\n" % e)
        return 2
    results, bad = [], 0
    for i, it in enumerate(items):
        probs = checker.check(
            it.get("method", ""), it.get("path", ""), it.get("status"),
            it.get("request_body", _ABSENT), it.get("response_body", _ABSENT),
            it.get("callback"))
        bad += bool(probs)
        results.append({"index": i, "label": it.get("label"),
                        "problems": probs})
        if not as_json:
            for p in probs:
                print("%s %s %s -> %s: %s" % (
                    "#%d" % i if it.get("label") is None else it["label"],
                    it.get("method"), it.get("path"), it.get("status"), p))
    if as_json:
        print(json.dumps(results, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
