"""Fault matrix, process crashes: kill -9 of the FastCGI programs (one
worker process, or a whole program with its supervisor) and of the job
worker at random points under load.  An acknowledged delivery must never
be lost, a delivery must never be half-written, and an interrupted push
must never make a second issue.  The random choices (what to kill, the
pauses) come from PBSYNC_FAULT_SEED, printed at the start, to replay a
failing run as closely as timing allows.  Runs once per tracker
(tests/e2e/trackers.py), each from the same seed."""
import itertools
import json
import os
import random
import signal
import threading
import time

import faultkit as fk
import fixtures as fx
import reliability
import trackers
from harness import Tap, wait_for

AREA = "Process crashes"
SEED = int(os.environ.get("PBSYNC_FAULT_SEED", "0") or 0) or \
    int(time.time()) % 100000
LOAD_S = 4
SENDERS = 8
FEATURES = 8
LEASE_S = 12

t = Tap()
print("# PBSYNC_FAULT_SEED=%d" % SEED)
rnd = random.Random(SEED)
s = tr = None      # the stack and tracker of the run under way (suite)
# Issue ids of the deliveries ingest() makes up: far from any real one.
FAKE_IDS = range(700000, 800000)


class Killer(threading.Thread):
    """Sends SIGKILL at random moments until stopped: to one FastCGI
    process of a program, now and then to a whole program (which is then
    started again), or to the worker (started again)."""

    def __init__(self, programs, workers=0, pause=(0.05, 0.4)):
        super().__init__(daemon=True)
        self.programs, self.workers, self.pause = programs, workers, pause
        self.stopping = threading.Event()
        self.kills = {"child": 0, "program": 0, "worker": 0}
        # Two whole-program kills among the first eight, wherever they fall.
        self.whole = set(rnd.sample(range(8), 2))

    def run(self):
        n = 0
        while not self.stopping.wait(rnd.uniform(*self.pause)):
            n += 1
            if self.kills["worker"] < self.workers and (
                    rnd.random() < 0.3 or not self.programs):
                self.kill_worker()
            elif not self.programs:
                continue
            elif n - 1 in self.whole:
                name = rnd.choice(self.programs)
                s.stop_program(name, signal.SIGKILL)
                s.start_program(name)
                self.kills["program"] += 1
            else:
                self.kill_child(rnd.choice(self.programs))

    def kill_child(self, name):
        kids = fk.children(s.procs[name].pid)
        if kids:
            try:
                os.kill(rnd.choice(kids), signal.SIGKILL)
                self.kills["child"] += 1
            except ProcessLookupError:
                pass

    def kill_worker(self):
        p = s.procs.pop("worker", None)
        if p is not None:
            p.send_signal(signal.SIGKILL)
            p.wait()
            self.kills["worker"] += 1
        s.start_worker()

    def stop(self):
        self.stopping.set()
        self.join()


def send(path, body, headers):
    """Sends one delivery until it is acknowledged, as the sender's
    retries (or its admin's resends) would: (acknowledged, failed
    answers)."""
    failed = 0
    for _ in range(100):
        try:
            st = s.request("POST", path, body, headers, timeout=30).status
        except OSError:
            st = None
        if st in (200, 204):
            return True, failed
        failed += 1
        time.sleep(rnd.uniform(0.02, 0.1))
    return False, failed


