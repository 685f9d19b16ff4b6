"""Every tracker, the same test code: an integration made by pbsyncctl, a
push (and a double click) answered within Productboard's 5 s, renames on
both sides without echo, a close that moves the feature's status, text a
tracker would act on neutralised, deliveries checked (token or signature)
and deduplicated, an issue deleted in the tracker, an unlink, and the
integration's removal.  The tracker side goes through tests/e2e/trackers.py,
one adapter per tracker double (GitLab, GitHub, Jira); then the checks only
one tracker has (GitHub: the secondary rate limit; Jira: workflows whose
transitions decide what may follow what, a workflow changed between two
syncs, a description Productboard cannot hold)."""
import json
import os
import random
import re
import time

import fixtures as fx
import reliability
import trackers
from harness import AdminSession, Stack, Tap, wait_for

t = Tap()
s = Stack(github=True, jira=True,
          env={"PBSYNC_RECONCILE_INTERVAL_S": "3600"})
WJ = "\u2060"


def check(tr, case, expected, observed, cond):
    return reliability.check(t, "Trackers: " + tr.title, case, expected,
                             observed, cond)


def idle(timeout=30):
    """Every double delivered everything and no job is due."""
    def quiet():
        for d in (s.pb, s.gl, s.gh, s.jr):
            d.call("POST", "/_double/wait", {"deliveries_idle": True,
                                             "timeout": 5})
        return s.sql("SELECT count(*) FROM job WHERE state != 'dead' AND"
                     " run_at <= ?", time.time() + 0.5)[0][0] == 0
    ok = wait_for(quiet, timeout, 0.2)
    time.sleep(0.3)
    return ok and quiet()


def feature(fid):
    return s.pb.call("GET", "/_double/state")["features"][fid]


def pb_patches(fid):
    return [r for r in s.pb.requests("^/v2/entities/%s$" % fid)
            if r["method"] == "PATCH"]


def status_name(fid):
    sid = feature(fid).get("status", {}).get("id")
    for st in s.pb.call("GET", "/_double/state")["statuses"]:
        if st["id"] == sid:
            return st["name"]
    return None


def link_of(iid, fid):
    rows = s.sql("SELECT issue_key, issue_id FROM link WHERE integration_id"
                 " = ? AND feature_id = ?", iid, fid)
    return rows[0] if rows else None


def by_form(tr, admin):
    """The admin page's way: the tracker's own form, then the creation,
    on the tracker's self-hosted flavour (GitHub Enterprise Server's
    /api/v3)."""
    others = [c.title for c in trackers.EVERY if c.kind != tr.kind]
    st, page = admin.get("/admin/new?tracker=" + tr.kind)
    csrf = re.search(r'name="csrf" value="([^"]*)"', page)
    fields = "<legend>%s</legend>" % tr.title in page and not any(
        "<legend>%s</legend>" % o in page or "%s URL" % o in page
        for o in others)
    st2, body = admin.req("POST", "/admin/new", {
        "csrf": csrf.group(1) if csrf else "", "op": "save",
        "name": "Form " + tr.title, "column_label": tr.title,
        "pb_token": fx.PB_TOKEN, "tracker_kind": tr.kind,
        "tracker_url": tr.server_url(), "tracker_token": tr.token,
        "tracker_project": tr.project, "conflict_policy": "latest",
        "delete_policy": "keep", **tr.form_options()})
    row = s.sql("SELECT id, tracker_kind, tracker_project_name FROM"
                " integration WHERE name = ?", "Form " + tr.title)
    check(tr, "the admin creates the integration on its tracker's form "
          "(at %s)" % tr.server_url().replace(tr.url(), "<server>"),
          "only that tracker's fields; 303; the row names the tracker",
          "form %d (%s); create %d; row %s" % (
              st, "its fields only" if fields else "other fields too", st2,
              row[0][1:] if row else None),
          st == 200 and fields and st2 == 303 and row and
          row[0][1:] == (tr.kind, tr.project))
    if row:
        s.ctl("integration", "delete", row[0][0], check=False)


