#!/usr/bin/env python3
"""A faithful double of the Productboard public API v2, as pbsync uses it.

Contract: shared/reference/productboard-api-v2.md (§2-§5, §7) and the v2
OpenAPI files; checklist: productboard-api.md §8, spoken in v2.  Served
under /v2 with absolute links to the double itself:

  plugin integrations (probe on create / URL change), their connections,
  webhooks, entities (features) and their status configuration, the v2
  error envelope, the gateway's 401, a per-token rate limit, and 410 for
  the retired v1 paths.

Callbacks: webhook notifications for every feature change (control or API,
so pbsync sees its own writes come back), retried on a time-scaled
schedule; the action call of a click, synchronously.  Shared control API:
double.py; Productboard's own control routes: README.md.
"""
import html.entities
import itertools
import json
import math
import re
import time
import xml.parsers.expat

from double import (Double, Refused, Reply, b64, iso_time, main, new_uuid,
                    unb64, url_problem, with_query)

UA = "Productboard-Integrations/1.0"
STATUSES = [
    {"id": "a1b2c3d4-0001-4000-8000-000000000001", "name": "New"},
    {"id": "a1b2c3d4-0002-4000-8000-000000000002", "name": "Planned"},
    {"id": "a1b2c3d4-0003-4000-8000-000000000003", "name": "In Progress"},
    {"id": "a1b2c3d4-0004-4000-8000-000000000004", "name": "Done"},
]
COLORS = ("gray", "blue", "green", "yellow", "orange", "red", "purple")
STATES = ("connected", "error", "progress", "initial")
TRIGGERS = ("button.push", "button.unlink", "button.dismiss")
CUD = ("created", "updated", "deleted")
EVENT_TYPES = {"%s.%s" % (kind, op) for kind, ops in (
    ("feature", CUD), ("component", CUD[:2]), ("product", CUD[:2]),
    ("release", CUD), ("note", CUD), ("insight", ("created", "deleted")),
    ("key-result", CUD), ("objective", CUD), ("initiative", CUD))
    for op in ops} | {"feature-release-assignment.updated",
                      "hierarchy-entity.custom-field-value.updated"}
# productboard-api.md §5.4, plus tables and <br/> since 2026-09-21.
HTML_TAGS = {"h1", "h2", "p", "b", "i", "u", "s", "code", "pre",
             "blockquote", "ul", "ol", "li", "a", "hr", "br", "table",
             "thead", "tbody", "tr", "th", "td"}
# Entity fields the double models, with the patch ops each allows.
FIELD_OPS = {"name": {"set"}, "description": {"set", "clear"},
             "status": {"set"}, "archived": {"set"},
             "owner": {"set", "clear"}, "timeframe": {"set", "clear"}}
TITLES = {  # from the OpenAPI error examples
    "request.invalid": "Request schema invalid", "request.malformed":
    "Request malformed", "auth.accessDenied": "Access denied",
    "resource.notFound": "Resource not found", "route.notFound": "Route not "
    "found", "request.timeout": "Request timeout", "validation.failed":
    "Validation failed", "validation.referenceNotFound": "Referenced "
    "resource not found", "rate.limitExceeded": "Rate limit exceeded",
    "internal.serverError": "Internal server error",
    "callback.probeFailed": "Callback probe failed",
    "api.retired": "API v1 retired"}
FAULT_CODES = {400: "request.invalid", 403: "auth.accessDenied",
               404: "resource.notFound", 408: "request.timeout",
               422: "validation.failed", 429: "rate.limitExceeded"}
V1_PATHS = re.compile(r"/(features|feature-statuses|plugin-integrations|"
                      r"webhooks|components|products|releases|notes|"
                      r"companies|users|objectives|initiatives)(/.*)?")
DATA_F = "/data/fields/"


ERROR_IDS = itertools.count(int(time.time()))   # `req-<n>` occurrence ids


def pb_error(status, code, detail, pointer=None, parameter=None,
             headers=None):
    """The v2 error envelope of productboard-api-v2.md §2 (the OpenAPI
    ErrorResponse: `detail` at most 1000 characters)."""
    if len(detail) > 1000:
        detail = detail[:999] + "…"
    e = {"code": code, "title": TITLES.get(code, code), "detail": detail}
    if pointer or parameter:
        e["source"] = {"pointer": pointer} if pointer else \
            {"parameter": parameter}
    return Reply(status, {"id": "req-%010d" % next(ERROR_IDS),
                          "errors": [e]}, headers)


def refuse(status, code, detail, pointer=None, parameter=None):
    where = " (%s)" % (pointer or parameter) if pointer or parameter else ""
    return Refused(pb_error(status, code, detail, pointer, parameter),
                   detail + where)


def invalid(detail, pointer):
    return refuse(422, "validation.failed", detail, pointer)


# -- validators ------------------------------------------------------------

def text(obj, key, lo, hi, pointer, required=True):
    """A string field of lo..hi characters (None if optional and absent)."""
    v = obj.get(key)
    if v is None:
        if required:
            raise invalid("The field '%s' is required." % key, pointer)
        return None
    if not isinstance(v, str):
        raise invalid("The field '%s' must be a string." % key, pointer)
    if not lo <= len(v) <= hi:
        raise invalid("The field '%s' must be %d to %d characters long, "
                      "got %d." % (key, lo, hi, len(v)), pointer)
    return v


def obj_field(obj, key, pointer, required=True):
    v = obj.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, dict):
        raise invalid("The field '%s' must be an object." % key, pointer)
    return v


def fields_of(req):
    """data.fields of a write body; 400 for a wrong envelope."""
    b = req.body
    if not isinstance(b, dict) or not isinstance(b.get("data"), dict):
        raise refuse(400, "request.invalid", "The request is missing "
                     "required parameter 'data'.", "/data")
    f = b["data"].get("fields")
    if not isinstance(f, dict):
        raise refuse(400, "request.invalid", "Field 'data.fields' is "
                     "required and must be an object.", "/data/fields")
    return f


