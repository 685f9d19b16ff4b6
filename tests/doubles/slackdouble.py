#!/usr/bin/env python3
"""A faithful double of Slack incoming webhooks, as pbsync posts to them.

Contract: shared/reference/notifications.md §1 (api.slack.com/messaging/
webhooks, the 2016-05-17 changelog of webhook errors, Block Kit limits,
rate limits):

  POST /services/T…/B…/SECRET with a JSON body (or a form field
  `payload`), `text` (mrkdwn) and/or `blocks` (and legacy `attachments`);
  200 `ok`, else a status and a bare string body: 400 invalid_payload,
  no_text, invalid_blocks, invalid_blocks_format, too_many_attachments;
  403 invalid_token, action_prohibited; 404 no_team, no_service,
  channel_not_found; 410 channel_is_archived; 429 rate_limited with
  Retry-After (a token bucket per hook, 1 message per second); 500
  rollup_error for injected faults.

Hooks are made through the control API (POST /_double/hooks) or the seed
key `hooks`; every accepted message is kept (GET /_double/messages) with
what it would ping and the mrkdwn escaping it got wrong, every refusal
with its reason (GET /_double/state, `rejected`).  Shared control API:
double.py; Slack's own: README.md.
"""
import json
import math
import re
import secrets
import string
import time

from double import Double, Inbox, Reply, main

TEXT_MAX = 40000            # longer `text` is cut, not refused
BLOCKS_MAX, ATTACHMENTS_MAX, BLOCK_ID_MAX = 50, 100, 255
STATES = {"active": None,
          "disabled": (404, "no_service"),
          "channel_not_found": (404, "channel_not_found"),
          "prohibited": (403, "action_prohibited"),
          "archived": (410, "channel_is_archived")}
# The default body of an injected fault, by status.
FAULT_BODIES = {400: "invalid_payload", 403: "action_prohibited",
                404: "no_service", 410: "channel_is_archived",
                429: "rate_limited"}
ALNUM = string.ascii_uppercase + string.digits
# <…> sequences Slack gives a meaning: links, user/channel/group
# mentions and special commands.  Anything else in angle brackets is
# text the sender forgot to escape.
CONTROL = re.compile(r"<((?:https?|mailto|tel|slack):[^<>]*|[@#!][^<>]*)>")
PINGS = re.compile(r"<(?:!(here|channel|everyone)|@([UW][A-Z0-9]+)|"
                   r"!subteam\^([A-Z0-9]+))(?:\|[^<>]*)?>")
BARE_PINGS = re.compile(r"(?<![\w<])@(here|channel|everyone)\b")
ENTITY = re.compile(r"&(amp|lt|gt);")


def rand_id(prefix, n):
    return prefix + "".join(secrets.choice(ALNUM) for _ in range(n))


class Invalid(Exception):
    """A message Slack refuses: `error` is the body, `detail` why."""

    def __init__(self, error, detail):
        super().__init__(detail)
        self.error, self.detail = error, detail


# -- Block Kit -------------------------------------------------------------

def text_object(obj, where, limit, kinds=("plain_text", "mrkdwn")):
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        raise Invalid("invalid_blocks", "%s must be a %s text object" % (
            where, " or ".join(kinds)))
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        raise Invalid("invalid_blocks", "%s.text must be a non-empty "
                      "string" % where)
    if len(text) > limit:
        raise Invalid("invalid_blocks", "%s.text must be at most %d "
                      "characters (has %d)" % (where, limit, len(text)))
    if obj["type"] == "mrkdwn" and "emoji" in obj:
        raise Invalid("invalid_blocks", "%s: emoji is only for plain_text"
                      % where)
    if obj["type"] == "plain_text" and "verbatim" in obj:
        raise Invalid("invalid_blocks", "%s: verbatim is only for mrkdwn"
                      % where)


def elements(block, where, most, check):
    items = block.get("elements")
    if not isinstance(items, list) or not 1 <= len(items) <= most:
        raise Invalid("invalid_blocks", "%s.elements must be 1 to %d items"
                      % (where, most))
    for i, e in enumerate(items):
        check(e, "%s.elements[%d]" % (where, i))


