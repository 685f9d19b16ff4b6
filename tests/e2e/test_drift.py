"""Deletion and drift: a feature deleted in Productboard, an issue deleted
in the tracker (GitLab sends nothing for that: reconcile finds it; GitHub
sends `deleted`), and an issue moved elsewhere (GitLab: the link follows
it; GitHub: a transferred issue is gone for pbsync, the link ends).
Runs once per tracker (tests/e2e/trackers.py)."""
from harness import Tap, wait_for
import fixtures as fx
import reliability
import trackers

t = Tap()


class Places:
    """The tracker's other projects (GitLab) or repositories (GitHub), as
    their admins make them, and what people do across them: grant a
    role, move (transfer) an issue, open an issue there."""

    def __init__(self, tr):
        self.tr, self.d, self.gl = tr, tr.d, tr.kind == "gitlab"
        self.home = tr.pid if self.gl else tr.project

    def add(self, name, number):
        """A new project or repository: its handle for the calls below."""
        if self.gl:
            self.d.call("POST", "/_double/projects", {
                "id": number, "name": name,
                "path_with_namespace": "grp/" + name})
            return number
        full = "acme/" + name
        self.d.call("POST", "/_double/repos", {"full_name": full,
                                               "private": True})
        return full

    def grant(self, user, uid, token, places, role):
        """user's role on each of places (the maintainer or admin role for
        "admin", the developer or write role for "write")."""
        if self.gl:
            role = {"admin": "maintainer", "write": "developer"}[role]
            self.d.call("POST", "/_double/users", {
                "token": token, "id": uid, "username": user, "name": user,
                "projects": {str(p): role for p in places}})
        else:
            role = {"admin": "admin", "write": "push"}[role]
            self.d.call("POST", "/_double/users", {
                "login": user, "token": token,
                "repos": {p: role for p in places}})

    def move(self, number, to, as_user):
        if self.gl:
            return self.d.call("POST", "/_double/projects/%d/issues/%d/move"
                               % (self.home, number),
                               {"to_project": to, "as_user": as_user})
        return self.d.call("POST", "/_double/repos/%s/issues/%d/transfer" %
                           (self.home, number), {"to": to,
                                                 "as_user": as_user})

    def open(self, where, title, body, as_user):
        """An issue opened in the web UI: the double's view of it."""
        if self.gl:
            return self.d.call("POST", "/_double/projects/%d/issues" % where,
                               {"title": title, "description": body,
                                "as_user": as_user})
        return self.d.call("POST", "/_double/repos/%s/issues" % where,
                           {"title": title, "body": body,
                            "as_user": as_user})

    def titles(self, ids):
        """The titles of the issues with these ids, wherever they are."""
        v = self.d.call("GET", "/_double/state")["issues"]
        return [i["title"] for i in (v.values() if isinstance(v, dict)
                                     else v) if i["id"] in ids]


