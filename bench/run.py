#!/usr/bin/env python3
"""pbsync benchmarks: every figure next to baselines measured in the same
run (B0 nginx alone, B1 a minimal libfcgi responder, B2 write+fdatasync),
printed as Markdown.

    bench/run.py [--quick] [--build DIR]
                 [--only routes,drain,growth,metrics,engines]
                 [--engines sqlite,postgresql]
    bench/run.py --report DIR/bench-results.json

Builds an optimised pbsync in DIR (default build/bench, or
$PBSYNC_BENCH_BUILD), installs wrk through scripts/install-deps --bench if
it is missing, starts nginx, the programs, the baselines and the API
doubles on loopback, and prints the tables; the results also go to
DIR/bench-results.json.

- routes: peak req/s from wrk (closed loop, -t2 -c32); latency from
  bench/openloop.c at half of each route's peak (open loop: latency runs
  from each request's due time, so stalls are not hidden); a burst of
  GitTab deliveries; memory of each program after RSS_MARKS requests.
  The job queue is emptied before each run, as a worker would keep it.
- drain: DRAIN_N sync jobs whose two sides agree (one Productboard and one
  GitLab read each), run by one `pbsyncctl drain` against the doubles with
  their rate limits on.
- growth: GitTab ingest, one sync job (in-process, bench/storebench.c) and
  /healthz with 1,000 and with 1,000,000 links, and the query plans of the
  statements the hot paths prepare.
- metrics: what the counters of /metrics cost: in process
  (bench/metricbench.c: counting one request, its request id, one flush
  into the database) against a B1 request of the same run, and peak req/s
  of the probe and of GitTab ingest with metrics on and off: pairs of
  adjacent runs, the order alternating, each pair's on/off ratio, with
  B1's own (it counts nothing) as the noise floor.
- engines: SQLite and PostgreSQL side by side, each against B1 and B2 of
  its own stack: Productboard and GitTab ingest from 1, 4 and 16
  concurrent senders (a FastCGI child each), with what PostgreSQL's
  backends wait on meanwhile; link claims from as many processes; the
  PostgreSQL connections a stack holds per FastCGI child and worker.
  Drain and growth run on every engine of --engines too (SQLite's in
  detail), the figures side by side in this part's table.  PostgreSQL is
  a throwaway cluster (tests/pg/cluster: Unix socket, fsync on); without
  one installed its column says so."""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--quick", action="store_true",
                help="short runs, 1,000-job drain (about 3 minutes)")
ap.add_argument("--build", default=os.environ.get(
    "PBSYNC_BENCH_BUILD", os.path.join(TOP, "build", "bench")),
    help="build directory (default build/bench or $PBSYNC_BENCH_BUILD)")
ap.add_argument("--only", default="routes,drain,growth,metrics,engines,"
                "propagation,memory,reconcile",
                help="comma-separated parts to run")
ap.add_argument("--engines", default="sqlite,postgresql",
                help="engines the drain, growth and engines parts run on")
ap.add_argument("--report", metavar="JSON",
                help="print the tables of a saved bench-results.json")
ARGS = ap.parse_args()
BUILD = os.path.abspath(ARGS.build)
os.environ["top_srcdir"] = TOP
os.environ["top_builddir"] = BUILD
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
import fixtures  # noqa: E402
import harness  # noqa: E402
import wakemem  # noqa: E402  (the propagation and memory parts)
import reconbench  # noqa: E402  (the reconcile part)

QUICK = ARGS.quick
PARTS = set(ARGS.only.split(","))
DUR = 3 if QUICK else 10                # s of wrk per route (peak)
FIXED_S = 3 if QUICK else 6             # s of open loop at half the peak
RSS_MARKS = (5000, 20000) if QUICK else (10000, 100000)
DRAIN_N = 1000 if QUICK else 10000
LINKS = (1000, 1000000)
SYNCS = 15                              # sync jobs timed at each size
LOOKUPS = 2000                          # link lookups timed at each size
BURST = (1000, 1000)                    # deliveries, per second
EXPECTED_RATE = 100                     # deliveries/s the burst is 10x of
PB_LIMIT, GL_LIMIT = 50.0, 2000 / 60.0  # calls/s the doubles enforce
WRK_T, WRK_C = 2, 32
OPENLOOP_MAX = 20000                    # req/s openloop.c sends on time here
TOOLS = ("hello_fcgi", "fsync_loop", "openloop", "storebench", "metricbench")
METRIC_PAIRS = 4 if QUICK else 8        # on/off pairs, order alternating
METRIC_DUR = 2 if QUICK else 3          # s of wrk per route and mode
ENV = {"PBSYNC_JOB_BUDGET_MS": "0", "PBSYNC_LOG_LEVEL": "warning"}
results = {}


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def tool(name):
    return os.path.join(BUILD, name)


def make_libs():
    """The link flags of the programs, read from the configured Makefile."""
    flags = {}
    for line in open(os.path.join(BUILD, "Makefile")):
        m = re.match(r"(\w+_LIBS|LIBS) = (.*)", line)
        if m:
            flags[m.group(1)] = m.group(2).split()
    return [f for k in ("CURL_LIBS", "SQLITE_LIBS", "PQ_LIBS", "CJSON_LIBS",
                        "SODIUM_LIBS", "CMARK_LIBS", "FCGI_LIBS", "LIBS")
            for f in flags.get(k, [])]


def build():
    if shutil.which("wrk") is None:
        sh(os.path.join(TOP, "scripts", "install-deps"), "--bench")
    os.makedirs(BUILD, exist_ok=True)
    if not os.path.exists(os.path.join(TOP, "configure")):
        sh("autoreconf", "-fi", cwd=TOP, stdout=subprocess.DEVNULL)
    if not os.path.exists(os.path.join(BUILD, "Makefile")):
        sh(os.path.join(TOP, "configure"), "-q", "CFLAGS=-O2 -DNDEBUG",
           cwd=BUILD)
    sh("make", "-s", "-j2", cwd=BUILD, stdout=subprocess.DEVNULL)
    cc = ["cc", "-O2", "-Wall", "-Wextra"]
    for name in TOOLS:
        src = os.path.join(TOP, "bench", name + ".c")
        lib = ["-I" + os.path.join(TOP, "src"), "-I" + BUILD,
               os.path.join(BUILD, "src", "libpbsync.a")] + make_libs()
        extra = {"hello_fcgi": ["-lfcgi"], "storebench": lib,
                 "metricbench": lib}.get(name, [])
        sh(*cc, "-o", tool(name), src, *extra)


# -- load generators ------------------------------------------------------
class Route:
    """One thing to load: where it goes, and which program answers it."""

    def __init__(self, name, prog, port, path, method="GET", headers=None,
                 body=None):
        self.name, self.prog, self.port, self.path = name, prog, port, path
        self.method, self.headers, self.body = method, headers or {}, body


counts = {}     # program -> requests it has answered in this run


