"""The sync engine's decisions, one job at a time: nothing runs a job but
`pbsyncctl drain` here, so every merge, conflict, guard, retry and pause
can be looked at between two runs.

Three integrations on three projects of the tracker: "Latest" (the
default conflict policy), "PB" (conflict policy productboard, deletion
policy label, a status map with scoped labels) and "Tracker" (conflict
policy tracker).  The doubles send webhooks for pbsync's own writes, so an
echo would show up as a second write.  Runs once per tracker
(tests/e2e/trackers.py)."""
import json
import subprocess
import time
import urllib.parse

from harness import Tap, wait_for
import fixtures as fx
import reliability
import trackers

MAX_ATTEMPTS = 3
LEASE_S = 2

t = Tap()


def suite(s, tr):
    def due():
        """Jobs that a drain would run now."""
        return s.sql("SELECT count(*) FROM job WHERE state = 'ready' AND"
                     " run_at <= ?1 OR state = 'leased' AND lease_until < ?1",
                     time.time())[0][0]

    def deliveries_idle():
        for d in (s.pb, s.td):
            d.call("POST", "/_double/wait", {"deliveries_idle": True,
                                             "timeout": 5})

    def drain():
        s.ctl("drain")

    def settle(timeout=30):
        """Delivers every webhook and drains until no job is due, the
        webhooks of pbsync's own writes included."""
        def quiet():
            deliveries_idle()
            if due() == 0:
                return True
            drain()
            return False
        return wait_for(quiet, timeout, 0.05)

    def after(ts):
        """Waits until the clock is past ts as the tracker tells time, so
        the next edit is later (GitLab shows milliseconds, GitHub whole
        seconds)."""
        step = max(0.01, tr.clock_resolution)
        wait_for(lambda: time.time() > ts + step, 1 + 2 * step, 0.005)

    def clear():
        s.pb.call("DELETE", "/_double/requests")
        tr.clear()

    def log_mark():
        return s.sql("SELECT coalesce(max(id), 0) FROM sync_log")[0][0]

    class Team:
        """An integration created with pbsyncctl on its own project (tp:
        the adapter working in it)."""

        def __init__(self, name, tp, extra=()):
            self.tr = tp
            rc, self.id, err = tp.create_integration(name, tuple(extra))
            if rc != 0:
                raise RuntimeError(err)
            self.pid = fx.plugin_id(s, self.id)

    class Link:
        """One pushed feature and its issue."""

        def __init__(self, team, name, status="New"):
            self.team, self.tr = team, team.tr
            self.fid = fx.feature(s, name, "<p>%s.</p>" % name, status)
            r = fx.click(s, team.pid, self.fid)
            if r.get("connection", {}).get("state") != "connected":
                raise RuntimeError("push of %r: %r" % (name, r))
            self.n = self.tr.key_number(s.sql(
                "SELECT issue_key FROM link WHERE integration_id = ? AND"
                " feature_id = ?", team.id, self.fid)[0][0])
            self.issue_path = self.tr.issue_path(self.n)

        def feature(self):
            return s.pb.call("GET", "/_double/state")["features"][self.fid]

        def name(self):
            return self.feature()["name"]

        def issue(self):
            return self.tr.issue(self.n)

        def title(self):
            return self.issue()["title"]

        def shown(self):
            """(state, labels) of the issue, labels in order."""
            i = self.issue()
            return i["state"], sorted(i["labels"])

        def linked(self):
            return bool(s.sql("SELECT 1 FROM link WHERE integration_id = ?"
                              " AND feature_id = ?", self.team.id, self.fid))

        def pb_edit(self, **kw):
            s.pb.call("PATCH", "/_double/features/" + self.fid, kw)

        def tr_edit(self, **kw):
            """A person's edit in the tracker's UI."""
            self.tr.edit(self.n, **kw)

        def reads(self):
            """pbsync's requests of the issue itself so far."""
            return self.tr.api(None, "^%s$" % self.issue_path)

        def writes(self):
            """(edits of the issue, Productboard feature patches) so far."""
            pb = s.pb.requests("^/v2/entities/%s$" % self.fid)
            return (self.tr.edits_to(self.n),
                    len([r for r in pb if r["method"] == "PATCH"]))

        def log(self, since):
            """(result, detail) of the sync log entries since a mark."""
            return s.sql("SELECT result, detail FROM sync_log WHERE id > ?"
                         " AND feature_id = ? AND action = 'sync' ORDER BY"
                         " id", since, self.fid)

        def job(self, kind):
            """(id, state, attempts, last_error, run_at) of the
            integration's newest job of a kind, or None."""
            rows = s.sql("SELECT id, state, attempts, last_error, run_at"
                         " FROM job WHERE integration_id = ? AND kind = ?"
                         " ORDER BY id DESC LIMIT 1", self.team.id, kind)
            return rows[0] if rows else None

    def hook_of(team):
        """The Productboard webhook subscription of an integration: its
        path on pbsync and the authorization Productboard sends."""
        for w in s.pb.call("GET", "/_double/state")["webhooks"].values():
            if team.id in w["url"]:
                return (urllib.parse.urlsplit(w["url"]).path,
                        w["authorization"])
        raise RuntimeError("no webhook for " + team.id)

    def job_state(job_id):
        """(state, attempts, last_error) of a job, or None once done."""
        rows = s.sql("SELECT state, attempts, last_error FROM job WHERE"
                     " id = ?", job_id)
        return rows[0] if rows else None

    def retry_delays(job_id):
        """The delays the queue logged for a job's retries, in order."""
        out = []
        for line in s.log().splitlines():
            mark = "job %d (" % job_id
            if mark in line and " retry in " in line:
                out.append(float(line.split(" retry in ")[1].split("s")[0]))
        return out

    T = tr.title
    owner = tr.project.split("/")[0]
    latest = Team("Latest", tr)
    pbwins = Team("PB", tr.add_project(owner + "/pbwins"), (
        "--conflict", "productboard", "--on-delete", "label",
        "--status-map", json.dumps(fx.status_map(s))))
    trwins = Team("Tracker", tr.add_project(owner + "/trwins"),
                  ("--conflict", "tracker"))
    t.eq([s.sql("SELECT conflict_policy, delete_policy FROM integration"
                " WHERE id = ?", x.id)[0] for x in (latest, pbwins, trwins)],
         [("latest", "keep"), ("productboard", "label"), ("tracker", "keep")],
         "the policies given to pbsyncctl integration add are stored")
    a = Link(latest, "Latest feature")
    p = Link(pbwins, "Productboard wins")
    g = Link(trwins, "%s wins" % T)
    t.ok(settle(), "the pushes' own events are settled")

    # -- one side changes: one write, no echo ----------------------------
    clear()
    mark = log_mark()
    a.pb_edit(name="Renamed in Productboard")
    settle()
    t.eq(a.title(), "Renamed in Productboard",
         "a rename in Productboard reaches %s" % T)
    t.eq(a.writes(), (1, 0), "one %s write, no Productboard echo" % T)
    t.eq(a.log(mark), [("ok", "name to %s; " % tr.kind)],
         "the sync log says which way the name went")
    clear()
    a.tr_edit(title="Renamed in " + T)
    settle()
    t.eq(a.name(), "Renamed in " + T, "a rename in %s reaches "
         "Productboard" % T)
    t.eq(a.writes(), (0, 1), "one Productboard write, no %s echo" % T)

    # -- both sides make the same edit: nothing to write -----------------
    clear()
    mark = log_mark()
    a.pb_edit(name="Same on both sides")
    a.tr_edit(title="Same on both sides")
    settle()
    t.eq(a.writes(), (0, 0), "both sides made the same edit: no write")
    t.eq(a.log(mark), [], "and no conflict in the sync log")
    a.tr_edit(title="%s after the agreement" % T)
    settle()
    t.eq(a.name(), "%s after the agreement" % T,
         "the agreed value became the snapshot: a later %s edit is "
         "not a conflict" % T)

    # -- conflict, default policy: the later edit wins -------------------
    clear()
    mark = log_mark()
    a.pb_edit(name="Productboard's earlier edit")
    after(time.time())
    a.tr_edit(title="%s's later edit" % T)
    settle()
    t.eq((a.name(), a.title()), ("%s's later edit" % T,) * 2,
         "latest: the later edit (%s) wins on both sides" % T)
    t.eq(a.log(mark), [("conflict", "name conflict, %s wins; " % tr.kind)],
         "latest: the sync log records the conflict and the decision")

    # -- an edit between pbsync's read and its write is not overwritten --
    # The double applies a person's edit right after it answers pbsync's
    # read of the side pbsync is about to write.
    clear()
    s.td.call("POST", "/_double/faults", {
        "match": "^GET %s$" % a.issue_path, "count": 1,
        "then": a.tr.edit_call(a.n, title="%s edit meanwhile" % T)})
    a.pb_edit(name="Productboard edit first")
    # The person's edit must be the later one as the tracker tells time.
    after(time.time())
    settle()
    t.eq([f["then_done"] for f in s.td.call("GET", "/_double/faults")],
         [[200]], "the %s edit landed right after pbsync read the issue" % T)
    t.eq(a.title(), "%s edit meanwhile" % T,
         "an issue edited after pbsync read it is not overwritten")
    t.eq(a.name(), "%s edit meanwhile" % T,
         "the next round sees both edits: the later one wins on both sides")
    t.eq(a.writes(), (0, 1), "no %s write on top of the new edit" % T)
    s.td.call("DELETE", "/_double/faults")

    # The same when the person's edit falls in the second of the issue's
    # last update (here a label a person set just before): a tracker that
    # shows whole seconds (GitHub) gives it the same updated_at.
    clear()
    a.pb_edit(name="Productboard edit, then a label")
    after(time.time())
    # Early in a second, so the label, pbsync's read and the edit share it.
    wait_for(lambda: time.time() % 1 < 0.2, 1.5, 0.005)
    a.tr_edit(labels=a.issue()["labels"] + ["triaged"])
    s.td.call("POST", "/_double/faults", {
        "match": "^GET %s$" % a.issue_path, "count": 1,
        "then": a.tr.edit_call(a.n, title="%s edit, same second" % T)})
    settle()
    t.eq((a.title(), a.name()), ("%s edit, same second" % T,) * 2,
         "an issue edited after pbsync read it, within the second of its "
         "last update, is not overwritten; the later edit wins")
    t.eq(a.writes(), (0, 1), "no %s write on top of that edit" % T)
    s.td.call("DELETE", "/_double/faults")

    clear()
    s.pb.call("POST", "/_double/faults", {
        "match": "^GET /v2/entities/%s$" % a.fid, "count": 1,
        "then": {"method": "PATCH", "path": "/_double/features/" + a.fid,
                 "body": {"name": "Productboard edit meanwhile"}}})
    a.tr_edit(title="%s edit first" % T)
    settle()
    t.eq([f["then_done"] for f in s.pb.call("GET", "/_double/faults")],
         [[200]], "the Productboard edit landed right after pbsync read "
         "the feature")
    t.eq(a.name(), "Productboard edit meanwhile",
         "a feature edited after pbsync read it is not overwritten")
    t.eq(a.title(), "Productboard edit meanwhile",
         "the next round sees both edits: the later one wins on both sides")
    t.eq(a.writes(), (1, 0), "no Productboard write on top of the new edit")
    s.pb.call("DELETE", "/_double/faults")

    # -- conflict policy productboard ------------------------------------
    clear()
    mark = log_mark()
    p.pb_edit(name="Productboard's earlier edit")
    after(time.time())
    p.tr_edit(title="%s's later edit" % T)
    settle()
    t.eq((p.name(), p.title()), ("Productboard's earlier edit",) * 2,
         "policy productboard: Productboard wins although %s's edit "
         "is later" % T)
    t.eq(p.log(mark), [("conflict", "name conflict, productboard wins; ")],
         "policy productboard: the sync log says so")
    t.eq(p.writes(), (1, 0), "policy productboard: one %s write" % T)
    mark = log_mark()
    p.tr_edit(title="%s after the conflict" % T)
    settle()
    t.eq(p.name(), "%s after the conflict" % T,
         "after a conflict the snapshot holds the winner: a %s-only "
         "edit reaches Productboard" % T)
    t.eq(p.log(mark), [("ok", "name to productboard; ")],
         "and it is no conflict")

    # -- conflict policy tracker -----------------------------------------
    clear()
    mark = log_mark()
    g.tr_edit(title="%s's earlier edit" % T)
    after(time.time())
    g.pb_edit(name="Productboard's later edit")
    settle()
    t.eq((g.name(), g.title()), ("%s's earlier edit" % T,) * 2,
         "policy tracker: %s wins although Productboard's edit is later" % T)
    t.eq(g.log(mark), [("conflict", "name conflict, %s wins; " % tr.kind)],
         "policy tracker: the sync log says so")
    t.eq(g.writes(), (0, 1), "policy tracker: one Productboard write")
    mark = log_mark()
    g.pb_edit(name="Productboard after the conflict")
    settle()
    t.eq(g.title(), "Productboard after the conflict",
         "a Productboard-only edit then reaches %s" % T)
    t.eq(g.log(mark), [("ok", "name to %s; " % tr.kind)],
         "and it is no conflict")

    # -- status map with scoped labels -----------------------------------
    p.tr_edit(labels=p.issue()["labels"] + ["customer"])
    settle()
    clear()
    p.pb_edit(status={"name": "Planned"})
    settle()
    t.eq(p.shown(), ("open", ["customer", "status::planned"]),
         "status Planned: the issue stays open and gets its scoped label")
    t.eq(p.writes(), (1, 0), "one %s write, no echo" % T)
    p.pb_edit(status={"name": "Done"})
    settle()
    t.eq(p.shown(), ("closed", ["customer", "status::done"]),
         "status Done: closed, the label follows, the person's label stays")
    clear()
    p.tr_edit(state="open")
    settle()
    t.eq(p.feature()["status"]["name"], "In Progress",
         "reopened in %s: the feature is In Progress, as mapped" % T)
    t.eq(p.shown()[1], ["customer", "status::doing"],
         "and the issue's scoped label follows the new status")
    t.eq(p.writes(), (1, 1), "one write on each side, no echo")

    # -- a stale feature.deleted: the feature is still there -------------
    mark = log_mark()
    path, auth = hook_of(pbwins)
    r = s.request("POST", path, {"data": {
        "id": p.fid, "eventType": "feature.deleted",
        "links": {"target": "%s/features/%s" % (s.pb.url, p.fid)}}},
        {"Authorization": auth})
    t.eq(r.status, 204, "a stale feature.deleted is acknowledged")
    settle()
    t.ok(p.linked(), "a stale feature.deleted does not drop the link")
    t.eq(p.shown(), ("open", ["customer", "status::doing"]),
         "nor touch the issue")
    t.eq(s.sql("SELECT action FROM sync_log WHERE id > ? AND action !="
               " 'sync'", mark), [], "nothing is logged as deleted")
    t.eq(s.sql("SELECT kind, last_error FROM job WHERE state = 'dead'"), [],
         "and no job failed")

    # -- deletion policy label -------------------------------------------
    s.pb.call("DELETE", "/_double/features/" + p.fid)
    settle()
    t.ok(not p.linked(), "a deleted feature removes its link")
    t.eq(p.shown(), ("open", ["customer", "productboard::deleted",
                              "status::doing"]),
         "on-delete label: the issue is kept open and labelled")
    t.eq(s.sql("SELECT action FROM sync_log WHERE id > ? AND action !="
               " 'sync'", mark), [("feature deleted",)],
         "the sync log says so")

    # -- retries with backoff, then dead after job_max_attempts ----------
    clear()
    s.td.call("POST", "/_double/faults", {
        "match": "^%s %s$" % (tr.update_method, a.issue_path),
        "status": 500, "count": -1})
    a.pb_edit(name="Lands after a retry")
    deliveries_idle()
    drain()
    j = a.job("sync")
    job_id = j[0] if j else 0
    seen = [job_state(job_id)]
    for k in range(MAX_ATTEMPTS - 1):
        # Time passes: the retry is due.
        s.sql("UPDATE job SET run_at = 0 WHERE id = ? AND state = 'ready'",
              job_id)
        drain()
        seen.append(job_state(job_id))
    err = tr.server_error
    t.eq(seen, [("ready", k, err) for k in range(1, MAX_ATTEMPTS)] +
         [("dead", MAX_ATTEMPTS, err)],
         "%s keeps failing: the job is retried, then dead after %d "
         "attempts with its error" % (T, MAX_ATTEMPTS))
    t.eq(a.writes()[0], MAX_ATTEMPTS, "exactly %d attempts were made" %
         MAX_ATTEMPTS)
    delays = retry_delays(job_id)
    t.ok(len(delays) == MAX_ATTEMPTS - 1 and 2 <= delays[0] <= 4 and
         4 <= delays[1] <= 8, "retries back off: 2-4 s, then 4-8 s",
         delays)
    s.sql("UPDATE job SET run_at = 0 WHERE id = ?", job_id)
    drain()
    t.eq((job_state(job_id), a.writes()[0]),
         (("dead", MAX_ATTEMPTS, err), MAX_ATTEMPTS),
         "a dead job is not run again")
    out = s.ctl("jobs", latest.id).stdout
    t.ok(("%d\tsync\t%s\t%d\t%s" % (job_id, a.fid, MAX_ATTEMPTS, err))
         in out, "pbsyncctl jobs lists it with its attempts and error", out)
    r = s.ctl("retry", latest.id, str(job_id), check=False)
    t.ok(r.returncode == 0, "pbsyncctl retry queues it again", r.stderr)
    drain()
    t.eq(job_state(job_id), ("ready", 1, err),
         "a retried job has all its attempts again: one more failure does "
         "not bury it")
    s.td.call("DELETE", "/_double/faults")
    s.sql("UPDATE job SET run_at = 0 WHERE id = ?", job_id)
    settle()
    t.eq((a.title(), job_state(job_id)), ("Lands after a retry", None),
         "once %s is back the job finishes and the change lands" % T)

    # -- 429: the token pauses, the job waits out Retry-After ------------
    clear()
    s.pb.call("POST", "/_double/faults", {
        "match": "^GET /v2/entities/%s$" % a.fid, "status": 429, "count": 1,
        "headers": {"Retry-After": "30"}})
    t0 = time.time()
    a.tr_edit(title="Held back by a rate limit")
    deliveries_idle()
    drain()
    j = a.job("issue_event")
    until = s.sql("SELECT max(until) FROM upstream_pause")[0][0] or 0
    t.ok(j is not None and j[1] == "ready" and j[4] >= t0 + 30,
         "after a 429 with Retry-After: 30 the job waits 30 s", j)
    t.ok(until >= t0 + 30, "and Productboard calls are paused that long")
    t.ok("productboard rate limit: pausing calls for 30s" in s.log(),
         "the pause is in the log")
    s.sql("UPDATE job SET run_at = 0 WHERE id = ?", j[0] if j else 0)
    drain()
    t.eq(len(s.pb.requests("^/v2/")), 1,
         "a job due during the pause makes no Productboard call")
    j = a.job("issue_event")
    t.ok(j is not None and j[1] == "ready" and j[4] >= until - 1,
         "and is put off to the end of the pause", j)
    s.sql("UPDATE upstream_pause SET until = 0")
    s.sql("UPDATE job SET run_at = 0")
    settle()
    t.eq(a.name(), "Held back by a rate limit",
         "after the pause the change lands")

    # -- a drain killed mid-job: the job is taken again after its lease --
    clear()
    s.td.call("POST", "/_double/faults", {"match": "^GET %s$" % a.issue_path,
                                          "count": 1, "delay": 10})
    a.pb_edit(name="Survives a killed drain")
    deliveries_idle()
    proc = subprocess.Popen([s.binary("pbsyncctl"), "drain"], env=s.env,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    t.ok(wait_for(a.reads, 15), "the drain is in the middle of the job")
    proc.kill()
    proc.wait()
    j = a.job("sync")
    t.eq(j and j[1], "leased", "the killed drain's job is still leased")

    def retaken():
        drain()
        return a.title() == "Survives a killed drain"
    if t.ok(wait_for(retaken, 20, 0.2), "once the lease is over a drain "
            "takes the job again and it lands"):
        settle()
    t.eq(a.writes()[0], 1, "one %s write" % T)

    # -- a call that would outlast the job's lease is cut at its end ------
    clear()
    s.td.call("POST", "/_double/faults", {"match": "^GET %s$" % a.issue_path,
                                          "count": 1, "delay": 6})
    a.pb_edit(name="Cut at the lease")
    deliveries_idle()
    t0 = time.monotonic()
    drain()
    took = time.monotonic() - t0
    j = a.job("sync")
    reliability.check(
        t, "queue", "%s holds a job's read for 6 s; lease %d s, call "
        "timeout 8 s" % (T, LEASE_S), "the call ends with the lease, the "
        "job waits for its retry", "drain took %.1f s; job %s" % (
            took, j[1:4] if j else None),
        took < LEASE_S + 2 and j is not None and j[1] == "ready")
    s.td.call("DELETE", "/_double/faults")
    s.sql("UPDATE job SET run_at = 0")
    settle()

    # -- a job whose process dies at every attempt is buried after the last
    clear()
    s.td.call("POST", "/_double/faults", {"match": "^GET %s$" % a.issue_path,
                                          "count": -1, "delay": 10})
    a.pb_edit(name="Kills every runner")
    deliveries_idle()
    started = []
    for i in range(MAX_ATTEMPTS):
        seen = len(a.reads())
        proc = subprocess.Popen([s.binary("pbsyncctl"), "drain"], env=s.env,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        started.append(wait_for(lambda: len(a.reads()) > seen, 15))
        proc.kill()
        proc.wait()
        time.sleep(LEASE_S + 0.2)
    s.td.call("DELETE", "/_double/faults")
    drain()
    j = a.job("sync")
    reliability.check(
        t, "queue", "a job whose process dies at each of its %d attempts"
        % MAX_ATTEMPTS, "dead at the next lease, saying why, no 4th run",
        "%s" % (j[1:4] if j else None,),
        all(started) and j is not None and j[1] == "dead" and
        "stopped before it finished, %d times" % MAX_ATTEMPTS in j[3] and
        len(a.reads()) == MAX_ATTEMPTS)


# No program runs jobs after answering and no worker runs: only drain().
trackers.each(t, suite, env={"PBSYNC_JOB_BUDGET_MS": "0",
                             "PBSYNC_JOB_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
                             "PBSYNC_JOB_LEASE_S": str(LEASE_S),
                             "PBSYNC_RECONCILE_INTERVAL_S": "3600"})
