#!/usr/bin/env python3
"""Writes the reliability table (Markdown) from the rows the suites
recorded: reliability_table.py DIR OUT.md [FUZZ.log], where DIR holds
<suite>.jsonl and FUZZ.log is the output of "make fuzz" (one line a
harness).  Exits 1 when a row failed or no row was recorded."""
import glob
import json
import os
import re
import sys
import time

FUZZ_LINE = re.compile(r"^(fuzz_[a-z0-9_]+): (.*)$")


def fuzz_rows(path):
    """One row a harness line of make fuzz's output."""
    rows = []
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return rows
    for line in lines:
        m = FUZZ_LINE.match(line)
        if m:
            rows.append({"suite": "fuzz", "area": "Fuzzing (libFuzzer, "
                         "ASan+UBSan)", "case": m.group(1),
                         "expected": "no crash, sanitizer report, leak, "
                         "timeout or broken invariant",
                         "observed": m.group(2),
                         "ok": m.group(2).endswith(", no finding"),
                         "command": "make fuzz (./configure --enable-fuzzing "
                         "CC=clang)"})
    return rows


def cell(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def main(src, out, fuzz_log=None):
    rows = fuzz_rows(fuzz_log) if fuzz_log else []
    for path in sorted(glob.glob(os.path.join(src, "*.jsonl"))):
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    if not rows:
        print("reliability_table: no rows in " + src, file=sys.stderr)
        return 1
    bad = [r for r in rows if not r["ok"]]
    lines = [
        "# pbsync reliability table",
        "",
        "Written by `tests/reliability_table.py` from the rows the test "
        "suites recorded during one run of `./scripts/pbsync-test` "
        "(%s, %d rows, %d failed). Do not edit by hand: run the tests." %
        (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), len(rows),
         len(bad)),
        "",
    ]
    rows.sort(key=lambda r: (r["area"], r["suite"]))
    lines += ["| area | rows | passed |", "|---|---:|---:|"]
    for a in sorted({r["area"] for r in rows}):
        mine = [r for r in rows if r["area"] == a]
        lines.append("| %s | %d | %d |" % (cell(a), len(mine),
                                          sum(r["ok"] for r in mine)))
    area = None
    for r in rows:
        if r["area"] != area:
            area = r["area"]
            lines += ["", "## " + area, "",
                      "| case | expected | observed | result | reproduce |",
                      "|---|---|---|---|---|"]
        lines.append("| %s | %s | %s | %s | `%s` |" % (
            cell(r["case"]), cell(r["expected"]), cell(r["observed"]),
            "pass" if r["ok"] else "**FAIL**", cell(r["command"])))
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("reliability table: %d rows, %d failed -> %s" % (len(rows),
                                                          len(bad), out))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