def wrk(rt, duration=DUR, tag="w"):
    """Peak requests/s (closed loop, wrk -t2 -c32) and wrk's percentiles."""
    env = dict(os.environ)
    cmd = ["wrk", "-t%d" % WRK_T, "-c%d" % WRK_C, "-d%ds" % duration,
           "--latency"]
    if rt.method != "GET" or rt.headers or rt.body is not None:
        env["BENCH_METHOD"] = rt.method
        env["BENCH_TAG"] = tag
        env["BENCH_HEADERS"] = "\n".join("%s: %s" % kv
                                         for kv in rt.headers.items())
        if rt.body is not None:
            env["BENCH_BODY"] = rt.body
        cmd += ["-s", os.path.join(TOP, "bench", "request.lua")]
    out = subprocess.run(cmd + ["http://127.0.0.1:%d%s" % (rt.port, rt.path)],
                         env=env, capture_output=True, text=True).stdout
    lat = {p: float(v) * {"us": 0.001, "ms": 1, "s": 1000}[u] for p, v, u in
           re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)\b", out)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    n = int(re.search(r"(\d+) requests in", out).group(1))
    counts[rt.prog] = counts.get(rt.prog, 0) + n
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": n, "p50": lat.get("50"), "p99": lat.get("99"),
            "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": "Socket errors" in out}


def openloop_cmd(rt, rate, n, tag, conns):
    cmd = [tool("openloop"), "-p", str(rt.port), "-r", "%.1f" % rate,
           "-n", str(int(n)), "-c", str(conns), "-m", rt.method,
           "-u", rt.path, "-t", tag]
    for kv in rt.headers.items():
        cmd += ["-H", "%s: %s" % kv]
    if rt.body is not None:
        path = os.path.join(BUILD, "bench-body.tmp")
        with open(path, "w") as f:
            f.write(rt.body)
        cmd += ["-b", path]
    return cmd


def openloop(rt, rate, n, tag, conns=256):
    """n requests at a fixed rate (bench/openloop.c): latency from each
    request's due time, in ms."""
    r = subprocess.run(openloop_cmd(rt, rate, n, tag, conns),
                       capture_output=True, text=True)
    if not r.stdout.strip():
        raise RuntimeError("openloop failed: " + r.stderr)
    out = json.loads(r.stdout)
    counts[rt.prog] = counts.get(rt.prog, 0) + out["done"]
    return out


def requests_through(rt, n, tag):
    """Sends n requests as fast as the route answers (32 connections)."""
    if n > 0:
        openloop(rt, 1e6, n, tag, conns=WRK_C)


# -- processes ------------------------------------------------------------
def tree(pid):
    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                          text=True).stdout.split()
    return [str(pid)] + kids


def memory(pid):
    """(VmRSS, VmHWM, RssAnon) in KiB, each the largest over a program's
    processes."""
    keys = ("VmRSS:", "VmHWM:", "RssAnon:")
    best = [0, 0, 0]
    for p in tree(pid):
        try:
            for line in open("/proc/%s/status" % p):
                if line.split()[0] in keys:
                    k = keys.index(line.split()[0])
                    best[k] = max(best[k], int(line.split()[1]))
        except OSError:
            pass
    return tuple(best)


def baselines(s):
    """B0 and B1 on their own server blocks of the same nginx."""
    sock = os.path.join(s.dir, "hello.sock")
    hello = subprocess.Popen([tool("hello_fcgi"), "-s", sock, "-n", "2"],
                             start_new_session=True)
    harness.wait_for(lambda: os.path.exists(sock), 5)
    p0, p1 = harness.free_port(), harness.free_port()
    conf = open(os.path.join(s.dir, "nginx.conf")).read()
    extra = ("server { listen 127.0.0.1:%d; location / { return 200 'ok'; } }\n"
             "server { listen 127.0.0.1:%d; location / { include %s; "
             "fastcgi_pass unix:%s; } }\n" % (
                 p0, p1, os.path.join(TOP, "nginx", "fastcgi_params.pbsync"),
                 sock))
    conf = conf.replace("http {", "http {\n" + extra, 1)
    open(os.path.join(s.dir, "nginx.conf"), "w").write(conf)
    sh("nginx", "-p", s.dir, "-c", os.path.join(s.dir, "nginx.conf"), "-s",
       "reload")
    harness.wait_for(lambda: http_status(p1, "/") == 200, 10)
    return hello, p0, p1


def http_status(port, path):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", path)
        st = c.getresponse().status
        c.close()
        return st
    except OSError:
        return None


def admin_session(s):
    """Logs in as an admin made by pbsyncctl; returns the Cookie header."""
    a = harness.AdminSession(s, "bench", "bench password 0123456789")
    if a.status != 303 or "pbsync_session" not in a.jar:
        raise RuntimeError("admin login failed: %s" % a.status)
    return "pbsync_session=" + a.jar["pbsync_session"]


# -- routes ---------------------------------------------------------------
def gitlab_hook(port, iid, secret, key="k-{n}"):
    body = open(os.path.join(TOP, "tests", "data", "payloads",
                             "gitlab-issue-hook-open.json")).read()
    return Route("GitTab webhook ingest", "glhook", port,
                 "/webhooks/gittab/" + iid, "POST",
                 {"Content-Type": "application/json",
                  "X-Gitlab-Token": secret, "X-Gitlab-Event": "Issue Hook",
                  "Idempotency-Key": key}, body)


def pb_hook(port, iid, secret):
    return Route("Productboard webhook ingest", "pbhook", port,
                 "/webhooks/productboard/" + iid, "POST",
                 {"Content-Type": "application/json",
                  "Authorization": "Bearer " + secret},
                 json.dumps({"data": {"id": "feat-{n}", "eventType":
                                      "feature.updated", "links": {}}}))


def bench_routes():
    # Peak capacity: nginx's per-address limit (50 r/s) would cap wrk.
    s = harness.Stack(doubles=False, env=ENV, children=2,
                      inbound_rate="1000000r/s")
    hello = None
    try:
        hello, p0, p1 = baselines(s)
        iid, secret = "d" * 32, "bench-secret-0123456789"
        s.add_integration(iid, secret)
        for i in range(99):
            s.add_integration("%032x" % (i + 1), "other-secret-%d" % i)
        cookie = admin_session(s)
        port = s.port
        gl = gitlab_hook(port, iid, secret)
        dup = gitlab_hook(port, iid, secret, "the-same-key")
        dup.name = "GitTab duplicate delivery"
        pb = pb_hook(port, iid, secret)
        routes = [
            Route("B0 nginx return 200", "nginx", p0, "/"),
            Route("B1 libfcgi hello", "hello", p1, "/"),
            Route("/healthz", "plugin", port, "/healthz"),
            Route("probe", "plugin", port,
                  "/plugin/%s?validationToken=t0123456789" % iid,
                  headers={"Authorization": "Bearer " + secret}),
            Route("admin page, 100 integrations", "admin", port, "/admin/",
                  headers={"Cookie": cookie}),
            gl, dup, pb,
        ]
        st = http_status(port, "/admin/")
        procs = {"hello": hello.pid, "plugin": s.procs["plugin"].pid,
                 "glhook": s.procs["glhook"].pid,
                 "pbhook": s.procs["pbhook"].pid,
                 "admin": s.procs["admin"].pid}
        main_route = {"hello": routes[1], "plugin": routes[2],
                      "glhook": gl, "pbhook": pb, "admin": routes[4]}
        # Memory after the first RSS_MARKS[0] requests of each program,
        # then after RSS_MARKS[1].  Every Productboard delivery queued a
        # job; a worker would have run them, and the admin page and
        # /healthz count them: the queue is emptied before each run.
        mem = {p: {} for p in procs}

        def memory_at(mark, tag):
            for p, rt in main_route.items():
                s.sql("DELETE FROM job")
                requests_through(rt, RSS_MARKS[mark] - counts.get(p, 0),
                                 tag + p)
                mem[p][tag] = (counts[p],) + memory(procs[p])
            s.sql("DELETE FROM job")
        memory_at(0, "first")
        b2 = float(subprocess.run([tool("fsync_loop"), s.dir, str(DUR)],
                                  capture_output=True, text=True).stdout)
        # Each route's open-loop run follows its peak run at once, so both
        # see the same machine (others' load on it comes and goes).
        peak, fixed = {}, {}
        for rt in routes:
            s.sql("DELETE FROM job")
            peak[rt.name] = wrk(rt, tag="p")
            s.sql("DELETE FROM job")
            rate = min(peak[rt.name]["rps"] / 2, OPENLOOP_MAX)
            fixed[rt.name] = dict(openloop(rt, rate, rate * FIXED_S, "f"),
                                  target=rate)
        burst = openloop(gl, BURST[1], BURST[0], "burst")
        memory_at(1, "last")
        results["routes"] = {
            "b2": b2, "peak": peak, "fixed": fixed, "burst": burst,
            "memory": mem, "admin_status": st,
            "errors": {p: s.log(p + ".stderr")[-500:] for p in procs
                       if p != "hello" and s.log(p + ".stderr")}}
    finally:
        if hello is not None:
            os.killpg(hello.pid, 15)
        s.stop()


