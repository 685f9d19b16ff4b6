#!/usr/bin/env python3
"""The Productboard double against Productboard's published OpenAPI v2
descriptions (tests/contract/productboard/), in TAP for make check.

Every route pbsync uses (src/upstream/pb.c) and the lists next to them
are called on a seeded double, success and error answers alike (401,
404, 422, 429, the injected faults), as are requests the description
refuses (the double must refuse them too); then the double's own calls:
the probe, clicks and webhook notifications.  All is checked by
tests/contract/openapi.py in one run of /usr/bin/python3, which has
python3-jsonschema (the python3 that runs make check may not).  One TAP
line per case: the double answered the expected status, and the
description accepts the exchange.

    python3 tests/doubles/test_contract_pb.py
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from selftest import Proc, Receiver, call, jsonschema_missing  # noqa: E402

CONTRACT = os.path.join(HERE, "..", "contract")
SPECS = sorted(glob.glob(os.path.join(CONTRACT, "productboard",
                                      "productboard-v2-*-openapi.json")))
EXCEPTIONS = os.path.join(CONTRACT, "productboard", "exceptions.json")
VALIDATOR = os.environ.get("PBSYNC_CONTRACT_PYTHON", "/usr/bin/python3")
TOKEN = "pb-contract-token"
HTTPS = "https://pbsync.example.com"    # a callback URL the spec accepts
# The seed (--seed): the token and two features, one without description.
FID, BARE = str(uuid.uuid4()), str(uuid.uuid4())
SEED = {"tokens": [TOKEN], "features": [
    {"id": FID, "name": "Dark mode",
     "description": "<p>Dark <b>theme</b></p>"},
    {"id": BARE, "name": "Bare", "description": ""}],
    "config": {"rate_limit_per_s": 0, "action_timeout": 2}}


def validator_missing():
    return jsonschema_missing(VALIDATOR)


class Run:
    """Calls the double; collects the cases, each a list of (expected
    status, index of its item, invalid), and the validator's items."""

    def __init__(self, pb):
        self.pb, self.cases, self.items = pb, [], []

    def case(self, label):
        self.cases.append((label, []))

    def api(self, method, path, body=None, want=200, check_request=True,
            token=TOKEN, raw=None, invalid=False):
        """One call.  invalid: the description must refuse the request
        (checked as an item of its own) and the double answer `want`."""
        h = {"Authorization": "Bearer " + token} if token else {}
        if raw is not None:
            h["Content-Type"] = "application/json"
        r = call(self.pb.url + path, method, raw if raw is not None else
                 body, h)
        item = {"method": method, "path": path, "status": r.status,
                "response_body": r.json if r.text and r.json is not None
                else (r.text or None)}
        if check_request and not invalid and raw is None:
            item["request_body"] = body
        self.cases[-1][1].append((want, len(self.items), invalid))
        self.items.append(item)
        if invalid:
            self.items.append({"method": method, "path": path,
                               "request_body": body})
        return r

    def delivery(self, d, callback):
        """A callback the double made: its request only (the receiver
        answering it is this test)."""
        self.cases[-1][1].append((None, len(self.items), False))
        self.items.append({"callback": callback, "method": d["method"],
                           "path": d["url"], "request_body": d["body"]})