def ingest(k):
    """Tracker and Productboard deliveries from SENDERS senders for LOAD_S
    seconds while FastCGI processes are killed; the worker is not
    running, so every job persisted is still in the table afterwards."""
    hook, pb_auth = tr.hook_of(k.iid), k.pb_hook_auth()
    numbers = itertools.count()
    acked, failed, lock = {}, [0], threading.Lock()
    end = time.monotonic() + LOAD_S

    def sender():
        while time.monotonic() < end:
            with lock:
                n = next(numbers)
            kind = "tr" if n % 2 else "pb"
            if kind == "tr":
                body = tr.delivery_body(FAKE_IDS[n], 9000 + n)
                headers = tr.signed(hook, body)
                headers[tr.dedupe_header] = "crash-tr-%d" % n
                ok, bad = send("/webhooks/gittab/" + k.iid, body, headers)
            else:
                ok, bad = send("/webhooks/productboard/" + k.iid, json.dumps(
                    {"data": {"id": "crash-feat-%d" % n,
                              "eventType": "feature.updated"}}),
                    {"Authorization": pb_auth})
            with lock:
                acked[(kind, n)] = ok
                failed[0] += bad

    killer = Killer(["glhook", "pbhook"])
    killer.start()
    senders = [threading.Thread(target=sender) for _ in range(SENDERS)]
    [x.start() for x in senders]
    [x.join() for x in senders]
    killer.stop()
    sent_tr = len([w for w in acked if w[0] == "tr"])
    sent_pb = len(acked) - sent_tr
    tr_jobs = {k_ for (k_,) in s.sql(
        "SELECT key FROM job WHERE kind = 'issue_event'")
        if int(k_) in FAKE_IDS}
    pb_jobs = {k_ for (k_,) in s.sql("SELECT key FROM job WHERE kind = "
                                     "'sync' AND key LIKE 'crash-feat-%'")}
    rows = s.sql("SELECT key, count(*) FROM delivery WHERE key LIKE "
                 "'crash-tr-%' GROUP BY key")
    keys = {key for key, _ in rows}
    lost = [w for w, ok in acked.items() if ok and not (
        ("crash-tr-%d" % w[1] in keys and str(FAKE_IDS[w[1]]) in tr_jobs)
        if w[0] == "tr" else "crash-feat-%d" % w[1] in pb_jobs)]
    half = [key for key in keys if str(FAKE_IDS[int(key.split("-")[2])])
            not in tr_jobs]
    dup = [key for key, n in rows if n != 1]
    unacked = [w for w, ok in acked.items() if not ok]
    ok = fk.integrity(s)
    reliability.check(
        t, AREA, "kill -9 of webhook FastCGI processes and whole programs "
        "under load (%d senders for %d s)" % (SENDERS, LOAD_S),
        "every acknowledged delivery has its delivery row and its job; no "
        "delivery row without its job; no duplicate; integrity ok",
        "%d processes and %d whole programs killed; %d answers were 502 or "
        "a reset and were sent again; %d of %d deliveries (%d %s, %d "
        "Productboard) acknowledged; lost %s; delivery rows without job "
        "%s; duplicate rows %s; jobs: %d %s, %d Productboard; "
        "integrity %s (seed %d)" % (
            killer.kills["child"], killer.kills["program"], failed[0],
            len(acked) - len(unacked), len(acked), sent_tr, tr.title,
            sent_pb,
            lost or "none", half or "none", dup or "none", len(tr_jobs),
            tr.title, len(pb_jobs), ok, SEED),
        not lost and not unacked and not half and not dup and
        len(tr_jobs) == sent_tr and len(pb_jobs) == sent_pb and
        killer.kills["child"] > 0 and failed[0] > 0 and ok == "ok")
    s.sql("DELETE FROM job")


def pushes(k):
    """FEATURES pushes clicked while the plugin's processes and the worker
    are killed; the tracker is slowed so that kills land inside creates."""
    fk.clear(s)
    fk.fault(s.td, tr.issues_fault, delay=0.5, count=-1)
    fids = [fx.feature(s, "Crash push %d" % n) for n in range(FEATURES)]
    answers = {}

    def click(fid):
        answers[fid] = fx.click(s, k.pid, fid).get("connection", {}).get(
            "state")

    killer = Killer(["plugin"], workers=3, pause=(0.1, 0.6))
    killer.start()
    clicks = []
    for fid in fids:
        clicks.append(threading.Thread(target=click, args=(fid,)))
        clicks[-1].start()
        time.sleep(rnd.uniform(0.05, 0.3))
    [x.join() for x in clicks]
    # The worker keeps dying while the jobs finish the interrupted pushes.
    killer.programs = []
    killer.pause = (1.0, 3.0)
    wait_for(lambda: not s.sql("SELECT 1 FROM link WHERE state = "
                               "'pending'"), 40, 0.5)
    killer.stop()
    # A PM clicks again where the click failed before anything was kept.
    again = [f for f in fids if not link_of(f) and
             k.state(f) != "connected"]
    for fid in again:
        click(fid)
    done = wait_for(lambda: all(k.state(f) == "connected" for f in fids),
                    90, 0.5)
    fk.settle(s, 60)
    s.td.call("DELETE", "/_double/faults")
    wait_for(lambda: None not in [r["status"] for r in tr.creates()], 30,
             0.2)
    per = {f: len(tr.issues_of(f)) for f in fids}
    wrong = [f for f in fids if link_of(f) != [
        ("linked", (tr.issues_of(f) or [{}])[0].get("number"))]]
    dead = fk.jobs(s, "state = 'dead'")
    posts = len(tr.creates())
    ok = fk.integrity(s)
    reliability.check(
        t, AREA, "kill -9 of plugin processes and of the worker during %d "
        "pushes (%s slowed by 0.5 s a call)" % (FEATURES, tr.title),
        "every feature ends connected with exactly one issue and its link; "
        "no dead job; integrity ok",
        "%d plugin processes, the whole plugin program %d times and the "
        "worker %d times killed; first answers "
        "%s; clicked again (nothing kept): %d; all connected %s; issues per "
        "feature %s; POSTs %d; links wrong %s; dead jobs %s; integrity %s "
        "(seed %d)" % (
            killer.kills["child"], killer.kills["program"],
            killer.kills["worker"],
            sorted(answers.get(f) or "none" for f in fids), len(again),
            done, sorted(set(per.values())), posts, wrong or "none",
            [(j["kind"], j["attempts"], j["last_error"]) for j in dead] or
            "none", ok, SEED),
        done and set(per.values()) == {1} and not wrong and not dead and
        ok == "ok" and killer.kills["child"] + killer.kills["worker"] > 0)


