#!/usr/bin/python3
"""Holds pbsync's traffic with the Productboard double during an
end-to-end suite against Productboard's OpenAPI v2 descriptions.

    /usr/bin/python3 tests/contract/check_pb_requests.py DUMP.json

DUMP.json is what tests/e2e/harness.py writes at a stack's teardown:
{"public_url", "faults": [the faults the suite injected], "requests":
[GET /_double/requests], "deliveries": [GET /_double/deliveries]}.

- Each request pbsync sent (User-Agent pbsync/…; the suites' own calls
  are left out): the operation exists, its parameters and JSON body
  conform, and the status the double answered is declared.  The log
  holds no answer bodies: tests/doubles/test_contract_pb.py checks those.
- Each callback the double made to pbsync (public_url), the probe, an
  action or a webhook notification: pbsync's answer (status and body)
  against the responses of that callback of POST /plugin-integrations or
  POST /webhooks.  The callbacks' own payloads follow the suites' control
  calls (a click on a feature "unknown-feature"): test_contract_pb.py
  checks what the double sends.

Two allowances, both about the test set-up rather than pbsync:
- a status a suite injected (a fault whose regex matches the request and
  whose status is the one answered) is not held against the description;
- the stack's public URL is plain http on loopback, which the callback
  URL rule (pattern https://.+) refuses: URLs under it are checked as if
  under https://pbsync.example.test, as a production public_url is.

Prints a count line, then one line per problem; exits 0, 1 on problems,
2 on bad input, 77 (skip) without jsonschema.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SPECS = [os.path.join(HERE, "productboard", "productboard-v2-%s-openapi.json"
                      % n) for n in ("entities", "plugin-integrations",
                                     "webhooks")]
EXCEPTIONS = os.path.join(HERE, "productboard", "exceptions.json")
PUBLIC = "https://pbsync.example.test"
CALLBACKS = {"probe": "/plugin-integrations#actionCallback",
             "action": "/plugin-integrations#actionCallback",
             "webhook": "/webhooks#entityChange"}


def under(v, base):
    return bool(base) and isinstance(v, str) and (
        v == base or v.startswith(base + "/") or v.startswith(base + "?"))


def as_public(v, base):
    """Every string under `base` moved under PUBLIC."""
    if isinstance(v, dict):
        return {k: as_public(x, base) for k, x in v.items()}
    if isinstance(v, list):
        return [as_public(x, base) for x in v]
    return PUBLIC + v[len(base):] if under(v, base) else v


def injected(req, faults):
    what = "%s %s" % (req["method"], req["path"])
    return any(f.get("status") is not None and
               int(f["status"]) == req["status"] and
               re.search(f.get("match", "$^"), what) for f in faults)


def answer(d):
    """The body pbsync answered a callback with: JSON, text or None."""
    text = d.get("response")
    if not text:
        return None
    ctype = (d.get("response_headers") or {}).get("content-type", "")
    if "json" in ctype:
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def exchanges(dump):
    """(what, checker.check arguments) of everything to check."""
    base = dump.get("public_url")
    for r in dump.get("requests", []):
        if not (r.get("headers") or {}).get("user-agent", "").startswith(
                "pbsync/"):
            continue
        status = r.get("status")
        if status is not None and injected(r, dump.get("faults") or []):
            status = None
        target = r["path"] + ("?" + r["query"] if r.get("query") else "")
        yield "request seq %s %s %s -> %s" % (
            r.get("seq"), r["method"], target, r.get("status")), dict(
            method=r["method"], path=target, status=status,
            request_body=as_public(r.get("body"), base))
    for d in dump.get("deliveries", []):
        if d.get("kind") not in CALLBACKS or not under(d.get("url"), base):
            continue
        args = dict(method=d["method"], path=d["url"], status=d.get("status"),
                    callback=CALLBACKS[d["kind"]])
        if d.get("status") is not None:
            args["response_body"] = answer(d)
        yield "%s seq %s %s %s -> %s" % (
            d["kind"], d.get("seq"), d["method"], d["url"][len(base):],
            d.get("status") or d.get("error")), args


def main(argv):
    try:
        import openapi
    except ImportError as e:
        print("%s: %s (install python3-jsonschema)" % (sys.executable, e))
        return 77
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    try:
        with open(argv[1]) as f:
            dump = json.load(f)
        checker = openapi.Checker(SPECS, EXCEPTIONS)
    except (OSError, ValueError) as e:
        sys.stderr.write("check_pb_requests.py: %s\n" % e)
        return 2
    problems, n = [], {"request": 0, "callback": 0}
    for what, args in exchanges(dump):
        n["request" if what.startswith("request") else "callback"] += 1
        problems += ["%s: %s" % (what, p) for p in checker.check(**args)]
    print("%d requests by pbsync, %d callbacks to it, %d problems" % (
        n["request"], n["callback"], len(problems)))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    sys.exit(main(sys.argv))
