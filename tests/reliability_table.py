#!/usr/bin/env python3
"""Writes the reliability table (Markdown) from the rows the suites
recorded: reliability_table.py DIR OUT.md, where DIR holds <suite>.jsonl.
Exits 1 when a row failed or no row was recorded."""
import glob
import json
import os
import sys
import time


def cell(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def main(src, out):
    rows = []
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
    area = None
    for r in sorted(rows, key=lambda r: (r["area"], r["suite"])):
        if r["area"] != area:
            area = r["area"]
            lines += ["", "## " + area, "",
                      "| case | expected | observed | result | reproduce |",
                      "|---|---|---|---|---|"]
        lines.append("| %s | %s | %s | %s | `%s` |" % (
            cell(r["case"]), cell(r["expected"]), cell(r["observed"]),
            "pass" if r["ok"] else "**FAIL**", cell(r["command"])))
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("reliability table: %d rows, %d failed -> %s" % (len(rows),
                                                          len(bad), out))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