def one_tracker(cls, admin):
    tr = cls(s)
    tr.seed()
    by_form(tr, admin)
    env = {"PBSYNC_PB_TOKEN": fx.PB_TOKEN, "PBSYNC_TRACKER_TOKEN": tr.token}
    # A status map naming a state the tracker does not have, either way.
    for way, says in (("to_tracker", tr.unknown_state_says),
                      ("to_productboard", tr.unknown_back_says)):
        bad = fx.status_map(s)
        if way == "to_tracker":
            bad[way][fx.status_ids(s)["Planned"]]["state"] = "Shipped"
        else:
            bad[way]["Shipped"] = fx.status_ids(s)["Done"]
        r = s.ctl("integration", "add", "--name", "Shipped",
                  "--status-map", json.dumps(bad), *tr.integration_args(),
                  env=env, check=False)
        check(tr, "a status map naming a state %s does not have, %s" % (
            tr.title, way), "refused: '%s'; nothing made" % says,
            "exit %d %r" % (r.returncode, r.stderr.strip()[-300:]),
            r.returncode != 0 and says in r.stderr and not s.sql(
                "SELECT id FROM integration WHERE name = 'Shipped'"))
    r = s.ctl("integration", "add", "--name", "Team " + tr.title,
              "--status-map", json.dumps(fx.status_map(s)),
              *tr.integration_args(), env=env, check=False)
    iid = r.stdout.strip()
    hooks = [h for h in tr.hooks() if iid and iid in json.dumps(h)]
    check(tr, "pbsyncctl integration add --tracker %s" % tr.kind,
          "the integration, and one webhook on the project with a secret",
          "exit %d %s; %d hooks" % (r.returncode, r.stderr.strip()[-200:],
                                    len(hooks)),
          r.returncode == 0 and len(hooks) == 1 and
          bool(tr.hook_secret_sent(hooks[0])))
    if r.returncode != 0 or not hooks:
        return
    hook = hooks[0]
    shown = s.ctl("integration", "show", iid).stdout
    t.ok("tracker\t%s\n" % tr.kind in shown and
         "tracker_project\t%s\n" % tr.project in shown,
         "%s: pbsyncctl shows the tracker and its project" % tr.title, shown)
    pid = fx.plugin_id(s, iid)
    plugs = s.pb.call("GET", "/_double/state")["plugin_integrations"]
    plug = (plugs.get(pid) if isinstance(plugs, dict) else
            [p for p in plugs if p.get("id") == pid][0]) or {}
    t.eq(plug.get("fields", plug).get("type"), "com.pbsync." + tr.kind,
         "%s: the Productboard column's plugin type names the tracker" %
         tr.title)

    # -- push, within 5 s, one issue even on a double click --------------
    fid = fx.feature(s, "Ping @ceo about #12", description="<p>Ask @ceo "
                     "about #12 and GH-7 <b>today</b>.</p>")
    t0 = time.monotonic()
    c = fx.click(s, pid, fid)
    took = time.monotonic() - t0
    conn = (c or {}).get("connection", {})
    again = fx.click(s, pid, fid).get("connection", {})
    mine = [i for i in tr.issues() if i["title"].replace(WJ, "")
            .startswith("Ping")]
    check(tr, "push of a feature, then a second click",
          "connected within 5 s; one issue", "%s in %.2f s, then %s; %d "
          "issues" % (conn.get("state"), took, again.get("state"),
                      len(mine)),
          conn.get("state") == "connected" and took < 5 and
          again.get("state") == "connected" and len(mine) == 1)
    if len(mine) != 1:
        return
    n = mine[0]["number"]
    key = link_of(iid, fid)
    t.ok(key is not None and conn.get("hoverLabel") == key[0] and
         str(n) in key[0], "%s: the column shows the issue as the tracker "
         "names it (%s)" % (tr.title, key and key[0]), conn)
    body = mine[0]["body"]
    raw = tr.actionable(body, ("@ceo", "#12", "GH-7"))
    check(tr, "description and title with @ceo, #12 and GH-7",
          "nothing the tracker acts on: no mention, no reference",
          "raw in the body: %s; marker %s" % (
              raw or "none", "kept" if "pbsync" in body else "missing"),
          not raw and "pbsync" in body)
    idle()

    # -- a slow tracker: the click answers in time, the push finishes -----
    tr.d.call("POST", "/_double/faults", {"match": tr.create_match,
                                          "delay": 4, "count": 1})
    slow = fx.feature(s, "Slow create " + tr.title)
    t0 = time.monotonic()
    first = fx.click(s, pid, slow).get("connection", {}).get("state")
    took = time.monotonic() - t0
    again = fx.click(s, pid, slow).get("connection", {}).get("state")
    later = wait_for(lambda: fx.connection(s, pid, slow)["data"]["fields"]
                     ["connection"]["state"] == "connected", 30)
    made = [i for i in tr.issues() if i["title"] == "Slow create " +
            tr.title]
    tr.d.call("DELETE", "/_double/faults")
    check(tr, "the tracker takes 4 s to create the issue; a second click "
          "meanwhile", "progress within 5 s, then connected; one issue",
          "%s in %.1f s, then %s; later %s; %d issues" % (
              first, took, again, "connected" if later else "not",
              len(made)),
          first in ("progress", "connected") and took < 5 and later and
          len(made) == 1)
    idle()

    # -- renames on both sides, no echo ------------------------------------
    w0, p0 = len(tr.writes(n)), len(pb_patches(fid))
    s.pb.call("PATCH", "/_double/features/" + fid,
              {"name": "Renamed in Productboard"})
    landed = wait_for(lambda: tr.issue(n)["title"] ==
                      "Renamed in Productboard", 20)
    idle()
    w1, p1 = len(tr.writes(n)), len(pb_patches(fid))
    check(tr, "a rename in Productboard", "one write to the tracker, "
          "nothing back to Productboard", "landed %s; %d tracker writes, "
          "%d Productboard patches" % (landed, w1 - w0, p1 - p0),
          landed and w1 - w0 == 1 and p1 == p0)
    tr.edit(n, title="Renamed in " + tr.title)
    landed = wait_for(lambda: feature(fid)["name"] == "Renamed in " +
                      tr.title, 20)
    idle()
    w2, p2 = len(tr.writes(n)), len(pb_patches(fid))
    check(tr, "a rename in the tracker", "one patch to Productboard, no "
          "write back to the tracker", "landed %s; %d Productboard patches,"
          " %d tracker writes" % (landed, p2 - p1, w2 - w1),
          landed and p2 - p1 == 1 and w2 == w1)

    # -- a name longer than the tracker's titles ---------------------------
    long = "Long name " + "x" * 290
    s.pb.call("PATCH", "/_double/features/" + fid, {"name": long})
    cut = wait_for(lambda: tr.issue(n)["title"] == long[:tr.max_title], 20)
    idle()
    w3, p3 = len(tr.writes(n)), len(pb_patches(fid))
    check(tr, "a 300-character name set in Productboard",
          "the title is its first %d characters, one write; Productboard "
          "keeps the whole name" % tr.max_title,
          "%d characters; %d writes, %d patches; Productboard has %d" % (
              len(tr.issue(n)["title"]), w3 - w2, p3 - p2,
              len(feature(fid)["name"])),
          cut and w3 - w2 == 1 and p3 == p2 and feature(fid)["name"] == long)

    # -- a description typed in the tracker, as it shows there -----------
    tr.edit(n, body="First line\nSecond line")
    want = "<p>First line%sSecond line</p>" % tr.newline
    seen = wait_for(lambda: feature(fid)["description"] == want, 20)
    idle()
    check(tr, "two lines typed in the issue's description", "Productboard "
          "shows them as the tracker does: %s" % want,
          feature(fid)["description"], seen)

    # -- status: labels follow it, a close moves the feature -------------
    human_label = "needs-design"
    tr.edit(n, labels=[human_label])
    idle()
    s.pb.call("PATCH", "/_double/features/" + fid,
              {"status": {"id": fx.status_ids(s)["Planned"]}})
    planned = wait_for(lambda: "status::planned" in tr.issue(n)["labels"],
                       20)
    idle()
    got = sorted(tr.issue(n)["labels"])
    check(tr, "the feature set to Planned in Productboard", "the issue "
          "gets status::planned; a label a person set stays",
          "labels %s, state %s" % (got, tr.issue(n)["state"]),
          planned and got == sorted([human_label, "status::planned"]) and
          tr.issue(n)["state"] == "open")
    tr.edit(n, state="closed")
    done = wait_for(lambda: status_name(fid) == "Done", 20)
    idle()
    got = sorted(tr.issue(n)["labels"])
    check(tr, "the issue closed in the tracker", "the feature is Done, the "
          "label follows: status::done instead of status::planned",
          "%s; labels %s" % (status_name(fid), got),
          done and got == sorted([human_label, "status::done"]))

    model(tr, pid)

    # -- deliveries: checked, deduplicated ---------------------------------
    path = "/webhooks/gittab/" + iid
    issue_id = int(key[1])
    payload = tr.delivery_body(issue_id, n)
    bad = s.request("POST", path, payload.encode(),
                    tr.signed(hook, payload, good=False))
    tampered = s.request("POST", path, (payload + " ").encode(),
                         tr.signed(hook, payload))
    before = s.sql("SELECT count(*) FROM job")[0][0]
    good = [s.request("POST", path, payload.encode(),
                      tr.signed(hook, payload)).status for _ in range(3)]
    jobs = s.sql("SELECT count(*) FROM job")[0][0] - before
    check(tr, "deliveries: a wrong %s, a body changed after signing, then "
          "the same good delivery three times" % tr.auth_header,
          "401; %s; 200 three times, one job" % (
              "401" if tr.signs_body else "200 (the token does not "
              "cover the body)"),
          "%d; %d; %s, %d job" % (bad.status, tampered.status, good, jobs),
          bad.status == 401 and tampered.status == (
              401 if tr.signs_body else 200) and
          good == [200] * 3 and jobs <= 1)
    idle()

    # -- unlink keeps the issue and removes the link -----------------------
    fid2 = fx.feature(s, "Unlink me")
    fx.click(s, pid, fid2)
    n2 = [i for i in tr.issues() if i["title"] == "Unlink me"]
    u = fx.click(s, pid, fid2, trigger="button.unlink").get(
        "connection", {})
    idle()
    kept = n2 and tr.issue(n2[0]["number"])
    check(tr, "unlink from Productboard", "the link goes, the issue stays "
          "without pbsync's footer", "%s; link %s; issue %s" % (
              u.get("state"), link_of(iid, fid2), "kept" if kept else
              "gone"), u.get("state") == "initial" and
          link_of(iid, fid2) is None and kept and
          "pbsync" not in kept["body"])

    # -- the issue deleted in the tracker ----------------------------------
    tr.delete(n)
    if not tr.sends_delete:
        s.ctl("reconcile")     # GitLab sends nothing on a delete
    gone = wait_for(lambda: link_of(iid, fid) is None, 20)
    check(tr, "the issue deleted in the tracker", "the link is removed "
          "and the column reset" + (" at the deleted event" if
                                    tr.sends_delete else
                                    " by reconcile"),
          "link %s, column %s" % ("removed" if gone else "kept",
                                  fx.connection(s, pid, fid)["data"]
                                  ["fields"]["connection"]["state"]),
          gone)
    idle()

    # -- the integration deleted -------------------------------------------
    r = s.ctl("integration", "delete", iid, check=False)
    left = [h for h in tr.hooks() if iid in json.dumps(h)]
    check(tr, "pbsyncctl integration delete", "the webhook is gone",
          "exit %d, %d hooks left" % (r.returncode, len(left)),
          r.returncode == 0 and not left)


