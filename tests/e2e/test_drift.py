"""Deletion and drift: a feature deleted in Productboard, an issue deleted
in GitLab (no webhook exists for that: reconcile finds it), and an issue
moved to another project (the link follows it)."""
from harness import Stack, Tap, wait_for
import fixtures as fx
import reliability

t = Tap()
s = Stack(env={"PBSYNC_RECONCILE_INTERVAL_S": "3600"})


def link_of(fid):
    return s.sql("SELECT CAST(substr(issue_ref, instr(issue_ref, '/') + 1) AS INTEGER), CAST(substr(issue_ref, 1, instr(issue_ref, '/') - 1) AS INTEGER) FROM link WHERE"
                 " feature_id = ?", fid)


def issue_by_title(title):
    return [i for i in fx.issues(s) if i["title"] == title]


try:
    fx.seed(s)
    s.gl.call("POST", "/_double/projects", {"id": 1002, "name": "other",
                                            "path_with_namespace": "grp/other"})
    rc, iid, err = fx.create_integration(s, extra=("--on-delete", "close"))
    if rc != 0:
        raise SystemExit(err)
    pid = fx.plugin_id(s, iid)
    s.start_worker()
    # The worker reconciles once as it starts: let that pass, so that only
    # the explicit reconcile below can find the deleted issue.
    t.ok(wait_for(lambda: "worker started" in s.log(), 20) and
         fx.idle(s, 30, settled=True), "the worker's first reconcile is over")

    # -- feature deleted: unlink, the issue is kept and closed -------------
    fid = fx.feature(s, "Doomed feature")
    t.eq(fx.click(s, pid, fid)["connection"]["state"], "connected", "pushed")
    s.pb.call("DELETE", "/_double/features/" + fid)
    t.ok(wait_for(lambda: not link_of(fid), 15),
         "a feature deleted in Productboard removes its link")
    i = issue_by_title("Doomed feature")
    t.eq(len(i), 1, "the issue is kept")
    t.ok(wait_for(lambda: issue_by_title("Doomed feature")[0]["state"] ==
                  "closed", 10), "and closed, as the integration says")
    t.ok(wait_for(lambda: any(a == "feature deleted" for (a,) in
                  s.sql("SELECT action FROM sync_log")), 10),
         "the sync log says so")

    # -- issue deleted in GitLab: reconcile resets the button ----------------
    fid2 = fx.feature(s, "Issue goes away")
    t.eq(fx.click(s, pid, fid2)["connection"]["state"], "connected", "pushed")
    n = link_of(fid2)[0][0]
    # The issue's own creation event is handled first, retries included.
    t.ok(fx.idle(s, 30, settled=True), "the push's own events are settled")
    s.gl.call("DELETE", "/_double/projects/%d/issues/%d" % (fx.PROJECT, n))
    fx.idle(s, settled=True)
    t.eq(len(link_of(fid2)), 1, "GitLab sends nothing for a deletion")
    s.ctl("reconcile")
    t.ok(wait_for(lambda: not link_of(fid2), 15),
         "reconcile finds the deleted issue and removes the link")
    t.eq(fx.connection(s, pid, fid2)["data"]["fields"]["connection"]["state"],
         "initial", "the column is back to initial")

    # -- issue moved: the link follows it --------------------------------------
    fid3 = fx.feature(s, "Moving issue")
    t.eq(fx.click(s, pid, fid3)["connection"]["state"], "connected", "pushed")
    n = link_of(fid3)[0][0]
    # pbsync's token sees both projects, as it must to follow a move.
    for tok, uid, name in (("glpat-mover-0123456789", 9, "mover"),
                           (fx.GL_TOKEN, 77, "pbsync-bot")):
        s.gl.call("POST", "/_double/users", {
            "token": tok, "id": uid, "username": name, "name": name,
            "projects": {str(fx.PROJECT): "maintainer", "1002": "maintainer"}})
    r = s.gl.call("POST", "/_double/projects/%d/issues/%d/move" %
                  (fx.PROJECT, n), {"to_project": 1002, "as_user": "mover"})
    t.ok(wait_for(lambda: link_of(fid3) and link_of(fid3)[0][1] == 1002, 15),
         "a moved issue: the link follows it to the new project",
         link_of(fid3))
    fx.idle(s)

    # -- a copied marker takes no link over ------------------------------------
    # alice (a developer) plants an issue carrying a feature's marker where
    # pbsync's token reads it; the real issue then moves to a project the
    # token cannot read.  The link must not go to alice's issue.
    s.gl.call("POST", "/_double/projects", {
        "id": 1003, "name": "hidden", "path_with_namespace": "grp/hidden"})
    s.gl.call("POST", "/_double/users", {
        "token": "glpat-human-0123456789", "id": 5, "username": "alice",
        "name": "Alice", "projects": {str(fx.PROJECT): "developer",
                                      "1002": "developer"}})
    s.gl.call("POST", "/_double/users", {
        "token": "glpat-mover-0123456789", "id": 9, "username": "mover",
        "name": "mover", "projects": {str(fx.PROJECT): "maintainer",
                                      "1002": "maintainer",
                                      "1003": "maintainer"}})
    fid4 = fx.feature(s, "Target of a takeover")
    t.eq(fx.click(s, pid, fid4)["connection"]["state"], "connected", "pushed")
    n4 = link_of(fid4)[0][0]
    t.ok(fx.idle(s, 30, settled=True), "its own events are settled")
    planted = s.gl.call("POST", "/_double/projects/1002/issues", {
        "title": "Harmless", "as_user": "alice",
        "description": "x\n\n<!-- pbsync:feature=%s -->\n" % fid4})
    # And a copy the bot itself wrote (an older issue of the feature): it
    # is not where GitLab says the issue went either.
    stale = s.gl.call("POST", "/_double/projects/1002/issues", {
        "title": "Older copy", "as_user": "pbsync-bot",
        "description": "y\n\n<!-- pbsync:feature=%s -->\n" % fid4})
    s.gl.call("POST", "/_double/projects/%d/issues/%d/move" %
              (fx.PROJECT, n4), {"to_project": 1003, "as_user": "mover"})
    gone = wait_for(lambda: not link_of(fid4), 15)
    reliability.check(t, "security", "an issue moves out of the token's "
                      "sight while other issues (another user's, and one "
                      "the bot wrote) carry copies of its marker",
                      "the link goes; no copy is taken",
                      "link %s" % (link_of(fid4) or "removed"), gone)
    t.ok(any("not pbsync's" in (d or "") for (d,) in s.sql(
        "SELECT detail FROM sync_log WHERE feature_id = ?", fid4)),
         "the sync log says why")
    t.eq([i["title"] for i in fx.issues(s) if i["id"] in (
        planted["id"], stale["id"])], ["Harmless", "Older copy"],
        "the issues with copies of the marker are left alone")
    fx.idle(s)
finally:
    s.stop(t)
t.done()
