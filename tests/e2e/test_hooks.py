"""Webhook ingest: authenticate before parsing, persist then acknowledge,
deduplicate tracker deliveries, refuse bad input without writing, forget
delivery keys after the retention window.  Runs once per tracker
(tests/e2e/trackers.py): GitLab's deliveries carry a secret header and an
Idempotency-Key, GitHub's an HMAC of the exact body and X-GitHub-Delivery."""
import hashlib
import json
import os
import time

import wire
import trackers
from harness import Tap, wait_for

MAX_BODY = 65536
TR_MAX_BODY = 262144    # tracker_max_body: every tracker's deliveries
DAY = 86400
KEY = "11111111-2222-3333-4444-555555555555"
# The plugin's and the Productboard webhook's secret of the integration;
# its tracker webhook's is the one pbsync registered with the tracker.
SECRET = "hook-secret-0123456789"
# A second integration whose three routes each have their own secret.
PLUGIN2, PBHOOK2 = ("plugin-secret-2-0123456789",
                    "pbhook-secret-2-0123456789")
TR_ROUTE = "/webhooks/gittab/"
ROUTES = ("/plugin/", "/webhooks/productboard/", TR_ROUTE)
t = Tap()


def blake(v):
    return hashlib.blake2b(v.encode(), digest_size=32).hexdigest()


def as_bytes(body):
    if isinstance(body, (dict, list)):
        return json.dumps(body).encode()
    return body.encode() if isinstance(body, str) else body


