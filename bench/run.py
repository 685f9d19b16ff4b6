#!/usr/bin/env python3
"""pbsync benchmarks: every figure next to baselines measured in the same
run (B0 nginx alone, B1 a minimal libfcgi responder, B2 write+fdatasync),
printed as a Markdown table.  Usage: bench/run.py [--quick]"""
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.join(TOP, "build", "bench")
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
os.environ["top_srcdir"] = TOP
os.environ["top_builddir"] = BUILD
import harness  # noqa: E402

QUICK = "--quick" in sys.argv
DUR = 3 if QUICK else 10
THREADS, CONNS = 2, 32


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def build():
    os.makedirs(BUILD, exist_ok=True)
    if not os.path.exists(os.path.join(TOP, "configure")):
        sh("autoreconf", "-fi", cwd=TOP, stdout=subprocess.DEVNULL)
    if not os.path.exists(os.path.join(BUILD, "Makefile")):
        sh(os.path.join(TOP, "configure"), "-q", "CFLAGS=-O2 -DNDEBUG",
           cwd=BUILD)
    sh("make", "-s", "-j2", cwd=BUILD, stdout=subprocess.DEVNULL)
    for src, extra in (("hello_fcgi", ["-lfcgi"]), ("fsync_loop", [])):
        sh("cc", "-O2", "-o", os.path.join(BUILD, src),
           os.path.join(TOP, "bench", src + ".c"), *extra)


def wrk(url, body=None, headers=None, duration=DUR):
    """Peak requests/s and latency percentiles (ms) from wrk."""
    env = dict(os.environ)
    cmd = ["wrk", "-t%d" % THREADS, "-c%d" % CONNS, "-d%ds" % duration,
           "--latency"]
    if body is not None:
        env["BENCH_BODY"] = body
        env["BENCH_HEADERS"] = "\n".join("%s: %s" % kv for kv in headers.items())
        cmd += ["-s", os.path.join(TOP, "bench", "post.lua")]
    out = subprocess.run(cmd + [url], env=env, capture_output=True,
                         text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    lat = {}
    for p, v, unit in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)\b", out):
        lat[p] = float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    return {"rps": rps, "p50": lat.get("50"), "p99": lat.get("99"),
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


async def _one(port, method, path, body, headers, out):
    t0 = time.perf_counter()
    r, w = await asyncio.open_connection("127.0.0.1", port)
    data = body.encode() if body else b""
    head = "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" % (method, path)
    for k, v in (headers or {}).items():
        head += "%s: %s\r\n" % (k, v)
    head += "Content-Length: %d\r\n\r\n" % len(data)
    w.write(head.encode() + data)
    await w.drain()
    status = (await r.readline()).split()[1]
    await r.read()
    w.close()
    out.append(((time.perf_counter() - t0) * 1000, status))


async def _fixed(port, method, path, rate, n, body, headers):
    out, tasks = [], []
    start = time.perf_counter()
    for i in range(n):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        b = body.replace("{n}", "f%d" % i) if body else None
        h = {k: v.replace("{n}", "f%d" % i) for k, v in (headers or {}).items()}
        tasks.append(asyncio.create_task(_one(port, method, path, b, h, out)))
    await asyncio.gather(*tasks)
    return out


def fixed_rate(port, path, rate, n, method="GET", body=None, headers=None):
    """Open-loop latency: n requests sent at a fixed rate (no coordinated
    omission); returns p50/p99/p99.9 in ms."""
    out = asyncio.run(_fixed(port, method, path, rate, n, body, headers))
    lat = sorted(x[0] for x in out)
    q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))]
    return {"p50": q(0.5), "p99": q(0.99), "p999": q(0.999),
            "errors": sum(1 for x in out if not x[1].startswith(b"2"))}


def rss_kb(pids):
    """Largest resident set among the given processes and their children."""
    best = 0
    for pid in pids:
        kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                              text=True).stdout.split()
        for p in [str(pid)] + kids:
            try:
                for line in open("/proc/%s/status" % p):
                    if line.startswith("VmHWM:"):
                        best = max(best, int(line.split()[1]))
            except OSError:
                pass
    return best


