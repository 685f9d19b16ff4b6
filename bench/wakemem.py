"""Two parts of bench/run.py: propagation (a tracker's change to the
other side's double, the worker woken by the delivery) and memory (what
each program maps and keeps private, after it starts and after 1,000
requests), each against its baseline.  run.py passes itself as R."""
import os
import statistics
import time

LATENCY = 0.05          # s the doubles add to every API call
ROUNDS = (10, 40)       # propagation rounds: --quick, full
MEM_N = 1000            # requests (the worker: jobs) before the second look


# -- propagation ------------------------------------------------------------
def bench_propagation(R):
    """From the 2xx of the tracker's webhook to the arrival at
    Productboard's double of the write it causes, with every API call
    LATENCY s slower; the worker alone runs jobs (job_budget_ms 0), so its
    wake-up is what is measured.  The ideal is the two reads that must come
    first (the issue, the feature): 2 x LATENCY."""
    import fixtures as fx
    s = R.harness.Stack(doubles=True, env=R.ENV, children=2)
    try:
        fx.seed(s)
        rc, iid, err = fx.create_integration(s)
        if rc != 0:
            raise RuntimeError("integration add failed: " + err)
        pid = fx.plugin_id(s, iid)
        s.start_worker()
        fid = fx.feature(s, "Propagation", "<p>Measured.</p>", "New")
        fx.click(s, pid, fid)
        number = s.tr.issues()[0]["number"]
        fx.idle(s)
        for d in (s.pb, s.gl):
            d.call("POST", "/_double/faults", {"match": ".", "count": -1,
                                               "delay": LATENCY})
        lat, calls = [], []
        for k in range(ROUNDS[0] if R.QUICK else ROUNDS[1]):
            for d in (s.pb, s.gl):
                d.call("DELETE", "/_double/requests")
            s.gl.call("DELETE", "/_double/deliveries")
            title = "Round %d" % k
            s.tr.edit(number, title=title)

            def write():
                return next((r for r in s.pb.requests()
                             if r["method"] == "PATCH" and
                             "/v2/entities/" in r["path"]), None)
            w = R.harness.wait_for(write, 30)
            hook = next((x for x in s.gl.call("GET", "/_double/deliveries")
                         if 200 <= (x["status"] or 0) < 300), None)
            if w is None or hook is None:
                raise RuntimeError("round %d: no write or no delivery" % k)
            acked = hook["ts"] + hook["elapsed"]
            lat.append((w["ts"] - acked) * 1000)
            calls.append(sum(1 for d in (s.pb, s.gl) for r in d.requests()
                             if acked <= r["ts"] < w["ts"]))
            fx.idle(s)
            time.sleep(0.3)         # the worker back in its wait
        R.results["propagation"] = {"ms": lat, "calls": calls,
                                    "latency_ms": LATENCY * 1000}
    finally:
        s.stop()


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def propagation_figures(r):
    ideal = 2 * r["latency_ms"]
    return ideal, pct(r["ms"], 50), pct(r["ms"], 99)


def report_propagation(r):
    ideal, p50, p99 = propagation_figures(r)
    print("\nPropagation: a rename in the tracker, from its webhook's 2xx "
          "to the arrival of the write at Productboard's double, every API "
          "call %.0f ms slower, %d rounds, the worker alone running jobs; "
          "the ideal is the two reads before the write (%.0f ms):\n" % (
              r["latency_ms"], len(r["ms"]), ideal))
    print("| | p50 ms | p99 ms | max ms | API calls before the write |")
    print("|---|---:|---:|---:|---:|")
    print("| measured | %.1f | %.1f | %.1f | %s |" % (
        p50, p99, max(r["ms"]), "–".join(str(x) for x in sorted(
            set((min(r["calls"]), max(r["calls"])))))))
    print("| − ideal | %.1f | %.1f | | |" % (p50 - ideal, p99 - ideal))
    # What the wake-up and the worker add, apart from how many calls the
    # sync makes before its write (the API budget's business).
    floor = statistics.median(r["calls"]) * r["latency_ms"]
    print("| − the calls made (%.0f × %.0f ms) | %.1f | %.1f | | |" % (
        statistics.median(r["calls"]), r["latency_ms"], p50 - floor,
        p99 - floor))


# -- memory -----------------------------------------------------------------
def smaps(pid):
    """(Rss, Private_Clean + Private_Dirty, Pss) in KiB of one process."""
    v = {}
    try:
        for line in open("/proc/%s/smaps_rollup" % pid):
            f = line.split()
            if len(f) >= 2 and f[0].endswith(":"):
                v[f[0][:-1]] = int(f[1])
    except OSError:
        return (0, 0, 0)
    return (v.get("Rss", 0), v.get("Private_Clean", 0) +
            v.get("Private_Dirty", 0), v.get("Pss", 0))


