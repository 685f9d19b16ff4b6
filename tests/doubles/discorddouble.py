#!/usr/bin/env python3
"""A faithful double of Discord's "Execute Webhook", as pbsync posts to it.

Contract: shared/reference/notifications.md §2 (discord.com/developers/
docs/resources/webhook, …/resources/message#embed-object-embed-limits,
…/topics/rate-limits, …/topics/opcodes-and-status-codes#json):

  POST /api/webhooks/{id}/{token} (also /api/v{N}/…) with a JSON body:
  204, or 200 with the message object for ?wait=true; `content` ≤ 2000,
  ≤ 10 `embeds` (title 256, description 4096, 25 fields of name 256 and
  value 1024, footer 2048, author 256; 6000 over all embeds), `username`
  1-80, `allowed_mentions`.  Errors are {"message", "code"[, "errors"]}:
  400 50035 Invalid Form Body with every problem under `errors`, 400 50006
  Cannot send an empty message, 400 50109 invalid JSON, 401 50027 Invalid
  Webhook Token (a wrong token for a known id), 404 10015 Unknown Webhook.
  Every answer of a known webhook carries X-RateLimit-Limit, -Remaining,
  -Reset, -Reset-After and -Bucket (a window of 5 requests per 2 s per
  webhook); a 429 adds Retry-After, X-RateLimit-Scope and {"message",
  "retry_after", "global"}.

Every accepted message is kept (GET /_double/messages) with whether
`allowed_mentions` was sent, its value and whom the message actually
pings; refusals with the reason (GET /_double/state, `rejected`).
Shared control API: double.py; Discord's own: README.md.
"""
import hashlib
import itertools
import math
import re
import secrets
import time
from datetime import datetime, timezone

from double import Double, Inbox, Reply, main

DISCORD_EPOCH_MS = 1420070400000
CONTENT_MAX, EMBEDS_MAX, EMBED_TOTAL_MAX = 2000, 10, 6000
FIELDS_MAX, USERNAME_MAX = 25, 80
EMBED_TEXT = (("title", 256), ("description", 4096))
PARSE_TYPES = ("roles", "users", "everyone")
EVERYONE = re.compile(r"@(everyone|here)\b")
USER = re.compile(r"<@!?(\d+)>")
ROLE = re.compile(r"<@&(\d+)>")
REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 405: "Method Not Allowed",
           500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}


def too_long(n):
    return {"code": "BASE_TYPE_MAX_LENGTH",
            "message": "Must be %d or fewer in length." % n}