# -- drain and growth -----------------------------------------------------
FEATURE = "00000000-0000-4000-8000-%012d"


def seed_doubles(s, n):
    """n features in Productboard and n matching issues in GitLab: a sync
    of any pair finds both sides agreeing and writes nothing."""
    fixtures.seed(s)
    feats = [{"id": FEATURE % k, "name": "Feature %d" % k,
              "description": "<p>Feature %d</p>" % k,
              "status": {"name": "New"}} for k in range(n)]
    s.pb.call("POST", "/_double/seed", {"features": feats}, timeout=300)
    s.gl.call("POST", "/_double/seed", {"issues": [
        {"project_id": fixtures.PROJECT, "title": "Feature %d" % k,
         "description": "Feature %d" % k} for k in range(n)]}, timeout=300)
    st = s.gl.call("GET", "/_double/state", timeout=300)["issues"]
    issues = st.values() if isinstance(st, dict) else st
    by_title = {i["title"]: i for i in issues}
    status = s.pb.call("GET", "/_double/state")["features"][FEATURE % 0][
        "status"]["id"]
    return [(FEATURE % k, by_title["Feature %d" % k]) for k in range(n)], status


def pg_literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'%s'" % str(v).replace("'", "''")


def insert_many(s, sql, rows):
    """Runs sql (? placeholders) once for each row, in one transaction on
    the stack's database: SQLite's executemany, or one psql script (with
    no time limit: a million rows take minutes)."""
    if not harness.PG:
        import sqlite3
        db = sqlite3.connect(s.env["PBSYNC_DATABASE"], timeout=30)
        db.executemany(sql, rows)
        db.commit()
        db.close()
        return
    parts = sql.split("?")
    script = ["BEGIN;"] + ["".join(p + pg_literal(v) for p, v in zip(
        parts, row)) + parts[-1] + ";" for row in rows] + ["COMMIT;"]
    sh("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
       s.env["PBSYNC_DATABASE"], input="\n".join(script), text=True,
       stdout=subprocess.DEVNULL)


def add_links(s, iid, pairs, status):
    now = time.time()
    insert_many(
        s, "INSERT INTO link (integration_id, feature_id, state,"
        " issue_ref, issue_key, issue_id, issue_url, issue_title,"
        " issue_state, feature_url, snap_name, snap_pb_desc,"
        " snap_tracker_desc, snap_status, snap_state, created_at,"
        " updated_at)"
        " VALUES (?, ?, 'linked', ?, ?, ?, ?, ?, 'opened', '', ?, ?, ?, ?,"
        " 'opened', ?, ?)",
        ((iid, fid, "%d/%d" % (i["project_id"], i["iid"]), "#%d" % i["iid"],
          str(i["id"]), i["web_url"],
          i["title"], i["title"], "<p>%s</p>" % i["title"], i["title"],
          status, now, now) for fid, i in pairs))


def add_bulk_links(s, iid, upto):
    """Fills link up to upto rows with links nothing will ever sync."""
    have = s.sql("SELECT count(*) FROM link")[0][0]
    now = time.time()
    if harness.PG:
        # PostgreSQL fires row triggers after the statement, and a
        # million updates of one counter row in one transaction walk an
        # ever longer chain of its versions (hours): the count is set
        # once instead.
        s.sql("ALTER TABLE link DISABLE TRIGGER link_count_insert")
    insert_many(
        s, "INSERT INTO link (integration_id, feature_id, state,"
          " issue_ref, issue_key, issue_id, issue_url, issue_title,"
          " issue_state, feature_url, snap_name, snap_pb_desc,"
          " snap_tracker_desc, snap_status, snap_state, created_at,"
          " updated_at)"
          " WITH RECURSIVE c(k) AS (SELECT CAST(? AS INTEGER) UNION ALL"
          " SELECT k + 1 FROM c WHERE k < ?)"
          " SELECT ?, 'bulk-' || k, 'linked', '1001/' || k,"
          " '#' || k, CAST(1000000000 + k AS TEXT),"
          " 'https://gitlab.example/g/p/-/issues/' || k,"
          " 'Bulk feature ' || k, 'opened', '', 'Bulk feature ' || k,"
          " '<p>Bulk feature</p>', 'Bulk feature', 'status-id', 'opened',"
          " ?, ? FROM c", [(have + 1, upto, iid, now, now)])
    if harness.PG:
        s.sql("UPDATE row_count SET n = (SELECT count(*) FROM link)"
              " WHERE name = 'link'")
        s.sql("ALTER TABLE link ENABLE TRIGGER link_count_insert")


def settle(s):
    """Checkpoints the WAL, flushes the page cache and gives the disk a
    few seconds, so what the set-up wrote is not still being written back
    while pbsync is measured."""
    s.sql("VACUUM ANALYZE; CHECKPOINT" if harness.PG else
          "PRAGMA wal_checkpoint(TRUNCATE)")
    os.sync()
    time.sleep(5)


def enqueue_syncs(s, iid, fids):
    now = time.time()
    insert_many(s, "INSERT INTO job (integration_id, kind, key, run_at,"
                " created_at, updated_at) VALUES (?, 'sync', ?, ?, ?, ?)",
                ((iid, f, now, now, now) for f in fids))


def sync_once(s, iid, fid, sql_ms):
    """Duration in ms of one sync job, run in-process by storebench; adds
    the time of each statement it ran to sql_ms (SQLite's traces only)."""
    enqueue_syncs(s, iid, [fid])
    trace = [] if harness.PG else ["trace"]
    r = subprocess.run([tool("storebench"), "jobs"] + trace, env=s.env,
                       capture_output=True, text=True, check=True)
    for line in r.stderr.splitlines():
        m = re.match(r"([\d.]+) ms: (.*)", line)
        if m:
            sql_ms[m.group(2)] = sql_ms.get(m.group(2), 0) + float(m.group(1))
    return json.loads(r.stdout)[0]