def image_element(e, where):
    if not isinstance(e.get("alt_text"), str) or not e["alt_text"]:
        raise Invalid("invalid_blocks", "%s.alt_text is required" % where)
    if len(e["alt_text"]) > 2000:
        raise Invalid("invalid_blocks", "%s.alt_text over 2000" % where)
    url = e.get("image_url")
    if "slack_file" not in e and (not isinstance(url, str) or not url or
                                  len(url) > 3000):
        raise Invalid("invalid_blocks", "%s needs image_url (at most 3000 "
                      "characters) or slack_file" % where)


def context_element(e, where):
    if isinstance(e, dict) and e.get("type") == "image":
        image_element(e, where)
    else:
        text_object(e, where, 3000)


def interactive_element(e, where):
    if not isinstance(e, dict) or not isinstance(e.get("type"), str):
        raise Invalid("invalid_blocks", "%s must be an element" % where)


def check_section(b, where):
    if "text" not in b and "fields" not in b:
        raise Invalid("invalid_blocks", "%s needs text or fields" % where)
    if "text" in b:
        text_object(b["text"], where + ".text", 3000)
    if "fields" in b:
        fields = b["fields"]
        if not isinstance(fields, list) or not 1 <= len(fields) <= 10:
            raise Invalid("invalid_blocks", "%s.fields must be 1 to 10 "
                          "items" % where)
        for i, f in enumerate(fields):
            text_object(f, "%s.fields[%d]" % (where, i), 2000)
    if "accessory" in b:
        interactive_element(b["accessory"], where + ".accessory")


def check_header(b, where):
    text_object(b.get("text"), where + ".text", 150, ("plain_text",))


def check_image(b, where):
    image_element(b, where)
    if "title" in b:
        text_object(b["title"], where + ".title", 2000, ("plain_text",))


def check_markdown(b, where):
    if not isinstance(b.get("text"), str) or not b["text"]:
        raise Invalid("invalid_blocks", "%s.text is required" % where)
    if len(b["text"]) > 12000:
        raise Invalid("invalid_blocks", "%s.text over 12000" % where)


def check_rich_text(b, where):
    if not isinstance(b.get("elements"), list) or not b["elements"]:
        raise Invalid("invalid_blocks", "%s.elements is required" % where)


def check_input(b, where):
    text_object(b.get("label"), where + ".label", 2000, ("plain_text",))
    interactive_element(b.get("element"), where + ".element")


BLOCKS = {
    "section": check_section,
    "header": check_header,
    "divider": lambda b, where: None,
    "context": lambda b, where: elements(b, where, 10, context_element),
    "actions": lambda b, where: elements(b, where, 25, interactive_element),
    "image": check_image,
    "markdown": check_markdown,
    "rich_text": check_rich_text,
    "input": check_input,
    "file": lambda b, where: None,
    "video": lambda b, where: None,
}


def check_blocks(blocks):
    if not isinstance(blocks, list):
        raise Invalid("invalid_blocks_format", "blocks must be an array")
    if len(blocks) > BLOCKS_MAX:
        raise Invalid("invalid_blocks", "%d blocks: at most %d" % (
            len(blocks), BLOCKS_MAX))
    ids = set()
    for i, b in enumerate(blocks):
        where = "blocks[%d]" % i
        if not isinstance(b, dict) or b.get("type") not in BLOCKS:
            raise Invalid("invalid_blocks", "%s: unknown block type %r" % (
                where, b.get("type") if isinstance(b, dict) else b))
        bid = b.get("block_id")
        if bid is not None:
            if not isinstance(bid, str) or not bid or \
                    len(bid) > BLOCK_ID_MAX or bid in ids:
                raise Invalid("invalid_blocks", "%s.block_id must be unique"
                              " and 1 to %d characters" % (
                                  where, BLOCK_ID_MAX))
            ids.add(bid)
        BLOCKS[b["type"]](b, where)


