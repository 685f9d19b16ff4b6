#!/usr/bin/env python3
"""A faithful double of the Productboard public API v2
(shared/reference/productboard-api-v2.md): plugin integrations with their
probe and connections, webhooks with notifications, entities (features)
and statuses, the v2 error envelope, the gateway 401, rate limits, and the
retired v1 paths.  Test control under /_double/ (see double.py), plus:

  POST  /_double/tokens        {"token","revoked"}
  POST  /_double/statuses      [{"id","name"}]
  POST  /_double/features      {"name","description","status"} -> entity
  PATCH /_double/features/ID   a user edit in Productboard (sends webhooks)
  DELETE /_double/features/ID  a deletion (sends feature.deleted)
  POST  /_double/plugin-integrations/ID/trigger
                               {"entityId","trigger","user"}: a click
"""
import html.parser
import re
import time

from double import Double, Reply, main, new_id

STATUSES = [
    {"id": "00000000-0000-4000-8000-000000000001", "name": "New"},
    {"id": "00000000-0000-4000-8000-000000000002", "name": "Planned"},
    {"id": "00000000-0000-4000-8000-000000000003", "name": "In Progress"},
    {"id": "00000000-0000-4000-8000-000000000004", "name": "Done"},
]
ALLOWED_TAGS = {"h1", "h2", "p", "b", "i", "u", "s", "code", "pre",
                "blockquote", "ul", "ol", "li", "a", "hr", "br", "table",
                "thead", "tbody", "tr", "th", "td", "input", "strong", "em"}
VOID = {"hr", "br", "input"}
COLORS = {"gray", "blue", "green", "yellow", "orange", "red", "purple"}
LIMITS = {"label": 20, "hoverLabel": 20, "tooltip": 50, "targetUrl": 1000,
          "message": 255}


def err(status, code, detail, pointer=None):
    e = {"code": code, "title": code.split(".")[-1], "detail": detail}
    if pointer:
        e["source"] = {"pointer": pointer}
    return Reply(status, {"id": "req-%d" % int(time.time() * 1000),
                          "errors": [e]})


class HtmlCheck(html.parser.HTMLParser):
    """Productboard rejects unsupported or unclosed tags in descriptions."""

    def __init__(self):
        super().__init__()
        self.stack, self.bad = [], None

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.bad = self.bad or "unsupported tag <%s>" % tag
        elif tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.bad = self.bad or "unsupported tag <%s>" % tag

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.bad = self.bad or "unbalanced </%s>" % tag
        else:
            self.stack.pop()


def html_error(s):
    p = HtmlCheck()
    p.feed(s)
    p.close()
    return p.bad or ("unclosed <%s>" % p.stack[-1] if p.stack else None)