def killed_mid_sync(k):
    """The worker dies while its sync write to the tracker is in flight,
    so the link's sync lock stays taken for a lease; edits of that issue
    in the tracker arrive meanwhile and must wait the lock out, not die."""
    fk.clear(s)
    fk.fault(s.td, tr.update_fault, delay=2, count=1)
    k.pb_edit(name="Sync killed mid-write")
    # The kill must land inside the job: the tracker holds its write and
    # the job row is leased.
    held = wait_for(lambda: [q for q in tr.writes(k.issue_iid)
                             if q["status"] is None], 30, 0.05)
    leased = s.sql("SELECT count(*) FROM job WHERE kind = 'sync' AND"
                   " key = ? AND state = 'leased'", k.fid)[0][0]
    p = s.procs.pop("worker")
    p.send_signal(signal.SIGKILL)
    p.wait()
    s.start_worker()
    lock = (s.sql("SELECT lock_until FROM link WHERE feature_id = ?",
                  k.fid)[0][0] or 0) - time.time()
    wait_for(lambda: None not in [r["status"] for r in tr.all_writes()],
             30, 0.1)
    for n in range(2):
        k.tr_edit(title="After the crash %d" % n)
    seen = set()

    def last_landed():
        seen.update((j["id"], j["attempts"]) for j in
                    fk.jobs(s, "last_error = 'link busy'"))
        return k.feature()["name"] == "After the crash 1"
    landed = wait_for(last_landed, LEASE_S + 40, 0.2)
    fk.settle(s, 30)
    dead = fk.jobs(s, "state = 'dead'")
    row_ok = landed and not dead and \
        k.tr_issue()["title"] == "After the crash 1"
    reliability.check(
        t, AREA, "kill -9 of the worker inside a sync write; edits of the "
        "same issue arrive while its lock is held",
        "the kill lands while %s holds the job's write; the new jobs "
        "wait out the lock (lease %d s) without using up their attempts; "
        "the last edit lands on both sides; no dead job" % (tr.title,
                                                            LEASE_S),
        "killed with %d write held at %s and %d sync job leased; lock "
        "left for %.1f s; %d jobs seen waiting 'link busy', highest "
        "attempts %d; last edit landed %s; dead jobs %s" % (
            len(held or []), tr.title, leased, lock,
            len({i for i, _ in seen}),
            max([a for _, a in seen] or [0]), landed,
            [(j["kind"], j["attempts"], j["last_error"]) for j in dead] or
            "none"),
        row_ok and len(held or []) == 1 and leased == 1 and lock > 1 and
        len(seen) > 0)


def link_of(fid):
    """[(state, issue number)] of the feature's link."""
    return [(st, tr.key_number(key)) for st, key in s.sql(
        "SELECT state, issue_key FROM link WHERE feature_id = ?", fid)]


def suite(stack, tracker):
    global s, tr
    s, tr = stack, tracker
    rnd.seed(SEED)      # each tracker replays alone as in the whole run
    k = fk.Linked(s, worker=False)
    ingest(k)
    s.start_worker()
    # The worker reconciles as it starts: that round must be over before
    # the next case, or it is the job that holds the write there.
    wait_for(lambda: "worker started" in s.log(), 30)
    fx.idle(s, 30, settled=True)
    killed_mid_sync(k)
    pushes(k)


trackers.each(t, suite, env={"PBSYNC_JOB_BUDGET_MS": "0",
                             "PBSYNC_JOB_LEASE_S": str(LEASE_S),
                             "PBSYNC_HTTP_TIMEOUT_MS": "3000",
                             "PBSYNC_RECONCILE_INTERVAL_S": "3600"})
