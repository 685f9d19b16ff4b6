"""Webhook ingest: authenticate before parsing, persist then acknowledge,
deduplicate GitLab deliveries, refuse bad input without writing, forget
delivery keys after the retention window."""
import copy
import hashlib
import json
import os
import sqlite3
import time

import wire
from harness import Stack, Tap, wait_for

REF = os.path.join(os.path.dirname(__file__), "..", "data", "payloads")
MAX_BODY = 65536
GL_MAX_BODY = 262144
DAY = 86400
t = Tap()
s = Stack(doubles=False, env={"PBSYNC_JOB_BUDGET_MS": "0",
                              "PBSYNC_MAX_BODY": str(MAX_BODY),
                              "PBSYNC_GITLAB_MAX_BODY": str(GL_MAX_BODY)})
IID = "b" * 32
SECRET = "hook-secret-0123456789"
GL = "/webhooks/gittab/" + IID
PB = "/webhooks/productboard/" + IID
# A second integration whose three routes each have their own secret.
IID2 = "c" * 32
PLUGIN2, PBHOOK2, GLHOOK2 = ("plugin-secret-2-0123456789",
                             "pbhook-secret-2-0123456789",
                             "glhook-secret-2-0123456789")
ROUTES = ("/plugin/", "/webhooks/productboard/", "/webhooks/gittab/")


def gl_headers(key="11111111-2222-3333-4444-555555555555", event="Issue Hook",
               token=SECRET, uuid=True):
    """GitLab's headers; uuid=True derives X-Gitlab-Event-UUID from the
    key, a string sets it, False or None leaves it out (so does key=None
    for Idempotency-Key)."""
    h = {"X-Gitlab-Event": event, "User-Agent": "GitLab/18.6.0"}
    if key is not None:
        h["Idempotency-Key"] = key
    if uuid is True:
        h["X-Gitlab-Event-UUID"] = "e-%s" % key
    elif uuid:
        h["X-Gitlab-Event-UUID"] = uuid
    if token is not None:
        h["X-Gitlab-Token"] = token
    return h


def jobs():
    return s.sql("SELECT kind, key, payload FROM job ORDER BY id")


def deliveries():
    return s.sql("SELECT integration_id, source, key, received_at FROM"
                 " delivery ORDER BY integration_id, source, key")


def state():
    """Every row a delivery can write, to tell that nothing was written."""
    return (deliveries(), s.sql("SELECT * FROM job ORDER BY id"))


def finish_jobs():
    """What a worker does with the jobs it ran: deletes them."""
    s.sql("DELETE FROM job")


def issue(payload, issue_id, **attrs):
    """A copy of a GitLab issue delivery about another issue."""
    p = copy.deepcopy(payload)
    p["object_attributes"]["id"] = issue_id
    p["object_attributes"].update(attrs)
    return p


def blake(v):
    return hashlib.blake2b(v.encode(), digest_size=32).hexdigest()


def raw(method, path, hdr, body=None):
    """The answer to one request as bytes, without its Date header."""
    data = wire.request_head(method, path, hdr, body, s.port) + (body or b"")
    st, head, rbody = wire.raw_http(s.port, data)
    head = b"\r\n".join(x for x in head.split(b"\r\n")
                         if not x.lower().startswith(b"date:"))
    return st, head + b"\r\n\r\n" + rbody


def secret_header(route, value):
    """The header a route reads its secret from."""
    if value is None:
        return {}
    if route == "/webhooks/gittab/":
        return {"X-Gitlab-Token": value}
    return {"Authorization": value}