REQUIRED = {"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}


class Form:
    """Collects field errors in Discord's nested shape:
    {"embeds": {"0": {"title": {"_errors": [...]}}}}."""

    def __init__(self):
        self.errors = {}

    def add(self, path, error):
        node = self.errors
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append(error)

    def text(self, path, value, limit, required=False):
        """A string field; returns its length counted for the limits."""
        if value is None or (required and value == ""):
            if required:
                self.add(path, REQUIRED)
            return 0
        if not isinstance(value, str):
            self.add(path, {"code": "BASE_TYPE_STRING",
                            "message": "Must be a string."})
            return 0
        if len(value) > limit:
            self.add(path, too_long(limit))
        return len(value)

    def array(self, path, value, limit):
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(path, {"code": "LIST_TYPE_CONVERT",
                            "message": "Must be an array."})
            return []
        if len(value) > limit:
            self.add(path, too_long(limit))
        return value


def check_embed(form, i, e):
    """Checks one embed; returns its characters counted for the 6000."""
    where = ("embeds", i)
    if not isinstance(e, dict):
        form.add(where, {"code": "DICT_TYPE_CONVERT",
                         "message": "Only dictionaries may be used in a "
                         "DictType"})
        return 0
    n = sum(form.text(where + (k,), e.get(k), limit)
            for k, limit in EMBED_TEXT)
    for key, limit in (("footer", 2048), ("author", 256)):
        if e.get(key) is not None:
            sub = e[key] if isinstance(e[key], dict) else {}
            name = "text" if key == "footer" else "name"
            n += form.text(where + (key, name), sub.get(name), limit, True)
    color = e.get("color")
    if color is not None and (not isinstance(color, int) or
                              not 0 <= color <= 0xFFFFFF):
        form.add(where + ("color",), {
            "code": "NUMBER_TYPE_MAX", "message":
            "int value should be less than or equal to 16777215."})
    for j, f in enumerate(form.array(where + ("fields",), e.get("fields"),
                                     FIELDS_MAX)):
        f = f if isinstance(f, dict) else {}
        n += form.text(where + ("fields", j, "name"), f.get("name"), 256,
                       True)
        n += form.text(where + ("fields", j, "value"), f.get("value"), 1024,
                       True)
    return n


def check_mentions(form, am):
    if am is None:
        return
    if not isinstance(am, dict):
        form.add(("allowed_mentions",), {
            "code": "DICT_TYPE_CONVERT",
            "message": "Only dictionaries may be used in a DictType"})
        return
    parse = form.array(("allowed_mentions", "parse"), am.get("parse"), 3)
    for i, p in enumerate(parse):
        if p not in PARSE_TYPES:
            form.add(("allowed_mentions", "parse", i), {
                "code": "ENUM_TYPE_COERCE",
                "message": 'Value "%s" is not a valid enum value.' % p})
    for kind in ("users", "roles"):
        ids = form.array(("allowed_mentions", kind), am.get(kind), 100)
        if ids and kind in parse:
            form.add(("allowed_mentions",), {
                "code": "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                "message": 'parse:["%s"] and %s: [ids...] are mutually '
                'exclusive.' % (kind, kind)})


def check_body(body):
    """Discord's checks of an Execute Webhook body: {"errors"} or None."""
    form = Form()
    form.text(("content",), body.get("content"), CONTENT_MAX)
    embeds = form.array(("embeds",), body.get("embeds"), EMBEDS_MAX)
    total = sum(check_embed(form, i, e) for i, e in enumerate(embeds))
    if total > EMBED_TOTAL_MAX:
        form.add(("embeds",), {"code": "MAX_EMBED_SIZE_EXCEEDED",
                               "message": "Embed size exceeds maximum size "
                               "of %d" % EMBED_TOTAL_MAX})
    name = body.get("username")
    if name is not None:
        if not isinstance(name, str) or not 1 <= len(name) <= USERNAME_MAX:
            form.add(("username",), {"code": "BASE_TYPE_BAD_LENGTH",
                                     "message": "Must be between 1 and %d "
                                     "in length." % USERNAME_MAX})
        else:
            for word in ("discord", "clyde"):
                if word in name.lower():
                    form.add(("username",), {
                        "code": "USERNAME_INVALID_CONTAINS",
                        "message": 'Username cannot contain "%s"' % word})
    check_mentions(form, body.get("allowed_mentions"))
    return form.errors or None


def pings(body):
    """Whom the content pings, given allowed_mentions (absent: every
    mention in the content pings; embeds never ping)."""
    content = body.get("content") or ""
    am = body.get("allowed_mentions")
    parse = PARSE_TYPES if am is None else (am.get("parse") or [])
    am = am or {}
    users = [u for u in USER.findall(content)
             if "users" in parse or u in (am.get("users") or [])]
    roles = [r for r in ROLE.findall(content)
             if "roles" in parse or r in (am.get("roles") or [])]
    everyone = "everyone" in parse and bool(EVERYONE.search(content))
    return {"everyone": everyone, "users": users, "roles": roles,
            "any": everyone or bool(users or roles)}


class Discord(Inbox, Double):
    name = "discord"
    defaults = dict(
        Double.defaults,
        rate_limit=5,               # requests per window per webhook; 0 off
        rate_window=2.0,            # seconds
        retry_after_unit="s")       # "ms": retry_after in milliseconds

    # -- state -----------------------------------------------------------
    def reset_state(self):
        self.reset_inbox()          # hooks by id, messages, rejected
        self.windows = {}           # hook id -> {"reset", "used"}
        self.ids = itertools.count(1)

    def state(self):
        return self.inbox_state()

    def snowflake(self):
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return str((ms << 22) | (next(self.ids) & 0x3FFFFF))

    def hook_view(self, h):
        return dict(h, url="%s/api/webhooks/%s/%s" % (
            self.base_url, h["id"], h["token"]))

    def make_hook(self, spec, old):
        old = old or {"id": self.snowflake(),
                      "token": secrets.token_urlsafe(51),
                      "name": "Captain Hook", "channel_id": self.snowflake(),
                      "guild_id": self.snowflake()}
        return dict(old, **{k: str(v) for k, v in spec.items() if k in old})

    def seed(self, data):
        with self.lock:
            super().seed(data)
            self.seed_hooks(data)

    def sandbox(self):
        h = self.add_hook({"id": "1300000000000000001", "token":
                           "sandbox-discord-webhook-token",
                           "name": "pbsync sandbox"})
        return ["Discord sandbox: webhook %s; messages: GET "
                "%s/_double/messages" % (self.hook_view(h)["url"],
                                         self.base_url)]

    # -- answers ---------------------------------------------------------
    @staticmethod
    def error(status, message, code, headers=None, **extra):
        return Reply(status, dict({"message": message, "code": code},
                                  **extra), headers)

    def fault_reply(self, status, req):
        if status == 429:
            return self.rate_limited(1.0, {})
        if status == 404:
            return self.error(404, "Unknown Webhook", 10015)
        if status == 401:
            return self.error(401, "Invalid Webhook Token", 50027)
        if status == 400:
            return self.error(400, "Invalid Form Body", 50035, errors={})
        return self.error(status, "%d: %s" % (
            status, REASONS.get(status, "Error")), 0)

    def rate_limited(self, wait, headers):
        retry = round(wait * 1000) if self.cfg("retry_after_unit") == "ms" \
            else round(wait, 3)
        headers = dict(headers, **{"Retry-After": str(max(1, math.ceil(
            wait))), "X-RateLimit-Scope": "user"})
        return Reply(429, {"message": "You are being rate limited.",
                           "retry_after": retry, "global": False}, headers)

    # -- the API ---------------------------------------------------------
    def add_api(self, r):
        r.add("POST", r"/api(?:/v\d+)?/webhooks/(\d+)/([^/]+)", self.execute)

    def api(self, req):
        fn, groups = self.routes.match(req.method, req.path)
        if fn is None:
            return self.error(405 if groups else 404, "405: Method Not "
                              "Allowed" if groups else "404: Not Found", 0)
        with self.lock:
            return fn(req, *groups)

    def refuse(self, hook, reply, detail):
        self.refusal(hook, reply.status, reply.data.decode(), detail)
        return reply

    def execute(self, req, hook_id, token):
        """Discord's order: the webhook, the rate limit, the body."""
        h = self.hooks.get(hook_id)
        if h is None:
            return self.refuse(hook_id, self.error(
                404, "Unknown Webhook", 10015), "unknown webhook id")
        if h["token"] != token:
            return self.refuse(hook_id, self.error(
                401, "Invalid Webhook Token", 50027), "wrong token")
        wait, headers = self.window(h)
        if wait:
            return self.refuse(hook_id, self.rate_limited(wait, headers),
                               "over the rate limit")
        reply = self.message(req, h)
        for k, v in headers.items():
            reply.set_default(k, v)
        return reply

    def message(self, req, h):
        wait = req.q("wait", "false").lower()
        if wait not in ("true", "false", "1", "0", "yes", "no"):
            return self.refuse(h["id"], self.error(
                400, "Invalid Form Body", 50035, errors={"wait": {
                    "_errors": [{"code": "BOOLEAN_TYPE_CONVERT", "message":
                                 "Must be either true or false."}]}}),
                "bad wait")
        if req.malformed:
            return self.refuse(h["id"], self.error(
                400, "The request body contains invalid JSON.", 50109),
                "invalid JSON")
        body = req.body if req.ctype.endswith("json") else None
        if body is not None and not isinstance(body, dict):
            return self.refuse(h["id"], self.error(
                400, "Invalid Form Body", 50035, errors={"_errors": [{
                    "code": "DICT_TYPE_CONVERT", "message": "Only "
                    "dictionaries may be used in a DictType"}]}),
                "not an object")
        body = body or {}
        errors = check_body(body)
        if errors:
            return self.refuse(h["id"], self.error(
                400, "Invalid Form Body", 50035, errors=errors),
                "invalid form body")
        if not body.get("content") and not body.get("embeds") and \
                not body.get("components") and not body.get("poll"):
            return self.refuse(h["id"], self.error(
                400, "Cannot send an empty message", 50006), "empty")
        msg = self.message_object(h, body)
        self.keep(h["id"], message_id=msg["id"], content=body.get("content"),
                  embeds=body.get("embeds") or [], username=body.get(
                      "username"), body=body,
                  allowed_mentions_sent="allowed_mentions" in body,
                  allowed_mentions=body.get("allowed_mentions"),
                  pings=pings(body), wait=wait in ("true", "1", "yes"))
        if wait in ("true", "1", "yes"):
            return Reply(200, msg)
        return Reply(204)

    def message_object(self, h, body):
        p = pings(body)
        now = datetime.now(timezone.utc).isoformat()
        return {
            "id": self.snowflake(), "type": 0, "content":
            body.get("content") or "", "channel_id": h["channel_id"],
            "author": {"id": h["id"], "username": body.get("username") or
                       h["name"], "avatar": None, "discriminator": "0000",
                       "public_flags": 0, "flags": 0, "bot": True,
                       "global_name": None},
            "attachments": [], "embeds": [dict(e, type=e.get("type", "rich"))
                                          for e in body.get("embeds") or []],
            "mentions": [{"id": u} for u in p["users"]],
            "mention_roles": p["roles"], "pinned": False,
            "mention_everyone": p["everyone"], "tts": bool(body.get("tts")),
            "timestamp": now, "edited_timestamp": None, "flags": 0,
            "components": [], "webhook_id": h["id"]}

    def window(self, h):
        """A fixed window per webhook: (seconds to wait or 0, headers)."""
        limit = int(self.config["rate_limit"] or 0)
        if limit <= 0:
            return 0, {}
        span = float(self.config["rate_window"])
        now = time.time()
        w = self.windows.get(h["id"])
        if w is None or now >= w["reset"]:
            w = self.windows[h["id"]] = {"reset": now + span, "used": 0}
        left = w["reset"] - now
        headers = {"X-RateLimit-Limit": str(limit),
                   "X-RateLimit-Reset": "%.3f" % w["reset"],
                   "X-RateLimit-Reset-After": "%.3f" % left,
                   "X-RateLimit-Bucket": hashlib.sha1(
                       h["id"].encode()).hexdigest()[:32]}
        if w["used"] >= limit:
            headers["X-RateLimit-Remaining"] = "0"
            return left, headers
        w["used"] += 1
        headers["X-RateLimit-Remaining"] = str(limit - w["used"])
        return 0, headers

    # -- control ---------------------------------------------------------
    def add_control(self, r):
        self.add_inbox_control(r)


if __name__ == "__main__":
    main(Discord, "Discord webhook test double")
