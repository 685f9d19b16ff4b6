"""Shared plumbing of pbsync's API test doubles (Python 3 stdlib only).

A double is a threaded HTTP server that plays one upstream service.  What
both doubles share lives here, so each service file holds only the
service's own contract:

- Request / Reply: a parsed request and an answer that is encoded the
  moment it is built (handlers build it under the lock, so a reply never
  shows half-changed state);
- Router: method + regex dispatch;
- the request log, fault injection, settings and the control API under
  /_double/ (no auth; see README.md);
- the outbox: ordered background delivery of callbacks (webhooks) with
  time-scaled retries, duplicates, reordering and an idle wait, and
  call_out() for synchronous callbacks (probes, clicks); both recorded.

One RLock guards all state of a double.  No outbound HTTP is made while
holding it: the system under test usually calls back into the double
while answering a callback.
"""
import argparse
import base64
import copy
import email.utils
import ipaddress
import json
import re
import socket
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


# -- small helpers -------------------------------------------------------

def new_uuid():
    return str(uuid.uuid4())


def iso_time(t, digits=3):
    """UTC ISO 8601 with `digits` fractional digits and a Z, as both
    services print timestamps (GitLab: 3 digits, Productboard: 6)."""
    dt = datetime.fromtimestamp(t, timezone.utc)
    frac = "." + ("%06d" % dt.microsecond)[:digits] if digits else ""
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


