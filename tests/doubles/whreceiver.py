#!/usr/bin/env python3
"""A receiver of signed webhooks that verifies them as the Standard
Webhooks specification asks (shared/reference/notifications.md §3,
github.com/standard-webhooks/standard-webhooks spec/standard-webhooks.md).

  POST /webhooks/{name}: `webhook-id`, `webhook-timestamp` (integer Unix
  seconds, at most `tolerance_s` away from now, past or future) and
  `webhook-signature` (space-separated `v1,<base64>`; other versions are
  ignored) over `{id}.{timestamp}.{raw body}`, HMAC-SHA256 keyed with the
  base64-decoded part of a `whsec_` secret after the prefix, compared in
  constant time against every secret the endpoint knows (several during a
  rotation).  A valid signature gets the endpoint's `status` (204 unless
  set: set it to 3xx, 410, 429, 500 … to make the sender fail); anything
  else 401 with the reason in the body.

Every delivery is kept (GET /_double/messages) with `verified`, `reason`,
the secret that matched, each listed signature and which secret it
matches, `duplicate` (a `webhook-id` seen before: retries must repeat it)
and the problems of the JSON envelope {"type", "timestamp", "data"}.
Shared control API: double.py; the receiver's own: README.md.
"""
import base64
import binascii
import hashlib
import hmac
import secrets
import time

from double import Double, Inbox, Reply, main, parse_time

PREFIX = "whsec_"


def key_of(secret):
    """The HMAC key of a secret: base64 after an optional `whsec_`."""
    s = secret[len(PREFIX):] if secret.startswith(PREFIX) else secret
    try:
        key = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("secret %r is not base64 after whsec_" % secret)
    if not key:
        raise ValueError("empty secret")
    return key