def baselines(s):
    """B0 and B1 on their own nginx server blocks, same settings."""
    sock = os.path.join(s.dir, "hello.sock")
    hello = subprocess.Popen([os.path.join(BUILD, "hello_fcgi"), "-s", sock,
                              "-n", "2"], start_new_session=True)
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
    time.sleep(1)
    return hello, p0, p1


def main():
    build()
    s = harness.Stack(doubles=False, env={"PBSYNC_JOB_BUDGET_MS": "0",
                           "PBSYNC_LOG_LEVEL": "warning"}, children=2)
    rows = []
    try:
        hello, p0, p1 = baselines(s)
        base = "http://127.0.0.1:%d" % s.port
        iid, secret = "d" * 32, "bench-secret-0123456789"
        s.add_integration(iid, secret)
        gl_body = open(os.path.join(TOP, "tests", "data", "payloads",
                                    "gitlab-issue-hook-open.json")).read()
        gl_h = {"Content-Type": "application/json", "X-Gitlab-Token": secret,
                "X-Gitlab-Event": "Issue Hook", "Idempotency-Key": "k-{n}"}
        gl_dup = dict(gl_h, **{"Idempotency-Key": "the-same-key"})
        pb_body = json.dumps({"data": {"id": "feat-{n}", "eventType":
                                       "feature.updated", "links": {}}})
        pb_h = {"Content-Type": "application/json",
                "Authorization": "Bearer " + secret}
        b2 = float(subprocess.run([os.path.join(BUILD, "fsync_loop"), s.dir,
                                   str(DUR)], capture_output=True,
                                  text=True).stdout)
        b0 = wrk("http://127.0.0.1:%d/" % p0)
        b1 = wrk("http://127.0.0.1:%d/" % p1)
        routes = [
            ("B0 nginx return 200", b0, None),
            ("B1 libfcgi hello", b1, None),
            ("/healthz", wrk(base + "/healthz"), "GET /healthz"),
            ("probe", wrk(base + "/plugin/%s?validationToken=t" % iid),
             None),
            ("GitTab webhook ingest", wrk(base + "/webhooks/gittab/" + iid,
                                          gl_body, gl_h), None),
            ("GitTab duplicate delivery", wrk(base + "/webhooks/gittab/" +
                                              iid, gl_body, gl_dup), None),
            ("Productboard webhook ingest", wrk(
                base + "/webhooks/productboard/" + iid, pb_body, pb_h), None),
        ]
        print("\n| route | req/s | × B1 | × B2 (commits) | p50 ms | p99 ms |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, r, _ in routes:
            ingest = "ingest" in name
            print("| %s | %.0f | %.2f | %s | %.2f | %.2f |" % (
                name, r["rps"], r["rps"] / b1["rps"],
                "%.2f" % (r["rps"] / b2) if ingest else "",
                r["p50"] or 0, r["p99"] or 0))
        print("\nB2 write+fdatasync: %.0f commits/s" % b2)
        # Latency at half of the ingest peak, open loop.
        ingest = routes[4][1]["rps"]
        rate = max(50, min(ingest / 2, 1500))
        fr = fixed_rate(s.port, "/webhooks/gittab/" + iid, rate,
                        int(rate * (2 if QUICK else 5)), "POST", gl_body, gl_h)
        print("\nGitTab ingest at %.0f req/s (50%% of peak, open loop): "
              "p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, errors %d" % (
                  rate, fr["p50"], fr["p99"], fr["p999"], fr["errors"]))
        burst = fixed_rate(s.port, "/webhooks/gittab/" + iid, 1000, 1000,
                           "POST", gl_body,
                           dict(gl_h, **{"Idempotency-Key": "b-{n}"}))
        print("Burst of 1,000 deliveries at 1,000/s: p50 %.1f ms, p99 %.1f ms,"
              " p99.9 %.1f ms, errors %d" % (burst["p50"], burst["p99"],
                                             burst["p999"], burst["errors"]))
        print("\nPeak RSS (VmHWM): pbsync-glhook %d KiB, pbsync-plugin %d KiB, "
              "B1 hello %d KiB" % (rss_kb([s.procs["glhook"].pid]),
                                   rss_kb([s.procs["plugin"].pid]),
                                   rss_kb([hello.pid])))
        hello.terminate()
    finally:
        s.stop()


if __name__ == "__main__":
    main()