def parse_time(s):
    """ISO 8601 (Z, offset, or naive = UTC) to a unix time; None if bad."""
    try:
        dt = datetime.fromisoformat(s.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def http_date(t):
    return email.utils.formatdate(t, usegmt=True)


def is_local_host(host):
    """True for names and addresses a public SaaS refuses to call:
    localhost, loopback, private, link-local and internal-looking names.
    No DNS lookup: the doubles must work offline."""
    host = (host or "").strip("[]").lower()
    if host in ("", "localhost") or host.endswith((".localhost", ".local",
                                                   ".internal", ".lan")):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return "." not in host          # a bare intranet name
    return (ip.is_loopback or ip.is_private or ip.is_link_local or
            ip.is_unspecified or ip.is_reserved)


def url_problem(url, require_https):
    """Why a callback URL is refused, or None.  Without require_https
    plain http and loopback pass, so tests can use http://127.0.0.1."""
    try:
        u = urllib.parse.urlsplit(url)
        u.port                              # raises on a bad port
    except (ValueError, AttributeError, TypeError):
        return "is not a valid URL"
    if u.scheme not in ("http", "https") or not u.hostname:
        return "must be an absolute http(s) URL"
    if require_https and u.scheme != "https":
        return "must use https"
    if require_https and is_local_host(u.hostname):
        return "must point to a public host"
    return None


def with_query(base, path, pairs, **changes):
    """An absolute URL: base + path + pairs (a list of (k, v)) with the
    keys in `changes` replaced (value None drops the key).  Used for
    `links.next` cursors and GitLab's Link header."""
    pairs = [(k, v) for k, v in pairs if k not in changes]
    pairs += [(k, str(v)) for k, v in changes.items() if v is not None]
    q = urllib.parse.urlencode(pairs, safe="[]")
    return base + path + ("?" + q if q else "")


def b64(s):
    return base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")


def unb64(s):
    try:
        return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


# -- request and reply ---------------------------------------------------

class Reply:
    """An HTTP answer.  The body is encoded at once: dict/list -> JSON,
    str -> text/plain, bytes as given, None -> empty."""

    def __init__(self, status, body=None, headers=None, ctype=None):
        self.status = status
        self.headers = dict(headers or {})
        self.bare = False       # True: add no rate-limit headers to it
        if isinstance(body, (dict, list)):
            self.data = json.dumps(body).encode()
            ctype = ctype or "application/json"
        elif isinstance(body, str):
            self.data = body.encode()
            ctype = ctype or "text/plain; charset=utf-8"
        else:
            self.data = body or b""
        if ctype:
            self.set_default("Content-Type", ctype)

    def set_header(self, name, value):
        self.headers = {k: v for k, v in self.headers.items()
                        if k.lower() != name.lower()}
        self.headers[name] = value

    def set_default(self, name, value):
        if name.lower() not in (k.lower() for k in self.headers):
            self.headers[name] = value


class Request:
    """A parsed request.  `path` is the raw path as sent (percent
    escapes kept: GitLab matches `grp%2Fproj` on it), without the query.
    `body` is the parsed JSON, a dict for form bodies, text otherwise;
    `malformed` says the JSON did not parse."""

    def __init__(self, method, target, headers, raw):
        self.method = method
        self.path, _, self.query_string = target.partition("?")
        self.pairs = urllib.parse.parse_qsl(self.query_string,
                                            keep_blank_values=True)
        self.query = {}
        for k, v in self.pairs:
            self.query.setdefault(k, []).append(v)
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.raw = raw
        self.ctype = self.headers.get("content-type", "").split(";")[0]
        self.ctype = self.ctype.strip().lower()
        self.malformed = False
        self.body = None
        text = raw.decode("utf-8", "replace") if raw else ""
        if not raw:
            return
        if self.ctype.endswith("json"):
            try:
                self.body = json.loads(text)
            except ValueError:
                self.malformed = True
                self.body = text
        elif self.ctype == "application/x-www-form-urlencoded":
            self.body = form_dict(urllib.parse.parse_qsl(
                text, keep_blank_values=True))
        else:
            self.body = text

    def obj(self):
        """A copy of the body if it is an object, else {}."""
        return dict(self.body) if isinstance(self.body, dict) else {}

    def q(self, name, default=None):
        """The last value of a query parameter."""
        return self.query.get(name, [default])[-1]

    def log_body(self):
        if isinstance(self.body, dict) and not self.ctype.endswith("json"):
            return self.raw.decode("utf-8", "replace")   # form: as sent
        return self.body


def form_dict(pairs):
    """Form/query pairs to a dict; `k[]` keys collect into lists."""
    out = {}
    for k, v in pairs:
        if k.endswith("[]"):
            out.setdefault(k[:-2], []).append(v)
        else:
            out[k] = v
    return out


class Router:
    """(method, regex) -> handler; regexes must match the whole path."""

    def __init__(self):
        self.routes = []

    def add(self, method, pattern, fn):
        self.routes.append((method, re.compile(pattern), fn))

    def match(self, method, path):
        """(handler, groups), or (None, True) when only the method is
        wrong, or (None, False) when nothing matches."""
        other = False
        for m, rx, fn in self.routes:
            g = rx.fullmatch(path)
            if g and m == method:
                return fn, g.groups()
            other = other or bool(g)
        return None, other


class Refused(Exception):
    """Raised by validators and handlers; carries the Reply to send
    (and, for callers that want it, a plain-text reason)."""

    def __init__(self, reply, detail=""):
        super().__init__(detail or reply.status)
        self.reply = reply
        self.detail = detail


# -- the base of both doubles --------------------------------------------

class Double:
    """Subclasses set `name`, extend `defaults`, and implement
    reset_state(), state(), seed(), sandbox(), add_api(), add_control(),
    api() and fault_reply()."""

    name = "double"
    user_agent = "double"
    defaults = {
        "deliver": True,             # outbound webhooks on/off (dropped)
        "delivery_delay": 0,         # seconds before each webhook goes
        "duplicate_deliveries": 0,   # extra copies of each webhook
        "reorder_deliveries": False,  # swap each consecutive pair
        "require_https": False,      # refuse http/loopback callback URLs
    }

    def __init__(self, base_url="http://127.0.0.1"):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.base_url = base_url
        self.gen = 0
        self.seq = 0
        self.in_flight = 0
        self.control = Router()
        self.add_base_control(self.control)
        self.add_control(self.control)
        self.routes = Router()
        self.add_api(self.routes)
        self.reset()
        threading.Thread(target=self._worker, daemon=True,
                         name=self.name + "-outbox").start()

    # -- state -----------------------------------------------------------
    def reset(self):
        with self.cond:
            self.gen += 1
            self.requests, self.deliveries, self.faults = [], [], []
            self.outbox, self.held = [], []
            self.config = copy.deepcopy(self.defaults)
            self.reset_state()
            self.cond.notify_all()

    def next_seq(self):
        """One counter for requests and deliveries, so tests can order
        what came in against what went out."""
        with self.lock:
            self.seq += 1
            return self.seq

    def cfg(self, key):
        with self.lock:
            return self.config[key]

    # -- serving ---------------------------------------------------------
    def handle(self, method, target, headers, raw):
        """Entry point of the HTTP handler; None = drop the connection."""
        req = Request(method, target, headers, raw)
        if req.path == "/_double" or req.path.startswith("/_double/"):
            return self.serve_control(req)
        entry = {"seq": self.next_seq(), "ts": time.time(), "method": method,
                 "path": req.path, "query": req.query_string,
                 "headers": req.headers, "body": req.log_body(),
                 "status": None}
        with self.lock:
            gen = self.gen
            self.requests.append(entry)
        fault = self.take_fault(method + " " + req.path)
        if fault and fault.get("delay"):
            time.sleep(float(fault["delay"]))
        if fault and fault.get("drop"):
            reply = None
        elif fault and fault.get("status"):
            reply = self.injected(fault, req)
        else:
            reply = self.safe(self.api, req)
        if fault and fault.get("then"):
            self.then(fault)
        with self.lock:
            if gen == self.gen:
                entry["status"] = reply.status if reply else None
        return reply

    def then(self, fault):
        """Makes the control call of a fault's "then" once the matched
        request is served (its reply is already encoded, so it does not
        show the call's effect): a person acting between the system's
        read and the write that follows it.  The control call's status is
        appended to the fault's "then_done"."""
        call = fault["then"]
        body = call.get("body")
        raw = json.dumps(body).encode() if body is not None else b""
        req = Request(call["method"], call["path"],
                      {"Content-Type": "application/json"}, raw)
        reply = self.serve_control(req)
        with self.lock:
            fault["then_done"].append(reply.status)

    def safe(self, fn, *args):
        """Runs a handler; a bug in the double answers 500 loudly
        instead of hanging the system under test."""
        try:
            return fn(*args)
        except Refused as e:
            return e.reply
        except Exception:
            traceback.print_exc()
            return Reply(500, {"double_error": traceback.format_exc()})

    def dispatch(self, router, req, path, *extra):
        """Calls the matching route: (reply, False), or (None,
        method_only) when no route matches."""
        fn, groups = router.match(req.method, path)
        if fn is None:
            return None, groups
        try:
            return fn(req, *groups, *extra), False
        except Refused as e:
            return e.reply, False

    # -- faults ----------------------------------------------------------
    def take_fault(self, what):
        with self.lock:
            for f in self.faults:
                if f["count"] != 0 and f["rx"].search(what):
                    if f["count"] > 0:
                        f["count"] -= 1
                    f["hits"] += 1
                    return dict(f)
        return None

    def injected(self, fault, req):
        """The answer of a fault: the service's own error shape for the
        status (fault_reply), then the fault's body and headers."""
        status = int(fault["status"])
        reply = self.fault_reply(status, req)
        if "body" in fault:
            default = reply
            reply = Reply(status, fault["body"])
            for k, v in default.headers.items():
                reply.set_default(k, v)
        for k, v in (fault.get("headers") or {}).items():
            reply.set_header(k, str(v))
        return reply

    # -- outbound --------------------------------------------------------
    def enqueue(self, kind, url, body, headers, timeout, retries=(),
                on_result=None, fresh=(), meta=None):
        """Queues an asynchronous POST (a webhook; `body` as for call_out),
        applying the knobs deliver, delivery_delay, duplicate_deliveries and
        reorder_deliveries.  `retries` are the waits before each retry
        on failure; `fresh` names headers that get a new UUID per send;
        on_result(item, record) runs under the lock after each send."""
        with self.cond:
            if not self.config["deliver"]:
                return
            item = {"kind": kind, "url": url, "body": body,
                    "headers": dict(headers), "timeout": timeout,
                    "retries": list(retries), "attempt": 1,
                    "on_result": on_result, "fresh": tuple(fresh),
                    "meta": dict(meta or {}), "gen": self.gen,
                    "due": time.monotonic() +
                    float(self.config["delivery_delay"] or 0)}
            for _ in range(1 + int(self.config["duplicate_deliveries"])):
                copy_ = dict(item, headers=dict(item["headers"]))
                if self.config["reorder_deliveries"]:
                    self.held.append(copy_)
                    if len(self.held) >= 2:
                        self.release_held()
                else:
                    self.schedule(copy_)

    def release_held(self):
        """Sends what reorder_deliveries held back, newest first."""
        with self.cond:
            held, self.held = self.held, []
            for it in reversed(held):
                it["due"] = time.monotonic()
                self.schedule(it)

    def schedule(self, item):
        with self.cond:
            self.outbox.append(item)
            self.cond.notify_all()

    def _next_item(self):
        """The oldest due item; waits for one (called with the lock)."""
        while True:
            now = time.monotonic()
            for it in self.outbox:
                if it["due"] <= now:
                    self.outbox.remove(it)
                    return it
            wake = min((it["due"] for it in self.outbox), default=None)
            self.cond.wait(None if wake is None else max(0.0, wake - now))

    def _worker(self):
        while True:
            with self.cond:
                item = self._next_item()
                self.in_flight += 1
            try:
                self._send(item)
            except Exception:
                traceback.print_exc()
            finally:
                with self.cond:
                    self.in_flight -= 1
                    self.cond.notify_all()

    def _send(self, item):
        headers = dict(item["headers"])
        for h in item["fresh"]:
            headers[h] = new_uuid()
        rec = self.call_out(item["kind"], "POST", item["url"], headers,
                            item["body"], item["timeout"], gen=item["gen"],
                            attempt=item["attempt"], meta=item["meta"])
        with self.cond:
            if item["gen"] != self.gen:
                return
            if item["on_result"]:
                item["on_result"](item, rec)
            n = item["attempt"]
            if not ok_status(rec["status"]) and n <= len(item["retries"]):
                self.schedule(dict(item, attempt=n + 1, due=time.monotonic()
                                   + float(item["retries"][n - 1])))

    def call_out(self, kind, method, url, headers, body=None, timeout=10,
                 gen=None, attempt=1, meta=None):
        """One outbound HTTP call, now, without the lock; recorded in the
        delivery log.  `body` is JSON-encoded, bytes are sent as they are.
        Redirects are not followed, proxies not used, `user:pass@` in the
        URL becomes Basic auth.  Returns the record
        (plus `response_headers`, lower-case)."""
        url, headers = split_userinfo(url, dict(headers))
        headers.setdefault("User-Agent", self.user_agent)
        data = None
        if isinstance(body, bytes):
            # Sent as is (the caller signed these very bytes and set the
            # Content-Type); logged parsed when it is JSON.
            data, body = body, parse_logged(body)
        elif body is not None:
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        rec = {"seq": self.next_seq(), "ts": time.time(), "kind": kind,
               "url": url, "method": method,
               "headers": {k.lower(): v for k, v in headers.items()},
               "body": body, "status": None, "response": None,
               "error": None, "elapsed": None, "attempt": attempt,
               "response_headers": {}}
        rec.update(meta or {})
        with self.cond:
            gen = self.gen if gen is None else gen
            self.in_flight += 1
        t0 = time.monotonic()
        try:
            req = urllib.request.Request(url, data=data, method=method,
                                         headers=headers)
            with OPENER.open(req, timeout=timeout) as r:
                rec["status"], rec["response"] = r.status, read_text(r)
                rec["response_headers"] = lower_headers(r.headers)
        except urllib.error.HTTPError as e:
            rec["status"], rec["response"] = e.code, read_text(e)
            rec["response_headers"] = lower_headers(e.headers)
        except Exception as e:      # refused, reset, timeout, bad URL
            rec["error"] = describe_error(e, timeout)
        rec["elapsed"] = round(time.monotonic() - t0, 4)
        with self.cond:
            self.in_flight -= 1
            if gen == self.gen:
                self.deliveries.append(rec)
            self.cond.notify_all()
        return rec

    def idle(self):
        with self.lock:
            return not self.outbox and not self.held and self.in_flight == 0

    def wait_idle(self, timeout):
        """Blocks until nothing is queued, held or in flight.  Held
        (reordered) items are released first, or this would never end."""
        end = time.monotonic() + timeout
        with self.cond:
            if self.held:
                self.release_held()
            while not self.idle():
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.25))
        return True

    # -- control API -----------------------------------------------------
    def add_base_control(self, r):
        r.add("POST", r"/_double/reset", self.c_reset)
        r.add("GET", r"/_double/requests", self.c_requests)
        r.add("DELETE", r"/_double/requests", self.c_clear("requests"))
        r.add("GET", r"/_double/faults", self.c_faults)
        r.add("POST", r"/_double/faults", self.c_add_fault)
        r.add("DELETE", r"/_double/faults", self.c_clear("faults"))
        r.add("GET", r"/_double/config", self.c_config)
        r.add("POST", r"/_double/config", self.c_config)
        r.add("GET", r"/_double/deliveries", self.c_deliveries)
        r.add("DELETE", r"/_double/deliveries", self.c_clear("deliveries"))
        r.add("GET", r"/_double/state", self.c_state)
        r.add("POST", r"/_double/wait", self.c_wait)
        r.add("POST", r"/_double/seed", self.c_seed)

    def serve_control(self, req):
        if req.malformed:
            return Reply(400, {"error": "body is not valid JSON"})
        return self.safe(self._control_reply, req)

    def _control_reply(self, req):
        reply, method_only = self.dispatch(self.control, req, req.path)
        if reply is None:
            return Reply(405 if method_only else 404,
                         {"error": "unknown control route %s %s"
                          % (req.method, req.path)})
        return reply

    def c_reset(self, req):
        self.reset()
        return Reply(200, {"reset": True})

    def c_clear(self, what):
        def clear(req):
            with self.lock:
                setattr(self, what, [])
            return Reply(204)
        return clear

    def c_requests(self, req):
        pat = req.q("path")
        try:
            rx = re.compile(pat) if pat else None
        except re.error as e:
            return Reply(400, {"error": "bad path regex: %s" % e})
        with self.lock:
            return Reply(200, [r for r in self.requests
                               if rx is None or rx.search(r["path"])])

    def c_faults(self, req):
        with self.lock:
            return Reply(200, [{k: v for k, v in f.items() if k != "rx"}
                               for f in self.faults])

    def c_add_fault(self, req):
        f = req.body
        if not isinstance(f, dict) or not isinstance(f.get("match"), str):
            return Reply(400, {"error": "need {\"match\": REGEX, ...}"})
        try:
            f = dict(f, rx=re.compile(f["match"]), hits=0,
                     count=int(f.get("count", 1)), then_done=[])
        except (re.error, ValueError, TypeError) as e:
            return Reply(400, {"error": "bad fault: %s" % e})
        then = f.get("then")
        if then is not None and not (
                isinstance(then, dict) and
                isinstance(then.get("method"), str) and
                isinstance(then.get("path"), str) and
                then["path"].startswith("/_double/")):
            return Reply(400, {"error": "then must be {\"method\", "
                               "\"path\": \"/_double/...\", \"body\"?}"})
        with self.lock:
            self.faults.append(f)
            return Reply(201, {k: v for k, v in f.items() if k != "rx"})

    def c_config(self, req):
        changes = req.body if req.method == "POST" else {}
        if not isinstance(changes, dict):
            return Reply(400, {"error": "config must be an object"})
        with self.cond:
            unknown = sorted(set(changes) - set(self.defaults))
            if unknown:
                return Reply(400, {"error": "unknown settings %s" % unknown,
                                   "known": sorted(self.defaults)})
            self.config.update(changes)
            if self.held and not self.config["reorder_deliveries"]:
                self.release_held()
            return Reply(200, self.config)

    def c_deliveries(self, req):
        with self.lock:
            return Reply(200, self.deliveries)

    def c_state(self, req):
        with self.lock:
            return Reply(200, self.state())

    def c_wait(self, req):
        b = req.body if isinstance(req.body, dict) else {}
        idle = self.wait_idle(float(b.get("timeout", 5)))
        return Reply(200, {"idle": idle})

    def c_seed(self, req):
        if not isinstance(req.body, dict):
            return Reply(400, {"error": "seed must be an object"})
        with self.lock:
            self.seed(req.body)
            return Reply(200, self.state())

    # -- subclass interface ----------------------------------------------
    def reset_state(self):
        raise NotImplementedError

    def state(self):
        raise NotImplementedError

    def seed(self, data):
        """Loads the --seed / POST /_double/seed structure; its
        "config" key merges settings."""
        with self.lock:
            self.config.update(data.get("config") or {})

    def sandbox(self):
        """Seeds the demo; returns lines to print."""
        return []

    def add_api(self, router):
        raise NotImplementedError

    def add_control(self, router):
        pass

    def api(self, req):
        raise NotImplementedError

    def fault_reply(self, status, req):
        """The default answer of an injected fault with this status."""
        raise NotImplementedError