def sign(secret, msg_id, timestamp, raw):
    """`v1,<base64>` of {msg_id}.{timestamp}.{raw} (raw: bytes)."""
    mac = hmac.new(key_of(secret), b"%s.%d." % (msg_id.encode(),
                                                int(timestamp)) + raw,
                   hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def verify(secrets_, headers, raw, now=None, tolerance=300):
    """Checks a delivery against every secret: {"verified", "reason",
    "secret_index", "signatures": [{"signature", "matches"}]}.
    `headers` have lower-case names."""
    out = {"verified": False, "reason": None, "secret_index": None,
           "signatures": []}
    msg_id = headers.get("webhook-id")
    stamp = headers.get("webhook-timestamp")
    listed = headers.get("webhook-signature")
    if not msg_id or not stamp or not listed:
        out["reason"] = "missing headers"
        return out
    now = time.time() if now is None else now
    try:
        ts = int(stamp.strip())
    except ValueError:
        out["reason"] = "invalid timestamp"
        return out
    expected = [sign(s, msg_id, ts, raw) for s in secrets_]
    for sig in listed.split(" "):
        if not sig:
            continue
        match = next((i for i, e in enumerate(expected)
                      if sig.startswith("v1,") and
                      hmac.compare_digest(sig.encode(), e.encode())), None)
        out["signatures"].append({"signature": sig, "matches": match})
    if now - ts > tolerance:
        out["reason"] = "timestamp too old"
    elif ts > now + tolerance:
        out["reason"] = "timestamp too new"
    else:
        matched = [s["matches"] for s in out["signatures"]
                   if s["matches"] is not None]
        if matched:
            out["verified"], out["secret_index"] = True, matched[0]
        else:
            out["reason"] = "no matching signature"
    return out


def new_secret(n=24):
    return PREFIX + base64.b64encode(secrets.token_bytes(n)).decode()


def envelope_problems(body):
    """What a pbsync `webhook` payload lacks: {"type": "<event>",
    "timestamp": "<RFC 3339>", "data": {...}}."""
    if not isinstance(body, dict):
        return ["body is not a JSON object"]
    out = []
    if not isinstance(body.get("type"), str) or not body["type"]:
        out.append("type missing")
    if not isinstance(body.get("timestamp"), str) or \
            parse_time(body["timestamp"]) is None or \
            "T" not in body["timestamp"]:
        out.append("timestamp is not RFC 3339")
    if not isinstance(body.get("data"), dict):
        out.append("data is not an object")
    return out


class Receiver(Inbox, Double):
    name = "whreceiver"
    hook_key = "name"
    defaults = dict(Double.defaults, tolerance_s=300)

    # -- state -----------------------------------------------------------
    def reset_state(self):
        self.reset_inbox()          # endpoints by name, deliveries, refused
        self.seen = set()           # (endpoint, webhook-id) verified

    def state(self):
        return self.inbox_state()

    def hook_view(self, h):
        return dict(h, url="%s/webhooks/%s" % (self.base_url, h["name"]))

    def make_hook(self, spec, old):
        h = dict(old or {"name": "endpoint-%d" % (len(self.hooks) + 1),
                         "secrets": [new_secret()], "status": 204},
                 **{k: v for k, v in spec.items()
                    if k in ("name", "secrets", "status")})
        if "secret" in spec:
            h["secrets"] = [spec["secret"]]
        if not isinstance(h["secrets"], list) or not h["secrets"]:
            raise ValueError("secrets must be a non-empty list")
        for s in h["secrets"]:
            key_of(s)
        if not isinstance(h["status"], int) or not 200 <= h["status"] < 600:
            raise ValueError("status must be an HTTP status")
        if not h["name"] or "/" in h["name"]:
            raise ValueError("name must be one path segment")
        return h

    def seed(self, data):
        with self.lock:
            super().seed(data)
            self.seed_hooks(data)

    def sandbox(self):
        h = self.add_hook({"name": "sandbox", "secrets": [
            PREFIX + base64.b64encode(b"pbsync-sandbox-secret-24b").decode()]})
        return ["Signed-webhook receiver: %s (set the secret pbsync shows: "
                "POST %s/_double/hooks {\"name\":\"sandbox\",\"secrets\":"
                "[\"whsec_...\"]}); deliveries: GET %s/_double/messages" % (
                    self.hook_view(h)["url"], self.base_url, self.base_url)]

    # -- the API ---------------------------------------------------------
    def fault_reply(self, status, req):
        return Reply(status, "injected failure %d" % status)

    def add_api(self, r):
        r.add("POST", r"/webhooks/([^/]+)", self.deliver)

    def api(self, req):
        fn, groups = self.routes.match(req.method, req.path)
        if fn is None:
            self.refusal(None, 405 if groups else 404, "no route",
                         "%s %s" % (req.method, req.path))
            return Reply(405 if groups else 404, "no such endpoint")
        return fn(req, *groups)

    def deliver(self, req, name):
        with self.lock:
            h = self.hooks.get(name)
            if h is None:
                self.refusal(name, 404, "unknown endpoint")
                return Reply(404, "no such endpoint")
            keys, status = list(h["secrets"]), h["status"]
            tolerance = float(self.config["tolerance_s"])
        v = verify(keys, req.headers, req.raw, tolerance=tolerance)
        msg_id = req.headers.get("webhook-id")
        with self.lock:
            duplicate = v["verified"] and (name, msg_id) in self.seen
            if v["verified"]:
                self.seen.add((name, msg_id))
        body = req.body if not req.malformed else req.raw.decode(
            "utf-8", "replace")
        answer = status if v["verified"] else 401
        self.keep(name, webhook_id=msg_id,
                  timestamp=req.headers.get("webhook-timestamp"),
                  verified=v["verified"], reason=v["reason"],
                  secret_index=v["secret_index"],
                  secret=None if v["secret_index"] is None
                  else keys[v["secret_index"]],
                  signatures=v["signatures"], duplicate=duplicate,
                  content_type=req.ctype, body=body, size=len(req.raw),
                  raw=req.raw.decode("utf-8", "replace"),
                  envelope_problems=envelope_problems(
                      body if req.ctype.endswith("json") else None),
                  status=answer)
        if not v["verified"]:
            return Reply(401, {"error": v["reason"]})
        if 200 <= answer < 300:
            return Reply(answer, None if answer == 204 else {"ok": True})
        return Reply(answer, "configured failure %d" % answer)

    def add_control(self, r):
        self.add_inbox_control(r)


if __name__ == "__main__":
    main(Receiver, "Standard Webhooks receiver test double")
