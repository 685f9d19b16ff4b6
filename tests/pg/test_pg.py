#!/usr/bin/env python3
"""The store's unit tests on PostgreSQL (TAP).

Starts the throwaway server of tests/pg/cluster and runs, each against a
schema of its own (tests/unit/tstore.h): test_store, test_prom and
test_activity (the checks they make on SQLite, now on PostgreSQL, but
test_activity's SQLite query plans), test_store_pg (what only several
PostgreSQL connections can show: leases with SKIP LOCKED, a delivery from
two connections, transactions run again after their connection was ended
or a deadlock, and the schema both engines make) and the model test, with
fewer sequences.
Their checks are numbered again as one plan, each named after its binary.
The server is stopped and removed at the end.  Without a PostgreSQL
server (tests/pg/cluster exits 77) the whole plan is skipped.
"""
import os
import re
import signal
import subprocess
import sys

TOP = os.environ.get("top_srcdir", os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("top_builddir", os.getcwd())
BINARIES = ("tests/unit/test_store", "tests/unit/test_prom",
            "tests/unit/test_activity", "tests/unit/test_store_pg",
            "tests/model/test_model")
# The model test's sequences per tracker: every statement of a sequence
# is a round trip to the server here, some 200 of them, where SQLite
# answers in the process.
MODEL_RUNS = "600"
TAP = re.compile(r"^(not )?ok \d+ ?-? ?(.*)$")


def main():
    # No test here crashes the machine, only processes: no flush needed.
    cluster = subprocess.Popen([os.path.join(TOP, "tests", "pg", "cluster")],
                               stdout=subprocess.PIPE, text=True,
                               env=dict(os.environ, PBSYNC_PG_FSYNC="off"))
    uri = cluster.stdout.readline().strip()
    if not uri:
        rc = cluster.wait()
        if rc == 77:
            print("1..0 # SKIP no PostgreSQL server (apt-get install "
                  "postgresql)")
            return 0
        print("1..1\nnot ok 1 - tests/pg/cluster started no server "
              "(status %d)" % rc)
        return 1
    n = failed = 0
    try:
        env = dict(os.environ, PBSYNC_TEST_PG=uri,
                   PBSYNC_MODEL_RUNS=MODEL_RUNS)
        for b in BINARIES:
            name = os.path.basename(b)
            r = subprocess.run([os.path.join(BUILD, b)], env=env, text=True,
                               stdout=subprocess.PIPE, timeout=600)
            checks = bad = 0
            for line in r.stdout.splitlines():
                m = TAP.match(line)
                if m:
                    n += 1
                    checks += 1
                    bad += m.group(1) is not None
                    print("%sok %d - %s: %s" % (m.group(1) or "", n, name,
                                                m.group(2)))
                elif line.startswith("#"):
                    print(line)
            failed += bad
            # A crash after its last check, or no check at all.
            if (r.returncode != 0 and not bad) or not checks:
                n += 1
                failed += 1
                print("not ok %d - %s exited with status %d after %d "
                      "checks" % (n, name, r.returncode, checks))
    finally:
        cluster.send_signal(signal.SIGTERM)
        cluster.wait()
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