def exercise(pb, rcv):
    """Every call; returns the Run."""
    run = Run(pb)
    api, case = run.api, run.case
    ctl = pb.ctl
    st = {s["name"]: s["id"] for s in ctl("GET", "state").json["statuses"]}
    fid, bare = FID, BARE
    nobody = str(uuid.uuid4())
    ent = "/v2/entities/"

    case("statuses: GET /v2/entities/configurations/feature")
    api("GET", "/v2/entities/configurations/feature")
    api("GET", "/v2/entities/fields/status/values?assignedEntityType[]="
        "feature")

    case("entity: GET /v2/entities/{id}, default and fields[]=all")
    api("GET", ent + fid)
    api("GET", ent + bare)
    api("GET", ent + fid + "?fields[]=all")
    case("entity: GET of an unknown id is 404")
    api("GET", ent + nobody, want=404)

    case("entity: POST /v2/entities/search by ids, as pbsync's "
         "reconcile sends it, and its next page")
    r = api("POST", "/v2/entities/search", {"data": {
        "filter": {"id": [fid, bare, nobody]},
        "return": {"fields": ["name", "description", "status"]}}})
    nxt = (r.json or {}).get("links", {}).get("next")
    if nxt:
        api("POST", nxt[len(pb.url):], {"data": {
            "filter": {"id": [fid, bare, nobody]},
            "return": {"fields": ["name", "description", "status"]}}})
    case("entity: a search over two types at once is refused")
    api("POST", "/v2/entities/search", {"data": {"filter": {
        "type": ["feature", "initiative"]}}}, want=400)

    case("entity: PATCH as pbsync sends it (data.fields)")
    api("PATCH", ent + fid, {"data": {"fields": {
        "name": "Dark mode v2", "description": "<p>Now <i>darker</i></p>",
        "status": {"id": st["Planned"]}}}})
    api("PATCH", ent + fid, {"data": {"fields": {"status": {
        "id": st["Done"]}}}})
    case("entity: PATCH with data.patch")
    api("PATCH", ent + fid, {"data": {"patch": [
        {"op": "set", "path": "status", "value": {"name": "Planned"}},
        {"op": "clear", "path": "description"}]}})
    case("entity: PATCH refused: unknown status 422, bad HTML 400, unknown "
         "entity 404")
    api("PATCH", ent + fid, {"data": {"fields": {"status": {
        "name": "Shipped"}}}}, want=422)
    api("PATCH", ent + fid, {"data": {"fields": {"description":
                                                 "<p>open"}}}, want=400)
    api("PATCH", ent + fid, {"data": {"fields": {"colour": "red"}}},
        want=422)
    api("PATCH", ent + nobody, {"data": {"fields": {"name": "x"}}},
        want=404)
    api("PATCH", ent + fid, raw='{"data":', want=400)
    case("entity: a patch operation the description refuses is refused")
    api("PATCH", ent + fid, {"data": {"patch": [{"op": "addItems",
                                                 "path": "tags"}]}},
        want=400, invalid=True)
    api("PATCH", ent + fid, {"data": {"patch": [{"op": "clear", "path":
                                                 "description", "value": ""
                                                 }]}}, want=400, invalid=True)

    pi = "/v2/plugin-integrations"
    fields = {"type": "com.pbsync.gitlab", "name": "GitLab",
              "integrationStatus": "disabled",
              "initialState": {"label": "Push"},
              "action": {"url": HTTPS + "/plugin/abc", "version": 1,
                         "headers": {"authorization": "Bearer s3cret"}}}
    case("plugin integration: POST (disabled, https) and POST enabled "
         "(probed on loopback: http URL, request not checked)")
    r = api("POST", pi, {"data": {"fields": fields}}, want=201)
    pid0 = (r.json or {}).get("data", {}).get("id", nobody)
    live = dict(fields, integrationStatus="enabled", action=dict(
        fields["action"], url=rcv.url + "/plugin/abc"))
    r = api("POST", pi, {"data": {"fields": live}}, want=201,
            check_request=False)
    pid = (r.json or {}).get("data", {}).get("id", nobody)
    api("POST", pi, {"data": {"fields": live}}, want=201,
        check_request=False)
    case("plugin integration: failed probe 400, also of a 1024-char URL")
    for url in ("https://unreachable.invalid/x",
                "https://unreachable.invalid/" + "x" * 996):
        api("POST", pi, {"data": {"fields": dict(
            fields, integrationStatus="enabled", action=dict(
                fields["action"], url=url))}}, want=400)
    case("plugin integration: what the description refuses is refused")
    for bad in ({"initialState": {"label": "far too long"}},
                {"initialState": None}, {"name": ""},
                {"integrationStatus": "on"},
                {"action": dict(fields["action"], version=2)}):
        api("POST", pi, {"data": {"fields": dict(fields, **bad)}},
            want=422, invalid=True)
    api("POST", pi, {"fields": fields}, want=400, invalid=True)
    case("plugin integration: GET, list and its next page")
    api("GET", pi + "/" + pid)
    r = api("GET", pi)
    nxt = ((r.json or {}).get("links") or {}).get("next") or ""
    api("GET", nxt[len(pb.url):] if nxt.startswith(pb.url) else pi)
    case("plugin integration: PATCH the label as pbsync does, 404 unknown")
    api("PATCH", pi + "/" + pid, {"data": {"fields": {"initialState": {
        "label": "Send"}}}})
    api("PATCH", pi + "/" + nobody, {"data": {"fields": {"initialState": {
        "label": "Send"}}}}, want=404)
    api("GET", pi + "/" + nobody, want=404)

    conn = "%s/%s/connections/" % (pi, pid)
    connected = {"state": "connected", "label": "Open", "hoverLabel": "#12",
                 "tooltip": "#12 Dark mode", "color": "blue",
                 "targetUrl": "https://gitlab.example.com/g/p/-/issues/12"}
    case("connection: PUT each state as pbsync does")
    for c in (connected, {"state": "progress"}, {"state": "error",
                                                 "message": "No permission"},
              {"state": "initial"}, connected):
        api("PUT", conn + fid, {"data": {"fields": {"connection": c}}})
    case("connection: GET connected, initial, and error with debugDetail")
    api("GET", conn + fid)
    api("GET", conn + bare)
    rcv.rules["/plugin/abc"] = lambda r: (500, {}, None)
    ctl("POST", "plugin-integrations/%s/trigger" % pid, {
        "entityId": bare, "trigger": "button.push"})
    rcv.rules.clear()
    api("GET", conn + bare)
    case("connection: list, state[] filter and search")
    api("GET", "%s/%s/connections" % (pi, pid))
    api("GET", "%s/%s/connections?state[]=error" % (pi, pid))
    api("POST", "%s/%s/connections/search" % (pi, pid), {"data": {
        "filter": {"entityId": [fid]}}})
    case("connection: what the description refuses is refused")
    for bad in (dict(connected, color="pink"), dict(connected, label="x" *
                                                    21),
                {k: v for k, v in connected.items() if k != "hoverLabel"},
                {"state": "error"}, {"state": "done"}):
        api("PUT", conn + fid, {"data": {"fields": {"connection": bad}}},
            want=422, invalid=True)
    case("connection: PUT to an unknown integration is 404")
    api("PUT", "%s/%s/connections/%s" % (pi, nobody, fid), {"data": {
        "fields": {"connection": connected}}}, want=404)
    case("connection: DELETE 204, unknown integration 404")
    api("DELETE", conn + fid, want=204)
    api("DELETE", "%s/%s/connections/%s" % (pi, nobody, fid), want=404)

    wh = {"name": "pbsync GitLab", "events": [
        {"eventType": "feature.updated"}, {"eventType": "feature.deleted"}],
        "notification": {"url": HTTPS + "/pbhook/abc", "version": 1,
                         "headers": {"authorization": "Bearer hooksecret"}}}
    case("webhook: POST as pbsync sends it, GET, list")
    r = api("POST", "/v2/webhooks", {"data": {"fields": wh}}, want=201)
    wid = (r.json or {}).get("data", {}).get("id", nobody)
    api("GET", "/v2/webhooks/" + wid)
    api("GET", "/v2/webhooks")
    case("webhook: what the description refuses is refused")
    for bad in ({"events": [{"eventType": "feature.updated"}] * 2},
                {"events": []}, {"events": [{"eventType": "feature.gone"}]},
                {"name": ""}, {"notification": dict(wh["notification"],
                                                    version=2)}):
        api("POST", "/v2/webhooks", {"data": {"fields": dict(wh, **bad)}},
            want=422, invalid=True)
    api("POST", "/v2/webhooks", {"data": {"fields": dict(wh, events=[
        "feature.updated"])}}, want=400, invalid=True)
    case("webhook: DELETE 204, then 404")
    api("DELETE", "/v2/webhooks/" + wid, want=204)
    api("DELETE", "/v2/webhooks/" + wid, want=404)
    api("GET", "/v2/webhooks/" + wid, want=404)

    case("plugin integration: DELETE 204, then 404")
    api("DELETE", pi + "/" + pid0, want=204)
    api("DELETE", pi + "/" + pid0, want=404)

    case("callbacks: the double's probe, clicks and webhook notifications")
    ctl("DELETE", "deliveries")
    # Pointed at the loopback receiver: http URLs, requests not checked.
    api("POST", "/v2/webhooks", {"data": {"fields": dict(wh, events=[
        {"eventType": "feature." + e} for e in ("created", "updated",
                                                "deleted")], notification={
        "url": rcv.url + "/pbhook/abc", "version": 1})}}, want=201,
        check_request=False)
    api("PATCH", pi + "/" + pid, {"data": {"fields": {"action": dict(
        fields["action"], url=rcv.url + "/plugin/new")}}},
        check_request=False)
    rcv.rules["/plugin/new"] = lambda r: (200, {"Content-Type":
                                                "application/json"}, {
        "data": {"fields": {"connection": {"state": "progress"}}}})
    for trigger, user in (("button.push", {"name": "Jane PM", "email":
                                           "jane@example.com"}),
                          ("button.unlink", None)):
        ctl("POST", "plugin-integrations/%s/trigger" % pid, {
            "entityId": fid, "trigger": trigger, "user": user})
    rcv.rules.clear()
    made = ctl("POST", "features", {"name": "New one"}).json["data"]["id"]
    ctl("PATCH", "features/" + made, {"name": "Renamed", "status": "Done"})
    api("PATCH", ent + made, {"data": {"fields": {"description":
                                                  "<p>x</p>"}}})
    ctl("DELETE", "features/" + made)
    ctl("POST", "wait", {"deliveries_idle": True, "timeout": 10})
    for d in ctl("GET", "deliveries").json:
        run.delivery(d, {"webhook": "/webhooks#entityChange"}.get(
            d["kind"], "/plugin-integrations#actionCallback"))

    case("401: no token, unknown token, revoked token")
    api("GET", ent + fid, token=None, want=401)
    api("POST", "/v2/webhooks", {"data": {"fields": wh}}, token="nope",
        want=401)
    ctl("POST", "tokens", {"token": "pb-revoked", "revoked": True})
    api("DELETE", conn + fid, token="pb-revoked", want=401)

    case("429: the per-token rate limit")
    ctl("POST", "config", {"rate_limit_per_s": 1})
    api("GET", ent + fid)
    api("GET", ent + fid, want=429)
    ctl("POST", "config", {"rate_limit_per_s": 0})

    case("injected faults: the double's own error answers")
    for status in (400, 403, 404, 408, 422, 429, 500):
        ctl("POST", "faults", {"match": "^PATCH /v2/entities/",
                               "status": status})
        api("PATCH", ent + fid, {"data": {"fields": {"name": "x"}}},
            want=status)
    return run