def suite(s, tr):
    def link_of(fid):
        """(issue number, GitLab project id or 0) of the feature's link."""
        return s.sql("SELECT CAST(substr(issue_ref, instr(issue_ref, '/')"
                     " + 1) AS INTEGER), CAST(substr(issue_ref, 1,"
                     " instr(issue_ref, '/') - 1) AS INTEGER) FROM link"
                     " WHERE feature_id = ?", fid)

    def issue_by_title(title):
        return [i for i in tr.issues() if i["title"] == title]

    pl = Places(tr)
    other = pl.add("other", 1002)
    rc, iid, err = fx.create_integration(s, extra=("--on-delete", "close"))
    if rc != 0:
        raise RuntimeError(err)
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

    # -- issue deleted in the tracker: the button is reset -----------------
    fid2 = fx.feature(s, "Issue goes away")
    t.eq(fx.click(s, pid, fid2)["connection"]["state"], "connected", "pushed")
    n = link_of(fid2)[0][0]
    # The issue's own creation event is handled first, retries included.
    t.ok(fx.idle(s, 30, settled=True), "the push's own events are settled")
    tr.delete(n)
    fx.idle(s, settled=True)
    if tr.kind == "gitlab":
        t.eq(len(link_of(fid2)), 1, "GitLab sends nothing for a deletion")
        s.ctl("reconcile")
        t.ok(wait_for(lambda: not link_of(fid2), 15),
             "reconcile finds the deleted issue and removes the link")
    else:
        t.ok(wait_for(lambda: not link_of(fid2), 15),
             "the deleted event removes the link, no reconcile needed")
    t.eq(fx.connection(s, pid, fid2)["data"]["fields"]["connection"]["state"],
         "initial", "the column is back to initial")

    # -- issue moved: GitLab's link follows it, GitHub's transfer ends it --
    fid3 = fx.feature(s, "Moving issue")
    t.eq(fx.click(s, pid, fid3)["connection"]["state"], "connected", "pushed")
    n = link_of(fid3)[0][0]
    # pbsync's token sees both places, as it must to follow a move.
    pl.grant("mover", 9, "tok-mover-0123456789", (pl.home, other), "admin")
    pl.grant(trackers.BOT, 77, tr.token, (pl.home, other), "admin")
    pl.move(n, other, "mover")
    if tr.kind == "gitlab":
        t.ok(wait_for(lambda: link_of(fid3) and link_of(fid3)[0][1] ==
                      other, 15),
             "a moved issue: the link follows it to the new project",
             link_of(fid3))
    else:
        t.ok(wait_for(lambda: not link_of(fid3), 15),
             "a transferred issue is gone for pbsync: the link is removed",
             link_of(fid3))
        t.ok(wait_for(lambda: fx.connection(s, pid, fid3)["data"]["fields"]
                      ["connection"]["state"] == "initial", 15),
             "and the column is back to initial")
    fx.idle(s)

    # -- a copied marker takes no link over ------------------------------------
    # alice (a developer) plants an issue carrying a feature's marker where
    # pbsync's token reads it; the real issue then moves to a place the
    # token cannot read.  The link must not go to alice's issue.
    hidden = pl.add("hidden", 1003)
    pl.grant(trackers.HUMAN, 5, tr.human_token, (pl.home, other), "write")
    pl.grant("mover", 9, "tok-mover-0123456789", (pl.home, other, hidden),
             "admin")
    fid4 = fx.feature(s, "Target of a takeover")
    t.eq(fx.click(s, pid, fid4)["connection"]["state"], "connected", "pushed")
    n4 = link_of(fid4)[0][0]
    t.ok(fx.idle(s, 30, settled=True), "its own events are settled")
    planted = pl.open(other, "Harmless",
                      "x\n\n<!-- pbsync:feature=%s -->\n" % fid4,
                      trackers.HUMAN)
    # And a copy the bot itself wrote (an older issue of the feature): it
    # is not where the tracker says the issue went either.
    stale = pl.open(other, "Older copy",
                    "y\n\n<!-- pbsync:feature=%s -->\n" % fid4, trackers.BOT)
    pl.move(n4, hidden, "mover")
    gone = wait_for(lambda: not link_of(fid4), 15)
    reliability.check(t, "security", "an issue moves out of the token's "
                      "sight while other issues (another user's, and one "
                      "the bot wrote) carry copies of its marker",
                      "the link goes; no copy is taken",
                      "link %s" % (link_of(fid4) or "removed"), gone)
    def why():
        return s.sql("SELECT action, detail FROM sync_log WHERE"
                     " feature_id = ?", fid4)
    if tr.kind == "gitlab":
        t.ok(any("not pbsync's" in (d or "") for _, d in why()),
             "the sync log says why", why())
    else:
        # A transfer takes the deleted issue's way: the row does not name
        # the transfer, and is written after the link is gone.
        t.ok(wait_for(lambda: ("issue deleted", "link removed") in why(),
                      10), "the sync log records the link's end (as for "
             "a deleted issue)", why())
    t.eq(pl.titles((planted["id"], stale["id"])), ["Harmless", "Older copy"],
         "the issues with copies of the marker are left alone")
    fx.idle(s)


trackers.each(t, suite, env={"PBSYNC_RECONCILE_INTERVAL_S": "3600"})
