"""Fault matrix, upstream side and slow clients: Productboard and the
tracker failing in every way a network service can (5xx, refused
connections, answers dropped, hangs past the timeout, a revoked token, 429
with Retry-After in seconds and as a date), and clients too slow to finish
their request.  Each row checks the job table, the doubles' request logs
and the issues, and is recorded in docs/reliability.md.  Runs once per
tracker (tests/e2e/trackers.py)."""
import email.utils
import math
import re
import socket
import time

import faultkit as fk
import fixtures as fx
import reliability
import trackers
from harness import AdminSession, Tap, free_port, wait_for

UP = "Upstream faults"
SLOW = "Slow clients"
TIMEOUT_S = 3

t = Tap()
s = tr = None       # the stack and tracker of the run (suite())


def row(area, case, expected, observed, cond):
    return reliability.check(t, area, case, expected, observed, cond)


def retrying(pattern, timeout=30):
    """The first job seen waiting for a retry with last_error matching
    pattern (re), or None."""
    def seen():
        return [j for j in fk.jobs(s, "state = 'ready'")
                if j["attempts"] >= 1 and
                re.search(pattern, j["last_error"] or "")]
    found = wait_for(seen, timeout, 0.1)
    return found[0] if found else None


def statuses(reqs):
    return [r["status"] for r in reqs]


def gaps(reqs):
    return [round(b["ts"] - a["ts"], 1) for a, b in zip(reqs, reqs[1:])]


def renamed(k, name, timeout=45):
    return wait_for(lambda: k.tr_issue()["title"] == name, timeout, 0.2)


def writes():
    """pbsync's writes to issues (GitLab: PUT, GitHub: PATCH and the
    label calls), in order."""
    return tr.all_writes()


def upstream_5xx(k):
    fk.clear(s)
    fk.fault(s.td, tr.update_fault, status=503, count=2)
    k.pb_edit(name="After two 503s")
    job = retrying("503")
    landed = renamed(k, "After two 503s")
    fk.settle(s)
    puts = writes()
    left = fk.jobs(s)
    # The queue's first backoff is 2-4 s; a 503 with Retry-After (Jira's)
    # is waited out as it says.
    wait = tr.unavailable_retry_after or 2
    row(UP, "%s answers 503 twice to a sync write" % tr.title,
        "job retried after %s (no hot loop), the change lands once, "
        "no job left" % ("its Retry-After: %d" % wait
                         if tr.unavailable_retry_after else "a backoff"),
        "write statuses %s, %s s apart; job seen ready with attempts=%s, "
        "last_error %r; title landed: %s; jobs left: %d" % (
            statuses(puts), gaps(puts), job and job["attempts"],
            job and job["last_error"], landed, len(left)),
        landed and statuses(puts) == [503, 503, tr.write_status] and
        all(g >= wait - 0.1 for g in gaps(puts)) and job is not None and
        not left)

    fk.clear(s)
    fk.fault(s.pb, r"GET /v2/entities/.*", status=502, count=1)
    fid, iid = k.push("Productboard 502 on push")
    connected = wait_for(lambda: k.state(fid) == "connected", 30)
    fk.settle(s)
    gets = fk.api(s.pb, "GET", "/v2/entities/" + fid)
    n = len(tr.issues_of(fid))
    row(UP, "Productboard answers 502 to the feature fetch of a push",
        "push answers progress, the job finishes it: one issue, "
        "connected",
        "click answered %s; feature GETs %s; column %s; issues for the "
        "feature: %d" % ("connected" if iid else "not connected",
                         statuses(gets), k.state(fid), n),
        iid is None and connected and n == 1 and statuses(gets)[:1] == [502])


def refused(k):
    fk.clear(s)
    real = s.sql("SELECT tracker_url FROM integration WHERE id = ?",
                 k.iid)[0][0]
    s.sql("UPDATE integration SET tracker_url = ? WHERE id = ?",
          "http://127.0.0.1:%d" % free_port(), k.iid)
    k.pb_edit(name="After refused connections")
    job = wait_for(lambda: [j for j in fk.jobs(s, "state = 'ready'")
                            if j["attempts"] >= 2], 30, 0.1)
    calls = len(tr.api())
    s.sql("UPDATE integration SET tracker_url = ? WHERE id = ?", real, k.iid)
    landed = renamed(k, "After refused connections")
    fk.settle(s)
    puts = writes()
    job = job[0] if job else {}
    row(UP, "%s refuses connections (nothing listening)" % tr.title,
        "job stays ready and is retried, never dead; lands once %s "
        "is back" % tr.title,
        "job ready after %s attempts, last_error %r; %s requests "
        "while down: %d; after restore: title landed %s, writes %s" % (
            job.get("attempts"), job.get("last_error"), tr.title, calls,
            landed,
            statuses(puts)),
        bool(job) and "connect" in (job.get("last_error") or "").lower() and
        calls == 0 and landed and statuses(puts) == [tr.write_status])