def growth_point(s, iid, pairs, gl):
    settle(s)
    sql_ms = {}
    syncs = [sync_once(s, iid, pairs[k][0], sql_ms)
             for k in range(1, 1 + SYNCS)]
    wrk(gl, tag="g%d" % len(counts))            # warm-up of the caches
    ing = wrk(gl, tag="g%d" % len(counts))
    hz = wrk(Route("/healthz", "plugin", s.port, "/healthz"))
    probe = [iid, pairs[0][0], str(pairs[0][1]["id"])]
    plans = "" if harness.PG else subprocess.run(
        [tool("storebench"), "plans"] + probe, env=s.env,
        capture_output=True, text=True, check=True).stdout
    lookup = subprocess.run(
        [tool("storebench"), "lookup"] + probe + [str(LOOKUPS)], env=s.env,
        capture_output=True, text=True, check=True).stdout
    return {"links": s.sql("SELECT count(*) FROM link")[0][0],
            "lookup": json.loads(lookup),
            "ingest_rps": ing["rps"], "healthz_rps": hz["rps"],
            "sync_ms": statistics.median(syncs), "syncs": syncs,
            "sync_sql_ms": sorted(sql_ms.items(), key=lambda kv: -kv[1])[:5],
            "plans": [json.loads(x) for x in plans.splitlines()]}


def requests_log(d):
    log = d.requests() or []
    return {"calls": len(log), "429": sum(1 for r in log
                                          if r.get("status") == 429),
            "ok": sum(1 for r in log if (r.get("status") or 0) < 300)}


def bench_drain_growth():
    s = harness.Stack(doubles=True, env=ENV, children=2,
                      inbound_rate="1000000r/s")
    try:
        n = max(DRAIN_N, LINKS[0]) + 1 + SYNCS
        t0 = time.monotonic()
        pairs, status = seed_doubles(s, n)
        rc, iid, err = fixtures.create_integration(s)
        if rc != 0:
            raise RuntimeError("integration add failed: " + err)
        hook_iid, secret = "e" * 32, "growth-secret-0123456789"
        s.add_integration(hook_iid, secret)
        gl = gitlab_hook(s.port, hook_iid, secret)
        add_links(s, iid, pairs[:LINKS[0]], status)
        setup_s = time.monotonic() - t0
        out = {"setup_s": setup_s}
        if "growth" in PARTS:
            out["small"] = growth_point(s, iid, pairs, gl)
        if "drain" in PARTS:
            add_links(s, iid, pairs[LINKS[0]:], status)
            s.sql("DELETE FROM job")
            enqueue_syncs(s, iid, [f for f, _ in
                                   pairs[1 + SYNCS:1 + SYNCS + DRAIN_N]])
            for d in (s.pb, s.gl):
                d.call("DELETE", "/_double/requests")
            settle(s)
            t0 = time.monotonic()
            subprocess.run([s.binary("pbsyncctl"), "drain"], env=s.env,
                           check=True)
            el = time.monotonic() - t0
            out["drain"] = {
                "jobs": DRAIN_N, "seconds": el,
                "left": s.sql("SELECT count(*) FROM job")[0][0],
                "pb": requests_log(s.pb), "gl": requests_log(s.gl)}
        if "growth" in PARTS:
            t0 = time.monotonic()
            add_bulk_links(s, iid, LINKS[1])
            out["bulk_insert_s"] = time.monotonic() - t0
            s.sql("DELETE FROM job")
            out["large"] = growth_point(s, iid, pairs, gl)
        return out
    finally:
        s.stop()


# -- metrics --------------------------------------------------------------
def cpu_ticks(pid):
    """CPU time (user + system, clock ticks) of a program's processes."""
    total = 0
    for p in tree(pid):
        try:
            f = open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


def set_metrics(s, on):
    """Restarts the four programs with metrics on or off."""
    s.env["PBSYNC_METRICS"] = "true" if on else "false"
    for p in harness.PROGRAMS:
        s.stop_program(p)
        os.unlink(os.path.join(s.dir, p + ".sock"))
        s.start_program(p, 2)


def bench_metrics():
    s = harness.Stack(doubles=False, env=ENV, children=2,
                      inbound_rate="1000000r/s")
    hello = None
    try:
        hello, p0, p1 = baselines(s)
        iid, secret = "d" * 32, "bench-secret-0123456789"
        s.add_integration(iid, secret)
        routes = [
            Route("B1 libfcgi hello", "hello", p1, "/"),
            Route("probe", "plugin", s.port,
                  "/plugin/%s?validationToken=t0123456789" % iid,
                  headers={"Authorization": "Bearer " + secret}),
            gitlab_hook(s.port, iid, secret)]
        micro = json.loads(subprocess.run(
            [tool("metricbench"), "1000000"], env=dict(
                s.env, PBSYNC_LOG_LEVEL="error"), capture_output=True,
            text=True, check=True).stdout)
        runs = {rt.name: {"on": [], "off": []} for rt in routes}
        cpu = {rt.name: {"on": [], "off": []} for rt in routes}
        tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
        for rnd in range(METRIC_PAIRS):
            for mode in (("on", "off") if rnd % 2 == 0 else ("off", "on")):
                set_metrics(s, mode == "on")
                for rt in routes:
                    pid = hello.pid if rt.prog == "hello" else \
                        s.procs[rt.prog].pid
                    s.sql("DELETE FROM job")
                    c0 = cpu_ticks(pid)
                    w = wrk(rt, duration=METRIC_DUR, tag="m")
                    # The program's CPU time per request: what another
                    # tenant's load moves far less than peak req/s.
                    cpu[rt.name][mode].append(
                        (cpu_ticks(pid) - c0) * tick_us /
                        max(1, w["requests"]))
                    runs[rt.name][mode].append(w["rps"])
        results["metrics"] = {
            "micro": micro, "runs": runs, "cpu_us": cpu,
            "metric_rows": s.sql("SELECT count(*) FROM metric")[0][0]}
    finally:
        if hello is not None:
            os.killpg(hello.pid, 15)
        s.stop()


def pair_ratios(v):
    """Each pair's on/off ratio of peak req/s."""
    return sorted(a / b for a, b in zip(v["on"], v["off"]))


