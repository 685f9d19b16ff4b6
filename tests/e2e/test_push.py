"""Push, unlink, dismiss and the Productboard column, end to end through
nginx with the Productboard and tracker doubles.  Runs once per tracker
(tests/e2e/trackers.py)."""
import json
import statistics
import threading
import time

from harness import Tap, wait_for
import fixtures as fx
import reliability
import trackers

t = Tap()


def suite(s, tr):
    def issue(number):
        return tr.issue(number)

    def titled(title):
        return [x for x in tr.issues() if x["title"] == title]

    rc, iid, err = fx.create_integration(s)
    t.eq(rc, 0, "an integration is created through pbsyncctl")
    if rc != 0:
        raise RuntimeError(err)
    pid = fx.plugin_id(s, iid)
    s.start_worker()

    # -- probe -----------------------------------------------------------
    probes = [d for d in s.pb.call("GET", "/_double/deliveries")
              if "validationToken" in d.get("url", "")]
    t.ok(probes and probes[0]["status"] == 200,
         "Productboard's probe of the action URL succeeded", probes)

    # -- push --------------------------------------------------------------
    fid = fx.feature(s, "Dark mode", "<h1>Goal</h1><p>Let users pick a "
                     "<b>dark</b> theme, see @alice and #12.</p>"
                     "<ul><li>one</li><li>two</li></ul>")
    t0 = time.monotonic()
    r = fx.click(s, pid, fid)
    took = time.monotonic() - t0
    conn = r.get("connection", {})
    t.eq(r.get("status"), 200, "push answers 200")
    t.eq(conn.get("state"), "connected", "push answers connected", )
    t.ok(took < 5, "push answered within 5 s (%.2f s)" % took)
    iss = tr.issues()
    t.eq(len(iss), 1, "push created exactly one issue")
    i = iss[0]
    t.eq(i["title"], "Dark mode", "the issue title is the feature name")
    d = i["body"]
    t.ok(tr.shows(d, "top", "Goal"), "the description is the tracker's "
         "text (Markdown, ADF), the heading first", d)
    t.ok(tr.shows(d, "bold", "dark"), "bold became the tracker's bold", d)
    t.ok(tr.shows(d, "item", "one") and tr.shows(d, "item", "two"),
         "the list became the tracker's list", d)
    t.ok(tr.marked(d, fid), "the hidden marker is there", d)
    t.ok("Linked to the Productboard feature" in d,
         "the backlink is there", d)
    t.ok(not tr.notifies(d, "alice"), "a mention cannot notify", d)
    t.eq(conn.get("targetUrl"), tr.web_url(i["number"]),
         "the column links to the issue")
    t.eq(conn.get("hoverLabel"), tr.key_of(i["number"]),
         "hover label is %s" % tr.key_of(i["number"]))
    t.eq(conn.get("label"), tr.open_label, "the label is the issue state")
    t.eq(conn.get("color"), "blue", "open issues are blue")
    try:
        reply = json.loads(r.get("body") or "")
    except ValueError:
        reply = {}
    data = reply.get("data") or {}
    t.ok((data.get("fields") or {}).get("connection") == conn and
         "connection" not in data, "by default the reply carries only the "
         "v2 key data.fields.connection", reply)

    r = fx.click(s, pid, fid)
    t.eq(r.get("connection", {}).get("state"), "connected",
         "a second click answers connected")
    t.eq(len(tr.issues()), 1, "a double click makes no second issue")

    # -- five concurrent pushes --------------------------------------------
    fid2 = fx.feature(s, "Export to CSV")
    results = []
    th = [threading.Thread(target=lambda: results.append(
        fx.click(s, pid, fid2))) for _ in range(5)]
    [x.start() for x in th]
    [x.join() for x in th]
    t.eq(len(titled("Export to CSV")), 1,
         "five concurrent pushes make one issue")
    t.ok(wait_for(lambda: fx.connection(s, pid, fid2)["data"]["fields"]
                  ["connection"]["state"] == "connected", 15),
         "and the column ends connected")

    # -- the tracker failing -----------------------------------------------
    fid3 = fx.feature(s, "Retry me")
    s.td.call("POST", "/_double/faults", {"match": tr.create_match,
                                          "status": 500, "count": 2})
    r = fx.click(s, pid, fid3)
    st = r.get("connection", {}).get("state")
    t.ok(st in ("progress", "error"),
         "push while %s answers 500 -> %s" % (tr.title, st))
    ok = wait_for(lambda: fx.connection(s, pid, fid3)["data"]["fields"]
                  ["connection"]["state"] == "connected", 30)
    t.ok(ok, "the push completes after %s recovers" % tr.title)
    t.eq(len(titled("Retry me")), 1, "and never makes two issues")

    # -- the tracker slow --------------------------------------------------
    fid4 = fx.feature(s, "Slow one")
    s.td.call("POST", "/_double/faults", {"match": tr.create_match,
                                          "delay": 4, "count": 1})
    t0 = time.monotonic()
    r = fx.click(s, pid, fid4)
    took = time.monotonic() - t0
    t.eq(r.get("connection", {}).get("state"), "progress",
         "push while %s is slow answers progress" % tr.title)
    t.ok(took < 5, "inside Productboard's 5 s (%.2f s)" % took)
    ok = wait_for(lambda: fx.connection(s, pid, fid4)["data"]["fields"]
                  ["connection"]["state"] == "connected", 20)
    t.ok(ok, "then the final state is PUT: connected")
    t.eq(len(titled("Slow one")), 1, "the slow push made one issue")

    # -- titles: mentions broken where the tracker acts on them, nothing
    # back in Productboard ---------------------------------------------------
    # GitLab parses mentions and references in titles too, so pbsync
    # breaks them with word joiners; to GitHub it sends titles as they
    # are (it breaks them in bodies only).
    shown = tr.title_shown
    fid5 = fx.feature(s, "Ping @ceo about #12")
    t.eq(fx.click(s, pid, fid5).get("connection", {}).get("state"),
         "connected", "a feature named with a mention is pushed")
    tr_title = [x["title"] for x in tr.issues() if x["title"].startswith(
        "Ping")]
    reliability.check(
        t, "security", "feature named \"Ping @ceo about #12\" pushed",
        "%s title mentions nobody, links no issue (word joiners)" %
        tr.title if tr.mentions_in_titles else "%s title as given (pbsync "
        "breaks mentions in %s bodies only)" % (tr.title, tr.title),
        repr(tr_title), tr_title == [shown("Ping @ceo about #12")])
    s.pb.call("PATCH", "/_double/features/" + fid5,
              {"name": "Ping @cto about #13"})
    t.ok(wait_for(lambda: titled(shown("Ping @cto about #13")), 20),
         "a rename reaches %s %s" % (tr.title, "broken the same way" if
                                     tr.mentions_in_titles else "as it is"))
    t.ok(wait_for(lambda: s.sql("SELECT count(*) FROM job WHERE key = ? AND"
                                " state != 'dead'", fid5)[0][0] == 0, 20),
         "the rename settles")
    name = s.pb.call("GET", "/_double/state")["features"][fid5]["name"] \
        if isinstance(s.pb.call("GET", "/_double/state")["features"], dict) \
        else [f for f in s.pb.call("GET", "/_double/state")["features"]
              if f["id"] == fid5][0]["name"]
    reliability.check(
        t, "security", "renamed \"Ping @cto about #13\": the name back in "
        "Productboard", "unchanged, no joiner (no echo, no drift)", repr(name),
        name == "Ping @cto about #13")

    # -- quick actions: what Productboard says is text in GitLab -------------
    # GitLab runs quick actions ("/close") written in a description; the
    # other trackers have none.
    if tr.quick_actions:
        quick_actions(s, tr, pid)

    # -- descriptions longer than the other side takes ---------------------
    # 600,000 '*' are 600 kB of HTML for Productboard and 1.2M characters
    # of escaped Markdown, past GitLab's 1,048,576 and GitHub's 65,536.
    big = "<p>" + "*" * 600000 + "</p>"
    fid7 = fx.feature(s, "Very long text", big)
    fx.click(s, pid, fid7)      # progress when slow (valgrind), then PUT
    done = wait_for(lambda: fx.connection(s, pid, fid7)["data"]["fields"]
                    ["connection"]["state"] == "connected", 60)
    long_issue = titled("Very long text")
    reliability.check(t, "limits", "a pushed description longer than "
                      "%s takes (1.2M characters as Markdown)" % tr.title,
                      "the issue is made, with a line pointing to "
                      "Productboard", "%s, descriptions of %s characters" % (
                          "connected" if done else "not connected",
                          [len(x["body"]) for x in long_issue]),
                      done and len(long_issue) == 1 and "longer than the "
                      "tracker takes" in long_issue[0]["body"])
    # The other way only where the tracker holds more than Productboard
    # takes (524,288 characters of HTML): GitHub's 65,536 characters
    # grow to 262,144 at most as '&lt;'; it takes 300,000 '<' (1.2M).
    if tr.max_description >= 300000:
        n7 = long_issue[0]["number"] if long_issue else 0
        tr.edit(n7, body="<" * 300000)
        t.ok(wait_for(lambda: any("too long for productboard" in (d or "")
                                  for (d,) in s.sql(
                                      "SELECT detail FROM sync_log WHERE"
                                      " feature_id = ?", fid7)), 30),
             "%s's 300,000 '<' (1.2M characters as HTML) are not "
             "copied to Productboard, and the sync log says so" % tr.title)
        st = s.pb.call("GET", "/_double/state")["features"]
        st = st[fid7] if isinstance(st, dict) else [
            f for f in st if f["id"] == fid7][0]
        t.eq(len(st["description"]), len(big), "Productboard keeps its text")
    t.eq(s.sql("SELECT count(*) FROM job WHERE key = ? AND state = 'dead'",
               fid7)[0][0], 0, "and no job died of it")

    # -- unlink --------------------------------------------------------------
    r = fx.click(s, pid, fid, "button.unlink")
    t.eq(r.get("connection", {}).get("state"), "initial",
         "unlink answers initial")
    t.eq(s.sql("SELECT count(*) FROM link WHERE feature_id = ?", fid)[0][0],
         0, "the link is gone")
    gone = wait_for(lambda: "pbsync:feature=" not in
                    titled("Dark mode")[0]["body"], 15)
    t.ok(gone, "the marker and backlink are removed from the issue")
    t.eq(len(titled("Dark mode")), 1, "the issue is kept")
    r = fx.click(s, pid, "unknown-feature", "button.unlink")
    t.eq(r.get("connection", {}).get("state"), "initial",
         "unlinking an unknown feature is harmless")

    # -- dismiss: unlinks like unlink, and later edits stay on their side ----
    csv = titled("Export to CSV")[0]
    r = fx.click(s, pid, fid2, "button.dismiss")
    t.eq(r.get("connection", {}).get("state"), "initial",
         "dismiss answers initial")
    t.eq(s.sql("SELECT count(*) FROM link WHERE feature_id = ?", fid2)[0][0],
         0, "dismiss removes the link")
    t.ok(wait_for(lambda: "pbsync:feature=" not in issue(csv["number"])
                  ["body"], 15),
         "dismiss removes the marker and backlink from the issue")
    s.pb.call("PATCH", "/_double/features/" + fid2,
              {"name": "Export to CSV, dismissed"})
    edited = "CSV export, edited in " + tr.title
    tr.edit(csv["number"], title=edited)
    # A linked feature edited at the same time does sync: the edits above
    # had their chance to run.
    s.pb.call("PATCH", "/_double/features/" + fid3, {"name": "Retry me too"})
    t.ok(wait_for(lambda: titled("Retry me too"), 20),
         "an edit of a linked feature reaches its issue")
    fx.idle(s)
    t.eq((s.pb.call("GET", "/_double/state")["features"][fid2]["name"],
          issue(csv["number"])["title"]),
         ("Export to CSV, dismissed", edited),
         "after dismiss, edits of the feature and of the issue do not sync")

    # -- refusals: nothing written, no upstream call --------------------------
    path = "/plugin/" + iid
    body = {"data": {"trigger": "button.push", "feature": {"id": fid3},
                     "integrationId": pid}}
    fx.idle(s)
    before = (s.counts(), len(s.pb.requests()), len(s.td.requests()))
    for what, p, b, hdr, want in (
        ("missing Authorization", path, body, {}, 401),
        ("wrong Authorization", path, body, {"Authorization": "Bearer x"},
         401),
        ("unknown integration", "/plugin/" + "c" * 32, body,
         {"Authorization": "Bearer x"}, 401),
    ):
        r = s.request("POST", p, b, hdr)
        t.eq(r.status, want, "push refused: %s -> %d" % (what, want))
    secret = None
    for d in s.pb.call("GET", "/_double/deliveries"):
        if d.get("kind") in ("probe", "action") or \
                "validationToken" in d.get("url", ""):
            secret = d["headers"].get("authorization") or \
                d["headers"].get("Authorization")
    t.ok(secret is not None, "the double recorded the plugin authorization")
    good = {"Authorization": secret or ""}
    for what, b, hdr, want in (
        ("malformed JSON", '{"data": ', {}, 400),
        ("unknown trigger", {"data": {"trigger": "button.explode",
                                      "feature": {"id": fid3}}}, {}, 400),
        ("no feature id", {"data": {"trigger": "button.push"}}, {}, 400),
        ("oversized body", "x" * (2 << 20), {}, 413),
        ("wrong content type", '{"data":{}}',
         {"Content-Type": "text/plain"}, 415),
    ):
        r = s.request("POST", path, b, dict(good, **hdr))
        t.eq(r.status, want, "push refused: %s -> %d" % (what, want))
    after = (s.counts(), len(s.pb.requests()), len(s.td.requests()))
    t.eq(after, before, "refused requests wrote nothing and called no "
         "upstream")

    # -- a feature Productboard does not know ----------------------------------
    r = fx.click(s, pid, "00000000-0000-0000-0000-00000000dead")
    c = r.get("connection", {})
    t.eq(c.get("state"), "error", "pushing a feature that does not exist: "
         "error")
    t.ok("no longer exists" in c.get("message", ""), "with a clear message",
         c)

    # -- audit ---------------------------------------------------------------
    log = s.sql("SELECT actor, action, result FROM sync_log")
    t.ok(("Jane PM <jane@example.com>", "push", "ok") in log,
         "the sync log says who pushed", log)
    t.ok(("Jane PM <jane@example.com>", "button.unlink", "ok") in log,
         "and who unlinked", log)

    # -- latency of 50 pushes --------------------------------------------------
    lat = []
    for k in range(50):
        f = fx.feature(s, "Latency %d" % k)
        t0 = time.monotonic()
        r = fx.click(s, pid, f)
        lat.append(time.monotonic() - t0)
        if r.get("connection", {}).get("state") != "connected":
            break
    t.eq(len(lat), 50, "50 pushes in a row all answer connected")
    print("# %s: push latency over %d pushes: median %.0f ms, worst %.0f ms"
          % (tr.title, len(lat), statistics.median(lat) * 1000,
             max(lat) * 1000))
    t.ok(max(lat) < 5, "every push answered within 5 s")
    t.ok(fx.PB_TOKEN not in s.log() and tr.token not in s.log(),
         "no token appears in the log")


