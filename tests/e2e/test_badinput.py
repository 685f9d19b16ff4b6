"""Bad input: the corpus of malformed and hostile requests in
tests/data/badinput/*.json, sent to every endpoint through nginx (or
straight to a program's FastCGI socket, or given to pbsyncctl) with the
right secrets, so that only the named part of each request is wrong.  Each
case must get its documented status, write nothing, make no upstream call,
and leave every program alive; tests/data/badinput/README.md describes the
format.  Runs once per tracker (tests/e2e/trackers.py): the corpus of a
tracker's webhook (and its framing cases) is written in that tracker's
wire format and says so ("tracker"), the rest is the same for every
tracker."""
import glob
import json
import os
import re
import threading
import time

import fixtures as fx
import reliability
import trackers
import wire
from harness import PROGRAMS, TOP_SRC, Tap

CORPUS = os.path.join(TOP_SRC, "tests", "data", "badinput")
PASSWORD = "bad-input admin password 0123"

t = Tap()
s = tr = hook = None    # the stack, tracker and webhook of the run (suite())
ctl_reports = []        # sanitizer findings in pbsyncctl's stderr


def expand(v, ctx):
    """The case's value with ${name} and ${c*n} filled in."""
    if isinstance(v, str):
        v = re.sub(r"\$\{(.)\*(\d+)\}", lambda m: m.group(1) * int(m.group(2)),
                   v)
        return re.sub(r"\$\{(\w+)\}", lambda m: ctx[m.group(1)], v)
    if isinstance(v, list):
        return [expand(x, ctx) for x in v]
    if isinstance(v, dict):
        return {k: expand(x, ctx) for k, x in v.items()}
    return v


def body_of(c, ctx):
    """The raw body of a case as bytes, or None when it has none."""
    if "json" in c:
        text = json.dumps(expand(c["json"], ctx), ensure_ascii=False)
    elif "form" in c:
        text = wire.urlencode(expand(c["form"], ctx))
    elif "body_parts" in c:
        text = "".join(expand(p, ctx) * n for p, n in c["body_parts"])
    elif "body" in c:
        text = expand(c["body"], ctx)
    else:
        return None
    return wire.to_bytes(text)


def merged(defaults, c):
    out = dict(defaults)
    out.update(c)
    h = dict(defaults.get("headers", {}))
    h.update(c.get("headers", {}))
    out["headers"] = {k: v for k, v in h.items() if v is not None}
    return out


def for_tracker(x):
    """1 if a corpus file or case applies to the run's tracker: it names
    none, or names this one (a webhook's wire format is its tracker's)."""
    return x.get("tracker", tr.kind) == tr.kind


def send(c, ctx):
    """Sends a case; returns (status or "closed", reply head, reply body)."""
    body = body_of(c, ctx)
    # The tracker's delivery header for the bytes sent (or for the text
    # the case signs instead): GitLab's secret, GitHub's and Jira's HMAC
    # of them (hook_mac: the HMAC without its "sha256=").
    signed = wire.to_bytes(expand(c["sign"], ctx)) if "sign" in c else \
        body or b""
    auth = tr.signed(hook, signed)[tr.auth_header]
    ctx = dict(ctx, length=str(len(body or b"")), hook_auth=auth,
               hook_mac=auth.split("=", 1)[-1])
    via = c.get("via", "http")
    if via == "ctl":
        env = {"PBSYNC_PB_TOKEN": fx.PB_TOKEN, "PBSYNC_TRACKER_TOKEN": tr.token}
        env.update(expand(c.get("env", {}), ctx))
        r = s.ctl(*expand(c["args"], ctx), env=env, check=False)
        ctl_reports.extend(m for m in ("AddressSanitizer", "runtime error:")
                           if m in r.stderr)
        return "exit %d" % r.returncode, wire.to_bytes(r.stderr), b""
    if via == "fcgi":
        return wire.fcgi(os.path.join(s.dir, c["program"] + ".sock"),
                         expand(c["params"], ctx), body or b"")
    if via == "raw":
        head = wire.to_bytes(expand(c["raw"], ctx))
    else:
        head = wire.request_head(c["method"], expand(c["path"], ctx),
                                 expand(c["headers"], ctx), body, s.port)
    return wire.raw_http(s.port, head + (body or b""),
                         half_close=c.get("half_close", False))