def report_metrics(r):
    mi, runs = r["micro"], r["runs"]
    med = {k: {m: statistics.median(v[m]) for m in ("on", "off")}
           for k, v in runs.items()}
    b1 = med["B1 libfcgi hello"]["on"]
    print("\nMetrics: peak req/s (wrk -t%d -c%d, %d s) with metrics on and "
          "off in %d pairs of adjacent runs, the order alternating; on/off "
          "is the median of the pairs' ratios (and their range); B1 counts "
          "nothing: its on/off is the noise floor:\n" % (
              WRK_T, WRK_C, METRIC_DUR, len(runs["B1 libfcgi hello"]["on"])))
    print("| route | on req/s | off req/s | on / off | range | CPU µs/req "
          "on | off | on / off | range |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, m in med.items():
        pr, cr = pair_ratios(runs[name]), pair_ratios(r["cpu_us"][name])
        cpu = {x: statistics.median(r["cpu_us"][name][x])
               for x in ("on", "off")}
        print("| %s | %.0f | %.0f | %.3f | %.2f–%.2f | %.1f | %.1f | %.3f | "
              "%.2f–%.2f |" % (name, m["on"], m["off"], statistics.median(pr),
                              pr[0], pr[-1], cpu["on"], cpu["off"],
                              statistics.median(cr), cr[0], cr[-1]))
    per_req = 1e9 / b1
    # A delivery is two FastCGI requests (nginx's auth_request, then the
    # request) and one delivery counted.
    dlv = 3 * mi["count_full_ns"]
    print("\nOn a shared machine the noise floor (B1's own on/off: it "
          "counts nothing) can move as far as the routes: read their ratios "
          "against it.  What the counters add is measured in process "
          "(bench/metricbench.c), against one B1 request of the same run "
          "(%.0f ns at %.0f req/s):\n" % (per_req, b1))
    print("| per request | ns | × B1 request |")
    print("|---|---:|---:|")
    for what, ns in (("counting it (route, code), under the table's lock",
                      mi["count_full_ns"]),
                     ("a delivery: 2 FastCGI requests, 1 delivery counted",
                      dlv),
                     ("a request id, only when nginx sends none",
                      mi["id_ns"])):
        print("| %s | %.0f | %.2f %% |" % (what, ns, 100.0 * ns / per_req))
    print("\nOne flush of %d samples into the database: %.2f ms (median of "
          "50), at most once a second per process, by a thread of its own "
          "off the requests' way: %.2f %% of its time; %d metric rows after "
          "the run." % (
              mi["flush_samples"], mi["flush_ms"], mi["flush_ms"] / 10.0,
              r["metric_rows"]))


# -- engines: SQLite and PostgreSQL in one run ----------------------------
ENGINES = [e for e in ARGS.engines.split(",") if e]
SENDERS = (1, 4, 16)                    # concurrent senders of ingest
SENDER_N = 1500 if QUICK else 6000      # deliveries at each level
CLAIM_N = 1000 if QUICK else 3000       # link claims at each level
CONN_CHILDREN = (1, 2, 4)               # FastCGI children per program
OTHERS = 15                             # integrations besides the first
# What a stack's PostgreSQL backends do, sampled every 0.1 s: active,
# waiting on a lock (and the table of the statement that waits: the
# activity, job or link insert; or "commit", the lock a NOTIFY takes at
# commit), waiting on a WAL flush.
PG_WAITS = (
    "SELECT count(*) FILTER (WHERE state = 'active'),"
    " count(*) FILTER (WHERE wait_event_type = 'Lock'),"
    " coalesce(string_agg(coalesce(substring(query FROM"
    " '^\\s*\\w+\\s+(?:INTO\\s+)?(\\w+)'), lower(query)), ' ')"
    " FILTER (WHERE wait_event_type = 'Lock'), ''),"
    " count(*) FILTER (WHERE wait_event IN ('WALSync', 'WALWrite'))"
    " FROM pg_stat_activity WHERE datname = current_database() AND"
    " backend_type = 'client backend' AND pid <> pg_backend_pid()")


def pg_missing():
    """Why PostgreSQL cannot run here (as tests/pg/cluster decides), or
    None."""
    import glob
    pgbin = os.environ.get("PGBIN") or "/usr/lib/postgresql/*/bin"
    if not glob.glob(os.path.join(pgbin, "initdb")):
        return "no PostgreSQL"
    if shutil.which("psql") is None:
        return "no psql"
    return None


def on_engine(name):
    """The stacks made from now on keep their state in this engine (the
    harness starts its throwaway cluster with the first, durable: every
    commit flushed, as SQLite's)."""
    harness.PG = name == "postgresql"
    os.environ["PBSYNC_PG_FSYNC"] = "on"


def pg_dir():
    """The cluster's directory: its socket and data."""
    q = urllib.parse.parse_qs(urllib.parse.urlparse(harness._pg["uri"]).query)
    return q["host"][0]


class LockWatch:
    """Samples PG_WAITS every 0.1 s in one psql while a load runs."""

    def __init__(self, s):
        self.p = None
        if harness.PG:
            self.p = subprocess.Popen(
                ["psql", "-X", "-q", "-A", "-t", "-d",
                 s.env["PBSYNC_DATABASE"]], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            self.p.stdin.write(PG_WAITS + "\n\\watch 0.1\n")
            self.p.stdin.flush()

    def stop(self):
        """Per sample: backends active, waiting on a lock, on a flush, and
        the lock waits by table."""
        if self.p is None:
            return None
        # SIGINT ends \watch; psql then reads the end of its input.
        self.p.send_signal(signal.SIGINT)
        out = self.p.communicate(timeout=30)[0]
        rows = [x.split("|") for x in out.splitlines() if x.count("|") == 3]
        n = max(1, len(rows))
        by = {}
        for r in rows:
            for t in r[2].split():
                by[t] = by.get(t, 0) + 1.0 / n
        return {"samples": len(rows),
                "active": sum(int(r[0]) for r in rows) / n,
                "lock": sum(int(r[1]) for r in rows) / n,
                "lock_share": sum(1 for r in rows if int(r[1])) / n,
                "flush": sum(int(r[3]) for r in rows) / n, "on": by}


def parallel(cmds, env=None):
    """Runs the commands at once: (their outputs, wall seconds)."""
    t0 = time.monotonic()
    ps = [subprocess.Popen(c, stdout=subprocess.PIPE, text=True, env=env)
          for c in cmds]
    outs = [p.communicate()[0] for p in ps]
    return outs, time.monotonic() - t0


def senders(s, routes, c, tag):
    """SENDER_N deliveries from c concurrent senders (closed loop) spread
    over the first c routes (one connection each) or all on one route."""
    used = routes[:c]
    each = c // len(used)
    watch = LockWatch(s)
    outs, el = parallel([openloop_cmd(rt, 1e6, SENDER_N // len(used),
                                      "%s-%d" % (tag, k), each)
                         for k, rt in enumerate(used)])
    outs = [json.loads(o) for o in outs]
    return {"rps": sum(o["done"] for o in outs) / el,
            "bad": sum(o["n"] - o["done"] + o["non2xx"] + o["errors"]
                       for o in outs),
            "waits": watch.stop()}


def claims(s, iid, c, tag):
    """CLAIM_N links claimed by c storebench processes at once, each
    claim its own transaction."""
    watch = LockWatch(s)
    outs, el = parallel([[tool("storebench"), "claims", iid,
                          "%s-%d" % (tag, k), str(CLAIM_N // c)]
                         for k in range(c)], env=s.env)
    return {"rps": CLAIM_N // c * c / el, "ok": all(o.strip() for o in outs),
            "waits": watch.stop()}


def engine_ingest(name):
    """Ingest and claims at each level of SENDERS, B1 and B2 beside."""
    s = harness.Stack(doubles=False, env=ENV, children=max(SENDERS),
                      inbound_rate="1000000r/s")
    hello = None
    try:
        hello, _, p1 = baselines(s)
        keys = [("%032x" % (0xe0 + k), "engine-secret-%02d-0123456789" % k)
                for k in range(1 + OTHERS)]
        for iid, secret in keys:
            s.add_integration(iid, secret)
        loads = {
            "Productboard, one integration":
                [pb_hook(s.port, *keys[0])],
            "Productboard, an integration per sender":
                [pb_hook(s.port, *k) for k in keys],
            "GitTab, one integration, one issue":
                [gitlab_hook(s.port, *keys[0])]}
        out = {"b1": wrk(Route("B1", "hello", p1, "/"))["rps"],
               "b2": float(subprocess.run(
                   [tool("fsync_loop"), pg_dir() if harness.PG else s.dir,
                    str(DUR)], capture_output=True, text=True).stdout),
               "peak": {}, "senders": {}, "claims": {}}
        for load, routes in loads.items():
            if len(routes) == 1:
                s.sql("DELETE FROM job")
                out["peak"][load] = wrk(routes[0], tag="e" + name[0])["rps"]
            out["senders"][load] = {}
            for c in SENDERS:
                s.sql("DELETE FROM job")
                out["senders"][load][c] = senders(
                    s, routes, c, "e%s%d%d" % (name[0], len(out["peak"]), c))
        s.sql("DELETE FROM job")
        for c in SENDERS:
            out["claims"][c] = claims(s, keys[0][0], c, "c%d" % c)
        if harness.PG:
            # The same claims without the row_count trigger: what the one
            # counter row costs them.
            s.sql("ALTER TABLE link DISABLE TRIGGER link_count_insert")
            out["claims_no_count"] = claims(s, keys[0][0], max(SENDERS),
                                            "n")
            s.sql("ALTER TABLE link ENABLE TRIGGER link_count_insert")
        return out
    finally:
        if hello is not None:
            os.killpg(hello.pid, signal.SIGTERM)
        s.stop()


def pg_connections(s):
    return s.sql("SELECT count(*) FROM pg_stat_activity WHERE datname ="
                 " current_database() AND backend_type = 'client backend'"
                 " AND pid <> pg_backend_pid()")[0][0]


def engine_connections():
    """PostgreSQL connections of one stack: after start, after every
    program answered requests on all its children, with the worker."""
    out = {}
    for n in CONN_CHILDREN:
        s = harness.Stack(doubles=False, env=ENV, children=n,
                          inbound_rate="1000000r/s")
        try:
            iid, secret = "c" * 32, "conn-secret-0123456789"
            s.add_integration(iid, secret)
            row = {"start": pg_connections(s)}
            for rt in (Route("/healthz", "plugin", s.port, "/healthz"),
                       Route("/metrics", "admin", s.port, "/metrics"),
                       pb_hook(s.port, iid, secret),
                       gitlab_hook(s.port, iid, secret)):
                openloop(rt, 1e6, 100 * n, "k%d" % n, conns=4 * n)
            time.sleep(1.5)         # the metrics threads' flush
            row["served"] = pg_connections(s)
            s.start_worker()
            time.sleep(3)
            row["worker"] = pg_connections(s)
            out[n] = row
        finally:
            s.stop()
    return out


def on_engines(parts):
    """Runs parts (name -> function) on each engine of --engines: their
    figures under results["engines"][engine]; a part that fails leaves
    its figures blank and the others run."""
    out = results.setdefault("engines", {})
    for name in ENGINES:
        mine = out.setdefault(name, {})
        why = pg_missing() if name == "postgresql" else None
        if why:
            mine["skipped"] = why
            continue
        on_engine(name)
        for part, run in parts.items():
            try:
                mine[part] = run(name)
            except (RuntimeError, subprocess.SubprocessError, OSError,
                    ValueError, KeyError) as e:
                mine["failed"] = "%s: %s" % (part, str(e)[-500:])
        if name == "postgresql" and "failed" not in mine:
            mine["server"] = dict(zip(
                ("version", "fsync", "synchronous_commit",
                 "max_connections"), harness.pg_sql(
                    harness._pg["uri"], "SELECT version(),"
                    " current_setting('fsync'),"
                    " current_setting('synchronous_commit'),"
                    " current_setting('max_connections')")[0]))
    on_engine("sqlite")


def bench_engines():
    on_engines({"ingest": engine_ingest, "connections": lambda name:
                engine_connections() if name == "postgresql" else None})


def bench_drain_growth_engines():
    """Drain and growth on each engine; SQLite's detailed report too."""
    on_engines({"drain_growth": lambda name: bench_drain_growth()})
    sq = results["engines"].get("sqlite", {})
    if "drain_growth" in sq:
        results["drain_growth"] = sq.pop("drain_growth")


def waits_text(w):
    if not w:
        return ""
    on = ", ".join("%s %.1f" % kv for kv in sorted(
        w["on"].items(), key=lambda kv: -kv[1]))
    return "%.1f | %.1f%s | %.0f %% | %.1f" % (
        w["active"], w["lock"], " (%s)" % on if on else "",
        100 * w["lock_share"], w["flush"])


def report_engines(r):
    r = json.loads(json.dumps(r))           # the keys as a saved run has them
    names = [n for n in ("sqlite", "postgresql") if n in r]
    ing = {n: r[n]["ingest"] for n in names if "ingest" in r[n]}
    dg = {n: r[n].get("drain_growth") for n in names}
    if "sqlite" in dg:
        dg["sqlite"] = json.loads(json.dumps(results.get("drain_growth")))
    title = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    srv = r.get("postgresql", {}).get("server")
    print("\n## SQLite and PostgreSQL, one run\n")
    if srv:
        print("PostgreSQL: %s; a throwaway cluster (tests/pg/cluster) on a "
              "Unix socket, fsync=%s, synchronous_commit=%s: every "
              "acknowledged delivery is flushed.  SQLite: WAL, "
              "synchronous=FULL.  Each engine's B1 and B2 are measured on "
              "its own stack (B2 in the directory its database is in); "
              "the ingest stacks run %d FastCGI children per program, one "
              "for each of up to %d senders.\n" % (
                  srv["version"].split(" on ")[0], srv["fsync"],
                  srv["synchronous_commit"], max(SENDERS), max(SENDERS)))
    print("| figure | " + " | ".join("%s | ratio" % title[n]
                                      for n in names) + " |")
    print("|---|" + "---:|---:|" * len(names))

    def row(label, get):
        cells = []
        for n in names:
            if "skipped" in r[n]:
                cells.append("not run (%s) | " % r[n]["skipped"])
                continue
            try:
                v = get(n)
            except (KeyError, TypeError, ZeroDivisionError):
                v = None
            cells.append("%s | %s" % v if v else " | ")
        print("| %s | %s |" % (label, " | ".join(cells)))

    row("B1 libfcgi hello, req/s", lambda n: ("%.0f" % ing[n]["b1"], "1"))
    row("B2 write+fdatasync, flushes/s",
        lambda n: ("%.0f" % ing[n]["b2"], "1"))
    loads = next(iter(ing.values()))["senders"] if ing else {}
    for load in loads:
        if load in next(iter(ing.values()))["peak"]:
                row("%s: peak req/s (wrk -c%d)" % (load, WRK_C), lambda n: (
                "%.0f" % ing[n]["peak"][load], "%.2f × B1, %.2f × B2" % (
                    ing[n]["peak"][load] / ing[n]["b1"],
                    ing[n]["peak"][load] / ing[n]["b2"])))
        for c in SENDERS:
            row("%s: %d sender%s, req/s" % (load, c, "s" * (c > 1)),
                lambda n: ("%.0f" % ing[n]["senders"][load][str(c)]["rps"],
                           "%.2f × B2" % (ing[n]["senders"][load][str(c)]
                                          ["rps"] / ing[n]["b2"])))
    for c in SENDERS:
        row("link claims (a push's insert), %d process%s, claims/s" % (
            c, "es" * (c > 1)), lambda n: (
            "%.0f" % ing[n]["claims"][str(c)]["rps"],
            "%.2f × B2" % (ing[n]["claims"][str(c)]["rps"] / ing[n]["b2"])))
    row("the same, %d processes, without the row_count trigger" %
        max(SENDERS), lambda n: ("%.0f" % ing[n]["claims_no_count"]["rps"],
                                 "%.2f × B2" % (ing[n]["claims_no_count"]
                                                ["rps"] / ing[n]["b2"])))

    def drain(n):
        d = dg[n]["drain"]
        ideal = max(d["pb"]["ok"] / PB_LIMIT, d["gl"]["ok"] / GL_LIMIT)
        return ("%.1f" % (d["jobs"] / d["seconds"]),
                "%.2f × ideal time" % (d["seconds"] / ideal))
    row("drain (the worker's loop, `pbsyncctl drain`), jobs/s", drain)
    for what, key, fmt in (
            ("link lookup by issue, µs", ("lookup", "by_issue_us"), "%.0f"),
            ("link lookup by feature, µs", ("lookup", "by_feature_us"),
             "%.0f"),
            ("GitTab ingest, req/s", ("ingest_rps",), "%.0f"),
            ("one sync job, ms", ("sync_ms",), "%.2f"),
            ("/healthz, req/s", ("healthz_rps",), "%.0f")):
        for size in ("small", "large"):
            def get(n, size=size):
                v = dg[n][size]
                base = dg[n]["small"]
                for k in key:
                    v, base = v[k], base[k]
                return (fmt % v, "%.2f × 1k" % (v / base)
                        if size == "large" else "1")
            row("%s, %s links" % (what, "1k" if size == "small" else "1M"),
                get)
    row("bulk insert of the links up to 1M, s", lambda n: (
        "%.1f" % dg[n]["bulk_insert_s"], ""))
    for n in names:
        if "failed" in r[n]:
            print("\n%s: a part failed, its figures are blank: %s" % (
                title[n], r[n]["failed"]))

    if "postgresql" in ing:
        print("\nContention: what PostgreSQL's backends did during each run "
              "above (sampled every 0.1 s): active, waiting on a lock "
              "(by the table the waiting statement writes: activity, the "
              "hourly count every delivery updates; job, the one waiting "
              "job of a key; link, whose insert updates row_count), the "
              "share of samples with a lock wait, and waiting on a WAL "
              "flush (group commit):\n")
        print("| load | senders | SQLite req/s | PostgreSQL req/s | active |"
              " on a lock | samples with a wait | on a flush |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        sq = ing.get("sqlite")
        runs = [(load, c, v[str(c)]) for load, v in
                ing["postgresql"]["senders"].items() for c in SENDERS]
        runs += [("link claims", c, ing["postgresql"]["claims"][str(c)])
                 for c in SENDERS]
        for load, c, v in runs:
            if sq is None:
                other = ""
            elif load == "link claims":
                other = "%.0f" % sq["claims"][str(c)]["rps"]
            else:
                other = "%.0f" % sq["senders"][load][str(c)]["rps"]
            print("| %s | %d | %s | %.0f | %s |" % (
                load, c, other, v["rps"], waits_text(v["waits"])))
        nc = ing["postgresql"]["claims_no_count"]
        print("| link claims, no row_count trigger | %d | | %.0f | %s |" % (
            max(SENDERS), nc["rps"], waits_text(nc["waits"])))
    conn = r.get("postgresql", {}).get("connections")
    if conn:
        print("\nPostgreSQL connections of one stack (nginx, the four "
              "programs with N FastCGI children each, then the worker), "
              "counted in pg_stat_activity:\n")
        print("| children per program | after start | every child served "
              "| with the worker |")
        print("|---:|---:|---:|---:|")
        for n, c in sorted(conn.items(), key=lambda kv: int(kv[0])):
            print("| %s | %d | %d | %d |" % (n, c["start"], c["served"],
                                             c["worker"]))


# -- report ---------------------------------------------------------------
def ms(v):
    return "%.2f" % v if v is not None else ""


def report_routes(r):
    peak, fixed, b2 = r["peak"], r["fixed"], r["b2"]
    b1 = peak["B1 libfcgi hello"]["rps"]
    print("\n| route | req/s | × B1 | × B2 | open-loop req/s | p50 ms |"
          " p99 ms | p99.9 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, p in peak.items():
        f = fixed[name]
        print("| %s | %.0f | %.2f | %s | %.0f | %s | %s | %s |" % (
            name, p["rps"], p["rps"] / b1,
            "%.2f" % (p["rps"] / b2) if "ingest" in name else "",
            f["rate"], ms(f["p50"]), ms(f["p99"]), ms(f["p999"])))
        if p["non2xx"] or f["non2xx"] or f["errors"]:
            print("|  ↳ non-2xx: wrk %d, open loop %d, errors %d | | | | | |"
                  " | |" % (p["non2xx"], f["non2xx"], f["errors"]))
    bu = r["burst"]
    print("\nB2 write+fdatasync: %.0f commits/s.  Burst of %d GitTab "
          "deliveries at %d/s (10 × %d/s): p50 %.2f ms, p99 %.2f ms, "
          "p99.9 %.2f ms, max %.2f ms, non-2xx %d." % (
              b2, BURST[0], BURST[1], EXPECTED_RATE, bu["p50"], bu["p99"],
              bu["p999"], bu["max"], bu["non2xx"] + bu["errors"]))
    mem = r["memory"]
    b1 = mem["hello"]["last"]
    print("\nMemory in KiB, largest child of each program, after %d and "
          "after %d requests; private = RssAnon, peak = VmHWM:\n" % RSS_MARKS)
    print("| program | RSS %d | RSS %d | × B1 | private | peak | × B1 |" %
          RSS_MARKS)
    print("|---|---:|---:|---:|---:|---:|---:|")
    for p, m in mem.items():
        print("| %s | %d | %d | %.2f | %d | %d | %.2f |" % (
            "B1 hello" if p == "hello" else "pbsync-" + p, m["first"][1],
            m["last"][1], m["last"][1] / b1[1], m["last"][3], m["last"][2],
            m["last"][2] / b1[2]))
    for p, e in r["errors"].items():
        print("\n%s stderr (tail): %s" % (p, e.strip()[-300:]))


def report_drain_growth(r):
    d = r.get("drain")
    if d:
        pb, gl = d["pb"], d["gl"]
        ideal_pb, ideal_gl = pb["ok"] / PB_LIMIT, gl["ok"] / GL_LIMIT
        ideal = max(ideal_pb, ideal_gl)
        calls = pb["calls"] + gl["calls"]
        print("\nDrain: %d queued sync jobs, one `pbsyncctl drain`: %.1f s; "
              "jobs left %d." % (d["jobs"], d["seconds"], d["left"]))
        print("\n| API | calls | per job | 429s | ideal s (calls / limit) |")
        print("|---|---:|---:|---:|---:|")
        print("| Productboard (50/s) | %d | %.2f | %d | %.1f |" % (
            pb["calls"], pb["calls"] / d["jobs"], pb["429"], ideal_pb))
        print("| GitLab (2,000/min) | %d | %.2f | %d | %.1f |" % (
            gl["calls"], gl["calls"] / d["jobs"], gl["429"], ideal_gl))
        print("\nDrain time %.1f s = %.2f × the ideal %.1f s (the slower API "
              "bounds it); 429s: %.2f %% of %d calls." % (
                  d["seconds"], d["seconds"] / ideal, ideal,
                  100.0 * (pb["429"] + gl["429"]) / max(1, calls), calls))
    if "small" in r and "large" in r:
        sm, lg = r["small"], r["large"]
        print("\n| with links in the database | %d | %d | cost 1M / 1k |" % (
            sm["links"], lg["links"]))
        print("|---|---:|---:|---:|")
        print("| GitTab ingest req/s | %.0f | %.0f | %.2f |" % (
            sm["ingest_rps"], lg["ingest_rps"],
            sm["ingest_rps"] / lg["ingest_rps"]))
        print("| one sync job (median of %d), ms | %.2f | %.2f | %.2f |" % (
            len(sm["syncs"]), sm["sync_ms"], lg["sync_ms"], lg["sync_ms"] / sm["sync_ms"]))
        print("| /healthz req/s | %.0f | %.0f | %.2f |" % (
            sm["healthz_rps"], lg["healthz_rps"],
            sm["healthz_rps"] / lg["healthz_rps"]))
        print("\nQuery plans of the hot statements at %d links "
              "(storebench plans):\n" % lg["links"])
        for p in lg["plans"]:
            sql = re.sub(r"\s+", " ", p["sql"])
            scan = [x.split()[1] for x in p["plan"] if x.startswith("SCAN")
                    and "INDEX" not in x and "CONSTANT" not in x and
                    "(subquery" not in x]
            print("- %s`%s`: %s" % ("**scans %s** " % ", ".join(scan)
                                    if scan else "",
                                    sql[:90] + ("…" if len(sql) > 90 else ""),
                                    "; ".join(p["plan"])))
        print("\nBulk insert of %d links: %.1f s." % (
            lg["links"] - sm["links"], r["bulk_insert_s"]))


def report_targets():
    """The issue's targets, each with what was measured."""
    rows = []

    def row(target, got, ok):
        rows.append("| %s | %s | %s |" % (target, got, "met" if ok
                                          else "**missed**"))
    r = results.get("routes")
    if r:
        peak, b2 = r["peak"], r["b2"]
        b1 = peak["B1 libfcgi hello"]["rps"]
        for name in ("GitTab webhook ingest", "Productboard webhook ingest"):
            x = peak[name]["rps"]
            row("%s ≥ 0.5 × B1 req/s" % name, "%.2f" % (x / b1), x >= b1 / 2)
            row("%s ≥ 0.8 × B2 commits/s" % name, "%.2f" % (x / b2),
                x >= 0.8 * b2)
        for name in ("/healthz", "probe"):
            x = peak[name]["rps"] / b1
            row("%s ≥ 0.9 × B1" % name, "%.2f" % x, x >= 0.9)
        dup = peak["GitTab duplicate delivery"]["rps"]
        ing = peak["GitTab webhook ingest"]["rps"]
        row("duplicate ≥ ingest", "%.0f vs %.0f req/s" % (dup, ing),
            dup >= ing)
        bu = r["burst"]["p999"]
        row("p99.9 ≤ 100 ms, burst of %d at %d/s" % BURST, "%.1f ms" % bu,
            bu <= 100)
        b1m = r["memory"]["hello"]["last"][1]
        for p, m in r["memory"].items():
            if p == "hello":
                continue
            first, last = m["first"][1], m["last"][1]
            row("pbsync-%s RSS ≤ 2 × B1" % p, "%.2f" % (last / b1m),
                last <= 2 * b1m)
            row("pbsync-%s private memory (RssAnon) ≤ 2 × B1 RSS" % p,
                "%.2f" % (m["last"][3] / b1m), m["last"][3] <= 2 * b1m)
            row("pbsync-%s RSS flat (%d → %d req.)" % (
                p, m["first"][0], m["last"][0]),
                "%d → %d KiB" % (first, last), last <= first * 1.05 + 256)
    g = results.get("drain_growth", {})
    d = g.get("drain")
    if d:
        ideal = max(d["pb"]["ok"] / PB_LIMIT, d["gl"]["ok"] / GL_LIMIT)
        calls = d["pb"]["calls"] + d["gl"]["calls"]
        share = 100.0 * (d["pb"]["429"] + d["gl"]["429"]) / max(1, calls)
        row("drain ≤ 1.1 × ideal", "%.2f" % (d["seconds"] / ideal),
            d["seconds"] <= 1.1 * ideal)
        row("drain 429s ≤ 1 %", "%.2f %%" % share, share <= 1)
    if "small" in g and "large" in g:
        sm, lg = g["small"], g["large"]
        x = sm["ingest_rps"] / lg["ingest_rps"]
        row("ingest at 1M links within 1.5 × 1k", "%.2f" % x, x <= 1.5)
        x = lg["sync_ms"] / sm["sync_ms"]
        row("one sync at 1M links within 1.5 × 1k", "%.2f" % x, x <= 1.5)
    m = results.get("metrics")
    if m:
        runs = m["runs"]
        med = {k: {x: statistics.median(v[x]) for x in ("on", "off")}
               for k, v in runs.items()}
        b1 = med["B1 libfcgi hello"]["on"]
        mi = m["micro"]
        share = 3 * mi["count_full_ns"] * b1 / 1e9
        row("what the counters add to a delivery ≤ 1 % of a B1 request",
            "%.2f %%" % (100 * share), share <= 0.01)
        row("metrics flush ≤ 1 % of a process's time", "%.2f %%" %
            (mi["flush_ms"] / 10.0), mi["flush_ms"] <= 10)
    wakemem.targets(results, row)
    reconbench.targets(results, row)
    print("\n| target | measured | |\n|---|---:|---|")
    print("\n".join(rows))


def main():
    global results
    if ARGS.report:
        results = json.load(open(ARGS.report))
        report()
        return
    started = time.monotonic()
    build()
    load0 = os.getloadavg()
    for part, run in (("routes", bench_routes),
                      ("drain_growth", bench_drain_growth_engines),
                      ("metrics", bench_metrics),
                      ("engines", bench_engines),
                      ("propagation", lambda: wakemem.bench_propagation(R)),
                      ("memory", lambda: wakemem.bench_memory(R)),
                      ("reconcile", lambda: reconbench.bench_reconcile(R))):
        if part in PARTS or (part == "drain_growth" and
                             PARTS & {"drain", "growth"}):
            run()
        results["machine"] = {
            "date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(),
            "load_start": load0, "load_end": os.getloadavg(),
            "seconds": time.monotonic() - started, "quick": QUICK}
        with open(os.path.join(BUILD, "bench-results.json"), "w") as f:
            json.dump(results, f, indent=1)
    report()


def report():
    m = results["machine"]
    load0 = m["load_start"]
    print("# pbsync benchmarks %s%s: %d CPUs, load %.2f at the start, %.2f "
          "at the end, %.0f s" % (m["date"], " (--quick)" if m["quick"] else "",
                                  m["cpus"], load0[0], m["load_end"][0],
                                  m["seconds"]))
    if "routes" in results:
        report_routes(results["routes"])
    if "drain_growth" in results:
        report_drain_growth(results["drain_growth"])
    if "metrics" in results:
        report_metrics(results["metrics"])
    if "engines" in results:
        report_engines(results["engines"])
    wakemem.report(results)
    reconbench.report(results)
    report_targets()


R = sys.modules[__name__]       # this file, as wakemem's parts use it
if __name__ == "__main__":
    main()