def largest(R, pid):
    """smaps of the process of a program (a FastCGI child, a worker
    lane, its supervisor) with the largest RSS."""
    return max((smaps(p) for p in R.tree(pid)), key=lambda m: m[0])


def bench_memory(R):
    s = R.harness.Stack(doubles=False, env=R.ENV, children=2,
                        inbound_rate="1000000r/s")
    hello = None
    try:
        hello, p0, p1 = R.baselines(s)
        iid, secret = "d" * 32, "bench-secret-0123456789"
        s.add_integration(iid, secret)
        s.start_worker()
        procs = {"hello": hello.pid, "worker": s.procs["worker"].pid}
        procs.update({p: s.procs[p].pid for p in R.harness.PROGRAMS})
        R.harness.wait_for(lambda: len(R.tree(procs["worker"])) >= 3, 10)
        time.sleep(1)
        start = {p: largest(R, pid) for p, pid in procs.items()}
        cookie = R.admin_session(s)
        hook = R.gitlab_hook(s.port, iid, secret)
        routes = {
            "hello": R.Route("B1", "hello", p1, "/"),
            "plugin": R.Route("probe", "plugin", s.port,
                              "/plugin/%s?validationToken=t0123456789" % iid,
                              headers={"Authorization": "Bearer " + secret}),
            "glhook": hook,
            "pbhook": R.Route("pb", "pbhook", s.port,
                              "/webhooks/productboard/" + iid, "POST",
                              {"Content-Type": "application/json",
                               "Authorization": "Bearer " + secret},
                              '{"data": {"id": "feat-{n}", "eventType":'
                              ' "feature.updated", "links": {}}}'),
            "admin": R.Route("admin", "admin", s.port, "/admin/",
                             headers={"Cookie": cookie})}
        for p, rt in routes.items():
            R.requests_through(rt, MEM_N, "mem" + p)
        # The worker's requests are jobs: MEM_N of them, each failing
        # (the integration's tokens are not sealed) and put off.
        s.sql("DELETE FROM job")
        now = time.time()
        for k in range(MEM_N):
            s.sql("INSERT INTO job (integration_id, kind, key, run_at,"
                  " created_at, updated_at) VALUES (?, 'sync', ?, ?, ?, ?)",
                  iid, "mem-%d" % k, now, now, now)
        R.harness.wait_for(lambda: s.sql(
            "SELECT count(*) FROM job WHERE attempts = 0")[0][0] == 0, 120,
            0.5)
        after = {p: largest(R, pid) for p, pid in procs.items()}
        R.results["memory"] = {"start": start, "after": after, "n": MEM_N}
    finally:
        if hello is not None:
            os.killpg(hello.pid, 15)
        s.stop()


def report_memory(r):
    b1 = r["after"]["hello"]
    print("\nMemory in KiB (/proc/PID/smaps_rollup), the largest process of "
          "each program, after it starts and after %d requests (the "
          "worker: jobs); private = Private_Clean + Private_Dirty:\n" %
          r["n"])
    print("| program | RSS start | RSS %d | × B1 | private start | "
          "private %d | × B1 |" % (r["n"], r["n"]))
    print("|---|---:|---:|---:|---:|---:|---:|")
    for p in r["start"]:
        a, z = r["start"][p], r["after"][p]
        print("| %s | %d | %d | %.2f | %d | %d | %.2f |" % (
            "B1 hello" if p == "hello" else "pbsyncctl worker" if
            p == "worker" else "pbsync-" + p, a[0], z[0], z[0] / b1[0],
            a[1], z[1], z[1] / max(1, b1[1])))


def report(r):
    if "propagation" in r:
        report_propagation(r["propagation"])
    if "memory" in r:
        report_memory(r["memory"])


def targets(r, row):
    """The rows of the target table: row(target, measured, met)."""
    p = r.get("propagation")
    if p:
        ideal, p50, _ = propagation_figures(p)
        row("propagation p50 ≤ ideal (%.0f ms) + 20 ms" % ideal,
            "%.1f ms" % p50, p50 <= ideal + 20)
    m = r.get("memory")
    if m:
        b1 = m["after"]["hello"]
        for prog, z in m["after"].items():
            if prog != "hello":
                row("%s private memory ≤ 2 × B1 RSS" % prog,
                    "%.2f" % (z[1] / b1[0]), z[1] <= 2 * b1[0])