def callback_url(v, pointer, require_https):
    """action.url / notification.url: <= 1024, https://.+ when
    require_https, public host."""
    if not isinstance(v, str) or not 1 <= len(v) <= 1024:
        raise invalid("The field 'url' is required and must be at most "
                      "1024 characters long.", pointer)
    why = url_problem(v, require_https)
    if why:
        raise invalid("The URL %s." % why, pointer)
    return v


def authorization_of(obj, pointer):
    headers = obj_field(obj, "headers", pointer + "/headers", False) or {}
    return text(headers, "authorization", 0, 2048,
                pointer + "/headers/authorization", False)


def connection_state(c, pointer):
    """A §4.2 state object, normalised to its own keys; 422 if bad."""
    if not isinstance(c, dict):
        raise invalid("The connection must be an object.", pointer)
    st = c.get("state")
    if st not in STATES:
        raise invalid("The field 'state' must be one of %s." % ", ".join(
            STATES), pointer + "/state")
    out = {"state": st}
    if st == "connected":
        for key, hi in (("label", 20), ("hoverLabel", 20), ("tooltip", 50),
                        ("targetUrl", 1000)):
            out[key] = text(c, key, 1, hi, pointer + "/" + key)
        if not re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:\S", out["targetUrl"]):
            raise invalid("The field 'targetUrl' must be a URI.",
                          pointer + "/targetUrl")
        if c.get("color") not in COLORS:
            raise invalid("The field 'color' must be one of %s." %
                          ", ".join(COLORS), pointer + "/color")
        out["color"] = c["color"]
    elif st == "error":
        out["message"] = text(c, "message", 1, 255, pointer + "/message")
    return out


def html_problem(doc, extra_tags=()):
    """Why Productboard would refuse this description HTML, or None: only
    allow-listed tags, and XHTML well-formedness (every tag closed,
    attribute values quoted).  HTML named entities are allowed."""
    def entity(m):
        cp = html.entities.name2codepoint.get(m.group(1))
        return "&#%d;" % cp if cp and m.group(1) not in (
            "amp", "lt", "gt", "quot", "apos") else m.group(0)
    allowed = HTML_TAGS | set(extra_tags) | {"pbsync-double-root"}
    bad = []
    p = xml.parsers.expat.ParserCreate()
    p.StartElementHandler = lambda tag, attrs: tag in allowed or \
        bad.append("unsupported tag <%s>" % tag)
    try:
        p.Parse("<pbsync-double-root>" + re.sub(
            r"&([A-Za-z][A-Za-z0-9]*);", entity, doc) +
            "</pbsync-double-root>", True)
    except xml.parsers.expat.ExpatError as e:
        return ("not well-formed XHTML (%s at line %d, column %d): every "
                "tag must be closed and attribute values quoted"
                % (xml.parsers.expat.ErrorString(e.code), e.lineno,
                   e.offset - (20 if e.lineno == 1 else 0)))
    return bad[0] if bad else None


