"""Fault matrix, database and disk: the SQLite file locked by another
writer for longer than the busy timeout, a full disk and failing syncs
(tests/shim/failwrite.so, preloaded into every pbsync program), and the
worker's writes failing right after it changed the tracker.  Each row
checks what the senders got, that nothing was half-written, that their
retries land, and PRAGMA integrity_check; it is recorded in
docs/reliability.md.  Runs once per tracker (tests/e2e/trackers.py)."""
import os
import shutil
import sqlite3
import tempfile
import threading
import time

import faultkit as fk
import fixtures as fx
import reliability
import trackers
from harness import Tap, TOP_BUILD, wait_for

AREA = "Database and disk"
BUSY_S = 2      # BUSY_TIMEOUT_MS in src/store/store.c
SHIM = os.path.join(TOP_BUILD, "tests", "shim", "failwrite.so")

t = Tap()
work = tempfile.mkdtemp(prefix="pbsync-faults-db-")
DB = os.path.join(work, "pbsync.db")
TRIGGER = os.path.join(work, "fail-writes")
SHIM_LOG = os.path.join(work, "failwrite.log")
env = {"PBSYNC_JOB_BUDGET_MS": "0", "PBSYNC_JOB_LEASE_S": "6",
       "PBSYNC_RECONCILE_INTERVAL_S": "3600", "PBSYNC_DATABASE": DB}
if os.path.exists(SHIM):
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


def outage(k, other, case, begin, end):
    """Runs a Productboard edit (of k's feature), a tracker edit (of the
    other linked issue, other = (feature id, issue number)) and a push
    click while the database cannot be written (begin() .. end(); end
    returns what shows the fault happened and whether it did), then checks
    what the senders got, that nothing was written, and that everything
    lands once the database is back."""
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
    during = s.counts()
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
               if during[n] != before[n]}
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
            changed or "none", landed, rows, again, issues, ok),
        happened and got and pb_ok and tr_ok and pb_all[-1:] == [204] and
        conn.get("state") == "error" and not changed and
        (retried[-1:] == [200] or not tr.retries_deliveries) and
        resent == [200, 200] and landed and rows == 1 and
        again == "connected" and issues == 1 and ok == "ok")


def locked(k, other):
    holder = {}

    def begin():
        db = sqlite3.connect(DB, isolation_level=None, timeout=30)
        db.execute("BEGIN IMMEDIATE")
        holder["db"], holder["t0"] = db, time.monotonic()

    def end():
        held = time.monotonic() - holder["t0"]
        holder["db"].execute("ROLLBACK")
        holder["db"].close()
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


def worker_write_fails(k):
    """The disk fails while the worker's write to the tracker is in
    flight: its snapshot, log and job completion are lost; the job runs
    again and finds nothing left to write."""
    fk.clear(s)
    fk.fault(s.td, tr.update_fault, delay=2, count=1)
    k.pb_edit(name="Written while the disk fails")
    inflight = wait_for(lambda: tr.all_writes(), 30, 0.05)
    with open(TRIGGER, "w") as f:
        f.write("eio")
    # The worker's loop runs in a child of the pbsyncctl started.
    sup = s.procs["worker"].pid
    with open("/proc/%d/task/%d/children" % (sup, sup)) as f:
        worker = set(f.read().split()) | {str(sup)}
    by_worker = wait_for(lambda: [line for line in refused_writes()
                                  if line.split()[0] in worker], 30, 0.05)
    held = fk.jobs(s)
    os.unlink(TRIGGER)
    landed = wait_for(lambda: k.tr_issue()["title"] ==
                      "Written while the disk fails", 30)
    fk.settle(s, 40)
    puts = tr.all_writes()
    snap = s.sql("SELECT snap_name FROM link WHERE feature_id = ?",
                 k.fid)[0][0]
    ok = fk.integrity(s)
    open(SHIM_LOG, "w").close()
    reliability.check(
        t, AREA, "writes fail (EIO) right after the worker changed %s" %
        tr.title,
        "the job is kept and runs again; it finds %s up to date: one "
        "write, snapshot saved, integrity ok" % tr.title,
        "write in flight: %s; refused calls by the worker: %d; job while "
        "failing: %s; after: title landed %s, writes %s, snapshot %r, jobs "
        "left %d; integrity %s" % (
            bool(inflight), len(by_worker),
            [(j["kind"], j["state"], j["attempts"]) for j in held], landed,
            [r["status"] for r in puts], snap, len(fk.jobs(s)), ok),
        bool(inflight) and bool(by_worker) and len(held) == 1 and
        landed and [r["status"] for r in puts] == [tr.write_status] and
        snap == "Written while the disk fails" and not fk.jobs(s) and
        ok == "ok")


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
        if not os.path.exists(SHIM):
            for case in ("disk full", "fsync fails", "worker writes fail"):
                t.skip("%s: %s" % (AREA, case), SHIM + " is not built")
        else:
            failing(k, other, "enospc", "disk full: every write fails "
                    "with ENOSPC")
            failing(k, other, "fsync", "fsync and fdatasync fail with EIO")
            worker_write_fails(k)
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