def model(tr, pid):
    """Random edits on both sides, the tracker's deliveries duplicated,
    reordered or dropped; then a reconcile (PBSYNC_E2E_MODEL_RUNS of them,
    from PBSYNC_E2E_MODEL_SEED: not the in-process model test's).  Both sides must end equal to
    the last edit made (or one of the last concurrent ones), with at most
    one write per edit: an echo would be one more."""
    fid = fx.feature(s, "Model " + tr.title)
    fx.click(s, pid, fid)
    n = [i for i in tr.issues() if i["title"] == "Model " + tr.title]
    n = n[0]["number"] if n else None
    rnd = random.Random(int(os.environ.get("PBSYNC_E2E_MODEL_SEED",
                                           "1234")))
    runs = int(os.environ.get("PBSYNC_E2E_MODEL_RUNS", "12"))
    bad = []
    for k in range(runs if n else 0):
        idle()
        w0, p0 = len(tr.writes(n)), len(pb_patches(fid))
        tr.d.call("POST", "/_double/config", {
            "duplicate_deliveries": rnd.choice([0, 0, 1, 3]),
            "reorder_deliveries": rnd.choice([False, True]),
            "deliver": rnd.choice([True, True, True, False])})
        edits, trace = rnd.randint(1, 4), []
        for e in range(edits):
            name = "model %d.%d" % (k, e)
            side = "pb" if rnd.random() < 0.5 else "tracker"
            if side == "pb":
                s.pb.call("PATCH", "/_double/features/" + fid,
                          {"name": name})
            else:
                tr.edit(n, title=name)
            pause = rnd.choice([0, 0.05, 0.3, 1.1])
            trace.append((side, name, pause))
            time.sleep(pause)
        tr.d.call("POST", "/_double/config", {"deliver": True,
                                              "duplicate_deliveries": 0,
                                              "reorder_deliveries": False})
        s.ctl("reconcile")
        # Edits less than 0.3 s apart on both sides are concurrent: with
        # no conditional writes in either API either may win, but both
        # sides must agree on one of them, never on a stale one.
        latest = [trace[-1][1]]
        for side, name, pause in reversed(trace[:-1]):
            if pause >= 0.3:
                break
            latest.append(name)
        settled = wait_for(lambda: feature(fid)["name"] in latest and
                           tr.issue(n)["title"] == feature(fid)["name"], 20)
        idle()
        w = len(tr.writes(n)) - w0 + len(pb_patches(fid)) - p0
        if not settled or w > edits:
            bad.append((k, settled, w, trace))
            print("# model run %d (seed %s): settled=%s writes=%d trace=%s"
                  % (k, os.environ.get("PBSYNC_E2E_MODEL_SEED", "1234"),
                     settled, w, trace))
    check(tr, "model test: %d random sequences of edits on both sides, "
          "deliveries duplicated, reordered or dropped" % runs,
          "every one converges, at most one write per edit",
          "%d of %d failed" % (len(bad), runs), n is not None and not bad)