class Inbox:
    """What the receiving doubles (Slack, Discord, a signed-webhook
    receiver) share, mixed into a Double: hooks by `hook_key`, the
    messages accepted and the requests refused (with the reason), and
    the control routes POST /_double/hooks (create, or update the hook
    with that key), DELETE /_double/hooks/{key}, GET|DELETE
    /_double/messages[?hook=KEY]; seed key `hooks`.  The subclass
    implements make_hook(spec, old) (ValueError refuses the spec) and
    hook_view(hook)."""

    hook_key = "id"

    def reset_inbox(self):
        self.hooks, self.messages, self.rejected = {}, [], []

    def inbox_state(self):
        return {"hooks": [self.hook_view(h) for h in self.hooks.values()],
                "messages": self.messages, "rejected": self.rejected}

    def add_hook(self, spec):
        with self.lock:
            old = self.hooks.get(spec.get(self.hook_key))
            h = self.make_hook(dict(spec), old)
            self.hooks[h[self.hook_key]] = h
            return h

    def seed_hooks(self, data):
        for h in data.get("hooks") or []:
            self.add_hook(h)

    def keep(self, hook, **record):
        """Records an accepted message; returns the record."""
        rec = dict({"seq": self.next_seq(), "ts": time.time(),
                    "hook": hook}, **record)
        with self.lock:
            self.messages.append(rec)
        return rec

    def refusal(self, hook, status, error, detail=""):
        with self.lock:
            self.rejected.append({"seq": self.next_seq(), "ts": time.time(),
                                  "hook": hook, "status": status,
                                  "error": error, "detail": detail})

    def add_inbox_control(self, r):
        r.add("POST", r"/_double/hooks", self.c_hook)
        r.add("DELETE", r"/_double/hooks/([^/]+)", self.c_hook_delete)
        r.add("GET", r"/_double/messages", self.c_messages)
        r.add("DELETE", r"/_double/messages", self.c_clear("messages"))

    def c_hook(self, req):
        with self.lock:
            existed = req.obj().get(self.hook_key) in self.hooks
            try:
                h = self.add_hook(req.obj())
            except ValueError as e:
                return Reply(400, {"error": str(e)})
            return Reply(200 if existed else 201, self.hook_view(h))

    def c_hook_delete(self, req, key):
        with self.lock:
            if self.hooks.pop(key, None) is None:
                return Reply(404, {"error": "no hook " + key})
        return Reply(204)

    def c_messages(self, req):
        hook = req.q("hook")
        with self.lock:
            return Reply(200, [m for m in self.messages
                               if hook is None or m["hook"] == hook])


