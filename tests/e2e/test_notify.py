"""Notifications and the JSON API, end to end: channels connected through
/api/v1 (and pbsyncctl), events of pushes, unlinks and failures delivered
by the job queue to the Slack, Discord and signed-webhook doubles, each in
its own format, retried, paced, and never in the way of a sync."""
import json
import os
import re
import subprocess
import time

from harness import AdminSession, Double, Stack, Tap, free_port, wait_for
import fixtures as fx

t = Tap()
# Only the worker runs jobs, so its two lanes are what is tested.
s = Stack(env={"PBSYNC_PUSH_BUDGET_MS": "2500", "PBSYNC_JOB_BUDGET_MS": "0"})
slack = Double("slackdouble.py", s.dir, "slackdouble")
discord = Double("discorddouble.py", s.dir, "discorddouble")
wh = Double("whreceiver.py", s.dir, "whreceiver")
SLACK_SECRET = "slk-secret-0123456789abcdef"
DISCORD_TOKEN = "dsc-token-0123456789abcdef"
slack.call("POST", "/_double/hooks", {"team": "T0001", "bot": "B0001",
                                      "secret": SLACK_SECRET})
discord.call("POST", "/_double/hooks", {"id": "1300000000000000042",
                                        "token": DISCORD_TOKEN})
SLACK_URL = slack.url + "/services/T0001/B0001/" + SLACK_SECRET
DISCORD_URL = discord.url + "/api/webhooks/1300000000000000042/" + DISCORD_TOKEN
WH_URL = wh.url + "/webhooks/team"


def api(method, path, body=None, token=None, headers=None):
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = "Bearer " + token
    return s.request(method, "/api/v1" + path, body, h)


def channel_path(type_, test=False):
    return "/integrations/%s/channels/%s%s" % (iid, type_,
                                              "/test" if test else "")


def messages(d, since=0):
    return [m for m in d.call("GET", "/_double/messages") if m["seq"] > since]


def last_seq(d):
    m = d.call("GET", "/_double/messages")
    return m[-1]["seq"] if m else 0


def jobs(where="1"):
    return s.sql("SELECT kind, key, state, attempts, last_error FROM job"
                 " WHERE kind = 'notify' AND " + where)


def settled(timeout=30):
    return wait_for(lambda: not jobs("state != 'dead'"), timeout, 0.2)


def texts(m):
    """Everything a Slack or Discord message shows, as one string."""
    return json.dumps(m.get("body") or m, ensure_ascii=False)