def quick_actions(s, tr, pid):
    """The tracker's quick actions in a pushed, then a synced,
    description: none runs, and no escaped form echoes back into
    Productboard."""
    attack = ("<p>/close</p><p>Intro<br>/move grp/other<br> /clone grp/x</p>"
              "<ul><li>/label ~evil</li></ul><blockquote><p>/confidential"
              "</p></blockquote><table><tr><td>/title Owned</td></tr></table>"
              "<pre>x\n/lock\n```</pre>")
    fid6 = fx.feature(s, "Quick action bait", attack)
    t.eq(fx.click(s, pid, fid6).get("connection", {}).get("state"),
         "connected", "a feature with quick actions in its text is pushed")

    def bait():
        return [x for x in tr.issues() if x["title"] == "Quick action bait"]

    def none_ran(where):
        """The check that no quick action in the description ran."""
        ran = [c for x in bait() for c in tr.quick_actions_run(x["number"])]
        states = [x["state"] for x in bait()]
        reliability.check(t, "security", "%s quick actions in a %s" % (
            tr.title, where), "none runs; the issue stays open",
            "%d run, state %s" % (len(ran), states),
            not ran and states == ["open"])
    none_ran("pushed description (paragraph, after a break, list, quote, "
             "table, code)")
    s.pb.call("PATCH", "/_double/features/" + fid6, {
        "description": attack + "<p>/reopen</p><p>/close</p>"})
    t.ok(wait_for(lambda: any("reopen" in x["body"] for x in bait()), 20),
         "the edited description reaches %s" % tr.title)
    none_ran("synced description")
    back = s.pb.call("GET", "/_double/state")["features"]
    back = back[fid6] if isinstance(back, dict) else [
        f for f in back if f["id"] == fid6][0]
    t.ok("/close" in back["description"] and "\\/" not in
         back["description"], "no escaped form echoes back into "
         "Productboard", back["description"][:300])


trackers.each(t, suite, env={"PBSYNC_PUSH_BUDGET_MS": "2500"})
