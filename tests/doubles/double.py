"""Shared plumbing of the API test doubles (Python 3 standard library only).

A Double is an HTTP server with: a log of every API request it received,
fault injection (status, delay, dropped connection) per regex on
"METHOD /path", a settings dict, and an ordered background queue of
outbound deliveries (webhooks, probes) recorded with their answers.  The
control API lives under /_double/ and needs no authentication:

  POST   /_double/reset            wipe everything
  GET    /_double/requests[?path=] API requests received (DELETE clears)
  POST   /_double/faults           {"match","status","count","delay",
                                    "headers","body","drop"} (DELETE clears)
  POST   /_double/config           merge settings
  GET    /_double/deliveries       outbound calls made
  GET    /_double/state            internal state
  POST   /_double/wait             {"deliveries_idle":true,"timeout":5}
"""
import argparse
import json
import queue
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Reply:
    """What a route answers."""

    def __init__(self, status=200, body=None, headers=None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


class Request:
    """A parsed API request as routes see it."""

    def __init__(self, method, raw_path, headers, body_bytes):
        self.method = method
        self.raw_path, _, self.query_string = raw_path.partition("?")
        self.path = urllib.parse.unquote(self.raw_path)
        self.query = urllib.parse.parse_qs(self.query_string)
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.raw = body_bytes
        self.body = None
        ctype = self.headers.get("content-type", "")
        if body_bytes:
            if "json" in ctype:
                try:
                    self.body = json.loads(body_bytes)
                except ValueError:
                    self.body = ValueError("malformed JSON")
            elif "x-www-form-urlencoded" in ctype:
                self.body = {k: v[-1] for k, v in urllib.parse.parse_qs(
                    body_bytes.decode("utf-8", "replace")).items()}
            else:
                self.body = body_bytes.decode("utf-8", "replace")


class Double:
    """Base of both doubles; subclasses define api() and control()."""

    defaults = {"deliver": True, "delivery_delay": 0, "require_https": False}

    def __init__(self):
        self.lock = threading.RLock()
        self.base_url = ""
        self.outbox = queue.Queue()
        self.in_flight = 0
        self.reset()
        threading.Thread(target=self._deliver_loop, daemon=True).start()

    # -- state ---------------------------------------------------------------
    def reset(self):
        with self.lock:
            self.requests = []
            self.faults = []
            self.deliveries = []
            self.config = dict(self.defaults)
            self.seq = 0
            self.reset_state()

    def reset_state(self):
        raise NotImplementedError

    def now(self):
        return time.time()

    def iso(self, t=None):
        t = self.now() if t is None else t
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + \
            ".%03dZ" % int((t % 1) * 1000)

    # -- faults --------------------------------------------------------------
    def take_fault(self, method, path):
        with self.lock:
            for f in self.faults:
                if f["count"] != 0 and re.search(f["match"],
                                                 method + " " + path):
                    if f["count"] > 0:
                        f["count"] -= 1
                    return dict(f)
        return None

    def fault_reply(self, f):
        """The answer of a fault with a status; subclasses shape bodies."""
        return Reply(f["status"], f.get("body", self.error_body(f["status"])),
                     f.get("headers"))

    def error_body(self, status):
        return {"message": "%d error" % status}

    # -- outbound ------------------------------------------------------------
    def deliver(self, kind, url, headers, body, retries=0):
        """Queues an asynchronous POST, delivered in order."""
        self.outbox.put((kind, url, headers, body, retries))

    def call_out(self, kind, method, url, headers, body=None, timeout=10):
        """Makes one outbound call now and records it; returns the record."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        for k, v in headers.items():
            req.add_header(k, v)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        rec = {"kind": kind, "url": url, "method": method,
               "headers": dict(headers), "body": body, "ts": time.time(),
               "status": None, "response": None, "response_headers": {},
               "error": None}
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                rec["status"] = r.status
                rec["response"] = r.read().decode("utf-8", "replace")
                rec["response_headers"] = {k.lower(): v for k, v in
                                           r.getheaders()}
        except urllib.error.HTTPError as e:
            rec["status"] = e.code
            rec["response"] = e.read().decode("utf-8", "replace")
        except Exception as e:  # timeouts, refused connections
            rec["error"] = "%s: %s" % (type(e).__name__, e)
        rec["elapsed"] = time.monotonic() - t0
        with self.lock:
            self.seq += 1
            rec["seq"] = self.seq
            self.deliveries.append(rec)
        return rec

    def _deliver_loop(self):
        while True:
            kind, url, headers, body, retries = self.outbox.get()
            with self.lock:
                self.in_flight += 1
            try:
                delay = self.config.get("delivery_delay", 0)
                if delay:
                    time.sleep(delay)
                rec = self.call_out(kind, "POST", url, headers, body)
                ok = rec["status"] is not None and 200 <= rec["status"] < 300
                self.delivered(kind, url, ok)
                if not ok and retries > 0:
                    threading.Timer(1.0, self.deliver, (kind, url, headers,
                                                        body, retries - 1)).start()
            finally:
                with self.lock:
                    self.in_flight -= 1

    def delivered(self, kind, url, ok):
        """Hook for subclasses (GitLab's auto-disable counters)."""

    def idle(self):
        with self.lock:
            return self.outbox.empty() and self.in_flight == 0

    # -- HTTP ----------------------------------------------------------------
    def handle(self, method, raw_path, headers, body):
        """Returns a Reply, or None to drop the connection."""
        req = Request(method, raw_path, headers, body)
        if req.path.startswith("/_double/"):
            return self._control(req)
        f = self.take_fault(method, req.path)
        if f and f.get("delay"):
            time.sleep(f["delay"])
        if f and f.get("drop"):
            reply = None
        elif f and f.get("status"):
            reply = self.fault_reply(f)
        else:
            try:
                reply = self.api(req)
            except Exception as e:  # a double bug must show, not hang
                reply = Reply(500, {"message": "double error: %s" % e})
        with self.lock:
            self.seq += 1
            self.requests.append({
                "seq": self.seq, "ts": time.time(), "method": method,
                "path": req.path, "raw_path": req.raw_path,
                "query": req.query_string, "headers": req.headers,
                "body": req.body if not isinstance(req.body, Exception)
                else req.raw.decode("utf-8", "replace"),
                "status": reply.status if reply else None})
        return reply

    def _control(self, req):
        p, m, b = req.path, req.method, req.body
        if p == "/_double/reset" and m == "POST":
            self.reset()
            return Reply(204)
        if p == "/_double/requests":
            if m == "DELETE":
                with self.lock:
                    self.requests = []
                return Reply(204)
            pat = req.query.get("path", [None])[0]
            with self.lock:
                return Reply(200, [r for r in self.requests
                                   if not pat or re.search(pat, r["path"])])
        if p == "/_double/faults":
            with self.lock:
                if m == "DELETE":
                    self.faults = []
                    return Reply(204)
                f = dict(b)
                f.setdefault("count", 1)
                self.faults.append(f)
            return Reply(201, f)
        if p == "/_double/config" and m == "POST":
            with self.lock:
                self.config.update(b or {})
                return Reply(200, self.config)
        if p == "/_double/deliveries":
            with self.lock:
                return Reply(200, list(self.deliveries))
        if p == "/_double/state":
            with self.lock:
                return Reply(200, self.state())
        if p == "/_double/wait" and m == "POST":
            end = time.monotonic() + float((b or {}).get("timeout", 5))
            while not self.idle() and time.monotonic() < end:
                time.sleep(0.02)
            return Reply(200, {"idle": self.idle()})
        with self.lock:
            return self.control(req)

    # -- subclass interface ----------------------------------------------------
    def api(self, req):
        raise NotImplementedError

    def control(self, req):
        return Reply(404, {"error": "unknown control route"})

    def state(self):
        raise NotImplementedError

    def seed(self, data):
        raise NotImplementedError


def make_handler(double):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

        def _any(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            reply = double.handle(self.command, self.path, self.headers, body)
            if reply is None:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if isinstance(reply.body, (dict, list)):
                data = json.dumps(reply.body).encode()
                reply.headers.setdefault("Content-Type", "application/json")
            elif isinstance(reply.body, str):
                data = reply.body.encode()
                reply.headers.setdefault("Content-Type", "text/plain")
            else:
                data = b""
            self.send_response(reply.status)
            for k, v in reply.headers.items():
                self.send_header(k, str(v))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any

    return Handler


def main(double, description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--seed", help="JSON file of seed data")
    ap.add_argument("--sandbox", action="store_true",
                    help="seed a friendly demo")
    a = ap.parse_args()
    srv = ThreadingHTTPServer((a.host, a.port), make_handler(double))
    srv.daemon_threads = True
    double.base_url = "http://%s:%d" % (a.host, srv.server_address[1])
    if a.seed:
        double.seed(json.load(open(a.seed)))
    if a.sandbox:
        double.sandbox()
    print("listening on " + double.base_url, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


def new_id():
    return str(uuid.uuid4())
