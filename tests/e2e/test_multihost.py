"""Several app hosts, one of them killed with kill -9 under load.

PostgreSQL: two complete pbsync hosts (nginx, the four programs, a worker
each) on their own loopback ports share one database schema and one set
of doubles, behind a load balancer (faultkit.Balancer) whose address is
the public URL pbsync registers upstream.  SQLite: the same suite with one
host, started again on the same file after its death.  Both run in this
file, each against one tracker (the first of trackers.chosen() on
PostgreSQL, the second on SQLite: what is checked here is in the hosts and
the store, not in a tracker's backend); without a PostgreSQL server that
half is skipped.

The load: linked features edited, half in Productboard and half in the
tracker, so that the doubles send deliveries (the edits' and the echoes of
pbsync's own writes); the balancer sends some of them to both hosts at
once, and each is sent again, byte for byte, to a host at random or to
both (a sender's retry, an admin's resend) until a host acknowledges it;
new features are pushed meanwhile, every other one clicked on both hosts
at once.  In the middle one host dies at once, all its processes, while
its worker holds a job; the other carries on (PostgreSQL), or the host is
started again (SQLite).  Then everything must settle:

- every delivery is acknowledged, and each change is applied exactly
  once: both sides end at the last edit, and the writes pbsync made to
  the other side carry edits in the order they were made, none twice
  (a delivery applied twice, or a stale read, would write one again);
- no echo: no write to the side an edit came from, none to the pushed
  features and their issues after the create;
- one issue per feature, linked and connected;
- the dead host's leased jobs are taken again, with a new attempt, after
  their lease (kept short with PBSYNC_JOB_LEASE_S) by the host that
  carries on; no job stays leased, no link lock stays taken, none dies.

A suite of its own rather than a case of test_faults_crash: that one
kills single processes inside one host with the worker stopped and checks
the tables; here whole hosts die while every worker runs, and the checks
are on what both services end up showing.  What they share (the linked
set-up, the doubles' views, processes) is in faultkit.py.  The random
choices come from PBSYNC_FAULT_SEED, printed at the start."""
import os
import queue
import random
import re
import threading
import time

import faultkit as fk
import fixtures as fx
import reliability
import trackers
from harness import NoPostgres, Stack, Tap, wait_for

AREA = "Host crashes"
SEED = int(os.environ.get("PBSYNC_FAULT_SEED", "0") or 0) or \
    int(time.time()) % 100000
LOAD_S = 6
LEASE_S = 4
PAIRS = 4           # linked before the load, each edited on one side
PUSHES = 6          # pushed during the load
RESENDERS = 4
ENV = {"PBSYNC_JOB_BUDGET_MS": "0", "PBSYNC_JOB_LEASE_S": str(LEASE_S),
       "PBSYNC_HTTP_TIMEOUT_MS": "3000",
       "PBSYNC_RECONCILE_INTERVAL_S": "3600"}

t = Tap()
print("# PBSYNC_FAULT_SEED=%d" % SEED)
rnd = random.Random(SEED)