try:
    fx.seed(s)
    rc, iid, err = fx.create_integration(s, name="Mobile team")
    if rc != 0:
        raise SystemExit(err)
    pid = fx.plugin_id(s, iid)
    s.start_worker()
    admin_tok = s.ctl("token", "add", "ops", "--role", "admin").stdout.strip()
    page = AdminSession(s)
    viewer_tok = s.ctl("token", "add", "dash", "--role",
                       "viewer").stdout.strip()

    # -- API: auth and errors --------------------------------------------
    r0 = api("GET", "/integrations")
    r1 = api("GET", "/integrations", token="pbs_wrong")
    r2 = api("PUT", channel_path("slack"), {"url": SLACK_URL},
             token=viewer_tok)
    r3 = api("GET", "/integrations", token=viewer_tok)
    t.ok(r0.status == 401 and r1.status == 401 and
         r0.json()["success"] is False and
         "bearer" in r0.headers.get("www-authenticate", "").lower() and
         r2.status == 403 and r2.json()["success"] is False and
         r3.status == 200 and [i["id"] for i in r3.json()["integrations"]]
         == [iid] and "set-cookie" not in r3.headers,
         "API: no token and a wrong one 401, a viewer writing 403, a viewer "
         "reading 200, no cookie",
         [r0.status, r1.status, r2.status, r3.status])
    bad = {
        "unknown integration": api("GET", "/integrations/%s/channels" %
                                   ("0" * 32), token=admin_tok),
        "unknown type": api("PUT", channel_path("teams"), {"url": SLACK_URL},
                            token=admin_tok),
        "malformed JSON": api("PUT", channel_path("slack"), "{\"url\": ",
                              token=admin_tok),
        "not JSON": api("PUT", channel_path("slack"), "url=x", token=admin_tok,
                        headers={"Content-Type":
                                 "application/x-www-form-urlencoded"}),
        "too large": api("PUT", channel_path("slack"),
                         {"url": SLACK_URL, "pad": "x" * 20000},
                         token=admin_tok),
        "unknown event": api("PUT", channel_path("slack"),
                             {"url": SLACK_URL, "events": ["feature.eaten"]},
                             token=admin_tok),
        "no such channel": api("DELETE", channel_path("discord"),
                               token=admin_tok),
        "no route": api("GET", "/nothing", token=admin_tok),
    }
    want = {"unknown integration": 404, "unknown type": 422,
            "malformed JSON": 400, "not JSON": 415, "too large": 413,
            "unknown event": 422, "no such channel": 404, "no route": 404}
    got = {k: v.status for k, v in bad.items()}
    t.ok(got == want and all(v.json()["success"] is False and
                             v.json()["message"] for v in bad.values()) and
         not s.sql("SELECT 1 FROM channel"),
         "API: each documented error code, a message, nothing stored",
         {k: (v.status, v.body[:80]) for k, v in bad.items()})

    # -- URLs pbsync does not call -----------------------------------------
    strict = {"PBSYNC_ALLOW_PRIVATE_UPSTREAMS": "false"}
    refused = {u: s.ctl("channel", "connect", iid, "slack", u, env=strict,
                        check=False)
               for u in ("http://hooks.example.com/services/x",
                         "https://127.0.0.1/hook", "https://10.1.2.3/hook",
                         "https://[::1]/hook", "https://localhost/hook",
                         "ftp://hooks.example.com/x")}
    t.ok(all(r.returncode == 1 and ("https://" in r.stderr or
                                    "private" in r.stderr)
             for r in refused.values()) and
         not s.sql("SELECT 1 FROM channel"),
         "plain http, loopback, private and other schemes refused as "
         "channel URLs (without allow_private_upstreams)",
         {u: (r.returncode, r.stderr.strip()) for u, r in refused.items()})

    # -- connect ---------------------------------------------------------
    rs = api("PUT", channel_path("slack"), {"url": SLACK_URL, "events":
                                            ["feature.pushed"]},
             token=admin_tok)
    rd = api("PUT", channel_path("discord"), {"url": DISCORD_URL},
             token=admin_tok)
    rw = api("PUT", channel_path("webhook"), {"url": WH_URL}, token=admin_tok)
    secret = rw.json().get("secret", "")
    wh.call("POST", "/_double/hooks", {"name": "team", "secrets": [secret]})
    listing = api("GET", "/integrations/%s/channels" % iid, token=viewer_tok)
    chans = {c["type"]: c for c in listing.json().get("channels", [])}
    stored = s.sql("SELECT url, secret FROM channel")
    t.ok(rs.status == 200 and rd.status == 200 and rw.status == 200 and
         secret.startswith("whsec_") and "secret" not in rs.json() and
         chans.get("slack", {}).get("url") == "..." + SLACK_SECRET[-4:] and
         chans["slack"]["events"] == "feature.pushed" and
         chans["discord"]["events"] == "*" and
         SLACK_SECRET not in listing.body.decode() and
         all(SLACK_SECRET not in (u or "") and DISCORD_TOKEN not in (u or "")
             and secret not in (x or "") for u, x in stored),
         "API: three channels connected; the webhook's secret shown once; "
         "URLs listed by their last 4 characters and stored sealed",
         [rs.body, rd.body, listing.body])

    # -- the test route ----------------------------------------------------
    seq = {d: last_seq(d) for d in (slack, discord, wh)}
    tests = {ty: api("POST", channel_path(ty, True), token=admin_tok).json()
             for ty in ("slack", "discord", "webhook")}
    got_s, got_d = messages(slack, seq[slack]), messages(discord, seq[discord])
    got_w = messages(wh, seq[wh])
    t.ok(all(v["success"] for v in tests.values()) and
         len(got_s) == 1 and "Mobile team" in texts(got_s[0]) and
         len(got_d) == 1 and "Mobile team" in texts(got_d[0]) and
         len(got_w) == 1 and got_w[0]["verified"] and
         got_w[0]["body"]["type"] == "pbsync.test" and
         got_w[0]["body"]["data"]["integration_name"] == "Mobile team",
         "test route: a sample naming the integration reaches each channel",
         [tests, got_s, got_d, got_w])

    # -- the test route's failures, in words -------------------------------
    def test_with(url, type_="webhook"):
        api("PUT", channel_path(type_), {"url": url}, token=admin_tok)
        return api("POST", channel_path(type_, True),
                   token=admin_tok).json()

    kinds = {
        "DNS": test_with("https://no-such-host.invalid/hook"),
        "refused": test_with("http://127.0.0.1:%d/hook" % free_port()),
        "TLS": test_with(wh.url.replace("http://", "https://") + "/x"),
        "status": test_with(slack.url + "/services/T0001/B0999/x", "slack"),
    }
    t.ok(all(not v["success"] for v in kinds.values()) and
         "resolve" in kinds["DNS"]["message"].lower() and
         re.search(r"refused|connect", kinds["refused"]["message"], re.I) and
         re.search(r"ssl|tls", kinds["TLS"]["message"], re.I) and
         "404" in kinds["status"]["message"] and
         "no_service" in kinds["status"]["message"],
         "test route: DNS failure, refused, TLS error and the receiver's "
         "status and error text, each said", kinds)
    api("PUT", channel_path("webhook"), {"url": WH_URL}, token=admin_tok)
    api("PUT", channel_path("slack"), {"url": SLACK_URL, "events":
                                       ["feature.pushed"]}, token=admin_tok)
    wh.call("POST", "/_double/faults", {"match": "", "delay": 12,
                                        "count": 1})
    t0 = time.monotonic()
    slow = api("POST", channel_path("webhook", True), token=admin_tok,
               ).json()
    took = time.monotonic() - t0
    wh.call("DELETE", "/_double/faults")
    t.ok(not slow["success"] and "10 s" in slow["message"] and 9 < took < 12,
         "test route: a receiver that hangs is a timeout after 10 s",
         [slow, round(took, 1)])

    # -- events ------------------------------------------------------------
    seq = {d: last_seq(d) for d in (slack, discord, wh)}
    fid = fx.feature(s, "Offline @everyone <!channel> *mode* & more")
    r = fx.click(s, pid, fid)
    settled()
    got_s, got_d = messages(slack, seq[slack]), messages(discord, seq[discord])
    got_w = messages(wh, seq[wh])
    issue_url = [i for i in fx.issues(s)][-1].get("web_url", "")
    t.ok(len(got_s) == 1 and len(got_d) == 1 and len(got_w) == 1 and
         got_w[0]["body"]["type"] == "feature.pushed" and
         got_w[0]["body"]["version"] == 1 and
         got_w[0]["body"]["data"]["feature_id"] == fid and
         got_w[0]["body"]["data"]["actor"].startswith("Jane PM") and
         issue_url and issue_url in texts(got_s[0]) and
         issue_url in texts(got_d[0]),
         "feature.pushed reaches all three channels, with the issue's link "
         "and who pushed", [got_s, got_d, got_w])
    t.ok(not got_s[0].get("pings") and not got_s[0].get("escaping_problems")
         and got_d[0]["allowed_mentions_sent"] and
         got_d[0]["allowed_mentions"] == {"parse": []} and
         not got_d[0]["pings"]["any"] and
         not got_w[0]["envelope_problems"] and got_w[0]["verified"],
         "messages are valid for each service: nobody pinged, text escaped, "
         "the envelope complete and signed", [got_s, got_d, got_w])

    seq = {d: last_seq(d) for d in (slack, discord, wh)}
    fx.click(s, pid, fid, "button.unlink")
    settled()
    got_s, got_d = messages(slack, seq[slack]), messages(discord, seq[discord])
    got_w = messages(wh, seq[wh])
    t.ok(not got_s and len(got_d) == 1 and len(got_w) == 1 and
         got_w[0]["body"]["type"] == "feature.unlinked",
         "feature.unlinked reaches the channels whose filter has it, and "
         "only those", [got_s, got_d, got_w])

    # -- retries, dead, and the sync untouched -----------------------------
    seq = {d: last_seq(d) for d in (slack, discord, wh)}
    wh.call("POST", "/_double/hooks", {"name": "team", "status": 500})
    fid2 = fx.feature(s, "Widgets")
    fx.click(s, pid, fid2)
    dead = wait_for(lambda: jobs("state = 'dead' AND key LIKE 'webhook:%'"),
                    40, 0.2)
    dead_id = dead[0][1].split(":", 1)[1] if dead else None
    tries = [m for m in wh.call("GET", "/_double/messages")
             if m["seq"] > seq[wh] and m["webhook_id"] == dead_id]
    gaps = [round(b["ts"] - a["ts"], 1) for a, b in zip(tries, tries[1:])]
    ch = s.sql("SELECT failures, last_error FROM channel WHERE type ="
               " 'webhook'")[0]
    # Backoff with full jitter: [2, 4] s, then [4, 8] s.
    t.ok(dead and len(tries) == 3 and dead[0][3] == 3 and
         len(gaps) == 2 and 1.9 <= gaps[0] <= 4.6 and
         3.9 <= gaps[1] <= 8.6 and gaps[1] >= gaps[0] and
         ch[0] == 1 and "500" in (ch[1] or ""),
         "a receiver answering 500: three attempts with the same id and "
         "growing gaps, then dead; the channel counts the failure",
         [gaps, ch, dead])
    st, html = page.get("/admin/i/%s" % iid)
    row = re.search(r"<td>webhook</td>.*?</tr>", html, re.S)
    t.ok(st == 200 and row and "failing" in row.group(0) and
         "500" in row.group(0) and "<code>...team</code>" in row.group(0)
         and "/webhooks/team" not in html,
         "the integration page flags the failing channel with its error, "
         "and shows URLs only by their end", row and row.group(0))
    wh.call("POST", "/_double/hooks", {"name": "team", "status": 204})
    # Two receivers hang: the notifications' runner is busy, the sync's
    # is not.
    discord.call("POST", "/_double/faults", {"match": "", "delay": 30})
    wh.call("POST", "/_double/faults", {"match": "", "delay": 30})
    fid4 = fx.feature(s, "Gadgets")
    t0 = time.monotonic()
    r = fx.click(s, pid, fid4)
    push_took = time.monotonic() - t0
    hanging = wait_for(lambda: jobs("state = 'leased' AND key LIKE "
                                    "'discord:%'"), 10, 0.1)
    s.pb.call("PATCH", "/_double/features/" + fid4, {"name": "Gadgets 2"})
    t0 = time.monotonic()
    synced = wait_for(lambda: [i for i in fx.issues(s)
                               if i["title"] == "Gadgets 2"], 15, 0.1)
    sync_took = time.monotonic() - t0
    t.ok(r.get("connection", {}).get("state") == "connected" and
         push_took < 5 and bool(hanging) and synced and sync_took < 6,
         "while Discord hangs on a message, the push answers in time and "
         "a rename syncs at once (notifications have their own runner)",
         [r, round(push_took, 2), bool(hanging), round(sync_took, 2)])
    discord.call("DELETE", "/_double/faults")
    wh.call("DELETE", "/_double/faults")
    settled(60)

    # -- the sync's events -------------------------------------------------
    def events_since(n):
        return [(m["body"]["type"], m["body"]["data"].get("from"),
                 m["body"]["data"].get("to")) for m in messages(wh, n)]

    n = last_seq(wh)
    gl_iid = [i for i in fx.issues(s) if i["title"] == "Gadgets 2"][0]["iid"]
    s.gl.call("PUT", "/_double/projects/%d/issues/%d" % (fx.PROJECT, gl_iid),
              {"state_event": "close", "as_user": "alice"})
    wait_for(lambda: len(events_since(n)) >= 2, 20, 0.2)
    got = events_since(n)
    t.ok(("issue.state_changed", "opened", "closed") in got and
         [e for e in got if e[0] == "feature.status_changed" and
          e[2] is None] and len(got) == 2,
         "closing the issue: issue.state_changed (opened to closed) and "
         "feature.status_changed (set by pbsync), once each", got)
    n = last_seq(wh)
    s.gl.call("POST", "/_double/faults", {"match": "PUT .*/issues/",
                                          "status": 401, "count": 1})
    s.pb.call("PATCH", "/_double/features/" + fid4, {"name": "Gadgets 3"})
    wait_for(lambda: len(events_since(n)) >= 2, 20, 0.2)
    got = events_since(n)
    health = api("GET", "/integrations", token=viewer_tok).json()
    t.ok(sorted(e[0] for e in got) == ["integration.unhealthy",
                                       "sync.failed"] and
         health["integrations"][0]["healthy"] is False,
         "GitLab refuses the token: sync.failed and integration.unhealthy, "
         "and the API says the integration is unhealthy", [got, health])
    s.gl.call("DELETE", "/_double/faults")

    # -- gone for good -----------------------------------------------------
    slack.call("POST", "/_double/hooks", {"bot": "B0001", "state":
                                          "disabled"})
    fid3 = fx.feature(s, "Gone hook")
    fx.click(s, pid, fid3)
    wait_for(lambda: jobs("state = 'dead' AND key LIKE 'slack:%'"), 20, 0.2)
    sdead = jobs("state = 'dead' AND key LIKE 'slack:%'")
    sch = s.sql("SELECT active, last_error FROM channel WHERE type ="
                " 'slack'")[0]
    t.ok(sdead and sdead[0][3] == 1 and sch[0] == 0 and
         "no_service" in sch[1],
         "Slack says no_service: dead at the first attempt and the channel "
         "turned off", [sdead, sch])
    slack.call("POST", "/_double/hooks", {"bot": "B0001", "state": "active"})
    again = api("PUT", channel_path("slack"), {"url": SLACK_URL, "events":
                                               ["feature.pushed"]},
                token=admin_tok)
    t.ok(again.status == 200 and "turned on" in again.json()["message"] and
         s.sql("SELECT active, failures FROM channel WHERE type = 'slack'")
         == [(1, 0)],
         "connecting an existing type updates it and turns it back on",
         again.body)

    # -- Slack pacing under a burst ----------------------------------------
    seq[slack] = last_seq(slack)
    burst = [fx.feature(s, "Burst %d" % i) for i in range(4)]
    for f in burst:
        fx.click(s, pid, f)
    wait_for(lambda: len(messages(slack, seq[slack])) >= 4, 40, 0.2)
    got_s = messages(slack, seq[slack])
    rejected = [x for x in slack.call("GET", "/_double/state")["rejected"]
                if x["status"] == 429]
    ts = [m["ts"] for m in got_s]
    t.ok(len(got_s) == 4 and not rejected and
         all(b - a >= 0.95 for a, b in zip(ts, ts[1:])),
         "Slack pacing: a burst of four pushes, four messages at least a "
         "second apart, none refused", [len(got_s), len(rejected), ts])

    # -- rotation ----------------------------------------------------------
    old = secret
    r = s.ctl("channel", "rotate", iid, "webhook")
    new = r.stdout.strip().split()[-1]
    wh.call("POST", "/_double/hooks", {"name": "team", "secrets": [old]})
    seq[wh] = last_seq(wh)
    api("POST", channel_path("webhook", True), token=admin_tok)
    wh.call("POST", "/_double/hooks", {"name": "team", "secrets": [new]})
    api("POST", channel_path("webhook", True), token=admin_tok)
    got_w = messages(wh, seq[wh])
    t.ok(new.startswith("whsec_") and new != old and len(got_w) == 2 and
         all(m["verified"] and len(m["signatures"]) == 2 for m in got_w),
         "rotation: deliveries carry both signatures, so receivers with the "
         "old secret and with the new one both verify", got_w)

    # -- the README's verification snippets on a real delivery -------------
    readme = open(os.path.join(os.environ["top_srcdir"], "README.md")).read()
    py = re.search(r"```python\n(# verify.*?)```", readme, re.S)
    js = re.search(r"```js\n(// verify.*?)```", readme, re.S)
    m = got_w[-1]
    env = dict(os.environ, WEBHOOK_SECRET=new)
    ok_py = ok_js = None
    if py:
        code = py.group(1) + ("\nprint(verify(%r, %r))\n" % (
            {"webhook-id": m["webhook_id"],
             "webhook-timestamp": str(m["timestamp"]),
             "webhook-signature": " ".join(x["signature"]
                                          for x in m["signatures"])},
            m["raw"]))
        ok_py = subprocess.run(["python3", "-c", code], env=env,
                               capture_output=True, text=True).stdout.strip()
    if js:
        code = js.group(1) + ("\nconsole.log(verify(%s, %s));\n" % (
            json.dumps({"webhook-id": m["webhook_id"],
                        "webhook-timestamp": str(m["timestamp"]),
                        "webhook-signature": " ".join(
                            x["signature"] for x in m["signatures"])}),
            json.dumps(m["raw"])))
        ok_js = subprocess.run(["node", "-e", code], env=env,
                               capture_output=True, text=True).stdout.strip()
    t.ok(ok_py == "True" and ok_js == "true",
         "the README's Python and Node snippets verify a real delivery",
         [ok_py, ok_js])

    # -- disconnect --------------------------------------------------------
    d1 = api("DELETE", channel_path("discord"), token=admin_tok)
    d2 = api("DELETE", channel_path("discord"), token=admin_tok)
    t.ok(d1.status == 200 and d1.json()["success"] and d2.status == 404 and
         not s.sql("SELECT 1 FROM channel WHERE type = 'discord'"),
         "disconnect deletes the channel for good; a second time is 404",
         [d1.body, d2.body])

    # -- the same from the integration page ----------------------------------
    def csrf(html):
        return re.search(r'name="csrf" value="([^"]*)"', html).group(1)

    st, html = page.get("/admin/i/%s" % iid)
    form = {"csrf": csrf(html), "type": "discord", "url": DISCORD_URL,
            "feature.pushed": "on", "sync.failed": "on"}
    c_st, c_html = page.req("POST", "/admin/i/%s/channels" % iid, form)
    seq[discord] = last_seq(discord)
    t_st, t_html = page.req("POST", "/admin/i/%s/channels/discord/test" %
                            iid, {"csrf": csrf(html)})
    got_d = messages(discord, seq[discord])
    bad_st, bad_html = page.req("POST", "/admin/i/%s/channels" % iid,
                                dict(form, url="ftp://example.com/x"))
    st2, html2 = page.get("/admin/i/%s" % iid)
    x_st, x_html = page.req("POST", "/admin/i/%s/channels/discord/delete" %
                            iid, {"csrf": "forged"})
    t.ok(c_st == 200 and "connected" in c_html and t_st == 200 and
         "Test sent" in t_html and "Mobile team" in texts(got_d[0]) and
         bad_st == 422 and "https://" in bad_html and
         s.sql("SELECT events FROM channel WHERE type = 'discord'") ==
         [("feature.pushed,sync.failed",)] and
         DISCORD_TOKEN not in html2 and "..." + DISCORD_TOKEN[-4:] in html2
         and x_st == 403 and
         s.sql("SELECT count(*) FROM channel WHERE type = 'discord'") ==
         [(1,)],
         "integration page: connect with the events ticked, Send test, a "
         "refused URL said, a forged form refused",
         [c_st, t_st, bad_st, x_st, got_d and texts(got_d[0])[:200],
          re.findall(r'<p class="message">(.*?)</p>', t_html)])

    # -- secrets out of logs and pages --------------------------------------
    logs = "".join(s.log(n) for n in s.log_names())
    secrets = [SLACK_SECRET, DISCORD_TOKEN, old[6:], new[6:], admin_tok,
               viewer_tok]
    t.ok(logs and not [x for x in secrets if x in logs],
         "no channel URL secret, signing secret or API token in any log",
         [x[:6] for x in secrets if x in logs])
finally:
    for d in (slack, discord, wh):
        d.stop()
    s.stop(t)
t.done()
