"""Run every test, or leave out tagged ones (`--exclude TAG`); writes .results/summary.txt."""

import argparse
import sys
import unittest
from pathlib import Path


def flatten(suite: unittest.TestSuite) -> list[unittest.TestCase]:
    cases = []
    for item in suite:
        cases += flatten(item) if isinstance(item, unittest.TestSuite) else [item]
    return cases


def tags_of(case: unittest.TestCase) -> set[str]:
    method = getattr(case, case._testMethodName, None)
    return set(getattr(type(case), "tags", set())) | set(getattr(method, "tags", set()))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--exclude", action="append", default=[], metavar="TAG")
    excluded = set(parser.parse_args().exclude)
    cases = flatten(unittest.defaultTestLoader.discover("tests", top_level_dir="."))
    chosen = [case for case in cases if not tags_of(case) & excluded]
    outcome = unittest.TextTestRunner(verbosity=2).run(unittest.TestSuite(chosen))
    failed = len(outcome.failures) + len(outcome.errors)
    summary = f"passed={outcome.testsRun - failed} failed={failed}\n"
    Path(".results").mkdir(exist_ok=True)
    Path(".results/summary.txt").write_text(summary)
    print(summary, end="")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
