"""Fault matrix, database and disk: the database locked by another
writer for longer than the lock wait; on SQLite a full disk and failing
syncs (tests/shim/failwrite.so, preloaded into every pbsync program), on
PostgreSQL the server stopped and started again, and a session ended in
the middle of a request; and the worker's writes failing right after it
changed the tracker (the disk, or the server stopping).  Each row checks
what the senders got, that nothing was half-written, that their retries
land, and the database's integrity check; it is recorded in
docs/reliability.md.  Runs once per tracker (tests/e2e/trackers.py)."""
import os
import shutil
import tempfile
import threading
import time

import faultkit as fk
import fixtures as fx
import harness
import reliability
import trackers
from harness import PG, Tap, TOP_BUILD, wait_for

AREA = "Database and disk"
BUSY_S = 2      # DB_WAIT_MS in src/store/db.h
SHIM = os.path.join(TOP_BUILD, "tests", "shim", "failwrite.so")

t = Tap()
work = tempfile.mkdtemp(prefix="pbsync-faults-db-")
DB = os.path.join(work, "pbsync.db")
TRIGGER = os.path.join(work, "fail-writes")
SHIM_LOG = os.path.join(work, "failwrite.log")
env = {"PBSYNC_JOB_BUDGET_MS": "0", "PBSYNC_JOB_LEASE_S": "6",
       "PBSYNC_RECONCILE_INTERVAL_S": "3600"}
if PG:
    # The suite stops the server: one of its own, not one others share.
    harness.pg_own_server()
else:
    env["PBSYNC_DATABASE"] = DB
if os.path.exists(SHIM) and not PG:
    # The ASan runtime, when the programs have one, must be loaded first.
    env.update({"LD_PRELOAD": " ".join(fk.sanitizer_runtime(os.path.join(
        TOP_BUILD, "src", "pbsyncctl")) + [SHIM]),
        "FAILWRITE_TRIGGER": TRIGGER, "FAILWRITE_PREFIX": DB,
        "FAILWRITE_LOG": SHIM_LOG})
s = tr = None      # the stack and tracker of the run under way (suite)


def refused_writes():
    try:
        with open(SHIM_LOG) as f:
            return f.read().splitlines()
    except OSError:
        return []


def pb_feature(body):
    """The feature a Productboard webhook's body is about."""
    return ((body or {}).get("data") or {}).get("id")


def first_answer(double, path, about, subject):
    """The first delivery the double sent to path about an object
    (subject(body) == about) that got an answer (status or error), or
    None."""
    for d in fk.deliveries(double, path=path):
        if subject(d.get("body")) != about:
            continue
        if d.get("status") is not None or d.get("error"):
            return d
    return None


def described(d):
    if d is None:
        return "none"
    if d.get("status") is None:
        return "no answer (%s)" % d.get("error")
    ra = d.get("response_headers", {}).get("retry-after")
    return "%s%s after %.1f s" % (d["status"], " Retry-After: %s" % ra
                                  if ra else "", d.get("elapsed") or -1)