def parse_logged(raw):
    """A raw outbound body as the delivery log shows it: JSON parsed,
    anything else as text."""
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def ok_status(status):
    return status is not None and 200 <= status < 300


def read_text(resp, limit=1 << 20):
    return resp.read(limit).decode("utf-8", "replace")


def lower_headers(h):
    return {k.lower(): v for k, v in (h.items() if h else [])}


def describe_error(e, timeout):
    reason = getattr(e, "reason", e)
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "timeout after %g s" % timeout
    return "%s: %s" % (type(reason).__name__, reason)


def split_userinfo(url, headers):
    """http://user:pass@host/ -> http://host/ + Basic auth, as GitLab
    does with hook URLs (urllib would choke on the userinfo)."""
    u = urllib.parse.urlsplit(url)
    if u.username is None:
        return url, headers
    cred = "%s:%s" % (urllib.parse.unquote(u.username),
                      urllib.parse.unquote(u.password or ""))
    headers.setdefault("Authorization", "Basic " + base64.b64encode(
        cred.encode()).decode())
    netloc = u.hostname + (":%d" % u.port if u.port else "")
    return urllib.parse.urlunsplit(u._replace(netloc=netloc)), headers


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Neither service follows redirects on callbacks: a 3xx is the
    answer."""

    def redirect_request(self, *args, **kwargs):
        return None


# No proxies: an http_proxy in the environment must not capture loopback.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                     _NoRedirect)


# -- HTTP server and command line -----------------------------------------

def make_handler(double):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # http.server sends an answer's head and body apart: with Nagle on,
        # the body waits for the delayed ACK of the head (~40 ms on a
        # kept-alive connection).  Real API front ends set TCP_NODELAY.
        disable_nagle_algorithm = True

        def version_string(self):
            return double.name + "-double"

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s\n" % (double.name, fmt % args))

        def read_body(self):
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                out = b""
                while True:
                    n = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if n == 0:
                        while self.rfile.readline().strip():
                            pass
                        return out
                    out += self.rfile.read(n)
                    self.rfile.readline()
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n > 0 else b""

        def serve(self):
            reply = double.handle(self.command, self.path, self.headers,
                                  self.read_body())
            if reply is None:           # fault "drop": no answer at all
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            self.send_response(reply.status)
            for k, v in reply.headers.items():
                self.send_header(k, str(v))
            if reply.status not in (204, 304):
                self.send_header("Content-Length", str(len(reply.data)))
            self.end_headers()
            if self.command != "HEAD" and reply.status not in (204, 304):
                self.wfile.write(reply.data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = serve
        do_HEAD = do_OPTIONS = serve

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that hangs up (a killed worker, a timed-out call) is
        routine here: one line, not a traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            sys.stderr.write("client %s:%s went away: %s\n" % (
                client_address[0], client_address[1], exc))
            return
        super().handle_error(request, client_address)


def start(double, host="127.0.0.1", port=0, public_url=None):
    """Serves `double` in a background thread; returns the server.
    For in-process use (the command line uses the same function)."""
    srv = Server((host, port), make_handler(double))
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
    if ":" in shown:
        shown = "[%s]" % shown
    double.base_url = (public_url or "http://%s:%d" % (
        shown, srv.server_address[1])).rstrip("/")
    threading.Thread(target=srv.serve_forever, daemon=True,
                     name=double.name + "-http").start()
    return srv


def main(double_class, description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--port", type=int, default=0,
                    help="port to listen on (0: pick a free one)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--public-url", help="base URL to put in links "
                    "(default http://HOST:PORT)")
    ap.add_argument("--seed", help="JSON file: same format as "
                    "POST /_double/seed")
    ap.add_argument("--sandbox", action="store_true",
                    help="seed a friendly demo and print its tokens")
    a = ap.parse_args()
    double = double_class()
    srv = start(double, a.host, a.port, a.public_url)
    lines = []
    if a.seed:
        with open(a.seed) as f:
            double.seed(json.load(f))
    if a.sandbox:
        lines = double.sandbox()
    # First line on stdout: tests read the port from it.
    print("listening on " + double.base_url, flush=True)
    for line in lines:
        print(line, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    srv.shutdown()