def state():
    """What no refused request may change: the row count of every table
    and the rows of the integration and admin_user tables."""
    return (s.table_counts(), s.sql("SELECT * FROM integration"),
            s.sql("SELECT * FROM admin_user"))


def upstream_calls():
    return len(s.pb.requests()) + len(s.td.requests())


def changes(before, after):
    """'no row changed', or what did."""
    out = ["%s %+d" % (k, after[0][k] - before[0].get(k, 0))
           for k in after[0] if after[0][k] != before[0].get(k, 0)]
    for i, name in ((1, "integration"), (2, "admin_user")):
        if before[i] != after[i]:
            out.append("%s row changed" % name)
    return ", ".join(out) or "no row changed"


def judge(area, c, got, before, calls, reply):
    after, n = state(), upstream_calls() - calls
    leaked = [x for x in c.get("not_in_reply", []) if x.encode() in reply]
    what = changes(before, after)
    said = reply.decode("utf-8", "replace").strip().splitlines()
    if c.get("via") == "ctl" and said:
        said = [x for x in said if x.startswith("pbsyncctl: ")] or \
            said[:1]
        got_text = "%s (%s)" % (got, said[-1].replace("pbsyncctl: ", ""))
    else:
        got_text = "closed without an answer" if got == "closed" else got
    observed = "%s, %s, %d upstream call%s%s" % (
        got_text, what, n, "" if n == 1 else "s",
        ", reply holds %s" % leaked if leaked else "")
    expected = "%s, nothing written, no upstream call" % (
        "no answer" if c["expect"] == "closed" else c["expect"])
    reliability.check(t, area, c["name"], expected, observed,
                      got == c["expect"] and what == "no row changed" and
                      n == 0 and not leaked)


def login():
    """A logged-in admin: (pre-login cookie, session id, CSRF token)."""
    b = wire.Browser(s.port)
    b.login("root", PASSWORD)
    csrf = b.csrf("/admin/")
    # A fresh pre-login cookie for the login cases: the one above is spent.
    fresh = wire.Browser(s.port)
    fresh.get("/admin/login")
    return fresh.jar["pbsync_login"], b.jar["pbsync_session"], csrf


def restarts():
    """Children that died and were restarted, from the supervisors' logs."""
    return sum(s.log(p + ".stderr").count("exited (status")
               for p in PROGRAMS)