def outage(k, other, case, begin, end, readable=True):
    """Runs a Productboard edit (of k's feature), a tracker edit (of the
    other linked issue, other = (feature id, issue number)) and a push
    click while the database cannot be written (begin() .. end(); end
    returns what shows the fault happened and whether it did), then checks
    what the senders got, that nothing was written (when it can be read
    meanwhile), and that everything lands once the database is back."""
    fx.idle(s)
    fk.clear(s)
    pb_path = "/webhooks/productboard/" + k.iid
    tr_path = "/webhooks/gittab/" + k.iid
    before = s.counts()
    name = "PB edit during " + case
    title = "%s edit during %s" % (tr.title, case)
    fid = fx.feature(s, "Pushed during " + case)
    begin()
    clicked = {}
    th = threading.Thread(target=lambda: clicked.update(
        fx.click(s, k.pid, fid)))
    th.start()
    k.pb_edit(name=name)
    k.tr_edit(other[1], title=title)
    got = wait_for(lambda: first_answer(s.pb, pb_path, k.fid, pb_feature)
                   and first_answer(s.td, tr_path, other[1],
                                    tr.delivery_number), 40, 0.2)
    th.join(30)
    during = s.counts() if readable else None
    evidence, happened = end()
    pb_first = first_answer(s.pb, pb_path, k.fid, pb_feature)
    tr_first = first_answer(s.td, tr_path, other[1], tr.delivery_number)
    # A tracker that retries a failed delivery itself (Jira) has done so
    # by now: its last attempt must be acknowledged.
    retried = tr.attempts(tr_first) if tr_first and \
        tr.retries_deliveries else []
    # Then it is sent twice more, as the tracker's admin resends it
    # (GitLab, GitHub) or its at-least-once delivery may (Jira).
    resent = [tr.resend(tr_first) for _ in range(2)] if tr_first else []
    landed = wait_for(lambda: k.tr_issue()["title"] == name and
                      k.feature(other[0])["name"] == title, 40, 0.2)
    again = fx.click(s, k.pid, fid).get("connection", {}).get("state")
    fk.settle(s)
    pb_all = [d["status"] for d in fk.deliveries(s.pb, path=pb_path)
              if (d.get("body") or {}).get("data", {}).get("id") == k.fid]
    key = tr_first["headers"].get(tr.dedupe_header.lower()) \
        if tr_first else None
    rows = s.sql("SELECT count(*) FROM delivery WHERE key = ?", key)[0][0]
    ok = fk.integrity(s)
    conn = clicked.get("connection", {})
    pb_ok = pb_first and pb_first["status"] == 503 and pb_first[
        "response_headers"].get("retry-after") == "1"
    tr_ok = tr_first and tr_first["status"] == 503 and tr_first[
        "response_headers"].get("retry-after") == "1"
    changed = {n: during[n] - before[n] for n in before
               if during[n] != before[n]} if readable else {}
    issues = len(tr.issues_of(fid))
    return reliability.check(
        t, AREA, case,
        "each sender gets 503 with Retry-After (the click an error to "
        "retry), nothing is written; the retries land once; integrity ok",
        "%s; Productboard hook: %s, its attempts %s; %s hook: %s, %s"
        "resent twice: %s; click: %s %r; rows changed while failing: %s; "
        "after: both edits landed %s, delivery rows for the key %d, click "
        "again: %s, issues for the feature %d; integrity %s" % (
            evidence, described(pb_first), pb_all, tr.title,
            described(tr_first), "its attempts %s, " % retried
            if tr.retries_deliveries else "",
            resent, conn.get("state"), conn.get("message"),
            changed or ("none" if readable else "unreadable"), landed,
            rows, again, issues, ok),
        happened and got and pb_ok and tr_ok and pb_all[-1:] == [204] and
        conn.get("state") == "error" and not changed and
        (retried[-1:] == [200] or not tr.retries_deliveries) and
        resent == [200, 200] and landed and rows == 1 and
        again == "connected" and issues == 1 and ok == "ok")


def locked(k, other):
    holder = {}

    def begin():
        holder["lock"] = s.hold_lock()
        holder["lock"].__enter__()
        holder["t0"] = time.monotonic()

    def end():
        held = time.monotonic() - holder["t0"]
        holder["lock"].__exit__(None, None, None)
        return "write lock held %.1f s" % held, held >= BUSY_S

    outage(k, other, "database locked by another writer past the busy "
           "timeout", begin, end)


def failing(k, other, mode, case):
    def begin():
        with open(TRIGGER, "w") as f:
            f.write(mode)

    def end():
        os.unlink(TRIGGER)
        lines = refused_writes()
        open(SHIM_LOG, "w").close()
        calls = sorted(set("%s %s %s" % (w[1], w[2], os.path.basename(w[3]))
                           for w in map(str.split, lines)))
        return "the shim refused %d calls (%s)" % (
            len(lines), ", ".join(calls)), bool(lines)

    outage(k, other, case, begin, end)


def worker_write_fails(k, name, case, fail, heal):
    """The database fails (fail(): what shows the worker met the fault,
    and whether it did) while the worker's write to the tracker is in
    flight: its snapshot, log and job completion are lost; once heal()
    ends the fault, the job runs again and finds nothing left to write."""
    fk.clear(s)
    fk.fault(s.td, tr.update_fault, delay=2, count=1)
    k.pb_edit(name=name)
    inflight = wait_for(lambda: tr.all_writes(), 30, 0.05)
    # The job under way; the tracker's own delivery of the change may
    # queue another meanwhile.
    running = [j["id"] for j in fk.jobs(s, "state = 'leased'")]
    evidence, met = fail()
    heal()
    held = [j for j in fk.jobs(s) if j["id"] in running]
    landed = wait_for(lambda: k.tr_issue()["title"] == name, 30)
    fk.settle(s, 40)
    puts = tr.all_writes()
    snap = s.sql("SELECT snap_name FROM link WHERE feature_id = ?",
                 k.fid)[0][0]
    ok = fk.integrity(s)
    reliability.check(
        t, AREA, "%s right after the worker changed %s" % (case, tr.title),
        "the job is kept and runs again; it finds %s up to date: one "
        "write, snapshot saved, integrity ok" % tr.title,
        "write in flight: %s; %s; job after the fault: %s; after: title "
        "landed %s, writes %s, snapshot %r, jobs left %d; integrity %s" % (
            bool(inflight), evidence,
            [(j["kind"], j["state"], j["attempts"]) for j in held], landed,
            [r["status"] for r in puts], snap, len(fk.jobs(s)), ok),
        bool(inflight) and met and len(running) == 1 and len(held) == 1 and
        landed and [r["status"] for r in puts] == [tr.write_status] and
        snap == name and not fk.jobs(s) and ok == "ok")