def mrkdwn_texts(msg):
    """(where, text) of everything Slack renders as mrkdwn."""
    out = []
    if isinstance(msg.get("text"), str) and msg.get("mrkdwn", True):
        out.append(("text", msg["text"]))
    for i, b in enumerate(msg.get("blocks") or []):
        objs = [("text", b.get("text"))]
        objs += [("fields[%d]" % j, f) for j, f in
                 enumerate(b.get("fields") or [])]
        objs += [("elements[%d]" % j, e) for j, e in
                 enumerate(b.get("elements") or [])
                 if b.get("type") == "context"]
        for name, o in objs:
            if isinstance(o, dict) and o.get("type") == "mrkdwn":
                out.append(("blocks[%d].%s" % (i, name), o["text"]))
    return out


def inspect(msg):
    """Who the message pings and where its mrkdwn is not escaped."""
    pings, problems = [], []
    link_names = msg.get("link_names") in (True, 1, "1", "true")
    for where, text in mrkdwn_texts(msg):
        for m in PINGS.finditer(text):
            pings.append({"where": where, "mention": m.group(0)})
        if link_names:
            pings += [{"where": where, "mention": m.group(0)}
                      for m in BARE_PINGS.finditer(text)]
        rest = CONTROL.sub("", text)
        rest = re.sub(r"(?m)^>", "", rest)          # a block quote
        for ch in "<>":
            if ch in rest:
                problems.append({"where": where, "problem": "unescaped "
                                 + ch})
        if "&" in ENTITY.sub("", rest):
            problems.append({"where": where, "problem": "unescaped &"})
    return pings, problems


def check_message(msg):
    """The message as Slack keeps it, or raises Invalid."""
    if not isinstance(msg, dict):
        raise Invalid("invalid_payload", "the body is not a JSON object")
    text = msg.get("text")
    if text is not None and not isinstance(text, str):
        raise Invalid("invalid_payload", "text must be a string")
    if "blocks" in msg:
        check_blocks(msg["blocks"])
    atts = msg.get("attachments")
    if atts is not None and not isinstance(atts, list):
        raise Invalid("invalid_payload", "attachments must be an array")
    if atts and len(atts) > ATTACHMENTS_MAX:
        raise Invalid("too_many_attachments", "%d attachments" % len(atts))
    if not (text or "").strip() and not msg.get("blocks") and not atts:
        raise Invalid("no_text", "neither text nor blocks nor attachments")
    return msg


