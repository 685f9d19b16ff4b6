"""Webhook ingest: authenticate before parsing, persist then acknowledge,
deduplicate GitLab deliveries, refuse bad input without writing."""
import json
import os

from harness import Stack, Tap

REF = os.path.join(os.path.dirname(__file__), "..", "data", "payloads")
t = Tap()
s = Stack(doubles=False, env={"PBSYNC_JOB_BUDGET_MS": "0"})
IID = "b" * 32
SECRET = "hook-secret-0123456789"
GL = "/webhooks/gittab/" + IID
PB = "/webhooks/productboard/" + IID


def gl_headers(key="11111111-2222-3333-4444-555555555555", event="Issue Hook",
               token=SECRET):
    h = {"X-Gitlab-Event": event, "Idempotency-Key": key,
         "X-Gitlab-Event-UUID": "e-" + key, "User-Agent": "GitLab/18.6.0"}
    if token is not None:
        h["X-Gitlab-Token"] = token
    return h


def jobs():
    return s.sql("SELECT kind, key, payload FROM job ORDER BY id")


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
    t.eq(jobs(), [("issue_event", "422296",
                   '{"id":422296,"iid":5,"project_id":246765,"moved_to_id":0}')],
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

    conf = json.load(open(os.path.join(
        REF, "gitlab-confidential-issue-hook-update-description.json")))
    r = s.request("POST", GL, conf, gl_headers(key="conf-1",
                  event="Confidential Issue Hook"))
    t.eq(r.status, 200, "confidential issue deliveries are accepted")
    t.eq(len(jobs()), 2, "and queued")

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
    r = s.request("POST", PB, "{" * 100000, {"Authorization": "Bearer " + SECRET,
                                             "Content-Type": "application/json"})
    t.eq(r.status, 400, "deeply nested JSON is refused")
    t.ok(SECRET not in s.log(), "the hook secret never reaches the log")
finally:
    s.stop(t)
t.done()
