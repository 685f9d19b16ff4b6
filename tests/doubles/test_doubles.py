#!/usr/bin/env python3
"""The doubles' own tests (selftest.py: Productboard and GitLab;
selftest_github.py: GitHub; selftest_jira.py: Jira Cloud;
selftest_notify.py: the Slack, Discord and signed-webhook receivers) in
TAP, for make check: each test method is one check, a skipped one is
counted as a skip."""
import os
import sys
import traceback
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import selftest  # noqa: E402
import selftest_github  # noqa: E402
import selftest_jira  # noqa: E402
import selftest_notify  # noqa: E402


class Tap(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.n = 0

    def line(self, ok, test, detail=None, skip=None):
        self.n += 1
        name = "%s.%s" % (type(test).__name__, test._testMethodName) \
            if isinstance(test, unittest.TestCase) else str(test)
        print("%sok %d - %s%s" % ("" if ok else "not ", self.n, name,
                                  " # SKIP " + skip if skip else ""))
        for d in (detail or "").splitlines()[-20:]:
            print("#   " + d)
        sys.stdout.flush()

    def addSuccess(self, test):
        super().addSuccess(test)
        self.line(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.line(False, test, "".join(traceback.format_exception(*err)))

    def addError(self, test, err):
        super().addError(test, err)
        self.line(False, test, "".join(traceback.format_exception(*err)))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.line(True, test, skip=reason)


suite = unittest.TestSuite(
    unittest.defaultTestLoader.loadTestsFromModule(m)
    for m in (selftest, selftest_github, selftest_jira, selftest_notify))
result = Tap()
suite.run(result)
print("1..%d" % result.n)
sys.exit(0 if result.wasSuccessful() and result.n > 0 else 1)