class Productboard(Double):
    name = "productboard"
    user_agent = UA
    defaults = dict(
        Double.defaults,
        rate_limit_per_s=50,         # per token; 0 = off
        probe_webhooks=False,        # v2 documents no webhook probe
        page_size=2,                 # tiny, to exercise links.next
        action_timeout=5,            # probe and click timeout, seconds
        retry_schedule=[1, 2, 4],    # webhook retry waits (time-scaled)
        allow_fields_and_patch=False,  # PATCH with both: 400 by default
        html_extra_tags=[])          # e.g. ["input"] to accept checklists

    def reset_state(self):
        self.tokens = {}             # token -> {"revoked": bool}
        self.statuses = [dict(s, assignedEntityTypes=["feature",
                                                      "subfeature"])
                         for s in STATUSES]
        self.features = {}           # id -> stored feature
        self.plugins = {}            # id -> stored integration
        self.connections = {}        # (plugin id, entity id) -> state
        self.conn_versions = {}      # (plugin id, entity id) -> n of writes
        self.webhooks = {}           # id -> stored subscription
        self.buckets = {}            # token -> (level, monotonic time)

    def state(self):
        return {"tokens": self.tokens, "statuses": self.statuses,
                "features": {k: dict(f, createdAt=iso_time(f["createdAt"], 6),
                                     updatedAt=iso_time(f["updatedAt"], 6))
                             for k, f in self.features.items()},
                "plugin_integrations": self.plugins,
                "connections": {"%s/%s" % k: v
                                for k, v in self.connections.items()},
                "webhooks": self.webhooks, "config": self.config}

    # -- seeding ---------------------------------------------------------
    def seed(self, data):
        with self.lock:
            super().seed(data)
            for t in data.get("tokens") or []:
                t = t if isinstance(t, dict) else {"token": t}
                self.tokens[t["token"]] = {"revoked": bool(t.get("revoked"))}
            if data.get("statuses"):
                self.set_statuses(data["statuses"])
            for f in data.get("features") or []:
                self.add_feature(f, notify=False)

    def sandbox(self):
        with self.lock:
            self.tokens["pb-sandbox-token"] = {"revoked": False}
            for name, status, desc in SANDBOX_FEATURES:
                self.add_feature({"name": name, "description": desc,
                                  "status": {"name": status}}, notify=False)
        return ["Productboard sandbox: Authorization: Bearer "
                "pb-sandbox-token; API %s/v2; %d features"
                % (self.base_url, len(SANDBOX_FEATURES))]

    def set_statuses(self, items):
        self.statuses = [{"id": s.get("id") or new_uuid(), "name": s["name"],
                          "assignedEntityTypes": s.get(
                              "assignedEntityTypes", ["feature",
                                                      "subfeature"])}
                         for s in items]

    def status_of(self, spec, pointer=DATA_F + "status"):
        """{"id"} xor {"name"} (exact, case-sensitive) -> {"id","name"}."""
        if not isinstance(spec, dict) or ("id" in spec) == ("name" in spec):
            raise invalid("The status must be given by either 'id' or "
                          "'name'.", pointer)
        key = "id" if "id" in spec else "name"
        for s in self.statuses:
            if s[key] == spec[key]:
                return {"id": s["id"], "name": s["name"]}
        raise refuse(422, "validation.referenceNotFound", "The status with "
                     "%s '%s' could not be found." % (key, spec[key]),
                     pointer)

    def add_feature(self, b, notify=True):
        """A feature as a user makes it; status defaults to the first."""
        now, fid = time.time(), b.get("id") or new_uuid()
        first = {"id": self.statuses[0]["id"]} if self.statuses else None
        spec = b.get("status") or first
        f = {"id": fid, "type": b.get("type", "feature"),
             "name": b.get("name", "Untitled feature"),
             "description": b.get("description", ""),
             "status": self.status_of(spec) if spec else None,
             "archived": bool(b.get("archived", False)),
             "owner": b.get("owner"), "timeframe": b.get("timeframe"),
             "metadata": None, "createdAt": now, "updatedAt": now}
        self.features[fid] = f
        if notify:
            self.notify(fid, "feature.created")
        return f

    # -- webhook notifications (§5.2) ------------------------------------
    def notify(self, fid, event, attrs=None):
        """Queues the notification to every subscription of `event`; the
        links stay in v1 form (pointing at the double's retired v1
        path), as documented."""
        data = {"id": fid, "eventType": event,
                "links": {"target": "%s/features/%s" % (self.base_url, fid)}}
        if event.endswith(".updated"):
            data["updatedAttributes"] = list(attrs or [])
        for w in self.webhooks.values():
            if event not in [e["eventType"] for e in w["events"]]:
                continue
            headers = {"Authorization": w["authorization"]} \
                if w["authorization"] else {}
            self.enqueue("webhook", w["url"], {"data": data}, headers,
                         timeout=5, retries=self.config["retry_schedule"],
                         meta={"webhook_id": w["id"], "event": event})

    def change_feature(self, f, new):
        """Applies resolved values; bumps updatedAt and notifies when
        something changed.  Returns the changed attribute names."""
        changed = [k for k, v in new.items() if f.get(k) != v]
        if not changed:
            return changed
        f.update(new)
        f["updatedAt"] = max(time.time(), f["updatedAt"] + 1e-6)
        attrs = [k for k in changed if k != "metadata"]
        if attrs:
            self.notify(f["id"], "feature.updated", attrs)
        return changed

    # -- control ---------------------------------------------------------
    def add_control(self, r):
        r.add("POST", r"/_double/tokens", self.c_token)
        r.add("POST", r"/_double/statuses", self.c_statuses)
        r.add("POST", r"/_double/features", self.c_feature_create)
        r.add("PATCH", r"/_double/features/([^/]+)", self.c_feature_edit)
        r.add("DELETE", r"/_double/features/([^/]+)", self.c_feature_delete)
        r.add("POST", r"/_double/plugin-integrations/([^/]+)/trigger",
              self.c_trigger)

    def c_token(self, req):
        b = req.obj()
        if not isinstance(b.get("token"), str):
            return Reply(400, {"error": "need {\"token\", \"revoked\"?}"})
        with self.lock:
            t = self.tokens[b["token"]] = {"revoked": bool(b.get("revoked"))}
            return Reply(201, dict(t, token=b["token"]))

    def c_statuses(self, req):
        if not isinstance(req.body, list) or not all(
                isinstance(s, dict) and s.get("name") for s in req.body):
            return Reply(400, {"error": "need [{\"id\"?, \"name\"}]"})
        with self.lock:
            self.set_statuses(req.body)
            return Reply(201, self.statuses)

    def c_feature_create(self, req):
        b = req.obj()
        with self.lock:
            if b.get("id") in self.features:
                return Reply(409, {"error": "feature exists"})
            f = self.add_feature(b)
            return Reply(201, {"data": self.entity_view(f, None)})

    def c_feature_edit(self, req, fid):
        """A user's edit in the Productboard UI: no HTML check (the editor
        makes valid HTML; tests may want odd input), same notification
        path as the API."""
        b = req.obj()
        with self.lock:
            f = self.features.get(fid)
            if f is None:
                return Reply(404, {"error": "no feature " + fid})
            new = {k: b[k] for k in ("name", "description", "archived",
                                     "owner", "timeframe") if k in b}
            if "status" in b:
                s = b["status"]
                new["status"] = self.status_of(
                    {"name": s} if isinstance(s, str) else s)
            changed = self.change_feature(f, new)
            return Reply(200, {"data": self.entity_view(f, None),
                               "updatedAttributes": changed})

    def c_feature_delete(self, req, fid):
        with self.lock:
            if self.features.pop(fid, None) is None:
                return Reply(404, {"error": "no feature " + fid})
            for key in [k for k in self.connections if k[1] == fid]:
                self.put_connection(key, {"state": "initial"})
            self.notify(fid, "feature.deleted")
        return Reply(204)

    def c_trigger(self, req, pid):
        """A click on the column (§4.4): POSTs the action notification
        now, applies a valid reply as if PUT (v2 data.fields.connection
        or v1 data.connection), else stores an error state.  A PUT that
        arrives while the call is in flight wins over the reply."""
        b = req.obj()
        eid, trigger = b.get("entityId"), b.get("trigger", "button.push")
        if not isinstance(eid, str) or trigger not in TRIGGERS:
            return Reply(400, {"error": "need {\"entityId\", \"trigger\": "
                               "%s, \"user\"?}" % "|".join(TRIGGERS)})
        with self.lock:
            p = self.plugins.get(pid)
            if p is None:
                return Reply(404, {"error": "no plugin integration " + pid})
            if p["integrationStatus"] != "enabled":
                return Reply(409, {"error": "integration disabled: its "
                                   "column is hidden, nobody can click"})
            key = (pid, eid)
            version = self.conn_versions.get(key, 0)
            body = self.action_payload(pid, eid, trigger, b.get("user"))
            headers = {"Authorization": p["authorization"]} \
                if p["authorization"] else {}
            url, timeout = p["action"]["url"], self.config["action_timeout"]
        rec = self.call_out("action", "POST", url, headers, body, timeout,
                            meta={"trigger": trigger, "entity_id": eid})
        conn = self.action_reply(rec, timeout)
        with self.lock:
            if pid in self.plugins and \
                    self.conn_versions.get(key, 0) == version:
                self.put_connection(key, conn)
            stored = self.connections.get(key, {"state": "initial"})
        return Reply(200, {"status": rec["status"],
                           "headers": rec["response_headers"],
                           "body": rec["response"],
                           "elapsed": rec["elapsed"], "error": rec["error"],
                           "connection": conn, "stored": stored})

    def action_payload(self, pid, eid, trigger, user):
        data = {"integrationId": pid, "trigger": trigger,
                "feature": {"id": eid, "links": {
                    "self": "%s/features/%s" % (self.base_url, eid),
                    "html": self.html_url(eid)}}}
        if user:
            data["triggeredByUser"] = user
        data["links"] = {"connection": self.conn_url(pid, eid)}
        return {"data": data}

    def action_reply(self, rec, timeout):
        """The connection state an action reply sets, or the error state
        Productboard shows (with debugDetail) when the reply is unusable."""
        if rec["error"]:
            why = "No valid response within %g seconds: %s" % (
                timeout, rec["error"])
        elif rec["status"] != 200:
            why = "Invalid response status code: %s" % rec["status"]
        else:
            try:
                d = json.loads(rec["response"])["data"]
                c = (d.get("fields") or {}).get("connection",
                                                d.get("connection"))
                return connection_state(c, "/data/fields/connection")
            except (ValueError, KeyError, TypeError, AttributeError):
                why = "JSON decoding error - data.fields.connection missing"
            except Refused as e:
                why = "JSON decoding error - " + e.detail
        return {"state": "error",
                "message": "The integration failed to process the action.",
                "debugDetail": why[:8000]}

    def put_connection(self, key, conn):
        """Upsert; `initial` deletes (§4.2)."""
        self.conn_versions[key] = self.conn_versions.get(key, 0) + 1
        if conn["state"] == "initial":
            self.connections.pop(key, None)
        else:
            self.connections[key] = conn

    # -- API: transport (§2) ---------------------------------------------
    def fault_reply(self, status, req):
        if status == 401:
            return Reply(401, {"message": "Unauthorized"})
        code = FAULT_CODES.get(status, "internal.serverError")
        r = pb_error(status, code, "Injected fault: HTTP %d." % status)
        if status == 429:
            r.set_default("Retry-After", "1")
            r.set_default("X-RateLimit-Limit",
                          str(self.cfg("rate_limit_per_s")))
            r.set_default("X-RateLimit-Remaining", "0")
        return r

    def api(self, req):
        if not (req.path == "/v2" or req.path.startswith("/v2/")):
            if V1_PATHS.fullmatch(req.path):
                return self.retired()
            return pb_error(404, "route.notFound", "The requested URL path "
                            "does not match any defined API route.")
        with self.lock:
            token = self.token_of(req)
            if token is None:
                return Reply(401, {"message": "Unauthorized"})
            limited, headers = self.rate(token)
        if limited:
            return limited
        reply = self.serve_v2(req)
        for k, v in headers.items():
            reply.set_default(k, v)
        return reply

    def retired(self):
        guide = "https://developer.productboard.com/reference/migration-guide"
        return pb_error(410, "api.retired", "API v1 has been retired for "
                        "this workspace. Migrate to API v2: " + guide,
                        headers={"Sunset": "Wed, 08 Jul 2026 00:00:00 GMT",
                                 "Link": '<%s>; rel="sunset"' % guide})

    def token_of(self, req):
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        t = self.tokens.get(token.strip()) if scheme.lower() == "bearer" \
            else None
        return token.strip() if t and not t["revoked"] else None

    def rate(self, token):
        """Token bucket per token: (429 reply or None, headers)."""
        limit = float(self.config["rate_limit_per_s"] or 0)
        if limit <= 0:
            return None, {}
        now = time.monotonic()
        level, last = self.buckets.get(token, (limit, now))
        level = min(limit, level + (now - last) * limit)
        shown = "%g" % limit
        if level < 1:
            self.buckets[token] = (level, now)
            wait = max(1, math.ceil((1 - level) / limit))
            return pb_error(429, "rate.limitExceeded", "You have exceeded "
                            "the allowed number of API requests. Please wait "
                            "before making additional requests.", headers={
                                "Retry-After": str(wait),
                                "X-RateLimit-Limit": shown,
                                "X-RateLimit-Remaining": "0"}), {}
        self.buckets[token] = (level - 1, now)
        return None, {"X-RateLimit-Limit": shown,
                      "X-RateLimit-Remaining": str(int(level - 1))}

    def serve_v2(self, req):
        if req.method in ("POST", "PUT", "PATCH") and req.raw:
            if not req.ctype.endswith("json"):
                return pb_error(400, "request.malformed", "The Content-Type "
                                "header must be 'application/json'. "
                                "Received '%s'." % req.ctype)
            if req.malformed:
                return pb_error(400, "request.malformed", "The request body "
                                "contains invalid JSON syntax.")
        reply, _ = self.dispatch(self.routes, req, req.path[3:])
        return reply or pb_error(404, "route.notFound", "The requested URL "
                                 "path does not match any defined API "
                                 "route.")

    def add_api(self, r):
        pi, uid = r"/plugin-integrations", r"([^/]+)"
        r.add("POST", pi, self.plugin_create)
        r.add("GET", pi, self.plugin_list)
        r.add("GET", pi + "/" + uid, self.plugin_get)
        r.add("PATCH", pi + "/" + uid, self.plugin_patch)
        r.add("DELETE", pi + "/" + uid, self.plugin_delete)
        r.add("GET", pi + "/%s/connections" % uid, self.conn_list)
        r.add("POST", pi + "/%s/connections/search" % uid, self.conn_search)
        for m, fn in (("GET", self.conn_get), ("PUT", self.conn_put),
                      ("DELETE", self.conn_delete)):
            r.add(m, pi + "/%s/connections/%s" % (uid, uid), fn)
        r.add("POST", r"/webhooks", self.webhook_create)
        r.add("GET", r"/webhooks", self.webhook_list)
        r.add("GET", r"/webhooks/" + uid, self.webhook_get)
        r.add("DELETE", r"/webhooks/" + uid, self.webhook_delete)
        r.add("GET", r"/entities/configurations/" + uid, self.configuration)
        r.add("GET", r"/entities/fields/%s/values" % uid, self.field_values)
        r.add("POST", r"/entities/search", self.entity_search)
        r.add("GET", r"/entities/" + uid, self.entity_get)
        r.add("PATCH", r"/entities/" + uid, self.entity_patch)

    def page(self, req, items):
        """Cursor pagination: page_size items, absolute `links.next`
        keeping the other query parameters, null on the last page."""
        cur = req.q("pageCursor")
        start = 0
        if cur is not None:
            raw = unb64(cur)
            if raw is None or not raw.isdigit():
                raise refuse(400, "request.invalid", "The page cursor is "
                             "invalid.", parameter="pageCursor")
            start = int(raw)
        size = max(1, int(self.config["page_size"]))
        nxt = None
        if start + size < len(items):
            nxt = with_query(self.base_url, req.path, req.pairs,
                             pageCursor=b64(str(start + size)))
        return Reply(200, {"data": items[start:start + size],
                           "links": {"next": nxt}})

    # -- plugin integrations (§4.1, §4.3) --------------------------------
    def plugin_links(self, pid):
        s = "%s/v2/plugin-integrations/%s" % (self.base_url, pid)
        return {"self": s, "connections": s + "/connections"}

    def plugin_view(self, p):
        return {"id": p["id"], "type": "pluginIntegration",
                "createdAt": iso_time(p["createdAt"], 6),
                "fields": {k: p[k] for k in ("type", "name",
                                             "integrationStatus",
                                             "initialState")},
                "links": self.plugin_links(p["id"])}

    def action_of(self, f, pointer):
        a = obj_field(f, "action", pointer)
        url = callback_url(a.get("url"), pointer + "/url",
                           self.cfg("require_https"))
        if a.get("version") != 1 or isinstance(a.get("version"), bool):
            raise invalid("The field 'version' must be 1.",
                          pointer + "/version")
        return {"url": url, "version": 1}, authorization_of(a, pointer)

    def plugin_fields(self, f, partial):
        """Validated create (or PATCH subset) fields."""
        out = {}
        for key in ("type", "name"):
            if key in f or not partial:
                out[key] = text(f, key, 1, 255, DATA_F + key)
        if "initialState" in f or not partial:
            init = obj_field(f, "initialState", DATA_F + "initialState")
            out["initialState"] = {"label": text(
                init, "label", 1, 10, DATA_F + "initialState/label")}
        if "integrationStatus" in f or not partial:
            st = f.get("integrationStatus", "enabled")
            if st not in ("enabled", "disabled"):
                raise invalid("The field 'integrationStatus' must be "
                              "'enabled' or 'disabled'.",
                              DATA_F + "integrationStatus")
            out["integrationStatus"] = st
        if "action" in f or not partial:
            out["action"], out["authorization"] = self.action_of(
                f, DATA_F + "action")
        return out

    def probe(self, url, authorization, pointer):
        """§4.3: GET url + validationToken; passes only on 200, text/plain,
        body == token, within the timeout.  Else 400 callback.probeFailed."""
        token = new_uuid()
        sep = "" if url.endswith(("?", "&")) else "&" if "?" in url else "?"
        target = url + sep + "validationToken=" + token
        headers = {"Accept": "text/plain"}
        if authorization:
            headers["Authorization"] = authorization
        timeout = self.cfg("action_timeout")
        rec = self.call_out("probe", "GET", target, headers, None, timeout)
        ctype = rec["response_headers"].get("content-type", "")
        if rec["error"]:
            why = rec["error"]
        elif rec["status"] != 200:
            why = "Invalid response status code: %s" % rec["status"]
        elif ctype.split(";")[0].strip().lower() != "text/plain":
            why = "Invalid response content type: '%s'" % ctype
        elif rec["response"] != token:
            why = "Invalid response body: the validationToken was not " \
                  "echoed exactly"
        else:
            return
        raise refuse(400, "callback.probeFailed", "Request failure: %s from "
                     "GET %s" % (why, target), pointer)

    def plugin_create(self, req):
        with self.lock:
            f = self.plugin_fields(fields_of(req), partial=False)
        if f["integrationStatus"] == "enabled":
            self.probe(f["action"]["url"], f["authorization"],
                       DATA_F + "action/url")
        pid = new_uuid()
        with self.lock:
            self.plugins[pid] = dict(f, id=pid, createdAt=time.time())
        return Reply(201, {"data": {"id": pid,
                                    "links": self.plugin_links(pid)}})

    def plugin_list(self, req):
        with self.lock:
            return self.page(req, [self.plugin_view(p) for p in
                                   self.plugins.values()])

    def plugin_or_404(self, pid):
        p = self.plugins.get(pid)
        if p is None:
            raise refuse(404, "resource.notFound", "Plugin integration '%s' "
                         "could not be found." % pid)
        return p

    def plugin_get(self, req, pid):
        with self.lock:
            return Reply(200, {"data": self.plugin_view(
                self.plugin_or_404(pid))})

    def plugin_patch(self, req, pid):
        """Omitted fields keep their value; an `action` replaces the
        whole action (its write-only authorization too).  Re-probes when
        the result is enabled and action.url changed."""
        with self.lock:
            old = dict(self.plugin_or_404(pid))
            f = self.plugin_fields(fields_of(req), partial=True)
        new = dict(old, **f)
        if new["integrationStatus"] == "enabled" and \
                new["action"]["url"] != old["action"]["url"]:
            self.probe(new["action"]["url"], new["authorization"],
                       DATA_F + "action/url")
        with self.lock:
            self.plugin_or_404(pid).update(f)
        return Reply(200, {"data": {"id": pid,
                                    "links": self.plugin_links(pid)}})

    def plugin_delete(self, req, pid):
        with self.lock:
            self.plugin_or_404(pid)
            del self.plugins[pid]
            for key in [k for k in self.connections if k[0] == pid]:
                self.put_connection(key, {"state": "initial"})
        return Reply(204)

    # -- connections (§4.2) ----------------------------------------------
    def conn_url(self, pid, eid):
        return "%s/v2/plugin-integrations/%s/connections/%s" % (
            self.base_url, pid, eid)

    def conn_view(self, pid, eid):
        return {"id": eid, "type": "pluginIntegrationConnection",
                "fields": {"connection": dict(self.connections.get(
                    (pid, eid), {"state": "initial"}))},
                "links": {"self": self.conn_url(pid, eid)}}

    def conn_page(self, req, pid, states, ids):
        """Connections of pid, never `initial` ones, filtered."""
        self.plugin_or_404(pid)
        bad = [s for s in states if s not in STATES]
        if bad:
            raise refuse(400, "request.invalid", "Unknown state '%s'."
                         % bad[0], parameter="state[]")
        items = [self.conn_view(p, e) for (p, e), c in
                 self.connections.items() if p == pid and
                 (not states or c["state"] in states) and
                 (not ids or e in ids)]
        return self.page(req, items)

    def conn_list(self, req, pid):
        with self.lock:
            return self.conn_page(req, pid, req.query.get("state[]", []), [])

    def conn_search(self, req, pid):
        b = req.obj()
        flt = (b.get("data") or {}).get("filter") or {}
        if not isinstance(flt, dict):
            raise refuse(400, "request.invalid", "data.filter must be an "
                         "object.", "/data/filter")
        with self.lock:
            return self.conn_page(req, pid, flt.get("state") or [],
                                  flt.get("entityId") or [])

    def conn_get(self, req, pid, eid):
        """No connection is `initial`, not 404 (§4.2).  Entity ids are
        not checked: connections may belong to entity types the double
        does not model."""
        with self.lock:
            self.plugin_or_404(pid)
            return Reply(200, {"data": self.conn_view(pid, eid)})

    def conn_put(self, req, pid, eid):
        f = fields_of(req)
        if "connection" not in f:
            raise invalid("The field 'connection' is required.",
                          DATA_F + "connection")
        conn = connection_state(f["connection"], DATA_F + "connection")
        with self.lock:
            self.plugin_or_404(pid)
            self.put_connection((pid, eid), conn)
        return Reply(200, {"data": {"id": eid, "links": {
            "self": self.conn_url(pid, eid)}}})

    def conn_delete(self, req, pid, eid):
        with self.lock:
            self.plugin_or_404(pid)
            self.put_connection((pid, eid), {"state": "initial"})
        return Reply(204)

    # -- webhooks (§5.1) -------------------------------------------------
    def webhook_view(self, w):
        return {"id": w["id"], "type": "webhook",
                "createdAt": iso_time(w["createdAt"], 6),
                "fields": {"name": w["name"], "events": w["events"],
                           "notification": {"url": w["url"], "version": 1}},
                "links": {"self": "%s/v2/webhooks/%s" % (self.base_url,
                                                          w["id"])}}

    def webhook_events(self, ev):
        p = DATA_F + "events"
        if not isinstance(ev, list) or not ev:
            raise invalid("At least one event is required.", p)
        for i, e in enumerate(ev):
            if not isinstance(e, dict):
                raise refuse(400, "request.invalid", "Each event must be an "
                             "object {\"eventType\": ...}.", "%s/%d" % (p, i))
            if e.get("eventType") not in EVENT_TYPES:
                raise invalid("Unsupported eventType '%s'."
                              % e.get("eventType"), "%s/%d/eventType" % (p, i))
        types = [e["eventType"] for e in ev]
        if len(set(types)) != len(types):
            raise invalid("Events must be unique.", p)
        return [{"eventType": t} for t in types]

    def webhook_create(self, req):
        f = fields_of(req)
        with self.lock:
            name = text(f, "name", 1, 255, DATA_F + "name")
            events = self.webhook_events(f.get("events"))
            n = obj_field(f, "notification", DATA_F + "notification")
            url = callback_url(n.get("url"), DATA_F + "notification/url",
                               self.config["require_https"])
            if n.get("version") != 1 or isinstance(n.get("version"), bool):
                raise invalid("The field 'version' must be 1.",
                              DATA_F + "notification/version")
            auth = authorization_of(n, DATA_F + "notification")
            probe = self.config["probe_webhooks"]
        if probe:
            self.probe(url, auth, DATA_F + "notification/url")
        wid = new_uuid()
        with self.lock:
            self.webhooks[wid] = {"id": wid, "name": name, "events": events,
                                  "url": url, "authorization": auth,
                                  "createdAt": time.time()}
        return Reply(201, {"data": {"id": wid, "type": "webhook", "links": {
            "self": "%s/v2/webhooks/%s" % (self.base_url, wid)}}})

    def webhook_list(self, req):
        with self.lock:
            return self.page(req, [self.webhook_view(w) for w in
                                   self.webhooks.values()])

    def webhook_or_404(self, wid):
        if wid not in self.webhooks:
            raise refuse(404, "resource.notFound", "Webhook subscription "
                         "'%s' could not be found." % wid)
        return self.webhooks[wid]

    def webhook_get(self, req, wid):
        with self.lock:
            return Reply(200, {"data": self.webhook_view(
                self.webhook_or_404(wid))})

    def webhook_delete(self, req, wid):
        with self.lock:
            self.webhook_or_404(wid)
            del self.webhooks[wid]
        return Reply(204)

    # -- entities (§3) ---------------------------------------------------
    def html_url(self, fid):
        return "%s/feature-board/planning/features/%s/detail" % (
            self.base_url, fid)

    def entity_view(self, f, select):
        """§3.1: only non-empty fields unless fields[]=all or a list."""
        fields = {k: f[k] for k in FIELD_OPS}
        if select is None:
            fields = {k: v for k, v in fields.items()
                      if v not in (None, "", [], {})}
        elif "all" not in select:
            fields = {k: v for k, v in fields.items() if k in select}
        v = {"id": f["id"], "type": f["type"], "fields": fields,
             "relationships": {"data": [], "links": {"next": None}},
             "links": {"self": "%s/v2/entities/%s" % (self.base_url,
                                                      f["id"]),
                       "html": self.html_url(f["id"])},
             "createdAt": iso_time(f["createdAt"], 6),
             "updatedAt": iso_time(f["updatedAt"], 6)}
        if f.get("metadata"):
            v["metadata"] = f["metadata"]
        return v

    def feature_or_404(self, fid):
        if fid not in self.features:
            raise refuse(404, "resource.notFound", "Entity with ID '%s' was "
                         "not found. It either does not exist or you do not "
                         "have access to it." % fid)
        return self.features[fid]

    def entity_get(self, req, fid):
        with self.lock:
            return Reply(200, {"data": self.entity_view(
                self.feature_or_404(fid), req.query.get("fields[]"))})

    def entity_search(self, req):
        """POST /v2/entities/search: data.filter's type (one at a time)
        and id lists, data.return.fields as fields[] selects; paged like
        every list, the body sent again with each links.next."""
        b = req.obj()
        d = b.get("data")
        if not isinstance(d, dict):
            raise refuse(400, "request.invalid", "The request is missing "
                         "required parameter 'data'.", "/data")
        flt, ret = d.get("filter") or {}, d.get("return") or {}
        if not isinstance(flt, dict) or not isinstance(ret, dict):
            raise refuse(400, "request.invalid", "data.filter and "
                         "data.return must be objects.", "/data")
        types, ids = flt.get("type") or [], flt.get("id") or []
        select = ret.get("fields")
        if not isinstance(types, list) or len(types) > 1:
            raise refuse(400, "request.invalid", "You can search only "
                         "within one entity type at a time.",
                         "/data/filter/type")
        if not isinstance(ids, list) or not all(isinstance(i, str)
                                                for i in ids):
            raise refuse(400, "request.invalid", "data.filter.id must be "
                         "a list of ids.", "/data/filter/id")
        if select is not None and not isinstance(select, list):
            raise refuse(400, "request.invalid", "data.return.fields must "
                         "be a list.", "/data/return/fields")
        with self.lock:
            items = [self.entity_view(f, select)
                     for f in self.features.values()
                     if (not types or f["type"] in types) and
                     (not ids or f["id"] in ids)]
            return self.page(req, items)

    def entity_patch(self, req, fid):
        """§3.2: data.fields or data.patch, not both; values validated,
        the description against the HTML allow-list."""
        b = req.body
        d = b.get("data") if isinstance(b, dict) else None
        if not isinstance(d, dict):
            raise refuse(400, "request.invalid", "The request is missing "
                         "required parameter 'data'.", "/data")
        with self.lock:
            f = self.feature_or_404(fid)
            if "fields" in d and "patch" in d and \
                    not self.config["allow_fields_and_patch"]:
                raise refuse(400, "request.invalid", "Use either 'fields' "
                             "or 'patch', not both.", "/data")
            ops = self.patch_ops(d)
            new = {k: self.field_value(k, op, v, ptr)
                   for k, (op, v, ptr) in ops.items()}
            src = (d.get("metadata") or {}).get("source")
            if isinstance(src, dict):
                new["metadata"] = {"source": src}
            self.change_feature(f, new)
            return Reply(200, {"data": {"id": fid, "type": f["type"],
                                        "links": {"self": "%s/v2/entities/%s"
                                                  % (self.base_url, fid)}}})

    def patch_ops(self, d):
        """{field: (op, value, pointer)} from data.fields / data.patch."""
        out = {}
        if "fields" in d:
            if not isinstance(d["fields"], dict):
                raise refuse(400, "request.invalid", "data.fields must be "
                             "an object.", "/data/fields")
            for k, v in d["fields"].items():
                out[k] = ("clear" if v is None else "set", v, DATA_F + k)
        if "patch" in d:
            if not isinstance(d["patch"], list) or not d["patch"]:
                raise refuse(400, "request.invalid", "data.patch must be a "
                             "non-empty list of operations.", "/data/patch")
            for i, op in enumerate(d["patch"]):
                ptr = "/data/patch/%d" % i
                if not isinstance(op, dict) or op.get("op") not in (
                        "set", "addItems", "removeItems", "clear") or \
                        not isinstance(op.get("path"), str) or \
                        (op["op"] == "clear") == ("value" in op):
                    raise refuse(400, "request.invalid", "Invalid patch "
                                 "operation.", ptr)
                out[op["path"]] = (op["op"], op.get("value"), ptr)
        if not out:
            raise refuse(400, "request.invalid", "Give 'fields' or 'patch' "
                         "with at least one field.", "/data")
        return out

    def field_value(self, key, op, v, ptr):
        """The stored value of one field operation; 4xx if not allowed."""
        if key not in FIELD_OPS:
            raise invalid("Field '%s' does not exist or cannot be updated."
                          % key, ptr)
        if op not in FIELD_OPS[key]:
            raise invalid("Operation '%s' is not supported for field '%s'."
                          % (op, key), ptr)
        if op == "clear":
            return "" if key == "description" else None
        if key == "name":
            if not isinstance(v, str) or not v.strip():
                raise invalid("The field 'name' cannot be empty.", ptr)
            if len(v) > 255:
                raise invalid("The field 'name' must be at most 255 "
                              "characters long.", ptr)
        elif key == "description":
            if not isinstance(v, str):
                raise invalid("The field 'description' must be a string.",
                              ptr)
            if len(v) > 524288:
                raise refuse(400, "validation.failed", "The description "
                             "must be at most 524288 characters long.", ptr)
            why = html_problem(v, self.config["html_extra_tags"])
            if why:
                raise refuse(400, "validation.failed", "The description is "
                             "not valid rich text: %s." % why, ptr)
        elif key == "status":
            return self.status_of(v, ptr)
        elif key == "archived" and not isinstance(v, bool):
            raise invalid("The field 'archived' must be a boolean.", ptr)
        elif key in ("owner", "timeframe") and not isinstance(v, dict):
            raise invalid("The field '%s' must be an object." % key, ptr)
        return v

    # -- statuses (§3.3) -------------------------------------------------
    def configuration(self, req, etype):
        if etype not in ("feature", "subfeature"):
            raise refuse(404, "resource.notFound", "No configuration for "
                         "entity type '%s'." % etype)
        with self.lock:
            values = [s for s in self.statuses
                      if etype in s["assignedEntityTypes"]]

        def field(fid, schema, **more):
            life = {k: {op: True for op in FIELD_OPS[fid]}
                    for k in ("update", "patch")}
            return dict(id=fid, name=fid.capitalize(), path="/fields/" + fid,
                        schema=schema, lifecycle=life, **more)
        fields = {
            "name": field("name", {"type": "string"}, constraints={
                "required": True, "notBlank": True, "minLength": 1,
                "maxLength": 255}),
            "description": field("description", {"type": "string"},
                                 constraints={"maxLength": 524288}),
            "status": field("status", {"type": "object", "required": [
                "id", "name"]}, values={"data": values}),
            "archived": field("archived", {"type": "boolean"})}
        return Reply(200, {"data": {
            "type": etype, "fields": fields, "relationships": {
                "parent": {"targetType": ["component", "product"],
                           "cardinality": "single", "mandatory": False}},
            "links": {"self": "%s/v2/entities/configurations/%s"
                      % (self.base_url, etype)}}})

    def field_values(self, req, field):
        if field != "status":
            raise refuse(404, "resource.notFound", "Field '%s' has no "
                         "values the double knows." % field)
        types = req.query.get("assignedEntityType[]", [])
        with self.lock:
            return self.page(req, [dict(s) for s in self.statuses if not
                                   types or set(types) &
                                   set(s["assignedEntityTypes"])])