def dropped(k):
    fk.clear(s)
    fk.fault(s.td, tr.create_match, drop=True, count=1)
    fid, iid = k.push("Dropped create")
    connected = wait_for(lambda: k.state(fid) == "connected", 30)
    fk.settle(s)
    posts = tr.creates()
    n = len(tr.issues_of(fid))
    row(UP, "%s closes the connection without answering an issue "
        "create" % tr.title,
        "the create is sent again (libcurl on a dead kept-alive connection, "
        "else the job): exactly one issue, connected",
        "click %s; POST statuses %s (None = dropped); column %s; issues "
        "for the feature: %d" % ("connected" if iid else "progress",
                                 statuses(posts), k.state(fid), n),
        connected and n == 1 and statuses(posts) == [None, 201])


def hangs(k):
    # A create that hangs past the timeout still happens at the tracker:
    # the retry must find that issue by its marker, not create a second.
    fk.clear(s)
    fk.fault(s.td, tr.create_match, delay=TIMEOUT_S + 4, count=1)
    fid = fx.feature(s, "Hung create")
    r = fx.click(s, k.pid, fid)
    answer = r.get("connection", {}).get("state")
    connected = wait_for(lambda: k.state(fid) == "connected", 60, 0.2)
    fk.settle(s)
    # Count once the hung request is over and its issue exists.
    wait_for(lambda: None not in statuses(tr.creates()), 30, 0.2)
    found = tr.issues_of(fid)
    posts = tr.creates()
    link = [(st, tr.key_number(key)) for st, key in s.sql(
        "SELECT state, issue_key FROM link WHERE feature_id = ?", fid)]
    log = s.sql("SELECT detail FROM sync_log WHERE feature_id = ? AND "
                "result = 'error'", fid)
    row(UP, "%s hangs past the timeout on an issue create (the issue "
        "is created late)" % tr.title,
        "push answers progress; the late issue is found by its marker: "
        "one issue, one POST, link to it",
        "click answered %s; POSTs %d; issues for the feature: %d; link %s; "
        "logged %r" % (answer, len(posts), len(found), link,
                       log[0][0] if log else None),
        answer == "progress" and connected and len(found) == 1 and
        len(posts) == 1 and link == [("linked", found[0]["number"])])

    fk.clear(s)
    fk.fault(s.td, tr.read_fault, delay=TIMEOUT_S + 2, count=1)
    k.pb_edit(name="After a hung read")
    job = retrying("timed out|timeout")
    landed = renamed(k, "After a hung read")
    fk.settle(s)
    puts = writes()
    row(UP, "%s hangs past the timeout on a read during a sync" % tr.title,
        "the call is abandoned at the timeout, the job retried, the change "
        "lands once",
        "job seen ready, attempts=%s, last_error %r; title landed %s; "
        "writes %s" % (job and job["attempts"], job and job["last_error"],
                     landed, statuses(puts)),
        job is not None and landed and statuses(puts) == [tr.write_status])