def disk_fails():
    with open(TRIGGER, "w") as f:
        f.write("eio")
    # The worker's loop runs in a child of the pbsyncctl started.
    sup = s.procs["worker"].pid
    with open("/proc/%d/task/%d/children" % (sup, sup)) as f:
        worker = set(f.read().split()) | {str(sup)}
    by_worker = wait_for(lambda: [line for line in refused_writes()
                                  if line.split()[0] in worker], 30, 0.05)
    return "refused calls by the worker: %d" % len(by_worker), \
        bool(by_worker)


def disk_heals():
    os.unlink(TRIGGER)
    open(SHIM_LOG, "w").close()


def server_stops():
    """Stops the server: what shows the programs met it (their store
    errors logged since), and whether they did."""
    seen = len(s.log())
    rc = harness.pg_server(False)
    errors = wait_for(lambda: s.log()[seen:].count("store: "), 30, 0.05)
    return "pg_ctl stop: exit %d; store errors logged: %d" % (
        rc, errors or 0), rc == 0 and bool(errors)


def stopped(k, other):
    held = {}

    def begin():
        held["t0"] = time.monotonic()
        held["stop"] = server_stops()

    def end():
        down = time.monotonic() - held["t0"]
        rc = harness.pg_server(True)
        return "server down %.1f s (%s), pg_ctl start: exit %d" % (
            down, held["stop"][0], rc), held["stop"][1] and rc == 0

    outage(k, other, "PostgreSQL server stopped, then started again",
           begin, end, readable=False)


def ended_mid_request(k):
    """The server ends a program's session (pg_terminate_backend) while
    its transaction waits on a lock: the program runs the transaction
    again on a new connection; the delivery is acknowledged and applied
    once."""
    fx.idle(s)
    fk.clear(s)
    name = "PB edit across an ended session"
    pb_path = "/webhooks/productboard/" + k.iid
    seen = len(s.log())
    with s.hold_lock():
        k.pb_edit(name=name)
        waiting = wait_for(lambda: s.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name"
            " = ? AND wait_event_type = 'Lock'", s.env["PGAPPNAME"])[0][0],
            10, 0.02)
        ended = s.end_connections() if waiting else 0
    landed = wait_for(lambda: k.tr_issue()["title"] == name, 30, 0.2)
    fk.settle(s)
    pb_all = [d["status"] for d in fk.deliveries(s.pb, path=pb_path)
              if pb_feature(d.get("body")) == k.fid]
    again = s.log()[seen:].count("transaction run again")
    puts = tr.all_writes()
    ok = fk.integrity(s)
    reliability.check(
        t, AREA, "a session ended by the server while a delivery waits on "
        "a lock",
        "the transaction runs again on a new connection: the delivery "
        "acknowledged (204), applied with one write; integrity ok",
        "%d waiting, %d sessions ended; runs again logged: %d; Productboard "
        "hook answers %s; landed %s; %s writes %s; integrity %s" % (
            waiting or 0, ended, again, pb_all, landed, tr.title,
            [r["status"] for r in puts], ok),
        bool(waiting) and ended > 0 and again > 0 and pb_all[-1:] == [204]
        and landed and [r["status"] for r in puts] == [tr.write_status]
        and ok == "ok")


def suite(stack, tracker):
    global s, tr
    s, tr = stack, tracker
    try:
        k = fk.Linked(s)
        other = k.push("Second linked")
        if other[1] is None:
            raise SystemExit("the second push failed")
        # Productboard retries a failed webhook; give it time for an
        # outage.
        s.pb.call("POST", "/_double/config", {"retry_schedule": [1] * 20})
        # The worker reconciled as it started: that round must be over
        # before the database fails.
        wait_for(lambda: "worker started" in s.log(), 30)
        fx.idle(s, 30, settled=True)
        locked(k, other)
        if PG:
            stopped(k, other)
            ended_mid_request(k)
            worker_write_fails(k, "Written while the server stops",
                               "the PostgreSQL server stops", server_stops,
                               lambda: harness.pg_server(True))
        elif not os.path.exists(SHIM):
            for case in ("disk full", "fsync fails", "worker writes fail"):
                t.skip("%s: %s" % (AREA, case), SHIM + " is not built")
        else:
            failing(k, other, "enospc", "disk full: every write fails "
                    "with ENOSPC")
            failing(k, other, "fsync", "fsync and fdatasync fail with EIO")
            worker_write_fails(k, "Written while the disk fails",
                               "writes fail (EIO)", disk_fails, disk_heals)
    finally:
        # The next tracker's stack makes its database at the same path:
        # this one's programs stop first, so none of them touches it.
        for name in [p for p in s.procs if p != "nginx"]:
            try:
                s.stop_program(name)
            except ProcessLookupError:
                pass
        for f in os.listdir(work):
            os.unlink(os.path.join(work, f))


try:
    trackers.each(t, suite, env=env)
finally:
    shutil.rmtree(work, ignore_errors=True)