def validate(items):
    """[problems] per item, from one run of the validator."""
    r = subprocess.run([VALIDATOR, os.path.join(CONTRACT, "openapi.py"),
                        "--json", "--exceptions", EXCEPTIONS] + SPECS,
                       input=json.dumps(items), capture_output=True,
                       text=True, timeout=120)
    if r.returncode not in (0, 1):
        raise RuntimeError("openapi.py failed (%d): %s" % (r.returncode,
                                                           r.stderr))
    return [x["problems"] for x in json.loads(r.stdout)]


def main():
    why = validator_missing()
    if why:
        print("1..0 # SKIP " + why)
        return 0
    seed = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(SEED, seed)
    seed.close()
    rcv, pb = Receiver(), None
    try:
        pb = Proc("pbdouble.py", "--seed", seed.name)
        run = exercise(pb, rcv)
    finally:
        if pb:
            pb.stop()
        rcv.srv.shutdown()
        os.unlink(seed.name)
    problems = validate(run.items)
    failed = 0
    for n, (label, calls) in enumerate(run.cases, 1):
        lines = []
        for want, i, invalid in calls:
            it = run.items[i]
            head = "%s %s -> %s" % (it["method"], it["path"], it.get(
                "status", "(callback)"))
            if want is not None and it["status"] != want:
                lines.append("%s: expected %d: %s" % (
                    head, want, json.dumps(it["response_body"])[:300]))
            if invalid and not problems[i + 1]:
                lines.append("%s: the description accepts the request %s" % (
                    head, json.dumps(run.items[i + 1]["request_body"])[:300]))
            lines += ["%s: %s" % (head, p) for p in problems[i]]
        failed += bool(lines)
        print("%sok %d - %s (%d calls)" % ("not " if lines else "", n, label,
                                           len(calls)))
        for line in lines[:20]:
            print("#   " + line)
    print("1..%d" % len(run.cases))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
