"""Linking an issue that already exists to a feature, creating none: from
pbsyncctl link and from the admin integration page's form.

Three integrations on three projects of the tracker, one per conflict
policy (latest, productboard, tracker).  Checked: the Productboard column
shows the link as soon as the command or the form answers; the first sync
follows the policy where the two sides differ and says in the sync log
which side each field kept, and puts pbsync's footer on the issue; later
edits sync both ways with no echo; every refusal (feature already linked,
issue linked elsewhere, another project's issue, a missing issue or
feature, a reference that names nothing, no CSRF token) changes nothing;
a double submit makes one link.  Only `pbsyncctl drain` runs jobs here.
Runs once per tracker (tests/e2e/trackers.py)."""
import json
import re
import threading
import time

from harness import AdminSession, Tap, wait_for
import fixtures as fx
import trackers

t = Tap()


def suite(s, tr):
    T = tr.title

    def due():
        return s.sql("SELECT count(*) FROM job WHERE state = 'ready' AND"
                     " run_at <= ?1 OR state = 'leased' AND lease_until < ?1",
                     time.time())[0][0]

    def settle(timeout=30):
        """Delivers every webhook and drains until no job is due."""
        def quiet():
            for d in (s.pb, s.td):
                d.call("POST", "/_double/wait", {"deliveries_idle": True,
                                                 "timeout": 5})
            if due() == 0:
                return True
            s.ctl("drain")
            return False
        return wait_for(quiet, timeout, 0.05)

    def after(ts):
        """Waits until the clock is past ts as the tracker tells time."""
        step = max(0.01, tr.clock_resolution)
        wait_for(lambda: time.time() > ts + step, 1 + 2 * step, 0.005)

    class Team:
        def __init__(self, name, tp, policy):
            self.tr = tp
            rc, self.id, err = tp.create_integration(
                name, ("--conflict", policy))
            if rc != 0:
                raise RuntimeError(err)
            self.pid = fx.plugin_id(s, self.id)

        def link(self, feature, issue):
            """pbsyncctl link: (exit status, stdout, stderr)."""
            r = s.ctl("link", self.id, feature, issue, check=False)
            return r.returncode, r.stdout, r.stderr

    def pb_state():
        return s.pb.call("GET", "/_double/state")

    def feature_of(fid):
        return pb_state()["features"][fid]

    def shown(team, fid):
        return fx.connection(s, team.pid, fid)["data"]["fields"][
            "connection"]

    def first_log(fid):
        rows = s.sql("SELECT result, detail FROM sync_log WHERE feature_id"
                     " = ? AND action = 'sync' ORDER BY id", fid)
        return rows[0] if rows else None

    def world():
        """Everything a refusal must leave as it was."""
        st = pb_state()
        return (s.sql("SELECT integration_id, feature_id, state, issue_id,"
                      " snap_name FROM link ORDER BY id"),
                s.sql("SELECT count(*) FROM sync_log WHERE action IN"
                      " ('link', 'sync')"),
                s.sql("SELECT count(*) FROM job"),
                sorted((k, v["name"], v["description"]) for k, v in
                       st["features"].items()),
                sorted(st["connections"].items()),
                sorted((i["number"], i["title"], i["body"], i["state"])
                       for i in tr.issues()))

    owner = tr.project.split("/")[0]
    latest = Team("Latest", tr, "latest")
    pbw = Team("PB", tr.add_project(owner + "/pbwins"), "productboard")
    trw = Team("Tracker", tr.add_project(owner + "/trwins"), "tracker")
    admin = AdminSession(s)
    t.eq(admin.status, 303, "the admin logs in")

    def form(team, feature, issue, csrf=True):
        """POST of the integration page's link form: (status, body)."""
        page = admin.get("/admin/i/%s" % team.id)[1]
        t.ok('action="/admin/i/%s/link"' % team.id in page,
             "the integration page has the link form")
        f = {"feature": feature, "issue": issue}
        if csrf:
            f["csrf"] = fx_csrf(page)
        return admin.req("POST", "/admin/i/%s/link" % team.id, f)

    def fx_csrf(page):
        return re.search(r'name="csrf" value="([^"]*)"', page).group(1)

    # -- pbsyncctl, conflict policy productboard ------------------------
    fid = fx.feature(s, "Export to CSV", "<p>From Productboard.</p>")
    n = pbw.tr.open_issue("CSV export please", "Written in %s." % T)["number"]
    url = "%s/feature-board/planning/features/%s/detail" % (s.pb.url, fid)
    rc, out, err = pbw.link(url, pbw.tr.key_of(n))
    t.eq((rc, err), (0, ""), "pbsyncctl link: a feature URL and the "
         "issue's reference link them")
    t.ok("First sync: linked: " in out, "pbsyncctl link prints what the "
         "first sync did", out)
    c = shown(pbw, fid)
    t.ok(c.get("state") == "connected" and pbw.tr.web_url(n) in json.dumps(
        c), "the column shows the link as soon as pbsyncctl answers", c)
    t.eq(len(pbw.tr.issues()), 1, "no issue was created")
    i = pbw.tr.issue(n)
    t.eq(i["title"], "Export to CSV", "productboard policy: the feature's "
         "name went to the issue")
    t.ok(pbw.tr.marked(i["body"], fid), "the issue got pbsync's footer")
    log = first_log(fid)
    t.ok(log is not None and log[0] == "ok" and log[1].startswith(
        "linked: ") and "name: Productboard's kept, by the conflict "
        "policy" in log[1] and "description: Productboard's kept, by "
        "the conflict policy" in log[1] and "marker added" not in log[1],
         "the sync log says Productboard's name and description were "
         "kept", log)
    t.ok(log is not None and "status: the same on both sides" in log[1],
         "and that the status already agreed", log)

    # -- the admin page, conflict policy tracker -------------------------
    fid2 = fx.feature(s, "Dark mode", "<p>Productboard's words.</p>")
    n2 = trw.tr.open_issue("Night theme", "The %s words." % T)["number"]
    st, body = form(trw, fid2, trw.tr.web_url(n2))
    t.eq(st, 303, "the form links a feature id and the issue's URL")
    c = shown(trw, fid2)
    t.ok(c.get("state") == "connected" and trw.tr.web_url(n2) in
         json.dumps(c), "the column shows the link at once (the first sync "
         "wrote no title)", c)
    f2 = feature_of(fid2)
    t.eq(f2["name"], "Night theme", "tracker policy: the issue's title "
         "went to Productboard")
    t.ok("words" in f2["description"] and T in f2["description"],
         "and its description", f2["description"])
    i2 = trw.tr.issue(n2)
    t.eq(i2["title"], "Night theme", "the issue keeps its title")
    t.ok(trw.tr.marked(i2["body"], fid2), "the issue got pbsync's footer")
    log = first_log(fid2)
    t.ok(log is not None and "name: %s's kept, by the conflict policy" % T
         in log[1] and "description: %s's kept" % T in log[1] and
         "marker added to the issue" in log[1],
         "the sync log says %s's name and description were kept" % T, log)
    page = admin.get("/admin/i/%s?done=linked" % trw.id)[1]
    t.ok("The issue was linked" in page and trw.tr.key_of(n2).split(
        "/")[-1] in page, "the page says so and lists the link")

    # -- conflict policy latest: the later side wins ---------------------
    n3 = latest.tr.open_issue("Older issue title", "Old text.")["number"]
    after(time.time())
    fid3 = fx.feature(s, "Newer feature name", "<p>New text.</p>")
    after(time.time())
    fid4 = fx.feature(s, "Older feature name", "<p>Old text.</p>")
    after(time.time())
    n4 = latest.tr.open_issue("Newer issue title", "New text.")["number"]
    rc, out, err = latest.link(fid3, latest.tr.web_url(n3))
    t.ok(rc == 0, "latest: linked", err)
    t.eq((feature_of(fid3)["name"], latest.tr.issue(n3)["title"]),
         ("Newer feature name",) * 2, "latest: the feature edited later "
         "wins")
    t.ok("name: Productboard's kept, the later edit" in first_log(fid3)[1],
         "the sync log says so", first_log(fid3))
    rc, out, err = latest.link(fid4, latest.tr.key_of(n4))
    t.ok(rc == 0, "latest: linked by reference", err)
    t.eq((feature_of(fid4)["name"], latest.tr.issue(n4)["title"]),
         ("Newer issue title",) * 2, "latest: the issue edited later wins")
    t.ok("name: %s's kept, the later edit" % T in first_log(fid4)[1],
         "the sync log says so", first_log(fid4))
    t.ok(settle(), "the first syncs' own deliveries are settled")

    # -- then both ways, no echo -----------------------------------------
    def writes(team, n, fid):
        pb = s.pb.requests("^/v2/entities/%s$" % fid)
        return (team.tr.edits_to(n),
                len([r for r in pb if r["method"] == "PATCH"]))

    s.pb.call("DELETE", "/_double/requests")
    tr.clear()
    s.pb.call("PATCH", "/_double/features/" + fid2,
              {"name": "Renamed in Productboard"})
    settle()
    t.eq(trw.tr.issue(n2)["title"], "Renamed in Productboard",
         "after linking, a Productboard rename reaches %s" % T)
    t.eq(writes(trw, n2, fid2), (1, 0), "one %s write, no echo" % T)
    s.pb.call("DELETE", "/_double/requests")
    tr.clear()
    trw.tr.edit(n2, title="Renamed in " + T)
    settle()
    t.eq(feature_of(fid2)["name"], "Renamed in " + T,
         "a %s rename reaches Productboard" % T)
    t.eq(writes(trw, n2, fid2), (0, 1), "one Productboard write, no echo")
    t.eq(s.sql("SELECT count(*) FROM sync_log WHERE result = 'conflict'")
         [0][0], 0, "no conflict was logged for any of it")

    # -- refusals change nothing -----------------------------------------
    fid5 = fx.feature(s, "Unlinked feature", "<p>Nothing yet.</p>")
    n5 = latest.tr.open_issue("Unlinked issue", "Nothing yet.")["number"]
    other = pbw.tr.open_issue("Another project's issue", "Elsewhere.")
    t.ok(settle(), "the new issues' deliveries are settled")
    # GitLab's "#12" is an issue of the integration's own project.
    elsewhere = pbw.tr.key_of(other["number"])
    if elsewhere.startswith("#"):
        elsewhere = pbw.tr.project + elsewhere
    refusals = [
        ("a feature already linked", fid3, latest.tr.key_of(n5),
         "already linked to"),
        ("an issue linked to another feature", fid5,
         latest.tr.key_of(n3), "is already linked to the feature"),
        ("another project's issue by reference", fid5, elsewhere,
         "another project"),
        ("another project's issue by URL", fid5,
         pbw.tr.web_url(other["number"]), "another project"),
        ("an issue that does not exist", fid5, latest.tr.key_of(9999),
         "There is no issue"),
        ("a feature that does not exist",
         "4f1e5a9c-0000-4000-8000-00000000abcd", latest.tr.key_of(n5),
         "There is no feature"),
        ("a reference that names no issue", fid5, "the CSV one",
         "is not an issue of"),
        ("a feature reference that names none", fid5 + " or so",
         latest.tr.key_of(n5), "is not a Productboard feature"),
        ("a feature URL of no feature", s.pb.url + "/feature-board/",
         latest.tr.key_of(n5), "is not a Productboard feature"),
    ]
    for what, f, i, says in refusals:
        before = world()
        rc, out, err = latest.link(f, i)
        t.ok(rc == 1 and says in err, "pbsyncctl link refuses %s" % what,
             (rc, out, err))
        t.eq(world(), before, "%s: nothing changed" % what)
    before = world()
    st, body = form(latest, fid5, pbw.tr.web_url(other["number"]))
    t.ok(st == 422 and "another project" in body and
         'value="%s"' % fid5 in body, "the form shows a refusal on the "
         "page with what was typed", st)
    t.eq(world(), before, "the form's refusal changed nothing")
    st, body = form(latest, fid5, latest.tr.key_of(n5), csrf=False)
    t.eq(st, 403, "a form without its CSRF token is refused")
    t.eq(world(), before, "and changed nothing")

    # -- a double submit makes one link ----------------------------------
    page = admin.get("/admin/i/%s" % latest.id)[1]
    tok, got = fx_csrf(page), []

    def submit():
        got.append(admin.req("POST", "/admin/i/%s/link" % latest.id, {
            "csrf": tok, "feature": fid5,
            "issue": latest.tr.key_of(n5)})[0])
    threads = [threading.Thread(target=submit) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t.eq(sorted(got), [303, 422], "two submits at once: one links, the "
         "other is refused")
    t.eq(s.sql("SELECT count(*) FROM link WHERE integration_id = ? AND"
               " (feature_id = ? OR issue_key = ?)", latest.id, fid5,
               latest.tr.key_of(n5))[0][0], 1, "one link")
    t.eq(s.sql("SELECT count(*) FROM sync_log WHERE feature_id = ? AND"
               " action = 'link'", fid5)[0][0], 1, "one link in the log")
    t.ok(settle(), "everything settles")


trackers.each(t, suite, env={"PBSYNC_JOB_BUDGET_MS": "0",
                             "PBSYNC_RECONCILE_INTERVAL_S": "3600"})