class Load:
    """The load on the hosts behind bal, and what it did."""

    def __init__(self, hosts, bal, k):
        self.hosts, self.bal, self.k = hosts, bal, k
        self.s, self.tr = hosts[0], hosts[0].tr
        self.end = time.monotonic() + LOAD_S
        self.edits = {}         # feature id -> titles, in order
        self.pushed, self.both, self.answers = [], set(), {}
        self.resent = 0
        self.stopping = threading.Event()
        bal.both = self.both_hosts

    def both_hosts(self, path, body):
        if path.startswith("/plugin/"):
            return any(f.encode() in body for f in self.both)
        return rnd.random() < 0.3

    def edit(self, fid, number, side):
        """Edits a pair on one side until the load ends."""
        titles = self.edits[fid] = []
        while time.monotonic() < self.end:
            titles.append("%s edit %d" % (fid[:8], len(titles) + 1))
            if side == "pb":
                self.k.pb_edit(fid, name=titles[-1])
            else:
                self.tr.edit(number, title=titles[-1])
            time.sleep(rnd.uniform(0.3, 0.7))

    def push(self):
        """PUSHES features clicked over the load, every other one on
        both hosts at once."""
        clicks = []
        for n in range(PUSHES):
            fid = fx.feature(self.s, "Pushed %d" % n)
            self.pushed.append(fid)
            if n % 2 == 0:
                self.both.add(fid)
            clicks.append(threading.Thread(target=self.click, args=(fid,)))
            clicks[-1].start()
            time.sleep(rnd.uniform(0.3, 0.7))
        [c.join() for c in clicks]

    def click(self, fid):
        self.answers[fid] = fx.click(self.s, self.k.pid, fid).get(
            "connection", {}).get("state")

    def resend(self):
        """Sends each delivery the balancer forwarded again, to a host at
        random or to both, until one acknowledges it."""
        while not (self.stopping.is_set() and self.bal.resend.empty()):
            try:
                item = self.bal.resend.get(timeout=0.1)
            except queue.Empty:
                continue
            time.sleep(rnd.uniform(0, 0.3))
            self.bal.forward("POST", item, rnd.random() < 0.5, patience=30)
            self.resent += 1

    def run(self, victim, down):
        """The load, with victim killed in the middle (and, after down
        seconds, started again when down is not None): what the kill
        found."""
        work = [threading.Thread(target=self.push)]
        for n, (fid, number) in enumerate(self.k.pairs):
            work.append(threading.Thread(target=self.edit, args=(
                fid, number, "pb" if n % 2 == 0 else "tr")))
        work += [threading.Thread(target=self.resend)
                 for _ in range(RESENDERS)]
        [w.start() for w in work]
        time.sleep(LOAD_S * 0.4)
        kill = self.kill(victim)
        if down is not None:
            time.sleep(down)
            fk.start_host(victim)
        [w.join() for w in work[:-RESENDERS]]
        self.stopping.set()
        [w.join() for w in work[-RESENDERS:]]
        return kill

    def kill(self, victim):
        """Kills victim as soon as its worker starts a job (within 5 s):
        {at, left: pids alive after, held: {job id: attempt},
        lease: seconds its leases had left, marks: log sizes}.  The log
        is watched, not the job table: a query takes longer than many a
        job."""
        with open(victim.env["PBSYNC_LOG_FILE"]) as f:
            f.seek(0, os.SEEK_END)
            end = time.monotonic() + 5
            while time.monotonic() < end:
                lines = fk.JOB_LINE.findall(f.read())
                if lines and lines[-1][2]:
                    break
                time.sleep(0.005)
        at = time.monotonic()
        left = fk.kill_host(victim)
        marks = {h.dir: len(h.log()) for h in self.hosts}
        begun = fk.jobs_begun(victim.log())
        held = [j for j in fk.jobs(self.s, "state = 'leased'")
                if j["id"] in begun]
        lease = self.s.sql("SELECT max(lease_until) FROM job WHERE"
                           " state = 'leased'")[0][0]
        return {"at": at, "left": left, "marks": marks,
                "held": {j["id"]: begun[j["id"]] for j in held},
                "lease": (lease or 0) - time.time()}


class Linked(fk.Linked):
    """PAIRS linked features, pushed through the balancer."""

    def __init__(self, s):
        super().__init__(s, name="Pair 0")
        self.pairs = [(self.fid, self.issue_iid)]
        for n in range(1, PAIRS):
            self.pairs.append(self.push("Pair %d" % n))
        if None in [n for _, n in self.pairs]:
            raise SystemExit("a push before the load failed")


def titles_written(s, tr, fid, number):
    """(to Productboard, to the tracker): the titles of pbsync's writes
    of the pair's feature and issue, in order (None: a write without
    one)."""
    pb = [((r["body"] or {}).get("data") or {}).get("fields", {}).get(
        "name") for r in fk.api(s.pb, "PATCH", "^/v2/entities/%s$" % fid)]
    return pb, [(r["body"] or {}).get("title")
                if isinstance(r["body"], dict) else None
                for r in tr.writes_to(number)]


def in_order(written, titles):
    """True if every title written is one of titles, later than the one
    written before it."""
    idx = [titles.index(w) if w in titles else -1 for w in written]
    return -1 not in idx and idx == sorted(set(idx))


def taken_over(hosts, kill):
    """{job id: attempt} of the held jobs some host started again, with a
    later attempt, after the kill."""
    out = {}
    for h in hosts:
        text = h.log()[kill["marks"][h.dir]:]
        for m in fk.JOB_LINE.finditer(text):
            i = int(m.group(1))
            if m.group(3) and i in kill["held"] and \
                    int(m.group(4)) > kill["held"][i]:
                out[i] = int(m.group(4))
    return out


