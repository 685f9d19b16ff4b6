#!/usr/bin/env python3
"""Self-test of the notification receivers: slackdouble.py,
discorddouble.py and whreceiver.py, each started as the e2e harness does
(subprocess, --port 0).  test_signatures_against_library holds the
receiver's verification to the Standard Webhooks reference library (npm
`standardwebhooks`, pinned in tests/contract/package-lock.json), run by
node with NODE_PATH at tests/contract/node_modules or
$PBSYNC_NODE_MODULES; it is skipped when node or the package is missing.

    python3 tests/doubles/selftest_notify.py [-v] [-k PATTERN]

make check runs these tests through test_doubles.py.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from selftest import Proc, call  # noqa: E402
import whreceiver  # noqa: E402

NODE_MODULES = os.environ.get("PBSYNC_NODE_MODULES") or os.path.join(
    HERE, "..", "contract", "node_modules")
# notifications.md §3, worked example.
EXAMPLE = {"secret": "whsec_cGJzeW5jLWV4YW1wbGUtc2VjcmV0LTI0Yg==",
           "id": "msg_2Qx8Jk0", "ts": 1764835200,
           "body": '{"type":"feature.pushed","timestamp":"2025-12-04T08:00:'
                   '00Z","data":{"feature_id":"f1"}}',
           "signature": "v1,+XgKm2Lt9E9LnNsWwuDSUmaQTWWpAkvjTXv+QTLEVO0="}
SL = DC = WH = None


def setUpModule():
    global SL, DC, WH
    SL, DC, WH = (Proc("slackdouble.py"), Proc("discorddouble.py"),
                  Proc("whreceiver.py"))


def tearDownModule():
    for p in (SL, DC, WH):
        p.stop()


def post(url, body, headers=None, timeout=15):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    return call(url, "POST", body, h, timeout=timeout)


def signed(secret, body, msg_id="msg_1", ts=None, extra_sigs=()):
    ts = int(time.time()) if ts is None else ts
    sig = whreceiver.sign(secret, msg_id, ts, body.encode())
    return {"Content-Type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(ts),
            "webhook-signature": " ".join(list(extra_sigs) + [sig])}


def library_missing():
    if not shutil.which("node"):
        return "no node on PATH"
    if not os.path.isdir(os.path.join(NODE_MODULES, "standardwebhooks")):
        return "no standardwebhooks in %s (npm ci --prefix " \
            "tests/contract)" % NODE_MODULES
    return None


NODE_SCRIPT = r"""
const {Webhook} = require("standardwebhooks");
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = {signed: [], verified: []};
for (const c of input.sign)
  out.signed.push(new Webhook(c.secret).sign(c.id, new Date(c.ts * 1000),
                                             c.body));
