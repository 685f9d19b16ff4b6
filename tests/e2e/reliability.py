"""Rows of docs/reliability.md, recorded by the suites while they run.

A check made through check() is a TAP line like any other and also a row
{area, case, expected, observed, ok, command} in
$top_builddir/tests/reliability/<suite>.jsonl; tests/reliability_table.py
turns the rows of a whole run into the published table, so the table can
only say what a run observed.
"""
import json
import os
import sys

from harness import PG, TOP_BUILD

_SUITE = os.path.splitext(os.path.basename(sys.argv[0]))[0]
_DIR = os.path.join(TOP_BUILD, "tests", "reliability")
# A suite's rows on each engine: the test command runs both.
_PATH = os.path.join(_DIR, _SUITE + ("-postgresql" if PG else "") + ".jsonl")
_started = False


def _append(row):
    global _started
    os.makedirs(_DIR, exist_ok=True)
    with open(_PATH, "a" if _started else "w") as f:
        f.write(json.dumps(row) + "\n")
    _started = True


def check(tap, area, case, expected, observed, cond, command=None):
    """A TAP check that is also a row of the table.  observed is what the
    run saw, in words or numbers (not a restatement of expected)."""
    ok = bool(tap.ok(cond, "%s: %s" % (area, case), observed))
    env = "PBSYNC_E2E_DB=postgresql " if PG else ""
    where = [tap.prefix.rstrip(": ")] if tap.prefix else []
    if PG:
        where.append("PostgreSQL")
    if where:
        area = "%s (%s)" % (area, ", ".join(where))
    if tap.prefix:
        env += "PBSYNC_E2E_TRACKERS=%s " % tap.prefix.rstrip(": ").lower()
    _append({"suite": _SUITE, "area": area, "case": case,
             "expected": expected, "observed": str(observed), "ok": ok,
             "command": command or
             "%smake check TESTS=tests/e2e/%s.py" % (env, _SUITE)})
    return ok