def github_only():
    """Behaviour only GitHub has: its secondary rate limit."""
    tr = trackers.GitHub(s)
    env = {"PBSYNC_PB_TOKEN": fx.PB_TOKEN, "PBSYNC_TRACKER_TOKEN": tr.token}
    r = s.ctl("integration", "add", "--name", "Limits",
              *tr.integration_args(), env=env, check=False)
    iid = r.stdout.strip()
    pid = fx.plugin_id(s, iid) if r.returncode == 0 else None
    s.gh.call("POST", "/_double/faults", {
        "match": r"^POST /repos/[^/]+/[^/]+/issues$", "status": 403,
        "count": 1, "headers": {"retry-after": "2"}})
    fid = fx.feature(s, "Held by a secondary limit")
    first = fx.click(s, pid, fid).get("connection", {}).get("state")
    landed = wait_for(lambda: [i for i in tr.issues() if i["title"] ==
                               "Held by a secondary limit"], 30)
    pause = [line for line in s.log().splitlines()
             if "github rate limit: pausing calls for 2s" in line]
    check(tr, "GitHub answers a create with its secondary limit (403, "
          "retry-after: 2)", "progress, a pause of 2 s, then the issue",
          "%s; paused %s; issue %s" % (first, bool(pause),
                                       "created" if landed else "missing"),
          first == "progress" and bool(pause) and bool(landed))