def suite(hosts, bal, engine):
    s, tr = hosts[0], hosts[0].tr
    k = Linked(s)
    for h in hosts[1:]:
        h.start_worker()
    fx.idle(s, 30, settled=True)
    fk.clear(s)
    # Jobs long enough for the kill to land inside one, pushes long
    # enough for it to land inside a create.
    fk.fault(s.td, tr.update_fault, delay=0.3, count=-1)
    fk.fault(s.td, tr.issues_fault, delay=0.3, count=-1)
    fk.fault(s.pb, r"GET /v2/entities/", delay=0.2, count=-1)
    load = Load(hosts, bal, k)
    victim = rnd.choice(hosts)
    alone = len(hosts) == 1
    survivor = victim if alone else [h for h in hosts if h is not victim][0]
    kill = load.run(victim, 0.5 if alone else None)
    if not alone:
        bal.hosts.remove(victim)
    for d in (s.pb, s.td):
        d.call("DELETE", "/_double/faults")
    fk.settle(survivor, 60)
    # A PM clicks again where the click failed before anything was kept.
    again = [f for f in load.pushed if not fk.link_of(s, f) and
             k.state(f) != "connected"]
    for fid in again:
        load.click(fid)
    fk.settle(survivor, 60)
    links = {}
    for fid, state, key in s.sql("SELECT feature_id, state, issue_key"
                                 " FROM link"):
        links.setdefault(fid, []).append((state, tr.key_number(key)))
    what = ("PostgreSQL, two hosts (the other carries on)" if not alone
            else "SQLite, one host (started again on the same file)")

    # -- deliveries: applied exactly once, no echo ---------------------------
    lost = [d["path"] for d in bal.deliveries if not d["acked"]]
    after = {p for at, p, st in bal.log if at > kill["at"] + 0.1 and
             st is not None and 200 <= st < 300}
    bad = []
    writes = 0
    for n, (fid, number) in enumerate(k.pairs):
        titles = load.edits[fid]
        to_pb, to_tr = titles_written(s, tr, fid, number)
        origin, other = (to_pb, to_tr) if n % 2 == 0 else (to_tr, to_pb)
        writes += len(other)
        ends = (k.feature(fid)["name"], tr.issue(number)["title"])
        if ends != (titles[-1],) * 2 or origin or not in_order(other,
                                                               titles):
            bad.append("%s: %d edits, ends %s, writes back %s, writes %s"
                       % (fid[:8], len(titles), ends, origin, other))
    for fid in load.pushed:
        number = (links.get(fid) or [(None, 0)])[0][1]
        to_pb, to_tr = titles_written(s, tr, fid, number)
        if to_pb or to_tr:
            bad.append("pushed %s: writes after the create %s %s"
                       % (fid[:8], to_pb, to_tr))
    sent = len(bal.deliveries)
    # A tracker delivery is persisted once whichever host, however many
    # times it is sent: a key queues at most one job, and every key
    # acknowledged with a 200 is kept (204: an event pbsync ignores).
    hdr = tr.dedupe_header.lower()
    keys = {v for d in bal.deliveries if d["acked"] == 200 and
            d["path"].startswith("/webhooks/gittab/")
            for h, v in d["headers"].items() if h.lower() == hdr}
    unkept = keys - {key for key, in s.sql("SELECT key FROM delivery")}
    queued = sum(len(re.findall(r"\b%s delivery queued: issue_event job"
                                % tr.kind, h.log())) for h in hosts)
    cut = len([1 for at, p, st in bal.log if p == victim.port and
               st is None and at > kill["at"]])
    reliability.check(
        t, AREA, "kill -9 of a whole app host under webhook load, %s"
        % what,
        "every delivery acknowledged; each change applied exactly once: "
        "both sides end at the last edit, pbsync's writes to the other "
        "side carry edits in order, none twice; no write to the side an "
        "edit came from (no echo)",
        "%d edits on %d pairs; %d deliveries through the balancer, each "
        "sent again (%d sends in all, %d requests to every host at once, "
        "%d cut or refused by the dead host); unacknowledged %s; %d %s "
        "delivery keys acknowledged, %d jobs queued for them, keys not "
        "kept %s; acknowledged after the kill by %s; %d writes to the "
        "other sides; wrong %s (seed %d)" % (
            sum(len(v) for v in load.edits.values()), len(k.pairs), sent,
            len(bal.log), bal.together, cut, lost or "none", len(keys),
            tr.title, queued, sorted(unkept) or "none",
            "the host started again" if alone and after else
            "the other host" if after == {survivor.port} else after,
            writes, bad or "none", SEED),
        not lost and not bad and sent > 0 and bal.together > 0 and
        after == {survivor.port} and 0 < queued <= len(keys) and
        not unkept)

    # -- pushes: one issue each ----------------------------------------------
    fids = [f for f, _ in k.pairs] + load.pushed
    per = {f: len(tr.issues_of(f)) for f in fids}
    wrong = [f[:8] for f in fids if links.get(f) != [
        ("linked", (tr.issues_of(f) or [{}])[0].get("number"))] or
        k.state(f) != "connected"]
    reliability.check(
        t, AREA, "pushes clicked on every host at once while a host dies, "
        + what,
        "every feature ends connected with exactly one issue and its link",
        "%d pushes, %d clicked on every host at once; first answers %s; "
        "clicked again (nothing kept): %d; issues per feature %s; %d "
        "creates; links or connections wrong %s (seed %d)" % (
            len(load.pushed), len(load.both),
            sorted(str(load.answers.get(f)) for f in load.pushed),
            len(again), sorted(set(per.values())), len(tr.creates()),
            wrong or "none", SEED),
        set(per.values()) == {1} and not wrong)

    # -- the dead host's leases ----------------------------------------------
    taken = taken_over([survivor], kill)
    leased = s.sql("SELECT count(*) FROM job WHERE state = 'leased'")[0][0]
    locked = s.sql("SELECT count(*) FROM link WHERE lock_until IS NOT "
                   "NULL")[0][0]
    dead = fk.jobs(s, "state = 'dead'")
    ok = s.sql("PRAGMA integrity_check")[0][0] if engine == "sqlite" \
        else "ok"
    reliability.check(
        t, AREA, "the jobs a killed host held are taken again, " + what,
        "the kill lands while the host's worker holds a job and leaves "
        "none of its processes; the host that carries on takes each held "
        "job again with a new attempt once its lease (%d s) is over; no "
        "job left leased, no link lock, no dead job" % LEASE_S,
        "processes left %s; jobs held %s, their leases had %.1f s left; "
        "taken again %s; leased %d, locked links %d, dead %s; integrity "
        "%s (seed %d)" % (
            kill["left"] or "none", kill["held"] or "none", kill["lease"],
            taken or "none", leased, locked,
            [(j["kind"], j["attempts"], j["last_error"]) for j in dead] or
            "none", ok, SEED),
        not kill["left"] and kill["held"] and
        set(taken) == set(kill["held"]) and leased == 0 and locked == 0
        and not dead and ok == "ok")