class Productboard(Double):
    defaults = dict(Double.defaults, rate_limit_per_s=50,
                    probe_webhooks=False)

    def reset_state(self):
        self.tokens = {}
        self.statuses = [dict(s) for s in STATUSES]
        self.features = {}
        self.plugins = {}
        self.connections = {}
        self.webhooks = {}
        self.buckets = {}

    def state(self):
        return {"features": self.features, "plugins": self.plugins,
                "connections": {"%s/%s" % k: v for k, v in
                                self.connections.items()},
                "webhooks": self.webhooks, "tokens": self.tokens,
                "statuses": self.statuses}

    def error_body(self, status):
        codes = {400: "request.invalid", 401: "auth.invalid",
                 404: "resource.notFound", 429: "rate.limitExceeded",
                 500: "internal.serverError", 503: "request.timeout"}
        return err(status, codes.get(status, "internal.serverError"),
                   "injected fault").body

    def fault_reply(self, f):
        r = super().fault_reply(f)
        if f["status"] == 429:
            r.headers.setdefault("Retry-After", "1")
            r.headers.setdefault("X-RateLimit-Limit", "50")
            r.headers.setdefault("X-RateLimit-Remaining", "0")
        return r

    # -- seeding -------------------------------------------------------------
    def seed(self, data):
        for t in data.get("tokens", []):
            self.tokens[t] = {"revoked": False}
        for f in data.get("features", []):
            self.add_feature(f)

    def sandbox(self):
        self.tokens["pb-sandbox-token"] = {"revoked": False}
        for name, desc in (
                ("Dark mode", "<p>Let users switch to a <b>dark</b> theme.</p>"),
                ("CSV export", "<p>Export any board as CSV:</p><ul><li>all "
                 "columns</li><li>UTF-8</li></ul>"),
                ("SSO with SAML", "<h2>Why</h2><p>Enterprise customers ask "
                 "for it (see @alice's notes).</p>"),
                ("Faster search", "<p>Search should answer in <i>under 200 "
                 "ms</i>.</p>"),
                ("Mobile offline mode", "<p>Work without a connection.</p>")):
            self.add_feature({"name": name, "description": desc})
        print("sandbox token: pb-sandbox-token; features: " +
              ", ".join(self.features), flush=True)

    def status_of(self, spec):
        if not isinstance(spec, dict):
            return None
        for s in self.statuses:
            if spec.get("id") == s["id"] or spec.get("name") == s["name"]:
                return {"id": s["id"], "name": s["name"]}
        return None

    def add_feature(self, f):
        fid = f.get("id") or new_id()
        now = self.now()
        self.features[fid] = {
            "id": fid, "type": f.get("type", "feature"),
            "name": f.get("name", "Untitled"),
            "description": f.get("description", ""),
            "status": self.status_of(f.get("status") or {"name": "New"}),
            "createdAt": self.iso(now), "updatedAt": self.iso(now), "_t": now}
        return self.features[fid]

    # -- notifications ---------------------------------------------------------
    def notify(self, fid, event, attrs=None):
        for w in self.webhooks.values():
            if event not in [e["eventType"] for e in w["events"]]:
                continue
            body = {"data": {"id": fid, "eventType": event, "links": {
                "target": "https://api.productboard.com/features/" + fid}}}
            if attrs is not None:
                body["data"]["updatedAttributes"] = attrs
            if self.config.get("deliver", True):
                self.deliver("webhook", w["url"], {
                    "Authorization": w["authorization"],
                    "User-Agent": "Productboard-Webhooks"}, body, retries=3)

    def update_feature(self, fid, fields):
        f = self.features[fid]
        changed = []
        for k in ("name", "description"):
            if k in fields and fields[k] != f[k]:
                f[k] = fields[k]
                changed.append(k)
        if "status" in fields:
            st = self.status_of(fields["status"])
            if st != f["status"]:
                f["status"] = st
                changed.append("status")
        # Strictly later than before, as any new write is.
        f["_t"] = max(self.now(), f["_t"] + 0.001)
        f["updatedAt"] = self.iso(f["_t"])
        if changed:
            self.notify(fid, "feature.updated", changed)
        return changed

    # -- control -----------------------------------------------------------------
    def control(self, req):
        p, m, b = req.path, req.method, req.body
        if p == "/_double/tokens" and m == "POST":
            self.tokens[b["token"]] = {"revoked": bool(b.get("revoked"))}
            return Reply(201, b)
        if p == "/_double/statuses" and m == "POST":
            self.statuses = b
            return Reply(201, b)
        if p == "/_double/features" and m == "POST":
            f = self.add_feature(b)
            return Reply(201, {"data": {k: v for k, v in f.items()
                                        if k != "_t"}})
        mm = re.fullmatch(r"/_double/features/([^/]+)", p)
        if mm and mm.group(1) in self.features:
            fid = mm.group(1)
            if m == "PATCH":
                self.update_feature(fid, b)
                return Reply(200, {"data": self.features[fid]})
            if m == "DELETE":
                del self.features[fid]
                self.notify(fid, "feature.deleted")
                return Reply(204)
        mm = re.fullmatch(r"/_double/plugin-integrations/([^/]+)/trigger", p)
        if mm and m == "POST":
            return self.trigger(mm.group(1), b)
        return Reply(404, {"error": "unknown control route"})

    def trigger(self, pid, b):
        """A click on the column: the action notification, synchronously."""
        plug = self.plugins.get(pid)
        if plug is None:
            return Reply(404, {"error": "no such plugin integration"})
        eid = b["entityId"]
        body = {"data": {
            "integrationId": pid, "trigger": b.get("trigger", "button.push"),
            "feature": {"id": eid, "links": {
                "self": "https://api.productboard.com/features/" + eid,
                "html": "https://space.productboard.com/feature-board/"
                        "planning/features/%s/detail" % eid}},
            "links": {"connection": "%s/v2/plugin-integrations/%s/"
                      "connections/%s" % (self.base_url, pid, eid)}}}
        if b.get("user"):
            body["data"]["triggeredByUser"] = b["user"]
        self.lock.release()     # the callee may call back into us
        try:
            rec = self.call_out("action", "POST", plug["action"]["url"],
                                {"Authorization": plug["authorization"]},
                                body, timeout=5)
        finally:
            self.lock.acquire()
        conn = None
        if rec["status"] == 200:
            try:
                import json
                d = json.loads(rec["response"])["data"]
                conn = (d.get("fields") or {}).get("connection") or \
                    d.get("connection")
            except (ValueError, KeyError, TypeError, AttributeError):
                conn = None
        bad = self.connection_error(conn) if conn is not None else "no reply"
        if bad:
            conn = {"state": "error", "message": "Integration failed",
                    "debugDetail": "%s / %s / %s" % (
                        rec["status"], rec["error"], bad)}
        self.set_connection(pid, eid, conn)
        return Reply(200, {"status": rec["status"], "elapsed": rec["elapsed"],
                           "body": rec["response"], "error": rec["error"],
                           "connection": conn})

    # -- API ---------------------------------------------------------------------
    def rate_limited(self, token):
        limit = float(self.config.get("rate_limit_per_s") or 0)
        if limit <= 0:
            return None
        now = time.monotonic()
        level, last = self.buckets.get(token, (limit, now))
        level = min(limit, level + (now - last) * limit)
        if level < 1:
            self.buckets[token] = (level, now)
            return Reply(429, err(429, "rate.limitExceeded",
                                  "Rate limit exceeded").body,
                         {"Retry-After": "1", "X-RateLimit-Limit": "50",
                          "X-RateLimit-Remaining": "0"})
        self.buckets[token] = (level - 1, now)
        return None

    def api(self, req):
        with self.lock:
            if not req.path.startswith("/v2/"):
                if re.match(r"/(features|plugin-integrations|webhooks|"
                            r"feature-statuses)", req.path):
                    return err(410, "api.retired", "API v1 has been retired "
                               "for this workspace: migrate to v2")
                return err(404, "route.notFound", "no such route")
            auth = req.headers.get("authorization", "")
            tok = auth[7:] if auth.startswith("Bearer ") else None
            if tok not in self.tokens or self.tokens[tok]["revoked"]:
                return Reply(401, {"message": "Unauthorized"})
            limited = self.rate_limited(tok)
            if limited:
                return limited
            if isinstance(req.body, Exception):
                return err(400, "request.malformed", "malformed JSON")
            r = self.route(req)
            r.headers.setdefault("X-RateLimit-Limit", "50")
            return r

    def route(self, req):
        p, m = req.path[3:], req.method
        for pat, fn in (
                (r"/plugin-integrations", self.plugins_root),
                (r"/plugin-integrations/([^/]+)", self.plugin_one),
                (r"/plugin-integrations/([^/]+)/connections", self.conn_list),
                (r"/plugin-integrations/([^/]+)/connections/([^/]+)",
                 self.conn_one),
                (r"/webhooks", self.webhooks_root),
                (r"/webhooks/([^/]+)", self.webhook_one),
                (r"/entities/configurations/feature", self.configuration),
                (r"/entities/fields/status/values", self.status_values),
                (r"/entities/([^/]+)", self.entity)):
            mm = re.fullmatch(pat, p)
            if mm:
                return fn(req, *mm.groups())
        return err(404, "route.notFound", "no such route")

    def check_url(self, url, pointer):
        if not isinstance(url, str) or not 1 <= len(url) <= 1024:
            return err(400, "validation.failed", "url required", pointer)
        if self.config.get("require_https") and (
                not url.startswith("https://") or
                re.match(r"https?://(localhost|127\.|10\.|192\.168\.)", url)):
            return err(400, "callback.invalidUrl",
                       "url must be a public https URL", pointer)
        return None

    def probe(self, url, authorization):
        token = new_id()
        sep = "&" if "?" in url else "?"
        self.lock.release()
        try:
            rec = self.call_out("probe", "GET", url + sep + "validationToken="
                                + token, {"Authorization": authorization,
                                          "Accept": "text/plain"}, timeout=5)
        finally:
            self.lock.acquire()
        return (rec["status"] == 200 and rec["response"] == token and
                rec["response_headers"].get("content-type", "")
                .startswith("text/plain"))

    def plugins_root(self, req):
        if req.method == "GET":
            return Reply(200, {"data": [self.plugin_view(p) for p in
                                        self.plugins.values()],
                               "links": {"next": None}})
        if req.method != "POST":
            return err(405, "request.invalid", "method")
        f = ((req.body or {}).get("data") or {}).get("fields") or {}
        for k in ("type", "name"):
            if not isinstance(f.get(k), str) or not 1 <= len(f[k]) <= 255:
                return err(422, "validation.failed", k + " required",
                           "/data/fields/" + k)
        label = (f.get("initialState") or {}).get("label")
        if not isinstance(label, str) or not 1 <= len(label) <= 10:
            return err(422, "validation.failed", "label 1-10",
                       "/data/fields/initialState/label")
        act = f.get("action") or {}
        bad = self.check_url(act.get("url"), "/data/fields/action/url")
        if bad:
            return bad
        if act.get("version") != 1:
            return err(422, "validation.failed", "version must be 1",
                       "/data/fields/action/version")
        status = f.get("integrationStatus", "enabled")
        if status not in ("enabled", "disabled"):
            return err(422, "validation.failed", "integrationStatus",
                       "/data/fields/integrationStatus")
        authz = (act.get("headers") or {}).get("authorization", "")
        if status == "enabled" and not self.probe(act["url"], authz):
            return err(400, "callback.probeFailed",
                       "the action URL did not answer the probe")
        pid = new_id()
        self.plugins[pid] = {"id": pid, "type": f["type"], "name": f["name"],
                             "integrationStatus": status,
                             "initialState": {"label": label},
                             "action": {"url": act["url"], "version": 1},
                             "authorization": authz,
                             "createdAt": self.iso()}
        return Reply(201, {"data": {"id": pid, "links": self.plugin_links(pid)}})

    def plugin_links(self, pid):
        s = "%s/v2/plugin-integrations/%s" % (self.base_url, pid)
        return {"self": s, "connections": s + "/connections"}

    def plugin_view(self, p):
        return {"id": p["id"], "type": "pluginIntegration",
                "createdAt": p["createdAt"],
                "fields": {k: p[k] for k in ("type", "name",
                                             "integrationStatus",
                                             "initialState")},
                "links": self.plugin_links(p["id"])}

    def plugin_one(self, req, pid):
        p = self.plugins.get(pid)
        if p is None:
            return err(404, "resource.notFound", "no such plugin integration")
        if req.method == "GET":
            return Reply(200, {"data": self.plugin_view(p)})
        if req.method == "DELETE":
            del self.plugins[pid]
            for k in [k for k in self.connections if k[0] == pid]:
                del self.connections[k]
            return Reply(204)
        if req.method == "PATCH":
            f = ((req.body or {}).get("data") or {}).get("fields") or {}
            if "initialState" in f:
                label = (f["initialState"] or {}).get("label")
                if not isinstance(label, str) or not 1 <= len(label) <= 10:
                    return err(422, "validation.failed", "label 1-10",
                               "/data/fields/initialState/label")
                p["initialState"] = {"label": label}
            for k in ("name", "integrationStatus"):
                if k in f:
                    p[k] = f[k]
            act = f.get("action")
            if act and act.get("url") != p["action"]["url"]:
                if p["integrationStatus"] == "enabled" and not self.probe(
                        act["url"], (act.get("headers") or {}).get(
                            "authorization", p["authorization"])):
                    return err(400, "callback.probeFailed", "probe failed")
                p["action"]["url"] = act["url"]
            return Reply(200, {"data": {"id": pid,
                                        "links": self.plugin_links(pid)}})
        return err(405, "request.invalid", "method")

    def connection_error(self, c):
        if not isinstance(c, dict):
            return "connection must be an object"
        st = c.get("state")
        if st not in ("connected", "error", "progress", "initial"):
            return "state"
        if st == "connected":
            for k in ("label", "hoverLabel", "tooltip", "color", "targetUrl"):
                if k not in c:
                    return k + " required"
            if c["color"] not in COLORS:
                return "color"
        if st == "error" and "message" not in c:
            return "message required"
        for k, n in LIMITS.items():
            if k in c and (not isinstance(c[k], str) or not 1 <= len(c[k]) <= n):
                return "%s must be 1-%d characters" % (k, n)
        return None

    def set_connection(self, pid, eid, conn):
        if conn.get("state") == "initial":
            self.connections.pop((pid, eid), None)
        else:
            self.connections[(pid, eid)] = dict(conn, updatedAt=self.iso())

    def conn_view(self, pid, eid):
        c = self.connections.get((pid, eid), {"state": "initial"})
        c = {k: v for k, v in c.items() if k != "updatedAt"}
        return {"id": eid, "type": "pluginIntegrationConnection",
                "fields": {"connection": c},
                "links": {"self": "%s/v2/plugin-integrations/%s/connections/%s"
                          % (self.base_url, pid, eid)}}

    def conn_list(self, req, pid):
        if pid not in self.plugins:
            return err(404, "resource.notFound", "no such plugin integration")
        return Reply(200, {"data": [self.conn_view(p, e) for (p, e) in
                                    self.connections if p == pid],
                           "links": {"next": None}})

    def conn_one(self, req, pid, eid):
        if pid not in self.plugins:
            return err(404, "resource.notFound", "no such plugin integration")
        if req.method == "GET":
            return Reply(200, {"data": self.conn_view(pid, eid)})
        if req.method == "DELETE":
            self.connections.pop((pid, eid), None)
            return Reply(204)
        if req.method == "PUT":
            c = (((req.body or {}).get("data") or {}).get("fields") or
                 {}).get("connection")
            bad = self.connection_error(c)
            if bad:
                return err(422, "validation.failed", bad,
                           "/data/fields/connection")
            self.set_connection(pid, eid, c)
            return Reply(200, {"data": {"id": eid, "links": self.conn_view(
                pid, eid)["links"]}})
        return err(405, "request.invalid", "method")

    def webhooks_root(self, req):
        if req.method == "GET":
            return Reply(200, {"data": [self.webhook_view(w) for w in
                                        self.webhooks.values()],
                               "links": {"next": None}})
        f = ((req.body or {}).get("data") or {}).get("fields") or {}
        if not isinstance(f.get("name"), str) or not 1 <= len(f["name"]) <= 255:
            return err(422, "validation.failed", "name", "/data/fields/name")
        ev = f.get("events")
        if not isinstance(ev, list) or not ev or not all(
                isinstance(e, dict) and "eventType" in e for e in ev):
            return err(400, "request.invalid", "events must be objects "
                       "{eventType}", "/data/fields/events")
        if len({e["eventType"] for e in ev}) != len(ev):
            return err(422, "validation.failed", "events must be unique")
        n = f.get("notification") or {}
        bad = self.check_url(n.get("url"), "/data/fields/notification/url")
        if bad:
            return bad
        if n.get("version") != 1:
            return err(422, "validation.failed", "version must be 1")
        authz = (n.get("headers") or {}).get("authorization", "")
        if self.config.get("probe_webhooks") and not self.probe(n["url"], authz):
            return err(400, "callback.probeFailed", "probe failed")
        wid = new_id()
        self.webhooks[wid] = {"id": wid, "name": f["name"], "events": ev,
                              "url": n["url"], "authorization": authz,
                              "createdAt": self.iso()}
        return Reply(201, {"data": {"id": wid, "type": "webhook", "links": {
            "self": "%s/v2/webhooks/%s" % (self.base_url, wid)}}})

    def webhook_view(self, w):
        return {"id": w["id"], "type": "webhook", "createdAt": w["createdAt"],
                "fields": {"name": w["name"], "events": w["events"],
                           "notification": {"url": w["url"], "version": 1}},
                "links": {"self": "%s/v2/webhooks/%s" % (self.base_url,
                                                          w["id"])}}

    def webhook_one(self, req, wid):
        w = self.webhooks.get(wid)
        if w is None:
            return err(404, "resource.notFound", "no such webhook")
        if req.method == "DELETE":
            del self.webhooks[wid]
            return Reply(204)
        return Reply(200, {"data": self.webhook_view(w)})

    def configuration(self, req):
        return Reply(200, {"data": {"type": "feature", "fields": {"status": {
            "values": {"data": [dict(s, assignedEntityTypes=["feature"])
                                for s in self.statuses],
                       "links": {"next": None}}}}}})

    def status_values(self, req):
        page = int((req.query.get("pageCursor") or ["0"])[0])
        items = self.statuses[page * 2:page * 2 + 2]
        nxt = None
        if page * 2 + 2 < len(self.statuses):
            nxt = "%s/v2/entities/fields/status/values?pageCursor=%d" % (
                self.base_url, page + 1)
        return Reply(200, {"data": [dict(s, assignedEntityTypes=["feature"])
                                    for s in items], "links": {"next": nxt}})

    def entity_view(self, f):
        fields = {k: f[k] for k in ("name", "description", "status")
                  if f.get(k)}
        return {"id": f["id"], "type": f["type"], "fields": fields,
                "relationships": {"data": [], "links": {"next": None}},
                "links": {"self": "%s/v2/entities/%s" % (self.base_url,
                                                         f["id"]),
                          "html": "https://space.productboard.com/"
                                  "feature-board/features/%s" % f["id"]},
                "createdAt": f["createdAt"], "updatedAt": f["updatedAt"]}

    def entity(self, req, fid):
        f = self.features.get(fid)
        if f is None:
            return err(404, "resource.notFound", "entity %s not found" % fid)
        if req.method == "GET":
            return Reply(200, {"data": self.entity_view(f)})
        if req.method != "PATCH":
            return err(405, "request.invalid", "method")
        d = (req.body or {}).get("data") or {}
        if "fields" in d and "patch" in d:
            return err(400, "request.invalid", "use fields or patch, not both")
        fields = dict(d.get("fields") or {})
        for op in d.get("patch") or []:
            if op.get("op") == "set":
                fields[op.get("path")] = op.get("value")
            elif op.get("op") == "clear":
                fields[op.get("path")] = "" if op.get("path") != "status" \
                    else None
        if "status" in fields and self.status_of(fields["status"]) is None:
            return err(422, "validation.referenceNotFound", "unknown status",
                       "/data/fields/status")
        if "name" in fields and (not isinstance(fields["name"], str) or
                                 not fields["name"]):
            return err(422, "validation.failed", "The field 'name' cannot "
                       "be empty.", "/data/fields/name")
        if "description" in fields:
            bad = html_error(fields["description"] or "")
            if bad or len(fields["description"] or "") > 524288:
                return err(400, "validation.failed", "description: %s" % bad,
                           "/data/fields/description")
        self.update_feature(fid, fields)
        return Reply(200, {"data": {"id": fid, "type": f["type"], "links": {
            "self": "%s/v2/entities/%s" % (self.base_url, fid)}}})


if __name__ == "__main__":
    main(Productboard(), "Productboard API v2 test double")