def revoked(k, others):
    fk.clear(s)
    s.sql("DELETE FROM job WHERE state = 'dead'")
    s.pb.call("POST", "/_double/tokens", {"token": fx.PB_TOKEN,
                                          "revoked": True})
    for n, iid in enumerate([k.issue_iid] + others):
        k.tr_edit(iid, title="Edited while revoked %d" % n)
    want = 1 + len(others)
    dead = wait_for(lambda: len(fk.jobs(s, "state = 'dead'")) >= want, 30)
    fk.settle(s)
    n401 = len([r for r in fk.api(s.pb) if r["status"] == 401])
    # The flag and the dead jobs are there; anything still calling would
    # show up in the log within a few worker polls.
    time.sleep(3)
    later = len([r for r in fk.api(s.pb) if r["status"] == 401])
    rows = fk.jobs(s, "state = 'dead'")
    flag = s.sql("SELECT auth_failed FROM integration WHERE id = ?",
                 k.iid)[0][0]
    shown = fk.ctl_show(s, k.iid).get("token_refused")
    admin = AdminSession(s)
    page = admin.get("/admin/i/" + k.iid)[1]
    on_page = "Token refused" in page and "Productboard refused the " \
        "token" in page
    listed = "Token refused" in admin.get("/admin/")[1]
    row(UP, "Productboard token revoked (401) while %s edits arrive" %
        tr.title,
        "each job dies at its first 401 (no retry storm); the integration "
        "is flagged in the database, pbsyncctl and the admin page",
        "%d jobs dead with attempts %s; %d Productboard 401s, %d after 3 s "
        "more; auth_failed %r; pbsyncctl token_refused %r; admin page "
        "flag: %s, list flag: %s" % (
            len(rows), [j["attempts"] for j in rows], n401, later, flag,
            shown, on_page, listed),
        dead and len(rows) == want and all(j["attempts"] == 1 for j in rows)
        and n401 <= want and later == n401 and flag is not None and
        flag.startswith("Productboard refused the token") and
        shown == flag and on_page and listed)

    fid = fx.feature(s, "Pushed while revoked")
    tr.clear()
    r = fx.click(s, k.pid, fid)
    conn = r.get("connection", {})
    links = s.sql("SELECT count(*) FROM link WHERE feature_id = ?", fid)[0][0]
    row(UP, "Push while the Productboard token is revoked",
        "error with a message for the PM; no link, no job, no %s call" %
        tr.title,
        "answer %s %r; links %d; %s calls %d" % (
            conn.get("state"), conn.get("message"), links, tr.title,
            len(tr.api())),
        conn.get("state") == "error" and "token" in conn.get("message", "")
        and links == 0 and not tr.api() and
        not fk.jobs(s, "key = '%s'" % fid))

    # The token works again: the next successful job clears the flag.
    s.pb.call("POST", "/_double/tokens", {"token": fx.PB_TOKEN,
                                          "revoked": False})
    k.pb_edit(name="Token renewed")
    landed = renamed(k, "Token renewed")
    cleared = wait_for(lambda: s.sql("SELECT auth_failed FROM integration "
                                     "WHERE id = ?", k.iid)[0][0] is None, 20)
    row(UP, "The revoked token works again",
        "the first successful job clears the flag",
        "change landed %s; auth_failed cleared %s" % (landed, cleared),
        landed and cleared)

    fx.idle(s, 30)      # the renewed token's own echoes are handled first
    fk.clear(s)
    fk.fault(s.td, r".* %s.*" % tr.api_root, status=401, count=-1)
    fid = fx.feature(s, "Pushed with %s refusing" % tr.title)
    r = fx.click(s, k.pid, fid)
    conn = r.get("connection", {})
    flag = s.sql("SELECT auth_failed FROM integration WHERE id = ?",
                 k.iid)[0][0]
    calls = tr.api()
    s.td.call("DELETE", "/_double/faults")
    row(UP, "%s token refused (401) on a push" % tr.title,
        "error for the PM, one %s call, no link; the integration is "
        "flagged" % tr.title,
        "answer %s %r; %s calls %s; links %d; auth_failed %r" % (
            conn.get("state"), conn.get("message"), tr.title,
            statuses(calls),
            s.sql("SELECT count(*) FROM link WHERE feature_id = ?",
                  fid)[0][0], flag),
        conn.get("state") == "error" and statuses(calls) == [401] and
        flag is not None and flag.startswith("%s refused the token" %
                                             tr.title))
    s.sql("UPDATE integration SET auth_failed = NULL WHERE id = ?", k.iid)


def rate_limited(k, name, retry_after, not_before):
    """A 429 on a sync write with the given Retry-After; a push is clicked
    during the pause.  not_before(t429) is the earliest allowed next call."""
    fk.clear(s)
    fk.fault(s.td, tr.update_fault, status=429, count=1,
             headers={"Retry-After": retry_after})
    k.pb_edit(name=name)
    hit = wait_for(lambda: [r for r in tr.api() if r["status"] == 429],
                   30, 0.05)
    t429 = hit[0]["ts"] if hit else 0
    until = wait_for(lambda: [u for (u,) in s.sql(
        "SELECT until FROM upstream_pause WHERE token_hash = ?",
        fk.token_hash(tr.credential())) if u > t429], 10, 0.05)
    fid, iid = k.push(name + " (pushed during the pause)")
    landed = renamed(k, name)
    connected = wait_for(lambda: k.state(fid) == "connected", 40)
    fk.settle(s)
    reqs = tr.api()
    after = [r for r in reqs if hit and r["seq"] > hit[0]["seq"]]
    first = after[0]["ts"] - t429 if after else -1
    earliest = not_before(t429) - t429
    return {"landed": landed, "connected": connected, "first": first,
            "earliest": earliest, "pause": until[0] - t429 if until
            else None, "issues": len(tr.issues_of(fid)),
            "puts": statuses(writes()),
            "click": "connected" if iid else "progress"}