def start(hosts, bal, engine, cls):
    """The stacks of one configuration, into hosts, behind bal."""
    env = dict(ENV, PBSYNC_PUBLIC_URL=bal.url)
    hosts.append(Stack(db=engine, tracker=cls.kind, env=env,
                       inbound_rate="500r/s"))
    if engine == "postgresql":
        hosts.append(Stack(share=hosts[0], tracker=cls.kind, env=env,
                           inbound_rate="500r/s"))
    bal.hosts = list(hosts)


def main():
    chosen = trackers.chosen()
    for engine, cls in (("postgresql", chosen[0]),
                        ("sqlite", chosen[1 % len(chosen)])):
        t.prefix = cls.title + ": "
        rnd.seed("%d %s" % (SEED, engine))
        hosts, bal, t0 = [], fk.Balancer(rnd), time.monotonic()
        try:
            start(hosts, bal, engine, cls)
            suite(hosts, bal, engine)
        except NoPostgres as e:
            t.skip("two app hosts on one PostgreSQL, one killed", str(e))
        except Exception:
            import traceback
            t.ok(False, "the %s suite ran to its end" % engine,
                 traceback.format_exc())
        finally:
            for h in reversed(hosts):
                h.stop(t)
            bal.stop()
            print("# %s: %.0f s" % (engine, time.monotonic() - t0))
    t.prefix = ""
    t.done()


main()