def suite(stack, tracker):
    global s, tr, hook
    s, tr = stack, tracker
    del ctl_reports[:]
    t0 = time.monotonic()
    rc, iid, err = fx.create_integration(s)
    if rc != 0:
        raise RuntimeError("cannot create the integration: " + err)
    hook = tr.hook_of(iid)
    s.ctl("admin", "add", "root", input=PASSWORD + "\n")
    pre, sess, csrf = login()
    pst = s.pb.call("GET", "/_double/state")
    ctx = {"iid": iid, "IID": iid.upper(),
           "plugin_auth": list(pst["plugin_integrations"].values())[0]
           ["authorization"],
           "pb_auth": list(pst["webhooks"].values())[0]["authorization"],
           "hook_secret": tr.hook_secret_sent(hook),
           "session": sess, "csrf": csrf, "login_cookie": pre,
           "tracker": tr.kind, "tracker_url": tr.url(),
           "project": tr.project}
    fx.idle(s)
    files = sorted(glob.glob(os.path.join(CORPUS, "*.json")))
    # This tracker's share of the corpus.
    corpus = [json.load(open(f)) for f in files]
    corpus = [dict(d, cases=[c for c in d["cases"] if for_tracker(c)])
              for d in corpus if for_tracker(d)]
    t.ok(len(corpus) >= 7 and sum(len(d["cases"]) for d in corpus) >= 250,
         "the hostile corpus is there: %d files, %d cases" % (
             len(corpus), sum(len(d["cases"]) for d in corpus)))
    first = state()
    first_calls = upstream_calls()

    # Cases that wait out an nginx timeout run beside the others.
    slow = []
    for doc in corpus:
        for c in doc["cases"]:
            if c.get("slow"):
                c, key = merged(doc["defaults"], c), "slow-%d" % len(slow)
                th = threading.Thread(target=lambda c=c, key=key: c.update(
                    reply=send(c, dict(ctx, key=key))))
                th.start()
                slow.append((doc["area"], c, th))

    counts = {}
    for doc in corpus:
        for k, raw in enumerate(doc["cases"]):
            if raw.get("slow"):
                continue
            c = merged(doc["defaults"], raw)
            before, calls = state(), upstream_calls()
            got, head, body = send(c, dict(ctx, key="%s-%d" % (
                os.urandom(4).hex(), k)))
            judge(doc["area"], c, got, before, calls, head + body)
            counts[doc["area"]] = counts.get(doc["area"], 0) + 1
    for area, c, th in slow:
        th.join(60)
        got, head, body = c.get("reply", ("no reply", b"", b""))
        judge(area, c, got, first, first_calls, head + body)
        counts[area] = counts.get(area, 0) + 1

    # -- afterwards: alive, answering, nothing written over the whole run ----
    A = "Bad input: afterwards"
    alive = [p for p in PROGRAMS if s.procs[p].poll() is None]
    n = restarts()
    reliability.check(t, A, "every program still runs, no child restarted",
                      "4 programs running, 0 restarts",
                      "%d programs running, %d restarts" % (len(alive), n),
                      len(alive) == len(PROGRAMS) and n == 0)
    # The tracker's delivery of an event pbsync acknowledges and ignores.
    ignored, ignored_body = tr.ignored_delivery(hook)
    good = (
        ("GET", "/healthz", {}, None, 200),
        ("GET", "/plugin/%s?validationToken=alive" % iid,
         {"Authorization": ctx["plugin_auth"]}, None, 200),
        ("GET", "/webhooks/productboard/%s?validationToken=alive" % iid,
         {"Authorization": ctx["pb_auth"]}, None, 200),
        ("POST", "/webhooks/gittab/" + iid, ignored,
         wire.to_bytes(ignored_body), 204),
        ("GET", "/admin/", {"Cookie": "pbsync_session=" + sess}, None, 200),
    )
    seen = []
    for method, path, hdr, b, want in good:
        got, _, _ = wire.raw_http(s.port, wire.request_head(
            method, path, hdr, b, s.port) + (b or b""))
        seen.append(got)
    reliability.check(t, A, "every route still answers a good request",
                      "healthz 200, probe 200, webhook probe 200, %s "
                      "event 204, admin page 200" % tr.title,
                      "healthz %s, probe %s, webhook probe %s, %s event "
                      "%s, admin page %s" % tuple(seen[:3] + [tr.title] +
                                                  seen[3:]),
                      seen == [g[4] for g in good])
    last = state()
    reliability.check(t, A, "nothing written over the whole corpus",
                      "no row changed, no upstream call",
                      "%s, %d upstream calls" % (changes(first, last),
                                                 upstream_calls() -
                                                 first_calls),
                      changes(first, last) == "no row changed" and
                      upstream_calls() == first_calls)
    rep = s.sanitizer_reports() + ctl_reports
    reliability.check(t, A, "no sanitizer report from the programs or "
                      "pbsyncctl", "0 reports",
                      "%d reports%s" % (len(rep), ": %s" % rep if rep else ""),
                      not rep)
    print("# corpus: " + ", ".join("%s %d" % (a.split(": ", 1)[1], n)
                                   for a, n in counts.items()) +
          "; %d cases in %.1f s" % (sum(counts.values()),
                                    time.monotonic() - t0))


trackers.each(t, suite)