def suite(s, tr):
    def jobs():
        return s.sql("SELECT kind, key, payload FROM job ORDER BY id")

    def deliveries():
        return s.sql("SELECT integration_id, source, key, received_at FROM"
                     " delivery ORDER BY integration_id, source, key")

    def state():
        """Every row a delivery can write, to tell that nothing was
        written."""
        return (deliveries(), s.sql("SELECT * FROM job ORDER BY id"))

    def finish_jobs():
        """What a worker does with the jobs it ran: deletes them."""
        s.sql("DELETE FROM job")

    def raw(method, path, hdr, body=None):
        """The answer to one request as bytes, without its Date header."""
        data = wire.request_head(method, path, hdr, body, s.port) + (
            body or b"")
        st, head, rbody = wire.raw_http(s.port, data)
        head = b"\r\n".join(x for x in head.split(b"\r\n")
                             if not x.lower().startswith(b"date:"))
        return st, head + b"\r\n\r\n" + rbody

    def integration(name, plugin, pbhook):
        """An integration made by pbsyncctl, its plugin and Productboard
        webhook secrets set to these; (its id, the tracker webhook's
        secret as pbsync registered it)."""
        rc, iid, err = tr.create_integration(name)
        if rc != 0:
            raise RuntimeError(err)
        s.sql("UPDATE integration SET plugin_secret = ?, pb_hook_secret = ?"
              " WHERE id = ?", blake("Bearer " + plugin),
              blake("Bearer " + pbhook), iid)
        return iid, tr.hook_secret_sent(tr.hook_of(iid))

    IID, TRHOOK = integration("Team", SECRET, SECRET)
    TR, PB = TR_ROUTE + IID, "/webhooks/productboard/" + IID
    # Only deliveries make jobs here: not the creation's own.
    finish_jobs()

    def headers(raw, key=KEY, event=None, secret=True, old_key=True):
        """The headers of a tracker delivery of raw (tr.delivery_headers),
        by default with the webhook's own secret, the key KEY and, where
        the tracker has one, the old key header derived from it."""
        return tr.delivery_headers(raw, TRHOOK if secret is True else
                                   secret, key, event, old_key)

    def post(body, path=None, ctype=None, **kw):
        """A tracker delivery of body (signed over its exact bytes where
        the tracker signs); kw are headers'."""
        data = as_bytes(body)
        h = headers(data, **kw)
        if ctype is not None:
            h["Content-Type"] = ctype
        return s.request("POST", path or TR, data, h)

    def secret_header(route, value, body=None):
        """The header a route reads its secret from (for the tracker's,
        from which the tracker's header is made: a signature of body)."""
        if value is None:
            return {}
        if route == TR_ROUTE:
            return tr.secret_header(value, body)
        return {"Authorization": value}

    payload = tr.sample_delivery()
    first_id = tr.delivery_issue_id(payload)

    before = s.counts()
    for what, kw, body, want in (
        ("no secret", {"secret": None}, payload, 401),
        ("wrong secret", {"secret": "nope-0123456789"}, payload, 401),
        ("malformed JSON", {}, "{\"object_kind\": ", 400),
        ("JSON array", {}, "[1, 2]", 400),
        ("missing issue ids", {}, tr.delivery_no_ids, 400),
        ("ids of the wrong type", {}, tr.delivery_bad_ids, 400),
    ):
        r = post(body, **kw)
        t.eq(r.status, want, "%s hook, %s -> %d" % (tr.kind, what, want))
    r = post(payload, ctype="text/plain")
    t.eq(r.status, 415, "%s hook, wrong content type -> 415" % tr.kind)
    r = post(tr.ignored_body(payload), event=tr.ignored_event)
    t.eq(r.status, 204, "other %s events are accepted and ignored" %
         tr.kind)
    t.eq(s.counts(), before, "refused and ignored deliveries wrote nothing")

    r = post(payload)
    t.eq((r.status, r.body), (200, b""), "an issue delivery is acknowledged")
    t.eq(jobs(), [("issue_event", first_id, '{"id":"%s"}' % first_id)],
         "it is persisted as one issue_event job before the answer")
    for _ in range(9):
        r = post(payload)
    t.eq(r.status, 200, "a repeated delivery is acknowledged too")
    t.eq(len(jobs()), 1, "ten deliveries with one %s: one job" %
         tr.dedupe_header)
    t.eq(s.sql("SELECT count(*) FROM delivery")[0][0], 1,
         "the delivery key is recorded once")
    t.ok("duplicate %s delivery" % tr.kind in s.log(),
         "duplicates are logged")
    r = post(payload, key="other-key")
    t.eq(len(jobs()), 1, "a new delivery for the same issue coalesces")

    # -- deduplication: a resend after its job ran queues nothing -------
    # Coalescing hides a duplicate while the first job waits; once the job
    # has run (a worker deletes it), only the delivery key stops a resend.
    finish_jobs()
    before = state()
    r = post(payload)
    t.eq((r.status, state()), (200, before),
         "a delivery resent after its job ran: 200, no job, nothing written")
    cases = [("%s alone" % tr.dedupe_header, {"key": "only-key-1",
                                              "old_key": None}, "only-key-1"),
             ("a 128-character %s" % tr.dedupe_header,
              {"key": "k" * 128, "old_key": None}, "k" * 128)]
    # Only a tracker whose older versions sent the key in another header
    # (GitLab before 17.4: X-Gitlab-Event-UUID) has two to choose from.
    new, old = tr.dedupe_header, tr.old_key_header
    if old is not None:
        r = post(payload, old_key="e-resent")
        t.eq((r.status, state()), (200, before),
             "a resend with the same %s and another %s is a duplicate too"
             % (new, old))
        keys = [d[2] for d in deliveries()]
        t.ok(KEY in keys and "e-" + KEY not in keys,
             "the delivery is recorded under its %s" % new, keys)
        cases[1:1] = [
            ("%s alone (%s's key before it sent %s)" % (old, tr.title, new),
             {"key": None, "old_key": "only-uuid-1"}, "only-uuid-1"),
            ("an empty %s: %s" % (new, old),
             {"key": "", "old_key": "empty-key-uuid-1"}, "empty-key-uuid-1")]
    for what, kw, name in cases:
        r1 = post(payload, **kw)
        first = (r1.status, len(jobs()), name in [d[2] for d in
                                                  deliveries()])
        finish_jobs()
        before = state()
        r2 = post(payload, **kw)
        t.eq((first, r2.status, state() == before),
             ((200, 1, True), 200, True),
             "%s: the first delivery is queued and its key recorded; a "
             "resend after its job ran queues nothing" % what)
    kw = {"key": "k" * 129, "old_key": None}
    r1 = post(payload, **kw)
    n1 = len(jobs())
    finish_jobs()
    r2 = post(payload, **kw)
    t.eq((r1.status, n1, r2.status, len(jobs()),
          "k" * 129 in [d[2] for d in deliveries()]), (200, 1, 200, 1, False),
         "a key over 128 characters is not recorded: each delivery is queued")
    finish_jobs()

    # -- persist, then acknowledge, while another process writes ----------
    with s.hold_lock():
        before = state()
        t0 = time.monotonic()
        dup = post(payload)
        dt = time.monotonic() - t0
        new = post(payload, key="locked-1")
        during = state()
    t.ok(dup.status == 200 and dt < 1.5, "a duplicate is acknowledged at "
         "once while the database is write-locked (answered from a read)",
         "status %s after %.2f s" % (dup.status, dt))
    t.eq((new.status, new.headers.get("retry-after")), (503, "1"),
         "a new delivery that cannot be stored is answered 503, Retry-After")
    t.eq(during, before, "and nothing of it was stored")
    r = post(payload, key="locked-1")
    t.eq((r.status, len(jobs()), "locked-1" in [d[2] for d in
                                                deliveries()]),
         (200, 1, True), "the sender's retry is stored and queued")

    # -- coalescing: one waiting job per issue -----------------------------
    s.sql("UPDATE job SET run_at = ?, attempts = 1", time.time() + 600)
    r = post(tr.delivery_about(payload, int(first_id), gone=True),
             key="coalesce-1")
    rows = s.sql("SELECT run_at, payload FROM job")
    t.ok(r.status == 200 and len(rows) == 1 and
         rows[0][0] <= time.time() + 1, "a new delivery brings its issue's "
         "job, waiting to be retried, forward", rows)
    t.ok(len(rows) == 1 and tr.gone_says in rows[0][1],
         "and the job carries the newest delivery's payload (%s)" %
         tr.gone_what, rows)
    s.sql("UPDATE job SET state = 'leased', lease_until = ?",
          time.time() + 60)
    r = post(payload, key="coalesce-2")
    t.eq(sorted(x[0] for x in s.sql("SELECT state FROM job")),
         ["leased", "ready"], "a delivery for an issue whose job is running "
         "queues a new job")
    finish_jobs()

    # Only a tracker that sends some issues' changes under an event of
    # their own (GitLab's confidential issues) has a second event to take.
    if tr.confidential_event is not None:
        conf = tr.sample_delivery(tr.confidential_sample)
        r = post(conf, key="conf-1", event=tr.confidential_event)
        t.eq(r.status, 200, "confidential issue deliveries (%s, an event "
             "of their own) are accepted" % tr.confidential_event)
        t.eq([j[1] for j in jobs()], [tr.delivery_issue_id(conf)],
             "and queued")

    before = s.counts()
    ev = {"data": {"id": "feat-1", "eventType": "feature.updated",
                   "links": {"target":
                             "https://api.productboard.com/features/feat-1"},
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
    r = s.request("POST", PB, {"data": {"eventType": "note.created",
                                        "id": "n"}},
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
    r = s.request("POST", PB, "{" * 60000,
                  {"Authorization": "Bearer " + SECRET,
                   "Content-Type": "application/json"})
    t.eq(r.status, 400, "deeply nested JSON is refused")

    # -- each route takes its own secret, from its own header --------------
    IID2, TRHOOK2 = integration("Second", PLUGIN2, PBHOOK2)
    values = ("Bearer " + PLUGIN2, "Bearer " + PBHOOK2, TRHOOK2,
              "Bearer " + TRHOOK2)
    got, want = [], []
    for route, own, ok in zip(ROUTES, values, (200, 200, 204)):
        for value in values:
            if route == TR_ROUTE:
                other = as_bytes(tr.ignored_body("{}"))
                hdr = headers(other, event=tr.ignored_event, secret=value)
                r = s.request("POST", route + IID2, other, hdr)
            else:
                hdr = secret_header(route, value)
                r = s.request("GET", route + IID2 + "?validationToken=v",
                              headers=hdr)
            got.append((route, value[:20], r.status))
            want.append((route, value[:20], ok if value == own else 401))
    for route, hdr in (
            (TR_ROUTE, {"Authorization": TRHOOK2}),
            ("/webhooks/productboard/",
             tr.secret_header("Bearer " + PBHOOK2, b"{}"))):
        hdr.update(headers(b"{}", event=tr.ignored_event, secret=None))
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
                hdr = secret_header(route, value, body)
                hdr.update({"Content-Type": "application/json"})
                hdr.update(headers(body, key=None, old_key=None,
                                   secret=None))
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
                TR_ROUTE: "glhook"}[route]
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
            for k, v in secret_header(route, value, event).items():
                params["HTTP_" + k.upper().replace("-", "_")] = v
            st, _, body = wire.fcgi(os.path.join(s.dir, prog + ".sock"),
                                    params, event)
            answers.append((what, st, body))
        differ = [a for a in answers if a[1:] != answers[0][1:]]
        t.ok(answers[0][1] == 401 and not differ,
             "%s{iid} straight to pbsync-%s (no nginx in front): unknown, "
             "malformed or known id, wrong secret: the same 401 and body" % (
                 route, prog), answers)

    # -- the secret is checked before the body is parsed -------------------
    # A signature covers the body, so a tracker that signs (GitHub) has
    # pbsync reads the body first and refuses, as unsigned, one it cannot
    # check (over the limit), and answers 415 only once a signature holds:
    # every one without a good signature is 401, as for an unknown id.  A
    # secret header (GitLab) is checked before the body is read.
    before = state()
    for route in ROUTES:
        limit = TR_MAX_BODY if route == TR_ROUTE else MAX_BODY
        signed = route == TR_ROUTE and tr.signs_body
        got, want = [], []
        for what, ctype, other, body, unread in (
                ("malformed JSON", "application/json", False, b'{"data": ',
                 None),
                ("a body over the size limit", "application/json", False,
                 b"{" + b" " * limit + b"}", 413),
                ("a text/plain body", "text/plain", False, b"{}", 415),
                ("an event pbsync ignores", "application/json", True,
                 b'{"data":{"eventType":"note.created","id":"n"}}', None),
                ("an event to act on", "application/json", False,
                 event if route != TR_ROUTE else as_bytes(payload), None)):
            for value in (None, bad):
                hdr = secret_header(route, value, body)
                hdr.update(headers(body, event=tr.ignored_event if other
                                   else None, secret=None))
                hdr["Content-Type"] = ctype
                got.append((what, value is not None,
                            raw("POST", route + IID, hdr, body)[0]))
                want.append((what, value is not None, 401))
        t.eq(got, want, "%s{iid}: a missing or wrong %s is 401 whatever the "
             "body (malformed, over the limit, text/plain, ignored or "
             "valid)" % (route, "signature" if signed else "secret"))
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
    big = json.dumps(tr.delivery_about(payload, 555001)).encode()
    big += b" " * (TR_MAX_BODY - len(big))
    r1 = post(big, key="big-1")
    r2 = post(big + b" ", key="big-2")
    r3 = post(tr.delivery_about(payload, 555002,
                                text="x" * (MAX_BODY + 1000)), key="big-3")
    over = 401 if tr.signs_body else 413
    t.eq((r1.status, r2.status, r3.status), (200, over, 200),
         "%s hook: tracker_max_body bytes are taken, one more is %d (%s); "
         "a delivery over max_body is taken" % (
             tr.kind, over, "a body too large to check is refused as "
             "unsigned" if tr.signs_body else "refused as too large"))
    t.eq(sorted(k for _, k, _ in jobs()), ["555001", "555002"],
         "the two deliveries taken are queued, the refused one is not")
    finish_jobs()
    got = []
    for ctype in ("application/json; charset=utf-8", "APPLICATION/JSON",
                  "application/jsonx", "application/json-patch+json",
                  "text/json", "text/plain"):
        r = post(payload, key=ctype, ctype=ctype)
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
    s.sql_many("INSERT INTO delivery (integration_id, source, key,"
               " received_at) VALUES (?, 'tracker', ?, ?)",
               [(IID, "old-%d" % i, now - 7 * DAY - 60 - i)
                for i in range(6000)] +
               [(IID, "recent", now - 7 * DAY + 3600), (IID, "fresh", now)])
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
    r = post(payload, key="recent", old_key=None)
    t.eq((r.status, len(jobs()), sorted(d[2] for d in deliveries())),
         (200, 1, ["fresh", "recent"]),
         "a resend of a forgotten key is queued, and its key recorded, again")
    finish_jobs()
    old = "INSERT INTO delivery (integration_id, source, key, received_at)" \
        " VALUES (?, 'tracker', ?, ?)"
    s.sql(old, IID, "old-w1", time.time() - 8 * DAY)
    s.start_worker()
    gone = wait_for(lambda: not s.sql("SELECT 1 FROM delivery WHERE"
                                      " key = 'old-w1'"), 10 * s.slow)
    s.sql(old, IID, "old-w2", time.time() - 8 * DAY)
    time.sleep(1.5)
    kept = sorted(d[2] for d in deliveries())
    s.stop_program("worker")
    t.ok(gone, "pbsyncctl worker forgets old delivery keys when it starts")
    t.eq(kept, ["fresh", "old-w2", "recent"], "and not again within the "
         "hour: a key that aged after that stays, and so do the young ones")
    log = s.log()
    t.ok(not [x for x in (SECRET, PLUGIN2, PBHOOK2, TRHOOK, TRHOOK2)
              if x in log], "the hook secret never reaches the log")


trackers.each(t, suite, env={"PBSYNC_JOB_BUDGET_MS": "0",
                             "PBSYNC_MAX_BODY": str(MAX_BODY),
                             "PBSYNC_TRACKER_MAX_BODY": str(TR_MAX_BODY)})