try:
    s.add_integration(IID, SECRET)
    payload = json.load(open(os.path.join(REF, "gitlab-issue-hook-close.json")))

    before = s.counts()
    for what, hdr, body, want in (
        ("no token", gl_headers(token=None), payload, 401),
        ("wrong token", gl_headers(token="nope"), payload, 401),
        ("malformed JSON", gl_headers(), "{\"object_kind\": ", 400),
        ("JSON array", gl_headers(), "[1, 2]", 400),
        ("missing issue ids", gl_headers(), {"object_kind": "issue",
                                             "object_attributes": {}}, 400),
        ("ids of the wrong type", gl_headers(), {"object_kind": "issue",
            "object_attributes": {"id": "1", "iid": 1, "project_id": 2}}, 400),
    ):
        r = s.request("POST", GL, body, hdr)
        t.eq(r.status, want, "gitlab hook, %s -> %d" % (what, want))
    r = s.request("POST", GL, json.dumps(payload), dict(gl_headers(),
                  **{"Content-Type": "text/plain"}))
    t.eq(r.status, 415, "gitlab hook, wrong content type -> 415")
    r = s.request("POST", GL, payload, gl_headers(event="Push Hook"))
    t.eq(r.status, 204, "other gitlab events are accepted and ignored")
    t.eq(s.counts(), before, "refused and ignored deliveries wrote nothing")

    r = s.request("POST", GL, payload, gl_headers())
    t.eq((r.status, r.body), (200, b""), "an issue delivery is acknowledged")
    t.eq(jobs(), [("issue_event", "422296", '{"id":"422296"}')],
         "it is persisted as one issue_event job before the answer")
    for _ in range(9):
        r = s.request("POST", GL, payload, gl_headers())
    t.eq(r.status, 200, "a repeated delivery is acknowledged too")
    t.eq(len(jobs()), 1, "ten deliveries with one Idempotency-Key: one job")
    t.eq(s.sql("SELECT count(*) FROM delivery")[0][0], 1,
         "the delivery key is recorded once")
    t.ok("duplicate gitlab delivery" in s.log(), "duplicates are logged")
    r = s.request("POST", GL, payload, gl_headers(key="other-key"))
    t.eq(len(jobs()), 1, "a new delivery for the same issue coalesces")

    # -- deduplication: a resend after its job ran queues nothing -------
    # Coalescing hides a duplicate while the first job waits; once the job
    # has run (a worker deletes it), only the delivery key stops a resend.
    KEY = "11111111-2222-3333-4444-555555555555"
    finish_jobs()
    before = state()
    r = s.request("POST", GL, payload, gl_headers())
    t.eq((r.status, state()), (200, before),
         "a delivery resent after its job ran: 200, no job, nothing written")
    r = s.request("POST", GL, payload, gl_headers(uuid="e-resent"))
    t.eq((r.status, state()), (200, before),
         "a resend with the same Idempotency-Key and another "
         "X-Gitlab-Event-UUID is a duplicate too")
    keys = [d[2] for d in deliveries()]
    t.ok(KEY in keys and "e-" + KEY not in keys,
         "the delivery is recorded under its Idempotency-Key", keys)
    for what, hdr, name in (
            ("Idempotency-Key alone", gl_headers(key="only-key-1",
                                                 uuid=None), "only-key-1"),
            ("X-Gitlab-Event-UUID alone (GitLab before 17.4)",
             gl_headers(key=None, uuid="only-uuid-1"), "only-uuid-1"),
            ("an empty Idempotency-Key: X-Gitlab-Event-UUID",
             gl_headers(key="", uuid="empty-key-uuid-1"), "empty-key-uuid-1"),
            ("a 128-character Idempotency-Key", gl_headers(key="k" * 128,
                                                           uuid=None),
             "k" * 128)):
        r1 = s.request("POST", GL, payload, hdr)
        first = (r1.status, len(jobs()), name in [d[2] for d in deliveries()])
        finish_jobs()
        before = state()
        r2 = s.request("POST", GL, payload, hdr)
        t.eq((first, r2.status, state() == before),
             ((200, 1, True), 200, True),
             "%s: the first delivery is queued and its key recorded; a "
             "resend after its job ran queues nothing" % what)
    hdr = gl_headers(key="k" * 129, uuid=None)
    r1 = s.request("POST", GL, payload, hdr)
    n1 = len(jobs())
    finish_jobs()
    r2 = s.request("POST", GL, payload, hdr)
    t.eq((r1.status, n1, r2.status, len(jobs()),
          "k" * 129 in [d[2] for d in deliveries()]), (200, 1, 200, 1, False),
         "a key over 128 characters is not recorded: each delivery is queued")
    finish_jobs()

    # -- persist, then acknowledge, while another process writes ----------
    hold = sqlite3.connect(s.env["PBSYNC_DATABASE"], timeout=10,
                           isolation_level=None)
    hold.execute("BEGIN IMMEDIATE")
    try:
        before = state()
        t0 = time.monotonic()
        dup = s.request("POST", GL, payload, gl_headers())
        dt = time.monotonic() - t0
        new = s.request("POST", GL, payload, gl_headers(key="locked-1"))
        during = state()
    finally:
        hold.execute("ROLLBACK")
        hold.close()
    t.ok(dup.status == 200 and dt < 1.5, "a duplicate is acknowledged at "
         "once while the database is write-locked (answered from a read)",
         "status %s after %.2f s" % (dup.status, dt))
    t.eq((new.status, new.headers.get("retry-after")), (503, "1"),
         "a new delivery that cannot be stored is answered 503, Retry-After")
    t.eq(during, before, "and nothing of it was stored")
    r = s.request("POST", GL, payload, gl_headers(key="locked-1"))
    t.eq((r.status, len(jobs()), "locked-1" in [d[2] for d in deliveries()]),
         (200, 1, True), "the sender's retry is stored and queued")

    # -- coalescing: one waiting job per issue -----------------------------
    s.sql("UPDATE job SET run_at = ?, attempts = 1", time.time() + 600)
    r = s.request("POST", GL, issue(payload, 422296, moved_to_id=999),
                  gl_headers(key="coalesce-1"))
    rows = s.sql("SELECT run_at, payload FROM job")
    t.ok(r.status == 200 and len(rows) == 1 and
         rows[0][0] <= time.time() + 1, "a new delivery brings its issue's "
         "job, waiting to be retried, forward", rows)
    t.ok(len(rows) == 1 and '"moved_to":"999"' in rows[0][1],
         "and the job carries the newest delivery's payload", rows)
    s.sql("UPDATE job SET state = 'leased', lease_until = ?",
          time.time() + 60)
    r = s.request("POST", GL, payload, gl_headers(key="coalesce-2"))
    t.eq(sorted(x[0] for x in s.sql("SELECT state FROM job")),
         ["leased", "ready"], "a delivery for an issue whose job is running "
         "queues a new job")
    finish_jobs()

    conf = json.load(open(os.path.join(
        REF, "gitlab-confidential-issue-hook-update-description.json")))
    r = s.request("POST", GL, conf, gl_headers(key="conf-1",
                  event="Confidential Issue Hook"))
    t.eq(r.status, 200, "confidential issue deliveries are accepted")
    t.eq([j[1] for j in jobs()], [str(conf["object_attributes"]["id"])],
         "and queued")

    before = s.counts()
    ev = {"data": {"id": "feat-1", "eventType": "feature.updated",
                   "links": {"target": "https://api.productboard.com/features/feat-1"},
                   "updatedAttributes": ["name"]}}
    for what, hdr, body, want in (
        ("no secret", {}, ev, 401),
        ("wrong secret", {"Authorization": "Bearer nope"}, ev, 401),
        ("malformed JSON", {"Authorization": "Bearer " + SECRET}, "{", 400),
        ("no eventType", {"Authorization": "Bearer " + SECRET},
         {"data": {"id": "x"}}, 400),
        ("NUL in id", {"Authorization": "Bearer " + SECRET},
         '{"data":{"eventType":"feature.updated","id":"a\\u0000b"}}', 400),
    ):
        r = s.request("POST", PB, body, hdr)
        t.eq(r.status, want, "productboard hook, %s -> %d" % (what, want))
    r = s.request("POST", PB, {"data": {"eventType": "note.created", "id": "n"}},
                  {"Authorization": "Bearer " + SECRET})
    t.eq(r.status, 204, "other productboard events are ignored with 204")
    t.eq(s.counts(), before, "and nothing was written")
    r = s.request("POST", PB, ev, {"Authorization": "Bearer " + SECRET})
    t.eq(r.status, 204, "feature.updated is acknowledged with 204")
    t.ok(("sync", "feat-1", "{}") in jobs(), "and queued as a sync job")
    ev["data"]["eventType"] = "feature.deleted"
    r = s.request("POST", PB, ev, {"Authorization": "Bearer " + SECRET})
    t.ok(("feature_deleted", "feat-1", "{}") in jobs(),
         "feature.deleted is queued")
    r = s.request("GET", PB + "?validationToken=abc",
                  headers={"Authorization": "Bearer " + SECRET})
    t.eq((r.status, r.body), (200, b"abc"), "the webhook URL echoes a probe")
    r = s.request("POST", PB, "{" * 60000, {"Authorization": "Bearer " + SECRET,
                                             "Content-Type": "application/json"})
    t.eq(r.status, 400, "deeply nested JSON is refused")

    # -- each route takes its own secret, from its own header --------------
    s.add_integration(IID2, "unused-secret-0123456789")
    s.sql("UPDATE integration SET plugin_secret = ?, pb_hook_secret = ?,"
          " tracker_hook_secret = ? WHERE id = ?", blake("Bearer " + PLUGIN2),
          blake("Bearer " + PBHOOK2), blake(GLHOOK2), IID2)
    values = ("Bearer " + PLUGIN2, "Bearer " + PBHOOK2, GLHOOK2,
              "Bearer " + GLHOOK2)
    got, want = [], []
    for route, own, ok in zip(ROUTES, values, (200, 200, 204)):
        for value in values:
            hdr = secret_header(route, value)
            hdr["X-Gitlab-Event"] = "Push Hook"
            if route == "/webhooks/gittab/":
                r = s.request("POST", route + IID2, "{}", hdr)
            else:
                r = s.request("GET", route + IID2 + "?validationToken=v",
                              headers=hdr)
            got.append((route, value[:20], r.status))
            want.append((route, value[:20], ok if value == own else 401))
    for route, hdr in (
            ("/webhooks/gittab/", {"Authorization": GLHOOK2}),
            ("/webhooks/productboard/", {"X-Gitlab-Token": "Bearer " +
                                         PBHOOK2})):
        hdr["X-Gitlab-Event"] = "Push Hook"
        r = s.request("POST", route + IID2, "{}", hdr)
        got.append((route, "other header", r.status))
        want.append((route, "other header", 401))
    t.eq(got, want, "each route accepts only its own secret, in its own "
         "header")

    # -- an unknown id and a wrong secret get the same answer --------------
    bad = "Bearer wrong-secret-0123456789"
    event = b'{"data":{"eventType":"feature.updated","id":"f"}}'
    for route, good in zip(ROUTES, values):
        for method, query, body in (("GET", "?validationToken=v", None),
                                    ("POST", "", event)):
            answers = []
            for what, iid, value in (
                    ("wrong secret", IID2, bad),
                    ("no secret", IID2, None),
                    ("unknown id, wrong secret", "d" * 32, bad),
                    ("unknown id, no secret", "d" * 32, None),
                    ("unknown id, a secret valid elsewhere", "d" * 32, good),
                    ("malformed id", "not-an-integration", good),
                    ("upper-case id", IID2.upper(), good),
                    ("id and a trailing slash, wrong secret", IID2 + "/",
                     bad)):
                hdr = secret_header(route, value)
                hdr.update({"Content-Type": "application/json",
                            "X-Gitlab-Event": "Issue Hook"})
                answers.append((what, raw(method, route + iid + query, hdr,
                                          body)))
            first = answers[0][1]
            differ = ["%s: %r" % (w, a) for w, a in answers if a != first]
            t.ok(first[0] == 401 and not differ,
                 "%s %s{iid}: unknown, malformed or known id, missing or "
                 "wrong secret: the same 401, byte for byte (Date aside)" % (
                     method, route), ["wrong secret: %r" % (first,)] + differ)

    # The same straight to each program, as FastCGI without this nginx
    # configuration (or CGI) serves it: the programs' own 401 is the answer.
    for route, good in zip(ROUTES, values):
        prog = {"/plugin/": "plugin", "/webhooks/productboard/": "pbhook",
                "/webhooks/gittab/": "glhook"}[route]
        answers = []
        for what, iid, value in (
                ("wrong secret", IID2, bad),
                ("unknown id, wrong secret", "d" * 32, bad),
                ("unknown id, a secret valid elsewhere", "d" * 32, good),
                ("malformed id", "not-an-integration", good)):
            params = {"REQUEST_METHOD": "POST", "DOCUMENT_URI": route + iid,
                      "REQUEST_URI": route + iid, "QUERY_STRING": "",
                      "CONTENT_TYPE": "application/json",
                      "CONTENT_LENGTH": str(len(event)),
                      "REMOTE_ADDR": "127.0.0.1",
                      "SERVER_PROTOCOL": "HTTP/1.1"}
            for k, v in secret_header(route, value).items():
                params["HTTP_" + k.upper().replace("-", "_")] = v
            st, _, body = wire.fcgi(os.path.join(s.dir, prog + ".sock"),
                                    params, event)
            answers.append((what, st, body))
        differ = [a for a in answers if a[1:] != answers[0][1:]]
        t.ok(answers[0][1] == 401 and not differ,
             "%s{iid} straight to pbsync-%s (no nginx in front): unknown, "
             "malformed or known id, wrong secret: the same 401 and body" % (
                 route, prog), answers)

    # -- the secret is checked before the body is read or parsed -----------
    before = state()
    for route in ROUTES:
        limit = GL_MAX_BODY if route == "/webhooks/gittab/" else MAX_BODY
        got = []
        for what, ctype, kind, body in (
                ("malformed JSON", "application/json", "Issue Hook",
                 b'{"data": '),
                ("a body over the size limit", "application/json",
                 "Issue Hook", b"{" + b" " * limit + b"}"),
                ("a text/plain body", "text/plain", "Issue Hook", b"{}"),
                ("an event pbsync ignores", "application/json", "Push Hook",
                 b'{"data":{"eventType":"note.created","id":"n"}}'),
                ("an event to act on", "application/json", "Issue Hook",
                 event if route != "/webhooks/gittab/" else
                 json.dumps(payload).encode())):
            for value in (None, bad):
                hdr = secret_header(route, value)
                hdr.update({"Content-Type": ctype, "X-Gitlab-Event": kind})
                got.append((what, value is not None,
                            raw("POST", route + IID, hdr, body)[0]))
        t.eq([g for g in got if g[2] != 401], [],
             "%s{iid}: a missing or wrong secret is 401 whatever the body "
             "(malformed, over the limit, text/plain, ignored or valid)" %
             route)
    t.eq(state(), before, "refused before the body: nothing written")

    # -- body limits and content type, with the right secret ---------------
    finish_jobs()
    auth = {"Authorization": "Bearer " + SECRET}
    body = json.dumps({"data": {"eventType": "feature.updated",
                                "id": "feat-limit"}}).encode()
    body += b" " * (MAX_BODY - len(body))
    r1 = s.request("POST", PB, body, auth)
    n1 = len(jobs())
    finish_jobs()
    r2 = s.request("POST", PB, body + b" ", auth)
    t.eq((r1.status, n1, r2.status, len(jobs())), (204, 1, 413, 0),
         "productboard hook: a body of max_body bytes is taken, one byte "
         "more is 413 and nothing is queued")
    big = json.dumps(issue(payload, 555001)).encode()
    big += b" " * (GL_MAX_BODY - len(big))
    r1 = s.request("POST", GL, big, gl_headers(key="big-1"))
    r2 = s.request("POST", GL, big + b" ", gl_headers(key="big-2"))
    r3 = s.request("POST", GL, issue(payload, 555002, description="x" *
                                     (MAX_BODY + 1000)),
                   gl_headers(key="big-3"))
    t.eq((r1.status, r2.status, r3.status), (200, 413, 200),
         "gitlab hook: gitlab_max_body bytes are taken, one more is 413; a "
         "delivery over max_body is taken")
    t.eq(sorted(k for _, k, _ in jobs()), ["555001", "555002"],
         "the two deliveries taken are queued, the refused one is not")
    finish_jobs()
    got = []
    for ctype in ("application/json; charset=utf-8", "APPLICATION/JSON",
                  "application/jsonx", "application/json-patch+json",
                  "text/json", "text/plain"):
        r = s.request("POST", GL, payload, dict(gl_headers(key=ctype),
                                                **{"Content-Type": ctype}))
        got.append((ctype, r.status))
    t.eq(got, [("application/json; charset=utf-8", 200),
               ("APPLICATION/JSON", 200), ("application/jsonx", 415),
               ("application/json-patch+json", 415), ("text/json", 415),
               ("text/plain", 415)],
         "only application/json bodies are read (parameters allowed)")
    finish_jobs()

    # -- delivery keys are forgotten after delivery_retention_s ------------
    s.sql("DELETE FROM delivery")
    now = time.time()
    db = sqlite3.connect(s.env["PBSYNC_DATABASE"], timeout=10)
    db.executemany("INSERT INTO delivery (integration_id, source, key,"
                   " received_at) VALUES (?, 'tracker', ?, ?)",
                   [(IID, "old-%d" % i, now - 7 * DAY - 60 - i)
                    for i in range(6000)] +
                   [(IID, "recent", now - 7 * DAY + 3600),
                    (IID, "fresh", now)])
    db.commit()
    db.close()
    r = s.ctl("drain", check=False)
    left = sorted(d[2] for d in deliveries())
    t.eq((r.returncode, left), (0, ["fresh", "recent"]),
         "pbsyncctl drain forgets the 6000 keys older than 7 days (the "
         "default) and keeps the younger ones")
    r = s.ctl("drain", env={"PBSYNC_DELIVERY_RETENTION_S": "3600"},
              check=False)
    left = sorted(d[2] for d in deliveries())
    t.eq((r.returncode, left), (0, ["fresh"]),
         "with PBSYNC_DELIVERY_RETENTION_S=3600 it keeps the last hour's")
    r = s.request("POST", GL, payload, gl_headers(key="recent", uuid=None))
    t.eq((r.status, len(jobs()), sorted(d[2] for d in deliveries())),
         (200, 1, ["fresh", "recent"]),
         "a resend of a forgotten key is queued, and its key recorded, again")
    finish_jobs()
    old = "INSERT INTO delivery (integration_id, source, key, received_at)" \
        " VALUES (?, 'tracker', ?, ?)"
    s.sql(old, IID, "old-w1", time.time() - 8 * DAY)
    s.start_worker()
    gone = wait_for(lambda: not s.sql("SELECT 1 FROM delivery WHERE"
                                      " key = 'old-w1'"), 10)
    s.sql(old, IID, "old-w2", time.time() - 8 * DAY)
    time.sleep(1.5)
    kept = sorted(d[2] for d in deliveries())
    s.stop_program("worker")
    t.ok(gone, "pbsyncctl worker forgets old delivery keys when it starts")
    t.eq(kept, ["fresh", "old-w2", "recent"], "and not again within the "
         "hour: a key that aged after that stays, and so do the young ones")
    log = s.log()
    t.ok(not [x for x in (SECRET, PLUGIN2, PBHOOK2, GLHOOK2) if x in log],
         "the hook secret never reaches the log")
finally:
    s.stop(t)
t.done()
