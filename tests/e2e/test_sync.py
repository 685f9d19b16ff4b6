"""Two-way sync through nginx with the doubles, which (like the real
services) send webhooks for pbsync's own writes: every change lands on the
other side, each with exactly one upstream write, and nothing echoes.
Runs once per tracker (tests/e2e/trackers.py)."""
import os
import signal
import time

from harness import Tap, wait_for
import fixtures as fx
import trackers

t = Tap()


def suite(s, tr):
    def idle(timeout=20):
        return fx.idle(s, timeout)

    def writes():
        """(tracker issue edits, Productboard feature patches) so far."""
        pb = [r for r in s.pb.requests() if r["method"] == "PATCH" and
              "/v2/entities/" in r["path"]]
        return len(tr.all_writes()), len(pb)

    def clear():
        s.pb.call("DELETE", "/_double/requests")
        tr.clear()

    def feature_of(fid):
        return s.pb.call("GET", "/_double/state")["features"][fid]

    def issue():
        return tr.issue(number)

    def pb_edit(**kw):
        s.pb.call("PATCH", "/_double/features/" + fid, kw)

    rc, iid, err = fx.create_integration(s)
    if rc != 0:
        raise RuntimeError(err)
    pid = fx.plugin_id(s, iid)
    s.start_worker()
    fid = fx.feature(s, "Sync me", "<p>First version.</p>", "New")
    r = fx.click(s, pid, fid)
    t.eq(r.get("connection", {}).get("state"), "connected", "pushed")
    number = tr.issues()[0]["number"]
    idle()
    clear()

    # -- one change, one write, no echo ------------------------------------
    t0 = time.monotonic()
    pb_edit(name="Renamed in Productboard")
    t.ok(wait_for(lambda: issue()["title"] == "Renamed in Productboard", 15),
         "a rename in Productboard reaches %s" % tr.title)
    lat = [time.monotonic() - t0]
    t.ok(idle(), "the system goes quiet")
    t.eq(writes(), (1, 0), "one %s write, no Productboard echo" % tr.title)
    clear()

    t0 = time.monotonic()
    tr.edit(number, title="Renamed in " + tr.title)
    t.ok(wait_for(lambda: feature_of(fid)["name"] == "Renamed in " +
                  tr.title, 15),
         "a rename in %s reaches Productboard" % tr.title)
    lat.append(time.monotonic() - t0)
    t.ok(idle(), "the system goes quiet")
    t.eq(writes(), (0, 1), "one Productboard write, no %s echo" % tr.title)
    clear()

    tr.edit(number, state="closed")
    t.ok(wait_for(lambda: feature_of(fid)["status"]["name"] == "Done", 15),
         "closing the issue sets the feature to Done")
    t.ok(wait_for(lambda: fx.connection(s, pid, fid)["data"]["fields"]
                  ["connection"].get("label") == tr.closed_label, 15),
         "and the column label follows: " + tr.closed_label)
    idle()
    t.eq(writes(), (0, 1), "close: one Productboard write, no echo")
    clear()
    tr.edit(number, state="open")
    t.ok(wait_for(lambda: feature_of(fid)["status"]["name"] ==
                  "In Progress", 15),
         "reopening sets the feature to In Progress")
    idle()
    t.eq(writes(), (0, 1), "reopen: one write, no echo")
    clear()
    pb_edit(status={"name": "Done"})
    t.ok(wait_for(lambda: issue()["state"] == "closed", 15),
         "setting the feature to Done closes the issue")
    idle()
    t.eq(writes(), (1, 0), "status: one %s write, no echo" % tr.title)
    clear()

    pb_edit(description="<p>Now with <b>bold</b> and a list:</p>"
            "<ul><li>alpha</li><li>beta</li></ul>")
    t.ok(wait_for(lambda: tr.shows(issue()["body"], "bold", "bold") and
                  tr.shows(issue()["body"], "item", "beta"), 15),
         "a description edit in Productboard reaches %s in its own "
         "format" % tr.title)
    idle()
    t.eq(writes(), (1, 0), "description: one write, no echo")
    t.ok("pbsync:feature=" in issue()["body"],
         "the marker survives a description sync")
    clear()
    tr.edit(number, body=issue()["body"].replace("alpha", "ALPHA"))
    t.ok(wait_for(lambda: "ALPHA" in feature_of(fid)["description"], 15),
         "a description edit in %s reaches Productboard as HTML" % tr.title)
    t.ok("pbsync:feature" not in feature_of(fid)["description"],
         "without the footer")
    idle()
    t.eq(writes(), (0, 1), "description back: one write, no echo")
    clear()

    # -- duplicated deliveries ----------------------------------------------
    s.td.call("POST", "/_double/config", {"duplicate_deliveries": 9})
    tr.edit(number, title="Ten deliveries")
    t.ok(wait_for(lambda: feature_of(fid)["name"] == "Ten deliveries", 15),
         "the edit lands")
    idle()
    t.eq(writes(), (0, 1), "the same delivery ten times: one write")
    s.td.call("POST", "/_double/config", {"duplicate_deliveries": 0})
    clear()

    # -- upstream failing for a while -----------------------------------------
    s.td.call("POST", "/_double/faults", {"match": tr.update_fault,
                                          "status": 500, "count": 2})
    pb_edit(name="Lands after %s recovers" % tr.title)
    t.ok(wait_for(lambda: issue()["title"] == "Lands after %s recovers" %
                  tr.title, 40),
         "%s 500 for a while: the change lands after recovery" % tr.title)
    idle(40)
    clear()
    s.pb.call("POST", "/_double/faults", {"match": "PATCH /v2/entities/.*",
                                          "status": 500, "count": 2})
    tr.edit(number, title="Lands after Productboard recovers")
    t.ok(wait_for(lambda: feature_of(fid)["name"] ==
                  "Lands after Productboard recovers", 40),
         "Productboard 500 for a while: the change lands after recovery")
    idle(40)
    clear()

    # -- 429 with Retry-After: 2 ---------------------------------------------
    s.pb.call("POST", "/_double/faults", {"match": "GET /v2/entities/.*",
                                          "status": 429, "count": 1,
                                          "headers": {"Retry-After": "2"}})
    tr.edit(number, title="After a rate limit")
    t.ok(wait_for(lambda: feature_of(fid)["name"] == "After a rate limit",
                  30), "after a 429 the change lands")
    reqs = [r for r in s.pb.requests() if "/_double" not in r["path"]]
    first429 = [r for r in reqs if r["status"] == 429]
    after = [r for r in reqs if first429 and r["ts"] > first429[0]["ts"]]
    t.ok(first429 and after and after[0]["ts"] - first429[0]["ts"] >= 1.9,
         "no call inside the Retry-After window (%.2f s)" %
         ((after[0]["ts"] - first429[0]["ts"]) if first429 and after
          else -1))
    t.ok("rate limit" in s.log(), "the pause is in the log")
    idle(30)
    clear()

    # -- kill -9 of the worker mid-job ----------------------------------------
    s.td.call("POST", "/_double/faults", {"match": tr.read_fault,
                                          "delay": 3, "count": 1})
    pb_edit(name="Survives kill -9")
    # The kill must land inside the job: the tracker holds its read (no
    # answer yet) and the job row is leased.
    held = wait_for(lambda: [r for r in tr.api(
        "GET", tr.read_fault.split(" ", 1)[1]) if r["status"] is None],
        20, 0.05)
    leased = s.sql("SELECT count(*) FROM job WHERE state = 'leased'")[0][0]
    t.ok(held and leased == 1, "kill -9 lands mid-job: %s holds %d read, "
         "%d job leased" % (tr.title, len(held or []), leased))
    s.procs["worker"].send_signal(signal.SIGKILL)
    s.procs["worker"].wait()
    s.start_worker()
    t.ok(wait_for(lambda: issue()["title"] == "Survives kill -9", 30),
         "a job whose worker was killed completes after restart")
    idle(30)

    # -- both sides edited before a sync: the conflict policy decides ------
    s.procs.pop("worker").send_signal(signal.SIGTERM)
    time.sleep(0.5)
    pb_edit(name="Productboard's version")
    time.sleep(1.1)
    later = "%s's later version" % tr.title
    tr.edit(number, title=later)
    time.sleep(0.5)
    s.start_worker()
    t.ok(wait_for(lambda: feature_of(fid)["name"] == later and
                  issue()["title"] == later, 20),
         "conflict: the later edit (%s) wins on both sides" % tr.title)
    idle(20)
    log = s.sql("SELECT result, detail FROM sync_log WHERE result ="
                " 'conflict'")
    t.ok(any("name conflict, %s wins" % tr.kind in d for _, d in log),
         "the sync log records the conflict and the decision", log)

    # The randomised model test runs for every tracker: test_trackers.py
    # through nginx, tests/model in-process.

    # -- propagation latency: edit on one side, seen on the other ----------
    s.td.call("POST", "/_double/config", {"duplicate_deliveries": 0,
                                          "reorder_deliveries": False,
                                          "deliver": True})
    runs = int(os.environ.get("PBSYNC_LATENCY_RUNS", "40"))
    for k in range(runs):
        idle(20)
        name = "latency %d" % k
        t0 = time.monotonic()
        if k % 2:
            tr.edit(number, title=name)
            seen = wait_for(lambda: feature_of(fid)["name"] == name, 15,
                            0.01)
        else:
            pb_edit(name=name)
            seen = wait_for(lambda: issue()["title"] == name, 15, 0.01)
        if seen:
            lat.append(time.monotonic() - t0)
    lat.sort()
    t.eq(len(lat), runs + 2, "every edit of the latency runs propagated")
    print("# %s: propagation latency over %d edits (worker only): median "
          "%.0f ms, p99 %.0f ms, worst %.0f ms" % (
              tr.title, len(lat), lat[len(lat) // 2] * 1000,
              lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
              lat[-1] * 1000))


# Only the worker runs jobs here, so killing it mid-job is meaningful.
# The one suite Jira runs in by default, besides test_trackers.
trackers.each(t, suite, every=True,
              env={"PBSYNC_JOB_LEASE_S": "4", "PBSYNC_JOB_BUDGET_MS": "0",
                   "PBSYNC_RECONCILE_INTERVAL_S": "3600"})