def jira_only():
    """What only Jira has: workflows whose transitions decide which
    status can follow which, a workflow changed between two syncs, and
    descriptions holding what Productboard cannot (a panel, a mention)."""
    tr = trackers.Jira(s)
    st = fx.status_ids(s)
    # Planned is In Review, a status of the workflow; the rest by class.
    smap = {"to_tracker": {st["New"]: {"state": "opened"},
                           st["Planned"]: {"state": "In Review"},
                           st["In Progress"]: {"state": "opened"},
                           st["Done"]: {"state": "closed"}},
            "to_productboard": {"In Review": st["Planned"],
                                "done": st["Done"],
                                "opened": st["In Progress"]}}
    everywhere = {"statuses": [{"name": "To Do", "category": "new"},
                               {"name": "In Progress",
                                "category": "indeterminate"},
                               {"name": "In Review",
                                "category": "indeterminate"},
                               {"name": "Done", "category": "done"}],
                  "transitions": [{"id": str(10 * k + 11), "name": n,
                                   "to": n} for k, n in enumerate((
                                       "To Do", "In Progress", "In Review",
                                       "Done"))]}
    s.jr.call("POST", "/_double/projects/%s/workflow" % tr.project,
              everywhere)
    rc, iid, err = tr.create_integration("Workflows", extra=(
        "--status-map", json.dumps(smap)))
    pid = fx.plugin_id(s, iid) if rc == 0 else None
    fid = fx.feature(s, "Through the workflow")
    fx.click(s, pid, fid)
    mine = [i for i in tr.issues() if i["title"] == "Through the workflow"]
    n = mine[0]["number"] if mine else None
    idle()

    def status_is(name):
        return tr.issue(n) is not None and tr.issue(n)["status"] == name

    s.pb.call("PATCH", "/_double/features/" + fid,
              {"status": {"id": st["Planned"]}})
    named = wait_for(lambda: status_is("In Review"), 20)
    idle()
    tr.edit(n, status="In Progress")
    by_class = wait_for(lambda: status_name(fid) == "In Progress", 20)
    idle()
    tr.edit(n, status="In Review")
    by_name = wait_for(lambda: status_name(fid) == "Planned", 20)
    idle()
    check(tr, "a status map naming a Jira status (Planned is In Review), "
          "the others by class", "Planned moves the issue to In Review; "
          "In Progress (unnamed) maps by its class; In Review maps back "
          "by its name", "%s; %s; %s" % (
              "In Review" if named else "not moved",
              "by class" if by_class else "not by class",
              "by name" if by_name else "not by name"),
          named and by_class and by_name)

    flow = {"statuses": [{"name": "To Do", "category": "new"},
                         {"name": "In Progress",
                          "category": "indeterminate"},
                         {"name": "In Review", "category": "indeterminate"},
                         {"name": "Done", "category": "done"}],
            "transitions": [
                {"id": "11", "name": "Start", "to": "In Progress",
                 "from": ["To Do"]},
                {"id": "21", "name": "Review", "to": "In Review",
                 "from": ["In Progress"]},
                {"id": "31", "name": "Finish", "to": "Done",
                 "from": ["In Review"]},
                {"id": "41", "name": "Reopen", "to": "To Do",
                 "from": ["Done"]}]}
    tr.edit(n, status="To Do")
    wait_for(lambda: status_name(fid) == "In Progress", 20)
    idle()
    s.jr.call("POST", "/_double/projects/%s/workflow" % tr.project, flow)

    def dead(text):
        return [e for (e,) in s.sql("SELECT last_error FROM job WHERE"
                                    " state = 'dead' AND integration_id"
                                    " = ?", iid) if text in (e or "")]

    s.pb.call("PATCH", "/_double/features/" + fid,
              {"status": {"id": fx.status_ids(s)["Done"]}})
    failed = wait_for(lambda: dead("no transition"), 20)
    idle()
    check(tr, "Done set in Productboard while the workflow allows no "
          "transition from To Do to a done status", "a failed job that "
          "says so; the issue stays in To Do",
          "%s; issue in %s" % (failed and failed[0],
                               tr.issue(n) and tr.issue(n)["status"]),
          bool(failed) and status_is("To Do"))

    tr.edit(n, status="In Progress")
    tr.edit(n, status="In Review")
    moved = wait_for(lambda: status_name(fid) == "Planned", 20)
    idle()
    check(tr, "a person moves the issue on, through the workflow, to In "
          "Review", "the feature is Planned (the later change wins the "
          "conflict with Done)", status_name(fid), moved)

    w0 = len(tr.writes(n))
    s.pb.call("PATCH", "/_double/features/" + fid,
              {"status": {"id": fx.status_ids(s)["Done"]}})
    done = wait_for(lambda: status_is("Done"), 20)
    idle()
    check(tr, "Done set in Productboard with the issue in In Review",
          "the one transition there is (Finish) makes it Done, one write",
          "issue in %s; %d writes" % (tr.issue(n)["status"],
                                      len(tr.writes(n)) - w0),
          done and len(tr.writes(n)) - w0 == 1)

    # The admin changes the workflow between two syncs: Finish is gone,
    # Ship leads to Done instead.
    tr.edit(n, status="To Do")
    wait_for(lambda: status_name(fid) != "Done", 20)
    tr.edit(n, status="In Progress")
    tr.edit(n, status="In Review")
    idle()
    flow["transitions"][2] = {"id": "51", "name": "Ship", "to": "Done",
                              "from": ["In Review"]}
    s.jr.call("POST", "/_double/projects/%s/workflow" % tr.project, flow)
    s.pb.call("PATCH", "/_double/features/" + fid,
              {"status": {"id": fx.status_ids(s)["Done"]}})
    shipped = wait_for(lambda: status_is("Done"), 20)
    idle()
    used = [r for r in tr.api("POST", r"/transitions$")
            if '"51"' in json.dumps(r.get("body"))]
    check(tr, "the workflow changed between two syncs (transition 31 "
          "replaced by 51)", "the next sync finds the new transition",
          "issue in %s; transition 51 %s" % (
              tr.issue(n)["status"], "used" if used else "not seen"),
          shipped and bool(used))

    # A person reopens the issue just after pbsync's transition to Done,
    # before pbsync reads the issue back: the reopening is theirs.
    tr.edit(n, status="To Do")
    wait_for(lambda: status_name(fid) == "In Progress", 20)
    tr.edit(n, status="In Progress")
    tr.edit(n, status="In Review")
    wait_for(lambda: status_name(fid) == "Planned", 20)
    idle()
    s.jr.call("POST", "/_double/issues/%s-%d/transitions" % (tr.project, n),
              {"as_user": tr.human_email, "transition": "Reopen",
               "after": "next transition"})
    s.pb.call("PATCH", "/_double/features/" + fid,
              {"status": {"id": fx.status_ids(s)["Done"]}})
    back = wait_for(lambda: status_is("To Do") and
                    status_name(fid) == "In Progress", 20)
    idle()
    check(tr, "a person reopens the issue between pbsync's transition to "
          "Done and its read of the issue", "the reopening reaches "
          "Productboard: the feature is In Progress again",
          "issue in %s; feature %s" % (tr.issue(n)["status"],
                                       status_name(fid)),
          back and status_is("To Do") and status_name(fid) == "In Progress")

    # A name longer than a Jira summary takes.
    long = "Long name " + "x" * 290
    s.pb.call("PATCH", "/_double/features/" + fid, {"name": long})
    cut = wait_for(lambda: tr.issue(n)["title"] == long[:255], 20)
    idle()
    said = [d for (d,) in s.sql("SELECT detail FROM sync_log WHERE"
                                " integration_id = ?", iid)
            if "summary cut to 255 characters" in d]
    check(tr, "a 300-character name set in Productboard", "the summary is "
          "its first 255 characters, and the sync log says so",
          "%d characters; log %r" % (len(tr.issue(n)["title"]),
                                     said[-1] if said else None),
          cut and bool(said) and feature(fid)["name"] == long)

    # A description with what Productboard cannot hold.
    doc = {"type": "doc", "version": 1, "content": [
        {"type": "panel", "attrs": {"panelType": "info"}, "content": [
            {"type": "paragraph", "content": [
                {"type": "text", "text": "Ask "},
                {"type": "mention", "attrs": {"id": "5b10a2844c20165700ede21g",
                                              "text": "@Alice"}},
                {"type": "text", "text": " before the release."}]}]}]}
    w0 = len(tr.writes(n))
    tr.edit(n, body=json.dumps(doc))
    seen = wait_for(lambda: "before the release" in
                    feature(fid)["description"], 20)
    idle()
    desc = feature(fid)["description"]
    kept = json.loads(tr.issue(n)["body"] or "{}")
    check(tr, "a person writes a panel with a mention in the issue",
          "Productboard gets its text (the mention as plain text); the "
          "issue keeps its panel, no write back",
          "%r; panel %s; %d writes" % (desc[:120], "kept" if "panel" in
                                       json.dumps(kept) else "lost",
                                       len(tr.writes(n)) - w0),
          seen and "@Alice" in desc and "<" not in desc.replace(
              "<p>", "").replace("</p>", "").replace("<br/>", "") and
          "panel" in json.dumps(kept) and len(tr.writes(n)) == w0)


try:
    s.pb.call("POST", "/_double/tokens", {"token": fx.PB_TOKEN})
    s.start_worker()
    admin = AdminSession(s)
    # Every backend, or those PBSYNC_E2E_TRACKERS names.
    kinds = [cls.kind for cls in trackers.chosen(every=True)]
    for cls in trackers.chosen(every=True):
        one_tracker(cls, admin)
    if "github" in kinds:
        github_only()
    if "jira" in kinds:
        jira_only()
finally:
    s.stop(t)
t.done()
