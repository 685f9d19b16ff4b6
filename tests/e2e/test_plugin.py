"""The Productboard column as pbsync serves it in the cron set-up, end to
end: action_reply = both (every answer also carries the v1 key
data.connection), no worker and job_budget_ms = 0 (jobs wait for
pbsyncctl drain, which runs them and exits), and a push whose create
answer is lost because the tracker is slower than http_timeout_ms: the
pending link keeps the retry off while that create may still land, and the
retry then finds the issue by its marker instead of making a second one.
A push whose program is killed before its create is finished by the job
its click scheduled with the pending link.  Runs once per tracker
(tests/e2e/trackers.py)."""
import json
import os
import signal
import subprocess
import time

import fixtures as fx
import trackers
from harness import Tap, wait_for

SLOW_OK = {"PBSYNC_HTTP_TIMEOUT_MS": "8000"}

t = Tap()


def reply(r):
    """(data.fields.connection, data.connection) of a click's answer."""
    try:
        d = json.loads(r.get("body") or "").get("data") or {}
    except (ValueError, AttributeError):
        d = {}
    return (d.get("fields") or {}).get("connection") or {}, \
        d.get("connection")


def suite(s, tr):
    def both_shapes(r, state, what):
        v2, v1 = reply(r)
        t.ok(v2.get("state") == state and v1 == v2, "%s answers %s in "
             "data.fields.connection and the same in data.connection" %
             (what, state), r.get("body"))

    def stored(fid):
        return fx.connection(s, pid, fid)["data"]["fields"][
            "connection"].get("state")

    def issues(title):
        return [i for i in tr.issues() if i["title"] == title]

    def creates(title):
        """The tracker's create requests for title, answered or held."""
        return [q for q in tr.creates() if isinstance(q["body"], dict) and
                tr.create_title(q["body"]) == title]

    def jobs(kind, key):
        return s.sql("SELECT state, run_at FROM job WHERE kind = ? AND"
                     " key = ?", kind, key)

    def linked_number(fid):
        """(state, issue number) of the feature's link rows."""
        return [(st, tr.key_number(key)) for st, key in s.sql(
            "SELECT state, issue_key FROM link WHERE feature_id = ?", fid)]

    def delivered():
        """Waits until both doubles have no webhook queued or in flight
        (no job runs here, so fixtures.idle would wait for them in
        vain)."""
        return all(d.call("POST", "/_double/wait", {"deliveries_idle": True,
                                                    "timeout": 10})
                   .get("idle") for d in (s.pb, s.td))

    def drain():
        """pbsyncctl drain: its exit status, or None when it did not
        exit."""
        try:
            return subprocess.run(
                s.wrap() + [s.binary("pbsyncctl"), "drain"],
                env=dict(s.env, **SLOW_OK), capture_output=True,
                timeout=30).returncode
        except subprocess.TimeoutExpired:
            return None

    rc, iid, err = fx.create_integration(s, env=SLOW_OK)
    t.eq(rc, 0, "an integration is created through pbsyncctl")
    if rc != 0:
        raise RuntimeError(err)
    pid = fx.plugin_id(s, iid)

    # -- action_reply = both ------------------------------------------------
    fa = fx.feature(s, "Answered in both shapes")
    r = fx.click(s, pid, fa)
    both_shapes(r, "connected", "push")
    t.eq(stored(fa), "connected", "Productboard applied the reply")

    # -- a create whose answer is lost --------------------------------------
    fc = fx.feature(s, "Create answer lost")
    s.td.call("POST", "/_double/faults", {"match": tr.create_match,
                                          "delay": 6, "count": 1})
    r = fx.click(s, pid, fc)
    t.eq(reply(r)[0].get("state"), "progress",
         "a create slower than http_timeout_ms answers progress")
    # Its retry comes due while the tracker still holds the create.
    s.sql("UPDATE job SET run_at = 0 WHERE kind = 'push' AND key = ?", fc)
    t.eq(drain(), 0, "pbsyncctl drain exits")
    held = creates("Create answer lost")
    t.ok(len(held) == 1 and held[0]["status"] is None,
         "the retry made no second create while the first was in flight",
         held)
    waiting = jobs("push", fc)
    t.ok(len(waiting) == 1 and waiting[0][0] == "ready" and
         waiting[0][1] > time.time(), "the retry waits for it", waiting)
    t.ok(wait_for(lambda: [q["status"] for q in creates(
        "Create answer lost")] == [201], 15),
         "then the held create lands at %s" % tr.title)
    t.eq(s.sql("SELECT state FROM link WHERE feature_id = ?", fc),
         [("pending",)], "while pbsync still holds a pending link")
    # A developer copies the feature's marker into an issue of their own:
    # the search that recovers the lost create must not take it.
    planted = tr.open_issue("Planted", "<!-- pbsync:feature=%s -->" %
                            fc)["number"]

    # -- unlink, and a push the tracker refuses, in both shapes -------------
    fu = fx.feature(s, "Pushed, then unlinked")
    fx.click(s, pid, fu)
    unlinked = issues("Pushed, then unlinked")
    # The unmark job is keyed by the tracker's id of the issue.
    unlinked_id = s.sql("SELECT issue_id FROM link WHERE feature_id = ?", fu)
    r = fx.click(s, pid, fu, "button.unlink")
    both_shapes(r, "initial", "unlink")
    fb = fx.feature(s, "Pushed while the tracker fails")
    s.td.call("POST", "/_double/faults", {"match": tr.create_match,
                                          "status": 500, "count": 1})
    r = fx.click(s, pid, fb)
    both_shapes(r, "progress", "a push while %s answers 500" % tr.title)

    # -- no worker, job_budget_ms = 0: jobs wait ----------------------------
    kept = issues("Answered in both shapes")
    s.pb.call("PATCH", "/_double/features/" + fa,
              {"name": "Renamed while no worker runs"})
    t.ok(wait_for(lambda: jobs("sync", fa), 15),
         "the edit of a linked feature is queued")
    t.ok(delivered(), "Productboard and %s delivered every webhook" %
         tr.title)
    t.eq((len(jobs("sync", fa)), [i["title"] for i in issues(
        "Answered in both shapes")]), (1, [x["title"] for x in kept]),
         "with no worker and job_budget_ms = 0 it waits, the issue unchanged")
    t.ok(len(unlinked) == 1 and len(unlinked_id) == 1 and
         jobs("unmark", str(unlinked_id[0][0])) and "pbsync:feature=" in
         tr.issue(unlinked[0]["number"])["body"],
         "the unlink's removal of the marker waits too", unlinked_id)
    t.ok(jobs("push", fb) and stored(fb) == "progress" and
         not issues("Pushed while the tracker fails"),
         "the push %s refused waits for its retry" % tr.title)

    # -- pbsyncctl drain runs them and exits --------------------------------
    t.ok(wait_for(lambda: [j for j in jobs("push", fb) if
                           j[1] <= time.time()], 10),
         "the retry of that push comes due")
    # The lost create's in-flight window (http_timeout_ms + 10 s) is over.
    s.sql("UPDATE link SET updated_at = updated_at - 3600"
          " WHERE feature_id = ?", fc)
    s.sql("UPDATE job SET run_at = 0 WHERE kind = 'push' AND key = ?", fc)
    t.eq(drain(), 0, "pbsyncctl drain runs the due jobs and exits")
    t.eq([tr.issue(kept[0]["number"])["title"]] if kept else [],
         ["Renamed while no worker runs"], "the edit reached the issue")
    t.ok(unlinked and "pbsync:feature=" not in
         tr.issue(unlinked[0]["number"])["body"],
         "the marker left the unlinked issue")
    t.eq((len(issues("Pushed while the tracker fails")), stored(fb)),
         (1, "connected"), "the refused push made its issue and set the "
         "column to connected")
    found = issues("Create answer lost")
    t.eq((len(found), len(creates("Create answer lost")), stored(fc)),
         (1, 1, "connected"), "the lost create's issue was found by its "
         "marker: one create, one issue, connected")
    t.eq(linked_number(fc),
         [("linked", found[0]["number"] if found else None)],
         "and the link holds that issue, not one with a copied marker")
    t.ok(planted != (found[0]["number"] if found else None) and
         (tr.issue(planted) or {}).get("title") == "Planted",
         "the issue with the copied marker is left alone")
    t.eq(s.sql("SELECT kind, key FROM job WHERE kind IN ('push', 'sync',"
               " 'unmark')"), [], "no push, sync or unmark job is left")

    # -- past the push budget: the early progress in both shapes too --------
    s.stop_program("plugin")
    sock = os.path.join(s.dir, "plugin.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    env = s.env
    s.env = dict(env, PBSYNC_PUSH_BUDGET_MS="300", **SLOW_OK)
    s.start_program("plugin")
    s.env = env
    fd = fx.feature(s, "Slower than the budget")
    s.td.call("POST", "/_double/faults", {"match": tr.create_match,
                                          "delay": 1.5, "count": 1})
    r = fx.click(s, pid, fd)
    both_shapes(r, "progress", "a push past its budget")
    t.ok(wait_for(lambda: stored(fd) == "connected", 15),
         "then the final state is PUT: connected")
    t.eq(len(issues("Slower than the budget")), 1, "with one issue")

    # -- a push cut short: its pending link's job finishes it ---------------
    fe = fx.feature(s, "Plugin killed mid-push")
    s.pb.call("POST", "/_double/faults", {"match": "GET /v2/entities/" + fe,
                                          "delay": 5, "count": 1})
    r = fx.click(s, pid, fe)
    t.eq(reply(r)[0].get("state"), "progress",
         "a push held past its budget answers progress")
    held = [q for q in s.pb.requests("/v2/entities/" + fe)
            if q["status"] is None]
    pending = s.sql("SELECT state FROM link WHERE feature_id = ?", fe)
    s.stop_program("plugin", signal.SIGKILL)
    t.ok(held and pending == [("pending",)], "the plugin is killed while "
         "Productboard holds its read and the link is pending",
         (held, pending))
    # The create never ran; once the in-flight window is over, the job
    # the click scheduled with the pending link makes the issue.
    s.sql("UPDATE link SET updated_at = updated_at - 3600"
          " WHERE feature_id = ?", fe)
    s.sql("UPDATE job SET run_at = 0 WHERE kind = 'push' AND key = ?", fe)
    t.eq(drain(), 0, "pbsyncctl drain runs it")
    t.eq((len(issues("Plugin killed mid-push")), stored(fe)),
         (1, "connected"), "the interrupted push made one issue and ended "
         "connected")


trackers.each(t, suite, env={"PBSYNC_ACTION_REPLY": "both",
                             "PBSYNC_JOB_BUDGET_MS": "0",
                             "PBSYNC_HTTP_TIMEOUT_MS": "1000"})
