"""A part of bench/run.py: the API calls a reconcile costs per link, at
1,000 and 10,000 links (LINKS) whose two sides agree, against the ideal of
one page of 100 a side (2 x links / 100).  run.py passes itself as R."""
import math
import subprocess
import time

LINKS = (1000, 10000)   # the --quick run stops at the first
PAGE = 100              # GitLab's per_page maximum; Productboard's told


def bench_reconcile(R):
    """Seeds the doubles and the links (as run.py's drain does: every pair
    agrees with its snapshot), then runs one reconcile with `pbsyncctl
    drain` and counts what each double was asked."""
    out = []
    for n in LINKS[:1] if R.QUICK else LINKS:
        s = R.harness.Stack(doubles=True, env=R.ENV, children=1)
        try:
            pairs, status = R.seed_doubles(s, n)
            rc, iid, err = R.fixtures.create_integration(s)
            if rc != 0:
                raise RuntimeError("integration add failed: " + err)
            R.add_links(s, iid, pairs, status)
            s.pb.call("POST", "/_double/config", {"page_size": PAGE})
            s.sql("DELETE FROM job")
            for d in (s.pb, s.gl):
                d.call("DELETE", "/_double/requests")
            subprocess.run([s.binary("pbsyncctl"), "reconcile"], env=s.env,
                           check=True, capture_output=True)
            t0 = time.monotonic()
            subprocess.run([s.binary("pbsyncctl"), "drain"], env=s.env,
                           check=True)
            el = time.monotonic() - t0
            out.append({"links": n, "seconds": el,
                        "left": s.sql("SELECT count(*) FROM job")[0][0],
                        "pb": R.requests_log(s.pb),
                        "gl": R.requests_log(s.gl)})
        finally:
            s.stop()
    R.results["reconcile"] = out


def figures(p):
    """(calls, calls per link, ideal calls, ratio to the ideal)."""
    calls = p["pb"]["calls"] + p["gl"]["calls"]
    ideal = 2 * math.ceil(p["links"] / PAGE)
    return calls, calls / p["links"], ideal, calls / ideal


def report(r):
    if "reconcile" not in r:
        return
    print("\nReconcile: one run over links whose sides agree with their "
          "snapshot, GitLab and Productboard read in pages of %d; the "
          "ideal is one page a side (2 × links / %d):\n" % (PAGE, PAGE))
    print("| links | Productboard calls | GitLab calls | calls per link | "
          "ideal | × ideal | s | jobs left |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for p in r["reconcile"]:
        calls, per, ideal, x = figures(p)
        print("| %d | %d | %d | %.4f | %d | %.2f | %.1f | %d |" % (
            p["links"], p["pb"]["calls"], p["gl"]["calls"], per, ideal, x,
            p["seconds"], p["left"]))


def targets(r, row):
    """The rows of the target table: row(target, measured, met)."""
    for p in r.get("reconcile") or []:
        calls, per, ideal, x = figures(p)
        row("reconcile calls per link at %d links ≤ 1.5 × ideal (%.3f)" %
            (p["links"], ideal / p["links"]), "%.4f (%.2f ×)" % (per, x),
            x <= 1.5 and p["left"] == 0)