class Slack(Inbox, Double):
    name = "slack"
    hook_key = "bot"
    defaults = dict(
        Double.defaults,
        rate_limit_per_s=1,         # messages per second per hook; 0 = off
        rate_limit_burst=1)         # messages a hook may take at once

    # -- state -----------------------------------------------------------
    def reset_state(self):
        self.reset_inbox()          # hooks by bot id, messages, rejected
        self.buckets = {}           # bot id -> (level, monotonic time)

    def state(self):
        return self.inbox_state()

    def hook_view(self, h):
        return dict(h, url="%s/services/%s/%s/%s" % (
            self.base_url, h["team"], h["bot"], h["secret"]))

    def make_hook(self, spec, old):
        if spec.get("state", "active") not in STATES:
            raise ValueError("state must be one of %s" % sorted(STATES))
        old = old or {
            "team": rand_id("T", 8), "bot": rand_id("B", 10),
            "secret": "".join(secrets.choice(string.ascii_letters +
                                             string.digits)
                              for _ in range(24)),
            "channel": "#general", "state": "active"}
        return dict(old, **{k: v for k, v in spec.items() if k in old})

    def seed(self, data):
        with self.lock:
            super().seed(data)
            self.seed_hooks(data)

    def sandbox(self):
        with self.lock:
            h = self.add_hook({"team": "T0SANDBOX", "bot": "B0SANDBOX",
                               "secret": "sandbox-slack-hook-secret",
                               "channel": "#pbsync-sandbox"})
            return ["Slack sandbox: incoming webhook %s (channel %s); "
                    "messages: GET %s/_double/messages" % (
                        self.hook_view(h)["url"], h["channel"],
                        self.base_url)]

    # -- answers ---------------------------------------------------------
    @staticmethod
    def answer(status, body, headers=None):
        return Reply(status, body, headers, ctype="text/html")

    def fault_reply(self, status, req):
        if status == 429:
            return self.answer(429, "rate_limited", {"Retry-After": "1"})
        return self.answer(status, FAULT_BODIES.get(status, "rollup_error"
                                                   if status >= 500 else
                                                   "invalid_payload"))

    def refuse(self, hook, status, error, detail):
        self.refusal(hook, status, error, detail)
        return self.answer(status, error)

    # -- the API ---------------------------------------------------------
    def add_api(self, r):
        r.add("POST", r"/services/([^/]+)/([^/]+)/([^/]+)", self.post)

    def api(self, req):
        fn, groups = self.routes.match(req.method, req.path)
        with self.lock:
            if fn is None:
                return self.refuse(None, 404 if not groups else 400,
                                   "no_service" if not groups else
                                   "invalid_payload", "no such route")
            return fn(req, *groups)

    def post(self, req, team, bot, secret):
        """Slack's order: the hook from the URL, its channel, the rate
        limit, then the message."""
        h = self.hooks.get(bot)
        if h is None:
            known_team = any(x["team"] == team for x in self.hooks.values())
            return self.refuse(bot, 404, "no_service" if known_team
                               else "no_team", "unknown hook")
        if h["team"] != team or h["secret"] != secret:
            return self.refuse(bot, 403, "invalid_token",
                               "wrong team or secret")
        if STATES[h["state"]]:
            status, error = STATES[h["state"]]
            return self.refuse(bot, status, error, "hook " + h["state"])
        wait = self.take(bot)
        if wait:
            return self.limited(bot, wait)
        try:
            msg = check_message(self.message_of(req))
        except Invalid as e:
            return self.refuse(bot, 400, e.error, e.detail)
        pings, problems = inspect(msg)
        text = msg.get("text")
        self.keep(
            bot, channel=h["channel"], text=(text or "")[:TEXT_MAX],
            truncated=len(text or "") > TEXT_MAX, blocks=msg.get("blocks"),
            attachments=msg.get("attachments"), body=msg, pings=pings,
            escaping_problems=problems)
        return self.answer(200, "ok")

    def limited(self, bot, wait):
        reply = self.refuse(bot, 429, "rate_limited", "over %g/s" %
                            self.config["rate_limit_per_s"])
        reply.set_header("Retry-After", str(max(1, math.ceil(wait))))
        return reply

    @staticmethod
    def message_of(req):
        """The message: a JSON body (whatever the Content-Type says), or
        the JSON in a form's `payload` field."""
        if isinstance(req.body, dict) and \
                req.ctype == "application/x-www-form-urlencoded":
            raw = req.body.get("payload")
        else:
            raw = req.raw.decode("utf-8", "replace")
        try:
            return json.loads(raw or "")
        except (ValueError, TypeError):
            raise Invalid("invalid_payload", "the body is not JSON")

    def take(self, bot):
        """Token bucket of a hook: 0 when the message may go (one is
        spent), else the seconds until it could.  10 ms of slack absorbs
        timer jitter of a sender pacing itself at exactly the rate."""
        rate = float(self.config["rate_limit_per_s"] or 0)
        if rate <= 0:
            return 0
        burst = max(1.0, float(self.config["rate_limit_burst"]))
        now = time.monotonic()
        level, last = self.buckets.get(bot, (burst, now))
        level = min(burst, level + (now - last + 0.01) * rate)
        if level < 1:
            self.buckets[bot] = (level, now)
            return (1 - level) / rate
        self.buckets[bot] = (level - 1, now)
        return 0

    def add_control(self, r):
        self.add_inbox_control(r)


if __name__ == "__main__":
    main(Slack, "Slack incoming webhook test double")