for (const c of input.verify) {
  try {
    new Webhook(c.secret).verify(c.body, c.headers);
    out.verified.push("ok");
  } catch (e) { out.verified.push(e.message); }
}
console.log(JSON.stringify(out));
"""


def run_library(sign=(), verify=()):
    env = dict(os.environ, NODE_PATH=os.path.abspath(NODE_MODULES))
    r = subprocess.run(["node", "-e", NODE_SCRIPT], input=json.dumps(
        {"sign": list(sign), "verify": list(verify)}), env=env,
        capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


class Base(unittest.TestCase):
    proc = None

    def setUp(self):
        self.ctl("POST", "reset")

    def ctl(self, method, path, body=None, status=None):
        r = self.proc.ctl(method, path, body)
        if status is not None:
            self.assertEqual(r.status, status, r.text)
        return r

    def hook(self, **spec):
        return self.ctl("POST", "hooks", spec, 201).json

    def messages(self):
        return self.ctl("GET", "messages").json


class SlackTest(Base):
    def setUp(self):
        self.proc = SL
        super().setUp()
        self.ctl("POST", "config", {"rate_limit_per_s": 0})
        self.h = self.hook(team="T0001", bot="B0001", secret="s3cr3t",
                           channel="#eng")
        self.url = self.h["url"]

    def expect(self, r, status, body):
        self.assertEqual((r.status, r.text), (status, body))

    def test_accepts_text_blocks_and_form(self):
        self.assertTrue(self.url.endswith("/services/T0001/B0001/s3cr3t"))
        r = post(self.url, {"text": "Feature *Dark mode* pushed"})
        self.expect(r, 200, "ok")
        blocks = [{"type": "header", "text": {"type": "plain_text",
                                              "text": "Pushed"}},
                  {"type": "section", "text": {"type": "mrkdwn",
                                               "text": "x" * 3000},
                   "fields": [{"type": "mrkdwn", "text": "a"}]},
                  {"type": "divider"},
                  {"type": "context", "elements": [
                      {"type": "mrkdwn", "text": "by Ann"}]}]
        self.expect(post(self.url, {"blocks": blocks}), 200, "ok")
        self.expect(call(self.url, "POST", "payload=" + urllib.parse.quote(
            json.dumps({"text": "form"})), {"Content-Type":
                                            "application/x-www-form-"
                                            "urlencoded"}), 200, "ok")
        m = self.messages()
        self.assertEqual([x["text"] for x in m], [
            "Feature *Dark mode* pushed", "", "form"])
        self.assertEqual((m[0]["hook"], m[0]["channel"]), ("B0001", "#eng"))
        self.assertEqual(m[1]["blocks"], blocks)
        long = post(self.url, {"text": "y" * 40010})
        self.expect(long, 200, "ok")
        self.assertTrue(self.messages()[-1]["truncated"])
        self.assertEqual(len(self.messages()[-1]["text"]), 40000)
        log = self.ctl("GET", "requests").json
        self.assertEqual([x["status"] for x in log], [200] * 4)

    def test_pings_and_escaping_recorded(self):
        post(self.url, {"text": "<https://pb.example/f/1|Dark &amp; "
                        "light> by <@U42> &lt;b&gt; <!here>"})
        post(self.url, {"text": "Tom & Jerry <script> 1 > 0\n> quoted"})
        post(self.url, {"text": "@channel hi", "link_names": True})
        a, b, c = self.messages()
        self.assertEqual([p["mention"] for p in a["pings"]],
                         ["<@U42>", "<!here>"])
        self.assertEqual(a["escaping_problems"], [])
        self.assertEqual(sorted(p["problem"] for p in b[
            "escaping_problems"]), ["unescaped &", "unescaped <",
                                    "unescaped >"])
        self.assertEqual(b["pings"], [])
        self.assertEqual([p["mention"] for p in c["pings"]], ["@channel"])

    def test_payload_errors(self):
        cases = [
            ("not json", "invalid_payload"), ("[1]", "invalid_payload"),
            ({"text": 5}, "invalid_payload"), ({}, "no_text"),
            ({"text": "  "}, "no_text"), ({"blocks": []}, "no_text"),
            ({"blocks": {"type": "divider"}}, "invalid_blocks_format"),
            ({"blocks": [{"type": "divider"}] * 51}, "invalid_blocks"),
            ({"blocks": [{"type": "section", "text": {
                "type": "mrkdwn", "text": "x" * 3001}}]}, "invalid_blocks"),
            ({"blocks": [{"type": "section", "fields": [
                {"type": "mrkdwn", "text": "f"}] * 11}]}, "invalid_blocks"),
            ({"blocks": [{"type": "header", "text": {
                "type": "mrkdwn", "text": "h"}}]}, "invalid_blocks"),
            ({"blocks": [{"type": "header", "text": {
                "type": "plain_text", "text": "h" * 151}}]},
             "invalid_blocks"),
            ({"blocks": [{"type": "section"}]}, "invalid_blocks"),
            ({"blocks": [{"type": "banner"}]}, "invalid_blocks"),
            ({"blocks": [{"type": "divider", "block_id": "a"},
                         {"type": "divider", "block_id": "a"}]},
             "invalid_blocks"),
            ({"blocks": [{"type": "context", "elements": []}]},
             "invalid_blocks"),
            ({"blocks": [{"type": "section", "text": {
                "type": "mrkdwn", "text": ""}}]}, "invalid_blocks"),
            ({"text": "a", "attachments": [{}] * 101},
             "too_many_attachments")]
        got = [(post(self.url, body).status, error) for body, error in cases]
        self.assertEqual(got, [(400, error) for _, error in cases])
        self.assertEqual([r["error"] for r in self.ctl(
            "GET", "state").json["rejected"]], [e for _, e in cases])
        self.assertEqual(self.messages(), [])
        rej = self.ctl("GET", "state").json["rejected"]
        self.assertEqual(len(rej), len(cases))
        self.assertIn("3000", rej[8]["detail"])

    def test_hook_errors(self):
        base = self.url.rsplit("/", 3)[0]
        self.expect(post(base + "/T0001/B0001/wrong", {"text": "a"}),
                    403, "invalid_token")
        self.expect(post(base + "/T0001/B0002/s3cr3t", {"text": "a"}),
                    404, "no_service")
        self.expect(post(base + "/T0009/B0009/x", {"text": "a"}),
                    404, "no_team")
        for state, status, body in (
                ("disabled", 404, "no_service"),
                ("channel_not_found", 404, "channel_not_found"),
                ("prohibited", 403, "action_prohibited"),
                ("archived", 410, "channel_is_archived")):
            self.ctl("POST", "hooks", {"bot": "B0001", "state": state}, 200)
            self.expect(post(self.url, {"text": "a"}), status, body)
        self.ctl("POST", "hooks", {"bot": "B0001", "state": "nope"}, 400)
        self.ctl("DELETE", "hooks/B0001", None, 204)
        self.expect(post(self.url, {"text": "a"}), 404, "no_team")
        self.assertEqual(self.messages(), [])

    def test_rate_limit(self):
        self.ctl("POST", "config", {"rate_limit_per_s": 1})
        self.expect(post(self.url, {"text": "1"}), 200, "ok")
        r = post(self.url, {"text": "2"})
        self.expect(r, 429, "rate_limited")
        self.assertEqual(r.headers["retry-after"], "1")
        other = self.hook(bot="B0002")["url"]
        self.expect(post(other, {"text": "other hook"}), 200, "ok")
        time.sleep(1.0)
        self.expect(post(self.url, {"text": "3"}), 200, "ok")
        self.ctl("POST", "config", {"rate_limit_burst": 3})
        burst = self.hook(bot="B0003")["url"]
        self.assertEqual([post(burst, {"text": str(i)}).status
                          for i in range(4)], [200, 200, 200, 429])
        self.assertEqual(len(self.messages()), 6)

    def test_faults_and_seed(self):
        self.ctl("POST", "faults", {"match": "B0001", "status": 500})
        self.expect(post(self.url, {"text": "a"}), 500, "rollup_error")
        self.ctl("POST", "faults", {"match": "B0001", "status": 429})
        r = post(self.url, {"text": "a"})
        self.assertEqual((r.status, r.headers["retry-after"]), (429, "1"))
        self.ctl("POST", "faults", {"match": "B0001", "drop": True})
        with self.assertRaises((ConnectionError, urllib.error.URLError,
                                OSError)):
            post(self.url, {"text": "a"})
        self.ctl("POST", "faults", {"match": "B0001", "delay": 1})
        with self.assertRaises(OSError):
            post(self.url, {"text": "slow"}, timeout=0.3)
        time.sleep(0.8)
        self.assertEqual([m["text"] for m in self.messages()], ["slow"])
        st = self.ctl("POST", "seed", {"hooks": [
            {"team": "T7", "bot": "B7", "secret": "k"}]}, 200).json
        self.assertEqual(len(st["hooks"]), 2)
        self.expect(post(st["hooks"][1]["url"], {"text": "a"}), 200, "ok")


class DiscordTest(Base):
    def setUp(self):
        self.proc = DC
        super().setUp()
        self.ctl("POST", "config", {"rate_limit": 0})
        self.h = self.hook(id="111", token="tok", name="pbsync")
        self.url = self.h["url"]

    def error(self, r, status, code, message=None):
        self.assertEqual((r.status, r.json["code"]), (status, code), r.text)
        if message:
            self.assertEqual(r.json["message"], message)
        return r.json.get("errors")

    def test_execute(self):
        self.assertTrue(self.url.endswith("/api/webhooks/111/tok"))
        self.ctl("POST", "config", {"rate_limit": 5})
        r = post(self.url, {"content": "hi", "allowed_mentions":
                            {"parse": []}})
        self.assertEqual((r.status, r.text), (204, ""))
        for k in ("x-ratelimit-limit", "x-ratelimit-remaining",
                  "x-ratelimit-reset", "x-ratelimit-reset-after",
                  "x-ratelimit-bucket"):
            self.assertIn(k, r.headers)
        r = post(self.url.replace("/api/", "/api/v10/") + "?wait=true",
                 {"embeds": [{"title": "Dark mode", "fields": [
                     {"name": "Issue", "value": "#12"}]}],
                  "username": "pbsync"})
        self.assertEqual(r.status, 200, r.text)
        m = r.json
        self.assertEqual((m["webhook_id"], m["author"]["username"],
                          m["author"]["bot"], m["embeds"][0]["type"]),
                         ("111", "pbsync", True, "rich"))
        self.assertTrue(m["id"].isdigit())
        got = self.messages()
        self.assertEqual([x["wait"] for x in got], [False, True])
        self.assertEqual(got[1]["message_id"], m["id"])

    def test_validation(self):
        cases = [
            ({"content": "x" * 2001}, ["content"]),
            ({"embeds": [{"title": "t"}] * 11}, ["embeds"]),
            ({"embeds": [{"title": "t" * 257, "description": "d" * 4097,
                          "footer": {"text": "f" * 2049},
                          "author": {"name": "a" * 257}}]}, ["embeds"]),
            ({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]},
             ["embeds"]),
            ({"embeds": [{"fields": [{"name": "n" * 257, "value": ""}]}]},
             ["embeds"]),
            ({"embeds": [{"description": "d" * 4000}, {
                "description": "d" * 2001}]}, ["embeds"]),
            ({"content": "a", "username": "x" * 81}, ["username"]),
            ({"content": "a", "username": "My Discord bot"}, ["username"]),
            ({"content": "a", "allowed_mentions": {"parse": ["users"],
                                                   "users": ["1"]}},
             ["allowed_mentions"]),
            ({"content": "a", "allowed_mentions": {"parse": ["all"]}},
             ["allowed_mentions"])]
        for body, keys in cases:
            errors = self.error(post(self.url, body), 400, 50035,
                                "Invalid Form Body")
            self.assertEqual(sorted(errors), keys, str(body)[:80])
        total = post(self.url, cases[5][0]).json["errors"]["embeds"]
        self.assertEqual(total["_errors"][0]["code"],
                         "MAX_EMBED_SIZE_EXCEEDED")
        title = post(self.url, cases[2][0]).json["errors"]["embeds"]["0"]
        self.assertEqual(sorted(title), ["author", "description", "footer",
                                         "title"])
        self.assertEqual(title["title"]["_errors"][0]["message"],
                         "Must be 256 or fewer in length.")
        ok = {"content": "c" * 2000, "embeds": [
            {"title": "t" * 256, "description": "d" * 4096,
             "fields": [{"name": "n", "value": "v" * 1024}]}] +
            [{"title": "t"}] * 9}
        self.assertEqual(post(self.url, ok).status, 204)
        self.error(post(self.url, {}), 400, 50006,
                   "Cannot send an empty message")
        self.error(post(self.url, {"content": ""}), 400, 50006)
        self.error(post(self.url, "{"), 400, 50109)
        self.error(post(self.url + "?wait=maybe", {"content": "a"}), 400,
                   50035)

    def test_unknown_webhook_and_token(self):
        base = self.url.rsplit("/", 2)[0]
        self.error(post(base + "/222/tok", {"content": "a"}), 404, 10015,
                   "Unknown Webhook")
        self.error(post(base + "/111/nope", {"content": "a"}), 401, 50027,
                   "Invalid Webhook Token")
        self.ctl("DELETE", "hooks/111", None, 204)
        self.error(post(self.url, {"content": "a"}), 404, 10015)
        self.assertEqual(self.messages(), [])

    def test_mentions_recorded(self):
        text = "@everyone <@42> <@!43> <@&7> done"
        post(self.url, {"content": text, "allowed_mentions": {"parse": []}})
        post(self.url, {"content": text})
        post(self.url, {"content": text, "allowed_mentions": {
            "parse": ["roles"], "users": ["43"]}})
        post(self.url, {"embeds": [{"description": "@everyone <@42>"}]})
        a, b, c, d = self.messages()
        self.assertEqual((a["allowed_mentions_sent"], a["allowed_mentions"],
                          a["pings"]["any"]), (True, {"parse": []}, False))
        self.assertEqual((b["allowed_mentions_sent"], b["pings"]), (False, {
            "everyone": True, "users": ["42", "43"], "roles": ["7"],
            "any": True}))
        self.assertEqual((c["pings"]["users"], c["pings"]["roles"],
                          c["pings"]["everyone"]), (["43"], ["7"], False))
        self.assertFalse(d["pings"]["any"])

    def test_rate_limit(self):
        self.ctl("POST", "config", {"rate_limit": 2, "rate_window": 1})
        rs = [post(self.url, {"content": str(i)}) for i in range(3)]
        self.assertEqual([r.status for r in rs], [204, 204, 429])
        self.assertEqual([r.headers["x-ratelimit-remaining"] for r in rs],
                         ["1", "0", "0"])
        r = rs[2]
        self.assertEqual((r.json["message"], r.json["global"]),
                         ("You are being rate limited.", False))
        self.assertIsInstance(r.json["retry_after"], float)
        self.assertTrue(0 < r.json["retry_after"] <= 1)
        self.assertEqual((r.headers["retry-after"],
                          r.headers["x-ratelimit-scope"]), ("1", "user"))
        time.sleep(r.json["retry_after"] + 0.05)
        self.assertEqual(post(self.url, {"content": "again"}).status, 204)
        self.ctl("POST", "config", {"retry_after_unit": "ms"})
        post(self.url, {"content": "x"})
        ms = post(self.url, {"content": "y"}).json["retry_after"]
        self.assertTrue(50 < ms <= 1000, ms)
        self.assertEqual(len(self.messages()), 4)

    def test_faults(self):
        self.ctl("POST", "faults", {"match": "webhooks/111", "status": 500})
        self.error(post(self.url, {"content": "a"}), 500, 0,
                   "500: Internal Server Error")
        self.ctl("POST", "faults", {"match": "webhooks/111", "status": 429})
        r = post(self.url, {"content": "a"})
        self.assertEqual((r.status, r.json["retry_after"]), (429, 1.0))
        self.ctl("POST", "faults", {"match": "webhooks/111", "drop": True})
        with self.assertRaises(OSError):
            post(self.url, {"content": "a"})
        self.assertEqual(len(self.ctl("GET", "requests").json), 3)


class ReceiverTest(Base):
    def setUp(self):
        self.proc = WH
        super().setUp()
        self.secret = EXAMPLE["secret"]
        self.h = self.hook(name="ep", secrets=[self.secret])
        self.url = self.h["url"]
        self.body = json.dumps({"type": "feature.pushed", "timestamp":
                                "2025-12-04T08:00:00Z", "data": {
                                    "feature_id": "f1", "name": "Été 🚀"}},
                               ensure_ascii=False)

    def test_worked_example(self):
        body = EXAMPLE["body"].encode()
        self.assertEqual(whreceiver.sign(self.secret, EXAMPLE["id"],
                                         EXAMPLE["ts"], body),
                         EXAMPLE["signature"])
        headers = {"webhook-id": EXAMPLE["id"], "webhook-timestamp":
                   str(EXAMPLE["ts"]), "webhook-signature":
                   EXAMPLE["signature"]}
        self.assertTrue(whreceiver.verify([self.secret], headers, body,
                                          now=EXAMPLE["ts"] + 299)[
                                              "verified"])
        for now, reason in ((EXAMPLE["ts"] + 301, "timestamp too old"),
                            (EXAMPLE["ts"] - 301, "timestamp too new")):
            self.assertEqual(whreceiver.verify([self.secret], headers, body,
                                               now=now)["reason"], reason)

    def test_verify_over_http(self):
        r = call(self.url, "POST", self.body.encode(),
                 signed(self.secret, self.body))
        self.assertEqual(r.status, 204, r.text)
        cases = [
            (self.body + " ", signed(self.secret, self.body),
             "no matching signature"),
            (self.body, signed(self.secret, self.body, ts=int(
                time.time()) - 400), "timestamp too old"),
            (self.body, signed(self.secret, self.body, ts=int(
                time.time()) + 400), "timestamp too new"),
            (self.body, signed(whreceiver.new_secret(), self.body),
             "no matching signature"),
            (self.body, dict(signed(self.secret, self.body),
                             **{"webhook-timestamp": "soon"}),
             "invalid timestamp"),
            (self.body, {"Content-Type": "application/json"},
             "missing headers")]
        for body, headers, reason in cases:
            r = call(self.url, "POST", body.encode(), headers)
            self.assertEqual((r.status, r.json["error"]), (401, reason))
        m = self.messages()
        self.assertEqual([x["verified"] for x in m], [True] + [False] * 6)
        self.assertEqual((m[0]["secret_index"], m[0]["secret"],
                          m[0]["envelope_problems"], m[0]["body"]["data"][
                              "name"]), (0, self.secret, [], "Été 🚀"))
        self.assertEqual(m[1]["reason"], "no matching signature")

    def test_rotation_duplicates_and_failures(self):
        new = whreceiver.new_secret(32)
        self.ctl("POST", "hooks", {"name": "ep", "secrets": [new,
                                                             self.secret]},
                 200)
        old_sig = whreceiver.sign(self.secret, "msg_r", int(time.time()),
                                  self.body.encode())
        h = signed(new, self.body, "msg_r", extra_sigs=[old_sig])
        for _ in range(2):
            self.assertEqual(call(self.url, "POST", self.body.encode(),
                                  h).status, 204)
        a, b = self.messages()
        self.assertEqual([s["matches"] for s in a["signatures"]], [1, 0])
        self.assertEqual((a["secret_index"], a["duplicate"],
                          b["duplicate"]), (1, False, True))
        for status in (200, 301, 410, 500):
            self.ctl("POST", "hooks", {"name": "ep", "status": status}, 200)
            r = call(self.url, "POST", self.body.encode(),
                     signed(self.secret, self.body, "msg_%d" % status))
            self.assertEqual(r.status, status)
        self.assertEqual(self.messages()[-1]["status"], 500)
        self.ctl("POST", "hooks", {"name": "ep", "secrets": ["nope!"]}, 400)
        self.ctl("POST", "faults", {"match": "/webhooks/ep", "status": 503})
        r = call(self.url, "POST", self.body.encode(),
                 signed(self.secret, self.body))
        self.assertEqual(r.status, 503)
        self.assertEqual(call(WH.url + "/webhooks/other", "POST", "{}",
                              signed(self.secret, "{}")).status, 404)
        self.assertEqual(whreceiver.envelope_problems({"type": "x"}), [
            "timestamp is not RFC 3339", "data is not an object"])

    def test_signatures_against_library(self):
        why = library_missing()
        if why:
            self.skipTest(why)
        now = int(time.time())
        raw_secret = base64.b64encode(b"k" * 32).decode()   # no whsec_
        fresh = whreceiver.new_secret()
        self.ctl("POST", "hooks", {"name": "ep", "secrets": [
            self.secret, fresh, raw_secret]}, 200)
        # The library signs, the receiver verifies.
        cases = [(self.secret, "msg_a", now, self.body),
                 (fresh, "msg_b", now - 200, self.body),
                 ("whsec_" + raw_secret, "msg_c", now, "{}"),
                 (fresh, "msg_d", now - 400, self.body),
                 (EXAMPLE["secret"], EXAMPLE["id"], EXAMPLE["ts"],
                  EXAMPLE["body"])]
        out = run_library(sign=[{"secret": s, "id": i, "ts": t, "body": b}
                                for s, i, t, b in cases])["signed"]
        self.assertEqual(out[4], EXAMPLE["signature"])
        for (s, i, t, b), sig in zip(cases[:4], out):
            headers = {"Content-Type": "application/json", "webhook-id": i,
                       "webhook-timestamp": str(t),
                       "webhook-signature": sig}
            call(self.url, "POST", b.encode(), headers)
            call(self.url, "POST", (b + "x").encode(), headers)
        got = [(m["verified"], m["secret_index"], m["reason"])
               for m in self.messages()]
        self.assertEqual(got, [
            (True, 0, None), (False, None, "no matching signature"),
            (True, 1, None), (False, None, "no matching signature"),
            (True, 2, None), (False, None, "no matching signature"),
            (False, None, "timestamp too old"),
            (False, None, "timestamp too old")])
        # The receiver's signer signs, the library verifies.
        now = int(time.time())
        rotated = signed(fresh, self.body, "msg_e", now, extra_sigs=[
            whreceiver.sign(self.secret, "msg_e", now, self.body.encode())])
        checks = [(self.secret, self.body, signed(self.secret, self.body)),
                  (fresh, self.body, rotated),
                  (self.secret, self.body, rotated),
                  (self.secret, self.body + " ",
                   signed(self.secret, self.body)),
                  (self.secret, self.body, signed(
                      self.secret, self.body, ts=now - 400)),
                  (fresh, self.body, signed(self.secret, self.body))]
        verdicts = run_library(verify=[
            {"secret": s, "body": b, "headers": h} for s, b, h in checks])
        self.assertEqual(verdicts["verified"], [
            "ok", "ok", "ok", "No matching signature found",
            "Message timestamp too old", "No matching signature found"])


class SandboxTest(unittest.TestCase):
    def test_sandbox_urls_work(self):
        for script, body, ok in (
                ("slackdouble.py", {"text": "hello"}, 200),
                ("discorddouble.py", {"content": "hello"}, 204)):
            p = Proc(script, "--sandbox")
            try:
                url = [w for w in p.extra[0].split() if "://" in w][0]
                self.assertEqual(post(url.rstrip(";"), body).status, ok)
                self.assertEqual(len(p.ctl("GET", "messages").json), 1)
            finally:
                p.stop()
        p = Proc("whreceiver.py", "--sandbox")
        try:
            h = p.ctl("GET", "state").json["hooks"][0]
            self.assertIn(h["url"], p.extra[0])
            r = call(h["url"], "POST", b"{}", signed(h["secrets"][0], "{}"))
            self.assertEqual(r.status, 204)
        finally:
            p.stop()


if __name__ == "__main__":
    unittest.main()