SANDBOX_FEATURES = [
    ("Dark mode", "In Progress",
     "<h1>Dark mode</h1><p>Let users switch the whole app to a <b>dark</b> "
     "theme. Requested by 41 customers, see the "
     "<a href=\"https://example.com/insights/dark\">insights board</a>.</p>"
     "<h2>Scope</h2><ul><li>Follow the OS setting by default</li>"
     "<li>Manual toggle in <i>Settings &gt; Appearance</i></li>"
     "<li>Charts keep their <u>brand colours</u></li></ul>"),
    ("CSV export for reports", "Planned",
     "<p>Export any report as CSV.</p><ol><li>Pick the columns</li>"
     "<li>Choose the delimiter</li><li>Download</li></ol>"
     "<pre><code>date;account;mrr\n2026-01-31;acme;1200</code></pre>"),
    ("Single sign-on with SAML", "New",
     "<p>Enterprise prospects ask for SAML 2.0 SSO.</p><blockquote><p>"
     "We cannot roll out without SSO. &mdash; IT lead, Globex</p>"
     "</blockquote><hr/><p>Out of scope: <s>SCIM provisioning</s> (later)."
     "</p>"),
    ("Faster search", "Done",
     "<p>Search must answer in <b>under 200 ms</b> at the 95th percentile."
     "</p><table><thead><tr><th>Index</th><th>p95 before</th>"
     "<th>p95 after</th></tr></thead><tbody><tr><td>accounts</td>"
     "<td>850 ms</td><td>140 ms</td></tr></tbody></table>"),
    ("Mobile offline mode", "New",
     "<p>Field teams work without coverage.<br/>Queue edits locally and "
     "sync them with <code>If-Match</code> on reconnect.</p>"),
]


if __name__ == "__main__":
    main(Productboard, "Productboard public API v2 test double")
