"""Deletion and drift: a feature deleted in Productboard, an issue deleted
in the tracker (GitLab sends nothing for that: reconcile finds it; GitHub
sends `deleted`), and an issue moved elsewhere (GitLab: the link follows
it; GitHub: a transferred issue is gone for pbsync, the link ends; Jira:
a moved issue is gone for pbsync too, and only a reconcile sees the move,
the webhook's JQL not matching it in its new project).
Runs once per tracker (tests/e2e/trackers.py)."""
from harness import Tap, wait_for
import fixtures as fx
import reliability
import trackers

t = Tap()


def suite(s, tr):
    def link_of(fid):
        """(issue number, issue_ref) of the feature's link."""
        return [(tr.key_number(key), ref) for key, ref in s.sql(
            "SELECT issue_key, issue_ref FROM link WHERE feature_id = ?",
            fid)]

    def issue_by_title(title):
        return [i for i in tr.issues() if i["title"] == title]

    # The tracker's other projects (GitLab) or repositories (GitHub), as
    # their admins make them: nobody has a role there yet.
    owner = tr.project.split("/")[0]
    other = tr.bare_project(owner + "/other")
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
    if not tr.sends_delete:
        t.eq(len(link_of(fid2)), 1, "%s sends nothing for a deletion" %
             tr.title)
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
    tr.grant("mover", "tok-mover-0123456789", (tr, other), "admin")
    tr.grant(trackers.BOT, tr.token, (tr, other), "admin")
    path = tr.issue_path(n)
    tr.clear()
    tr.move(n, other, "mover")
    if not tr.sends_move:
        fx.idle(s, settled=True)
        t.eq(len(link_of(fid3)), 1, "%s sends nothing for a move out of "
             "the project" % tr.title)
        s.ctl("reconcile")
    if tr.moves_keep_link:
        t.ok(wait_for(lambda: link_of(fid3) and other.holds(
            link_of(fid3)[0][1]), 15),
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
        t.eq([r["method"] + " " + r["path"] for r in tr.all_writes()
              if r["path"] == path or r["path"].startswith(path + "/")],
             [],
             "no write reaches the issue in its new place")
    fx.idle(s)

    # -- a copied marker takes no link over ------------------------------------
    # alice (a developer) plants an issue carrying a feature's marker where
    # pbsync's token reads it; the real issue then moves to a place the
    # token cannot read.  The link must not go to alice's issue.
    hidden = tr.bare_project(owner + "/hidden")
    tr.grant(trackers.HUMAN, tr.human_token, (tr, other), "write")
    tr.grant("mover", "tok-mover-0123456789", (tr, other, hidden), "admin")
    fid4 = fx.feature(s, "Target of a takeover")
    t.eq(fx.click(s, pid, fid4)["connection"]["state"], "connected", "pushed")
    n4 = link_of(fid4)[0][0]
    t.ok(fx.idle(s, 30, settled=True), "its own events are settled")
    planted = other.open_issue("Harmless",
                               "x\n\n<!-- pbsync:feature=%s -->\n" % fid4,
                               trackers.HUMAN)
    # And a copy the bot itself wrote (an older issue of the feature): it
    # is not where the tracker says the issue went either.
    stale = other.open_issue("Older copy",
                             "y\n\n<!-- pbsync:feature=%s -->\n" % fid4,
                             trackers.BOT)
    tr.move(n4, hidden, "mover")
    if not tr.sends_move:
        s.ctl("reconcile")
    gone = wait_for(lambda: not link_of(fid4), 15)
    reliability.check(t, "security", "an issue moves out of the token's "
                      "sight while other issues (another user's, and one "
                      "the bot wrote) carry copies of its marker",
                      "the link goes; no copy is taken",
                      "link %s" % (link_of(fid4) or "removed"), gone)
    def why():
        return s.sql("SELECT action, detail FROM sync_log WHERE"
                     " feature_id = ?", fid4)
    if tr.moves_keep_link:
        # Where pbsync follows a move, it looked for the issue and refused
        # the copies it found on the way.
        t.ok(any("not pbsync's" in (d or "") for _, d in why()),
             "the sync log says why", why())
    else:
        # A transfer takes the deleted issue's way: the row does not name
        # the transfer, and is written after the link is gone.
        t.ok(wait_for(lambda: ("issue deleted", "link removed") in why(),
                      10), "the sync log records the link's end (as for "
             "a deleted issue)", why())
    t.eq(tr.titles_of((planted["id"], stale["id"])),
         ["Harmless", "Older copy"],
         "the issues with copies of the marker are left alone")
    fx.idle(s)

    if tr.kind in SCANS:
        paged_reconcile(s, tr, pid, other, link_of)


# The trackers whose backend reads a page of issues in one call (scan).
SCANS = ("gitlab",)
BULK = 150      # links: two pages of 100


def paged_reconcile(s, tr, pid, other, link_of):
    """A reconcile reads the links in pages, one call per side a page;
    only the links that changed while no delivery came cost calls of
    their own, and it still finds them all."""
    import math
    from concurrent.futures import ThreadPoolExecutor
    fids = [fx.feature(s, "Bulk %03d" % k, "<p>Bulk text %d</p>" % k)
            for k in range(BULK)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda f: fx.click(s, pid, f), fids))
    t.ok(fx.idle(s, 120, settled=True), "%d features pushed" % BULK)
    # The changed ones are the last: on the last page of links.
    f_title, f_name, f_gone, f_moved, f_body, f_status, f_desc = fids[-7:]
    n_moved = link_of(f_moved)[0][0]
    # Closed before it moves: only the move tells its husk from the issue.
    tr.edit(n_moved, state="closed")
    t.ok(fx.idle(s, 30, settled=True), "an issue closed, its sync over")
    ids = [i for (i,) in s.sql("SELECT id FROM link WHERE state = "
                               "'linked' ORDER BY id")]
    t.ok(len(ids) >= BULK, "%d links to reconcile" % len(ids), len(ids))
    # Productboard's list pages are its own to size: 60 here, so a page
    # of 100 links takes two. No delivery reaches pbsync from now on.
    s.pb.call("POST", "/_double/config", {"page_size": 60})
    for d in (s.pb, s.td):
        d.call("POST", "/_double/config", {"deliver": False})
    tr.edit(link_of(f_title)[0][0], title="Bulk renamed in the tracker")
    tr.edit(link_of(f_body)[0][0], body="Bulk text rewritten")
    tr.delete(link_of(f_gone)[0][0])
    tr.move(n_moved, other, "mover")
    for f, change in ((f_name, {"name": "Bulk renamed in Productboard"}),
                      (f_status, {"status": {"name": "Done"}}),
                      (f_desc, {"description": "<p>New PB text</p>"})):
        s.pb.call("PATCH", "/_double/features/" + f, change)
    s.pb.call("DELETE", "/_double/requests")
    tr.clear()
    s.ctl("reconcile")
    t.ok(fx.idle(s, 60, settled=True), "the reconcile is over")
    pb_calls = [r["method"] + " " + r["path"] for r in
                s.pb.call("GET", "/_double/requests")
                if not r["path"].startswith("/_double")]
    tr_calls = [r["method"] + " " + r["path"] for r in tr.api()]
    pages = [len(ids[k:k + 100]) for k in range(0, len(ids), 100)]
    # A changed link takes the per-link path: a read of the issue, both
    # sides read again, a re-read before the write, the write, the column.
    budget = 2 * len(pages) + 8 * 7
    t.ok(len(pb_calls) + len(tr_calls) <= budget,
         "reconcile of %d links, 7 changed: %d calls (%d Productboard, %d "
         "%s), at most %d" % (len(ids), len(pb_calls) + len(tr_calls),
                              len(pb_calls), len(tr_calls), tr.title,
                              budget), pb_calls + tr_calls)
    t.eq(len([c for c in pb_calls if c == "POST /v2/entities/search"]),
         sum(math.ceil(n / 60) for n in pages),
         "Productboard's search, page by page of its answer")
    feature = lambda f: s.pb.call("GET", "/_double/state")["features"][f]
    issue = lambda f: [i for i in tr.issues()
                       if i["number"] == link_of(f)[0][0]][0]
    t.ok(wait_for(lambda: feature(f_title)["name"] ==
                  "Bulk renamed in the tracker", 10),
         "a rename in the tracker whose delivery was lost reaches "
         "Productboard")
    t.ok(wait_for(lambda: "Bulk text rewritten" in
                  feature(f_body)["description"], 10),
         "so does a new description", feature(f_body))
    t.ok(wait_for(lambda: issue(f_name)["title"] ==
                  "Bulk renamed in Productboard", 10),
         "a rename in Productboard whose delivery was lost reaches the "
         "tracker")
    t.ok(wait_for(lambda: issue(f_status)["state"] == "closed", 10),
         "so does a status, as the issue's state", issue(f_status))
    t.ok(wait_for(lambda: "New PB text" in issue(f_desc)["body"], 10),
         "and a description", issue(f_desc))
    t.ok(wait_for(lambda: not link_of(f_gone), 10),
         "a deleted issue's link is removed")
    t.ok(wait_for(lambda: link_of(f_moved) and other.holds(
        link_of(f_moved)[0][1]), 10),
        "a moved issue's link follows it, closed as it was",
        link_of(f_moved))
    for d in (s.pb, s.td):
        d.call("POST", "/_double/config", {"deliver": True})


trackers.each(t, suite, env={"PBSYNC_RECONCILE_INTERVAL_S": "3600"})
