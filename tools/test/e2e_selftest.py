#!/usr/bin/env python3
"""Self-test of tools/test/e2e.py's console parsing: a result that is missing
from the console must come out as a failure, never as a smaller total.

Run by make test's host layer (tools/test.sh); also `python3 -m unittest`
from tools/test. Each test feeds a made-up console transcript to the parse
functions the e2e run uses."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402


def ktap(*suites, top=None):
    """A KUnit console transcript: suites are (name, plan, [case numbers
    reported]); top is the top-level plan (default: the number of suites)."""
    out = ["[    1.000000] KTAP version 1",
           f"[    1.000001] 1..{len(suites) if top is None else top}"]
    for i, (name, plan, cases) in enumerate(suites, 1):
        out += ["[    1.100000]     KTAP version 1",
                f"[    1.100001]     # Subtest: {name}",
                f"[    1.100002]     # module: {name}",
                f"[    1.100003]     1..{plan}"]
        out += [f"[    1.200000]     ok {n} case_{n}" for n in cases]
        out += [f"[    1.300000] # {name}: pass:{len(cases)} fail:0 skip:0 total:{len(cases)}",
                f"[    1.300001] ok {i} {name}"]
    return out


def failures(results):
    return {name: detail for name, ok, detail in results.items if not ok}


class GuestTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        for f in ("10-first.sh", "20-second.sh", "99-last.sh", "soak.lua"):
            open(os.path.join(self.dir.name, f), "w").close()

    def tearDown(self):
        self.dir.cleanup()

    def test_names_as_the_runner_reports_them(self):
        self.assertEqual(e2e.guest_test_names([self.dir.name]), ["first", "second", "last"])

    def test_all_reported(self):
        r = e2e.Results()
        lines = ["TUXTEST ok first", "[   9.1] TUXTEST ok second",
                 "TUXTEST not ok last - it broke"]
        n = e2e.parse_guest(lines, r, e2e.guest_test_names([self.dir.name]))
        self.assertEqual(n, 3)
        self.assertEqual(failures(r), {"guest/last": "it broke"})
        self.assertEqual(len(r.items), n)

    def test_missing_guest_test_fails(self):
        r = e2e.Results()
        lines = ["TUXTEST ok first", "# some output", "TUXTEST ok last"]
        n = e2e.parse_guest(lines, r, e2e.guest_test_names([self.dir.name]))
        self.assertEqual(failures(r), {"guest/second": "reported nothing"})
        self.assertEqual((r.passed, r.failed, n), (2, 1, 3))

    def test_result_continued_by_a_kernel_message_counts(self):
        r = e2e.Results()
        lines = ["TUXTEST ok first[  138.024556] tux: stopped", "TUXTEST ok second",
                 "TUXTEST ok last"]
        e2e.parse_guest(lines, r, e2e.guest_test_names([self.dir.name]))
        self.assertEqual((r.passed, r.failed), (3, 0))


class KtapTests(unittest.TestCase):
    def test_complete(self):
        r = e2e.Results()
        n = e2e.parse_ktap(ktap(("tux_core", 1, [1]), ("tux_http", 3, [1, 2, 3])), r,
                           ["tux_core", "tux_http"])
        self.assertEqual(failures(r), {})
        self.assertEqual((r.passed, n), (4, 4))

    def test_short_suite_fails(self):
        r = e2e.Results()
        n = e2e.parse_ktap(ktap(("tux_core", 1, [1]), ("tux_http", 4, [1, 3])), r)
        self.assertEqual(set(failures(r)), {"kunit/tux_http/#2", "kunit/tux_http/#4"})
        self.assertEqual((r.passed, r.failed, n), (3, 2, 5))

    def test_more_cases_than_planned_fails(self):
        r = e2e.Results()
        e2e.parse_ktap(ktap(("tux_http", 2, [1, 2, 3])), r)
        self.assertIn("kunit/tux_http/plan", failures(r))

    def test_missing_expected_suite_fails(self):
        r = e2e.Results()
        n = e2e.parse_ktap(ktap(("tux_core", 1, [1])), r, ["tux_core", "tux_http"])
        self.assertEqual(failures(r), {"kunit/tux_http": "expected suite reported nothing"})
        self.assertEqual(n, 2)

    def test_missing_suite_against_top_level_plan_fails(self):
        r = e2e.Results()
        e2e.parse_ktap(ktap(("tux_core", 1, [1]), top=2), r)
        self.assertIn("kunit/plan", failures(r))

    def test_suite_cut_off_fails(self):
        # The console ends (a panic, a hang) in the middle of a suite.
        r = e2e.Results()
        lines = ktap(("tux_http", 3, [1, 2, 3]))[:-3] + ["[    1.2] Kernel panic - not syncing"]
        e2e.parse_ktap(lines, r)
        self.assertIn("kunit/tux_http/end", failures(r))

    def test_parameterised_cases_are_not_counted_as_cases(self):
        r = e2e.Results()
        lines = ktap(("tux_http", 1, []))
        lines[-2:-2] = ["[    1.2]         KTAP version 1",
                        "[    1.2]         # Subtest: case_1",
                        "[    1.2]         1..2",
                        "[    1.2]         ok 1 param-a",
                        "[    1.2]         ok 2 param-b",
                        "[    1.2]     ok 1 case_1"]
        e2e.parse_ktap(lines, r)
        self.assertEqual(failures(r), {})
        self.assertEqual(r.passed, 1)


if __name__ == "__main__":
    unittest.main()
