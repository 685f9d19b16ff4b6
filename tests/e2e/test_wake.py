"""The worker wakes at once: a job queued by another process (a delivery
through nginx, a notification the sync queues) is run by the worker lane
that takes it without waiting for its poll, here set to a minute; a lost
wake-up costs one poll.  On SQLite a datagram to <database>.wake (and
.wake-notify for the notifications' lane), on PostgreSQL a NOTIFY
(PBSYNC_E2E_DB=postgresql)."""
import os
import signal
import time

from harness import PG, Double, Stack, Tap, wait_for
import fixtures as fx

t = Tap()
POLL_MS = "60000"
SOON = 8        # s: far below the poll, above a loaded machine's slowness
SLACK_SECRET = "slk-secret-0123456789abcdef"
s = Stack(env={"PBSYNC_JOB_BUDGET_MS": "0", "PBSYNC_WORKER_POLL_MS": POLL_MS})
slack = Double("slackdouble.py", s.dir, "slackdouble")
DB = s.env["PBSYNC_DATABASE"]


def feature_name():
    return s.pb.call("GET", "/_double/state")["features"][fid]["name"]


def reaches(title, within=SOON):
    """Renames the issue as a person would; True when the new title
    reaches Productboard within the time."""
    s.tr.edit(number, title=title)
    return wait_for(lambda: feature_name() == title, within)


def pb_rename(name):
    """Renames the feature without a webhook and queues its sync job by
    SQL: a job nobody announced."""
    s.pb.call("PATCH", "/_double/features/" + fid, {"name": name})
    s.sql("INSERT INTO job (integration_id, kind, key, run_at, created_at,"
          " updated_at) VALUES (?, 'sync', ?, unixepoch(), unixepoch(),"
          " unixepoch())", iid, fid)


def restart_worker(sig=signal.SIGKILL):
    p = s.procs.pop("worker")
    os.killpg(p.pid, sig)
    p.wait(10)
    s.start_worker()
    fx.idle(s)


try:
    fx.seed(s)
    rc, iid, err = fx.create_integration(s)
    if rc != 0:
        raise SystemExit(err)
    pid = fx.plugin_id(s, iid)
    slack.call("POST", "/_double/hooks", {"team": "T0001", "bot": "B0001",
                                          "secret": SLACK_SECRET})
    s.ctl("channel", "connect", iid, "slack",
          slack.url + "/services/T0001/B0001/" + SLACK_SECRET)
    s.start_worker()
    fid = fx.feature(s, "Wake me", "<p>First.</p>", "New")
    r = fx.click(s, pid, fid)
    t.eq(r.get("connection", {}).get("state"), "connected", "pushed")
    number = s.tr.issues()[0]["number"]
    t.ok(fx.idle(s), "the worker has run the start's reconcile and the "
         "push's notification")

    # -- the sync lane ---------------------------------------------------
    t.ok(reaches("Woken by the delivery"),
         "a tracker delivery's job is run by the worker at once, though "
         "it polls every %s ms" % POLL_MS)
    fx.idle(s)

    # -- the notifications' lane: a job the sync lane queued -------------
    before = len(slack.call("GET", "/_double/messages"))
    s.tr.edit(number, state="closed")
    t.ok(wait_for(lambda: len(slack.call("GET", "/_double/messages")) >
                  before, SOON),
         "the notification the sync queues is sent by the other lane at "
         "once")
    fx.idle(s)

    # -- a worker restarted over its dead self's socket ------------------
    if not PG:
        t.ok(os.path.exists(DB + ".wake") and
             os.path.exists(DB + ".wake-notify"),
             "each lane listens on a socket next to the database")
    restart_worker()
    t.ok(reaches("Woken after a restart"),
         "a worker killed and started again (its socket left behind) is "
         "woken at once")
    fx.idle(s)

    if PG:
        # The listening connection lost: it is opened again.
        gone = s.sql("SELECT pg_terminate_backend(pid) FROM"
                     " pg_stat_activity WHERE query = 'LISTEN pbsync_wake'")
        t.ok(len(gone) >= 2, "both lanes listen on connections of their "
             "own", gone)
        fx.idle(s)
        t.ok(reaches("Woken after the listener was lost"),
             "the worker listens again after losing its connection")
        fx.idle(s)

    # -- no wake-up: the job waits for the poll --------------------------
    s.pb.call("POST", "/_double/config", {"deliver": False})
    pb_rename("Not announced")
    time.sleep(3)
    t.ok(s.tr.issue(number)["title"] != "Not announced" and
         s.sql("SELECT count(*) FROM job WHERE key = ?", fid)[0][0] == 1,
         "a job queued with no wake-up (written by SQL) waits for the "
         "poll: worker_poll_ms is kept")
    s.env["PBSYNC_WORKER_POLL_MS"] = "1000"
    restart_worker(signal.SIGTERM)
    pb_rename("Found by the poll")
    t.ok(wait_for(lambda: s.tr.issue(number)["title"] == "Found by the poll",
                  15), "and is run at the next poll")
    fx.idle(s)
    s.pb.call("POST", "/_double/config", {"deliver": True})
    if not PG:
        os.unlink(DB + ".wake")
        t.ok(reaches("Found with the socket gone", 15),
             "with its socket removed the worker still finds a delivery's "
             "job by polling")
finally:
    slack.stop()
    s.stop()
t.done()