def rate_limits(k):
    r = rate_limited(k, "After a 429 (seconds)", "3", lambda t: t + 3)
    row(UP, "%s 429 with Retry-After: 3 (seconds)" % tr.title,
        "no call to %s by any process for 3 s (a push clicked meanwhile "
        "waits too); then the change and the push land" % tr.title,
        "pause stored for %.1f s; first %s call %.2f s after the 429; "
        "push clicked during the pause: %s, then connected %s with %d issue; "
        "writes %s" % (r["pause"] or -1, tr.title, r["first"], r["click"],
                     r["connected"], r["issues"], r["puts"]),
        r["landed"] and r["connected"] and r["issues"] == 1 and
        r["first"] >= r["earliest"] - 0.1 and r["click"] == "progress" and
        r["puts"] == [429, tr.write_status])

    when = math.ceil(time.time()) + 4
    date = email.utils.formatdate(when, usegmt=True)
    r = rate_limited(k, "After a 429 (date)", date, lambda t: when)
    row(UP, "%s 429 with Retry-After as an HTTP date" % tr.title,
        "the date is parsed (not the 1 s RateLimit-Reset nor the 60 s "
        "default): no call before it, then the change lands",
        "Retry-After %r = %.1f s after the 429; pause stored for %.1f s; "
        "first %s call %.2f s after the 429; push connected %s; "
        "writes %s" % (date, r["earliest"], r["pause"] or -1, tr.title,
                       r["first"], r["connected"], r["puts"]),
        r["landed"] and r["connected"] and r["issues"] == 1 and
        r["first"] >= r["earliest"] - 0.1 and r["pause"] is not None and
        abs(r["pause"] - r["earliest"]) < 1.5 and
        r["puts"] == [429, tr.write_status])


def stalled(c):
    """1 if nginx neither answered nor closed the connection yet."""
    c.setblocking(False)
    try:
        c.recv(1, socket.MSG_PEEK)
        return False
    except BlockingIOError:
        return True
    finally:
        c.setblocking(True)


def slow_clients(k):
    hook = tr.hook_of(k.iid)
    path = "/webhooks/gittab/" + k.iid
    body = tr.delivery_body(990001, 9)
    socks = []
    for n in range(8):
        c = socket.create_connection(("127.0.0.1", s.port), timeout=60)
        # The tracker's own headers: its secret or signature, its event.
        h = dict(tr.signed(hook, body), **{tr.dedupe_header: "slow-%d" % n})
        head = "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Length: " \
            "%d\r\n" % (path, "".join("%s: %s\r\n" % kv for kv in h.items()),
                        len(body))
        # Half stop inside the headers, half inside the body.
        c.sendall((head + "\r\n" + body[:len(body) // 2]).encode()
                  if n % 2 else head.encode())
        socks.append(c)
    health = [s.request("GET", "/healthz").status for _ in range(10)]
    k.tr_edit(title="Synced past slow clients")
    synced = wait_for(lambda: k.feature()["name"] ==
                      "Synced past slow clients", 30)
    fid, iid = k.push("Pushed past slow clients")
    still_open = len([c for c in socks if stalled(c)])
    ends = []
    t0 = time.monotonic()
    for c in socks:
        c.settimeout(max(1, 45 - (time.monotonic() - t0)))
        try:
            data = c.recv(4096)
            ends.append(data.split(b"\r\n", 1)[0].decode() if data
                        else "closed")
        except socket.timeout:
            ends.append("still open")
        c.close()
    took = time.monotonic() - t0
    slow_rows = s.sql("SELECT count(*) FROM delivery WHERE key LIKE "
                      "'slow-%'")[0][0]
    row(SLOW, "8 clients stall inside their headers or body on the %s "
        "webhook route (served by 2 FastCGI children)" % tr.title,
        "other requests are served meanwhile; nginx ends the stalled "
        "requests; nothing of them reaches the database",
        "while 8 were stalled (%d still open after): /healthz %s, a %s "
        "edit synced %s, a push %s; stalled ones ended %s after %.0f s "
        "more; delivery rows from them: %d" % (
            still_open, sorted(set(health)), tr.title, synced,
            "connected" if iid else "not connected", sorted(set(ends)),
            took, slow_rows),
        still_open == 8 and health == [200] * 10 and synced and
        iid is not None and "still open" not in ends and slow_rows == 0)


def suite(stack, tracker):
    global s, tr
    s, tr = stack, tracker
    k = fk.Linked(s)
    others = [k.push("Second linked")[1], k.push("Third linked")[1]]
    fx.idle(s)
    upstream_5xx(k)
    refused(k)
    dropped(k)
    hangs(k)
    revoked(k, others)
    rate_limits(k)
    slow_clients(k)


# Only the worker runs jobs, so every retry is one the queue scheduled.
trackers.each(t, suite, env={"PBSYNC_JOB_BUDGET_MS": "0",
                             "PBSYNC_HTTP_TIMEOUT_MS": str(TIMEOUT_S * 1000),
                             "PBSYNC_JOB_LEASE_S": "20",
                             "PBSYNC_RECONCILE_INTERVAL_S": "3600"})
